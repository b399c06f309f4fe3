/*
 * http_conn.c - the HTTP listener's connections: a deadline for each
 * request, and a cap on how many are open (http.max_connections).
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
 * connection's bufferevent (evhttp_set_bevcb), synchronously, inside its
 * accept: http_conn_bev records the connection there (counted from that
 * moment), takes a reference on the bufferevent and looks at it once the
 * accept is done, from a 0 s timer (adopt; libevent makes it active at
 * once, so it runs right after evhttp's accept returns): by then evhttp has
 * set its callbacks, whose argument is the evhttp_connection.  If evhttp freed the
 * connection meanwhile (the client went at once), its callbacks are gone:
 * the record is dropped with our reference (the bufferevent is
 * BEV_OPT_CLOSE_ON_FREE, so the socket closes then, never under a live
 * event).  A request can reach a callback before that timer runs: the
 * record is then found by its bufferevent (http_conn_request).
 *
 * http.max_connections.  Every open connection - an alert stream, an idle
 * keep-alive, one still sending its request - holds a file descriptor, and
 * a client opening thousands would take the descriptors the event socket
 * and PostgreSQL need.  The count is taken in the bevcb, i.e. at each accept,
 * so a burst of connects cannot overshoot it.  Past the limit a connection
 * is refused at once rather than left waiting:
 *   - Not by pausing accept (evconnlistener_disable): the excess would then
 *     wait in the kernel's backlog with no answer - a load balancer's probe
 *     or a browser would hang until a slot frees, perhaps for as long as a
 *     wall screen keeps its stream - and the backlog itself would fill.
 *   - Plain HTTP: answered 503 with Retry-After and closed, the way the
 *     event socket answers `busy` (conn.c): one non-blocking send() of a
 *     fixed answer on a socket whose send buffer is empty, before its request
 *     is read (HTTP allows an early error answer); what the client sent
 *     already is read and dropped before the close, so the close is a FIN,
 *     not a reset that could destroy the answer unread (bytes arriving after
 *     the close still meet a reset: a lingering close would hold the
 *     descriptor the cap protects).  A client sees why and when to come
 *     back; the wallboard retries either way.
 *   - HTTPS: closed without a word: an answer would first need a TLS
 *     handshake, the most expensive thing a refused client could make us do.
 *     Its bufferevent is plain (http.c), so no handshake even starts.
 * The refused connection's bufferevent gets a read low-water mark no input
 * reaches, so evhttp never parses a request from it (no handler runs for
 * it, even if its request arrives before the 0 s timer that refuses it).
 * Refused connections are counted (stats http_connections_rejected) and
 * logged at most once a second with a count, as conn.c does.
 *
 * libevent's own error pages.  evhttp answers some requests itself, before
 * any callback: a malformed request line or header, a head over
 * HTTP_MAX_HEADERS, a body over http.max_body, an unsupported Expect (list
 * in http_reply.c).  Its answer is an HTML page, and libevent 2.1 offers no
 * way to answer otherwise.  But it writes the page into the connection's
 * bufferevent - ours (http_conn_bev) - while no request of ours is being
 * answered, and nothing else is ever written then (our answers go out
 * between http_conn_request and `answered`; the 503 of a refused connection
 * goes straight to its socket).  So a callback on the output buffer notices
 * the first bytes added outside an answer and activates an event (page_ev)
 * that has http_reply.c put the same status in JSON in place of the page.
 * Activated, not a timer: it runs in the current pass of the event loop,
 * before the loop next polls - and a bufferevent writes only from its write
 * event, which a poll must first report - so no byte of the page has left
 * (and should one have left, the callback sees the drain and the page is
 * left alone rather than cut in two).  A "100 Continue" is written outside
 * an answer too; http_reply.c leaves it as it is.  The event is made the
 * first time a connection needs it: most never do.
 *
 * The connection's close callback belongs to this file; the request handlers
 * (http_api.c, sse.c) register theirs through http_conn_set_closecb, called
 * first when the connection goes away.  Connections are a list (lookups
 * happen once per request; a few thousand wall screens cost microseconds).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"
#include "http_api.h"

struct hconn {
	LIST_ENTRY(hconn) entry;
	struct bufferevent *bev;                             /* referenced until adopt() has run, then NULL */
	struct evhttp_connection *evcon;                     /* NULL until known (adopt() or its first request) */
	struct event *deadline;                              /* pending while waiting for a request */
	void (*user_cb)(struct evhttp_connection *, void *); /* the request handler's close callback */
	void *user_arg;
	bool gone;                                           /* closed before adopt() ran: adopt() frees it */
	bool answering;                                      /* a request reached a callback, its answer is not out */
	/* libevent's own error pages (see above) */
	struct evbuffer *out;                                /* the bufferevent's output; NULL when not watched */
	struct evbuffer_cb_entry *out_cb;
	struct event *page_ev;                               /* made when first needed */
	bool page_pending;                                   /* page_ev is active */
	bool page_sent;                                      /* bytes left since page_ev was activated: too late */
	bool rewriting;                                      /* http_reply_json_page is at work: not libevent */
	bool linger;                                         /* libevent answered with an error page: drain at close */
};

static LIST_HEAD(, hconn) conns = LIST_HEAD_INITIALIZER(conns);
static size_t n_conns;
static size_t max_conns = 1024;
static struct timeval request_tv = { 30, 0 };
static const struct timeval now_tv = { 0, 0 };

/* The answer to a refused plain-HTTP connection, built once (http_conn_init):
 * the JSON error of http_send_error, the Retry-After of its other 503s. */
static char busy[512];
static size_t busy_len;

size_t http_conn_count(void) { return n_conns; }

/* Requests whose answer is not yet written out: a graceful stop waits for
 * them (main.c), as it waits for the event sockets' replies. */
size_t http_conn_answering(void)
{
	size_t n = 0;
	struct hconn *h;
	LIST_FOREACH(h, &conns, entry)
		n += h->answering && !h->gone;
	return n;
}

void http_conn_init(int request_timeout_s, int max_connections)
{
	request_tv.tv_sec = request_timeout_s > 0 ? request_timeout_s : 30;
	request_tv.tv_usec = 0;
	max_conns = max_connections > 0 ? (size_t)max_connections : 1024;
	static const char body[] = "{\"error\":{\"code\":\"busy\",\"message\":\"too many connections\"}}";
	int n = snprintf(busy, sizeof busy,
	                 "HTTP/1.1 503 Service Unavailable\r\n"
	                 "Content-Type: application/json\r\n"
	                 "Content-Length: %zu\r\n"
	                 "Retry-After: 5\r\n"
	                 "Connection: close\r\n"
	                 "Cache-Control: no-store\r\n"
	                 "X-Content-Type-Options: nosniff\r\n"
	                 "\r\n%s",
	                 sizeof body - 1, body);
	busy_len = n > 0 && (size_t)n < sizeof busy ? (size_t)n : 0;
}

static void unlist(struct hconn *h)
{
	LIST_REMOVE(h, entry);
	n_conns--;
	event_free(h->deadline);
	h->deadline = NULL;
	/* the bufferevent may outlive h (adopt's reference, evhttp's free) */
	if (h->out_cb)
		evbuffer_remove_cb_entry(h->out, h->out_cb);
	h->out = NULL;
	h->out_cb = NULL;
	if (h->page_ev)
		event_free(h->page_ev); /* also takes it off the active queue */
	h->page_ev = NULL;
}

/* ------------------------------------------------ a lingering close */

/* libevent's error pages for a request it refused (a 413 for a body over
 * http.max_body, a 400) are sent while the client may still be sending:
 * evhttp decides on the head and closes after its answer, without reading
 * the rest.  Bytes that reach a closed socket make the kernel answer with a
 * reset, and a reset destroys what the client had not read yet: a client
 * that sends its whole body before it reads (most HTTP libraries without
 * `Expect: 100-continue`) saw "connection reset", never the 413.  So the
 * socket is kept open past evhttp's close - a dup of its descriptor, taken
 * in the close callback, where evhttp has written its answer and shuts the
 * socket down for writing - and what still arrives is read and dropped
 * until the client closes, LINGER_S pass or LINGER_MAX_BYTES were dropped.
 * At most LINGER_MAX sockets linger at once (each holds a descriptor);
 * past it a close is plain again.  This is the lingering close of Apache
 * and nginx (lingering_close), for error answers only. */
#define LINGER_S 2
#define LINGER_MAX 64
#define LINGER_MAX_BYTES (8 << 20)

struct lingering {
	LIST_ENTRY(lingering) entry;
	struct event *ev;
	evutil_socket_t fd;
	size_t dropped;
};

static int n_lingering;
static LIST_HEAD(, lingering) lingering = LIST_HEAD_INITIALIZER(lingering);

static void linger_end(struct lingering *l)
{
	LIST_REMOVE(l, entry);
	event_free(l->ev);
	evutil_closesocket(l->fd);
	free(l);
	n_lingering--;
}

static void linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lingering *l = arg;
	char buf[16384];
	if (what & EV_TIMEOUT) {
		linger_end(l);
		return;
	}
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	if (n > 0 && (l->dropped += (size_t)n) < LINGER_MAX_BYTES)
		return;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	linger_end(l); /* the client's EOF, an error, or enough dropped */
}

static void linger_start(struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	if (fd < 0 || n_lingering >= LINGER_MAX)
		return;
	struct lingering *l = calloc(1, sizeof *l);
	if (!l)
		abort(); /* out of memory: the daemon's one policy (daemon.h) */
	l->fd = dup(fd);
	if (l->fd < 0 || evutil_make_socket_nonblocking(l->fd) != 0 ||
	    !(l->ev = event_new(hl->base, l->fd, EV_READ | EV_PERSIST, linger_cb, l))) {
		if (l->fd >= 0)
			evutil_closesocket(l->fd);
		free(l);
		return;
	}
	struct timeval tv = { LINGER_S, 0 };
	event_add(l->ev, &tv);
	LIST_INSERT_HEAD(&lingering, l, entry);
	n_lingering++;
}

/* The daemon stops (http_close): the sockets still lingering are closed. */
void http_conn_linger_end_all(void)
{
	while (!LIST_EMPTY(&lingering))
		linger_end(LIST_FIRST(&lingering));
}

static void closed(struct evhttp_connection *evcon, void *arg)
{
	struct hconn *h = arg;
	if (h->linger)
		linger_start(evcon);
	if (h->user_cb)
		h->user_cb(evcon, h->user_arg);
	unlist(h);
	if (h->bev)
		h->gone = true; /* adopt() still holds it; it frees h */
	else
		free(h);
}

/* The connection became known: its close callback is ours from now on. */
static void attach(struct hconn *h, struct evhttp_connection *evcon)
{
	h->evcon = evcon;
	evhttp_connection_set_closecb(evcon, closed, h);
}

static struct hconn *find(struct evhttp_connection *evcon)
{
	struct bufferevent *bev = NULL;
	struct hconn *h;
	LIST_FOREACH(h, &conns, entry) {
		if (h->evcon == evcon)
			return h;
		if (!h->evcon && h->bev) { /* accepted, not adopted yet: known by its bufferevent */
			if (!bev)
				bev = evhttp_connection_get_bufferevent(evcon);
			if (h->bev == bev) {
				attach(h, evcon);
				return h;
			}
		}
	}
	return NULL;
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

static struct hconn *record(void)
{
	struct hconn *h = calloc(1, sizeof *h);
	if (!h)
		abort(); /* out of memory: the daemon's one policy (daemon.h) */
	h->deadline = evtimer_new(hl->base, deadline_cb, h);
	if (!h->deadline)
		abort();
	LIST_INSERT_HEAD(&conns, h, entry);
	n_conns++;
	return h;
}

/* A connection this file never saw accepted (its 0 s timer could not be set). */
static struct hconn *get(struct evhttp_connection *evcon)
{
	struct hconn *h = find(evcon);
	if (!h)
		attach(h = record(), evcon);
	return h;
}

/* The accept is done: the new connection waits for its first request. */
static void adopt(evutil_socket_t fd, short what, void *arg)
{
	struct hconn *h = arg;
	struct bufferevent *bev = h->bev;
	(void)fd, (void)what;
	h->bev = NULL;
	if (h->gone) {
		free(h); /* closed() has already taken it off the list */
	} else if (!h->evcon) {
		bufferevent_event_cb eventcb = NULL;
		void *evcon = NULL;
		bufferevent_getcb(bev, NULL, NULL, &eventcb, &evcon);
		if (eventcb && evcon) {
			attach(h, evcon);
			event_add(h->deadline, &request_tv);
		} else { /* evhttp has freed it: the client went before we looked */
			unlist(h);
			free(h);
		}
	} /* else: a request came first; no deadline while it is answered */
	bufferevent_decref(bev);
}

bool http_conn_room(void) { return n_conns < max_conns; }

/* ------------------------------------------------ libevent's own error pages */

static void page_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hconn *h = arg;
	(void)fd, (void)what;
	h->page_pending = false;
	if (h->page_sent || h->answering || !h->out)
		return;
	/* A plain bufferevent freezes the front of its output once it has
	 * written (bufferevent_writecb unfreezes it around each write), and a
	 * frozen front refuses copyout and drain: lifted for the rewrite, put
	 * back as it was (an HTTPS bufferevent never freezes it). */
	char c;
	bool frozen = evbuffer_copyout(h->out, &c, 1) < 0;
	if (frozen)
		evbuffer_unfreeze(h->out, 1);
	h->rewriting = true;
	bool done = http_reply_json_page(h->out);
	h->rewriting = false;
	if (frozen)
		evbuffer_freeze(h->out, 1);
	if (done) {
		h->linger = true;
		log_debug("http: libevent's error page for a request it refused answered in JSON");
	}
}

static void out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct hconn *h = arg;
	(void)buf;
	if (h->rewriting)
		return;
	if (h->page_pending && info->n_deleted)
		h->page_sent = true;
	if (h->answering || h->page_pending || !info->n_added)
		return;
	if (!h->page_ev && !(h->page_ev = event_new(hl->base, -1, 0, page_cb, h)))
		abort(); /* out of memory: the daemon's one policy (daemon.h) */
	h->page_pending = true;
	h->page_sent = false;
	event_active(h->page_ev, EV_TIMEOUT, 0);
}

struct bufferevent *http_conn_bev(struct bufferevent *bev)
{
	if (!bev)
		return NULL;
	struct hconn *h = record();
	h->bev = bev;
	h->out = bufferevent_get_output(bev);
	h->out_cb = evbuffer_add_cb(h->out, out_cb, h);
	if (!h->out_cb)
		abort();
	bufferevent_incref(bev);
	if (event_base_once(hl->base, -1, EV_TIMEOUT, adopt, h, &now_tv) != 0) {
		h->bev = NULL;
		bufferevent_decref(bev);
		unlist(h);
		free(h);
		log_warn("http: cannot watch a new connection (no deadline for it)");
	}
	return bev;
}

/* ------------------------------------------------ past http.max_connections */

static void log_refused(struct evhttp_connection *evcon)
{
	/* a client reconnecting in a loop must not flood the log: once a second, with a count */
	static hl_ms logged_at;
	static uint64_t unreported;
	unreported++;
	hl_ms now = mono_ms();
	if (logged_at != 0 && now - logged_at < 1000)
		return;
	char *addr = NULL;
	ev_uint16_t port = 0;
	if (evcon)
		evhttp_connection_get_peer(evcon, &addr, &port);
	log_warn("http: connection from %s:%u refused: too many connections (http.max_connections = %zu; "
	         "%llu refused since the last report)",
	         addr ? addr : "?", (unsigned)port, max_conns, (unsigned long long)unreported);
	logged_at = now;
	unreported = 0;
}

/* The accept of a refused connection is done: answer (plain HTTP) and close. */
static void refuse(struct bufferevent *bev, bool tls)
{
	bufferevent_event_cb eventcb = NULL;
	void *evcon = NULL;
	bufferevent_getcb(bev, NULL, NULL, &eventcb, &evcon);
	bool open = eventcb && evcon; /* else evhttp has freed it already */
	log_refused(open ? evcon : NULL);
	if (open) {
		evutil_socket_t fd = bufferevent_getfd(bev);
		/* never waits: a fresh socket's send buffer is empty, and what it
		 * cannot take is dropped (the close then says enough) */
		if (!tls && fd >= 0 && busy_len) {
			ssize_t w = send(fd, busy, busy_len, MSG_DONTWAIT | MSG_NOSIGNAL);
			(void)w;
			/* a socket closed with unread input sends a reset, and a reset
			 * can destroy the answer in the client's buffer before it is
			 * read: what the client sent already (its request) is read and
			 * dropped first, bounded, without waiting for more */
			char sink[4096];
			for (int i = 0; i < 16 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
				;
		}
		evhttp_connection_free(evcon); /* the socket closes with our reference, below */
	}
	bufferevent_decref(bev);
}

static void refuse_plain(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	refuse(arg, false);
}

static void refuse_tls(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	refuse(arg, true);
}

struct bufferevent *http_conn_refused(struct bufferevent *bev, bool tls)
{
	hl->stats.http_conns_rejected++;
	if (!bev)
		return NULL;
	/* evhttp's read callback runs only once this many bytes are in: never,
	 * so no request of a refused connection reaches a handler */
	bufferevent_setwatermark(bev, EV_READ, SIZE_MAX, 0);
	bufferevent_incref(bev);
	if (event_base_once(hl->base, -1, EV_TIMEOUT, tls ? refuse_tls : refuse_plain, bev, &now_tv) != 0) {
		/* cannot come back to it: served after all, rather than held unread */
		bufferevent_setwatermark(bev, EV_READ, 0, 0);
		bufferevent_decref(bev);
		log_warn("http: cannot refuse a connection past http.max_connections");
	}
	return bev;
}

/* ---------------------------------------------------------- requests */

/* An answer was written out; on keep-alive the next request has the deadline. */
static void answered(struct evhttp_request *req, void *arg)
{
	struct hconn *h = arg;
	(void)req;
	h->answering = false;
	event_add(h->deadline, &request_tv);
}

/*
 * What ends the request's body must be one thing, read one way, or a proxy
 * in front may see other request boundaries than we do (request smuggling;
 * RFC 9112 6.1, 6.3).  libevent 2.1 takes the first of two Content-Lengths
 * and parses the rest of the body as the next request; it takes
 * Transfer-Encoding: chunked over a Content-Length; and any other
 * Transfer-Encoding ("gzip, chunked", "chunked, identity", one given twice)
 * it ignores, reading Content-Length bytes, where RFC 9112 says the length
 * cannot be known; and it reads a Content-Length of "+5" as 5.  By the time a callback runs libevent has read the body
 * its way, so such a request is refused and the connection closed: nothing
 * after it on the connection is taken for a request.  NULL, or why not.
 */
static const char *framing_problem(struct evhttp_request *req)
{
	const char *first = NULL, *te = NULL;
	int n_te = 0;
	const struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	for (const struct evkeyval *kv = TAILQ_FIRST(in); kv; kv = TAILQ_NEXT(kv, next)) {
		if (strcasecmp(kv->key, "Transfer-Encoding") == 0) {
			te = kv->value;
			n_te++;
		}
		if (strcasecmp(kv->key, "Content-Length") != 0)
			continue;
		/* RFC 9110 8.6: digits only; libevent's strtoll also takes "+5",
		 * which a proxy may frame otherwise (or not at all) */
		if (!kv->value[0] || strspn(kv->value, "0123456789") != strlen(kv->value))
			return "Content-Length: not a number of bytes (digits only)";
		if (!first)
			first = kv->value;
		else if (strcmp(first, kv->value) != 0)
			return "Content-Length: given twice with different values";
	}
	if (n_te > 1 || (te && strcasecmp(te, "chunked") != 0))
		return "Transfer-Encoding: only chunked, given once, is supported";
	if (te && first)
		return "Transfer-Encoding and Content-Length together: the body's end is ambiguous";
	return NULL;
}

bool http_conn_request(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (evcon) {
		struct hconn *h = get(evcon);
		event_del(h->deadline);
		h->answering = true;
		evhttp_request_set_on_complete_cb(req, answered, h);
	}
	const char *why = framing_problem(req);
	if (why) {
		/* what follows on the connection is no request we can find: close */
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		http_send_error(req, 400, "bad_request", why);
		return false;
	}
	return true;
}

void http_conn_set_closecb(struct evhttp_connection *evcon, void (*cb)(struct evhttp_connection *, void *), void *arg)
{
	struct hconn *h = get(evcon);
	h->user_cb = cb;
	h->user_arg = arg;
}
