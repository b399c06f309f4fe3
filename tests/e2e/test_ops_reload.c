/*
 * test_ops_reload.c - end-to-end tests of SIGHUP reloads (suite `ops`; the
 * other parts are in test_ops_cli.c, test_ops_log.c and test_ops_metrics.c).
 *
 * What an administrator relies on (docs/operations.md section 4): a reload
 * gives new SLA durations to new clocks only and keeps every connection; an
 * invalid file is refused and logged with its FILE:LINE at err, the old
 * configuration staying in force; listener settings (listen.*) take effect
 * only after a restart, and a reload that raises listen.max_line never
 * stalls a connection.
 *
 * Design.  A test rewrites the daemon's config file in place (edit_file
 * renames a copy over it: the daemon never reads half a file), sends SIGHUP
 * and waits for the log line that says what happened (wait_log); the
 * helpers are in ops_helpers.h.
 */
#include "ops_helpers.h"

TestSuite(ops, .init = ops_init, .fini = ops_fini, .timeout = 90);

/* ================================================================= reload */

HL_TEST(ops, sighup_changes_sla_for_new_clocks_and_keeps_connections)
{
	struct hl_e2e_opts o = { .sla = "callback = \"1h\";" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	struct hl_conn *t = hl_conn_tcp(d);

	const char *at1 = hl_iso_in(-5);
	int64_t case1 = abandoned(c, "+8613800000101", at1);
	cr_assert_eq(callback_allowed_s(d, case1, at1), 3600, "before the reload the callback SLA is 1h");

	edit_file(d->conf, "callback = \"1h\";", "callback = \"2s\";");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "configuration reloaded", 1, 10000), "no 'configuration reloaded' in the log");

	/* the same connection arms another clock: the new SLA */
	const char *at2 = hl_iso_in(-1);
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
	const char *at = hl_iso_in(-5);
	int64_t case1 = abandoned(c, "+8613800000201", at);
	cr_assert_eq(callback_allowed_s(d, case1, at), 3600, "the refused reload changed the SLA");
	cr_assert(hl_d_alive(d));

	/* a semantic error (bad duration) is refused the same way */
	edit_file(d->conf, "callback = ;", "callback = \"soon\";");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "reload refused", 2, 10000), "bad duration: no second 'reload refused'");
	cr_assert(strstr(hl_d_log(d), ownf("%s:%d: sla.callback:", d->conf, line)),
	          "the refusal does not name FILE:LINE: sla.callback:");
	at = hl_iso_in(-5);
	int64_t case2 = abandoned(c, "+8613800000202", at);
	cr_assert_eq(callback_allowed_s(d, case2, at), 3600);

	/* fixing the file and reloading again works */
	edit_file(d->conf, "callback = \"soon\";", "callback = \"2s\";");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "configuration reloaded", 1, 10000), "the fixed file was not reloaded");
	at = hl_iso_in(-5);
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

/* A restart-only key changed and changed back: the second reload compares
 * the file with what is in force, so it has nothing to warn about (before,
 * the live configuration kept the unapplied zone and warned again). */
HL_TEST(ops, reload_compares_restart_keys_with_what_runs)
{
	struct hl_e2e_opts o = { .no_tcp = true, .top = "report = { timezone = \"Asia/Shanghai\"; };" };
	struct hl_d *d = hl_d_up(&o);
	edit_file(d->conf, "timezone = \"Asia/Shanghai\"", "timezone = \"Europe/Paris\"");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "configuration reloaded", 1, 10000));
	cr_assert_eq(count_in(hl_d_log(d), "report.timezone changed"), 1, "%s", hl_d_log(d));
	edit_file(d->conf, "timezone = \"Europe/Paris\"", "timezone = \"Asia/Shanghai\"");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "configuration reloaded", 2, 10000));
	cr_assert_eq(count_in(hl_d_log(d), "report.timezone changed"), 1, "%s", hl_d_log(d));
	expect_ok(hl_request(hl_conn_unix(d), "{\"type\":\"ping\",\"id\":\"after\"}"));
}

/* A reload that changes several restart-only keys names every one of them:
 * it named the first only (listen.max_line), so an operator who also moved
 * cluster.slots was never told that it too waits for the restart. */
HL_TEST(ops, reload_names_every_restart_key_it_could_not_apply)
{
	struct hl_e2e_opts o = { .no_tcp = true, .top = "cluster = { slots = 64; };\nhttp = { max_body = 1048576; };" };
	struct hl_d *d = hl_d_up(&o);
	edit_file(d->conf, "max_line = 65536;", "max_line = 1024;");
	edit_file(d->conf, "slots = 64;", "slots = 32;");
	edit_file(d->conf, "max_body = 1048576;", "max_body = 2048;");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert(wait_log(d, "configuration reloaded", 1, 10000));
	const char *log = hl_d_log(d);
	const char *line = strstr(log, "reload: ");
	cr_assert(line, "no reload warning: %s", log);
	const char *eol = strchr(line, '\n');
	char *warning = ownf("%.*s", eol ? (int)(eol - line) : (int)strlen(line), line);
	cr_assert(strstr(warning, "listen.max_line") && strstr(warning, "http.max_body") &&
	          strstr(warning, "cluster.slots"), "the reload should name all three keys: %s", warning);
	cr_assert(strstr(warning, "only after a restart"), "%s", warning);
	cr_assert_eq(count_in(log, "reload: "), 1, "one line for the reload, not one a key: %s", log);
}
