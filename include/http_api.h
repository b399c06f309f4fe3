/*
 * http_api.h - the pieces of the HTTP listener (CONTRACT.md section 7).
 *
 *   http.c       the evhttp listener, /metrics, /healthz; hands the rest to
 *   http_api.c   the router and the JSON endpoints (events, ack, case, figures, board)
 *   http_auth.c  bearer tokens, the session cookie, CSRF and Origin checks
 *   http_conn.c  each connection's deadline for a complete request (slow or idle clients);
 *                http.max_connections; catches libevent's own HTML error pages
 *   http_reply.c how answers leave: security headers, JSON errors (also in
 *                place of libevent's pages), 405/501 for methods
 *   sse.c        GET /v1/alerts/stream (Server-Sent Events)
 *   wallboard.c  GET / and its embedded assets (web/, embedded at build time)
 */
#ifndef HL_HTTP_API_H
#define HL_HTTP_API_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct evbuffer;
struct evhttp;
struct evhttp_request;

/* The request line and headers together (evhttp_set_max_headers_size): a
 * browser's, with the session cookie, are well under 8 KiB.  In KiB, so
 * the error message can name it. */
#define HTTP_MAX_HEADERS_KIB 64
#define HTTP_MAX_HEADERS (HTTP_MAX_HEADERS_KIB * 1024)

/* ----------------------------------------------------------- http_conn.c */

struct bufferevent;
struct evhttp_connection;

/* The deadline of each connection's next request (http.request_timeout) and
 * how many may be open at once (http.max_connections). */
void http_conn_init(int request_timeout_s, int max_connections);
/* For evhttp's bevcb, at each accept: true while a new connection fits under
 * http.max_connections; it then gets http_conn_bev, else http_conn_refused. */
bool http_conn_room(void);
/* Watch the new connection of this bufferevent (BEV_OPT_CLOSE_ON_FREE); returns bev. */
struct bufferevent *http_conn_bev(struct bufferevent *bev);
/* Refuse the new connection of this plain bufferevent (BEV_OPT_CLOSE_ON_FREE)
 * at once: 503 (tls: no answer) and closed, its request never read; returns bev. */
struct bufferevent *http_conn_refused(struct bufferevent *bev, bool tls);
/* A complete request reached a callback: no deadline until its answer is out.
 * False when its framing is ambiguous (two different Content-Lengths): it was
 * answered 400 and the connection closes; the callback returns at once. */
bool http_conn_request(struct evhttp_request *req);
/* The request handler's close callback (the connection's own belongs to http_conn.c). */
void http_conn_set_closecb(struct evhttp_connection *evcon, void (*cb)(struct evhttp_connection *, void *), void *arg);
size_t http_conn_count(void);
/* http_conn.c: the sockets of error answers still draining (a lingering close), closed at exit */
void http_conn_linger_end_all(void);

/* ------------------------------------------------------------ http_api.c */

void http_api_init(struct evhttp *http);
void http_api_free(void); /* the read cache */
void http_api_route(struct evhttp_request *req, void *arg);

/* ----------------------------------------------------------- http_reply.c */

/* A JSON error: {"error":{"code":CODE,"message":MSG}} with the HTTP status. */
void http_send_error(struct evhttp_request *req, int status, const char *code, const char *msg);
/* Send `body` (NUL-terminated) with the status and content type; sets the
 * common security headers. */
/* evhttp_send_reply, and an answer to HEAD without its body (Content-Length kept). */
void http_send_reply(struct evhttp_request *req, int status, const char *reason, struct evbuffer *body);
void http_send_text(struct evhttp_request *req, int status, const char *type, const char *body, size_t len);
/* Security headers every answer carries (nosniff, no-referrer, frame-ancestors). */
void http_common_headers(struct evhttp_request *req);
/* A method the path does not serve: 405 with Allow: `allow` (e.g. "GET, HEAD"),
 * or 501 (and the connection closed) for a method libevent does not know. */
void http_send_method_error(struct evhttp_request *req, const char *allow);
/* `out` holds one of libevent's own HTML error pages, complete and unsent
 * (http_conn.c): replace it with the same status in JSON.  False, and `out`
 * untouched, when it holds anything else. */
bool http_reply_json_page(struct evbuffer *out);

/* ----------------------------------------------------------- http_auth.c */

/* A wallboard session's id: 32 hex digits (128 random bits). */
#define HTTP_SID_LEN 32

struct http_principal {
	const char *name;   /* stored as acked_by */
	int role;           /* HL_ROLE_*; with no tokens configured: supervisor, and ingest allowed */
	bool any_role;      /* no tokens configured: every role */
	bool via_cookie;    /* state-changing requests then need the CSRF token */
	char csrf[65];      /* the session's CSRF token (via_cookie) */
	size_t token_idx;   /* via_cookie: the token the session was signed with */
	long long expiry;   /* via_cookie: when the session ends (time_t) */
	char sid[HTTP_SID_LEN + 1]; /* via_cookie: the session's id */
};

/* Who sent this request (Bearer token or session cookie); false: nobody valid. */
bool http_auth(struct evhttp_request *req, struct http_principal *who);
/* true when `who` may act as `role` (ingest is separate; supervisor includes viewer). */
bool http_role_allows(const struct http_principal *who, int role);
/* 401/403 answered unless `who` is authenticated with the role; returns true when allowed. */
bool http_require(struct evhttp_request *req, struct http_principal *who, int role);
/* For cookie sessions: the X-CSRF-Token header must match and Origin (when
 * sent) must name this host; without tokens configured, Origin is checked
 * too; bearer tokens need neither.  Answers 403 and returns false otherwise. */
bool http_check_csrf(struct evhttp_request *req, const struct http_principal *who);
/* POST /v1/session (sign in), GET /v1/session (who am I). */
void http_session(struct evhttp_request *req);
/* The request carries a session cookie (MAC good, no bearer) not yet asked
 * about: its id, to ask the store whether it signed out (http_api.c). */
bool http_session_to_check(struct evhttp_request *req, char sid[HTTP_SID_LEN + 1]);
/* The store's answer for req, while it is routed again; (NULL, false) after. */
void http_session_verdict(const struct evhttp_request *req, bool live);
/* DELETE /v1/session: true with the id of the session to end and until when
 * to remember it; false when it was answered (no session: the cookie is
 * cleared, 200; a foreign Origin: 403). */
bool http_session_signout(struct evhttp_request *req, char sid[HTTP_SID_LEN + 1], long long *until);
/* The store recorded the sign-out (status 200) or could not (the error):
 * the browser's cookie is cleared either way; this daemon's streams of the
 * session end. */
void http_session_signed_out(struct evhttp_request *req, const char *sid, int status, const char *code,
                             const char *msg);

/* ----------------------------------------------------------------- sse.c */

/* sid, expiry: the session cookie the stream was opened with (NULL, 0: a
 * token); the stream ends when the session signs out here or expires. */
void sse_open(struct evhttp_request *req, int64_t since, const char *sid, long long expiry);
void sse_end_session(const char *sid);
void sse_close_all(void);
size_t sse_clients(void);

/* ----------------------------------------------------------- wallboard.c */

/* Serve "/" and the embedded files (/wallboard.js, /wallboard.css, /favicon.svg); false for other paths. */
bool wallboard_serve(struct evhttp_request *req, const char *path);
/* Whether `path` is one of the page's files (another method on it: 405). */
bool wallboard_has(const char *path);

#endif
