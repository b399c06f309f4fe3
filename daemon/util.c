/*
 * util.c - small pure helpers shared by the whole daemon.
 *
 * What lives here:
 *   - the wire names of every enum in hotlined.h (error codes, request types,
 *     case statuses, clock kinds and states, call states) and their reverse
 *     look-ups;
 *   - durations ("90s", "30m", "48h", "2d", "120") as used in the configuration;
 *   - RFC 3339 timestamps in, ISO 8601 UTC with milliseconds out;
 *   - phone numbers: normalization (what we store) and masking (what we log);
 *   - a constant-time string comparison for secrets (auth tokens);
 *   - what a PostgreSQL error's SQLSTATE says of a failed transaction.
 *
 * Design: no global mutable state, no allocation, no locale or TZ dependence.
 * Calendar arithmetic uses Howard Hinnant's days_from_civil / civil_from_days
 * on int64, so neither timegm() nor the TZ environment variable is involved
 * and every instant from year 0000 to 9999 round-trips exactly.  Every parser
 * is strict: it accepts the documented grammar and nothing else, because what
 * it accepts ends up in PostgreSQL and in alerts sent to people.
 */
#include "hotlined.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ enum names */

static const char *const err_codes[] = {
	[HL_OK] = "ok",
	[HL_E_BAD_JSON] = "bad_json",
	[HL_E_BAD_REQUEST] = "bad_request",
	[HL_E_UNKNOWN_TYPE] = "unknown_type",
	[HL_E_UNKNOWN_CASE] = "unknown_case",
	[HL_E_UNKNOWN_CALL] = "unknown_call",
	[HL_E_UNKNOWN_ALERT] = "unknown_alert",
	[HL_E_TOO_LARGE] = "too_large",
	[HL_E_UNAVAILABLE] = "unavailable",
	[HL_E_UNAUTHORIZED] = "unauthorized",
	[HL_E_BUSY] = "busy",
	[HL_E_INTERNAL] = "internal",
	[HL_E_UNKNOWN_ORDER] = "unknown_order",
	[HL_E_FORBIDDEN] = "forbidden",
};

/* Out-of-range values map to "internal": a reply must always carry a code. */
const char *hl_err_code(enum hl_err e)
{
	if ((unsigned)e >= sizeof err_codes / sizeof err_codes[0])
		return "internal";
	return err_codes[e];
}

static const char *const type_names[HL_T__COUNT] = {
	[HL_T_NONE] = NULL,
	[HL_EV_CALL_OFFERED] = "call.offered",
	[HL_EV_CALL_ANSWERED] = "call.answered",
	[HL_EV_CALL_ABANDONED] = "call.abandoned",
	[HL_EV_VOICEMAIL_LEFT] = "voicemail.left",
	[HL_EV_CALL_ENDED] = "call.ended",
	[HL_EV_CALLBACK_ATTEMPT] = "callback.attempt",
	[HL_EV_CASE_UPDATE] = "case.update",
	[HL_EV_CASE_TRANSFER] = "case.transfer",
	[HL_EV_CASE_RESOLVE] = "case.resolve",
	[HL_EV_CASE_CLOSE] = "case.close",
	[HL_EV_CASE_REOPEN] = "case.reopen",
	[HL_EV_CASE_HOLD] = "case.hold",
	[HL_EV_CASE_RESUME] = "case.resume",
	[HL_EV_SURVEY_RESULT] = "survey.result",
	[HL_CMD_PING] = "ping",
	[HL_CMD_CASE_GET] = "case.get",
	[HL_CMD_SUBSCRIBE] = "subscribe",
	[HL_CMD_ALERT_ACK] = "alert.ack",
	[HL_CMD_STATS] = "stats",
	[HL_CMD_AUTH] = "auth",
	[HL_EV_ORDER_DISPATCH] = "order.dispatch",
	[HL_EV_ORDER_SIGN] = "order.sign",
	[HL_EV_ORDER_RETURN] = "order.return",
	[HL_EV_ORDER_EXTEND] = "order.extend",
	[HL_EV_ORDER_EXTEND_APPROVE] = "order.extend.approve",
	[HL_EV_ORDER_EXTEND_REJECT] = "order.extend.reject",
	[HL_EV_ORDER_REPLY] = "order.reply",
	[HL_EV_CASE_MERGE] = "case.merge",
};

const char *hl_type_name(enum hl_type t)
{
	if ((unsigned)t >= HL_T__COUNT)
		return NULL;
	return type_names[t];
}

/* Exact, case-sensitive match; NULL or unknown -> HL_T_NONE. */
enum hl_type hl_type_from_name(const char *name)
{
	if (!name)
		return HL_T_NONE;
	for (int t = 1; t < HL_T__COUNT; t++)
		if (strcmp(type_names[t], name) == 0)
			return (enum hl_type)t;
	return HL_T_NONE;
}

bool hl_type_is_event(enum hl_type t)
{
	return (t >= HL_EV_CALL_OFFERED && t <= HL_EV_SURVEY_RESULT) ||
	       (t >= HL_EV_ORDER_DISPATCH && t <= HL_EV_CASE_MERGE);
}

/* Linear look-up in a short name table; -1 when absent. */
static int name_index(const char *const *names, int n, const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static const char *name_at(const char *const *names, int n, int i)
{
	return (i >= 0 && i < n) ? names[i] : NULL;
}

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const status_names[] = { "open", "resolved", "closed", "merged" };
const char *hl_status_name(enum hl_status s) { return name_at(status_names, COUNT(status_names), (int)s); }
int hl_status_from_name(const char *name) { return name_index(status_names, COUNT(status_names), name); }

static const char *const clock_kind_names[] = { "callback", "update", "resolution", "survey", "redispatch" };
const char *hl_clock_kind_name(enum hl_clock_kind k) { return name_at(clock_kind_names, COUNT(clock_kind_names), (int)k); }
int hl_clock_kind_from_name(const char *name) { return name_index(clock_kind_names, COUNT(clock_kind_names), name); }

/* HL_CS_NONE is "": a clock that was never armed has no row and no name. */
static const char *const clock_state_names[] = { "", "pending", "paused", "met", "breached", "stopped" };
const char *hl_clock_state_name(enum hl_clock_state s) { return name_at(clock_state_names, COUNT(clock_state_names), (int)s); }
int hl_clock_state_from_name(const char *name) { return name_index(clock_state_names, COUNT(clock_state_names), name); }

static const char *const call_state_names[] = { "offered", "answered", "abandoned", "voicemail", "ended" };
const char *hl_call_state_name(enum hl_call_state s) { return name_at(call_state_names, COUNT(call_state_names), (int)s); }
int hl_call_state_from_name(const char *name) { return name_index(call_state_names, COUNT(call_state_names), name); }

/* ------------------------------------------------------------- durations */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Largest duration: its value in milliseconds must still fit in an int64. */
#define DURATION_MAX_S (INT64_MAX / 1000)

/*
 * Grammar: [ws] digits [unit] [ws], unit one of s m h d (lowercase; "M" could
 * be read as months).  Surrounding ASCII whitespace is ignored, whitespace
 * between the number and the unit is not ("30 m" is rejected).  No sign, no
 * fraction ("1.5h" -> write "90m"), no exponent.  Leading zeros are fine.
 * The result must fit in milliseconds as an int64 (see DURATION_MAX_S).
 */
int hl_parse_duration(const char *s, int64_t *seconds)
{
	if (!s || !seconds)
		return -1;
	while (is_space(*s))
		s++;
	if (!is_digit(*s))
		return -1;

	int64_t n = 0;
	for (; is_digit(*s); s++) {
		int d = *s - '0';
		if (n > (DURATION_MAX_S - d) / 10)
			return -1;
		n = n * 10 + d;
	}

	int64_t unit = 1;
	switch (*s) {
	case 's': unit = 1; s++; break;
	case 'm': unit = 60; s++; break;
	case 'h': unit = 3600; s++; break;
	case 'd': unit = 86400; s++; break;
	default: break;
	}
	while (is_space(*s))
		s++;
	if (*s != '\0')
		return -1;
	if (n > DURATION_MAX_S / unit)
		return -1;
	*seconds = n * unit;
	return 0;
}

/*
 * A span: a duration in milliseconds, or "Nwd" (N working days, see
 * hl_deadline).  Working days are kept apart from the seconds grammar because
 * they are not a length of time: how long 3wd lasts depends on the calendar
 * and on the day the clock starts.
 */
int hl_parse_span(const char *s, int64_t *span)
{
	if (!s || !span)
		return -1;
	const char *p = s;
	while (is_space(*p))
		p++;
	const char *digits = p;
	int64_t n = 0;
	while (is_digit(*p) && n <= HL_SPAN_WD_MAX)
		n = n * 10 + (*p++ - '0');
	if (p > digits && p[0] == 'w' && p[1] == 'd') {
		const char *q = p + 2;
		while (is_space(*q))
			q++;
		if (*q != '\0' || n > HL_SPAN_WD_MAX)
			return -1;
		*span = HL_SPAN_WD(n);
		return 0;
	}
	int64_t sec;
	if (hl_parse_duration(s, &sec) != 0)
		return -1;
	*span = sec * 1000;
	return 0;
}

/* ------------------------------------------------------------------ time */

#define MS_PER_DAY INT64_C(86400000)

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return (m == 2 && is_leap(y)) ? 29 : dim[m - 1];
}

/* Exactly n digits at *p; advances *p.  -1 when any is not a digit. */
static int fixed_digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (!is_digit(c))
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	return v;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/*
 * RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM).
 * 't' and 'z' are accepted in lowercase, and a space in place of 'T' (both
 * allowed by RFC 3339 5.6: Python's str() of a datetime writes one); so are
 * the offsets ISO 8601 also allows, +HHMM and +HH (strftime's %z writes
 * +0800).  All are unambiguous; a time without an offset is not, and stays
 * refused.  The fraction has one or more digits: milliseconds
 * are kept, further digits truncated (not rounded, so an instant never moves
 * into the next second).  Second 60 (a leap second) is clamped to 59.999 of
 * that minute, whatever fraction it had.  Offsets up to +-23:59; "-00:00"
 * is accepted and means UTC.  Nothing may follow.
 */
int hl_parse_time(const char *s, hl_ms *out)
{
	if (!s || !out)
		return -1;
	const char *p = s;
	int y = fixed_digits(&p, 4);
	if (y < 0 || !expect(&p, '-'))
		return -1;
	int mo = fixed_digits(&p, 2);
	if (mo < 1 || mo > 12 || !expect(&p, '-'))
		return -1;
	int d = fixed_digits(&p, 2);
	if (d < 1 || d > days_in_month(y, mo))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	int h = fixed_digits(&p, 2);
	if (h < 0 || h > 23 || !expect(&p, ':'))
		return -1;
	int mi = fixed_digits(&p, 2);
	if (mi < 0 || mi > 59 || !expect(&p, ':'))
		return -1;
	int sec = fixed_digits(&p, 2);
	if (sec < 0 || sec > 60)
		return -1;

	int ms = 0;
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return -1;
		size_t nd = 0;
		for (; is_digit(*p); p++, nd++)
			if (nd < 3) /* keep milliseconds, truncate the rest */
				ms = ms * 10 + (*p - '0');
		for (; nd < 3; nd++) /* ".5" is 500 ms */
			ms *= 10;
	}
	if (sec == 60) {
		sec = 59;
		ms = 999;
	}

	int off_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		p++;
		int oh = fixed_digits(&p, 2);
		if (oh < 0 || oh > 23)
			return -1;
		int om = 0;
		if (*p != '\0') { /* +HH:MM or +HHMM; +HH alone ends here */
			expect(&p, ':');
			om = fixed_digits(&p, 2);
			if (om < 0 || om > 59)
				return -1;
		}
		off_min = sign * (oh * 60 + om);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;

	int64_t days = days_from_civil(y, mo, d);
	int64_t t = days * MS_PER_DAY + ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + ms;
	*out = t - (int64_t)off_min * 60000;
	return 0;
}

/*
 * "2026-11-20T01:15:00.000Z": always UTC, always milliseconds.  Returns the
 * length written (24 for years 0000..9999), or 0 with buf set to "" when the
 * buffer is too small (it needs 25 bytes; more for years beyond 9999).
 */
size_t hl_format_time(hl_ms t, char *buf, size_t len)
{
	if (!buf || len == 0)
		return 0;
	/* floor division: instants before 1970 still land on the right day */
	int64_t days = t / MS_PER_DAY;
	int64_t rem = t % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	int64_t y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	int ms = (int)(rem % 1000);
	int64_t secs = rem / 1000;
	int n = snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
	                 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), ms);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

/* ----------------------------------------------------------------- phones */

#define PHONE_MIN_DIGITS 3
#define PHONE_MAX_DIGITS 20

/* Characters people put in numbers for readability; ignored. */
static bool is_phone_separator(char c)
{
	return c == ' ' || c == '-' || c == '(' || c == ')' || c == '.';
}

/* The separators removed and the characters checked: digits with an optional
 * leading '+', 3..20 digits, into buf (NUL-terminated); -1 when malformed. */
static int phone_compact(const char *in, char *buf, size_t buflen)
{
	size_t n = 0, digits = 0;
	for (const char *p = in; *p; p++) {
		if (is_phone_separator(*p))
			continue;
		if (*p == '+') {
			if (n != 0) /* a second '+', or a '+' after digits */
				return -1;
			buf[n++] = '+';
		} else if (is_digit(*p)) {
			if (++digits > PHONE_MAX_DIGITS || n + 2 > buflen)
				return -1;
			buf[n++] = *p;
		} else {
			return -1;
		}
	}
	buf[n] = '\0';
	return digits < PHONE_MIN_DIGITS ? -1 : 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return prefix[0] && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A national number shorter than this is a short service number (110, 12345,
 * 95588): it cannot be dialled from abroad, so it stays as dialled, as
 * libphonenumber keeps short numbers out of E.164. */
#define PHONE_SHORT_MAX 6

/*
 * "+" and the digits after it, in international form: after the plan's own
 * country code one trunk prefix is dropped ("+86 (0)10 ..." as libphonenumber
 * does), unless what follows is short or starts with the trunk prefix again
 * (then the digits are the number itself).  So the result never changes when
 * it goes through here a second time.
 */
static int phone_international(const char *digits, const struct hl_phone_plan *plan, char *res, size_t len)
{
	const char *cc = plan->country_code;
	const char *after_cc = digits + strlen(cc);
	const char *national = after_cc + strlen(plan->trunk_prefix);
	if (has_prefix(digits, cc) && has_prefix(after_cc, plan->trunk_prefix) &&
	    strlen(national) > PHONE_SHORT_MAX && !has_prefix(national, plan->trunk_prefix))
		return snprintf(res, len, "+%s%s", cc, national);
	return snprintf(res, len, "+%s", digits);
}

/*
 * Digits with an optional leading '+' (spaces, dashes, '(' ')' '.' ignored
 * anywhere; the '+' must come before every digit; 3..20 digits; anything else
 * is refused).  Then, with a country in the plan, libphonenumber's order:
 *   "+CC..."           already international (see phone_international);
 *   "<intl>CC..."      the international prefix means '+': "0086 139...";
 *   "<trunk>NSN"       a national number: "010 12345678" -> "+861012345678";
 *                      a national number of 6 digits or fewer after the
 *                      trunk prefix is kept as dialled ("0123");
 *   short (<= 6 digits) a service number, kept: "110", "12345";
 *   anything else      a national number without trunk prefix (mobiles):
 *                      "13900000077" -> "+8613900000077".
 * The result has at most 20 digits and is stable:
 * hl_phone_e164(hl_phone_e164(x)) = hl_phone_e164(x) (fuzzed).
 */
int hl_phone_e164(const char *in, const struct hl_phone_plan *plan, char *out, size_t outlen)
{
	if (out && outlen)
		out[0] = '\0';
	if (!in || !out)
		return -1;
	char buf[PHONE_MAX_DIGITS + 2], res[PHONE_MAX_DIGITS + 2 + sizeof plan->country_code];
	if (phone_compact(in, buf, sizeof buf) != 0)
		return -1;
	const char *cc = plan ? plan->country_code : "";
	const char *trunk = plan ? plan->trunk_prefix : "";
	const char *national = buf + strlen(trunk);
	int n;
	if (!cc[0]) {
		n = snprintf(res, sizeof res, "%s", buf);
	} else if (buf[0] == '+') {
		n = phone_international(buf + 1, plan, res, sizeof res);
	} else if (has_prefix(buf, plan->international_prefix)) {
		const char *rest = buf + strlen(plan->international_prefix);
		if (strlen(rest) < PHONE_MIN_DIGITS)
			return -1;
		n = phone_international(rest, plan, res, sizeof res);
	} else if (has_prefix(buf, trunk) && strlen(national) <= PHONE_SHORT_MAX) {
		n = snprintf(res, sizeof res, "%s", buf); /* "0123": too short to be national */
	} else if (has_prefix(buf, trunk) && !has_prefix(national, trunk)) {
		n = snprintf(res, sizeof res, "+%s%s", cc, national);
	} else if (strlen(buf) <= PHONE_SHORT_MAX) {
		n = snprintf(res, sizeof res, "%s", buf);
	} else {
		n = snprintf(res, sizeof res, "+%s%s", cc, buf); /* a doubled trunk prefix is part of it */
	}
	if (n < 0 || (size_t)n >= sizeof res || (size_t)n + 1 > outlen)
		return -1;
	size_t digits = (size_t)n - (res[0] == '+');
	if (digits > PHONE_MAX_DIGITS)
		return -1;
	memcpy(out, res, (size_t)n + 1);
	return 0;
}

/* The configured plan: the one piece of state in this file, written only by
 * the main thread when the configuration is (re)loaded (hl_phone_set_plan), so
 * that the parser, the rules and hotlinectl all normalize the same way. */
static struct hl_phone_plan phone_plan;

void hl_phone_set_plan(const struct hl_phone_plan *plan)
{
	if (plan)
		phone_plan = *plan;
	else
		memset(&phone_plan, 0, sizeof phone_plan);
}

int hl_phone_normalize(const char *in, char *out, size_t outlen)
{
	return hl_phone_e164(in, &phone_plan, out, outlen);
}

/* A number of this many characters or more keeps its head (see below). */
#define MASK_LONG 11

/*
 * For logs and admin views.  Long numbers (>= 11 characters, '+' included)
 * keep their first len-8 and last 4 characters with 4 '*' between:
 * "+8613800000001" -> "+86138****0001", "13800000001" -> "138****0001".
 * Shorter numbers keep only their last 2 digits (and a leading '+', which
 * tells nothing): "12345678" -> "******78", "+123456" -> "+****56".  Numbers
 * of 4 characters or fewer show no digit at all ("110" -> "***").  So at most len-4
 * characters are ever shown.  When out is too small, out is "" (never a
 * truncated, partly unmasked number).
 */
void hl_phone_mask(const char *phone, char *out, size_t outlen)
{
	if (!out || outlen == 0)
		return;
	out[0] = '\0';
	if (!phone)
		return;
	size_t len = strlen(phone);
	if (len + 1 > outlen)
		return;
	if (len >= MASK_LONG) {
		size_t head = len - 8;
		memcpy(out, phone, head);
		memset(out + head, '*', 4);
		memcpy(out + head + 4, phone + len - 4, 4);
	} else {
		size_t keep = len > 4 ? 2 : 0;
		for (size_t i = 0; i < len; i++)
			out[i] = (i == 0 && phone[0] == '+') || i >= len - keep ? phone[i] : '*';
	}
	out[len] = '\0';
}

/*
 * Compare a secret in time that depends only on the two lengths, never on
 * where the strings differ.  Leaking the length is accepted (tokens are of a
 * fixed, configured length anyway).  NULL never equals anything.
 */
bool hl_const_time_eq(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	size_t la = strlen(a), lb = strlen(b);
	volatile unsigned char diff = (unsigned char)(la != lb);
	if (lb == 0)
		return la == 0;
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i % lb]);
	return diff == 0;
}

uint64_t hl_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* ---------------------------------------------------------- alert families */

static const char *const ALERT_FAMILIES[HL_ALERT_FAMILIES] = {
	"callback", "update", "resolution", "survey", "repeat_caller", "dissatisfied", "transfer_loop",
	"order_sign", "order_reply", "redispatch", "buck_passing", "hotspot",
};

const char *hl_alert_family(size_t i)
{
	return i < HL_ALERT_FAMILIES ? ALERT_FAMILIES[i] : NULL;
}

int hl_alert_family_of(const char *kind)
{
	for (int i = 0; kind && i < HL_ALERT_FAMILIES; i++) {
		size_t n = strlen(ALERT_FAMILIES[i]);
		if (strncmp(kind, ALERT_FAMILIES[i], n) == 0 && (kind[n] == '\0' || kind[n] == '_'))
			return i;
	}
	return -1;
}

/* ------------------------------------------------------- database errors */

enum hl_db_failure hl_db_failure_of(const char *st)
{
	if (!st || strlen(st) != 5)
		return HL_DB_REFUSED;
	if (strncmp(st, "40", 2) == 0) /* 40001 serialization_failure, 40P01 deadlock_detected */
		return HL_DB_RETRY;
	/* 08 connection, 53 insufficient resources (53100 disk_full), 57 operator
	 * intervention (57014 statement_timeout or a cancel, 57P01 shutdown),
	 * 58 system error (58030 io_error), 25006 read_only_sql_transaction (a
	 * standby after a failover, default_transaction_read_only), 55P03
	 * lock_not_available (lock_timeout) */
	if (strncmp(st, "08", 2) == 0 || strncmp(st, "53", 2) == 0 || strncmp(st, "57", 2) == 0 ||
	    strncmp(st, "58", 2) == 0 || strcmp(st, "25006") == 0 || strcmp(st, "55P03") == 0)
		return HL_DB_REFUSING;
	return HL_DB_REFUSED;
}

/* ---------------------------------------------------------- UTF-8 mending */

char *hl_utf8_mend(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;
	while (*r) {
		unsigned char c = *r;
		size_t need;
		if (c < 0x80)
			need = 0;
		else if (c >= 0xC2 && c <= 0xDF)
			need = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			need = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			need = 3;
		else { /* a continuation byte without its lead, or a byte never in UTF-8 */
			r++;
			continue;
		}
		size_t i = 1;
		while (i <= need && (r[i] & 0xC0) == 0x80)
			i++;
		if (i <= need) { /* cut short: drop what there is of it */
			r += i;
			continue;
		}
		memmove(w, r, need + 1);
		w += need + 1;
		r += need + 1;
	}
	*w = '\0';
	return s;
}
