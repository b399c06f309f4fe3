/*
 * test_orders_lifecycle.c - work orders across the case's own life (pure
 * rules, daemon/orders.c and rules.c): what close, reopen, resolve and merge
 * do to the order clocks and to the redispatch clock, merges of merges, the
 * redispatch alerts' tags and the extension's history line.
 *
 * Each test here is a defect a reviewer found: an approval on a closed case
 * urged the department about it; a reopen left open orders without clocks;
 * a resolved or merged case was still owed a dispatch nobody could make; a
 * case merged into a case later merged elsewhere was never called back.
 */
#include "orders_fixtures.h"

static struct hl_outcome *case_ev(struct fx *f, enum hl_type t, int64_t case_id, hl_ms at)
{
	struct hl_event *e = E(f, t, at);
	e->case_id = case_id;
	return apply(f, e);
}

static struct hl_outcome *merge(struct fx *f, int64_t case_id, int64_t into, hl_ms at)
{
	struct hl_event *e = E(f, HL_EV_CASE_MERGE, at);
	e->case_id = case_id;
	e->into = into;
	return apply(f, e);
}

static const char *last_line(struct fx *f)
{
	return f->w->accepted[f->w->n_accepted - 1].description;
}

static int64_t merged_into(struct fx *f, int64_t case_id)
{
	for (size_t i = 0; i < f->w->n_merges; i++)
		if (f->w->merges[i].case_id == case_id)
			return f->w->merges[i].into;
	return 0;
}

/* An extension approved after the case was closed: the reply clock's new run
 * stays stopped and nobody is owed a call back. */
Test(lifecycle, approval_on_a_closed_case_urges_nobody)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "x1", "water", at));
	ok(order_ev(f, HL_EV_ORDER_EXTEND, "x1", at + HOUR));
	ok(case_ev(f, HL_EV_CASE_CLOSE, id, at + 2 * HOUR));
	ok(order_ev(f, HL_EV_ORDER_EXTEND_APPROVE, "x1", at + 3 * HOUR));
	struct hl_clock *k = &hl_world_order(f->w, "x1")->clocks[HL_OC_REPLY];
	cr_assert_eq(k->state, HL_CS_STOPPED);
	cr_assert_eq(k->seq, 2);
	cr_assert(strstr(last_line(f), "is closed: reply stays stopped"), "%s", last_line(f));
	cr_assert_neq(hl_world_case(f->w, id)->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING);
	fx_free(f);
}

/* Reopened: an open order's clocks run again to the deadline they had; one
 * that had breached before the close is breached again, without a second
 * alert; a replied order stays as it was. */
Test(lifecycle, reopen_restarts_the_clocks_of_open_orders)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "r1", "water", at));
	ok(dispatch(f, id, "r2", "roads", at));
	ok(dispatch(f, id, "r3", "gas", at));
	ok(order_ev(f, HL_EV_ORDER_SIGN, "r2", at + HOUR));
	struct hl_event *e = E(f, HL_EV_ORDER_REPLY, at + HOUR);
	e->order_id = "r3";
	e->result = "explained";
	ok(apply(f, e));
	struct hl_order *r1 = hl_world_order(f->w, "r1"), *r2 = hl_world_order(f->w, "r2");
	hl_ms sign_due = r1->clocks[HL_OC_SIGN].due_at, reply_due = r1->clocks[HL_OC_REPLY].due_at;
	f->env.now = sign_due + 1; /* r1's sign deadline passes: its alert */
	hl_orders_clock_fire(f->w, &f->env, id, r1->no, HL_OC_SIGN, 1);
	cr_assert_not_null(alert_of(f, "order_sign_overdue"));
	size_t alerts = f->w->n_alerts;
	ok(case_ev(f, HL_EV_CASE_CLOSE, id, sign_due + HOUR));
	cr_assert_eq(r1->clocks[HL_OC_REPLY].state, HL_CS_STOPPED);
	ok(case_ev(f, HL_EV_CASE_REOPEN, id, sign_due + 2 * HOUR));
	cr_assert_eq(r1->clocks[HL_OC_SIGN].state, HL_CS_BREACHED, "breached before the close: still overdue");
	cr_assert_eq(r1->clocks[HL_OC_SIGN].seq, 1);
	cr_assert_eq(r1->clocks[HL_OC_REPLY].state, HL_CS_PENDING);
	cr_assert_eq(r1->clocks[HL_OC_REPLY].seq, 2);
	cr_assert_eq(r1->clocks[HL_OC_REPLY].due_at, reply_due, "the department's deadline never moved");
	cr_assert_eq(r2->clocks[HL_OC_SIGN].state, HL_CS_MET);
	cr_assert_eq(r2->clocks[HL_OC_REPLY].state, HL_CS_PENDING);
	cr_assert_eq(hl_world_order(f->w, "r3")->clocks[HL_OC_REPLY].state, HL_CS_MET);
	cr_assert_eq(f->w->n_alerts, alerts, "no second sign alert");
	cr_assert(strstr(last_line(f), "order r1 sign still overdue"), "%s", last_line(f));
	cr_assert(strstr(last_line(f), "order r1 reply restarted"), "%s", last_line(f));
	/* the new run's timer alerts at the old deadline; the old run's is stale */
	f->env.now = reply_due + 1;
	hl_orders_clock_fire(f->w, &f->env, id, r1->no, HL_OC_REPLY, 1);
	cr_assert_null(alert_of(f, "order_reply_overdue"));
	hl_orders_clock_fire(f->w, &f->env, id, r1->no, HL_OC_REPLY, 2);
	cr_assert_not_null(alert_of(f, "order_reply_overdue"));
	fx_free(f);
}

/* A resolved or merged case is not dispatched again: the dispatch a returned
 * order made owed is owed no more.  Reopened, with the returned order the
 * last word and no order open, it is owed again. */
Test(lifecycle, redispatch_stops_on_resolve_and_merge_and_returns_on_reopen)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t a = open_case(f, "+8613800000001", at), b = open_case(f, "+8613800000002", at);
	ok(dispatch(f, a, "d1", "parks", at));
	ok(order_ev(f, HL_EV_ORDER_RETURN, "d1", at + 10 * SEC));
	ok(dispatch(f, b, "d2", "parks", at));
	ok(order_ev(f, HL_EV_ORDER_RETURN, "d2", at + 10 * SEC));
	struct hl_case *ca = hl_world_case(f->w, a), *cb = hl_world_case(f->w, b);
	cr_assert_eq(ca->clocks[HL_CK_REDISPATCH].state, HL_CS_PENDING);
	ok(case_ev(f, HL_EV_CASE_RESOLVE, a, at + 20 * SEC));
	cr_assert_eq(ca->clocks[HL_CK_REDISPATCH].state, HL_CS_STOPPED);
	ok(merge(f, b, a, at + 20 * SEC));
	cr_assert_eq(cb->clocks[HL_CK_REDISPATCH].state, HL_CS_STOPPED);
	/* the stopped runs' timers raise nothing */
	f->env.now = at + 3 * HOUR;
	hl_rules_clock_fire(f->w, &f->env, a, HL_CK_REDISPATCH, 1);
	hl_rules_clock_fire(f->w, &f->env, b, HL_CK_REDISPATCH, 1);
	cr_assert_null(alert_of(f, "redispatch_overdue"));
	ok(case_ev(f, HL_EV_CASE_REOPEN, a, at + 4 * HOUR));
	cr_assert_eq(ca->clocks[HL_CK_REDISPATCH].state, HL_CS_PENDING);
	cr_assert_eq(ca->clocks[HL_CK_REDISPATCH].due_at, at + 6 * HOUR, "counted from the reopen");
	fx_free(f);
}

/* Both redispatch alerts, due-soon and overdue, name the returned order and
 * its department (CONTRACT 6: order alerts carry order_id and department). */
Test(lifecycle, redispatch_due_soon_is_tagged_like_the_overdue)
{
	char conf[2048];
	const char *sla = strstr(CONF, "sla = { ");
	cr_assert_not_null(sla);
	snprintf(conf, sizeof conf, "%.*ssla = { warn_at = 0.5; %s", (int)(sla - CONF), CONF, sla + strlen("sla = { "));
	struct fx *f = fx_new(conf);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "t1", "parks", at));
	ok(order_ev(f, HL_EV_ORDER_RETURN, "t1", at + 10 * SEC));
	struct hl_clock *k = &hl_world_case(f->w, id)->clocks[HL_CK_REDISPATCH];
	cr_assert_neq(k->warn_at, 0);
	f->env.now = k->warn_at + 1;
	hl_rules_clock_fire(f->w, &f->env, id, HL_CK_REDISPATCH, k->seq);
	struct hl_alert *soon = alert_of(f, "redispatch_due_soon");
	cr_assert_not_null(soon);
	cr_assert_str_eq(soon->order_id, "t1");
	cr_assert_str_eq(soon->department, "parks");
	f->env.now = k->due_at + 1;
	hl_rules_clock_fire(f->w, &f->env, id, HL_CK_REDISPATCH, k->seq);
	struct hl_alert *late = alert_of(f, "redispatch_overdue");
	cr_assert_not_null(late);
	cr_assert_str_eq(late->order_id, "t1");
	fx_free(f);
}

/* A merged into B, then B merged into C: A follows into C, so resolving C
 * owes A's caller the call back as well as B's. */
Test(lifecycle, merges_of_merges_are_all_called_back)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t a = open_case(f, "+8613800000001", at), b = open_case(f, "+8613800000002", at),
	        c = open_case(f, "+8613800000003", at);
	ok(merge(f, a, b, at + SEC));
	ok(merge(f, b, c, at + 2 * SEC));
	cr_assert_eq(merged_into(f, a), c);
	cr_assert_eq(merged_into(f, b), c);
	cr_assert(strstr(last_line(f), "case 100 follows into case 102"), "%s", last_line(f));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, c, at + HOUR));
	cr_assert_eq(hl_world_case(f->w, a)->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING);
	cr_assert_eq(hl_world_case(f->w, b)->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING);
	fx_free(f);
}

/* Into a case resolved already: the callers of both the merged case and the
 * cases merged into it are owed their call back at once.  A case resolved
 * before it was merged keeps its merged cases: they were owed theirs then. */
Test(lifecycle, merges_into_a_resolved_case)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t a = open_case(f, "+8613800000001", at), b = open_case(f, "+8613800000002", at),
	        c = open_case(f, "+8613800000003", at), d = open_case(f, "+8613800000004", at);
	ok(merge(f, a, b, at + SEC));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, c, at + 2 * SEC));
	ok(merge(f, b, c, at + 3 * SEC));
	cr_assert_eq(merged_into(f, a), c);
	cr_assert_eq(hl_world_case(f->w, a)->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING);
	cr_assert_eq(hl_world_case(f->w, b)->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING);
	/* d resolved (a, merged into it, owed then), then d merged into a fresh case */
	int64_t e = open_case(f, "+8613800000005", at);
	int64_t g = open_case(f, "+8613800000006", at);
	ok(merge(f, g, d, at + 4 * SEC));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, d, at + 5 * SEC));
	ok(merge(f, d, e, at + 6 * SEC));
	cr_assert_eq(merged_into(f, g), d);
	fx_free(f);
}

/* Resolving a merged case itself (case.resolve, or an order's resolving
 * reply) made it `resolved`: it dropped out of the merge, and resolving the
 * case it was merged into no longer owed its caller the call back
 * (CONTRACT.md 6).  Recorded only, as a reopen of a merged case. */
Test(lifecycle, resolving_a_merged_case_keeps_its_caller_owed)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t a = open_case(f, "+8613800000001", at), b = open_case(f, "+8613800000002", at);
	ok(merge(f, a, b, at + SEC));
	struct hl_case *ca = hl_world_case(f->w, a);
	cr_assert_eq(ca->status, HL_ST_MERGED);
	ok(case_ev(f, HL_EV_CASE_RESOLVE, a, at + 2 * SEC));
	cr_assert_eq(ca->status, HL_ST_MERGED, "still merged");
	cr_assert_eq(ca->resolved_at, 0);
	cr_assert(strstr(last_line(f), "is merged: recorded only"), "%s", last_line(f));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, b, at + HOUR));
	cr_assert_eq(ca->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING, "a's caller is called back");
	fx_free(f);
}

/* The history says what was asked: "3wd" over a weekend is three working
 * days, not the 5d of wall clock it spans. */
Test(lifecycle, extension_line_says_what_was_asked)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-24T10:00:00+08:00"); /* Thursday */
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "w1", "water", at));
	struct hl_event *e = E(f, HL_EV_ORDER_EXTEND, at + HOUR);
	e->order_id = "w1";
	e->by = "3wd";
	e->reason = "parts on order";
	ok(apply(f, e));
	cr_assert(strstr(last_line(f), "water asks for 3wd more time, due in "), "%s", last_line(f));
	cr_assert(strstr(last_line(f), " if approved (parts on order)"), "%s", last_line(f));
	e = E(f, HL_EV_ORDER_EXTEND_REJECT, at + 2 * HOUR);
	e->order_id = "w1";
	ok(apply(f, e));
	e = E(f, HL_EV_ORDER_EXTEND, at + 3 * HOUR);
	e->order_id = "w1";
	e->until = "2026-10-20T17:00:00+08:00";
	e->reason = "storm";
	ok(apply(f, e));
	cr_assert(strstr(last_line(f), "water asks for more time, due in "), "%s", last_line(f));
	fx_free(f);
}

/* A sign delivered after the reply it came before (a department's system
 * that syncs in batches): the order was signed at 10:30, replied at 11:00,
 * and the sign arrives last.  It is recorded - signed_at is what the
 * monthly "signed in time" figure counts - and the order stays replied.  A
 * sign dated after the reply, or a second one, is still refused; so is a
 * sign while an extension request is pending only once signed.  Before,
 * every one of these was refused "is replied: cannot sign" and the order
 * counted as never signed. */
Test(lifecycle, late_sign_after_the_reply_is_recorded)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "s1", "water", at));
	ok(order_ev(f, HL_EV_ORDER_REPLY, "s1", at + HOUR));
	struct hl_order *o = hl_world_order(f->w, "s1");
	cr_assert_eq(o->clocks[HL_OC_SIGN].met_at, at + HOUR);
	bad(order_ev(f, HL_EV_ORDER_SIGN, "s1", at + 2 * HOUR), HL_E_BAD_REQUEST, "is replied");
	ok(order_ev(f, HL_EV_ORDER_SIGN, "s1", at + 30 * 60000));
	cr_assert_eq(o->status, HL_OS_REPLIED);
	cr_assert_eq(o->signed_at, at + 30 * 60000);
	cr_assert_eq(o->clocks[HL_OC_SIGN].state, HL_CS_MET);
	cr_assert_eq(o->clocks[HL_OC_SIGN].met_at, at + 30 * 60000, "signed when it was signed");
	cr_assert(o->dirty);
	bad(order_ev(f, HL_EV_ORDER_SIGN, "s1", at + 20 * 60000), HL_E_BAD_REQUEST, "is replied");

	/* signed while its extension request is pending: back to signed when decided */
	int64_t id2 = open_case(f, "+8613800000002", at); /* the reply resolved the first case */
	ok(dispatch(f, id2, "s2", "gas", at));
	ok(order_ev(f, HL_EV_ORDER_EXTEND, "s2", at + HOUR));
	ok(order_ev(f, HL_EV_ORDER_SIGN, "s2", at + 2 * HOUR));
	struct hl_order *o2 = hl_world_order(f->w, "s2");
	cr_assert_eq(o2->status, HL_OS_EXTENSION_REQUESTED);
	cr_assert_eq(o2->signed_at, at + 2 * HOUR);
	cr_assert_eq(o2->clocks[HL_OC_SIGN].state, HL_CS_MET);
	bad(order_ev(f, HL_EV_ORDER_SIGN, "s2", at + 3 * HOUR), HL_E_BAD_REQUEST, "extension_requested");
	ok(order_ev(f, HL_EV_ORDER_EXTEND_REJECT, "s2", at + 4 * HOUR));
	cr_assert_eq(o2->status, HL_OS_SIGNED);
	fx_free(f);
}

/*
 * A return delivered after the dispatch that answered it: the department's
 * system reports at 10:20 a return it made at 10:02; the hotline, told by
 * phone, had dispatched the case to roads at 10:05.  No new dispatch is owed.
 * Before, the late return armed the redispatch clock from 10:02 and
 * redispatch_overdue was raised at 12:02 about a case dispatched long before
 * (and a pending run of another return was moved earlier).
 */
Test(lifecycle, late_return_after_the_redispatch_owes_nothing)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "lr1", "parks", at));
	ok(dispatch(f, id, "lr2", "roads", at + 300 * SEC));
	struct hl_event *e = E(f, HL_EV_ORDER_RETURN, at + 120 * SEC);
	e->order_id = "lr1";
	e->reason = "not ours";
	e->received = at + 1200 * SEC;
	f->env.now = e->received;
	hl_rules_apply(f->w, &f->env, e, &f->out);
	ok(&f->out);
	struct hl_case *c = hl_world_case(f->w, id);
	cr_assert_eq(hl_world_order(f->w, "lr1")->status, HL_OS_RETURNED);
	cr_assert_neq(c->clocks[HL_CK_REDISPATCH].state, HL_CS_PENDING, "roads has had the case since 10:05");
	f->env.now = at + 3 * HOUR;
	hl_rules_clock_fire(f->w, &f->env, id, HL_CK_REDISPATCH, c->clocks[HL_CK_REDISPATCH].seq);
	cr_assert_null(alert_of(f, "redispatch_overdue"));

	/* a return dated after the last dispatch still owes one */
	ok(order_ev(f, HL_EV_ORDER_RETURN, "lr2", at + 4 * HOUR));
	cr_assert_eq(c->clocks[HL_CK_REDISPATCH].state, HL_CS_PENDING);
	cr_assert_eq(c->clocks[HL_CK_REDISPATCH].started_at, at + 4 * HOUR);
	fx_free(f);
}
