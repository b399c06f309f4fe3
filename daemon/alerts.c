/*
 * alerts.c - deliver committed alerts: socket subscribers and webhooks.
 *
 * Alerts are decided by the rules and made durable by the store (the row in
 * hotline.alerts and NOTIFY hotline_alert are part of the batch's
 * transaction).  Only after COMMIT does the store call alerts_deliver(), so
 * a subscriber never sees an alert that could still roll back.
 *
 * Subscribers are connections that sent `subscribe`; a push is queued on
 * each (conn_push), and a subscriber that does not read is dropped by conn.c
 * once its output exceeds listen.max_output, so it never stalls the others.
 *
 * Webhooks: each alert is POSTed as JSON to every configured URL with
 * libevent's HTTP client.  A failed POST (connection error, timeout, non-2xx)
 * is retried with exponential backoff up to webhooks.max_retries; at most
 * webhooks.max_pending deliveries wait per process, beyond which new ones are
 * dropped, counted (webhooks_dropped in `stats` and /metrics) and reported
 * in the log at most once a second.  Both http:// and https:// URLs are
 * verified against the system's CA certificates (SSL_CERT_FILE /
 * SSL_CERT_DIR override them) and the URL's host name.
 *
 * Nothing here blocks the loop, name resolution included: an evhttp
 * connection made without an evdns base resolves its host with a blocking
 * getaddrinfo() inside the loop (a 3 s DNS answer froze every client for
 * 3 s).  All connections share one evdns base, set up at start-up from
 * /etc/resolv.conf and /etc/hosts, or pointed at dns.nameserver.
 *
 * A webhook body is the alert as subscribers get it, with a confidential
 * caller's number masked exactly as in NOTIFY hotline_alert (the store hands
 * both texts over), unless the URL is configured with
 * mask_confidential = false (a receiver entitled to the numbers).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>

#include "daemon.h"
#include "protocol.h"

struct sub {
	LIST_ENTRY(sub) entry;
	struct conn *conn;
};

struct delivery {
	LIST_ENTRY(delivery) entry;
	char *url;
	char *body;
	int attempt;
	struct event *retry;
	struct evhttp_connection *hc;
};

static LIST_HEAD(, sub) subs = LIST_HEAD_INITIALIZER(subs);
static size_t n_subs;
static LIST_HEAD(, delivery) deliveries = LIST_HEAD_INITIALIZER(deliveries);
static size_t n_deliveries;
static SSL_CTX *client_tls; /* for https:// webhooks, made on first use */
static struct evdns_base *dns;  /* nonblocking name resolution for every webhook connection */
static hl_ms dropped_logged_at; /* monotonic ms of the last "dropped" report */
static uint64_t dropped_unreported;

void alerts_webhooks_init(void)
{
	static bool tried;
	const char *ns = hl->cfg->dns.nameserver;
	if (tried)
		return;
	tried = true;
	dns = evdns_base_new(hl->base, 0);
	if (!dns) {
		log_err("webhooks: cannot set up DNS resolution; host names will not resolve");
		return;
	}
	int rc;
	if (ns && *ns) {
		rc = evdns_base_nameserver_ip_add(dns, ns);
		evdns_base_load_hosts(dns, NULL);
		if (rc != 0)
			log_err("webhooks: dns.nameserver %s not usable", ns);
		else
			log_info("webhooks: resolving host names with nameserver %s", ns);
	} else {
		/* read once at start-up, never on the hot path; no nameserver in it means 127.0.0.1 */
		rc = evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL, "/etc/resolv.conf");
		if (rc != 0)
			log_warn("webhooks: /etc/resolv.conf not usable (%d); using 127.0.0.1 and /etc/hosts", rc);
	}
}

static SSL_CTX *tls_client_ctx(void)
{
	if (!client_tls) {
		client_tls = SSL_CTX_new(TLS_client_method());
		if (!client_tls)
			return NULL;
		SSL_CTX_set_min_proto_version(client_tls, TLS1_2_VERSION);
		SSL_CTX_set_default_verify_paths(client_tls);
		SSL_CTX_set_verify(client_tls, SSL_VERIFY_PEER, NULL);
	}
	return client_tls;
}

size_t alerts_subscribers(void) { return n_subs; }

void alerts_subscribe(struct conn *c)
{
	struct sub *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->conn = c;
	LIST_INSERT_HEAD(&subs, s, entry);
	n_subs++;
}

void alerts_unsubscribe(struct conn *c)
{
	struct sub *s;
	LIST_FOREACH(s, &subs, entry) {
		if (s->conn == c) {
			LIST_REMOVE(s, entry);
			free(s);
			n_subs--;
			return;
		}
	}
}

static void delivery_free(struct delivery *d)
{
	LIST_REMOVE(d, entry);
	n_deliveries--;
	if (d->retry)
		event_free(d->retry);
	if (d->hc)
		evhttp_connection_free(d->hc);
	free(d->url);
	free(d->body);
	free(d);
}

static void delivery_send(struct delivery *d);

static void delivery_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	delivery_send(arg);
}

static void delivery_failed(struct delivery *d, const char *why)
{
	if (d->attempt > hl->cfg->webhooks.max_retries) {
		log_err("webhook %s: giving up after %d attempts: %s", d->url, d->attempt, why);
		hl->stats.webhook_failed++;
		delivery_free(d);
		return;
	}
	/* attempt counts the POSTs made so far: waits of 0.5 s, 1 s, 2 s, ... up to 60 s */
	int delay_ms = 500 << (d->attempt - 1 < 10 ? d->attempt - 1 : 10);
	if (delay_ms > 60000)
		delay_ms = 60000;
	log_warn("webhook %s: attempt %d failed (%s); retrying in %d ms", d->url, d->attempt, why, delay_ms);
	if (!d->retry)
		d->retry = evtimer_new(hl->base, delivery_retry_cb, d);
	struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };
	evtimer_add(d->retry, &tv);
}

static void delivery_done_cb(struct evhttp_request *req, void *arg)
{
	struct delivery *d = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code >= 200 && code < 300) {
		hl->stats.webhook_sent++;
		delivery_free(d);
		return;
	}
	char why[64];
	if (code)
		snprintf(why, sizeof why, "HTTP %d", code);
	else
		snprintf(why, sizeof why, "no response");
	delivery_failed(d, why);
}

static void delivery_send(struct delivery *d)
{
	struct evhttp_uri *uri = evhttp_uri_parse(d->url);
	d->attempt++;
	const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
	bool tls = scheme && strcmp(scheme, "https") == 0;
	if (!uri || !evhttp_uri_get_host(uri) || (scheme && !tls && strcmp(scheme, "http") != 0)) {
		log_err("webhook %s: not an http:// or https:// URL; dropped", d->url);
		if (uri)
			evhttp_uri_free(uri);
		hl->stats.webhook_failed++;
		delivery_free(d);
		return;
	}
	const char *host = evhttp_uri_get_host(uri);
	int port = evhttp_uri_get_port(uri);
	const char *path = evhttp_uri_get_path(uri);
	const char *query = evhttp_uri_get_query(uri);
	char target[2048];
	snprintf(target, sizeof target, "%s%s%s", path && *path ? path : "/", query ? "?" : "", query ? query : "");

	if (d->hc)
		evhttp_connection_free(d->hc);
	d->hc = NULL;
	if (tls) {
		SSL_CTX *ctx = tls_client_ctx();
		SSL *ssl = ctx ? SSL_new(ctx) : NULL;
		struct bufferevent *bev = NULL;
		if (ssl) {
			/* the certificate must name this host (or IP address); SNI only for names */
			unsigned char addr[16];
			if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
				X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
			} else {
				SSL_set_tlsext_host_name(ssl, host);
				SSL_set1_host(ssl, host);
			}
			bev = bufferevent_openssl_socket_new(hl->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
			                                     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
			if (!bev)
				SSL_free(ssl);
		}
		if (bev)
			d->hc = evhttp_connection_base_bufferevent_new(hl->base, dns, bev, host,
			                                               (ev_uint16_t)(port > 0 ? port : 443));
	} else {
		d->hc = evhttp_connection_base_new(hl->base, dns, host, (ev_uint16_t)(port > 0 ? port : 80));
	}
	struct evhttp_request *req = evhttp_request_new(delivery_done_cb, d);
	if (!d->hc || !req) {
		evhttp_uri_free(uri);
		if (req)
			evhttp_request_free(req);
		delivery_failed(d, "out of memory");
		return;
	}
	evhttp_connection_set_timeout(d->hc, hl->cfg->webhooks.timeout_s > 0 ? hl->cfg->webhooks.timeout_s : 5);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "User-Agent", "hotlined/" HOTLINED_VERSION);
	evbuffer_add(evhttp_request_get_output_buffer(req), d->body, strlen(d->body));
	if (evhttp_make_request(d->hc, req, EVHTTP_REQ_POST, target) != 0) {
		/* evhttp_make_request frees req on failure */
		evhttp_uri_free(uri);
		delivery_failed(d, "cannot send");
		return;
	}
	evhttp_uri_free(uri);
}

static void note_dropped(const char *url, int max)
{
	hl->stats.webhook_dropped++;
	dropped_unreported++;
	hl_ms now = mono_ms();
	if (dropped_logged_at == 0 || now - dropped_logged_at >= 1000) {
		log_err("webhook %s: %d deliveries pending; %llu alert delivery(ies) dropped since the last report", url, max,
		        (unsigned long long)dropped_unreported);
		dropped_logged_at = now;
		dropped_unreported = 0;
	}
}

void alerts_webhooks_post(const char *alert_json, const char *masked_json)
{
	const struct hl_config *cfg = hl->cfg;
	for (size_t i = 0; i < cfg->webhooks.n_urls; i++) {
		if (n_deliveries >= (size_t)cfg->webhooks.max_pending) {
			note_dropped(cfg->webhooks.urls[i], cfg->webhooks.max_pending);
			continue;
		}
		bool mask = !cfg->webhooks.mask_confidential || cfg->webhooks.mask_confidential[i];
		struct delivery *d = calloc(1, sizeof *d);
		if (!d)
			abort();
		d->url = strdup(cfg->webhooks.urls[i]);
		d->body = strdup(mask && masked_json ? masked_json : alert_json);
		if (!d->url || !d->body)
			abort();
		LIST_INSERT_HEAD(&deliveries, d, entry);
		n_deliveries++;
		delivery_send(d);
	}
}

void alerts_deliver(const char *alert_json, const char *kind, bool escalated)
{
	struct sub *s, *tmp;
	char *line = hl_push_alert(alert_json);
	size_t len = strlen(line);

	if (!escalated) {
		static const char *const kinds[] = { "callback", "update", "resolution", "survey",
		                                     "repeat_caller", "dissatisfied", "transfer_loop" };
		for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
			if (strncmp(kind, kinds[i], strlen(kinds[i])) == 0) {
				hl->stats.alerts_raised[i]++;
				break;
			}
	}
	log_notice("alert: %s%s", escalated ? "escalated " : "", kind);
	/* conn_push may drop a slow subscriber, which unlinks it: iterate safely */
	for (s = LIST_FIRST(&subs); s; s = tmp) {
		tmp = LIST_NEXT(s, entry);
		conn_push(s->conn, line, len);
		hl->stats.alerts_pushed++;
	}
	free(line);
}

/* An acknowledgement, after its commit: {"push":"ack","alert":{...}} to every
 * subscriber, so that the other supervisors watching see the alert handled. */
void alerts_deliver_ack(const char *alert_json)
{
	struct sub *s, *tmp;
	char *line = hl_push_ack(alert_json);
	size_t len = strlen(line);
	for (s = LIST_FIRST(&subs); s; s = tmp) {
		tmp = LIST_NEXT(s, entry);
		conn_push(s->conn, line, len);
	}
	free(line);
}

void alerts_free(void)
{
	struct sub *s;
	struct delivery *d;
	while ((s = LIST_FIRST(&subs))) {
		LIST_REMOVE(s, entry);
		free(s);
	}
	n_subs = 0;
	while ((d = LIST_FIRST(&deliveries)))
		delivery_free(d);
	if (client_tls) {
		SSL_CTX_free(client_tls);
		client_tls = NULL;
	}
	if (dns) {
		evdns_base_free(dns, 0);
		dns = NULL;
	}
}
