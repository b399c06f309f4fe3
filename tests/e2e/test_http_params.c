/*
 * test_http_params.c - how the HTTP API reads what a request's URL says: the
 * ids in its path and the numbers in its query (CONTRACT.md section 7;
 * docs/http.md "Paths and parameters").
 *
 * Design.  As test_http.c (whose client, http_client.h, it includes): a real
 * hotlined with http.listen and one token per role, requests written by
 * hand so the URL reaches the daemon byte for byte, the database as the
 * ground truth.  Two defects of review-http3 are pinned here:
 *   - a path was matched as sent, not percent-decoded (RFC 3986 2.1):
 *     /v1/cases/%31 is /v1/cases/1, but answered 404; an encoded "/" or
 *     NUL, or a broken escape, must be a clear 400, not some other route;
 *   - a numeric parameter that is no number (since=abc, 12abc, -1, an
 *     overflow; a Last-Event-ID likewise) was read as 0 and the request
 *     served as if it had not been given: it must be 400 naming it.
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
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "http_client.h"
#pragma GCC diagnostic pop

TestSuite(http_params, .init = hl_e2e_init, .fini = http_fini, .timeout = 120);

#define TOP_LOOP "alerts = { transfer_limit = 1; };"

/* A 400 whose JSON error is bad_request and whose message names `what`. */
static void assert_400_naming(const struct hres *r, const char *what, const char *url)
{
	cr_assert_eq(r->status, 400, "%s: %d %s", url, r->status, r->body);
	json_object *o = jbody(r);
	const char *code = hl_jstr(o, "error.code"), *msg = hl_jstr(o, "error.message");
	cr_assert(code && strcmp(code, "bad_request") == 0, "%s: %s", url, r->body);
	cr_assert(msg && strstr(msg, what), "%s: the message names %s: %s", url, what, r->body);
	json_object_put(o);
}

/* /v1/cases/%31 is /v1/cases/1 (RFC 3986 2.1: an escape stands for its
 * octet, in any segment): before, every route that takes an id matched the
 * raw bytes and answered 404 "no such path". */
HL_TEST(http_params, percent_encoded_ids_are_decoded)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	int64_t alert = transfer_loop(d, 1, "+8613800000001");
	int64_t case_id = hl_sql_int(d, "SELECT case_id FROM hotline.alerts WHERE id = %lld", (long long)alert);
	char path[128], enc[64];
	/* every digit of the id encoded, upper and lower case hex */
	int n = 0;
	char digits[24];
	snprintf(digits, sizeof digits, "%lld", (long long)case_id);
	for (const char *p = digits; *p; p++)
		n += snprintf(enc + n, sizeof enc - (size_t)n, (p - digits) % 2 ? "%%%02x" : "%%%02X", *p);
	snprintf(path, sizeof path, "/v1/cases/%s", enc);
	struct hres *r = http("GET", path, VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s: %s", path, r->body);
	json_object *o = jbody(r);
	cr_assert_eq(hl_jint(o, "id"), case_id, "%s", r->body);
	json_object_put(o);
	/* a segment of the route encoded too */
	snprintf(path, sizeof path, "/v1/%%63ases/%lld", (long long)case_id);
	cr_assert_eq(http("GET", path, VIEW, NULL)->status, 200, "%s", path);
	/* the acknowledgement's id */
	snprintf(path, sizeof path, "/v1/alerts/%%3%lld/ack", (long long)alert % 10);
	if (alert < 10) {
		r = http("POST", path, SUP, NULL);
		cr_assert_eq(r->status, 200, "%s: %s", path, r->body);
		cr_assert_str_eq(hl_sql_text(d, "SELECT acked_by FROM hotline.alerts WHERE id = %lld", (long long)alert),
		                 "alice");
	}
	/* the stream and the figures, their names encoded */
	cr_assert_eq(http("GET", "/v1/%66igures", VIEW, NULL)->status, 200);
	cr_assert_eq(http("GET", "/v1/b%6Fard", VIEW, NULL)->status, 200);
	/* an escape of an escape is one level only: %2531 is "%31", no id */
	cr_assert_eq(http("GET", "/v1/cases/%2531", VIEW, NULL)->status, 404);
}

/* What cannot be decoded, or decodes to what a segment cannot hold, is a
 * clear 400 - never another route (an encoded "/" joining two segments) nor
 * a string cut at a NUL. */
HL_TEST(http_params, undecodable_paths_are_400)
{
	up(NULL, TOP_LOOP, NULL);
	static const char *const bad[] = {
		"/v1/cases/1%2F2",          /* an encoded slash */
		"/v1/cases%2F1",
		"/v1/alerts%2fstream",
		"/v1/cases/1%00",           /* NUL */
		"/v1/cases/%3",             /* cut escape */
		"/v1/cases/1%",
		"/v1/cases/%G1",            /* not hex */
		"/v1/cases/%3g",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_400_naming(http("GET", bad[i], VIEW, NULL), "path", bad[i]);
	/* decided before any token is looked at: nothing to leak, and a client
	 * learns what is wrong with its URL */
	assert_400_naming(http("GET", "/v1/cases/%2F", NULL, NULL), "path", "without a token");
}

/* since=abc was read as 0: the stream replayed every open alert as if the
 * client had asked for all of them.  Every numeric parameter that is not a
 * number in range is 400, naming the parameter. */
HL_TEST(http_params, numeric_parameters_that_do_not_parse_are_400)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	transfer_loop(d, 1, "+8613800000001");
	struct sse *s0;
	struct sse_ev ev0;
	static const char *const bad[] = {
		"since=abc", "since=12abc", "since=-1", "since=+5", "since=", "since=1.5", "since=0x10",
		"since=99999999999999999999", "since=9223372036854775808", "since=%20%31", "since=1&since=2",
	};
	char path[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(path, sizeof path, "/v1/alerts/stream?%s", bad[i]);
		assert_400_naming(http("GET", path, VIEW, NULL), "since", path);
	}
	/* the browser's own resume header likewise */
	assert_400_naming(http("GET", "/v1/alerts/stream", VIEW "Last-Event-ID: abc\r\n", NULL), "Last-Event-ID",
	                  "Last-Event-ID: abc");
	assert_400_naming(http("GET", "/v1/alerts/stream", VIEW "Last-Event-ID: -3\r\n", NULL), "Last-Event-ID",
	                  "Last-Event-ID: -3");
	/* an empty Last-Event-ID is none: the whole replay */
	s0 = sse_open("/v1/alerts/stream", VIEW "Last-Event-ID: \r\n", 0);
	cr_assert(sse_next(s0, &ev0, 5000) && ev0.id > 0, "an empty Last-Event-ID replays everything");
	/* a query that is not key=value pairs at all */
	assert_400_naming(http("GET", "/v1/figures?day", VIEW, NULL), "day", "day without a value");
	assert_400_naming(http("GET", "/v1/figures?day=2026-01-01&day=2026-01-02", VIEW, NULL), "day", "day twice");
	assert_400_naming(http("GET", "/v1/figures?day=%zz", VIEW, NULL), "day", "day=%zz");
	/* well-formed ones are served: since=0 (all), an encoded number */
	struct sse *s = sse_open("/v1/alerts/stream?since=0", VIEW, 0);
	struct sse_ev ev;
	cr_assert(sse_next(s, &ev, 5000) && ev.id > 0, "since=0 replays the open alert");
	cr_assert_eq(s->status, 200);
	s = sse_open("/v1/alerts/stream?since=%30", VIEW, 0);
	cr_assert(sse_next(s, &ev, 5000) && ev.id > 0, "since=%%30 is since=0");
	cr_assert_eq(http("GET", "/v1/figures?day=2026-01-01&other=x", VIEW, NULL)->status, 200,
	             "a parameter the route does not take is ignored");
}
