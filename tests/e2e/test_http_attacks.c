/*
 * test_http_attacks.c - the HTTP listener against an attacker in front of or
 * behind a proxy, and one without a token (CONTRACT.md section 7; review-http3).
 *
 * Design.  As test_http_hostile.c (whose file is at its size limit): a real
 * hotlined with http.listen and one token per role, requests written by
 * hand on their own sockets and read to the close, the database and the
 * daemon's log as the ground truth.  Each test is one way in:
 *   - request smuggling by Transfer-Encoding: a request with both
 *     Transfer-Encoding and Content-Length, or a Transfer-Encoding other
 *     than chunked, is framed one way by libevent and perhaps another by a
 *     proxy in front (RFC 9112 6.1): it must be refused and the connection
 *     closed, so that no second request is read from its body; so is a
 *     Content-Length that is not digits alone ("+5");
 *   - a client without a token flooding the sign-in form must not flood
 *     the log (one warning a second, with a count), while sign-ins go on.
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

TestSuite(http_attacks, .init = hl_e2e_init, .fini = http_fini, .timeout = 120);

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* libevent 2.1 takes Transfer-Encoding: chunked over a Content-Length, and
 * any other Transfer-Encoding ("gzip, chunked", "chunked, identity") as
 * none, reading Content-Length bytes, and keeps the connection.  A proxy
 * that frames the same bytes the other way passes a second request hidden
 * in the first one's body - here an event - that the daemon then runs
 * with the proxy's credentials.  Before, each of these was answered 200
 * and its hidden request too. */
HL_TEST(http_attacks, ambiguous_transfer_encoding_is_refused_and_closed)
{
	struct hl_d *d = up(NULL, NULL, NULL);
	static const char *const te[] = {
		"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
		"Transfer-Encoding: gzip, chunked\r\n",
		"Transfer-Encoding: chunked, identity\r\n",
		"Transfer-Encoding: identity\r\nContent-Length: 0\r\n",
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
	};
	for (size_t i = 0; i < sizeof te / sizeof te[0]; i++) {
		char ev[200], req[2048];
		int el = snprintf(ev, sizeof ev, "{\"type\":\"call.offered\",\"id\":\"smug-%zu\",\"call_id\":\"smug-%zu\","
		                  "\"caller\":\"+8613800000001\"}\n", i, i);
		/* a chunked body holding one event, then a second request */
		int n = snprintf(req, sizeof req,
		                 "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" ING "%s\r\n"
		                 "%x\r\n%s\r\n0\r\n\r\n"
		                 "GET /v1/board HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" VIEW "Connection: close\r\n\r\n",
		                 http_port, te[i], el, ev, http_port);
		int fd = tcp_connect(http_port, 0);
		send_all(fd, req, (size_t)n);
		char *resp = read_to_close(fd, 1 << 16, 5000, te[i]);
		sock_close(fd);
		cr_assert(strncmp(resp, "HTTP/1.1 400 ", 13) == 0, "%s:\n%s", te[i], resp);
		/* libevent refuses some of these itself (its 400 cannot say why) */
		cr_assert(strstr(resp, "\"bad_request\"") && strstr(resp, "Connection: close"), "%s:\n%s", te[i], resp);
		cr_assert_eq(count(resp, "HTTP/1."), 1, "nothing more is read from the connection: %s:\n%s", te[i], resp);
		cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 'smug-%zu'", i), 0,
		             "%s: nothing stored", te[i]);
	}
	/* a Content-Length is digits only: libevent read "+N" as N */
	char evp[] = "{\"type\":\"call.offered\",\"id\":\"plus-1\",\"call_id\":\"plus-1\",\"caller\":\"+8613800000003\"}\n";
	char reqp[1024];
	int np = snprintf(reqp, sizeof reqp,
	                  "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" ING "Content-Length: +%zu\r\n\r\n%s",
	                  http_port, strlen(evp), evp);
	int fdp = tcp_connect(http_port, 0);
	send_all(fdp, reqp, (size_t)np);
	char *rp = read_to_close(fdp, 1 << 16, 5000, "Content-Length: +N");
	cr_assert(strncmp(rp, "HTTP/1.1 400 ", 13) == 0 && strstr(rp, "Connection: close"), "%s", rp);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 'plus-1'"), 0);
	/* chunked alone is HTTP/1.1's own framing, and served */
	char ev[] = "{\"type\":\"call.offered\",\"id\":\"chunk-1\",\"call_id\":\"chunk-1\",\"caller\":\"+8613800000002\"}\n";
	char req[1024];
	int n = snprintf(req, sizeof req,
	                 "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" ING
	                 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
	                 http_port, strlen(ev), ev);
	int fd = tcp_connect(http_port, 0);
	send_all(fd, req, (size_t)n);
	char *resp = read_to_close(fd, 1 << 16, 5000, "chunked");
	cr_assert(strncmp(resp, "HTTP/1.1 200 ", 13) == 0 && strstr(resp, "\"ok\":true"), "%s", resp);
}

/* Each failed sign-in was logged as a warning: anyone who can reach the
 * page could write a line into the log per request (thousands a second),
 * drowning what an operator must see and filling the journal's rate limit.
 * Now at most one line a second, with how many failed since. */
HL_TEST(http_attacks, failed_sign_ins_do_not_flood_the_log)
{
	struct hl_d *d = up(NULL, NULL, NULL);
	for (int i = 0; i < 60; i++) {
		struct hres *r = http("POST", "/v1/session", "Content-Type: application/json\r\n", "{\"token\":\"guess\"}");
		cr_assert_eq(r->status, 401, "%s", r->body);
	}
	struct hres *r = http("POST", "/v1/session", "Content-Type: application/json\r\n", "{\"token\":\"view-token\"}");
	cr_assert_eq(r->status, 200, "the right token still signs in: %s", r->body);
	hl_sleep_ms(1200);
	cr_assert_eq(http("POST", "/v1/session", "Content-Type: application/json\r\n", "{\"token\":\"guess\"}")->status,
	             401);
	const char *log = hl_d_log(d);
	int lines = count(log, "sign-in with a token that is not configured");
	cr_assert(lines >= 1 && lines <= 4, "%d lines:\n%s", lines, log);
	cr_assert(strstr(log, "refused since the last report"), "the count of those not logged is said:\n%s", log);
}
