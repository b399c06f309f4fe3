/*
 * listener_helpers.h - what test_limits.c and test_access.c (the listener's
 * limits and its access control) share: raw connections and the buffers a
 * test allocates, all released by fini(), and the checks both suites make
 * (expect_code, expect_ping, expect_event_served).
 *
 * Design.  Many-connection tests use raw file descriptors (the harness keeps
 * at most 64 connections); they are closed by the suite's .fini, as is every
 * buffer from xcalloc, so an assertion that aborts a test leaks nothing.
 * The functions are static inline: each file that includes this one uses
 * only some.
 */
#ifndef HL_E2E_LISTENER_HELPERS_H
#define HL_E2E_LISTENER_HELPERS_H

#include "harness.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ------------------------------------------------- per-test resources */

#define MAX_FDS 1100
static int fds[MAX_FDS];
static size_t n_fds;
static void *scratch[16];
static size_t n_scratch;

static inline void *xcalloc(size_t n, size_t size)
{
	cr_assert_lt(n_scratch, sizeof scratch / sizeof scratch[0]);
	void *p = calloc(n ? n : 1, size);
	cr_assert(p, "out of memory");
	return scratch[n_scratch++] = p;
}

/* The suite's .fini (test_access.c frees its TLS objects first). */
static inline void fini(void)
{
	while (n_fds > 0)
		close(fds[--n_fds]);
	while (n_scratch > 0)
		free(scratch[--n_scratch]);
	hl_e2e_cleanup();
}

/* A raw Unix-socket connection, closed by fini. */
static inline int raw_unix(struct hl_d *d)
{
	cr_assert_lt(n_fds, (size_t)MAX_FDS);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	fds[n_fds++] = fd;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t pl = strlen(d->sock);
	cr_assert_lt(pl, sizeof a.sun_path);
	memcpy(a.sun_path, d->sock, pl + 1);
	cr_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect #%zu: %s", n_fds, strerror(errno));
	return fd;
}

static inline int raw_tcp(struct hl_d *d)
{
	cr_assert_lt(n_fds, (size_t)MAX_FDS);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	fds[n_fds++] = fd;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)d->tcp_port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s", strerror(errno));
	return fd;
}

static inline void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		cr_assert(n > 0, "send: %s", strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/* Read one line (byte by byte: these are short test replies) into buf; false on timeout/EOF. */
static inline bool read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t n = 0;
	int64_t end = hl_now_ms() + timeout_ms;
	while (n + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end - hl_now_ms());
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r <= 0)
			return false;
		if (ch == '\n') {
			buf[n] = '\0';
			return true;
		}
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return true;
}

/* Read and discard until EOF; true if EOF came within timeout_ms. *bytes gets what was read. */
static inline bool drain_to_eof(int fd, int timeout_ms, size_t *bytes)
{
	char buf[65536];
	int64_t end = hl_now_ms() + timeout_ms;
	*bytes = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end - hl_now_ms());
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		ssize_t r = read(fd, buf, sizeof buf);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0)
			return false;
		*bytes += (size_t)r;
	}
}

static inline void expect_code(json_object *r, const char *code)
{
	cr_assert(r, "no response (expected %s)", code);
	const char *got = hl_jstr(r, "error.code");
	cr_assert(!hl_jbool(r, "ok") && got && strcmp(got, code) == 0, "expected %s, got %s", code,
	          json_object_to_json_string(r));
}

static inline void expect_ping(struct hl_conn *c, const char *id)
{
	char line[128];
	snprintf(line, sizeof line, "{\"type\":\"ping\",\"id\":\"%s\"}", id);
	json_object *r = hl_request(c, line);
	cr_assert(hl_jbool(r, "ok") && hl_jstr(r, "id") && strcmp(hl_jstr(r, "id"), id) == 0,
	          "ping %s: %s", id, json_object_to_json_string(r));
}

/* A well-formed event still works: ok, a case, a row. */
static inline void expect_event_served(struct hl_d *d, struct hl_conn *c)
{
	const char *id = hl_uid("good");
	json_object *r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"%s\",\"call_id\":\"%s\","
	                                "\"caller\":\"+8613500000099\"}", id, hl_uid("gc"));
	cr_assert(hl_jbool(r, "ok") && hl_jint(r, "case_id") > 0, "well-formed event: %s",
	          json_object_to_json_string(r));
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = '%s'", id), 1);
}

#endif
