/*
 * tz.c - time zones without the C library's time zone machinery.
 *
 * Business-hours calendars need "what is the UTC offset at this instant" and
 * "which instant is 09:00 local on that day" for any zone, in one process,
 * for many zones at once.  localtime()/mktime() read the process-wide TZ and
 * cannot do that, so we parse the zone data ourselves into a plain struct:
 *
 *   - TZif files (RFC 8536, versions 1..4).  When a v2+ file has the 64-bit
 *     section we use it and ignore the 32-bit one.  Leap-second records are
 *     skipped (the "right/" zones are not supported as such).
 *   - The POSIX TZ string, either given directly ("CET-1CEST,M3.5.0,M10.5.0/3")
 *     or as the footer of a v2+ TZif file.  The footer governs every instant
 *     after the last stored transition; Debian's "slim" zoneinfo stores only a
 *     few transitions, so recent years may come from the footer alone.
 *
 * The civil-date arithmetic (day numbers, weekdays, leap years) is here too,
 * because POSIX rules need it and calendar.c builds on this file: keeping it
 * here means tz.c depends on nothing and calendar.c only on tz.c.
 *
 * A zone is immutable once built; every lookup is a pure function of the
 * zone and the instant (binary search in the transition table, or evaluation
 * of the POSIX rule for the years around the instant).
 *
 * Local time is "seconds since 1970-01-01T00:00 in the zone's wall clock".
 * hl_zone_local_to_utc() maps a wall-clock reading back to an instant: a
 * reading that does not exist (the spring-forward gap) moves forward by the
 * length of the gap, a reading that exists twice (fall back) gives the
 * earlier instant.
 */
#include "calendar.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZ_NAME_MAX 255          /* longest zone name hl_zone_load accepts */
#define TZ_FILE_MAX (1 << 20)    /* TZif files are a few KiB; refuse absurd ones */
#define TZ_MAX_TRANS 100000      /* sanity bound on counts in a TZif header */
#define TZ_DEFAULT_RULE_TIME 7200 /* POSIX: rules without /time switch at 02:00 */
/* Instants are clamped to +-10^13 s (about 317,000 years) before any
 * arithmetic, so no input can overflow the day and rule computations. */
#define TZ_LIMIT_S INT64_C(10000000000000)

enum rule_kind { RULE_JULIAN1 = 0, RULE_JULIAN0, RULE_MONTH };

/* One "start" or "end" date of a POSIX DST rule. */
struct posix_rule {
	enum rule_kind kind;
	int day;          /* Jn: 1..365; n: 0..365; M: weekday 0..6 */
	int week;         /* M: 1..5 (5 = last) */
	int month;        /* M: 1..12 */
	int32_t time;     /* seconds after local midnight, may be negative or > 24h */
};

struct posix_tz {
	int32_t std_off;  /* seconds east of UTC */
	int32_t dst_off;
	bool has_dst;
	struct posix_rule start, end;
};

struct hl_zone {
	int64_t *trans;   /* transition instants (UTC seconds), ascending */
	uint8_t *trans_type;
	size_t n_trans;
	int32_t *type_off; /* utoff of each local time type */
	size_t n_types;
	bool has_footer;   /* footer (or the whole zone) is a POSIX rule */
	struct posix_tz footer;
};

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* Floor division for possibly negative numerators. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* ------------------------------------------------------------ civil dates */

/* Howard Hinnant's days_from_civil / civil_from_days
 * (http://howardhinnant.github.io/date_algorithms.html): exact for every
 * int32 day number, no tables, no loops. */
int32_t hl_days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;                               /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;         /* [0, 146096] */
	return (int32_t)(era * 146097 + doe - 719468);
}

void hl_civil_from_days(int32_t days, int *y, int *m, int *d)
{
	int64_t z = (int64_t)days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
	int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (mm <= 2));
	*m = mm;
	*d = dd;
}

int hl_weekday(int32_t days)
{
	int64_t z = days;
	return (int)(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

bool hl_is_leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int hl_days_in_month(int y, int m)
{
	static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12)
		return 0;
	return m == 2 && hl_is_leap_year(y) ? 29 : md[m - 1];
}

/* ------------------------------------------------------ POSIX TZ strings */

/* Zone abbreviation: "<...>" quoted form or at least three letters. */
static const char *parse_tz_name(const char *p)
{
	const char *s = p;
	if (*p == '<') {
		p++;
		s = p;
		while (*p && *p != '>') {
			if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			      (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'))
				return NULL;
			p++;
		}
		if (*p != '>' || p - s < 3)
			return NULL;
		return p + 1;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* Unsigned decimal with 1..maxdig digits and a value <= maxval. */
static const char *parse_num(const char *p, int maxdig, int maxval, int *out)
{
	int v = 0, n = 0;
	while (*p >= '0' && *p <= '9') {
		if (++n > maxdig)
			return NULL;
		v = v * 10 + (*p - '0');
		p++;
	}
	if (n == 0 || v > maxval)
		return NULL;
	*out = v;
	return p;
}

/* [+-]hh[:mm[:ss]] with hours up to max_h; result in seconds (sign applied). */
static const char *parse_hms(const char *p, int max_h, int32_t *out)
{
	int sign = 1, h, m = 0, s = 0;
	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
	}
	if (!(p = parse_num(p, 3, max_h, &h)))
		return NULL;
	if (*p == ':') {
		if (!(p = parse_num(p + 1, 2, 59, &m)))
			return NULL;
		if (*p == ':' && !(p = parse_num(p + 1, 2, 59, &s)))
			return NULL;
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *parse_rule(const char *p, struct posix_rule *r)
{
	if (*p == 'J') {
		r->kind = RULE_JULIAN1;
		if (!(p = parse_num(p + 1, 3, 365, &r->day)) || r->day < 1)
			return NULL;
	} else if (*p == 'M') {
		r->kind = RULE_MONTH;
		if (!(p = parse_num(p + 1, 2, 12, &r->month)) || r->month < 1 || *p != '.')
			return NULL;
		if (!(p = parse_num(p + 1, 1, 5, &r->week)) || r->week < 1 || *p != '.')
			return NULL;
		if (!(p = parse_num(p + 1, 1, 6, &r->day)))
			return NULL;
	} else if (*p >= '0' && *p <= '9') {
		r->kind = RULE_JULIAN0;
		if (!(p = parse_num(p, 3, 365, &r->day)))
			return NULL;
	} else {
		return NULL;
	}
	r->time = TZ_DEFAULT_RULE_TIME;
	/* RFC 8536 extends the POSIX 0..24 hour range to -167..167. */
	if (*p == '/' && !(p = parse_hms(p + 1, 167, &r->time)))
		return NULL;
	return p;
}

/* Parse a whole POSIX TZ string; 0 ok, -1 bad.  An empty string is bad. */
static int parse_posix(const char *s, struct posix_tz *out)
{
	struct posix_tz tz = { 0 };
	int32_t v;
	const char *p = parse_tz_name(s);
	if (!p || !(p = parse_hms(p, 24, &v)))
		return -1;
	tz.std_off = -v; /* POSIX offsets are west-positive */
	tz.dst_off = tz.std_off;
	if (*p == '\0') {
		*out = tz;
		return 0;
	}
	if (!(p = parse_tz_name(p)))
		return -1;
	tz.has_dst = true;
	tz.dst_off = tz.std_off + 3600;
	if (*p && *p != ',') {
		if (!(p = parse_hms(p, 24, &v)))
			return -1;
		tz.dst_off = -v;
	}
	if (*p == ',') {
		if (!(p = parse_rule(p + 1, &tz.start)) || *p != ',')
			return -1;
		if (!(p = parse_rule(p + 1, &tz.end)))
			return -1;
	} else {
		/* No rule given: use the US rules, as glibc and tzcode do. */
		tz.start = (struct posix_rule){ RULE_MONTH, 0, 2, 3, TZ_DEFAULT_RULE_TIME };
		tz.end = (struct posix_rule){ RULE_MONTH, 0, 1, 11, TZ_DEFAULT_RULE_TIME };
	}
	if (*p != '\0')
		return -1;
	*out = tz;
	return 0;
}

/* Local day number (days since 1970-01-01) on which rule r falls in year y. */
static int64_t rule_day(const struct posix_rule *r, int y)
{
	int64_t jan1 = hl_days_from_civil(y, 1, 1);
	if (r->kind == RULE_JULIAN1) /* 1..365, February 29 never counted */
		return jan1 + r->day - 1 + (hl_is_leap_year(y) && r->day >= 60 ? 1 : 0);
	if (r->kind == RULE_JULIAN0)
		return jan1 + r->day;
	int64_t first = hl_days_from_civil(y, r->month, 1);
	int64_t d = first + (r->day - hl_weekday((int32_t)first) + 7) % 7 + 7 * (r->week - 1);
	while (d >= first + hl_days_in_month(y, r->month))
		d -= 7; /* week 5 = the last such weekday of the month */
	return d;
}

struct edge {
	int64_t at;
	bool dst; /* DST in force from `at` on */
};

static int32_t posix_offset(const struct posix_tz *tz, int64_t t)
{
	if (!tz->has_dst)
		return tz->std_off;
	int y, m, d;
	hl_civil_from_days((int32_t)floor_div(t + tz->std_off, 86400), &y, &m, &d);
	/* Transitions of the year around t and its neighbours, in order; the
	 * last one at or before t says which offset is in force.  Looking at
	 * three years copes with rule times beyond 24h and southern zones. */
	struct edge e[6];
	int n = 0;
	for (int yy = y - 1; yy <= y + 1; yy++) {
		e[n++] = (struct edge){ rule_day(&tz->start, yy) * 86400 + tz->start.time - tz->std_off, true };
		e[n++] = (struct edge){ rule_day(&tz->end, yy) * 86400 + tz->end.time - tz->dst_off, false };
	}
	for (int i = 1; i < n; i++) { /* insertion sort of six items */
		struct edge k = e[i];
		int j = i - 1;
		while (j >= 0 && e[j].at > k.at) {
			e[j + 1] = e[j];
			j--;
		}
		e[j + 1] = k;
	}
	bool dst = false;
	for (int i = 0; i < n && e[i].at <= t; i++)
		dst = e[i].dst;
	return dst ? tz->dst_off : tz->std_off;
}

/* ------------------------------------------------------------ TZif files */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_header {
	int version; /* 1..4 */
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int read_header(const unsigned char *p, size_t len, struct tzif_header *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	if (p[4] == 0)
		h->version = 1;
	else if (p[4] >= '2' && p[4] <= '4')
		h->version = p[4] - '0';
	else
		return -1;
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	if (h->typecnt == 0 || h->charcnt == 0 || h->typecnt > 256 ||
	    h->timecnt > TZ_MAX_TRANS || h->leapcnt > TZ_MAX_TRANS || h->charcnt > TZ_MAX_TRANS ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return -1;
	return 0;
}

/* Size of the data block that follows a header; tsize is 4 (v1) or 8. */
static size_t block_size(const struct tzif_header *h, size_t tsize)
{
	/* Counts are bounded by read_header, so this cannot overflow. */
	return (size_t)h->timecnt * tsize + h->timecnt + (size_t)h->typecnt * 6 + h->charcnt +
	       (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Fill z's transitions and types from a data block; -1 when inconsistent. */
static int read_block(const unsigned char *p, const struct tzif_header *h, size_t tsize, struct hl_zone *z)
{
	z->n_trans = h->timecnt;
	z->n_types = h->typecnt;
	z->trans = calloc(h->timecnt ? h->timecnt : 1, sizeof *z->trans);
	z->trans_type = calloc(h->timecnt ? h->timecnt : 1, 1);
	z->type_off = calloc(h->typecnt, sizeof *z->type_off);
	if (!z->trans || !z->trans_type || !z->type_off)
		return -1;
	for (size_t i = 0; i < h->timecnt; i++) {
		z->trans[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			return -1; /* must be strictly ascending for the binary search */
	}
	p += (size_t)h->timecnt * tsize;
	for (size_t i = 0; i < h->timecnt; i++) {
		z->trans_type[i] = p[i];
		if (p[i] >= h->typecnt)
			return -1;
	}
	p += h->timecnt;
	for (size_t i = 0; i < h->typecnt; i++) {
		int32_t off = (int32_t)be32(p + i * 6);
		/* RFC 8536: utoff must not be -2^31; real zones stay within a day. */
		if (off <= -HL_ZONE_OFFSET_LIMIT_S || off >= HL_ZONE_OFFSET_LIMIT_S || p[i * 6 + 4] > 1 || p[i * 6 + 5] >= h->charcnt)
			return -1;
		z->type_off[i] = off;
	}
	return 0;
}

struct hl_zone *hl_zone_from_tzif(const unsigned char *data, size_t len, char *err, size_t errlen)
{
	struct tzif_header h;
	if (!data || read_header(data, len, &h) < 0) {
		set_err(err, errlen, "not a TZif file (bad header)");
		return NULL;
	}
	size_t v1 = block_size(&h, 4);
	if (len - 44 < v1) {
		set_err(err, errlen, "TZif file truncated");
		return NULL;
	}
	const unsigned char *block = data + 44;
	size_t tsize = 4, pos = 44 + v1;
	if (h.version >= 2) {
		/* Skip the 32-bit data: the second header and 64-bit data replace it. */
		if (read_header(data + pos, len - pos, &h) < 0 || h.version < 2) {
			set_err(err, errlen, "TZif file truncated or bad second header");
			return NULL;
		}
		pos += 44;
		size_t v2 = block_size(&h, 8);
		if (len - pos < v2) {
			set_err(err, errlen, "TZif file truncated");
			return NULL;
		}
		block = data + pos;
		tsize = 8;
		pos += v2;
	}
	struct hl_zone *z = calloc(1, sizeof *z);
	if (!z || read_block(block, &h, tsize, z) < 0) {
		set_err(err, errlen, "TZif data inconsistent");
		hl_zone_free(z);
		return NULL;
	}
	if (h.version >= 2) {
		/* Footer: "\nTZSTRING\n", the string possibly empty. */
		const unsigned char *nl = NULL;
		if (pos < len && data[pos] == '\n')
			nl = memchr(data + pos + 1, '\n', len - pos - 1);
		if (!nl) {
			set_err(err, errlen, "TZif footer missing or truncated");
			hl_zone_free(z);
			return NULL;
		}
		size_t flen = (size_t)(nl - (data + pos + 1));
		if (flen > 0) {
			char buf[128];
			if (flen >= sizeof buf || memchr(data + pos + 1, '\0', flen)) {
				set_err(err, errlen, "TZif footer too long or malformed");
				hl_zone_free(z);
				return NULL;
			}
			memcpy(buf, data + pos + 1, flen);
			buf[flen] = '\0';
			if (parse_posix(buf, &z->footer) < 0) {
				set_err(err, errlen, "TZif footer is not a valid TZ string");
				hl_zone_free(z);
				return NULL;
			}
			z->has_footer = true;
		}
	}
	return z;
}

struct hl_zone *hl_zone_from_posix(const char *tz, char *err, size_t errlen)
{
	struct posix_tz p;
	if (!tz || parse_posix(tz, &p) < 0) {
		set_err(err, errlen, "invalid POSIX TZ string");
		return NULL;
	}
	struct hl_zone *z = calloc(1, sizeof *z);
	if (!z) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	z->has_footer = true;
	z->footer = p;
	return z;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || strstr(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '/' || ch == '_' || ch == '-' || ch == '+' || ch == '.'))
			return false;
	}
	return true;
}

/* Read a whole regular file of at most TZ_FILE_MAX bytes; -1 with errno. */
static int read_file(const char *path, unsigned char **out, size_t *outlen)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	unsigned char *buf = malloc(TZ_FILE_MAX + 1);
	size_t n = buf ? fread(buf, 1, TZ_FILE_MAX + 1, f) : 0;
	int e = !buf ? ENOMEM : ferror(f) ? (errno ? errno : EIO) : n > TZ_FILE_MAX ? EFBIG : 0;
	fclose(f);
	if (e) {
		free(buf);
		errno = e; /* e.g. EISDIR for "Europe" */
		return -1;
	}
	*out = buf;
	*outlen = n;
	return 0;
}

struct hl_zone *hl_zone_load(const char *name, char *err, size_t errlen)
{
	char msg[512];
	if (!name || !name_ok(name)) {
		set_err(err, errlen, "invalid time zone name");
		return NULL;
	}
	const char *dir = getenv("TZDIR");
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
		set_err(err, errlen, "time zone path too long");
		return NULL;
	}
	unsigned char *data;
	size_t len;
	if (read_file(path, &data, &len) < 0) {
		int e = errno;
		/* No such file: accept a POSIX TZ string such as "CST-8" instead,
		 * so a host without tzdata can still be configured. */
		struct hl_zone *z = (e == ENOENT || e == ENOTDIR) ? hl_zone_from_posix(name, NULL, 0) : NULL;
		if (z)
			return z;
		snprintf(msg, sizeof msg, "time zone %s: %s", name, strerror(e));
		set_err(err, errlen, msg);
		return NULL;
	}
	char perr[128];
	struct hl_zone *z = hl_zone_from_tzif(data, len, perr, sizeof perr);
	free(data);
	if (!z) {
		snprintf(msg, sizeof msg, "time zone %s: %s", name, perr);
		set_err(err, errlen, msg);
	}
	return z;
}

void hl_zone_free(struct hl_zone *z)
{
	if (!z)
		return;
	free(z->trans);
	free(z->trans_type);
	free(z->type_off);
	free(z);
}

int32_t hl_zone_offset(const struct hl_zone *z, int64_t utc_s)
{
	if (!z)
		return 0;
	if (utc_s > TZ_LIMIT_S)
		utc_s = TZ_LIMIT_S;
	else if (utc_s < -TZ_LIMIT_S)
		utc_s = -TZ_LIMIT_S;
	if (z->n_trans == 0)
		return z->has_footer ? posix_offset(&z->footer, utc_s) : (z->n_types ? z->type_off[0] : 0);
	if (utc_s < z->trans[0])
		return z->type_off[0]; /* RFC 8536: type 0 before the first transition */
	if (utc_s >= z->trans[z->n_trans - 1] && z->has_footer)
		return posix_offset(&z->footer, utc_s);
	size_t lo = 0, hi = z->n_trans; /* last transition <= utc_s */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= utc_s)
			lo = mid;
		else
			hi = mid;
	}
	return z->type_off[z->trans_type[lo]];
}

int64_t hl_zone_local_to_utc(const struct hl_zone *z, int64_t local_s)
{
	if (!z || local_s > TZ_LIMIT_S || local_s < -TZ_LIMIT_S)
		return local_s;
	/* The offsets around this reading: a day before and after covers any
	 * real transition (they change the offset by at most a few hours). */
	int32_t before = hl_zone_offset(z, local_s - 86400);
	int32_t after = hl_zone_offset(z, local_s + 86400);
	int32_t cand[4] = { before, after, 0, 0 };
	cand[2] = hl_zone_offset(z, local_s - before);
	cand[3] = hl_zone_offset(z, local_s - after);
	bool found = false;
	int64_t best = 0;
	for (int i = 0; i < 4; i++) {
		int64_t u = local_s - cand[i];
		if (hl_zone_offset(z, u) == cand[i] && (!found || u < best)) {
			best = u; /* in an overlap: the earlier instant */
			found = true;
		}
	}
	if (found)
		return best;
	/* In a gap: read the time with the offset in force before the jump,
	 * which lands after the transition by as much as the reading was into
	 * the gap - "02:30" on a spring-forward night becomes 03:30. */
	return local_s - before;
}
