/*
 * test_people.c - the pure pieces of "time for people" and socket roles:
 * rendering an instant in a zone with its offset (timefmt.c), which request
 * each socket role may make (roles.c), and the configuration that feeds them
 * (report.timezone, tokens as { token; name; role; }, config_people.c).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "config.h"
#include "roles.h"
#include "timefmt.h"
#include "../../daemon/rules_internal.h"

#define NOW INT64_C(1795137300000) /* 2026-11-20T01:15:00Z */

static char err[1024];

static struct hl_zone *zone(const char *name)
{
	struct hl_zone *z = hl_zone_load(name, err, sizeof err);
	cr_assert_not_null(z, "%s: %s", name, err);
	return z;
}

Test(timefmt, utc_and_east)
{
	char b[HL_LOCAL_TIME_LEN];
	cr_assert_str_eq(hl_time_local(NOW, NULL, b, sizeof b), "2026-11-20 01:15:00 +00:00");
	struct hl_zone *z = zone("Asia/Shanghai");
	cr_assert_str_eq(hl_time_local(NOW, z, b, sizeof b), "2026-11-20 09:15:00 +08:00");
	cr_assert_str_eq(hl_time_local(NOW + 999, z, b, sizeof b), "2026-11-20 09:15:00 +08:00", "seconds are floored");
	/* a local day that is another UTC day */
	cr_assert_str_eq(hl_time_local(NOW - 2 * 3600000, z, b, sizeof b), "2026-11-20 07:15:00 +08:00");
	cr_assert_str_eq(hl_time_local(INT64_C(1795108500000), z, b, sizeof b), "2026-11-20 01:15:00 +08:00");
	hl_zone_free(z);
}

Test(timefmt, west_half_hour_and_dst)
{
	char b[HL_LOCAL_TIME_LEN];
	struct hl_zone *ny = zone("America/New_York"), *in = zone("Asia/Kolkata");
	cr_assert_str_eq(hl_time_local(NOW, ny, b, sizeof b), "2026-11-19 20:15:00 -05:00");
	cr_assert_str_eq(hl_time_local(NOW, in, b, sizeof b), "2026-11-20 06:45:00 +05:30");
	/* 2026-03-08T07:00:00Z is 03:00 EDT, the first instant of daylight time */
	cr_assert_str_eq(hl_time_local(INT64_C(1772953200000), ny, b, sizeof b), "2026-03-08 03:00:00 -04:00");
	cr_assert_str_eq(hl_time_local(INT64_C(1772953199000), ny, b, sizeof b), "2026-03-08 01:59:59 -05:00");
	hl_zone_free(ny);
	hl_zone_free(in);
}

Test(timefmt, wire_text)
{
	char b[64];
	struct hl_zone *z = zone("Asia/Shanghai");
	cr_assert_str_eq(hl_time_text_local("2026-11-20T01:15:00.000Z", z, b, sizeof b), "2026-11-20 09:15:00 +08:00");
	cr_assert_str_eq(hl_time_text_local("not a time", z, b, sizeof b), "not a time", "shown as it came");
	hl_zone_free(z);
}

Test(roles, what_each_may_do)
{
	const char *events[] = {"call.offered", "case.resolve", "order.dispatch", "case.merge"};
	for (size_t i = 0; i < 4; i++) {
		cr_assert(hl_sock_role_allows(HL_SR_INGEST, events[i]));
		cr_assert(!hl_sock_role_allows(HL_SR_VIEWER, events[i]));
		cr_assert(!hl_sock_role_allows(HL_SR_SUPERVISOR, events[i]));
		cr_assert(hl_sock_role_allows(HL_SR_FULL, events[i]));
	}
	const char *looking[] = {"ping", "case.get", "subscribe", "stats", "auth"};
	for (size_t i = 0; i < 5; i++) {
		cr_assert(hl_sock_role_allows(HL_SR_VIEWER, looking[i]), "%s", looking[i]);
		cr_assert(hl_sock_role_allows(HL_SR_SUPERVISOR, looking[i]), "%s", looking[i]);
	}
	cr_assert(hl_sock_role_allows(HL_SR_INGEST, "ping"));
	cr_assert(!hl_sock_role_allows(HL_SR_INGEST, "case.get"));
	cr_assert(!hl_sock_role_allows(HL_SR_INGEST, "subscribe"));
	cr_assert(!hl_sock_role_allows(HL_SR_INGEST, "alert.ack"));
	cr_assert(!hl_sock_role_allows(HL_SR_VIEWER, "alert.ack"));
	cr_assert(hl_sock_role_allows(HL_SR_SUPERVISOR, "alert.ack"));
	cr_assert(hl_sock_role_allows(HL_SR_FULL, "alert.ack"));
	cr_assert(!hl_sock_role_allows(HL_SR_VIEWER, NULL));
	cr_assert_eq(hl_sock_role_from_name("supervisor"), HL_SR_SUPERVISOR);
	cr_assert_eq(hl_sock_role_from_name("admin"), -1);
}

static void load_ok(const char *text, struct hl_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cr_assert_eq(hl_config_load_string(text, "t.conf", NULL, cfg, err, sizeof err), 0, "%s -> %s", text, err);
}

static const char *load_fail(const char *text)
{
	struct hl_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cr_assert_neq(hl_config_load_string(text, "t.conf", NULL, &cfg, err, sizeof err), 0, "%s loaded", text);
	return err;
}

#define DB "database = { conninfo = \"dbname=x\"; };\n"
#define CAL "calendars = ( { name = \"office\"; timezone = \"Asia/Shanghai\"; hours = { mon = \"09:00-17:00\"; }; } );\n"

Test(config_people, report_timezone_defaults)
{
	struct hl_config cfg;
	load_ok(DB, &cfg);
	cr_assert_str_eq(cfg.report.timezone, "UTC");
	hl_config_free(&cfg);
	load_ok(DB CAL, &cfg);
	cr_assert_str_eq(cfg.report.timezone, "Asia/Shanghai", "the first calendar's zone");
	hl_config_free(&cfg);
	load_ok(DB CAL "report = { timezone = \"Europe/Paris\"; };", &cfg);
	cr_assert_str_eq(cfg.report.timezone, "Europe/Paris");
	hl_config_free(&cfg);
	cr_assert(strstr(load_fail(DB "report = { timezone = \"Mars/Olympus\"; };"), "report.timezone"), "%s", err);
	cr_assert(strstr(load_fail(DB "report = { timezone = \"../etc/passwd\"; };"), "not a time zone"), "%s", err);
	cr_assert(strstr(load_fail(DB "report = { zone = \"UTC\"; };"), "report.zone"), "%s", err);
}

Test(config_people, tokens_with_names_and_roles)
{
	struct hl_config cfg;
	load_ok(DB "listen = { tokens = ( \"plain\", { token = \"s3cret\"; name = \"lin\"; role = \"supervisor\"; },"
	           " { token = \"w\"; role = \"viewer\"; } ); unix_supervisor = \"/run/x/sup.sock\"; };", &cfg);
	cr_assert_eq(cfg.listen.n_tokens, 3);
	cr_assert_str_eq(cfg.listen.tokens[0], "plain");
	cr_assert_eq(cfg.access.token_roles[0], HL_SR_FULL);
	cr_assert_null(cfg.access.token_names[0]);
	cr_assert_str_eq(cfg.listen.tokens[1], "s3cret");
	cr_assert_str_eq(cfg.access.token_names[1], "lin");
	cr_assert_eq(cfg.access.token_roles[1], HL_SR_SUPERVISOR);
	cr_assert_eq(cfg.access.token_roles[2], HL_SR_VIEWER);
	cr_assert_str_eq(cfg.access.unix_supervisor, "/run/x/sup.sock");
	cr_assert_eq(cfg.access.unix_supervisor_mode, 0660);
	hl_config_free(&cfg);
	cr_assert(strstr(load_fail(DB "listen = { tokens = ( { token = \"a\"; role = \"boss\"; } ); };"), "unknown role"),
	          "%s", err);
	cr_assert(strstr(load_fail(DB "listen = { tokens = ( { token = \"a\"; } ); };"), "role: missing"), "%s", err);
	cr_assert(strstr(load_fail(DB "listen = { tokens = ( { name = \"a\"; role = \"viewer\"; } ); };"), "token: missing"),
	          "%s", err);
	cr_assert(strstr(load_fail(DB "listen = { tokens = ( { token = \"a\"; role = \"viewer\"; pw = 1; } ); };"),
	                 "unknown key"), "%s", err);
	cr_assert(strstr(load_fail(DB "listen = { tokens = [ \"\" ]; };"), "1..256"), "%s", err);
}

/* Texts stored for people say times relative to the event (rules.c). */
Test(texts, relative_times)
{
	char b[64];
	cr_assert_str_eq(hl_rules_rel_time(NOW, NOW, b, sizeof b), "now");
	cr_assert_str_eq(hl_rules_rel_time(NOW, NOW + 7, b, sizeof b), "now", "a timer a few ms late");
	cr_assert_str_eq(hl_rules_rel_time(NOW, NOW - 7, b, sizeof b), "now");
	cr_assert_str_eq(hl_rules_rel_time(NOW, NOW + 59990, b, sizeof b), "in 1m", "rounded to whole seconds");
	cr_assert_str_eq(hl_rules_rel_time(NOW, NOW + 30 * 60000, b, sizeof b), "in 30m");
	cr_assert_str_eq(hl_rules_rel_time(NOW, NOW + 90000, b, sizeof b), "in 1m30s");
	cr_assert_str_eq(hl_rules_rel_time(NOW, NOW - 12 * 60000, b, sizeof b), "12m ago");
	/* two adjacent units at most */
	int64_t ms = ((12 * 24 + 4) * 60 + 21) * 60000LL + 43345;
	cr_assert_str_eq(hl_rules_rel_time(NOW, NOW + ms, b, sizeof b), "in 12d4h");
	cr_assert_str_eq(hl_rules_rough_dur(2 * 86400000LL + 300, b, sizeof b), "2d");
	cr_assert_str_eq(hl_rules_rough_dur(300, b, sizeof b), "300ms");
	cr_assert_str_eq(hl_rules_rough_dur(3 * 3600000LL + 60000 + 5000, b, sizeof b), "3h1m");
}

Test(config_people, reload_cannot_change_roles_or_zone)
{
	struct hl_config a, b;
	load_ok(DB "listen = { tokens = ( { token = \"t\"; name = \"lin\"; role = \"viewer\"; } ); };", &a);
	load_ok(DB "listen = { tokens = ( { token = \"t\"; name = \"lin\"; role = \"supervisor\"; } ); };", &b);
	cr_assert_str_eq(hl_config_restart_key(&a, &b), "listen.tokens");
	hl_config_free(&b);
	load_ok(DB "listen = { tokens = ( { token = \"t\"; name = \"lin\"; role = \"viewer\"; } ); };"
	           "report = { timezone = \"Asia/Tokyo\"; };", &b);
	cr_assert_str_eq(hl_config_restart_key(&a, &b), "report.timezone");
	hl_config_free(&b);
	load_ok(DB "listen = { tokens = ( { token = \"t\"; name = \"lin\"; role = \"viewer\"; } );"
	           " unix_supervisor = \"/tmp/s.sock\"; };", &b);
	cr_assert_str_eq(hl_config_restart_key(&a, &b), "listen.unix_supervisor");
	hl_config_free(&b);
	load_ok(DB "listen = { tokens = ( { token = \"t\"; name = \"lin\"; role = \"viewer\"; } ); };", &b);
	cr_assert_null(hl_config_restart_key(&a, &b));
	hl_config_free(&b);
	hl_config_free(&a);
}
