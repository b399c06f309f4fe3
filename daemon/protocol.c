/*
 * protocol.c - the wire format: one JSON line in, a validated struct
 * hl_event out (reply and push lines out: protocol_reply.c).  Pure: no I/O,
 * no global state.
 *
 * Parsing a request happens in four steps:
 *
 *   1. A strict RFC 8259 scan of the raw bytes (protocol_scan.c).  json-c, even with
 *      JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8, accepts things that
 *      are not JSON and that PostgreSQL's jsonb refuses: 'single quoted'
 *      strings, NaN and Infinity, raw control characters in strings, lone
 *      \uD800 surrogate escapes (silently replaced), overlong and surrogate
 *      UTF-8 sequences, code points above U+10FFFF.  Every accepted line is
 *      stored verbatim in case_events.body, so a line we accept must be one
 *      PostgreSQL accepts; the scan guarantees it.  It also finds strings that
 *      decode to something containing U+0000 (\u0000), which jsonb rejects too,
 *      and remembers which top-level field they are in.
 *   2. json-c builds the tree (json_tokener_new_ex, STRICT | VALIDATE_UTF8).
 *   3. "id" and "type" are checked, then every field the type uses, in a
 *      fixed order, from a table (fields[], shapes[]).  Fields a type does not
 *      use, and unknown fields, are ignored here and kept in the stored line
 *      (forward compatibility).  A JSON null counts as absent.
 *   4. The line is copied into ev->line.
 *
 * Decisions worth knowing (also in the tests):
 *   - The caller strips the '\n'; a single trailing '\r' is tolerated and not
 *     stored.  Whitespace around the object is allowed.  A UTF-8 BOM is not.
 *   - Duplicate keys are refused, at any depth, also spelled differently
 *     ("a" and "\u0061"): bad_request "caller: duplicate key" (inside a
 *     nested object: "meta: duplicate key in a nested object").  json-c and
 *     jsonb keep the last one, another reader of the stored line may keep
 *     the first (was: the last one wins).  A duplicated "id" is answered
 *     with "id":null: which id would it be?
 *   - Integers (case_id, alert_id, since, score) must be JSON integers: 42,
 *     not "42", 42.0 or 4.2e1.  Values outside int64 are rejected.
 *   - Length limits count characters (Unicode code points of the valid
 *     UTF-8), as the contract says, never bytes: id and identifiers (call_id,
 *     agent, outcome, department, by) 1..128 characters with no control
 *     characters (C0, DEL, C1); free text (queue, category, priority,
 *     summary, note, reason, resolution) at most 4096 characters; token
 *     1..4096 characters, no control characters.  (Counting bytes refused 43
 *     Chinese characters as "more than 128 characters".)
 *   - Every number must be one PostgreSQL's numeric (and so jsonb) can hold:
 *     at most 16383 digits after the point and a first significant digit at
 *     most 131071 places before it, once the exponent is applied.  A number beyond that
 *     ("x":1e999999), in any field and at any depth, is a bad_request naming
 *     the top-level field.  Otherwise PostgreSQL refuses the whole batch
 *     the line lands in, long after it was parsed.
 *   - `at` must lie between 1980-01-01T00:00:00Z and one day after the time
 *     of receipt (HL_AT_MIN_MS, HL_AT_FUTURE_MS): earlier instants are not
 *     plausible call times (1970-01-01T00:00:00Z is 0, which the rules read
 *     as "never", and a time in seconds read as milliseconds lands in
 *     January 1970), later ones would arm clocks that never fire.  The bound
 *     was 2000; at 1980 a history import of older records (the best-known
 *     public call-centre data, an Israeli bank's, is from 1999) is not
 *     refused line by line.
 *   - The message of a bad_request names the field first: "caller: missing".
 *     It never contains a phone number, and echoes at most a short,
 *     sanitized piece of the request (the unknown type name).
 *
 * Replies and push lines are written by protocol_reply.c.
 */
#include "protocol.h"

#include <json-c/json.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol_internal.h"

#define IDENT_MAX 128       /* id, call_id, agent, ... */
#define TEXT_MAX 4096       /* notes, summaries, tokens */

/* ------------------------------------------------------------ messages */

static enum hl_err fail(struct hl_error *err, enum hl_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum hl_err fail(struct hl_error *err, enum hl_err code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	err->code = code;
	return code;
}

/* ------------------------------------------------- step 3: the fields */

enum kind {
	K_IDENT,  /* string 1..128 bytes, no control characters */
	K_TEXT,   /* string 0..4096 bytes */
	K_SECRET, /* string 1..4096 bytes, no control characters */
	K_PHONE,  /* string, normalized into ev->caller */
	K_POSINT, /* integer >= 1 */
	K_NONNEG, /* integer >= 0 */
	K_SCORE,  /* integer 1..5 */
	K_BOOL,   /* true/false into an int */
	K_RESULT, /* reached|no_answer|busy|failed */
	K_TIME,   /* an RFC 3339 timestamp, kept as the string (order.extend until) */
};

enum field_id {
	F_CALL_ID, F_CALLER, F_AGENT, F_OUTCOME, F_RESULT, F_CASE_ID, F_DEPARTMENT,
	F_SCORE, F_ALERT_ID, F_BY, F_SINCE, F_TOKEN,
	F_QUEUE, F_CATEGORY, F_PRIORITY, F_SUMMARY, F_NOTE, F_REASON, F_RESOLUTION,
	F_CALLER_INFORMED, F_CONFIDENTIAL,
	F_ORDER_ID, F_ORDER_RESULT, F_INTO, F_DUE, F_UNTIL, F_AREA,
	F__COUNT
};

struct field {
	const char *name;
	enum kind kind;
	size_t off; /* where in struct hl_event */
};

#define EV(m) offsetof(struct hl_event, m)

/* Checked in this order: required fields first, so "X: missing" comes early. */
static const struct field fields[F__COUNT] = {
	[F_CALL_ID] = { "call_id", K_IDENT, EV(call_id) },
	[F_CALLER] = { "caller", K_PHONE, EV(caller) },
	[F_AGENT] = { "agent", K_IDENT, EV(agent) },
	[F_OUTCOME] = { "outcome", K_IDENT, EV(outcome) },
	[F_RESULT] = { "result", K_RESULT, EV(result) },
	[F_CASE_ID] = { "case_id", K_POSINT, EV(case_id) },
	[F_DEPARTMENT] = { "department", K_IDENT, EV(department) },
	[F_SCORE] = { "score", K_SCORE, EV(score) },
	[F_ALERT_ID] = { "alert_id", K_POSINT, EV(alert_id) },
	[F_BY] = { "by", K_IDENT, EV(by) },
	[F_SINCE] = { "since", K_NONNEG, EV(since) },
	[F_TOKEN] = { "token", K_SECRET, EV(token) },
	[F_QUEUE] = { "queue", K_TEXT, EV(queue) },
	[F_CATEGORY] = { "category", K_TEXT, EV(category) },
	[F_PRIORITY] = { "priority", K_TEXT, EV(priority) },
	[F_SUMMARY] = { "summary", K_TEXT, EV(summary) },
	[F_NOTE] = { "note", K_TEXT, EV(note) },
	[F_REASON] = { "reason", K_TEXT, EV(reason) },
	[F_RESOLUTION] = { "resolution", K_TEXT, EV(resolution) },
	[F_CALLER_INFORMED] = { "caller_informed", K_BOOL, EV(caller_informed) },
	[F_CONFIDENTIAL] = { "confidential", K_BOOL, EV(confidential) },
	[F_ORDER_ID] = { "order_id", K_IDENT, EV(order_id) },
	[F_ORDER_RESULT] = { "result", K_IDENT, EV(result) }, /* order.reply: checked by the order rules */
	[F_INTO] = { "into", K_POSINT, EV(into) },
	[F_DUE] = { "due", K_IDENT, EV(due) },
	[F_UNTIL] = { "until", K_TIME, EV(until) },
	[F_AREA] = { "area", K_TEXT, EV(area) },
};

#define B(f) (UINT32_C(1) << (f))

/* Which fields each type requires and which it may carry (CONTRACT.md 3). */
struct shape {
	uint32_t req, opt;
};

static const struct shape shapes[HL_T__COUNT] = {
	[HL_EV_CALL_OFFERED] = { B(F_CALL_ID) | B(F_CALLER), B(F_QUEUE) | B(F_CONFIDENTIAL) },
	[HL_EV_CALL_ANSWERED] = { B(F_CALL_ID) | B(F_AGENT), B(F_QUEUE) | B(F_CONFIDENTIAL) },
	[HL_EV_CALL_ABANDONED] = { B(F_CALL_ID), B(F_CALLER) | B(F_QUEUE) | B(F_CONFIDENTIAL) },
	[HL_EV_VOICEMAIL_LEFT] = { B(F_CALL_ID), B(F_CALLER) | B(F_QUEUE) | B(F_CONFIDENTIAL) },
	[HL_EV_CALL_ENDED] = { B(F_CALL_ID) | B(F_OUTCOME),
	                       B(F_AGENT) | B(F_CATEGORY) | B(F_PRIORITY) | B(F_SUMMARY) | B(F_AREA) | B(F_CONFIDENTIAL) },
	[HL_EV_CALLBACK_ATTEMPT] = { B(F_CASE_ID) | B(F_RESULT), B(F_AGENT) | B(F_CALL_ID) | B(F_NOTE) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_UPDATE] = { B(F_CASE_ID), B(F_NOTE) | B(F_AGENT) | B(F_CALLER_INFORMED) |
	                                      B(F_CATEGORY) | B(F_PRIORITY) | B(F_SUMMARY) | B(F_AREA) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_TRANSFER] = { B(F_CASE_ID) | B(F_DEPARTMENT), B(F_REASON) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_RESOLVE] = { B(F_CASE_ID), B(F_RESOLUTION) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_CLOSE] = { B(F_CASE_ID), B(F_REASON) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_REOPEN] = { B(F_CASE_ID), B(F_REASON) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_HOLD] = { B(F_CASE_ID), B(F_REASON) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_CASE_RESUME] = { B(F_CASE_ID), B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_EV_SURVEY_RESULT] = { B(F_CASE_ID) | B(F_SCORE), B(F_NOTE) | B(F_AGENT) | B(F_CONFIDENTIAL) },
	[HL_CMD_PING] = { 0, 0 },
	[HL_CMD_CASE_GET] = { B(F_CASE_ID), 0 },
	[HL_CMD_SUBSCRIBE] = { 0, B(F_SINCE) },
	[HL_CMD_ALERT_ACK] = { B(F_ALERT_ID), B(F_BY) }, /* by: conn.c defaults it to the token's name, else requires it */
	[HL_CMD_STATS] = { 0, 0 },
	[HL_CMD_AUTH] = { B(F_TOKEN), 0 },
	[HL_EV_ORDER_DISPATCH] = { B(F_CASE_ID) | B(F_DEPARTMENT),
	                           B(F_ORDER_ID) | B(F_DUE) | B(F_CATEGORY) | B(F_AREA) | B(F_NOTE) | B(F_AGENT) },
	[HL_EV_ORDER_SIGN] = { B(F_ORDER_ID), B(F_BY) | B(F_NOTE) },
	[HL_EV_ORDER_RETURN] = { B(F_ORDER_ID) | B(F_REASON), B(F_BY) },
	[HL_EV_ORDER_EXTEND] = { B(F_ORDER_ID) | B(F_REASON), B(F_UNTIL) | B(F_BY) },
	[HL_EV_ORDER_EXTEND_APPROVE] = { B(F_ORDER_ID), B(F_BY) | B(F_NOTE) },
	[HL_EV_ORDER_EXTEND_REJECT] = { B(F_ORDER_ID), B(F_REASON) | B(F_BY) },
	[HL_EV_ORDER_REPLY] = { B(F_ORDER_ID) | B(F_ORDER_RESULT), B(F_NOTE) | B(F_BY) },
	[HL_EV_CASE_MERGE] = { B(F_CASE_ID) | B(F_INTO), B(F_REASON) | B(F_AGENT) },
};

/* The member, absent when missing or JSON null. */
static struct json_object *member(struct json_object *o, const char *name)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, name, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

/* C0 controls, DEL and C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F). */
static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F)
			return true;
		if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9F)
			return true;
	}
	return false;
}

/* Characters (code points) of valid UTF-8: every byte that does not continue a sequence. */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

/* A string of [min, max] characters, optionally free of control characters. */
static bool string_ok(struct json_object *v, size_t min, size_t max, bool plain)
{
	if (!json_object_is_type(v, json_type_string))
		return false;
	size_t len = (size_t)json_object_get_string_len(v);
	const char *s = json_object_get_string(v);
	if (len < min || memchr(s, '\0', len))
		return false;
	if (len > max && utf8_chars(s, len) > max) /* bytes >= characters: count only when needed */
		return false;
	return !plain || !has_control(s, len);
}

/* A JSON integer that fits in an int64 (json-c saturates what does not). */
static bool int_ok(struct json_object *v, int64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return false;
	int64_t x = json_object_get_int64(v);
	if (x == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX)
		return false;
	if (x == INT64_MIN)
		return false; /* may be saturated; never a valid value for us anyway */
	*out = x;
	return true;
}

static enum hl_err take_string(struct json_object *v, const struct field *f, struct hl_event *ev,
                               struct hl_error *err)
{
	const char *why;
	bool ok;
	switch (f->kind) {
	case K_IDENT:
		ok = string_ok(v, 1, IDENT_MAX, true);
		why = "must be a string of 1..128 characters";
		break;
	case K_SECRET:
		ok = string_ok(v, 1, TEXT_MAX, true);
		why = "must be a string of 1..4096 characters";
		break;
	default:
		ok = string_ok(v, 0, TEXT_MAX, false);
		why = "must be a string of at most 4096 characters";
		break;
	}
	if (!ok)
		return fail(err, HL_E_BAD_REQUEST, "%s: %s", f->name, why);
	char *copy = strdup(json_object_get_string(v));
	if (!copy)
		return fail(err, HL_E_INTERNAL, "%s: out of memory", f->name);
	*(char **)((char *)ev + f->off) = copy;
	return HL_OK;
}

static enum hl_err take_result(struct json_object *v, const struct field *f, struct hl_event *ev,
                               struct hl_error *err)
{
	static const char *const results[] = { "reached", "no_answer", "busy", "failed" };
	if (json_object_is_type(v, json_type_string))
		for (size_t i = 0; i < sizeof results / sizeof results[0]; i++)
			if (strcmp(json_object_get_string(v), results[i]) == 0 &&
			    (size_t)json_object_get_string_len(v) == strlen(results[i]))
				return take_string(v, &(struct field){ f->name, K_IDENT, f->off }, ev, err);
	return fail(err, HL_E_BAD_REQUEST, "%s: must be one of reached, no_answer, busy, failed", f->name);
}

static enum hl_err take_field(struct json_object *v, const struct field *f, struct hl_event *ev,
                              struct hl_error *err)
{
	void *dst = (char *)ev + f->off;
	int64_t n = 0;
	switch (f->kind) {
	case K_IDENT:
	case K_TEXT:
	case K_SECRET:
		return take_string(v, f, ev, err);
	case K_RESULT:
		return take_result(v, f, ev, err);
	case K_TIME: {
		hl_ms t;
		if (!string_ok(v, 1, 64, true) || hl_parse_time(json_object_get_string(v), &t) != 0)
			return fail(err, HL_E_BAD_REQUEST, "%s: must be an RFC 3339 timestamp with an offset or Z", f->name);
		return take_string(v, &(struct field){ f->name, K_IDENT, f->off }, ev, err);
	}
	case K_PHONE:
		if (!string_ok(v, 1, TEXT_MAX, true) ||
		    hl_phone_normalize(json_object_get_string(v), dst, HL_PHONE_MAX) != 0)
			return fail(err, HL_E_BAD_REQUEST,
			            "%s: must be a phone number: digits with an optional leading '+', 3 to 20 digits",
			            f->name);
		return HL_OK;
	case K_POSINT:
		if (!int_ok(v, &n) || n < 1)
			return fail(err, HL_E_BAD_REQUEST, "%s: must be a positive integer", f->name);
		*(int64_t *)dst = n;
		return HL_OK;
	case K_NONNEG:
		if (!int_ok(v, &n) || n < 0)
			return fail(err, HL_E_BAD_REQUEST, "%s: must be an integer >= 0", f->name);
		*(int64_t *)dst = n;
		return HL_OK;
	case K_SCORE:
		if (!int_ok(v, &n) || n < 1 || n > 5)
			return fail(err, HL_E_BAD_REQUEST, "%s: must be an integer from 1 to 5", f->name);
		*(int *)dst = (int)n;
		return HL_OK;
	case K_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return fail(err, HL_E_BAD_REQUEST, "%s: must be true or false", f->name);
		*(int *)dst = json_object_get_boolean(v) ? 1 : 0;
		return HL_OK;
	}
	return fail(err, HL_E_INTERNAL, "%s: unhandled field kind", f->name);
}

static enum hl_err take_fields(struct json_object *o, struct hl_event *ev, struct hl_error *err)
{
	const struct shape *sh = &shapes[ev->type];
	uint32_t req = ev->withheld ? sh->req & ~B(F_CALLER) : sh->req;
	for (int i = 0; i < F__COUNT; i++) {
		if (!((sh->req | sh->opt) & B(i)))
			continue;
		struct json_object *v = member(o, fields[i].name);
		if (!v) {
			if (req & B(i))
				return fail(err, HL_E_BAD_REQUEST, "%s: missing", fields[i].name);
			continue;
		}
		enum hl_err rc = take_field(v, &fields[i], ev, err);
		if (rc != HL_OK)
			return rc;
	}
	return HL_OK;
}

static enum hl_err take_id(struct json_object *o, struct hl_event *ev, struct hl_error *err)
{
	struct json_object *v = member(o, "id");
	if (!v)
		return fail(err, HL_E_BAD_REQUEST, "id: missing");
	if (!string_ok(v, 1, HL_ID_MAX, true) || (size_t)json_object_get_string_len(v) > HL_ID_BYTES)
		return fail(err, HL_E_BAD_REQUEST, "id: must be a string of 1..128 characters");
	memcpy(ev->id, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
	return HL_OK;
}

static enum hl_err take_type(struct json_object *o, struct hl_event *ev, struct hl_error *err)
{
	struct json_object *v = member(o, "type");
	if (!v)
		return fail(err, HL_E_BAD_REQUEST, "type: missing");
	if (!json_object_is_type(v, json_type_string))
		return fail(err, HL_E_BAD_REQUEST, "type: must be a string");
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	enum hl_type t = strlen(s) == len ? hl_type_from_name(s) : HL_T_NONE;
	if (t == HL_T_NONE) {
		char echo[ECHO_MAX + 4];
		hl_proto_echo_text(echo, sizeof echo, s, len);
		return fail(err, HL_E_UNKNOWN_TYPE, "type: unknown type '%s'", echo);
	}
	ev->type = t;
	return HL_OK;
}

/* `at` matters for events only; commands happen when they are received. */
static enum hl_err take_at(struct json_object *o, struct hl_event *ev, struct hl_error *err)
{
	struct json_object *v = member(o, "at");
	if (!v || !hl_type_is_event(ev->type))
		return HL_OK;
	hl_ms t;
	if (!string_ok(v, 1, 64, true) || hl_parse_time(json_object_get_string(v), &t) != 0)
		return fail(err, HL_E_BAD_REQUEST, "at: must be an RFC 3339 timestamp with an offset or Z");
	if (t < HL_AT_MIN_MS || t > ev->received + HL_AT_FUTURE_MS)
		return fail(err, HL_E_BAD_REQUEST,
		            "at: must lie between 1980-01-01T00:00:00Z and one day after the time of receipt");
	ev->at = t;
	ev->at_given = true;
	return HL_OK;
}

/* `backfill` (events only): true marks a history import (CONTRACT 8, docs/rules.md). */
static enum hl_err take_backfill(struct json_object *o, struct hl_event *ev, struct hl_error *err)
{
	struct json_object *v = member(o, "backfill");
	if (!v || !hl_type_is_event(ev->type))
		return HL_OK;
	if (!json_object_is_type(v, json_type_boolean))
		return fail(err, HL_E_BAD_REQUEST, "backfill: must be true or false");
	ev->backfill = json_object_get_boolean(v);
	return HL_OK;
}

/* `withheld` (the events that may carry a caller): true says the call has
 * no number - an anonymous or restricted caller id, which a PBX's log still
 * records as a call.  Such calls are counted like any other (calls offered,
 * abandoned, answered), but nobody can call them back or recognise them
 * again: each gets a "caller" of its own, derived from its call_id, so it
 * never joins another caller's case nor counts as a repeat call.  Checked
 * before the fields (a withheld call.offered has no `caller` to require);
 * a `caller` beside it is a contradiction. */
static enum hl_err take_withheld(struct json_object *o, struct hl_event *ev, struct hl_error *err)
{
	struct json_object *v = member(o, "withheld");
	if (!v || !(shapes[ev->type].req & B(F_CALLER) || shapes[ev->type].opt & B(F_CALLER)))
		return HL_OK;
	if (!json_object_is_type(v, json_type_boolean))
		return fail(err, HL_E_BAD_REQUEST, "withheld: must be true or false");
	ev->withheld = json_object_get_boolean(v);
	if (ev->withheld && member(o, "caller"))
		return fail(err, HL_E_BAD_REQUEST, "withheld: a withheld call has no caller; send one or the other");
	return HL_OK;
}

/* The caller of a withheld call: its own, the same on every retry (FNV-1a of
 * the call_id, 64 bits: two calls share one by chance once in some 10^12
 * pairs, and only calls that share it while a case is open are joined). */
static void withheld_caller(struct hl_event *ev)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (const unsigned char *s = (const unsigned char *)ev->call_id; s && *s; s++)
		h = (h ^ *s) * UINT64_C(1099511628211);
	snprintf(ev->caller, sizeof ev->caller, HL_WITHHELD_PREFIX "%016" PRIx64, h);
}

static enum hl_err take_request(struct json_object *o, const struct hl_scan *sc, struct hl_event *ev,
                                struct hl_error *err)
{
	if (sc->dup && !sc->dup_nested && strcmp(sc->dup_field, "id") == 0)
		return fail(err, HL_E_BAD_REQUEST, "id: duplicate key");
	enum hl_err rc = take_id(o, ev, err);
	if (rc != HL_OK)
		return rc;
	if (sc->dup)
		return fail(err, HL_E_BAD_REQUEST, "%s: duplicate key%s", sc->dup_field,
		            sc->dup_nested ? " in a nested object" : "");
	if (sc->nul)
		return fail(err, HL_E_BAD_REQUEST, "%s: contains NUL", sc->nul_field);
	if (sc->bignum)
		return fail(err, HL_E_BAD_REQUEST, "%s: number out of range for PostgreSQL numeric",
		            sc->bignum_field);
	if ((rc = take_type(o, ev, err)) != HL_OK)
		return rc;
	if ((rc = take_withheld(o, ev, err)) != HL_OK)
		return rc;
	if ((rc = take_fields(o, ev, err)) != HL_OK)
		return rc;
	if (ev->withheld)
		withheld_caller(ev);
	if ((rc = take_at(o, ev, err)) != HL_OK)
		return rc;
	return take_backfill(o, ev, err);
}

/* ---------------------------------------------------------------- parse */

static struct json_object *json_parse(const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH + 1);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *o = json_tokener_parse_ex(tok, line, (int)len);
	if (o && (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

enum hl_err hl_parse_request(const char *line, size_t len, hl_ms now, struct hl_event *ev,
                             struct hl_error *err)
{
	memset(ev, 0, sizeof *ev);
	ev->caller_informed = -1;
	ev->confidential = -1;
	ev->at = ev->received = now;
	err->code = HL_OK;
	err->message[0] = '\0';

	if (!line)
		len = 0;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len >= INT_MAX)
		return fail(err, HL_E_TOO_LARGE, "request: line too long");

	struct hl_scan sc;
	if (!hl_scan_line(&sc, line ? line : "", len))
		return fail(err, HL_E_BAD_JSON, "invalid JSON at byte %zu: %s",
		            (size_t)(sc.p - sc.start), sc.why);

	struct json_object *o = json_parse(line, len);
	if (!o) /* the scan accepted it, so this is json-c being stricter or out of memory */
		return fail(err, HL_E_BAD_JSON, "invalid JSON");

	enum hl_err rc = take_request(o, &sc, ev, err);
	json_object_put(o);
	if (rc == HL_OK) {
		ev->line = malloc(len + 1);
		if (!ev->line)
			rc = fail(err, HL_E_INTERNAL, "request: out of memory");
		else {
			memcpy(ev->line, line, len);
			ev->line[len] = '\0';
			ev->line_len = len;
		}
	}
	if (rc != HL_OK)
		hl_event_free(ev); /* keeps ev->id for the error reply */
	return rc;
}

void hl_event_free(struct hl_event *ev)
{
	if (!ev)
		return;
	char **strs[] = { &ev->call_id, &ev->queue, &ev->agent, &ev->outcome, &ev->category,
	                  &ev->priority, &ev->summary, &ev->result, &ev->note, &ev->department,
	                  &ev->reason, &ev->resolution, &ev->by, &ev->token, &ev->line,
	                  &ev->order_id, &ev->due, &ev->until, &ev->area };
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	ev->line_len = 0;
}
