/*
 * test_issue16.c - end-to-end regressions for issue 16 items 3, 7, 11, 12,
 * 13 and 15 (confidential numbers, wrong data and figures), each against the
 * real daemon and PostgreSQL.  The pure parts (rules, phone normalization,
 * masking in SQL) are also unit-tested in tests/unit/test_rules_edges.c,
 * tests/unit/test_util.c and tests/sql/admin_test.sql; here the question is
 * whether the whole path (parser, store, rules, views, NOTIFY) holds.
 */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

TestSuite(issue16, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 90);

/* ---------------------------------------------------------------- helpers */

/* Send an event and expect ok; returns its case_id. */
static int64_t ev_ok(struct hl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t ev_ok(struct hl_conn *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	json_object *r = hl_request(c, line);
	cr_assert(r && hl_jbool(r, "ok"), "%s -> %s", line, r ? json_object_to_json_string(r) : "no response");
	return hl_jint(r, "case_id");
}

/* ------------------------------------------- item 15: batching independence */

/*
 * Caller P has two open cases, A (older) and B (newest): "close B" and a new
 * call then go to A.  Sent one by one, or in one write (one batch), the
 * result must be the same.  Before the fix the store loaded only the newest
 * open case (B); once the batch closed it the rules saw no open case and
 * opened a third one.
 */
static int64_t two_open_cases_then_close_and_call(struct hl_conn *c, const char *p, const char *number,
                                                  bool one_write, int64_t *case_a)
{
	int64_t a = ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"%s-o1\",\"call_id\":\"%s-c1\",\"caller\":\"%s\",\"at\":\"%s\"}",
	                  p, p, number, hl_iso_in(-600));
	ev_ok(c, "{\"type\":\"case.close\",\"id\":\"%s-x1\",\"case_id\":%lld,\"at\":\"%s\"}", p, (long long)a, hl_iso_in(-590));
	int64_t b = ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"%s-o2\",\"call_id\":\"%s-c2\",\"caller\":\"%s\",\"at\":\"%s\"}",
	                  p, p, number, hl_iso_in(-300));
	cr_assert_neq(a, b);
	ev_ok(c, "{\"type\":\"case.reopen\",\"id\":\"%s-r1\",\"case_id\":%lld,\"at\":\"%s\"}", p, (long long)a, hl_iso_in(-200));
	*case_a = a;

	char close_b[256], call[256];
	snprintf(close_b, sizeof close_b, "{\"type\":\"case.close\",\"id\":\"%s-x2\",\"case_id\":%lld,\"at\":\"%s\"}", p,
	         (long long)b, hl_iso_in(-100));
	snprintf(call, sizeof call, "{\"type\":\"call.offered\",\"id\":\"%s-o3\",\"call_id\":\"%s-c3\",\"caller\":\"%s\",\"at\":\"%s\"}",
	         p, p, number, hl_iso_in(-50));
	if (!one_write) {
		ev_ok(c, "%s", close_b);
		return ev_ok(c, "%s", call);
	}
	char both[600];
	int n = snprintf(both, sizeof both, "%s\n%s\n", close_b, call);
	cr_assert_eq(hl_send_raw(c, both, (size_t)n), 0);
	json_object *r1 = hl_recv_json(c, HL_TIMEOUT_MS), *r2 = hl_recv_json(c, HL_TIMEOUT_MS);
	cr_assert(r1 && hl_jbool(r1, "ok") && r2 && hl_jbool(r2, "ok"), "one write: %s / %s",
	          r1 ? json_object_to_json_string(r1) : "-", r2 ? json_object_to_json_string(r2) : "-");
	return hl_jint(r2, "case_id");
}

HL_TEST(issue16, new_call_joins_the_same_case_however_batched)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t a1, a2;
	int64_t apart = two_open_cases_then_close_and_call(c, "s", "+8613900000151", false, &a1);
	int64_t together = two_open_cases_then_close_and_call(c, "t", "+8613900000152", true, &a2);
	cr_assert_eq(apart, a1, "one by one: the call joins the older open case");
	cr_assert_eq(together, a2, "in one write: the call joins the older open case too (got %lld, want %lld)",
	             (long long)together, (long long)a2);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases WHERE caller = '+8613900000152'"), 2,
	             "no third case for the batched caller");
}

/* --------------------------------------------- item 13: abandonment is kept */

HL_TEST(issue16, ended_after_abandoned_keeps_the_abandonment)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o1\",\"call_id\":\"k1\",\"caller\":\"+8613900000131\",\"at\":\"%s\"}", hl_iso_in(-60));
	ev_ok(c, "{\"type\":\"call.abandoned\",\"id\":\"a1\",\"call_id\":\"k1\",\"at\":\"%s\"}", hl_iso_in(-50));
	ev_ok(c, "{\"type\":\"call.ended\",\"id\":\"e1\",\"call_id\":\"k1\",\"outcome\":\"hangup\",\"at\":\"%s\"}", hl_iso_in(-40));
	ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o2\",\"call_id\":\"k2\",\"caller\":\"+8613900000132\",\"at\":\"%s\"}", hl_iso_in(-60));
	ev_ok(c, "{\"type\":\"voicemail.left\",\"id\":\"v2\",\"call_id\":\"k2\",\"at\":\"%s\"}", hl_iso_in(-50));
	ev_ok(c, "{\"type\":\"call.ended\",\"id\":\"e2\",\"call_id\":\"k2\",\"outcome\":\"voicemail\",\"at\":\"%s\"}", hl_iso_in(-40));
	char *states = hl_sql_text(d, "SELECT string_agg(call_id || ':' || state || ':' || coalesce(outcome, '-'), ',' ORDER BY call_id)"
	                              " FROM hotline.calls");
	cr_assert_str_eq(states, "k1:abandoned:hangup,k2:voicemail:voicemail");
	cr_assert_eq(hl_sql_int(d, "SELECT sum(calls_abandoned) FROM hotline.daily_figures"), 2);
	cr_assert_eq(hl_sql_int(d, "SELECT sum(voicemails) FROM hotline.daily_figures"), 1);
}

/* ------------------------------------------ item 12: one resolution, once */

HL_TEST(issue16, repeated_resolutions_count_once)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o1\",\"call_id\":\"k1\",\"caller\":\"+8613900000121\",\"at\":\"%s\"}", hl_iso_in(-90));
	ev_ok(c, "{\"type\":\"call.answered\",\"id\":\"n1\",\"call_id\":\"k1\",\"agent\":\"a1\",\"at\":\"%s\"}", hl_iso_in(-89));
	ev_ok(c, "{\"type\":\"call.ended\",\"id\":\"e1\",\"call_id\":\"k1\",\"outcome\":\"resolved\",\"at\":\"%s\"}", hl_iso_in(-80));
	ev_ok(c, "{\"type\":\"case.resolve\",\"id\":\"r1\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)id, hl_iso_in(-70));
	ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o2\",\"call_id\":\"k2\",\"caller\":\"+8613900000121\",\"at\":\"%s\"}", hl_iso_in(-60));
	ev_ok(c, "{\"type\":\"call.answered\",\"id\":\"n2\",\"call_id\":\"k2\",\"agent\":\"a1\",\"at\":\"%s\"}", hl_iso_in(-59));
	ev_ok(c, "{\"type\":\"call.ended\",\"id\":\"e2\",\"call_id\":\"k2\",\"outcome\":\"resolved\",\"at\":\"%s\"}", hl_iso_in(-50));
	cr_assert_eq(hl_sql_int(d, "SELECT sum(cases_resolved) FROM hotline.daily_figures"), 1,
	             "ended resolved -> resolve -> ended resolved is one resolution");
	ev_ok(c, "{\"type\":\"case.reopen\",\"id\":\"x1\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)id, hl_iso_in(-40));
	ev_ok(c, "{\"type\":\"case.resolve\",\"id\":\"r2\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)id, hl_iso_in(-30));
	cr_assert_eq(hl_sql_int(d, "SELECT sum(cases_resolved) FROM hotline.daily_figures"), 2, "after a reopen it counts again");
	cr_assert_eq(hl_sql_int(d, "SELECT sum(cases_resolved) FROM hotline.agent_daily WHERE agent = 'a1'"), 2);
}

/* ------------------------------------- item 11: one caller, three forms */

HL_TEST(issue16, one_caller_three_forms_one_case)
{
	struct hl_e2e_opts o = {
		.top = "phone = { country_code = \"86\"; trunk_prefix = \"0\"; international_prefix = \"00\"; };",
	};
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t a = ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o1\",\"call_id\":\"k1\",\"caller\":\"13900000077\",\"at\":\"%s\"}", hl_iso_in(-30));
	int64_t b = ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o2\",\"call_id\":\"k2\",\"caller\":\"+86 139 0000 0077\",\"at\":\"%s\"}", hl_iso_in(-20));
	int64_t e = ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o3\",\"call_id\":\"k3\",\"caller\":\"0086 139-0000-0077\",\"at\":\"%s\"}", hl_iso_in(-10));
	cr_assert_eq(a, b);
	cr_assert_eq(a, e);
	cr_assert_str_eq(hl_sql_text(d, "SELECT string_agg(DISTINCT caller, ',') FROM hotline.calls"), "+8613900000077");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'repeat_caller'"), 1,
	             "three calls from one telephone are repeat calls");
	/* a short service number stays as dialled */
	ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o4\",\"call_id\":\"k4\",\"caller\":\"12345\"}");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.callers WHERE caller = '12345'"), 1);
}

/* ------------------------- item 7: confidential on case.update and others */

HL_TEST(issue16, confidential_on_case_update_and_call_events)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t a = ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o1\",\"call_id\":\"k1\",\"caller\":\"+8613900000171\"}");
	ev_ok(c, "{\"type\":\"case.update\",\"id\":\"u1\",\"case_id\":%lld,\"confidential\":true}", (long long)a);
	cr_assert_eq(hl_sql_int(d, "SELECT confidential::int FROM hotline.callers WHERE caller = '+8613900000171'"), 1,
	             "case.update confidential:true marks the caller");
	ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o2\",\"call_id\":\"k2\",\"caller\":\"+8613900000172\"}");
	ev_ok(c, "{\"type\":\"call.answered\",\"id\":\"n2\",\"call_id\":\"k2\",\"agent\":\"a\",\"confidential\":true}");
	cr_assert_eq(hl_sql_int(d, "SELECT confidential::int FROM hotline.callers WHERE caller = '+8613900000172'"), 1,
	             "call.answered confidential:true marks the caller");
	hl_sql(d, "SET ROLE hotline_admin");
	char *shown = hl_sql_text(d, "SELECT string_agg(caller, ',' ORDER BY id) FROM hotline.v_cases");
	hl_sql(d, "RESET ROLE");
	cr_assert_str_eq(shown, "+86139****0171,+86139****0172");
}

/* ----------------------------------- item 3: the ack NOTIFY is masked */

HL_TEST(issue16, ack_notify_payload_is_masked)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	for (int i = 0; i < 3; i++)
		ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o%d\",\"call_id\":\"k%d\",\"caller\":\"+8613900000181\","
		         "\"confidential\":true,\"at\":\"%s\"}", i, i, hl_iso_in(-30 + i));
	int64_t alert = hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE kind = 'repeat_caller'");
	hl_sql(d, "LISTEN hotline_alert_ack");
	cr_assert_eq(hl_sql_int(d, "SELECT hotline.ack_alert(%lld, 'sup')::int", (long long)alert), 1);
	PGnotify *n = NULL;
	for (int i = 0; i < 50 && !n; i++) {
		PQconsumeInput(d->pg);
		n = PQnotifies(d->pg);
		if (!n)
			hl_sleep_ms(20);
	}
	cr_assert_not_null(n, "no hotline_alert_ack notification");
	char payload[1024];
	snprintf(payload, sizeof payload, "%s", n->extra);
	PQfreemem(n);
	cr_assert_null(strstr(payload, "13900000181"), "full number in the ack payload: %s", payload);
	cr_assert_not_null(strstr(payload, "+86139****0181"), "%s", payload);
	cr_assert_not_null(strstr(payload, "\"confidential\": true") ? payload : strstr(payload, "\"confidential\":true"),
	                   "%s", payload);
}

/* ------------------------- item 14: a contact during a hold restarts update */

HL_TEST(issue16, contact_during_hold_counts_as_last_contact)
{
	struct hl_e2e_opts o = { .sla = "update = \"1h\"; resolution = \"10h\";" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	/* opened 50 min ago: 10 min of update left when put on hold 40 min ago */
	int64_t id = ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o1\",\"call_id\":\"k1\",\"caller\":\"+8613900000141\",\"at\":\"%s\"}",
	                   hl_iso_in(-3000));
	ev_ok(c, "{\"type\":\"case.hold\",\"id\":\"h1\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)id, hl_iso_in(-2400));
	ev_ok(c, "{\"type\":\"callback.attempt\",\"id\":\"t1\",\"case_id\":%lld,\"result\":\"reached\",\"at\":\"%s\"}",
	      (long long)id, hl_iso_in(-1200));
	ev_ok(c, "{\"type\":\"case.resume\",\"id\":\"r1\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)id, hl_iso_in(-600));
	cr_assert_eq(hl_sql_int(d, "SELECT extract(epoch FROM last_contact_at - (SELECT at FROM hotline.case_events"
	                           " WHERE event_id = 't1'))::bigint FROM hotline.cases WHERE id = %lld", (long long)id), 0);
	/* the update clock runs a full hour from the resume, not the 10 min left before the hold */
	cr_assert_eq(hl_sql_int(d, "SELECT extract(epoch FROM k.due_at - e.at)::bigint FROM hotline.clocks k, hotline.case_events e"
	                           " WHERE k.case_id = %lld AND k.kind = 'update' AND e.event_id = 'r1'", (long long)id), 3600);
	cr_assert_eq(hl_sql_int(d, "SELECT seq FROM hotline.clocks WHERE case_id = %lld AND kind = 'update'", (long long)id), 2);
	cr_assert_str_eq(hl_sql_text(d, "SELECT state FROM hotline.clocks WHERE case_id = %lld AND kind = 'update'", (long long)id),
	                 "pending");
	/* (the first run, backdated, may have warned before the hold arrived;
	 * the run started by the contact must not have) */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE dedupe_key LIKE '%%:update:2:%%'"), 0,
	             "no alert for the run started by the contact");
}

/* Item 15, harder: three open cases, the two newest closed in the same write
 * as the call; the store loads only as many of the caller's open cases as
 * the batch could close, plus one. */
HL_TEST(issue16, two_closes_and_a_call_in_one_write)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	const char *num = "+8613900000153";
	int64_t ids[3];
	for (int i = 0; i < 3; i++) {
		ids[i] = ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"o%d\",\"call_id\":\"k%d\",\"caller\":\"%s\",\"at\":\"%s\"}",
		               i, i, num, hl_iso_in(-900 + 100 * i));
		ev_ok(c, "{\"type\":\"case.close\",\"id\":\"x%d\",\"case_id\":%lld,\"at\":\"%s\"}", i, (long long)ids[i],
		      hl_iso_in(-890 + 100 * i));
	}
	for (int i = 0; i < 3; i++)
		ev_ok(c, "{\"type\":\"case.reopen\",\"id\":\"r%d\",\"case_id\":%lld,\"at\":\"%s\"}", i, (long long)ids[i],
		      hl_iso_in(-500 + 10 * i));
	char lines[1024];
	int n = snprintf(lines, sizeof lines,
	                 "{\"type\":\"case.close\",\"id\":\"y2\",\"case_id\":%lld,\"at\":\"%s\"}\n"
	                 "{\"type\":\"case.close\",\"id\":\"y1\",\"case_id\":%lld,\"at\":\"%s\"}\n"
	                 "{\"type\":\"call.offered\",\"id\":\"o9\",\"call_id\":\"k9\",\"caller\":\"%s\",\"at\":\"%s\"}\n",
	                 (long long)ids[2], hl_iso_in(-100), (long long)ids[1], hl_iso_in(-90), num, hl_iso_in(-80));
	cr_assert_eq(hl_send_raw(c, lines, (size_t)n), 0);
	json_object *r = NULL;
	for (int i = 0; i < 3; i++) {
		r = hl_recv_json(c, HL_TIMEOUT_MS);
		cr_assert(r && hl_jbool(r, "ok"), "%s", r ? json_object_to_json_string(r) : "no response");
	}
	cr_assert_eq(hl_jint(r, "case_id"), ids[0], "the call joins the oldest case, the only one still open");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases WHERE caller = '%s'", num), 3);
}

/* ------------- issue 15: a new alert's text is rendered by the daemon */

/* The daemon renders a new alert's JSON itself and the statement masks it
 * with a join of hotline.callers, not alert_json() and notify_payload() per
 * row (sql/032): the NOTIFY text must still be byte for byte what
 * hotline.alert_json() makes of the stored row, masked by
 * hotline.notify_payload() for a confidential caller.  Both kinds of text: repeat_caller (a detail quoting the number,
 * no due_at) and callback_overdue (a due_at), for a plain and a
 * confidential caller. */
HL_TEST(issue16, new_alert_text_is_alert_json_of_its_row)
{
	struct hl_e2e_opts o = { .sla = "callback = \"1s\"; warn_at = 0; update = \"0\"; resolution = \"1h\";" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	hl_sql(d, "LISTEN hotline_alert"); /* the harness frees its results */
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 3; i++)
			ev_ok(c, "{\"type\":\"call.offered\",\"id\":\"t%d%d\",\"call_id\":\"tk%d%d\",\"caller\":\"+861390000019%d\"%s,"
			         "\"at\":\"%s\"}", k, i, k, i, k, k ? ",\"confidential\":true" : "", hl_iso_in(-30 + i));
		ev_ok(c, "{\"type\":\"call.abandoned\",\"id\":\"ta%d\",\"call_id\":\"tk%d2\",\"at\":\"%s\"}", k, k, hl_iso_in(-1));
	}
	int seen = 0, confidential = 0;
	for (int i = 0; i < 250 && seen < 4; i++) {
		PQconsumeInput(d->pg);
		PGnotify *n = PQnotifies(d->pg);
		if (!n) {
			hl_sleep_ms(20);
			continue;
		}
		char payload[2048];
		snprintf(payload, sizeof payload, "%s", n->extra);
		PQfreemem(n);
		json_object *j = json_tokener_parse(payload);
		cr_assert_not_null(j, "not JSON: %s", payload);
		long long id = (long long)hl_jint(j, "id");
		confidential += hl_jbool(j, "confidential");
		json_object_put(j);
		const char *want = hl_sql_text(d, "SELECT hotline.notify_payload(hotline.alert_json(a), a.caller)"
		                                  " FROM hotline.alerts a WHERE a.id = %lld", id);
		cr_assert_str_eq(payload, want, "alert %lld: the NOTIFY text differs from its row's", id);
		seen++;
	}
	cr_assert_eq(seen, 4, "two repeat_caller and two callback_overdue alerts");
	cr_assert_eq(confidential, 2, "the confidential caller's two alerts are masked");
	/* the overdue callbacks were breached by batches of timers alone, which
	 * skip the figures' upkeep (store_write.c timers_only): the rollup must
	 * still equal a recount */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.figure_rollup_state"), 1, "the rollup is kept");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE kind = 'callback' AND state = 'breached'"), 2);
	cr_assert_eq(hl_sql_int(d,
		"WITH recount AS (SELECT day, coalesce(department, '') AS dep, coalesce(agent, '') AS agent, metric, sum(n) AS n"
		"  FROM hotline.figure_facts GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0),"
		" rolled AS (SELECT f.day, f.department, f.agent, m.key, m.value::text::bigint"
		"  FROM hotline.figure_rollup f, jsonb_each(to_jsonb(f) - 'day' - 'department' - 'agent') m"
		"  WHERE m.value::text::bigint <> 0)"
		" SELECT count(*) FROM ((TABLE recount EXCEPT TABLE rolled) UNION ALL (TABLE rolled EXCEPT TABLE recount)) x"),
		0, "the figures' rollup differs from a recount");
}
