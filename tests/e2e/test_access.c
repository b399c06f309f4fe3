/*
 * test_access.c - end-to-end tests of the listener's access control (suite
 * `access`; its limits are in test_limits.c).
 *
 * TCP tokens (the first line must be an auth with a listed token; anything
 * else is unauthorized and closed; the Unix socket needs none), TLS
 * (self-signed certificates made by the test with the openssl command line;
 * the client is OpenSSL in C), plain TCP to a TLS port, and client
 * certificates when listen.tls.ca is set; a second auth checked as the first.
 *
 * Design.  The TLS objects and the certificate directory are file-scope so
 * that the suite's .fini (access_fini) frees them even when a test aborts,
 * then releases the raw connections and buffers of listener_helpers.h.
 */
#include "listener_helpers.h"

#include <sys/time.h>
#include <sys/wait.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_CTX *ssl_ctxs[4];
static SSL *ssls[8];
static char certdir[64]; /* certificates made by a test, removed by the .fini */

/* The TLS objects and the certificates, then the raw connections and buffers (fini). */
static void access_fini(void)
{
	for (size_t i = 0; i < sizeof ssls / sizeof ssls[0]; i++)
		if (ssls[i]) {
			SSL_free(ssls[i]);
			ssls[i] = NULL;
		}
	for (size_t i = 0; i < sizeof ssl_ctxs / sizeof ssl_ctxs[0]; i++)
		if (ssl_ctxs[i]) {
			SSL_CTX_free(ssl_ctxs[i]);
			ssl_ctxs[i] = NULL;
		}
	if (certdir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", certdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", certdir);
		certdir[0] = '\0';
	}
	fini();
}

TestSuite(access, .init = hl_e2e_init, .fini = access_fini, .timeout = 90);

/* ------------------------------------------------------------- access */

HL_TEST(access, tcp_tokens)
{
	struct hl_e2e_opts o = { .listen = "tokens = [ \"s3cret\", \"other-token\" ];" };
	struct hl_d *d = hl_d_up(&o);

	struct hl_conn *a = hl_conn_tcp(d);
	json_object *r = hl_request(a, "{\"type\":\"auth\",\"id\":\"a1\",\"token\":\"s3cret\"}");
	cr_assert(hl_jbool(r, "ok"), "right token: %s", json_object_to_json_string(r));
	expect_ping(a, "after-auth");
	expect_event_served(d, a);

	struct hl_conn *b = hl_conn_tcp(d);
	expect_code(hl_request(b, "{\"type\":\"auth\",\"id\":\"a2\",\"token\":\"s3cre\"}"), "unauthorized");
	cr_assert(hl_wait_eof(b, 5000), "wrong token: connection must be closed");

	struct hl_conn *c = hl_conn_tcp(d);
	expect_code(hl_request(c, "{\"type\":\"ping\",\"id\":\"early\"}"), "unauthorized");
	cr_assert(hl_wait_eof(c, 5000), "request before auth: connection must be closed");

	struct hl_conn *e = hl_conn_tcp(d);
	expect_code(hl_request(e, "{\"type\":\"call.offered\",\"id\":\"sneak\",\"call_id\":\"s\",\"caller\":\"+861\"}"),
	            "unauthorized");
	cr_assert(hl_wait_eof(e, 5000));
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = 'sneak'"), 0);

	/* a second listed token works too; the Unix socket needs none */
	struct hl_conn *f = hl_conn_tcp(d);
	cr_assert(hl_jbool(hl_request(f, "{\"type\":\"auth\",\"id\":\"a3\",\"token\":\"other-token\"}"), "ok"));
	struct hl_conn *u = hl_conn_unix(d);
	expect_ping(u, "unix-no-token");
	char *log = hl_d_log(d);
	cr_assert_null(strstr(log, "s3cre"), "a token must never be logged");
}

/* Make a key + self-signed cert (or one signed by ca) in dir; returns 0 on success. */
static const char *make_certdir(void)
{
	snprintf(certdir, sizeof certdir, "/tmp/hl-certs-XXXXXX");
	cr_assert(mkdtemp(certdir), "mkdtemp: %s", strerror(errno));
	return certdir;
}

static int make_cert(const char *dir, const char *name, const char *ca)
{
	char cmd[2048];
	if (!ca)
		snprintf(cmd, sizeof cmd,
		         "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=%s -keyout %s/%s.key -out %s/%s.pem"
		         " >%s/openssl.log 2>&1", name, dir, name, dir, name, dir);
	else
		snprintf(cmd, sizeof cmd,
		         "openssl req -newkey rsa:2048 -nodes -subj /CN=%s -keyout %s/%s.key -out %s/%s.csr >%s/openssl.log 2>&1"
		         " && openssl x509 -req -days 2 -in %s/%s.csr -CA %s/%s.pem -CAkey %s/%s.key -CAcreateserial"
		         " -out %s/%s.pem >>%s/openssl.log 2>&1",
		         name, dir, name, dir, name, dir, dir, name, dir, ca, dir, ca, dir, name, dir);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static SSL_CTX *client_ctx(const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	cr_assert(ctx);
	for (size_t i = 0; i < sizeof ssl_ctxs / sizeof ssl_ctxs[0]; i++)
		if (!ssl_ctxs[i]) {
			ssl_ctxs[i] = ctx;
			break;
		}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* self-signed server: we test the channel, not PKI */
	if (cert) {
		cr_assert_eq(SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM), 1);
		cr_assert_eq(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
	}
	return ctx;
}

/* TLS connection to the daemon's TCP port; NULL when the handshake fails. */
static SSL *tls_connect(struct hl_d *d, SSL_CTX *ctx)
{
	int fd = raw_tcp(d);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	SSL *ssl = SSL_new(ctx);
	cr_assert(ssl);
	for (size_t i = 0; i < sizeof ssls / sizeof ssls[0]; i++)
		if (!ssls[i]) {
			ssls[i] = ssl;
			break;
		}
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		ERR_clear_error();
		return NULL;
	}
	return ssl;
}

/* Send a ping over TLS; true when {"ok":true} for it came back. */
static bool tls_ping(SSL *ssl, const char *id)
{
	char line[128], reply[512];
	int n = snprintf(line, sizeof line, "{\"type\":\"ping\",\"id\":\"%s\"}\n", id);
	if (SSL_write(ssl, line, n) != n) {
		ERR_clear_error();
		return false;
	}
	size_t len = 0;
	while (len + 1 < sizeof reply) {
		int r = SSL_read(ssl, reply + len, (int)(sizeof reply - 1 - len));
		if (r <= 0) {
			ERR_clear_error();
			return false;
		}
		len += (size_t)r;
		reply[len] = '\0';
		if (strchr(reply, '\n'))
			break;
	}
	return strstr(reply, "\"ok\":true") && strstr(reply, id);
}

HL_TEST(access, tls_ping_and_plain_tcp_refused)
{
	const char *dir = make_certdir();
	cr_assert_eq(make_cert(dir, "server", NULL), 0, "openssl req failed (see %s/openssl.log)", dir);
	char *listen = xcalloc(1024, 1);
	snprintf(listen, 1024, "tls = { cert = \"%s/server.pem\"; key = \"%s/server.key\"; };", dir, dir);
	struct hl_d *t = hl_d_up(&(struct hl_e2e_opts){ .listen = listen });

	SSL_CTX *ctx = client_ctx(NULL, NULL);
	SSL *ssl = tls_connect(t, ctx);
	cr_assert(ssl, "TLS handshake failed");
	cr_assert(tls_ping(ssl, "tls-1"), "ping over TLS");
	cr_assert(tls_ping(ssl, "tls-2"), "second ping over TLS");

	/* plain text to the TLS port: no JSON, closed cleanly, nothing breaks */
	int fd = raw_tcp(t);
	write_all(fd, "{\"type\":\"ping\",\"id\":\"plain\"}\n", 29);
	size_t bytes;
	char peek[64] = "";
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ssize_t r = recv(fd, peek, sizeof peek - 1, MSG_PEEK);
	if (r > 0)
		peek[r] = '\0';
	cr_assert_null(strstr(peek, "\"ok\""), "plain TCP got a JSON reply from a TLS port");
	cr_assert(drain_to_eof(fd, 5000, &bytes), "plain TCP to a TLS port must be closed");

	/* TLS still works; the Unix socket never speaks TLS */
	SSL *ssl2 = tls_connect(t, ctx);
	cr_assert(ssl2 && tls_ping(ssl2, "tls-3"), "TLS after a plain-text client");
	struct hl_conn *u = hl_conn_unix(t);
	expect_ping(u, "unix-plain");
	expect_event_served(t, u);
}

HL_TEST(access, tls_client_certificate_required_with_ca)
{
	const char *dir = make_certdir();
	cr_assert_eq(make_cert(dir, "ca", NULL), 0, "CA (see %s/openssl.log)", dir);
	cr_assert_eq(make_cert(dir, "server", NULL), 0);
	cr_assert_eq(make_cert(dir, "client", "ca"), 0, "client cert (see %s/openssl.log)", dir);
	cr_assert_eq(make_cert(dir, "rogue", NULL), 0);
	char *listen = xcalloc(1024, 1);
	snprintf(listen, 1024, "tls = { cert = \"%s/server.pem\"; key = \"%s/server.key\"; ca = \"%s/ca.pem\"; };",
	         dir, dir, dir);
	struct hl_d *t = hl_d_up(&(struct hl_e2e_opts){ .listen = listen });

	/* no certificate: refused (at the handshake, or at the first read with TLS 1.3) */
	SSL *anon = tls_connect(t, client_ctx(NULL, NULL));
	cr_assert(!anon || !tls_ping(anon, "anon"), "a client without a certificate was served");

	/* a certificate from another CA: refused too */
	char cert[300], key[300];
	snprintf(cert, sizeof cert, "%s/rogue.pem", dir);
	snprintf(key, sizeof key, "%s/rogue.key", dir);
	SSL *rogue = tls_connect(t, client_ctx(cert, key));
	cr_assert(!rogue || !tls_ping(rogue, "rogue"), "a client with an unknown CA was served");

	/* the CA's client: served */
	snprintf(cert, sizeof cert, "%s/client.pem", dir);
	snprintf(key, sizeof key, "%s/client.key", dir);
	SSL *ok = tls_connect(t, client_ctx(cert, key));
	cr_assert(ok, "handshake with a valid client certificate failed");
	cr_assert(tls_ping(ok, "with-cert"), "ping with a valid client certificate");
	cr_assert(hl_d_alive(t));
}

/* An `auth` on a connection that already authenticated was answered ok
 * whatever its token: a wrong token passed for right, and a viewer that
 * authenticated again with a full token was told ok and stayed a viewer
 * (its next event forbidden).  Now every auth on TCP with tokens is checked
 * as the first: a listed token takes that token's role, any other is
 * unauthorized and closes the connection (review-ops4). */
HL_TEST(access, a_second_auth_is_checked_like_the_first)
{
	struct hl_e2e_opts o = { .listen = "tokens = ( \"full-token\", "
	                                   "{ token = \"view-token\"; name = \"wall\"; role = \"viewer\"; } );" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *a = hl_conn_tcp(d);
	cr_assert(hl_jbool(hl_request(a, "{\"type\":\"auth\",\"id\":\"a1\",\"token\":\"view-token\"}"), "ok"));
	json_object *r = hl_request(a, "{\"type\":\"auth\",\"id\":\"a2\",\"token\":\"full-token\"}");
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	r = hl_request(a, "{\"type\":\"call.offered\",\"id\":\"sa1\",\"call_id\":\"sa\",\"caller\":\"+8613800000811\"}");
	cr_assert(hl_jbool(r, "ok"), "after a full token the connection may send events: %s", json_object_to_json_string(r));

	struct hl_conn *b = hl_conn_tcp(d);
	cr_assert(hl_jbool(hl_request(b, "{\"type\":\"auth\",\"id\":\"b1\",\"token\":\"full-token\"}"), "ok"));
	expect_code(hl_request(b, "{\"type\":\"auth\",\"id\":\"b2\",\"token\":\"not-a-token\"}"), "unauthorized");
	cr_assert(hl_wait_eof(b, 5000), "a wrong token closes the connection, also after a right one");

	/* the Unix socket needs no token: an auth there is answered ok, as before */
	struct hl_conn *u = hl_conn_unix(d);
	cr_assert(hl_jbool(hl_request(u, "{\"type\":\"auth\",\"id\":\"u1\",\"token\":\"anything\"}"), "ok"));
}

/* With tokens, a TCP connection that never authenticates held one of the
 * max_connections slots for the whole idle timeout (5 minutes): a few
 * hundred silent connections from anyone who reaches the port, renewed
 * every 5 minutes, and the softphones were refused `busy`.  Now it has
 * listen.auth_timeout (default 10 s) to send its auth; an authenticated
 * connection keeps the idle timeout (review-ops4). */
HL_TEST(access, a_connection_that_never_authenticates_is_closed)
{
	struct hl_e2e_opts o = { .listen = "tokens = [ \"s3cret\" ]; idle_timeout = \"60s\"; auth_timeout = \"1s\";" };
	struct hl_d *d = hl_d_up(&o);
	int silent = raw_tcp(d);
	struct hl_conn *a = hl_conn_tcp(d);
	cr_assert(hl_jbool(hl_request(a, "{\"type\":\"auth\",\"id\":\"a1\",\"token\":\"s3cret\"}"), "ok"));
	int64_t t0 = hl_now_ms();
	char b;
	struct timeval tv = { 8, 0 };
	setsockopt(silent, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ssize_t n = read(silent, &b, 1);
	cr_assert_eq(n, 0, "a silent unauthenticated connection is still open after %lld ms",
	             (long long)(hl_now_ms() - t0));
	hl_sleep_ms(1500);
	expect_ping(a, "authenticated-stays"); /* the idle timeout still applies to it */

	/* trickling its auth line a byte at a time does not keep it open either */
	int slow = raw_tcp(d);
	setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	const char *line = "{\"type\":\"auth\",\"id\":\"t1\",\"token\":\"s3cret\"}";
	bool closed = false;
	t0 = hl_now_ms();
	for (size_t i = 0; line[i] && !closed; i++) {
		closed = send(slow, line + i, 1, MSG_NOSIGNAL) != 1;
		hl_sleep_ms(300);
	}
	cr_assert(closed || hl_now_ms() - t0 > 5000, "the whole line went out");
	closed = closed || read(slow, &b, 1) <= 0;
	cr_assert(closed, "a trickled auth line kept the connection open for %lld ms", (long long)(hl_now_ms() - t0));
}
