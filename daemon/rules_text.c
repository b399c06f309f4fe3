/*
 * rules_text.c - the words of the case rules (pure): the history line each
 * event writes to hotline.case_events, and the durations and relative times
 * that it and the alert details use.
 *
 * Separate from rules.c because every part of the rules (the clocks in
 * rules_clocks.c, the alerts in rules_alerts.c, the event handlers) writes
 * these texts, and because fitting text into fixed buffers has its own rules:
 * a cut never splits a UTF-8 character (PostgreSQL would refuse the batch),
 * a phone number is only ever written masked, and times are relative to the
 * event ("in 2h", "5m ago") so that a reader in any zone reads them right.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules_internal.h"

/*
 * The longest prefix of s[0..len) that does not end inside a UTF-8
 * sequence.  Text is cut to fit fixed buffers in bytes; a cut through a
 * multi-byte character is invalid UTF-8, which PostgreSQL refuses, and with
 * it the whole batch (issue 16, item 18: a 128-character Chinese queue name).
 */
size_t hl_rules_utf8_cut(const char *s, size_t len)
{
	size_t i = len, cont = 0;
	while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--, cont++;
	if (i == 0)
		return len;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
	return cont < need ? i - 1 : len;
}

void hl_rules_vsay(struct hl_rules_text *t, const char *fmt, va_list ap)
{
	if (t->len + 1 >= sizeof t->buf)
		return;
	int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
	if (n > 0)
		t->len += (size_t)n;
	if (t->len >= sizeof t->buf) {
		t->len = hl_rules_utf8_cut(t->buf, sizeof t->buf - 1);
		t->buf[t->len] = '\0';
	}
}

void hl_rules_say(struct hl_rules_text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hl_rules_vsay(t, fmt, ap);
	va_end(ap);
}

/* Append one more clause, separated from what is there by "; ". */
void hl_rules_note(struct hl_rules_text *t, const char *fmt, ...)
{
	if (t->len)
		hl_rules_say(t, "; ");
	va_list ap;
	va_start(ap, fmt);
	hl_rules_vsay(t, fmt, ap);
	va_end(ap);
}

/* "2d", "23h20m", "90s" -> "1m30s", "1500ms": days, hours, minutes, seconds, leftover ms. */
const char *hl_rules_short_dur(int64_t ms, char *buf, size_t len)
{
	static const struct { int64_t ms; const char *unit; } units[] = {
		{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"},
	};
	size_t used = 0;
	buf[0] = '\0';
	if (ms <= 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0] && ms > 0; i++) {
		int64_t q = ms / units[i].ms;
		if (q == 0)
			continue;
		ms -= q * units[i].ms;
		int n = snprintf(buf + used, len - used, "%" PRId64 "%s", q, units[i].unit);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* A duration for people: its two largest adjacent units, "12d4h", "4h21m", "1m30s", "300ms" (floored). */
const char *hl_rules_rough_dur(int64_t ms, char *buf, size_t len)
{
	static const int64_t units[] = {86400000, 3600000, 60000, 1000, 1};
	size_t i = 0;
	while (i + 1 < sizeof units / sizeof units[0] && ms < units[i])
		i++;
	int64_t keep = i + 1 < sizeof units / sizeof units[0] ? units[i + 1] : 1;
	if (i == 3)
		keep = 1000; /* "1s", "59s": no milliseconds after whole seconds */
	return hl_rules_short_dur(ms - ms % keep, buf, len);
}

/*
 * When t is, seen from the instant `from`: "in 2h", "now", "15m ago".  Texts
 * stored for people (history lines, alert details) say this rather than an
 * absolute UTC time: a reader in another zone would have to convert one, and
 * the row the text belongs to carries its own timestamp (shown in the
 * reader's zone by hotlinectl).
 */
const char *hl_rules_rel_time(hl_ms from, hl_ms t, char *buf, size_t len)
{
	char d[48];
	if (t >= HL_MS_MAX) { /* no open time ahead in the calendar (hl_ms_storable) */
		snprintf(buf, len, "never");
		return buf;
	}
	int64_t diff = t > from ? t - from : from - t;
	diff = (diff + 500) / 1000 * 1000; /* whole seconds: a timer a few ms late is still "now" */
	if (diff == 0)
		snprintf(buf, len, "now");
	else if (t > from)
		snprintf(buf, len, "in %s", hl_rules_rough_dur(diff, d, sizeof d));
	else
		snprintf(buf, len, "%s ago", hl_rules_rough_dur(diff, d, sizeof d));
	return buf;
}

const char *hl_rules_masked(const char *phone, char *buf, size_t len)
{
	if (phone && strncmp(phone, HL_WITHHELD_PREFIX, strlen(HL_WITHHELD_PREFIX)) == 0)
		snprintf(buf, len, "a withheld number"); /* rules_withheld.c */
	else
		hl_phone_mask(phone, buf, len);
	return buf;
}
