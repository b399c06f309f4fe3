/*
 * ctl_conn.c - hotlinectl's connection and request plumbing.
 *
 * Design.  hotlinectl is a small blocking client: one socket per command,
 * poll() for timeouts, and a line buffer per connection (struct link, in
 * ctl.h).  This file is everything between a command and the daemon's
 * bytes: dialing the Unix socket or TCP (getaddrinfo, keepalive so an idle
 * `watch` notices a dead peer), TLS through ctl_tls.c, writing whole lines,
 * reading lines with a deadline, one request waiting for the response with
 * its id (pushes skipped), and the `auth` request that goes first on TCP
 * when a token is known.  The
 * commands (hotlinectl.c) only build requests and print responses.
 *
 * Errors a command cannot go on from end the process through ctl_fail with
 * the documented exit code (EX_CONNECT, EX_PROTO); ctl_open_link reports
 * instead, so `watch` can reconnect.  A signal (SIGINT, SIGTERM) sets
 * ctl_stop_flag, which every wait here checks.
 */
#include "ctl.h"
#include "ctl_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t ctl_stop_flag;
static unsigned next_id;

int64_t ctl_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An id is the daemon's idempotency key for all time (contract section 3):
 * a request whose id was seen before is answered `duplicate` and does
 * nothing.  The pid alone repeats (after a wrap, a reboot, and always in a
 * container where hotlinectl is pid 1), so each run adds 64 random bits. */
static const char *new_id(char *buf, size_t len)
{
	static uint64_t run;
	while (!run) {
		if (getrandom(&run, sizeof run, 0) != (ssize_t)sizeof run) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			run = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 40);
		}
	}
	snprintf(buf, len, "hotlinectl:%d:%016llx:%u", (int)getpid(), (unsigned long long)run, ++next_id);
	return buf;
}

/* ------------------------------------------------------------ connecting */

/* Returns a connected fd, or -1 with a message in err. */
static int dial(const struct target *t, char *err, size_t errlen)
{
	if (t->unix_path[0]) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		snprintf(a.sun_path, sizeof a.sun_path, "%s", t->unix_path);
		if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
			snprintf(err, errlen, "cannot connect to %s: %s", t->unix_path, strerror(errno));
			close(fd);
			return -1;
		}
		return fd;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	int rc = getaddrinfo(t->host, t->port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", t->host, gai_strerror(rc));
		return -1;
	}
	int fd = -1, e = 0;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		/* keepalive: `watch` idles for hours and must notice a dead peer */
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &(int){ 1 }, sizeof(int));
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to %s:%s: %s", t->host, t->port, strerror(e));
	return fd;
}

/* ------------------------------------------------------------- line I/O */

/* Write everything (waiting while the socket is full).  0, or -1 with errno. */
int ctl_write_all(struct link *l, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = ctl_io_send(l->tls, l->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pf = { .fd = l->fd, .events = POLLOUT | POLLIN };
				poll(&pf, 1, 1000);
				continue;
			}
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A complete line out of the buffer (malloc'd, no newline), or NULL. */
char *ctl_take_line(struct link *l)
{
	char *nl = l->len ? memchr(l->buf, '\n', l->len) : NULL;
	if (!nl)
		return NULL;
	size_t n = (size_t)(nl - l->buf);
	char *line = malloc(n + 1);
	if (!line)
		ctl_fail(EX_PROTO, "out of memory");
	memcpy(line, l->buf, n);
	line[n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	l->len -= n + 1;
	memmove(l->buf, nl + 1, l->len);
	return line;
}

/* One read() into the buffer.  1 = got bytes, 0 = EOF, -1 = error (errno). */
int ctl_read_some(struct link *l)
{
	if (l->cap - l->len < 16384) {
		size_t cap = l->cap ? l->cap * 2 : 65536;
		char *b = realloc(l->buf, cap);
		if (!b)
			ctl_fail(EX_PROTO, "out of memory");
		l->buf = b;
		l->cap = cap;
	}
	ssize_t n;
	do
		n = ctl_io_recv(l->tls, l->fd, l->buf + l->len, l->cap - l->len);
	while (n < 0 && errno == EINTR && !ctl_stop_flag);
	if (n == 0) {
		l->eof = true;
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 1; /* nothing yet (a partial TLS record): poll again */
	if (n < 0)
		return -1;
	l->len += (size_t)n;
	return 1;
}

/* Next line within timeout_ms (-1 = forever).  NULL: timeout, EOF (l->eof) or a signal. */
char *ctl_read_line(struct link *l, int timeout_ms)
{
	int64_t end = timeout_ms < 0 ? 0 : ctl_mono_ms() + timeout_ms;
	for (;;) {
		char *line = ctl_take_line(l);
		if (line || l->eof || ctl_stop_flag)
			return line;
		int wait = -1;
		if (timeout_ms >= 0) {
			int64_t left = end - ctl_mono_ms();
			if (left <= 0)
				return NULL;
			wait = (int)left;
		}
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		int r = ctl_io_pending(l->tls) > 0 ? 1 : poll(&p, 1, wait); /* TLS may hold decrypted bytes */
		if (r < 0 && errno != EINTR)
			return NULL;
		if (r > 0 && ctl_read_some(l) < 0) {
			l->eof = true;
			return NULL;
		}
	}
}

void ctl_link_close(struct link *l)
{
	ctl_tls_free(l->tls);
	if (l->fd >= 0)
		close(l->fd);
	free(l->buf);
	memset(l, 0, sizeof *l);
	l->fd = -1;
}

/* Send one request object and wait for the response with that id (pushes are skipped). */
static json_object *request(struct link *l, json_object *req, int timeout_ms)
{
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(text);
	char *line = malloc(n + 2);
	if (!line)
		ctl_fail(EX_PROTO, "out of memory");
	memcpy(line, text, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	int rc = ctl_write_all(l, line, n + 1);
	free(line);
	if (rc < 0)
		ctl_fail(EX_CONNECT, "connection lost while sending: %s", strerror(errno));
	json_object *want_id = NULL;
	json_object_object_get_ex(req, "id", &want_id);
	for (;;) {
		char *resp = ctl_read_line(l, timeout_ms);
		if (!resp) {
			if (ctl_stop_flag)
				exit(EX_CONNECT);
			if (l->eof)
				ctl_fail(EX_CONNECT, "the daemon closed the connection without answering");
			ctl_fail(EX_PROTO, "no response within %d s", timeout_ms / 1000);
		}
		json_object *o = json_tokener_parse(resp);
		if (!o || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			free(resp);
			ctl_fail(EX_PROTO, "malformed response from the daemon");
		}
		free(resp);
		json_object *id = NULL;
		if (json_object_object_get_ex(o, "push", NULL)) { /* not ours */
			json_object_put(o);
			continue;
		}
		json_object_object_get_ex(o, "id", &id);
		if (!want_id || !id || strcmp(json_object_get_string(id), json_object_get_string(want_id)) == 0)
			return o;
		json_object_put(o);
	}
}

/* Connect and authenticate.  Returns 0, -2 when the daemon refused the token, or -1 with err filled. */
int ctl_open_link(const struct target *t, struct link *l, int timeout_ms, char *err, size_t errlen)
{
	memset(l, 0, sizeof *l);
	l->fd = dial(t, err, errlen);
	if (l->fd < 0)
		return -1;
	if (t->host[0] && t->tls) {
		l->tls = ctl_tls_connect(l->fd, t->host, t->ca[0] ? t->ca : NULL, t->cert[0] ? t->cert : NULL,
		                         t->key[0] ? t->key : NULL, err, errlen);
		if (!l->tls) {
			ctl_link_close(l);
			return -1;
		}
	}
	if (t->host[0] && t->token[0]) {
		char id[64];
		json_object *req = json_object_new_object();
		json_object_object_add(req, "type", json_object_new_string("auth"));
		json_object_object_add(req, "id", json_object_new_string(new_id(id, sizeof id)));
		json_object_object_add(req, "token", json_object_new_string(t->token));
		json_object *r = request(l, req, timeout_ms);
		json_object_put(req);
		json_object *ok = NULL;
		bool answered = r != NULL;
		bool good = json_object_object_get_ex(r, "ok", &ok) && json_object_get_boolean(ok);
		json_object_put(r);
		if (!good) {
			snprintf(err, errlen, answered ? "authentication refused (check the token)"
			                               : "connection lost during authentication");
			ctl_link_close(l);
			return answered ? -2 : -1; /* -2: permanent, watch does not retry it */
		}
	}
	return 0;
}

void ctl_must_open(const struct target *t, struct link *l, int timeout_ms)
{
	char err[512];
	if (ctl_open_link(t, l, timeout_ms, err, sizeof err) != 0)
		ctl_fail(EX_CONNECT, "%s", err);
}

/* -------------------------------------------------------- requests */

bool ctl_response_ok(json_object *r)
{
	json_object *ok = NULL;
	return json_object_object_get_ex(r, "ok", &ok) && json_object_get_boolean(ok);
}

json_object *ctl_new_request(const char *type)
{
	char id[64];
	json_object *req = json_object_new_object();
	json_object_object_add(req, "type", json_object_new_string(type));
	json_object_object_add(req, "id", json_object_new_string(new_id(id, sizeof id)));
	return req;
}

/* case.get, ack, stats and ping share this: one request, one response. */
json_object *ctl_one_shot(const struct target *t, const struct opts *o, json_object *req)
{
	struct link l;
	ctl_must_open(t, &l, o->timeout_ms);
	json_object *r = request(&l, req, o->timeout_ms);
	json_object_put(req);
	ctl_link_close(&l);
	return r;
}
