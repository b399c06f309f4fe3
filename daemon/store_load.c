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

/* An item as the pure key collector sees it (batch_keys.c). */
void store_bk_item(const struct item *it, struct hl_bk_item *k)
{
	k->id = it->id;
	k->clock = it->kind == ITEM_FIRE ? it->clock : -1;
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

/* The batch's items as the pure key collector sees them. */
static struct hl_bk_item *batch_key_items(size_t *n)
{
	struct hl_bk_item *items = hl_xrealloc(NULL, sizeof *items * (store.n_batch ? store.n_batch : 1));
	struct item *it;
	size_t i = 0;
	TAILQ_FOREACH(it, &store.batch, entry)
		store_bk_item(it, &items[i++]);
	*n = i;
	return items;
}

/* Is this case field part of hotspot.key? */
static bool hotspot_key_has(const char *field)
{
	for (size_t i = 0; i < hl->cfg->hotspot.n_key; i++)
		if (strcmp(hl->cfg->hotspot.key[i], field) == 0)
			return true;
	return false;
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
		.hotspot_category = hotspot_key_has("category"),
		.hotspot_area = hotspot_key_has("area"),
		.hotspot_department = hotspot_key_has("department"),
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
	const char *p_order_cases[] = { k.orders, k.cases, k.resolving_calls, k.resolving_callers };
	const char *p_hot[] = { k.hot_cases, k.hot_calls, k.categories, k.areas, k.departments, b_hot_since,
	                        k.hot_callers };
	const char *p_hot_keys[] = { b_hot_since };
	/* a statement with nothing to look up is not sent (a batch of fired
	 * clocks needs only its cases); its result stays NULL */
	for (int i = 0; i < L__COUNT; i++)
		store.load_at[i] = -1;
	/* first, the batch locks (callers, order ids, cases, then the hotspot
	 * values of a batch that classifies: sql/046), held until the write's
	 * COMMIT; the hotspot part is the reach and the values SQL_HOTSPOT_CASES
	 * gets, so that no other daemon counts one of the batch's keys meanwhile */
	const char *p_lock[] = { k.cases, k.calls, k.callers, k.orders,
	                         k.want_hotspots ? k.hot_cases : NULL, k.want_hotspots ? k.hot_calls : NULL,
	                         k.want_hotspots ? k.hot_callers : NULL, k.want_hotspots ? k.categories : NULL,
	                         k.want_hotspots ? k.areas : NULL, k.want_hotspots ? k.departments : NULL };
	store.load_at[L_LOCK] = store.n_stmts, store_send_stmt(SQL_LOCK_BATCH, 10, p_lock);
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
	if (k.want_order_cases)
		store.load_at[L_ORDER_CASES] = store.n_stmts, store_send_stmt(SQL_ORDER_CASES, 4, p_order_cases);
	if (k.want_orders)
		store.load_at[L_ORDERS] = store.n_stmts, store_send_stmt(SQL_ORDERS, 2, p_orders);
	if (k.want_hotspots) {
		store.load_at[L_HOTSPOT_CASES] = store.n_stmts, store_send_stmt(SQL_HOTSPOT_CASES, 7, p_hot);
		store.load_at[L_HOTSPOTS] = store.n_stmts, store_send_stmt(SQL_HOTSPOTS, 1, p_hot_keys);
	}
	hl_batch_keys_free(&k);
	/* due clocks ahead of requests queued before them: the probe (store_due.c) */
	store_due_probe();
	store.state = S_LOAD;
	store_pipeline_open(store_on_loaded);
}

/* ------------------------------------------- the columns each statement gives */

#define CASE_COLUMN_NAMES "id", "caller", "status", "opened_at", "resolved_at", "closed_at", "last_contact_at", \
	"last_reached_at", "updated_at", "category", "priority", "department", "queue", "summary", "resolution", "transfers",   \
	"reopens", "on_hold", "hold_since", "held_ms", "policy", "last_hold_from", "last_hold_until", "clocks"

static const char *const CASE_COLS[] = { CASE_COLUMN_NAMES };
static const char *const ORDER_CASE_COLS[] = { CASE_COLUMN_NAMES, "merged_into" };
_Static_assert(sizeof CASE_COLS / sizeof *CASE_COLS == CASE__N, "a name for every enum case_col");

enum { SEEN_EVENT_ID, SEEN_CASE_ID, SEEN_TYPE, SEEN_ORDER_ID, SEEN__N };
static const char *const SEEN_COLS[] = { "event_id", "case_id", "stored_type", "stored_order_id" };

enum { CALL_ID, CALL_CASE_ID, CALL_CALLER, CALL_STATE, CALL_INBOUND, CALL_OFFERED_AT, CALL_ANSWERED_AT,
       CALL_ENDED_AT, CALL_QUEUE, CALL_AGENT, CALL_OUTCOME, CALL__N };
static const char *const CALL_COLS[] = { "call_id", "case_id", "caller", "state", "inbound", "offered_at",
	"answered_at", "ended_at", "queue", "agent", "outcome" };

enum { CALLER_NUMBER, CALLER_CONFIDENTIAL, CALLER_REPEAT_ALERTED_AT, CALLER_REPEAT_FLOOR, CALLER_REPEAT_CROSSINGS,
       CALLER_RECENT_CALLS, CALLER__N };
static const char *const CALLER_COLS[] = { "caller", "confidential", "repeat_alerted_at", "repeat_floor",
                                           "repeat_crossings", "recent_calls" };

enum { ALERT_ID, ALERT_KIND, ALERT_CASE_ID, ALERT_CALLER, ALERT_LEVEL, ALERT_RAISED_AT, ALERT_DUE_AT,
       ALERT_ESCALATE_AT, ALERT_ACKED_AT, ALERT_ACKED_BY, ALERT_DEDUPE_KEY, ALERT_DETAIL, ALERT__N };
static const char *const ALERT_COLS[] = { "id", "kind", "case_id", "caller", "level", "raised_at", "due_at",
	"escalate_at", "acked_at", "acked_by", "dedupe_key", "detail" };

enum { ID_VALUE, ID__N };
static const char *const ID_COLS[] = { "id" };

#define COLUMNS(sql_, names_, n_) { .what = #sql_, .sql = sql_, .names = names_, .n = n_ }
static struct store_columns cols_seen = COLUMNS(SQL_SEEN, SEEN_COLS, SEEN__N);
static struct store_columns cols_cases = COLUMNS(SQL_CASES, CASE_COLS, CASE__N);
static struct store_columns cols_calls = COLUMNS(SQL_CALLS, CALL_COLS, CALL__N);
static struct store_columns cols_callers = COLUMNS(SQL_CALLERS, CALLER_COLS, CALLER__N);
static struct store_columns cols_alerts = COLUMNS(SQL_ALERTS, ALERT_COLS, ALERT__N);
static struct store_columns cols_ids = COLUMNS(SQL_IDS, ID_COLS, ID__N);
/* store_orders_sql.h does not name its computed columns (yet): see store_columns.c */
struct store_columns store_cols_order_cases = {
	.what = "SQL_ORDER_CASES", .sql = SQL_ORDER_CASES, .names = ORDER_CASE_COLS, .n = CASE__N + 1,
	.named_in_order = true,
};

struct store_columns *const store_column_maps[] = {
	&cols_seen, &cols_cases, &cols_calls, &cols_callers, &cols_alerts, &cols_ids,
	&store_cols_order_cases, &store_cols_orders, &store_cols_hotspot_cases, &store_cols_hotspots,
	&store_cols_alerts_new, &store_cols_alerts_upd, NULL,
};

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

/* Cases as SQL_CASES and SQL_ORDER_CASES return them. */
static void add_case_rows(PGresult *r, const struct store_columns *m)
{
	const int *at = m->at;
	for (int i = 0; i < PQntuples(r); i++) {
		struct hl_case c = {0};
		c.id = store_get_ms(r, i, at[CASE_ID]);
		snprintf(c.caller, sizeof c.caller, "%s", PQgetvalue(r, i, at[CASE_CALLER]));
		c.status = hl_status_from_name(PQgetvalue(r, i, at[CASE_STATUS]));
		c.opened_at = store_get_ms(r, i, at[CASE_OPENED_AT]);
		c.resolved_at = store_get_ms(r, i, at[CASE_RESOLVED_AT]);
		c.closed_at = store_get_ms(r, i, at[CASE_CLOSED_AT]);
		c.last_contact_at = store_get_ms(r, i, at[CASE_LAST_CONTACT_AT]);
		c.last_reached_at = store_get_ms(r, i, at[CASE_LAST_REACHED_AT]);
		c.updated_at = store_get_ms(r, i, at[CASE_UPDATED_AT]);
		c.category = get_str(r, i, at[CASE_CATEGORY]);
		c.priority = get_str(r, i, at[CASE_PRIORITY]);
		c.department = get_str(r, i, at[CASE_DEPARTMENT]);
		c.queue = get_str(r, i, at[CASE_QUEUE]);
		c.summary = get_str(r, i, at[CASE_SUMMARY]);
		c.resolution = get_str(r, i, at[CASE_RESOLUTION]);
		c.transfers = (int32_t)store_get_ms(r, i, at[CASE_TRANSFERS]);
		c.reopens = (int32_t)store_get_ms(r, i, at[CASE_REOPENS]);
		c.on_hold = store_get_bool(r, i, at[CASE_ON_HOLD]);
		c.hold_since = store_get_ms(r, i, at[CASE_HOLD_SINCE]);
		c.held_ms = store_get_ms(r, i, at[CASE_HELD_MS]);
		snprintf(c.policy, sizeof c.policy, "%s", PQgetvalue(r, i, at[CASE_POLICY]));
		c.last_hold_from = store_get_ms(r, i, at[CASE_LAST_HOLD_FROM]);
		c.last_hold_until = store_get_ms(r, i, at[CASE_LAST_HOLD_UNTIL]);
		hl_clock_list_read(get_str(r, i, at[CASE_CLOCKS]), c.clocks); /* clock_list.c */
		hl_world_add_case(store.world, &c);
	}
}

void store_fill_world(void)
{
	PGresult *r;
	const int *at;
	hl_world_reset(store.world);

	r = load_result(L_SEEN), at = cols_seen.at;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *id = PQgetvalue(r, i, at[SEEN_EVENT_ID]);
		char order_id[HL_ID_BYTES + 1];
		bool known = !PQgetisnull(r, i, at[SEEN_TYPE]);
		if (known)
			hl_orders_stored_order_id(PQgetvalue(r, i, at[SEEN_TYPE]), id,
			                          PQgetisnull(r, i, at[SEEN_ORDER_ID]) ? NULL : PQgetvalue(r, i, at[SEEN_ORDER_ID]),
			                          order_id, sizeof order_id);
		hl_world_add_seen_order(store.world, id, store_get_ms(r, i, at[SEEN_CASE_ID]), known ? order_id : NULL);
	}

	add_case_rows(load_result(L_CASES), &cols_cases);
	add_case_rows(load_result(L_ORDER_CASES), &store_cols_order_cases);
	store_orders_fill_merges(store.world, load_result(L_ORDER_CASES));
	store_orders_fill(store.world, load_result(L_ORDERS));
	store_hotspots_fill(store.world, load_result(L_HOTSPOT_CASES), load_result(L_HOTSPOTS));

	r = load_result(L_CALLS), at = cols_calls.at;
	for (int i = 0; i < PQntuples(r); i++) {
		struct hl_call c = {0};
		c.call_id = PQgetvalue(r, i, at[CALL_ID]);
		c.case_id = store_get_ms(r, i, at[CALL_CASE_ID]);
		snprintf(c.caller, sizeof c.caller, "%s", PQgetvalue(r, i, at[CALL_CALLER]));
		c.state = hl_call_state_from_name(PQgetvalue(r, i, at[CALL_STATE]));
		c.inbound = store_get_bool(r, i, at[CALL_INBOUND]);
		c.offered_at = store_get_ms(r, i, at[CALL_OFFERED_AT]);
		c.answered_at = store_get_ms(r, i, at[CALL_ANSWERED_AT]);
		c.ended_at = store_get_ms(r, i, at[CALL_ENDED_AT]);
		c.queue = get_str(r, i, at[CALL_QUEUE]);
		c.agent = get_str(r, i, at[CALL_AGENT]);
		c.outcome = get_str(r, i, at[CALL_OUTCOME]);
		hl_world_add_call(store.world, &c);
	}

	r = load_result(L_CALLERS), at = cols_callers.at;
	for (int i = 0; i < PQntuples(r); i++) {
		struct hl_caller c = {0};
		snprintf(c.caller, sizeof c.caller, "%s", PQgetvalue(r, i, at[CALLER_NUMBER]));
		c.confidential = store_get_bool(r, i, at[CALLER_CONFIDENTIAL]);
		c.repeat_alerted_at = store_get_ms(r, i, at[CALLER_REPEAT_ALERTED_AT]);
		c.repeat_floor = store_get_ms(r, i, at[CALLER_REPEAT_FLOOR]);
		/* no crossings kept (alerted before 082, or by a daemon of an older
		 * version since): nothing is known at or before the last alert */
		if (PQgetisnull(r, i, at[CALLER_REPEAT_CROSSINGS]) && c.repeat_alerted_at > c.repeat_floor)
			c.repeat_floor = c.repeat_alerted_at;
		/* its last crossings, "{1,2,3}", ascending (sql/082): the last
		 * HL_REPEAT_KEEP; an older one beyond them (a row written by a
		 * daemon that kept more) becomes the floor */
		for (const char *p = PQgetvalue(r, i, at[CALLER_REPEAT_CROSSINGS]); *p;) {
			char *end;
			hl_ms t = strtoll(p, &end, 10);
			if (end == p) {
				p++;
				continue;
			}
			p = end;
			if (c.n_repeat_crossings == HL_REPEAT_KEEP) {
				if (c.repeat_crossings[0] > c.repeat_floor)
					c.repeat_floor = c.repeat_crossings[0];
				memmove(c.repeat_crossings, c.repeat_crossings + 1,
				        (HL_REPEAT_KEEP - 1) * sizeof *c.repeat_crossings);
				c.n_repeat_crossings--;
			}
			c.repeat_crossings[c.n_repeat_crossings++] = t;
		}
		struct hl_caller *w = hl_world_add_caller(store.world, &c);
		/* its recent inbound calls, "{1,2,3}", ascending */
		for (const char *p = PQgetvalue(r, i, at[CALLER_RECENT_CALLS]); *p;) {
			char *end;
			hl_ms t = strtoll(p, &end, 10);
			if (end == p)
				p++;
			else
				hl_caller_add_inbound(w, t), p = end;
		}
	}

	r = load_result(L_ALERTS), at = cols_alerts.at;
	for (int i = 0; i < PQntuples(r); i++) {
		struct hl_alert a = {0};
		a.id = store_get_ms(r, i, at[ALERT_ID]);
		snprintf(a.kind, sizeof a.kind, "%s", PQgetvalue(r, i, at[ALERT_KIND]));
		a.case_id = store_get_ms(r, i, at[ALERT_CASE_ID]);
		snprintf(a.caller, sizeof a.caller, "%s", PQgetvalue(r, i, at[ALERT_CALLER]));
		a.level = (int)store_get_ms(r, i, at[ALERT_LEVEL]);
		a.raised_at = store_get_ms(r, i, at[ALERT_RAISED_AT]);
		a.due_at = store_get_ms(r, i, at[ALERT_DUE_AT]);
		a.escalate_at = store_get_ms(r, i, at[ALERT_ESCALATE_AT]);
		a.acked_at = store_get_ms(r, i, at[ALERT_ACKED_AT]);
		a.acked_by = get_str(r, i, at[ALERT_ACKED_BY]);
		snprintf(a.dedupe, sizeof a.dedupe, "%s", PQgetvalue(r, i, at[ALERT_DEDUPE_KEY]));
		a.detail = get_str(r, i, at[ALERT_DETAIL]);
		hl_world_add_alert(store.world, &a);
	}

	r = load_result(L_IDS), at = cols_ids.at;
	if (PQntuples(r) > 0) {
		size_t n = (size_t)PQntuples(r);
		int64_t *ids = hl_xrealloc(NULL, sizeof *ids * n);
		for (size_t i = 0; i < n; i++)
			ids[i] = store_get_ms(r, (int)i, at[ID_VALUE]);
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

