/*
 * timefmt.c - render instants for people in a zone (see timefmt.h).
 *
 * Seconds are floored (an instant at 09:15:00.999 is shown as 09:15:00: a
 * person never sees a time later than the event), and the offset is the one in
 * force at that instant, so a reading just after a DST change shows the new
 * offset.  Pure: part of the functional core.
 */
#include <stdio.h>
#include <stdlib.h>

#include "timefmt.h"

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

const char *hl_time_local(hl_ms t, const struct hl_zone *z, char *buf, size_t len)
{
	int64_t utc_s = floor_div(t, 1000);
	int32_t off = z ? hl_zone_offset(z, utc_s) : 0;
	int64_t local = utc_s + off;
	int64_t days = floor_div(local, 86400), sod = local - days * 86400;
	int y, m, d;
	hl_civil_from_days((int32_t)days, &y, &m, &d);
	int32_t a = off < 0 ? -off : off;
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d %c%02d:%02d", y, m, d, (int)(sod / 3600),
	         (int)(sod / 60 % 60), (int)(sod % 60), off < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
	return buf;
}

const char *hl_time_text_local(const char *rfc3339, const struct hl_zone *z, char *buf, size_t len)
{
	hl_ms t;
	if (!rfc3339 || hl_parse_time(rfc3339, &t) != 0) {
		snprintf(buf, len, "%s", rfc3339 ? rfc3339 : "");
		return buf;
	}
	return hl_time_local(t, z, buf, len);
}
