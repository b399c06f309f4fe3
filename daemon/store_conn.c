/*
 * store_conn.c - the store's connection: connect, start up, prepare, reconnect
 * (the pipeline that runs on it: store_pipeline.c).
 *
 * One nonblocking libpq connection (the event loop is never blocked): it is
 * polled while connecting, then the start-up steps run (schema version,
 * clocks and escalations to re-arm, webhooks, report time zone), then every
 * statement is prepared once (the list: store_stmt.c); a lost connection puts the batch back and
 * reconnects with backoff, and requests waiting longer than
 * UNAVAILABLE_AFTER_MS are answered `unavailable`.  Also store_init/free.
 * Separate from store.c because the connection's life is a concern of its
 * own, apart from what the batches do with it.
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

static void on_socket(evutil_socket_t fd, short what, void *arg);
static void startup_next(void);
static void startup_finish(void);
static void on_prepared(PGresult *const *res, int n, const char *error);

/* --------------------------------------------- connection and start-up */

/* A request whose batch was cut off during its write (the COMMIT went with
 * it) may or may not be stored, and nobody can tell until the database is
 * back.  `unavailable` promises that nothing was stored, so it is not given
 * that answer: it waits in the queue, is retried after the reconnect and is
 * answered then with what really happened (its id makes the retry harmless;
 * store.c answers the retry of a batch that did commit `ok`, not
 * `duplicate`).  Its connection's later answers wait behind it, in order.
 * Reads can be told the truth at once: they stored nothing.  What writes is
 * what needs the world loaded (events, alert.ack: store_needs_world). */
static bool item_in_doubt(const struct item *it)
{
	return it->retried && store_needs_world(it);
}

static void giveup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct item *it, *tmp;
	size_t held = 0;
	(void)fd, (void)what, (void)arg;
	if (store.state >= S_STARTUP)
		return; /* connected: loading the clocks may take a few seconds */
	store.gave_up = true;
	/* requests waiting for the database get `unavailable`; timer items and
	 * requests in doubt stay queued */
	for (it = TAILQ_FIRST(&store.queue); it; it = tmp) {
		tmp = TAILQ_NEXT(it, entry);
		if (it->kind != ITEM_REQ)
			continue;
		if (item_in_doubt(it)) {
			held++;
			continue;
		}
		TAILQ_REMOVE(&store.queue, it, entry);
		store.n_queue--;
		store_item_fail(it, HL_E_UNAVAILABLE, "database unavailable; nothing was stored; retry later");
	}
	hl->stats.in_doubt_held += held;
	if (held)
		log_warn("store: %zu request(s) cut off during their commit wait for the database: "
		         "whether they were stored is known only once it is back",
		         held);
	store_maybe_resume_input();
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
	store.backoff_ms = store.backoff_ms ? store.backoff_ms * 2 : 250;
	if (store.backoff_ms > cap)
		store.backoff_ms = cap;
	struct timeval tv = { store.backoff_ms / 1000, (store.backoff_ms % 1000) * 1000 };
	evtimer_add(store.ev_retry, &tv);
	if (!event_pending(store.ev_giveup, EV_TIMEOUT, NULL) && !store.gave_up) {
		struct timeval g = { UNAVAILABLE_AFTER_MS / 1000, (UNAVAILABLE_AFTER_MS % 1000) * 1000 };
		evtimer_add(store.ev_giveup, &g);
	}
}

static void drop_conn(void)
{
	if (store.ev_read) {
		event_free(store.ev_read);
		store.ev_read = NULL;
	}
	if (store.ev_write) {
		event_free(store.ev_write);
		store.ev_write = NULL;
	}
	if (store.pg) {
		PQfinish(store.pg);
		store.pg = NULL;
	}
	store.sock = -1;
	/* a COPY cut off is not resumed on the next connection (PQgetCopyData
	 * there fails with "no COPY in progress": a reconnect loop) */
	store.copy_mode = false;
}

void store_on_lost(const char *why)
{
	struct item *it;
	char msg[256];
	snprintf(msg, sizeof msg, "%s", why ? why : "connection lost");
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	log_server_error(3, "store: database connection lost", msg);
	hl->stats.db_failures++;
	/* the batch in flight goes back to the head of the queue: its ids make a retry safe
	 * (due clocks in it are checked again against what they pass: store_due.c) */
	store_due_forget();
	/* A write cut off may have committed (the server died after COMMIT, a
	 * synchronous standby's wait was cancelled by a terminate): its retry
	 * then finds its ids stored and answers them without running the rules
	 * again, so the clocks it armed, the alerts it raised (their escalation
	 * timers) and their webhook deliveries would be known to PostgreSQL
	 * only, never timed nor sent until a restart.  The reconnect reads them
	 * again, as a start does (startup_next from ST_CLOCKS). */
	if (store.state == S_WRITE)
		store.resync = true;
	while ((it = TAILQ_LAST(&store.batch, itemq))) {
		TAILQ_REMOVE(&store.batch, it, entry);
		it->retried = store.state == S_WRITE || it->retried;
		if (it->kind == ITEM_FIRE && it->group == 0) {
			/* a due clock goes back to its lane: ahead of the queue's
			 * head it would run before older events of its case unchecked */
			TAILQ_INSERT_HEAD(&store.due, it, entry);
			store.n_due++;
		} else {
			TAILQ_INSERT_HEAD(&store.queue, it, entry);
		}
		store.n_queue++;
	}
	store.n_batch = 0;
	store_pipeline_reset();
	hl_world_reset(store.world);
	store.load_open = false;
	drop_conn();
	store.state = S_DOWN;
	schedule_reconnect();
}

static void watch_socket(void)
{
	int sock = PQsocket(store.pg);
	if (sock == store.sock && store.ev_read)
		return;
	if (store.ev_read)
		event_free(store.ev_read);
	if (store.ev_write)
		event_free(store.ev_write);
	store.sock = sock;
	store.ev_read = event_new(hl->base, sock, EV_READ | EV_PERSIST, on_socket, NULL);
	store.ev_write = event_new(hl->base, sock, EV_WRITE, on_socket, NULL);
}

/* the failed attempts while the database is down, logged once a minute (log.c) */
static struct log_retry connect_log;

static void connect_poll(void)
{
	PostgresPollingStatusType st = PQconnectPoll(store.pg);
	watch_socket();
	switch (st) {
	case PGRES_POLLING_READING:
		event_add(store.ev_read, NULL);
		event_del(store.ev_write);
		return;
	case PGRES_POLLING_WRITING:
		event_del(store.ev_read);
		event_add(store.ev_write, NULL);
		return;
	case PGRES_POLLING_FAILED:
		log_retry_failed(&connect_log, "store: cannot connect to the database", PQerrorMessage(store.pg));
		hl->stats.db_failures++;
		drop_conn();
		store.state = S_DOWN;
		schedule_reconnect();
		return;
	default:
		break;
	}
	/* connected */
	event_add(store.ev_read, NULL);
	event_del(store.ev_write);
	PQsetnonblocking(store.pg, 1);
	hl->stats.db_connects++;
	log_retry_ok(&connect_log);
	log_info("store: connected to database %s on %s as %s", PQdb(store.pg), PQhost(store.pg), PQuser(store.pg));
	store.state = S_STARTUP;
	store.step = !store.ever_ready ? ST_VERSION : store.resync ? ST_CLOCKS : ST_DONE;
	startup_next();
}

void store_connect(void)
{
	const char *keys[] = { "dbname", "fallback_application_name", NULL };
	const char *vals[] = { hl->cfg->database.conninfo, "hotlined", NULL };
	store.pg = PQconnectStartParams(keys, vals, 1);
	if (!store.pg || PQstatus(store.pg) == CONNECTION_BAD) {
		log_retry_failed(&connect_log, "store: cannot start connecting", store.pg ? PQerrorMessage(store.pg) : "out of memory");
		drop_conn();
		store.state = S_DOWN;
		schedule_reconnect();
		return;
	}
	PQsetNoticeProcessor(store.pg, log_pg_notice, (void *)"store: the server says");
	store.state = S_CONNECTING;
	store.sock = -1;
	connect_poll();
}

/* Start-up, before pipeline mode: check the schema, load pending clocks (COPY)
 * and pending escalations into the timers. */
static void startup_send(const char *sql)
{
	if (!PQsendQuery(store.pg, sql)) {
		store_on_lost(PQerrorMessage(store.pg));
		return;
	}
	int f = PQflush(store.pg);
	if (f < 0)
		store_on_lost(PQerrorMessage(store.pg));
	else if (f == 1)
		event_add(store.ev_write, NULL);
}

static void startup_next(void)
{
	switch (store.step) {
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
		/* reads alerts_open, filtered (sql/032 dropped alerts_escalate) */
		startup_send("SELECT id, hotline.ms(escalate_at) FROM hotline.alerts"
		             " WHERE acked_at IS NULL AND escalate_at IS NOT NULL");
		return;
	case ST_WEBHOOKS:
		startup_send(SQL_WEBHOOKS_PENDING);
		return;
	case ST_REPORT_TZ: { /* the figures' local days follow report.timezone (sql/017) */
		const char *p[] = { hl->cfg->report.timezone };
		if (!PQsendQueryParams(store.pg, "SELECT hotline.set_report_timezone($1)", 1, NULL, p, NULL, NULL, 0)) {
			store_on_lost(PQerrorMessage(store.pg));
			return;
		}
		if (PQflush(store.pg) == 1)
			event_add(store.ev_write, NULL);
		return;
	}
	case ST_DONE:
		if (!PQenterPipelineMode(store.pg)) {
			store_on_lost(PQerrorMessage(store.pg));
			return;
		}
		/* prepared statements live as long as the session: again after each
		 * reconnect; then the load statements are described, so that their
		 * columns are found by name once (store_columns.c) */
		store_pipeline_begin(store_stmt_count() + store_columns_count());
		for (int i = 0; i < store_stmt_count(); i++) {
			char name[16];
			snprintf(name, sizeof name, "hl_%d", i);
			char *text = store_columns_prepare_text(store_stmt_sql(i));
			if (!PQsendPrepare(store.pg, name, text, 0, NULL) && !store.error)
				store.error = hl_xstrdup(PQerrorMessage(store.pg));
			free(text);
			store.n_stmts++;
		}
		for (int i = 0; i < store_columns_count(); i++) {
			char name[16];
			snprintf(name, sizeof name, "hl_%d", store_stmt_index(store_columns_sql(i)));
			if (!PQsendDescribePrepared(store.pg, name) && !store.error)
				store.error = hl_xstrdup(PQerrorMessage(store.pg));
			store.n_stmts++;
		}
		store.state = S_PREPARE;
		store_pipeline_sync(on_prepared);
		return;
	}
}

/* Every statement is prepared and the load statements described: find their
 * columns by name, or stop here, at start, naming the column. */
static void on_prepared(PGresult *const *res, int n, const char *error)
{
	char why[200];
	(void)n;
	if (error) {
		log_server_error(2, "store: cannot prepare statements", error);
		store_pipeline_reset();
		daemon_fatal("cannot prepare statements");
		return;
	}
	for (int i = 0; i < store_columns_count(); i++) {
		if (!store_columns_resolve(i, res[store_stmt_count() + i], why, sizeof why)) {
			log_crit("store: %s; this hotlined does not match its own SQL", why);
			store_pipeline_reset();
			daemon_fatal("a load statement lacks a column");
			return;
		}
	}
	store_pipeline_reset();
	startup_finish();
}

static void startup_finish(void)
{
	if (!store.ever_ready) {
		clocks_rearm();
		log_info("store: ready; %zu pending clocks, %zu escalations scheduled",
		         clocks_pending(-1) - clocks_pending(TIMER_ESCALATION), clocks_pending(TIMER_ESCALATION));
	} else if (store.resync) {
		log_notice("store: database connection restored; a write was cut off, so its clocks, escalations and "
		           "webhook deliveries were read again (%zu timers pending)", clocks_pending(-1));
	} else {
		log_notice("store: database connection restored");
	}
	store.resync = false;
	store.ever_ready = true;
	store.state = S_IDLE;
	store.backoff_ms = 0;
	store.gave_up = false;
	evtimer_del(store.ev_giveup);
	daemon_ready();
	store_kick();
}

static void startup_copy(void)
{
	char *buf;
	int n;
	while ((n = PQgetCopyData(store.pg, &buf, 1)) > 0) {
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
		store_on_lost(PQerrorMessage(store.pg));
		return;
	}
	if (n == -1)
		store.copy_mode = false; /* the COPY's command result follows */
}

static void startup_results(void)
{
	if (store.copy_mode) {
		startup_copy();
		if (store.copy_mode || store.state != S_STARTUP)
			return;
	}
	for (;;) {
		if (PQisBusy(store.pg))
			return;
		PGresult *r = PQgetResult(store.pg);
		if (!r)
			break;
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_COPY_OUT) {
			PQclear(r);
			store.copy_mode = true;
			startup_copy();
			if (store.copy_mode || store.state != S_STARTUP)
				return;
			continue;
		}
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			const char *m = PQresultErrorMessage(r);
			if (store.step == ST_VERSION) {
				char what[600];
				/* the daemon's own role may not create it (sql/002): say who may */
				snprintf(what, sizeof what, "store: the database has no hotline schema (run, as the database's owner: "
				         "hotlined -c %s --migrate --conninfo 'user=OWNER ...')", hl->config_path);
				log_server_error(2, what, m);
				PQclear(r);
				daemon_fatal("schema missing");
				return;
			}
			if (store.step == ST_REPORT_TZ) { /* figures in another zone are no reason not to run */
				log_server_error(4, "store: cannot set the report time zone", m);
				PQclear(r);
				continue;
			}
			log_server_error(3, "store: start-up query failed", m);
			PQclear(r);
			store_on_lost(m);
			return;
		}
		if (store.step == ST_VERSION) {
			int v = atoi(PQgetvalue(r, 0, 0));
			if (v < migrate_latest()) {
				log_crit("store: the database schema is at version %d, this hotlined needs %d; run, as the schema's owner: "
				         "hotlined -c %s --migrate --conninfo 'user=OWNER ...'", v, migrate_latest(), hl->config_path);
				PQclear(r);
				daemon_fatal("schema too old");
				return;
			}
			if (v > migrate_latest()) /* accepted (a rolling upgrade), never silently */
				log_warn("store: the database schema is at version %d, newer than this hotlined knows (%d);"
				         " upgrade this daemon once the others run the new release", v, migrate_latest());
		} else if (store.step == ST_ESCALATIONS) {
			for (int i = 0; i < PQntuples(r); i++)
				clocks_set(store_get_ms(r, i, 0), TIMER_ESCALATION, 0, store_get_ms(r, i, 1));
		} else if (store.step == ST_WEBHOOKS) {
			for (int i = 0; i < PQntuples(r); i++)
				webhooks_resume(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
		} else if (store.step == ST_REPORT_TZ && PQgetvalue(r, 0, 0)[0] != 't') {
			log_warn("store: report.timezone %s not set in the database (see docs/admin.md)",
			            hl->cfg->report.timezone);
		}
		PQclear(r);
	}
	store.step++;
	if (store.resync && store.step == ST_REPORT_TZ)
		store.step = ST_DONE; /* set when the daemon started; nothing a cut-off write changed */
	startup_next();
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)arg;
	if (store.state == S_CONNECTING) {
		connect_poll();
		return;
	}
	if (!store.pg)
		return;
	if (what & EV_WRITE) {
		int f = PQflush(store.pg);
		if (f < 0) {
			store_on_lost(PQerrorMessage(store.pg));
			return;
		}
		if (f == 1)
			event_add(store.ev_write, NULL);
	}
	if (what & EV_READ) {
		if (!PQconsumeInput(store.pg)) {
			store_on_lost(PQerrorMessage(store.pg));
			return;
		}
		/* a pipelined write may still be waiting to be flushed */
		if (PQflush(store.pg) == 1)
			event_add(store.ev_write, NULL);
	}
	if (PQstatus(store.pg) == CONNECTION_BAD) {
		store_on_lost(PQerrorMessage(store.pg));
		return;
	}
	if (store.state == S_STARTUP)
		startup_results();
	else if (store.state == S_PREPARE || store.state == S_LOAD || store.state == S_WRITE)
		store_pipeline_results();
	else {
		/* idle: drain notices / unexpected results */
		PGresult *r;
		while (!PQisBusy(store.pg) && (r = PQgetResult(store.pg)))
			PQclear(r);
	}
}

int store_init(store_clock_notes_fn clock_notes)
{
	store.clock_notes = clock_notes;
	TAILQ_INIT(&store.queue);
	TAILQ_INIT(&store.due);
	TAILQ_INIT(&store.batch);
	store.sock = -1;
	store.world = hl_world_new();
	store_stmt_init();
	store.ev_retry = evtimer_new(hl->base, retry_cb, NULL);
	store.ev_giveup = evtimer_new(hl->base, giveup_cb, NULL);
	store_ev_kick = event_new(hl->base, -1, 0, store_kick_cb, NULL);
	if (!store.world || !store.ev_retry || !store.ev_giveup || !store_ev_kick)
		return -1;
	struct timeval g = { UNAVAILABLE_AFTER_MS / 1000, (UNAVAILABLE_AFTER_MS % 1000) * 1000 };
	evtimer_add(store.ev_giveup, &g);
	store_connect();
	return 0;
}

void store_free(void)
{
	struct item *it;
	while ((it = TAILQ_FIRST(&store.batch))) {
		TAILQ_REMOVE(&store.batch, it, entry);
		if (it->kind == ITEM_REQ)
			store_item_fail(it, HL_E_UNAVAILABLE, "shutting down; retry");
		else
			free(it);
	}
	while ((it = TAILQ_FIRST(&store.queue))) {
		TAILQ_REMOVE(&store.queue, it, entry);
		if (it->kind == ITEM_REQ)
			store_item_fail(it, HL_E_UNAVAILABLE, "shutting down; retry");
		else
			free(it);
	}
	store_due_free();
	store_stmt_free();
	store.n_queue = store.n_batch = 0;
	store_pipeline_reset();
	drop_conn();
	PQclear(store_empty_result);
	store_empty_result = NULL;
	if (store.world)
		hl_world_free(store.world);
	store.world = NULL;
	if (store.ev_retry)
		event_free(store.ev_retry);
	if (store.ev_giveup)
		event_free(store.ev_giveup);
	if (store_ev_kick)
		event_free(store_ev_kick);
	store.ev_retry = store.ev_giveup = store_ev_kick = NULL;
}

bool store_connected(void) { return store.pg && store.state >= S_IDLE; }
bool store_unavailable(void) { return store.gave_up; }

int store_backend_pid(void) { return store.pg && store.state >= S_STARTUP ? PQbackendPID(store.pg) : 0; }
