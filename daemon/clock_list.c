/*
 * clock_list.c - a case's clocks as the load returns them, read without a
 * JSON library.
 *
 * SQL_CASES returns each case's clocks as one JSON value, json_agg of
 * json_build_array(kind, state, seq, started_at, due_at, warn_at, warned,
 * allowed_ms, paused_at, remaining_ms, warn_remaining_ms, met_at,
 * breached_at, calendar): an array of arrays of fourteen scalars.  Parsing
 * it into a json-c tree (an object per value, freed again at once) was 6-9 %
 * of the daemon's CPU under load (perf; docs/write-cost.md, session 28), on
 * the path between the load's results and the write.  This scanner reads
 * exactly that shape and gives up on anything else (a string with an
 * escape, a nested value, a row of another length); hl_clock_list_read then
 * parses the text with json-c as before (hl_clock_list_parse_json), so an
 * unexpected text costs time, never a wrong clock.  Pure: no I/O; the
 * scanner allocates nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "hotlined.h"

#define CLOCK_VALUES 14

struct value {
	enum { V_NULL, V_BOOL, V_NUM, V_STR } type;
	int64_t num;     /* V_NUM, V_BOOL (0/1) */
	const char *str; /* V_STR: not terminated */
	size_t len;
};

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

/* One scalar at p; NULL if p holds anything else. */
static const char *scan_value(const char *p, struct value *v)
{
	if (*p == '"') {
		const char *q = p + 1;
		while (*q && *q != '"') {
			if (*q == '\\' || (unsigned char)*q < 0x20)
				return NULL; /* escapes: json-c's job */
			q++;
		}
		if (*q != '"')
			return NULL;
		*v = (struct value){ .type = V_STR, .str = p + 1, .len = (size_t)(q - p - 1) };
		return q + 1;
	}
	if (!strncmp(p, "null", 4)) {
		*v = (struct value){ .type = V_NULL };
		return p + 4;
	}
	if (!strncmp(p, "true", 4)) {
		*v = (struct value){ .type = V_BOOL, .num = 1 };
		return p + 4;
	}
	if (!strncmp(p, "false", 5)) {
		*v = (struct value){ .type = V_BOOL, .num = 0 };
		return p + 5;
	}
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		char *end;
		errno = 0;
		long long n = strtoll(p, &end, 10);
		if (errno || end == p || *end == '.' || *end == 'e' || *end == 'E')
			return NULL;
		*v = (struct value){ .type = V_NUM, .num = n };
		return end;
	}
	return NULL;
}

static int64_t num_or_zero(const struct value *v) /* as json_object_get_int64: null is 0 */
{
	return v->type == V_NUM || v->type == V_BOOL ? v->num : 0;
}

/* The name in v as a terminated string (kind, state: short); false if too long. */
static bool name_of(const struct value *v, char *buf, size_t len)
{
	if (v->type != V_STR || v->len >= len)
		return false;
	memcpy(buf, v->str, v->len);
	buf[v->len] = '\0';
	return true;
}

bool hl_clock_list_parse(const char *json, struct hl_clock clocks[HL_CK__COUNT])
{
	struct hl_clock out[HL_CK__COUNT];
	memcpy(out, clocks, sizeof out);
	const char *p = skip_ws(json);
	if (*p++ != '[')
		return false;
	p = skip_ws(p);
	if (*p == ']') {
		p++;
		goto done;
	}
	for (;;) {
		struct value v[CLOCK_VALUES];
		p = skip_ws(p);
		if (*p++ != '[')
			return false;
		for (int i = 0; i < CLOCK_VALUES; i++) {
			p = scan_value(skip_ws(p), &v[i]);
			if (!p)
				return false;
			p = skip_ws(p);
			if (*p++ != (i == CLOCK_VALUES - 1 ? ']' : ','))
				return false;
		}
		char kind_name[32], state_name[32];
		if (!name_of(&v[0], kind_name, sizeof kind_name) || !name_of(&v[1], state_name, sizeof state_name))
			return false;
		if (v[13].type != V_STR && v[13].type != V_NULL)
			return false;
		int kind = hl_clock_kind_from_name(kind_name);
		if (kind >= 0) { /* an unknown kind is skipped, as before */
			struct hl_clock *ck = &out[kind];
			ck->state = hl_clock_state_from_name(state_name);
			ck->seq = (int32_t)num_or_zero(&v[2]);
			ck->started_at = num_or_zero(&v[3]);
			ck->due_at = num_or_zero(&v[4]);
			ck->warn_at = num_or_zero(&v[5]);
			ck->warned = v[6].type == V_BOOL && v[6].num;
			ck->allowed_ms = num_or_zero(&v[7]);
			ck->paused_at = num_or_zero(&v[8]);
			ck->remaining_ms = num_or_zero(&v[9]);
			ck->warn_remaining_ms = num_or_zero(&v[10]);
			ck->met_at = num_or_zero(&v[11]);
			ck->breached_at = num_or_zero(&v[12]);
			size_t n = v[13].type == V_STR ? v[13].len : 0;
			if (n >= sizeof ck->calendar)
				n = sizeof ck->calendar - 1; /* as snprintf truncated it */
			memcpy(ck->calendar, n ? v[13].str : "", n);
			ck->calendar[n] = '\0';
		}
		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p++ != ']')
			return false;
		break;
	}
done:
	if (*skip_ws(p) != '\0')
		return false;
	memcpy(clocks, out, sizeof out);
	return true;
}

/* The same text read with json-c: what the store did before the scanner, and
 * what it still does for any text the scanner refuses.  A value of another
 * type reads as json-c reads it (null and a missing value as 0 or ""). */
bool hl_clock_list_parse_json(const char *json, struct hl_clock clocks[HL_CK__COUNT])
{
	json_object *arr = json ? json_tokener_parse(json) : NULL;
	if (!arr)
		return false;
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *k = json_object_array_get_idx(arr, i);
		int kind = hl_clock_kind_from_name(json_object_get_string(json_object_array_get_idx(k, 0)));
		if (kind < 0)
			continue;
		struct hl_clock *ck = &clocks[kind];
#define I64(i) json_object_get_int64(json_object_array_get_idx(k, i))
		ck->state = hl_clock_state_from_name(json_object_get_string(json_object_array_get_idx(k, 1)));
		ck->seq = (int32_t)I64(2);
		ck->started_at = I64(3);
		ck->due_at = I64(4);
		ck->warn_at = I64(5);
		ck->warned = json_object_get_boolean(json_object_array_get_idx(k, 6));
		ck->allowed_ms = I64(7);
		ck->paused_at = I64(8);
		ck->remaining_ms = I64(9);
		ck->warn_remaining_ms = I64(10);
		ck->met_at = I64(11);
		ck->breached_at = I64(12);
#undef I64
		const char *cal = json_object_get_string(json_object_array_get_idx(k, 13));
		snprintf(ck->calendar, sizeof ck->calendar, "%s", cal ? cal : "");
	}
	json_object_put(arr);
	return true;
}

void hl_clock_list_read(const char *json, struct hl_clock clocks[HL_CK__COUNT])
{
	if (json && !hl_clock_list_parse(json, clocks))
		hl_clock_list_parse_json(json, clocks);
}
