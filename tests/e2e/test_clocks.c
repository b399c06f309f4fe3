/*
 * test_clocks.c - end-to-end tests of the follow-through clocks (CONTRACT.md
 * section 4): callback, update, resolution and survey (with the
 * dissatisfied alert a low score raises), and their edge cases: a clock
 * already due on arrival, a callback re-armed after it was met, a hold that
 * comes after the due time.  The alerts that other events raise at once,
 * policies and business-hours calendars are in test_clocks_rules.c (suite
 * `clocks` as well).
 *
 * Design.  Every test runs a real hotlined (see harness.h) with second-scale
 * deadlines, keeps one subscriber connection open and drives events on a
 * second connection.  Where a test needs several deadlines they run in
 * parallel on separate cases, with a control case that must breach, so a
 * "no alert" check can never pass merely because the timer is dead.
 *
 * Events carry explicit `at` values with millisecond precision taken from
 * the wall clock just before sending, so the expected due times are exact
 * (the daemon keeps milliseconds) and are compared with hotline.clocks via
 * hotline.ms().  Timing checks allow the contract's one second plus some
 * slack for a sanitized build on a shared machine; nothing measures speed.
 * The helpers are in clocks_helpers.h.
 */
#include "clocks_helpers.h"

TestSuite(clocks, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 60);

/* ------------------------------------------------------- callback clock */

/* abandoned / voicemail / followup each arm the callback clock: due-soon at
 * warn_at of the allowance, then overdue, pushed and stored, clock breached */
HL_TEST(clocks, callback_armed_warns_then_overdue)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"2s\"; warn_at = 0.5; update = \"0\"; resolution = \"1h\";" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();

	int64_t a = offer(c, "cb-a", "+8613900000001", t0);
	call_ev(c, "call.abandoned", "cb-a", "", t0);
	int64_t b = hl_ev(c, "\"type\":\"voicemail.left\",\"call_id\":\"cb-b\",\"caller\":\"+8613900000002\"%s",
	               at_field(t0));
	int64_t f = offer(c, "cb-f", "+8613900000003", t0);
	call_ev(c, "call.answered", "cb-f", ",\"agent\":\"ann\"", t0);
	call_ev(c, "call.ended", "cb-f", ",\"outcome\":\"followup\"", t0);

	int64_t cases[3] = { a, b, f };
	const char *callers[3] = { "+8613900000001", "+8613900000002", "+8613900000003" };
	for (int i = 0; i < 3; i++) {
		expect_clock(d, cases[i], "callback", "pending");
		cr_assert_eq(clock_ms(d, cases[i], "callback", "due_at"), t0 + 2000, "due = at + sla.callback");
		cr_assert_eq(clock_ms(d, cases[i], "callback", "warn_at"), t0 + 1000, "warn = at + warn_at * allowance");
	}

	struct hl_pushes ps = { .n = 0 };
	for (int i = 0; i < 3; i++)
		hl_await_push(s, &ps, "callback_overdue", cases[i], 0, 2000 + 4000);
	hl_collect_pushes(s, &ps, 500); /* nothing more (escalation is 15 min away) */

	for (int i = 0; i < 3; i++) {
		const struct hl_push *soon = hl_find_push(&ps, "callback_due_soon", cases[i], 0);
		const struct hl_push *over = hl_find_push(&ps, "callback_overdue", cases[i], 0);
		expect_on_time(soon, "callback_due_soon", cases[i], t0 + 1000);
		expect_on_time(over, "callback_overdue", cases[i], t0 + 2000);
		cr_expect(soon && over && soon->id < over->id && soon->t_ms <= over->t_ms, "due-soon before overdue");
		cr_expect_eq(hl_count_pushes(&ps, NULL, cases[i]), 2, "case %lld: exactly two pushes", (long long)cases[i]);
		cr_expect_eq(over->level, 1);
		cr_expect_str_eq(over->caller, callers[i], "push carries the caller");

		expect_row_on_time(d, "callback_overdue", cases[i], t0 + 2000);
		expect_row_on_time(d, "callback_due_soon", cases[i], t0 + 1000);
		expect_clock(d, cases[i], "callback", "breached");
		cr_expect_eq(clock_ms(d, cases[i], "callback", "breached_at"), t0 + 2000, "breached_at = due_at");
		cr_expect_eq(hl_sql_int(d, "SELECT hotline.ms(due_at) FROM hotline.alerts WHERE case_id = %lld"
		                           " AND kind = 'callback_overdue'", (long long)cases[i]), t0 + 2000,
		             "alert due_at = the clock's due time");
		cr_expect_eq(hl_sql_int(d, "SELECT level FROM hotline.alerts WHERE case_id = %lld"
		                           " AND kind = 'callback_overdue'", (long long)cases[i]), 1);
	}
}

/* an answered call or a reached attempt meets the callback: no alert at all;
 * no_answer / busy / failed attempts leave it running to its breach */
HL_TEST(clocks, callback_met_by_answer_or_reached_not_by_no_answer)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"2s\"; warn_at = 0.5; update = \"0\"; resolution = \"1h\";" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();

	int64_t a = offer(c, "m-a1", "+8613900000011", t0);
	call_ev(c, "call.abandoned", "m-a1", "", t0);
	int64_t b = offer(c, "m-b1", "+8613900000012", t0);
	call_ev(c, "call.abandoned", "m-b1", "", t0);
	int64_t na = offer(c, "m-c1", "+8613900000013", t0);
	call_ev(c, "call.abandoned", "m-c1", "", t0);

	/* the caller rings again and is answered */
	cr_assert_eq(offer(c, "m-a2", "+8613900000011", 0), a);
	call_ev(c, "call.answered", "m-a2", ",\"agent\":\"bo\"", 0);
	/* we call back and reach the caller */
	case_ev(c, "callback.attempt", b, ",\"result\":\"reached\",\"agent\":\"bo\"", 0);
	expect_clock(d, a, "callback", "met");
	expect_clock(d, b, "callback", "met");
	cr_expect(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE kind = 'callback' AND met_at IS NOT NULL"
	                        " AND case_id IN (%lld, %lld)", (long long)a, (long long)b) == 2, "met_at set");
	/* we call back and do not get through */
	const char *results[] = { "no_answer", "busy", "failed", "no_answer" };
	for (int i = 0; i < 4; i++) {
		char extra[80];
		snprintf(extra, sizeof extra, ",\"result\":\"%s\"", results[i]);
		case_ev(c, "callback.attempt", na, extra, 0);
		expect_clock(d, na, "callback", "pending");
		cr_assert_eq(clock_ms(d, na, "callback", "due_at"), t0 + 2000, "a failed attempt does not move the due time");
	}

	struct hl_pushes ps = { .n = 0 };
	const struct hl_push *p = hl_await_push(s, &ps, "callback_overdue", na, 0, 2000 + 4000);
	expect_on_time(p, "callback_overdue after no_answer", na, t0 + 2000);
	expect_row_on_time(d, "callback_overdue", na, t0 + 2000);
	expect_clock(d, na, "callback", "breached");
	hl_collect_pushes(s, &ps, 500);
	cr_expect_eq(hl_count_pushes(&ps, NULL, a), 0, "met by an answered call: no push");
	cr_expect_eq(hl_count_pushes(&ps, NULL, b), 0, "met by a reached attempt: no push");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id IN (%lld, %lld)", (long long)a,
	                        (long long)b), 0, "no alert rows for met callbacks");
	expect_clock(d, a, "callback", "met");
	expect_clock(d, b, "callback", "met");

	/* reaching the caller late still meets the clock; the alert stays */
	case_ev(c, "callback.attempt", na, ",\"result\":\"reached\"", 0);
	expect_clock(d, na, "callback", "met");
	cr_expect_eq(n_alerts(d, "callback_overdue", na), 1);
}

/* ---------------------------------------------------------- update clock */

/* caller_informed and an answered call restart the update clock; a plain note does not */
HL_TEST(clocks, update_restarted_by_contact)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "update = \"2s\"; warn_at = 0; callback = \"1h\"; resolution = \"1h\";" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	int64_t inf = offer(c, "u-a1", "+8613900000031", t0);
	int64_t ans = offer(c, "u-b1", "+8613900000032", t0);
	int64_t ctl = offer(c, "u-c1", "+8613900000033", t0);
	int64_t note = offer(c, "u-d1", "+8613900000034", t0);
	int64_t cases[4] = { inf, ans, ctl, note };
	for (int i = 0; i < 4; i++)
		cr_assert_eq(clock_ms(d, cases[i], "update", "due_at"), t0 + 2000, "update armed at opening");

	hl_sleep_until(t0 + 1000);
	int64_t t1 = hl_wall_ms();
	case_ev(c, "case.update", inf, ",\"note\":\"told them\",\"caller_informed\":true", t1);
	cr_assert_eq(offer(c, "u-b2", "+8613900000032", t1), ans);
	call_ev(c, "call.answered", "u-b2", ",\"agent\":\"cy\"", t1);
	case_ev(c, "case.update", note, ",\"note\":\"internal only\"", t1);

	cr_assert_eq(clock_ms(d, inf, "update", "due_at"), t1 + 2000, "caller_informed restarts update");
	cr_assert_eq(clock_ms(d, inf, "update", "started_at"), t1);
	cr_assert_eq(clock_ms(d, ans, "update", "due_at"), t1 + 2000, "an answered call restarts update");
	cr_assert_eq(clock_ms(d, note, "update", "due_at"), t0 + 2000, "a note without contact does not");
	expect_clock(d, inf, "update", "pending");

	struct hl_pushes ps = { .n = 0 };
	for (int i = 0; i < 4; i++)
		hl_await_push(s, &ps, "update_overdue", cases[i], 0, (int)(t1 + 2000 + 4000 - hl_wall_ms()));
	expect_on_time(hl_find_push(&ps, "update_overdue", ctl, 0), "update_overdue", ctl, t0 + 2000);
	expect_on_time(hl_find_push(&ps, "update_overdue", note, 0), "update_overdue", note, t0 + 2000);
	expect_on_time(hl_find_push(&ps, "update_overdue", inf, 0), "update_overdue", inf, t1 + 2000);
	expect_on_time(hl_find_push(&ps, "update_overdue", ans, 0), "update_overdue", ans, t1 + 2000);
	expect_row_on_time(d, "update_overdue", inf, t1 + 2000);
	expect_row_on_time(d, "update_overdue", ans, t1 + 2000);
	for (int i = 0; i < 4; i++)
		expect_clock(d, cases[i], "update", "breached");
}

/* hold pauses update and resolution; resume pushes both back by the hold,
 * the due-soon warning too */
HL_TEST(clocks, update_hold_pauses_resume_pushes_back)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "update = \"2s\"; warn_at = 0.5; callback = \"1h\"; resolution = \"1h\";" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	int64_t held = offer(c, "h-a", "+8613900000041", t0);
	int64_t ctl = offer(c, "h-b", "+8613900000042", t0);
	int64_t old_upd = clock_ms(d, held, "update", "due_at");
	int64_t old_warn = clock_ms(d, held, "update", "warn_at");
	int64_t old_res = clock_ms(d, held, "resolution", "due_at");
	cr_assert_eq(old_upd, t0 + 2000);
	cr_assert_eq(old_warn, t0 + 1000);
	cr_assert_eq(old_res, t0 + 3600 * 1000);

	hl_sleep_until(t0 + 300);
	int64_t h = hl_wall_ms();
	case_ev(c, "case.hold", held, ",\"reason\":\"documents\"", h);
	expect_clock(d, held, "update", "paused");
	expect_clock(d, held, "resolution", "paused");
	cr_expect_eq(hl_sql_int(d, "SELECT remaining_ms FROM hotline.clocks WHERE case_id = %lld AND kind = 'update'",
	                        (long long)held), old_upd - h, "remaining_ms = time left at the hold");
	cr_expect_eq(hl_sql_int(d, "SELECT warn_remaining_ms FROM hotline.clocks WHERE case_id = %lld"
	                           " AND kind = 'update'", (long long)held), old_warn - h, "time left to the warning");

	/* past the original due time: the control breaches, the held case does not */
	struct hl_pushes ps = { .n = 0 };
	expect_on_time(hl_await_push(s, &ps, "update_overdue", ctl, 0, 2000 + 4000), "update_overdue (control)", ctl, t0 + 2000);
	hl_sleep_until(t0 + 2600);
	hl_collect_pushes(s, &ps, 0);
	cr_expect_eq(hl_count_pushes(&ps, NULL, held), 0, "no alert while on hold, though warn and due times passed");
	expect_clock(d, held, "update", "paused");

	int64_t r = hl_wall_ms();
	case_ev(c, "case.resume", held, "", r);
	expect_clock(d, held, "update", "pending");
	expect_clock(d, held, "resolution", "pending");
	int64_t new_upd = clock_ms(d, held, "update", "due_at");
	int64_t new_warn = clock_ms(d, held, "update", "warn_at");
	int64_t new_res = clock_ms(d, held, "resolution", "due_at");
	cr_expect(llabs((long long)(new_upd - (old_upd + (r - h)))) <= 50,
	          "update due: old %lld + hold %lld ms, got %+lld ms off", (long long)old_upd, (long long)(r - h),
	          (long long)(new_upd - (old_upd + (r - h))));
	cr_expect(llabs((long long)(new_warn - (old_warn + (r - h)))) <= 50,
	          "update warning: old + hold %lld ms, got %+lld ms off", (long long)(r - h),
	          (long long)(new_warn - (old_warn + (r - h))));
	cr_expect(llabs((long long)(new_res - (old_res + (r - h)))) <= 50,
	          "resolution due: old + hold %lld ms, got %+lld ms off", (long long)(r - h),
	          (long long)(new_res - (old_res + (r - h))));
	cr_expect_eq(hl_sql_int(d, "SELECT held_ms FROM hotline.cases WHERE id = %lld", (long long)held), r - h);

	expect_on_time(hl_await_push(s, &ps, "update_due_soon", held, 0, (int)(new_warn + 4000 - hl_wall_ms())),
	               "update_due_soon after resume", held, new_warn);
	const struct hl_push *p = hl_await_push(s, &ps, "update_overdue", held, 0, (int)(new_upd + 4000 - hl_wall_ms()));
	expect_on_time(p, "update_overdue after resume", held, new_upd);
	expect_row_on_time(d, "update_overdue", held, new_upd);
	cr_expect_eq(hl_count_pushes(&ps, NULL, held), 2);
}

/* ------------------------------------------------------ resolution clock */

HL_TEST(clocks, resolution_met_restarted_stopped)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "resolution = \"2s\"; warn_at = 0; callback = \"1h\"; update = \"0\";" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	int64_t met = offer(c, "r-a", "+8613900000051", t0);
	int64_t reclose = offer(c, "r-b", "+8613900000052", t0);
	int64_t reopen = offer(c, "r-c", "+8613900000053", t0);
	int64_t closed = offer(c, "r-d", "+8613900000054", t0);
	int64_t ctl = offer(c, "r-e", "+8613900000055", t0);
	int64_t all[5] = { met, reclose, reopen, closed, ctl };
	for (int i = 0; i < 5; i++)
		cr_assert_eq(clock_ms(d, all[i], "resolution", "due_at"), t0 + 2000, "resolution due = opened_at + 2s");

	case_ev(c, "case.resolve", met, ",\"resolution\":\"fixed\"", t0 + 100);
	case_ev(c, "case.resolve", reclose, "", t0 + 100);
	case_ev(c, "case.resolve", reopen, "", t0 + 100);
	case_ev(c, "case.close", closed, "", t0 + 100);
	expect_clock(d, met, "resolution", "met");
	cr_expect_eq(clock_ms(d, met, "resolution", "met_at"), t0 + 100);
	expect_clock(d, closed, "resolution", "stopped");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE case_id = %lld AND kind = 'survey'"
	                           " AND state = 'pending'", (long long)met), 0, "sla.survey = 0: no survey clock");

	hl_sleep_until(t0 + 1000);
	int64_t t1 = hl_wall_ms();
	case_ev(c, "case.reopen", reclose, ",\"reason\":\"not fixed\"", t1);
	case_ev(c, "case.reopen", reopen, ",\"reason\":\"not fixed\"", t1);
	for (int i = 0; i < 2; i++) {
		int64_t id = i ? reopen : reclose;
		expect_status(d, id, "open");
		expect_clock(d, id, "resolution", "pending");
		cr_expect_eq(clock_ms(d, id, "resolution", "started_at"), t1, "restarted from the reopen");
		cr_expect_eq(clock_ms(d, id, "resolution", "due_at"), t1 + 2000, "due = reopen at + 2s");
	}
	case_ev(c, "case.close", reclose, "", t1 + 10);
	expect_clock(d, reclose, "resolution", "stopped");
	expect_status(d, reclose, "closed");

	struct hl_pushes ps = { .n = 0 };
	expect_on_time(hl_await_push(s, &ps, "resolution_overdue", ctl, 0, 2000 + 4000), "resolution_overdue (control)", ctl,
	               t0 + 2000);
	const struct hl_push *p = hl_await_push(s, &ps, "resolution_overdue", reopen, 0, (int)(t1 + 2000 + 4000 - hl_wall_ms()));
	expect_on_time(p, "resolution_overdue after reopen", reopen, t1 + 2000);
	hl_collect_pushes(s, &ps, 500);
	cr_expect_eq(hl_count_pushes(&ps, NULL, met), 0, "met by resolve: no alert");
	cr_expect_eq(hl_count_pushes(&ps, NULL, reclose), 0, "reopened then closed: no alert");
	cr_expect_eq(hl_count_pushes(&ps, NULL, closed), 0, "stopped by close: no alert");
	cr_expect_eq(hl_count_pushes(&ps, NULL, reopen), 1, "reopen breaches once, at its own due time");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id IN (%lld, %lld, %lld)",
	                        (long long)met, (long long)reclose, (long long)closed), 0);
	expect_row_on_time(d, "resolution_overdue", reopen, t1 + 2000);
	expect_clock(d, met, "resolution", "met");
	expect_clock(d, reopen, "resolution", "breached");
	expect_clock(d, ctl, "resolution", "breached");
}

/* ---------------------------------------------------------- survey clock */

HL_TEST(clocks, survey_armed_at_resolve_met_by_result)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "survey = \"2s\"; warn_at = 0; callback = \"1h\"; update = \"0\"; resolution = \"1h\";" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	int64_t answered = offer(c, "s-a", "+8613900000061", t0 - 5000);
	int64_t ctl = offer(c, "s-b", "+8613900000062", t0 - 5000);
	int64_t closed = offer(c, "s-c", "+8613900000063", t0 - 5000);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE kind = 'survey' AND state = 'pending'"),
	             0, "no survey before resolution");
	case_ev(c, "case.resolve", answered, "", t0);
	case_ev(c, "case.resolve", ctl, "", t0);
	/* call.ended resolved is a resolve too */
	cr_assert_eq(call_ev(c, "call.ended", "s-c", ",\"outcome\":\"resolved\"", t0), closed);
	int64_t all[3] = { answered, ctl, closed };
	for (int i = 0; i < 3; i++) {
		expect_clock(d, all[i], "survey", "pending");
		cr_expect_eq(clock_ms(d, all[i], "survey", "due_at"), t0 + 2000, "survey due = resolved at + sla.survey");
	}
	case_ev(c, "survey.result", answered, ",\"score\":4", 0);
	expect_clock(d, answered, "survey", "met");
	expect_status(d, answered, "resolved");
	case_ev(c, "case.close", closed, "", 0);
	expect_clock(d, closed, "survey", "stopped");

	struct hl_pushes ps = { .n = 0 };
	const struct hl_push *p = hl_await_push(s, &ps, "survey_overdue", ctl, 0, 2000 + 4000);
	expect_on_time(p, "survey_overdue", ctl, t0 + 2000);
	expect_row_on_time(d, "survey_overdue", ctl, t0 + 2000);
	hl_collect_pushes(s, &ps, 500);
	cr_expect_eq(hl_count_pushes(&ps, NULL, answered), 0, "survey met: no alert");
	cr_expect_eq(hl_count_pushes(&ps, NULL, closed), 0, "survey stopped by close: no alert");
	cr_expect_eq(n_alerts(d, "survey_overdue", answered) + n_alerts(d, "survey_overdue", closed), 0);
	expect_clock(d, ctl, "survey", "breached");
}

HL_TEST(clocks, survey_low_score_reopens_dissatisfied)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "survey = \"1h\";" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t two = offer(c, "d-a", "+8613900000071", 0);
	int64_t one = offer(c, "d-b", "+8613900000072", 0);
	int64_t three = offer(c, "d-c", "+8613900000073", 0);
	int64_t cases[3] = { two, one, three };
	for (int i = 0; i < 3; i++)
		case_ev(c, "case.resolve", cases[i], "", 0);
	case_ev(c, "survey.result", two, ",\"score\":2", 0);
	case_ev(c, "survey.result", one, ",\"score\":1", 0);
	case_ev(c, "survey.result", three, ",\"score\":3", 0);

	struct hl_pushes ps = { .n = 0 };
	for (int i = 0; i < 2; i++) {
		int64_t id = cases[i];
		cr_assert(hl_await_push(s, &ps, "dissatisfied", id, 0, 3000), "dissatisfied of case %lld not pushed", (long long)id);
		cr_expect_eq(n_alerts(d, "dissatisfied", id), 1);
		expect_status(d, id, "open");
		cr_expect_eq(hl_sql_int(d, "SELECT reopens FROM hotline.cases WHERE id = %lld", (long long)id), 1);
		expect_clock(d, id, "survey", "met");
		expect_clock(d, id, "resolution", "pending");
		cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld AND kind = 'dissatisfied'"
		                           " AND level = 1 AND escalate_at IS NULL", (long long)id), 1, "never escalates");
	}
	hl_collect_pushes(s, &ps, 500);
	cr_expect_eq(hl_count_pushes(&ps, NULL, three), 0, "score 3: no alert");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)three), 0);
	expect_status(d, three, "resolved");
	expect_clock(d, three, "survey", "met");
	cr_expect_eq(hl_count_pushes(&ps, "dissatisfied", two) + hl_count_pushes(&ps, "dissatisfied", one), 2, "one push each");
}

/* ------------------------------------------------------- more edge cases */

/* an event whose `at` is long past: the clock is already due on arrival and
 * is alerted at once; when only the warning point has passed, only due-soon */
HL_TEST(clocks, callback_already_due_on_arrival)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"30m\"; warn_at = 0.8; update = \"0\"; resolution = \"3h\";" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	int64_t late = hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"old-1\",\"caller\":\"+8613900000121\"%s",
	                  at_field(t0 - 3600 * 1000));
	int64_t warn = hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"old-2\",\"caller\":\"+8613900000122\"%s",
	                  at_field(t0 - 25 * 60 * 1000));
	struct hl_pushes ps = { .n = 0 };
	expect_on_time(hl_await_push(s, &ps, "callback_overdue", late, 0, 4000), "callback_overdue (due 30 min ago)", late, t0);
	expect_on_time(hl_await_push(s, &ps, "callback_due_soon", warn, 0, 4000), "callback_due_soon (warned 1 min ago)", warn, t0);
	hl_collect_pushes(s, &ps, 1000);
	cr_expect_eq(hl_count_pushes(&ps, "callback_overdue", late), 1);
	cr_expect_eq(hl_count_pushes(&ps, NULL, late), 1, "only the overdue when both instants passed (docs/rules.md)");
	cr_expect_eq(hl_count_pushes(&ps, NULL, warn), 1, "only the due-soon: the due time is 5 min away");
	cr_expect_eq(n_alerts(d, "callback_due_soon", late), 0);
	expect_clock(d, late, "callback", "breached");
	cr_expect_eq(clock_ms(d, late, "callback", "breached_at"), t0 - 1800 * 1000, "breached_at is the due time");
	expect_clock(d, warn, "callback", "pending");
	cr_expect_eq(hl_sql_int(d, "SELECT warned::int FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                        (long long)warn), 1);
}

/* a breached callback stays owed through another abandoned call; once met,
 * the next abandoned call starts a new run that is alerted again */
HL_TEST(clocks, callback_rearmed_after_met_alerts_again)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"1s\"; warn_at = 0; update = \"0\"; resolution = \"1h\";" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	const char *x = "+8613900000131";
	int64_t t0 = hl_wall_ms();
	int64_t id = offer(c, "ra-1", x, t0);
	call_ev(c, "call.abandoned", "ra-1", "", t0);
	struct hl_pushes ps = { .n = 0 };
	expect_on_time(hl_await_push(s, &ps, "callback_overdue", id, 0, 5000), "first callback_overdue", id, t0 + 1000);

	/* still owed: another abandoned call neither re-arms nor alerts */
	int64_t t1 = hl_wall_ms();
	cr_assert_eq(offer(c, "ra-2", x, t1), id);
	call_ev(c, "call.abandoned", "ra-2", "", t1);
	expect_clock(d, id, "callback", "breached");
	cr_expect_eq(clock_ms(d, id, "callback", "due_at"), t0 + 1000, "the owed callback keeps its due time");

	/* reached: met; the next abandoned call is a new run */
	case_ev(c, "callback.attempt", id, ",\"result\":\"reached\"", 0);
	expect_clock(d, id, "callback", "met");
	int64_t t2 = hl_wall_ms();
	cr_assert_eq(offer(c, "ra-3", x, t2), id);
	call_ev(c, "call.abandoned", "ra-3", "", t2);
	expect_clock(d, id, "callback", "pending");
	cr_expect_eq(clock_ms(d, id, "callback", "due_at"), t2 + 1000);

	int64_t first = hl_find_push(&ps, "callback_overdue", id, 0)->id;
	const struct hl_push *p = NULL;
	int64_t end = hl_now_ms() + 5000;
	while (hl_now_ms() < end && !p) {
		hl_read_push(s, &ps, (int)(end - hl_now_ms()));
		for (int i = 0; i < ps.n; i++)
			if (ps.p[i].case_id == id && ps.p[i].id != first && !strcmp(ps.p[i].kind, "callback_overdue"))
				p = &ps.p[i];
	}
	expect_on_time(p, "second callback_overdue (new run)", id, t2 + 1000);
	hl_collect_pushes(s, &ps, 500);
	cr_expect_eq(hl_count_pushes(&ps, "callback_overdue", id), 2, "one alert per breach: two runs, two alerts");
	cr_expect_eq(n_alerts(d, "callback_overdue", id), 2);
}

/* a hold that arrives after the update clock fell due (same batch as the
 * opening, before any timer ran) must not hide the breach */
HL_TEST(clocks, hold_does_not_hide_a_due_clock)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "update = \"2s\"; warn_at = 0; callback = \"1h\"; resolution = \"1h\";" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	char buf[1024];
	snprintf(buf, sizeof buf,
	         "{\"type\":\"call.offered\",\"id\":\"hd-1\",\"call_id\":\"hd\",\"caller\":\"+8613900000151\",\"at\":\"%s\"}\n"
	         "{\"type\":\"case.hold\",\"id\":\"hd-2\",\"case_id\":1,\"at\":\"%s\"}\n",
	         hl_iso_ms(t0 - 5000), hl_iso_ms(t0));
	cr_assert_eq(hl_send_raw(c, buf, strlen(buf)), 0);
	json_object *r1 = hl_recv_json(c, HL_TIMEOUT_MS);
	json_object *r2 = hl_recv_json(c, HL_TIMEOUT_MS);
	cr_assert(r1 && hl_jbool(r1, "ok") && hl_jint(r1, "case_id") == 1, "offer: %s",
	          r1 ? json_object_to_json_string(r1) : "(none)");
	cr_assert(r2 && hl_jbool(r2, "ok"), "hold: %s", r2 ? json_object_to_json_string(r2) : "(none)");
	struct hl_pushes ps = { .n = 0 };
	expect_on_time(hl_await_push(s, &ps, "update_overdue", 1, 0, 4000), "update_overdue (due before the hold)", 1, t0);
	char *st = clock_state(d, 1, "update");
	cr_expect(st && strcmp(st, "breached") == 0, "update clock %s", st ? st : "(none)");
	expect_clock(d, 1, "resolution", "paused");
}

/* ------------------------------------------------- a burst in one millisecond */

/* CONTRACT 5 whatever the number of pending clocks: BURST callback clocks
 * due in the same millisecond (the review's 12,000 alerted up to 1.19 s
 * late; how fast is the benchmark's business, `scripts/bench.sh phase
 * burst`).  The due lane writes them in batches of up to 512 with the slim
 * clock update and returns no alert text: every clock must still alert
 * exactly once, each alert be pushed once with its own text, its clock be
 * breached at its due time, and a restart raise nothing again.  Generous
 * waits: a sanitized build on two shared cores drains it in seconds. */
#define BURST 2000

HL_TEST(clocks, burst_in_one_millisecond_alerts_each_once)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .no_start = true, .top = "alerts = { replay_max = 5000; };" });
	int64_t due = hl_wall_ms() + 5000;
	hl_sql(d, "WITH n AS (SELECT nextval('hotline.cases_id_seq') AS id, g FROM generate_series(1, %d) g),"
	          " c AS (INSERT INTO hotline.cases (id, caller, status, opened_at)"
	          "  SELECT id, '+86139' || lpad(g::text, 8, '0'), 'open', now() FROM n RETURNING id)"
	          " INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms)"
	          " SELECT id, 'callback', 'pending', 1, now(), hotline.from_ms(%lld), 1800000 FROM c",
	          BURST, (long long)due);
	int64_t first = hl_sql_int(d, "SELECT min(case_id) FROM hotline.clocks");
	hl_d_start(d);
	/* since 0: an alert committed before the subscription is replayed, not lost */
	struct hl_conn *s = hl_subscribe(d, 0);
	static int seen[BURST];
	memset(seen, 0, sizeof seen);
	int pushed = 0;
	int64_t end = due + 40000;
	while (pushed < BURST && hl_wall_ms() < end) {
		json_object *o = hl_recv_json(s, 1000);
		if (!o || !hl_jstr(o, "push") || strcmp(hl_jstr(o, "push"), "alert") != 0)
			continue; /* the harness frees what it parsed */
		const char *kind = hl_jstr(o, "alert.kind");
		cr_assert(kind && strcmp(kind, "callback_overdue") == 0, "%s", json_object_to_json_string(o));
		int64_t c = hl_jint(o, "alert.case_id") - first, id = hl_jint(o, "alert.id");
		cr_assert(c >= 0 && c < BURST && id > 0, "%s", json_object_to_json_string(o));
		cr_assert_eq(seen[c], 0, "case %lld pushed twice", (long long)(c + first));
		char caller[32];
		snprintf(caller, sizeof caller, "+86139%08lld", (long long)(c + 1));
		cr_assert_str_eq(hl_jstr(o, "alert.caller"), caller, "an alert's text is its own");
		seen[c] = 1;
		pushed++;
	}
	cr_assert_eq(pushed, BURST, "pushed %d of %d alerts", pushed, BURST);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'callback_overdue'"), BURST);
	cr_expect_eq(hl_sql_int(d, "SELECT count(DISTINCT case_id) FROM hotline.alerts"), BURST, "one alert a breach");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE state = 'breached' AND warned"
	                           " AND hotline.ms(breached_at) = %lld AND seq = 1", (long long)due),
	             BURST, "every clock breached at its due time, its run unchanged");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clock_runs_done"), 0, "no run replaced");
	hl_d_restart(d);
	hl_sleep_ms(1500);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts"), BURST, "a restart raises nothing again");
}
