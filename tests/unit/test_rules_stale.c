/*
 * test_rules_stale.c - events delivered after later ones of the same case
 * (review-rules2): each must leave the case as the same events in the order
 * of their `at` would (CONTRACT 3: every event acts at its own `at`).
 *
 *  - a case.close, case.resolve (or call.ended outcome resolved) dated
 *    before the case's last reopen was superseded by that reopen: in order
 *    it closed or resolved the case before the reopen opened it again, so
 *    delivered late it is recorded only and the reopened case stays open;
 *  - a case.reopen dated before the case's resolution or close was
 *    superseded by it: recorded only, the case stays resolved or closed;
 *  - a dissatisfied survey dated before the case's latest resolution
 *    raises its alert but does not reopen the case that was resolved since;
 *  - a callback debt (call.ended followup, a department's reply, ...) dated
 *    before the caller was last reached was met by that reach in order:
 *    delivered late it owes nothing, as a late abandonment owes nothing.
 *
 * Each test first checks the final state the events give in the order of
 * their `at`, then the same events delivered out of order.  The fixture
 * is rules_fixtures.h (wall clock).
 */
#include <criterion/criterion.h>

#include "rules_fixtures.h"

/* The history line starts with these words. */
static void starts(struct fx *f, const char *words)
{
	cr_assert(strncmp(last_desc(f), words, strlen(words)) == 0, "%s", last_desc(f));
}

static enum hl_status status(struct fx *f, int64_t id)
{
	return hl_world_case(f->w, id)->status;
}

/* Resolved at +1h, reopened at +3h (the caller rang: not done); the
 * supervisor's close, dated +2h, is delivered last.  In order the case was
 * closed at +2h and reopened at +3h: open, its clocks running.  Closed, the
 * caller's reopened matter dropped out of every list. */
Test(stale, close_dated_before_the_reopen_is_recorded_only)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e2", 100, T0 + 1 * HOUR));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e3", 100, T0 + 3 * HOUR));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e4", "c-1", T0 + 3 * HOUR));
	struct hl_outcome *o = case_ev(f, HL_EV_CASE_CLOSE, "e5", 100, T0 + 2 * HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_eq(status(f, 100), HL_ST_OPEN, "a close dated before the reopen closed the reopened case: %s",
	             last_desc(f));
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_PENDING);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->due_at, T0 + 51 * HOUR);
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_PENDING);
	cr_assert_eq(hl_world_case(f->w, 100)->closed_at, 0);
	/* the figures (sql/063) read these words at the start of the line */
	starts(f, "close of case 100 dated before the case's reopen: recorded only");
	/* a close dated after the reopen closes it */
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e6", 100, T0 + 4 * HOUR));
	cr_assert_eq(status(f, 100), HL_ST_CLOSED);
	fx_free(f);
}

/* Resolved at +1h, reopened at +3h; a resolve dated +2h (the agent's
 * second click, or the PBX's "resolved" outcome of the first call) arrives
 * last.  In order it fell on a resolved case: recorded only. */
Test(stale, resolve_dated_before_the_reopen_is_recorded_only)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e2", 100, T0 + 1 * HOUR));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e3", 100, T0 + 3 * HOUR));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e4", 100, T0 + 2 * HOUR));
	cr_assert_eq(status(f, 100), HL_ST_OPEN, "%s", last_desc(f));
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_PENDING);
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->state, HL_CS_PENDING);
	starts(f, "resolution of case 100 dated before the case's reopen: recorded only");
	/* the same for a call that ended "resolved" before the reopen, said
	 * before the sender's call_id */
	ok(ended(f, "e5", "c-1", "resolved", T0 + 2 * HOUR));
	cr_assert_eq(status(f, 100), HL_ST_OPEN, "%s", last_desc(f));
	starts(f, "resolution of case 100 dated before the case's reopen: recorded only; call c-1 ended (resolved)");
	cr_assert_eq(hl_world_call(f->w, "c-1")->state, HL_CALL_ENDED, "the call itself is recorded");
	/* a resolve dated after the reopen resolves it */
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e6", 100, T0 + 5 * HOUR));
	cr_assert_eq(status(f, 100), HL_ST_RESOLVED);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->met_at, T0 + 5 * HOUR);
	fx_free(f);
}

/* Resolved at +1h, reopened at +2h, closed at +3h; the reopen is delivered
 * last.  In order: closed.  Reopened, the case ran clocks for a matter the
 * supervisor had closed. */
Test(stale, reopen_dated_before_the_close_is_recorded_only)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e2", 100, T0 + 1 * HOUR));
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e3", 100, T0 + 3 * HOUR));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e4", 100, T0 + 2 * HOUR));
	cr_assert_eq(status(f, 100), HL_ST_CLOSED, "%s", last_desc(f));
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_MET);
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->state, HL_CS_STOPPED);
	starts(f, "reopen of case 100 dated before the case's close: recorded only");
	/* and one dated before a resolution leaves it resolved */
	ok(offered(f, "e5", "c-2", P2, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e6", 101, T0 + 3 * HOUR));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e7", 101, T0 + 2 * HOUR));
	cr_assert_eq(status(f, 101), HL_ST_RESOLVED, "%s", last_desc(f));
	cr_assert_eq(hl_world_case(f->w, 101)->resolved_at, T0 + 3 * HOUR);
	/* a reopen dated after the resolution reopens it */
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e8", 101, T0 + 4 * HOUR));
	cr_assert_eq(status(f, 101), HL_ST_OPEN);
	fx_free(f);
}

/* Resolved at +1h, reopened at +2h (the caller rang back), resolved again
 * at +6h.  The survey system delivers a score of 1, answered at +1h30, at
 * +7h.  In order it reopened the case at +1h30, which was resolved at +6h.
 * Its dissatisfied alert is raised; the case stays resolved. */
Test(stale, dissatisfied_survey_before_the_resolution_does_not_reopen)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = 4 * HOUR;
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e2", 100, T0 + 1 * HOUR));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e3", 100, T0 + 2 * HOUR));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e4", 100, T0 + 6 * HOUR));
	ok(survey(f, "e5", 100, 1, T0 + 90 * MIN));
	cr_assert_eq(count_alerts(f, "dissatisfied"), 1);
	cr_assert_eq(status(f, 100), HL_ST_RESOLVED, "%s", last_desc(f));
	cr_assert_eq(clk(f, 100, HL_CK_SURVEY)->state, HL_CS_PENDING, "the +6h resolution's survey is still owed");
	cr_assert_eq(hl_world_case(f->w, 100)->reopens, 1);
	cr_assert(strstr(last_desc(f), "; dated before the case's resolution: case 100 not reopened"), "%s", last_desc(f));
	/* a low score after the resolution reopens it */
	ok(survey(f, "e6", 100, 2, T0 + 7 * HOUR));
	cr_assert_eq(status(f, 100), HL_ST_OPEN);
	fx_free(f);
}

/* The agent ends c-1 at 09:05 promising to call back; the call back
 * reaches the caller at 09:30 and the agents' tool reports it at once; the
 * softphone's call.ended comes last.  In order the 09:30 reach met the
 * 09:05 promise: nothing is owed, and no callback_overdue may fire at 09:35. */
Test(stale, followup_dated_before_a_later_reach_owes_nothing)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e2", "c-1", T0));
	ok(attempt(f, "e3", 100, "reached", T0 + 30 * MIN));
	ok(ended(f, "e4", "c-1", "followup", T0 + 5 * MIN));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert(cb->state != HL_CS_PENDING, "a followup met by a later reach is owed again: %s", last_desc(f));
	cr_assert(strstr(last_desc(f), "caller reached since: no callback owed"), "%s", last_desc(f));
	fire(f, 100, HL_CK_CALLBACK, cb->seq, T0 + 40 * MIN);
	cr_assert_eq(count_alerts(f, "callback_overdue"), 0);
	/* a followup after the reach is owed */
	ok(ended(f, "e5", "c-1", "followup", T0 + 31 * MIN));
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->due_at, T0 + 61 * MIN);
	fx_free(f);
}

/* Abandoned at 09:00 (callback due 09:30); the caller's next call is
 * answered at 09:10, but the PBX bridge reports that answer only after the
 * supervisor's close at 09:20.  In order the answer met the callback in
 * time and the close stopped nothing owed: the figures count a callback in
 * time, not one dropped.  The same for a reached call back the agents'
 * tool reports late; a contact dated after the close changes nothing. */
Test(stale, contact_dated_before_the_close_meets_the_callback_it_stopped)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	ok(offered(f, "e3", "c-2", P1, T0 + 9 * MIN));
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e4", 100, T0 + 20 * MIN));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->state, HL_CS_STOPPED);
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e5", "c-2", T0 + 10 * MIN));
	cr_assert_eq(cb->state, HL_CS_MET, "the 09:10 answer, dated before the close, left the callback dropped: %s",
	             last_desc(f));
	cr_assert_eq(cb->met_at, T0 + 10 * MIN);
	cr_assert(cb->dirty);
	cr_assert_eq(hl_world_case(f->w, 100)->last_reached_at, T0 + 10 * MIN);
	cr_assert_eq(hl_world_case(f->w, 100)->status, HL_ST_CLOSED);
	cr_assert(strstr(last_desc(f), "callback met before the close"), "%s", last_desc(f));

	ok(offered(f, "e6", "c-3", P2, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e7", "c-3", T0));
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e8", 101, T0 + 50 * MIN));
	struct hl_clock *cb2 = clk(f, 101, HL_CK_CALLBACK);
	/* after the close: recorded only */
	ok(attempt(f, "e9", 101, "reached", T0 + 55 * MIN));
	cr_assert_eq(cb2->state, HL_CS_STOPPED);
	/* before the debt: the caller was still owed the call back */
	ok(attempt(f, "e10", 101, "reached", T0 - 5 * MIN));
	cr_assert_eq(cb2->state, HL_CS_STOPPED);
	/* before the close, late (after the 09:30 deadline): met late */
	ok(attempt(f, "e11", 101, "reached", T0 + 40 * MIN));
	cr_assert_eq(cb2->state, HL_CS_MET);
	cr_assert_eq(cb2->met_at, T0 + 40 * MIN);
	cr_assert(strstr(last_desc(f), "callback met before the close (late)"), "%s", last_desc(f));
	fx_free(f);
}

/* c-1 is answered at 09:01 and the agent ends it at 09:05 promising to
 * call back; the PBX bridge, which lost the CONNECT, infers an abandonment
 * of c-1 at 09:10 and reports it first, then the softphone's call.ended,
 * then the 09:01 answer.  The answer undoes the abandonment it disproves,
 * but not the 09:05 promise, made after it: the caller is still owed the
 * call back, as in order.  (The answer of a call whose abandonment made
 * the debt still meets it: test_rules_late.c.) */
Test(stale, answer_of_a_call_reported_abandoned_leaves_an_earlier_debt_owed)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0 + 10 * MIN));
	ok(ended(f, "e3", "c-1", "followup", T0 + 5 * MIN));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->started_at, T0 + 5 * MIN);
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e4", "c-1", T0 + 1 * MIN));
	cr_assert_eq(cb->state, HL_CS_PENDING, "the 09:01 answer met the 09:05 promise: %s", last_desc(f));
	cr_assert_eq(cb->due_at, T0 + 35 * MIN);
	cr_assert(strstr(last_desc(f), "callback still owed"), "%s", last_desc(f));
	cr_assert_eq(hl_world_call(f->w, "c-1")->answered_at, T0 + 1 * MIN);
	fx_free(f);
}

/* The agent resolves the case at 11:00; the supervisor closes it at 12:00
 * and that close arrives first.  The resolve was refused ("case is
 * closed"): the agent's tool got an error for a real resolution and the
 * figures lost it.  In order the case was resolved at 11:00 (in time) and
 * then closed: it is recorded as such, and stays closed.  The same for a
 * call that ended "resolved" before the close. */
Test(stale, resolve_dated_before_the_close_resolves_the_closed_case)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e2", 100, T0 + 3 * HOUR));
	struct hl_outcome *o = case_ev(f, HL_EV_CASE_RESOLVE, "e3", 100, T0 + 2 * HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->status, HL_ST_CLOSED);
	cr_assert_eq(c->resolved_at, T0 + 2 * HOUR);
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	cr_assert_eq(r->state, HL_CS_MET, "%s", last_desc(f));
	cr_assert_eq(r->met_at, T0 + 2 * HOUR);
	cr_assert(r->dirty);
	starts(f, "resolution of case 100 dated before the case's close: resolved before it");
	/* twice: already resolved */
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e4", 100, T0 + 1 * HOUR));
	cr_assert_eq(c->resolved_at, T0 + 2 * HOUR);
	cr_assert_eq(r->met_at, T0 + 2 * HOUR);
	/* dated after the close: refused, as before */
	struct hl_event late = E(HL_EV_CASE_RESOLVE, "e5", T0 + 4 * HOUR);
	late.case_id = 100;
	refused(f, late, HL_E_BAD_REQUEST, "case_id: case 100 is closed");

	/* call.ended "resolved" dated before the close */
	ok(offered(f, "e6", "c-2", P2, T0));
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e7", 101, T0 + 3 * HOUR));
	ok(ended(f, "e8", "c-2", "resolved", T0 + 2 * HOUR));
	cr_assert_eq(hl_world_case(f->w, 101)->resolved_at, T0 + 2 * HOUR);
	cr_assert_eq(clk(f, 101, HL_CK_RESOLUTION)->state, HL_CS_MET);
	starts(f, "resolution of case 101 dated before the case's close: resolved before it; resolution met; "
	          "call c-2 ended (resolved)");
	/* dated before a reopen that came before the close: in order that
	 * resolve fell on a resolved case (recorded only) */
	ok(offered(f, "e9", "c-3", "+8613800000003", T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e10", 102, T0 + 1 * HOUR));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e11", 102, T0 + 2 * HOUR));
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e12", 102, T0 + 4 * HOUR));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e13", 102, T0 + 90 * MIN));
	cr_assert_eq(hl_world_case(f->w, 102)->resolved_at, 0, "%s", last_desc(f));
	cr_assert_eq(clk(f, 102, HL_CK_RESOLUTION)->state, HL_CS_STOPPED);
	fx_free(f);
}
