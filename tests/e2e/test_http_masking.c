/*
 * test_http_masking.c - a confidential caller's number on every HTTP surface
 * (CONTRACT.md sections 5 and 7): the alert stream, a case, the board, for
 * a viewer and a supervisor, also through merged cases.
 *
 * Split from test_http.c (which had grown past 700 lines) with the same
 * client (tests/e2e/http_client.h) and the same daemon set-up (`up`).
 */
#include "harness.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>


#include "http_client.h"

TestSuite(http_masking, .init = hl_e2e_init, .fini = http_fini, .timeout = 120);

#define TOP_LOOP "alerts = { transfer_limit = 1; };"

/* a confidential caller is masked on every HTTP surface: stream, case, board */
HL_TEST(http_masking, confidential_masked)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	struct hres *r = post_events(
		"{\"type\":\"call.abandoned\",\"id\":\"k1\",\"call_id\":\"k1\",\"caller\":\"+8613812345678\","
		"\"confidential\":true,\"at\":\"2020-01-01T00:00:00Z\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(strstr(r->body, "\"ok\":true"), "%s", r->body);
	/* due long ago: the callback is overdue now */
	int64_t end = hl_now_ms() + 10000;
	while (hl_now_ms() < end && hl_sql_int(d, "SELECT count(*) FROM hotline.alerts") == 0)
		hl_sleep_ms(50);
	char *raw = hl_sql_text(d, "SELECT caller FROM hotline.alerts LIMIT 1");
	cr_assert(raw && strcmp(raw, "+8613812345678") == 0, "the alert row keeps the number (%s)", raw);
	struct sse *s = sse_open("/v1/alerts/stream", SUP, 0);
	struct sse_ev ev;
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && ev.id > 0);
	json_object *a = json_tokener_parse(ev.data);
	cr_assert(a && hl_jbool(a, "confidential"), "stream: %s", ev.data);
	json_object_put(a);
	cr_assert(!strstr(ev.data, "12345678") && strstr(ev.data, "****5678"), "stream: %s", ev.data);
	r = http("GET", "/v1/cases/1", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(!strstr(r->body, "12345678") && strstr(r->body, "****5678"), "case: %s", r->body);
	r = http("GET", "/v1/board", VIEW, NULL);
	cr_assert(strstr(r->body, "\"overdue_callbacks\":[{") || strstr(r->body, "\"overdue_callbacks\" : [{"),
	          "board: %s", r->body);
	cr_assert(!strstr(r->body, "12345678") && strstr(r->body, "****5678"), "board: %s", r->body);
}

/* The digits of s, nothing else (a number written with separators still matches). */
static char *digits_of(const char *s)
{
	char *d = malloc(strlen(s) + 1), *o = d;
	cr_assert(d);
	for (; *s; s++)
		if (*s >= '0' && *s <= '9')
			*o++ = *s;
	*o = '\0';
	return d;
}

/* Read the stream up to the transfer_loop alert: no event shows the digits
 * of +8613512345678, and that alert shows them masked beside the case's own
 * caller, +8613800000001, whole. */
static void stream_masks_transfer_loop(struct sse *st)
{
	struct sse_ev ev;
	bool seen = false;
	while (!seen && sse_next(st, &ev, HL_TIMEOUT_MS)) {
		char *dg = digits_of(ev.data);
		bool leaked = strstr(dg, "13512345678") != NULL;
		free(dg);
		cr_assert(!leaked, "stream: %s", ev.data);
		if (strstr(ev.data, "transfer_loop")) {
			seen = true;
			cr_assert(strstr(ev.data, "135****5678") && strstr(ev.data, "+8613800000001"), "stream: %s", ev.data);
		}
	}
	cr_assert(seen, "the transfer_loop alert was pushed");
}

/* sql/050: a confidential caller's case merged into an ordinary one; the
 * number then written in the survivor's texts is masked for a viewer, while
 * the survivor's own caller (not confidential) is shown whole */
HL_TEST(http_masking, merged_confidential_masked)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	struct hres *r = post_events(
		"{\"type\":\"call.abandoned\",\"id\":\"m1\",\"call_id\":\"m1\",\"caller\":\"+8613800000001\","
		"\"at\":\"2020-01-01T00:00:00Z\"}\n"
		"{\"type\":\"call.abandoned\",\"id\":\"m2\",\"call_id\":\"m2\",\"caller\":\"+8613512345678\","
		"\"confidential\":true,\"at\":\"2020-01-01T00:01:00Z\"}\n"
		"{\"type\":\"case.merge\",\"id\":\"m3\",\"case_id\":2,\"into\":1,\"at\":\"2020-01-01T00:02:00Z\"}\n"
		"{\"type\":\"case.transfer\",\"id\":\"m3a\",\"case_id\":1,\"department\":\"roads\","
		"\"at\":\"2020-01-01T00:02:10Z\"}\n"
		"{\"type\":\"case.hold\",\"id\":\"m4\",\"case_id\":1,\"reason\":\"call E back on 135 1234 5678\","
		"\"at\":\"2020-01-01T00:03:00Z\"}\n"
		"{\"type\":\"case.resume\",\"id\":\"m5\",\"case_id\":1,\"at\":\"2020-01-01T00:04:00Z\"}\n"
		"{\"type\":\"case.resolve\",\"id\":\"m6\",\"case_id\":1,\"resolution\":\"told +86 135-1234-5678\","
		"\"at\":\"2020-01-01T00:05:00Z\"}\n");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(!strstr(r->body, "\"ok\":false"), "%s", r->body);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases WHERE id = 2 AND merged_into = 1"), 1);
	char *raw = hl_sql_text(d, "SELECT resolution FROM hotline.cases WHERE id = 1");
	cr_assert(raw && strstr(raw, "135-1234-5678"), "the row keeps what was written (%s)", raw);
	r = http("GET", "/v1/cases/1", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	char *dg = digits_of(r->body);
	bool leaked = strstr(dg, "13512345678") != NULL;
	free(dg);
	cr_assert(!leaked, "case 1 shows the merged confidential number: %s", r->body);
	cr_assert(strstr(r->body, "135****5678"), "masked, not dropped: %s", r->body);
	json_object *o = jbody(r);
	cr_assert_str_eq(hl_jstr(o, "caller"), "+8613800000001", "the survivor's own caller stays whole");
	json_object_put(o);
	/* a supervisor reads the same */
	r = http("GET", "/v1/cases/1", SUP, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	dg = digits_of(r->body);
	leaked = strstr(dg, "13512345678") != NULL;
	free(dg);
	cr_assert(!leaked, "supervisor: %s", r->body);
	/* an alert's detail quoting the case's free text (transfer_loop names the
	 * department sent) is masked in the stream; the alert's caller is whole */
	struct sse *st = sse_open("/v1/alerts/stream", SUP, 0);
	r = post_events("{\"type\":\"case.transfer\",\"id\":\"m7\",\"case_id\":1,"
	                "\"department\":\"desk 135 1234 5678\",\"at\":\"2020-01-01T00:06:00Z\"}\n");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(!strstr(r->body, "\"ok\":false"), "%s", r->body);
	raw = hl_sql_text(d, "SELECT detail FROM hotline.alerts WHERE kind = 'transfer_loop'");
	cr_assert(raw && strstr(raw, "135 1234 5678"), "the alert row keeps what was sent (%s)", raw);
	stream_masks_transfer_loop(st);
}

/* sql/054: a confidential caller's number copied by hand onto an unrelated
 * case (no merge link) is masked for a viewer and in the alert stream; the
 * unrelated case's own caller stays whole */
HL_TEST(http_masking, copied_confidential_masked)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	struct hres *r = post_events(
		"{\"type\":\"call.abandoned\",\"id\":\"c1\",\"call_id\":\"c1\",\"caller\":\"+8613512345678\","
		"\"confidential\":true,\"at\":\"2020-01-01T00:00:00Z\"}\n"
		"{\"type\":\"call.abandoned\",\"id\":\"c2\",\"call_id\":\"c2\",\"caller\":\"+8613800000001\","
		"\"at\":\"2020-01-01T00:01:00Z\"}\n"
		"{\"type\":\"case.transfer\",\"id\":\"c3\",\"case_id\":2,\"department\":\"roads\","
		"\"at\":\"2020-01-01T00:02:00Z\"}\n"
		"{\"type\":\"case.update\",\"id\":\"c4\",\"case_id\":2,\"note\":\"same leak as 135 1234 5678, ref 1234567\","
		"\"at\":\"2020-01-01T00:03:00Z\"}\n"
		"{\"type\":\"case.resolve\",\"id\":\"c5\",\"case_id\":2,\"resolution\":\"told 13512345678 too\","
		"\"at\":\"2020-01-01T00:04:00Z\"}\n");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(!strstr(r->body, "\"ok\":false"), "%s", r->body);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases WHERE merged_into IS NOT NULL"), 0);
	r = http("GET", "/v1/cases/2", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	char *dg = digits_of(r->body);
	bool leaked = strstr(dg, "13512345678") != NULL;
	free(dg);
	cr_assert(!leaked, "case 2 shows the copied confidential number: %s", r->body);
	cr_assert(strstr(r->body, "told 135****5678 too"), "masked, not dropped: %s", r->body);
	json_object *o = jbody(r);
	cr_assert_str_eq(hl_jstr(o, "caller"), "+8613800000001", "the case's own caller stays whole");
	json_object_put(o);
	/* an alert on case 2 whose detail quotes the copied number (transfer_loop
	 * names the department sent) is masked in the stream */
	struct sse *st = sse_open("/v1/alerts/stream", SUP, 0);
	r = post_events("{\"type\":\"case.transfer\",\"id\":\"c6\",\"case_id\":2,"
	                "\"department\":\"desk 135 1234 5678\",\"at\":\"2020-01-01T00:06:00Z\"}\n");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(!strstr(r->body, "\"ok\":false"), "%s", r->body);
	stream_masks_transfer_loop(st);
}

/* The digits of +8613512345678 nowhere in `body` (however separated). */
static void no_number_in(const char *what, const char *body)
{
	char *dg = digits_of(body);
	bool leaked = strstr(dg, "13512345678") != NULL;
	free(dg);
	cr_assert(!leaked, "%s shows the confidential number: %s", what, body);
}

/* Identifiers chosen by the senders often embed the caller's number (a
 * softphone's call id "pbx-<number>-<seq>", a work order named after the
 * caller, a department written "desk 135 1234 5678"): for a confidential
 * caller, those digits are masked in every HTTP answer and push, as in the
 * texts (before: the case's calls[].call_id and orders[].order_id, the
 * board's order_id and the stream's order_id/department were whole). */
HL_TEST(http_masking, identifiers_embedding_the_number_masked)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	struct hres *r = post_events(
		"{\"type\":\"call.abandoned\",\"id\":\"pbx:13512345678:1\",\"call_id\":\"pbx-8613512345678-1\","
		"\"caller\":\"+8613512345678\",\"confidential\":true,\"at\":\"2020-01-01T00:00:00Z\"}\n"
		"{\"type\":\"order.dispatch\",\"id\":\"i2\",\"case_id\":1,\"order_id\":\"wo-135-1234-5678\","
		"\"department\":\"desk 135 1234 5678\",\"at\":\"2020-01-01T00:01:00Z\"}\n");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(!strstr(r->body, "\"ok\":false"), "%s", r->body);
	/* the sign deadline passed long ago: order_sign_overdue names the order */
	int64_t end = hl_now_ms() + 10000;
	while (hl_now_ms() < end &&
	       hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'order_sign_overdue'") == 0)
		hl_sleep_ms(50);
	char *raw = hl_sql_text(d, "SELECT order_id FROM hotline.alerts WHERE kind = 'order_sign_overdue'");
	cr_assert(raw && strcmp(raw, "wo-135-1234-5678") == 0, "the alert row keeps the order id (%s)", raw);
	r = http("GET", "/v1/cases/1", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	no_number_in("the case", r->body);
	json_object *o = jbody(r);
	const char *cid = hl_jstr(o, "calls.0.call_id");
	/* the four digits the caller's own mask hides, wherever the number is in
	 * the id (not shifted by the "-1" after it) */
	cr_assert(cid && strcmp(cid, "pbx-86135****56781") == 0, "the call id masked, not dropped: %s", r->body);
	json_object_put(o);
	r = http("GET", "/v1/board", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(strstr(r->body, "order_id"), "board: %s", r->body);
	no_number_in("the board", r->body);
	struct sse *s = sse_open("/v1/alerts/stream", VIEW, 0);
	struct sse_ev ev;
	bool seen = false;
	while (!seen && sse_next(s, &ev, HL_TIMEOUT_MS)) {
		no_number_in("the stream", ev.data);
		seen = strstr(ev.data, "order_sign_overdue") != NULL;
	}
	cr_assert(seen, "the order_sign_overdue alert was replayed");
	/* a live push too: the order is returned, then dispatched again to the
	 * same desk (buck_passing names the order and the department) */
	r = post_events("{\"type\":\"order.return\",\"id\":\"i3\",\"order_id\":\"wo-135-1234-5678\",\"reason\":\"not ours\"}\n"
	                "{\"type\":\"order.dispatch\",\"id\":\"i4\",\"case_id\":1,\"order_id\":\"wo-13512345678-2\","
	                "\"department\":\"desk 135 1234 5678\"}\n");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(!strstr(r->body, "\"ok\":false"), "%s", r->body);
	seen = false;
	while (!seen && sse_next(s, &ev, HL_TIMEOUT_MS)) {
		no_number_in("the stream", ev.data);
		seen = strstr(ev.data, "buck_passing") != NULL;
	}
	cr_assert(seen, "the buck_passing alert was pushed");
	/* the socket's masked case.get is the same function; a privileged
	 * reader (psql as the owner) still has every identifier whole */
	raw = hl_sql_text(d, "SELECT call_id FROM hotline.calls LIMIT 1");
	cr_assert(raw && strcmp(raw, "pbx-8613512345678-1") == 0, "%s", raw);
}

/* The same for a confidential number copied onto an ordinary case's order
 * (sql/054's rule): the alert's order_id and department on the stream. */
HL_TEST(http_masking, identifiers_of_another_case_copying_the_number_masked)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	struct hres *r = post_events(
		"{\"type\":\"call.offered\",\"id\":\"j1\",\"call_id\":\"j1\",\"caller\":\"+8613512345678\","
		"\"confidential\":true}\n"
		"{\"type\":\"call.offered\",\"id\":\"j2\",\"call_id\":\"j2\",\"caller\":\"+8613800000001\","
		"\"at\":\"2020-01-01T00:00:00Z\"}\n"
		"{\"type\":\"order.dispatch\",\"id\":\"j3\",\"case_id\":2,\"order_id\":\"wo-for-13512345678\","
		"\"department\":\"desk 135 1234 5678\",\"at\":\"2020-01-01T00:01:00Z\"}\n");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(!strstr(r->body, "\"ok\":false"), "%s", r->body);
	int64_t end = hl_now_ms() + 10000;
	while (hl_now_ms() < end &&
	       hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'order_sign_overdue'") == 0)
		hl_sleep_ms(50);
	struct sse *s = sse_open("/v1/alerts/stream", VIEW, 0);
	struct sse_ev ev;
	bool seen = false;
	while (!seen && sse_next(s, &ev, HL_TIMEOUT_MS)) {
		no_number_in("the stream", ev.data);
		seen = strstr(ev.data, "order_sign_overdue") != NULL;
		if (seen)
			cr_assert(strstr(ev.data, "+8613800000001"), "the case's own caller stays whole: %s", ev.data);
	}
	cr_assert(seen, "the order_sign_overdue alert was replayed");
	r = http("GET", "/v1/cases/2", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	no_number_in("the case", r->body);
	r = http("GET", "/v1/board", VIEW, NULL);
	no_number_in("the board", r->body);
}
