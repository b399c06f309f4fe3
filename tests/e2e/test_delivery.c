/*
 * test_delivery.c - end-to-end tests of webhook delivery (daemon/webhooks.c).
 *
 * Design.  Each test runs a tiny HTTP/1.1 receiver in a thread of the test
 * process: one poll() loop over a loopback listening socket and its client
 * connections.  It records every request (method, path, Content-Type, body,
 * arrival time) and answers from a programmable status sequence: request i
 * gets statuses[i], the last entry repeating; a status of 0 means "never
 * answer" (the connection is held until the daemon gives up on it).  Every
 * answer closes the connection.
 *
 * The daemon is configured with `webhooks = { urls = [...]; timeout; max_retries; }`
 * in the harness's `top` text.  Alerts come either from a real clock
 * (callback "1s", warn_at 0, escalation after "1s": the overdue alert and its
 * escalation) or, where only delivery matters, from transfer_loop with
 * alerts.transfer_limit = 1, which is raised at once by the second transfer.
 * The rows in hotline.alerts are the ground truth for ids and levels; the
 * `stats` command gives webhooks_sent / webhooks_failed.
 *
 * The receivers are file-scope so that the suite's .fini stops and frees them
 * even when a test aborts.
 */
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

#include <openssl/evp.h>
#include <openssl/hmac.h>

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
};

static struct hook *hooks[4];

static void hook_free(struct hook *h)
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

static void delivery_fini(void)
{
	for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++)
		if (hooks[i]) {
			hook_free(hooks[i]);
			hooks[i] = NULL;
		}
	hl_e2e_cleanup();
}

TestSuite(delivery, .init = hl_e2e_init, .fini = delivery_fini, .timeout = 60);

/* Value of header `name` in the head (CRLF lines), copied to out; "" if absent. */
static void header_value(const char *head, const char *name, char *out, size_t outlen)
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

static const char *reason(int status)
{
	return status == 200 ? "OK" : status < 300 ? "Success" : status == 503 ? "Service Unavailable" : "Error";
}

/* A whole request is buffered (head = request line and headers): record it,
 * answer it (or hold it). */
static void hook_request(struct hook *h, struct hook_client *c, const char *head, const char *body, size_t clen)
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

static void hook_client_read(struct hook *h, struct hook_client *c)
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

static void *hook_main(void *arg)
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
		if (p[0].revents)
			return NULL;
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
static struct hook *hook_start(const int *statuses)
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

static int hook_count(struct hook *h)
{
	pthread_mutex_lock(&h->mu);
	int n = h->n_reqs;
	pthread_mutex_unlock(&h->mu);
	return n;
}

/* A copy of request i (0-based). */
static struct hook_req hook_get(struct hook *h, int i)
{
	pthread_mutex_lock(&h->mu);
	struct hook_req r = h->reqs[i];
	pthread_mutex_unlock(&h->mu);
	return r;
}

/* Wait until at least n requests arrived; false on timeout. */
static bool hook_wait(struct hook *h, int n, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	while (hook_count(h) < n) {
		if (hl_now_ms() > end)
			return false;
		hl_sleep_ms(10);
	}
	return true;
}

/* ---------------------------------------------------------------- helpers */

/* The fields of a webhook body we check (the body must be a JSON object). */
struct alert_body {
	bool json;
	int64_t id, case_id, level;
	char kind[48];
};

static struct alert_body parse_body(const char *body)
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

static void webhooks_top(char *out, size_t len, const char *extra, const char *url, const char *timeout,
                         int max_retries)
{
	int n = snprintf(out, len, "%s\nwebhooks = { urls = [ \"%s\" ]; timeout = \"%s\"; max_retries = %d; };\n",
	                 extra ? extra : "", url, timeout, max_retries);
	cr_assert(n > 0 && (size_t)n < len);
}

static int64_t ev(struct hl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t ev(struct hl_conn *c, const char *fmt, ...)
{
	char rest[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(rest, sizeof rest, fmt, ap);
	va_end(ap);
	cr_assert(n > 0 && (size_t)n < sizeof rest);
	json_object *r = hl_requestf(c, "{\"id\":\"%s\",%s}", hl_uid("ev"), rest);
	cr_assert(hl_jbool(r, "ok"), "event {%s} refused: %s", rest, json_object_to_json_string(r));
	int64_t case_id = hl_jint(r, "case_id");
	cr_assert_gt(case_id, 0);
	return case_id;
}

/* A new case with a transfer_loop alert at once (needs alerts.transfer_limit = 1);
 * returns the alert's id. */
static int64_t transfer_loop_alert(struct hl_d *d, struct hl_conn *c, int n, int64_t *case_out)
{
	int64_t id = ev(c, "\"type\":\"call.offered\",\"call_id\":\"tl-%d\",\"caller\":\"+86136%08d\"", n, n);
	ev(c, "\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"roads\"", (long long)id);
	ev(c, "\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"water\"", (long long)id);
	if (case_out)
		*case_out = id;
	return hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE kind = 'transfer_loop' AND case_id = %lld",
	                  (long long)id);
}

static int64_t stat_int(struct hl_conn *c, const char *key)
{
	json_object *r = hl_requestf(c, "{\"type\":\"stats\",\"id\":\"%s\"}", hl_uid("st"));
	cr_assert(hl_jbool(r, "ok"), "stats: %s", json_object_to_json_string(r));
	char path[96];
	snprintf(path, sizeof path, "stats.%s", key);
	cr_assert(hl_jget(r, path), "stats without %s: %s", key, json_object_to_json_string(r));
	return hl_jint(r, path);
}

/* Poll stats until key reaches want (true) or timeout (false). */
static bool wait_stat(struct hl_conn *c, const char *key, int64_t want, int timeout_ms)
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

/* A ping's round trip in ms (fails the test if it is not ok). */
static int64_t ping_ms(struct hl_conn *c)
{
	int64_t t0 = hl_now_ms();
	json_object *r = hl_requestf(c, "{\"type\":\"ping\",\"id\":\"%s\"}", hl_uid("ping"));
	int64_t dt = hl_now_ms() - t0;
	cr_assert(hl_jbool(r, "ok"), "ping: %s", json_object_to_json_string(r));
	return dt;
}

static int count_substr(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Replace the first `from` in file path by `to`. */
static void replace_in_file(const char *path, const char *from, const char *to)
{
	FILE *f = fopen(path, "r");
	cr_assert(f, "open %s: %s", path, strerror(errno));
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *at = strstr(buf, from);
	cr_assert(at, "%s does not contain %s", path, from);
	f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "%.*s%s%s", (int)(at - buf), buf, to, at + strlen(from));
	fclose(f);
}

/* ------------------------------------------------------------------ tests */

HL_TEST(delivery, overdue_and_escalation_posted_as_json)
{
	struct hook *h = hook_start(NULL);
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", h->port);
	webhooks_top(top, sizeof top, NULL, url, "2s", 3);
	struct hl_e2e_opts o = { .sla = "callback = \"1s\"; warn_at = 0;",
		                 .escalation = "after = \"1s\"; max_level = 2;", .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	int64_t case_id = ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"wh-1\",\"caller\":\"+8613700000001\"");
	cr_assert(hook_wait(h, 1, 5000), "no webhook POST within 5 s of a 1 s callback deadline");
	struct hook_req r = hook_get(h, 0);
	cr_expect_str_eq(r.method, "POST");
	cr_expect_str_eq(r.path, "/hook");
	cr_expect(strncasecmp(r.ctype, "application/json", 16) == 0, "Content-Type: '%s'", r.ctype);
	struct alert_body b = parse_body(r.body);
	cr_assert(b.json, "body is not a JSON object: %.300s", r.body);
	int64_t alert_id = hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE kind = 'callback_overdue' AND case_id = %lld",
	                              (long long)case_id);
	cr_expect_eq(b.id, alert_id, "body id %lld, row %lld: %.300s", (long long)b.id, (long long)alert_id, r.body);
	cr_expect_str_eq(b.kind, "callback_overdue");
	cr_expect_eq(b.case_id, case_id);
	cr_expect_eq(b.level, 1);

	/* not acknowledged: escalated after 1 s and POSTed again with level 2 */
	cr_assert(hook_wait(h, 2, 5000), "no second POST (escalation) within 5 s");
	struct hook_req r2 = hook_get(h, 1);
	struct alert_body b2 = parse_body(r2.body);
	cr_assert(b2.json, "body is not a JSON object: %.300s", r2.body);
	cr_expect_eq(b2.id, alert_id);
	cr_expect_str_eq(b2.kind, "callback_overdue");
	cr_expect_eq(b2.case_id, case_id);
	cr_expect_eq(b2.level, 2);
	cr_expect_eq(hl_sql_int(d, "SELECT level FROM hotline.alerts WHERE id = %lld", (long long)alert_id), 2);
	cr_expect_geq(r2.t_ms - r.t_ms, 700, "escalation POSTed %lld ms after the alert (after = 1 s)",
	              (long long)(r2.t_ms - r.t_ms));

	/* max_level 2: nothing more; one POST per alert and escalation, no due_soon (warn_at 0) */
	hl_sleep_ms(2000);
	cr_expect_eq(hook_count(h), 2, "%d POSTs, expected 2", hook_count(h));
	cr_expect_eq(stat_int(c, "webhooks_sent"), 2);
	cr_expect_eq(stat_int(c, "webhooks_failed"), 0);
	/* the body carries the number; the daemon's log must not */
	cr_expect(!strstr(hl_d_log(d), "13700000001"), "a full phone number in the daemon log");
}

HL_TEST(delivery, retries_with_backoff_until_2xx)
{
	static const int seq[] = { 500, 500, 200, -1 };
	struct hook *h = hook_start(seq);
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", h->port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url, "2s", 3);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	int64_t case_id;
	int64_t alert_id = transfer_loop_alert(d, c, 1, &case_id);
	cr_assert(hook_wait(h, 3, 10000), "only %d POSTs within 10 s (500, 500, then 200 expected)", hook_count(h));
	struct hook_req r[3] = { hook_get(h, 0), hook_get(h, 1), hook_get(h, 2) };
	for (int i = 0; i < 3; i++) {
		struct alert_body b = parse_body(r[i].body);
		cr_expect(b.json, "attempt %d: body is not JSON: %.300s", i + 1, r[i].body);
		cr_expect_eq(b.id, alert_id, "attempt %d: id %lld", i + 1, (long long)b.id);
		cr_expect_str_eq(b.kind, "transfer_loop");
		cr_expect_eq(b.case_id, case_id);
		cr_expect_str_eq(r[i].body, r[0].body, "attempt %d sent a different body", i + 1);
	}
	int64_t g1 = r[1].t_ms - r[0].t_ms, g2 = r[2].t_ms - r[1].t_ms;
	/* backoff: about 0.5 s, then about 1 s */
	cr_expect(g1 >= 350 && g1 <= 900, "first retry after %lld ms, expected ~500", (long long)g1);
	cr_expect(g2 >= 750 && g2 <= 1600, "second retry after %lld ms, expected ~1000", (long long)g2);
	cr_expect_gt(g2, g1, "backoff does not grow: %lld then %lld ms", (long long)g1, (long long)g2);

	cr_expect(wait_stat(c, "webhooks_sent", 1, 3000), "webhooks_sent never reached 1");
	hl_sleep_ms(1500);
	cr_expect_eq(hook_count(h), 3, "delivered alert POSTed again (%d POSTs)", hook_count(h));
	cr_expect_eq(stat_int(c, "webhooks_sent"), 1);
	cr_expect_eq(stat_int(c, "webhooks_failed"), 0);
}

HL_TEST(delivery, gives_up_after_max_retries)
{
	static const int seq[] = { 503, -1 };
	struct hook *h = hook_start(seq);
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", h->port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url, "2s", 3);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	int64_t alert_id = transfer_loop_alert(d, c, 1, NULL);
	/* max_retries 3: the first attempt and 3 retries, then nothing */
	cr_assert(hook_wait(h, 4, 15000), "only %d POSTs within 15 s (4 expected)", hook_count(h));
	cr_expect(wait_stat(c, "webhooks_failed", 1, 10000), "webhooks_failed never reached 1");
	for (int i = 0; i < 4; i++)
		cr_expect_eq(parse_body(hook_get(h, i).body).id, alert_id);
	hl_sleep_ms(1500);
	cr_expect_eq(hook_count(h), 4, "%d POSTs: more than max_retries + 1", hook_count(h));
	cr_expect_eq(stat_int(c, "webhooks_failed"), 1);
	cr_expect_eq(stat_int(c, "webhooks_sent"), 0);
	/* the daemon keeps serving, and alerts keep being stored */
	cr_expect_lt(ping_ms(c), 200);
	int64_t case2;
	transfer_loop_alert(d, c, 2, &case2);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)case2), 1);
	char *log = hl_d_log(d);
	cr_expect(strstr(log, "giving up after 4 attempts"), "no 'giving up after 4 attempts' in the log");
}

HL_TEST(delivery, hanging_receiver_times_out)
{
	static const int seq[] = { 0, -1 }; /* read the request, never answer */
	struct hook *h = hook_start(seq);
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", h->port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url, "1s", 1);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	transfer_loop_alert(d, c, 1, NULL);
	cr_assert(hook_wait(h, 1, 5000), "no POST within 5 s");
	/* while the POST hangs, the socket is served at once */
	int64_t worst = 0;
	for (int i = 0; i < 5; i++) {
		int64_t ms = ping_ms(c);
		worst = ms > worst ? ms : worst;
		hl_sleep_ms(100);
	}
	cr_expect_lt(worst, 200, "a ping took %lld ms while a webhook hung", (long long)worst);
	/* timeout 1 s, max_retries 1: two attempts, then given up */
	cr_assert(hook_wait(h, 2, 8000), "no retry after the timeout (%d POSTs)", hook_count(h));
	cr_expect(wait_stat(c, "webhooks_failed", 1, 8000), "webhooks_failed never reached 1");
	struct hook_req r1 = hook_get(h, 0), r2 = hook_get(h, 1);
	cr_expect_geq(r2.t_ms - r1.t_ms, 900, "retried %lld ms after a request that had a 1 s timeout",
	              (long long)(r2.t_ms - r1.t_ms));
	cr_expect_eq(stat_int(c, "webhooks_sent"), 0);
}

HL_TEST(delivery, closed_port_does_not_block_events)
{
	/* bound but not listening: every connect is refused at once */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0;
	int port = ntohs(a.sin_port);
	if (!ok)
		close(fd);
	cr_assert(ok, "bind: %s", strerror(errno));
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url, "2s", 3);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	struct hl_conn *sender = hl_conn_tcp(d);

	enum { N_ALERTS = 5 };
	for (int i = 0; i < N_ALERTS; i++)
		transfer_loop_alert(d, sender, i + 1, NULL);
	/* while the deliveries fail and wait to retry, pings and events are answered at once */
	int64_t worst = 0;
	for (int i = 0; i < 15; i++) {
		int64_t ms = ping_ms(c);
		worst = ms > worst ? ms : worst;
		ev(sender, "\"type\":\"call.offered\",\"call_id\":\"cp-%d\",\"caller\":\"+8613500000%03d\"", i, i);
		hl_sleep_ms(100);
	}
	cr_expect_lt(worst, 200, "a ping took %lld ms while webhooks were failing", (long long)worst);
	char *log = hl_d_log(d);
	cr_expect_geq(count_substr(log, "attempt 1 failed"), N_ALERTS, "retries not logged:\n%s", log);
	cr_expect_geq(count_substr(log, "attempt 2 failed"), 1, "no second attempt within ~2 s");
	/* all of them are eventually given up */
	cr_expect(wait_stat(c, "webhooks_failed", N_ALERTS, 15000), "webhooks_failed = %lld, expected %d",
	          (long long)stat_int(c, "webhooks_failed"), N_ALERTS);
	cr_expect_eq(stat_int(c, "webhooks_sent"), 0);
	cr_expect_lt(ping_ms(c), 200);
	close(fd);
}

HL_TEST(delivery, sighup_replaces_urls)
{
	struct hook *old = hook_start(NULL);
	struct hook *new = hook_start(NULL);
	char url_old[96], url_new[96], top[512];
	snprintf(url_old, sizeof url_old, "http://127.0.0.1:%d/old", old->port);
	snprintf(url_new, sizeof url_new, "http://127.0.0.1:%d/new", new->port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url_old, "2s", 3);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	int64_t a1 = transfer_loop_alert(d, c, 1, NULL);
	cr_assert(hook_wait(old, 1, 5000), "no POST to the first URL");
	cr_expect_eq(parse_body(hook_get(old, 0).body).id, a1);
	cr_expect_str_eq(hook_get(old, 0).path, "/old");

	replace_in_file(d->conf, url_old, url_new);
	int reloads = count_substr(hl_d_log(d), "configuration reloaded");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	int64_t end = hl_now_ms() + 5000;
	while (count_substr(hl_d_log(d), "configuration reloaded") == reloads && hl_now_ms() < end)
		hl_sleep_ms(50);
	cr_assert_gt(count_substr(hl_d_log(d), "configuration reloaded"), reloads, "no reload within 5 s");

	int64_t a2 = transfer_loop_alert(d, c, 2, NULL);
	cr_assert(hook_wait(new, 1, 5000), "no POST to the new URL after SIGHUP");
	cr_expect_eq(parse_body(hook_get(new, 0).body).id, a2);
	cr_expect_str_eq(hook_get(new, 0).path, "/new");
	hl_sleep_ms(500);
	cr_expect_eq(hook_count(old), 1, "the old URL got %d POSTs after the reload", hook_count(old) - 1);
	cr_expect_eq(hook_count(new), 1);
	cr_expect_eq(stat_int(c, "webhooks_sent"), 2);
}

HL_TEST(delivery, sigterm_with_deliveries_pending)
{
	/* one POST hangs, another failed and waits to retry: a graceful stop must not wait for either */
	static const int seq[] = { 0, 500, -1 };
	struct hook *h = hook_start(seq);
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", h->port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url, "30s", 5);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	transfer_loop_alert(d, c, 1, NULL);
	transfer_loop_alert(d, c, 2, NULL);
	cr_assert(hook_wait(h, 2, 5000), "the POSTs did not arrive");
	int64_t t0 = hl_now_ms();
	int rc = hl_d_stop(d, SIGTERM, 10000);
	int64_t took = hl_now_ms() - t0;
	cr_expect_eq(rc, 0, "hotlined exited with %d on SIGTERM with webhooks pending", rc);
	cr_expect_lt(took, 5000, "the stop took %lld ms with a 30 s webhook timeout pending", (long long)took);
}

/* ------------------------------------------------ signing, auth and formats */

static void hdr(const struct hook_req *r, const char *name, char *out, size_t len)
{
	header_value(r->head, name, out, len);
}

/* The receiver's side of the signature check, as docs/webhooks.md shows it. */
static bool signature_ok(const struct hook_req *r, const char *secret)
{
	char ts[32], sig[128], want[72] = "sha256=";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	hdr(r, "X-Hotline-Timestamp", ts, sizeof ts);
	hdr(r, "X-Hotline-Signature", sig, sizeof sig);
	char msg[8300];
	snprintf(msg, sizeof msg, "%s.%s", ts, r->body);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg, strlen(msg), mac, &n);
	for (unsigned i = 0; i < n; i++)
		sprintf(want + 7 + 2 * i, "%02x", mac[i]);
	return ts[0] && strcmp(sig, want) == 0;
}

HL_TEST(delivery, signed_with_stable_delivery_id_bearer_and_headers)
{
	static const int seq[] = { 500, 200, -1 };
	struct hook *h = hook_start(seq);
	char top[1024];
	snprintf(top, sizeof top,
		 "alerts = { transfer_limit = 1; };\n"
		 "webhooks = { urls = ( { url = \"http://127.0.0.1:%d/hook\"; secret = \"s3cret\"; bearer = \"t0ken\";"
		 " headers = [ \"X-Team: hotline ops\", \"X-Env: test\" ]; } ); timeout = \"2s\"; max_retries = 3; };\n",
		 h->port);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id;
	int64_t alert_id = transfer_loop_alert(d, c, 1, &case_id);
	cr_assert(hook_wait(h, 2, 10000), "only %d POSTs within 10 s (500, then 200 expected)", hook_count(h));
	struct hook_req r[2] = { hook_get(h, 0), hook_get(h, 1) };
	char id0[96], id1[96], v[256];
	hdr(&r[0], "X-Hotline-Delivery", id0, sizeof id0);
	hdr(&r[1], "X-Hotline-Delivery", id1, sizeof id1);
	cr_expect(id0[0], "no X-Hotline-Delivery header: %s", r[0].head);
	cr_expect_str_eq(id1, id0, "the retry changed the delivery id");
	for (int i = 0; i < 2; i++) {
		cr_expect(signature_ok(&r[i], "s3cret"), "attempt %d: signature does not verify: %s", i + 1, r[i].head);
		cr_expect(!signature_ok(&r[i], "wrong"), "a wrong secret verifies");
		hdr(&r[i], "Authorization", v, sizeof v);
		cr_expect_str_eq(v, "Bearer t0ken");
		hdr(&r[i], "X-Team", v, sizeof v);
		cr_expect_str_eq(v, "hotline ops");
		hdr(&r[i], "X-Env", v, sizeof v);
		cr_expect_str_eq(v, "test");
		json_object *b = json_tokener_parse(r[i].body);
		cr_assert(b, "body not JSON: %s", r[i].body);
		cr_expect_eq(hl_jint(b, "payload_version"), 1);
		cr_expect_str_eq(hl_jstr(b, "delivery_id") ? hl_jstr(b, "delivery_id") : "", id0);
		cr_expect_eq(hl_jint(b, "id"), alert_id);
		json_object_put(b);
	}
	/* an unsigned webhook gets no signature; the secret is never logged */
	cr_expect(!strstr(hl_d_log(d), "s3cret"), "the secret in the log");
	cr_expect(!strstr(hl_d_log(d), "t0ken"), "the bearer token in the log");
}

HL_TEST(delivery, alertmanager_and_pagerduty_formats)
{
	struct hook *am = hook_start(NULL), *pd = hook_start(NULL);
	char top[1024];
	snprintf(top, sizeof top,
		 "alerts = { transfer_limit = 1; };\n"
		 "webhooks = { urls = ( { url = \"http://127.0.0.1:%d/api/v2/alerts\"; format = \"alertmanager\"; },"
		 " { url = \"http://127.0.0.1:%d/v2/enqueue\"; format = \"pagerduty\"; routing_key = \"R0UTE\"; } );"
		 " timeout = \"2s\"; max_retries = 3; };\n",
		 am->port, pd->port);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id;
	int64_t alert_id = transfer_loop_alert(d, c, 1, &case_id);
	cr_assert(hook_wait(am, 1, 5000) && hook_wait(pd, 1, 5000), "no POSTs");
	char want[64];

	struct hook_req r = hook_get(am, 0);
	json_object *arr = json_tokener_parse(r.body);
	cr_assert(arr && json_object_is_type(arr, json_type_array) && json_object_array_length(arr) == 1,
		  "alertmanager body is not an array of one: %s", r.body);
	json_object *a = json_object_array_get_idx(arr, 0), *labels, *ann;
	cr_assert(json_object_object_get_ex(a, "labels", &labels) && json_object_object_get_ex(a, "annotations", &ann));
	cr_expect_str_eq(hl_jstr(labels, "alertname"), "hotline_transfer_loop");
	snprintf(want, sizeof want, "%lld", (long long)alert_id);
	cr_expect_str_eq(hl_jstr(labels, "alert_id"), want);
	cr_expect(hl_jstr(labels, "severity"));
	json_object_object_foreach(labels, k, lv) {
		cr_expect(json_object_is_type(lv, json_type_string), "label %s is not a string", k);
	}
	cr_expect(hl_jstr(ann, "summary"));
	cr_expect_str_eq(hl_jstr(ann, "payload_version"), "1");
	cr_expect(hl_jstr(a, "startsAt") && strchr(hl_jstr(a, "startsAt"), 'T'), "startsAt: %s", r.body);
	cr_expect(hl_jstr(a, "generatorURL"));
	json_object_put(arr);

	r = hook_get(pd, 0);
	json_object *e = json_tokener_parse(r.body), *p, *cd;
	cr_assert(e && json_object_is_type(e, json_type_object), "pagerduty body: %s", r.body);
	cr_expect_str_eq(hl_jstr(e, "routing_key"), "R0UTE");
	cr_expect_str_eq(hl_jstr(e, "event_action"), "trigger");
	snprintf(want, sizeof want, "hotline-alert-%lld", (long long)alert_id);
	cr_expect_str_eq(hl_jstr(e, "dedup_key"), want);
	cr_assert(json_object_object_get_ex(e, "payload", &p));
	cr_expect(hl_jstr(p, "summary"));
	cr_expect_str_eq(hl_jstr(p, "source"), "hotlined");
	const char *sev = hl_jstr(p, "severity");
	cr_expect(sev && (!strcmp(sev, "critical") || !strcmp(sev, "error") || !strcmp(sev, "warning") ||
			  !strcmp(sev, "info")), "severity %s", sev ? sev : "(none)");
	cr_expect(hl_jstr(p, "timestamp"));
	cr_assert(json_object_object_get_ex(p, "custom_details", &cd));
	cr_expect_eq(hl_jint(cd, "id"), alert_id);
	cr_expect_eq(hl_jint(cd, "payload_version"), 1);
	json_object_put(e);
	char id_am[96], id_pd[96];
	struct hook_req ra = hook_get(am, 0), rp = hook_get(pd, 0);
	hdr(&ra, "X-Hotline-Delivery", id_am, sizeof id_am);
	hdr(&rp, "X-Hotline-Delivery", id_pd, sizeof id_pd);
	cr_expect(strcmp(id_am, id_pd) != 0, "two receivers share a delivery id %s", id_am);
}

/* From now on every request gets `status`. */
static void hook_set_status(struct hook *h, int status)
{
	pthread_mutex_lock(&h->mu);
	h->statuses[0] = status;
	h->n_statuses = 1;
	pthread_mutex_unlock(&h->mu);
}

HL_TEST(delivery, pending_delivery_survives_kill9_with_the_same_id)
{
	static const int seq[] = { 503, -1 };
	struct hook *h = hook_start(seq);
	char top[1024];
	snprintf(top, sizeof top,
		 "alerts = { transfer_limit = 1; };\n"
		 "webhooks = { urls = ( { url = \"http://127.0.0.1:%d/hook\"; secret = \"k\"; } );"
		 " timeout = \"2s\"; max_retries = 20; };\n",
		 h->port);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t alert_id = transfer_loop_alert(d, c, 1, NULL);
	cr_assert(hook_wait(h, 2, 10000), "the receiver refused, but no retry came");
	struct hook_req r0 = hook_get(h, 0);
	char id0[96], id[96];
	hdr(&r0, "X-Hotline-Delivery", id0, sizeof id0);
	cr_assert(id0[0]);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.webhook_deliveries WHERE alert_id = %lld",
				(long long)alert_id), 1, "the pending delivery is not in hotline.webhook_deliveries");

	hl_conn_close(c);
	hl_d_kill9(d);
	hook_set_status(h, 200);
	int before = hook_count(h);
	hl_d_start(d);
	cr_assert(hook_wait(h, before + 1, 10000), "the pending delivery was not sent again after the restart");
	struct hook_req r = hook_get(h, before);
	hdr(&r, "X-Hotline-Delivery", id, sizeof id);
	cr_expect_str_eq(id, id0, "the delivery id changed across the restart");
	cr_expect_str_eq(r.body, r0.body, "the body changed across the restart");
	cr_expect(signature_ok(&r, "k"), "the re-sent delivery is not signed");

	/* delivered: its row goes at once (a transaction of its own: nothing else is queued),
	 * and nothing is re-sent */
	c = hl_conn_unix(d);
	cr_expect(wait_stat(c, "webhooks_sent", 1, 5000), "webhooks_sent never reached 1 after the restart");
	int64_t end = hl_now_ms() + 3000;
	while (hl_sql_int(d, "SELECT count(*) FROM hotline.webhook_deliveries") != 0 && hl_now_ms() < end)
		hl_sleep_ms(50);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.webhook_deliveries"), 0,
		     "a delivered row is left in hotline.webhook_deliveries on a quiet hotline");
	hl_sleep_ms(1000);
	cr_expect_eq(hook_count(h), before + 1, "delivered again (%d POSTs)", hook_count(h) - before);
}
