/*
 * store_orders.c - the work-order rows of the store's batch (CONTRACT.md 6).
 *
 * store.c runs the batch; this file turns hotline.orders rows into struct
 * hl_order and back, and sets the order clocks' timers.  It adds no round
 * trip: the orders are loaded by the batch's load pipeline
 * (store_orders_sql.h: SQL_ORDERS, SQL_ORDER_CASES) and written by its write
 * pipeline, one statement per table, like every other row.  A batch's
 * survey.result events also go to the orders of their cases
 * (SQL_W_ORDER_SURVEYS): the survey an order counts is stored on it.
 *
 * Timers: an order clock's timer is (case_id * HL_ORDER_KEY_MUL + order
 * number, TIMER_ORDER_SIGN/REPLY, seq), so that a fired timer names its case
 * and the load brings the case's orders with it.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "daemon.h"
#include "hotspot.h"
#include "orders.h"
#include "store_orders_sql.h"
#include "store_internal.h"

static hl_ms ms_at(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static char *str_at(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static enum hl_clock_state state_at(const PGresult *r, int row, int col)
{
	int s = PQgetisnull(r, row, col) ? -1 : hl_clock_state_from_name(PQgetvalue(r, row, col));
	return s < 0 ? HL_CS_NONE : (enum hl_clock_state)s;
}

/* SQL_ORDERS's columns, in its order (named_in_order: see store_columns.c) */
enum order_col { ORDER_ID, ORDER_CASE_ID, ORDER_NO, ORDER_STATUS, ORDER_DEPARTMENT, ORDER_CATEGORY, ORDER_AREA,
                 ORDER_RESULT, ORDER_NOTE, ORDER_RETURN_REASON, ORDER_EXTEND_REASON, ORDER_SIGNED_BY,
                 ORDER_DISPATCHED_AT, ORDER_SIGNED_AT, ORDER_RETURNED_AT, ORDER_REPLIED_AT, ORDER_DUE_AT,
                 ORDER_SIGN_DUE_AT, ORDER_EXTEND_REQUESTED_AT, ORDER_EXTEND_UNTIL, ORDER_EXTENSIONS,
                 ORDER_EXTEND_REJECTIONS, ORDER_SIGN_STATE, ORDER_SIGN_SEQ, ORDER_SIGN_ALLOWED_MS, ORDER_SIGN_MET_AT,
                 ORDER_SIGN_BREACHED_AT, ORDER_REPLY_STATE, ORDER_REPLY_SEQ, ORDER_REPLY_ALLOWED_MS,
                 ORDER_REPLY_MET_AT, ORDER_REPLY_BREACHED_AT, ORDER_CALENDAR, ORDER__N };
static const char *const ORDER_COLS[] = { "order_id", "case_id", "order_no", "status", "department", "category",
	"area", "result", "note", "return_reason", "extend_reason", "signed_by", "dispatched_at", "signed_at",
	"returned_at", "replied_at", "due_at", "sign_due_at", "extend_requested_at", "extend_until", "extensions",
	"extend_rejections", "sign_state", "sign_seq", "sign_allowed_ms", "sign_met_at", "sign_breached_at",
	"reply_state", "reply_seq", "reply_allowed_ms", "reply_met_at", "reply_breached_at", "calendar" };
_Static_assert(sizeof ORDER_COLS / sizeof *ORDER_COLS == ORDER__N, "a name for every enum order_col");

enum { HOT_CASE_ID, HOT_CATEGORY, HOT_AREA, HOT_DEPARTMENT, HOT_AT, HOT_CASE__N };
static const char *const HOT_CASE_COLS[] = { "case_id", "category", "area", "department", "at" };
enum { HOT_KEY, HOT_ALERTED_AT, HOT__N };
static const char *const HOT_COLS[] = { "key", "alerted_at" };

struct store_columns store_cols_orders = {
	.what = "SQL_ORDERS", .sql = SQL_ORDERS, .names = ORDER_COLS, .n = ORDER__N, .named_in_order = true };
struct store_columns store_cols_hotspot_cases = {
	.what = "SQL_HOTSPOT_CASES", .sql = SQL_HOTSPOT_CASES, .names = HOT_CASE_COLS, .n = HOT_CASE__N,
	.named_in_order = true };
struct store_columns store_cols_hotspots = {
	.what = "SQL_HOTSPOTS", .sql = SQL_HOTSPOTS, .names = HOT_COLS, .n = HOT__N, .named_in_order = true };

void store_orders_fill(struct hl_world *w, const PGresult *r)
{
	const int *at = store_cols_orders.at;
	for (int i = 0; r && i < PQntuples(r); i++) {
		struct hl_order o;
		memset(&o, 0, sizeof o);
		snprintf(o.order_id, sizeof o.order_id, "%s", PQgetvalue(r, i, at[ORDER_ID]));
		o.case_id = ms_at(r, i, at[ORDER_CASE_ID]);
		o.no = (int32_t)ms_at(r, i, at[ORDER_NO]);
		int st = hl_order_status_from_name(PQgetvalue(r, i, at[ORDER_STATUS]));
		o.status = st < 0 ? HL_OS_DISPATCHED : (enum hl_order_status)st;
		o.department = str_at(r, i, at[ORDER_DEPARTMENT]); /* deep-copied by hl_world_add_order */
		o.category = str_at(r, i, at[ORDER_CATEGORY]);
		o.area = str_at(r, i, at[ORDER_AREA]);
		o.result = str_at(r, i, at[ORDER_RESULT]);
		o.note = str_at(r, i, at[ORDER_NOTE]);
		o.return_reason = str_at(r, i, at[ORDER_RETURN_REASON]);
		o.extend_reason = str_at(r, i, at[ORDER_EXTEND_REASON]);
		o.signed_by = str_at(r, i, at[ORDER_SIGNED_BY]);
		o.dispatched_at = ms_at(r, i, at[ORDER_DISPATCHED_AT]);
		o.signed_at = ms_at(r, i, at[ORDER_SIGNED_AT]);
		o.returned_at = ms_at(r, i, at[ORDER_RETURNED_AT]);
		o.replied_at = ms_at(r, i, at[ORDER_REPLIED_AT]);
		o.due_at = ms_at(r, i, at[ORDER_DUE_AT]);
		o.sign_due_at = ms_at(r, i, at[ORDER_SIGN_DUE_AT]);
		o.extend_requested_at = ms_at(r, i, at[ORDER_EXTEND_REQUESTED_AT]);
		o.extend_until = ms_at(r, i, at[ORDER_EXTEND_UNTIL]);
		o.extensions = (int32_t)ms_at(r, i, at[ORDER_EXTENSIONS]);
		o.extend_rejections = (int32_t)ms_at(r, i, at[ORDER_EXTEND_REJECTIONS]);
		const char *cal = PQgetvalue(r, i, at[ORDER_CALENDAR]);
		struct hl_clock *k = &o.clocks[HL_OC_SIGN];
		k->state = state_at(r, i, at[ORDER_SIGN_STATE]);
		k->seq = (int32_t)ms_at(r, i, at[ORDER_SIGN_SEQ]);
		k->allowed_ms = ms_at(r, i, at[ORDER_SIGN_ALLOWED_MS]);
		k->met_at = ms_at(r, i, at[ORDER_SIGN_MET_AT]);
		k->breached_at = ms_at(r, i, at[ORDER_SIGN_BREACHED_AT]);
		k->started_at = o.dispatched_at;
		k->due_at = o.sign_due_at;
		snprintf(k->calendar, sizeof k->calendar, "%s", cal);
		k = &o.clocks[HL_OC_REPLY];
		k->state = state_at(r, i, at[ORDER_REPLY_STATE]);
		k->seq = (int32_t)ms_at(r, i, at[ORDER_REPLY_SEQ]);
		k->allowed_ms = ms_at(r, i, at[ORDER_REPLY_ALLOWED_MS]);
		k->met_at = ms_at(r, i, at[ORDER_REPLY_MET_AT]);
		k->breached_at = ms_at(r, i, at[ORDER_REPLY_BREACHED_AT]);
		k->started_at = o.dispatched_at;
		k->due_at = o.due_at;
		snprintf(k->calendar, sizeof k->calendar, "%s", cal);
		hl_world_add_order(w, &o);
	}
}

/* SQL_ORDER_CASES's merged_into: the case a loaded case was merged into. */
void store_orders_fill_merges(struct hl_world *w, const PGresult *r)
{
	const int *at = store_cols_order_cases.at;
	for (int i = 0; r && i < PQntuples(r); i++)
		if (PQnfields(r) > at[CASE_MERGED_INTO] && !PQgetisnull(r, i, at[CASE_MERGED_INTO]))
			hl_world_add_merge(w, ms_at(r, i, at[CASE_ID]), ms_at(r, i, at[CASE_MERGED_INTO]), false);
}

static void jadd(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *jms(hl_ms v) { return v ? json_object_new_int64(v) : NULL; }
static json_object *jstr(const char *s) { return s ? json_object_new_string(s) : NULL; }

static json_object *jstate(const struct hl_clock *k)
{
	return k->state == HL_CS_NONE ? NULL : json_object_new_string(hl_clock_state_name(k->state));
}

json_object *store_orders_rows(struct hl_world *w)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < w->n_orders; i++) {
		const struct hl_order *o = w->orders[i];
		if (!o->is_new && !o->dirty)
			continue;
		const struct hl_clock *s = &o->clocks[HL_OC_SIGN], *r = &o->clocks[HL_OC_REPLY];
		json_object *j = json_object_new_object();
		jadd(j, "order_id", json_object_new_string(o->order_id));
		jadd(j, "case_id", json_object_new_int64(o->case_id));
		jadd(j, "order_no", json_object_new_int(o->no));
		jadd(j, "department", json_object_new_string(o->department ? o->department : ""));
		jadd(j, "status", json_object_new_string(hl_order_status_name(o->status)));
		jadd(j, "category", jstr(o->category));
		jadd(j, "area", jstr(o->area));
		jadd(j, "dispatched_at", json_object_new_int64(o->dispatched_at));
		jadd(j, "signed_at", jms(o->signed_at));
		jadd(j, "signed_by", jstr(o->signed_by));
		jadd(j, "returned_at", jms(o->returned_at));
		jadd(j, "return_reason", jstr(o->return_reason));
		jadd(j, "replied_at", jms(o->replied_at));
		jadd(j, "result", jstr(o->result));
		jadd(j, "note", jstr(o->note));
		jadd(j, "due_at", json_object_new_int64(hl_ms_storable(o->due_at)));
		jadd(j, "sign_due_at", s->state == HL_CS_NONE ? NULL : jms(hl_ms_storable(o->sign_due_at)));
		jadd(j, "extend_requested_at", jms(o->extend_requested_at));
		jadd(j, "extend_until", jms(hl_ms_storable(o->extend_until)));
		jadd(j, "extend_reason", jstr(o->extend_reason));
		jadd(j, "extensions", json_object_new_int(o->extensions));
		jadd(j, "extend_rejections", json_object_new_int(o->extend_rejections));
		jadd(j, "sign_state", jstate(s));
		jadd(j, "sign_seq", json_object_new_int(s->seq));
		jadd(j, "sign_allowed_ms", s->state == HL_CS_NONE ? NULL : json_object_new_int64(s->allowed_ms));
		jadd(j, "sign_met_at", jms(s->met_at));
		jadd(j, "sign_breached_at", jms(s->breached_at));
		jadd(j, "reply_state", json_object_new_string(hl_clock_state_name(r->state)));
		jadd(j, "reply_seq", json_object_new_int(r->seq));
		jadd(j, "reply_allowed_ms", json_object_new_int64(r->allowed_ms));
		jadd(j, "reply_met_at", jms(r->met_at));
		jadd(j, "reply_breached_at", jms(r->breached_at));
		jadd(j, "calendar", json_object_new_string(r->calendar));
		json_object_array_add(arr, j);
	}
	return arr;
}

/* Orders changed in this batch whose sign / reply clock is no longer breached. */
json_object *store_order_urge_stops(struct hl_world *w)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < w->n_orders; i++) {
		const struct hl_order *o = w->orders[i];
		if (o->is_new || !o->dirty)
			continue;
		bool sign_done = o->clocks[HL_OC_SIGN].state != HL_CS_BREACHED;
		bool reply_done = o->clocks[HL_OC_REPLY].state != HL_CS_BREACHED;
		if (!sign_done && !reply_done)
			continue;
		json_object *j = json_object_new_object();
		jadd(j, "order_id", json_object_new_string(o->order_id));
		jadd(j, "sign_done", json_object_new_boolean(sign_done));
		jadd(j, "reply_done", json_object_new_boolean(reply_done));
		json_object_array_add(arr, j);
	}
	return arr;
}

/* The batch's survey.result events, for hotline.record_surveys() (sql/033):
 * each order keeps the survey it counts in department_monthly, so the view
 * reads no event.  Every accepted survey, backfilled ones too: the view
 * counted them when it read case_events. */
json_object *store_order_survey_rows(struct hl_world *w)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < w->n_accepted; i++) {
		const struct hl_accepted *ac = &w->accepted[i];
		if (ac->ev->type != HL_EV_SURVEY_RESULT || !ac->case_id)
			continue;
		json_object *j = json_object_new_object();
		jadd(j, "case_id", json_object_new_int64(ac->case_id));
		jadd(j, "at", json_object_new_int64(ac->ev->at));
		jadd(j, "score", ac->ev->score ? json_object_new_int(ac->ev->score) : NULL);
		jadd(j, "n", json_object_new_int((int)i));
		json_object_array_add(arr, j);
	}
	return arr;
}

json_object *store_merge_rows(struct hl_world *w)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < w->n_merges; i++) {
		if (!w->merges[i].is_new)
			continue;
		json_object *j = json_object_new_object();
		jadd(j, "case_id", json_object_new_int64(w->merges[i].case_id));
		jadd(j, "merged_into", json_object_new_int64(w->merges[i].into));
		json_object_array_add(arr, j);
	}
	return arr;
}

static int64_t timer_id(const struct hl_order *o)
{
	return o->case_id * HL_ORDER_KEY_MUL + o->no;
}

void store_orders_timers(struct hl_world *w)
{
	for (size_t i = 0; i < w->n_orders; i++) {
		const struct hl_order *o = w->orders[i];
		for (int k = 0; k < HL_OC__COUNT; k++)
			if (o->clocks[k].dirty)
				clocks_set(timer_id(o), TIMER_ORDER_SIGN + k, o->clocks[k].seq,
				           hl_order_next_fire(&o->clocks[k]));
	}
}

void store_orders_refire(struct hl_world *w, int64_t id, int kind)
{
	const struct hl_order *o = hl_world_order_no(w, id / HL_ORDER_KEY_MUL, (int32_t)(id % HL_ORDER_KEY_MUL));
	int k = kind - TIMER_ORDER_SIGN;
	if (o && k >= 0 && k < HL_OC__COUNT && !o->clocks[k].dirty)
		clocks_set(id, kind, o->clocks[k].seq, hl_order_next_fire(&o->clocks[k]));
}

/* ------------------------------------------------------------ hotspots */

void store_hotspots_fill(struct hl_world *w, const PGresult *cases, const PGresult *keys)
{
	const int *at = store_cols_hotspot_cases.at;
	for (int i = 0; cases && i < PQntuples(cases); i++)
		hl_world_add_hotspot_case(w, &(struct hl_hotspot_case){
			.case_id = ms_at(cases, i, at[HOT_CASE_ID]), .category = str_at(cases, i, at[HOT_CATEGORY]),
			.area = str_at(cases, i, at[HOT_AREA]), .department = str_at(cases, i, at[HOT_DEPARTMENT]),
			.at = ms_at(cases, i, at[HOT_AT])});
	at = store_cols_hotspots.at;
	for (int i = 0; keys && i < PQntuples(keys); i++)
		hl_world_add_hotspot(w, PQgetvalue(keys, i, at[HOT_KEY]), ms_at(keys, i, at[HOT_ALERTED_AT]));
}

json_object *store_hotspot_case_rows(struct hl_world *w)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < w->n_hotspot_cases; i++) {
		const struct hl_hotspot_case *h = w->hotspot_cases[i];
		if (!h->dirty || !h->at)
			continue;
		json_object *j = json_object_new_object();
		jadd(j, "case_id", json_object_new_int64(h->case_id));
		jadd(j, "category", jstr(h->category));
		jadd(j, "area", jstr(h->area));
		jadd(j, "department", jstr(h->department));
		jadd(j, "at", json_object_new_int64(h->at));
		json_object_array_add(arr, j);
	}
	return arr;
}

json_object *store_hotspot_rows(struct hl_world *w)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < w->n_hotspots; i++) {
		const struct hl_hotspot *k = w->hotspots[i];
		if (!k->dirty)
			continue;
		json_object *j = json_object_new_object();
		jadd(j, "key", json_object_new_string(k->key));
		jadd(j, "alerted_at", json_object_new_int64(k->alerted_at));
		json_object_array_add(arr, j);
	}
	return arr;
}
