/*
 * test_rules_review.c - defects found by the adversarial review of the
 * clocks (review-clocks): each test feeds the pure rules what a real call
 * centre sends and checks what a supervisor, and the figures, must see.
 *
 *  - a case resolved while on hold is resolved in time when its paused
 *    resolution clock still had time left: the figures compare met_at with
 *    due_at, so the met clock's due_at must be the deadline as resumed at
 *    the resolution, not the deadline from before the hold;
 *  - a hold that arrives late, dated before the run of a clock started (a
 *    contact that restarted the update clock, the case's opening seen by a
 *    skewed clock) pauses the clock with at most its allowance left, as the
 *    same events in order would; one dated before the case's last reopen
 *    or resolution was ended by it and is recorded only;
 *  - a callback is met by the earliest contact since it was owed, and owed
 *    from the earliest abandonment since the last contact, whatever the
 *    order in which the PBX and the agents' tools deliver them;
 *  - a survey result dated before the resolution that armed the survey run
 *    (the survey system delivers in batches) answers an earlier survey and
 *    leaves the caller owed this one.
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

/* The update clock restarted at a contact at T0+5h (due T0+29h); a hold
 * dated T0+4h arrives afterwards.  In order, the contact during the hold
 * would have left the update clock paused with its whole 24h; the late hold
 * paused it with 25h left, more than sla.update allows. */
Test(review, late_hold_before_the_run_leaves_at_most_the_allowance)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(attempt(f, "e2", 100, "reached", T0 + 5 * HOUR));
	struct hl_clock *u = clk(f, 100, HL_CK_UPDATE);
	cr_assert_eq(u->due_at, T0 + 29 * HOUR);
	ok(case_ev(f, HL_EV_CASE_HOLD, "e3", 100, T0 + 4 * HOUR));
	cr_assert_eq(u->state, HL_CS_PAUSED);
	cr_assert_eq(u->remaining_ms, 24 * HOUR, "update paused with %lld ms left, more than its 24h",
	             (long long)u->remaining_ms);
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	cr_assert_eq(r->remaining_ms, 44 * HOUR);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e4", 100, T0 + 10 * HOUR));
	cr_assert_eq(u->due_at, T0 + 34 * HOUR);
	cr_assert_eq(r->due_at, T0 + 54 * HOUR);
	fx_free(f);
}

/* A softphone whose clock is two hours behind puts the case on hold "before"
 * the PBX opened it: the clocks cannot have more than their allowance left
 * (the description said "resolution paused, 2d2h left" of a 2d SLA). */
Test(review, hold_dated_before_the_case_opened)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 - 2 * HOUR));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	cr_assert_eq(r->state, HL_CS_PAUSED);
	cr_assert_eq(r->remaining_ms, 48 * HOUR, "%s", last_desc(f));
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->remaining_ms, 24 * HOUR);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 1 * HOUR));
	cr_assert_eq(r->due_at, T0 + 49 * HOUR);
	fx_free(f);
}

/* Resolved at T0+1h, reopened at T0+3h; a hold dated T0+2h arrives last.
 * In order the reopen ended that hold (a reopen ends a hold), and the case
 * would be open with its resolution clock running.  The late hold froze the
 * reopened case on hold, its clock paused with 2d1h left. */
Test(review, hold_dated_before_the_reopen_was_ended_by_it)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e2", 100, T0 + 1 * HOUR));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e3", 100, T0 + 3 * HOUR));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	struct hl_case *c = hl_world_case(f->w, 100);
	ok(case_ev(f, HL_EV_CASE_HOLD, "e4", 100, T0 + 2 * HOUR));
	cr_assert_not(c->on_hold, "a hold dated before the reopen put the reopened case on hold");
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->due_at, T0 + 51 * HOUR);
	cr_assert(strstr(last_desc(f), "which ended it: recorded only"), "%s", last_desc(f));
	/* a hold dated after the reopen holds it */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e5", 100, T0 + 4 * HOUR));
	cr_assert(c->on_hold);
	cr_assert_eq(r->state, HL_CS_PAUSED);
	cr_assert_eq(r->remaining_ms, 47 * HOUR);
	/* and a hold of a resolved case dated before its resolution is ended too */
	ok(offered(f, "e6", "c-2", P2, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e7", 101, T0 + 2 * HOUR));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e8", 101, T0 + 1 * HOUR));
	cr_assert_not(hl_world_case(f->w, 101)->on_hold);
	fx_free(f);
}

/* Abandoned at 09:00 (callback due 09:30).  The agent's tool reports a
 * reached call back at 09:40 at once; the PBX reports the caller's own call
 * back, answered at 09:20, ten minutes later.  The caller was reached at
 * 09:20, in time: met_at must be 09:20, or callbacks_in_time counts it late. */
Test(review, callback_met_by_the_earliest_contact)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->due_at, T0 + 30 * MIN);
	ok(attempt(f, "e3", 100, "reached", T0 + 40 * MIN));
	cr_assert_eq(cb->state, HL_CS_MET);
	cr_assert_eq(cb->met_at, T0 + 40 * MIN);
	ok(offered(f, "e4", "c-2", P1, T0 + 19 * MIN));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e5", "c-2", T0 + 20 * MIN));
	cr_assert_eq(cb->state, HL_CS_MET);
	cr_assert_eq(cb->met_at, T0 + 20 * MIN, "met_at stayed at the later contact: counted late");
	cr_assert(cb->dirty);
	cr_assert(strstr(last_desc(f), "callback met earlier"), "%s", last_desc(f));
	/* a contact dated before the debt does not move it */
	ok(attempt(f, "e6", 100, "reached", T0 - 5 * MIN));
	cr_assert_eq(cb->met_at, T0 + 20 * MIN);
	fx_free(f);
}

/* The caller abandons c-1 at 09:00 and c-2 at 09:02; the PBX bridge reports
 * c-2's abandonment first (its grace period ran out first).  The caller has
 * been owed a call back since 09:00: due 09:30, not 09:32, and one run. */
Test(review, callback_owed_from_the_earliest_abandonment)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(offered(f, "e2", "c-2", P1, T0 + 2 * MIN));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e3", "c-2", T0 + 2 * MIN));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->due_at, T0 + 32 * MIN);
	int32_t seq = cb->seq;
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e4", "c-1", T0));
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->seq, seq, "one debt, one run");
	cr_assert_eq(cb->started_at, T0, "owed since the first abandonment");
	cr_assert_eq(cb->due_at, T0 + 30 * MIN, "due from the later abandonment");
	cr_assert_eq(cb->warn_at, T0 + 24 * MIN);
	cr_assert(strstr(last_desc(f), "owed since earlier"), "%s", last_desc(f));
	/* a debt from before a contact was met by it: a reply dated 08:50,
	 * reported after a reach at 08:55 and an abandonment at 09:00, does
	 * not move the 09:00 debt back */
	ok(attempt(f, "e8", 100, "reached", T0 + 40 * MIN));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e9", "c-2", T0 + 60 * MIN));
	cr_assert_eq(cb->due_at, T0 + 90 * MIN);
	struct hl_event fu = E(HL_EV_CALL_ENDED, "e10", T0 + 35 * MIN);
	fu.call_id = "c-1";
	fu.outcome = "followup";
	ok(apply(f, fu));
	cr_assert_eq(cb->started_at, T0 + 60 * MIN, "%s", last_desc(f));
	cr_assert_eq(cb->due_at, T0 + 90 * MIN);
	/* once its alert is out (breached) nothing moves */
	ok(offered(f, "e5", "c-3", P2, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e6", "c-3", T0 + 10 * MIN));
	struct hl_clock *cb2 = clk(f, 101, HL_CK_CALLBACK);
	fire(f, 101, HL_CK_CALLBACK, cb2->seq, T0 + 41 * MIN);
	cr_assert_eq(cb2->state, HL_CS_BREACHED);
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e7", "c-3", T0 + 5 * MIN));
	cr_assert_eq(cb2->due_at, T0 + 40 * MIN);
	fx_free(f);
}

/* Resolved at +1h (survey owed), reopened at +2h when the caller rang back,
 * resolved again at +6h (a new survey owed).  The survey system reports the
 * first survey, answered at +1h30, in its batch at +7h: that answer is not
 * the survey of the +6h resolution, which is still owed. */
Test(review, survey_result_before_the_survey_run_leaves_it_owed)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = 4 * HOUR;
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e2", 100, T0 + 1 * HOUR));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e3", 100, T0 + 2 * HOUR));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e4", 100, T0 + 6 * HOUR));
	struct hl_clock *sv = clk(f, 100, HL_CK_SURVEY);
	cr_assert_eq(sv->state, HL_CS_PENDING);
	cr_assert_eq(sv->started_at, T0 + 6 * HOUR);
	ok(survey(f, "e5", 100, 4, T0 + 90 * MIN));
	cr_assert_eq(sv->state, HL_CS_PENDING, "the +1h30 answer met the survey owed since +6h");
	cr_assert(strstr(last_desc(f), "survey still owed"), "%s", last_desc(f));
	ok(survey(f, "e6", 100, 5, T0 + 7 * HOUR));
	cr_assert_eq(sv->state, HL_CS_MET);
	cr_assert_eq(sv->met_at, T0 + 7 * HOUR);
	fx_free(f);
}
