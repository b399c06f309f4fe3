/*
 * daemon.h - the imperative shell: event loop, sockets, database pipeline, timers.
 *
 * One process, one thread, one libevent base.  Everything that waits (sockets,
 * PostgreSQL, timers) is a libevent callback; nothing blocks the loop.  The
 * path of a call event:
 *
 *   listener.c  accepts a connection, hands it its TLS context -> conn.c
 *   conn.c      frames a line, parses it        -> protocol.c (pure)
 *               queues a request in order       -> store.c
 *   store.c     batches queued requests (the batch state machine);
 *               store_load.c loads what they touch (keys: batch_keys.c, pure;
 *               rows by column name: store_columns.c) and applies the rules
 *                                                -> rules.c (pure)
 *               store_write.c writes the result; the pipeline's Sync callback
 *               (store_conn.c) comes after COMMIT, and the store hands each
 *               request a plain outcome         -> conn.c renders and replies in order
 *               and new deadlines/alerts         -> clocks.c, alerts.c
 *   clocks.c    one timer for the earliest deadline; when it passes, calls the
 *               due callback main.c gave it     -> store.c -> rules.c -> alert row
 *   alerts.c    pushes committed alerts to subscribers (subscribers.c)
 *   webhooks.c  POSTs committed alerts to the webhook URLs
 *
 * Dependencies point down: the only two-way seam is requests and answers
 * between conn.c (store_submit) and store.c (conn_answer).
 */
#ifndef HL_DAEMON_H
#define HL_DAEMON_H

#include <sys/queue.h>
#include <sys/types.h>

#include "hotlined.h"
#include "config.h"
#include "rules.h" /* hl_xrealloc, hl_xstrdup: the allocation policy below */

/*
 * Out of memory: one policy for the whole daemon, core and shell alike.
 * An allocation that fails aborts the process (hl_xrealloc, hl_xstrdup and
 * calloc/malloc checked with abort()), as Redis and most event-loop daemons
 * do: a half-built batch, reply or timer is worse than a restart, because
 * systemd restarts hotlined within a second and nothing acknowledged is
 * lost (an acknowledgement follows COMMIT; an unacknowledged event is
 * resent by its sender and its id makes the resend harmless).  No shell
 * file answers a request with an error for want of memory, and none goes
 * on with a NULL it could not get.  The one exception is a failure that
 * libevent, libpq or OpenSSL report for their own objects (a connection
 * that cannot be set up): that is handled where it is reported, by closing
 * that one connection, because it is not ours to abort on.
 */

struct event_base;
struct bufferevent;
struct evbuffer;
struct json_object;
struct replay;
struct hl_world;

/* ---------------------------------------------------------------- log.c */

void log_init(int level);
void log_set_level(int level);
void hl_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_crit(...)   hl_log(2, __VA_ARGS__)
#define log_err(...)    hl_log(3, __VA_ARGS__)
#define log_warn(...)   hl_log(4, __VA_ARGS__)
#define log_notice(...) hl_log(5, __VA_ARGS__)
#define log_info(...)   hl_log(6, __VA_ARGS__)
#define log_debug(...)  hl_log(7, __VA_ARGS__)
/* "what: <server_msg>" with every phone-number-like digit run masked: for any
 * text that comes from PostgreSQL (error messages, details, connection errors). */
void log_server_error(int prio, const char *what, const char *server_msg);
/* A PQnoticeProcessor: the server's WARNING/NOTICE masked like its errors;
 * arg is a const char * naming the session ("store", "cluster"). */
void log_pg_notice(void *what, const char *message);
/* A connection's failed attempts while it retries: the first is logged at
 * err; the same failure again within LOG_RETRY_QUIET_US goes to debug and is
 * counted, and a summary line (at err) says how long and how often it went
 * on, once a minute and when the failure changes.  log_retry_ok ends a run
 * of failures (the caller logs its own "connected" line). */
struct log_retry {
	char last[160];       /* the last failure logged, masked */
	unsigned repeats;     /* the same failure since it was logged */
	uint64_t first_us;    /* when this run of failures began (mono_us) */
	uint64_t logged_us;   /* when a line was last logged at err */
};
void log_retry_failed(struct log_retry *r, const char *what, const char *server_msg);
void log_retry_ok(struct log_retry *r);

/* --------------------------------------------------------------- conn.c */

struct conn;

/* One request from a connection, from parse to reply. */
struct req {
	TAILQ_ENTRY(req) entry;   /* in its connection's in-order queue */
	struct conn *conn;        /* NULL once the connection is gone */
	struct hl_event ev;
	char *reply;              /* set when done; written when it reaches the head */
	bool done;
	bool close_after;         /* close the connection once this reply is written */
	bool masked;              /* a viewer or supervisor client: case.get with confidential numbers masked */
	uint64_t started_us;      /* monotonic, for latency figures */
	/* HTTP requests (conn == NULL): the store's answer goes to these instead of
	 * a connection (conn_complete calls on_reply; subscribe calls on_replay) */
	void (*on_reply)(struct req *r, char *reply);
	void (*on_replay)(struct req *r, const struct replay *rp);
	void *owner;
	/* an HTTP read or alert stream whose client hung up: the store drops it
	 * from its queue (orphaned_read) and hands it back with no answer */
	bool gone;
	/* a read for the HTTP API: one statement whose first column of the first
	 * row (JSON text) is the reply; "null" when there is no row */
	const char *read_sql;
	const char *read_params[3];
	int read_nparams;
};

/* tls: the listener's SSL_CTX * when this socket speaks TLS, else NULL */
void conn_accept(int fd, int is_unix, const char *peer, void *tls);
/* What the store hands back for a request: a plain outcome, rendered into the
 * reply by conn_answer (conn.c), where the request was parsed. */
struct store_answer {
	enum hl_err err;          /* HL_OK, or the error to answer with ... */
	const char *message;      /* ... and its message */
	int64_t case_id;          /* an event: the case it touched */
	const char *order_id;     /* an order event: the order ("" or NULL otherwise) */
	bool duplicate;           /* an event already stored: no second effect */
	const char *json;         /* case.get: the case; an HTTP read: the row (NULL = no row) */
	const char *acked_by;     /* alert.ack: the stored acknowledgement (the first one) ... */
	const char *acked_at;     /* ... and its time (ISO 8601); NULL when unknown */
};
void conn_answer(struct req *r, const struct store_answer *a);
/* The store finished a request: attach the reply and write what is in order. */
void conn_complete(struct req *r, char *reply);
/* Make a connection a subscriber after its subscribe reply was queued. */
void conn_set_subscriber(struct conn *c);
/* The store answered a socket subscribe: reply, replay and register
 * (HTTP readers have r->on_replay: sse.c).  struct replay: subscribers.c. */
struct replay;
void subscribe_replayed(struct req *r, const struct replay *rp);
/* Queue an unsolicited line (alert push); drops the connection if it is too slow. */
void conn_push(struct conn *c, const char *line, size_t len);
void conn_pause_all(bool paused); /* store backlog full: stop (or resume) reading sockets */
void conn_shutdown_all(void); /* stop reading; close each connection once its replies are out */
size_t conn_count(void);
bool conn_all_drained(void);
void conn_close_all(void);

/* ----------------------------------------------------------- listener.c */

int listener_open(const struct hl_config *cfg);
void listener_close(void);
void *listener_tls_ctx(void); /* SSL_CTX * when TCP speaks TLS, else NULL (for http.c) */
struct evconnlistener;
/* Pause this (evhttp's) listener too when accept() fails, with the same back-off. */
void listener_guard(struct evconnlistener *l);

/* -------------------------------------------------------------- store.c */

enum item_kind { ITEM_REQ, ITEM_FIRE, ITEM_ESCALATE };

/* With several daemons, NOTIFY payloads for a batch's clocks in slots another
 * daemon owns (cluster_clock_notes), or NULL: given by main.c, because
 * cluster.c sits above the store (it reads the store's session). */
typedef struct json_object *(*store_clock_notes_fn)(const struct hl_world *w);
int store_init(store_clock_notes_fn clock_notes);
void store_free(void);
/* Queue a request (event, case.get, subscribe, alert.ack) for the next batch. */
void store_submit(struct req *r);
void store_fire(int64_t case_id, enum hl_clock_kind kind, int32_t seq);
void store_escalate(int64_t alert_id);
bool store_connected(void);
bool store_unavailable(void); /* down longer than requests may wait: they are answered `unavailable` */
bool store_idle(void);       /* nothing queued or in flight */
void store_webhooks_done(void); /* delivered webhooks' rows to delete: a transaction soon */
size_t store_queued(void);
int store_backend_pid(void); /* the store session's server pid (0 when down): its NOTIFYs are our own */
uint64_t store_txn_mark(void);        /* the store's transaction in flight now (or its last one) */
bool store_txn_passed(uint64_t mark); /* that transaction has committed or failed */

/* ------------------------------------------------------------- clocks.c */

enum { TIMER_ESCALATION = HL_CK__COUNT }; /* timer kinds: 0..4 clocks, 5 escalation */
/* work-order clocks (orders.h): timer id = case_id * HL_ORDER_KEY_MUL + order number */
enum { TIMER_ORDER_SIGN = HL_CK__COUNT + 1, TIMER_ORDER_REPLY = HL_CK__COUNT + 2, TIMER__COUNT };
/* The id whose slot owns a timer (cluster.c): a case's clocks and its orders'
 * clocks go together, so one daemon runs everything about a case. */
static inline int64_t timer_owner_id(int64_t id, int kind)
{
	return kind == TIMER_ORDER_SIGN || kind == TIMER_ORDER_REPLY ? id / 1024 /* HL_ORDER_KEY_MUL */ : id;
}

/* An entry whose time has come (already removed): id, its kind (TIMER_*), its run. */
typedef void (*clocks_due_fn)(int64_t id, int kind, int32_t seq);
int clocks_init(clocks_due_fn due);
void clocks_free(void);
/* Set or replace the timer of (id, kind); at == 0 removes it. */
void clocks_set(int64_t id, int kind, int32_t seq, hl_ms at);
size_t clocks_pending(int kind); /* kind -1: all */
void clocks_each(void (*fn)(int64_t id, int kind, void *arg), void *arg); /* every timer in memory */
size_t clocks_memory(void);      /* bytes held by the timer structures */
size_t clocks_due_by(hl_ms at, size_t cap); /* clocks due at or before at, counted up to cap (<= 64) */
void clocks_rearm(void);         /* recompute the libevent timer (after a bulk load) */
void clocks_stop(void);

/* ------------------------------------------------------- store_orders.c */

struct hl_world;
struct pg_result;
/* The work-order part of a batch (store.c calls these; see store_orders.c). */
void store_orders_fill(struct hl_world *w, const struct pg_result *orders);
void store_orders_fill_merges(struct hl_world *w, const struct pg_result *cases);
struct json_object *store_orders_rows(struct hl_world *w);
struct json_object *store_merge_rows(struct hl_world *w);
struct json_object *store_order_urge_stops(struct hl_world *w);
struct json_object *store_order_survey_rows(struct hl_world *w);
void store_orders_timers(struct hl_world *w);
/* a fired order timer (kind TIMER_ORDER_*) whose order did not change: set again */
void store_orders_refire(struct hl_world *w, int64_t timer_id, int kind);
void store_hotspots_fill(struct hl_world *w, const struct pg_result *cases, const struct pg_result *keys);
struct json_object *store_hotspot_case_rows(struct hl_world *w);
struct json_object *store_hotspot_rows(struct hl_world *w);

/* ------------------------------------------------------------- alerts.c */

void alerts_free(void);
/* A committed alert (JSON text from hotline.alert_json, and the same with a
 * confidential caller masked, hotline.notify_payload) to deliver. */
void alerts_deliver(int64_t id, const char *alert_json, const char *masked_json, const char *kind, bool escalated);
/* An alert the store's batch acknowledged: wallboards take it down. */
void alerts_deliver_ack(int64_t id, const char *alert_json, const char *masked_json);
/* The store's batch has delivered its alerts: one log line for them (store.c, per batch). */
void alerts_batch_done(void);
/* The level in an alert's JSON text (hotline.alert_json); 1 when absent. */
int alerts_level_of(const char *alert_json);

/* -------------------------------------------------------- subscribers.c */

/* One list for every alert subscriber: socket `subscribe` and SSE clients. */
struct subscriber;
enum sub_event { SUB_ALERT, SUB_ACK }; /* a new or escalated alert; an acknowledgement */
typedef void (*subscriber_fn)(void *owner, enum sub_event what, int64_t id, const char *alert_json,
                              const char *masked_json);
struct subscriber *subscribers_add(subscriber_fn fn, void *owner);
void subscribers_remove(struct subscriber *s); /* safe from inside its own callback */
void subscribers_deliver(enum sub_event what, int64_t id, const char *alert_json, const char *masked_json);
size_t subscribers_count(void);
void subscribers_free(void);
/* A new subscriber was sent these replayed alerts (rp from `first` on): the
 * ones not yet pushed on this daemon are not pushed to it again. */
struct replay;
void subscribers_replayed(struct subscriber *s, const struct replay *rp, size_t first);
/* Every (alert id, level) replayed to a subscriber and not pushed since. */
void subscribers_replayed_each(void (*fn)(void *arg, int64_t id, int level), void *arg);


/* The replay of a subscribe: at most alerts.replay_max of the newest open
 * alerts with id > since, ascending; `omitted` counts the older open ones. */
struct replay {
	const char **json, **masked;
	int64_t *ids;
	size_t n;
	int64_t omitted;
};
/* {"push":"replay","sent":N,"omitted":K[,"first_id":F]}\n (malloc'd) */
char *subscribe_replay_line(size_t sent, int64_t omitted, int64_t first_id);
/* An alert another daemon committed (JSON from hotline.alert_json, and masked
 * as hotline.notify_payload): push it to our subscribers only; its raiser
 * counted it and posted its webhooks. */
void alerts_deliver_remote(int64_t id, const char *alert_json, const char *masked_json);

/* ----------------------------------------------------------- webhooks.c */

/* Webhooks: the DNS resolver (at start-up; reads resolv.conf), and POST an alert to
 * every URL: masked_json (a confidential caller's number masked) unless the URL
 * has mask_confidential = false. */
/* `done` runs when a delivery ends (delivered or given up): main.c points it
 * at store_webhooks_done, so this file never calls up into the store. */
void alerts_webhooks_init(void (*done)(void));
void alerts_webhooks_post(const char *alert_json, const char *masked_json);
void webhooks_free(void);
/* Durable deliveries (sql/019): the URLs as a JSON array (the alert statements'
 * $2), the rows to delete (delivered, given up or dropped) for the next batch,
 * and a delivery left undone before a restart. */
const char *webhooks_urls_json(void);
struct json_object *webhooks_done_rows(void);
bool webhooks_done_waiting(void);
/* No done row left to delete, and no POST on its way or the stop has waited
 * long enough for them (stopping_for ms): a graceful stop may end. */
bool webhooks_settled(hl_ms stopping_for);
void webhooks_resume(const char *url, const char *alert_json, const char *masked_json);

/* ------------------------------------------------------------ session.c */

struct pg_result;
/* The owner of the side session (cluster.c): its callbacks. */
struct session_ops {
	const char *who;                                 /* log prefix */
	void (*ready)(void);                             /* connected: queue the set-up */
	void (*result)(int tag, struct pg_result *r);    /* rows of a query (tag from session_query) */
	void (*failed)(int tag);                         /* a query failed (logged) */
	void (*notify)(const char *channel, const char *payload, int be_pid);
	void (*lost)(const char *why);                   /* the session is gone; it reconnects by itself */
};
int session_start(const char *const *keys, const char *const *vals, int backoff_cap_ms,
                  const struct session_ops *ops);
/* Queue a query with up to two text parameters (NULL = fewer). */
void session_query(int tag, const char *sql, const char *p1, const char *p2);
/* The same; with single_rows, result() gets one row at a time, then a last,
 * empty result (PGRES_TUPLES_OK) at the end. */
void session_query_rows(int tag, const char *sql, const char *p1, const char *p2, bool single_rows);
/* The same with a third parameter (p2 and p3 non-NULL when p3 is given). */
void session_query3(int tag, const char *sql, const char *p1, const char *p2, const char *p3, bool single_rows);
bool session_up(void);
void session_stop(void);   /* close now, no reconnect */
void session_resume(void); /* connect again after session_stop */
void session_free(void);

/* ------------------------------------------------------------ cluster.c */

int cluster_init(void);
void cluster_stop(void);     /* graceful stop: hand the slots to the peers now */
void cluster_free(void);
/* Does this daemon run the timers of id (a case id, an alert id...)? */
bool cluster_owns(int64_t id);
size_t cluster_slots_owned(void);
/* NOTIFY payloads for the batch's clocks in slots another daemon owns, or NULL. */
struct json_object *cluster_clock_notes(const struct hl_world *w); /* cluster_notes.c */
uint64_t cluster_clock_notes_sent(void);
/* A snapshot of what cluster.c knows, for cluster_stats.c (pointers into
 * cluster.c's state: valid until its next tick) */
struct cluster_figures {
	const char *name, *peers, *mismatch; /* peers: "a b c"; mismatch: "" when none */
	bool session_up;
	int n_slots, n_owned, n_peers;
	const bool *owned;                   /* n_slots flags */
	uint64_t slots_taken, slots_released, takeovers, alerts_from_peers, clock_notes_sent;
	uint64_t upkeeps, partitions_created, upkeep_failures;
};
void cluster_figures(struct cluster_figures *f);
void cluster_ack_fetched(struct pg_result *r); /* cluster_acks.c: an acknowledgement committed elsewhere */
/* cluster_clock.c: the survey was sent / its server clock (ms) came back;
 * the server's clock minus this host's (ms), once measured */
void cluster_clock_sent(void);
void cluster_clock_answer(const char *server_ms);
int64_t cluster_clock_offset(bool *known);
/* cluster_own.c: each (alert id, level) pushed once (an acknowledgement is
 * level 0); the notifications of the store's own commits held until it has
 * answered them, pushed from the database if it lost the answer */
bool cluster_seen(int64_t id, int level); /* was it pushed already?  From now on it counts as pushed */
bool cluster_pushed(int64_t id, int level); /* the same question, without marking it */
void cluster_own_notified(bool ack, int64_t id, int level, int be_pid);
void cluster_own_settled(void); /* the store's batch ended: its alerts are pushed */
/* the store's backend is no longer the one the held came from: fetch() each not pushed */
void cluster_own_check(int store_pid, void (*fetch)(bool ack, int64_t id, int level));
/* the session went away / its start's catch-up query ($1, $2; $3 malloc'd) / that query's rows */
void cluster_own_session_away(void);
void cluster_own_catch_up_params(char *since, char *window, size_t len, char **shown);
void cluster_own_caught_up(struct pg_result *r);
/* cluster_webhooks.c: a dead daemon's webhook deliveries claimed (each tick
 * unless away) and sent; claimed(NULL): the claim failed or the session went */
void cluster_webhooks_tick(bool away);
void cluster_webhooks_claimed(struct pg_result *r);
/* cluster_upkeep.c: the event partitions, months ahead and months of imported
 * history in the default partition (sql/021, 085), on the cluster session */
void cluster_upkeep_tick(void);
void cluster_upkeep_ready(void);  /* the session is up: an upkeep now */
void cluster_upkeep_lost(void);   /* the session is gone with its queries */
void cluster_upkeep_result(int tag, struct pg_result *r);
void cluster_upkeep_failed(int tag);
void cluster_upkeep_figures(uint64_t *upkeeps, uint64_t *created, uint64_t *failures);
/* cluster_stats.c: the cluster's part of `stats`, /metrics and /healthz */
struct json_object *cluster_stats_json(void);
void cluster_metrics(struct evbuffer *b);  /* /metrics lines */
void cluster_health(struct evbuffer *b);   /* /healthz line */

/* ------------------------------------------------------- webhook_body.c */

#define WEBHOOK_PAYLOAD_VERSION 1
/* The body for webhook o (NULL = defaults) at url, from the alert's JSON text;
 * writes the delivery id ("<alert id>.<level>.<url hash>").  Caller frees. */
char *webhook_body(const struct hl_webhook_opts *o, const char *url, const char *alert_json, char *delivery_id,
		   size_t id_len);
/* The URL as the log names it: scheme://host:port, "/..." if more, and
 * the hash of the delivery ids; never the path, query or userinfo. */
const char *webhook_url_label(const char *url, char *buf, size_t len);
/* "sha256=<hex>" of HMAC-SHA256(secret, "<timestamp>.<body>"). */
void webhook_sign(const char *secret, const char *timestamp, const char *body, char out[72]);

/* ------------------------------------------------------------ migrate.c */

int migrate_run(const char *conninfo);
int migrate_latest(void); /* highest migration version embedded in this binary */
int migrate_report_tz(const char *conninfo, const char *zone); /* hotline.set_report_timezone (017) */
/* hl_config_conninfo_check (config.h): libpq's parse of database.conninfo. */
int migrate_conninfo_check(const char *conninfo, char *why, size_t len);

/* --------------------------------------------------------- histograms.c */

/* Histograms of /metrics (seconds). */
enum hl_hist { HIST_ACK, HIST_COMMIT, HIST_LATENESS, HIST__COUNT };
void metrics_observe(enum hl_hist h, double seconds);
/* A new alert committed: how late after its due_at (alert lateness). */
void metrics_alert_committed(const char *alert_json);
struct evbuffer;
void histograms_prometheus(struct evbuffer *b);

/* ------------------------------------------------------------ metrics.c */

/* Every figure of `stats` (daemon_stats_json) in the Prometheus text format,
 * plus the histograms and the process metrics. */
void metrics_prometheus(struct evbuffer *b);

/* --------------------------------------------------------------- http.c */

int http_open(const struct hl_config *cfg);
void http_stop_accepting(void); /* graceful stop: no new connection; requests in flight are answered */
void http_close(void);
size_t http_conn_answering(void); /* http_conn.c: requests whose answer is not written out yet */

/* ------------------------------------------------------------ process.c */

struct hl_stats {
	uint64_t conns_accepted, conns_rejected, conns_dropped_slow;
	uint64_t requests, events, duplicates, errors[HL_E__COUNT];
	uint64_t batches, batch_items, batch_max_seen, batch_failures, batch_splits;
	uint64_t batch_id_races; /* batches run again: another daemon committed one of their event ids first */
	uint64_t batch_retries;  /* batches run again after a deadlock or serialization failure */
	uint64_t batches_refused; /* batches answered unavailable: the database refused writes for now */
	uint64_t reads_orphaned; /* reads dropped from the queue: their client had gone */
	uint64_t reads_deferred; /* times a read (a replay, a case read, an HTTP GET) waited for a later batch (store.c) */
	uint64_t commit_us_total, commit_us_max;
	/* clocks that fell due: fired, their wait in the lanes, their batch's time; sent back in line */
	uint64_t due_fired, due_wait_us_total, due_wait_us_max, due_batch_us_total, due_batch_us_max, due_deferred;
	uint64_t batches_beside_due; /* batches of requests capped because clocks were due or about to be (store.c) */
	uint64_t alerts_raised[HL_ALERT_FAMILIES], alerts_escalated, alerts_pushed;
	uint64_t webhook_sent, webhook_failed, webhook_dropped;
	uint64_t db_connects, db_failures;
	hl_ms started_at;
	uint64_t ack_latency_us_total, acks; /* from a line read to its reply, for replies from the store */
	uint64_t accept_errors;   /* accept() failures (EMFILE...), each followed by a back-off */
	uint64_t http_conns_rejected; /* HTTP connections refused past http.max_connections (http_conn.c) */
	uint64_t in_doubt_held;   /* requests cut off during their commit, held at a give-up until the database is back */
};

struct hl_daemon {
	struct event_base *base;
	struct hl_config *cfg;
	const char *config_path;
	struct hl_stats stats;
	bool stopping;
	int exit_code;
	bool ready_notified;
	/* the `stats` figures as JSON: metrics.c renders them, main.c plugs it in,
	 * so conn.c answers `stats` without calling up into the file that
	 * observes it (metrics.c reads the connection count from conn.c) */
	struct json_object *(*stats_json)(void);
};

extern struct hl_daemon *hl;

hl_ms now_ms(void);      /* wall clock, ms since the epoch */
hl_ms mono_ms(void);     /* monotonic ms */
uint64_t mono_us(void);
void daemon_ready(void); /* the database answered: tell systemd READY=1 once */
void daemon_fatal(const char *why);
void daemon_raise_nofile(const struct hl_config *cfg); /* soft RLIMIT_NOFILE up to what the caps need */
/* The stats object for the `stats` command and /metrics. */
struct json_object *daemon_stats_json(void);

#endif
