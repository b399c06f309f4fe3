/*
 * harness.h - end-to-end test harness: a real hotlined on a fresh database.
 *
 * Each test gets its own PostgreSQL database (hl_<pid>_<n>, on the cluster
 * named by HOTLINE_TEST_PGHOST / HOTLINE_TEST_PGPORT / HOTLINE_TEST_PGUSER),
 * its own temp directory with a config file, a Unix socket and a free TCP
 * port, and its own $HOTLINED_BIN child.  Everything is torn down by
 * hl_e2e_cleanup(), which every suite installs as its .fini:
 *
 *     TestSuite(events, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 60);
 *
 *     HL_TEST(events, ping) {
 *         struct hl_d *d = hl_d_up(NULL);
 *         struct hl_conn *c = hl_conn_unix(d);
 *         json_object *r = hl_request(c, "{\"type\":\"ping\",\"id\":\"p1\"}");
 *         cr_assert(hl_jbool(r, "ok"));
 *     }
 *
 * HL_TEST is Criterion's Test plus hl_e2e_finish() after the body: every
 * daemon still running must then exit 0 on SIGTERM (a crash or a sanitizer
 * report fails the test).  Criterion ignores assertions made in .fini, so
 * this check has to run in the test body; a plain Test() should end with
 * hl_e2e_finish() itself.
 *
 * Helpers that cannot go on (no database, daemon will not start) fail the
 * test with cr_assert; helpers whose failure a test may want to observe
 * (a read timeout, a closed connection) return NULL / -1 instead.
 *
 * When a test fails, the daemon's log (stderr) is printed by the cleanup.
 *
 * Ownership: everything the harness returns is owned by the harness and
 * freed by the cleanup, so an assertion that aborts a test leaks nothing:
 * daemons, connections (hl_conn_close may close one earlier), JSON
 * responses (do NOT json_object_put them), PGresults from hl_sql (do NOT
 * PQclear them), strings from hl_recv / hl_sql_text / hl_d_log (do NOT free).
 *
 * Where the code is (each section below names its file; harness_internal.h
 * is what these files share, not part of this API):
 *
 *   harness.c         the registry, the Criterion hooks hl_e2e_init /
 *                     hl_e2e_finish / hl_e2e_cleanup, failure routing,
 *                     hl_uid and the clock helpers
 *   harness_pg.c      the test databases; hl_sql, hl_sql_int, hl_sql_text
 *   harness_daemon.c  hl_d_*: the config file, --migrate, start, stop, peers
 *   harness_conn.c    hl_conn_*, hl_send*, hl_recv*, hl_wait_eof, hl_request*,
 *                     the JSON accessors hl_j*, alert pushes (hl_subscribe ...)
 */
#ifndef HL_E2E_HARNESS_H
#define HL_E2E_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <libpq-fe.h>

/* Per-section additions to the generated config, as libconfig text.  A key
 * named here replaces the harness default for that key in that section. */
struct hl_e2e_opts {
	const char *listen;        /* e.g. "max_line = 1024;" */
	const char *database;      /* e.g. "batch_max = 10;" */
	const char *sla;           /* e.g. "callback = \"2s\"; update = \"0\";" */
	const char *repeat_caller;
	const char *escalation;
	const char *top;           /* appended at top level: policies, calendars, log, alerts ... */
	bool no_tcp;               /* tcp = "" */
	bool no_start;             /* hl_d_up: create + migrate only */
	bool superuser_daemon;     /* connect the daemon as the superuser instead of the hotlined role */
};

/* One daemon instance and its database. */
struct hl_d {
	pid_t pid;                 /* 0 when not running */
	char dir[128];             /* temp dir */
	char conf[160];            /* dir/hotlined.conf */
	char log[160];             /* dir/hotlined.log: the daemon's stderr (all runs, appended) */
	char sock[160];            /* dir/events.sock */
	char dbname[64];
	char conninfo[512];        /* for the test database */
	int tcp_port;
	PGconn *pg;                /* lazily opened by hl_sql* */
	bool shared_db;            /* a peer on another daemon's database: the cleanup does not drop it */
};

struct hl_conn {
	int fd;
	char *buf;                 /* bytes read but not yet returned as lines */
	size_t len, cap;
	bool eof;
};

/* --------------------------------------------- test lifecycle (harness.c) */

/* Criterion hooks: put both on every suite (init ignores SIGPIPE, resets state). */
void hl_e2e_init(void);
void hl_e2e_cleanup(void);

/* Stop every daemon of this test with SIGTERM; fails the test unless each
 * was still alive and exited 0.  HL_TEST calls it after the body. */
void hl_e2e_finish(void);

#define HL_TEST(suite, name)                       \
	static void hl_body_##suite##_##name(void); \
	Test(suite, name)                          \
	{                                          \
		hl_body_##suite##_##name();        \
		hl_e2e_finish();                   \
	}                                          \
	static void hl_body_##suite##_##name(void)

/* Marks the current test failed (the cleanup then prints the daemon log).  The
 * harness routes Criterion's assertion failures through these; see below. */
void hl_e2e_fail_abort(void);
void hl_e2e_fail_continue(void);

/* ------------------------------------------ the daemon (harness_daemon.c) */

/* Create the database and temp dir, write the config, run --migrate, start the
 * daemon and wait until its socket accepts (unless opts->no_start). */
struct hl_d *hl_d_up(const struct hl_e2e_opts *opts);
/* Run `hotlined -c conf --migrate`; returns its exit status (output in dir/migrate.log). */
int hl_d_migrate(struct hl_d *d);
/* Start the daemon (again) on the same config and database; waits until ready. */
void hl_d_start(struct hl_d *d);
/* Send `sig` and wait up to timeout_ms for the exit.  Returns the exit code,
 * 128+N when killed by signal N, or -1 when it did not exit (it is then killed). */
int hl_d_stop(struct hl_d *d, int sig, int timeout_ms);
/* kill -9 and reap. */
void hl_d_kill9(struct hl_d *d);
/* Graceful stop (must exit 0) and start again on the same database. */
void hl_d_restart(struct hl_d *d);
/* true while the child has not exited. */
bool hl_d_alive(struct hl_d *d);
/* The daemon's log so far (malloc'd, never NULL). */
char *hl_d_log(const struct hl_d *d);
/* Start the daemon (again) like hl_d_start, but as `prefix... HOTLINED_BIN -c conf`
 * (a wrapper such as systemd-socket-activate; prefix NULL = none; prefix[0] is an
 * absolute path) with extra environment entries "NAME=VALUE" (env NULL = none).
 * In an env value, "@PID@" becomes the daemon's pid (exec keeps the pid), as
 * systemd sets WATCHDOG_PID.  Ready when d->sock accepts, as for hl_d_start:
 * point d->sock at the wrapper's socket first if the daemon's own is not used. */
void hl_d_start_ex(struct hl_d *d, const char *const *prefix, const char *const *env);

/* A second (third...) daemon on the SAME database as `first` (several daemons,
 * contract section 9): its own temp dir, config, sockets and log; not migrated
 * again; the database is dropped with `first` only.  Starts it unless
 * opts->no_start. */
struct hl_d *hl_d_up_peer(struct hl_d *first, const struct hl_e2e_opts *opts);

/* ------------------------------------------- connections (harness_conn.c) */

struct hl_conn *hl_conn_unix(struct hl_d *d);
struct hl_conn *hl_conn_tcp(struct hl_d *d);
void hl_conn_close(struct hl_conn *c);

/* Write all bytes (blocking).  0 ok, -1 when the peer is gone. */
int hl_send_raw(struct hl_conn *c, const void *buf, size_t len);
/* Write `line` plus "\n". */
int hl_send(struct hl_conn *c, const char *line);
int hl_sendf(struct hl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Next line without its newline (malloc'd), or NULL on timeout / EOF (see c->eof). */
char *hl_recv(struct hl_conn *c, int timeout_ms);
/* Next line parsed as JSON; NULL on timeout, EOF or a line that is not JSON (fails the test then). */
json_object *hl_recv_json(struct hl_conn *c, int timeout_ms);
/* true if the peer closed the connection within timeout_ms with nothing more to read. */
bool hl_wait_eof(struct hl_conn *c, int timeout_ms);
/* send + receive one JSON response (10 s timeout; fails the test on timeout). */
json_object *hl_request(struct hl_conn *c, const char *line);
json_object *hl_requestf(struct hl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A request with a fresh id (hl_uid(id_prefix)) before the members given
 * printf-style ("\"type\":\"ping\""); its response. */
json_object *hl_vrequest_new(struct hl_conn *c, const char *id_prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* An event that must be accepted, new: the members after "id" (printf-style;
 * a fresh id is added); asserts ok and not duplicate; returns its case_id. */
int64_t hl_ev(struct hl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define HL_TIMEOUT_MS 10000

/* -------------------------------------------------- json (harness_conn.c) */

/* Value at a dotted path ("error.code", "case.clocks.0.kind"); NULL when absent. */
json_object *hl_jget(json_object *o, const char *path);
const char *hl_jstr(json_object *o, const char *path);  /* NULL when absent or not a string */
int64_t hl_jint(json_object *o, const char *path);      /* 0 when absent */
bool hl_jbool(json_object *o, const char *path);        /* false when absent */
bool hl_jnull(json_object *o, const char *path);        /* present and null */

/* ----------------------------------------------------- SQL (harness_pg.c) */

/* Run a query on the test database; fails the test on error.  The harness keeps
 * the result: never PQclear it. */
PGresult *hl_sql(struct hl_d *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* First column of the first row as int64 (fails the test when there is no row or it is NULL). */
int64_t hl_sql_int(struct hl_d *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* First column of the first row as a malloc'd string; NULL for no row or NULL. */
char *hl_sql_text(struct hl_d *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------- misc (harness.c) */

/* A process-unique id for requests: "<prefix>-<pid>-<n>" in a static ring buffer (valid for 64 calls). */
const char *hl_uid(const char *prefix);

/* --------------- alert pushes on a subscribed connection (harness_conn.c) */

struct hl_push {
	int64_t id, case_id, level;
	int64_t t_ms;      /* wall clock when it arrived */
	char kind[40];
	char caller[40];
};
struct hl_pushes {
	struct hl_push p[128];
	int n;
};
/* A new Unix connection that sent `subscribe` (with `since` when since >= 0) and got ok. */
struct hl_conn *hl_subscribe(struct hl_d *d, int64_t since);
/* One push line into ps (checked: an alert push with id, level >= 1, raised_at in ms); false on timeout. */
bool hl_read_push(struct hl_conn *s, struct hl_pushes *ps, int timeout_ms);
/* A push of kind for case_id at level (0 = any) already in ps, or NULL. */
const struct hl_push *hl_find_push(const struct hl_pushes *ps, const char *kind, int64_t case_id, int64_t level);
/* How many pushes of kind (NULL = any) for case_id are in ps. */
int hl_count_pushes(const struct hl_pushes *ps, const char *kind, int64_t case_id);
/* Read pushes until one of kind for case_id at level (0 = any) is there, or NULL after timeout_ms. */
const struct hl_push *hl_await_push(struct hl_conn *s, struct hl_pushes *ps, const char *kind, int64_t case_id,
                                    int64_t level, int timeout_ms);
/* Read every push arriving within ms. */
void hl_collect_pushes(struct hl_conn *s, struct hl_pushes *ps, int ms);

/* ----------------------------------------------------- clocks (harness.c) */

int64_t hl_wall_ms(void);              /* wall clock, ms since the epoch (event `at` values) */
void hl_sleep_until(int64_t wall_ms);  /* sleep until that wall-clock instant */
const char *hl_iso_ms(int64_t wall_ms);/* "2026-11-20T01:15:00.123Z"; a ring of 32 buffers */
const char *hl_iso_in(int delta_s);    /* now + delta_s, whole seconds (exact in SQL): "2026-11-20T01:15:00Z" */
void hl_sleep_ms(int ms);
int64_t hl_now_ms(void);

/*
 * Route Criterion's failures through the harness so the cleanup knows the
 * test failed and prints the daemon log.  Works for cr_assert*, cr_expect*,
 * cr_fatal and cr_fail.
 */
#undef CR_FAIL_ABORT_
#define CR_FAIL_ABORT_ hl_e2e_fail_abort
#undef CR_FAIL_CONTINUES_
#define CR_FAIL_CONTINUES_ hl_e2e_fail_continue

#endif
