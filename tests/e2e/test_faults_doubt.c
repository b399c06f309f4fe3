/*
 * test_faults_doubt.c - a write that PostgreSQL committed but whose answer
 * the daemon never got.
 *
 * The connection can die between the server's COMMIT and the results
 * reaching the daemon: the server crashes right after the commit record, a
 * network cut, or (reproducible, so used here) a backend waiting for a
 * synchronous standby that is terminated: "The transaction has already
 * committed locally".  The daemon retries the batch after reconnecting; the
 * retry finds its event ids stored and answers them `ok` without running the
 * rules again.  What the lost write did beside storing the events was then
 * known to PostgreSQL only: a clock it armed had no timer (never alerted
 * until a restart), an alert it raised reached no subscriber and never
 * escalated, its webhook deliveries waited for a restart.
 *
 * The cut: synchronous_standby_names names a standby that does not exist, so
 * every commit waits (wait_event SyncRep) after it is durable; the test
 * terminates the daemon's backend in that wait and clears the setting.  That
 * needs a cluster of our own (pgc_helpers.h): the setting is cluster-wide.
 *
 * docs/reliability.md, section 6 ("A write cut off after its COMMIT").
 */
#include "pgc_helpers.h"
#include "delivery_helpers.h"

/* both: the receivers (delivery_fini, which runs the harness's cleanup) and the cluster */
static void doubt_fini(void)
{
	delivery_fini();
	fini();
}

TestSuite(faults_doubt, .init = hl_e2e_init, .fini = doubt_fini, .timeout = 120);

/* How many requests the receiver got for delivery ids starting with prefix
 * ("<alert id>.<level>."); *most the largest count of one delivery id. */
static int deliveries(struct hook *h, const char *prefix, int *most)
{
	int n = 0, count = hook_count(h);
	*most = 0;
	for (int i = 0; i < count; i++) {
		struct hook_req r = hook_get(h, i);
		char id[96];
		header_value(r.head, "X-Hotline-Delivery", id, sizeof id);
		if (strncmp(id, prefix, strlen(prefix)) != 0)
			continue;
		n++;
		int same = 0;
		for (int j = 0; j < count; j++) {
			struct hook_req q = hook_get(h, j);
			char other[96];
			header_value(q.head, "X-Hotline-Delivery", other, sizeof other);
			same += strcmp(other, id) == 0;
		}
		if (same > *most)
			*most = same;
	}
	return n;
}

/* Every commit waits for a standby that never comes. */
static void hold_commits(struct hl_d *d)
{
	hl_sql(d, "ALTER SYSTEM SET synchronous_standby_names = 'hl_no_such_standby'");
	hl_sql(d, "SELECT pg_reload_conf()");
}

/* The daemon's write waiting in its commit is terminated (committed, never
 * answered); commits run normally again. */
static void cut_off_held_commit(struct hl_d *d)
{
	int64_t pid = 0, end = hl_now_ms() + 10000;
	while (!pid && hl_now_ms() < end) {
		pid = hl_sql_int(d, "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE wait_event = 'SyncRep'");
		if (!pid)
			hl_sleep_ms(50);
	}
	cr_assert(pid, "no write of the daemon reached its commit");
	cr_assert_eq(hl_sql_int(d, "SELECT pg_terminate_backend(%lld)::int", (long long)pid), 1);
	hl_sql(d, "ALTER SYSTEM RESET synchronous_standby_names");
	hl_sql(d, "SELECT pg_reload_conf()");
}

HL_TEST(faults_doubt, write_committed_but_cut_off_keeps_its_clocks_and_alerts)
{
	struct pgc *p = pgc_create();
	/* the receiver holds its first request (a delivery in flight through the
	 * cuts) and answers every later one 200 */
	struct hook *h = hook_start((const int[]){ 0, 200, -1 });
	char top[256];
	snprintf(top, sizeof top, "webhooks = { urls = [ \"http://127.0.0.1:%d/hook\" ]; timeout = \"60s\"; };",
	         h->port);
	struct hl_d *d = daemon_on_opts(p, &(struct hl_e2e_opts){
		.sla = "callback = \"2s\"; update = \"0\"; resolution = \"0\"; warn_at = 0;",
		.escalation = "after = \"2s\"; max_level = 2;", .top = top }, NULL);
	struct hl_conn *c = hl_conn_unix(d), *sub = hl_subscribe(d, 0);
	struct hl_pushes ps = { .n = 0 };

	/* 0. A webhook delivery in flight (held by the receiver) while the cuts happen */
	int64_t a = hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"a1\",\"caller\":\"+8613700000020\"");
	hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"a1\"");
	cr_assert(hl_await_push(sub, &ps, "callback_overdue", a, 1, 6000));
	cr_assert(hook_wait(h, 1, 5000), "the first delivery never came");
	char held[48];
	snprintf(held, sizeof held, "%lld.1.", (long long)hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE case_id = %lld",
	                                                             (long long)a));

	/* 1. A clock armed by a cut-off write: the callback owed after call.abandoned */
	int64_t b = hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"b1\",\"caller\":\"+8613700000021\"");
	hold_commits(d);
	cr_assert_eq(hl_send(c, "{\"type\":\"call.abandoned\",\"id\":\"doubt-b2\",\"call_id\":\"b1\"}"), 0);
	cut_off_held_commit(d);
	json_object *r = hl_recv_json(c, 20000);
	cr_assert(r, "no answer after the cut (%s)", c->eof ? "closed" : "timeout");
	cr_assert(hl_jbool(r, "ok") && !hl_jbool(r, "duplicate"), "%s", json_object_to_json_string(r));
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'"
	                           " AND state = 'pending'", (long long)b), 1, "the cut-off write was committed");
	int64_t due = hl_sql_int(d, "SELECT hotline.ms(due_at) FROM hotline.clocks WHERE case_id = %lld"
	                            " AND kind = 'callback'", (long long)b);
	const struct hl_push *got = hl_await_push(sub, &ps, "callback_overdue", b, 1, 8000);
	cr_assert(got, "the callback armed by the cut-off write was never alerted");
	cr_expect_leq(got->t_ms - due, 3000, "alerted %lld ms after its due time", (long long)(got->t_ms - due));

	/* 2. An alert raised by a cut-off write: a callback falls due while commits are held */
	int64_t e = hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"e1\",\"caller\":\"+8613700000022\"");
	hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"e1\"");
	hold_commits(d);
	cut_off_held_commit(d); /* the fire's write: the alert is committed, its answer lost */
	int64_t end = hl_now_ms() + 5000, n = 0;
	while ((n = hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)e)) < 1 &&
	       hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_eq(n, 1, "the fire's write was committed");
	cr_assert(hl_await_push(sub, &ps, "callback_overdue", e, 0, 8000),
	          "the alert of the cut-off write never reached the subscriber");
	cr_assert(hl_await_push(sub, &ps, "callback_overdue", e, 2, 8000),
	          "the alert of the cut-off write never escalated");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)e), 1,
	             "alerted more than once");
	hl_collect_pushes(sub, &ps, 500);
	for (int level = 1; level <= 2; level++) {
		int k = 0;
		for (int i = 0; i < ps.n; i++)
			k += ps.p[i].case_id == e && ps.p[i].level == level;
		cr_expect_leq(k, 1, "level %d pushed %d times", level, k);
	}
	/* the webhooks: the cut-off write's alert is delivered (read again with
	 * the clocks), the delivery in flight is not sent a second time */
	char pre[48];
	int most = 0;
	snprintf(pre, sizeof pre, "%lld.1.", (long long)hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE case_id = %lld",
	                                                            (long long)e));
	end = hl_now_ms() + 5000;
	while (deliveries(h, pre, &most) < 1 && hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_eq(deliveries(h, pre, &most), 1, "the cut-off write's alert was not delivered to the webhook once");
	cr_assert_eq(deliveries(h, held, &most), 1, "the delivery in flight was sent again (%d)", most);
	cr_assert(strstr(hl_d_log(d), "read again"), "the resync is logged");
}
