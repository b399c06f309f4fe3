/*
 * test_service.c - end-to-end tests of the systemd integration, without systemd.
 *
 * Two things systemd gives a service are exercised with stand-ins:
 *
 *  - socket activation: the daemon is started under
 *    `systemd-socket-activate -l 127.0.0.1:PORT -l DIR/act.sock` (no --accept,
 *    so the listening sockets themselves are passed as LISTEN_FDS).  The
 *    configuration names other addresses; the daemon must serve on the
 *    activated ones and open none of its own.  systemd-socket-activate passes
 *    only TERM/PATH/USER/HOME and its -E variables to the child, so the
 *    sanitizer options are forwarded with -E.  Skipped when the tool is absent.
 *
 *  - sd_notify: the test binds a Unix datagram socket and starts the daemon
 *    with NOTIFY_SOCKET pointing at it (hl_d_start_ex), then reads the
 *    notification lines (READY=1, STATUS=, WATCHDOG=1, RELOADING=1,
 *    STOPPING=1) in arrival order.  "After the database is up" is made
 *    observable by revoking CONNECT on the test database from PUBLIC (the
 *    daemon logs in as the unprivileged hotlined role) and granting it back.
 *
 * The datagram socket is file-scope so that the suite's .fini closes it even
 * when a test aborts.
 */
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

static int notify_fd = -1;

static void service_fini(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
	hl_e2e_cleanup();
}

TestSuite(service, .init = hl_e2e_init, .fini = service_fini, .timeout = 90);

#define SOCKET_ACTIVATE "/usr/bin/systemd-socket-activate"

/* ---------------------------------------------------------------- helpers */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	int rc = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 ? getsockname(fd, (struct sockaddr *)&a, &al) : -1;
	close(fd);
	cr_assert_eq(rc, 0, "cannot find a free port: %s", strerror(errno));
	return ntohs(a.sin_port);
}

/* errno of a TCP connect to 127.0.0.1:port (0 when it connected). */
static int tcp_connect_errno(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int e = connect(fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : errno;
	close(fd);
	return e;
}

static void expect_ping(struct hl_conn *c, const char *what)
{
	const char *id = hl_uid("ping");
	json_object *r = hl_requestf(c, "{\"type\":\"ping\",\"id\":\"%s\"}", id);
	cr_assert(hl_jbool(r, "ok"), "ping over %s: %s", what, json_object_to_json_string(r));
	cr_assert_str_eq(hl_jstr(r, "id") ? hl_jstr(r, "id") : "", id);
}

static const char *stats_database(struct hl_conn *c)
{
	json_object *r = hl_requestf(c, "{\"type\":\"stats\",\"id\":\"%s\"}", hl_uid("stats"));
	cr_assert(hl_jbool(r, "ok"), "stats: %s", json_object_to_json_string(r));
	const char *db = hl_jstr(r, "stats.database");
	cr_assert(db, "stats without database: %s", json_object_to_json_string(r));
	return db;
}

/* --- the NOTIFY_SOCKET stand-in */

struct note {
	char line[256];
	int64_t t_ms;
};

struct notes {
	struct note m[1024];
	int n;
};

static char notify_env[200];
static struct notes notes; /* static: an aborted test leaks nothing */

/* Bind DIR/notify.sock; sets notify_env to "NOTIFY_SOCKET=<path>". */
static void notify_open(struct hl_d *d)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path, sizeof a.sun_path, "%s/notify.sock", d->dir);
	cr_assert(n > 0 && (size_t)n < sizeof a.sun_path);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(notify_fd >= 0, "socket: %s", strerror(errno));
	cr_assert_eq(bind(notify_fd, (struct sockaddr *)&a, sizeof a), 0, "bind %s: %s", a.sun_path, strerror(errno));
	snprintf(notify_env, sizeof notify_env, "NOTIFY_SOCKET=%s", a.sun_path);
}

/* Read datagrams for up to timeout_ms (stops at the first one); each line is kept. */
static bool notify_read(struct notes *nl, int timeout_ms)
{
	struct pollfd p = { .fd = notify_fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	char buf[4096];
	ssize_t len = recv(notify_fd, buf, sizeof buf - 1, 0);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	int64_t now = hl_now_ms();
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cr_assert_lt(nl->n, (int)(sizeof nl->m / sizeof nl->m[0]), "too many notifications");
		snprintf(nl->m[nl->n].line, sizeof nl->m[0].line, "%s", line);
		nl->m[nl->n].t_ms = now;
		nl->n++;
	}
	return true;
}

/* Read everything that arrives within ms. */
static void notify_drain(struct notes *nl, int ms)
{
	int64_t end = hl_now_ms() + ms;
	for (int64_t left = ms; left > 0; left = end - hl_now_ms())
		notify_read(nl, (int)left);
}

/* Read what is already queued (e.g. from a daemon that has exited). */
static void notify_flush(struct notes *nl)
{
	while (notify_read(nl, 0))
		;
}

/* Index of the first line at or after `from` starting with prefix, or -1. */
static int notify_find(const struct notes *nl, const char *prefix, int from)
{
	for (int i = from < 0 ? 0 : from; i < nl->n; i++)
		if (strncmp(nl->m[i].line, prefix, strlen(prefix)) == 0)
			return i;
	return -1;
}

/* Wait up to timeout_ms for such a line at or after `from`; its index or -1. */
static int notify_wait(struct notes *nl, const char *prefix, int from, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	for (;;) {
		int i = notify_find(nl, prefix, from);
		if (i >= 0)
			return i;
		int64_t left = end - hl_now_ms();
		if (left <= 0)
			return -1;
		notify_read(nl, (int)left);
	}
}

static int notify_count(const struct notes *nl, const char *prefix, int from)
{
	int n = 0;
	for (int i = notify_find(nl, prefix, from); i >= 0; i = notify_find(nl, prefix, i + 1))
		n++;
	return n;
}

/* All lines so far, for failure messages (static buffer). */
static const char *notify_dump(const struct notes *nl)
{
	static char s[8192];
	size_t k = 0;
	s[0] = '\0';
	for (int i = 0; i < nl->n && k + 4 < sizeof s; i++)
		k += (size_t)snprintf(s + k, sizeof s - k, "%s%s", i ? " | " : "", nl->m[i].line);
	return s;
}

/* Start the daemon with NOTIFY_SOCKET plus `extra` environment entries. */
static void start_notified(struct hl_d *d, const char *extra1, const char *extra2)
{
	const char *env[] = { notify_env, extra1, extra2, NULL };
	hl_d_start_ex(d, NULL, env);
}

/* ------------------------------------------------------- socket activation */

HL_TEST(service, socket_activation)
{
	if (access(SOCKET_ACTIVATE, X_OK) != 0)
		cr_skip_test("%s not found (Debian: apt-get install systemd); socket activation not tested", SOCKET_ACTIVATE);

	struct hl_e2e_opts o = { .no_start = true };
	struct hl_d *d = hl_d_up(&o);
	/* the configuration's own addresses: d->tcp_port and d->sock */
	int own_port = d->tcp_port;
	char own_sock[sizeof d->sock];
	snprintf(own_sock, sizeof own_sock, "%s", d->sock);

	int act_port = free_port();
	cr_assert_neq(act_port, own_port);
	char act_tcp[64], act_sock[sizeof d->sock];
	snprintf(act_tcp, sizeof act_tcp, "127.0.0.1:%d", act_port);
	snprintf(act_sock, sizeof act_sock, "%s/act.sock", d->dir);

	/* sanitizer settings must cross the tool's environment filter */
	static char san[3][1100];
	const char *prefix[16] = { SOCKET_ACTIVATE, "-l", act_tcp, "-l", act_sock };
	int np = 5, ns = 0;
	static const char *const pass[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS" };
	for (int i = 0; i < 3; i++) {
		const char *v = getenv(pass[i]);
		if (v && *v) {
			snprintf(san[ns], sizeof san[ns], "%s=%s", pass[i], v);
			prefix[np++] = "-E";
			prefix[np++] = san[ns++];
		}
	}
	prefix[np] = NULL;

	/* the harness waits on d->sock: the activated socket */
	snprintf(d->sock, sizeof d->sock, "%s", act_sock);
	hl_d_start_ex(d, prefix, NULL);
	d->tcp_port = act_port;

	struct hl_conn *u = hl_conn_unix(d);
	expect_ping(u, "the activated unix socket");
	struct hl_conn *t = hl_conn_tcp(d);
	expect_ping(t, "the activated TCP socket");

	/* an event over the activated unix socket is stored */
	const char *eid = hl_uid("act");
	json_object *r = hl_requestf(u, "{\"type\":\"call.offered\",\"id\":\"%s\",\"call_id\":\"act-1\","
	                                "\"caller\":\"+8613800000001\"}", eid);
	cr_assert(hl_jbool(r, "ok"), "call.offered over the activated socket: %s", json_object_to_json_string(r));
	int64_t case_id = hl_jint(r, "case_id");
	cr_assert_gt(case_id, 0);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = '%s' AND case_id = %lld",
	                        eid, (long long)case_id), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 'act-1'"), 1);
	/* and one over TCP too */
	const char *eid2 = hl_uid("act");
	r = hl_requestf(t, "{\"type\":\"case.update\",\"id\":\"%s\",\"case_id\":%lld,\"note\":\"via tcp\"}", eid2,
	                (long long)case_id);
	cr_assert(hl_jbool(r, "ok"), "case.update over activated TCP: %s", json_object_to_json_string(r));
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = '%s'", eid2), 1);

	/* the configuration's own addresses were not opened */
	cr_assert_neq(access(own_sock, F_OK), 0, "the configured unix socket %s was created", own_sock);
	int e = tcp_connect_errno(own_port);
	cr_assert_eq(e, ECONNREFUSED, "the configured TCP port %d: connect gave %s", own_port,
	             e ? strerror(e) : "a connection");
	char *log = hl_d_log(d);
	cr_assert(strstr(log, "using 2 socket(s) from systemd"), "no 'using 2 socket(s) from systemd' in the log");
	cr_assert(!strstr(log, "listening on tcp"), "the daemon opened its own TCP listener");
	cr_assert(!strstr(log, "listening on unix"), "the daemon opened its own unix listener");
}

/* ------------------------------------------------------------- sd_notify */

HL_TEST(service, notify_ready_only_after_database)
{
	struct hl_e2e_opts o = { .no_start = true, .database = "reconnect_max = \"1s\";" };
	struct hl_d *d = hl_d_up(&o);
	notify_open(d);
	/* the daemon logs in as hotlined, which may connect only through PUBLIC */
	hl_sql(d, "REVOKE CONNECT ON DATABASE %s FROM PUBLIC", d->dbname);
	struct notes *nl = &notes;
	start_notified(d, NULL, NULL);

	struct hl_conn *c = hl_conn_unix(d);
	notify_drain(nl, 1500);
	cr_expect_eq(notify_find(nl, "READY=1", 0), -1, "READY=1 while the database refuses the daemon: %s",
	             notify_dump(nl));
	cr_expect_geq(notify_find(nl, "STATUS=", 0), 0, "no STATUS= line in 1.5 s: %s", notify_dump(nl));
	cr_expect_str_eq(stats_database(c), "down");

	hl_sql(d, "GRANT CONNECT ON DATABASE %s TO PUBLIC", d->dbname);
	int ready = notify_wait(nl, "READY=1", 0, 10000);
	cr_assert_geq(ready, 0, "no READY=1 within 10 s of the database becoming reachable: %s", notify_dump(nl));
	/* READY is sent once the store is up: the very next request sees it */
	cr_expect_str_eq(stats_database(c), "up");
	json_object *r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"%s\",\"call_id\":\"rd-1\","
	                                "\"caller\":\"+8613800000002\"}", hl_uid("rd"));
	cr_expect(hl_jbool(r, "ok"), "event after READY=1: %s", json_object_to_json_string(r));
	notify_drain(nl, 300);
	cr_expect_eq(notify_count(nl, "READY=1", 0), 1, "READY=1 more than once: %s", notify_dump(nl));
}

HL_TEST(service, notify_ready_status_watchdog)
{
	struct hl_e2e_opts o = { .no_start = true };
	struct hl_d *d = hl_d_up(&o);
	notify_open(d);
	struct notes *nl = &notes;
	start_notified(d, "WATCHDOG_USEC=1000000", "WATCHDOG_PID=@PID@");

	int ready = notify_wait(nl, "READY=1", 0, 15000);
	cr_assert_geq(ready, 0, "no READY=1 within 15 s: %s", notify_dump(nl));
	int64_t t0 = hl_now_ms();
	notify_drain(nl, 2500);
	cr_expect_geq(notify_find(nl, "STATUS=", 0), 0, "no STATUS= line: %s", notify_dump(nl));
	/* the watchdog must be fed well inside WATCHDOG_USEC */
	int n = 0;
	int64_t prev = t0, max_gap = 0;
	for (int i = notify_find(nl, "WATCHDOG=1", ready); i >= 0; i = notify_find(nl, "WATCHDOG=1", i + 1)) {
		if (nl->m[i].t_ms < t0)
			continue;
		if (nl->m[i].t_ms - prev > max_gap)
			max_gap = nl->m[i].t_ms - prev;
		prev = nl->m[i].t_ms;
		n++;
	}
	if (hl_now_ms() - prev > max_gap)
		max_gap = hl_now_ms() - prev;
	cr_expect_geq(n, 3, "only %d WATCHDOG=1 in 2.5 s with WATCHDOG_USEC=1000000: %s", n, notify_dump(nl));
	cr_expect_lt(max_gap, 1000, "a %lld ms gap between WATCHDOG=1 (WATCHDOG_USEC is 1 s)", (long long)max_gap);

	/* WATCHDOG_PID names another process: the watchdog is not ours */
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0);
	notify_flush(nl);
	int mark = nl->n;
	start_notified(d, "WATCHDOG_USEC=1000000", "WATCHDOG_PID=1");
	cr_assert_geq(notify_wait(nl, "READY=1", mark, 15000), 0, "no READY=1 after the restart: %s", notify_dump(nl));
	notify_drain(nl, 1500);
	cr_expect_eq(notify_find(nl, "WATCHDOG=1", mark), -1, "WATCHDOG=1 although WATCHDOG_PID is another process");

	/* no WATCHDOG_USEC at all: no watchdog */
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0);
	notify_flush(nl);
	mark = nl->n;
	start_notified(d, NULL, NULL);
	cr_assert_geq(notify_wait(nl, "READY=1", mark, 15000), 0, "no READY=1 after the restart: %s", notify_dump(nl));
	notify_drain(nl, 1500);
	cr_expect_eq(notify_find(nl, "WATCHDOG=1", mark), -1, "WATCHDOG=1 without WATCHDOG_USEC");
}

HL_TEST(service, notify_reload_and_stop)
{
	struct hl_e2e_opts o = { .no_start = true };
	struct hl_d *d = hl_d_up(&o);
	notify_open(d);
	struct notes *nl = &notes;
	start_notified(d, NULL, NULL);
	int ready = notify_wait(nl, "READY=1", 0, 15000);
	cr_assert_geq(ready, 0, "no READY=1 within 15 s: %s", notify_dump(nl));

	/* a good reload: RELOADING=1, then READY=1 again */
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	int reloading = notify_wait(nl, "RELOADING=1", ready + 1, 10000);
	cr_assert_geq(reloading, 0, "no RELOADING=1 after SIGHUP: %s", notify_dump(nl));
	int again = notify_wait(nl, "READY=1", reloading + 1, 10000);
	cr_assert_geq(again, 0, "no READY=1 after RELOADING=1: %s", notify_dump(nl));
	cr_expect_geq(notify_find(nl, "STATUS=configuration reloaded", reloading + 1), 0, "%s", notify_dump(nl));

	/* a refused reload (broken file) still ends the reload with READY=1 */
	FILE *f = fopen(d->conf, "a");
	cr_assert(f);
	fprintf(f, "sla = { callback = \"soon\"; };\n");
	fclose(f);
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	int reloading2 = notify_wait(nl, "RELOADING=1", again + 1, 10000);
	cr_assert_geq(reloading2, 0, "no RELOADING=1 after the second SIGHUP: %s", notify_dump(nl));
	int again2 = notify_wait(nl, "READY=1", reloading2 + 1, 10000);
	cr_assert_geq(again2, 0, "no READY=1 after a refused reload: %s", notify_dump(nl));
	cr_expect_geq(notify_find(nl, "STATUS=reload refused", reloading2 + 1), 0, "%s", notify_dump(nl));
	struct hl_conn *c = hl_conn_unix(d);
	expect_ping(c, "unix after a refused reload");

	/* SIGTERM: STOPPING=1, exit 0, and no READY=1 after it */
	notify_flush(nl);
	int mark = nl->n;
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0, "hotlined must exit 0 on SIGTERM");
	notify_drain(nl, 300);
	int stopping = notify_find(nl, "STOPPING=1", mark);
	cr_expect_geq(stopping, 0, "no STOPPING=1 on SIGTERM: %s", notify_dump(nl));
	if (stopping >= 0)
		cr_expect_eq(notify_find(nl, "READY=1", stopping), -1, "READY=1 after STOPPING=1: %s", notify_dump(nl));
}
