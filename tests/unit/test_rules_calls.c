/*
 * test_rules_calls.c - the case rules for call events: call.offered opens a
 * case with its clocks (or joins the caller's open case, or only records a
 * known call), call.answered meets the callback clock and restarts the
 * update clock, call.abandoned / voicemail.left arm the callback once (an
 * unseen call is offered first), call.ended resolves or asks for a callback.
 *
 * The other rules tests: test_rules_cases.c (case events, policy),
 * test_rules_alerts.c (timers, escalation, repeat callers),
 * test_rules_edges.c (duplicates, errors, issue 16, speed); the fixture is
 * rules_fixtures.h.
 */
#include <criterion/criterion.h>

#include "rules_fixtures.h"

/* ------------------------------------------------------------ call.offered */

Test(offered, opens_a_case_with_clocks)
{
	struct fx *f = fx_new();
	struct hl_event e = E(HL_EV_CALL_OFFERED, "e1", T0);
	e.call_id = "c-1";
	e.queue = "complaints";
	snprintf(e.caller, sizeof e.caller, P1);
	struct hl_outcome *o = apply(f, e);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_not(o->duplicate);

	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_not_null(c);
	cr_assert_eq(c->status, HL_ST_OPEN);
	cr_assert_eq(c->opened_at, T0);
	cr_assert_str_eq(c->caller, P1);
	cr_assert_str_eq(c->policy, "default");
	cr_assert_str_eq(c->queue, "complaints");
	cr_assert(c->is_new && c->dirty);

	struct hl_clock *r = &c->clocks[HL_CK_RESOLUTION];
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->seq, 1);
	cr_assert_eq(r->started_at, T0);
	cr_assert_eq(r->due_at, T0 + 48 * HOUR);
	cr_assert_eq(r->allowed_ms, 48 * HOUR);
	cr_assert_eq(r->warn_at, T0 + 38 * HOUR + 24 * MIN); /* 0.8 of 48h */
	cr_assert_not(r->warned);
	cr_assert_str_eq(r->calendar, "");
	cr_assert(r->dirty);
	struct hl_clock *u = &c->clocks[HL_CK_UPDATE];
	cr_assert_eq(u->state, HL_CS_PENDING);
	cr_assert_eq(u->seq, 1);
	cr_assert_eq(u->due_at, T0 + 24 * HOUR);
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_NONE);
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].seq, 0);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_NONE);
	cr_assert_eq(hl_clock_next_fire(r), r->warn_at);

	struct hl_call *call = hl_world_call(f->w, "c-1");
	cr_assert_not_null(call);
	cr_assert_eq(call->case_id, 100);
	cr_assert_eq(call->state, HL_CALL_OFFERED);
	cr_assert_eq(call->offered_at, T0);
	cr_assert(call->inbound && call->is_new);
	cr_assert_str_eq(call->queue, "complaints");
	cr_assert_str_eq(call->caller, P1);

	struct hl_caller *cr = hl_world_caller(f->w, P1);
	cr_assert_not_null(cr);
	cr_assert(cr->is_new);
	cr_assert_eq(cr->n_inbound, 1);
	cr_assert_eq(cr->inbound[0], T0);
	cr_assert_not(cr->confidential);

	cr_assert_eq(f->w->n_accepted, 1);
	cr_assert_eq(f->w->accepted[0].case_id, 100);
	cr_assert_eq(f->w->accepted[0].ev, &f->pool[0]);
	const char *d = last_desc(f);
	cr_assert_not_null(strstr(d, "call c-1 offered from"), "%s", d);
	cr_assert_not_null(strstr(d, "(queue complaints)"), "%s", d);
	cr_assert_not_null(strstr(d, "case 100 opened"), "%s", d);
	cr_assert_not_null(strstr(d, "resolution armed, due in 2d"), "%s", d);
	cr_assert_not_null(strchr(d, '*'), "phone must be masked: %s", d);
	no_full_number(d);
	int64_t seen = 0;
	cr_assert(hl_world_seen(f->w, "e1", &seen));
	cr_assert_eq(seen, 100);
	cr_assert_eq(hl_world_free_id_count(f->w), 99);
	fx_free(f);
}

Test(offered, joins_the_callers_open_case)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_outcome *o = offered(f, "e2", "c-2", P1, T0 + HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_eq(f->w->n_cases, 1);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->seq, 1, "joining does not restart the resolution clock");
	cr_assert_eq(hl_world_call(f->w, "c-2")->case_id, 100);
	cr_assert_not_null(strstr(last_desc(f), "joins case 100"));
	cr_assert_eq(hl_world_caller(f->w, P1)->n_inbound, 2);

	o = offered(f, "e3", "c-3", P2, T0 + HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 101, "another caller: a new case, next reserved id");

	/* a closed case is never joined; a resolved one is */
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e4", 100, T0 + 2 * HOUR));
	o = offered(f, "e5", "c-4", P1, T0 + 3 * HOUR);
	cr_assert_eq(o->case_id, 100);
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e6", 100, T0 + 4 * HOUR));
	o = offered(f, "e7", "c-5", P1, T0 + 5 * HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 102);
	fx_free(f);
}

Test(offered, known_call_is_recorded_only)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	char *before = dump(f->w);
	struct hl_outcome *o = offered(f, "e2", "c-1", P1, T0 + MIN);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_eq(f->w->n_calls, 1);
	cr_assert_eq(hl_world_caller(f->w, P1)->n_inbound, 1, "not counted again");
	cr_assert_eq(f->w->n_accepted, 2);
	cr_assert_not_null(strstr(last_desc(f), "already on case 100"));
	cr_assert_eq(hl_world_call(f->w, "c-1")->offered_at, T0);
	cr_assert(hl_world_seen(f->w, "e2", NULL));
	free(before);
	fx_free(f);
}

/* A call_id reused for another number (ids that restart each day): the
 * second caller must not vanish into the first one's call and case. */
Test(offered, call_id_from_another_number_is_refused)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	char *before = dump(f->w);
	struct hl_event e = E(HL_EV_CALL_OFFERED, "e2", T0 + HOUR);
	e.call_id = "c-1";
	snprintf(e.caller, sizeof e.caller, P2);
	refused(f, e, HL_E_BAD_REQUEST, "call_id: call 'c-1' was offered from another number");
	e.type = HL_EV_CALL_ABANDONED;
	refused(f, e, HL_E_BAD_REQUEST, "call_id: call 'c-1' was offered from another number");
	char *after = dump(f->w);
	cr_assert_str_eq(before, after, "nothing changed");
	/* the same number again is the same call, as before */
	snprintf(e.caller, sizeof e.caller, P1);
	ok(apply(f, e));
	free(before);
	free(after);
	fx_free(f);
}

Test(offered, no_reserved_id)
{
	struct fx *f = fx_new();
	int64_t id;
	while (hl_world_take_free_id(f->w, &id))
		;
	struct hl_event e = E(HL_EV_CALL_OFFERED, "e1", T0);
	e.call_id = "c-1";
	snprintf(e.caller, sizeof e.caller, P1);
	refused(f, e, HL_E_INTERNAL, "no case id reserved");

	/* joining an existing case needs no id */
	struct hl_case c;
	memset(&c, 0, sizeof c);
	c.id = 7;
	snprintf(c.caller, sizeof c.caller, P1);
	c.opened_at = T0 - HOUR;
	snprintf(c.policy, sizeof c.policy, "default");
	hl_world_add_case(f->w, &c);
	struct hl_outcome *o = offered(f, "e2", "c-1", P1, T0);
	ok(o);
	cr_assert_eq(o->case_id, 7);
	fx_free(f);
}

Test(offered, confidential_marks_caller)
{
	struct fx *f = fx_new();
	struct hl_event e = E(HL_EV_CALL_OFFERED, "e1", T0);
	e.call_id = "c-1";
	e.confidential = 1;
	snprintf(e.caller, sizeof e.caller, P1);
	ok(apply(f, e));
	cr_assert(hl_world_caller(f->w, P1)->confidential);
	/* a later call without the flag does not unmark it */
	ok(offered(f, "e2", "c-2", P1, T0 + 1));
	cr_assert(hl_world_caller(f->w, P1)->confidential);
	fx_free(f);
}

/* ------------------------------------------------------------ answered */

Test(answered, meets_callback_and_restarts_update)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0 + MIN));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->due_at, T0 + 31 * MIN);

	ok(offered(f, "e3", "c-2", P1, T0 + 10 * MIN));
	struct hl_outcome *o = on_call(f, HL_EV_CALL_ANSWERED, "e4", "c-2", T0 + 11 * MIN);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_eq(cb->state, HL_CS_MET);
	cr_assert_eq(cb->met_at, T0 + 11 * MIN);
	cr_assert_eq(cb->seq, 1, "meeting a clock keeps its seq");
	cr_assert_eq(hl_clock_next_fire(cb), 0);
	struct hl_clock *u = clk(f, 100, HL_CK_UPDATE);
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(u->started_at, T0 + 11 * MIN);
	cr_assert_eq(u->due_at, T0 + 11 * MIN + 24 * HOUR);
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 11 * MIN);
	struct hl_call *call = hl_world_call(f->w, "c-2");
	cr_assert_eq(call->state, HL_CALL_ANSWERED);
	cr_assert_eq(call->answered_at, T0 + 11 * MIN);
	cr_assert_str_eq(call->agent, "a7");
	cr_assert(call->dirty);
	cr_assert_not_null(strstr(last_desc(f), "callback met"), "%s", last_desc(f));
	cr_assert_not_null(strstr(last_desc(f), "update restarted"), "%s", last_desc(f));

	/* answering twice: recorded, nothing else */
	o = on_call(f, HL_EV_CALL_ANSWERED, "e5", "c-2", T0 + 12 * MIN);
	ok(o);
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(call->answered_at, T0 + 11 * MIN);
	cr_assert_not_null(strstr(last_desc(f), "already answered"));
	cr_assert_eq(f->w->n_accepted, 5);
	fx_free(f);
}

Test(answered, breached_callback_is_met_late)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 30 * MIN + 1);
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_BREACHED);
	ok(offered(f, "e3", "c-2", P1, T0 + HOUR));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e4", "c-2", T0 + HOUR));
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_MET);
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->breached_at, T0 + 30 * MIN, "the breach stays on record");
	cr_assert_not_null(strstr(last_desc(f), "callback met (late)"));
	fx_free(f);
}

Test(answered, on_closed_case_records_only)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e2", 100, T0 + MIN));
	struct hl_case *c = hl_world_case(f->w, 100);
	int32_t useq = c->clocks[HL_CK_UPDATE].seq;
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e3", "c-1", T0 + 2 * MIN));
	cr_assert_eq(hl_world_call(f->w, "c-1")->state, HL_CALL_ANSWERED);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_STOPPED);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].seq, useq);
	cr_assert_eq(c->last_contact_at, 0);
	cr_assert_not_null(strstr(last_desc(f), "recorded only"));

	ok(ended(f, "e4", "c-1", "resolved", T0 + 3 * MIN));
	cr_assert_eq(c->status, HL_ST_CLOSED);
	cr_assert_eq(hl_world_call(f->w, "c-1")->state, HL_CALL_ENDED);
	cr_assert_eq(f->w->n_accepted, 4);
	fx_free(f);
}

/* The caller went back into a queue on the same channel (hotline-pbx sends a
 * second visit under the same call) and was answered there. */
Test(answered, after_abandoned_the_call_is_answered)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0 + MIN));
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_PENDING);
	ok(offered(f, "e3", "c-1", P1, T0 + 2 * MIN)); /* the second visit: nothing new */
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e4", "c-1", T0 + 3 * MIN));
	struct hl_call *call = hl_world_call(f->w, "c-1");
	cr_assert_eq(call->state, HL_CALL_ANSWERED);
	cr_assert_eq(call->answered_at, T0 + 3 * MIN);
	cr_assert_eq(call->ended_at, 0, "talking again");
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_MET);
	cr_assert_not_null(strstr(last_desc(f), "no longer abandoned"), "%s", last_desc(f));
	ok(ended(f, "e5", "c-1", "completed", T0 + 9 * MIN));
	cr_assert_eq(call->state, HL_CALL_ENDED);
	cr_assert_eq(call->ended_at, T0 + 9 * MIN);

	/* an abandonment dated after the answer (events out of order): ended then */
	ok(offered(f, "e6", "c-2", P1, T0 + HOUR));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e7", "c-2", T0 + HOUR + 5 * MIN));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e8", "c-2", T0 + HOUR + MIN));
	call = hl_world_call(f->w, "c-2");
	cr_assert_eq(call->state, HL_CALL_ENDED);
	cr_assert_eq(call->ended_at, T0 + HOUR + 5 * MIN);
	fx_free(f);
}

/* ------------------------------------------------------ abandoned / voicemail */

Test(abandoned, arms_callback_once)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_outcome *o = on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0 + MIN);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	struct hl_call *call = hl_world_call(f->w, "c-1");
	cr_assert_eq(call->state, HL_CALL_ABANDONED);
	cr_assert_eq(call->ended_at, T0 + MIN);
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->seq, 1);
	cr_assert_eq(cb->started_at, T0 + MIN);
	cr_assert_eq(cb->due_at, T0 + 31 * MIN);
	cr_assert_eq(cb->warn_at, T0 + MIN + 24 * MIN);
	cr_assert_not_null(strstr(last_desc(f), "callback armed, due in 30m"), "%s", last_desc(f));

	/* a second abandoned call: the caller is still owed the earlier one */
	ok(offered(f, "e3", "c-2", P1, T0 + 5 * MIN));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e4", "c-2", T0 + 6 * MIN));
	cr_assert_eq(cb->seq, 1);
	cr_assert_eq(cb->due_at, T0 + 31 * MIN);
	cr_assert_not_null(strstr(last_desc(f), "callback already owed"));

	/* breached: still owed the earlier one, not re-armed */
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 31 * MIN + 1);
	cr_assert_eq(cb->state, HL_CS_BREACHED);
	ok(offered(f, "e5", "c-3", P1, T0 + 40 * MIN));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e6", "c-3", T0 + 41 * MIN));
	cr_assert_eq(cb->state, HL_CS_BREACHED);
	cr_assert_eq(cb->seq, 1);

	/* met, then abandoned again: a new run */
	ok(attempt(f, "e7", 100, "reached", T0 + 50 * MIN));
	cr_assert_eq(cb->state, HL_CS_MET);
	ok(offered(f, "e8", "c-4", P1, T0 + 60 * MIN));
	ok(on_call(f, HL_EV_VOICEMAIL_LEFT, "e9", "c-4", T0 + 61 * MIN));
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->seq, 2);
	cr_assert_eq(cb->due_at, T0 + 91 * MIN);
	cr_assert_eq(cb->met_at, 0);
	cr_assert_eq(hl_world_call(f->w, "c-4")->state, HL_CALL_VOICEMAIL);
	fx_free(f);
}

Test(abandoned, unseen_call_with_caller_is_offered_first)
{
	struct fx *f = fx_new();
	struct hl_event e = E(HL_EV_VOICEMAIL_LEFT, "e1", T0);
	e.call_id = "c-9";
	snprintf(e.caller, sizeof e.caller, P1);
	struct hl_outcome *o = apply(f, e);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	struct hl_call *call = hl_world_call(f->w, "c-9");
	cr_assert_not_null(call);
	cr_assert_eq(call->state, HL_CALL_VOICEMAIL);
	cr_assert_eq(call->offered_at, T0);
	cr_assert_eq(call->ended_at, T0);
	cr_assert(call->is_new);
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_PENDING);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_PENDING);
	cr_assert_eq(hl_world_caller(f->w, P1)->n_inbound, 1, "counts as an inbound call");
	const char *d = last_desc(f);
	cr_assert_not_null(strstr(d, "offered"), "%s", d);
	cr_assert_not_null(strstr(d, "voicemail left"), "%s", d);
	no_full_number(d);

	e = E(HL_EV_CALL_ABANDONED, "e2", T0 + MIN);
	e.call_id = "c-10";
	snprintf(e.caller, sizeof e.caller, P1);
	o = apply(f, e);
	ok(o);
	cr_assert_eq(o->case_id, 100, "joins the open case");
	cr_assert_eq(hl_world_call(f->w, "c-10")->state, HL_CALL_ABANDONED);
	cr_assert_eq(hl_world_caller(f->w, P1)->n_inbound, 2);
	fx_free(f);
}

Test(abandoned, unknown_call_without_caller)
{
	struct fx *f = fx_new();
	ok(offered(f, "e0", "c-1", P1, T0));
	struct hl_event e = E(HL_EV_CALL_ABANDONED, "e1", T0);
	e.call_id = "c-x";
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'c-x'");
	e.type = HL_EV_VOICEMAIL_LEFT;
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'c-x'");
	e.type = HL_EV_CALL_ANSWERED;
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'c-x'");
	/* answered never offers, even with a caller */
	snprintf(e.caller, sizeof e.caller, P1);
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'c-x'");
	e = E(HL_EV_CALL_ENDED, "e2", T0);
	e.call_id = "c-x";
	e.outcome = "info";
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'c-x'");
	fx_free(f);
}

/* ------------------------------------------------------------ call.ended */

Test(ended, resolved_resolves_the_case)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = HOUR;
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e2", "c-1", T0 + MIN));
	struct hl_event e = E(HL_EV_CALL_ENDED, "e3", T0 + 10 * MIN);
	e.call_id = "c-1";
	e.outcome = "resolved";
	e.summary = "card blocked";
	ok(apply(f, e));
	struct hl_call *call = hl_world_call(f->w, "c-1");
	cr_assert_eq(call->state, HL_CALL_ENDED);
	cr_assert_eq(call->ended_at, T0 + 10 * MIN);
	cr_assert_str_eq(call->outcome, "resolved");
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->status, HL_ST_RESOLVED);
	cr_assert_eq(c->resolved_at, T0 + 10 * MIN);
	cr_assert_str_eq(c->summary, "card blocked");
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].state, HL_CS_MET);
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].met_at, T0 + 10 * MIN);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_STOPPED);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_PENDING);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].due_at, T0 + 70 * MIN);
	cr_assert_not_null(strstr(last_desc(f), "case 100 resolved"));

	/* a second "resolved" outcome on another call: no-op */
	ok(offered(f, "e4", "c-2", P1, T0 + 20 * MIN));
	ok(ended(f, "e5", "c-2", "resolved", T0 + 21 * MIN));
	cr_assert_eq(c->resolved_at, T0 + 10 * MIN);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].seq, 1);
	fx_free(f);
}

Test(ended, followup_arms_callback_other_outcomes_record)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e2", "c-1", T0 + MIN));
	ok(ended(f, "e3", "c-1", "info", T0 + 5 * MIN));
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_NONE);
	cr_assert_eq(hl_world_case(f->w, 100)->status, HL_ST_OPEN);
	cr_assert_str_eq(hl_world_call(f->w, "c-1")->outcome, "info");

	ok(offered(f, "e4", "c-2", P1, T0 + HOUR));
	ok(ended(f, "e5", "c-2", "followup", T0 + HOUR + 5 * MIN));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->due_at, T0 + HOUR + 35 * MIN);
	ok(offered(f, "e6", "c-3", P1, T0 + 2 * HOUR));
	ok(ended(f, "e7", "c-3", "followup", T0 + 2 * HOUR));
	cr_assert_eq(cb->seq, 1, "already pending: not re-armed");

	struct hl_event e = E(HL_EV_CALL_ENDED, "e8", T0);
	e.call_id = "c-3";
	refused(f, e, HL_E_BAD_REQUEST, "outcome: missing");
	fx_free(f);
}
