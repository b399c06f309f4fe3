/*
 * http_auth.c - who is asking: bearer tokens, the wallboard's session cookie, CSRF.
 *
 * http.tokens lists { token; name; role }.  A program sends
 * `Authorization: Bearer TOKEN`; every configured token is compared in
 * constant time (all of them, always), so timing tells nothing about which
 * prefix matched.  With no tokens configured the listener is on loopback
 * (config.c refuses anything else) and every request may do everything, as
 * "local".
 *
 * The wallboard signs in with a token once (POST /v1/session) and gets an
 * HttpOnly, SameSite=Strict cookie `hl_session=IDX.EXPIRY.SID.MAC`, where
 * SID is the session's id (128 random bits, kept when the cookie is
 * renewed) and MAC is HMAC-SHA256 keyed with that token over
 * "session:IDX:EXPIRY:SID".  The cookie survives a daemon restart (the wall
 * screen reconnects without signing in again), works on every daemon of a
 * cluster, and dies when the token is changed or removed, after
 * SESSION_TTL_S, or when it signs out.  A cookie from before session ids
 * (IDX.EXPIRY.MAC over "session:IDX:EXPIRY") is still taken, its id being
 * the start of its MAC.
 *
 * Signing out (DELETE /v1/session) records the id in the database
 * (sql/078, hotline.http_sessions_ended), which every daemon shares and
 * which outlives them: before, it only cleared the browser's cookie, and a
 * copy of it stayed valid for up to 12 hours.  So a request that comes with
 * a cookie whose MAC is good is first asked about in the store
 * (http_session_to_check; http_api.c sends hotline.http_session_live) and
 * routed again with the answer (http_session_verdict); http_auth refuses a
 * cookie without a verdict that it is live.
 *
 * Cross-site requests.  A cookie rides along on any request the browser
 * makes, so state-changing requests authenticated by the cookie must also
 * carry X-CSRF-Token, an HMAC of the cookie that only our own page can read
 * (GET /v1/session returns it; another site can neither read it nor, being
 * a custom header, send it without a CORS preflight we never grant), and an
 * Origin header, when the browser sends one, must name this very host.
 * SameSite=Strict keeps the cookie off cross-site requests in the first
 * place.  Requests with a bearer token need none of this: browsers never add
 * that header by themselves (so a softphone's own page on another origin may
 * POST events with its token).  Without tokens (loopback only) the Origin
 * check still applies: a foreign page must not reach 127.0.0.1 through the
 * supervisor's browser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "daemon.h"
#include "http_api.h"

#define SESSION_TTL_S (12 * 3600)
#define COOKIE_NAME "hl_session"
/* the ended session is remembered this much past its longest life (clocks of the daemons) */
#define SESSION_END_SLACK_S 3600

static const char *const role_names[] = { "", "ingest", "viewer", "supervisor" };

static void hmac_hex(const char *key, const char *msg, char out[65])
{
	unsigned char mac[32];
	unsigned int len = sizeof mac;
	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, strlen(msg), mac, &len);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

/* The MAC of a session cookie; sid NULL for a cookie from before session ids. */
static void session_mac(size_t idx, long long expiry, const char *sid, char out[65])
{
	char msg[96];
	if (sid)
		snprintf(msg, sizeof msg, "session:%zu:%lld:%s", idx, expiry, sid);
	else
		snprintf(msg, sizeof msg, "session:%zu:%lld", idx, expiry);
	hmac_hex(hl->cfg->http.tokens[idx].token, msg, out);
}

static void csrf_of(size_t idx, const char *cookie, char out[65])
{
	char msg[256];
	snprintf(msg, sizeof msg, "csrf:%s", cookie);
	hmac_hex(hl->cfg->http.tokens[idx].token, msg, out);
}

/* The value of our cookie in the Cookie header, copied into buf; false when absent. */
static bool cookie_value(struct evhttp_request *req, char *buf, size_t len)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie");
	while (h && *h) {
		while (*h == ' ' || *h == ';')
			h++;
		size_t n = strcspn(h, ";");
		if (n > strlen(COOKIE_NAME) && strncmp(h, COOKIE_NAME "=", strlen(COOKIE_NAME) + 1) == 0) {
			size_t vl = n - strlen(COOKIE_NAME) - 1;
			if (vl >= len)
				return false;
			memcpy(buf, h + strlen(COOKIE_NAME) + 1, vl);
			buf[vl] = '\0';
			return true;
		}
		h += n;
	}
	return false;
}

/* Index of the token equal to `tok` (every token compared, in constant time each), or -1. */
static long token_index(const char *tok)
{
	long found = -1;
	for (size_t i = 0; i < hl->cfg->http.n_tokens; i++)
		if (hl_const_time_eq(tok, hl->cfg->http.tokens[i].token) && found < 0)
			found = (long)i;
	return found;
}

static void principal_of(size_t idx, struct http_principal *who)
{
	who->name = hl->cfg->http.tokens[idx].name;
	who->role = hl->cfg->http.tokens[idx].role;
}

/*
 * Without tokens the listener trusts whoever reaches it on loopback.  A page
 * of another site can still reach it through the supervisor's browser by
 * DNS rebinding (its own name resolved to 127.0.0.1): the request is then
 * same-origin, Origin equals Host, and the answer is readable.  The Host it
 * sends names the other site, though, so only a loopback Host (or none, as
 * HTTP/1.0 allows) is served.
 */
static bool host_is_loopback(struct evhttp_request *req)
{
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	if (!host)
		return true;
	char name[256];
	size_t n;
	if (host[0] == '[') { /* [::1]:port */
		n = strcspn(host + 1, "]");
		if (host[1 + n] != ']' || n >= sizeof name)
			return false;
		memcpy(name, host + 1, n);
	} else {
		n = strcspn(host, ":");
		if (n >= sizeof name)
			return false;
		memcpy(name, host, n);
	}
	name[n] = '\0';
	if (strcasecmp(name, "localhost") == 0 || strcmp(name, "::1") == 0)
		return true;
	unsigned a, b, c, d;
	char tail;
	return sscanf(name, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 && c < 256 && d < 256;
}

/* The session cookie of the request, its MAC checked: token index, expiry,
 * id and the cookie's value (for its CSRF token).  False when there is none
 * or it is not ours, expired, or of a token that cannot sign in. */
struct session_cookie {
	size_t idx;
	long long expiry;
	char sid[HTTP_SID_LEN + 1];
	char value[160];
};

static bool session_cookie(struct evhttp_request *req, struct session_cookie *c)
{
	if (hl->cfg->http.n_tokens == 0 || !cookie_value(req, c->value, sizeof c->value))
		return false;
	int used = 0;
	if (sscanf(c->value, "%zu.%lld.%n", &c->idx, &c->expiry, &used) != 2 || used == 0 ||
	    c->idx >= hl->cfg->http.n_tokens || c->expiry < (long long)time(NULL))
		return false;
	const char *rest = c->value + used, *dot = strchr(rest, '.');
	char mac[65];
	if (dot) { /* IDX.EXPIRY.SID.MAC */
		if (dot - rest != HTTP_SID_LEN || strspn(rest, "0123456789abcdef") != HTTP_SID_LEN)
			return false;
		memcpy(c->sid, rest, HTTP_SID_LEN);
		c->sid[HTTP_SID_LEN] = '\0';
		session_mac(c->idx, c->expiry, c->sid, mac);
		rest = dot + 1;
	} else { /* IDX.EXPIRY.MAC, from before session ids */
		session_mac(c->idx, c->expiry, NULL, mac);
		snprintf(c->sid, sizeof c->sid, "%.*s", HTTP_SID_LEN, mac);
	}
	if (!hl_const_time_eq(rest, mac))
		return false;
	/* made before ingest tokens could no longer sign in: the page shows its form */
	return hl->cfg->http.tokens[c->idx].role != HL_ROLE_INGEST;
}

/* Bearer first: a request with an Authorization header is not the cookie's. */
static bool has_bearer(struct evhttp_request *req)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	return auth && strncasecmp(auth, "Bearer ", 7) == 0;
}

/* What the store said of the session of the request being routed (http_api.c). */
static const struct evhttp_request *verdict_req;
static bool verdict_live;

void http_session_verdict(const struct evhttp_request *req, bool live)
{
	verdict_req = req;
	verdict_live = live;
}

bool http_session_to_check(struct evhttp_request *req, char sid[HTTP_SID_LEN + 1])
{
	struct session_cookie c;
	if (verdict_req == req || has_bearer(req) || !session_cookie(req, &c))
		return false;
	memcpy(sid, c.sid, sizeof c.sid);
	return true;
}

bool http_auth(struct evhttp_request *req, struct http_principal *who)
{
	memset(who, 0, sizeof *who);
	if (hl->cfg->http.n_tokens == 0) {
		if (!host_is_loopback(req))
			return false; /* DNS rebinding: see host_is_loopback */
		who->name = "local";
		who->role = HL_ROLE_SUPERVISOR;
		who->any_role = true;
		return true;
	}
	if (has_bearer(req)) {
		const char *tok = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization") + 7;
		while (*tok == ' ')
			tok++;
		long i = token_index(tok);
		if (i < 0)
			return false;
		principal_of((size_t)i, who);
		return true;
	}
	struct session_cookie c;
	/* a session not known to be live (signed out, or never asked about) is none */
	if (!session_cookie(req, &c) || verdict_req != req || !verdict_live)
		return false;
	principal_of(c.idx, who);
	who->via_cookie = true;
	who->token_idx = c.idx;
	who->expiry = c.expiry;
	memcpy(who->sid, c.sid, sizeof c.sid);
	csrf_of(c.idx, c.value, who->csrf);
	return true;
}

/* A new session cookie for token idx and session sid, valid SESSION_TTL_S
 * from now: its Set-Cookie header added to the answer, its value in value[160]. */
static void set_session_cookie(struct evhttp_request *req, size_t idx, const char *sid, char value[160])
{
	long long expiry = (long long)time(NULL) + SESSION_TTL_S;
	char mac[65], cookie[300];
	session_mac(idx, expiry, sid, mac);
	snprintf(value, 160, "%zu.%lld.%s.%s", idx, expiry, sid, mac);
	snprintf(cookie, sizeof cookie, COOKIE_NAME "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s", value,
	         SESSION_TTL_S, hl->cfg->http.tls ? "; Secure" : "");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", cookie);
}

bool http_role_allows(const struct http_principal *who, int role)
{
	if (who->any_role)
		return true;
	if (role == HL_ROLE_INGEST)
		return who->role == HL_ROLE_INGEST;
	return who->role >= role;
}

bool http_require(struct evhttp_request *req, struct http_principal *who, int role)
{
	if (!http_auth(req, who)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer realm=\"hotlined\"");
		http_send_error(req, 401, "unauthorized", "send Authorization: Bearer TOKEN or sign in");
		return false;
	}
	if (!http_role_allows(who, role)) {
		char msg[96];
		snprintf(msg, sizeof msg, "the %s role is needed", role_names[role]);
		http_send_error(req, 403, "forbidden", msg);
		return false;
	}
	return true;
}

/* Origin, when the browser sends one, must be this host (scheme://Host). */
static bool origin_ok(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *origin = evhttp_find_header(h, "Origin");
	if (!origin)
		return true;
	const char *host = evhttp_find_header(h, "Host");
	const char *p = strstr(origin, "://");
	return host && p && strcmp(p + 3, host) == 0;
}

bool http_check_csrf(struct evhttp_request *req, const struct http_principal *who)
{
	/* a bearer token is never sent by a browser on its own: nothing to forge */
	if (!who->via_cookie && !who->any_role)
		return true;
	/* a cookie, or no credentials at all (loopback without tokens): a page of
	 * another site must not be able to make the browser act */
	if (!origin_ok(req)) {
		http_send_error(req, 403, "forbidden", "Origin: not this host");
		return false;
	}
	if (!who->via_cookie)
		return true;
	const char *t = evhttp_find_header(evhttp_request_get_input_headers(req), "X-CSRF-Token");
	if (!t || !hl_const_time_eq(t, who->csrf)) {
		http_send_error(req, 403, "forbidden", "X-CSRF-Token: missing or wrong (GET /v1/session has it)");
		return false;
	}
	return true;
}

static void session_json(struct evhttp_request *req, const struct http_principal *who, bool auth_on)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(who->name));
	json_object_object_add(o, "role", json_object_new_string(role_names[who->role]));
	json_object_object_add(o, "auth", json_object_new_boolean(auth_on));
	json_object_object_add(o, "signed_in", json_object_new_boolean(true));
	if (who->via_cookie)
		json_object_object_add(o, "csrf", json_object_new_string(who->csrf));
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	http_send_text(req, 200, "application/json", t, strlen(t));
	json_object_put(o);
}

/* The token from a sign-in body: JSON {"token":...} or a form's token=... */
static char *signin_token(struct evhttp_request *req, bool *is_form)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	if (n == 0 || n > 4096)
		return NULL;
	char *body = malloc(n + 1);
	if (!body)
		abort();
	evbuffer_copyout(in, body, n);
	body[n] = '\0';
	const char *type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	char *tok = NULL;
	*is_form = type && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0;
	if (*is_form) {
		struct evkeyvalq q;
		if (evhttp_parse_query_str(body, &q) == 0) {
			const char *v = evhttp_find_header(&q, "token");
			if (v)
				tok = strdup(v);
			evhttp_clear_headers(&q);
		}
	} else {
		json_object *o = json_tokener_parse(body), *v;
		if (o && json_object_object_get_ex(o, "token", &v) && json_object_is_type(v, json_type_string))
			tok = strdup(json_object_get_string(v));
		json_object_put(o);
	}
	free(body);
	return tok;
}

/* Anyone who reaches the page can fail to sign in, thousands of times a
 * second: one warning a second at most, with how many failed meanwhile
 * (before, a line each, a flood of the log by a client without a token). */
static void log_failed_signin(void)
{
	static hl_ms logged_at;
	static unsigned long long unreported;
	unreported++;
	hl_ms now = mono_ms();
	if (logged_at != 0 && now - logged_at < 1000)
		return;
	log_warn("http: sign-in with a token that is not configured (%llu refused since the last report)", unreported);
	logged_at = now;
	unreported = 0;
}

void http_session(struct evhttp_request *req)
{
	struct http_principal who;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	bool auth_on = hl->cfg->http.n_tokens > 0;

	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		/* 200 either way: the page asks before it knows, and a 401 would be a console error */
		if (http_auth(req, &who)) {
			/* A wall screen runs for days: a session in the second half of its
			 * life is renewed here (the page asks with every board refresh),
			 * with the CSRF token of the renewed cookie in the answer.  Before,
			 * every wall screen fell back to its sign-in form 12 h after it
			 * was signed in. */
			if (who.via_cookie && who.expiry - (long long)time(NULL) < SESSION_TTL_S / 2) {
				char value[160];
				set_session_cookie(req, who.token_idx, who.sid, value);
				csrf_of(who.token_idx, value, who.csrf);
			}
			session_json(req, &who, auth_on);
		} else
			http_send_text(req, 200, "application/json", "{\"signed_in\":false,\"auth\":true}", 31);
		return;
	case EVHTTP_REQ_POST:
		break;
	default: /* DELETE: http_session_signout */
		http_send_method_error(req, "GET, POST, DELETE");
		return;
	}
	if (!origin_ok(req)) {
		http_send_error(req, 403, "forbidden", "Origin: not this host");
		return;
	}
	bool is_form = false;
	char *tok = signin_token(req, &is_form);
	long idx = tok && auth_on ? token_index(tok) : -1;
	free(tok);
	if (!auth_on) {
		if (!http_auth(req, &who)) {
			http_send_error(req, 403, "forbidden", "Host: not a loopback name");
			return;
		}
		session_json(req, &who, false);
		return;
	}
	if (idx < 0) {
		log_failed_signin();
		if (is_form) {
			evhttp_add_header(out, "Location", "/?signin=failed");
			http_send_text(req, 303, "text/plain", "", 0);
		} else {
			http_send_error(req, 401, "unauthorized", "token: not accepted");
		}
		return;
	}
	if (hl->cfg->http.tokens[idx].role == HL_ROLE_INGEST) {
		/* a softphone's token may not read the board: signed in, the page had
		 * no right to its stream and reconnected every 2 s, saying nothing */
		log_warn("http: %s (ingest) tried to sign in to the wallboard", hl->cfg->http.tokens[idx].name);
		if (is_form) {
			evhttp_add_header(out, "Location", "/?signin=failed");
			http_send_text(req, 303, "text/plain", "", 0);
		} else {
			http_send_error(req, 403, "forbidden", "token: the wallboard needs the viewer or supervisor role");
		}
		return;
	}
	/* a session of its own: another screen's sign-out with the same token
	 * in the same second must not end this one */
	unsigned char rnd[HTTP_SID_LEN / 2];
	char sid[HTTP_SID_LEN + 1], value[160];
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		abort(); /* no randomness: nothing safe to hand out */
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(sid + 2 * i, 3, "%02x", rnd[i]);
	set_session_cookie(req, (size_t)idx, sid, value);
	log_notice("http: %s signed in", hl->cfg->http.tokens[idx].name);
	if (is_form) {
		evhttp_add_header(out, "Location", "/");
		http_send_text(req, 303, "text/plain", "", 0);
		return;
	}
	principal_of((size_t)idx, &who);
	who.via_cookie = true;
	csrf_of((size_t)idx, value, who.csrf);
	session_json(req, &who, true);
}

/* The browser's copy of the cookie goes with every answer to a sign-out. */
static void clear_cookie(struct evhttp_request *req)
{
	char cookie[160];
	snprintf(cookie, sizeof cookie, COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
	         hl->cfg->http.tls ? "; Secure" : "");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", cookie);
}

bool http_session_signout(struct evhttp_request *req, char sid[HTTP_SID_LEN + 1], long long *until)
{
	/* another site must not sign a wall screen out (a DELETE needs a CORS
	 * preflight, never granted, and the cookie is SameSite=Strict; this
	 * says so also to a browser that sends Origin anyway) */
	if (!origin_ok(req)) {
		http_send_error(req, 403, "forbidden", "Origin: not this host");
		return false;
	}
	struct session_cookie c;
	if (has_bearer(req) || !session_cookie(req, &c)) {
		clear_cookie(req); /* no session to end: the browser's copy goes */
		http_send_text(req, 200, "application/json", "{\"ok\":true}", 11);
		return false;
	}
	memcpy(sid, c.sid, sizeof c.sid);
	/* every cookie of the session expires by then: a renewal needs a live one */
	*until = (long long)time(NULL) + SESSION_TTL_S + SESSION_END_SLACK_S;
	return true;
}

void http_session_signed_out(struct evhttp_request *req, const char *sid, int status, const char *code,
                             const char *msg)
{
	clear_cookie(req);
	if (status != 200) {
		http_send_error(req, status, code, msg);
		return;
	}
	sse_end_session(sid); /* its streams on this daemon end now */
	log_notice("http: a wallboard session signed out");
	http_send_text(req, 200, "application/json", "{\"ok\":true}", 11);
}
