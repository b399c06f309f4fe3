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
 *     receiving alerts and other clients are served meanwhile;
 *   - connections past http.max_connections must be refused at once (503,
 *     closed), while the open ones - an alert stream, an idle connection,
 *     a keep-alive one - are still served, and a slot freed by a close
 *     must be usable again.  The daemon's own figures (`stats` over the
 *     Unix socket, which the HTTP cap does not touch) say when it has seen
 *     a connection open or close, so the test waits on them, not on sleeps;
 *   - every error must be the API's JSON, whatever the client got wrong: a
 *     request evhttp refuses before any callback (a malformed line or
 *     header, a head over 64 KiB, a body over http.max_body, an unknown
 *     Expect; also as the second request of a keep-alive connection) and
 *     a method a path does not serve (405 with Allow) or nobody knows (501)
 *     - libevent answered those with its HTML page.  Each is sent by hand
 *     on its own socket and the test reads to the close.
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

/* ------------------------------------------------- http.max_connections */

/* The `stats` figure `key`, asked over the event socket. */
static int64_t stat_of(struct hl_conn *c, const char *key)
{
	char path[96];
	snprintf(path, sizeof path, "stats.%s", key);
	return hl_jint(hl_requestf(c, "{\"type\":\"stats\",\"id\":\"%s\"}", hl_uid("st")), path);
}

/* Wait until the daemon reports `key` = want (it has seen a connection open or close). */
static void await_stat(struct hl_conn *c, const char *key, int64_t want)
{
	int64_t end = hl_now_ms() + HL_TIMEOUT_MS, v;
	while ((v = stat_of(c, key)) != want) {
		cr_assert_lt(hl_now_ms(), end, "stats %s is %lld, never %lld", key, (long long)v, (long long)want);
		hl_sleep_ms(20);
	}
}

/* One keep-alive GET on an open connection; its status (the answer read
 * whole, by its Content-Length, so the connection can carry the next one). */
static int keep_alive_get(int fd, const char *path)
{
	char req[256], buf[8192];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n", path, http_port, VIEW);
	send_all(fd, req, (size_t)n);
	size_t len = 0;
	int64_t end = hl_now_ms() + HL_TIMEOUT_MS;
	for (;;) {
		buf[len] = '\0';
		char *sep = strstr(buf, "\r\n\r\n");
		const char *cl = sep ? strcasestr(buf, "\r\nContent-Length:") : NULL;
		if (sep && cl && cl < sep && len - (size_t)(sep + 4 - buf) >= strtoul(cl + 17, NULL, 10))
			break;
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(end - hl_now_ms());
		cr_assert(left > 0 && poll(&p, 1, left) == 1, "no answer to GET %s on an open connection", path);
		ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
		cr_assert_gt(r, 0, "an open connection was closed instead of answering GET %s", path);
		len += (size_t)r;
	}
	int status = 0;
	cr_assert(sscanf(buf, "HTTP/1.1 %d", &status) == 1, "%s", buf);
	return status;
}

/* What the daemon sends on fd until it closes it; NULL if still open after timeout_ms. */
static const char *read_to_eof(int fd, int timeout_ms)
{
	char *buf = keep(malloc(4096));
	size_t len = 0;
	int64_t end = hl_now_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(end - hl_now_ms());
		if (left <= 0 || poll(&p, 1, left) != 1)
			return NULL;
		ssize_t r = recv(fd, buf + len, 4095 - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
		cr_assert_lt(len, 4095, "more than an error answer");
	}
	buf[len] = '\0';
	return buf;
}

/* A transfer_loop alert raised through the event socket (the HTTP slots are
 * all taken when it is needed); its id. */
static int64_t transfer_loop_socket(struct hl_d *d, struct hl_conn *c)
{
	json_object *r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"mc-off\",\"call_id\":\"mc-c\","
	                               "\"caller\":\"+8613800000091\"}");
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	int64_t case_id = hl_jint(r, "case_id");
	const char *dept[] = { "roads", "water" };
	for (int i = 0; i < 2; i++) {
		r = hl_requestf(c, "{\"type\":\"case.transfer\",\"id\":\"mc-tr-%d\",\"case_id\":%lld,\"department\":\"%s\"}",
		                i, (long long)case_id, dept[i]);
		cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	}
	return hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE kind = 'transfer_loop' AND case_id = %lld",
	                  (long long)case_id);
}

/* http.max_connections = 3: three open connections (a stream, an idle one, a
 * keep-alive one), the next is answered 503 and closed at once - whether it
 * sent its request or not - and is not counted; the three are still served;
 * after one closes a new connection is served again */
HL_TEST(http_hostile, max_connections_refuses_the_excess)
{
	struct hl_d *d = up("max_connections = 3;", "alerts = { transfer_limit = 1; };", NULL);
	struct hl_conn *c = hl_conn_unix(d);
	/* wait_http's probe holds a slot until the daemon has accepted it and
	 * seen it closed; an answered request, accepted after it, orders that */
	cr_assert_eq(http("GET", "/v1/board", VIEW, NULL)->status, 200);
	await_stat(c, "http_connections", 0);

	struct sse *s = sse_open("/v1/alerts/stream", VIEW, 0);
	await_stat(c, "sse_clients", 1);
	int idle = tcp_connect(http_port, 0);
	int keep_alive = tcp_connect(http_port, 0);
	cr_assert_eq(keep_alive_get(keep_alive, "/healthz"), 200);
	cr_assert_eq(stat_of(c, "http_connections"), 3);

	/* the fourth, silent: the daemon does not wait for its request */
	int64_t t0 = hl_now_ms();
	const char *a = read_to_eof(tcp_connect(http_port, 0), 5000);
	cr_assert_not_null(a, "the connection past the limit is still open after 5 s");
	cr_assert_lt(hl_now_ms() - t0, 2000, "refused, but only after %lld ms", (long long)(hl_now_ms() - t0));
	cr_assert(strncmp(a, "HTTP/1.1 503 ", 13) == 0, "%s", a);
	cr_assert(strstr(a, "\r\nRetry-After: 5\r\n") && strstr(a, "\r\nConnection: close\r\n"), "%s", a);
	cr_assert(strstr(a, "{\"error\":{\"code\":\"busy\",\"message\":\"too many connections\"}}"), "%s", a);
	/* the fifth sends its request at once, as curl does: the same answer */
	struct hres *r = http("GET", "/healthz", NULL, NULL);
	cr_assert_eq(r->status, 503, "%s %s", r->head, r->body);
	cr_assert_str_eq(header(r, "Retry-After"), "5");
	/* the sixth sends its request and reads the answer only later: the
	 * answer is still there (the daemon read the request before closing:
	 * no reset destroying the answer unread) */
	int late = tcp_connect(http_port, 0);
	char big[3000];
	int bn = snprintf(big, sizeof big, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: %02000d\r\n\r\n", 0);
	send_all(late, big, (size_t)bn);
	hl_sleep_ms(300);
	a = read_to_eof(late, 5000);
	cr_assert_not_null(a);
	cr_assert(strncmp(a, "HTTP/1.1 503 ", 13) == 0, "the answer to a request sent at once was lost: [%s]", a);
	cr_assert_eq(stat_of(c, "http_connections_rejected"), 3);
	cr_assert_eq(stat_of(c, "http_connections"), 3, "a refused connection is not counted");

	/* the open connections are served: the idle one's first request, the
	 * keep-alive one's second, a new alert on the stream */
	cr_assert_eq(keep_alive_get(idle, "/healthz"), 200);
	cr_assert_eq(keep_alive_get(keep_alive, "/v1/board"), 200);
	int64_t alert = transfer_loop_socket(d, c);
	struct sse_ev ev;
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && ev.id == alert, "the stream: %lld, not alert %lld", (long long)ev.id,
	          (long long)alert);

	/* a slot freed: served again */
	sock_close(idle);
	await_stat(c, "http_connections", 2);
	cr_assert_eq(http("GET", "/v1/board", VIEW, NULL)->status, 200);
	cr_assert_eq(stat_of(c, "http_connections_rejected"), 3);
	cr_assert(strstr(hl_d_log(d), "http: connection from 127.0.0.1:"), "no warning in the log");
	cr_assert(strstr(hl_d_log(d), "refused: too many connections (http.max_connections = 3;"), "%s", hl_d_log(d));
}

/* One client's big body does not stall the others.  A POST /v1/events of
 * some 10,000 events (under the default http.max_body) goes to the store a
 * window of listen.max_inflight at a time, as a socket client's pipelined
 * lines do: an event sent on the socket meanwhile waits behind at most a
 * window, not behind the whole body, and no client's input is paused for
 * the backlog.  Before, the body was queued at once: the socket's event was
 * answered only when the whole body was, and the store paused the reading
 * of every socket ("items queued, pausing input"). */
HL_TEST(http_hostile, big_event_body_does_not_stall_other_clients)
{
	struct hl_d *d = up(NULL, NULL, NULL);
	enum { N = 10000 };
	size_t len;
	int fd = post_offered_raw("big", N, 8613900000000LL, 3000, &len);
	cr_assert_lt(len, 1048576, "the body must fit the default http.max_body");

	/* once the body's first events are committed, one event on the socket */
	struct hl_conn *c = after_first_commit(d);
	int64_t t0 = hl_now_ms();
	json_object *r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"small-1\",\"call_id\":\"small-1\","
	                               "\"caller\":\"+8613800000001\"}");
	int64_t waited = hl_now_ms() - t0;
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));

	/* the body's answer: every event ok */
	char *resp = read_to_close(fd, (size_t)N * 128, 60000, "no complete answer to the big body");
	int64_t body_left = hl_now_ms() - t0;
	cr_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0, "%.200s", resp);
	int oks = 0;
	for (const char *p = resp; (p = strstr(p, "\"ok\":true")); p++)
		oks++;
	cr_assert_eq(oks, N);
	cr_assert_lt(waited * 2, body_left, "the socket's event waited %lld ms, the body's answer came %lld ms after it was sent:"
	             " it waited behind the whole body", (long long)waited, (long long)body_left);
	cr_assert(!strstr(hl_d_log(d), "pausing input"), "one client's body paused every client's input");
}

/* ------------------------------------------------ errors evhttp answers itself */

/* `req` sent as it is on a new connection; the whole answer (the daemon
 * closes after every one of these) split into status, head and body. */
static struct hres *raw(const char *req, size_t len)
{
	int fd = tcp_connect(http_port, 0);
	send_all(fd, req, len);
	char *buf = read_to_close(fd, 1 << 16, HL_TIMEOUT_MS, req);
	sock_close(fd);
	struct hres *r = keep(calloc(1, sizeof *r));
	char *sep = strstr(buf, "\r\n\r\n");
	cr_assert(sep, "no HTTP answer to %.80s: %s", req, buf);
	*sep = '\0';
	r->head = buf;
	r->body = sep + 4;
	cr_assert(sscanf(buf, "HTTP/1.%*d %d", &r->status) == 1, "bad status line: %s", buf);
	return r;
}

/* The API's error, not libevent's HTML page: the status, JSON by its
 * Content-Type and its body, {"error":{"code":CODE,"message":...}}. */
static void json_error(const struct hres *r, int status, const char *code, const char *what)
{
	cr_assert_eq(r->status, status, "%s: %s\n\n%s", what, r->head, r->body);
	const char *type = header(r, "Content-Type");
	cr_assert(type && strcmp(type, "application/json") == 0, "%s: Content-Type %s", what, type ? type : "(none)");
	json_object *o = json_tokener_parse(r->body), *e, *c, *m;
	cr_assert(o, "%s: not JSON: %s", what, r->body);
	cr_assert(json_object_object_get_ex(o, "error", &e) && json_object_object_get_ex(e, "code", &c) &&
	          json_object_object_get_ex(e, "message", &m), "%s: %s", what, r->body);
	cr_assert_str_eq(json_object_get_string(c), code, "%s: %s", what, r->body);
	cr_assert_gt(strlen(json_object_get_string(m)), 0);
	const char *len = header(r, "Content-Length");
	cr_assert(len && (size_t)atoi(len) == strlen(r->body), "%s: Content-Length %s for %zu bytes", what,
	          len ? len : "(none)", strlen(r->body));
	json_object_put(o);
}

static struct hres *raw_str(const char *req) { return raw(req, strlen(req)); }

/* what evhttp refuses before any callback - a body over http.max_body, a
 * head over 64 KiB, a request line or header it cannot parse, an Expect it
 * does not know - is answered in the API's JSON (it was libevent's HTML
 * page), with the status libevent chose, and the daemon serves the others */
HL_TEST(http_hostile, libevent_refusals_are_json)
{
	struct hl_d *d = up("max_body = 4096;", NULL, NULL);
	char req[1024];
	/* a body announced over http.max_body (not sent: its refusal comes first) */
	snprintf(req, sizeof req, "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n" ING "\r\n");
	json_error(raw_str(req), 413, "too_large", "Content-Length over max_body");
	/* chunked: a chunk that would pass it */
	snprintf(req, sizeof req, "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n" ING
	         "\r\n2000\r\n");
	json_error(raw_str(req), 413, "too_large", "chunked body over max_body");
	/* with Expect: 100-continue: refused instead of the 100 */
	snprintf(req, sizeof req, "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n"
	         "Expect: 100-continue\r\n" ING "\r\n");
	json_error(raw_str(req), 413, "too_large", "Expect: 100-continue over max_body");
	/* malformed request lines and headers */
	json_error(raw_str("GARBAGE\r\n\r\n"), 400, "bad_request", "a request line of one word");
	json_error(raw_str("GET /v1/board HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n"), 400, "bad_request", "HTTP/9.9");
	json_error(raw_str("GET /v1/board HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n"), 400, "bad_request",
	           "a header line without a colon");
	json_error(raw_str("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12abc\r\n" ING "\r\n"), 400,
	           "bad_request", "a Content-Length that is no number");
	/* (libevent's page says HTTP/1.1 to a 1.0 client too: evhttp_send_page_) */
	json_error(raw_str("GET /v1/board HTTP/1.0\r\nno colon here\r\n\r\n"), 400, "bad_request", "HTTP/1.0");
	/* an Expect evhttp does not know */
	json_error(raw_str("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: telepathy\r\nContent-Length: 2\r\n" ING
	                   "\r\n{}"),
	           417, "expectation_failed", "Expect: telepathy");
	/* a head over 64 KiB, all of it sent (what is left unread when the
	 * daemon closes would make the close a reset, which may destroy the
	 * answer before the test reads it) */
	size_t big = 66 * 1024;
	char *head = keep(malloc(big + 128));
	int n = snprintf(head, 128, "GET /v1/board HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ");
	memset(head + n, 'a', big);
	json_error(raw(head, (size_t)n + big), 400, "bad_request", "a head over 64 KiB");
	/* HEAD too (libevent 2.1 sends its page's body even then, so the JSON
	 * body goes with it) */
	json_error(raw_str("HEAD /v1/board HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n"), 400, "bad_request",
	           "HEAD");
	/* nothing of it was taken for an event, and the others are served */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 0);
	cr_assert_eq(http("GET", "/v1/board", VIEW, NULL)->status, 200);
	cr_assert_eq(http("POST", "/v1/events", ING, "{\"type\":\"call.offered\",\"id\":\"ok1\",\"call_id\":\"ok1\","
	                  "\"caller\":\"+8613800000001\"}")->status, 200);
}

/* a refused request after an answered one on the same keep-alive connection:
 * the first answer is untouched, the refusal is JSON */
HL_TEST(http_hostile, libevent_refusal_after_keepalive_answer_is_json)
{
	up("max_body = 4096;", NULL, NULL);
	char req[512];
	int n = snprintf(req, sizeof req, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
	                 "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n" ING "\r\n");
	int fd = tcp_connect(http_port, 0);
	send_all(fd, req, (size_t)n);
	char *buf = read_to_close(fd, 1 << 16, HL_TIMEOUT_MS, "two answers");
	sock_close(fd);
	cr_assert(strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "%s", buf);
	char *second = strstr(buf + 1, "HTTP/1.1 ");
	cr_assert(second, "%s", buf);
	cr_assert(strstr(buf, "hotlined_") && strstr(buf, "hotlined_") < second, "the first answer: %s", buf);
	struct hres r = { 0 };
	char *sep = strstr(second, "\r\n\r\n");
	cr_assert(sep, "%s", second);
	*sep = '\0';
	r.head = second;
	r.body = sep + 4;
	cr_assert(sscanf(second, "HTTP/1.%*d %d", &r.status) == 1);
	json_error(&r, 413, "too_large", "the second request of a keep-alive connection");
}

/* methods: one libevent knows but the path does not serve is 405 with
 * Allow (it was libevent's 501 HTML for PUT, OPTIONS, ...), one it does not
 * know is 501, both JSON */
HL_TEST(http_hostile, methods_are_answered_in_json)
{
	up(NULL, NULL, NULL);
	static const struct { const char *method, *path, *allow; } m405[] = {
		{ "PUT", "/v1/events", "POST" },         { "PATCH", "/v1/board", "GET, HEAD" },
		{ "DELETE", "/v1/cases/1", "GET, HEAD" }, { "OPTIONS", "/", "GET, HEAD" },
		{ "POST", "/metrics", "GET, HEAD" },     { "DELETE", "/healthz", "GET, HEAD" },
		{ "PUT", "/v1/session", "GET, POST, DELETE" }, { "TRACE", "/v1/alerts/stream", "GET" },
		{ "GET", "/v1/alerts/1/ack", "POST" },
	};
	for (size_t i = 0; i < sizeof m405 / sizeof m405[0]; i++) {
		char what[64];
		snprintf(what, sizeof what, "%s %s", m405[i].method, m405[i].path);
		struct hres *r = http(m405[i].method, m405[i].path, SUP, NULL);
		json_error(r, 405, "method_not_allowed", what);
		const char *allow = header(r, "Allow");
		cr_assert(allow && strcmp(allow, m405[i].allow) == 0, "%s: Allow %s", what, allow ? allow : "(none)");
	}
	/* a method libevent does not know: 501, and the connection is closed */
	json_error(raw_str("FOO /v1/board HTTP/1.1\r\nHost: 127.0.0.1\r\n" VIEW "\r\n"), 501, "not_implemented", "FOO");
	struct hres *r = raw_str("get /v1/board HTTP/1.1\r\nHost: 127.0.0.1\r\n" VIEW "\r\n");
	json_error(r, 501, "not_implemented", "lower-case get");
	const char *conn = header(r, "Connection");
	cr_assert(conn && strcasecmp(conn, "close") == 0, "%s", r->head);
	/* the daemon's own paths still serve their methods */
	cr_assert_eq(http("GET", "/metrics", NULL, NULL)->status, 200);
	cr_assert_eq(http("HEAD", "/metrics", NULL, NULL)->status, 200);
	cr_assert_eq(http("GET", "/v1/board", VIEW, NULL)->status, 200);
}

/* A body over http.max_body sent whole before the answer is read, as most
 * HTTP libraries send without `Expect: 100-continue`: evhttp answers 413 on
 * the head and closes without reading the body, and the bytes that reached
 * the closed socket made the kernel answer with a reset.  The client's send
 * then failed (ECONNRESET or EPIPE) - a library that sends its body before
 * it reads (Python's requests, most) reports "connection reset" and never
 * reads the 413 - and where the reset came before the answer (a lost
 * segment), the answer was gone too.  The daemon now keeps draining such a
 * socket for a moment after its error answer (a lingering close,
 * http_conn.c): the whole body is sent, then the 413 read. */
HL_TEST(http_hostile, a_body_sent_whole_past_max_body_still_reads_its_413)
{
	struct hl_d *d = up("max_body = 4096;", NULL, NULL);
	enum { BODY = 6 << 20 };
	char *body = keep(malloc(BODY));
	memset(body, ' ', BODY);
	for (int round = 0; round < 3; round++) {
		int fd = tcp_connect(http_port, 0);
		char head[256];
		int n = snprintf(head, sizeof head, "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n"
		                 ING "\r\n", BODY);
		/* head and body, all of it, before reading anything */
		cr_assert_eq(send(fd, head, (size_t)n, MSG_NOSIGNAL), n);
		size_t off = 0;
		while (off < BODY) {
			ssize_t w = send(fd, body + off, BODY - off, MSG_NOSIGNAL);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		cr_assert_eq(off, (size_t)BODY, "round %d: the body's send failed after %zu bytes: %s", round, off,
		             strerror(errno));
		char buf[4096];
		size_t got = 0;
		struct pollfd p = { fd, POLLIN, 0 };
		while (got < sizeof buf - 1 && poll(&p, 1, HL_TIMEOUT_MS) == 1) {
			ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		buf[got] = '\0';
		cr_assert(strncmp(buf, "HTTP/1.1 413", 12) == 0 && strstr(buf, "\"too_large\""),
		          "round %d: no 413 read (%zu bytes: %.80s; %s)", round, got, buf, strerror(errno));
		sock_close(fd);
	}
	/* the daemon serves the others meanwhile */
	cr_assert_eq(http("GET", "/v1/board", VIEW, NULL)->status, 200);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 0);
}

/* HEAD is served wherever GET is (Allow: GET, HEAD), and an answer to HEAD
 * has no body (RFC 9110 9.3.2): a client reads the head and takes the next
 * bytes as the next answer on the connection.  libevent 2.1 leaves out
 * Content-Length for HEAD but sent the body anyway, so a keep-alive client
 * (a monitoring probe, a proxy's health check) then read the board's JSON
 * as the status line of its next answer.  Now every answer to HEAD is its
 * head alone, with the Content-Length a GET would have. */
HL_TEST(http_hostile, head_answers_carry_no_body)
{
	up(NULL, NULL, NULL);
	struct hres *r = post_events("{\"type\":\"call.offered\",\"id\":\"h1\",\"call_id\":\"h1\",\"caller\":\"+8613800000001\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	static const char *const paths[] = { "/healthz", "/metrics", "/", "/wallboard.js", "/v1/board", "/v1/cases/1",
		                             "/v1/figures", "/v1/session", "/v1/cases/99", "/v1/alerts/stream",
		                             "/nowhere" };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		/* the stream and the session serve GET only: their 405 has no body either */
		bool get_only = strcmp(paths[i], "/v1/alerts/stream") == 0 || strcmp(paths[i], "/v1/session") == 0;
		struct hres *g = get_only ? NULL : http("GET", paths[i], VIEW, NULL);
		struct hres *h = http("HEAD", paths[i], VIEW, NULL);
		cr_assert_eq(h->status, get_only ? 405 : g->status, "HEAD %s: %s", paths[i], h->head);
		cr_assert_str_eq(h->body, "", "HEAD %s sent a body: %s", paths[i], h->body);
		const char *len = header(h, "Content-Length");
		if (!get_only && strcmp(paths[i], "/metrics") != 0 && strcmp(paths[i], "/healthz") != 0)
			cr_assert(len && (size_t)atoi(len) == strlen(g->body), "HEAD %s: Content-Length %s, GET has %zu",
			          paths[i], len ? len : "(none)", strlen(g->body));
	}
	/* on one keep-alive connection: the answer to HEAD, then the next one */
	const char *two = "HEAD /v1/board HTTP/1.1\r\nHost: 127.0.0.1\r\n" VIEW "\r\n"
	                  "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	int fd = tcp_connect(http_port, 0);
	send_all(fd, two, strlen(two));
	char *all = read_to_close(fd, 1 << 18, HL_TIMEOUT_MS, "HEAD then GET");
	sock_close(fd);
	char *end = strstr(all, "\r\n\r\n");
	cr_assert(end && strncmp(all, "HTTP/1.1 200", 12) == 0, "%s", all);
	cr_assert(strncmp(end + 4, "HTTP/1.1 200", 12) == 0, "the next answer does not follow the head: %s", end + 4);
	cr_assert(strstr(end + 4, "\r\n\r\nok\n"), "%s", end + 4);
}

/* Two Content-Length headers that disagree: the body's end cannot be known,
 * and a proxy in front that takes the other one would see another request
 * boundary (request smuggling).  RFC 9112 6.3: answer 400 and close.
 * libevent 2.1 took the first one and left the rest of the body on the
 * connection, parsed as the next request. */
HL_TEST(http_hostile, conflicting_content_lengths_are_refused)
{
	struct hl_d *d = up(NULL, NULL, NULL);
	/* the first length covers `{}`; the second the whole event, which would
	 * otherwise be the next "request" */
	const char *ev = "{}{\"type\":\"call.offered\",\"id\":\"cl1\",\"call_id\":\"cl1\",\"caller\":\"+8613800000001\"}";
	char req[1024];
	snprintf(req, sizeof req,
	         "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n" ING "Content-Length: 2\r\nContent-Length: %zu\r\n\r\n%s",
	         strlen(ev), ev);
	struct hres *r = raw_str(req);
	json_error(r, 400, "bad_request", "two Content-Length");
	const char *conn = header(r, "Connection");
	cr_assert(conn && strcasecmp(conn, "close") == 0, "%s", r->head);
	cr_assert(!strstr(r->body, "HTTP/1.1"), "a second answer followed: %s", r->body);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 0, "nothing was stored");
	/* one Content-Length, or two that agree, is served as before */
	snprintf(req, sizeof req,
	         "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n" ING "Content-Length: %zu\r\nContent-Length: %zu\r\n"
	         "Connection: close\r\n\r\n%s", strlen(ev + 2), strlen(ev + 2), ev + 2);
	r = raw_str(req);
	cr_assert_eq(r->status, 200, "%s\n\n%s", r->head, r->body);
	cr_assert(strstr(r->body, "\"ok\":true"), "%s", r->body);
}
