/*
 * events_helpers.h - what test_events.c and test_events_wire.c (suite
 * `events`, the event socket: docs/protocol.md section 1) share: an `at`
 * a whole number of seconds from now (hl_iso_in), the verdicts on a response
 * (expect_ok, expect_error), events that must be accepted (event_ok, offer,
 * case_event), and the rows an event id left (count_events).  Static inline:
 * each file that includes this one uses only some.
 */
#ifndef HL_E2E_EVENTS_HELPERS_H
#define HL_E2E_EVENTS_HELPERS_H

#include "harness.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static inline void expect_ok(json_object *r, const char *id)
{
	cr_assert(r);
	cr_assert_str_eq(hl_jstr(r, "id") ? hl_jstr(r, "id") : "(none)", id, "response id");
	cr_assert(hl_jbool(r, "ok"), "expected ok for %s, got %s", id, json_object_to_json_string(r));
}

static inline void expect_error(json_object *r, const char *code)
{
	cr_assert(r);
	cr_assert(!hl_jbool(r, "ok"), "expected an error, got %s", json_object_to_json_string(r));
	const char *got = hl_jstr(r, "error.code");
	cr_assert(got && strcmp(got, code) == 0, "expected error %s, got %s", code, json_object_to_json_string(r));
	cr_assert(hl_jstr(r, "error.message"), "error without message: %s", json_object_to_json_string(r));
}

/* Send an event and expect ok with a case_id; returns it. */
static inline int64_t event_ok(struct hl_conn *c, const char *id, const char *json_fmt_rest)
{
	json_object *r = hl_requestf(c, "{\"id\":\"%s\",%s}", id, json_fmt_rest);
	expect_ok(r, id);
	int64_t case_id = hl_jint(r, "case_id");
	cr_assert_gt(case_id, 0, "no case_id in %s", json_object_to_json_string(r));
	cr_assert(!hl_jbool(r, "duplicate"), "unexpected duplicate: %s", json_object_to_json_string(r));
	return case_id;
}

static inline int64_t offer(struct hl_conn *c, const char *call_id, const char *caller, const char *at)
{
	char rest[512];
	snprintf(rest, sizeof rest, "\"type\":\"call.offered\",\"call_id\":\"%s\",\"caller\":\"%s\",\"at\":\"%s\"",
	         call_id, caller, at);
	return event_ok(c, hl_uid("offer"), rest);
}

/* Send a case event of `type` with extra fields; returns the case_id it answers. */
static inline int64_t case_event(struct hl_conn *c, const char *type, int64_t case_id, const char *extra)
{
	char rest[1024];
	snprintf(rest, sizeof rest, "\"type\":\"%s\",\"case_id\":%lld%s%s", type, (long long)case_id,
	         extra && *extra ? "," : "", extra ? extra : "");
	int64_t got = event_ok(c, hl_uid(type), rest);
	cr_assert_eq(got, case_id, "%s answered case %lld, not %lld", type, (long long)got, (long long)case_id);
	return got;
}

static inline int64_t count_events(struct hl_d *d, const char *event_id)
{
	return hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = '%s'", event_id);
}

#endif
