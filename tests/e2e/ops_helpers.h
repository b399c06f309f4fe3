/*
 * ops_helpers.h - what the test_ops_*.c files (suite `ops`) share: a per-test
 * scratch directory and owned strings, files (slurp, write_file, edit_file,
 * wait_log), running hotlined or hotlinectl with arguments and reading their
 * output (RUN, HOTLINED), and a few requests (abandoned, callback_allowed_s,
 * expect_ok, expect_ping).
 *
 * Design.  The daemon is driven through the e2e harness (harness.h).  Things
 * the harness does not do are small helpers here.  Every file a test writes
 * lives in one temp dir per test and every string it hands out is
 * remembered; ops_fini() (each file's suite .fini) frees both and then runs
 * the harness cleanup, so an aborted assertion leaks nothing.  The functions
 * are static inline: each file that includes this one uses only some.
 */
#ifndef HL_E2E_OPS_HELPERS_H
#define HL_E2E_OPS_HELPERS_H

#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------ per-test scratch */

/* Strings handed to the test body and this test's temp dir (see the design note). */
static char *owned[256];
static size_t n_owned;
static char scratch[64];

static inline char *own(char *s)
{
	cr_assert(s, "out of memory");
	if (n_owned == sizeof owned / sizeof owned[0]) {
		free(s);
		cr_assert_fail("test_ops: too many owned strings");
	}
	owned[n_owned++] = s;
	return s;
}

static inline char *ownf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *ownf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return own(n < 0 ? NULL : s);
}

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static inline void ops_init(void)
{
	hl_e2e_init();
	n_owned = 0;
	scratch[0] = '\0';
}

static inline void ops_fini(void)
{
	while (n_owned > 0)
		free(owned[--n_owned]);
	if (scratch[0])
		nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	scratch[0] = '\0';
	hl_e2e_cleanup();
}

/* This test's scratch directory (created on first use). */
static inline const char *scratch_dir(void)
{
	if (!scratch[0]) {
		snprintf(scratch, sizeof scratch, "/tmp/hl-ops-XXXXXX");
		if (!mkdtemp(scratch)) {
			scratch[0] = '\0';
			cr_assert_fail("mkdtemp: %s", strerror(errno));
		}
	}
	return scratch;
}

static inline const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

static inline const char *daemon_bin(void) { return env_or("HOTLINED_BIN", "build/hotlined"); }
static inline const char *ctl_bin(void) { return env_or("HOTLINECTL_BIN", "build/hotlinectl"); }

/* ------------------------------------------------------------ files */

static inline char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return own(strdup(""));
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);
	cr_assert(m);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(f);
	fclose(m);
	return own(s);
}

static inline const char *write_file(const char *name, const char *text)
{
	char *path = ownf("%s/%s", scratch_dir(), name);
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	return path;
}

/* Replace the first `from` in the file by `to` (the test's config edits). */
static inline void edit_file(const char *path, const char *from, const char *to)
{
	char *s = slurp(path);
	char *at = strstr(s, from);
	cr_assert(at, "%s does not contain '%s'", path, from);
	/* write a copy and rename it over: the daemon never reads half a file */
	char *tmp = ownf("%s.new", path);
	FILE *f = fopen(tmp, "w");
	cr_assert(f, "cannot write %s: %s", tmp, strerror(errno));
	fwrite(s, 1, (size_t)(at - s), f);
	fputs(to, f);
	fputs(at + strlen(from), f);
	fclose(f);
	cr_assert_eq(rename(tmp, path), 0, "rename %s: %s", tmp, strerror(errno));
}

static inline size_t count_in(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Wait until the daemon's log holds `needle` at least `times` times. */
static inline bool wait_log(struct hl_d *d, const char *needle, size_t times, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	for (;;) {
		if (count_in(hl_d_log(d), needle) >= times)
			return true;
		if (hl_now_ms() > end)
			return false;
		hl_sleep_ms(50);
	}
}

/* ---------------------------------------------------------- processes */

struct run {
	int status; /* exit code, 128+N for signal N, -1 on timeout */
	char *out;  /* stdout and stderr together */
};

static inline int decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* Run argv (NULL-terminated) with stdin from /dev/null; waits up to timeout_ms. */
static inline struct run run_argv(const char *const argv[], int timeout_ms)
{
	static unsigned seq;
	char *outpath = ownf("%s/run-%u.out", scratch_dir(), seq++);
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int devnull = open("/dev/null", O_RDONLY);
		if (fd < 0 || devnull < 0)
			_exit(127);
		dup2(devnull, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		for (int i = 3; i < 1024; i++)
			close(i);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	struct run r = { -1, NULL };
	int64_t end = hl_now_ms() + timeout_ms;
	for (;;) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			r.status = decode_status(st);
			break;
		}
		if (hl_now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		hl_sleep_ms(10);
	}
	r.out = slurp(outpath);
	return r;
}

#define RUN(timeout_ms, ...) run_argv((const char *const[]){ __VA_ARGS__, NULL }, timeout_ms)

/* hotlined with these arguments (string literals or owned strings). */
#define HOTLINED(...) RUN(60000, daemon_bin(), __VA_ARGS__)

/* ------------------------------------------------------------ requests */

static inline void expect_ok(json_object *r)
{
	cr_assert(r);
	cr_assert(hl_jbool(r, "ok"), "expected ok, got %s", json_object_to_json_string(r));
}

/* call.abandoned for an unseen call: opens a case and arms its callback clock. */
static inline int64_t abandoned(struct hl_conn *c, const char *caller, const char *at)
{
	json_object *r = hl_requestf(c, "{\"type\":\"call.abandoned\",\"id\":\"%s\",\"call_id\":\"%s\","
	                                "\"caller\":\"%s\",\"at\":\"%s\"}",
	                             hl_uid("ab"), hl_uid("call"), caller, at);
	expect_ok(r);
	int64_t case_id = hl_jint(r, "case_id");
	cr_assert_gt(case_id, 0, "no case_id: %s", json_object_to_json_string(r));
	return case_id;
}

/* Seconds from `at` to the case's callback due time. */
static inline int64_t callback_allowed_s(struct hl_d *d, int64_t case_id, const char *at)
{
	return hl_sql_int(d, "SELECT round(extract(epoch FROM due_at - '%s'::timestamptz))::bigint"
	                     " FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                  at, (long long)case_id);
}

static inline void expect_ping(struct hl_conn *c)
{
	json_object *r = hl_request(c, "{\"type\":\"ping\",\"id\":\"still-there\"}");
	expect_ok(r);
}

#endif
