/*
 * test_pbx.c - hotline-pbx end to end: the real bridge, the real daemon, real PostgreSQL.
 *
 *   import_day_backfill   a generated day of last year's queue_log (every quirk,
 *                         an Asterisk crash) imported with --backfill: the
 *                         daemon's daily figures equal figures this test
 *                         computes itself from the file; no alert row, no push,
 *                         no NOTIFY; a second import changes nothing; a live
 *                         event afterwards still alerts
 *   follow_rotate_kill9   --follow through rename-and-create, kill -9 mid-file
 *                         followed by a rotation while the bridge is down, and
 *                         copytruncate: every event stored exactly once
 *   malformed_lines       garbage, cut and unknown lines are counted, never fatal
 *   queue_visits          a channel back in the same queue (a key and back, a
 *                         transfer back, an overflow and back): every record
 *                         of every visit stored once, the call answered in its
 *                         second visit counted answered and its callback met
 *
 * The AMI client has its own suite (test_pbx_ami.c).
 *
 * The expected event ids of the follow test come from the bridge's pure
 * mapper (linked in); the expected figures of the import test come from an
 * independent reading of the file below (figures_from_file).
 */
#include "pbx_harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pbx.h"

TestSuite(pbx, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 240);

/* ------------------------------------------- figures, computed independently */

#define MAXCALLS 20000
struct tcall {
	char uid[64];
	char who[80];  /* last 11 digits of the caller; "withheld:<uid>" without a number */
	int64_t day;   /* UTC day number of ENTERQUEUE */
	double t;      /* its time, seconds */
	bool answered, abandoned, done, connected;
};
struct figures {
	int64_t first_day;
	int64_t offered[4], answered[4], abandoned[4], opened[4], repeat[4];
};

static struct tcall *tfind(struct tcall *c, int n, const char *uid)
{
	for (int i = n - 1; i >= 0; i--)
		if (strcmp(c[i].uid, uid) == 0)
			return &c[i];
	return NULL;
}

/* The caller's identity: the last 11 digits, when the field is a number
 * (optionally "Name" <number>); false for anonymous / empty ids. */
static bool who_of(const char *f, char *who)
{
	const char *lt = strchr(f, '<');
	char d[40];
	size_t n = 0;
	for (const char *p = lt ? lt + 1 : f; *p && *p != '>'; p++) {
		if (isdigit((unsigned char)*p)) {
			if (n < sizeof d - 1)
				d[n++] = *p;
		} else if (*p != '+' && *p != ' ' && *p != '-' && *p != '"')
			return false;
	}
	if (n < 11)
		return false;
	d[n] = '\0';
	snprintf(who, 16, "%s", d + n - 11);
	return true;
}

static void figures_from_file(const char *path, struct figures *fg)
{
	static struct tcall calls[MAXCALLS];
	int n = 0;
	memset(fg, 0, sizeof *fg);
	fg->first_day = -1;
	FILE *f = fopen(path, "r");
	cr_assert(f);
	char line[8192];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strstr(line, "|QUEUESTART|")) { /* Asterisk restarted: calls in progress are gone */
			for (int i = 0; i < n; i++)
				if (!calls[i].done) {
					if (!calls[i].connected)
						calls[i].abandoned = true;
					calls[i].done = true;
				}
			continue;
		}
		char *fld[16];
		int nf = 0;
		for (char *p = line, *s = line;; p++) {
			if (*p == '|' || *p == '\0') {
				bool end = *p == '\0';
				*p = '\0';
				if (nf < 16)
					fld[nf++] = s;
				s = p + 1;
				if (end)
					break;
			}
		}
		if (nf < 5 || nf > 10 || strspn(fld[0], "0123456789.") != strlen(fld[0]) || atoll(fld[0]) < 946684800)
			continue;
		int64_t day = atoll(fld[0]) / 86400;
		const char *ev = fld[4], *uid = fld[1];
		struct tcall *c = tfind(calls, n, uid);
		if (strcmp(ev, "ENTERQUEUE") == 0 && c) {
			/* back into a queue on the same channel: the same call goes on */
			c->done = c->connected = false;
		} else if (strcmp(ev, "ENTERQUEUE") == 0) {
			char who[80];
			if (nf < 7)
				continue;
			if (!who_of(fld[6], who)) /* offered as withheld: a caller of its own (docs/rules.md) */
				snprintf(who, sizeof who, "withheld:%.64s", uid);
			cr_assert_lt(n, MAXCALLS);
			c = &calls[n++];
			memset(c, 0, sizeof *c);
			snprintf(c->uid, sizeof c->uid, "%s", uid);
			snprintf(c->who, sizeof c->who, "%s", who);
			c->day = day;
			c->t = atof(fld[0]);
			if (fg->first_day < 0)
				fg->first_day = day;
		} else if (!c) {
			continue;
		} else if (strcmp(ev, "CONNECT") == 0) {
			c->answered = c->connected = true;
		} else if (!strcmp(ev, "ABANDON") || !strcmp(ev, "EXITWITHTIMEOUT") || !strcmp(ev, "EXITEMPTY") ||
		           !strcmp(ev, "EXITWITHKEY")) {
			c->abandoned = c->done = true;
		} else if (!strcmp(ev, "COMPLETECALLER") || !strcmp(ev, "COMPLETEAGENT") || !strcmp(ev, "TRANSFER") ||
		           !strcmp(ev, "BLINDTRANSFER") || !strcmp(ev, "ATTENDEDTRANSFER")) {
			c->answered = c->done = true;
		}
	}
	fclose(f);
	for (int i = 0; i < n; i++) {
		int k = (int)(calls[i].day - fg->first_day);
		cr_assert(k >= 0 && k < 4);
		fg->offered[k]++;
		fg->answered[k] += calls[i].answered;
		fg->abandoned[k] += !calls[i].answered && calls[i].abandoned;
		bool first = true;
		int prev = -1;
		for (int j = 0; j < i; j++)
			if (strcmp(calls[j].who, calls[i].who) == 0) {
				first = false;
				prev = j;
			}
		fg->opened[k] += first;
		/* the daemon's repeat call: the caller's previous call less than 24 h before */
		fg->repeat[k] += prev >= 0 && calls[prev].t > calls[i].t - 86400;
	}
}

/* ------------------------------------------------ expected ids (pure mapper) */

struct idset {
	char **ids;
	size_t n, cap;
};

static void collect_id(void *ctx, const struct pbx_event *ev)
{
	struct idset *s = ctx;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], ev->id) == 0)
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->ids = realloc(s->ids, s->cap * sizeof *s->ids);
	}
	s->ids[s->n++] = strdup(ev->id);
}

static void idset_free(struct idset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->ids[i]);
	free(s->ids);
}

/* Distinct event ids the lines of `text` map to (mapper options as in write_pbx_conf). */
static size_t expected_ids(const char *text)
{
	struct pbx_opts o;
	pbx_opts_defaults(&o);
	snprintf(o.id_prefix, sizeof o.id_prefix, "t:");
	snprintf(o.country_code, sizeof o.country_code, "86");
	o.national_length = 11;
	struct pbx_ql *m = pbx_ql_new(&o);
	struct idset s = { 0 };
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		pbx_ql_line(m, p, len, collect_id, &s, NULL, 0);
		p += len + (nl ? 1 : 0);
	}
	size_t n = s.n;
	idset_free(&s);
	pbx_ql_free(m);
	return n;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	return b;
}

static void append(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0640);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Byte offset of the start of line number `k` (0-based) in text. */
static size_t line_offset(const char *text, size_t k)
{
	const char *p = text;
	while (k-- > 0) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			return strlen(text);
		p = nl + 1;
	}
	return (size_t)(p - text);
}

/* ----------------------------------------------------------------- tests */

/* Webhook deliveries attempted so far (sent or failed), from `stats`. */
static int64_t webhook_attempts(struct hl_conn *c)
{
	json_object *r = hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}");
	return hl_jint(r, "stats.webhooks_sent") + hl_jint(r, "stats.webhooks_failed");
}

HL_TEST(pbx, import_day_backfill)
{
	/* a webhook to a port where nothing listens: every attempt counts as failed */
	int probe = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in pa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t pl = sizeof pa;
	cr_assert_eq(bind(probe, (struct sockaddr *)&pa, sizeof pa), 0);
	getsockname(probe, (struct sockaddr *)&pa, &pl);
	close(probe);
	char top[256];
	snprintf(top, sizeof top, "webhooks = { urls = [ \"http://127.0.0.1:%d/hook\" ]; timeout = \"1s\"; max_retries = 0; };",
	         ntohs(pa.sin_port));
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *stats = hl_conn_unix(d);
	write_pbx_conf(d, NULL);
	char ql[256];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	gen(ql, "--crash --calls 1200 --seed 7");
	struct figures fg;
	figures_from_file(ql, &fg);
	cr_assert_gt(fg.offered[0], 1000);

	/* watch every way an alert could page someone */
	struct hl_conn *sub = hl_subscribe(d, -1);
	PGconn *listen = PQconnectdb(d->conninfo);
	cr_assert_eq(PQstatus(listen), CONNECTION_OK);
	PQclear(PQexec(listen, "LISTEN hotline_alert"));

	pid_t pid = pbx_start(d, "--backfill", "queue-log", ql, NULL);
	cr_assert_eq(pbx_wait(pid, 200000), 0, "hotline-pbx failed:\n%s", pbx_log_text(d));
	const char *log = pbx_log_text(d);
	cr_assert(strstr(log, " 0 rejected"), "%s", log);
	cr_assert(strstr(log, "1 restarts"), "%s", log);
	cr_assert_null(strstr(log, "+86138"), "a caller number in the log:\n%s", log);

	hl_sql(d, "SET TimeZone = 'UTC'");
	for (int k = 0; k < 4; k++) {
		if (fg.offered[k] == 0)
			continue;
		PGresult *r = hl_sql(d,
		                     "SELECT calls_offered, calls_answered, calls_abandoned, cases_opened, repeat_calls "
		                     "FROM hotline.daily_figures WHERE day = to_timestamp(%lld)::date",
		                     (long long)((fg.first_day + k) * 86400));
		cr_assert_eq(PQntuples(r), 1, "no figures for day %d", k);
		cr_expect_eq(atoll(PQgetvalue(r, 0, 0)), fg.offered[k], "day %d offered", k);
		cr_expect_eq(atoll(PQgetvalue(r, 0, 1)), fg.answered[k], "day %d answered", k);
		cr_expect_eq(atoll(PQgetvalue(r, 0, 2)), fg.abandoned[k], "day %d abandoned", k);
		cr_expect_eq(atoll(PQgetvalue(r, 0, 3)), fg.opened[k], "day %d cases opened", k);
		cr_expect_eq(atoll(PQgetvalue(r, 0, 4)), fg.repeat[k], "day %d repeat calls", k);
	}
	/* calls that crossed midnight count on the day they were offered */
	cr_expect(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE ended_at::date > offered_at::date") >= 5);
	/* agents as channels, transfers, the restart */
	cr_expect_gt(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE agent = 'Local/8004@from-queue/n'"), 0);
	cr_expect_gt(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE outcome = 'transferred'"), 0);
	cr_expect_gt(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE body->>'backfill' = 'true'"), 0);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE NOT (body ? 'backfill')"), 0);

	/* breached, but nobody paged */
	cr_expect_gt(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE state = 'breached'"), 0);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE state = 'pending'"), 0);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts"), 0);
	struct hl_pushes ps = { 0 };
	hl_collect_pushes(sub, &ps, 1500);
	cr_assert_eq(ps.n, 0, "an alert was pushed during the import");
	PQconsumeInput(listen);
	PGnotify *nt = PQnotifies(listen);
	cr_assert_null(nt, "NOTIFY during the import");
	cr_assert_eq(webhook_attempts(stats), 0, "a webhook was called during the import");

	/* the same file again: everything is a duplicate */
	int64_t stored = events_stored(d);
	pid = pbx_start(d, "--backfill", "queue-log", ql, NULL);
	cr_assert_eq(pbx_wait(pid, 200000), 0);
	cr_assert_eq(events_stored(d), stored);

	/* a live event still alerts */
	int64_t t = hl_wall_ms() - 3600 * 1000;
	struct hl_conn *c = hl_conn_unix(d);
	json_object *r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"live-o\",\"call_id\":\"live\","
	                                "\"caller\":\"+8613900000001\",\"at\":\"%s\"}", hl_iso_ms(t));
	cr_assert(hl_jbool(r, "ok"));
	int64_t case_id = hl_jint(r, "case_id");
	r = hl_requestf(c, "{\"type\":\"call.abandoned\",\"id\":\"live-a\",\"call_id\":\"live\",\"at\":\"%s\"}",
	                hl_iso_ms(t));
	cr_assert(hl_jbool(r, "ok"));
	cr_assert_not_null(hl_await_push(sub, &ps, "callback_overdue", case_id, 1, 5000));
	int64_t end = hl_now_ms() + 5000;
	while (!(nt = (PQconsumeInput(listen), PQnotifies(listen))) && hl_now_ms() < end)
		hl_sleep_ms(50);
	cr_assert_not_null(nt, "no NOTIFY for the live alert");
	PQfreemem(nt);
	end = hl_now_ms() + 5000;
	while (webhook_attempts(stats) == 0 && hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_gt(webhook_attempts(stats), 0, "no webhook for the live alert");
	PQfinish(listen);
}

HL_TEST(pbx, follow_rotate_kill9)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char full[256], ql[256], rotated[256];
	snprintf(full, sizeof full, "%s/full", d->dir);
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	snprintf(rotated, sizeof rotated, "%s/queue_log.1", d->dir);
	gen(full, "--calls 500 --seed 3");
	char *text = slurp(full);
	size_t nlines = 0;
	for (const char *p = text; *p; p++)
		nlines += *p == '\n';
	size_t cut[6];
	for (int i = 0; i < 6; i++)
		cut[i] = line_offset(text, nlines * (size_t)(i + 1) / 7);
	size_t total = strlen(text);

	/* part 1, then follow */
	append(ql, text, cut[0]);
	pid_t pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	char *upto = strndup(text, cut[0]);
	int64_t want = (int64_t)expected_ids(upto);
	free(upto);
	cr_assert_eq(await_events(d, want, 60000), want, "part 1");

	/* rename-and-create: Asterisk writes a little more to the old file first */
	cr_assert_eq(rename(ql, rotated), 0);
	append(rotated, text + cut[0], cut[1] - cut[0]);
	append(ql, text + cut[1], cut[2] - cut[1]);
	upto = strndup(text, cut[2]);
	want = (int64_t)expected_ids(upto);
	free(upto);
	cr_assert_eq(await_events(d, want, 60000), want, "after rename-and-create");

	/* kill -9 while a big chunk is being sent; and while the bridge is down,
	 * logrotate renames the file and Asterisk starts a new one */
	append(ql, text + cut[2], cut[4] - cut[2]);
	hl_sleep_ms(150);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_eq(rename(ql, rotated), 0);
	append(ql, text + cut[4], cut[5] - cut[4]);
	pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	upto = strndup(text, cut[5]);
	want = (int64_t)expected_ids(upto);
	free(upto);
	cr_assert_eq(await_events(d, want, 60000), want, "after kill -9 and a rotation while down");

	/* copytruncate: copy, truncate, and Asterisk goes on writing at once */
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cp %s %s && : > %s", ql, rotated, ql);
	cr_assert_eq(system(cmd), 0);
	append(ql, text + cut[5], total - cut[5]);
	want = (int64_t)expected_ids(text);
	cr_assert_eq(await_events(d, want, 60000), want, "after copytruncate");
	hl_sleep_ms(500);
	cr_assert_eq(events_stored(d), want, "an event stored twice?");
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));
	const char *log = pbx_log_text(d);
	cr_assert(strstr(log, "rotated"), "%s", log);
	cr_assert(strstr(log, "rotated while we were away"), "%s", log);
	cr_assert(strstr(log, "truncated"), "%s", log);
	free(text);
}

HL_TEST(pbx, malformed_lines)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	const char *t = "1764633824|1764633824.26|hotline|NONE|ENTERQUEUE||013800010134|1\n"
	                "garbage\n"
	                "\n"
	                "1764633830|1764633824.26|hotline|PJSIP/8001|CONN\n"          /* cut short */
	                "17646338|1764633824.27|hotline|NONE|ENTERQUEUE||0138|1\n"     /* bad epoch */
	                "1764633840|1764633824.26|hotline|PJSIP/8001|FROBNICATE|1|2\n" /* unknown event */
	                "1764633841|NONE|hotline|NONE|ENTERQUEUE||013800010135|1\n"    /* no uniqueid */
	                "1764633850|1764633850.1|hotline|NONE|ENTERQUEUE||anonymous|1\n"
	                "1764633860|1764633850.1|hotline|NONE|ABANDON|1|1|10\n"
	                "1764633900|1764633824.26|hotline|PJSIP/8001|COMPLETECALLER|6|60|1\n"
	                "1764633910|1764633910.5|hotline|NONE|ENTERQUEUE||+8613800010136|1\n"
	                "1764633920|1764633910.5|hotline|NONE|ENTERQ"; /* cut at the end of the file */
	append(ql, t, strlen(t));
	pid_t pid = pbx_start(d, "queue-log", ql, NULL, NULL);
	cr_assert_eq(pbx_wait(pid, 60000), 0, "%s", pbx_log_text(d));
	const char *log = pbx_log_text(d);
	cr_assert(strstr(log, "5 malformed"), "%s", log);
	cr_assert(strstr(log, "1 unknown"), "%s", log);
	cr_assert(strstr(log, "1 anonymous"), "%s", log);
	cr_assert(strstr(log, "0 rejected"), "%s", log);
	/* offered, answered (synthesized: the CONNECT was cut), ended; the
	 * anonymous call offered as withheld and abandoned; the last call offered */
	cr_assert_eq(events_stored(d), 6);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE caller LIKE 'withheld:%%' AND state = 'abandoned'"),
	             1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE answered_at IS NOT NULL"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE caller = '+8613800010134'"), 1);
}

HL_TEST(pbx, queue_visits)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	/* .1 leaves with a key, comes back and is answered; .2 is answered,
	 * transferred back into the queue and answered again; .3 times out to
	 * q2, times out back to q1 and hangs up */
	const char *t = "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800020001|1\n"
	                "1764633630|1764633600.1|q1|NONE|EXITWITHKEY|1|1|1|30\n"
	                "1764633645|1764633600.1|q1|NONE|ENTERQUEUE||013800020001|1\n"
	                "1764633650|1764633600.1|q1|PJSIP/8001|CONNECT|5|1764633645.2|3\n"
	                "1764633800|1764633600.1|q1|PJSIP/8001|COMPLETECALLER|5|150|1\n"
	                "1764633900|1764633900.1|q1|NONE|ENTERQUEUE||013800020002|1\n"
	                "1764633910|1764633900.1|q1|PJSIP/8001|CONNECT|10|1764633901.1|2\n"
	                "1764634000|1764633900.1|q1|PJSIP/8001|BLINDTRANSFER|q1@queues|10|90|1\n"
	                "1764634001|1764633900.1|q1|NONE|ENTERQUEUE||013800020002|1\n"
	                "1764634010|1764633900.1|q1|PJSIP/8002|CONNECT|9|1764634001.3|2\n"
	                "1764634200|1764633900.1|q1|PJSIP/8002|COMPLETEAGENT|9|190|1\n"
	                "1764634300|1764634300.1|q1|NONE|ENTERQUEUE||013800020003|1\n"
	                "1764634360|1764634300.1|q1|NONE|EXITWITHTIMEOUT|1|1|60\n"
	                "1764634361|1764634300.1|q2|NONE|ENTERQUEUE||013800020003|1\n"
	                "1764634421|1764634300.1|q2|NONE|EXITWITHTIMEOUT|1|1|60\n"
	                "1764634422|1764634300.1|q1|NONE|ENTERQUEUE||013800020003|1\n"
	                "1764634430|1764634300.1|q1|NONE|ABANDON|1|1|8\n";
	append(ql, t, strlen(t));
	pid_t pid = pbx_start(d, "--backfill", "queue-log", ql, NULL);
	cr_assert_eq(pbx_wait(pid, 60000), 0, "%s", pbx_log_text(d));
	cr_assert(strstr(pbx_log_text(d), " 0 rejected"), "%s", pbx_log_text(d));
	/* one event per record, none taken for a duplicate of the visit before */
	cr_assert_eq(events_stored(d), 17);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id LIKE '%%#2'"), 8);

	/* one call each; .1 answered in its second visit, so not abandoned */
	PGresult *r = hl_sql(d, "SELECT call_id, state, answered_at IS NOT NULL, outcome, agent FROM hotline.calls "
	                        "ORDER BY call_id");
	cr_assert_eq(PQntuples(r), 3);
	cr_assert_str_eq(PQgetvalue(r, 0, 1), "ended");
	cr_assert_str_eq(PQgetvalue(r, 0, 2), "t");
	cr_assert_str_eq(PQgetvalue(r, 0, 3), "completed");
	cr_assert_str_eq(PQgetvalue(r, 1, 1), "ended");
	cr_assert_str_eq(PQgetvalue(r, 1, 3), "completed", "the end of the second visit is the call's end");
	cr_assert_str_eq(PQgetvalue(r, 1, 4), "PJSIP/8002");
	cr_assert_str_eq(PQgetvalue(r, 2, 1), "abandoned");
	cr_assert_str_eq(PQgetvalue(r, 2, 2), "f");
	/* .1's caller was reached: the callback its first visit armed is met */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks k JOIN hotline.calls c USING (case_id) "
	                           "WHERE c.call_id = 't:1764633600.1' AND k.kind = 'callback' AND k.state = 'met'"), 1);
	hl_sql(d, "SET TimeZone = 'UTC'");
	r = hl_sql(d, "SELECT calls_offered, calls_answered, calls_abandoned FROM hotline.daily_figures "
	              "WHERE day = '2025-12-02'");
	cr_assert_eq(PQntuples(r), 1);
	cr_assert_str_eq(PQgetvalue(r, 0, 0), "3");
	cr_assert_str_eq(PQgetvalue(r, 0, 1), "2");
	cr_assert_str_eq(PQgetvalue(r, 0, 2), "1");

	/* read again: every id the same, nothing new */
	pid = pbx_start(d, "--backfill", "queue-log", ql, NULL);
	cr_assert_eq(pbx_wait(pid, 60000), 0, "%s", pbx_log_text(d));
	cr_assert_eq(events_stored(d), 17);
}

HL_TEST(pbx, visits_across_kill9)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, NULL);
	char ql[256], state[256];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	snprintf(state, sizeof state, "%s/pbx.state", d->dir);
	const char *a = "1764633600|1764633600.1|q1|NONE|ENTERQUEUE||013800030001|1\n"
	                "1764633630|1764633600.1|q1|NONE|EXITWITHKEY|1|1|1|30\n"
	                "1764633631|1764633631.2|q1|NONE|ENTERQUEUE||013800030002|1\n"
	                "1764633640|1764633631.2|q1|PJSIP/8001|CONNECT|9|1764633632.9|2\n";
	append(ql, a, strlen(a));
	pid_t pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(await_events(d, 4, 30000), 4, "%s", pbx_log_text(d));
	hl_sleep_ms(700); /* nothing in flight: the position and the memory are saved */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	char *saved = slurp(state);
	cr_assert(saved && strncmp(saved, "hotline-pbx 2 ", 14) == 0, "%s", saved ? saved : "(no state file)");
	free(saved);

	/* while the bridge is down: .1 comes back and is answered; Asterisk restarts */
	const char *b = "1764633645|1764633600.1|q1|NONE|ENTERQUEUE||013800030001|1\n"
	                "1764633650|1764633600.1|q1|PJSIP/8002|CONNECT|5|1764633645.3|3\n"
	                "1764633700|1764633600.1|q1|PJSIP/8002|COMPLETECALLER|5|50|1\n"
	                "1764633800|NONE|NONE|NONE|QUEUESTART|\n";
	append(ql, b, strlen(b));
	pid = pbx_start(d, "queue-log", "--follow", ql, NULL);
	cr_assert_eq(await_events(d, 8, 30000), 8, "%s", pbx_log_text(d));
	hl_sleep_ms(300);
	cr_assert_eq(events_stored(d), 8);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id LIKE '%%:q1#2'"), 3);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633600.1' AND "
	                           "state = 'ended' AND agent = 'PJSIP/8002'"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633631.2' AND "
	                           "state = 'ended' AND outcome = 'pbx_restart'"), 1);
	kill(pid, SIGTERM);
	cr_assert_eq(pbx_wait(pid, 10000), 0, "%s", pbx_log_text(d));
}

/* A PBX that writes its queue and agent names in GBK: with charset =
 * "GB18030" the calls are stored under 投诉 and 张伟, readable in the
 * figures, and `queues` in the configuration (UTF-8) selects them; a
 * charset iconv does not know is refused when the bridge starts. */
HL_TEST(pbx, gbk_names_with_charset)
{
	struct hl_d *d = hl_d_up(NULL);
	write_pbx_conf(d, "  charset = \"NO-SUCH-CHARSET\";");
	char ql[256];
	snprintf(ql, sizeof ql, "%s/queue_log", d->dir);
	/* 投诉 (complaints) = cd b6 cb df, 张伟 = d5 c5 ce b0, 咨询 (enquiries) = d7 c9 d1 af */
	const char *t = "1764633600|1764633600.1|\xcd\xb6\xcb\xdf|NONE|ENTERQUEUE||013800040001|1\n"
	                "1764633610|1764633600.1|\xcd\xb6\xcb\xdf|\xd5\xc5\xce\xb0|CONNECT|10|1764633601.1|2\n"
	                "1764633700|1764633600.1|\xcd\xb6\xcb\xdf|\xd5\xc5\xce\xb0|COMPLETECALLER|10|90|1\n"
	                "1764633800|1764633800.1|\xd7\xc9\xd1\xaf|NONE|ENTERQUEUE||013800040002|1\n";
	append(ql, t, strlen(t));
	pid_t pid = pbx_start(d, "queue-log", ql, NULL, NULL);
	cr_assert_eq(pbx_wait(pid, 30000), 2, "an unknown charset must be refused: %s", pbx_log_text(d));
	cr_assert(strstr(pbx_log_text(d), "charset: not a character set iconv knows"), "%s", pbx_log_text(d));
	cr_assert_eq(events_stored(d), 0);

	write_pbx_conf(d, "  charset = \"GB18030\";\n  queues = [ \"投诉\" ];");
	pid = pbx_start(d, "--backfill", "queue-log", ql, NULL);
	cr_assert_eq(pbx_wait(pid, 60000), 0, "%s", pbx_log_text(d));
	cr_assert_eq(events_stored(d), 3, "the other queue (咨询) is not wanted: %s", pbx_log_text(d));
	PGresult *r = hl_sql(d, "SELECT queue, agent, state FROM hotline.calls");
	cr_assert_eq(PQntuples(r), 1);
	cr_assert_str_eq(PQgetvalue(r, 0, 0), "投诉");
	cr_assert_str_eq(PQgetvalue(r, 0, 1), "张伟");
	cr_assert_str_eq(PQgetvalue(r, 0, 2), "ended");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = "
	                           "'t:1764633600.1:offered:投诉'"), 1);
}
