/*
 * test_durability.c - end-to-end durability tests: SIGTERM with requests in
 * flight, kill -9 in the middle of a stream, clocks across crashes.
 *
 * What is proved (docs/reliability.md refers to these tests by name):
 *   - graceful stop: every request written before SIGTERM gets exactly one
 *     reply (ok, or `unavailable` once the stop began), the daemon exits 0,
 *     every ok id is in hotline.case_events exactly once and no
 *     `unavailable` id is;
 *   - crash: after kill -9 in the middle of a pipelined stream on several
 *     connections, every id acknowledged ok is stored exactly once; sending
 *     the whole stream again gives ok (duplicate:true for what was stored)
 *     and never a second row;
 *   - clocks: a clock that fell due while the daemon was dead is alerted
 *     once when it starts; a clock due after the restart is re-armed from
 *     the database and alerted once; a second crash raises nothing twice.
 *
 * The stream is made of call.offered events whose ids are "<prefix>-<i>", so
 * a response is mapped back to its index i and the database is checked per
 * index.  HL_STRESS=N (tests/stress/stress.sh) multiplies the volumes.
 */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Memory of a test body, freed by the suite's .fini so an aborted assertion leaks nothing. */
static void *scratch[16];
static size_t n_scratch;

static void *xcalloc(size_t n, size_t size)
{
	cr_assert_lt(n_scratch, sizeof scratch / sizeof scratch[0]);
	void *p = calloc(n ? n : 1, size);
	cr_assert(p, "out of memory");
	return scratch[n_scratch++] = p;
}

static void fini(void)
{
	while (n_scratch > 0)
		free(scratch[--n_scratch]);
	hl_e2e_cleanup();
}

TestSuite(durability, .init = hl_e2e_init, .fini = fini, .timeout = 120);

enum { ST_NONE, ST_OK, ST_DUP, ST_UNAVAILABLE, ST_OTHER };

/* Volume multiplier: 1 in `make check`, more in `make stress`. */
static int scale(void)
{
	const char *s = getenv("HL_STRESS");
	int n = s ? atoi(s) : 0;
	return n > 0 ? n : 1;
}

/* RFC 3339 UTC with milliseconds, `delta_ms` from now. */
/* One event of the stream; the caller pool makes cases grow a few calls each. */
static size_t stream_line(char *buf, size_t len, const char *prefix, int i)
{
	int n = snprintf(buf, len,
	                 "{\"type\":\"call.offered\",\"id\":\"%s-%d\",\"call_id\":\"%s-call-%d\","
	                 "\"caller\":\"+86139%08d\",\"queue\":\"durability\"}\n",
	                 prefix, i, prefix, i, i % 1500);
	cr_assert(n > 0 && (size_t)n < len);
	return (size_t)n;
}

/* Send events [from, to) in one write. 0 ok, -1 when the peer is gone. */
static int send_range(struct hl_conn *c, const char *prefix, int from, int to)
{
	size_t cap = (size_t)(to - from) * 200 + 1, len = 0;
	char *buf = malloc(cap);
	cr_assert(buf);
	for (int i = from; i < to; i++)
		len += stream_line(buf + len, cap - len, prefix, i);
	int rc = hl_send_raw(c, buf, len);
	free(buf);
	return rc;
}

/* The stream index of a response id, -1 when it is not one of ours. */
static int index_of(const char *id, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (!id || strncmp(id, prefix, pl) != 0 || id[pl] != '-')
		return -1;
	char *end;
	long i = strtol(id + pl + 1, &end, 10);
	return *end || i < 0 ? -1 : (int)i;
}

/* Classify one response; fails the test on anything but ok/unavailable. */
static int classify(json_object *r, const char *prefix, int n, int *index)
{
	const char *id = hl_jstr(r, "id");
	int i = index_of(id, prefix);
	cr_assert(i >= 0 && i < n, "response for an unknown id: %s", json_object_to_json_string(r));
	*index = i;
	if (hl_jbool(r, "ok")) {
		cr_assert_gt(hl_jint(r, "case_id"), 0, "ok without case_id: %s", json_object_to_json_string(r));
		return hl_jbool(r, "duplicate") ? ST_DUP : ST_OK;
	}
	const char *code = hl_jstr(r, "error.code");
	cr_assert(code && strcmp(code, "unavailable") == 0, "unexpected response: %s",
	          json_object_to_json_string(r));
	return ST_UNAVAILABLE;
}

/* Read up to `want` responses (or until EOF / timeout); records statuses. Returns how many. */
static int drain(struct hl_conn *c, const char *prefix, int n, int want, int8_t *st, int timeout_ms)
{
	int got = 0;
	while (got < want) {
		json_object *r = hl_recv_json(c, timeout_ms);
		if (!r)
			break;
		int i;
		int s = classify(r, prefix, n, &i);
		cr_assert_eq(st[i], ST_NONE, "two responses for %s-%d", prefix, i);
		st[i] = (int8_t)s;
		got++;
	}
	return got;
}

/* How many rows case_events holds for each index of the stream (counts[i]). */
static void stored_counts(struct hl_d *d, const char *prefix, int n, int *counts)
{
	memset(counts, 0, (size_t)n * sizeof *counts);
	PGresult *r = hl_sql(d, "SELECT event_id FROM hotline.case_events WHERE event_id LIKE '%s-%%'", prefix);
	for (int k = 0; k < PQntuples(r); k++) {
		int i = index_of(PQgetvalue(r, k, 0), prefix);
		if (i >= 0 && i < n)
			counts[i]++;
	}
}

static char *make_prefix(const char *what)
{
	char *p = xcalloc(64, 1);
	snprintf(p, 64, "%s%d", what, (int)getpid());
	return p;
}

/* ---------------------------------------------------------------- SIGTERM */

HL_TEST(durability, sigterm_with_requests_in_flight)
{
	const int n = 2000 * scale();
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	char *prefix = make_prefix("term");
	int8_t *st = xcalloc((size_t)n, 1);
	int *counts = xcalloc((size_t)n, sizeof *counts);

	/* a warm-up so the stream is committed in several batches, not one */
	cr_assert(hl_jbool(hl_request(c, "{\"type\":\"ping\",\"id\":\"warm\"}"), "ok"));
	cr_assert_eq(send_range(c, prefix, 0, n), 0, "the daemon stopped reading before SIGTERM");
	cr_assert_eq(kill(d->pid, SIGTERM), 0);

	int got = drain(c, prefix, n, n, st, 20000);
	cr_expect(hl_wait_eof(c, 20000), "connection not closed after the last reply");
	int rc = hl_d_stop(d, SIGTERM, 20000); /* reaps; the process has exited or is exiting */
	cr_assert_eq(rc, 0, "hotlined must exit 0 after SIGTERM, got %d", rc);

	int ok = 0, unav = 0, missing = 0, first_missing = -1;
	for (int i = 0; i < n; i++) {
		ok += st[i] == ST_OK;
		unav += st[i] == ST_UNAVAILABLE;
		if (st[i] == ST_NONE && missing++ == 0)
			first_missing = i;
	}
	cr_log_info("sigterm: %d requests, %d ok, %d unavailable, %d without reply", n, ok, unav, missing);

	/* the database tells what was committed: every ok exactly once, no unavailable */
	stored_counts(d, prefix, n, counts);
	for (int i = 0; i < n; i++) {
		if (st[i] == ST_OK)
			cr_assert_eq(counts[i], 1, "%s-%d acknowledged ok but stored %d times", prefix, i, counts[i]);
		if (st[i] == ST_UNAVAILABLE)
			cr_assert_eq(counts[i], 0, "%s-%d answered unavailable but stored", prefix, i);
	}
	cr_assert_eq(got, n, "every request written before SIGTERM must get its reply: %d of %d did "
	             "(first without reply: #%d)", got, n, first_missing);
}

/* --------------------------------------------------------------- kill -9 */

HL_TEST(durability, kill9_mid_stream_loses_no_ack)
{
	const int n_conns = 4, per_conn = 1000 * scale(), window = 100;
	const int n = n_conns * per_conn;
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c[4];
	int sent[4] = {0}, recvd[4] = {0};
	char *prefix = make_prefix("k9");
	int8_t *st = xcalloc((size_t)n, 1);
	int *counts = xcalloc((size_t)n, sizeof *counts);
	for (int k = 0; k < n_conns; k++)
		c[k] = hl_conn_unix(d);

	/* connection k sends indexes k*per_conn .. (k+1)*per_conn-1, `window` at a time */
	int acked = 0;
	bool killed = false;
	while (!killed) {
		for (int k = 0; k < n_conns; k++) {
			int from = k * per_conn + sent[k], to = from + window;
			if (sent[k] + window > per_conn)
				to = (k + 1) * per_conn;
			if (to > from && send_range(c[k], prefix, from, to) == 0)
				sent[k] += to - from;
		}
		if (acked >= n / 2) {
			/* a full window is on its way on every connection: crash while
			 * the daemon is reading, batching or committing it */
			hl_sleep_ms(5);
			hl_d_kill9(d);
			killed = true;
		}
		for (int k = 0; k < n_conns; k++) {
			int want = sent[k] - recvd[k];
			int got = drain(c[k], prefix, n, want, st, killed ? 2000 : HL_TIMEOUT_MS);
			recvd[k] += got;
			if (!killed)
				cr_assert_eq(got, want, "connection %d: %d of %d responses before the crash", k, got, want);
		}
		acked = 0;
		for (int i = 0; i < n; i++)
			acked += st[i] == ST_OK;
	}
	int acked_before = acked;
	cr_log_info("kill9: %d acknowledged before kill -9", acked_before);
	cr_assert_gt(acked_before, 0);

	/* after the crash: every acknowledged id exactly once */
	hl_d_start(d);
	stored_counts(d, prefix, n, counts);
	for (int i = 0; i < n; i++) {
		if (st[i] == ST_OK)
			cr_assert_eq(counts[i], 1, "%s-%d acknowledged ok but stored %d times after kill -9", prefix, i,
			             counts[i]);
		cr_assert_leq(counts[i], 1, "%s-%d stored %d times", prefix, i, counts[i]);
	}

	/* the whole stream again: stored ids are duplicates, never a second row */
	int8_t *st2 = xcalloc((size_t)n, 1);
	for (int k = 0; k < n_conns; k++) {
		hl_conn_close(c[k]);
		c[k] = hl_conn_unix(d);
	}
	for (int from = 0; from < per_conn; from += window) {
		int len = from + window > per_conn ? per_conn - from : window;
		for (int k = 0; k < n_conns; k++)
			cr_assert_eq(send_range(c[k], prefix, k * per_conn + from, k * per_conn + from + len), 0);
		for (int k = 0; k < n_conns; k++)
			cr_assert_eq(drain(c[k], prefix, n, len, st2, HL_TIMEOUT_MS), len, "resend: missing responses");
	}
	for (int i = 0; i < n; i++) {
		cr_assert(st2[i] == ST_OK || st2[i] == ST_DUP, "resend of #%d not ok", i);
		if (counts[i] == 1)
			cr_assert_eq(st2[i], ST_DUP, "%s-%d was stored before, the resend must say duplicate", prefix, i);
	}
	stored_counts(d, prefix, n, counts);
	for (int i = 0; i < n; i++)
		cr_assert_eq(counts[i], 1, "%s-%d stored %d times after the resend", prefix, i, counts[i]);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id LIKE '%s-call-%%'", prefix), n,
	             "one calls row per event");
}

/* ------------------------------------------------------- clocks and crashes */

static int64_t abandon(struct hl_conn *c, const char *caller, int64_t at_delta_ms)
{
	json_object *r = hl_requestf(c, "{\"type\":\"call.abandoned\",\"id\":\"%s\",\"call_id\":\"%s\","
	                                "\"caller\":\"%s\",\"at\":\"%s\"}",
	                             hl_uid("ab"), hl_uid("call"), caller, hl_iso_ms(hl_wall_ms() + at_delta_ms));
	cr_assert(hl_jbool(r, "ok"), "abandon: %s", json_object_to_json_string(r));
	return hl_jint(r, "case_id");
}

static int64_t overdue_alerts(struct hl_d *d, int64_t case_id)
{
	return hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld AND kind = 'callback_overdue'",
	                  (long long)case_id);
}

/* Poll until the case has `want` callback_overdue alerts or the deadline passes; returns the count. */
static int64_t wait_alerts(struct hl_d *d, int64_t case_id, int64_t want, int64_t deadline_ms)
{
	int64_t n;
	while ((n = overdue_alerts(d, case_id)) < want && hl_now_ms() < deadline_ms)
		hl_sleep_ms(100);
	return n;
}

HL_TEST(durability, kill9_clocks_fire_once_after_restart)
{
	struct hl_e2e_opts o = { .sla = "callback = \"8s\"; update = \"0\"; resolution = \"0\"; warn_at = 0;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_now_ms();
	/* A is due ~1 s from now: it falls due while the daemon is dead */
	int64_t a = abandon(c, "+8613900000001", -7000);
	/* B is due ~8 s from now: after the restart, from the re-armed timer */
	int64_t b = abandon(c, "+8613900000002", 0);
	cr_assert_neq(a, b);
	hl_d_kill9(d);
	hl_sleep_ms(2000);
	hl_d_start(d);

	/* A: alerted once when the daemon starts */
	cr_assert_eq(wait_alerts(d, a, 1, hl_now_ms() + 5000), 1, "clock due while down: one alert at start");
	if (hl_now_ms() - t0 < 7000)
		cr_expect_eq(overdue_alerts(d, b), 0, "B is not due yet");
	/* B: from the re-armed timer, within a second (plus slack) of its due time */
	int64_t b_due = t0 + 8000;
	cr_assert_eq(wait_alerts(d, b, 1, b_due + 3000), 1, "clock due after the restart: one alert");
	int64_t late = hl_sql_int(d, "SELECT (extract(epoch FROM a.raised_at - k.due_at) * 1000)::bigint"
	                             " FROM hotline.alerts a JOIN hotline.clocks k ON k.case_id = a.case_id"
	                             " AND k.kind = 'callback' WHERE a.case_id = %lld AND a.kind = 'callback_overdue'",
	                          (long long)b);
	cr_expect(late >= 0 && late <= 2000, "B alerted %lld ms after its due time", (long long)late);

	/* a second crash and a restart raise nothing twice */
	hl_d_kill9(d);
	hl_d_start(d);
	hl_sleep_ms(2000);
	cr_assert_eq(overdue_alerts(d, a), 1, "A alerted again after a second crash");
	cr_assert_eq(overdue_alerts(d, b), 1, "B alerted again after a second crash");
	char *state = hl_sql_text(d, "SELECT string_agg(state, ',' ORDER BY case_id) FROM hotline.clocks"
	                             " WHERE kind = 'callback' AND case_id IN (%lld, %lld)", (long long)a, (long long)b);
	cr_expect(state && strcmp(state, "breached,breached") == 0, "callback clocks: %s", state ? state : "(none)");
}

/* A graceful restart with pending clocks keeps them: same guarantee without a crash. */
HL_TEST(durability, restart_keeps_pending_clocks_and_subscribers_get_them)
{
	struct hl_e2e_opts o = { .sla = "callback = \"4s\"; update = \"0\"; resolution = \"0\"; warn_at = 0;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = abandon(c, "+8613900000003", 0);
	hl_d_restart(d);
	struct hl_conn *s = hl_conn_unix(d);
	json_object *r = hl_request(s, "{\"type\":\"subscribe\",\"id\":\"sub\"}");
	cr_assert(hl_jbool(r, "ok"), "subscribe: %s", json_object_to_json_string(r));
	/* the push arrives from the re-armed timer */
	json_object *p = NULL;
	int64_t end = hl_now_ms() + 8000;
	while (hl_now_ms() < end && (p = hl_recv_json(s, 500)) == NULL)
		;
	cr_assert(p, "no alert pushed after the restart");
	cr_assert_str_eq(hl_jstr(p, "push") ? hl_jstr(p, "push") : "", "alert");
	cr_assert_str_eq(hl_jstr(p, "alert.kind") ? hl_jstr(p, "alert.kind") : "", "callback_overdue");
	cr_assert_eq(hl_jint(p, "alert.case_id"), id);
	cr_assert_eq(overdue_alerts(d, id), 1);
}

/* Crash after crash: each cycle streams on two connections and is killed at a
 * different moment (between 0 and 19 ms after a window went out); after each
 * restart every id acknowledged so far is stored exactly once. */
HL_TEST(durability, repeated_kill9_cycles)
{
	const int cycles = 2 * scale(), window = 50, n_conns = 2;
	const int n = cycles * 8 * window * n_conns;
	struct hl_d *d = hl_d_up(NULL);
	char *prefix = make_prefix("rk");
	int8_t *st = xcalloc((size_t)n, 1);
	int *counts = xcalloc((size_t)n, sizeof *counts);
	int next = 0;

	for (int cy = 0; cy < cycles; cy++) {
		struct hl_conn *c[2];
		int count[2] = {0};
		for (int k = 0; k < n_conns; k++)
			c[k] = hl_conn_unix(d);
		int windows = 2 + cy % 4;
		for (int w = 0; w <= windows; w++) {
			for (int k = 0; k < n_conns; k++) {
				count[k] = window;
				cr_assert_eq(send_range(c[k], prefix, next, next + window), 0);
				next += window;
			}
			if (w == windows) {
				hl_sleep_ms((cy * 7) % 20);
				hl_d_kill9(d);
			}
			for (int k = 0; k < n_conns; k++) {
				int got = drain(c[k], prefix, n, count[k], st, w == windows ? 2000 : HL_TIMEOUT_MS);
				if (w < windows)
					cr_assert_eq(got, count[k], "cycle %d: missing responses before the crash", cy);
			}
		}
		for (int k = 0; k < n_conns; k++)
			hl_conn_close(c[k]);
		hl_d_start(d);
		stored_counts(d, prefix, n, counts);
		for (int i = 0; i < next; i++) {
			if (st[i] == ST_OK)
				cr_assert_eq(counts[i], 1, "cycle %d: %s-%d acknowledged but stored %d times", cy, prefix, i,
				             counts[i]);
			cr_assert_leq(counts[i], 1);
		}
	}
	/* everything once more: afterwards each id exactly once */
	struct hl_conn *c = hl_conn_unix(d);
	int8_t *st2 = xcalloc((size_t)n, 1);
	for (int from = 0; from < next; from += window) {
		cr_assert_eq(send_range(c, prefix, from, from + window), 0);
		cr_assert_eq(drain(c, prefix, n, window, st2, HL_TIMEOUT_MS), window);
	}
	stored_counts(d, prefix, n, counts);
	int acked = 0;
	for (int i = 0; i < next; i++) {
		cr_assert_eq(counts[i], 1, "%s-%d stored %d times at the end", prefix, i, counts[i]);
		acked += st[i] == ST_OK;
	}
	cr_log_info("repeated kill -9: %d cycles, %d events, %d acknowledged before their crash", cycles, next, acked);
}

/* ------------------------------------------------- batch neighbours */

/* Invalid events are refused by the rules before they touch anything; an
 * event PostgreSQL itself refuses (here: a trigger that raises on one id)
 * rolls its batch back, and the batch is re-run item by item so that only
 * that event fails.  Every other event of the pipeline is ok and stored. */
HL_TEST(durability, bad_events_never_fail_their_batch_neighbours)
{
	struct hl_d *d = hl_d_up(NULL);
	hl_sql(d, "CREATE FUNCTION hotline.test_poison() RETURNS trigger LANGUAGE plpgsql AS $$"
	          " BEGIN IF NEW.event_id LIKE 'poison-%%' THEN RAISE EXCEPTION 'poisoned event'; END IF;"
	          " RETURN NEW; END $$");
	hl_sql(d, "CREATE TRIGGER test_poison BEFORE INSERT ON hotline.case_events"
	          " FOR EACH ROW EXECUTE FUNCTION hotline.test_poison()");
	struct hl_conn *c = hl_conn_unix(d);
	enum { N = 300 };
	char line[512];
	size_t cap = N * 300, len = 0;
	char *buf = xcalloc(cap, 1);
	for (int i = 0; i < N; i++) {
		int n;
		if (i % 50 == 25) /* refused by PostgreSQL */
			n = snprintf(line, sizeof line, "{\"type\":\"call.offered\",\"id\":\"poison-%d\",\"call_id\":\"pz-%d\","
			             "\"caller\":\"+8613300000%03d\"}\n", i, i, i);
		else if (i % 10 == 3) /* refused by the rules: unknown call */
			n = snprintf(line, sizeof line, "{\"type\":\"call.answered\",\"id\":\"bad-%d\",\"call_id\":\"nope-%d\","
			             "\"agent\":\"a\"}\n", i, i);
		else if (i % 10 == 7) /* refused by the rules: unknown case */
			n = snprintf(line, sizeof line, "{\"type\":\"case.update\",\"id\":\"bad-%d\",\"case_id\":999999%d}\n",
			             i, i);
		else
			n = snprintf(line, sizeof line, "{\"type\":\"call.offered\",\"id\":\"good-%d\",\"call_id\":\"gd-%d\","
			             "\"caller\":\"+8613300000%03d\"}\n", i, i, i);
		memcpy(buf + len, line, (size_t)n);
		len += (size_t)n;
	}
	cr_assert_eq(hl_send_raw(c, buf, len), 0);
	int good = 0;
	for (int i = 0; i < N; i++) {
		json_object *r = hl_recv_json(c, HL_TIMEOUT_MS);
		cr_assert(r, "response %d missing", i);
		const char *id = hl_jstr(r, "id");
		cr_assert(id, "response without id: %s", json_object_to_json_string(r));
		const char *code = hl_jstr(r, "error.code");
		if (!strncmp(id, "good-", 5)) {
			cr_assert(hl_jbool(r, "ok"), "a good neighbour failed: %s", json_object_to_json_string(r));
			good++;
		} else if (!strncmp(id, "poison-", 7)) {
			cr_assert(!hl_jbool(r, "ok") && code && !strcmp(code, "internal"), "poison: %s",
			          json_object_to_json_string(r));
		} else {
			cr_assert(!hl_jbool(r, "ok") && code && (!strcmp(code, "unknown_call") || !strcmp(code, "unknown_case")),
			          "bad event: %s", json_object_to_json_string(r));
		}
	}
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id LIKE 'good-%%'"), good);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id NOT LIKE 'good-%%'"), 0);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id LIKE 'pz-%%'"), 0,
	             "nothing of a refused event is stored");
	json_object *s = hl_request(c, "{\"type\":\"stats\",\"id\":\"s\"}");
	cr_assert_geq(hl_jint(s, "stats.batch_failures"), 1, "the poisoned batch failed and was split");
}
