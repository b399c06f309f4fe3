/*
 * test_cluster_away.c - a daemon whose cluster session was away still pushes
 * the alerts the other daemons raised meanwhile (CONTRACT 9: "a subscriber
 * of any daemon receives every alert, whichever daemon raised it").
 *
 * Alerts reach the subscribers of the daemons that did not raise them by
 * NOTIFY hotline_alert on each daemon's cluster session.  PostgreSQL queues a
 * notification only for the sessions listening at its COMMIT, so one sent
 * while a daemon's session was lost (a network blip on that connection, a
 * restarted pooler, the daemon leaving the cluster while its store is cut
 * off) never arrived: the alert reached none of that daemon's subscribers,
 * ever, unless they subscribed again (docs/operations.md listed it as a
 * known limit).  Here daemon b reaches PostgreSQL through a proxy
 * (pgproxy_helpers.h) that cuts b's cluster session and keeps it out while
 * a's clock falls due; b's store stays connected.
 */
#include "pgproxy_helpers.h"

TestSuite(cluster_away, .init = hl_e2e_init, .fini = pgproxy_fini, .timeout = 90);

static const struct hl_e2e_opts opts = {
	.sla = "callback = \"2s\"; update = \"0\"; resolution = \"0\"; warn_at = 0;",
	.escalation = "after = \"1h\"; max_level = 3;",
	.database = "reconnect_max = \"1s\";",
	.top = "cluster = { takeover = \"2s\"; };",
};

HL_TEST(cluster_away, alerts_raised_while_a_session_was_away_are_pushed_on_its_return)
{
	struct pgproxy *x = pgproxy_start();
	struct hl_d *a = hl_d_up(&opts);
	struct hl_e2e_opts ob = opts;
	ob.no_start = true;
	struct hl_d *b = hl_d_up_peer(a, &ob);
	pgproxy_route(x, b);
	hl_d_start(b);
	struct hl_conn *ca = hl_conn_unix(a), *sub = hl_subscribe(b, 0);
	struct hl_pushes ps = { .n = 0 };

	/* both daemons up: an alert raised anywhere reaches b's subscriber */
	int64_t k1 = hl_ev(ca, "\"type\":\"call.offered\",\"call_id\":\"away-1\",\"caller\":\"+8613700000041\"");
	hl_ev(ca, "\"type\":\"call.abandoned\",\"call_id\":\"away-1\"");
	cr_assert(hl_await_push(sub, &ps, "callback_overdue", k1, 1, 8000), "no alert before the cut");

	/* b's session is away while a's callback falls due */
	pgproxy_cut_session(x, true);
	int64_t k2 = hl_ev(ca, "\"type\":\"call.offered\",\"call_id\":\"away-2\",\"caller\":\"+8613700000042\"");
	hl_ev(ca, "\"type\":\"call.abandoned\",\"call_id\":\"away-2\"");
	int64_t end = hl_now_ms() + 10000, n = 0;
	while ((n = hl_sql_int(a, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)k2)) < 1 &&
	       hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_eq(n, 1, "a never raised the alert");
	hl_sleep_ms(500);
	pgproxy_unblock_session(x);

	cr_assert(hl_await_push(sub, &ps, "callback_overdue", k2, 1, 10000),
	          "the alert raised while b's session was away never reached b's subscriber");
	/* and nothing twice: a third alert after the return, then a quiet second */
	int64_t k3 = hl_ev(ca, "\"type\":\"call.offered\",\"call_id\":\"away-3\",\"caller\":\"+8613700000043\"");
	hl_ev(ca, "\"type\":\"call.abandoned\",\"call_id\":\"away-3\"");
	cr_assert(hl_await_push(sub, &ps, "callback_overdue", k3, 1, 10000), "no alert after the return");
	hl_collect_pushes(sub, &ps, 1000);
	cr_expect_eq(hl_count_pushes(&ps, "callback_overdue", k1), 1, "the alert from before the cut pushed again");
	cr_expect_eq(hl_count_pushes(&ps, "callback_overdue", k2), 1, "the caught-up alert pushed twice");
	cr_expect_eq(hl_count_pushes(&ps, "callback_overdue", k3), 1);
	cr_assert(strstr(hl_d_log(b), "while the session was away"), "the catch-up is logged");
}

/* The same for an acknowledgement: b's wall screens take the alert down. */
HL_TEST(cluster_away, acks_made_while_a_session_was_away_are_pushed_on_its_return)
{
	struct pgproxy *x = pgproxy_start();
	struct hl_d *a = hl_d_up(&opts);
	struct hl_e2e_opts ob = opts;
	ob.no_start = true;
	struct hl_d *b = hl_d_up_peer(a, &ob);
	pgproxy_route(x, b);
	hl_d_start(b);
	struct hl_conn *ca = hl_conn_unix(a), *w = hl_subscribe(b, 0);

	int64_t k = hl_ev(ca, "\"type\":\"call.offered\",\"call_id\":\"away-ack\",\"caller\":\"+8613700000044\"");
	hl_ev(ca, "\"type\":\"call.abandoned\",\"call_id\":\"away-ack\"");
	int64_t alert = 0, end = hl_now_ms() + 10000;
	while (!alert && hl_now_ms() < end) {
		json_object *o = hl_recv_json(w, (int)(end - hl_now_ms()));
		if (o && hl_jstr(o, "push") && strcmp(hl_jstr(o, "push"), "alert") == 0 && hl_jint(o, "alert.case_id") == k)
			alert = hl_jint(o, "alert.id");
	}
	cr_assert(alert, "b's watcher never saw the alert");

	pgproxy_cut_session(x, true);
	hl_sleep_ms(500);
	json_object *r = hl_requestf(ca, "{\"type\":\"alert.ack\",\"id\":\"%s\",\"alert_id\":%lld,\"by\":\"sup\"}",
	                             hl_uid("ack"), (long long)alert);
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	hl_sleep_ms(500);
	pgproxy_unblock_session(x);

	int acks = 0;
	end = hl_now_ms() + 8000;
	while (hl_now_ms() < end) {
		json_object *o = hl_recv_json(w, (int)(end - hl_now_ms()));
		if (!o)
			break;
		if (hl_jstr(o, "push") && strcmp(hl_jstr(o, "push"), "ack") == 0 && hl_jint(o, "alert.id") == alert)
			acks++;
	}
	cr_assert_eq(acks, 1, "the acknowledgement made while b's session was away was pushed %d times", acks);
}
