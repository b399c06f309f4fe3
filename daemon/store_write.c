/*
 * store_write.c - the write: the rows a batch changed, as JSON, to PostgreSQL.
 *
 * The second round trip of a batch (see store.c): every row the rules changed
 * becomes one element of a JSON array per table, written by one INSERT ..
 * ON CONFLICT (json_to_recordset) per table, plus the reads that case.get
 * and subscribe answer with; the pipeline Sync then commits.  The figures'
 * rollup (sql/023, 031) is kept exact in the same transaction: the first write
 * counts the facts of the rows the batch may change, the last adds their change.
 * Separate from
 * store.c because it is about row formats, not batch states.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "daemon.h"
#include "json_rows.h"
#include "protocol.h"
#include "rules.h"
#include "store_sql.h"
#include "orders.h"
#include "store_orders_sql.h"
#include "store_internal.h"

static json_object *jms(hl_ms v) { return v ? json_object_new_int64(v) : NULL; }
static json_object *jstr(const char *s) { return s ? json_object_new_string(s) : NULL; }

static void jadd(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v); /* NULL stores JSON null */
}

/* ------------------------------------------------------------ the write */

/* What a write writes: a case or call row that is new or changed, a clock
 * row that changed and is armed.  The row loops of store_start_write, the
 * rollup's hints and whether the write runs the rollup at all use these, so
 * that they cannot disagree. */
static bool case_written(const struct hl_case *c) { return c->is_new || c->dirty; }
static bool call_written(const struct hl_call *c) { return c->is_new || c->dirty; }
static bool clock_written(const struct hl_clock *k) { return k->dirty && k->state != HL_CS_NONE; }

/* The first statement of a write that changes cases, calls, clocks or events:
 * hotline.figures_before() with the batch's cases, the callers of the new
 * calls it writes and the earliest of those (see SQL_W_FIGURES_BEFORE), and
 * the hints that let the rollup count only the rows the batch may change
 * (sql/031's header): the calls, case rows, resolution runs and callback
 * clocks it writes, and its events that have figures. */
static bool figure_event(const struct hl_accepted *ac)
{
	switch (ac->ev->type) {
	case HL_EV_ORDER_REPLY:
		return ac->case_resolved; /* a resolution (sql/045) */
	case HL_EV_CALLBACK_ATTEMPT:
	case HL_EV_CASE_TRANSFER:
	case HL_EV_CASE_RESOLVE:
	case HL_EV_CALL_ENDED:
	case HL_EV_SURVEY_RESULT:
		return true;
	default:
		return false;
	}
}

static json_object *figure_hints(const struct hl_world *w)
{
	json_object *h = json_object_new_object(), *calls = json_object_new_array(),
	            *cases = json_object_new_array(), *res = json_object_new_array(), *ev = json_object_new_array(),
	            *cb = json_object_new_array();
	for (size_t i = 0; i < w->n_calls; i++) {
		const struct hl_call *c = w->calls[i];
		if (!call_written(c))
			continue;
		json_object *r = json_object_new_array();
		json_object_array_add(r, json_object_new_string(c->call_id));
		json_object_array_add(r, json_object_new_int64(c->case_id));
		json_object_array_add(r, jms(c->answered_at));
		json_object_array_add(calls, r);
	}
	for (size_t i = 0; i < w->n_cases; i++) {
		const struct hl_case *c = w->cases[i];
		if (case_written(c)) {
			json_object *r = json_object_new_array();
			json_object_array_add(r, json_object_new_int64(c->id));
			json_object_array_add(r, jstr(c->department));
			json_object_array_add(cases, r);
		}
		if (clock_written(&c->clocks[HL_CK_CALLBACK]))
			json_object_array_add(cb, json_object_new_int64(c->id));
		const struct hl_clock *k = &c->clocks[HL_CK_RESOLUTION];
		if (clock_written(k)) {
			json_object *r = json_object_new_array();
			json_object_array_add(r, json_object_new_int64(c->id));
			json_object_array_add(r, json_object_new_int64(k->started_at));
			json_object_array_add(res, r);
		}
	}
	hl_ms lo = 0, hi = 0;
	for (size_t i = 0; i < w->n_accepted; i++) {
		const struct hl_accepted *ac = &w->accepted[i];
		if (!ac->case_id || !figure_event(ac))
			continue;
		bool first = json_object_array_length(ev) == 0;
		json_object_array_add(ev, json_object_new_string(ac->ev->id));
		if (first || ac->ev->at < lo)
			lo = ac->ev->at;
		if (first || ac->ev->at > hi)
			hi = ac->ev->at;
	}
	jadd(h, "calls", calls);
	jadd(h, "cases", cases);
	jadd(h, "res", res);
	jadd(h, "cb", cb);
	jadd(h, "ev", ev);
	if (json_object_array_length(ev)) {
		jadd(h, "ev_lo", json_object_new_int64(lo));
		jadd(h, "ev_hi", json_object_new_int64(hi));
	}
	return h;
}

static void send_figures_before(const struct hl_world *w)
{
	json_object *ids = json_object_new_array(), *callers = json_object_new_array();
	hl_ms t_min = 0;
	for (size_t i = 0; i < w->n_cases; i++)
		json_object_array_add(ids, json_object_new_int64(w->cases[i]->id));
	for (size_t i = 0; i < w->n_calls; i++) {
		const struct hl_call *c = w->calls[i];
		if (!call_written(c) || !c->inbound || !c->offered_at)
			continue;
		json_object_array_add(ids, json_object_new_int64(c->case_id));
		/* only a new call changes the repeat flag of the caller's later
		 * calls: a call's caller and offered_at are never rewritten */
		if (!c->is_new)
			continue;
		json_object_array_add(callers, json_object_new_string(c->caller));
		if (!t_min || c->offered_at < t_min)
			t_min = c->offered_at;
	}
	for (size_t i = 0; i < w->n_accepted; i++)
		if (w->accepted[i].case_id)
			json_object_array_add(ids, json_object_new_int64(w->accepted[i].case_id));
	char *p_ids = store_json_take(ids), *p_callers = store_json_take(callers), b[24];
	char *p_hints = store_json_take(figure_hints(w));
	const char *params[] = { p_ids, p_callers, t_min ? store_fmt_i64(b, t_min) : NULL, p_hints };
	store_send_stmt(SQL_W_FIGURES_BEFORE, 4, params);
	free(p_ids);
	free(p_callers);
	free(p_hints);
}

static void case_row(struct jrows *r, const struct hl_case *c)
{
	jrows_row(r);
	jrows_int(r, "id", c->id);
	jrows_str(r, "caller", c->caller);
	jrows_str(r, "status", hl_status_name(c->status));
	jrows_ms(r, "opened_at", c->opened_at);
	jrows_ms(r, "resolved_at", c->resolved_at);
	jrows_ms(r, "closed_at", c->closed_at);
	jrows_ms(r, "last_contact_at", c->last_contact_at);
	jrows_ms(r, "last_reached_at", c->last_reached_at);
	jrows_ms(r, "updated_at", c->updated_at ? c->updated_at : now_ms());
	jrows_str(r, "category", c->category);
	jrows_str(r, "priority", c->priority);
	jrows_str(r, "department", c->department);
	jrows_str(r, "queue", c->queue);
	jrows_str(r, "summary", c->summary);
	jrows_str(r, "resolution", c->resolution);
	jrows_int(r, "transfers", c->transfers);
	jrows_int(r, "reopens", c->reopens);
	jrows_bool(r, "on_hold", c->on_hold);
	jrows_ms(r, "hold_since", c->hold_since);
	jrows_int(r, "held_ms", c->held_ms);
	jrows_ms(r, "last_hold_from", c->last_hold_from);
	jrows_ms(r, "last_hold_until", c->last_hold_until);
	jrows_str(r, "policy", c->policy[0] ? c->policy : "default");
	jrows_bool(r, "new", c->is_new); /* a plain INSERT (SQL_W_CASES) */
	jrows_end_row(r);
}

static void clock_row(struct jrows *r, int64_t case_id, int kind, const struct hl_clock *k, bool new_case)
{
	jrows_row(r);
	jrows_int(r, "case_id", case_id);
	jrows_str(r, "kind", hl_clock_kind_name((enum hl_clock_kind)kind));
	jrows_str(r, "state", hl_clock_state_name(k->state));
	jrows_int(r, "seq", k->seq);
	jrows_int(r, "started_at", k->started_at);
	jrows_int(r, "due_at", hl_ms_storable(k->due_at)); /* "never" (INT64_MAX) included */
	jrows_ms(r, "warn_at", hl_ms_storable(k->warn_at));
	jrows_bool(r, "warned", k->warned);
	jrows_int(r, "allowed_ms", k->allowed_ms);
	jrows_ms(r, "paused_at", k->paused_at);
	if (k->state == HL_CS_PAUSED) {
		jrows_int(r, "remaining_ms", k->remaining_ms);
		jrows_int(r, "warn_remaining_ms", k->warn_remaining_ms);
	} else {
		jrows_null(r, "remaining_ms");
		jrows_null(r, "warn_remaining_ms");
	}
	jrows_ms(r, "met_at", k->met_at);
	jrows_ms(r, "breached_at", k->breached_at);
	jrows_str(r, "calendar", k->calendar);
	jrows_bool(r, "new", new_case); /* a new case has no clock row yet */
	jrows_end_row(r);
}

/* A fired clock of a batch of timers alone (SQL_W_CLOCK_FIRES): only what a
 * fire changes, keyed by the run it fired for. */
static void fire_row(struct jrows *r, int64_t case_id, int kind, const struct hl_clock *k)
{
	jrows_row(r);
	jrows_int(r, "case_id", case_id);
	jrows_str(r, "kind", hl_clock_kind_name((enum hl_clock_kind)kind));
	jrows_int(r, "seq", k->seq);
	jrows_str(r, "state", hl_clock_state_name(k->state));
	jrows_bool(r, "warned", k->warned);
	jrows_ms(r, "breached_at", k->breached_at);
	jrows_end_row(r);
}

static void call_row(struct jrows *r, const struct hl_call *c)
{
	jrows_row(r);
	jrows_str(r, "call_id", c->call_id);
	jrows_int(r, "case_id", c->case_id);
	jrows_str(r, "caller", c->caller);
	jrows_str(r, "state", hl_call_state_name(c->state));
	jrows_bool(r, "inbound", c->inbound);
	jrows_ms(r, "offered_at", c->offered_at);
	jrows_ms(r, "answered_at", c->answered_at);
	jrows_ms(r, "ended_at", c->ended_at);
	jrows_str(r, "queue", c->queue);
	jrows_str(r, "agent", c->agent);
	jrows_str(r, "outcome", c->outcome);
	jrows_bool(r, "new", c->is_new); /* a plain INSERT (SQL_W_CALLS) */
	jrows_end_row(r);
}

/* The alert as hotline.alert_json() renders it (sql/010: compact, nulls
 * left out, times as hotline.iso), all but the leading id, which the
 * sequence assigns in SQL_W_ALERTS_NEW: that statement puts "{\"id\":N,"
 * before it.  A new alert has no escalated_at, acked_at or acked_by.  The
 * values are the ones alert_row() writes, so the text is what alert_json()
 * would read back from the row (sql/032). */
static char *alert_text(const struct hl_alert *a)
{
	char t[32];
	struct jrows o;
	jrows_init(&o);
	jrows_object(&o);
	jrows_str(&o, "kind", a->kind);
	if (a->case_id)
		jrows_int(&o, "case_id", a->case_id);
	if (a->caller[0])
		jrows_str(&o, "caller", a->caller);
	jrows_int(&o, "level", a->level > 0 ? a->level : 1);
	hl_format_time(a->raised_at, t, sizeof t);
	jrows_str(&o, "raised_at", t);
	if (a->due_at) {
		hl_format_time(a->due_at, t, sizeof t);
		jrows_str(&o, "due_at", t);
	}
	if (a->detail)
		jrows_str(&o, "detail", a->detail);
	if (a->order_id[0])
		jrows_str(&o, "order_id", a->order_id);
	if (a->department[0])
		jrows_str(&o, "department", a->department);
	jrows_end_row(&o);
	char *s = jrows_text(&o);
	memmove(s, s + 1, strlen(s)); /* without its "{": the id goes first */
	return s;
}

/* The texts of the batch's new alerts by their place n in the world (the
 * "n" SQL_W_ALERTS_NEW returns): a committed alert is "{\"id\":N," and its
 * text, the bytes the statement gave NOTIFY, so the text need not come
 * back (store.c deliver_alerts puts the two together). */
static char **new_text;
static size_t n_new_text;

void store_write_forget(void)
{
	for (size_t i = 0; i < n_new_text; i++)
		free(new_text[i]);
	free(new_text);
	new_text = NULL;
	n_new_text = 0;
}

const char *store_write_alert_text(int64_t n)
{
	return n >= 0 && (size_t)n < n_new_text ? new_text[n] : NULL;
}

static void alert_row(struct jrows *r, const struct hl_alert *a, int n)
{
	jrows_row(r);
	jrows_str(r, "kind", a->kind);
	jrows_int(r, "case_id", a->case_id);
	jrows_str(r, "caller", a->caller[0] ? a->caller : NULL);
	jrows_int(r, "level", a->level > 0 ? a->level : 1);
	jrows_int(r, "raised_at", a->raised_at);
	jrows_ms(r, "due_at", a->due_at);
	jrows_ms(r, "escalate_at", a->escalate_at);
	jrows_str(r, "detail", a->detail);
	jrows_str(r, "dedupe_key", a->dedupe);
	jrows_str(r, "order_id", a->order_id[0] ? a->order_id : NULL);
	jrows_str(r, "department", a->department[0] ? a->department : NULL);
	char *j = alert_text(a);
	jrows_str(r, "j", j);
	new_text[n] = j; /* kept until the batch's alerts are delivered */
	jrows_int(r, "n", n);
	jrows_end_row(r);
}

/* One statement of the write with its rows ($1, malloc'd, freed here; NULL
 * when the batch has none: nothing is sent and *index is -1). */
static void send_text(const char *sql, char *rows, int *index)
{
	if (!rows) {
		if (index)
			*index = -1;
		return;
	}
	/* the alert statements also record the webhook deliveries ($2: the URLs) */
	bool alerts = sql == SQL_W_ALERTS_NEW || sql == SQL_W_ALERTS_UPD;
	const char *params[] = { rows, alerts ? webhooks_urls_json() : NULL };
	if (index)
		*index = store.n_stmts;
	store_send_stmt(sql, alerts ? 2 : 1, params);
	free(rows);
}

/* Rows built as json-c objects (the few of the order and hotspot tables). */
static void send_rows(const char *sql, json_object *arr, int *index)
{
	if (json_object_array_length(arr) == 0) {
		json_object_put(arr);
		send_text(sql, NULL, index);
		return;
	}
	send_text(sql, store_json_take(arr), index);
}

/* Rows written as text (json_rows.c): the hot tables. */
static void send_jrows(const char *sql, struct jrows *rows, int *index)
{
	send_text(sql, jrows_take(rows), index);
}

/* Whether the batch is timers alone: case clocks that fell due and alert
 * escalations, no request.  Such a batch cannot move a figure of the rollup
 * (sql/023, 031: it counts calls, cases opened, case events and the runs of
 * the callback clock by their start, due time, met_at and whether still
 * owed): a fire (hl_rules_clock_fire) only marks a pending run warned, or
 * breached with breached_at, and keeps its seq, start, due time and met_at,
 * and pending and breached are both "still owed"; an escalation changes an
 * alert.  So it skips figures_before/after, which took 30-60 ms of a due
 * batch's 90-125 ms with 512 clocks (030's recount; pg_stat_statements,
 * 1 M pending).
 * Work-order timers are left out (their fires write orders and may re-arm
 * a case clock).  If the rollup ever counts a breach or a warning, this
 * must go.  The same fact lets such a batch write its clocks with
 * SQL_W_CLOCK_FIRES (state, warned and breached_at of the run fired): if
 * a fire ever changes another column of its clock, that must go too. */
static bool timers_only(void)
{
	struct item *it;
	TAILQ_FOREACH(it, &store.batch, entry)
		if (!(it->kind == ITEM_FIRE && it->clock < HL_CK__COUNT) && it->kind != ITEM_ESCALATE)
			return false;
	return true;
}

/* Whether the write runs the rollup (figures_before/after): it follows what
 * the batch changes of cases, calls, clocks and events, and a batch of
 * timers alone changes nothing it counts (timers_only).  Read from the
 * world before the rows are built, so figures_before can go first. */
static bool write_runs_rollup(const struct hl_world *w)
{
	bool clocks = false;
	if (w->n_accepted > 0)
		return true;
	for (size_t i = 0; i < w->n_calls; i++)
		if (call_written(w->calls[i]))
			return true;
	for (size_t i = 0; i < w->n_cases; i++) {
		if (case_written(w->cases[i]))
			return true;
		for (int k = 0; k < HL_CK__COUNT; k++)
			clocks |= clock_written(&w->cases[i]->clocks[k]);
	}
	return clocks && !timers_only();
}

void store_start_write(void)
{
	struct hl_world *w = store.world;
	struct jrows a_cases, a_clocks, a_fires, a_calls, a_callers, a_events, a_alerts, a_upd;
	jrows_init(&a_cases);
	jrows_init(&a_clocks);
	jrows_init(&a_fires);
	jrows_init(&a_calls);
	jrows_init(&a_callers);
	jrows_init(&a_events);
	jrows_init(&a_alerts);
	jrows_init(&a_upd);
	hl_ms now = now_ms();
	int reads = 0;
	struct item *it;
	store_write_forget();
	if (w->n_alerts) {
		new_text = hl_xrealloc(NULL, sizeof *new_text * w->n_alerts);
		memset(new_text, 0, sizeof *new_text * w->n_alerts);
		n_new_text = w->n_alerts;
	}

	/* figures_before goes first and is pushed to the server at once: it is
	 * the longest statement of a write (12-14 ms of a ~48 ms batch of 255
	 * events in the bench), and PostgreSQL runs it while the daemon turns the
	 * rows below into JSON, instead of waiting for them. */
	bool figures = write_runs_rollup(w);
	/* a batch of timers alone changes its clocks only by firing them: the
	 * slim update (SQL_W_CLOCK_FIRES), the due lane's every batch */
	bool fires = timers_only();
	TAILQ_FOREACH(it, &store.batch, entry)
		if (it->kind == ITEM_REQ && (it->req->read_sql || it->req->ev.type == HL_CMD_CASE_GET ||
		                             it->req->ev.type == HL_CMD_SUBSCRIBE))
			reads++;
	/* at most 18 writes (8 case tables, 5 order/hotspot tables, the orders'
	 * surveys, clock notes, webhook deliveries done, the figures before and
	 * after), then the reads; store_send_stmt() checks the room */
	store_pipeline_begin(18 + reads);
	if (figures) {
		send_figures_before(w);
		store_pipeline_push();
	}
	for (size_t i = 0; i < w->n_callers; i++) {
		struct hl_caller *c = w->callers[i];
		if (!c->is_new && !c->dirty)
			continue;
		jrows_row(&a_callers);
		jrows_str(&a_callers, "caller", c->caller);
		jrows_bool(&a_callers, "confidential", c->confidential);
		jrows_ms(&a_callers, "repeat_alerted_at", c->repeat_alerted_at);
		jrows_ms(&a_callers, "repeat_floor", c->repeat_floor);
		if (c->n_repeat_crossings) {
			char list[HL_REPEAT_KEEP * 21 + 3];
			size_t n = 0;
			list[n++] = '[';
			for (int k = 0; k < c->n_repeat_crossings; k++)
				n += (size_t)snprintf(list + n, sizeof list - n, "%s%lld", k ? "," : "",
				                      (long long)c->repeat_crossings[k]);
			list[n++] = ']';
			jrows_raw(&a_callers, "repeat_crossings", list, n);
		} else {
			/* never crossed: NULL, as for a caller from before 082 that
			 * was never alerted (the same load), and no empty array's
			 * bytes in every new caller's row (WAL per call.offered) */
			jrows_null(&a_callers, "repeat_crossings");
		}
		jrows_bool(&a_callers, "new", c->is_new); /* held by the batch's lock */
		jrows_end_row(&a_callers);
	}
	for (size_t i = 0; i < w->n_cases; i++) {
		struct hl_case *c = w->cases[i];
		for (int k = 0; k < HL_CK__COUNT; k++) {
			if (!clock_written(&c->clocks[k]))
				continue;
			if (fires && !c->is_new)
				fire_row(&a_fires, c->id, k, &c->clocks[k]);
			else
				clock_row(&a_clocks, c->id, k, &c->clocks[k], c->is_new);
		}
		/* a clock's own change (a breach, say) is in hotline.clocks: the
		 * case row is written only when the case itself changed */
		if (case_written(c)) {
			c->updated_at = now;
			case_row(&a_cases, c);
		}
	}
	for (size_t i = 0; i < w->n_calls; i++) {
		struct hl_call *c = w->calls[i];
		if (call_written(c))
			call_row(&a_calls, c);
	}
	for (size_t i = 0; i < w->n_accepted; i++) {
		const struct hl_accepted *ac = &w->accepted[i];
		jrows_row(&a_events);
		jrows_str(&a_events, "event_id", ac->ev->id);
		jrows_int(&a_events, "case_id", ac->case_id);
		jrows_str(&a_events, "type", hl_type_name(ac->ev->type));
		jrows_int(&a_events, "at", ac->ev->at);
		jrows_int(&a_events, "received_at", ac->ev->received);
		jrows_str(&a_events, "description", ac->description[0] ? ac->description : NULL);
		/* the request line itself as a JSON value of the row, not a string
		 * holding it: PostgreSQL parses the body once, with the array
		 * ($1::jsonb), instead of a second time in a ::jsonb cast (~5 us of
		 * server CPU an event).  The line is valid JSON that jsonb accepts
		 * (protocol_scan.c's strict scan). */
		jrows_raw(&a_events, "body", ac->ev->line, ac->ev->line_len);
		if (ac->case_resolved)
			jrows_bool(&a_events, "case_resolved", true); /* into the body (SQL_W_EVENTS) */
		jrows_int(&a_events, "n", (int64_t)i);
		jrows_end_row(&a_events);
	}
	for (size_t i = 0; i < w->n_alerts; i++) {
		struct hl_alert *a = w->alerts[i];
		if (a->is_new) {
			alert_row(&a_alerts, a, (int)i);
		} else if (a->dirty) {
			jrows_row(&a_upd);
			jrows_int(&a_upd, "id", a->id);
			jrows_int(&a_upd, "level", a->level);
			jrows_ms(&a_upd, "escalate_at", a->escalate_at);
			jrows_ms(&a_upd, "acked_at", a->acked_at);
			jrows_str(&a_upd, "acked_by", a->acked_by);
			jrows_bool(&a_upd, "escalated", a->acked_at == 0);
			jrows_int(&a_upd, "now", now);
			jrows_end_row(&a_upd);
		}
	}
	/* parents before children: callers and cases, then calls, clocks, events, alerts */
	send_jrows(SQL_W_CALLERS, &a_callers, NULL);
	send_jrows(SQL_W_CASES, &a_cases, NULL);
	send_rows(SQL_W_MERGES, store_merge_rows(w), NULL);
	send_rows(SQL_W_ORDERS, store_orders_rows(w), NULL);
	send_rows(SQL_W_HOTSPOT_CASES, store_hotspot_case_rows(w), NULL);
	send_rows(SQL_W_HOTSPOTS, store_hotspot_rows(w), NULL);
	send_jrows(SQL_W_CALLS, &a_calls, NULL);
	send_jrows(SQL_W_CLOCKS, &a_clocks, NULL);
	send_jrows(SQL_W_CLOCK_FIRES, &a_fires, NULL);
	send_jrows(SQL_W_EVENTS, &a_events, NULL);
	send_rows(SQL_W_ORDER_SURVEYS, store_order_survey_rows(w), NULL);
	send_jrows(SQL_W_ALERTS_NEW, &a_alerts, &store.w_alert_ins);
	send_jrows(SQL_W_ALERTS_UPD, &a_upd, &store.w_alert_upd);
	send_rows(SQL_W_ORDER_URGE_STOP, store_order_urge_stops(w), NULL);
	/* several daemons: the owners of this batch's clocks hear of them at COMMIT */
	json_object *notes = store.clock_notes ? store.clock_notes(w) : NULL;
	if (notes)
		send_rows(SQL_CLOCK_NOTIFY, notes, NULL);
	send_rows(SQL_W_WEBHOOKS_DONE, webhooks_done_rows(), NULL);
	if (figures)
		store_send_stmt(SQL_W_FIGURES_AFTER, 0, NULL);
	TAILQ_FOREACH(it, &store.batch, entry) {
		it->read_stmt = -1;
		if (it->kind != ITEM_REQ)
			continue;
		char b[24], b2[24];
		const char *params[2];
		if (it->req->read_sql) {
			it->read_stmt = store.n_stmts;
			store_send_stmt(it->req->read_sql, it->req->read_nparams, it->req->read_params);
		} else if (it->req->ev.type == HL_CMD_CASE_GET) {
			params[0] = store_fmt_i64(b, it->req->ev.case_id);
			it->read_stmt = store.n_stmts;
			store_send_stmt(it->req->masked ? SQL_CASE_GET_MASKED : SQL_CASE_GET, 1, params);
		} else if (it->req->ev.type == HL_CMD_ALERT_ACK && it->out.err == HL_OK) {
			params[0] = store_fmt_i64(b, it->req->ev.alert_id);
			it->read_stmt = store.n_stmts;
			store_send_stmt(SQL_ACK_GET, 1, params);
		} else if (it->req->ev.type == HL_CMD_SUBSCRIBE) {
			params[0] = store_fmt_i64(b, it->req->ev.since);
			params[1] = store_fmt_i64(b2, hl->cfg->alerts.replay_max);
			it->read_stmt = store.n_stmts;
			store_send_stmt(SQL_REPLAY, 2, params);
		}
	}
	if (store.n_stmts == 0 && store.load_open) {
		/* nothing to write: the Sync still ends the load's transaction and its locks */
		store.state = S_WRITE;
		store_pipeline_sync(store_on_committed);
		return;
	}
	if (store.n_stmts == 0) {
		/* nothing to write or read (only duplicates or rejected events) */
		store.state = S_WRITE;
		store_pipeline_reset();
		store_write_done();
		return;
	}
	store.state = S_WRITE;
	store_pipeline_sync(store_on_committed);
}

