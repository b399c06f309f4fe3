/*
 * test_rules_retime.c - re-timing the running clocks when a case changes
 * policy (rules_clocks.c reevaluate_clock) across calendars.
 *
 * The defect: the time a clock had consumed was measured in its old
 * calendar and then spent in the new one.  A call taken at 16:55 on a
 * wall-clock default and classified a complaint ("13wd" on the office
 * calendar) at 17:10 lost 15 minutes of office time that was never open:
 * due 16:45 on the 13th working day instead of its closing time 17:00.
 * A clock that was never paused in its run has consumed exactly its new
 * calendar's open time since it started, so it is re-timed as if armed at
 * its start under the new policy: N working days end at a closing time,
 * as the contract defines them.
 *
 * The fixture is orders_fixtures.h (Asia/Shanghai, Mon-Fri 09:00-17:00,
 * National Day Oct 1-7, make-up days Sun Sep 27 and Sat Oct 10); the
 * configuration here puts the defaults on the wall clock.
 */
#include "orders_fixtures.h"

static const char *const RCONF =
	"database = { conninfo = \"dbname=x\"; };\n"
	"calendars = ( { name = \"office\"; timezone = \"Asia/Shanghai\";\n"
	"  hours = { mon = \"09:00-17:00\"; tue = \"09:00-17:00\"; wed = \"09:00-17:00\";\n"
	"            thu = \"09:00-17:00\"; fri = \"09:00-17:00\"; };\n"
	"  holidays = [ \"2026-10-01..2026-10-07\" ]; workdays = [ \"2026-09-27\", \"2026-10-10\" ]; } );\n"
	"sla = { callback = \"30m\"; update = \"0\"; resolution = \"48h\"; warn_at = 0.5;\n"
	"        policies = ( { category = \"complaint\"; resolution = \"13wd\"; calendar = \"office\"; },\n"
	"                     { category = \"urgent\"; resolution = \"8h\"; calendar = \"office\"; } ); };\n"
	"escalation = { after = \"15m\"; max_level = 3; };\n";

static struct hl_outcome *classify(struct fx *f, int64_t case_id, const char *category, hl_ms at)
{
	struct hl_event *e = E(f, HL_EV_CASE_UPDATE, at);
	e->case_id = case_id;
	e->category = (char *)category;
	return apply(f, e);
}

static struct hl_clock *resolution(struct fx *f, int64_t id)
{
	return &hl_world_case(f->w, id)->clocks[HL_CK_RESOLUTION];
}

Test(retime, classified_after_closing_keeps_the_working_day_deadline)
{
	struct fx *f = fx_new(RCONF);
	hl_ms at = T("2026-09-25T16:55:00+08:00");
	int64_t id = open_case(f, P1, at);
	cr_assert_eq(resolution(f, id)->due_at, at + 48 * HOUR);
	ok(classify(f, id, "complaint", T("2026-09-25T17:10:00+08:00")));
	struct hl_clock *k = resolution(f, id);
	cr_assert_eq(k->seq, 2);
	cr_assert_str_eq(k->calendar, "office");
	cr_assert_eq(k->due_at, T("2026-10-19T17:00:00+08:00"), "13wd must end at the 13th working day's close");
	/* warn_at 0.5 of the allowance, counted from the start as an armed clock would */
	const struct hl_calendar *cal = hl_config_calendar(&f->cfg, "office");
	cr_assert_eq(k->allowed_ms, hl_cal_between(cal, at, k->due_at));
	cr_assert_eq(k->warn_at, hl_cal_add(cal, at, k->allowed_ms / 2));
	cr_assert_not(k->warned);
	fx_free(f);
}

Test(retime, hours_on_a_calendar_count_from_the_start)
{
	struct fx *f = fx_new(RCONF);
	hl_ms at = T("2026-09-25T16:55:00+08:00");
	int64_t id = open_case(f, P1, at);
	ok(classify(f, id, "urgent", T("2026-09-25T17:10:00+08:00")));
	/* 5 minutes on Friday, 7h55m on the make-up Sunday */
	cr_assert_eq(resolution(f, id)->due_at, T("2026-09-27T16:55:00+08:00"));
	/* and on to the complaint policy the next morning: the start still counts */
	ok(classify(f, id, "complaint", T("2026-09-26T10:00:00+08:00")));
	cr_assert_eq(resolution(f, id)->due_at, T("2026-10-19T17:00:00+08:00"));
	fx_free(f);
}

/* A clock that was on hold in its run keeps the documented formula: the
 * time it consumed (allowed - left) is spent in the new calendar from now. */
Test(retime, a_clock_held_in_its_run_spends_what_is_left)
{
	struct fx *f = fx_new(RCONF);
	hl_ms at = T("2026-09-28T09:00:00+08:00"); /* Monday */
	int64_t id = open_case(f, P1, at);
	struct hl_event *e = E(f, HL_EV_CASE_HOLD, at + HOUR);
	e->case_id = id;
	ok(apply(f, e));
	e = E(f, HL_EV_CASE_RESUME, at + 3 * HOUR);
	e->case_id = id;
	ok(apply(f, e));
	cr_assert_eq(resolution(f, id)->due_at, at + 50 * HOUR);
	ok(classify(f, id, "urgent", at + 4 * HOUR)); /* 2h consumed, 6h of office time left */
	cr_assert_eq(resolution(f, id)->due_at, T("2026-09-29T11:00:00+08:00")); /* 4h Monday, 2h Tuesday */
	fx_free(f);
}

/* review-clocks: a clock with nothing left is due at once, also outside the
 * calendar's hours.  Opened Friday 09:00 on the wall-clock default, the case
 * is classified "urgent" (8h of office time) at 20:00: its 8 office hours
 * ran out at Friday's 17:00 close.  It was made due at the next opening, the
 * make-up Sunday 09:00: no overdue alert until then, and a resolution on
 * Saturday counted in time. */
Test(retime, allowance_used_up_after_hours_is_due_at_once)
{
	struct fx *f = fx_new(RCONF);
	int64_t id = open_case(f, P1, T("2026-09-25T09:00:00+08:00"));
	hl_ms at = T("2026-09-25T20:00:00+08:00");
	ok(classify(f, id, "urgent", at));
	struct hl_clock *k = resolution(f, id);
	cr_assert_leq(k->due_at, at, "due %lld ms after the reclassification, at the next opening",
	              (long long)(k->due_at - at));
	f->env.now = at + 1000;
	hl_rules_clock_fire(f->w, &f->env, id, HL_CK_RESOLUTION, k->seq);
	cr_assert_eq(k->state, HL_CS_BREACHED, "not overdue at once");
	struct hl_event *e = E(f, HL_EV_CASE_RESOLVE, T("2026-09-26T10:00:00+08:00"));
	e->case_id = id;
	ok(apply(f, e));
	cr_assert_gt(k->met_at, k->due_at, "a Saturday resolution counted in time");
	fx_free(f);
}

/* The same for a resume: on hold at the very millisecond of its deadline
 * (nothing left), resumed at 20:00 after closing: due at once, as
 * docs/rules.md says, not at the next opening. */
Test(retime, resume_with_nothing_left_after_hours_is_due_at_once)
{
	struct fx *f = fx_new(RCONF);
	int64_t id = open_case(f, P1, T("2026-09-25T09:00:00+08:00"));
	ok(classify(f, id, "urgent", T("2026-09-25T10:00:00+08:00")));
	struct hl_clock *k = resolution(f, id);
	cr_assert_eq(k->due_at, T("2026-09-25T17:00:00+08:00"));
	struct hl_event *e = E(f, HL_EV_CASE_HOLD, k->due_at);
	e->case_id = id;
	ok(apply(f, e));
	cr_assert_eq(k->state, HL_CS_PAUSED);
	cr_assert_eq(k->remaining_ms, 0);
	hl_ms back = T("2026-09-25T20:00:00+08:00");
	e = E(f, HL_EV_CASE_RESUME, back);
	e->case_id = id;
	ok(apply(f, e));
	cr_assert_eq(k->due_at, back, "resumed with nothing left: due %lld ms later", (long long)(k->due_at - back));
	fx_free(f);
}
