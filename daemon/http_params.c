/*
 * http_params.c - a request's path and query read strictly (pure: the unit
 * tests link it; include/http_params.h says what each function promises).
 *
 * Design.  evhttp hands the router the path as sent, escapes and all, and
 * its query parser takes a key without "=" as a failure of the whole query
 * and keeps the first of two equal keys.  The router used the raw path (so
 * /v1/cases/%31, which is /v1/cases/1 by RFC 3986 2.1, was "no such path")
 * and read numbers with a scanner that turned anything it could not read
 * into 0 (since=abc was a stream of every open alert).  Here every byte is
 * accounted for: a path is decoded per segment, and what cannot be decoded,
 * or decodes into a "/" or a NUL, is refused rather than routed elsewhere;
 * a parameter is one value or an error, and a number is digits only, in
 * range.
 */
#include <string.h>

#include "hotlined.h"
#include "http_params.h"

/* One escape at s ("%XX"): its octet, or -1. */
static int escape_at(const char *s)
{
	int hi = hl_hex_digit((unsigned char)s[1]), lo = hi >= 0 ? hl_hex_digit((unsigned char)s[2]) : -1;
	return lo >= 0 ? hi * 16 + lo : -1;
}

const char *hl_path_decode(const char *path, char *out)
{
	size_t o = 0;
	for (const char *p = path; *p; p++) {
		if (*p != '%') {
			out[o++] = *p;
			continue;
		}
		int c = escape_at(p);
		if (c < 0)
			return "path: a % not followed by two hex digits";
		if (c == '/')
			return "path: an encoded / (%2F) in a segment";
		if (c == 0)
			return "path: an encoded NUL (%00)";
		out[o++] = (char)c;
		p += 2;
	}
	out[o] = '\0';
	return NULL;
}

/* Decode s[0..len) as a query value into out[cap]; false when it cannot be one. */
static bool query_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (len - i < 3 || (c = escape_at(s + i)) <= 0)
				return false; /* broken, or a NUL */
			i += 2;
		}
		if (o + 1 >= cap)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

enum hl_param hl_query_param(const char *query, const char *name, char *out, size_t cap)
{
	enum hl_param rc = HL_PARAM_ABSENT;
	char key[64];
	if (cap)
		out[0] = '\0';
	for (const char *p = query; p && *p;) {
		size_t n = strcspn(p, "&;"); /* ";" too, as libevent and HTML 4 take it */
		const char *eq = memchr(p, '=', n);
		size_t kl = eq ? (size_t)(eq - p) : n;
		/* a key that does not decode is no key of ours */
		if (query_decode(p, kl, key, sizeof key) && strcmp(key, name) == 0) {
			if (rc != HL_PARAM_ABSENT || !eq || !query_decode(eq + 1, n - kl - 1, out, cap))
				return HL_PARAM_BAD;
			rc = HL_PARAM_OK;
		}
		p += n + (p[n] != '\0');
	}
	return rc;
}

bool hl_parse_count(const char *s, int64_t *v)
{
	int64_t x = 0;
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		int d = *s - '0';
		if (x > (INT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}
