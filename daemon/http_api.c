/*
 * http_api.c - the HTTP API's router and its JSON endpoints (CONTRACT.md section 7).
 *
 *   POST /v1/events            one JSON event or NDJSON lines -> NDJSON, one socket reply per line
 *   POST /v1/alerts/{id}/ack   acked_by = the authenticated name; answered with the stored (first) ack
 *   GET  /v1/cases/{id}        the case as case.get returns it (confidential caller masked)
 *   GET  /v1/figures?day=D     the day's figures (hotline.daily_figures), report time zone
 *   GET  /v1/board             the wallboard's lists: overdue callbacks, overdue orders, figures
 *   GET  /v1/alerts/stream     -> sse.c;  /v1/session -> http_auth.c (DELETE: sign_out);  / -> wallboard.c
 *
 * Nothing here touches the database directly.  Every request becomes one or
 * more `struct req` submitted to the store exactly as the socket does
 * (store_submit); the store's completion (req.on_reply) lands in a `struct
 * pending`, and the HTTP answer is sent when the last of its requests is
 * done, i.e. after COMMIT, in request order.  Reads are single statements
 * (req.read_sql, functions of sql/011_http.sql) run in the store's pipeline.
 *
 * The figures come from hotline.daily_figures, a report over the whole
 * history (seconds on ten million events, docs/explain.md), and the reads
 * share the store's one connection with the events' commits.  So the board
 * and the figures are cached for READ_CACHE_MS: any number of wall screens
 * cost one such query per interval, not one each.  When the figures'
 * rollup was counted in another zone than report.timezone (changed without
 * --migrate), the read answers figures_stale at once instead of recounting
 * the history on that connection (sql/083): /v1/figures is 503.
 *
 * The path is routed percent-decoded (http_params.c; a path that cannot be
 * decoded is a 400), and a numeric parameter that is no number is a 400
 * naming it.  A request that comes with the wallboard's session cookie is
 * first asked about in the store (P_SESSION: has the session signed out,
 * sql/078?) and routed again with the answer (http_auth.c); DELETE
 * /v1/session records the sign-out there (P_SIGNOUT).
 *
 * A client that goes away while its requests are in the store: the
 * connection's close callback forgets the evhttp request (freeing it when
 * libevent left it to us); the store's answers are then dropped.  Events
 * already submitted are still committed, as on the socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>

#include "daemon.h"
#include "http_api.h"
#include "http_params.h"
#include "protocol.h"

/* P_SESSION: is the request's session cookie live (then it is routed again);
 * P_SIGNOUT: record a sign-out */
enum pending_kind { P_EVENTS, P_ACK, P_CASE, P_FIGURES, P_BOARD, P_SESSION, P_SIGNOUT };

struct pending {
	struct evhttp_request *req;  /* NULL once the client is gone */
	struct evhttp_connection *evcon;
	enum pending_kind kind;
	struct req *reqs;            /* n requests, answered into replies[] */
	char **replies;
	size_t n, done;
	bool submitting;             /* do not finish while still submitting */
	/* P_EVENTS: the parsed events go to the store a window at a time (pending_feed) */
	size_t next;                 /* the next request to hand over */
	size_t sent;                 /* handed to the store */
	size_t pre_answered;         /* answered when parsed (bad lines) */
	char param[3][64];           /* read parameters: alive until the store sent them */
	char name[130];              /* P_ACK: acked_by of this request (the answer names the stored one) */
};

static const char READ_CASE[] = "SELECT hotline.http_case_json($1::bigint)";
static const char READ_FIGURES[] = "SELECT hotline.http_figures_json($1::date)";
static const char READ_BOARD[] = "SELECT hotline.http_board_json()";
static const char READ_SESSION_LIVE[] = "SELECT hotline.http_session_live($1)";
static const char WRITE_SESSION_END[] = "SELECT hotline.http_session_end($1, $2::bigint)";

#define READ_CACHE_MS 30000
#define READ_CACHE_N 8

/* Recent answers of the report reads (board, figures by day). */
static struct {
	const char *sql;
	char param[64];
	char *text;
	hl_ms at; /* monotonic */
} cache[READ_CACHE_N];

static bool cacheable(const char *sql) { return sql == READ_BOARD || sql == READ_FIGURES; }

static const char *cache_get(const char *sql, const char *param)
{
	for (int i = 0; i < READ_CACHE_N; i++)
		if (cache[i].text && cache[i].sql == sql && strcmp(cache[i].param, param ? param : "") == 0 &&
		    mono_ms() - cache[i].at < READ_CACHE_MS)
			return cache[i].text;
	return NULL;
}

static void cache_put(const char *sql, const char *param, const char *text)
{
	int slot = 0;
	for (int i = 0; i < READ_CACHE_N; i++) {
		if (cache[i].sql == sql && strcmp(cache[i].param, param ? param : "") == 0) {
			slot = i;
			break;
		}
		if (cache[i].at < cache[slot].at)
			slot = i; /* else the oldest */
	}
	free(cache[slot].text);
	cache[slot].sql = sql;
	snprintf(cache[slot].param, sizeof cache[slot].param, "%s", param ? param : "");
	cache[slot].text = strdup(text);
	cache[slot].at = mono_ms();
}

void http_api_free(void)
{
	for (int i = 0; i < READ_CACHE_N; i++) {
		free(cache[i].text);
		cache[i].text = NULL;
	}
}

/* ------------------------------------------------------- pending work */

static void pending_closed(struct evhttp_connection *evcon, void *arg)
{
	struct pending *p = arg;
	(void)evcon;
	if (p->req && !evhttp_request_get_connection(p->req))
		evhttp_request_free(p->req); /* libevent detached it and left it to us */
	p->req = NULL;
	/* a read nobody waits for any more is dropped from the store's queue
	 * (events and acknowledgements are still done) */
	if (p->kind != P_EVENTS && p->kind != P_ACK && p->kind != P_SIGNOUT)
		for (size_t i = 0; i < p->n; i++)
			p->reqs[i].gone = true;
}

static struct pending *pending_new(struct evhttp_request *req, enum pending_kind kind, size_t n)
{
	struct pending *p = calloc(1, sizeof *p);
	if (!p)
		abort();
	p->req = req;
	p->kind = kind;
	p->n = n;
	p->reqs = calloc(n ? n : 1, sizeof *p->reqs);
	p->replies = calloc(n ? n : 1, sizeof *p->replies);
	if (!p->reqs || !p->replies)
		abort();
	p->evcon = evhttp_request_get_connection(req);
	if (p->evcon)
		http_conn_set_closecb(p->evcon, pending_closed, p);
	return p;
}

static void pending_free(struct pending *p)
{
	for (size_t i = 0; i < p->n; i++) {
		hl_event_free(&p->reqs[i].ev);
		free(p->replies[i]);
	}
	free(p->reqs);
	free(p->replies);
	free(p);
}

/* The error code of a socket reply line, or NULL when it is ok / not an error reply. */
static const char *reply_error(const char *reply, json_object **holder)
{
	*holder = json_tokener_parse(reply);
	json_object *ok, *err, *code;
	if (*holder && json_object_object_get_ex(*holder, "ok", &ok) && !json_object_get_boolean(ok) &&
	    json_object_object_get_ex(*holder, "error", &err) && json_object_object_get_ex(err, "code", &code))
		return json_object_get_string(code);
	return NULL;
}

static void dispatch(struct evhttp_request *req);

static void answer_read(struct pending *p)
{
	struct evhttp_request *req = p->req;
	const char *reply = p->replies[0];
	json_object *holder;
	const char *code = reply_error(reply, &holder);
	if (p->kind == P_SIGNOUT) {
		json_object *err = NULL, *msg = NULL;
		json_object_object_get_ex(holder, "error", &err);
		json_object_object_get_ex(err, "message", &msg);
		bool down = code && strcmp(code, "unavailable") == 0;
		http_session_signed_out(req, p->param[0], !code ? 200 : down ? 503 : 500, code,
		                        msg ? json_object_get_string(msg) : "the sign-out could not be stored");
	} else if (p->kind == P_SESSION && !code) {
		/* routed again, with what the store says of its session */
		http_session_verdict(req, strcmp(reply, "true") == 0);
		dispatch(req);
		http_session_verdict(NULL, false);
	} else if (code) {
		json_object *err = NULL, *msg = NULL;
		json_object_object_get_ex(holder, "error", &err);
		json_object_object_get_ex(err, "message", &msg);
		const char *m = msg ? json_object_get_string(msg) : code;
		if (strcmp(code, "unavailable") == 0)
			http_send_error(req, 503, code, m);
		else if (strcmp(code, "unknown_alert") == 0 || strcmp(code, "unknown_case") == 0)
			http_send_error(req, 404, code, m);
		else if (strcmp(code, "bad_request") == 0)
			http_send_error(req, 400, code, m);
		else
			http_send_error(req, 500, code, m);
	} else if (p->kind == P_ACK) {
		/* the acknowledgement the database keeps, as the socket's reply
		 * carries it: after an earlier ack that is the first acker and
		 * time, not this requester (the first ack wins) */
		json_object *by = NULL, *at = NULL, *o = json_object_new_object();
		json_object_object_get_ex(holder, "acked_by", &by);
		json_object_object_get_ex(holder, "acked_at", &at);
		json_object_object_add(o, "ok", json_object_new_boolean(true));
		json_object_object_add(o, "alert_id", json_object_new_int64(p->reqs[0].ev.alert_id));
		json_object_object_add(o, "acked_by", by ? json_object_get(by) : json_object_new_string(p->name));
		if (at)
			json_object_object_add(o, "acked_at", json_object_get(at));
		const char *body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		http_send_text(req, 200, "application/json", body, strlen(body));
		json_object_put(o);
	} else if (strcmp(reply, "null") == 0) {
		http_send_error(req, 404, p->kind == P_CASE ? "unknown_case" : "not_found", "no such object");
	} else if (p->kind == P_FIGURES && strncmp(reply, "{\"error\"", 8) == 0) {
		/* figures_stale (sql/083): counted in another zone; not cached, so
		 * the answer follows the --migrate that recounts them */
		http_send_text(req, 503, "application/json", reply, strlen(reply));
	} else {
		if (cacheable(p->reqs[0].read_sql))
			cache_put(p->reqs[0].read_sql, p->reqs[0].read_params[0], reply);
		http_send_text(req, 200, "application/json", reply, strlen(reply));
	}
	json_object_put(holder);
}

static void pending_finish(struct pending *p)
{
	if (p->req) {
		if (p->evcon)
			http_conn_set_closecb(p->evcon, NULL, NULL);
		if (p->kind == P_EVENTS) {
			/* 503 when any event found the database unreachable: the body still
			 * says which were stored; resending all of it is safe (ids) */
			bool unavailable = false;
			struct evbuffer *b = evbuffer_new();
			for (size_t i = 0; i < p->n; i++) {
				evbuffer_add(b, p->replies[i], strlen(p->replies[i]));
				unavailable |= strstr(p->replies[i], "\"code\":\"unavailable\"") != NULL;
			}
			struct evkeyvalq *h = evhttp_request_get_output_headers(p->req);
			http_common_headers(p->req);
			evhttp_add_header(h, "Content-Type", "application/x-ndjson");
			if (unavailable)
				evhttp_add_header(h, "Retry-After", "5");
			http_send_reply(p->req, unavailable ? 503 : 200, unavailable ? "Service Unavailable" : "OK", b);
			evbuffer_free(b);
		} else {
			answer_read(p);
		}
	}
	pending_free(p);
}

static void pending_reply(struct req *r, char *reply);

/*
 * A body's events reach the store at most listen.max_inflight at a time, as
 * a socket client's pipelined lines do (conn.c stops reading it there): the
 * next ones go as the first are answered.  Handed over all at once, a body
 * of the default http.max_body (1 MiB, some 10,000 events) put every other
 * client's event behind all of them (2.6 s for one event instead of 8 ms)
 * and paused the reading of every socket (the store's backlog limit), so one
 * client stalled all the others.  Events still go in the body's order.
 * Re-entered from pending_reply when the store answers at once (database
 * gone): the loop that is running goes on instead.
 */
static void pending_feed(struct pending *p)
{
	size_t window = hl->cfg->listen.max_inflight ? (size_t)hl->cfg->listen.max_inflight : 1;
	p->submitting = true;
	while (p->next < p->n && p->sent - (p->done - p->pre_answered) < window) {
		struct req *r = &p->reqs[p->next++];
		if (p->replies[r - p->reqs])
			continue; /* answered when parsed */
		p->sent++;
		/* also during a graceful stop: the body came before it, so all of
		 * it is in flight and is finished (main.c waits for the answer) */
		store_submit(r); /* may answer at once (database gone): pending_reply */
	}
	p->submitting = false;
	if (p->done == p->n)
		pending_finish(p);
}

static void pending_reply(struct req *r, char *reply)
{
	struct pending *p = r->owner;
	size_t i = (size_t)(r - p->reqs);
	p->replies[i] = reply ? reply : strdup("{\"id\":null,\"ok\":false,\"error\":{\"code\":\"internal\"}}\n");
	p->done++;
	if (p->submitting)
		return; /* the loop handing requests over goes on (pending_feed) */
	if (p->kind == P_EVENTS && p->next < p->n)
		pending_feed(p);
	else if (p->done == p->n)
		pending_finish(p);
}

static struct req *pending_req(struct pending *p, size_t i)
{
	struct req *r = &p->reqs[i];
	r->on_reply = pending_reply;
	r->owner = p;
	r->started_us = mono_us();
	return r;
}

static void submit_read2(struct evhttp_request *req, enum pending_kind kind, const char *sql, int n,
                         const char *param, const char *param2)
{
	const char *hit = cacheable(sql) ? cache_get(sql, param) : NULL;
	if (hit) {
		http_send_text(req, 200, "application/json", hit, strlen(hit));
		return;
	}
	struct pending *p = pending_new(req, kind, 1);
	struct req *r = pending_req(p, 0);
	r->read_sql = sql;
	const char *params[2] = { param, param2 };
	for (int i = 0; i < n; i++) {
		r->read_params[i] = NULL;
		if (params[i]) {
			snprintf(p->param[i], sizeof p->param[i], "%s", params[i]);
			r->read_params[i] = p->param[i];
		}
	}
	r->read_nparams = n;
	store_submit(r);
}

static void submit_read(struct evhttp_request *req, enum pending_kind kind, const char *sql, const char *param)
{
	submit_read2(req, kind, sql, sql == READ_BOARD ? 0 : 1, param, NULL);
}

static bool database_ok(struct evhttp_request *req)
{
	if (hl->stopping) {
		http_send_error(req, 503, "unavailable", "shutting down; retry");
		return false;
	}
	if (store_unavailable()) {
		http_send_error(req, 503, "unavailable", "database unavailable; nothing was stored; retry later");
		return false;
	}
	return true;
}

/* ----------------------------------------------------------- endpoints */

static void post_events(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	if (len > hl->cfg->http.max_body) {
		http_send_error(req, 413, "too_large", "body larger than http.max_body");
		return;
	}
	if (!database_ok(req))
		return;
	char *body = malloc(len + 1);
	if (!body)
		abort();
	evbuffer_copyout(in, body, len);
	body[len] = '\0';
	if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
		memset(body, ' ', 3); /* a UTF-8 byte order mark (Windows tools): RFC 8259 lets us ignore it */
	size_t n = 0;
	for (char *s = body; s < body + len;) {
		char *e = memchr(s, '\n', (size_t)(body + len - s));
		size_t l = e ? (size_t)(e - s) : (size_t)(body + len - s);
		if (l > 0 && s[l - 1] == '\r')
			l--;
		if (l > 0)
			n++;
		s += (e ? (size_t)(e - s) + 1 : l);
		if (!e)
			break;
	}
	if (n > 1 && hl_is_one_json_object(body, len)) {
		/* one event written over several lines ("a body of one JSON
		 * event"): its newlines are whitespace between tokens (JSON
		 * strings cannot hold them raw), so it becomes one line */
		for (size_t i = 0; i < len; i++)
			if (body[i] == '\n' || body[i] == '\r')
				body[i] = ' ';
		n = 1;
	}
	if (n == 0) {
		free(body);
		http_send_error(req, 400, "bad_request", "body: no event (one JSON object, or one per line)");
		return;
	}
	struct pending *p = pending_new(req, P_EVENTS, n);
	p->submitting = true;
	size_t i = 0;
	hl_ms now = now_ms();
	for (char *s = body; s < body + len && i < n;) {
		char *e = memchr(s, '\n', (size_t)(body + len - s));
		size_t l = e ? (size_t)(e - s) : (size_t)(body + len - s);
		char *next = e ? e + 1 : body + len;
		if (l > 0 && s[l - 1] == '\r')
			l--;
		if (l == 0) {
			s = next;
			continue;
		}
		struct req *r = pending_req(p, i++);
		struct hl_error err = { 0 };
		hl->stats.requests++;
		enum hl_err rc = l > hl->cfg->listen.max_line ? HL_E_TOO_LARGE : hl_parse_request(s, l, now, &r->ev, &err);
		if (rc == HL_E_TOO_LARGE && !err.message[0])
			snprintf(err.message, sizeof err.message, "line longer than max_line");
		if (rc == HL_OK && !hl_type_is_event(r->ev.type)) {
			rc = HL_E_BAD_REQUEST;
			snprintf(err.message, sizeof err.message, "type: only events are accepted on /v1/events");
		}
		if (rc != HL_OK) {
			if ((size_t)rc < sizeof hl->stats.errors / sizeof hl->stats.errors[0])
				hl->stats.errors[rc]++;
			pending_reply(r, hl_reply_error(r->ev.id[0] ? r->ev.id : NULL, rc, err.message));
			p->pre_answered++;
		}
		s = next;
	}
	free(body);
	pending_feed(p); /* frees p when every event is answered */
}

static void post_ack(struct evhttp_request *req, int64_t alert_id, const struct http_principal *who)
{
	if (!database_ok(req))
		return;
	struct pending *p = pending_new(req, P_ACK, 1);
	snprintf(p->name, sizeof p->name, "%s", who->name);
	struct req *r = pending_req(p, 0);
	r->ev.type = HL_CMD_ALERT_ACK;
	snprintf(r->ev.id, sizeof r->ev.id, "http-ack");
	r->ev.alert_id = alert_id;
	r->ev.at = r->ev.received = now_ms();
	r->ev.by = strdup(who->name);
	if (!r->ev.by)
		abort();
	store_submit(r);
}

/* "YYYY-MM-DD" naming a real date. */
static bool valid_day(const char *s)
{
	int y, m, d, n = 0;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* A positive decimal id; -1 when not one. */
static int64_t parse_id(const char *s, size_t len)
{
	char b[24];
	int64_t v;
	if (len == 0 || len >= sizeof b)
		return -1;
	memcpy(b, s, len);
	b[len] = '\0';
	return hl_parse_count(b, &v) && v > 0 ? v : -1;
}

static void get_figures(struct evhttp_request *req)
{
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	char day[64];
	enum hl_param rc = hl_query_param(query, "day", day, sizeof day);
	if (rc == HL_PARAM_BAD || (rc == HL_PARAM_OK && !valid_day(day))) {
		/* a well-formed day out of the range says so (1900-01-01 is a date) */
		http_send_error(req, 400, "bad_request", "day: not a date YYYY-MM-DD from 1970-01-01 to 9999-12-31");
	} else if (database_ok(req)) {
		submit_read(req, P_FIGURES, READ_FIGURES, rc == HL_PARAM_OK ? day : NULL);
	}
}

/* Last-Event-ID (EventSource's own reconnect) or ?since=N (the page's): an
 * alert id, 0 for every open alert.  Either one that is no such number is
 * answered 400 (false): before, since=abc was since=0, every open alert. */
static bool stream_since(struct evhttp_request *req, int64_t *since)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
	*since = 0;
	if (h && *h) { /* an empty one is none (EventSource never sends it empty) */
		if (hl_parse_count(h, since))
			return true;
		http_send_error(req, 400, "bad_request", "Last-Event-ID: not an alert id (a number, 0 or more)");
		return false;
	}
	char v[64];
	enum hl_param rc = hl_query_param(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)), "since", v, sizeof v);
	if (rc == HL_PARAM_ABSENT || (rc == HL_PARAM_OK && hl_parse_count(v, since)))
		return true;
	http_send_error(req, 400, "bad_request", "since: not an alert id (a number, 0 or more, given once)");
	return false;
}

static void route(struct evhttp_request *req, const char *path);

void http_api_route(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (!http_conn_request(req)) /* complete: no deadline while it is answered (a stream included) */
		return;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!raw) {
		http_send_error(req, 400, "bad_request", "bad URI");
		return;
	}
	/* routed decoded (RFC 3986 2.1): /v1/cases/%31 is /v1/cases/1; what
	 * cannot be decoded is a 400 before any token is looked at */
	dispatch(req);
}

/* Decode the path and route; again when the store has said whether the
 * request's session is live (answer_read). */
static void dispatch(struct evhttp_request *req)
{
	const char *raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	char *path = malloc(strlen(raw) + 1);
	if (!path)
		abort();
	const char *why = hl_path_decode(raw, path);
	if (why)
		http_send_error(req, 400, "bad_request", why);
	else
		route(req, path);
	free(path);
}

/* DELETE /v1/session: the session is recorded as ended in the database
 * (every daemon, and after a restart, refuses its cookie), then answered. */
static void sign_out(struct evhttp_request *req)
{
	char sid[HTTP_SID_LEN + 1], until[24];
	long long u;
	if (!http_session_signout(req, sid, &u))
		return;
	if (hl->stopping || store_unavailable()) {
		http_session_signed_out(req, sid, 503, "unavailable",
		                        "database unavailable: the session is not ended yet; sign out again later");
		return;
	}
	snprintf(until, sizeof until, "%lld", u);
	submit_read2(req, P_SIGNOUT, WRITE_SESSION_END, 2, sid, until);
}

/* The decoded path's endpoint. */
static void route(struct evhttp_request *req, const char *path)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD, post = cmd == EVHTTP_REQ_POST;
	struct http_principal who;
	int64_t since;
	if (get && wallboard_serve(req, path))
		return;
	if (!get && wallboard_has(path)) {
		http_send_method_error(req, "GET, HEAD");
		return;
	}
	if (strncmp(path, "/v1/", 4) != 0) {
		http_send_error(req, 404, "not_found", "no such path");
		return;
	}
	bool session = strcmp(path, "/v1/session") == 0;
	if (session && cmd == EVHTTP_REQ_DELETE) {
		sign_out(req);
		return;
	}
	/* a session cookie is served only once the store says it has not
	 * signed out (http_auth.c); a sign-in does not read it */
	char sid[HTTP_SID_LEN + 1];
	if (!(session && post) && http_session_to_check(req, sid)) {
		if (database_ok(req))
			submit_read(req, P_SESSION, READ_SESSION_LIVE, sid);
		return;
	}
	if (session) {
		http_session(req);
		return;
	}
	const char *rest = path + 4;
	if (strcmp(rest, "events") == 0) {
		if (!post)
			http_send_method_error(req, "POST");
		else if (http_require(req, &who, HL_ROLE_INGEST) && http_check_csrf(req, &who))
			post_events(req);
		return;
	}
	if (strcmp(rest, "alerts/stream") == 0) {
		if (cmd != EVHTTP_REQ_GET)
			http_send_method_error(req, "GET");
		else if (http_require(req, &who, HL_ROLE_VIEWER) && stream_since(req, &since) && database_ok(req))
			sse_open(req, since, who.via_cookie ? who.sid : NULL, who.via_cookie ? who.expiry : 0);
		return;
	}
	if (strncmp(rest, "alerts/", 7) == 0) {
		const char *id = rest + 7, *slash = strchr(id, '/');
		int64_t alert_id = slash ? parse_id(id, (size_t)(slash - id)) : -1;
		if (alert_id < 0 || strcmp(slash, "/ack") != 0)
			http_send_error(req, 404, "not_found", "no such path (POST /v1/alerts/ID/ack)");
		else if (!post)
			http_send_method_error(req, "POST");
		else if (http_require(req, &who, HL_ROLE_SUPERVISOR) && http_check_csrf(req, &who))
			post_ack(req, alert_id, &who);
		return;
	}
	if (strncmp(rest, "cases/", 6) == 0) {
		int64_t case_id = parse_id(rest + 6, strlen(rest + 6));
		char b[24];
		if (case_id < 0)
			http_send_error(req, 404, "not_found", "no such path (GET /v1/cases/ID)");
		else if (!get)
			http_send_method_error(req, "GET, HEAD");
		else if (http_require(req, &who, HL_ROLE_VIEWER) && database_ok(req)) {
			snprintf(b, sizeof b, "%lld", (long long)case_id);
			submit_read(req, P_CASE, READ_CASE, b);
		}
		return;
	}
	if (strcmp(rest, "figures") == 0 || strcmp(rest, "board") == 0) {
		if (!get)
			http_send_method_error(req, "GET, HEAD");
		else if (http_require(req, &who, HL_ROLE_VIEWER)) {
			if (rest[0] == 'f')
				get_figures(req);
			else if (database_ok(req))
				submit_read(req, P_BOARD, READ_BOARD, NULL);
		}
		return;
	}
	http_send_error(req, 404, "not_found", "no such path");
}

void http_api_init(struct evhttp *http)
{
	evhttp_set_gencb(http, http_api_route, NULL);
}
