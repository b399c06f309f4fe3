/*
 * main.c - start-up order, signals, reload, graceful stop.
 *
 * Start-up: parse the command line, load the configuration (exit 2 with
 * FILE:LINE: KEY on error; the pure loader asks main.c's hooks about what
 * only the host knows: conninfo as libpq parses it, the socket's accounts,
 * the TLS files, a socket path that is not a socket; for --check only, and
 * as warnings where the start may still succeed, the listen addresses
 * resolved and bound with port 0 and the sockets' directories), then either --check,
 * --migrate, or run:
 * create the event base, the timers (clocks.c), the store (which connects to
 * PostgreSQL in the background, checks the schema version and loads every
 * pending clock), the listeners and the optional HTTP endpoint.  Once the
 * database answered, systemd is told READY=1.
 *
 * Signals are libevent events, so their handlers run in the loop like
 * everything else:
 *   SIGTERM/SIGINT  stop accepting and reading, let the store finish and
 *                   acknowledge what is in flight, flush replies, exit 0;
 *   SIGHUP          load the configuration again; swap it in only if valid.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"

#define STOP_GRACE_MS 15000

static struct event *ev_sigterm, *ev_sigint, *ev_sighup, *ev_tick;
static hl_ms stop_started;
static uint64_t watchdog_usec;

/* hl, the clocks, daemon_ready and daemon_fatal: daemon/process.c. */

/* daemon_stats_json(): daemon/metrics.c renders `stats` and /metrics from one table. */

static void begin_stop(const char *why)
{
	if (hl->stopping)
		return;
	hl->stopping = true;
	stop_started = mono_ms();
	log_notice("%s: stopping; finishing %zu queued item(s)", why, store_queued());
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	listener_close();
	http_stop_accepting();
	clocks_stop();
	cluster_stop();
	conn_shutdown_all();
}

/* A timer fell due (clocks.c): the daemon that owns its slot runs it through
 * the store; another daemon's slot is left alone (it reloads the timer when
 * it takes the slot, cluster.c).  Here, so that clocks.c calls nothing above it. */
static void on_clock_due(int64_t id, int kind, int32_t seq)
{
	if (!cluster_owns(timer_owner_id(id, kind)))
		return;
	if (kind == TIMER_ESCALATION)
		store_escalate(id);
	else
		store_fire(id, (enum hl_clock_kind)kind, seq);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what, (void)arg;
	if (sig == SIGHUP) {
		struct hl_config *cfg = hl_xrealloc(NULL, sizeof *cfg);
		char err[512];
		memset(cfg, 0, sizeof *cfg);
		sd_notify(0, "RELOADING=1");
		if (hl_config_load(hl->config_path, cfg, err, sizeof err) != 0) {
			log_err("reload refused, keeping the running configuration: %s", err);
			free(cfg);
			sd_notify(0, "READY=1\nSTATUS=reload refused");
			return;
		}
		struct hl_config *old = hl->cfg;
		char restart[400];
		size_t n_restart = hl_config_restart_keys(old, cfg, restart, sizeof restart);
		if (n_restart)
			log_warn("reload: %s changed; %s effect only after a restart", restart,
			         n_restart == 1 ? "it takes" : "they take");
		/* listeners, the database connection and the HTTP endpoint keep the
		 * settings they were opened with: the running sections move into the
		 * new configuration and the unused new ones are freed with the old */
		struct hl_config tmp = *cfg;
		cfg->listen = old->listen, old->listen = tmp.listen;
		cfg->access = old->access, old->access = tmp.access; /* parallel to listen.tokens */
		cfg->database = old->database, old->database = tmp.database;
		cfg->http = old->http, old->http = tmp.http;
		/* read only at start (the resolver, the cluster session, the store's
		 * first connection): keep what is in force, so that the next reload
		 * compares against it and nothing reads a value never applied */
		cfg->dns = old->dns, old->dns = tmp.dns;
		cfg->cluster = old->cluster, old->cluster = tmp.cluster;
		cfg->report = old->report, old->report = tmp.report;
		hl->cfg = cfg;
		hl_phone_set_plan(&cfg->phone); /* callers' numbers, from the next request on */
		log_set_level(cfg->log.level);
		hl_config_free(old);
		free(old);
		log_notice("configuration reloaded from %s", hl->config_path);
		sd_notify(0, "READY=1\nSTATUS=configuration reloaded");
		return;
	}
	begin_stop(sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* Once a second (more often while stopping): watchdog, status, stop progress. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	static hl_ms last_status;
	(void)fd, (void)what, (void)arg;
	hl_ms now = mono_ms();
	if (watchdog_usec)
		sd_notify(0, "WATCHDOG=1");
	if (now - last_status >= 5000 && !hl->stopping) {
		last_status = now;
		sd_notifyf(0, "STATUS=%zu connections, %llu events, %zu pending clocks, database %s", conn_count(),
		           (unsigned long long)hl->stats.events, clocks_pending(-1), store_connected() ? "up" : "down");
	}
	if (hl->stopping) {
		/* webhooks: the POSTs on their way answered (for a while) and the
		 * delivered rows deleted (webhooks.c), unless no row can go now */
		bool done = store_idle() && conn_all_drained() && http_conn_answering() == 0 &&
		            (webhooks_settled(now - stop_started) || !store_connected());
		if (done || now - stop_started > STOP_GRACE_MS) {
			if (!done)
				log_warn("stop: grace period over with %zu item(s) unfinished", store_queued());
			event_base_loopbreak(hl->base);
		}
	}
}

/* hl_config_account_check: the socket's owner and group (config.h).  Only a
 * lookup that says "no such name" refuses; a failing name service (LDAP
 * down) is left to the listener, whose failure at start is retried. */
static int account_check(bool group, const char *name, char *why, size_t len)
{
	errno = 0;
	bool found = group ? getgrnam(name) != NULL : getpwnam(name) != NULL;
	if (found)
		return 0;
	if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF && errno != EPERM)
		return 0;
	snprintf(why, len, "no %s '%s' on this host", group ? "group" : "user", name);
	return -1;
}

/* hl_config_file_check: listen.tls.* (config.h).  Opened as the daemon will
 * open it; a directory or a device is refused too. */
static int file_check(const char *path, char *why, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(why, len, "cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s is not a file", path);
		return -1;
	}
	return 0;
}

/* hl_config_socket_check: listen.unix, listen.unix_supervisor (config.h).
 * Missing or a socket (a stale one is replaced at start) is fine. */
static int socket_path_check(const char *path, char *why, size_t len)
{
	struct stat st;
	if (lstat(path, &st) != 0 || S_ISSOCK(st.st_mode))
		return 0;
	snprintf(why, len, "%s exists and is not a socket (it would be replaced)", path);
	return -1;
}

/* hl_config_address_check (config.h), --check only: resolve the host as
 * listener.c does and bind its first address with port 0 (the port itself
 * may be a running daemon's).  Only a name that does not resolve and an
 * address the host cannot bind are refused: a name service failing for now
 * is a warning, and anything else is left to the start. */
static int address_check(const char *host, int port, char *why, size_t len, bool *warn)
{
	(void)port;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	                          .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host[0] ? host : NULL, "0", &hints, &res);
	if (rc != 0) {
		*warn = rc == EAI_AGAIN || rc == EAI_SYSTEM || rc == EAI_MEMORY;
		snprintf(why, len, "%s '%s': %s", *warn ? "cannot resolve, for now," : "does not resolve:", host,
		         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	int err = fd < 0 ? errno : bind(fd, res->ai_addr, res->ai_addrlen) != 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	if (err != EADDRNOTAVAIL && err != EAFNOSUPPORT)
		return 0;
	snprintf(why, len, "'%s' is not an address of this host (%s)", host, strerror(err));
	return -1;
}

/* hl_config_socket_dir_check (config.h), --check only: the directory a Unix
 * socket is created in. */
static int socket_dir_check(const char *path, char *why, size_t len)
{
	const char *slash = strrchr(path, '/');
	char dir[256];
	snprintf(dir, sizeof dir, "%.*s", slash ? (slash == path ? 1 : (int)(slash - path)) : 1, slash ? path : ".");
	struct stat st;
	if (stat(dir, &st) != 0)
		snprintf(why, len, "directory %s: %s (the socket cannot be created until it exists; "
		         "systemd's RuntimeDirectory= makes /run/hotlined at start)", dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		snprintf(why, len, "%s is not a directory", dir);
	else if (access(dir, W_OK | X_OK) != 0)
		snprintf(why, len, "this user cannot create the socket in %s: %s", dir, strerror(errno));
	else
		return 0;
	return -1;
}

static void print_warning(const char *message)
{
	fprintf(stderr, "hotlined: %s\n", message);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: hotlined -c FILE [--check | --migrate [--conninfo STR]]\n"
	        "       hotlined --version\n"
	        "  -c, --config FILE   configuration file (libconfig syntax)\n"
	        "      --check         validate the configuration and exit (0 ok, 2 error)\n"
	        "      --migrate       apply pending schema migrations and exit\n"
	        "      --conninfo STR  with --migrate: connect with STR instead of database.conninfo\n"
	        "                      (e.g. as the database owner, while the daemon runs as hotlined)\n"
	        "  -V, --version       print the version\n"
	        "Runs in the foreground and logs to stderr; SIGTERM/SIGINT stop, SIGHUP reloads.\n");
}

/* An option that takes a value, given twice: getopt keeps the last, so a
 * drop-in that adds its own -c to ExecStart= would silently replace the
 * file the operator edits.  A bad command line instead (exit 2). */
static int given_twice(const char *opt, const char *first, const char *second)
{
	if (first)
		fprintf(stderr, "hotlined: %s given twice ('%s', then '%s'); give it once\n", opt, first, second);
	else
		fprintf(stderr, "hotlined: %s given twice; give it once\n", opt);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "migrate", no_argument, NULL, 'm' },
		{ "conninfo", required_argument, NULL, 'i' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *conninfo = NULL;
	bool check = false, migrate = false;
	int ch;

	/* A SIGHUP before its event is registered (while the configuration
	 * loads, the database is reached, the clocks are read) would kill the
	 * daemon with the default action.  Held blocked until then: the reload
	 * it asks for is taken as soon as the loop can take it. */
	sigset_t hup;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, NULL);

	while ((ch = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (config_path)
				return given_twice("-c/--config", config_path, optarg);
			config_path = optarg;
			break;
		case 'k': check = true; break;
		case 'm': migrate = true; break;
		case 'i':
			if (conninfo)
				return given_twice("--conninfo", NULL, NULL); /* a password may be in it: not echoed */
			conninfo = optarg;
			break;
		case 'V': printf("hotlined %s\n", HOTLINED_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config_path || optind != argc || (conninfo && !migrate) || (check && migrate)) {
		usage(stderr);
		return 2;
	}
	hl_config_conninfo_check = migrate_conninfo_check;
	hl_config_account_check = account_check;
	hl_config_file_check = file_check;
	hl_config_socket_check = socket_path_check;
	if (check) {
		hl_config_address_check = address_check;
		hl_config_socket_dir_check = socket_dir_check;
		hl_config_warn = print_warning;
	}

	struct hl_config *cfg = hl_xrealloc(NULL, sizeof *cfg);
	char err[512];
	memset(cfg, 0, sizeof *cfg);
	if (hl_config_load(config_path, cfg, err, sizeof err) != 0) {
		/* at start-up stderr is the journal: <3> (err) so that `journalctl -p err` shows it;
		 * --check answers a person at a terminal, without the prefix */
		fprintf(stderr, "%shotlined: %s\n", check ? "" : "<3>", err);
		free(cfg);
		return 2;
	}
	/* The host's users, groups and files are looked at for the listeners'
	 * keys, which only a restart applies: a reload (on the event loop) must
	 * not wait on a name service or a disk for values it will not use. */
	hl_config_account_check = NULL;
	hl_config_file_check = NULL;
	hl_config_socket_check = NULL;
	if (check) {
		printf("%s: configuration ok\n", config_path);
		hl_config_free(cfg);
		free(cfg);
		return 0;
	}
	if (migrate) {
		int rc = migrate_run(conninfo ? conninfo : cfg->database.conninfo);
		if (rc == 0)
			rc = migrate_report_tz(conninfo ? conninfo : cfg->database.conninfo, cfg->report.timezone);
		hl_config_free(cfg);
		free(cfg);
		return rc;
	}

	hl->cfg = cfg;
	hl_phone_set_plan(&cfg->phone);
	hl->config_path = config_path;
	hl->stats_json = daemon_stats_json;
	hl->stats.started_at = now_ms();
	log_init(cfg->log.level);
	signal(SIGPIPE, SIG_IGN);

	hl->base = event_base_new();
	if (!hl->base) {
		log_crit("cannot create the event loop");
		return 1;
	}
	ev_sigterm = evsignal_new(hl->base, SIGTERM, on_signal, NULL);
	ev_sigint = evsignal_new(hl->base, SIGINT, on_signal, NULL);
	ev_sighup = evsignal_new(hl->base, SIGHUP, on_signal, NULL);
	ev_tick = event_new(hl->base, -1, EV_PERSIST, on_tick, NULL);
	evsignal_add(ev_sigterm, NULL);
	evsignal_add(ev_sigint, NULL);
	evsignal_add(ev_sighup, NULL);
	sigprocmask(SIG_UNBLOCK, &hup, NULL); /* a SIGHUP that came meanwhile is delivered now */
	struct timeval tick = { 0, 200 * 1000 };
	event_add(ev_tick, &tick);
	if (sd_watchdog_enabled(0, &watchdog_usec) <= 0)
		watchdog_usec = 0;

	if (clocks_init(on_clock_due) != 0 || store_init(cluster_clock_notes) != 0 || cluster_init() != 0) {
		log_crit("cannot initialise");
		return 1;
	}
	alerts_webhooks_init(store_webhooks_done); /* reads resolv.conf now, never later on the loop */
	daemon_raise_nofile(cfg);
	if (listener_open(cfg) != 0) {
		log_crit("cannot open the listeners");
		hl->exit_code = 1;
	} else if (http_open(cfg) != 0) {
		log_crit("cannot open the HTTP listener");
		hl->exit_code = 1;
	} else {
		log_notice("hotlined %s starting (pid %d)", HOTLINED_VERSION, (int)getpid());
		event_base_dispatch(hl->base);
	}

	/* A stop asked for again while tearing down changes nothing: block the
	 * signals before their events are freed (freeing them restores the
	 * default action), so a second SIGTERM - systemd's after a timeout,
	 * an impatient operator's - cannot kill a daemon that is already
	 * exiting cleanly, with exit status 143 instead of 0. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);

	/* orderly teardown: everything freed so that leak checkers stay quiet */
	listener_close();
	http_close();
	conn_close_all();
	store_free();
	cluster_free();
	alerts_free();
	webhooks_free();
	clocks_free();
	event_free(ev_sigterm);
	event_free(ev_sigint);
	event_free(ev_sighup);
	event_free(ev_tick);
	event_base_free(hl->base);
	hl_config_free(hl->cfg);
	free(hl->cfg);
	log_info("stopped");
	return hl->exit_code;
}
