/*
 * test_rules_late.c - events that arrive late, out of order of their `at`
 * (CONTRACT 3: deadlines are computed from `at`, not from receipt).  A PBX
 * or an agent's tool may deliver an event minutes after later ones of the
 * same case; each event must act at its own `at`:
 *
 *  - a contact dated before the callback was owed does not meet it (the
 *    caller abandoned again after that contact);
 *  - a contact dated before the last one, or before the update clock's run
 *    began, does not pull the update deadline back;
 *  - an abandonment dated before a later contact owes no call back (the
 *    caller has been reached since);
 *  - a resume dated before its hold does not eat into the time left;
 *  - a hold dated before a deadline pauses the clock even when the wall
 *    clock breached it before the hold arrived.
 *
 * The fixture is rules_fixtures.h (wall clock).
 */
#include <criterion/criterion.h>

#include "rules_fixtures.h"

static struct hl_outcome *informed(struct fx *f, const char *id, int64_t case_id, hl_ms at)
{
	struct hl_event e = E(HL_EV_CASE_UPDATE, id, at);
	e.case_id = case_id;
	e.caller_informed = 1;
	return apply(f, e);
}

static struct hl_outcome *abandoned_by(struct fx *f, const char *id, const char *call, const char *caller, hl_ms at)
{
	struct hl_event e = E(HL_EV_CALL_ABANDONED, id, at);
	e.call_id = (char *)call;
	snprintf(e.caller, sizeof e.caller, "%s", caller);
	return apply(f, e);
}

/* c-1 answered at 09:01, but its answer arrives after c-2, abandoned at
 * 09:30: the caller is still owed the call back c-2 made owed. */
Test(late, answer_before_the_abandonment_does_not_meet_the_callback)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(abandoned_by(f, "e2", "c-2", P1, T0 + 30 * MIN));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->due_at, T0 + 60 * MIN);
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e3", "c-1", T0 + MIN));
	cr_assert_eq(cb->state, HL_CS_PENDING, "the 09:01 answer was before the 09:30 abandonment");
	cr_assert_eq(cb->seq, 1);
	cr_assert_eq(cb->due_at, T0 + 60 * MIN);
	cr_assert(strstr(last_desc(f), "callback still owed"), "%s", last_desc(f));
	/* the answer itself is recorded and is a contact for the update clock */
	cr_assert_eq(hl_world_call(f->w, "c-1")->state, HL_CALL_ANSWERED);
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + MIN);
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->due_at, T0 + MIN + 24 * HOUR);
	/* the same for a reached attempt dated before the debt */
	ok(attempt(f, "e4", 100, "reached", T0 + 2 * MIN));
	cr_assert_eq(cb->state, HL_CS_PENDING);
	/* a contact at or after the abandonment meets it */
	ok(attempt(f, "e5", 100, "reached", T0 + 30 * MIN));
	cr_assert_eq(cb->state, HL_CS_MET);
	fx_free(f);
}

/* The caller was last told at 19:00; a note saying they were told at 14:00
 * arrives afterwards.  The update clock stays due 19:00 + 24h. */
Test(late, earlier_contact_does_not_pull_the_update_back)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(attempt(f, "e2", 100, "reached", T0 + 10 * HOUR));
	struct hl_clock *u = clk(f, 100, HL_CK_UPDATE);
	cr_assert_eq(u->due_at, T0 + 34 * HOUR);
	int32_t seq = u->seq;
	ok(informed(f, "e3", 100, T0 + 5 * HOUR));
	cr_assert_eq(u->due_at, T0 + 34 * HOUR, "an older contact moved the update deadline back");
	cr_assert_eq(u->seq, seq);
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 10 * HOUR);
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e4", "c-1", T0 + 6 * HOUR));
	cr_assert_eq(u->due_at, T0 + 34 * HOUR);
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 10 * HOUR);
	/* nor one dated before a reopen restarted the clock */
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e5", 100, T0 + 11 * HOUR));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e6", 100, T0 + 20 * HOUR));
	cr_assert_eq(u->due_at, T0 + 44 * HOUR);
	ok(informed(f, "e7", 100, T0 + 15 * HOUR));
	cr_assert_eq(u->due_at, T0 + 44 * HOUR, "a contact before the reopen restarted the update clock");
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 15 * HOUR);
	/* a newer contact still restarts it */
	ok(informed(f, "e8", 100, T0 + 21 * HOUR));
	cr_assert_eq(u->due_at, T0 + 45 * HOUR);
	fx_free(f);
}

/* c-2 abandoned at 09:05; the caller rang again (c-3) and was answered at
 * 09:10, and those events came first.  Nobody owes a call back. */
Test(late, abandonment_before_a_later_contact_owes_nothing)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-3", P1, T0 + 8 * MIN));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e2", "c-3", T0 + 10 * MIN));
	ok(abandoned_by(f, "e3", "c-2", P1, T0 + 5 * MIN));
	cr_assert_eq(hl_world_call(f->w, "c-2")->case_id, 100);
	cr_assert_eq(hl_world_call(f->w, "c-2")->state, HL_CALL_ABANDONED, "the abandonment is still recorded");
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->seq, 0, "callback armed although the caller was reached afterwards");
	cr_assert_eq(hl_clock_next_fire(cb), 0);
	cr_assert(strstr(last_desc(f), "reached since"), "%s", last_desc(f));
	/* at the same instant as the contact, or after it, it is owed */
	ok(abandoned_by(f, "e4", "c-4", P1, T0 + 10 * MIN));
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->due_at, T0 + 40 * MIN);
	fx_free(f);
}

/* c-2 abandoned at 09:05; an agent told the caller something at 09:10
 * (case.update caller_informed: perhaps a text message), and that update
 * came first.  In order the update would not meet the callback, so out of
 * order it must not waive it either: only a reach (an answer, a reached
 * call back) dated after the abandonment does.  Before sql/060 the rule
 * read last_contact_at, which caller_informed moves too. */
Test(late, abandonment_before_a_later_caller_informed_is_still_owed)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e2", "c-1", T0 + 1 * MIN));
	ok(informed(f, "e3", 100, T0 + 10 * MIN));
	ok(abandoned_by(f, "e4", "c-2", P1, T0 + 5 * MIN));
	cr_assert_eq(hl_world_call(f->w, "c-2")->case_id, 100);
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->state, HL_CS_PENDING, "a caller_informed waived the call back owed before it: %s", last_desc(f));
	cr_assert_eq(cb->due_at, T0 + 35 * MIN);
	cr_assert_eq(hl_world_case(f->w, 100)->last_reached_at, T0 + 1 * MIN, "the answer is the last reach");
	/* the same, in order: the update does not meet it either */
	struct fx *g = fx_new();
	ok(offered(g, "e1", "c-1", P1, T0));
	ok(on_call(g, HL_EV_CALL_ANSWERED, "e2", "c-1", T0 + 1 * MIN));
	ok(abandoned_by(g, "e4", "c-2", P1, T0 + 5 * MIN));
	ok(informed(g, "e3", 100, T0 + 10 * MIN));
	cr_assert_eq(clk(g, 100, HL_CK_CALLBACK)->state, HL_CS_PENDING);
	cr_assert_eq(clk(g, 100, HL_CK_CALLBACK)->due_at, cb->due_at, "in order and out of order alike");
	fx_free(g);
	fx_free(f);
}

/* Hold at 12:00 with 10h of resolution left; the resume is dated 11:00
 * (a skewed client).  The clock resumes from the hold, with all 10h. */
Test(late, resume_dated_before_the_hold_keeps_the_time_left)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 38 * HOUR));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	cr_assert_eq(r->remaining_ms, 10 * HOUR);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 37 * HOUR));
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->due_at, T0 + 48 * HOUR, "the resume ate into the time left");
	fx_free(f);
}

/* Opened 09:00 (resolution 48h); on hold from 10:00 to 39h later; resolved
 * at T0+70h.  The hold and resume arrive after the wall clock breached the
 * resolution clock (a late delivery, a history import): by `at` the case was
 * on hold before its deadline, so the deadline moves back by the 29h held,
 * to T0+77h, and the resolution is in time.  No second alert. */
Test(late, hold_dated_before_the_deadline_pauses_a_clock_breached_meanwhile)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	fire(f, 100, HL_CK_RESOLUTION, r->seq, T0 + 60 * HOUR);
	cr_assert_eq(r->state, HL_CS_BREACHED);
	cr_assert_eq(count_alerts(f, "resolution_overdue"), 1);
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 1 * HOUR));
	cr_assert_eq(r->state, HL_CS_PAUSED, "a hold dated before the deadline left the clock breached");
	cr_assert_eq(r->remaining_ms, 47 * HOUR);
	cr_assert_eq(r->breached_at, 0);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 30 * HOUR));
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->due_at, T0 + 77 * HOUR, "the deadline did not move back by the time on hold");
	/* the moved deadline passes on the wall clock too before the resolution arrives */
	fire(f, 100, HL_CK_RESOLUTION, r->seq, T0 + 80 * HOUR);
	cr_assert_eq(count_alerts(f, "resolution_overdue"), 1, "the breach was alerted twice");
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e4", 100, T0 + 70 * HOUR));
	cr_assert_eq(r->state, HL_CS_MET);
	cr_assert_leq(r->met_at, r->due_at, "resolved in time");
	cr_assert(strstr(last_desc(f), "resolution met"), "%s", last_desc(f));
	cr_assert_null(strstr(last_desc(f), "(late)"), "the history calls an in-time resolution late: %s", last_desc(f));
	/* dated after the deadline: the breach stands */
	ok(offered(f, "e5", "c-2", P2, T0));
	struct hl_clock *r2 = clk(f, 101, HL_CK_RESOLUTION);
	fire(f, 101, HL_CK_RESOLUTION, r2->seq, T0 + 60 * HOUR);
	ok(case_ev(f, HL_EV_CASE_HOLD, "e6", 101, T0 + 49 * HOUR));
	cr_assert_eq(r2->state, HL_CS_BREACHED);
	fx_free(f);
}

/* The guard above must not keep a call back owed by a call that was
 * answered after all: the PBX inferred c-1 abandoned at 09:05, but its
 * answer (at 09:02) comes later.  The caller was reached on that call. */
Test(late, answer_of_an_abandoned_call_still_meets_its_callback)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0 + 5 * MIN));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->state, HL_CS_PENDING);
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e3", "c-1", T0 + 2 * MIN));
	cr_assert_eq(cb->state, HL_CS_MET);
	cr_assert_eq(hl_world_call(f->w, "c-1")->state, HL_CALL_ENDED);
	fx_free(f);
}

/* Three calls from one number within 20 minutes (threshold 3, window 24h),
 * delivered 09:20, 09:00, 09:10: the third one delivered completes the
 * crossing, one repeat_caller alert.  Counting only the window ending at
 * the late call's own `at` saw two calls each time and never alerted. */
Test(late, repeat_caller_counts_calls_delivered_out_of_order)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0 + 20 * MIN));
	ok(offered(f, "e2", "c-2", P1, T0));
	cr_assert_eq(count_alerts(f, "repeat_caller"), 0);
	ok(offered(f, "e3", "c-3", P1, T0 + 10 * MIN));
	cr_assert_eq(count_alerts(f, "repeat_caller"), 1, "three calls in 20 minutes, no alert");
	struct hl_caller *r = hl_world_caller(f->w, P1);
	cr_assert_eq(r->repeat_alerted_at, T0 + 20 * MIN, "the crossing is the window's last call");
	/* one alert per crossing: a fourth late call inside it raises nothing */
	ok(offered(f, "e4", "c-4", P1, T0 + 5 * MIN));
	cr_assert_eq(count_alerts(f, "repeat_caller"), 1);
	/* a late call whose windows stay below the threshold raises nothing
	 * (a window: at - window < c <= at) */
	ok(offered(f, "e5", "c-5", P2, T0 + 30 * HOUR));
	ok(offered(f, "e6", "c-6", P2, T0));
	ok(offered(f, "e7", "c-7", P2, T0 + 6 * HOUR));
	cr_assert_eq(count_alerts(f, "repeat_caller"), 1);
	fx_free(f);
}
