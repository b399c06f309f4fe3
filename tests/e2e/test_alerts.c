/*
 * test_alerts.c - end-to-end tests of how live alerts are raised and
 * escalated (CONTRACT.md section 4, `alert.ack`): escalation, acknowledgement,
 * exactly-once across restarts and crashes, NOTIFY hotline_alert, and many
 * clocks due at once.  What a subscriber is sent (`subscribe`, replay with
 * `since`, the bounded replay of issue 16.1) is in test_alerts_replay.c; the
 * helpers both files use are in alerts_helpers.h.
 *
 * Design.  As in test_clocks.c, a real hotlined runs with deadlines of a
 * second or two; a subscriber connection records every push with its
 * arrival time, events go over another connection, and the rows in
 * hotline.alerts are the ground truth.  Alerts that need no waiting
 * (transfer_loop with transfer_limit = 1) are used where only ids and
 * ordering matter; clock alerts where timing and restarts matter.
 *
 * The NOTIFY test holds its own libpq connection; the suite's .fini closes
 * it before the harness cleanup, so an aborted test leaks nothing.
 */
#include "alerts_helpers.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static PGconn *listen_pg; /* the NOTIFY test's LISTEN connection */

static void alerts_fini(void)
{
	if (listen_pg)
		PQfinish(listen_pg);
	listen_pg = NULL;
	hl_e2e_cleanup();
}

TestSuite(alerts, .init = hl_e2e_init, .fini = alerts_fini, .timeout = 60);

#define LATE_MS 1500

/* ---------------------------------------------------------------- helpers */

static int64_t alert_id_of(struct hl_d *d, const char *kind, int64_t case_id)
{
	return hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE kind = '%s' AND case_id = %lld", kind,
	                  (long long)case_id);
}

static int64_t n_alerts(struct hl_d *d, const char *kind, int64_t case_id)
{
	return hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = '%s' AND case_id = %lld", kind,
	                  (long long)case_id);
}

/* ------------------------------------------------------------ escalation */

/* an unacked overdue alert goes up one level every escalation.after until
 * max_level, pushed again each time; alert.ack stops it and records who and
 * when (three alerts in parallel: never acked, acked at level 1, at level 2) */
HL_TEST(alerts, escalation_until_max_level_and_ack_stops_it)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"1s\"; warn_at = 0; update = \"0\"; resolution = \"1h\";",
		.escalation = "after = \"1s\"; max_level = 3;" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	int64_t a = abandoned_case(c, "ack", 1, t0);
	int64_t b = abandoned_case(c, "ack", 2, t0);
	int64_t e = abandoned_case(c, "ack", 3, t0);

	struct hl_pushes ps = { .n = 0 };
	const struct hl_push *pa = hl_await_push(s, &ps, "callback_overdue", a, 1, 5000);
	cr_assert(pa, "overdue of case a not pushed");
	int64_t alert_a = pa->id;
	int64_t events_before = hl_sql_int(d, "SELECT count(*) FROM hotline.case_events");
	int64_t acked_when = hl_wall_ms();
	json_object *r = ack(c, alert_a, "sup-ann");
	cr_assert(hl_jbool(r, "ok"), "ack refused: %s", json_object_to_json_string(r));

	/* b is acknowledged only at level 2 */
	const struct hl_push *pb = hl_await_push(s, &ps, "callback_overdue", b, 2, 5000);
	cr_assert(pb, "case b not escalated to level 2");
	int64_t alert_b = pb->id;
	r = ack(c, alert_b, "sup-bo");
	cr_assert(hl_jbool(r, "ok"), "ack refused: %s", json_object_to_json_string(r));

	/* the unacknowledged one: levels 1, 2, 3 about a second apart, same alert */
	const struct hl_push *l1 = hl_await_push(s, &ps, "callback_overdue", e, 1, 5000);
	const struct hl_push *l2 = hl_await_push(s, &ps, "callback_overdue", e, 2, 5000);
	const struct hl_push *l3 = hl_await_push(s, &ps, "callback_overdue", e, 3, 5000);
	cr_assert(l1 && l2 && l3, "case e: levels 1, 2, 3 not all pushed");
	cr_expect_leq(l1->t_ms, t0 + 1000 + LATE_MS, "level 1 late by %lld ms", (long long)(l1->t_ms - t0 - 1000));
	cr_expect(l1->id == l2->id && l2->id == l3->id, "escalation pushes the same alert again");
	/* escalations are due a second after the level before was DUE (not after
	 * its push arrived): a push that arrived late (a loaded machine) makes
	 * the next gap look shorter by as much, so the lower bound allows for it */
	int64_t late1 = l1->t_ms - (t0 + 1000), late2 = l2->t_ms - (t0 + 2000);
	late1 = late1 > 0 ? late1 : 0, late2 = late2 > 0 ? late2 : 0;
	cr_expect(l2->t_ms - l1->t_ms >= 900 - late1 && l2->t_ms - l1->t_ms <= 1000 + LATE_MS,
	          "level 2 %lld ms after level 1 (level 1 %lld ms late)", (long long)(l2->t_ms - l1->t_ms),
	          (long long)late1);
	cr_expect(l3->t_ms - l2->t_ms >= 900 - late2 && l3->t_ms - l2->t_ms <= 1000 + LATE_MS,
	          "level 3 %lld ms after level 2 (level 2 %lld ms late)", (long long)(l3->t_ms - l2->t_ms),
	          (long long)late2);
	int64_t alert_e = l1->id;

	hl_collect_pushes(s, &ps, 1500);
	cr_expect_eq(hl_count_pushes(&ps, NULL, e), 3, "pushed at levels 1, 2, 3 and no more (max_level)");
	cr_expect_eq(hl_count_pushes(&ps, NULL, a), 1, "acked at level 1: never pushed again");
	cr_expect_eq(hl_count_pushes(&ps, NULL, b), 2, "acked at level 2: no level 3");
	PGresult *qe = hl_sql(d, "SELECT level, escalate_at IS NULL, escalated_at IS NOT NULL, acked_at IS NULL"
	                         " FROM hotline.alerts WHERE case_id = %lld", (long long)e);
	cr_assert_eq(PQntuples(qe), 1, "one alert row, escalated in place");
	cr_expect_str_eq(PQgetvalue(qe, 0, 0), "3");
	cr_expect_str_eq(PQgetvalue(qe, 0, 1), "t", "no escalation pending at max_level");
	cr_expect_str_eq(PQgetvalue(qe, 0, 2), "t", "escalated_at recorded");
	cr_expect_str_eq(PQgetvalue(qe, 0, 3), "t");

	PGresult *q = hl_sql(d, "SELECT level, acked_by, hotline.ms(acked_at), escalate_at IS NULL FROM hotline.alerts"
	                        " WHERE id = %lld", (long long)alert_a);
	cr_assert_eq(PQntuples(q), 1);
	cr_expect_str_eq(PQgetvalue(q, 0, 0), "1");
	cr_expect_str_eq(PQgetvalue(q, 0, 1), "sup-ann", "acked_by");
	int64_t at = strtoll(PQgetvalue(q, 0, 2), NULL, 10);
	cr_expect(at >= acked_when - 50 && at <= acked_when + 1000, "acked_at %+lld ms from the ack",
	          (long long)(at - acked_when));
	cr_expect_str_eq(PQgetvalue(q, 0, 3), "t", "no escalation pending");
	cr_expect_eq(hl_sql_int(d, "SELECT level FROM hotline.alerts WHERE id = %lld", (long long)alert_b), 2);
	char *by = hl_sql_text(d, "SELECT acked_by FROM hotline.alerts WHERE id = %lld", (long long)alert_b);
	cr_expect(by && strcmp(by, "sup-bo") == 0, "acked_by %s", by ? by : "(null)");

	/* acknowledging again: ok, nothing changes, and the reply names the
	 * stored (first) acknowledgement, not the second sender */
	r = ack(c, alert_a, "someone-else");
	cr_expect(hl_jbool(r, "ok"), "second ack: %s", json_object_to_json_string(r));
	cr_expect(hl_jstr(r, "acked_by") && strcmp(hl_jstr(r, "acked_by"), "sup-ann") == 0,
	          "the second ack's reply names the first acker: %s", json_object_to_json_string(r));
	char *first_at = hl_sql_text(d, "SELECT hotline.iso(acked_at) FROM hotline.alerts WHERE id = %lld",
	                             (long long)alert_a);
	cr_expect(hl_jstr(r, "acked_at") && first_at && strcmp(hl_jstr(r, "acked_at"), first_at) == 0,
	          "and the first time (%s): %s", first_at ? first_at : "NULL", json_object_to_json_string(r));
	by = hl_sql_text(d, "SELECT acked_by || ' ' || hotline.ms(acked_at) FROM hotline.alerts WHERE id = %lld",
	                 (long long)alert_a);
	char want[96];
	snprintf(want, sizeof want, "sup-ann %lld", (long long)at);
	cr_expect(by && strcmp(by, want) == 0, "second ack changed the row: %s", by ? by : "(null)");

	/* bad acks */
	r = ack(c, 987654, "sup-ann");
	cr_expect(!hl_jbool(r, "ok"), "ack of an unknown alert: %s", json_object_to_json_string(r));
	r = hl_requestf(c, "{\"type\":\"alert.ack\",\"id\":\"ack-noby\",\"alert_id\":%lld}", (long long)alert_b);
	cr_expect(!hl_jbool(r, "ok") && hl_jstr(r, "error.code") && strcmp(hl_jstr(r, "error.code"), "bad_request") == 0,
	          "ack without by: %s", json_object_to_json_string(r));
	r = hl_request(c, "{\"type\":\"alert.ack\",\"id\":\"ack-noid\",\"by\":\"x\"}");
	cr_expect(!hl_jbool(r, "ok") && hl_jstr(r, "error.code") && strcmp(hl_jstr(r, "error.code"), "bad_request") == 0,
	          "ack without alert_id: %s", json_object_to_json_string(r));
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), events_before,
	             "alert.ack is a command: no case_events row");

	/* the acknowledgements survive a restart: no escalation, only e is replayed */
	hl_d_restart(d);
	struct hl_conn *s2 = hl_subscribe(d, -1);
	struct hl_pushes p2 = { .n = 0 };
	hl_collect_pushes(s2, &p2, 1200);
	cr_expect(p2.n == 1 && p2.p[0].id == alert_e && p2.p[0].level == 3,
	          "after the restart: only the open alert, at level 3, once (%d pushes)", p2.n);
	cr_expect_eq(hl_sql_int(d, "SELECT level FROM hotline.alerts WHERE id = %lld", (long long)alert_a), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT level FROM hotline.alerts WHERE id = %lld", (long long)alert_b), 2);
}

/* due-soon warnings never escalate, while overdue alerts in the same config do */
HL_TEST(alerts, due_soon_never_escalates)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"4s\"; warn_at = 0.1; update = \"0\"; resolution = \"1h\";",
		.escalation = "after = \"1s\"; max_level = 3;" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	int64_t id = abandoned_case(c, "ds", 1, t0);         /* warn t0+400, due t0+4000 */
	int64_t ctl = abandoned_case(c, "ds", 2, t0 - 4000); /* overdue on arrival */

	struct hl_pushes ps = { .n = 0 };
	const struct hl_push *soon = hl_await_push(s, &ps, "callback_due_soon", id, 0, 400 + 4000);
	cr_assert(soon, "due-soon not pushed");
	cr_expect(soon->t_ms >= t0 + 400 - 50 && soon->t_ms <= t0 + 400 + LATE_MS, "due-soon %+lld ms from warn time",
	          (long long)(soon->t_ms - t0 - 400));
	/* the control escalates twice while the due-soon stays put */
	cr_assert(hl_await_push(s, &ps, "callback_overdue", ctl, 3, 5000), "control overdue not escalated to level 3");
	hl_sleep_until(soon->t_ms + 2100);
	hl_collect_pushes(s, &ps, 0);
	cr_expect_lt(hl_wall_ms(), t0 + 4000, "the test ran past the due time; the check below is weaker");
	cr_expect_eq(hl_count_pushes(&ps, NULL, id), 1, "due-soon pushed once, never escalated");
	PGresult *q = hl_sql(d, "SELECT level, escalate_at IS NULL FROM hotline.alerts WHERE case_id = %lld"
	                        " AND kind = 'callback_due_soon'", (long long)id);
	cr_assert_eq(PQntuples(q), 1);
	cr_expect_str_eq(PQgetvalue(q, 0, 0), "1");
	cr_expect_str_eq(PQgetvalue(q, 0, 1), "t", "due-soon has no escalate_at");
}

/* ------------------------------------------------------- exactly once */

/* clocks that fell due while the daemon was stopped are alerted once on
 * start; one whose warning point alone passed gets its due-soon on start
 * and its overdue at its own time */
HL_TEST(alerts, exactly_once_across_restart)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"3s\"; warn_at = 0.5; update = \"0\"; resolution = \"1h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	int64_t a = abandoned_case(c, "rs", 1, t0 - 800); /* warn t0+700, due t0+2200 */
	int64_t b = abandoned_case(c, "rs", 2, t0 - 800);
	int64_t w = abandoned_case(c, "rs", 3, t0);       /* warn t0+1500, due t0+3000 */
	hl_conn_close(c);
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0, "SIGTERM must exit 0");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts"), 0, "stopped before anything fell due");

	hl_sleep_until(t0 + 2400);
	int64_t started = hl_wall_ms();
	hl_d_start(d);
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_pushes ps = { .n = 0 };
	int64_t cases[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		const struct hl_push *p = hl_await_push(s, &ps, "callback_overdue", cases[i], 0, 5000);
		cr_assert(p, "case %lld: overdue not alerted after the start", (long long)cases[i]);
		cr_expect_leq(p->t_ms, started + 1000 + LATE_MS, "alerted %lld ms after start", (long long)(p->t_ms - started));
	}
	const struct hl_push *soon = hl_await_push(s, &ps, "callback_due_soon", w, 0, 5000);
	cr_assert(soon, "the due-soon that fell while down was not raised");
	cr_expect_leq(soon->t_ms, started + 1000 + LATE_MS);
	const struct hl_push *over = hl_await_push(s, &ps, "callback_overdue", w, 0, 5000);
	cr_assert(over, "no overdue for the clock due after the start");
	cr_expect(over->t_ms >= t0 + 3000 - 50 && over->t_ms <= t0 + 3000 + LATE_MS, "overdue %+lld ms from due",
	          (long long)(over->t_ms - t0 - 3000));
	hl_collect_pushes(s, &ps, 500);
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(hl_count_pushes(&ps, NULL, cases[i]), 1, "case %lld pushed once", (long long)cases[i]);
		cr_expect_eq(n_alerts(d, "callback_overdue", cases[i]), 1, "case %lld: one overdue row", (long long)cases[i]);
		/* docs/rules.md: when both instants passed, only the overdue is raised */
		cr_expect_eq(n_alerts(d, "callback_due_soon", cases[i]), 0, "no due-soon after the overdue");
		char *st = hl_sql_text(d, "SELECT state || ' ' || (breached_at = due_at) FROM hotline.clocks"
		                          " WHERE case_id = %lld AND kind = 'callback'", (long long)cases[i]);
		cr_expect(st && strcmp(st, "breached true") == 0, "clock: %s", st ? st : "(none)");
	}
	cr_expect_eq(hl_count_pushes(&ps, NULL, w), 2);
	cr_expect_eq(n_alerts(d, "callback_due_soon", w), 1);
	cr_expect_eq(n_alerts(d, "callback_overdue", w), 1);

	/* restart again: the open alerts are replayed once each, nothing is raised again */
	hl_d_restart(d);
	struct hl_conn *s2 = hl_subscribe(d, -1);
	struct hl_pushes p2 = { .n = 0 };
	hl_collect_pushes(s2, &p2, 1000);
	cr_expect_eq(p2.n, 4, "replay of the 4 open alerts, got %d pushes", p2.n);
	for (int i = 0; i < 2; i++)
		cr_expect_eq(hl_count_pushes(&p2, NULL, cases[i]), 1, "replayed once, not raised again");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts"), 4);
}

/* kill -9 around due times, restart: exactly one alert row per breach */
HL_TEST(alerts, kill9_after_due_exactly_one_alert)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"1s\"; warn_at = 0.5; update = \"0\"; resolution = \"1h\";" });
	static const int kill_after_ms[] = { 10, 120, 260 }; /* after the first due time */
	enum { ROUNDS = 3, PER = 5 };
	int64_t cases[ROUNDS][PER];
	for (int round = 0; round < ROUNDS; round++) {
		struct hl_conn *c = hl_conn_unix(d);
		int64_t t0 = hl_wall_ms();
		/* due times t0 + 600 .. t0 + 1000, 100 ms apart */
		for (int i = 0; i < PER; i++)
			cases[round][i] = abandoned_case(c, "k9", round * 10 + i, t0 - 400 + i * 100);
		hl_conn_close(c);
		hl_sleep_until(t0 + 600 + kill_after_ms[round]);
		hl_d_kill9(d);
		hl_d_start(d);
		/* every clock of this round must end breached, each alerted once */
		char q[512];
		int n = snprintf(q, sizeof q, "SELECT count(*) FROM hotline.clocks WHERE kind = 'callback'"
		                              " AND state = 'breached' AND case_id IN (");
		for (int i = 0; i < PER; i++)
			n += snprintf(q + n, sizeof q - (size_t)n, "%s%lld", i ? ", " : "", (long long)cases[round][i]);
		snprintf(q + n, sizeof q - (size_t)n, ")");
		cr_assert_eq(wait_count(d, PER, 6000, q), PER, "round %d: not every clock breached after the restart",
		             round);
	}
	hl_sleep_ms(1000); /* let any duplicate show */
	for (int round = 0; round < ROUNDS; round++)
		for (int i = 0; i < PER; i++) {
			int64_t id = cases[round][i];
			cr_expect_eq(n_alerts(d, "callback_overdue", id), 1, "round %d case %lld: one overdue row", round,
			             (long long)id);
			cr_expect_leq(n_alerts(d, "callback_due_soon", id), 1, "round %d case %lld: at most one due-soon", round,
			              (long long)id);
		}
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM (SELECT kind, case_id FROM hotline.alerts"
	                           " GROUP BY 1, 2 HAVING count(*) > 1) x"), 0, "one alert per breach");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'callback_overdue'"),
	             ROUNDS * PER);
	cr_expect_eq(hl_sql_int(d, "SELECT count(DISTINCT dedupe_key) FROM hotline.alerts"),
	             hl_sql_int(d, "SELECT count(*) FROM hotline.alerts"));
}

/* ------------------------------------------------------------- NOTIFY */

struct note {
	int64_t id, case_id, level;
	char kind[40];
};

/* Wait for one NOTIFY on listen_pg; false on timeout.  Fails on a payload that is not alert JSON. */
static bool next_notify(struct note *out, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	for (;;) {
		cr_assert(PQconsumeInput(listen_pg), "LISTEN connection: %s", PQerrorMessage(listen_pg));
		PGnotify *n = PQnotifies(listen_pg);
		if (n) {
			char chan[64];
			snprintf(chan, sizeof chan, "%s", n->relname);
			json_object *o = json_tokener_parse(n->extra);
			memset(out, 0, sizeof *out);
			if (o) {
				out->id = hl_jint(o, "id");
				out->case_id = hl_jint(o, "case_id");
				out->level = hl_jint(o, "level");
				snprintf(out->kind, sizeof out->kind, "%s", hl_jstr(o, "kind") ? hl_jstr(o, "kind") : "");
				json_object_put(o);
			}
			PQfreemem(n);
			cr_assert_str_eq(chan, "hotline_alert");
			cr_assert(o, "NOTIFY payload is not JSON");
			cr_assert(out->id > 0 && out->case_id > 0 && out->kind[0], "payload lacks id, kind or case_id");
			return true;
		}
		int64_t left = end - hl_now_ms();
		if (left <= 0)
			return false;
		struct pollfd p = { .fd = PQsocket(listen_pg), .events = POLLIN };
		poll(&p, 1, (int)left);
	}
}

/* NOTIFY hotline_alert reaches a real LISTEN, payload = the alert JSON */
HL_TEST(alerts, notify_hotline_alert_on_listen)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .top = "alerts = { transfer_limit = 1; };",
		.sla = "callback = \"1s\"; warn_at = 0; update = \"0\"; resolution = \"1h\";",
		.escalation = "after = \"1s\"; max_level = 2;" });
	listen_pg = PQconnectdb(d->conninfo);
	cr_assert(PQstatus(listen_pg) == CONNECTION_OK, "connect: %s", PQerrorMessage(listen_pg));
	PGresult *r = PQexec(listen_pg, "LISTEN hotline_alert");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	cr_assert(ok, "LISTEN failed: %s", PQerrorMessage(listen_pg));

	struct hl_conn *c = hl_conn_unix(d);
	int64_t loop_case;
	int64_t loop_id = transfer_loop_alert(d, c, "nt", 1, &loop_case);
	struct note n;
	cr_assert(next_notify(&n, 3000), "no NOTIFY for the transfer_loop alert");
	cr_expect_eq(n.id, loop_id);
	cr_expect_eq(n.case_id, loop_case);
	cr_expect_str_eq(n.kind, "transfer_loop");
	cr_expect_eq(n.level, 1);

	/* a clock alert, then its escalation */
	int64_t cb = abandoned_case(c, "nt", 2, hl_wall_ms());
	cr_assert(next_notify(&n, 5000), "no NOTIFY for the callback_overdue alert");
	cr_expect_str_eq(n.kind, "callback_overdue");
	cr_expect_eq(n.case_id, cb);
	cr_expect_eq(n.id, alert_id_of(d, "callback_overdue", cb));
	cr_expect_eq(n.level, 1);
	int64_t first = n.id;
	cr_assert(next_notify(&n, 5000), "no NOTIFY for the escalation");
	cr_expect_eq(n.id, first);
	cr_expect_eq(n.level, 2, "the escalation is announced with its new level");
	cr_expect(!next_notify(&n, 1000), "unexpected NOTIFY (%s level %lld) at max_level", n.kind, (long long)n.level);
}

/* ---------------------------------------------------- more edge cases */

/* after downtime an overdue alert goes up one level, then waits a full
 * escalation.after again: counted from the last escalation, no burst */
HL_TEST(alerts, escalation_after_restart_one_step_at_a_time)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"1s\"; warn_at = 0; update = \"0\"; resolution = \"1h\";",
		.escalation = "after = \"1s\"; max_level = 5;" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = abandoned_case(c, "er", 1, hl_wall_ms());
	struct hl_pushes ps = { .n = 0 };
	cr_assert(hl_await_push(s, &ps, "callback_overdue", id, 1, 5000), "level 1 not pushed");
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0);
	hl_sleep_ms(2200); /* two intervals missed */
	int64_t started = hl_wall_ms();
	hl_d_start(d);
	struct hl_conn *s2 = hl_subscribe(d, -1);
	struct hl_pushes p2 = { .n = 0 };
	const struct hl_push *l2 = hl_await_push(s2, &p2, "callback_overdue", id, 2, 5000);
	cr_assert(l2, "not escalated after the restart");
	cr_expect_leq(l2->t_ms, started + 1000 + LATE_MS, "level 2 %lld ms after the start",
	              (long long)(l2->t_ms - started));
	const struct hl_push *l3 = hl_await_push(s2, &p2, "callback_overdue", id, 3, 5000);
	cr_assert(l3, "level 3 never came");
	cr_expect_geq(l3->t_ms - l2->t_ms, 900, "level 3 only %lld ms after level 2: a burst",
	              (long long)(l3->t_ms - l2->t_ms));
	cr_expect_eq(hl_find_push(&p2, "callback_overdue", id, 4), NULL, "no burst up to level 4");
}

/* many clocks due at the same instant: every one alerted within a second */
HL_TEST(alerts, many_clocks_due_together)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"2s\"; warn_at = 0; update = \"0\"; resolution = \"1h\";" });
	enum { N = 300 };
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	size_t cap = (size_t)N * 256, len = 0;
	char *buf = malloc(cap);
	cr_assert(buf);
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(buf + len, cap - len,
		                        "{\"type\":\"call.abandoned\",\"id\":\"many-%d\",\"call_id\":\"mc-%d\","
		                        "\"caller\":\"+86135%08d\",\"at\":\"%s\"}\n", i, i, i, hl_iso_ms(t0));
	int rc = hl_send_raw(c, buf, len);
	free(buf);
	cr_assert_eq(rc, 0);
	for (int i = 0; i < N; i++) {
		json_object *r = hl_recv_json(c, 30000);
		cr_assert(r && hl_jbool(r, "ok"), "response %d: %s", i, r ? json_object_to_json_string(r) : "(none)");
	}
	if (hl_wall_ms() > t0 + 1800)
		cr_skip("setup took %lld ms, too slow to test the timing on this machine", (long long)(hl_wall_ms() - t0));

	struct hl_pushes ps = { .n = 0 };
	int got = 0;
	int64_t last = 0, end = hl_now_ms() + 2000 + 5000;
	while (got < N && hl_now_ms() < end) {
		ps.n = 0; /* only count: the buffer holds 128 */
		if (!hl_read_push(s, &ps, (int)(end - hl_now_ms())))
			break;
		got++;
		last = ps.p[0].t_ms;
	}
	cr_assert_eq(got, N, "%d of %d overdue alerts pushed", got, N);
	cr_expect_leq(last, t0 + 2000 + LATE_MS, "the last push came %lld ms after the due time",
	              (long long)(last - t0 - 2000));
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'callback_overdue'"), N);
	int64_t worst = hl_sql_int(d, "SELECT max(hotline.ms(raised_at) - hotline.ms(due_at)) FROM hotline.alerts");
	cr_expect_leq(worst, 1000, "an alert raised %lld ms after its due time", (long long)worst);
	cr_expect_geq(hl_sql_int(d, "SELECT min(hotline.ms(raised_at) - hotline.ms(due_at)) FROM hotline.alerts"), 0);
}
