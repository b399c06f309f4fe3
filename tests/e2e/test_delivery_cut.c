/*
 * test_delivery_cut.c - an alert whose COMMIT's answer the network lost still
 * reaches the daemon's own subscribers, once.
 *
 * The store's connection is cut right after the server COMMITted a write
 * that raised an alert (pgproxy_helpers.h: the server's answers to the
 * store are swallowed from that Sync on, then the connection is closed).
 * The NOTIFY hotline_alert of that commit reaches the daemon's cluster
 * session first, from the store's own backend, while the daemon still waits
 * for the results; the retry after the reconnect finds the write stored and
 * raises nothing.  The alert was pushed to nobody on this daemon: its
 * subscribers saw it only at its first escalation (escalation.after later:
 * 15 minutes by default), or never for a kind that does not escalate.
 *
 * docs/reliability.md section 6 ("A write cut off after its COMMIT").
 */
#include "pgproxy_helpers.h"

TestSuite(delivery_cut, .init = hl_e2e_init, .fini = pgproxy_fini, .timeout = 90);

static struct hl_d *daemon_behind(struct pgproxy *x, const char *escalation)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"2s\"; update = \"0\"; resolution = \"0\"; warn_at = 0;",
		.escalation = escalation, .database = "reconnect_max = \"1s\";", .no_start = true });
	pgproxy_route(x, d);
	hl_d_start(d);
	return d;
}

/* Swallow the answers to the store's next pipeline, wait until its alert
 * for case_id is committed and its NOTIFY had time to arrive, then cut. */
static void cut_after_alert_commit(struct pgproxy *x, struct hl_d *d, int64_t case_id)
{
	int64_t end = hl_now_ms() + 10000, n = 0;
	while ((n = hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)case_id)) < 1 &&
	       hl_now_ms() < end)
		hl_sleep_ms(50);
	cr_assert_eq(n, 1, "the alert was never committed");
	cr_assert(pgproxy_swallowing(x), "the alert's write went by unarmed");
	hl_sleep_ms(700); /* the session hears the NOTIFY while the store waits for its results */
	pgproxy_cut(x);
}

static int pushes_of(const struct hl_pushes *ps, int64_t case_id, int64_t level)
{
	int k = 0;
	for (int i = 0; i < ps->n; i++)
		k += ps->p[i].case_id == case_id && ps->p[i].level == level;
	return k;
}

HL_TEST(delivery_cut, alert_of_a_commit_whose_answer_was_lost_is_pushed_once)
{
	struct pgproxy *x = pgproxy_start();
	struct hl_d *d = daemon_behind(x, "after = \"1h\"; max_level = 3;");
	struct hl_conn *c = hl_conn_unix(d), *sub = hl_subscribe(d, 0);
	struct hl_pushes ps = { .n = 0 };

	/* the daemon works through the proxy */
	int64_t a = hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"cut-a\",\"caller\":\"+8613700000031\"");
	hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"cut-a\"");
	cr_assert(hl_await_push(sub, &ps, "callback_overdue", a, 1, 8000), "no alert through the proxy");

	/* the callback of case b falls due: its fire's write is the next pipeline */
	int64_t b = hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"cut-b\",\"caller\":\"+8613700000032\"");
	hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"cut-b\"");
	pgproxy_arm(x);
	cut_after_alert_commit(x, d, b);

	cr_assert(hl_await_push(sub, &ps, "callback_overdue", b, 1, 10000),
	          "the alert whose commit's answer was lost never reached this daemon's subscriber");
	/* the daemon is back: events are answered, and nothing is pushed twice */
	int64_t e = hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"cut-e\",\"caller\":\"+8613700000033\"");
	hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"cut-e\"");
	cr_assert(hl_await_push(sub, &ps, "callback_overdue", e, 1, 8000), "no alert after the reconnect");
	hl_collect_pushes(sub, &ps, 1000);
	cr_expect_eq(pushes_of(&ps, b, 1), 1, "level 1 pushed %d times", pushes_of(&ps, b, 1));
	cr_expect_eq(pushes_of(&ps, a, 1), 1, "an alert delivered before the cut was pushed again");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)b), 1);
	cr_assert(strstr(hl_d_log(d), "read again"), "the cut was during a write");
}

/* The same for an acknowledgement: the wall screens take the alert down. */
HL_TEST(delivery_cut, ack_of_a_commit_whose_answer_was_lost_is_pushed)
{
	struct pgproxy *x = pgproxy_start();
	struct hl_d *d = daemon_behind(x, "after = \"1h\"; max_level = 3;");
	struct hl_conn *c = hl_conn_unix(d), *sub = hl_subscribe(d, 0);
	struct hl_pushes ps = { .n = 0 };

	int64_t a = hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"ack-a\",\"caller\":\"+8613700000034\"");
	hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"ack-a\"");
	const struct hl_push *p = hl_await_push(sub, &ps, "callback_overdue", a, 1, 8000);
	cr_assert(p, "no alert");
	int64_t alert = p->id;

	/* a watcher that reads every line: the ack push is what it waits for */
	struct hl_conn *w = hl_conn_unix(d);
	json_object *r = hl_requestf(w, "{\"type\":\"subscribe\",\"id\":\"%s\",\"since\":%lld}", hl_uid("w"),
	                             (long long)alert);
	cr_assert(hl_jbool(r, "ok"));
	pgproxy_arm(x);
	cr_assert_eq(hl_sendf(c, "{\"type\":\"alert.ack\",\"id\":\"%s\",\"alert_id\":%lld,\"by\":\"sup\"}\n",
	                      hl_uid("ack"), (long long)alert), 0);
	int64_t end = hl_now_ms() + 10000, acked = 0;
	while (!(acked = hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE id = %lld AND acked_at IS NOT NULL",
	                            (long long)alert)) && hl_now_ms() < end)
		hl_sleep_ms(50);
	cr_assert(acked, "the acknowledgement was never committed");
	cr_assert(pgproxy_swallowing(x), "the acknowledgement's write went by unarmed");
	hl_sleep_ms(700);
	pgproxy_cut(x);
	json_object *answer = hl_recv_json(c, 15000);
	cr_assert(answer && hl_jbool(answer, "ok"), "the acknowledgement was not answered ok after the reconnect: %s",
	          answer ? json_object_to_json_string(answer) : "(nothing)");

	int acks = 0;
	end = hl_now_ms() + 6000;
	while (hl_now_ms() < end) {
		json_object *o = hl_recv_json(w, (int)(end - hl_now_ms()));
		if (!o)
			break;
		const char *what = hl_jstr(o, "push");
		if (what && strcmp(what, "ack") == 0 && hl_jint(o, "alert.id") == alert)
			acks++;
	}
	cr_assert_eq(acks, 1, "the acknowledgement whose commit's answer was lost was pushed %d times", acks);
}
