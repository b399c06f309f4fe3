/*
 * config_internal.h - what config.c lends to the files that load one more
 * group of the configuration (config_orders.c), so that those groups are
 * checked with exactly the same rules and messages ("FILE:LINE: KEY: what")
 * without config.c growing further.  Private to the configuration loader.
 */
#ifndef HL_CONFIG_INTERNAL_H
#define HL_CONFIG_INTERNAL_H

#include <libconfig.h>

#include "config.h"

struct ld; /* one load in progress (config.c) */

/* "FILE:LINE: KEY: message" for setting s; always returns -1. */
int hl_cfgi_fail(const struct ld *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A sub-group whose keys must be in `known`; *out = NULL when absent. */
int hl_cfgi_group(const struct ld *ld, const config_setting_t *parent, const char *name,
		  const char *const *known, const config_setting_t **out);
/* A span: "90s", "30m", "48h", "2d", seconds, or "Nwd"; *out untouched when absent. */
int hl_cfgi_span(const struct ld *ld, const config_setting_t *grp, const char *name, int64_t *out);
int hl_cfgi_duration_ms(const struct ld *ld, const config_setting_t *grp, const char *name, int64_t min_s,
			int64_t max_s, int64_t *out_ms);
int hl_cfgi_int(const struct ld *ld, const config_setting_t *grp, const char *name, int min, int max, int *out);
int hl_cfgi_str(const struct ld *ld, const config_setting_t *grp, const char *name, const char **out,
		const config_setting_t **where);
int hl_cfgi_str_list(const struct ld *ld, const config_setting_t *grp, const char *name,
		     const config_setting_t **out);
/* A user string made safe to quote in a message. */
const char *hl_cfgi_shown(const char *s, char *buf, size_t len);

/* config_orders.c: the orders = { } and hotspot = { } groups, and the check
 * that every working-day span has a calendar. */
void hl_cfgi_order_defaults(struct hl_config *cfg);
int hl_cfgi_load_orders(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg);
int hl_cfgi_check_spans(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg);
int hl_cfgi_load_hotspot(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg);

/* config_webhooks.c: format, secret, bearer, headers, routing_key of one
 * webhooks.urls group. */
int hl_cfgi_webhook_opts(const struct ld *ld, const config_setting_t *e, struct hl_webhook_opts *o);
void hl_cfgi_webhook_opts_free(struct hl_webhook_opts *o);
/* config_people.c: report = { timezone; }, listen.tokens (strings or
 * { token; name; role; }) and listen.unix_supervisor*. */
int hl_cfgi_load_report(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg);
int hl_cfgi_load_tokens(const struct ld *ld, const config_setting_t *listen, struct hl_config *cfg);
int hl_cfgi_load_unix_supervisor(const struct ld *ld, const config_setting_t *listen, struct hl_config *cfg);
void hl_cfgi_free_people(struct hl_config *cfg);
const char *hl_cfgi_people_restart_key(const struct hl_config *a, const struct hl_config *b);

#endif
