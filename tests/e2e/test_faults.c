/*
 * test_faults.c - end-to-end tests of PostgreSQL outages.
 *
 * These tests stop and start PostgreSQL, so they never stop the shared
 * cluster other tests use at the same time: each such test creates a throwaway
 * cluster of its own (pgc_helpers.h) and removes it in the suite's .fini.
 *
 * What is proved (docs/reliability.md):
 *   - during an outage requests are answered `unavailable` (never ok without
 *     a commit), the daemon keeps running and accepting, `stats` says the
 *     database is "down";
 *   - when PostgreSQL comes back the daemon reconnects by itself and events
 *     are acknowledged again; no acknowledged id is lost or doubled, and the
 *     ids that got `unavailable` can be sent again safely;
 *   - an alert that fell due during the outage is raised once, after it;
 *   - a daemon started while PostgreSQL is down keeps retrying and serves
 *     once it is up;
 *   - a batch cut off during its COMMIT is answered after the outage, with
 *     what happened, never `unavailable`;
 *   - a backend terminated mid-write (on the shared cluster: nothing is
 *     stopped) costs a reconnect and a retry, not an error;
 *   - a due clock whose alert the database refuses (a full disk) fires
 *     again until it is stored.
 */
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgc_helpers.h"

TestSuite(faults, .init = hl_e2e_init, .fini = fini, .timeout = 150);

/* ---------------------------------------------------------------- streams */

enum { ST_NONE, ST_OK, ST_DUP, ST_UNAVAILABLE };

struct stream {
	const char *prefix;
	int n, next;         /* capacity, next index to send */
	int8_t *st;
};

static int index_of(const char *id, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (!id || strncmp(id, prefix, pl) != 0 || id[pl] != '-')
		return -1;
	char *end;
	long i = strtol(id + pl + 1, &end, 10);
	return *end || i < 0 ? -1 : (int)i;
}

static void send_event(struct hl_conn *c, const struct stream *s, int i)
{
	cr_assert_eq(hl_sendf(c, "{\"type\":\"call.offered\",\"id\":\"%s-%d\",\"call_id\":\"%s-c%d\","
	                         "\"caller\":\"+86137%08d\"}", s->prefix, i, s->prefix, i, i % 400), 0,
	             "send failed: the daemon closed the connection");
}

/* Send `k` new events (or resend the listed ones), read their responses.
 * Returns the number of each status in counts[ST_*]. */
static void round_trip(struct hl_conn *c, struct stream *s, const int *which, int k, int counts[4])
{
	int idx[256];
	cr_assert_leq(k, 256);
	for (int j = 0; j < k; j++) {
		idx[j] = which ? which[j] : s->next++;
		cr_assert_lt(idx[j], s->n);
		send_event(c, s, idx[j]);
	}
	memset(counts, 0, 4 * sizeof *counts);
	for (int j = 0; j < k; j++) {
		json_object *r = hl_recv_json(c, 15000);
		cr_assert(r, "no response (%s)", c->eof ? "connection closed" : "timeout");
		int i = index_of(hl_jstr(r, "id"), s->prefix);
		cr_assert_eq(i, idx[j], "responses out of order: %s", json_object_to_json_string(r));
		int st;
		if (hl_jbool(r, "ok")) {
			st = hl_jbool(r, "duplicate") ? ST_DUP : ST_OK;
		} else {
			const char *code = hl_jstr(r, "error.code");
			cr_assert(code && strcmp(code, "unavailable") == 0, "unexpected: %s", json_object_to_json_string(r));
			st = ST_UNAVAILABLE;
		}
		/* a resend may turn unavailable into ok; an ok is never taken back */
		if (s->st[i] != ST_OK)
			s->st[i] = (int8_t)st;
		counts[st]++;
	}
}

static const char *db_state(struct hl_conn *c)
{
	json_object *r = hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}");
	cr_assert(hl_jbool(r, "ok"), "stats: %s", json_object_to_json_string(r));
	const char *s = hl_jstr(r, "stats.database");
	return s ? s : "(none)";
}

/* rows in case_events per index */
static void stored_counts(struct hl_d *d, const struct stream *s, int *counts)
{
	memset(counts, 0, (size_t)s->n * sizeof *counts);
	PGresult *r = hl_sql(d, "SELECT event_id FROM hotline.case_events WHERE event_id LIKE '%s-%%'", s->prefix);
	for (int k = 0; k < PQntuples(r); k++) {
		int i = index_of(PQgetvalue(r, k, 0), s->prefix);
		if (i >= 0 && i < s->n)
			counts[i]++;
	}
}

static const char *iso_now(void)
{
	static char s[40];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return s;
}

/* A trigger that holds a batch in its write: the insert of a call whose id
 * starts with "slow-" sleeps `seconds`, so the test can cut it off. */
static void slow_calls(struct hl_d *d, const char *seconds)
{
	hl_sql(d, "CREATE FUNCTION public.hl_slow_insert() RETURNS trigger LANGUAGE plpgsql AS "
	          "$$BEGIN PERFORM pg_sleep(%s); RETURN NULL; END$$", seconds);
	hl_sql(d, "CREATE TRIGGER hl_slow AFTER INSERT ON hotline.calls FOR EACH ROW "
	          "WHEN (NEW.call_id LIKE 'slow-%%') EXECUTE FUNCTION public.hl_slow_insert()");
}

/* ------------------------------------------------------------------ tests */

HL_TEST(faults, postgres_outage_while_streaming)
{
	struct pgc *p = pgc_create();
	struct hl_d *d = daemon_on(p, "callback = \"3s\"; update = \"0\"; resolution = \"0\"; warn_at = 0;", false);
	struct hl_conn *c = hl_conn_unix(d), *adm = hl_conn_unix(d);
	struct stream s = { .prefix = xcalloc(32, 1), .n = 20000 };
	snprintf((char *)s.prefix, 32, "out%d", (int)getpid());
	s.st = xcalloc((size_t)s.n, 1);
	int *counts = xcalloc((size_t)s.n, sizeof *counts);
	int n_st[4], ok_before = 0;

	/* 1. normal service */
	for (int k = 0; k < 5; k++) {
		round_trip(c, &s, NULL, 50, n_st);
		cr_assert_eq(n_st[ST_OK], 50, "before the outage every event is ok");
		ok_before += n_st[ST_OK];
	}
	cr_assert_str_eq(db_state(adm), "up");
	/* a callback clock that falls due in the middle of the outage */
	json_object *r = hl_requestf(c, "{\"type\":\"call.abandoned\",\"id\":\"%s\",\"call_id\":\"x-1\","
	                                "\"caller\":\"+8613600000001\",\"at\":\"%s\"}", hl_uid("ab"), iso_now());
	cr_assert(hl_jbool(r, "ok"));
	int64_t x_case = hl_jint(r, "case_id");

	/* 2. PostgreSQL dies (immediate: no goodbye to the clients) with events
	 * on the way, on a connection of their own: those of a batch cut off
	 * during its COMMIT are not answered until the database is back */
	struct hl_conn *c0 = hl_conn_unix(d);
	for (int j = 0; j < 100; j++)
		send_event(c0, &s, s.next++);
	pgc_stop(p, "immediate");
	int64_t t_stop = hl_now_ms();
	int unav = 0, ok_during = 0;
	bool saw_down = false;
	while (hl_now_ms() - t_stop < 6000) {
		round_trip(c, &s, NULL, 20, n_st);
		unav += n_st[ST_UNAVAILABLE];
		ok_during += n_st[ST_OK];
		saw_down |= strcmp(db_state(adm), "down") == 0;
		cr_assert(hl_d_alive(d), "the daemon died during the outage");
		hl_sleep_ms(100);
	}
	cr_assert_gt(unav, 0, "requests during the outage must be answered unavailable");
	cr_assert(saw_down, "stats must show database \"down\" during the outage");
	/* accepting at all times: a new connection is served (ping needs no database) */
	struct hl_conn *fresh = hl_conn_unix(d);
	cr_assert(hl_jbool(hl_request(fresh, "{\"type\":\"ping\",\"id\":\"during\"}"), "ok"));

	/* 3. PostgreSQL is back: the daemon reconnects by itself */
	pgc_start(p);
	forget_sql_conn(d);
	int64_t t_back = hl_now_ms();
	/* the 100 sent as it stopped: ok (committed before the stop, or cut off
	 * in the COMMIT and answered after it) or unavailable (nothing stored) */
	for (int j = 0; j < 100; j++) {
		json_object *x = hl_recv_json(c0, 30000);
		cr_assert(x, "no response to an event sent as PostgreSQL stopped (%s)", c0->eof ? "closed" : "timeout");
		int i = index_of(hl_jstr(x, "id"), s.prefix);
		cr_assert(i >= 0 && i < s.n);
		if (hl_jbool(x, "ok")) {
			cr_assert(!hl_jbool(x, "duplicate"), "a first send answered duplicate: %s", json_object_to_json_string(x));
			s.st[i] = ST_OK, ok_during++;
		} else {
			cr_assert_str_eq(hl_jstr(x, "error.code") ? hl_jstr(x, "error.code") : "", "unavailable");
			s.st[i] = ST_UNAVAILABLE, unav++;
		}
	}
	bool served = false;
	while (!served && hl_now_ms() - t_back < 20000) {
		round_trip(c, &s, NULL, 10, n_st);
		served = n_st[ST_OK] == 10;
		if (!served)
			hl_sleep_ms(200);
	}
	cr_assert(served, "events not acknowledged within 20 s of PostgreSQL coming back");
	cr_log_info("outage: %d ok before, %d ok / %d unavailable during, reconnected after %lld ms", ok_before,
	            ok_during, unav, (long long)(hl_now_ms() - t_back));
	for (int k = 0; k < 3; k++) {
		round_trip(c, &s, NULL, 50, n_st);
		cr_assert_eq(n_st[ST_OK], 50, "after the outage every event is ok");
	}
	cr_assert_str_eq(db_state(adm), "up");

	/* 4. nothing acknowledged lost or doubled; unavailable meant nothing stored */
	stored_counts(d, &s, counts);
	int unav_stored = 0;
	for (int i = 0; i < s.next; i++) {
		if (s.st[i] == ST_OK)
			cr_assert_eq(counts[i], 1, "%s-%d acknowledged but stored %d times", s.prefix, i, counts[i]);
		if (s.st[i] == ST_UNAVAILABLE && counts[i])
			unav_stored++;
		cr_assert_leq(counts[i], 1, "%s-%d stored %d times", s.prefix, i, counts[i]);
	}
	cr_expect_eq(unav_stored, 0, "%d events answered unavailable (\"nothing was stored\") were stored", unav_stored);

	/* 5. the sender retries what was unavailable: ok or duplicate, and exactly one row each */
	int retry[256], k = 0;
	for (int i = 0; i < s.next; i++) {
		if (s.st[i] != ST_UNAVAILABLE)
			continue;
		retry[k++] = i;
		if (k == 256 || i == s.next - 1) {
			round_trip(c, &s, retry, k, n_st);
			cr_assert_eq(n_st[ST_OK] + n_st[ST_DUP], k, "a retried event was not accepted");
			k = 0;
		}
	}
	if (k)
		round_trip(c, &s, retry, k, n_st);
	stored_counts(d, &s, counts);
	for (int i = 0; i < s.next; i++)
		cr_assert_eq(counts[i], 1, "%s-%d stored %d times after the retries", s.prefix, i, counts[i]);

	/* 6. the alert that fell due during the outage: raised once, now */
	int64_t n_alerts = 0, end = hl_now_ms() + 5000;
	while ((n_alerts = hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld"
	                                 " AND kind = 'callback_overdue'", (long long)x_case)) < 1 && hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_eq(n_alerts, 1, "the callback that fell due during the outage must be alerted once");
	hl_sleep_ms(1500);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)x_case), 1,
	             "alerted more than once");
	char *log = hl_d_log(d);
	cr_expect(strstr(log, "connection lost") || strstr(log, "cannot connect"), "the outage is logged");
}

/* A batch cut off during its COMMIT: whether it was stored is unknown until
 * the database is back, so its events are not answered `unavailable`
 * ("nothing was stored") but held, retried after the reconnect and answered
 * with what happened; the other requests of the outage get `unavailable`.
 * A trigger that sleeps on the insert of one call holds the batch in its
 * write while PostgreSQL is killed, which makes the cut deterministic. */
HL_TEST(faults, commit_cut_off_is_answered_after_the_outage)
{
	struct pgc *p = pgc_create();
	struct hl_d *d = daemon_on(p, NULL, false);
	slow_calls(d, "2");
	struct hl_conn *c = hl_conn_unix(d), *other = hl_conn_unix(d), *adm = hl_conn_unix(d);
	cr_assert(hl_jbool(hl_request(other, "{\"type\":\"call.offered\",\"id\":\"cut-0\",\"call_id\":\"fast-0\","
	                                     "\"caller\":\"+8613700000000\"}"), "ok"));

	/* the slow event, then one behind it on the same connection */
	cr_assert_eq(hl_sendf(c, "{\"type\":\"call.offered\",\"id\":\"cut-1\",\"call_id\":\"slow-1\","
	                         "\"caller\":\"+8613700000001\"}"), 0);
	hl_sleep_ms(700); /* in its write: the trigger sleeps */
	cr_assert_eq(hl_sendf(c, "{\"type\":\"call.offered\",\"id\":\"cut-2\",\"call_id\":\"fast-2\","
	                         "\"caller\":\"+8613700000002\"}"), 0);
	pgc_stop(p, "immediate");

	/* the outage: another connection is told `unavailable`, at once after the give-up */
	json_object *r = hl_request(other, "{\"type\":\"call.offered\",\"id\":\"cut-3\",\"call_id\":\"fast-3\","
	                                   "\"caller\":\"+8613700000003\"}");
	cr_assert_str_eq(hl_jstr(r, "error.code") ? hl_jstr(r, "error.code") : "", "unavailable",
	                 "%s", json_object_to_json_string(r));
	cr_assert(strstr(hl_jstr(r, "error.message"), "nothing was stored"));
	/* the event cut off in its commit is not answered meanwhile, nor what follows it */
	cr_assert_null(hl_recv_json(c, 2500), "an event whose commit was cut off was answered during the outage");
	cr_assert(!c->eof, "its connection stays open");
	cr_assert_str_eq(db_state(adm), "down");
	json_object *st = hl_request(adm, "{\"type\":\"stats\",\"id\":\"st\"}");
	cr_assert_geq(hl_jint(st, "stats.db_in_doubt_held"), 1, "%s", json_object_to_json_string(st));

	/* PostgreSQL is back: the held event is retried and answered ok (it was
	 * not committed: the server died in its trigger); the one behind it was
	 * given up with everything else queued in the outage: unavailable */
	pgc_start(p);
	forget_sql_conn(d);
	r = hl_recv_json(c, 30000);
	cr_assert(r, "no answer after the database came back (%s)", c->eof ? "closed" : "timeout");
	cr_assert_str_eq(hl_jstr(r, "id"), "cut-1");
	cr_assert(hl_jbool(r, "ok") && !hl_jbool(r, "duplicate"), "%s", json_object_to_json_string(r));
	r = hl_recv_json(c, 10000);
	cr_assert(r);
	cr_assert_str_eq(hl_jstr(r, "id"), "cut-2");
	cr_assert_str_eq(hl_jstr(r, "error.code") ? hl_jstr(r, "error.code") : "", "unavailable",
	                 "%s", json_object_to_json_string(r));
	/* stored exactly as answered */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = 'cut-1'"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id IN ('cut-2', 'cut-3')"), 0);
	/* the sender resends what was unavailable: stored once */
	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"cut-2\",\"call_id\":\"fast-2\","
	                  "\"caller\":\"+8613700000002\"}");
	cr_assert(hl_jbool(r, "ok") && !hl_jbool(r, "duplicate"), "%s", json_object_to_json_string(r));
	cr_assert(strstr(hl_d_log(d), "cut off during their commit"), "the held requests are logged");

	/* a sender that gives up waiting and closes its connection: its event
	 * is retried all the same (a submitted event is committed, as on a
	 * connection that goes away in normal service), answered to nobody */
	struct hl_conn *gone = hl_conn_unix(d);
	cr_assert_eq(hl_sendf(gone, "{\"type\":\"call.offered\",\"id\":\"cut-4\",\"call_id\":\"slow-4\","
	                            "\"caller\":\"+8613700000004\"}"), 0);
	hl_sleep_ms(700);
	pgc_stop(p, "immediate");
	hl_sleep_ms(500);
	hl_conn_close(gone);
	hl_sleep_ms(3500); /* past the give-up */
	cr_assert(hl_d_alive(d));
	pgc_start(p);
	forget_sql_conn(d);
	int64_t end = hl_now_ms() + 30000, n = 0;
	while (hl_now_ms() < end) {
		if ((n = hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = 'cut-4'")) > 0)
			break;
		hl_sleep_ms(200);
	}
	cr_assert_eq(n, 1, "the held event of a closed connection was not committed after the outage");
	cr_assert(hl_jbool(hl_request(other, "{\"type\":\"ping\",\"id\":\"after\"}"), "ok"));
}

/* A DBA (or a pooler, or idle_session_timeout) terminates the daemon's
 * backend in the middle of a batch's write: the daemon reconnects by
 * itself, runs the batch again, and the sender gets one `ok` - not an
 * error, not `duplicate` - for an event stored exactly once.  A trigger
 * that sleeps on one call's insert holds the batch in its write. */
HL_TEST(faults, backend_terminated_mid_write)
{
	struct hl_d *d = hl_d_up(NULL);
	slow_calls(d, "1.5");
	struct hl_conn *c = hl_conn_unix(d);
	cr_assert_eq(hl_sendf(c, "{\"type\":\"call.offered\",\"id\":\"term-1\",\"call_id\":\"slow-1\","
	                         "\"caller\":\"+8613700000011\"}"), 0);
	int64_t pid = 0, end = hl_now_ms() + 5000;
	while (!pid && hl_now_ms() < end) {
		pid = hl_sql_int(d, "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE datname = current_database()"
		                    " AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()");
		if (!pid)
			hl_sleep_ms(50);
	}
	cr_assert(pid, "the daemon's batch never reached the trigger");
	cr_assert_eq(hl_sql_int(d, "SELECT pg_terminate_backend(%lld)::int", (long long)pid), 1);

	json_object *r = hl_recv_json(c, 20000);
	cr_assert(r, "no answer after the backend was terminated (%s)", c->eof ? "closed" : "timeout");
	cr_assert(hl_jbool(r, "ok") && !hl_jbool(r, "duplicate"), "%s", json_object_to_json_string(r));
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = 'term-1'"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 'slow-1'"), 1);
	json_object *st = hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}");
	cr_assert_geq(hl_jint(st, "stats.db_failures"), 1, "%s", json_object_to_json_string(st));
	cr_assert_str_eq(hl_jstr(st, "stats.database"), "up");
	/* and service goes on */
	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"term-2\",\"call_id\":\"fast-2\","
	                  "\"caller\":\"+8613700000012\"}");
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
}

/* PostgreSQL refuses the alert a due clock raises for a while (a full disk:
 * SQLSTATE 53100; a statement timeout, a deadlock, a read-only standby are
 * alike): the clock must fire again once the database takes writes, not be
 * dropped from the timers until the next restart. */
HL_TEST(faults, due_clock_refused_by_the_database_fires_again)
{
	struct hl_e2e_opts o = { .sla = "callback = \"1s\"; update = \"0\"; resolution = \"0\"; warn_at = 0;",
		                 .database = "reconnect_max = \"1s\";" };
	struct hl_d *d = hl_d_up(&o);
	hl_sql(d, "CREATE FUNCTION public.hl_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
	          "RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END$$");
	hl_sql(d, "CREATE TRIGGER hl_disk_full BEFORE INSERT ON hotline.alerts FOR EACH ROW "
	          "EXECUTE FUNCTION public.hl_disk_full()");
	struct hl_conn *c = hl_conn_unix(d);
	json_object *r = hl_request(c, "{\"type\":\"call.abandoned\",\"id\":\"full-1\",\"call_id\":\"full-call-1\","
	                               "\"caller\":\"+8613700000021\"}");
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	/* the clock falls due and its batch is refused (at least once) */
	int64_t end = hl_now_ms() + 10000;
	while (hl_jint(hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}"), "stats.batch_failures") == 0 &&
	       hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts"), 0);
	hl_sql(d, "DROP TRIGGER hl_disk_full ON hotline.alerts");
	end = hl_now_ms() + 10000;
	while (hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'callback_overdue'") == 0 &&
	       hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'callback_overdue'"), 1,
	             "the overdue callback was never alerted once the database took writes again");
}

HL_TEST(faults, daemon_started_while_postgres_down)
{
	struct pgc *p = pgc_create();
	struct hl_d *d = daemon_on(p, NULL, true);
	pgc_stop(p, "fast");
	hl_d_start(d); /* returns once the socket accepts: it does not wait for the database */
	struct hl_conn *c = hl_conn_unix(d);
	cr_assert(hl_jbool(hl_request(c, "{\"type\":\"ping\",\"id\":\"p0\"}"), "ok"), "ping without a database");
	cr_assert_str_eq(db_state(c), "down");

	struct stream s = { .prefix = "late", .n = 1000 };
	s.st = xcalloc((size_t)s.n, 1);
	int n_st[4];
	int64_t t0 = hl_now_ms();
	round_trip(c, &s, NULL, 1, n_st);
	cr_assert_eq(n_st[ST_UNAVAILABLE], 1, "an event while the database was never reached: unavailable");
	cr_assert_lt(hl_now_ms() - t0, 8000, "unavailable must come after about 3 s, not hang");
	/* now it is answered at once */
	t0 = hl_now_ms();
	round_trip(c, &s, NULL, 5, n_st);
	cr_assert_eq(n_st[ST_UNAVAILABLE], 5);
	cr_expect_lt(hl_now_ms() - t0, 1500, "once given up, unavailable is immediate");
	hl_sleep_ms(1500); /* a few reconnect attempts */
	cr_assert(hl_d_alive(d), "the daemon must keep retrying, not exit");
	/* each connection logs its first failed attempt at err, the same failure
	 * again only once a minute (log.c log_retry_failed): not a pair of err
	 * lines per attempt for the whole outage */
	size_t errs = 0;
	for (const char *q = hl_d_log(d); (q = strstr(q, "<3>store: cannot")); q++)
		errs++;
	cr_assert_eq(errs, 1, "the store's failed attempts, logged at err %zu times in 5 s: %s", errs, hl_d_log(d));

	pgc_start(p);
	forget_sql_conn(d);
	bool served = false;
	int64_t end = hl_now_ms() + 20000;
	while (!served && hl_now_ms() < end) {
		round_trip(c, &s, NULL, 1, n_st);
		served = n_st[ST_OK] == 1;
		if (!served)
			hl_sleep_ms(200);
	}
	cr_assert(served, "not serving within 20 s of PostgreSQL coming up");
	cr_assert_str_eq(db_state(c), "up");
	round_trip(c, &s, NULL, 20, n_st);
	cr_assert_eq(n_st[ST_OK], 20);
	int ok = 0;
	for (int i = 0; i < s.next; i++)
		ok += s.st[i] == ST_OK;
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id LIKE 'late-%%'"), ok,
	             "exactly the acknowledged events are stored");
}

/* Failover through a multi-host conninfo: the first host (a standby that is
 * gone) refuses, libpq moves on to the next, and the daemon serves. */
HL_TEST(faults, multi_host_conninfo_fails_over)
{
	struct pgc *p = pgc_create();
	struct hl_d *d = daemon_on_hosts(p, NULL, false, "/nonexistent/hl-standby");
	struct hl_conn *c = hl_conn_unix(d);
	struct stream s = { .prefix = "mh", .n = 100 };
	s.st = xcalloc((size_t)s.n, 1);
	int n_st[4];
	bool served = false;
	int64_t end = hl_now_ms() + 15000;
	while (!served && hl_now_ms() < end) {
		round_trip(c, &s, NULL, 1, n_st);
		served = n_st[ST_OK] == 1;
		if (!served)
			hl_sleep_ms(200);
	}
	cr_assert(served, "not serving through the second host of the conninfo");
	cr_assert_str_eq(db_state(c), "up");
	round_trip(c, &s, NULL, 10, n_st);
	cr_assert_eq(n_st[ST_OK], 10);
	cr_assert(strstr(hl_d_log(d), "connected to database hotline on ") != NULL);
}
