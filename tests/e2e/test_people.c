/*
 * test_people.c - end-to-end: what operators and supervisors meet.
 *
 *   - the report zone follows report.timezone (default: the first calendar's
 *     zone), so the daily figures count local days;
 *   - hotlinectl shows times in that zone or --tz, with the offset, and takes
 *     options after its arguments;
 *   - history texts carry no absolute UTC times;
 *   - an acknowledgement is pushed to every watcher; watch shows it, and
 *     shows the time an alert escalated;
 *   - roles on the sockets: tokens with a name and a role, the supervisors'
 *     Unix socket, and `forbidden` for a request the role may not make.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(people, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 90);

#define SHANGHAI_CAL \
	"calendars = ( { name = \"office\"; timezone = \"Asia/Shanghai\"; hours = { mon = \"09:00-17:00\"; }; } );"

static const char *ctl_bin(void)
{
	const char *v = getenv("HOTLINECTL_BIN");
	return v && *v ? v : "build/hotlinectl";
}

/* A child writing stdout and stderr to a file. */
struct child {
	pid_t pid;
	char out[200];
	char text[65536];
};

static void spawn(struct child *ch, struct hl_d *d, const char *const *args)
{
	static unsigned seq;
	snprintf(ch->out, sizeof ch->out, "%s/ctl-%u.out", d->dir, seq++);
	const char *argv[32];
	int n = 0;
	argv[n++] = ctl_bin();
	for (; args[n - 1] && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid_t parent = getpid();
	ch->pid = fork();
	cr_assert(ch->pid >= 0, "fork: %s", strerror(errno));
	if (ch->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int fd = open(ch->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
}

static const char *child_text(struct child *ch)
{
	FILE *f = fopen(ch->out, "r");
	size_t n = f ? fread(ch->text, 1, sizeof ch->text - 1, f) : 0;
	ch->text[n] = '\0';
	if (f)
		fclose(f);
	return ch->text;
}

/* Wait until the child's output contains want (true), or timeout. */
static bool child_await(struct child *ch, const char *want, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	while (hl_now_ms() < end) {
		if (strstr(child_text(ch), want))
			return true;
		hl_sleep_ms(50);
	}
	return strstr(child_text(ch), want) != NULL;
}

static int child_stop(struct child *ch)
{
	int st = 0;
	kill(ch->pid, SIGTERM);
	waitpid(ch->pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run hotlinectl to its end; returns the exit status, output in ch->text. */
static int ctl(struct child *ch, struct hl_d *d, const char *const *args)
{
	spawn(ch, d, args);
	int st = 0;
	waitpid(ch->pid, &st, 0);
	child_text(ch);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void ok_event(struct hl_conn *c, const char *fmt_body)
{
	json_object *r = hl_request(c, fmt_body);
	cr_assert(hl_jbool(r, "ok"), "%s -> %s", fmt_body, json_object_to_json_string(r));
}

/* ---------------------------------------------------------------- time */

HL_TEST(people, report_zone_counts_local_days)
{
	struct hl_e2e_opts o = { .top = SHANGHAI_CAL };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	/* 2026-11-20T17:30Z is 2026-11-21 01:30 in Shanghai: a UTC day would say the 20th */
	ok_event(c, "{\"type\":\"call.offered\",\"id\":\"z1\",\"call_id\":\"zc1\",\"caller\":\"+8613800000001\","
	            "\"queue\":\"q\",\"at\":\"2026-11-20T17:30:00Z\"}");
	cr_assert_str_eq(hl_sql_text(d, "SELECT hotline.report_tz()"), "Asia/Shanghai");
	cr_assert_str_eq(hl_sql_text(d, "SELECT day::text FROM hotline.daily_figures WHERE calls_offered > 0"),
	                 "2026-11-21");
	/* a session may still override it for one report */
	cr_assert_str_eq(hl_sql_text(d, "SELECT set_config('hotline.timezone', 'UTC', false)"), "UTC");
	cr_assert_str_eq(hl_sql_text(d, "SELECT day::text FROM hotline.daily_figures WHERE calls_offered > 0"),
	                 "2026-11-20");
}

HL_TEST(people, report_timezone_key_wins_and_start_sets_it)
{
	struct hl_e2e_opts o = { .top = SHANGHAI_CAL "\nreport = { timezone = \"America/New_York\"; };" };
	struct hl_d *d = hl_d_up(&o);
	cr_assert_str_eq(hl_sql_text(d, "SELECT hotline.report_tz()"), "America/New_York");
	/* reset behind the daemon's back: the next start sets it again (as the unprivileged role) */
	hl_sql(d, "SELECT set_config('hotline.timezone', '', false)");
	hl_sql(d, "ALTER DATABASE %s RESET hotline.timezone", d->dbname);
	hl_d_restart(d);
	struct hl_conn *c = hl_conn_unix(d);
	json_object *r = hl_request(c, "{\"type\":\"ping\",\"id\":\"p\"}");
	cr_assert(hl_jbool(r, "ok"));
	/* the database's own settings hold other keys too (jit = off, sql/025): look for ours */
	cr_assert_str_eq(hl_sql_text(d, "SELECT x FROM pg_db_role_setting s JOIN pg_database b"
	                                " ON b.oid = s.setdatabase, unnest(s.setconfig) x"
	                                " WHERE b.datname = current_database() AND setrole = 0"
	                                " AND x LIKE 'hotline.timezone=%%'"),
	                 "hotline.timezone=America/New_York");
}

HL_TEST(people, hotlinectl_shows_local_times)
{
	struct hl_e2e_opts o = { .top = SHANGHAI_CAL };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	ok_event(c, "{\"type\":\"call.offered\",\"id\":\"t1\",\"call_id\":\"tc1\",\"caller\":\"+8613800000002\","
	            "\"queue\":\"q\",\"at\":\"2026-11-20T01:15:00Z\"}");
	ok_event(c, "{\"type\":\"call.abandoned\",\"id\":\"t2\",\"call_id\":\"tc1\",\"at\":\"2026-11-20T01:16:00Z\"}");
	struct child ch;
	/* the daemon's configuration: its report zone */
	int rc = ctl(&ch, d, (const char *const[]){ "-c", d->conf, "case", "1", NULL });
	cr_assert_eq(rc, 0, "%s", ch.text);
	cr_assert(strstr(ch.text, "opened      2026-11-20 09:15:00 +08:00"), "%s", ch.text);
	cr_assert(strstr(ch.text, "2026-11-20 09:16:00 +08:00 call.abandoned    call tc1 abandoned; callback armed, due in 30m"),
	          "%s", ch.text);
	cr_assert(!strstr(ch.text, "T01:15"), "no UTC time shown: %s", ch.text);
	/* --tz after the arguments */
	rc = ctl(&ch, d, (const char *const[]){ "--unix", d->sock, "case", "1", "--tz", "Europe/Paris", NULL });
	cr_assert_eq(rc, 0, "%s", ch.text);
	cr_assert(strstr(ch.text, "opened      2026-11-20 02:15:00 +01:00"), "%s", ch.text);
	/* no zone at all: UTC, still with its offset */
	rc = ctl(&ch, d, (const char *const[]){ "--unix", d->sock, "case", "1", NULL });
	cr_assert(strstr(ch.text, "opened      2026-11-20 01:15:00 +00:00"), "%s", ch.text);
	/* the stored history has no absolute time in it */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE description ~ '\\d{4}-\\d\\d-\\d\\dT'"), 0);
	/* a zone that does not exist is a usage error */
	rc = ctl(&ch, d, (const char *const[]){ "--unix", d->sock, "--tz", "Mars/Olympus", "case", "1", NULL });
	cr_assert_eq(rc, 2, "%s", ch.text);
}

/* ---------------------------------------------------------------- watch */

static const char *overdue_setup =
	"callback = \"1s\"; warn_at = 0; update = \"0\"; resolution = \"1h\";";

HL_TEST(people, ack_is_pushed_to_every_watcher)
{
	struct hl_e2e_opts o = { .top = SHANGHAI_CAL, .sla = overdue_setup,
	                         .escalation = "after = \"1h\"; max_level = 3;" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *w1 = hl_subscribe(d, -1), *w2 = hl_subscribe(d, -1);
	struct child watch;
	spawn(&watch, d, (const char *const[]){ "-c", d->conf, "watch", NULL });
	cr_assert(child_await(&watch, "watching alerts", 10000), "%s", child_text(&watch));
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms();
	char line[512];
	snprintf(line, sizeof line, "{\"type\":\"call.offered\",\"id\":\"a1\",\"call_id\":\"ac1\",\"caller\":\"+8613800000003\","
	         "\"queue\":\"q\",\"at\":\"%s\"}", hl_iso_ms(now));
	ok_event(c, line);
	snprintf(line, sizeof line, "{\"type\":\"call.abandoned\",\"id\":\"a2\",\"call_id\":\"ac1\",\"at\":\"%s\"}",
	         hl_iso_ms(now));
	ok_event(c, line);
	struct hl_pushes ps = { .n = 0 };
	const struct hl_push *p = hl_await_push(w1, &ps, "callback_overdue", 1, 1, 10000);
	cr_assert(p, "no callback_overdue push");
	int64_t id = p->id;
	cr_assert(child_await(&watch, "callback_overdue", 5000), "%s", child_text(&watch));

	snprintf(line, sizeof line, "{\"type\":\"alert.ack\",\"id\":\"k1\",\"alert_id\":%lld,\"by\":\"lin\"}", (long long)id);
	ok_event(c, line);
	struct hl_conn *ws[] = { w1, w2 };
	for (int i = 0; i < 2; i++) {
		bool seen = false;
		for (int tries = 0; tries < 20 && !seen; tries++) {
			char *l = hl_recv(ws[i], 5000);
			cr_assert(l, "watcher %d: no ack push", i + 1);
			json_object *j = json_tokener_parse(l);
			if (j && hl_jstr(j, "push") && !strcmp(hl_jstr(j, "push"), "ack")) {
				seen = true;
				cr_assert_eq(hl_jint(j, "alert.id"), id);
				cr_assert_str_eq(hl_jstr(j, "alert.acked_by"), "lin");
				cr_assert(hl_jstr(j, "alert.acked_at"));
			}
			json_object_put(j);
		}
		cr_assert(seen, "watcher %d never saw the ack", i + 1);
	}
	cr_assert(child_await(&watch, "acked by lin", 5000), "%s", child_text(&watch));
	cr_assert(strstr(child_text(&watch), "+08:00"), "%s", child_text(&watch));
	child_stop(&watch);
}

HL_TEST(people, watch_shows_when_an_alert_escalated)
{
	struct hl_e2e_opts o = { .sla = overdue_setup, .escalation = "after = \"1s\"; max_level = 2;" };
	struct hl_d *d = hl_d_up(&o);
	struct child watch;
	spawn(&watch, d, (const char *const[]){ "--unix", d->sock, "watch", "--tz", "Asia/Shanghai", NULL });
	cr_assert(child_await(&watch, "watching alerts", 10000), "%s", child_text(&watch));
	struct hl_conn *c = hl_conn_unix(d);
	int64_t now = hl_wall_ms();
	char line[512];
	snprintf(line, sizeof line, "{\"type\":\"call.offered\",\"id\":\"e1\",\"call_id\":\"ec1\",\"caller\":\"+8613800000004\","
	         "\"queue\":\"q\",\"at\":\"%s\"}", hl_iso_ms(now));
	ok_event(c, line);
	snprintf(line, sizeof line, "{\"type\":\"call.abandoned\",\"id\":\"e2\",\"call_id\":\"ec1\",\"at\":\"%s\"}",
	         hl_iso_ms(now));
	ok_event(c, line);
	cr_assert(child_await(&watch, "escalated (raised ", 15000), "%s", child_text(&watch));
	char *esc = hl_sql_text(d, "SELECT to_char(escalated_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS')"
	                           " FROM hotline.alerts WHERE level = 2");
	char want[64];
	snprintf(want, sizeof want, "%s +08:00 #", esc);
	cr_assert(strstr(child_text(&watch), want), "want '%s' in: %s", want, child_text(&watch));
	child_stop(&watch);
}

/* ---------------------------------------------------------------- roles */

#define TOKENS \
	"tokens = ( \"full-token\", { token = \"view-token\"; name = \"wall\"; role = \"viewer\"; }," \
	" { token = \"sup-token\"; name = \"lin\"; role = \"supervisor\"; }," \
	" { token = \"ingest-token\"; name = \"pbx\"; role = \"ingest\"; } );"

static struct hl_conn *tcp_as(struct hl_d *d, const char *token)
{
	struct hl_conn *c = hl_conn_tcp(d);
	json_object *r = hl_requestf(c, "{\"type\":\"auth\",\"id\":\"a\",\"token\":\"%s\"}", token);
	cr_assert(hl_jbool(r, "ok"), "auth %s: %s", token, json_object_to_json_string(r));
	return c;
}

static void expect_forbidden(struct hl_conn *c, const char *line)
{
	json_object *r = hl_request(c, line);
	cr_assert(!hl_jbool(r, "ok") && hl_jstr(r, "error.code") && !strcmp(hl_jstr(r, "error.code"), "forbidden"),
	          "%s -> %s", line, json_object_to_json_string(r));
	/* the connection stays open */
	r = hl_request(c, "{\"type\":\"ping\",\"id\":\"still-there\"}");
	cr_assert(hl_jbool(r, "ok"), "after forbidden: %s", json_object_to_json_string(r));
}

static const char *offer(const char *id, const char *call)
{
	static char line[400];
	snprintf(line, sizeof line, "{\"type\":\"call.offered\",\"id\":\"%s\",\"call_id\":\"%s\",\"caller\":\"+8613800000009\","
	         "\"queue\":\"q\",\"at\":\"%s\"}", id, call, hl_iso_ms(hl_wall_ms()));
	return line;
}

HL_TEST(people, token_roles_on_tcp)
{
	struct hl_e2e_opts o = { .listen = TOKENS, .sla = overdue_setup };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *ingest = tcp_as(d, "ingest-token");
	ok_event(ingest, offer("r1", "rc1"));
	expect_forbidden(ingest, "{\"type\":\"case.get\",\"id\":\"g1\",\"case_id\":1}");
	expect_forbidden(ingest, "{\"type\":\"subscribe\",\"id\":\"s1\"}");
	expect_forbidden(ingest, "{\"type\":\"alert.ack\",\"id\":\"k1\",\"alert_id\":1,\"by\":\"x\"}");
	char line[300];
	snprintf(line, sizeof line, "{\"type\":\"call.abandoned\",\"id\":\"r2\",\"call_id\":\"rc1\",\"at\":\"%s\"}",
	         hl_iso_ms(hl_wall_ms()));
	ok_event(ingest, line);

	struct hl_conn *view = tcp_as(d, "view-token");
	ok_event(view, "{\"type\":\"case.get\",\"id\":\"g2\",\"case_id\":1}");
	ok_event(view, "{\"type\":\"stats\",\"id\":\"st\"}");
	expect_forbidden(view, offer("r3", "rc3"));
	expect_forbidden(view, "{\"type\":\"alert.ack\",\"id\":\"k2\",\"alert_id\":1,\"by\":\"x\"}");

	/* the supervisor's ack is by the token's name unless it names someone */
	int64_t end = hl_now_ms() + 10000;
	while (hl_now_ms() < end && hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'callback_overdue'") == 0)
		hl_sleep_ms(100);
	int64_t id = hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE kind = 'callback_overdue'");
	struct hl_conn *sup = tcp_as(d, "sup-token");
	expect_forbidden(sup, offer("r4", "rc4"));
	snprintf(line, sizeof line, "{\"type\":\"alert.ack\",\"id\":\"k3\",\"alert_id\":%lld}", (long long)id);
	ok_event(sup, line);
	cr_assert_str_eq(hl_sql_text(d, "SELECT acked_by FROM hotline.alerts WHERE id = %lld", (long long)id), "lin");
	/* a full-access token, and an ack without by from a nameless client, as before */
	struct hl_conn *full = tcp_as(d, "full-token");
	ok_event(full, offer("r5", "rc5"));
	json_object *r = hl_request(full, "{\"type\":\"alert.ack\",\"id\":\"k4\",\"alert_id\":1}");
	cr_assert_str_eq(hl_jstr(r, "error.code"), "bad_request", "%s", json_object_to_json_string(r));
	cr_assert_str_eq(hl_jstr(r, "error.message"), "by: missing");
	/* a wrong token is still unauthorized (and closes) */
	struct hl_conn *bad = hl_conn_tcp(d);
	r = hl_request(bad, "{\"type\":\"auth\",\"id\":\"a\",\"token\":\"nope\"}");
	cr_assert_str_eq(hl_jstr(r, "error.code"), "unauthorized");
}

HL_TEST(people, supervisor_unix_socket)
{
	char sup_dir[64] = "/tmp/hl-sup-XXXXXX", sup_path[96], listen[200];
	cr_assert(mkdtemp(sup_dir), "mkdtemp: %s", strerror(errno));
	snprintf(sup_path, sizeof sup_path, "%s/supervisor.sock", sup_dir);
	snprintf(listen, sizeof listen, "unix_supervisor = \"%s\"; unix_supervisor_mode = \"0600\";", sup_path);
	struct hl_e2e_opts o = { .listen = listen };
	struct hl_d *d = hl_d_up(&o);
	struct stat st;
	cr_assert_eq(stat(sup_path, &st), 0, "%s: %s", sup_path, strerror(errno));
	cr_assert_eq(st.st_mode & 0777, 0600);
	/* hl_d_up waits for the main socket; the daemon opens the supervisors'
	 * right after it (bound before it listens: a connect in between is
	 * refused), so wait for that one to answer too */
	for (int i = 0; i < 500; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		snprintf(a.sun_path, sizeof a.sun_path, "%s", sup_path);
		int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
		close(fd);
		if (rc == 0)
			break;
		hl_sleep_ms(10);
	}
	char saved[160];
	snprintf(saved, sizeof saved, "%s", d->sock);
	snprintf(d->sock, sizeof d->sock, "%s", sup_path);
	struct hl_conn *sup = hl_conn_unix(d);
	snprintf(d->sock, sizeof d->sock, "%s", saved);
	expect_forbidden(sup, offer("u1", "uc1"));
	ok_event(sup, "{\"type\":\"subscribe\",\"id\":\"s\"}");
	/* the main socket keeps full access */
	struct hl_conn *c = hl_conn_unix(d);
	ok_event(c, offer("u2", "uc2"));
	json_object *r = hl_request(sup, "{\"type\":\"alert.ack\",\"id\":\"k\",\"alert_id\":99}");
	cr_assert_str_eq(hl_jstr(r, "error.code"), "bad_request", "no name, no by: %s", json_object_to_json_string(r));
	hl_e2e_finish();
	cr_assert_neq(access(sup_path, F_OK), 0, "the supervisors' socket is removed at exit");
	rmdir(sup_dir);
}

/* A viewer or a supervisor is not privileged: on the socket as over HTTP,
 * a confidential caller's number reaches them masked (docs/protocol.md:
 * "masked for every reader who is not privileged (... pushes)"), in the
 * subscribe replay, in live pushes and in case.get.  Full access (the main
 * Unix socket, a plain token) still sees it whole. */
HL_TEST(people, roles_see_confidential_numbers_masked)
{
	struct hl_e2e_opts o = { .listen = TOKENS, .sla = overdue_setup };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *full = hl_conn_unix(d);
	struct hl_conn *live = tcp_as(d, "view-token");
	ok_event(live, "{\"type\":\"subscribe\",\"id\":\"s0\"}");
	char line[400];
	snprintf(line, sizeof line, "{\"type\":\"call.abandoned\",\"id\":\"m1\",\"call_id\":\"mc1\","
	         "\"caller\":\"+8613912345678\",\"confidential\":true,\"at\":\"%s\"}", hl_iso_ms(hl_wall_ms()));
	ok_event(full, line);
	/* the callback_overdue alert, pushed live to the viewer */
	char *push = NULL;
	int64_t end = hl_now_ms() + 10000;
	while (hl_now_ms() < end && !push) {
		char *l = hl_recv(live, 500); /* kept by the harness: freed at cleanup */
		if (l && strstr(l, "callback_overdue"))
			push = l;
	}
	cr_assert(push, "no callback_overdue push for the viewer");
	cr_assert(!strstr(push, "12345678"), "a viewer's push shows the number whole: %s", push);
	cr_assert(strstr(push, "+86139****5678"), "masked: %s", push);
	/* the replay of a supervisor's subscribe, and case.get for both roles */
	struct hl_conn *sup = tcp_as(d, "sup-token");
	hl_send(sup, "{\"type\":\"subscribe\",\"id\":\"s1\",\"since\":0}");
	for (int i = 0; i < 2; i++) { /* ok, then the replayed alert */
		char *l = hl_recv(sup, HL_TIMEOUT_MS);
		cr_assert(l, "subscribe reply %d", i);
		cr_assert(!strstr(l, "12345678"), "a supervisor's replay shows the number whole: %s", l);
	}
	struct hl_conn *view = tcp_as(d, "view-token");
	json_object *r = hl_request(view, "{\"type\":\"case.get\",\"id\":\"g1\",\"case_id\":1}");
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	cr_assert(!strstr(json_object_to_json_string(r), "12345678"), "viewer case.get: %s", json_object_to_json_string(r));
	cr_assert_str_eq(hl_jstr(r, "case.caller"), "+86139****5678");
	r = hl_request(full, "{\"type\":\"case.get\",\"id\":\"g2\",\"case_id\":1}");
	cr_assert_str_eq(hl_jstr(r, "case.caller"), "+8613912345678", "full access sees it whole");
}

/* ------------------------------------------------------- hotlinectl's own configuration */

static const char *write_text(struct hl_d *d, const char *name, const char *text)
{
	static char path[8][256];
	static unsigned n;
	char *p = path[n++ % 8];
	snprintf(p, 256, "%s/%s", d->dir, name);
	FILE *f = fopen(p, "w");
	cr_assert(f, "%s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
	return p;
}

HL_TEST(people, hotlinectl_client_config_and_options_after_arguments)
{
	struct hl_e2e_opts o = { .listen = TOKENS };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	ok_event(c, "{\"type\":\"call.offered\",\"id\":\"h1\",\"call_id\":\"hc1\",\"caller\":\"+8613800000005\","
	            "\"queue\":\"q\",\"at\":\"2026-11-20T01:15:00Z\"}");
	char text[512];
	snprintf(text, sizeof text, "connect = \"unix:%s\";\ntimezone = \"Asia/Shanghai\";\n", d->sock);
	const char *unix_conf = write_text(d, "unix.conf", text);
	struct child ch;
	int rc = ctl(&ch, d, (const char *const[]){ "case", "1", "--config", unix_conf, NULL });
	cr_assert_eq(rc, 0, "%s", ch.text);
	cr_assert(strstr(ch.text, "opened      2026-11-20 09:15:00 +08:00"), "%s", ch.text);
	rc = ctl(&ch, d, (const char *const[]){ "case", "1", "--json", "--config=", NULL });
	cr_assert_eq(rc, 2, "empty --config=: %s", ch.text);
	rc = ctl(&ch, d, (const char *const[]){ "case", "1", "--json", NULL });
	(void)rc; /* whatever the default, it must not be the test's daemon */
	rc = ctl(&ch, d, (const char *const[]){ "ping", "-c", unix_conf, "-V", NULL });
	cr_assert_eq(rc, 0);
	cr_assert(strstr(ch.text, "hotlinectl "), "%s", ch.text);

	/* tcp with a viewer token: case works, an event is forbidden (exit 1) */
	snprintf(text, sizeof text, "connect = \"tcp:127.0.0.1:%d\";\ntoken = \"view-token\";\n", d->tcp_port);
	const char *tcp_conf = write_text(d, "tcp.conf", text);
	rc = ctl(&ch, d, (const char *const[]){ "case", "1", "-c", tcp_conf, "--tz", "UTC", NULL });
	cr_assert_eq(rc, 0, "%s", ch.text);
	cr_assert(strstr(ch.text, "2026-11-20 01:15:00 +00:00"), "%s", ch.text);
	rc = ctl(&ch, d, (const char *const[]){ "event", "case.update", "case_id=1", "summary=x", "-c", tcp_conf, NULL });
	cr_assert_eq(rc, 1, "%s", ch.text);
	cr_assert(strstr(ch.text, "forbidden"), "%s", ch.text);
	/* a wrong token cannot connect: 3 */
	rc = ctl(&ch, d, (const char *const[]){ "ping", "-c", tcp_conf, "--token", "nope", NULL });
	cr_assert_eq(rc, 3, "%s", ch.text);
	/* unknown keys are errors: 2 */
	const char *bad = write_text(d, "bad.conf", "conect = \"unix:/x\";\n");
	rc = ctl(&ch, d, (const char *const[]){ "ping", "-c", bad, NULL });
	cr_assert_eq(rc, 2, "%s", ch.text);
	cr_assert(strstr(ch.text, "conect: unknown key"), "%s", ch.text);
}

HL_TEST(people, hotlinectl_speaks_tls)
{
	char dir[96], cmd[1024], listen[600];
	snprintf(dir, sizeof dir, "/tmp/hl-people-tls-%d", (int)getpid());
	mkdir(dir, 0700);
	snprintf(cmd, sizeof cmd,
	         "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
	         " -keyout %s/srv.key -out %s/srv.pem >%s/openssl.log 2>&1 &&"
	         " openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other -keyout %s/o.key -out %s/o.pem"
	         " >>%s/openssl.log 2>&1", dir, dir, dir, dir, dir, dir);
	cr_assert_eq(system(cmd), 0, "openssl failed (see %s/openssl.log)", dir);
	snprintf(listen, sizeof listen, "tls = { cert = \"%s/srv.pem\"; key = \"%s/srv.key\"; };", dir, dir);
	struct hl_e2e_opts o = { .listen = listen };
	struct hl_d *d = hl_d_up(&o);
	char text[512];
	snprintf(text, sizeof text, "connect = \"tcp:127.0.0.1:%d\";\ntls = { ca = \"%s/srv.pem\"; };\n", d->tcp_port, dir);
	const char *good = write_text(d, "tls.conf", text);
	struct child ch;
	int rc = ctl(&ch, d, (const char *const[]){ "ping", "-c", good, NULL });
	cr_assert_eq(rc, 0, "%s", ch.text);
	/* a pipelined send over TLS */
	const char *events = write_text(d, "ev.ndjson",
		"{\"type\":\"call.offered\",\"id\":\"s1\",\"call_id\":\"sc1\",\"caller\":\"+8613800000006\",\"queue\":\"q\",\"at\":\"2026-11-20T01:15:00Z\"}\n"
		"{\"type\":\"ping\",\"id\":\"s2\"}\n");
	rc = ctl(&ch, d, (const char *const[]){ "send", events, "-c", good, NULL });
	cr_assert_eq(rc, 0, "%s", ch.text);
	cr_assert(strstr(ch.text, "\"id\":\"s2\""), "%s", ch.text);
	/* an untrusted server: exit 3 */
	snprintf(text, sizeof text, "connect = \"tcp:127.0.0.1:%d\";\ntls = { ca = \"%s/o.pem\"; };\n", d->tcp_port, dir);
	const char *untrusted = write_text(d, "untrusted.conf", text);
	rc = ctl(&ch, d, (const char *const[]){ "ping", "-c", untrusted, NULL });
	cr_assert_eq(rc, 3, "%s", ch.text);
	cr_assert(strstr(ch.text, "not trusted"), "%s", ch.text);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

HL_TEST(people, reload_keeps_roles_with_their_tokens)
{
	struct hl_e2e_opts o = { .listen = TOKENS };
	struct hl_d *d = hl_d_up(&o);
	/* fewer tokens in the file: the running sockets keep theirs, with their roles */
	FILE *f = fopen(d->conf, "r");
	cr_assert(f);
	static char text[65536];
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	char *at = strstr(text, TOKENS);
	cr_assert(at, "TOKENS not found in %s", d->conf);
	static char out[65536];
	snprintf(out, sizeof out, "%.*stokens = ( \"full-token\" );%s", (int)(at - text), text, at + strlen(TOKENS));
	f = fopen(d->conf, "w");
	fputs(out, f);
	fclose(f);
	kill(d->pid, SIGHUP);
	int64_t end = hl_now_ms() + 5000;
	while (hl_now_ms() < end && !strstr(hl_d_log(d), "configuration reloaded"))
		hl_sleep_ms(50);
	cr_assert(strstr(hl_d_log(d), "listen.tokens changed"), "%s", hl_d_log(d));
	struct hl_conn *view = tcp_as(d, "ingest-token");
	expect_forbidden(view, "{\"type\":\"stats\",\"id\":\"st\"}");
	ok_event(view, offer("rl1", "rlc1"));
}
