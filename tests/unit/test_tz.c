/*
 * test_tz.c - unit tests for tz.c: TZif parsing, POSIX TZ strings, offsets
 * around DST transitions, local->UTC conversion in gaps and overlaps, and
 * rejection of corrupt input.
 *
 * Real zone files come from /usr/share/zoneinfo.  Where glibc can answer the
 * same question (localtime_r with TZ set), it is used as an oracle over long
 * runs of instants; that happens only here, in the test, never in tz.c.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	return (int64_t)hl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static struct hl_zone *load(const char *name)
{
	char err[256] = "";
	struct hl_zone *z = hl_zone_load(name, err, sizeof err);
	cr_assert_not_null(z, "load %s: %s", name, err);
	return z;
}

static struct hl_zone *posix(const char *s)
{
	char err[256] = "";
	struct hl_zone *z = hl_zone_from_posix(s, err, sizeof err);
	cr_assert_not_null(z, "posix %s: %s", s, err);
	return z;
}

/* glibc's answer for TZ=tz at instant t (the oracle). */
static long glibc_offset(const char *tz, int64_t t)
{
	static char cur[128];
	if (strcmp(cur, tz) != 0) {
		snprintf(cur, sizeof cur, "%s", tz);
		setenv("TZ", tz, 1);
		tzset();
	}
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	return tm.tm_gmtoff;
}

/* Compare hl_zone_offset with glibc from `from` to `to` every `step` seconds,
 * and exactly one second either side of every change glibc reports. */
static void compare_with_glibc(const struct hl_zone *z, const char *tz, int64_t from, int64_t to, int64_t step)
{
	long prev = glibc_offset(tz, from);
	for (int64_t t = from; t <= to; t += step) {
		long g = glibc_offset(tz, t);
		cr_assert_eq(hl_zone_offset(z, t), g, "%s at %lld: got %d, glibc %ld", tz, (long long)t,
			     hl_zone_offset(z, t), g);
		if (g != prev) {
			/* find the exact second of the change and check both sides */
			int64_t lo = t - step, hi = t;
			while (hi - lo > 1) {
				int64_t mid = lo + (hi - lo) / 2;
				if (glibc_offset(tz, mid) == g)
					hi = mid;
				else
					lo = mid;
			}
			cr_assert_eq(hl_zone_offset(z, hi), glibc_offset(tz, hi), "%s at change %lld", tz, (long long)hi);
			cr_assert_eq(hl_zone_offset(z, lo), glibc_offset(tz, lo), "%s before change %lld", tz, (long long)lo);
			prev = g;
		}
	}
}

/* ------------------------------------------------------------ real zones */

Test(tz, shanghai_no_dst)
{
	struct hl_zone *z = load("Asia/Shanghai");
	cr_assert_eq(hl_zone_offset(z, utc(2026, 1, 15, 0, 0, 0)), 8 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 7, 15, 0, 0, 0)), 8 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2040, 7, 15, 0, 0, 0)), 8 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2200, 7, 15, 0, 0, 0)), 8 * 3600);
	/* China had DST 1986-1991: summer 1990 was UTC+9 */
	cr_assert_eq(hl_zone_offset(z, utc(1990, 7, 1, 0, 0, 0)), 9 * 3600);
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 11, 20, 9, 0, 0)), utc(2026, 11, 20, 1, 0, 0));
	hl_zone_free(z);
}

Test(tz, berlin_2026_transitions)
{
	struct hl_zone *z = load("Europe/Berlin");
	/* spring forward 2026-03-29 01:00Z */
	cr_assert_eq(hl_zone_offset(z, utc(2026, 3, 29, 0, 59, 59)), 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 3, 29, 1, 0, 0)), 7200);
	/* fall back 2026-10-25 01:00Z */
	cr_assert_eq(hl_zone_offset(z, utc(2026, 10, 25, 0, 59, 59)), 7200);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 10, 25, 1, 0, 0)), 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 1, 1, 0, 0, 0)), 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 7, 1, 0, 0, 0)), 7200);
	hl_zone_free(z);
}

Test(tz, berlin_2040_from_footer)
{
	struct hl_zone *z = load("Europe/Berlin");
	/* 2040: last Sunday of March is the 25th, of October the 28th */
	cr_assert_eq(hl_weekday(hl_days_from_civil(2040, 3, 25)), 0);
	cr_assert_eq(hl_zone_offset(z, utc(2040, 3, 25, 0, 59, 59)), 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2040, 3, 25, 1, 0, 0)), 7200);
	cr_assert_eq(hl_zone_offset(z, utc(2040, 10, 28, 0, 59, 59)), 7200);
	cr_assert_eq(hl_zone_offset(z, utc(2040, 10, 28, 1, 0, 0)), 3600);
	/* far future */
	cr_assert_eq(hl_zone_offset(z, utc(2500, 7, 1, 0, 0, 0)), 7200);
	cr_assert_eq(hl_zone_offset(z, utc(2500, 12, 1, 0, 0, 0)), 3600);
	hl_zone_free(z);
}

Test(tz, new_york_transitions)
{
	struct hl_zone *z = load("America/New_York");
	/* 2026-03-08 02:00 EST = 07:00Z; 2026-11-01 02:00 EDT = 06:00Z */
	cr_assert_eq(hl_zone_offset(z, utc(2026, 3, 8, 6, 59, 59)), -5 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 3, 8, 7, 0, 0)), -4 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 11, 1, 5, 59, 59)), -4 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 11, 1, 6, 0, 0)), -5 * 3600);
	/* 2040: second Sunday of March = 11th, first Sunday of November = 4th */
	cr_assert_eq(hl_zone_offset(z, utc(2040, 3, 11, 6, 59, 59)), -5 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2040, 3, 11, 7, 0, 0)), -4 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2040, 11, 4, 5, 59, 59)), -4 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2040, 11, 4, 6, 0, 0)), -5 * 3600);
	/* before 2007 the US rules were different: 2006-04-02 */
	cr_assert_eq(hl_zone_offset(z, utc(2006, 3, 20, 12, 0, 0)), -5 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2006, 4, 2, 7, 0, 0)), -4 * 3600);
	hl_zone_free(z);
}

Test(tz, real_zones_match_glibc)
{
	alarm(60); /* guard against hangs (criterion .timeout leaks in its runner) */
	static const char *names[] = { "Europe/Berlin", "America/New_York", "Asia/Shanghai",
				       "Australia/Sydney", "America/Sao_Paulo", "Asia/Kolkata",
				       "Europe/London", "Pacific/Chatham", "America/Nuuk", "UTC" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct hl_zone *z = load(names[i]);
		compare_with_glibc(z, names[i], utc(1960, 1, 1, 0, 0, 0), utc(2060, 1, 1, 0, 0, 0), 6 * 3600 + 17);
		hl_zone_free(z);
	}
}

/* ---------------------------------------------------------- POSIX strings */

Test(tz, posix_simple)
{
	struct hl_zone *z = posix("CST-8");
	cr_assert_eq(hl_zone_offset(z, 0), 8 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2040, 6, 1, 0, 0, 0)), 8 * 3600);
	hl_zone_free(z);
	z = posix("<+0530>-5:30");
	cr_assert_eq(hl_zone_offset(z, 0), 5 * 3600 + 1800);
	hl_zone_free(z);
	z = posix("<-03>3");
	cr_assert_eq(hl_zone_offset(z, 0), -3 * 3600);
	hl_zone_free(z);
	z = posix("XYZ+1:02:03");
	cr_assert_eq(hl_zone_offset(z, 0), -(3600 + 120 + 3));
	hl_zone_free(z);
}

Test(tz, posix_berlin_rule)
{
	struct hl_zone *z = posix("CET-1CEST,M3.5.0,M10.5.0/3");
	cr_assert_eq(hl_zone_offset(z, utc(2026, 3, 29, 0, 59, 59)), 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 3, 29, 1, 0, 0)), 7200);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 10, 25, 0, 59, 59)), 7200);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 10, 25, 1, 0, 0)), 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2040, 3, 25, 1, 0, 0)), 7200);
	cr_assert_eq(hl_zone_offset(z, utc(2040, 3, 25, 0, 59, 59)), 3600);
	hl_zone_free(z);
}

Test(tz, posix_default_rule_is_us)
{
	struct hl_zone *z = posix("EST5EDT");
	cr_assert_eq(hl_zone_offset(z, utc(2026, 3, 8, 6, 59, 59)), -5 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 3, 8, 7, 0, 0)), -4 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 11, 1, 6, 0, 0)), -5 * 3600);
	hl_zone_free(z);
}

Test(tz, posix_rules_match_glibc)
{
	alarm(60); /* guard against hangs (criterion .timeout leaks in its runner) */
	static const char *rules[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3",
		"EST5EDT,M3.2.0,M11.1.0",
		"AEST-10AEDT,M10.1.0,M4.1.0/3",          /* southern hemisphere */
		"NZST-12NZDT,M9.5.0,M4.1.0/3",
		"<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
		"IST-2IDT,M3.4.4/26,M10.5.0",            /* hours > 24 */
		"<-02>2<-01>,M3.5.0/-1,M10.5.0/0",       /* negative time (Nuuk) */
		"ABC3DEF,J60/0,J300/0",                  /* J60 = March 1, never Feb 29 */
		"ABC3DEF,59/0,299/0",                    /* zero-based n: Feb 29 in leap years */
		"ABC-3DEF-5,M1.2.0,M12.3.6/23:59:59",   /* explicit dst offset, +2h */
		"<-0330>3:30<-0230>,M3.2.0/2,M11.1.0/2",
		"GMT0BST,M3.5.0/1,M10.5.0",
		"ABC-14",
		"ABC+12",
	};
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		struct hl_zone *z = posix(rules[i]);
		compare_with_glibc(z, rules[i], utc(1999, 1, 1, 0, 0, 0), utc(2045, 1, 1, 0, 0, 0), 5 * 3600 + 11);
		hl_zone_free(z);
	}
}

/*
 * "DST all year": the rule ends at Dec 31 25:00 DST, exactly when the next
 * year's starts (Jan 1 00:00 standard).  tzcode treats this as permanent
 * DST; glibc briefly shows standard time in the first hours of each UTC
 * year, so glibc is not the oracle here.
 */
Test(tz, posix_dst_all_year)
{
	struct hl_zone *z = posix("WART4WARST,J1/0,J365/25");
	for (int64_t t = utc(2000, 1, 1, 0, 0, 0); t < utc(2030, 1, 1, 0, 0, 0); t += 3600 * 7 + 13)
		cr_assert_eq(hl_zone_offset(z, t), -3 * 3600, "at %lld", (long long)t);
	for (int y = 2000; y < 2030; y++)
		for (int h = -6; h <= 6; h++)
			cr_assert_eq(hl_zone_offset(z, utc(y, 1, 1, 4, 0, 0) + h * 1800), -3 * 3600);
	hl_zone_free(z);
}

/*
 * A start rule whose instant falls in the previous UTC year: 2006's DST
 * starts on Sunday 2006-01-01 02:00 local (+3) = 2005-12-31 23:00Z.  glibc
 * only looks at the rules of the UTC year and misses this; we look at the
 * neighbouring years too.
 */
Test(tz, posix_rule_across_year_boundary)
{
	struct hl_zone *z = posix("ABC-3DEF-5,M1.1.0,M12.5.6/23:59:59");
	/* 2005's DST ends on Saturday 2005-12-31 23:59:59 local (+5) = 18:59:59Z */
	cr_assert_eq(hl_zone_offset(z, utc(2005, 12, 31, 18, 59, 58)), 5 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2005, 12, 31, 18, 59, 59)), 3 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2005, 12, 31, 22, 59, 59)), 3 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2005, 12, 31, 23, 0, 0)), 5 * 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2006, 6, 1, 0, 0, 0)), 5 * 3600);
	hl_zone_free(z);
}

Test(tz, posix_bad)
{
	static const char *bad[] = {
		"", "C-8", "CST", "CST-", "-8", "CST-8 ", "CST-8x", "CST-25", "CST-8:60",
		"<+08-8", "<+8>-8", "<+08>", "<+0_8>-8",
		"CST-8CDT,M3.2.0", "CST-8CDT,M13.1.0,M11.1.0", "CST-8CDT,M0.1.0,M11.1.0",
		"CST-8CDT,M3.6.0,M11.1.0", "CST-8CDT,M3.0.0,M11.1.0", "CST-8CDT,M3.2.7,M11.1.0",
		"CST-8CDT,M3.2,M11.1.0", "CST-8CDT,J0,J365", "CST-8CDT,J366,J1", "CST-8CDT,366,0",
		"CST-8CDT,M3.2.0/168,M11.1.0", "CST-8CDT,M3.2.0/,M11.1.0", "CST-8CDT,M3.2.0,M11.1.0,",
		"CST-8CDT,,M11.1.0", "CST-8CDT-", "CST-8CDT-25", "CST-8CD", "CST-0800",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char err[64] = "";
		struct hl_zone *z = hl_zone_from_posix(bad[i], err, sizeof err);
		cr_expect_null(z, "accepted bad TZ string \"%s\"", bad[i]);
		hl_zone_free(z);
		if (!z)
			cr_expect_neq(err[0], '\0');
	}
	cr_assert_null(hl_zone_from_posix(NULL, NULL, 0));
}

/* ---------------------------------------------------- local -> UTC */

Test(tz, local_to_utc_berlin_gap_and_overlap)
{
	struct hl_zone *z = load("Europe/Berlin");
	/* ordinary times */
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 7, 1, 12, 0, 0)), utc(2026, 7, 1, 10, 0, 0));
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 1, 1, 12, 0, 0)), utc(2026, 1, 1, 11, 0, 0));
	/* spring forward: 02:00..03:00 does not exist; 02:30 -> 03:30 CEST = 01:30Z */
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 3, 29, 1, 59, 59)), utc(2026, 3, 29, 0, 59, 59));
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 3, 29, 2, 0, 0)), utc(2026, 3, 29, 1, 0, 0));
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 3, 29, 2, 30, 0)), utc(2026, 3, 29, 1, 30, 0));
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 3, 29, 3, 0, 0)), utc(2026, 3, 29, 1, 0, 0));
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 3, 29, 9, 0, 0)), utc(2026, 3, 29, 7, 0, 0));
	/* fall back: 02:00..03:00 happens twice; take the earlier (CEST) */
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 10, 25, 2, 30, 0)), utc(2026, 10, 25, 0, 30, 0));
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 10, 25, 2, 0, 0)), utc(2026, 10, 25, 0, 0, 0));
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 10, 25, 3, 0, 0)), utc(2026, 10, 25, 2, 0, 0));
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 10, 25, 9, 0, 0)), utc(2026, 10, 25, 8, 0, 0));
	/* the same, in 2040, from the footer */
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2040, 3, 25, 2, 30, 0)), utc(2040, 3, 25, 1, 30, 0));
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2040, 10, 28, 2, 30, 0)), utc(2040, 10, 28, 0, 30, 0));
	hl_zone_free(z);
}

Test(tz, local_to_utc_new_york)
{
	struct hl_zone *z = load("America/New_York");
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 3, 8, 2, 30, 0)), utc(2026, 3, 8, 7, 30, 0));
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 11, 1, 1, 30, 0)), utc(2026, 11, 1, 5, 30, 0));
	cr_assert_eq(hl_zone_local_to_utc(z, utc(2026, 11, 1, 9, 0, 0)), utc(2026, 11, 1, 14, 0, 0));
	cr_assert_eq(hl_zone_local_to_utc(NULL, 12345), 12345);
	hl_zone_free(z);
}

/* local_to_utc(utc_to_local(t)) == t except for the second pass of an overlap. */
Test(tz, local_to_utc_round_trip)
{
	static const char *names[] = { "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Shanghai" };
	for (size_t i = 0; i < 4; i++) {
		struct hl_zone *z = load(names[i]);
		for (int64_t t = utc(2000, 1, 1, 0, 0, 0); t < utc(2050, 1, 1, 0, 0, 0); t += 3 * 3600 + 599) {
			int64_t local = t + hl_zone_offset(z, t);
			int64_t back = hl_zone_local_to_utc(z, local);
			if (back != t) {
				/* must be the earlier pass of the same reading */
				cr_assert_lt(back, t, "%s %lld", names[i], (long long)t);
				cr_assert_eq(back + hl_zone_offset(z, back), local);
			}
		}
		hl_zone_free(z);
	}
}

/* ---------------------------------------------------------------- TZif */

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	unsigned char *buf = malloc(1 << 20);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* A tiny TZif writer for hand-made files. */
struct tzb {
	unsigned char b[4096];
	size_t n;
};

static void put32(struct tzb *t, uint32_t v)
{
	t->b[t->n++] = (unsigned char)(v >> 24);
	t->b[t->n++] = (unsigned char)(v >> 16);
	t->b[t->n++] = (unsigned char)(v >> 8);
	t->b[t->n++] = (unsigned char)v;
}

static void put64(struct tzb *t, int64_t v)
{
	put32(t, (uint32_t)((uint64_t)v >> 32));
	put32(t, (uint32_t)v);
}

static void header(struct tzb *t, char version, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
	memcpy(t->b + t->n, "TZif", 4);
	t->n += 4;
	t->b[t->n++] = (unsigned char)version;
	memset(t->b + t->n, 0, 15);
	t->n += 15;
	put32(t, 0);       /* isutcnt */
	put32(t, 0);       /* isstdcnt */
	put32(t, 0);       /* leapcnt */
	put32(t, timecnt);
	put32(t, typecnt);
	put32(t, charcnt);
}

/* One zone: types {offs[i]}, transitions at[i] -> type idx[i], chars "ABC\0". */
static void block(struct tzb *t, int tsize, size_t nt, const int64_t *at, const uint8_t *idx,
		  size_t ntypes, const int32_t *offs)
{
	for (size_t i = 0; i < nt; i++) {
		if (tsize == 8)
			put64(t, at[i]);
		else
			put32(t, (uint32_t)(int32_t)at[i]);
	}
	for (size_t i = 0; i < nt; i++)
		t->b[t->n++] = idx[i];
	for (size_t i = 0; i < ntypes; i++) {
		put32(t, (uint32_t)offs[i]);
		t->b[t->n++] = offs[i] != offs[0];
		t->b[t->n++] = 0;
	}
	memcpy(t->b + t->n, "ABC", 4);
	t->n += 4;
}

/* A "slim" v2 file: one transition in 1990, the rest from the footer. */
static void slim_berlin(struct tzb *t, const char *footer)
{
	int64_t at[1] = { utc(1990, 1, 1, 0, 0, 0) };
	uint8_t idx[1] = { 1 };
	int32_t offs[3] = { 3208, 3600, 7200 };
	t->n = 0;
	header(t, '2', 0, 1, 4);
	block(t, 4, 0, NULL, NULL, 1, offs);
	header(t, '2', 1, 3, 4);
	block(t, 8, 1, at, idx, 3, offs);
	size_t fl = strlen(footer);
	t->b[t->n++] = '\n';
	memcpy(t->b + t->n, footer, fl);
	t->n += fl;
	t->b[t->n++] = '\n';
}

Test(tz, tzif_slim_footer)
{
	struct tzb t;
	slim_berlin(&t, "CET-1CEST,M3.5.0,M10.5.0/3");
	char err[128];
	struct hl_zone *z = hl_zone_from_tzif(t.b, t.n, err, sizeof err);
	cr_assert_not_null(z, "%s", err);
	cr_assert_eq(hl_zone_offset(z, utc(1980, 1, 1, 0, 0, 0)), 3208); /* type 0 before the first */
	cr_assert_eq(hl_zone_offset(z, utc(2026, 3, 29, 0, 59, 59)), 3600);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 3, 29, 1, 0, 0)), 7200);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 10, 25, 1, 0, 0)), 3600);
	hl_zone_free(z);

	/* empty footer: the last type stays in force */
	slim_berlin(&t, "");
	z = hl_zone_from_tzif(t.b, t.n, err, sizeof err);
	cr_assert_not_null(z, "%s", err);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 7, 1, 0, 0, 0)), 3600);
	hl_zone_free(z);

	/* bad footer strings */
	slim_berlin(&t, "CET-1CEST,M3.5.0");
	cr_assert_null(hl_zone_from_tzif(t.b, t.n, err, sizeof err));
	slim_berlin(&t, "garbage here");
	cr_assert_null(hl_zone_from_tzif(t.b, t.n, err, sizeof err));
}

Test(tz, tzif_v1_only)
{
	struct tzb t = { .n = 0 };
	int64_t at[2] = { utc(2000, 1, 1, 0, 0, 0), utc(2001, 1, 1, 0, 0, 0) };
	uint8_t idx[2] = { 1, 2 };
	int32_t offs[3] = { 0, 3600, -7200 };
	header(&t, 0, 2, 3, 4);
	block(&t, 4, 2, at, idx, 3, offs);
	char err[128];
	struct hl_zone *z = hl_zone_from_tzif(t.b, t.n, err, sizeof err);
	cr_assert_not_null(z, "%s", err);
	cr_assert_eq(hl_zone_offset(z, at[0] - 1), 0);
	cr_assert_eq(hl_zone_offset(z, at[0]), 3600);
	cr_assert_eq(hl_zone_offset(z, at[1] - 1), 3600);
	cr_assert_eq(hl_zone_offset(z, at[1]), -7200);
	cr_assert_eq(hl_zone_offset(z, utc(2100, 1, 1, 0, 0, 0)), -7200);
	hl_zone_free(z);
}

Test(tz, tzif_inconsistent_rejected)
{
	char err[128];
	int32_t offs[2] = { 0, 3600 };
	int64_t at[2] = { 1000, 500 };
	uint8_t idx[2] = { 1, 1 };
	struct tzb t = { .n = 0 };

	/* transitions not ascending */
	header(&t, 0, 2, 2, 4);
	block(&t, 4, 2, at, idx, 2, offs);
	cr_assert_null(hl_zone_from_tzif(t.b, t.n, err, sizeof err));

	/* type index out of range */
	at[1] = 2000;
	idx[1] = 2;
	t.n = 0;
	header(&t, 0, 2, 2, 4);
	block(&t, 4, 2, at, idx, 2, offs);
	cr_assert_null(hl_zone_from_tzif(t.b, t.n, err, sizeof err));

	/* no types at all */
	t.n = 0;
	header(&t, 0, 0, 0, 4);
	memcpy(t.b + t.n, "ABC", 4);
	t.n += 4;
	cr_assert_null(hl_zone_from_tzif(t.b, t.n, err, sizeof err));

	/* absurd counts (would overflow a naive size computation) */
	t.n = 0;
	header(&t, 0, 0xffffffffu, 0xffffffffu, 0xffffffffu);
	cr_assert_null(hl_zone_from_tzif(t.b, t.n, err, sizeof err));

	/* absurd offset */
	int32_t huge[1] = { INT32_MIN };
	t.n = 0;
	header(&t, 0, 0, 1, 4);
	block(&t, 4, 0, NULL, NULL, 1, huge);
	cr_assert_null(hl_zone_from_tzif(t.b, t.n, err, sizeof err));

	/* bad magic / version */
	t.n = 0;
	header(&t, '5', 0, 1, 4);
	block(&t, 4, 0, NULL, NULL, 1, offs);
	cr_assert_null(hl_zone_from_tzif(t.b, t.n, err, sizeof err));
	t.b[4] = 0; /* the same bytes as version 1 are fine */
	struct hl_zone *z = hl_zone_from_tzif(t.b, t.n, err, sizeof err);
	cr_assert_not_null(z, "%s", err);
	hl_zone_free(z);
	t.b[0] = 'X';
	cr_assert_null(hl_zone_from_tzif(t.b, t.n, err, sizeof err));
	cr_assert_null(hl_zone_from_tzif(NULL, 0, err, sizeof err));
	cr_assert_null(hl_zone_from_tzif((const unsigned char *)"", 0, err, sizeof err));
}

Test(tz, tzif_every_truncation_rejected)
{
	static const char *names[] = { "Europe/Berlin", "Asia/Shanghai", "America/New_York" };
	for (size_t k = 0; k < 3; k++) {
		char path[256];
		snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", names[k]);
		size_t len;
		unsigned char *buf = slurp(path, &len);
		char err[128];
		struct hl_zone *z = hl_zone_from_tzif(buf, len, err, sizeof err);
		cr_assert_not_null(z, "%s: %s", names[k], err);
		hl_zone_free(z);
		for (size_t n = 0; n < len; n++) {
			/* copy so ASan sees reads past the cut */
			unsigned char *cut = malloc(n ? n : 1);
			memcpy(cut, buf, n);
			z = hl_zone_from_tzif(cut, n, err, sizeof err);
			cr_expect_null(z, "%s accepted when cut to %zu of %zu bytes", names[k], n, len);
			hl_zone_free(z);
			free(cut);
		}
		free(buf);
	}
}

/* Random corruption: must never crash or leak; whatever is accepted must answer. */
Test(tz, tzif_fuzz_no_crash)
{
	size_t len;
	unsigned char *orig = slurp("/usr/share/zoneinfo/Europe/Berlin", &len);
	unsigned char *buf = malloc(len);
	uint64_t x = 88172645463325252ull;
	int accepted = 0;
	for (int round = 0; round < 3000; round++) {
		memcpy(buf, orig, len);
		int flips = 1 + round % 8;
		for (int i = 0; i < flips; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			size_t pos = (size_t)(x % len);
			/* favour the header and counts, where damage is most dangerous */
			if (round % 3 == 0)
				pos = (size_t)(x % 44);
			buf[pos] = (unsigned char)(x >> 32);
		}
		char err[128];
		struct hl_zone *z = hl_zone_from_tzif(buf, len, err, sizeof err);
		if (z) {
			accepted++;
			for (int64_t t = -4000000000LL; t < 4000000000LL; t += 99999937)
				(void)hl_zone_local_to_utc(z, t + hl_zone_offset(z, t));
			hl_zone_free(z);
		}
	}
	cr_log_info("fuzz: %d of 3000 corrupted files accepted", accepted);
	free(buf);
	free(orig);
}

/* ---------------------------------------------------------- hl_zone_load */

Test(tz, load_rejects_bad_names)
{
	static const char *bad[] = { "", "/etc/passwd", "../etc/passwd", "Europe/../../etc/passwd",
				     "Europe/..", "..", "Europe/Berlin\\x", "Europe/Ber lin", "Europe/Berlin;rm" };
	char err[256];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		cr_expect_null(hl_zone_load(bad[i], err, sizeof err), "accepted \"%s\"", bad[i]);
		cr_expect_neq(err[0], '\0');
	}
	cr_assert_null(hl_zone_load(NULL, err, sizeof err));
	char longname[400];
	memset(longname, 'A', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	cr_assert_null(hl_zone_load(longname, err, sizeof err));
}

Test(tz, load_missing_and_not_tzif)
{
	char err[256] = "";
	cr_assert_null(hl_zone_load("Nowhere/Atlantis", err, sizeof err));
	cr_assert(strstr(err, "Nowhere/Atlantis") != NULL, "%s", err);
	/* a directory is not a zone */
	cr_assert_null(hl_zone_load("Europe", err, sizeof err));
	cr_assert(strstr(err, "directory") != NULL, "%s", err);
	/* tiny err buffers are fine */
	cr_assert_null(hl_zone_load("Nowhere/Atlantis", err, 4));
	cr_assert_eq(strlen(err), 3);
	cr_assert_null(hl_zone_load("Nowhere/Atlantis", NULL, 0));
}

Test(tz, load_posix_fallback)
{
	char err[256];
	struct hl_zone *z = hl_zone_load("CST-8", err, sizeof err);
	cr_assert_not_null(z, "%s", err);
	cr_assert_eq(hl_zone_offset(z, 0), 8 * 3600);
	hl_zone_free(z);
}

Test(tz, load_uses_tzdir)
{
	char dir[] = "/tmp/hl_tzdir_XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char sub[256], path[256];
	snprintf(sub, sizeof sub, "%s/Test", dir);
	mkdir(sub, 0700);
	snprintf(path, sizeof path, "%s/Test/Slim", dir);
	struct tzb t;
	slim_berlin(&t, "CET-1CEST,M3.5.0,M10.5.0/3");
	FILE *f = fopen(path, "wb");
	fwrite(t.b, 1, t.n, f);
	fclose(f);
	char bad[256];
	snprintf(bad, sizeof bad, "%s/Test/Bad", dir);
	f = fopen(bad, "wb");
	fwrite("TZif2 not really", 1, 16, f);
	fclose(f);

	setenv("TZDIR", dir, 1);
	char err[256];
	struct hl_zone *z = hl_zone_load("Test/Slim", err, sizeof err);
	cr_assert_not_null(z, "%s", err);
	cr_assert_eq(hl_zone_offset(z, utc(2026, 7, 1, 0, 0, 0)), 7200);
	hl_zone_free(z);
	cr_assert_null(hl_zone_load("Test/Bad", err, sizeof err));
	cr_assert(strstr(err, "Test/Bad") != NULL, "%s", err);
	/* Europe/Berlin is not in this directory */
	cr_assert_null(hl_zone_load("Europe/Berlin", err, sizeof err));
	unsetenv("TZDIR");
	z = hl_zone_load("Europe/Berlin", err, sizeof err);
	cr_assert_not_null(z, "%s", err);
	hl_zone_free(z);
	unlink(path);
	unlink(bad);
	rmdir(sub);
	rmdir(dir);
}

Test(tz, null_zone_is_utc)
{
	cr_assert_eq(hl_zone_offset(NULL, 123456789), 0);
	hl_zone_free(NULL);
}

Test(tz, extreme_instants_do_not_overflow)
{
	struct hl_zone *z = load("Europe/Berlin");
	struct hl_zone *p = posix("CET-1CEST,M3.5.0,M10.5.0/3");
	int64_t ex[] = { INT64_MIN, INT64_MIN + 1, -1, 0, INT64_MAX - 1, INT64_MAX, INT64_MAX / 1000, INT64_MIN / 1000 };
	for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
		int32_t o = hl_zone_offset(z, ex[i]);
		cr_assert(o >= -86400 && o <= 86400);
		o = hl_zone_offset(p, ex[i]);
		cr_assert(o == 3600 || o == 7200);
		(void)hl_zone_local_to_utc(z, ex[i]);
		(void)hl_zone_local_to_utc(p, ex[i]);
	}
	hl_zone_free(z);
	hl_zone_free(p);
}
