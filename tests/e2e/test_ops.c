/*
 * test_ops.c - end-to-end tests of hotlined as a production service.
 *
 * What an administrator relies on (CONTRACT.md section 1, docs/operations.md):
 * the command line (--version, --check with FILE:LINE: KEY errors, an
 * idempotent --migrate, refusing to run on a database without the schema),
 * SIGHUP reloads (new SLA durations for new clocks only, connections kept,
 * an invalid file refused and logged, listener settings only after a
 * restart), the log (syslog "<N>" prefixes, phone numbers never in full),
 * the `stats` command, the optional HTTP listener (/metrics in the
 * Prometheus text format, /healthz) and a hotlinectl smoke test.
 *
 * Design.  The daemon is driven through the e2e harness (harness.h).  Things
 * the harness does not do - running the binaries with other arguments and
 * reading their output, rewriting the config file in place, a tiny HTTP/1.0
 * client, a strict Prometheus text-format parser - are small static helpers
 * here.  Every file this suite writes lives in one temp dir per test and every
 * string it hands out is remembered; ops_fini() frees both and then runs the
 * harness cleanup, so an aborted assertion leaks nothing.
 */
#include "harness.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A caller number that must never appear in full in a log. */
#define SECRET_CALLER "+86 139-1234-5678"
#define SECRET_DIGITS "13912345678"

/* ------------------------------------------------------ per-test scratch */

/* Strings handed to the test body and this test's temp dir (see the design note). */
static char *owned[256];
static size_t n_owned;
static char scratch[64];

static char *own(char *s)
{
	cr_assert(s, "out of memory");
	if (n_owned == sizeof owned / sizeof owned[0]) {
		free(s);
		cr_assert_fail("test_ops: too many owned strings");
	}
	owned[n_owned++] = s;
	return s;
}

static char *ownf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *ownf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return own(n < 0 ? NULL : s);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void ops_init(void)
{
	hl_e2e_init();
	n_owned = 0;
	scratch[0] = '\0';
}

static void ops_fini(void)
{
	while (n_owned > 0)
		free(owned[--n_owned]);
	if (scratch[0])
		nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	scratch[0] = '\0';
	hl_e2e_cleanup();
}

TestSuite(ops, .init = ops_init, .fini = ops_fini, .timeout = 90);

/* This test's scratch directory (created on first use). */
static const char *scratch_dir(void)
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

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

static const char *daemon_bin(void) { return env_or("HOTLINED_BIN", "build/hotlined"); }
static const char *ctl_bin(void) { return env_or("HOTLINECTL_BIN", "build/hotlinectl"); }

/* ------------------------------------------------------------ files */

static char *slurp(const char *path)
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

static const char *write_file(const char *name, const char *text)
{
	char *path = ownf("%s/%s", scratch_dir(), name);
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	return path;
}

/* Replace the first `from` in the file by `to` (the test's config edits). */
static void edit_file(const char *path, const char *from, const char *to)
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

static size_t count_in(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Wait until the daemon's log holds `needle` at least `times` times. */
static bool wait_log(struct hl_d *d, const char *needle, size_t times, int timeout_ms)
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

static int decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* Run argv (NULL-terminated) with stdin from /dev/null; waits up to timeout_ms. */
static struct run run_argv(const char *const argv[], int timeout_ms)
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

static const char *iso_at(int delta_s)
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

static void expect_ok(json_object *r)
{
	cr_assert(r);
	cr_assert(hl_jbool(r, "ok"), "expected ok, got %s", json_object_to_json_string(r));
}

/* call.abandoned for an unseen call: opens a case and arms its callback clock. */
static int64_t abandoned(struct hl_conn *c, const char *caller, const char *at)
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
static int64_t callback_allowed_s(struct hl_d *d, int64_t case_id, const char *at)
{
	return hl_sql_int(d, "SELECT round(extract(epoch FROM due_at - '%s'::timestamptz))::bigint"
	                     " FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                  at, (long long)case_id);
}

static void expect_ping(struct hl_conn *c)
{
	json_object *r = hl_request(c, "{\"type\":\"ping\",\"id\":\"still-there\"}");
	expect_ok(r);
}

/* ----------------------------------------------------------------- HTTP */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
		close(fd);
		cr_assert_fail("no free port: %s", strerror(errno));
	}
	close(fd);
	return ntohs(a.sin_port);
}

struct http_reply {
	int status; /* -1: no connection / no reply */
	char *head; /* status line and headers */
	char *body;
};

static int http_connect(int port)
{
	/* the HTTP listener is bound just after the Unix socket: allow a moment */
	int64_t end = hl_now_ms() + 5000;
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert(fd >= 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
			                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
			return fd;
		close(fd);
		if (hl_now_ms() > end)
			return -1;
		hl_sleep_ms(50);
	}
}

/* GET path over HTTP/1.0 (the server closes after the reply). */
static struct http_reply http_get(int port, const char *path)
{
	struct http_reply h = { -1, own(strdup("")), own(strdup("")) };
	int fd = http_connect(port);
	if (fd < 0)
		return h;
	char req[512];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		return h;
	}
	char *all = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&all, &len);
	cr_assert(m);
	int64_t end = hl_now_ms() + HL_TIMEOUT_MS;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end - hl_now_ms());
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		char buf[4096];
		ssize_t got = recv(fd, buf, sizeof buf, 0);
		if (got <= 0)
			break;
		fwrite(buf, 1, (size_t)got, m);
	}
	close(fd);
	fclose(m);
	own(all);
	char *sep = strstr(all, "\r\n\r\n");
	int code;
	if (!sep || sscanf(all, "HTTP/1.%*[01] %d", &code) != 1)
		return h;
	*sep = '\0';
	h.status = code;
	h.head = all;
	h.body = sep + 4;
	return h;
}

/* ------------------------------------------ Prometheus text format (0.0.4) */

/*
 * A strict reader of the text exposition format: every line is a "# HELP",
 * "# TYPE" or other comment, or a sample `name{label="value",...} value
 * [timestamp]`.  Names must be valid; label values may only use the escapes
 * \\ \" \n; values are decimal floats, NaN or [+-]Inf; every sample's family
 * has exactly one TYPE line before its first sample; a family's samples are
 * contiguous; no series appears twice; counters are never negative.  Returns
 * NULL when the text is valid, else an owned message naming the line.
 */
#define PROM_MAX 512

struct prom {
	char names[PROM_MAX][128]; /* families that have a TYPE */
	char types[PROM_MAX][16];
	bool sampled[PROM_MAX];    /* the family's samples have started */
	bool helped[PROM_MAX];
	size_t n;
	int current;               /* family of the previous sample, -1 none */
	char *series[PROM_MAX * 4];
	size_t n_series;
};

static bool name_start(char c, bool colon) { return isalpha((unsigned char)c) || c == '_' || (colon && c == ':'); }
static bool name_char(char c, bool colon) { return name_start(c, colon) || isdigit((unsigned char)c); }

/* Length of a metric (colon=true) or label name at s; 0 if none. */
static size_t name_len(const char *s, bool colon)
{
	size_t i = 0;
	if (!name_start(s[0], colon))
		return 0;
	while (name_char(s[i], colon))
		i++;
	return i;
}

static int prom_family(const struct prom *p, const char *name, size_t len)
{
	for (size_t i = 0; i < p->n; i++)
		if (strlen(p->names[i]) == len && strncmp(p->names[i], name, len) == 0)
			return (int)i;
	return -1;
}

/* The family a sample belongs to: its own name, or a histogram/summary stem. */
static int prom_sample_family(const struct prom *p, const char *name, size_t len)
{
	int f = prom_family(p, name, len);
	if (f >= 0)
		return f;
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	for (size_t i = 0; i < 3; i++) {
		size_t sl = strlen(suffixes[i]);
		if (len > sl && strncmp(name + len - sl, suffixes[i], sl) == 0) {
			f = prom_family(p, name, len - sl);
			if (f >= 0 && (strcmp(p->types[f], "histogram") == 0 ||
			               (strcmp(p->types[f], "summary") == 0 && i > 0)))
				return f;
		}
	}
	return -1;
}

/* A float as the format allows it; *end past it.  false if not one. */
static bool prom_float(const char *s, double *v, const char **end)
{
	static const char *const special[] = { "NaN", "+Inf", "-Inf", "Inf" };
	for (size_t i = 0; i < 4; i++) {
		size_t l = strlen(special[i]);
		if (strncmp(s, special[i], l) == 0 && (s[l] == '\0' || s[l] == ' ')) {
			*v = i == 0 ? NAN : i == 2 ? -INFINITY : INFINITY;
			*end = s + l;
			return true;
		}
	}
	/* decimal only: [+-] digits [. digits] [e [+-] digits], at least one digit */
	const char *q = s;
	bool digits = false;
	if (*q == '+' || *q == '-')
		q++;
	while (isdigit((unsigned char)*q))
		q++, digits = true;
	if (*q == '.') {
		q++;
		while (isdigit((unsigned char)*q))
			q++, digits = true;
	}
	if (!digits)
		return false;
	if (*q == 'e' || *q == 'E') {
		q++;
		if (*q == '+' || *q == '-')
			q++;
		if (!isdigit((unsigned char)*q))
			return false;
		while (isdigit((unsigned char)*q))
			q++;
	}
	char *e;
	*v = strtod(s, &e);
	if (e != q)
		return false;
	*end = q;
	return true;
}

static const char *prom_comment(struct prom *p, const char *line, int ln)
{
	bool help = strncmp(line, "# HELP ", 7) == 0, type = strncmp(line, "# TYPE ", 7) == 0;
	if (!help && !type)
		return NULL; /* any other comment */
	const char *name = line + 7;
	size_t nl = name_len(name, true);
	if (nl == 0 || nl >= sizeof p->names[0] || (name[nl] != ' ' && !(help && name[nl] == '\0')))
		return ownf("line %d: bad metric name in: %s", ln, line);
	int f = prom_family(p, name, nl);
	if (help) {
		if (f >= 0 && p->helped[f])
			return ownf("line %d: second HELP for %.*s", ln, (int)nl, name);
		if (f < 0 && p->n < PROM_MAX) {
			/* HELP before TYPE: remember the name, type still unknown */
			f = (int)p->n++;
			snprintf(p->names[f], sizeof p->names[f], "%.*s", (int)nl, name);
			p->types[f][0] = '\0';
		}
		if (f >= 0)
			p->helped[f] = true;
		return NULL;
	}
	const char *t = name + nl + 1;
	static const char *const types[] = { "counter", "gauge", "histogram", "summary", "untyped" };
	bool known = false;
	for (size_t i = 0; i < 5; i++)
		known |= strcmp(t, types[i]) == 0;
	if (!known)
		return ownf("line %d: unknown type '%s'", ln, t);
	if (f >= 0 && p->types[f][0])
		return ownf("line %d: second TYPE for %.*s", ln, (int)nl, name);
	if (f >= 0 && p->sampled[f])
		return ownf("line %d: TYPE for %.*s after its samples", ln, (int)nl, name);
	if (f < 0) {
		if (p->n == PROM_MAX)
			return ownf("line %d: too many metric families", ln);
		f = (int)p->n++;
		snprintf(p->names[f], sizeof p->names[f], "%.*s", (int)nl, name);
	}
	snprintf(p->types[f], sizeof p->types[f], "%s", t);
	return NULL;
}

/* Parse {a="x",b="y"} at *s; returns an error or NULL and moves *s past it. */
static const char *prom_labels(const char **s, int ln)
{
	const char *q = *s + 1;
	char seen[16][128];
	size_t n_seen = 0;
	while (*q != '}') {
		size_t l = name_len(q, false);
		if (l == 0 || l >= sizeof seen[0])
			return ownf("line %d: bad label name at '%.20s'", ln, q);
		if (l >= 2 && q[0] == '_' && q[1] == '_')
			return ownf("line %d: reserved label name %.*s", ln, (int)l, q);
		for (size_t i = 0; i < n_seen; i++)
			if (strlen(seen[i]) == l && strncmp(seen[i], q, l) == 0)
				return ownf("line %d: label %.*s twice", ln, (int)l, q);
		if (n_seen < 16)
			snprintf(seen[n_seen++], sizeof seen[0], "%.*s", (int)l, q);
		q += l;
		if (q[0] != '=' || q[1] != '"')
			return ownf("line %d: expected =\" after a label name", ln);
		q += 2;
		while (*q != '"') {
			if (*q == '\0')
				return ownf("line %d: unterminated label value", ln);
			if (*q == '\\') {
				if (q[1] != '\\' && q[1] != '"' && q[1] != 'n')
					return ownf("line %d: bad escape \\%c in a label value", ln, q[1] ? q[1] : '0');
				q++;
			}
			q++;
		}
		q++;
		if (*q == ',')
			q++;
		else if (*q != '}')
			return ownf("line %d: expected , or } after a label value", ln);
	}
	*s = q + 1;
	return NULL;
}

static const char *prom_sample(struct prom *p, const char *line, int ln)
{
	size_t nl = name_len(line, true);
	if (nl == 0)
		return ownf("line %d: not a sample: %s", ln, line);
	int f = prom_sample_family(p, line, nl);
	if (f < 0 || !p->types[f][0])
		return ownf("line %d: %.*s has no # TYPE line before it", ln, (int)nl, line);
	if (p->sampled[f] && p->current != f)
		return ownf("line %d: samples of %s are not together", ln, p->names[f]);
	p->sampled[f] = true;
	p->current = f;
	const char *q = line + nl;
	if (*q == '{') {
		const char *err = prom_labels(&q, ln);
		if (err)
			return err;
	}
	size_t series_len = (size_t)(q - line);
	for (size_t i = 0; i < p->n_series; i++)
		if (strlen(p->series[i]) == series_len && strncmp(p->series[i], line, series_len) == 0)
			return ownf("line %d: series %.*s twice", ln, (int)series_len, line);
	if (p->n_series < sizeof p->series / sizeof p->series[0])
		p->series[p->n_series++] = ownf("%.*s", (int)series_len, line);
	if (*q != ' ')
		return ownf("line %d: expected a space before the value: %s", ln, line);
	while (*q == ' ')
		q++;
	double v;
	const char *end;
	if (!prom_float(q, &v, &end))
		return ownf("line %d: bad value '%s'", ln, q);
	if (strcmp(p->types[f], "counter") == 0 && !(v >= 0))
		return ownf("line %d: counter %s is %s", ln, p->names[f], q);
	if (*end == ' ') { /* optional timestamp: an integer (ms) */
		end++;
		if (*end == '-')
			end++;
		if (!isdigit((unsigned char)*end))
			return ownf("line %d: bad timestamp", ln);
		while (isdigit((unsigned char)*end))
			end++;
	}
	if (*end != '\0')
		return ownf("line %d: trailing text after the value: %s", ln, line);
	return NULL;
}

static const char *prom_check(const char *text)
{
	struct prom *p = calloc(1, sizeof *p);
	cr_assert(p);
	p->current = -1;
	const char *err = NULL;
	size_t len = strlen(text);
	if (len == 0)
		err = "empty exposition";
	else if (text[len - 1] != '\n')
		err = "the last line does not end with a newline";
	char *copy = own(strdup(text));
	int ln = 0;
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line && !err;
	     line = strtok_r(NULL, "\n", &save)) {
		ln++;
		if (strchr(line, '\r'))
			err = ownf("line %d: carriage return", ln);
		else if (line[0] == '#')
			err = prom_comment(p, line, ln);
		else if (line[0] != '\0')
			err = prom_sample(p, line, ln);
	}
	if (!err && p->n_series == 0)
		err = "no samples";
	free(p);
	return err;
}

/* The value of the series `series` (name with labels as written); NAN when absent. */
static double prom_value(const char *text, const char *series)
{
	size_t l = strlen(series);
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (strncmp(line, series, l) == 0 && line[l] == ' ')
			return strtod(line + l + 1, NULL);
	return NAN;
}

/* ======================================================== the parser itself */

Test(ops, prometheus_parser_is_strict)
{
	static const char *const good[] = {
		"# TYPE a counter\na 1\n",
		"# HELP a help text\n# TYPE a gauge\na -1.5e3\n",
		"# TYPE a gauge\na{x=\"1\",y=\"q\\\"\\\\\\n\"} NaN\na{x=\"2\",} +Inf 1700000000000\n",
		"# a free comment\n# TYPE ns:a_b untyped\nns:a_b .5\n\n",
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n",
	};
	static const char *const bad[] = {
		"",                                         /* empty */
		"# TYPE a counter\na 1",                    /* no final newline */
		"a 1\n",                                    /* no TYPE */
		"a 1\n# TYPE a counter\n",                  /* TYPE after the sample */
		"# TYPE a counter\n# TYPE a counter\na 1\n", /* two TYPEs */
		"# TYPE a kounter\na 1\n",                  /* unknown type */
		"# TYPE 1a gauge\n1a 1\n",                  /* bad name */
		"# TYPE a gauge\na one\n",                  /* bad value */
		"# TYPE a gauge\na 0x10\n",                 /* hex is not allowed */
		"# TYPE a gauge\na 1 2 3\n",                /* trailing text */
		"# TYPE a gauge\na{x=1} 1\n",               /* unquoted label value */
		"# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",   /* label twice */
		"# TYPE a gauge\na{x=\"\\t\"} 1\n",         /* bad escape */
		"# TYPE a gauge\na{x=\"1\"\n",              /* unterminated */
		"# TYPE a gauge\na{__x=\"1\"} 1\n",         /* reserved label */
		"# TYPE a gauge\na 1\na 2\n",               /* series twice */
		"# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 1\n", /* not contiguous */
		"# TYPE a counter\na -1\n",                 /* negative counter */
		"# TYPE a gauge\na\t1\n",                   /* tab instead of space */
		"# TYPE a gauge\na 1\r\n",                  /* CRLF */
		"# TYPE a gauge\n",                         /* no samples */
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		const char *err = prom_check(good[i]);
		cr_expect(err == NULL, "good[%zu] rejected: %s", i, err ? err : "");
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect(prom_check(bad[i]) != NULL, "bad[%zu] accepted: %s", i, bad[i]);
	cr_expect_eq(prom_value("# TYPE a gauge\na 1\nab 2\na{k=\"v\"} 3\n", "a{k=\"v\"}"), 3.0);
	cr_expect(isnan(prom_value("# TYPE a gauge\nab 2\n", "a")));
}

/* ======================================================== the command line */

Test(ops, version_prints_the_version)
{
	struct run r = HOTLINED("--version");
	cr_assert_eq(r.status, 0, "--version exited %d: %s", r.status, r.out);
	regex_t re;
	cr_assert_eq(regcomp(&re, "^hotlined [0-9]+\\.[0-9]+\\.[0-9]+[^\n]*\n$", REG_EXTENDED), 0);
	int m = regexec(&re, r.out, 0, NULL, 0);
	regfree(&re);
	cr_assert_eq(m, 0, "--version printed '%s', want 'hotlined X.Y.Z' on one line", r.out);

	/* -V is the short form; no config is needed */
	struct run s = HOTLINED("-V");
	cr_assert_eq(s.status, 0);
	cr_assert_str_eq(s.out, r.out);
	hl_e2e_finish();
}

/* --check on `text` must exit 2 and name FILE:LINE: KEY: (line -1: any number). */
static void expect_check_error(const char *name, const char *text, int line, const char *key)
{
	const char *path = write_file(name, text);
	struct run r = HOTLINED("-c", path, "--check");
	cr_assert_eq(r.status, 2, "%s: --check exited %d, want 2: %s", name, r.status, r.out);
	char *want = line >= 0 ? ownf("%s:%d: %s:", path, line, key) : NULL;
	if (want) {
		cr_assert(strstr(r.out, want), "%s: want '%s' in: %s", name, want, r.out);
		return;
	}
	/* FILE:<digits>: KEY: */
	char *prefix = ownf("%s:", path);
	const char *p = strstr(r.out, prefix);
	cr_assert(p, "%s: the message does not name the file: %s", name, r.out);
	p += strlen(prefix);
	cr_assert(isdigit((unsigned char)*p), "%s: no line number after the file: %s", name, r.out);
	while (isdigit((unsigned char)*p))
		p++;
	char *rest = ownf(": %s:", key);
	cr_assert(strncmp(p, rest, strlen(rest)) == 0, "%s: want 'FILE:LINE: %s:' in: %s", name, key, r.out);
}

/* Starting (not --check) on a bad file: the error reaches the journal as <3> (err). */
Test(ops, startup_config_error_has_err_priority)
{
	const char *path = write_file("bad_start.conf", "database = { conninfo = \"dbname=x\"; };\nsla = { callbak = \"2s\"; };\n");
	struct run r = HOTLINED("-c", path);
	cr_assert_eq(r.status, 2, "hotlined on a bad file exited %d, want 2: %s", r.status, r.out);
	cr_assert(strncmp(r.out, "<3>", 3) == 0, "the start-up configuration error has no <3> prefix: %s", r.out);
	cr_assert(strstr(r.out, "sla.callbak"), "the error does not name the key: %s", r.out);
	r = HOTLINED("-c", path, "--check");
	cr_assert(strncmp(r.out, "<", 1) != 0, "--check (for a person) has a priority prefix: %s", r.out);
}

Test(ops, check_accepts_a_valid_config)
{
	const char *path = write_file("ok.conf",
	                              "# a minimal configuration: only the database is required\n"
	                              "database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
	                              "sla = { callback = \"2s\"; update = \"0\"; warn_at = 0.5; };\n"
	                              "escalation = { after = \"1s\"; max_level = 2; };\n"
	                              "http = { listen = \"127.0.0.1:9370\"; };\n");
	struct run r = HOTLINED("-c", path, "--check");
	cr_assert_eq(r.status, 0, "--check of a valid file exited %d: %s", r.status, r.out);

	/* the shipped example (every key) is valid too */
	if (access("conf/hotlined.conf", R_OK) == 0) {
		struct run ex = HOTLINED("-c", "conf/hotlined.conf", "--check");
		cr_assert_eq(ex.status, 0, "conf/hotlined.conf: --check exited %d: %s", ex.status, ex.out);
	}
	hl_e2e_finish();
}

Test(ops, check_rejects_bad_configs_with_file_line_key)
{
	expect_check_error("unknown.conf",
	                   "database = { conninfo = \"dbname=x\"; };\n"
	                   "sla = {\n"
	                   "  callback = \"2s\";\n"
	                   "  callbak = \"2s\";\n"
	                   "};\n",
	                   4, "sla.callbak");
	expect_check_error("unknown_top.conf",
	                   "database = { conninfo = \"dbname=x\"; };\n"
	                   "\n"
	                   "metrics = { listen = \"127.0.0.1:9370\"; };\n",
	                   3, "metrics");
	expect_check_error("duration.conf",
	                   "database = { conninfo = \"dbname=x\"; };\n"
	                   "sla = {\n"
	                   "  update = \"0\";\n"
	                   "  callback = \"2 weeks\";\n"
	                   "};\n",
	                   4, "sla.callback");
	expect_check_error("duration_unit.conf",
	                   "database = { conninfo = \"dbname=x\"; };\n"
	                   "escalation = { after = \"15x\"; };\n",
	                   2, "escalation.after");
	expect_check_error("address.conf",
	                   "database = { conninfo = \"dbname=x\"; };\n"
	                   "listen = {\n"
	                   "  tcp = \"127.0.0.1:70000\";\n"
	                   "};\n",
	                   3, "listen.tcp");
	expect_check_error("address_noport.conf",
	                   "database = { conninfo = \"dbname=x\"; };\n"
	                   "listen = { tcp = \"localhost\"; };\n",
	                   2, "listen.tcp");
	expect_check_error("http_address.conf",
	                   "database = { conninfo = \"dbname=x\"; };\n"
	                   "http = { listen = \"127.0.0.1:port\"; };\n",
	                   2, "http.listen");
	/* an absent key has no line of its own: docs/configuration.md gives it line 0 */
	expect_check_error("no_conninfo.conf",
	                   "database = {\n"
	                   "  batch_max = 10;\n"
	                   "};\n",
	                   -1, "database.conninfo");
	expect_check_error("no_database.conf", "sla = { callback = \"2s\"; };\n", -1, "database.conninfo");

	/* a syntax error has no key, but still file and line */
	const char *syn = write_file("syntax.conf", "database = { conninfo = \"dbname=x\"; };\nsla = {\n  callback = ;\n};\n");
	struct run r = HOTLINED("-c", syn, "--check");
	cr_assert_eq(r.status, 2, "syntax error: exit %d: %s", r.status, r.out);
	cr_assert(strstr(r.out, ownf("%s:3:", syn)), "syntax error without FILE:LINE: %s", r.out);

	/* a file that is not there */
	char *missing = ownf("%s/absent.conf", scratch_dir());
	r = HOTLINED("-c", missing, "--check");
	cr_assert_eq(r.status, 2, "missing file: exit %d: %s", r.status, r.out);
	cr_assert(strstr(r.out, missing), "missing file not named: %s", r.out);

	/* no -c at all, or an unknown option: usage, exit 2 */
	r = HOTLINED("--check");
	cr_assert_eq(r.status, 2, "--check without -c: exit %d", r.status);
	r = HOTLINED("--frobnicate");
	cr_assert_eq(r.status, 2, "unknown option: exit %d", r.status);
	hl_e2e_finish();
}

HL_TEST(ops, migrate_twice_applies_nothing_the_second_time)
{
	struct hl_e2e_opts o = { .no_start = true };
	struct hl_d *d = hl_d_up(&o); /* ran --migrate once on the fresh database */
	char *first = slurp(ownf("%s/migrate.log", d->dir));
	cr_assert(strstr(first, "applied 001_schema"), "the first --migrate did not say what it applied: %s", first);
	int64_t versions = hl_sql_int(d, "SELECT count(*) FROM hotline.schema_migrations");
	cr_assert_gt(versions, 0);

	/* as the database owner, like the first (docs/operations.md section 2) */
	struct run r = HOTLINED("-c", d->conf, "--migrate", "--conninfo", d->conninfo);
	cr_assert_eq(r.status, 0, "second --migrate exited %d: %s", r.status, r.out);
	cr_assert(strstr(r.out, "schema up to date"), "second --migrate should say 'schema up to date': %s", r.out);
	cr_assert(!strstr(r.out, "applied"), "second --migrate applied something: %s", r.out);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.schema_migrations"), versions);

	/* and the daemon runs on it */
	hl_d_start(d);
	expect_ping(hl_conn_unix(d));
}

HL_TEST(ops, refuses_to_start_without_the_schema)
{
	struct hl_e2e_opts o = { .no_start = true, .no_tcp = true };
	struct hl_d *d = hl_d_up(&o);
	/* an empty database, as after createdb */
	PGresult *q = hl_sql(d, "SET client_min_messages = warning; DROP SCHEMA hotline CASCADE");
	(void)q;

	struct run r = HOTLINED("-c", d->conf);
	cr_assert_neq(r.status, -1, "hotlined kept running on a database without the schema: %s", r.out);
	cr_assert_neq(r.status, 0, "hotlined exited 0 on a database without the schema: %s", r.out);
	cr_assert_lt(r.status, 128, "hotlined died of a signal (%d): %s", r.status, r.out);
	cr_assert(strstr(r.out, "--migrate"), "the message should tell to run --migrate: %s", r.out);
	cr_assert(strstr(r.out, "<2>") || strstr(r.out, "<3>"), "the refusal should be logged as crit/err: %s", r.out);

	/* following the advice works */
	struct run m = HOTLINED("-c", d->conf, "--migrate", "--conninfo", d->conninfo);
	cr_assert_eq(m.status, 0, "--migrate: %s", m.out);
	hl_d_start(d);
	expect_ping(hl_conn_unix(d));
}

HL_TEST(ops, refuses_to_start_on_an_older_schema)
{
	struct hl_e2e_opts o = { .no_start = true, .no_tcp = true };
	struct hl_d *d = hl_d_up(&o);
	int64_t latest = hl_sql_int(d, "SELECT max(version) FROM hotline.schema_migrations");
	PGresult *q = hl_sql(d, "DELETE FROM hotline.schema_migrations WHERE version = %lld", (long long)latest);
	(void)q;
	struct run r = HOTLINED("-c", d->conf);
	cr_assert(r.status > 0 && r.status < 128, "hotlined on an old schema: status %d: %s", r.status, r.out);
	cr_assert(strstr(r.out, "--migrate"), "the message should tell to run --migrate: %s", r.out);
}

/* ================================================================= reload */

HL_TEST(ops, sighup_changes_sla_for_new_clocks_and_keeps_connections)
{
	struct hl_e2e_opts o = { .sla = "callback = \"1h\";" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	struct hl_conn *t = hl_conn_tcp(d);

	const char *at1 = iso_at(-5);
	int64_t case1 = abandoned(c, "+8613800000101", at1);
	cr_assert_eq(callback_allowed_s(d, case1, at1), 3600, "before the reload the callback SLA is 1h");

	edit_file(d->conf, "callback = \"1h\";", "callback = \"2s\";");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "configuration reloaded", 1, 10000), "no 'configuration reloaded' in the log");

	/* the same connection arms another clock: the new SLA */
	const char *at2 = iso_at(-1);
	int64_t case2 = abandoned(c, "+8613800000102", at2);
	cr_assert_neq(case2, case1);
	cr_assert_eq(callback_allowed_s(d, case2, at2), 2, "after the reload the callback SLA is 2s");
	/* the old clock keeps its due time */
	cr_assert_eq(callback_allowed_s(d, case1, at1), 3600, "the reload moved an existing clock");
	char *st = hl_sql_text(d, "SELECT state FROM hotline.clocks WHERE case_id = %lld AND kind = 'callback'",
	                       (long long)case1);
	cr_assert(st && strcmp(st, "pending") == 0, "old clock: %s", st ? st : "(none)");

	/* both connections opened before the reload still work */
	expect_ping(c);
	expect_ping(t);
	/* the new 2 s clock really falls due: the alert comes within ~1 s of due */
	int64_t end = hl_now_ms() + 8000;
	while (hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld AND kind = 'callback_overdue'",
	                  (long long)case2) == 0) {
		cr_assert_lt(hl_now_ms(), end, "no callback_overdue for the 2 s clock");
		hl_sleep_ms(100);
	}
	cr_assert(hl_d_alive(d));
}

HL_TEST(ops, invalid_reload_is_refused_and_logged)
{
	struct hl_e2e_opts o = { .sla = "callback = \"1h\";" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	/* a syntax error: find its line to expect it in the log */
	edit_file(d->conf, "callback = \"1h\";", "callback = ;");
	char *conf = slurp(d->conf);
	int line = 1;
	for (const char *p = conf; p < strstr(conf, "callback = ;"); p++)
		line += *p == '\n';
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "reload refused", 1, 10000), "no 'reload refused' in the log");
	char *log = hl_d_log(d);
	cr_assert(!strstr(log, "configuration reloaded"), "an invalid file was reloaded");
	/* the reason: the file and line, at priority err or worse */
	char *line_start = strstr(log, "reload refused");
	while (line_start > log && line_start[-1] != '\n')
		line_start--;
	cr_assert(line_start[0] == '<' && line_start[1] >= '0' && line_start[1] <= '3' && line_start[2] == '>',
	          "the refusal is not logged at err or worse: %.200s", line_start);
	char *where = ownf("%s:%d:", d->conf, line);
	cr_assert(strstr(line_start, where), "the refusal does not name %s: %.300s", where, line_start);

	/* the old configuration stays: a new clock still gets 1h */
	const char *at = iso_at(-5);
	int64_t case1 = abandoned(c, "+8613800000201", at);
	cr_assert_eq(callback_allowed_s(d, case1, at), 3600, "the refused reload changed the SLA");
	cr_assert(hl_d_alive(d));

	/* a semantic error (bad duration) is refused the same way */
	edit_file(d->conf, "callback = ;", "callback = \"soon\";");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "reload refused", 2, 10000), "bad duration: no second 'reload refused'");
	cr_assert(strstr(hl_d_log(d), ownf("%s:%d: sla.callback:", d->conf, line)),
	          "the refusal does not name FILE:LINE: sla.callback:");
	at = iso_at(-5);
	int64_t case2 = abandoned(c, "+8613800000202", at);
	cr_assert_eq(callback_allowed_s(d, case2, at), 3600);

	/* fixing the file and reloading again works */
	edit_file(d->conf, "callback = \"soon\";", "callback = \"2s\";");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "configuration reloaded", 1, 10000), "the fixed file was not reloaded");
	at = iso_at(-5);
	int64_t case3 = abandoned(c, "+8613800000203", at);
	cr_assert_eq(callback_allowed_s(d, case3, at), 2);
	expect_ping(c);
}

/*
 * docs/operations.md section 4: listen.* takes effect only after a restart,
 * and the daemon logs that when a reload changes it.  A reload that lowers
 * listen.max_line must therefore not start refusing lines that the running
 * listeners accept; after a restart the new limit applies.
 */
HL_TEST(ops, reload_of_listen_key_waits_for_restart)
{
	struct hl_e2e_opts o = { .no_tcp = true };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	char pad[2001];
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	json_object *r = hl_requestf(c, "{\"type\":\"ping\",\"id\":\"big-1\",\"pad\":\"%s\"}", pad);
	expect_ok(r);

	edit_file(d->conf, "max_line = 65536;", "max_line = 1024;");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "configuration reloaded", 1, 10000));
	cr_assert(strstr(hl_d_log(d), "listen.max_line"), "the reload should warn that listen.max_line needs a restart");

	r = hl_requestf(c, "{\"type\":\"ping\",\"id\":\"big-2\",\"pad\":\"%s\"}", pad);
	cr_assert(hl_jbool(r, "ok"), "listen.max_line changed without a restart (existing connection): %s",
	          json_object_to_json_string(r));
	struct hl_conn *c2 = hl_conn_unix(d);
	r = hl_requestf(c2, "{\"type\":\"ping\",\"id\":\"big-3\",\"pad\":\"%s\"}", pad);
	cr_assert(hl_jbool(r, "ok"), "listen.max_line changed without a restart (new connection): %s",
	          json_object_to_json_string(r));

	/* after a restart it applies */
	hl_d_restart(d);
	struct hl_conn *c3 = hl_conn_unix(d);
	r = hl_requestf(c3, "{\"type\":\"ping\",\"id\":\"big-4\",\"pad\":\"%s\"}", pad);
	cr_assert_str_eq(hl_jstr(r, "error.code") ? hl_jstr(r, "error.code") : "(none)", "too_large");
}

/*
 * The other direction: a reload that raises listen.max_line.  A connection
 * opened before it must still get an answer to a long line (too_large under
 * the old limit, or ok if the daemon applied the new one) - it must never
 * stall with the line half read.
 */
HL_TEST(ops, reload_raising_max_line_never_stalls_a_connection)
{
	struct hl_e2e_opts o = { .no_tcp = true, .listen = "max_line = 1024;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	expect_ping(c);

	edit_file(d->conf, "max_line = 1024;", "max_line = 65536;");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "configuration reloaded", 1, 10000));

	size_t n = 20000;
	char *pad = own(malloc(n + 1));
	memset(pad, 'x', n);
	pad[n] = '\0';
	cr_assert_eq(hl_sendf(c, "{\"type\":\"ping\",\"id\":\"long\",\"pad\":\"%s\"}", pad), 0);
	json_object *r = hl_recv_json(c, HL_TIMEOUT_MS);
	cr_assert(r, "no answer within %d ms to a 20 kB line after max_line was raised by a reload: "
	             "the connection stalls (%s)", HL_TIMEOUT_MS, c->eof ? "closed" : "still open");
	const char *code = hl_jstr(r, "error.code");
	cr_assert(hl_jbool(r, "ok") || (code && strcmp(code, "too_large") == 0), "answer: %s",
	          json_object_to_json_string(r));
}

/* ================================================================== logs */

HL_TEST(ops, log_has_priorities_and_no_full_phone_numbers)
{
	struct hl_e2e_opts o = {
		.sla = "callback = \"1s\"; warn_at = 0.5;",
		.repeat_caller = "threshold = 2;",
		.escalation = "after = \"1s\";",
		.top = "log = { level = \"debug\"; };",
	};
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	struct hl_conn *sub = hl_conn_unix(d);
	expect_ok(hl_request(sub, "{\"type\":\"subscribe\",\"id\":\"sub\"}"));

	/* the caller in several spellings, on events, errors and alerts */
	json_object *r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"o1\",\"call_id\":\"k1\","
	                                "\"caller\":\"%s\",\"at\":\"%s\"}", SECRET_CALLER, iso_at(-3));
	expect_ok(r);
	int64_t case_id = hl_jint(r, "case_id");
	expect_ok(hl_requestf(c, "{\"type\":\"call.abandoned\",\"id\":\"a1\",\"call_id\":\"k1\",\"at\":\"%s\"}",
	                      iso_at(-2)));
	expect_ok(hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"o2\",\"call_id\":\"k2\","
	                         "\"caller\":\"+86%s\",\"at\":\"%s\"}", SECRET_DIGITS, iso_at(-1)));
	expect_ok(hl_requestf(c, "{\"type\":\"voicemail.left\",\"id\":\"v1\",\"call_id\":\"k3\","
	                         "\"caller\":\"0086-%s\"}", SECRET_DIGITS));
	/* errors that carry the number */
	r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"bad1\",\"call_id\":\"k4\",\"caller\":\"+86%sabc\"}",
	                SECRET_DIGITS);
	cr_assert(!hl_jbool(r, "ok"));
	r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"o1\",\"call_id\":\"k1\",\"caller\":\"%s\"}",
	                SECRET_CALLER);
	cr_assert(hl_jbool(r, "duplicate"), "expected a duplicate: %s", json_object_to_json_string(r));
	hl_send(c, "{\"type\":\"call.offered\",\"caller\":\"+8613912345678\" broken");
	r = hl_recv_json(c, HL_TIMEOUT_MS);
	cr_assert(r && !hl_jbool(r, "ok"));
	expect_ok(hl_requestf(c, "{\"type\":\"case.get\",\"id\":\"g1\",\"case_id\":%lld}", (long long)case_id));

	/* due soon, overdue, repeat caller and an escalation go through the log */
	int64_t end = hl_now_ms() + 10000;
	while (hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE level >= 2") == 0) {
		cr_assert_lt(hl_now_ms(), end, "no escalation within 10 s");
		hl_sleep_ms(100);
	}
	cr_assert_gt(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'repeat_caller'"), 0);

	hl_conn_close(sub);
	hl_conn_close(c);
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0, "SIGTERM must exit 0");

	char *log = hl_d_log(d);
	cr_assert(strstr(log, "alert"), "the alerts were not logged at all: %s", log);
	cr_assert(!strstr(log, SECRET_DIGITS), "a full caller number is in the log:\n%s", log);
	cr_assert(!strstr(log, "139-1234-5678"), "a full caller number (as sent) is in the log:\n%s", log);
	cr_assert(!strstr(log, "139 1234 5678"));

	/* every line the daemon wrote starts with a syslog priority "<0>".."<7>" */
	int n = 0;
	char *copy = own(strdup(log));
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "==== harness:", 13) == 0)
			continue;
		n++;
		cr_assert(line[0] == '<' && line[1] >= '0' && line[1] <= '7' && line[2] == '>',
		          "log line without a priority prefix: %s", line);
	}
	cr_assert_gt(n, 5, "suspiciously short log at level debug: %s", log);
	/* debug and notice both occur, so the prefix really carries the level */
	cr_assert(strstr(log, "<7>") && strstr(log, "<5>"), "expected <7> and <5> lines at level debug: %s", log);
}

HL_TEST(ops, log_level_is_honoured)
{
	struct hl_e2e_opts o = { .top = "log = { level = \"warning\"; };" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	expect_ping(c);
	abandoned(c, "+8613800000301", iso_at(-1));
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0);
	char *log = hl_d_log(d);
	for (int p = 5; p <= 7; p++) {
		char tag[8];
		snprintf(tag, sizeof tag, "<%d>", p);
		cr_assert(!strstr(log, tag), "log.level = warning but a %s line was written:\n%s", tag, log);
	}
}

/* ================================================================= stats */

HL_TEST(ops, stats_reports_live_counters)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	struct hl_conn *sub = hl_conn_tcp(d);
	expect_ok(hl_request(sub, "{\"type\":\"subscribe\",\"id\":\"s1\"}"));

	abandoned(c, "+8613800000401", iso_at(-10));
	abandoned(c, "+8613800000402", iso_at(-10));
	expect_ok(hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"%s\",\"call_id\":\"q1\",\"caller\":\"+8613800000403\"}",
	                      hl_uid("off")));

	json_object *r = hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}");
	expect_ok(r);
	cr_assert_str_eq(hl_jstr(r, "id"), "st");
	json_object *s = hl_jget(r, "stats");
	cr_assert(s && json_object_is_type(s, json_type_object), "no stats object: %s", json_object_to_json_string(r));
	static const char *const keys[] = { "connections", "events", "batches", "pending_clocks", "alerts_raised",
		                            "subscribers" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		cr_assert(hl_jget(s, keys[i]), "stats has no %s: %s", keys[i], json_object_to_json_string(s));

	cr_assert_eq(hl_jint(s, "connections"), 2, "two connections are open: %s", json_object_to_json_string(s));
	cr_assert_eq(hl_jint(s, "subscribers"), 1);
	cr_assert_eq(hl_jint(s, "events"), 3, "three events were acknowledged: %s", json_object_to_json_string(s));
	cr_assert_geq(hl_jint(s, "batches"), 1);
	json_object *pc = hl_jget(s, "pending_clocks");
	cr_assert(json_object_is_type(pc, json_type_object), "pending_clocks: %s", json_object_to_json_string(pc));
	cr_assert_eq(hl_jint(pc, "callback"), 2, "pending callback clocks: %s", json_object_to_json_string(pc));
	cr_assert_eq(hl_jint(pc, "resolution"), 3, "pending resolution clocks: %s", json_object_to_json_string(pc));
	json_object *ar = hl_jget(s, "alerts_raised");
	cr_assert(ar, "alerts_raised");
	/* nothing is due for 30 min: no alert was raised (an object by kind, or a number) */
	if (json_object_is_type(ar, json_type_object)) {
		json_object_object_foreach(ar, k, v) cr_assert_eq(json_object_get_int64(v), 0, "alerts_raised.%s", k);
	} else {
		cr_assert_eq(json_object_get_int64(ar), 0);
	}

	/* counters move: a closed subscriber and a new event */
	hl_conn_close(sub);
	abandoned(c, "+8613800000404", iso_at(-10));
	int64_t end = hl_now_ms() + 5000;
	for (;;) {
		r = hl_request(c, "{\"type\":\"stats\",\"id\":\"st2\"}");
		if ((hl_jint(r, "stats.subscribers") == 0 && hl_jint(r, "stats.connections") == 1) || hl_now_ms() > end)
			break;
		hl_sleep_ms(50);
	}
	cr_assert_eq(hl_jint(r, "stats.subscribers"), 0);
	cr_assert_eq(hl_jint(r, "stats.connections"), 1);
	cr_assert_eq(hl_jint(r, "stats.events"), 4);
	cr_assert_eq(hl_jint(r, "stats.pending_clocks.callback"), 3);

	/* the version in stats is the one --version prints */
	const char *v = hl_jstr(r, "stats.version");
	if (v) {
		struct run ver = HOTLINED("--version");
		cr_assert(strstr(ver.out, v), "stats.version %s vs --version %s", v, ver.out);
	}
}

/* ================================================================== HTTP */

static const char *http_top(int port)
{
	return ownf("http = { listen = \"127.0.0.1:%d\"; };", port);
}

HL_TEST(ops, http_metrics_and_healthz)
{
	int port = free_port();
	struct hl_e2e_opts o = { .top = http_top(port) };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	abandoned(c, "+8613800000501", iso_at(-10));
	abandoned(c, "+8613800000502", iso_at(-10));
	/* an error is counted too */
	json_object *r = hl_request(c, "{\"type\":\"case.get\",\"id\":\"nope\",\"case_id\":999999}");
	cr_assert_str_eq(hl_jstr(r, "error.code") ? hl_jstr(r, "error.code") : "(none)", "unknown_case");

	struct http_reply h = http_get(port, "/metrics");
	cr_assert_eq(h.status, 200, "GET /metrics: %d\n%s", h.status, h.head);
	cr_assert(strcasestr(h.head, "\r\nContent-Type: text/plain"), "Content-Type of /metrics: %s", h.head);
	const char *err = prom_check(h.body);
	cr_assert(err == NULL, "/metrics is not valid Prometheus text: %s\n%s", err, h.body);

	cr_assert_eq(prom_value(h.body, "hotlined_up"), 1.0, "hotlined_up:\n%s", h.body);
	cr_assert_eq(prom_value(h.body, "hotlined_events_total"), 2.0, "hotlined_events_total:\n%s", h.body);
	cr_assert_eq(prom_value(h.body, "hotlined_connections"), 1.0, "hotlined_connections:\n%s", h.body);
	cr_assert_eq(prom_value(h.body, "hotlined_pending_clocks{kind=\"callback\"}"), 2.0,
	             "pending callback clocks:\n%s", h.body);
	cr_assert_eq(prom_value(h.body, "hotlined_errors_total{code=\"unknown_case\"}"), 1.0,
	             "errors by code:\n%s", h.body);
	/* every metric is ours, or one of the standard process metrics */
	for (const char *line = h.body; *line; line = strchr(line, '\n') + 1) {
		if (line[0] != '#')
			cr_assert(strncmp(line, "hotlined_", 9) == 0 || strncmp(line, "process_", 8) == 0,
			          "metric outside the hotlined_ and process_ namespaces: %.80s", line);
		if (!strchr(line, '\n'))
			break;
	}
	/* build info, process metrics, histograms (cumulative buckets, +Inf = count) */
	cr_expect(strstr(h.body, "\nhotlined_build_info{version=\""), "no hotlined_build_info:\n%s", h.body);
	cr_expect_gt(prom_value(h.body, "process_cpu_seconds_total"), -1e-9, "process_cpu_seconds_total:\n%s", h.body);
	cr_expect_gt(prom_value(h.body, "process_resident_memory_bytes"), 1e5, "process_resident_memory_bytes:\n%s", h.body);
	cr_expect_gt(prom_value(h.body, "process_open_fds"), 3, "process_open_fds:\n%s", h.body);
	double started = prom_value(h.body, "process_start_time_seconds");
	cr_expect(started > (double)(time(NULL) - 600) && started <= (double)(time(NULL) + 1),
	          "process_start_time_seconds %f", started);
	static const char *const hists[] = { "hotlined_ack_latency_seconds", "hotlined_commit_duration_seconds",
	                                     "hotlined_alert_lateness_seconds" };
	for (size_t i = 0; i < sizeof hists / sizeof hists[0]; i++) {
		char series[128];
		snprintf(series, sizeof series, "# TYPE %s histogram\n", hists[i]);
		cr_expect(strstr(h.body, series), "%s is not a histogram:\n%s", hists[i], h.body);
		snprintf(series, sizeof series, "%s_count", hists[i]);
		double count = prom_value(h.body, series);
		snprintf(series, sizeof series, "%s_bucket{le=\"+Inf\"}", hists[i]);
		cr_expect_eq(prom_value(h.body, series), count, "%s: +Inf bucket != count", hists[i]);
		double prev = 0;
		for (const char *p = strstr(h.body, hists[i]); p; p = strstr(p + 1, hists[i])) {
			if (strncmp(p + strlen(hists[i]), "_bucket{", 8) != 0)
				continue;
			double v = atof(strchr(p, '}') + 1);
			cr_expect_geq(v, prev, "%s buckets are not cumulative", hists[i]);
			prev = v;
		}
	}
	cr_expect_geq(prom_value(h.body, "hotlined_ack_latency_seconds_count"), 3, "acks not observed");
	cr_expect_geq(prom_value(h.body, "hotlined_commit_duration_seconds_count"), 1, "commits not observed");

	h = http_get(port, "/healthz");
	cr_assert_eq(h.status, 200, "GET /healthz with the database up: %d %s", h.status, h.body);
	cr_expect(strcasestr(h.head, "\r\nContent-Type: text/plain"), "Content-Type of /healthz: %s", h.head);
	/* the first line is the verdict; the next says how the clock slots are shared (cluster.c) */
	cr_expect(strncmp(h.body, "ok\ncluster ", 11) == 0, "GET /healthz: %s", h.body);

	h = http_get(port, "/no-such-page");
	cr_assert_eq(h.status, 404, "GET /no-such-page: %d", h.status);

	/* the HTTP requests did not disturb the event socket */
	expect_ping(c);
}

/* An abandoned call reported 5 s late with a 1 s callback deadline: the alert
 * is committed at least 4 s after its deadline, and the histogram says so. */
HL_TEST(ops, alert_lateness_histogram)
{
	int port = free_port();
	struct hl_e2e_opts o = { .top = http_top(port), .sla = "callback = \"1s\"; warn_at = 0;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id = abandoned(c, "+8613800000601", iso_at(-5));
	int64_t end = hl_now_ms() + 5000;
	while (hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)case_id) == 0 &&
	       hl_now_ms() < end)
		hl_sleep_ms(50);
	struct http_reply h = http_get(port, "/metrics");
	cr_assert_eq(h.status, 200);
	cr_assert(prom_check(h.body) == NULL, "%s", prom_check(h.body));
	cr_expect_eq(prom_value(h.body, "hotlined_alert_lateness_seconds_count"), 1.0, "%s", h.body);
	cr_expect_eq(prom_value(h.body, "hotlined_alert_lateness_seconds_bucket{le=\"1\"}"), 0.0, "%s", h.body);
	cr_expect_eq(prom_value(h.body, "hotlined_alert_lateness_seconds_bucket{le=\"+Inf\"}"), 1.0, "%s", h.body);
	cr_expect_geq(prom_value(h.body, "hotlined_alert_lateness_seconds_sum"), 3.5, "%s", h.body);
}

HL_TEST(ops, healthz_is_503_without_database)
{
	int port = free_port();
	/* the daemon points at a socket directory that does not exist (the
	 * harness migrates with its own --conninfo, so that still works) */
	struct hl_e2e_opts o = {
		.top = http_top(port),
		.database = "conninfo = \"host=/nonexistent/hl-ops-no-db dbname=none connect_timeout=1\";",
	};
	struct hl_d *d = hl_d_up(&o);

	for (int i = 0; i < 3; i++) {
		struct http_reply h = http_get(port, "/healthz");
		cr_assert_eq(h.status, 503, "GET /healthz without a database: %d %s", h.status, h.body);
		hl_sleep_ms(300);
	}
	struct http_reply m = http_get(port, "/metrics");
	cr_assert_eq(m.status, 200, "/metrics must work during an outage");
	const char *err = prom_check(m.body);
	cr_assert(err == NULL, "/metrics during an outage: %s\n%s", err, m.body);
	cr_assert_eq(prom_value(m.body, "hotlined_up"), 0.0, "hotlined_up during an outage:\n%s", m.body);

	/* commands that need no database still answer */
	struct hl_conn *c = hl_conn_unix(d);
	expect_ping(c);
	json_object *r = hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}");
	expect_ok(r);
	const char *db = hl_jstr(r, "stats.database");
	if (db)
		cr_assert_str_eq(db, "down");
}

/* ============================================================= hotlinectl */

HL_TEST(ops, hotlinectl_smoke)
{
	struct hl_e2e_opts o = { .no_tcp = true };
	struct hl_d *d = hl_d_up(&o);
	const char *ctl = ctl_bin();
	cr_assert(access(ctl, X_OK) == 0, "HOTLINECTL_BIN %s is not executable", ctl);

	struct run r = RUN(30000, ctl, "--unix", d->sock, "ping");
	cr_assert_eq(r.status, 0, "hotlinectl ping: %d %s", r.status, r.out);
	cr_assert(strstr(r.out, "ok"), "hotlinectl ping printed: %s", r.out);

	const char *ndjson = write_file("events.ndjson",
	                                ownf("{\"type\":\"call.offered\",\"id\":\"ctl-1\",\"call_id\":\"cc1\","
	                                     "\"caller\":\"+8613800000601\",\"at\":\"%s\"}\n"
	                                     "\n"
	                                     "{\"type\":\"call.abandoned\",\"id\":\"ctl-2\",\"call_id\":\"cc1\",\"at\":\"%s\"}\r\n"
	                                     "{\"type\":\"ping\",\"id\":\"ctl-3\"}\n",
	                                     iso_at(-20), iso_at(-10)));
	r = RUN(30000, ctl, "--unix", d->sock, "send", ndjson);
	cr_assert_eq(r.status, 0, "hotlinectl send: %d %s", r.status, r.out);
	/* one response line per request, in order */
	char *copy = own(strdup(r.out));
	const char *want[] = { "ctl-1", "ctl-2", "ctl-3" };
	int n = 0;
	int64_t case_id = 0;
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cr_assert_lt(n, 3, "more than 3 response lines: %s", r.out);
		json_object *j = json_tokener_parse(line);
		cr_assert(j, "hotlinectl send printed a line that is not JSON: %s", line);
		bool ok = hl_jbool(j, "ok");
		bool same = hl_jstr(j, "id") && strcmp(hl_jstr(j, "id"), want[n]) == 0;
		if (n == 0)
			case_id = hl_jint(j, "case_id");
		json_object_put(j);
		cr_assert(ok && same, "response %d: %s", n, line);
		n++;
	}
	cr_assert_eq(n, 3, "want 3 response lines: %s", r.out);
	cr_assert_gt(case_id, 0);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id IN ('ctl-1','ctl-2')"), 2);

	char *id = ownf("%lld", (long long)case_id);
	r = RUN(30000, ctl, "--unix", d->sock, "case", id);
	cr_assert_eq(r.status, 0, "hotlinectl case: %d %s", r.status, r.out);
	cr_assert(strstr(r.out, ownf("Case %s", id)), "hotlinectl case output: %s", r.out);
	cr_assert(strstr(r.out, "open") && strstr(r.out, "callback") && strstr(r.out, "pending"),
	          "hotlinectl case should show the open case and its pending callback: %s", r.out);
	r = RUN(30000, ctl, "--unix", d->sock, "case", id, "--json");
	cr_assert_eq(r.status, 0);
	json_object *j = json_tokener_parse(r.out);
	cr_assert(j, "case --json is not JSON: %s", r.out);
	json_object_put(j);

	r = RUN(30000, ctl, "--unix", d->sock, "stats");
	cr_assert_eq(r.status, 0, "hotlinectl stats: %d %s", r.status, r.out);
	cr_assert(strstr(r.out, "events") && strstr(r.out, "connections") && strstr(r.out, "pending_clocks"),
	          "hotlinectl stats output: %s", r.out);
	r = RUN(30000, ctl, "--unix", d->sock, "stats", "--json");
	cr_assert_eq(r.status, 0);
	j = json_tokener_parse(r.out);
	cr_assert(j, "stats --json is not JSON: %s", r.out);
	int64_t events = hl_jint(j, "stats.events") ? hl_jint(j, "stats.events") : hl_jint(j, "events");
	json_object_put(j);
	cr_assert_eq(events, 2, "stats --json events: %s", r.out);

	/* failures have their documented exit codes */
	r = RUN(30000, ctl, "--unix", d->sock, "case", "999999");
	cr_assert_eq(r.status, 1, "case of an unknown id: %d %s", r.status, r.out);
	const char *badfile = write_file("bad.ndjson", "{\"type\":\"ping\",\"id\":\"ok-1\"}\nnot json\n");
	r = RUN(30000, ctl, "--unix", d->sock, "send", badfile);
	cr_assert_eq(r.status, 1, "send with a bad line: %d %s", r.status, r.out);
	cr_assert(strstr(r.out, "bad_json"), "send with a bad line: %s", r.out);
	char *nosock = ownf("%s/no.sock", scratch_dir());
	r = RUN(30000, ctl, "--unix", nosock, "ping");
	cr_assert_eq(r.status, 3, "ping on a missing socket: %d %s", r.status, r.out);
	r = RUN(30000, ctl, "--unix", d->sock, "frobnicate");
	cr_assert_eq(r.status, 2, "unknown command: %d %s", r.status, r.out);
	r = RUN(30000, ctl, "--version");
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "1.") || strstr(r.out, "0."), "hotlinectl --version: %s", r.out);

	/* -c takes the socket from the daemon's own config */
	r = RUN(30000, ctl, "-c", d->conf, "ping");
	cr_assert_eq(r.status, 0, "hotlinectl -c CONF ping: %d %s", r.status, r.out);
}
