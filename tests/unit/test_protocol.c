/*
 * test_protocol.c - unit tests for daemon/protocol.c: request parsing (every
 * type, every error path with its exact message) and reply lines (byte-exact).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define NOW INT64_C(1795137300000) /* 2026-11-20T01:15:00Z */

static enum hl_err parse_n(const char *line, size_t len, struct hl_event *ev, struct hl_error *err)
{
	return hl_parse_request(line, len, NOW, ev, err);
}

static enum hl_err parse(const char *line, struct hl_event *ev, struct hl_error *err)
{
	return parse_n(line, strlen(line), ev, err);
}

/* The line must fail with this code and exact message; ev->id as given ("" = none). */
static void expect_err(const char *line, enum hl_err code, const char *msg, const char *id)
{
	struct hl_event ev;
	struct hl_error err;
	enum hl_err rc = parse(line, &ev, &err);
	cr_assert_eq(rc, code, "%s: got %s (%s), want %s", line, hl_err_code(rc), err.message, hl_err_code(code));
	cr_assert_eq(err.code, code);
	if (msg)
		cr_assert_str_eq(err.message, msg, "%s", line);
	cr_assert_str_eq(ev.id, id, "%s", line);
	cr_assert_null(ev.line);
	cr_assert_null(ev.call_id);
	cr_assert_null(ev.note);
	hl_event_free(&ev);
}

static void expect_bad_json(const char *line, size_t len)
{
	struct hl_event ev;
	struct hl_error err;
	enum hl_err rc = parse_n(line, len, &ev, &err);
	cr_assert_eq(rc, HL_E_BAD_JSON, "%.*s: got %s (%s)", (int)len, line, hl_err_code(rc), err.message);
	cr_assert_eq(strncmp(err.message, "invalid JSON", 12), 0, "%s", err.message);
	cr_assert_str_eq(ev.id, "");
	cr_assert_null(ev.line);
	hl_event_free(&ev);
}

#define BAD_JSON(s) expect_bad_json(s, sizeof(s) - 1)
#define BAD(line, msg) expect_err(line, HL_E_BAD_REQUEST, msg, "r1")

/* Parse a valid line; the caller frees. */
static void expect_ok(const char *line, struct hl_event *ev)
{
	struct hl_error err;
	enum hl_err rc = parse(line, ev, &err);
	cr_assert_eq(rc, HL_OK, "%s: got %s (%s)", line, hl_err_code(rc), err.message);
	cr_assert_eq(err.code, HL_OK);
	cr_assert_not_null(ev->line);
}

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

/* ------------------------------------------------------------ every type */

struct valid_case {
	const char *line;
	enum hl_type type;
};

static const struct valid_case minimal[] = {
	{ "{\"id\":\"e1\",\"type\":\"call.offered\",\"call_id\":\"c1\",\"caller\":\"+8613800000001\"}", HL_EV_CALL_OFFERED },
	{ "{\"id\":\"e2\",\"type\":\"call.answered\",\"call_id\":\"c1\",\"agent\":\"ag7\"}", HL_EV_CALL_ANSWERED },
	{ "{\"id\":\"e3\",\"type\":\"call.abandoned\",\"call_id\":\"c1\"}", HL_EV_CALL_ABANDONED },
	{ "{\"id\":\"e4\",\"type\":\"voicemail.left\",\"call_id\":\"c1\"}", HL_EV_VOICEMAIL_LEFT },
	{ "{\"id\":\"e5\",\"type\":\"call.ended\",\"call_id\":\"c1\",\"outcome\":\"followup\"}", HL_EV_CALL_ENDED },
	{ "{\"id\":\"e6\",\"type\":\"callback.attempt\",\"case_id\":42,\"result\":\"reached\"}", HL_EV_CALLBACK_ATTEMPT },
	{ "{\"id\":\"e7\",\"type\":\"case.update\",\"case_id\":42}", HL_EV_CASE_UPDATE },
	{ "{\"id\":\"e8\",\"type\":\"case.transfer\",\"case_id\":42,\"department\":\"housing\"}", HL_EV_CASE_TRANSFER },
	{ "{\"id\":\"e9\",\"type\":\"case.resolve\",\"case_id\":42}", HL_EV_CASE_RESOLVE },
	{ "{\"id\":\"e10\",\"type\":\"case.close\",\"case_id\":42}", HL_EV_CASE_CLOSE },
	{ "{\"id\":\"e11\",\"type\":\"case.reopen\",\"case_id\":42}", HL_EV_CASE_REOPEN },
	{ "{\"id\":\"e12\",\"type\":\"case.hold\",\"case_id\":42}", HL_EV_CASE_HOLD },
	{ "{\"id\":\"e13\",\"type\":\"case.resume\",\"case_id\":42}", HL_EV_CASE_RESUME },
	{ "{\"id\":\"e14\",\"type\":\"survey.result\",\"case_id\":42,\"score\":4}", HL_EV_SURVEY_RESULT },
	{ "{\"id\":\"e15\",\"type\":\"ping\"}", HL_CMD_PING },
	{ "{\"id\":\"e16\",\"type\":\"case.get\",\"case_id\":42}", HL_CMD_CASE_GET },
	{ "{\"id\":\"e17\",\"type\":\"subscribe\"}", HL_CMD_SUBSCRIBE },
	{ "{\"id\":\"e18\",\"type\":\"alert.ack\",\"alert_id\":7,\"by\":\"sup1\"}", HL_CMD_ALERT_ACK },
	{ "{\"id\":\"e19\",\"type\":\"stats\"}", HL_CMD_STATS },
	{ "{\"id\":\"e20\",\"type\":\"auth\",\"token\":\"s3cret\"}", HL_CMD_AUTH },
	{ "{\"id\":\"e21\",\"type\":\"order.dispatch\",\"case_id\":42,\"department\":\"water\"}", HL_EV_ORDER_DISPATCH },
	{ "{\"id\":\"e22\",\"type\":\"order.sign\",\"order_id\":\"o1\"}", HL_EV_ORDER_SIGN },
	{ "{\"id\":\"e23\",\"type\":\"order.return\",\"order_id\":\"o1\",\"reason\":\"not ours\"}", HL_EV_ORDER_RETURN },
	{ "{\"id\":\"e24\",\"type\":\"order.extend\",\"order_id\":\"o1\",\"reason\":\"r\"}", HL_EV_ORDER_EXTEND },
	{ "{\"id\":\"e25\",\"type\":\"order.extend.approve\",\"order_id\":\"o1\"}", HL_EV_ORDER_EXTEND_APPROVE },
	{ "{\"id\":\"e26\",\"type\":\"order.extend.reject\",\"order_id\":\"o1\"}", HL_EV_ORDER_EXTEND_REJECT },
	{ "{\"id\":\"e27\",\"type\":\"order.reply\",\"order_id\":\"o1\",\"result\":\"resolved\"}", HL_EV_ORDER_REPLY },
	{ "{\"id\":\"e28\",\"type\":\"case.merge\",\"case_id\":42,\"into\":41}", HL_EV_CASE_MERGE },
};

Test(types, every_type_minimal)
{
	cr_assert_eq(sizeof minimal / sizeof minimal[0], HL_T__COUNT - 1);
	for (size_t i = 0; i < sizeof minimal / sizeof minimal[0]; i++) {
		struct hl_event ev;
		expect_ok(minimal[i].line, &ev);
		cr_assert_eq(ev.type, minimal[i].type, "%s", minimal[i].line);
		char want[8];
		snprintf(want, sizeof want, "e%zu", i + 1);
		cr_assert_str_eq(ev.id, want);
		cr_assert_eq(ev.at, NOW);
		cr_assert_eq(ev.received, NOW);
		cr_assert_not(ev.at_given);
		cr_assert_eq(ev.caller_informed, -1);
		cr_assert_eq(ev.confidential, -1);
		cr_assert_str_eq(ev.line, minimal[i].line);
		cr_assert_eq(ev.line_len, strlen(minimal[i].line));
		hl_event_free(&ev);
	}
}

/* Remove the field "name":value from a minimal line -> "<name>: missing". */
static void drop_field(const char *line, const char *name, char *out, size_t outlen)
{
	char key[64];
	snprintf(key, sizeof key, ",\"%s\":", name);
	const char *k = strstr(line, key);
	cr_assert_not_null(k, "%s in %s", name, line);
	const char *v = k + strlen(key);
	const char *e = v;
	if (*e == '"') {
		e++;
		while (*e != '"')
			e++;
		e++;
	} else {
		while (*e != ',' && *e != '}')
			e++;
	}
	snprintf(out, outlen, "%.*s%s", (int)(k - line), line, e);
}

Test(types, every_required_field_missing)
{
	static const struct {
		size_t idx;
		const char *field;
	} req[] = {
		{ 0, "call_id" }, { 0, "caller" },   { 1, "call_id" },  { 1, "agent" },    { 2, "call_id" },
		{ 3, "call_id" }, { 4, "call_id" },  { 4, "outcome" },  { 5, "case_id" },  { 5, "result" },
		{ 6, "case_id" }, { 7, "case_id" },  { 7, "department" }, { 8, "case_id" }, { 9, "case_id" },
		{ 10, "case_id" }, { 11, "case_id" }, { 12, "case_id" }, { 13, "case_id" }, { 13, "score" },
		{ 15, "case_id" }, { 17, "alert_id" }, { 19, "token" },
		/* alert.ack's by is optional here: the connection fills in its token's
		 * name or answers "by: missing" (conn.c, tested in e2e test_people) */
	};
	for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
		char line[512], msg[64], id[8];
		drop_field(minimal[req[i].idx].line, req[i].field, line, sizeof line);
		snprintf(msg, sizeof msg, "%s: missing", req[i].field);
		snprintf(id, sizeof id, "e%zu", req[i].idx + 1);
		expect_err(line, HL_E_BAD_REQUEST, msg, id);
		/* null counts as missing too */
		char nulled[512];
		char key[64];
		snprintf(key, sizeof key, "\"%s\":", req[i].field);
		size_t cut = strlen(line) - 1;
		snprintf(nulled, sizeof nulled, "%.*s,%snull}", (int)cut, line, key);
		expect_err(nulled, HL_E_BAD_REQUEST, msg, id);
	}
}

Test(types, call_offered_full)
{
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"call.offered\",\"call_id\":\"c-9\",\"caller\":\"86-138 0000 0001\","
	          "\"at\":\"2026-11-20T09:15:00+08:00\",\"queue\":\"general\",\"confidential\":true,"
	          "\"future_field\":{\"x\":[1,2]}}", &ev);
	cr_assert_eq(ev.type, HL_EV_CALL_OFFERED);
	cr_assert_str_eq(ev.call_id, "c-9");
	cr_assert_str_eq(ev.caller, "8613800000001");
	cr_assert_str_eq(ev.queue, "general");
	cr_assert_eq(ev.confidential, 1);
	cr_assert(ev.at_given);
	cr_assert_eq(ev.at, NOW);
	cr_assert_eq(ev.received, NOW);
	cr_assert(strstr(ev.line, "future_field"));
	hl_event_free(&ev);
}

Test(types, abandoned_and_voicemail_optional_caller)
{
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"call.abandoned\",\"call_id\":\"c1\",\"caller\":\"+86 138 0000 0001\"}", &ev);
	cr_assert_str_eq(ev.caller, "+8613800000001");
	hl_event_free(&ev);
	expect_ok("{\"id\":\"r1\",\"type\":\"voicemail.left\",\"call_id\":\"c1\",\"confidential\":false}", &ev);
	cr_assert_str_eq(ev.caller, "");
	cr_assert_eq(ev.confidential, 0);
	hl_event_free(&ev);
	const char *m = "caller: must be a phone number: digits with an optional leading '+', 3 to 20 digits";
	BAD("{\"id\":\"r1\",\"type\":\"call.abandoned\",\"call_id\":\"c1\",\"caller\":\"abc\"}", m);
	BAD("{\"id\":\"r1\",\"type\":\"voicemail.left\",\"call_id\":\"c1\",\"caller\":\"+\"}", m);
	BAD("{\"id\":\"r1\",\"type\":\"voicemail.left\",\"call_id\":\"c1\",\"caller\":8613800000001}", m);
}

Test(types, caller_invalid)
{
	const char *m = "caller: must be a phone number: digits with an optional leading '+', 3 to 20 digits";
	const char *bad[] = { "\"\"", "\"+\"", "\"++86\"", "\"12\"", "\"138abc\"", "\"123456789012345678901\"",
	                      "13800000001", "true", "[\"138\"]", "\"138\\n000\"", "\"138\\t000\"" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char line[256];
		snprintf(line, sizeof line, "{\"id\":\"r1\",\"type\":\"call.offered\",\"call_id\":\"c1\",\"caller\":%s}", bad[i]);
		BAD(line, m);
	}
}

Test(types, call_ended_full)
{
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"call.ended\",\"call_id\":\"c1\",\"outcome\":\"resolved\","
	          "\"category\":\"water\",\"priority\":\"high\",\"summary\":\"leak\\nfixed\",\"agent\":\"a\"}", &ev);
	cr_assert_str_eq(ev.outcome, "resolved");
	cr_assert_str_eq(ev.category, "water");
	cr_assert_str_eq(ev.priority, "high");
	cr_assert_str_eq(ev.summary, "leak\nfixed");
	cr_assert_str_eq(ev.agent, "a");
	hl_event_free(&ev);
	BAD("{\"id\":\"r1\",\"type\":\"call.ended\",\"call_id\":\"c1\",\"outcome\":\"\"}",
	    "outcome: must be a string of 1..128 characters");
	BAD("{\"id\":\"r1\",\"type\":\"call.ended\",\"call_id\":\"c1\",\"outcome\":1}",
	    "outcome: must be a string of 1..128 characters");
	/* a later field fails after call_id was copied: nothing may leak (ASan) */
	BAD("{\"id\":\"r1\",\"type\":\"call.ended\",\"call_id\":\"c1\",\"outcome\":\"x\",\"summary\":5}",
	    "summary: must be a string of at most 4096 characters");
}

Test(types, callback_attempt)
{
	const char *results[] = { "reached", "no_answer", "busy", "failed" };
	for (size_t i = 0; i < 4; i++) {
		char line[256];
		snprintf(line, sizeof line,
		         "{\"id\":\"r1\",\"type\":\"callback.attempt\",\"case_id\":9,\"result\":\"%s\",\"agent\":\"a1\","
		         "\"call_id\":\"out-1\",\"at\":\"2026-11-20T01:15:00.250Z\"}", results[i]);
		struct hl_event ev;
		expect_ok(line, &ev);
		cr_assert_str_eq(ev.result, results[i]);
		cr_assert_eq(ev.case_id, 9);
		cr_assert_str_eq(ev.call_id, "out-1");
		cr_assert_eq(ev.at, NOW + 250);
		hl_event_free(&ev);
	}
	const char *m = "result: must be one of reached, no_answer, busy, failed";
	BAD("{\"id\":\"r1\",\"type\":\"callback.attempt\",\"case_id\":9,\"result\":\"maybe\"}", m);
	BAD("{\"id\":\"r1\",\"type\":\"callback.attempt\",\"case_id\":9,\"result\":\"Reached\"}", m);
	BAD("{\"id\":\"r1\",\"type\":\"callback.attempt\",\"case_id\":9,\"result\":\"reached \"}", m);
	BAD("{\"id\":\"r1\",\"type\":\"callback.attempt\",\"case_id\":9,\"result\":1}", m);
	BAD("{\"id\":\"r1\",\"type\":\"callback.attempt\",\"case_id\":9,\"result\":\"\"}", m);
}

Test(types, case_events_optional_fields)
{
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":5,\"note\":\"called\",\"agent\":\"a\","
	          "\"caller_informed\":true}", &ev);
	cr_assert_str_eq(ev.note, "called");
	cr_assert_eq(ev.caller_informed, 1);
	hl_event_free(&ev);
	expect_ok("{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":5,\"caller_informed\":false}", &ev);
	cr_assert_eq(ev.caller_informed, 0);
	hl_event_free(&ev);
	expect_ok("{\"id\":\"r1\",\"type\":\"case.transfer\",\"case_id\":5,\"department\":\"roads\",\"reason\":\"r\"}", &ev);
	cr_assert_str_eq(ev.department, "roads");
	cr_assert_str_eq(ev.reason, "r");
	hl_event_free(&ev);
	expect_ok("{\"id\":\"r1\",\"type\":\"case.resolve\",\"case_id\":5,\"resolution\":\"done\"}", &ev);
	cr_assert_str_eq(ev.resolution, "done");
	hl_event_free(&ev);
	expect_ok("{\"id\":\"r1\",\"type\":\"case.hold\",\"case_id\":5,\"reason\":\"\"}", &ev);
	cr_assert_str_eq(ev.reason, "");
	hl_event_free(&ev);
	expect_ok("{\"id\":\"r1\",\"type\":\"case.reopen\",\"case_id\":5,\"reason\":null}", &ev);
	cr_assert_null(ev.reason);
	hl_event_free(&ev);
	BAD("{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":5,\"caller_informed\":\"yes\"}",
	    "caller_informed: must be true or false");
	BAD("{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":5,\"caller_informed\":1}",
	    "caller_informed: must be true or false");
	BAD("{\"id\":\"r1\",\"type\":\"call.offered\",\"call_id\":\"c\",\"caller\":\"123\",\"confidential\":0}",
	    "confidential: must be true or false");
	BAD("{\"id\":\"r1\",\"type\":\"case.transfer\",\"case_id\":5,\"department\":\"\"}",
	    "department: must be a string of 1..128 characters");
	BAD("{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":5,\"note\":[]}",
	    "note: must be a string of at most 4096 characters");
	BAD("{\"id\":\"r1\",\"type\":\"call.answered\",\"call_id\":\"c1\",\"agent\":\"\"}",
	    "agent: must be a string of 1..128 characters");
	BAD("{\"id\":\"r1\",\"type\":\"call.answered\",\"call_id\":\"c\\r1\",\"agent\":\"a\"}",
	    "call_id: must be a string of 1..128 characters");
}

Test(types, fields_of_other_types_are_ignored)
{
	struct hl_event ev;
	/* case_id on call.offered and caller on case.close are not ours to read */
	expect_ok("{\"id\":\"r1\",\"type\":\"call.offered\",\"call_id\":\"c\",\"caller\":\"123\",\"case_id\":\"x\"}", &ev);
	cr_assert_eq(ev.case_id, 0);
	hl_event_free(&ev);
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":3,\"caller\":\"bogus\",\"score\":99}", &ev);
	cr_assert_str_eq(ev.caller, "");
	cr_assert_eq(ev.score, 0);
	hl_event_free(&ev);
}

Test(types, text_limits)
{
	size_t n = 4096;
	char *line = malloc(n + 200);
	char *text = malloc(n + 2);
	memset(text, 'x', n);
	text[n] = '\0';
	sprintf(line, "{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":1,\"note\":\"%s\"}", text);
	struct hl_event ev;
	expect_ok(line, &ev);
	cr_assert_eq(strlen(ev.note), 4096);
	hl_event_free(&ev);
	text[n] = 'x';
	text[n + 1] = '\0';
	sprintf(line, "{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":1,\"note\":\"%s\"}", text);
	BAD(line, "note: must be a string of at most 4096 characters");

	/* identifiers: 128 ok, 129 not */
	memset(text, 'a', 129);
	text[129] = '\0';
	sprintf(line, "{\"id\":\"r1\",\"type\":\"call.answered\",\"call_id\":\"c\",\"agent\":\"%s\"}", text);
	BAD(line, "agent: must be a string of 1..128 characters");
	text[128] = '\0';
	sprintf(line, "{\"id\":\"r1\",\"type\":\"call.answered\",\"call_id\":\"%s\",\"agent\":\"%s\"}", text, text);
	expect_ok(line, &ev);
	cr_assert_eq(strlen(ev.call_id), 128);
	hl_event_free(&ev);
	free(line);
	free(text);
}

Test(types, integers)
{
	const char *m = "case_id: must be a positive integer";
	const char *bad[] = { "0", "-1", "\"42\"", "42.0", "4.2e1", "1e2", "true", "[42]", "{}",
	                      "9223372036854775808", "18446744073709551615", "99999999999999999999",
	                      "-9223372036854775808", "-9223372036854775809", "0.5" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char line[256];
		snprintf(line, sizeof line, "{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":%s}", bad[i]);
		BAD(line, m);
	}
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":9223372036854775807}", &ev);
	cr_assert_eq(ev.case_id, INT64_MAX);
	hl_event_free(&ev);
	expect_ok("{\"id\":\"r1\",\"type\":\"case.get\",\"case_id\":1}", &ev);
	cr_assert_eq(ev.case_id, 1);
	hl_event_free(&ev);

	BAD("{\"id\":\"r1\",\"type\":\"alert.ack\",\"alert_id\":0,\"by\":\"s\"}", "alert_id: must be a positive integer");
	BAD("{\"id\":\"r1\",\"type\":\"alert.ack\",\"alert_id\":\"7\",\"by\":\"s\"}", "alert_id: must be a positive integer");
	BAD("{\"id\":\"r1\",\"type\":\"alert.ack\",\"alert_id\":7,\"by\":\"\"}", "by: must be a string of 1..128 characters");
	expect_ok("{\"id\":\"r1\",\"type\":\"alert.ack\",\"alert_id\":7,\"by\":\"sup \xe5\xbc\xa0\"}", &ev);
	cr_assert_eq(ev.alert_id, 7);
	cr_assert_str_eq(ev.by, "sup \xe5\xbc\xa0");
	hl_event_free(&ev);
}

Test(types, score)
{
	for (int s = 1; s <= 5; s++) {
		char line[128];
		snprintf(line, sizeof line, "{\"id\":\"r1\",\"type\":\"survey.result\",\"case_id\":2,\"score\":%d}", s);
		struct hl_event ev;
		expect_ok(line, &ev);
		cr_assert_eq(ev.score, s);
		hl_event_free(&ev);
	}
	const char *m = "score: must be an integer from 1 to 5";
	const char *bad[] = { "0", "6", "-1", "3.5", "3.0", "\"3\"", "true", "4294967297" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char line[128];
		snprintf(line, sizeof line, "{\"id\":\"r1\",\"type\":\"survey.result\",\"case_id\":2,\"score\":%s}", bad[i]);
		BAD(line, m);
	}
}

Test(types, subscribe_since)
{
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"subscribe\",\"since\":0}", &ev);
	cr_assert_eq(ev.since, 0);
	hl_event_free(&ev);
	expect_ok("{\"id\":\"r1\",\"type\":\"subscribe\",\"since\":123}", &ev);
	cr_assert_eq(ev.since, 123);
	hl_event_free(&ev);
	expect_ok("{\"id\":\"r1\",\"type\":\"subscribe\",\"since\":null}", &ev);
	cr_assert_eq(ev.since, 0);
	hl_event_free(&ev);
	BAD("{\"id\":\"r1\",\"type\":\"subscribe\",\"since\":-1}", "since: must be an integer >= 0");
	BAD("{\"id\":\"r1\",\"type\":\"subscribe\",\"since\":\"5\"}", "since: must be an integer >= 0");
	BAD("{\"id\":\"r1\",\"type\":\"subscribe\",\"since\":1.5}", "since: must be an integer >= 0");
}

Test(types, auth_token)
{
	struct hl_event ev;
	expect_ok("{\"id\":\"r1\",\"type\":\"auth\",\"token\":\"abc/def+==\"}", &ev);
	cr_assert_str_eq(ev.token, "abc/def+==");
	hl_event_free(&ev);
	BAD("{\"id\":\"r1\",\"type\":\"auth\",\"token\":\"\"}", "token: must be a string of 1..4096 characters");
	BAD("{\"id\":\"r1\",\"type\":\"auth\",\"token\":5}", "token: must be a string of 1..4096 characters");
	BAD("{\"id\":\"r1\",\"type\":\"auth\",\"token\":\"a\\nb\"}", "token: must be a string of 1..4096 characters");
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

Test(duplicates, last_key_wins)
{
	struct hl_event ev;
	expect_ok("{\"id\":\"first\",\"type\":\"case.close\",\"case_id\":1,\"case_id\":2,\"id\":\"second\"}", &ev);
	cr_assert_str_eq(ev.id, "second");
	cr_assert_eq(ev.case_id, 2);
	hl_event_free(&ev);
	/* an invalid value hidden by a later valid one is fine: the later one counts */
	expect_ok("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":\"x\",\"case_id\":3}", &ev);
	cr_assert_eq(ev.case_id, 3);
	hl_event_free(&ev);
	BAD("{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":3,\"case_id\":\"x\"}", "case_id: must be a positive integer");
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

/* ---------------------------------------------------------------- replies */

static void reply_is(char *got, const char *want)
{
	cr_assert_not_null(got);
	cr_assert_str_eq(got, want);
	free(got);
}

Test(replies, ok_and_case)
{
	reply_is(hl_reply_ok("a1"), "{\"id\":\"a1\",\"ok\":true}\n");
	reply_is(hl_reply_ok(NULL), "{\"id\":null,\"ok\":true}\n");
	reply_is(hl_reply_case("a1", 42, false), "{\"id\":\"a1\",\"ok\":true,\"case_id\":42}\n");
	reply_is(hl_reply_case("a1", 42, true), "{\"id\":\"a1\",\"ok\":true,\"duplicate\":true,\"case_id\":42}\n");
	reply_is(hl_reply_case("a1", INT64_MAX, false),
	         "{\"id\":\"a1\",\"ok\":true,\"case_id\":9223372036854775807}\n");
}

Test(replies, error)
{
	reply_is(hl_reply_error("a2", HL_E_BAD_REQUEST, "caller: missing"),
	         "{\"id\":\"a2\",\"ok\":false,\"error\":{\"code\":\"bad_request\",\"message\":\"caller: missing\"}}\n");
	reply_is(hl_reply_error(NULL, HL_E_BAD_JSON, "invalid JSON"),
	         "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"bad_json\",\"message\":\"invalid JSON\"}}\n");
	reply_is(hl_reply_error("a3", HL_E_UNAVAILABLE, NULL),
	         "{\"id\":\"a3\",\"ok\":false,\"error\":{\"code\":\"unavailable\",\"message\":\"\"}}\n");
	reply_is(hl_reply_error("a4", HL_E_UNKNOWN_TYPE, "type: unknown type 'a\"b\\c/d'"),
	         "{\"id\":\"a4\",\"ok\":false,\"error\":{\"code\":\"unknown_type\","
	         "\"message\":\"type: unknown type 'a\\\"b\\\\c/d'\"}}\n");
	reply_is(hl_reply_error("x", HL_E_TOO_LARGE, "line\nbreak\ttab\x01"),
	         "{\"id\":\"x\",\"ok\":false,\"error\":{\"code\":\"too_large\",\"message\":\"line\\nbreak\\ttab\\u0001\"}}\n");
}

Test(replies, quoting_of_ids)
{
	reply_is(hl_reply_ok("q\"uote\\back/slash"), "{\"id\":\"q\\\"uote\\\\back/slash\",\"ok\":true}\n");
	reply_is(hl_reply_ok("\xe5\x91\xbc"), "{\"id\":\"\xe5\x91\xbc\",\"ok\":true}\n");
	reply_is(hl_reply_ok(""), "{\"id\":\"\",\"ok\":true}\n");
	reply_is(hl_reply_with("q\"1", "stats", "{}"), "{\"id\":\"q\\\"1\",\"ok\":true,\"stats\":{}}\n");
}

Test(replies, with_and_push)
{
	reply_is(hl_reply_with("a5", "case", "{\"id\":42,\"status\":\"open\"}"),
	         "{\"id\":\"a5\",\"ok\":true,\"case\":{\"id\":42,\"status\":\"open\"}}\n");
	reply_is(hl_reply_with("a6", "stats", "{\"connections\":1}"),
	         "{\"id\":\"a6\",\"ok\":true,\"stats\":{\"connections\":1}}\n");
	reply_is(hl_reply_with(NULL, "x", NULL), "{\"id\":null,\"ok\":true,\"x\":null}\n");
	reply_is(hl_push_alert("{\"id\":7,\"kind\":\"callback_overdue\",\"case_id\":42,\"level\":1}"),
	         "{\"push\":\"alert\",\"alert\":{\"id\":7,\"kind\":\"callback_overdue\",\"case_id\":42,\"level\":1}}\n");
}

Test(replies, every_reply_is_one_line)
{
	char *r[] = { hl_reply_ok("a\nb"), hl_reply_error("a\r\nb", HL_E_INTERNAL, "m\n\r"),
	              hl_reply_case("\n", 1, true), hl_reply_with("\n", "k\n", "1") };
	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
		cr_assert_not_null(r[i]);
		size_t len = strlen(r[i]);
		cr_assert_eq(r[i][len - 1], '\n');
		cr_assert_null(memchr(r[i], '\n', len - 1), "%s", r[i]);
		cr_assert_null(memchr(r[i], '\r', len), "%s", r[i]);
		free(r[i]);
	}
}

/* A request's error reply carries its id: the parse -> reply path end to end. */
Test(replies, from_parse_errors)
{
	struct hl_event ev;
	struct hl_error err;
	cr_assert_eq(parse("{\"id\":\"a2\",\"type\":\"call.offered\",\"call_id\":\"c\"}", &ev, &err), HL_E_BAD_REQUEST);
	reply_is(hl_reply_error(ev.id[0] ? ev.id : NULL, err.code, err.message),
	         "{\"id\":\"a2\",\"ok\":false,\"error\":{\"code\":\"bad_request\",\"message\":\"caller: missing\"}}\n");
	hl_event_free(&ev);
	cr_assert_eq(parse("{nope", &ev, &err), HL_E_BAD_JSON);
	char *r = hl_reply_error(ev.id[0] ? ev.id : NULL, err.code, err.message);
	cr_assert(strncmp(r, "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"bad_json\"", 48) == 0, "%s", r);
	free(r);
	hl_event_free(&ev);
}

/* Issue 16, item 7: README promises "confidential: true on a call or case
 * event"; every call and case event carries it to the rules (it used to be
 * dropped for all but call.offered/abandoned/voicemail.left). */
Test(issue16, confidential_reaches_the_rules_on_every_event)
{
	static const char *const lines[] = {
		"{\"id\":\"r1\",\"type\":\"call.answered\",\"call_id\":\"c1\",\"agent\":\"a\",\"confidential\":true}",
		"{\"id\":\"r1\",\"type\":\"call.ended\",\"call_id\":\"c1\",\"outcome\":\"x\",\"confidential\":true}",
		"{\"id\":\"r1\",\"type\":\"callback.attempt\",\"case_id\":1,\"result\":\"busy\",\"confidential\":true}",
		"{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":1,\"confidential\":true}",
		"{\"id\":\"r1\",\"type\":\"case.transfer\",\"case_id\":1,\"department\":\"d\",\"confidential\":true}",
		"{\"id\":\"r1\",\"type\":\"case.resolve\",\"case_id\":1,\"confidential\":true}",
		"{\"id\":\"r1\",\"type\":\"case.close\",\"case_id\":1,\"confidential\":true}",
		"{\"id\":\"r1\",\"type\":\"case.reopen\",\"case_id\":1,\"confidential\":true}",
		"{\"id\":\"r1\",\"type\":\"case.hold\",\"case_id\":1,\"confidential\":true}",
		"{\"id\":\"r1\",\"type\":\"case.resume\",\"case_id\":1,\"confidential\":true}",
		"{\"id\":\"r1\",\"type\":\"survey.result\",\"case_id\":1,\"score\":3,\"confidential\":true}",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		struct hl_event ev;
		expect_ok(lines[i], &ev);
		cr_assert_eq(ev.confidential, 1, "%s", lines[i]);
		hl_event_free(&ev);
	}
	expect_err("{\"id\":\"r1\",\"type\":\"case.update\",\"case_id\":1,\"confidential\":\"yes\"}", HL_E_BAD_REQUEST,
	           "confidential: must be true or false", "r1");
}
