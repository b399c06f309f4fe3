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

	/* hotlinectl alike: `--unix A --unix B` used B, `--by a ... --by b` recorded b */
	const char *ctl = ctl_bin();
	r = RUN(30000, ctl, "--unix", ownf("%s/a.sock", dir), "--unix=/nonexistent/b.sock", "ping");
	cr_assert_eq(r.status, 2, "hotlinectl --unix twice: exit %d, want 2: %s", r.status, r.out);
	cr_assert(strstr(r.out, "--unix") && strstr(r.out, "twice"), "%s", r.out);
	r = RUN(30000, ctl, "--token=first-secret", "--token", "second-secret", "ping");
	cr_assert_eq(r.status, 2, "hotlinectl --token twice: exit %d, want 2: %s", r.status, r.out);
	cr_assert(!strstr(r.out, "first-secret") && !strstr(r.out, "second-secret"), "a token echoed: %s", r.out);
	/* `hotlinectl event` KEY=VALUE pairs: a key given twice sent the last */
	r = RUN(30000, ctl, "--unix", "/nonexistent/c.sock", "event", "case.update", "case_id=1", "note=a", "case_id=2");
	cr_assert_eq(r.status, 2, "event with case_id twice: exit %d, want 2: %s", r.status, r.out);
	cr_assert(strstr(r.out, "case_id given twice"), "%s", r.out);
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
	                                 "http = {\n  listen = \"192.0.2.1:18080\";\n  tokens = ( { token = \"t0123456789abcdef\"; name = \"n\"; role = \"viewer\"; } );\n};\n",
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

/* ------------------------------------------------- one socket, two daemons */

/* hotlined -c conf in the background, its output appended to `out`. */
static pid_t spawn_daemon(const char *conf, const char *out)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		for (int i = 3; i < 1024; i++)
			close(i);
		execl(daemon_bin(), daemon_bin(), "-c", conf, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static bool still_running(pid_t pid)
{
	int st;
	return waitpid(pid, &st, WNOHANG) == 0;
}

static void stop_daemon(pid_t pid)
{
	int st;
	if (!still_running(pid))
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 500 && waitpid(pid, &st, WNOHANG) == 0; i++)
		hl_sleep_ms(10);
	if (still_running(pid)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
}

/* A daemon took a Unix socket path whenever a connect() to it failed: its
 * stale-socket check unlinked the path and bound its own.  So a second
 * daemon configured with the same path, started when the first one's
 * socket file was gone (a tmpfiles clean-up, a hand) or in the instant
 * between the first one's unlink and listen(), ran beside it with the path,
 * and the first one kept serving nobody - and unlinked the second one's
 * socket when it stopped.  Now the path is taken under a lock beside it
 * (PATH.lock, flock): the second daemon exits 1 naming the lock and the pid
 * that holds it, and leaves the path alone. */
HL_TEST(ops, two_daemons_never_share_a_unix_socket)
{
	struct hl_e2e_opts o = { .no_tcp = true };
	struct hl_d *d = hl_d_up(&o);
	cr_assert_eq(unlink(d->sock), 0, "%s: %s", d->sock, strerror(errno));
	struct run r = RUN(4000, daemon_bin(), "-c", d->conf);
	cr_assert_eq(r.status, 1, "a second daemon on the path: exit %d, want 1: %s", r.status, r.out);
	cr_assert(strstr(r.out, ownf("%s.lock", d->sock)) && strstr(r.out, ownf("pid %d", (int)d->pid)),
	          "name the lock and who holds it: %s", r.out);
	cr_assert(hl_d_alive(d));
	cr_assert_neq(access(d->sock, F_OK), 0, "the refused daemon left a socket at the path");

	/* started together, on a path nobody holds: one of the two takes it */
	const char *dir = scratch_dir();
	const char *conf = write_file("twin.conf", ownf("database = { conninfo = \"host=/nonexistent dbname=none\"; };\n"
	                                                "listen = { tcp = \"\"; unix = \"%s/twin.sock\"; };\n", dir));
	for (int round = 0; round < 8; round++) {
		char *out = ownf("%s/twin-%d.out", dir, round);
		pid_t a = spawn_daemon(conf, out), b = spawn_daemon(conf, out);
		int alive = 0;
		for (int i = 0; i < 150; i++) { /* until one has given up (at most 1.5 s) */
			alive = still_running(a) + still_running(b);
			if (alive < 2)
				break;
			hl_sleep_ms(10);
		}
		hl_sleep_ms(300);
		alive = still_running(a) + still_running(b);
		stop_daemon(a);
		stop_daemon(b);
		cr_assert_eq(alive, 1, "round %d: %d daemons running on one socket: %s", round, alive, slurp(out));
	}
}

/* Whether the file holds the text (not an owned string: called in a loop). */
static bool file_has(const char *path, const char *text)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

/* A SIGHUP that arrives while the daemon is starting, before the loop can
 * take it: with the default action it killed the daemon (systemd does not
 * reload before READY, but an operator's `kill -HUP` or a config tool can).
 * main() now holds it blocked until its event is registered, then takes it
 * as a reload.  To send it inside that window every time, the child blocks
 * SIGHUP before exec (a blocked mask survives exec) and the signal is sent
 * at once: it waits, pending, for the daemon to unblock it.  Before the fix
 * it stayed pending for ever: no reload. */
HL_TEST(ops, a_sighup_during_start_up_is_a_reload_once_the_loop_runs)
{
	struct hl_e2e_opts o = { .no_tcp = true };
	struct hl_d *d = hl_d_up(&o);
	cr_assert_eq(hl_d_stop(d, SIGTERM, 10000), 0);
	const char *out = ownf("%s/early-hup.out", scratch_dir());
	sigset_t hup, old;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, &old); /* inherited by the child through fork and exec */
	pid_t pid = spawn_daemon(d->conf, out);
	sigprocmask(SIG_SETMASK, &old, NULL);
	cr_assert_eq(kill(pid, SIGHUP), 0);
	bool reloaded = false;
	for (int i = 0; i < 500 && !reloaded && still_running(pid); i++) {
		reloaded = file_has(out, "configuration reloaded from");
		hl_sleep_ms(20);
	}
	bool alive = still_running(pid);
	stop_daemon(pid);
	cr_assert(alive, "the daemon died of the SIGHUP: %s", slurp(out));
	cr_assert(reloaded, "the SIGHUP sent during the start was never taken: %s", slurp(out));
}
