/*
 * test_orders.c - the pure work-order rules (daemon/orders.c, hotspot.c) and
 * their configuration (config_orders.c): every order event, ordering errors
 * that leave the world untouched, the order clocks in working days on a
 * calendar with a week-long holiday and make-up working days (调休), the
 * urging of overdue replies in working time, case.merge, hotspot.
 *
 * The configuration is loaded from text with hl_config_load_string, so the
 * same code reads it as the daemon does.  The calendar is Asia/Shanghai,
 * Mon-Fri 09:00-17:00, with the 2026 National Day holiday Oct 1-7 and the
 * make-up working days Sun Sep 27 and Sat Oct 10.
 */
#include "orders_fixtures.h"

/* ------------------------------------------------------------ dispatch */

/* Friday 16:00 before the National Day week: Sat closed, Sun 27 is a make-up
 * working day, so 3wd = Sun 27, Mon 28, Tue 29 -> Tue 17:00; sign 2h = 1h on
 * Friday + 1h on Sunday morning. */
Test(orders, friday_afternoon_dispatch_counts_working_days)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-25T16:00:00+08:00");
	int64_t id = open_case(f, P1, at - HOUR);
	struct hl_outcome *o = dispatch(f, id, "wo-1", "water", at);
	ok(o);
	cr_assert_str_eq(o->order_id, "wo-1");
	cr_assert_eq(o->case_id, id);
	struct hl_order *w = hl_world_order(f->w, "wo-1");
	cr_assert_eq(w->status, HL_OS_DISPATCHED);
	cr_assert_eq(w->no, 1);
	cr_assert_eq(w->due_at, T("2026-09-29T17:00:00+08:00"));
	cr_assert_eq(w->sign_due_at, T("2026-09-27T10:00:00+08:00"));
	cr_assert_eq(w->clocks[HL_OC_REPLY].state, HL_CS_PENDING);
	cr_assert_eq(w->clocks[HL_OC_REPLY].allowed_ms, 1 * HOUR + 3 * 8 * HOUR, "open time from dispatch to due");
	cr_assert_str_eq(hl_world_case(f->w, id)->department, "water");
	cr_assert(strstr(f->w->accepted[f->w->n_accepted - 1].description, "order wo-1 dispatched to water"));
	fx_free(f);
}

/* A complaint policy: reply 13wd, sign 1h.  Dispatched on a holiday: the
 * count starts with the next working day. */
Test(orders, policy_reply_and_dispatch_on_a_holiday)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-10-03T11:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	struct hl_event *u = E(f, HL_EV_CASE_UPDATE, at);
	u->case_id = id;
	u->category = "complaint";
	ok(apply(f, u));
	ok(dispatch(f, id, "wo-2", "housing", at));
	struct hl_order *w = hl_world_order(f->w, "wo-2");
	/* working days after Oct 3: 8, 9, 10 (make-up Sat), 12..16, 19..23 -> the 13th is Oct 23 */
	cr_assert_eq(w->due_at, T("2026-10-23T17:00:00+08:00"));
	cr_assert_eq(w->sign_due_at, T("2026-10-08T10:00:00+08:00"));
	/* the case's resolution clock (13wd on the same calendar) has the same deadline */
	fx_free(f);
}

Test(orders, due_overrides_and_0wd_after_closing)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T18:30:00+08:00"); /* Monday, after closing */
	int64_t id = open_case(f, P1, at);
	struct hl_event *e = E(f, HL_EV_ORDER_DISPATCH, at);
	e->case_id = id;
	e->department = "roads";
	e->due = "0wd";
	ok(apply(f, e));
	cr_assert_str_eq(f->out.order_id, "wo:e2", "the daemon's order id from the event id");
	cr_assert_eq(hl_world_order(f->w, "wo:e2")->due_at, T("2026-09-29T17:00:00+08:00"));
	e = E(f, HL_EV_ORDER_DISPATCH, at);
	e->case_id = id;
	e->department = "roads";
	e->due = "soon";
	bad(apply(f, e), HL_E_BAD_REQUEST, "due:");
	fx_free(f);
}

/* -------------------------------------------------------- event order */

Test(orders, ordering_violations_change_nothing)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "wo-3", "water", at));
	ok(order_ev(f, HL_EV_ORDER_RETURN, "wo-3", at + HOUR));
	size_t accepted = f->w->n_accepted, alerts = f->w->n_alerts;
	bad(order_ev(f, HL_EV_ORDER_SIGN, "wo-3", at + 2 * HOUR), HL_E_BAD_REQUEST, "is returned");
	bad(order_ev(f, HL_EV_ORDER_REPLY, "wo-3", at + 2 * HOUR), HL_E_BAD_REQUEST, "is returned");
	bad(order_ev(f, HL_EV_ORDER_EXTEND, "wo-3", at + 2 * HOUR), HL_E_BAD_REQUEST, "is returned");
	bad(order_ev(f, HL_EV_ORDER_EXTEND_APPROVE, "wo-3", at + 2 * HOUR), HL_E_BAD_REQUEST, "is returned");
	bad(order_ev(f, HL_EV_ORDER_SIGN, "nope", at), HL_E_UNKNOWN_ORDER, "order_id: no order 'nope'");
	bad(dispatch(f, id, "wo-3", "water", at), HL_E_BAD_REQUEST, "exists already");
	bad(dispatch(f, 999, "wo-x", "water", at), HL_E_UNKNOWN_CASE, "case_id");
	cr_assert_eq(f->w->n_accepted, accepted);
	cr_assert_eq(f->w->n_alerts, alerts);
	cr_assert_eq(hl_world_order(f->w, "wo-3")->status, HL_OS_RETURNED);
	/* signing twice */
	ok(dispatch(f, id, "wo-4", "gas", at));
	ok(order_ev(f, HL_EV_ORDER_SIGN, "wo-4", at));
	bad(order_ev(f, HL_EV_ORDER_SIGN, "wo-4", at), HL_E_BAD_REQUEST, "is signed");
	fx_free(f);
}

Test(orders, extension_must_come_before_the_deadline)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "wo-5", "water", at)); /* due Thu Oct 1? no: Tue 29, Wed 30, Thu Oct 8 */
	struct hl_order *w = hl_world_order(f->w, "wo-5");
	cr_assert_eq(w->due_at, T("2026-10-08T17:00:00+08:00"));
	bad(order_ev(f, HL_EV_ORDER_EXTEND, "wo-5", w->due_at), HL_E_BAD_REQUEST, "before the deadline");
	ok(order_ev(f, HL_EV_ORDER_EXTEND, "wo-5", w->due_at - 1));
	cr_assert_eq(w->status, HL_OS_EXTENSION_REQUESTED);
	cr_assert_eq(w->extend_until, T("2026-10-10T17:00:00+08:00"), "2wd after the deadline: Fri 9, Sat 10 (make-up)");
	cr_assert_eq(w->due_at, T("2026-10-08T17:00:00+08:00"), "unchanged until approved");
	cr_assert_eq(hl_world_case(f->w, id)->clocks[HL_CK_CALLBACK].state, HL_CS_NONE);
	ok(order_ev(f, HL_EV_ORDER_EXTEND_APPROVE, "wo-5", w->due_at));
	cr_assert_eq(w->due_at, T("2026-10-10T17:00:00+08:00"));
	cr_assert_eq(w->clocks[HL_OC_REPLY].seq, 2, "a new run of the reply clock");
	cr_assert_eq(w->status, HL_OS_DISPATCHED);
	cr_assert_eq(hl_world_case(f->w, id)->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING, "the caller must be told");
	fx_free(f);
}

/* A `due` or `by` whose deadline cannot be written (after 9999-12-31, the end
 * of RFC 3339, or "never") is the sender's mistake: bad_request naming the
 * field, and nothing changes.  Before, the order was accepted by the rules
 * and refused by PostgreSQL ("internal", interval out of range). */
Test(orders, due_or_extension_beyond_year_9999_is_refused)
{
	static const char *const NOCAL = "database = { conninfo = \"dbname=x\"; };\n"
	                                 "sla = { update = \"0\"; };\n";
	struct fx *f = fx_new(NOCAL);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	size_t accepted = f->w->n_accepted;
	struct hl_event *e = E(f, HL_EV_ORDER_DISPATCH, at);
	e->case_id = id;
	e->department = "roads";
	e->due = "200000000d";
	bad(apply(f, e), HL_E_BAD_REQUEST, "due:");
	e = E(f, HL_EV_ORDER_DISPATCH, at);
	e->case_id = id;
	e->department = "roads";
	e->due = "9000000000000000s";
	bad(apply(f, e), HL_E_BAD_REQUEST, "due:");
	cr_assert_eq(f->w->n_accepted, accepted);
	cr_assert_null(hl_world_order(f->w, "wo:e3"));
	/* 2900000d ends in 9966: still a deadline */
	e = E(f, HL_EV_ORDER_DISPATCH, at);
	e->case_id = id;
	e->department = "roads";
	e->order_id = "wo-far";
	e->due = "2900000d";
	ok(apply(f, e));
	struct hl_order *o = hl_world_order(f->w, "wo-far");
	ok(dispatch(f, id, "wo-6", "water", at));
	e = E(f, HL_EV_ORDER_EXTEND, at + HOUR);
	e->order_id = "wo-6";
	e->reason = "r";
	e->by = "9000000000000000s";
	bad(apply(f, e), HL_E_BAD_REQUEST, "by:");
	cr_assert_eq(hl_world_order(f->w, "wo-6")->status, HL_OS_DISPATCHED);
	cr_assert_lt(o->due_at, T("9999-12-31T23:59:59.999Z"));
	fx_free(f);
}

Test(orders, reply_resolves_only_when_no_other_order_is_open)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "wo-6a", "water", at));
	ok(dispatch(f, id, "wo-6b", "roads", at));
	ok(order_ev(f, HL_EV_ORDER_REPLY, "wo-6a", at + HOUR));
	struct hl_case *c = hl_world_case(f->w, id);
	cr_assert_eq(c->status, HL_ST_OPEN, "roads still has the case");
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING, "the caller is told of the first answer");
	cr_assert_eq(hl_world_order(f->w, "wo-6a")->clocks[HL_OC_SIGN].state, HL_CS_MET, "a reply shows it was received");
	ok(order_ev(f, HL_EV_ORDER_REPLY, "wo-6b", at + 2 * HOUR));
	cr_assert_eq(c->status, HL_ST_RESOLVED);
	fx_free(f);
}

/* ------------------------------------------------- return, buck passing */

Test(orders, return_arms_redispatch_and_back_to_the_same_department_is_buck_passing)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "a1", "roads", at));
	ok(order_ev(f, HL_EV_ORDER_RETURN, "a1", at + HOUR));
	struct hl_case *c = hl_world_case(f->w, id);
	cr_assert_eq(c->clocks[HL_CK_REDISPATCH].state, HL_CS_PENDING);
	cr_assert_eq(c->clocks[HL_CK_REDISPATCH].due_at, at + 3 * HOUR);
	cr_assert_eq(hl_world_order(f->w, "a1")->clocks[HL_OC_REPLY].state, HL_CS_STOPPED);
	ok(dispatch(f, id, "b1", "water", at + 2 * HOUR));
	cr_assert_eq(c->clocks[HL_CK_REDISPATCH].state, HL_CS_MET);
	cr_assert_null(alert_of(f, "buck_passing"));
	ok(order_ev(f, HL_EV_ORDER_RETURN, "b1", at + 3 * HOUR));
	ok(dispatch(f, id, "a2", "roads", at + 4 * HOUR));
	struct hl_alert *a = alert_of(f, "buck_passing");
	cr_assert_not_null(a);
	cr_assert_str_eq(a->order_id, "a2");
	cr_assert_str_eq(a->department, "roads");
	cr_assert(strstr(a->detail, "returned order a1"), "%s", a->detail);
	fx_free(f);
}

/* ------------------------------------------------------- clocks, urging */

Test(orders, overdue_reply_is_urged_in_working_time)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-25T16:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "wo-7", "water", at));
	struct hl_order *w = hl_world_order(f->w, "wo-7");
	f->env.now = w->due_at - 1;
	hl_orders_clock_fire(f->w, &f->env, id, 1, HL_OC_REPLY, 1);
	cr_assert_null(alert_of(f, "order_reply_overdue"), "early: nothing");
	f->env.now = w->due_at; /* the deadline's own millisecond: a reply then is in time */
	hl_orders_clock_fire(f->w, &f->env, id, 1, HL_OC_REPLY, 1);
	cr_assert_null(alert_of(f, "order_reply_overdue"), "at the deadline: nothing yet");
	f->env.now = w->due_at + 1;
	hl_orders_clock_fire(f->w, &f->env, id, 1, HL_OC_REPLY, 1);
	hl_orders_clock_fire(f->w, &f->env, id, 1, HL_OC_REPLY, 1); /* twice: one alert */
	struct hl_alert *a = alert_of(f, "order_reply_overdue");
	cr_assert_not_null(a);
	cr_assert_str_eq(a->order_id, "wo-7");
	cr_assert_str_eq(a->department, "water");
	cr_assert_eq(w->clocks[HL_OC_REPLY].state, HL_CS_BREACHED);
	/* 催办 at Tue 29 17:00; 督办 one working day later: Wed 30 17:00, then after the holiday week */
	cr_assert_eq(a->escalate_at, T("2026-09-30T17:00:00+08:00"));
	a->id = 1;
	hl_world_set_alert_id(f->w, a, 1);
	f->env.now = a->escalate_at;
	hl_rules_escalate(f->w, &f->env, 1);
	cr_assert_eq(a->level, 2);
	cr_assert_eq(a->escalate_at, T("2026-10-08T17:00:00+08:00"), "never inside the holiday");
	fx_free(f);
}

Test(orders, sign_overdue_and_stale_timer)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "wo-8", "gas", at));
	f->env.now = at + 2 * HOUR + 1;
	hl_orders_clock_fire(f->w, &f->env, id, 1, HL_OC_SIGN, 7); /* stale seq */
	cr_assert_null(alert_of(f, "order_sign_overdue"));
	hl_orders_clock_fire(f->w, &f->env, id, 1, HL_OC_SIGN, 1);
	struct hl_alert *a = alert_of(f, "order_sign_overdue");
	cr_assert_not_null(a);
	cr_assert_eq(a->escalate_at, at + 2 * HOUR + 1 + 15 * 60 * SEC, "escalation.after for the sign alert");
	ok(order_ev(f, HL_EV_ORDER_SIGN, "wo-8", at + 3 * HOUR));
	cr_assert_eq(hl_world_order(f->w, "wo-8")->clocks[HL_OC_SIGN].state, HL_CS_MET);
	fx_free(f);
}

/* --------------------------------------------------------------- merge */

Test(orders, merge_and_resolve_owes_merged_callers)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t a = open_case(f, "+8613800000001", at), b = open_case(f, "+8613800000002", at);
	struct hl_event *m = E(f, HL_EV_CASE_MERGE, at);
	m->case_id = b;
	m->into = b;
	bad(apply(f, m), HL_E_BAD_REQUEST, "itself");
	m = E(f, HL_EV_CASE_MERGE, at);
	m->case_id = b;
	m->into = a;
	ok(apply(f, m));
	struct hl_case *cb = hl_world_case(f->w, b);
	cr_assert_eq(cb->status, HL_ST_MERGED);
	cr_assert_eq(cb->clocks[HL_CK_RESOLUTION].state, HL_CS_STOPPED);
	m = E(f, HL_EV_CASE_MERGE, at);
	m->case_id = a;
	m->into = b;
	bad(apply(f, m), HL_E_BAD_REQUEST, "is merged");
	struct hl_event *r = E(f, HL_EV_CASE_RESOLVE, at + HOUR);
	r->case_id = a;
	ok(apply(f, r));
	cr_assert_eq(cb->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING);
	cr_assert(strstr(f->w->accepted[f->w->n_accepted - 1].description, "merged case"));
	fx_free(f);
}

/* ------------------------------------------------------------- hotspot */

Test(orders, hotspot_needs_the_whole_key)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t a = open_case(f, "+8613800000001", at), b = open_case(f, "+8613800000002", at);
	struct hl_event *u = E(f, HL_EV_CASE_UPDATE, at);
	u->case_id = a, u->category = "water", u->area = "Haidian";
	ok(apply(f, u));
	u = E(f, HL_EV_CASE_UPDATE, at + 1);
	u->case_id = b, u->category = "water";
	ok(apply(f, u));
	cr_assert_null(alert_of(f, "hotspot"), "no area yet");
	u = E(f, HL_EV_CASE_UPDATE, at + 2);
	u->case_id = b, u->area = "Haidian";
	ok(apply(f, u));
	struct hl_alert *h = alert_of(f, "hotspot");
	cr_assert_not_null(h);
	cr_assert(strstr(h->detail, "[\"water\",\"Haidian\"]"), "%s", h->detail);
	fx_free(f);
}

static struct hl_outcome *classify(struct fx *f, int64_t case_id, const char *category, const char *area, hl_ms at)
{
	struct hl_event *u = E(f, HL_EV_CASE_UPDATE, at);
	u->case_id = case_id, u->category = (char *)category, u->area = (char *)area;
	return apply(f, u);
}

/* A case that leaves a key and comes back is one case of that key, not two
 * (the per-key lists of hotspot.c keep its old entry, which must not count). */
Test(orders, hotspot_counts_a_case_once_when_it_moves_back)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t a = open_case(f, "+8613800000001", at), b = open_case(f, "+8613800000002", at);
	ok(classify(f, a, "water", "Haidian", at));
	ok(classify(f, a, "water", "Chaoyang", at + 1));
	ok(classify(f, a, "water", "Haidian", at + 2));
	cr_assert_null(alert_of(f, "hotspot"), "one case, counted once");
	ok(classify(f, b, "water", "Haidian", at + 3));
	struct hl_alert *h = alert_of(f, "hotspot");
	cr_assert_not_null(h);
	char want[64];
	snprintf(want, sizeof want, "2 cases with [\"water\",\"Haidian\"] within 3600s: cases %lld, %lld", (long long)a,
	         (long long)b);
	cr_assert_str_eq(h->detail, want);
	fx_free(f);
}

/* Rows the store loads count from their own time, also when they come after
 * an event of the batch was classified. */
Test(orders, hotspot_counts_loaded_rows_by_their_time)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t a = open_case(f, "+8613800000001", at), b = open_case(f, "+8613800000002", at);
	ok(classify(f, a, "water", "Haidian", at + 5 * SEC));
	cr_assert_null(alert_of(f, "hotspot"), "one case");
	hl_world_add_hotspot_case(f->w, &(struct hl_hotspot_case){.case_id = 901, .category = "water",
	                                                          .area = "Haidian", .at = at + 6 * SEC});
	hl_world_add_hotspot_case(f->w, &(struct hl_hotspot_case){.case_id = 902, .category = "water",
	                                                          .area = "Haidian", .at = at - 2 * HOUR});
	ok(classify(f, b, "water", "Haidian", at + 7 * SEC));
	struct hl_alert *h = alert_of(f, "hotspot");
	cr_assert_not_null(h);
	char want[96];
	snprintf(want, sizeof want, "3 cases with [\"water\",\"Haidian\"] within 3600s: cases %lld, %lld, 901",
	         (long long)a, (long long)b);
	cr_assert_str_eq(h->detail, want, "902 is outside the window");
	fx_free(f);
}

/* A case that got the key before a case already counted (an event delivered
 * late; or, with several daemons, the batch with the later event committed
 * first and counted back from its own time without this one) completes the
 * window that ends at that later case: the crossing is alerted now, once.
 * Before, each side counted only the cases up to its own event, and the
 * crossing was never alerted (cluster::hotspot_reached_through_two_daemons_alerts_once
 * failed whenever the later event's daemon committed first). */
Test(orders, hotspot_late_case_completes_a_later_crossing)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t a = open_case(f, "+8613800000001", at), b = open_case(f, "+8613800000002", at);
	hl_world_add_hotspot_case(f->w, &(struct hl_hotspot_case){.case_id = 900, .category = "water",
	                                                          .area = "Haidian", .at = at + 10 * SEC});
	ok(classify(f, a, "water", "Haidian", at + 5 * SEC));
	struct hl_alert *h = alert_of(f, "hotspot");
	cr_assert_not_null(h, "the window ending at case 900 holds two cases");
	char want[96];
	snprintf(want, sizeof want, "2 cases with [\"water\",\"Haidian\"] within 3600s: cases %lld, 900", (long long)a);
	cr_assert_str_eq(h->detail, want);
	/* the next case, earlier still, is counted after that crossing: no second alert */
	ok(classify(f, b, "water", "Haidian", at + 7 * SEC));
	int n = 0;
	for (size_t i = 0; i < f->w->n_alerts; i++)
		n += strcmp(f->w->alerts[i]->kind, "hotspot") == 0;
	cr_assert_eq(n, 1, "one alert per crossing");
	/* a case later than every other, more than a window after them: no alert */
	hl_world_add_hotspot_case(f->w, &(struct hl_hotspot_case){.case_id = 903, .category = "water",
	                                                          .area = "Chaoyang", .at = at + 3 * HOUR});
	int64_t c = open_case(f, "+8613800000003", at);
	ok(classify(f, c, "water", "Chaoyang", at + 5 * SEC));
	n = 0;
	for (size_t i = 0; i < f->w->n_alerts; i++)
		n += strcmp(f->w->alerts[i]->kind, "hotspot") == 0;
	cr_assert_eq(n, 1, "case 903's window does not hold this one");
	fx_free(f);
}

/* The orders of a case come in the order they were added, whatever other
 * cases' orders are in between; a reset empties the index with the rows. */
Test(orders, case_orders_in_order_and_reset)
{
	struct hl_world *w = hl_world_new();
	const char *ids[] = {"wo-a1", "wo-b1", "wo-a2", "wo-b2", "wo-a3"};
	for (int i = 0; i < 5; i++) {
		struct hl_order o = {.case_id = i % 2 ? 8 : 7, .no = i / 2 + 1};
		snprintf(o.order_id, sizeof o.order_id, "%s", ids[i]);
		hl_world_add_order(w, &o);
	}
	const char *want[] = {"wo-a1", "wo-a2", "wo-a3"};
	int n = 0;
	for (struct hl_order *o = hl_world_case_orders_first(w, 7); o; o = hl_world_case_orders_next(w, o))
		cr_assert_str_eq(o->order_id, want[n++]);
	cr_assert_eq(n, 3);
	cr_assert_eq(hl_world_order_max_no(w, 7), 3);
	cr_assert_eq(hl_world_order_max_no(w, 8), 2);
	cr_assert_str_eq(hl_world_order_no(w, 8, 2)->order_id, "wo-b2");
	cr_assert_null(hl_world_order_no(w, 8, 3));
	cr_assert_null(hl_world_case_orders_first(w, 9));
	hl_world_reset(w);
	cr_assert_null(hl_world_order(w, "wo-a1"));
	cr_assert_null(hl_world_order_no(w, 7, 1));
	cr_assert_eq(hl_world_order_max_no(w, 7), 0);
	struct hl_order o = {.case_id = 7, .no = 1};
	snprintf(o.order_id, sizeof o.order_id, "wo-a1");
	cr_assert_eq(hl_world_add_order(w, &o), hl_world_order(w, "wo-a1"));
	cr_assert_eq(hl_world_case_orders_first(w, 7), hl_world_order(w, "wo-a1"));
	hl_world_free(w);
}

/* ------------------------------------------------------- configuration */

static void conf_error(const char *text, const char *want)
{
	struct hl_config cfg;
	char err[512];
	cr_assert_neq(hl_config_load_string(text, "x.conf", NULL, &cfg, err, sizeof err), 0, "accepted: %s", text);
	cr_assert(strstr(err, want), "'%s' lacks '%s'", err, want);
}

Test(orders, config_wd_needs_a_calendar_and_names_the_key)
{
	conf_error("database = { conninfo = \"x\"; };\norders = { reply = \"3wd\"; };", "x.conf:2: orders.reply: working days");
	conf_error("database = { conninfo = \"x\"; };\nsla = { resolution = \"13wd\"; };", "x.conf:2: sla.resolution:");
	conf_error("database = { conninfo = \"x\"; };\nsla = {\n policies = ( { category = \"a\"; reply = \"2wd\"; } ); };",
	           "x.conf:3: sla.policies.[0].reply:");
	conf_error("database = { conninfo = \"x\"; };\norders = { reply = \"xwd\"; };", "orders.reply: bad working-day span");
	conf_error("database = { conninfo = \"x\"; };\nhotspot = { key = [ \"caller\" ]; };", "hotspot.key.[0]");
	conf_error("database = { conninfo = \"x\"; };\norders = { calendar = \"nope\"; };", "orders.calendar: unknown calendar");
	conf_error("database = { conninfo = \"x\"; };\norders = { sing = \"1h\"; };", "did you mean 'sign'");

	/* defaults without a calendar: 7d and 1d of wall-clock time */
	struct hl_config cfg;
	char err[512];
	cr_assert_eq(hl_config_load_string("database = { conninfo = \"x\"; };", "x.conf", NULL, &cfg, err, sizeof err), 0,
	             "%s", err);
	cr_assert_eq(cfg.orders.reply_ms, 7 * 24 * HOUR);
	cr_assert_eq(cfg.sla.reply_ms, 7 * 24 * HOUR);
	cr_assert_eq(cfg.orders.sign_ms, 2 * HOUR);
	cr_assert_eq(cfg.orders.urge_after_ms, 24 * HOUR);
	cr_assert_eq(cfg.hotspot.threshold, 10);
	cr_assert_eq(cfg.hotspot.n_key, 2);
	hl_config_free(&cfg);

	/* with a calendar: the contract's 5wd; policies inherit orders.* */
	struct fx *f = fx_new(CONF);
	cr_assert(hl_span_is_wd(f->cfg.sla.resolution_ms) && hl_span_wd(f->cfg.sla.resolution_ms) == 13);
	cr_assert_eq(f->cfg.policies[0].reply_ms, HL_SPAN_WD(13));
	cr_assert_eq(f->cfg.policies[0].sign_ms, HOUR);
	cr_assert_eq(f->cfg.policies[0].redispatch_ms, 2 * HOUR, "inherited from orders.redispatch");
	fx_free(f);
}

/* SIGHUP applies orders and hotspot like sla: no restart key */
Test(orders, reload_applies_orders_and_hotspot)
{
	struct hl_config a, b;
	char err[512];
	cr_assert_eq(hl_config_load_string(CONF, "a.conf", NULL, &a, err, sizeof err), 0, "%s", err);
	cr_assert_eq(hl_config_load_string("database = { conninfo = \"dbname=x\"; };\n"
	                                   "orders = { sign = \"4h\"; reply = \"10d\"; };\nhotspot = { threshold = 0; };\n"
	                                   /* without calendars the report zone would change: a restart key */
	                                   "report = { timezone = \"Asia/Shanghai\"; };",
	                                   "b.conf", NULL, &b, err, sizeof err), 0, "%s", err);
	cr_assert_null(hl_config_restart_key(&a, &b));
	cr_assert_eq(b.sla.sign_ms, 4 * HOUR);
	cr_assert_eq(b.hotspot.threshold, 0);
	hl_config_free(&a);
	hl_config_free(&b);
}

/* Working days across a DST change: New York falls back on Sun 2026-11-01.
 * Friday 16:00 EDT + 1wd = Monday 17:00 EST (22:00Z, not 21:00Z); the sign
 * clock's 2h = 1h on Friday + 1h on Monday morning. */
Test(orders, working_days_across_dst)
{
	struct fx *f = fx_new(
		"database = { conninfo = \"dbname=x\"; };\n"
		"calendars = ( { name = \"ny\"; timezone = \"America/New_York\";\n"
		"  hours = { mon = \"09:00-17:00\"; tue = \"09:00-17:00\"; wed = \"09:00-17:00\";\n"
		"            thu = \"09:00-17:00\"; fri = \"09:00-17:00\"; }; } );\n"
		"orders = { calendar = \"ny\"; reply = \"1wd\"; sign = \"2h\"; };\n");
	hl_ms at = T("2026-10-30T16:00:00-04:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "wo-ny", "parks", at));
	struct hl_order *w = hl_world_order(f->w, "wo-ny");
	cr_assert_eq(w->due_at, T("2026-11-02T22:00:00Z"));
	cr_assert_eq(w->sign_due_at, T("2026-11-02T15:00:00Z"), "10:00 EST");
	cr_assert_eq(w->clocks[HL_OC_REPLY].allowed_ms, 9 * HOUR, "1h Friday + 8h Monday of open time");
	fx_free(f);
}

Test(orders, config_policy_reply_must_not_be_zero)
{
	conf_error("database = { conninfo = \"x\"; };\nsla = { policies = (\n { category = \"a\"; reply = \"0\"; } ); };",
	           "x.conf:3: sla.policies.[0].reply: must not be 0");
}

/* What a duplicate of a stored event is answered with (store_load.c reads
 * the stored type and body order_id): the order it named, the id made for a
 * dispatch without one, nothing for an event that named no order. */
Test(orders, stored_order_id_of_a_duplicate)
{
	char out[HL_ID_BYTES + 1];
	hl_orders_stored_order_id("order.sign", "e1", "wo-7", out, sizeof out);
	cr_assert_str_eq(out, "wo-7");
	hl_orders_stored_order_id("order.dispatch", "e2", NULL, out, sizeof out);
	cr_assert_str_eq(out, "wo:e2");
	hl_orders_stored_order_id("order.dispatch", "e3", "mine", out, sizeof out);
	cr_assert_str_eq(out, "mine");
	hl_orders_stored_order_id("call.offered", "e4", NULL, out, sizeof out);
	cr_assert_str_eq(out, "");
	hl_orders_stored_order_id("case.merge", "e5", "odd", out, sizeof out);
	cr_assert_str_eq(out, "", "case.merge names no order");
}

/* CONTRACT 6: order.extend asks for more time.  `by = "0"` is no time at
 * all, yet on a calendar it was added to a deadline at closing time and gave
 * the next opening: "0" before a weekend or the National Day week moved the
 * deadline past it once approved.  Refused, as `due = "0"` is.  ("0wd" is
 * the close of the deadline's day: later than a deadline at noon.) */
Test(orders, extension_by_nothing_is_refused)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "wo-z", "water", at));
	struct hl_order *w = hl_world_order(f->w, "wo-z");
	cr_assert_eq(w->due_at, T("2026-10-08T17:00:00+08:00"));
	const char *nothing[] = { "0", "0s", "0h" };
	for (size_t i = 0; i < sizeof nothing / sizeof nothing[0]; i++) {
		struct hl_event *e = E(f, HL_EV_ORDER_EXTEND, at + HOUR);
		e->order_id = "wo-z";
		e->reason = "r";
		e->by = (char *)nothing[i];
		bad(apply(f, e), HL_E_BAD_REQUEST, "by: must not be 0");
		cr_assert_eq(w->status, HL_OS_DISPATCHED, "%s", nothing[i]);
	}
	fx_free(f);
}

/* order.extend with both `until` and `by`: `until` is what is asked for, and
 * the history line must not claim the `by` that was not used ("asks for 1h
 * more time, due in 26d if approved"). */
Test(orders, extension_with_until_and_by_says_what_it_used)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "wo-u", "water", at));
	struct hl_event *e = E(f, HL_EV_ORDER_EXTEND, at + HOUR);
	e->order_id = "wo-u";
	e->reason = "r";
	e->until = "2026-10-20T17:00:00+08:00";
	e->by = "1h";
	ok(apply(f, e));
	cr_assert_eq(hl_world_order(f->w, "wo-u")->extend_until, T("2026-10-20T17:00:00+08:00"));
	const char *line = f->w->accepted[f->w->n_accepted - 1].description;
	cr_assert(!strstr(line, "1h more time") && strstr(line, "asks for more time"), "%s", line);
	fx_free(f);
}
