/*
 * test_config_table.c - the table of configuration keys (daemon/config_table.c)
 * held against the two places people read about keys: docs/configuration.md
 * and the example conf/hotlined.conf.
 *
 * A key cannot be added in one place only: every row of the table must be
 * documented (a "| `key` |" line in the "### `group`" section of the docs)
 * and appear, set or commented out, in conf/hotlined.conf; every key those
 * two files name must be a row; and a docs section says "(restart)" exactly
 * when its keys are restart-only in the table.  The files are read relative
 * to the repository root, where `make unit` runs the tests.
 *
 * The conf scanner reads commented-out settings too ("# report = {",
 * "#   timezone = ...;"): a full-line comment counts when what follows the '#'
 * starts like a setting or a bracket.  Keys inside lists (calendars, policies,
 * tokens ...) are entries of a custom row, not table keys, and are skipped.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/config_internal.h"

#define DOCS "docs/configuration.md"
#define CONF "conf/hotlined.conf"
#define MAX_NAMES 512

struct names {
	char *v[MAX_NAMES];
	size_t n;
};

static void add(struct names *ns, const char *s, size_t len)
{
	cr_assert_lt(ns->n, MAX_NAMES);
	ns->v[ns->n] = strndup(s, len);
	cr_assert_not_null(ns->v[ns->n]);
	ns->n++;
}

static bool has(const struct names *ns, const char *s)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], s) == 0)
			return true;
	return false;
}

static void drop(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	ns->n = 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "cannot open %s (run from the repository root)", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	cr_assert_not_null(b);
	cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	return b;
}

static const struct hl_cfg_key *row(const char *path)
{
	for (size_t i = 0; i < hl_cfg_n_keys; i++)
		if (strcmp(hl_cfg_keys[i].path, path) == 0)
			return &hl_cfg_keys[i];
	return NULL;
}

static bool in_list(const char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

/* A table path or a group that holds one ("listen", "listen.tls"). */
static bool table_knows(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < hl_cfg_n_keys; i++) {
		const char *p = hl_cfg_keys[i].path;
		if (strcmp(p, path) == 0 || (strncmp(p, path, n) == 0 && p[n] == '.'))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ the docs */

/*
 * Every "| `a`, `b` |" table line of docs/configuration.md as "SECTION.a",
 * "SECTION.b", where SECTION is the first `name` of the nearest "### " or
 * "#### " heading (lines under a heading without one are skipped).  The
 * sections themselves are collected as "SECTION" plus " (restart)" when the
 * heading says so.
 */
static void docs_keys(struct names *keys, struct names *sections)
{
	char *text = slurp(DOCS), *save = NULL, section[128] = "";
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "#", 1) == 0) {
			section[0] = '\0';
			const char *tick = strchr(line, '`');
			bool sub = strncmp(line, "### ", 4) == 0 || strncmp(line, "#### ", 5) == 0;
			if (!sub || !tick)
				continue;
			size_t len = strcspn(tick + 1, "`");
			snprintf(section, sizeof section, "%.*s", (int)len, tick + 1);
			char entry[160];
			snprintf(entry, sizeof entry, "%s%s", section, strstr(line, "(restart)") ? " (restart)" : "");
			add(sections, entry, strlen(entry));
			continue;
		}
		if (!section[0] || strncmp(line, "| `", 3) != 0)
			continue;
		size_t cell = strcspn(line + 1, "|") + 1; /* the first cell */
		for (char *p = line + 1; p < line + cell;) {
			char *open = memchr(p, '`', (size_t)(line + cell - p));
			if (!open)
				break;
			char *close = memchr(open + 1, '`', (size_t)(line + cell - open - 1));
			if (!close)
				break;
			char full[256];
			int n = snprintf(full, sizeof full, "%s.%.*s", section, (int)(close - open - 1), open + 1);
			add(keys, full, (size_t)n);
			p = close + 1;
		}
	}
	free(text);
}

Test(config_table, every_key_documented)
{
	struct names keys = {0}, sections = {0};
	docs_keys(&keys, &sections);
	for (size_t i = 0; i < hl_cfg_n_keys; i++) {
		const char *path = hl_cfg_keys[i].path;
		if (!strchr(path, '.')) { /* a top-level list such as calendars has a section of its own */
			char restart[160];
			snprintf(restart, sizeof restart, "%s (restart)", path);
			cr_expect(has(&sections, path) || has(&sections, restart),
				  "%s is not documented: add a \"### `%s`\" section to " DOCS, path, path);
			continue;
		}
		cr_expect(has(&keys, path), "%s is not documented: add a \"| `%s` |\" line to its section of " DOCS, path,
			  strchr(path, '.') + 1);
	}
	/* a list with a section of its own (calendars, sla.policies) documents every key of an entry */
	for (size_t i = 0; i < hl_cfg_n_keys; i++) {
		const struct hl_cfg_key *k = &hl_cfg_keys[i];
		for (const char *const *e = k->entries; e && *e && has(&sections, k->path); e++) {
			char full[256];
			snprintf(full, sizeof full, "%s.%s", k->path, *e);
			cr_expect(has(&keys, full), "%s: the key '%s' of an entry is not in its section of " DOCS, k->path, *e);
		}
	}
	drop(&keys);
	drop(&sections);
}

Test(config_table, every_documented_key_exists)
{
	struct names keys = {0}, sections = {0};
	docs_keys(&keys, &sections);
	for (size_t i = 0; i < keys.n; i++) {
		char *k = keys.v[i], *dot = strrchr(k, '.');
		*dot = '\0';
		const struct hl_cfg_key *list = row(k); /* "calendars.name", "sla.policies.reply": an entry's key */
		*dot = '.';
		if (list && list->entries) {
			cr_expect(in_list(list->entries, dot + 1), DOCS " documents %s, but %s entries have no key '%s'", k,
				  list->path, dot + 1);
			continue;
		}
		cr_expect(row(k) != NULL, DOCS " documents %s, which is not in the table (daemon/config_table.c)", k);
	}
	for (size_t i = 0; i < sections.n; i++) {
		char name[160];
		snprintf(name, sizeof name, "%s", sections.v[i]);
		bool restart = strstr(name, " (restart)") != NULL;
		name[strcspn(name, " ")] = '\0';
		cr_expect(table_knows(name), DOCS " has a section for '%s', which is not in the table", name);
		/* "(restart)" in a group's heading exactly when its keys are restart-only */
		size_t n = strlen(name);
		for (size_t j = 0; j < hl_cfg_n_keys && !strchr(name, '.'); j++) {
			const struct hl_cfg_key *k = &hl_cfg_keys[j];
			if (strncmp(k->path, name, n) != 0 || (k->path[n] != '.' && k->path[n] != '\0'))
				continue;
			cr_expect_eq(restart, (k->flags & HL_CF_RESTART) != 0,
				     "%s is %s in the table, but the heading of its section in " DOCS " %s \"(restart)\"", k->path,
				     (k->flags & HL_CF_RESTART) ? "restart-only" : "applied by SIGHUP", restart ? "says" : "lacks");
		}
	}
	drop(&keys);
	drop(&sections);
}

/* ---------------------------------------------------- the example conf */

static bool starts_like_code(const char *t)
{
	if (strchr("{}()[]", *t) && *t)
		return true;
	const char *p = t;
	while (islower((unsigned char)*p) || *p == '_')
		p++;
	if (p == t)
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '=';
}

/*
 * The dotted path of every setting conf/hotlined.conf names outside lists,
 * commented out or not.  A small scanner, not libconfig: commented-out
 * settings count, and the file is prose and code mixed.
 */
static void conf_keys(struct names *keys)
{
	char *text = slurp(CONF), *save = NULL;
	char stack[16][64]; /* "" = a list or an anonymous group */
	int depth = 0;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = line;
		while (*t == ' ' || *t == '\t')
			t++;
		if (*t == '#') {
			while (*t == '#' || *t == ' ' || *t == '\t')
				t++;
			if (!starts_like_code(t))
				continue;
		}
		char pending[64] = "";
		for (char *p = t; *p && *p != '#'; p++) {
			if (*p == '"') { /* skip a string */
				for (p++; *p && *p != '"'; p++)
					if (*p == '\\' && p[1])
						p++;
				if (!*p)
					break;
				continue;
			}
			if (islower((unsigned char)*p) || *p == '_') {
				char *s = p;
				while (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')
					p++;
				char *q = p;
				while (*q == ' ' || *q == '\t')
					q++;
				if (*q == '=' && (size_t)(p - s) < sizeof pending) {
					snprintf(pending, sizeof pending, "%.*s", (int)(p - s), s);
					bool in_list = false;
					char path[512] = "";
					for (int d = 0; d < depth; d++) {
						in_list = in_list || !stack[d][0];
						strcat(path, stack[d]);
						strcat(path, ".");
					}
					strcat(path, pending);
					if (!in_list)
						add(keys, path, strlen(path));
					p = q;
				} else {
					p--;
				}
				continue;
			}
			if (*p == '{' || *p == '(' || *p == '[') {
				cr_assert_lt(depth, 16);
				snprintf(stack[depth++], sizeof stack[0], "%s", *p == '{' ? pending : "");
				pending[0] = '\0';
			} else if (*p == '}' || *p == ')' || *p == ']') {
				if (depth > 0)
					depth--;
			} else if (*p == ';' || *p == ',') {
				pending[0] = '\0';
			}
		}
	}
	free(text);
}

Test(config_table, every_key_in_the_example)
{
	struct names keys = {0};
	conf_keys(&keys);
	for (size_t i = 0; i < hl_cfg_n_keys; i++)
		cr_expect(has(&keys, hl_cfg_keys[i].path),
			  "%s is not in " CONF ": add it there (set to its default, or commented out)", hl_cfg_keys[i].path);
	for (size_t i = 0; i < keys.n; i++)
		cr_expect(table_knows(keys.v[i]), CONF " names %s, which is not in the table (daemon/config_table.c)",
			  keys.v[i]);
	drop(&keys);
}

/* ---------------------------------------------------- the table itself */

static bool same_group(const struct hl_cfg_key *a, const struct hl_cfg_key *b)
{
	size_t g = hl_cfgi_group_len(a);
	return g == hl_cfgi_group_len(b) && strncmp(a->path, b->path, g) == 0;
}

Test(config_table, rows_are_well_formed)
{
	for (size_t i = 0; i < hl_cfg_n_keys; i++) {
		const struct hl_cfg_key *k = &hl_cfg_keys[i];
		for (size_t j = 0; j < i; j++)
			cr_expect_str_neq(hl_cfg_keys[j].path, k->path, "%s has two rows", k->path);
		/* a group's rows stand together: the walk opens each group once */
		bool new_group = i == 0 || !same_group(&hl_cfg_keys[i - 1], k);
		for (size_t j = 0; new_group && j < i; j++)
			cr_expect(!same_group(&hl_cfg_keys[j], k), "the rows of %s's group are not together", k->path);
		if (k->type == HL_CT_CUSTOM)
			cr_expect_not_null(k->load, "%s: a custom row needs a loader", k->path);
		if (k->type == HL_CT_LIST)
			cr_expect(k->entry && k->entries && k->size, "%s: a list needs an entry loader and its keys", k->path);
		if (k->type == HL_CT_CUSTOM || k->type == HL_CT_LIST)
			cr_expect(!(k->flags & HL_CF_RESTART) || k->same, "%s: restart-only needs a comparison", k->path);
		if (k->type == HL_CT_ENUM)
			cr_expect(k->parse && k->words, "%s: an enum needs parse and words", k->path);
		if (k->type == HL_CT_INT || k->type == HL_CT_SIZE || k->type == HL_CT_SECONDS || k->type == HL_CT_MS) {
			int64_t def = k->type == HL_CT_SECONDS || k->type == HL_CT_MS ? k->def / 1000 : k->def;
			cr_expect(k->min <= def && def <= k->max, "%s: the default is out of its own range", k->path);
		}
	}
	for (size_t i = 0; i < hl_cfg_n_group_checks; i++)
		cr_expect(table_knows(hl_cfg_group_checks[i].group), "group check for unknown group %s",
			  hl_cfg_group_checks[i].group);
}

/* The defaults the docs and the example promise are the table's: the example with every key at its default. */
Test(config_table, defaults_load)
{
	struct hl_config cfg;
	char err[512];
	cr_assert_eq(hl_config_load_string("database = { conninfo = \"x\"; };", "t.conf", NULL, &cfg, err, sizeof err), 0,
		     "%s", err);
	cr_expect_str_eq(cfg.listen.tcp, "127.0.0.1:7370");
	cr_expect_eq(cfg.listen.idle_timeout_s, 300);
	cr_expect_eq(cfg.database.reconnect_max_s, 30);
	cr_expect_eq(cfg.sla.callback_ms, 30 * 60 * 1000);
	cr_expect_eq(cfg.sla.warn_at, 0.8);
	cr_expect_eq(cfg.log.level, 6);
	cr_expect_eq(cfg.access.unix_supervisor_mode, 0660);
	cr_expect_eq(cfg.cluster.takeover_ms, 5000);
	cr_expect_eq(cfg.hotspot.n_key, 2);
	hl_config_free(&cfg);
}
