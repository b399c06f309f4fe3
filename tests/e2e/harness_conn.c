/*
 * harness_conn.c - the e2e harness's side of the daemon's sockets:
 * connections (Unix and TCP), sending, line-by-line reading, request and
 * response, the JSON accessors for responses (hl_jget ...), and alert
 * pushes on a subscribed connection (hl_subscribe ...).
 *
 * Design.  Sockets are plain blocking fds with poll() for read timeouts;
 * lines are split on '\n' (a trailing '\r' dropped) in a per-connection
 * buffer.  Every connection goes into the registry (harness.c), whose cleanup
 * closes it; every line and JSON response handed out is kept there too.
 */
#include "harness.h"
#include "harness_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void put_json(void *p) { json_object_put(p); }

/* ------------------------------------------------------------ connections */

int harness_connect_unix(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path) {
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct hl_conn *conn_new(int fd)
{
	struct hl_conn *c = calloc(1, sizeof *c);
	cr_assert(c);
	c->fd = fd;
	for (int i = 0; i < MAX_CONNS; i++)
		if (!harness_conns[i]) {
			harness_conns[i] = c;
			return c;
		}
	close(fd);
	free(c);
	cr_assert_fail("too many connections in one test");
	return NULL;
}

struct hl_conn *hl_conn_unix(struct hl_d *d)
{
	int fd = harness_connect_unix(d->sock);
	cr_assert(fd >= 0, "connect %s: %s", d->sock, strerror(errno));
	return conn_new(fd);
}

struct hl_conn *hl_conn_tcp(struct hl_d *d)
{
	cr_assert(d->tcp_port > 0, "TCP is disabled for this daemon");
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)d->tcp_port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		int e = errno;
		close(fd);
		cr_assert_fail("connect 127.0.0.1:%d: %s", d->tcp_port, strerror(e));
	}
	return conn_new(fd);
}

void hl_conn_close(struct hl_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < MAX_CONNS; i++)
		if (harness_conns[i] == c)
			harness_conns[i] = NULL;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

int hl_send_raw(struct hl_conn *c, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int hl_send(struct hl_conn *c, const char *line)
{
	size_t n = strlen(line);
	char *s = malloc(n + 1);
	cr_assert(s);
	memcpy(s, line, n);
	s[n] = '\n';
	int rc = hl_send_raw(c, s, n + 1);
	free(s);
	return rc;
}

int hl_sendf(struct hl_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = harness_vfmt(fmt, ap);
	va_end(ap);
	int rc = hl_send(c, s);
	free(s);
	return rc;
}

/* Take one complete line out of the buffer, or NULL. */
static char *take_line(struct hl_conn *c)
{
	char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
	if (!nl)
		return NULL;
	size_t n = (size_t)(nl - c->buf);
	char *line = malloc(n + 1);
	cr_assert(line);
	memcpy(line, c->buf, n);
	line[n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	return line;
}

/* Read what is available within the deadline; false on timeout or EOF. */
static bool fill(struct hl_conn *c, int64_t deadline)
{
	int64_t left = deadline - hl_now_ms();
	if (left < 0)
		left = 0;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int r = poll(&p, 1, (int)left);
	if (r <= 0)
		return false;
	if (c->cap - c->len < 65536) {
		c->cap = c->cap ? c->cap * 2 : 131072;
		c->buf = realloc(c->buf, c->cap);
		cr_assert(c->buf);
	}
	ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	if (n <= 0) {
		if (n < 0 && errno == EINTR)
			return true;
		c->eof = true;
		return false;
	}
	c->len += (size_t)n;
	return true;
}

char *hl_recv(struct hl_conn *c, int timeout_ms)
{
	int64_t deadline = hl_now_ms() + timeout_ms;
	for (;;) {
		char *line = take_line(c);
		if (line)
			return harness_keep(line, free);
		if (c->eof || !fill(c, deadline))
			return NULL;
	}
}

bool hl_wait_eof(struct hl_conn *c, int timeout_ms)
{
	int64_t deadline = hl_now_ms() + timeout_ms;
	while (!c->eof) {
		if (c->len > 0)
			return false; /* more data came instead */
		if (!fill(c, deadline))
			return c->eof;
	}
	return c->len == 0;
}

json_object *hl_recv_json(struct hl_conn *c, int timeout_ms)
{
	char *line = hl_recv(c, timeout_ms);
	if (!line)
		return NULL;
	json_object *o = json_tokener_parse(line);
	if (!o)
		cr_assert_fail("response is not JSON: %.200s", line);
	return harness_keep(o, put_json);
}

json_object *hl_request(struct hl_conn *c, const char *line)
{
	cr_assert_eq(hl_send(c, line), 0, "send failed: %s", strerror(errno));
	json_object *o = hl_recv_json(c, HL_TIMEOUT_MS);
	if (!o) {
		char head[200];
		snprintf(head, sizeof head, "%s", line);
		cr_assert_fail("no response within %d ms (%s) to: %s", HL_TIMEOUT_MS,
		               c->eof ? "connection closed" : "timeout", head);
	}
	return o;
}

json_object *hl_requestf(struct hl_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = harness_vfmt(fmt, ap);
	va_end(ap);
	json_object *o = NULL;
	/* no cr_assert between vfmt and free: an abort would leak s */
	if (hl_send(c, s) == 0)
		o = hl_recv_json(c, HL_TIMEOUT_MS);
	char head[200];
	snprintf(head, sizeof head, "%s", s);
	free(s);
	if (!o)
		cr_assert_fail("no response within %d ms (%s) to: %s", HL_TIMEOUT_MS,
		               c->eof ? "connection closed" : "timeout or send error", head);
	return o;
}

/* ------------------------------------------------------------------- json */

json_object *hl_jget(json_object *o, const char *path)
{
	char part[128];
	const char *p = path;
	while (o && *p) {
		size_t n = strcspn(p, ".");
		if (n >= sizeof part)
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		p += n;
		if (*p == '.')
			p++;
		if (json_object_is_type(o, json_type_array)) {
			char *end;
			long i = strtol(part, &end, 10);
			if (*end || i < 0 || (size_t)i >= json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, (size_t)i);
		} else if (json_object_is_type(o, json_type_object)) {
			json_object *v;
			if (!json_object_object_get_ex(o, part, &v))
				return NULL;
			o = v; /* NULL for a JSON null: the loop ends there */
		} else {
			return NULL;
		}
	}
	return o;
}

const char *hl_jstr(json_object *o, const char *path)
{
	json_object *v = hl_jget(o, path);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t hl_jint(json_object *o, const char *path)
{
	json_object *v = hl_jget(o, path);
	return v ? json_object_get_int64(v) : 0;
}

bool hl_jbool(json_object *o, const char *path)
{
	json_object *v = hl_jget(o, path);
	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

bool hl_jnull(json_object *o, const char *path)
{
	/* json-c stores null members as NULL values: present-but-NULL means null */
	const char *dot = strrchr(path, '.');
	json_object *parent = o;
	const char *key = path;
	if (dot) {
		char head[256];
		size_t n = (size_t)(dot - path);
		if (n >= sizeof head)
			return false;
		memcpy(head, path, n);
		head[n] = '\0';
		parent = hl_jget(o, head);
		key = dot + 1;
	}
	json_object *v = NULL;
	if (!parent || !json_object_is_type(parent, json_type_object) || !json_object_object_get_ex(parent, key, &v))
		return false;
	return v == NULL;
}

/* ------------------------------------------------------- alert pushes */

struct hl_conn *hl_subscribe(struct hl_d *d, int64_t since)
{
	struct hl_conn *s = hl_conn_unix(d);
	const char *id = hl_uid("sub");
	json_object *r = since >= 0
		? hl_requestf(s, "{\"type\":\"subscribe\",\"id\":\"%s\",\"since\":%lld}", id, (long long)since)
		: hl_requestf(s, "{\"type\":\"subscribe\",\"id\":\"%s\"}", id);
	cr_assert(hl_jbool(r, "ok"), "subscribe refused: %s", json_object_to_json_string(r));
	cr_assert(hl_jstr(r, "id") && strcmp(hl_jstr(r, "id"), id) == 0, "subscribe answered %s",
	          json_object_to_json_string(r));
	return s;
}

bool hl_read_push(struct hl_conn *s, struct hl_pushes *ps, int timeout_ms)
{
	json_object *o = hl_recv_json(s, timeout_ms < 0 ? 0 : timeout_ms);
	/* acknowledgement pushes ({"push":"ack"}, test_people.c checks them) are not alerts: skip */
	int64_t end = hl_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	while (o && hl_jstr(o, "push") && strcmp(hl_jstr(o, "push"), "ack") == 0) {
		int64_t left = end - hl_now_ms();
		o = hl_recv_json(s, left > 0 ? (int)left : 0);
	}
	if (!o)
		return false;
	const char *what = hl_jstr(o, "push");
	cr_assert(what && strcmp(what, "alert") == 0 && !hl_jget(o, "ok") && !hl_jget(o, "id"),
	          "not an alert push: %s", json_object_to_json_string(o));
	cr_assert_lt(ps->n, (int)(sizeof ps->p / sizeof ps->p[0]), "too many pushes");
	struct hl_push *p = &ps->p[ps->n++];
	memset(p, 0, sizeof *p);
	p->id = hl_jint(o, "alert.id");
	p->case_id = hl_jint(o, "alert.case_id");
	p->level = hl_jint(o, "alert.level");
	p->t_ms = hl_wall_ms();
	snprintf(p->kind, sizeof p->kind, "%s", hl_jstr(o, "alert.kind") ? hl_jstr(o, "alert.kind") : "?");
	snprintf(p->caller, sizeof p->caller, "%s", hl_jstr(o, "alert.caller") ? hl_jstr(o, "alert.caller") : "");
	cr_assert_gt(p->id, 0, "push without alert.id: %s", json_object_to_json_string(o));
	cr_assert_geq(p->level, 1, "push without level: %s", json_object_to_json_string(o));
	/* timestamps carry milliseconds: "...:SS.mmmZ" */
	const char *ra = hl_jstr(o, "alert.raised_at");
	cr_assert(ra, "push without raised_at: %s", json_object_to_json_string(o));
	size_t rl = strlen(ra);
	cr_expect(rl >= 5 && ra[rl - 5] == '.' && ra[rl - 1] == 'Z', "raised_at without milliseconds: %s",
	          json_object_to_json_string(o));
	return true;
}

const struct hl_push *hl_find_push(const struct hl_pushes *ps, const char *kind, int64_t case_id, int64_t level)
{
	for (int i = 0; i < ps->n; i++)
		if (ps->p[i].case_id == case_id && strcmp(ps->p[i].kind, kind) == 0 && (!level || ps->p[i].level == level))
			return &ps->p[i];
	return NULL;
}

int hl_count_pushes(const struct hl_pushes *ps, const char *kind, int64_t case_id)
{
	int n = 0;
	for (int i = 0; i < ps->n; i++)
		n += ps->p[i].case_id == case_id && (!kind || strcmp(ps->p[i].kind, kind) == 0);
	return n;
}

const struct hl_push *hl_await_push(struct hl_conn *s, struct hl_pushes *ps, const char *kind, int64_t case_id,
                                    int64_t level, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	const struct hl_push *p;
	while (!(p = hl_find_push(ps, kind, case_id, level)))
		if (!hl_read_push(s, ps, (int)(end - hl_now_ms())))
			return NULL;
	return p;
}

void hl_collect_pushes(struct hl_conn *s, struct hl_pushes *ps, int ms)
{
	int64_t end = hl_now_ms() + ms;
	while (hl_now_ms() < end)
		hl_read_push(s, ps, (int)(end - hl_now_ms()));
}

json_object *hl_vrequest_new(struct hl_conn *c, const char *id_prefix, const char *fmt, va_list ap)
{
	char rest[2048];
	int n = vsnprintf(rest, sizeof rest, fmt, ap);
	cr_assert(n > 0 && (size_t)n < sizeof rest);
	return hl_requestf(c, "{\"id\":\"%s\",%s}", hl_uid(id_prefix), rest);
}

int64_t hl_ev(struct hl_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_object *r = hl_vrequest_new(c, "ev", fmt, ap);
	va_end(ap);
	cr_assert(hl_jbool(r, "ok"), "event refused: %s", json_object_to_json_string(r));
	cr_assert(!hl_jbool(r, "duplicate"), "unexpected duplicate: %s", json_object_to_json_string(r));
	int64_t case_id = hl_jint(r, "case_id");
	cr_assert_gt(case_id, 0, "no case_id in %s", json_object_to_json_string(r));
	return case_id;
}
