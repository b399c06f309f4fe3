/*
 * batch_keys.c - which keys a batch touches (see include/batch_keys.h).
 *
 * Pure: a walk over the batch's items that collects the keys each load
 * statement needs, as the JSON arrays the statements take, and says which
 * statements are worth sending.  It knows the load's needs (a clock that
 * fires needs its case, an acknowledgement its alert, an event everything it
 * names), not how the rows are fetched: that is the store's (store_load.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "batch_keys.h"
#include "orders.h"
#include "pos_table.h"
#include "rules.h"

/* May this event open a case (and so need a fresh case id)? */
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

static char *json_take(json_object *o)
{
	char *s = hl_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

/* A hotspot field's values as JSON text, or NULL when the key has no such field. */
static char *key_values(json_object *values, bool in_key)
{
	if (in_key)
		return json_take(values);
	json_object_put(values);
	return NULL;
}

static void add_i64(json_object *a, int64_t v) { json_object_array_add(a, json_object_new_int64(v)); }
static void add_str(json_object *a, const char *s) { json_object_array_add(a, json_object_new_string(s)); }

/*
 * The call.ended events that reach their case only through their call:
 * with a category or an area (they classify the case: hotspots) and with
 * outcome "resolved" (they resolve it: the cases merged into it are owed a
 * call back).  Their call ids, and the callers of those of their calls that
 * were offered in the same batch: such a call is not stored yet, and joins
 * its caller's open case.  The table of the batch's offered calls is built
 * only for a batch that has such an event.  Returns how many resolve.
 */
static size_t ended_calls(const struct hl_bk_item *items, size_t n, json_object *hot_calls,
                          json_object *hot_callers, json_object *res_calls, json_object *res_callers)
{
	struct hl_str_table caller_of = { 0 }; /* call id -> the item that offered it from a caller */
	bool built = false;
	size_t resolving = 0;
	for (size_t i = 0; i < n; i++) {
		const struct hl_event *ev = items[i].kind == HL_BK_REQUEST ? items[i].ev : NULL;
		if (!ev || ev->type != HL_EV_CALL_ENDED || !ev->call_id)
			continue;
		bool classifies = ev->category || ev->area, resolves = ev->outcome && strcmp(ev->outcome, "resolved") == 0;
		if (!classifies && !resolves)
			continue;
		for (size_t j = 0; !built && j < n; j++) {
			const struct hl_event *o = items[j].kind == HL_BK_REQUEST ? items[j].ev : NULL;
			if (o && o->caller[0] && o->call_id)
				hl_str_put(&caller_of, o->call_id, j);
		}
		built = true;
		size_t offered = hl_str_get(&caller_of, ev->call_id);
		const char *caller = offered != HL_NO_POS ? items[offered].ev->caller : NULL;
		if (classifies) {
			add_str(hot_calls, ev->call_id);
			if (caller)
				add_str(hot_callers, caller);
		}
		if (resolves) {
			resolving++;
			add_str(res_calls, ev->call_id);
			if (caller)
				add_str(res_callers, caller);
		}
	}
	free(caller_of.slots);
	return resolving;
}

void hl_batch_keys(const struct hl_bk_item *items, size_t n, const struct hl_batch_keys_env *env,
                   struct hl_batch_keys *out)
{
	json_object *events = json_object_new_array(), *cases = json_object_new_array(),
	            *event_cases = json_object_new_array(), *calls = json_object_new_array(),
	            *callers = json_object_new_array(), *alerts = json_object_new_array(),
	            *orders = json_object_new_array(), *cats = json_object_new_array(),
	            *areas = json_object_new_array(), *depts = json_object_new_array();
	if (!events || !cases || !event_cases || !calls || !callers || !alerts || !orders || !cats || !areas || !depts)
		abort(); /* the core's policy: out of memory is not survivable (hl_xrealloc) */
	size_t openers = 0, hot_events = 0;
	bool reaches_orders = false; /* an item of the batch may need the orders of its cases */
	hl_ms earliest = INT64_MAX;
	/* the cases a classifying event or a resolving call.ended reaches */
	json_object *hot_cases = json_object_new_array(), *hot_calls = json_object_new_array(),
	            *hot_callers = json_object_new_array(), *res_calls = json_object_new_array(),
	            *res_callers = json_object_new_array();
	if (!hot_cases || !hot_calls || !hot_callers || !res_calls || !res_callers)
		abort();

	for (size_t i = 0; i < n; i++) {
		const struct hl_bk_item *it = &items[i];
		if (it->kind == HL_BK_CLOCK) {
			/* a case clock's fire reads its case and clock alone
			 * (hl_rules_clock_fire), but a redispatch tags its alert
			 * with the case's order (hl_orders_tag_redispatch) */
			add_i64(cases, it->id);
			reaches_orders |= it->clock == HL_CK_REDISPATCH;
			continue;
		}
		if (it->kind == HL_BK_ORDER_CLOCK) {
			add_i64(cases, it->id / HL_ORDER_KEY_MUL);
			reaches_orders = true;
			continue;
		}
		if (it->kind == HL_BK_ESCALATION) {
			add_i64(alerts, it->id);
			continue;
		}
		const struct hl_event *ev = it->ev;
		if (ev->type == HL_CMD_ALERT_ACK) {
			add_i64(alerts, ev->alert_id);
			continue;
		}
		if (!hl_type_is_event(ev->type))
			continue; /* case.get, subscribe, stats...: nothing to load */
		add_str(events, ev->id);
		reaches_orders = true; /* an event may reach orders through any case it touches */
		if (ev->case_id) {
			add_i64(cases, ev->case_id);
			add_i64(event_cases, ev->case_id);
		}
		if (ev->into)
			add_i64(cases, ev->into);
		if (ev->order_id)
			add_str(orders, ev->order_id);
		/* Hotspots (hotspot.c).  An event that classifies its case (rules.c:
		 * classify) rebuilds the case's hotspot row, so it must load it,
		 * whatever fields the key is made of.  The key it forms takes each
		 * field from the event or from the case as it was: the load matches
		 * the window's rows on the values collected here and the stored
		 * values of the cases the batch reaches.  A transfer classifies
		 * nothing, but the department it sets is the case's for a later
		 * event of the batch. */
		if (ev->category || ev->area || ev->type == HL_EV_ORDER_DISPATCH) {
			hot_events++;
			if (ev->case_id)
				add_i64(hot_cases, ev->case_id);
		}
		if (ev->category)
			add_str(cats, ev->category);
		if (ev->area)
			add_str(areas, ev->area);
		if (ev->department && (ev->type == HL_EV_ORDER_DISPATCH || ev->type == HL_EV_CASE_TRANSFER))
			add_str(depts, ev->department);
		if (ev->call_id)
			add_str(calls, ev->call_id);
		if (ev->caller[0])
			add_str(callers, ev->caller);
		if (may_open_case(ev))
			openers++;
		if (ev->at < earliest)
			earliest = ev->at;
	}
	if (earliest == INT64_MAX)
		earliest = env->now;
	size_t resolving = ended_calls(items, n, hot_calls, hot_callers, res_calls, res_callers);

	bool has_events = json_object_array_length(events) > 0, has_cases = json_object_array_length(cases) > 0,
	     has_calls = json_object_array_length(calls) > 0, has_callers = json_object_array_length(callers) > 0,
	     has_event_cases = json_object_array_length(event_cases) > 0,
	     has_alerts = json_object_array_length(alerts) > 0, has_orders = json_object_array_length(orders) > 0;

	memset(out, 0, sizeof *out);
	out->openers = openers;
	out->earliest = earliest;
	/* a second of slack: an event's `at` may be a little behind the calls already stored */
	out->repeat_since = earliest - env->repeat_window_ms - 1000;
	out->hotspot_since = earliest - env->hotspot_window_ms - 1000;
	/* reserve exactly the case ids the batch may need: it costs no extra round trip */
	out->ids_wanted = openers > env->free_ids ? openers - env->free_ids : 0;

	out->want_seen = has_events;
	out->want_cases = has_cases || has_calls || has_callers;
	out->want_calls = has_calls;
	/* callers (and their recent calls, for repeat-caller counting) only for
	 * events: a clock that fires needs its case, not the caller's history */
	out->want_callers = has_callers || has_calls || has_event_cases;
	out->want_alerts = has_alerts;
	out->want_ids = out->ids_wanted > 0;
	/* work orders: the cases reached through an order_id or merged into a
	 * batch case, and every order of the batch's cases; not for a batch of
	 * case clocks alone that holds no redispatch (the due lane's batches:
	 * the two statements cost 2.2 us an alert there and returned no row) */
	out->want_orders = (has_cases && reaches_orders) || has_orders;
	/* ... and the cases merged into a case that a call.ended resolves
	 * through its call_id: their callers are owed a call back */
	out->want_order_cases = out->want_orders || resolving > 0;
	out->want_hotspots = hot_events > 0 && env->hotspots_on;

	out->events = json_take(events);
	out->cases = json_take(cases);
	out->event_cases = json_take(event_cases);
	out->calls = json_take(calls);
	out->callers = json_take(callers);
	out->alerts = json_take(alerts);
	out->orders = json_take(orders);
	out->hot_cases = json_take(hot_cases);
	out->hot_calls = json_take(hot_calls);
	out->hot_callers = json_take(hot_callers);
	out->resolving_calls = json_take(res_calls);
	out->resolving_callers = json_take(res_callers);
	out->categories = key_values(cats, env->hotspot_category);
	out->areas = key_values(areas, env->hotspot_area);
	out->departments = key_values(depts, env->hotspot_department);
}

void hl_batch_keys_free(struct hl_batch_keys *k)
{
	if (!k)
		return;
	free(k->events), free(k->cases), free(k->event_cases), free(k->calls), free(k->callers);
	free(k->alerts), free(k->orders), free(k->categories), free(k->areas), free(k->departments);
	free(k->hot_cases), free(k->hot_calls), free(k->hot_callers), free(k->resolving_calls), free(k->resolving_callers);
	memset(k, 0, sizeof *k);
}

/* ------------------------------------------------ due clocks ahead of the queue */

int64_t hl_due_case(const struct hl_bk_item *it)
{
	if (it->kind == HL_BK_CLOCK)
		return it->id;
	if (it->kind == HL_BK_ORDER_CLOCK)
		return it->id / HL_ORDER_KEY_MUL;
	return 0;
}

bool hl_due_may_pass(const struct hl_bk_item *queued)
{
	if (queued->kind == HL_BK_ESCALATION)
		return true; /* raises an alert's level: no clock, no case row */
	if (queued->kind != HL_BK_REQUEST)
		return false; /* another fired clock: of the same case it stays ahead */
	/* commands read (case.get, subscribe) or touch one alert (alert.ack):
	 * none starts, meets or stops a clock */
	return !hl_type_is_event(queued->ev->type);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

void hl_due_ahead_collect(const struct hl_bk_item *ahead, size_t n, struct hl_due_ahead *out)
{
	json_object *named = json_object_new_array(), *callers = json_object_new_array(),
	            *calls = json_object_new_array(), *orders = json_object_new_array();
	if (!named || !callers || !calls || !orders)
		abort();
	memset(out, 0, sizeof *out);
	out->cases = hl_xrealloc(NULL, sizeof *out->cases * (2 * n + 1));
	for (size_t i = 0; i < n; i++) {
		const struct hl_bk_item *it = &ahead[i];
		if (hl_due_may_pass(it))
			continue;
		int64_t c = hl_due_case(it);
		if (c) {
			out->cases[out->n_cases++] = c;
			continue;
		}
		const struct hl_event *ev = it->ev;
		bool keyed = false;
		if (ev->case_id)
			out->cases[out->n_cases++] = ev->case_id, add_i64(named, ev->case_id), keyed = true;
		if (ev->into)
			out->cases[out->n_cases++] = ev->into, add_i64(named, ev->into), keyed = true;
		/* a case named here may have been merged into the due clock's case */
		if (ev->caller[0])
			add_str(callers, ev->caller), keyed = true;
		if (ev->call_id)
			add_str(calls, ev->call_id), keyed = true;
		if (ev->order_id)
			add_str(orders, ev->order_id), keyed = true;
		if (!keyed)
			out->unkeyed = true;
	}
	qsort(out->cases, out->n_cases, sizeof *out->cases, cmp_i64);
	out->probe = json_object_array_length(named) + json_object_array_length(callers) +
	             json_object_array_length(calls) + json_object_array_length(orders) > 0;
	out->named = json_take(named);
	out->callers = json_take(callers);
	out->calls = json_take(calls);
	out->orders = json_take(orders);
}

bool hl_due_ahead_names(const struct hl_due_ahead *a, int64_t case_id)
{
	return a->unkeyed || (a->n_cases && bsearch(&case_id, a->cases, a->n_cases, sizeof *a->cases, cmp_i64));
}

void hl_due_ahead_free(struct hl_due_ahead *a)
{
	if (!a)
		return;
	free(a->cases), free(a->named), free(a->callers), free(a->calls), free(a->orders);
	memset(a, 0, sizeof *a);
}
