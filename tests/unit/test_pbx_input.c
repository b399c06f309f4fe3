/*
 * test_pbx_input.c - queue_log records in the shapes real files have beyond
 * Asterisk's own file (pbx/ql_time.c, pbx/queue_log.c): a log exported from
 * a queue_log table (Wazo keeps its statistics there) with a date and time
 * instead of an epoch, local or with an offset, and the same record read
 * twice in one run.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx_fixtures.h"

static void in_zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

Test(pbx_input, epoch_forms)
{
	cr_assert_eq(pbx_ql_time("1366720340"), 1366720340000LL);
	cr_assert_eq(pbx_ql_time("1366720340.303267"), 1366720340303LL);
	cr_assert_eq(pbx_ql_time("1366720340.3"), 1366720340300LL);
	cr_assert_eq(pbx_ql_time("1366720340."), -1);
	cr_assert_eq(pbx_ql_time("17646338"), -1, "before 2000: not a queue_log time");
	cr_assert_eq(pbx_ql_time(""), -1);
	cr_assert_eq(pbx_ql_time("abc"), -1);
}

/* wazo-doc "Queue logs": the table's time column, the PBX's local time */
Test(pbx_input, table_time_is_local)
{
	in_zone("UTC");
	cr_assert_eq(pbx_ql_time("2012-07-04 07:33:21.165823"), 1341387201165LL);
	cr_assert_eq(pbx_ql_time("2012-07-04T07:33:21"), 1341387201000LL);
	in_zone("Europe/Paris"); /* CEST, UTC+2 in July */
	cr_assert_eq(pbx_ql_time("2012-07-04 07:33:21.165823"), 1341387201165LL - 2 * 3600 * 1000);
	in_zone("Asia/Shanghai");
	cr_assert_eq(pbx_ql_time("2025-12-02 08:00:00"), 1764633600000LL);
	in_zone("UTC");
}

/* PostgreSQL prints a timestamptz with its offset: exact whatever the zone */
Test(pbx_input, table_time_with_offset)
{
	in_zone("Asia/Shanghai");
	cr_assert_eq(pbx_ql_time("2012-07-04 07:33:21.165823+00"), 1341387201165LL);
	cr_assert_eq(pbx_ql_time("2012-07-04 09:33:21.165823+02"), 1341387201165LL);
	cr_assert_eq(pbx_ql_time("2012-07-04 09:33:21+02:00"), 1341387201000LL);
	cr_assert_eq(pbx_ql_time("2012-07-04 02:03:21-0530"), 1341387201000LL);
	cr_assert_eq(pbx_ql_time("2012-07-04 07:33:21Z"), 1341387201000LL);
	cr_assert_eq(pbx_ql_time("2012-07-04 07:33:21+2"), -1);
	cr_assert_eq(pbx_ql_time("2012-07-04 07:33:21 CEST"), -1);
	cr_assert_eq(pbx_ql_time("2012-06-31 07:33:21"), -1, "no 31 June");
	cr_assert_eq(pbx_ql_time("2012-07-04 24:00:00"), -1);
	cr_assert_eq(pbx_ql_time("2012-07-04"), -1);
	cr_assert_eq(pbx_ql_time("1999-12-31 23:59:59Z"), -1);
	in_zone("UTC");
}

/* the rows of wazo-doc's sample, as `psql` prints the table (blanks around
 * the '|', empty data5), oldest first */
Test(pbx_input, wazo_table_rows)
{
	in_zone("UTC");
	struct pbx_opts o = opts();
	struct pbx_ql *ql = pbx_ql_new(&o);
	n_got = 0;
	const char *rows[] = {
		"2012-07-04 07:27:55.640421 | 1341401275.9    | q1        | NONE       | JOINEMPTY           |"
		"                     |                 |               |       |",
		"2012-07-04 07:33:21.165823 | 1341401601.24   | q1        | NONE       | ENTERQUEUE          |"
		"                     | 013800000024    | 1             |       |",
		"2012-07-04 07:33:23.085718 | 1341401601.24   | q1        | Agent/3001 | CONNECT             |"
		" 2                   | 1341401601.27   | 1             |       |",
		"2012-07-04 07:37:46.601754 | 1341401601.24   | q1        | Agent/3001 | COMPLETEAGENT       |"
		" 2                   | 263             | 1             |       |",
	};
	enum pbx_line_result want[] = { PBX_LINE_SKIPPED, PBX_LINE_MAPPED, PBX_LINE_MAPPED, PBX_LINE_MAPPED };
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char why[128];
		cr_assert_eq(pbx_ql_line(ql, rows[i], strlen(rows[i]), collect, NULL, why, sizeof why), want[i],
		             "row %zu: %s", i, why);
	}
	cr_assert_eq(n_got, 3);
	cr_assert_str_eq(got[0].id, "a1:1341401601.24:offered:q1");
	cr_assert_str_eq(got[0].caller, "+8613800000024");
	cr_assert_eq(got[0].at, 1341387201165LL);
	cr_assert_str_eq(got[1].agent, "Agent/3001");
	cr_assert_eq(got[1].at, 1341387203085LL);
	cr_assert_eq(got[2].kind, PBX_ENDED);
	cr_assert_str_eq(got[2].id, "a1:1341401601.24:ended:q1");
	pbx_ql_free(ql);
}
