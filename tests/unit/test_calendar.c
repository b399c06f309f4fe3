/*
 * test_calendar.c - unit tests for calendar.c: civil dates, parsing of
 * opening hours and date ranges, and the business-time arithmetic
 * (hl_cal_add / hl_cal_between / hl_cal_is_open) on real zones with and
 * without DST, holidays and make-up working days.  The help-desk bugs users
 * report are each a named test below.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"

#define MIN_MS (60 * INT64_C(1000))
#define H_MS (60 * MIN_MS)
#define DAY_MS (24 * H_MS)

/* ---------------------------------------------------------------- helpers */

/* Build a calendar: week[] strings Sun..Sat, holiday and workday ranges. */
static struct hl_calendar *make_cal(const char *zone, const char *const week[7], const char *const *holidays,
				    const char *const *workdays, const char *workday_hours)
{
	struct hl_calendar *c = calloc(1, sizeof *c);
	char err[256];
	snprintf(c->name, sizeof c->name, "test");
	snprintf(c->zone_name, sizeof c->zone_name, "%s", zone);
	c->zone = hl_zone_load(zone, err, sizeof err);
	cr_assert_not_null(c->zone, "%s", err);
	for (int i = 0; i < 7; i++)
		cr_assert_eq(hl_parse_day_hours(week[i], &c->week[i]), 0, "week[%d] %s", i, week[i]);
	for (; holidays && *holidays; holidays++) {
		int32_t a, b;
		cr_assert_eq(hl_parse_date_range(*holidays, &a, &b), 0, "%s", *holidays);
		cr_assert_eq(hl_calendar_add_days(&c->holidays, &c->n_holidays, a, b), 0);
	}
	for (; workdays && *workdays; workdays++) {
		int32_t a, b;
		cr_assert_eq(hl_parse_date_range(*workdays, &a, &b), 0, "%s", *workdays);
		cr_assert_eq(hl_calendar_add_days(&c->workdays, &c->n_workdays, a, b), 0);
	}
	cr_assert_eq(hl_parse_day_hours(workday_hours ? workday_hours : "", &c->workday_hours), 0);
	return c;
}

static void free_cal(struct hl_calendar *c)
{
	hl_calendar_free(c);
	free(c);
}

static const char *const WEEKDAYS_9_17[7] = { "", "09:00-17:00", "09:00-17:00", "09:00-17:00",
					      "09:00-17:00", "09:00-17:00", "" };
static const char *const EVERY_DAY_9_17[7] = { "09:00-17:00", "09:00-17:00", "09:00-17:00", "09:00-17:00",
					       "09:00-17:00", "09:00-17:00", "09:00-17:00" };
static const char *const ALWAYS[7] = { "00:00-24:00", "00:00-24:00", "00:00-24:00", "00:00-24:00",
				       "00:00-24:00", "00:00-24:00", "00:00-24:00" };
static const char *const NEVER[7] = { "", "closed", "", "", "", "", "" };
static const char *const OFFICE_CN[7] = { "", "09:00-12:00,13:30-17:30", "09:00-12:00,13:30-17:30",
					  "09:00-12:00,13:30-17:30", "09:00-12:00,13:30-17:30",
					  "09:00-12:00,13:30-17:30", "" };

/* The instant at which the calendar's zone reads y-m-d h:mi. */
static hl_ms lt(const struct hl_calendar *c, int y, int m, int d, int h, int mi)
{
	int64_t local = (int64_t)hl_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60;
	return hl_zone_local_to_utc(c->zone, local) * 1000;
}

static hl_ms utc_ms(int y, int m, int d, int h, int mi)
{
	return ((int64_t)hl_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

/* Render an instant as local time, for assertion messages. */
static const char *show(const struct hl_calendar *c, hl_ms t, char *buf, size_t len)
{
	if (t == INT64_MAX) {
		snprintf(buf, len, "never");
		return buf;
	}
	int64_t s = t / 1000;
	int64_t local = s + hl_zone_offset(c->zone, s);
	int32_t day = (int32_t)(local / 86400 - (local % 86400 < 0));
	int64_t sec = local - (int64_t)day * 86400;
	int y, m, d;
	hl_civil_from_days(day, &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03d local", y, m, d, (int)(sec / 3600),
		 (int)(sec / 60 % 60), (int)(sec % 60), (int)(t % 1000));
	return buf;
}

#define assert_local(c, got, y, m, d, h, mi)                                                          \
	do {                                                                                         \
		char b1_[64], b2_[64];                                                               \
		hl_ms want_ = lt((c), y, m, d, h, mi);                                               \
		cr_assert_eq((got), want_, "got %s, want %s", show((c), (got), b1_, sizeof b1_),     \
			     show((c), want_, b2_, sizeof b2_));                                     \
	} while (0)

/* Deterministic pseudo-random numbers. */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

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

static const char *const GOLDEN_WEEK[] = { "2026-10-01..2026-10-07", NULL };
static const char *const MAKEUP[] = { "2026-10-10", NULL };

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

/* ----------------------------------------------------------- properties */

static void check_properties(const struct hl_calendar *c, hl_ms from, int64_t span, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4000; i++) {
		hl_ms s = from + (hl_ms)(rnd(&x) % (uint64_t)span);
		if (i % 4 == 0)
			s -= s % MIN_MS; /* land on minute boundaries too (openings, closings) */
		int64_t amount = (int64_t)(rnd(&x) % (30 * H_MS)) + 1;
		if (i % 7 == 0)
			amount = (int64_t)(rnd(&x) % 3) + 1;
		hl_ms due = hl_cal_add(c, s, amount);
		cr_assert_neq(due, INT64_MAX);
		/* the property a paused-and-resumed clock relies on */
		cr_assert_eq(hl_cal_between(c, s, due), amount, "start %lld amount %lld", (long long)s, (long long)amount);
		/* the deadline is the first instant with that much open time */
		cr_assert_lt(hl_cal_between(c, s, due - 1), amount);
		cr_assert(hl_cal_is_open(c, due - 1));
		/* is_open agrees with add(t, 0) */
		cr_assert_eq(hl_cal_is_open(c, s), hl_cal_add(c, s, 0) == s);
		/* between is additive */
		hl_ms mid = s + (hl_ms)(rnd(&x) % (uint64_t)(5 * DAY_MS));
		hl_ms end = mid + (hl_ms)(rnd(&x) % (uint64_t)(5 * DAY_MS));
		cr_assert_eq(hl_cal_between(c, s, mid) + hl_cal_between(c, mid, end), hl_cal_between(c, s, end));
		/* add is monotone in the amount and splits */
		cr_assert_leq(hl_cal_add(c, s, amount / 2), due);
		hl_ms half = hl_cal_add(c, s, amount / 2);
		cr_assert_eq(hl_cal_add(c, half, amount - amount / 2), due);
	}
}

Test(prop, round_trip_shanghai_golden_week)
{
	alarm(30); /* guard against hangs (criterion .timeout leaks in its runner) */
	struct hl_calendar *c = make_cal("Asia/Shanghai", OFFICE_CN, GOLDEN_WEEK, MAKEUP, "09:00-17:00");
	check_properties(c, lt(c, 2026, 9, 20, 0, 0), 30 * DAY_MS, 1);
	free_cal(c);
}

Test(prop, round_trip_berlin_dst)
{
	alarm(30); /* guard against hangs (criterion .timeout leaks in its runner) */
	struct hl_calendar *c = make_cal("Europe/Berlin", WEEKDAYS_9_17, NULL, NULL, NULL);
	check_properties(c, lt(c, 2026, 3, 20, 0, 0), 15 * DAY_MS, 2);
	check_properties(c, lt(c, 2026, 10, 18, 0, 0), 15 * DAY_MS, 3);
	free_cal(c);
	static const char *const NIGHT[7] = { "00:00-03:00,22:00-24:00", "00:00-03:00,22:00-24:00",
					      "00:00-03:00,22:00-24:00", "00:00-03:00,22:00-24:00",
					      "00:00-03:00,22:00-24:00", "00:00-03:00,22:00-24:00",
					      "00:00-03:00,22:00-24:00" };
	c = make_cal("Europe/Berlin", NIGHT, NULL, NULL, NULL);
	check_properties(c, lt(c, 2026, 3, 25, 0, 0), 8 * DAY_MS, 4);
	check_properties(c, lt(c, 2026, 10, 21, 0, 0), 8 * DAY_MS, 5);
	free_cal(c);
	c = make_cal("America/New_York", ALWAYS, NULL, NULL, NULL);
	check_properties(c, lt(c, 2026, 3, 1, 0, 0), 15 * DAY_MS, 6);
	free_cal(c);
}

Test(perf, long_walks_are_fast)
{
	alarm(10); /* guard against hangs (criterion .timeout leaks in its runner) */
	struct hl_calendar *c = make_cal("Europe/Berlin", ALWAYS, NULL, NULL, NULL);
	clock_t t0 = clock();
	/* a year of business time on a 24/7 calendar, and "until never" */
	hl_ms s = utc_ms(2026, 1, 1, 0, 0);
	cr_assert_eq(hl_cal_add(c, s, 365 * DAY_MS), s + 365 * DAY_MS);
	(void)hl_cal_between(c, s, INT64_MAX);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	cr_log_info("year add + 100-year between: %.3f s", secs);
	cr_assert_lt(secs, 5.0);
	free_cal(c);
}

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

/* ------------------------------- skipped dates and intervals inside a gap */

static const char *const FRI_SAT[7] = { "", "", "", "", "", "13:30-17:30", "09:00-17:00" };

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

Test(prop, round_trip_across_skipped_dates_and_gaps)
{
	alarm(30); /* guard against hangs (criterion .timeout leaks in its runner) */
	struct hl_calendar *c = make_cal("Pacific/Apia", FRI_SAT, NULL, NULL, NULL);
	check_properties(c, lt(c, 2011, 12, 10, 0, 0), 30 * DAY_MS, 7);
	free_cal(c);
	static const char *const SUN_GAP[7] = { "02:30-02:53,03:00-04:00", "01:00-03:00", "", "", "", "",
						"22:00-24:00" };
	c = make_cal("Europe/Berlin", SUN_GAP, NULL, NULL, NULL);
	check_properties(c, lt(c, 2026, 3, 15, 0, 0), 20 * DAY_MS, 8);
	check_properties(c, lt(c, 2026, 10, 18, 0, 0), 15 * DAY_MS, 9);
	free_cal(c);
	static const char *const NIGHT[7] = { "00:00-01:00", "", "", "", "", "", "22:00-22:30,23:15-23:30" };
	c = make_cal("America/Nuuk", NIGHT, NULL, NULL, NULL);
	check_properties(c, lt(c, 2026, 3, 10, 0, 0), 40 * DAY_MS, 10);
	check_properties(c, lt(c, 2026, 10, 10, 0, 0), 40 * DAY_MS, 11);
	free_cal(c);
}

/* ------------------------------------------ working days, the hard cases */

/*
 * National Day pattern (China's holiday office publishes one every year):
 * Thu 2026-10-01 .. Wed 10-07 off, make-up working Sunday 09-27 before and
 * make-up working Saturday 10-10 after.  Weekday hours have a lunch break
 * and close at 17:30; make-up days close at 17:00, so each result says which
 * kind of day it came from.
 */
static const char *const NATIONAL_DAY[] = { "2026-10-01..2026-10-07", NULL };
static const char *const ND_MAKEUP[] = { "2026-09-27", "2026-10-10", NULL };
#define ND_MAKEUP_HOURS "09:00-12:00,13:00-17:00"

static struct hl_calendar *national_day(void)
{
	return make_cal("Asia/Shanghai", OFFICE_CN, NATIONAL_DAY, ND_MAKEUP, ND_MAKEUP_HOURS);
}

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

/*
 * An independent reference for the property test: walk local days with the
 * civil calendar; a day is a working day when it exists (its midnight, read
 * through the zone, is on that day) and one of its intervals, read through
 * the zone, is not empty; its closing time is the latest such end.
 */
static int32_t ref_day_of(const struct hl_calendar *c, int64_t s)
{
	int64_t local = s + hl_zone_offset(c->zone, s);
	return (int32_t)(local / 86400 - (local % 86400 < 0));
}

static hl_ms ref_close(const struct hl_calendar *c, int32_t day)
{
	const struct hl_day_hours *h = hl_cal_day_hours(c, day);
	int64_t base = (int64_t)day * 86400;
	if (h->n == 0 || ref_day_of(c, hl_zone_local_to_utc(c->zone, base)) != day)
		return 0;
	hl_ms last = 0;
	for (int i = 0; i < h->n; i++) {
		hl_ms o = hl_zone_local_to_utc(c->zone, base + h->iv[i].open_min * 60) * 1000;
		hl_ms e = hl_zone_local_to_utc(c->zone, base + h->iv[i].close_min * 60) * 1000;
		if (e > o && e > last)
			last = e;
	}
	return last;
}

static hl_ms ref_workdays_end(const struct hl_calendar *c, hl_ms start, int n)
{
	int32_t day = ref_day_of(c, start / 1000 - (start % 1000 < 0));
	if (n == 0) {
		hl_ms e = ref_close(c, day);
		if (e > start)
			return e;
		n = 1;
	}
	for (int guard = 0; guard < 10000; guard++) {
		hl_ms e = ref_close(c, ++day);
		if (e && --n == 0)
			return e;
	}
	return INT64_MAX;
}

static void check_workdays(const struct hl_calendar *c, hl_ms from, int64_t span, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 3000; i++) {
		hl_ms s = from + (hl_ms)(rnd(&x) % (uint64_t)span);
		if (i % 3 == 0)
			s -= s % (30 * MIN_MS); /* land on openings and closings too */
		int n = (int)(rnd(&x) % 16);
		if (i % 5 == 0)
			n = (int)(rnd(&x) % 2);
		hl_ms got = hl_cal_workdays_end(c, s, n);
		char b1[64], b2[64], b3[64];
		hl_ms want = ref_workdays_end(c, s, n);
		cr_assert_eq(got, want, "start %s n %d: got %s, want %s", show(c, s, b3, sizeof b3), n,
			     show(c, got, b1, sizeof b1), show(c, want, b2, sizeof b2));
		/* a closing time: open just before, after the start, never before 0wd */
		cr_assert(got > s);
		cr_assert(hl_cal_is_open(c, got - 1), "%s", show(c, got, b1, sizeof b1));
		if (n > 0)
			cr_assert_gt(got, hl_cal_workdays_end(c, s, n - 1) - (n == 1));
		cr_assert_eq(hl_deadline(c, s, HL_SPAN_WD(n)), got);
	}
}

Test(prop, workdays_match_a_simple_reference)
{
	alarm(60); /* guard against hangs (criterion .timeout leaks in its runner) */
	struct hl_calendar *c = national_day();
	check_workdays(c, lt(c, 2026, 9, 15, 0, 0), 40 * DAY_MS, 21);
	free_cal(c);
	c = make_cal("Europe/Berlin", WEEKDAYS_9_17, NULL, NULL, NULL);
	check_workdays(c, lt(c, 2026, 3, 20, 0, 0), 15 * DAY_MS, 22);
	check_workdays(c, lt(c, 2026, 10, 18, 0, 0), 15 * DAY_MS, 23);
	free_cal(c);
	c = make_cal("America/New_York", EVERY_DAY_9_17, NULL, NULL, NULL);
	check_workdays(c, lt(c, 2026, 3, 1, 0, 0), 15 * DAY_MS, 24);
	check_workdays(c, lt(c, 2026, 10, 25, 0, 0), 15 * DAY_MS, 25);
	free_cal(c);
	static const char *const NIGHT[7] = { "00:00-03:00,22:00-24:00", "00:00-03:00,22:00-24:00",
					      "00:00-03:00,22:00-24:00", "", "00:00-03:00,22:00-24:00",
					      "00:00-03:00,22:00-24:00", "00:00-03:00,22:00-24:00" };
	c = make_cal("Europe/Berlin", NIGHT, NULL, NULL, NULL);
	check_workdays(c, lt(c, 2026, 3, 20, 0, 0), 15 * DAY_MS, 26);
	free_cal(c);
}

/*
 * The union, checked directly: the calendar is open at t exactly when some
 * interval of some local day, read through the zone, contains t (a skipped
 * date contributing none).  Run on zones with midnight transitions (Havana,
 * Santiago: 00:00 -> 01:00 and back), a 30-minute DST (Lord Howe), skipped
 * dates (Apia, Kiritimati, Kwajalein) and the usual ones, with hours packed
 * around midnight and the small hours.
 */
static bool ref_is_open(const struct hl_calendar *c, hl_ms t)
{
	int64_t s = t / 1000 - (t % 1000 < 0);
	int64_t local = s + hl_zone_offset(c->zone, s);
	int32_t today = (int32_t)(local / 86400 - (local % 86400 < 0));
	for (int32_t day = today - 3; day <= today + 3; day++) {
		int64_t mid = hl_zone_local_to_utc(c->zone, (int64_t)day * 86400);
		int64_t mid_local = mid + hl_zone_offset(c->zone, mid);
		if (mid_local / 86400 - (mid_local % 86400 < 0) != day)
			continue; /* the zone skipped this date */
		const struct hl_day_hours *h = hl_cal_day_hours(c, day);
		for (int i = 0; i < h->n; i++) {
			hl_ms o = hl_zone_local_to_utc(c->zone, (int64_t)day * 86400 + h->iv[i].open_min * 60) * 1000;
			hl_ms e = hl_zone_local_to_utc(c->zone, (int64_t)day * 86400 + h->iv[i].close_min * 60) * 1000;
			if (o <= t && t < e)
				return true;
		}
	}
	return false;
}

Test(prop, open_time_is_the_union_of_every_days_intervals)
{
	alarm(120); /* guard against hangs (criterion .timeout leaks in its runner) */
#define PACKED "00:00-00:30,00:45-01:15,02:00-02:20,02:30-03:00,22:00-23:30,23:45-24:00"
	static const char *const NASTY[7] = { PACKED, PACKED, PACKED, "", PACKED, PACKED, "23:15-23:30" };
#undef PACKED
	static const struct {
		const char *zone;
		int y, m, d; /* a day shortly before a change */
	} cases[] = {
		{ "America/Havana", 2026, 3, 1 },    { "America/Havana", 2026, 10, 25 },
		{ "America/Santiago", 2026, 4, 1 },  { "America/Santiago", 2026, 9, 1 },
		{ "Australia/Lord_Howe", 2026, 4, 1 }, { "Australia/Lord_Howe", 2026, 9, 28 },
		{ "Pacific/Apia", 2011, 12, 24 },    { "Pacific/Kiritimati", 1994, 12, 25 },
		{ "Pacific/Kwajalein", 1993, 8, 15 }, { "America/Nuuk", 2026, 3, 24 },
		{ "America/Nuuk", 2026, 10, 20 },    { "Europe/Berlin", 2026, 3, 24 },
		{ "America/New_York", 2026, 11, 1 },
	};
	uint64_t x = 99;
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct hl_calendar *c = make_cal(cases[k].zone, NASTY, NULL, NULL, NULL);
		hl_ms from = lt(c, cases[k].y, cases[k].m, cases[k].d, 0, 0);
		for (int i = 0; i < 3000; i++) {
			hl_ms t = from + (hl_ms)(rnd(&x) % (uint64_t)(12 * DAY_MS));
			if (i % 2 == 0)
				t -= t % (15 * MIN_MS); /* on interval edges */
			if (i % 6 == 0)
				t -= 1;
			char b[64];
			cr_assert_eq(hl_cal_is_open(c, t), ref_is_open(c, t), "%s at %s", cases[k].zone,
				     show(c, t, b, sizeof b));
		}
		check_properties(c, from, 12 * DAY_MS, 100 + k);
		check_workdays(c, from, 12 * DAY_MS, 200 + k);
		free_cal(c);
	}
}
