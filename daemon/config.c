/*
 * config.c - read hotlined.conf (libconfig syntax) into a struct hl_config.
 *
 * Design
 * ------
 * Loading is all-or-nothing.  hl_config_load() parses the file with libconfig,
 * then walks the setting tree group by group and fills a private struct.  Only
 * when every group checked out is that struct copied to the caller; on any
 * error it is freed and the caller's struct is not touched, so a bad SIGHUP
 * reload leaves the running configuration as it was.
 *
 * The walk is strict on purpose: every group first checks that it holds only
 * keys it knows (a typo such as "calback" is an error, never a silent
 * default), every value is type-checked (a string where an integer belongs is
 * an error), and every value is range-checked.  Each error names the file and
 * line libconfig recorded for the offending setting and its full dotted key
 * path, e.g.
 *
 *     conf/x.conf:12: sla.policies.[1].resolution: bad duration 'abc' (use 90s, 30m, 48h, 2d)
 *
 * Defaults are written into the struct first and each key that is present
 * overrides its default, so an absent key simply keeps the default.  SLA
 * policies start as a copy of the sla = { } defaults, which is how their
 * missing keys inherit.  Calendars are loaded before the sla group so that
 * calendar names can be checked.
 *
 * This is part of the functional core: no global state, no logging, no
 * libevent/libpq.  Values the user wrote are echoed in messages only after
 * being cut short and stripped of control characters; conninfo and tokens
 * (secrets) are never echoed.
 */
#include "config.h"
#include "config_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MIB (1024 * 1024)
#define MINUTE_S 60
#define HOUR_S (60 * MINUTE_S)
#define DAY_S (24 * HOUR_S)
#define PATH_BUF 256
#define MAX_RANGE_DAYS 366 /* one holidays entry may span at most a year */

/* One load in progress: where error messages go. */
struct ld {
	const char *file;    /* the main file, for settings libconfig has no file for */
	const char *incdir;  /* directory @include paths are relative to; NULL = none */
	char *err;
	size_t errlen;
};

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

/* A user-supplied string made safe to quote: short and without control characters. */
static const char *shown(const char *s, char *buf, size_t len)
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

static int vfail(const struct ld *ld, const config_setting_t *s, const char *fmt, va_list ap)
{
	char path[PATH_BUF], file[512], msg[512];
	if (!ld->err || ld->errlen == 0)
		return -1;
	vsnprintf(msg, sizeof msg, fmt, ap);
	key_path(s, path, sizeof path);
	source_file(ld, s, file, sizeof file);
	if (path[0])
		snprintf(ld->err, ld->errlen, "%s:%u: %s: %s", file, (unsigned)config_setting_source_line(s), path, msg);
	else /* the root: no key to name */
		snprintf(ld->err, ld->errlen, "%s:%u: %s", file, (unsigned)config_setting_source_line(s), msg);
	return -1;
}

/* "FILE:LINE: KEY: message" for setting s; always returns -1. */
__attribute__((format(printf, 3, 4)))
static int fail(const struct ld *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(ld, s, fmt, ap);
	va_end(ap);
	return -1;
}

/* A required key that is absent: "FILE:0: database.conninfo: missing". */
static int fail_missing(const struct ld *ld, const config_setting_t *grp, const char *name)
{
	char path[PATH_BUF] = "";
	if (grp)
		key_path(grp, path, sizeof path);
	if (ld->err && ld->errlen)
		snprintf(ld->err, ld->errlen, "%s:0: %s%s%s: missing", ld->file, path, path[0] ? "." : "", name);
	return -1;
}

static int fail_oom(const struct ld *ld, const config_setting_t *s)
{
	return fail(ld, s, "out of memory");
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

static int fail_type(const struct ld *ld, const config_setting_t *s, const char *want)
{
	return fail(ld, s, "expected %s, got %s", want, type_name(s));
}

/* "30m" for 1800: the shortest exact way to write a duration in seconds. */
static const char *fmt_dur(int64_t s, char *buf, size_t len)
{
	if (s == 0)
		snprintf(buf, len, "0");
	else if (s < 0)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s % DAY_S == 0)
		snprintf(buf, len, "%lldd", (long long)(s / DAY_S));
	else if (s % HOUR_S == 0)
		snprintf(buf, len, "%lldh", (long long)(s / HOUR_S));
	else if (s % MINUTE_S == 0)
		snprintf(buf, len, "%lldm", (long long)(s / MINUTE_S));
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

/* --------------------------------------------------------- typed access */

static const config_setting_t *member(const config_setting_t *grp, const char *name)
{
	return grp ? config_setting_get_member(grp, name) : NULL;
}

/* The first key of grp not in `known` (NULL-terminated) is an error. */
static int check_keys(const struct ld *ld, const config_setting_t *grp, const char *const *known)
{
	int n = config_setting_length(grp);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		const char *hint = NULL;
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++) {
			ok = strcmp(name, *k) == 0;
			if (!hint && distance(name, *k) <= 2)
				hint = *k;
		}
		if (ok)
			continue;
		if (hint)
			return fail(ld, s, "unknown key (did you mean '%s'?)", hint);
		return fail(ld, s, "unknown key");
	}
	return 0;
}

/* A sub-group; *out = NULL when absent.  Its keys are checked against `known`. */
static int get_group(const struct ld *ld, const config_setting_t *parent, const char *name,
		     const char *const *known, const config_setting_t **out)
{
	const config_setting_t *s = member(parent, name);
	*out = NULL;
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail_type(ld, s, "a group { }");
	if (check_keys(ld, s, known))
		return -1;
	*out = s;
	return 0;
}

/* A list of groups "( {..}, {..} )"; an empty [ ] or ( ) is fine too. */
static int get_group_list(const struct ld *ld, const config_setting_t *parent, const char *name,
			  const config_setting_t **out)
{
	const config_setting_t *s = member(parent, name);
	*out = NULL;
	if (!s)
		return 0;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_LIST && !(t == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
		return fail_type(ld, s, "a list ( { ... }, ... )");
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			return fail_type(ld, e, "a group { }");
	}
	*out = s;
	return 0;
}

/* A string; *out untouched when absent. */
static int get_str(const struct ld *ld, const config_setting_t *grp, const char *name,
		   const char **out, const config_setting_t **where)
{
	const config_setting_t *s = member(grp, name);
	if (where)
		*where = s;
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_type(ld, s, "a string");
	*out = config_setting_get_string(s);
	return 0;
}

/* Replace *dst by a copy of v; "" gives NULL when empty_is_null. */
static int set_str(const struct ld *ld, const config_setting_t *s, char **dst, const char *v, bool empty_is_null)
{
	char *copy = NULL;
	if (v && !(empty_is_null && v[0] == '\0')) {
		copy = strdup(v);
		if (!copy)
			return fail_oom(ld, s);
	}
	free(*dst);
	*dst = copy;
	return 0;
}

/* Copy v into a fixed buffer; too long is an error. */
static int set_name(const struct ld *ld, const config_setting_t *s, char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return fail(ld, s, "too long (at most %zu bytes)", len - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* An integer in [min, max]; *out untouched when absent. */
static int get_int64(const struct ld *ld, const config_setting_t *grp, const char *name,
		     int64_t min, int64_t max, int64_t *out)
{
	const config_setting_t *s = member(grp, name);
	if (!s)
		return 0;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return fail_type(ld, s, "an integer");
	long long v = config_setting_get_int64(s);
	if (v < min || v > max)
		return fail(ld, s, "%lld is out of range (%lld..%lld)", v, (long long)min, (long long)max);
	*out = v;
	return 0;
}

static int get_int(const struct ld *ld, const config_setting_t *grp, const char *name, int min, int max, int *out)
{
	int64_t v = *out;
	if (get_int64(ld, grp, name, min, max, &v))
		return -1;
	*out = (int)v;
	return 0;
}

static int get_size(const struct ld *ld, const config_setting_t *grp, const char *name,
		    int64_t min, int64_t max, size_t *out)
{
	int64_t v = (int64_t)*out;
	if (get_int64(ld, grp, name, min, max, &v))
		return -1;
	*out = (size_t)v;
	return 0;
}

/*
 * A duration: a string for hl_parse_duration ("90s", "30m", "48h", "2d",
 * "120") or an integer number of seconds, in [min_s, max_s].  Stored in
 * seconds; *out untouched when absent.
 */
static int get_duration_s(const struct ld *ld, const config_setting_t *grp, const char *name,
			  int64_t min_s, int64_t max_s, int64_t *out)
{
	const config_setting_t *s = member(grp, name);
	char b1[16], b2[16], q[48];
	int64_t v;
	if (!s)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_STRING: {
		const char *str = config_setting_get_string(s);
		if (hl_parse_duration(str, &v) != 0)
			return fail(ld, s, "bad duration '%s' (use 90s, 30m, 48h, 2d)", shown(str, q, sizeof q));
		break;
	}
	default:
		return fail_type(ld, s, "a duration (\"30m\" or seconds)");
	}
	if (v < min_s || v > max_s)
		return fail(ld, s, "%s is out of range (%s..%s)", fmt_dur(v, q, sizeof q),
			    fmt_dur(min_s, b1, sizeof b1), fmt_dur(max_s, b2, sizeof b2));
	*out = v;
	return 0;
}

static int get_duration_ms(const struct ld *ld, const config_setting_t *grp, const char *name,
			   int64_t min_s, int64_t max_s, int64_t *out_ms)
{
	int64_t v = *out_ms / 1000;
	if (get_duration_s(ld, grp, name, min_s, max_s, &v))
		return -1;
	*out_ms = v * 1000;
	return 0;
}

static int get_duration_int(const struct ld *ld, const config_setting_t *grp, const char *name,
			    int64_t min_s, int64_t max_s, int *out_s)
{
	int64_t v = *out_s;
	if (get_duration_s(ld, grp, name, min_s, max_s, &v))
		return -1;
	*out_s = (int)v;
	return 0;
}

/*
 * A span: a duration as get_duration_ms (at most max_s), or "Nwd" working
 * days (hl_parse_span), stored as HL_SPAN_WD(N).  Whether a calendar applies
 * is checked once everything is loaded (config_orders.c).
 */
static int get_span_ms(const struct ld *ld, const config_setting_t *grp, const char *name, int64_t max_s,
		       int64_t *out)
{
	const config_setting_t *s = member(grp, name);
	if (!s)
		return 0; /* absent: keep the default (which may be working days) */
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *str = config_setting_get_string(s);
		size_t n = strlen(str);
		int64_t span;
		char q[48];
		if (n >= 2 && strcmp(str + n - 2, "wd") == 0) {
			if (hl_parse_span(str, &span) != 0 || !hl_span_is_wd(span))
				return fail(ld, s, "bad working-day span '%s' (use 0wd .. %dwd)", shown(str, q, sizeof q),
					    HL_SPAN_WD_MAX);
			*out = span;
			return 0;
		}
	}
	int64_t v = *out < 0 ? 0 : *out;
	if (get_duration_ms(ld, grp, name, 0, max_s, &v))
		return -1;
	*out = v;
	return 0;
}

/* A fraction in [0, 1); integers (0) are accepted. */
static int get_fraction(const struct ld *ld, const config_setting_t *grp, const char *name, double *out)
{
	const config_setting_t *s = member(grp, name);
	double v;
	if (!s)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_FLOAT: v = config_setting_get_float(s); break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: v = (double)config_setting_get_int64(s); break;
	default: return fail_type(ld, s, "a number");
	}
	if (!(v >= 0.0 && v < 1.0))
		return fail(ld, s, "%g is out of range (0 <= warn_at < 1)", v);
	*out = v;
	return 0;
}

/* A [ ] array or ( ) list of strings; *out NULL when absent.  Each element is checked by the caller. */
static int get_str_list(const struct ld *ld, const config_setting_t *grp, const char *name,
			const config_setting_t **out)
{
	const config_setting_t *s = member(grp, name);
	*out = NULL;
	if (!s)
		return 0;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return fail_type(ld, s, "an array of strings [ \"...\" ]");
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail_type(ld, e, "a string");
	}
	*out = s;
	return 0;
}

/* --------------------------------------------------------- value checks */

static bool is_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool host_char(char c, bool v6)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return v6 ? (c == ':' || c == '.' || c == '%') : (c == '.' || c == '-' || c == '_');
}

int hl_config_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	const char *h = s, *colon;
	size_t hl;
	bool v6 = s[0] == '[';
	if (v6) {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
		if (!memchr(h, ':', hl))
			return -1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl)) /* a bare IPv6 address needs [ ] */
			return -1;
	}
	if (hl == 0 || hl >= hostlen || hl > 253)
		return -1;
	for (size_t i = 0; i < hl; i++)
		if (!host_char(h[i], v6))
			return -1;
	const char *p = colon + 1;
	size_t pl = strlen(p);
	if (pl > 5 || !is_digits(p, pl))
		return -1;
	long v = strtol(p, NULL, 10);
	if (v < 1 || v > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)v;
	return 0;
}

static bool valid_hostport(const char *s)
{
	char host[256];
	int port;
	return hl_config_split_hostport(s, host, sizeof host, &port) == 0;
}

/* A host:port setting; "" disables it (NULL). */
static int get_address(const struct ld *ld, const config_setting_t *grp, const char *name, char **dst)
{
	const config_setting_t *s;
	const char *v = NULL;
	char q[48];
	if (get_str(ld, grp, name, &v, &s))
		return -1;
	if (!s)
		return 0;
	if (v[0] && !valid_hostport(v))
		return fail(ld, s, "bad address '%s' (use host:port, e.g. 127.0.0.1:7370 or [::1]:7370)",
			    shown(v, q, sizeof q));
	return set_str(ld, s, dst, v, true);
}

/* "0660" -> 0660; octal, at most 0777. */
static int parse_mode(const char *s, int *mode)
{
	size_t n = strlen(s);
	long v = 0;
	if (n < 1 || n > 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -1;
		v = v * 8 + (s[i] - '0');
	}
	if (v > 0777)
		return -1;
	*mode = (int)v;
	return 0;
}

/* Zone names go into a file path: letters, digits, _ + - and / between parts, no "..". */
static bool valid_zone_name(const char *z)
{
	if (!z[0] || z[0] == '/' || strstr(z, "..") || strstr(z, "//"))
		return false;
	for (const char *p = z; *p; p++)
		if (!host_char(*p, false) && *p != '+' && *p != '/')
			return false;
	return z[strlen(z) - 1] != '/';
}

static bool valid_url(const char *u)
{
	size_t skip;
	if (strncmp(u, "http://", 7) == 0)
		skip = 7;
	else if (strncmp(u, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	if (!u[skip] || u[skip] == '/')
		return false;
	return !has_control(u) && !strchr(u, ' ');
}

static const char *const level_names[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};

static int parse_level(const char *s)
{
	for (int i = 0; i < 8; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "error") == 0)
		return 3;
	if (strcmp(s, "warn") == 0)
		return 4;
	return -1;
}

/* -------------------------------------------------------------- listen */

static const char *const listen_keys[] = {"tcp", "unix", "unix_mode", "unix_owner", "unix_group", "max_line",
	"max_connections", "idle_timeout", "max_inflight", "max_output", "tokens", "tls",
	"unix_supervisor", "unix_supervisor_mode", "unix_supervisor_group", NULL};
static const char *const tls_keys[] = {"cert", "key", "ca", NULL};

static int load_unix(const struct ld *ld, const config_setting_t *g, struct hl_config *cfg)
{
	const config_setting_t *s;
	const char *v = NULL;
	char q[48];
	if (get_str(ld, g, "unix", &v, &s))
		return -1;
	if (s && strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return fail(ld, s, "path too long (at most %zu bytes)", sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	if (s && set_str(ld, s, &cfg->listen.unix_path, v, true))
		return -1;
	v = NULL;
	if (get_str(ld, g, "unix_mode", &v, &s))
		return -1;
	if (s && parse_mode(v, &cfg->listen.unix_mode))
		return fail(ld, s, "bad mode '%s' (use an octal string such as \"0660\")", shown(v, q, sizeof q));
	v = NULL;
	if (get_str(ld, g, "unix_owner", &v, &s) || (s && set_str(ld, s, &cfg->listen.unix_owner, v, true)))
		return -1;
	if (get_str(ld, g, "unix_group", &v, &s) || (s && set_str(ld, s, &cfg->listen.unix_group, v, true)))
		return -1;
	return 0;
}

static int load_tokens(const struct ld *ld, const config_setting_t *g, struct hl_config *cfg)
{
	return hl_cfgi_load_tokens(ld, g, cfg) || hl_cfgi_load_unix_supervisor(ld, g, cfg); /* config_people.c */
}

static int load_tls(const struct ld *ld, const config_setting_t *g, struct hl_config *cfg)
{
	const config_setting_t *tls, *s;
	const char *v;
	if (get_group(ld, g, "tls", tls_keys, &tls))
		return -1;
	if (!tls)
		return 0;
	v = NULL;
	if (get_str(ld, tls, "cert", &v, &s) || (s && set_str(ld, s, &cfg->listen.tls_cert, v, true)))
		return -1;
	v = NULL;
	if (get_str(ld, tls, "key", &v, &s) || (s && set_str(ld, s, &cfg->listen.tls_key, v, true)))
		return -1;
	v = NULL;
	if (get_str(ld, tls, "ca", &v, &s) || (s && set_str(ld, s, &cfg->listen.tls_ca, v, true)))
		return -1;
	if (!cfg->listen.tls_cert != !cfg->listen.tls_key)
		return fail(ld, tls, "cert and key must be given together");
	if (cfg->listen.tls_ca && !cfg->listen.tls_cert)
		return fail(ld, tls, "ca needs cert and key");
	return 0;
}

static int load_listen(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g;
	if (get_group(ld, root, "listen", listen_keys, &g))
		return -1;
	if (!g)
		return 0;
	int64_t idle = cfg->listen.idle_timeout_s;
	if (get_address(ld, g, "tcp", &cfg->listen.tcp) || load_unix(ld, g, cfg) ||
	    get_size(ld, g, "max_line", 64, 16 * MIB, &cfg->listen.max_line) ||
	    get_int(ld, g, "max_connections", 1, 1000000, &cfg->listen.max_connections) ||
	    get_duration_s(ld, g, "idle_timeout", 0, 7 * DAY_S, &idle) ||
	    get_int(ld, g, "max_inflight", 1, 1000000, &cfg->listen.max_inflight) ||
	    get_size(ld, g, "max_output", 64 * 1024, 1024 * MIB, &cfg->listen.max_output) ||
	    load_tokens(ld, g, cfg) || load_tls(ld, g, cfg))
		return -1;
	cfg->listen.idle_timeout_s = (int)idle;
	if (!cfg->listen.tcp && !cfg->listen.unix_path)
		return fail(ld, g, "tcp and unix are both disabled: nothing to listen on");
	return 0;
}

/* ------------------------------------------------------------ database */

static const char *const database_keys[] = {"conninfo", "batch_max", "reconnect_max", NULL};

static int load_database(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g, *s;
	const char *v = NULL;
	if (get_group(ld, root, "database", database_keys, &g))
		return -1;
	if (get_str(ld, g, "conninfo", &v, &s))
		return -1;
	if (!s) {
		if (ld->err && ld->errlen)
			snprintf(ld->err, ld->errlen, "%s:0: database.conninfo: missing", ld->file);
		return -1;
	}
	if (v[0] == '\0')
		return fail(ld, s, "empty (use a libpq connection string such as \"dbname=hotline\")");
	if (set_str(ld, s, &cfg->database.conninfo, v, false) ||
	    get_int(ld, g, "batch_max", 1, 100000, &cfg->database.batch_max) ||
	    get_duration_int(ld, g, "reconnect_max", 1, HOUR_S, &cfg->database.reconnect_max_s))
		return -1;
	return 0;
}

/* ----------------------------------------------------------- calendars */

static const char *const calendar_keys[] = {"name", "timezone", "hours", "holidays", "workdays", "workday_hours", NULL};
static const char *const day_keys[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static int parse_hours(const struct ld *ld, const config_setting_t *s, const char *v, struct hl_day_hours *out)
{
	char q[48];
	if (hl_parse_day_hours(v, out) != 0)
		return fail(ld, s, "bad hours '%s' (use \"09:00-12:00,13:30-17:30\" or \"\" for closed)",
			    shown(v, q, sizeof q));
	return 0;
}

static int cmp_day(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Expand a list of dates and date ranges into sorted, unique day numbers. */
static int load_days(const struct ld *ld, const config_setting_t *cal, const char *name, int32_t **out, size_t *n_out)
{
	const config_setting_t *arr;
	size_t n = 0, cap = 0;
	int32_t *days = NULL;
	char q[48];
	if (get_str_list(ld, cal, name, &arr))
		return -1;
	if (!arr)
		return 0;
	for (int i = 0; i < config_setting_length(arr); i++) {
		const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
		const char *v = config_setting_get_string(e);
		int32_t first, last;
		if (hl_parse_date_range(v, &first, &last) != 0 || last < first) {
			free(days);
			return fail(ld, e, "bad date '%s' (use \"2026-10-01\" or \"2026-10-01..2026-10-07\")",
				    shown(v, q, sizeof q));
		}
		if ((int64_t)last - first >= MAX_RANGE_DAYS) {
			free(days);
			return fail(ld, e, "range longer than %d days", MAX_RANGE_DAYS);
		}
		size_t need = n + (size_t)(last - first) + 1;
		if (need > cap) {
			size_t ncap = cap ? cap * 2 : 32;
			while (ncap < need)
				ncap *= 2;
			int32_t *nd = realloc(days, ncap * sizeof *nd);
			if (!nd) {
				free(days);
				return fail_oom(ld, e);
			}
			days = nd;
			cap = ncap;
		}
		for (int32_t d = first; d <= last; d++)
			days[n++] = d;
	}
	if (n) {
		qsort(days, n, sizeof *days, cmp_day);
		size_t u = 1;
		for (size_t i = 1; i < n; i++)
			if (days[i] != days[u - 1])
				days[u++] = days[i];
		n = u;
	}
	*out = days;
	*n_out = n;
	return 0;
}

static int day_overlap(const struct hl_calendar *c, int32_t *day)
{
	size_t i = 0, j = 0;
	while (i < c->n_holidays && j < c->n_workdays) {
		if (c->holidays[i] == c->workdays[j]) {
			*day = c->holidays[i];
			return 1;
		}
		if (c->holidays[i] < c->workdays[j])
			i++;
		else
			j++;
	}
	return 0;
}

static int load_week(const struct ld *ld, const config_setting_t *cal, struct hl_calendar *c)
{
	const config_setting_t *hours, *s;
	if (get_group(ld, cal, "hours", day_keys, &hours))
		return -1;
	for (int d = 0; d < 7; d++) {
		const char *v = NULL;
		if (get_str(ld, hours, day_keys[d], &v, &s))
			return -1;
		if (s && parse_hours(ld, s, v, &c->week[d]))
			return -1;
	}
	const char *v = NULL;
	c->workday_hours = c->week[1]; /* a make-up working day is a Monday unless told */
	if (get_str(ld, cal, "workday_hours", &v, &s))
		return -1;
	if (s && parse_hours(ld, s, v, &c->workday_hours))
		return -1;
	return 0;
}

static int load_zone(const struct ld *ld, const config_setting_t *cal, struct hl_calendar *c)
{
	const config_setting_t *s;
	const char *v = "UTC";
	char zerr[256], q[48];
	if (get_str(ld, cal, "timezone", &v, &s))
		return -1;
	if (!valid_zone_name(v) || strlen(v) >= sizeof c->zone_name)
		return fail(ld, s, "bad time zone name '%s' (use e.g. \"Asia/Shanghai\")", shown(v, q, sizeof q));
	zerr[0] = '\0';
	c->zone = hl_zone_load(v, zerr, sizeof zerr);
	if (!c->zone) {
		if (s)
			return fail(ld, s, "unknown time zone '%s': %s", shown(v, q, sizeof q), zerr);
		return fail(ld, cal, "cannot load time zone UTC: %s", zerr);
	}
	memcpy(c->zone_name, v, strlen(v) + 1);
	return 0;
}

static bool never_open(const struct hl_calendar *c)
{
	for (int d = 0; d < 7; d++)
		if (c->week[d].n > 0)
			return false;
	return c->n_workdays == 0 || c->workday_hours.n == 0;
}

static int load_calendar(const struct ld *ld, const config_setting_t *cal, const struct hl_config *cfg,
			 struct hl_calendar *c)
{
	const config_setting_t *s;
	const char *name = NULL;
	int32_t day;
	int y, m, d;
	char q[48];
	if (check_keys(ld, cal, calendar_keys) || get_str(ld, cal, "name", &name, &s))
		return -1;
	if (!s)
		return fail_missing(ld, cal, "name");
	if (name[0] == '\0')
		return fail(ld, s, "must not be empty");
	if (set_name(ld, s, c->name, sizeof c->name, name))
		return -1;
	for (size_t i = 0; i < cfg->n_calendars; i++)
		if (strcmp(cfg->calendars[i].name, name) == 0)
			return fail(ld, s, "calendar '%s' is defined twice", shown(name, q, sizeof q));
	if (load_zone(ld, cal, c) || load_week(ld, cal, c) ||
	    load_days(ld, cal, "holidays", &c->holidays, &c->n_holidays) ||
	    load_days(ld, cal, "workdays", &c->workdays, &c->n_workdays))
		return -1;
	if (day_overlap(c, &day)) {
		hl_civil_from_days(day, &y, &m, &d);
		return fail(ld, member(cal, "workdays"), "%04d-%02d-%02d is also a holiday", y, m, d);
	}
	if (never_open(c))
		return fail(ld, cal, "the calendar is never open (no hours on any day)");
	return 0;
}

/* A calendar being built is not in cfg yet: free what it holds by hand. */
static void discard_calendar(struct hl_calendar *c)
{
	if (c->zone)
		hl_zone_free(c->zone);
	free(c->holidays);
	free(c->workdays);
	memset(c, 0, sizeof *c);
}

static int load_calendars(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *list;
	if (get_group_list(ld, root, "calendars", &list))
		return -1;
	if (!list)
		return 0;
	size_t n = (size_t)config_setting_length(list);
	if (n == 0)
		return 0;
	cfg->calendars = calloc(n, sizeof *cfg->calendars);
	if (!cfg->calendars)
		return fail_oom(ld, list);
	for (size_t i = 0; i < n; i++) {
		struct hl_calendar c;
		memset(&c, 0, sizeof c);
		if (load_calendar(ld, config_setting_get_elem(list, (unsigned)i), cfg, &c)) {
			discard_calendar(&c);
			return -1;
		}
		cfg->calendars[cfg->n_calendars++] = c;
	}
	return 0;
}

/* ----------------------------------------------------------------- sla */

static const char *const sla_keys[] = {"callback", "update", "resolution", "survey", "warn_at", "calendar",
	"policies", NULL};
static const char *const policy_keys[] = {"name", "category", "priority", "callback", "update", "resolution",
	"survey", "warn_at", "calendar", "sign", "reply", "redispatch", NULL};

#define SLA_MAX_S (365 * DAY_S)

/* The clock durations, warn_at and calendar shared by sla = { } and each policy. */
static int load_clocks(const struct ld *ld, const config_setting_t *g, const struct hl_config *cfg,
		       struct hl_policy *p)
{
	const config_setting_t *s;
	const char *cal = NULL;
	char q[48];
	if (get_span_ms(ld, g, "callback", SLA_MAX_S, &p->callback_ms) ||
	    get_span_ms(ld, g, "update", SLA_MAX_S, &p->update_ms) ||
	    get_span_ms(ld, g, "resolution", SLA_MAX_S, &p->resolution_ms) ||
	    get_span_ms(ld, g, "survey", SLA_MAX_S, &p->survey_ms) ||
	    get_fraction(ld, g, "warn_at", &p->warn_at) || get_str(ld, g, "calendar", &cal, &s))
		return -1;
	if (!s)
		return 0;
	if (cal[0] && !hl_config_calendar(cfg, cal))
		return fail(ld, s, "unknown calendar '%s'", shown(cal, q, sizeof q));
	return set_name(ld, s, p->calendar, sizeof p->calendar, cal);
}

/* category or priority of a policy: absent = any, "" is an error. */
static int load_match(const struct ld *ld, const config_setting_t *g, const char *key, char **dst)
{
	const config_setting_t *s;
	const char *v = NULL;
	if (get_str(ld, g, key, &v, &s))
		return -1;
	if (!s)
		return 0;
	if (v[0] == '\0')
		return fail(ld, s, "must not be empty (leave it out to match any)");
	return set_str(ld, s, dst, v, false);
}

/* The policy's name; without one it is named after what it matches. */
static int load_policy_name(const struct ld *ld, const config_setting_t *g, const struct hl_config *cfg,
			    struct hl_policy *p)
{
	const config_setting_t *s;
	const char *v = NULL;
	char q[48];
	if (get_str(ld, g, "name", &v, &s))
		return -1;
	if (s) {
		if (v[0] == '\0')
			return fail(ld, s, "must not be empty");
		if (set_name(ld, s, p->name, sizeof p->name, v))
			return -1;
	} else {
		int n = snprintf(p->name, sizeof p->name, "%s%s%s", p->category ? p->category : "",
				 p->category && p->priority ? "/" : "", p->priority ? p->priority : "");
		if (n < 0 || (size_t)n >= sizeof p->name)
			return fail(ld, g, "give this policy a name (at most %zu bytes)", sizeof p->name - 1);
		s = g;
	}
	if (strcmp(p->name, "default") == 0)
		return fail(ld, s, "the name 'default' is reserved for the sla = { } defaults");
	for (size_t i = 0; i < cfg->n_policies; i++)
		if (&cfg->policies[i] != p && strcmp(cfg->policies[i].name, p->name) == 0)
			return fail(ld, s, "policy '%s' is defined twice", shown(p->name, q, sizeof q));
	return 0;
}

static int load_policy(const struct ld *ld, const config_setting_t *g, const struct hl_config *cfg,
		       struct hl_policy *p)
{
	if (check_keys(ld, g, policy_keys) || load_match(ld, g, "category", &p->category) ||
	    load_match(ld, g, "priority", &p->priority))
		return -1;
	if (!p->category && !p->priority)
		return fail(ld, g, "a policy needs category and/or priority to match on");
	if (load_policy_name(ld, g, cfg, p) || load_clocks(ld, g, cfg, p) ||
	    get_span_ms(ld, g, "sign", SLA_MAX_S, &p->sign_ms) || get_span_ms(ld, g, "reply", SLA_MAX_S, &p->reply_ms) ||
	    get_span_ms(ld, g, "redispatch", SLA_MAX_S, &p->redispatch_ms))
		return -1;
	return 0;
}

static int load_policies(const struct ld *ld, const config_setting_t *sla, struct hl_config *cfg)
{
	const config_setting_t *list;
	if (get_group_list(ld, sla, "policies", &list))
		return -1;
	if (!list)
		return 0;
	size_t n = (size_t)config_setting_length(list);
	if (n == 0)
		return 0;
	cfg->policies = calloc(n, sizeof *cfg->policies);
	if (!cfg->policies)
		return fail_oom(ld, list);
	for (size_t i = 0; i < n; i++) {
		struct hl_policy *p = &cfg->policies[i];
		*p = cfg->sla; /* missing keys inherit the defaults */
		p->name[0] = '\0';
		cfg->n_policies = i + 1; /* counted now so its strings are freed on error */
		if (load_policy(ld, config_setting_get_elem(list, (unsigned)i), cfg, p))
			return -1;
	}
	return 0;
}

static int load_sla(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g;
	if (get_group(ld, root, "sla", sla_keys, &g))
		return -1;
	if (!g)
		return 0;
	if (load_clocks(ld, g, cfg, &cfg->sla) || load_policies(ld, g, cfg))
		return -1;
	return 0;
}

/* --------------------------------------------------------------- the rest */

static const char *const repeat_keys[] = {"window", "threshold", NULL};
static const char *const escalation_keys[] = {"after", "max_level", NULL};
static const char *const alerts_keys[] = {"transfer_limit", "replay_max", NULL};
static const char *const webhooks_keys[] = {"urls", "timeout", "max_retries", "max_pending", NULL};
static const char *const webhook_keys[] = {"url", "mask_confidential", "format", "secret", "bearer", "headers",
					    "routing_key", NULL};
static const char *const dns_keys[] = {"nameserver", NULL};
static const char *const log_keys[] = {"level", NULL};
static const char *const http_keys[] = {"listen", "tokens", "max_body", "tls", NULL};
static const char *const http_token_keys[] = {"token", "name", "role", NULL};
static const char *const cluster_keys[] = {"takeover", "slots", "name", NULL};

static int load_repeat(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g;
	if (get_group(ld, root, "repeat_caller", repeat_keys, &g))
		return -1;
	if (!g)
		return 0;
	if (get_duration_ms(ld, g, "window", 1, 365 * DAY_S, &cfg->repeat.window_ms) ||
	    get_int(ld, g, "threshold", 2, 1000000, &cfg->repeat.threshold))
		return -1;
	return 0;
}

static int load_escalation(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g;
	if (get_group(ld, root, "escalation", escalation_keys, &g))
		return -1;
	if (!g)
		return 0;
	if (get_duration_ms(ld, g, "after", 1, 30 * DAY_S, &cfg->escalation.after_ms) ||
	    get_int(ld, g, "max_level", 1, 100, &cfg->escalation.max_level))
		return -1;
	return 0;
}

static int load_alerts(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g;
	if (get_group(ld, root, "alerts", alerts_keys, &g))
		return -1;
	if (!g)
		return 0;
	return get_int(ld, g, "transfer_limit", 1, 1000, &cfg->alerts.transfer_limit) ||
	       get_int(ld, g, "replay_max", 1, 1000000, &cfg->alerts.replay_max);
}

/*
 * webhooks.urls: an array of URL strings, or a list whose elements are URL
 * strings or groups { url = "..."; mask_confidential = false; } for a
 * receiver entitled to confidential callers' numbers (masked by default).
 */
static int load_urls(const struct ld *ld, const config_setting_t *g, struct hl_config *cfg)
{
	const config_setting_t *arr = member(g, "urls");
	char q[48];
	if (!arr)
		return 0;
	int t = config_setting_type(arr);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return fail_type(ld, arr, "an array of URLs [ \"...\" ] or a list ( \"...\", { url = \"...\"; } )");
	size_t n = (size_t)config_setting_length(arr);
	if (n == 0)
		return 0;
	cfg->webhooks.urls = calloc(n, sizeof *cfg->webhooks.urls);
	cfg->webhooks.mask_confidential = calloc(n, sizeof *cfg->webhooks.mask_confidential);
	cfg->webhooks.opts = calloc(n, sizeof *cfg->webhooks.opts);
	if (!cfg->webhooks.urls || !cfg->webhooks.mask_confidential || !cfg->webhooks.opts)
		return fail_oom(ld, arr);
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i), *where = e;
		const char *u = NULL;
		bool mask = true;
		if (config_setting_type(e) == CONFIG_TYPE_GROUP) {
			int b = 1;
			cfg->webhooks.n_urls = i + 1; /* so that a failure frees opts[i] */
			if (check_keys(ld, e, webhook_keys) || get_str(ld, e, "url", &u, &where) ||
			    hl_cfgi_webhook_opts(ld, e, &cfg->webhooks.opts[i]))
				return -1;
			if (!u)
				return fail(ld, e, "url: missing");
			const config_setting_t *m = member(e, "mask_confidential");
			if (m) {
				if (config_setting_type(m) != CONFIG_TYPE_BOOL)
					return fail_type(ld, m, "true or false");
				b = config_setting_get_bool(m);
			}
			mask = b != 0;
		} else if (config_setting_type(e) == CONFIG_TYPE_STRING) {
			u = config_setting_get_string(e);
		} else {
			return fail_type(ld, e, "a URL string or a group { url = \"...\"; mask_confidential = false; }");
		}
		if (!valid_url(u))
			return fail(ld, where, "bad URL '%s' (use http://host/path or https://host/path)", shown(u, q, sizeof q));
		if (set_str(ld, where, &cfg->webhooks.urls[i], u, false))
			return -1;
		cfg->webhooks.mask_confidential[i] = mask;
		cfg->webhooks.n_urls = i + 1;
	}
	return 0;
}

/* dns.nameserver: "IP" or "IP:port" / "[IPv6]:port" of the resolver webhooks use instead of resolv.conf. */
static int load_dns(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g, *s;
	const char *v = NULL;
	char q[48], host[64];
	int port;
	unsigned char addr[16];
	if (get_group(ld, root, "dns", dns_keys, &g) || (g && get_str(ld, g, "nameserver", &v, &s)))
		return -1;
	if (!g || !s || !v[0])
		return 0;
	bool ok = inet_pton(AF_INET, v, addr) == 1 || inet_pton(AF_INET6, v, addr) == 1 ||
	          (hl_config_split_hostport(v, host, sizeof host, &port) == 0 &&
	           (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1));
	if (!ok)
		return fail(ld, s, "bad nameserver '%s' (an IP address, optionally with :port, e.g. 127.0.0.1:53)",
			    shown(v, q, sizeof q));
	return set_str(ld, s, &cfg->dns.nameserver, v, true);
}

static int load_webhooks(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g;
	if (get_group(ld, root, "webhooks", webhooks_keys, &g))
		return -1;
	if (!g)
		return 0;
	if (load_urls(ld, g, cfg) || get_duration_int(ld, g, "timeout", 1, 300, &cfg->webhooks.timeout_s) ||
	    get_int(ld, g, "max_retries", 0, 100, &cfg->webhooks.max_retries) ||
	    get_int(ld, g, "max_pending", 1, 1000000, &cfg->webhooks.max_pending))
		return -1;
	return 0;
}

static int load_log(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g, *s;
	const char *v = NULL;
	char q[48];
	if (get_group(ld, root, "log", log_keys, &g) || get_str(ld, g, "level", &v, &s))
		return -1;
	if (!s)
		return 0;
	int level = parse_level(v);
	if (level < 0)
		return fail(ld, s, "unknown level '%s' (use emerg, alert, crit, err, warning, notice, info or debug)",
			    shown(v, q, sizeof q));
	cfg->log.level = level;
	return 0;
}

static int load_http(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g;
	if (get_group(ld, root, "http", http_keys, &g))
		return -1;
	if (!g)
		return 0;
	const config_setting_t *list, *s;
	if (get_address(ld, g, "listen", &cfg->http.listen) ||
	    get_size(ld, g, "max_body", 1024, 1024 * MIB, &cfg->http.max_body) || get_group_list(ld, g, "tokens", &list))
		return -1;
	if ((s = member(g, "tls"))) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return fail_type(ld, s, "a boolean");
		cfg->http.tls = config_setting_get_bool(s);
		if (cfg->http.tls && !cfg->listen.tls_cert)
			return fail(ld, s, "HTTPS uses listen.tls's cert and key: set them first");
	}
	size_t n = list ? (size_t)config_setting_length(list) : 0;
	if (n && !(cfg->http.tokens = calloc(n, sizeof *cfg->http.tokens)))
		return fail_oom(ld, list);
	static const char *const roles[] = {"", "ingest", "viewer", "supervisor"};
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		struct hl_http_token *t = &cfg->http.tokens[i];
		const char *tok = NULL, *name = NULL, *role = NULL;
		cfg->http.n_tokens = i + 1;
		if (check_keys(ld, e, http_token_keys) || get_str(ld, e, "token", &tok, &s))
			return -1;
		if (!tok || tok[0] == '\0' || strlen(tok) > 256 || has_control(tok))
			return fail(ld, s ? s : e, "token: 1..256 bytes without control characters");
		if (set_str(ld, s, &t->token, tok, false) || get_str(ld, e, "name", &name, &s))
			return -1;
		if (!name || name[0] == '\0' || strlen(name) > 128 || has_control(name))
			return fail(ld, s ? s : e, "name: 1..128 bytes without control characters (stored as acked_by)");
		if (set_str(ld, s, &t->name, name, false) || get_str(ld, e, "role", &role, &s))
			return -1;
		for (int r = HL_ROLE_INGEST; r <= HL_ROLE_SUPERVISOR && role; r++)
			if (strcmp(role, roles[r]) == 0)
				t->role = r;
		if (!t->role)
			return fail(ld, s ? s : e, "role: one of ingest, viewer, supervisor");
	}
	if (cfg->http.listen && cfg->http.n_tokens == 0) {
		char host[256];
		int port;
		if (hl_config_split_hostport(cfg->http.listen, host, sizeof host, &port) != 0 ||
		    !(strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0))
			return fail(ld, member(g, "listen"), "without http.tokens the listener must be on a loopback "
			            "address (127.0.0.1, ::1 or localhost): anyone who reaches it could ingest and acknowledge");
	}
	return 0;
}

/* ---------------------------------------------------------------- phone */

static const char *const phone_keys[] = {"country_code", "trunk_prefix", "international_prefix", NULL};

/* 0..max digits (none when allow_empty) into a fixed buffer. */
static int get_digits(const struct ld *ld, const config_setting_t *g, const char *name, size_t max, char *dst,
		      size_t dstlen)
{
	const char *v = NULL;
	const config_setting_t *where;
	if (get_str(ld, g, name, &v, &where))
		return -1;
	if (!v)
		return 0;
	size_t n = strlen(v);
	if (n > max || n + 1 > dstlen || strspn(v, "0123456789") != n)
		return fail(ld, where, "must be a string of at most %zu digits", max);
	memcpy(dst, v, n + 1);
	return 0;
}

/* How callers write numbers (issue 16, item 11); default: no country. */
static int load_phone(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g;
	struct hl_phone_plan *p = &cfg->phone;
	if (get_group(ld, root, "phone", phone_keys, &g))
		return -1;
	if (!g)
		return 0;
	if (get_digits(ld, g, "country_code", 3, p->country_code, sizeof p->country_code) ||
	    get_digits(ld, g, "trunk_prefix", 4, p->trunk_prefix, sizeof p->trunk_prefix) ||
	    get_digits(ld, g, "international_prefix", 4, p->international_prefix, sizeof p->international_prefix))
		return -1;
	if (p->country_code[0] == '0')
		return fail(ld, member(g, "country_code"), "a country calling code does not start with 0");
	if (p->trunk_prefix[0] && p->international_prefix[0] &&
	    strcmp(p->trunk_prefix, p->international_prefix) == 0)
		return fail(ld, member(g, "trunk_prefix"), "must differ from international_prefix");
	return 0;
}

/* A daemon's name among its peers: it goes into application_name, so short and plain. */
static bool valid_cluster_name(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 40)
		return false;
	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

static int load_cluster(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	const config_setting_t *g, *s;
	const char *v = NULL;
	char q[48];
	if (get_group(ld, root, "cluster", cluster_keys, &g))
		return -1;
	if (!g)
		return 0;
	if (get_duration_ms(ld, g, "takeover", 1, 3600, &cfg->cluster.takeover_ms) ||
	    get_int(ld, g, "slots", 1, 4096, &cfg->cluster.slots) || get_str(ld, g, "name", &v, &s))
		return -1;
	if (!s)
		return 0;
	if (!valid_cluster_name(v))
		return fail(ld, s, "bad name '%s' (1 to 40 letters, digits, '-', '_' or '.')", shown(v, q, sizeof q));
	return set_str(ld, s, &cfg->cluster.name, v, false);
}

/* ------------------------------------------------------------ the whole */

static const char *const top_keys[] = {"listen", "database", "sla", "calendars", "repeat_caller", "escalation",
	"alerts", "webhooks", "log", "http", "dns", "phone", "orders", "hotspot", "cluster", "report", NULL};

static int set_defaults(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg)
{
	cfg->listen.unix_mode = 0660;
	cfg->listen.max_line = 65536;
	cfg->listen.max_connections = 1024;
	cfg->listen.idle_timeout_s = 300;
	cfg->listen.max_inflight = 1024;
	cfg->listen.max_output = 8 * MIB;
	cfg->database.batch_max = 1000;
	cfg->database.reconnect_max_s = 30;
	snprintf(cfg->sla.name, sizeof cfg->sla.name, "default");
	cfg->sla.callback_ms = 30LL * MINUTE_S * 1000;
	cfg->sla.update_ms = 24LL * HOUR_S * 1000;
	cfg->sla.resolution_ms = 48LL * HOUR_S * 1000;
	cfg->sla.survey_ms = 0;
	cfg->sla.warn_at = 0.8;
	cfg->repeat.window_ms = 24LL * HOUR_S * 1000;
	cfg->repeat.threshold = 3;
	cfg->escalation.after_ms = 15LL * MINUTE_S * 1000;
	cfg->escalation.max_level = 3;
	cfg->alerts.transfer_limit = 3;
	cfg->alerts.replay_max = 1000;
	cfg->http.max_body = MIB;
	cfg->webhooks.timeout_s = 5;
	cfg->webhooks.max_retries = 5;
	cfg->webhooks.max_pending = 10000;
	cfg->log.level = 6;
	hl_cfgi_order_defaults(cfg);
	cfg->cluster.takeover_ms = 5000;
	cfg->cluster.slots = 64;
	if (set_str(ld, root, &cfg->listen.tcp, "127.0.0.1:7370", true) ||
	    set_str(ld, root, &cfg->listen.unix_path, "/run/hotlined/events.sock", true))
		return -1;
	return 0;
}

/* Walk the parsed tree into a fresh struct; *out is written only on success. */
static int build(const struct ld *ld, const config_t *lc, const char *path, struct hl_config *out)
{
	const config_setting_t *root = config_root_setting(lc);
	struct hl_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.path = strdup(path);
	int rc = -1;
	if (!cfg.path)
		fail_oom(ld, root);
	else if (!check_keys(ld, root, top_keys) && !set_defaults(ld, root, &cfg) &&
		 !load_listen(ld, root, &cfg) && !load_database(ld, root, &cfg) &&
		 !load_calendars(ld, root, &cfg) && !hl_cfgi_load_orders(ld, root, &cfg) &&
		 !load_sla(ld, root, &cfg) && !hl_cfgi_check_spans(ld, root, &cfg) && !load_repeat(ld, root, &cfg) &&
		 !load_escalation(ld, root, &cfg) && !load_alerts(ld, root, &cfg) &&
		 !load_webhooks(ld, root, &cfg) && !load_log(ld, root, &cfg) && !load_http(ld, root, &cfg) &&
		 !load_dns(ld, root, &cfg) && !load_phone(ld, root, &cfg) &&
		 !hl_cfgi_load_hotspot(ld, root, &cfg) && !load_cluster(ld, root, &cfg) &&
		 !hl_cfgi_load_report(ld, root, &cfg))
		rc = 0;
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

const struct hl_calendar *hl_config_calendar(const struct hl_config *cfg, const char *name)
{
	if (!name || !name[0])
		return NULL;
	for (size_t i = 0; i < cfg->n_calendars; i++)
		if (strcmp(cfg->calendars[i].name, name) == 0)
			return &cfg->calendars[i];
	return NULL;
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

const char *hl_config_level_name(int level)
{
	return level >= 0 && level < 8 ? level_names[level] : NULL;
}

int hl_config_level_from_name(const char *name)
{
	return name ? parse_level(name) : -1;
}

/* ---------------------------------------------------------- reloading */

static bool str_differs(const char *a, const char *b)
{
	return (!a != !b) || (a && strcmp(a, b) != 0);
}

static bool strv_differs(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return true;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return true;
	return false;
}

const char *hl_config_restart_key(const struct hl_config *a, const struct hl_config *b)
{
	if (str_differs(a->listen.tcp, b->listen.tcp))
		return "listen.tcp";
	if (str_differs(a->listen.unix_path, b->listen.unix_path))
		return "listen.unix";
	if (a->listen.unix_mode != b->listen.unix_mode)
		return "listen.unix_mode";
	if (str_differs(a->listen.unix_owner, b->listen.unix_owner))
		return "listen.unix_owner";
	if (str_differs(a->listen.unix_group, b->listen.unix_group))
		return "listen.unix_group";
	if (a->listen.max_line != b->listen.max_line)
		return "listen.max_line";
	if (a->listen.max_connections != b->listen.max_connections)
		return "listen.max_connections";
	if (a->listen.idle_timeout_s != b->listen.idle_timeout_s)
		return "listen.idle_timeout";
	if (a->listen.max_inflight != b->listen.max_inflight)
		return "listen.max_inflight";
	if (a->listen.max_output != b->listen.max_output)
		return "listen.max_output";
	if (strv_differs(a->listen.tokens, a->listen.n_tokens, b->listen.tokens, b->listen.n_tokens))
		return "listen.tokens";
	if (str_differs(a->listen.tls_cert, b->listen.tls_cert) || str_differs(a->listen.tls_key, b->listen.tls_key) ||
	    str_differs(a->listen.tls_ca, b->listen.tls_ca))
		return "listen.tls";
	if (str_differs(a->database.conninfo, b->database.conninfo))
		return "database.conninfo";
	if (a->database.batch_max != b->database.batch_max)
		return "database.batch_max";
	if (a->database.reconnect_max_s != b->database.reconnect_max_s)
		return "database.reconnect_max";
	if (str_differs(a->http.listen, b->http.listen))
		return "http.listen";
	if (str_differs(a->dns.nameserver, b->dns.nameserver))
		return "dns.nameserver";
	if (a->http.n_tokens != b->http.n_tokens)
		return "http.tokens";
	for (size_t i = 0; i < a->http.n_tokens; i++)
		if (strcmp(a->http.tokens[i].token, b->http.tokens[i].token) ||
		    strcmp(a->http.tokens[i].name, b->http.tokens[i].name) || a->http.tokens[i].role != b->http.tokens[i].role)
			return "http.tokens";
	if (a->http.max_body != b->http.max_body || a->http.tls != b->http.tls)
		return "http.max_body";
	if (a->cluster.slots != b->cluster.slots)
		return "cluster.slots";
	if (str_differs(a->cluster.name, b->cluster.name))
		return "cluster.name";
	if (a->cluster.takeover_ms != b->cluster.takeover_ms)
		return "cluster.takeover";
	return hl_cfgi_people_restart_key(a, b); /* config_people.c */
}

/* ------------------------------------- for config_orders.c (config_internal.h) */

int hl_cfgi_fail(const struct ld *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(ld, s, fmt, ap);
	va_end(ap);
	return -1;
}

int hl_cfgi_group(const struct ld *ld, const config_setting_t *parent, const char *name,
		  const char *const *known, const config_setting_t **out)
{
	return get_group(ld, parent, name, known, out);
}

int hl_cfgi_span(const struct ld *ld, const config_setting_t *grp, const char *name, int64_t *out)
{
	return get_span_ms(ld, grp, name, SLA_MAX_S, out);
}

int hl_cfgi_duration_ms(const struct ld *ld, const config_setting_t *grp, const char *name, int64_t min_s,
			int64_t max_s, int64_t *out_ms)
{
	return get_duration_ms(ld, grp, name, min_s, max_s, out_ms);
}

int hl_cfgi_int(const struct ld *ld, const config_setting_t *grp, const char *name, int min, int max, int *out)
{
	return get_int(ld, grp, name, min, max, out);
}

int hl_cfgi_str(const struct ld *ld, const config_setting_t *grp, const char *name, const char **out,
		const config_setting_t **where)
{
	return get_str(ld, grp, name, out, where);
}

int hl_cfgi_str_list(const struct ld *ld, const config_setting_t *grp, const char *name,
		     const config_setting_t **out)
{
	return get_str_list(ld, grp, name, out);
}

const char *hl_cfgi_shown(const char *s, char *buf, size_t len)
{
	return shown(s, buf, len);
}
