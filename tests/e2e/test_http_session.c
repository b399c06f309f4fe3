/*
 * test_http_session.c - the wallboard's session cookie over a wall screen's
 * life (CONTRACT.md section 7; docs/http.md "Access").
 *
 * Design.  A wall screen is signed in once and then runs day and night.  The
 * cookie is IDX.EXPIRY.MAC, an HMAC-SHA256 keyed with the token itself
 * (daemon/http_auth.c), so a test that knows the token can make the cookie
 * a browser would hold hours after its sign-in, without waiting for them:
 * here one that expires in a minute.  The same daemon set-up and client as
 * test_http.c (tests/e2e/http_client.h).
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
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "http_client.h"

TestSuite(http_session, .init = hl_e2e_init, .fini = http_fini, .timeout = 120);

#define TOP_LOOP "alerts = { transfer_limit = 1; };"

/* "hl_session=IDX.EXPIRY.MAC" as the daemon signs it with `token`. */
static void make_cookie(char *out, size_t len, int idx, const char *token, long long expiry)
{
	char msg[64], hex[65];
	unsigned char mac[32];
	unsigned int n = sizeof mac;
	snprintf(msg, sizeof msg, "session:%d:%lld", idx, expiry);
	HMAC(EVP_sha256(), token, (int)strlen(token), (const unsigned char *)msg, strlen(msg), mac, &n);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	snprintf(out, len, "hl_session=%d.%lld.%s", idx, expiry, hex);
}

/* The expiry inside a Set-Cookie value (hl_session=IDX.EXPIRY.MAC; ...). */
static long long cookie_expiry(const char *set_cookie)
{
	int idx;
	long long expiry;
	cr_assert(sscanf(set_cookie, "hl_session=%d.%lld.", &idx, &expiry) == 2, "%s", set_cookie);
	return expiry;
}

/* The session is 12 hours; a wall screen runs for days.  Before, the cookie
 * was never renewed: twelve hours after its sign-in the wall screen's stream
 * and board answered 401 and the page fell back to its sign-in form, in the
 * middle of the night shift.  Now GET /v1/session (the page asks every 15 s
 * with its board) renews a cookie in the second half of its life, and
 * answers the CSRF token of the renewed cookie, with which an
 * acknowledgement goes through. */
HL_TEST(http_session, a_wall_screen_stays_signed_in)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	int64_t alert = transfer_loop(d, 1, "+8613800000001");
	long long now = (long long)time(NULL);
	char old[256], hdr[700];
	/* alice (token 0) signed in 11 h 59 min ago */
	make_cookie(old, sizeof old, 0, "sup-token", now + 60);
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", old);
	cr_assert_eq(http("GET", "/v1/board", hdr, NULL)->status, 200, "the forged cookie is the daemon's own");
	struct hres *r = http("GET", "/v1/session", hdr, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_object *o = jbody(r);
	cr_assert(hl_jbool(o, "signed_in"), "%s", r->body);
	const char *sc = header(r, "Set-Cookie");
	cr_assert(sc, "a cookie about to expire is renewed: %s", r->head);
	cr_assert(strstr(sc, "HttpOnly") && strstr(sc, "SameSite=Strict") && strstr(sc, "Path=/") &&
	          strstr(sc, "Max-Age=43200"), "%s", sc);
	cr_assert_geq(cookie_expiry(sc), now + 12 * 3600 - 60, "renewed for 12 hours: %s", sc);
	char fresh[256], csrf[80];
	snprintf(fresh, sizeof fresh, "%.*s", (int)strcspn(sc, ";"), sc);
	snprintf(csrf, sizeof csrf, "%s", hl_jstr(o, "csrf") ? hl_jstr(o, "csrf") : "");
	json_object_put(o);
	/* the renewed cookie with the CSRF token of that answer acknowledges */
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\nX-CSRF-Token: %s\r\nOrigin: http://127.0.0.1:%d\r\n", fresh, csrf,
	         http_port);
	char path[64];
	snprintf(path, sizeof path, "/v1/alerts/%lld/ack", (long long)alert);
	r = http("POST", path, hdr, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(hl_sql_text(d, "SELECT acked_by FROM hotline.alerts WHERE id = %lld", (long long)alert), "alice");
	/* a cookie in the first half of its life is left as it is */
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", fresh);
	r = http("GET", "/v1/session", hdr, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_null(header(r, "Set-Cookie"), "%s", r->head);
	/* an expired one is not renewed: signed out */
	make_cookie(old, sizeof old, 0, "sup-token", now - 1);
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", old);
	r = http("GET", "/v1/session", hdr, NULL);
	o = jbody(r);
	cr_assert(!hl_jbool(o, "signed_in"), "%s", r->body);
	json_object_put(o);
	cr_assert_null(header(r, "Set-Cookie"), "%s", r->head);
}

/* The wallboard's sign-in takes the tokens that may read it.  Before, an
 * ingest token (a softphone's, typed in by mistake) was signed in: the page
 * then had no right to its stream or board, and reconnected every two
 * seconds forever under "reconnecting", with no word of why. */
HL_TEST(http_session, an_ingest_token_cannot_sign_in_to_the_wallboard)
{
	up(NULL, TOP_LOOP, NULL);
	struct hres *r = http("POST", "/v1/session", "Content-Type: application/json\r\n", "{\"token\":\"ing-token\"}");
	cr_assert_eq(r->status, 403, "%s\n\n%s", r->head, r->body);
	cr_assert(strstr(r->body, "\"forbidden\""), "%s", r->body);
	cr_assert_null(header(r, "Set-Cookie"), "%s", r->head);
	/* the sign-in form: back to the page with the failure shown */
	r = http("POST", "/v1/session", "Content-Type: application/x-www-form-urlencoded\r\n", "token=ing-token");
	cr_assert_eq(r->status, 303, "%s", r->head);
	const char *loc = header(r, "Location");
	cr_assert(loc && strcmp(loc, "/?signin=failed") == 0, "%s", r->head);
	cr_assert_null(header(r, "Set-Cookie"), "%s", r->head);
	/* a session made for it before is no session (the page shows its form) */
	char old[256], hdr[300];
	make_cookie(old, sizeof old, 3, "ing-token", (long long)time(NULL) + 3600);
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", old);
	json_object *o = jbody(http("GET", "/v1/session", hdr, NULL));
	cr_assert(!hl_jbool(o, "signed_in"), "%s", json_object_to_json_string(o));
	json_object_put(o);
	/* a viewer signs in */
	r = http("POST", "/v1/session", "Content-Type: application/json\r\n", "{\"token\":\"view-token\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(header(r, "Set-Cookie"), "%s", r->head);
}

/* The value of the session cookie a sign-in or renewal set ("hl_session=..."), kept. */
static const char *set_cookie_of(const struct hres *r)
{
	const char *sc = header(r, "Set-Cookie");
	cr_assert(sc && strncmp(sc, "hl_session=", 11) == 0, "%s", r->head);
	char *v = keep(malloc(strlen(sc) + 1));
	snprintf(v, strlen(sc) + 1, "%.*s", (int)strcspn(sc, ";"), sc);
	return v;
}

/* Sign in with `token` as the page does; the cookie, and its CSRF token in *csrf (kept). */
static const char *sign_in(const char *token, const char **csrf)
{
	char body[128];
	snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
	struct hres *r = http("POST", "/v1/session", "Content-Type: application/json\r\n", body);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_object *o = jbody(r);
	*csrf = keep(strdup(hl_jstr(o, "csrf") ? hl_jstr(o, "csrf") : ""));
	json_object_put(o);
	return set_cookie_of(r);
}

static int with_cookie(const char *method, const char *path, const char *cookie, const char *csrf)
{
	char hdr[600];
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\nOrigin: http://127.0.0.1:%d\r\n%s%s%s", cookie, http_port,
	         csrf ? "X-CSRF-Token: " : "", csrf ? csrf : "", csrf ? "\r\n" : "");
	return http(method, path, hdr, NULL)->status;
}

/* The second daemon of a cluster on the first one's database, with its own
 * HTTP listener and the same tokens; http_port is left at its port. */
static struct hl_d *peer_with_http(struct hl_d *a)
{
	http_port = free_port();
	char *t = keep(malloc(2048));
	snprintf(t, 2048,
	         "http = { listen = \"127.0.0.1:%d\";\n"
	         "  tokens = ( { token = \"sup-token\"; name = \"alice\"; role = \"supervisor\"; },\n"
	         "             { token = \"sup2-token\"; name = \"bob\"; role = \"supervisor\"; },\n"
	         "             { token = \"view-token\"; name = \"vic\"; role = \"viewer\"; },\n"
	         "             { token = \"ing-token\"; name = \"softphone\"; role = \"ingest\"; } ); };\n" TOP_LOOP,
	         http_port);
	struct hl_d *b = hl_d_up_peer(a, &(struct hl_e2e_opts){ .top = t });
	wait_http();
	return b;
}

/* Signing out ended nothing: DELETE /v1/session only cleared the browser's
 * cookie, and a copy of it (a proxy's log, another tab, a screen's cookie
 * copied before the sign-out) kept reading the board and acknowledging
 * alerts until its expiry, up to 12 hours - on this daemon, after its
 * restart and on every daemon of the cluster.  Now the sign-out is stored
 * in the database: the cookie is refused (401) everywhere from the answer
 * to the DELETE on, its open stream here ends, and other sessions of the
 * same token go on. */
HL_TEST(http_session, signing_out_ends_the_session_everywhere)
{
	struct hl_d *a = up(NULL, TOP_LOOP, NULL);
	int port_a = http_port;
	int64_t alert = transfer_loop(a, 1, "+8613800000001");
	const char *csrf, *csrf2;
	const char *cookie = sign_in("sup-token", &csrf);
	const char *other = sign_in("sup-token", &csrf2); /* a second screen, same token, same second */
	cr_assert_str_neq(cookie, other, "two sign-ins are two sessions");
	struct hl_d *b = peer_with_http(a);
	int port_b = http_port;
	cr_assert_eq(with_cookie("GET", "/v1/board", cookie, NULL), 200, "the session works on the peer");
	http_port = port_a;
	cr_assert_eq(with_cookie("GET", "/v1/board", cookie, NULL), 200);
	char hdr[600];
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
	struct sse *s = sse_open("/v1/alerts/stream", hdr, 0);
	struct sse_ev ev;
	cr_assert(sse_next(s, &ev, 5000) && ev.id == alert, "the stream of the session replays");

	/* sign out, as the page does */
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\nOrigin: http://127.0.0.1:%d\r\n", cookie, http_port);
	struct hres *r = http("DELETE", "/v1/session", hdr, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	const char *sc = header(r, "Set-Cookie");
	cr_assert(sc && strstr(sc, "Max-Age=0"), "the browser's cookie is cleared: %s", r->head);

	/* the same cookie value is refused: here ... */
	cr_assert_eq(with_cookie("GET", "/v1/board", cookie, NULL), 401);
	char path[64];
	snprintf(path, sizeof path, "/v1/alerts/%lld/ack", (long long)alert);
	cr_assert_eq(with_cookie("POST", path, cookie, csrf), 401);
	cr_assert_eq(with_cookie("GET", "/v1/alerts/stream", cookie, NULL), 401);
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
	json_object *o = jbody(http("GET", "/v1/session", hdr, NULL));
	cr_assert(!hl_jbool(o, "signed_in"), "%s", json_object_to_json_string(o));
	json_object_put(o);
	cr_assert_null(hl_sql_text(a, "SELECT acked_at FROM hotline.alerts WHERE id = %lld", (long long)alert));
	/* ... its stream here has ended ... */
	while (sse_next(s, &ev, 3000))
		cr_assert(ev.id == 0 || ev.id == alert, "no more alerts after the sign-out");
	/* ... on the peer ... */
	http_port = port_b;
	cr_assert_eq(with_cookie("GET", "/v1/board", cookie, NULL), 401, "the peer refuses it too");
	/* ... and after a restart */
	http_port = port_a;
	hl_d_restart(a);
	wait_http();
	cr_assert_eq(with_cookie("GET", "/v1/board", cookie, NULL), 401, "refused after a restart");
	/* the other screen of the same token is still signed in, and acknowledges */
	cr_assert_eq(with_cookie("POST", path, other, csrf2), 200);
	http_port = port_b;
	cr_assert_eq(with_cookie("GET", "/v1/board", other, NULL), 200);
	(void)b;
}

/* A cookie of the format before sessions had an id (IDX.EXPIRY.MAC: a wall
 * screen signed in before the upgrade) still works, and its sign-out ends
 * it too, also once it has been renewed into the new format. */
HL_TEST(http_session, a_cookie_from_before_the_upgrade_signs_out_too)
{
	up(NULL, TOP_LOOP, NULL);
	char old[256], hdr[700];
	make_cookie(old, sizeof old, 2, "view-token", (long long)time(NULL) + 60);
	cr_assert_eq(with_cookie("GET", "/v1/board", old, NULL), 200);
	/* renewed (second half of its life) into a cookie of the new format */
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", old);
	const char *renewed = set_cookie_of(http("GET", "/v1/session", hdr, NULL));
	cr_assert_eq(with_cookie("GET", "/v1/board", renewed, NULL), 200);
	/* signing out the renewed one ends the one it was renewed from */
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\nOrigin: http://127.0.0.1:%d\r\n", renewed, http_port);
	cr_assert_eq(http("DELETE", "/v1/session", hdr, NULL)->status, 200);
	cr_assert_eq(with_cookie("GET", "/v1/board", renewed, NULL), 401);
	cr_assert_eq(with_cookie("GET", "/v1/board", old, NULL), 401);
	/* a sign-out from another site is refused (Origin), the session stays */
	make_cookie(old, sizeof old, 2, "view-token", (long long)time(NULL) + 7200);
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\nOrigin: http://evil.example\r\n", old);
	cr_assert_eq(http("DELETE", "/v1/session", hdr, NULL)->status, 403);
	cr_assert_eq(with_cookie("GET", "/v1/board", old, NULL), 200);
}

/* A stream opened with a session cookie went on after the cookie expired -
 * for days, as long as the screen kept it open - although no new request
 * with that cookie was served.  Now it ends at the cookie's expiry, and
 * the page reconnects with its renewed cookie. */
HL_TEST(http_session, a_stream_ends_with_its_session)
{
	struct hl_d *d = up(NULL, TOP_LOOP, NULL);
	int64_t alert = transfer_loop(d, 1, "+8613800000001");
	char cookie[256], hdr[300];
	make_cookie(cookie, sizeof cookie, 2, "view-token", (long long)time(NULL) + 3);
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
	struct sse *s = sse_open("/v1/alerts/stream", hdr, 0);
	struct sse_ev ev;
	cr_assert(sse_next(s, &ev, 5000) && ev.id == alert, "the stream replays");
	/* a stream opened with a token goes on */
	struct sse *t = sse_open("/v1/alerts/stream", VIEW, 0);
	cr_assert(sse_next(t, &ev, 5000) && ev.id == alert);
	/* the daemon closes the cookie's stream within seconds of its expiry */
	int64_t end = hl_now_ms() + 10000;
	char buf[4096];
	for (;;) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		int left = (int)(end - hl_now_ms());
		cr_assert(left > 0, "the stream of an expired session is still open");
		if (poll(&p, 1, left) == 1 && recv(s->fd, buf, sizeof buf, 0) <= 0)
			break;
	}
	/* the token's stream is still served: a new alert arrives on it */
	int64_t second = transfer_loop(d, 2, "+8613800000002");
	while (sse_next(t, &ev, 5000) && ev.id != second)
		;
	cr_assert_eq(ev.id, second, "the token's stream goes on");
}

/* A stream another daemon of the cluster had opened with the cookie went
 * on after the sign-out (only new requests were refused): a stream asks
 * the database at each heartbeat (15 s) whether its session signed out. */
HL_TEST(http_session, a_peers_stream_ends_at_the_sign_out)
{
	struct hl_d *a = up(NULL, TOP_LOOP, NULL);
	int port_a = http_port;
	int64_t alert = transfer_loop(a, 1, "+8613800000001");
	const char *csrf;
	const char *cookie = sign_in("view-token", &csrf);
	peer_with_http(a);
	char hdr[600];
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
	struct sse *s = sse_open("/v1/alerts/stream", hdr, 0); /* on the peer */
	struct sse_ev ev;
	cr_assert(sse_next(s, &ev, 5000) && ev.id == alert, "the peer's stream replays");
	http_port = port_a;
	snprintf(hdr, sizeof hdr, "Cookie: %s\r\nOrigin: http://127.0.0.1:%d\r\n", cookie, http_port);
	cr_assert_eq(http("DELETE", "/v1/session", hdr, NULL)->status, 200);
	/* within a heartbeat (15 s) and the check's round trip */
	int64_t end = hl_now_ms() + 25000;
	char buf[4096];
	for (;;) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		int left = (int)(end - hl_now_ms());
		cr_assert(left > 0, "the peer's stream of a signed-out session is still open");
		if (poll(&p, 1, left) == 1 && recv(s->fd, buf, sizeof buf, 0) <= 0)
			break;
	}
}
