/*
 * webhooks.c - POST committed alerts to the configured webhook URLs.
 *
 * Each alert is POSTed as JSON to every configured URL with
 * libevent's HTTP client.  A failed POST (connection error, timeout, non-2xx,
 * a redirect too: a body and its bearer token never follow a Location to
 * another host) is retried with exponential backoff up to
 * webhooks.max_retries.
 *
 * Receivers are kept apart (struct receiver, one per URL): at most
 * webhooks.max_pending deliveries wait per URL, beyond which its new ones
 * are dropped, counted (webhooks_dropped in `stats` and /metrics) and
 * reported in the log at most once a second; and at most IN_FLIGHT_MAX
 * POSTs per URL are on their way at once, the others wait their turn in
 * order.  Before, max_pending counted every URL together and every delivery
 * opened its connection at once: a receiver that accepts and never answers
 * held a socket per alert for webhooks.timeout (per retry again), its
 * deliveries filled max_pending and the alerts for the healthy receivers
 * were dropped with its, and a burst of alerts took as many file
 * descriptors as the listeners accept clients with.  Both http:// and https:// URLs are
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
 *
 * Each webhook may choose its body format (hotline, alertmanager, pagerduty),
 * sign it (X-Hotline-Signature, X-Hotline-Timestamp), authenticate with a
 * bearer token or its own headers; every POST names its delivery
 * (X-Hotline-Delivery), stable across retries.  webhook_body.c renders and
 * signs; this file sends.
 *
 * Durable: the store writes one row per alert, level and URL into
 * hotline.webhook_deliveries in the alert's own statement (sql/019); a row
 * goes, with the store's next batch (one of its own when nothing is queued),
 * once its POST got a 2xx or was given up or dropped; at start the store
 * hands the rows left to webhooks_resume(), and with several daemons
 * cluster_webhooks.c hands it those of a daemon that died (sql/069).
 * So a delivery pending at a crash is sent again after the restart, with the
 * same delivery id (at least once; the receiver drops repeats by the id).
 * A graceful stop lets the POSTs on their way finish first, for a while
 * (webhooks_settled).
 *
 * Split out of alerts.c (which keeps the socket subscribers): one concern
 * per file.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>

#include "daemon.h"

#define IN_FLIGHT_MAX 8 /* POSTs on their way to one URL at once */

struct delivery;
TAILQ_HEAD(delivery_queue, delivery);

/* One configured URL's share (see the top); made on first use, kept until webhooks_free. */
struct receiver {
	char *url;
	size_t pending;              /* its deliveries, waiting or on their way */
	int in_flight;               /* its POSTs on their way */
	struct delivery_queue turn;  /* ready to send, waiting for a free place */
};

struct delivery {
	LIST_ENTRY(delivery) entry;
	TAILQ_ENTRY(delivery) turn_entry; /* in its receiver's turn while queued */
	struct receiver *rcv;
	bool queued;
	char *url;
	char *body;             /* rendered once: the same bytes on every attempt */
	char id[64];            /* X-Hotline-Delivery: stable across retries and restarts */
	struct hl_webhook_opts auth; /* copies of the webhook's secret, bearer and headers (a reload may free the config) */
	int attempt;
	bool posting;           /* a POST is on its way (sent, not yet answered or failed) */
	struct event *retry;
	struct evhttp_connection *hc;
};

static LIST_HEAD(, delivery) deliveries = LIST_HEAD_INITIALIZER(deliveries);
static size_t n_deliveries;
static size_t n_posting; /* deliveries with a POST on its way: a graceful stop waits for them */
static struct receiver **receivers;
static size_t n_receivers;
static struct event *ev_turns; /* a place freed: send the next in turn (deferred, never from a callback's middle) */
static SSL_CTX *client_tls; /* for https:// webhooks, made on first use */
static struct evdns_base *dns;  /* nonblocking name resolution for every webhook connection */
static hl_ms dropped_logged_at; /* monotonic ms of the last "dropped" report */
static uint64_t dropped_unreported;
static json_object *done_rows; /* deliveries whose durable rows may go (webhooks_done_rows) */

static void (*on_done)(void); /* store_webhooks_done, given by main.c */

void alerts_webhooks_init(void (*done)(void))
{
	static bool tried;
	on_done = done;
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

static struct receiver *receiver_of(const char *url)
{
	for (size_t i = 0; i < n_receivers; i++)
		if (strcmp(receivers[i]->url, url) == 0)
			return receivers[i];
	struct receiver *r = calloc(1, sizeof *r);
	struct receiver **a = realloc(receivers, (n_receivers + 1) * sizeof *a);
	if (!r || !a || !(r->url = strdup(url)))
		abort();
	TAILQ_INIT(&r->turn);
	receivers = a;
	receivers[n_receivers++] = r;
	return r;
}

static void delivery_post(struct delivery *d);

static void turns_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	for (size_t i = 0; i < n_receivers; i++) {
		struct receiver *r = receivers[i];
		struct delivery *d;
		while (r->in_flight < IN_FLIGHT_MAX && (d = TAILQ_FIRST(&r->turn))) {
			TAILQ_REMOVE(&r->turn, d, turn_entry);
			d->queued = false;
			delivery_post(d);
		}
	}
}

static void posted(struct delivery *d)
{
	if (d->posting) {
		n_posting--;
		d->rcv->in_flight--;
		if (!TAILQ_EMPTY(&d->rcv->turn)) {
			if (!ev_turns && !(ev_turns = event_new(hl->base, -1, 0, turns_cb, NULL)))
				abort();
			event_active(ev_turns, EV_TIMEOUT, 0);
		}
	}
	d->posting = false;
}

static void delivery_free(struct delivery *d)
{
	posted(d);
	if (d->queued)
		TAILQ_REMOVE(&d->rcv->turn, d, turn_entry);
	d->rcv->pending--;
	LIST_REMOVE(d, entry);
	n_deliveries--;
	if (d->retry)
		event_free(d->retry);
	if (d->hc)
		evhttp_connection_free(d->hc);
	free(d->url);
	free(d->body);
	free(d->auth.secret);
	free(d->auth.bearer);
	for (size_t i = 0; i < d->auth.n_headers; i++)
		free(d->auth.headers[i]);
	free(d->auth.headers);
	free(d);
}

static void delivery_send(struct delivery *d);
static void add_auth_headers(struct evkeyvalq *h, const struct delivery *d);
static void note_done(const char *url, const char *delivery_id);

static void delivery_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	if (hl->stopping)
		return; /* its row stays: the next start, or a peer (cluster_webhooks.c), sends it */
	delivery_send(arg);
}

static void delivery_failed(struct delivery *d, const char *why)
{
	posted(d);
	if (d->attempt > hl->cfg->webhooks.max_retries) {
		char lb[320];
		log_err("webhook %s: giving up after %d attempts: %s", webhook_url_label(d->url, lb, sizeof lb), d->attempt,
		        why);
		hl->stats.webhook_failed++;
		note_done(d->url, d->id);
		delivery_free(d);
		return;
	}
	/* attempt counts the POSTs made so far: waits of 0.5 s, 1 s, 2 s, ... up to 60 s */
	int delay_ms = 500 << (d->attempt - 1 < 10 ? d->attempt - 1 : 10);
	if (delay_ms > 60000)
		delay_ms = 60000;
	char lb[320];
	log_warn("webhook %s: attempt %d failed (%s); retrying in %d ms", webhook_url_label(d->url, lb, sizeof lb),
	         d->attempt, why, delay_ms);
	if (!d->retry)
		d->retry = evtimer_new(hl->base, delivery_retry_cb, d);
	struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };
	evtimer_add(d->retry, &tv);
}

static void delivery_done_cb(struct evhttp_request *req, void *arg)
{
	struct delivery *d = arg;
	posted(d);
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code >= 200 && code < 300) {
		hl->stats.webhook_sent++;
		note_done(d->url, d->id);
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

/* Send now if its receiver has a free place, else wait for its turn. */
static void delivery_send(struct delivery *d)
{
	if (d->rcv->in_flight >= IN_FLIGHT_MAX || !TAILQ_EMPTY(&d->rcv->turn)) {
		d->queued = true;
		TAILQ_INSERT_TAIL(&d->rcv->turn, d, turn_entry);
		return;
	}
	delivery_post(d);
}

static void delivery_post(struct delivery *d)
{
	if (hl->stopping && d->attempt > 0)
		return; /* a retry whose turn came during the stop: its row stays (see webhooks_settled) */
	struct evhttp_uri *uri = evhttp_uri_parse(d->url);
	d->attempt++;
	const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
	bool tls = scheme && strcmp(scheme, "https") == 0;
	if (!uri || !evhttp_uri_get_host(uri) || (scheme && !tls && strcmp(scheme, "http") != 0)) {
		char lb[320];
		log_err("webhook %s: not an http:// or https:// URL; dropped", webhook_url_label(d->url, lb, sizeof lb));
		note_done(d->url, d->id);
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
	add_auth_headers(h, d);
	evbuffer_add(evhttp_request_get_output_buffer(req), d->body, strlen(d->body));
	if (evhttp_make_request(d->hc, req, EVHTTP_REQ_POST, target) != 0) {
		/* evhttp_make_request frees req on failure */
		evhttp_uri_free(uri);
		delivery_failed(d, "cannot send");
		return;
	}
	d->posting = true;
	n_posting++;
	d->rcv->in_flight++;
	evhttp_uri_free(uri);
}

/* Delivery id, signature over "<timestamp>.<body>", bearer token and the
 * webhook's own headers (which may not replace Host or Content-Type). */
static void add_auth_headers(struct evkeyvalq *h, const struct delivery *d)
{
	evhttp_add_header(h, "X-Hotline-Delivery", d->id);
	if (d->auth.secret) {
		char ts[24], sig[72];
		snprintf(ts, sizeof ts, "%lld", (long long)(now_ms() / 1000));
		webhook_sign(d->auth.secret, ts, d->body, sig);
		evhttp_add_header(h, "X-Hotline-Timestamp", ts);
		evhttp_add_header(h, "X-Hotline-Signature", sig);
	}
	if (d->auth.bearer) {
		char v[1024];
		snprintf(v, sizeof v, "Bearer %s", d->auth.bearer);
		evhttp_add_header(h, "Authorization", v);
	}
	for (size_t i = 0; i < d->auth.n_headers; i++) {
		char name[128];
		const char *hv = d->auth.headers[i], *colon = strchr(hv, ':');
		snprintf(name, sizeof name, "%.*s", (int)(colon - hv), hv);
		if (strcasecmp(name, "Host") == 0 || strcasecmp(name, "Content-Type") == 0 ||
		    strcasecmp(name, "Content-Length") == 0)
			continue;
		for (hv = colon + 1; *hv == ' ' || *hv == '\t'; hv++)
			;
		evhttp_remove_header(h, name);
		evhttp_add_header(h, name, hv);
	}
}

static char *dup_or_null(const char *s)
{
	char *c = s ? strdup(s) : NULL;
	if (s && !c)
		abort();
	return c;
}

static void note_dropped(const char *url, int max)
{
	hl->stats.webhook_dropped++;
	dropped_unreported++;
	hl_ms now = mono_ms();
	if (dropped_logged_at == 0 || now - dropped_logged_at >= 1000) {
		char lb[320];
		log_err("webhook %s: %d deliveries pending; %llu alert delivery(ies) dropped since the last report",
		        webhook_url_label(url, lb, sizeof lb), max,
		        (unsigned long long)dropped_unreported);
		dropped_logged_at = now;
		dropped_unreported = 0;
	}
}

/* Delivered, given up or dropped: its row in hotline.webhook_deliveries goes
 * with the store's next batch (webhooks_done_rows). */
static void note_done(const char *url, const char *delivery_id)
{
	long long alert_id;
	int level;
	if (sscanf(delivery_id, "%lld.%d.", &alert_id, &level) != 2)
		return;
	if (!done_rows)
		done_rows = json_object_new_array();
	json_object *o = json_object_new_object();
	json_object_object_add(o, "alert_id", json_object_new_int64(alert_id));
	json_object_object_add(o, "level", json_object_new_int(level));
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_array_add(done_rows, o);
	if (on_done)
		on_done(); /* the rows go in the store's next transaction */
}

/* A graceful stop (main.c) waits for the deletion of the rows of the
 * deliveries done, and for the POSTs on their way for at most
 * STOP_WAIT_MS: otherwise a POST the receiver was answering, or a delivered
 * one whose row was still there, was sent again by the next start - a
 * duplicate on every rolling restart, not only after a crash.  A receiver
 * that hangs does not hold the stop longer (its row stays: the next start
 * or a peer sends it, at least once); a retry waiting for its time is not
 * waited for, and none starts while stopping. */
#define STOP_WAIT_MS 3000

bool webhooks_settled(hl_ms stopping_for)
{
	return !webhooks_done_waiting() && (n_posting == 0 || stopping_for > STOP_WAIT_MS);
}

bool webhooks_done_waiting(void)
{
	return done_rows && json_object_array_length(done_rows) > 0;
}

struct json_object *webhooks_done_rows(void)
{
	json_object *a = done_rows ? done_rows : json_object_new_array();
	done_rows = NULL;
	return a;
}

static char *urls_json; /* webhooks_urls_json()'s last answer */

const char *webhooks_urls_json(void)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < hl->cfg->webhooks.n_urls; i++)
		json_object_array_add(a, json_object_new_string(hl->cfg->webhooks.urls[i]));
	free(urls_json);
	urls_json = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
	if (!urls_json)
		abort();
	return urls_json;
}

/* POST the alert to webhook i. */
static void post_one(size_t i, const char *alert_json, const char *masked_json)
{
	const struct hl_config *cfg = hl->cfg;
	bool mask = !cfg->webhooks.mask_confidential || cfg->webhooks.mask_confidential[i];
	const struct hl_webhook_opts *o = cfg->webhooks.opts ? &cfg->webhooks.opts[i] : NULL;
	struct delivery *d = calloc(1, sizeof *d);
	if (!d)
		abort();
	d->url = strdup(cfg->webhooks.urls[i]);
	d->body = webhook_body(o, d->url, mask && masked_json ? masked_json : alert_json, d->id, sizeof d->id);
	if (!d->url || !d->body)
		abort();
	d->rcv = receiver_of(d->url);
	if (d->rcv->pending >= (size_t)cfg->webhooks.max_pending) {
		note_dropped(cfg->webhooks.urls[i], cfg->webhooks.max_pending);
		note_done(d->url, d->id);
		free(d->url);
		free(d->body);
		free(d);
		return;
	}
	if (o) {
		d->auth.secret = dup_or_null(o->secret);
		d->auth.bearer = dup_or_null(o->bearer);
		if (o->n_headers && !(d->auth.headers = calloc(o->n_headers, sizeof *d->auth.headers)))
			abort();
		for (; d->auth.n_headers < o->n_headers; d->auth.n_headers++)
			d->auth.headers[d->auth.n_headers] = dup_or_null(o->headers[d->auth.n_headers]);
	}
	LIST_INSERT_HEAD(&deliveries, d, entry);
	n_deliveries++;
	d->rcv->pending++;
	delivery_send(d);
}

void alerts_webhooks_post(const char *alert_json, const char *masked_json)
{
	for (size_t i = 0; i < hl->cfg->webhooks.n_urls; i++)
		post_one(i, alert_json, masked_json);
}

/* Is this delivery still ours to finish: being sent, or done with its row
 * not yet deleted?  After a write cut off, the store reads the undone rows
 * again without a restart (store_conn.c, resync), and those include the
 * deliveries this process is working on. */
static bool delivery_known(const char *url, const char *id)
{
	struct delivery *d;
	LIST_FOREACH(d, &deliveries, entry)
		if (strcmp(d->id, id) == 0 && strcmp(d->url, url) == 0)
			return true;
	long long alert_id;
	int level;
	if (!done_rows || sscanf(id, "%lld.%d.", &alert_id, &level) != 2)
		return false;
	for (size_t k = 0; k < json_object_array_length(done_rows); k++) {
		json_object *o = json_object_array_get_idx(done_rows, k);
		if (json_object_get_int64(json_object_object_get(o, "alert_id")) == alert_id &&
		    json_object_get_int(json_object_object_get(o, "level")) == level &&
		    strcmp(json_object_get_string(json_object_object_get(o, "url")), url) == 0)
			return true;
	}
	return false;
}

void webhooks_resume(const char *url, const char *alert_json, const char *masked_json)
{
	const struct hl_config *cfg = hl->cfg;
	char id[64];
	free(webhook_body(NULL, url, alert_json, id, sizeof id));
	if (delivery_known(url, id))
		return;
	for (size_t i = 0; i < cfg->webhooks.n_urls; i++)
		if (strcmp(cfg->webhooks.urls[i], url) == 0) {
			char lb[320];
			log_info("webhook %s: delivery %s left undone, sending it (again)", webhook_url_label(url, lb, sizeof lb),
			         id);
			post_one(i, alert_json, masked_json);
			return;
		}
	/* no longer configured: forget it */
	note_done(url, id);
}

void webhooks_free(void)
{
	struct delivery *d;
	while ((d = LIST_FIRST(&deliveries)))
		delivery_free(d);
	for (size_t i = 0; i < n_receivers; i++) {
		free(receivers[i]->url);
		free(receivers[i]);
	}
	free(receivers);
	receivers = NULL;
	n_receivers = 0;
	if (ev_turns)
		event_free(ev_turns);
	ev_turns = NULL;
	json_object_put(done_rows);
	done_rows = NULL;
	free(urls_json);
	urls_json = NULL;
	if (client_tls) {
		SSL_CTX_free(client_tls);
		client_tls = NULL;
	}
	if (dns) {
		evdns_base_free(dns, 0);
		dns = NULL;
	}
}
