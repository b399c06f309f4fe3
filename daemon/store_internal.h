/*
 * store_internal.h - what the store's files share (private to the store).
 *
 * The store is one state machine over one libpq connection, split by concern
 * into store.c (the batch state machine and the public store_* API),
 * store_load.c (the load: SELECTs -> world -> rules), store_write.c (the
 * write: changed rows -> JSON -> INSERTs) and store_conn.c (connection,
 * reconnect, start-up, prepared statements).  They share one state struct,
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

struct store_state {
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
};

extern struct store_state store;
extern struct event *store_ev_kick;
extern PGresult *store_empty_result;

/* store.c: utilities */
const char *store_fmt_i64(char *buf, int64_t v);
char *store_json_take(json_object *o);
hl_ms store_get_ms(const PGresult *r, int row, int col);
bool store_get_bool(const PGresult *r, int row, int col);
bool store_needs_world(const struct item *it);
/* store.c: items, the pipeline, the event loop */
void store_maybe_resume_input(void);
void store_item_fail(struct item *it, enum hl_err code, const char *msg);
void store_pipeline_reset(void);
void store_pipeline_begin(int n);
void store_send_stmt(const char *sql, int nparams, const char *const *params);
void store_pipeline_send(void);
void store_pipeline_send_open(void);
void store_write_done(void);
void store_kick_cb(evutil_socket_t fd, short what, void *arg);
void store_kick(void);
void store_handle_results(void);
/* store_load.c */
void store_start_load(void);
void store_fill_world(void);
void store_apply_rules(void);
/* store_write.c */
void store_start_write(void);
/* store_conn.c */
int store_stmt_index(const char *sql);
void store_on_lost(const char *why);
void store_connect(void);
void store_startup_finish(void);

#endif
