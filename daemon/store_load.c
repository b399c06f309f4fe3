/*
 * store_load.c - the load: what a batch touches, read into a world.
 *
 * The first round trip of a batch (see store.c): one SELECT per table, its
 * keys passed as JSON arrays, sent in the batch's still-open transaction
 * (the batch lock is taken there), then the rows fill a struct hl_world and
 * the pure rules apply the batch's items to it in memory.  Separate from
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

static char *get_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static bool may_open_case(const struct hl_event *ev)
{
	switch (ev->type) {
	case HL_EV_CALL_OFFERED:
		return true;
	case HL_EV_CALL_ABANDONED:
	case HL_EV_VOICEMAIL_LEFT:
		return ev->caller[0] != '\0';
	default:
		return false;
	}
}

void store_start_load(void)
{
	json_object *a_events = json_object_new_array(), *a_cases = json_object_new_array(),
	            *a_event_cases = json_object_new_array(),
	            *a_calls = json_object_new_array(), *a_callers = json_object_new_array(),
	            *a_alerts = json_object_new_array(), *a_orders = json_object_new_array(),
	            *a_cats = json_object_new_array(), *a_areas = json_object_new_array(),
	            *a_depts = json_object_new_array();
	struct item *it;
	size_t openers = 0;
	hl_ms min_at = INT64_MAX;

	TAILQ_FOREACH(it, &store.batch, entry) {
		if (it->kind == ITEM_FIRE) {
			bool order_clock = it->clock == TIMER_ORDER_SIGN || it->clock == TIMER_ORDER_REPLY;
			json_object_array_add(a_cases, json_object_new_int64(order_clock ? it->id / HL_ORDER_KEY_MUL : it->id));
			continue;
		}
		if (it->kind == ITEM_ESCALATE) {
			json_object_array_add(a_alerts, json_object_new_int64(it->id));
			continue;
		}
		const struct hl_event *ev = &it->req->ev;
		if (ev->type == HL_CMD_ALERT_ACK) {
			json_object_array_add(a_alerts, json_object_new_int64(ev->alert_id));
			continue;
		}
		if (!hl_type_is_event(ev->type))
			continue;
		json_object_array_add(a_events, json_object_new_string(ev->id));
		if (ev->case_id) {
			json_object_array_add(a_cases, json_object_new_int64(ev->case_id));
			json_object_array_add(a_event_cases, json_object_new_int64(ev->case_id));
		}
		if (ev->into)
			json_object_array_add(a_cases, json_object_new_int64(ev->into));
		if (ev->order_id)
			json_object_array_add(a_orders, json_object_new_string(ev->order_id));
		if (ev->category)
			json_object_array_add(a_cats, json_object_new_string(ev->category));
		if (ev->area)
			json_object_array_add(a_areas, json_object_new_string(ev->area));
		if (ev->department && ev->type == HL_EV_ORDER_DISPATCH)
			json_object_array_add(a_depts, json_object_new_string(ev->department));
		if (ev->call_id)
			json_object_array_add(a_calls, json_object_new_string(ev->call_id));
		if (ev->caller[0])
			json_object_array_add(a_callers, json_object_new_string(ev->caller));
		if (may_open_case(ev))
			openers++;
		if (ev->at < min_at)
			min_at = ev->at;
	}
	if (min_at == INT64_MAX)
		min_at = now_ms();
	hl_ms since = min_at - hl->cfg->repeat.window_ms - 1000;

	char *s_events = store_json_take(a_events), *s_cases = store_json_take(a_cases), *s_calls = store_json_take(a_calls),
	     *s_event_cases = store_json_take(a_event_cases),
	     *s_callers = store_json_take(a_callers), *s_alerts = store_json_take(a_alerts), *s_orders = store_json_take(a_orders);
	char b_since[24], b_n[24];
	store_fmt_i64(b_since, since);

	size_t have = hl_world_free_id_count(store.world);
	/* reserve exactly the case ids the batch may need: it costs no extra round trip */
	size_t ids_wanted = openers > have ? openers - have : 0;
	store_fmt_i64(b_n, (int64_t)ids_wanted);

	store_pipeline_begin(L__COUNT);
	const char *p_seen[] = { s_events };
	const char *p_cases[] = { s_cases, s_calls, s_callers };
	const char *p_calls[] = { s_calls };
	/* callers (and their recent calls, for repeat-caller counting) only for
	 * events: a clock that fires needs its case, not the caller's history */
	const char *p_callers[] = { s_callers, s_event_cases, s_calls, b_since };
	const char *p_alerts[] = { s_alerts };
	const char *p_ids[] = { b_n };
	const char *p_orders[] = { s_orders, s_cases };
	bool hot = json_object_array_length(a_cats) + json_object_array_length(a_areas) +
	           json_object_array_length(a_depts) > 0;
	char *s_cats = store_json_take(a_cats), *s_areas = store_json_take(a_areas), *s_depts = store_json_take(a_depts);
	char b_hot_since[24];
	store_fmt_i64(b_hot_since, min_at - hl->cfg->hotspot.window_ms - 1000);
	const char *p_hot[] = { s_cases, s_calls, s_cats, s_areas, s_depts, b_hot_since };
	const char *p_hot_keys[] = { b_hot_since };
	/* a statement with nothing to look up is not sent (a batch of fired
	 * clocks needs only its cases); its result stays NULL */
	bool has_events = strcmp(s_events, "[]") != 0, has_calls = strcmp(s_calls, "[]") != 0,
	     has_callers = strcmp(s_callers, "[]") != 0, has_cases = strcmp(s_cases, "[]") != 0;
	for (int i = 0; i < L__COUNT; i++)
		store.load_at[i] = -1;
	/* first, the batch locks (callers, then cases), held until the write's COMMIT */
	const char *p_lock[] = { s_cases, s_calls, s_callers, s_orders };
	store.load_at[L_LOCK] = store.n_stmts, store_send_stmt(SQL_LOCK_BATCH, 4, p_lock);
	if (has_events)
		store.load_at[L_SEEN] = store.n_stmts, store_send_stmt(SQL_SEEN, 1, p_seen);
	if (has_cases || has_calls || has_callers)
		store.load_at[L_CASES] = store.n_stmts, store_send_stmt(SQL_CASES, 3, p_cases);
	if (has_calls)
		store.load_at[L_CALLS] = store.n_stmts, store_send_stmt(SQL_CALLS, 1, p_calls);
	if (has_callers || has_calls || strcmp(s_event_cases, "[]") != 0)
		store.load_at[L_CALLERS] = store.n_stmts, store_send_stmt(SQL_CALLERS, 4, p_callers);
	if (strcmp(s_alerts, "[]") != 0)
		store.load_at[L_ALERTS] = store.n_stmts, store_send_stmt(SQL_ALERTS, 1, p_alerts);
	if (ids_wanted > 0)
		store.load_at[L_IDS] = store.n_stmts, store_send_stmt(SQL_IDS, 1, p_ids);
	/* work orders: the cases reached through an order_id or merged into a
	 * batch case, and every order of the batch's cases (store_orders.c) */
	if (has_cases || strcmp(s_orders, "[]") != 0) {
		store.load_at[L_ORDER_CASES] = store.n_stmts, store_send_stmt(SQL_ORDER_CASES, 2, p_orders);
		store.load_at[L_ORDERS] = store.n_stmts, store_send_stmt(SQL_ORDERS, 2, p_orders);
	}
	if (hot && hl->cfg->hotspot.threshold > 0) {
		store.load_at[L_HOTSPOT_CASES] = store.n_stmts, store_send_stmt(SQL_HOTSPOT_CASES, 6, p_hot);
		store.load_at[L_HOTSPOTS] = store.n_stmts, store_send_stmt(SQL_HOTSPOTS, 1, p_hot_keys);
	}
	free(s_cats), free(s_areas), free(s_depts);
	free(s_events), free(s_cases), free(s_calls), free(s_callers), free(s_alerts), free(s_event_cases);
	free(s_orders);
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

