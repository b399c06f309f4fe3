/*
 * http_reply.c - how every HTTP answer leaves: the security headers, a text
 * body with its status, a JSON error - also in place of libevent's own
 * HTML error pages.
 *
 * Its own file because the API (http_api.c), its authentication
 * (http_auth.c), the alert stream (sse.c) and the wallboard all answer
 * requests: with these helpers in http_api.c, the files it routes to had
 * to call back up into it.
 *
 * Every error the listener sends is the API's JSON,
 * {"error":{"code":...,"message":...}}, so a client that parses every answer
 * as JSON gets a clear message rather than a parse error.  Two kinds of
 * errors are not sent through http_send_error:
 *   - a method: http.c lets evhttp pass every method on (else evhttp answers
 *     501 in HTML by itself); http_send_method_error answers 405 with Allow,
 *     or 501 for a method libevent does not know;
 *   - what evhttp 2.1 answers before any callback - a malformed request line
 *     or header, a request head over its limit, a body over http.max_body
 *     (Content-Length or chunked), an Expect other than 100-continue - with
 *     its HTML page (evhttp_send_error).  libevent 2.1 has no hook for these
 *     (evhttp_set_errorcb, evhttp_set_newreqcb are 2.2), and its limits must
 *     stay (they bound what a client makes us buffer), so http_conn.c catches
 *     the page in the connection's output buffer, before a byte of it is
 *     sent, and http_reply_json_page puts the same status in JSON there.
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

void http_common_headers(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	if (!evhttp_find_header(h, "Cache-Control"))
		evhttp_add_header(h, "Cache-Control", "no-store");
}

/* Every answer leaves here.  An answer to HEAD is its head alone (RFC 9110
 * 9.3.2), with the Content-Length a GET would have: libevent 2.1 leaves out
 * Content-Length for HEAD but writes the body anyway, which a keep-alive
 * client then read as the start of its next answer. */
void http_send_reply(struct evhttp_request *req, int status, const char *reason, struct evbuffer *body)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD && body) {
		struct evkeyvalq *h = evhttp_request_get_output_headers(req);
		if (!evhttp_find_header(h, "Content-Length")) {
			char n[32];
			snprintf(n, sizeof n, "%zu", evbuffer_get_length(body));
			evhttp_add_header(h, "Content-Length", n);
		}
		evbuffer_drain(body, evbuffer_get_length(body));
	}
	evhttp_send_reply(req, status, reason, body);
}

void http_send_text(struct evhttp_request *req, int status, const char *type, const char *body, size_t len)
{
	static const struct { int code; const char *reason; } reasons[] = {
		{ 200, "OK" }, { 303, "See Other" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" }, { 413, "Payload Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" }, { 503, "Service Unavailable" },
	};
	const char *reason = "OK";
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].code == status)
			reason = reasons[i].reason;
	http_common_headers(req);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, body, len);
	http_send_reply(req, status, reason, b);
	evbuffer_free(b);
}

void http_send_error(struct evhttp_request *req, int status, const char *code, const char *msg)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (status == 503)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "5");
	http_send_text(req, status, "application/json", t, strlen(t));
	json_object_put(o);
}

/* The methods evhttp 2.1 parses; any other token (`FOO`, a lower-case `get`)
 * reaches a callback as its internal EVHTTP_REQ_UNKNOWN_, because http.c
 * allows every bit. */
#define KNOWN_METHODS                                                                                                 \
	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | \
	 EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH)

void http_send_method_error(struct evhttp_request *req, const char *allow)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	if (!(evhttp_request_get_command(req) & KNOWN_METHODS)) {
		/* evhttp read no body for it (it cannot tell whether one follows), so
		 * whatever the client sends next is no request: close after the answer */
		evhttp_add_header(h, "Connection", "close");
		http_send_error(req, 501, "not_implemented", "unknown method");
		return;
	}
	char msg[128];
	snprintf(msg, sizeof msg, "method not allowed here; allowed: %s", allow);
	evhttp_add_header(h, "Allow", allow);
	http_send_error(req, 405, "method_not_allowed", msg);
}

/* ------------------------------------------------ libevent's own error pages */

#define STR_(x) #x
#define STR(x) STR_(x)

/* What libevent's pages mean here (its evhttp_connection_incoming_fail maps
 * every parse failure to 400 and every size failure to 413). */
static const struct { int status; const char *reason, *code, *msg; } page_errors[] = {
	{ 400, "Bad Request", "bad_request",
	  "malformed request line or header, or request line and headers over " STR(HTTP_MAX_HEADERS_KIB) " KiB" },
	{ 413, "Payload Too Large", "too_large", "body larger than http.max_body" },
	{ 417, "Expectation Failed", "expectation_failed", "only Expect: 100-continue is supported" },
	{ 501, "Not Implemented", "not_implemented", "unknown method" },
};

/* libevent's pages are a few hundred bytes; anything longer is not one. */
#define PAGE_MAX 4096

/* The end of the head starting at s (after its blank line), or NULL. */
static const char *head_end(const char *s)
{
	const char *e = strstr(s, "\r\n\r\n");
	return e ? e + 4 : NULL;
}

static int status_of(const char *s)
{
	int minor, status;
	if (strncmp(s, "HTTP/1.", 7) != 0 || sscanf(s + 7, "%d %d", &minor, &status) != 2)
		return -1;
	return status;
}

bool http_reply_json_page(struct evbuffer *out)
{
	char page[PAGE_MAX + 1];
	size_t len = evbuffer_get_length(out);
	if (len == 0 || len > PAGE_MAX)
		return false;
	if (evbuffer_copyout(out, page, len) != (ev_ssize_t)len)
		return false;
	page[len] = '\0';
	/* a "100 Continue" still unsent stays in front of it */
	const char *p = page, *e;
	while (status_of(p) >= 100 && status_of(p) < 200 && (e = head_end(p)))
		p = e;
	int status = status_of(p);
	const char *body = head_end(p);
	/* only a complete HTML error page is replaced */
	if (status < 400 || !body || !strstr(p, "\r\nContent-Type: text/html"))
		return false;
	const char *reason = "Error", *code = "http_error", *msg = "the request could not be read";
	for (size_t i = 0; i < sizeof page_errors / sizeof page_errors[0]; i++)
		if (page_errors[i].status == status) {
			reason = page_errors[i].reason;
			code = page_errors[i].code;
			msg = page_errors[i].msg;
		}
	char json[256];
	int jn = snprintf(json, sizeof json, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, msg);
	/* a body where libevent's page had one: whether an answer to HEAD gets
	 * one stays libevent's choice (2.1 sends it even then) */
	bool with_body = *body != '\0';
	struct evbuffer *keep = evbuffer_new();
	if (!keep)
		abort(); /* out of memory: the daemon's one policy (daemon.h) */
	evbuffer_remove_buffer(out, keep, (size_t)(p - page));
	evbuffer_drain(out, evbuffer_get_length(out));
	evbuffer_add_buffer(out, keep);
	evbuffer_free(keep);
	/* libevent closes the connection after its page (its Connection: close
	 * stays in the request's headers, which decide), so this says it too */
	evbuffer_add_printf(out,
	                    "HTTP/1.%c %d %s\r\n"
	                    "Content-Type: application/json\r\n"
	                    "Content-Length: %d\r\n"
	                    "Connection: close\r\n"
	                    "Cache-Control: no-store\r\n"
	                    "X-Content-Type-Options: nosniff\r\n"
	                    "Referrer-Policy: no-referrer\r\n"
	                    "X-Frame-Options: DENY\r\n"
	                    "\r\n%s",
	                    p[7] == '0' ? '0' : '1', status, reason, jn, with_body ? json : "");
	return true;
}
