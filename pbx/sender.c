/*
 * sender.c - hotline-pbx's client of hotlined's event socket.
 *
 * Requests are pipelined: up to `window` lines are in flight on one
 * connection, and hotlined answers them in order (CONTRACT 3), so the
 * answer at the head of the input always belongs to the oldest item in
 * flight.  An item is done when hotlined has answered it:
 *
 *   ok (or duplicate)                 acknowledged: committed in PostgreSQL
 *   unavailable, busy, internal       not stored: the connection is dropped and
 *                                     everything in flight is sent again after a
 *                                     backoff (ids make a resend harmless)
 *   any other error (bad_request,     the event can never be stored: logged,
 *   unknown_call, ...)                counted as rejected, and passed (a bad
 *                                     record must not stall the whole log)
 *
 * on_done(pos) is called for each done item in order, so the source can
 * advance its position exactly as far as hotlined has answered and no
 * further.  A lost connection is retried with exponential backoff
 * (100 ms .. 5 s); the sender never drops what it was given (AMI mode
 * bounds what it gives: ami.c, `ami.backlog`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "pbx_shell.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct item {
	TAILQ_ENTRY(item) entry;
	char *line;
	char id[HL_ID_MAX + 1];
	uint64_t pos;
	bool sent;
};

struct sender {
	struct event_base *base;
	const struct pbx_conf *conf;
	TAILQ_HEAD(, item) q;
	size_t n_q, n_inflight;
	struct item *next;        /* first item not yet written on this connection */
	struct bufferevent *bev;
	bool connected, authing;
	struct event *retry;
	int backoff_ms;
	struct evdns_base *dns;
	void (*on_done)(void *ctx, uint64_t pos);
	void *ctx;
	struct sender_stats st;
};

static void connect_now(struct sender *s);

static void pump(struct sender *s)
{
	if (!s->connected || s->authing)
		return;
	while (s->next && s->n_inflight < (size_t)s->conf->window) {
		bufferevent_write(s->bev, s->next->line, strlen(s->next->line));
		s->next->sent = true;
		s->n_inflight++;
		s->st.sent++;
		s->next = TAILQ_NEXT(s->next, entry);
	}
}

static void drop_connection(struct sender *s, const char *why)
{
	if (s->bev) {
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	if (s->connected || why)
		pbx_log(PBX_WARN, "hotlined connection lost (%s); %zu event(s) in flight will be sent again in %d ms",
		        why ? why : "closed", s->n_inflight, s->backoff_ms);
	s->connected = s->authing = false;
	struct item *it;
	TAILQ_FOREACH(it, &s->q, entry)
		it->sent = false;
	s->st.retries += s->n_inflight;
	s->n_inflight = 0;
	s->next = TAILQ_FIRST(&s->q);
	struct timeval tv = { s->backoff_ms / 1000, (s->backoff_ms % 1000) * 1000 };
	evtimer_add(s->retry, &tv);
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

static bool transient(const char *code)
{
	return code && (strcmp(code, "unavailable") == 0 || strcmp(code, "busy") == 0 ||
	                strcmp(code, "internal") == 0);
}

static const char *jstr(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, k1, &v))
		return NULL;
	if (k2 && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool jtrue(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;
	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

/* One response line.  false: the connection was dropped. */
static bool on_response(struct sender *s, const char *line)
{
	struct json_object *o = json_tokener_parse(line);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		drop_connection(s, "unreadable response");
		return false;
	}
	if (s->authing) {
		s->authing = false;
		if (!jtrue(o, "ok")) {
			pbx_log(PBX_ERR, "hotlined refused the token: %s", jstr(o, "error", "message") ?: "?");
			json_object_put(o);
			drop_connection(s, "auth refused");
			return false;
		}
		json_object_put(o);
		pump(s);
		return true;
	}
	struct item *head = TAILQ_FIRST(&s->q);
	const char *id = jstr(o, "id", NULL);
	const char *code = jstr(o, "error", "code");
	if (!id && head && head->sent && code && strcmp(code, "bad_json") == 0)
		id = head->id; /* a line hotlined could not parse has no id: it is still the head's answer */
	if (!head || !head->sent || !id || strcmp(id, head->id) != 0) {
		pbx_log(PBX_ERR, "response for '%s' while waiting for '%s'", id ? id : "null", head ? head->id : "nothing");
		json_object_put(o);
		drop_connection(s, "out-of-order response");
		return false;
	}
	if (jtrue(o, "ok")) {
		s->st.acked++;
		if (jtrue(o, "duplicate"))
			s->st.duplicates++;
		s->backoff_ms = BACKOFF_MIN_MS;
	} else {
		if (transient(code)) {
			pbx_log(PBX_WARN, "hotlined: %s (%s); retrying", code, jstr(o, "error", "message") ?: "");
			json_object_put(o);
			drop_connection(s, code);
			return false;
		}
		s->st.rejected++;
		pbx_log(PBX_WARN, "event %s rejected: %s: %s", head->id, code ? code : "?",
		        jstr(o, "error", "message") ?: "");
	}
	json_object_put(o);
	TAILQ_REMOVE(&s->q, head, entry);
	s->n_q--;
	s->n_inflight--;
	uint64_t pos = head->pos;
	free(head->line);
	free(head);
	if (s->on_done)
		s->on_done(s->ctx, pos);
	return true;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct sender *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;
	while (s->bev == bev && (line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF))) {
		bool alive = on_response(s, line);
		free(line);
		if (!alive)
			return;
	}
	pump(s);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sender *s = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		s->connected = true;
		pbx_log(PBX_INFO, "connected to hotlined");
		if (s->conf->token[0]) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "type", json_object_new_string("auth"));
			json_object_object_add(o, "id", json_object_new_string("hotline-pbx-auth"));
			json_object_object_add(o, "token", json_object_new_string(s->conf->token));
			const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
			bufferevent_write(s->bev, txt, strlen(txt));
			bufferevent_write(s->bev, "\n", 1);
			json_object_put(o);
			s->authing = true;
		}
		pump(s);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		char why[128];
		snprintf(why, sizeof why, "%s", (what & BEV_EVENT_EOF) ? "closed by hotlined" : strerror(errno));
		drop_connection(s, why);
	}
}

static void connect_now(struct sender *s)
{
	s->bev = bufferevent_socket_new(s->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!s->bev) {
		drop_connection(s, "out of memory");
		return;
	}
	bufferevent_setcb(s->bev, read_cb, NULL, event_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	int rc;
	if (s->conf->socket[0]) {
		struct sockaddr_un sun;
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		size_t n = strlen(s->conf->socket);
		if (n >= sizeof sun.sun_path) {
			pbx_log(PBX_ERR, "socket path too long: %s", s->conf->socket);
			abort();
		}
		memcpy(sun.sun_path, s->conf->socket, n + 1);
		rc = bufferevent_socket_connect(s->bev, (struct sockaddr *)&sun, sizeof sun);
	} else {
		char host[256];
		snprintf(host, sizeof host, "%s", s->conf->tcp);
		char *colon = strrchr(host, ':');
		int port = colon ? atoi(colon + 1) : 0;
		if (colon)
			*colon = '\0';
		if (!s->dns)
			s->dns = evdns_base_new(s->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
		rc = bufferevent_socket_connect_hostname(s->bev, s->dns, AF_UNSPEC, host, port);
	}
	if (rc != 0) {
		bufferevent_free(s->bev);
		s->bev = NULL;
		drop_connection(s, "connect failed");
	}
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct sender *s = arg;
	s->st.reconnects++;
	connect_now(s);
}

struct sender *sender_new(struct event_base *base, const struct pbx_conf *c,
                          void (*on_done)(void *ctx, uint64_t pos), void *ctx)
{
	struct sender *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->base = base;
	s->conf = c;
	s->on_done = on_done;
	s->ctx = ctx;
	TAILQ_INIT(&s->q);
	s->backoff_ms = BACKOFF_MIN_MS;
	s->retry = evtimer_new(base, retry_cb, s);
	connect_now(s);
	return s;
}

void sender_free(struct sender *s)
{
	if (!s)
		return;
	if (s->bev)
		bufferevent_free(s->bev);
	if (s->retry)
		event_free(s->retry);
	if (s->dns)
		evdns_base_free(s->dns, 0);
	struct item *it;
	while ((it = TAILQ_FIRST(&s->q))) {
		TAILQ_REMOVE(&s->q, it, entry);
		free(it->line);
		free(it);
	}
	free(s);
}

void sender_push(struct sender *s, char *line, const char *id, uint64_t pos)
{
	struct item *it = calloc(1, sizeof *it);
	if (!it)
		abort();
	it->line = line;
	snprintf(it->id, sizeof it->id, "%s", id);
	it->pos = pos;
	TAILQ_INSERT_TAIL(&s->q, it, entry);
	s->n_q++;
	if (!s->next)
		s->next = it;
	pump(s);
}

size_t sender_backlog(const struct sender *s)
{
	return s->n_q;
}

bool sender_idle(const struct sender *s)
{
	return s->n_q == 0;
}

const struct sender_stats *sender_stats(const struct sender *s)
{
	return &s->st;
}
