/*
 * harness_daemon.c - the e2e harness's hotlined children: the generated
 * config file, --migrate, start (plain or wrapped, hl_d_start_ex), stop,
 * kill -9, restart, and peers on the same database (hl_d_up_peer).
 *
 * Design.  The daemon is driven exactly as an operator would: a config file,
 * a `--migrate` run, then `hotlined -c FILE` in the foreground with stdout
 * and stderr appended to dir/hotlined.log.  It is ready when its Unix socket
 * accepts.  Children get PR_SET_PDEATHSIG so a crashed test never leaves a
 * daemon behind, and close every inherited descriptor (Criterion's pipes,
 * the test's sockets).  The config is the harness defaults per section, a
 * key the test sets (struct hl_e2e_opts) replacing the default of that key.
 * Every daemon goes into the registry (harness.c), whose cleanup stops it.
 */
#include "harness.h"
#include "harness_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ----------------------------------------------------------------- config */

/* Does libconfig text `text` set `key` ("key =" or "key :")? */
static bool sets_key(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; text && (p = strstr(p, key)); p += kl) {
		bool start = p == text || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
		                            (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9'));
		const char *q = p + kl;
		while (*q == ' ' || *q == '\t')
			q++;
		if (start && (*q == '=' || *q == ':'))
			return true;
	}
	return false;
}

/* Write one section: the defaults not overridden, then the test's text. */
static void write_section(FILE *f, const char *name, const char *const *defaults, const char *extra)
{
	fprintf(f, "%s = {\n", name);
	for (size_t i = 0; defaults[i]; i += 2)
		if (!extra || !sets_key(extra, defaults[i]))
			fprintf(f, "  %s = %s;\n", defaults[i], defaults[i + 1]);
	if (extra)
		fprintf(f, "  %s\n", extra);
	fprintf(f, "};\n");
}

static int free_tcp_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
		close(fd);
		cr_assert_fail("cannot find a free port: %s", strerror(errno));
	}
	close(fd);
	return ntohs(a.sin_port);
}

static void write_config(struct hl_d *d, const struct hl_e2e_opts *o)
{
	char tcp[64], unixp[200], conninfo[600];
	if (o->no_tcp)
		snprintf(tcp, sizeof tcp, "\"\"");
	else
		snprintf(tcp, sizeof tcp, "\"127.0.0.1:%d\"", d->tcp_port);
	snprintf(unixp, sizeof unixp, "\"%s\"", d->sock);
	/* the daemon logs in as its own unprivileged role (created by the
	 * migrations), as in production; --migrate uses the superuser */
	if (o->superuser_daemon) {
		snprintf(conninfo, sizeof conninfo, "\"%s\"", d->conninfo);
	} else {
		char ci[600];
		snprintf(ci, sizeof ci, "%s", d->conninfo);
		char *u = strstr(ci, " user=");
		char *rest = u ? strchr(u + 1, ' ') : NULL;
		snprintf(conninfo, sizeof conninfo, "\"%.*s user=hotlined%s\"", u ? (int)(u - ci) : (int)strlen(ci), ci,
		         rest ? rest : "");
	}

	const char *listen[] = { "tcp", tcp, "unix", unixp, "max_line", "65536", NULL };
	const char *database[] = { "conninfo", conninfo, NULL };
	const char *sla[] = { "callback", "\"30m\"", "update", "\"24h\"", "resolution", "\"48h\"",
		              "survey", "\"0\"", "warn_at", "0.8", NULL };
	const char *repeat[] = { "window", "\"24h\"", "threshold", "3", NULL };
	const char *escalation[] = { "after", "\"15m\"", "max_level", "3", NULL };

	FILE *f = fopen(d->conf, "w");
	cr_assert(f, "cannot write %s: %s", d->conf, strerror(errno));
	fprintf(f, "# written by tests/e2e/harness_daemon.c\n");
	write_section(f, "listen", listen, o->listen);
	write_section(f, "database", database, o->database);
	write_section(f, "sla", sla, o->sla);
	write_section(f, "repeat_caller", repeat, o->repeat_caller);
	write_section(f, "escalation", escalation, o->escalation);
	if (o->top)
		fprintf(f, "%s\n", o->top);
	fclose(f);
}

/* --------------------------------------------------------------- children */

static const char *daemon_bin(void)
{
	return harness_env_or("HOTLINED_BIN", "build/hotlined");
}

/* In the forked child, before exec: stdout and stderr appended to `out`,
 * stdin from /dev/null, no other descriptor inherited (no Criterion pipes or
 * test sockets leak into the daemon), SIGPIPE back to its default. */
static void child_stdio(const char *out)
{
	int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, 0);
	for (int i = 3; i < 1024; i++)
		close(i);
	signal(SIGPIPE, SIG_DFL);
}

/* fork + exec the daemon with stdout/stderr appended to `out`. */
static pid_t spawn(const char *out, char *const argv[])
{
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* die with the test process, whatever happens to it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		child_stdio(out);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static int decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* Wait for pid up to timeout_ms; exit status as decode_status, or -1 on timeout. */
static int wait_exit(pid_t pid, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return decode_status(st);
		if (r < 0)
			return -1;
		if (hl_now_ms() >= end)
			return -1;
		hl_sleep_ms(10);
	}
}

int hl_d_migrate(struct hl_d *d)
{
	char out[200];
	snprintf(out, sizeof out, "%s/migrate.log", d->dir);
	char *argv[] = { (char *)daemon_bin(), "-c", d->conf, "--migrate", "--conninfo", d->conninfo, NULL };
	int rc = wait_exit(spawn(out, argv), 120000);
	if (rc != 0)
		harness_print_tail("hotlined --migrate output", out, 8192);
	return rc;
}

/* Ready = the Unix socket accepts (ASan builds start slowly: allow 30 s);
 * `what` (the program started) names it in a failure. */
static void wait_ready(struct hl_d *d, const char *what)
{
	int64_t end = hl_now_ms() + 30000;
	for (;;) {
		int fd = harness_connect_unix(d->sock);
		if (fd >= 0) {
			close(fd);
			return;
		}
		int st;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			cr_assert_fail("%s exited during start-up with status %d (log: %s)", what, decode_status(st), d->log);
		}
		if (hl_now_ms() > end)
			cr_assert_fail("%s did not accept on %s within 30 s (log: %s)", what, d->sock, d->log);
		hl_sleep_ms(20);
	}
}

void hl_d_start(struct hl_d *d)
{
	cr_assert(d->pid == 0, "daemon already running");
	char *argv[] = { (char *)daemon_bin(), "-c", d->conf, NULL };
	FILE *f = fopen(d->log, "a");
	if (f) {
		fprintf(f, "==== harness: starting %s -c %s\n", argv[0], d->conf);
		fclose(f);
	}
	d->pid = spawn(d->log, argv);
	wait_ready(d, argv[0]);
}

int hl_d_stop(struct hl_d *d, int sig, int timeout_ms)
{
	if (d->pid == 0)
		return -1;
	kill(d->pid, sig);
	int rc = wait_exit(d->pid, timeout_ms);
	if (rc == -1) {
		kill(d->pid, SIGKILL);
		wait_exit(d->pid, 5000);
	}
	d->pid = 0;
	return rc;
}

void hl_d_kill9(struct hl_d *d)
{
	hl_d_stop(d, SIGKILL, 5000);
}

void hl_d_restart(struct hl_d *d)
{
	int rc = hl_d_stop(d, SIGTERM, 20000);
	cr_assert_eq(rc, 0, "hotlined exited with %d on SIGTERM (log: %s)", rc, d->log);
	hl_d_start(d);
}

bool hl_d_alive(struct hl_d *d)
{
	if (d->pid == 0)
		return false;
	int st;
	if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
		fprintf(stderr, "harness: hotlined exited unexpectedly with status %d\n", decode_status(st));
		d->pid = 0;
		return false;
	}
	return true;
}

char *hl_d_log(const struct hl_d *d)
{
	return harness_keep(harness_read_file(d->log), free);
}

/* A daemon's slot in the registry, its directory and the paths in it, its
 * TCP port: what hl_d_up and hl_d_up_peer both start from. */
static struct hl_d *daemon_new(const struct hl_e2e_opts *opts)
{
	int slot = -1;
	for (int i = 0; i < MAX_DAEMONS; i++)
		if (!harness_daemons[i]) {
			slot = i;
			break;
		}
	cr_assert(slot >= 0, "too many daemons in one test");
	struct hl_d *d = calloc(1, sizeof *d);
	cr_assert(d);
	harness_daemons[slot] = d;
	snprintf(d->dir, sizeof d->dir, "/tmp/hl-e2e-XXXXXX");
	cr_assert(mkdtemp(d->dir), "mkdtemp: %s", strerror(errno));
	snprintf(d->conf, sizeof d->conf, "%s/hotlined.conf", d->dir);
	snprintf(d->log, sizeof d->log, "%s/hotlined.log", d->dir);
	snprintf(d->sock, sizeof d->sock, "%s/events.sock", d->dir);
	d->tcp_port = opts->no_tcp ? 0 : free_tcp_port();
	return d;
}

struct hl_d *hl_d_up(const struct hl_e2e_opts *opts)
{
	static const struct hl_e2e_opts none;
	if (!opts)
		opts = &none;
	harness_registry_init();

	const char *bin = daemon_bin();
	cr_assert(access(bin, X_OK) == 0, "HOTLINED_BIN %s is not executable (make, or set HOTLINED_BIN)", bin);
	struct hl_d *d = daemon_new(opts);
	harness_create_db(d);
	write_config(d, opts);
	int rc = hl_d_migrate(d);
	cr_assert_eq(rc, 0, "hotlined --migrate exited with %d", rc);
	if (!opts->no_start)
		hl_d_start(d);
	return d;
}

struct hl_d *hl_d_up_peer(struct hl_d *first, const struct hl_e2e_opts *opts)
{
	static const struct hl_e2e_opts none;
	if (!opts)
		opts = &none;
	struct hl_d *d = daemon_new(opts);
	snprintf(d->dbname, sizeof d->dbname, "%s", first->dbname);
	snprintf(d->conninfo, sizeof d->conninfo, "%s", first->conninfo);
	d->shared_db = true;
	write_config(d, opts);
	if (!opts->no_start)
		hl_d_start(d);
	return d;
}

/* ------------------------------------------- wrapped start, extra environment */

extern char **environ;

/* The child's environment: ours, with each "NAME=VALUE" of env replacing or
 * adding NAME.  Built before fork, so the child does not allocate. */
static char **build_env(const char *const *env)
{
	size_t n_own = 0, n_add = 0;
	while (environ[n_own])
		n_own++;
	while (env && env[n_add])
		n_add++;
	char **out = calloc(n_own + n_add + 1, sizeof *out);
	cr_assert(out);
	size_t n = 0;
	for (size_t i = 0; i < n_own; i++) {
		size_t klen = strcspn(environ[i], "=");
		bool replaced = false;
		for (size_t j = 0; j < n_add && !replaced; j++)
			replaced = strncmp(env[j], environ[i], klen) == 0 && env[j][klen] == '=';
		if (!replaced)
			out[n++] = environ[i];
	}
	for (size_t j = 0; j < n_add; j++)
		out[n++] = (char *)env[j];
	return out;
}

/* spawn() with extra environment entries; "@PID@" in a value becomes the child's pid. */
static pid_t spawn_env(const char *out, char *const argv[], const char *const *env)
{
	static char with_pid[8][512];
	char **envp = build_env(env);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		free(envp);
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int k = 0;
		for (size_t i = 0; envp[i] && k < 8; i++) {
			char *at = strstr(envp[i], "@PID@");
			if (!at)
				continue;
			snprintf(with_pid[k], sizeof with_pid[k], "%.*s%d%s", (int)(at - envp[i]), envp[i], (int)getpid(),
			         at + 5);
			envp[i] = with_pid[k++];
		}
		child_stdio(out);
		execve(argv[0], argv, envp);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(envp);
	return pid;
}

void hl_d_start_ex(struct hl_d *d, const char *const *prefix, const char *const *env)
{
	cr_assert(d->pid == 0, "daemon already running");
	char *argv[64];
	size_t n = 0;
	for (size_t i = 0; prefix && prefix[i]; i++) {
		cr_assert(n < 60, "hl_d_start_ex: prefix too long");
		argv[n++] = (char *)prefix[i];
	}
	argv[n++] = (char *)daemon_bin();
	argv[n++] = "-c";
	argv[n++] = d->conf;
	argv[n] = NULL;
	FILE *f = fopen(d->log, "a");
	if (f) {
		fprintf(f, "==== harness: starting");
		for (size_t i = 0; i < n; i++)
			fprintf(f, " %s", argv[i]);
		fprintf(f, "\n");
		fclose(f);
	}
	d->pid = spawn_env(d->log, argv, env);
	wait_ready(d, argv[0]);
}
