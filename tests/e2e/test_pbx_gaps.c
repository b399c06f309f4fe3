/*
 * test_pbx_gaps.c - hotline-pbx end to end (real bridge, daemon and
 * PostgreSQL) where the PBX's record says less than usual (review 3):
 *
 *   forgotten_calls_end_pbx_lost  calls whose end never reached the
 *                          queue_log (one waiting, one talking) are
 *                          forgotten after 12 h of record time with a
 *                          call.ended "pbx_lost": before, they stayed
 *                          open in hotlined for ever
 *   queue_in_queue_in_the_queue_log  a queue as a member of a queue: the
 *                          inner queue's ENTERQUEUE (a Local channel with a
 *                          uniqueid of its own) is the caller's ring, not
 *                          a call: one call, its agent the inner member,
 *                          no callback owed for a ring that timed out
 *   hostile_lines          malformed, cut, huge and binary lines, a caller
 *                          id with spaces, dashes and '+', a RINGNOANSWER
 *                          storm, a clock jump, transfers: what can be
 *                          read is read, nothing is rejected, and no
 *                          caller number is in the bridge's log
 */
#include "pbx_harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(pbx_gaps, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 120);

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* Import path to its end; the bridge's exit status. */
static int import(struct hl_d *d, const char *path)
{
	pid_t pid = pbx_start(d, "--backfill", "queue-log", path, NULL);
	return pbx_wait(pid, 60000);
}

HL_TEST(pbx_gaps, forgotten_calls_end_pbx_lost)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256], l[200];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	FILE *f = fopen(ql, "w");
	cr_assert(f);
	fputs("1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800070001|1\n"            /* its ABANDON was lost */
	      "1764633600|1764633600.2|q1|NONE|ENTERQUEUE||013800070002|1\n"
	      "1764633610|1764633600.2|q1|SIP/8007|CONNECT|10|1764633601.1|2\n", f);   /* its COMPLETE was lost */
	for (int i = 1; i <= 14; i++) {
		long long t = 1764633600LL + i * 3600;
		snprintf(l, sizeof l, "%lld|%lld.%d|q1|NONE|ENTERQUEUE||0139000%05d|1\n", t, t, 10 + i, i);
		fputs(l, f);
		snprintf(l, sizeof l, "%lld|%lld.%d|q1|NONE|ABANDON|1|1|30\n", t + 30, t, 10 + i);
		fputs(l, f);
	}
	fclose(f);
	int rc = import(d, ql);
	const char *log = pbx_log_text(d);
	cr_assert_eq(rc, 0, "%s", log);
	cr_expect(strstr(log, " 0 rejected"), "%s", log);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633600.1' AND "
	                           "state = 'ended' AND outcome = 'pbx_lost' AND answered_at IS NULL"), 1,
	             "the waiting call the bridge forgot is still open:\n%s", log);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633600.2' AND "
	                           "state = 'ended' AND outcome = 'pbx_lost' AND agent = 'SIP/8007'"), 1,
	             "the talking call the bridge forgot is still open");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE state IN ('offered', 'answered')"), 0);
	/* read again: the same ids, nothing changes */
	int64_t before = events_stored(d);
	cr_assert_eq(import(d, ql), 0);
	cr_expect_eq(events_stored(d), before);
	cr_expect_null(strstr(pbx_log_text(d), "13800070"), "a caller number in the log");
}

HL_TEST(pbx_gaps, queue_in_queue_in_the_queue_log)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	write_file(ql, "1764633500|1764633500.41|600|NONE|ENTERQUEUE||013800070041|1\n"
	               "1764633515|1764633500.41|600|Local/601@from-queue/n|RINGNOANSWER|15000\n"
	               "1764633520|1764633500.41|600|NONE|ABANDON|1|1|20\n"
	               "1764633600|1764633600.51|600|NONE|ENTERQUEUE||013800070051|1\n"
	               "1764633601|1764633601.53|601|NONE|ENTERQUEUE||013800070051|1\n"
	               "1764633616|1764633601.53|601|NONE|ABANDON|1|1|15\n"
	               "1764633616|1764633600.51|600|Local/601@from-queue/n|RINGNOANSWER|15000\n"
	               "1764633621|1764633621.55|601|NONE|ENTERQUEUE||013800070051|1\n"
	               "1764633625|1764633621.55|601|PJSIP/8001|CONNECT|4|1764633625.56|4\n"
	               "1764633625|1764633600.51|600|Local/601@from-queue/n|CONNECT|25|1764633621.54|4\n"
	               "1764633685|1764633600.51|600|Local/601@from-queue/n|COMPLETECALLER|25|60|1\n"
	               "1764633685|1764633621.55|601|PJSIP/8001|COMPLETEAGENT|4|60|1\n"
	               "1764633700|1764633700.61|601|NONE|ENTERQUEUE||013800070061|1\n"
	               "1764633710|1764633700.61|601|NONE|ABANDON|1|1|10\n");
	int rc = import(d, ql);
	const char *log = pbx_log_text(d);
	cr_assert_eq(rc, 0, "%s", log);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls"), 3, "the rings were taken for calls:\n%s", log);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633600.51' AND "
	                           "state = 'ended' AND agent = 'PJSIP/8001' AND caller = '+8613800070051'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks k JOIN hotline.calls c USING (case_id) "
	                           "WHERE c.call_id = 't:1764633600.51' AND k.kind = 'callback'"), 0,
	             "a callback owed for a ring of the inner queue");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633700.61' AND "
	                           "state = 'abandoned'"), 1, "a caller of the inner queue itself");
}

HL_TEST(pbx_gaps, hostile_lines)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	FILE *f = fopen(ql, "w");
	cr_assert(f);
	fputs("1764633600|1764633600.1|q1|NONE|ENTERQUEUE||+86 138 0007 0101|1\n"
	      "1764633600|1764633600.2|q1|NONE|ENTERQUEUE||\"Li Na\" <+86-138-0007-0102>|1|Li Na\n"
	      "1764633600|1764633600.3|q1|NONE|ENTERQUEUE||1380007010312345678901234|1\n"
	      "1764633601|17646\n"
	      "CONN\n"
	      "\n", f);
	for (int i = 0; i < 1000; i++) /* a RINGNOANSWER storm: every member, every second */
		fprintf(f, "%d|1764633600.1|q1|PJSIP/80%02d|RINGNOANSWER|1000\n", 1764633601 + i / 50, i % 50);
	fputs("1764633620|1764633600.1|q1|PJSIP/8001|CONNECT|20|1764633619.9|1\n", f);
	for (int i = 0; i < 100000; i++) /* a huge line */
		fputc('x', f);
	fputs("\n", f);
	fputs("1764633621|1764633600.2|q1|PJSIP/8002|CONNECT|21|1764633620.9|1\n", f);
	fwrite("\x00\x01\xff\xfe|\x00|q1\n", 1, 9, f); /* binary */
	fputs("1764633680|1764633600.1|q1|PJSIP/8001|ATTENDEDTRANSFER|LINK|PJSIP/8001-1|Local/9@x-1;1|20|60|1\n"
	      "1764633690|1764633600.2|q1|PJSIP/8002|BLINDTRANSFER|9000|from-internal|21|69|1\n"
	      "1764633700|1764633600.3|q1|NONE|ABANDON|1|1|100\n"
	      "1764633800|1764633800.4|q1|NONE|ENTERQUEUE||013800070104|1\n"
	      "1764633805|1764633800.4|q1|NONE|ABAN", f); /* the last line cut short, no newline */
	fclose(f);
	pid_t pid = pbx_start(d, "--backfill", "queue-log", ql, NULL);
	int rc = pbx_wait(pid, 60000);
	const char *log = pbx_log_text(d);
	cr_assert_eq(rc, 0, "%s", log);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633600.1' AND "
	                           "caller = '+8613800070101' AND outcome = 'transferred' AND agent = 'PJSIP/8001'"), 1,
	             "%s", log);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633600.2' AND "
	                           "caller = '+8613800070102' AND outcome = 'transferred'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633800.4' AND "
	                           "state = 'offered'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633600.3' AND "
	                           "state = 'abandoned'"), 1, "a number too long for a caller: %s", log);
	cr_expect_null(strstr(log, "1380007"), "a caller number in the log:\n%s", log);
	cr_expect_null(strstr(log, "38 0007"), "a caller number in the log:\n%s", log);
}
