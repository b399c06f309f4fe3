/*
 * test_orders.c - end-to-end tests of work orders (CONTRACT.md 6) against a
 * real hotlined and PostgreSQL: every order event, the order clocks (sign,
 * reply, redispatch) with second-scale deadlines, the order alerts
 * (order_sign_overdue, order_reply_overdue and its urging, redispatch_overdue,
 * buck_passing), case.merge, ordering violations that store nothing, and
 * exactly-once order alerts across kill -9.
 *
 * As in test_alerts.c, the rows in hotline.orders / clocks / alerts are the
 * ground truth; a subscriber connection checks that alerts are pushed with
 * their order_id and department.
 */
#include "orders_helpers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(orders, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 60);

/* ---------------------------------------------------------------- helpers */

static char *order_col(struct hl_d *d, const char *col, const char *order_id)
{
	return hl_sql_text(d, "SELECT %s::text FROM hotline.orders WHERE order_id = '%s'", col, order_id);
}

static int64_t n_alerts(struct hl_d *d, const char *kind, const char *order_id)
{
	return hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = '%s' AND order_id = '%s'", kind, order_id);
}

static int64_t wait_alerts(struct hl_d *d, const char *kind, const char *order_id, int64_t want, int ms)
{
	int64_t n = 0;
	for (int t = 0; t < ms; t += 50) {
		if ((n = n_alerts(d, kind, order_id)) >= want)
			return n;
		hl_sleep_ms(50);
	}
	return n;
}


/* ---------------------------------------------------------------- events */

HL_TEST(orders, dispatch_sign_reply_resolves_and_owes_callback)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 1);
	json_object *r = ok(dispatch(c, id, "wo-1", "water"));
	cr_assert_eq(hl_jint(r, "case_id"), id);
	cr_assert_str_eq(hl_jstr(r, "order_id"), "wo-1");
	cr_assert_str_eq(order_col(d, "status", "wo-1"), "dispatched");
	cr_assert_str_eq(order_col(d, "sign_state", "wo-1"), "pending");
	cr_assert_str_eq(order_col(d, "reply_state", "wo-1"), "pending");
	cr_assert_str_eq(hl_sql_text(d, "SELECT department FROM hotline.cases WHERE id = %lld", (long long)id), "water");

	r = ok(req(c, "\"type\":\"order.sign\",\"order_id\":\"wo-1\",\"by\":\"clerk7\""));
	cr_assert_str_eq(hl_jstr(r, "order_id"), "wo-1");
	cr_assert_eq(hl_jint(r, "case_id"), id);
	cr_assert_str_eq(order_col(d, "status", "wo-1"), "signed");
	cr_assert_str_eq(order_col(d, "sign_state", "wo-1"), "met");

	ok(req(c, "\"type\":\"order.reply\",\"order_id\":\"wo-1\",\"result\":\"resolved\",\"note\":\"pipe fixed\""));
	cr_assert_str_eq(order_col(d, "status", "wo-1"), "replied");
	cr_assert_str_eq(order_col(d, "result", "wo-1"), "resolved");
	cr_assert_str_eq(order_col(d, "reply_state", "wo-1"), "met");
	cr_assert_str_eq(hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)id), "resolved");
	cr_assert_str_eq(hl_sql_text(d, "SELECT state FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                             (long long)id), "pending", "the caller must be told");

	/* readable history lines for every order event */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE case_id = %lld AND type LIKE 'order.%%'"
	                           " AND description LIKE '%%order wo-1%%'", (long long)id), 3);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_history WHERE case_id = %lld"
	                           " AND type = 'order.reply' AND description LIKE '%%replied by water: resolved%%'",
	                        (long long)id), 1);
	/* case.get lists the orders */
	r = ok(hl_requestf(c, "{\"id\":\"%s\",\"type\":\"case.get\",\"case_id\":%lld}", hl_uid("g"), (long long)id));
	cr_assert_str_eq(hl_jstr(r, "case.orders.0.order_id"), "wo-1");
	cr_assert_str_eq(hl_jstr(r, "case.orders.0.status"), "replied");
}

/* sql/033: a survey.result is stored on its case's orders dispatched before
 * it (survey_at, survey_score), by the batch that stores the event; an order
 * dispatched after it has none; a later survey replaces it; the month's
 * department_monthly counts the replied order's survey from the row. */
HL_TEST(orders, survey_stored_on_its_orders)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 33);
	ok(dispatch(c, id, "wo-s1", "parks"));
	cr_assert_null(order_col(d, "survey_score", "wo-s1"));
	ok(req(c, "\"type\":\"survey.result\",\"case_id\":%lld,\"score\":4", (long long)id));
	cr_assert_str_eq(order_col(d, "survey_score", "wo-s1"), "4");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.orders o JOIN hotline.case_events e"
	                           " ON e.case_id = o.case_id AND e.type = 'survey.result' AND e.at = o.survey_at"
	                           " WHERE o.order_id = 'wo-s1'"), 1, "survey_at is the event's at");

	ok(dispatch(c, id, "wo-s2", "parks"));
	cr_assert_null(order_col(d, "survey_score", "wo-s2"), "dispatched after the survey");
	cr_assert_eq(hl_sql_int(d, "SELECT sum(surveys) FROM hotline.department_monthly WHERE department = 'parks'"), 0,
	             "no order replied yet");
	ok(req(c, "\"type\":\"order.sign\",\"order_id\":\"wo-s1\",\"by\":\"clerk\""));
	ok(req(c, "\"type\":\"order.reply\",\"order_id\":\"wo-s1\",\"result\":\"resolved\""));
	cr_assert_eq(hl_sql_int(d, "SELECT sum(surveys) FROM hotline.department_monthly WHERE department = 'parks'"), 1);

	ok(req(c, "\"type\":\"survey.result\",\"case_id\":%lld,\"score\":2", (long long)id));
	cr_assert_str_eq(order_col(d, "survey_score", "wo-s1"), "2");
	cr_assert_str_eq(order_col(d, "survey_score", "wo-s2"), "2");
	cr_assert_str_eq(hl_sql_text(d, "SELECT sum(surveys) || ' ' || max(satisfied_share) FROM hotline.department_monthly"
	                                " WHERE department = 'parks'"), "1 0.000", "only the replied order counts");
}

HL_TEST(orders, duplicate_and_generated_order_id)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 2);
	const char *eid = hl_uid("dup");
	char line[256];
	snprintf(line, sizeof line, "{\"id\":\"%s\",\"type\":\"order.dispatch\",\"case_id\":%lld,\"department\":\"roads\"}",
	         eid, (long long)id);
	json_object *r = ok(hl_request(c, line));
	const char *oid = hl_jstr(r, "order_id");
	cr_assert(oid && strncmp(oid, "wo:", 3) == 0, "generated order id: %s", oid ? oid : "(none)");
	char first[160];
	snprintf(first, sizeof first, "%s", oid);
	r = ok(hl_request(c, line));
	cr_assert(hl_jbool(r, "duplicate"));
	cr_assert_str_eq(hl_jstr(r, "order_id"), first);
	cr_assert_eq(hl_jint(r, "case_id"), id);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.orders WHERE case_id = %lld", (long long)id), 1);
}

HL_TEST(orders, ordering_violations_store_nothing)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 3);
	ok(dispatch(c, id, "wo-3", "water"));
	ok(req(c, "\"type\":\"order.return\",\"order_id\":\"wo-3\",\"reason\":\"not our pipe\""));
	int64_t events = hl_sql_int(d, "SELECT count(*) FROM hotline.case_events");
	char *before = hl_sql_text(d, "SELECT row_to_json(o)::text FROM hotline.orders o WHERE order_id = 'wo-3'");
	char saved[2048];
	snprintf(saved, sizeof saved, "%s", before);

	refused(req(c, "\"type\":\"order.sign\",\"order_id\":\"wo-3\""), "bad_request", "is returned");
	refused(req(c, "\"type\":\"order.reply\",\"order_id\":\"wo-3\",\"result\":\"resolved\""), "bad_request",
	        "is returned");
	refused(req(c, "\"type\":\"order.extend\",\"order_id\":\"wo-3\",\"by\":\"1h\",\"reason\":\"r\""), "bad_request",
	        "is returned");
	refused(req(c, "\"type\":\"order.sign\",\"order_id\":\"nope\""), "unknown_order", "order_id");
	refused(req(c, "\"type\":\"order.reply\",\"order_id\":\"wo-3\",\"result\":\"maybe\""), "bad_request", "result");
	refused(req(c, "\"type\":\"case.merge\",\"case_id\":%lld,\"into\":%lld", (long long)id, (long long)id),
	        "bad_request", "itself");
	refused(req(c, "\"type\":\"case.merge\",\"case_id\":%lld,\"into\":999999", (long long)id), "unknown_case", "into");
	refused(req(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"department\":\"x\",\"due\":\"2wd\"", (long long)id),
	        "bad_request", "due");

	/* an extension after the deadline */
	/* dispatched two hours ago with one hour to reply: a request now comes too late
	 * (an `at` a month ahead would be refused as implausible before the rule is reached) */
	ok(req(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"department\":\"roads\",\"order_id\":\"wo-3b\","
	          "\"due\":\"1h\",\"at\":\"%s\"", (long long)id, hl_iso_ms(hl_wall_ms() - 2LL * 3600 * 1000)));
	refused(req(c, "\"type\":\"order.extend\",\"order_id\":\"wo-3b\",\"by\":\"1h\",\"reason\":\"late\""),
	        "bad_request", "before the deadline");
	events++;
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), events, "refused events stored nothing");
	cr_assert_str_eq(hl_sql_text(d, "SELECT row_to_json(o)::text FROM hotline.orders o WHERE order_id = 'wo-3'"),
	                 saved);
	cr_assert_str_eq(order_col(d, "status", "wo-3b"), "dispatched");
}

HL_TEST(orders, extension_approve_and_reject)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA, .top = "orders = { reply = \"2h\"; };" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 4);
	ok(dispatch(c, id, "wo-4", "housing"));
	int64_t due = hl_sql_int(d, "SELECT hotline.ms(due_at) FROM hotline.orders WHERE order_id = 'wo-4'");
	ok(req(c, "\"type\":\"order.extend\",\"order_id\":\"wo-4\",\"by\":\"1h\",\"reason\":\"parts on order\""));
	cr_assert_str_eq(order_col(d, "status", "wo-4"), "extension_requested");
	cr_assert_eq(hl_sql_int(d, "SELECT hotline.ms(due_at) FROM hotline.orders WHERE order_id = 'wo-4'"), due,
	             "unchanged until approved");
	refused(req(c, "\"type\":\"order.extend\",\"order_id\":\"wo-4\",\"by\":\"1h\",\"reason\":\"again\""), "bad_request",
	        "extension_requested");
	ok(req(c, "\"type\":\"order.extend.reject\",\"order_id\":\"wo-4\",\"reason\":\"no\""));
	cr_assert_str_eq(order_col(d, "status", "wo-4"), "dispatched");
	cr_assert_eq(hl_sql_int(d, "SELECT hotline.ms(due_at) FROM hotline.orders WHERE order_id = 'wo-4'"), due);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                        (long long)id), 0, "a rejection owes the caller nothing");

	ok(req(c, "\"type\":\"order.extend\",\"order_id\":\"wo-4\",\"until\":\"%s\",\"reason\":\"parts\"",
	       hl_iso_ms(due + 3600 * 1000)));
	ok(req(c, "\"type\":\"order.extend.approve\",\"order_id\":\"wo-4\",\"by\":\"sup1\""));
	cr_assert_eq(hl_sql_int(d, "SELECT hotline.ms(due_at) FROM hotline.orders WHERE order_id = 'wo-4'"),
	             due + 3600 * 1000);
	cr_assert_eq(hl_sql_int(d, "SELECT extensions FROM hotline.orders WHERE order_id = 'wo-4'"), 1);
	cr_assert_str_eq(hl_sql_text(d, "SELECT state FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                             (long long)id), "pending", "the caller must be told of the extension");
}

HL_TEST(orders, merge_then_resolve_owes_every_merged_caller)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t main_case = new_case(c, 5), dup1 = new_case(c, 6), dup2 = new_case(c, 7);
	ok(req(c, "\"type\":\"case.merge\",\"case_id\":%lld,\"into\":%lld", (long long)dup1, (long long)main_case));
	ok(req(c, "\"type\":\"case.merge\",\"case_id\":%lld,\"into\":%lld", (long long)dup2, (long long)main_case));
	cr_assert_str_eq(hl_sql_text(d, "SELECT status || ' ' || merged_into FROM hotline.cases WHERE id = %lld",
	                             (long long)dup1), hl_sql_text(d, "SELECT 'merged %lld'", (long long)main_case));
	cr_assert_str_eq(hl_sql_text(d, "SELECT state FROM hotline.clocks WHERE case_id = %lld AND kind = 'resolution'",
	                             (long long)dup1), "stopped");
	refused(req(c, "\"type\":\"case.merge\",\"case_id\":%lld,\"into\":%lld", (long long)main_case, (long long)dup1),
	        "bad_request", "merged");
	ok(req(c, "\"type\":\"case.resolve\",\"case_id\":%lld", (long long)main_case));
	int64_t ids[] = { dup1, dup2 };
	for (int i = 0; i < 2; i++)
		cr_assert_str_eq(hl_sql_text(d, "SELECT state FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
		                             (long long)ids[i]), "pending", "merged case %lld owed a call back",
		                 (long long)ids[i]);
}

/* ---------------------------------------------------------------- clocks and alerts */

HL_TEST(orders, sign_and_reply_overdue_carry_order_and_department)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = LONG_SLA, .top = "orders = { sign = \"1s\"; reply = \"2s\"; urge_after = \"1s\"; };",
		.escalation = "after = \"1h\"; max_level = 3;" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 8);
	ok(dispatch(c, id, "wo-8", "gas"));
	ok(dispatch(c, id, "wo-8b", "power"));
	ok(req(c, "\"type\":\"order.sign\",\"order_id\":\"wo-8b\""));
	struct hl_pushes ps = { .n = 0 };
	cr_assert(hl_await_push(s, &ps, "order_sign_overdue", id, 1, 4000), "no order_sign_overdue push");
	cr_assert(hl_await_push(s, &ps, "order_reply_overdue", id, 1, 4000), "no order_reply_overdue push");
	/* urged (催办 -> 督办) after urge_after, not after escalation.after */
	cr_assert(hl_await_push(s, &ps, "order_reply_overdue", id, 2, 4000), "reply overdue not urged");
	hl_collect_pushes(s, &ps, 600);
	cr_assert_eq(n_alerts(d, "order_sign_overdue", "wo-8"), 1);
	cr_assert_eq(n_alerts(d, "order_sign_overdue", "wo-8b"), 0, "signed in time");
	cr_assert_eq(n_alerts(d, "order_reply_overdue", "wo-8"), 1);
	cr_assert_eq(n_alerts(d, "order_reply_overdue", "wo-8b"), 1, "signing buys no time");
	cr_assert_str_eq(hl_sql_text(d, "SELECT department FROM hotline.alerts WHERE order_id = 'wo-8'"
	                                " AND kind = 'order_sign_overdue'"), "gas");
	char *j = hl_sql_text(d, "SELECT hotline.alert_json(a) FROM hotline.alerts a WHERE order_id = 'wo-8'"
	                         " AND kind = 'order_sign_overdue'");
	cr_assert(strstr(j, "\"order_id\":\"wo-8\"") && strstr(j, "\"department\":\"gas\""), "%s", j);
	cr_assert_str_eq(order_col(d, "sign_state", "wo-8"), "breached");
	json_object *st = ok(hl_requestf(c, "{\"id\":\"%s\",\"type\":\"stats\"}", hl_uid("st")));
	cr_assert_eq(hl_jint(st, "stats.alerts_raised.order_sign"), 1, "%s", json_object_to_json_string(st));
	cr_assert_eq(hl_jint(st, "stats.alerts_raised.order_reply"), 2);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.overdue_orders WHERE department = 'gas'"), 1);
	/* a late reply meets the clock (late) and ends the urging; the alert stays open */
	ok(req(c, "\"type\":\"order.reply\",\"order_id\":\"wo-8\",\"result\":\"explained\""));
	cr_assert_str_eq(order_col(d, "reply_state", "wo-8"), "met");
	cr_assert_str_eq(hl_sql_text(d, "SELECT (escalate_at IS NULL AND acked_at IS NULL)::text FROM hotline.alerts"
	                                " WHERE order_id = 'wo-8' AND kind = 'order_reply_overdue'"), "true");
	int64_t level = hl_sql_int(d, "SELECT level FROM hotline.alerts WHERE order_id = 'wo-8'"
	                              " AND kind = 'order_reply_overdue'");
	hl_sleep_ms(1500);
	cr_assert_eq(hl_sql_int(d, "SELECT level FROM hotline.alerts WHERE order_id = 'wo-8'"
	                           " AND kind = 'order_reply_overdue'"), level, "not urged after the reply");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.overdue_orders WHERE department = 'gas'"), 0);
	cr_assert_str_eq(hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)id), "open",
	                 "explained is not resolved");
}

HL_TEST(orders, return_redispatch_and_buck_passing)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = LONG_SLA, .top = "orders = { redispatch = \"1s\"; };" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 9);
	ok(dispatch(c, id, "wo-9a", "roads"));
	ok(req(c, "\"type\":\"order.return\",\"order_id\":\"wo-9a\",\"reason\":\"not a road\""));
	cr_assert_str_eq(order_col(d, "reply_state", "wo-9a"), "stopped");
	cr_assert_str_eq(hl_sql_text(d, "SELECT state FROM hotline.clocks WHERE case_id = %lld AND kind = 'redispatch'",
	                             (long long)id), "pending");
	struct hl_pushes ps = { .n = 0 };
	cr_assert(hl_await_push(s, &ps, "redispatch_overdue", id, 1, 4000), "no redispatch_overdue");
	cr_assert_str_eq(hl_sql_text(d, "SELECT order_id || ' ' || department FROM hotline.alerts"
	                                " WHERE kind = 'redispatch_overdue' AND case_id = %lld", (long long)id),
	                 "wo-9a roads");
	/* A -> B -> A */
	ok(dispatch(c, id, "wo-9b", "water"));
	cr_assert_str_eq(hl_sql_text(d, "SELECT state FROM hotline.clocks WHERE case_id = %lld AND kind = 'redispatch'",
	                             (long long)id), "met");
	ok(req(c, "\"type\":\"order.return\",\"order_id\":\"wo-9b\",\"reason\":\"roads' job\""));
	ok(dispatch(c, id, "wo-9c", "roads"));
	cr_assert(hl_await_push(s, &ps, "buck_passing", id, 1, 3000), "no buck_passing push");
	cr_assert_eq(n_alerts(d, "buck_passing", "wo-9c"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'buck_passing'"), 1);
}

HL_TEST(orders, kill9_order_alerts_exactly_once)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = LONG_SLA, .top = "orders = { sign = \"1s\"; reply = \"2s\"; };" });
	enum { PER = 4 };
	char oid[PER][32];
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	for (int i = 0; i < PER; i++) {
		int64_t id = new_case(c, 20 + i);
		snprintf(oid[i], sizeof oid[i], "wo-k9-%d", i);
		ok(req(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"order_id\":\"%s\",\"department\":\"d%d\","
		          "\"at\":\"%s\"", (long long)id, oid[i], i, hl_iso_ms(t0 - 300 + i * 100)));
	}
	hl_conn_close(c);
	hl_sleep_until(t0 + 750);
	hl_d_kill9(d);
	hl_sleep_until(t0 + 1400);
	hl_d_start(d);
	for (int i = 0; i < PER; i++) {
		cr_assert_eq(wait_alerts(d, "order_sign_overdue", oid[i], 1, 5000), 1, "%s sign", oid[i]);
		cr_assert_eq(wait_alerts(d, "order_reply_overdue", oid[i], 1, 5000), 1, "%s reply", oid[i]);
	}
	hl_d_kill9(d);
	hl_d_start(d);
	hl_sleep_ms(800);
	for (int i = 0; i < PER; i++) {
		cr_assert_eq(n_alerts(d, "order_sign_overdue", oid[i]), 1);
		cr_assert_eq(n_alerts(d, "order_reply_overdue", oid[i]), 1);
		cr_assert_str_eq(order_col(d, "reply_state", oid[i]), "breached");
	}
}

HL_TEST(orders, working_days_on_the_orders_calendar)
{
	/* a calendar open every day 00:00-23:59 in UTC: 0wd ends at 23:59 today */
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = LONG_SLA,
		.top = "calendars = ( { name = \"office\"; timezone = \"UTC\"; hours = { mon = \"00:00-23:59\";"
		       " tue = \"00:00-23:59\"; wed = \"00:00-23:59\"; thu = \"00:00-23:59\"; fri = \"00:00-23:59\";"
		       " sat = \"00:00-23:59\"; sun = \"00:00-23:59\"; }; } );"
		       "orders = { calendar = \"office\"; reply = \"1wd\"; };" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 30);
	ok(req(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"order_id\":\"wo-wd\",\"department\":\"x\","
	          "\"at\":\"2026-11-20T10:00:00Z\"", (long long)id));
	cr_assert_str_eq(hl_sql_text(d, "SELECT hotline.iso(due_at) FROM hotline.orders WHERE order_id = 'wo-wd'"),
	                 "2026-11-21T23:59:00.000Z");
	ok(req(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"order_id\":\"wo-wd0\",\"department\":\"y\",\"due\":\"0wd\","
	          "\"at\":\"2026-11-20T10:00:00Z\"", (long long)id));
	cr_assert_str_eq(hl_sql_text(d, "SELECT hotline.iso(due_at) FROM hotline.orders WHERE order_id = 'wo-wd0'"),
	                 "2026-11-20T23:59:00.000Z");
}

static void ctl_output(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	size_t n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s: %s", cmd, out);
}

/* hotlinectl sends the new events and shows a case's orders */
HL_TEST(orders, hotlinectl_event_and_case)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 50);
	const char *ctl = getenv("HOTLINECTL_BIN") ? getenv("HOTLINECTL_BIN") : "build/hotlinectl";
	char cmd[1024], out[8192];
	snprintf(cmd, sizeof cmd, "%s --unix %s event order.dispatch case_id=%lld department=water order_id=ctl-1 2>&1",
	         ctl, d->sock, (long long)id);
	ctl_output(cmd, out, sizeof out);
	cr_assert(strstr(out, "\"order_id\":\"ctl-1\""), "%s", out);
	snprintf(cmd, sizeof cmd, "%s --unix %s case %lld 2>&1", ctl, d->sock, (long long)id);
	ctl_output(cmd, out, sizeof out);
	cr_assert(strstr(out, "Orders") && strstr(out, "ctl-1") && strstr(out, "dispatched"), "%s", out);
	cr_assert_str_eq(order_col(d, "department", "ctl-1"), "water");
}

/* hotlinectl's ids never repeat, even when its pid does: a repeated id is
 * answered `duplicate` and the second event silently does nothing.  Where
 * the test may make pid namespaces (root), both runs are pid 1, as in a
 * container whose entrypoint is hotlinectl. */
HL_TEST(orders, hotlinectl_ids_survive_a_reused_pid)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 51);
	const char *ctl = getenv("HOTLINECTL_BIN") ? getenv("HOTLINECTL_BIN") : "build/hotlinectl";
	const char *ns = system("unshare -pf --mount-proc true >/dev/null 2>&1") == 0 ? "unshare -pf --mount-proc " : "";
	char cmd[1024], out[2][4096];
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof cmd, "%s%s --unix %s event case.update case_id=%lld note='note %d' 2>&1", ns, ctl,
		         d->sock, (long long)id, i);
		ctl_output(cmd, out[i], sizeof out[i]);
		cr_assert(!strstr(out[i], "duplicate"), "%s", out[i]);
	}
	cr_assert(strncmp(out[0], out[1], 40) != 0, "%s / %s", out[0], out[1]);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE case_id = %lld"
	                           " AND type = 'case.update'", (long long)id), 2);
	/* an id given on the command line is used: the same command again is harmless */
	snprintf(cmd, sizeof cmd, "%s --unix %s event case.update case_id=%lld note=again id=ctl-mine 2>&1", ctl,
	         d->sock, (long long)id);
	ctl_output(cmd, out[0], sizeof out[0]);
	ctl_output(cmd, out[1], sizeof out[1]);
	cr_assert(strstr(out[0], "\"id\":\"ctl-mine\"") && !strstr(out[0], "duplicate"), "%s", out[0]);
	cr_assert(strstr(out[1], "\"duplicate\":true"), "%s", out[1]);
}

/* A case with a long history of orders: the store loads only the orders the
 * rules read (open and returned ones, the highest-numbered one, the batch's
 * own; not the replied history: store_orders_sql.h SQL_ORDERS), and every
 * rule must behave as with all of them loaded. */
HL_TEST(orders, many_orders_in_one_case)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 21);
	char oid[32];
	ok(dispatch(c, id, "wm-1", "parks"));
	ok(req(c, "\"type\":\"order.return\",\"order_id\":\"wm-1\",\"reason\":\"not a park\""));
	for (int i = 2; i <= 20; i++) { /* replied, not resolved: the case stays open */
		snprintf(oid, sizeof oid, "wm-%d", i);
		ok(dispatch(c, id, oid, "water"));
		ok(req(c, "\"type\":\"order.reply\",\"order_id\":\"%s\",\"result\":\"explained\"", oid));
	}
	/* the next number follows the highest, a replied order */
	ok(dispatch(c, id, "wm-21", "roads"));
	cr_assert_str_eq(order_col(d, "order_no", "wm-21"), "21");
	/* a department that returned an order long ago: buck passing */
	ok(dispatch(c, id, "wm-22", "parks"));
	cr_assert_str_eq(order_col(d, "order_no", "wm-22"), "22");
	cr_assert_eq(n_alerts(d, "buck_passing", "wm-22"), 1);
	/* a replied order of the history, named by the event: refused naming its status */
	refused(req(c, "\"type\":\"order.reply\",\"order_id\":\"wm-5\",\"result\":\"resolved\""), "bad_request",
	        "is replied");
	/* resolved while another order is open: the case stays open */
	ok(req(c, "\"type\":\"order.reply\",\"order_id\":\"wm-21\",\"result\":\"resolved\""));
	cr_assert_str_eq(hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)id), "open");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE case_id = %lld"
	                           " AND description LIKE '%%order wm-22 still open%%'", (long long)id), 1);
	/* the last open order resolved: the case resolves */
	ok(req(c, "\"type\":\"order.reply\",\"order_id\":\"wm-22\",\"result\":\"resolved\""));
	cr_assert_str_eq(hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)id), "resolved");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.orders WHERE case_id = %lld", (long long)id), 22);
}

/* Two systems, two roads: the department's system may deliver its sign (or
 * reply) before the hotline's dispatch has arrived.  That event is refused
 * unknown_order and stores nothing - its id is not used up - so the very
 * same line resent once the dispatch is in is accepted (docs/orders.md,
 * "Events that arrive before their dispatch"). */
HL_TEST(orders, sign_before_its_dispatch_is_accepted_when_resent)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 60);
	const char *sign = "{\"type\":\"order.sign\",\"id\":\"dept:sign:wo-early\",\"order_id\":\"wo-early\",\"by\":\"roads\"}";
	json_object *r = hl_requestf(c, "%s", sign);
	refused(r, "unknown_order", "wo-early");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = 'dept:sign:wo-early'"), 0);
	ok(dispatch(c, id, "wo-early", "roads"));
	r = ok(hl_requestf(c, "%s", sign));
	cr_assert_not(hl_jbool(r, "duplicate"), "%s", json_object_to_json_string(r));
	cr_assert_str_eq(order_col(d, "status", "wo-early"), "signed");
	cr_assert_str_eq(order_col(d, "sign_state", "wo-early"), "met");
}

/*
 * sign = "0" (configuration.md: no sign clock) gives an order no sign
 * deadline.  Before, department_monthly counted only a sign at or before a
 * deadline, so every department working under such a policy was published
 * with signed_in_time 0 and sign_rate 0.000 however promptly it signed.
 * Without a deadline a sign is in time; a returned, never signed order is not.
 */
HL_TEST(orders, signed_without_a_sign_deadline_is_in_time)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = LONG_SLA " policies = ( { category = \"consult\"; sign = \"0\"; } );" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 41);
	ok(req(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"department\":\"libraries\",\"order_id\":\"wo-n1\","
	          "\"category\":\"consult\"", (long long)id));
	cr_assert_null(order_col(d, "sign_due_at", "wo-n1"), "no sign clock");
	ok(req(c, "\"type\":\"order.sign\",\"order_id\":\"wo-n1\",\"by\":\"clerk\""));
	ok(req(c, "\"type\":\"order.reply\",\"order_id\":\"wo-n1\",\"result\":\"explained\""));
	int64_t id2 = new_case(c, 42);
	ok(req(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"department\":\"libraries\",\"order_id\":\"wo-n2\","
	          "\"category\":\"consult\"", (long long)id2));
	ok(req(c, "\"type\":\"order.return\",\"order_id\":\"wo-n2\",\"reason\":\"not ours\""));
	cr_assert_str_eq(hl_sql_text(d, "SELECT received || ' ' || signed_in_time || ' ' || sign_rate"
	                                " FROM hotline.department_monthly WHERE department = 'libraries'"),
	                 "2 1 0.500", "the sign without a deadline is in time; the returned order was never signed");
}

/*
 * A return delivered after the dispatch that answered it owes no new
 * dispatch: before, it armed the redispatch clock from its `at` and
 * redispatch_overdue was raised about a case that had been dispatched again.
 */
HL_TEST(orders, late_return_after_the_redispatch_raises_nothing)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = LONG_SLA, .top = "orders = { redispatch = \"1s\"; };" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 43);
	int64_t t0 = hl_wall_ms();
	ok(req(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"department\":\"parks\",\"order_id\":\"wo-lr1\","
	          "\"at\":\"%s\"", (long long)id, hl_iso_ms(t0 - 60000)));
	ok(req(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"department\":\"roads\",\"order_id\":\"wo-lr2\","
	          "\"at\":\"%s\"", (long long)id, hl_iso_ms(t0 - 30000)));
	ok(req(c, "\"type\":\"order.return\",\"order_id\":\"wo-lr1\",\"reason\":\"not ours\",\"at\":\"%s\"",
	       hl_iso_ms(t0 - 50000)));
	cr_assert_str_eq(order_col(d, "status", "wo-lr1"), "returned");
	hl_sleep_ms(2500);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld"
	                           " AND kind = 'redispatch_overdue'", (long long)id), 0,
	             "roads had the case before the return was delivered");
	/* a return after the last dispatch still owes one */
	ok(req(c, "\"type\":\"order.return\",\"order_id\":\"wo-lr2\",\"reason\":\"not ours either\""));
	cr_assert_eq(wait_alerts(d, "redispatch_overdue", "wo-lr2", 1, 4000), 1);
}

/*
 * review-rules3: a sign and a reply stamped before the dispatch (the
 * department's clock is behind the hotline's) are taken as at the dispatch:
 * hotline.orders never shows an order signed or replied before it was
 * dispatched, and the history line says why.
 */
HL_TEST(orders, events_dated_before_the_dispatch_count_from_it)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 44);
	int64_t t0 = hl_wall_ms();
	ok(req(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"department\":\"parks\",\"order_id\":\"wo-eb1\","
	          "\"at\":\"%s\"", (long long)id, hl_iso_ms(t0 - 10000)));
	ok(req(c, "\"type\":\"order.sign\",\"order_id\":\"wo-eb1\",\"at\":\"%s\"", hl_iso_ms(t0 - 70000)));
	ok(req(c, "\"type\":\"order.reply\",\"order_id\":\"wo-eb1\",\"result\":\"explained\",\"at\":\"%s\"",
	       hl_iso_ms(t0 - 60000)));
	cr_assert_str_eq(hl_sql_text(d, "SELECT concat_ws('|', signed_at = dispatched_at, replied_at = dispatched_at, status)"
	                                " FROM hotline.orders WHERE order_id = 'wo-eb1'"), "t|t|replied");
	cr_assert(strstr(hl_sql_text(d, "SELECT description FROM hotline.case_events WHERE case_id = %lld"
	                                " AND type = 'order.sign'", (long long)id),
	                 "dated before the order's dispatch: taken as at the dispatch"));
}
