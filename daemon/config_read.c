/*
 * config_read.c - the configuration loader's typed readers and its messages.
 *
 * Every key of hotlined.conf, whether the table's generic walk reads it
 * (config_walk.c) or a custom loader does (calendars, policies, tokens ...),
 * is read by these functions, so every key is type-checked, range-checked and
 * reported the same way: one line, "FILE:LINE: KEY: what is wrong", with the
 * file and line libconfig recorded for the setting and its full dotted path,
 *
 *     conf/x.conf:12: sla.policies.[1].resolution: bad duration 'abc' (use 90s, 30m, 48h, 2d)
 *
 * Values the user wrote are echoed only cut short and stripped of control
 * characters (hl_cfgi_shown); conninfo and tokens (secrets) are never echoed.
 * Unknown keys get a "did you mean" hint by edit distance.
 *
 * Pure: part of the functional core (no libevent, no libpq).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define PATH_BUF 256

/* ------------------------------------------------------------- messages */

/* The dotted path of a setting: "sla.policies.[1].resolution". */
static void key_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *parent = config_setting_parent(s);
	if (!parent) { /* the root has no name */
		buf[0] = '\0';
		return;
	}
	key_path(parent, buf, len);
	size_t used = strlen(buf);
	if (used + 1 >= len)
		return;
	const char *dot = used ? "." : "";
	const char *name = config_setting_name(s);
	if (name)
		snprintf(buf + used, len - used, "%s%s", dot, name);
	else
		snprintf(buf + used, len - used, "%s[%d]", dot, config_setting_index(s));
}

const char *hl_cfgi_shown(const char *s, char *buf, size_t len)
{
	size_t i = 0;
	for (; s[i] && i + 1 < len; i++)
		buf[i] = (s[i] >= 0x20 && s[i] != 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	if (s[i] && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

/* The file a setting came from; relative @include names are shown with their directory. */
static void source_file(const struct ld *ld, const config_setting_t *s, char *buf, size_t len)
{
	const char *f = config_setting_source_file(s);
	if (!f || strcmp(f, ld->file) == 0)
		snprintf(buf, len, "%s", ld->file);
	else if (f[0] != '/' && ld->incdir)
		snprintf(buf, len, "%s/%s", ld->incdir, f);
	else
		snprintf(buf, len, "%s", f);
}

void (*hl_config_warn)(const char *message);

/* "FILE:LINE: KEY: warning: ..." to hl_config_warn (config.h); the load goes on. */
void hl_cfgi_warn(const struct ld *ld, const config_setting_t *s, const char *fmt, ...)
{
	char path[PATH_BUF], file[512], msg[512], line[PATH_BUF + 512 + 512 + 32];
	va_list ap;
	if (!hl_config_warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	key_path(s, path, sizeof path);
	source_file(ld, s, file, sizeof file);
	snprintf(line, sizeof line, "%s:%u: %s: warning: %s", file, (unsigned)config_setting_source_line(s), path, msg);
	hl_config_warn(line);
}

int hl_cfgi_fail(const struct ld *ld, const config_setting_t *s, const char *fmt, ...)
{
	char path[PATH_BUF], file[512], msg[512];
	va_list ap;
	if (!ld->err || ld->errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	key_path(s, path, sizeof path);
	source_file(ld, s, file, sizeof file);
	if (path[0])
		snprintf(ld->err, ld->errlen, "%s:%u: %s: %s", file, (unsigned)config_setting_source_line(s), path, msg);
	else /* the root: no key to name */
		snprintf(ld->err, ld->errlen, "%s:%u: %s", file, (unsigned)config_setting_source_line(s), msg);
	return -1;
}

int hl_cfgi_fail_missing_path(const struct ld *ld, const char *path)
{
	if (ld->err && ld->errlen)
		snprintf(ld->err, ld->errlen, "%s:0: %s: missing", ld->file, path);
	return -1;
}

int hl_cfgi_fail_missing(const struct ld *ld, const config_setting_t *grp, const char *name)
{
	char path[PATH_BUF] = "", full[PATH_BUF + 64];
	if (grp)
		key_path(grp, path, sizeof path);
	snprintf(full, sizeof full, "%s%s%s", path, path[0] ? "." : "", name);
	return hl_cfgi_fail_missing_path(ld, full);
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return "a group { }";
	case CONFIG_TYPE_LIST: return "a list ( )";
	case CONFIG_TYPE_ARRAY: return "an array [ ]";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	default: return "nothing";
	}
}

int hl_cfgi_fail_type(const struct ld *ld, const config_setting_t *s, const char *want)
{
	return hl_cfgi_fail(ld, s, "expected %s, got %s", want, type_name(s));
}

/* "30m" for 1800: the shortest exact way to write a duration in seconds. */
static const char *fmt_dur(int64_t s, char *buf, size_t len)
{
	if (s == 0)
		snprintf(buf, len, "0");
	else if (s < 0)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s % HL_DAY_S == 0)
		snprintf(buf, len, "%lldd", (long long)(s / HL_DAY_S));
	else if (s % HL_HOUR_S == 0)
		snprintf(buf, len, "%lldh", (long long)(s / HL_HOUR_S));
	else if (s % HL_MINUTE_S == 0)
		snprintf(buf, len, "%lldm", (long long)(s / HL_MINUTE_S));
	else
		snprintf(buf, len, "%llds", (long long)s);
	return buf;
}

/* Edit distance of two short strings, for "did you mean" hints. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[33];
	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* --------------------------------------------------------------- groups */

const config_setting_t *hl_cfgi_member(const config_setting_t *grp, const char *name)
{
	return grp ? config_setting_get_member(grp, name) : NULL;
}

int hl_cfgi_check_keys(const struct ld *ld, const config_setting_t *grp, const char *const *known, size_t n_known)
{
	int n = config_setting_length(grp);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		const char *hint = NULL;
		bool ok = false;
		for (size_t k = 0; k < n_known && !ok; k++) {
			ok = strcmp(name, known[k]) == 0;
			if (!hint && distance(name, known[k]) <= 2)
				hint = known[k];
		}
		if (ok)
			continue;
		if (hint)
			return hl_cfgi_fail(ld, s, "unknown key (did you mean '%s'?)", hint);
		return hl_cfgi_fail(ld, s, "unknown key");
	}
	return 0;
}

int hl_cfgi_check_keyv(const struct ld *ld, const config_setting_t *grp, const char *const *known)
{
	size_t n = 0;
	while (known[n])
		n++;
	return hl_cfgi_check_keys(ld, grp, known, n);
}

int hl_cfgi_group(const struct ld *ld, const config_setting_t *parent, const char *name,
		  const char *const *known, const config_setting_t **out)
{
	const config_setting_t *s = hl_cfgi_member(parent, name);
	*out = NULL;
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return hl_cfgi_fail_type(ld, s, "a group { }");
	if (known && hl_cfgi_check_keyv(ld, s, known))
		return -1;
	*out = s;
	return 0;
}

int hl_cfgi_group_list(const struct ld *ld, const config_setting_t *s)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_LIST && !(t == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
		return hl_cfgi_fail_type(ld, s, "a list ( { ... }, ... )");
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			return hl_cfgi_fail_type(ld, e, "a group { }");
	}
	return 0;
}

/* -------------------------------------------------------------- values */

int hl_cfgi_read_int64(const struct ld *ld, const config_setting_t *s, int64_t min, int64_t max, int64_t *out)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return hl_cfgi_fail_type(ld, s, "an integer");
	long long v = config_setting_get_int64(s);
	if (v < min || v > max)
		return hl_cfgi_fail(ld, s, "%lld is out of range (%lld..%lld)", v, (long long)min, (long long)max);
	*out = v;
	return 0;
}

/*
 * A duration: a string for hl_parse_duration ("90s", "30m", "48h", "2d",
 * "120") or an integer number of seconds, in [min_s, max_s], in seconds.
 */
int hl_cfgi_read_duration_s(const struct ld *ld, const config_setting_t *s, int64_t min_s, int64_t max_s,
			    int64_t *out)
{
	char b1[16], b2[16], q[48];
	int64_t v;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_STRING: {
		const char *str = config_setting_get_string(s);
		if (hl_parse_duration(str, &v) != 0)
			return hl_cfgi_fail(ld, s, "bad duration '%s' (use 90s, 30m, 48h, 2d)", hl_cfgi_shown(str, q, sizeof q));
		break;
	}
	default:
		return hl_cfgi_fail_type(ld, s, "a duration (\"30m\" or seconds)");
	}
	if (v < min_s || v > max_s)
		return hl_cfgi_fail(ld, s, "%s is out of range (%s..%s)", fmt_dur(v, q, sizeof q),
				    fmt_dur(min_s, b1, sizeof b1), fmt_dur(max_s, b2, sizeof b2));
	*out = v;
	return 0;
}

/*
 * A span in ms: a duration in [0, max_s], or "Nwd" working days
 * (hl_parse_span), stored as HL_SPAN_WD(N).  Whether a calendar applies is
 * checked once everything is loaded (config_orders.c).
 */
int hl_cfgi_read_span(const struct ld *ld, const config_setting_t *s, int64_t max_s, int64_t *out)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *str = config_setting_get_string(s);
		size_t n = strlen(str);
		int64_t span;
		char q[48];
		if (n >= 2 && strcmp(str + n - 2, "wd") == 0) {
			if (hl_parse_span(str, &span) != 0 || !hl_span_is_wd(span))
				return hl_cfgi_fail(ld, s, "bad working-day span '%s' (use 0wd .. %dwd)",
						    hl_cfgi_shown(str, q, sizeof q), HL_SPAN_WD_MAX);
			*out = span;
			return 0;
		}
	}
	int64_t v;
	if (hl_cfgi_read_duration_s(ld, s, 0, max_s, &v))
		return -1;
	*out = v * 1000;
	return 0;
}

int hl_cfgi_span(const struct ld *ld, const config_setting_t *grp, const char *name, int64_t *out)
{
	const config_setting_t *s = hl_cfgi_member(grp, name);
	return s ? hl_cfgi_read_span(ld, s, HL_SLA_MAX_S, out) : 0;
}

/* A fraction in [0, 1); integers (0) are accepted. */
int hl_cfgi_read_fraction(const struct ld *ld, const config_setting_t *s, double *out)
{
	double v;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_FLOAT: v = config_setting_get_float(s); break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: v = (double)config_setting_get_int64(s); break;
	default: return hl_cfgi_fail_type(ld, s, "a number");
	}
	if (!(v >= 0.0 && v < 1.0))
		return hl_cfgi_fail(ld, s, "%g is out of range (0 <= %s < 1)", v, config_setting_name(s));
	*out = v;
	return 0;
}

int hl_cfgi_read_str(const struct ld *ld, const config_setting_t *s, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return hl_cfgi_fail_type(ld, s, "a string");
	*out = config_setting_get_string(s);
	return 0;
}

int hl_cfgi_str(const struct ld *ld, const config_setting_t *grp, const char *name, const char **out,
		const config_setting_t **where)
{
	const config_setting_t *s = hl_cfgi_member(grp, name);
	if (where)
		*where = s;
	return s ? hl_cfgi_read_str(ld, s, out) : 0;
}

int hl_cfgi_str_list(const struct ld *ld, const config_setting_t *grp, const char *name,
		     const config_setting_t **out)
{
	const config_setting_t *s = hl_cfgi_member(grp, name);
	*out = NULL;
	if (!s)
		return 0;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return hl_cfgi_fail_type(ld, s, "an array of strings [ \"...\" ]");
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return hl_cfgi_fail_type(ld, e, "a string");
	}
	*out = s;
	return 0;
}

int hl_cfgi_set_str(const struct ld *ld, const config_setting_t *s, char **dst, const char *v, bool empty_is_null)
{
	char *copy = NULL;
	if (v && !(empty_is_null && v[0] == '\0')) {
		copy = strdup(v);
		if (!copy)
			return hl_cfgi_fail(ld, s, "out of memory");
	}
	free(*dst);
	*dst = copy;
	return 0;
}

int hl_cfgi_set_name(const struct ld *ld, const config_setting_t *s, char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return hl_cfgi_fail(ld, s, "too long (at most %zu bytes)", len - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}
