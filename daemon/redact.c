/*
 * redact.c - text made safe for logs and terminals (pure: no I/O).
 *
 * Two different readers, one concern: text that came from somewhere we do
 * not control must not hurt the person reading it.
 *
 *   - Logs.  PostgreSQL's error messages quote the data they refused
 *     ("DETAIL: Failing row contains (..., +8613900000003, ...)"), and a
 *     log is read by people who must never see a confidential caller's
 *     number.  We cannot know which digits in a server message are a phone
 *     number, so every run that could be one is masked.  Over-masking (a
 *     long id) costs a little debugging; under-masking breaks the national
 *     hotline standard.  Dates at the start of a run are kept because they
 *     are what one reads a log for.
 *   - Terminals.  hotlinectl prints queue names, notes and summaries that a
 *     caller-facing agent typed.  An ESC sequence in them could clear the
 *     operator's screen or retitle the window, a CR or LF could forge a line,
 *     a bidi override could reorder what is shown.  Everything a terminal
 *     acts on is escaped visibly instead.
 */
#include "redact.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_sep(char c) { return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')'; }

/*
 * A date "2026-11-20" at p, alone or followed by a time ("2026-11-20 01:15"
 * or "...T01:15"): the month and day must be plausible and nothing that
 * could continue a phone number may follow, so "1390-01-01 0077" is masked.
 */
static bool is_iso_date(const char *p)
{
	static const char pat[] = "dddd-dd-dd";
	for (size_t i = 0; i < sizeof pat - 1; i++) {
		if (pat[i] == 'd' ? !is_digit(p[i]) : p[i] != pat[i])
			return false;
	}
	int month = (p[5] - '0') * 10 + (p[6] - '0'), day = (p[8] - '0') * 10 + (p[9] - '0');
	if (month < 1 || month > 12 || day < 1 || day > 31)
		return false;
	const char *t = p + 10;
	if (*t == ' ' || *t == 'T')
		return is_digit(t[1]) && is_digit(t[2]) && t[3] == ':';
	return !is_digit(*t) && !is_sep(*t);
}

/* The end of the run starting at p (on a digit) and its digit count. */
static const char *run_end(const char *p, size_t *digits)
{
	const char *end = p;
	*digits = 0;
	while (*p) {
		if (is_digit(*p)) {
			(*digits)++;
			end = ++p;
		} else if (is_sep(*p)) {
			p++; /* separators count only when a digit follows them */
		} else {
			break;
		}
	}
	return end;
}

size_t hl_redact_digits(const char *in, char *out, size_t outlen)
{
	if (!out || outlen == 0)
		return 0;
	size_t o = 0, masked = 0;
	const char *p = in ? in : "";
	while (*p && o + 1 < outlen) {
		if (is_iso_date(p)) { /* copy the date whole and go on after it */
			for (int i = 0; i < 10 && o + 1 < outlen; i++)
				out[o++] = *p++;
			continue;
		}
		if (!is_digit(*p) && !(*p == '+' && is_digit(p[1]))) {
			out[o++] = *p++;
			continue;
		}
		size_t digits;
		const char *end = run_end(*p == '+' ? p + 1 : p, &digits);
		if (digits < HL_REDACT_MIN_DIGITS) {
			while (p < end && o + 1 < outlen)
				out[o++] = *p++;
			continue;
		}
		masked++;
		size_t seen = 0;
		for (; p < end && o + 1 < outlen; p++) {
			if (is_digit(*p))
				out[o++] = ++seen > digits - 2 ? *p : '*';
			else
				out[o++] = *p;
		}
	}
	out[o] = '\0';
	return masked;
}

/* Length of a valid UTF-8 sequence at p (strict), 0 when invalid; *cp gets the code point. */
static size_t utf8_seq(const unsigned char *p, unsigned long *cp)
{
	unsigned char c = p[0];
	size_t n;
	unsigned long v;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, v = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, v = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, v = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

static bool shown_escaped(unsigned long cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The two ways of making text terminal-safe differ only in how an escape is
 * spelled: readable text (hl_term_safe) names the common controls and must
 * escape its own backslash; JSON text (hl_json_term_safe) must stay valid
 * JSON, so everything becomes \uXXXX and a backslash is already an escape.
 * One loop below, one table of spellings here.
 */
struct term_style {
	bool escape_backslash; /* "\\" for a backslash */
	bool named_controls;   /* \n \r \t \e for those four controls */
	const char *control;   /* other C0 controls and DEL, given the byte */
	const char *invalid;   /* a byte that is not valid UTF-8, given the byte */
	const char *shown;     /* C1 controls and bidi overrides, given the code point */
};

static const struct term_style text_style = { true, true, "\\x%02X", "\\x%02X", "\\u{%04lX}" };
/* "\ufffd" (the byte is ignored) is never needed for a valid JSON producer's output */
static const struct term_style json_style = { false, false, "\\u%04x", "\\ufffd", "\\u%04lx" };

static size_t term_safe_styled(const struct term_style *st, const char *in, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t need = 0, o = 0;
	bool full = false;
	while (*p) {
		char esc[16];
		const char *piece = esc;
		size_t plen, adv = 1;
		unsigned long cp = 0;
		const char *named = NULL;
		if (*p == '\\' && st->escape_backslash) {
			piece = "\\\\";
			plen = 2;
		} else if (*p < 0x20 || *p == 0x7F) {
			if (st->named_controls)
				named = *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : *p == '\t' ? "\\t" : *p == 0x1B ? "\\e" : NULL;
			if (named)
				piece = named, plen = 2;
			else
				plen = (size_t)snprintf(esc, sizeof esc, st->control, *p);
		} else if (*p < 0x80) {
			piece = (const char *)p;
			plen = 1;
		} else if ((adv = utf8_seq(p, &cp)) == 0) {
			adv = 1;
			plen = (size_t)snprintf(esc, sizeof esc, st->invalid, *p);
		} else if (shown_escaped(cp)) {
			plen = (size_t)snprintf(esc, sizeof esc, st->shown, cp);
		} else {
			piece = (const char *)p;
			plen = adv;
		}
		need += plen;
		if (!full && out && o + plen < outlen) {
			memcpy(out + o, piece, plen);
			o += plen;
		} else {
			full = true;
		}
		p += adv;
	}
	if (out && outlen)
		out[o] = '\0';
	return need;
}

size_t hl_term_safe(const char *in, char *out, size_t outlen)
{
	return term_safe_styled(&text_style, in, out, outlen);
}

size_t hl_json_term_safe(const char *in, char *out, size_t outlen)
{
	return term_safe_styled(&json_style, in, out, outlen);
}
