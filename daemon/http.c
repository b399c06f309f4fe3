/*
 * http.c - optional HTTP endpoint: Prometheus /metrics and /healthz.
 *
 * Served by libevent's evhttp on http.listen (off by default).  /healthz
 * answers 200 while the database connection is up and 503 otherwise, so a
 * load balancer or systemd-style probe sees an outage (text/plain, with a
 * line on the cluster).  /metrics renders the figure table of metrics.c, the
 * same as `stats`.  Everything else (the API, the alert stream, the
 * wallboard) is routed by http_api.c; with http.tls the listener speaks HTTPS
 * with listen.tls's certificate and key (the TCP socket's TLS context, shared).
 * A request's headers are limited to HTTP_MAX_HEADERS, its body to
 * http.max_body: evhttp buffers both before any callback (or token check).
 * What evhttp refuses by itself (those limits, a malformed request) it
 * answers with an HTML page, which http_conn.c has replaced by the API's
 * JSON error before it is sent (http_reply.c says which).
 * A connection must deliver each request complete within
 * http.request_timeout (http_conn.c: slow or idle clients are closed), and
 * at most http.max_connections are open at once (http_conn.c: the excess is
 * refused at the accept, so idle connections cannot take every descriptor).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>

#include <openssl/ssl.h>

#include "daemon.h"
#include "http_api.h"

static struct evhttp *http;
static struct evhttp_bound_socket *bound; /* the listening socket, until a stop closes it */

/* evhttp_set_timeout: no byte read or written for this long while libevent
 * waits for one closes the connection.  Above 4 SSE heartbeats (sse.c's
 * HEARTBEAT_S = 15): each chunk written re-arms the read timer too. */
#define HTTP_STALL_S 60

/* Every method reaches the callbacks (http_open): these two serve GET and HEAD. */
static bool readable(struct evhttp_request *req)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
		return true;
	http_send_method_error(req, "GET, HEAD");
	return false;
}

static void metrics_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (!http_conn_request(req) || !readable(req))
		return;
	struct evbuffer *b = evbuffer_new();
	metrics_prometheus(b); /* the same table as `stats` (metrics.c) */
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
	http_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void healthz_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (!http_conn_request(req) || !readable(req))
		return;
	struct evbuffer *b = evbuffer_new();
	bool ok = store_connected() && !hl->stopping;
	evbuffer_add_printf(b, "%s\n", ok ? "ok" : hl->stopping ? "stopping" : "database unavailable");
	cluster_health(b);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; charset=utf-8");
	http_send_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", b);
	evbuffer_free(b);
}

/* Every accepted connection's bufferevent, so http_conn.c can watch the
 * connection; HTTPS: its own SSL on the shared context (arg).  Past
 * http.max_connections a plain one, whatever the listener speaks: the
 * connection is refused without a TLS handshake (http_conn.c says why). */
static struct bufferevent *conn_bev(struct event_base *base, void *arg)
{
	if (!http_conn_room())
		return http_conn_refused(bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE), arg != NULL);
	if (!arg)
		return http_conn_bev(bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE));
	SSL *ssl = SSL_new(arg);
	struct bufferevent *bev = ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                                              BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (!bev && ssl)
		SSL_free(ssl);
	return http_conn_bev(bev);
}

int http_open(const struct hl_config *cfg)
{
	const char *addr = cfg->http.listen;
	if (!addr || !*addr)
		return 0;
	const char *colon = strrchr(addr, ':');
	if (!colon)
		return -1;
	char host[256];
	snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
	if (host[0] == '[') { /* [::1] */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	http = evhttp_new(hl->base);
	errno = 0;
	bound = http ? evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)atoi(colon + 1)) : NULL;
	if (!bound) {
		/* libevent keeps bind()'s errno across its close (bind_socket_ai);
		 * a name that does not resolve leaves 0 */
		int e = errno;
		log_crit("http.listen %s: cannot listen: %s", addr, e ? strerror(e) : "the address does not resolve");
		return -1;
	}
	listener_guard(evhttp_bound_socket_get_listener(bound)); /* accept() back-off, as for the event sockets */
	/* every method, also those libevent does not know (its internal
	 * EVHTTP_REQ_UNKNOWN_ is a bit of this mask too): evhttp answers one it
	 * does not allow itself, 501 in HTML; the callbacks answer 405 with
	 * Allow, or 501, in JSON (http_send_method_error).  A body is limited
	 * by http.max_body whatever the method. */
	evhttp_set_allowed_methods(http, 0xffff);
	evhttp_set_max_body_size(http, (ev_ssize_t)cfg->http.max_body);
	/* evhttp's default is no limit: an unauthenticated client could make us
	 * buffer an endless header (the check for a token comes after it) */
	evhttp_set_max_headers_size(http, HTTP_MAX_HEADERS);
	/* slow or idle clients (http_conn.c): a request must come complete within
	 * http.request_timeout of the accept or of the previous answer; and
	 * libevent's own inactivity timeout, for a client that stops reading
	 * (an SSE stream's heartbeat re-arms it) */
	http_conn_init(cfg->http.request_timeout_s, cfg->http.max_connections);
	evhttp_set_timeout(http, HTTP_STALL_S);
	void *ctx = NULL;
	if (cfg->http.tls) {
		ctx = listener_tls_ctx();
		if (!ctx) {
			log_crit("http.tls: needs listen.tls and listen.tcp (their TLS context is shared)");
			return -1;
		}
	}
	evhttp_set_bevcb(http, conn_bev, ctx);
	evhttp_set_cb(http, "/metrics", metrics_cb, NULL);
	evhttp_set_cb(http, "/healthz", healthz_cb, NULL);
	http_api_init(http);
	log_info("serving the wallboard, the API, /metrics and /healthz on %s://%s", cfg->http.tls ? "https" : "http",
	         addr);
	return 0;
}

/* A graceful stop: no new connection, the alert streams end (they would
 * never finish), and the requests being answered - a POST /v1/events whose
 * events are committing - are answered before the daemon exits (main.c
 * waits for http_conn_answering()).  Freeing the evhttp here, as the stop
 * did, closed those connections unanswered although their events were
 * committed. */
void http_stop_accepting(void)
{
	sse_close_all();
	if (http && bound) {
		evhttp_del_accept_socket(http, bound);
		bound = NULL;
	}
}

void http_close(void)
{
	sse_close_all();
	http_api_free();
	if (http) {
		evhttp_free(http);
		http = NULL;
	}
	http_conn_linger_end_all(); /* after evhttp_free: its closes may start some */
	bound = NULL;
}
