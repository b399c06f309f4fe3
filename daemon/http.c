/*
 * http.c - optional HTTP endpoint: Prometheus /metrics and /healthz.
 *
 * Served by libevent's evhttp on http.listen (off by default).  /healthz
 * answers 200 while the database connection is up and 503 otherwise, so a
 * load balancer or systemd-style probe sees an outage.  /metrics renders the
 * same counters as the `stats` command in the Prometheus text format.
 * Everything else (the API, the alert stream, the wallboard) is routed by
 * http_api.c; with http.tls the listener speaks HTTPS with listen.tls's
 * certificate and key (the TCP socket's TLS context, shared).
 */
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

static void metric(struct evbuffer *b, const char *name, const char *type, const char *help, double v)
{
	evbuffer_add_printf(b, "# HELP hotlined_%s %s\n# TYPE hotlined_%s %s\nhotlined_%s %.17g\n",
	                    name, help, name, type, name, v);
}

static void metrics_cb(struct evhttp_request *req, void *arg)
{
	struct hl_stats *s = &hl->stats;
	struct evbuffer *b = evbuffer_new();
	(void)arg;
	metric(b, "up", "gauge", "1 while the database connection is up", store_connected() ? 1 : 0);
	metric(b, "connections", "gauge", "open client connections", (double)conn_count());
	metric(b, "subscribers", "gauge", "alert subscribers", (double)alerts_subscribers());
	metric(b, "sse_clients", "gauge", "alert streams open on HTTP", (double)sse_clients());
	metric(b, "connections_accepted_total", "counter", "connections accepted", (double)s->conns_accepted);
	metric(b, "connections_rejected_total", "counter", "connections refused (limit or stopping)", (double)s->conns_rejected);
	metric(b, "connections_dropped_slow_total", "counter", "connections dropped for not reading", (double)s->conns_dropped_slow);
	metric(b, "requests_total", "counter", "request lines received", (double)s->requests);
	metric(b, "events_total", "counter", "events acknowledged", (double)s->events);
	metric(b, "duplicates_total", "counter", "events acknowledged as duplicates", (double)s->duplicates);
	evbuffer_add_printf(b, "# HELP hotlined_errors_total error replies by code\n# TYPE hotlined_errors_total counter\n");
	for (int e = 1; e <= HL_E_INTERNAL; e++)
		evbuffer_add_printf(b, "hotlined_errors_total{code=\"%s\"} %llu\n", hl_err_code((enum hl_err)e),
		                    (unsigned long long)s->errors[e]);
	metric(b, "queued", "gauge", "items waiting for the database", (double)store_queued());
	metric(b, "batches_total", "counter", "transactions committed", (double)s->batches);
	metric(b, "batch_items_total", "counter", "items in committed transactions", (double)s->batch_items);
	metric(b, "batch_failures_total", "counter", "transactions rolled back", (double)s->batch_failures);
	metric(b, "commit_seconds_total", "counter", "time from batch start to commit", (double)s->commit_us_total / 1e6);
	metric(b, "commit_seconds_max", "gauge", "slowest batch", (double)s->commit_us_max / 1e6);
	evbuffer_add_printf(b, "# HELP hotlined_pending_clocks pending deadlines by kind\n# TYPE hotlined_pending_clocks gauge\n");
	for (int k = 0; k < HL_CK__COUNT; k++)
		evbuffer_add_printf(b, "hotlined_pending_clocks{kind=\"%s\"} %zu\n", hl_clock_kind_name((enum hl_clock_kind)k),
		                    clocks_pending(k));
	evbuffer_add_printf(b, "hotlined_pending_clocks{kind=\"escalation\"} %zu\n", clocks_pending(TIMER_ESCALATION));
	static const char *const kinds[] = { "callback", "update", "resolution", "survey", "repeat_caller",
	                                     "dissatisfied", "transfer_loop",
	                                     "order_sign", "order_reply", "redispatch", "buck_passing", "hotspot" };
	evbuffer_add_printf(b, "# HELP hotlined_alerts_total alerts raised by kind\n# TYPE hotlined_alerts_total counter\n");
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		evbuffer_add_printf(b, "hotlined_alerts_total{kind=\"%s\"} %llu\n", kinds[i],
		                    (unsigned long long)s->alerts_raised[i]);
	metric(b, "alerts_escalated_total", "counter", "alert escalations", (double)s->alerts_escalated);
	metric(b, "webhooks_sent_total", "counter", "webhook deliveries", (double)s->webhook_sent);
	metric(b, "webhooks_failed_total", "counter", "webhook deliveries given up", (double)s->webhook_failed);
	metric(b, "db_failures_total", "counter", "database connection failures", (double)s->db_failures);
	/* the rest of the `stats` figures, so the two never drift apart again */
	evbuffer_add_printf(b, "# HELP hotlined_build_info version\n# TYPE hotlined_build_info gauge\n"
	                       "hotlined_build_info{version=\"%s\"} 1\n", HOTLINED_VERSION);
	metric(b, "uptime_seconds", "gauge", "seconds since start", (double)(now_ms() - s->started_at) / 1e3);
	metric(b, "batch_size_max", "gauge", "largest batch", (double)s->batch_max_seen);
	metric(b, "batch_splits_total", "counter", "failed batches bisected", (double)s->batch_splits);
	metric(b, "ack_seconds_total", "counter", "time from a line read to its reply, summed", (double)s->ack_latency_us_total / 1e6);
	metric(b, "acks_total", "counter", "replies from the store", (double)s->acks);
	metric(b, "timer_bytes", "gauge", "bytes held by the timer structures", (double)clocks_memory());
	metric(b, "alerts_pushed_total", "counter", "alert pushes to subscribers", (double)s->alerts_pushed);
	metric(b, "webhooks_dropped_total", "counter", "webhook deliveries dropped: too many pending", (double)s->webhook_dropped);
	metric(b, "db_connects_total", "counter", "database connections made", (double)s->db_connects);
	metric(b, "accept_errors_total", "counter", "accept() failures (each pauses accepting)", (double)s->accept_errors);
	cluster_metrics(b);
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
	cluster_health(b);
	evhttp_send_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", b);
	evbuffer_free(b);
}

/* HTTPS: every accepted connection gets its own SSL on the shared context. */
static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(arg);
	struct bufferevent *bev = ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                                              BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (!bev && ssl)
		SSL_free(ssl);
	return bev;
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
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE);
	evhttp_set_max_body_size(http, (ev_ssize_t)cfg->http.max_body);
	if (cfg->http.tls) {
		void *ctx = listener_tls_ctx();
		if (!ctx) {
			log_crit("http.tls: needs listen.tls and listen.tcp (their TLS context is shared)");
			return -1;
		}
		evhttp_set_bevcb(http, tls_bev, ctx);
	}
	evhttp_set_cb(http, "/metrics", metrics_cb, NULL);
	evhttp_set_cb(http, "/healthz", healthz_cb, NULL);
	http_api_init(http);
	log_info("serving the wallboard, the API, /metrics and /healthz on %s://%s", cfg->http.tls ? "https" : "http",
	         addr);
	return 0;
}

void http_close(void)
{
	sse_close_all();
	http_api_free();
	if (http) {
		evhttp_free(http);
		http = NULL;
	}
}
