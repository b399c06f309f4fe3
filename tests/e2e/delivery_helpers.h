/*
 * delivery_helpers.h - what test_delivery.c and test_delivery_payload.c
 * (suite `delivery`, webhook delivery: daemon/webhooks.c) share: a webhook
 * receiver, and the events and stats the tests drive the daemon with.
 *
 * Design.  Each test runs a tiny HTTP/1.1 receiver in a thread of the test
 * process: one poll() loop over a loopback listening socket and its client
 * connections.  It records every request (method, path, Content-Type, body,
 * arrival time) and answers from a programmable status sequence: request i
 * gets statuses[i], the last entry repeating; a status of 0 means "never
 * answer" (the connection is held until the daemon gives up on it, or the
 * test releases it with hook_release).  Every answer closes the connection.
 *
 * The receivers are file-scope so that the suite's .fini (delivery_fini)
 * stops and frees them even when a test aborts.  The functions are static
 * inline: each file that includes this one uses only some.
 */
#ifndef HL_E2E_DELIVERY_HELPERS_H
#define HL_E2E_DELIVERY_HELPERS_H

#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ the receiver */

#define HOOK_MAX_REQS 64
#define HOOK_MAX_CLIENTS 32
#define HOOK_MAX_STATUSES 16

struct hook_req {
	char method[16];
	char path[256];
	char ctype[128];
	char body[8192];
	char head[2048]; /* request line and headers */
	int64_t t_ms;
	int status; /* what was answered; 0 = nothing */
};

struct hook_client {
	int fd;           /* -1 = free slot */
	bool done;        /* request recorded (and not answered: held open) */
	size_t len;
	char buf[16384];
};

struct hook {
	int lfd, port;
	int wake[2];
	pthread_t th;
	bool running;
	pthread_mutex_t mu;
	int statuses[HOOK_MAX_STATUSES], n_statuses;
	struct hook_req reqs[HOOK_MAX_REQS];
	int n_reqs;
	struct hook_client cl[HOOK_MAX_CLIENTS];
	int release_status; /* hook_release: answer the held connections with it */
};

static struct hook *hooks[4];

static inline void hook_free(struct hook *h)
{
	if (h->running) {
		(void)!write(h->wake[1], "x", 1);
		pthread_join(h->th, NULL);
	}
	for (int i = 0; i < HOOK_MAX_CLIENTS; i++)
		if (h->cl[i].fd >= 0)
			close(h->cl[i].fd);
	if (h->lfd >= 0)
		close(h->lfd);
	close(h->wake[0]);
	close(h->wake[1]);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

static inline void delivery_fini(void)
{
	for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++)
		if (hooks[i]) {
			hook_free(hooks[i]);
			hooks[i] = NULL;
		}
	hl_e2e_cleanup();
}

/* Value of header `name` in the head (CRLF lines), copied to out; "" if absent. */
static inline void header_value(const char *head, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	out[0] = '\0';
	for (const char *p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = strcspn(v, "\r\n");
			snprintf(out, outlen, "%.*s", (int)vl, v);
			return;
		}
	}
}

static inline const char *reason(int status)
{
	return status == 200 ? "OK" : status < 300 ? "Success" : status == 503 ? "Service Unavailable" : "Error";
}

/* A whole request is buffered (head = request line and headers): record it,
 * answer it (or hold it). */
static inline void hook_request(struct hook *h, struct hook_client *c, const char *head, const char *body, size_t clen)
{
	struct hook_req r = { .t_ms = hl_now_ms() };
	sscanf(head, "%15s %255s", r.method, r.path);
	header_value(head, "Content-Type", r.ctype, sizeof r.ctype);
	snprintf(r.body, sizeof r.body, "%.*s", (int)clen, body);
	snprintf(r.head, sizeof r.head, "%.2000s", head);

	pthread_mutex_lock(&h->mu);
	int i = h->n_reqs;
	r.status = h->n_statuses == 0 ? 200 : h->statuses[i < h->n_statuses ? i : h->n_statuses - 1];
	if (h->n_reqs < HOOK_MAX_REQS)
		h->reqs[h->n_reqs++] = r;
	pthread_mutex_unlock(&h->mu);

	c->done = true;
	if (r.status == 0)
		return;
	char resp[256];
	int n = snprintf(resp, sizeof resp,
	                 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
	                 r.status, reason(r.status));
	(void)!send(c->fd, resp, (size_t)n, MSG_NOSIGNAL);
	close(c->fd);
	c->fd = -1;
}

static inline void hook_client_read(struct hook *h, struct hook_client *c)
{
	if (c->len == sizeof c->buf)
		c->len = 0; /* oversized: start over rather than overflow (not expected) */
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len - 1, 0);
	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	if (c->done)
		return;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	char *end = strstr(c->buf, "\r\n\r\n");
	if (!end)
		return;
	/* the head, up to and including the last header's CRLF */
	char head[8192];
	snprintf(head, sizeof head, "%.*s", (int)(end - c->buf) + 2, c->buf);
	char cl[32];
	header_value(head, "Content-Length", cl, sizeof cl);
	size_t clen = (size_t)strtoul(cl, NULL, 10);
	const char *body = end + 4;
	if ((size_t)(c->buf + c->len - body) >= clen)
		hook_request(h, c, head, body, clen);
}

static inline void *hook_main(void *arg)
{
	struct hook *h = arg;
	for (;;) {
		struct pollfd p[2 + HOOK_MAX_CLIENTS];
		int map[2 + HOOK_MAX_CLIENTS];
		int n = 0;
		p[n++] = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = h->lfd, .events = POLLIN };
		for (int i = 0; i < HOOK_MAX_CLIENTS; i++)
			if (h->cl[i].fd >= 0) {
				map[n] = i;
				p[n++] = (struct pollfd){ .fd = h->cl[i].fd, .events = POLLIN };
			}
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (p[0].revents) {
			char cmd = 'x';
			(void)!read(h->wake[0], &cmd, 1);
			if (cmd != 'r')
				return NULL;
			/* hook_release: answer every held connection */
			pthread_mutex_lock(&h->mu);
			int status = h->release_status;
			pthread_mutex_unlock(&h->mu);
			for (int i = 0; i < HOOK_MAX_CLIENTS; i++)
				if (h->cl[i].fd >= 0 && h->cl[i].done) {
					char resp[256];
					int rn = snprintf(resp, sizeof resp,
					                  "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
					                  "Connection: close\r\n\r\nok",
					                  status, reason(status));
					(void)!send(h->cl[i].fd, resp, (size_t)rn, MSG_NOSIGNAL);
					close(h->cl[i].fd);
					h->cl[i].fd = -1;
				}
			continue;
		}
		for (int k = 2; k < n; k++)
			if (p[k].revents)
				hook_client_read(h, &h->cl[map[k]]);
		if (p[1].revents & POLLIN) {
			int fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			int slot = -1;
			for (int i = 0; i < HOOK_MAX_CLIENTS && slot < 0; i++)
				if (h->cl[i].fd < 0)
					slot = i;
			if (slot < 0) {
				close(fd);
				continue;
			}
			h->cl[slot].fd = fd;
			h->cl[slot].len = 0;
			h->cl[slot].done = false;
		}
	}
}

/* Start a receiver on a free loopback port; statuses end with -1 (none = always 200). */
static inline struct hook *hook_start(const int *statuses)
{
	int slot = -1;
	for (int i = 0; i < (int)(sizeof hooks / sizeof hooks[0]) && slot < 0; i++)
		if (!hooks[i])
			slot = i;
	cr_assert(slot >= 0, "too many receivers");
	struct hook *h = calloc(1, sizeof *h);
	cr_assert(h);
	hooks[slot] = h;
	h->lfd = -1;
	for (int i = 0; i < HOOK_MAX_CLIENTS; i++)
		h->cl[i].fd = -1;
	pthread_mutex_init(&h->mu, NULL);
	cr_assert_eq(pipe2(h->wake, O_CLOEXEC), 0);
	for (int i = 0; statuses && statuses[i] >= 0; i++) {
		cr_assert_lt(i, HOOK_MAX_STATUSES);
		h->statuses[h->n_statuses++] = statuses[i];
	}
	h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(h->lfd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	cr_assert_eq(bind(h->lfd, (struct sockaddr *)&a, sizeof a), 0, "bind: %s", strerror(errno));
	cr_assert_eq(listen(h->lfd, 64), 0);
	cr_assert_eq(getsockname(h->lfd, (struct sockaddr *)&a, &al), 0);
	h->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&h->th, NULL, hook_main, h), 0);
	h->running = true;
	return h;
}

static inline int hook_count(struct hook *h)
{
	pthread_mutex_lock(&h->mu);
	int n = h->n_reqs;
	pthread_mutex_unlock(&h->mu);
	return n;
}

/* A copy of request i (0-based). */
static inline struct hook_req hook_get(struct hook *h, int i)
{
	pthread_mutex_lock(&h->mu);
	struct hook_req r = h->reqs[i];
	pthread_mutex_unlock(&h->mu);
	return r;
}

/* Wait until at least n requests arrived; false on timeout. */
static inline bool hook_wait(struct hook *h, int n, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	while (hook_count(h) < n) {
		if (hl_now_ms() > end)
			return false;
		hl_sleep_ms(10);
	}
	return true;
}

/* Answer every request held so far (status 0) with `status`. */
static inline void hook_release(struct hook *h, int status)
{
	pthread_mutex_lock(&h->mu);
	h->release_status = status;
	pthread_mutex_unlock(&h->mu);
	(void)!write(h->wake[1], "r", 1);
}

/* From now on every request gets `status`. */
static inline void hook_set_status(struct hook *h, int status)
{
	pthread_mutex_lock(&h->mu);
	h->statuses[0] = status;
	h->n_statuses = 1;
	pthread_mutex_unlock(&h->mu);
}

/* ---------------------------------------------------------------- helpers */

/* The fields of a webhook body we check (the body must be a JSON object). */
struct alert_body {
	bool json;
	int64_t id, case_id, level;
	char kind[48];
};

static inline struct alert_body parse_body(const char *body)
{
	struct alert_body b = { 0 };
	json_object *o = json_tokener_parse(body);
	if (!o)
		return b;
	b.json = json_object_is_type(o, json_type_object);
	b.id = hl_jint(o, "id");
	b.case_id = hl_jint(o, "case_id");
	b.level = hl_jint(o, "level");
	snprintf(b.kind, sizeof b.kind, "%s", hl_jstr(o, "kind") ? hl_jstr(o, "kind") : "");
	json_object_put(o);
	return b;
}

/* A new case with a transfer_loop alert at once (needs alerts.transfer_limit = 1);
 * returns the alert's id. */
static inline int64_t transfer_loop_alert(struct hl_d *d, struct hl_conn *c, int n, int64_t *case_out)
{
	int64_t id = hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"tl-%d\",\"caller\":\"+86136%08d\"", n, n);
	hl_ev(c, "\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"roads\"", (long long)id);
	hl_ev(c, "\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"water\"", (long long)id);
	if (case_out)
		*case_out = id;
	return hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE kind = 'transfer_loop' AND case_id = %lld",
	                  (long long)id);
}

static inline int64_t stat_int(struct hl_conn *c, const char *key)
{
	json_object *r = hl_requestf(c, "{\"type\":\"stats\",\"id\":\"%s\"}", hl_uid("st"));
	cr_assert(hl_jbool(r, "ok"), "stats: %s", json_object_to_json_string(r));
	char path[96];
	snprintf(path, sizeof path, "stats.%s", key);
	cr_assert(hl_jget(r, path), "stats without %s: %s", key, json_object_to_json_string(r));
	return hl_jint(r, path);
}

/* Poll stats until key reaches want (true) or timeout (false). */
static inline bool wait_stat(struct hl_conn *c, const char *key, int64_t want, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	for (;;) {
		if (stat_int(c, key) >= want)
			return true;
		if (hl_now_ms() > end)
			return false;
		hl_sleep_ms(50);
	}
}

#endif
