/*
 * test_defects.c - end-to-end regression tests for issue 16, the items about
 * the daemon's shell, the parser and the clients.  Each test failed before
 * its fix; the item number is in the test's comment.
 *
 *   parser and store:  numbers PostgreSQL cannot store (8), bisecting a batch
 *                      PostgreSQL refuses and masking its error detail in the
 *                      log (8, 5), `at` bounds (19, 5), ids in characters (18),
 *                      unauthenticated garbage (17)
 *   clients:           hotlinectl output safe for terminals (16)
 *   sockets:           accept() back-off when descriptors run out (10), and
 *                      refused connections that do not flood the log
 *
 * The webhook items (4, 9, 20) are in test_defects_webhooks.c, suite
 * `defects` as well; the helpers both files use are in defects_helpers.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "defects_helpers.h"

TestSuite(defects, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 90);

/* ------------------------------------------ item 8: numbers at parse time */

/* 300 good events and 5 lines with a number PostgreSQL cannot store, in one
 * write: every good one is acknowledged, the poison ones get bad_request
 * naming their field, and no batch is refused by PostgreSQL at all. */
HL_TEST(defects, poison_numbers_refused_at_parse_time)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	enum { N = 305 };
	char *buf = malloc(N * 256), *p = buf;
	for (int i = 0; i < N; i++) {
		if (i % 61 == 30)
			p += sprintf(p, "{\"type\":\"call.offered\",\"id\":\"num-%d\",\"call_id\":\"nc-%d\",\"caller\":\"+86139%08d\","
			                "\"extra\":{\"deep\":[1,%s]}}\n", i, i, i, i % 2 ? "1e999999" : "-5e-99999");
		else
			p += sprintf(p, "{\"type\":\"call.offered\",\"id\":\"num-%d\",\"call_id\":\"nc-%d\",\"caller\":\"+86139%08d\"}\n",
			             i, i, i);
	}
	cr_assert_eq(hl_send_raw(c, buf, (size_t)(p - buf)), 0);
	free(buf);
	int ok = 0, refused = 0;
	for (int i = 0; i < N; i++) {
		json_object *r = recv_reply(c);
		if (i % 61 == 30) {
			cr_expect_str_eq(hl_jstr(r, "error.code"), "bad_request", "line %d: %s", i, json_object_to_json_string(r));
			cr_expect(hl_jstr(r, "error.message") && strncmp(hl_jstr(r, "error.message"), "extra: number out of range", 26) == 0,
			          "line %d: %s", i, json_object_to_json_string(r));
			refused++;
		} else {
			cr_expect(hl_jbool(r, "ok"), "line %d: %s", i, json_object_to_json_string(r));
			ok += hl_jbool(r, "ok");
		}
	}
	cr_assert_eq(ok, N - 5);
	cr_assert_eq(refused, 5);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), N - 5);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id IN "
	                           "('num-30','num-91','num-152','num-213','num-274')"), 0);
	cr_assert_eq(hl_jint(stats_of(c), "batch_failures"), 0, "a batch was refused by PostgreSQL");
}

/* ------------------------------- items 8 and 5: bisect, masked error detail */

/* A batch PostgreSQL refuses (here: a trigger that refuses some event ids and
 * quotes a phone number in its detail) is bisected, not re-run item by item:
 * every good event is acknowledged, each poisoned one alone gets `internal`
 * with nothing of it stored, it takes far fewer transactions than events,
 * and the log never shows the number PostgreSQL quoted. */
HL_TEST(defects, refused_batch_is_bisected_and_error_detail_masked)
{
	struct hl_d *d = hl_d_up(NULL);
	hl_sql(d, "CREATE FUNCTION hotline.test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
	          "IF NEW.event_id LIKE 'poison-%%' THEN RAISE EXCEPTION 'poisoned event' USING DETAIL = "
	          "'Failing row contains (' || NEW.event_id || ', +8613900000003, +86 139 0000 0004)' || chr(27) || '[2J.'; "
	          "END IF; "
	          "RETURN NEW; END $$");
	hl_sql(d, "CREATE TRIGGER test_poison BEFORE INSERT ON hotline.case_events FOR EACH ROW "
	          "EXECUTE FUNCTION hotline.test_poison()");
	struct hl_conn *c = hl_conn_unix(d);
	enum { N = 400 };
	char *buf = malloc(N * 200), *p = buf;
	for (int i = 0; i < N; i++)
		p += sprintf(p, "{\"type\":\"call.offered\",\"id\":\"%s-%d\",\"call_id\":\"bc-%d\",\"caller\":\"+86138%08d\"}\n",
		             i == 17 || i == 200 || i == 399 ? "poison" : "good", i, i, i);
	cr_assert_eq(hl_send_raw(c, buf, (size_t)(p - buf)), 0);
	free(buf);
	for (int i = 0; i < N; i++) {
		json_object *r = recv_reply(c);
		if (i == 17 || i == 200 || i == 399) {
			cr_expect_str_eq(hl_jstr(r, "error.code"), "internal", "line %d: %s", i, json_object_to_json_string(r));
		} else {
			cr_expect(hl_jbool(r, "ok"), "line %d: %s", i, json_object_to_json_string(r));
		}
	}
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), N - 3);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases"), N - 3, "a poisoned event left a case behind");
	json_object *s = stats_of(c);
	/* one by one would take >= 400 transactions; halving takes about 2 * 3 * log2(400) */
	cr_assert_lt(hl_jint(s, "batches"), 120, "batches: %lld", (long long)hl_jint(s, "batches"));
	cr_assert_gt(hl_jint(s, "batch_splits"), 0);
	char *log = hl_d_log(d);
	cr_assert(strstr(log, "poisoned event"), "the refusal is not logged");
	cr_assert_null(strstr(log, "8613900000003"), "the log shows a full number");
	cr_assert_null(strstr(log, "139 0000 0004"), "the log shows a full number");
	cr_assert(strstr(log, "+***********03"), "the masked number is not in the log");
	cr_assert_null(strchr(log, '\x1b'), "an escape sequence from the server reached the log");
}

/* ---------------------------------------------- items 19 and 5: at bounds */

HL_TEST(defects, implausible_at_is_bad_request_and_nothing_is_stored)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	const char *bad[] = { "1970-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "1979-12-31T23:59:59Z",
	                      "9999-12-31T23:59:59Z" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_object *r = hl_requestf(c, "{\"type\":\"call.abandoned\",\"id\":\"at-%zu\",\"call_id\":\"ac-%zu\","
		                                "\"caller\":\"+8613900000003\",\"confidential\":true,\"at\":\"%s\"}", i, i, bad[i]);
		cr_assert_str_eq(hl_jstr(r, "error.code"), "bad_request", "%s: %s", bad[i], json_object_to_json_string(r));
		cr_assert(strncmp(hl_jstr(r, "error.message"), "at: ", 4) == 0, "%s", hl_jstr(r, "error.message"));
	}
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 0);
	/* a history import of a past year still works */
	json_object *r = hl_request(c, "{\"type\":\"call.abandoned\",\"id\":\"at-old\",\"call_id\":\"ac-old\","
	                               "\"caller\":\"+8613900000005\",\"at\":\"2003-05-01T08:00:00+08:00\"}");
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	cr_assert_eq(hl_sql_int(d, "SELECT extract(year FROM at)::int FROM hotline.case_events WHERE event_id = 'at-old'"),
	             2003);
	/* and of the last century (the best-known public call-centre data is from 1999) */
	r = hl_request(c, "{\"type\":\"call.abandoned\",\"id\":\"at-1999\",\"call_id\":\"ac-1999\","
	                  "\"caller\":\"+97235550006\",\"at\":\"1999-03-14T09:12:00+02:00\",\"backfill\":true}");
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE kind = 'callback' AND state = 'breached' "
	                           "AND due_at < '2000-01-01'"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT calls_abandoned FROM hotline.daily_figures WHERE day = '1999-03-14'"), 1,
	             "the day's figures count it");
	char *log = hl_d_log(d);
	cr_assert_null(strstr(log, "8613900000003"), "the log shows a full number");
	cr_assert_null(strstr(log, "internal"), "an implausible at reached the database");
}

/* ------------------------------------------------ item 18: ids in characters */

static char *chinese(size_t n)
{
	char *s = malloc(n * 3 + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(s + 3 * i, "\xe5\x92\xa8", 3); /* 咨 */
	s[n * 3] = '\0';
	return s;
}

/* ... and every text cut to fit a fixed buffer is cut between characters:
 * a history line with a 128-character queue, a transfer_loop detail with a
 * 128-character department (both were cut mid-character, which PostgreSQL
 * refused as invalid UTF-8, failing the event with `internal`). */
HL_TEST(defects, ids_count_characters)
{
	struct hl_e2e_opts o = { .top = "alerts = { transfer_limit = 1; };" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	char *id43 = chinese(43), *id128 = chinese(128), *id129 = chinese(129);
	json_object *r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"%s\",\"call_id\":\"%s\",\"caller\":\"+8613900000011\","
	                                "\"queue\":\"%s\"}", id43, id43, id128);
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	cr_assert_str_eq(hl_jstr(r, "id"), id43);
	r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"%s\",\"call_id\":\"%s\",\"caller\":\"+8613900000012\"}", id128,
	                id128);
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"%s\",\"call_id\":\"x\",\"caller\":\"+8613900000013\"}", id129);
	cr_assert_str_eq(hl_jstr(r, "error.code"), "bad_request");
	cr_assert_str_eq(hl_jstr(r, "error.message"), "id: must be a string of 1..128 characters");
	char *stored = hl_sql_text(d, "SELECT event_id FROM hotline.case_events WHERE length(event_id) = 128");
	cr_assert(stored && strcmp(stored, id128) == 0, "the 128-character id is not stored whole");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = '%s'", id43), 1);
	int64_t case_id = hl_sql_int(d, "SELECT case_id FROM hotline.calls WHERE call_id = '%s'", id43);
	for (int i = 0; i < 2; i++) {
		r = hl_requestf(c, "{\"type\":\"case.transfer\",\"id\":\"tr-%d\",\"case_id\":%lld,\"department\":\"%s\"}", i,
		                (long long)case_id, id128);
		cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	}
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'transfer_loop'"), 1);
	/* the same id again is a duplicate, not a new event */
	r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"%s\",\"call_id\":\"%s\",\"caller\":\"+8613900000011\"}", id43, id43);
	cr_assert(hl_jbool(r, "duplicate"), "%s", json_object_to_json_string(r));
	free(id43), free(id128), free(id129);
}

/* ------------------------------------ item 17: unauthenticated garbage */

HL_TEST(defects, unauthenticated_garbage_is_unauthorized_and_closed)
{
	struct hl_e2e_opts o = { .listen = "tokens = [ \"s3cret\" ];" };
	struct hl_d *d = hl_d_up(&o);
	const char *lines[] = { "garbage", "{\"type\":\"ping\"}", "[1,2,3]", "{\"id\":\"x\",\"type\":\"no.such\"}",
	                        "{\"id\":\"a\",\"type\":\"auth\"}", "{\"id\":\"a\",\"type\":\"auth\",\"token\":7}",
	                        "{\"id\":\"p\",\"type\":\"ping\",\"x\":1e999999}" };
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		struct hl_conn *c = hl_conn_tcp(d);
		cr_assert_eq(hl_send(c, lines[i]), 0);
		json_object *r = hl_recv_json(c, HL_TIMEOUT_MS);
		cr_assert(r, "%s: no reply", lines[i]);
		cr_assert_str_eq(hl_jstr(r, "error.code"), "unauthorized", "%s: %s", lines[i], json_object_to_json_string(r));
		cr_assert(hl_wait_eof(c, 5000), "%s: the connection stays open", lines[i]);
		hl_conn_close(c);
	}
	/* a token still opens the door */
	struct hl_conn *c = hl_conn_tcp(d);
	cr_assert(hl_jbool(hl_request(c, "{\"id\":\"a\",\"type\":\"auth\",\"token\":\"s3cret\"}"), "ok"));
	json_object *r = hl_request(c, "garbage");
	cr_assert_str_eq(hl_jstr(r, "error.code"), "bad_json", "after auth, garbage is just bad JSON");
}

/* ------------------------------------------- item 16: hotlinectl output */

/* Run hotlinectl with args; its stdout (malloc'd). */
static char *ctl_output(const char *const *args)
{
	const char *bin = getenv("HOTLINECTL_BIN") ? getenv("HOTLINECTL_BIN") : "build/hotlinectl";
	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		const char *argv[32] = { bin };
		int n = 1;
		for (; args[n - 1] && n < 31; n++)
			argv[n] = args[n - 1];
		argv[n] = NULL;
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	char buf[4096];
	ssize_t got;
	while ((got = read(pfd[0], buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)got, m);
	fclose(m);
	close(pfd[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hotlinectl failed (status %d): %s", st, out);
	return out;
}

static bool has_raw_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p < 0x20 && *p != '\n') || *p == 0x7F)
			return true;
		if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
			return true;
		if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE)
			return true;
	}
	return false;
}

HL_TEST(defects, hotlinectl_escapes_server_text)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	json_object *r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"t1\",\"call_id\":\"tc1\",\"caller\":\"+8613900000021\","
	                               "\"queue\":\"roads\\u001b[2J\\u001b]0;owned\\u0007\\r\\nFAKE: case closed\\u009b31m\"}");
	cr_assert(hl_jbool(r, "ok"));
	int64_t id = hl_jint(r, "case_id");
	r = hl_requestf(c, "{\"type\":\"case.update\",\"id\":\"t2\",\"case_id\":%lld,"
	                   "\"summary\":\"pot\\u202ehole\\u007f\",\"note\":\"line1\\rline2\"}", (long long)id);
	cr_assert(hl_jbool(r, "ok"));
	char ids[32];
	snprintf(ids, sizeof ids, "%lld", (long long)id);
	char *page = ctl_output((const char *const[]){ "--unix", d->sock, "case", ids, NULL });
	cr_assert_not(has_raw_control(page), "raw control characters in: %s", page);
	cr_assert(strstr(page, "roads\\e[2J\\e]0;owned\\x07\\r\\nFAKE: case closed\\u{009B}31m"), "%s", page);
	cr_assert(strstr(page, "pot\\u{202E}hole\\x7F"), "%s", page);
	free(page);
	char *json = ctl_output((const char *const[]){ "--unix", d->sock, "case", ids, "--json", NULL });
	cr_assert_not(has_raw_control(json), "raw control characters in: %s", json);
	json_object *o = json_tokener_parse(json);
	cr_assert(o, "--json output is no longer JSON: %s", json);
	cr_assert(strstr(hl_jstr(o, "case.queue"), "\xc2\x9b"), "the value changed"); /* same value, escaped text */
	json_object_put(o);
	free(json);
}

/* ------------------------------------------- item 10: accept() back-off */

/* With its descriptors limited to 64, the daemon is flooded with 150
 * connections: accept() fails with EMFILE.  The log must stay small (one
 * report per interval, not one per failure) and, once the connections
 * close, the daemon answers again. */
HL_TEST(defects, accept_backs_off_when_descriptors_run_out)
{
	struct hl_e2e_opts o = { .no_start = true };
	struct hl_d *d = hl_d_up(&o);
	hl_d_start_ex(d, (const char *const[]){ "/usr/bin/prlimit", "--nofile=64", NULL }, NULL);
	struct hl_conn *probe = hl_conn_unix(d);
	cr_assert(hl_jbool(hl_request(probe, "{\"type\":\"ping\",\"id\":\"p0\"}"), "ok"));
	enum { N = 150 };
	int fds[N];
	for (int i = 0; i < N; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)d->tcp_port),
			                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		cr_assert(fds[i] >= 0 && connect(fds[i], (struct sockaddr *)&a, sizeof a) == 0, "connect %d: %s", i,
		          strerror(errno));
	}
	hl_sleep_ms(2500); /* the daemon sits at its limit with connections waiting */
	/* it still serves the connections it has */
	cr_assert(hl_jbool(hl_request(probe, "{\"type\":\"ping\",\"id\":\"p1\"}"), "ok"), "an open connection stalled");
	char *log = hl_d_log(d);
	int reports = count_substr(log, "accept: ");
	cr_assert_gt(reports, 0, "accept() never failed: the limit did not bite");
	cr_assert_leq(reports, 6, "%d accept reports in 2.5 s: the log is flooded", reports);
	cr_assert(strstr(log, "failure(s) since the last report"), "no count in the report");
	for (int i = 0; i < N; i++)
		close(fds[i]);
	/* descriptors free again: a new connection is served (within the back-off) */
	struct hl_conn *c = hl_conn_unix(d);
	cr_assert(hl_jbool(hl_request(c, "{\"type\":\"ping\",\"id\":\"p2\"}"), "ok"));
	cr_assert_gt(hl_jint(stats_of(c), "accept_errors"), 0);
}

/* ------------------------------------ item 10, same class: refused floods */

/* A client reconnecting in a loop past listen.max_connections gets `busy`
 * each time, but the log reports it once a second with a count, not once
 * per connection. */
HL_TEST(defects, refused_connections_do_not_flood_the_log)
{
	struct hl_e2e_opts o = { .listen = "max_connections = 2;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *a = hl_conn_unix(d);
	cr_assert(hl_jbool(hl_request(a, "{\"type\":\"ping\",\"id\":\"a\"}"), "ok"));
	hl_sleep_ms(300); /* the harness's readiness probe is closed and forgotten by now */
	struct hl_conn *b = hl_conn_unix(d);
	cr_assert(hl_jbool(hl_request(b, "{\"type\":\"ping\",\"id\":\"b\"}"), "ok"));
	for (int i = 0; i < 200; i++) {
		struct hl_conn *c = hl_conn_unix(d);
		json_object *r = hl_recv_json(c, HL_TIMEOUT_MS);
		cr_assert(r && strcmp(hl_jstr(r, "error.code"), "busy") == 0, "connection %d was not told busy", i);
		hl_conn_close(c);
	}
	cr_assert_eq(hl_jint(stats_of(a), "connections_rejected"), 200);
	int reports = count_substr(hl_d_log(d), "refused: too many connections");
	cr_assert_geq(reports, 1);
	cr_assert_leq(reports, 10, "%d log lines for 200 refused connections", reports);
}
