/*
 * test_config.c - unit tests for daemon/config.c.
 *
 * Fixtures live in tests/unit/conf/ and are named relative to the repository
 * root, which is where `make unit` runs the tests.  Short cases are written
 * inline and loaded with hl_config_load_string().  Every error test checks the
 * exact message, "FILE:LINE: KEY: what", and the suite runs under ASan, so the
 * error paths are also checked for leaks.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

#define CONF(x) "tests/unit/conf/" x
#define BASE "database = { conninfo = \"dbname=x\"; };\n"

static char err[1024];

/* Load a fixture that must fail; returns the message. */
static const char *load_fail(const char *path)
{
	struct hl_config cfg;
	memset(&cfg, 0x5a, sizeof cfg); /* must stay untouched */
	err[0] = '\0';
	cr_assert_eq(hl_config_load(path, &cfg, err, sizeof err), -1, "%s loaded", path);
	unsigned char *b = (unsigned char *)&cfg;
	for (size_t i = 0; i < sizeof cfg; i++)
		cr_assert_eq(b[i], 0x5a, "cfg was written on error");
	return err;
}

static const char *str_fail(const char *text)
{
	struct hl_config cfg;
	memset(&cfg, 0, sizeof cfg);
	err[0] = '\0';
	int rc = hl_config_load_string(text, "t.conf", NULL, &cfg, err, sizeof err);
	if (rc == 0)
		hl_config_free(&cfg);
	cr_assert_eq(rc, -1, "loaded: %s", text);
	return err;
}

static void str_ok(const char *text, struct hl_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	err[0] = '\0';
	cr_assert_eq(hl_config_load_string(text, "t.conf", NULL, cfg, err, sizeof err), 0, "%s -> %s", text, err);
}

#define EXPECT_FILE(path, msg) cr_assert_str_eq(load_fail(path), msg)
#define EXPECT_STR(text, msg) cr_assert_str_eq(str_fail(text), msg)

/* ------------------------------------------------------------ example */

Test(example, loads)
{
	struct hl_config cfg;
	cr_assert_eq(hl_config_load("conf/hotlined.conf", &cfg, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cfg.path, "conf/hotlined.conf");
	cr_assert_str_eq(cfg.listen.tcp, "127.0.0.1:7370");
	cr_assert_str_eq(cfg.listen.unix_path, "/run/hotlined/events.sock");
	cr_assert_eq(cfg.listen.unix_mode, 0660);
	cr_assert_null(cfg.listen.unix_owner);
	cr_assert_null(cfg.listen.unix_group);
	cr_assert_eq(cfg.listen.max_line, 65536);
	cr_assert_eq(cfg.listen.max_connections, 1024);
	cr_assert_eq(cfg.listen.idle_timeout_s, 300);
	cr_assert_eq(cfg.listen.max_inflight, 1024);
	cr_assert_eq(cfg.listen.max_output, 8388608);
	cr_assert_eq(cfg.listen.n_tokens, 0);
	cr_assert_null(cfg.listen.tls_cert);
	cr_assert_null(cfg.listen.tls_key);
	cr_assert_null(cfg.listen.tls_ca);
	cr_assert_str_eq(cfg.database.conninfo, "dbname=hotline user=hotlined");
	cr_assert_eq(cfg.database.batch_max, 1000);
	cr_assert_eq(cfg.database.reconnect_max_s, 30);
	cr_assert_str_eq(cfg.sla.name, "default");
	cr_assert_eq(cfg.sla.callback_ms, 30 * 60 * 1000);
	cr_assert_eq(cfg.sla.update_ms, 24LL * 3600 * 1000);
	cr_assert_eq(cfg.sla.resolution_ms, 48LL * 3600 * 1000);
	cr_assert_eq(cfg.sla.survey_ms, 0);
	cr_assert_float_eq(cfg.sla.warn_at, 0.8, 1e-9);
	cr_assert_str_eq(cfg.sla.calendar, "");
	cr_assert_eq(cfg.n_policies, 2);
	cr_assert_str_eq(cfg.policies[0].name, "urgent");
	cr_assert_str_eq(cfg.policies[1].name, "complaint");
	cr_assert_str_eq(cfg.policies[1].calendar, "office");
	cr_assert_eq(cfg.n_calendars, 1);
	cr_assert_str_eq(cfg.calendars[0].name, "office");
	cr_assert_str_eq(cfg.calendars[0].zone_name, "Asia/Shanghai");
	cr_assert_not_null(cfg.calendars[0].zone);
	cr_assert_eq(cfg.calendars[0].n_holidays, 7);
	cr_assert_eq(cfg.calendars[0].n_workdays, 1);
	cr_assert_eq(cfg.repeat.window_ms, 24LL * 3600 * 1000);
	cr_assert_eq(cfg.repeat.threshold, 3);
	cr_assert_eq(cfg.escalation.after_ms, 15 * 60 * 1000);
	cr_assert_eq(cfg.escalation.max_level, 3);
	cr_assert_eq(cfg.alerts.transfer_limit, 3);
	cr_assert_eq(cfg.webhooks.n_urls, 0);
	cr_assert_eq(cfg.webhooks.timeout_s, 5);
	cr_assert_eq(cfg.webhooks.max_retries, 5);
	cr_assert_eq(cfg.log.level, 6);
	cr_assert_null(cfg.http.listen);
	cr_assert_str_eq(cfg.phone.country_code, "86");
	cr_assert_str_eq(cfg.phone.trunk_prefix, "0");
	cr_assert_str_eq(cfg.phone.international_prefix, "00");
	hl_config_free(&cfg);
	hl_config_free(&cfg); /* freeing twice is harmless: free zeroes */
}

/* ----------------------------------------------------------- defaults */

Test(defaults, absent_keys)
{
	struct hl_config cfg;
	cr_assert_eq(hl_config_load(CONF("minimal.conf"), &cfg, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(cfg.listen.tcp, "127.0.0.1:7370");
	cr_assert_str_eq(cfg.listen.unix_path, "/run/hotlined/events.sock");
	cr_assert_eq(cfg.listen.unix_mode, 0660);
	cr_assert_eq(cfg.listen.max_line, 65536);
	cr_assert_eq(cfg.listen.max_connections, 1024);
	cr_assert_eq(cfg.listen.idle_timeout_s, 300);
	cr_assert_eq(cfg.listen.max_inflight, 1024);
	cr_assert_eq(cfg.listen.max_output, 8 * 1024 * 1024);
	cr_assert_eq(cfg.listen.n_tokens, 0);
	cr_assert_null(cfg.listen.tokens);
	cr_assert_str_eq(cfg.database.conninfo, "dbname=hotline_test");
	cr_assert_eq(cfg.database.batch_max, 1000);
	cr_assert_eq(cfg.database.reconnect_max_s, 30);
	cr_assert_str_eq(cfg.sla.name, "default");
	cr_assert_null(cfg.sla.category);
	cr_assert_null(cfg.sla.priority);
	cr_assert_eq(cfg.sla.callback_ms, 1800000);
	cr_assert_eq(cfg.sla.update_ms, 86400000);
	cr_assert_eq(cfg.sla.resolution_ms, 172800000);
	cr_assert_eq(cfg.sla.survey_ms, 0);
	cr_assert_float_eq(cfg.sla.warn_at, 0.8, 1e-9);
	cr_assert_eq(cfg.n_policies, 0);
	cr_assert_eq(cfg.n_calendars, 0);
	cr_assert_eq(cfg.repeat.window_ms, 86400000);
	cr_assert_eq(cfg.repeat.threshold, 3);
	cr_assert_eq(cfg.escalation.after_ms, 900000);
	cr_assert_eq(cfg.escalation.max_level, 3);
	cr_assert_eq(cfg.alerts.transfer_limit, 3);
	cr_assert_eq(cfg.webhooks.timeout_s, 5);
	cr_assert_eq(cfg.webhooks.max_retries, 5);
	cr_assert_eq(cfg.log.level, 6);
	cr_assert_null(cfg.http.listen);
	cr_assert_eq(hl_config_policy(&cfg, "complaint", "urgent"), &cfg.sla);
	cr_assert_eq(hl_config_policy(&cfg, NULL, NULL), &cfg.sla);
	hl_config_free(&cfg);
}

Test(defaults, empty_groups)
{
	struct hl_config cfg;
	str_ok(BASE "listen = { }; sla = { policies = ( ); }; calendars = ( ); repeat_caller = { }; "
		    "escalation = { }; alerts = { }; webhooks = { urls = [ ]; }; log = { }; http = { };",
	       &cfg);
	cr_assert_str_eq(cfg.listen.tcp, "127.0.0.1:7370");
	cr_assert_eq(cfg.n_policies, 0);
	cr_assert_eq(cfg.n_calendars, 0);
	cr_assert_eq(cfg.webhooks.n_urls, 0);
	hl_config_free(&cfg);
	str_ok(BASE "calendars = [ ]; sla = { policies = [ ]; };", &cfg);
	hl_config_free(&cfg);
}

Test(defaults, free_zeroed_and_null)
{
	struct hl_config cfg;
	memset(&cfg, 0, sizeof cfg);
	hl_config_free(&cfg);
	hl_config_free(NULL);
}

/* ------------------------------------------------------ values that load */

Test(values, all_keys_set)
{
	struct hl_config cfg;
	str_ok("listen = { tcp = \"[::1]:7001\"; unix = \"/tmp/x.sock\"; unix_mode = \"600\"; unix_owner = \"hl\";"
	       " unix_group = \"staff\"; max_line = 64; max_connections = 1; idle_timeout = 0; max_inflight = 7;"
	       " max_output = 65536; tokens = [ \"a\", \"bb\" ];"
	       " tls = { cert = \"/c.pem\"; key = \"/k.pem\"; ca = \"/ca.pem\"; }; };\n"
	       "database = { conninfo = \"host=db\"; batch_max = 1; reconnect_max = 1; };\n"
	       "sla = { callback = 1; update = \"2s\"; resolution = \"3m\"; survey = \"1d\"; warn_at = 0; };\n"
	       "repeat_caller = { window = \"1h\"; threshold = 2; };\n"
	       "escalation = { after = 2; max_level = 1; };\n"
	       "alerts = { transfer_limit = 1; replay_max = 7; };\n"
	       "webhooks = { urls = ( \"http://a.example/x\", \"https://b.example\" ); timeout = \"1m\"; max_retries = 0; };\n"
	       "log = { level = \"debug\"; };\n"
	       "http = { listen = \"0.0.0.0:9370\"; max_body = 2048; tls = true;\n"
	       "  tokens = ( { token = \"t1\"; name = \"ann\"; role = \"supervisor\"; },\n"
	       "             { token = \"t2\"; name = \"pbx\"; role = \"ingest\"; } ); };\n",
	       &cfg);
	cr_assert_str_eq(cfg.listen.tcp, "[::1]:7001");
	cr_assert_str_eq(cfg.listen.unix_path, "/tmp/x.sock");
	cr_assert_eq(cfg.listen.unix_mode, 0600);
	cr_assert_str_eq(cfg.listen.unix_owner, "hl");
	cr_assert_str_eq(cfg.listen.unix_group, "staff");
	cr_assert_eq(cfg.listen.max_line, 64);
	cr_assert_eq(cfg.listen.max_connections, 1);
	cr_assert_eq(cfg.listen.idle_timeout_s, 0);
	cr_assert_eq(cfg.listen.max_inflight, 7);
	cr_assert_eq(cfg.listen.max_output, 65536);
	cr_assert_eq(cfg.listen.n_tokens, 2);
	cr_assert_str_eq(cfg.listen.tokens[1], "bb");
	cr_assert_str_eq(cfg.listen.tls_cert, "/c.pem");
	cr_assert_str_eq(cfg.listen.tls_key, "/k.pem");
	cr_assert_str_eq(cfg.listen.tls_ca, "/ca.pem");
	cr_assert_str_eq(cfg.database.conninfo, "host=db");
	cr_assert_eq(cfg.database.batch_max, 1);
	cr_assert_eq(cfg.database.reconnect_max_s, 1);
	cr_assert_eq(cfg.sla.callback_ms, 1000);
	cr_assert_eq(cfg.sla.update_ms, 2000);
	cr_assert_eq(cfg.sla.resolution_ms, 180000);
	cr_assert_eq(cfg.sla.survey_ms, 86400000);
	cr_assert_float_eq(cfg.sla.warn_at, 0.0, 1e-12);
	cr_assert_eq(cfg.repeat.window_ms, 3600000);
	cr_assert_eq(cfg.repeat.threshold, 2);
	cr_assert_eq(cfg.escalation.after_ms, 2000);
	cr_assert_eq(cfg.escalation.max_level, 1);
	cr_assert_eq(cfg.alerts.transfer_limit, 1);
	cr_assert_eq(cfg.webhooks.n_urls, 2);
	cr_assert_str_eq(cfg.webhooks.urls[0], "http://a.example/x");
	cr_assert_eq(cfg.webhooks.timeout_s, 60);
	cr_assert_eq(cfg.webhooks.max_retries, 0);
	cr_assert_eq(cfg.log.level, 7);
	cr_assert_str_eq(cfg.http.listen, "0.0.0.0:9370");
	cr_assert_eq(cfg.alerts.replay_max, 7);
	cr_assert_eq(cfg.http.max_body, 2048);
	cr_assert(cfg.http.tls);
	cr_assert_eq(cfg.http.n_tokens, 2);
	cr_assert_str_eq(cfg.http.tokens[0].token, "t1");
	cr_assert_str_eq(cfg.http.tokens[0].name, "ann");
	cr_assert_eq(cfg.http.tokens[0].role, HL_ROLE_SUPERVISOR);
	cr_assert_eq(cfg.http.tokens[1].role, HL_ROLE_INGEST);
	hl_config_free(&cfg);
}

Test(values, one_listener_off)
{
	struct hl_config cfg;
	str_ok(BASE "listen = { tcp = \"\"; };", &cfg);
	cr_assert_null(cfg.listen.tcp);
	cr_assert_str_eq(cfg.listen.unix_path, "/run/hotlined/events.sock");
	hl_config_free(&cfg);
	str_ok(BASE "listen = { unix = \"\"; unix_owner = \"\"; };", &cfg);
	cr_assert_null(cfg.listen.unix_path);
	cr_assert_null(cfg.listen.unix_owner);
	cr_assert_str_eq(cfg.listen.tcp, "127.0.0.1:7370");
	hl_config_free(&cfg);
}

Test(values, limits_inclusive)
{
	struct hl_config cfg;
	str_ok(BASE "listen = { max_line = 16777216; tcp = \"h:65535\"; }; sla = { warn_at = 0.999; survey = 0; };"
		    " escalation = { max_level = 100; }; repeat_caller = { threshold = 1000000; };",
	       &cfg);
	cr_assert_eq(cfg.listen.max_line, 16777216);
	cr_assert_eq(cfg.escalation.max_level, 100);
	hl_config_free(&cfg);
	str_ok(BASE "log = { level = \"emerg\"; };", &cfg);
	cr_assert_eq(cfg.log.level, 0);
	hl_config_free(&cfg);
	str_ok(BASE "log = { level = \"warn\"; };", &cfg);
	cr_assert_eq(cfg.log.level, 4);
	hl_config_free(&cfg);
	str_ok(BASE "listen = { max_output = 1073741824L; };", &cfg); /* an int64 literal is fine */
	cr_assert_eq(cfg.listen.max_output, 1073741824);
	hl_config_free(&cfg);
}

Test(values, include_relative_to_file)
{
	struct hl_config cfg;
	cr_assert_eq(hl_config_load(CONF("include.conf"), &cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg.sla.callback_ms, 7 * 60 * 1000);
	cr_assert_eq(cfg.sla.resolution_ms, 3LL * 86400 * 1000);
	hl_config_free(&cfg);
}

/* ------------------------------------------------------------- errors */

Test(errors, unknown_key_top)
{
	EXPECT_FILE(CONF("unknown_top.conf"), "tests/unit/conf/unknown_top.conf:4: sla_policies: unknown key");
}

Test(errors, unknown_key_nested)
{
	EXPECT_FILE(CONF("unknown_nested.conf"),
		    "tests/unit/conf/unknown_nested.conf:4: sla.calback: unknown key (did you mean 'callback'?)");
	EXPECT_FILE(CONF("unknown_policy.conf"),
		    "tests/unit/conf/unknown_policy.conf:6: sla.policies.[1].resolutoin: unknown key (did you mean 'resolution'?)");
	EXPECT_STR(BASE "listen = { tls = { cert = \"c\"; key = \"k\"; crt = \"x\"; }; };",
		   "t.conf:2: listen.tls.crt: unknown key (did you mean 'cert'?)");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; hours = { mon = \"09:00-17:00\"; mo = \"\"; }; } );",
		   "t.conf:2: calendars.[0].hours.mo: unknown key (did you mean 'mon'?)");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; zone = \"UTC\"; } );",
		   "t.conf:2: calendars.[0].zone: unknown key");
	EXPECT_STR(BASE "webhooks = { url = \"http://x\"; };",
		   "t.conf:2: webhooks.url: unknown key (did you mean 'urls'?)");
	EXPECT_STR(BASE "log = { level = \"info\"; file = \"/tmp/x\"; };", "t.conf:2: log.file: unknown key");
	EXPECT_STR(BASE "http = { port = 80; };", "t.conf:2: http.port: unknown key");
	EXPECT_STR(BASE "repeat_caller = { windows = \"1h\"; };",
		   "t.conf:2: repeat_caller.windows: unknown key (did you mean 'window'?)");
	EXPECT_STR(BASE "alerts = { transfers = 3; };", "t.conf:2: alerts.transfers: unknown key");
	EXPECT_STR(BASE "escalation = { max = 3; };", "t.conf:2: escalation.max: unknown key");
	EXPECT_STR("database = { conninfo = \"x\"; user = \"u\"; };", "t.conf:1: database.user: unknown key");
}

Test(errors, bad_duration)
{
	EXPECT_FILE(CONF("bad_duration.conf"),
		    "tests/unit/conf/bad_duration.conf:7: sla.policies.[1].resolution: bad duration 'abc' (use 90s, 30m, 48h, 2d)");
	EXPECT_STR(BASE "sla = { callback = \"1.5h\"; };",
		   "t.conf:2: sla.callback: bad duration '1.5h' (use 90s, 30m, 48h, 2d)");
	EXPECT_STR(BASE "sla = { callback = \"30 m\"; };",
		   "t.conf:2: sla.callback: bad duration '30 m' (use 90s, 30m, 48h, 2d)");
	EXPECT_STR(BASE "sla = { callback = \"\"; };", "t.conf:2: sla.callback: bad duration '' (use 90s, 30m, 48h, 2d)");
	EXPECT_STR(BASE "sla = { update = -5; };", "t.conf:2: sla.update: -5s is out of range (0..365d)");
	EXPECT_STR(BASE "sla = { survey = \"400d\"; };", "t.conf:2: sla.survey: 400d is out of range (0..365d)");
	EXPECT_STR(BASE "sla = { resolution = 1.5; };",
		   "t.conf:2: sla.resolution: expected a duration (\"30m\" or seconds), got a number");
	EXPECT_STR(BASE "repeat_caller = { window = \"0\"; };", "t.conf:2: repeat_caller.window: 0 is out of range (1s..365d)");
	EXPECT_STR(BASE "escalation = { after = 0; };", "t.conf:2: escalation.after: 0 is out of range (1s..30d)");
	EXPECT_STR(BASE "webhooks = { timeout = \"6m\"; };", "t.conf:2: webhooks.timeout: 6m is out of range (1s..5m)");
	EXPECT_STR(BASE "listen = { idle_timeout = \"8d\"; };", "t.conf:2: listen.idle_timeout: 8d is out of range (0..7d)");
	EXPECT_STR("database = { conninfo = \"x\"; reconnect_max = \"0s\"; };",
		   "t.conf:1: database.reconnect_max: 0 is out of range (1s..1h)");
	/* a control character in the value is not echoed raw */
	EXPECT_STR(BASE "sla = { callback = \"1\\n2\"; };", "t.conf:2: sla.callback: bad duration '1?2' (use 90s, 30m, 48h, 2d)");
}

Test(errors, bad_address)
{
	EXPECT_FILE(CONF("bad_address.conf"),
		    "tests/unit/conf/bad_address.conf:3: listen.tcp: bad address '127.0.0.1:70000' (use host:port, e.g. 127.0.0.1:7370 or [::1]:7370)");
	static const char *const bad[] = {"localhost", "::1:7370", "host:", ":7370", "host:0", "host:+80", "[::1]7370",
		"[]:80", "[127.0.0.1]:80", "a b:80", "host:80x", "host:123456", "[::1:80", "h/x:80"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[256], want[256];
		snprintf(text, sizeof text, BASE "http = { listen = \"%s\"; };", bad[i]);
		snprintf(want, sizeof want,
			 "t.conf:2: http.listen: bad address '%s' (use host:port, e.g. 127.0.0.1:7370 or [::1]:7370)", bad[i]);
		EXPECT_STR(text, want);
	}
	EXPECT_STR(BASE "listen = { tcp = 7370; };", "t.conf:2: listen.tcp: expected a string, got an integer");
}

/* contract section 7: without tokens the HTTP listener must be on loopback */
Test(errors, http_tokens)
{
	EXPECT_STR(BASE "http = { listen = \"0.0.0.0:9370\"; };",
		   "t.conf:2: http.listen: without http.tokens the listener must be on a loopback address (127.0.0.1, "
		   "::1 or localhost): anyone who reaches it could ingest and acknowledge");
	EXPECT_STR(BASE "http = { listen = \"127.0.0.1:9370\"; tokens = ( { token = \"t\"; name = \"n\"; role = \"admin\"; } ); };",
		   "t.conf:2: http.tokens.[0].role: role: one of ingest, viewer, supervisor");
	EXPECT_STR(BASE "http = { listen = \"127.0.0.1:9370\"; tokens = ( { name = \"n\"; role = \"viewer\"; } ); };",
		   "t.conf:2: http.tokens.[0]: token: 1..256 bytes without control characters");
	EXPECT_STR(BASE "http = { listen = \"127.0.0.1:9370\"; tls = true; };",
		   "t.conf:2: http.tls: HTTPS uses listen.tls's cert and key: set them first");
	EXPECT_STR(BASE "alerts = { replay_max = 0; };", "t.conf:2: alerts.replay_max: 0 is out of range (1..1000000)");
	struct hl_config cfg;
	str_ok(BASE "http = { listen = \"[::1]:9370\"; };", &cfg);
	cr_assert_eq(cfg.http.n_tokens, 0);
	cr_assert_eq(cfg.http.max_body, 1024 * 1024);
	cr_assert_eq(cfg.alerts.replay_max, 1000);
	hl_config_free(&cfg);
}

Test(errors, bad_unix)
{
	EXPECT_FILE(CONF("bad_mode.conf"),
		    "tests/unit/conf/bad_mode.conf:4: listen.unix_mode: bad mode '0680' (use an octal string such as \"0660\")");
	EXPECT_STR(BASE "listen = { unix_mode = \"01777\"; };",
		   "t.conf:2: listen.unix_mode: bad mode '01777' (use an octal string such as \"0660\")");
	EXPECT_STR(BASE "listen = { unix_mode = \"\"; };",
		   "t.conf:2: listen.unix_mode: bad mode '' (use an octal string such as \"0660\")");
	EXPECT_STR(BASE "listen = { unix_mode = 660; };", "t.conf:2: listen.unix_mode: expected a string, got an integer");
	char text[512], path[200];
	memset(path, 'a', 120);
	path[0] = '/';
	path[120] = '\0';
	snprintf(text, sizeof text, BASE "listen = { unix = \"%s\"; };", path);
	EXPECT_STR(text, "t.conf:2: listen.unix: path too long (at most 107 bytes)");
}

Test(errors, missing_conninfo)
{
	EXPECT_FILE(CONF("no_conninfo.conf"), "tests/unit/conf/no_conninfo.conf:0: database.conninfo: missing");
	EXPECT_STR("sla = { };", "t.conf:0: database.conninfo: missing");
	EXPECT_STR("", "t.conf:0: database.conninfo: missing");
	EXPECT_STR("database = { conninfo = \"\"; };",
		   "t.conf:1: database.conninfo: empty (use a libpq connection string such as \"dbname=hotline\")");
	EXPECT_STR("database = { conninfo = 5; };", "t.conf:1: database.conninfo: expected a string, got an integer");
}

Test(errors, undefined_calendar)
{
	EXPECT_FILE(CONF("undefined_calendar.conf"),
		    "tests/unit/conf/undefined_calendar.conf:6: sla.policies.[0].calendar: unknown calendar 'ofice'");
	EXPECT_STR(BASE "sla = { calendar = \"office\"; };", "t.conf:2: sla.calendar: unknown calendar 'office'");
}

Test(errors, wrong_types)
{
	EXPECT_FILE(CONF("wrong_type.conf"), "tests/unit/conf/wrong_type.conf:3: listen.max_line: expected an integer, got a string");
	EXPECT_FILE(CONF("wrong_group.conf"), "tests/unit/conf/wrong_group.conf:2: escalation: expected a group { }, got an integer");
	EXPECT_STR(BASE "sla = { warn_at = \"0.8\"; };", "t.conf:2: sla.warn_at: expected a number, got a string");
	EXPECT_STR(BASE "sla = { policies = { a = 1; }; };",
		   "t.conf:2: sla.policies: expected a list ( { ... }, ... ), got a group { }");
	EXPECT_STR(BASE "sla = { policies = [ 1, 2 ]; };",
		   "t.conf:2: sla.policies: expected a list ( { ... }, ... ), got an array [ ]");
	EXPECT_STR(BASE "sla = { policies = ( { category = \"a\"; }, 5 ); };",
		   "t.conf:2: sla.policies.[1]: expected a group { }, got an integer");
	EXPECT_STR(BASE "calendars = { name = \"x\"; };", "t.conf:2: calendars: expected a list ( { ... }, ... ), got a group { }");
	EXPECT_STR(BASE "listen = { tokens = \"abc\"; };",
		   "t.conf:2: listen.tokens: must be a list of tokens: [ \"...\" ] or ( \"...\", { token; name; role; } )");
	EXPECT_STR(BASE "listen = { tokens = [ 1 ]; };", "t.conf:2: listen.tokens.[0]: must be a string or a group { token; name; role; }");
	EXPECT_STR(BASE "webhooks = { urls = ( \"http://a\", true ); };",
		   "t.conf:2: webhooks.urls.[1]: expected a URL string or a group { url = \"...\"; mask_confidential = false; }, got a boolean");
	EXPECT_STR(BASE "listen = { max_connections = 1.0; };",
		   "t.conf:2: listen.max_connections: expected an integer, got a number");
	EXPECT_STR(BASE "log = \"info\";", "t.conf:2: log: expected a group { }, got a string");
	EXPECT_STR(BASE "log = { level = 6; };", "t.conf:2: log.level: expected a string, got an integer");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; hours = { mon = 9; }; } );",
		   "t.conf:2: calendars.[0].hours.mon: expected a string, got an integer");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; hours = ( ); } );",
		   "t.conf:2: calendars.[0].hours: expected a group { }, got a list ( )");
}

Test(errors, ranges)
{
	EXPECT_STR(BASE "listen = { max_line = 63; };", "t.conf:2: listen.max_line: 63 is out of range (64..16777216)");
	EXPECT_STR(BASE "listen = { max_line = 16777217; };", "t.conf:2: listen.max_line: 16777217 is out of range (64..16777216)");
	EXPECT_STR(BASE "listen = { max_connections = 0; };", "t.conf:2: listen.max_connections: 0 is out of range (1..1000000)");
	EXPECT_STR(BASE "listen = { max_inflight = -1; };", "t.conf:2: listen.max_inflight: -1 is out of range (1..1000000)");
	EXPECT_STR(BASE "listen = { max_output = 10000000000L; };",
		   "t.conf:2: listen.max_output: 10000000000 is out of range (65536..1073741824)");
	EXPECT_STR(BASE "sla = { warn_at = 1.0; };", "t.conf:2: sla.warn_at: 1 is out of range (0 <= warn_at < 1)");
	EXPECT_STR(BASE "sla = { warn_at = -0.1; };", "t.conf:2: sla.warn_at: -0.1 is out of range (0 <= warn_at < 1)");
	EXPECT_STR(BASE "sla = { warn_at = 1; };", "t.conf:2: sla.warn_at: 1 is out of range (0 <= warn_at < 1)");
	EXPECT_STR(BASE "repeat_caller = { threshold = 1; };", "t.conf:2: repeat_caller.threshold: 1 is out of range (2..1000000)");
	EXPECT_STR(BASE "escalation = { max_level = 0; };", "t.conf:2: escalation.max_level: 0 is out of range (1..100)");
	EXPECT_STR(BASE "alerts = { transfer_limit = 0; };", "t.conf:2: alerts.transfer_limit: 0 is out of range (1..1000)");
	EXPECT_STR(BASE "webhooks = { max_retries = 101; };", "t.conf:2: webhooks.max_retries: 101 is out of range (0..100)");
	EXPECT_STR("database = { conninfo = \"x\"; batch_max = 0; };", "t.conf:1: database.batch_max: 0 is out of range (1..100000)");
	EXPECT_STR(BASE "log = { level = \"verbose\"; };",
		   "t.conf:2: log.level: unknown level 'verbose' (use emerg, alert, crit, err, warning, notice, info or debug)");
}

Test(errors, listen_misc)
{
	EXPECT_FILE(CONF("no_listeners.conf"),
		    "tests/unit/conf/no_listeners.conf:2: listen: tcp and unix are both disabled: nothing to listen on");
	EXPECT_STR(BASE "listen = { tokens = [ \"\" ]; };", "t.conf:2: listen.tokens.[0]: a token must be 1..256 bytes without control characters");
	EXPECT_STR(BASE "listen = { tokens = [ \"ok\", \"a\\tb\" ]; };",
		   "t.conf:2: listen.tokens.[1]: a token must be 1..256 bytes without control characters");
	EXPECT_STR(BASE "listen = { tls = { cert = \"c.pem\"; }; };", "t.conf:2: listen.tls: cert and key must be given together");
	EXPECT_STR(BASE "listen = { tls = { key = \"k.pem\"; cert = \"\"; }; };",
		   "t.conf:2: listen.tls: cert and key must be given together");
	EXPECT_STR(BASE "listen = { tls = { ca = \"ca.pem\"; }; };", "t.conf:2: listen.tls: ca needs cert and key");
	EXPECT_STR(BASE "webhooks = { urls = [ \"ftp://x\" ]; };",
		   "t.conf:2: webhooks.urls.[0]: bad URL 'ftp://x' (use http://host/path or https://host/path)");
	EXPECT_STR(BASE "webhooks = { urls = [ \"http://\" ]; };",
		   "t.conf:2: webhooks.urls.[0]: bad URL 'http://' (use http://host/path or https://host/path)");
	EXPECT_STR(BASE "webhooks = { urls = [ \"https://a b\" ]; };",
		   "t.conf:2: webhooks.urls.[0]: bad URL 'https://a b' (use http://host/path or https://host/path)");
}

Test(errors, policies)
{
	EXPECT_STR(BASE "sla = { policies = ( { name = \"x\"; resolution = \"1h\"; } ); };",
		   "t.conf:2: sla.policies.[0]: a policy needs category and/or priority to match on");
	EXPECT_STR(BASE "sla = { policies = ( { name = \"x\"; category = \"\"; } ); };",
		   "t.conf:2: sla.policies.[0].category: must not be empty (leave it out to match any)");
	EXPECT_STR(BASE "sla = { policies = ( { name = \"x\"; category = \"a\"; },\n { name = \"x\"; priority = \"b\"; } ); };",
		   "t.conf:3: sla.policies.[1].name: policy 'x' is defined twice");
	EXPECT_STR(BASE "sla = { policies = ( { category = \"a\"; },\n { category = \"a\"; } ); };",
		   "t.conf:3: sla.policies.[1]: policy 'a' is defined twice");
	EXPECT_STR(BASE "sla = { policies = ( { name = \"default\"; category = \"a\"; } ); };",
		   "t.conf:2: sla.policies.[0].name: the name 'default' is reserved for the sla = { } defaults");
	EXPECT_STR(BASE "sla = { policies = ( { name = \"\"; category = \"a\"; } ); };",
		   "t.conf:2: sla.policies.[0].name: must not be empty");
	EXPECT_STR(BASE "sla = { policies = ( { name = \"0123456789012345678901234567890123456789012345678901234567890123\";"
			" category = \"a\"; } ); };",
		   "t.conf:2: sla.policies.[0].name: too long (at most 63 bytes)");
	EXPECT_STR(BASE "sla = { policies = ( { category = \"a\"; warn_at = 2; } ); };",
		   "t.conf:2: sla.policies.[0].warn_at: 2 is out of range (0 <= warn_at < 1)");
	EXPECT_STR(BASE "sla = { policies = ( { category = \"a\"; priority = 5; } ); };",
		   "t.conf:2: sla.policies.[0].priority: expected a string, got an integer");
}

Test(errors, calendars)
{
	EXPECT_STR(BASE "calendars = ( { timezone = \"UTC\"; } );", "t.conf:0: calendars.[0].name: missing");
	EXPECT_STR(BASE "calendars = ( { name = \"\"; } );", "t.conf:2: calendars.[0].name: must not be empty");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; hours = { mon = \"9-5\"; }; } );",
		   "t.conf:2: calendars.[0].hours.mon: bad hours '9-5' (use \"09:00-12:00,13:30-17:30\" or \"\" for closed)");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; hours = { mon = \"17:00-09:00\"; }; } );",
		   "t.conf:2: calendars.[0].hours.mon: bad hours '17:00-09:00' (use \"09:00-12:00,13:30-17:30\" or \"\" for closed)");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; hours = { mon = \"09:00-17:00\"; };\n workday_hours = \"x\"; } );",
		   "t.conf:3: calendars.[0].workday_hours: bad hours 'x' (use \"09:00-12:00,13:30-17:30\" or \"\" for closed)");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; hours = { mon = \"09:00-17:00\"; };\n holidays = [ \"2026-02-30\" ]; } );",
		   "t.conf:3: calendars.[0].holidays.[0]: bad date '2026-02-30' (use \"2026-10-01\" or \"2026-10-01..2026-10-07\")");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; hours = { mon = \"09:00-17:00\"; };\n holidays = [ \"2026-10-07..2026-10-01\" ]; } );",
		   "t.conf:3: calendars.[0].holidays.[0]: bad date '2026-10-07..2026-10-01' (use \"2026-10-01\" or \"2026-10-01..2026-10-07\")");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; hours = { mon = \"09:00-17:00\"; };\n holidays = [ \"2026-01-01..2027-01-02\" ]; } );",
		   "t.conf:3: calendars.[0].holidays.[0]: range longer than 366 days");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; hours = { mon = \"09:00-17:00\"; };\n holidays = [ \"2026-10-01..2026-10-07\" ];\n"
			" workdays = [ \"2026-10-10\", \"2026-10-03\" ]; } );",
		   "t.conf:4: calendars.[0].workdays: 2026-10-03 is also a holiday");
	/* the reason after the colon is tz.c's */
	str_fail(BASE "calendars = ( { name = \"a\"; timezone = \"Mars/Olympus\"; hours = { mon = \"09:00-17:00\"; }; } );");
	cr_assert(strncmp(err, "t.conf:2: calendars.[0].timezone: unknown time zone 'Mars/Olympus': ", 68) == 0, "%s", err);
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; timezone = \"../../etc/passwd\"; } );",
		   "t.conf:2: calendars.[0].timezone: bad time zone name '../../etc/passwd' (use e.g. \"Asia/Shanghai\")");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; timezone = \"/etc/localtime\"; } );",
		   "t.conf:2: calendars.[0].timezone: bad time zone name '/etc/localtime' (use e.g. \"Asia/Shanghai\")");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; } );",
		   "t.conf:2: calendars.[0]: the calendar is never open (no hours on any day)");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; workdays = [ \"2026-10-10\" ]; } );",
		   "t.conf:2: calendars.[0]: the calendar is never open (no hours on any day)");
	EXPECT_STR(BASE "calendars = ( { name = \"a\"; hours = { sat = \"10:00-11:00\"; }; },\n { name = \"a\"; hours = { sat = \"10:00-11:00\"; }; } );",
		   "t.conf:3: calendars.[1].name: calendar 'a' is defined twice");
}

Test(errors, syntax)
{
	EXPECT_FILE(CONF("syntax.conf"), "tests/unit/conf/syntax.conf:4: syntax error");
	EXPECT_STR("a = 1;\nb = ;\n", "t.conf:2: syntax error");
	str_fail("database = { conninfo = \"x\"; };\ndatabase = { conninfo = \"y\"; };\n"); /* duplicate key */
	cr_assert(strncmp(err, "t.conf:2: ", 10) == 0, "%s", err);
}

Test(errors, files)
{
	EXPECT_FILE(CONF("does_not_exist.conf"),
		    "tests/unit/conf/does_not_exist.conf:0: cannot read the configuration: No such file or directory");
	EXPECT_FILE(CONF("inc"), "tests/unit/conf/inc:0: cannot read the configuration: Is a directory");
	EXPECT_FILE("", "(none):0: no configuration file given");
	EXPECT_FILE(CONF("include_bad.conf"),
		    "tests/unit/conf/inc/bad.conf:2: escalation.after: bad duration 'soon' (use 90s, 30m, 48h, 2d)");
	EXPECT_FILE(CONF("include_missing.conf"), "tests/unit/conf/include_missing.conf:2: cannot open include file");
}

Test(errors, small_buffer_and_null)
{
	struct hl_config cfg;
	char small[12];
	cr_assert_eq(hl_config_load_string("x = 1;", "t.conf", NULL, &cfg, small, sizeof small), -1);
	cr_assert_str_eq(small, "t.conf:1: x");
	cr_assert_eq(hl_config_load_string("x = 1;", "t.conf", NULL, &cfg, NULL, 0), -1);
	cr_assert_eq(hl_config_load(NULL, &cfg, NULL, 0), -1);
	cr_assert_eq(hl_config_load_string(NULL, NULL, NULL, &cfg, err, sizeof err), -1);
	cr_assert_str_eq(err, "(string):0: database.conninfo: missing");
}

/* ----------------------------------------------------------- policies */

Test(policies, matching_and_inheritance)
{
	struct hl_config cfg;
	cr_assert_eq(hl_config_load(CONF("policies.conf"), &cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg.n_policies, 4);
	const struct hl_policy *p;

	/* both given: both must match; the first match in file order wins */
	p = hl_config_policy(&cfg, "complaint", "urgent");
	cr_assert_str_eq(p->name, "urgent-complaint");
	cr_assert_eq(p->resolution_ms, 2LL * 3600 * 1000);
	cr_assert_eq(p->callback_ms, 30 * 60 * 1000); /* inherited */
	cr_assert_eq(p->update_ms, 24LL * 3600 * 1000);
	cr_assert_float_eq(p->warn_at, 0.5, 1e-9);
	cr_assert_str_eq(p->calendar, "office");

	p = hl_config_policy(&cfg, "complaint", NULL);
	cr_assert_str_eq(p->name, "complaint");
	cr_assert_eq(p->callback_ms, 600 * 1000); /* integer seconds */
	cr_assert_eq(p->resolution_ms, 48LL * 3600 * 1000);
	cr_assert_str_eq(p->calendar, ""); /* "" overrides the inherited calendar */
	cr_assert_str_eq(hl_config_policy(&cfg, "complaint", "low")->name, "complaint");

	p = hl_config_policy(&cfg, "billing", "urgent");
	cr_assert_str_eq(p->name, "urgent"); /* named after what it matches */
	cr_assert_eq(p->resolution_ms, 4LL * 3600 * 1000);
	cr_assert_float_eq(p->warn_at, 0.0, 1e-12);
	cr_assert_str_eq(p->calendar, "office");
	cr_assert_str_eq(hl_config_policy(&cfg, NULL, "urgent")->name, "urgent");

	p = hl_config_policy(&cfg, "info", "low");
	cr_assert_str_eq(p->name, "info/low");
	cr_assert_eq(p->survey_ms, 2LL * 86400 * 1000);
	cr_assert_str_eq(p->calendar, "always");
	cr_assert_eq(hl_config_policy(&cfg, "info", NULL), &cfg.sla); /* priority required */
	cr_assert_eq(hl_config_policy(&cfg, "info", "high"), &cfg.sla);
	cr_assert_eq(hl_config_policy(&cfg, NULL, NULL), &cfg.sla);
	cr_assert_eq(hl_config_policy(&cfg, "Complaint", NULL), &cfg.sla); /* exact match */

	cr_assert_eq(hl_config_policy_by_name(&cfg, "complaint"), &cfg.policies[1]);
	cr_assert_eq(hl_config_policy_by_name(&cfg, "default"), &cfg.sla);
	cr_assert_eq(hl_config_policy_by_name(&cfg, ""), &cfg.sla);
	cr_assert_null(hl_config_policy_by_name(&cfg, "gone"));
	hl_config_free(&cfg);
}

/* ---------------------------------------------------------- calendars */

/* Seconds east of UTC is in tz.c; a real zone gives +8 h for Shanghai. */
Test(calendars, loaded_with_real_zone)
{
	struct hl_config cfg;
	cr_assert_eq(hl_config_load(CONF("policies.conf"), &cfg, err, sizeof err), 0, "%s", err);
	cr_assert_eq(cfg.n_calendars, 2);
	const struct hl_calendar *c = hl_config_calendar(&cfg, "office");
	cr_assert_not_null(c);
	cr_assert_str_eq(c->zone_name, "Asia/Shanghai");
	cr_assert_not_null(c->zone);
	cr_assert_eq(hl_zone_offset(c->zone, 1790000000), 8 * 3600);
	/* hours: Monday split, the other weekdays whole, weekend closed */
	cr_assert_eq(c->week[1].n, 2);
	cr_assert_eq(c->week[1].iv[0].open_min, 9 * 60);
	cr_assert_eq(c->week[1].iv[0].close_min, 12 * 60);
	cr_assert_eq(c->week[1].iv[1].open_min, 13 * 60);
	cr_assert_eq(c->week[1].iv[1].close_min, 17 * 60);
	cr_assert_eq(c->week[2].n, 1);
	cr_assert_eq(c->week[5].iv[0].close_min, 17 * 60);
	cr_assert_eq(c->week[6].n, 0); /* sat = "" */
	cr_assert_eq(c->week[0].n, 0); /* sun missing */
	/* holidays: a range plus a duplicate plus a later day, sorted and unique */
	cr_assert_eq(c->n_holidays, 8);
	int32_t oct1 = hl_days_from_civil(2026, 10, 1);
	for (int i = 0; i < 7; i++)
		cr_assert_eq(c->holidays[i], oct1 + i);
	cr_assert_eq(c->holidays[7], hl_days_from_civil(2027, 1, 1));
	cr_assert_eq(c->n_workdays, 2);
	cr_assert_eq(c->workdays[0], hl_days_from_civil(2026, 9, 27));
	cr_assert_eq(c->workdays[1], hl_days_from_civil(2026, 10, 10));
	/* workday_hours defaults to Monday's */
	cr_assert_eq(c->workday_hours.n, 2);
	cr_assert_eq(c->workday_hours.iv[1].close_min, 17 * 60);

	const struct hl_calendar *a = hl_config_calendar(&cfg, "always");
	cr_assert_not_null(a);
	cr_assert_str_eq(a->zone_name, "UTC"); /* default zone */
	cr_assert_eq(hl_zone_offset(a->zone, 1790000000), 0);
	cr_assert_eq(a->week[3].iv[0].close_min, 1440);
	cr_assert_eq(a->workday_hours.iv[0].open_min, 8 * 60);
	cr_assert_eq(a->n_holidays, 0);
	cr_assert_null(a->holidays);

	cr_assert_null(hl_config_calendar(&cfg, ""));
	cr_assert_null(hl_config_calendar(&cfg, NULL));
	cr_assert_null(hl_config_calendar(&cfg, "offic"));
	hl_config_free(&cfg);
}

/* ------------------------------------------------------------ helpers */

Test(helpers, split_hostport)
{
	char host[64];
	int port = 0;
	cr_assert_eq(hl_config_split_hostport("127.0.0.1:7370", host, sizeof host, &port), 0);
	cr_assert_str_eq(host, "127.0.0.1");
	cr_assert_eq(port, 7370);
	cr_assert_eq(hl_config_split_hostport("[::1]:1", host, sizeof host, &port), 0);
	cr_assert_str_eq(host, "::1");
	cr_assert_eq(port, 1);
	cr_assert_eq(hl_config_split_hostport("[fe80::1%eth0]:80", host, sizeof host, &port), 0);
	cr_assert_str_eq(host, "fe80::1%eth0");
	cr_assert_eq(hl_config_split_hostport("my-host.example:65535", host, sizeof host, &port), 0);
	cr_assert_eq(port, 65535);
	cr_assert_eq(hl_config_split_hostport("localhost:080", host, sizeof host, &port), 0);
	cr_assert_eq(port, 80);
	cr_assert_eq(hl_config_split_hostport("a:65536", host, sizeof host, &port), -1);
	cr_assert_eq(hl_config_split_hostport("a:-1", host, sizeof host, &port), -1);
	cr_assert_eq(hl_config_split_hostport("", host, sizeof host, &port), -1);
	cr_assert_eq(hl_config_split_hostport("abcdef:1", host, 4, &port), -1); /* host buffer too small */
}

Test(helpers, levels)
{
	cr_assert_str_eq(hl_config_level_name(0), "emerg");
	cr_assert_str_eq(hl_config_level_name(7), "debug");
	cr_assert_null(hl_config_level_name(8));
	cr_assert_null(hl_config_level_name(-1));
	cr_assert_eq(hl_config_level_from_name("err"), 3);
	cr_assert_eq(hl_config_level_from_name("error"), 3);
	cr_assert_eq(hl_config_level_from_name("notice"), 5);
	cr_assert_eq(hl_config_level_from_name("INFO"), -1);
	cr_assert_eq(hl_config_level_from_name(NULL), -1);
}

Test(helpers, restart_key)
{
	struct hl_config a, b;
	cr_assert_eq(hl_config_load("conf/hotlined.conf", &a, err, sizeof err), 0, "%s", err);
	cr_assert_eq(hl_config_load("conf/hotlined.conf", &b, err, sizeof err), 0, "%s", err);
	cr_assert_null(hl_config_restart_key(&a, &b));
	b.sla.callback_ms = 1; /* reloadable */
	b.log.level = 7;
	cr_assert_null(hl_config_restart_key(&a, &b));
	free(b.listen.tcp);
	b.listen.tcp = NULL;
	cr_assert_str_eq(hl_config_restart_key(&a, &b), "listen.tcp");
	hl_config_free(&b);
	str_ok("database = { conninfo = \"dbname=hotline user=hotlined\"; batch_max = 5; };", &b);
	cr_assert_str_eq(hl_config_restart_key(&a, &b), "database.batch_max");
	hl_config_free(&b);
	str_ok("database = { conninfo = \"dbname=other\"; };", &b);
	cr_assert_str_eq(hl_config_restart_key(&a, &b), "database.conninfo");
	hl_config_free(&b);
	str_ok("database = { conninfo = \"dbname=hotline user=hotlined\"; }; listen = { tokens = [ \"t\" ]; };", &b);
	cr_assert_str_eq(hl_config_restart_key(&a, &b), "listen.tokens");
	hl_config_free(&b);
	str_ok("database = { conninfo = \"dbname=hotline user=hotlined\"; }; http = { listen = \"127.0.0.1:9370\"; };", &b);
	cr_assert_str_eq(hl_config_restart_key(&a, &b), "http.listen");
	hl_config_free(&b);
	hl_config_free(&a);
}

/* A failed load leaves the caller's config as it was (SIGHUP keeps the old one). */
Test(reload, failed_load_keeps_old)
{
	struct hl_config cfg;
	cr_assert_eq(hl_config_load(CONF("minimal.conf"), &cfg, err, sizeof err), 0, "%s", err);
	char *conninfo = cfg.database.conninfo;
	cr_assert_eq(hl_config_load(CONF("bad_duration.conf"), &cfg, err, sizeof err), -1);
	cr_assert_eq(cfg.database.conninfo, conninfo);
	cr_assert_str_eq(cfg.database.conninfo, "dbname=hotline_test");
	/* errors late in the walk, after lists were allocated, free them */
	cr_assert_eq(hl_config_load_string(BASE "listen = { tokens = [ \"a\", \"b\" ]; };\n"
					   "calendars = ( { name = \"c\"; hours = { mon = \"09:00-10:00\"; };"
					   " holidays = [ \"2026-01-01\" ]; } );\n"
					   "sla = { policies = ( { category = \"a\"; }, { priority = \"p\"; } ); };\n"
					   "webhooks = { urls = [ \"http://x\" ]; };\n"
					   "http = { listen = \"nope\"; };",
					   "t.conf", NULL, &cfg, err, sizeof err),
		     -1);
	cr_assert_str_eq(err, "t.conf:6: http.listen: bad address 'nope' (use host:port, e.g. 127.0.0.1:7370 or [::1]:7370)");
	cr_assert_eq(hl_config_load_string(BASE "calendars = ( { name = \"c\"; hours = { mon = \"09:00-10:00\"; };"
					   " holidays = [ \"2026-01-01\" ]; },\n { name = \"d\"; timezone = \"Nowhere/X\"; } );",
					   "t.conf", NULL, &cfg, err, sizeof err),
		     -1);
	cr_assert_eq(hl_config_load_string(BASE "sla = { policies = ( { category = \"a\"; priority = \"b\"; },"
					   " { category = \"c\"; calendar = \"x\"; } ); };",
					   "t.conf", NULL, &cfg, err, sizeof err),
		     -1);
	cr_assert_str_eq(err, "t.conf:2: sla.policies.[1].calendar: unknown calendar 'x'");
	cr_assert_eq(cfg.database.conninfo, conninfo);
	hl_config_free(&cfg);
}

/* Issue 16, item 11: the phone plan. */
Test(phone, keys_default_and_errors)
{
	struct hl_config cfg;
	str_ok(BASE, &cfg);
	cr_assert_str_eq(cfg.phone.country_code, "", "default: no country");
	hl_config_free(&cfg);
	str_ok(BASE "phone = { country_code = \"1\"; trunk_prefix = \"1\"; international_prefix = \"011\"; };", &cfg);
	cr_assert_str_eq(cfg.phone.country_code, "1");
	cr_assert_str_eq(cfg.phone.trunk_prefix, "1");
	cr_assert_str_eq(cfg.phone.international_prefix, "011");
	hl_config_free(&cfg);
	EXPECT_STR(BASE "phone = { country_code = \"+86\"; };",
		   "t.conf:2: phone.country_code: must be a string of at most 3 digits");
	EXPECT_STR(BASE "phone = { country_code = \"8612\"; };",
		   "t.conf:2: phone.country_code: must be a string of at most 3 digits");
	EXPECT_STR(BASE "phone = { country_code = \"086\"; };",
		   "t.conf:2: phone.country_code: a country calling code does not start with 0");
	EXPECT_STR(BASE "phone = { trunk_prefix = \"00\"; international_prefix = \"00\"; };",
		   "t.conf:2: phone.trunk_prefix: must differ from international_prefix");
	EXPECT_STR(BASE "phone = { country_code = 86; };", "t.conf:2: phone.country_code: expected a string, got an integer");
	EXPECT_STR(BASE "phone = { area = \"10\"; };", "t.conf:2: phone.area: unknown key");
}

/* ------------------------------------------------------------ cluster */

Test(cluster, defaults_values_and_errors)
{
	struct hl_config cfg;
	str_ok("database = { conninfo = \"dbname=hotline\"; };", &cfg);
	cr_assert_eq(cfg.cluster.takeover_ms, 5000);
	cr_assert_eq(cfg.cluster.slots, 64);
	cr_assert_null(cfg.cluster.name);
	hl_config_free(&cfg);
	str_ok("database = { conninfo = \"dbname=hotline\"; };\n"
	       "cluster = { takeover = \"2s\"; slots = 256; name = \"hotline-a.1\"; };", &cfg);
	cr_assert_eq(cfg.cluster.takeover_ms, 2000);
	cr_assert_eq(cfg.cluster.slots, 256);
	cr_assert_str_eq(cfg.cluster.name, "hotline-a.1");
	struct hl_config other;
	str_ok("database = { conninfo = \"dbname=hotline\"; };\ncluster = { slots = 64; name = \"hotline-a.1\"; takeover = \"2s\"; };",
	       &other);
	cr_assert_str_eq(hl_config_restart_key(&cfg, &other), "cluster.slots");
	hl_config_free(&other);
	hl_config_free(&cfg);
	EXPECT_STR("database = { conninfo = \"x\"; };\ncluster = { name = \"a b\"; };",
		   "t.conf:2: cluster.name: bad name 'a b' (1 to 40 letters, digits, '-', '_' or '.')");
	EXPECT_STR("database = { conninfo = \"x\"; };\ncluster = { slots = 0; };",
		   "t.conf:2: cluster.slots: 0 is out of range (1..4096)");
	EXPECT_STR("database = { conninfo = \"x\"; };\ncluster = { peers = 2; };", "t.conf:2: cluster.peers: unknown key");
}

/* ------------------------------------------------- per-webhook options */

Test(webhooks, format_signing_and_auth_per_url)
{
	struct hl_config cfg;
	str_ok(BASE "webhooks = { urls = ( \"http://a.example/x\",\n"
		    "  { url = \"https://b.example/y\"; format = \"alertmanager\"; secret = \"s\"; bearer = \"t\";\n"
		    "    headers = [ \"X-Team: ops\", \"X-Env:prod\" ]; },\n"
		    "  { url = \"https://events.pagerduty.com/v2/enqueue\"; format = \"pagerduty\"; routing_key = \"R\"; } ); };",
	       &cfg);
	cr_assert_eq(cfg.webhooks.n_urls, 3);
	cr_assert_eq(cfg.webhooks.opts[0].format, HL_WH_HOTLINE);
	cr_assert_null(cfg.webhooks.opts[0].secret);
	cr_assert_eq(cfg.webhooks.opts[1].format, HL_WH_ALERTMANAGER);
	cr_assert_str_eq(cfg.webhooks.opts[1].secret, "s");
	cr_assert_str_eq(cfg.webhooks.opts[1].bearer, "t");
	cr_assert_eq(cfg.webhooks.opts[1].n_headers, 2);
	cr_assert_str_eq(cfg.webhooks.opts[1].headers[1], "X-Env:prod");
	cr_assert_eq(cfg.webhooks.opts[2].format, HL_WH_PAGERDUTY);
	cr_assert_str_eq(cfg.webhooks.opts[2].routing_key, "R");
	cr_assert_str_eq(hl_webhook_format_name(HL_WH_PAGERDUTY), "pagerduty");
	hl_config_free(&cfg);
}

Test(webhooks, bad_options_named)
{
	EXPECT_STR(BASE "webhooks = { urls = ( { url = \"http://a/x\"; format = \"slack\"; } ); };",
		   "t.conf:2: webhooks.urls.[0].format: unknown format 'slack' (hotline, alertmanager or pagerduty)");
	cr_assert(strstr(str_fail(BASE "webhooks = { urls = ( { url = \"http://a/x\"; format = \"pagerduty\"; } ); };"),
			 "routing_key: missing"), "%s", err);
	cr_assert(strstr(str_fail(BASE "webhooks = { urls = ( { url = \"http://a/x\"; headers = [ \"no colon\" ]; } ); };"),
			 "bad header 'no colon'"), "%s", err);
	cr_assert(strstr(str_fail(BASE "webhooks = { urls = ( { url = \"http://a/x\"; secret = \"\"; } ); };"), "empty"),
		  "%s", err);
	cr_assert(strstr(str_fail(BASE "webhooks = { urls = ( { url = \"http://a/x\"; bearer = 5; } ); };"), "bearer"),
		  "%s", err);
}

/* The restart check walks the table: each restart-only row by its full name, reloadable rows never. */
Test(reload, restart_key_from_the_table)
{
	static const struct {
		const char *text, *key;
	} cases[] = {
		{"listen = { tls = { cert = \"/c.pem\"; key = \"/k.pem\"; }; };", "listen.tls.cert"},
		{"listen = { tls = { cert = \"/c.pem\"; key = \"/k.pem\"; }; }; http = { tls = true; };", "listen.tls.cert"},
		{"listen = { unix_supervisor_mode = \"0600\"; };", "listen.unix_supervisor_mode"},
		{"listen = { idle_timeout = \"6m\"; };", "listen.idle_timeout"},
		{"http = { max_body = 2048; };", "http.max_body"},
		{"http = { listen = \"127.0.0.1:9370\"; tokens = ( { token = \"t\"; name = \"n\"; role = \"viewer\"; } ); };",
		 "http.listen"},
		{"dns = { nameserver = \"127.0.0.1:53\"; };", "dns.nameserver"},
		{"cluster = { takeover = \"6s\"; };", "cluster.takeover"},
		{"cluster = { name = \"a\"; };", "cluster.name"},
		{"sla = { warn_at = 0.5; }; escalation = { max_level = 5; }; log = { level = \"debug\"; };", NULL},
		{"webhooks = { urls = [ \"http://a/x\" ]; max_pending = 5; }; phone = { country_code = \"44\"; };", NULL},
	};
	struct hl_config a, b;
	str_ok(BASE, &a);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[512];
		snprintf(text, sizeof text, BASE "%s", cases[i].text);
		str_ok(text, &b);
		const char *key = hl_config_restart_key(&a, &b);
		if (cases[i].key)
			cr_expect(key && strcmp(key, cases[i].key) == 0, "%s: %s, want %s", cases[i].text, key ? key : "(none)",
				  cases[i].key);
		else
			cr_expect_null(key, "%s: %s", cases[i].text, key);
		hl_config_free(&b);
	}
	hl_config_free(&a);
}

/* A policy's clocks are read by the rows that read sla's: same bounds, same messages. */
Test(policies, clocks_read_like_sla)
{
	EXPECT_STR(BASE "sla = { policies = ( { category = \"a\"; survey = \"400d\"; } ); };",
		   "t.conf:2: sla.policies.[0].survey: 400d is out of range (0..365d)");
	EXPECT_STR(BASE "sla = { policies = ( { category = \"a\"; calendar = 5; } ); };",
		   "t.conf:2: sla.policies.[0].calendar: expected a string, got an integer");
	EXPECT_STR(BASE "http = { tls = 1; };", "t.conf:2: http.tls: expected a boolean, got an integer");
	EXPECT_STR(BASE "listen = { unix_supervisor_mode = \"0999\"; };",
		   "t.conf:2: listen.unix_supervisor_mode: bad mode '0999' (use an octal string such as \"0660\")");
}
