/*
 * protocol_reply.c - the lines hotlined writes on the wire (pure): replies to
 * requests ({"id":…,"ok":true,…} / "ok":false with an error code) and the
 * alert and acknowledgement push lines for subscribers.
 *
 * Separate from protocol.c, which reads requests: writing needs none of the
 * strict scanning and field table, and every writer (conn.c, http_api.c,
 * subscribers.c) shares these few functions.  Replies are built with json-c
 * (quoting is then always right), printed with JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE, one line, "\n".
 */
#include "protocol.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRINT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* ---------------------------------------------------------------- replies */

/* json-c text of o plus "\n", malloc'd; consumes o. */
static char *finish(struct json_object *o)
{
	if (!o)
		return NULL;
	size_t len;
	const char *s = json_object_to_json_string_length(o, PRINT_FLAGS, &len);
	char *out = s ? malloc(len + 2) : NULL;
	if (out) {
		memcpy(out, s, len);
		out[len] = '\n';
		out[len + 1] = '\0';
	}
	json_object_put(o);
	return out;
}

/* {"id":<id or null>,"ok":<ok>} as a json-c object to add to. */
static struct json_object *reply_head(const char *id, bool ok)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "id", id ? json_object_new_string(id) : NULL);
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	return o;
}

char *hl_reply_ok(const char *id)
{
	return finish(reply_head(id, true));
}

char *hl_reply_ack(const char *id, const char *acked_by, const char *acked_at)
{
	struct json_object *o = reply_head(id, true);
	if (!o)
		return NULL;
	if (acked_by)
		json_object_object_add(o, "acked_by", json_object_new_string(acked_by));
	if (acked_at)
		json_object_object_add(o, "acked_at", json_object_new_string(acked_at));
	return finish(o);
}

char *hl_reply_case(const char *id, int64_t case_id, bool duplicate)
{
	struct json_object *o = reply_head(id, true);
	if (!o)
		return NULL;
	if (duplicate)
		json_object_object_add(o, "duplicate", json_object_new_boolean(true));
	json_object_object_add(o, "case_id", json_object_new_int64(case_id));
	return finish(o);
}

char *hl_reply_order(const char *id, int64_t case_id, const char *order_id, bool duplicate)
{
	struct json_object *o = reply_head(id, true);
	if (!o)
		return NULL;
	if (duplicate)
		json_object_object_add(o, "duplicate", json_object_new_boolean(true));
	json_object_object_add(o, "case_id", json_object_new_int64(case_id));
	if (order_id && order_id[0])
		json_object_object_add(o, "order_id", json_object_new_string(order_id));
	return finish(o);
}

char *hl_reply_error(const char *id, enum hl_err code, const char *message)
{
	struct json_object *o = reply_head(id, false);
	struct json_object *e = json_object_new_object();
	if (!o || !e) {
		json_object_put(o);
		json_object_put(e);
		return NULL;
	}
	json_object_object_add(e, "code", json_object_new_string(hl_err_code(code)));
	json_object_object_add(e, "message", json_object_new_string(message ? message : ""));
	json_object_object_add(o, "error", e);
	return finish(o);
}

/* A JSON string literal for s ("null" for NULL), malloc'd. */
static char *quote(const char *s)
{
	if (!s)
		return strdup("null");
	struct json_object *o = json_object_new_string(s);
	if (!o)
		return NULL;
	const char *q = json_object_to_json_string_ext(o, PRINT_FLAGS);
	char *out = q ? strdup(q) : NULL;
	json_object_put(o);
	return out;
}

/* printf into a fresh buffer: the pieces are already valid JSON text. */
static char *concat(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *concat(const char *fmt, ...)
{
	va_list ap;
	char *out = NULL;
	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		out = NULL;
	va_end(ap);
	return out;
}

char *hl_reply_with(const char *id, const char *key, const char *json_text)
{
	char *qid = quote(id);
	char *qkey = quote(key ? key : "");
	char *out = NULL;
	if (qid && qkey)
		out = concat("{\"id\":%s,\"ok\":true,%s:%s}\n", qid, qkey, json_text ? json_text : "null");
	free(qid);
	free(qkey);
	return out;
}

char *hl_push_alert(const char *alert_json)
{
	return concat("{\"push\":\"alert\",\"alert\":%s}\n", alert_json ? alert_json : "null");
}

char *hl_push_ack(const char *alert_json)
{
	return concat("{\"push\":\"ack\",\"alert\":%s}\n", alert_json ? alert_json : "null");
}
