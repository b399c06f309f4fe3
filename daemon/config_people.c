/*
 * config_people.c - the parts of hotlined.conf about the people who use the
 * daemon: the zone their figures are counted in, and who each socket client is.
 *
 *     report = { timezone = "Asia/Shanghai"; };
 *     listen = {
 *         tokens = [ "full-access-token",
 *                    { token = "..."; name = "wallboard"; role = "viewer"; },
 *                    { token = "..."; name = "lin";       role = "supervisor"; } ];
 *         unix_supervisor = "/run/hotlined/supervisor.sock";
 *         unix_supervisor_mode = "0660"; unix_supervisor_group = "hotline-supervisors";
 *     };
 *
 * report.timezone defaults to the first calendar's zone, else UTC: a hotline
 * that configured its opening hours in Asia/Shanghai counts its daily figures
 * in Shanghai days without a second setting.  The name must load as a zone
 * here (hl_zone_load), so that a typo is a configuration error and not a
 * database error in every figures view.
 *
 * A token written as a plain string gives full access, as in version 1; a
 * group names its holder and gives one role of roles.h.  The names and roles
 * sit in arrays parallel to listen.tokens so that every reader of the token
 * list (hotlinectl, the reload check) keeps working unchanged.
 *
 * Pure: part of the functional core (no libevent, no libpq).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "roles.h"

static const char *const report_keys[] = {"timezone", NULL};

static bool zone_name_ok(const char *v)
{
	if (!v[0] || strlen(v) >= 64 || v[0] == '/' || strstr(v, ".."))
		return false;
	for (const char *p = v; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      strchr("/_+-", *p)))
			return false;
	return true;
}

int hl_cfgi_load_report(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g = NULL, *s = NULL;
	const char *v = NULL;
	snprintf(cfg->report.timezone, sizeof cfg->report.timezone, "%s",
	         cfg->n_calendars > 0 && cfg->calendars[0].zone_name[0] ? cfg->calendars[0].zone_name : "UTC");
	if (hl_cfgi_group(ld, root, "report", report_keys, &g))
		return -1;
	if (!g || hl_cfgi_str(ld, g, "timezone", &v, &s))
		return g ? -1 : 0;
	if (!s)
		return 0;
	char q[80], zerr[200];
	if (!zone_name_ok(v))
		return hl_cfgi_fail(ld, s, "'%s' is not a time zone name (e.g. \"Asia/Shanghai\", \"UTC\")",
		                    hl_cfgi_shown(v, q, sizeof q));
	struct hl_zone *z = hl_zone_load(v, zerr, sizeof zerr);
	if (!z)
		return hl_cfgi_fail(ld, s, "%s", zerr);
	hl_zone_free(z);
	snprintf(cfg->report.timezone, sizeof cfg->report.timezone, "%s", v);
	return 0;
}

static int token_text(const struct ld *ld, const config_setting_t *e, const char *t, char **dst)
{
	if (t[0] == '\0' || strlen(t) > 256)
		return hl_cfgi_fail(ld, e, "a token must be 1..256 bytes without control characters");
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return hl_cfgi_fail(ld, e, "a token must be 1..256 bytes without control characters");
	*dst = strdup(t);
	return *dst ? 0 : hl_cfgi_fail(ld, e, "out of memory");
}

static const char *const token_keys[] = {"token", "name", "role", NULL};

/* One { token; name; role; } group. */
static int load_token_group(const struct ld *ld, const config_setting_t *e, struct hl_config *cfg, size_t i)
{
	const config_setting_t *s;
	const char *t = NULL, *name = NULL, *role = NULL;
	char q[80];
	for (int k = 0; k < config_setting_length(e); k++) {
		const config_setting_t *m = config_setting_get_elem(e, (unsigned)k);
		bool known = false;
		for (size_t j = 0; token_keys[j]; j++)
			known = known || !strcmp(config_setting_name(m), token_keys[j]);
		if (!known)
			return hl_cfgi_fail(ld, m, "unknown key (a token is { token; name; role; })");
	}
	if (hl_cfgi_str(ld, e, "token", &t, &s))
		return -1;
	if (!s)
		return hl_cfgi_fail(ld, e, "token: missing");
	if (token_text(ld, s, t, &cfg->listen.tokens[i]))
		return -1;
	if (hl_cfgi_str(ld, e, "name", &name, &s))
		return -1;
	if (s) {
		if (!name[0] || strlen(name) > 64)
			return hl_cfgi_fail(ld, s, "a name must be 1..64 bytes");
		if (!(cfg->access.token_names[i] = strdup(name)))
			return hl_cfgi_fail(ld, s, "out of memory");
	}
	if (hl_cfgi_str(ld, e, "role", &role, &s))
		return -1;
	if (!s)
		return hl_cfgi_fail(ld, e, "role: missing (ingest, viewer or supervisor)");
	int r = hl_sock_role_from_name(role);
	if (r < 0)
		return hl_cfgi_fail(ld, s, "unknown role '%s' (ingest, viewer, supervisor or full)",
		                    hl_cfgi_shown(role, q, sizeof q));
	cfg->access.token_roles[i] = r;
	return 0;
}

int hl_cfgi_load_tokens(const struct ld *ld, const config_setting_t *listen, struct hl_config *cfg)
{
	const config_setting_t *arr = listen ? config_setting_get_member(listen, "tokens") : NULL;
	if (!arr)
		return 0;
	int type = config_setting_type(arr);
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return hl_cfgi_fail(ld, arr, "must be a list of tokens: [ \"...\" ] or ( \"...\", { token; name; role; } )");
	size_t n = (size_t)config_setting_length(arr);
	if (n == 0)
		return 0;
	cfg->listen.tokens = calloc(n, sizeof *cfg->listen.tokens);
	cfg->access.token_names = calloc(n, sizeof *cfg->access.token_names);
	cfg->access.token_roles = calloc(n, sizeof *cfg->access.token_roles);
	if (!cfg->listen.tokens || !cfg->access.token_names || !cfg->access.token_roles)
		return hl_cfgi_fail(ld, arr, "out of memory");
	cfg->listen.n_tokens = n; /* every slot is freed, filled or not */
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
		if (config_setting_type(e) == CONFIG_TYPE_STRING) {
			if (token_text(ld, e, config_setting_get_string(e), &cfg->listen.tokens[i]))
				return -1;
		} else if (config_setting_type(e) == CONFIG_TYPE_GROUP) {
			if (load_token_group(ld, e, cfg, i))
				return -1;
		} else {
			return hl_cfgi_fail(ld, e, "must be a string or a group { token; name; role; }");
		}
	}
	return 0;
}

int hl_cfgi_load_unix_supervisor(const struct ld *ld, const config_setting_t *listen, struct hl_config *cfg)
{
	const config_setting_t *s;
	const char *v = NULL;
	cfg->access.unix_supervisor_mode = 0660;
	if (hl_cfgi_str(ld, listen, "unix_supervisor", &v, &s))
		return -1;
	if (s && v[0]) {
		if (strlen(v) >= 108)
			return hl_cfgi_fail(ld, s, "path too long (at most 107 bytes)");
		if (!(cfg->access.unix_supervisor = strdup(v)))
			return hl_cfgi_fail(ld, s, "out of memory");
	}
	v = NULL;
	if (hl_cfgi_str(ld, listen, "unix_supervisor_mode", &v, &s))
		return -1;
	if (s) {
		char *end;
		long m = strtol(v, &end, 8);
		if (!v[0] || *end || m < 0 || m > 0777)
			return hl_cfgi_fail(ld, s, "bad mode (use an octal string such as \"0660\")");
		cfg->access.unix_supervisor_mode = (int)m;
	}
	v = NULL;
	if (hl_cfgi_str(ld, listen, "unix_supervisor_group", &v, &s))
		return -1;
	if (s && v[0] && !(cfg->access.unix_supervisor_group = strdup(v)))
		return hl_cfgi_fail(ld, s, "out of memory");
	return 0;
}

void hl_cfgi_free_people(struct hl_config *cfg)
{
	for (size_t i = 0; cfg->access.token_names && i < cfg->listen.n_tokens; i++)
		free(cfg->access.token_names[i]);
	free(cfg->access.token_names);
	free(cfg->access.token_roles);
	free(cfg->access.unix_supervisor);
	free(cfg->access.unix_supervisor_group);
	memset(&cfg->access, 0, sizeof cfg->access);
}

static bool str_ne(const char *x, const char *y)
{
	return (!x != !y) || (x && strcmp(x, y) != 0);
}

/* What of this file's keys a SIGHUP cannot apply (the sockets and the
 * database keep what they were opened with); NULL when nothing. */
const char *hl_cfgi_people_restart_key(const struct hl_config *a, const struct hl_config *b)
{
	if (strcmp(a->report.timezone, b->report.timezone) != 0)
		return "report.timezone";
	if (a->listen.n_tokens == b->listen.n_tokens)
		for (size_t i = 0; i < a->listen.n_tokens; i++)
			if ((a->access.token_roles && b->access.token_roles &&
			     a->access.token_roles[i] != b->access.token_roles[i]) ||
			    (a->access.token_names && b->access.token_names &&
			     str_ne(a->access.token_names[i], b->access.token_names[i])))
				return "listen.tokens";
	if (str_ne(a->access.unix_supervisor, b->access.unix_supervisor) ||
	    a->access.unix_supervisor_mode != b->access.unix_supervisor_mode ||
	    str_ne(a->access.unix_supervisor_group, b->access.unix_supervisor_group))
		return "listen.unix_supervisor";
	return NULL;
}
