/*
 * ctl_options.c - hotlinectl's command line, and where it connects.
 *
 * getopt_long with permutation, so options may follow the command and its
 * arguments; the option table, ctl_usage() and man/hotlinectl.1 list the
 * same options (a test holds them together).  The target comes from
 * --unix/--tcp, else a configuration: hotlinectl's own (ctl_conf.c: no
 * daemon secrets) or, for compatibility, the daemon's hotlined.conf, else
 * the packaged socket.  Kept apart from hotlinectl.c, which does the talking.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "ctl_conf.h"
#include "hotlined.h"

#define DEFAULT_CONF "/etc/hotlined/hotlined.conf"        /* the daemon's, read for compatibility */
#define CLIENT_CONF "/etc/hotlined/hotlinectl.conf"      /* a client configuration, no daemon secrets */
#define USER_CONF ".config/hotlinectl.conf"              /* under $HOME */
#define DEFAULT_SOCKET "/run/hotlined/events.sock"

struct hl_zone *ctl_show_zone;
static char show_zone_name[64] = "UTC";

void ctl_usage(FILE *f)
{
	fprintf(f,
	        "usage: hotlinectl [OPTIONS] COMMAND [ARGS] [OPTIONS]\n"
	        "\n"
	        "commands:\n"
	        "  send [FILE]           send NDJSON requests from FILE (or stdin) as they are, pipelined;\n"
	        "                        print every response line as it arrives (blank lines are skipped)\n"
	        "  case ID               show a case: status, clocks with due times, orders, calls, events, open alerts\n"
	        "  event TYPE [K=V ...]  send one event built from KEY=VALUE pairs, e.g.\n"
	        "                        event order.dispatch case_id=42 department=water due=3wd\n"
	        "  watch                 follow alerts (one line each) and acknowledgements; reconnects and\n"
	        "                        resumes after the last id seen\n"
	        "  ack ID                acknowledge alert ID (by --by NAME, else a named token's name)\n"
	        "  stats                 the daemon's live counters\n"
	        "  ping                  check that the daemon answers\n"
	        "\n"
	        "options (anywhere on the line):\n"
	        "  -c, --config=FILE     client configuration (connect, token, timezone, tls), or the daemon's\n"
	        "                        hotlined.conf; default: the first of ~/%s, %s, %s\n"
	        "      --unix=PATH       connect to this Unix socket\n"
	        "      --tcp=HOST:PORT   connect over TCP\n"
	        "      --tls             speak TLS on TCP (verified against the configuration's tls.ca, else the system's CAs)\n"
	        "      --token=TOKEN     auth token for TCP (default: $HOTLINE_TOKEN, else the configuration's)\n"
	        "      --timeout=SECONDS how long to wait for a response (default 30)\n"
	        "      --tz=ZONE         show times in ZONE, e.g. Asia/Shanghai (default: the configuration's\n"
	        "                        timezone or report.timezone, else UTC)\n"
	        "      --json            case, watch, stats, event: print the daemon's JSON\n"
	        "      --since=N         watch: resume after alert N\n"
	        "      --by=NAME         ack: who acknowledges\n"
	        "  -h, --help            this text\n"
	        "  -V, --version         print the version\n"
	        "\n"
	        "The socket is --unix/--tcp if given, else the configuration's, else %s.\n"
	        "\n"
	        "exit status:\n"
	        "  0  success\n"
	        "  1  the daemon answered ok:false (send: to at least one request)\n"
	        "  2  bad command line or configuration\n"
	        "  3  cannot connect (TLS and authentication included: a refused or missing token),\n"
	        "     or the connection was lost\n"
	        "  4  no response in time, or a malformed response\n",
	        USER_CONF, CLIENT_CONF, DEFAULT_CONF, DEFAULT_SOCKET);
}

void ctl_fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("hotlinectl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(code);
}

int64_t ctl_parse_id(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long long v = s ? strtoll(s, &end, 10) : 0;
	if (!s || errno || *end || v <= 0)
		ctl_fail(EX_USAGE, "%s must be a positive integer, got '%s'", what, s ? s : "");
	return v;
}

/* HOST:PORT from `what` (--tcp, or a configuration's key).  The port must be
 * 1..65535 in digits: getaddrinfo() would take "99999" modulo 65536 and
 * connect somewhere else, and a name ("http") is not what anyone means here. */
static void split_hostport(const char *s, struct target *t, const char *what)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1])
		ctl_fail(EX_USAGE, "%s wants HOST:PORT, got '%s'", what, s);
	const char *port = colon + 1;
	long n = 0;
	for (const char *p = port; *p && n <= 65535; p++)
		n = *p >= '0' && *p <= '9' ? n * 10 + (*p - '0') : 65536;
	if (n < 1 || n > 65535)
		ctl_fail(EX_USAGE, "%s: port must be 1..65535, got '%s'", what, port);
	size_t hl = (size_t)(colon - s);
	if (s[0] == '[' && colon[-1] == ']') { /* [::1]:7370 */
		s++;
		hl -= 2;
	}
	if (hl >= sizeof t->host || strlen(port) >= sizeof t->port)
		ctl_fail(EX_USAGE, "%s: address too long", what);
	memcpy(t->host, s, hl);
	t->host[hl] = '\0';
	snprintf(t->port, sizeof t->port, "%s", port);
}

static void copy_opt(char *dst, size_t len, const char *v)
{
	if (v && !dst[0])
		snprintf(dst, len, "%s", v);
}

/* The daemon's own hotlined.conf (-c, for compatibility): its socket, first token, report zone, TLS. */
static void from_daemon_conf(const struct opts *o, const char *path, struct target *t)
{
	struct hl_config cfg;
	char err[512];
	memset(&cfg, 0, sizeof cfg);
	if (hl_config_load(path, &cfg, err, sizeof err) != 0)
		ctl_fail(EX_USAGE, "%s", err);
	if (!t->token[0] && cfg.listen.n_tokens > 0)
		snprintf(t->token, sizeof t->token, "%s", cfg.listen.tokens[0]);
	if (!o->tz && cfg.report.timezone[0])
		snprintf(show_zone_name, sizeof show_zone_name, "%s", cfg.report.timezone);
	if (!t->unix_path[0] && !t->host[0]) {
		if (cfg.listen.unix_path && cfg.listen.unix_path[0])
			snprintf(t->unix_path, sizeof t->unix_path, "%s", cfg.listen.unix_path);
		else if (cfg.listen.tcp && cfg.listen.tcp[0])
			split_hostport(cfg.listen.tcp, t, "listen.tcp");
		else {
			hl_config_free(&cfg);
			ctl_fail(EX_USAGE, "%s: neither listen.unix nor listen.tcp is set", path);
		}
	}
	if (cfg.listen.tls_cert) { /* trust the listener's CA, else its own (self-signed) certificate */
		t->tls = true;
		copy_opt(t->ca, sizeof t->ca, cfg.listen.tls_ca ? cfg.listen.tls_ca : cfg.listen.tls_cert);
	}
	hl_config_free(&cfg);
}

/* A client configuration (ctl_conf.c): connect, token, timezone, tls. */
static void from_client_conf(const struct opts *o, const char *path, struct ctl_conf *cc, struct target *t)
{
	if (!t->token[0] && cc->token)
		snprintf(t->token, sizeof t->token, "%s", cc->token);
	if (!o->tz && cc->timezone)
		snprintf(show_zone_name, sizeof show_zone_name, "%s", cc->timezone);
	if (!t->unix_path[0] && !t->host[0]) {
		const char *c = cc->connect ? cc->connect : "unix:" DEFAULT_SOCKET;
		if (!strncmp(c, "unix:", 5)) {
			if (strlen(c + 5) >= sizeof t->unix_path)
				ctl_fail(EX_USAGE, "%s: connect: path too long", path);
			snprintf(t->unix_path, sizeof t->unix_path, "%s", c + 5);
		} else {
			char what[600];
			snprintf(what, sizeof what, "%.500s: connect", path);
			split_hostport(c + 4, t, what);
		}
	}
	if (cc->tls) {
		t->tls = true;
		copy_opt(t->ca, sizeof t->ca, cc->tls_ca);
		copy_opt(t->cert, sizeof t->cert, cc->tls_cert);
		copy_opt(t->key, sizeof t->key, cc->tls_key);
	}
}

/* The first configuration that exists: ~/.config/hotlinectl.conf, /etc/hotlined/hotlinectl.conf,
 * /etc/hotlined/hotlined.conf.  NULL when none does. */
static const char *default_conf(char *buf, size_t len)
{
	const char *home = getenv("HOME");
	if (home && *home) {
		snprintf(buf, len, "%s/%s", home, USER_CONF);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	if (access(CLIENT_CONF, R_OK) == 0)
		return CLIENT_CONF;
	if (access(DEFAULT_CONF, R_OK) == 0)
		return DEFAULT_CONF;
	return NULL;
}

/*
 * Where to connect: --unix / --tcp, else the configuration (-c FILE, else the
 * first of default_conf()), else DEFAULT_SOCKET.  The token: --token, else
 * $HOTLINE_TOKEN, else the configuration's.  The zone: --tz, else the
 * configuration's (timezone, or the daemon's report.timezone), else UTC.
 */
void ctl_resolve_target(const struct opts *o, struct target *t)
{
	memset(t, 0, sizeof *t);
	const char *env_token = getenv("HOTLINE_TOKEN");
	if (o->token)
		snprintf(t->token, sizeof t->token, "%s", o->token);
	else if (env_token)
		snprintf(t->token, sizeof t->token, "%s", env_token);
	t->tls = o->tls;

	if (o->unix_path) {
		if (strlen(o->unix_path) >= sizeof t->unix_path)
			ctl_fail(EX_USAGE, "--unix: path too long");
		snprintf(t->unix_path, sizeof t->unix_path, "%s", o->unix_path);
	} else if (o->tcp) {
		split_hostport(o->tcp, t, "--tcp");
	}
	char buf[4096];
	const char *path = o->conf ? o->conf : (o->unix_path || o->tcp) ? NULL : default_conf(buf, sizeof buf);
	if (path) {
		struct ctl_conf cc;
		char err[600];
		int kind = ctl_conf_load(path, &cc, err, sizeof err);
		if (kind < 0)
			ctl_fail(EX_USAGE, "%s", err);
		if (kind == 1)
			from_daemon_conf(o, path, t);
		else {
			from_client_conf(o, path, &cc, t);
			ctl_conf_free(&cc);
		}
	}
	if (!t->unix_path[0] && !t->host[0])
		snprintf(t->unix_path, sizeof t->unix_path, "%s", DEFAULT_SOCKET);
	if (t->unix_path[0])
		t->tls = false; /* TLS is for TCP */
}

/* The zone times are shown in (after resolve_target, which may take it from the configuration). */
void ctl_load_zone(const struct opts *o)
{
	char err[256];
	if (o->tz)
		snprintf(show_zone_name, sizeof show_zone_name, "%s", o->tz);
	if (!strcmp(show_zone_name, "UTC"))
		return; /* NULL zone: UTC, also where no tz database is installed */
	ctl_show_zone = hl_zone_load(show_zone_name, err, sizeof err);
	if (!ctl_show_zone)
		ctl_fail(EX_USAGE, "--tz %s: %s", show_zone_name, err);
}

/*
 * Options anywhere on the line (getopt_long permutes): `hotlinectl case 7
 * --json --tz Asia/Shanghai` is `hotlinectl --json --tz Asia/Shanghai case 7`.
 * Keep this table, usage() and man/hotlinectl.1 listing the same options.
 * Returns the index of the first non-option (the command) in the permuted argv.
 */
int ctl_parse_options(int argc, char **argv, struct opts *o)
{
	enum { O_UNIX = 256, O_TCP, O_TOKEN, O_TIMEOUT, O_TZ, O_TLS, O_JSON, O_SINCE, O_BY };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "unix", required_argument, NULL, O_UNIX },
		{ "tcp", required_argument, NULL, O_TCP },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "tz", required_argument, NULL, O_TZ },
		{ "tls", no_argument, NULL, O_TLS },
		{ "json", no_argument, NULL, O_JSON },
		{ "since", required_argument, NULL, O_SINCE },
		{ "by", required_argument, NULL, O_BY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	opterr = 0;
	int ch;
	unsigned seen = 0;
	while ((ch = getopt_long(argc, argv, ":c:hV", longopts, NULL)) != -1) {
		/* An option with a value given twice is a bad command line, as for
		 * hotlined: getopt keeps the last, and `--by a ... --by b` or two
		 * sockets should not be settled silently. */
		unsigned bit = ch == 'c' ? 1u : ch >= O_UNIX && ch <= O_BY ? 2u << (ch - O_UNIX) : 0;
		if (bit && (seen & bit) && ch != O_TLS && ch != O_JSON) {
			const char *name = "-c/--config"; /* never the value: --token=SECRET */
			for (const struct option *lo = longopts; lo->name && ch != 'c'; lo++)
				if (lo->val == ch)
					name = lo->name;
			ctl_fail(EX_USAGE, "%s%s given twice; give it once", ch == 'c' ? "" : "--", name);
		}
		seen |= bit;
		switch (ch) {
		case 'c': o->conf = optarg; break;
		case O_UNIX: o->unix_path = optarg; break;
		case O_TCP: o->tcp = optarg; break;
		case O_TOKEN: o->token = optarg; break;
		case O_TIMEOUT: { /* in ms as an int: at most INT_MAX / 1000 s (24 days) */
			int64_t secs = ctl_parse_id(optarg, "--timeout");
			if (secs > INT_MAX / 1000)
				ctl_fail(EX_USAGE, "--timeout must be 1..%d seconds, got '%s'", INT_MAX / 1000, optarg);
			o->timeout_ms = (int)secs * 1000;
			break;
		}
		case O_TZ: o->tz = optarg; break;
		case O_TLS: o->tls = true; break;
		case O_JSON: o->json = true; break;
		case O_SINCE: {
			errno = 0;
			char *end;
			long long v = strtoll(optarg, &end, 10);
			if (errno || *end || v < 0 || !*optarg)
				ctl_fail(EX_USAGE, "--since wants an alert id, got '%s'", optarg);
			o->since = v;
			break;
		}
		case O_BY: o->by = optarg; break;
		case 'h':
			ctl_usage(stdout);
			exit(EX_OK);
		case 'V':
			printf("hotlinectl %s\n", HOTLINED_VERSION);
			exit(EX_OK);
		case ':':
			ctl_fail(EX_USAGE, "%s: missing value (see --help)", argv[optind - 1]);
		default:
			ctl_fail(EX_USAGE, "unknown option %s (see --help)", argv[optind - 1]);
		}
	}
	if (o->tcp && o->unix_path)
		ctl_fail(EX_USAGE, "give --tcp or --unix, not both");
	return optind;
}

