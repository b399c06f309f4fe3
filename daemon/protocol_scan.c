/*
 * protocol_scan.c - step 1 of parsing a request line (pure): a strict RFC
 * 8259 scan of the raw bytes, before json-c sees them.
 *
 * Separate from protocol.c (which turns the parsed tree into a struct
 * hl_event) because it answers a different question: not "is this a valid
 * event" but "will PostgreSQL's jsonb accept these bytes", which json-c alone
 * does not guarantee ('single quoted' strings, NaN, raw control characters,
 * lone surrogate escapes, overlong or surrogate UTF-8, code points above
 * U+10FFFF, numbers beyond PostgreSQL's numeric).  Every accepted line is
 * stored verbatim in case_events.body, so a line we accept must be one
 * PostgreSQL accepts.  The scan also remembers which top-level field holds a
 * string decoding to U+0000 or an out-of-range number, and which key an
 * object names twice, so that the bad_request can name it.  protocol.c's
 * opening comment lists the decisions.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "protocol_internal.h"

/* PostgreSQL numeric limits (src/backend/utils/adt/numeric.c): the exponent
 * of the input, the decimal weight and the display scale. */
#define PG_NUMERIC_EXP_LIMIT (INT_MAX / 2)
#define PG_NUMERIC_DWEIGHT_MAX 131071
#define PG_NUMERIC_DSCALE_MAX 16383

/*
 * Copy at most ECHO_MAX bytes of request text for a message: control
 * characters become '?', a cut never splits a UTF-8 sequence, and "..."
 * marks a cut.  The input is valid UTF-8 (the scan checked it).
 */
void hl_proto_echo_text(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t n = len;
	bool cut = false;
	if (n > ECHO_MAX) {
		n = ECHO_MAX;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
		cut = true;
	}
	if (n + 4 > dstlen)
		n = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[o++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
	}
	if (cut && o + 4 <= dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* ------------------------------------------------- step 1: strict scan */


static bool scan_value(struct hl_scan *sc);

static bool scan_fail(struct hl_scan *sc, const char *why)
{
	if (!sc->why)
		sc->why = why;
	return false;
}

/* A structural token was expected: say so, or that the line ended first. */
static bool scan_expected(struct hl_scan *sc, const char *why)
{
	return scan_fail(sc, sc->p >= sc->end ? "unexpected end of line" : why);
}

static void skip_ws(struct hl_scan *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
}

static void note_nul(struct hl_scan *sc, const unsigned char *field, size_t len)
{
	if (sc->nul)
		return;
	sc->nul = true;
	if (len == 0) {
		strcpy(sc->nul_field, "\"\"");
		return;
	}
	hl_proto_echo_text(sc->nul_field, sizeof sc->nul_field, (const char *)field, len);
}

/* "\uXXXX" at sc->p -> the code unit, or -1. */
static long scan_u_escape(struct hl_scan *sc)
{
	if (sc->end - sc->p < 6 || sc->p[0] != '\\' || sc->p[1] != 'u')
		return -1;
	long v = 0;
	for (int i = 2; i < 6; i++) {
		int h = hl_hex_digit(sc->p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	sc->p += 6;
	return v;
}

/* A backslash escape; surrogates must come as a high-low pair. */
static bool scan_escape(struct hl_scan *sc, bool *has_nul)
{
	if (sc->end - sc->p < 2)
		return scan_fail(sc, "unterminated string");
	if (sc->p[1] != '\0' && strchr("\"\\/bfnrt", sc->p[1])) {
		sc->p += 2;
		return true;
	}
	if (sc->p[1] != 'u')
		return scan_fail(sc, "invalid escape in string");
	long u = scan_u_escape(sc);
	if (u < 0)
		return scan_fail(sc, "invalid \\u escape in string");
	if (u == 0)
		*has_nul = true;
	if (u >= 0xDC00 && u <= 0xDFFF)
		return scan_fail(sc, "unpaired surrogate in \\u escape");
	if (u >= 0xD800 && u <= 0xDBFF) {
		long lo = scan_u_escape(sc);
		if (lo < 0xDC00 || lo > 0xDFFF)
			return scan_fail(sc, "unpaired surrogate in \\u escape");
	}
	return true;
}

/*
 * One multi-byte UTF-8 sequence, strictly (RFC 3629): no overlong forms, no
 * surrogates, nothing above U+10FFFF.
 */
static bool scan_utf8(struct hl_scan *sc)
{
	const unsigned char *p = sc->p;
	unsigned char c = p[0];
	int n;
	unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
	if (c >= 0xC2 && c <= 0xDF)
		n = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 2;
		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 3;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
	} else
		return scan_fail(sc, "invalid UTF-8");
	if (sc->end - p <= n)
		return scan_fail(sc, "invalid UTF-8");
	if (p[1] < lo || p[1] > hi)
		return scan_fail(sc, "invalid UTF-8");
	for (int i = 2; i <= n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return scan_fail(sc, "invalid UTF-8");
	sc->p += n + 1;
	return true;
}

/* A string at sc->p (on its opening quote). */
static bool scan_string(struct hl_scan *sc, bool *has_nul)
{
	*has_nul = false;
	sc->p++;
	while (sc->p < sc->end) {
		unsigned char c = *sc->p;
		if (c == '"') {
			sc->p++;
			return true;
		}
		if (c < 0x20)
			return scan_fail(sc, "control character in string");
		if (c == '\\') {
			if (!scan_escape(sc, has_nul))
				return false;
		} else if (c < 0x80) {
			sc->p++;
		} else if (!scan_utf8(sc)) {
			return false;
		}
	}
	return scan_fail(sc, "unterminated string");
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static bool scan_digits(struct hl_scan *sc)
{
	if (sc->p >= sc->end || !is_digit(*sc->p))
		return scan_fail(sc, "invalid number");
	while (sc->p < sc->end && is_digit(*sc->p))
		sc->p++;
	return true;
}

/* The top-level field of a number PostgreSQL cannot store (first one wins). */
static void note_bignum(struct hl_scan *sc)
{
	if (sc->bignum)
		return;
	sc->bignum = true;
	if (sc->depth == 0 || sc->key_len == 0)
		strcpy(sc->bignum_field, "\"\"");
	else
		hl_proto_echo_text(sc->bignum_field, sizeof sc->bignum_field, (const char *)sc->key, sc->key_len);
}

/*
 * Would PostgreSQL's numeric_in take this number?  Mirrors set_var_from_str
 * and make_result (PostgreSQL 15): the exponent must lie strictly within
 * +-INT_MAX/2; the display scale (digits after the point, exponent applied,
 * at least 0) at most 16383, even for zero; and for a non-zero value the
 * decimal weight (position of the first significant digit, 0 = units) at
 * most 131071 (base-10000 weight 32767).  `first_nz` is that position
 * before the exponent, or INT_MIN when every digit is zero.
 */
static bool numeric_fits(size_t frac_digits, long long first_nz, long long exponent)
{
	if (exponent >= PG_NUMERIC_EXP_LIMIT || exponent <= -PG_NUMERIC_EXP_LIMIT)
		return false;
	long long scale = (long long)frac_digits - exponent;
	if (scale > PG_NUMERIC_DSCALE_MAX)
		return false;
	return first_nz == LLONG_MIN || first_nz + exponent <= PG_NUMERIC_DWEIGHT_MAX;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? ; what follows is the caller's business */
static bool scan_number(struct hl_scan *sc)
{
	const unsigned char *mark;
	size_t frac_digits = 0;
	long long first_nz = LLONG_MIN, exponent = 0;
	if (*sc->p == '-')
		sc->p++;
	if (sc->p < sc->end && *sc->p == '0')
		sc->p++;
	else {
		mark = sc->p;
		if (!scan_digits(sc))
			return false;
		first_nz = (long long)(sc->p - mark) - 1; /* no leading zeros in JSON */
	}
	if (sc->p < sc->end && *sc->p == '.') {
		sc->p++;
		mark = sc->p;
		if (!scan_digits(sc))
			return false;
		frac_digits = (size_t)(sc->p - mark);
		for (const unsigned char *d = mark; first_nz == LLONG_MIN && d < sc->p; d++)
			if (*d != '0')
				first_nz = -(long long)(d - mark) - 1;
	}
	if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
		sc->p++;
		int sign = 1;
		if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
			sign = *sc->p++ == '-' ? -1 : 1;
		mark = sc->p;
		if (!scan_digits(sc))
			return false;
		for (const unsigned char *d = mark; d < sc->p; d++)
			if (exponent <= PG_NUMERIC_EXP_LIMIT) /* saturate: anything this big is refused anyway */
				exponent = exponent * 10 + (*d - '0');
		exponent *= sign;
	}
	if (!numeric_fits(frac_digits, first_nz, exponent))
		note_bignum(sc);
	return true;
}

static bool scan_literal(struct hl_scan *sc, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
		return scan_fail(sc, "unexpected character");
	sc->p += n;
	return true;
}

/* ------------------------------------------- keys an object names twice */

/*
 * Duplicate members are refused (protocol.c's opening comment says why).
 * Keys are compared as they decode: "a" and "\u0061" are one key.  Each
 * object's keys are pushed on sc->keys while it is scanned and checked when
 * it closes: pairwise for a few plain keys, else decoded and sorted, so a
 * line of 20,000 members costs a sort, not 2 * 10^8 comparisons.
 */

static unsigned long hex4(const unsigned char *s)
{
	unsigned long v = 0;
	for (int i = 0; i < 4; i++)
		v = v * 16 + (unsigned long)hl_hex_digit(s[i]);
	return v;
}

/* The decoded bytes of a key's raw text (already scanned: escapes valid).
 * Never longer than the raw text. */
static size_t decode_key(const unsigned char *s, size_t len, unsigned char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		if (s[i] != '\\') {
			out[o++] = s[i++];
			continue;
		}
		unsigned char e = s[i + 1];
		if (e != 'u') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			out[o++] = (unsigned char)to[strchr(from, e) - from];
			i += 2;
			continue;
		}
		unsigned long u = hex4(s + i + 2);
		i += 6;
		if (u >= 0xD800 && u <= 0xDBFF) {
			unsigned long lo = hex4(s + i + 2);
			i += 6;
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
		}
		if (u < 0x80)
			out[o++] = (unsigned char)u;
		else if (u < 0x800) {
			out[o++] = (unsigned char)(0xC0 | (u >> 6));
			out[o++] = (unsigned char)(0x80 | (u & 0x3F));
		} else if (u < 0x10000) {
			out[o++] = (unsigned char)(0xE0 | (u >> 12));
			out[o++] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
			out[o++] = (unsigned char)(0x80 | (u & 0x3F));
		} else {
			out[o++] = (unsigned char)(0xF0 | (u >> 18));
			out[o++] = (unsigned char)(0x80 | ((u >> 12) & 0x3F));
			out[o++] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
			out[o++] = (unsigned char)(0x80 | (u & 0x3F));
		}
	}
	return o;
}

struct dkey {
	const unsigned char *s;
	size_t len, order;
};

static int dkey_cmp(const void *a, const void *b)
{
	const struct dkey *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);
	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void note_dup(struct hl_scan *sc, const unsigned char *key, size_t len)
{
	sc->dup = true;
	sc->dup_nested = sc->depth > 1;
	if (sc->dup_nested) {
		key = sc->key;
		len = sc->key_len;
	}
	if (len == 0)
		strcpy(sc->dup_field, "\"\"");
	else
		hl_proto_echo_text(sc->dup_field, sizeof sc->dup_field, (const char *)key, len);
}

/* Remember a key of the object being scanned. */
static bool push_key(struct hl_scan *sc, const unsigned char *k, size_t len)
{
	if (sc->nkeys == sc->keys_cap) {
		size_t cap = sc->keys_cap ? sc->keys_cap * 2 : 32;
		struct hl_scan_key *nk = realloc(sc->keys, cap * sizeof *nk);
		if (!nk)
			return scan_fail(sc, "out of memory");
		sc->keys = nk;
		sc->keys_cap = cap;
	}
	sc->keys[sc->nkeys++] = (struct hl_scan_key){ k, len };
	return true;
}

/* The object whose keys are sc->keys[base..] closes: does one repeat? */
static bool check_keys(struct hl_scan *sc, size_t base)
{
	const struct hl_scan_key *k = sc->keys + base;
	size_t n = sc->nkeys - base, raw = 0;
	bool escaped = false;
	sc->nkeys = base;
	if (n < 2 || sc->dup) /* the first duplicate found is the one named */
		return true;
	for (size_t i = 0; i < n; i++) {
		escaped = escaped || memchr(k[i].p, '\\', k[i].len);
		raw += k[i].len;
	}
	if (!escaped && n <= 16) {
		for (size_t j = 1; j < n; j++)
			for (size_t i = 0; i < j; i++)
				if (k[i].len == k[j].len && memcmp(k[i].p, k[j].p, k[j].len) == 0) {
					note_dup(sc, k[j].p, k[j].len);
					return true;
				}
		return true;
	}
	struct dkey *d = malloc(n * sizeof *d);
	unsigned char *buf = escaped ? malloc(raw + 1) : NULL;
	if (!d || (escaped && !buf)) {
		free(d);
		free(buf);
		return scan_fail(sc, "out of memory");
	}
	for (size_t i = 0, o = 0; i < n; i++) {
		if (escaped) {
			d[i] = (struct dkey){ buf + o, decode_key(k[i].p, k[i].len, buf + o), i };
			o += d[i].len;
		} else
			d[i] = (struct dkey){ k[i].p, k[i].len, i };
	}
	qsort(d, n, sizeof *d, dkey_cmp);
	const struct dkey *first = NULL; /* the repeat that comes first in the text */
	for (size_t i = 1; i < n; i++)
		if (d[i].len == d[i - 1].len && memcmp(d[i].s, d[i - 1].s, d[i].len) == 0 &&
		    (!first || d[i].order < first->order))
			first = &d[i];
	if (first)
		note_dup(sc, first->s, first->len);
	free(buf);
	free(d);
	return true;
}

static bool scan_object(struct hl_scan *sc)
{
	if (++sc->depth > JSON_MAX_DEPTH)
		return scan_fail(sc, "nesting too deep");
	sc->p++;
	skip_ws(sc);
	if (sc->p < sc->end && *sc->p == '}') {
		sc->p++;
		sc->depth--;
		return true;
	}
	size_t base = sc->nkeys;
	for (;;) {
		if (sc->p >= sc->end || *sc->p != '"')
			return scan_expected(sc, "expected a string key");
		const unsigned char *k = sc->p + 1;
		bool has_nul;
		if (!scan_string(sc, &has_nul))
			return false;
		if (!push_key(sc, k, (size_t)(sc->p - 1 - k)))
			return false;
		if (sc->depth == 1) {
			sc->key = k;
			sc->key_len = (size_t)(sc->p - 1 - k);
		}
		if (has_nul) /* a key with U+0000: name the top-level key it is or is under */
			note_nul(sc, sc->key, sc->key_len);
		skip_ws(sc);
		if (sc->p >= sc->end || *sc->p != ':')
			return scan_expected(sc, "expected ':'");
		sc->p++;
		if (!scan_value(sc))
			return false;
		skip_ws(sc);
		if (sc->p < sc->end && *sc->p == ',') {
			sc->p++;
			skip_ws(sc);
			continue;
		}
		if (sc->p < sc->end && *sc->p == '}') {
			sc->p++;
			if (!check_keys(sc, base))
				return false;
			sc->depth--;
			return true;
		}
		return scan_expected(sc, "expected ',' or '}'");
	}
}

static bool scan_array(struct hl_scan *sc)
{
	if (++sc->depth > JSON_MAX_DEPTH)
		return scan_fail(sc, "nesting too deep");
	sc->p++;
	skip_ws(sc);
	if (sc->p < sc->end && *sc->p == ']') {
		sc->p++;
		sc->depth--;
		return true;
	}
	for (;;) {
		if (!scan_value(sc))
			return false;
		skip_ws(sc);
		if (sc->p < sc->end && *sc->p == ',') {
			sc->p++;
			continue;
		}
		if (sc->p < sc->end && *sc->p == ']') {
			sc->p++;
			sc->depth--;
			return true;
		}
		return scan_expected(sc, "expected ',' or ']'");
	}
}

static bool scan_value(struct hl_scan *sc)
{
	skip_ws(sc);
	if (sc->p >= sc->end)
		return scan_fail(sc, "unexpected end of line");
	switch (*sc->p) {
	case '{':
		return scan_object(sc);
	case '[':
		return scan_array(sc);
	case '"': {
		bool has_nul;
		if (!scan_string(sc, &has_nul))
			return false;
		if (has_nul)
			note_nul(sc, sc->key, sc->key_len);
		return true;
	}
	case 't':
		return scan_literal(sc, "true");
	case 'f':
		return scan_literal(sc, "false");
	case 'n':
		return scan_literal(sc, "null");
	default:
		if (*sc->p == '-' || is_digit(*sc->p))
			return scan_number(sc);
		return scan_fail(sc, "unexpected character");
	}
}

/* The whole line: one object, whitespace around it, nothing else. */
bool hl_scan_line(struct hl_scan *sc, const char *line, size_t len)
{
	memset(sc, 0, sizeof *sc);
	sc->start = sc->p = (const unsigned char *)line;
	sc->end = sc->p + len;
	skip_ws(sc);
	if (sc->p >= sc->end || *sc->p != '{')
		return scan_fail(sc, "the request must be a JSON object");
	bool ok = scan_object(sc);
	free(sc->keys);
	sc->keys = NULL;
	sc->nkeys = sc->keys_cap = 0;
	if (!ok)
		return false;
	skip_ws(sc);
	if (sc->p != sc->end)
		return scan_fail(sc, "trailing characters after the object");
	return true;
}

/* One object over any number of lines (protocol.h).  The scan's whitespace
 * includes \n and \r, and JSON strings cannot hold them raw, so a text that
 * scans is one object however it is broken into lines. */
bool hl_is_one_json_object(const char *text, size_t len)
{
	struct hl_scan sc;
	return hl_scan_line(&sc, text, len);
}
