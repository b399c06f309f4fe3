/*
 * timefmt.h - instants shown to people, in a zone, with the offset (pure; timefmt.c).
 *
 * The wire and the database speak UTC; a person reads local time.  These
 * render an instant as "2026-11-20 09:15:00 +08:00" in a zone loaded by
 * hl_zone_load (NULL = UTC, "+00:00"), with the project's own tz code, never
 * localtime() or $TZ, so that hotlinectl --tz is exact and testable.
 */
#ifndef HL_TIMEFMT_H
#define HL_TIMEFMT_H

#include "calendar.h"

#define HL_LOCAL_TIME_LEN 32 /* "YYYY-MM-DD HH:MM:SS +HH:MM" and a NUL, with room */

/* t (ms since the epoch, UTC) in zone z; returns buf. */
const char *hl_time_local(hl_ms t, const struct hl_zone *z, char *buf, size_t len);
/* An RFC 3339 text from the wire in zone z; the text unchanged when it does not parse. */
const char *hl_time_text_local(const char *rfc3339, const struct hl_zone *z, char *buf, size_t len);

#endif
