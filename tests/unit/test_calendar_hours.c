/*
 * test_calendar_hours.c - unit tests for calendar.c's ground floor: civil
 * dates (days from 1970, weekdays, leap years), the parsing of opening hours
 * and date ranges, and the business-time arithmetic (hl_cal_add /
 * hl_cal_between / hl_cal_is_open) on plain calendars: 9-17 on weekdays, an
 * office with a lunch break, Golden Week with its make-up Saturday, open
 * 24/7, never open, and extreme inputs.  The worked examples of
 * docs/calendars.md are these tests and test_calendar_helpdesk.c's.
 *
 * The calendar tests: test_calendar_hours.c (civil dates, parsing, open
 * hours), test_calendar_helpdesk.c (reported bugs, DST, skipped dates),
 * test_calendar_workdays.c (Nwd), test_calendar_properties.c (properties
 * against references, speed); the helpers are calendar_fixtures.h.
 */
#include <criterion/criterion.h>
#include <unistd.h>

#include "calendar_fixtures.h"

/* ------------------------------------------------------------ civil dates */

Test(civil, known_days)
{
	cr_assert_eq(hl_days_from_civil(1970, 1, 1), 0);
	cr_assert_eq(hl_days_from_civil(1969, 12, 31), -1);
	cr_assert_eq(hl_days_from_civil(2000, 3, 1), 11017);
	cr_assert_eq(hl_days_from_civil(2026, 10, 1), 20727);
	cr_assert_eq(hl_weekday(0), 4);   /* Thursday */
	cr_assert_eq(hl_weekday(-1), 3);  /* Wednesday */
	cr_assert_eq(hl_weekday(-4), 0);
	cr_assert_eq(hl_weekday(-5), 6);
	cr_assert_eq(hl_weekday(hl_days_from_civil(2026, 10, 10)), 6); /* a Saturday */
	cr_assert_eq(hl_weekday(hl_days_from_civil(2026, 11, 20)), 5); /* a Friday */
	cr_assert_eq(hl_weekday(hl_days_from_civil(1600, 1, 1)), 6);
	int y, m, d;
	hl_civil_from_days(hl_days_from_civil(2024, 2, 29), &y, &m, &d);
	cr_assert(y == 2024 && m == 2 && d == 29);
	hl_civil_from_days(-719468, &y, &m, &d); /* 0000-03-01 */
	cr_assert(y == 0 && m == 3 && d == 1);
}

Test(civil, round_trip_and_weekday_sequence)
{
	int py = 0, pm = 0, pd = 0;
	for (int32_t z = -800000; z <= 800000; z++) {
		int y, m, d;
		hl_civil_from_days(z, &y, &m, &d);
		cr_assert_eq(hl_days_from_civil(y, m, d), z);
		cr_assert(m >= 1 && m <= 12 && d >= 1 && d <= 31);
		if (z > -800000) {
			/* consecutive days: next day of the month, or the 1st of the next month */
			bool next = (y == py && m == pm && d == pd + 1) ||
				    (d == 1 && ((y == py && m == pm + 1) || (y == py + 1 && m == 1 && pm == 12)));
			cr_assert(next, "day %d", z);
			cr_assert_eq(hl_weekday(z), (hl_weekday(z - 1) + 1) % 7);
		}
		py = y;
		pm = m;
		pd = d;
	}
}

Test(civil, leap_years_and_month_lengths)
{
	cr_assert(hl_is_leap_year(2024) && hl_is_leap_year(2000) && hl_is_leap_year(1600));
	cr_assert(!hl_is_leap_year(2026) && !hl_is_leap_year(1900) && !hl_is_leap_year(2100));
	cr_assert(hl_is_leap_year(0) && hl_is_leap_year(-4) && !hl_is_leap_year(-1));
	cr_assert_eq(hl_days_in_month(2024, 2), 29);
	cr_assert_eq(hl_days_in_month(2026, 2), 28);
	cr_assert_eq(hl_days_in_month(2026, 4), 30);
	cr_assert_eq(hl_days_in_month(2026, 12), 31);
	cr_assert_eq(hl_days_in_month(2026, 0), 0);
	cr_assert_eq(hl_days_in_month(2026, 13), 0);
	/* month lengths agree with the day numbers, over four centuries */
	for (int y = 1800; y < 2200; y++)
		for (int m = 1; m <= 12; m++) {
			int32_t first = hl_days_from_civil(y, m, 1);
			int32_t next = m == 12 ? hl_days_from_civil(y + 1, 1, 1) : hl_days_from_civil(y, m + 1, 1);
			cr_assert_eq(next - first, hl_days_in_month(y, m), "%d-%02d", y, m);
		}
}

/* ------------------------------------------------------------ day hours */

Test(parse, day_hours_good)
{
	struct hl_day_hours h;
	cr_assert_eq(hl_parse_day_hours("09:00-12:00,13:30-17:30", &h), 0);
	cr_assert_eq(h.n, 2);
	cr_assert(h.iv[0].open_min == 540 && h.iv[0].close_min == 720);
	cr_assert(h.iv[1].open_min == 810 && h.iv[1].close_min == 1050);
	cr_assert_eq(hl_parse_day_hours("", &h), 0);
	cr_assert_eq(h.n, 0);
	cr_assert_eq(hl_parse_day_hours("closed", &h), 0);
	cr_assert_eq(h.n, 0);
	cr_assert_eq(hl_parse_day_hours(" Closed ", &h), 0);
	cr_assert_eq(h.n, 0);
	cr_assert_eq(hl_parse_day_hours("00:00-24:00", &h), 0);
	cr_assert(h.n == 1 && h.iv[0].open_min == 0 && h.iv[0].close_min == 1440);
	cr_assert_eq(hl_parse_day_hours("9:00-17:00", &h), 0);
	cr_assert(h.n == 1 && h.iv[0].open_min == 540);
	cr_assert_eq(hl_parse_day_hours(" 09:00 - 12:00 , 13:00 - 14:00 ", &h), 0);
	cr_assert_eq(h.n, 2);
	/* unsorted input is sorted */
	cr_assert_eq(hl_parse_day_hours("13:30-17:30,09:00-12:00", &h), 0);
	cr_assert(h.n == 2 && h.iv[0].open_min == 540 && h.iv[1].open_min == 810);
	/* touching intervals merge */
	cr_assert_eq(hl_parse_day_hours("12:00-17:00,09:00-12:00", &h), 0);
	cr_assert(h.n == 1 && h.iv[0].open_min == 540 && h.iv[0].close_min == 1020);
	cr_assert_eq(hl_parse_day_hours("00:00-00:01,23:59-24:00", &h), 0);
	cr_assert_eq(h.n, 2);
	cr_assert_eq(hl_parse_day_hours("01:00-02:00,03:00-04:00,05:00-06:00,07:00-08:00,"
					"09:00-10:00,11:00-12:00,13:00-14:00,15:00-16:00", &h), 0);
	cr_assert_eq(h.n, 8);
}

Test(parse, day_hours_bad)
{
	static const char *bad[] = {
		"09:00", "09:00-", "-17:00", "17:00-09:00", "09:00-09:00", "24:00-24:00", "24:01-24:00",
		"25:00-26:00", "09:60-10:00", "09:0-10:00", "009:00-10:00", "9-17", "09:00-17:00x",
		"09:00-12:00,11:00-13:00", "09:00-17:00,10:00-11:00", "09:00-12:00;13:00-14:00",
		"09:00-12:00,", ",09:00-12:00", "09:00--12:00", "abc", "closed today", "24:00",
		"-09:00-10:00", "+09:00-10:00", "09:00-24:30", "09:00-12:00,,13:00-14:00",
		"01:00-02:00,03:00-04:00,05:00-06:00,07:00-08:00,09:00-10:00,11:00-12:00,"
		"13:00-14:00,15:00-16:00,17:00-18:00",
		"09:00-12:00,09:00-12:00", "09:00-17:00 closed",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct hl_day_hours h = { .n = 5 };
		cr_expect_eq(hl_parse_day_hours(bad[i], &h), -1, "accepted \"%s\"", bad[i]);
		cr_expect_eq(h.n, 5, "output changed on failure for \"%s\"", bad[i]);
	}
	struct hl_day_hours h;
	cr_assert_eq(hl_parse_day_hours(NULL, &h), -1);
	cr_assert_eq(hl_parse_day_hours("09:00-17:00", NULL), -1);
}

/* ------------------------------------------------------------ date ranges */

Test(parse, date_range_good)
{
	int32_t a, b;
	cr_assert_eq(hl_parse_date_range("2026-10-01", &a, &b), 0);
	cr_assert(a == hl_days_from_civil(2026, 10, 1) && b == a);
	cr_assert_eq(hl_parse_date_range("2026-10-01..2026-10-07", &a, &b), 0);
	cr_assert(a == hl_days_from_civil(2026, 10, 1) && b == hl_days_from_civil(2026, 10, 7));
	cr_assert_eq(hl_parse_date_range("2024-02-29", &a, &b), 0);
	cr_assert_eq(hl_parse_date_range("2000-02-29", &a, &b), 0);
	cr_assert_eq(hl_parse_date_range("2026-12-31..2027-01-01", &a, &b), 0);
	cr_assert_eq(b - a, 1);
	cr_assert_eq(hl_parse_date_range("2026-10-01..2026-10-01", &a, &b), 0);
	cr_assert_eq(hl_parse_date_range(" 2026-10-01 ", &a, &b), 0);
}

Test(parse, date_range_bad)
{
	static const char *bad[] = {
		"", "2026-02-29", "2100-02-29", "1900-02-29", "2026-13-01", "2026-00-10", "2026-04-31",
		"2026-10-00", "2026-10-32", "2026-10-07..2026-10-01", "2026-10-1", "26-10-01",
		"2026-10-01..", "..2026-10-01", "2026-10-01...2026-10-02", "2026/10/01", "2026-10-01x",
		"2026-10-01 2026-10-02", "2026-10-01..2026-02-30", "20261001", "+2026-10-01",
		"2026-1o-01", "2026-10-01.2026-10-02",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int32_t a = 7, b = 7;
		cr_expect_eq(hl_parse_date_range(bad[i], &a, &b), -1, "accepted \"%s\"", bad[i]);
		cr_expect(a == 7 && b == 7, "output changed for \"%s\"", bad[i]);
	}
	int32_t a, b;
	cr_assert_eq(hl_parse_date_range(NULL, &a, &b), -1);
}

Test(parse, add_days_sorted_unique)
{
	int32_t *days = NULL;
	size_t n = 0;
	cr_assert_eq(hl_calendar_add_days(&days, &n, 10, 12), 0);
	cr_assert_eq(hl_calendar_add_days(&days, &n, 5, 5), 0);
	cr_assert_eq(hl_calendar_add_days(&days, &n, 11, 14), 0);
	cr_assert_eq(hl_calendar_add_days(&days, &n, -3, -2), 0);
	int32_t want[] = { -3, -2, 5, 10, 11, 12, 13, 14 };
	cr_assert_eq(n, 8);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(days[i], want[i]);
	cr_assert_eq(hl_calendar_add_days(&days, &n, 3, 2), -1);
	cr_assert_eq(hl_calendar_add_days(&days, &n, 0, HL_CAL_MAX_DAYS), -1);
	cr_assert_eq(n, 8);
	cr_assert_eq(hl_calendar_add_days(NULL, &n, 1, 2), -1);
	free(days);
}

/* ----------------------------------------------- the 9-17 weekday calendar */

Test(cal, friday_afternoon_plus_2h_is_monday_10)
{
	struct hl_calendar *c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, NULL, NULL, NULL);
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 20, 16, 0), 2 * H_MS), 2026, 11, 23, 10, 0);
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 11, 20, 16, 0), lt(c, 2026, 11, 23, 10, 0)), 2 * H_MS);
	free_cal(c);
}

Test(cal, saturday_start_counts_from_monday_9)
{
	struct hl_calendar *c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, NULL, NULL, NULL);
	hl_ms sat = lt(c, 2026, 11, 21, 10, 0);
	assert_local(c, hl_cal_add(c, sat, 0), 2026, 11, 23, 9, 0);
	assert_local(c, hl_cal_add(c, sat, 3 * H_MS), 2026, 11, 23, 12, 0);
	cr_assert_eq(hl_cal_add(c, sat, 1), lt(c, 2026, 11, 23, 9, 0) + 1);
	cr_assert_eq(hl_cal_between(c, sat, lt(c, 2026, 11, 23, 9, 0)), 0);
	free_cal(c);
}

Test(cal, tuesday_evening_plus_30m_is_wednesday_0930)
{
	struct hl_calendar *c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, NULL, NULL, NULL);
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 24, 20, 0), 30 * MIN_MS), 2026, 11, 25, 9, 30);
	/* early morning too */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 25, 6, 0), 30 * MIN_MS), 2026, 11, 25, 9, 30);
	free_cal(c);
}

Test(cal, business_48h_is_six_working_days)
{
	struct hl_calendar *c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, NULL, NULL, NULL);
	/* Mon 09:00 + 48h: Mon..Fri is 40h, next Monday 17:00 is the 48th hour */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 16, 9, 0), 48 * H_MS), 2026, 11, 23, 17, 0);
	/* from Wed 13:00: Wed 4h, Thu, Fri, Mon, Tue, Wed 8h each = 44h, Thu 13:00 = 48h */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 18, 13, 0), 48 * H_MS), 2026, 11, 26, 13, 0);
	free_cal(c);
}

Test(cal, deadline_at_closing_time_is_closing_time)
{
	struct hl_calendar *c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, NULL, NULL, NULL);
	hl_ms due = hl_cal_add(c, lt(c, 2026, 11, 23, 16, 0), H_MS);
	assert_local(c, due, 2026, 11, 23, 17, 0);
	cr_assert_not(hl_cal_is_open(c, due));
	cr_assert(hl_cal_is_open(c, due - 1));
	/* Friday 09:00 + 8h is Friday 17:00, not Monday 09:00 */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 20, 9, 0), 8 * H_MS), 2026, 11, 20, 17, 0);
	/* but one more millisecond is Monday 09:00:00.001 */
	cr_assert_eq(hl_cal_add(c, lt(c, 2026, 11, 20, 9, 0), 8 * H_MS + 1), lt(c, 2026, 11, 23, 9, 0) + 1);
	free_cal(c);
}

Test(cal, amount_zero)
{
	struct hl_calendar *c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, NULL, NULL, NULL);
	hl_ms t = lt(c, 2026, 11, 23, 9, 0);
	cr_assert_eq(hl_cal_add(c, t, 0), t);
	cr_assert_eq(hl_cal_add(c, t + 12345, 0), t + 12345);
	/* at closing time: closed, so the next opening */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 23, 17, 0), 0), 2026, 11, 24, 9, 0);
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 23, 8, 59), 0), 2026, 11, 23, 9, 0);
	/* negative amounts count as zero */
	cr_assert_eq(hl_cal_add(c, t, -5), t);
	cr_assert_eq(hl_cal_add(NULL, t, -5), t);
	free_cal(c);
}

Test(cal, is_open_edges)
{
	struct hl_calendar *c = make_cal("Asia/Shanghai", OFFICE_CN, NULL, NULL, NULL);
	cr_assert_not(hl_cal_is_open(c, lt(c, 2026, 11, 23, 9, 0) - 1));
	cr_assert(hl_cal_is_open(c, lt(c, 2026, 11, 23, 9, 0)));
	cr_assert(hl_cal_is_open(c, lt(c, 2026, 11, 23, 12, 0) - 1));
	cr_assert_not(hl_cal_is_open(c, lt(c, 2026, 11, 23, 12, 0)));
	cr_assert_not(hl_cal_is_open(c, lt(c, 2026, 11, 23, 13, 0)));
	cr_assert(hl_cal_is_open(c, lt(c, 2026, 11, 23, 13, 30)));
	cr_assert_not(hl_cal_is_open(c, lt(c, 2026, 11, 23, 17, 30)));
	cr_assert_not(hl_cal_is_open(c, lt(c, 2026, 11, 21, 10, 0))); /* Saturday */
	cr_assert(hl_cal_is_open(NULL, 0));
	/* lunch break is skipped: 11:00 + 2h = 14:30 */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 23, 11, 0), 2 * H_MS), 2026, 11, 23, 14, 30);
	/* 12:00 + 0 = 13:30 */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 11, 23, 12, 0), 0), 2026, 11, 23, 13, 30);
	/* one day is 7h */
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 11, 23, 0, 0), lt(c, 2026, 11, 24, 0, 0)), 7 * H_MS);
	free_cal(c);
}

/* ----------------------------------------- Golden Week + make-up Saturday */

Test(cal, golden_week_and_makeup_saturday)
{
	struct hl_calendar *c = make_cal("Asia/Shanghai", OFFICE_CN, GOLDEN_WEEK, MAKEUP, "09:00-17:00");
	hl_ms wed = lt(c, 2026, 9, 30, 16, 0); /* the last afternoon before the holiday */
	/* 1.5h on Sep 30, then Oct 8: 3h morning, 3.5h afternoon */
	assert_local(c, hl_cal_add(c, wed, 8 * H_MS), 2026, 10, 8, 17, 0);
	/* 20h: 1.5 (Sep 30) + 7 (Oct 8) + 7 (Oct 9) = 15.5; 4.5h into Saturday Oct 10 */
	assert_local(c, hl_cal_add(c, wed, 20 * H_MS), 2026, 10, 10, 13, 30);
	/* 25h: Saturday gives 8h (09:00-17:00): 23.5h; Sunday closed; Monday 10:30 */
	assert_local(c, hl_cal_add(c, wed, 25 * H_MS), 2026, 10, 12, 10, 30);
	/* a holiday start counts from Oct 8 09:00 */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 10, 3, 10, 0), 0), 2026, 10, 8, 9, 0);
	assert_local(c, hl_cal_add(c, lt(c, 2026, 10, 1, 9, 0), 30 * MIN_MS), 2026, 10, 8, 9, 30);
	/* the make-up Saturday is open with workday_hours, the following Saturday is not */
	cr_assert(hl_cal_is_open(c, lt(c, 2026, 10, 10, 12, 30)));
	cr_assert(hl_cal_is_open(c, lt(c, 2026, 10, 10, 16, 59)));
	cr_assert_not(hl_cal_is_open(c, lt(c, 2026, 10, 17, 10, 0)));
	cr_assert_not(hl_cal_is_open(c, lt(c, 2026, 10, 11, 10, 0)));
	/* every holiday is closed, including the weekdays in it */
	for (int d = 1; d <= 7; d++)
		cr_assert_not(hl_cal_is_open(c, lt(c, 2026, 10, d, 10, 0)), "Oct %d", d);
	/* open time Sep 30 .. Oct 11: 7 + 7 + 7 + 8 */
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 9, 30, 0, 0), lt(c, 2026, 10, 12, 0, 0)), 29 * H_MS);
	free_cal(c);
}

Test(cal, holiday_beats_workday)
{
	static const char *const h[] = { "2026-10-10", NULL };
	struct hl_calendar *c = make_cal("Asia/Shanghai", OFFICE_CN, h, MAKEUP, "09:00-17:00");
	cr_assert_not(hl_cal_is_open(c, lt(c, 2026, 10, 10, 10, 0)));
	free_cal(c);
}

/* -------------------------------------------------- always / never open */

Test(cal, open_24_7_equals_wall_clock)
{
	static const char *zones[] = { "Europe/Berlin", "America/New_York", "Asia/Shanghai" };
	uint64_t x = 12345;
	for (size_t k = 0; k < 3; k++) {
		struct hl_calendar *c = make_cal(zones[k], ALWAYS, NULL, NULL, NULL);
		for (int i = 0; i < 3000; i++) {
			hl_ms s = utc_ms(2025, 1, 1, 0, 0) + (hl_ms)(rnd(&x) % (4 * 365 * DAY_MS));
			int64_t amount = (int64_t)(rnd(&x) % (20 * DAY_MS));
			if (i % 10 == 0)
				amount = (int64_t)(rnd(&x) % 1000);
			cr_assert_eq(hl_cal_add(c, s, amount), s + amount);
			cr_assert_eq(hl_cal_between(c, s, s + amount), amount);
			cr_assert(hl_cal_is_open(c, s));
		}
		/* exactly across the DST changes */
		hl_ms t = utc_ms(2026, 3, 29, 0, 0);
		cr_assert_eq(hl_cal_add(c, t, 3 * H_MS), t + 3 * H_MS);
		t = utc_ms(2026, 10, 25, 0, 0);
		cr_assert_eq(hl_cal_add(c, t, 3 * H_MS), t + 3 * H_MS);
		t = utc_ms(2026, 3, 8, 5, 0);
		cr_assert_eq(hl_cal_add(c, t, 3 * H_MS), t + 3 * H_MS);
		t = utc_ms(2026, 11, 1, 4, 0);
		cr_assert_eq(hl_cal_add(c, t, 3 * H_MS), t + 3 * H_MS);
		free_cal(c);
	}
}

Test(cal, never_open_returns_int64_max)
{
	alarm(5); /* guard against hangs (criterion .timeout leaks in its runner) */
	struct hl_calendar *c = make_cal("Asia/Shanghai", NEVER, NULL, NULL, "");
	hl_ms t = utc_ms(2026, 1, 1, 0, 0);
	cr_assert_eq(hl_cal_add(c, t, H_MS), INT64_MAX);
	cr_assert_eq(hl_cal_add(c, t, 0), INT64_MAX);
	cr_assert_eq(hl_cal_between(c, t, t + 365 * DAY_MS), 0);
	cr_assert_eq(hl_cal_between(c, t, INT64_MAX), 0);
	cr_assert_not(hl_cal_is_open(c, t));
	cr_assert_not(hl_calendar_has_hours(c));
	cr_assert_not(hl_calendar_has_hours(NULL));
	/* a make-up day with hours is enough to be open sometimes */
	cr_assert_eq(hl_calendar_add_days(&c->workdays, &c->n_workdays, 20500, 20500), 0);
	cr_assert_not(hl_calendar_has_hours(c));
	cr_assert_eq(hl_parse_day_hours("09:00-10:00", &c->workday_hours), 0);
	cr_assert(hl_calendar_has_hours(c));
	free_cal(c);
	c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, NULL, NULL, NULL);
	cr_assert(hl_calendar_has_hours(c));
	free_cal(c);
	/* open hours, but one huge holiday run */
	static const char *const all[] = { "2020-01-01..2100-12-31", NULL };
	struct hl_calendar *c2 = calloc(1, sizeof *c2);
	char err[128];
	c2->zone = hl_zone_load("Asia/Shanghai", err, sizeof err);
	for (int i = 0; i < 7; i++)
		hl_parse_day_hours("09:00-17:00", &c2->week[i]);
	int32_t a, b;
	cr_assert_eq(hl_parse_date_range(all[0], &a, &b), 0);
	cr_assert_eq(hl_calendar_add_days(&c2->holidays, &c2->n_holidays, a, b), 0);
	cr_assert_eq(hl_cal_add(c2, t, H_MS), INT64_MAX);
	cr_assert_eq(hl_cal_between(c2, t, INT64_MAX), 0);
	hl_calendar_free(c2);
	free(c2);
}

Test(cal, ten_year_holiday_run_terminates)
{
	alarm(5); /* guard against hangs (criterion .timeout leaks in its runner) */
	/* 2026-01-01..2035-12-31 is 3652 days: the first opening after it is found */
	static const char *const run[] = { "2026-01-01..2035-12-31", NULL };
	struct hl_calendar *c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, run, NULL, NULL);
	/* 2036-01-01 is a Tuesday */
	assert_local(c, hl_cal_add(c, lt(c, 2026, 1, 1, 0, 0), H_MS), 2036, 1, 1, 10, 0);
	cr_assert_eq(hl_cal_between(c, lt(c, 2026, 1, 1, 0, 0), lt(c, 2036, 1, 2, 0, 0)), 8 * H_MS);
	free_cal(c);
	/* 3700 days closed: give up */
	static const char *const longer[] = { "2026-01-01..2036-02-17", NULL };
	c = make_cal("Asia/Shanghai", WEEKDAYS_9_17, longer, NULL, NULL);
	cr_assert_eq(hl_cal_add(c, lt(c, 2026, 1, 1, 0, 0), H_MS), INT64_MAX);
	free_cal(c);
}

Test(cal, extreme_inputs)
{
	alarm(10); /* guard against hangs (criterion .timeout leaks in its runner) */
	struct hl_calendar *c = make_cal("Europe/Berlin", WEEKDAYS_9_17, NULL, NULL, NULL);
	hl_ms ex[] = { INT64_MIN, INT64_MIN + 1, -1, 0, INT64_MAX - 1, INT64_MAX };
	for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
		(void)hl_cal_is_open(c, ex[i]);
		hl_ms r = hl_cal_add(c, ex[i], H_MS);
		cr_assert(r == INT64_MAX || r > ex[i]);
		cr_assert(hl_cal_add(c, ex[i], INT64_MAX) == INT64_MAX);
		for (size_t j = 0; j < sizeof ex / sizeof ex[0]; j++) {
			int64_t d = hl_cal_between(c, ex[i], ex[j]);
			cr_assert(d >= 0);
		}
	}
	/* a start before 1970 works */
	assert_local(c, hl_cal_add(c, lt(c, 1960, 6, 3, 16, 0), 2 * H_MS), 1960, 6, 6, 10, 0);
	/* a paused clock whose due time is "never" keeps a finite remainder */
	int64_t rem = hl_cal_between(c, lt(c, 2026, 1, 1, 0, 0), INT64_MAX);
	cr_assert_gt(rem, 0);
	cr_assert_lt(rem, INT64_MAX);
	/* a calendar without a zone is UTC */
	struct hl_calendar u = { .zone = NULL };
	hl_parse_day_hours("09:00-17:00", &u.week[1]);
	cr_assert_eq(hl_cal_add(&u, utc_ms(2026, 11, 23, 8, 0), H_MS), utc_ms(2026, 11, 23, 10, 0));
	free_cal(c);
	hl_calendar_free(NULL);
}
