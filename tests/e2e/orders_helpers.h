/*
 * orders_helpers.h - what test_orders.c and test_hotspots.c (work orders and
 * hotspots, CONTRACT.md 6) share: a request with a fresh id (req), its
 * verdicts (ok, refused), a new case from a new caller (new_case), a
 * dispatch, and the long SLA under which no case clock falls due during a
 * test.  Static inline: each file that includes this one uses only some.
 */
#ifndef HL_E2E_ORDERS_HELPERS_H
#define HL_E2E_ORDERS_HELPERS_H

#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LONG_SLA "callback = \"1h\"; update = \"0\"; resolution = \"1h\";"

static inline json_object *req(struct hl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline json_object *req(struct hl_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_object *r = hl_vrequest_new(c, "o", fmt, ap);
	va_end(ap);
	return r;
}

static inline json_object *ok(json_object *r)
{
	cr_assert(hl_jbool(r, "ok"), "refused: %s", json_object_to_json_string(r));
	return r;
}

static inline void refused(json_object *r, const char *code, const char *needle)
{
	cr_assert_not(hl_jbool(r, "ok"), "accepted: %s", json_object_to_json_string(r));
	cr_assert_str_eq(hl_jstr(r, "error.code"), code, "%s", json_object_to_json_string(r));
	if (needle)
		cr_assert(strstr(hl_jstr(r, "error.message"), needle), "message lacks '%s': %s", needle,
		          json_object_to_json_string(r));
}

static inline int64_t new_case(struct hl_conn *c, int n)
{
	json_object *r = ok(req(c, "\"type\":\"call.offered\",\"call_id\":\"oc-%d-%s\",\"caller\":\"+86135%08d\"", n,
	                        hl_uid("c"), n));
	return hl_jint(r, "case_id");
}

static inline json_object *dispatch(struct hl_conn *c, int64_t case_id, const char *order_id, const char *dept)
{
	return req(c, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"order_id\":\"%s\",\"department\":\"%s\"",
	           (long long)case_id, order_id, dept);
}

#endif
