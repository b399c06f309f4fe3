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

/* The request line itself as a JSON value of the row array, not a string
 * holding it: PostgreSQL parses the body once, with the array ($1::jsonb),
 * instead of a second time in a ::jsonb cast (~5 us of server CPU an event).
 * The line is valid JSON that jsonb accepts (protocol_scan.c's strict scan)
 * and outlives the serialization (the event lives until its batch is done). */
static int raw_line_json(json_object *jso, struct printbuf *pb, int level, int flags)
{
	(void)level;
	(void)flags;
	const struct hl_event *ev = json_object_get_userdata(jso);
	if (!ev->line)
		return printbuf_memappend(pb, "null", 4);
	return printbuf_memappend(pb, ev->line, (int)ev->line_len);
}

static json_object *raw_line(const struct hl_event *ev)
{
	json_object *o = json_object_new_object();
	json_object_set_serializer(o, raw_line_json, (void *)ev, NULL);
	return o;
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
static bool figure_event(const struct hl_event *ev)
{
	switch (ev->type) {
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
		if (!ac->case_id || !figure_event(ac->ev))
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

static json_object *case_row(const struct hl_case *c)
{
	json_object *o = json_object_new_object();
	jadd(o, "id", json_object_new_int64(c->id));
	jadd(o, "caller", json_object_new_string(c->caller));
	jadd(o, "status", json_object_new_string(hl_status_name(c->status)));
	jadd(o, "opened_at", jms(c->opened_at));
	jadd(o, "resolved_at", jms(c->resolved_at));
	jadd(o, "closed_at", jms(c->closed_at));
	jadd(o, "last_contact_at", jms(c->last_contact_at));
	jadd(o, "updated_at", jms(c->updated_at ? c->updated_at : now_ms()));
	jadd(o, "category", jstr(c->category));
	jadd(o, "priority", jstr(c->priority));
	jadd(o, "department", jstr(c->department));
	jadd(o, "queue", jstr(c->queue));
	jadd(o, "summary", jstr(c->summary));
	jadd(o, "resolution", jstr(c->resolution));
	jadd(o, "transfers", json_object_new_int(c->transfers));
	jadd(o, "reopens", json_object_new_int(c->reopens));
	jadd(o, "on_hold", json_object_new_boolean(c->on_hold));
	jadd(o, "hold_since", jms(c->hold_since));
	jadd(o, "held_ms", json_object_new_int64(c->held_ms));
	jadd(o, "policy", json_object_new_string(c->policy[0] ? c->policy : "default"));
	jadd(o, "new", json_object_new_boolean(c->is_new)); /* a plain INSERT (SQL_W_CASES) */
	return o;
}

static json_object *clock_row(int64_t case_id, int kind, const struct hl_clock *k, bool new_case)
{
	json_object *o = json_object_new_object();
	jadd(o, "case_id", json_object_new_int64(case_id));
	jadd(o, "kind", json_object_new_string(hl_clock_kind_name((enum hl_clock_kind)kind)));
	jadd(o, "state", json_object_new_string(hl_clock_state_name(k->state)));
	jadd(o, "seq", json_object_new_int(k->seq));
	jadd(o, "started_at", json_object_new_int64(k->started_at));
	jadd(o, "due_at", json_object_new_int64(k->due_at));
	jadd(o, "warn_at", jms(k->warn_at));
	jadd(o, "warned", json_object_new_boolean(k->warned));
	jadd(o, "allowed_ms", json_object_new_int64(k->allowed_ms));
	jadd(o, "paused_at", jms(k->paused_at));
	jadd(o, "remaining_ms", k->state == HL_CS_PAUSED ? json_object_new_int64(k->remaining_ms) : NULL);
	jadd(o, "warn_remaining_ms", k->state == HL_CS_PAUSED ? json_object_new_int64(k->warn_remaining_ms) : NULL);
	jadd(o, "met_at", jms(k->met_at));
	jadd(o, "breached_at", jms(k->breached_at));
	jadd(o, "calendar", json_object_new_string(k->calendar));
	jadd(o, "new", json_object_new_boolean(new_case)); /* a new case has no clock row yet */
	return o;
}

static json_object *call_row(const struct hl_call *c)
{
	json_object *o = json_object_new_object();
	jadd(o, "call_id", json_object_new_string(c->call_id));
	jadd(o, "case_id", json_object_new_int64(c->case_id));
	jadd(o, "caller", json_object_new_string(c->caller));
	jadd(o, "state", json_object_new_string(hl_call_state_name(c->state)));
	jadd(o, "inbound", json_object_new_boolean(c->inbound));
	jadd(o, "offered_at", jms(c->offered_at));
	jadd(o, "answered_at", jms(c->answered_at));
	jadd(o, "ended_at", jms(c->ended_at));
	jadd(o, "queue", jstr(c->queue));
	jadd(o, "agent", jstr(c->agent));
	jadd(o, "outcome", jstr(c->outcome));
	jadd(o, "new", json_object_new_boolean(c->is_new)); /* a plain INSERT (SQL_W_CALLS) */
	return o;
}

/* The alert as hotline.alert_json() renders it (sql/010: compact, nulls
 * left out, times as hotline.iso), all but the leading id, which the
 * sequence assigns in SQL_W_ALERTS_NEW: that statement puts "{\"id\":N,"
 * before it.  A new alert has no escalated_at, acked_at or acked_by.  The
 * values are the ones alert_row() writes, so the text is what alert_json()
 * would read back from the row (sql/032). */
static char *alert_text(const struct hl_alert *a)
{
	char t1[32], t2[32];
	json_object *o = json_object_new_object();
	jadd(o, "kind", json_object_new_string(a->kind));
	if (a->case_id)
		jadd(o, "case_id", json_object_new_int64(a->case_id));
	if (a->caller[0])
		jadd(o, "caller", json_object_new_string(a->caller));
	jadd(o, "level", json_object_new_int(a->level > 0 ? a->level : 1));
	hl_format_time(a->raised_at, t1, sizeof t1);
	jadd(o, "raised_at", json_object_new_string(t1));
	if (a->due_at) {
		hl_format_time(a->due_at, t2, sizeof t2);
		jadd(o, "due_at", json_object_new_string(t2));
	}
	if (a->detail)
		jadd(o, "detail", json_object_new_string(a->detail));
	if (a->order_id[0])
		jadd(o, "order_id", json_object_new_string(a->order_id));
	if (a->department[0])
		jadd(o, "department", json_object_new_string(a->department));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *out = hl_xstrdup(s + 1); /* without its "{": the id goes first */
	json_object_put(o);
	return out;
}

static json_object *alert_row(const struct hl_alert *a)
{
	json_object *o = json_object_new_object();
	jadd(o, "kind", json_object_new_string(a->kind));
	jadd(o, "case_id", json_object_new_int64(a->case_id));
	jadd(o, "caller", a->caller[0] ? json_object_new_string(a->caller) : NULL);
	jadd(o, "level", json_object_new_int(a->level > 0 ? a->level : 1));
	jadd(o, "raised_at", json_object_new_int64(a->raised_at));
	jadd(o, "due_at", jms(a->due_at));
	jadd(o, "escalate_at", jms(a->escalate_at));
	jadd(o, "detail", jstr(a->detail));
	jadd(o, "dedupe_key", json_object_new_string(a->dedupe));
	jadd(o, "order_id", a->order_id[0] ? json_object_new_string(a->order_id) : NULL);
	jadd(o, "department", a->department[0] ? json_object_new_string(a->department) : NULL);
	char *j = alert_text(a);
	jadd(o, "j", json_object_new_string(j));
	free(j);
	return o;
}

static void send_rows(const char *sql, json_object *arr, int *index)
{
	if (json_object_array_length(arr) == 0) {
		json_object_put(arr);
		if (index)
			*index = -1;
		return;
	}
	char *p = store_json_take(arr);
	/* the alert statements also record the webhook deliveries ($2: the URLs) */
	bool alerts = sql == SQL_W_ALERTS_NEW || sql == SQL_W_ALERTS_UPD;
	const char *params[] = { p, alerts ? webhooks_urls_json() : NULL };
	if (index)
		*index = store.n_stmts;
	store_send_stmt(sql, alerts ? 2 : 1, params);
	free(p);
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
 * must go. */
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
	json_object *a_cases = json_object_new_array(), *a_clocks = json_object_new_array(),
	            *a_calls = json_object_new_array(), *a_callers = json_object_new_array(),
	            *a_events = json_object_new_array(), *a_alerts = json_object_new_array(),
	            *a_upd = json_object_new_array();
	hl_ms now = now_ms();
	int reads = 0;
	struct item *it;

	/* figures_before goes first and is pushed to the server at once: it is
	 * the longest statement of a write (12-14 ms of a ~48 ms batch of 255
	 * events in the bench), and PostgreSQL runs it while the daemon turns the
	 * rows below into JSON, instead of waiting for them. */
	bool figures = write_runs_rollup(w);
	TAILQ_FOREACH(it, &store.batch, entry)
		if (it->kind == ITEM_REQ && (it->req->read_sql || it->req->ev.type == HL_CMD_CASE_GET ||
		                             it->req->ev.type == HL_CMD_SUBSCRIBE))
			reads++;
	/* at most 17 writes (7 case tables, 5 order/hotspot tables, the orders'
	 * surveys, clock notes, webhook deliveries done, the figures before and
	 * after), then the reads; store_send_stmt() checks the room */
	store_pipeline_begin(17 + reads);
	if (figures) {
		send_figures_before(w);
		store_pipeline_push();
	}
	for (size_t i = 0; i < w->n_callers; i++) {
		struct hl_caller *c = w->callers[i];
		if (!c->is_new && !c->dirty)
			continue;
		json_object *o = json_object_new_object();
		jadd(o, "caller", json_object_new_string(c->caller));
		jadd(o, "confidential", json_object_new_boolean(c->confidential));
		jadd(o, "repeat_alerted_at", jms(c->repeat_alerted_at));
		jadd(o, "new", json_object_new_boolean(c->is_new)); /* held by the batch's lock */
		json_object_array_add(a_callers, o);
	}
	for (size_t i = 0; i < w->n_cases; i++) {
		struct hl_case *c = w->cases[i];
		for (int k = 0; k < HL_CK__COUNT; k++) {
			if (clock_written(&c->clocks[k]))
				json_object_array_add(a_clocks, clock_row(c->id, k, &c->clocks[k], c->is_new));
		}
		/* a clock's own change (a breach, say) is in hotline.clocks: the
		 * case row is written only when the case itself changed */
		if (case_written(c)) {
			c->updated_at = now;
			json_object_array_add(a_cases, case_row(c));
		}
	}
	for (size_t i = 0; i < w->n_calls; i++) {
		struct hl_call *c = w->calls[i];
		if (call_written(c))
			json_object_array_add(a_calls, call_row(c));
	}
	for (size_t i = 0; i < w->n_accepted; i++) {
		const struct hl_accepted *ac = &w->accepted[i];
		json_object *o = json_object_new_object();
		jadd(o, "event_id", json_object_new_string(ac->ev->id));
		jadd(o, "case_id", json_object_new_int64(ac->case_id));
		jadd(o, "type", json_object_new_string(hl_type_name(ac->ev->type)));
		jadd(o, "at", json_object_new_int64(ac->ev->at));
		jadd(o, "received_at", json_object_new_int64(ac->ev->received));
		jadd(o, "description", ac->description[0] ? json_object_new_string(ac->description) : NULL);
		jadd(o, "body", raw_line(ac->ev));
		jadd(o, "n", json_object_new_int((int)i));
		json_object_array_add(a_events, o);
	}
	for (size_t i = 0; i < w->n_alerts; i++) {
		struct hl_alert *a = w->alerts[i];
		if (a->is_new) {
			json_object *o = alert_row(a);
			jadd(o, "n", json_object_new_int((int)i));
			json_object_array_add(a_alerts, o);
		} else if (a->dirty) {
			json_object *o = json_object_new_object();
			bool escalated = a->acked_at == 0;
			jadd(o, "id", json_object_new_int64(a->id));
			jadd(o, "level", json_object_new_int(a->level));
			jadd(o, "escalate_at", jms(a->escalate_at));
			jadd(o, "acked_at", jms(a->acked_at));
			jadd(o, "acked_by", jstr(a->acked_by));
			jadd(o, "escalated", json_object_new_boolean(escalated));
			jadd(o, "now", json_object_new_int64(now));
			json_object_array_add(a_upd, o);
		}
	}
	/* parents before children: callers and cases, then calls, clocks, events, alerts */
	send_rows(SQL_W_CALLERS, a_callers, NULL);
	send_rows(SQL_W_CASES, a_cases, NULL);
	send_rows(SQL_W_MERGES, store_merge_rows(w), NULL);
	send_rows(SQL_W_ORDERS, store_orders_rows(w), NULL);
	send_rows(SQL_W_HOTSPOT_CASES, store_hotspot_case_rows(w), NULL);
	send_rows(SQL_W_HOTSPOTS, store_hotspot_rows(w), NULL);
	send_rows(SQL_W_CALLS, a_calls, NULL);
	send_rows(SQL_W_CLOCKS, a_clocks, NULL);
	send_rows(SQL_W_EVENTS, a_events, NULL);
	send_rows(SQL_W_ORDER_SURVEYS, store_order_survey_rows(w), NULL);
	send_rows(SQL_W_ALERTS_NEW, a_alerts, &store.w_alert_ins);
	send_rows(SQL_W_ALERTS_UPD, a_upd, &store.w_alert_upd);
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
			store_send_stmt(SQL_CASE_GET, 1, params);
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

