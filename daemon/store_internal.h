/*
 * store_internal.h - what the store's files share (private to the store).
 *
 * The store is one state machine over one libpq connection, split by concern
 * into store.c (the batch state machine and the public store_* API),
 * store_load.c (the load: SELECTs -> world -> rules), store_write.c (the
 * write: changed rows -> JSON -> INSERTs), store_conn.c (connection,
 * reconnect, start-up, prepared statements) and store_pipeline.c (the
 * statements in flight and their results).  They share one state struct,
 * `store`, and the few functions declared below; nothing here is for the
 * rest of the daemon (that is daemon.h).
 */
#ifndef HOTLINED_STORE_INTERNAL_H
#define HOTLINED_STORE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "daemon.h"
#include "batch_keys.h"

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
	bool race_retried;      /* its batch ran again once: another daemon stored one of its ids first */
	bool retry_retried;     /* its batch ran again once: a deadlock or serialization failure (store.c) */
	struct hl_outcome out;
	int read_stmt;          /* index of its read statement in the write pipeline, -1 none */
	uint64_t ticket;        /* arrival order: a due clock passes only items with a smaller ticket */
	uint64_t queued_us;     /* when it was queued (mono_us): a due clock's wait is reported */
};

TAILQ_HEAD(itemq, item);

enum state { S_DOWN, S_CONNECTING, S_STARTUP, S_PREPARE, S_IDLE, S_LOAD, S_WRITE };

enum startup_step { ST_VERSION, ST_CLOCKS, ST_ESCALATIONS, ST_WEBHOOKS, ST_REPORT_TZ, ST_DONE };

/* statements of the load pipeline, in order */
enum { L_SEEN, L_CASES, L_CALLS, L_CALLERS, L_ALERTS, L_IDS, L_ORDER_CASES, L_ORDERS, L_HOTSPOT_CASES, L_HOTSPOTS,
       L_LOCK, L_DUE, L__COUNT };

struct store_state {
	PGconn *pg;
	int sock;
	struct event *ev_read, *ev_write, *ev_retry, *ev_giveup;
	enum state state;
	enum startup_step step;
	struct itemq queue, batch;
	struct itemq due;       /* the due lane: clocks that fell due, run before the queue (store.c) */
	size_t n_queue, n_batch; /* n_queue counts both lanes */
	size_t n_due;
	uint64_t next_ticket;
	uint64_t queue_turn_us; /* when the queue last had a batch (mono_us): its turn in a due burst (store.c) */
	uint64_t queue_batch_us; /* running mean of a full batch of requests, load to COMMIT (store.c) */
	bool batch_from_queue;  /* the batch in flight is requests taken without the due burst's cap */
	struct hl_due_ahead *ahead; /* the keys of what the batch's due clocks pass, until the load is in */
	struct hl_world *world;
	int backoff_ms;
	bool gave_up;           /* down for longer than UNAVAILABLE_AFTER_MS */
	bool ever_ready;
	bool resync;            /* a write was cut off: on reconnect, read the timers and deliveries again */
	bool paused_conns;
	/* the pipeline in flight */
	PGresult **res;
	int n_stmts, cur_stmt;
	char *error;            /* first error of the pipeline */
	bool error_id_race;     /* ... and it was event_ids' unique key: another daemon committed an id first */
	char error_state[6];    /* ... and its SQLSTATE, "" if none (hl_db_failure_of) */
	bool copy_mode;
	uint64_t t_batch_us;
	bool load_open;         /* the load ran without a Sync: its transaction (and locks) go on into the write */
	/* write pipeline statement indexes */
	int w_alert_ins, w_alert_upd;
	int load_at[L__COUNT];  /* position of each load statement in the pipeline, -1 = not sent */
	store_clock_notes_fn clock_notes; /* main.c: cluster_clock_notes */
};

/* The columns a load statement's decoder reads, by name (store_columns.c). */
#define STORE_MAX_COLS 40
struct store_columns {
	const char *what;            /* for the start-up error: "SQL_CASES" */
	const char *sql;             /* the statement (its pointer identifies it) */
	const char *const *names;    /* the columns the decoder reads */
	int n;
	bool named_in_order;         /* prepared as SELECT * FROM (sql) AS q(names): see store_columns.c */
	int at[STORE_MAX_COLS];      /* names[k] is column at[k]: resolved once per connection */
};
/* Every mapped statement, NULL-terminated (store_load.c). */
extern struct store_columns *const store_column_maps[];
extern struct store_columns store_cols_orders, store_cols_hotspot_cases, store_cols_hotspots;
extern struct store_columns store_cols_alerts_new, store_cols_alerts_upd; /* store.c */
/* A case row's columns (SQL_CASES; SQL_ORDER_CASES adds merged_into) */
enum case_col { CASE_ID, CASE_CALLER, CASE_STATUS, CASE_OPENED_AT, CASE_RESOLVED_AT, CASE_CLOSED_AT,
                CASE_LAST_CONTACT_AT, CASE_LAST_REACHED_AT, CASE_UPDATED_AT, CASE_CATEGORY, CASE_PRIORITY, CASE_DEPARTMENT, CASE_QUEUE,
                CASE_SUMMARY, CASE_RESOLUTION, CASE_TRANSFERS, CASE_REOPENS, CASE_ON_HOLD, CASE_HOLD_SINCE,
                CASE_HELD_MS, CASE_POLICY, CASE_LAST_HOLD_FROM, CASE_LAST_HOLD_UNTIL, CASE_CLOCKS, CASE__N, CASE_MERGED_INTO = CASE__N };
extern struct store_columns store_cols_order_cases;

extern struct store_state store;
extern struct event *store_ev_kick;
extern PGresult *store_empty_result;

/* store.c: utilities */
const char *store_fmt_i64(char *buf, int64_t v);
char *store_json_take(json_object *o);
hl_ms store_get_ms(const PGresult *r, int row, int col);
bool store_get_bool(const PGresult *r, int row, int col);
bool store_needs_world(const struct item *it);
/* store.c: items, the batch state machine, the event loop */
void store_maybe_resume_input(void);
void store_item_fail(struct item *it, enum hl_err code, const char *msg);
void store_write_done(void);
void store_kick_cb(evutil_socket_t fd, short what, void *arg);
void store_kick(void);
void store_batch_failed(const char *why); /* store_retry.c: the failed batch run again, refused, bisected or failed */
void store_refusals_over(void);             /* store_retry.c: a write committed after the database refused some */
/* the pipeline's callbacks of a batch: the load is in; the write's Sync (COMMIT) */
void store_on_loaded(PGresult *const *res, int n, const char *error);
void store_on_committed(PGresult *const *res, int n, const char *error);
/* store_pipeline.c: the pipeline (see there) */
typedef void (*store_done_fn)(PGresult *const *res, int n, const char *error);
void store_pipeline_reset(void);
void store_pipeline_begin(int n);
void store_send_stmt(const char *sql, int nparams, const char *const *params);
void store_pipeline_sync(store_done_fn done);  /* done runs at the Sync's result */
void store_pipeline_open(store_done_fn done);  /* done runs when every result is in; no Sync */
void store_pipeline_push(void);               /* send what is queued now; errors wait for the Sync */
void store_pipeline_results(void);            /* store_conn.c's socket callback: collect what arrived */
/* store_load.c */
void store_start_load(void);
void store_fill_world(void);
void store_apply_rules(void);
void store_bk_item(const struct item *it, struct hl_bk_item *k);
/* store_due.c: the due lane */
void store_due_take(void);   /* a batch of due clocks, when any wait */
void store_due_probe(void);  /* in the load: what they pass, and the probe for it */
void store_due_settle(void); /* after the load: due clocks that may not pass go back in line */
void store_due_done(uint64_t batch_us); /* at COMMIT: their wait and batch time */
void store_due_forget(void);
void store_due_free(void);
/* store_write.c */
void store_start_write(void);
const char *store_write_alert_text(int64_t n); /* a new alert's text but its id, by its "n" */
void store_write_forget(void);                  /* the batch's alert texts, once delivered */
/* store_columns.c */
char *store_columns_prepare_text(const char *sql); /* malloc'd */
int store_columns_count(void);
const char *store_columns_sql(int i);
bool store_columns_resolve(int i, const PGresult *described, char *why, size_t why_len);
/* store_stmt.c */
int store_stmt_count(void);
const char *store_stmt_sql(int i);
int store_stmt_index(const char *sql);        /* the prepared statement that runs sql, or -1 */
const char *store_stmt_each_run(int i);       /* the text sent at each run, or NULL: it runs prepared */
void store_stmt_init(void);
void store_stmt_free(void);
/* store_conn.c */
void store_on_lost(const char *why);
void store_connect(void);

#endif
