/*
 * protocol.c - the wire format: one JSON line in, a validated struct
 * hl_event out; reply and push lines out.  Pure: no I/O, no global state.
 *
 * Parsing a request happens in four steps:
 *
 *   1. A strict RFC 8259 scan of the raw bytes (scan_*).  json-c, even with
 *      JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8, accepts things that
 *      are not JSON and that PostgreSQL's jsonb refuses: 'single quoted'
 *      strings, NaN and Infinity, raw control characters in strings, lone
 *      \uD800 surrogate escapes (silently replaced), overlong and surrogate
 *      UTF-8 sequences, code points above U+10FFFF.  Every accepted line is
 *      stored verbatim in case_events.body, so a line we accept must be one
 *      PostgreSQL accepts; the scan guarantees it.  It also finds strings that
 *      decode to something containing U+0000 (\u0000), which jsonb rejects too,
 *      and remembers which top-level field they are in.
 *   2. json-c builds the tree (json_tokener_new_ex, STRICT | VALIDATE_UTF8).
 *   3. "id" and "type" are checked, then every field the type uses, in a
 *      fixed order, from a table (fields[], shapes[]).  Fields a type does not
 *      use, and unknown fields, are ignored here and kept in the stored line
 *      (forward compatibility).  A JSON null counts as absent.
 *   4. The line is copied into ev->line.
 *
 * Decisions worth knowing (also in the tests):
 *   - The caller strips the '\n'; a single trailing '\r' is tolerated and not
 *     stored.  Whitespace around the object is allowed.  A UTF-8 BOM is not.
 *   - Duplicate keys: the last one wins, as in json-c and in jsonb, so what we
 *     act on is what psql shows in body.
 *   - Integers (case_id, alert_id, since, score) must be JSON integers: 42,
 *     not "42", 42.0 or 4.2e1.  Values outside int64 are rejected.
 *   - Length limits count characters (Unicode code points of the valid
 *     UTF-8), as the contract says, never bytes: id and identifiers (call_id,
 *     agent, outcome, department, by) 1..128 characters with no control
 *     characters (C0, DEL, C1); free text (queue, category, priority,
 *     summary, note, reason, resolution) at most 4096 characters; token
 *     1..4096 characters, no control characters.  (Counting bytes refused 43
 *     Chinese characters as "more than 128 characters".)
 *   - Every number must be one PostgreSQL's numeric (and so jsonb) can hold:
 *     at most 16383 digits after the point and a first significant digit at
 *     most 131071 places before it, once the exponent is applied.  A number beyond that
 *     ("x":1e999999), in any field and at any depth, is a bad_request naming
 *     the top-level field.  Otherwise PostgreSQL refuses the whole batch
 *     the line lands in, long after it was parsed.
 *   - `at` must lie between 2000-01-01T00:00:00Z and one day after the time
 *     of receipt (HL_AT_MIN_MS, HL_AT_FUTURE_MS): earlier instants are not
 *     plausible call times (and 1970-01-01T00:00:00Z is 0, which the rules
 *     read as "never"), later ones would arm clocks that never fire.
 *   - The message of a bad_request names the field first: "caller: missing".
 *     It never contains a phone number, and echoes at most a short,
 *     sanitized piece of the request (the unknown type name).
 *
 * Replies are built with json-c (quoting is then always right), printed with
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, one line, "\n".
 */
#include "protocol.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 32   /* objects/arrays nested deeper are refused */
#define IDENT_MAX 128       /* id, call_id, agent, ... */
#define TEXT_MAX 4096       /* notes, summaries, tokens */
#define ECHO_MAX 48         /* bytes of request text echoed in a message */
/* PostgreSQL numeric limits (src/backend/utils/adt/numeric.c): the exponent
 * of the input, the decimal weight and the display scale. */
#define PG_NUMERIC_EXP_LIMIT (INT_MAX / 2)
#define PG_NUMERIC_DWEIGHT_MAX 131071
#define PG_NUMERIC_DSCALE_MAX 16383
#define PRINT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* ------------------------------------------------------------ messages */

static enum hl_err fail(struct hl_error *err, enum hl_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum hl_err fail(struct hl_error *err, enum hl_err code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	err->code = code;
	return code;
}

/*
 * Copy at most ECHO_MAX bytes of request text for a message: control
 * characters become '?', a cut never splits a UTF-8 sequence, and "..."
 * marks a cut.  The input is valid UTF-8 (the scan checked it).
 */
static void echo_text(char *dst, size_t dstlen, const char *src, size_t len)
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

struct scan {
	const unsigned char *p, *end, *start;
	int depth;
	const char *why;               /* first syntax error, NULL while fine */
	const unsigned char *key;      /* raw text of the current top-level key */
	size_t key_len;
	bool nul;                      /* a string decodes to one containing U+0000 */
	char nul_field[ECHO_MAX + 4];  /* the top-level key it is under (raw) */
	bool bignum;                   /* a number PostgreSQL's numeric cannot hold */
	char bignum_field[ECHO_MAX + 4];
};

static bool scan_value(struct scan *sc);

static bool scan_fail(struct scan *sc, const char *why)
{
	if (!sc->why)
		sc->why = why;
	return false;
}

/* A structural token was expected: say so, or that the line ended first. */
static bool scan_expected(struct scan *sc, const char *why)
{
	return scan_fail(sc, sc->p >= sc->end ? "unexpected end of line" : why);
}

static void skip_ws(struct scan *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
}

static void note_nul(struct scan *sc, const unsigned char *field, size_t len)
{
	if (sc->nul)
		return;
	sc->nul = true;
	if (len == 0) {
		strcpy(sc->nul_field, "\"\"");
		return;
	}
	echo_text(sc->nul_field, sizeof sc->nul_field, (const char *)field, len);
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "\uXXXX" at sc->p -> the code unit, or -1. */
static long scan_u_escape(struct scan *sc)
{
	if (sc->end - sc->p < 6 || sc->p[0] != '\\' || sc->p[1] != 'u')
		return -1;
	long v = 0;
	for (int i = 2; i < 6; i++) {
		int h = hex_value(sc->p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	sc->p += 6;
	return v;
}

/* A backslash escape; surrogates must come as a high-low pair. */
static bool scan_escape(struct scan *sc, bool *has_nul)
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
static bool scan_utf8(struct scan *sc)
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
static bool scan_string(struct scan *sc, bool *has_nul)
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

static bool scan_digits(struct scan *sc)
{
	if (sc->p >= sc->end || !is_digit(*sc->p))
		return scan_fail(sc, "invalid number");
	while (sc->p < sc->end && is_digit(*sc->p))
		sc->p++;
	return true;
}

/* The top-level field of a number PostgreSQL cannot store (first one wins). */
static void note_bignum(struct scan *sc)
{
	if (sc->bignum)
		return;
	sc->bignum = true;
	if (sc->depth == 0 || sc->key_len == 0)
		strcpy(sc->bignum_field, "\"\"");
	else
		echo_text(sc->bignum_field, sizeof sc->bignum_field, (const char *)sc->key, sc->key_len);
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
static bool scan_number(struct scan *sc)
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

static bool scan_literal(struct scan *sc, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
		return scan_fail(sc, "unexpected character");
	sc->p += n;
	return true;
}

static bool scan_object(struct scan *sc)
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
	for (;;) {
		if (sc->p >= sc->end || *sc->p != '"')
			return scan_expected(sc, "expected a string key");
		const unsigned char *k = sc->p + 1;
		bool has_nul;
		if (!scan_string(sc, &has_nul))
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
			sc->depth--;
			return true;
		}
		return scan_expected(sc, "expected ',' or '}'");
	}
}

static bool scan_array(struct scan *sc)
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

static bool scan_value(struct scan *sc)
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
static bool scan_line(struct scan *sc, const char *line, size_t len)
{
	memset(sc, 0, sizeof *sc);
	sc->start = sc->p = (const unsigned char *)line;
	sc->end = sc->p + len;
	skip_ws(sc);
	if (sc->p >= sc->end || *sc->p != '{')
		return scan_fail(sc, "the request must be a JSON object");
	if (!scan_object(sc))
		return false;
	skip_ws(sc);
	if (sc->p != sc->end)
		return scan_fail(sc, "trailing characters after the object");
	return true;
}

/* ------------------------------------------------- step 3: the fields */

enum kind {
	K_IDENT,  /* string 1..128 bytes, no control characters */
	K_TEXT,   /* string 0..4096 bytes */
	K_SECRET, /* string 1..4096 bytes, no control characters */
	K_PHONE,  /* string, normalized into ev->caller */
	K_POSINT, /* integer >= 1 */
	K_NONNEG, /* integer >= 0 */
	K_SCORE,  /* integer 1..5 */
	K_BOOL,   /* true/false into an int */
	K_RESULT, /* reached|no_answer|busy|failed */
	K_TIME,   /* an RFC 3339 timestamp, kept as the string (order.extend until) */
};

enum field_id {
	F_CALL_ID, F_CALLER, F_AGENT, F_OUTCOME, F_RESULT, F_CASE_ID, F_DEPARTMENT,
	F_SCORE, F_ALERT_ID, F_BY, F_SINCE, F_TOKEN,
	F_QUEUE, F_CATEGORY, F_PRIORITY, F_SUMMARY, F_NOTE, F_REASON, F_RESOLUTION,
	F_CALLER_INFORMED, F_CONFIDENTIAL,
	F_ORDER_ID, F_ORDER_RESULT, F_INTO, F_DUE, F_UNTIL, F_AREA,
	F__COUNT
};

struct field {
	const char *name;
	enum kind kind;
	size_t off; /* where in struct hl_event */
};

#define EV(m) offsetof(struct hl_event, m)

/* Checked in this order: required fields first, so "X: missing" comes early. */
static const struct field fields[F__COUNT] = {
	[F_CALL_ID] = { "call_id", K_IDENT, EV(call_id) },
	[F_CALLER] = { "caller", K_PHONE, EV(caller) },
	[F_AGENT] = { "agent", K_IDENT, EV(agent) },
	[F_OUTCOME] = { "outcome", K_IDENT, EV(outcome) },
	[F_RESULT] = { "result", K_RESULT, EV(result) },
	[F_CASE_ID] = { "case_id", K_POSINT, EV(case_id) },
	[F_DEPARTMENT] = { "department", K_IDENT, EV(department) },
	[F_SCORE] = { "score", K_SCORE, EV(score) },
	[F_ALERT_ID] = { "alert_id", K_POSINT, EV(alert_id) },
	[F_BY] = { "by", K_IDENT, EV(by) },
	[F_SINCE] = { "since", K_NONNEG, EV(since) },
	[F_TOKEN] = { "token", K_SECRET, EV(token) },
	[F_QUEUE] = { "queue", K_TEXT, EV(queue) },
	[F_CATEGORY] = { "category", K_TEXT, EV(category) },
	[F_PRIORITY] = { "priority", K_TEXT, EV(priority) },
	[F_SUMMARY] = { "summary", K_TEXT, EV(summary) },
	[F_NOTE] = { "note", K_TEXT, EV(note) },
	[F_REASON] = { "reason", K_TEXT, EV(reason) },
	[F_RESOLUTION] = { "resolution", K_TEXT, EV(resolution) },
	[F_CALLER_INFORMED] = { "caller_informed", K_BOOL, EV(caller_informed) },
	[F_CONFIDENTIAL] = { "confidential", K_BOOL, EV(confidential) },
	[F_ORDER_ID] = { "order_id", K_IDENT, EV(order_id) },
	[F_ORDER_RESULT] = { "result", K_IDENT, EV(result) }, /* order.reply: checked by the order rules */
	[F_INTO] = { "into", K_POSINT, EV(into) },
	[F_DUE] = { "due", K_IDENT, EV(due) },
	[F_UNTIL] = { "until", K_TIME, EV(until) },
	[F_AREA] = { "area", K_TEXT, EV(area) },
};

#define B(f) (UINT32_C(1) << (f))

/* Which fields each type requires and which it may carry (CONTRACT.md 3). */
struct shape {
	uint32_t req, opt;
};

static const struct shape shapes[HL_T__COUNT] = {
	[HL_EV_CALL_OFFERED] = { B(F_CALL_ID) | B(F_CALLER), B(F_QUEUE) | B(F_CONFIDENTIAL) },
	[HL_EV_CALL_ANSWERED] = { B(F_CALL_ID) | B(F_AGENT), B(F_QUEUE) | B(F_CONFIDENTIAL) },
	[HL_EV_CALL_ABANDONED] = { B(F_CALL_ID), B(F_CALLER) | B(F_QUEUE) | B(F_CONFIDENTIAL) },
	[HL_EV_VOICEMAIL_LEFT] = { B(F_CALL_ID), B(F_CALLER) | B(F_QUEUE) | B(F_CONFIDENTIAL) },
	[HL_EV_CALL_ENDED] = { B(F_CALL_ID) | B(F_OUTCOME),
	                       B(F_AGENT) | B(F_CATEGORY) | B(F_PRIORITY) | B(F_SUMMARY) | B(F_AREA) | B(F_CONFIDENTIAL) },
	[HL_EV_CALLBACK_ATTEMPT] = { B(F_CASE_ID) | B(F_RESULT), B(F_AGENT) | B(F_CALL_ID) | B(F_NOTE) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_UPDATE] = { B(F_CASE_ID), B(F_NOTE) | B(F_AGENT) | B(F_CALLER_INFORMED) |
	                                      B(F_CATEGORY) | B(F_PRIORITY) | B(F_SUMMARY) | B(F_AREA) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_TRANSFER] = { B(F_CASE_ID) | B(F_DEPARTMENT), B(F_REASON) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_RESOLVE] = { B(F_CASE_ID), B(F_RESOLUTION) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_CLOSE] = { B(F_CASE_ID), B(F_REASON) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_REOPEN] = { B(F_CASE_ID), B(F_REASON) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_HOLD] = { B(F_CASE_ID), B(F_REASON) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_RESUME] = { B(F_CASE_ID), B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_SURVEY_RESULT] = { B(F_CASE_ID) | B(F_SCORE), B(F_NOTE) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_CMD_PING] = { 0, 0 },
	[HL_CMD_CASE_GET] = { B(F_CASE_ID), 0 },
	[HL_CMD_SUBSCRIBE] = { 0, B(F_SINCE) },
	[HL_CMD_ALERT_ACK] = { B(F_ALERT_ID), B(F_BY) }, /* by: conn.c defaults it to the token's name, else requires it */
	[HL_CMD_STATS] = { 0, 0 },
	[HL_CMD_AUTH] = { B(F_TOKEN), 0 },
	[HL_EV_ORDER_DISPATCH] = { B(F_CASE_ID) | B(F_DEPARTMENT),
	                           B(F_ORDER_ID) | B(F_DUE) | B(F_CATEGORY) | B(F_AREA) | B(F_NOTE) | B(F_AGENT) },
	[HL_EV_ORDER_SIGN] = { B(F_ORDER_ID), B(F_BY) | B(F_NOTE) },
	[HL_EV_ORDER_RETURN] = { B(F_ORDER_ID) | B(F_REASON), B(F_BY) },
	[HL_EV_ORDER_EXTEND] = { B(F_ORDER_ID) | B(F_REASON), B(F_UNTIL) | B(F_BY) },
	[HL_EV_ORDER_EXTEND_APPROVE] = { B(F_ORDER_ID), B(F_BY) | B(F_NOTE) },
	[HL_EV_ORDER_EXTEND_REJECT] = { B(F_ORDER_ID), B(F_REASON) | B(F_BY) },
	[HL_EV_ORDER_REPLY] = { B(F_ORDER_ID) | B(F_ORDER_RESULT), B(F_NOTE) | B(F_BY) },
	[HL_EV_CASE_MERGE] = { B(F_CASE_ID) | B(F_INTO), B(F_REASON) | B(F_AGENT) },
};

/* The member, absent when missing or JSON null. */
static struct json_object *member(struct json_object *o, const char *name)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, name, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

/* C0 controls, DEL and C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F). */
static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F)
			return true;
		if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9F)
			return true;
	}
	return false;
}

/* Characters (code points) of valid UTF-8: every byte that does not continue a sequence. */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

/* A string of [min, max] characters, optionally free of control characters. */
static bool string_ok(struct json_object *v, size_t min, size_t max, bool plain)
{
	if (!json_object_is_type(v, json_type_string))
		return false;
	size_t len = (size_t)json_object_get_string_len(v);
	const char *s = json_object_get_string(v);
	if (len < min || memchr(s, '\0', len))
		return false;
	if (len > max && utf8_chars(s, len) > max) /* bytes >= characters: count only when needed */
		return false;
	return !plain || !has_control(s, len);
}

/* A JSON integer that fits in an int64 (json-c saturates what does not). */
static bool int_ok(struct json_object *v, int64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return false;
	int64_t x = json_object_get_int64(v);
	if (x == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX)
		return false;
	if (x == INT64_MIN)
		return false; /* may be saturated; never a valid value for us anyway */
	*out = x;
	return true;
}

static enum hl_err take_string(struct json_object *v, const struct field *f, struct hl_event *ev,
                               struct hl_error *err)
{
	const char *why;
	bool ok;
	switch (f->kind) {
	case K_IDENT:
		ok = string_ok(v, 1, IDENT_MAX, true);
		why = "must be a string of 1..128 characters";
		break;
	case K_SECRET:
		ok = string_ok(v, 1, TEXT_MAX, true);
		why = "must be a string of 1..4096 characters";
		break;
	default:
		ok = string_ok(v, 0, TEXT_MAX, false);
		why = "must be a string of at most 4096 characters";
		break;
	}
	if (!ok)
		return fail(err, HL_E_BAD_REQUEST, "%s: %s", f->name, why);
	char *copy = strdup(json_object_get_string(v));
	if (!copy)
		return fail(err, HL_E_INTERNAL, "%s: out of memory", f->name);
	*(char **)((char *)ev + f->off) = copy;
	return HL_OK;
}

static enum hl_err take_result(struct json_object *v, const struct field *f, struct hl_event *ev,
                               struct hl_error *err)
{
	static const char *const results[] = { "reached", "no_answer", "busy", "failed" };
	if (json_object_is_type(v, json_type_string))
		for (size_t i = 0; i < sizeof results / sizeof results[0]; i++)
			if (strcmp(json_object_get_string(v), results[i]) == 0 &&
			    (size_t)json_object_get_string_len(v) == strlen(results[i]))
				return take_string(v, &(struct field){ f->name, K_IDENT, f->off }, ev, err);
	return fail(err, HL_E_BAD_REQUEST, "%s: must be one of reached, no_answer, busy, failed", f->name);
}

static enum hl_err take_field(struct json_object *v, const struct field *f, struct hl_event *ev,
                              struct hl_error *err)
{
	void *dst = (char *)ev + f->off;
	int64_t n = 0;
	switch (f->kind) {
	case K_IDENT:
	case K_TEXT:
	case K_SECRET:
		return take_string(v, f, ev, err);
	case K_RESULT:
		return take_result(v, f, ev, err);
	case K_TIME: {
		hl_ms t;
		if (!string_ok(v, 1, 64, true) || hl_parse_time(json_object_get_string(v), &t) != 0)
			return fail(err, HL_E_BAD_REQUEST, "%s: must be an RFC 3339 timestamp with an offset or Z", f->name);
		return take_string(v, &(struct field){ f->name, K_IDENT, f->off }, ev, err);
	}
	case K_PHONE:
		if (!string_ok(v, 1, TEXT_MAX, true) ||
		    hl_phone_normalize(json_object_get_string(v), dst, HL_PHONE_MAX) != 0)
			return fail(err, HL_E_BAD_REQUEST,
			            "%s: must be a phone number: digits with an optional leading '+', 3 to 20 digits",
			            f->name);
		return HL_OK;
	case K_POSINT:
		if (!int_ok(v, &n) || n < 1)
			return fail(err, HL_E_BAD_REQUEST, "%s: must be a positive integer", f->name);
		*(int64_t *)dst = n;
		return HL_OK;
	case K_NONNEG:
		if (!int_ok(v, &n) || n < 0)
			return fail(err, HL_E_BAD_REQUEST, "%s: must be an integer >= 0", f->name);
		*(int64_t *)dst = n;
		return HL_OK;
	case K_SCORE:
		if (!int_ok(v, &n) || n < 1 || n > 5)
			return fail(err, HL_E_BAD_REQUEST, "%s: must be an integer from 1 to 5", f->name);
		*(int *)dst = (int)n;
		return HL_OK;
	case K_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return fail(err, HL_E_BAD_REQUEST, "%s: must be true or false", f->name);
		*(int *)dst = json_object_get_boolean(v) ? 1 : 0;
		return HL_OK;
	}
	return fail(err, HL_E_INTERNAL, "%s: unhandled field kind", f->name);
}

static enum hl_err take_fields(struct json_object *o, struct hl_event *ev, struct hl_error *err)
{
	const struct shape *sh = &shapes[ev->type];
	for (int i = 0; i < F__COUNT; i++) {
		if (!((sh->req | sh->opt) & B(i)))
			continue;
		struct json_object *v = member(o, fields[i].name);
		if (!v) {
			if (sh->req & B(i))
				return fail(err, HL_E_BAD_REQUEST, "%s: missing", fields[i].name);
			continue;
		}
		enum hl_err rc = take_field(v, &fields[i], ev, err);
		if (rc != HL_OK)
			return rc;
	}
	return HL_OK;
}

static enum hl_err take_id(struct json_object *o, struct hl_event *ev, struct hl_error *err)
{
	struct json_object *v = member(o, "id");
	if (!v)
		return fail(err, HL_E_BAD_REQUEST, "id: missing");
	if (!string_ok(v, 1, HL_ID_MAX, true) || (size_t)json_object_get_string_len(v) > HL_ID_BYTES)
		return fail(err, HL_E_BAD_REQUEST, "id: must be a string of 1..128 characters");
	memcpy(ev->id, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
	return HL_OK;
}

static enum hl_err take_type(struct json_object *o, struct hl_event *ev, struct hl_error *err)
{
	struct json_object *v = member(o, "type");
	if (!v)
		return fail(err, HL_E_BAD_REQUEST, "type: missing");
	if (!json_object_is_type(v, json_type_string))
		return fail(err, HL_E_BAD_REQUEST, "type: must be a string");
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	enum hl_type t = strlen(s) == len ? hl_type_from_name(s) : HL_T_NONE;
	if (t == HL_T_NONE) {
		char echo[ECHO_MAX + 4];
		echo_text(echo, sizeof echo, s, len);
		return fail(err, HL_E_UNKNOWN_TYPE, "type: unknown type '%s'", echo);
	}
	ev->type = t;
	return HL_OK;
}

/* `at` matters for events only; commands happen when they are received. */
static enum hl_err take_at(struct json_object *o, struct hl_event *ev, struct hl_error *err)
{
	struct json_object *v = member(o, "at");
	if (!v || !hl_type_is_event(ev->type))
		return HL_OK;
	hl_ms t;
	if (!string_ok(v, 1, 64, true) || hl_parse_time(json_object_get_string(v), &t) != 0)
		return fail(err, HL_E_BAD_REQUEST, "at: must be an RFC 3339 timestamp with an offset or Z");
	if (t < HL_AT_MIN_MS || t > ev->received + HL_AT_FUTURE_MS)
		return fail(err, HL_E_BAD_REQUEST,
		            "at: must lie between 2000-01-01T00:00:00Z and one day after the time of receipt");
	ev->at = t;
	ev->at_given = true;
	return HL_OK;
}

/* `backfill` (events only): true marks a history import (CONTRACT 8, docs/rules.md). */
static enum hl_err take_backfill(struct json_object *o, struct hl_event *ev, struct hl_error *err)
{
	struct json_object *v = member(o, "backfill");
	if (!v || !hl_type_is_event(ev->type))
		return HL_OK;
	if (!json_object_is_type(v, json_type_boolean))
		return fail(err, HL_E_BAD_REQUEST, "backfill: must be true or false");
	ev->backfill = json_object_get_boolean(v);
	return HL_OK;
}

static enum hl_err take_request(struct json_object *o, const struct scan *sc, struct hl_event *ev,
                                struct hl_error *err)
{
	enum hl_err rc = take_id(o, ev, err);
	if (rc != HL_OK)
		return rc;
	if (sc->nul)
		return fail(err, HL_E_BAD_REQUEST, "%s: contains NUL", sc->nul_field);
	if (sc->bignum)
		return fail(err, HL_E_BAD_REQUEST, "%s: number out of range for PostgreSQL numeric",
		            sc->bignum_field);
	if ((rc = take_type(o, ev, err)) != HL_OK)
		return rc;
	if ((rc = take_fields(o, ev, err)) != HL_OK)
		return rc;
	if ((rc = take_at(o, ev, err)) != HL_OK)
		return rc;
	return take_backfill(o, ev, err);
}

/* ---------------------------------------------------------------- parse */

static struct json_object *json_parse(const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH + 1);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *o = json_tokener_parse_ex(tok, line, (int)len);
	if (o && (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

enum hl_err hl_parse_request(const char *line, size_t len, hl_ms now, struct hl_event *ev,
                             struct hl_error *err)
{
	memset(ev, 0, sizeof *ev);
	ev->caller_informed = -1;
	ev->confidential = -1;
	ev->at = ev->received = now;
	err->code = HL_OK;
	err->message[0] = '\0';

	if (!line)
		len = 0;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len >= INT_MAX)
		return fail(err, HL_E_TOO_LARGE, "request: line too long");

	struct scan sc;
	if (!scan_line(&sc, line ? line : "", len))
		return fail(err, HL_E_BAD_JSON, "invalid JSON at byte %zu: %s",
		            (size_t)(sc.p - sc.start), sc.why);

	struct json_object *o = json_parse(line, len);
	if (!o) /* the scan accepted it, so this is json-c being stricter or out of memory */
		return fail(err, HL_E_BAD_JSON, "invalid JSON");

	enum hl_err rc = take_request(o, &sc, ev, err);
	json_object_put(o);
	if (rc == HL_OK) {
		ev->line = malloc(len + 1);
		if (!ev->line)
			rc = fail(err, HL_E_INTERNAL, "request: out of memory");
		else {
			memcpy(ev->line, line, len);
			ev->line[len] = '\0';
			ev->line_len = len;
		}
	}
	if (rc != HL_OK)
		hl_event_free(ev); /* keeps ev->id for the error reply */
	return rc;
}

void hl_event_free(struct hl_event *ev)
{
	if (!ev)
		return;
	char **strs[] = { &ev->call_id, &ev->queue, &ev->agent, &ev->outcome, &ev->category,
	                  &ev->priority, &ev->summary, &ev->result, &ev->note, &ev->department,
	                  &ev->reason, &ev->resolution, &ev->by, &ev->token, &ev->line,
	                  &ev->order_id, &ev->due, &ev->until, &ev->area };
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	ev->line_len = 0;
}

/* ---------------------------------------------------------------- replies */

/* json-c text of o plus "\n", malloc'd; consumes o. */
static char *finish(struct json_object *o)
{
	if (!o)
		return NULL;
	size_t len;
	const char *s = json_object_to_json_string_length(o, PRINT_FLAGS, &len);
	char *out = s ? malloc(len + 2) : NULL;
	if (out) {
		memcpy(out, s, len);
		out[len] = '\n';
		out[len + 1] = '\0';
	}
	json_object_put(o);
	return out;
}

/* {"id":<id or null>,"ok":<ok>} as a json-c object to add to. */
static struct json_object *reply_head(const char *id, bool ok)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "id", id ? json_object_new_string(id) : NULL);
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	return o;
}

char *hl_reply_ok(const char *id)
{
	return finish(reply_head(id, true));
}

char *hl_reply_case(const char *id, int64_t case_id, bool duplicate)
{
	struct json_object *o = reply_head(id, true);
	if (!o)
		return NULL;
	if (duplicate)
		json_object_object_add(o, "duplicate", json_object_new_boolean(true));
	json_object_object_add(o, "case_id", json_object_new_int64(case_id));
	return finish(o);
}

char *hl_reply_order(const char *id, int64_t case_id, const char *order_id, bool duplicate)
{
	struct json_object *o = reply_head(id, true);
	if (!o)
		return NULL;
	if (duplicate)
		json_object_object_add(o, "duplicate", json_object_new_boolean(true));
	json_object_object_add(o, "case_id", json_object_new_int64(case_id));
	if (order_id && order_id[0])
		json_object_object_add(o, "order_id", json_object_new_string(order_id));
	return finish(o);
}

char *hl_reply_error(const char *id, enum hl_err code, const char *message)
{
	struct json_object *o = reply_head(id, false);
	struct json_object *e = json_object_new_object();
	if (!o || !e) {
		json_object_put(o);
		json_object_put(e);
		return NULL;
	}
	json_object_object_add(e, "code", json_object_new_string(hl_err_code(code)));
	json_object_object_add(e, "message", json_object_new_string(message ? message : ""));
	json_object_object_add(o, "error", e);
	return finish(o);
}

/* A JSON string literal for s ("null" for NULL), malloc'd. */
static char *quote(const char *s)
{
	if (!s)
		return strdup("null");
	struct json_object *o = json_object_new_string(s);
	if (!o)
		return NULL;
	const char *q = json_object_to_json_string_ext(o, PRINT_FLAGS);
	char *out = q ? strdup(q) : NULL;
	json_object_put(o);
	return out;
}

/* printf into a fresh buffer: the pieces are already valid JSON text. */
static char *concat(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *concat(const char *fmt, ...)
{
	va_list ap;
	char *out = NULL;
	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		out = NULL;
	va_end(ap);
	return out;
}

char *hl_reply_with(const char *id, const char *key, const char *json_text)
{
	char *qid = quote(id);
	char *qkey = quote(key ? key : "");
	char *out = NULL;
	if (qid && qkey)
		out = concat("{\"id\":%s,\"ok\":true,%s:%s}\n", qid, qkey, json_text ? json_text : "null");
	free(qid);
	free(qkey);
	return out;
}

char *hl_push_alert(const char *alert_json)
{
	return concat("{\"push\":\"alert\",\"alert\":%s}\n", alert_json ? alert_json : "null");
}

char *hl_push_ack(const char *alert_json)
{
	return concat("{\"push\":\"ack\",\"alert\":%s}\n", alert_json ? alert_json : "null");
}
