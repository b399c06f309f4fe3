/*
 * test_events_wire.c - end-to-end tests of how the event socket treats the
 * lines it is sent (suite `events`; docs/protocol.md section 1): each
 * malformed or refused request gets its error code and the connection stays
 * usable; a line over listen.max_line closes the connection; a repeated id
 * has no new effect, on any connection, in one pipeline, after a restart;
 * 500 pipelined requests are answered in order; CRLF and a line written in
 * pieces are read as one; and hotlinectl send pipelines a file or stdin and
 * reports errors in its exit status.  What the events themselves do is in
 * test_events.c; the helpers both files use are in events_helpers.h.
 *
 * Design.  Each test starts a real hotlined on a fresh database (see
 * harness.h) and writes to its Unix or TCP socket, often raw bytes
 * (hl_send_raw) so that framing and pipelining are what the daemon really
 * receives; the rows in hotline.case_events, cases and calls show what was
 * (and was not) stored.  hotlinectl is run through the shell, from
 * HOTLINECTL_BIN (default build/hotlinectl); the test is skipped without it.
 */
#include "events_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(events, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 90);

/* ------------------------------------------------------------------ errors */

HL_TEST(events, error_codes_and_connection_stays_usable)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);

	json_object *r = hl_request(c, "this is not json");
	expect_error(r, "bad_json");
	cr_assert(hl_jnull(r, "id"), "bad_json answers id null: %s", json_object_to_json_string(r));

	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"e1\",\"call_id\":\"x\"}");
	expect_error(r, "bad_request");
	cr_assert_str_eq(hl_jstr(r, "id"), "e1");
	cr_expect(strstr(hl_jstr(r, "error.message"), "caller"), "names the field: %s", hl_jstr(r, "error.message"));

	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"e2\",\"call_id\":\"x\",\"caller\":\"12ab34\"}");
	expect_error(r, "bad_request");
	cr_expect(strstr(hl_jstr(r, "error.message"), "caller"), "names the field: %s", hl_jstr(r, "error.message"));

	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"e3\",\"call_id\":\"x\",\"caller\":\"123\",\"at\":\"yesterday\"}");
	expect_error(r, "bad_request");
	cr_expect(strstr(hl_jstr(r, "error.message"), "at"), "names the field: %s", hl_jstr(r, "error.message"));

	r = hl_request(c, "{\"type\":\"ping\"}");
	expect_error(r, "bad_request");
	cr_expect(strstr(hl_jstr(r, "error.message"), "id"), "names the field: %s", hl_jstr(r, "error.message"));

	char longid[200];
	memset(longid, 'x', 129);
	longid[129] = '\0';
	r = hl_requestf(c, "{\"type\":\"ping\",\"id\":\"%s\"}", longid);
	expect_error(r, "bad_request");

	r = hl_request(c, "{\"id\":\"e4\"}");
	expect_error(r, "bad_request");
	cr_expect(strstr(hl_jstr(r, "error.message"), "type"), "names the field: %s", hl_jstr(r, "error.message"));

	r = hl_request(c, "[1,2,3]");
	cr_assert(!hl_jbool(r, "ok"), "an array is not a request");

	r = hl_request(c, "{\"type\":\"call.teleported\",\"id\":\"e5\"}");
	expect_error(r, "unknown_type");
	cr_assert_str_eq(hl_jstr(r, "id"), "e5");

	r = hl_request(c, "{\"type\":\"case.update\",\"id\":\"e6\",\"case_id\":987654,\"note\":\"?\"}");
	expect_error(r, "unknown_case");

	r = hl_request(c, "{\"type\":\"case.get\",\"id\":\"e6b\",\"case_id\":987654}");
	expect_error(r, "unknown_case");

	r = hl_request(c, "{\"type\":\"call.answered\",\"id\":\"e7\",\"call_id\":\"nope\",\"agent\":\"a\"}");
	expect_error(r, "unknown_call");

	r = hl_request(c, "{\"type\":\"call.abandoned\",\"id\":\"e8\",\"call_id\":\"nope\"}");
	expect_error(r, "unknown_call");

	r = hl_request(c, "{\"type\":\"callback.attempt\",\"id\":\"e9\",\"case_id\":1,\"result\":\"teleported\"}");
	cr_assert(!hl_jbool(r, "ok"));

	/* nothing of that was stored, and the connection still works */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 0);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases"), 0);
	r = hl_request(c, "{\"type\":\"ping\",\"id\":\"still-here\"}");
	expect_ok(r, "still-here");
	offer(c, "c1", "+8613800000060", hl_iso_in(-1));

	/* a failed id can be used again once the request is right */
	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"e1\",\"call_id\":\"x\",\"caller\":\"+8613800000061\"}");
	expect_ok(r, "e1");
	cr_assert(!hl_jbool(r, "duplicate"));
}

HL_TEST(events, too_large_closes_connection)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .listen = "max_line = 1024;" });
	struct hl_conn *c = hl_conn_unix(d);
	/* exactly max_line bytes is fine */
	char line[1100];
	int n = snprintf(line, sizeof line, "{\"type\":\"ping\",\"id\":\"fits\",\"pad\":\"");
	memset(line + n, 'p', 1024 - (size_t)n - 2);
	strcpy(line + 1024 - 2, "\"}");
	cr_assert_eq(strlen(line), 1024);
	json_object *r = hl_request(c, line);
	expect_ok(r, "fits");

	size_t big = 4000;
	char *s = malloc(big + 1);
	memset(s, 'a', big);
	s[big - 1] = '\n';
	s[big] = '\0';
	hl_send_raw(c, s, big);
	free(s);
	r = hl_recv_json(c, HL_TIMEOUT_MS);
	cr_assert(r, "no too_large response");
	expect_error(r, "too_large");
	cr_assert(hl_wait_eof(c, 5000), "connection not closed after too_large");

	/* other connections are not affected */
	struct hl_conn *c2 = hl_conn_unix(d);
	r = hl_request(c2, "{\"type\":\"ping\",\"id\":\"after\"}");
	expect_ok(r, "after");
}

/* A member named twice (review-ops4): refused with bad_request naming it,
 * nothing stored, the connection usable.  Before, the last "caller" won: the
 * case was opened for the second number while the stored line also showed the
 * first. */
HL_TEST(events, duplicate_member_refused_nothing_stored)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	json_object *r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"dm1\",\"call_id\":\"dmc\","
	                               "\"caller\":\"+8613800000081\",\"caller\":\"+8613800000082\"}");
	expect_error(r, "bad_request");
	cr_assert_str_eq(hl_jstr(r, "error.message"), "caller: duplicate key");
	cr_assert_str_eq(hl_jstr(r, "id"), "dm1");
	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"dm2\",\"call_id\":\"dmc\","
	                  "\"caller\":\"+8613800000081\",\"id\":\"dm3\"}");
	expect_error(r, "bad_request");
	cr_assert_str_eq(hl_jstr(r, "error.message"), "id: duplicate key");
	cr_assert(hl_jnull(r, "id"), "a duplicated id is answered with id null: %s", json_object_to_json_string(r));
	r = hl_request(c, "{\"type\":\"ping\",\"id\":\"dm-after\"}");
	expect_ok(r, "dm-after");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id IN ('dm1','dm2','dm3')"), 0);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases"), 0);
	/* the id of a refused line can be used once the line is right */
	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"dm1\",\"call_id\":\"dmc\",\"caller\":\"+8613800000081\"}");
	expect_ok(r, "dm1");
}

/* -------------------------------------------------------------- duplicates */

HL_TEST(events, duplicate_id_has_no_new_effect)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	const char *ev = "{\"type\":\"call.offered\",\"id\":\"dup-1\",\"call_id\":\"c1\",\"caller\":\"+8613800000070\"}";
	json_object *r = hl_request(c, ev);
	expect_ok(r, "dup-1");
	int64_t case_id = hl_jint(r, "case_id");

	r = hl_request(c, ev);
	expect_ok(r, "dup-1");
	cr_assert(hl_jbool(r, "duplicate"), "second send is a duplicate: %s", json_object_to_json_string(r));
	cr_assert_eq(hl_jint(r, "case_id"), case_id);

	/* same id, different content, other connection: still a duplicate */
	struct hl_conn *t = hl_conn_tcp(d);
	r = hl_request(t, "{\"type\":\"call.offered\",\"id\":\"dup-1\",\"call_id\":\"c9\",\"caller\":\"+8613800000071\"}");
	expect_ok(r, "dup-1");
	cr_assert(hl_jbool(r, "duplicate"));
	cr_assert_eq(hl_jint(r, "case_id"), case_id);

	/* a duplicate of a case event */
	int64_t a = case_event(c, "case.transfer", case_id, "\"department\":\"x\"");
	(void)a;
	r = hl_requestf(c, "{\"type\":\"case.update\",\"id\":\"dup-2\",\"case_id\":%lld,\"note\":\"n\"}", (long long)case_id);
	expect_ok(r, "dup-2");
	r = hl_requestf(c, "{\"type\":\"case.update\",\"id\":\"dup-2\",\"case_id\":%lld,\"note\":\"n\"}", (long long)case_id);
	cr_assert(hl_jbool(r, "duplicate"));
	cr_assert_eq(hl_jint(r, "case_id"), case_id);

	cr_assert_eq(count_events(d, "dup-1"), 1);
	cr_assert_eq(count_events(d, "dup-2"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls"), 1);

	/* survives a restart */
	hl_d_restart(d);
	struct hl_conn *c2 = hl_conn_unix(d);
	r = hl_request(c2, ev);
	cr_assert(hl_jbool(r, "duplicate"), "duplicate after restart: %s", json_object_to_json_string(r));
	cr_assert_eq(hl_jint(r, "case_id"), case_id);
	cr_assert_eq(count_events(d, "dup-1"), 1);
}

HL_TEST(events, duplicates_within_one_pipeline)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	const char *ev = "{\"type\":\"call.offered\",\"id\":\"pd\",\"call_id\":\"c1\",\"caller\":\"+8613800000072\"}\n";
	char buf[1024];
	snprintf(buf, sizeof buf, "%s%s%s", ev, ev, ev);
	cr_assert_eq(hl_send_raw(c, buf, strlen(buf)), 0);
	int dups = 0;
	int64_t case_id = 0;
	for (int i = 0; i < 3; i++) {
		json_object *r = hl_recv_json(c, HL_TIMEOUT_MS);
		cr_assert(r, "response %d missing", i);
		expect_ok(r, "pd");
		if (case_id)
			cr_assert_eq(hl_jint(r, "case_id"), case_id);
		case_id = hl_jint(r, "case_id");
		dups += hl_jbool(r, "duplicate");
	}
	cr_assert_eq(dups, 2, "exactly the first one is new");
	cr_assert_eq(count_events(d, "pd"), 1);
}

/* -------------------------------------------------------------- pipelining */

HL_TEST(events, pipelined_500_in_order)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	size_t cap = 500 * 200, len = 0;
	char *buf = malloc(cap);
	cr_assert(buf);
	/* a mix of events, commands and errors: order must hold across all */
	for (int i = 0; i < 500; i++) {
		int n;
		if (i % 50 == 7)
			n = snprintf(buf + len, cap - len, "{\"type\":\"nonsense\",\"id\":\"p%d\"}\n", i);
		else if (i % 10 == 3)
			n = snprintf(buf + len, cap - len, "{\"type\":\"ping\",\"id\":\"p%d\"}\n", i);
		else
			n = snprintf(buf + len, cap - len,
			             "{\"type\":\"call.offered\",\"id\":\"p%d\",\"call_id\":\"call-%d\",\"caller\":\"+86138%08d\"}\n",
			             i, i, i % 37);
		len += (size_t)n;
	}
	int rc = hl_send_raw(c, buf, len);
	free(buf);
	cr_assert_eq(rc, 0);
	for (int i = 0; i < 500; i++) {
		json_object *r = hl_recv_json(c, 30000);
		cr_assert(r, "response %d missing", i);
		char want[16];
		snprintf(want, sizeof want, "p%d", i);
		const char *got = hl_jstr(r, "id");
		cr_assert(got && strcmp(got, want) == 0, "response %d has id %s", i, got ? got : "(none)");
		if (i % 50 == 7)
			expect_error(r, "unknown_type");
		else
			cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	}
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 500 - 50 - 10);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases"), 37);
	cr_assert_eq(hl_sql_int(d, "SELECT count(DISTINCT case_id) FROM hotline.calls"), 37);
}

HL_TEST(events, crlf_and_split_writes)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_tcp(d);
	const char *a = "{\"type\":\"ping\",\"id\":\"crlf\"}\r\n";
	cr_assert_eq(hl_send_raw(c, a, strlen(a)), 0);
	json_object *r = hl_recv_json(c, HL_TIMEOUT_MS);
	expect_ok(r, "crlf");

	/* an event with \r\n: body is stored without the \r */
	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"crlf-ev\",\"call_id\":\"c1\",\"caller\":\"+8613800000080\"}\r");
	expect_ok(r, "crlf-ev");
	cr_assert_eq(count_events(d, "crlf-ev"), 1);

	/* a line that arrives in pieces */
	const char *parts[] = { "{\"type\":\"pi", "ng\",\"id\"", ":\"split\"}", "\n" };
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(hl_send_raw(c, parts[i], strlen(parts[i])), 0);
		hl_sleep_ms(30);
	}
	r = hl_recv_json(c, HL_TIMEOUT_MS);
	expect_ok(r, "split");
}

/* The daemon's CPU time (user + system), in clock ticks, from /proc. */
static long daemon_ticks(const struct hl_d *d)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)d->pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) != 2)
		return -1;
	return ut + st;
}

/* A long line trickled in small writes (conn.c searches only what arrived
 * since its last look for the newline), with the next lines' newlines inside
 * the same writes as the end of the one before.  The CPU it cost the daemon
 * (before that search, every read searched the whole line again)
 * is printed, never asserted. */
HL_TEST(events, long_line_in_small_pieces)
{
	struct hl_e2e_opts o = { .listen = "max_line = 8388608;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_tcp(d);
	size_t pad = 4 * 1024 * 1024;
	const char *head = "{\"type\":\"ping\",\"id\":\"long\",\"pad\":\"";
	const char *tail = "\"}\n{\"type\":\"ping\",\"id\":\"after\"}\n{\"type\":\"ping\",\"id\":\"th";
	size_t len = strlen(head) + pad + strlen(tail);
	char *line = malloc(len + 1);
	cr_assert(line);
	strcpy(line, head);
	memset(line + strlen(head), 'x', pad);
	strcpy(line + strlen(head) + pad, tail);
	long t0 = daemon_ticks(d);
	for (size_t off = 0; off < len; off += 4096) { /* a write a millisecond: each a read of its own */
		size_t n = len - off < 4096 ? len - off : 4096;
		cr_assert_eq(hl_send_raw(c, line + off, n), 0);
		hl_sleep_ms(1);
	}
	free(line);
	cr_assert_eq(hl_send_raw(c, "ird\"}\n", 6), 0);
	expect_ok(hl_recv_json(c, HL_TIMEOUT_MS), "long");
	expect_ok(hl_recv_json(c, HL_TIMEOUT_MS), "after");
	expect_ok(hl_recv_json(c, HL_TIMEOUT_MS), "third");
	fprintf(stderr, "long_line_in_small_pieces: a %zu-byte line in 4 KB writes a millisecond apart cost the daemon %ld clock ticks\n",
	        len, daemon_ticks(d) - t0);
}

/* ------------------------------------------------------------- hotlinectl */

/* Run a shell command line; its exit code. */
static int run_sh(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

HL_TEST(events, hotlinectl_send_pipelines_and_reports_errors)
{
	const char *ctl = getenv("HOTLINECTL_BIN") ? getenv("HOTLINECTL_BIN") : "build/hotlinectl";
	if (access(ctl, X_OK) != 0)
		cr_skip("no hotlinectl at %s", ctl);
	struct hl_d *d = hl_d_up(NULL);
	char in[200], out[200], cmd[1024];
	snprintf(in, sizeof in, "%s/in.ndjson", d->dir);
	snprintf(out, sizeof out, "%s/out.txt", d->dir);

	FILE *f = fopen(in, "w");
	cr_assert(f);
	for (int i = 0; i < 200; i++)
		fprintf(f, "{\"type\":\"call.offered\",\"id\":\"ctl-%d\",\"call_id\":\"cc-%d\",\"caller\":\"+86139%08d\"}\n",
		        i, i, i % 7);
	fprintf(f, "\n{\"type\":\"ping\",\"id\":\"last\"}"); /* a blank line, and no final newline */
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s --unix %s send %s > %s", ctl, d->sock, in, out);
	cr_assert_eq(run_sh(cmd), 0, "hotlinectl send failed");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 200);
	f = fopen(out, "r");
	cr_assert(f);
	int lines = 0;
	char line[512];
	while (fgets(line, sizeof line, f))
		lines++;
	fclose(f);
	cr_assert_eq(lines, 201, "one response line per request");

	/* over TCP, from stdin, with one refused request: exit 1, every line answered */
	snprintf(cmd, sizeof cmd,
	         "printf '%%s\\n' '{\"type\":\"ping\",\"id\":\"a\"}' 'garbage' '{\"type\":\"ping\",\"id\":\"b\"}'"
	         " | %s --tcp 127.0.0.1:%d send > %s", ctl, d->tcp_port, out);
	cr_assert_eq(run_sh(cmd), 1, "an ok:false response makes send exit 1");
	f = fopen(out, "r");
	cr_assert(f);
	lines = 0;
	while (fgets(line, sizeof line, f))
		lines++;
	fclose(f);
	cr_assert_eq(lines, 3);

	snprintf(cmd, sizeof cmd, "%s --unix %s ping > /dev/null", ctl, d->sock);
	cr_assert_eq(run_sh(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s --unix %s case 424242 > /dev/null 2>&1", ctl, d->sock);
	cr_assert_eq(run_sh(cmd), 1, "unknown case: exit 1");
	snprintf(cmd, sizeof cmd, "%s --unix %s/nope ping > /dev/null 2>&1", ctl, d->dir);
	cr_assert_eq(run_sh(cmd), 3, "cannot connect: exit 3");
}
