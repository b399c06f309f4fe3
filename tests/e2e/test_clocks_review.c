/*
 * test_clocks_review.c - end-to-end tests for the defects the adversarial
 * review of the clocks, calendars and figures found (branch review-clocks;
 * suite `clocks_review`).  Each drives a real hotlined and PostgreSQL with
 * what a call centre sends, dated with explicit `at` values, and reads what
 * a supervisor reads: hotline.daily_figures, the alerts, the clocks.
 *
 * Design.  As test_clocks.c: the helpers of clocks_helpers.h, explicit `at`
 * in the past so that deadlines are exact and nothing waits on the wall
 * clock; the figures are checked both in the rollup (daily_figures) and
 * against the recount from the base rows (figure_facts).
 */
#include "clocks_helpers.h"

TestSuite(clocks_review, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 60);

#define HOUR_MS (3600 * 1000LL)

/* A case opened 10h ago with 5h to resolve goes on hold 1h later (4h left)
 * and is resolved during the hold, 1h ago: in time, its clock had 4h left.
 * The figures counted it late, comparing with the deadline from before the
 * hold (docs/rules.md, case.resolve). */
HL_TEST(clocks_review, resolved_on_hold_counts_in_time)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "resolution = \"5h\"; update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms();
	int64_t id = offer(c, "rh-1", "+8613900000401", now - 10 * HOUR_MS);
	case_ev(c, "case.hold", id, ",\"reason\":\"documents\"", now - 9 * HOUR_MS);
	case_ev(c, "case.resolve", id, "", now - 1 * HOUR_MS);
	expect_clock(d, id, "resolution", "met");
	cr_expect_leq(clock_ms(d, id, "resolution", "met_at"), clock_ms(d, id, "resolution", "due_at"),
	              "met on hold with 4h left, but after the deadline from before the hold");
	cr_expect_eq(hl_sql_int(d, "SELECT sum(resolved_in_time) FROM hotline.daily_figures"), 1,
	             "daily_figures counts the resolution on hold late");
	cr_expect_eq(hl_sql_int(d, "SELECT coalesce(sum(n), 0) FROM hotline.figure_facts"
	                           " WHERE metric = 'resolved_in_time'"), 1, "the recount counts it late");
	expect_rollup_is_recount(d);
}

/* The figures of one metric: the rollup's sum and the recount's, "r|f". */
static void expect_resolved(struct hl_d *d, const char *want, const char *why)
{
	char *got = hl_sql_text(d, "SELECT concat_ws('|', (SELECT sum(cases_resolved) FROM hotline.daily_figures),"
	                           " (SELECT coalesce(sum(n), 0) FROM hotline.figure_facts WHERE metric = 'cases_resolved'))");
	cr_assert(got && strcmp(got, want) == 0, "%s: cases_resolved (rollup|recount) %s, want %s", why,
	          got ? got : "(null)", want);
}

/* A merged case stays merged when it is reopened or resolved (recorded
 * only: its caller is called back when the case it was merged into is
 * resolved), so neither is a resolution in the figures; only a close ends
 * the merge, and a resolution after the close's reopen counts (sql/062).
 * Before, a no-op reopen made the next no-op resolve count. */
HL_TEST(clocks_review, merged_case_resolutions_are_not_counted)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms();
	int64_t a = offer(c, "mg-a", "+8613900000411", now - 100000);
	int64_t b = offer(c, "mg-b", "+8613900000412", now - 100000);
	cr_assert(a && b && a != b);
	hl_ev(c, "\"type\":\"case.merge\",\"case_id\":%lld,\"into\":%lld%s", (long long)a, (long long)b, at_field(now - 90000));
	case_ev(c, "case.resolve", a, "", now - 80000);
	expect_status(d, a, "merged");
	expect_resolved(d, "0|0", "case.resolve of a merged case");
	case_ev(c, "case.reopen", a, "", now - 70000);
	case_ev(c, "case.resolve", a, "", now - 60000);
	expect_status(d, a, "merged");
	expect_resolved(d, "0|0", "reopen then resolve of a merged case");
	case_ev(c, "case.close", a, "", now - 50000);
	case_ev(c, "case.reopen", a, "", now - 40000);
	case_ev(c, "case.resolve", a, "", now - 30000);
	expect_status(d, a, "resolved");
	expect_resolved(d, "1|1", "closed, reopened, resolved");
	expect_rollup_is_recount(d);
}

/* The agents' tool reports a reached call back at +40m at once; the PBX
 * reports the caller's own call, answered at +20m, later.  The callback was
 * owed from +0 (due +30m): met in time at +20m, and daily_figures says so. */
HL_TEST(clocks_review, callback_met_by_the_earliest_contact_counts_in_time)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"30m\"; update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms() - 2 * HOUR_MS, min = 60 * 1000LL;
	int64_t id = offer(c, "ec-1", "+8613900000421", t0);
	cr_assert_eq(call_ev(c, "call.abandoned", "ec-1", "", t0), id);
	case_ev(c, "callback.attempt", id, ",\"result\":\"reached\",\"agent\":\"ann\"", t0 + 40 * min);
	cr_assert_eq(offer(c, "ec-2", "+8613900000421", t0 + 19 * min), id);
	cr_assert_eq(call_ev(c, "call.answered", "ec-2", ",\"agent\":\"bob\"", t0 + 20 * min), id);
	expect_clock(d, id, "callback", "met");
	cr_expect_eq(clock_ms(d, id, "callback", "met_at"), t0 + 20 * min);
	char *got = hl_sql_text(d, "SELECT concat_ws('|', sum(callbacks_owed), sum(callbacks_in_time), sum(callbacks_late))"
	                           " FROM hotline.daily_figures");
	cr_expect(got && strcmp(got, "1|1|0") == 0, "owed|in time|late: %s, want 1|1|0", got ? got : "(null)");
	expect_rollup_is_recount(d);
}

/* c-1 abandoned at +0 and c-2 at +2m, c-2's abandonment reported first:
 * one callback owed since +0, due +30m (one run in the figures). */
HL_TEST(clocks_review, callback_owed_from_the_earliest_abandonment)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"30m\"; update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms() + 10 * 60 * 1000LL, min = 60 * 1000LL; /* deadlines ahead: no alert races */
	int64_t id = offer(c, "eb-1", "+8613900000431", t0);
	cr_assert_eq(offer(c, "eb-2", "+8613900000431", t0 + 2 * min), id);
	cr_assert_eq(call_ev(c, "call.abandoned", "eb-2", "", t0 + 2 * min), id);
	cr_assert_eq(call_ev(c, "call.abandoned", "eb-1", "", t0), id);
	cr_expect_eq(clock_ms(d, id, "callback", "due_at"), t0 + 30 * min);
	cr_expect_eq(clock_ms(d, id, "callback", "started_at"), t0);
	cr_expect_eq(hl_sql_int(d, "SELECT sum(callbacks_owed) FROM hotline.daily_figures"), 1);
	expect_rollup_is_recount(d);
}

/* hotlinectl case showed a paused clock's time left as raw milliseconds
 * ("(136800000 ms left when paused)"), and as its due time the deadline
 * from before the hold; a supervisor reads "1d23h" and "(on hold)". */
HL_TEST(clocks_review, hotlinectl_shows_time_left_readably)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "resolution = \"48h\"; update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms();
	int64_t id = offer(c, "ct-1", "+8613900000441", now - 10 * HOUR_MS);
	case_ev(c, "case.hold", id, "", now - 10 * HOUR_MS + 30 * 60 * 1000LL);
	const char *ctl = getenv("HOTLINECTL_BIN") ? getenv("HOTLINECTL_BIN") : "build/hotlinectl";
	char cmd[512], out[1 << 16];
	snprintf(cmd, sizeof cmd, "%s --unix %s case %lld 2>&1", ctl, d->sock, (long long)id);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	pclose(p);
	cr_assert(strstr(out, "(1d23h left when paused)"), "%.2000s", out);
	/* and no due time that the resume will move: the deadline from before the hold */
	cr_assert(strstr(out, "resolution  paused    (on hold)"), "%.2000s", out);
}

/* Resolved 3h ago, reopened 1h ago; the agent's hold dated 2h ago arrives
 * last.  The reopen ended that hold: the case stays open, its resolution
 * clock running from the reopen (it used to sit on hold, paused, until
 * someone resumed it). */
HL_TEST(clocks_review, late_hold_before_the_reopen_is_recorded_only)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "resolution = \"48h\"; update = \"0\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms();
	int64_t id = offer(c, "lh-1", "+8613900000451", now - 5 * HOUR_MS);
	case_ev(c, "case.resolve", id, "", now - 3 * HOUR_MS);
	case_ev(c, "case.reopen", id, "", now - 1 * HOUR_MS);
	case_ev(c, "case.hold", id, ",\"reason\":\"documents\"", now - 2 * HOUR_MS);
	expect_status(d, id, "open");
	cr_expect_eq(hl_sql_int(d, "SELECT on_hold::int FROM hotline.cases WHERE id = %lld", (long long)id), 0);
	expect_clock(d, id, "resolution", "pending");
	cr_expect_eq(clock_ms(d, id, "resolution", "due_at"), now - 1 * HOUR_MS + 48 * HOUR_MS);
	char *desc = hl_sql_text(d, "SELECT description FROM hotline.case_history WHERE case_id = %lld AND type = 'case.hold'",
	                         (long long)id);
	cr_expect(desc && strstr(desc, "which ended it: recorded only"), "%s", desc ? desc : "(null)");
}
