/*
 * test_limits.c - end-to-end tests of the listener's limits and of hostile
 * input (suite `limits`; its access control is in test_access.c).
 *
 * listen.max_connections (the excess gets `busy`), max_line (too_large, then
 * closed; other connections unaffected), idle_timeout and slowloris (a line
 * trickled slower than the idle timeout), max_inflight / max_output (a
 * client pipelining 10,000 requests without reading is paused, the daemon's
 * RSS stays bounded), a stalled subscriber dropped after max_output bytes
 * while others are served, 1,000 concurrent connections beside stalled
 * ones, and a storm of malformed input.
 *
 * Design.  Many-connection tests use raw file descriptors (the harness keeps
 * at most 64 connections); they are closed by the suite's .fini, as is every
 * buffer, so an assertion that aborts a test leaks nothing (the raw
 * connections and the shared checks are in listener_helpers.h).
 */
#include "listener_helpers.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>

TestSuite(limits, .init = hl_e2e_init, .fini = fini, .timeout = 120);

static long vm_rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static json_object *stats(struct hl_conn *c)
{
	json_object *r = hl_request(c, "{\"type\":\"stats\",\"id\":\"stats\"}");
	cr_assert(hl_jbool(r, "ok"));
	return hl_jget(r, "stats");
}

/* -------------------------------------------------------- connections */

HL_TEST(limits, max_connections_excess_gets_busy)
{
	struct hl_e2e_opts o = { .listen = "max_connections = 3;" };
	struct hl_d *d = hl_d_up(&o);
	hl_sleep_ms(300); /* the harness's readiness probe connection is gone */
	struct hl_conn *c[3];
	for (int i = 0; i < 3; i++) {
		c[i] = hl_conn_unix(d);
		expect_ping(c[i], hl_uid("p"));
	}
	/* the fourth, on either socket: one clear error line, then closed */
	struct hl_conn *x = hl_conn_unix(d);
	expect_code(hl_recv_json(x, 5000), "busy");
	cr_assert(hl_wait_eof(x, 5000), "the excess connection must be closed");
	struct hl_conn *t = hl_conn_tcp(d);
	expect_code(hl_recv_json(t, 5000), "busy");
	cr_assert(hl_wait_eof(t, 5000));
	/* the three are unaffected; a freed slot can be used again */
	for (int i = 0; i < 3; i++)
		expect_ping(c[i], hl_uid("p"));
	hl_conn_close(c[0]);
	hl_sleep_ms(300);
	struct hl_conn *y = hl_conn_unix(d);
	expect_ping(y, "again");
	cr_assert_geq(hl_jint(stats(y), "connections_rejected"), 2);
}

/* A ping padded with JSON whitespace to exactly `len` bytes (without newline). */
static char *padded_ping(const char *id, size_t len)
{
	char head[128];
	int hn = snprintf(head, sizeof head, "{\"type\":\"ping\",\"id\":\"%s\"", id);
	cr_assert((size_t)hn + 1 <= len);
	char *s = xcalloc(len + 1, 1);
	memcpy(s, head, (size_t)hn);
	memset(s + hn, ' ', len - (size_t)hn - 1);
	s[len - 1] = '}';
	return s;
}

HL_TEST(limits, max_line_too_large_closes_only_that_connection)
{
	struct hl_e2e_opts o = { .listen = "max_line = 1024;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *bystander = hl_conn_unix(d);
	expect_ping(bystander, "b0");

	/* exactly max_line: accepted, also with \r\n */
	struct hl_conn *c = hl_conn_unix(d);
	json_object *r = hl_request(c, padded_ping("edge", 1024));
	cr_assert(hl_jbool(r, "ok"), "a line of exactly max_line bytes: %s", json_object_to_json_string(r));
	char *crlf = padded_ping("edge-crlf", 1024);
	cr_assert_eq(hl_send_raw(c, crlf, 1024), 0);
	r = hl_request(c, "\r");
	cr_assert(hl_jbool(r, "ok") && !strcmp(hl_jstr(r, "id"), "edge-crlf"), "max_line + CRLF: %s",
	          json_object_to_json_string(r));

	/* one byte more: too_large, then closed */
	r = hl_request(c, padded_ping("over", 1025));
	expect_code(r, "too_large");
	cr_assert(hl_wait_eof(c, 5000), "connection must be closed after too_large");

	/* a huge line without any newline: refused as soon as it is too long */
	struct hl_conn *h = hl_conn_unix(d);
	size_t big = 1 << 20;
	char *junk = xcalloc(big, 1);
	memset(junk, 'x', big);
	hl_send_raw(h, junk, big); /* may fail half-way: the daemon closes */
	expect_code(hl_recv_json(h, 5000), "too_large");
	cr_assert(hl_wait_eof(h, 5000));

	expect_ping(bystander, "b1");
	expect_event_served(d, bystander);
}

HL_TEST(limits, idle_timeout_closes_silent_connection)
{
	struct hl_e2e_opts o = { .listen = "idle_timeout = \"1s\";" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *silent = hl_conn_unix(d);
	struct hl_conn *busy = hl_conn_unix(d);
	int64_t t0 = hl_now_ms();
	/* the busy one talks every 400 ms and stays open across 3 s */
	bool silent_closed = false;
	int64_t closed_after = 0;
	for (int i = 0; i < 8; i++) {
		expect_ping(busy, hl_uid("keep"));
		if (!silent_closed && hl_wait_eof(silent, 400)) {
			silent_closed = true;
			closed_after = hl_now_ms() - t0;
		} else if (silent_closed) {
			hl_sleep_ms(400);
		}
	}
	cr_assert(silent_closed, "a silent connection must be closed after idle_timeout");
	cr_assert_geq(closed_after, 800, "closed too early: %lld ms", (long long)closed_after);
	cr_assert_leq(closed_after, 3000, "closed too late: %lld ms", (long long)closed_after);
	expect_ping(busy, "still-here");
}

HL_TEST(limits, slowloris_line_is_dropped)
{
	struct hl_e2e_opts o = { .listen = "idle_timeout = \"1s\";" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *slow = hl_conn_unix(d);
	const char *line = "{\"type\":\"ping\",\"id\":\"slowloris-trickle\"}\n";
	int64_t t0 = hl_now_ms();
	size_t i;
	bool closed = false;
	/* one byte every 300 ms: each byte resets a plain idle timer, the line never ends in time */
	for (i = 0; i < strlen(line) && !closed; i++) {
		if (hl_send_raw(slow, line + i, 1) != 0 || hl_wait_eof(slow, 300))
			closed = true;
	}
	int64_t took = hl_now_ms() - t0;
	cr_assert(closed, "a line trickled for %lld ms was not dropped", (long long)took);
	cr_assert_lt(i, strlen(line), "the whole line got through");
	cr_assert_leq(took, 4000, "dropped only after %lld ms", (long long)took);
	cr_assert_null(hl_recv(slow, 100), "no reply to a dropped partial line");
	struct hl_conn *other = hl_conn_unix(d); /* a new one: an old one would be idle by now */
	expect_ping(other, "unaffected");
}

/* ------------------------------------------------------ backpressure */

/* Offer the next bytes of request `*sent` on a non-blocking fd; false when the socket is full. */
static bool offer_request(int fd, char *buf, size_t pad, int *sent, size_t *off, size_t *len)
{
	if (*off == *len) {
		int n = snprintf(buf, pad + 256, "{\"type\":\"call.offered\",\"id\":\"pipe-%d\",\"call_id\":\"pc-%d\","
		                 "\"caller\":\"+86135%08d\"", *sent, *sent, *sent % 700);
		memset(buf + n, ' ', pad - (size_t)n);
		memcpy(buf + pad, "}\n", 2);
		*len = pad + 2;
		*off = 0;
	}
	ssize_t w = send(fd, buf + *off, *len - *off, MSG_NOSIGNAL);
	if (w <= 0) {
		cr_assert(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "send: %s", strerror(errno));
		return false;
	}
	*off += (size_t)w;
	if (*off == *len)
		(*sent)++;
	return true;
}

/* Keep offering until no byte was taken for quiet_ms (or all n are sent). */
static void offer_until_stalled(int fd, char *buf, size_t pad, int n, int *sent, size_t *off, size_t *len,
                                int quiet_ms)
{
	int64_t last_progress = hl_now_ms();
	while (*sent < n && hl_now_ms() - last_progress < quiet_ms) {
		if (offer_request(fd, buf, pad, sent, off, len)) {
			last_progress = hl_now_ms();
		} else {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			poll(&p, 1, 100);
		}
	}
}

HL_TEST(limits, pipelining_client_is_paused_and_rss_bounded)
{
	enum { N = 10000, PAD = 2048 };
	/* ASan keeps freed memory in a quarantine (256 MiB by default), which
	 * would hide what we measure: keep it small for this daemon */
	const char *asan = getenv("ASAN_OPTIONS");
	char *env = xcalloc(1024, 1);
	snprintf(env, 1024, "%s%squarantine_size_mb=4", asan ? asan : "", asan && *asan ? ":" : "");
	setenv("ASAN_OPTIONS", env, 1);
	struct hl_e2e_opts o = { .listen = "max_inflight = 128; max_output = 65536;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *other = hl_conn_unix(d);
	expect_ping(other, "warm");
	expect_event_served(d, other);
	long rss0 = vm_rss_kb(d->pid);

	/* every request is a 2 KiB line (JSON whitespace), so 10,000 of them are 20 MiB */
	char *buf = xcalloc(PAD + 256, 1);
	int fd = raw_unix(d);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	int sent = 0;
	size_t off = 0, len = 0;
	offer_until_stalled(fd, buf, PAD, N, &sent, &off, &len, 2000);
	long rss1 = vm_rss_kb(d->pid);
	int sent1 = sent;
	/* stalled means stalled: 3 s more of offering, nothing (much) taken, no growth */
	offer_until_stalled(fd, buf, PAD, N, &sent, &off, &len, 3000);
	long rss2 = vm_rss_kb(d->pid);
	cr_log_info("pipelining: %d of %d requests written before the daemon stopped reading (%d after 3 s more);"
	            " RSS %ld -> %ld -> %ld kB", sent1, N, sent, rss0, rss1, rss2);
	cr_assert_lt(sent, N / 2, "the daemon kept reading a client that never reads its replies");
	cr_assert_lt(sent - sent1, 64, "the daemon went on reading the stalled client");
	cr_assert_lt(rss2 - rss1, 4 * 1024, "RSS grew by %ld kB while the client was stalled", rss2 - rss1);
	cr_assert_lt(rss2 - rss0, 64 * 1024, "RSS grew by %ld kB", rss2 - rss0);
	/* the daemon is not stuck: others are served meanwhile */
	expect_ping(other, "meanwhile");
	expect_event_served(d, other);

	/* now read: the rest goes through and every reply comes, in order */
	int got = 0;
	char *rbuf = xcalloc(1 << 16, 1);
	size_t rlen = 0;
	int64_t deadline = hl_now_ms() + 90000;
	while (got < N && hl_now_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < N ? POLLOUT : 0) };
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if (p.revents & POLLIN) {
			ssize_t r = read(fd, rbuf + rlen, (1 << 16) - 1 - rlen);
			cr_assert(r > 0, "connection closed after %d replies", got);
			rlen += (size_t)r;
			char *nl, *start = rbuf;
			while ((nl = memchr(start, '\n', rlen - (size_t)(start - rbuf)))) {
				*nl = '\0';
				char want[32];
				snprintf(want, sizeof want, "\"id\":\"pipe-%d\"", got);
				cr_assert(strstr(start, want) && strstr(start, "\"ok\":true"), "reply %d: %.200s", got, start);
				got++;
				start = nl + 1;
			}
			rlen -= (size_t)(start - rbuf);
			memmove(rbuf, start, rlen);
		}
		if ((p.revents & POLLOUT) && sent < N)
			offer_request(fd, buf, PAD, &sent, &off, &len);
	}
	cr_assert_eq(got, N, "replies received: %d of %d", got, N);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id LIKE 'pipe-%%'"), N);
}

/* A client that pipelines and never reads is paused at max_output/2 (read
 * timeout off, max_output drop never reached): its replies making no
 * progress for idle_timeout closes it, so it cannot hold a connection slot
 * for ever.  A reviewer's client held one for 35 s with idle_timeout 5 s. */
HL_TEST(limits, pipelining_client_that_never_reads_is_closed)
{
	enum { N = 5000, PAD = 2048 };
	struct hl_e2e_opts o = { .listen = "idle_timeout = \"2s\"; max_output = 65536;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *other = hl_conn_unix(d);
	char *buf = xcalloc(PAD + 256, 1);
	int fd = raw_unix(d);
	int rcv = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	int sent = 0;
	size_t off = 0, len = 0;
	offer_until_stalled(fd, buf, PAD, N, &sent, &off, &len, 1000);
	cr_assert_lt(sent, N, "the daemon read everything");
	int64_t stalled = hl_now_ms(), gone = 0;
	while (!gone && hl_now_ms() - stalled < 8000) {
		expect_ping(other, hl_uid("meanwhile")); /* others are served */
		if (hl_jint(stats(other), "connections") == 1)
			gone = hl_now_ms() - stalled;
		else
			hl_sleep_ms(250);
	}
	cr_assert(gone, "a client that never reads its replies is still connected 8 s after it stalled");
	cr_log_info("never-reading client closed %lld ms after it stalled", (long long)gone);
	close(fd);
}

/* A client that queues many reads and leaves: its reads are dropped from the
 * queue (nobody would get them), not run one batch after another while
 * others' events wait behind them. */
HL_TEST(limits, reads_of_a_client_that_left_are_dropped)
{
	enum { N = 400 };
	struct hl_e2e_opts o = { .database = "batch_max = 4;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *other = hl_conn_unix(d);
	json_object *r = hl_request(other, "{\"type\":\"call.offered\",\"id\":\"rl-0\",\"call_id\":\"rl-0\","
	                                   "\"caller\":\"+8613800000077\"}");
	cr_assert(hl_jbool(r, "ok"));
	int64_t case_id = hl_jint(r, "case_id");
	int fd = raw_unix(d);
	char line[128];
	/* one event of the leaving client, first (input not yet read when its
	 * connection goes is never read: it was never acknowledged): stored */
	const char *ev = "{\"type\":\"case.update\",\"id\":\"rl-upd\",\"case_id\":%lld,\"note\":\"bye\"}\n";
	int n = snprintf(line, sizeof line, ev, (long long)case_id);
	cr_assert_eq(write(fd, line, (size_t)n), n);
	for (int i = 0; i < N; i++) {
		n = snprintf(line, sizeof line, "{\"type\":\"case.get\",\"id\":\"rl-get-%d\",\"case_id\":%lld}\n", i,
		             (long long)case_id);
		cr_assert_eq(write(fd, line, (size_t)n), n);
	}
	close(fd);
	int64_t t0 = hl_now_ms();
	while (hl_jint(stats(other), "queued") > 0 && hl_now_ms() - t0 < 20000)
		hl_sleep_ms(50);
	int64_t dropped = hl_jint(stats(other), "reads_orphaned");
	cr_log_info("%lld of %d reads of a client that left were dropped", (long long)dropped, N);
	cr_assert_gt(dropped, N / 2, "only %lld of %d reads dropped", (long long)dropped, N);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = 'rl-upd'"), 1);
	expect_event_served(d, other);
}

HL_TEST(limits, stalled_subscriber_dropped_others_served)
{
	enum { CASES = 1500 };
	struct hl_e2e_opts o = {
		.listen = "max_output = 65536;",
		.sla = "callback = \"1s\"; warn_at = 0.5; update = \"0\"; resolution = \"0\";",
	};
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *ev = hl_conn_unix(d), *good = hl_conn_unix(d), *stalled = hl_conn_unix(d);
	cr_assert(hl_jbool(hl_request(good, "{\"type\":\"subscribe\",\"id\":\"s-good\"}"), "ok"));
	cr_assert(hl_jbool(hl_request(stalled, "{\"type\":\"subscribe\",\"id\":\"s-stalled\"}"), "ok"));
	/* the stalled one never reads again */

	/* small windows, 100 ms apart, so that the alerts come in bursts far
	 * below max_output (see reading_subscriber_survives_alert_burst) */
	int pushes = 0;
	char line[256];
	for (int from = 0; from < CASES; from += 50) {
		for (int i = from; i < from + 50; i++) {
			snprintf(line, sizeof line, "{\"type\":\"call.abandoned\",\"id\":\"ab-%d\",\"call_id\":\"abc-%d\","
			         "\"caller\":\"+86134%08d\"}", i, i, i);
			cr_assert_eq(hl_send(ev, line), 0);
		}
		for (int i = from; i < from + 50; i++) {
			json_object *r = hl_recv_json(ev, HL_TIMEOUT_MS);
			cr_assert(r && hl_jbool(r, "ok"), "event %d: %s", i, r ? json_object_to_json_string(r) : "none");
		}
		/* the good subscriber keeps up */
		int64_t until = hl_now_ms() + 100;
		char *p;
		while (hl_now_ms() < until)
			if ((p = hl_recv(good, 20)))
				pushes += strstr(p, "\"push\":\"alert\"") != NULL;
	}
	/* 2 alerts per case (due soon, overdue), all within ~1 s of the last event */
	int64_t end = hl_now_ms() + 20000, total = 0;
	while (hl_now_ms() < end) {
		char *p = hl_recv(good, 500);
		if (p) {
			pushes += strstr(p, "\"push\":\"alert\"") != NULL;
			continue;
		}
		total = hl_sql_int(d, "SELECT count(*) FROM hotline.alerts");
		if (total >= 2 * CASES && pushes >= total)
			break;
	}
	cr_log_info("stalled subscriber: %lld alerts, %d pushed to the good subscriber", (long long)total, pushes);
	cr_assert_eq(total, 2 * CASES, "alerts raised");
	cr_assert_eq(pushes, total, "the reading subscriber must get every alert");

	/* the stalled one was dropped: what it can still read ends in EOF */
	size_t bytes;
	cr_assert(drain_to_eof(stalled->fd, 5000, &bytes), "the stalled subscriber was not dropped");
	cr_assert_lt(bytes, (size_t)2 * CASES * 200, "the stalled subscriber was not cut off early");
	json_object *s = stats(ev);
	cr_assert_geq(hl_jint(s, "connections_dropped_slow"), 1);
	cr_assert_eq(hl_jint(s, "subscribers"), 1, "only the good subscriber is left");
	char *log = hl_d_log(d);
	cr_assert(strstr(log, "max_output"), "the drop is logged with its reason");
	expect_event_served(d, ev);
}

/* A subscriber that reads all the time must not be dropped because one batch
 * of fires raised more than max_output bytes of alerts at once: 600 callback
 * clocks with the same due time fall due in one batch (600 pushes of ~250
 * bytes = ~150 KB, queued before the daemon gets to write any of it). */
HL_TEST(limits, reading_subscriber_survives_alert_burst)
{
	enum { CASES = 600 };
	struct hl_e2e_opts o = {
		.listen = "max_output = 65536;",
		.sla = "callback = \"2s\"; warn_at = 0; update = \"0\"; resolution = \"0\";",
	};
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *ev = hl_conn_unix(d), *good = hl_conn_unix(d);
	cr_assert(hl_jbool(hl_request(good, "{\"type\":\"subscribe\",\"id\":\"s-good\"}"), "ok"));
	/* one write, one `at`: one due time for all */
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char at[40];
	strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
	size_t cap = CASES * 200, len = 0;
	char *buf = xcalloc(cap, 1);
	for (int i = 0; i < CASES; i++)
		len += (size_t)snprintf(buf + len, cap - len, "{\"type\":\"call.abandoned\",\"id\":\"bu-%d\",\"call_id\":"
		                        "\"buc-%d\",\"caller\":\"+86133%08d\",\"at\":\"%s\"}\n", i, i, i, at);
	cr_assert_eq(hl_send_raw(ev, buf, len), 0);
	for (int i = 0; i < CASES; i++) {
		json_object *r = hl_recv_json(ev, HL_TIMEOUT_MS);
		cr_assert(r && hl_jbool(r, "ok"), "event %d", i);
	}
	int pushes = 0;
	int64_t end = hl_now_ms() + 10000;
	while (pushes < CASES && hl_now_ms() < end) {
		char *p = hl_recv(good, 200);
		if (p)
			pushes += strstr(p, "\"push\":\"alert\"") != NULL;
		else if (good->eof)
			break;
	}
	int64_t total = hl_sql_int(d, "SELECT count(*) FROM hotline.alerts");
	cr_log_info("alert burst: %lld alerts, %d pushed, subscriber %s", (long long)total, pushes,
	            good->eof ? "dropped" : "connected");
	cr_assert_eq(total, CASES);
	cr_assert(!good->eof, "a subscriber that reads continuously was dropped (see the daemon log)");
	cr_assert_eq(pushes, CASES, "pushes received");
}

HL_TEST(limits, thousand_connections_beside_stalled_clients)
{
	enum { N = 1000, STALLED = 20 };
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 4096) {
		rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= 4096 ? 4096 : rl.rlim_max;
		rl.rlim_cur = want;
		if (geteuid() == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 4096)
			rl.rlim_max = rl.rlim_cur = 4096;
		cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0, "setrlimit: %s", strerror(errno));
	}
	cr_assert_geq(rl.rlim_cur, (rlim_t)(N + STALLED + 200), "RLIMIT_NOFILE too low: %llu",
	              (unsigned long long)rl.rlim_cur);
	/* the daemon inherits the raised limit */
	struct hl_e2e_opts o = { .listen = "max_connections = 1200; max_output = 65536;" };
	struct hl_d *d = hl_d_up(&o);

	/* stalled clients: half a line and silence; pings pipelined and never read */
	for (int i = 0; i < STALLED; i++) {
		int fd = raw_unix(d);
		if (i % 2 == 0) {
			write_all(fd, "{\"type\":\"pi", 11);
		} else {
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			char pings[64 * 40];
			size_t n = 0;
			for (int k = 0; k < 64; k++)
				n += (size_t)snprintf(pings + n, sizeof pings - n, "{\"type\":\"ping\",\"id\":\"st%d\"}\n", k);
			for (int k = 0; k < 200; k++)
				if (send(fd, pings, n, MSG_NOSIGNAL) < 0)
					break; /* full: the daemon stopped reading it */
		}
	}
	int *cfd = xcalloc(N, sizeof *cfd);
	for (int i = 0; i < N; i++)
		cfd[i] = raw_unix(d);
	char line[128];
	for (int i = 0; i < N; i++) {
		int n = snprintf(line, sizeof line, "{\"type\":\"ping\",\"id\":\"c%d\"}\n", i);
		write_all(cfd[i], line, (size_t)n);
	}
	for (int i = 0; i < N; i++) {
		char want[64];
		cr_assert(read_line(cfd[i], line, sizeof line, 15000), "connection %d: no ping reply", i);
		snprintf(want, sizeof want, "\"id\":\"c%d\"", i);
		cr_assert(strstr(line, want) && strstr(line, "\"ok\":true"), "connection %d: %s", i, line);
	}
	struct hl_conn *c = hl_conn_unix(d);
	json_object *s = stats(c);
	cr_assert_geq(hl_jint(s, "connections"), N + 1, "connections: %lld", (long long)hl_jint(s, "connections"));
	expect_event_served(d, c);
}

/* ---------------------------------------------------------- bad input */

/* One line of junk (never containing '\n', never empty after a trailing '\r'). */
static size_t junk_line(char *buf, size_t cap, int kind, unsigned *seed)
{
	size_t n = 0;
	switch (kind % 10) {
	case 0: /* random bytes */
		n = 1 + (size_t)(rand_r(seed) % 2000);
		for (size_t i = 0; i < n; i++) {
			buf[i] = (char)(rand_r(seed) & 0xff);
			if (buf[i] == '\n')
				buf[i] = 'n';
		}
		buf[n - 1] = buf[n - 1] == '\r' ? 'r' : buf[n - 1];
		break;
	case 1: /* huge numbers */
		n = (size_t)snprintf(buf, cap, "{\"type\":\"call.answered\",\"id\":\"big-%d\",\"case_id\":%s,\"call_id\":1e999999}",
		                     rand_r(seed), "123456789012345678901234567890123456789");
		break;
	case 2: { /* deep nesting */
		size_t depth = 5000 + (size_t)(rand_r(seed) % 5000);
		for (size_t i = 0; i < depth; i++)
			buf[n++] = '[';
		for (size_t i = 0; i < depth; i++)
			buf[n++] = ']';
		break;
	}
	case 3: { /* deep objects inside a request */
		n = (size_t)snprintf(buf, cap, "{\"type\":\"ping\",\"id\":\"deep\",\"x\":");
		for (int i = 0; i < 3000; i++)
			n += (size_t)snprintf(buf + n, cap - n, "{\"a\":");
		buf[n++] = '1';
		for (int i = 0; i < 3000; i++)
			buf[n++] = '}';
		buf[n++] = '}';
		break;
	}
	case 4: /* invalid UTF-8 and a lone surrogate */
		n = (size_t)snprintf(buf, cap, "{\"type\":\"call.offered\",\"id\":\"utf-\xff\xfe\",\"call_id\":\"\xc0\xaf\","
		                     "\"caller\":\"\\ud800\"}");
		break;
	case 5: /* NUL bytes, raw and escaped */
		memcpy(buf, "{\"type\":\"ping\",\"id\":\"n\0l\"}", 27);
		n = 27;
		if (rand_r(seed) % 2) {
			n = (size_t)snprintf(buf, cap, "{\"type\":\"ping\",\"id\":\"nul\\u0000\"}");
		}
		break;
	case 6: /* wrong types */
		n = (size_t)snprintf(buf, cap, "{\"type\":[\"ping\"],\"id\":%d,\"caller\":{}}", rand_r(seed));
		break;
	case 7: /* truncated JSON */
		n = (size_t)snprintf(buf, cap, "{\"type\":\"call.offered\",\"id\":\"trunc\",\"call_id\":\"x");
		break;
	case 8: /* control characters in strings, bad escapes */
		n = (size_t)snprintf(buf, cap, "{\"type\":\"case.update\",\"id\":\"ctl\x01\x1b\",\"case_id\":1,\"note\":\"\\x41\\q\"}");
		break;
	default: /* long string just under the line limit */
		n = (size_t)snprintf(buf, cap, "{\"type\":\"case.update\",\"id\":\"");
		for (int i = 0; i < 20000; i++)
			buf[n++] = (char)('a' + rand_r(seed) % 26);
		n += (size_t)snprintf(buf + n, cap - n, "\",\"case_id\":-9223372036854775808}");
		break;
	}
	return n;
}

HL_TEST(limits, malformed_input_storm)
{
	enum { CONNS = 16, LINES = 120 };
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *good = hl_conn_unix(d);
	char *buf = xcalloc(1 << 16, 1);
	int fdv[CONNS];
	unsigned seed = 20261120;
	for (int k = 0; k < CONNS; k++)
		fdv[k] = raw_unix(d);
	for (int k = 0; k < CONNS; k++) {
		for (int j = 0; j < LINES; j++) {
			size_t n = junk_line(buf, (1 << 16) - 2, j + k, &seed);
			buf[n++] = '\n';
			write_all(fdv[k], buf, n);
		}
	}
	/* exactly one JSON reply per line, in order; the connection stays open */
	for (int k = 0; k < CONNS; k++) {
		for (int j = 0; j < LINES; j++) {
			char reply[2048];
			cr_assert(read_line(fdv[k], reply, sizeof reply, 15000), "conn %d: no reply to junk line %d", k, j);
			json_object *r = json_tokener_parse(reply);
			cr_assert(r, "reply is not JSON: %.200s", reply);
			json_object *okv = NULL;
			bool has_ok = json_object_object_get_ex(r, "ok", &okv);
			bool err = !json_object_get_boolean(okv) && hl_jstr(r, "error.code");
			json_object_put(r);
			cr_assert(has_ok, "reply without ok: %.200s", reply);
			cr_assert(err || (j + k) % 10 == 1 || (j + k) % 10 == 3, "junk line %d accepted: %.200s", j, reply);
		}
		write_all(fdv[k], "{\"type\":\"ping\",\"id\":\"after\"}\n", 29);
		char reply[256];
		cr_assert(read_line(fdv[k], reply, sizeof reply, 5000) && strstr(reply, "\"ok\":true"),
		          "conn %d unusable after junk", k);
	}
	cr_assert(hl_d_alive(d));
	expect_ping(good, "good");
	expect_event_served(d, good);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 1, "no junk was stored");
}
