/*
 * config_webhooks.c - the per-webhook options of hotlined.conf:
 *
 *     webhooks = { urls = ( "https://a/hook",
 *                           { url = "https://b/hook"; format = "pagerduty";
 *                             routing_key = "R0UT1NG"; secret = "s3cr3t";
 *                             bearer = "t0ken"; headers = [ "X-Team: hotline" ];
 *                             mask_confidential = false; } ); };
 *
 * format picks the body the receiver expects ("hotline", the default;
 * "alertmanager"; "pagerduty"), secret signs each body (HMAC-SHA256),
 * bearer and headers authenticate to receivers that want a token.
 * webhooks.urls is a custom row of config_table.c; it is read with the
 * loader's helpers, so messages read the same ("FILE:LINE: KEY: what").
 *
 * Pure: part of the functional core (no libevent, no libpq).
 */
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

const char *const hl_cfgi_webhook_keys[] = {"url", "mask_confidential", "format", "secret", "bearer", "headers",
					    "routing_key", NULL};

static const char *const formats[] = { [HL_WH_HOTLINE] = "hotline", [HL_WH_ALERTMANAGER] = "alertmanager",
				       [HL_WH_PAGERDUTY] = "pagerduty" };

const char *hl_webhook_format_name(int format)
{
	return format >= 0 && format < HL_WH__COUNT ? formats[format] : "?";
}

static int dup_opt(const struct ld *ld, const config_setting_t *e, const char *name, char **dst)
{
	const char *v = NULL;
	const config_setting_t *where = NULL;
	if (hl_cfgi_str(ld, e, name, &v, &where))
		return -1;
	if (!v)
		return 0;
	if (!*v)
		return hl_cfgi_fail(ld, where, "empty (leave the key out instead)");
	if (strpbrk(v, "\r\n"))
		return hl_cfgi_fail(ld, where, "must not contain a line break");
	*dst = strdup(v);
	return *dst ? 0 : hl_cfgi_fail(ld, where, "out of memory");
}

/* A header "Name: value": a token name (RFC 9110), no line breaks. */
static bool valid_header(const char *h)
{
	const char *colon = strchr(h, ':');
	if (!colon || colon == h || strpbrk(h, "\r\n"))
		return false;
	for (const char *p = h; p < colon; p++)
		if (!strchr("!#$%&'*+-.^_`|~", *p) && !((*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')))
			return false;
	return true;
}

static int webhook_opts(const struct ld *ld, const config_setting_t *e, struct hl_webhook_opts *o)
{
	const char *f = NULL;
	const config_setting_t *where = NULL, *hs = NULL;
	char q[48];
	if (hl_cfgi_str(ld, e, "format", &f, &where))
		return -1;
	if (f) {
		int i;
		for (i = 0; i < HL_WH__COUNT && strcmp(f, formats[i]) != 0; i++)
			;
		if (i == HL_WH__COUNT)
			return hl_cfgi_fail(ld, where, "unknown format '%s' (hotline, alertmanager or pagerduty)",
					    hl_cfgi_shown(f, q, sizeof q));
		o->format = i;
	}
	if (dup_opt(ld, e, "secret", &o->secret) || dup_opt(ld, e, "bearer", &o->bearer) ||
	    dup_opt(ld, e, "routing_key", &o->routing_key) || hl_cfgi_str_list(ld, e, "headers", &hs))
		return -1;
	if (o->format == HL_WH_PAGERDUTY && !o->routing_key)
		return hl_cfgi_fail(ld, e, "routing_key: missing (format \"pagerduty\" needs the integration key)");
	if (hs) {
		size_t n = (size_t)config_setting_length(hs);
		o->headers = calloc(n ? n : 1, sizeof *o->headers);
		if (!o->headers)
			return hl_cfgi_fail(ld, hs, "out of memory");
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *h = config_setting_get_elem(hs, (unsigned)i);
			const char *v = config_setting_get_string(h);
			if (!v || !valid_header(v))
				return hl_cfgi_fail(ld, h, "bad header '%s' (use \"Name: value\")", hl_cfgi_shown(v ? v : "", q, sizeof q));
			if (!(o->headers[i] = strdup(v)))
				return hl_cfgi_fail(ld, h, "out of memory");
			o->n_headers = i + 1;
		}
	}
	return 0;
}

/*
 * webhooks.urls: an array of URL strings, or a list whose elements are URL
 * strings or groups { url = "..."; mask_confidential = false; } for a
 * receiver entitled to confidential callers' numbers (masked by default).
 */
int hl_cfgi_load_urls(const struct ld *ld, const config_setting_t *g, const config_setting_t *arr,
		      struct hl_config *cfg)
{
	char q[48];
	(void)g;
	if (!arr)
		return 0;
	int t = config_setting_type(arr);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return hl_cfgi_fail_type(ld, arr, "an array of URLs [ \"...\" ] or a list ( \"...\", { url = \"...\"; } )");
	size_t n = (size_t)config_setting_length(arr);
	if (n == 0)
		return 0;
	cfg->webhooks.urls = calloc(n, sizeof *cfg->webhooks.urls);
	cfg->webhooks.mask_confidential = calloc(n, sizeof *cfg->webhooks.mask_confidential);
	cfg->webhooks.opts = calloc(n, sizeof *cfg->webhooks.opts);
	if (!cfg->webhooks.urls || !cfg->webhooks.mask_confidential || !cfg->webhooks.opts)
		return hl_cfgi_fail(ld, arr, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i), *where = e;
		const char *u = NULL;
		bool mask = true;
		if (config_setting_type(e) == CONFIG_TYPE_GROUP) {
			int b = 1;
			cfg->webhooks.n_urls = i + 1; /* so that a failure frees opts[i] */
			if (hl_cfgi_check_keyv(ld, e, hl_cfgi_webhook_keys) || hl_cfgi_str(ld, e, "url", &u, &where) ||
			    webhook_opts(ld, e, &cfg->webhooks.opts[i]))
				return -1;
			if (!u)
				return hl_cfgi_fail(ld, e, "url: missing");
			const config_setting_t *m = hl_cfgi_member(e, "mask_confidential");
			if (m) {
				if (config_setting_type(m) != CONFIG_TYPE_BOOL)
					return hl_cfgi_fail_type(ld, m, "true or false");
				b = config_setting_get_bool(m);
			}
			mask = b != 0;
		} else if (config_setting_type(e) == CONFIG_TYPE_STRING) {
			u = config_setting_get_string(e);
		} else {
			return hl_cfgi_fail_type(ld, e, "a URL string or a group { url = \"...\"; mask_confidential = false; }");
		}
		if (!hl_cfgi_valid_url(u))
			return hl_cfgi_fail(ld, where, "bad URL '%s' (use http://host/path or https://host/path)", hl_cfgi_shown(u, q, sizeof q));
		if (hl_cfgi_set_str(ld, where, &cfg->webhooks.urls[i], u, false))
			return -1;
		cfg->webhooks.mask_confidential[i] = mask;
		cfg->webhooks.n_urls = i + 1;
	}
	return 0;
}

void hl_cfgi_webhook_opts_free(struct hl_webhook_opts *o)
{
	free(o->secret);
	free(o->bearer);
	free(o->routing_key);
	for (size_t i = 0; i < o->n_headers; i++)
		free(o->headers[i]);
	free(o->headers);
	memset(o, 0, sizeof *o);
}
