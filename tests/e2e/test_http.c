/*
 * test_http.c - end-to-end tests of the HTTP API and the wallboard's server side (CONTRACT.md section 7).
 *
 * Design.  A real hotlined with http.listen on a free port and tokens of the
 * three roles; requests are plain HTTP/1.1 over a blocking socket
 * (`Connection: close`, so a response ends at EOF) and the alert stream is
 * read as HTTP/1.0 (no chunked framing: the raw bytes are the event
 * stream; the client is tests/e2e/http_client.h).  The database is the
 * ground truth for what an answer claims.
 * Everything a test allocates is recorded and freed by the suite's .fini,
 * and sockets are closed there too, so an aborted test leaks nothing.
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

TestSuite(http, .init = hl_e2e_init, .fini = http_fini, .timeout = 120);

#define TOP_LOOP "alerts = { transfer_limit = 1; };"

/* ================================================================ tests */

/* every endpoint: 401 without or with a wrong token, 403 for a role that may not */
HL_TEST(http, tokens_and_roles)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	(void)d;
	struct hres *r = http("GET", "/v1/board", NULL, NULL);
	cr_assert_eq(r->status, 401);
	cr_assert(header(r, "WWW-Authenticate"), "401 names the scheme");
	cr_assert_eq(http("GET", "/v1/board", "Authorization: Bearer sup-tokeN\r\n", NULL)->status, 401);
	cr_assert_eq(http("GET", "/v1/board", "Authorization: Bearer sup-token-longer\r\n", NULL)->status, 401);
	cr_assert_eq(http("GET", "/v1/board", VIEW, NULL)->status, 200);
	cr_assert_eq(http("GET", "/v1/board", SUP, NULL)->status, 200);
	cr_assert_eq(http("GET", "/v1/board", ING, NULL)->status, 403, "ingest may only POST events");
	cr_assert_eq(http("GET", "/v1/figures", ING, NULL)->status, 403);
	cr_assert_eq(http("GET", "/v1/cases/1", ING, NULL)->status, 403);
	cr_assert_eq(http("GET", "/v1/alerts/stream", ING, NULL)->status, 403);
	cr_assert_eq(http("POST", "/v1/events", VIEW, "{}")->status, 403);
	cr_assert_eq(http("POST", "/v1/events", SUP, "{}")->status, 403);
	cr_assert_eq(http("POST", "/v1/events", NULL, "{}")->status, 401);
	cr_assert_eq(http("POST", "/v1/alerts/1/ack", VIEW, NULL)->status, 403, "viewers may not acknowledge");
	cr_assert_eq(http("POST", "/v1/alerts/1/ack", ING, NULL)->status, 403);
	cr_assert_eq(http("POST", "/v1/alerts/1/ack", NULL, NULL)->status, 401);
	cr_assert_eq(http("GET", "/v1/nothing", VIEW, NULL)->status, 404);
	cr_assert_eq(http("GET", "/v1/events", ING, NULL)->status, 405);
	/* a bearer token is not ambient: another origin may use it (a softphone's page) */
	cr_assert_eq(http("POST", "/v1/events", ING "Origin: https://softphone.example\r\n",
	                  "{\"type\":\"call.offered\",\"id\":\"o1\",\"call_id\":\"o1\",\"caller\":\"+8613800000009\"}")->status,
	             200);
	/* the page itself carries no data: it is served without a token */
	cr_assert_eq(http("GET", "/", NULL, NULL)->status, 200);
	cr_assert_eq(http("GET", "/healthz", NULL, NULL)->status, 200);
}

/* the first acknowledgement wins, and the answer says so: a second supervisor
 * acknowledging the same alert is told who acknowledged it first, and when
 * (it used to be told its own name while the row kept the first) */
HL_TEST(http, second_ack_names_the_first_acker)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	int64_t alert = transfer_loop(d, 1, "+8613800000071");
	cr_assert_gt(alert, 0);
	char path[64];
	snprintf(path, sizeof path, "/v1/alerts/%lld/ack", (long long)alert);
	struct hres *r = http("POST", path, SUP, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_object *first = jbody(r);
	cr_assert_str_eq(hl_jstr(first, "acked_by"), "alice", "%s", r->body);

	hl_sleep_ms(20); /* a later ack would have a later time */
	r = http("POST", path, "Authorization: Bearer sup2-token\r\n", NULL);
	cr_assert_eq(r->status, 200, "acknowledging twice is not an error: %s", r->body);
	json_object *o = jbody(r);
	cr_assert_str_eq(hl_jstr(o, "acked_by"), "alice", "the second ack must name the first acker: %s", r->body);
	cr_assert_eq(hl_jint(o, "alert_id"), alert, "%s", r->body);
	/* both answers carry the stored time of the first ack */
	char *stored = keep(strdup(hl_sql_text(d, "SELECT hotline.iso(acked_at) FROM hotline.alerts WHERE id = %lld",
	                                       (long long)alert)));
	cr_assert(hl_jstr(first, "acked_at") && strcmp(hl_jstr(first, "acked_at"), stored) == 0,
	          "first answer's acked_at %s, stored %s", hl_jstr(first, "acked_at"), stored);
	cr_assert(hl_jstr(o, "acked_at") && strcmp(hl_jstr(o, "acked_at"), stored) == 0,
	          "second answer's acked_at %s, stored %s", hl_jstr(o, "acked_at"), stored);
	json_object_put(first);
	json_object_put(o);
	char *by = hl_sql_text(d, "SELECT acked_by FROM hotline.alerts WHERE id = %lld", (long long)alert);
	cr_assert(by && strcmp(by, "alice") == 0, "the row keeps the first ack: %s", by ? by : "NULL");
	/* an unknown alert is still 404 */
	cr_assert_eq(http("POST", "/v1/alerts/987654/ack", SUP, NULL)->status, 404);
}

/* the wallboard's sign-in: an HttpOnly SameSite=Strict cookie; the ack it
 * makes needs the session's CSRF token, and a foreign Origin is refused */
HL_TEST(http, session_cookie_and_csrf)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	int64_t alert = transfer_loop(d, 1, "+8613800000001");
	cr_assert_eq(http("POST", "/v1/session", "Content-Type: application/json\r\n", "{\"token\":\"nope\"}")->status,
	             401);
	struct hres *r = http("POST", "/v1/session", "Content-Type: application/json\r\n", "{\"token\":\"sup-token\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	const char *sc = header(r, "Set-Cookie");
	cr_assert(sc && strstr(sc, "HttpOnly") && strstr(sc, "SameSite=Strict") && strstr(sc, "Path=/"), "%s", sc);
	json_object *o = jbody(r);
	cr_assert_str_eq(hl_jstr(o, "name"), "alice");
	cr_assert_str_eq(hl_jstr(o, "role"), "supervisor");
	char csrf[80], cookie[256], hdr[600];
	snprintf(csrf, sizeof csrf, "%s", hl_jstr(o, "csrf"));
	json_object_put(o);
	snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(sc, ";"), sc);

	/* the cookie alone reads */
	snprintf(hdr, sizeof hdr, "Cookie: theme=dark; %s\r\n", cookie);
	cr_assert_eq(http("GET", "/v1/board", hdr, NULL)->status, 200);
	r = http("GET", "/v1/session", hdr, NULL);
	o = jbody(r);
	cr_assert_str_eq(hl_jstr(o, "csrf"), csrf, "GET /v1/session gives the page its CSRF token");
	json_object_put(o);
	/* a forged cookie does not */
	char forged[300];
	snprintf(forged, sizeof forged, "Cookie: %s\r\n", cookie);
	forged[strlen(forged) - 3] ^= 1; /* the MAC's last hex digit, changed */
	cr_assert_eq(http("GET", "/v1/board", forged, NULL)->status, 401);
	/* no session: 200 with signed_in false (the page asks first) */
	o = jbody(http("GET", "/v1/session", NULL, NULL));
	cr_assert(!hl_jbool(o, "signed_in"));
	json_object_put(o);

	/* the ack: without the CSRF token, with a wrong one, from another origin: refused */
	cr_assert_eq(http("POST", "/v1/alerts/1/ack", hdr, NULL)->status, 403);
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\nX-CSRF-Token: %s\r\n", cookie, csrf);
	hdr[strlen(hdr) - 3] ^= 1; /* the token's last hex digit, changed */
	cr_assert_eq(http("POST", "/v1/alerts/1/ack", hdr, NULL)->status, 403);
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\nX-CSRF-Token: %s\r\nOrigin: http://evil.example\r\n", cookie, csrf);
	cr_assert_eq(http("POST", "/v1/alerts/1/ack", hdr, NULL)->status, 403);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE acked_at IS NOT NULL"), 0);
	/* with both, from our own page: acknowledged by the signed-in name */
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\nX-CSRF-Token: %s\r\nOrigin: http://127.0.0.1:%d\r\n", cookie, csrf,
	         http_port);
	char path[64];
	snprintf(path, sizeof path, "/v1/alerts/%lld/ack", (long long)alert);
	r = http("POST", path, hdr, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	char *by = hl_sql_text(d, "SELECT acked_by FROM hotline.alerts WHERE id = %lld", (long long)alert);
	cr_assert(by && strcmp(by, "alice") == 0, "acked_by %s", by ? by : "NULL");
	/* sign-out clears the cookie */
	sc = header(http("DELETE", "/v1/session", hdr, NULL), "Set-Cookie");
	cr_assert(sc && strstr(sc, "Max-Age=0"));
}

/* POST /v1/events: the socket's replies, one per line, in order, after commit */
HL_TEST(http, events_semantics)
{
	struct hl_d *d = up("max_body = 4096;", NULL, NULL);
	struct hres *r = post_events(
		"{\"type\":\"call.abandoned\",\"id\":\"e1\",\"call_id\":\"c1\",\"caller\":\"+8613800000001\"}\n"
		"{\"type\":\"call.offered\",\"id\":\"e2\",\"call_id\":\"c2\"}\r\n"
		"not json\n"
		"\n"
		"{\"type\":\"call.abandoned\",\"id\":\"e1\",\"call_id\":\"c1\",\"caller\":\"+8613800000001\"}\n"
		"{\"type\":\"ping\",\"id\":\"p1\"}\n"
		"{\"type\":\"case.update\",\"id\":\"e3\",\"case_id\":99999}\n"
		"{\"type\":\"call.answered\",\"id\":\"e4\",\"call_id\":\"c1\",\"agent\":\"a7\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(header(r, "Content-Type"), "application/x-ndjson");
	/* exactly what the socket answers, in order */
	struct hl_conn *c = hl_conn_unix(d);
	const char *want[] = {
		"{\"id\":\"e1\",\"ok\":true,\"case_id\":1}",
		"{\"id\":\"e2\",\"ok\":false,\"error\":{\"code\":\"bad_request\",\"message\":\"caller: missing\"}}",
		NULL, /* bad_json */
		"{\"id\":\"e1\",\"ok\":true,\"duplicate\":true,\"case_id\":1}",
		NULL, /* ping: not an event */
		NULL, /* unknown case */
		"{\"id\":\"e4\",\"ok\":true,\"case_id\":1}",
	};
	const char *codes[] = { NULL, "bad_request", "bad_json", NULL, "bad_request", "unknown_case", NULL };
	char *save = NULL, *line = strtok_r(r->body, "\n", &save);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++, line = strtok_r(NULL, "\n", &save)) {
		cr_assert(line, "reply %zu missing", i);
		if (want[i])
			cr_assert_str_eq(line, want[i]);
		json_object *o = json_tokener_parse(line);
		cr_assert(o, "reply %zu not JSON: %s", i, line);
		if (codes[i])
			cr_assert_str_eq(hl_jstr(o, "error.code"), codes[i], "reply %zu: %s", i, line);
		json_object_put(o);
	}
	cr_assert_null(line, "one reply per event: extra %s", line);
	/* the same duplicate over the socket: the very same answer */
	json_object *o = hl_request(c, "{\"type\":\"call.abandoned\",\"id\":\"e1\",\"call_id\":\"c1\",\"caller\":\"+8613800000001\"}");
	cr_assert(hl_jbool(o, "duplicate"));
	/* answered after commit: the rows are there */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id IN ('e1','e4')"), 2);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 2, "nothing else stored");

	/* one JSON object without a newline */
	r = post_events("{\"type\":\"call.offered\",\"id\":\"e5\",\"call_id\":\"c5\",\"caller\":\"+8613800000005\"}");
	cr_assert_eq(r->status, 200);
	cr_assert(strstr(r->body, "\"id\":\"e5\",\"ok\":true"), "%s", r->body);
	/* an empty body */
	cr_assert_eq(post_events("")->status, 400);
	/* over http.max_body: 413, nothing stored */
	char *big = keep(malloc(6000));
	int n = sprintf(big, "{\"type\":\"call.offered\",\"id\":\"big\",\"call_id\":\"cb\",\"caller\":\"+8613800000006\"}\n");
	memset(big + n, ' ', 5000);
	big[n + 5000] = '\0';
	cr_assert_eq(post_events(big)->status, 413);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = 'big'"), 0);
	/* the connection is still fine afterwards */
	cr_assert_eq(post_events("{\"type\":\"case.close\",\"id\":\"e6\",\"case_id\":1}")->status, 200);
}

/* a thousand events in one body: every one answered, in order, each stored once */
HL_TEST(http, events_many_in_order)
{
	struct hl_d *d = up(NULL, NULL, NULL);
	enum { N = 1000 };
	char *body = keep(malloc(N * 128));
	size_t len = 0;
	for (int i = 0; i < N; i++)
		len += (size_t)sprintf(body + len,
		                       "{\"type\":\"call.offered\",\"id\":\"m-%d\",\"call_id\":\"mc-%d\",\"caller\":\"+86135%08d\"}\n",
		                       i, i, i % 300);
	struct hres *r = post_events(body);
	cr_assert_eq(r->status, 200);
	char *save = NULL, *line = strtok_r(r->body, "\n", &save);
	for (int i = 0; i < N; i++, line = strtok_r(NULL, "\n", &save)) {
		char want[64];
		snprintf(want, sizeof want, "{\"id\":\"m-%d\",\"ok\":true,", i);
		cr_assert(line && strncmp(line, want, strlen(want)) == 0, "reply %d: %s", i, line ? line : "(none)");
	}
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), N);
	/* the same body again: every event a duplicate, nothing new */
	r = post_events(body);
	cr_assert_eq(r->status, 200);
	cr_assert(!strstr(r->body, "\"ok\":false"));
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), N);
}

/* the database cannot be reached: 503 with Retry-After, nothing stored */
HL_TEST(http, events_503_while_database_unreachable)
{
	http_port = free_port();
	char *top = keep(malloc(512));
	snprintf(top, 512, "http = { listen = \"127.0.0.1:%d\"; tokens = ( { token = \"ing-token\"; name = \"pbx\"; "
	         "role = \"ingest\"; }, { token = \"view-token\"; name = \"v\"; role = \"viewer\"; } ); };", http_port);
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .top = top,
		.database = "conninfo = \"host=/nonexistent-hotline-test port=5432 dbname=x user=hotlined\"; "
		            "reconnect_max = \"1s\";" });
	wait_http();
	/* within the first 3 s requests wait for the database, as on the socket; then 503 at once */
	hl_sleep_ms(3500);
	struct hres *r = post_events("{\"type\":\"call.offered\",\"id\":\"u1\",\"call_id\":\"u1\",\"caller\":\"+8613800000001\"}");
	cr_assert_eq(r->status, 503, "%s", r->body);
	cr_assert(header(r, "Retry-After"), "503 says when to retry");
	json_object *o = jbody(r);
	cr_assert_str_eq(hl_jstr(o, "error.code"), "unavailable");
	json_object_put(o);
	cr_assert_eq(http("GET", "/v1/board", VIEW, NULL)->status, 503);
	cr_assert_eq(http("GET", "/v1/alerts/stream", VIEW, NULL)->status, 503);
	cr_assert_eq(http("GET", "/healthz", NULL, NULL)->status, 503);
	(void)d;
}

/* the stream: open alerts, then live ones; Last-Event-ID resumes; acks are events too */
HL_TEST(http, sse_replay_live_resume)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	int64_t a1 = transfer_loop(d, 1, "+8613800000001");
	int64_t a2 = transfer_loop(d, 2, "+8613800000002");
	struct sse *s = sse_open("/v1/alerts/stream", VIEW, 0);
	struct sse_ev ev;
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && ev.id == a1, "replay 1: id %lld", (long long)ev.id);
	cr_assert_eq(s->status, 200);
	json_object *o = json_tokener_parse(ev.data);
	cr_assert(o && hl_jint(o, "id") == a1 && strcmp(hl_jstr(o, "kind"), "transfer_loop") == 0, "%s", ev.data);
	json_object_put(o);
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && ev.id == a2);
	/* live */
	int64_t a3 = transfer_loop(d, 3, "+8613800000003");
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && ev.id == a3, "live alert: %lld", (long long)ev.id);
	/* an acknowledgement is an `ack` event without an id */
	char path[64];
	snprintf(path, sizeof path, "/v1/alerts/%lld/ack", (long long)a1);
	cr_assert_eq(http("POST", path, SUP, NULL)->status, 200);
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && strcmp(ev.event, "ack") == 0 && ev.id == 0, "%s", ev.event);
	cr_assert(strstr(ev.data, "\"acked_by\":\"alice\""), "%s", ev.data);
	/* resume: Last-Event-ID = a2 replays only a3 (a1 is acknowledged anyway) */
	char hdr[128];
	snprintf(hdr, sizeof hdr, VIEW "Last-Event-ID: %lld\r\n", (long long)a2);
	struct sse *s2 = sse_open("/v1/alerts/stream", hdr, 0);
	cr_assert(sse_next(s2, &ev, HL_TIMEOUT_MS) && ev.id == a3);
	cr_assert(!sse_next(s2, &ev, 500), "nothing before a2 again: got %lld", (long long)ev.id);
	/* ?since= does the same (the page's own reconnect) */
	snprintf(path, sizeof path, "/v1/alerts/stream?since=%lld", (long long)a2);
	struct sse *s3 = sse_open(path, VIEW, 0);
	cr_assert(sse_next(s3, &ev, HL_TIMEOUT_MS) && ev.id == a3);
	/* a new alert reaches every stream once */
	int64_t a4 = transfer_loop(d, 4, "+8613800000004");
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && ev.id == a4);
	cr_assert(sse_next(s2, &ev, HL_TIMEOUT_MS) && ev.id == a4);
	cr_assert(sse_next(s3, &ev, HL_TIMEOUT_MS) && ev.id == a4);
	cr_assert(!sse_next(s, &ev, 300));
	json_object *st = hl_request(hl_conn_unix(d), "{\"type\":\"stats\",\"id\":\"st\"}");
	cr_assert_eq(hl_jint(st, "stats.subscribers"), 3, "three streams in the one subscriber list");
}

/* the SSE replay is bounded like the socket's, with a replay event */
HL_TEST(http, sse_replay_bounded)
{
	struct hl_d *d = up(NULL, "alerts = { replay_max = 5; };", NULL);
	hl_sql(d, "INSERT INTO hotline.alerts (kind, caller, level, raised_at, dedupe_key)"
	          " SELECT 'repeat_caller', '+8613900000000', 1, now(), 'bulk:' || g FROM generate_series(1, 40) g");
	int64_t last = hl_sql_int(d, "SELECT max(id) FROM hotline.alerts");
	struct sse *s = sse_open("/v1/alerts/stream", VIEW, 0);
	struct sse_ev ev;
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && strcmp(ev.event, "replay") == 0, "%s %s", ev.event, ev.data);
	cr_assert(strstr(ev.data, "\"omitted\":35"), "%s", ev.data);
	for (int i = 4; i >= 0; i--)
		cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && ev.id == last - i);
}

/* case and figures */
HL_TEST(http, case_and_figures)
{
	struct hl_d *d = up(NULL, NULL, NULL);
	struct hres *r = post_events(
		"{\"type\":\"call.offered\",\"id\":\"f1\",\"call_id\":\"f1\",\"caller\":\"+8613800000001\",\"at\":\"2026-03-02T09:00:00Z\"}\n"
		"{\"type\":\"call.answered\",\"id\":\"f2\",\"call_id\":\"f1\",\"agent\":\"a1\",\"at\":\"2026-03-02T09:00:05Z\"}\n"
		"{\"type\":\"call.abandoned\",\"id\":\"f3\",\"call_id\":\"f3\",\"caller\":\"+8613800000003\",\"at\":\"2026-03-02T10:00:00Z\"}\n");
	cr_assert_eq(r->status, 200);
	r = http("GET", "/v1/cases/1", VIEW, NULL);
	cr_assert_eq(r->status, 200);
	json_object *o = jbody(r);
	cr_assert_eq(hl_jint(o, "id"), 1);
	cr_assert_str_eq(hl_jstr(o, "caller"), "+8613800000001");
	cr_assert_str_eq(hl_jstr(o, "calls.0.agent"), "a1");
	json_object_put(o);
	/* the same as case.get on the socket */
	json_object *g = hl_request(hl_conn_unix(d), "{\"type\":\"case.get\",\"id\":\"g\",\"case_id\":1}");
	o = jbody(r);
	cr_assert_str_eq(json_object_to_json_string(hl_jget(g, "case")), json_object_to_json_string(o));
	json_object_put(o);
	cr_assert_eq(http("GET", "/v1/cases/999", VIEW, NULL)->status, 404);
	cr_assert_eq(http("GET", "/v1/cases/abc", VIEW, NULL)->status, 404);

	hl_sql(d, "ALTER DATABASE %s SET hotline.timezone = 'UTC'", d->dbname);
	r = http("GET", "/v1/figures?day=2026-03-02", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	o = jbody(r);
	cr_assert_str_eq(hl_jstr(o, "day"), "2026-03-02");
	cr_assert_eq(hl_jint(o, "figures.calls_offered"), 2, "%s", r->body);
	cr_assert_eq(hl_jint(o, "figures.answered_within_15s"), 1);
	cr_assert_eq(hl_jint(o, "figures.calls_abandoned"), 1);
	json_object_put(o);
	o = jbody(http("GET", "/v1/figures?day=2026-03-03", VIEW, NULL));
	cr_assert_eq(hl_jint(o, "figures.calls_offered"), 0, "a quiet day is all zeros");
	json_object_put(o);
	o = jbody(http("GET", "/v1/figures", VIEW, NULL));
	cr_assert(hl_jstr(o, "day"), "default: today");
	json_object_put(o);
	cr_assert_eq(http("GET", "/v1/figures?day=2026-02-30", VIEW, NULL)->status, 400);
	cr_assert_eq(http("GET", "/v1/figures?day=yesterday", VIEW, NULL)->status, 400);
	r = http("GET", "/v1/figures?day=1900-01-01", VIEW, NULL); /* a date, out of the range: the message says which */
	cr_assert_eq(r->status, 400);
	cr_assert(strstr(r->body, "from 1970-01-01 to 9999-12-31"), "%s", r->body);
	/* the board has its lists: an order past its reply deadline is shown under its department */
	r = post_events("{\"type\":\"order.dispatch\",\"id\":\"f4\",\"case_id\":1,\"department\":\"roads\","
	                "\"order_id\":\"wo-f\",\"due\":\"1h\",\"at\":\"2026-03-02T11:00:00Z\"}\n");
	cr_assert_eq(r->status, 200);
	cr_assert(strstr(r->body, "\"ok\":true"), "%s", r->body);
	o = jbody(http("GET", "/v1/board", VIEW, NULL));
	cr_assert(json_object_is_type(hl_jget(o, "overdue_callbacks"), json_type_array));
	cr_assert_eq(json_object_array_length(hl_jget(o, "overdue_orders")), 1, "%s",
	             json_object_to_json_string(hl_jget(o, "overdue_orders")));
	cr_assert_str_eq(hl_jstr(o, "overdue_orders.0.department"), "roads");
	cr_assert_str_eq(hl_jstr(o, "overdue_orders.0.orders.0.order_id"), "wo-f");
	cr_assert_str_eq(hl_jstr(o, "overdue_orders.0.orders.0.overdue"), "reply");
	cr_assert(hl_jget(o, "figures.figures"));
	json_object_put(o);
}

/* GET /: strict CSP, nothing from other hosts, language by Accept-Language */
HL_TEST(http, wallboard_page)
{
	up(NULL, NULL, NULL);
	struct hres *r = http("GET", "/", "Accept-Language: zh-CN,zh;q=0.9,en;q=0.8\r\n", NULL);
	cr_assert_eq(r->status, 200);
	const char *csp = header(r, "Content-Security-Policy");
	cr_assert(csp && strstr(csp, "default-src 'self'") && strstr(csp, "script-src 'self'") && !strstr(csp, "unsafe"),
	          "%s", csp);
	cr_assert(strstr(r->body, "<html lang=\"zh-CN\">"));
	cr_assert(!strstr(r->body, "<script>") && !strstr(r->body, " style=\""), "no inline script or style");
	r = http("GET", "/", "Accept-Language: en-GB,en;q=0.9,zh;q=0.5\r\n", NULL);
	cr_assert(strstr(r->body, "<html lang=\"en\">"));
	r = http("GET", "/", NULL, NULL);
	cr_assert(strstr(r->body, "<html lang=\"en\">"));
	const char *assets[] = { "/wallboard.js", "/wallboard.css", "/favicon.svg" };
	for (size_t i = 0; i < 3; i++) {
		r = http("GET", assets[i], NULL, NULL);
		cr_assert_eq(r->status, 200, "%s", assets[i]);
		cr_assert(header(r, "Content-Security-Policy"));
		if (i < 2) /* (the SVG's xmlns is a name, not a request) */
			cr_assert(!strstr(r->body, "https://") && !strstr(r->body, "http://"), "%s names another host",
			          assets[i]);
	}
	cr_assert(strstr(http("GET", "/", NULL, NULL)->body, "https://") == NULL);
	cr_assert_eq(http("GET", "/nothing.js", NULL, NULL)->status, 404);
}

/* without tokens the listener must be on loopback: --check refuses anything else */
HL_TEST(http, no_tokens_needs_loopback)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .no_start = true });
	FILE *f = fopen(d->conf, "a");
	cr_assert(f);
	fprintf(f, "http = { listen = \"0.0.0.0:%d\"; };\n", free_port());
	fclose(f);
	char cmd[512];
	const char *bin = getenv("HOTLINED_BIN") ? getenv("HOTLINED_BIN") : "build/hotlined";
	snprintf(cmd, sizeof cmd, "%s -c %s --check >%s/check.out 2>&1", bin, d->conf, d->dir);
	int st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "--check must refuse (status %d)", st);
	snprintf(cmd, sizeof cmd, "grep -q 'loopback' %s/check.out", d->dir);
	cr_assert_eq(system(cmd), 0, "the message names the rule");
	/* on loopback without tokens: everything allowed, as "local" */
	http_port = free_port();
	char *top = keep(malloc(256));
	snprintf(top, 256, "http = { listen = \"127.0.0.1:%d\"; }; " TOP_LOOP, http_port);
	struct hl_d *d2 = hl_d_up(&(struct hl_e2e_opts){ .top = top });
	wait_http();
	int64_t a = transfer_loop(d2, 1, "+8613800000001");
	char path[64];
	snprintf(path, sizeof path, "/v1/alerts/%lld/ack", (long long)a);
	/* no credentials at all: a foreign page must not act through the browser */
	cr_assert_eq(http("POST", path, "Origin: http://evil.example\r\n", NULL)->status, 403);
	cr_assert_eq(http("POST", path, NULL, NULL)->status, 200);
	char *by = hl_sql_text(d2, "SELECT acked_by FROM hotline.alerts WHERE id = %lld", (long long)a);
	cr_assert(by && strcmp(by, "local") == 0);
	/* DNS rebinding: a foreign page whose name now resolves to 127.0.0.1 is
	 * same-origin to the browser, but its Host names it: refused */
	const char *hosts[] = { "rebound.example", "127.0.0.1.rebound.example", "localhost", "[::1]", "127.0.0.2" };
	for (int i = 0; i < 5; i++) {
		int fd = tcp_connect(http_port, 0);
		char req[256], buf[64] = "";
		int n = snprintf(req, sizeof req, "GET /v1/cases/1 HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
		                 hosts[i], http_port);
		send_all(fd, req, (size_t)n);
		struct pollfd pf = { fd, POLLIN, 0 };
		cr_assert_eq(poll(&pf, 1, HL_TIMEOUT_MS), 1);
		cr_assert_gt(read(fd, buf, sizeof buf - 1), 12);
		sock_close(fd);
		bool refused = strncmp(buf + 9, "401", 3) == 0;
		cr_assert_eq(refused, i < 2, "Host %s: %s", hosts[i], buf);
	}
}

/* a stream that does not read is dropped past listen.max_output; a reading one gets everything */
HL_TEST(http, sse_stalled_client_dropped)
{
	enum { CASES = 6000 };
	struct hl_d *d = up(NULL, NULL, "max_output = 65536;");
	struct sse *good = sse_open("/v1/alerts/stream", VIEW, 0);
	struct sse *stalled = sse_open("/v1/alerts/stream", VIEW, 4096);
	struct sse_ev ev;
	cr_assert(!sse_next(good, &ev, 300)); /* headers read; no alert yet */
	/* callback clocks due long ago: each case alerts at once */
	struct hl_conn *c = hl_conn_unix(d);
	char line[256];
	int got = 0;
	for (int from = 0; from < CASES; from += 100) {
		for (int i = from; i < from + 100; i++) {
			snprintf(line, sizeof line, "{\"type\":\"call.abandoned\",\"id\":\"s-%d\",\"call_id\":\"s-%d\","
			         "\"caller\":\"+86134%08d\",\"at\":\"2020-01-01T00:00:00Z\"}", i, i, i);
			cr_assert_eq(hl_send(c, line), 0);
		}
		for (int i = from; i < from + 100; i++) {
			json_object *r = hl_recv_json(c, HL_TIMEOUT_MS);
			cr_assert(r && hl_jbool(r, "ok"));
		}
		while (sse_next(good, &ev, 50))
			got += ev.id > 0;
	}
	int64_t end = hl_now_ms() + 20000, total = 0;
	while (hl_now_ms() < end) {
		if (sse_next(good, &ev, 300)) {
			got += ev.id > 0;
			continue;
		}
		total = hl_sql_int(d, "SELECT count(*) FROM hotline.alerts");
		if (total >= CASES && got >= total)
			break;
	}
	cr_assert_geq(total, CASES);
	cr_assert_eq(got, total, "the reading stream must get every alert (%d of %lld)", got, (long long)total);
	char *log = hl_d_log(d);
	cr_assert(strstr(log, "SSE client dropped"), "the stalled stream was dropped (and logged)");
	json_object *st = hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}");
	cr_assert_eq(hl_jint(st, "stats.subscribers"), 1, "only the reading stream is left");
	(void)stalled;
}

/* http.tls: HTTPS with listen.tls's certificate (verified by the client); plain HTTP gets nothing */
HL_TEST(http, https_with_the_tcp_certificate)
{
	char *dir = keep(malloc(64));
	snprintf(dir, 64, "/tmp/hl-http-tls-%d", (int)getpid());
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "mkdir -p %s && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
	         "-addext subjectAltName=IP:127.0.0.1 -keyout %s/k.pem -out %s/c.pem >%s/openssl.log 2>&1", dir, dir, dir, dir);
	cr_assert_eq(system(cmd), 0, "openssl req failed");
	char *listen = keep(malloc(512)), *extra = keep(malloc(64));
	snprintf(listen, 512, "tls = { cert = \"%s/c.pem\"; key = \"%s/k.pem\"; };", dir, dir);
	snprintf(extra, 64, "tls = true;");
	up(extra, NULL, listen);

	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char ca[128];
	snprintf(ca, sizeof ca, "%s/c.pem", dir);
	cr_assert_eq(SSL_CTX_load_verify_locations(ctx, ca, NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL *ssl = SSL_new(ctx);
	X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
	int fd = tcp_connect(http_port, 0);
	SSL_set_fd(ssl, fd);
	int ok = SSL_connect(ssl);
	/* a keep-alive request, then one libevent refuses by itself (a header
	 * line without a colon): its refusal is JSON over TLS too */
	char req[256], resp[16384] = { 0 };
	int n = snprintf(req, sizeof req, "GET /v1/board HTTP/1.1\r\nHost: 127.0.0.1\r\n" VIEW "\r\n"
	                 "GET /v1/board HTTP/1.1\r\nno colon here\r\n\r\n");
	int got = 0;
	if (ok == 1 && SSL_write(ssl, req, n) == n) {
		int r;
		while (got < (int)sizeof resp - 1 && (r = SSL_read(ssl, resp + got, (int)sizeof resp - 1 - got)) > 0)
			got += r;
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	sock_close(fd);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(ok, 1, "TLS handshake with the listen.tls certificate");
	cr_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0 && strstr(resp, "overdue_callbacks"), "%s", resp);
	const char *refused = strstr(resp, "HTTP/1.1 400 ");
	cr_assert(refused && strstr(refused, "\r\nContent-Type: application/json\r\n") &&
	          strstr(refused, "\r\n\r\n{\"error\":{\"code\":\"bad_request\"") && !strstr(resp, "<HTML>"),
	          "the refusal over TLS: %s", resp);
	/* plain HTTP on the HTTPS port: no HTTP answer */
	int p = tcp_connect(http_port, 0);
	send_all(p, "GET /healthz HTTP/1.0\r\n\r\n", 25);
	struct pollfd pf = { p, POLLIN, 0 };
	char b[64] = { 0 };
	if (poll(&pf, 1, 3000) == 1)
		(void)!recv(p, b, sizeof b - 1, 0);
	cr_assert(strncmp(b, "HTTP/", 5) != 0, "plain HTTP answered on the HTTPS port: %s", b);
}

/* an escalation comes again on the stream with the same id and the new level */
HL_TEST(http, sse_escalation_same_id_new_level)
{
	http_port = free_port();
	char *top = keep(malloc(256));
	snprintf(top, 256, "http = { listen = \"127.0.0.1:%d\"; };", http_port);
	hl_d_up(&(struct hl_e2e_opts){ .top = top, .sla = "callback = \"1s\"; warn_at = 0; update = \"0\"; resolution = \"1h\";",
	                               .escalation = "after = \"1s\"; max_level = 2;" });
	wait_http();
	struct sse *s = sse_open("/v1/alerts/stream", NULL, 0);
	struct sse_ev ev;
	cr_assert(!sse_next(s, &ev, 300), "no open alert yet");
	cr_assert_eq(post_events("{\"type\":\"call.abandoned\",\"id\":\"x1\",\"call_id\":\"x1\",\"caller\":\"+8613800000001\"}")->status,
	             200);
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && ev.id > 0, "overdue alert");
	int64_t id = ev.id;
	json_object *o = json_tokener_parse(ev.data);
	cr_assert_eq(hl_jint(o, "level"), 1);
	json_object_put(o);
	cr_assert(sse_next(s, &ev, HL_TIMEOUT_MS) && ev.id == id, "the escalation: id %lld", (long long)ev.id);
	o = json_tokener_parse(ev.data);
	cr_assert_eq(hl_jint(o, "level"), 2, "%s", ev.data);
	json_object_put(o);
}

/* SIGTERM while a POST /v1/events is committing: the stop finishes the body
 * (it came before the stop) and sends its answer before the daemon exits,
 * as CONTRACT 1 says ("finish and acknowledge what is in flight"); an alert
 * stream open meanwhile does not hold the stop.  Before, the stop freed the
 * HTTP listener with its connections at once: the client got no answer at
 * all, although the events were committed. */
HL_TEST(http, sigterm_answers_the_post_in_flight)
{
	struct hl_d *d = up(NULL, NULL, NULL);
	int sse = tcp_connect(http_port, 0);
	char head[512];
	int n = snprintf(head, sizeof head, "GET /v1/alerts/stream HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n" VIEW "\r\n",
	                 http_port);
	send_all(sse, head, (size_t)n);
	enum { N = 4000 };
	size_t len;
	int fd = post_offered_raw("stop", N, 8613700000000LL, N, &len);
	after_first_commit(d);
	cr_assert_eq(kill(d->pid, SIGTERM), 0);

	char *resp = read_to_close(fd, (size_t)N * 128, 30000, "no answer to the POST in flight");
	cr_assert(strncmp(resp, "HTTP/1.1 200", 12) == 0, "the POST in flight got no answer: '%.200s'", resp);
	int oks = 0;
	for (const char *p = resp; (p = strstr(p, "\"ok\":true")); p++)
		oks++;
	cr_assert_eq(oks, N, "every event of the body is answered ok");
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0, "the stop must end with exit 0");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.event_ids WHERE event_id LIKE 'stop-%%'"), N);
}
