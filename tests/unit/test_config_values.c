/*
 * test_config_values.c - unit tests for daemon/config.c on configurations
 * that load: the shipped example conf/hotlined.conf, the defaults of absent
 * keys and empty groups, every key set (limits inclusive, includes relative
 * to the file), policies (matching, inheritance, their clocks read like
 * sla's), calendars on a real zone, the host:port and log level helpers,
 * and the later sections (phone, cluster, per-webhook options) with their
 * errors beside their values.
 *
 * The config tests: test_config_values.c (what loads), test_config_errors.c
 * (what is refused), test_config_reload.c (what a reload keeps or needs a
 * restart for); the helpers are config_fixtures.h.  (The key table itself:
 * test_config_table.c.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config_fixtures.h"

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
	cr_assert_eq(cfg.http.max_connections, 4096);
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
	       "http = { listen = \"0.0.0.0:9370\"; max_body = 2048; max_connections = 3; tls = true;\n"
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
	cr_assert_eq(cfg.http.max_connections, 3);
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
