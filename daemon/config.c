/*
 * config.c - read hotlined.conf (libconfig syntax) into a struct hl_config.
 *
 * Design
 * ------
 * Loading is all-or-nothing.  hl_config_load() parses the file with libconfig,
 * then fills a private struct; only when every key checked out is that struct
 * copied to the caller.  On any error it is freed and the caller's struct is
 * not touched, so a bad SIGHUP reload leaves the running configuration as it
 * was.
 *
 * What the keys are lives in ONE table, config_table.c (one row per key:
 * path, type, bounds, default, field, restart-only), walked by config_walk.c:
 * defaults first, then every group in table order, strict on purpose (an
 * unknown key such as "calback" is an error with a hint, never a silent
 * default; every value is type- and range-checked).  Every error names the
 * file and line libconfig recorded and the full dotted key (config_read.c):
 *
 *     conf/x.conf:12: sla.policies.[1].resolution: bad duration 'abc' (use 90s, 30m, 48h, 2d)
 *
 * This file holds the entry points, freeing, and the lookups the daemon uses
 * (policy for a case, calendar by name).
 *
 * This is part of the functional core: no global state, no logging, no
 * libevent/libpq.  conninfo and tokens (secrets) are never echoed.
 */
#include "config.h"
#include "config_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Walk the parsed tree into a fresh struct; *out is written only on success. */
static int build(const struct ld *ld, const config_t *lc, const char *path, struct hl_config *out)
{
	struct hl_config cfg;
	memset(&cfg, 0, sizeof cfg);
	struct ld walk = *ld;
	walk.cfg = &cfg;
	walk.root = config_root_setting(lc);
	cfg.path = strdup(path);
	snprintf(cfg.sla.name, sizeof cfg.sla.name, "default");
	int rc = -1;
	if (!cfg.path)
		hl_cfgi_fail(ld, walk.root, "out of memory");
	else if (!hl_cfgi_defaults(&walk, walk.root, &cfg)) {
		hl_cfgi_order_defaults(&cfg);
		rc = hl_cfgi_walk(&walk, walk.root, &cfg);
	}
	if (rc == 0)
		*out = cfg;
	else
		hl_config_free(&cfg);
	return rc;
}

static int parse_error(const struct ld *ld, const config_t *lc)
{
	const char *file = config_error_file(lc) ? config_error_file(lc) : ld->file;
	const char *text = config_error_text(lc) ? config_error_text(lc) : "cannot parse";
	if (ld->err && ld->errlen) {
		if (strcmp(file, ld->file) != 0 && file[0] != '/' && ld->incdir)
			snprintf(ld->err, ld->errlen, "%s/%s:%d: %s", ld->incdir, file, config_error_line(lc), text);
		else
			snprintf(ld->err, ld->errlen, "%s:%d: %s", file, config_error_line(lc), text);
	}
	return -1;
}

/* Open the file ourselves first: libconfig only says "file I/O error". */
static int check_readable(const struct ld *ld, const char *path)
{
	struct stat st;
	int e = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		e = errno;
	else if (fstat(fd, &st) != 0)
		e = errno;
	else if (S_ISDIR(st.st_mode))
		e = EISDIR;
	if (fd >= 0)
		close(fd);
	if (e == 0)
		return 0;
	if (ld->err && ld->errlen)
		snprintf(ld->err, ld->errlen, "%s:0: cannot read the configuration: %s", path, strerror(e));
	return -1;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static void clear_err(char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
}

int hl_config_load(const char *path, struct hl_config *cfg, char *err, size_t errlen)
{
	clear_err(err, errlen);
	if (!path || !path[0]) {
		if (err && errlen)
			snprintf(err, errlen, "(none):0: no configuration file given");
		return -1;
	}
	struct ld ld = {.file = path, .incdir = NULL, .err = err, .errlen = errlen};
	if (check_readable(&ld, path))
		return -1;
	char *dir = dir_of(path);
	if (!dir) {
		if (err && errlen)
			snprintf(err, errlen, "%s:0: out of memory", path);
		return -1;
	}
	ld.incdir = dir;
	config_t lc;
	config_init(&lc);
	config_set_include_dir(&lc, dir); /* @include "x.conf" is relative to this file */
	int rc = config_read_file(&lc, path) ? build(&ld, &lc, path, cfg) : parse_error(&ld, &lc);
	config_destroy(&lc);
	free(dir);
	return rc;
}

int hl_config_load_string(const char *text, const char *name, const char *include_dir, struct hl_config *cfg,
			  char *err, size_t errlen)
{
	clear_err(err, errlen);
	if (!name)
		name = "(string)";
	struct ld ld = {.file = name, .incdir = include_dir, .err = err, .errlen = errlen};
	config_t lc;
	config_init(&lc);
	if (include_dir)
		config_set_include_dir(&lc, include_dir);
	int rc = config_read_string(&lc, text ? text : "") ? build(&ld, &lc, name, cfg) : parse_error(&ld, &lc);
	config_destroy(&lc);
	return rc;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void hl_config_free(struct hl_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->listen.tcp);
	free(cfg->listen.unix_path);
	free(cfg->listen.unix_owner);
	free(cfg->listen.unix_group);
	hl_cfgi_free_people(cfg);
	free_strv(cfg->listen.tokens, cfg->listen.n_tokens);
	free(cfg->listen.tls_cert);
	free(cfg->listen.tls_key);
	free(cfg->listen.tls_ca);
	free(cfg->database.conninfo);
	for (size_t i = 0; i < cfg->n_policies; i++) {
		free(cfg->policies[i].category);
		free(cfg->policies[i].priority);
	}
	free(cfg->policies);
	for (size_t i = 0; i < cfg->n_calendars; i++)
		hl_calendar_free(&cfg->calendars[i]);
	free(cfg->calendars);
	free_strv(cfg->webhooks.urls, cfg->webhooks.n_urls);
	free(cfg->webhooks.mask_confidential);
	for (size_t i = 0; cfg->webhooks.opts && i < cfg->webhooks.n_urls; i++)
		hl_cfgi_webhook_opts_free(&cfg->webhooks.opts[i]);
	free(cfg->webhooks.opts);
	free(cfg->http.listen);
	free(cfg->dns.nameserver);
	free_strv(cfg->hotspot.key, cfg->hotspot.n_key);
	for (size_t i = 0; i < cfg->http.n_tokens; i++) {
		free(cfg->http.tokens[i].token);
		free(cfg->http.tokens[i].name);
	}
	free(cfg->http.tokens);
	free(cfg->cluster.name);
	memset(cfg, 0, sizeof *cfg);
}

/* ------------------------------------------------------------- lookups */

static bool matches(const char *want, const char *have)
{
	return !want || (have && strcmp(want, have) == 0);
}

const struct hl_policy *hl_config_policy(const struct hl_config *cfg, const char *category, const char *priority)
{
	for (size_t i = 0; i < cfg->n_policies; i++) {
		const struct hl_policy *p = &cfg->policies[i];
		if (matches(p->category, category) && matches(p->priority, priority))
			return p;
	}
	return &cfg->sla;
}

const struct hl_policy *hl_config_policy_by_name(const struct hl_config *cfg, const char *name)
{
	if (!name || !name[0] || strcmp(name, "default") == 0)
		return &cfg->sla;
	for (size_t i = 0; i < cfg->n_policies; i++)
		if (strcmp(cfg->policies[i].name, name) == 0)
			return &cfg->policies[i];
	return NULL;
}
