/*
 * test_admin.c - end-to-end tests of what administrators see in psql
 * (CONTRACT.md section 5; sql/002_roles.sql, 003_views.sql, 004_retention.sql).
 *
 * A real hotlined on a fresh database is driven over its Unix socket through
 * a small scenario (a confidential caller who abandons, is called back late,
 * calls again, is transferred, resolved and surveyed; an ordinary caller whose
 * callback is overdue), then every view is read as the roles administrators
 * log in with (SET ROLE on the harness's superuser connection) and compared
 * row by row.  The privilege tests check that hotline_admin cannot write,
 * that the daemon's role cannot destroy, that masking holds for
 * administrators and not for hotline_privileged, and that supervisors can
 * acknowledge.  tests/sql/admin_test.sql covers the same ground on hand-made
 * rows with fixed timestamps (scripts/sql-test.sh).
 */
#include "harness.h"
#include "figures_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(admin, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 90);

#define NUM_B "+8613900000002"   /* confidential */
#define MASK_B "+86139****0002"
#define NUM_A "+8613800000001"   /* ordinary */

/* ---------------------------------------------------------------- helpers */

static int64_t event_ok(struct hl_conn *c, const char *id, const char *rest)
{
	json_object *r = hl_requestf(c, "{\"id\":\"%s\",%s}", id, rest);
	cr_assert(r && hl_jbool(r, "ok"), "%s: %s", id, r ? json_object_to_json_string(r) : "no response");
	return hl_jint(r, "case_id");   /* r belongs to the harness */
}

/* Poll until the query's integer reaches `want` (the alert timer runs on its own). */
static void wait_for(struct hl_d *d, int64_t want, const char *q)
{
	for (int i = 0; i < 100; i++) {
		if (hl_sql_int(d, "%s", q) >= want)
			return;
		hl_sleep_ms(100);
	}
	cr_assert_fail("timed out waiting for %s >= %lld", q, (long long)want);
}

/* The query's single text value (NULL -> "(null)"), compared with want. */
static void expect_text(struct hl_d *d, const char *want, const char *q)
{
	char *got = hl_sql_text(d, "%s", q);
	cr_expect_str_eq(got ? got : "(null)", want, "%s\n  got  [%s]\n  want [%s]", q, got ? got : "(null)", want);   /* got belongs to the harness */
}

/* The statement must fail with SQLSTATE `state`. */
static void expect_refused(struct hl_d *d, const char *state, const char *q)
{
	PGresult *r = PQexec(d->pg, q);
	const char *got = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	cr_expect(PQresultStatus(r) == PGRES_FATAL_ERROR && got && strcmp(got, state) == 0,
	          "%s: want error %s, got %s %s", q, state, PQresStatus(PQresultStatus(r)), got ? got : "");
	PQclear(r);
}

static void set_role(struct hl_d *d, const char *role)
{
	hl_sql(d, "SET ROLE %s", role);   /* the result belongs to the harness */
}

/* ------------------------------------------------------------ the scenario */

static struct hl_e2e_opts opts = {
	.sla = "callback = \"1s\"; update = \"0\"; survey = \"1h\"; warn_at = 0.0;",
	.repeat_caller = "threshold = 2;",
};

/* Case 1 (B, confidential) and case 2 (A); returns with both callback alerts raised. */
static struct hl_d *scenario(int64_t *c1, int64_t *c2)
{
	struct hl_d *d = hl_d_up(&opts);
	struct hl_conn *c = hl_conn_unix(d);

	*c1 = event_ok(c, "s1", "\"type\":\"call.offered\",\"call_id\":\"k1\",\"caller\":\"" NUM_B "\",\"confidential\":true");
	event_ok(c, "s2", "\"type\":\"call.abandoned\",\"call_id\":\"k1\"");
	wait_for(d, 1, "SELECT count(*) FROM hotline.alerts WHERE kind = 'callback_overdue'");
	char buf[256];
	snprintf(buf, sizeof buf, "\"type\":\"callback.attempt\",\"case_id\":%lld,\"result\":\"busy\",\"agent\":\"bob\"",
	         (long long)*c1);
	event_ok(c, "s3", buf);
	cr_assert_eq(event_ok(c, "s4", "\"type\":\"call.offered\",\"call_id\":\"k2\",\"caller\":\"" NUM_B "\""), *c1);
	event_ok(c, "s5", "\"type\":\"call.answered\",\"call_id\":\"k2\",\"agent\":\"alice\"");
	snprintf(buf, sizeof buf, "\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"housing\",\"agent\":\"alice\"",
	         (long long)*c1);
	event_ok(c, "s6", buf);
	snprintf(buf, sizeof buf, "\"type\":\"case.resolve\",\"case_id\":%lld,\"resolution\":\"rent paid\"", (long long)*c1);
	event_ok(c, "s7", buf);
	snprintf(buf, sizeof buf, "\"type\":\"survey.result\",\"case_id\":%lld,\"score\":5", (long long)*c1);
	event_ok(c, "s8", buf);
	*c2 = event_ok(c, "s9", "\"type\":\"call.offered\",\"call_id\":\"k3\",\"caller\":\"" NUM_A "\"");
	event_ok(c, "s10", "\"type\":\"call.abandoned\",\"call_id\":\"k3\"");
	wait_for(d, 2, "SELECT count(*) FROM hotline.alerts WHERE kind = 'callback_overdue'");
	cr_assert_neq(*c1, *c2);
	return d;
}

Test(admin, views_after_scenario)
{
	int64_t c1, c2;
	struct hl_d *d = scenario(&c1, &c2);
	char q[1024];
	set_role(d, "hotline_admin");

	/* a case's history: events and alerts in time order */
	snprintf(q, sizeof q,
	         "SELECT string_agg(CASE WHEN type LIKE 'alert.%%' THEN type || ' ' || split_part(description, ' ', 3)"
	         " ELSE event_id || ' ' || type END, ', ') FROM hotline.case_history WHERE case_id = %lld",
	         (long long)c1);
	expect_text(d, "s1 call.offered, s2 call.abandoned, alert.raised callback_overdue, s3 callback.attempt, "
	               "s4 call.offered, alert.raised repeat_caller, s5 call.answered, s6 case.transfer, "
	               "s7 case.resolve, s8 survey.result", q);
	snprintf(q, sizeof q, "SELECT string_agg(DISTINCT coalesce(agent, '-'), ',') FROM hotline.case_history WHERE case_id = %lld",
	         (long long)c1);
	expect_text(d, "-,alice,bob", q);
	/* the confidential number never appears whole, and the masked one does */
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_history WHERE description LIKE '%%" NUM_B "%%'"), 0);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.v_case_events WHERE body::text LIKE '%%" NUM_B "%%'"), 0);
	expect_text(d, MASK_B, "SELECT body->>'caller' FROM hotline.v_case_events WHERE event_id = 's1'");

	/* overdue now: only case 2 (case 1's callback was met by the answered call) */
	snprintf(q, sizeof q, "SELECT string_agg(concat_ws('|', case_id = %lld, caller, status, state, attempts,"
	         " alert_level, late_by > interval '0'), ';') FROM hotline.overdue_callbacks", (long long)c2);
	expect_text(d, "t|" NUM_A "|open|breached|0|1|t", q);

	/* open alerts, oldest first (all at level 1) */
	snprintf(q, sizeof q, "SELECT string_agg(concat_ws('|', kind, level, case_id = %lld, caller), ';')"
	         " FROM hotline.open_alerts", (long long)c1);
	expect_text(d, "callback_overdue|1|t|" MASK_B ";repeat_caller|1|t|" MASK_B ";callback_overdue|1|f|" NUM_A, q);

	/* repeat callers of the last 7 days */
	expect_text(d, MASK_B "|t|2|1|1|{abandoned,answered}",
	            "SELECT string_agg(concat_ws('|', caller, confidential, calls, answered, cardinality(case_ids),"
	            " call_results), ';') FROM hotline.repeat_callers");

	/* the figures of today (skipped if the scenario straddled midnight) */
	snprintf(q, sizeof q, "SELECT count(DISTINCT hotline.local_day(opened_at)) FROM hotline.cases");
	if (hl_sql_int(d, "%s", q) == 1) {
		expect_text(d, "3|1|1|2|0.333|2|0|1|1|1|0|2|1|1|1|0.333|1|5.00|1.000|1",
		            "SELECT concat_ws('|', calls_offered, calls_answered, answered_within_15s, calls_abandoned,"
		            " answer_rate, callbacks_owed, callbacks_in_time, callbacks_late, callbacks_still_owed,"
		            " callback_attempts, callbacks_reached, cases_opened, cases_resolved, resolved_in_time,"
		            " repeat_calls, repeat_call_rate, surveys, mean_score, satisfied_share, transfers)"
		            " FROM hotline.daily_figures d JOIN (SELECT DISTINCT hotline.local_day(opened_at) AS day"
		            " FROM hotline.cases) c USING (day)");
		expect_text(d, "alice|1|1|0|1|1|1|1; bob|0|0|1|0|0|-|0",
		            "SELECT string_agg(concat_ws('|', agent, calls_answered, answered_within_15s, callback_attempts,"
		            " cases_resolved, surveys, coalesce(satisfied_share::int::text, '-'), transfers), '; ' ORDER BY agent)"
		            " FROM hotline.agent_daily");
		expect_text(d, "(none)|1|0|1|1; housing|2|1|1|1",
		            "SELECT string_agg(concat_ws('|', department, calls_offered, calls_answered, callbacks_owed,"
		            " cases_opened), '; ' ORDER BY department) FROM hotline.department_daily");
	}

	/* the administrator cannot read the raw number */
	expect_refused(d, "42501", "SELECT caller FROM hotline.cases");
	expect_refused(d, "42501", "SELECT * FROM hotline.calls");
	expect_refused(d, "42501", "SELECT body FROM hotline.case_events");

	/* ... and hotline_privileged sees it whole */
	set_role(d, "NONE");
	set_role(d, "hotline_privileged");
	snprintf(q, sizeof q, "SELECT caller FROM hotline.v_cases WHERE id = %lld", (long long)c1);
	expect_text(d, NUM_B, q);
	expect_text(d, NUM_B, "SELECT caller FROM hotline.repeat_callers");
	/* (the daemon's own descriptions quote numbers masked for everyone) */
	expect_text(d, NUM_B, "SELECT body->>'caller' FROM hotline.v_case_events WHERE event_id = 's1'");
	set_role(d, "NONE");
}

Test(admin, privileges)
{
	int64_t c1, c2;
	struct hl_d *d = scenario(&c1, &c2);
	(void)c2;

	set_role(d, "hotline_admin");
	expect_refused(d, "42501", "INSERT INTO hotline.cases (caller, opened_at) VALUES ('+1', now())");
	expect_refused(d, "42501", "UPDATE hotline.cases SET status = 'closed'");
	expect_refused(d, "42501", "DELETE FROM hotline.case_events");
	expect_refused(d, "42501", "UPDATE hotline.alerts SET acked_at = now(), acked_by = 'x'");
	expect_refused(d, "42501", "TRUNCATE hotline.alerts");
	expect_refused(d, "42501", "SELECT hotline.ack_alert(1, 'admin')");
	expect_refused(d, "42501", "SELECT hotline.anonymize_closed(0)");
	set_role(d, "NONE");

	set_role(d, "hotlined");
	expect_refused(d, "42501", "DROP TABLE hotline.case_events");
	expect_refused(d, "42501", "ALTER TABLE hotline.cases ADD COLUMN x int");
	expect_refused(d, "42501", "TRUNCATE hotline.case_events");
	expect_refused(d, "42501", "DELETE FROM hotline.alerts");
	expect_refused(d, "42501", "CREATE TABLE hotline.x (a int)");
	set_role(d, "NONE");

	/* supervisors acknowledge through hotline.ack_alert only */
	int64_t id = hl_sql_int(d, "SELECT min(id) FROM hotline.alerts WHERE acked_at IS NULL");
	set_role(d, "hotline_supervisor");
	char q[256];
	snprintf(q, sizeof q, "UPDATE hotline.alerts SET acked_at = now() WHERE id = %lld", (long long)id);
	expect_refused(d, "42501", q);
	snprintf(q, sizeof q, "SELECT hotline.ack_alert(%lld, 'sam')::text", (long long)id);
	expect_text(d, "true", q);
	expect_text(d, "false", q);
	snprintf(q, sizeof q, "SELECT count(*)::text FROM hotline.open_alerts WHERE id = %lld", (long long)id);
	expect_text(d, "0", q);
	set_role(d, "NONE");
	snprintf(q, sizeof q, "SELECT acked_by FROM hotline.alerts WHERE id = %lld", (long long)id);
	expect_text(d, "sam", q);

	/* the daemon still works after all that */
	struct hl_conn *c = hl_conn_unix(d);
	json_object *r = hl_request(c, "{\"type\":\"ping\",\"id\":\"p1\"}");
	cr_expect(hl_jbool(r, "ok"));
}

Test(admin, retention_keeps_figures)
{
	int64_t c1, c2;
	struct hl_d *d = scenario(&c1, &c2);
	struct hl_conn *c = hl_conn_unix(d);
	char buf[128];
	snprintf(buf, sizeof buf, "\"type\":\"case.close\",\"case_id\":%lld", (long long)c1);
	event_ok(c, "s11", buf);

	const char *figs = "SELECT concat_ws('|', sum(calls_offered), sum(calls_answered), sum(callbacks_late),"
	                   " sum(cases_resolved), sum(surveys), sum(transfers)) FROM hotline.daily_figures";
	char *before = hl_sql_text(d, "%s", figs);
	cr_assert(before);
	/* closed just now: "more than 0 days ago" takes it, case 2 (open) is left alone */
	cr_expect_eq(hl_sql_int(d, "SELECT hotline.anonymize_closed(0)"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT hotline.anonymize_closed(0)"), 0);
	expect_text(d, before, figs);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE caller = '" NUM_B "'"), 0);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE body::text LIKE '%%" NUM_B "%%'"
	                           " OR description LIKE '%%rent paid%%' OR body::text LIKE '%%rent paid%%'"), 0);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE dedupe_key LIKE '%%" NUM_B "%%'"), 0);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.callers WHERE caller = '" NUM_B "'"), 0);
	expect_text(d, NUM_A, "SELECT caller FROM hotline.calls WHERE call_id = 'k3'");

	/* a duplicate of an anonymized case's event is still recognised */
	json_object *r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"s1\",\"call_id\":\"k1\",\"caller\":\"" NUM_B "\"}");
	cr_expect(hl_jbool(r, "ok") && hl_jbool(r, "duplicate"), "%s", json_object_to_json_string(r));
	/* and the number calling again opens a new case */
	cr_expect_neq(event_ok(c, "s12", "\"type\":\"call.offered\",\"call_id\":\"k9\",\"caller\":\"" NUM_B "\""), c1);
}

/* ------------------------------------------- the figures' rollup (sql/031) */

/* Send lines in one go (the daemon batches them together), then read each
 * answer; returns the case_id of each, in order. */
static void send_batch(struct hl_conn *c, const char *const *lines, size_t n, int64_t *case_ids)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(hl_send(c, lines[i]), 0);
	for (size_t i = 0; i < n; i++) {
		json_object *r = hl_recv_json(c, 10000);
		cr_assert(r && hl_jbool(r, "ok"), "%s: %s", lines[i], r ? json_object_to_json_string(r) : "no answer");
		if (case_ids)
			case_ids[i] = hl_jint(r, "case_id");
	}
}

#define LINE(buf, ...) (snprintf(buf, sizeof buf, __VA_ARGS__), strdup(buf))


/* The daemon counts only the rows each batch writes (its hints to
 * figures_before, store_write.c); after a mixed workload written in
 * pipelined batches - repeat calls, a call offered out of order, answers,
 * resolutions on the call and by event, a low survey, a reopen, transfers,
 * callback attempts - the rollup must still equal the recount from the base
 * rows, cell by cell. */
Test(admin, rollup_follows_the_daemon)
{
	struct hl_d *d = hl_d_up(&opts);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms(), ids[16];
	char b[512];
#define AT(s) hl_iso_ms(now - (s) * 1000LL)
	char *one[] = {
		LINE(b, "{\"id\":\"f1\",\"type\":\"call.offered\",\"call_id\":\"fp1\",\"caller\":\"+8613700000011\",\"at\":\"%s\"}", AT(600)),
		LINE(b, "{\"id\":\"f2\",\"type\":\"call.offered\",\"call_id\":\"fq1\",\"caller\":\"+8613700000012\",\"at\":\"%s\"}", AT(590)),
		LINE(b, "{\"id\":\"f3\",\"type\":\"call.offered\",\"call_id\":\"fr1\",\"caller\":\"+8613700000013\",\"at\":\"%s\"}", AT(580)),
		LINE(b, "{\"id\":\"f4\",\"type\":\"call.offered\",\"call_id\":\"fp2\",\"caller\":\"+8613700000011\",\"at\":\"%s\"}", AT(300)),
		LINE(b, "{\"id\":\"f5\",\"type\":\"call.answered\",\"call_id\":\"fp1\",\"agent\":\"ann\",\"at\":\"%s\"}", AT(598)),
		LINE(b, "{\"id\":\"f6\",\"type\":\"call.answered\",\"call_id\":\"fq1\",\"agent\":\"bob\",\"at\":\"%s\"}", AT(585)),
		LINE(b, "{\"id\":\"f7\",\"type\":\"call.abandoned\",\"call_id\":\"fr1\",\"at\":\"%s\"}", AT(570)),
	};
	send_batch(c, (const char *const *)one, 7, ids);
	int64_t cp = ids[0], cq = ids[1], cr = ids[2];
	cr_assert(cp && cq && cr && cp != cq && ids[3] == cp);

	char *two[] = {
		LINE(b, "{\"id\":\"g1\",\"type\":\"call.ended\",\"call_id\":\"fp1\",\"outcome\":\"resolved\",\"at\":\"%s\"}", AT(400)),
		LINE(b, "{\"id\":\"g2\",\"type\":\"survey.result\",\"case_id\":%lld,\"score\":2,\"at\":\"%s\"}", (long long)cp, AT(350)),
		LINE(b, "{\"id\":\"g3\",\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)cp, AT(340)),
		LINE(b, "{\"id\":\"g4\",\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)cp, AT(330)),
		LINE(b, "{\"id\":\"g5\",\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"roads\",\"agent\":\"bob\",\"at\":\"%s\"}",
		     (long long)cq, AT(300)),
		LINE(b, "{\"id\":\"g6\",\"type\":\"callback.attempt\",\"case_id\":%lld,\"agent\":\"cy\",\"result\":\"reached\",\"at\":\"%s\"}",
		     (long long)cr, AT(200)),
		LINE(b, "{\"id\":\"g7\",\"type\":\"call.offered\",\"call_id\":\"fp0\",\"caller\":\"+8613700000011\",\"at\":\"%s\"}", AT(700)),
		LINE(b, "{\"id\":\"g8\",\"type\":\"call.answered\",\"call_id\":\"fp2\",\"agent\":\"dan\",\"at\":\"%s\"}", AT(290)),
		LINE(b, "{\"id\":\"g9\",\"type\":\"call.ended\",\"call_id\":\"fp2\",\"outcome\":\"followup\",\"at\":\"%s\"}", AT(280)),
		LINE(b, "{\"id\":\"g10\",\"type\":\"case.reopen\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)cq, AT(100)),
		LINE(b, "{\"id\":\"g11\",\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)cq, AT(90)),
		LINE(b, "{\"id\":\"g12\",\"type\":\"survey.result\",\"case_id\":%lld,\"score\":5,\"at\":\"%s\"}", (long long)cq, AT(80)),
	};
	send_batch(c, (const char *const *)two, 12, NULL);

	char *three[] = {
		LINE(b, "{\"id\":\"h1\",\"type\":\"call.offered\",\"call_id\":\"fq2\",\"caller\":\"+8613700000012\",\"at\":\"%s\"}", AT(50)),
		LINE(b, "{\"id\":\"h2\",\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"water\",\"agent\":\"ann\",\"at\":\"%s\"}",
		     (long long)cp, AT(40)),
		LINE(b, "{\"id\":\"h3\",\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)cr, AT(30)),
		LINE(b, "{\"id\":\"h4\",\"type\":\"call.answered\",\"call_id\":\"fq2\",\"agent\":\"eve\",\"at\":\"%s\"}", AT(20)),
	};
	for (size_t i = 0; i < 4; i++)   /* one at a time: batches of one */
		send_batch(c, (const char *const *)&three[i], 1, NULL);
#undef AT

	cr_assert(hl_sql_int(d, "SELECT count(*) FROM hotline.figure_rollup_state") == 1, "the rollup is not kept");
	expect_text(d, "same", HL_ROLLUP_DIFF);
	/* and it counted something of each kind */
	expect_text(d, "6|4|4|3|1|2",
	            "SELECT concat_ws('|', sum(calls_offered), sum(calls_answered), sum(cases_resolved), sum(repeat_calls),"
	            " sum(callback_attempts), sum(transfers)) FROM hotline.figure_rollup");
	for (size_t i = 0; i < 7; i++)
		free(one[i]);
	for (size_t i = 0; i < 12; i++)
		free(two[i]);
	for (size_t i = 0; i < 4; i++)
		free(three[i]);
}

/* Two daemons on one database (CONTRACT section 9) write calls of the same
 * callers at once, dated out of order across them: each batch counts its
 * callers' later calls in the other daemon's cases (the repeat flag) under
 * the cases' figure locks (sql/031), so the rollup still equals the recount. */
Test(admin, rollup_with_two_daemons)
{
	struct hl_d *a = hl_d_up(&opts);
	struct hl_d *b = hl_d_up_peer(a, &opts);
	struct hl_conn *ca = hl_conn_unix(a), *cb = hl_conn_unix(b);
	int64_t now = hl_wall_ms();
	char line[512];
	enum { ROUNDS = 6, PER = 8 };
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < PER; i++) {
			/* A's calls later than B's in each round, B's answered a round later */
			snprintf(line, sizeof line, "{\"id\":\"ta%d-%d\",\"type\":\"call.offered\",\"call_id\":\"ca%d-%d\","
			         "\"caller\":\"+861370000%04d\",\"at\":\"%s\"}", r, i, r, i, i % 3,
			         hl_iso_ms(now - 600000 + r * 60000 + i * 1000 + 500));
			cr_assert_eq(hl_send(ca, line), 0);
			snprintf(line, sizeof line, "{\"id\":\"tb%d-%d\",\"type\":\"call.offered\",\"call_id\":\"cb%d-%d\","
			         "\"caller\":\"+861370000%04d\",\"at\":\"%s\"}", r, i, r, i, i % 3,
			         hl_iso_ms(now - 600000 + r * 60000 + i * 1000));
			cr_assert_eq(hl_send(cb, line), 0);
			if (r > 0) {
				snprintf(line, sizeof line, "{\"id\":\"tn%d-%d\",\"type\":\"call.answered\",\"call_id\":\"cb%d-%d\","
				         "\"agent\":\"ag%d\"}", r, i, r - 1, i, i % 2);
				cr_assert_eq(hl_send(ca, line), 0);
			}
		}
		for (int i = 0; i < PER + (r > 0 ? PER : 0); i++) {
			json_object *x = hl_recv_json(ca, 10000);
			cr_assert(x && hl_jbool(x, "ok"), "A: %s", x ? json_object_to_json_string(x) : "no answer");
		}
		for (int i = 0; i < PER; i++) {
			json_object *x = hl_recv_json(cb, 10000);
			cr_assert(x && hl_jbool(x, "ok"), "B: %s", x ? json_object_to_json_string(x) : "no answer");
		}
	}
	expect_text(a, "same", HL_ROLLUP_DIFF);
	expect_text(a, "96|40", "SELECT concat_ws('|', sum(calls_offered), sum(calls_answered)) FROM hotline.figure_rollup");
	cr_expect_gt(hl_sql_int(a, "SELECT sum(repeat_calls) FROM hotline.figure_rollup"), 80);
}

/* "same", or every cell where a stored large case's rows (figure_case_rollup,
 * sql/035) differ from its recount */
static const char CASE_CELLS_DIFF[] =
	"WITH stored AS (SELECT r.case_id, r.day, r.agent, m.key AS metric, m.value::text::bigint AS n"
	"  FROM hotline.figure_case_rollup r, jsonb_each(to_jsonb(r) - 'case_id' - 'day' - 'agent') m"
	"  WHERE m.value::text::bigint <> 0),"
	" recount AS (SELECT case_id, day, coalesce(agent, '') AS agent, metric, sum(n) AS n FROM hotline.figure_facts"
	"  WHERE case_id IN (SELECT case_id FROM hotline.figure_case_rollup) GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0)"
	" SELECT coalesce(string_agg(format('%s %s %s/%s %s=%s', side, case_id, day, agent, metric, n), '; '), 'same')"
	" FROM ((SELECT 'recount-only' AS side, * FROM recount EXCEPT SELECT 'recount-only', * FROM stored)"
	"  UNION ALL (SELECT 'stored-only', * FROM stored EXCEPT SELECT 'stored-only', * FROM recount)) x";

/* A busy case that changes department is moved from its stored facts
 * (sql/035), not recounted: with the threshold lowered to 2 source rows, a
 * repeat caller's case is stored at its first transfer, followed by the
 * batches after it (answers, an attempt, a call offered before its first,
 * which changes that call's repeat flag), moved again from its rows, and
 * stored again after a rebuild; the rollup equals the recount throughout. */
Test(admin, rollup_moves_stored_cases)
{
	struct hl_d *d = hl_d_up(&opts);
	hl_sql(d, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %%I SET hotline.rollup_case_cells_min = 2',"
	          " current_database()); END $$");   /* the result belongs to the harness */
	hl_d_restart(d);   /* the daemon's sessions read the setting when they connect */
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms(), ids[8];
	char b[512];
#define AT(s) hl_iso_ms(now - (s) * 1000LL)
	char *one[] = {
		LINE(b, "{\"id\":\"m1\",\"type\":\"call.offered\",\"call_id\":\"mx1\",\"caller\":\"+8613700000021\",\"at\":\"%s\"}", AT(900)),
		LINE(b, "{\"id\":\"m2\",\"type\":\"call.answered\",\"call_id\":\"mx1\",\"agent\":\"ann\",\"at\":\"%s\"}", AT(895)),
		LINE(b, "{\"id\":\"m3\",\"type\":\"call.offered\",\"call_id\":\"mx2\",\"caller\":\"+8613700000021\",\"at\":\"%s\"}", AT(800)),
		LINE(b, "{\"id\":\"m4\",\"type\":\"call.abandoned\",\"call_id\":\"mx2\",\"at\":\"%s\"}", AT(790)),
		LINE(b, "{\"id\":\"m5\",\"type\":\"call.offered\",\"call_id\":\"mx3\",\"caller\":\"+8613700000021\",\"at\":\"%s\"}", AT(700)),
	};
	send_batch(c, (const char *const *)one, 5, ids);
	int64_t cp = ids[0];
	cr_assert(cp && ids[2] == cp && ids[4] == cp);

	char *two[] = {
		LINE(b, "{\"id\":\"n1\",\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"roads\",\"agent\":\"ann\",\"at\":\"%s\"}",
		     (long long)cp, AT(650)),
	};
	send_batch(c, (const char *const *)two, 1, NULL);
	cr_expect_gt(hl_sql_int(d, "SELECT count(*) FROM hotline.figure_case_rollup WHERE case_id = %lld", (long long)cp), 0,
	             "the case was not stored at its transfer");
	expect_text(d, "same", HL_ROLLUP_DIFF);
	expect_text(d, "same", CASE_CELLS_DIFF);

	char *three[] = {
		LINE(b, "{\"id\":\"o1\",\"type\":\"call.answered\",\"call_id\":\"mx3\",\"agent\":\"bob\",\"at\":\"%s\"}", AT(640)),
		LINE(b, "{\"id\":\"o2\",\"type\":\"callback.attempt\",\"case_id\":%lld,\"agent\":\"cy\",\"result\":\"reached\",\"at\":\"%s\"}",
		     (long long)cp, AT(600)),
		LINE(b, "{\"id\":\"o3\",\"type\":\"call.offered\",\"call_id\":\"mx0\",\"caller\":\"+8613700000021\",\"at\":\"%s\"}", AT(950)),
	};
	send_batch(c, (const char *const *)three, 3, NULL);
	expect_text(d, "same", HL_ROLLUP_DIFF);
	expect_text(d, "same", CASE_CELLS_DIFF);

	char *four[] = {
		LINE(b, "{\"id\":\"p1\",\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"water\",\"agent\":\"bob\",\"at\":\"%s\"}",
		     (long long)cp, AT(500)),
		LINE(b, "{\"id\":\"p2\",\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)cp, AT(490)),
	};
	send_batch(c, (const char *const *)four, 2, NULL);
	expect_text(d, "same", HL_ROLLUP_DIFF);
	expect_text(d, "same", CASE_CELLS_DIFF);

	/* a rebuild empties the stored cases; the next move stores the case again */
	hl_sql_int(d, "SELECT hotline.rebuild_figure_rollup()");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.figure_case_rollup"), 0);
	char *five[] = {
		LINE(b, "{\"id\":\"q1\",\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"parks\",\"agent\":\"bob\",\"at\":\"%s\"}",
		     (long long)cp, AT(400)),
	};
	send_batch(c, (const char *const *)five, 1, NULL);
#undef AT
	cr_expect_gt(hl_sql_int(d, "SELECT count(*) FROM hotline.figure_case_rollup WHERE case_id = %lld", (long long)cp), 0);
	expect_text(d, "same", HL_ROLLUP_DIFF);
	expect_text(d, "same", CASE_CELLS_DIFF);
	/* everything of the case moved with it: its calls, two answers, the attempt, three transfers */
	char want[64];
	snprintf(want, sizeof want, "%lld|2|1|3",
	         (long long)hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE case_id = %lld AND inbound", (long long)cp));
	expect_text(d, want, "SELECT concat_ws('|', sum(calls_offered), sum(calls_answered), sum(callback_attempts),"
	                     " sum(transfers)) FROM hotline.figure_rollup WHERE department = 'parks'");
	for (size_t i = 0; i < 5; i++)
		free(one[i]);
	free(two[0]);
	for (size_t i = 0; i < 3; i++)
		free(three[i]);
	for (size_t i = 0; i < 2; i++)
		free(four[i]);
	free(five[0]);
}

/* CONTRACT.md 6: an order.reply "resolved" resolves its case (as
 * case.resolve) when no other order of the case is open.  The figures count
 * such a reply as the case's resolution, exactly as a case.resolve, in the
 * rollup each batch keeps and in the recount from the base rows (sql/045):
 * a reply that leaves the case open (another order still open) is not one,
 * and neither is a case.resolve on the case it resolved.  A merged case's
 * call.ended "resolved" leaves it merged (no resolution); a case.resolve on
 * it then resolves it (one). */
static struct hl_e2e_opts reply_opts = {
	.sla = "callback = \"1h\"; update = \"0\"; resolution = \"1h\"; warn_at = 0.0;",
};

Test(admin, figures_count_order_replies)
{
	struct hl_d *d = hl_d_up(&reply_opts);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms(), ids[4];
	char b[512];
	/* (seconds before now; the figures are summed over every day) */
#define AT(s) hl_iso_ms(now - (s) * 1000LL)
	char *one[] = {
		LINE(b, "{\"id\":\"r1\",\"type\":\"call.offered\",\"call_id\":\"ra\",\"caller\":\"+8613600000021\",\"at\":\"%s\"}", AT(120)),
		LINE(b, "{\"id\":\"r2\",\"type\":\"call.offered\",\"call_id\":\"rb\",\"caller\":\"+8613600000022\",\"at\":\"%s\"}", AT(120)),
		LINE(b, "{\"id\":\"r3\",\"type\":\"call.offered\",\"call_id\":\"rc\",\"caller\":\"+8613600000023\",\"at\":\"%s\"}", AT(120)),
		LINE(b, "{\"id\":\"r4\",\"type\":\"call.offered\",\"call_id\":\"rd\",\"caller\":\"+8613600000024\",\"at\":\"%s\"}", AT(120)),
	};
	send_batch(c, (const char *const *)one, 4, ids);
	int64_t ca = ids[0], cb = ids[1], cc = ids[2], cd = ids[3];
	cr_assert(ca && cb && cc && cd && ca != cb && cb != cc && cc != cd);

	char *two[] = {
		LINE(b, "{\"id\":\"s1\",\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)ca, AT(100)),
		LINE(b, "{\"id\":\"s2\",\"type\":\"order.dispatch\",\"case_id\":%lld,\"department\":\"water\",\"order_id\":\"wo-b\",\"at\":\"%s\"}",
		     (long long)cb, AT(110)),
		LINE(b, "{\"id\":\"s3\",\"type\":\"order.dispatch\",\"case_id\":%lld,\"department\":\"water\",\"order_id\":\"wo-c1\",\"at\":\"%s\"}",
		     (long long)cc, AT(110)),
		LINE(b, "{\"id\":\"s4\",\"type\":\"order.dispatch\",\"case_id\":%lld,\"department\":\"roads\",\"order_id\":\"wo-c2\",\"at\":\"%s\"}",
		     (long long)cc, AT(109)),
	};
	send_batch(c, (const char *const *)two, 4, NULL);
	/* one at a time: each reply in a batch of its own, then two in one */
	char *three[] = {
		LINE(b, "{\"id\":\"t1\",\"type\":\"order.reply\",\"order_id\":\"wo-b\",\"result\":\"resolved\",\"at\":\"%s\"}", AT(90)),
		/* not the last open order: the case stays open (a sender's own
		 * case_resolved key is not the daemon's word) */
		LINE(b, "{\"id\":\"t2\",\"type\":\"order.reply\",\"order_id\":\"wo-c1\",\"result\":\"resolved\",\"case_resolved\":true,"
		        "\"at\":\"%s\"}", AT(85)),
		/* resolved already: not a resolution */
		LINE(b, "{\"id\":\"t3\",\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)cb, AT(80)),
	};
	for (size_t i = 0; i < 3; i++)
		send_batch(c, (const char *const *)&three[i], 1, NULL);

	expect_text(d, "resolved|open", "SELECT concat_ws('|', (SELECT status FROM hotline.cases WHERE id = (SELECT case_id FROM"
	            " hotline.orders WHERE order_id = 'wo-b')), (SELECT status FROM hotline.cases WHERE id = (SELECT case_id"
	            " FROM hotline.orders WHERE order_id = 'wo-c1')))");
	expect_text(d, "t1", "SELECT string_agg(event_id, ',' ORDER BY event_id) FROM hotline.case_events"
	            " WHERE type = 'order.reply' AND body->>'case_resolved' = 'true'");
	expect_text(d, "2|2", "SELECT concat_ws('|', sum(cases_resolved), sum(resolved_in_time)) FROM hotline.daily_figures");
	expect_text(d, "1|1", "SELECT concat_ws('|', sum(cases_resolved), sum(resolved_in_time)) FROM hotline.department_daily"
	            " WHERE department = 'water'");
	expect_text(d, "same", HL_ROLLUP_DIFF);

	char *four[] = {
		/* the last open order of case C: now it is resolved */
		LINE(b, "{\"id\":\"u1\",\"type\":\"order.reply\",\"order_id\":\"wo-c2\",\"result\":\"resolved\",\"at\":\"%s\"}", AT(70)),
		/* D merged into B; its call resolved leaves it merged, and so does
		 * case.resolve (recorded only: D's caller is called back when B is
		 * resolved), so neither is a resolution in the figures (sql/062) */
		LINE(b, "{\"id\":\"u2\",\"type\":\"case.merge\",\"case_id\":%lld,\"into\":%lld,\"at\":\"%s\"}", (long long)cd,
		     (long long)cb, AT(60)),
		LINE(b, "{\"id\":\"u3\",\"type\":\"call.ended\",\"call_id\":\"rd\",\"outcome\":\"resolved\",\"at\":\"%s\"}", AT(50)),
		LINE(b, "{\"id\":\"u4\",\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"}", (long long)cd, AT(40)),
	};
	send_batch(c, (const char *const *)&four[0], 1, NULL);
	send_batch(c, (const char *const *)&four[1], 2, NULL);
#undef AT
	expect_text(d, "merged", "SELECT status FROM hotline.cases WHERE id = (SELECT case_id FROM hotline.case_events"
	            " WHERE event_id = 'u3')");
	expect_text(d, "3|3", "SELECT concat_ws('|', sum(cases_resolved), sum(resolved_in_time)) FROM hotline.daily_figures");
	send_batch(c, (const char *const *)&four[3], 1, NULL);
	expect_text(d, "merged", "SELECT status FROM hotline.cases WHERE id = (SELECT case_id FROM hotline.case_events"
	            " WHERE event_id = 'u4')");
	expect_text(d, "3|3", "SELECT concat_ws('|', sum(cases_resolved), sum(resolved_in_time)) FROM hotline.daily_figures");
	expect_text(d, "same", HL_ROLLUP_DIFF);

	/* the rollup kept batch by batch is what a rebuild counts */
	char *kept = strdup(hl_sql_text(d, "SELECT string_agg(f::text, ';' ORDER BY f::text) FROM hotline.figure_rollup f"));
	hl_sql_int(d, "SELECT hotline.rebuild_figure_rollup()");
	expect_text(d, kept, "SELECT string_agg(f::text, ';' ORDER BY f::text) FROM hotline.figure_rollup f");
	expect_text(d, "3|3", "SELECT concat_ws('|', sum(cases_resolved), sum(resolved_in_time)) FROM hotline.daily_figures");
	free(kept);
	for (size_t i = 0; i < 4; i++)
		free(one[i]);
	for (size_t i = 0; i < 4; i++)
		free(two[i]);
	for (size_t i = 0; i < 3; i++)
		free(three[i]);
	for (size_t i = 0; i < 4; i++)
		free(four[i]);
}

/* Retention rebuilt each anonymized event's description from its scrubbed
 * body (describe_event): the daemon's own first words, which the figures
 * read to find a status event recorded only because a later one was
 * delivered first (063, turn_superseded) and a resolution dated before the
 * close of a closed case (064, resolved_before_close), were gone.  After a
 * retention run the recount counted those cases' resolutions otherwise than
 * the rollup did, and a rebuild (also the one of a report.timezone change)
 * changed past cases_resolved.  It also masked an agent's employee number
 * in the bodies: agent_daily credited "******45" (077's scrub_body). */
Test(admin, retention_keeps_the_late_status_events)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"1h\"; update = \"0\"; resolution = \"4h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	char b[512];
#define EV(id, fmt, ...) (snprintf(b, sizeof b, fmt, __VA_ARGS__), event_ok(c, id, b))
	/* a: the close delivered before the resolution dated before it (064) */
	int64_t a = EV("ra1", "\"type\":\"call.offered\",\"call_id\":\"ra\",\"caller\":\"+8613700000051\",\"at\":\"%s\"",
	               hl_iso_in(-3 * 3600));
	/* an agent known by an employee number of 8 digits (scrub_body masked it) */
	EV("ra0", "\"type\":\"callback.attempt\",\"case_id\":%lld,\"result\":\"busy\",\"agent\":\"20230145\",\"at\":\"%s\"",
	   (long long)a, hl_iso_in(-170 * 60));
	EV("ra2", "\"type\":\"case.close\",\"case_id\":%lld,\"at\":\"%s\"", (long long)a, hl_iso_in(-3600));
	EV("ra3", "\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"", (long long)a, hl_iso_in(-2 * 3600));
	/* b: resolved, reopened, a close dated before the reopen (superseded,
	 * 063), resolved again (a turn: the close before it does not count), closed */
	int64_t e = EV("rb1", "\"type\":\"call.offered\",\"call_id\":\"rb\",\"caller\":\"+8613700000052\",\"at\":\"%s\"",
	               hl_iso_in(-3 * 3600));
	EV("rb2", "\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"", (long long)e, hl_iso_in(-150 * 60));
	EV("rb3", "\"type\":\"case.reopen\",\"case_id\":%lld,\"at\":\"%s\"", (long long)e, hl_iso_in(-120 * 60));
	EV("rb4", "\"type\":\"case.close\",\"case_id\":%lld,\"at\":\"%s\"", (long long)e, hl_iso_in(-130 * 60));
	EV("rb5", "\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"", (long long)e, hl_iso_in(-60 * 60));
	EV("rb6", "\"type\":\"case.close\",\"case_id\":%lld,\"at\":\"%s\"", (long long)e, hl_iso_in(-30 * 60));
	/* c: resolved, reopened, resolved; a low survey dated before that
	 * resolution (no reopen: superseded, 063), a resolve of the resolved
	 * case (recorded only: no turn), closed */
	int64_t f = EV("rc1", "\"type\":\"call.offered\",\"call_id\":\"rc\",\"caller\":\"+8613700000053\",\"at\":\"%s\"",
	               hl_iso_in(-3 * 3600));
	EV("rc2", "\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"", (long long)f, hl_iso_in(-150 * 60));
	EV("rc3", "\"type\":\"case.reopen\",\"case_id\":%lld,\"at\":\"%s\"", (long long)f, hl_iso_in(-120 * 60));
	EV("rc4", "\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"", (long long)f, hl_iso_in(-60 * 60));
	EV("rc5", "\"type\":\"survey.result\",\"case_id\":%lld,\"score\":1,\"at\":\"%s\"", (long long)f, hl_iso_in(-90 * 60));
	EV("rc6", "\"type\":\"case.resolve\",\"case_id\":%lld,\"at\":\"%s\"", (long long)f, hl_iso_in(-45 * 60));
	EV("rc7", "\"type\":\"case.close\",\"case_id\":%lld,\"at\":\"%s\"", (long long)f, hl_iso_in(-30 * 60));
#undef EV
	const char *figs = "SELECT concat_ws('|', sum(cases_resolved), sum(resolved_in_time)) FROM hotline.daily_figures";
	expect_text(d, "closed,closed,closed", "SELECT string_agg(status, ',' ORDER BY id) FROM hotline.cases");
	expect_text(d, "5|5", figs);
	expect_text(d, "same", HL_ROLLUP_DIFF);
	expect_text(d, "3", "SELECT hotline.anonymize_closed(0)");
	expect_text(d, "same", HL_ROLLUP_DIFF);
	hl_sql_int(d, "SELECT hotline.rebuild_figure_rollup()");
	expect_text(d, "5|5", figs);
	expect_text(d, "20230145 1", "SELECT string_agg(agent || ' ' || callback_attempts, ',') FROM hotline.agent_daily"
	            " WHERE callback_attempts > 0");
	/* and what is kept of the daemon's words names no number */
	expect_text(d, "0", "SELECT count(*) FROM hotline.case_events WHERE description ~ '1370000005'");
}
