/*
 * test_cluster_stats.c - what `stats` says about the clocks of a cluster
 * (contract section 9: "`stats` shows which clocks the daemon owns and the
 * peers it sees").
 *
 * Every daemon keeps in memory the clocks of other daemons' slots too (all it
 * loaded at start, and those its own events armed), so `pending_clocks` is
 * neither what it runs nor the same on two daemons.  `cluster.clocks_owned`
 * is what it runs: across the live daemons these add up to every pending
 * clock in the database, each counted once, and each daemon's number is the
 * pending clocks of the slots it lists in `cluster.owned`.  The per-kind
 * `pending_clocks` also names the work orders' sign and reply clocks, so the
 * kinds add up to `pending_clocks_total`.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

TestSuite(cluster_stats, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 120);

static json_object *stats_of(struct hl_d *d)
{
	struct hl_conn *c = hl_conn_unix(d);
	json_object *r = hl_requestf(c, "{\"type\":\"stats\",\"id\":\"%s\"}", hl_uid("st"));
	hl_conn_close(c);
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	return hl_jget(r, "stats");
}

static bool balanced(struct hl_d *a, struct hl_d *b, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	while (hl_now_ms() < end) {
		int64_t oa = hl_jint(stats_of(a), "cluster.slots_owned"), ob = hl_jint(stats_of(b), "cluster.slots_owned");
		if (oa > 0 && ob > 0 && oa + ob == 64)
			return true;
		hl_sleep_ms(100);
	}
	return false;
}

/* Pending clocks in the database (case clocks and order clocks) of the cases
 * whose slot is in `owned` ("0,2,4-7"), or of every case when owned is NULL. */
static int64_t db_pending(struct hl_d *d, const char *owned)
{
	char in[400] = "true";
	if (owned) {
		/* "0,4-6" -> "s IN (-1,0,4,5,6)" */
		size_t n = (size_t)snprintf(in, sizeof in, "s IN (-1");
		for (const char *p = owned; *p;) {
			int lo, hi, used = 0;
			if (sscanf(p, "%d-%d%n", &lo, &hi, &used) == 2 && used > 0)
				;
			else if (sscanf(p, "%d%n", &lo, &used) == 1)
				hi = lo;
			else
				break;
			for (int k = lo; k <= hi && n < sizeof in - 8; k++)
				n += (size_t)snprintf(in + n, sizeof in - n, ",%d", k);
			p += used;
			if (*p == ',')
				p++;
		}
		snprintf(in + n, sizeof in - n, ")");
	}
	return hl_sql_int(d,
	                  "SELECT (SELECT count(*) FROM (SELECT case_id %% 64 AS s FROM hotline.clocks"
	                  " WHERE state = 'pending') x WHERE %s)"
	                  " + (SELECT count(*) FROM (SELECT case_id %% 64 AS s FROM hotline.orders"
	                  " WHERE sign_state = 'pending') x WHERE %s)"
	                  " + (SELECT count(*) FROM (SELECT case_id %% 64 AS s FROM hotline.orders"
	                  " WHERE reply_state = 'pending') x WHERE %s)",
	                  in, in, in);
}

HL_TEST(cluster_stats, each_daemon_counts_the_clocks_of_its_own_slots)
{
	static const struct hl_e2e_opts slow = {
		.sla = "callback = \"1h\"; warn_at = 0;",
		.top = "cluster = { takeover = \"2s\"; }; orders = { sign = \"1h\"; reply = \"2h\"; urge_after = \"1h\"; };",
	};
	struct hl_d *a = hl_d_up(&slow);
	struct hl_d *b = hl_d_up_peer(a, &slow);
	cr_assert(balanced(a, b, 15000), "the two daemons never shared the 64 slots");
	/* every case through a: a keeps all their clocks, b only its slots' */
	struct hl_conn *ca = hl_conn_unix(a);
	for (int i = 0; i < 24; i++) {
		json_object *r = hl_requestf(ca, "{\"type\":\"call.abandoned\",\"id\":\"%s\",\"call_id\":\"cs-%d\","
		                                 "\"caller\":\"+86137%08d\"}", hl_uid("ab"), i, i);
		cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
		if (i % 2)
			continue;
		r = hl_requestf(ca, "{\"type\":\"order.dispatch\",\"id\":\"%s\",\"case_id\":%lld,\"department\":\"roads\"}",
		                hl_uid("od"), (long long)hl_jint(r, "case_id"));
		cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	}
	int64_t total = db_pending(a, NULL);
	cr_assert_gt(total, 24 * 2, "callback and resolution per case, sign and reply per order");
	json_object *sa = stats_of(a), *sb = stats_of(b);
	int64_t oa = hl_jint(sa, "cluster.clocks_owned"), ob = hl_jint(sb, "cluster.clocks_owned");
	fprintf(stderr, "cluster_stats: %lld pending; a owns %lld (knows %lld), b owns %lld (knows %lld)\n",
	        (long long)total, (long long)oa, (long long)hl_jint(sa, "pending_clocks_total"), (long long)ob,
	        (long long)hl_jint(sb, "pending_clocks_total"));
	cr_expect(json_object_object_get_ex(hl_jget(sa, "cluster"), "clocks_owned", NULL), "no cluster.clocks_owned");
	cr_expect_eq(oa + ob, total, "the owned clocks of the two daemons are every pending clock once");
	cr_expect_eq(oa, db_pending(a, hl_jstr(sa, "cluster.owned")), "a: the pending clocks of its slots");
	cr_expect_eq(ob, db_pending(a, hl_jstr(sb, "cluster.owned")), "b: the pending clocks of its slots");
	/* the kinds add up to the total: the orders' clocks are named */
	json_object *pc = hl_jget(sa, "pending_clocks");
	int64_t sum = 0;
	json_object_object_foreach(pc, k, v)
	{
		if (strcmp(k, "escalation") != 0)
			sum += json_object_get_int64(v);
	}
	cr_expect_eq(hl_jint(sa, "pending_clocks.order_sign"), 12, "%s", json_object_to_json_string(pc));
	cr_expect_eq(hl_jint(sa, "pending_clocks.order_reply"), 12, "%s", json_object_to_json_string(pc));
	cr_expect_eq(sum, hl_jint(sa, "pending_clocks_total"), "%s", json_object_to_json_string(pc));
}
