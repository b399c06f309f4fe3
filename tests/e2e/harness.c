/*
 * harness.c - end-to-end test harness: real hotlined children on fresh databases.
 *
 * Design.  Criterion runs every test in its own worker process, so the
 * harness keeps a small registry (daemons, connections) in file-scope state
 * of that worker: this is test code, not a pure module.  hl_e2e_cleanup(),
 * installed as the suite's .fini (and as an atexit fallback), tears down
 * everything in reverse: connections, children (SIGTERM, then SIGKILL),
 * databases (DROP ... WITH (FORCE)), temp dirs.  Children get
 * PR_SET_PDEATHSIG so a crashed test never leaves a daemon behind, and each
 * new database sweeps away hl_<pid>_* databases whose test process is gone.
 *
 * The daemon is driven exactly as an operator would: a config file, a
 * `--migrate` run, then `hotlined -c FILE` in the foreground with stderr
 * appended to dir/hotlined.log.  Sockets are plain blocking fds with poll()
 * for read timeouts; lines are split on '\n' in a per-connection buffer.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_DAEMONS 8
#define MAX_CONNS 64

/* The registry of what this test process created (see the design note). */
static struct hl_d *daemons[MAX_DAEMONS];
static struct hl_conn *conns[MAX_CONNS];
static bool test_failed;
/* results handed to the test (responses, rows, strings), freed by the cleanup */
static struct kept { void *p; void (*fn)(void *); } *kept;
static size_t n_kept, cap_kept;
static bool atexit_set;
static int db_counter;

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

static char *vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		cr_assert_fail("out of memory");
	return s;
}

static char *read_file(const char *path)
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
static void print_tail(const char *title, const char *path, size_t max)
{
	char *s = read_file(path);
	size_t len = strlen(s);
	const char *from = len > max ? s + len - max : s;
	fprintf(stderr, "---- %s (%s)%s ----\n%s%s---- end ----\n", title, path,
	        len > max ? ", last part" : "", from, len && s[len - 1] != '\n' ? "\n" : "");
	free(s);
}

/* Hand `p` to the test; the cleanup frees it with fn.  Returns p. */
static void *keep(void *p, void (*fn)(void *))
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

static void put_json(void *p) { json_object_put(p); }
static void clear_pg(void *p) { PQclear(p); }

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

/* ------------------------------------------------------------- PostgreSQL */

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

/* Connection string for a database on the test cluster. */
static void cluster_conninfo(char *out, size_t len, const char *dbname)
{
	static char defhost[4096];
	if (!defhost[0]) {
		/* make runs tests from the repository root: default to its private cluster */
		char cwd[3000];
		if (!getcwd(cwd, sizeof cwd))
			strcpy(cwd, ".");
		snprintf(defhost, sizeof defhost, "%s/var/pg/run", cwd);
	}
	const char *user = getenv("HOTLINE_TEST_PGUSER");
	if (!user || !*user)
		user = geteuid() == 0 ? "postgres" : env_or("USER", "postgres");
	int n = snprintf(out, len, "host=%s port=%s user=%s dbname=%s", env_or("HOTLINE_TEST_PGHOST", defhost),
	                 env_or("HOTLINE_TEST_PGPORT", "5432"), user, dbname);
	if (n < 0 || (size_t)n >= len)
		cr_assert_fail("HOTLINE_TEST_PGHOST is too long");
}

static PGconn *admin_connect(void)
{
	char ci[1024];
	cluster_conninfo(ci, sizeof ci, "postgres");
	PGconn *pg = PQconnectdb(ci);
	if (PQstatus(pg) != CONNECTION_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
		PQfinish(pg);
		cr_assert_fail("cannot reach the test cluster (%s): %s"
		               "hint: make pg-start, or set HOTLINE_TEST_PGHOST/PGPORT/PGUSER", ci, msg);
	}
	return pg;
}

/* true on success; on failure the message goes to err (when given) */
static bool admin_exec(PGconn *pg, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(pg, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok && err)
		snprintf(err, errlen, "%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

/* Drop hl_<pid>_<n> databases left by test processes that died. */
static void sweep_stale(PGconn *pg)
{
	PGresult *r = PQexec(pg, "SELECT datname FROM pg_database WHERE datname ~ '^hl_[0-9]+_[0-9]+$'");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);
		long pid = strtol(name + 3, NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH) {
			char sql[128];
			snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
			admin_exec(pg, sql, NULL, 0);
		}
	}
	PQclear(r);
}

static void create_db(struct hl_d *d)
{
	PGconn *pg = admin_connect();
	sweep_stale(pg);
	snprintf(d->dbname, sizeof d->dbname, "hl_%d_%d", (int)getpid(), ++db_counter);
	char sql[160], err[600];
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", d->dbname);
	bool ok = admin_exec(pg, sql, err, sizeof err);
	PQfinish(pg);
	if (!ok) {
		d->dbname[0] = '\0';
		cr_assert_fail("%s", err);
	}
	cluster_conninfo(d->conninfo, sizeof d->conninfo, d->dbname);
}

static void drop_db(struct hl_d *d)
{
	if (!d->dbname[0] || d->shared_db)
		return;
	char ci[1024];
	cluster_conninfo(ci, sizeof ci, "postgres");
	PGconn *pg = PQconnectdb(ci);
	if (PQstatus(pg) == CONNECTION_OK) {
		char sql[160];
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", d->dbname);
		admin_exec(pg, sql, NULL, 0);
	}
	PQfinish(pg);
	d->dbname[0] = '\0';
}

static PGconn *test_pg(struct hl_d *d)
{
	if (d->pg && PQstatus(d->pg) == CONNECTION_OK)
		return d->pg;
	if (d->pg)
		PQfinish(d->pg);
	d->pg = PQconnectdb(d->conninfo);
	if (PQstatus(d->pg) != CONNECTION_OK)
		cr_assert_fail("cannot connect to %s: %s", d->dbname, PQerrorMessage(d->pg));
	return d->pg;
}

static PGresult *vsql(struct hl_d *d, const char *fmt, va_list ap)
{
	char *q = vfmt(fmt, ap);
	PGresult *r = PQexec(test_pg(d), q);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s: %s", q, PQresultErrorMessage(r));
		free(q);
		PQclear(r);
		cr_assert_fail("SQL failed: %s", msg);
	}
	free(q);
	return r;
}

PGresult *hl_sql(struct hl_d *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	PGresult *r = vsql(d, fmt, ap);
	va_end(ap);
	return keep(r, clear_pg);
}

int64_t hl_sql_int(struct hl_d *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	PGresult *r = vsql(d, fmt, ap);
	va_end(ap);
	if (PQntuples(r) < 1 || PQnfields(r) < 1 || PQgetisnull(r, 0, 0)) {
		PQclear(r);
		cr_assert_fail("hl_sql_int: no value");
	}
	int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

char *hl_sql_text(struct hl_d *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	PGresult *r = vsql(d, fmt, ap);
	va_end(ap);
	char *s = NULL;
	if (PQntuples(r) >= 1 && PQnfields(r) >= 1 && !PQgetisnull(r, 0, 0))
		s = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return keep(s, free);
}

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
	fprintf(f, "# written by tests/e2e/harness.c\n");
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
	return env_or("HOTLINED_BIN", "build/hotlined");
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
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		/* no Criterion pipes or test sockets leak into the daemon */
		for (int i = 3; i < 1024; i++)
			close(i);
		signal(SIGPIPE, SIG_DFL);
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
		print_tail("hotlined --migrate output", out, 8192);
	return rc;
}

static int try_connect_unix(const char *path)
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
	/* ready = the Unix socket accepts (ASan builds start slowly: allow 30 s) */
	int64_t end = hl_now_ms() + 30000;
	for (;;) {
		int fd = try_connect_unix(d->sock);
		if (fd >= 0) {
			close(fd);
			return;
		}
		int st;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			cr_assert_fail("hotlined exited during start-up with status %d (log: %s)", decode_status(st), d->log);
		}
		if (hl_now_ms() > end)
			cr_assert_fail("hotlined did not accept on %s within 30 s (log: %s)", d->sock, d->log);
		hl_sleep_ms(20);
	}
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
	return keep(read_file(d->log), free);
}

static void registry_init(void)
{
	if (!atexit_set) {
		atexit(hl_e2e_cleanup);
		atexit_set = true;
	}
	signal(SIGPIPE, SIG_IGN);
}

struct hl_d *hl_d_up(const struct hl_e2e_opts *opts)
{
	static const struct hl_e2e_opts none;
	if (!opts)
		opts = &none;
	registry_init();

	int slot = -1;
	for (int i = 0; i < MAX_DAEMONS; i++)
		if (!daemons[i]) {
			slot = i;
			break;
		}
	cr_assert(slot >= 0, "too many daemons in one test");
	struct hl_d *d = calloc(1, sizeof *d);
	cr_assert(d);
	daemons[slot] = d;

	const char *bin = daemon_bin();
	cr_assert(access(bin, X_OK) == 0, "HOTLINED_BIN %s is not executable (make, or set HOTLINED_BIN)", bin);

	snprintf(d->dir, sizeof d->dir, "/tmp/hl-e2e-XXXXXX");
	cr_assert(mkdtemp(d->dir), "mkdtemp: %s", strerror(errno));
	snprintf(d->conf, sizeof d->conf, "%s/hotlined.conf", d->dir);
	snprintf(d->log, sizeof d->log, "%s/hotlined.log", d->dir);
	snprintf(d->sock, sizeof d->sock, "%s/events.sock", d->dir);
	d->tcp_port = opts->no_tcp ? 0 : free_tcp_port();

	create_db(d);
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
	int slot = -1;
	for (int i = 0; i < MAX_DAEMONS; i++)
		if (!daemons[i]) {
			slot = i;
			break;
		}
	cr_assert(slot >= 0, "too many daemons in one test");
	struct hl_d *d = calloc(1, sizeof *d);
	cr_assert(d);
	daemons[slot] = d;
	snprintf(d->dir, sizeof d->dir, "/tmp/hl-e2e-XXXXXX");
	cr_assert(mkdtemp(d->dir), "mkdtemp: %s", strerror(errno));
	snprintf(d->conf, sizeof d->conf, "%s/hotlined.conf", d->dir);
	snprintf(d->log, sizeof d->log, "%s/hotlined.log", d->dir);
	snprintf(d->sock, sizeof d->sock, "%s/events.sock", d->dir);
	d->tcp_port = opts->no_tcp ? 0 : free_tcp_port();
	snprintf(d->dbname, sizeof d->dbname, "%s", first->dbname);
	snprintf(d->conninfo, sizeof d->conninfo, "%s", first->conninfo);
	d->shared_db = true;
	write_config(d, opts);
	if (!opts->no_start)
		hl_d_start(d);
	return d;
}

/* ------------------------------------------------------------ connections */

static struct hl_conn *conn_new(int fd)
{
	struct hl_conn *c = calloc(1, sizeof *c);
	cr_assert(c);
	c->fd = fd;
	for (int i = 0; i < MAX_CONNS; i++)
		if (!conns[i]) {
			conns[i] = c;
			return c;
		}
	close(fd);
	free(c);
	cr_assert_fail("too many connections in one test");
	return NULL;
}

struct hl_conn *hl_conn_unix(struct hl_d *d)
{
	int fd = try_connect_unix(d->sock);
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
		if (conns[i] == c)
			conns[i] = NULL;
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
	char *s = vfmt(fmt, ap);
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
			return keep(line, free);
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
	return keep(o, put_json);
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
	char *s = vfmt(fmt, ap);
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
	registry_init();
	test_failed = false;
}

void hl_e2e_finish(void)
{
	for (int i = 0; i < MAX_DAEMONS; i++) {
		struct hl_d *d = daemons[i];
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
		if (conns[i])
			hl_conn_close(conns[i]);
	for (int i = 0; i < MAX_DAEMONS; i++) {
		struct hl_d *d = daemons[i];
		if (!d)
			continue;
		daemons[i] = NULL;
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
			print_tail("hotlined log", d->log, 16384);
		if (d->pg)
			PQfinish(d->pg);
		drop_db(d);
		if (d->dir[0])
			nftw(d->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(d);
	}
	free_kept();
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
	int64_t end = hl_now_ms() + 30000;
	for (;;) {
		int fd = try_connect_unix(d->sock);
		if (fd >= 0) {
			close(fd);
			return;
		}
		int st;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			cr_assert_fail("%s exited during start-up with status %d (log: %s)", argv[0], decode_status(st), d->log);
		}
		if (hl_now_ms() > end)
			cr_assert_fail("%s did not accept on %s within 30 s (log: %s)", argv[0], d->sock, d->log);
		hl_sleep_ms(20);
	}
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
