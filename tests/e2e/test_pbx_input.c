/*
 * test_pbx_input.c - hotline-pbx against input no well-behaved Asterisk writes
 * but real files and hostile testers contain (the real bridge, daemon and
 * PostgreSQL; test_pbx.c has the everyday paths).
 *
 *   long_line_bounded      a line of tens of megabytes without a newline (a
 *                          wrong path, a binary, a runaway writer) while
 *                          following: the bridge's memory stays flat, the
 *                          line counts as malformed and the records after it
 *                          are read, the position ends after them
 *   rotated_dateext_while_down  the bridge stopped, Asterisk wrote more, and
 *                          logrotate renamed the file with dateext
 *                          (queue_log-20251202, RHEL-based FreePBX and Issabel):
 *                          the old file is finished from the saved position
 *                          before the new one, nothing lost
 *   rotated_twice_while_down  two daily rotations while the bridge is
 *                          stopped (queue_log.2, queue_log.1, queue_log):
 *                          the saved file is finished, then the file
 *                          rotated in between, then the live one
 *   copytruncate_while_down  the same with logrotate's copytruncate: the
 *                          copy (another inode) is found by its first line
 *                          and finished from the saved position
 *   copytruncate_while_behind  the same while the bridge runs behind the
 *                          file (hotlined slow; here SIGSTOP): the copy is
 *                          finished from the position before the live file
 *   copytruncate_with_a_line_half_read  the same with half a line read
 *                          before the rotation: its rest is in the copy
 *   copytruncate_and_regrown_while_behind  the same, the live file grown
 *                          past the old position before the bridge reads on
 *   state_file_not_understood_is_named  a state file that is not one: the
 *                          log is read from the start, and the log says why
 *   import_of_a_directory  queue-log DIR (a wrong path) exits 1 at once with
 *                          the reason, instead of retrying forever
 *   import_from_a_pipe     zcat queue_log.gz | hotline-pbx queue-log /dev/stdin
 *                          (here a FIFO): read to its end, exit 0
 *   systemname_and_anonymous_twice  a PBX with asterisk.conf's systemname
 *                          (uniqueids "pbx1-<epoch>.<n>"): a line cut by a
 *                          crash before such a record keeps the record; an
 *                          anonymous caller's call is offered as withheld,
 *                          and its ends logged twice and after its transfer
 *                          to the next queue are its own: nothing is
 *                          rejected unknown_call
 *   rotated_and_compressed_while_down  (review 3) logrotate's compress
 *                          without delaycompress while the bridge is
 *                          stopped: queue_log.1.gz is read (zlib) from the
 *                          saved position before the live file
 *   rotated_twice_compressed_while_down  the same with two rotations, both
 *                          files compressed: the one in between is read too
 *   state_file_unwritable  --follow with a state file in a directory that does
 *                          not exist exits 1 at once, saying so, instead of
 *                          running without ever saving its position (and
 *                          logging the failure five times a second)
 *
 * Every test's name says what must hold; each was written to fail on the
 * bridge before the fix it comes with.
 */
#include "pbx_harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(pbx_input, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 180);

static void append(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "a");
	cr_assert(f, "%s", path);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* The high-water mark of a process's resident memory, in KiB (-1: unknown). */
static long peak_rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

HL_TEST(pbx_input, long_line_bounded)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256], state[256];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	snprintf(state, sizeof state, "%s/pbx.state", d->dir);
	const char *a = "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800050001|1\n";
	append(ql, a, strlen(a));
	pid_t pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(await_events(d, 1, 30000), 1, "%s", pbx_log_text(d));

	/* 96 MiB of one line, no newline yet: the bridge reads it all (a
	 * partial line waits for its end) but must not keep it */
	enum { MIB = 1024 * 1024, LONG = 96 };
	char *junk = malloc(MIB);
	cr_assert(junk);
	memset(junk, '9', MIB);
	memcpy(junk, "1764633601|1764633601.2|q1|NONE|ENTERQUEUE||", 45);
	append(ql, junk, MIB);
	memcpy(junk, "99999", 5);
	for (int i = 1; i < LONG; i++)
		append(ql, junk, MIB);
	free(junk);
	hl_sleep_ms(3000);
	long kb = peak_rss_kb(pid);
	cr_assert(kb > 0, "no /proc/%d/status", (int)pid);
	cr_assert_lt(kb, 48 * 1024, "peak resident memory %ld KiB after a %d MiB line", kb, (int)LONG);

	const char *b = "\n1764633700|1764633600.1|q1|NONE|ABANDON|1|1|100\n";
	append(ql, b, strlen(b));
	cr_assert_eq(await_events(d, 2, 30000), 2, "%s", pbx_log_text(d));
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));
	const char *log = pbx_log_text(d);
	cr_assert(strstr(log, "line too long"), "%s", log);
	cr_assert(strstr(log, "1 malformed"), "%s", log);

	/* the saved position is the end of the file: a restart reads nothing again */
	struct stat st;
	cr_assert_eq(stat(ql, &st), 0);
	FILE *f = fopen(state, "r");
	cr_assert(f, "no state file");
	unsigned long long dev, ino, pos, sig;
	cr_assert_eq(fscanf(f, "hotline-pbx 2 %llu %llu %llu %llu", &dev, &ino, &pos, &sig), 4);
	fclose(f);
	cr_assert_eq(pos, (unsigned long long)st.st_size);
	cr_assert_eq(events_stored(d), 2);
}

/* A call answered, the bridge stopped, then: the call ends, another
 * enters, the log is rotated by `rotate` (a shell command; %1$s the live
 * file, %2$s the rotated one), and the second call is abandoned in the new
 * live file.  The restarted bridge must send all five events, reading the
 * rotated file from its saved position (`from` names it in the log). */
static void rotated_while_down(const char *rotate, const char *suffix, const char *caller_base, const char *from)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256], old[300], cmd[1024], a[256], b[256];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	snprintf(old, sizeof old, "%s%s", ql, suffix);
	snprintf(a, sizeof a, "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||%s1|1\n"
	                      "1764633610|1764633600.1|q1|PJSIP/8001|CONNECT|10|1764633601.1|2\n", caller_base);
	append(ql, a, strlen(a));
	pid_t pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(await_events(d, 2, 30000), 2, "%s", pbx_log_text(d));
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));

	/* while the bridge is down: the call ends, another waits, then rotation */
	snprintf(b, sizeof b, "1764633700|1764633600.1|q1|PJSIP/8001|COMPLETECALLER|10|90|1\n"
	                      "1764633710|1764633710.2|q1|NONE|ENTERQUEUE||%s2|1\n", caller_base);
	append(ql, b, strlen(b));
	snprintf(cmd, sizeof cmd, rotate, ql, old);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	const char *c = "1764633720|1764633710.2|q1|NONE|ABANDON|1|1|10\n";
	append(ql, c, strlen(c));

	pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(await_events(d, 5, 30000), 5, "%s", pbx_log_text(d));
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));
	cr_assert(strstr(pbx_log_text(d), from), "%s", pbx_log_text(d));
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE state = 'ended'"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE state = 'abandoned'"), 1);
	cr_assert_eq(events_stored(d), 5);
}

/* logrotate's default (create, dateext): the file renamed while the bridge is stopped */
HL_TEST(pbx_input, rotated_dateext_while_down)
{
	rotated_while_down("mv '%1$s' '%2$s'", "-20251202", "01380006000", "queue_log-20251202 from offset");
}

/* review 3: logrotate's compress (without delaycompress) while the bridge
 * is stopped: the file the state names is now queue_log.1.gz.  Before,
 * the bridge warned "rotated and compressed?" and read the live file from
 * 0: the end of call 1 and all of call 2 but its abandon were lost. */
HL_TEST(pbx_input, rotated_and_compressed_while_down)
{
	rotated_while_down("mv '%1$s' '%2$s' && gzip -n '%2$s'", ".1", "01380006200", "queue_log.1.gz");
}

/* logrotate's copytruncate while the bridge is stopped: the lines written
 * after the saved position went into the copy (another inode), and the
 * live file starts again.  The copy is found by its first line and finished
 * from the position; before, the bridge warned "rotated and compressed?",
 * read the live file from 0, and the call ended and the call entered
 * meanwhile were lost (the abandon after them was rejected: unknown call). */
HL_TEST(pbx_input, copytruncate_while_down)
{
	/* what copytruncate does */
	rotated_while_down("cp '%1$s' '%2$s' && : > '%1$s'", ".1", "01380009000", "queue_log.1 from offset");
}

/* The same copytruncate while the bridge runs but is behind (hotlined slow
 * or down, so reading paused; here SIGSTOP): the lines between its position
 * and the copy are only in the copy.  Before, the truncation was seen and
 * the live file read from 0, and those lines were lost. */
HL_TEST(pbx_input, copytruncate_while_behind)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256], copy[300], cmd[1024];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	snprintf(copy, sizeof copy, "%s.1", ql);
	const char *a = "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800091001|1\n"
	                "1764633610|1764633600.1|q1|PJSIP/8001|CONNECT|10|1764633601.1|2\n";
	append(ql, a, strlen(a));
	pid_t pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(await_events(d, 2, 30000), 2, "%s", pbx_log_text(d));
	kill(pid, SIGSTOP);
	const char *b = "1764633700|1764633600.1|q1|PJSIP/8001|COMPLETECALLER|10|90|1\n"
	                "1764633710|1764633710.2|q1|NONE|ENTERQUEUE||013800091002|1\n";
	append(ql, b, strlen(b));
	snprintf(cmd, sizeof cmd, "cp '%s' '%s' && : > '%s'", ql, copy, ql);
	cr_assert_eq(system(cmd), 0);
	const char *c = "1764633720|1764633710.2|q1|NONE|ABANDON|1|1|10\n";
	append(ql, c, strlen(c));
	kill(pid, SIGCONT);
	cr_assert_eq(await_events(d, 5, 30000), 5, "%s", pbx_log_text(d));
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE state = 'ended'"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE state = 'abandoned'"), 1);
	cr_assert_eq(events_stored(d), 5);
}

/* A state file that is not one (emptied by a crash of the file system, a
 * file of another program, a future version): the bridge read the log from
 * the start without a word.  It still does (nothing is lost, what was sent
 * is answered duplicate), but says why. */
/* The same with the bridge stopped in the middle of a line (a 64 KiB read
 * ends anywhere; here Asterisk had written half of it): the start it holds
 * and the rest in the copy are one record.  Dropping the start as "cut"
 * lost that record (here the call's end). */
HL_TEST(pbx_input, copytruncate_with_a_line_half_read)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256], copy[300], cmd[1024];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	snprintf(copy, sizeof copy, "%s.1", ql);
	const char *a = "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800093001|1\n"
	                "1764633610|1764633600.1|q1|PJSIP/8001|CONNECT|10|1764633601.1|2\n"
	                "1764633700|1764633600.1|q1|PJSIP/8001|COMPL";
	append(ql, a, strlen(a));
	pid_t pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(await_events(d, 2, 30000), 2, "%s", pbx_log_text(d));
	usleep(300 * 1000); /* polled again: the half line is in its buffer */
	kill(pid, SIGSTOP);
	const char *b = "ETECALLER|10|90|1\n"
	                "1764633710|1764633710.2|q1|NONE|ENTERQUEUE||013800093002|1\n";
	append(ql, b, strlen(b));
	snprintf(cmd, sizeof cmd, "cp '%s' '%s' && : > '%s'", ql, copy, ql);
	cr_assert_eq(system(cmd), 0);
	const char *c = "1764633720|1764633710.2|q1|NONE|ABANDON|1|1|10\n";
	append(ql, c, strlen(c));
	kill(pid, SIGCONT);
	cr_assert_eq(await_events(d, 5, 30000), 5, "%s", pbx_log_text(d));
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE state = 'ended'"), 1);
	cr_assert_eq(events_stored(d), 5);
	cr_assert(strstr(pbx_log_text(d), " 0 malformed"), "%s", pbx_log_text(d));
}

/* The same, but the live file has grown past the bridge's position by the
 * time it reads again (a long wait: hotlined down for hours).  Reading at
 * the old offset read the middle of the new file (a garbage line, and its
 * later lines before its first ones), and the copy was not found from that
 * offset: the lines written between the position and the copy were lost.
 * A reader that waited checks the file's first line before it reads on. */
HL_TEST(pbx_input, copytruncate_and_regrown_while_behind)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256], copy[300], cmd[1024];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	snprintf(copy, sizeof copy, "%s.1", ql);
	const char *a = "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800094001|1\n"
	                "1764633610|1764633600.1|q1|PJSIP/8001|CONNECT|10|1764633601.1|2\n";
	append(ql, a, strlen(a));
	pid_t pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(await_events(d, 2, 30000), 2, "%s", pbx_log_text(d));
	kill(pid, SIGSTOP);
	const char *b = "1764633700|1764633600.1|q1|PJSIP/8001|COMPLETECALLER|10|90|1\n"
	                "1764633710|1764633710.2|q1|NONE|ENTERQUEUE||013800094002|1\n";
	append(ql, b, strlen(b));
	snprintf(cmd, sizeof cmd, "cp '%s' '%s' && : > '%s'", ql, copy, ql);
	cr_assert_eq(system(cmd), 0);
	const char *c = "1764633720|1764633710.2|q1|NONE|ABANDON|1|1|10\n";
	append(ql, c, strlen(c));
	for (int i = 0; i < 20; i++) { /* skipped records: the new file outgrows the old position */
		const char *filler = "1764633730|1764633730.9|q1|PJSIP/8001|RINGNOANSWER|1000\n";
		append(ql, filler, strlen(filler));
	}
	kill(pid, SIGCONT);
	cr_assert_eq(await_events(d, 5, 30000), 5, "%s", pbx_log_text(d));
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE state = 'ended'"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE state = 'abandoned'"), 1);
	cr_assert_eq(events_stored(d), 5);
	cr_assert(strstr(pbx_log_text(d), " 0 malformed"), "%s", pbx_log_text(d));
}

HL_TEST(pbx_input, state_file_not_understood_is_named)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256], state[256];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	snprintf(state, sizeof state, "%s/pbx.state", d->dir);
	const char *a = "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800092001|1\n";
	append(ql, a, strlen(a));
	const char *junk = "\0\0\0\0garbage\n";
	append(state, junk, 12);
	pid_t pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(await_events(d, 1, 30000), 1, "%s", pbx_log_text(d));
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));
	cr_assert(strstr(pbx_log_text(d), "pbx.state: not a hotline-pbx state file"), "%s", pbx_log_text(d));
}

HL_TEST(pbx_input, import_of_a_directory)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	pid_t pid = pbx_start(d, "queue-log", d->dir, NULL, NULL);
	cr_assert_eq(pbx_wait(pid, 5000), 1, "%s", pbx_log_text(d));
	cr_assert(strstr(pbx_log_text(d), "Is a directory"), "%s", pbx_log_text(d));
}

HL_TEST(pbx_input, import_from_a_pipe)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char fifo[256];
	snprintf(fifo, sizeof fifo, "%s/queue_log.fifo", d->dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	pid_t pid = pbx_start(d, "--backfill", "queue-log", fifo, NULL);
	int fd = open(fifo, O_WRONLY); /* waits for the bridge to open it */
	cr_assert(fd >= 0);
	const char *t = "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800070001|1\n"
	                "1764633610|1764633600.1|q1|NONE|ABANDON|1|1|10\n";
	cr_assert_eq(write(fd, t, strlen(t)), (ssize_t)strlen(t));
	close(fd);
	cr_assert_eq(pbx_wait(pid, 30000), 0, "%s", pbx_log_text(d));
	cr_assert_eq(events_stored(d), 2, "%s", pbx_log_text(d));
}

HL_TEST(pbx_input, state_file_unwritable)
{
	struct hl_d *d = hl_d_up(NULL);
	char conf[256], ql[256];
	snprintf(conf, sizeof conf, "%s/pbx.conf", d->dir);
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	FILE *f = fopen(conf, "w");
	cr_assert(f);
	fprintf(f, "pbx = {\n  socket = \"%s\";\n  state_file = \"%s/no-such-dir/pbx.state\";\n"
	           "  id_prefix = \"t:\";\n  poll_ms = 50;\n};\n", d->sock, d->dir);
	fclose(f);
	const char *t = "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800080001|1\n";
	append(ql, t, strlen(t));
	pid_t pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(pbx_wait(pid, 5000), 1, "%s", pbx_log_text(d));
	cr_assert(strstr(pbx_log_text(d), "no-such-dir/pbx.state.tmp: No such file or directory"), "%s",
	          pbx_log_text(d));
}

HL_TEST(pbx_input, systemname_and_anonymous_twice)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char path[256];
	snprintf(path, sizeof path, "%s/queue_log", d->dir);
	const char *t =
		"1764633600|pbx1-1764633600.1|q1|NONE|ENTERQUEUE||anonymous|1\n"
		"1764633605|pbx1-1764633600.1|q1|PJSIP/8001|CONNECT|5|pbx1-1764633605.2|3\n"
		"1764633630|pbx1-1764633600.1|q2|NONE|ENTERQUEUE||anonymous|1\n"
		"1764633630|pbx1-1764633600.1|q1|PJSIP/8001|BLINDTRANSFER|q2@from-queue|from-queue|5|25|1\n"
		"1764633640|pbx1-1764633600.1|q2|PJSIP/8003|CONNECT|10|pbx1-1764633640.3|2\n"
		"1764633700|pbx1-1764633600.1|q2|PJSIP/8003|COMPLETEAGENT|10|60|1\n"
		"1764633700|pbx1-1764633600.1|q2|PJSIP/8003|COMPLETEAGENT|10|60|1\n"
		"1764633800|pbx1-1764633800.4|q1|NONE|ENTERQ"
		"1764633801|pbx1-1764633801.5|q1|NONE|ENTERQUEUE||013800070005|1\n"
		"1764633810|pbx1-1764633801.5|q1|NONE|ABANDON|1|1|9\n";
	append(path, t, strlen(t));
	pid_t pid = pbx_start(d, "--backfill", "queue-log", path, NULL);
	cr_assert_eq(pbx_wait(pid, 30000), 0, "%s", pbx_log_text(d));
	const char *log = pbx_log_text(d);
	cr_expect(strstr(log, " 0 rejected"), "an anonymous call's records were refused: %s", log);
	cr_expect_null(strstr(log, "unknown_call"), "%s", log);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:pbx1-1764633801.5' "
	                           "AND state = 'abandoned'"),
	             1, "the record after the cut line was lost: %s", log);
	/* the anonymous call: offered as withheld, answered, transferred, answered
	 * in q2 and ended there, once; its case owes no call back */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:pbx1-1764633600.1' "
	                           "AND caller LIKE 'withheld:%%' AND state = 'ended' AND answered_at IS NOT NULL"),
	             1, "%s", log);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE kind = 'callback'"), 1, "%s", log);
}

/* Two rotations while the bridge is stopped (a daily logrotate and a
 * bridge down over a weekend, or hotlined down and the reading paused):
 * the file the state names is now queue_log.2, a whole day is in
 * queue_log.1, and queue_log is today's.  Before, the bridge finished
 * queue_log.2 and went on with queue_log from 0: queue_log.1's calls were
 * never sent (and the end of a call it held was rejected, unknown_call). */
HL_TEST(pbx_input, rotated_twice_while_down)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[200], cmd[1024];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	const char *a = "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800090001|1\n"
	                "1764633610|1764633600.1|q1|PJSIP/8001|CONNECT|10|1764633601.1|2\n";
	append(ql, a, strlen(a));
	pid_t pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(await_events(d, 2, 30000), 2, "%s", pbx_log_text(d));
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));

	/* day 1 ends: the call ends, logrotate renames, Asterisk reopens */
	const char *a2 = "1764633700|1764633600.1|q1|PJSIP/8001|COMPLETECALLER|10|90|1\n";
	append(ql, a2, strlen(a2));
	snprintf(cmd, sizeof cmd, "mv '%s' '%s.1'", ql, ql);
	cr_assert_eq(system(cmd), 0);
	/* day 2: a whole day in the new file, one call going on at midnight */
	const char *b = "1764720000|1764720000.2|q1|NONE|ENTERQUEUE||013800090002|1\n"
	                "1764720030|1764720000.2|q1|NONE|ABANDON|1|1|30\n"
	                "1764806000|1764806000.3|q1|NONE|ENTERQUEUE||013800090003|1\n"
	                "1764806010|1764806000.3|q1|PJSIP/8002|CONNECT|10|1764806001.1|2\n";
	append(ql, b, strlen(b));
	snprintf(cmd, sizeof cmd, "mv '%s.1' '%s.2' && mv '%s' '%s.1'", ql, ql, ql, ql);
	cr_assert_eq(system(cmd), 0);
	/* day 3 */
	const char *c = "1764806500|1764806000.3|q1|PJSIP/8002|COMPLETEAGENT|10|490|1\n"
	                "1764806600|1764806600.4|q1|NONE|ENTERQUEUE||013800090004|1\n"
	                "1764806610|1764806600.4|q1|NONE|ABANDON|1|1|10\n";
	append(ql, c, strlen(c));

	pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	await_events(d, 10, 30000);
	hl_sleep_ms(500);
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));
	const char *log = pbx_log_text(d);
	cr_expect(strstr(log, "8 lines, 8 events (0 synthesized), 8 acknowledged (0 duplicate), 0 rejected"), "%s", log);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764720000.2' AND "
	                           "state = 'abandoned'"), 1, "the day rotated in between was skipped: %s", log);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764806000.3' AND "
	                           "state = 'ended' AND agent = 'PJSIP/8002'"), 1, "%s", log);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE state = 'ended'"), 2);
	cr_assert_eq(events_stored(d), 10, "%lld %s", (long long)events_stored(d), log);
}

/* review 3: two rotations while the bridge is stopped, with logrotate's
 * compress (no delaycompress): queue_log.2.gz (finished from the saved
 * position), queue_log.1.gz (a whole day), queue_log.  Both compressed
 * files are read; before, both were lost. */
HL_TEST(pbx_input, rotated_twice_compressed_while_down)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[200], cmd[2048];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	const char *a = "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800091001|1\n"
	                "1764633610|1764633600.1|q1|PJSIP/8001|CONNECT|10|1764633601.1|2\n";
	append(ql, a, strlen(a));
	pid_t pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(await_events(d, 2, 30000), 2, "%s", pbx_log_text(d));
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));

	const char *a2 = "1764633700|1764633600.1|q1|PJSIP/8001|COMPLETECALLER|10|90|1\n";
	append(ql, a2, strlen(a2));
	snprintf(cmd, sizeof cmd, "mv '%s' '%s.1' && gzip -n '%s.1'", ql, ql, ql);
	cr_assert_eq(system(cmd), 0);
	const char *b = "1764720000|1764720000.2|q1|NONE|ENTERQUEUE||013800091002|1\n"
	                "1764720030|1764720000.2|q1|NONE|ABANDON|1|1|30\n";
	append(ql, b, strlen(b));
	snprintf(cmd, sizeof cmd, "mv '%s.1.gz' '%s.2.gz' && mv '%s' '%s.1' && gzip -n '%s.1'", ql, ql, ql, ql, ql);
	cr_assert_eq(system(cmd), 0);
	const char *c = "1764806600|1764806600.4|q1|NONE|ENTERQUEUE||013800091004|1\n"
	                "1764806610|1764806600.4|q1|NONE|ABANDON|1|1|10\n";
	append(ql, c, strlen(c));

	pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	await_events(d, 7, 30000);
	hl_sleep_ms(500);
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));
	const char *log = pbx_log_text(d);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633600.1' AND "
	                           "state = 'ended' AND outcome = 'completed'"), 1, "the compressed file's end lost: %s", log);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764720000.2' AND "
	                           "state = 'abandoned'"), 1, "the compressed day in between was skipped: %s", log);
	cr_assert_eq(events_stored(d), 7, "%lld %s", (long long)events_stored(d), log);
	cr_expect_null(strstr(log, "13800091"), "a caller number in the log:\n%s", log);
}
