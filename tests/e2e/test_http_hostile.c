/*
 * test_http_hostile.c - the HTTP API against what a careless or hostile
 * client sends (CONTRACT.md section 7).
 *
 * Design.  As test_http.c (whose client, http_client.h, it includes): a real
 * hotlined with http.listen and one token per role, plain HTTP/1.1 over a
 * blocking socket, the database as the ground truth.  Each test is one way
 * the API could be made to leak or to fall over:
 *   - a confidential caller's number written by an agent in another format
 *     (spaces, dashes, without the country code) into a free-text field of
 *     the case must be masked for a viewer as psql's views mask it;
 *   - a confidential short number (a service number such as 110) must not
 *     break the case's JSON;
 *   - an unauthenticated client sending an endless header must be cut off
 *     rather than make the daemon buffer it.
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

#define SUP "Authorization: Bearer sup-token\r\n"
#define VIEW "Authorization: Bearer view-token\r\n"
#define ING "Authorization: Bearer ing-token\r\n"

/* test_http.c's client; not every helper of it is used here */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "http_client.h"
#pragma GCC diagnostic pop

TestSuite(http_hostile, .init = hl_e2e_init, .fini = http_fini, .timeout = 120);

static struct hres *post(const char *body)
{
	struct hres *r = http("POST", "/v1/events", ING, body);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(!strstr(r->body, "\"ok\":false"), "%s", r->body);
	return r;
}

/* free text quoting a confidential number in another format is masked, by its
 * digits, in GET /v1/cases/{id} (docs/admin.md "Numbers written anyhow") */
HL_TEST(http_hostile, case_free_text_masked_by_digits)
{
	struct hl_d *d = up(NULL, NULL, NULL);
	post("{\"type\":\"call.offered\",\"id\":\"t1\",\"call_id\":\"t1\",\"caller\":\"+8613912345678\","
	     "\"confidential\":true}");
	post("{\"type\":\"call.ended\",\"id\":\"t2\",\"call_id\":\"t1\",\"outcome\":\"followup\","
	     "\"summary\":\"call back on 139-1234-5678 or 139 1234 5678\",\"category\":\"tel 13912345678\"}");
	post("{\"type\":\"order.dispatch\",\"id\":\"t3\",\"case_id\":1,\"order_id\":\"wo-t\",\"department\":\"water\","
	     "\"note\":\"ring 13912345678\"}");
	post("{\"type\":\"order.return\",\"id\":\"t4\",\"order_id\":\"wo-t\",\"reason\":\"he said 1391234-5678\"}");
	cr_assert_str_eq(hl_sql_text(d, "SELECT hotline.mask_text(summary) FROM hotline.cases WHERE id = 1"),
	                 "call back on 139****5678 or 139****5678", "what psql's views show");
	struct hres *r = http("GET", "/v1/cases/1", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	char digits[8192];
	size_t n = 0;
	for (const char *p = r->body; *p && n + 1 < sizeof digits; p++)
		if (*p >= '0' && *p <= '9')
			digits[n++] = *p;
		else if (*p != ' ' && *p != '-')
			digits[n++] = '|';
	digits[n] = '\0';
	cr_assert(!strstr(digits, "12345678"), "a viewer reads the confidential number: %s", r->body);
	json_object *o = jbody(r);
	cr_assert(hl_jbool(o, "confidential"), "%s", r->body);
	cr_assert_eq(hl_jint(o, "id"), 1, "ids stay numbers: %s", r->body);
	cr_assert_str_eq(hl_jstr(o, "orders.0.order_id"), "wo-t", "identifiers are shown as sent");
	json_object_put(o);
}

/* a confidential service number (3 digits) must not corrupt the case JSON:
 * the old text replace() also rewrote the digits of ids and timestamps */
HL_TEST(http_hostile, short_confidential_number_keeps_json_valid)
{
	struct hl_d *d = up(NULL, NULL, NULL);
	(void)d;
	post("{\"type\":\"call.offered\",\"id\":\"s1\",\"call_id\":\"s1\",\"caller\":\"110\",\"confidential\":true,"
	     "\"at\":\"2026-01-01T00:01:10.110Z\"}");
	struct hres *r = http("GET", "/v1/cases/1", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_object *o = jbody(r);
	cr_assert_str_eq(hl_jstr(o, "opened_at"), "2026-01-01T00:01:10.110Z", "%s", r->body);
	cr_assert_str_eq(hl_jstr(o, "caller"), "*10", "%s", r->body);
	json_object_put(o);
}

/* an endless header from a client without a token: the daemon stops reading
 * it (evhttp's default is to buffer it all) and still serves the others */
HL_TEST(http_hostile, endless_header_is_cut_off)
{
	struct hl_d *d = up(NULL, NULL, NULL);
	(void)d;
	int fd = tcp_connect(http_port, 0);
	const char *start = "GET /v1/board HTTP/1.1\r\nHost: 127.0.0.1\r\n";
	send_all(fd, start, strlen(start));
	char line[8200];
	memset(line, 'a', sizeof line);
	memcpy(line, "X-Pad: ", 7);
	memcpy(line + sizeof line - 2, "\r\n", 2);
	for (int i = 0; i < 512; i++) /* 4 MiB, never ending the header */
		send_all(fd, line, sizeof line);
	struct pollfd p = { fd, POLLIN, 0 };
	cr_assert_eq(poll(&p, 1, 3000), 1, "4 MiB of header and the daemon is still reading it");
	char buf[256] = "";
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	cr_assert(n <= 0 || strncmp(buf, "HTTP/1.1 4", 10) == 0, "not refused: %.*s", (int)(n > 0 ? n : 0), buf);
	sock_close(fd);
	cr_assert_eq(http("GET", "/v1/board", VIEW, NULL)->status, 200, "the others are still served");
	/* a browser's header (a cookie and the usual lines) still goes through */
	char big[3000]; /* http_client.h has room for 4 KiB of request head */
	memset(big, 'b', sizeof big);
	memcpy(big, VIEW "X-Big: ", strlen(VIEW) + 7);
	memcpy(big + sizeof big - 3, "\r\n", 3);
	struct hres *r = http("GET", "/v1/board", big, NULL);
	cr_assert_eq(r->status, 200, "%s %s", r->head, r->body);
}
