/*
 * calendar.h - time zones and business-hours calendars (pure; see calendar.c, tz.c).
 *
 * A calendar says when the hotline counts time: a time zone, weekly opening
 * hours, holidays (closed all day) and make-up working days (open although
 * the weekday says closed).  An SLA clock that runs "on the calendar" only
 * consumes time while the calendar is open.  A NULL calendar means the wall
 * clock: every millisecond counts.
 *
 * Nothing here reads the system time zone or calls localtime(); zones are
 * parsed from TZif data or POSIX TZ strings into plain structs.
 */
#ifndef HL_CALENDAR_H
#define HL_CALENDAR_H

#include "hotlined.h"

struct hl_zone; /* opaque, tz.c */

/* Load /usr/share/zoneinfo/NAME (or $TZDIR/NAME).  NULL with err filled on failure. */
struct hl_zone *hl_zone_load(const char *name, char *err, size_t errlen);
/* Parse TZif (v1..v4) bytes; pure. */
struct hl_zone *hl_zone_from_tzif(const unsigned char *data, size_t len, char *err, size_t errlen);
/* Parse a POSIX TZ string such as "CST-8" or "CET-1CEST,M3.5.0,M10.5.0/3"; pure. */
struct hl_zone *hl_zone_from_posix(const char *tz, char *err, size_t errlen);
void hl_zone_free(struct hl_zone *z);
/* Every offset a zone can have is strictly within +-this many seconds
 * (TZif offsets beyond it are refused; POSIX offsets stay below 25 h). */
#define HL_ZONE_OFFSET_LIMIT_S (26 * 3600)
/* Seconds east of UTC in force at the instant utc_s. */
int32_t hl_zone_offset(const struct hl_zone *z, int64_t utc_s);
/*
 * The instant (UTC seconds) at which the zone's wall clock reads local_s
 * (seconds since 1970-01-01T00:00 local).  A reading inside a spring-forward
 * gap moves forward by the gap (02:30 -> the instant of 03:30); a reading that
 * occurs twice (fall back) gives the earlier instant.  NULL zone: UTC.
 */
int64_t hl_zone_local_to_utc(const struct hl_zone *z, int64_t local_s);

/* Civil dates (tz.c, the one place for date arithmetic).  Civil (local) day
 * number: days since 1970-01-01 of the proleptic Gregorian calendar. */
int32_t hl_days_from_civil(int y, int m, int d);
void hl_civil_from_days(int32_t days, int *y, int *m, int *d);
int hl_weekday(int32_t days); /* 0 = Sunday .. 6 = Saturday */
bool hl_is_leap_year(int y);
int hl_days_in_month(int y, int m); /* 28..31; 0 when m is not 1..12 */

#define HL_CAL_MAX_INTERVALS 8

struct hl_interval {
	int32_t open_min;  /* minutes after local midnight, 0..1440 */
	int32_t close_min; /* > open_min, up to 1440 */
};

struct hl_day_hours {
	struct hl_interval iv[HL_CAL_MAX_INTERVALS]; /* sorted, non-overlapping */
	int n;                                        /* 0 = closed all day */
};

struct hl_calendar {
	char name[64];
	char zone_name[64];
	struct hl_zone *zone;           /* owned */
	struct hl_day_hours week[7];    /* index 0 = Sunday */
	int32_t *holidays;              /* local day numbers, sorted, unique */
	size_t n_holidays;
	int32_t *workdays;              /* make-up working days, sorted, unique */
	size_t n_workdays;
	struct hl_day_hours workday_hours; /* hours on a make-up day */
};

void hl_calendar_free(struct hl_calendar *c); /* frees members */

/*
 * Add the days first..last (inclusive) to a sorted, unique day array such as
 * holidays or workdays, keeping it sorted and unique.  0 ok, -1 bad range
 * (first > last, more than HL_CAL_MAX_DAYS days in all) or out of memory;
 * on failure the array is unchanged.
 */
#define HL_CAL_MAX_DAYS 100000
int hl_calendar_add_days(int32_t **days, size_t *n, int32_t first, int32_t last);
/* The opening hours that apply on local day `day`: closed on a holiday, else
 * workday_hours on a make-up working day, else week[weekday]. */
const struct hl_day_hours *hl_cal_day_hours(const struct hl_calendar *c, int32_t day);
/* True when some weekday, or a make-up day with workday_hours, has opening
 * hours.  A calendar without any never opens (hl_cal_add gives INT64_MAX):
 * the configuration should refuse it. */
bool hl_calendar_has_hours(const struct hl_calendar *c);
/* The calendar's local day number of instant t (UTC when c or its zone is NULL). */
int32_t hl_cal_local_day(const struct hl_calendar *c, hl_ms t);

/* hl_cal_add gives up (INT64_MAX) after this many consecutive closed days,
 * or after HL_CAL_MAX_WALK days in all; hl_cal_between counts at most
 * HL_CAL_MAX_WALK days after `a`. */
#define HL_CAL_MAX_CLOSED_DAYS 3660
#define HL_CAL_MAX_WALK 36600

/* Parse "09:00-12:00,13:30-17:30" (or "" / "closed"); 0 ok, -1 bad. */
int hl_parse_day_hours(const char *s, struct hl_day_hours *out);
/* Parse "2026-10-01" or "2026-10-01..2026-10-07" into a day range; 0 ok, -1 bad. */
int hl_parse_date_range(const char *s, int32_t *first, int32_t *last);

/* Is the calendar open at instant t?  Open intervals are [open, close).  (NULL calendar: always.) */
bool hl_cal_is_open(const struct hl_calendar *c, hl_ms t);
/*
 * The instant at which `amount` milliseconds of open time have passed after
 * `start`.  amount 0 returns `start` if open, else the next opening.
 * A deadline that falls exactly on a closing time is that closing time.
 * NULL calendar: start + amount.  Returns INT64_MAX if the calendar is never open.
 */
hl_ms hl_cal_add(const struct hl_calendar *c, hl_ms start, int64_t amount);
/* Open milliseconds in [a, b) (0 when b <= a).  NULL calendar: b - a. */
int64_t hl_cal_between(const struct hl_calendar *c, hl_ms a, hl_ms b);

/*
 * Working days (contract section 2).  A working day is a local day with
 * opening hours (a holiday is not one, a make-up working day is).  "Nwd"
 * ends at the closing time of the N-th working day after the local day the
 * clock starts on; "0wd" ends at the closing time of the start day itself,
 * or of the next working day when the clock starts on a closed day or at or
 * after closing time.  The closing time of a day is the end of its last
 * interval.  A date the zone skips is not a working day, nor is a day whose
 * hours vanish in a DST gap.  INT64_MAX when the calendar is NULL or never
 * open, when n < 0, or when the walk would pass HL_CAL_MAX_CLOSED_DAYS closed
 * days in a row or HL_CAL_MAX_WALK days in all.
 */
hl_ms hl_cal_workdays_end(const struct hl_calendar *c, hl_ms start, int n);
/*
 * The due time `span` (see hl_parse_span) after `start`: N working days for
 * HL_SPAN_WD(N), else `span` milliseconds of open time (wall-clock time for
 * a NULL calendar).  The one place a deadline is computed from a span.
 */
hl_ms hl_deadline(const struct hl_calendar *c, hl_ms start, int64_t span);

#endif
