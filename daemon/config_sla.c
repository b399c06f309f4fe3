/*
 * config_sla.c - sla.policies of hotlined.conf: the service levels that
 * override the defaults for some cases (a custom row of config_table.c).
 *
 *     sla = { callback = "30m"; ...;
 *             policies = ( { name = "urgent"; priority = "urgent"; callback = "10m"; },
 *                          { category = "complaint"; reply = "13wd"; calendar = "office"; } ); };
 *
 * A policy starts as a copy of the sla = { } defaults, which is how the keys
 * it leaves out inherit; its clocks, warn_at and calendar are then read by
 * the very rows that read sla's (hl_cfgi_load_rows with the policy as base),
 * so a policy's "callback" is checked exactly like sla.callback.  The
 * work-order deadlines sign, reply and redispatch (inherited from orders) and
 * what the policy matches on are read here.
 *
 * Pure: part of the functional core (no libevent, no libpq).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

const char *const hl_cfgi_policy_keys[] = {"name", "category", "priority", "callback", "update", "resolution",
	"survey", "warn_at", "calendar", "sign", "reply", "redispatch", NULL};

/* category or priority of a policy: absent = any, "" is an error. */
static int load_match(const struct ld *ld, const config_setting_t *g, const char *key, char **dst)
{
	const config_setting_t *s;
	const char *v = NULL;
	if (hl_cfgi_str(ld, g, key, &v, &s))
		return -1;
	if (!s)
		return 0;
	if (v[0] == '\0')
		return hl_cfgi_fail(ld, s, "must not be empty (leave it out to match any)");
	return hl_cfgi_set_str(ld, s, dst, v, false);
}

/* The policy's name; without one it is named after what it matches. */
static int load_policy_name(const struct ld *ld, const config_setting_t *g, const struct hl_config *cfg,
			    struct hl_policy *p)
{
	const config_setting_t *s;
	const char *v = NULL;
	char q[48];
	if (hl_cfgi_str(ld, g, "name", &v, &s))
		return -1;
	if (s) {
		if (v[0] == '\0')
			return hl_cfgi_fail(ld, s, "must not be empty");
		if (hl_cfgi_set_name(ld, s, p->name, sizeof p->name, v))
			return -1;
	} else {
		int n = snprintf(p->name, sizeof p->name, "%s%s%s", p->category ? p->category : "",
				 p->category && p->priority ? "/" : "", p->priority ? p->priority : "");
		if (n < 0 || (size_t)n >= sizeof p->name)
			return hl_cfgi_fail(ld, g, "give this policy a name (at most %zu bytes)", sizeof p->name - 1);
		s = g;
	}
	if (strcmp(p->name, "default") == 0)
		return hl_cfgi_fail(ld, s, "the name 'default' is reserved for the sla = { } defaults");
	for (size_t i = 0; i < cfg->n_policies; i++)
		if (&cfg->policies[i] != p && strcmp(cfg->policies[i].name, p->name) == 0)
			return hl_cfgi_fail(ld, s, "policy '%s' is defined twice", hl_cfgi_shown(p->name, q, sizeof q));
	return 0;
}

static int load_policy(const struct ld *ld, const config_setting_t *g, const struct hl_config *cfg,
		       struct hl_policy *p)
{
	if (hl_cfgi_check_keyv(ld, g, hl_cfgi_policy_keys) || load_match(ld, g, "category", &p->category) ||
	    load_match(ld, g, "priority", &p->priority))
		return -1;
	if (!p->category && !p->priority)
		return hl_cfgi_fail(ld, g, "a policy needs category and/or priority to match on");
	if (load_policy_name(ld, g, cfg, p) || hl_cfgi_load_rows(ld, g, "sla", p, offsetof(struct hl_config, sla)) ||
	    hl_cfgi_span(ld, g, "sign", &p->sign_ms) || hl_cfgi_span(ld, g, "reply", &p->reply_ms) ||
	    hl_cfgi_span(ld, g, "redispatch", &p->redispatch_ms))
		return -1;
	return 0;
}

int hl_cfgi_load_policy(const struct ld *ld, const config_setting_t *e, size_t i, struct hl_config *cfg)
{
	struct hl_policy *p = &cfg->policies[i];
	*p = cfg->sla; /* missing keys inherit the defaults */
	p->name[0] = '\0';
	return load_policy(ld, e, cfg, p);
}
