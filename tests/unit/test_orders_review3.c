/*
 * test_orders_review3.c - order events dated before their order's dispatch
 * (review-rules3; pure rules, daemon/orders.c).
 *
 * A department's system and the hotline's have two clocks: a sign or a
 * reply may be stamped a few seconds before the dispatch it answers.  Taken
 * at its own `at`, it put signed_at / replied_at before dispatched_at and
 * met the clocks before their run started: the monthly figures counted the
 * order signed and replied in time whatever happened.  Such an event is
 * taken as at the dispatch (the earliest instant it can have happened).
 */
#include "orders_fixtures.h"

Test(orders_review3, a_sign_and_a_reply_dated_before_the_dispatch_count_from_the_dispatch)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "x1", "water", at + HOUR));
	ok(order_ev(f, HL_EV_ORDER_SIGN, "x1", at + 30 * 60 * SEC));
	struct hl_order *o = hl_world_order(f->w, "x1");
	cr_assert_eq(o->signed_at, at + HOUR, "not before its dispatch");
	cr_assert_eq(o->clocks[HL_OC_SIGN].met_at, at + HOUR);
	const char *line = f->w->accepted[f->w->n_accepted - 1].description;
	cr_assert(strstr(line, "dated before the order's dispatch"), "%s", line);
	ok(order_ev(f, HL_EV_ORDER_REPLY, "x1", at + 10 * 60 * SEC));
	cr_assert_eq(o->replied_at, at + HOUR);
	cr_assert_eq(o->clocks[HL_OC_REPLY].met_at, at + HOUR);
	cr_assert_eq(hl_world_case(f->w, id)->resolved_at, at + HOUR, "the reply resolved the case at the dispatch");
	cr_assert_geq(hl_world_case(f->w, id)->clocks[HL_CK_CALLBACK].started_at, at + HOUR);
	fx_free(f);
}

/* An extension asked "before" the dispatch is asked at it; a return too. */
Test(orders_review3, an_extension_and_a_return_dated_before_the_dispatch)
{
	struct fx *f = fx_new(CONF);
	hl_ms at = T("2026-09-28T10:00:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(dispatch(f, id, "x1", "water", at + HOUR));
	ok(order_ev(f, HL_EV_ORDER_EXTEND, "x1", at));
	struct hl_order *o = hl_world_order(f->w, "x1");
	cr_assert_eq(o->extend_requested_at, at + HOUR);
	ok(order_ev(f, HL_EV_ORDER_EXTEND_REJECT, "x1", at + 2 * HOUR));
	ok(order_ev(f, HL_EV_ORDER_RETURN, "x1", at));
	cr_assert_eq(o->returned_at, at + HOUR);
	cr_assert_geq(hl_world_case(f->w, id)->clocks[HL_CK_REDISPATCH].started_at, at + HOUR);
	fx_free(f);
}
