/*
 * test_cluster_acks.c - an acknowledgement reaches the watchers of every
 * daemon of a cluster (contract sections 7 and 9).
 *
 * The wallboard shows open alerts and takes an acknowledged one down when
 * its stream says `event: ack` (socket subscribers: {"push":"ack"}).  With
 * several daemons behind one name, the supervisor who acknowledges may be on
 * another daemon than the wall screen; before, only the daemon that committed
 * the acknowledgement told its own watchers, so the other screens kept the
 * alert until reloaded.  The same for hotline.ack_alert in psql, whose NOTIFY
 * hotline_alert_ack no daemon listened to.  Each watcher must get the ack
 * exactly once, whichever way it was made.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

TestSuite(cluster_acks, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 120);

static bool balanced(struct hl_d *a, struct hl_d *b, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	while (hl_now_ms() < end) {
		struct hl_conn *ca = hl_conn_unix(a), *cb = hl_conn_unix(b);
		json_object *ra = hl_requestf(ca, "{\"type\":\"stats\",\"id\":\"%s\"}", hl_uid("st"));
		json_object *rb = hl_requestf(cb, "{\"type\":\"stats\",\"id\":\"%s\"}", hl_uid("st"));
		int64_t oa = hl_jint(ra, "stats.cluster.slots_owned"), ob = hl_jint(rb, "stats.cluster.slots_owned");
		hl_conn_close(ca), hl_conn_close(cb);
		if (oa > 0 && ob > 0 && oa + ob == 64)
			return true;
		hl_sleep_ms(100);
	}
	return false;
}

/* How many {"push":"ack"} for alert id arrive on s within ms (alert pushes are skipped). */
static int acks_for(struct hl_conn *s, int64_t id, int ms)
{
	int n = 0;
	int64_t end = hl_now_ms() + ms;
	for (int64_t left = ms; left > 0; left = end - hl_now_ms()) {
		json_object *o = hl_recv_json(s, (int)left);
		if (!o)
			break;
		const char *push = hl_jstr(o, "push");
		if (push && strcmp(push, "ack") == 0 && hl_jint(o, "alert.id") == id) {
			cr_expect(hl_jstr(o, "alert.acked_at") && hl_jstr(o, "alert.acked_by"), "%s",
			          json_object_to_json_string(o));
			n++;
		}
	}
	return n;
}

static int64_t overdue_alert(struct hl_conn *c, struct hl_conn *watch, const char *tag)
{
	json_object *r = hl_requestf(c, "{\"type\":\"call.abandoned\",\"id\":\"%s\",\"call_id\":\"%s\",\"caller\":"
	                                "\"+8613700000%03d\"}", hl_uid(tag), hl_uid(tag), (int)(hl_now_ms() % 1000));
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	static struct hl_pushes ps;
	memset(&ps, 0, sizeof ps);
	const struct hl_push *p = hl_await_push(watch, &ps, "callback_overdue", hl_jint(r, "case_id"), 1, 10000);
	cr_assert(p, "no callback_overdue for case %lld", (long long)hl_jint(r, "case_id"));
	return p->id;
}

HL_TEST(cluster_acks, an_ack_on_one_daemon_reaches_the_watchers_of_the_other)
{
	static const struct hl_e2e_opts opts = {
		.sla = "callback = \"1s\"; warn_at = 0;",
		.escalation = "after = \"1h\";",
		.top = "cluster = { takeover = \"2s\"; };",
	};
	struct hl_d *a = hl_d_up(&opts);
	struct hl_d *b = hl_d_up_peer(a, &opts);
	cr_assert(balanced(a, b, 15000), "the two daemons never shared the 64 slots");
	struct hl_conn *sa = hl_subscribe(a, -1), *sb = hl_subscribe(b, -1);
	struct hl_conn *cb = hl_conn_unix(b);

	/* through b's socket: a's watcher hears of it too, once; b's own once */
	int64_t id = overdue_alert(cb, sa, "k1");
	json_object *r = hl_requestf(cb, "{\"type\":\"alert.ack\",\"id\":\"%s\",\"alert_id\":%lld,\"by\":\"sam\"}",
	                             hl_uid("ack"), (long long)id);
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	int on_a = acks_for(sa, id, 2500), on_b = acks_for(sb, id, 300);
	cr_expect_eq(on_a, 1, "a's subscriber got %d acks of alert %lld acknowledged through b", on_a, (long long)id);
	cr_expect_eq(on_b, 1, "b's subscriber got %d acks of alert %lld acknowledged through b", on_b, (long long)id);

	/* in psql (hotline.ack_alert): both daemons' watchers */
	id = overdue_alert(cb, sa, "k2");
	cr_assert_eq(hl_sql_int(a, "SELECT hotline.ack_alert(%lld, 'pat')::int", (long long)id), 1);
	on_a = acks_for(sa, id, 2500), on_b = acks_for(sb, id, 300);
	cr_expect_eq(on_a, 1, "a's subscriber got %d acks of alert %lld acknowledged in psql", on_a, (long long)id);
	cr_expect_eq(on_b, 1, "b's subscriber got %d acks of alert %lld acknowledged in psql", on_b, (long long)id);
}
