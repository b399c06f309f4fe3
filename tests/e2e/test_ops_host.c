/*
 * test_ops_host.c - end-to-end tests of hotlined and hotlinectl against the
 * host they run on (suite `ops`, with test_ops_cli.c): `hotlinectl ack`
 * without --by, an option given twice on hotlined's command line, --check
 * of listen addresses, host names and socket directories the host does not
 * have, and two daemons configured with one Unix socket path (review-ops4).
 *
 * Design.  As test_ops_cli.c: the binaries are run with arguments and their
 * output read (RUN, HOTLINED, ops_helpers.h); daemons come from the e2e
 * harness (harness.h) or, for two on one socket, are started here by hand
 * on configurations whose database does not exist (the socket is taken
 * before the database is reached).
 */
#include "ops_helpers.h"

TestSuite(ops, .init = ops_init, .fini = ops_fini, .timeout = 90);

/* `hotlinectl ack ID` on the Unix socket, which has no token whose name
 * could be recorded: it printed the daemon's raw "bad_request: by: missing"
 * and exited 1, as if the alert were at fault.  Now it is a bad command line
 * (exit 2) that says to give --by, before anything is sent; with --by the
 * ack goes through. */
HL_TEST(ops, ctl_ack_without_by_is_a_usage_error)
{
	struct hl_e2e_opts o = { .listen = "tokens = [ \"s3cret\" ];", .sla = "callback = \"1s\"; update = \"0\";" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	abandoned(c, "+8613800000701", hl_iso_in(-5));
	int64_t alert = 0;
	for (int i = 0; i < 100 && !alert; i++) {
		alert = hl_sql_int(d, "SELECT coalesce(max(id), 0) FROM hotline.alerts");
		if (!alert)
			hl_sleep_ms(100);
	}
	cr_assert_gt(alert, 0, "no alert raised");
	const char *ctl = ctl_bin();
	char *id = ownf("%lld", (long long)alert);
	struct run r = RUN(30000, ctl, "--unix", d->sock, "ack", id);
	cr_assert_eq(r.status, 2, "ack without --by: exit %d, want 2: %s", r.status, r.out);
	cr_assert(strstr(r.out, "--by"), "the message should say to give --by: %s", r.out);
	cr_assert_null(strstr(r.out, "bad_request"), "not the daemon's raw error: %s", r.out);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE acked_at IS NOT NULL"), 0);
	r = RUN(30000, ctl, "--unix", d->sock, "ack", id, "--by", "");
	cr_assert_eq(r.status, 2, "ack --by '': exit %d, want 2: %s", r.status, r.out);
	r = RUN(30000, ctl, "--unix", d->sock, "ack", id, "--by", "supervisor-1");
	cr_assert_eq(r.status, 0, "ack --by: exit %d: %s", r.status, r.out);
	cr_assert(strstr(r.out, "supervisor-1"), "%s", r.out);

	/* a token without a name on TCP: the same usage error, once the daemon said so */
	char *tcp = ownf("127.0.0.1:%d", d->tcp_port);
	r = RUN(30000, ctl, "--tcp", tcp, "--token", "s3cret", "ack", id);
	cr_assert_eq(r.status, 2, "ack without --by on a nameless token: exit %d, want 2: %s", r.status, r.out);
	cr_assert(strstr(r.out, "--by") && !strstr(r.out, "bad_request"), "%s", r.out);
	hl_conn_close(c);
}

/* `hotlined -c a.conf -c b.conf` ran on b.conf without a word (getopt keeps
 * the last): a drop-in that adds its own -c to ExecStart= made the daemon
 * ignore the file the operator was editing.  An option that takes a value,
 * given twice, is now a bad command line (exit 2) naming both values; a
 * flag given twice (--check --check) means what it says once. */
Test(ops, hotlined_option_given_twice_is_refused)
{
	const char *dir = scratch_dir();
	const char *a = write_file("a.conf", ownf("database = { conninfo = \"host=/nonexistent dbname=a\"; };\n"
	                                          "listen = { tcp = \"\"; unix = \"%s/a.sock\"; };\n", dir));
	const char *b = write_file("b.conf", ownf("database = { conninfo = \"host=/nonexistent dbname=b\"; };\n"
	                                          "listen = { tcp = \"\"; unix = \"%s/b.sock\"; };\n", dir));
	struct run r = HOTLINED("-c", a, "-c", b, "--check");
	cr_assert_eq(r.status, 2, "-c twice: exit %d, want 2: %s", r.status, r.out);
	cr_assert(strstr(r.out, a) && strstr(r.out, b) && strstr(r.out, "twice"), "name both files: %s", r.out);
	r = HOTLINED("--config", a, "-c", a, "--check");
	cr_assert_eq(r.status, 2, "-c twice, same file: exit %d, want 2: %s", r.status, r.out);
	r = HOTLINED("-c", a, "--migrate", "--conninfo", "dbname=x", "--conninfo=dbname=y");
	cr_assert_eq(r.status, 2, "--conninfo twice: exit %d, want 2: %s", r.status, r.out);
	cr_assert(strstr(r.out, "--conninfo") && strstr(r.out, "twice"), "%s", r.out);
	r = HOTLINED("-c", a, "--check", "--check");
	cr_assert_eq(r.status, 0, "--check twice: exit %d: %s", r.status, r.out);
	r = HOTLINED("-c", a, "--check");
	cr_assert_eq(r.status, 0, "%s", r.out);
	hl_e2e_finish();
}

/* --check passed listen addresses the host does not have, host names that
 * do not resolve, and Unix sockets in a directory that does not exist; the
 * start then failed (exit 1, restarted every 2 s by the unit).  Now an
 * address this host cannot bind (tried with port 0, so a running daemon's
 * port is no obstacle and a net.ipv4.ip_nonlocal_bind host is not refused)
 * and a name that does not resolve are errors with FILE:LINE: KEY (exit 2);
 * a missing socket directory is a warning (exit 0): systemd creates
 * /run/hotlined (RuntimeDirectory=) only when the service starts. */
Test(ops, check_finds_listen_addresses_and_directories_the_host_lacks)
{
	const char *dir = scratch_dir();
	const char *db = "database = { conninfo = \"host=/nonexistent dbname=none\"; };\n";
	/* 192.0.2.0/24 is TEST-NET-1: on no host */
	const char *p = write_file("notlocal.conf", ownf("%slisten = {\n  tcp = \"192.0.2.1:17371\";\n  unix = \"%s/ev.sock\";\n};\n",
	                                                 db, dir));
	struct run r = HOTLINED("-c", p, "--check");
	cr_assert_eq(r.status, 2, "an address not on this host: exit %d, want 2: %s", r.status, r.out);
	cr_assert(strstr(r.out, ownf("%s:3: listen.tcp:", p)) && strstr(r.out, "192.0.2.1"), "%s", r.out);

	p = write_file("noname.conf", ownf("%slisten = { unix = \"%s/ev.sock\";\n  tcp = \"no-such-host.invalid:17371\"; };\n",
	                                   db, dir));
	r = HOTLINED("-c", p, "--check");
	cr_assert_eq(r.status, 2, "a name that does not resolve: exit %d, want 2: %s", r.status, r.out);
	cr_assert(strstr(r.out, ownf("%s:3: listen.tcp:", p)) && strstr(r.out, "no-such-host.invalid"), "%s", r.out);

	p = write_file("http.conf", ownf("%slisten = { tcp = \"\"; unix = \"%s/ev.sock\"; };\n"
	                                 "http = {\n  listen = \"192.0.2.1:18080\";\n  tokens = [ \"t0123456789abcdef\" ];\n};\n",
	                                 db, dir));
	r = HOTLINED("-c", p, "--check");
	cr_assert_eq(r.status, 2, "http.listen not on this host: exit %d, want 2: %s", r.status, r.out);
	cr_assert(strstr(r.out, ownf("%s:4: http.listen:", p)), "%s", r.out);

	p = write_file("nodir.conf", ownf("%slisten = { tcp = \"\";\n  unix = \"%s/no-such-dir/ev.sock\"; };\n", db, dir));
	r = HOTLINED("-c", p, "--check");
	cr_assert_eq(r.status, 0, "a missing socket directory is a warning: exit %d: %s", r.status, r.out);
	cr_assert(strstr(r.out, ownf("%s:3: listen.unix: warning:", p)) && strstr(r.out, ownf("%s/no-such-dir", dir)),
	          "%s", r.out);

	/* what the host has passes, also a port a running daemon holds */
	struct hl_d *d = hl_d_up(NULL);
	p = write_file("ok.conf", ownf("%slisten = { tcp = \"127.0.0.1:%d\"; unix = \"%s/ev.sock\"; };\n"
	                               "http = { listen = \"localhost:18081\"; };\n", db, d->tcp_port, dir));
	r = HOTLINED("-c", p, "--check");
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert_null(strstr(r.out, "warning"), "%s", r.out);
	hl_e2e_finish();
}
