/*
 * test_clocks_rules.c - end-to-end tests of what the rules add to the
 * follow-through clocks (suite `clocks`; the clocks themselves are in
 * test_clocks.c): the alerts that events raise at once (transfer_loop after
 * the transfer limit, repeat_caller at the threshold and its state across a
 * restart), SLA policies chosen by category, and business-hours calendars
 * (docs/rules.md).
 *
 * Design.  As in test_clocks.c: a real hotlined (see harness.h), a
 * subscriber connection beside the one that sends events, and explicit `at`
 * values with milliseconds, so that due times are exact; timing checks
 * allow the contract's one second plus some slack and never measure speed.
 * The helpers are in clocks_helpers.h.
 */
#include "clocks_helpers.h"

TestSuite(clocks, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 60);

/* ------------------------------------------------- alerts raised at once */

HL_TEST(clocks, transfer_loop_after_limit)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .top = "alerts = { transfer_limit = 2; };" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t loop = offer(c, "t-a", "+8613900000081", 0);
	int64_t ok = offer(c, "t-b", "+8613900000082", 0);
	const char *depts[] = { "roads", "water", "roads", "parks", "water" };
	for (int i = 0; i < 5; i++) {
		char extra[80];
		snprintf(extra, sizeof extra, ",\"department\":\"%s\"", depts[i]);
		case_ev(c, "case.transfer", loop, extra, 0);
		cr_assert_eq(n_alerts(d, "transfer_loop", loop), i >= 2 ? 1 : 0, "after transfer %d of limit 2", i + 1);
		if (i < 2)
			case_ev(c, "case.transfer", ok, extra, 0);
	}
	struct hl_pushes ps = { .n = 0 };
	const struct hl_push *p = hl_await_push(s, &ps, "transfer_loop", loop, 0, 3000);
	cr_assert(p, "transfer_loop not pushed");
	cr_expect_str_eq(p->caller, "+8613900000081");
	hl_collect_pushes(s, &ps, 500);
	cr_expect_eq(hl_count_pushes(&ps, NULL, loop), 1, "one transfer_loop per case");
	cr_expect_eq(hl_count_pushes(&ps, NULL, ok), 0, "limit transfers exactly: no alert");
	cr_expect_eq(n_alerts(d, "transfer_loop", ok), 0);
	cr_expect_eq(hl_sql_int(d, "SELECT transfers FROM hotline.cases WHERE id = %lld", (long long)loop), 5);
}

HL_TEST(clocks, repeat_caller_at_threshold)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .repeat_caller = "window = \"1h\"; threshold = 3;" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	const char *x = "+8613900000091";
	int64_t t0 = hl_wall_ms();
#define N_REPEAT() hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'repeat_caller' AND caller = '%s'", x)
	int64_t cx = offer(c, "x-1", x, t0 - 3000);
	cr_assert_eq(offer(c, "x-2", x, t0 - 2900), cx);
	cr_assert_eq(N_REPEAT(), 0, "2 calls of 3");
	/* an abandoned call the daemon has not seen counts as an inbound call */
	cr_assert_eq(hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"x-3\",\"caller\":\"%s\"%s", x,
	                at_field(t0 - 2800)), cx);
	cr_assert_eq(N_REPEAT(), 1, "the 3rd call within the window raises repeat_caller");
	/* an event about a known call is not another inbound call */
	cr_assert_eq(offer(c, "x-3", x, t0 - 2700), cx);
	cr_assert_eq(offer(c, "x-4", x, t0 - 2600), cx);
	cr_assert_eq(N_REPEAT(), 1, "4th call: no new alert");
	cr_assert_eq(offer(c, "x-5", x, t0 - 2500), cx);
	cr_assert_eq(N_REPEAT(), 1, "5th call: no new alert (needs 3 further calls)");
	cr_assert_eq(offer(c, "x-6", x, t0 - 2400), cx);
	cr_assert_eq(N_REPEAT(), 2, "6th call: threshold further calls raise again");
	cr_assert_eq(offer(c, "x-7", x, t0 - 2300), cx);
	cr_assert_eq(N_REPEAT(), 2);
#undef N_REPEAT

	/* calls outside the window do not count */
	int64_t cz = offer(c, "z-1", "+8613900000092", t0 - 2 * 3600 * 1000);
	cr_assert_eq(offer(c, "z-2", "+8613900000092", t0 - 1000), cz);
	cr_assert_eq(offer(c, "z-3", "+8613900000092", t0 - 900), cz);
	/* two numbers never add up */
	offer(c, "y-1", "+8613900000093", t0 - 800);
	offer(c, "y-2", "+8613900000093", t0 - 700);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'repeat_caller'"), 2,
	             "only caller x crossed the threshold");

	struct hl_pushes ps = { .n = 0 };
	hl_collect_pushes(s, &ps, 1000);
	cr_expect_eq(hl_count_pushes(&ps, "repeat_caller", cx), 2, "each crossing pushed once");
	const struct hl_push *p = hl_find_push(&ps, "repeat_caller", cx, 0);
	cr_expect(p && strcmp(p->caller, x) == 0, "push names the caller");
	cr_expect_eq(ps.n, 2, "no other pushes");
}

/* the inbound calls and the last crossing are remembered across a restart */
HL_TEST(clocks, repeat_caller_state_survives_restart)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .repeat_caller = "window = \"1h\"; threshold = 3;" });
	struct hl_conn *c = hl_conn_unix(d);
	const char *x = "+8613900000161";
	int64_t t0 = hl_wall_ms();
#define N_REPEAT() hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'repeat_caller'")
	offer(c, "rr-1", x, t0 - 5000);
	offer(c, "rr-2", x, t0 - 4000);
	hl_d_restart(d);
	c = hl_conn_unix(d);
	offer(c, "rr-3", x, t0 - 3000);
	cr_assert_eq(N_REPEAT(), 1, "calls before the restart count");
	hl_d_kill9(d);
	hl_d_start(d);
	c = hl_conn_unix(d);
	offer(c, "rr-4", x, t0 - 2000);
	offer(c, "rr-5", x, t0 - 1000);
	cr_assert_eq(N_REPEAT(), 1, "the crossing before the crash is remembered");
	offer(c, "rr-6", x, t0);
	cr_assert_eq(N_REPEAT(), 2);
#undef N_REPEAT
}

/* ------------------------------------------------------------ policies */

/* a category that selects another policy re-times the pending clocks
 * (docs/rules.md "Policy re-evaluation"): a 1 h callback becomes 1 s,
 * counted from when it started */
HL_TEST(clocks, sla_policy_by_category)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = "callback = \"1h\"; warn_at = 0; update = \"0\"; resolution = \"1h\";"
		       " policies = ( { name = \"complaint\"; category = \"complaint\"; callback = \"1s\"; } );" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms();
	int64_t a0 = t0 - 300;

	/* re-timed: the callback armed under the default policy */
	int64_t re = offer(c, "p-a1", "+8613900000101", a0 - 100);
	call_ev(c, "call.abandoned", "p-a1", "", a0);
	cr_assert_eq(clock_ms(d, re, "callback", "due_at"), a0 + 3600 * 1000);
	int64_t old_res = clock_ms(d, re, "resolution", "due_at");
	int64_t old_seq = hl_sql_int(d, "SELECT seq FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                             (long long)re);
	cr_assert_eq(offer(c, "p-a2", "+8613900000101", t0), re);
	call_ev(c, "call.ended", "p-a2", ",\"outcome\":\"info\",\"category\":\"complaint\"", t0);
	char *pol = hl_sql_text(d, "SELECT policy FROM hotline.cases WHERE id = %lld", (long long)re);
	cr_assert(pol && strcmp(pol, "complaint") == 0, "policy: %s", pol ? pol : "(null)");
	expect_clock(d, re, "callback", "pending");
	cr_expect_eq(clock_ms(d, re, "callback", "due_at"), a0 + 1000, "1 s from when the callback started");
	cr_expect_eq(hl_sql_int(d, "SELECT allowed_ms FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                        (long long)re), 1000);
	cr_expect_eq(hl_sql_int(d, "SELECT seq FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                        (long long)re), old_seq + 1, "a re-timed clock is a new run");
	cr_expect_eq(clock_ms(d, re, "resolution", "due_at"), old_res, "resolution inherited: same due time");

	/* armed under the new policy from the start */
	int64_t fresh = offer(c, "p-b1", "+8613900000102", t0);
	call_ev(c, "call.ended", "p-b1", ",\"outcome\":\"followup\",\"category\":\"complaint\"", t0);
	cr_expect_eq(clock_ms(d, fresh, "callback", "due_at"), t0 + 1000);
	/* another category keeps the default */
	int64_t other = offer(c, "p-c1", "+8613900000103", t0);
	call_ev(c, "call.ended", "p-c1", ",\"outcome\":\"followup\",\"category\":\"water\"", t0);
	cr_expect_eq(clock_ms(d, other, "callback", "due_at"), t0 + 3600 * 1000);
	char *pol2 = hl_sql_text(d, "SELECT policy FROM hotline.cases WHERE id = %lld", (long long)other);
	cr_expect(pol2 && strcmp(pol2, "default") == 0, "policy: %s", pol2 ? pol2 : "(null)");

	struct hl_pushes ps = { .n = 0 };
	expect_on_time(hl_await_push(s, &ps, "callback_overdue", re, 0, 5000), "callback_overdue (re-timed)", re, a0 + 1000);
	expect_on_time(hl_await_push(s, &ps, "callback_overdue", fresh, 0, 5000), "callback_overdue (complaint)", fresh, t0 + 1000);
	expect_row_on_time(d, "callback_overdue", re, a0 + 1000);
	hl_collect_pushes(s, &ps, 300);
	cr_expect_eq(hl_count_pushes(&ps, NULL, other), 0);
}

/* ------------------------------------------------------------ calendars */

/* A calendar open only 10:00-12:00 (Asia/Shanghai) two local days from now:
 * a 30 min callback armed now is due at 10:30 that day. */
HL_TEST(clocks, business_hours_calendar_due_at_next_opening)
{
	static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	int64_t at = hl_wall_ms();
	time_t local = (time_t)(at / 1000) + 8 * 3600; /* Asia/Shanghai: UTC+8, no DST */
	struct tm tm;
	gmtime_r(&local, &tm);
	const char *open_day = days[(tm.tm_wday + 2) % 7];
	char top[512];
	snprintf(top, sizeof top,
	         "calendars = ( { name = \"office\"; timezone = \"Asia/Shanghai\"; hours = { %s = \"10:00-12:00\"; }; } );",
	         open_day);
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .top = top,
		.sla = "callback = \"30m\"; warn_at = 0.8; calendar = \"office\"; update = \"0\"; resolution = \"1h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = offer(c, "cal-1", "+8613900000111", at);
	call_ev(c, "call.abandoned", "cal-1", "", at);

	int64_t want = hl_sql_int(d, "SELECT hotline.ms(((('%s'::timestamptz AT TIME ZONE 'Asia/Shanghai')::date + 2)"
	                             " + time '10:30') AT TIME ZONE 'Asia/Shanghai')", hl_iso_ms(at));
	int64_t warn = hl_sql_int(d, "SELECT hotline.ms(((('%s'::timestamptz AT TIME ZONE 'Asia/Shanghai')::date + 2)"
	                             " + time '10:24') AT TIME ZONE 'Asia/Shanghai')", hl_iso_ms(at));
	cr_expect_eq(clock_ms(d, id, "callback", "due_at"), want, "callback due %s, want %s (%s opens 10:00)",
	             hl_sql_text(d, "SELECT hotline.iso(due_at) FROM hotline.clocks WHERE case_id = %lld"
	                            " AND kind = 'callback'", (long long)id), hl_iso_ms(want), open_day);
	cr_expect_eq(clock_ms(d, id, "callback", "warn_at"), warn, "warn at 80%% of the open time");
	char *cal = hl_sql_text(d, "SELECT calendar FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                        (long long)id);
	cr_expect(cal && strcmp(cal, "office") == 0, "calendar %s", cal ? cal : "(null)");
	/* the resolution clock counts 1 h of open time: 11:00 the same day */
	int64_t res = hl_sql_int(d, "SELECT hotline.ms(((('%s'::timestamptz AT TIME ZONE 'Asia/Shanghai')::date + 2)"
	                            " + time '11:00') AT TIME ZONE 'Asia/Shanghai')", hl_iso_ms(at));
	cr_expect_eq(clock_ms(d, id, "resolution", "due_at"), res, "resolution due after 1 h of open time");
	/* and nothing fires now */
	hl_sleep_ms(300);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts"), 0);
}

/* A calendar open only on make-up days that have all passed (the config
 * accepts it: it has hours) gives every deadline on it "never" (INT64_MAX,
 * docs/calendars.md), which is no PostgreSQL timestamp.  The store keeps it
 * as the last instant RFC 3339 can write, so the call is still recorded,
 * the clock reads back as pending and nothing ever fires.  Before, every
 * event that armed such a clock was refused "internal" (interval out of
 * range). */
HL_TEST(clocks, calendar_with_no_open_time_ahead_never_falls_due)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.top = "calendars = ( { name = \"past\"; timezone = \"UTC\"; workdays = [ \"2020-01-06\" ];"
		       " workday_hours = \"09:00-17:00\"; } );",
		.sla = "callback = \"30m\"; update = \"0\"; resolution = \"1h\"; calendar = \"past\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t at = hl_wall_ms();
	int64_t id = offer(c, "never-1", "+8613900000121", at);
	call_ev(c, "call.abandoned", "never-1", "", at);
	expect_clock(d, id, "resolution", "pending");
	expect_clock(d, id, "callback", "pending");
	cr_expect_str_eq(hl_sql_text(d, "SELECT hotline.iso(due_at) FROM hotline.clocks WHERE case_id = %lld"
	                                " AND kind = 'resolution'", (long long)id), "9999-12-31T23:59:59.999Z");
	case_ev(c, "case.hold", id, "", at + 1000);
	case_ev(c, "case.resume", id, "", at + 2000);
	expect_clock(d, id, "resolution", "pending");
	hl_sleep_ms(300);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts"), 0);
	/* a restart loads the clock back and still fires nothing */
	hl_d_restart(d);
	hl_sleep_ms(300);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts"), 0);
}

/* ---------------------------------------------- abandonments delivered late */

/* An abandonment delivered after a later contact: a reach waives the call
 * back (the caller rang again and was answered), a caller_informed does not
 * (in order it would not meet the callback either).  Each event in its own
 * batch, so what decides is what the database keeps of the case
 * (cases.last_reached_at, sql/060), not one batch's world. */
HL_TEST(clocks, late_abandonment_waived_by_a_reach_not_by_caller_informed)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"1h\"; update = \"1h\"; resolution = \"1d\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t t0 = hl_wall_ms() - 600000;
	/* told: answered at t0 + 1 s, informed at t0 + 5 min, the abandonment of
	 * t0 + 2 min arrives last */
	int64_t told = offer(c, "la-1", "+8613900000091", t0);
	call_ev(c, "call.answered", "la-1", ",\"agent\":\"amy\"", t0 + 1000);
	case_ev(c, "case.update", told, ",\"note\":\"sent a text\",\"caller_informed\":true", t0 + 300000);
	cr_assert_eq(offer(c, "la-2", "+8613900000091", t0 + 110000), told);
	call_ev(c, "call.abandoned", "la-2", "", t0 + 120000);
	expect_clock(d, told, "callback", "pending");
	cr_assert_eq(clock_ms(d, told, "callback", "due_at"), t0 + 120000 + 3600000);
	cr_assert_eq(hl_sql_int(d, "SELECT hotline.ms(last_reached_at) FROM hotline.cases WHERE id = %lld",
	                        (long long)told), t0 + 1000, "the answer is the last reach");
	/* reached: the caller's next call answered at t0 + 5 min, the abandonment
	 * of t0 + 2 min arrives last: nothing owed */
	int64_t reached = offer(c, "lb-1", "+8613900000092", t0 + 290000);
	call_ev(c, "call.answered", "lb-1", ",\"agent\":\"amy\"", t0 + 300000);
	cr_assert_eq(offer(c, "lb-2", "+8613900000092", t0 + 110000), reached);
	call_ev(c, "call.abandoned", "lb-2", "", t0 + 120000);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                        (long long)reached), 0, "a call back owed although the caller was reached afterwards");
}
