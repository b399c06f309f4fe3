/*
 * store.c - batches, the PostgreSQL pipeline, commit -> acknowledgements.
 *
 * Group commit.  Requests that need the database (events, alert.ack,
 * case.get, subscribe) and escalations wait in one FIFO; clocks that fell due
 * wait in a lane of their own that runs first, in batches of its own, unless
 * a request queued before a clock may touch its case (store_due.c).  While
 * no batch is in flight, up to database.batch_max items are taken and run in
 * two round trips on a single nonblocking libpq connection in pipeline mode:
 *
 *   1. load:  a handful of SELECTs (one per table, keys passed as JSON
 *             arrays) fetch what the batch touches: accepted event ids,
 *             cases with their clocks, calls, callers, alerts; plus reserved
 *             case ids.  The rows fill a struct hl_world and the pure rules
 *             (rules.c) apply the items in order, in memory.
 *   2. write: one INSERT .. ON CONFLICT per table writes every row the rules
 *             changed (json_to_recordset: one statement per table, not per
 *             event), between the rollup's figures_before (sent and pushed
 *             first, so the server runs it while the rows are built) and
 *             figures_after; alerts are inserted with a unique dedupe key and
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
 *
 * This file is the batch state machine (the queue, taking a batch, its
 * completion, the event loop) and the public store_* API.  It never counts
 * results: the pipeline (store_conn.c) calls store_on_loaded when the load's
 * results are in and store_on_committed at the write's Sync.  Requests are
 * answered with a plain outcome (struct store_answer) that conn.c renders.
 * The load is in store_load.c (its keys decided by the pure batch_keys.c,
 * its rows read by name through store_columns.c), the write in
 * store_write.c, the connection, start-up and pipeline in store_conn.c, and
 * what they share (the state `store`) in store_internal.h.
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

struct store_state store; /* the one store: its state, shared by the store_*.c files */

/* ------------------------------------------------------------ utilities */

const char *store_fmt_i64(char *buf, int64_t v)
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

char *store_json_take(json_object *o)
{
	char *s = hl_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

hl_ms store_get_ms(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool store_get_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

bool store_needs_world(const struct item *it)
{
	if (it->kind != ITEM_REQ)
		return true;
	return hl_type_is_event(it->req->ev.type) || it->req->ev.type == HL_CMD_ALERT_ACK;
}

/* ------------------------------------------------------- item lifecycle */

static struct item *item_new(enum item_kind kind)
{
	struct item *it = calloc(1, sizeof *it);
	if (!it)
		abort();
	it->kind = kind;
	it->read_stmt = -1;
	it->ticket = ++store.next_ticket;
	it->queued_us = mono_us();
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
	if (it->kind == ITEM_FIRE) {
		/* a clock that fell due: the due lane (store_due.c) */
		TAILQ_INSERT_TAIL(&store.due, it, entry);
		store.n_due++;
	} else {
		TAILQ_INSERT_TAIL(&store.queue, it, entry);
	}
	store.n_queue++;
	/* backpressure: PostgreSQL is slower than the input; stop reading sockets */
	size_t high = backlog_high();
	if (!store.paused_conns && store.n_queue > high) {
		store.paused_conns = true;
		log_notice("store: %zu items queued, pausing input", store.n_queue);
		conn_pause_all(true);
	}
}

void store_maybe_resume_input(void)
{
	size_t high = backlog_high();
	if (store.paused_conns && store.n_queue < high / 2) {
		store.paused_conns = false;
		log_notice("store: backlog down to %zu, resuming input", store.n_queue);
		conn_pause_all(false);
	}
}

/* Answer a request (conn.c renders the reply) and forget the item. */
static void item_answer(struct item *it, const struct store_answer *a)
{
	struct req *r = it->req;
	uint64_t ack_us = mono_us() - r->started_us;
	hl->stats.ack_latency_us_total += ack_us;
	hl->stats.acks++;
	metrics_observe(HIST_ACK, (double)ack_us / 1e6);
	conn_answer(r, a); /* before free: the answer may point into the item (out.order_id) */
	free(it);
}

void store_item_fail(struct item *it, enum hl_err code, const char *msg)
{
	if (it->kind == ITEM_REQ) {
		if ((size_t)code < sizeof hl->stats.errors / sizeof hl->stats.errors[0])
			hl->stats.errors[code]++;
		item_answer(it, &(struct store_answer){ .err = code, .message = msg });
	} else {
		free(it);
	}
}

void store_submit(struct req *r)
{
	struct item *it = item_new(ITEM_REQ);
	it->req = r;
	if (store.gave_up) {
		store_item_fail(it, HL_E_UNAVAILABLE, "database unavailable; nothing was stored; retry later");
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

bool store_idle(void) { return store.n_queue == 0 && store.n_batch == 0; }

/* Transactions started so far: a mark that cluster.c compares to know when
 * the transaction in flight at some moment has committed or failed. */
static uint64_t txns_started;

uint64_t store_txn_mark(void) { return txns_started; }

bool store_txn_passed(uint64_t mark)
{
	return txns_started != mark || (store.state != S_LOAD && store.state != S_WRITE);
}
size_t store_queued(void) { return store.n_queue + store.n_batch; }

/* ------------------------------------------------------------ the load */

/* Requests beside due clocks (issue 15: alert lateness with ingest at full
 * speed).  A due clock waits for the batch in flight, and a batch of
 * requests at full load is 250-1,000 items and 60-250 ms: with 10,000
 * clocks due in one second, the clocks that fell due behind such a batch
 * were the p99 (246 ms).  So while clocks wait in the due lane, or at least
 * DUE_AHEAD_MIN of them fall due within the time a full batch of requests
 * takes (twice its running mean), the queue's batch holds at most
 * QUEUE_BESIDE_DUE items: a due clock then waits for a batch of ~30 ms at
 * most.  A lone clock falling due does not shrink the batches (a hotline's
 * million clocks fall due a few per second: that would cost ingest its
 * group commit for nothing); it waits for the batch in flight, as before.
 *
 * During a burst the due lane needs the connection to itself: a due batch
 * of 512 takes 40-55 ms, so 10,000 due in one second leave it little idle
 * time, and turns given to the queue every 100 ms built a backlog (p99
 * 695 ms, measured).  The queue still gets one batch per QUEUE_STARVE_US,
 * so requests are answered (late) instead of starving. */
#define QUEUE_STARVE_US 1000000
#define QUEUE_BESIDE_DUE 64
#define DUE_AHEAD_MIN 16

static bool due_burst_ahead(void)
{
	if (store.n_due > 0)
		return true;
	uint64_t horizon_us = 2 * store.queue_batch_us;
	if (horizon_us < 20000)
		horizon_us = 20000;
	return clocks_due_by(now_ms() + (hl_ms)(horizon_us / 1000), DUE_AHEAD_MIN) >= DUE_AHEAD_MIN;
}

/* Reads per batch.  A read waits in the same FIFO as the events, and costs
 * more than most of them: a subscribe's replay reads up to
 * alerts.replay_max open alerts, each masked (sql/061: ~35 us an alert, so
 * ~35 ms for 1,000), and a case read (case.get, GET /v1/cases/N) ~5 ms
 * (the newest 500 events of a busy case ~70 ms; sql/071).
 * A client that opens an alert stream, reads the replay and hangs up, ten
 * times a second, then held every event behind its replays: 1.4 s for an
 * event at p50 with ten such clients (0 with none), on a database of 1,000
 * open alerts; 300 case reads whose client hung up at once (libevent does
 * not see an HTTP client leave while its request is answered, so they are
 * not dropped as orphans) held the next event for 2.6 s.  So a batch
 * carries at most REPLAYS_PER_BATCH replays and READS_PER_BATCH other
 * reads; the others wait in their place while the items behind them go on.
 * Other clients' events then wait for a batch's reads at most, and the
 * reads still run in order, a batch at a time (a wall of screens
 * reconnecting after a restart gets its replays within a few batches).  A
 * connection's replies still leave in its request order (conn.c): what a
 * deferred read holds back is its own connection's answers only.  The scan
 * past deferred reads stops after READS_LOOK_PAST of them, so a flood of
 * them costs taking a batch no more than that. */
#define REPLAYS_PER_BATCH 1
#define READS_PER_BATCH 8
#define READS_LOOK_PAST 4096

/* 1 for a replay, 2 for another read, 0 for anything else */
static int read_kind(const struct item *it)
{
	const struct req *r = it->kind == ITEM_REQ ? it->req : NULL;
	if (!r)
		return 0;
	if (r->ev.type == HL_CMD_SUBSCRIBE)
		return 1;
	return r->read_sql || r->ev.type == HL_CMD_CASE_GET ? 2 : 0;
}

/* A read whose client has gone (a socket, or HTTP: r->gone; an alert stream's
 * replay too): nobody gets its answer, and others' events waited 23 s behind
 * 928 case.gets of a dropped client.  Its events are still committed. */
static bool orphaned_read(const struct item *it)
{
	const struct req *r = it->req;
	return read_kind(it) != 0 && (r->gone || (!r->conn && !r->on_reply && !r->on_replay));
}

static void take_batch(void)
{
	struct item *it;
	int max = hl->cfg->database.batch_max;
	store.n_batch = 0;
	store.batch_from_queue = false;
	/* the halves of a failed batch wait at the head of the queue, one group each */
	struct item *head = TAILQ_FIRST(&store.queue);
	uint64_t group = head ? head->group : 0;
	uint64_t now = mono_us();
	bool starving = head && now - store.queue_turn_us > QUEUE_STARVE_US && now - head->queued_us > QUEUE_STARVE_US;
	if (store.n_due > 0 && group == 0 && !starving) {
		/* clocks that fell due first, in a batch of their own (store_due.c) */
		store_due_take();
		store_maybe_resume_input();
		return;
	}
	store.queue_turn_us = now;
	if (group == 0 && max > QUEUE_BESIDE_DUE && due_burst_ahead()) {
		max = QUEUE_BESIDE_DUE;
		hl->stats.batches_beside_due++;
	} else {
		store.batch_from_queue = group == 0;
	}
	int taken[3] = { 0, 0, 0 }, looked = 0;
	struct item *next;
	for (it = TAILQ_FIRST(&store.queue); it && (int)store.n_batch < max && it->group == group; it = next) {
		next = TAILQ_NEXT(it, entry);
		int k = read_kind(it);
		if (k && !orphaned_read(it) && taken[k] >= (k == 1 ? REPLAYS_PER_BATCH : READS_PER_BATCH)) {
			/* left for a later batch, in its place; the items behind it go on */
			if (++looked > READS_LOOK_PAST)
				break;
			hl->stats.reads_deferred++;
			continue;
		}
		taken[k]++;
		TAILQ_REMOVE(&store.queue, it, entry);
		store.n_queue--;
		if (orphaned_read(it)) {
			hl->stats.reads_orphaned++;
			conn_complete(it->req, NULL); /* frees the request */
			free(it);
			continue;
		}
		TAILQ_INSERT_TAIL(&store.batch, it, entry);
		store.n_batch++;
	}
	store_maybe_resume_input();
}

/* ----------------------------------------------------- batch completion */

/* The outcome of a request, handed back as a plain store_answer. */
static void reply_item(struct item *it)
{
	struct req *r = it->req;
	const struct hl_event *ev = &r->ev;
	PGresult *res = it->read_stmt >= 0 ? store.res[it->read_stmt] : NULL;
	bool no_row = !res || PQntuples(res) == 0 || PQgetisnull(res, 0, 0);

	if (r->read_sql) {
		item_answer(it, &(struct store_answer){ .json = no_row ? NULL : PQgetvalue(res, 0, 0) });
		return;
	}
	if (ev->type == HL_CMD_CASE_GET) {
		if (no_row) {
			char msg[64];
			snprintf(msg, sizeof msg, "case_id: no case %" PRId64, ev->case_id);
			store_item_fail(it, HL_E_UNKNOWN_CASE, msg);
		} else {
			item_answer(it, &(struct store_answer){ .json = PQgetvalue(res, 0, 0) });
		}
		return;
	}
	if (ev->type == HL_CMD_SUBSCRIBE) {
		int n = res ? PQntuples(res) : 0;
		struct replay rp = { .n = (size_t)n };
		rp.json = hl_xrealloc(NULL, ((size_t)n + 1) * sizeof *rp.json);
		rp.masked = hl_xrealloc(NULL, ((size_t)n + 1) * sizeof *rp.masked);
		rp.ids = hl_xrealloc(NULL, ((size_t)n + 1) * sizeof *rp.ids);
		for (int i = 0; i < n; i++) {
			rp.ids[i] = store_get_ms(res, i, 0);
			rp.json[i] = PQgetvalue(res, i, 1);
			rp.masked[i] = PQgetvalue(res, i, 2);
		}
		rp.omitted = n > 0 ? store_get_ms(res, 0, 3) - n : 0;
		hl->stats.ack_latency_us_total += mono_us() - r->started_us;
		hl->stats.acks++;
		free(it);
		subscribe_replayed(r, &rp); /* registers the subscriber, then replies */
		free(rp.json), free(rp.masked), free(rp.ids);
		return;
	}
	if (it->out.err != HL_OK) {
		store_item_fail(it, it->out.err, it->out.message);
		return;
	}
	if (ev->type == HL_CMD_ALERT_ACK) {
		/* what the row holds after this batch (SQL_ACK_GET): a second ack reports the first */
		bool at = !no_row && !PQgetisnull(res, 0, 1);
		item_answer(it, &(struct store_answer){ .err = HL_OK, .acked_by = no_row ? NULL : PQgetvalue(res, 0, 0),
		                                         .acked_at = at ? PQgetvalue(res, 0, 1) : NULL });
		return;
	}
	hl->stats.events++;
	if (it->out.duplicate)
		hl->stats.duplicates++;
	/* a retry after a lost connection that finds its own commit is not a duplicate to the sender */
	item_answer(it, &(struct store_answer){ .case_id = it->out.case_id, .order_id = it->out.order_id,
	                                         .duplicate = it->out.duplicate && !it->retried });
}

static void update_timers(void)
{
	struct hl_world *w = store.world;
	struct item *it;
	/* a timer that fired early (or for a stale run) is set again from the clock's state */
	TAILQ_FOREACH(it, &store.batch, entry) {
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

/* The committed alerts as the alert statements return them (by name, checked
 * at start like the load's columns: store_columns.c). */
enum { AR_ID, AR_KIND, AR_ESCALATE_AT, AR_JSON, AR_MASKED, AR_ESCALATED, AR__N };
static const char *const ALERT_ROW_COLS[] = { "id", "kind", "esc", "j", "masked", "escalated" };
_Static_assert(sizeof ALERT_ROW_COLS / sizeof *ALERT_ROW_COLS == AR__N, "a name for every alert row column");
/* a new alert comes back without its text: its place n among the rows sent,
 * and its masked text only when masking changed it (SQL_W_ALERTS_NEW) */
static const char *const ALERT_NEW_COLS[] = { "id", "kind", "esc", "n", "masked" };
_Static_assert(sizeof ALERT_NEW_COLS / sizeof *ALERT_NEW_COLS == AR_ESCALATED, "a name for every new alert column");
struct store_columns store_cols_alerts_new = {
	.what = "SQL_W_ALERTS_NEW", .sql = SQL_W_ALERTS_NEW, .names = ALERT_NEW_COLS, .n = AR_ESCALATED };
struct store_columns store_cols_alerts_upd = {
	.what = "SQL_W_ALERTS_UPD", .sql = SQL_W_ALERTS_UPD, .names = ALERT_ROW_COLS, .n = AR__N };

static void deliver_alerts(int stmt, bool upd)
{
	if (stmt < 0)
		return;
	PGresult *r = store.res[stmt];
	const int *at = upd ? store_cols_alerts_upd.at : store_cols_alerts_new.at;
	char *made = NULL;
	for (int i = 0; i < PQntuples(r); i++, free(made), made = NULL) {
		int64_t id = store_get_ms(r, i, at[AR_ID]);
		const char *kind = PQgetvalue(r, i, at[AR_KIND]);
		const char *json, *masked;
		if (upd) {
			json = PQgetvalue(r, i, at[AR_JSON]), masked = PQgetvalue(r, i, at[AR_MASKED]);
		} else {
			/* AR_JSON is "n" here: the text the write sent, with the id before it */
			const char *text = store_write_alert_text(store_get_ms(r, i, at[AR_JSON]));
			if (!text) {
				log_crit("store: alert %" PRId64 " committed without its text; not pushed", id);
				continue;
			}
			if (asprintf(&made, "{\"id\":%" PRId64 ",%s", id, text) < 0)
				abort();
			json = made;
			masked = PQgetisnull(r, i, at[AR_MASKED]) ? json : PQgetvalue(r, i, at[AR_MASKED]);
		}
		clocks_set(id, TIMER_ESCALATION, 0, store_get_ms(r, i, at[AR_ESCALATE_AT]));
		bool escalated = upd ? store_get_bool(r, i, at[AR_ESCALATED]) : false;
		if (!upd || escalated) {
			alerts_deliver(id, json, masked, kind, escalated);
			if (!upd)
				metrics_alert_committed(json);
			/* webhooks get the masked text (as NOTIFY) unless a URL may see numbers */
			alerts_webhooks_post(json, masked);
			if (escalated)
				hl->stats.alerts_escalated++;
		} else {
			/* acknowledged: wallboards take it off their screens */
			alerts_deliver_ack(id, json, masked);
		}
	}
}

void store_write_done(void)
{
	struct item *it;
	uint64_t us = mono_us() - store.t_batch_us;

	hl->stats.batches++;
	hl->stats.batch_items += store.n_batch;
	if (store.n_batch > hl->stats.batch_max_seen)
		hl->stats.batch_max_seen = store.n_batch;
	hl->stats.commit_us_total += us;
	metrics_observe(HIST_COMMIT, (double)us / 1e6);
	if (us > hl->stats.commit_us_max)
		hl->stats.commit_us_max = us;
	store_due_done(us);
	/* the running mean of an uncapped batch of requests: how far ahead a due
	 * burst shrinks them (take_batch) */
	if (store.batch_from_queue)
		store.queue_batch_us = store.queue_batch_us ? (store.queue_batch_us * 7 + us) / 8 : us;

	update_timers();
	if (store.n_stmts > 0) {
		deliver_alerts(store.w_alert_ins, false);
		deliver_alerts(store.w_alert_upd, true);
		alerts_batch_done(); /* one log line for both: raised; escalated */
	}
	store_write_forget();
	/* answer in batch order; subscribe replies last registered after the pushes above */
	while ((it = TAILQ_FIRST(&store.batch))) {
		TAILQ_REMOVE(&store.batch, it, entry);
		if (it->kind == ITEM_REQ)
			reply_item(it);
		else
			free(it);
	}
	store.n_batch = 0;
	store_pipeline_reset();
	hl_world_reset(store.world);
	store.state = S_IDLE;
	store_kick();
}

/* ------------------------------------------------------ the event loop */

static void store_start_batch(void)
{
	struct item *it;
	bool world = false;

	take_batch();
	if (store.n_batch == 0)
		return;
	txns_started++;
	store.t_batch_us = mono_us();
	TAILQ_FOREACH(it, &store.batch, entry)
		world |= store_needs_world(it);
	if (world) {
		store_start_load();
	} else {
		hl_world_reset(store.world);
		store_start_write();
	}
}

void store_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	if (store.state == S_IDLE && store.n_queue > 0) {
		store_start_batch();
	} else if (store.state == S_IDLE && webhooks_done_waiting()) {
		/* nothing queued: a transaction of its own deletes the delivered webhooks' rows */
		txns_started++;
		store.t_batch_us = mono_us();
		hl_world_reset(store.world);
		store_start_write();
	}
}

struct event *store_ev_kick;

/* Start a batch soon (deferred so that a burst of lines read in one callback
 * lands in one batch, and so completions never recurse into new batches). */
void store_kick(void)
{
	if (store.state == S_IDLE && (store.n_queue > 0 || webhooks_done_waiting()) && !event_pending(store_ev_kick, EV_TIMEOUT, NULL))
		event_active(store_ev_kick, EV_TIMEOUT, 0);
}

/* Every result of the open load is in (no Sync yet: the transaction goes on):
 * fill the world, run the rules, send the write behind the load. */
void store_on_loaded(PGresult *const *res, int n, const char *error)
{
	(void)res, (void)n;
	if (error) {
		/* end the aborted transaction; its Sync result then fails the batch */
		store_pipeline_sync(store_on_committed);
		return;
	}
	/* due clocks that passed a request touching their case go back in line */
	store_due_settle();
	store_fill_world();
	store_apply_rules();
	store_start_write();
}

/* The write's Sync: COMMIT (or the rollback of a batch that failed). */
void store_on_committed(PGresult *const *res, int n, const char *error)
{
	(void)res, (void)n;
	if (error) {
		/* the load or the write failed: the batch is bisected (store_retry.c) */
		char *why = hl_xstrdup(error);
		store_batch_failed(why);
		free(why);
		return;
	}
	store_refusals_over();
	store_write_done();
}

void store_webhooks_done(void) { store_kick(); }
