/*
 * test_protocol_requests.c - unit tests for parsing a request line as a
 * whole (daemon/protocol.c, protocol_scan.c), before any type's own fields:
 * the strict JSON scan (not JSON, not an object, trailing garbage, raw
 * control characters, invalid UTF-8, surrogate escapes, nesting, numbers),
 * framing (trailing CR and whitespace, the length given), the id and type
 * fields, NUL anywhere, "at" given or invalid, duplicate keys (refused,
 * naming the key) and hl_event_free.  Every error path is checked with its exact
 * message.
 *
 * The protocol tests: test_protocol_requests.c (the request line as a
 * whole), test_protocol_types.c (each type's fields),
 * test_protocol_replies.c (reply lines); the helpers are
 * protocol_fixtures.h.
 */
#include <criterion/criterion.h>

#include "protocol_fixtures.h"

/* ---------------------------------------------------------------- bad_json */

Test(bad_json, not_json)
{
	BAD_JSON("");
	BAD_JSON("   ");
	BAD_JSON("hello");
	BAD_JSON("{");
	BAD_JSON("{\"id\":\"r1\"");
	BAD_JSON("{\"id\":\"r1\",}");
	BAD_JSON("{\"id\" \"r1\"}");
	BAD_JSON("{\"id\":r1}");
	BAD_JSON("{id:\"r1\"}");
	BAD_JSON("{'id':'r1'}");
	BAD_JSON("{\"id\":\"r1\",\"x\":NaN}");
	BAD_JSON("{\"id\":\"r1\",\"x\":Infinity}");
	BAD_JSON("{\"id\":\"r1\",\"x\":-Infinity}");
	BAD_JSON("{\"id\":\"r1\",\"x\":True}");
	BAD_JSON("{\"id\":\"r1\",\"x\":nul}");
	BAD_JSON("{\"id\":\"r1\",\"x\":01}");
	BAD_JSON("{\"id\":\"r1\",\"x\":1.}");
	BAD_JSON("{\"id\":\"r1\",\"x\":.5}");
	BAD_JSON("{\"id\":\"r1\",\"x\":1e}");
	BAD_JSON("{\"id\":\"r1\",\"x\":+1}");
	BAD_JSON("{\"id\":\"r1\",\"x\":-}");
	BAD_JSON("{\"id\":\"r1\",\"x\":0x10}");
	BAD_JSON("{\"id\":\"r1\",\"x\":[1,]}");
	BAD_JSON("{\"id\":\"r1\",\"x\":[1 2]}");
	BAD_JSON("{\"id\":\"r1\",\"x\":\"\\x41\"}");
	BAD_JSON("{\"id\":\"r1\",\"x\":\"\\u12\"}");
	BAD_JSON("{\"id\":\"r1\",\"x\":\"\\u12g4\"}");
	BAD_JSON("{\"id\":\"r1\"} // comment");
	BAD_JSON("/*c*/{\"id\":\"r1\"}");
}

Test(bad_json, not_an_object)
{
	BAD_JSON("[1]");
	BAD_JSON("\"x\"");
	BAD_JSON("42");
	BAD_JSON("null");
	BAD_JSON("true");
	struct hl_event ev;
	struct hl_error err;
	cr_assert_eq(parse("[{\"id\":\"r1\",\"type\":\"ping\"}]", &ev, &err), HL_E_BAD_JSON);
	cr_assert_str_eq(err.message, "invalid JSON at byte 0: the request must be a JSON object");
}

Test(bad_json, trailing_garbage)
{
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\"}x");
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\"}{}");
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\"} {\"id\":\"r2\",\"type\":\"ping\"}");
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\"}\r\r\rx");
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\"}\n{}");
	struct hl_event ev;
	struct hl_error err;
	cr_assert_eq(parse("{\"id\":\"r1\",\"type\":\"ping\"}  x", &ev, &err), HL_E_BAD_JSON);
	cr_assert_str_eq(err.message, "invalid JSON at byte 27: trailing characters after the object");
}

Test(bad_json, control_characters_raw)
{
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"a\tb\"}");
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"a\nb\"}");
	BAD_JSON("{\"id\":\"r\x01\",\"type\":\"ping\"}");
	/* a raw NUL byte, inside a string and outside */
	expect_bad_json("{\"id\":\"r\0\",\"type\":\"ping\"}", 25);
	expect_bad_json("{\"id\":\"r1\",\"type\":\"ping\"}\0", 26);
	expect_bad_json("\0", 1);
	struct hl_event ev;
	struct hl_error err;
	cr_assert_eq(parse("{\"x\":\"a\tb\"}", &ev, &err), HL_E_BAD_JSON);
	cr_assert_str_eq(err.message, "invalid JSON at byte 7: control character in string");
}

Test(bad_json, invalid_utf8)
{
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\xff\"}");
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\xc3\"}");          /* truncated */
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\xc3(\"}");         /* bad continuation */
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\xc0\x80\"}");      /* overlong NUL */
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\xc1\xbf\"}");      /* overlong */
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\xe0\x80\xaf\"}");  /* overlong '/' */
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\xed\xa0\x80\"}");  /* UTF-16 surrogate */
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\xf4\x90\x80\x80\"}"); /* > U+10FFFF */
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\xf5\x80\x80\x80\"}");
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\xf0\x80\x80\x80\"}"); /* overlong 4-byte */
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\x80\"}");          /* lone continuation */
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"\xff\":1}");              /* in a key */
	BAD_JSON("\xef\xbb\xbf{\"id\":\"r1\",\"type\":\"ping\"}");             /* BOM */
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\xe4\xb8");         /* cut at the end */
}

Test(bad_json, surrogate_escapes)
{
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\\ud800\"}");
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\\udc00\"}");
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\\ud800\\u0041\"}");
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\\ud800x\"}");
	BAD_JSON("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\\udbff\\udbff\"}");
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\\ud83d\\ude00 \\u00e9 \\uFFFF\"}", &ev);
	hl_event_free(&ev);
}

Test(bad_json, valid_utf8_accepted)
{
	struct hl_event ev;
	expect_ok("{\"id\":\"\xe5\x91\xbc\xe5\x8f\xab-1\",\"type\":\"case.update\",\"case_id\":1,"
	          "\"note\":\"\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbf\"}", &ev);
	cr_assert_str_eq(ev.id, "\xe5\x91\xbc\xe5\x8f\xab-1");
	cr_assert_str_eq(ev.note, "\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbf");
	hl_event_free(&ev);
}

Test(bad_json, nesting)
{
	char deep[256], ok[256];
	/* 31 arrays inside the top-level object: depth 32, accepted */
	snprintf(ok, sizeof ok, "{\"id\":\"r1\",\"type\":\"ping\",\"x\":%.*s1%.*s}", 31,
	         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 31, "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	struct hl_event ev;
	expect_ok(ok, &ev);
	hl_event_free(&ev);
	snprintf(deep, sizeof deep, "{\"id\":\"r1\",\"type\":\"ping\",\"x\":%.*s1%.*s}", 32,
	         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 32, "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	expect_bad_json(deep, strlen(deep));
	struct hl_error err;
	cr_assert_eq(parse(deep, &ev, &err), HL_E_BAD_JSON);
	cr_assert(strstr(err.message, "nesting too deep"));

	/* very deep: must fail cleanly, not blow the stack */
	size_t n = 100000;
	char *huge = malloc(2 * n + 64);
	strcpy(huge, "{\"id\":\"r1\",\"x\":");
	size_t o = strlen(huge);
	memset(huge + o, '[', n);
	huge[o + n] = '\0';
	expect_bad_json(huge, strlen(huge));
	free(huge);
}

Test(bad_json, numbers_in_unknown_fields)
{
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"ping\",\"a\":123456789012345678901234567890,\"b\":1e400,"
	          "\"c\":-0,\"d\":-1.5E-7,\"e\":0.0,\"f\":[],\"g\":{},\"h\":[{\"i\":[null,true,false]}]}", &ev);
	hl_event_free(&ev);
}

/* ---------------------------------------------------------------- framing */

Test(framing, trailing_cr_and_whitespace)
{
	struct hl_event ev;
	const char *line = "{\"id\":\"r1\",\"type\":\"ping\"}\r";
	expect_ok(line, &ev);
	cr_assert_eq(ev.line_len, strlen(line) - 1);
	cr_assert_str_eq(ev.line, "{\"id\":\"r1\",\"type\":\"ping\"}");
	hl_event_free(&ev);

	const char *spaced = "  {\"id\":\"r1\", \"type\" : \"ping\" }\t ";
	expect_ok(spaced, &ev);
	cr_assert_eq(ev.line_len, strlen(spaced));
	cr_assert_str_eq(ev.line, spaced);
	hl_event_free(&ev);

	/* only one \r is stripped; a second is just whitespace and stays */
	expect_ok("{\"id\":\"r1\",\"type\":\"ping\"}\r\r", &ev);
	cr_assert_str_eq(ev.line, "{\"id\":\"r1\",\"type\":\"ping\"}\r");
	hl_event_free(&ev);
}

Test(framing, len_is_respected)
{
	/* the bytes after len are not part of the request */
	const char *buf = "{\"id\":\"r1\",\"type\":\"ping\"}GARBAGE";
	struct hl_event ev;
	struct hl_error err;
	cr_assert_eq(parse_n(buf, 25, &ev, &err), HL_OK, "%s", err.message);
	cr_assert_eq(ev.line_len, 25);
	cr_assert_str_eq(ev.line, "{\"id\":\"r1\",\"type\":\"ping\"}");
	hl_event_free(&ev);
	cr_assert_eq(parse_n(buf, 24, &ev, &err), HL_E_BAD_JSON);
	cr_assert_eq(parse_n(buf, 26, &ev, &err), HL_E_BAD_JSON);
	cr_assert_eq(parse_n(NULL, 0, &ev, &err), HL_E_BAD_JSON);
	cr_assert_eq(parse_n("\r", 1, &ev, &err), HL_E_BAD_JSON);
}

/* ---------------------------------------------------------------------- id */

Test(id, errors)
{
	expect_err("{\"type\":\"ping\"}", HL_E_BAD_REQUEST, "id: missing", "");
	expect_err("{\"id\":null,\"type\":\"ping\"}", HL_E_BAD_REQUEST, "id: missing", "");
	expect_err("{}", HL_E_BAD_REQUEST, "id: missing", "");
	const char *m = "id: must be a string of 1..128 characters";
	expect_err("{\"id\":\"\",\"type\":\"ping\"}", HL_E_BAD_REQUEST, m, "");
	expect_err("{\"id\":42,\"type\":\"ping\"}", HL_E_BAD_REQUEST, m, "");
	expect_err("{\"id\":true,\"type\":\"ping\"}", HL_E_BAD_REQUEST, m, "");
	expect_err("{\"id\":[\"a\"],\"type\":\"ping\"}", HL_E_BAD_REQUEST, m, "");
	expect_err("{\"id\":{},\"type\":\"ping\"}", HL_E_BAD_REQUEST, m, "");
	expect_err("{\"id\":\"a\\nb\",\"type\":\"ping\"}", HL_E_BAD_REQUEST, m, "");
	expect_err("{\"id\":\"a\\tb\",\"type\":\"ping\"}", HL_E_BAD_REQUEST, m, "");
	expect_err("{\"id\":\"a\\u007fb\",\"type\":\"ping\"}", HL_E_BAD_REQUEST, m, "");
	expect_err("{\"id\":\"a\\u0085b\",\"type\":\"ping\"}", HL_E_BAD_REQUEST, m, "");
	expect_err("{\"id\":\"a\\u0000b\",\"type\":\"ping\"}", HL_E_BAD_REQUEST, m, "");
	expect_err("{\"id\":\"\\u0000\",\"type\":\"ping\"}", HL_E_BAD_REQUEST, m, "");
}

Test(id, lengths)
{
	char line[512], id[200];
	memset(id, 'a', 128);
	id[128] = '\0';
	snprintf(line, sizeof line, "{\"id\":\"%s\",\"type\":\"ping\"}", id);
	struct hl_event ev;
	expect_ok(line, &ev);
	cr_assert_str_eq(ev.id, id);
	hl_event_free(&ev);

	memset(id, 'a', 129);
	id[129] = '\0';
	snprintf(line, sizeof line, "{\"id\":\"%s\",\"type\":\"ping\"}", id);
	expect_err(line, HL_E_BAD_REQUEST, "id: must be a string of 1..128 characters", "");

	expect_ok("{\"id\":\"x\",\"type\":\"ping\"}", &ev);
	cr_assert_str_eq(ev.id, "x");
	hl_event_free(&ev);
	/* escapes are decoded: the id is the string, not its spelling */
	expect_ok("{\"id\":\"\\u0041\\/b\",\"type\":\"ping\"}", &ev);
	cr_assert_str_eq(ev.id, "A/b");
	hl_event_free(&ev);
}

/* -------------------------------------------------------------------- type */

Test(type, errors)
{
	expect_err("{\"id\":\"r1\"}", HL_E_BAD_REQUEST, "type: missing", "r1");
	expect_err("{\"id\":\"r1\",\"type\":null}", HL_E_BAD_REQUEST, "type: missing", "r1");
	expect_err("{\"id\":\"r1\",\"type\":7}", HL_E_BAD_REQUEST, "type: must be a string", "r1");
	expect_err("{\"id\":\"r1\",\"type\":[\"ping\"]}", HL_E_BAD_REQUEST, "type: must be a string", "r1");
	expect_err("{\"id\":\"r1\",\"type\":\"foo\"}", HL_E_UNKNOWN_TYPE, "type: unknown type 'foo'", "r1");
	expect_err("{\"id\":\"r1\",\"type\":\"\"}", HL_E_UNKNOWN_TYPE, "type: unknown type ''", "r1");
	expect_err("{\"id\":\"r1\",\"type\":\"PING\"}", HL_E_UNKNOWN_TYPE, "type: unknown type 'PING'", "r1");
	expect_err("{\"id\":\"r1\",\"type\":\"ping \"}", HL_E_UNKNOWN_TYPE, "type: unknown type 'ping '", "r1");
	expect_err("{\"id\":\"r1\",\"type\":\"a\\nb\"}", HL_E_UNKNOWN_TYPE, "type: unknown type 'a?b'", "r1");
	expect_err("{\"id\":\"r1\",\"type\":\"0123456789012345678901234567890123456789012345678901234567890\"}",
	           HL_E_UNKNOWN_TYPE, "type: unknown type '012345678901234567890123456789012345678901234567...'",
	           "r1");
	/* a cut never splits a UTF-8 character: 47 ASCII + a 3-byte character */
	expect_err("{\"id\":\"r1\",\"type\":\"01234567890123456789012345678901234567890123456\xe4\xb8\xad\"}",
	           HL_E_UNKNOWN_TYPE, "type: unknown type '01234567890123456789012345678901234567890123456...'",
	           "r1");
}

/* --------------------------------------------------------------------- NUL */

Test(nul, rejected_everywhere)
{
	BAD("{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":1,\"note\":\"a\\u0000b\"}", "note: contains NUL");
	BAD("{\"id\":\"r1\",\"type\":\"ping\",\"meta\":{\"a\":[\"x\",\"\\u0000\"]}}", "meta: contains NUL");
	BAD("{\"id\":\"r1\",\"type\":\"ping\",\"meta\":{\"k\\u0000\":1}}", "meta: contains NUL");
	BAD("{\"id\":\"r1\",\"type\":\"ping\",\"a\\u0000b\":1}", "a\\u0000b: contains NUL");
	BAD("{\"id\":\"r1\",\"type\":\"ping\",\"\\u0000\":1}", "\\u0000: contains NUL");
	BAD("{\"id\":\"r1\",\"type\":\"ping\",\"\":\"\\u0000\"}", "\"\": contains NUL");
	BAD("{\"id\":\"r1\",\"type\":\"pi\\u0000ng\"}", "type: contains NUL");
	BAD("{\"id\":\"r1\",\"type\":\"ping\",\"x\":\"\\u0000\",\"y\":\"\\u0000\"}", "x: contains NUL");
	/* a key that json-c would cut to "id" at the NUL */
	BAD("{\"id\":\"r1\",\"type\":\"ping\",\"id\\u0000x\":\"r1\"}", "id\\u0000x: contains NUL");
	/* an escaped backslash followed by u0000 is not a NUL */
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":1,\"note\":\"\\\\u0000\"}", &ev);
	cr_assert_str_eq(ev.note, "\\u0000");
	hl_event_free(&ev);
}

/* ---------------------------------------------------------------------- at */

Test(at, given_and_invalid)
{
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"2026-11-20T09:15:00.5+08:00\"}", &ev);
	cr_assert(ev.at_given);
	cr_assert_eq(ev.at, NOW + 500);
	cr_assert_eq(ev.received, NOW);
	hl_event_free(&ev);
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":null}", &ev);
	cr_assert_not(ev.at_given);
	cr_assert_eq(ev.at, NOW);
	hl_event_free(&ev);
	const char *m = "at: must be an RFC 3339 timestamp with an offset or Z";
	const char *bad[] = { "\"yesterday\"", "\"2026-11-20T09:15:00\"", "\"2026-02-29T00:00:00Z\"",
	                      "\"2026-11-20T24:00:00Z\"", "1795137300", "\"\"", "true",
	                      "\"2026-11-20T09:15:00Z\\n\"" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char line[256];
		snprintf(line, sizeof line, "{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":%s}", bad[i]);
		BAD(line, m);
	}
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"at\":\"2024-02-29T00:00:00Z\"}", &ev);
	hl_event_free(&ev);
}

Test(at, ignored_for_commands)
{
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"ping\",\"at\":\"garbage\"}", &ev);
	cr_assert_not(ev.at_given);
	cr_assert_eq(ev.at, NOW);
	hl_event_free(&ev);
}

/* ------------------------------------------------------------- duplicates */

/* A member given twice is refused (review-ops4): json-c and jsonb keep the
 * last one, but a person reading the stored line, or another JSON library
 * (which may keep the first), would see a different event than the one
 * applied.  The key is named; a duplicated "id" gets no id in the reply
 * (which one would it be?). */
Test(duplicates, refused_naming_the_key)
{
	BAD("{\"id\":\"r1\",\"type\":\"call.offered\",\"call_id\":\"c1\",\"caller\":\"+8613800000000\","
	    "\"caller\":\"+8613900000000\"}", "caller: duplicate key");
	BAD("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"case_id\":2}", "case_id: duplicate key");
	BAD("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":\"x\",\"case_id\":3}", "case_id: duplicate key");
	/* the same key spelled with an escape is the same key */
	BAD("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"case\\u005fid\":2}", "case_id: duplicate key");
	/* an unknown member too: it is stored, and the stored line must mean one thing */
	BAD("{\"id\":\"r1\",\"type\":\"ping\",\"x\":1,\"y\":2,\"x\":3}", "x: duplicate key");
	/* inside a nested object: named with the top-level member it is in */
	BAD("{\"id\":\"r1\",\"type\":\"ping\",\"meta\":{\"a\":1,\"b\":[{\"k\":1,\"k\":2}]}}",
	    "meta: duplicate key in a nested object");
	/* the id itself: no id to answer with */
	expect_err("{\"id\":\"first\",\"type\":\"case.close\",\"case_id\":1,\"id\":\"second\"}",
	           HL_E_BAD_REQUEST, "id: duplicate key", "");
	/* the same name in different objects is not a duplicate */
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"ping\",\"a\":{\"id\":1,\"a\":2},\"b\":{\"id\":3}}", &ev);
	hl_event_free(&ev);
	/* keys that share a prefix, or differ only in length, are different */
	expect_ok("{\"id\":\"r1\",\"type\":\"ping\",\"ab\":1,\"a\":2,\"abc\":3,\"\":4,\"b\":5}", &ev);
	hl_event_free(&ev);
}

/* Many members: still found, and in the time of a sort, not of a square. */
Test(duplicates, many_members)
{
	size_t n = 20000;
	char *line = malloc(n * 16 + 64);
	cr_assert_not_null(line);
	size_t o = (size_t)sprintf(line, "{\"id\":\"r1\",\"type\":\"ping\"");
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(line + o, ",\"k%zu\":1", i);
	strcpy(line + o, "}");
	struct hl_event ev;
	expect_ok(line, &ev);
	hl_event_free(&ev);
	sprintf(line + o, ",\"k%zu\":2}", n / 2);
	BAD(line, "k10000: duplicate key");
	free(line);
}

/* ------------------------------------------------------------------- free */

Test(event_free, safe_and_idempotent)
{
	struct hl_event ev;
	memset(&ev, 0, sizeof ev);
	hl_event_free(&ev);
	hl_event_free(NULL);
	expect_ok("{\"id\":\"r1\",\"type\":\"call.ended\",\"call_id\":\"c1\",\"outcome\":\"x\",\"summary\":\"s\"}", &ev);
	hl_event_free(&ev);
	cr_assert_null(ev.call_id);
	cr_assert_null(ev.outcome);
	cr_assert_null(ev.summary);
	cr_assert_null(ev.line);
	cr_assert_eq(ev.line_len, 0);
	hl_event_free(&ev);
}

Test(event_free, parse_overwrites_garbage)
{
	/* hl_parse_request does not read *ev: uninitialised memory is fine */
	struct hl_event ev;
	memset(&ev, 0xA5, sizeof ev);
	struct hl_error err;
	memset(&err, 0xA5, sizeof err);
	cr_assert_eq(parse("nope", &ev, &err), HL_E_BAD_JSON);
	hl_event_free(&ev);
	memset(&ev, 0xA5, sizeof ev);
	cr_assert_eq(parse("{\"id\":\"r1\",\"type\":\"ping\"}", &ev, &err), HL_OK);
	cr_assert_str_eq(err.message, "");
	hl_event_free(&ev);
}
