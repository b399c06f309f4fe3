/*
 * test_defects_webhooks.c - end-to-end regression tests for issue 16, the
 * items about webhooks (suite `defects`; the other items are in
 * test_defects.c).  Each test failed before its fix; the item number is in
 * the test's comment.
 *
 *   webhooks:          masked bodies (4), a slow resolver never blocks the
 *                      loop (9), the dropped counter and stats == /metrics (20)
 *
 * The webhook receiver and the DNS server are small threads in this process:
 * a blocking HTTP/1.0-style receiver that records bodies, and a UDP DNS
 * server that answers only when the test releases it, so the order of events
 * (a ping answered while a DNS answer is pending) is what is asserted, never
 * a speed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "defects_helpers.h"

TestSuite(defects, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 90);

/* ------------------------------------------- webhooks: a tiny receiver */

struct receiver {
	int lfd, port;
	bool answer;              /* false: read the request, never answer (a hanging receiver) */
	pthread_t th;
	pthread_mutex_t mu;
	volatile bool stop;
	int n;
	char *bodies[64];
	int held[64], n_held;
};

static void *receiver_main(void *arg)
{
	struct receiver *rc = arg;
	while (!rc->stop) {
		struct pollfd p = { .fd = rc->lfd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		int fd = accept(rc->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		char buf[65536];
		size_t len = 0;
		char *body = NULL;
		while (len < sizeof buf - 1) {
			struct pollfd q = { .fd = fd, .events = POLLIN };
			if (poll(&q, 1, 5000) <= 0)
				break;
			ssize_t got = read(fd, buf + len, sizeof buf - 1 - len);
			if (got <= 0)
				break;
			len += (size_t)got;
			buf[len] = '\0';
			char *end = strstr(buf, "\r\n\r\n");
			char *cl = strcasestr(buf, "content-length:");
			if (end && cl && (size_t)(end + 4 - buf) + (size_t)atoi(cl + 15) <= len) {
				body = strndup(end + 4, (size_t)atoi(cl + 15));
				break;
			}
		}
		pthread_mutex_lock(&rc->mu);
		if (body && rc->n < 64)
			rc->bodies[rc->n++] = body;
		else
			free(body);
		pthread_mutex_unlock(&rc->mu);
		if (rc->answer || rc->n_held >= 64) {
			const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
			ssize_t w = write(fd, ok, strlen(ok));
			(void)w;
			close(fd);
		} else {
			rc->held[rc->n_held++] = fd;
		}
	}
	return NULL;
}

static struct receiver *receiver_start(bool answer)
{
	struct receiver *rc = calloc(1, sizeof *rc);
	rc->answer = answer;
	pthread_mutex_init(&rc->mu, NULL);
	rc->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	cr_assert(bind(rc->lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(rc->lfd, 64) == 0 &&
	          getsockname(rc->lfd, (struct sockaddr *)&a, &al) == 0);
	rc->port = ntohs(a.sin_port);
	pthread_create(&rc->th, NULL, receiver_main, rc);
	return rc;
}

static void receiver_stop(struct receiver *rc)
{
	rc->stop = true;
	pthread_join(rc->th, NULL);
	close(rc->lfd);
	for (int i = 0; i < rc->n_held; i++)
		close(rc->held[i]);
	for (int i = 0; i < rc->n; i++)
		free(rc->bodies[i]);
	free(rc);
}

static int receiver_count(struct receiver *rc)
{
	pthread_mutex_lock(&rc->mu);
	int n = rc->n;
	pthread_mutex_unlock(&rc->mu);
	return n;
}

static bool receiver_wait(struct receiver *rc, int n, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	while (receiver_count(rc) < n) {
		if (hl_now_ms() > end)
			return false;
		hl_sleep_ms(20);
	}
	return true;
}

/* A confidential caller abandons; the 1 s callback deadline passes: one alert. */
static void confidential_overdue(struct hl_conn *c, const char *id, const char *caller)
{
	json_object *r = hl_requestf(c, "{\"type\":\"call.abandoned\",\"id\":\"%s\",\"call_id\":\"%s\",\"caller\":\"%s\","
	                                "\"confidential\":true}", id, id, caller);
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
}

/* ---------------------------------------------- item 4: masked bodies */

HL_TEST(defects, webhook_bodies_mask_confidential_numbers_unless_configured)
{
	struct receiver *masked = receiver_start(true), *whole = receiver_start(true);
	char top[512];
	snprintf(top, sizeof top, "webhooks = { urls = ( \"http://127.0.0.1:%d/hook\", "
	                          "{ url = \"http://127.0.0.1:%d/hook\"; mask_confidential = false; } ); };",
	         masked->port, whole->port);
	struct hl_e2e_opts o = { .sla = "callback = \"1s\"; warn_at = 0;", .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	confidential_overdue(c, "wh-1", "+8613900000031");
	cr_assert(receiver_wait(masked, 1, 10000), "no POST to the default webhook");
	cr_assert(receiver_wait(whole, 1, 10000), "no POST to the mask_confidential = false webhook");
	json_object *m = json_tokener_parse(masked->bodies[0]), *w = json_tokener_parse(whole->bodies[0]);
	cr_assert(m && w, "bodies are not JSON: %s / %s", masked->bodies[0], whole->bodies[0]);
	cr_assert_str_eq(hl_jstr(m, "kind"), "callback_overdue");
	cr_assert_null(strstr(masked->bodies[0], "8613900000031"), "masked webhook body: %s", masked->bodies[0]);
	cr_assert_str_neq(hl_jstr(m, "caller"), "+8613900000031");
	cr_assert(hl_jbool(m, "confidential"), "%s", masked->bodies[0]);
	cr_assert_str_eq(hl_jstr(w, "caller"), "+8613900000031", "%s", whole->bodies[0]);
	cr_assert_eq(hl_jint(m, "id"), hl_jint(w, "id"));
	/* a caller who is not confidential is sent whole to both */
	json_object *r = hl_request(c, "{\"type\":\"call.abandoned\",\"id\":\"wh-2\",\"call_id\":\"wh-2\","
	                               "\"caller\":\"+8613900000032\"}");
	cr_assert(hl_jbool(r, "ok"));
	cr_assert(receiver_wait(masked, 2, 10000));
	cr_assert(strstr(masked->bodies[1], "+8613900000032"), "%s", masked->bodies[1]);
	json_object_put(m);
	json_object_put(w);
	hl_e2e_finish();
	receiver_stop(masked);
	receiver_stop(whole);
}

/* ---------------------------------- item 9: a slow resolver never blocks */

struct dns_server {
	int fd, port;
	pthread_t th;
	volatile bool stop, released;
	volatile int queries;           /* queries received */
	volatile int answered;
};

/* The answer to a query in q (len bytes): A 127.0.0.1 for type A, no records otherwise. */
static size_t dns_answer(const unsigned char *q, size_t len, unsigned char *out)
{
	if (len < 17)
		return 0;
	size_t i = 12;
	while (i < len && q[i])
		i += (size_t)q[i] + 1;
	if (i + 5 > len)
		return 0;
	size_t qend = i + 5; /* the 0 label, qtype, qclass */
	int qtype = q[i + 1] << 8 | q[i + 2];
	memcpy(out, q, qend);
	out[2] = 0x81, out[3] = 0x80;                /* response, recursion desired + available, NOERROR */
	out[4] = 0, out[5] = 1;                      /* one question */
	out[6] = 0, out[7] = qtype == 1 ? 1 : 0;     /* answers */
	memset(out + 8, 0, 4);                       /* no authority, no additional */
	size_t n = qend;
	if (qtype == 1) {
		static const unsigned char a[] = { 0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1 };
		memcpy(out + n, a, sizeof a);
		n += sizeof a;
	}
	return n;
}

static void *dns_main(void *arg)
{
	struct dns_server *ds = arg;
	struct { unsigned char buf[512]; size_t len; struct sockaddr_in from; } pending[16];
	int n_pending = 0;
	while (!ds->stop) {
		if (ds->released) {
			for (int i = 0; i < n_pending; i++) {
				unsigned char out[600];
				size_t n = dns_answer(pending[i].buf, pending[i].len, out);
				if (n && sendto(ds->fd, out, n, 0, (struct sockaddr *)&pending[i].from, sizeof pending[i].from) > 0)
					ds->answered++;
			}
			n_pending = 0;
		}
		struct pollfd p = { .fd = ds->fd, .events = POLLIN };
		if (poll(&p, 1, 20) <= 0)
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		unsigned char buf[512];
		ssize_t got = recvfrom(ds->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (got <= 0 || n_pending == 16)
			continue;
		memcpy(pending[n_pending].buf, buf, (size_t)got);
		pending[n_pending].len = (size_t)got;
		pending[n_pending].from = from;
		n_pending++;
		ds->queries++;
	}
	return NULL;
}

HL_TEST(defects, slow_dns_does_not_block_the_loop)
{
	struct dns_server ds = { 0 };
	ds.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	cr_assert(bind(ds.fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(ds.fd, (struct sockaddr *)&a, &al) == 0);
	ds.port = ntohs(a.sin_port);
	pthread_create(&ds.th, NULL, dns_main, &ds);
	struct receiver *rc = receiver_start(true);

	char top[512];
	snprintf(top, sizeof top, "webhooks = { urls = [ \"http://hook.hotline.test:%d/hook\" ]; timeout = \"20s\"; };\n"
	                          "dns = { nameserver = \"127.0.0.1:%d\"; };", rc->port, ds.port);
	struct hl_e2e_opts o = { .sla = "callback = \"1s\"; warn_at = 0;", .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	json_object *r = hl_request(c, "{\"type\":\"call.abandoned\",\"id\":\"dns-1\",\"call_id\":\"dns-1\","
	                               "\"caller\":\"+8613900000041\"}");
	cr_assert(hl_jbool(r, "ok"));
	/* the alert falls due and the webhook asks our DNS server, which holds its answer */
	int64_t end = hl_now_ms() + 15000;
	while (ds.queries == 0 && hl_now_ms() < end)
		hl_sleep_ms(20);
	cr_assert_gt(ds.queries, 0, "the daemon never asked dns.nameserver");
	/* while the answer is pending, the daemon answers pings and stores events */
	for (int i = 0; i < 5; i++) {
		char line[128];
		snprintf(line, sizeof line, "{\"type\":\"ping\",\"id\":\"dp-%d\"}", i);
		cr_assert_eq(hl_send(c, line), 0);
		json_object *p = hl_recv_json(c, 3000);
		cr_assert(p && hl_jbool(p, "ok"), "ping %d unanswered while a DNS answer was pending", i);
	}
	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"dns-2\",\"call_id\":\"dns-2\",\"caller\":\"+8613900000042\"}");
	cr_assert(hl_jbool(r, "ok"));
	cr_assert_eq(ds.answered, 0, "the DNS answer went out before the pings were answered");
	cr_assert_eq(receiver_count(rc), 0);
	/* now the name resolves, and the alert is delivered to 127.0.0.1 */
	ds.released = true;
	cr_assert(receiver_wait(rc, 1, 15000), "the webhook was not delivered after the DNS answer");
	cr_assert(strstr(rc->bodies[0], "callback_overdue"), "%s", rc->bodies[0]);
	hl_e2e_finish();
	ds.stop = true;
	pthread_join(ds.th, NULL);
	close(ds.fd);
	receiver_stop(rc);
}

/* ---------------------------- item 20: dropped deliveries, stats == /metrics */

static char *http_get_metrics(int port)
{
	int64_t end = hl_now_ms() + 5000;
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
			                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
			const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
			cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
			char *out = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&out, &len);
			char buf[4096];
			ssize_t got;
			struct pollfd p = { .fd = fd, .events = POLLIN };
			while (poll(&p, 1, 5000) > 0 && (got = read(fd, buf, sizeof buf)) > 0)
				fwrite(buf, 1, (size_t)got, m);
			fclose(m);
			close(fd);
			/* a copy: GCC's -Wdangling-pointer cannot see that open_memstream's
			 * buffer outlives the local variable it was written through */
			char *text = strdup(out ? out : "");
			free(out);
			return text;
		}
		close(fd);
		cr_assert_lt(hl_now_ms(), end, "the HTTP listener does not accept");
		hl_sleep_ms(50);
	}
}

/* Is there a sample "hotlined_<name>" or "hotlined_<name>_total" (optionally {labels}) in text? */
static bool has_metric(const char *text, const char *name)
{
	char want[160];
	const char *suffixes[] = { " ", "{", "_total ", "_total{" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(want, sizeof want, "\nhotlined_%s%s", name, suffixes[i]);
		if (strstr(text, want))
			return true;
	}
	return false;
}

/* A stats figure's name in /metrics when it is not the same name (units differ, or a grouping). */
static const char *metric_alias(const char *key)
{
	static const char *const alias[][2] = {
		{ "version", "build_info" },         { "uptime_s", "uptime_seconds" },
		{ "database", "up" },                { "events_per_s", "events" },
		{ "batch_size_mean", "batch_items" },{ "commit_ms_mean", "commit_seconds" },
		{ "commit_ms_max", "commit_seconds_max" }, { "ack_ms_mean", "ack_seconds" },
		{ "pending_clocks_total", "pending_clocks" }, { "alerts_raised", "alerts" },
		{ "alerts.raised", "alerts" },       { "alerts.escalated", "alerts_escalated" },
		{ "alerts.pushed", "alerts_pushed" },{ "alerts.escalations_pending", "pending_clocks" },
		{ "cluster", "cluster_slots" },      /* the cluster object: its gauges are hotlined_cluster_* */
		{ "due_wait_ms_mean", "due_wait_seconds" }, { "due_wait_ms_max", "due_wait_seconds_max" },
		{ "due_batch_ms_mean", "due_batch_seconds" }, { "due_batch_ms_max", "due_batch_seconds_max" },
	};
	for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
		if (strcmp(alias[i][0], key) == 0)
			return alias[i][1];
	return key;
}

/* A figure of the `stats` cluster object as /metrics names it (its name is an
 * identity, on /healthz, not a figure). */
static const char *cluster_metric(const char *key)
{
	static const char *const alias[][2] = {
		{ "owned", "cluster_slots_owned" }, { "session", "cluster_session_up" },
		{ "upkeeps", "upkeeps" },           { "partitions_created", "partitions_created" },
		{ "upkeep_failures", "upkeep_failures" },
		{ "clock_offset_ms", "cluster_clock_offset_seconds" },
	};
	static char buf[96];
	for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
		if (strcmp(alias[i][0], key) == 0)
			return alias[i][1];
	snprintf(buf, sizeof buf, "cluster_%s", key);
	return buf;
}

/* The value of an unlabelled sample, -1 when absent. */
static double metric_value(const char *text, const char *sample)
{
	char want[160];
	snprintf(want, sizeof want, "\n%s ", sample);
	const char *p = strstr(text, want);
	return p ? atof(p + strlen(want)) : -1;
}

HL_TEST(defects, dropped_webhooks_counted_and_stats_match_metrics)
{
	struct receiver *rc = receiver_start(false); /* hangs: every delivery stays pending */
	int http_port = free_port();
	char top[512];
	snprintf(top, sizeof top, "webhooks = { urls = [ \"http://127.0.0.1:%d/hook\" ]; timeout = \"30s\"; max_pending = 1; };\n"
	                          "http = { listen = \"127.0.0.1:%d\"; };", rc->port, http_port);
	struct hl_e2e_opts o = { .sla = "callback = \"1s\"; warn_at = 0;", .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	for (int i = 0; i < 3; i++) {
		char id[16], caller[32];
		snprintf(id, sizeof id, "dr-%d", i);
		snprintf(caller, sizeof caller, "+86139000005%02d", i);
		confidential_overdue(c, id, caller);
	}
	int64_t end = hl_now_ms() + 15000;
	while (hl_jint(stats_of(c), "webhooks_dropped") < 2 && hl_now_ms() < end)
		hl_sleep_ms(100);
	json_object *s = stats_of(c);
	cr_assert_eq(hl_jint(s, "webhooks_dropped"), 2, "webhooks_dropped: %lld", (long long)hl_jint(s, "webhooks_dropped"));
	char *metrics = http_get_metrics(http_port);
	cr_assert_eq(metric_value(metrics, "hotlined_webhooks_dropped_total"), 2, "%s", metrics);
	/* every figure of `stats` is in /metrics */
	json_object_object_foreach(s, key, val)
	{
		if (json_object_is_type(val, json_type_object) && strcmp(key, "cluster") == 0) {
			/* each figure of the cluster object too: an operator alerts on a
			 * peer that disagrees on cluster.slots, or on slots moving */
			json_object_object_foreach(val, sub, subval)
			{
				(void)subval;
				cr_expect(strcmp(sub, "name") == 0 || has_metric(metrics, cluster_metric(sub)),
				          "stats cluster.%s is missing from /metrics", sub);
			}
			continue;
		}
		if (json_object_is_type(val, json_type_object) && strcmp(key, "alerts") == 0) {
			json_object_object_foreach(val, sub, subval)
			{
				(void)subval;
				char full[96];
				snprintf(full, sizeof full, "alerts.%s", sub);
				cr_expect(has_metric(metrics, metric_alias(full)), "stats %s is missing from /metrics", full);
			}
			continue;
		}
		cr_expect(has_metric(metrics, metric_alias(key)), "stats %s is missing from /metrics", key);
	}
	free(metrics);
	hl_e2e_finish();
	receiver_stop(rc);
}
