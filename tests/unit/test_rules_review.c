/*
 * test_rules_review.c - defects found by the adversarial review of the
 * clocks (review-clocks): each test feeds the pure rules what a real call
 * centre sends and checks what a supervisor, and the figures, must see.
 *
 *  - a case resolved while on hold is resolved in time when its paused
 *    resolution clock still had time left: the figures compare met_at with
 *    due_at, so the met clock's due_at must be the deadline as resumed at
 *    the resolution, not the deadline from before the hold.
 *
 * The fixture is rules_fixtures.h (wall clock).
 */
#include <criterion/criterion.h>

#include "rules_fixtures.h"

/* Opened 09:00 with 48h to resolve; on hold from T0+10h (38h left); the
 * department's answer comes and the case is resolved at T0+60h without a
 * resume (the hold simply ends with the resolution).  The clock was paused
 * with 38h left: resolved in time, and its deadline is the resolution's
 * instant plus nothing consumed - T0+60h+38h as if resumed then. */
Test(review, resolved_while_on_hold_is_in_time)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 10 * HOUR));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	cr_assert_eq(r->state, HL_CS_PAUSED);
	cr_assert_eq(r->remaining_ms, 38 * HOUR);
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e3", 100, T0 + 60 * HOUR));
	cr_assert_eq(r->state, HL_CS_MET);
	cr_assert_eq(r->met_at, T0 + 60 * HOUR);
	cr_assert_leq(r->met_at, r->due_at, "resolved while paused with 38h left, but met_at %lld > due_at %lld: "
	              "the figures count it late", (long long)r->met_at, (long long)r->due_at);
	cr_assert_eq(r->due_at, T0 + 98 * HOUR);
	cr_assert_eq(r->remaining_ms, 0);
	cr_assert_null(strstr(last_desc(f), "(late)"), "%s", last_desc(f));
	fx_free(f);
}
