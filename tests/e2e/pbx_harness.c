/*
 * pbx_harness.c - what the hotline-pbx end-to-end suites share: the bridge's
 * configuration for a test daemon, starting and waiting for the bridge, its
 * output, the queue_log generator, and waiting for stored events.
 * Built on the harness (harness.h): everything lives in the test's temp dir.
 */
#include "pbx_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

const char *pbx_bin(void)
{
	const char *b = getenv("HOTLINE_PBX_BIN");
	return b && *b ? b : "build/hotline-pbx";
}

void write_pbx_conf(struct hl_d *d, const char *extra)
{
	char path[256];
	snprintf(path, sizeof path, "%s/pbx.conf", d->dir);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "pbx = {\n  socket = \"%s\";\n  state_file = \"%s/pbx.state\";\n  id_prefix = \"t:\";\n"
	           "  country_code = \"86\";\n  national_length = 11;\n  poll_ms = 50;\n  window = 64;\n%s\n};\n",
	        d->sock, d->dir, extra ? extra : "");
	fclose(f);
}

/* Start hotline-pbx with args after "-c conf"; output appended to dir/pbx.log. */
pid_t pbx_start(struct hl_d *d, const char *a1, const char *a2, const char *a3, const char *a4)
{
	char conf[256], log[256];
	snprintf(conf, sizeof conf, "%s/pbx.conf", d->dir);
	snprintf(log, sizeof log, "%s/pbx.log", d->dir);
	const char *argv[] = { pbx_bin(), "-c", conf, a1, a2, a3, a4, NULL };
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		for (int i = 3; i < 1024; i++)
			close(i);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Exit status of the bridge, or -1 if it did not exit within timeout_ms (then killed). */
int pbx_wait(pid_t pid, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	for (;;) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (hl_now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		hl_sleep_ms(20);
	}
}

/* The bridge's output so far (a static buffer: valid until the next call). */
const char *pbx_log_text(struct hl_d *d)
{
	char path[256];
	static char buf[1 << 20];
	snprintf(path, sizeof path, "%s/pbx.log", d->dir);
	FILE *f = fopen(path, "r");
	buf[0] = '\0';
	if (!f)
		return buf;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

void gen(const char *out, const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "tests/pbx/gen-queue-log %s > %s", args, out);
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

int64_t events_stored(struct hl_d *d)
{
	return hl_sql_int(d, "SELECT count(*) FROM hotline.case_events");
}

/* Wait until hotline.case_events holds n rows (or the timeout). */
int64_t await_events(struct hl_d *d, int64_t n, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms, have = 0;
	while ((have = events_stored(d)) < n && hl_now_ms() < end)
		hl_sleep_ms(100);
	return have;
}
