/*
 * config_walk.c - the one loader of hotlined.conf: it walks the table of
 * keys (config_table.c) instead of repeating a loader per key.
 *
 * hl_cfgi_defaults() writes every row's default.  hl_cfgi_walk() then goes
 * through the rows group by group: it opens the group (an error when the
 * setting is not a group { }, or holds a key no row names), reads each row's
 * value by its type with the readers of config_read.c (absent keeps the
 * default; HL_CF_REQUIRED absent is "missing"), allocates a list row's array
 * and loads each entry with the row's callback, calls a custom row's loader,
 * and when the group's rows are done runs its group check.  A policy's clocks
 * are read by sla's rows too (hl_cfgi_load_rows), with the policy as base.
 * hl_config_restart_key() compares the HL_CF_RESTART rows of two configs.
 *
 * Pure: part of the functional core (no libevent, no libpq).
 */
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define MAX_KNOWN 64 /* names one group may hold (the top level has 16) */

size_t hl_cfgi_group_len(const struct hl_cfg_key *k)
{
	const char *dot = strrchr(k->path, '.');
	return dot ? (size_t)(dot - k->path) : 0;
}

static const char *key_name(const struct hl_cfg_key *k)
{
	size_t g = hl_cfgi_group_len(k);
	return g ? k->path + g + 1 : k->path;
}

static bool in_group(const struct hl_cfg_key *k, const char *group, size_t glen)
{
	return hl_cfgi_group_len(k) == glen && strncmp(k->path, group, glen) == 0;
}

/* The names a group may hold: its rows' keys and its sub-groups' names (deduplicated). */
static size_t known_keys(const char *group, size_t glen, const char **out, char (*buf)[64])
{
	size_t n = 0;
	for (size_t i = 0; i < hl_cfg_n_keys; i++) {
		const char *p = hl_cfg_keys[i].path;
		if (glen && (strncmp(p, group, glen) != 0 || p[glen] != '.'))
			continue;
		const char *rest = glen ? p + glen + 1 : p;
		size_t len = strcspn(rest, ".");
		if (len >= sizeof buf[0])
			continue;
		bool seen = false;
		for (size_t j = 0; j < n && !seen; j++)
			seen = strlen(out[j]) == len && strncmp(out[j], rest, len) == 0;
		if (seen || n == MAX_KNOWN)
			continue;
		memcpy(buf[n], rest, len);
		buf[n][len] = '\0';
		out[n] = buf[n];
		n++;
	}
	return n;
}

static void *field(void *base, size_t base_off, const struct hl_cfg_key *k)
{
	return (char *)base + (k->offset - base_off);
}

/* A whole number into a numeric field, by the row's type. */
static void store_value(const struct hl_cfg_key *k, void *f, int64_t v)
{
	switch (k->type) {
	case HL_CT_SIZE: *(size_t *)f = (size_t)v; break;
	case HL_CT_MS:
	case HL_CT_SPAN: *(int64_t *)f = v; break;
	case HL_CT_BOOL: *(bool *)f = v != 0; break;
	default: *(int *)f = (int)v; break; /* INT, SECONDS, MODE, ENUM */
	}
}

int hl_cfgi_defaults(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	for (size_t i = 0; i < hl_cfg_n_keys; i++) {
		const struct hl_cfg_key *k = &hl_cfg_keys[i];
		void *f = field(cfg, 0, k);
		if (k->type == HL_CT_CUSTOM || k->type == HL_CT_LIST)
			continue; /* its loader knows its default; a list starts empty */
		if (k->type == HL_CT_FRACTION)
			*(double *)f = k->def_frac;
		else if (k->type == HL_CT_STR) {
			if (hl_cfgi_set_str(ld, root, (char **)f, k->def_str, true))
				return -1;
		} else if (k->type == HL_CT_DIGITS || k->type == HL_CT_CALENDAR)
			memset(f, 0, k->size);
		else
			store_value(k, f, k->type == HL_CT_SECONDS ? k->def / 1000 : k->def);
	}
	return 0;
}

/* A string value of a row: checked, parsed or copied into its field. */
static int read_string(const struct ld *ld, const config_setting_t *s, const struct hl_cfg_key *k, void *f)
{
	const char *str = NULL;
	char q[48];
	if (hl_cfgi_read_str(ld, s, &str))
		return -1;
	switch (k->type) {
	case HL_CT_STR:
		if (k->check && k->check(ld, s, str))
			return -1;
		return hl_cfgi_set_str(ld, s, (char **)f, str, (k->flags & HL_CF_EMPTY_NULL) != 0);
	case HL_CT_MODE:
		if (hl_cfgi_parse_mode(str, (int *)f))
			return hl_cfgi_fail(ld, s, "bad mode '%s' (use an octal string such as \"0660\")",
					    hl_cfgi_shown(str, q, sizeof q));
		return 0;
	case HL_CT_DIGITS: {
		size_t n = strlen(str);
		if (n > (size_t)k->max || n + 1 > k->size || strspn(str, "0123456789") != n)
			return hl_cfgi_fail(ld, s, "must be a string of at most %zu digits", (size_t)k->max);
		memcpy(f, str, n + 1);
		return 0;
	}
	case HL_CT_CALENDAR:
		if (str[0] && !hl_config_calendar(ld->cfg, str))
			return hl_cfgi_fail(ld, s, "unknown calendar '%s'", hl_cfgi_shown(str, q, sizeof q));
		return hl_cfgi_set_name(ld, s, f, k->size, str);
	default: { /* HL_CT_ENUM */
		int e = k->parse(str);
		if (e < 0)
			return hl_cfgi_fail(ld, s, "unknown %s '%s' (use %s)", key_name(k), hl_cfgi_shown(str, q, sizeof q),
					    k->words);
		*(int *)f = e;
		return 0;
	}
	}
}

/* One present value of a non-custom row into its field. */
static int read_value(const struct ld *ld, const config_setting_t *s, const struct hl_cfg_key *k, void *f)
{
	int64_t v = 0;
	int rc;
	switch (k->type) {
	case HL_CT_INT:
	case HL_CT_SIZE: rc = hl_cfgi_read_int64(ld, s, k->min, k->max, &v); break;
	case HL_CT_SECONDS:
	case HL_CT_MS:
		rc = hl_cfgi_read_duration_s(ld, s, k->min, k->max, &v);
		v = k->type == HL_CT_MS ? v * 1000 : v;
		break;
	case HL_CT_SPAN: rc = hl_cfgi_read_span(ld, s, k->max, &v); break;
	case HL_CT_BOOL:
		rc = config_setting_type(s) == CONFIG_TYPE_BOOL ? 0 : hl_cfgi_fail_type(ld, s, "a boolean");
		v = config_setting_get_bool(s);
		break;
	case HL_CT_FRACTION: return hl_cfgi_read_fraction(ld, s, (double *)f);
	case HL_CT_CUSTOM:
	case HL_CT_LIST: return 0; /* loaded by the walk */
	default: return read_string(ld, s, k, f);
	}
	if (rc == 0)
		store_value(k, f, v);
	return rc;
}

/*
 * A list of groups: a zeroed array of n elements of the row's size lands in
 * the row's field, and each entry is loaded by the row's callback with the
 * count already counting it, so that a failure frees what the entry holds.
 */
static int load_list(const struct ld *ld, const config_setting_t *s, const struct hl_cfg_key *k, struct hl_config *cfg)
{
	void *array = NULL;
	size_t *count = (size_t *)((char *)cfg + k->count_offset);
	if (hl_cfgi_group_list(ld, s))
		return -1;
	size_t n = (size_t)config_setting_length(s);
	if (n && !(array = calloc(n, k->size)))
		return hl_cfgi_fail(ld, s, "out of memory");
	memcpy((char *)cfg + k->offset, &array, sizeof array); /* the field is a pointer to the element type */
	for (size_t i = 0; i < n; i++) {
		*count = i + 1;
		if (k->entry(ld, config_setting_get_elem(s, (unsigned)i), i, cfg))
			return -1;
	}
	return 0;
}

/* The rows [first, end) of one group, from g (NULL when the group is absent). */
static int load_group(const struct ld *ld, const config_setting_t *g, size_t first, size_t end, void *base,
		      size_t base_off, struct hl_config *cfg)
{
	for (size_t i = first; i < end; i++) {
		const struct hl_cfg_key *k = &hl_cfg_keys[i];
		const config_setting_t *s = hl_cfgi_member(g, key_name(k));
		if (k->type == HL_CT_CUSTOM) {
			if (cfg && k->load(ld, g, s, cfg))
				return -1;
		} else if (k->type == HL_CT_LIST) {
			if (cfg && s && load_list(ld, s, k, cfg))
				return -1;
		} else if (s) {
			if (read_value(ld, s, k, field(base, base_off, k)))
				return -1;
		} else if (k->flags & HL_CF_REQUIRED) {
			return hl_cfgi_fail_missing_path(ld, k->path);
		}
	}
	return 0;
}

int hl_cfgi_load_rows(const struct ld *ld, const config_setting_t *g, const char *group, void *base, size_t base_off)
{
	size_t glen = strlen(group);
	for (size_t i = 0; i < hl_cfg_n_keys; i++)
		if (in_group(&hl_cfg_keys[i], group, glen) && load_group(ld, g, i, i + 1, base, base_off, NULL))
			return -1;
	return 0;
}

/* The setting of a group path ("listen.tls"), its keys checked; *out NULL when absent. */
static int open_group(const struct ld *ld, const config_setting_t *root, const char *group, size_t glen,
		      const config_setting_t **out)
{
	const char *known[MAX_KNOWN];
	char buf[MAX_KNOWN][64], name[64];
	const config_setting_t *parent = root;
	size_t at = 0;
	*out = NULL;
	while (parent && at < glen) {
		size_t len = strcspn(group + at, ".");
		if (at + len > glen)
			len = glen - at;
		if (len >= sizeof name)
			return 0;
		memcpy(name, group + at, len);
		name[len] = '\0';
		at += len + 1;
		const config_setting_t *s = hl_cfgi_member(parent, name);
		parent = NULL;
		if (s && config_setting_type(s) != CONFIG_TYPE_GROUP)
			return hl_cfgi_fail_type(ld, s, "a group { }");
		parent = s;
	}
	if (!parent)
		return 0;
	size_t n = known_keys(group, glen, known, buf);
	if (hl_cfgi_check_keys(ld, parent, known, n))
		return -1;
	*out = parent;
	return 0;
}

static int group_check(const struct ld *ld, const config_setting_t *root, const config_setting_t *g, const char *group,
		       size_t glen, struct hl_config *cfg)
{
	for (size_t i = 0; i < hl_cfg_n_group_checks; i++) {
		const struct hl_cfg_group_check *c = &hl_cfg_group_checks[i];
		if (strlen(c->group) == glen && strncmp(c->group, group, glen) == 0 && (g || c->always))
			return c->check(ld, root, g, cfg);
	}
	return 0;
}

int hl_cfgi_walk(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const char *known[MAX_KNOWN];
	char buf[MAX_KNOWN][64];
	if (hl_cfgi_check_keys(ld, root, known, known_keys("", 0, known, buf)))
		return -1;
	for (size_t first = 0, end; first < hl_cfg_n_keys; first = end) {
		const struct hl_cfg_key *k = &hl_cfg_keys[first];
		size_t glen = hl_cfgi_group_len(k);
		for (end = first + 1; end < hl_cfg_n_keys && in_group(&hl_cfg_keys[end], k->path, glen); end++)
			;
		const config_setting_t *g = root;
		if (glen && open_group(ld, root, k->path, glen, &g))
			return -1;
		if (load_group(ld, g, first, end, cfg, 0, cfg) || (glen && group_check(ld, root, g, k->path, glen, cfg)))
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ reloading */

static bool str_differs(const char *a, const char *b)
{
	return (!a != !b) || (a && strcmp(a, b) != 0);
}

static bool row_differs(const struct hl_cfg_key *k, const struct hl_config *a, const struct hl_config *b)
{
	const void *x = (const char *)a + k->offset, *y = (const char *)b + k->offset;
	switch (k->type) {
	case HL_CT_INT:
	case HL_CT_SECONDS:
	case HL_CT_MODE:
	case HL_CT_ENUM: return *(const int *)x != *(const int *)y;
	case HL_CT_SIZE: return *(const size_t *)x != *(const size_t *)y;
	case HL_CT_MS:
	case HL_CT_SPAN: return *(const int64_t *)x != *(const int64_t *)y;
	case HL_CT_FRACTION: return *(const double *)x != *(const double *)y;
	case HL_CT_BOOL: return *(const bool *)x != *(const bool *)y;
	case HL_CT_STR: return str_differs(*(char *const *)x, *(char *const *)y);
	case HL_CT_DIGITS:
	case HL_CT_CALENDAR: return strcmp(x, y) != 0;
	case HL_CT_CUSTOM:
	case HL_CT_LIST: return k->same && !k->same(a, b);
	}
	return false;
}

const char *hl_config_restart_key(const struct hl_config *a, const struct hl_config *b)
{
	for (size_t i = 0; i < hl_cfg_n_keys; i++)
		if ((hl_cfg_keys[i].flags & HL_CF_RESTART) && row_differs(&hl_cfg_keys[i], a, b))
			return hl_cfg_keys[i].path;
	return NULL;
}

size_t hl_config_restart_keys(const struct hl_config *a, const struct hl_config *b, char *buf, size_t len)
{
	size_t n = 0, used = 0;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < hl_cfg_n_keys; i++) {
		if (!(hl_cfg_keys[i].flags & HL_CF_RESTART) || !row_differs(&hl_cfg_keys[i], a, b))
			continue;
		const char *path = hl_cfg_keys[i].path;
		size_t need = strlen(path) + (n ? 2 : 0);
		if (used + need + 1 <= len) {
			memcpy(buf + used, n ? ", " : "", n ? 2 : 0);
			memcpy(buf + used + (n ? 2 : 0), path, strlen(path) + 1);
			used += need;
		}
		n++;
	}
	return n;
}
