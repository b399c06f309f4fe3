/*
 * test_util.c - unit tests for daemon/util.c: enum names, durations, RFC 3339
 * times, phone normalization and masking, constant-time comparison.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotlined.h"

/* ------------------------------------------------------------- enum names */

Test(names, err_codes)
{
	cr_assert_str_eq(hl_err_code(HL_E_BAD_JSON), "bad_json");
	cr_assert_str_eq(hl_err_code(HL_E_BAD_REQUEST), "bad_request");
	cr_assert_str_eq(hl_err_code(HL_E_UNKNOWN_TYPE), "unknown_type");
	cr_assert_str_eq(hl_err_code(HL_E_UNKNOWN_CASE), "unknown_case");
	cr_assert_str_eq(hl_err_code(HL_E_UNKNOWN_CALL), "unknown_call");
	cr_assert_str_eq(hl_err_code(HL_E_UNKNOWN_ALERT), "unknown_alert");
	cr_assert_str_eq(hl_err_code(HL_E_TOO_LARGE), "too_large");
	cr_assert_str_eq(hl_err_code(HL_E_UNAVAILABLE), "unavailable");
	cr_assert_str_eq(hl_err_code(HL_E_UNAUTHORIZED), "unauthorized");
	cr_assert_str_eq(hl_err_code(HL_E_BUSY), "busy");
	cr_assert_str_eq(hl_err_code(HL_E_INTERNAL), "internal");
	cr_assert_str_eq(hl_err_code(HL_OK), "ok");
	cr_assert_str_eq(hl_err_code((enum hl_err)999), "internal");
}

Test(names, types_round_trip)
{
	static const char *const wire[] = {
		"call.offered", "call.answered", "call.abandoned", "voicemail.left", "call.ended",
		"callback.attempt", "case.update", "case.transfer", "case.resolve", "case.close",
		"case.reopen", "case.hold", "case.resume", "survey.result", "ping", "case.get",
		"subscribe", "alert.ack", "stats", "auth",
		"order.dispatch", "order.sign", "order.return", "order.extend", "order.extend.approve",
		"order.extend.reject", "order.reply", "case.merge",
	};
	cr_assert_eq(sizeof wire / sizeof wire[0], HL_T__COUNT - 1);
	for (int t = 1; t < HL_T__COUNT; t++) {
		cr_assert_str_eq(hl_type_name((enum hl_type)t), wire[t - 1]);
		cr_assert_eq(hl_type_from_name(wire[t - 1]), (enum hl_type)t);
	}
	cr_assert_null(hl_type_name(HL_T_NONE));
	cr_assert_null(hl_type_name(HL_T__COUNT));
	cr_assert_eq(hl_type_from_name(NULL), HL_T_NONE);
	cr_assert_eq(hl_type_from_name(""), HL_T_NONE);
	cr_assert_eq(hl_type_from_name("Call.Offered"), HL_T_NONE);
	cr_assert_eq(hl_type_from_name("call.offered "), HL_T_NONE);
}

Test(names, is_event)
{
	for (int t = 0; t < HL_T__COUNT; t++)
		cr_assert_eq(hl_type_is_event((enum hl_type)t),
		             (t >= HL_EV_CALL_OFFERED && t <= HL_EV_SURVEY_RESULT) ||
		                 (t >= HL_EV_ORDER_DISPATCH && t <= HL_EV_CASE_MERGE),
		             "type %d", t);
	cr_assert(hl_type_is_event(HL_EV_SURVEY_RESULT));
	cr_assert_not(hl_type_is_event(HL_CMD_PING));
	cr_assert_not(hl_type_is_event(HL_CMD_AUTH));
}

Test(names, status_kind_state_call)
{
	cr_assert_str_eq(hl_status_name(HL_ST_OPEN), "open");
	cr_assert_str_eq(hl_status_name(HL_ST_RESOLVED), "resolved");
	cr_assert_str_eq(hl_status_name(HL_ST_CLOSED), "closed");
	cr_assert_str_eq(hl_status_name(HL_ST_MERGED), "merged");
	cr_assert_null(hl_status_name((enum hl_status)4));
	cr_assert_eq(hl_status_from_name("resolved"), HL_ST_RESOLVED);
	cr_assert_eq(hl_status_from_name("Open"), -1);
	cr_assert_eq(hl_status_from_name(NULL), -1);

	const char *kinds[] = { "callback", "update", "resolution", "survey", "redispatch" };
	for (int i = 0; i < 5; i++) {
		cr_assert_str_eq(hl_clock_kind_name((enum hl_clock_kind)i), kinds[i]);
		cr_assert_eq(hl_clock_kind_from_name(kinds[i]), i);
	}
	cr_assert_null(hl_clock_kind_name(HL_CK__COUNT));
	cr_assert_eq(hl_clock_kind_from_name("x"), -1);

	const char *states[] = { "", "pending", "paused", "met", "breached", "stopped" };
	for (int i = 0; i < 6; i++) {
		cr_assert_str_eq(hl_clock_state_name((enum hl_clock_state)i), states[i]);
		cr_assert_eq(hl_clock_state_from_name(states[i]), i);
	}
	cr_assert_eq(hl_clock_state_from_name("none"), -1);
	cr_assert_eq(hl_clock_state_from_name(NULL), -1);

	const char *calls[] = { "offered", "answered", "abandoned", "voicemail", "ended" };
	for (int i = 0; i < 5; i++) {
		cr_assert_str_eq(hl_call_state_name((enum hl_call_state)i), calls[i]);
		cr_assert_eq(hl_call_state_from_name(calls[i]), i);
	}
	cr_assert_null(hl_call_state_name((enum hl_call_state)5));
	cr_assert_eq(hl_call_state_from_name("voicemail.left"), -1);
}

/* ------------------------------------------------------------- durations */

static int64_t dur(const char *s)
{
	int64_t v = -12345;
	cr_assert_eq(hl_parse_duration(s, &v), 0, "'%s' should parse", s);
	return v;
}

static void bad_dur(const char *s)
{
	int64_t v = -12345;
	cr_assert_eq(hl_parse_duration(s, &v), -1, "'%s' should be rejected", s);
	cr_assert_eq(v, -12345, "'%s' must not touch the output", s);
}

Test(duration, valid)
{
	cr_assert_eq(dur("120"), 120);
	cr_assert_eq(dur("0"), 0);
	cr_assert_eq(dur("0s"), 0);
	cr_assert_eq(dur("0d"), 0);
	cr_assert_eq(dur("90s"), 90);
	cr_assert_eq(dur("30m"), 1800);
	cr_assert_eq(dur("48h"), 172800);
	cr_assert_eq(dur("2d"), 172800);
	cr_assert_eq(dur("1"), 1);
	cr_assert_eq(dur("007m"), 420);
	cr_assert_eq(dur(" 30m"), 1800);
	cr_assert_eq(dur("30m \t"), 1800);
	cr_assert_eq(dur("9223372036854775"), INT64_C(9223372036854775)); /* INT64_MAX / 1000 */
}

Test(duration, invalid)
{
	bad_dur("");
	bad_dur("   ");
	bad_dur("-1");
	bad_dur("+5");
	bad_dur("5x");
	bad_dur("1.5h");
	bad_dur("1,5h");
	bad_dur("30 m");
	bad_dur("30M");
	bad_dur("30mm");
	bad_dur("m");
	bad_dur("s30");
	bad_dur("1e3");
	bad_dur("0x10");
	bad_dur("9223372036854776");        /* ms would overflow */
	bad_dur("99999999999999999999999"); /* overflow in the digits */
	bad_dur("106751991167301d");        /* days overflow */
	bad_dur("30m5s");
	bad_dur(NULL);
	cr_assert_eq(hl_parse_duration("5", NULL), -1);
}

/* ------------------------------------------------------------------ time */

static hl_ms tm_ok(const char *s)
{
	hl_ms v = -777;
	cr_assert_eq(hl_parse_time(s, &v), 0, "'%s' should parse", s);
	return v;
}

static void tm_bad(const char *s)
{
	hl_ms v = -777;
	cr_assert_eq(hl_parse_time(s, &v), -1, "'%s' should be rejected", s);
	cr_assert_eq(v, -777);
}

static const char *fmt(hl_ms t)
{
	static char buf[64];
	cr_assert_eq(hl_format_time(t, buf, sizeof buf), strlen(buf));
	return buf;
}

Test(time, basics)
{
	cr_assert_eq(tm_ok("1970-01-01T00:00:00Z"), 0);
	cr_assert_eq(tm_ok("1970-01-01T00:00:01Z"), 1000);
	cr_assert_eq(tm_ok("2026-11-20T01:15:00Z"), INT64_C(1795137300000));
	cr_assert_eq(tm_ok("2026-11-20T09:15:00+08:00"), INT64_C(1795137300000));
	cr_assert_eq(tm_ok("2026-11-19T20:15:00-05:00"), INT64_C(1795137300000));
	cr_assert_eq(tm_ok("2026-11-20t01:15:00z"), INT64_C(1795137300000));
	cr_assert_eq(tm_ok("2026-11-20T01:15:00-00:00"), INT64_C(1795137300000));
	cr_assert_eq(tm_ok("2026-11-20T01:15:00+00:00"), INT64_C(1795137300000));
	cr_assert_eq(tm_ok("2026-11-20T06:45:00+05:30"), INT64_C(1795137300000));
	cr_assert_eq(tm_ok("2026-11-20T14:00:00+12:45"), INT64_C(1795137300000));
	/* independent values (Python datetime) far from the epoch */
	cr_assert_eq(tm_ok("0001-01-01T00:00:00Z"), INT64_C(-62135596800000));
	cr_assert_eq(tm_ok("9999-12-31T23:59:59.999Z"), INT64_C(253402300799999));
	cr_assert_eq(tm_ok("1969-12-31T23:59:59.999Z"), -1);
	cr_assert_eq(tm_ok("1970-01-01T08:00:00+08:00"), 0);
	/* what converters write: Python's str(datetime), strftime's %z */
	cr_assert_eq(tm_ok("2026-11-20 09:15:00+08:00"), INT64_C(1795137300000));
	cr_assert_eq(tm_ok("2026-11-20T09:15:00+0800"), INT64_C(1795137300000));
	cr_assert_eq(tm_ok("2026-11-20T09:15:00+08"), INT64_C(1795137300000));
	cr_assert_eq(tm_ok("2026-11-20 01:15:00.123456Z"), INT64_C(1795137300123));
	cr_assert_eq(tm_ok("2026-11-19T20:15:00-0500"), INT64_C(1795137300000));
}

Test(time, fractions)
{
	hl_ms base = tm_ok("2026-11-20T01:15:00Z");
	cr_assert_eq(tm_ok("2026-11-20T01:15:00.5Z"), base + 500);
	cr_assert_eq(tm_ok("2026-11-20T01:15:00.05Z"), base + 50);
	cr_assert_eq(tm_ok("2026-11-20T01:15:00.123Z"), base + 123);
	cr_assert_eq(tm_ok("2026-11-20T01:15:00.1239Z"), base + 123);          /* truncated, not rounded */
	cr_assert_eq(tm_ok("2026-11-20T01:15:00.999999999999999Z"), base + 999);
	cr_assert_eq(tm_ok("2026-11-20T01:15:00.000+08:00"), base - 8 * 3600000);
	tm_bad("2026-11-20T01:15:00.Z");
	tm_bad("2026-11-20T01:15:00.");
	tm_bad("2026-11-20T01:15:00,5Z");
	tm_bad("2026-11-20T01:15:00.5x5Z");
}

Test(time, leap_years)
{
	tm_bad("2026-02-29T00:00:00Z");
	cr_assert_eq(tm_ok("2028-02-29T00:00:00Z") + 86400000, tm_ok("2028-03-01T00:00:00Z"));
	cr_assert_eq(tm_ok("2000-02-29T12:00:00Z") + 43200000, tm_ok("2000-03-01T00:00:00Z"));
	tm_bad("1900-02-29T00:00:00Z");
	tm_bad("2100-02-29T00:00:00Z");
	tm_ok("2400-02-29T00:00:00Z");
	tm_ok("2026-02-28T23:59:59Z");
	tm_bad("2026-02-30T00:00:00Z");
	tm_bad("2026-04-31T00:00:00Z");
	tm_ok("2026-12-31T23:59:59Z");
	tm_ok("2026-01-31T00:00:00Z");
}

Test(time, leap_second)
{
	cr_assert_eq(tm_ok("2016-12-31T23:59:60Z"), tm_ok("2016-12-31T23:59:59.999Z"));
	cr_assert_eq(tm_ok("2016-12-31T23:59:60.5Z"), tm_ok("2016-12-31T23:59:59.999Z"));
	tm_bad("2016-12-31T23:59:61Z");
}

Test(time, ranges_and_junk)
{
	tm_bad("2026-11-20T24:00:00Z");
	tm_bad("2026-11-20T23:60:00Z");
	tm_bad("2026-13-01T00:00:00Z");
	tm_bad("2026-00-01T00:00:00Z");
	tm_bad("2026-01-00T00:00:00Z");
	tm_bad("2026-01-32T00:00:00Z");
	tm_bad("2026-11-20T09:15:00");        /* no offset */
	tm_bad("2026-11-20  09:15:00Z");      /* two spaces */
	tm_bad("2026-11-20T09:15:00+8");
	tm_bad("2026-11-20T09:15:00+08:0");
	tm_bad("2026-11-20T09:15:00+08:");
	tm_bad("2026-11-20T09:15Z");          /* no seconds */
	tm_bad("2026-11-20");
	tm_bad("2026-11-20T09:15:00+080");
	tm_bad("2026-11-20T09:15:00+24:00");
	tm_bad("2026-11-20T09:15:00+08:60");
	tm_bad("2026-11-20T09:15:00Z ");
	tm_bad(" 2026-11-20T09:15:00Z");
	tm_bad("2026-11-20T09:15:00ZZ");
	tm_bad("26-11-20T09:15:00Z");
	tm_bad("+2026-11-20T09:15:00Z");
	tm_bad("2026-1-20T09:15:00Z");
	tm_bad("2026-11-20T9:15:00Z");
	tm_bad("2026-11-20T09:15:00.5+8:00");
	tm_bad("");
	tm_bad("now");
	tm_bad(NULL);
	hl_ms x;
	cr_assert_eq(hl_parse_time("2026-11-20T09:15:00Z", NULL), -1);
	(void)x;
}

Test(time, tz_env_is_ignored)
{
	setenv("TZ", "Asia/Shanghai", 1);
	hl_ms a = tm_ok("2026-11-20T01:15:00Z");
	setenv("TZ", "America/New_York", 1);
	cr_assert_eq(tm_ok("2026-11-20T01:15:00Z"), a);
	cr_assert_str_eq(fmt(a), "2026-11-20T01:15:00.000Z");
	unsetenv("TZ");
}

Test(time, format)
{
	cr_assert_str_eq(fmt(0), "1970-01-01T00:00:00.000Z");
	cr_assert_str_eq(fmt(INT64_C(1795137300000)), "2026-11-20T01:15:00.000Z");
	cr_assert_str_eq(fmt(INT64_C(1795137300123)), "2026-11-20T01:15:00.123Z");
	cr_assert_str_eq(fmt(-1), "1969-12-31T23:59:59.999Z");
	cr_assert_str_eq(fmt(-86400000), "1969-12-31T00:00:00.000Z");
	cr_assert_str_eq(fmt(tm_ok("2028-02-29T23:59:59.999+00:00")), "2028-02-29T23:59:59.999Z");
	cr_assert_str_eq(fmt(tm_ok("0000-01-01T00:00:00Z")), "0000-01-01T00:00:00.000Z");
	cr_assert_str_eq(fmt(tm_ok("9999-12-31T23:59:59.999Z")), "9999-12-31T23:59:59.999Z");
	cr_assert_str_eq(fmt(tm_ok("2000-01-01T00:30:00+01:00")), "1999-12-31T23:30:00.000Z");
}

Test(time, format_buffer_sizes)
{
	char buf[25];
	cr_assert_eq(hl_format_time(0, buf, sizeof buf), 24);
	cr_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
	char small[24];
	memset(small, 'x', sizeof small);
	cr_assert_eq(hl_format_time(0, small, sizeof small), 0);
	cr_assert_str_eq(small, "");
	cr_assert_eq(hl_format_time(0, NULL, 10), 0);
	cr_assert_eq(hl_format_time(0, buf, 0), 0);
}

Test(time, round_trip_sweep)
{
	/* every ~37 hours and a bit over 1900..2100, plus odd milliseconds */
	hl_ms start = tm_ok("1900-01-01T00:00:00Z"), stop = tm_ok("2100-12-31T23:59:59Z");
	for (hl_ms t = start; t < stop; t += INT64_C(133200007)) {
		char buf[32];
		cr_assert_eq(hl_format_time(t, buf, sizeof buf), 24);
		hl_ms back;
		cr_assert_eq(hl_parse_time(buf, &back), 0, "%s", buf);
		cr_assert_eq(back, t, "%s", buf);
	}
}

/* ----------------------------------------------------------------- phones */

static const char *norm(const char *in)
{
	static char out[HL_PHONE_MAX];
	cr_assert_eq(hl_phone_normalize(in, out, sizeof out), 0, "'%s' should normalize", in);
	return out;
}

static void norm_bad(const char *in)
{
	char out[HL_PHONE_MAX] = "junk";
	cr_assert_eq(hl_phone_normalize(in, out, sizeof out), -1, "'%s' should be rejected", in);
	cr_assert_str_eq(out, "");
}

Test(phone, normalize)
{
	cr_assert_str_eq(norm("+8613800000001"), "+8613800000001");
	cr_assert_str_eq(norm("86-138 0000 0001"), "8613800000001");
	cr_assert_str_eq(norm("+86 138-0000-0001"), "+8613800000001");
	cr_assert_str_eq(norm("+1 (555) 123.4567"), "+15551234567");
	cr_assert_str_eq(norm(" +86 138"), "+86138");
	cr_assert_str_eq(norm("+ 86138"), "+86138");
	cr_assert_str_eq(norm("110"), "110");
	cr_assert_str_eq(norm("12345"), "12345");
	cr_assert_str_eq(norm("12345678901234567890"), "12345678901234567890");
	cr_assert_str_eq(norm("+12345678901234567890"), "+12345678901234567890");
	cr_assert_str_eq(norm("00861380000"), "00861380000");
}

Test(phone, normalize_rejects)
{
	norm_bad("");
	norm_bad("+");
	norm_bad("++86");
	norm_bad("+86+138");
	norm_bad("86+138");
	norm_bad("12");
	norm_bad("+12");
	norm_bad("1-2");
	norm_bad("   ");
	norm_bad("---");
	norm_bad("123456789012345678901");     /* 21 digits */
	norm_bad("+123456789012345678901");
	norm_bad("138abc0001");
	norm_bad("1380000000x");
	norm_bad("138\t0000");
	norm_bad("138/0000");
	norm_bad("138#0000");
	norm_bad("\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93"); /* fullwidth digits */
	norm_bad("tel:+8613800000001");
	norm_bad(NULL);
	char out[4];
	cr_assert_eq(hl_phone_normalize("12345", out, sizeof out), -1); /* no room */
	cr_assert_eq(hl_phone_normalize("123", out, sizeof out), 0);
	cr_assert_str_eq(out, "123");
	cr_assert_eq(hl_phone_normalize("123", NULL, 10), -1);
}

static const char *mask(const char *in)
{
	static char out[64];
	hl_phone_mask(in, out, sizeof out);
	return out;
}

Test(phone, mask_long)
{
	cr_assert_str_eq(mask("+8613800000001"), "+86138****0001");
	cr_assert_str_eq(mask("13800000001"), "138****0001");
	cr_assert_str_eq(mask("+15551234567"), "+155****4567");
	cr_assert_str_eq(mask("+12345678901234567890"), "+123456789012****7890");
	/* never more than len-4 characters shown */
	const char *nums[] = { "13800000001", "+8613800000001", "+12345678901234567890" };
	for (size_t i = 0; i < 3; i++) {
		const char *m = mask(nums[i]);
		cr_assert_eq(strlen(m), strlen(nums[i]));
		size_t stars = 0;
		for (const char *p = m; *p; p++)
			stars += *p == '*';
		cr_assert_eq(stars, 4);
	}
}

Test(phone, mask_short)
{
	cr_assert_str_eq(mask("1234567890"), "********90");
	cr_assert_str_eq(mask("12345678"), "******78");
	cr_assert_str_eq(mask("+123456"), "+****56");
	cr_assert_str_eq(mask("12345"), "***45");
	cr_assert_str_eq(mask("1234"), "****");
	cr_assert_str_eq(mask("110"), "***");
	cr_assert_str_eq(mask("+12"), "+**");
	cr_assert_str_eq(mask(""), "");
	cr_assert_str_eq(mask(NULL), "");
}

Test(phone, mask_small_buffer)
{
	char out[8] = "zzzzzzz";
	hl_phone_mask("+8613800000001", out, sizeof out);
	cr_assert_str_eq(out, "", "a too-small buffer must never hold a partial number");
	char exact[15];
	hl_phone_mask("+8613800000001", exact, sizeof exact);
	cr_assert_str_eq(exact, "+86138****0001");
	hl_phone_mask("+8613800000001", NULL, 0); /* must not crash */
	hl_phone_mask("+8613800000001", out, 0);
}

/* ------------------------------------------------------------ const time */

Test(const_time, eq)
{
	cr_assert(hl_const_time_eq("secret", "secret"));
	cr_assert(hl_const_time_eq("", ""));
	cr_assert_not(hl_const_time_eq("secret", "secreT"));
	cr_assert_not(hl_const_time_eq("secret", "secret2"));
	cr_assert_not(hl_const_time_eq("secret2", "secret"));
	cr_assert_not(hl_const_time_eq("", "x"));
	cr_assert_not(hl_const_time_eq("x", ""));
	cr_assert_not(hl_const_time_eq("abcabc", "abc")); /* wrap-around must not match */
	cr_assert_not(hl_const_time_eq(NULL, "x"));
	cr_assert_not(hl_const_time_eq("x", NULL));
	cr_assert_not(hl_const_time_eq(NULL, NULL));
}

/* ------------------------------------- phones: E.164 under a plan (item 11) */

static const struct hl_phone_plan CN = {"86", "0", "00"};
static const struct hl_phone_plan US = {"1", "1", "011"};
static const struct hl_phone_plan UK = {"44", "0", "00"};

/* hl_phone_e164 under plan must give want, and be stable on its own output. */
static void e164(const struct hl_phone_plan *plan, const char *in, const char *want)
{
	char out[HL_PHONE_MAX], again[HL_PHONE_MAX];
	cr_assert_eq(hl_phone_e164(in, plan, out, sizeof out), 0, "'%s' should normalize", in);
	cr_assert_str_eq(out, want, "'%s' under +%s", in, plan ? plan->country_code : "-");
	cr_assert_eq(hl_phone_e164(out, plan, again, sizeof again), 0);
	cr_assert_str_eq(again, out, "not stable: '%s' -> '%s' -> '%s'", in, out, again);
}

static void e164_bad(const struct hl_phone_plan *plan, const char *in)
{
	char out[HL_PHONE_MAX] = "junk";
	cr_assert_eq(hl_phone_e164(in, plan, out, sizeof out), -1, "'%s' should be refused", in);
	cr_assert_str_eq(out, "");
}

Test(phone, e164_one_caller_three_forms)
{
	e164(&CN, "13900000077", "+8613900000077");
	e164(&CN, "+86 139 0000 0077", "+8613900000077");
	e164(&CN, "0086 139-0000-0077", "+8613900000077");
	e164(&CN, "+8613900000077", "+8613900000077");
}

Test(phone, e164_china)
{
	/* landlines: trunk prefix 0 + area code */
	e164(&CN, "010-12345678", "+861012345678");
	e164(&CN, "(0571) 8888 6666", "+8657188886666");
	e164(&CN, "+86 (0)10 1234 5678", "+861012345678"); /* "(0)" after the own code */
	e164(&CN, "0086 10 1234 5678", "+861012345678");
	/* short service numbers stay as dialled */
	e164(&CN, "110", "110");
	e164(&CN, "120", "120");
	e164(&CN, "12345", "12345");
	e164(&CN, "95588", "95588");
	e164(&CN, "123456", "123456");
	e164(&CN, "0123", "0123");      /* trunk + too short a number: kept */
	/* other countries */
	e164(&CN, "001 202 555 0123", "+12025550123");
	e164(&CN, "+44 20 7946 0958", "+442079460958");
	e164(&CN, "00852 2123 4567", "+85221234567");
	/* a 7+ digit national number without trunk prefix is national */
	e164(&CN, "1234567", "+861234567");
}

Test(phone, e164_other_plans)
{
	e164(&US, "(202) 555-0123", "+12025550123");
	e164(&US, "1 202 555 0123", "+12025550123");
	e164(&US, "011 44 20 7946 0958", "+442079460958");
	e164(&US, "911", "911");
	e164(&UK, "020 7946 0958", "+442079460958");
	e164(&UK, "+44 (0)20 7946 0958", "+442079460958");
	e164(&UK, "00 86 139 0000 0077", "+8613900000077");
	e164(&UK, "999", "999");
	/* no country: v1 behaviour, separators removed only */
	static const struct hl_phone_plan NONE = {"", "", ""};
	e164(&NONE, "0086 139-0000-0077", "008613900000077");
	e164(&NONE, "13900000077", "13900000077");
	e164(NULL, "+86 139 0000 0077", "+8613900000077");
}

Test(phone, e164_garbage)
{
	e164_bad(&CN, "");
	e164_bad(&CN, "+");
	e164_bad(&CN, "00");
	e164_bad(&CN, "0086");             /* the international prefix and 2 digits */
	e164_bad(&CN, "12");
	e164_bad(&CN, "139abc0077");
	e164_bad(&CN, "tel:+8613900000077");
	e164_bad(&CN, "+86+139");
	e164_bad(&CN, "12345678901234567890"); /* 20 national digits + 86 = 22 */
	e164_bad(&CN, "123456789012345678901");
	e164_bad(&CN, NULL);
	char out[8];
	cr_assert_eq(hl_phone_e164("13900000077", &CN, out, sizeof out), -1); /* no room */
	cr_assert_str_eq(out, "");
}

/* hl_phone_normalize (the parser's) follows the configured plan. */
Test(phone, normalize_uses_the_configured_plan)
{
	hl_phone_set_plan(&CN);
	cr_assert_str_eq(norm("0086 139-0000-0077"), "+8613900000077");
	cr_assert_str_eq(norm("13900000077"), "+8613900000077");
	hl_phone_set_plan(NULL);
	cr_assert_str_eq(norm("13900000077"), "13900000077");
}

/* Found by fuzzing: a trunk prefix doubled after the country code, or after
 * the international prefix, must give one stable answer. */
Test(phone, e164_doubled_trunk_prefix_is_stable)
{
	e164(&CN, "+860086000101", "+860086000101");
	e164(&CN, "0086 0 10 1234 5678", "+861012345678");
	e164(&US, "1 1 202 555 0123", "+1112025550123"); /* the second 1 is kept: stable */
	e164(&US, "+1 1 1 202 555 0123", "+1112025550123");
}

/* The one list of alert families: every kind the rules raise has one. */
Test(alert_families, every_kind_has_its_family)
{
	static const char *const kinds[] = {
		"callback_due_soon", "callback_overdue", "update_overdue", "resolution_due_soon", "survey_overdue",
		"repeat_caller", "dissatisfied", "transfer_loop", "order_sign_overdue", "order_reply_overdue",
		"redispatch_overdue", "redispatch_due_soon", "buck_passing", "hotspot",
	};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		cr_assert_geq(hl_alert_family_of(kinds[i]), 0, "%s", kinds[i]);
	cr_assert_str_eq(hl_alert_family(hl_alert_family_of("order_reply_overdue")), "order_reply");
	cr_assert_eq(hl_alert_family_of("updates"), -1);
	cr_assert_eq(hl_alert_family_of(NULL), -1);
	cr_assert_null(hl_alert_family(HL_ALERT_FAMILIES));
}

/* ------------------------------------------------------- database errors */

Test(db_failure, sqlstates)
{
	cr_assert_eq(hl_db_failure_of("40001"), HL_DB_RETRY, "serialization failure");
	cr_assert_eq(hl_db_failure_of("40P01"), HL_DB_RETRY, "deadlock");
	cr_assert_eq(hl_db_failure_of("53100"), HL_DB_REFUSING, "disk full");
	cr_assert_eq(hl_db_failure_of("53200"), HL_DB_REFUSING, "out of memory");
	cr_assert_eq(hl_db_failure_of("57014"), HL_DB_REFUSING, "statement timeout");
	cr_assert_eq(hl_db_failure_of("57P01"), HL_DB_REFUSING, "admin shutdown");
	cr_assert_eq(hl_db_failure_of("58030"), HL_DB_REFUSING, "I/O error");
	cr_assert_eq(hl_db_failure_of("25006"), HL_DB_REFUSING, "read-only transaction");
	cr_assert_eq(hl_db_failure_of("55P03"), HL_DB_REFUSING, "lock timeout");
	cr_assert_eq(hl_db_failure_of("08006"), HL_DB_REFUSING, "connection failure");
	cr_assert_eq(hl_db_failure_of("23505"), HL_DB_REFUSED, "unique violation");
	cr_assert_eq(hl_db_failure_of("22P02"), HL_DB_REFUSED, "invalid text");
	cr_assert_eq(hl_db_failure_of("P0001"), HL_DB_REFUSED, "raise exception");
	cr_assert_eq(hl_db_failure_of("XX000"), HL_DB_REFUSED, "internal error");
	cr_assert_eq(hl_db_failure_of("25001"), HL_DB_REFUSED, "other class 25");
	cr_assert_eq(hl_db_failure_of(NULL), HL_DB_REFUSED);
	cr_assert_eq(hl_db_failure_of(""), HL_DB_REFUSED);
	cr_assert_eq(hl_db_failure_of("4000"), HL_DB_REFUSED, "not a SQLSTATE");
}

/* hl_utf8_mend: a byte cut through a character is dropped, whole characters stay */
Test(util, utf8_mend_drops_cut_characters)
{
	char a[64];
	/* "区住建委" cut after the first byte of 建: "区住\xe5" + ")" */
	snprintf(a, sizeof a, "(%s)", "\xe5\x8c\xba\xe4\xbd\x8f\xe5");
	cr_assert_str_eq(hl_utf8_mend(a), "(\xe5\x8c\xba\xe4\xbd\x8f)");
	snprintf(a, sizeof a, "ok \xf0\x9f\x98\x80 \xf0\x9f end\xe5\x8c");
	cr_assert_str_eq(hl_utf8_mend(a), "ok \xf0\x9f\x98\x80  end");
	snprintf(a, sizeof a, "\x80stray\xff\xc0\xaf.");
	cr_assert_str_eq(hl_utf8_mend(a), "stray.");
	snprintf(a, sizeof a, "plain ascii");
	cr_assert_str_eq(hl_utf8_mend(a), "plain ascii");
}
