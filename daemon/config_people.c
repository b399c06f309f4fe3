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
 * http.tokens, the HTTP API's { token; name; role; } list, is here too.
 * report.timezone, listen.tokens and http.tokens are custom rows of
 * config_table.c; listen.unix_supervisor* are plain rows there.
 *
 * Pure: part of the functional core (no libevent, no libpq).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "roles.h"

int hl_cfgi_load_report_tz(const struct ld *ld, const config_setting_t *g, const config_setting_t *s,
			   struct hl_config *cfg)
{
	const char *v = NULL;
	(void)g;
	snprintf(cfg->report.timezone, sizeof cfg->report.timezone, "%s",
	         cfg->n_calendars > 0 && cfg->calendars[0].zone_name[0] ? cfg->calendars[0].zone_name : "UTC");
	if (!s)
		return 0;
	if (hl_cfgi_read_str(ld, s, &v))
		return -1;
	char q[80], zerr[200];
	if (!hl_cfgi_valid_zone_name(v) || strlen(v) >= sizeof cfg->report.timezone)
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

bool hl_cfgi_same_report_tz(const struct hl_config *a, const struct hl_config *b)
{
	return strcmp(a->report.timezone, b->report.timezone) == 0;
}

const char *const hl_cfgi_token_keys[] = {"token", "name", "role", NULL};

/* One { token; name; role; } group. */
static int load_token_group(const struct ld *ld, const config_setting_t *e, struct hl_config *cfg, size_t i)
{
	const config_setting_t *s;
	const char *t = NULL, *name = NULL, *role = NULL;
	char q[80];
	for (int k = 0; k < config_setting_length(e); k++) {
		const config_setting_t *m = config_setting_get_elem(e, (unsigned)k);
		bool known = false;
		for (size_t j = 0; hl_cfgi_token_keys[j]; j++)
			known = known || !strcmp(config_setting_name(m), hl_cfgi_token_keys[j]);
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

int hl_cfgi_load_tokens(const struct ld *ld, const config_setting_t *listen, const config_setting_t *arr,
			struct hl_config *cfg)
{
	(void)listen;
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

/* The tokens, their names and their roles: the sockets keep what they were opened with. */
bool hl_cfgi_same_tokens(const struct hl_config *a, const struct hl_config *b)
{
	if (a->listen.n_tokens != b->listen.n_tokens)
		return false;
	for (size_t i = 0; i < a->listen.n_tokens; i++)
		if (strcmp(a->listen.tokens[i], b->listen.tokens[i]) != 0 ||
		    (a->access.token_roles && b->access.token_roles && a->access.token_roles[i] != b->access.token_roles[i]) ||
		    (a->access.token_names && b->access.token_names &&
		     str_ne(a->access.token_names[i], b->access.token_names[i])))
			return false;
	return true;
}

/* ------------------------------------------------------------ http.tokens */

const char *const hl_cfgi_http_token_keys[] = {"token", "name", "role", NULL};

static int load_http_token(const struct ld *ld, const config_setting_t *e, struct hl_http_token *t)
{
	static const char *const roles[] = {"", "ingest", "viewer", "supervisor"};
	const config_setting_t *s;
	const char *tok = NULL, *name = NULL, *role = NULL;
	if (hl_cfgi_check_keyv(ld, e, hl_cfgi_http_token_keys) || hl_cfgi_str(ld, e, "token", &tok, &s))
		return -1;
	if (!tok || tok[0] == '\0' || strlen(tok) > 256 || hl_cfgi_has_control(tok))
		return hl_cfgi_fail(ld, s ? s : e, "token: 1..256 bytes without control characters");
	if (hl_cfgi_set_str(ld, s, &t->token, tok, false) || hl_cfgi_str(ld, e, "name", &name, &s))
		return -1;
	if (!name || name[0] == '\0' || strlen(name) > 128 || hl_cfgi_has_control(name))
		return hl_cfgi_fail(ld, s ? s : e, "name: 1..128 bytes without control characters (stored as acked_by)");
	if (hl_cfgi_set_str(ld, s, &t->name, name, false) || hl_cfgi_str(ld, e, "role", &role, &s))
		return -1;
	for (int r = HL_ROLE_INGEST; r <= HL_ROLE_SUPERVISOR && role; r++)
		if (strcmp(role, roles[r]) == 0)
			t->role = r;
	if (!t->role)
		return hl_cfgi_fail(ld, s ? s : e, "role: one of ingest, viewer, supervisor");
	return 0;
}

int hl_cfgi_load_http_token(const struct ld *ld, const config_setting_t *e, size_t i, struct hl_config *cfg)
{
	return load_http_token(ld, e, &cfg->http.tokens[i]);
}

bool hl_cfgi_same_http_tokens(const struct hl_config *a, const struct hl_config *b)
{
	if (a->http.n_tokens != b->http.n_tokens)
		return false;
	for (size_t i = 0; i < a->http.n_tokens; i++)
		if (strcmp(a->http.tokens[i].token, b->http.tokens[i].token) ||
		    strcmp(a->http.tokens[i].name, b->http.tokens[i].name) || a->http.tokens[i].role != b->http.tokens[i].role)
			return false;
	return true;
}
