/*
 * sse.c - GET /v1/alerts/stream: alerts as Server-Sent Events.
 *
 * A stream is a subscriber like a socket `subscribe` (subscribers.c), with
 * the same replay: the store answers a subscribe request (since =
 * Last-Event-ID or ?since=) with the newest alerts.replay_max open alerts
 * after it, in id order; the stream sends them, then every new or escalated
 * alert as it is committed:
 *
 *   retry: 2000
 *   event: replay            only when older open alerts were left out
 *   data: {"sent":N,"omitted":K,"first_id":F}
 *   id: 7                    the alert id
 *   data: {...}              the alert JSON of a push line, caller masked if confidential
 *   event: ack               an acknowledgement (no id: line, so resuming is unaffected)
 *   data: {...}
 *   : hb                     a heartbeat comment every HEARTBEAT_S
 *
 * HTTP readers never see a confidential number whole (the masked form is
 * the NOTIFY one).  A client that does not read is dropped, as a socket
 * subscriber is, when its unsent output passes 4 x listen.max_output or stays
 * above max_output for 2 s (checked at each push and heartbeat), so it never
 * holds much memory or stalls anybody else; a reading client survives a
 * burst.  The browser reconnects by itself and resumes.  The heartbeat also finds clients that went away.
 * A stream opened with the wallboard's session cookie ends when that
 * session signs out on this daemon (sse_end_session) or expires (a timer),
 * and asks the database every SESSION_RECHECK_MS whether it signed out
 * elsewhere (another daemon of the cluster).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"
#include "http_api.h"

/* well under http.c's HTTP_STALL_S (60): every chunk written re-arms libevent's
 * inactivity timer, so the heartbeat keeps an idle stream open */
#define HEARTBEAT_S 15

struct sse {
	LIST_ENTRY(sse) entry;
	struct evhttp_request *req;      /* NULL once the client is gone */
	struct evhttp_connection *evcon;
	struct subscriber *sub;          /* NULL until the replay was sent */
	struct req sreq;                 /* the subscribe request */
	bool in_store;                   /* sreq not answered yet: the store holds &sreq */
	hl_ms over_since;                /* monotonic ms since unsent output is above max_output; 0 = not */
	char sid[HTTP_SID_LEN + 1];      /* the session cookie it was opened with; "" for a token */
	long long expiry;                /* that cookie's expiry (time_t); 0 for a token */
	struct event *expire;            /* ends the stream at that expiry; NULL for a token */
	struct req creq;                 /* the session check (sql/078), every SESSION_RECHECK_S */
	bool check_in_store;             /* creq not answered yet: the store holds &creq */
	hl_ms checked_at;                /* monotonic: the last check sent (or the stream's start) */
};

/* A stream opened with a session cookie asks the database this often
 * whether its session signed out - on another daemon of the cluster, say
 * (this daemon's own sign-outs end it at once: sse_end_session): at every
 * heartbeat, as often as the page itself asks (GET /v1/session, every
 * 15 s), one primary-key probe per wall screen. */
#define SESSION_RECHECK_MS (HEARTBEAT_S * 1000 - 500)
static const char SESSION_LIVE[] = "SELECT hotline.http_session_live($1)";

static LIST_HEAD(, sse) streams = LIST_HEAD_INITIALIZER(streams);
static size_t n_streams;
static struct event *heartbeat;

size_t sse_clients(void) { return n_streams; }

static void sse_free(struct sse *s)
{
	if (s->expire)
		event_free(s->expire);
	hl_event_free(&s->sreq.ev);
	free(s);
}

/* The connection is going away (the client left, we dropped it, or the
 * listener closes): forget the request, unsubscribe. */
static void sse_closed(struct evhttp_connection *evcon, void *arg)
{
	struct sse *s = arg;
	(void)evcon;
	if (s->req && !evhttp_request_get_connection(s->req))
		evhttp_request_free(s->req); /* libevent detached it and left it to us */
	s->req = NULL;
	subscribers_remove(s->sub);
	s->sub = NULL;
	if (s->expire)
		event_free(s->expire); /* also from its own callback: it is not pending then */
	s->expire = NULL;
	LIST_REMOVE(s, entry);
	n_streams--;
	/* what the store still holds is dropped from its queue, and handed back
	 * (sse_failed or sse_checked frees s, whichever comes last) */
	s->sreq.gone = true;
	s->creq.gone = true;
	if (!s->in_store && !s->check_in_store)
		sse_free(s);
}

/* Close the client's connection now; s is freed (or left to the store). */
static void sse_kill(struct sse *s)
{
	struct evhttp_connection *evcon = s->evcon;
	http_conn_set_closecb(evcon, NULL, NULL);
	sse_closed(evcon, s);          /* the request is still attached: libevent frees it */
	evhttp_connection_free(evcon);
}

static void sse_drop(struct sse *s, const char *why)
{
	log_warn("http: SSE client dropped: %s", why);
	hl->stats.conns_dropped_slow++;
	sse_kill(s);
}

/* Queue text on the stream; false when the client was dropped (s is freed then). */
static bool sse_write(struct sse *s, const char *text, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, text, len);
	evhttp_send_reply_chunk(s->req, b);
	evbuffer_free(b);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(s->evcon);
	size_t pending = bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0, max = hl->cfg->listen.max_output;
	/* as for socket subscribers (conn.c): at once past 4 x max_output, or
	 * when above max_output for 2 s; a reader survives a burst of alerts */
	if (pending <= max) {
		s->over_since = 0;
		return true;
	}
	hl_ms now = mono_ms();
	if (!s->over_since)
		s->over_since = now;
	if (pending > 4 * max || now - s->over_since > 2000) {
		sse_drop(s, "output not read (over listen.max_output)");
		return false;
	}
	return true;
}

static bool sse_event(struct sse *s, const char *event, int64_t id, const char *data)
{
	size_t dl = strlen(data);
	char *buf = malloc(dl + 96);
	if (!buf)
		abort();
	int n = 0;
	if (event)
		n += sprintf(buf + n, "event: %s\n", event);
	if (id > 0)
		n += sprintf(buf + n, "id: %lld\n", (long long)id);
	n += sprintf(buf + n, "data: ");
	memcpy(buf + n, data, dl);
	n += (int)dl;
	buf[n++] = '\n';
	buf[n++] = '\n';
	bool ok = sse_write(s, buf, (size_t)n);
	free(buf);
	return ok;
}

static void sse_push(void *owner, enum sub_event what, int64_t id, const char *alert_json, const char *masked_json)
{
	(void)alert_json;
	struct sse *s = owner;
	if (what == SUB_ACK)
		sse_event(s, "ack", 0, masked_json);
	else
		sse_event(s, NULL, id, masked_json);
}

static void sse_replayed(struct req *r, const struct replay *rp)
{
	struct sse *s = r->owner;
	s->in_store = false;
	if (!s->req) {
		if (!s->check_in_store)
			sse_free(s);
		return;
	}
	/* like the socket: no more replay than half of max_output */
	size_t budget = hl->cfg->listen.max_output / 2, used = 0, first = rp->n;
	while (first > 0 && used + strlen(rp->masked[first - 1]) + 32 <= budget)
		used += strlen(rp->masked[--first]) + 32;
	int64_t omitted = rp->omitted + (int64_t)first;
	if (omitted > 0) {
		char *line = subscribe_replay_line(rp->n - first, omitted, first < rp->n ? rp->ids[first] : 0);
		line[strlen(line) - 1] = '\0';
		/* the same object as the socket's replay line, under event: replay */
		bool ok = sse_event(s, "replay", 0, line);
		free(line);
		if (!ok)
			return;
	}
	for (size_t i = first; i < rp->n; i++)
		if (!sse_event(s, NULL, rp->ids[i], rp->masked[i]))
			return;
	s->sub = subscribers_add(sse_push, s);
	subscribers_replayed(s->sub, rp, first); /* not pushed to it again (subscribers.c) */
}

/* The subscribe was refused (database unavailable, shutting down): end the
 * stream; the browser reconnects after `retry`. */
static void sse_failed(struct req *r, char *reply)
{
	struct sse *s = r->owner;
	s->in_store = false;
	if (!s->req) {
		free(reply);
		if (!s->check_in_store)
			sse_free(s);
		return;
	}
	struct evbuffer *b = evbuffer_new();
	if (reply) {
		reply[strcspn(reply, "\n")] = '\0';
		evbuffer_add_printf(b, "event: error\ndata: %s\n\n", reply);
		free(reply);
	}
	evhttp_send_reply_chunk(s->req, b);
	evbuffer_free(b);
	http_conn_set_closecb(s->evcon, NULL, NULL);
	evhttp_send_reply_end(s->req);
	LIST_REMOVE(s, entry);
	n_streams--;
	sse_free(s);
}

/* The store's answer to a session check: "false" ends the stream; an error
 * (database unreachable) leaves it, to be asked again. */
static void sse_checked(struct req *r, char *reply)
{
	struct sse *s = r->owner;
	s->check_in_store = false;
	bool ended = reply && strcmp(reply, "false") == 0;
	free(reply);
	if (!s->req) {
		if (!s->in_store)
			sse_free(s);
		return;
	}
	if (ended) {
		log_debug("http: SSE stream ended: its session signed out");
		sse_kill(s);
	}
}

static void sse_check_session(struct sse *s)
{
	memset(&s->creq, 0, sizeof s->creq);
	s->creq.read_sql = SESSION_LIVE;
	s->creq.read_params[0] = s->sid;
	s->creq.read_nparams = 1;
	s->creq.owner = s;
	s->creq.on_reply = sse_checked;
	s->creq.started_us = mono_us();
	s->check_in_store = true;
	s->checked_at = mono_ms();
	store_submit(&s->creq); /* may answer at once (database gone) */
}

static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	struct sse *s, *next;
	hl_ms now = mono_ms();
	for (s = LIST_FIRST(&streams); s; s = next) {
		next = LIST_NEXT(s, entry);
		if (!s->sub)
			continue;
		if (!sse_write(s, ": hb\n\n", 6))
			continue; /* dropped: s is gone */
		if (s->sid[0] && !s->check_in_store && now - s->checked_at >= SESSION_RECHECK_MS)
			sse_check_session(s);
	}
}

/* A stream does not outlive the session cookie it was opened with: before,
 * one went on for days after its cookie had expired (or signed out).  The
 * page reconnects with its renewed cookie. */
static void expire_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	log_debug("http: SSE stream ended: its session expired");
	sse_kill(arg);
}

void sse_end_session(const char *sid)
{
	struct sse *s, *next;
	for (s = LIST_FIRST(&streams); s; s = next) {
		next = LIST_NEXT(s, entry);
		if (s->sid[0] && strcmp(s->sid, sid) == 0)
			sse_kill(s);
	}
}

void sse_open(struct evhttp_request *req, int64_t since, const char *sid, long long expiry)
{
	struct sse *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	if (sid) {
		snprintf(s->sid, sizeof s->sid, "%s", sid);
		s->expiry = expiry;
		long long left = expiry - (long long)time(NULL);
		struct timeval tv = { left > 0 ? (time_t)left : 0, 0 };
		if (!(s->expire = evtimer_new(hl->base, expire_cb, s)) || evtimer_add(s->expire, &tv) != 0)
			abort(); /* out of memory: the daemon's one policy (daemon.h) */
		s->checked_at = mono_ms(); /* checked just now, before it was opened */
	}
	if (!heartbeat) {
		heartbeat = event_new(hl->base, -1, EV_PERSIST, heartbeat_cb, NULL);
		struct timeval tv = { HEARTBEAT_S, 0 };
		event_add(heartbeat, &tv);
	}
	s->req = req;
	s->evcon = evhttp_request_get_connection(req);
	LIST_INSERT_HEAD(&streams, s, entry);
	n_streams++;
	http_conn_set_closecb(s->evcon, sse_closed, s);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	http_common_headers(req);
	evhttp_send_reply_start(req, 200, "OK");
	if (!sse_write(s, "retry: 2000\n\n", 13))
		return;

	struct req *r = &s->sreq;
	r->ev.type = HL_CMD_SUBSCRIBE;
	snprintf(r->ev.id, sizeof r->ev.id, "sse");
	r->ev.since = since;
	r->ev.at = r->ev.received = now_ms();
	r->owner = s;
	r->on_replay = sse_replayed;
	r->on_reply = sse_failed;
	r->started_us = mono_us();
	s->in_store = true;
	store_submit(r);
}

void sse_close_all(void)
{
	struct sse *s;
	while ((s = LIST_FIRST(&streams)))
		sse_kill(s);
	if (heartbeat) {
		event_free(heartbeat);
		heartbeat = NULL;
	}
}
