/*
 * test_clocks_late.c - end-to-end tests for events delivered after later
 * ones of the same case (branch review-rules2; suite `clocks_late`): what a
 * supervisor sees through the real daemon and PostgreSQL when a PBX bridge,
 * an agents' tool and a survey system deliver out of the order of `at`.
 * Each must leave the case as the same events in order would
 * (docs/rules.md, "Events that arrive late").
 *
 * Design.  As test_clocks_review.c: the helpers of clocks_helpers.h,
 * explicit `at` values in the past so that deadlines are exact and nothing
 * waits on the wall clock; what is read is what an administrator reads
 * (hotline.cases, hotline.clocks, hotline.overdue_callbacks, the alerts,
 * the case history, daily_figures and its recount).
 */
#include "clocks_helpers.h"

TestSuite(clocks_late, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 60);

#define HOUR_MS (3600 * 1000LL)
#define MIN_MS (60 * 1000LL)

static const char *history(struct hl_d *d, int64_t id, const char *type)
{
	const char *s = hl_sql_text(d, "SELECT string_agg(description, ' | ' ORDER BY at) FROM hotline.case_history"
	                               " WHERE case_id = %lld AND type = '%s'", (long long)id, type);
	return s ? s : "(null)";
}

/* Resolved 4h ago, reopened 2h ago when the caller rang and hung up (a call
 * back owed, overdue now); the supervisor's close, dated 3h ago, arrives
 * last.  In order the reopen came after the close: the case is open and the
 * caller is owed the call back, listed in hotline.overdue_callbacks.  The
 * late close closed the reopened case and stopped every clock: the caller
 * dropped out of every list.  The case resolved again afterwards counts as
 * resolved twice in the figures, rollup and recount alike. */
HL_TEST(clocks_late, close_dated_before_the_reopen_is_recorded_only)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"30m\"; resolution = \"48h\"; update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms();
	int64_t id = offer(c, "sc-1", "+8613900000501", now - 5 * HOUR_MS);
	case_ev(c, "case.resolve", id, "", now - 4 * HOUR_MS);
	case_ev(c, "case.reopen", id, ",\"reason\":\"caller rang\"", now - 2 * HOUR_MS);
	cr_assert_eq(call_ev(c, "call.abandoned", "sc-2", ",\"caller\":\"+8613900000501\"", now - 2 * HOUR_MS), id);
	case_ev(c, "case.close", id, "", now - 3 * HOUR_MS);
	expect_status(d, id, "open");
	expect_clock(d, id, "resolution", "pending");
	cr_expect_eq(clock_ms(d, id, "resolution", "due_at"), now - 2 * HOUR_MS + 48 * HOUR_MS);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.overdue_callbacks WHERE case_id = %lld", (long long)id),
	             1, "the caller owed a call back since 2h ago is not listed");
	cr_expect(strstr(history(d, id, "case.close"), "dated before the case's reopen: recorded only"), "%s",
	          history(d, id, "case.close"));
	/* the reopened case is resolved again: a resolution in the figures (the
	 * superseded close is no turn in their chain, sql/063) */
	case_ev(c, "case.resolve", id, "", now - 1 * HOUR_MS);
	expect_status(d, id, "resolved");
	char *got = hl_sql_text(d, "SELECT concat_ws('|', (SELECT sum(cases_resolved) FROM hotline.daily_figures),"
	                           " (SELECT coalesce(sum(n), 0) FROM hotline.figure_facts WHERE metric = 'cases_resolved'))");
	cr_expect(got && strcmp(got, "2|2") == 0, "cases_resolved (rollup|recount) %s, want 2|2", got ? got : "(null)");
	/* a close dated after the reopen closes it */
	case_ev(c, "case.close", id, "", now - 30 * MIN_MS);
	expect_status(d, id, "closed");
	expect_rollup_is_recount(d);
}

/* Resolved 3h ago and closed 1h ago; a reopen dated 2h ago arrives last.
 * In order the close came after it: the case stays closed, no clock runs.
 * A resolve dated before a reopen is recorded only too, and the figures
 * agree with the case: it is no resolution (sql/063). */
HL_TEST(clocks_late, reopen_and_resolve_superseded_by_a_later_status)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "resolution = \"48h\"; update = \"24h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms();
	int64_t a = offer(c, "sr-1", "+8613900000511", now - 5 * HOUR_MS);
	case_ev(c, "case.resolve", a, "", now - 3 * HOUR_MS);
	case_ev(c, "case.close", a, "", now - 1 * HOUR_MS);
	case_ev(c, "case.reopen", a, "", now - 2 * HOUR_MS);
	expect_status(d, a, "closed");
	expect_clock(d, a, "resolution", "met");
	expect_clock(d, a, "update", "stopped");
	cr_expect_eq(hl_sql_int(d, "SELECT reopens FROM hotline.cases WHERE id = %lld", (long long)a), 0);
	cr_expect(strstr(history(d, a, "case.reopen"), "dated before the case's close: recorded only"), "%s",
	          history(d, a, "case.reopen"));

	int64_t b = offer(c, "sr-2", "+8613900000512", now - 5 * HOUR_MS);
	case_ev(c, "case.resolve", b, "", now - 4 * HOUR_MS);
	case_ev(c, "case.reopen", b, "", now - 2 * HOUR_MS);
	case_ev(c, "case.resolve", b, "", now - 3 * HOUR_MS);
	expect_status(d, b, "open");
	expect_clock(d, b, "resolution", "pending");
	expect_clock(d, b, "update", "pending");
	char *got = hl_sql_text(d, "SELECT concat_ws('|', (SELECT sum(cases_resolved) FROM hotline.daily_figures),"
	                           " (SELECT coalesce(sum(n), 0) FROM hotline.figure_facts WHERE metric = 'cases_resolved'))");
	cr_expect(got && strcmp(got, "2|2") == 0, "cases_resolved (rollup|recount) %s, want 2|2", got ? got : "(null)");
	expect_rollup_is_recount(d);
}

/* Resolved 6h ago, reopened 5h ago, resolved again 1h ago; the survey
 * system delivers a score of 1 answered 5h30 ago last.  Its dissatisfied
 * alert is raised, but the case resolved since is not reopened. */
HL_TEST(clocks_late, dissatisfied_survey_before_the_resolution_does_not_reopen)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "resolution = \"48h\"; update = \"0\"; survey = \"48h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms();
	int64_t id = offer(c, "ss-1", "+8613900000521", now - 7 * HOUR_MS);
	case_ev(c, "case.resolve", id, "", now - 6 * HOUR_MS);
	case_ev(c, "case.reopen", id, "", now - 5 * HOUR_MS);
	case_ev(c, "case.resolve", id, "", now - 1 * HOUR_MS);
	case_ev(c, "survey.result", id, ",\"score\":1", now - 5 * HOUR_MS - 30 * MIN_MS);
	expect_status(d, id, "resolved");
	cr_expect_eq(n_alerts(d, "dissatisfied", id), 1);
	expect_clock(d, id, "survey", "pending");
	expect_rollup_is_recount(d);
}

/* The agent ends the call 1h55 ago promising to call back; the call back
 * reaches the caller 1h30 ago and the agents' tool reports it at once; the
 * softphone's call.ended comes last.  In order the reach met the promise:
 * no callback is owed, and no callback_overdue fires (it was due 1h25 ago). */
HL_TEST(clocks_late, followup_dated_before_a_later_reach_owes_nothing)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"30m\"; update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms() - 2 * HOUR_MS;
	int64_t id = offer(c, "sf-1", "+8613900000531", t0);
	cr_assert_eq(call_ev(c, "call.answered", "sf-1", ",\"agent\":\"ann\"", t0), id);
	case_ev(c, "callback.attempt", id, ",\"result\":\"reached\",\"agent\":\"ann\"", t0 + 30 * MIN_MS);
	cr_assert_eq(call_ev(c, "call.ended", "sf-1", ",\"outcome\":\"followup\"", t0 + 5 * MIN_MS), id);
	hl_sleep_ms(1500); /* an overdue alert is raised within 1 s of its due time */
	cr_expect_eq(n_alerts(d, "callback_overdue", id), 0, "an overdue alert for a callback the caller had");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.overdue_callbacks WHERE case_id = %lld", (long long)id), 0);
	cr_expect(strstr(history(d, id, "call.ended"), "caller reached since: no callback owed"), "%s",
	          history(d, id, "call.ended"));
	expect_rollup_is_recount(d);
}

/* The caller hangs up 2h ago (a call back due 1h30 ago); their next call is
 * answered 1h50 ago, but the PBX bridge reports that answer only after the
 * supervisor closed the case 1h40 ago.  In order the answer met the call
 * back in time: daily_figures counts it in time, not dropped. */
HL_TEST(clocks_late, answer_dated_before_the_close_counts_the_callback_in_time)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"30m\"; update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms() - 2 * HOUR_MS;
	int64_t id = offer(c, "sa-1", "+8613900000541", t0);
	cr_assert_eq(call_ev(c, "call.abandoned", "sa-1", "", t0), id);
	cr_assert_eq(offer(c, "sa-2", "+8613900000541", t0 + 9 * MIN_MS), id);
	case_ev(c, "case.close", id, "", t0 + 20 * MIN_MS);
	cr_assert_eq(call_ev(c, "call.answered", "sa-2", ",\"agent\":\"bob\"", t0 + 10 * MIN_MS), id);
	expect_status(d, id, "closed");
	expect_clock(d, id, "callback", "met");
	cr_expect_eq(clock_ms(d, id, "callback", "met_at"), t0 + 10 * MIN_MS);
	char *got = hl_sql_text(d, "SELECT concat_ws('|', sum(callbacks_owed), sum(callbacks_in_time), sum(callbacks_dropped))"
	                           " FROM hotline.daily_figures");
	cr_expect(got && strcmp(got, "1|1|0") == 0, "owed|in time|dropped: %s, want 1|1|0", got ? got : "(null)");
	cr_expect(strstr(history(d, id, "call.answered"), "callback met before the close"), "%s",
	          history(d, id, "call.answered"));
	expect_rollup_is_recount(d);
}

/* The call is answered at t0+1m and ended at t0+2m with a promise to call
 * back; the PBX bridge, which lost the CONNECT, reports an abandonment at
 * t0+3m first, then the call.ended, then the answer.  The answer disproves
 * the abandonment, not the promise made after it: the call back is still
 * owed, due 30m after the promise, as in order.  (Deadlines ahead: a run
 * already breached is not moved back by a late debt, docs/rules.md.) */
HL_TEST(clocks_late, answer_of_a_call_reported_abandoned_leaves_the_promise_owed)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"30m\"; update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms() - 4 * MIN_MS;
	int64_t id = offer(c, "su-1", "+8613900000551", t0);
	cr_assert_eq(call_ev(c, "call.abandoned", "su-1", "", t0 + 3 * MIN_MS), id);
	cr_assert_eq(call_ev(c, "call.ended", "su-1", ",\"outcome\":\"followup\"", t0 + 2 * MIN_MS), id);
	cr_assert_eq(call_ev(c, "call.answered", "su-1", ",\"agent\":\"ann\"", t0 + 1 * MIN_MS), id);
	expect_clock(d, id, "callback", "pending");
	cr_expect_eq(clock_ms(d, id, "callback", "due_at"), t0 + 32 * MIN_MS);
	cr_expect(strstr(history(d, id, "call.answered"), "callback still owed"), "%s", history(d, id, "call.answered"));
	expect_rollup_is_recount(d);
}

/* The agent resolves the case 2h ago (in time); the supervisor closes it 1h
 * ago, and the close arrives first.  The resolve was refused ("case is
 * closed") and the figures lost it.  In order the case was resolved, then
 * closed: it is accepted, the case stays closed, and daily_figures counts
 * one resolution in time, rollup and recount alike; the same for a call
 * that ended "resolved" before the close. */
HL_TEST(clocks_late, resolve_dated_before_the_close_counts)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "resolution = \"48h\"; update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms();
	int64_t a = offer(c, "sv-1", "+8613900000561", now - 5 * HOUR_MS);
	case_ev(c, "case.close", a, "", now - 1 * HOUR_MS);
	case_ev(c, "case.resolve", a, ",\"resolution\":\"pothole filled\"", now - 2 * HOUR_MS);
	expect_status(d, a, "closed");
	expect_clock(d, a, "resolution", "met");
	cr_expect_eq(clock_ms(d, a, "resolution", "met_at"), now - 2 * HOUR_MS);
	cr_expect_eq(hl_sql_int(d, "SELECT hotline.ms(resolved_at) FROM hotline.cases WHERE id = %lld", (long long)a),
	             now - 2 * HOUR_MS);
	int64_t b = offer(c, "sv-2", "+8613900000562", now - 5 * HOUR_MS);
	case_ev(c, "case.close", b, "", now - 1 * HOUR_MS);
	cr_assert_eq(call_ev(c, "call.ended", "sv-2", ",\"outcome\":\"resolved\"", now - 3 * HOUR_MS), b);
	expect_status(d, b, "closed");
	expect_clock(d, b, "resolution", "met");
	char *got = hl_sql_text(d, "SELECT concat_ws('|', (SELECT sum(cases_resolved) FROM hotline.daily_figures),"
	                           " (SELECT sum(resolved_in_time) FROM hotline.daily_figures),"
	                           " (SELECT coalesce(sum(n), 0) FROM hotline.figure_facts WHERE metric = 'cases_resolved'))");
	cr_expect(got && strcmp(got, "2|2|2") == 0, "cases_resolved|resolved_in_time|recount %s, want 2|2|2",
	          got ? got : "(null)");
	expect_rollup_is_recount(d);
	/* what follows counts as before: a second late resolve of b is no new
	 * resolution; a reopen of a and its resolution are one more */
	case_ev(c, "case.resolve", b, "", now - 4 * HOUR_MS);
	case_ev(c, "case.reopen", a, "", now - 30 * MIN_MS);
	case_ev(c, "case.resolve", a, "", now - 10 * MIN_MS);
	expect_status(d, a, "resolved");
	got = hl_sql_text(d, "SELECT concat_ws('|', (SELECT sum(cases_resolved) FROM hotline.daily_figures),"
	                     " (SELECT coalesce(sum(n), 0) FROM hotline.figure_facts WHERE metric = 'cases_resolved'))");
	cr_expect(got && strcmp(got, "3|3") == 0, "cases_resolved (rollup|recount) %s, want 3|3", got ? got : "(null)");
	expect_rollup_is_recount(d);
}

/* review-rules3: on hold 3h ago, resumed 2h ago; the agent's "caller
 * informed" dated 2h30m ago (during the hold) arrives after the resume.  In
 * order the contact armed the update clock paused with its whole 3h and the
 * resume ran it: due 3h after the resume.  It ran from the
 * contact as if nothing was held (due 30 minutes early).  A hold dated
 * inside that resumed hold is recorded only: the case is not held again. */
HL_TEST(clocks_late, contact_dated_during_a_resumed_hold_runs_from_the_resume)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"30m\"; resolution = \"48h\"; update = \"3h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms();
	int64_t id = offer(c, "hr-1", "+8613900000511", now - 4 * HOUR_MS);
	case_ev(c, "case.hold", id, "", now - 3 * HOUR_MS);
	case_ev(c, "case.resume", id, "", now - 2 * HOUR_MS);
	case_ev(c, "case.update", id, ",\"caller_informed\":true", now - 2 * HOUR_MS - 30 * MIN_MS);
	expect_clock(d, id, "update", "pending");
	cr_expect_eq(clock_ms(d, id, "update", "due_at"), now - 2 * HOUR_MS + 3 * HOUR_MS);
	cr_expect_eq(hl_sql_int(d, "SELECT hotline.ms(last_hold_until) - hotline.ms(last_hold_from) FROM hotline.cases"
	                           " WHERE id = %lld", (long long)id), HOUR_MS);
	case_ev(c, "case.hold", id, "", now - 2 * HOUR_MS - 10 * MIN_MS);
	cr_expect_str_eq(hl_sql_text(d, "SELECT on_hold FROM hotline.cases WHERE id = %lld", (long long)id), "f");
	expect_clock(d, id, "resolution", "pending");
	cr_expect(strstr(history(d, id, "case.hold"), "resumed since: recorded only"), "%s", history(d, id, "case.hold"));
}

/* review-rules3: one number's calls 60, 50, 40, 30 and 20 minutes ago, then
 * a call dated 45 minutes ago delivered last (threshold 3 in 24h).  In
 * order the crossings are the 45th (60, 50, 45) and the 20th (40, 30, 20)
 * minute: two repeat_caller alerts.  The late call, dated before the 40th
 * minute's crossing, was not counted: one.  The caller's kept crossings
 * (sql/082) are those of the calls in order. */
HL_TEST(clocks_late, late_call_counts_toward_repeat_caller)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"30m\"; resolution = \"48h\"; update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms() / 1000 * 1000;
	static const int mins[] = {60, 50, 40, 30, 20, 45};
	for (int i = 0; i < 6; i++) {
		char call[16];
		snprintf(call, sizeof call, "rc-%d", i);
		offer(c, call, "+8613900000521", now - mins[i] * MIN_MS);
	}
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'repeat_caller'"), 2);
	cr_expect_eq(hl_sql_int(d, "SELECT hotline.ms(repeat_alerted_at) FROM hotline.callers"
	                           " WHERE caller = '+8613900000521'"), now - 20 * MIN_MS);
	cr_expect_str_eq(hl_sql_text(d, "SELECT array_length(repeat_crossings, 1) || ' ' || (hotline.ms(repeat_crossings[1]) = %lld)"
	                                " FROM hotline.callers WHERE caller = '+8613900000521'", (long long)(now - 45 * MIN_MS)),
	                 "2 true");
}
