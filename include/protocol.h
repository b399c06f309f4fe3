/*
 * protocol.h - the wire format: a JSON line in, a typed event out; replies out (pure).
 */
#ifndef HL_PROTOCOL_H
#define HL_PROTOCOL_H

#include "hotlined.h"

/* The plausible range of an event's `at` (docs/reliability.md). */
#define HL_AT_MIN_MS INT64_C(315532800000)      /* 1980-01-01T00:00:00Z */
#define HL_AT_FUTURE_MS INT64_C(86400000)       /* one day after the time of receipt */

/*
 * Parse and validate one request line (without its newline).  `now` is the
 * time of receipt, used when `at` is absent.  On success returns HL_OK and
 * fills *ev (free with hl_event_free).  On failure returns the error code,
 * fills *err with a message naming the field ("caller: missing"), and, when
 * the line was an object with a valid "id", leaves that id in ev->id
 * (ev->id[0] == '\0' otherwise); *ev needs no freeing then beyond
 * hl_event_free, which is always safe on a zeroed or parsed event.
 *
 * *ev is overwritten without being read (free a previous event first).  The
 * caller strips the '\n'; one trailing '\r' is tolerated and not stored.
 * What is accepted is always storable as PostgreSQL jsonb: strict RFC 8259
 * (no NaN, no single quotes, no raw control characters, strict UTF-8, paired
 * surrogate escapes), no U+0000 anywhere ("<field>: contains NUL"), nesting
 * at most 32 deep.  Duplicate keys: the last wins (as in jsonb).  JSON null
 * counts as absent.  Integers must be JSON integers (42, not "42" or 42.0).
 * Identifiers (id, call_id, agent, outcome, department, by) are 1..128
 * characters (code points) without control characters; free text (queue,
 * category, priority, summary, note, reason, resolution) at most 4096
 * characters; token 1..4096 characters.  Numbers must fit PostgreSQL's
 * numeric.  `at` is read for events only and must lie in
 * [HL_AT_MIN_MS, receipt + HL_AT_FUTURE_MS].  Fields a type does not use are ignored (and kept in
 * ev->line).  Error codes: HL_E_BAD_JSON, HL_E_BAD_REQUEST, HL_E_UNKNOWN_TYPE,
 * HL_E_TOO_LARGE (len >= INT_MAX), HL_E_INTERNAL (out of memory).
 */
enum hl_err hl_parse_request(const char *line, size_t len, hl_ms now,
                             struct hl_event *ev, struct hl_error *err);

/* True when text is exactly one JSON object (whitespace, newlines included,
 * around and inside it) that the strict scan of hl_parse_request accepts:
 * POST /v1/events takes such a body as one event, even written over several
 * lines, rather than as NDJSON. */
bool hl_is_one_json_object(const char *text, size_t len);

/* Replies: each returns a malloc'd string ending in "\n" (one line; NULL when
 * out of memory).  Printed with JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE. */
char *hl_reply_ok(const char *id);                                  /* {"id":..,"ok":true} */
/* alert.ack: {"id":..,"ok":true,"acked_by":..,"acked_at":..}, the stored (first) acknowledgement; NULLs left out */
char *hl_reply_ack(const char *id, const char *acked_by, const char *acked_at);
char *hl_reply_case(const char *id, int64_t case_id, bool duplicate);/* {"id":..,"ok":true[,"duplicate":true],"case_id":N} */
/* as hl_reply_case, plus "order_id" when order_id is not empty (order events) */
char *hl_reply_order(const char *id, int64_t case_id, const char *order_id, bool duplicate);
char *hl_reply_error(const char *id /* NULL -> null */, enum hl_err code, const char *message);
/* {"id":..,"ok":true,"<key>":<json_text>} with json_text inserted verbatim (already valid JSON) */
char *hl_reply_with(const char *id, const char *key, const char *json_text);
/* {"push":"alert","alert":<alert_json>} */
char *hl_push_alert(const char *alert_json);
char *hl_push_ack(const char *alert_json);   /* {"push":"ack","alert":...}: an acknowledgement, after commit */

#endif
