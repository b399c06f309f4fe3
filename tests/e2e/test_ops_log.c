/*
 * test_ops_log.c - end-to-end tests of the daemon's log (suite `ops`; the
 * other parts are in test_ops_cli.c, test_ops_reload.c and test_ops_metrics.c).
 *
 * What an administrator relies on (docs/operations.md): every line starts
 * with a syslog priority "<N>" that journald reads, a caller's number never
 * appears in full (not in events, errors, duplicates or alerts, even at
 * log.level = debug), and log.level is honoured.
 *
 * Design.  The daemon is stopped before its log is read, so that the log
 * holds everything it wrote; the helpers are in ops_helpers.h.
 */
#include "ops_helpers.h"

/* A caller number that must never appear in full in a log. */
#define SECRET_CALLER "+86 139-1234-5678"
#define SECRET_DIGITS "13912345678"

TestSuite(ops, .init = ops_init, .fini = ops_fini, .timeout = 90);

/* ================================================================== logs */

HL_TEST(ops, log_has_priorities_and_no_full_phone_numbers)
{
	struct hl_e2e_opts o = {
		.sla = "callback = \"1s\"; warn_at = 0.5;",
		.repeat_caller = "threshold = 2;",
		.escalation = "after = \"1s\";",
		.top = "log = { level = \"debug\"; };",
	};
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	struct hl_conn *sub = hl_conn_unix(d);
	expect_ok(hl_request(sub, "{\"type\":\"subscribe\",\"id\":\"sub\"}"));

	/* the caller in several spellings, on events, errors and alerts */
	json_object *r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"o1\",\"call_id\":\"k1\","
	                                "\"caller\":\"%s\",\"at\":\"%s\"}", SECRET_CALLER, hl_iso_in(-3));
	expect_ok(r);
	int64_t case_id = hl_jint(r, "case_id");
	expect_ok(hl_requestf(c, "{\"type\":\"call.abandoned\",\"id\":\"a1\",\"call_id\":\"k1\",\"at\":\"%s\"}",
	                      hl_iso_in(-2)));
	expect_ok(hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"o2\",\"call_id\":\"k2\","
	                         "\"caller\":\"+86%s\",\"at\":\"%s\"}", SECRET_DIGITS, hl_iso_in(-1)));
	expect_ok(hl_requestf(c, "{\"type\":\"voicemail.left\",\"id\":\"v1\",\"call_id\":\"k3\","
	                         "\"caller\":\"0086-%s\"}", SECRET_DIGITS));
	/* errors that carry the number */
	r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"bad1\",\"call_id\":\"k4\",\"caller\":\"+86%sabc\"}",
	                SECRET_DIGITS);
	cr_assert(!hl_jbool(r, "ok"));
	r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"o1\",\"call_id\":\"k1\",\"caller\":\"%s\"}",
	                SECRET_CALLER);
	cr_assert(hl_jbool(r, "duplicate"), "expected a duplicate: %s", json_object_to_json_string(r));
	hl_send(c, "{\"type\":\"call.offered\",\"caller\":\"+8613912345678\" broken");
	r = hl_recv_json(c, HL_TIMEOUT_MS);
	cr_assert(r && !hl_jbool(r, "ok"));
	expect_ok(hl_requestf(c, "{\"type\":\"case.get\",\"id\":\"g1\",\"case_id\":%lld}", (long long)case_id));

	/* due soon, overdue, repeat caller and an escalation go through the log */
	int64_t end = hl_now_ms() + 10000;
	while (hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE level >= 2") == 0) {
		cr_assert_lt(hl_now_ms(), end, "no escalation within 10 s");
		hl_sleep_ms(100);
	}
	cr_assert_gt(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'repeat_caller'"), 0);

	hl_conn_close(sub);
	hl_conn_close(c);
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0, "SIGTERM must exit 0");

	char *log = hl_d_log(d);
	cr_assert(strstr(log, "alert"), "the alerts were not logged at all: %s", log);
	/* one line per batch that committed alerts, counted by kind (alerts.c) */
	cr_assert(strstr(log, ">alerts: ") && strstr(log, " raised (") && strstr(log, "repeat_caller "),
	          "no per-batch line of raised alerts: %s", log);
	cr_assert(strstr(log, " escalated ("), "no line of escalated alerts: %s", log);
	cr_assert(!strstr(log, SECRET_DIGITS), "a full caller number is in the log:\n%s", log);
	cr_assert(!strstr(log, "139-1234-5678"), "a full caller number (as sent) is in the log:\n%s", log);
	cr_assert(!strstr(log, "139 1234 5678"));

	/* every line the daemon wrote starts with a syslog priority "<0>".."<7>" */
	int n = 0;
	char *copy = own(strdup(log));
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "==== harness:", 13) == 0)
			continue;
		n++;
		cr_assert(line[0] == '<' && line[1] >= '0' && line[1] <= '7' && line[2] == '>',
		          "log line without a priority prefix: %s", line);
	}
	cr_assert_gt(n, 5, "suspiciously short log at level debug: %s", log);
	/* debug and notice both occur, so the prefix really carries the level */
	cr_assert(strstr(log, "<7>") && strstr(log, "<5>"), "expected <7> and <5> lines at level debug: %s", log);
}

HL_TEST(ops, log_level_is_honoured)
{
	struct hl_e2e_opts o = { .top = "log = { level = \"warning\"; };" };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	expect_ping(c);
	abandoned(c, "+8613800000301", hl_iso_in(-1));
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0);
	char *log = hl_d_log(d);
	for (int p = 5; p <= 7; p++) {
		char tag[8];
		snprintf(tag, sizeof tag, "<%d>", p);
		cr_assert(!strstr(log, tag), "log.level = warning but a %s line was written:\n%s", tag, log);
	}
}

/* A server notice (a WARNING or NOTICE a trigger, an extension or the server
 * itself sends the daemon's sessions) quotes what it likes, a caller's
 * number included: it goes through the log's masking and gets a priority
 * like every other line, instead of libpq's default processor writing it
 * raw to stderr (docs/reliability.md, section 12). */
HL_TEST(ops, server_notices_are_logged_masked_with_a_priority)
{
	struct hl_d *d = hl_d_up(NULL);
	hl_sql(d, "CREATE FUNCTION public.hl_noisy() RETURNS trigger LANGUAGE plpgsql AS "
	          "$$BEGIN RAISE WARNING 'audit: call %% from %%', NEW.call_id, NEW.caller; RETURN NULL; END$$");
	hl_sql(d, "CREATE TRIGGER hl_noisy AFTER INSERT ON hotline.calls FOR EACH ROW "
	          "WHEN (NEW.call_id LIKE 'noisy-%%') EXECUTE FUNCTION public.hl_noisy()");
	struct hl_conn *c = hl_conn_unix(d);
	expect_ok(hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"n1\",\"call_id\":\"noisy-1\",\"caller\":\"+86%s\"}",
	                      SECRET_DIGITS));
	hl_conn_close(c);
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0);
	char *log = hl_d_log(d);
	cr_assert(strstr(log, "audit: call noisy-1 from"), "the server's warning is not in the log:\n%s", log);
	cr_assert(!strstr(log, SECRET_DIGITS), "a server notice put a full caller number in the log:\n%s", log);
	char *copy = own(strdup(log));
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		cr_assert(strncmp(line, "==== harness:", 13) == 0 ||
		          (line[0] == '<' && line[1] >= '0' && line[1] <= '7' && line[2] == '>'),
		          "log line without a priority prefix: %s", line);
}
