/*
 * ql_time.c - the time of a queue_log record, as the PBX wrote it (pure).
 *
 * Asterisk's queue_log file starts every line with the Unix epoch,
 * "1366720340" or, on some builds, "1366720340.303267".  But the same
 * records also live in a database table: Asterisk's realtime queue_log
 * (Wazo keeps its call-centre statistics there; wazo-doc "Queue logs")
 * writes the time as text, "2012-07-04 07:33:23.085718", in the PBX's local
 * time (logger.c formats ast_localtime "%F %T.%6q"), and PostgreSQL prints a
 * timestamptz column with its offset, "2012-07-04 07:33:23.085718+02".  A
 * log exported from such a table ("1 | 2 | 3" with blanks, which the
 * splitter already trims) used to be all malformed lines: not one event.
 *
 * So a record's time is either an epoch or such a date and time: with an
 * offset ("Z", "+02", "+0200", "+02:00") it is exact; without one it is the
 * local time of the bridge's process, which on the PBX's host is the zone
 * Asterisk wrote it in (TZ= in the environment selects another).  In the
 * hour a clock goes back, a local time without offset is ambiguous; mktime
 * picks one.  Times are kept to the millisecond.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx.h"

#define EPOCH_MIN 946684800LL   /* 2000-01-01: app_queue wrote no queue_log before */
#define EPOCH_MAX 4102444800LL  /* 2100-01-01 */

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* n digits at *p as a number (p advanced); -1 when they are not there. */
static int digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!digit(**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* ".303267" -> 303 (ms), p advanced past every digit; -1 when a '.' has none. */
static int fraction(const char **p)
{
	if (**p != '.')
		return 0;
	(*p)++;
	if (!digit(**p))
		return -1;
	int ms = 0, fd = 0;
	for (; digit(**p); (*p)++, fd++)
		if (fd < 3)
			ms = ms * 10 + (**p - '0');
	for (; fd < 3; fd++)
		ms *= 10;
	return ms;
}

static hl_ms epoch(const char *s)
{
	long long sec = 0;
	int nd = 0;
	const char *p = s;
	for (; digit(*p); p++) {
		if (++nd > 11)
			return -1;
		sec = sec * 10 + (*p - '0');
	}
	if (nd == 0)
		return -1;
	int ms = fraction(&p);
	if (ms < 0 || *p || sec < EPOCH_MIN || sec >= EPOCH_MAX)
		return -1;
	return (hl_ms)sec * 1000 + ms;
}

/* "Z", "+02", "+0200", "+02:00" -> seconds east of UTC in *off; false when not one. */
static bool offset(const char *p, long *off)
{
	if (p[0] == 'Z' && !p[1]) {
		*off = 0;
		return true;
	}
	if (p[0] != '+' && p[0] != '-')
		return false;
	int sign = p[0] == '-' ? -1 : 1;
	p++;
	int h = digits(&p, 2), m = 0;
	if (h < 0 || h > 14)
		return false;
	if (*p == ':')
		p++;
	if (*p && ((m = digits(&p, 2)) < 0 || m > 59 || *p))
		return false;
	*off = sign * (h * 3600L + m * 60L);
	return true;
}

/* "2012-07-04 07:33:23[.085718][offset]" ('T' between them as well). */
static hl_ms datetime(const char *s)
{
	const char *p = s;
	int y = digits(&p, 4);
	if (y < 0 || *p++ != '-')
		return -1;
	int mo = digits(&p, 2);
	if (mo < 0 || *p++ != '-')
		return -1;
	int d = digits(&p, 2);
	if (d < 0 || (*p != ' ' && *p != 'T'))
		return -1;
	p++;
	int h = digits(&p, 2);
	if (h < 0 || *p++ != ':')
		return -1;
	int mi = digits(&p, 2);
	if (mi < 0 || *p++ != ':')
		return -1;
	int sec = digits(&p, 2);
	int ms = sec < 0 ? -1 : fraction(&p);
	if (ms < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
		         .tm_sec = sec, .tm_isdst = -1 };
	long off = 0;
	time_t t;
	if (!*p) {
		t = mktime(&tm); /* as Asterisk wrote it: the local time */
	} else if (offset(p, &off)) {
		tm.tm_isdst = 0;
		t = timegm(&tm) - off;
	} else {
		return -1;
	}
	if (tm.tm_mday != d || tm.tm_mon != mo - 1 || t < EPOCH_MIN || t >= EPOCH_MAX)
		return -1; /* 31 June normalized into July: not a date */
	return (hl_ms)t * 1000 + ms;
}

hl_ms pbx_ql_time(const char *s)
{
	hl_ms at = epoch(s);
	return at >= 0 ? at : datetime(s);
}
