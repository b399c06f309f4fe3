/*
 * http.c - optional HTTP endpoint: Prometheus /metrics and /healthz.
 *
 * Served by libevent's evhttp on http.listen (off by default).  /healthz
 * answers 200 while the database connection is up and 503 otherwise, so a
 * load balancer or systemd-style probe sees an outage (text/plain).
 * /metrics renders the figure table of metrics.c, the same as `stats`.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>

#include "daemon.h"

static struct evhttp *http;

static void metrics_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();
	(void)arg;
	metrics_prometheus(b); /* the same table as `stats` (metrics.c) */
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void healthz_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();
	(void)arg;
	bool ok = store_connected() && !hl->stopping;
	evbuffer_add_printf(b, "%s\n", ok ? "ok" : hl->stopping ? "stopping" : "database unavailable");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", b);
	evbuffer_free(b);
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
	struct evhttp_bound_socket *bound = http ? evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)atoi(colon + 1)) : NULL;
	if (!bound) {
		log_crit("http.listen %s: cannot bind", addr);
		return -1;
	}
	listener_guard(evhttp_bound_socket_get_listener(bound)); /* accept() back-off, as for the event sockets */
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_cb(http, "/metrics", metrics_cb, NULL);
	evhttp_set_cb(http, "/healthz", healthz_cb, NULL);
	log_info("serving /metrics and /healthz on http://%s", addr);
	return 0;
}

void http_close(void)
{
	if (http) {
		evhttp_free(http);
		http = NULL;
	}
}
