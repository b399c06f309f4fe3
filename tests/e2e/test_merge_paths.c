/*
 * test_merge_paths.c - a merged case's caller is owed a call back however the
 * case it was merged into gets resolved (CONTRACT.md 6, case.merge).
 *
 * Design.  test_orders.c's merge test resolves the surviving case with
 * case.resolve, an event that names the case.  The contract's other ways to
 * resolve a case name it only indirectly: order.reply (result "resolved",
 * through its order_id) and call.ended (outcome "resolved", through its
 * call_id).  A batch loads the cases merged into the cases it names by id,
 * so these two paths must bring the merged cases in too, or their callers
 * are silently never called back.  The clocks table is the ground truth.
 */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(merge_paths, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 60);

#define LONG_SLA "callback = \"1h\"; update = \"0\"; resolution = \"1h\";"

static json_object *ok(struct hl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_object *ok(struct hl_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_object *r = hl_vrequest_new(c, "m", fmt, ap);
	va_end(ap);
	cr_assert(hl_jbool(r, "ok"), "refused: %s", json_object_to_json_string(r));
	return r;
}

static int64_t offer(struct hl_conn *c, const char *call_id, const char *caller)
{
	return hl_jint(ok(c, "\"type\":\"call.offered\",\"call_id\":\"%s\",\"caller\":\"%s\"", call_id, caller), "case_id");
}

static void merge(struct hl_conn *c, int64_t id, int64_t into)
{
	ok(c, "\"type\":\"case.merge\",\"case_id\":%lld,\"into\":%lld", (long long)id, (long long)into);
}

static void assert_owed(struct hl_d *d, int64_t id, const char *how)
{
	char *st = hl_sql_text(d, "SELECT coalesce((SELECT state FROM hotline.clocks WHERE case_id = %lld"
	                          " AND kind = 'callback'), 'none')", (long long)id);
	cr_assert_str_eq(st, "pending", "merged case %lld: callback %s after its case was resolved by %s",
	                 (long long)id, st, how);
}

HL_TEST(merge_paths, order_reply_resolved_owes_merged_callers)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t main_case = offer(c, "mp-1", "+8613500000101"), dup = offer(c, "mp-2", "+8613500000102");
	merge(c, dup, main_case);
	ok(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"order_id\":\"mp-wo\",\"department\":\"water\"",
	   (long long)main_case);
	ok(c, "\"type\":\"order.reply\",\"order_id\":\"mp-wo\",\"result\":\"resolved\"");
	cr_assert_str_eq(hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)main_case),
	                 "resolved");
	assert_owed(d, dup, "order.reply");
}

HL_TEST(merge_paths, call_ended_resolved_owes_merged_callers)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t main_case = offer(c, "mp-3", "+8613500000103"), dup = offer(c, "mp-4", "+8613500000104");
	merge(c, dup, main_case);
	ok(c, "\"type\":\"call.answered\",\"call_id\":\"mp-3\",\"agent\":\"a1\"");
	ok(c, "\"type\":\"call.ended\",\"call_id\":\"mp-3\",\"outcome\":\"resolved\"");
	cr_assert_str_eq(hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)main_case),
	                 "resolved");
	assert_owed(d, dup, "call.ended");
}

/* The caller of the surviving case calls again and the call, offered,
 * answered and ended "resolved" in one batch, joins that case: the batch
 * names neither the case nor a stored call, only the caller. */
HL_TEST(merge_paths, new_call_resolving_in_one_batch_owes_merged_callers)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t main_case = offer(c, "mp-5", "+8613500000105"), dup = offer(c, "mp-6", "+8613500000106");
	merge(c, dup, main_case);
	ok(c, "\"type\":\"call.ended\",\"call_id\":\"mp-5\",\"outcome\":\"info\"");
	int64_t before = hl_jint(ok(c, "\"type\":\"stats\""), "stats.batches");
	char lines[768];
	int n = snprintf(lines, sizeof lines,
	                 "{\"id\":\"%s\",\"type\":\"call.offered\",\"call_id\":\"mp-7\",\"caller\":\"+8613500000105\"}\n"
	                 "{\"id\":\"%s\",\"type\":\"call.answered\",\"call_id\":\"mp-7\",\"agent\":\"a1\"}\n"
	                 "{\"id\":\"%s\",\"type\":\"call.ended\",\"call_id\":\"mp-7\",\"outcome\":\"resolved\"}\n",
	                 hl_uid("m"), hl_uid("m"), hl_uid("m"));
	cr_assert_eq(hl_send_raw(c, lines, (size_t)n), 0);
	for (int i = 0; i < 3; i++) {
		json_object *r = hl_recv_json(c, 10000);
		cr_assert(r && hl_jbool(r, "ok") && hl_jint(r, "case_id") == main_case, "%s", json_object_to_json_string(r));
	}
	cr_assert_eq(hl_jint(ok(c, "\"type\":\"stats\""), "stats.batches") - before, 1, "one batch for the three");
	cr_assert_str_eq(hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)main_case),
	                 "resolved");
	assert_owed(d, dup, "a new call's call.ended");
}

/* case.reopen applies to a resolved or closed case (docs/rules.md); on a
 * merged case it is recorded only, and so is the reopen a survey score of 2
 * or less makes.  Before, either made the merged case `open` with its
 * merged_into kept: resolving the case it was merged into then no longer owed
 * its caller the call back, and nobody saw why. */
HL_TEST(merge_paths, reopen_or_bad_survey_of_a_merged_case_keeps_its_caller_owed)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t main_case = offer(c, "mp-8", "+8613500000108"), dup = offer(c, "mp-9", "+8613500000109"),
	        dup2 = offer(c, "mp-10", "+8613500000110");
	merge(c, dup, main_case);
	merge(c, dup2, main_case);
	ok(c, "\"type\":\"case.reopen\",\"case_id\":%lld,\"reason\":\"caller insists\"", (long long)dup);
	ok(c, "\"type\":\"survey.result\",\"case_id\":%lld,\"score\":1", (long long)dup2);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'dissatisfied' AND case_id = %lld",
	                        (long long)dup2), 1, "the low score is still alerted");
	for (int i = 0; i < 2; i++) {
		int64_t id = i ? dup2 : dup;
		cr_expect_str_eq(hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)id), "merged",
		                 "case %lld left the merge", (long long)id);
	}
	ok(c, "\"type\":\"case.resolve\",\"case_id\":%lld", (long long)main_case);
	assert_owed(d, dup, "case.resolve after a reopen of the merged case");
	assert_owed(d, dup2, "case.resolve after a low survey score of the merged case");
}
