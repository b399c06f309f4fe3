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
 *     rather than make the daemon buffer it;
 *   - a client that sends half a request and then nothing, or a byte now
 *     and then, or keeps an answered connection open, must be closed after
 *     http.request_timeout, while an alert stream open for longer keeps
 *     receiving alerts and other clients are served meanwhile.
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

/* Read and discard until the daemon closes fd; the ms from `since` to the
 * close, or -1 when it is still open at `since + limit_ms`.  `dribble`: send
 * one more header byte every 300 ms meanwhile (a slowloris client). */
static int64_t closed_after(int fd, int64_t since, int limit_ms, bool dribble)
{
	char buf[4096];
	for (;;) {
		int64_t now = hl_now_ms();
		if (now - since > limit_ms)
			return -1;
		if (dribble)
			send(fd, "x", 1, MSG_NOSIGNAL);
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 300) == 1) {
			ssize_t n = recv(fd, buf, sizeof buf, 0);
			if (n <= 0)
				return hl_now_ms() - since;
		}
	}
}

/* slow and idle clients are closed after http.request_timeout (2 s here);
 * an SSE stream open for longer is not, and others are served meanwhile */
HL_TEST(http_hostile, slow_and_idle_clients_are_closed_streams_are_not)
{
	struct hl_d *d = up("request_timeout = \"2s\";", "alerts = { transfer_limit = 1; };", NULL);
	int64_t a1 = transfer_loop(d, 1, "+8613800000081");
	struct sse *s = sse_open("/v1/alerts/stream", VIEW, 0);
	struct sse_ev ev;
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && ev.id == a1, "the stream's replay: %lld", (long long)ev.id);
	int64_t t0 = hl_now_ms();

	/* half a request head, then nothing (the review's client: open for 8 minutes) */
	int idle = tcp_connect(http_port, 0);
	const char *half = "GET /v1/board HTTP/1.1\r\nHost: x\r\n";
	send_all(idle, half, strlen(half));
	/* a byte of header every 300 ms: never silent, never done */
	int drip = tcp_connect(http_port, 0);
	send_all(drip, "GET /v1/board HTTP/1.1\r\nX-Slow: ", 33);
	/* a keep-alive connection after its answer */
	int keep_alive = tcp_connect(http_port, 0);
	char req[256];
	int n = snprintf(req, sizeof req, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", http_port);
	send_all(keep_alive, req, (size_t)n);
	struct pollfd p = { keep_alive, POLLIN, 0 };
	cr_assert_eq(poll(&p, 1, HL_TIMEOUT_MS), 1, "no answer on the keep-alive connection");
	char buf[1024];
	cr_assert(recv(keep_alive, buf, sizeof buf, 0) > 0);
	int64_t t_answered = hl_now_ms();

	/* others are served meanwhile */
	cr_assert_eq(http("GET", "/v1/board", VIEW, NULL)->status, 200);

	int64_t drip_ms = closed_after(drip, t0, 6000, true);
	cr_assert(drip_ms >= 1500, "a dribbling client must be closed after 2 s, not at %lld ms", (long long)drip_ms);
	int64_t idle_ms = closed_after(idle, t0, 6000, false);
	cr_assert(idle_ms >= 1500, "half a request head: still open %lld ms later (or closed too early)",
	          (long long)(idle_ms < 0 ? hl_now_ms() - t0 : idle_ms));
	int64_t ka_ms = closed_after(keep_alive, t_answered, 6000, false);
	cr_assert(ka_ms >= 1500, "an idle keep-alive connection: still open %lld ms after its answer (or closed early)",
	          (long long)(ka_ms < 0 ? hl_now_ms() - t_answered : ka_ms));
	sock_close(idle), sock_close(drip), sock_close(keep_alive);

	/* the stream has now been open well past the 2 s: it still gets alerts */
	int64_t left = t0 + 5000 - hl_now_ms();
	if (left > 0)
		hl_sleep_ms((int)left);
	int64_t a2 = transfer_loop(d, 2, "+8613800000082");
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && ev.id == a2, "the stream was cut: %lld", (long long)ev.id);
	cr_assert_eq(http("GET", "/v1/board", VIEW, NULL)->status, 200, "and the others are still served");
}
