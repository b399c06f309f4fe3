/*
 * ctl_tls.c - TLS for hotlinectl (OpenSSL).
 *
 * hotlinectl is a blocking client that multiplexes with poll(); to keep one
 * code path for plain and TLS connections the socket is made nonblocking
 * and both kinds go through ctl_io_send / ctl_io_recv, which turn OpenSSL's
 * WANT_READ / WANT_WRITE into EAGAIN.  Data OpenSSL has already decrypted is
 * invisible to poll(), so callers ask ctl_io_pending() before they wait.
 *
 * The server is verified: its chain against tls.ca (or the system's CAs) and
 * its name (DNS name or IP address) against the host connected to.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ctl_tls.h"

struct ctl_tls {
	SSL_CTX *ctx;
	SSL *ssl;
};

static void ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	snprintf(err, errlen, "TLS: %s%s%s", what, buf[0] ? ": " : "", buf);
}

struct ctl_tls *ctl_tls_connect(int fd, const char *host, const char *ca, const char *cert, const char *key,
                                char *err, size_t errlen)
{
	struct ctl_tls *t = calloc(1, sizeof *t);
	if (!t || !(t->ctx = SSL_CTX_new(TLS_client_method()))) {
		snprintf(err, errlen, "TLS: out of memory");
		free(t);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	if (ca ? SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1 : SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
		ssl_err(err, errlen, ca ? ca : "the system's CA certificates");
		goto fail;
	}
	if (cert && (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1 ||
	             SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1)) {
		ssl_err(err, errlen, cert);
		goto fail;
	}
	if (!(t->ssl = SSL_new(t->ctx))) {
		ssl_err(err, errlen, "SSL_new");
		goto fail;
	}
	SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) { /* not an IP address: a DNS name */
		SSL_set_tlsext_host_name(t->ssl, host);
		X509_VERIFY_PARAM_set1_host(vp, host, 0);
	}
	SSL_set_fd(t->ssl, fd);
	if (SSL_connect(t->ssl) != 1) {
		long v = SSL_get_verify_result(t->ssl);
		if (v != X509_V_OK)
			snprintf(err, errlen, "TLS: the server's certificate is not trusted: %s",
			         X509_verify_cert_error_string(v));
		else
			ssl_err(err, errlen, "handshake failed");
		goto fail;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return t;
fail:
	ctl_tls_free(t);
	return NULL;
}

void ctl_tls_free(struct ctl_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	free(t);
}

static ssize_t would_block(struct ctl_tls *t, int rc)
{
	int e = SSL_get_error(t->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		errno = EAGAIN;
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (e != SSL_ERROR_SYSCALL || errno == 0)
		errno = EPROTO;
	return -1;
}

ssize_t ctl_io_send(struct ctl_tls *t, int fd, const void *p, size_t n)
{
	if (!t)
		return send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	int rc = SSL_write(t->ssl, p, n > 1 << 30 ? 1 << 30 : (int)n);
	return rc > 0 ? rc : would_block(t, rc);
}

ssize_t ctl_io_recv(struct ctl_tls *t, int fd, void *p, size_t n)
{
	if (!t)
		return recv(fd, p, n, MSG_DONTWAIT);
	int rc = SSL_read(t->ssl, p, n > 1 << 30 ? 1 << 30 : (int)n);
	return rc > 0 ? rc : would_block(t, rc);
}

int ctl_io_pending(const struct ctl_tls *t)
{
	return t ? SSL_pending(t->ssl) : 0;
}
