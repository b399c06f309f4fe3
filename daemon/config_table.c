/*
 * config_table.c - every key of hotlined.conf, one row each.
 *
 * This table is the source of truth for the configuration, the way
 * pgbouncer's cf_* tables, tmux's options-table.c and Redis's standardConfig
 * keep theirs.  A row says the key's dotted path, its type and bounds, its
 * default, where it lands in struct hl_config, and whether a SIGHUP reload
 * can apply it (HL_CF_RESTART: no).  From it the generic walk (config_walk.c)
 * writes the defaults, rejects unknown keys with a "did you mean" hint, reads
 * and range-checks each value, and hl_config_restart_key() names the first
 * restart-only key that changed.  A list of groups (calendars, policies,
 * http.tokens) is an HL_CT_LIST row: the walk allocates the array and its
 * callback loads one entry.  Keys with a shape of their own (socket tokens,
 * webhook URLs, hotspot.key, report.timezone) are HL_CT_CUSTOM rows whose
 * callback loads them; rules across one group's keys are in
 * hl_cfg_group_checks.
 *
 * Rows of one group stay together, in the order the groups load: calendars
 * before orders and sla (calendar names are checked), orders before sla
 * (policies inherit the order deadlines), listen.tls before http (https uses
 * its certificate).
 *
 * To add a key: one row here, one line in docs/configuration.md and one in
 * conf/hotlined.conf; tests/unit/test_config_table.c fails until all three
 * agree.
 *
 * Pure: part of the functional core (no libevent, no libpq).
 */
#include <stddef.h>

#include "config_internal.h"

#define FIELD(f) .offset = offsetof(struct hl_config, f), .size = sizeof(((struct hl_config *)0)->f)
#define MS(n) ((int64_t)(n) * 1000)

#define INT(p, f, lo, hi, d, fl) {.path = p, .type = HL_CT_INT, .flags = fl, .min = lo, .max = hi, .def = d, FIELD(f)}
#define SIZE(p, f, lo, hi, d, fl) {.path = p, .type = HL_CT_SIZE, .flags = fl, .min = lo, .max = hi, .def = d, FIELD(f)}
#define SECONDS(p, f, lo, hi, d, fl) \
	{.path = p, .type = HL_CT_SECONDS, .flags = fl, .min = lo, .max = hi, .def = d, FIELD(f)}
#define DURATION(p, f, lo, hi, d, fl) {.path = p, .type = HL_CT_MS, .flags = fl, .min = lo, .max = hi, .def = d, FIELD(f)}
#define SPAN(p, f, d) {.path = p, .type = HL_CT_SPAN, .max = HL_SLA_MAX_S, .def = d, FIELD(f)}
#define FRACTION(p, f, d) {.path = p, .type = HL_CT_FRACTION, .def_frac = d, FIELD(f)}
#define BOOL(p, f, d, fl) {.path = p, .type = HL_CT_BOOL, .flags = fl, .def = d, FIELD(f)}
#define STR(p, f, d, chk, fl) {.path = p, .type = HL_CT_STR, .flags = fl, .def_str = d, .check = chk, FIELD(f)}
#define MODE(p, f, d, fl) {.path = p, .type = HL_CT_MODE, .flags = fl, .def = d, FIELD(f)}
#define DIGITS(p, f, n) {.path = p, .type = HL_CT_DIGITS, .max = n, .def_str = "", FIELD(f)}
#define CALENDAR(p, f) {.path = p, .type = HL_CT_CALENDAR, .def_str = "", FIELD(f)}
#define ENUM(p, f, d, fn, w) {.path = p, .type = HL_CT_ENUM, .def = d, .parse = fn, .words = w, FIELD(f)}
#define LIST(p, f, n, fn, keys, eq, fl) \
	{.path = p, .type = HL_CT_LIST, .flags = fl, .offset = offsetof(struct hl_config, f), \
	 .size = sizeof(*((struct hl_config *)0)->f), .count_offset = offsetof(struct hl_config, n), .entry = fn, \
	 .entries = keys, .same = eq}
#define CUSTOM(p, ld, eq, keys, fl) {.path = p, .type = HL_CT_CUSTOM, .flags = fl, .load = ld, .same = eq, .entries = keys}

#define R HL_CF_RESTART
#define E HL_CF_EMPTY_NULL

const struct hl_cfg_key hl_cfg_keys[] = {
	/* the event sockets (restart) */
	STR("listen.tcp", listen.tcp, "127.0.0.1:7370", hl_cfgi_check_address, R | E),
	STR("listen.unix", listen.unix_path, "/run/hotlined/events.sock", hl_cfgi_check_unix_path, R | E),
	MODE("listen.unix_mode", listen.unix_mode, 0660, R),
	STR("listen.unix_owner", listen.unix_owner, NULL, hl_cfgi_check_user, R | E),
	STR("listen.unix_group", listen.unix_group, NULL, hl_cfgi_check_group, R | E),
	SIZE("listen.max_line", listen.max_line, 64, 16 * HL_MIB, 65536, R),
	INT("listen.max_connections", listen.max_connections, 1, 1000000, 1024, R),
	SECONDS("listen.idle_timeout", listen.idle_timeout_s, 0, 7 * HL_DAY_S, MS(300), R),
	SECONDS("listen.auth_timeout", listen.auth_timeout_s, 1, HL_HOUR_S, MS(10), R),
	INT("listen.max_inflight", listen.max_inflight, 1, 1000000, 1024, R),
	SIZE("listen.max_output", listen.max_output, 64 * 1024, 1024 * HL_MIB, 8 * HL_MIB, R),
	CUSTOM("listen.tokens", hl_cfgi_load_tokens, hl_cfgi_same_tokens, hl_cfgi_token_keys, R),
	STR("listen.unix_supervisor", access.unix_supervisor, NULL, hl_cfgi_check_unix_path, R | E),
	MODE("listen.unix_supervisor_mode", access.unix_supervisor_mode, 0660, R),
	STR("listen.unix_supervisor_group", access.unix_supervisor_group, NULL, hl_cfgi_check_group, R | E),
	STR("listen.tls.cert", listen.tls_cert, NULL, hl_cfgi_check_file, R | E),
	STR("listen.tls.key", listen.tls_key, NULL, hl_cfgi_check_file, R | E),
	STR("listen.tls.ca", listen.tls_ca, NULL, hl_cfgi_check_file, R | E),

	/* PostgreSQL (restart) */
	STR("database.conninfo", database.conninfo, NULL, hl_cfgi_check_conninfo, R | HL_CF_REQUIRED),
	INT("database.batch_max", database.batch_max, 1, 100000, 1000, R),
	SECONDS("database.reconnect_max", database.reconnect_max_s, 1, HL_HOUR_S, MS(30), R),

	/* business hours: a list of groups (config_calendars.c) */
	LIST("calendars", calendars, n_calendars, hl_cfgi_load_calendar, hl_cfgi_calendar_keys, NULL, 0),

	/* work orders (config_orders.c); before sla, whose policies inherit them */
	SPAN("orders.sign", orders.sign_ms, MS(2 * HL_HOUR_S)),
	SPAN("orders.reply", orders.reply_ms, HL_SPAN_WD(5)),
	SPAN("orders.redispatch", orders.redispatch_ms, MS(2 * HL_HOUR_S)),
	CALENDAR("orders.calendar", orders.calendar),
	SPAN("orders.urge_after", orders.urge_after_ms, HL_SPAN_WD(1)),

	/* service levels: the default policy, and the overrides (config_sla.c) */
	SPAN("sla.callback", sla.callback_ms, MS(30 * HL_MINUTE_S)),
	SPAN("sla.update", sla.update_ms, MS(24 * HL_HOUR_S)),
	SPAN("sla.resolution", sla.resolution_ms, MS(48 * HL_HOUR_S)),
	SPAN("sla.survey", sla.survey_ms, 0),
	FRACTION("sla.warn_at", sla.warn_at, 0.8),
	CALENDAR("sla.calendar", sla.calendar),
	LIST("sla.policies", policies, n_policies, hl_cfgi_load_policy, hl_cfgi_policy_keys, NULL, 0),

	DURATION("repeat_caller.window", repeat.window_ms, 1, 365 * HL_DAY_S, MS(24 * HL_HOUR_S), 0),
	INT("repeat_caller.threshold", repeat.threshold, 2, 1000000, 3, 0),

	DURATION("escalation.after", escalation.after_ms, 1, 30 * HL_DAY_S, MS(15 * HL_MINUTE_S), 0),
	INT("escalation.max_level", escalation.max_level, 1, 100, 3, 0),

	INT("alerts.transfer_limit", alerts.transfer_limit, 1, 1000, 3, 0),
	INT("alerts.replay_max", alerts.replay_max, 1, 1000000, 1000, 0),

	CUSTOM("webhooks.urls", hl_cfgi_load_urls, NULL, hl_cfgi_webhook_keys, 0),
	SECONDS("webhooks.timeout", webhooks.timeout_s, 1, 300, MS(5), 0),
	INT("webhooks.max_retries", webhooks.max_retries, 0, 100, 5, 0),
	INT("webhooks.max_pending", webhooks.max_pending, 1, 1000000, 10000, 0),

	ENUM("log.level", log.level, 6, hl_cfgi_parse_level, "emerg, alert, crit, err, warning, notice, info or debug"),

	/* the HTTP endpoint (restart) */
	STR("http.listen", http.listen, NULL, hl_cfgi_check_address, R | E),
	LIST("http.tokens", http.tokens, http.n_tokens, hl_cfgi_load_http_token, hl_cfgi_http_token_keys,
	     hl_cfgi_same_http_tokens, R),
	SIZE("http.max_body", http.max_body, 1024, 1024 * HL_MIB, HL_MIB, R),
	SECONDS("http.request_timeout", http.request_timeout_s, 1, 300, MS(30), R),
	/* restart, as listen.max_connections: the running listener keeps its
	 * http section at SIGHUP (main.c), and a section reloads as a whole */
	INT("http.max_connections", http.max_connections, 1, 1000000, 4096, R),
	BOOL("http.tls", http.tls, false, R),

	STR("dns.nameserver", dns.nameserver, NULL, hl_cfgi_check_nameserver, R | E),

	DIGITS("phone.country_code", phone.country_code, 3),
	DIGITS("phone.trunk_prefix", phone.trunk_prefix, 4),
	DIGITS("phone.international_prefix", phone.international_prefix, 4),

	DURATION("hotspot.window", hotspot.window_ms, 1, 366 * HL_DAY_S, MS(HL_HOUR_S), 0),
	INT("hotspot.threshold", hotspot.threshold, 0, 1000000, 10, 0),
	CUSTOM("hotspot.key", hl_cfgi_load_hotspot_key, NULL, NULL, 0),

	/* several daemons on one database (restart) */
	DURATION("cluster.takeover", cluster.takeover_ms, 1, HL_HOUR_S, MS(5), R),
	INT("cluster.slots", cluster.slots, 1, 4096, 64, R),
	STR("cluster.name", cluster.name, NULL, hl_cfgi_check_cluster_name, R),

	CUSTOM("report.timezone", hl_cfgi_load_report_tz, hl_cfgi_same_report_tz, NULL, R),
};
const size_t hl_cfg_n_keys = sizeof hl_cfg_keys / sizeof hl_cfg_keys[0];

const struct hl_cfg_group_check hl_cfg_group_checks[] = {
	{"listen", false, hl_cfgi_check_listen},   /* tcp or unix */
	{"listen.tls", false, hl_cfgi_check_tls},  /* cert with key, ca with both */
	{"orders", false, hl_cfgi_check_orders},   /* reply and urge_after not 0; sla inherits */
	{"sla", true, hl_cfgi_check_spans},        /* "Nwd" only where a calendar applies */
	{"http", false, hl_cfgi_check_http},       /* https needs listen.tls; no tokens: loopback */
	{"phone", false, hl_cfgi_check_phone},     /* country code, distinct prefixes */
	{"hotspot", false, hl_cfgi_check_hotspot}, /* threshold 1 makes every case a hotspot */
};
const size_t hl_cfg_n_group_checks = sizeof hl_cfg_group_checks / sizeof hl_cfg_group_checks[0];
