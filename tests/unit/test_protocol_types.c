/*
 * test_protocol_types.c - unit tests for the fields of each request type
 * (daemon/protocol.c): every type's minimal line, every required field
 * missing (or null), each type's optional fields and their limits
 * (callers, texts, integers, score, subscribe's since, auth's token), and
 * issue 16's "confidential" reaching the rules on every call and case
 * event.  Every error path is checked with its exact message.
 *
 * The protocol tests: test_protocol_requests.c (the request line as a
 * whole), test_protocol_types.c (each type's fields),
 * test_protocol_replies.c (reply lines); the helpers are
 * protocol_fixtures.h.
 */
#include <criterion/criterion.h>

#include "protocol_fixtures.h"

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
