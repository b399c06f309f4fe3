/*
 * test_batch_keys.c - which keys a batch touches (batch_keys.c): the JSON
 * arrays the load statements get, and which statements are worth sending.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "batch_keys.h"
#include "orders.h"

#define T0 1795165200000LL /* 2026-11-20T09:00:00Z */

static const struct hl_batch_keys_env ENV = {
	.now = T0 + 60000, .repeat_window_ms = 3600000, .hotspot_window_ms = 7200000,
	.hotspots_on = true, .free_ids = 0,
	.hotspot_category = true, .hotspot_area = true, .hotspot_department = true,
};

static struct hl_event ev_of(enum hl_type type, const char *id, const char *caller, hl_ms at)
{
	struct hl_event ev;
	memset(&ev, 0, sizeof ev);
	ev.type = type;
	snprintf(ev.id, sizeof ev.id, "%s", id);
	snprintf(ev.caller, sizeof ev.caller, "%s", caller ? caller : "");
	ev.at = at;
	return ev;
}

static struct hl_bk_item req(const struct hl_event *ev) { return (struct hl_bk_item){ .kind = HL_BK_REQUEST, .ev = ev }; }

Test(batch_keys, empty_batch_sends_nothing_but_the_lock)
{
	struct hl_batch_keys k;
	hl_batch_keys(NULL, 0, &ENV, &k);
	cr_assert_str_eq(k.events, "[]");
	cr_assert_str_eq(k.cases, "[]");
	cr_assert_str_eq(k.callers, "[]");
	cr_assert_not(k.want_seen || k.want_cases || k.want_calls || k.want_callers || k.want_alerts ||
	              k.want_ids || k.want_orders || k.want_hotspots);
	cr_assert_eq(k.earliest, ENV.now, "no event: the window starts from now");
	cr_assert_eq(k.repeat_since, ENV.now - 3600000 - 1000);
	hl_batch_keys_free(&k);
}

Test(batch_keys, offered_call_needs_seen_cases_calls_callers_and_a_case_id)
{
	struct hl_event ev = ev_of(HL_EV_CALL_OFFERED, "e1", "+8613800000001", T0);
	ev.call_id = "c-1";
	struct hl_bk_item items[] = { req(&ev) };
	struct hl_batch_keys k;
	hl_batch_keys(items, 1, &ENV, &k);
	cr_assert_str_eq(k.events, "[\"e1\"]");
	cr_assert_str_eq(k.calls, "[\"c-1\"]");
	cr_assert_str_eq(k.callers, "[\"+8613800000001\"]");
	cr_assert_str_eq(k.cases, "[]");
	cr_assert_str_eq(k.event_cases, "[]");
	cr_assert(k.want_seen && k.want_cases && k.want_calls && k.want_callers);
	cr_assert_not(k.want_alerts || k.want_orders || k.want_order_cases || k.want_hotspots);
	cr_assert_eq(k.openers, 1);
	cr_assert_eq(k.ids_wanted, 1);
	cr_assert(k.want_ids);
	cr_assert_eq(k.earliest, T0);
	cr_assert_eq(k.repeat_since, T0 - 3600000 - 1000);
	cr_assert_eq(k.hotspot_since, T0 - 7200000 - 1000);
	hl_batch_keys_free(&k);
}

/* call.ended "resolved" resolves the case its call reaches: the cases merged
 * into that case are loaded (their callers are owed a call back), not its orders */
Test(batch_keys, resolving_call_loads_the_merged_cases)
{
	struct hl_event ev = ev_of(HL_EV_CALL_ENDED, "e1", NULL, T0), other = ev_of(HL_EV_CALL_ENDED, "e2", NULL, T0);
	ev.call_id = "c-1", ev.outcome = "resolved";
	other.call_id = "c-2", other.outcome = "followup";
	struct hl_bk_item one[] = { req(&ev) }, two[] = { req(&other) };
	struct hl_batch_keys k;
	hl_batch_keys(one, 1, &ENV, &k);
	cr_assert(k.want_order_cases);
	cr_assert_not(k.want_orders);
	cr_assert_str_eq(k.resolving_calls, "[\"c-1\"]");
	cr_assert_str_eq(k.resolving_callers, "[]", "a stored call: its case is found through it");
	hl_batch_keys_free(&k);
	hl_batch_keys(two, 1, &ENV, &k);
	cr_assert_not(k.want_order_cases || k.want_orders, "a followup resolves nothing");
	cr_assert_str_eq(k.resolving_calls, "[]");
	hl_batch_keys_free(&k);
	/* offered in the same batch: the call is not stored, it joins its
	 * caller's open case, so the caller is looked up (only that caller) */
	struct hl_event off = ev_of(HL_EV_CALL_OFFERED, "o1", "+8613900000001", T0);
	off.call_id = "c-1";
	struct hl_event other_off = ev_of(HL_EV_CALL_OFFERED, "o2", "+8613900000002", T0);
	other_off.call_id = "c-9";
	struct hl_bk_item three[] = { req(&other_off), req(&off), req(&ev) };
	hl_batch_keys(three, 3, &ENV, &k);
	cr_assert_str_eq(k.resolving_calls, "[\"c-1\"]");
	cr_assert_str_eq(k.resolving_callers, "[\"+8613900000001\"]");
	cr_assert_str_eq(k.hot_calls, "[]", "no category or area: it classifies nothing");
	cr_assert_str_eq(k.hot_callers, "[]");
	hl_batch_keys_free(&k);
}

/* A call.ended with a category reaches its case through its call; offered
 * in the same batch, through its caller (the call joins the caller's open
 * case): only those calls and callers are sent to the hotspot load. */
Test(batch_keys, classifying_call_reaches_its_case_through_call_or_caller)
{
	struct hl_event off = ev_of(HL_EV_CALL_OFFERED, "o1", "+8613900000001", T0);
	off.call_id = "c-1";
	struct hl_event plain = ev_of(HL_EV_CALL_OFFERED, "o2", "+8613900000002", T0);
	plain.call_id = "c-2";
	struct hl_event end_new = ev_of(HL_EV_CALL_ENDED, "e1", NULL, T0 + 1);
	end_new.call_id = "c-1", end_new.outcome = "info", end_new.category = "water";
	struct hl_event end_stored = ev_of(HL_EV_CALL_ENDED, "e2", NULL, T0 + 2);
	end_stored.call_id = "c-7", end_stored.outcome = "info", end_stored.area = "north";
	struct hl_event end_plain = ev_of(HL_EV_CALL_ENDED, "e3", NULL, T0 + 3);
	end_plain.call_id = "c-2", end_plain.outcome = "info";
	struct hl_bk_item items[] = { req(&off), req(&plain), req(&end_new), req(&end_stored), req(&end_plain) };
	struct hl_batch_keys k;
	hl_batch_keys(items, 5, &ENV, &k);
	cr_assert(k.want_hotspots);
	cr_assert_str_eq(k.hot_cases, "[]");
	cr_assert_str_eq(k.hot_calls, "[\"c-1\",\"c-7\"]");
	cr_assert_str_eq(k.hot_callers, "[\"+8613900000001\"]");
	cr_assert_str_eq(k.categories, "[\"water\"]");
	cr_assert_str_eq(k.areas, "[\"north\"]");
	hl_batch_keys_free(&k);
}

Test(batch_keys, reserved_ids_are_used_before_new_ones)
{
	struct hl_event a = ev_of(HL_EV_CALL_OFFERED, "e1", "+861", T0);
	struct hl_event b = ev_of(HL_EV_CALL_ABANDONED, "e2", "+862", T0 + 5);
	struct hl_event c = ev_of(HL_EV_CALL_ABANDONED, "e3", NULL, T0 + 9); /* no caller: cannot open a case */
	struct hl_bk_item items[] = { req(&a), req(&b), req(&c) };
	struct hl_batch_keys_env env = ENV;
	env.free_ids = 1;
	struct hl_batch_keys k;
	hl_batch_keys(items, 3, &env, &k);
	cr_assert_eq(k.openers, 2);
	cr_assert_eq(k.ids_wanted, 1);
	hl_batch_keys_free(&k);
	env.free_ids = 5;
	hl_batch_keys(items, 3, &env, &k);
	cr_assert_eq(k.ids_wanted, 0);
	cr_assert_not(k.want_ids);
	hl_batch_keys_free(&k);
}

Test(batch_keys, case_clocks_alone_load_no_orders_but_a_redispatch_does)
{
	/* the due lane's batch: callback and resolution clocks read their case
	 * and clock alone; a redispatch tags its alert with the case's order */
	struct hl_bk_item items[] = {
		{ .kind = HL_BK_CLOCK, .id = 42, .clock = HL_CK_CALLBACK },
		{ .kind = HL_BK_CLOCK, .id = 43, .clock = HL_CK_RESOLUTION },
	};
	struct hl_batch_keys k;
	hl_batch_keys(items, 2, &ENV, &k);
	cr_assert_str_eq(k.cases, "[42,43]");
	cr_assert(k.want_cases);
	cr_assert_not(k.want_orders || k.want_order_cases, "no order statement for case clocks alone");
	hl_batch_keys_free(&k);
	struct hl_bk_item with_redispatch[] = {
		{ .kind = HL_BK_CLOCK, .id = 42, .clock = HL_CK_CALLBACK },
		{ .kind = HL_BK_CLOCK, .id = 44, .clock = HL_CK_REDISPATCH },
	};
	hl_batch_keys(with_redispatch, 2, &ENV, &k);
	cr_assert(k.want_orders && k.want_order_cases, "a redispatch needs its case's orders");
	hl_batch_keys_free(&k);
}

Test(batch_keys, clocks_need_their_cases_only)
{
	struct hl_bk_item items[] = {
		{ .kind = HL_BK_CLOCK, .id = 42 },
		{ .kind = HL_BK_ORDER_CLOCK, .id = 7 * HL_ORDER_KEY_MUL + 3 },
	};
	struct hl_batch_keys k;
	hl_batch_keys(items, 2, &ENV, &k);
	cr_assert_str_eq(k.cases, "[42,7]", "an order clock loads its case (id / HL_ORDER_KEY_MUL)");
	cr_assert_str_eq(k.event_cases, "[]", "a clock needs no caller history");
	cr_assert(k.want_cases && k.want_orders);
	cr_assert_not(k.want_seen || k.want_calls || k.want_callers || k.want_ids);
	hl_batch_keys_free(&k);
}

Test(batch_keys, acks_and_escalations_load_alerts)
{
	struct hl_event ack = ev_of(HL_CMD_ALERT_ACK, "a1", NULL, T0);
	ack.alert_id = 11;
	struct hl_bk_item items[] = { req(&ack), { .kind = HL_BK_ESCALATION, .id = 12 } };
	struct hl_batch_keys k;
	hl_batch_keys(items, 2, &ENV, &k);
	cr_assert_str_eq(k.alerts, "[11,12]");
	cr_assert_str_eq(k.events, "[]", "an acknowledgement is no event: no duplicate check");
	cr_assert(k.want_alerts);
	cr_assert_not(k.want_seen || k.want_cases);
	hl_batch_keys_free(&k);
}

Test(batch_keys, commands_other_than_ack_load_nothing)
{
	struct hl_event get = ev_of(HL_CMD_CASE_GET, "g1", NULL, T0);
	get.case_id = 5;
	struct hl_bk_item items[] = { req(&get) };
	struct hl_batch_keys k;
	hl_batch_keys(items, 1, &ENV, &k);
	cr_assert_str_eq(k.cases, "[]");
	cr_assert_not(k.want_cases || k.want_seen);
	hl_batch_keys_free(&k);
}

Test(batch_keys, case_events_merges_orders_and_hotspot_keys)
{
	struct hl_event upd = ev_of(HL_EV_CASE_UPDATE, "u1", NULL, T0 + 100);
	upd.case_id = 9;
	upd.category = "water";
	upd.area = "north";
	struct hl_event merge = ev_of(HL_EV_CASE_MERGE, "m1", NULL, T0 + 50);
	merge.case_id = 10;
	merge.into = 9;
	struct hl_event disp = ev_of(HL_EV_ORDER_DISPATCH, "d1", NULL, T0 + 200);
	disp.case_id = 9;
	disp.order_id = "wo-1";
	disp.department = "roads";
	struct hl_event upd_dept = ev_of(HL_EV_CASE_UPDATE, "u2", NULL, T0 + 300);
	upd_dept.case_id = 9;
	upd_dept.department = "parks"; /* only a dispatch or a transfer sets a case's department */
	struct hl_bk_item items[] = { req(&upd), req(&merge), req(&disp), req(&upd_dept) };
	struct hl_batch_keys k;
	hl_batch_keys(items, 4, &ENV, &k);
	cr_assert_str_eq(k.events, "[\"u1\",\"m1\",\"d1\",\"u2\"]");
	cr_assert_str_eq(k.cases, "[9,10,9,9,9]");
	cr_assert_str_eq(k.event_cases, "[9,10,9,9]");
	cr_assert_str_eq(k.orders, "[\"wo-1\"]");
	cr_assert_str_eq(k.categories, "[\"water\"]");
	cr_assert_str_eq(k.areas, "[\"north\"]");
	cr_assert_str_eq(k.departments, "[\"roads\"]");
	cr_assert(k.want_callers, "a case event loads its caller's history through the case");
	cr_assert(k.want_orders && k.want_hotspots);
	/* only the classifying events' cases: the update's and the dispatch's
	 * (9), not the merged case 10 nor the department-only update's */
	cr_assert_str_eq(k.hot_cases, "[9,9]");
	cr_assert_str_eq(k.hot_calls, "[]");
	cr_assert_eq(k.openers, 0);
	cr_assert_eq(k.earliest, T0 + 50);
	hl_batch_keys_free(&k);

	struct hl_batch_keys_env off = ENV;
	off.hotspots_on = false;
	hl_batch_keys(items, 4, &off, &k);
	cr_assert_not(k.want_hotspots, "hotspot.threshold 0: the hotspot statements are not sent");
	hl_batch_keys_free(&k);

	/* hotspot.key = [category, area] (the default): the department is not
	 * a key field, so the load does not filter on it (NULL, not "[]") */
	struct hl_batch_keys_env ca = ENV;
	ca.hotspot_department = false;
	hl_batch_keys(items, 4, &ca, &k);
	cr_assert_str_eq(k.categories, "[\"water\"]");
	cr_assert_str_eq(k.areas, "[\"north\"]");
	cr_assert_null(k.departments);
	cr_assert(k.want_hotspots);
	hl_batch_keys_free(&k);
	/* a dispatch classifies its case, which rebuilds the case's hotspot row:
	 * the row must be loaded even when the dispatch brings no key value (a
	 * batch without it wrote the row back without its area) */
	struct hl_bk_item only_dispatch[] = { req(&disp) };
	hl_batch_keys(only_dispatch, 1, &ca, &k);
	cr_assert(k.want_hotspots, "a dispatch always loads its case's hotspot row");
	cr_assert_str_eq(k.categories, "[]");
	cr_assert_str_eq(k.areas, "[]");
	hl_batch_keys_free(&k);
	/* an update with neither category nor area classifies nothing */
	struct hl_bk_item only_dept_update[] = { req(&upd_dept) };
	hl_batch_keys(only_dept_update, 1, &ENV, &k);
	cr_assert_not(k.want_hotspots);
	hl_batch_keys_free(&k);
	/* hotspot.key = [department]: the category still loads the case's row
	 * (it classifies the case), but no field but the department filters */
	struct hl_batch_keys_env d = ENV;
	d.hotspot_category = d.hotspot_area = false;
	struct hl_event xfer = ev_of(HL_EV_CASE_TRANSFER, "t1", NULL, T0 + 400);
	xfer.case_id = 9;
	xfer.department = "sewers"; /* the case's department for a later event of the batch */
	struct hl_bk_item with_transfer[] = { req(&upd), req(&merge), req(&disp), req(&upd_dept), req(&xfer) };
	hl_batch_keys(with_transfer, 5, &d, &k);
	cr_assert_null(k.categories);
	cr_assert_null(k.areas);
	cr_assert_str_eq(k.departments, "[\"roads\",\"sewers\"]");
	cr_assert(k.want_hotspots);
	hl_batch_keys_free(&k);
	struct hl_bk_item only_update[] = { req(&upd) };
	hl_batch_keys(only_update, 1, &d, &k);
	cr_assert(k.want_hotspots, "a category classifies the case: its row is loaded under any key");
	cr_assert_str_eq(k.departments, "[]");
	hl_batch_keys_free(&k);
}

Test(batch_keys, free_is_idempotent)
{
	struct hl_batch_keys k;
	hl_batch_keys(NULL, 0, &ENV, &k);
	hl_batch_keys_free(&k);
	hl_batch_keys_free(&k);
	hl_batch_keys_free(NULL);
}

/* ---- due clocks ahead of the queue (store_due.c) */

Test(due_ahead, the_case_of_a_due_item)
{
	struct hl_bk_item clock = { .kind = HL_BK_CLOCK, .id = 42 };
	struct hl_bk_item order = { .kind = HL_BK_ORDER_CLOCK, .id = 42 * HL_ORDER_KEY_MUL + 3 };
	struct hl_bk_item esc = { .kind = HL_BK_ESCALATION, .id = 7 };
	cr_assert_eq(hl_due_case(&clock), 42);
	cr_assert_eq(hl_due_case(&order), 42);
	cr_assert_eq(hl_due_case(&esc), 0, "an escalation is no clock of a case");
}

Test(due_ahead, commands_and_escalations_are_passed_events_and_clocks_are_not)
{
	struct hl_event ping = ev_of(HL_CMD_PING, "p", NULL, T0), ack = ev_of(HL_CMD_ALERT_ACK, "a", NULL, T0),
	                get = ev_of(HL_CMD_CASE_GET, "g", NULL, T0), upd = ev_of(HL_EV_CASE_UPDATE, "u", NULL, T0);
	struct hl_bk_item esc = { .kind = HL_BK_ESCALATION, .id = 7 }, clock = { .kind = HL_BK_CLOCK, .id = 1 };
	cr_assert(hl_due_may_pass(&(struct hl_bk_item){ .kind = HL_BK_REQUEST, .ev = &ping }));
	cr_assert(hl_due_may_pass(&(struct hl_bk_item){ .kind = HL_BK_REQUEST, .ev = &ack }));
	cr_assert(hl_due_may_pass(&(struct hl_bk_item){ .kind = HL_BK_REQUEST, .ev = &get }));
	cr_assert(hl_due_may_pass(&esc));
	cr_assert_not(hl_due_may_pass(&(struct hl_bk_item){ .kind = HL_BK_REQUEST, .ev = &upd }));
	cr_assert_not(hl_due_may_pass(&clock), "a clock of the same case stays ahead");
}

Test(due_ahead, named_cases_block_in_the_core_the_rest_goes_to_the_probe)
{
	struct hl_event upd = ev_of(HL_EV_CASE_UPDATE, "u", NULL, T0);
	upd.case_id = 10;
	struct hl_event merge = ev_of(HL_EV_CASE_MERGE, "m", NULL, T0);
	merge.case_id = 11, merge.into = 12;
	struct hl_event answered = ev_of(HL_EV_CALL_ANSWERED, "n", NULL, T0);
	answered.call_id = "k-1";
	struct hl_event offered = ev_of(HL_EV_CALL_OFFERED, "o", "+8613800000009", T0);
	offered.call_id = "k-2";
	struct hl_event sign = ev_of(HL_EV_ORDER_SIGN, "s", NULL, T0);
	sign.order_id = "w-1";
	struct hl_event ping = ev_of(HL_CMD_PING, "p", NULL, T0);
	struct hl_bk_item ahead[] = { req(&upd), req(&merge), req(&answered), req(&offered), req(&sign), req(&ping),
	                              { .kind = HL_BK_ORDER_CLOCK, .id = 13 * HL_ORDER_KEY_MUL + 1 } };
	struct hl_due_ahead a;
	hl_due_ahead_collect(ahead, sizeof ahead / sizeof *ahead, &a);
	cr_assert_not(a.unkeyed);
	cr_assert(a.probe);
	for (int64_t c = 10; c <= 13; c++)
		cr_assert(hl_due_ahead_names(&a, c), "case %lld is named by a queued item", (long long)c);
	cr_assert_not(hl_due_ahead_names(&a, 9));
	cr_assert_not(hl_due_ahead_names(&a, 14));
	cr_assert_str_eq(a.named, "[10,11,12]", "named cases are probed for merges into a due case");
	cr_assert_str_eq(a.callers, "[\"+8613800000009\"]");
	cr_assert_str_eq(a.calls, "[\"k-1\",\"k-2\"]");
	cr_assert_str_eq(a.orders, "[\"w-1\"]");
	hl_due_ahead_free(&a);
	hl_due_ahead_free(&a);
}

Test(due_ahead, an_event_without_any_key_blocks_every_due_clock)
{
	struct hl_event bare = ev_of(HL_EV_CASE_UPDATE, "u", NULL, T0);
	struct hl_bk_item ahead[] = { req(&bare) };
	struct hl_due_ahead a;
	hl_due_ahead_collect(ahead, 1, &a);
	cr_assert(a.unkeyed);
	cr_assert(hl_due_ahead_names(&a, 123));
	hl_due_ahead_free(&a);
}

Test(due_ahead, only_commands_ahead_need_no_probe)
{
	struct hl_event ping = ev_of(HL_CMD_PING, "p", NULL, T0);
	struct hl_bk_item ahead[] = { req(&ping), { .kind = HL_BK_ESCALATION, .id = 3 } };
	struct hl_due_ahead a;
	hl_due_ahead_collect(ahead, 2, &a);
	cr_assert_not(a.probe || a.unkeyed);
	cr_assert_not(hl_due_ahead_names(&a, 1));
	hl_due_ahead_free(&a);
}
