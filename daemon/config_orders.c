/*
 * config_orders.c - the work-order groups of hotlined.conf (CONTRACT.md 6)
 * and the working-day check of CONTRACT.md 2.
 *
 *     orders  = { sign; reply; redispatch; calendar; urge_after; };
 *     hotspot = { window; threshold; key = [ ... ]; };
 *
 * The keys are rows of config_table.c; this file holds what the table
 * cannot say: the group checks of orders and hotspot, hotspot.key (a custom
 * row), and the working-day check.  orders.sign/reply/redispatch are the
 * defaults of the default policy (cfg->sla) and are loaded before sla = { },
 * so that sla.policies entries inherit them like every other clock and may
 * override them.
 *
 * "Nwd" needs a calendar.  Spans are parsed first and checked afterwards,
 * once every calendar name is known: a case clock uses its policy's calendar,
 * an order clock (sign, reply, redispatch, urge_after) the orders calendar
 * (orders.calendar, else sla.calendar).  An explicit "Nwd" without one is an
 * error naming the key.  The contract's defaults "5wd" (reply) and "1wd"
 * (urge_after) fall back to "7d" and "1d" of wall-clock time when no
 * calendar applies, so a configuration without calendars stays valid.
 *
 * Pure: part of the functional core (no libevent, no libpq).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)

static const char *const hotspot_fields[] = {"category", "area", "department", NULL};

/* The default policy's order deadlines are the orders group's. */
void hl_cfgi_order_defaults(struct hl_config *cfg)
{
	cfg->sla.sign_ms = cfg->orders.sign_ms;
	cfg->sla.reply_ms = cfg->orders.reply_ms;
	cfg->sla.redispatch_ms = cfg->orders.redispatch_ms;
}

const struct hl_calendar *hl_config_orders_calendar(const struct hl_config *cfg)
{
	const char *name = cfg->orders.calendar[0] ? cfg->orders.calendar : cfg->sla.calendar;
	return hl_config_calendar(cfg, name);
}

int hl_cfgi_check_orders(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
			 struct hl_config *cfg)
{
	(void)root;
	if (cfg->orders.reply_ms == 0)
		return hl_cfgi_fail(ld, config_setting_get_member(g, "reply"), "must not be 0 (an order must be answered)");
	if (cfg->orders.urge_after_ms == 0)
		return hl_cfgi_fail(ld, config_setting_get_member(g, "urge_after"), "must not be 0");
	hl_cfgi_order_defaults(cfg);
	return 0;
}

/* An explicit working-day span without a calendar: the error names the key. */
static int need_calendar(const struct ld *ld, const config_setting_t *where, int64_t span, bool has_cal,
			 const char *which)
{
	if (!hl_span_is_wd(span) || has_cal)
		return 0;
	return hl_cfgi_fail(ld, where, "working days (%dwd) need a calendar: set %s", hl_span_wd(span), which);
}

/* The case clocks of one policy (group g, or NULL for values it inherits: then `at` is blamed). */
static int check_policy(const struct ld *ld, const config_setting_t *g, const config_setting_t *at,
			const struct hl_policy *p)
{
	static const char *const keys[] = {"callback", "update", "resolution", "survey"};
	int64_t spans[] = {p->callback_ms, p->update_ms, p->resolution_ms, p->survey_ms};
	for (int i = 0; i < 4; i++) {
		const config_setting_t *s = hl_cfgi_member(g, keys[i]);
		if (need_calendar(ld, s ? s : at, spans[i], p->calendar[0] != '\0', "calendar = \"...\" in this group"))
			return -1;
	}
	return 0;
}

int hl_cfgi_check_spans(const struct ld *ld, const config_setting_t *root, const config_setting_t *sla,
			struct hl_config *cfg)
{
	const config_setting_t *orders = hl_cfgi_member(root, "orders");
	const config_setting_t *list = hl_cfgi_member(sla, "policies");
	bool order_cal = hl_config_orders_calendar(cfg) != NULL;
	const char *which = "orders.calendar (or sla.calendar)";

	if (check_policy(ld, sla, sla ? sla : root, &cfg->sla))
		return -1;
	for (size_t i = 0; i < cfg->n_policies; i++) {
		const config_setting_t *g = list ? config_setting_get_elem(list, (unsigned)i) : NULL;
		if (check_policy(ld, g, g ? g : root, &cfg->policies[i]))
			return -1;
	}
	/* order clocks: explicit values need the orders calendar; the defaults fall back */
	static const char *const okeys[] = {"sign", "reply", "redispatch", "urge_after"};
	int64_t *ovals[] = {&cfg->orders.sign_ms, &cfg->orders.reply_ms, &cfg->orders.redispatch_ms,
			    &cfg->orders.urge_after_ms};
	for (int i = 0; i < 4; i++) {
		const config_setting_t *s = hl_cfgi_member(orders, okeys[i]);
		if (s && need_calendar(ld, s, *ovals[i], order_cal, which))
			return -1;
	}
	for (size_t i = 0; i < cfg->n_policies; i++) {
		const config_setting_t *g = list ? config_setting_get_elem(list, (unsigned)i) : NULL;
		const config_setting_t *s;
		if ((s = hl_cfgi_member(g, "sign")) && need_calendar(ld, s, cfg->policies[i].sign_ms, order_cal, which))
			return -1;
		if ((s = hl_cfgi_member(g, "reply")) && need_calendar(ld, s, cfg->policies[i].reply_ms, order_cal, which))
			return -1;
		if (s && cfg->policies[i].reply_ms == 0)
			return hl_cfgi_fail(ld, s, "must not be 0 (an order must be answered)");
		if ((s = hl_cfgi_member(g, "redispatch")) &&
		    need_calendar(ld, s, cfg->policies[i].redispatch_ms, order_cal, which))
			return -1;
	}
	if (!order_cal) {
		/* only defaults can still be working days here */
		if (hl_span_is_wd(cfg->orders.reply_ms))
			cfg->orders.reply_ms = 7 * DAY_MS;
		if (hl_span_is_wd(cfg->orders.urge_after_ms))
			cfg->orders.urge_after_ms = DAY_MS;
		if (hl_span_is_wd(cfg->sla.reply_ms))
			cfg->sla.reply_ms = cfg->orders.reply_ms;
		for (size_t i = 0; i < cfg->n_policies; i++)
			if (hl_span_is_wd(cfg->policies[i].reply_ms))
				cfg->policies[i].reply_ms = cfg->orders.reply_ms;
	}
	return 0;
}

int hl_cfgi_check_hotspot(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
			  struct hl_config *cfg)
{
	(void)root;
	if (cfg->hotspot.threshold == 1)
		return hl_cfgi_fail(ld, hl_cfgi_member(g, "threshold"), "1 would make every case a hotspot (use 0 for off, or >= 2)");
	return 0;
}

/* hotspot.key: case fields, each once; default [ "category", "area" ]. */
int hl_cfgi_load_hotspot_key(const struct ld *ld, const config_setting_t *g, const config_setting_t *s,
			     struct hl_config *cfg)
{
	const config_setting_t *arr;
	char q[48];
	if (!cfg->hotspot.key) {
		cfg->hotspot.key = calloc(2, sizeof *cfg->hotspot.key);
		if (!cfg->hotspot.key || !(cfg->hotspot.key[0] = strdup("category")) ||
		    !(cfg->hotspot.key[1] = strdup("area")))
			return hl_cfgi_fail(ld, ld->root, "out of memory");
		cfg->hotspot.n_key = 2;
	}
	if (!s || hl_cfgi_str_list(ld, g, "key", &arr))
		return s ? -1 : 0;
	size_t n = (size_t)config_setting_length(arr);
	if (n == 0)
		return hl_cfgi_fail(ld, arr, "must name at least one of category, area, department");
	char **keys = calloc(n, sizeof *keys);
	if (!keys)
		return hl_cfgi_fail(ld, arr, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
		const char *v = config_setting_get_string(e);
		bool ok = false;
		for (const char *const *f = hotspot_fields; *f; f++)
			ok = ok || strcmp(*f, v) == 0;
		for (size_t j = 0; ok && j < i; j++)
			ok = strcmp(keys[j], v) != 0;
		if (!ok || !(keys[i] = strdup(v))) {
			for (size_t j = 0; j < i; j++)
				free(keys[j]);
			free(keys);
			return hl_cfgi_fail(ld, e, "'%s' is not a key (use category, area or department, each once)",
					    hl_cfgi_shown(v, q, sizeof q));
		}
	}
	for (size_t i = 0; i < cfg->hotspot.n_key; i++)
		free(cfg->hotspot.key[i]);
	free(cfg->hotspot.key);
	cfg->hotspot.key = keys;
	cfg->hotspot.n_key = n;
	return 0;
}
