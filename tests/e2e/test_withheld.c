/*
 * test_withheld.c - calls without a number through the socket and the
 * HTTP API, against the real daemon and PostgreSQL (docs/rules.md,
 * "Withheld numbers"; daemon/rules_withheld.c).
 *
 * Design.  A PBX's log holds calls whose caller id was withheld; the
 * figures are wrong without them, but nobody can call them back.  The
 * tables and the figures' views are the ground truth: each withheld call
 * is a case of its own with a caller "withheld:<16 hex>", counted in
 * calls_offered / calls_abandoned, owes no callback (no clock row), an
 * unanswered one is closed, and the rollup equals the recount.
 */
#include "harness.h"
#include "figures_helpers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(withheld, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 60);

#define SLA "callback = \"1h\"; update = \"1h\"; resolution = \"2h\";"

static json_object *ok(struct hl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_object *ok(struct hl_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_object *r = hl_vrequest_new(c, "w", fmt, ap);
	va_end(ap);
	cr_assert(hl_jbool(r, "ok"), "refused: %s", json_object_to_json_string(r));
	return r;
}


HL_TEST(withheld, withheld_calls_are_counted_apart_and_owe_no_callback)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = SLA });
	struct hl_conn *c = hl_conn_unix(d);
	/* two withheld callers, one abandons, one is answered and promised a follow-up */
	int64_t a = hl_jint(ok(c, "\"type\":\"call.offered\",\"call_id\":\"1733390000.1\",\"withheld\":true,\"queue\":\"q\""),
	                    "case_id");
	int64_t b = hl_jint(ok(c, "\"type\":\"call.offered\",\"call_id\":\"1733390000.2\",\"withheld\":true,\"queue\":\"q\""),
	                    "case_id");
	cr_assert_neq(a, b);
	ok(c, "\"type\":\"call.abandoned\",\"call_id\":\"1733390000.1\"");
	ok(c, "\"type\":\"call.answered\",\"call_id\":\"1733390000.2\",\"agent\":\"a1\"");
	ok(c, "\"type\":\"call.ended\",\"call_id\":\"1733390000.2\",\"outcome\":\"followup\"");
	/* an abandonment of a call never offered, withheld (a PBX's lone ABANDON) */
	int64_t e = hl_jint(ok(c, "\"type\":\"call.abandoned\",\"call_id\":\"1733390000.3\",\"withheld\":true"), "case_id");
	/* an id sent twice: a duplicate of the same case, nothing new */
	const char *dup = "{\"id\":\"w-dup\",\"type\":\"call.abandoned\",\"call_id\":\"1733390000.4\",\"withheld\":true}";
	int64_t f = hl_jint(hl_request(c, dup), "case_id");
	json_object *again = hl_request(c, dup);
	cr_assert(hl_jbool(again, "duplicate") && hl_jint(again, "case_id") == f, "%s", json_object_to_json_string(again));
	char want[256];

	cr_assert_str_eq(hl_sql_text(d, "SELECT string_agg(format('%%s %%s %%s', id, status, caller ~ '^withheld:[0-9a-f]{16}$'),"
	                                " ',' ORDER BY id) FROM hotline.cases"),
	                 (snprintf(want, sizeof want, "%lld closed t,%lld open t,%lld closed t,%lld closed t",
	                           (long long)a, (long long)b, (long long)e, (long long)f), want));
	cr_assert_str_eq(hl_sql_text(d, "SELECT count(*) FROM hotline.clocks WHERE kind = 'callback'"), "0",
	                 "no callback owed to a withheld number");
	cr_assert_str_eq(hl_sql_text(d, "SELECT concat_ws('|', sum(calls_offered), sum(calls_answered), sum(calls_abandoned),"
	                                " sum(callbacks_owed), sum(repeat_calls)) FROM hotline.daily_figures"),
	                 "4|1|3|0|0");
	cr_assert_str_eq(hl_sql_text(d, "%s", HL_ROLLUP_DIFF), "same");
	cr_assert_str_eq(hl_sql_text(d, "SELECT description FROM hotline.case_events WHERE case_id = %lld"
	                                " AND type = 'call.offered'", (long long)a),
	                 (snprintf(want, sizeof want, "call 1733390000.1 offered from a withheld number (queue q); case %lld"
	                           " opened; resolution armed, due in 2h; update armed, due in 1h", (long long)a), want));
	/* a contradiction is refused, and nothing of it is stored */
	json_object *r = hl_request(c, "{\"id\":\"w-x\",\"type\":\"call.offered\",\"call_id\":\"x\",\"withheld\":true,"
	                               "\"caller\":\"+8613800000001\"}");
	cr_assert(!hl_jbool(r, "ok"));
	cr_assert_str_eq(hl_sql_text(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 'x'"), "0");
}

/* Retention (sql/004, 044) anonymizes a closed case's calls: their caller
 * becomes "anon:<case id>".  The recount (figure_facts) found a repeat call
 * by the previous call of the same number; once the first call's case is
 * anonymized the second call of the day, in another case, was no repeat
 * any more for the recount, while the rollup (and every view reading it)
 * kept it: the two disagreed after every retention run, and
 * rebuild_figure_rollup() changed a past day's repeat_calls.  A withheld
 * call's case is anonymized like any other and counts the same. */
HL_TEST(withheld, retention_keeps_the_figures)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = SLA });
	struct hl_conn *c = hl_conn_unix(d);
	/* a first case of the number, closed before the next call */
	int64_t z = hl_jint(ok(c, "\"type\":\"call.offered\",\"call_id\":\"r0\",\"caller\":\"+8613800000021\",\"at\":\"%s\"",
	                       hl_iso_in(-5 * 3600)), "case_id");
	ok(c, "\"type\":\"case.close\",\"case_id\":%lld,\"at\":\"%s\"", (long long)z, hl_iso_in(-4 * 3600));
	int64_t a = hl_jint(ok(c, "\"type\":\"call.offered\",\"call_id\":\"r1\",\"caller\":\"+8613800000021\",\"at\":\"%s\"",
	                       hl_iso_in(-3 * 3600)), "case_id");
	ok(c, "\"type\":\"call.answered\",\"call_id\":\"r1\",\"agent\":\"a1\",\"at\":\"%s\"", hl_iso_in(-3 * 3600 + 10));
	ok(c, "\"type\":\"call.ended\",\"call_id\":\"r1\",\"outcome\":\"resolved\",\"at\":\"%s\"", hl_iso_in(-3 * 3600 + 60));
	ok(c, "\"type\":\"case.close\",\"case_id\":%lld,\"at\":\"%s\"", (long long)a, hl_iso_in(-3 * 3600 + 120));
	/* the same number again two hours later: a new case, a repeat call */
	int64_t b = hl_jint(ok(c, "\"type\":\"call.offered\",\"call_id\":\"r2\",\"caller\":\"+8613800000021\",\"at\":\"%s\"",
	                       hl_iso_in(-3600)), "case_id");
	cr_assert_neq(a, b);
	/* and again, in that case; then a withheld call, abandoned (closed) */
	ok(c, "\"type\":\"call.offered\",\"call_id\":\"r3\",\"caller\":\"+8613800000021\",\"at\":\"%s\"", hl_iso_in(-1800));
	ok(c, "\"type\":\"call.abandoned\",\"call_id\":\"r4\",\"withheld\":true,\"at\":\"%s\"", hl_iso_in(-900));
	const char *figs = "SELECT concat_ws('|', sum(calls_offered), sum(calls_abandoned), sum(repeat_calls))"
	                   " FROM hotline.daily_figures";
	cr_assert_str_eq(hl_sql_text(d, "%s", figs), "5|1|3");
	cr_assert_str_eq(hl_sql_text(d, "%s", HL_ROLLUP_DIFF), "same");
	/* one case a run, the oldest close first: the first case, then the
	 * second (its call repeated the first's), then the withheld one */
	for (int i = 1; i <= 3; i++) {
		cr_assert_str_eq(hl_sql_text(d, "SELECT hotline.anonymize_closed(0, 1)"), "1");
		cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE caller LIKE 'anon:%%'"), i);
		cr_assert_str_eq(hl_sql_text(d, "%s", HL_ROLLUP_DIFF), "same", "the recount after retention run %d: %s", i,
		                 hl_sql_text(d, "%s", HL_ROLLUP_DIFF));
	}
	/* a later event of the live case (its calls counted whole again) */
	ok(c, "\"type\":\"call.answered\",\"call_id\":\"r3\",\"agent\":\"a2\"");
	cr_assert_str_eq(hl_sql_text(d, "%s", HL_ROLLUP_DIFF), "same", "the rollup after a later event");
	cr_assert_str_eq(hl_sql_text(d, "SELECT hotline.rebuild_figure_rollup() > 0"), "t");
	cr_assert_str_eq(hl_sql_text(d, "%s", figs), "5|1|3", "a rebuild changes no past figure");
}

/* What administrators see of withheld callers (docs/admin.md, "Withheld
 * numbers in the views"), as each role: the case and its calls under the
 * caller "withheld:<16 hex>", never in repeat_callers (each withheld call
 * is a caller of its own) nor in overdue_callbacks (no callback owed); a
 * withheld call sent with "confidential": true is masked like a number for
 * the roles that do not see confidential numbers. */
HL_TEST(withheld, what_the_views_show)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"1s\"; update = \"1h\"; resolution = \"2h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	for (int i = 1; i <= 3; i++) /* three abandoned withheld calls in a row */
		ok(c, "\"type\":\"call.abandoned\",\"call_id\":\"v%d\",\"withheld\":true,\"at\":\"%s\"", i, hl_iso_in(-60 + i));
	int64_t s = hl_jint(ok(c, "\"type\":\"call.offered\",\"call_id\":\"v9\",\"withheld\":true,\"confidential\":true"),
	                    "case_id");
	ok(c, "\"type\":\"call.answered\",\"call_id\":\"v9\",\"agent\":\"a1\"");
	const char *w = hl_sql_text(d, "SELECT caller FROM hotline.cases WHERE id = %lld", (long long)s);
	char masked[64];
	snprintf(masked, sizeof masked, "%.17s****%s", w, w + strlen(w) - 4);
	static const char *const roles[] = { "hotline_admin", "hotline_supervisor", "hotline_privileged" };
	for (size_t i = 0; i < sizeof roles / sizeof *roles; i++) {
		hl_sql(d, "SET ROLE %s", roles[i]);
		cr_assert_str_eq(hl_sql_text(d, "SELECT count(*) FILTER (WHERE caller ~ '^withheld:[0-9a-f]{16}$') || '/' || count(*)"
		                                " FROM hotline.v_cases WHERE id <> %lld", (long long)s), "3/3", "%s", roles[i]);
		cr_assert_str_eq(hl_sql_text(d, "SELECT caller FROM hotline.v_cases WHERE id = %lld", (long long)s),
		                 i == 2 ? w : masked, "%s", roles[i]);
		cr_assert_str_eq(hl_sql_text(d, "SELECT count(*) FROM hotline.repeat_callers"), "0", "%s", roles[i]);
		cr_assert_str_eq(hl_sql_text(d, "SELECT count(*) FROM hotline.overdue_callbacks"), "0", "%s", roles[i]);
		cr_assert_str_eq(hl_sql_text(d, "SELECT count(*) || '/' || max(calls) FROM hotline.repeat_callers_between("
		                                "now() - interval '1 hour', now() + interval '1 minute', 1)"), "4/1", "%s", roles[i]);
		cr_assert_str_eq(hl_sql_text(d, "SELECT concat_ws('|', sum(calls_offered), sum(calls_abandoned), sum(callbacks_owed),"
		                                " sum(repeat_calls), sum(cases_opened)) FROM hotline.daily_figures"),
		                 "4|3|0|0|4", "%s", roles[i]);
		hl_sql(d, "RESET ROLE");
	}
	cr_assert_str_eq(hl_sql_text(d, "SELECT string_agg(status, ',' ORDER BY id) FROM hotline.cases"), "closed,closed,closed,open");
}

/* review-rules3: a PBX bridge infers an abandonment; the call's answer,
 * dated before it, may be delivered after it.  The abandonment closed the
 * withheld call's case ("nothing to follow"); the late answer opens it
 * again with its clocks running (in order nothing closed it), and the
 * resolution clock's timer is set again: its overdue alert comes. */
HL_TEST(withheld, an_answer_delivered_after_the_abandonment_opens_the_case_again)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
	    .sla = "callback = \"1h\"; update = \"1h\"; resolution = \"12s\"; warn_at = 0.0;" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_pushes ps = {0};
	struct hl_conn *c = hl_conn_unix(d);
	int64_t a = hl_jint(ok(c, "\"type\":\"call.offered\",\"call_id\":\"1733390000.7\",\"withheld\":true,\"at\":\"%s\"",
	                       hl_iso_in(-10)), "case_id");
	ok(c, "\"type\":\"call.abandoned\",\"call_id\":\"1733390000.7\",\"at\":\"%s\"", hl_iso_in(-5));
	cr_assert_str_eq(hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)a), "closed");
	ok(c, "\"type\":\"call.answered\",\"call_id\":\"1733390000.7\",\"agent\":\"a1\",\"at\":\"%s\"", hl_iso_in(-9));
	cr_assert_str_eq(hl_sql_text(d, "SELECT concat_ws('|', status, closed_at IS NULL, reopens) FROM hotline.cases"
	                                " WHERE id = %lld", (long long)a), "open|t|0");
	cr_assert_str_eq(hl_sql_text(d, "SELECT string_agg(kind || ' ' || state, ',' ORDER BY kind) FROM hotline.clocks"
	                                " WHERE case_id = %lld", (long long)a), "resolution pending,update pending");
	cr_assert_str_eq(hl_sql_text(d, "SELECT state FROM hotline.calls WHERE call_id = '1733390000.7'"), "ended");
	cr_assert_str_eq(hl_sql_text(d, "%s", HL_ROLLUP_DIFF), "same");
	cr_assert_not_null(hl_await_push(s, &ps, "resolution_overdue", a, 1, 8000),
	                   "the resolution clock runs again, with its timer");
}
