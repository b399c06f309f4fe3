/*
 * test_events.c - end-to-end tests of the event socket (CONTRACT.md sections 3
 * and 5): what each call and case event does to the cases, calls, clocks and
 * alerts, and the commands that read them back (ping, case.get, stats).  How
 * the socket treats the lines themselves (error codes, the line size limit,
 * duplicate ids, pipelining and framing, hotlinectl send) is in
 * test_events_wire.c; the helpers both files use are in events_helpers.h.
 *
 * Each test starts a real hotlined on a fresh database (see harness.h), talks
 * to it over its Unix or TCP socket exactly as the softphone integration would,
 * and checks both the response lines and what an administrator would find in
 * psql (hotline.cases, calls, case_events, clocks, alerts).  `at` is set a
 * little in the past so that deadlines are known exactly, yet far from due.
 */
#include "events_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(events, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 90);

/* ---------------------------------------------------------------- helpers */

static char *clock_state(struct hl_d *d, int64_t case_id, const char *kind)
{
	return hl_sql_text(d, "SELECT state FROM hotline.clocks WHERE case_id = %lld AND kind = '%s'",
	                   (long long)case_id, kind);
}

static void expect_clock(struct hl_d *d, int64_t case_id, const char *kind, const char *state)
{
	char *s = clock_state(d, case_id, kind);
	cr_assert(s && strcmp(s, state) == 0, "clock %s of case %lld: expected %s, got %s", kind,
	          (long long)case_id, state, s ? s : "(no row)");
}

static void expect_case_status(struct hl_d *d, int64_t case_id, const char *status)
{
	char *s = hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)case_id);
	cr_assert(s && strcmp(s, status) == 0, "case %lld: expected %s, got %s", (long long)case_id, status,
	          s ? s : "(no row)");
}

/* ------------------------------------------------------------------ ping */

HL_TEST(events, ping_unix_and_tcp)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *u = hl_conn_unix(d);
	json_object *r = hl_request(u, "{\"type\":\"ping\",\"id\":\"p-unix\"}");
	expect_ok(r, "p-unix");

	struct hl_conn *t = hl_conn_tcp(d);
	r = hl_request(t, "{\"type\":\"ping\",\"id\":\"p-tcp\"}");
	expect_ok(r, "p-tcp");

	/* commands are not events: nothing stored */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 0);
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0, "SIGTERM must exit 0");
}

/* ----------------------------------------------------------- call events */

HL_TEST(events, call_offered_opens_case_and_stores_rows)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	const char *at = hl_iso_in(-60);
	json_object *r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"ev-1\",\"call_id\":\"call-1\","
	                                "\"caller\":\"+86 138-0000-0001\",\"queue\":\"general\",\"at\":\"%s\"}", at);
	expect_ok(r, "ev-1");
	int64_t case_id = hl_jint(r, "case_id");
	cr_assert_gt(case_id, 0);

	/* committed before the ack: visible right away */
	PGresult *q = hl_sql(d, "SELECT caller, status, opened_at = '%s'::timestamptz FROM hotline.cases WHERE id = %lld",
	                     at, (long long)case_id);
	cr_assert_eq(PQntuples(q), 1);
	cr_expect_str_eq(PQgetvalue(q, 0, 0), "+8613800000001", "caller stored normalized");
	cr_expect_str_eq(PQgetvalue(q, 0, 1), "open");
	cr_expect_str_eq(PQgetvalue(q, 0, 2), "t", "opened_at = at");

	q = hl_sql(d, "SELECT case_id, caller FROM hotline.calls WHERE call_id = 'call-1'");
	cr_assert_eq(PQntuples(q), 1);
	cr_expect_eq(strtoll(PQgetvalue(q, 0, 0), NULL, 10), case_id);
	cr_expect_str_eq(PQgetvalue(q, 0, 1), "+8613800000001");

	/* the table's body is the event as received (CONTRACT 5), "id" and
	 * "type" included, the caller as sent; the view shows the same */
	q = hl_sql(d, "SELECT case_id, type, at = '%s'::timestamptz, body->>'id', body->>'call_id', body->>'queue',"
	              " body->>'type', body = jsonb_build_object('type', 'call.offered', 'id', 'ev-1', 'call_id',"
	              " 'call-1', 'caller', '+86 138-0000-0001', 'queue', 'general', 'at', '%s'),"
	              " (SELECT v.body = e.body FROM hotline.v_case_events v WHERE v.event_id = e.event_id)"
	              " FROM hotline.case_events e WHERE event_id = 'ev-1'", at, at);
	cr_assert_eq(PQntuples(q), 1);
	cr_expect_eq(strtoll(PQgetvalue(q, 0, 0), NULL, 10), case_id);
	cr_expect_str_eq(PQgetvalue(q, 0, 1), "call.offered");
	cr_expect_str_eq(PQgetvalue(q, 0, 2), "t", "case_events.at = at");
	cr_expect_str_eq(PQgetvalue(q, 0, 3), "ev-1", "body is the event as received");
	cr_expect_str_eq(PQgetvalue(q, 0, 4), "call-1");
	cr_expect_str_eq(PQgetvalue(q, 0, 5), "general");
	cr_expect_str_eq(PQgetvalue(q, 0, 6), "call.offered");
	cr_expect_str_eq(PQgetvalue(q, 0, 7), "t", "the whole body, every key as sent");
	cr_expect_str_eq(PQgetvalue(q, 0, 8), "t", "v_case_events shows the same body");

	/* a second call from the same number joins the open case */
	int64_t again = offer(c, "call-2", "+8613800000001", hl_iso_in(-30));
	cr_assert_eq(again, case_id, "second call joins the open case");
	/* another number opens another case */
	int64_t other = offer(c, "call-3", "+8613800000002", hl_iso_in(-30));
	cr_assert_neq(other, case_id);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases"), 2);
}

HL_TEST(events, call_offered_without_at_uses_receipt_time)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id = event_ok(c, "no-at", "\"type\":\"call.offered\",\"call_id\":\"c1\",\"caller\":\"13800000003\"");
	int64_t skew = hl_sql_int(d, "SELECT abs(extract(epoch FROM opened_at - now()))::bigint FROM hotline.cases"
	                             " WHERE id = %lld", (long long)case_id);
	cr_assert_leq(skew, 60, "opened_at should be the time of receipt");
}

HL_TEST(events, call_answered_meets_callback)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id = offer(c, "c1", "+8613800000010", hl_iso_in(-120));
	char rest[256];
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"c1\",\"at\":\"%s\"", hl_iso_in(-100));
	cr_assert_eq(event_ok(c, "ab-1", rest), case_id);
	expect_clock(d, case_id, "callback", "pending");
	/* the caller calls again and is answered: the callback clock is met */
	cr_assert_eq(offer(c, "c2", "+8613800000010", hl_iso_in(-50)), case_id);
	snprintf(rest, sizeof rest, "\"type\":\"call.answered\",\"call_id\":\"c2\",\"agent\":\"alice\",\"at\":\"%s\"",
	         hl_iso_in(-45));
	cr_assert_eq(event_ok(c, "an-1", rest), case_id);
	expect_clock(d, case_id, "callback", "met");
	char *st = hl_sql_text(d, "SELECT state || '/' || agent FROM hotline.calls WHERE call_id = 'c2'");
	cr_expect(st && strcmp(st, "answered/alice") == 0, "calls row: %s", st ? st : "(none)");
	cr_assert_eq(count_events(d, "an-1"), 1);
}

HL_TEST(events, call_abandoned_arms_callback_clock)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"30m\";" });
	struct hl_conn *c = hl_conn_unix(d);
	const char *at = hl_iso_in(-10);
	int64_t case_id = offer(c, "c1", "+8613800000011", hl_iso_in(-20));
	char rest[256];
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"c1\",\"at\":\"%s\"", at);
	cr_assert_eq(event_ok(c, "ab-1", rest), case_id);
	expect_clock(d, case_id, "callback", "pending");
	cr_assert_eq(hl_sql_int(d, "SELECT extract(epoch FROM due_at - '%s'::timestamptz)::bigint FROM hotline.clocks"
	                           " WHERE case_id = %lld AND kind = 'callback'", at, (long long)case_id), 1800,
	             "due = at + sla.callback");
	char *st = hl_sql_text(d, "SELECT state FROM hotline.calls WHERE call_id = 'c1'");
	cr_expect(st && strcmp(st, "abandoned") == 0, "call state %s", st ? st : "(none)");

	/* a second abandon does not move a pending callback */
	cr_assert_eq(offer(c, "c2", "+8613800000011", hl_iso_in(-5)), case_id);
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"c2\",\"at\":\"%s\"", hl_iso_in(-4));
	cr_assert_eq(event_ok(c, "ab-2", rest), case_id);
	cr_assert_eq(hl_sql_int(d, "SELECT extract(epoch FROM due_at - '%s'::timestamptz)::bigint FROM hotline.clocks"
	                           " WHERE case_id = %lld AND kind = 'callback'", at, (long long)case_id), 1800,
	             "a pending callback is not re-armed");
}

HL_TEST(events, voicemail_for_unseen_call_with_caller_opens_case)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	char rest[256];
	snprintf(rest, sizeof rest, "\"type\":\"voicemail.left\",\"call_id\":\"vm-1\",\"caller\":\"+8613800000012\","
	                            "\"at\":\"%s\"", hl_iso_in(-30));
	int64_t case_id = event_ok(c, "vm-ev", rest);
	expect_case_status(d, case_id, "open");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 'vm-1' AND case_id = %lld",
	                        (long long)case_id), 1);
	expect_clock(d, case_id, "callback", "pending");

	/* the same for call.abandoned */
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"ab-x\",\"caller\":\"+8613800000013\","
	                            "\"at\":\"%s\"", hl_iso_in(-30));
	int64_t case2 = event_ok(c, "ab-ev", rest);
	cr_assert_neq(case2, case_id);
	expect_clock(d, case2, "callback", "pending");
}

HL_TEST(events, call_ended_outcomes)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	/* resolved on the call */
	int64_t a = offer(c, "c1", "+8613800000020", hl_iso_in(-100));
	char rest[512];
	snprintf(rest, sizeof rest, "\"type\":\"call.answered\",\"call_id\":\"c1\",\"agent\":\"bob\",\"at\":\"%s\"", hl_iso_in(-90));
	event_ok(c, "an-1", rest);
	snprintf(rest, sizeof rest, "\"type\":\"call.ended\",\"call_id\":\"c1\",\"outcome\":\"resolved\",\"category\":\"water\","
	                            "\"priority\":\"high\",\"summary\":\"leak fixed\",\"at\":\"%s\"", hl_iso_in(-80));
	cr_assert_eq(event_ok(c, "end-1", rest), a);
	expect_case_status(d, a, "resolved");
	expect_clock(d, a, "resolution", "met");

	/* followup: the agent owes an answer */
	int64_t b = offer(c, "c2", "+8613800000021", hl_iso_in(-100));
	snprintf(rest, sizeof rest, "\"type\":\"call.answered\",\"call_id\":\"c2\",\"agent\":\"bob\",\"at\":\"%s\"", hl_iso_in(-90));
	event_ok(c, "an-2", rest);
	snprintf(rest, sizeof rest, "\"type\":\"call.ended\",\"call_id\":\"c2\",\"outcome\":\"followup\",\"at\":\"%s\"", hl_iso_in(-80));
	cr_assert_eq(event_ok(c, "end-2", rest), b);
	expect_case_status(d, b, "open");
	expect_clock(d, b, "callback", "pending");

	/* any other outcome is recorded */
	int64_t e = offer(c, "c3", "+8613800000022", hl_iso_in(-100));
	snprintf(rest, sizeof rest, "\"type\":\"call.ended\",\"call_id\":\"c3\",\"outcome\":\"wrong_number\",\"at\":\"%s\"", hl_iso_in(-80));
	cr_assert_eq(event_ok(c, "end-3", rest), e);
	char *o = hl_sql_text(d, "SELECT outcome FROM hotline.calls WHERE call_id = 'c3'");
	cr_expect(o && strcmp(o, "wrong_number") == 0, "outcome %s", o ? o : "(none)");
	cr_assert_eq(count_events(d, "end-3"), 1);
}

HL_TEST(events, callback_attempts)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = offer(c, "c1", "+8613800000030", hl_iso_in(-100));
	char rest[256];
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"c1\",\"at\":\"%s\"", hl_iso_in(-90));
	event_ok(c, "ab", rest);
	const char *fails[] = { "no_answer", "busy", "failed" };
	for (int i = 0; i < 3; i++) {
		char extra[128];
		snprintf(extra, sizeof extra, "\"result\":\"%s\",\"agent\":\"carol\",\"at\":\"%s\"", fails[i], hl_iso_in(-80 + i));
		case_event(c, "callback.attempt", id, extra);
		expect_clock(d, id, "callback", "pending");
	}
	char extra[128];
	snprintf(extra, sizeof extra, "\"result\":\"reached\",\"agent\":\"carol\",\"at\":\"%s\"", hl_iso_in(-70));
	case_event(c, "callback.attempt", id, extra);
	expect_clock(d, id, "callback", "met");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE case_id = %lld AND type = 'callback.attempt'",
	                        (long long)id), 4);
}

/* ------------------------------------------------------------ case events */

HL_TEST(events, case_lifecycle)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "survey = \"1h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = offer(c, "c1", "+8613800000040", hl_iso_in(-600));
	expect_clock(d, id, "resolution", "pending");

	case_event(c, "case.update", id, "\"note\":\"looked into it\",\"agent\":\"dan\",\"caller_informed\":true");
	case_event(c, "case.transfer", id, "\"department\":\"roads\",\"reason\":\"pothole\"");
	PGresult *q = hl_sql(d, "SELECT department, transfers FROM hotline.cases WHERE id = %lld", (long long)id);
	cr_expect_str_eq(PQgetvalue(q, 0, 0), "roads");
	cr_expect_str_eq(PQgetvalue(q, 0, 1), "1", "transfers counted");

	case_event(c, "case.hold", id, "\"reason\":\"waiting for documents\"");
	expect_clock(d, id, "resolution", "paused");
	cr_assert_eq(hl_sql_int(d, "SELECT on_hold::int FROM hotline.cases WHERE id = %lld", (long long)id), 1);
	case_event(c, "case.resume", id, NULL);
	expect_clock(d, id, "resolution", "pending");
	cr_assert_eq(hl_sql_int(d, "SELECT on_hold::int FROM hotline.cases WHERE id = %lld", (long long)id), 0);

	case_event(c, "case.resolve", id, "\"resolution\":\"filled\"");
	expect_case_status(d, id, "resolved");
	expect_clock(d, id, "resolution", "met");
	expect_clock(d, id, "survey", "pending");

	case_event(c, "case.reopen", id, "\"reason\":\"came back\"");
	expect_case_status(d, id, "open");
	expect_clock(d, id, "resolution", "pending");
	cr_assert_eq(hl_sql_int(d, "SELECT reopens FROM hotline.cases WHERE id = %lld", (long long)id), 1);

	case_event(c, "case.close", id, NULL);
	expect_case_status(d, id, "closed");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE case_id = %lld AND state IN ('pending','paused')",
	                        (long long)id), 0, "every clock stops on close");

	/* a closed case is not joined: the next call opens a new case */
	int64_t next = offer(c, "c2", "+8613800000040", hl_iso_in(-1));
	cr_assert_neq(next, id);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE case_id = %lld", (long long)id), 8);
}

HL_TEST(events, hold_pushes_due_time_back)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	/* one base second for all three times: hl_iso_in reads the clock at
	 * each call, and a second ticking between two calls made it 2001 s */
	const int64_t t0 = hl_wall_ms() / 1000 * 1000;
	int64_t id = offer(c, "c1", "+8613800000041", hl_iso_ms(t0 - 3600 * 1000));
	char extra[128];
	snprintf(extra, sizeof extra, "\"at\":\"%s\"", hl_iso_ms(t0 - 3000 * 1000));
	case_event(c, "case.hold", id, extra);
	snprintf(extra, sizeof extra, "\"at\":\"%s\"", hl_iso_ms(t0 - 1000 * 1000));
	case_event(c, "case.resume", id, extra);
	/* 48h after opening, plus 2000 s on hold */
	cr_assert_eq(hl_sql_int(d, "SELECT extract(epoch FROM k.due_at - c.opened_at)::bigint FROM hotline.clocks k"
	                           " JOIN hotline.cases c ON c.id = k.case_id WHERE k.case_id = %lld AND k.kind = 'resolution'",
	                        (long long)id), 48 * 3600 + 2000);
}

HL_TEST(events, survey_results)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "survey = \"1h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t good = offer(c, "c1", "+8613800000050", hl_iso_in(-600));
	case_event(c, "case.resolve", good, NULL);
	case_event(c, "survey.result", good, "\"score\":5");
	expect_clock(d, good, "survey", "met");
	expect_case_status(d, good, "resolved");

	int64_t bad = offer(c, "c2", "+8613800000051", hl_iso_in(-600));
	case_event(c, "case.resolve", bad, NULL);
	case_event(c, "survey.result", bad, "\"score\":2");
	expect_clock(d, bad, "survey", "met");
	expect_case_status(d, bad, "open");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld AND kind = 'dissatisfied'",
	                        (long long)bad), 1);

	/* score out of range */
	json_object *r = hl_requestf(c, "{\"type\":\"survey.result\",\"id\":\"s-bad\",\"case_id\":%lld,\"score\":6}",
	                             (long long)good);
	expect_error(r, "bad_request");
	cr_expect(strstr(hl_jstr(r, "error.message"), "score"), "message names the field: %s", hl_jstr(r, "error.message"));
}

/* ---------------------------------------------------------------- case.get */

HL_TEST(events, case_get)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = offer(c, "g1", "+8613800000090", hl_iso_in(-300));
	char rest[256];
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"g1\",\"at\":\"%s\"", hl_iso_in(-290));
	event_ok(c, "g-ab", rest);

	json_object *r = hl_requestf(c, "{\"type\":\"case.get\",\"id\":\"get-1\",\"case_id\":%lld}", (long long)id);
	expect_ok(r, "get-1");
	json_object *cs = hl_jget(r, "case");
	cr_assert(cs, "no case object: %s", json_object_to_json_string(r));
	cr_assert_eq(hl_jint(cs, "id"), id);
	cr_assert_str_eq(hl_jstr(cs, "status") ? hl_jstr(cs, "status") : "", "open");
	cr_assert_str_eq(hl_jstr(cs, "caller") ? hl_jstr(cs, "caller") : "", "+8613800000090");
	cr_assert(hl_jstr(cs, "opened_at"));

	json_object *clocks = hl_jget(cs, "clocks");
	cr_assert(clocks && json_object_is_type(clocks, json_type_array));
	bool callback = false, resolution = false;
	for (size_t i = 0; i < json_object_array_length(clocks); i++) {
		json_object *k = json_object_array_get_idx(clocks, i);
		const char *kind = hl_jstr(k, "kind");
		cr_assert(kind && hl_jstr(k, "state") && hl_jstr(k, "due_at"), "clock %zu incomplete", i);
		if (strcmp(kind, "callback") == 0) {
			callback = true;
			cr_expect_str_eq(hl_jstr(k, "state"), "pending");
		}
		if (strcmp(kind, "resolution") == 0)
			resolution = true;
	}
	cr_assert(callback && resolution, "clocks: %s", json_object_to_json_string(clocks));

	json_object *calls = hl_jget(cs, "calls");
	cr_assert(calls && json_object_array_length(calls) == 1, "calls: %s", json_object_to_json_string(calls));
	cr_assert_str_eq(hl_jstr(calls, "0.call_id"), "g1");
	cr_assert(hl_jget(cs, "alerts") && json_object_is_type(hl_jget(cs, "alerts"), json_type_array));

	/* case_id is required */
	r = hl_request(c, "{\"type\":\"case.get\",\"id\":\"get-2\"}");
	expect_error(r, "bad_request");
}

/* A long case answers with its newest 500 events and says how many older
 * ones it left out (sql/048): a case of years of repeat calls must not make
 * each case.get megabytes long, and reads share the event batches. */
HL_TEST(events, case_get_bounds_a_long_history)
{
	enum { UPDATES = 510 };
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = offer(c, "long1", "+8613800000091", hl_iso_in(-3000));
	char *buf = malloc(UPDATES * 160);
	size_t len = 0;
	for (int i = 0; i < UPDATES; i++)
		len += (size_t)sprintf(buf + len, "{\"type\":\"case.update\",\"id\":\"long-u%d\",\"case_id\":%lld,"
		                       "\"note\":\"n%d\",\"at\":\"%s\"}\n", i, (long long)id, i, hl_iso_in(-2900 + i));
	cr_assert_eq(hl_send_raw(c, buf, len), 0);
	for (int i = 0; i < UPDATES; i++) {
		json_object *r = hl_recv_json(c, 30000);
		cr_assert(r && hl_jbool(r, "ok"), "update %d: %s", i, r ? json_object_to_json_string(r) : "no answer");
	}
	free(buf);
	json_object *r = hl_requestf(c, "{\"type\":\"case.get\",\"id\":\"get-long\",\"case_id\":%lld}", (long long)id);
	expect_ok(r, "get-long");
	json_object *events = hl_jget(r, "case.events");
	cr_assert_eq(json_object_array_length(events), 500);
	cr_assert_eq(hl_jint(r, "case.events_omitted"), UPDATES + 1 - 500);
	cr_assert_str_eq(hl_jstr(events, "499.event_id"), "long-u509", "the newest last");
	cr_assert_str_eq(hl_jstr(events, "0.event_id"), "long-u10", "the oldest shown");
	cr_assert_null(hl_jget(r, "case.calls_omitted"), "one call: nothing left out");
	/* hotlinectl says so */
	const char *ctl = getenv("HOTLINECTL_BIN") ? getenv("HOTLINECTL_BIN") : "build/hotlinectl";
	char cmd[512], out[1 << 16];
	snprintf(cmd, sizeof cmd, "%s --unix %s case %lld 2>&1", ctl, d->sock, (long long)id);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	pclose(p);
	cr_assert(strstr(out, "(11 older events not shown"), "%.300s", out);
}

/* ------------------------------------------------------------------ stats */

HL_TEST(events, stats_answers_object)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	offer(c, "s1", "+8613800000100", hl_iso_in(-1));
	json_object *r = hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}");
	expect_ok(r, "st");
	cr_assert(hl_jget(r, "stats") && json_object_is_type(hl_jget(r, "stats"), json_type_object),
	          "%s", json_object_to_json_string(r));
}
