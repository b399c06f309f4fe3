/*
 * calendar.c - business-hours calendars: when does an SLA clock run?
 *
 * A calendar is a time zone plus opening hours per weekday, holidays (closed
 * all day) and make-up working days (open with workday_hours although the
 * weekday would be closed).  An SLA clock on a calendar consumes time only
 * while the calendar is open, like RT's business hours or Zammad calendars.
 *
 * Design.  Opening hours are wall-clock times of the calendar's zone, per
 * local civil day.  For each day we turn its intervals into UTC instants with
 * hl_zone_local_to_utc(), so 09:00-17:00 on a DST-change day is still 09:00
 * to 17:00 on the office clock (8 real hours), and a zone that changed its
 * offset is handled by the zone data.  Every query walks these UTC intervals
 * day by day from a few days before the start instant, and the walk hands
 * out their union in ascending, disjoint pieces.  The union matters because
 * the mapping is not monotone: an interval wholly inside a spring-forward
 * gap moves forward past a later one of the same day (Berlin "02:30-02:53,
 * 03:00-04:00" is one hour, 03:00-04:00 CEST), and a closing time in a gap
 * can move onto the next day (Nuuk).  hl_cal_add, hl_cal_between and
 * hl_cal_is_open all use that one walk, which is what makes
 * hl_cal_between(s, hl_cal_add(s, x)) == x hold exactly.
 *
 * A date the zone skips entirely (Pacific/Apia 2011-12-30, Pacific/Kiritimati
 * 1994-12-31: no instant reads that date) has no opening hours and is not a
 * working day.  Nobody worked the Friday Samoa did not have; moving its
 * hours onto Saturday (what "a reading in a gap moves forward" would give)
 * would invent a 12-hour Saturday.  The next day keeps exactly its own hours.
 *
 * Cost is a few binary searches per day walked, never per minute; the walk
 * stops after HL_CAL_MAX_CLOSED_DAYS closed days in a row (a calendar that is
 * never open gives INT64_MAX) and after HL_CAL_MAX_WALK days in all.
 *
 * Intervals are half-open [open, close): at the closing instant the calendar
 * is closed, and a deadline that uses up the last open millisecond of a day
 * is that closing instant, not the next morning.
 *
 * Civil-date arithmetic (day numbers, weekdays, month lengths) lives in
 * tz.c, which needs it for POSIX rules and depends on nothing here; this
 * file builds on tz.c, never the other way round.
 */
#include "calendar.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Instants beyond +-4*10^15 ms (about 126,000 years) are not walked. */
#define CAL_LIMIT_MS INT64_C(4000000000000000)

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* --------------------------------------------------------------- parsing */

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* "H:MM" or "HH:MM", 00:00..24:00; minutes after midnight or -1. */
static int parse_clock(const char **pp)
{
	const char *p = skip_space(*pp);
	int h = 0, nd = 0;
	while (*p >= '0' && *p <= '9' && nd < 3) {
		h = h * 10 + (*p++ - '0');
		nd++;
	}
	if (nd < 1 || nd > 2 || *p != ':')
		return -1;
	p++;
	if (!(p[0] >= '0' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9'))
		return -1;
	int m = (p[0] - '0') * 10 + (p[1] - '0');
	p += 2;
	if (h > 24 || (h == 24 && m != 0))
		return -1;
	*pp = skip_space(p);
	return h * 60 + m;
}

static int cmp_interval(const void *a, const void *b)
{
	const struct hl_interval *x = a, *y = b;
	return (x->open_min > y->open_min) - (x->open_min < y->open_min);
}

int hl_parse_day_hours(const char *s, struct hl_day_hours *out)
{
	struct hl_day_hours h;
	memset(&h, 0, sizeof h);
	if (!s || !out)
		return -1;
	const char *p = skip_space(s);
	size_t len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len == 0 || (len == 6 && strncasecmp(p, "closed", 6) == 0)) {
		*out = h;
		return 0;
	}
	for (;;) {
		int open = parse_clock(&p);
		if (open < 0 || *p != '-')
			return -1;
		p++;
		int close = parse_clock(&p);
		if (close < 0 || close <= open || h.n == HL_CAL_MAX_INTERVALS)
			return -1;
		h.iv[h.n++] = (struct hl_interval){ open, close };
		if (*p == '\0')
			break;
		if (*p != ',')
			return -1;
		p++;
	}
	/* Accept any order, but two intervals may not share a minute; touching
	 * ones ("09:00-12:00,12:00-17:00") are merged into one. */
	qsort(h.iv, (size_t)h.n, sizeof h.iv[0], cmp_interval);
	int n = 1;
	for (int i = 1; i < h.n; i++) {
		if (h.iv[i].open_min < h.iv[n - 1].close_min)
			return -1;
		if (h.iv[i].open_min == h.iv[n - 1].close_min)
			h.iv[n - 1].close_min = h.iv[i].close_min;
		else
			h.iv[n++] = h.iv[i];
	}
	h.n = n;
	*out = h;
	return 0;
}

/* "YYYY-MM-DD" at *pp, a real date; day number via *day, 0 ok, -1 bad. */
static int parse_date(const char **pp, int32_t *day)
{
	const char *p = *pp;
	int v[3] = { 0, 0, 0 };
	static const int width[3] = { 4, 2, 2 };
	for (int f = 0; f < 3; f++) {
		for (int i = 0; i < width[f]; i++) {
			if (p[i] < '0' || p[i] > '9')
				return -1;
			v[f] = v[f] * 10 + (p[i] - '0');
		}
		p += width[f];
		if (f < 2 && *p++ != '-')
			return -1;
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > hl_days_in_month(v[0], v[1]))
		return -1;
	*day = hl_days_from_civil(v[0], v[1], v[2]);
	*pp = p;
	return 0;
}

int hl_parse_date_range(const char *s, int32_t *first, int32_t *last)
{
	int32_t a, b;
	if (!s || !first || !last)
		return -1;
	const char *p = skip_space(s);
	if (parse_date(&p, &a) < 0)
		return -1;
	b = a;
	if (p[0] == '.' && p[1] == '.') {
		p += 2;
		if (parse_date(&p, &b) < 0 || b < a)
			return -1;
	}
	if (*skip_space(p) != '\0')
		return -1;
	*first = a;
	*last = b;
	return 0;
}

/* ------------------------------------------------------- calendar basics */

static int cmp_day(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

static bool has_day(const int32_t *days, size_t n, int32_t day)
{
	return n > 0 && days && bsearch(&day, days, n, sizeof *days, cmp_day) != NULL;
}

int hl_calendar_add_days(int32_t **days, size_t *n, int32_t first, int32_t last)
{
	if (!days || !n || first > last || (int64_t)last - first >= HL_CAL_MAX_DAYS)
		return -1;
	size_t add = (size_t)((int64_t)last - first + 1);
	if (*n + add > HL_CAL_MAX_DAYS * 2)
		return -1;
	int32_t *a = malloc((*n + add) * sizeof *a);
	if (!a)
		return -1;
	if (*n)
		memcpy(a, *days, *n * sizeof *a);
	for (size_t i = 0; i < add; i++)
		a[*n + i] = first + (int32_t)i;
	qsort(a, *n + add, sizeof *a, cmp_day);
	size_t m = 0;
	for (size_t i = 0; i < *n + add; i++)
		if (m == 0 || a[m - 1] != a[i])
			a[m++] = a[i];
	if (m > HL_CAL_MAX_DAYS) {
		free(a);
		return -1;
	}
	free(*days);
	*days = a;
	*n = m;
	return 0;
}

void hl_calendar_free(struct hl_calendar *c)
{
	if (!c)
		return;
	hl_zone_free(c->zone);
	free(c->holidays);
	free(c->workdays);
	c->zone = NULL;
	c->holidays = c->workdays = NULL;
	c->n_holidays = c->n_workdays = 0;
}

const struct hl_day_hours *hl_cal_day_hours(const struct hl_calendar *c, int32_t day)
{
	static const struct hl_day_hours closed = { .n = 0 };
	if (has_day(c->holidays, c->n_holidays, day))
		return &closed;
	if (has_day(c->workdays, c->n_workdays, day))
		return &c->workday_hours;
	return &c->week[hl_weekday(day)];
}

bool hl_calendar_has_hours(const struct hl_calendar *c)
{
	if (!c)
		return false;
	for (int i = 0; i < 7; i++)
		if (c->week[i].n > 0)
			return true;
	return c->n_workdays > 0 && c->workday_hours.n > 0;
}

int32_t hl_cal_local_day(const struct hl_calendar *c, hl_ms t)
{
	int64_t s = floor_div(t, 1000);
	int32_t off = c ? hl_zone_offset(c->zone, s) : 0;
	return (int32_t)floor_div(s + off, 86400);
}

/* ------------------------------------------------------------ the walk */

/*
 * The walk yields the calendar's open time as the union of its intervals,
 * in ascending, disjoint pieces (two pieces may touch).  Day by day, each
 * day's intervals are mapped to instants and merged into a small buffer of
 * pending intervals; pending time is handed out once no later day can reach
 * back to it.  Mapping is not monotone, which is why a plain "clamp to the
 * previous end" loses time: an interval wholly inside a DST gap moves
 * forward past a later interval of the same day, and a day's closing time
 * can move onto the next day.
 *
 * hl_zone_local_to_utc(r) is r minus some offset of the zone, so it lies
 * within HL_ZONE_OFFSET_LIMIT_S of r: every interval of local day d or of a
 * later day starts at or after day_floor(d).  Once day d is next to expand,
 * pending time before day_floor(d) is final.  Callers walk from
 * WALK_MARGIN_DAYS before the day of interest, which covers every day whose
 * intervals can reach it (3 days > 2 * 26 h), so the union around an
 * instant never depends on where a walk began.
 */
#define WALK_MARGIN_DAYS 3
#define WALK_BUF (8 * HL_CAL_MAX_INTERVALS)

struct walk {
	const struct hl_calendar *c;
	int32_t day;           /* next local day to expand */
	int32_t last_day;      /* do not expand beyond this day */
	int32_t last_open_day; /* the last day that had open time */
	hl_ms open[WALK_BUF], close[WALK_BUF]; /* pending: sorted, disjoint, not touching */
	int n;
};

static void walk_init(struct walk *w, const struct hl_calendar *c, int32_t from, int32_t to)
{
	w->c = c;
	w->day = from;
	w->last_day = to;
	w->last_open_day = from;
	w->n = 0;
}

/* No instant of the zone reads local day `day`: the zone skipped the whole
 * date (Pacific/Apia 2011-12-30).  Its local midnight, moved forward by the
 * gap, then already reads a later day. */
static bool day_skipped(const struct hl_calendar *c, int32_t day)
{
	int64_t midnight = hl_zone_local_to_utc(c->zone, (int64_t)day * 86400);
	return hl_cal_local_day(c, midnight * 1000) != day;
}

/* Expand one local day into UTC intervals, in the order of its hours (not
 * necessarily ascending, see above).  A skipped date has none. */
static int day_spans(const struct hl_calendar *c, int32_t day, hl_ms *open, hl_ms *close)
{
	const struct hl_day_hours *h = hl_cal_day_hours(c, day);
	if (h->n == 0 || day_skipped(c, day))
		return 0;
	int64_t base = (int64_t)day * 86400;
	int n = 0;
	for (int i = 0; i < h->n && i < HL_CAL_MAX_INTERVALS; i++) {
		hl_ms o = hl_zone_local_to_utc(c->zone, base + (int64_t)h->iv[i].open_min * 60) * 1000;
		hl_ms e = hl_zone_local_to_utc(c->zone, base + (int64_t)h->iv[i].close_min * 60) * 1000;
		if (e > o) {
			open[n] = o;
			close[n] = e;
			n++;
		}
	}
	return n;
}

/* Earliest instant any interval of local day `day` (or a later one) can have. */
static hl_ms day_floor(int32_t day)
{
	return ((int64_t)day * 86400 - HL_ZONE_OFFSET_LIMIT_S) * 1000;
}

/* Merge [o, e) into the pending buffer, keeping it sorted and disjoint. */
static void walk_merge(struct walk *w, hl_ms o, hl_ms e)
{
	int i = 0;
	while (i < w->n && w->close[i] < o)
		i++;
	int j = i;
	while (j < w->n && w->open[j] <= e) { /* overlaps or touches: absorb */
		if (w->open[j] < o)
			o = w->open[j];
		if (w->close[j] > e)
			e = w->close[j];
		j++;
	}
	/* replace pending[i..j) by the one merged interval */
	int tail = w->n - j;
	memmove(&w->open[i + 1], &w->open[j], (size_t)tail * sizeof w->open[0]);
	memmove(&w->close[i + 1], &w->close[j], (size_t)tail * sizeof w->close[0]);
	w->open[i] = o;
	w->close[i] = e;
	w->n = i + 1 + tail;
}

/* Next open interval [*o, *e); false when the walk is over. */
static bool walk_next(struct walk *w, hl_ms *o, hl_ms *e)
{
	for (;;) {
		bool more = w->day <= w->last_day && w->day - w->last_open_day <= HL_CAL_MAX_CLOSED_DAYS;
		/* Everything before day_floor(w->day) is final.  Hand out that part
		 * of the head and keep the rest pending, so a 24/7 calendar (one
		 * endless merged interval) still comes out a day at a time.  The
		 * buffer holds a few days of intervals at most; the size check is
		 * a guard that real zone data never reaches. */
		hl_ms fin = more && w->n <= WALK_BUF - HL_CAL_MAX_INTERVALS ? day_floor(w->day) : INT64_MAX;
		if (w->n > 0 && w->open[0] < fin) {
			*o = w->open[0];
			if (w->close[0] > fin) {
				*e = fin;
				w->open[0] = fin;
				return true;
			}
			*e = w->close[0];
			w->n--;
			memmove(&w->open[0], &w->open[1], (size_t)w->n * sizeof w->open[0]);
			memmove(&w->close[0], &w->close[1], (size_t)w->n * sizeof w->close[0]);
			return true;
		}
		if (!more)
			return false;
		hl_ms open[HL_CAL_MAX_INTERVALS], close[HL_CAL_MAX_INTERVALS];
		int n = day_spans(w->c, w->day, open, close);
		for (int i = 0; i < n; i++)
			walk_merge(w, open[i], close[i]);
		if (n > 0)
			w->last_open_day = w->day;
		w->day++;
	}
}

static bool in_range(hl_ms t)
{
	return t >= -CAL_LIMIT_MS && t <= CAL_LIMIT_MS;
}

bool hl_cal_is_open(const struct hl_calendar *c, hl_ms t)
{
	if (!c)
		return true;
	if (!in_range(t))
		return false;
	int32_t d = hl_cal_local_day(c, t);
	struct walk w;
	hl_ms o, e;
	walk_init(&w, c, d - WALK_MARGIN_DAYS, d + WALK_MARGIN_DAYS);
	while (walk_next(&w, &o, &e)) {
		if (o > t)
			break;
		if (t < e)
			return true;
	}
	return false;
}

hl_ms hl_cal_add(const struct hl_calendar *c, hl_ms start, int64_t amount)
{
	if (amount < 0)
		amount = 0;
	if (!c)
		return start > INT64_MAX - amount ? INT64_MAX : start + amount;
	if (!in_range(start))
		return INT64_MAX;
	int32_t d = hl_cal_local_day(c, start);
	struct walk w;
	hl_ms o, e;
	walk_init(&w, c, d - WALK_MARGIN_DAYS, d + HL_CAL_MAX_WALK);
	while (walk_next(&w, &o, &e)) {
		if (e <= start)
			continue;
		hl_ms s = o > start ? o : start;
		if (amount == 0)
			return s;
		if (amount <= e - s)
			return s + amount;
		amount -= e - s;
	}
	return INT64_MAX;
}

int64_t hl_cal_between(const struct hl_calendar *c, hl_ms a, hl_ms b)
{
	if (b <= a)
		return 0;
	if (!c) /* b - a may not fit when a is very negative */
		return (a < 0 && b > INT64_MAX + a) ? INT64_MAX : b - a;
	if (a < -CAL_LIMIT_MS)
		a = -CAL_LIMIT_MS;
	if (b > CAL_LIMIT_MS)
		b = CAL_LIMIT_MS;
	if (b <= a)
		return 0;
	int32_t d = hl_cal_local_day(c, a);
	int32_t dl = hl_cal_local_day(c, b) + WALK_MARGIN_DAYS;
	if (dl > d + HL_CAL_MAX_WALK)
		dl = d + HL_CAL_MAX_WALK;
	struct walk w;
	hl_ms o, e;
	int64_t sum = 0;
	walk_init(&w, c, d - WALK_MARGIN_DAYS, dl);
	while (walk_next(&w, &o, &e)) {
		if (o >= b)
			break;
		hl_ms lo = o > a ? o : a;
		hl_ms hi = e < b ? e : b;
		if (hi > lo)
			sum += hi - lo;
	}
	return sum;
}

/* ------------------------------------------------------- working days */

/*
 * Closing instant of local day `day`: the end of the last of its own
 * intervals, mapped like every other opening time (a closing time inside a
 * DST gap moves forward by the gap, even past midnight).  0 when the day has
 * no open time of its own: closed, a date the zone skips, or hours that
 * vanish entirely in a gap (Berlin "02:00-03:00" on the spring-forward
 * night).  A working day is exactly a day with a non-zero closing time, so
 * a day counts as a working day if and only if hl_cal_add finds open time
 * that its hours produced.
 */
static hl_ms day_close(const struct hl_calendar *c, int32_t day)
{
	hl_ms open[HL_CAL_MAX_INTERVALS], close[HL_CAL_MAX_INTERVALS];
	int n = day_spans(c, day, open, close);
	hl_ms last = 0;
	for (int i = 0; i < n; i++)
		if (close[i] > last)
			last = close[i];
	return last;
}

hl_ms hl_cal_workdays_end(const struct hl_calendar *c, hl_ms start, int n)
{
	if (!c || n < 0 || !in_range(start) || !hl_calendar_has_hours(c))
		return INT64_MAX;
	int32_t day = hl_cal_local_day(c, start);
	const int32_t first = day;
	int closed_run = 0;
	if (n == 0) {
		/* the start day counts while it is still open for business */
		hl_ms e = day_close(c, day);
		if (e > start)
			return e;
		n = 1;
	}
	for (;;) {
		if (++day - first > HL_CAL_MAX_WALK)
			return INT64_MAX; /* as hl_cal_add: give up on absurd walks */
		hl_ms e = day_close(c, day);
		/* e <= start only where a zone moved its clock back by more than a
		 * day (Apia 1892 lived 4 July twice): such a day has passed. */
		if (e <= start) {
			if (++closed_run > HL_CAL_MAX_CLOSED_DAYS)
				return INT64_MAX;
			continue;
		}
		closed_run = 0;
		if (--n == 0)
			return e;
	}
}

hl_ms hl_deadline(const struct hl_calendar *c, hl_ms start, int64_t span)
{
	if (hl_span_is_wd(span))
		return hl_cal_workdays_end(c, start, hl_span_wd(span));
	return hl_cal_add(c, start, span);
}
