/*
 * test_clock_list.c - unit tests for daemon/clock_list.c: the clocks column
 * of SQL_CASES read without json-c gives the clocks the json-c reading
 * (hl_clock_list_parse_json: store_load.c's before session 28) gives, for
 * PostgreSQL's own text (json_agg of json_build_array, with and without
 * newlines), every field, nulls, an unknown kind and a long calendar; and
 * any other text is refused with the clocks left untouched (the store then
 * falls back to json-c).
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "hotlined.h"

static void same_as_reference(const char *json)
{
	struct hl_clock a[HL_CK__COUNT], b[HL_CK__COUNT];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	cr_assert(hl_clock_list_parse_json(json, a), "json-c refused: %s", json);
	cr_assert(hl_clock_list_parse(json, b), "refused: %s", json);
	cr_assert(memcmp(a, b, sizeof a) == 0, "differs from json-c's reading: %s", json);
}

Test(clock_list, postgres_text_as_json_c_reads_it)
{
	/* what json_agg(json_build_array(...)) printed on the bench cluster */
	same_as_reference("[[\"resolution\", \"met\", 1, 1795448430619, 1795621230619, null, false, 172800000, null, "
	                  "null, null, 1795452030619, null, \"\"], [\"update\", \"pending\", 3, 1795448431619, "
	                  "1795621231619, 1795620000000, true, 1800000, null, null, null, null, null, \"city\"]]\n");
	/* json_agg separates its elements with a newline too */
	same_as_reference("[[\"callback\", \"breached\", 2, 1, 2, 3, false, 4, null, null, null, null, 5, \"\"], \n "
	                  "[\"survey\", \"paused\", 7, -5, 9000000000000, null, false, 86400000, 1795448430619, "
	                  "3600000, 1800000, null, null, \"helpdesk\"]]");
	same_as_reference("[]");
	same_as_reference("[[\"redispatch\",\"stopped\",1,10,20,null,false,30,null,null,null,null,null,null]]");
}

Test(clock_list, unknown_kind_skipped_long_calendar_truncated)
{
	char cal[200], json[600];
	memset(cal, 'x', sizeof cal - 1);
	cal[sizeof cal - 1] = '\0';
	snprintf(json, sizeof json,
	         "[[\"teatime\", \"pending\", 1, 1, 2, null, false, 3, null, null, null, null, null, \"\"],"
	         " [\"update\", \"met\", 1, 1, 2, null, false, 3, null, null, null, 2, null, \"%s\"]]", cal);
	same_as_reference(json);
}

Test(clock_list, anything_else_is_refused_and_untouched)
{
	const char *bad[] = {
		"", "null", "{}", "[", "[[]]", "[[\"update\"]]",
		/* thirteen values, fifteen values */
		"[[\"update\", \"met\", 1, 1, 2, null, false, 3, null, null, null, 2, null]]",
		"[[\"update\", \"met\", 1, 1, 2, null, false, 3, null, null, null, 2, null, \"\", 1]]",
		/* an escape in a string, a nested value, a fraction, trailing text */
		"[[\"update\", \"met\", 1, 1, 2, null, false, 3, null, null, null, 2, null, \"a\\\"b\"]]",
		"[[\"update\", \"met\", 1, 1, 2, null, false, 3, null, null, null, 2, null, [1]]]",
		"[[\"update\", \"met\", 1.5, 1, 2, null, false, 3, null, null, null, 2, null, \"\"]]",
		"[[\"update\", \"met\", 1, 1, 2, null, false, 3, null, null, null, 2, null, \"\"]] x",
		"[[\"update\", \"met\", 1, 1, 2, null, false, 3, null, null, null, 2, null, \"\"],]",
		"[[\"update\", \"met\", 99999999999999999999, 1, 2, null, false, 3, null, null, null, 2, null, \"\"]]",
		"[[\"update\", \"met\", 1, 1, 2, nul, false, 3, null, null, null, 2, null, \"\"]]",
		"[[\"update\", \"met\", 1, 1, 2, null, false, 3, null, null, null, 2, null, \"unterminated]]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct hl_clock c[HL_CK__COUNT], before[HL_CK__COUNT];
		memset(c, 0x5a, sizeof c);
		memcpy(before, c, sizeof c);
		cr_assert(!hl_clock_list_parse(bad[i], c), "accepted: %s", bad[i]);
		cr_assert(memcmp(c, before, sizeof c) == 0, "touched the clocks: %s", bad[i]);
	}
}

Test(clock_list, read_falls_back_to_json_c)
{
	/* an escaped calendar name: refused by the scanner, read by json-c */
	const char *json = "[[\"update\", \"paused\", 2, 1, 2, null, true, 3, 4, 5, 6, null, null, \"a\\\"b\"]]";
	struct hl_clock a[HL_CK__COUNT], b[HL_CK__COUNT];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	cr_assert(!hl_clock_list_parse(json, a));
	hl_clock_list_read(json, a);
	cr_assert(hl_clock_list_parse_json(json, b));
	cr_assert(memcmp(a, b, sizeof a) == 0);
	cr_assert_str_eq(a[HL_CK_UPDATE].calendar, "a\"b");
	cr_assert_eq(a[HL_CK_UPDATE].state, HL_CS_PAUSED);
	cr_assert_eq(a[HL_CK_UPDATE].remaining_ms, 5);
	hl_clock_list_read(NULL, a); /* a case without clocks */
	cr_assert(memcmp(a, b, sizeof a) == 0);
}
