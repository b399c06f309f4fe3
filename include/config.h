/*
 * config.h - the configuration file (libconfig syntax) as a plain struct.
 *
 * hl_config_load() reads and validates the whole file into a fresh struct;
 * the daemon swaps it in only when it loaded cleanly, so a bad SIGHUP reload
 * leaves the running configuration untouched.
 */
#ifndef HL_CONFIG_H
#define HL_CONFIG_H

#include "hotlined.h"
#include "calendar.h"

/* An SLA policy: which clocks run how long, on which calendar. */
struct hl_policy {
	char name[64];          /* "default" for the sla = {...} block */
	char *category;         /* match on the case's category; NULL = any */
	char *priority;         /* match on the case's priority; NULL = any */
	int64_t callback_ms;    /* 0 = clock off */
	int64_t update_ms;
	int64_t resolution_ms;
	int64_t survey_ms;
	double warn_at;         /* 0 = no due-soon warnings */
	char calendar[64];      /* "" = wall clock */
	/* Spans (hl_parse_span: ms or HL_SPAN_WD(n)); the duration fields above are spans too. */
	int64_t sign_ms;        /* work orders: sign within this of dispatch (orders.sign) */
	int64_t reply_ms;       /* work orders: reply within this of dispatch (orders.reply) */
	int64_t redispatch_ms;  /* after a return: dispatch again within this (orders.redispatch) */
};

/* HTTP API roles: each includes what the ones before it may do, except
 * that ingest may only POST events. */
enum hl_role { HL_ROLE_INGEST = 1, HL_ROLE_VIEWER = 2, HL_ROLE_SUPERVISOR = 3 };

/* One webhook's body format and authentication (daemon/config_webhooks.c). */
enum hl_webhook_format { HL_WH_HOTLINE, HL_WH_ALERTMANAGER, HL_WH_PAGERDUTY, HL_WH__COUNT };
struct hl_webhook_opts {
	int format;             /* enum hl_webhook_format; default hotline */
	char *secret;           /* HMAC-SHA256 key of X-Hotline-Signature; NULL = unsigned */
	char *bearer;           /* Authorization: Bearer <token>; NULL = none */
	char **headers;         /* extra "Name: value" headers */
	size_t n_headers;
	char *routing_key;      /* PagerDuty integration key (format pagerduty) */
};
const char *hl_webhook_format_name(int format);

struct hl_config {
	char *path;

	struct {
		char *tcp;              /* "host:port" or NULL when disabled */
		char *unix_path;        /* NULL when disabled */
		int unix_mode;          /* e.g. 0660 */
		char *unix_owner, *unix_group; /* NULL = leave as created */
		size_t max_line;        /* default 65536 */
		int max_connections;    /* default 1024 */
		int idle_timeout_s;     /* default 300; 0 = none */
		int auth_timeout_s;     /* TCP with tokens: time to send auth; default 10 */
		int max_inflight;       /* requests in flight per connection before reading pauses; default 1024 */
		size_t max_output;      /* bytes buffered for a slow reader before it is dropped; default 8 MiB */
		char **tokens;          /* TCP auth tokens; n_tokens == 0 = no auth */
		size_t n_tokens;
		char *tls_cert, *tls_key, *tls_ca; /* NULL = plain TCP */
	} listen;

	struct {
		char *conninfo;
		int batch_max;          /* events per transaction; default 1000 */
		int reconnect_max_s;    /* backoff cap; default 30 */
	} database;

	struct hl_policy sla;           /* the defaults (name "default") */
	struct hl_policy *policies;     /* overrides, first match wins */
	size_t n_policies;
	struct hl_calendar *calendars;
	size_t n_calendars;

	struct { int64_t window_ms; int threshold; } repeat;
	struct { int64_t after_ms; int max_level; } escalation;
	struct {
		int transfer_limit;     /* default 3 */
		int replay_max;         /* open alerts replayed to a new subscriber; default 1000 */
	} alerts;

	struct {
		char **urls;
		size_t n_urls;
		int timeout_s;          /* default 5 */
		int max_retries;        /* default 5 */
		bool *mask_confidential;/* per URL (parallel to urls): mask a confidential caller's number; default true */
		int max_pending;        /* deliveries waiting at most; beyond, new ones are dropped and counted; default 10000 */
		struct hl_webhook_opts *opts; /* per URL (parallel to urls): format, signing, auth */
	} webhooks;

	struct {
		int level;              /* syslog level 0..7; default 6 (info) */
	} log;

	struct {
		char *listen;           /* "127.0.0.1:9370" or NULL: /metrics, /healthz, the API and the wallboard */
		struct hl_http_token {
			char *token, *name;
			int role;       /* HL_ROLE_* */
		} *tokens;              /* n_tokens == 0: no auth, and listen must be loopback */
		size_t n_tokens;
		size_t max_body;        /* bytes of a request body; default 1 MiB */
		int request_timeout_s;  /* a request must arrive complete within this (from the accept or the last answer); default 30 */
		int max_connections;    /* open HTTP connections (streams included); past it a new one is refused; default 4096 */
		bool tls;               /* serve HTTPS with listen.tls's cert and key */
	} http;

	struct {
		char *nameserver;       /* "IP[:port]" for webhook host names; NULL = /etc/resolv.conf */
	} dns;

	struct hl_phone_plan phone;     /* phone = { country_code; trunk_prefix; international_prefix; } */

	/* Work orders (CONTRACT.md 6, daemon/config_orders.c).  sign, reply and
	 * redispatch are copied into sla (the default policy) so that policies
	 * inherit them; the order clocks count in hl_config_orders_calendar(). */
	struct {
		int64_t sign_ms, reply_ms, redispatch_ms; /* spans */
		int64_t urge_after_ms;  /* span: an overdue order is urged again every this */
		char calendar[64];      /* "" = sla.calendar */
	} orders;
	struct {
		int64_t window_ms;      /* default 1h */
		int threshold;          /* default 10; 0 = off */
		char **key;             /* case fields making the key: "category", "area", "department" */
		size_t n_key;
	} hotspot;
	struct {                        /* several daemons on one database (cluster.c) */
		int64_t takeover_ms;    /* a dead daemon's clocks move within this; default 5 s */
		int slots;              /* clock slots shared out between the daemons; default 64 */
		char *name;             /* this daemon among its peers; NULL = "<host>-<pid>" */
	} cluster;
	/* config_people.c: the report zone, and who the socket's clients are */
	struct {
		char timezone[64];      /* report.timezone, else the first calendar's zone, else "UTC" */
	} report;
	struct {
		char **token_names;     /* parallel to listen.tokens: { token; name; role; }; NULL = unnamed */
		int *token_roles;       /* parallel to listen.tokens: enum hl_sock_role (roles.h); 0 = full */
		char *unix_supervisor;  /* listen.unix_supervisor: a second Unix socket whose clients are supervisors */
		int unix_supervisor_mode;        /* listen.unix_supervisor_mode, default 0660 */
		char *unix_supervisor_group;     /* listen.unix_supervisor_group; NULL = leave as created */
	} access;
};

/* The calendar work-order clocks count in: orders.calendar, else sla.calendar; NULL = wall clock. */
const struct hl_calendar *hl_config_orders_calendar(const struct hl_config *cfg);

/*
 * database.conninfo is checked by the daemon's shell, which links libpq (the
 * core may not): main.c points this at a PQconninfoParse check before it
 * loads a configuration, so --check and start-up refuse a connection string
 * libpq would refuse, with file, line and key.  NULL (the unit tests,
 * hotlinectl): only "not empty" is checked.  Returns 0, or -1 with `why`
 * (never the string itself: it holds a password).
 */
extern int (*hl_config_conninfo_check)(const char *conninfo, char *why, size_t len);

/*
 * listen.unix_owner, listen.unix_group and listen.unix_supervisor_group name
 * accounts of the host; the core does not look them up.  main.c points this
 * at getpwnam/getgrnam, so --check, start-up and a reload refuse a name that
 * does not exist with file, line and key (exit 2), instead of a start that
 * fails to open its listeners (exit 1, restarted).  Returns 0, or -1 with
 * `why` only when the lookup says the name does not exist.  NULL (the unit
 * tests, hotlinectl): not checked.
 */
extern int (*hl_config_account_check)(bool group, const char *name, char *why, size_t len);

/*
 * listen.tls.cert, key and ca are files the daemon reads at start (as its
 * own user, in the unit's sandbox, as --check does in ExecStartPre=).
 * main.c points this at an open() of a regular file, so a missing or
 * unreadable file is refused with file, line and key (exit 2).  Their
 * content is left to OpenSSL at start.  NULL (unit tests, hotlinectl): not
 * checked.
 */
extern int (*hl_config_file_check)(const char *path, char *why, size_t len);

/*
 * listen.unix and listen.unix_supervisor: the daemon replaces a stale socket
 * at that path, so a path that holds anything else (a typo naming the
 * configuration, a log) would be deleted.  main.c points this at an lstat()
 * that refuses an existing non-socket with file, line and key (exit 2).
 * NULL (unit tests, hotlinectl): not checked.
 */
extern int (*hl_config_socket_check)(const char *path, char *why, size_t len);

/*
 * What only --check looks at on the host (review-ops4), before any event
 * loop runs (getaddrinfo may wait on DNS here; a reload never calls them):
 *
 * hl_config_address_check: listen.tcp and http.listen.  main.c resolves the
 * host as the listener will and binds port 0 of it: -1 with `why` when the
 * name does not resolve or the host cannot bind the address (an error), or,
 * with *warn set, when the name service failed for now (a warning).
 *
 * hl_config_socket_dir_check: listen.unix and listen.unix_supervisor: -1
 * with `why` when the socket's directory does not exist or is not a
 * directory - a warning, as systemd creates /run/hotlined only at start.
 *
 * hl_config_warn receives each warning as "FILE:LINE: KEY: warning: ...".
 * NULL (start, reload, unit tests, hotlinectl): not checked / not said.
 */
extern int (*hl_config_address_check)(const char *host, int port, char *why, size_t len, bool *warn);
extern int (*hl_config_socket_dir_check)(const char *path, char *why, size_t len);
extern void (*hl_config_warn)(const char *message);

/*
 * Load and validate `path`.  Returns 0 and fills *cfg, or -1 with `err`
 * holding "FILE:LINE: KEY: what is wrong" (line 0 when not known).
 */
int hl_config_load(const char *path, struct hl_config *cfg, char *err, size_t errlen);
void hl_config_free(struct hl_config *cfg);

/* The policy for a case with this category and priority (either may be NULL): first match, else the defaults. */
const struct hl_policy *hl_config_policy(const struct hl_config *cfg, const char *category, const char *priority);
/* The calendar by name; NULL for "" or unknown. */
const struct hl_calendar *hl_config_calendar(const struct hl_config *cfg, const char *name);

/*
 * Additions (config.c):
 *
 * hl_config_load_string: as hl_config_load for text in memory (tests, fuzzing).
 *   `name` stands for the file name in messages; `include_dir` (may be NULL)
 *   is where @include paths are resolved.
 * hl_config_policy_by_name: the policy a case recorded (hl_case.policy);
 *   "" or "default" gives the defaults, NULL when no such policy (any more).
 * hl_config_split_hostport: "127.0.0.1:7370" / "[::1]:7370" / "localhost:80"
 *   into host (without brackets) and port 1..65535; 0 ok, -1 bad.
 * hl_config_restart_key: the first setting that differs between two configs
 *   and that a SIGHUP reload cannot apply (listen.*, database.*, http.listen, dns.nameserver),
 *   e.g. "listen.tcp"; NULL when a reload can apply everything.
 * hl_config_restart_keys: every such setting, "listen.max_line, cluster.slots"
 *   into buf (names that do not fit are left out); returns how many differ.
 * hl_config_level_name / hl_config_level_from_name: syslog levels 0..7 <-> "emerg"
 *   .. "debug" ("error" and "warn" are accepted too); NULL / -1 when unknown.
 */
int hl_config_load_string(const char *text, const char *name, const char *include_dir, struct hl_config *cfg,
			  char *err, size_t errlen);
const struct hl_policy *hl_config_policy_by_name(const struct hl_config *cfg, const char *name);
int hl_config_split_hostport(const char *s, char *host, size_t hostlen, int *port);
const char *hl_config_restart_key(const struct hl_config *old_cfg, const struct hl_config *new_cfg);
size_t hl_config_restart_keys(const struct hl_config *old_cfg, const struct hl_config *new_cfg, char *buf, size_t len);
const char *hl_config_level_name(int level);
int hl_config_level_from_name(const char *name);

#endif
