/*
 * test_backfill.c - "backfill": true (CONTRACT 8, docs/rules.md): a history
 * import records deadlines that were already past as breached, raises no
 * alert of any kind, and still lets later events of the import meet clocks.
 * Kept apart from the test_rules_*.c files (and their rules_fixtures.h) so
 * the two evolve independently.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "protocol.h"
#include "rules.h"
#include "orders.h"

#define T0 1763629200000LL /* 2025-11-20T09:00:00Z: "last year" */
#define NOW (T0 + 400LL * 86400000LL)
#define MIN 60000LL
#define HOUR (60 * MIN)

static struct hl_world *w;
static struct hl_config cfg;
static struct hl_rules_env env;
static struct hl_event pool[64];
static size_t n_pool;

static void setup(void)
{
	w = hl_world_new();
	memset(&cfg, 0, sizeof cfg);
	snprintf(cfg.sla.name, sizeof cfg.sla.name, "default");
	cfg.sla.callback_ms = 30 * MIN;
	cfg.sla.update_ms = 24 * HOUR;
	cfg.sla.resolution_ms = 48 * HOUR;
	cfg.sla.warn_at = 0.8;
	cfg.repeat.window_ms = 24 * HOUR;
	cfg.repeat.threshold = 2;
	cfg.escalation.after_ms = 15 * MIN;
	cfg.escalation.max_level = 3;
	env.cfg = &cfg;
	env.now = NOW;
	int64_t ids[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	hl_world_add_free_ids(w, ids, 10);
	n_pool = 0;
}

static void teardown(void)
{
	hl_world_free(w);
}

static struct hl_event *ev(enum hl_type t, const char *id, const char *call, hl_ms at, bool backfill)
{
	struct hl_event *e = &pool[n_pool++];
	memset(e, 0, sizeof *e);
	e->type = t;
	snprintf(e->id, sizeof e->id, "%s", id);
	e->call_id = (char *)call;
	e->at = at;
	e->at_given = true;
	e->received = env.now;
	e->caller_informed = e->confidential = -1;
	e->backfill = backfill;
	return e;
}

static struct hl_outcome run(struct hl_event *e)
{
	struct hl_outcome o;
	hl_rules_apply(w, &env, e, &o);
	cr_assert_eq(o.err, HL_OK, "%s", o.message);
	return o;
}

TestSuite(backfill, .init = setup, .fini = teardown);

Test(backfill, past_deadlines_are_breached_without_alerts)
{
	struct hl_event *e = ev(HL_EV_CALL_OFFERED, "o1", "c1", T0, true);
	snprintf(e->caller, sizeof e->caller, "+8613800000001");
	struct hl_outcome o = run(e);
	run(ev(HL_EV_CALL_ABANDONED, "a1", "c1", T0 + MIN, true));
	struct hl_case *c = hl_world_case(w, o.case_id);
	cr_assert_not_null(c);
	for (int k = HL_CK_CALLBACK; k <= HL_CK_RESOLUTION; k++) {
		cr_assert_eq(c->clocks[k].state, HL_CS_BREACHED, "clock %d", k);
		cr_assert_eq(c->clocks[k].breached_at, c->clocks[k].due_at);
		cr_assert_eq(hl_clock_next_fire(&c->clocks[k]), 0, "no timer for clock %d", k);
	}
	cr_assert_eq(w->n_alerts, 0);
	/* a later event of the import still meets the callback, in time */
	struct hl_event *e2 = ev(HL_EV_CALL_OFFERED, "o2", "c2", T0 + 10 * MIN, true);
	snprintf(e2->caller, sizeof e2->caller, "+8613800000001");
	run(e2);
	struct hl_event *ans = ev(HL_EV_CALL_ANSWERED, "n2", "c2", T0 + 11 * MIN, true);
	ans->agent = "PJSIP/8001";
	run(ans);
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_MET);
	cr_assert_leq(c->clocks[HL_CK_CALLBACK].met_at, c->clocks[HL_CK_CALLBACK].due_at);
	/* two calls inside the window crossed the repeat threshold: no alert */
	cr_assert_eq(w->n_alerts, 0);
}

Test(backfill, future_deadlines_run_as_usual)
{
	struct hl_event *e = ev(HL_EV_CALL_OFFERED, "o1", "c1", NOW - 10 * MIN, true);
	snprintf(e->caller, sizeof e->caller, "+8613800000001");
	struct hl_outcome o = run(e);
	run(ev(HL_EV_CALL_ABANDONED, "a1", "c1", NOW - 5 * MIN, true));
	struct hl_case *c = hl_world_case(w, o.case_id);
	/* callback due NOW+25m, warn point (24m after start) still ahead: pending, warned later */
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING);
	cr_assert_not(c->clocks[HL_CK_CALLBACK].warned);
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].state, HL_CS_PENDING);
}

Test(backfill, passed_warning_point_is_not_sent)
{
	struct hl_event *e = ev(HL_EV_CALL_OFFERED, "o1", "c1", NOW - 25 * MIN, true);
	snprintf(e->caller, sizeof e->caller, "+8613800000001");
	struct hl_outcome o = run(e);
	run(ev(HL_EV_CALL_ABANDONED, "a1", "c1", NOW - 25 * MIN, true));
	struct hl_clock *k = &hl_world_case(w, o.case_id)->clocks[HL_CK_CALLBACK];
	cr_assert_eq(k->state, HL_CS_PENDING);
	cr_assert(k->warned);
	cr_assert_eq(hl_clock_next_fire(k), k->due_at);
}

Test(backfill, live_event_still_alerts)
{
	struct hl_event *e = ev(HL_EV_CALL_OFFERED, "o1", "c1", T0, false);
	snprintf(e->caller, sizeof e->caller, "+8613800000001");
	struct hl_outcome o = run(e);
	run(ev(HL_EV_CALL_ABANDONED, "a1", "c1", T0, false));
	struct hl_case *c = hl_world_case(w, o.case_id);
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING);
	hl_rules_clock_fire(w, &env, c->id, HL_CK_CALLBACK, c->clocks[HL_CK_CALLBACK].seq);
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_BREACHED);
	cr_assert_eq(w->n_alerts, 1);
}

Test(backfill, protocol_parses_the_flag)
{
	struct hl_event e;
	struct hl_error err;
	const char *l1 = "{\"type\":\"call.abandoned\",\"id\":\"x\",\"call_id\":\"c\",\"backfill\":true}";
	cr_assert_eq(hl_parse_request(l1, strlen(l1), NOW, &e, &err), HL_OK, "%s", err.message);
	cr_assert(e.backfill);
	hl_event_free(&e);
	const char *l2 = "{\"type\":\"call.abandoned\",\"id\":\"x\",\"call_id\":\"c\",\"backfill\":\"yes\"}";
	cr_assert_eq(hl_parse_request(l2, strlen(l2), NOW, &e, &err), HL_E_BAD_REQUEST);
	cr_assert_str_eq(err.message, "backfill: must be true or false");
	hl_event_free(&e);
	const char *l3 = "{\"type\":\"call.abandoned\",\"id\":\"x\",\"call_id\":\"c\"}";
	cr_assert_eq(hl_parse_request(l3, strlen(l3), NOW, &e, &err), HL_OK);
	cr_assert_not(e.backfill);
	hl_event_free(&e);
}

/* Work orders imported from history: their clocks behave as the case clocks. */
Test(backfill, order_deadlines_past_are_breached_and_buck_passing_is_quiet)
{
	cfg.sla.sign_ms = 2 * HOUR;
	cfg.sla.reply_ms = 24 * HOUR;
	cfg.sla.redispatch_ms = 2 * HOUR;
	cfg.orders.sign_ms = cfg.sla.sign_ms;
	cfg.orders.reply_ms = cfg.sla.reply_ms;
	cfg.orders.redispatch_ms = cfg.sla.redispatch_ms;
	cfg.orders.urge_after_ms = 24 * HOUR;
	struct hl_event *e = ev(HL_EV_CALL_OFFERED, "o1", "c1", T0, true);
	snprintf(e->caller, sizeof e->caller, "+8613800000002");
	struct hl_outcome o = run(e);

	struct hl_event *d = ev(HL_EV_ORDER_DISPATCH, "d1", NULL, T0 + MIN, true);
	d->case_id = o.case_id;
	d->department = "roads";
	d->order_id = "wo-1";
	run(d);
	struct hl_order *ord = hl_world_order(w, "wo-1");
	cr_assert_not_null(ord);
	for (int k = 0; k < HL_OC__COUNT; k++) {
		cr_assert_eq(ord->clocks[k].state, HL_CS_BREACHED, "order clock %d", k);
		cr_assert_eq(ord->clocks[k].breached_at, ord->clocks[k].due_at);
	}
	/* returned, then dispatched back to the same department: buck passing, but no page */
	struct hl_event *r = ev(HL_EV_ORDER_RETURN, "r1", NULL, T0 + 2 * MIN, true);
	r->order_id = "wo-1";
	r->reason = "not ours";
	run(r);
	struct hl_event *d2 = ev(HL_EV_ORDER_DISPATCH, "d2", NULL, T0 + 3 * MIN, true);
	d2->case_id = o.case_id;
	d2->department = "roads";
	d2->order_id = "wo-2";
	run(d2);
	cr_assert_eq(w->n_alerts, 0);
}
