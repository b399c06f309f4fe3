/*
 * test_calendar_helpdesk.c - the calendar bugs users reported, each a named
 * test: a wall-clock deadline that must ignore holidays, a single-date
 * holiday, due-soon warnings at midnight or outside hours, DST changes that
 * must not shift opening hours, a hold spanning a night; and the same kind
 * of bug where a zone skips a whole date or puts opening hours inside a DST
 * gap (Apia, Kiritimati, Berlin, Nuuk).
 *
 * The calendar tests: test_calendar_hours.c (civil dates, parsing, open
 * hours), test_calendar_helpdesk.c (reported bugs, DST, skipped dates),
 * test_calendar_workdays.c (Nwd), test_calendar_properties.c (properties
 * against references, speed); the helpers are calendar_fixtures.h.
 */
#include <criterion/criterion.h>
#include <unistd.h>

#include "calendar_fixtures.h"

/* --------------------------------------------- help-desk bug reports */

Test(helpdesk, wall_clock_48h_deadline_is_exactly_48h_regardless_of_holidays)
{
	/* the calendar exists in the configuration, but the policy did not choose it */
	struct hl_calendar *c = make_cal("Asia/Shanghai", OFFICE_CN, GOLDEN_WEEK, MAKEUP, "09:00-17:00");
	(void)c;
	hl_ms t = utc_ms(2026, 9, 30, 8, 0);
	for (int i = 0; i < 200; i++, t += 97 * MIN_MS) {
		cr_assert_eq(hl_cal_add(NULL, t, 48 * H_MS), t + 48 * H_MS);
		cr_assert_eq(hl_cal_between(NULL, t, t + 48 * H_MS), 48 * H_MS);
		cr_assert(hl_cal_is_open(NULL, t));
	}
	/* overflow saturates instead of wrapping */
	cr_assert_eq(hl_cal_add(NULL, INT64_MAX - 10, 48 * H_MS), INT64_MAX);
	cr_assert_eq(hl_cal_between(NULL, INT64_MIN, INT64_MAX), INT64_MAX);
	cr_assert_eq(hl_cal_between(NULL, 10, 5), 0);
	free_cal(c);
}

Test(helpdesk, single_date_holiday_closes_only_that_date)
{
	static const char *const h[] = { "2026-11-25", NULL };
	struct hl_calendar *c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, h, NULL, NULL);
	cr_assert_eq(c->n_holidays, 1);
	/* Mon Nov 23 09:00 + 48h skips only Wed Nov 25: Mon Tue Thu Fri Mon, Tue Dec 1 17:00 */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 23, 9, 0), 48 * H_MS), 2026, 12, 1, 17, 0);
	cr_assert_not(hl_cal_is_open(c, lt(c, 2026, 11, 25, 10, 0)));
	/* not the rest of its week, month, the same weekday next week or the same date other years */
	cr_assert(hl_cal_is_open(c, lt(c, 2026, 11, 24, 10, 0)));
	cr_assert(hl_cal_is_open(c, lt(c, 2026, 11, 26, 10, 0)));
	cr_assert(hl_cal_is_open(c, lt(c, 2026, 11, 2, 10, 0)));
	cr_assert(hl_cal_is_open(c, lt(c, 2026, 12, 2, 10, 0)));
	cr_assert(hl_cal_is_open(c, lt(c, 2026, 11, 18, 10, 0)));
	cr_assert(hl_cal_is_open(c, lt(c, 2025, 11, 25, 10, 0)));
	cr_assert(hl_cal_is_open(c, lt(c, 2027, 11, 25, 10, 0)));
	/* a week of it: 40h - 8h */
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 11, 23, 0, 0), lt(c, 2026, 11, 30, 0, 0)), 32 * H_MS);
	free_cal(c);
}

/* warn = add(start, 0.8 * allowed) must be inside an open interval or at its end. */
static void check_warnings(const struct hl_calendar *c, hl_ms from, hl_ms to, hl_ms step)
{
	static const int64_t allowed[] = { 30 * MIN_MS, 4 * H_MS, 24 * H_MS, 48 * H_MS, 90 * 1000, 1000 };
	for (hl_ms start = from; start < to; start += step) {
		for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
			hl_ms warn = hl_cal_add(c, start, (int64_t)(0.8 * (double)allowed[i]));
			hl_ms due = hl_cal_add(c, start, allowed[i]);
			char b[64];
			cr_assert(hl_cal_is_open(c, warn) || (hl_cal_is_open(c, warn - 1) && !hl_cal_is_open(c, warn)),
				  "warning at %s", show(c, warn, b, sizeof b));
			cr_assert(hl_cal_is_open(c, due - 1), "due at %s", show(c, due, b, sizeof b));
			cr_assert(warn > start && warn < due);
			int64_t local_ms = warn + hl_zone_offset(c->zone, warn / 1000) * INT64_C(1000);
			cr_assert_neq(local_ms % DAY_MS, 0, "warning at midnight %s", show(c, warn, b, sizeof b));
			cr_assert_eq(hl_cal_between(c, start, warn), (int64_t)(0.8 * (double)allowed[i]));
		}
	}
}

Test(helpdesk, due_soon_warning_never_falls_at_midnight_or_outside_hours)
{
	alarm(30); /* guard against hangs (criterion .timeout leaks in its runner) */
	struct hl_calendar *c = make_cal("Asia/Shanghai", OFFICE_CN, GOLDEN_WEEK, MAKEUP, "09:00-17:00");
	check_warnings(c, lt(c, 2026, 9, 25, 0, 0), lt(c, 2026, 10, 20, 0, 0), 17 * MIN_MS + 3);
	free_cal(c);
	c = make_cal("Europe/Berlin", WEEKDAYS_9_17, NULL, NULL, NULL);
	check_warnings(c, lt(c, 2026, 3, 20, 0, 0), lt(c, 2026, 4, 5, 0, 0), 23 * MIN_MS + 7);
	free_cal(c);
}

Test(helpdesk, dst_change_does_not_shift_opening_hours)
{
	struct hl_calendar *c = make_cal("Europe/Berlin", EVERY_DAY_9_17, NULL, NULL, NULL);
	/* Sat 2026-03-28 16:00 CET + 2h: 1h Saturday, then Sunday 09:00 CEST + 1h */
	hl_ms due = hl_cal_add(c, lt(c, 2026, 3, 28, 16, 0), 2 * H_MS);
	assert_local(c, due, 2026, 3, 29, 10, 0);
	cr_assert_eq(due, utc_ms(2026, 3, 29, 8, 0)); /* CEST = UTC+2 */
	/* Sunday 08:30 CEST is before opening (it would be 07:30 on last week's clock) */
	cr_assert_not(hl_cal_is_open(c, utc_ms(2026, 3, 29, 6, 30)));
	cr_assert(hl_cal_is_open(c, utc_ms(2026, 3, 29, 7, 0)));
	/* the short night does not make deadlines due at once: Sat 16:30 + 1h = Sun 09:30 */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 3, 28, 16, 30), H_MS), 2026, 3, 29, 9, 30);
	/* business time across the change is 8h per day, although Sunday has 23 hours */
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 3, 28, 0, 0), lt(c, 2026, 3, 30, 0, 0)), 16 * H_MS);
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 3, 28, 12, 0), lt(c, 2026, 3, 29, 12, 0)), 8 * H_MS);
	/* fall back: Sunday has 25 hours, still 8 open */
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 10, 24, 0, 0), lt(c, 2026, 10, 26, 0, 0)), 16 * H_MS);
	assert_local(c, hl_cal_add(c, lt(c, 2026, 10, 24, 16, 0), 2 * H_MS), 2026, 10, 25, 10, 0);
	cr_assert_eq(hl_cal_add(c, lt(c, 2026, 10, 24, 16, 0), 2 * H_MS), utc_ms(2026, 10, 25, 9, 0));
	free_cal(c);

	/* weekday calendar: Friday 16:00 + 2h over the spring-forward weekend is Monday 10:00 CEST */
	c = make_cal("Europe/Berlin", WEEKDAYS_9_17, NULL, NULL, NULL);
	cr_assert_eq(hl_cal_add(c, lt(c, 2026, 3, 27, 16, 0), 2 * H_MS), utc_ms(2026, 3, 30, 8, 0));
	free_cal(c);

	/* New York, with the change on a Sunday 02:00 */
	c = make_cal("America/New_York", EVERY_DAY_9_17, NULL, NULL, NULL);
	cr_assert_eq(hl_cal_add(c, lt(c, 2026, 3, 7, 16, 0), 2 * H_MS), utc_ms(2026, 3, 8, 14, 0));
	cr_assert_eq(hl_cal_add(c, lt(c, 2026, 10, 31, 16, 0), 2 * H_MS), utc_ms(2026, 11, 1, 15, 0));
	free_cal(c);

	/* in 2040 the change comes from the TZif footer */
	c = make_cal("Europe/Berlin", EVERY_DAY_9_17, NULL, NULL, NULL);
	cr_assert_eq(hl_cal_add(c, lt(c, 2040, 3, 24, 16, 0), 2 * H_MS), utc_ms(2040, 3, 25, 8, 0));
	free_cal(c);
}

Test(helpdesk, dst_night_inside_opening_hours_counts_real_time)
{
	/* A 24-hour hotline: the spring-forward day has 23 open hours, the
	 * fall-back day 25. */
	struct hl_calendar *c = make_cal("Europe/Berlin", ALWAYS, NULL, NULL, NULL);
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 3, 29, 0, 0), lt(c, 2026, 3, 30, 0, 0)), 23 * H_MS);
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 10, 25, 0, 0), lt(c, 2026, 10, 26, 0, 0)), 25 * H_MS);
	free_cal(c);
	/* a night shift 00:00-06:00 spanning the change */
	static const char *const NIGHT[7] = { "00:00-06:00", "00:00-06:00", "00:00-06:00", "00:00-06:00",
					      "00:00-06:00", "00:00-06:00", "00:00-06:00" };
	c = make_cal("Europe/Berlin", NIGHT, NULL, NULL, NULL);
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 3, 29, 0, 0), lt(c, 2026, 3, 30, 0, 0)), 5 * H_MS);
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 10, 25, 0, 0), lt(c, 2026, 10, 26, 0, 0)), 7 * H_MS);
	/* 01:30 + 1h on the spring-forward night: 03:30 CEST, which is 01:30Z */
	cr_assert_eq(hl_cal_add(c, lt(c, 2026, 3, 29, 1, 30), H_MS), utc_ms(2026, 3, 29, 1, 30));
	free_cal(c);
	/* opening hours that start inside the gap start at the end of the gap */
	static const char *const GAP[7] = { "02:30-04:00", "", "", "", "", "", "" };
	c = make_cal("Europe/Berlin", GAP, NULL, NULL, NULL);
	cr_assert_eq(hl_cal_add(c, lt(c, 2026, 3, 28, 12, 0), 0), utc_ms(2026, 3, 29, 1, 30));
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 3, 29, 0, 0), lt(c, 2026, 3, 30, 0, 0)), 30 * MIN_MS);
	free_cal(c);
}

Test(helpdesk, hold_spanning_a_night)
{
	struct hl_calendar *c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, NULL, NULL, NULL);
	/* armed Monday 13:00 with 8 business hours: due Tuesday 13:00 */
	hl_ms start = lt(c, 2026, 11, 23, 13, 0);
	hl_ms due = hl_cal_add(c, start, 8 * H_MS);
	assert_local(c, due, 2026, 11, 24, 13, 0);
	/* put on hold Monday 20:00: 4 business hours remain (Tuesday 09:00-13:00) */
	hl_ms paused = lt(c, 2026, 11, 23, 20, 0);
	int64_t remaining = hl_cal_between(c, paused, due);
	cr_assert_eq(remaining, 4 * H_MS);
	/* resumed Tuesday 08:00 before opening: nothing was lost */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 24, 8, 0), remaining), 2026, 11, 24, 13, 0);
	/* resumed Tuesday 11:00: due 15:00 */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 24, 11, 0), remaining), 2026, 11, 24, 15, 0);
	/* paused at 15:00 on Monday, resumed Wednesday 10:00: 2h + 4h remain -> Wednesday 16:00 */
	remaining = hl_cal_between(c, lt(c, 2026, 11, 23, 15, 0), due);
	cr_assert_eq(remaining, 6 * H_MS);
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 25, 10, 0), remaining), 2026, 11, 25, 16, 0);
	/* the same hold on the wall clock: 17h remain, resumed 08:00 -> 01:00 next day */
	hl_ms wdue = hl_cal_add(NULL, start, 24 * H_MS);
	remaining = hl_cal_between(NULL, paused, wdue);
	cr_assert_eq(remaining, 17 * H_MS);
	cr_assert_eq(hl_cal_add(NULL, lt(c, 2026, 11, 24, 8, 0), remaining), lt(c, 2026, 11, 25, 1, 0));
	free_cal(c);
}

/* ------------------------------- skipped dates and intervals inside a gap */

Test(skipped, apia_skipped_friday_does_not_eat_saturday)
{
	/* Samoa moved across the date line: Friday 2011-12-30 never happened
	 * (Thursday 23:59:59 -10 was followed by Saturday 00:00 +14). */
	struct hl_calendar *c = make_cal("Pacific/Apia", FRI_SAT, NULL, NULL, NULL);
	hl_ms sat = lt(c, 2011, 12, 31, 0, 0);
	cr_assert_eq(hl_cal_local_day(c, sat), hl_days_from_civil(2011, 12, 31));
	/* Saturday keeps its own hours (the bug: Saturday 10:00 was closed) */
	cr_assert(hl_cal_is_open(c, lt(c, 2011, 12, 31, 10, 0)));
	cr_assert(hl_cal_is_open(c, lt(c, 2011, 12, 31, 9, 0)));
	cr_assert_not(hl_cal_is_open(c, lt(c, 2011, 12, 31, 8, 59)));
	/* the skipped Friday has no hours: they do not reappear on Saturday */
	cr_assert_not(hl_cal_is_open(c, lt(c, 2011, 12, 31, 17, 15)));
	cr_assert_eq(hl_cal_between(c, lt(c, 2011, 12, 29, 0, 0), lt(c, 2012, 1, 1, 0, 0)), 8 * H_MS);
	/* a deadline across the date: Fri 23 14:00 + 12h = 3.5 + 8 (Sat 24), then Sat 31 09:30 */
	assert_local(c, hl_cal_add(c, lt(c, 2011, 12, 23, 14, 0), 12 * H_MS), 2011, 12, 31, 9, 30);
	assert_local(c, hl_cal_add(c, lt(c, 2011, 12, 29, 12, 0), 0), 2011, 12, 31, 9, 0);
	assert_local(c, hl_cal_add(c, lt(c, 2011, 12, 29, 12, 0), 8 * H_MS), 2011, 12, 31, 17, 0);
	/* working days: the skipped Friday is not one */
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2011, 12, 29, 10, 0), 0), 2011, 12, 31, 17, 0);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2011, 12, 29, 10, 0), 1), 2011, 12, 31, 17, 0);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2011, 12, 29, 10, 0), 2), 2012, 1, 6, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2011, 12, 24, 10, 0), 1), 2011, 12, 31, 17, 0);
	free_cal(c);
}

Test(skipped, kiritimati_skipped_saturday_does_not_eat_sunday)
{
	/* Kiribati's Line Islands skipped Saturday 1994-12-31 (-10 -> +14). */
	static const char *const SAT_SUN[7] = { "09:00-17:00", "", "", "", "", "", "13:30-17:30" };
	struct hl_calendar *c = make_cal("Pacific/Kiritimati", SAT_SUN, NULL, NULL, NULL);
	cr_assert(hl_cal_is_open(c, lt(c, 1995, 1, 1, 10, 0)));
	cr_assert_not(hl_cal_is_open(c, lt(c, 1995, 1, 1, 17, 15)));
	cr_assert_eq(hl_cal_between(c, lt(c, 1994, 12, 30, 0, 0), lt(c, 1995, 1, 2, 0, 0)), 8 * H_MS);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 1994, 12, 30, 10, 0), 1), 1995, 1, 1, 17, 0);
	free_cal(c);
}

Test(skipped, interval_inside_a_dst_gap_does_not_delete_a_later_one)
{
	/* Berlin 2026-03-29: 02:00-03:00 does not exist.  02:30-02:53 moves
	 * forward by the gap to 03:30-03:53, inside 03:00-04:00: one hour open. */
	static const char *const SUN_GAP[7] = { "02:30-02:53,03:00-04:00", "", "", "", "", "", "" };
	struct hl_calendar *c = make_cal("Europe/Berlin", SUN_GAP, NULL, NULL, NULL);
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 3, 29, 0, 0), lt(c, 2026, 3, 30, 0, 0)), H_MS);
	cr_assert(hl_cal_is_open(c, utc_ms(2026, 3, 29, 1, 15))); /* 03:15 CEST */
	cr_assert(hl_cal_is_open(c, utc_ms(2026, 3, 29, 1, 0)));  /* 03:00 CEST */
	cr_assert(hl_cal_is_open(c, utc_ms(2026, 3, 29, 1, 59)));
	cr_assert_not(hl_cal_is_open(c, utc_ms(2026, 3, 29, 2, 0)));
	assert_local(c, hl_cal_add(c, lt(c, 2026, 3, 28, 12, 0), 0), 2026, 3, 29, 3, 0);
	cr_assert_eq(hl_cal_add(c, lt(c, 2026, 3, 28, 12, 0), H_MS), utc_ms(2026, 3, 29, 2, 0));
	/* a normal Sunday: 23 + 60 minutes */
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 4, 5, 0, 0), lt(c, 2026, 4, 6, 0, 0)), 83 * MIN_MS);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 3, 29, 0, 0), 0), 2026, 3, 29, 4, 0);
	free_cal(c);
}

Test(skipped, nuuk_saturday_gap_interval_does_not_delete_sunday_midnight)
{
	/* Nuuk springs forward at Saturday 23:00 -02 -> Sunday 00:00 -01, so a
	 * Saturday interval 23:15-23:30 lands on Sunday 00:15-00:30. */
	static const char *const NIGHT[7] = { "00:00-01:00", "", "", "", "", "", "23:15-23:30" };
	struct hl_calendar *c = make_cal("America/Nuuk", NIGHT, NULL, NULL, NULL);
	cr_assert(hl_cal_is_open(c, utc_ms(2026, 3, 29, 1, 5))); /* Sunday 00:05 -01 */
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 3, 28, 0, 0), lt(c, 2026, 3, 30, 0, 0)), H_MS);
	cr_assert_eq(hl_cal_add(c, lt(c, 2026, 3, 28, 12, 0), 0), utc_ms(2026, 3, 29, 1, 0));
	/* the Saturday (whose hours moved past midnight) still counts as a working day */
	cr_assert_eq(hl_cal_workdays_end(c, lt(c, 2026, 3, 28, 12, 0), 0), utc_ms(2026, 3, 29, 1, 30));
	cr_assert_eq(hl_cal_workdays_end(c, lt(c, 2026, 3, 28, 12, 0), 1), utc_ms(2026, 3, 29, 2, 0));
	free_cal(c);
}

Test(skipped, hours_wholly_inside_a_gap_that_vanish_are_not_a_working_day)
{
	/* Berlin Sunday 02:00-03:00 on 2026-03-29 is entirely skipped: no open
	 * time, so that Sunday is not a working day (a week later it is). */
	static const char *const SUN_2_3[7] = { "02:00-03:00", "", "", "", "", "", "" };
	struct hl_calendar *c = make_cal("Europe/Berlin", SUN_2_3, NULL, NULL, NULL);
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 3, 29, 0, 0), lt(c, 2026, 3, 30, 0, 0)), 0);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 3, 28, 12, 0), 0), 2026, 4, 5, 3, 0);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 3, 28, 12, 0), 1), 2026, 4, 5, 3, 0);
	assert_local(c, hl_cal_add(c, lt(c, 2026, 3, 28, 12, 0), 0), 2026, 4, 5, 2, 0);
	free_cal(c);
}
