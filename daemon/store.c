/*
 * store.c - batches, the PostgreSQL pipeline, commit -> acknowledgements.
 *
 * Group commit.  Requests that need the database (events, alert.ack,
 * case.get, subscribe) and the timers' work items (a clock fell due, an alert
 * is to be escalated) wait in one FIFO.  While no batch is in flight, up to
 * database.batch_max items are taken from it and run in two round trips on a
 * single nonblocking libpq connection in pipeline mode:
 *
 *   1. load:  a handful of SELECTs (one per table, keys passed as JSON
 *             arrays) fetch what the batch touches: accepted event ids,
 *             cases with their clocks, calls, callers, alerts; plus reserved
 *             case ids.  The rows fill a struct hl_world and the pure rules
 *             (rules.c) apply the items in order, in memory.
 *   2. write: one INSERT .. ON CONFLICT per table writes every row the rules
 *             changed (jsonb_to_recordset: one statement per table, not per
 *             event), alerts are inserted with a unique dedupe key and
 *             announced with pg_notify, reads for case.get/subscribe see the
 *             batch's own writes.  Everything up to the pipeline Sync is one
 *             implicit transaction: the Sync result arrives after COMMIT.
 *
 * Only then are the requests answered (conn_complete), the timers updated and
 * the alerts pushed.  Items arriving meanwhile form the next batch, so the
 * batch grows with the load and one fsync covers many events.
 *
 * One bad event must not fail the others: the rules reject invalid events
 * before they touch the world, so they produce no rows; if PostgreSQL still
 * refuses the batch (a bug, a constraint), the whole transaction rolls back
 * and the batch is bisected: its two halves go back to the head of the queue
 * as batches of their own, and a half that fails is halved again, so only
 * the event that fails (alone, in a batch of one) is answered with an error
 * and nothing of it is stored.  k bad events in a batch of n cost about
 * 2k log2(n) extra transactions instead of n (re-running every item alone
 * made one such line in 3,000 events cost seconds).
 *
 * Server error text is logged only through log_server_error, which masks
 * the phone numbers PostgreSQL quotes in its details.
 *
 * If the connection is lost, the batch goes back to the head of the queue and
 * is retried after reconnecting (its event ids make the retry harmless when
 * the COMMIT had in fact happened).  Requests waiting longer than
 * UNAVAILABLE_AFTER_MS for a connection are answered `unavailable`.
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

#define UNAVAILABLE_AFTER_MS 3000

struct item {
	TAILQ_ENTRY(item) entry;
	enum item_kind kind;
	struct req *req;        /* ITEM_REQ */
	int64_t id;             /* case id (FIRE) or alert id (ESCALATE) */
	int clock;              /* FIRE: clock kind */
	int32_t seq;            /* FIRE: the clock run */
	uint64_t group;         /* 0, or the half of a failed batch it belongs to: a group runs as a batch of its own */
	bool retried;           /* its batch was in flight when the connection was lost */
	struct hl_outcome out;
	int read_stmt;          /* index of its read statement in the write pipeline, -1 none */
};

TAILQ_HEAD(itemq, item);

enum state { S_DOWN, S_CONNECTING, S_STARTUP, S_PREPARE, S_IDLE, S_LOAD, S_WRITE };

enum startup_step { ST_VERSION, ST_CLOCKS, ST_ESCALATIONS, ST_WEBHOOKS, ST_REPORT_TZ, ST_DONE };

/* statements of the load pipeline, in order */
enum { L_SEEN, L_CASES, L_CALLS, L_CALLERS, L_ALERTS, L_IDS, L_ORDER_CASES, L_ORDERS, L_HOTSPOT_CASES, L_HOTSPOTS,
       L_LOCK, L__COUNT };

static struct {
	PGconn *pg;
	int sock;
	struct event *ev_read, *ev_write, *ev_retry, *ev_giveup;
	enum state state;
	enum startup_step step;
	struct itemq queue, batch;
	size_t n_queue, n_batch;
	struct hl_world *world;
	int backoff_ms;
	bool gave_up;           /* down for longer than UNAVAILABLE_AFTER_MS */
	bool ever_ready;
	bool paused_conns;
	/* the pipeline in flight */
	PGresult **res;
	int n_stmts, cur_stmt;
	char *error;            /* first error of the pipeline */
	bool copy_mode;
	uint64_t t_batch_us;
	bool load_open;         /* the load ran without a Sync: its transaction (and locks) go on into the write */
	/* write pipeline statement indexes */
	int w_alert_ins, w_alert_upd;
	int load_at[L__COUNT];  /* position of each load statement in the pipeline, -1 = not sent */
} S;

static void store_connect(void);
static void store_kick(void);
static void on_socket(evutil_socket_t fd, short what, void *arg);
static void on_lost(const char *why);
static void startup_next(void);
static void startup_finish(void);
static void store_write_done(void);

/* ------------------------------------------------------------ utilities */

static const char *fmt_i64(char *buf, int64_t v)
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

static json_object *jms(hl_ms v) { return v ? json_object_new_int64(v) : NULL; }
static json_object *jstr(const char *s) { return s ? json_object_new_string(s) : NULL; }

static void jadd(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v); /* NULL stores JSON null */
}

static char *json_take(json_object *o)
{
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (!s)
		abort();
	return s;
}

static hl_ms get_ms(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static char *get_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static bool get_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

static bool needs_world(const struct item *it)
{
	if (it->kind != ITEM_REQ)
		return true;
	return hl_type_is_event(it->req->ev.type) || it->req->ev.type == HL_CMD_ALERT_ACK;
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

/* ------------------------------------------------------- item lifecycle */

static struct item *item_new(enum item_kind kind)
{
	struct item *it = calloc(1, sizeof *it);
	if (!it)
		abort();
	it->kind = kind;
	it->read_stmt = -1;
	return it;
}

/* Items queued beyond which no socket is read: 8 batches, at least 4096. */
static size_t backlog_high(void)
{
	size_t high = (size_t)hl->cfg->database.batch_max * 8;
	return high < 4096 ? 4096 : high;
}

static void queue_push(struct item *it)
{
	TAILQ_INSERT_TAIL(&S.queue, it, entry);
	S.n_queue++;
	/* backpressure: PostgreSQL is slower than the input; stop reading sockets */
	size_t high = backlog_high();
	if (!S.paused_conns && S.n_queue > high) {
		S.paused_conns = true;
		log_notice("store: %zu items queued, pausing input", S.n_queue);
		conn_pause_all(true);
	}
}

static void maybe_resume_input(void)
{
	size_t high = backlog_high();
	if (S.paused_conns && S.n_queue < high / 2) {
		S.paused_conns = false;
		log_notice("store: backlog down to %zu, resuming input", S.n_queue);
		conn_pause_all(false);
	}
}

/* Answer a request and forget the item. */
static void item_reply(struct item *it, char *reply)
{
	struct req *r = it->req;
	uint64_t ack_us = mono_us() - r->started_us;
	hl->stats.ack_latency_us_total += ack_us;
	hl->stats.acks++;
	metrics_observe(HIST_ACK, (double)ack_us / 1e6);
	conn_complete(r, reply);
	free(it);
}

static void item_fail(struct item *it, enum hl_err code, const char *msg)
{
	if (it->kind == ITEM_REQ) {
		if ((size_t)code < sizeof hl->stats.errors / sizeof hl->stats.errors[0])
			hl->stats.errors[code]++;
		item_reply(it, hl_reply_error(it->req->ev.id, code, msg));
	} else {
		free(it);
	}
}

void store_submit(struct req *r)
{
	struct item *it = item_new(ITEM_REQ);
	it->req = r;
	if (S.gave_up) {
		item_fail(it, HL_E_UNAVAILABLE, "database unavailable; nothing was stored; retry later");
		return;
	}
	queue_push(it);
	store_kick();
}

void store_fire(int64_t case_id, enum hl_clock_kind kind, int32_t seq)
{
	struct item *it = item_new(ITEM_FIRE);
	it->id = case_id;
	it->clock = kind;
	it->seq = seq;
	queue_push(it);
	store_kick();
}

void store_escalate(int64_t alert_id)
{
	struct item *it = item_new(ITEM_ESCALATE);
	it->id = alert_id;
	queue_push(it);
	store_kick();
}

bool store_idle(void) { return S.n_queue == 0 && S.n_batch == 0; }
size_t store_queued(void) { return S.n_queue + S.n_batch; }

/* --------------------------------------------------------- the pipeline */

static void pipeline_reset(void)
{
	for (int i = 0; i < S.n_stmts; i++)
		PQclear(S.res[i]);
	free(S.res);
	S.res = NULL;
	S.n_stmts = S.cur_stmt = 0;
	free(S.error);
	S.error = NULL;
}

/* Room for the results of up to n statements: send_stmt() refuses to go
 * past it (a statement added to a pipeline without raising its count would
 * otherwise write beyond S.res). */
static int res_cap;

static void pipeline_begin(int n)
{
	pipeline_reset();
	S.res = calloc((size_t)n, sizeof *S.res);
	if (!S.res)
		abort();
	res_cap = n;
	S.n_stmts = 0;
}

static int stmt_index(const char *sql);

/* Every statement is prepared once per connection (see prepare_all): a batch
 * then costs PostgreSQL no parsing or planning, only execution. */
static void send_stmt(const char *sql, int nparams, const char *const *params)
{
	if (S.n_stmts >= res_cap) {
		log_crit("store: more statements than the pipeline was sized for (%d)", res_cap);
		abort();
	}
	int i = stmt_index(sql);
	char name[16];
	snprintf(name, sizeof name, "hl_%d", i);
	if (i < 0 ? !PQsendQueryParams(S.pg, sql, nparams, NULL, params, NULL, NULL, 0)
	          : !PQsendQueryPrepared(S.pg, name, nparams, params, NULL, NULL, 0)) {
		if (!S.error)
			S.error = strdup(PQerrorMessage(S.pg));
	}
	S.n_stmts++;
}

/* Push what the pipeline holds to the server; the rest when the socket is writable. */
static void pipeline_flush(void)
{
	int f = PQflush(S.pg);
	if (f < 0) {
		on_lost(PQerrorMessage(S.pg));
		return;
	}
	if (f == 1)
		event_add(S.ev_write, NULL);
}

static void pipeline_send(void)
{
	if (!PQpipelineSync(S.pg) && !S.error)
		S.error = strdup(PQerrorMessage(S.pg));
	pipeline_flush();
}

/* Send the load without ending its transaction: a flush request instead of a
 * Sync, so the batch locks it took stay held through the write and its COMMIT
 * (several daemons, see sql/016_cluster.sql and cluster.c). */
static void pipeline_send_open(void)
{
	S.load_open = true;
	if (!PQsendFlushRequest(S.pg) && !S.error)
		S.error = strdup(PQerrorMessage(S.pg));
	pipeline_flush();
}

/* ------------------------------------------------------------ the load */

static void take_batch(void)
{
	struct item *it;
	int max = hl->cfg->database.batch_max;
	S.n_batch = 0;
	/* the halves of a failed batch wait at the head of the queue, one group each */
	uint64_t group = TAILQ_FIRST(&S.queue) ? TAILQ_FIRST(&S.queue)->group : 0;
	while ((it = TAILQ_FIRST(&S.queue)) && (int)S.n_batch < max && it->group == group) {
		TAILQ_REMOVE(&S.queue, it, entry);
		S.n_queue--;
		TAILQ_INSERT_TAIL(&S.batch, it, entry);
		S.n_batch++;
	}
	maybe_resume_input();
}

static void start_write(void);

static void start_load(void)
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

	TAILQ_FOREACH(it, &S.batch, entry) {
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

	char *s_events = json_take(a_events), *s_cases = json_take(a_cases), *s_calls = json_take(a_calls),
	     *s_event_cases = json_take(a_event_cases),
	     *s_callers = json_take(a_callers), *s_alerts = json_take(a_alerts), *s_orders = json_take(a_orders);
	char b_since[24], b_n[24];
	fmt_i64(b_since, since);

	size_t have = hl_world_free_id_count(S.world);
	/* reserve exactly the case ids the batch may need: it costs no extra round trip */
	size_t ids_wanted = openers > have ? openers - have : 0;
	fmt_i64(b_n, (int64_t)ids_wanted);

	pipeline_begin(L__COUNT);
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
	char *s_cats = json_take(a_cats), *s_areas = json_take(a_areas), *s_depts = json_take(a_depts);
	char b_hot_since[24];
	fmt_i64(b_hot_since, min_at - hl->cfg->hotspot.window_ms - 1000);
	const char *p_hot[] = { s_cases, s_calls, s_cats, s_areas, s_depts, b_hot_since };
	const char *p_hot_keys[] = { b_hot_since };
	/* a statement with nothing to look up is not sent (a batch of fired
	 * clocks needs only its cases); its result stays NULL */
	bool has_events = strcmp(s_events, "[]") != 0, has_calls = strcmp(s_calls, "[]") != 0,
	     has_callers = strcmp(s_callers, "[]") != 0, has_cases = strcmp(s_cases, "[]") != 0;
	for (int i = 0; i < L__COUNT; i++)
		S.load_at[i] = -1;
	/* first, the batch locks (callers, then cases), held until the write's COMMIT */
	const char *p_lock[] = { s_cases, s_calls, s_callers, s_orders };
	S.load_at[L_LOCK] = S.n_stmts, send_stmt(SQL_LOCK_BATCH, 4, p_lock);
	if (has_events)
		S.load_at[L_SEEN] = S.n_stmts, send_stmt(SQL_SEEN, 1, p_seen);
	if (has_cases || has_calls || has_callers)
		S.load_at[L_CASES] = S.n_stmts, send_stmt(SQL_CASES, 3, p_cases);
	if (has_calls)
		S.load_at[L_CALLS] = S.n_stmts, send_stmt(SQL_CALLS, 1, p_calls);
	if (has_callers || has_calls || strcmp(s_event_cases, "[]") != 0)
		S.load_at[L_CALLERS] = S.n_stmts, send_stmt(SQL_CALLERS, 4, p_callers);
	if (strcmp(s_alerts, "[]") != 0)
		S.load_at[L_ALERTS] = S.n_stmts, send_stmt(SQL_ALERTS, 1, p_alerts);
	if (ids_wanted > 0)
		S.load_at[L_IDS] = S.n_stmts, send_stmt(SQL_IDS, 1, p_ids);
	/* work orders: the cases reached through an order_id or merged into a
	 * batch case, and every order of the batch's cases (store_orders.c) */
	if (has_cases || strcmp(s_orders, "[]") != 0) {
		S.load_at[L_ORDER_CASES] = S.n_stmts, send_stmt(SQL_ORDER_CASES, 2, p_orders);
		S.load_at[L_ORDERS] = S.n_stmts, send_stmt(SQL_ORDERS, 2, p_orders);
	}
	if (hot && hl->cfg->hotspot.threshold > 0) {
		S.load_at[L_HOTSPOT_CASES] = S.n_stmts, send_stmt(SQL_HOTSPOT_CASES, 6, p_hot);
		S.load_at[L_HOTSPOTS] = S.n_stmts, send_stmt(SQL_HOTSPOTS, 1, p_hot_keys);
	}
	free(s_cats), free(s_areas), free(s_depts);
	free(s_events), free(s_cases), free(s_calls), free(s_callers), free(s_alerts), free(s_event_cases);
	free(s_orders);
	S.state = S_LOAD;
	pipeline_send_open();
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
static PGresult *empty_result;

static PGresult *load_result(int which)
{
	PGresult **empty = &empty_result;
	if (S.load_at[which] >= 0 && S.res[S.load_at[which]])
		return S.res[S.load_at[which]];
	if (!*empty)
		*empty = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	return *empty;
}

/* Cases as SQL_CASES (and SQL_ORDER_CASES, same first columns) return them. */
static void add_case_rows(PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++) {
		struct hl_case c = {0};
		c.id = get_ms(r, i, 0);
		snprintf(c.caller, sizeof c.caller, "%s", PQgetvalue(r, i, 1));
		c.status = hl_status_from_name(PQgetvalue(r, i, 2));
		c.opened_at = get_ms(r, i, 3);
		c.resolved_at = get_ms(r, i, 4);
		c.closed_at = get_ms(r, i, 5);
		c.last_contact_at = get_ms(r, i, 6);
		c.updated_at = get_ms(r, i, 7);
		c.category = get_str(r, i, 8);
		c.priority = get_str(r, i, 9);
		c.department = get_str(r, i, 10);
		c.queue = get_str(r, i, 11);
		c.summary = get_str(r, i, 12);
		c.resolution = get_str(r, i, 13);
		c.transfers = (int32_t)get_ms(r, i, 14);
		c.reopens = (int32_t)get_ms(r, i, 15);
		c.on_hold = get_bool(r, i, 16);
		c.hold_since = get_ms(r, i, 17);
		c.held_ms = get_ms(r, i, 18);
		snprintf(c.policy, sizeof c.policy, "%s", PQgetvalue(r, i, 19));
		parse_clocks(&c, get_str(r, i, 20));
		hl_world_add_case(S.world, &c);
	}
}

static void fill_world(void)
{
	PGresult *r;
	hl_world_reset(S.world);

	r = load_result(L_SEEN);
	for (int i = 0; i < PQntuples(r); i++)
		hl_world_add_seen(S.world, PQgetvalue(r, i, 0), get_ms(r, i, 1));

	add_case_rows(load_result(L_CASES));
	add_case_rows(load_result(L_ORDER_CASES));
	store_orders_fill_merges(S.world, load_result(L_ORDER_CASES));
	store_orders_fill(S.world, load_result(L_ORDERS));
	store_hotspots_fill(S.world, load_result(L_HOTSPOT_CASES), load_result(L_HOTSPOTS));

	r = load_result(L_CALLS);
	for (int i = 0; i < PQntuples(r); i++) {
		struct hl_call c = {0};
		c.call_id = PQgetvalue(r, i, 0);
		c.case_id = get_ms(r, i, 1);
		snprintf(c.caller, sizeof c.caller, "%s", PQgetvalue(r, i, 2));
		c.state = hl_call_state_from_name(PQgetvalue(r, i, 3));
		c.inbound = get_bool(r, i, 4);
		c.offered_at = get_ms(r, i, 5);
		c.answered_at = get_ms(r, i, 6);
		c.ended_at = get_ms(r, i, 7);
		c.queue = get_str(r, i, 8);
		c.agent = get_str(r, i, 9);
		c.outcome = get_str(r, i, 10);
		hl_world_add_call(S.world, &c);
	}

	r = load_result(L_CALLERS);
	for (int i = 0; i < PQntuples(r); i++) {
		struct hl_caller c = {0};
		snprintf(c.caller, sizeof c.caller, "%s", PQgetvalue(r, i, 0));
		c.confidential = get_bool(r, i, 1);
		c.repeat_alerted_at = get_ms(r, i, 2);
		struct hl_caller *w = hl_world_add_caller(S.world, &c);
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
		a.id = get_ms(r, i, 0);
		snprintf(a.kind, sizeof a.kind, "%s", PQgetvalue(r, i, 1));
		a.case_id = get_ms(r, i, 2);
		snprintf(a.caller, sizeof a.caller, "%s", PQgetvalue(r, i, 3));
		a.level = (int)get_ms(r, i, 4);
		a.raised_at = get_ms(r, i, 5);
		a.due_at = get_ms(r, i, 6);
		a.escalate_at = get_ms(r, i, 7);
		a.acked_at = get_ms(r, i, 8);
		a.acked_by = get_str(r, i, 9);
		snprintf(a.dedupe, sizeof a.dedupe, "%s", PQgetvalue(r, i, 10));
		a.detail = get_str(r, i, 11);
		hl_world_add_alert(S.world, &a);
	}

	r = load_result(L_IDS);
	if (PQntuples(r) > 0) {
		size_t n = (size_t)PQntuples(r);
		int64_t *ids = malloc(sizeof *ids * n);
		if (!ids)
			abort();
		for (size_t i = 0; i < n; i++)
			ids[i] = get_ms(r, (int)i, 0);
		hl_world_add_free_ids(S.world, ids, n);
		free(ids);
	}
}

static void apply_rules(void)
{
	struct hl_rules_env env = { .cfg = hl->cfg, .now = now_ms() };
	struct item *it;
	TAILQ_FOREACH(it, &S.batch, entry) {
		memset(&it->out, 0, sizeof it->out);
		switch (it->kind) {
		case ITEM_FIRE:
			if (it->clock == TIMER_ORDER_SIGN || it->clock == TIMER_ORDER_REPLY)
				hl_orders_clock_fire(S.world, &env, it->id / HL_ORDER_KEY_MUL,
				                     (int32_t)(it->id % HL_ORDER_KEY_MUL),
				                     (enum hl_order_clock)(it->clock - TIMER_ORDER_SIGN), it->seq);
			else
				hl_rules_clock_fire(S.world, &env, it->id, (enum hl_clock_kind)it->clock, it->seq);
			break;
		case ITEM_ESCALATE:
			hl_rules_escalate(S.world, &env, it->id);
			break;
		case ITEM_REQ:
			if (needs_world(it))
				hl_rules_apply(S.world, &env, &it->req->ev, &it->out);
			break;
		}
	}
}

/* ------------------------------------------------------------ the write */









static const char *const PREPARED[] = {
	SQL_SEEN, SQL_CASES, SQL_CALLS, SQL_CALLERS, SQL_ALERTS, SQL_IDS,
	SQL_W_CALLERS, SQL_W_CASES, SQL_W_CALLS, SQL_W_CLOCKS, SQL_W_EVENTS,
	SQL_W_ALERTS_NEW, SQL_W_ALERTS_UPD, SQL_CASE_GET, SQL_REPLAY,
	SQL_ORDER_CASES, SQL_ORDERS, SQL_W_ORDERS, SQL_W_MERGES,
	SQL_HOTSPOT_CASES, SQL_HOTSPOTS, SQL_W_HOTSPOT_CASES, SQL_W_HOTSPOTS, SQL_W_ORDER_URGE_STOP,
	SQL_LOCK_BATCH, SQL_CLOCK_NOTIFY,
	SQL_W_WEBHOOKS_DONE,
};
#define N_PREPARED ((int)(sizeof PREPARED / sizeof PREPARED[0]))

static int stmt_index(const char *sql)
{
	for (int i = 0; i < N_PREPARED; i++)
		if (PREPARED[i] == sql)
			return i;
	return -1;
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
	return o;
}

static json_object *clock_row(int64_t case_id, int kind, const struct hl_clock *k)
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
	return o;
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
	char *p = json_take(arr);
	/* the alert statements also record the webhook deliveries ($2: the URLs) */
	bool alerts = sql == SQL_W_ALERTS_NEW || sql == SQL_W_ALERTS_UPD;
	const char *params[] = { p, alerts ? webhooks_urls_json() : NULL };
	if (index)
		*index = S.n_stmts;
	send_stmt(sql, alerts ? 2 : 1, params);
	free(p);
}

static void start_write(void)
{
	struct hl_world *w = S.world;
	json_object *a_cases = json_object_new_array(), *a_clocks = json_object_new_array(),
	            *a_calls = json_object_new_array(), *a_callers = json_object_new_array(),
	            *a_events = json_object_new_array(), *a_alerts = json_object_new_array(),
	            *a_upd = json_object_new_array();
	hl_ms now = now_ms();
	int reads = 0;
	struct item *it;

	for (size_t i = 0; i < w->n_callers; i++) {
		struct hl_caller *c = w->callers[i];
		if (!c->is_new && !c->dirty)
			continue;
		json_object *o = json_object_new_object();
		jadd(o, "caller", json_object_new_string(c->caller));
		jadd(o, "confidential", json_object_new_boolean(c->confidential));
		jadd(o, "repeat_alerted_at", jms(c->repeat_alerted_at));
		json_object_array_add(a_callers, o);
	}
	for (size_t i = 0; i < w->n_cases; i++) {
		struct hl_case *c = w->cases[i];
		for (int k = 0; k < HL_CK__COUNT; k++) {
			if (c->clocks[k].dirty && c->clocks[k].state != HL_CS_NONE)
				json_object_array_add(a_clocks, clock_row(c->id, k, &c->clocks[k]));
		}
		/* a clock's own change (a breach, say) is in hotline.clocks: the
		 * case row is written only when the case itself changed */
		if (c->is_new || c->dirty) {
			c->updated_at = now;
			json_object_array_add(a_cases, case_row(c));
		}
	}
	for (size_t i = 0; i < w->n_calls; i++) {
		struct hl_call *c = w->calls[i];
		if (c->is_new || c->dirty)
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
		jadd(o, "body", json_object_new_string_len(ac->ev->line, (int)ac->ev->line_len));
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
	TAILQ_FOREACH(it, &S.batch, entry)
		if (it->kind == ITEM_REQ && (it->req->read_sql || it->req->ev.type == HL_CMD_CASE_GET ||
		                             it->req->ev.type == HL_CMD_SUBSCRIBE))
			reads++;

	/* at most 14 writes (7 case tables, 5 order/hotspot tables, clock notes,
	 * webhook deliveries done), then the reads; send_stmt() checks the room */
	pipeline_begin(14 + reads);
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
	send_rows(SQL_W_ALERTS_NEW, a_alerts, &S.w_alert_ins);
	send_rows(SQL_W_ALERTS_UPD, a_upd, &S.w_alert_upd);
	send_rows(SQL_W_ORDER_URGE_STOP, store_order_urge_stops(w), NULL);
	/* several daemons: the owners of this batch's clocks hear of them at COMMIT */
	json_object *notes = cluster_clock_notes(w);
	if (notes)
		send_rows(SQL_CLOCK_NOTIFY, notes, NULL);
	send_rows(SQL_W_WEBHOOKS_DONE, webhooks_done_rows(), NULL);
	TAILQ_FOREACH(it, &S.batch, entry) {
		it->read_stmt = -1;
		if (it->kind != ITEM_REQ)
			continue;
		char b[24], b2[24];
		const char *params[2];
		if (it->req->read_sql) {
			it->read_stmt = S.n_stmts;
			send_stmt(it->req->read_sql, it->req->read_nparams, it->req->read_params);
		} else if (it->req->ev.type == HL_CMD_CASE_GET) {
			params[0] = fmt_i64(b, it->req->ev.case_id);
			it->read_stmt = S.n_stmts;
			send_stmt(SQL_CASE_GET, 1, params);
		} else if (it->req->ev.type == HL_CMD_SUBSCRIBE) {
			params[0] = fmt_i64(b, it->req->ev.since);
			params[1] = fmt_i64(b2, hl->cfg->alerts.replay_max);
			it->read_stmt = S.n_stmts;
			send_stmt(SQL_REPLAY, 2, params);
		}
	}
	if (S.n_stmts == 0 && S.load_open) {
		/* nothing to write: the Sync still ends the load's transaction and its locks */
		S.state = S_WRITE;
		pipeline_send();
		return;
	}
	if (S.n_stmts == 0) {
		/* nothing to write or read (only duplicates or rejected events) */
		S.state = S_WRITE;
		pipeline_reset();
		store_write_done();
		return;
	}
	S.state = S_WRITE;
	pipeline_send();
}

/* ----------------------------------------------------- batch completion */

static void reply_item(struct item *it)
{
	struct req *r = it->req;
	const struct hl_event *ev = &r->ev;

	if (ev->type == HL_CMD_CASE_GET) {
		PGresult *res = it->read_stmt >= 0 ? S.res[it->read_stmt] : NULL;
		if (!res || PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
			char msg[64];
			snprintf(msg, sizeof msg, "case_id: no case %" PRId64, ev->case_id);
			item_fail(it, HL_E_UNKNOWN_CASE, msg);
		} else {
			item_reply(it, hl_reply_with(ev->id, "case", PQgetvalue(res, 0, 0)));
		}
		return;
	}
	if (r->read_sql) {
		PGresult *res = it->read_stmt >= 0 ? S.res[it->read_stmt] : NULL;
		bool none = !res || PQntuples(res) == 0 || PQgetisnull(res, 0, 0);
		char *text = strdup(none ? "null" : PQgetvalue(res, 0, 0));
		if (!text)
			abort();
		item_reply(it, text);
		return;
	}
	if (ev->type == HL_CMD_SUBSCRIBE) {
		PGresult *res = it->read_stmt >= 0 ? S.res[it->read_stmt] : NULL;
		int n = res ? PQntuples(res) : 0;
		struct replay rp = { .n = (size_t)n };
		rp.json = calloc((size_t)n + 1, sizeof *rp.json);
		rp.masked = calloc((size_t)n + 1, sizeof *rp.masked);
		rp.ids = calloc((size_t)n + 1, sizeof *rp.ids);
		if (!rp.json || !rp.masked || !rp.ids)
			abort();
		for (int i = 0; i < n; i++) {
			rp.ids[i] = get_ms(res, i, 0);
			rp.json[i] = PQgetvalue(res, i, 1);
			rp.masked[i] = PQgetvalue(res, i, 2);
		}
		rp.omitted = n > 0 ? get_ms(res, 0, 3) - n : 0;
		hl->stats.ack_latency_us_total += mono_us() - r->started_us;
		hl->stats.acks++;
		free(it);
		subscribe_replayed(r, &rp); /* registers the subscriber, then replies */
		free(rp.json), free(rp.masked), free(rp.ids);
		return;
	}
	if (it->out.err != HL_OK) {
		item_fail(it, it->out.err, it->out.message);
		return;
	}
	if (ev->type == HL_CMD_ALERT_ACK) {
		item_reply(it, hl_reply_ok(ev->id));
		return;
	}
	hl->stats.events++;
	/* a retry after a lost connection that finds its own commit is not a duplicate to the sender */
	bool dup = it->out.duplicate && !it->retried;
	if (it->out.duplicate)
		hl->stats.duplicates++;
	if (it->out.order_id[0])
		item_reply(it, hl_reply_order(ev->id, it->out.case_id, it->out.order_id, dup));
	else
		item_reply(it, hl_reply_case(ev->id, it->out.case_id, dup));
}

static void update_timers(void)
{
	struct hl_world *w = S.world;
	struct item *it;
	/* a timer that fired early (or for a stale run) is set again from the clock's state */
	TAILQ_FOREACH(it, &S.batch, entry) {
		if (it->kind == ITEM_FIRE && (it->clock == TIMER_ORDER_SIGN || it->clock == TIMER_ORDER_REPLY)) {
			store_orders_refire(w, it->id, it->clock);
		} else if (it->kind == ITEM_FIRE) {
			struct hl_case *c = hl_world_case(w, it->id);
			if (c && !c->clocks[it->clock].dirty)
				clocks_set(it->id, it->clock, c->clocks[it->clock].seq,
				           hl_clock_next_fire(&c->clocks[it->clock]));
		} else if (it->kind == ITEM_ESCALATE) {
			struct hl_alert *a = hl_world_alert(w, it->id);
			if (a && !a->dirty)
				clocks_set(it->id, TIMER_ESCALATION, 0, a->acked_at ? 0 : a->escalate_at);
		}
	}
	for (size_t i = 0; i < w->n_cases; i++) {
		struct hl_case *c = w->cases[i];
		for (int k = 0; k < HL_CK__COUNT; k++)
			if (c->clocks[k].dirty)
				clocks_set(c->id, k, c->clocks[k].seq, hl_clock_next_fire(&c->clocks[k]));
	}
	store_orders_timers(w);
}

static void deliver_alerts(int stmt, bool upd)
{
	if (stmt < 0)
		return;
	PGresult *r = S.res[stmt];
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t id = get_ms(r, i, 0);
		const char *kind = PQgetvalue(r, i, 1);
		hl_ms esc = get_ms(r, i, 2);
		clocks_set(id, TIMER_ESCALATION, 0, esc);
		bool escalated = upd ? get_bool(r, i, 4) : false;
		if (!upd || escalated) {
			alerts_deliver(id, PQgetvalue(r, i, 3), PQgetvalue(r, i, upd ? 6 : 5), kind, escalated);
			if (!upd)
				metrics_alert_committed(PQgetvalue(r, i, 3));
			/* webhooks get the masked text (as NOTIFY) unless a URL may see numbers */
			alerts_webhooks_post(PQgetvalue(r, i, 3), PQgetvalue(r, i, upd ? 6 : 5));
			if (escalated)
				hl->stats.alerts_escalated++;
		} else {
			/* acknowledged: wallboards take it off their screens */
			subscribers_deliver(SUB_ACK, id, PQgetvalue(r, i, 3), PQgetvalue(r, i, 6));
		}
	}
}

static void store_write_done(void)
{
	struct item *it;
	uint64_t us = mono_us() - S.t_batch_us;

	hl->stats.batches++;
	hl->stats.batch_items += S.n_batch;
	if (S.n_batch > hl->stats.batch_max_seen)
		hl->stats.batch_max_seen = S.n_batch;
	hl->stats.commit_us_total += us;
	metrics_observe(HIST_COMMIT, (double)us / 1e6);
	if (us > hl->stats.commit_us_max)
		hl->stats.commit_us_max = us;

	update_timers();
	if (S.n_stmts > 0) {
		deliver_alerts(S.w_alert_ins, false);
		deliver_alerts(S.w_alert_upd, true);
	}
	/* answer in batch order; subscribe replies last registered after the pushes above */
	while ((it = TAILQ_FIRST(&S.batch))) {
		TAILQ_REMOVE(&S.batch, it, entry);
		if (it->kind == ITEM_REQ)
			reply_item(it);
		else
			free(it);
	}
	S.n_batch = 0;
	pipeline_reset();
	hl_world_reset(S.world);
	S.state = S_IDLE;
	store_kick();
}

/* The batch's transaction failed: bisect it, or fail its only item. */
static void batch_failed(const char *why)
{
	static uint64_t next_group;
	struct item *it;
	hl->stats.batch_failures++;
	if (S.n_batch == 0) {
		/* only delivered webhooks' rows: they are sent again after a restart (same delivery id) */
		log_server_error(4, "store: the delivered webhooks' rows were not deleted", why);
	} else if (S.n_batch == 1) {
		it = TAILQ_FIRST(&S.batch);
		TAILQ_REMOVE(&S.batch, it, entry);
		log_server_error(3, "store: an item failed alone", why);
		if (it->kind == ITEM_REQ) {
			item_fail(it, HL_E_INTERNAL, "the database refused this event; nothing was stored");
		} else {
			free(it);
		}
	} else {
		size_t first = S.n_batch / 2, second = S.n_batch - first;
		char what[96];
		snprintf(what, sizeof what, "store: batch of %zu failed, retrying it in halves of %zu and %zu",
		         S.n_batch, first, second);
		log_server_error(4, what, why);
		hl->stats.batch_splits++;
		/* back to the head of the queue in their order: the first half, then the second */
		uint64_t g_first = ++next_group, g_second = ++next_group;
		size_t left = S.n_batch;
		while ((it = TAILQ_LAST(&S.batch, itemq))) {
			TAILQ_REMOVE(&S.batch, it, entry);
			it->group = left-- > first ? g_second : g_first;
			TAILQ_INSERT_HEAD(&S.queue, it, entry);
			S.n_queue++;
		}
	}
	S.n_batch = 0;
	pipeline_reset();
	hl_world_reset(S.world);
	S.state = S_IDLE;
	store_kick();
}

/* ------------------------------------------------------ the event loop */

static void store_start_batch(void)
{
	struct item *it;
	bool world = false;

	take_batch();
	if (S.n_batch == 0)
		return;
	S.t_batch_us = mono_us();
	TAILQ_FOREACH(it, &S.batch, entry)
		world |= needs_world(it);
	if (world) {
		start_load();
	} else {
		hl_world_reset(S.world);
		start_write();
	}
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	if (S.state == S_IDLE && S.n_queue > 0) {
		store_start_batch();
	} else if (S.state == S_IDLE && webhooks_done_waiting()) {
		/* nothing queued: a transaction of its own deletes the delivered webhooks' rows */
		S.t_batch_us = mono_us();
		hl_world_reset(S.world);
		start_write();
	}
}

static struct event *ev_kick;

/* Start a batch soon (deferred so that a burst of lines read in one callback
 * lands in one batch, and so completions never recurse into new batches). */
static void store_kick(void)
{
	if (S.state == S_IDLE && (S.n_queue > 0 || webhooks_done_waiting()) && !event_pending(ev_kick, EV_TIMEOUT, NULL))
		event_active(ev_kick, EV_TIMEOUT, 0);
}

/* Every result of the open load is in (no Sync yet: the transaction goes on). */
static void load_finished(void)
{
	if (S.error) {
		/* end the aborted transaction; its Sync result then fails the batch */
		S.load_open = false;
		pipeline_send();
		return;
	}
	fill_world();
	apply_rules();
	start_write();
}
void store_webhooks_done(void) { store_kick(); }

static void handle_results(void)
{
	for (;;) {
		if (PQisBusy(S.pg))
			return;
		PGresult *r = PQgetResult(S.pg);
		if (!r) {
			/* end of one statement's results */
			if (S.cur_stmt < S.n_stmts)
				S.cur_stmt++;
			else
				return; /* nothing more pending */
			if (S.state == S_LOAD && S.load_open && S.cur_stmt == S.n_stmts) {
				load_finished();
				return;
			}
			continue;
		}
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			S.load_open = false;
			/* the transaction is over: committed, or rolled back on error */
			if (S.state == S_PREPARE) {
				if (S.error) {
					log_server_error(2, "store: cannot prepare statements", S.error);
					pipeline_reset();
					daemon_fatal("cannot prepare statements");
				} else {
					pipeline_reset();
					startup_finish();
				}
			} else if (S.error) {
				/* the load or the write failed: the batch is re-run item by item */
				char *why = strdup(S.error);
				batch_failed(why);
				free(why);
			} else if (S.state == S_LOAD) {
				fill_world();
				apply_rules();
				start_write();
			} else if (S.state == S_WRITE) {
				store_write_done();
			}
			return;
		}
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			if (S.cur_stmt < S.n_stmts && !S.res[S.cur_stmt])
				S.res[S.cur_stmt] = r;
			else
				PQclear(r);
		} else {
			if (!S.error && st != PGRES_PIPELINE_ABORTED) {
				const char *m = PQresultErrorMessage(r);
				S.error = strdup(m && *m ? m : PQresStatus(st));
			} else if (!S.error) {
				S.error = strdup("pipeline aborted");
			}
			PQclear(r);
		}
	}
}

/* --------------------------------------------- connection and start-up */

static void giveup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct item *it, *tmp;
	(void)fd, (void)what, (void)arg;
	if (S.state >= S_STARTUP)
		return; /* connected: loading the clocks may take a few seconds */
	S.gave_up = true;
	/* requests waiting for the database get `unavailable`; timer items stay queued */
	for (it = TAILQ_FIRST(&S.queue); it; it = tmp) {
		tmp = TAILQ_NEXT(it, entry);
		if (it->kind == ITEM_REQ) {
			TAILQ_REMOVE(&S.queue, it, entry);
			S.n_queue--;
			/* a batch cut off during its COMMIT may have been stored: say so */
			item_fail(it, HL_E_UNAVAILABLE, it->retried
			          ? "database connection lost during commit; the event may have been stored; "
			            "resending it with the same id is safe"
			          : "database unavailable; nothing was stored; retry later");
		}
	}
	maybe_resume_input();
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	store_connect();
}

static void schedule_reconnect(void)
{
	int cap = hl->cfg->database.reconnect_max_s * 1000;
	if (cap <= 0)
		cap = 30000;
	S.backoff_ms = S.backoff_ms ? S.backoff_ms * 2 : 250;
	if (S.backoff_ms > cap)
		S.backoff_ms = cap;
	struct timeval tv = { S.backoff_ms / 1000, (S.backoff_ms % 1000) * 1000 };
	evtimer_add(S.ev_retry, &tv);
	if (!event_pending(S.ev_giveup, EV_TIMEOUT, NULL) && !S.gave_up) {
		struct timeval g = { UNAVAILABLE_AFTER_MS / 1000, (UNAVAILABLE_AFTER_MS % 1000) * 1000 };
		evtimer_add(S.ev_giveup, &g);
	}
}

static void drop_conn(void)
{
	if (S.ev_read) {
		event_free(S.ev_read);
		S.ev_read = NULL;
	}
	if (S.ev_write) {
		event_free(S.ev_write);
		S.ev_write = NULL;
	}
	if (S.pg) {
		PQfinish(S.pg);
		S.pg = NULL;
	}
	S.sock = -1;
}

static void on_lost(const char *why)
{
	struct item *it;
	char msg[256];
	snprintf(msg, sizeof msg, "%s", why ? why : "connection lost");
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	log_server_error(3, "store: database connection lost", msg);
	hl->stats.db_failures++;
	/* the batch in flight goes back to the head of the queue: its ids make a retry safe */
	while ((it = TAILQ_LAST(&S.batch, itemq))) {
		TAILQ_REMOVE(&S.batch, it, entry);
		it->retried = S.state == S_WRITE || it->retried;
		TAILQ_INSERT_HEAD(&S.queue, it, entry);
		S.n_queue++;
	}
	S.n_batch = 0;
	pipeline_reset();
	hl_world_reset(S.world);
	S.load_open = false;
	drop_conn();
	S.state = S_DOWN;
	schedule_reconnect();
}

static void watch_socket(void)
{
	int sock = PQsocket(S.pg);
	if (sock == S.sock && S.ev_read)
		return;
	if (S.ev_read)
		event_free(S.ev_read);
	if (S.ev_write)
		event_free(S.ev_write);
	S.sock = sock;
	S.ev_read = event_new(hl->base, sock, EV_READ | EV_PERSIST, on_socket, NULL);
	S.ev_write = event_new(hl->base, sock, EV_WRITE, on_socket, NULL);
}

static void connect_poll(void)
{
	PostgresPollingStatusType st = PQconnectPoll(S.pg);
	watch_socket();
	switch (st) {
	case PGRES_POLLING_READING:
		event_add(S.ev_read, NULL);
		event_del(S.ev_write);
		return;
	case PGRES_POLLING_WRITING:
		event_del(S.ev_read);
		event_add(S.ev_write, NULL);
		return;
	case PGRES_POLLING_FAILED:
		log_server_error(3, "store: cannot connect to the database", PQerrorMessage(S.pg));
		hl->stats.db_failures++;
		drop_conn();
		S.state = S_DOWN;
		schedule_reconnect();
		return;
	default:
		break;
	}
	/* connected */
	event_add(S.ev_read, NULL);
	event_del(S.ev_write);
	PQsetnonblocking(S.pg, 1);
	hl->stats.db_connects++;
	log_info("store: connected to database %s on %s as %s", PQdb(S.pg), PQhost(S.pg), PQuser(S.pg));
	S.state = S_STARTUP;
	S.step = S.ever_ready ? ST_DONE : ST_VERSION;
	startup_next();
}

static void store_connect(void)
{
	const char *keys[] = { "dbname", "fallback_application_name", NULL };
	const char *vals[] = { hl->cfg->database.conninfo, "hotlined", NULL };
	S.pg = PQconnectStartParams(keys, vals, 1);
	if (!S.pg || PQstatus(S.pg) == CONNECTION_BAD) {
		log_server_error(3, "store: cannot start connecting", S.pg ? PQerrorMessage(S.pg) : "out of memory");
		drop_conn();
		S.state = S_DOWN;
		schedule_reconnect();
		return;
	}
	S.state = S_CONNECTING;
	S.sock = -1;
	connect_poll();
}

/* Start-up, before pipeline mode: check the schema, load pending clocks (COPY)
 * and pending escalations into the timers. */
static void startup_send(const char *sql)
{
	if (!PQsendQuery(S.pg, sql)) {
		on_lost(PQerrorMessage(S.pg));
		return;
	}
	int f = PQflush(S.pg);
	if (f < 0)
		on_lost(PQerrorMessage(S.pg));
	else if (f == 1)
		event_add(S.ev_write, NULL);
}

static void startup_next(void)
{
	switch (S.step) {
	case ST_VERSION:
		startup_send("SELECT COALESCE(max(version), 0) FROM hotline.schema_migrations");
		return;
	case ST_CLOCKS:
		_Static_assert(TIMER_ORDER_SIGN == 6 && TIMER_ORDER_REPLY == 7, "SQL_PENDING_ORDER_CLOCKS below");
		startup_send("COPY (SELECT case_id,"
		             " array_position(ARRAY['callback','update','resolution','survey','redispatch'], kind) - 1,"
		             " seq, CASE WHEN warned OR warn_at IS NULL THEN hotline.ms(due_at) ELSE hotline.ms(warn_at) END"
		             " FROM hotline.clocks WHERE state = 'pending'"
		             SQL_PENDING_ORDER_CLOCKS(6, 7) ") TO STDOUT");
		return;
	case ST_ESCALATIONS:
		startup_send("SELECT id, hotline.ms(escalate_at) FROM hotline.alerts"
		             " WHERE acked_at IS NULL AND escalate_at IS NOT NULL");
		return;
	case ST_WEBHOOKS:
		startup_send(SQL_WEBHOOKS_PENDING);
		return;
	case ST_REPORT_TZ: { /* the figures' local days follow report.timezone (sql/017) */
		const char *p[] = { hl->cfg->report.timezone };
		if (!PQsendQueryParams(S.pg, "SELECT hotline.set_report_timezone($1)", 1, NULL, p, NULL, NULL, 0)) {
			on_lost(PQerrorMessage(S.pg));
			return;
		}
		if (PQflush(S.pg) == 1)
			event_add(S.ev_write, NULL);
		return;
	}
	case ST_DONE:
		if (!PQenterPipelineMode(S.pg)) {
			on_lost(PQerrorMessage(S.pg));
			return;
		}
		/* prepared statements live as long as the session: again after each reconnect */
		pipeline_begin(N_PREPARED);
		for (int i = 0; i < N_PREPARED; i++) {
			char name[16];
			snprintf(name, sizeof name, "hl_%d", i);
			if (!PQsendPrepare(S.pg, name, PREPARED[i], 0, NULL) && !S.error)
				S.error = strdup(PQerrorMessage(S.pg));
			S.n_stmts++;
		}
		S.state = S_PREPARE;
		pipeline_send();
		return;
	}
}

static void startup_finish(void)
{
	if (!S.ever_ready) {
		clocks_rearm();
		log_info("store: ready; %zu pending clocks, %zu escalations scheduled",
		         clocks_pending(-1) - clocks_pending(TIMER_ESCALATION), clocks_pending(TIMER_ESCALATION));
	} else {
		log_notice("store: database connection restored");
	}
	S.ever_ready = true;
	S.state = S_IDLE;
	S.backoff_ms = 0;
	S.gave_up = false;
	evtimer_del(S.ev_giveup);
	daemon_ready();
	store_kick();
}

static void startup_copy(void)
{
	char *buf;
	int n;
	while ((n = PQgetCopyData(S.pg, &buf, 1)) > 0) {
		char *p = buf, *end;
		int64_t case_id = strtoll(p, &end, 10);
		int kind = (int)strtol(end + 1, &end, 10);
		int32_t seq = (int32_t)strtol(end + 1, &end, 10);
		hl_ms at = strtoll(end + 1, &end, 10);
		if (kind >= 0 && kind < TIMER__COUNT && kind != TIMER_ESCALATION)
			clocks_set(case_id, kind, seq, at);
		PQfreemem(buf);
	}
	if (n == -2) {
		on_lost(PQerrorMessage(S.pg));
		return;
	}
	if (n == -1)
		S.copy_mode = false; /* the COPY's command result follows */
}

static void startup_results(void)
{
	if (S.copy_mode) {
		startup_copy();
		if (S.copy_mode || S.state != S_STARTUP)
			return;
	}
	for (;;) {
		if (PQisBusy(S.pg))
			return;
		PGresult *r = PQgetResult(S.pg);
		if (!r)
			break;
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_COPY_OUT) {
			PQclear(r);
			S.copy_mode = true;
			startup_copy();
			if (S.copy_mode || S.state != S_STARTUP)
				return;
			continue;
		}
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			const char *m = PQresultErrorMessage(r);
			if (S.step == ST_VERSION) {
				char what[600];
				snprintf(what, sizeof what, "store: the database has no hotline schema (run: hotlined -c %s --migrate)",
				         hl->config_path);
				log_server_error(2, what, m);
				PQclear(r);
				daemon_fatal("schema missing");
				return;
			}
			if (S.step == ST_REPORT_TZ) { /* figures in another zone are no reason not to run */
				log_server_error(4, "store: cannot set the report time zone", m);
				PQclear(r);
				continue;
			}
			log_server_error(3, "store: start-up query failed", m);
			PQclear(r);
			on_lost(m);
			return;
		}
		if (S.step == ST_VERSION) {
			int v = atoi(PQgetvalue(r, 0, 0));
			if (v < migrate_latest()) {
				log_crit("store: the database schema is at version %d, this hotlined needs %d; run: hotlined -c %s --migrate",
				         v, migrate_latest(), hl->config_path);
				PQclear(r);
				daemon_fatal("schema too old");
				return;
			}
		} else if (S.step == ST_ESCALATIONS) {
			for (int i = 0; i < PQntuples(r); i++)
				clocks_set(get_ms(r, i, 0), TIMER_ESCALATION, 0, get_ms(r, i, 1));
		} else if (S.step == ST_WEBHOOKS) {
			for (int i = 0; i < PQntuples(r); i++)
				webhooks_resume(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
		} else if (S.step == ST_REPORT_TZ && PQgetvalue(r, 0, 0)[0] != 't') {
			log_warn("store: report.timezone %s not set in the database (see docs/admin.md)",
			            hl->cfg->report.timezone);
		}
		PQclear(r);
	}
	S.step++;
	startup_next();
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)arg;
	if (S.state == S_CONNECTING) {
		connect_poll();
		return;
	}
	if (!S.pg)
		return;
	if (what & EV_WRITE) {
		int f = PQflush(S.pg);
		if (f < 0) {
			on_lost(PQerrorMessage(S.pg));
			return;
		}
		if (f == 1)
			event_add(S.ev_write, NULL);
	}
	if (what & EV_READ) {
		if (!PQconsumeInput(S.pg)) {
			on_lost(PQerrorMessage(S.pg));
			return;
		}
		/* a pipelined write may still be waiting to be flushed */
		if (PQflush(S.pg) == 1)
			event_add(S.ev_write, NULL);
	}
	if (PQstatus(S.pg) == CONNECTION_BAD) {
		on_lost(PQerrorMessage(S.pg));
		return;
	}
	if (S.state == S_STARTUP)
		startup_results();
	else if (S.state == S_PREPARE || S.state == S_LOAD || S.state == S_WRITE)
		handle_results();
	else {
		/* idle: drain notices / unexpected results */
		PGresult *r;
		while (!PQisBusy(S.pg) && (r = PQgetResult(S.pg)))
			PQclear(r);
	}
}

int store_init(void)
{
	TAILQ_INIT(&S.queue);
	TAILQ_INIT(&S.batch);
	S.sock = -1;
	S.world = hl_world_new();
	S.ev_retry = evtimer_new(hl->base, retry_cb, NULL);
	S.ev_giveup = evtimer_new(hl->base, giveup_cb, NULL);
	ev_kick = event_new(hl->base, -1, 0, kick_cb, NULL);
	if (!S.world || !S.ev_retry || !S.ev_giveup || !ev_kick)
		return -1;
	struct timeval g = { UNAVAILABLE_AFTER_MS / 1000, (UNAVAILABLE_AFTER_MS % 1000) * 1000 };
	evtimer_add(S.ev_giveup, &g);
	store_connect();
	return 0;
}

void store_free(void)
{
	struct item *it;
	while ((it = TAILQ_FIRST(&S.batch))) {
		TAILQ_REMOVE(&S.batch, it, entry);
		if (it->kind == ITEM_REQ)
			item_fail(it, HL_E_UNAVAILABLE, "shutting down; retry");
		else
			free(it);
	}
	while ((it = TAILQ_FIRST(&S.queue))) {
		TAILQ_REMOVE(&S.queue, it, entry);
		if (it->kind == ITEM_REQ)
			item_fail(it, HL_E_UNAVAILABLE, "shutting down; retry");
		else
			free(it);
	}
	S.n_queue = S.n_batch = 0;
	pipeline_reset();
	drop_conn();
	PQclear(empty_result);
	empty_result = NULL;
	if (S.world)
		hl_world_free(S.world);
	S.world = NULL;
	if (S.ev_retry)
		event_free(S.ev_retry);
	if (S.ev_giveup)
		event_free(S.ev_giveup);
	if (ev_kick)
		event_free(ev_kick);
	S.ev_retry = S.ev_giveup = ev_kick = NULL;
}

bool store_connected(void) { return S.pg && S.state >= S_IDLE; }
bool store_unavailable(void) { return S.gave_up; }

int store_backend_pid(void) { return S.pg && S.state >= S_STARTUP ? PQbackendPID(S.pg) : 0; }
