/*
 * calendar_fixtures.h - what the test_calendar_*.c files share: make_cal()
 * builds a calendar from week strings (Sun..Sat), holiday and make-up
 * working-day ranges on a real zone; the weeks most tests use; lt() and
 * utc_ms() name an instant by its local or UTC reading, show() and
 * assert_local() print a wrong one as local time; rnd() is the
 * deterministic generator of the property tests; and the calendars used
 * by more than one file (Golden Week, the skipped Friday and Saturday,
 * National Day with its make-up days).
 *
 * A header rather than a .c so that each test binary stays one source file
 * (the Makefile's unit_% rule); the functions are static inline because
 * each test file uses only some of them.
 */
#ifndef HL_UNIT_CALENDAR_FIXTURES_H
#define HL_UNIT_CALENDAR_FIXTURES_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"

#define MIN_MS (60 * INT64_C(1000))
#define H_MS (60 * MIN_MS)
#define DAY_MS (24 * H_MS)

/* ---------------------------------------------------------------- helpers */

/* Build a calendar: week[] strings Sun..Sat, holiday and workday ranges. */
static inline struct hl_calendar *make_cal(const char *zone, const char *const week[7], const char *const *holidays,
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

static inline void free_cal(struct hl_calendar *c)
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
static inline hl_ms lt(const struct hl_calendar *c, int y, int m, int d, int h, int mi)
{
	int64_t local = (int64_t)hl_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60;
	return hl_zone_local_to_utc(c->zone, local) * 1000;
}

static inline hl_ms utc_ms(int y, int m, int d, int h, int mi)
{
	return ((int64_t)hl_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

/* Render an instant as local time, for assertion messages. */
static inline const char *show(const struct hl_calendar *c, hl_ms t, char *buf, size_t len)
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
static inline uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Golden Week: 2026-10-01..07 off, with a make-up working Saturday 10-10. */
static const char *const GOLDEN_WEEK[] = { "2026-10-01..2026-10-07", NULL };
static const char *const MAKEUP[] = { "2026-10-10", NULL };

/* Friday afternoon and Saturday hours, for the zones that skipped a Friday
 * (Apia, 2011-12-30): the skipped-date tests and the property tests. */
static const char *const FRI_SAT[7] = { "", "", "", "", "", "13:30-17:30", "09:00-17:00" };

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

static inline struct hl_calendar *national_day(void)
{
	return make_cal("Asia/Shanghai", OFFICE_CN, NATIONAL_DAY, ND_MAKEUP, ND_MAKEUP_HOURS);
}

#endif
