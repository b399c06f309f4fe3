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

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdbool.h>
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

/* The dotted key of the first setting defined twice in one group of `buf`,
 * scanning as libconfig does (names are "name =" or "name :"; strings and
 * comments skipped; a group in a list is "[i]"), when it is on line `line`
 * (where libconfig stopped).  An included file may set again what the file
 * including it set, so no name repeats inside `buf`: then the first setting
 * on `line` (its path as seen from `buf`).  False when none is found there. */
#define DUP_DEPTH 8
#define DUP_NAMES 64
static bool duplicate_key(const char *buf, int line, char *out, size_t outlen)
{
	struct scope {
		char path[256];
		char names[DUP_NAMES][64];
		int n, list_index;
		bool list;
	} st[DUP_DEPTH];
	int depth = 0, ln = 1;
	char last[64] = "", on_line[256] = "";
	memset(&st[0], 0, sizeof st[0]);
	for (const char *p = buf; p && *p;) {
		if (*p == '\n')
			ln++;
		if (*p == '#' || (p[0] == '/' && p[1] == '/') || (*p == '@' && (p == buf || p[-1] == '\n'))) {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
				ln += *p == '\n';
			p += *p ? 2 : 0;
			continue;
		}
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				ln += *p == '\n';
				if (*p == '\\' && p[1])
					p++;
			}
			p += *p ? 1 : 0;
			continue;
		}
		if (isalpha((unsigned char)*p) || *p == '*') {
			const char *start = p;
			while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '*')
				p++;
			const char *q = p;
			while (*q == ' ' || *q == '\t')
				q++;
			if ((*q != '=' && *q != ':') || st[depth].list)
				continue;
			snprintf(last, sizeof last, "%.*s", (int)((size_t)(p - start) < 63 ? p - start : 63), start);
			struct scope *sc = &st[depth];
			if (ln == line && !on_line[0])
				snprintf(on_line, sizeof on_line, "%.190s%s%s", sc->path, sc->path[0] ? "." : "", last);
			for (int i = 0; i < sc->n; i++) {
				if (strcmp(sc->names[i], last) != 0)
					continue;
				if (ln != line)
					return false;
				snprintf(out, outlen, "%s%s%s", sc->path, sc->path[0] ? "." : "", last);
				return true;
			}
			if (sc->n < DUP_NAMES)
				snprintf(sc->names[sc->n++], sizeof sc->names[0], "%s", last);
			continue;
		}
		if ((*p == '{' || *p == '(' || *p == '[') && depth + 1 < DUP_DEPTH) {
			char base[sizeof st[0].path];
			bool in_list = st[depth].list;
			int index = st[depth].list_index;
			memcpy(base, st[depth].path, sizeof base);
			struct scope *sc = &st[depth + 1];
			memset(sc, 0, sizeof *sc);
			if (in_list)
				snprintf(sc->path, sizeof sc->path, "%.200s.[%d]", base, index);
			else
				snprintf(sc->path, sizeof sc->path, "%.190s%s%s", base, base[0] ? "." : "", last);
			sc->list = *p != '{';
			depth++;
		} else if ((*p == '}' || *p == ')' || *p == ']') && depth > 0) {
			depth--;
		} else if (*p == ',' && st[depth].list) {
			st[depth].list_index++;
		}
		p++;
	}
	if (on_line[0])
		snprintf(out, outlen, "%s", on_line);
	return on_line[0] != '\0';
}

/* The text of a file libconfig failed on, for naming a duplicate setting
 * (small: a configuration, capped at 1 MiB).  NULL when unreadable. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = malloc((size_t)1 << 20);
	size_t n = buf ? fread(buf, 1, ((size_t)1 << 20) - 1, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* libconfig's "cannot open include file" names none: the @include on that
 * line of `src`, resolved as libconfig does, and why it cannot be opened. */
static bool include_named(const struct ld *ld, const char *src, int line, char *out, size_t outlen)
{
	for (int ln = 1; src && *src && ln < line; src++)
		ln += *src == '\n';
	const char *at = src ? strstr(src, "@include") : NULL;
	const char *nl = src ? strchr(src, '\n') : NULL;
	if (!at || (nl && at > nl))
		return false;
	const char *q = strchr(at, '"'), *e = q ? strchr(q + 1, '"') : NULL;
	if (!q || !e || (nl && e > nl))
		return false;
	char name[512];
	bool absolute = q[1] == '/';
	/* libconfig 1.5 puts the include directory before every name, also an absolute one */
	if (ld->incdir)
		snprintf(name, sizeof name, "%s/%.*s", ld->incdir, (int)(e - q - 1), q + 1);
	else
		snprintf(name, sizeof name, "%.*s", (int)(e - q - 1), q + 1);
	FILE *f = fopen(name, "re");
	int err = f ? 0 : errno;
	if (f)
		fclose(f);
	snprintf(out, outlen, "%s%s%s%s", name, err ? ": " : "", err ? strerror(err) : "",
	         absolute && ld->incdir ? " (an @include path is relative to the main file's directory)" : "");
	return true;
}

/* libconfig's message with file and line.  Its "duplicate setting name"
 * names no key (CONTRACT 1: --check names file, line and key), so the key is
 * read back from that line of the source, `text` for a string, else the file. */
static int parse_error(const struct ld *ld, const config_t *lc, const char *text_src)
{
	const char *file = config_error_file(lc) ? config_error_file(lc) : ld->file;
	const char *text = config_error_text(lc) ? config_error_text(lc) : "cannot parse";
	if (!ld->err || !ld->errlen)
		return -1;
	char where[1024];
	bool included = strcmp(file, ld->file) != 0 && file[0] != '/' && ld->incdir;
	if (included)
		snprintf(where, sizeof where, "%s/%s", ld->incdir, file);
	else
		snprintf(where, sizeof where, "%s", file);
	char key[256] = "";
	if (strcmp(text, "duplicate setting name") == 0) {
		char *buf = (text_src && !included && strcmp(file, ld->file) == 0) ? NULL : slurp(where);
		if (!duplicate_key(buf ? buf : text_src, config_error_line(lc), key, sizeof key))
			key[0] = '\0';
		free(buf);
	}
	char inc[700];
	if (strcmp(text, "cannot open include file") == 0) {
		char *buf = text_src && !included && strcmp(file, ld->file) == 0 ? NULL : slurp(where);
		if (include_named(ld, buf ? buf : text_src, config_error_line(lc), inc, sizeof inc)) {
			snprintf(ld->err, ld->errlen, "%s:%d: %s %s", where, config_error_line(lc), text, inc);
			free(buf);
			return -1;
		}
		free(buf);
	}
	if (key[0])
		snprintf(ld->err, ld->errlen, "%s:%d: %s: %s", where, config_error_line(lc), key, text);
	else
		snprintf(ld->err, ld->errlen, "%s:%d: %s", where, config_error_line(lc), text);
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
	int rc = config_read_file(&lc, path) ? build(&ld, &lc, path, cfg) : parse_error(&ld, &lc, NULL);
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
	int rc = config_read_string(&lc, text ? text : "") ? build(&ld, &lc, name, cfg) : parse_error(&ld, &lc, text);
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
