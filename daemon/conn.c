/*
 * conn.c - one client connection: framing, in-order replies, backpressure.
 *
 * Each connection reads newline-delimited JSON.  Every line becomes a `struct
 * req` appended to the connection's queue, so replies leave in request order
 * even though the store answers whole batches at once and pings answer at
 * once: a reply is written only when every earlier request of the connection
 * has been answered.
 *
 * Nothing here waits.  A connection stops being read when
 *   - it has max_inflight requests unanswered (a pipelining client cannot
 *     make the daemon buffer without bound),
 *   - its unread replies exceed half of max_output (it is not reading), or
 *   - the store's backlog is full (conn_pause_all: PostgreSQL is slower
 *     than the input);
 * and is read again when the reason goes away.  A client whose buffered
 * output exceeds max_output (a stalled subscriber) is dropped with a logged
 * reason; a line longer than max_line gets `too_large` and the connection is
 * closed; a half-written line older than the idle timeout is dropped too
 * (slowloris), as is a connection idle for the idle timeout, and one whose
 * replies have not been read for as long (it pipelines and never reads:
 * paused, it would never reach the max_output drop).  Until it has sent a
 * valid auth (TCP with tokens), auth_timeout stands for the idle timeout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <openssl/ssl.h>

#include "daemon.h"
#include "protocol.h"
#include "roles.h"

struct conn {
	LIST_ENTRY(conn) entry;
	TAILQ_HEAD(, req) reqs;
	struct bufferevent *bev;
	uint64_t id;
	char peer[96];
	bool is_unix;
	bool authed;
	struct subscriber *sub; /* in subscribers.c's list while subscribed */
	bool closing;        /* no more input; close once output is flushed */
	bool draining;       /* the daemon is stopping: read on, answer `unavailable`, close when quiet */
	hl_ms over_since;    /* monotonic ms since unread output is above max_output; 0 = not */
	bool paused_inflight, paused_output, paused_global;
	bool reading;        /* EV_READ currently enabled */
	int inflight;
	hl_ms partial_since; /* monotonic ms since a partial line is waiting; 0 = none */
	size_t scanned;      /* bytes of that partial line already searched for its '\n' */
	int role;            /* enum hl_sock_role: what this client may ask (roles.h) */
	char name[72];       /* the token's name: acked_by when an ack names nobody; "" = none */
};

static LIST_HEAD(, conn) conns = LIST_HEAD_INITIALIZER(conns);
static size_t n_conns;
static uint64_t next_conn_id = 1;
static bool global_paused;

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_free(struct conn *c);
static void unsubscribe(struct conn *c);
static bool conn_flush(struct conn *c);

size_t conn_count(void) { return n_conns; }

static void conn_update_reading(struct conn *c)
{
	if (c->closing)
		return;
	bool want = !(c->paused_inflight || c->paused_output || c->paused_global);
	if (want == c->reading)
		return;
	c->reading = want;
	if (!want) {
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
	/* complete lines may already wait in the input buffer; no socket event
	 * will announce them, so run the read callback (deferred: never recurse) */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* Seconds a connection may stay silent, or spend on one line; 0 = no limit.
 * Not yet authenticated (TCP with tokens): listen.auth_timeout, so that
 * silent or trickling strangers cannot hold max_connections for minutes. */
static int conn_idle_s(const struct conn *c)
{
	int idle = hl->cfg->listen.idle_timeout_s, auth = hl->cfg->listen.auth_timeout_s;
	return c->authed || (idle > 0 && idle < auth) ? idle : auth;
}

static void conn_set_timeouts(struct conn *c)
{
	int idle = conn_idle_s(c);
	if (c->draining)
		return;
	if (idle > 0 && !c->sub && !c->closing) { /* subscribers only listen: never idle in our sense */
		/* The write timeout too: a client that pipelines and never reads
		 * stops being read at max_output/2 (which also stops the read
		 * timeout) and never reaches the max_output drop; its replies then
		 * make no progress for the idle timeout, and it is closed. */
		struct timeval tv = { idle, 0 };
		bufferevent_set_timeouts(c->bev, &tv, &tv);
	} else {
		bufferevent_set_timeouts(c->bev, NULL, NULL);
	}
}

void conn_accept(int fd, int is_unix, const char *peer, void *tls_ctx)
{
	const struct hl_config *cfg = hl->cfg; /* listener.c refused it when stopping or full */
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		abort(); /* out of memory: the daemon's one policy (daemon.h) */
	SSL_CTX *tls = tls_ctx;
	if (tls) {
		SSL *ssl = SSL_new(tls);
		c->bev = ssl ? bufferevent_openssl_socket_new(hl->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		                                              BEV_OPT_CLOSE_ON_FREE) : NULL;
		if (c->bev)
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		else if (ssl)
			SSL_free(ssl);
	} else {
		c->bev = bufferevent_socket_new(hl->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!c->bev) {
		free(c);
		close(fd);
		return;
	}
	TAILQ_INIT(&c->reqs);
	c->id = next_conn_id++;
	c->is_unix = is_unix;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	/* Unix-socket peers passed the file permissions; TCP peers need a token when tokens are set. */
	c->authed = is_unix || cfg->listen.n_tokens == 0;
	c->role = is_unix == 2 ? HL_SR_SUPERVISOR : HL_SR_FULL; /* 2: listen.unix_supervisor */
	c->paused_global = global_paused;
	LIST_INSERT_HEAD(&conns, c, entry);
	n_conns++;
	hl->stats.conns_accepted++;

	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	/* read at most a little more than one maximal line ahead */
	bufferevent_setwatermark(c->bev, EV_READ, 0, cfg->listen.max_line + 4096);
	/* the write callback runs when unread output falls to half of max_output */
	bufferevent_setwatermark(c->bev, EV_WRITE, cfg->listen.max_output / 2, 0);
	conn_set_timeouts(c);
	conn_update_reading(c);
	log_debug("conn %llu: accepted from %s", (unsigned long long)c->id, c->peer);
}

/* No more input: the connection closes once its output is flushed. */
static void stop_reading(struct conn *c)
{
	c->closing = true;
	c->reading = false;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
}

/* Forget every queued request: answered ones are freed, those still in the
 * store are orphaned (the store frees them when it is done). */
static void drop_reqs(struct conn *c)
{
	struct req *r;
	while ((r = TAILQ_FIRST(&c->reqs))) {
		TAILQ_REMOVE(&c->reqs, r, entry);
		if (r->done) {
			hl_event_free(&r->ev);
			free(r->reply);
			free(r);
		} else {
			r->conn = NULL;
		}
	}
}

/* Write every finished reply at the head of the queue, in order.
 * Returns true when the connection was freed (closed and drained, or too slow). */
static bool conn_flush(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct req *r;
	bool close_now = false;

	while ((r = TAILQ_FIRST(&c->reqs)) && r->done) {
		TAILQ_REMOVE(&c->reqs, r, entry);
		if (r->reply)
			evbuffer_add(out, r->reply, strlen(r->reply));
		if (r->close_after)
			close_now = true;
		c->inflight--;
		hl_event_free(&r->ev);
		free(r->reply);
		free(r);
		if (close_now)
			break;
	}
	if (close_now) {
		/* drop whatever else was queued: the client is told why and closed */
		drop_reqs(c);
		stop_reading(c);
	}

	/* A client that does not read is dropped: at once when its unread output
	 * passes 4 x max_output, or when it stays above max_output for 2 s.  A
	 * client that does read survives a burst (600 alerts at once are queued
	 * before the loop gets to write any of them). */
	size_t pending = evbuffer_get_length(out), max = hl->cfg->listen.max_output;
	if (pending > max) {
		hl_ms now = mono_ms();
		if (!c->over_since)
			c->over_since = now;
		if (pending > 4 * max || now - c->over_since > 2000) {
			log_warn("conn %llu (%s): dropped, %zu bytes of output unread (max_output %zu)",
			         (unsigned long long)c->id, c->peer, pending, max);
			hl->stats.conns_dropped_slow++;
			conn_free(c);
			return true;
		}
	} else {
		c->over_since = 0;
	}
	c->paused_output = pending > max / 2;
	c->paused_inflight = c->inflight >= hl->cfg->listen.max_inflight;
	conn_update_reading(c);
	if (c->closing && pending == 0 && TAILQ_EMPTY(&c->reqs)) {
		conn_free(c);
		return true;
	}
	return false;
}

/* Viewers and supervisors are not privileged: like the HTTP API's, they see a
 * confidential caller's number masked (case.get, replay, pushes).  Full
 * access (the main Unix socket, a plain token) sees it whole. */
static bool conn_masked(const struct conn *c)
{
	return c->role == HL_SR_VIEWER || c->role == HL_SR_SUPERVISOR;
}

static struct req *req_new(struct conn *c)
{
	struct req *r = calloc(1, sizeof *r);
	if (!r)
		abort(); /* out of memory: nothing sensible to do in a daemon that must not lose acks */
	r->conn = c;
	r->masked = conn_masked(c);
	r->started_us = mono_us();
	TAILQ_INSERT_TAIL(&c->reqs, r, entry);
	c->inflight++;
	return r;
}

static void req_fail(struct req *r, const char *id, enum hl_err code, const char *msg)
{
	r->reply = hl_reply_error(id && *id ? id : NULL, code, msg);
	r->done = true;
	if (code == HL_E_TOO_LARGE || code == HL_E_UNAUTHORIZED)
		r->close_after = true;
	if ((size_t)code < sizeof hl->stats.errors / sizeof hl->stats.errors[0])
		hl->stats.errors[code]++;
}

/* The role and name of the listen.tokens entry a client authenticated with. */
static void conn_take_token(struct conn *c, size_t i)
{
	const struct hl_config *cfg = hl->cfg;
	c->role = cfg->access.token_roles ? cfg->access.token_roles[i] : HL_SR_FULL;
	const char *name = cfg->access.token_names ? cfg->access.token_names[i] : NULL;
	snprintf(c->name, sizeof c->name, "%s", name ? name : "");
}

/* Roles (roles.h): a request the role may not make is `forbidden`, and the
 * connection stays open.  An ack that names nobody is by the token's name. */
static bool conn_may(struct conn *c, struct req *r)
{
	const char *type = hl_type_name(r->ev.type);
	if (!hl_sock_role_allows(c->role, type)) {
		char msg[160];
		snprintf(msg, sizeof msg, "type: a %s client may not send %s", hl_sock_role_name(c->role), type ? type : "this");
		log_info("conn %llu (%s): %s", (unsigned long long)c->id, c->peer, msg);
		req_fail(r, r->ev.id, HL_E_FORBIDDEN, msg);
		return false;
	}
	if (r->ev.type == HL_CMD_ALERT_ACK && !r->ev.by) {
		if (!c->name[0]) {
			req_fail(r, r->ev.id, HL_E_BAD_REQUEST, "by: missing");
			return false;
		}
		r->ev.by = hl_xstrdup(c->name);
	}
	return true;
}

static void conn_handle_line(struct conn *c, const char *line, size_t len)
{
	struct req *r = req_new(c);
	struct hl_error err = {0};
	hl->stats.requests++;

	enum hl_err rc = hl_parse_request(line, len, now_ms(), &r->ev, &err);
	if (rc != HL_OK && !c->authed) {
		/* An unauthenticated peer learns nothing from our parser and gets no
		 * second try: whatever it sent, if it is not a valid auth it is
		 * unauthorized and the connection closes, garbage or not. */
		log_warn("conn %llu (%s): %s before auth", (unsigned long long)c->id, c->peer, hl_err_code(rc));
		req_fail(r, r->ev.id, HL_E_UNAUTHORIZED, "send {\"type\":\"auth\",\"token\":...} first");
		return;
	}
	if (rc != HL_OK) {
		req_fail(r, r->ev.id, rc, err.message);
		return;
	}
	/* every auth on TCP with tokens is checked, also a second: a wrong one was answered ok */
	if (!c->authed || (r->ev.type == HL_CMD_AUTH && !c->is_unix && hl->cfg->listen.n_tokens)) {
		if (r->ev.type == HL_CMD_AUTH) {
			bool ok = false;
			for (size_t i = 0; i < hl->cfg->listen.n_tokens; i++)
				if (hl_const_time_eq(r->ev.token, hl->cfg->listen.tokens[i]) && !ok) {
					ok = true;
					conn_take_token(c, i);
				}
			if (ok) {
				c->authed = true, conn_set_timeouts(c); /* the idle timeout from now on */
				r->reply = hl_reply_ok(r->ev.id);
				r->done = true;
			} else {
				log_warn("conn %llu (%s): bad token", (unsigned long long)c->id, c->peer);
				req_fail(r, r->ev.id, HL_E_UNAUTHORIZED, "token: not accepted");
			}
		} else {
			log_warn("conn %llu (%s): request before auth", (unsigned long long)c->id, c->peer);
			req_fail(r, r->ev.id, HL_E_UNAUTHORIZED, "send {\"type\":\"auth\",\"token\":...} first");
		}
		return;
	}
	if (!conn_may(c, r))
		return;
	switch (r->ev.type) {
	case HL_CMD_PING:
	case HL_CMD_AUTH:
		r->reply = hl_reply_ok(r->ev.id);
		r->done = true;
		return;
	case HL_CMD_STATS: {
		struct json_object *o = hl->stats_json();
		r->reply = hl_reply_with(r->ev.id, "stats", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		r->done = true;
		return;
	}
	default:
		if (hl->stopping) {
			req_fail(r, r->ev.id, HL_E_UNAVAILABLE, "shutting down; retry");
			return;
		}
		store_submit(r);
		return;
	}
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t max_line = hl->cfg->listen.max_line;

	while (!c->closing) {
		if (c->paused_inflight || c->paused_global || c->paused_output)
			break; /* leave the rest in the socket buffer: backpressure */
		/* search only what arrived since the last look: a line trickled in
		 * small writes would otherwise be searched again whole at each read,
		 * time quadratic in its length (max_line may be megabytes) */
		size_t eol_len = 0;
		struct evbuffer_ptr from;
		if (evbuffer_ptr_set(in, &from, c->scanned, EVBUFFER_PTR_SET) < 0) {
			c->scanned = 0;
			evbuffer_ptr_set(in, &from, 0, EVBUFFER_PTR_SET);
		}
		struct evbuffer_ptr p = evbuffer_search_eol(in, &from, &eol_len, EVBUFFER_EOL_LF);
		if (p.pos < 0) {
			size_t have = evbuffer_get_length(in);
			c->scanned = have;
			if (have > max_line + 1) { /* +1: a '\r' that may precede the '\n' */
				struct req *r = req_new(c);
				req_fail(r, NULL, HL_E_TOO_LARGE, "line longer than max_line");
				log_warn("conn %llu (%s): line over %zu bytes, closing",
				         (unsigned long long)c->id, c->peer, max_line);
				evbuffer_drain(in, have);
				c->scanned = 0;
			} else if (have > 0) {
				if (!c->partial_since)
					c->partial_since = mono_ms();
				else if (conn_idle_s(c) > 0 && mono_ms() - c->partial_since > (hl_ms)conn_idle_s(c) * 1000) {
					log_warn("conn %llu (%s): a line took longer than the idle timeout, closing",
					         (unsigned long long)c->id, c->peer);
					conn_free(c);
					return;
				}
			}
			break;
		}
		c->partial_since = 0;
		c->scanned = 0;
		size_t len = (size_t)p.pos;
		char stackbuf[4096];
		char *line = len < sizeof stackbuf ? stackbuf : malloc(len + 1);
		if (!line)
			abort();
		evbuffer_remove(in, line, len);
		evbuffer_drain(in, eol_len);
		line[len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len > max_line) {
			struct req *r = req_new(c);
			req_fail(r, NULL, HL_E_TOO_LARGE, "line longer than max_line");
			log_warn("conn %llu (%s): line of %zu bytes over max_line, closing",
			         (unsigned long long)c->id, c->peer, len);
		} else if (len > 0) {
			conn_handle_line(c, line, len);
		}
		if (line != stackbuf)
			free(line);
		/* flush as we go so the inflight count and pauses are accurate */
		if (conn_flush(c))
			return;
	}
	conn_flush(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	conn_flush(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		if (c->draining) {
			/* stopping and the client has gone quiet: close once replies are out */
			stop_reading(c);
			conn_flush(c);
			return;
		}
		if (what & BEV_EVENT_WRITING)
			log_info("conn %llu (%s): idle timeout: its replies have not been read for %d s",
			         (unsigned long long)c->id, c->peer, hl->cfg->listen.idle_timeout_s);
		else
			log_info("conn %llu (%s): idle timeout", (unsigned long long)c->id, c->peer);
		conn_free(c);
	} else if (what & BEV_EVENT_EOF) {
		/* the client has sent everything: answer what is in flight, then close */
		stop_reading(c);
		unsubscribe(c);
		conn_flush(c);
	} else if (what & BEV_EVENT_ERROR) {
		log_info("conn %llu (%s): %s", (unsigned long long)c->id, c->peer, strerror(errno));
		conn_free(c);
	}
}

static void conn_free(struct conn *c)
{
	unsubscribe(c);
	drop_reqs(c);
	LIST_REMOVE(c, entry);
	n_conns--;
	bufferevent_free(c->bev);
	log_debug("conn %llu: closed", (unsigned long long)c->id);
	free(c);
}

/* The reply line for what the store answered, rendered here where the
 * request was parsed (the store knows outcomes, not the wire format). */
static char *render_answer(const struct req *r, const struct store_answer *a)
{
	const char *id = r->ev.id;
	if (r->read_sql) /* an HTTP read: the row's JSON text is the whole answer */
		return hl_xstrdup(a->json ? a->json : "null");
	if (a->err != HL_OK)
		return hl_reply_error(id, a->err, a->message);
	if (r->ev.type == HL_CMD_CASE_GET)
		return hl_reply_with(id, "case", a->json);
	if (r->ev.type == HL_CMD_ALERT_ACK)
		return hl_reply_ack(id, a->acked_by, a->acked_at);
	if (a->order_id && a->order_id[0])
		return hl_reply_order(id, a->case_id, a->order_id, a->duplicate);
	return hl_reply_case(id, a->case_id, a->duplicate);
}

void conn_answer(struct req *r, const struct store_answer *a)
{
	conn_complete(r, render_answer(r, a));
}

void conn_complete(struct req *r, char *reply)
{
	if (r->on_reply) { /* an HTTP request: its owner writes the reply */
		r->on_reply(r, reply);
		return;
	}
	struct conn *c = r->conn;
	if (!c) {
		hl_event_free(&r->ev);
		free(reply);
		free(r);
		return;
	}
	r->reply = reply;
	r->done = true;
	if (r == TAILQ_FIRST(&c->reqs))
		conn_flush(c);
}

/* ----------------------------------------------- socket subscribers
 *
 * A subscribed connection is one entry of subscribers.c's list: its push
 * function renders the push line.  Registration happens BEFORE the reply is
 * queued: if writing the reply drops the connection, conn_free unregisters
 * it; nothing is touched after conn_complete, which may free the connection. */

static void conn_sub_push(void *owner, enum sub_event what, int64_t id, const char *alert_json,
                          const char *masked_json)
{
	(void)id;
	/* full access is trusted (Unix permissions or a token); viewers and supervisors get the masked form */
	const char *json = conn_masked(owner) ? masked_json : alert_json;
	/* new and escalated alerts, and acknowledgements so other watchers see who took it */
	char *line = what == SUB_ACK ? hl_push_ack(json) : hl_push_alert(json);
	conn_push(owner, line, strlen(line));
	free(line);
}

static void unsubscribe(struct conn *c)
{
	subscribers_remove(c->sub);
	c->sub = NULL;
}

void conn_set_subscriber(struct conn *c)
{
	if (c->sub || c->closing)
		return;
	c->sub = subscribers_add(conn_sub_push, c);
	conn_set_timeouts(c);
}

/* Append text to a growing buffer. */
static void buf_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
		if (!*buf)
			abort();
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* The store answered a subscribe: reply, replay and register (see the top). */
void subscribe_replayed(struct req *r, const struct replay *rp)
{
	if (r->on_replay) {
		r->on_replay(r, rp);
		return;
	}
	struct conn *c = r->conn;
	/* keep the newest alerts that fit in half of max_output */
	size_t budget = hl->cfg->listen.max_output / 2, used = 0, first = rp->n;
	char **lines = calloc(rp->n ? rp->n : 1, sizeof *lines);
	if (!lines)
		abort();
	const char **json = r->masked ? rp->masked : rp->json;
	while (first > 0) {
		char *line = hl_push_alert(json[first - 1]);
		size_t n = strlen(line);
		if (used + n > budget) {
			free(line);
			break;
		}
		used += n;
		lines[--first] = line;
	}
	int64_t omitted = rp->omitted + (int64_t)first;
	char *all = hl_reply_ok(r->ev.id);
	size_t len = strlen(all), cap = len + 1;
	if (omitted > 0) {
		char *info = subscribe_replay_line(rp->n - first, omitted, first < rp->n ? rp->ids[first] : 0);
		buf_add(&all, &len, &cap, info, strlen(info));
		free(info);
		log_notice("subscribe: %lld older open alerts not replayed (alerts.replay_max %d, max_output %zu)",
		           (long long)omitted, hl->cfg->alerts.replay_max, hl->cfg->listen.max_output);
	}
	for (size_t i = first; i < rp->n; i++) {
		buf_add(&all, &len, &cap, lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	free(lines);
	if (c) {
		conn_set_subscriber(c); /* before the reply: a drop while writing it unregisters */
		subscribers_replayed(c->sub, rp, first); /* not pushed to it again (subscribers.c) */
	}
	conn_complete(r, all);       /* may free c */
}


void conn_push(struct conn *c, const char *line, size_t len)
{
	if (TAILQ_EMPTY(&c->reqs)) {
		evbuffer_add(bufferevent_get_output(c->bev), line, len);
	} else {
		/* replies are still pending: keep the push behind them, in order */
		struct req *r = calloc(1, sizeof *r);
		if (!r)
			abort();
		r->conn = c;
		r->reply = malloc(len + 1);
		if (!r->reply)
			abort();
		memcpy(r->reply, line, len);
		r->reply[len] = '\0';
		r->done = true;
		TAILQ_INSERT_TAIL(&c->reqs, r, entry);
		c->inflight++;
	}
	conn_flush(c);
}

void conn_pause_all(bool paused)
{
	struct conn *c;
	if (global_paused == paused)
		return;
	global_paused = paused;
	LIST_FOREACH(c, &conns, entry) {
		c->paused_global = paused;
		conn_update_reading(c);
	}
}

/*
 * Graceful stop.  Lines a client sent before the stop may still sit in the
 * socket buffer: keep reading so that each gets an answer (`unavailable`,
 * from conn_handle_line, while what was already queued is acknowledged),
 * and close a connection once it has been quiet for 300 ms, or at EOF.
 * Subscribers only listen: they are closed as soon as their output is out.
 */
void conn_shutdown_all(void)
{
	struct conn *c, *tmp;
	struct timeval quiet = { 0, 300 * 1000 };
	for (c = LIST_FIRST(&conns); c; c = tmp) {
		tmp = LIST_NEXT(c, entry);
		if (c->closing)
			continue;
		if (c->sub) {
			unsubscribe(c);
			stop_reading(c);
			conn_flush(c);
			continue;
		}
		c->draining = true;
		bufferevent_set_timeouts(c->bev, &quiet, NULL);
		conn_update_reading(c);
	}
}

bool conn_all_drained(void) { return n_conns == 0; }

void conn_close_all(void)
{
	struct conn *c;
	while ((c = LIST_FIRST(&conns)))
		conn_free(c);
}
