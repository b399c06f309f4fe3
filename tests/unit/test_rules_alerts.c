/*
 * test_rules_alerts.c - the alerts the rules raise outside an event's own
 * effect: repeat callers (threshold, window edges, loaded history), a
 * clock's timer firing (hl_rules_clock_fire: due soon, then overdue; stale,
 * met, unknown and late timers; hl_clock_next_fire) and the escalation of
 * an unacknowledged alert (hl_rules_escalate, up to max_level, stopped by
 * an ack).
 *
 * The other rules tests: test_rules_calls.c, test_rules_cases.c,
 * test_rules_edges.c; the fixture is rules_fixtures.h.
 */
#include <criterion/criterion.h>

#include "rules_fixtures.h"

/* ------------------------------------------------------------ repeat callers */

Test(repeat, alert_at_threshold_then_threshold_more)
{
	struct fx *f = fx_new();
	char id[16], call[16];
	int alerts_after[7] = {0};
	for (int i = 1; i <= 6; i++) {
		snprintf(id, sizeof id, "e%d", i);
		snprintf(call, sizeof call, "c-%d", i);
		ok(offered(f, id, call, P1, T0 + (i - 1) * HOUR));
		alerts_after[i] = (int)count_alerts(f, "repeat_caller");
	}
	cr_assert_eq(alerts_after[2], 0);
	cr_assert_eq(alerts_after[3], 1, "exactly at the 3rd call");
	cr_assert_eq(alerts_after[4], 1);
	cr_assert_eq(alerts_after[5], 1);
	cr_assert_eq(alerts_after[6], 2, "3 further calls");
	struct hl_alert *a = find_alert(f, "repeat_caller");
	cr_assert_str_eq(a->dedupe, "repeat:" P1 ":e3");
	cr_assert_eq(a->raised_at, T0 + 2 * HOUR);
	cr_assert_eq(a->case_id, 100);
	cr_assert_eq(a->escalate_at, 0);
	no_full_number(a->detail);
	cr_assert_eq(hl_world_caller(f->w, P1)->repeat_alerted_at, T0 + 5 * HOUR);
	for (size_t i = 0; i < f->w->n_accepted; i++)
		no_full_number(f->w->accepted[i].description);
	fx_free(f);
}

Test(repeat, window_edges)
{
	struct fx *f = fx_new();
	/* exactly one window apart: the first no longer counts */
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(offered(f, "e2", "c-2", P1, T0 + 12 * HOUR));
	ok(offered(f, "e3", "c-3", P1, T0 + 24 * HOUR));
	cr_assert_eq(count_alerts(f, "repeat_caller"), 0);
	/* far apart: never */
	ok(offered(f, "e4", "c-4", P1, T0 + 60 * HOUR));
	ok(offered(f, "e5", "c-5", P1, T0 + 90 * HOUR));
	cr_assert_eq(count_alerts(f, "repeat_caller"), 0);

	/* one millisecond inside the window: counts */
	ok(offered(f, "f1", "d-1", P2, T0));
	ok(offered(f, "f2", "d-2", P2, T0 + 12 * HOUR));
	ok(offered(f, "f3", "d-3", P2, T0 + 24 * HOUR - 1));
	cr_assert_eq(count_alerts(f, "repeat_caller"), 1);
	fx_free(f);
}

Test(repeat, loaded_history_and_what_counts)
{
	struct fx *f = fx_new();
	hl_ms hist[] = {T0 - 2 * HOUR, T0 - HOUR};
	struct hl_caller r;
	memset(&r, 0, sizeof r);
	snprintf(r.caller, sizeof r.caller, P1);
	r.confidential = true;
	r.inbound = hist;
	r.n_inbound = 2;
	hl_world_add_caller(f->w, &r);
	/* an abandoned call we never saw counts as inbound */
	struct hl_event e = E(HL_EV_CALL_ABANDONED, "e1", T0);
	e.call_id = "c-1";
	snprintf(e.caller, sizeof e.caller, P1);
	ok(apply(f, e));
	struct hl_alert *a = find_alert(f, "repeat_caller");
	cr_assert_not_null(a, "2 loaded + 1 new = 3");
	cr_assert(a->confidential, "confidentiality travels with the alert");

	/* a repeated call.offered for a known call does not count */
	ok(offered(f, "e2", "c-2", P2, T0));
	ok(offered(f, "e3", "c-2", P2, T0 + 1));
	ok(offered(f, "e4", "c-2", P2, T0 + 2));
	cr_assert_eq(hl_world_caller(f->w, P2)->n_inbound, 1);
	cr_assert_eq(count_alerts(f, "repeat_caller"), 1);
	fx_free(f);
}

/* --------------------------------------------------------------- clock fire */

Test(fire, due_soon_then_overdue)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	hl_ms warn = r->warn_at, due = r->due_at;

	fire(f, 100, HL_CK_RESOLUTION, 1, warn - 1); /* early */
	cr_assert_eq(f->w->n_alerts, 0);
	cr_assert_not(r->warned);

	fire(f, 100, HL_CK_RESOLUTION, 1, warn + 5);
	cr_assert_eq(f->w->n_alerts, 1);
	struct hl_alert *a = f->w->alerts[0];
	cr_assert_str_eq(a->kind, "resolution_due_soon");
	cr_assert_str_eq(a->dedupe, "100:resolution:1:due_soon");
	cr_assert_eq(a->raised_at, warn + 5, "raised when the daemon noticed");
	cr_assert_eq(a->due_at, due);
	cr_assert_eq(a->escalate_at, 0, "due-soon never escalates");
	cr_assert_eq(a->level, 1);
	cr_assert(a->is_new);
	cr_assert(r->warned);
	cr_assert(r->dirty);
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(hl_clock_next_fire(r), due);

	fire(f, 100, HL_CK_RESOLUTION, 1, warn + 10);
	cr_assert_eq(f->w->n_alerts, 1, "one due-soon per run");

	fire(f, 100, HL_CK_RESOLUTION, 1, due + 300);
	cr_assert_eq(f->w->n_alerts, 2);
	a = f->w->alerts[1];
	cr_assert_str_eq(a->kind, "resolution_overdue");
	cr_assert_str_eq(a->dedupe, "100:resolution:1:overdue");
	cr_assert_eq(a->due_at, due);
	cr_assert_eq(a->raised_at, due + 300);
	cr_assert_eq(a->escalate_at, due + 300 + 15 * MIN);
	cr_assert_str_eq(a->caller, P1);
	cr_assert_not_null(a->detail);
	cr_assert_not_null(strstr(a->detail, "case open for 2d, due now"), "%s", a->detail);
	no_full_number(a->detail);
	cr_assert_eq(r->state, HL_CS_BREACHED);
	cr_assert_eq(r->breached_at, due);
	cr_assert_eq(hl_clock_next_fire(r), 0);

	fire(f, 100, HL_CK_RESOLUTION, 1, due + 600);
	cr_assert_eq(f->w->n_alerts, 2, "one overdue per run");
	fx_free(f);
}

Test(fire, stale_met_unknown_and_late)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	fire(f, 100, HL_CK_RESOLUTION, 0, T0 + 100 * HOUR);
	fire(f, 100, HL_CK_RESOLUTION, 2, T0 + 100 * HOUR);
	fire(f, 999, HL_CK_RESOLUTION, 1, T0 + 100 * HOUR);
	fire(f, 100, (enum hl_clock_kind)7, 1, T0 + 100 * HOUR);
	fire(f, 100, HL_CK_CALLBACK, 0, T0 + 100 * HOUR); /* never armed */
	cr_assert_eq(f->w->n_alerts, 0);
	cr_assert_eq(r->state, HL_CS_PENDING);

	/* late: both warn and due passed -> only the overdue */
	fire(f, 100, HL_CK_RESOLUTION, 1, T0 + 100 * HOUR);
	cr_assert_eq(f->w->n_alerts, 1);
	cr_assert_str_eq(f->w->alerts[0]->kind, "resolution_overdue");
	cr_assert(r->warned);
	fire(f, 100, HL_CK_RESOLUTION, 1, T0 + 101 * HOUR);
	cr_assert_eq(f->w->n_alerts, 1);

	/* met clocks never fire */
	ok(offered(f, "e2", "c-2", P2, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e3", 101, T0 + HOUR));
	fire(f, 101, HL_CK_RESOLUTION, 1, T0 + 100 * HOUR);
	fire(f, 101, HL_CK_UPDATE, 1, T0 + 100 * HOUR);
	cr_assert_eq(f->w->n_alerts, 1);

	/* an overdue already stored (loaded alert with the same key) is not raised again */
	ok(offered(f, "e4", "c-3", "+8613800000003", T0));
	struct hl_alert old;
	memset(&old, 0, sizeof old);
	old.id = 55;
	snprintf(old.kind, sizeof old.kind, "update_overdue");
	snprintf(old.dedupe, sizeof old.dedupe, "102:update:1:overdue");
	hl_world_add_alert(f->w, &old);
	fire(f, 102, HL_CK_UPDATE, 1, T0 + 30 * HOUR);
	cr_assert_eq(count_alerts(f, "update_overdue"), 1);
	cr_assert_eq(clk(f, 102, HL_CK_UPDATE)->state, HL_CS_BREACHED);
	fx_free(f);
}

Test(fire, seconds_scale_deadlines)
{
	struct fx *f = fx_new();
	set_policy(&f->cfg.sla, "default", 2 * SEC, 0, 0, 0, 0.5);
	ok(offered(f, "e1", "c-1", P1, T0 + 250));
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_NONE, "resolution off");
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0 + 500));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->due_at, T0 + 2500);
	cr_assert_eq(cb->warn_at, T0 + 1500);
	cr_assert_not_null(strstr(last_desc(f), "callback armed, due in 2s"), "%s", last_desc(f));
	cr_assert_eq(hl_clock_next_fire(cb), T0 + 1500);
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 1500); /* the warning's own ms: not passed yet */
	cr_assert_eq(f->w->n_alerts, 0);
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 1501);
	cr_assert_str_eq(f->w->alerts[0]->kind, "callback_due_soon");
	cr_assert_eq(hl_clock_next_fire(cb), T0 + 2500);
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 2499);
	cr_assert_eq(f->w->n_alerts, 1);
	/* the due millisecond itself: a contact stamped with it is in time
	 * (met_at <= due_at, as the figures count), so no breach yet */
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 2500);
	cr_assert_eq(f->w->n_alerts, 1);
	cr_assert_eq(cb->state, HL_CS_PENDING);
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 2501);
	cr_assert_str_eq(f->w->alerts[1]->kind, "callback_overdue");
	cr_assert_eq(f->w->alerts[1]->dedupe[0], '1');
	cr_assert_str_eq(f->w->alerts[1]->dedupe, "100:callback:1:overdue");
	fx_free(f);
}

Test(fire, next_fire)
{
	struct hl_clock k;
	memset(&k, 0, sizeof k);
	cr_assert_eq(hl_clock_next_fire(NULL), 0);
	cr_assert_eq(hl_clock_next_fire(&k), 0);
	k.state = HL_CS_PENDING;
	k.due_at = 200;
	cr_assert_eq(hl_clock_next_fire(&k), 200);
	k.warn_at = 100;
	cr_assert_eq(hl_clock_next_fire(&k), 100);
	k.warned = true;
	cr_assert_eq(hl_clock_next_fire(&k), 200);
	int states[] = {HL_CS_PAUSED, HL_CS_MET, HL_CS_BREACHED, HL_CS_STOPPED};
	for (size_t i = 0; i < 4; i++) {
		k.state = states[i];
		cr_assert_eq(hl_clock_next_fire(&k), 0);
	}
}

/* --------------------------------------------------------------- escalation */

static struct hl_alert *overdue_alert(struct fx *f, int64_t id)
{
	ok(offered(f, "e1", "c-1", P1, T0));
	fire(f, 100, HL_CK_UPDATE, 1, T0 + 24 * HOUR + 1);
	struct hl_alert *a = find_alert(f, "update_overdue");
	cr_assert_not_null(a);
	hl_world_set_alert_id(f->w, a, id);
	return a;
}

Test(escalate, up_to_max_level)
{
	struct fx *f = fx_new();
	struct hl_alert *a = overdue_alert(f, 7);
	hl_ms t = T0 + 24 * HOUR + 1; /* fired once the due ms had passed */
	cr_assert_eq(a->escalate_at, t + 15 * MIN);
	f->env.now = t + 14 * MIN;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 1, "not yet");
	f->env.now = t + 15 * MIN;
	a->dirty = false;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 2);
	cr_assert_eq(a->escalate_at, t + 30 * MIN);
	cr_assert(a->dirty);
	/* late (daemon was down): one step, next counted from now */
	f->env.now = t + 5 * HOUR;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 3);
	cr_assert_eq(a->escalate_at, 0, "max level reached");
	f->env.now = t + 10 * HOUR;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 3);
	hl_rules_escalate(f->w, &f->env, 999); /* unknown: nothing */
	fx_free(f);
}

Test(escalate, stops_when_acked)
{
	struct fx *f = fx_new();
	struct hl_alert *a = overdue_alert(f, 7);
	hl_ms t = T0 + 24 * HOUR + 1; /* fired once the due ms had passed */
	f->env.now = t + 15 * MIN;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 2);
	size_t accepted = f->w->n_accepted;
	struct hl_outcome *o = ack(f, "ack1", 7, "sup1", t + 20 * MIN);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_not(o->duplicate);
	cr_assert_eq(a->acked_at, t + 20 * MIN);
	cr_assert_str_eq(a->acked_by, "sup1");
	cr_assert_eq(a->escalate_at, 0);
	cr_assert(a->dirty);
	cr_assert_eq(f->w->n_accepted, accepted, "a command is not a case event");
	cr_assert_not(hl_world_seen(f->w, "ack1", NULL));

	/* acking again: ok, nothing changes */
	ok(ack(f, "ack2", 7, "sup2", t + 25 * MIN));
	cr_assert_str_eq(a->acked_by, "sup1");
	cr_assert_eq(a->acked_at, t + 20 * MIN);

	a->escalate_at = t + 30 * MIN; /* even if a stale time were left behind */
	f->env.now = t + HOUR;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 2);

	struct hl_event e = E(HL_CMD_ALERT_ACK, "ack3", t);
	e.alert_id = 99;
	refused(f, e, HL_E_UNKNOWN_ALERT, "alert_id: no alert 99");
	e.alert_id = 0;
	refused(f, e, HL_E_BAD_REQUEST, "alert_id: missing");
	fx_free(f);
}

Test(escalate, max_level_one_never_escalates)
{
	struct fx *f = fx_new();
	f->cfg.escalation.max_level = 1;
	struct hl_alert *a = overdue_alert(f, 7);
	cr_assert_eq(a->escalate_at, 0);
	f->env.now = T0 + 100 * HOUR;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 1);
	fx_free(f);
}
