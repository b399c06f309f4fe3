/*
 * protocol.h - the wire format: a JSON line in, a typed event out; replies out (pure).
 */
#ifndef HL_PROTOCOL_H
#define HL_PROTOCOL_H

#include "hotlined.h"

/*
 * Parse and validate one request line (without its newline).  `now` is the
 * time of receipt, used when `at` is absent.  On success returns HL_OK and
 * fills *ev (free with hl_event_free).  On failure returns the error code,
 * fills *err with a message naming the field ("caller: missing"), and, when
 * the line was an object with a valid "id", leaves that id in ev->id
 * (ev->id[0] == '\0' otherwise); *ev needs no freeing then beyond
 * hl_event_free, which is always safe on a zeroed or parsed event.
 */
enum hl_err hl_parse_request(const char *line, size_t len, hl_ms now,
                             struct hl_event *ev, struct hl_error *err);

/* Replies: each returns a malloc'd string ending in "\n". */
char *hl_reply_ok(const char *id);                                  /* {"id":..,"ok":true} */
char *hl_reply_case(const char *id, int64_t case_id, bool duplicate);/* {"id":..,"ok":true[,"duplicate":true],"case_id":N} */
char *hl_reply_error(const char *id /* NULL -> null */, enum hl_err code, const char *message);
/* {"id":..,"ok":true,"<key>":<json_text>} with json_text inserted verbatim (already valid JSON) */
char *hl_reply_with(const char *id, const char *key, const char *json_text);
/* {"push":"alert","alert":<alert_json>} */
char *hl_push_alert(const char *alert_json);

#endif
