/*
 * test_rules_edges.c - the rules at their edges rather than one event's
 * effect: a duplicate event id has no effect, a refused event gets its exact
 * error and leaves the world untouched (atomicity), the issue 16 regressions
 * (confidential on every event, fields once dropped, call events out of
 * order, a contact during a hold) and the speed of a 1000-event batch.
 *
 * The other rules tests: test_rules_calls.c, test_rules_cases.c,
 * test_rules_alerts.c; the fixture is rules_fixtures.h.
 */
#include <criterion/criterion.h>
#include <time.h>

#include "rules_fixtures.h"

/* ------------------------------------------------------ duplicates and errors */

Test(duplicate, same_id_has_no_effect)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + HOUR));
	char *before = dump(f->w);
	struct hl_outcome *o = offered(f, "e1", "c-other", P2, T0 + 2 * HOUR);
	cr_assert_eq(o->err, HL_OK);
	cr_assert(o->duplicate);
	cr_assert_eq(o->case_id, 100);
	o = case_ev(f, HL_EV_CASE_RESUME, "e2", 100, T0 + 3 * HOUR);
	cr_assert(o->duplicate);
	cr_assert_eq(o->case_id, 100);
	/* even an event that would now be refused is a duplicate first */
	o = case_ev(f, HL_EV_CASE_RESOLVE, "e2", 4242, T0);
	cr_assert_eq(o->err, HL_OK);
	cr_assert(o->duplicate);
	char *after = dump(f->w);
	cr_assert_str_eq(after, before);
	free(before);
	free(after);

	/* accepted in an earlier batch (loaded by the store) */
	hl_world_add_seen(f->w, "old-1", 55);
	o = offered(f, "old-1", "c-9", P2, T0);
	cr_assert(o->duplicate);
	cr_assert_eq(o->case_id, 55);
	cr_assert_null(hl_world_call(f->w, "c-9"));
	fx_free(f);
}

Test(errors, messages_and_atomicity)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = HOUR;
	/* a world with something of everything */
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	ok(offered(f, "e3", "c-2", P2, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e4", 101, T0 + MIN));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e5", 100, T0 + 2 * MIN));
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + HOUR);
	ok(offered(f, "e6", "c-3", "+8613800000003", T0));
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e7", 102, T0 + 3 * MIN));

	struct hl_event e;
	e = E(HL_EV_CALL_OFFERED, "x1", T0);
	snprintf(e.caller, sizeof e.caller, P1);
	refused(f, e, HL_E_BAD_REQUEST, "call_id: missing");
	e.call_id = "";
	refused(f, e, HL_E_BAD_REQUEST, "call_id: missing");
	e = E(HL_EV_CALL_OFFERED, "x2", T0);
	e.call_id = "c-new";
	refused(f, e, HL_E_BAD_REQUEST, "caller: missing");
	e = E(HL_EV_CALL_ANSWERED, "x3", T0);
	e.call_id = "nope";
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'nope'");
	e = E(HL_EV_CALL_ENDED, "x4", T0);
	e.call_id = "c-1";
	refused(f, e, HL_E_BAD_REQUEST, "outcome: missing");
	int case_types[] = {HL_EV_CASE_UPDATE, HL_EV_CASE_TRANSFER, HL_EV_CASE_RESOLVE, HL_EV_CASE_CLOSE,
	                    HL_EV_CASE_REOPEN, HL_EV_CASE_HOLD, HL_EV_CASE_RESUME};
	for (size_t i = 0; i < sizeof case_types / sizeof case_types[0]; i++) {
		e = E(case_types[i], "x5", T0);
		e.case_id = 42;
		e.department = "d";
		refused(f, e, HL_E_UNKNOWN_CASE, "case_id: no case 42");
		e.case_id = 0;
		refused(f, e, HL_E_BAD_REQUEST, "case_id: missing");
	}
	e = E(HL_EV_SURVEY_RESULT, "x6", T0);
	e.case_id = 42;
	e.score = 3;
	refused(f, e, HL_E_UNKNOWN_CASE, "case_id: no case 42");
	e = E(HL_EV_CASE_RESUME, "x7", T0);
	e.case_id = 101;
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 101 is not on hold");
	e.case_id = 102;
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 102 is closed");
	e = E(HL_CMD_PING, "x8", T0);
	refused(f, e, HL_E_UNKNOWN_TYPE, "type: not an event the rules handle");
	e = E(HL_T_NONE, "x9", T0);
	refused(f, e, HL_E_UNKNOWN_TYPE, "type: not an event the rules handle");
	e = E(HL_CMD_ALERT_ACK, "x10", T0);
	e.alert_id = 12345;
	refused(f, e, HL_E_UNKNOWN_ALERT, "alert_id: no alert 12345");

	/* a long call id is cut in the message, which still fits */
	char longid[400];
	memset(longid, 'q', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	e = E(HL_EV_CALL_ANSWERED, "x11", T0);
	e.call_id = longid;
	char *before = dump(f->w);
	struct hl_outcome *o = apply(f, e);
	cr_assert_eq(o->err, HL_E_UNKNOWN_CALL);
	cr_assert_eq(strncmp(o->message, "call_id: no call 'qqq", 21), 0);
	cr_assert_lt(strlen(o->message), sizeof o->message);
	char *after = dump(f->w);
	cr_assert_str_eq(after, before);
	free(before);
	free(after);

	/* and the world still works afterwards */
	ok(case_ev(f, HL_EV_CASE_RESUME, "ok1", 100, T0 + HOUR));
	fx_free(f);
}

Test(errors, case_of_call_not_loaded)
{
	struct fx *f = fx_new();
	struct hl_call call;
	memset(&call, 0, sizeof call);
	call.call_id = "c-1";
	call.case_id = 77;
	hl_world_add_call(f->w, &call);
	struct hl_event e = E(HL_EV_CALL_ANSWERED, "e1", T0);
	e.call_id = "c-1";
	refused(f, e, HL_E_INTERNAL, "case_id: case 77 of call 'c-1' is not loaded");
	/* a repeated offer of that call needs no case */
	struct hl_outcome *o = offered(f, "e2", "c-1", P1, T0);
	ok(o);
	cr_assert_eq(o->case_id, 77);
	fx_free(f);
}

/* ------------------------------------------------------------------ speed */

Test(speed, batch_of_1000_events)
{
	struct fx *f = fx_new();
	int64_t ids[300];
	for (int i = 0; i < 300; i++)
		ids[i] = 1000 + i;
	hl_world_add_free_ids(f->w, ids, 300);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* ids and call ids must outlive the batch: keep them in one buffer */
	static char names[1000][2][32];
	char caller[HL_PHONE_MAX];
	int n = 0;
	for (int i = 0; i < 250; i++) {
		snprintf(caller, sizeof caller, "+86139%08d", i);
		hl_ms at = T0 + i * SEC;
		for (int k = 0; k < 4; k++, n++) {
			snprintf(names[n][0], sizeof names[n][0], "ev-%d", n);
			snprintf(names[n][1], sizeof names[n][1], "call-%d", i);
		}
		struct hl_event e = E(HL_EV_CALL_OFFERED, names[n - 4][0], at);
		e.call_id = names[n - 4][1];
		snprintf(e.caller, sizeof e.caller, "%s", caller);
		ok(apply(f, e));
		e = E(HL_EV_CALL_ANSWERED, names[n - 3][0], at + MIN);
		e.call_id = names[n - 3][1];
		ok(apply(f, e));
		e = E(HL_EV_CALL_ENDED, names[n - 2][0], at + 2 * MIN);
		e.call_id = names[n - 2][1];
		e.outcome = "followup";
		ok(apply(f, e));
		e = E(HL_EV_CALLBACK_ATTEMPT, names[n - 1][0], at + 3 * MIN);
		e.case_id = f->out.case_id;
		e.result = "reached";
		ok(apply(f, e));
	}
	for (size_t i = 0; i < f->w->n_cases; i++)
		for (int k = 0; k < HL_CK__COUNT; k++)
			fire(f, f->w->cases[i]->id, (enum hl_clock_kind)k, f->w->cases[i]->clocks[k].seq, T0 + 100 * HOUR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert_eq(f->w->n_accepted, 1000);
	cr_assert_eq(f->w->n_seen, 1000);
	cr_assert_eq(f->w->n_cases, 250);
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_MET);
	cr_assert_eq(f->w->n_alerts, 500, "update and resolution overdue for each case");
	cr_assert_lt(secs, 2.0, "1000 events took %.3fs", secs);
	fx_free(f);
}

/* ------------------------------------------------ issue 16: items 7, 13, 14 */

/* Item 7: "confidential" on any call or case event marks the case's caller;
 * only case.update lifts it. */
Test(issue16, confidential_on_every_event)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	cr_assert_not(hl_world_caller(f->w, P1)->confidential);
	struct hl_event e = E(HL_EV_CALL_ANSWERED, "e2", T0 + MIN);
	e.call_id = "c-1";
	e.agent = "a7";
	e.confidential = 1;
	ok(apply(f, e));
	cr_assert(hl_world_caller(f->w, P1)->confidential, "call.answered confidential:true marks");
	cr_assert_not_null(strstr(last_desc(f), "caller marked confidential"), "%s", last_desc(f));
	no_full_number(last_desc(f));

	/* false on a call event asserts nothing */
	struct hl_event n = E(HL_EV_CALL_ENDED, "e3", T0 + 2 * MIN);
	n.call_id = "c-1";
	n.outcome = "info";
	n.confidential = 0;
	ok(apply(f, n));
	cr_assert(hl_world_caller(f->w, P1)->confidential);

	/* case.update false lifts, true marks again */
	struct hl_event u = E(HL_EV_CASE_UPDATE, "e4", T0 + 3 * MIN);
	u.case_id = 100;
	u.confidential = 0;
	ok(apply(f, u));
	cr_assert_not(hl_world_caller(f->w, P1)->confidential);
	struct hl_event u2 = E(HL_EV_CASE_UPDATE, "e5", T0 + 4 * MIN);
	u2.case_id = 100;
	u2.confidential = 1;
	ok(apply(f, u2));
	cr_assert(hl_world_caller(f->w, P1)->confidential);

	/* a case event whose caller row was not loaded creates it marked, and
	 * an alert the same event raises is already confidential */
	ok(offered(f, "e6", "c-2", P2, T0 + 5 * MIN));
	hl_world_case(f->w, 101)->status = HL_ST_RESOLVED;
	struct hl_event s = E(HL_EV_SURVEY_RESULT, "e7", T0 + 6 * MIN);
	s.case_id = 101;
	s.score = 1;
	s.confidential = 1;
	ok(apply(f, s));
	cr_assert(hl_world_caller(f->w, P2)->confidential);
	struct hl_alert *a = find_alert(f, "dissatisfied");
	cr_assert_not_null(a);
	cr_assert(a->confidential, "the alert raised by the marking event is confidential");
	fx_free(f);
}

/* Item 13: call.ended after call.abandoned / voicemail.left keeps the
 * abandonment (state and end time); the outcome is recorded. */
Test(issue16, ended_keeps_abandonment)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0 + 10 * SEC));
	ok(ended(f, "e3", "c-1", "hangup", T0 + 20 * SEC));
	struct hl_call *c = hl_world_call(f->w, "c-1");
	cr_assert_eq(c->state, HL_CALL_ABANDONED);
	cr_assert_eq(c->ended_at, T0 + 10 * SEC);
	cr_assert_str_eq(c->outcome, "hangup");

	ok(offered(f, "e4", "c-2", P1, T0 + MIN));
	ok(on_call(f, HL_EV_VOICEMAIL_LEFT, "e5", "c-2", T0 + MIN + 10 * SEC));
	ok(ended(f, "e6", "c-2", "voicemail", T0 + MIN + 20 * SEC));
	cr_assert_eq(hl_world_call(f->w, "c-2")->state, HL_CALL_VOICEMAIL);

	/* an answered call still ends as before */
	ok(offered(f, "e7", "c-3", P1, T0 + 2 * MIN));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e8", "c-3", T0 + 2 * MIN + SEC));
	ok(ended(f, "e9", "c-3", "info", T0 + 3 * MIN));
	cr_assert_eq(hl_world_call(f->w, "c-3")->state, HL_CALL_ENDED);
	fx_free(f);
}

/* Item 14: a contact during a hold is the last contact: on resume the update
 * clock runs its whole allowance from the resume (a new run started at the
 * contact, armed paused). */
Test(issue16, contact_during_hold_restarts_update_on_resume)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 20 * HOUR)); /* 4h of update left */
	struct hl_clock *u = clk(f, 100, HL_CK_UPDATE);
	cr_assert_eq(u->remaining_ms, 4 * HOUR);
	ok(attempt(f, "e3", 100, "reached", T0 + 30 * HOUR));
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 30 * HOUR);
	cr_assert_eq(u->state, HL_CS_PAUSED, "still on hold: the new run waits");
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(u->started_at, T0 + 30 * HOUR);
	cr_assert_eq(u->remaining_ms, 24 * HOUR);
	cr_assert_eq(u->warn_remaining_ms, 19 * HOUR + 12 * MIN);
	cr_assert_eq(hl_clock_next_fire(u), 0);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e4", 100, T0 + 40 * HOUR));
	cr_assert_eq(u->state, HL_CS_PENDING);
	cr_assert_eq(u->due_at, T0 + 64 * HOUR, "a full allowance from the resume, not 4h");
	cr_assert_eq(u->warn_at, T0 + 40 * HOUR + 19 * HOUR + 12 * MIN);

	/* the same through case.update caller_informed */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e5", 100, T0 + 50 * HOUR));
	struct hl_event e = E(HL_EV_CASE_UPDATE, "e6", T0 + 51 * HOUR);
	e.case_id = 100;
	e.caller_informed = 1;
	ok(apply(f, e));
	ok(case_ev(f, HL_EV_CASE_RESUME, "e7", 100, T0 + 52 * HOUR));
	cr_assert_eq(u->due_at, T0 + 76 * HOUR);
	cr_assert_eq(u->seq, 3);
	fx_free(f);
}

/* Item 7, the same class: optional fields the parser accepts are acted on or
 * told in the description, never silently dropped. */
Test(issue16, accepted_fields_are_not_dropped)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_event a = E(HL_EV_CALL_ANSWERED, "e2", T0 + MIN);
	a.call_id = "c-1";
	a.agent = "a7";
	a.queue = "complaints";
	ok(apply(f, a));
	cr_assert_str_eq(hl_world_call(f->w, "c-1")->queue, "complaints", "queue on call.answered");
	struct hl_event t = E(HL_EV_CASE_TRANSFER, "e3", T0 + 2 * MIN);
	t.case_id = 100;
	t.department = "housing";
	t.reason = "rent arrears";
	ok(apply(f, t));
	cr_assert_not_null(strstr(last_desc(f), "transferred to housing (transfer 1): rent arrears"), "%s", last_desc(f));
	struct hl_event k = E(HL_EV_CALLBACK_ATTEMPT, "e4", T0 + 3 * MIN);
	k.case_id = 100;
	k.result = "busy";
	k.call_id = "out-1";
	k.note = "line busy";
	ok(apply(f, k));
	cr_assert_not_null(strstr(last_desc(f), "on call out-1 (note)"), "%s", last_desc(f));
	struct hl_event c = E(HL_EV_CASE_CLOSE, "e5", T0 + 4 * MIN);
	c.case_id = 100;
	c.reason = "duplicate";
	ok(apply(f, c));
	cr_assert_not_null(strstr(last_desc(f), "case 100 closed (duplicate)"), "%s", last_desc(f));
	fx_free(f);
}

/* Item 13, out of order: call.ended (unanswered) before call.abandoned. */
Test(issue16, abandoned_after_unanswered_end_is_kept)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(ended(f, "e2", "c-1", "no_answer", T0 + 10 * SEC));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e3", "c-1", T0 + 11 * SEC));
	struct hl_call *c = hl_world_call(f->w, "c-1");
	cr_assert_eq(c->state, HL_CALL_ABANDONED);
	cr_assert_eq(c->ended_at, T0 + 10 * SEC);
	/* an answered call that ended stays ended */
	ok(offered(f, "e4", "c-2", P1, T0 + MIN));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e5", "c-2", T0 + MIN + SEC));
	ok(ended(f, "e6", "c-2", "info", T0 + 2 * MIN));
	ok(on_call(f, HL_EV_VOICEMAIL_LEFT, "e7", "c-2", T0 + 3 * MIN));
	cr_assert_eq(hl_world_call(f->w, "c-2")->state, HL_CALL_ENDED);
	fx_free(f);
}
