/*
 * http_reply.c - how every HTTP answer leaves: the security headers, a text
 * body with its status, a JSON error.
 *
 * Its own file because the API (http_api.c), its authentication
 * (http_auth.c), the alert stream (sse.c) and the wallboard all answer
 * requests: with these helpers in http_api.c, the files it routes to had
 * to call back up into it.
 *
 * A method a path does not serve is answered here too, in the API's JSON:
 * http.c lets evhttp pass every method on (else evhttp answers 501 in HTML
 * by itself, and a client that parses every answer as JSON gets a parse
 * error); http_send_method_error answers 405 with Allow, or 501 for a
 * method libevent does not know.
 */
#include <stdio.h>
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
	evhttp_send_reply(req, status, reason, b);
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
