/*
 * test_http_params.c - unit tests for daemon/http_params.c: a request's path
 * percent-decoded per segment, its query parameters and numbers read
 * strictly (review-http3: /v1/cases/%31 was 404, since=abc was 0).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "http_params.h"

static const char *decoded(const char *path)
{
	static char out[256];
	const char *why = hl_path_decode(path, out);
	cr_assert_null(why, "%s: %s", path, why);
	return out;
}

Test(http_path, escapes_stand_for_their_octet)
{
	cr_assert_str_eq(decoded("/v1/cases/%31"), "/v1/cases/1");
	cr_assert_str_eq(decoded("/v1/cases/%31%32"), "/v1/cases/12");
	cr_assert_str_eq(decoded("/v1/%63ases/%4a%4A"), "/v1/cases/JJ");
	cr_assert_str_eq(decoded("/v1/cases/%2531"), "/v1/cases/%31", "one level only");
	cr_assert_str_eq(decoded("/a+b"), "/a+b", "a + in a path is a +");
	cr_assert_str_eq(decoded(""), "");
}

Test(http_path, what_cannot_be_a_segment_is_refused)
{
	char out[64];
	static const char *const bad[] = { "/v1/cases/1%2F2", "/v1/cases/1%2f", "/x%00", "/%", "/%3", "/%G1", "/%3g", "/%%31" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *why = hl_path_decode(bad[i], out);
		cr_assert(why && strncmp(why, "path:", 5) == 0, "%s", bad[i]);
	}
}

Test(http_query, one_value_or_an_error)
{
	char v[16];
	cr_assert_eq(hl_query_param(NULL, "since", v, sizeof v), HL_PARAM_ABSENT);
	cr_assert_eq(hl_query_param("", "since", v, sizeof v), HL_PARAM_ABSENT);
	cr_assert_eq(hl_query_param("day=x", "since", v, sizeof v), HL_PARAM_ABSENT);
	cr_assert_eq(hl_query_param("since=12", "since", v, sizeof v), HL_PARAM_OK);
	cr_assert_str_eq(v, "12");
	cr_assert_eq(hl_query_param("a=1&since=%31+2;b", "since", v, sizeof v), HL_PARAM_OK);
	cr_assert_str_eq(v, "1 2");
	cr_assert_eq(hl_query_param("s%69nce=4", "since", v, sizeof v), HL_PARAM_OK, "the key decoded too");
	cr_assert_str_eq(v, "4");
	cr_assert_eq(hl_query_param("since=", "since", v, sizeof v), HL_PARAM_OK);
	cr_assert_str_eq(v, "");
	cr_assert_eq(hl_query_param("since", "since", v, sizeof v), HL_PARAM_BAD, "no =");
	cr_assert_eq(hl_query_param("since=1&since=1", "since", v, sizeof v), HL_PARAM_BAD, "twice");
	cr_assert_eq(hl_query_param("since=%zz", "since", v, sizeof v), HL_PARAM_BAD);
	cr_assert_eq(hl_query_param("since=%3", "since", v, sizeof v), HL_PARAM_BAD);
	cr_assert_eq(hl_query_param("since=1%00", "since", v, sizeof v), HL_PARAM_BAD);
	cr_assert_eq(hl_query_param("since=0123456789abcdef", "since", v, sizeof v), HL_PARAM_BAD, "longer than cap");
	cr_assert_eq(hl_query_param("x=%zz&since=3", "since", v, sizeof v), HL_PARAM_OK, "another key's escape");
}

Test(http_query, counts)
{
	int64_t v = -1;
	cr_assert(hl_parse_count("0", &v) && v == 0);
	cr_assert(hl_parse_count("007", &v) && v == 7);
	cr_assert(hl_parse_count("9223372036854775807", &v) && v == INT64_MAX);
	static const char *const bad[] = { "", "abc", "12abc", "-1", "+5", " 1", "1 ", "1.5", "0x10",
	                                   "9223372036854775808", "99999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert(!hl_parse_count(bad[i], &v), "%s", bad[i]);
	cr_assert(!hl_parse_count(NULL, &v));
}
