/*
 * test_pipeline.c - back-to-back batches on the store's one pipelined
 * connection see each other's rows.
 *
 * Small batches (batch_max 10) and several connections writing at once keep
 * a batch queued while the previous one commits.  If a batch's rules saw a
 * world without the previous batch's rows (a stale in-memory world, a load
 * sent before the previous COMMIT), a caller whose first call was in batch N
 * would get a second case from batch N+1, or a call would be stored twice;
 * so: every caller has exactly one case, every event and every call is
 * stored once, and each answer names that one case.  (A guard for any
 * change that overlaps one batch's load with the previous batch's commit,
 * issue 15.)
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(pipeline, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 120);

enum { CONNS = 4, PER_CONN = 250, CALLERS = 7 };

HL_TEST(pipeline, back_to_back_batches_see_each_others_rows)
{
	struct hl_e2e_opts o = { .database = "batch_max = 10;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c[CONNS];
	const char *prefix = hl_uid("pl");
	char prefix_copy[64];
	snprintf(prefix_copy, sizeof prefix_copy, "%s", prefix);

	for (int i = 0; i < CONNS; i++)
		c[i] = hl_conn_unix(d);
	/* every connection writes all its lines at once: batches queue up */
	for (int i = 0; i < CONNS; i++) {
		size_t cap = (size_t)PER_CONN * 200, len = 0;
		char *buf = malloc(cap);
		cr_assert(buf);
		for (int k = 0; k < PER_CONN; k++) {
			int n = snprintf(buf + len, cap - len,
			                 "{\"type\":\"call.offered\",\"id\":\"%s-%d-%d\",\"call_id\":\"%s-call-%d-%d\","
			                 "\"caller\":\"+8613955500%03d\",\"queue\":\"pipeline\"}\n",
			                 prefix_copy, i, k, prefix_copy, i, k, (i * PER_CONN + k) % CALLERS);
			cr_assert(n > 0 && (size_t)n < cap - len);
			len += (size_t)n;
		}
		cr_assert_eq(hl_send_raw(c[i], buf, len), 0);
		free(buf);
	}
	int64_t case_of[CALLERS] = {0};
	for (int i = 0; i < CONNS; i++) {
		for (int k = 0; k < PER_CONN; k++) {
			json_object *r = hl_recv_json(c[i], HL_TIMEOUT_MS);
			cr_assert(r, "connection %d: no answer %d", i, k);
			cr_assert(hl_jbool(r, "ok"), "not ok: %s", json_object_to_json_string(r));
			cr_assert_not(hl_jbool(r, "duplicate"), "a first event answered duplicate: %s",
			              json_object_to_json_string(r));
			int caller = (i * PER_CONN + k) % CALLERS;
			int64_t id = hl_jint(r, "case_id");
			if (!case_of[caller])
				case_of[caller] = id;
			cr_assert_eq(id, case_of[caller], "caller %d: case %lld, then case %lld", caller,
			             (long long)case_of[caller], (long long)id);
		}
	}
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases WHERE caller LIKE '+8613955500%%'"), CALLERS,
	             "one case per caller");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id LIKE '%s-%%'", prefix_copy),
	             CONNS * PER_CONN, "every event stored once");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id LIKE '%s-call-%%'", prefix_copy),
	             CONNS * PER_CONN, "every call stored once");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.callers WHERE caller LIKE '+8613955500%%'"), CALLERS);
	json_object *s = hl_requestf(c[0], "{\"type\":\"stats\",\"id\":\"%s\"}", hl_uid("st"));
	cr_assert_geq(hl_jint(s, "stats.batches"), CONNS * PER_CONN / 10, "batch_max 10: %lld batches",
	              (long long)hl_jint(s, "stats.batches"));
	cr_assert_eq(hl_jint(s, "stats.batch_failures"), 0);
	for (int i = 0; i < CONNS; i++)
		hl_conn_close(c[i]);
}
