/*
 * test_ops_metrics.c - end-to-end tests of what hotlined reports about itself
 * (suite `ops`; the other parts are in test_ops_cli.c, test_ops_reload.c and
 * test_ops_log.c).
 *
 * What an administrator relies on (docs/operations.md): the `stats` command
 * with live counters, and the optional HTTP listener: /metrics in the
 * Prometheus text format (our metrics, the standard process metrics,
 * cumulative histograms, the alert lateness histogram), /healthz (503
 * without a database, while /metrics and database-free commands go on
 * working), 404 for anything else.
 *
 * Design.  Two clients used by no other file live here: a tiny HTTP/1.0
 * client (http_get) and a strict Prometheus text-format parser (prom_check,
 * with a test of its own, prometheus_parser_is_strict), so that /metrics is
 * checked the way a scraper reads it.  The strings they hand out are owned
 * by the suite (ops_helpers.h).
 */
#include "ops_helpers.h"
#include "hotlined.h" /* hl_err_code: every error code the daemon answers */

#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

TestSuite(ops, .init = ops_init, .fini = ops_fini, .timeout = 90);

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

/* ================================================================= stats */

HL_TEST(ops, stats_reports_live_counters)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	struct hl_conn *sub = hl_conn_tcp(d);
	expect_ok(hl_request(sub, "{\"type\":\"subscribe\",\"id\":\"s1\"}"));

	abandoned(c, "+8613800000401", hl_iso_in(-10));
	abandoned(c, "+8613800000402", hl_iso_in(-10));
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
	abandoned(c, "+8613800000404", hl_iso_in(-10));
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
	abandoned(c, "+8613800000501", hl_iso_in(-10));
	abandoned(c, "+8613800000502", hl_iso_in(-10));
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
	/* every code the daemon can answer has its series (unknown_order and forbidden were left out) */
	for (int e = HL_E_BAD_JSON; e < HL_E__COUNT; e++)
		cr_expect(!isnan(prom_value(h.body, ownf("hotlined_errors_total{code=\"%s\"}", hl_err_code((enum hl_err)e)))),
		          "no errors_total series for %s", hl_err_code((enum hl_err)e));
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

/* A work order's sign and reply clocks are pending deadlines like a case's:
 * `stats` and /metrics count them by kind, so that the kinds add up to
 * pending_clocks_total (a dashboard summing hotlined_pending_clocks missed
 * every order clock). */
HL_TEST(ops, pending_clocks_count_order_clocks)
{
	int port = free_port();
	struct hl_e2e_opts o = { .top = http_top(port) };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id = abandoned(c, "+8613800000701", hl_iso_in(-10));
	expect_ok(hl_requestf(c, "{\"type\":\"order.dispatch\",\"id\":\"%s\",\"case_id\":%lld,\"department\":\"water\"}",
	                      hl_uid("disp"), (long long)case_id));
	json_object *r = hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}");
	expect_ok(r);
	json_object *pc = hl_jget(r, "stats.pending_clocks");
	cr_assert(pc && json_object_is_type(pc, json_type_object), "%s", json_object_to_json_string(r));
	cr_expect_eq(hl_jint(pc, "order_sign"), 1, "pending sign clocks: %s", json_object_to_json_string(pc));
	cr_expect_eq(hl_jint(pc, "order_reply"), 1, "pending reply clocks: %s", json_object_to_json_string(pc));
	int64_t sum = 0;
	json_object_object_foreach(pc, k, v)
	{
		if (strcmp(k, "escalation") != 0)
			sum += json_object_get_int64(v);
	}
	cr_expect_eq(sum, hl_jint(r, "stats.pending_clocks_total"), "the kinds do not add up to the total: %s",
	             json_object_to_json_string(hl_jget(r, "stats")));

	struct http_reply h = http_get(port, "/metrics");
	cr_assert_eq(h.status, 200);
	cr_assert(prom_check(h.body) == NULL, "%s", prom_check(h.body));
	cr_expect_eq(prom_value(h.body, "hotlined_pending_clocks{kind=\"order_sign\"}"), 1.0, "%s", h.body);
	cr_expect_eq(prom_value(h.body, "hotlined_pending_clocks{kind=\"order_reply\"}"), 1.0, "%s", h.body);
}

/* An abandoned call reported 5 s late with a 1 s callback deadline: the alert
 * is committed at least 4 s after its deadline, and the histogram says so. */
HL_TEST(ops, alert_lateness_histogram)
{
	int port = free_port();
	struct hl_e2e_opts o = { .top = http_top(port), .sla = "callback = \"1s\"; warn_at = 0;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id = abandoned(c, "+8613800000601", hl_iso_in(-5));
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
