/*
 * test_calendar_properties.c - calendar.c against its own invariants and
 * against simple references, on thousands of pseudo-random starts:
 * hl_cal_add and hl_cal_between invert each other (what a paused and
 * resumed clock relies on) in Shanghai's Golden Week, across Berlin's DST
 * and across skipped dates and gaps; hl_cal_workdays_end matches a plain
 * walk over local days; hl_cal_is_open is the union of every day's
 * intervals on zones with midnight and 30-minute transitions.  And long
 * walks are fast.  Each test guards itself against hangs with alarm().
 *
 * The calendar tests: test_calendar_hours.c (civil dates, parsing, open
 * hours), test_calendar_helpdesk.c (reported bugs, DST, skipped dates),
 * test_calendar_workdays.c (Nwd), test_calendar_properties.c (properties
 * against references, speed); the helpers are calendar_fixtures.h.
 */
#include <criterion/criterion.h>
#include <time.h>
#include <unistd.h>

#include "calendar_fixtures.h"

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
