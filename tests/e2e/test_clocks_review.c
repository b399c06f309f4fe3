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
}
