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

/* How many times the text occurs in the daemon's log so far. */
static int log_count(struct hl_d *d, const char *text)
{
	int n = 0;
	for (const char *p = hl_d_log(d); (p = strstr(p, text)); p += strlen(text))
		n++;
	return n;
}

/* Wait until b's cluster session has come up `times` times in all. */
static void await_session_up(struct hl_d *b, int times)
{
	int64_t end = hl_now_ms() + 10000;
	while (log_count(b, "cluster: session up as") < times && hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_geq(log_count(b, "cluster: session up as"), times, "b's cluster session never came up");
	hl_sleep_ms(500); /* its catch-up is answered */
}

/* A subscriber that joins while the session is away gets, in its replay, the
 * open alerts the other daemons raised meanwhile; the catch-up at the
 * session's return pushed them to it a second time (to the subscribers that
 * were there before the cut it is their first time). */
HL_TEST(cluster_away, a_subscriber_that_joined_while_the_session_was_away_gets_each_alert_once)
{
	struct pgproxy *x = pgproxy_start();
	struct hl_d *a = hl_d_up(&opts);
	struct hl_e2e_opts ob = opts;
	ob.no_start = true;
	struct hl_d *b = hl_d_up_peer(a, &ob);
	pgproxy_route(x, b);
	hl_d_start(b);
	struct hl_conn *ca = hl_conn_unix(a), *before = hl_subscribe(b, 0);
	await_session_up(b, 1);

	pgproxy_cut_session(x, true);
	int64_t k = hl_ev(ca, "\"type\":\"call.offered\",\"call_id\":\"away-join\",\"caller\":\"+8613700000045\"");
	hl_ev(ca, "\"type\":\"call.abandoned\",\"call_id\":\"away-join\"");
	int64_t end = hl_now_ms() + 10000, n = 0;
	while ((n = hl_sql_int(a, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)k)) < 1 &&
	       hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_eq(n, 1, "a never raised the alert");

	/* b's store is connected: the new subscriber's replay has the alert */
	struct hl_conn *joined = hl_subscribe(b, 0);
	struct hl_pushes pj = { .n = 0 }, pb = { .n = 0 };
	cr_assert(hl_await_push(joined, &pj, "callback_overdue", k, 1, 5000), "the replay lacks the alert");

	pgproxy_unblock_session(x);
	await_session_up(b, 2);
	cr_assert(hl_await_push(before, &pb, "callback_overdue", k, 1, 10000),
	          "the subscriber from before the cut never got the alert");
	hl_collect_pushes(joined, &pj, 1500);
	hl_collect_pushes(before, &pb, 200);
	cr_expect_eq(hl_count_pushes(&pj, "callback_overdue", k), 1,
	             "the subscriber that joined while the session was away got the alert %d times",
	             hl_count_pushes(&pj, "callback_overdue", k));
	cr_expect_eq(hl_count_pushes(&pb, "callback_overdue", k), 1);
}

/* Acks to push at a return are those of alerts this daemon showed.  The
 * catch-up took every alert acknowledged within the time the session was
 * away (plus 10 s) by acked_at, which is the acknowledging daemon's clock:
 * a peer whose clock runs ahead made its old acknowledgements look recent,
 * and they were pushed again to subscribers that never saw those alerts
 * (and one whose clock runs behind had its acks missed). */
HL_TEST(cluster_away, old_acks_are_not_pushed_again_on_a_return)
{
	struct pgproxy *x = pgproxy_start();
	struct hl_d *a = hl_d_up(&opts);
	struct hl_conn *ca = hl_conn_unix(a), *wa = hl_subscribe(a, 0);
	struct hl_pushes pa = { .n = 0 };

	/* an alert raised and acknowledged before b starts, by a peer whose clock runs an hour ahead */
	int64_t k = hl_ev(ca, "\"type\":\"call.offered\",\"call_id\":\"away-old\",\"caller\":\"+8613700000046\"");
	hl_ev(ca, "\"type\":\"call.abandoned\",\"call_id\":\"away-old\"");
	const struct hl_push *p = hl_await_push(wa, &pa, "callback_overdue", k, 1, 8000);
	cr_assert(p, "no alert");
	int64_t old = p->id;
	json_object *r = hl_requestf(ca, "{\"type\":\"alert.ack\",\"id\":\"%s\",\"alert_id\":%lld,\"by\":\"sup\"}",
	                             hl_uid("ack"), (long long)old);
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	hl_sql(a, "UPDATE hotline.alerts SET acked_at = now() + interval '1 hour' WHERE id = %lld",
	       (long long)old);

	struct hl_e2e_opts ob = opts;
	ob.no_start = true;
	struct hl_d *b = hl_d_up_peer(a, &ob);
	pgproxy_route(x, b);
	hl_d_start(b);
	struct hl_conn *w = hl_subscribe(b, 0);
	await_session_up(b, 1);
	/* a second alert b's watcher sees, acknowledged while b's session is away */
	int64_t k2 = hl_ev(ca, "\"type\":\"call.offered\",\"call_id\":\"away-new\",\"caller\":\"+8613700000047\"");
	hl_ev(ca, "\"type\":\"call.abandoned\",\"call_id\":\"away-new\"");
	int64_t fresh = 0, end = hl_now_ms() + 10000;
	while (!fresh && hl_now_ms() < end) {
		json_object *o = hl_recv_json(w, (int)(end - hl_now_ms()));
		if (o && hl_jstr(o, "push") && strcmp(hl_jstr(o, "push"), "alert") == 0 && hl_jint(o, "alert.case_id") == k2)
			fresh = hl_jint(o, "alert.id");
	}
	cr_assert(fresh, "b's watcher never saw the second alert");

	pgproxy_cut_session(x, true);
	hl_sleep_ms(300);
	r = hl_requestf(ca, "{\"type\":\"alert.ack\",\"id\":\"%s\",\"alert_id\":%lld,\"by\":\"sup\"}", hl_uid("ack"),
	                (long long)fresh);
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	hl_sleep_ms(300);
	pgproxy_unblock_session(x);
	await_session_up(b, 2);

	int acks_old = 0, acks_new = 0;
	end = hl_now_ms() + 1500;
	while (hl_now_ms() < end) {
		json_object *o = hl_recv_json(w, (int)(end - hl_now_ms()));
		if (!o)
			break;
		if (hl_jstr(o, "push") && strcmp(hl_jstr(o, "push"), "ack") == 0) {
			acks_old += hl_jint(o, "alert.id") == old;
			acks_new += hl_jint(o, "alert.id") == fresh;
		}
	}
	cr_expect_eq(acks_new, 1, "the acknowledgement made while b's session was away was pushed %d times", acks_new);
	cr_expect_eq(acks_old, 0, "an acknowledgement made before b started was pushed %d times on the return",
	             acks_old);
}

/* The session lost between an alert's notification and the answer to its
 * fetch: the alert counted as pushed from the notification on, so the
 * catch-up at the return skipped it, and it never reached b's subscribers.
 * A pair counts as pushed once it is pushed. */
HL_TEST(cluster_away, an_alert_whose_fetch_was_lost_with_the_session_is_pushed_on_its_return)
{
	struct pgproxy *x = pgproxy_start();
	/* an alert a's own batch raises (not a timer, which may be b's slot's) */
	struct hl_e2e_opts oa = opts;
	oa.top = "cluster = { takeover = \"2s\"; }; alerts = { transfer_limit = 1; };";
	struct hl_d *a = hl_d_up(&oa);
	struct hl_e2e_opts ob = oa;
	ob.no_start = true;
	struct hl_d *b = hl_d_up_peer(a, &ob);
	pgproxy_route(x, b);
	hl_d_start(b);
	struct hl_conn *ca = hl_conn_unix(a), *sub = hl_subscribe(b, 0);
	await_session_up(b, 1);

	pgproxy_cut_session_after_alert(x);
	int64_t k = hl_ev(ca, "\"type\":\"call.offered\",\"call_id\":\"away-fetch\",\"caller\":\"+8613700000048\"");
	hl_ev(ca, "\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"roads\"", (long long)k);
	hl_ev(ca, "\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"water\"", (long long)k);
	int64_t end = hl_now_ms() + 10000;
	while (!atomic_load(&x->block_session) && hl_now_ms() < end)
		hl_sleep_ms(50);
	cr_assert(atomic_load(&x->block_session), "no alert notification reached b's session");
	hl_sleep_ms(300);
	pgproxy_unblock_session(x);
	await_session_up(b, 2);

	struct hl_pushes ps = { .n = 0 };
	cr_assert(hl_await_push(sub, &ps, "transfer_loop", k, 1, 5000),
	          "the alert whose fetch was lost with the session never reached b's subscriber");
	hl_collect_pushes(sub, &ps, 1000);
	cr_expect_eq(hl_count_pushes(&ps, "transfer_loop", k), 1);
}
