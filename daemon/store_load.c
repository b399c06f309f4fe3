/*
 * store_load.c - the load: what a batch touches, read into a world.
 *
 * The first round trip of a batch (see store.c): one SELECT per table, its
 * keys passed as JSON arrays, sent in the batch's still-open transaction
 * (the batch lock is taken there), then the rows fill a struct hl_world and
 * the pure rules apply the batch's items to it in memory.  Which keys the
 * batch touches is decided in the core (batch_keys.c); this file sends them.  Separate from
 * store.c because building the keys and decoding rows is a concern of its
 * own (row layouts, not batch states), and to keep each file readable.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "daemon.h"
#include "protocol.h"
#include "rules.h"
#include "store_sql.h"
#include "orders.h"
#include "store_orders_sql.h"
#include "store_internal.h"
#include "batch_keys.h"

static char *get_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* The batch's items as the pure key collector sees them (batch_keys.c). */
static struct hl_bk_item *batch_key_items(size_t *n)
{
	struct hl_bk_item *items = hl_xrealloc(NULL, sizeof *items * (store.n_batch ? store.n_batch : 1));
	struct item *it;
	size_t i = 0;
	TAILQ_FOREACH(it, &store.batch, entry) {
		struct hl_bk_item *k = &items[i++];
		k->id = it->id;
		k->ev = it->kind == ITEM_REQ ? &it->req->ev : NULL;
		if (it->kind == ITEM_REQ)
			k->kind = HL_BK_REQUEST;
		else if (it->kind == ITEM_ESCALATE)
			k->kind = HL_BK_ESCALATION;
		else if (it->clock == TIMER_ORDER_SIGN || it->clock == TIMER_ORDER_REPLY)
			k->kind = HL_BK_ORDER_CLOCK;
		else
			k->kind = HL_BK_CLOCK;
	}
	*n = i;
	return items;
}

void store_start_load(void)
{
	size_t n;
	struct hl_bk_item *items = batch_key_items(&n);
	struct hl_batch_keys_env env = {
		.now = now_ms(),
		.repeat_window_ms = hl->cfg->repeat.window_ms,
		.hotspot_window_ms = hl->cfg->hotspot.window_ms,
		.hotspots_on = hl->cfg->hotspot.threshold > 0,
		.free_ids = hl_world_free_id_count(store.world),
	};
	struct hl_batch_keys k;
	hl_batch_keys(items, n, &env, &k);
	free(items);

	char b_since[24], b_n[24], b_hot_since[24];
	store_fmt_i64(b_since, k.repeat_since);
	store_fmt_i64(b_n, (int64_t)k.ids_wanted);
	store_fmt_i64(b_hot_since, k.hotspot_since);

	store_pipeline_begin(L__COUNT);
	const char *p_seen[] = { k.events };
	const char *p_cases[] = { k.cases, k.calls, k.callers };
	const char *p_calls[] = { k.calls };
	const char *p_callers[] = { k.callers, k.event_cases, k.calls, b_since };
	const char *p_alerts[] = { k.alerts };
	const char *p_ids[] = { b_n };
	const char *p_orders[] = { k.orders, k.cases };
	const char *p_hot[] = { k.cases, k.calls, k.categories, k.areas, k.departments, b_hot_since };
	const char *p_hot_keys[] = { b_hot_since };
	/* a statement with nothing to look up is not sent (a batch of fired
	 * clocks needs only its cases); its result stays NULL */
	for (int i = 0; i < L__COUNT; i++)
		store.load_at[i] = -1;
	/* first, the batch locks (callers, then cases), held until the write's COMMIT */
	const char *p_lock[] = { k.cases, k.calls, k.callers, k.orders };
	store.load_at[L_LOCK] = store.n_stmts, store_send_stmt(SQL_LOCK_BATCH, 4, p_lock);
	if (k.want_seen)
		store.load_at[L_SEEN] = store.n_stmts, store_send_stmt(SQL_SEEN, 1, p_seen);
	if (k.want_cases)
		store.load_at[L_CASES] = store.n_stmts, store_send_stmt(SQL_CASES, 3, p_cases);
	if (k.want_calls)
		store.load_at[L_CALLS] = store.n_stmts, store_send_stmt(SQL_CALLS, 1, p_calls);
	if (k.want_callers)
		store.load_at[L_CALLERS] = store.n_stmts, store_send_stmt(SQL_CALLERS, 4, p_callers);
	if (k.want_alerts)
		store.load_at[L_ALERTS] = store.n_stmts, store_send_stmt(SQL_ALERTS, 1, p_alerts);
	if (k.want_ids)
		store.load_at[L_IDS] = store.n_stmts, store_send_stmt(SQL_IDS, 1, p_ids);
	/* work orders (store_orders.c) */
	if (k.want_orders) {
		store.load_at[L_ORDER_CASES] = store.n_stmts, store_send_stmt(SQL_ORDER_CASES, 2, p_orders);
		store.load_at[L_ORDERS] = store.n_stmts, store_send_stmt(SQL_ORDERS, 2, p_orders);
	}
	if (k.want_hotspots) {
		store.load_at[L_HOTSPOT_CASES] = store.n_stmts, store_send_stmt(SQL_HOTSPOT_CASES, 6, p_hot);
		store.load_at[L_HOTSPOTS] = store.n_stmts, store_send_stmt(SQL_HOTSPOTS, 1, p_hot_keys);
	}
	hl_batch_keys_free(&k);
	store.state = S_LOAD;
	store_pipeline_send_open();
}

static void parse_clocks(struct hl_case *c, const char *json)
{
	json_object *arr = json ? json_tokener_parse(json) : NULL;
	if (!arr)
		return;
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *k = json_object_array_get_idx(arr, i);
		int kind = hl_clock_kind_from_name(json_object_get_string(json_object_array_get_idx(k, 0)));
		if (kind < 0)
			continue;
		struct hl_clock *ck = &c->clocks[kind];
#define I64(i) json_object_get_int64(json_object_array_get_idx(k, i))
		ck->state = hl_clock_state_from_name(json_object_get_string(json_object_array_get_idx(k, 1)));
		ck->seq = (int32_t)I64(2);
		ck->started_at = I64(3);
		ck->due_at = I64(4);
		ck->warn_at = I64(5);
		ck->warned = json_object_get_boolean(json_object_array_get_idx(k, 6));
		ck->allowed_ms = I64(7);
		ck->paused_at = I64(8);
		ck->remaining_ms = I64(9);
		ck->warn_remaining_ms = I64(10);
		ck->met_at = I64(11);
		ck->breached_at = I64(12);
#undef I64
		const char *cal = json_object_get_string(json_object_array_get_idx(k, 13));
		snprintf(ck->calendar, sizeof ck->calendar, "%s", cal ? cal : "");
	}
	json_object_put(arr);
}

/* The rows of one load statement; an empty result when it was not sent. */
PGresult *store_empty_result;

static PGresult *load_result(int which)
{
	PGresult **empty = &store_empty_result;
	if (store.load_at[which] >= 0 && store.res[store.load_at[which]])
		return store.res[store.load_at[which]];
	if (!*empty)
		*empty = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	return *empty;
}

/* Cases as SQL_CASES (and SQL_ORDER_CASES, same first columns) return them. */
static void add_case_rows(PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++) {
		struct hl_case c = {0};
		c.id = store_get_ms(r, i, 0);
		snprintf(c.caller, sizeof c.caller, "%s", PQgetvalue(r, i, 1));
		c.status = hl_status_from_name(PQgetvalue(r, i, 2));
		c.opened_at = store_get_ms(r, i, 3);
		c.resolved_at = store_get_ms(r, i, 4);
		c.closed_at = store_get_ms(r, i, 5);
		c.last_contact_at = store_get_ms(r, i, 6);
		c.updated_at = store_get_ms(r, i, 7);
		c.category = get_str(r, i, 8);
		c.priority = get_str(r, i, 9);
		c.department = get_str(r, i, 10);
		c.queue = get_str(r, i, 11);
		c.summary = get_str(r, i, 12);
		c.resolution = get_str(r, i, 13);
		c.transfers = (int32_t)store_get_ms(r, i, 14);
		c.reopens = (int32_t)store_get_ms(r, i, 15);
		c.on_hold = store_get_bool(r, i, 16);
		c.hold_since = store_get_ms(r, i, 17);
		c.held_ms = store_get_ms(r, i, 18);
		snprintf(c.policy, sizeof c.policy, "%s", PQgetvalue(r, i, 19));
		parse_clocks(&c, get_str(r, i, 20));
		hl_world_add_case(store.world, &c);
	}
}

void store_fill_world(void)
{
	PGresult *r;
	hl_world_reset(store.world);

	r = load_result(L_SEEN);
	for (int i = 0; i < PQntuples(r); i++)
		hl_world_add_seen(store.world, PQgetvalue(r, i, 0), store_get_ms(r, i, 1));

	add_case_rows(load_result(L_CASES));
	add_case_rows(load_result(L_ORDER_CASES));
	store_orders_fill_merges(store.world, load_result(L_ORDER_CASES));
	store_orders_fill(store.world, load_result(L_ORDERS));
	store_hotspots_fill(store.world, load_result(L_HOTSPOT_CASES), load_result(L_HOTSPOTS));

	r = load_result(L_CALLS);
	for (int i = 0; i < PQntuples(r); i++) {
		struct hl_call c = {0};
		c.call_id = PQgetvalue(r, i, 0);
		c.case_id = store_get_ms(r, i, 1);
		snprintf(c.caller, sizeof c.caller, "%s", PQgetvalue(r, i, 2));
		c.state = hl_call_state_from_name(PQgetvalue(r, i, 3));
		c.inbound = store_get_bool(r, i, 4);
		c.offered_at = store_get_ms(r, i, 5);
		c.answered_at = store_get_ms(r, i, 6);
		c.ended_at = store_get_ms(r, i, 7);
		c.queue = get_str(r, i, 8);
		c.agent = get_str(r, i, 9);
		c.outcome = get_str(r, i, 10);
		hl_world_add_call(store.world, &c);
	}

	r = load_result(L_CALLERS);
	for (int i = 0; i < PQntuples(r); i++) {
		struct hl_caller c = {0};
		snprintf(c.caller, sizeof c.caller, "%s", PQgetvalue(r, i, 0));
		c.confidential = store_get_bool(r, i, 1);
		c.repeat_alerted_at = store_get_ms(r, i, 2);
		struct hl_caller *w = hl_world_add_caller(store.world, &c);
		/* its recent inbound calls, "{1,2,3}", ascending */
		for (const char *p = PQgetvalue(r, i, 3); *p;) {
			char *end;
			hl_ms t = strtoll(p, &end, 10);
			if (end == p)
				p++;
			else
				hl_caller_add_inbound(w, t), p = end;
		}
	}

	r = load_result(L_ALERTS);
	for (int i = 0; i < PQntuples(r); i++) {
		struct hl_alert a = {0};
		a.id = store_get_ms(r, i, 0);
		snprintf(a.kind, sizeof a.kind, "%s", PQgetvalue(r, i, 1));
		a.case_id = store_get_ms(r, i, 2);
		snprintf(a.caller, sizeof a.caller, "%s", PQgetvalue(r, i, 3));
		a.level = (int)store_get_ms(r, i, 4);
		a.raised_at = store_get_ms(r, i, 5);
		a.due_at = store_get_ms(r, i, 6);
		a.escalate_at = store_get_ms(r, i, 7);
		a.acked_at = store_get_ms(r, i, 8);
		a.acked_by = get_str(r, i, 9);
		snprintf(a.dedupe, sizeof a.dedupe, "%s", PQgetvalue(r, i, 10));
		a.detail = get_str(r, i, 11);
		hl_world_add_alert(store.world, &a);
	}

	r = load_result(L_IDS);
	if (PQntuples(r) > 0) {
		size_t n = (size_t)PQntuples(r);
		int64_t *ids = malloc(sizeof *ids * n);
		if (!ids)
			abort();
		for (size_t i = 0; i < n; i++)
			ids[i] = store_get_ms(r, (int)i, 0);
		hl_world_add_free_ids(store.world, ids, n);
		free(ids);
	}
}

void store_apply_rules(void)
{
	struct hl_rules_env env = { .cfg = hl->cfg, .now = now_ms() };
	struct item *it;
	TAILQ_FOREACH(it, &store.batch, entry) {
		memset(&it->out, 0, sizeof it->out);
		switch (it->kind) {
		case ITEM_FIRE:
			if (it->clock == TIMER_ORDER_SIGN || it->clock == TIMER_ORDER_REPLY)
				hl_orders_clock_fire(store.world, &env, it->id / HL_ORDER_KEY_MUL,
				                     (int32_t)(it->id % HL_ORDER_KEY_MUL),
				                     (enum hl_order_clock)(it->clock - TIMER_ORDER_SIGN), it->seq);
			else
				hl_rules_clock_fire(store.world, &env, it->id, (enum hl_clock_kind)it->clock, it->seq);
			break;
		case ITEM_ESCALATE:
			hl_rules_escalate(store.world, &env, it->id);
			break;
		case ITEM_REQ:
			if (store_needs_world(it))
				hl_rules_apply(store.world, &env, &it->req->ev, &it->out);
			break;
		}
	}
}

