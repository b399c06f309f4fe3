/*
 * test_ops_cli.c - end-to-end tests of the hotlined and hotlinectl command
 * lines (suite `ops`, shared with test_ops_reload.c, test_ops_log.c and
 * test_ops_metrics.c: hotlined as a production service).
 *
 * What an administrator relies on (CONTRACT.md section 1, docs/operations.md):
 * --version, --check with FILE:LINE: KEY errors, a configuration error at
 * start-up that reaches the journal as err, an idempotent --migrate, refusing
 * to run on a database without the schema or with an older one (and saying
 * so of a newer one), what --check finds on the host (socket owner and
 * groups, TLS files, a socket path that is a file), and a hotlinectl smoke
 * test (ping, send, case, stats, their exit codes, -c; a bad port or
 * timeout, a missing token).
 *
 * Design.  The binaries are run with other arguments and their output is
 * read (RUN and HOTLINED, ops_helpers.h); a daemon, where one is needed, comes
 * from the e2e harness (harness.h).
 */
#include "ops_helpers.h"

#include <ctype.h>
#include <netinet/in.h>
#include <regex.h>
#include <sys/socket.h>
#include <sys/un.h>

TestSuite(ops, .init = ops_init, .fini = ops_fini, .timeout = 90);

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

/* A connection string libpq refuses is a configuration error (exit 2, which
 * the unit does not restart on), not a connection retried for ever; libpq's
 * own words only when they name a key: others may quote the password. */
Test(ops, check_refuses_a_conninfo_libpq_refuses)
{
	const char *path = write_file("conninfo_key.conf", "database = {\n  conninfo = \"dbname=x bogus=1\";\n};\n");
	struct run r = HOTLINED("-c", path, "--check");
	cr_assert_eq(r.status, 2, "--check exited %d: %s", r.status, r.out);
	cr_assert(strstr(r.out, ownf("%s:2: database.conninfo: invalid connection option \"bogus\"", path)), "%s", r.out);
	path = write_file("conninfo_garbled.conf", "database = {\n  conninfo = \"dbname=x s3cr3t\";\n};\n");
	r = HOTLINED("-c", path, "--check");
	cr_assert_eq(r.status, 2, "--check exited %d: %s", r.status, r.out);
	cr_assert(strstr(r.out, "database.conninfo: not a libpq connection string"), "%s", r.out);
	cr_assert(!strstr(r.out, "s3cr3t"), "the string is repeated: %s", r.out);
	r = HOTLINED("-c", path);
	cr_assert_eq(r.status, 2, "start exited %d: %s", r.status, r.out);
	/* --conninfo means nothing without --migrate, --check and --migrate are two runs */
	r = HOTLINED("-c", path, "--conninfo", "dbname=x");
	cr_assert_eq(r.status, 2, "%s", r.out);
	cr_assert(strstr(r.out, "usage:"), "%s", r.out);
	r = HOTLINED("-c", path, "--check", "--migrate");
	cr_assert_eq(r.status, 2, "%s", r.out);
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

/* http.listen on a port another program holds: the message says why (libevent
 * does not, but keeps bind()'s errno), and the daemon exits instead of
 * running without its API. */
HL_TEST(ops, http_listen_in_use_says_why)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 1) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	int port = ntohs(a.sin_port);
	struct hl_e2e_opts o = { .no_start = true, .no_tcp = true,
	                         .top = ownf("http = { listen = \"127.0.0.1:%d\"; };\n", port) };
	struct hl_d *d = hl_d_up(&o);
	struct run r = HOTLINED("-c", d->conf);
	close(fd);
	cr_assert(r.status > 0 && r.status < 128, "hotlined with http.listen in use: status %d: %s", r.status, r.out);
	cr_assert(strstr(r.out, ownf("http.listen 127.0.0.1:%d: cannot listen: Address already in use", port)), "%s",
	          r.out);
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
	/* as whom: the daemon's own role fails with "permission denied" under the role split */
	cr_assert(strstr(r.out, "owner") && strstr(r.out, "--conninfo"), "the message should say as whom: %s", r.out);
}

/* A schema newer than this binary (a rollback, or a daemon not yet upgraded
 * on a cluster: docs/operations.md "Several daemons") is accepted, but it
 * was silent: --migrate said "schema up to date (version N)" with N this
 * binary's latest, not the database's, and the daemon logged nothing, so
 * an old daemon left on a new schema was invisible. */
HL_TEST(ops, a_newer_schema_is_said_not_hidden)
{
	struct hl_e2e_opts o = { .no_start = true, .no_tcp = true };
	struct hl_d *d = hl_d_up(&o);
	int64_t latest = hl_sql_int(d, "SELECT max(version) FROM hotline.schema_migrations");
	PGresult *q = hl_sql(d, "INSERT INTO hotline.schema_migrations (version, name) VALUES (%lld, 'from_a_newer_release')",
	                     (long long)latest + 100);
	(void)q;
	struct run r = HOTLINED("-c", d->conf, "--migrate", "--conninfo", d->conninfo);
	cr_assert_eq(r.status, 0, "--migrate on a newer schema exited %d: %s", r.status, r.out);
	cr_assert(strstr(r.out, ownf("version %lld", (long long)latest + 100)) && strstr(r.out, "newer"),
	          "--migrate should say the schema is newer than this hotlined: %s", r.out);
	cr_assert(!strstr(r.out, "applied"), "%s", r.out);

	hl_d_start(d); /* runs: the previous release on a migrated schema is allowed */
	expect_ping(hl_conn_unix(d));
	cr_assert(wait_log(d, "newer than this hotlined", 1, 10000), "the daemon should warn: %s", hl_d_log(d));
	cr_assert(strstr(hl_d_log(d), "<4>"), "as a warning: %s", hl_d_log(d));
}

/* listen.unix naming a file that is not a socket (a typo: the config file,
 * a log) must never cost that file: the daemon took any path nobody
 * answered on for a stale socket and unlinked it, so `unix =
 * "/etc/hotlined/hotlined.conf"` deleted the configuration.  Now it is a
 * configuration error, and the file stays. */
HL_TEST(ops, listen_unix_on_a_file_never_deletes_it)
{
	const char *precious = write_file("precious.txt", "keep me\n");
	char *text = ownf("database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
	                  "listen = {\n  tcp = \"\";\n  unix = \"%s\";\n};\n", precious);
	expect_check_error("onfile.conf", text, 4, "listen.unix");
	struct run r = RUN(5000, daemon_bin(), "-c", write_file("onfile.conf", text));
	cr_assert_eq(r.status, 2, "start on listen.unix = a file: exit %d, want 2: %s", r.status, r.out);
	cr_assert_eq(access(precious, F_OK), 0, "the daemon deleted %s: %s", precious, r.out);
	cr_assert_str_eq(slurp(precious), "keep me\n");
	/* the supervisors' socket too */
	expect_check_error("onfile_sup.conf",
	                   ownf("database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
	                        "listen = { tcp = \"\"; unix = \"%s/ev.sock\";\n  unix_supervisor = \"%s\"; };\n",
	                        scratch_dir(), precious),
	                   3, "listen.unix_supervisor");
	cr_assert_eq(access(precious, F_OK), 0);
}

/* A site file included into the main one that sets a group the main file
 * already has: libconfig says "duplicate setting name" at the included
 * file's line, and the key was named only for a duplicate inside one file. */
HL_TEST(ops, check_names_the_key_set_again_by_an_include)
{
	write_file("local.cfg", "# site overrides\nsla = { callback = \"1m\"; };\n");
	const char *path = write_file("with_include.conf", "database = { conninfo = \"dbname=x\"; };\n"
	                                                   "sla = { callback = \"2m\"; };\n"
	                                                   "@include \"local.cfg\"\n");
	struct run r = HOTLINED("-c", path, "--check");
	cr_assert_eq(r.status, 2, "%s", r.out);
	cr_assert(strstr(r.out, "local.cfg:2: sla: duplicate setting name"), "want 'local.cfg:2: sla: ...' in: %s", r.out);
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
	                                     hl_iso_in(-20), hl_iso_in(-10)));
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

/* A port or a timeout hotlinectl cannot honour is a bad command line (exit
 * 2, documented), never a connection somewhere else nor a wait of another
 * length: "99999" was handed to getaddrinfo, which took it modulo 65536, and
 * --timeout=4294968 (seconds) overflowed to a wait of 0.7 s. */
Test(ops, ctl_refuses_a_port_or_timeout_it_cannot_honour)
{
	const char *ctl = ctl_bin();
	const char *bad_ports[] = { "127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:abc", "127.0.0.1:7370x",
	                            "127.0.0.1:-5", "[::1]:65536" };
	for (size_t i = 0; i < sizeof bad_ports / sizeof bad_ports[0]; i++) {
		struct run r = RUN(30000, ctl, "--tcp", bad_ports[i], "ping");
		cr_assert_eq(r.status, 2, "--tcp %s: exit %d, want 2: %s", bad_ports[i], r.status, r.out);
		cr_assert(strstr(r.out, "port"), "--tcp %s: the message should say the port is wrong: %s",
		          bad_ports[i], r.out);
	}
	const char *conf = write_file("ctl-badport.conf", "connect = \"tcp:127.0.0.1:70000\";\n");
	struct run r = RUN(30000, ctl, "-c", conf, "ping");
	cr_assert_eq(r.status, 2, "connect with port 70000: exit %d, want 2: %s", r.status, r.out);
	cr_assert(strstr(r.out, conf) && strstr(r.out, "port"), "name the file and the port: %s", r.out);

	/* a socket that accepts and never answers */
	char *path = ownf("%s/silent.sock", scratch_dir());
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	cr_assert(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(s, 8) == 0);
	r = RUN(30000, ctl, "--unix", path, "--timeout", "4294968", "ping");
	cr_assert_eq(r.status, 2, "--timeout=4294968: exit %d, want 2 (out of range): %s", r.status, r.out);
	cr_assert(strstr(r.out, "--timeout"), "%s", r.out);
	/* the largest accepted timeout waits (2 s here stand for "longer than 0.7 s") */
	r = RUN(2000, ctl, "--unix", path, "--timeout", "2147483", "ping");
	cr_assert_eq(r.status, -1, "--timeout=2147483 gave up at once: exit %d: %s", r.status, r.out);
	r = RUN(30000, ctl, "--unix", path, "--timeout", "1", "ping");
	cr_assert_eq(r.status, 4, "--timeout=1 on a silent daemon: exit %d: %s", r.status, r.out);
	cr_assert(strstr(r.out, "no response within 1 s"), "%s", r.out);
	close(s);
	hl_e2e_finish();
}

/* A socket owner or group that does not exist is as permanent as a misspelt
 * key: --check passed it and the start then failed with exit 1 ("cannot
 * open the listeners"), which the unit restarts every 2 s until its start
 * limit.  Now --check names FILE:LINE: KEY and the start exits 2 (not
 * restarted), with <3> for the journal. */
Test(ops, check_refuses_a_socket_owner_or_group_that_does_not_exist)
{
	const char *dir = scratch_dir();
	char *text = ownf("database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
	                  "listen = {\n  tcp = \"\";\n  unix = \"%s/ev.sock\";\n  unix_group = \"hl-no-such-group\";\n};\n",
	                  dir);
	expect_check_error("nogroup.conf", text, 5, "listen.unix_group");
	const char *path = write_file("nogroup.conf", text);
	struct run r = HOTLINED("-c", path);
	cr_assert_eq(r.status, 2, "start with a missing group exited %d, want 2: %s", r.status, r.out);
	cr_assert(strncmp(r.out, "<3>", 3) == 0 && strstr(r.out, "listen.unix_group"), "%s", r.out);

	expect_check_error("noowner.conf",
	                   ownf("database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
	                        "listen = { tcp = \"\"; unix = \"%s/ev.sock\";\n  unix_owner = \"hl-no-such-user\"; };\n", dir),
	                   3, "listen.unix_owner");
	expect_check_error("nosupgroup.conf",
	                   ownf("database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
	                        "listen = { tcp = \"\"; unix = \"%s/ev.sock\"; unix_supervisor = \"%s/sup.sock\";\n"
	                        "  unix_supervisor_group = \"hl-no-such-group\"; };\n", dir, dir),
	                   3, "listen.unix_supervisor_group");
	/* names that exist pass, as does "" (leave the socket as created) */
	const char *ok = write_file("root.conf",
	                            ownf("database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
	                                 "listen = { tcp = \"\"; unix = \"%s/ev.sock\"; unix_owner = \"root\";"
	                                 " unix_group = \"root\"; unix_supervisor = \"%s/sup.sock\";"
	                                 " unix_supervisor_group = \"\"; };\n", dir, dir));
	r = HOTLINED("-c", ok, "--check");
	cr_assert_eq(r.status, 0, "%s", r.out);
	hl_e2e_finish();
}

/* A TLS file the daemon cannot read (missing, or a key left 0600 root after
 * a renewal) passed --check and the start then exited 1, retried every 2 s
 * by the unit until its start limit; now --check names the key. */
Test(ops, check_refuses_a_tls_file_it_cannot_read)
{
	const char *dir = scratch_dir();
	const char *pem = write_file("exists.pem", "not checked for content here\n");
	char *text = ownf("database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
	                  "listen = { tcp = \"127.0.0.1:17999\"; unix = \"\";\n"
	                  "  tls = { cert = \"%s\";\n    key = \"%s/missing.key\"; };\n};\n", pem, dir);
	expect_check_error("nokey.conf", text, 4, "listen.tls.key");
	struct run r = HOTLINED("-c", write_file("nokey.conf", text));
	cr_assert_eq(r.status, 2, "start with a missing key exited %d, want 2: %s", r.status, r.out);
	cr_assert(strncmp(r.out, "<3>", 3) == 0 && strstr(r.out, "listen.tls.key"), "%s", r.out);
	expect_check_error("nocert.conf",
	                   ownf("database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
	                        "listen = { tcp = \"127.0.0.1:17999\"; unix = \"\";\n"
	                        "  tls = { cert = \"%s/missing.pem\"; key = \"%s\"; }; };\n", dir, pem),
	                   3, "listen.tls.cert");
	expect_check_error("noca.conf",
	                   ownf("database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
	                        "listen = { tcp = \"127.0.0.1:17999\"; unix = \"\";\n"
	                        "  tls = { cert = \"%s\"; key = \"%s\";\n  ca = \"%s\"; }; };\n", pem, pem, dir),
	                   4, "listen.tls.ca");
	hl_e2e_finish();
}

/* On a TCP socket that wants a token, hotlinectl without one was answered
 * `unauthorized` and exited 1 ("the daemon answered with an error") with the
 * protocol's own hint (send {"type":"auth",...}); hotlinectl(1) puts a
 * refused token under 3, and a script's `hotlinectl ping` should not tell
 * "no token" from "the daemon refused this request" by reading stderr. */
Test(ops, ctl_without_a_token_is_an_authentication_failure)
{
	struct hl_e2e_opts o = { .listen = "tokens = [ \"s3cret\" ];" };
	struct hl_d *d = hl_d_up(&o);
	const char *ctl = ctl_bin();
	char *tcp = ownf("127.0.0.1:%d", d->tcp_port);
	const char *cmds[][3] = { { "ping", NULL, NULL }, { "stats", NULL, NULL }, { "case", "1", NULL },
	                          { "ack", "1", "--by=x" } };
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		struct run r = RUN(30000, ctl, "--tcp", tcp, cmds[i][0], cmds[i][1], cmds[i][2]);
		cr_assert_eq(r.status, 3, "%s without a token: exit %d, want 3: %s", cmds[i][0], r.status, r.out);
		cr_assert(strstr(r.out, "--token"), "%s: the message should say how to give a token: %s", cmds[i][0], r.out);
	}
	/* watch gives up too (it reconnects only after a lost connection) */
	struct run r = RUN(5000, ctl, "--tcp", tcp, "watch");
	cr_assert_eq(r.status, 3, "watch without a token: exit %d, want 3: %s", r.status, r.out);
	r = RUN(30000, ctl, "--tcp", tcp, "--token", "wrong", "ping");
	cr_assert_eq(r.status, 3, "a wrong token: exit %d: %s", r.status, r.out);
	/* and watch does not retry a refused token for ever (it did, every 30 s) */
	r = RUN(5000, ctl, "--tcp", tcp, "--token", "wrong", "watch");
	cr_assert_eq(r.status, 3, "watch with a wrong token: exit %d, want 3: %s", r.status, r.out);
	r = RUN(30000, ctl, "--tcp", tcp, "--token", "s3cret", "ping");
	cr_assert_eq(r.status, 0, "the right token: exit %d: %s", r.status, r.out);
	hl_e2e_finish();
}
