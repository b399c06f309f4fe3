/*
 * test_defects.c - unit regression tests for issue 16 (the parser and the
 * text helpers): numbers PostgreSQL cannot store, ids counted in characters,
 * the plausible range of `at`, phone numbers masked in server messages, and
 * text made safe for terminals.  Each test failed before its fix.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "redact.h"

#define NOW INT64_C(1795137300000) /* 2026-11-20T01:15:00Z */

static enum hl_err parse(const char *line, struct hl_event *ev, struct hl_error *err)
{
	return hl_parse_request(line, strlen(line), NOW, ev, err);
}

static void expect_bad(const char *line, const char *msg_prefix)
{
	struct hl_event ev;
	struct hl_error err;
	enum hl_err rc = parse(line, &ev, &err);
	cr_assert_eq(rc, HL_E_BAD_REQUEST, "%s: got %s (%s)", line, hl_err_code(rc), err.message);
	cr_assert_eq(strncmp(err.message, msg_prefix, strlen(msg_prefix)), 0, "%s: message '%s', want '%s...'", line,
	             err.message, msg_prefix);
	hl_event_free(&ev);
}

static void expect_ok(const char *line)
{
	struct hl_event ev;
	struct hl_error err;
	enum hl_err rc = parse(line, &ev, &err);
	cr_assert_eq(rc, HL_OK, "%s: got %s (%s)", line, hl_err_code(rc), err.message);
	hl_event_free(&ev);
}

/* ------------------------------------------------- item 8: numbers */

/* The limits were checked against PostgreSQL 15 ('{"x":V}'::jsonb). */
Test(numbers, beyond_postgresql_numeric_are_bad_request_naming_the_field)
{
	const char *refused[] = { "1e999999", "1e131072", "10e131071", "-99e131071", "1e-16384", "1.5e-16383",
	                          "0.00e-16382", "0e-16384", "0e999999999999", "5e+99999999999999999999",
	                          "1e-99999999999999999999" };
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		char line[128];
		snprintf(line, sizeof line, "{\"id\":\"r1\",\"type\":\"ping\",\"x\":%s}", refused[i]);
		expect_bad(line, "x: number out of range for PostgreSQL numeric");
	}
	/* nested, in an array, under an unknown field */
	expect_bad("{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":1,\"meta\":{\"a\":[1,2,{\"b\":5e+999999}]}}",
	           "meta: number out of range");
	/* in a field the type uses: still the number check first */
	expect_bad("{\"id\":\"r1\",\"type\":\"call.answered\",\"call_id\":1e999999,\"agent\":\"a\"}",
	           "call_id: number out of range");
	/* 16384 digits after the point */
	size_t n = 16384;
	char *line = malloc(n + 64);
	int k = sprintf(line, "{\"id\":\"r1\",\"type\":\"ping\",\"f\":0.");
	memset(line + k, '1', n);
	strcpy(line + k + n, "}");
	expect_bad(line, "f: number out of range");
	line[k + n - 1] = '}';
	line[k + n] = '\0';
	expect_ok(line); /* 16383 */
	free(line);
}

Test(numbers, that_postgresql_stores_are_accepted)
{
	const char *accepted[] = { "1e1000", "1e1001", "1e131071", "9e131071", "0.1e131072", "0e131072", "1e-16383",
	                           "0e-16383", "-1.5E-1000", "0.0e-1000", "123456789012345678901234567890", "-0",
	                           "0.000001" };
	for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
		char line[128];
		snprintf(line, sizeof line, "{\"id\":\"r1\",\"type\":\"ping\",\"x\":%s}", accepted[i]);
		expect_ok(line);
	}
}

Test(numbers, nan_and_infinity_are_not_json)
{
	const char *lines[] = { "{\"id\":\"r1\",\"type\":\"ping\",\"x\":NaN}", "{\"id\":\"r1\",\"type\":\"ping\",\"x\":Infinity}",
	                        "{\"id\":\"r1\",\"type\":\"ping\",\"x\":-Infinity}", "{\"id\":\"r1\",\"type\":\"ping\",\"x\":+1}",
	                        "{\"id\":\"r1\",\"type\":\"ping\",\"x\":.5}", "{\"id\":\"r1\",\"type\":\"ping\",\"x\":1.}" };
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		struct hl_event ev;
		struct hl_error err;
		cr_assert_eq(parse(lines[i], &ev, &err), HL_E_BAD_JSON, "%s", lines[i]);
		hl_event_free(&ev);
	}
}

/* ------------------------------------------- item 18: characters */

/* n copies of the 3-byte character 中 */
static char *chinese(size_t n)
{
	char *s = malloc(n * 3 + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(s + 3 * i, "\xe4\xb8\xad", 3);
	s[n * 3] = '\0';
	return s;
}

Test(lengths, ids_count_characters_not_bytes)
{
	char line[2048];
	char *s43 = chinese(43), *s128 = chinese(128), *s129 = chinese(129);
	snprintf(line, sizeof line, "{\"id\":\"%s\",\"type\":\"ping\"}", s43);
	expect_ok(line);
	snprintf(line, sizeof line, "{\"id\":\"%s\",\"type\":\"ping\"}", s128);
	struct hl_event ev;
	struct hl_error err;
	cr_assert_eq(parse(line, &ev, &err), HL_OK, "%s", err.message);
	cr_assert_str_eq(ev.id, s128);
	hl_event_free(&ev);
	snprintf(line, sizeof line, "{\"id\":\"%s\",\"type\":\"ping\"}", s129);
	cr_assert_eq(parse(line, &ev, &err), HL_E_BAD_REQUEST);
	cr_assert_str_eq(err.message, "id: must be a string of 1..128 characters");
	hl_event_free(&ev);
	/* identifiers too: agent, call_id, ... */
	snprintf(line, sizeof line, "{\"id\":\"r1\",\"type\":\"call.answered\",\"call_id\":\"%s\",\"agent\":\"%s\"}", s128, s43);
	expect_ok(line);
	snprintf(line, sizeof line, "{\"id\":\"r1\",\"type\":\"call.answered\",\"call_id\":\"c\",\"agent\":\"%s\"}", s129);
	expect_bad(line, "agent: must be a string of 1..128 characters");
	free(s43), free(s128), free(s129);
}

Test(lengths, free_text_counts_characters_not_bytes)
{
	char *s4096 = chinese(4096), *s4097 = chinese(4097);
	size_t cap = 4097 * 3 + 128;
	char *line = malloc(cap);
	snprintf(line, cap, "{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":1,\"note\":\"%s\"}", s4096);
	expect_ok(line);
	snprintf(line, cap, "{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":1,\"note\":\"%s\"}", s4097);
	expect_bad(line, "note: must be a string of at most 4096 characters");
	free(line), free(s4096), free(s4097);
}

/* ----------------------------------------------------- item 19: at */

Test(at_range, outside_1980_to_one_day_ahead_is_bad_request)
{
	const char *m = "at: must lie between 1980-01-01T00:00:00Z and one day after the time of receipt";
	expect_bad("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"1970-01-01T00:00:00Z\"}", m);
	expect_bad("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"0000-01-01T00:00:00Z\"}", "at: ");
	expect_bad("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"1979-12-31T23:59:59.999Z\"}", m);
	expect_bad("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"1970-01-20T16:13:20Z\"}", m);
	expect_bad("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"9999-12-31T23:59:59Z\"}", m);
	expect_bad("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"2026-11-21T01:15:00.001Z\"}", m);
	expect_bad("{\"id\":\"r1\",\"type\":\"call.offered\",\"call_id\":\"c\",\"caller\":\"13900000001\","
	           "\"at\":\"1970-01-01T00:00:00Z\"}", m);
}

Test(at_range, history_and_clock_skew_are_accepted)
{
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"1980-01-01T00:00:00Z\"}");
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"1999-01-01T07:00:00+02:00\"}");
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"2000-01-01T00:00:00Z\"}");
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"2000-01-01T08:00:00+08:00\"}");
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"2011-03-11T05:46:00Z\"}");
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"2026-11-21T01:15:00Z\"}");
}

/* ------------------------------------------ item 5: server messages */

static const char *redact(const char *in)
{
	static char out[1024];
	hl_redact_digits(in, out, sizeof out);
	return out;
}

Test(redact, failing_row_detail_is_masked)
{
	const char *pg = "ERROR:  null value in column \"at\" of relation \"case_events\" violates not-null constraint\n"
	                 "DETAIL:  Failing row contains (17, c-1, call.offered, null, +8613900000003, "
	                 "{\"caller\": \"+86 139 0000 0003\", \"n\": \"139-0000-0003\"}, 2026-11-20 01:15:00+00).\n";
	const char *r = redact(pg);
	cr_assert_null(strstr(r, "8613900000003"), "%s", r);
	cr_assert_null(strstr(r, "0000 0003"), "%s", r);
	cr_assert_null(strstr(r, "0000-0003"), "%s", r);
	cr_assert(strstr(r, "+***********03"), "%s", r);
	cr_assert(strstr(r, "+** *** **** **03"), "%s", r);
	/* what one reads a log for stays: words, short numbers, dates */
	cr_assert(strstr(r, "(17, c-1, call.offered"), "%s", r);
	cr_assert(strstr(r, "2026-11-20 01:15:00+00"), "%s", r);
	cr_assert_eq(strlen(r), strlen(pg));
}

Test(redact, formatting_does_not_defeat_it)
{
	cr_assert_str_eq(redact("x +861390000----0003 y"), "x +*********----**03 y");
	cr_assert_str_eq(redact("(139) 0000.0077"), "(***) ****.**77");
	cr_assert_str_eq(redact("repeat:+8613900000003:c1:4"), "repeat:+***********03:c1:4");
	cr_assert_str_eq(redact("1390-01-01 0077"), "****-**-** **77"); /* not a date: no time follows */
	cr_assert_str_eq(redact("abc13900000077"), "abc*********77");
	cr_assert_str_eq(redact("123456 and 12345"), "123456 and 12345");
	char small[8];
	hl_redact_digits("13900000077", small, sizeof small);
	cr_assert_str_eq(small, "*******");
}

/* -------------------------------------------------- item 16: terminals */

static const char *term(const char *in)
{
	static char out[1024];
	size_t need = hl_term_safe(in, out, sizeof out);
	cr_assert_eq(need, strlen(out));
	return out;
}

Test(term, control_characters_are_shown_not_acted_on)
{
	cr_assert_str_eq(term("roads\x1b[2J\x1b]0;pwned\x07"), "roads\\e[2J\\e]0;pwned\\x07");
	cr_assert_str_eq(term("a\r\nFAKE LINE"), "a\\r\\nFAKE LINE");
	cr_assert_str_eq(term("tab\there\x7f"), "tab\\there\\x7F");
	cr_assert_str_eq(term("c1:\xc2\x9b" "31m"), "c1:\\u{009B}31m");
	cr_assert_str_eq(term("bidi:\xe2\x80\xae" "txt"), "bidi:\\u{202E}txt");
	cr_assert_str_eq(term("bad:\xff\xc0\xaf"), "bad:\\xFF\\xC0\\xAF");
	cr_assert_str_eq(term("back\\slash"), "back\\\\slash");
	cr_assert_str_eq(term("投诉 complaints é"), "投诉 complaints é");
}

Test(term, cut_at_a_whole_escape)
{
	char out[6];
	size_t need = hl_term_safe("ab\x1b" "cd", out, sizeof out);
	cr_assert_eq(need, 6);
	cr_assert_str_eq(out, "ab\\ec"); /* whole pieces only, never half an escape */
	need = hl_term_safe("ab\x1b", out, 4);
	cr_assert_eq(need, 4);
	cr_assert_str_eq(out, "ab");
}

/* ---------------------------------------- items 4, 9, 20: new config keys */

#include "config.h"

static int load(const char *text, struct hl_config *cfg, char *err, size_t errlen)
{
	char full[1024];
	snprintf(full, sizeof full, "database = { conninfo = \"dbname=x\"; };\n%s", text);
	memset(cfg, 0, sizeof *cfg);
	return hl_config_load_string(full, "t.conf", NULL, cfg, err, errlen);
}

Test(config_keys, webhooks_mask_confidential_per_url_and_max_pending)
{
	struct hl_config cfg;
	char err[512];
	cr_assert_eq(load("webhooks = { urls = [ \"http://a/x\", \"https://b/y\" ]; };", &cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg.webhooks.n_urls, 2);
	cr_assert(cfg.webhooks.mask_confidential[0] && cfg.webhooks.mask_confidential[1], "masked by default");
	cr_assert_eq(cfg.webhooks.max_pending, 10000);
	cr_assert_null(cfg.dns.nameserver);
	hl_config_free(&cfg);

	cr_assert_eq(load("webhooks = { max_pending = 5; urls = ( \"http://a/x\", { url = \"http://b/y\"; "
	                  "mask_confidential = false; }, { url = \"http://c/z\"; } ); };\n"
	                  "dns = { nameserver = \"127.0.0.1:5353\"; };", &cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg.webhooks.n_urls, 3);
	cr_assert_str_eq(cfg.webhooks.urls[1], "http://b/y");
	cr_assert(cfg.webhooks.mask_confidential[0]);
	cr_assert_not(cfg.webhooks.mask_confidential[1]);
	cr_assert(cfg.webhooks.mask_confidential[2]);
	cr_assert_eq(cfg.webhooks.max_pending, 5);
	cr_assert_str_eq(cfg.dns.nameserver, "127.0.0.1:5353");
	hl_config_free(&cfg);
}

Test(config_keys, bad_values_name_the_key)
{
	struct hl_config cfg;
	char err[512];
	cr_assert_eq(load("webhooks = { urls = ( { url = \"http://a/\"; mask = false; } ); };", &cfg, err, sizeof err), -1);
	cr_assert(strstr(err, "unknown key"), "%s", err);
	cr_assert_eq(load("webhooks = { urls = ( { mask_confidential = false; } ); };", &cfg, err, sizeof err), -1);
	cr_assert(strstr(err, "url: missing"), "%s", err);
	cr_assert_eq(load("webhooks = { urls = ( { url = \"http://a/\"; mask_confidential = \"no\"; } ); };", &cfg, err,
	                  sizeof err), -1);
	cr_assert(strstr(err, "mask_confidential"), "%s", err);
	cr_assert_eq(load("dns = { nameserver = \"resolver.example:53\"; };", &cfg, err, sizeof err), -1);
	cr_assert(strstr(err, "dns.nameserver: bad nameserver"), "%s", err);
	cr_assert_eq(load("webhooks = { max_pending = 0; };", &cfg, err, sizeof err), -1);
	cr_assert(strstr(err, "max_pending"), "%s", err);
	cr_assert_eq(load("dns = { nameserver = \"::1\"; };", &cfg, err, sizeof err), 0, "%s", err);
	hl_config_free(&cfg);
}
