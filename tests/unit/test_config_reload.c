/*
 * test_config_reload.c - unit tests for what SIGHUP relies on in
 * daemon/config.c: a failed load leaves the caller's config as it was (so
 * the daemon keeps the old one), and hl_config_restart_key names the first
 * changed key that only a restart applies, walking the key table, while
 * reloadable keys never need one.
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

/* ------------------------------------------------------------- reload */

/* Every restart-only key that differs, in table order (the reload's warning
 * named only the first). */
Test(helpers, restart_keys_names_them_all)
{
	struct hl_config a, b;
	char buf[200];
	cr_assert_eq(hl_config_load("conf/hotlined.conf", &a, err, sizeof err), 0, "%s", err);
	cr_assert_eq(hl_config_load("conf/hotlined.conf", &b, err, sizeof err), 0, "%s", err);
	cr_assert_eq(hl_config_restart_keys(&a, &b, buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "");
	b.listen.max_line = 1024;
	b.cluster.slots = a.cluster.slots + 1;
	b.sla.callback_ms = 1; /* reloadable: not named */
	cr_assert_eq(hl_config_restart_keys(&a, &b, buf, sizeof buf), 2);
	cr_assert_str_eq(buf, "listen.max_line, cluster.slots");
	/* what does not fit is left out, never cut in half */
	cr_assert_eq(hl_config_restart_keys(&a, &b, buf, 20), 2);
	cr_assert_str_eq(buf, "listen.max_line");
	hl_config_free(&a);
	hl_config_free(&b);
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
