/*
 * pgproxy_helpers.h - a TCP proxy between a daemon and the test cluster that
 * can cut the store's connection right after a COMMIT.
 *
 * Design.  A thread of the test process listens on a loopback port and
 * relays each connection to the cluster's Unix socket.  It reads the
 * client's StartupMessage (sslmode=disable, gssencmode=disable: the first
 * packet is the startup message in clear) to tell the daemon's store
 * (application_name "hotlined") from its cluster session
 * ("hotlined:<name>"), and follows the store's messages by their frames
 * (a type byte, then a length).  pgproxy_arm() makes the next Sync the store
 * sends the last thing its server answers it: the server runs and COMMITs
 * the pipeline, every NOTIFY it sends reaches the cluster session (relayed
 * untouched), but the store's results are swallowed, as when a network
 * loses them.  pgproxy_cut() then closes that connection on both sides: the
 * daemon sees the loss only now, after the notifications of its own commit
 * have arrived - the order that "a write cut off after its COMMIT" through
 * a real network takes, and that a backend terminated in its commit wait
 * (test_faults_doubt.c) does not.  pgproxy_cut_session() cuts the cluster
 * session instead, and keeps it out until pgproxy_unblock_session().
 * pgproxy_cut_session_after_alert() lets the next NOTIFY hotline_alert reach
 * the cluster session, drops what the session sends after it (the fetch of
 * that alert) and cuts and blocks the session 300 ms later: a session lost
 * between a notification and the answer to its fetch.
 *
 * Everything is static inline and file-scope, like delivery_helpers.h; the
 * suite's .fini stops the proxy even when a test aborts.
 */
#ifndef HL_E2E_PGPROXY_HELPERS_H
#define HL_E2E_PGPROXY_HELPERS_H

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PGPROXY_MAX 16

struct pgproxy_conn {
	int cfd, sfd;          /* -1 = free */
	bool started;          /* the startup message has been read */
	bool store;            /* application_name is exactly "hotlined" */
	unsigned char hdr[5];  /* the frame header being read (startup: 4 bytes) */
	int hdr_have;
	uint32_t skip;         /* body bytes of the current frame still to come */
	char startup[2048];
	uint32_t startup_len, startup_have;
	bool swallow;          /* the server's answers are dropped */
	int64_t doomed_at;     /* pgproxy_cut_session_after_alert: its notification went by; cut then */
};

struct pgproxy {
	int lfd, port, wake[2];
	char upstream[100]; /* a Unix socket path (sun_path holds 108) */
	pthread_t th;
	bool running;
	atomic_bool armed, cut, swallowing;
	atomic_bool cut_session, block_session; /* the cluster session: cut, kept out */
	atomic_bool cut_after_alert;            /* pgproxy_cut_session_after_alert */
	struct pgproxy_conn c[PGPROXY_MAX];
};

static struct pgproxy *the_pgproxy;

static inline void pgproxy_close(struct pgproxy_conn *k)
{
	if (k->cfd >= 0)
		close(k->cfd);
	if (k->sfd >= 0)
		close(k->sfd);
	memset(k, 0, sizeof *k);
	k->cfd = k->sfd = -1;
}

/* The startup message's application_name. */
static inline void pgproxy_startup(struct pgproxy_conn *k)
{
	const char *p = k->startup + 4, *end = k->startup + k->startup_have;
	while (p < end && *p) {
		const char *key = p, *val = key + strnlen(key, (size_t)(end - key)) + 1;
		if (val >= end)
			break;
		if (strcmp(key, "application_name") == 0)
			k->store = strcmp(val, "hotlined") == 0;
		p = val + strnlen(val, (size_t)(end - val)) + 1;
	}
}

/* Follow the client's frames through these bytes; true when a Sync went by. */
static inline bool pgproxy_scan(struct pgproxy_conn *k, const unsigned char *b, size_t n)
{
	bool sync = false;
	size_t i = 0;
	while (i < n) {
		if (k->skip > 0) {
			size_t take = n - i < k->skip ? n - i : k->skip;
			if (!k->started && k->startup_have + take <= sizeof k->startup) {
				memcpy(k->startup + k->startup_have, b + i, take);
				k->startup_have += (uint32_t)take;
			}
			k->skip -= (uint32_t)take;
			i += take;
			if (k->skip == 0 && !k->started) {
				k->started = true;
				pgproxy_startup(k);
			}
			continue;
		}
		int need = k->started ? 5 : 4;
		k->hdr[k->hdr_have++] = b[i++];
		if (k->hdr_have < need)
			continue;
		const unsigned char *l = k->hdr + (k->started ? 1 : 0);
		uint32_t len = (uint32_t)l[0] << 24 | (uint32_t)l[1] << 16 | (uint32_t)l[2] << 8 | l[3];
		k->hdr_have = 0;
		if (k->started) {
			sync |= k->hdr[0] == 'S';
			k->skip = len - 4;
		} else {
			k->startup_len = len;
			k->startup_have = 0;
			k->skip = len - 4;
		}
	}
	return sync;
}

static inline void pgproxy_send_all(int fd, const void *b, size_t n)
{
	const char *p = b;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w, n -= (size_t)w;
	}
}

static inline void *pgproxy_main(void *arg)
{
	struct pgproxy *x = arg;
	for (;;) {
		struct pollfd pf[2 + 2 * PGPROXY_MAX];
		int map[2 + 2 * PGPROXY_MAX], n = 0;
		pf[n] = (struct pollfd){ .fd = x->wake[0], .events = POLLIN }, map[n++] = -1;
		pf[n] = (struct pollfd){ .fd = x->lfd, .events = POLLIN }, map[n++] = -2;
		for (int i = 0; i < PGPROXY_MAX; i++)
			if (x->c[i].cfd >= 0) {
				pf[n] = (struct pollfd){ .fd = x->c[i].cfd, .events = POLLIN }, map[n++] = 2 * i;
				pf[n] = (struct pollfd){ .fd = x->c[i].sfd, .events = POLLIN }, map[n++] = 2 * i + 1;
			}
		if (poll(pf, (nfds_t)n, 50) < 0 && errno != EINTR)
			return NULL;
		if (pf[0].revents)
			return NULL;
		if (atomic_exchange(&x->cut, false))
			for (int i = 0; i < PGPROXY_MAX; i++)
				if (x->c[i].cfd >= 0 && x->c[i].swallow)
					pgproxy_close(&x->c[i]);
		if (atomic_exchange(&x->cut_session, false))
			for (int i = 0; i < PGPROXY_MAX; i++)
				if (x->c[i].cfd >= 0 && x->c[i].started && !x->c[i].store)
					pgproxy_close(&x->c[i]);
		for (int i = 0; i < PGPROXY_MAX; i++)
			if (x->c[i].cfd >= 0 && x->c[i].doomed_at && hl_now_ms() >= x->c[i].doomed_at) {
				atomic_store(&x->block_session, true);
				pgproxy_close(&x->c[i]);
			}
		if (pf[1].revents & POLLIN) {
			int cfd = accept(x->lfd, NULL, NULL);
			int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
			struct sockaddr_un a = { .sun_family = AF_UNIX };
			snprintf(a.sun_path, sizeof a.sun_path, "%s", x->upstream);
			int slot = -1;
			for (int i = 0; i < PGPROXY_MAX && slot < 0; i++)
				if (x->c[i].cfd < 0)
					slot = i;
			if (cfd < 0 || sfd < 0 || slot < 0 || connect(sfd, (struct sockaddr *)&a, sizeof a) != 0) {
				if (cfd >= 0)
					close(cfd);
				if (sfd >= 0)
					close(sfd);
			} else {
				x->c[slot].cfd = cfd, x->c[slot].sfd = sfd;
			}
		}
		for (int j = 2; j < n; j++) {
			struct pgproxy_conn *k = &x->c[map[j] / 2];
			if (!pf[j].revents || k->cfd < 0 || pf[j].fd != (map[j] % 2 ? k->sfd : k->cfd))
				continue;
			unsigned char b[16384];
			ssize_t r = read(pf[j].fd, b, sizeof b);
			if (r <= 0) {
				pgproxy_close(k);
				continue;
			}
			if (map[j] % 2 == 0) {
				bool sync = pgproxy_scan(k, b, (size_t)r);
				if (k->doomed_at)
					continue; /* the fetch of the notified alert never reaches the server */
				if (k->started && !k->store && atomic_load(&x->block_session)) {
					pgproxy_close(k);
					continue;
				}
				pgproxy_send_all(k->sfd, b, (size_t)r);
				if (sync && k->store && atomic_exchange(&x->armed, false)) {
					k->swallow = true;
					atomic_store(&x->swallowing, true);
				}
			} else if (!k->swallow) {
				pgproxy_send_all(k->cfd, b, (size_t)r);
				if (k->started && !k->store && !k->doomed_at && atomic_load(&x->cut_after_alert) &&
				    memmem(b, (size_t)r, "hotline_alert", sizeof "hotline_alert")) {
					atomic_store(&x->cut_after_alert, false);
					k->doomed_at = hl_now_ms() + 300;
				}
			}
		}
	}
}

static inline void pgproxy_free(struct pgproxy *x)
{
	if (x->running) {
		(void)!write(x->wake[1], "x", 1);
		pthread_join(x->th, NULL);
	}
	for (int i = 0; i < PGPROXY_MAX; i++)
		pgproxy_close(&x->c[i]);
	close(x->lfd);
	close(x->wake[0]);
	close(x->wake[1]);
	free(x);
}

static inline void pgproxy_fini(void)
{
	hl_e2e_cleanup(); /* the daemons first: they talk through the proxy */
	if (the_pgproxy) {
		pgproxy_free(the_pgproxy);
		the_pgproxy = NULL;
	}
}

/* A proxy to the test cluster's Unix socket (the harness's defaults). */
static inline struct pgproxy *pgproxy_start(void)
{
	struct pgproxy *x = calloc(1, sizeof *x);
	cr_assert(x);
	for (int i = 0; i < PGPROXY_MAX; i++)
		x->c[i].cfd = x->c[i].sfd = -1;
	char cwd[100];
	if (!getcwd(cwd, sizeof cwd))
		strcpy(cwd, ".");
	const char *host = getenv("HOTLINE_TEST_PGHOST"), *port = getenv("HOTLINE_TEST_PGPORT");
	char defhost[128];
	snprintf(defhost, sizeof defhost, "%s/var/pg/run", cwd);
	int un = snprintf(x->upstream, sizeof x->upstream, "%.60s/.s.PGSQL.%.8s", host && *host ? host : defhost,
	                  port && *port ? port : "5432");
	cr_assert(un > 0 && (size_t)un < sizeof x->upstream && strlen(host && *host ? host : defhost) <= 60,
	          "the test cluster's socket directory is too long for the proxy");
	cr_assert(x->upstream[0] == '/', "the proxy needs the test cluster on a Unix socket (%s)", x->upstream);
	cr_assert_eq(pipe(x->wake), 0);
	x->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	cr_assert(x->lfd >= 0 && bind(x->lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(x->lfd, 16) == 0);
	cr_assert_eq(getsockname(x->lfd, (struct sockaddr *)&a, &al), 0);
	x->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&x->th, NULL, pgproxy_main, x), 0);
	x->running = true;
	the_pgproxy = x;
	return x;
}

/* Point a created (not started) daemon at the proxy: its conninfo line is
 * replaced; the harness's SQL helpers keep their direct connection. */
static inline void pgproxy_route(struct pgproxy *x, struct hl_d *d)
{
	FILE *f = fopen(d->conf, "r");
	cr_assert(f);
	char *text = calloc(1, 65536), *out = calloc(1, 65536 + 512);
	size_t n = fread(text, 1, 65535, f);
	fclose(f);
	text[n] = '\0';
	char *at = strstr(text, "conninfo = \""), *end = at ? strstr(at, "\";") : NULL;
	cr_assert(at && end, "no conninfo in %s", d->conf);
	snprintf(out, 65536 + 512,
	         "%.*sconninfo = \"host=127.0.0.1 port=%d user=hotlined dbname=%s sslmode=disable gssencmode=disable%s",
	         (int)(at - text), text, x->port, d->dbname, end);
	f = fopen(d->conf, "w");
	cr_assert(f);
	fputs(out, f);
	fclose(f);
	free(text);
	free(out);
}

/* The next Sync the store sends is the last its server answers it. */
static inline void pgproxy_arm(struct pgproxy *x)
{
	atomic_store(&x->swallowing, false);
	atomic_store(&x->armed, true);
}

/* Whether an armed Sync has gone by (its answers are being swallowed). */
static inline bool pgproxy_swallowing(struct pgproxy *x)
{
	return atomic_load(&x->swallowing);
}

/* The cluster session's connection closed, and new ones refused while
 * blocked (the store's connection is left alone). */
static inline void pgproxy_cut_session(struct pgproxy *x, bool block)
{
	atomic_store(&x->block_session, block);
	atomic_store(&x->cut_session, true);
}

/* See the top: the session is lost between the next alert's notification and its fetch. */
static inline void pgproxy_cut_session_after_alert(struct pgproxy *x)
{
	atomic_store(&x->cut_after_alert, true);
}

static inline void pgproxy_unblock_session(struct pgproxy *x)
{
	atomic_store(&x->block_session, false);
}

/* Close the swallowed connection on both sides. */
static inline void pgproxy_cut(struct pgproxy *x)
{
	atomic_store(&x->cut, true); /* done at the thread's next turn (50 ms at most) */
}

#endif
