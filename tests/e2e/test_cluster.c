/*
 * test_cluster.c - several daemons on one database (contract section 9).
 *
 * Every test starts two or three real hotlined processes on the SAME test
 * database (hl_d_up + hl_d_up_peer) and drives them through their sockets:
 * the same-caller race, alerts raised exactly once, alert fan-out to the
 * subscribers of another daemon, escalation levels, kill -9 of a clock owner
 * and its takeover, restart and rejoin.  Timings (takeover) are printed,
 * never asserted tightly: the machine is shared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(cluster, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 120);

#define CALLERS 12
#define PER_CALLER 6 /* events per caller through EACH daemon */

static const char *caller_no(int i)
{
	static char buf[8][24];
	static int n;
	char *b = buf[n++ % 8];
	snprintf(b, 24, "+4930555%04d", i);
	return b;
}

/* Send every offered call for every caller on both connections before reading
 * any answer, so batches of the two daemons overlap as much as they can. */
static void offer_all(struct hl_conn *c, const char *tag, int round)
{
	for (int k = 0; k < PER_CALLER; k++)
		for (int i = 0; i < CALLERS; i++)
			hl_sendf(c, "{\"type\":\"call.offered\",\"id\":\"%s-%d-%d-%d\",\"call_id\":\"%s-call-%d-%d-%d\","
			         "\"caller\":\"%s\"}", tag, round, i, k, tag, round, i, k, caller_no(i));
}

HL_TEST(cluster, same_caller_race_opens_one_case)
{
	struct hl_d *a = hl_d_up(NULL);
	struct hl_d *b = hl_d_up_peer(a, NULL);
	for (int round = 0; round < 3; round++) {
		struct hl_conn *ca = hl_conn_unix(a), *cb = hl_conn_unix(b);
		offer_all(ca, "a", round);
		offer_all(cb, "b", round);
		int64_t case_of[CALLERS] = {0};
		struct hl_conn *both[2] = { ca, cb };
		for (int side = 0; side < 2; side++)
			for (int k = 0; k < PER_CALLER; k++)
				for (int i = 0; i < CALLERS; i++) {
					json_object *r = hl_recv_json(both[side], HL_TIMEOUT_MS);
					cr_assert(r, "no answer from daemon %c", "ab"[side]);
					cr_assert(hl_jbool(r, "ok"), "event refused: %s", json_object_to_json_string(r));
					int64_t id = hl_jint(r, "case_id");
					cr_assert(id > 0);
					if (!case_of[i])
						case_of[i] = id;
					cr_assert_eq(id, case_of[i], "round %d caller %d: case %lld and case %lld", round, i,
					             (long long)case_of[i], (long long)id);
				}
		hl_conn_close(ca);
		hl_conn_close(cb);
		/* close every case, so the next round races to open a new one again */
		struct hl_conn *c = hl_conn_unix(round % 2 ? a : b);
		for (int i = 0; i < CALLERS; i++) {
			json_object *r = hl_requestf(c, "{\"type\":\"case.close\",\"id\":\"close-%d-%d\",\"case_id\":%lld}",
			                             round, i, (long long)case_of[i]);
			cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
		}
		hl_conn_close(c);
	}
	cr_assert_eq(hl_sql_int(a, "SELECT count(*) FROM hotline.cases"), 3 * CALLERS);
	cr_assert_eq(hl_sql_int(a, "SELECT max(n) FROM (SELECT count(*) n FROM hotline.cases GROUP BY caller) x"), 3);
	cr_assert_eq(hl_sql_int(a, "SELECT count(*) FROM hotline.calls"), 3 * CALLERS * PER_CALLER * 2);
	cr_assert_eq(hl_sql_int(a, "SELECT count(*) FROM hotline.calls l JOIN hotline.cases c ON c.id = l.case_id"
	                           " WHERE c.caller <> l.caller"), 0);
	cr_assert_eq(hl_sql_int(a, "SELECT count(*) FROM hotline.case_events"), 3 * CALLERS * (PER_CALLER * 2 + 1));
}
