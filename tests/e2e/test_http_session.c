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
