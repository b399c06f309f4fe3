/*
 * http_conn.c - the HTTP listener's connections: a deadline for each request.
 *
 * evhttp (libevent 2.1) puts no timeout on an accepted connection unless
 * evhttp_set_timeout is called, so a client that sent half a request head
 * (or nothing, or one byte a minute) held its file descriptor for ever.
 * evhttp_set_timeout alone is not the answer: it is an inactivity timeout
 * of the connection's bufferevent (read and write), so a client dribbling a
 * byte before each expiry is never cut, and it is armed in every state.
 *
 * So each connection is tracked here and given a deadline whenever it is
 * waiting for a request: from the accept, and again from the moment an
 * answer has been written out (keep-alive).  The request - line, headers and
 * body - must reach a callback (http_conn_request) within
 * http.request_timeout, or the connection is closed.  While a request is
 * being answered there is no deadline at all: an SSE stream
 * (GET /v1/alerts/stream) or a slow store read is never cut by it.
 * http.c additionally sets evhttp_set_timeout(HTTP_STALL_S) as a backstop for
 * a client that stops reading an answer: libevent re-arms the read timer at
 * every chunk written (evhttp_write_buffer enables EV_READ|EV_WRITE, and
 * enabling re-adds the event with its timeout), so the SSE heartbeat keeps a
 * stream alive; see docs/http.md.
 *
 * How the connection is found.  evhttp 2.1 has no callback for a new
 * connection (evhttp_set_newreqcb is 2.2), but it asks http.c for each
 * connection's bufferevent (evhttp_set_bevcb); http_conn_bev takes a
 * reference on it and looks at it once the accept is done, from a 0 s timer:
 * by then evhttp has set its callbacks, whose argument is the
 * evhttp_connection.  If evhttp freed the connection meanwhile, its callbacks
 * are gone and our reference is only dropped (the bufferevent is
 * BEV_OPT_CLOSE_ON_FREE, so the socket closes then, never under a live event).
 * A connection whose request arrived before that timer ran is tracked by
 * http_conn_request instead.
 *
 * The connection's close callback belongs to this file; the request handlers
 * (http_api.c, sse.c) register theirs through http_conn_set_closecb, called
 * first when the connection goes away.  Connections are a list (lookups
 * happen once per request; a few thousand wall screens cost microseconds).
 */
#include <stdlib.h>
#include <sys/queue.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "daemon.h"
#include "http_api.h"

struct hconn {
	LIST_ENTRY(hconn) entry;
	struct evhttp_connection *evcon;
	struct event *deadline;                              /* pending while waiting for a request */
	void (*user_cb)(struct evhttp_connection *, void *); /* the request handler's close callback */
	void *user_arg;
};

static LIST_HEAD(, hconn) conns = LIST_HEAD_INITIALIZER(conns);
static size_t n_conns;
static struct timeval request_tv = { 30, 0 };

size_t http_conn_count(void) { return n_conns; }

void http_conn_init(int request_timeout_s)
{
	request_tv.tv_sec = request_timeout_s > 0 ? request_timeout_s : 30;
	request_tv.tv_usec = 0;
}

static struct hconn *find(const struct evhttp_connection *evcon)
{
	struct hconn *h;
	LIST_FOREACH(h, &conns, entry)
		if (h->evcon == evcon)
			return h;
	return NULL;
}

static void closed(struct evhttp_connection *evcon, void *arg)
{
	struct hconn *h = arg;
	if (h->user_cb)
		h->user_cb(evcon, h->user_arg);
	LIST_REMOVE(h, entry);
	n_conns--;
	event_free(h->deadline);
	free(h);
}

/* No complete request within http.request_timeout: close (h is freed by closed()). */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hconn *h = arg;
	(void)fd, (void)what;
	char *addr = NULL;
	ev_uint16_t port = 0;
	evhttp_connection_get_peer(h->evcon, &addr, &port);
	/* debug: a flood of such clients must not flood the log too */
	log_debug("http: %s:%u sent no complete request within %ld s: closed", addr ? addr : "?", (unsigned)port,
	          (long)request_tv.tv_sec);
	evhttp_connection_free(h->evcon);
}

static struct hconn *track(struct evhttp_connection *evcon)
{
	struct hconn *h = calloc(1, sizeof *h);
	if (!h)
		abort();
	h->evcon = evcon;
	h->deadline = evtimer_new(hl->base, deadline_cb, h);
	if (!h->deadline)
		abort();
	LIST_INSERT_HEAD(&conns, h, entry);
	n_conns++;
	evhttp_connection_set_closecb(evcon, closed, h);
	return h;
}

static struct hconn *get(struct evhttp_connection *evcon)
{
	struct hconn *h = find(evcon);
	return h ? h : track(evcon);
}

/* The accept is done: the new connection waits for its first request. */
static void adopt(evutil_socket_t fd, short what, void *arg)
{
	struct bufferevent *bev = arg;
	bufferevent_event_cb eventcb = NULL;
	void *evcon = NULL;
	(void)fd, (void)what;
	bufferevent_getcb(bev, NULL, NULL, &eventcb, &evcon);
	/* no callbacks: evhttp has freed the connection (our reference kept the
	 * bufferevent readable); a known one already had a request */
	if (eventcb && evcon && !find(evcon))
		event_add(track(evcon)->deadline, &request_tv);
	bufferevent_decref(bev);
}

struct bufferevent *http_conn_bev(struct bufferevent *bev)
{
	if (!bev)
		return NULL;
	bufferevent_incref(bev);
	if (event_base_once(hl->base, -1, EV_TIMEOUT, adopt, bev, &(struct timeval){ 0, 0 }) != 0) {
		bufferevent_decref(bev);
		log_warn("http: cannot watch a new connection (no deadline for it)");
	}
	return bev;
}

/* An answer was written out; on keep-alive the next request has the deadline. */
static void answered(struct evhttp_request *req, void *arg)
{
	struct hconn *h = arg;
	(void)req;
	event_add(h->deadline, &request_tv);
}

void http_conn_request(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (!evcon)
		return;
	struct hconn *h = get(evcon);
	event_del(h->deadline);
	evhttp_request_set_on_complete_cb(req, answered, h);
}

void http_conn_set_closecb(struct evhttp_connection *evcon, void (*cb)(struct evhttp_connection *, void *), void *arg)
{
	struct hconn *h = get(evcon);
	h->user_cb = cb;
	h->user_arg = arg;
}
