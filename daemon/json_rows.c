/*
 * json_rows.c - rows of a batch's write written straight as JSON text
 * (see include/json_rows.h for why).
 *
 * One buffer that doubles as it fills: a batch's rows are appended key by
 * key, and the array leaves as one malloc'd string, the statement's
 * parameter.  The escaping is json-c's (json_escape_str with
 * JSON_C_TO_STRING_NOSLASHESCAPE): \" \\ \b \f \n \r \t, any other byte
 * below 0x20 as \u00xx in lowercase hex, everything else (UTF-8 included)
 * as it is.  PostgreSQL's own escape_json writes the same, which is what
 * keeps an alert's text equal to hotline.alert_json()'s.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_rows.h"
#include "rules.h" /* hl_xrealloc */

static void reserve(struct jrows *r, size_t more)
{
	if (r->len + more + 1 <= r->cap)
		return;
	size_t cap = r->cap ? r->cap : 1024;
	while (cap < r->len + more + 1)
		cap *= 2;
	r->buf = hl_xrealloc(r->buf, cap);
	r->cap = cap;
}

static void put(struct jrows *r, const char *s, size_t n)
{
	reserve(r, n);
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

static void put_c(struct jrows *r, char c)
{
	reserve(r, 1);
	r->buf[r->len++] = c;
	r->buf[r->len] = '\0';
}

void jrows_init(struct jrows *r)
{
	*r = (struct jrows){ 0 };
}

void jrows_row(struct jrows *r)
{
	put(r, r->n ? ",{" : "[{", 2);
	r->n++;
	r->first_key = true;
}

void jrows_object(struct jrows *r)
{
	put_c(r, '{');
	r->n++;
	r->first_key = true;
}

void jrows_end_row(struct jrows *r)
{
	put_c(r, '}');
}

/* ,"key": */
static void key(struct jrows *r, const char *k)
{
	size_t n = strlen(k);
	reserve(r, n + 4);
	if (!r->first_key)
		r->buf[r->len++] = ',';
	r->first_key = false;
	r->buf[r->len++] = '"';
	memcpy(r->buf + r->len, k, n);
	r->len += n;
	r->buf[r->len++] = '"';
	r->buf[r->len++] = ':';
	r->buf[r->len] = '\0';
}

void jrows_append_string(struct jrows *r, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s);
	/* the common case, nothing to escape, in one copy */
	size_t plain = 0;
	while (plain < n && (unsigned char)s[plain] >= 0x20 && s[plain] != '"' && s[plain] != '\\')
		plain++;
	/* room for the worst case: every byte after the plain run as \u00xx */
	reserve(r, plain + 6 * (n - plain) + 2);
	r->buf[r->len++] = '"';
	memcpy(r->buf + r->len, s, plain);
	r->len += plain;
	for (size_t i = plain; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e = 0;
		switch (c) {
		case '"': e = '"'; break;
		case '\\': e = '\\'; break;
		case '\b': e = 'b'; break;
		case '\f': e = 'f'; break;
		case '\n': e = 'n'; break;
		case '\r': e = 'r'; break;
		case '\t': e = 't'; break;
		default: break;
		}
		if (e) {
			r->buf[r->len++] = '\\';
			r->buf[r->len++] = e;
		} else if (c < 0x20) {
			memcpy(r->buf + r->len, "\\u00", 4);
			r->len += 4;
			r->buf[r->len++] = hex[c >> 4];
			r->buf[r->len++] = hex[c & 0xf];
		} else {
			r->buf[r->len++] = (char)c;
		}
	}
	r->buf[r->len++] = '"';
	r->buf[r->len] = '\0';
}

void jrows_int(struct jrows *r, const char *k, int64_t v)
{
	char b[24];
	key(r, k);
	put(r, b, (size_t)snprintf(b, sizeof b, "%" PRId64, v));
}

void jrows_ms(struct jrows *r, const char *k, int64_t v)
{
	if (v)
		jrows_int(r, k, v);
	else
		jrows_null(r, k);
}

void jrows_str(struct jrows *r, const char *k, const char *s)
{
	if (!s) {
		jrows_null(r, k);
		return;
	}
	key(r, k);
	jrows_append_string(r, s);
}

void jrows_bool(struct jrows *r, const char *k, bool v)
{
	key(r, k);
	put(r, v ? "true" : "false", v ? 4 : 5);
}

void jrows_null(struct jrows *r, const char *k)
{
	key(r, k);
	put(r, "null", 4);
}

void jrows_raw(struct jrows *r, const char *k, const char *json, size_t len)
{
	if (!json) {
		jrows_null(r, k);
		return;
	}
	key(r, k);
	put(r, json, len);
}

char *jrows_take(struct jrows *r)
{
	if (!r->n) {
		jrows_free(r);
		return NULL;
	}
	put_c(r, ']');
	char *s = r->buf;
	jrows_init(r);
	return s;
}

char *jrows_text(struct jrows *r)
{
	char *s = r->buf;
	if (!s) {
		s = hl_xrealloc(NULL, 1);
		s[0] = '\0';
	}
	jrows_init(r);
	return s;
}

void jrows_free(struct jrows *r)
{
	free(r->buf);
	jrows_init(r);
}
