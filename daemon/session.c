/*
 * session.c - a side session: one more nonblocking libpq connection, with a
 * queue of queries and LISTEN, inside the libevent loop.
 *
 * The store's connection is a pipeline that commits batches; it must never
 * wait on anything else.  What several daemons need besides - session-level
 * advisory locks that live exactly as long as the daemon's session, LISTEN
 * for other daemons' alerts and clocks, small queries about peers - runs on
 * this second connection (used by cluster.c).  Queries go one at a time, in
 * order; each result goes to the owner's callback with the query's tag.  If
 * the connection is lost, the owner hears of it first (its locks are gone
 * with the session), the queue is dropped and the session reconnects with
 * exponential backoff up to a cap.  Nothing here blocks the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "daemon.h"

struct squery {
	TAILQ_ENTRY(squery) entry;
	int tag;
	char *sql;
	char *p[3];
	int np;
	bool single_rows;       /* rows one by one (PQsetSingleRowMode): a big result never sits in memory */
};

enum sstate { SS_DOWN, SS_CONNECTING, SS_READY };

static struct {
	PGconn *pg;
	int sock;
	struct event *ev_read, *ev_write, *ev_retry;
	enum sstate state;
	TAILQ_HEAD(, squery) queue;
	struct squery *cur;
	const struct session_ops *ops;
	const char **keys, **vals;  /* connection parameters (copied) */
	int backoff_ms, backoff_cap_ms;
	bool stopped;
	struct log_retry connect_log; /* failed attempts while the database is down (log.c) */
} SS;

static void ss_connect(void);
static void ss_next(void);
static void on_socket(evutil_socket_t fd, short what, void *arg);

static void squery_free(struct squery *q)
{
	if (!q)
		return;
	free(q->sql);
	free(q->p[0]);
	free(q->p[1]);
	free(q->p[2]);
	free(q);
}

static void queue_clear(void)
{
	struct squery *q;
	while ((q = TAILQ_FIRST(&SS.queue))) {
		TAILQ_REMOVE(&SS.queue, q, entry);
		squery_free(q);
	}
	squery_free(SS.cur);
	SS.cur = NULL;
}

static void drop_conn(void)
{
	if (SS.ev_read)
		event_free(SS.ev_read);
	if (SS.ev_write)
		event_free(SS.ev_write);
	SS.ev_read = SS.ev_write = NULL;
	if (SS.pg)
		PQfinish(SS.pg);
	SS.pg = NULL;
	SS.sock = -1;
}

static void schedule_reconnect(void)
{
	if (SS.stopped)
		return;
	SS.backoff_ms = SS.backoff_ms ? SS.backoff_ms * 2 : 250;
	if (SS.backoff_ms > SS.backoff_cap_ms)
		SS.backoff_ms = SS.backoff_cap_ms;
	struct timeval tv = { SS.backoff_ms / 1000, (SS.backoff_ms % 1000) * 1000 };
	evtimer_add(SS.ev_retry, &tv);
}

static void on_lost(const char *why)
{
	char msg[200], what[64];
	snprintf(msg, sizeof msg, "%s", why && *why ? why : "connection lost");
	msg[strcspn(msg, "\n")] = '\0';
	snprintf(what, sizeof what, "%s: session lost", SS.ops->who);
	log_server_error(3, what, msg); /* log.c: a server's words are masked */
	queue_clear();
	drop_conn();
	SS.state = SS_DOWN;
	SS.ops->lost(msg);
	schedule_reconnect();
}

static void flush_out(void)
{
	int f = PQflush(SS.pg);
	if (f < 0)
		on_lost(PQerrorMessage(SS.pg));
	else if (f == 1)
		event_add(SS.ev_write, NULL);
}

static void ss_next(void)
{
	if (SS.state != SS_READY || SS.cur || !SS.pg)
		return;
	struct squery *q = TAILQ_FIRST(&SS.queue);
	if (!q)
		return;
	TAILQ_REMOVE(&SS.queue, q, entry);
	SS.cur = q;
	if (!PQsendQueryParams(SS.pg, q->sql, q->np, NULL, (const char *const *)q->p, NULL, NULL, 0)) {
		on_lost(PQerrorMessage(SS.pg));
		return;
	}
	if (q->single_rows)
		PQsetSingleRowMode(SS.pg);
	flush_out();
}

static void on_results(void)
{
	while (SS.pg && SS.cur && !PQisBusy(SS.pg)) {
		PGresult *r = PQgetResult(SS.pg);
		if (!r) {
			struct squery *q = SS.cur;
			SS.cur = NULL;
			squery_free(q);
			ss_next();
			continue;
		}
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE) {
			SS.ops->result(SS.cur->tag, r);
		} else if (st != PGRES_COMMAND_OK) {
			char msg[200], what[64];
			snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
			msg[strcspn(msg, "\n")] = '\0';
			snprintf(what, sizeof what, "%s: query failed", SS.ops->who);
			log_server_error(3, what, msg);
			SS.ops->failed(SS.cur->tag);
		}
		PQclear(r);
	}
}

static void watch_socket(void)
{
	int sock = PQsocket(SS.pg);
	if (sock == SS.sock && SS.ev_read)
		return;
	if (SS.ev_read)
		event_free(SS.ev_read);
	if (SS.ev_write)
		event_free(SS.ev_write);
	SS.sock = sock;
	SS.ev_read = event_new(hl->base, sock, EV_READ | EV_PERSIST, on_socket, NULL);
	SS.ev_write = event_new(hl->base, sock, EV_WRITE, on_socket, NULL);
}

static void connect_poll(void)
{
	PostgresPollingStatusType st = PQconnectPoll(SS.pg);
	watch_socket();
	switch (st) {
	case PGRES_POLLING_READING:
		event_add(SS.ev_read, NULL);
		event_del(SS.ev_write);
		return;
	case PGRES_POLLING_WRITING:
		event_del(SS.ev_read);
		event_add(SS.ev_write, NULL);
		return;
	case PGRES_POLLING_FAILED:
		{
			char what[64];
			snprintf(what, sizeof what, "%s: cannot connect", SS.ops->who);
			log_retry_failed(&SS.connect_log, what, PQerrorMessage(SS.pg));
		}
		drop_conn();
		SS.state = SS_DOWN;
		schedule_reconnect();
		return;
	default:
		break;
	}
	event_add(SS.ev_read, NULL);
	event_del(SS.ev_write);
	PQsetnonblocking(SS.pg, 1);
	SS.state = SS_READY;
	SS.backoff_ms = 0;
	log_retry_ok(&SS.connect_log);
	SS.ops->ready();
	ss_next();
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)arg;
	if (SS.state == SS_CONNECTING) {
		connect_poll();
		return;
	}
	if (!SS.pg)
		return;
	if (what & EV_WRITE) {
		flush_out();
		if (!SS.pg)
			return;
	}
	if ((what & EV_READ) && !PQconsumeInput(SS.pg)) {
		on_lost(PQerrorMessage(SS.pg));
		return;
	}
	if (PQstatus(SS.pg) == CONNECTION_BAD) {
		on_lost(PQerrorMessage(SS.pg));
		return;
	}
	on_results();
	PGnotify *n;
	while (SS.pg && (n = PQnotifies(SS.pg))) {
		SS.ops->notify(n->relname, n->extra, n->be_pid);
		PQfreemem(n);
	}
	if (SS.pg && !SS.cur)
		ss_next();
}

static void ss_connect(void)
{
	SS.pg = PQconnectStartParams(SS.keys, SS.vals, 1);
	if (!SS.pg || PQstatus(SS.pg) == CONNECTION_BAD) {
		char what[64];
		snprintf(what, sizeof what, "%s: cannot start connecting", SS.ops->who);
		log_retry_failed(&SS.connect_log, what, SS.pg ? PQerrorMessage(SS.pg) : "out of memory");
		drop_conn();
		SS.state = SS_DOWN;
		schedule_reconnect();
		return;
	}
	static char notice_what[64]; /* lives as long as the connection's processor may run */
	snprintf(notice_what, sizeof notice_what, "%s: the server says", SS.ops->who);
	PQsetNoticeProcessor(SS.pg, log_pg_notice, notice_what);
	SS.state = SS_CONNECTING;
	SS.sock = -1;
	connect_poll();
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	if (!SS.stopped && SS.state == SS_DOWN)
		ss_connect();
}

static const char **strv_dup(const char *const *v)
{
	size_t n = 0;
	while (v[n])
		n++;
	const char **c = calloc(n + 1, sizeof *c);
	if (!c)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!(c[i] = strdup(v[i])))
			abort();
	return c;
}

static void strv_free(const char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free((char *)v[i]);
	free(v);
}

/* ------------------------------------------------------------------ API */

int session_start(const char *const *keys, const char *const *vals, int backoff_cap_ms,
                  const struct session_ops *ops)
{
	TAILQ_INIT(&SS.queue);
	SS.sock = -1;
	SS.ops = ops;
	SS.keys = strv_dup(keys);
	SS.vals = strv_dup(vals);
	SS.backoff_cap_ms = backoff_cap_ms > 250 ? backoff_cap_ms : 250;
	SS.ev_retry = evtimer_new(hl->base, retry_cb, NULL);
	if (!SS.ev_retry)
		return -1;
	ss_connect();
	return 0;
}

void session_query(int tag, const char *sql, const char *p1, const char *p2)
{
	session_query_rows(tag, sql, p1, p2, false);
}

void session_query_rows(int tag, const char *sql, const char *p1, const char *p2, bool single_rows)
{
	session_query3(tag, sql, p1, p2, NULL, single_rows);
}

void session_query3(int tag, const char *sql, const char *p1, const char *p2, const char *p3, bool single_rows)
{
	struct squery *q = calloc(1, sizeof *q);
	if (!q || !(q->sql = strdup(sql)))
		abort();
	q->tag = tag;
	q->single_rows = single_rows;
	const char *p[3] = { p1, p2, p3 };
	for (int i = 0; i < 3 && p[i]; i++, q->np++)
		if (!(q->p[i] = strdup(p[i])))
			abort();
	TAILQ_INSERT_TAIL(&SS.queue, q, entry);
	ss_next();
}

bool session_up(void) { return SS.state == SS_READY; }

void session_stop(void)
{
	SS.stopped = true;
	queue_clear();
	drop_conn();
	SS.state = SS_DOWN;
	if (SS.ev_retry)
		event_del(SS.ev_retry);
}

void session_resume(void)
{
	if (!SS.stopped)
		return;
	SS.stopped = false;
	SS.backoff_ms = 0;
	if (SS.state == SS_DOWN)
		ss_connect();
}

void session_free(void)
{
	session_stop();
	if (SS.ev_retry)
		event_free(SS.ev_retry);
	strv_free(SS.keys);
	strv_free(SS.vals);
	memset(&SS, 0, sizeof SS);
}
