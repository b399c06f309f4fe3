/*
 * test_clock_list.c - unit tests for daemon/clock_list.c: the clocks column
 * of SQL_CASES read without json-c gives the clocks the json-c reading
 * (store_load.c before session 28, kept here as the reference) gives, for
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

/* store_load.c's parse_clocks as it was: the reference */
static void reference(struct hl_clock *clocks, const char *json)
{
	json_object *arr = json_tokener_parse(json);
	cr_assert_not_null(arr, "the reference needs valid JSON: %s", json);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *k = json_object_array_get_idx(arr, i);
		int kind = hl_clock_kind_from_name(json_object_get_string(json_object_array_get_idx(k, 0)));
		if (kind < 0)
			continue;
		struct hl_clock *ck = &clocks[kind];
#define I64(i) json_object_get_int64(json_object_array_get_idx(k, i))
		ck->state = hl_clock_state_from_name(json_object_get_string(json_object_array_get_idx(k, 1)));
		ck->seq = (int32_t)I64(2);
		ck->started_at = I64(3);
		ck->due_at = I64(4);
		ck->warn_at = I64(5);
		ck->warned = json_object_get_boolean(json_object_array_get_idx(k, 6));
		ck->allowed_ms = I64(7);
		ck->paused_at = I64(8);
		ck->remaining_ms = I64(9);
		ck->warn_remaining_ms = I64(10);
		ck->met_at = I64(11);
		ck->breached_at = I64(12);
#undef I64
		const char *cal = json_object_get_string(json_object_array_get_idx(k, 13));
		snprintf(ck->calendar, sizeof ck->calendar, "%s", cal ? cal : "");
	}
	json_object_put(arr);
}

static void same_as_reference(const char *json)
{
	struct hl_clock a[HL_CK__COUNT], b[HL_CK__COUNT];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	reference(a, json);
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
