/*
 * harness.c - end-to-end test harness: real hotlined children on fresh databases.
 *
 * This file is the harness's core: the per-test registry, the Criterion hooks
 * (hl_e2e_init, hl_e2e_finish, hl_e2e_cleanup), the routing of assertion
 * failures, the results owned for the test, and the clock and id helpers.
 * The rest is split by what it talks to (harness.h says which file holds
 * which function):
 *
 *   harness_pg.c      the PostgreSQL test cluster: a database per daemon, hl_sql*
 *   harness_daemon.c  the config file and the hotlined children
 *   harness_conn.c    connections, lines, requests, JSON accessors, alert pushes
 *
 * They share harness_internal.h; the tests include harness.h only.
 *
 * Design.  Criterion runs every test in its own worker process, so the
 * harness keeps a small registry (daemons, connections) in file-scope state
 * of that worker: this is test code, not a pure module.  hl_e2e_cleanup(),
 * installed as the suite's .fini (and as an atexit fallback), tears down
 * everything in reverse: connections, children (SIGTERM, then SIGKILL),
 * databases (DROP ... WITH (FORCE)), temp dirs.  Whatever the harness hands
 * to a test (a response, a row, a string) is kept here and freed by the
 * cleanup, so an assertion that aborts a test leaks nothing.
 */
#include "harness.h"
#include "harness_internal.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The registry of what this test process created (see the design note);
 * harness_daemon.c and harness_conn.c fill it. */
struct hl_d *harness_daemons[MAX_DAEMONS];
struct hl_conn *harness_conns[MAX_CONNS];
static bool test_failed;
/* results handed to the test (responses, rows, strings), freed by the cleanup */
static struct kept { void *p; void (*fn)(void *); } *kept;
static size_t n_kept, cap_kept;
static bool atexit_set;

/* ------------------------------------------------------------ small utils */

void hl_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int64_t hl_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hl_sleep_until(int64_t wall)
{
	int64_t left = wall - hl_wall_ms();
	if (left > 0)
		hl_sleep_ms((int)left);
}

const char *hl_iso_ms(int64_t ms)
{
	static char ring[32][40];
	static unsigned n;
	char *s = ring[n++ % 32];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t k = strftime(s, sizeof ring[0], "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(s + k, sizeof ring[0] - k, ".%03dZ", (int)(ms % 1000));
	return s;
}

const char *hl_iso_in(int delta_s)
{
	static char ring[16][40];
	static unsigned n;
	char *s = ring[n++ % 16];
	time_t t = time(NULL) + delta_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(s, sizeof ring[0], "%Y-%m-%dT%H:%M:%SZ", &tm);
	return s;
}

int64_t hl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *hl_uid(const char *prefix)
{
	static char ring[64][96];
	static unsigned n;
	char *s = ring[n % 64];
	snprintf(s, sizeof ring[0], "%s-%d-%u", prefix, (int)getpid(), n);
	n++;
	return s;
}

char *harness_vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		cr_assert_fail("out of memory");
	return s;
}

char *harness_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	char *s = NULL;
	size_t cap = 0, len = 0;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			s = realloc(s, cap);
		}
		memcpy(s + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (!s)
		return strdup("");
	s[len] = '\0';
	return s;
}

/* Print the tail of a file to stderr (the daemon log on failure). */
void harness_print_tail(const char *title, const char *path, size_t max)
{
	char *s = harness_read_file(path);
	size_t len = strlen(s);
	const char *from = len > max ? s + len - max : s;
	fprintf(stderr, "---- %s (%s)%s ----\n%s%s---- end ----\n", title, path,
	        len > max ? ", last part" : "", from, len && s[len - 1] != '\n' ? "\n" : "");
	free(s);
}

/* Hand `p` to the test; the cleanup frees it with fn.  Returns p. */
void *harness_keep(void *p, void (*fn)(void *))
{
	if (!p)
		return NULL;
	if (n_kept == cap_kept) {
		cap_kept = cap_kept ? cap_kept * 2 : 256;
		kept = realloc(kept, cap_kept * sizeof *kept);
		if (!kept)
			abort();
	}
	kept[n_kept++] = (struct kept){ p, fn };
	return p;
}

static void free_kept(void)
{
	while (n_kept > 0) {
		n_kept--;
		kept[n_kept].fn(kept[n_kept].p);
	}
	free(kept);
	kept = NULL;
	cap_kept = 0;
}

/* ------------------------------------------------------- failure tracking */

void hl_e2e_fail_abort(void)
{
	test_failed = true;
	criterion_abort_test();
}

void hl_e2e_fail_continue(void)
{
	test_failed = true;
	criterion_continue_test();
}

/* ------------------------------------------------------------ environment */

const char *harness_env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

void harness_registry_init(void)
{
	if (!atexit_set) {
		atexit(hl_e2e_cleanup);
		atexit_set = true;
	}
	signal(SIGPIPE, SIG_IGN);
}

/* ---------------------------------------------------------------- cleanup */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void hl_e2e_init(void)
{
	harness_registry_init();
	test_failed = false;
}

void hl_e2e_finish(void)
{
	for (int i = 0; i < MAX_DAEMONS; i++) {
		struct hl_d *d = harness_daemons[i];
		if (!d || !d->pid)
			continue;
		cr_assert(hl_d_alive(d), "hotlined died during the test (log: %s)", d->log);
		int rc = hl_d_stop(d, SIGTERM, 20000);
		cr_assert_eq(rc, 0, "hotlined must exit 0 on SIGTERM, got %d (%s)", rc,
		             rc == -1 ? "still running after 20 s" : "see its log below");
	}
}

void hl_e2e_cleanup(void)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (harness_conns[i])
			hl_conn_close(harness_conns[i]);
	for (int i = 0; i < MAX_DAEMONS; i++) {
		struct hl_d *d = harness_daemons[i];
		if (!d)
			continue;
		harness_daemons[i] = NULL;
		if (d->pid) {
			/* only reached when the test aborted before hl_e2e_finish():
			 * the log is worth showing if the daemon misbehaved too */
			int rc = hl_d_alive(d) ? hl_d_stop(d, SIGTERM, 20000) : -2;
			if (rc != 0) {
				test_failed = true;
				fprintf(stderr, "harness: hotlined %s\n", rc == -2 ? "died during the test"
				        : rc == -1 ? "did not exit within 20 s of SIGTERM" : "exited non-zero on SIGTERM");
			}
		}
		if (test_failed)
			harness_print_tail("hotlined log", d->log, 16384);
		if (d->pg)
			PQfinish(d->pg);
		harness_drop_db(d);
		if (d->dir[0])
			nftw(d->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(d);
	}
	free_kept();
}
