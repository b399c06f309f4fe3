/*
 * test_rules_cases.c - the case rules for the events that name a case:
 * the policy re-evaluation a category or priority change causes (running
 * clocks re-timed, consumed time kept, business hours through the real
 * calendar.c), callback.attempt, case.update, case.transfer (the loop
 * alert), case.resolve / close / reopen, case.hold / resume (clocks paused
 * and pushed back) and survey.result.
 *
 * The other rules tests: test_rules_calls.c, test_rules_alerts.c,
 * test_rules_edges.c; the fixture is rules_fixtures.h.
 */
#include <criterion/criterion.h>

#include "rules_fixtures.h"

/* ------------------------------------------------------- policy re-evaluation */

static void add_urgent(struct fx *f)
{
	set_policy(&f->pols[0], "urgent", 10 * MIN, 2 * HOUR, 4 * HOUR, 0, 0.5);
	f->pols[0].category = "fraud";
	set_policy(&f->pols[1], "quiet", 30 * MIN, 0, 48 * HOUR, 0, 0.8);
	f->pols[1].category = "info";
	f->cfg.policies = f->pols;
	f->cfg.n_policies = 2;
}

Test(policy, category_change_keeps_consumed_time)
{
	struct fx *f = fx_new();
	add_urgent(f);
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_event e = E(HL_EV_CALL_ENDED, "e2", T0 + HOUR);
	e.call_id = "c-1";
	e.outcome = "info";
	e.category = "fraud";
	e.priority = "high";
	ok(apply(f, e));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_str_eq(c->category, "fraud");
	cr_assert_str_eq(c->priority, "high");
	cr_assert_str_eq(c->policy, "urgent");
	struct hl_clock *r = &c->clocks[HL_CK_RESOLUTION];
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->seq, 2, "a new run");
	cr_assert_eq(r->allowed_ms, 4 * HOUR);
	cr_assert_eq(r->due_at, T0 + 4 * HOUR, "1h consumed of 4h");
	cr_assert_eq(r->warn_at, T0 + 2 * HOUR, "half of 4h");
	cr_assert_not(r->warned);
	struct hl_clock *u = &c->clocks[HL_CK_UPDATE];
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(u->due_at, T0 + 2 * HOUR);
	cr_assert_eq(u->warn_at, 0, "the warning point (1h) has passed");
	cr_assert_not_null(strstr(last_desc(f), "policy default -> urgent"), "%s", last_desc(f));

	/* the same category again: nothing changes */
	ok(offered(f, "e3", "c-2", P1, T0 + 2 * HOUR));
	e = E(HL_EV_CALL_ENDED, "e4", T0 + 2 * HOUR);
	e.call_id = "c-2";
	e.outcome = "info";
	e.category = "fraud";
	ok(apply(f, e));
	cr_assert_eq(r->seq, 2);

	/* an old timer for seq 1 is now stale */
	fire(f, 100, HL_CK_RESOLUTION, 1, T0 + 48 * HOUR);
	cr_assert_eq(r->state, HL_CS_PENDING);
	fire(f, 100, HL_CK_RESOLUTION, 2, T0 + 4 * HOUR + 1);
	cr_assert_eq(r->state, HL_CS_BREACHED);

	/* consumed more than the new allowance: due immediately */
	ok(offered(f, "e5", "c-3", P2, T0));
	e = E(HL_EV_CALL_ENDED, "e6", T0 + 5 * HOUR);
	e.call_id = "c-3";
	e.outcome = "info";
	e.category = "fraud";
	ok(apply(f, e));
	cr_assert_eq(clk(f, 101, HL_CK_RESOLUTION)->due_at, T0 + 5 * HOUR);
	fx_free(f);
}

Test(policy, clock_turned_off_is_stopped)
{
	struct fx *f = fx_new();
	add_urgent(f);
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_event e = E(HL_EV_CASE_UPDATE, "e2", T0 + HOUR);
	e.case_id = 100;
	e.category = "info";
	ok(apply(f, e));
	cr_assert_str_eq(hl_world_case(f->w, 100)->policy, "quiet");
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->state, HL_CS_STOPPED);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_PENDING);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->due_at, T0 + 48 * HOUR, "same allowance: same due time");
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->seq, 2);
	/* caller informed: the update clock is off, it stays off */
	e = E(HL_EV_CASE_UPDATE, "e3", T0 + 2 * HOUR);
	e.case_id = 100;
	e.caller_informed = 1;
	ok(apply(f, e));
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->state, HL_CS_STOPPED);
	fx_free(f);
}

Test(policy, paused_clock_is_retimed)
{
	struct fx *f = fx_new();
	add_urgent(f);
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + HOUR));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	cr_assert_eq(r->remaining_ms, 47 * HOUR);
	struct hl_event e = E(HL_EV_CASE_UPDATE, "e3", T0 + 3 * HOUR);
	e.case_id = 100;
	e.category = "fraud";
	ok(apply(f, e));
	cr_assert_eq(r->state, HL_CS_PAUSED);
	cr_assert_eq(r->seq, 2);
	cr_assert_eq(r->remaining_ms, 3 * HOUR, "1h consumed before the hold");
	cr_assert_eq(r->warn_remaining_ms, HOUR);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e4", 100, T0 + 5 * HOUR));
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->due_at, T0 + 8 * HOUR);
	cr_assert_eq(r->warn_at, T0 + 6 * HOUR);
	fx_free(f);
}

Test(policy, calendar_name_is_recorded)
{
	struct fx *f = fx_new();
	snprintf(f->cfg.sla.calendar, sizeof f->cfg.sla.calendar, "office");
	ok(offered(f, "e1", "c-1", P1, T0));
	/* "office" is not configured: hl_config_calendar gives NULL, the wall clock */
	cr_assert_str_eq(clk(f, 100, HL_CK_RESOLUTION)->calendar, "office");
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->due_at, T0 + 48 * HOUR);
	fx_free(f);
}

/* Business hours: needs the real calendar.c (the Makefile links it into unit tests). */
Test(policy, business_calendar_deadlines_and_hold)
{
	struct fx *f = fx_new();
	struct hl_calendar office;
	memset(&office, 0, sizeof office);
	snprintf(office.name, sizeof office.name, "office");
	for (int d = 1; d <= 5; d++) { /* Mon..Fri 09:00-17:00 UTC (zone NULL = UTC) */
		office.week[d].iv[0].open_min = 9 * 60;
		office.week[d].iv[0].close_min = 17 * 60;
		office.week[d].n = 1;
	}
	f->cfg.calendars = &office;
	f->cfg.n_calendars = 1;
	set_policy(&f->cfg.sla, "default", 30 * MIN, 0, 16 * HOUR, 0, 0);
	snprintf(f->cfg.sla.calendar, sizeof f->cfg.sla.calendar, "office");
	/* Friday 2026-11-20 09:00Z: 8h on Friday, 8h on Monday */
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	cr_assert_str_eq(r->calendar, "office");
	cr_assert_eq(r->due_at, T0 + 3 * 24 * HOUR + 8 * HOUR, "Monday 17:00Z");
	/* on hold Friday 13:00 (4h used, 12h left), resumed Monday 09:00 */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 4 * HOUR));
	cr_assert_eq(r->remaining_ms, 12 * HOUR);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 3 * 24 * HOUR));
	cr_assert_eq(r->due_at, T0 + 4 * 24 * HOUR + 4 * HOUR, "Tuesday 13:00Z");
	/* an abandoned call Friday 16:50: 10 minutes on Friday, 20 on Monday */
	ok(offered(f, "e4", "c-2", P2, T0 + 7 * HOUR + 50 * MIN));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e5", "c-2", T0 + 7 * HOUR + 50 * MIN));
	cr_assert_eq(clk(f, 101, HL_CK_CALLBACK)->due_at, T0 + 3 * 24 * HOUR + 20 * MIN);
	fx_free(f);
}

/* A reload renames the calendar while a case is on hold: the clock resumes
 * in the calendar its policy names now, not on the wall clock (12 working
 * hours left on Friday would fall due Monday 21:00Z instead of Tuesday). */
Test(policy, calendar_gone_at_reload_resumes_in_the_policys_calendar)
{
	struct fx *f = fx_new();
	struct hl_calendar office[2];
	memset(office, 0, sizeof office);
	for (int i = 0; i < 2; i++) {
		snprintf(office[i].name, sizeof office[i].name, i ? "office-hours" : "office");
		for (int d = 1; d <= 5; d++) {
			office[i].week[d].iv[0].open_min = 9 * 60;
			office[i].week[d].iv[0].close_min = 17 * 60;
			office[i].week[d].n = 1;
		}
	}
	f->cfg.calendars = &office[0];
	f->cfg.n_calendars = 1;
	set_policy(&f->cfg.sla, "default", 30 * MIN, 0, 16 * HOUR, 0, 0);
	snprintf(f->cfg.sla.calendar, sizeof f->cfg.sla.calendar, "office");
	ok(offered(f, "e1", "c-1", P1, T0)); /* Friday 09:00Z */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 4 * HOUR));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	cr_assert_eq(r->remaining_ms, 12 * HOUR);
	/* SIGHUP: "office" is now called "office-hours" */
	f->cfg.calendars = &office[1];
	snprintf(f->cfg.sla.calendar, sizeof f->cfg.sla.calendar, "office-hours");
	ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 3 * 24 * HOUR));
	cr_assert_eq(r->due_at, T0 + 4 * 24 * HOUR + 4 * HOUR, "Tuesday 13:00Z");
	cr_assert_str_eq(r->calendar, "office-hours");
	cr_assert_not_null(strstr(last_desc(f), "calendar office is gone"), "%s", last_desc(f));
	fx_free(f);
}

/* A clock on a calendar with no open time ahead (open only on a make-up day
 * long past) is never due (INT64_MAX) and has consumed nothing; a category
 * that moves the case to a wall-clock policy gives it that policy's whole
 * allowance.  Before, consumed = allowed - left took the "never" sentinel
 * allowance as time used, and the clock fell due at once. */
Test(policy, clock_that_was_never_due_keeps_its_whole_new_allowance)
{
	struct fx *f = fx_new();
	struct hl_calendar past;
	memset(&past, 0, sizeof past);
	snprintf(past.name, sizeof past.name, "past");
	int32_t day = hl_days_from_civil(2020, 1, 6);
	past.workdays = &day;
	past.n_workdays = 1;
	past.workday_hours.iv[0].open_min = 9 * 60;
	past.workday_hours.iv[0].close_min = 17 * 60;
	past.workday_hours.n = 1;
	f->cfg.calendars = &past;
	f->cfg.n_calendars = 1;
	snprintf(f->cfg.sla.calendar, sizeof f->cfg.sla.calendar, "past");
	add_urgent(f); /* wall clock: policies do not inherit a calendar here */
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	cr_assert_eq(r->due_at, INT64_MAX, "never");
	struct hl_event e = E(HL_EV_CALL_ENDED, "e2", T0 + HOUR);
	e.call_id = "c-1";
	e.outcome = "info";
	e.category = "fraud";
	ok(apply(f, e));
	cr_assert_str_eq(hl_world_case(f->w, 100)->policy, "urgent");
	cr_assert_eq(r->due_at, T0 + HOUR + 4 * HOUR, "4h from the change, got %+lld ms",
	             (long long)(r->due_at - T0 - HOUR));
	cr_assert_eq(r->warn_at, T0 + HOUR + 2 * HOUR);
	fx_free(f);
}

/* --------------------------------------------------------- callback.attempt */

Test(attempt, reached_meets_others_record)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	struct hl_outcome *o = attempt(f, "e3", 100, "no_answer", T0 + 5 * MIN);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_not_null(strstr(last_desc(f), "callback still owed"));
	ok(attempt(f, "e4", 100, "busy", T0 + 6 * MIN));
	ok(attempt(f, "e5", 100, "failed", T0 + 7 * MIN));
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->seq, 1);
	ok(attempt(f, "e6", 100, "reached", T0 + 10 * MIN));
	cr_assert_eq(cb->state, HL_CS_MET);
	cr_assert_eq(cb->met_at, T0 + 10 * MIN);
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->seq, 2);
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->due_at, T0 + 10 * MIN + 24 * HOUR);
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 10 * MIN);

	struct hl_event e = E(HL_EV_CALLBACK_ATTEMPT, "e7", T0);
	e.case_id = 100;
	e.result = "maybe";
	refused(f, e, HL_E_BAD_REQUEST, "result: must be reached, no_answer, busy or failed");
	e.result = NULL;
	refused(f, e, HL_E_BAD_REQUEST, "result: missing");
	e.result = "reached";
	e.case_id = 42;
	refused(f, e, HL_E_UNKNOWN_CASE, "case_id: no case 42");
	fx_free(f);
}

/* ------------------------------------------------------------ case.update */

Test(update, caller_informed_restarts_update_clock)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_event e = E(HL_EV_CASE_UPDATE, "e2", T0 + 2 * HOUR);
	e.case_id = 100;
	e.note = "asked the bank";
	ok(apply(f, e));
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->seq, 1, "a note alone does not count as contact");
	e = E(HL_EV_CASE_UPDATE, "e3", T0 + 3 * HOUR);
	e.case_id = 100;
	e.caller_informed = 1;
	e.agent = "a7";
	ok(apply(f, e));
	struct hl_clock *u = clk(f, 100, HL_CK_UPDATE);
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(u->due_at, T0 + 27 * HOUR);
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 3 * HOUR);

	/* on hold: contact is recorded and starts a new run, paused until resume
	 * with its whole allowance (issue 16, item 14) */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e4", 100, T0 + 4 * HOUR));
	e = E(HL_EV_CASE_UPDATE, "e5", T0 + 5 * HOUR);
	e.case_id = 100;
	e.caller_informed = 1;
	ok(apply(f, e));
	cr_assert_eq(u->state, HL_CS_PAUSED);
	cr_assert_eq(u->seq, 3);
	cr_assert_eq(u->remaining_ms, 24 * HOUR);
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 5 * HOUR);

	/* confidential from the agent's tool; a note on a closed case is fine */
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e6", 100, T0 + 6 * HOUR));
	e = E(HL_EV_CASE_UPDATE, "e7", T0 + 7 * HOUR);
	e.case_id = 100;
	e.note = "caller called to say thanks";
	e.confidential = 1;
	ok(apply(f, e));
	cr_assert(hl_world_caller(f->w, P1)->confidential);
	cr_assert_eq(u->state, HL_CS_STOPPED);
	e = E(HL_EV_CASE_UPDATE, "e8", T0 + 8 * HOUR);
	e.case_id = 100;
	e.confidential = 0;
	ok(apply(f, e));
	cr_assert_not(hl_world_caller(f->w, P1)->confidential);
	fx_free(f);
}

/* ----------------------------------------------------------- case.transfer */

Test(transfer, loop_alert_once_at_limit_plus_one)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	char id[16];
	for (int i = 1; i <= 3; i++) {
		snprintf(id, sizeof id, "t%d", i);
		ok(transfer(f, id, 100, i % 2 ? "billing" : "tech", T0 + i * MIN));
	}
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->transfers, 3);
	cr_assert_eq(f->w->n_alerts, 0);
	ok(transfer(f, "t4", 100, "legal", T0 + 4 * MIN));
	cr_assert_eq(c->transfers, 4);
	cr_assert_str_eq(c->department, "legal");
	cr_assert_eq(f->w->n_alerts, 1);
	struct hl_alert *a = f->w->alerts[0];
	cr_assert_str_eq(a->kind, "transfer_loop");
	cr_assert_str_eq(a->dedupe, "transfer_loop:100");
	cr_assert_eq(a->case_id, 100);
	cr_assert_str_eq(a->caller, P1);
	cr_assert_eq(a->level, 1);
	cr_assert_eq(a->raised_at, T0 + 4 * MIN);
	cr_assert_eq(a->escalate_at, 0);
	cr_assert_eq(a->id, 0);
	cr_assert(a->is_new);
	cr_assert_not_null(a->detail);
	cr_assert_not_null(strstr(last_desc(f), "transfer_loop alert"));
	for (int i = 5; i <= 9; i++) {
		snprintf(id, sizeof id, "t%d", i);
		ok(transfer(f, id, 100, "billing", T0 + i * MIN));
	}
	cr_assert_eq(c->transfers, 9);
	cr_assert_eq(f->w->n_alerts, 1, "once per case");

	struct hl_event e = E(HL_EV_CASE_TRANSFER, "bad", T0);
	e.case_id = 100;
	refused(f, e, HL_E_BAD_REQUEST, "department: missing");
	fx_free(f);
}

Test(transfer, limit_zero_disables)
{
	struct fx *f = fx_new();
	f->cfg.alerts.transfer_limit = 0;
	ok(offered(f, "e1", "c-1", P1, T0));
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "t%d", i);
		ok(transfer(f, id, 100, "x", T0 + i));
	}
	cr_assert_eq(f->w->n_alerts, 0);
	fx_free(f);
}

/* ---------------------------------------------------- resolve / close / reopen */

Test(resolve, keeps_a_pending_callback)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	struct hl_event e = E(HL_EV_CASE_RESOLVE, "e3", T0 + HOUR);
	e.case_id = 100;
	e.resolution = "refund issued";
	ok(apply(f, e));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->status, HL_ST_RESOLVED);
	cr_assert_eq(c->resolved_at, T0 + HOUR);
	cr_assert_str_eq(c->resolution, "refund issued");
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].state, HL_CS_MET);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_STOPPED);
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING, "the caller must still be told");
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_NONE, "survey is off by default");
	cr_assert_not_null(strstr(last_desc(f), "callback still owed"));

	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e4", 100, T0 + 2 * HOUR));
	cr_assert_eq(c->resolved_at, T0 + HOUR, "resolving twice: no-op");
	cr_assert_not_null(strstr(last_desc(f), "already resolved"));

	/* reached after resolution: callback met, no update clock while resolved */
	ok(attempt(f, "e5", 100, "reached", T0 + 3 * HOUR));
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_MET);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_STOPPED);
	fx_free(f);
}

Test(resolve, breached_resolution_is_met_and_hold_ends)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	fire(f, 100, HL_CK_RESOLUTION, 1, T0 + 48 * HOUR + 1);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_BREACHED);
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 49 * HOUR));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e3", 100, T0 + 50 * HOUR));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].state, HL_CS_MET);
	cr_assert_not(c->on_hold);
	cr_assert_eq(c->held_ms, HOUR);
	fx_free(f);
}

Test(close, stops_every_clock)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = HOUR;
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	fire(f, 100, HL_CK_UPDATE, 1, T0 + 24 * HOUR + 1); /* one breached */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e3", 100, T0 + 25 * HOUR)); /* one paused */
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_BREACHED);
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].state, HL_CS_PAUSED);
	struct hl_outcome *o = case_ev(f, HL_EV_CASE_CLOSE, "e4", 100, T0 + 26 * HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_eq(c->status, HL_ST_CLOSED);
	cr_assert_eq(c->closed_at, T0 + 26 * HOUR);
	cr_assert_not(c->on_hold);
	for (int k = 0; k < HL_CK_SURVEY; k++) {
		cr_assert_eq(c->clocks[k].state, HL_CS_STOPPED, "clock %d", k);
		cr_assert_eq(hl_clock_next_fire(&c->clocks[k]), 0);
	}
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_NONE, "never armed stays never armed");
	const char *d = last_desc(f);
	cr_assert_not_null(strstr(d, "callback stopped"), "%s", d);
	cr_assert_not_null(strstr(d, "resolution stopped"), "%s", d);

	ok(case_ev(f, HL_EV_CASE_CLOSE, "e5", 100, T0 + 27 * HOUR));
	cr_assert_eq(c->closed_at, T0 + 26 * HOUR, "closing twice: no-op");

	struct hl_event e = E(HL_EV_CASE_TRANSFER, "x1", T0);
	e.case_id = 100;
	e.department = "d";
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 100 is closed");
	refused(f, E(HL_EV_CASE_HOLD, "x2", T0), HL_E_BAD_REQUEST, "case_id: missing");
	e = E(HL_EV_CASE_HOLD, "x2", T0);
	e.case_id = 100;
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 100 is closed");
	e.type = HL_EV_CASE_RESUME;
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 100 is closed");
	e.type = HL_EV_CASE_RESOLVE;
	e.at = T0 + 28 * HOUR; /* after the close (one dated before it resolves the closed case: test_rules_stale.c) */
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 100 is closed");
	fx_free(f);
}

Test(reopen, restarts_resolution)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = 2 * HOUR;
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e2", 100, T0 + HOUR));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_PENDING);
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e3", 100, T0 + 2 * HOUR));
	cr_assert_eq(c->status, HL_ST_OPEN);
	cr_assert_eq(c->reopens, 1);
	cr_assert_eq(c->resolved_at, 0);
	struct hl_clock *r = &c->clocks[HL_CK_RESOLUTION];
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->seq, 2);
	cr_assert_eq(r->started_at, T0 + 2 * HOUR);
	cr_assert_eq(r->due_at, T0 + 50 * HOUR);
	cr_assert_eq(r->met_at, 0);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_PENDING);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].seq, 2);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].due_at, T0 + 26 * HOUR);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_STOPPED);

	ok(case_ev(f, HL_EV_CASE_REOPEN, "e4", 100, T0 + 3 * HOUR));
	cr_assert_eq(c->reopens, 1, "reopening an open case: no-op");
	cr_assert_eq(r->seq, 2);

	ok(case_ev(f, HL_EV_CASE_CLOSE, "e5", 100, T0 + 4 * HOUR));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e6", 100, T0 + 5 * HOUR));
	cr_assert_eq(c->status, HL_ST_OPEN);
	cr_assert_eq(c->closed_at, 0);
	cr_assert_eq(c->reopens, 2);
	cr_assert_eq(r->seq, 3);
	/* the reopened case is the caller's open case again */
	cr_assert_eq(offered(f, "e7", "c-2", P1, T0 + 6 * HOUR)->case_id, 100);
	fx_free(f);
}

/* ------------------------------------------------------------ hold / resume */

Test(hold, pauses_and_resume_pushes_due_back)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	struct hl_event e = E(HL_EV_CASE_HOLD, "e3", T0 + HOUR);
	e.case_id = 100;
	e.reason = "waiting for documents";
	ok(apply(f, e));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert(c->on_hold);
	cr_assert_eq(c->hold_since, T0 + HOUR);
	struct hl_clock *r = &c->clocks[HL_CK_RESOLUTION], *u = &c->clocks[HL_CK_UPDATE];
	cr_assert_eq(r->state, HL_CS_PAUSED);
	cr_assert_eq(r->paused_at, T0 + HOUR);
	cr_assert_eq(r->remaining_ms, 47 * HOUR);
	cr_assert_eq(r->warn_remaining_ms, 37 * HOUR + 24 * MIN);
	cr_assert_eq(r->due_at, T0 + 48 * HOUR, "due_at keeps its old value while paused");
	cr_assert_eq(hl_clock_next_fire(r), 0);
	cr_assert_eq(u->state, HL_CS_PAUSED);
	cr_assert_eq(u->remaining_ms, 23 * HOUR);
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING, "callback keeps running");
	cr_assert_not_null(strstr(last_desc(f), "resolution paused, 1d23h left"), "%s", last_desc(f));

	ok(case_ev(f, HL_EV_CASE_HOLD, "e4", 100, T0 + 90 * MIN));
	cr_assert_eq(c->hold_since, T0 + HOUR, "hold on a held case: no-op");

	ok(case_ev(f, HL_EV_CASE_RESUME, "e5", 100, T0 + 3 * HOUR));
	cr_assert_not(c->on_hold);
	cr_assert_eq(c->held_ms, 2 * HOUR);
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->seq, 1, "resume continues the same run");
	cr_assert_eq(r->due_at, T0 + 50 * HOUR, "pushed back by the 2h on hold");
	cr_assert_eq(r->warn_at, T0 + 40 * HOUR + 24 * MIN);
	cr_assert_eq(r->paused_at, 0);
	cr_assert_eq(r->started_at, T0);
	cr_assert_eq(u->due_at, T0 + 26 * HOUR);
	cr_assert_not_null(strstr(last_desc(f), "resumed after 2h on hold"), "%s", last_desc(f));

	struct hl_event r2 = E(HL_EV_CASE_RESUME, "e6", T0 + 4 * HOUR);
	r2.case_id = 100;
	refused(f, r2, HL_E_BAD_REQUEST, "case_id: case 100 is not on hold");

	/* a second hold accumulates */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e7", 100, T0 + 5 * HOUR));
	ok(case_ev(f, HL_EV_CASE_RESUME, "e8", 100, T0 + 6 * HOUR));
	cr_assert_eq(c->held_ms, 3 * HOUR);
	cr_assert_eq(r->due_at, T0 + 51 * HOUR);
	fx_free(f);
}

Test(hold, warned_clock_and_due_clock)
{
	struct fx *f = fx_new();
	f->cfg.sla.update_ms = 0;
	ok(offered(f, "e1", "c-1", P1, T0));
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->state, HL_CS_NONE, "update off: never armed");
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	fire(f, 100, HL_CK_RESOLUTION, 1, r->warn_at + 1);
	cr_assert(r->warned);
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 40 * HOUR));
	cr_assert_eq(r->warn_remaining_ms, 0);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 41 * HOUR));
	cr_assert_eq(r->due_at, T0 + 49 * HOUR);
	cr_assert(r->warned, "no second warning for the same run");
	fire(f, 100, HL_CK_RESOLUTION, 1, T0 + 48 * HOUR);
	cr_assert_eq(r->state, HL_CS_PENDING, "not due any more");
	cr_assert_eq(f->w->n_alerts, 1);

	/* a clock already due when the hold comes is left to breach */
	ok(offered(f, "e4", "c-2", P2, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e5", 101, T0 + 49 * HOUR));
	cr_assert_eq(clk(f, 101, HL_CK_RESOLUTION)->state, HL_CS_PENDING);

	/* a hold at the due millisecond itself is in time: paused, nothing left,
	 * due again at the resume (clocks.c, "The edge of a deadline") */
	ok(offered(f, "e6", "c-3", "+8613800000003", T0));
	struct hl_clock *r3 = clk(f, 102, HL_CK_RESOLUTION);
	hl_ms due3 = r3->due_at;
	ok(case_ev(f, HL_EV_CASE_HOLD, "e7", 102, due3));
	cr_assert_eq(r3->state, HL_CS_PAUSED);
	cr_assert_eq(r3->remaining_ms, 0);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e8", 102, due3 + HOUR));
	cr_assert_eq(r3->state, HL_CS_PENDING);
	cr_assert_eq(r3->due_at, due3 + HOUR);
	fx_free(f);
}

/* ------------------------------------------------------------ survey.result */

Test(survey, good_score_meets_low_score_reopens)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = 2 * HOUR;
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e2", 100, T0 + HOUR));
	struct hl_clock *s = clk(f, 100, HL_CK_SURVEY);
	cr_assert_eq(s->due_at, T0 + 3 * HOUR);
	ok(survey(f, "e3", 100, 4, T0 + 2 * HOUR));
	cr_assert_eq(s->state, HL_CS_MET);
	cr_assert_eq(s->met_at, T0 + 2 * HOUR);
	cr_assert_eq(hl_world_case(f->w, 100)->status, HL_ST_RESOLVED);
	cr_assert_eq(f->w->n_alerts, 0);

	ok(offered(f, "e4", "c-2", P2, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e5", 101, T0 + HOUR));
	struct hl_outcome *o = survey(f, "e6", 101, 2, T0 + 2 * HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 101);
	struct hl_case *c = hl_world_case(f->w, 101);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_MET);
	cr_assert_eq(c->status, HL_ST_OPEN);
	cr_assert_eq(c->reopens, 1);
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].seq, 2);
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].due_at, T0 + 50 * HOUR);
	struct hl_alert *a = find_alert(f, "dissatisfied");
	cr_assert_not_null(a);
	cr_assert_str_eq(a->dedupe, "dissatisfied:e6");
	cr_assert_eq(a->case_id, 101);
	cr_assert_eq(a->raised_at, T0 + 2 * HOUR);
	cr_assert_eq(a->escalate_at, 0);
	cr_assert_str_eq(a->caller, P2);
	cr_assert_not_null(strstr(last_desc(f), "dissatisfied alert"));

	/* score 1 on an open case: alert, no second reopen */
	ok(survey(f, "e7", 101, 1, T0 + 3 * HOUR));
	cr_assert_eq(c->reopens, 1);
	cr_assert_eq(count_alerts(f, "dissatisfied"), 2);

	struct hl_event e = E(HL_EV_SURVEY_RESULT, "bad", T0);
	e.case_id = 101;
	e.score = 0;
	refused(f, e, HL_E_BAD_REQUEST, "score: must be 1..5");
	e.score = 6;
	refused(f, e, HL_E_BAD_REQUEST, "score: must be 1..5");
	fx_free(f);
}

Test(survey, long_event_ids_keep_unique_dedupe_keys)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	char id1[HL_ID_MAX + 1], id2[HL_ID_MAX + 1];
	memset(id1, 'a', HL_ID_MAX);
	id1[HL_ID_MAX] = '\0';
	memcpy(id2, id1, sizeof id2);
	id2[HL_ID_MAX - 1] = 'b';
	ok(survey(f, id1, 100, 1, T0 + 1));
	ok(survey(f, id2, 100, 1, T0 + 2));
	cr_assert_eq(count_alerts(f, "dissatisfied"), 2);
	cr_assert_str_neq(f->w->alerts[0]->dedupe, f->w->alerts[1]->dedupe);
	cr_assert_eq(strncmp(f->w->alerts[0]->dedupe, "dissatisfied:", 13), 0);
	fx_free(f);
}
