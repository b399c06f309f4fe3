/*
 * config_calendars.c - the calendars = ( ... ) list of hotlined.conf: the
 * business hours clocks count in (a custom row of config_table.c).
 *
 *     calendars = ( { name = "office"; timezone = "Asia/Shanghai";
 *                     hours = { mon = "09:00-12:00,13:00-17:00"; ... };
 *                     holidays = [ "2026-10-01..2026-10-07" ]; workdays = [ "2026-10-10" ];
 *                     workday_hours = "09:00-12:00"; } );
 *
 * Holidays and make-up working days are expanded into sorted, unique day
 * numbers once, here, so calendar.c only ever searches a sorted array.  A
 * calendar that is never open is an error: a deadline on it would never fall
 * due.  Calendars load before orders and sla, whose calendar names are
 * checked against them.
 *
 * Pure: part of the functional core (no libevent, no libpq).
 */
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define MAX_RANGE_DAYS 366 /* one holidays entry may span at most a year */

const char *const hl_cfgi_calendar_keys[] = {"name", "timezone", "hours", "holidays", "workdays", "workday_hours", NULL};
static const char *const day_keys[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static int parse_hours(const struct ld *ld, const config_setting_t *s, const char *v, struct hl_day_hours *out)
{
	char q[48];
	if (hl_parse_day_hours(v, out) != 0)
		return hl_cfgi_fail(ld, s, "bad hours '%s' (use \"09:00-12:00,13:30-17:30\" or \"\" for closed)",
			    hl_cfgi_shown(v, q, sizeof q));
	return 0;
}

static int cmp_day(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Expand a list of dates and date ranges into sorted, unique day numbers. */
static int load_days(const struct ld *ld, const config_setting_t *cal, const char *name, int32_t **out, size_t *n_out)
{
	const config_setting_t *arr;
	size_t n = 0, cap = 0;
	int32_t *days = NULL;
	char q[48];
	if (hl_cfgi_str_list(ld, cal, name, &arr))
		return -1;
	if (!arr)
		return 0;
	for (int i = 0; i < config_setting_length(arr); i++) {
		const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
		const char *v = config_setting_get_string(e);
		int32_t first, last;
		if (hl_parse_date_range(v, &first, &last) != 0 || last < first) {
			free(days);
			return hl_cfgi_fail(ld, e, "bad date '%s' (use \"2026-10-01\" or \"2026-10-01..2026-10-07\")",
				    hl_cfgi_shown(v, q, sizeof q));
		}
		if ((int64_t)last - first >= MAX_RANGE_DAYS) {
			free(days);
			return hl_cfgi_fail(ld, e, "range longer than %d days", MAX_RANGE_DAYS);
		}
		size_t need = n + (size_t)(last - first) + 1;
		if (need > cap) {
			size_t ncap = cap ? cap * 2 : 32;
			while (ncap < need)
				ncap *= 2;
			int32_t *nd = realloc(days, ncap * sizeof *nd);
			if (!nd) {
				free(days);
				return hl_cfgi_fail(ld, e, "out of memory");
			}
			days = nd;
			cap = ncap;
		}
		for (int32_t d = first; d <= last; d++)
			days[n++] = d;
	}
	if (n) {
		qsort(days, n, sizeof *days, cmp_day);
		size_t u = 1;
		for (size_t i = 1; i < n; i++)
			if (days[i] != days[u - 1])
				days[u++] = days[i];
		n = u;
	}
	*out = days;
	*n_out = n;
	return 0;
}

static int day_overlap(const struct hl_calendar *c, int32_t *day)
{
	size_t i = 0, j = 0;
	while (i < c->n_holidays && j < c->n_workdays) {
		if (c->holidays[i] == c->workdays[j]) {
			*day = c->holidays[i];
			return 1;
		}
		if (c->holidays[i] < c->workdays[j])
			i++;
		else
			j++;
	}
	return 0;
}

static int load_week(const struct ld *ld, const config_setting_t *cal, struct hl_calendar *c)
{
	const config_setting_t *hours, *s;
	if (hl_cfgi_group(ld, cal, "hours", day_keys, &hours))
		return -1;
	for (int d = 0; d < 7; d++) {
		const char *v = NULL;
		if (hl_cfgi_str(ld, hours, day_keys[d], &v, &s))
			return -1;
		if (s && parse_hours(ld, s, v, &c->week[d]))
			return -1;
	}
	const char *v = NULL;
	c->workday_hours = c->week[1]; /* a make-up working day is a Monday unless told */
	if (hl_cfgi_str(ld, cal, "workday_hours", &v, &s))
		return -1;
	if (s && parse_hours(ld, s, v, &c->workday_hours))
		return -1;
	return 0;
}

static int load_zone(const struct ld *ld, const config_setting_t *cal, struct hl_calendar *c)
{
	const config_setting_t *s;
	const char *v = "UTC";
	char zerr[256], q[48];
	if (hl_cfgi_str(ld, cal, "timezone", &v, &s))
		return -1;
	if (!hl_cfgi_valid_zone_name(v) || strlen(v) >= sizeof c->zone_name)
		return hl_cfgi_fail(ld, s, "bad time zone name '%s' (use e.g. \"Asia/Shanghai\")", hl_cfgi_shown(v, q, sizeof q));
	zerr[0] = '\0';
	c->zone = hl_zone_load(v, zerr, sizeof zerr);
	if (!c->zone) {
		if (s)
			return hl_cfgi_fail(ld, s, "unknown time zone '%s': %s", hl_cfgi_shown(v, q, sizeof q), zerr);
		return hl_cfgi_fail(ld, cal, "cannot load time zone UTC: %s", zerr);
	}
	memcpy(c->zone_name, v, strlen(v) + 1);
	return 0;
}

static bool never_open(const struct hl_calendar *c)
{
	for (int d = 0; d < 7; d++)
		if (c->week[d].n > 0)
			return false;
	return c->n_workdays == 0 || c->workday_hours.n == 0;
}

static int load_calendar(const struct ld *ld, const config_setting_t *cal, const struct hl_config *cfg,
			 struct hl_calendar *c)
{
	const config_setting_t *s;
	const char *name = NULL;
	int32_t day;
	int y, m, d;
	char q[48];
	if (hl_cfgi_check_keyv(ld, cal, hl_cfgi_calendar_keys) || hl_cfgi_str(ld, cal, "name", &name, &s))
		return -1;
	if (!s)
		return hl_cfgi_fail_missing(ld, cal, "name");
	if (name[0] == '\0')
		return hl_cfgi_fail(ld, s, "must not be empty");
	if (hl_cfgi_set_name(ld, s, c->name, sizeof c->name, name))
		return -1;
	for (size_t i = 0; i < cfg->n_calendars; i++)
		if (&cfg->calendars[i] != c && strcmp(cfg->calendars[i].name, name) == 0)
			return hl_cfgi_fail(ld, s, "calendar '%s' is defined twice", hl_cfgi_shown(name, q, sizeof q));
	if (load_zone(ld, cal, c) || load_week(ld, cal, c) ||
	    load_days(ld, cal, "holidays", &c->holidays, &c->n_holidays) ||
	    load_days(ld, cal, "workdays", &c->workdays, &c->n_workdays))
		return -1;
	if (day_overlap(c, &day)) {
		hl_civil_from_days(day, &y, &m, &d);
		return hl_cfgi_fail(ld, hl_cfgi_member(cal, "workdays"), "%04d-%02d-%02d is also a holiday", y, m, d);
	}
	if (never_open(c))
		return hl_cfgi_fail(ld, cal, "the calendar is never open (no hours on any day)");
	/* Make-up working days open with workday_hours (Monday's when absent).
	 * With none, each listed date would silently be closed - not a working
	 * day for "Nwd", no hours for a clock - the opposite of what the list
	 * says; one of the two keys is wrong, so say which (review-clocks). */
	if (c->n_workdays > 0 && c->workday_hours.n == 0) {
		const config_setting_t *wh = hl_cfgi_member(cal, "workday_hours");
		if (wh)
			return hl_cfgi_fail(ld, wh, "a make-up working day needs opening hours: workday_hours is closed"
			                    " (set e.g. \"09:00-17:00\")");
		return hl_cfgi_fail(ld, hl_cfgi_member(cal, "workdays"), "a make-up working day needs opening hours:"
		                    " workday_hours is absent and Monday is closed (set workday_hours, e.g. \"09:00-17:00\")");
	}
	return 0;
}

int hl_cfgi_load_calendar(const struct ld *ld, const config_setting_t *e, size_t i, struct hl_config *cfg)
{
	return load_calendar(ld, e, cfg, &cfg->calendars[i]);
}

/* A calendar by name (the loader checks names against it while reading). */
const struct hl_calendar *hl_config_calendar(const struct hl_config *cfg, const char *name)
{
	if (!name || !name[0])
		return NULL;
	for (size_t i = 0; i < cfg->n_calendars; i++)
		if (strcmp(cfg->calendars[i].name, name) == 0)
			return &cfg->calendars[i];
	return NULL;
}
