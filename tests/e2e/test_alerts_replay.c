/*
 * test_alerts_replay.c - end-to-end tests of what a subscriber is sent
 * (suite `alerts`; docs/protocol.md section 2, `subscribe`): the open alerts
 * replayed after `since`, then live ones; a reconnect that resumes from the
 * last id seen misses nothing; an alert raised while a subscribe is in
 * flight arrives exactly once; and the replay is bounded by
 * listen.max_output and alerts.replay_max, with a `replay` line counting
 * what was left out (issue 16.1).  How alerts are raised and escalated is
 * in test_alerts.c; the helpers both files use are in alerts_helpers.h.
 *
 * Design.  A real hotlined (see harness.h); alerts are raised at once by
 * transfer_loop (transfer_limit = 1) where only ids and ordering matter, by
 * callback clocks of a second where alerts must fall due while nobody
 * listens, or inserted straight into hotline.alerts where a replay needs
 * thousands.  The pushes a subscriber read are compared with the rows of
 * hotline.alerts, the ground truth.
 */
#include "alerts_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(alerts, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 60);

/* ---------------------------------------------------------------- helpers */

/* Read pushes until none arrives for quiet_ms (the replay after subscribe). */
static void drain(struct hl_conn *s, struct hl_pushes *ps, int quiet_ms)
{
	while (hl_read_push(s, ps, quiet_ms))
		;
}

/* ------------------------------------------------------------- subscribe */

/* since = N replays the open alerts with id > N, in order, then pushes live */
HL_TEST(alerts, subscribe_since_replays_open_then_live)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .top = "alerts = { transfer_limit = 1; };" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t ids[4], cases[4];
	for (int i = 0; i < 4; i++)
		ids[i] = transfer_loop_alert(d, c, "rp", i, &cases[i]);
	for (int i = 1; i < 4; i++)
		cr_assert_gt(ids[i], ids[i - 1], "alert ids ascend");
	json_object *r = ack(c, ids[2], "sup");
	cr_assert(hl_jbool(r, "ok"));

	/* since = first: the 2nd and the 4th (the 3rd is acknowledged) */
	struct hl_conn *s = hl_subscribe(d, ids[0]);
	struct hl_pushes ps = { .n = 0 };
	drain(s, &ps, 400);
	cr_assert_eq(ps.n, 2, "replay of %d alerts, want 2", ps.n);
	cr_expect_eq(ps.p[0].id, ids[1]);
	cr_expect_eq(ps.p[1].id, ids[3]);
	cr_expect_str_eq(ps.p[0].kind, "transfer_loop");
	cr_expect_eq(ps.p[0].case_id, cases[1]);

	/* no since: every open alert */
	struct hl_conn *all = hl_subscribe(d, -1);
	struct hl_pushes pa = { .n = 0 };
	drain(all, &pa, 400);
	cr_assert_eq(pa.n, 3, "replay without since: %d alerts, want 3", pa.n);
	cr_expect(pa.p[0].id == ids[0] && pa.p[1].id == ids[1] && pa.p[2].id == ids[3], "open alerts in id order");

	/* since = the newest: nothing */
	struct hl_conn *none = hl_subscribe(d, ids[3]);
	struct hl_pushes pn = { .n = 0 };
	drain(none, &pn, 400);
	cr_expect_eq(pn.n, 0, "nothing after the newest id");

	/* then live, on every subscriber, exactly once */
	int64_t live_case;
	int64_t live = transfer_loop_alert(d, c, "rp", 9, &live_case);
	struct hl_pushes *lists[3] = { &ps, &pa, &pn };
	struct hl_conn *subs[3] = { s, all, none };
	for (int i = 0; i < 3; i++) {
		const struct hl_push *p = hl_await_push(subs[i], lists[i], "transfer_loop", live_case, 0, 3000);
		cr_assert(p, "live alert not pushed to subscriber %d", i);
		cr_expect_eq(p->id, live);
		hl_collect_pushes(subs[i], lists[i], i == 0 ? 200 : 0);
		cr_expect_eq(hl_count_pushes(lists[i], NULL, live_case), 1, "pushed once to subscriber %d", i);
	}
}

/* disconnect, let alerts fall due, reconnect with since = last id: exactly the missed ones */
HL_TEST(alerts, replay_after_reconnect_misses_nothing)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .top = "alerts = { transfer_limit = 1; };",
		.sla = "callback = \"1s\"; warn_at = 0; update = \"0\"; resolution = \"1h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_pushes ps = { .n = 0 };
	int64_t p_case;
	transfer_loop_alert(d, c, "rc", 1, &p_case);
	int64_t q_case = abandoned_case(c, "rc", 2, hl_wall_ms());
	cr_assert(hl_await_push(s, &ps, "transfer_loop", p_case, 0, 3000));
	cr_assert(hl_await_push(s, &ps, "callback_overdue", q_case, 0, 5000));
	int64_t last = 0;
	for (int i = 0; i < ps.n; i++)
		if (ps.p[i].id > last)
			last = ps.p[i].id;
	hl_conn_close(s);

	/* while nobody listens: two clocks fall due and one alert is raised at once */
	int64_t t1 = hl_wall_ms();
	int64_t r_case = abandoned_case(c, "rc", 3, t1);
	int64_t s_case = abandoned_case(c, "rc", 4, t1);
	int64_t t_case;
	transfer_loop_alert(d, c, "rc", 5, &t_case);
	char q[256];
	snprintf(q, sizeof q, "SELECT count(*) FROM hotline.alerts WHERE kind = 'callback_overdue' AND case_id IN (%lld, %lld)",
	         (long long)r_case, (long long)s_case);
	cr_assert_eq(wait_count(d, 2, 5000, q), 2, "the clocks did not fall due");

	struct hl_conn *s2 = hl_subscribe(d, last);
	struct hl_pushes got = { .n = 0 };
	drain(s2, &got, 700);
	PGresult *want = hl_sql(d, "SELECT id, case_id FROM hotline.alerts WHERE id > %lld ORDER BY id", (long long)last);
	cr_assert_eq(PQntuples(want), 3, "three alerts raised while away");
	cr_assert_eq(got.n, 3, "replay has %d alerts, want exactly the 3 missed", got.n);
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(got.p[i].id, strtoll(PQgetvalue(want, i, 0), NULL, 10), "replay %d in id order", i);
		cr_expect_eq(got.p[i].case_id, strtoll(PQgetvalue(want, i, 1), NULL, 10));
		cr_expect_gt(got.p[i].id, last, "nothing already seen is replayed");
	}
	cr_expect_eq(hl_count_pushes(&got, "callback_overdue", r_case) + hl_count_pushes(&got, "callback_overdue", s_case) +
	             hl_count_pushes(&got, "transfer_loop", t_case), 3);

	/* and live again */
	int64_t u_case;
	transfer_loop_alert(d, c, "rc", 6, &u_case);
	cr_assert(hl_await_push(s2, &got, "transfer_loop", u_case, 0, 3000), "no live push after the replay");
}

/* an alert raised while a subscribe is in flight reaches the new subscriber
 * exactly once: by the replay or live, never both, never neither */
HL_TEST(alerts, subscribe_racing_a_new_alert_gets_it_once)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .top = "alerts = { transfer_limit = 1; };" });
	struct hl_conn *c = hl_conn_unix(d);
	for (int i = 0; i < 8; i++) {
		int64_t id = hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"race-%d\",\"caller\":\"+86134%08d\"", i, i);
		hl_ev(c, "\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"a\"", (long long)id);
		int64_t since = hl_sql_int(d, "SELECT coalesce(max(id), 0) FROM hotline.alerts");
		struct hl_conn *s = hl_conn_unix(d);
		/* both lines leave back to back, on two connections */
		cr_assert_eq(hl_sendf(s, "{\"type\":\"subscribe\",\"id\":\"race-sub-%d\",\"since\":%lld}", i,
		                      (long long)since), 0);
		cr_assert_eq(hl_sendf(c, "{\"type\":\"case.transfer\",\"id\":\"race-t-%d\",\"case_id\":%lld,"
		                         "\"department\":\"b\"}", i, (long long)id), 0);
		json_object *r = hl_recv_json(c, HL_TIMEOUT_MS);
		cr_assert(r && hl_jbool(r, "ok"), "transfer: %s", r ? json_object_to_json_string(r) : "(none)");
		r = hl_recv_json(s, HL_TIMEOUT_MS);
		cr_assert(r && hl_jbool(r, "ok"), "subscribe: %s", r ? json_object_to_json_string(r) : "(none)");
		struct hl_pushes ps = { .n = 0 };
		drain(s, &ps, 250);
		cr_expect_eq(hl_count_pushes(&ps, "transfer_loop", id), 1, "round %d: the new alert reached the subscriber %d times",
		             i, hl_count_pushes(&ps, "transfer_loop", id));
		cr_expect_eq(ps.n, 1, "round %d: %d pushes", i, ps.n);
		hl_conn_close(s);
	}
}

/* ------------------------------------------------- bounded replay (issue 16.1) */

/* Subscribe on a fresh connection and check the replay: ok, then (when
 * want_omitted > 0) a replay line, then `want_sent` alert pushes in id order
 * ending with last_id.  Returns the connection. */
static struct hl_conn *subscribe_bounded(struct hl_d *d, int64_t since, int64_t want_sent, int64_t want_omitted,
                                         int64_t last_id)
{
	struct hl_conn *s = hl_conn_unix(d);
	json_object *r = hl_requestf(s, "{\"type\":\"subscribe\",\"id\":\"%s\",\"since\":%lld}", hl_uid("sub"),
	                             (long long)since);
	cr_assert(hl_jbool(r, "ok"), "subscribe refused: %s", json_object_to_json_string(r));
	int64_t sent = want_sent, first_id = 0;
	if (want_omitted >= 0) {
		json_object *info = hl_recv_json(s, HL_TIMEOUT_MS);
		cr_assert(info && hl_jstr(info, "push") && strcmp(hl_jstr(info, "push"), "replay") == 0,
		          "no replay line: %s", info ? json_object_to_json_string(info) : "(nothing)");
		sent = hl_jint(info, "sent");
		first_id = hl_jint(info, "first_id");
		if (want_sent >= 0)
			cr_assert_eq(sent, want_sent);
		if (want_omitted > 0)
			cr_assert_eq(hl_jint(info, "omitted"), want_omitted);
		cr_assert_gt(hl_jint(info, "omitted"), 0);
		cr_assert_gt(sent, 0, "nothing replayed: %s", json_object_to_json_string(info));
	}
	struct hl_pushes ps = { .n = 0 };
	int64_t prev = 0;
	for (int64_t i = 0; i < sent; i++) {
		ps.n = 0;
		cr_assert(hl_read_push(s, &ps, HL_TIMEOUT_MS), "replay ended after %lld of %lld", (long long)i,
		          (long long)sent);
		if (i == 0 && first_id)
			cr_assert_eq(ps.p[0].id, first_id);
		cr_assert_gt(ps.p[0].id, prev, "replay not in id order");
		prev = ps.p[0].id;
	}
	cr_assert_eq(prev, last_id, "the replay must end with the newest open alert");
	return s;
}

/* More open alerts than listen.max_output lets one connection buffer: the
 * replay is cut to the newest that fit, says how many were left out, and the
 * subscriber stays registered and alive (it used to drop its own connection
 * and then register it: a use-after-free at the next alert). */
HL_TEST(alerts, subscribe_replay_bounded_by_max_output)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.listen = "max_output = 65536;", .top = "alerts = { transfer_limit = 1; };" });
	hl_sql(d, "INSERT INTO hotline.alerts (kind, caller, level, raised_at, dedupe_key, detail)"
	          " SELECT 'repeat_caller', '+8613900000000', 1, now(), 'bulk:' || g, repeat('x', 200)"
	          " FROM generate_series(1, 3000) g");
	int64_t last = hl_sql_int(d, "SELECT max(id) FROM hotline.alerts");
	struct hl_conn *s = subscribe_bounded(d, 0, -1, 0, last);
	/* every older open alert is counted, none replayed twice */
	struct hl_conn *s2 = subscribe_bounded(d, last - 5, 5, -1, last);
	/* both stay subscribers: a live alert reaches them (and the daemon survives) */
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id = 0;
	int64_t live = transfer_loop_alert(d, c, "bounded", 1, &case_id);
	struct hl_pushes ps = { .n = 0 }, ps2 = { .n = 0 };
	const struct hl_push *p = hl_await_push(s, &ps, "transfer_loop", case_id, 0, HL_TIMEOUT_MS);
	cr_assert(p && p->id == live, "live alert not pushed after a bounded replay");
	p = hl_await_push(s2, &ps2, "transfer_loop", case_id, 0, HL_TIMEOUT_MS);
	cr_assert(p && p->id == live);
	json_object *r = hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}");
	cr_assert(hl_jbool(r, "ok"));
}

/* alerts.replay_max bounds the replay by count: the newest N, the rest counted. */
HL_TEST(alerts, subscribe_replay_bounded_by_replay_max)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .top = "alerts = { replay_max = 10; };" });
	hl_sql(d, "INSERT INTO hotline.alerts (kind, caller, level, raised_at, dedupe_key)"
	          " SELECT 'repeat_caller', '+8613900000000', 1, now(), 'bulk:' || g"
	          " FROM generate_series(1, 250) g");
	int64_t last = hl_sql_int(d, "SELECT max(id) FROM hotline.alerts");
	hl_conn_close(subscribe_bounded(d, 0, 10, 240, last));
	/* resumable: since = an id inside the window replays only what follows it */
	hl_conn_close(subscribe_bounded(d, last - 3, 3, -1, last));
}
