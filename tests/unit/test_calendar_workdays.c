/*
 * test_calendar_workdays.c - working days (Nwd, docs/calendars.md): counted
 * after the start day, 0wd on a closed day or after closing, the span
 * grammar, and the hard cases on China's National Day pattern (a week off
 * between two make-up working days with their own hours): dispatch on a
 * holiday or a make-up day, closing and opening edges, lunch breaks, DST,
 * 13 and 99 working days, never open and bad arguments.
 *
 * The calendar tests: test_calendar_hours.c (civil dates, parsing, open
 * hours), test_calendar_helpdesk.c (reported bugs, DST, skipped dates),
 * test_calendar_workdays.c (Nwd), test_calendar_properties.c (properties
 * against references, speed); the helpers are calendar_fixtures.h.
 */
#include <criterion/criterion.h>
#include <unistd.h>

#include "calendar_fixtures.h"

/* ------------------------------------------------ working days (Nwd) */

Test(workdays, counted_after_the_start_day_across_golden_week)
{
	struct hl_calendar *c = make_cal("Asia/Shanghai", OFFICE_CN, GOLDEN_WEEK, MAKEUP, "09:00-17:00");
	hl_ms wed = lt(c, 2026, 9, 30, 16, 0); /* Wednesday before the holiday */
	assert_local(c, hl_cal_workdays_end(c, wed, 0), 2026, 9, 30, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, wed, 1), 2026, 10, 8, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, wed, 2), 2026, 10, 9, 17, 30);
	/* the make-up Saturday counts, with its own hours */
	assert_local(c, hl_cal_workdays_end(c, wed, 3), 2026, 10, 10, 17, 0);
	assert_local(c, hl_cal_workdays_end(c, wed, 4), 2026, 10, 12, 17, 30);
	/* through hl_deadline and a parsed span */
	int64_t span;
	cr_assert_eq(hl_parse_span("3wd", &span), 0);
	assert_local(c, hl_deadline(c, wed, span), 2026, 10, 10, 17, 0);
	free_cal(c);
}

Test(workdays, zero_wd_on_a_closed_day_or_after_closing_is_the_next_working_day)
{
	struct hl_calendar *c = make_cal("Asia/Shanghai", OFFICE_CN, GOLDEN_WEEK, MAKEUP, "09:00-17:00");
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 10, 3, 10, 0), 0), 2026, 10, 8, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 9, 30, 17, 30), 0), 2026, 10, 8, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 9, 30, 8, 0), 0), 2026, 9, 30, 17, 30);
	/* a holiday start: 1wd is the first working day after it */
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 10, 3, 10, 0), 1), 2026, 10, 8, 17, 30);
	cr_assert_eq(hl_cal_workdays_end(NULL, 0, 1), INT64_MAX);
	free_cal(c);
}

Test(workdays, thirteen_working_days_are_expressible)
{
	/* a help desk capped SLAs at 99 hours: 13 working days could not be written */
	struct hl_calendar *c = make_cal("Asia/Shanghai", OFFICE_CN, NULL, NULL, NULL);
	int64_t span;
	cr_assert_eq(hl_parse_span("13wd", &span), 0);
	cr_assert(hl_span_is_wd(span));
	cr_assert_eq(hl_span_wd(span), 13);
	/* Monday 2026-11-02 10:00 + 13wd = Thursday 2026-11-19 closing */
	assert_local(c, hl_deadline(c, lt(c, 2026, 11, 2, 10, 0), span), 2026, 11, 19, 17, 30);
	free_cal(c);
}

Test(workdays, span_grammar)
{
	int64_t s;
	cr_assert_eq(hl_parse_span("90s", &s), 0);
	cr_assert_eq(s, 90000);
	cr_assert_eq(hl_parse_span(" 0wd ", &s), 0);
	cr_assert_eq(s, HL_SPAN_WD(0));
	cr_assert_eq(hl_parse_span("3 wd", &s), -1);
	cr_assert_eq(hl_parse_span("wd", &s), -1);
	cr_assert_eq(hl_parse_span("-1wd", &s), -1);
	cr_assert_eq(hl_parse_span("99999wd", &s), -1);
	cr_assert_eq(hl_parse_span("3WD", &s), -1);
}

/* ------------------------------------------ working days, the hard cases */

/* national_day() (calendar_fixtures.h): China's National Day pattern, a week
 * off between a make-up working Sunday and a make-up working Saturday. */

/* The working days after Fri 2026-09-25, as (month, day, closing hour, minute). */
static const int ND_DAYS[][4] = {
	{ 9, 27, 17, 0 },  /* 1: make-up Sunday */
	{ 9, 28, 17, 30 }, /* 2 */
	{ 9, 29, 17, 30 }, /* 3 */
	{ 9, 30, 17, 30 }, /* 4: last day before the holiday */
	{ 10, 8, 17, 30 }, /* 5: first day after it */
	{ 10, 9, 17, 30 }, /* 6 */
	{ 10, 10, 17, 0 }, /* 7: make-up Saturday */
	{ 10, 12, 17, 30 }, /* 8 */
	{ 10, 13, 17, 30 }, /* 9 */
};

Test(workdays, friday_afternoon_before_a_week_long_holiday)
{
	struct hl_calendar *c = national_day();
	hl_ms fri = lt(c, 2026, 9, 25, 15, 0);
	assert_local(c, hl_cal_workdays_end(c, fri, 0), 2026, 9, 25, 17, 30);
	for (int n = 1; n <= 9; n++) {
		const int *d = ND_DAYS[n - 1];
		assert_local(c, hl_cal_workdays_end(c, fri, n), 2026, d[0], d[1], d[2], d[3]);
	}
	/* "enquiries within 3 working days": the make-up Sunday counts */
	int64_t span;
	cr_assert_eq(hl_parse_span("3wd", &span), 0);
	assert_local(c, hl_deadline(c, fri, span), 2026, 9, 29, 17, 30);
	/* 5wd jumps the whole holiday */
	cr_assert_eq(hl_parse_span("5wd", &span), 0);
	assert_local(c, hl_deadline(c, fri, span), 2026, 10, 8, 17, 30);
	free_cal(c);
}

Test(workdays, dispatch_on_a_holiday)
{
	struct hl_calendar *c = national_day();
	for (int day = 1; day <= 7; day++) {
		hl_ms t = lt(c, 2026, 10, day, 10, 0);
		/* 0wd and 1wd both end on the first working day after the holiday */
		assert_local(c, hl_cal_workdays_end(c, t, 0), 2026, 10, 8, 17, 30);
		assert_local(c, hl_cal_workdays_end(c, t, 1), 2026, 10, 8, 17, 30);
		assert_local(c, hl_cal_workdays_end(c, t, 2), 2026, 10, 9, 17, 30);
		assert_local(c, hl_cal_workdays_end(c, t, 3), 2026, 10, 10, 17, 0);
	}
	/* the holiday's first minute and last minute */
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 10, 1, 0, 0), 0), 2026, 10, 8, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 10, 7, 23, 59), 1), 2026, 10, 8, 17, 30);
	free_cal(c);
}

Test(workdays, dispatch_on_a_makeup_day)
{
	struct hl_calendar *c = national_day();
	/* make-up Sunday, during its hours, in its lunch break, after closing */
	hl_ms sun = lt(c, 2026, 9, 27, 10, 0);
	assert_local(c, hl_cal_workdays_end(c, sun, 0), 2026, 9, 27, 17, 0);
	assert_local(c, hl_cal_workdays_end(c, sun, 1), 2026, 9, 28, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 9, 27, 12, 30), 0), 2026, 9, 27, 17, 0);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 9, 27, 17, 0), 0), 2026, 9, 28, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 9, 27, 17, 10), 0), 2026, 9, 28, 17, 30);
	/* make-up Saturday after the holiday: 1wd skips the ordinary Sunday */
	hl_ms sat = lt(c, 2026, 10, 10, 9, 0);
	assert_local(c, hl_cal_workdays_end(c, sat, 0), 2026, 10, 10, 17, 0);
	assert_local(c, hl_cal_workdays_end(c, sat, 1), 2026, 10, 12, 17, 30);
	/* an ordinary Saturday is closed: 0wd is the make-up Sunday */
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 9, 26, 10, 0), 0), 2026, 9, 27, 17, 0);
	free_cal(c);
}

Test(workdays, closing_and_opening_edges)
{
	struct hl_calendar *c = national_day();
	/* after closing on the last day before the holiday */
	hl_ms late = lt(c, 2026, 9, 30, 18, 0);
	assert_local(c, hl_cal_workdays_end(c, late, 0), 2026, 10, 8, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, late, 1), 2026, 10, 8, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, late, 2), 2026, 10, 9, 17, 30);
	/* exactly at closing: the day is over (intervals are [open, close)) */
	hl_ms close = lt(c, 2026, 9, 30, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, close, 0), 2026, 10, 8, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, close, 1), 2026, 10, 8, 17, 30);
	/* one millisecond before closing: still today */
	assert_local(c, hl_cal_workdays_end(c, close - 1, 0), 2026, 9, 30, 17, 30);
	assert_local(c, hl_cal_workdays_end(c, close - 1, 1), 2026, 10, 8, 17, 30);
	/* exactly at opening, before opening, at midnight, in the lunch break */
	static const int starts[][2] = { { 9, 0 }, { 8, 59 }, { 0, 0 }, { 12, 0 }, { 13, 29 }, { 13, 30 } };
	for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
		hl_ms t = lt(c, 2026, 9, 30, starts[i][0], starts[i][1]);
		assert_local(c, hl_cal_workdays_end(c, t, 0), 2026, 9, 30, 17, 30);
		assert_local(c, hl_cal_workdays_end(c, t, 1), 2026, 10, 8, 17, 30);
	}
	/* the last minute of the start day, after closing */
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 9, 29, 23, 59), 0), 2026, 9, 30, 17, 30);
	free_cal(c);
}

Test(workdays, lunch_breaks_close_at_the_end_of_the_last_interval)
{
	static const char *const SPLIT[7] = { "", "08:00-10:00,10:30-12:00,14:00-18:00",
					      "08:00-10:00,10:30-12:00,14:00-18:00",
					      "08:00-10:00,10:30-12:00,14:00-18:00",
					      "08:00-10:00,10:30-12:00,14:00-18:00",
					      "08:00-10:00,10:30-12:00,14:00-18:00", "" };
	struct hl_calendar *c = make_cal("Asia/Shanghai", SPLIT, NULL, NULL, NULL);
	/* Monday 2026-11-23 */
	static const int starts[][2] = { { 7, 0 }, { 10, 15 }, { 12, 0 }, { 13, 59 }, { 17, 59 } };
	for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
		assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 11, 23, starts[i][0], starts[i][1]), 0),
			     2026, 11, 23, 18, 0);
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 11, 23, 18, 0), 0), 2026, 11, 24, 18, 0);
	/* the closing time is open right before, closed at */
	hl_ms e = hl_cal_workdays_end(c, lt(c, 2026, 11, 23, 10, 15), 2);
	assert_local(c, e, 2026, 11, 25, 18, 0);
	cr_assert(hl_cal_is_open(c, e - 1));
	cr_assert_not(hl_cal_is_open(c, e));
	free_cal(c);
}

Test(workdays, across_dst_changes_closing_in_local_time)
{
	struct hl_calendar *c = make_cal("Europe/Berlin", WEEKDAYS_9_17, NULL, NULL, NULL);
	/* Friday 2026-03-27 15:00 CET; the clocks go forward on Sunday */
	hl_ms fri = lt(c, 2026, 3, 27, 15, 0);
	cr_assert_eq(hl_cal_workdays_end(c, fri, 0), utc_ms(2026, 3, 27, 16, 0)); /* 17:00 CET */
	cr_assert_eq(hl_cal_workdays_end(c, fri, 1), utc_ms(2026, 3, 30, 15, 0)); /* 17:00 CEST */
	assert_local(c, hl_cal_workdays_end(c, fri, 1), 2026, 3, 30, 17, 0);
	assert_local(c, hl_cal_workdays_end(c, fri, 5), 2026, 4, 3, 17, 0);
	/* ... and back on 2026-10-25 */
	fri = lt(c, 2026, 10, 23, 15, 0);
	cr_assert_eq(hl_cal_workdays_end(c, fri, 0), utc_ms(2026, 10, 23, 15, 0)); /* 17:00 CEST */
	cr_assert_eq(hl_cal_workdays_end(c, fri, 1), utc_ms(2026, 10, 26, 16, 0)); /* 17:00 CET */
	free_cal(c);

	/* a calendar open on the change day itself */
	c = make_cal("America/New_York", EVERY_DAY_9_17, NULL, NULL, NULL);
	hl_ms sat = lt(c, 2026, 3, 7, 10, 0);
	cr_assert_eq(hl_cal_workdays_end(c, sat, 0), utc_ms(2026, 3, 7, 22, 0)); /* 17:00 EST */
	cr_assert_eq(hl_cal_workdays_end(c, sat, 1), utc_ms(2026, 3, 8, 21, 0)); /* 17:00 EDT */
	cr_assert_eq(hl_cal_workdays_end(c, sat, 2), utc_ms(2026, 3, 9, 21, 0));
	/* a start at the instant of the change counts on that day */
	cr_assert_eq(hl_cal_workdays_end(c, utc_ms(2026, 3, 8, 7, 0), 0), utc_ms(2026, 3, 8, 21, 0));
	sat = lt(c, 2026, 10, 31, 10, 0);
	cr_assert_eq(hl_cal_workdays_end(c, sat, 1), utc_ms(2026, 11, 1, 22, 0)); /* 17:00 EST */
	/* the repeated hour 01:00-02:00 belongs to the Sunday, both times */
	cr_assert_eq(hl_cal_workdays_end(c, utc_ms(2026, 11, 1, 5, 30), 0), utc_ms(2026, 11, 1, 22, 0));
	cr_assert_eq(hl_cal_workdays_end(c, utc_ms(2026, 11, 1, 6, 30), 0), utc_ms(2026, 11, 1, 22, 0));
	free_cal(c);

	/* 24/7 across the change: a day closes at the next local midnight */
	c = make_cal("Europe/Berlin", ALWAYS, NULL, NULL, NULL);
	hl_ms sun = lt(c, 2026, 3, 29, 10, 0);
	cr_assert_eq(hl_cal_workdays_end(c, sun, 0), utc_ms(2026, 3, 29, 22, 0));
	cr_assert_eq(hl_cal_workdays_end(c, sun, 1), utc_ms(2026, 3, 30, 22, 0));
	cr_assert_eq(hl_cal_workdays_end(c, lt(c, 2026, 3, 28, 10, 0), 1), utc_ms(2026, 3, 29, 22, 0));
	free_cal(c);
}

Test(workdays, thirteen_and_ninety_nine_working_days)
{
	/* The help-desk bug: SLAs capped at 99 hours, so "complaints within 13
	 * working days" could not be written.  13wd and 99wd are plain spans. */
	struct hl_calendar *c = national_day();
	hl_ms fri = lt(c, 2026, 9, 25, 15, 0);
	int64_t span;
	cr_assert_eq(hl_parse_span("13wd", &span), 0);
	/* after the 9 in the table (Tue 10-13): Wed, Thu, Fri, then Monday */
	assert_local(c, hl_deadline(c, fri, span), 2026, 10, 19, 17, 30);
	cr_assert_eq(hl_parse_span("99wd", &span), 0);
	cr_assert_eq(hl_span_wd(span), 99);
	/* 99 working days after Fri 09-25: 9 in the table reach Tue 10-13, then
	 * 90 plain weekdays = 18 weeks, Tue 2027-02-16 */
	assert_local(c, hl_deadline(c, fri, span), 2027, 2, 16, 17, 30);
	/* 99 hours of open time is something else entirely */
	cr_assert_eq(hl_parse_span("99h", &span), 0);
	cr_assert_not(hl_span_is_wd(span));
	hl_ms h99 = hl_deadline(c, fri, span);
	cr_assert_eq(hl_cal_between(c, fri, h99), 99 * H_MS);
	/* the largest span is finite on an ordinary calendar */
	cr_assert_eq(hl_parse_span("3660wd", &span), 0);
	hl_ms far = hl_deadline(c, fri, span);
	cr_assert_neq(far, INT64_MAX);
	cr_assert(hl_cal_is_open(c, far - 1));
	free_cal(c);
}

Test(workdays, never_open_and_bad_arguments)
{
	alarm(10); /* guard against hangs (criterion .timeout leaks in its runner) */
	struct hl_calendar *c = make_cal("Asia/Shanghai", NEVER, NULL, NULL, "");
	hl_ms t = utc_ms(2026, 1, 1, 0, 0);
	cr_assert_eq(hl_cal_workdays_end(c, t, 0), INT64_MAX);
	cr_assert_eq(hl_cal_workdays_end(c, t, 1), INT64_MAX);
	cr_assert_eq(hl_cal_workdays_end(c, t, 13), INT64_MAX);
	cr_assert_eq(hl_deadline(c, t, HL_SPAN_WD(3)), INT64_MAX);
	free_cal(c);
	cr_assert_eq(hl_cal_workdays_end(NULL, t, 0), INT64_MAX);
	cr_assert_eq(hl_deadline(NULL, t, HL_SPAN_WD(1)), INT64_MAX);
	cr_assert_eq(hl_deadline(NULL, t, 5000), t + 5000);
	c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, NULL, NULL, NULL);
	cr_assert_eq(hl_cal_workdays_end(c, t, -1), INT64_MAX);
	cr_assert_eq(hl_cal_workdays_end(c, INT64_MAX, 1), INT64_MAX);
	cr_assert_eq(hl_cal_workdays_end(c, INT64_MIN, 1), INT64_MAX);
	free_cal(c);
	/* hours exist, but only on make-up days that are all in the past */
	c = make_cal("Asia/Shanghai", NEVER, NULL, ND_MAKEUP, ND_MAKEUP_HOURS);
	cr_assert(hl_calendar_has_hours(c));
	assert_local(c, hl_cal_workdays_end(c, lt(c, 2026, 9, 1, 0, 0), 2), 2026, 10, 10, 17, 0);
	cr_assert_eq(hl_cal_workdays_end(c, lt(c, 2026, 9, 1, 0, 0), 3), INT64_MAX);
	free_cal(c);
	/* one working day a month for 200 years: 3660wd gives up after
	 * HL_CAL_MAX_WALK days instead of walking 300 years */
	c = make_cal("Asia/Shanghai", NEVER, NULL, NULL, "09:00-10:00");
	for (int y = 2026; y < 2226; y++)
		for (int m = 1; m <= 12; m++) {
			int32_t d = hl_days_from_civil(y, m, 1);
			cr_assert_eq(hl_calendar_add_days(&c->workdays, &c->n_workdays, d, d), 0);
		}
	hl_ms jan = lt(c, 2026, 1, 1, 12, 0);
	assert_local(c, hl_cal_workdays_end(c, jan, 1), 2026, 2, 1, 10, 0);
	assert_local(c, hl_cal_workdays_end(c, jan, 1000), 2109, 5, 1, 10, 0);
	cr_assert_eq(hl_cal_workdays_end(c, jan, 3660), INT64_MAX);
	free_cal(c);
}
