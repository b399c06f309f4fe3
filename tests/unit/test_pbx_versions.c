/*
 * test_pbx_versions.c - what other Asterisk versions and real files give
 * the bridge's pure core, beyond test_pbx.c's Asterisk 12+ records:
 *
 *   - the last line of an import without its newline (a log copied while
 *     Asterisk wrote it, a disk that filled up): an ENTERQUEUE cut inside
 *     its caller id must not offer the call under a shortened number.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pbx_fixtures.h"

static struct pbx_ql *ql;

static void setup(void)
{
	struct pbx_opts o = opts();
	ql = pbx_ql_new(&o);
	n_got = 0;
}

static void teardown(void)
{
	pbx_ql_free(ql);
}

TestSuite(versions, .init = setup, .fini = teardown);

static enum pbx_line_result line(const char *l)
{
	return pbx_ql_line(ql, l, strlen(l), collect, NULL, NULL, 0);
}

static enum pbx_line_result last_line(const char *l, char *why, size_t why_len)
{
	return pbx_ql_last_line(ql, l, strlen(l), collect, NULL, why, why_len);
}

/* app_queue writes ENTERQUEUE as url|callerid|origposition: without the
 * position after it, an unterminated last line may have lost the end of
 * the number, and a callback would ring a stranger. */
Test(versions, an_unterminated_last_enterqueue_cut_in_its_caller_id_is_not_offered)
{
	char why[128];
	cr_assert_eq(last_line("1366720340|1366720340.7|q1|NONE|ENTERQUEUE||0138000", why, sizeof why),
	             PBX_LINE_MALFORMED);
	cr_assert_eq(n_got, 0, "a call offered under a cut number");
	cr_assert(strstr(why, "cut"), "%s", why);
	cr_assert_null(strstr(why, "0138000"), "the number is in the reason: %s", why);
	cr_assert_eq(pbx_ql_counts(ql)->malformed, 1);
}

Test(versions, an_unterminated_last_line_that_is_whole_is_read)
{
	cr_assert_eq(last_line("1366720340|1366720340.7|q1|NONE|ENTERQUEUE||013800000001|1", NULL, 0),
	             PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 1);
	cr_assert_str_eq(got[0].caller, "+8613800000001");
	line("1366720340|1366720340.8|q1|NONE|ENTERQUEUE||013800000002|1");
	cr_assert_eq(last_line("1366720399|1366720340.8|q1|NONE|ABANDON|1|1|5", NULL, 0), PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 3);
	/* in the middle of a file, an old Asterisk's two-field ENTERQUEUE stays a record */
	cr_assert_eq(line("1366720340|1366720340.9|q1|NONE|ENTERQUEUE||013800000003"), PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 4);
}
