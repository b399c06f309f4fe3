/*
 * test_protocol_replies.c - unit tests for the lines hotlined writes
 * (daemon/protocol_reply.c), byte-exact: ok and case replies, error
 * replies with their codes, the quoting of ids, replies with a payload and
 * the alert push; every reply is one line; and a parse error's reply
 * carries the request's id.  Kept apart from the parsing tests as the
 * writer is kept apart from the reader.
 *
 * The protocol tests: test_protocol_requests.c (the request line as a
 * whole), test_protocol_types.c (each type's fields),
 * test_protocol_replies.c (reply lines); the helpers are
 * protocol_fixtures.h.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "protocol_fixtures.h"

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
