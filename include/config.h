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
};

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
	struct { int transfer_limit; } alerts;   /* default 3 */

	struct {
		char **urls;
		size_t n_urls;
		int timeout_s;          /* default 5 */
		int max_retries;        /* default 5 */
	} webhooks;

	struct {
		int level;              /* syslog level 0..7; default 6 (info) */
	} log;

	struct {
		char *listen;           /* "127.0.0.1:9370" or NULL: /metrics and /healthz */
	} http;

	struct {                        /* several daemons on one database (cluster.c) */
		int64_t takeover_ms;    /* a dead daemon's clocks move within this; default 5 s */
		int slots;              /* clock slots shared out between the daemons; default 64 */
		char *name;             /* this daemon among its peers; NULL = "<host>-<pid>" */
	} cluster;
};

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
 *   and that a SIGHUP reload cannot apply (listen.*, database.*, http.listen),
 *   e.g. "listen.tcp"; NULL when a reload can apply everything.
 * hl_config_level_name / hl_config_level_from_name: syslog levels 0..7 <-> "emerg"
 *   .. "debug" ("error" and "warn" are accepted too); NULL / -1 when unknown.
 */
int hl_config_load_string(const char *text, const char *name, const char *include_dir, struct hl_config *cfg,
			  char *err, size_t errlen);
const struct hl_policy *hl_config_policy_by_name(const struct hl_config *cfg, const char *name);
int hl_config_split_hostport(const char *s, char *host, size_t hostlen, int *port);
const char *hl_config_restart_key(const struct hl_config *old_cfg, const struct hl_config *new_cfg);
const char *hl_config_level_name(int level);
int hl_config_level_from_name(const char *name);

#endif
