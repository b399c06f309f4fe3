/*
 * webhook_body.c - what one webhook receives for one alert: the body in the
 * receiver's format, the delivery id and the signature.
 *
 * Formats (webhooks.urls[].format):
 *   hotline       the alert object as subscribers get it, plus
 *                 "payload_version" (WEBHOOK_PAYLOAD_VERSION) and "delivery_id";
 *   alertmanager  what Prometheus Alertmanager accepts on POST /api/v2/alerts:
 *                 a JSON array of one {labels, annotations, startsAt, endsAt,
 *                 generatorURL}; labels are strings and identify the alert
 *                 (alertname hotline_<kind>, alert_id, severity), so an
 *                 escalation to critical is routed afresh;
 *   pagerduty     a PagerDuty Events API v2 event: {routing_key, event_action,
 *                 dedup_key, payload: {summary, source, severity, timestamp,
 *                 custom_details}}; dedup_key is per alert, so escalations
 *                 update one incident.
 * Every format carries the (already masked, where the webhook masks) alert
 * text only; nothing here sees a number the caller's masking removed.
 *
 * The delivery id is derived, not drawn: "<alert id>.<level>.<hash of the
 * URL>" names one alert at one level for one receiver.  It is the same on
 * every retry and after a restart, so a receiver can drop duplicates by it.
 *
 * The signature is HMAC-SHA256 with the webhook's secret over
 * "<timestamp>.<body>" (the exact bytes sent), hex in
 * X-Hotline-Signature: sha256=<hex>; the timestamp (Unix seconds, in
 * X-Hotline-Timestamp) is signed with it so a receiver can refuse replays of
 * old deliveries.  See docs/webhooks.md for a verification snippet.
 *
 * How the log names a URL (webhook_url_label): many receivers take their
 * credential in it - a chat webhook's path, an api_key in the query,
 * user:password@ - so the log shows the scheme, the host and port, and the
 * hash the delivery ids end with ("https://hooks.example.org/... [9f3c21aa]"),
 * never the path, query or user.
 *
 * No libevent here: json-c and OpenSSL's HMAC only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "daemon.h"

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

const char *webhook_url_label(const char *url, char *buf, size_t len)
{
	const char *scheme_end = strstr(url, "://");
	const char *host = scheme_end ? scheme_end + 3 : url;
	size_t alen = strcspn(host, "/?#");
	const char *at = NULL;
	for (const char *p = host; p < host + alen; p++)
		if (*p == '@')
			at = p; /* userinfo ends at the last '@' of the authority */
	const char *h = at ? at + 1 : host;
	size_t hlen = alen - (size_t)(h - host);
	bool more = host[alen] != '\0';
	snprintf(buf, len, "%.*s%.*s%s [%08x]", scheme_end ? (int)(scheme_end + 3 - url) : 0, url, (int)hlen, h,
	         more ? "/..." : "", fnv1a(url));
	return buf;
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t int_of(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static void add_str(json_object *o, const char *key, const char *v)
{
	if (v)
		json_object_object_add(o, key, json_object_new_string(v));
}

/* the alert's own keys copied as strings (Alertmanager labels are strings) */
static void add_as_str(json_object *dst, const char *key, json_object *alert, const char *from)
{
	json_object *v;
	if (json_object_object_get_ex(alert, from, &v) && !json_object_is_type(v, json_type_null))
		json_object_object_add(dst, key, json_object_new_string(json_object_get_string(v)));
}

static const char *severity(json_object *alert)
{
	return int_of(alert, "level") > 0 ? "critical" : "warning";
}

static void summary(char *out, size_t len, json_object *alert)
{
	const char *kind = str_of(alert, "kind"), *order = str_of(alert, "order_id");
	int64_t case_id = int_of(alert, "case_id"), level = int_of(alert, "level");
	if (order)
		snprintf(out, len, "hotline %s alert on order %s (level %lld)", kind ? kind : "?", order, (long long)level);
	else
		snprintf(out, len, "hotline %s alert on case %lld (level %lld)", kind ? kind : "?", (long long)case_id,
			 (long long)level);
}

static json_object *alertmanager(json_object *alert, const char *delivery_id)
{
	json_object *a = json_object_new_object(), *labels = json_object_new_object(),
		    *ann = json_object_new_object();
	char name[64], text[256], url[64];
	const char *kind = str_of(alert, "kind");
	snprintf(name, sizeof name, "hotline_%s", kind ? kind : "alert");
	add_str(labels, "alertname", name);
	add_str(labels, "service", "hotline");
	add_str(labels, "severity", severity(alert));
	add_as_str(labels, "kind", alert, "kind");
	add_as_str(labels, "alert_id", alert, "id");
	add_as_str(labels, "case_id", alert, "case_id");
	add_as_str(labels, "order_id", alert, "order_id");
	add_as_str(labels, "department", alert, "department");
	summary(text, sizeof text, alert);
	add_str(ann, "summary", text);
	add_as_str(ann, "description", alert, "detail");
	add_as_str(ann, "level", alert, "level");
	add_as_str(ann, "caller", alert, "caller");
	add_as_str(ann, "due_at", alert, "due_at");
	add_str(ann, "delivery_id", delivery_id);
	snprintf(text, sizeof text, "%d", WEBHOOK_PAYLOAD_VERSION);
	add_str(ann, "payload_version", text);
	json_object_object_add(a, "labels", labels);
	json_object_object_add(a, "annotations", ann);
	add_as_str(a, "startsAt", alert, "raised_at");
	add_as_str(a, "endsAt", alert, "acked_at"); /* an acknowledged alert is over */
	snprintf(url, sizeof url, "hotline://alerts/%lld", (long long)int_of(alert, "id"));
	add_str(a, "generatorURL", url);
	json_object *arr = json_object_new_array();
	json_object_array_add(arr, a);
	return arr;
}

static json_object *pagerduty(json_object *alert, const struct hl_webhook_opts *o, const char *delivery_id)
{
	json_object *e = json_object_new_object(), *p = json_object_new_object();
	char text[256];
	const char *acked = str_of(alert, "acked_at"), *esc = str_of(alert, "escalated_at");
	add_str(e, "routing_key", o->routing_key);
	add_str(e, "event_action", acked ? "acknowledge" : "trigger");
	snprintf(text, sizeof text, "hotline-alert-%lld", (long long)int_of(alert, "id"));
	add_str(e, "dedup_key", text);
	summary(text, sizeof text, alert);
	add_str(p, "summary", text);
	add_str(p, "source", "hotlined");
	add_str(p, "severity", severity(alert));
	add_str(p, "timestamp", esc ? esc : str_of(alert, "raised_at"));
	add_as_str(p, "component", alert, "department");
	add_as_str(p, "class", alert, "kind");
	json_object *details = json_object_get(alert);
	json_object_object_add(details, "delivery_id", json_object_new_string(delivery_id));
	json_object_object_add(details, "payload_version", json_object_new_int(WEBHOOK_PAYLOAD_VERSION));
	json_object_object_add(p, "custom_details", details);
	json_object_object_add(e, "payload", p);
	return e;
}

char *webhook_body(const struct hl_webhook_opts *o, const char *url, const char *alert_json, char *delivery_id,
		   size_t id_len)
{
	json_object *alert = json_tokener_parse(alert_json);
	if (!alert || !json_object_is_type(alert, json_type_object)) {
		json_object_put(alert);
		snprintf(delivery_id, id_len, "x.%08x.%08x", fnv1a(alert_json), fnv1a(url));
		return strdup(alert_json);
	}
	snprintf(delivery_id, id_len, "%lld.%lld.%08x", (long long)int_of(alert, "id"), (long long)int_of(alert, "level"),
		 fnv1a(url));
	json_object *out;
	int format = o ? o->format : HL_WH_HOTLINE;
	if (format == HL_WH_ALERTMANAGER) {
		out = alertmanager(alert, delivery_id);
	} else if (format == HL_WH_PAGERDUTY) {
		out = pagerduty(alert, o, delivery_id);
	} else {
		out = json_object_get(alert);
		json_object_object_add(out, "payload_version", json_object_new_int(WEBHOOK_PAYLOAD_VERSION));
		json_object_object_add(out, "delivery_id", json_object_new_string(delivery_id));
	}
	char *body = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	json_object_put(alert);
	return body;
}

void webhook_sign(const char *secret, const char *timestamp, const char *body, char out[72])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t tl = strlen(timestamp), bl = strlen(body);
	char *msg = malloc(tl + 1 + bl + 1);
	if (!msg)
		abort();
	memcpy(msg, timestamp, tl);
	msg[tl] = '.';
	memcpy(msg + tl + 1, body, bl + 1);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, tl + 1 + bl, mac, &n);
	free(msg);
	strcpy(out, "sha256=");
	for (unsigned int i = 0; i < n && i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", mac[i]);
}
