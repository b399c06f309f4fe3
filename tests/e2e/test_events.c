/*
 * test_events.c - end-to-end tests of the event socket (CONTRACT.md sections 3 and 5).
 *
 * Each test starts a real hotlined on a fresh database (see harness.h), talks
 * to it over its Unix or TCP socket exactly as the softphone integration would,
 * and checks both the response lines and what an administrator would find in
 * psql (hotline.cases, calls, case_events, clocks, alerts).  `at` is set a
 * little in the past so that deadlines are known exactly, yet far from due.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

TestSuite(events, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 90);

/* ---------------------------------------------------------------- helpers */

/* RFC 3339 UTC time `delta_s` seconds from now, whole seconds (exact in SQL). */
static const char *iso_at(int delta_s)
{
	static char ring[16][40];
	static unsigned n;
	char *s = ring[n++ % 16];
	time_t t = time(NULL) + delta_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(s, sizeof ring[0], "%Y-%m-%dT%H:%M:%SZ", &tm);
	return s;
}

static void expect_ok(json_object *r, const char *id)
{
	cr_assert(r);
	cr_assert_str_eq(hl_jstr(r, "id") ? hl_jstr(r, "id") : "(none)", id, "response id");
	cr_assert(hl_jbool(r, "ok"), "expected ok for %s, got %s", id, json_object_to_json_string(r));
}

static void expect_error(json_object *r, const char *code)
{
	cr_assert(r);
	cr_assert(!hl_jbool(r, "ok"), "expected an error, got %s", json_object_to_json_string(r));
	const char *got = hl_jstr(r, "error.code");
	cr_assert(got && strcmp(got, code) == 0, "expected error %s, got %s", code, json_object_to_json_string(r));
	cr_assert(hl_jstr(r, "error.message"), "error without message: %s", json_object_to_json_string(r));
}

/* Send an event and expect ok with a case_id; returns it. */
static int64_t event_ok(struct hl_conn *c, const char *id, const char *json_fmt_rest)
{
	json_object *r = hl_requestf(c, "{\"id\":\"%s\",%s}", id, json_fmt_rest);
	expect_ok(r, id);
	int64_t case_id = hl_jint(r, "case_id");
	cr_assert_gt(case_id, 0, "no case_id in %s", json_object_to_json_string(r));
	cr_assert(!hl_jbool(r, "duplicate"), "unexpected duplicate: %s", json_object_to_json_string(r));
	return case_id;
}

static int64_t offer(struct hl_conn *c, const char *call_id, const char *caller, const char *at)
{
	char rest[512];
	snprintf(rest, sizeof rest, "\"type\":\"call.offered\",\"call_id\":\"%s\",\"caller\":\"%s\",\"at\":\"%s\"",
	         call_id, caller, at);
	return event_ok(c, hl_uid("offer"), rest);
}

/* Send a case event of `type` with extra fields; returns the case_id it answers. */
static int64_t case_event(struct hl_conn *c, const char *type, int64_t case_id, const char *extra)
{
	char rest[1024];
	snprintf(rest, sizeof rest, "\"type\":\"%s\",\"case_id\":%lld%s%s", type, (long long)case_id,
	         extra && *extra ? "," : "", extra ? extra : "");
	int64_t got = event_ok(c, hl_uid(type), rest);
	cr_assert_eq(got, case_id, "%s answered case %lld, not %lld", type, (long long)got, (long long)case_id);
	return got;
}

static char *clock_state(struct hl_d *d, int64_t case_id, const char *kind)
{
	return hl_sql_text(d, "SELECT state FROM hotline.clocks WHERE case_id = %lld AND kind = '%s'",
	                   (long long)case_id, kind);
}

static void expect_clock(struct hl_d *d, int64_t case_id, const char *kind, const char *state)
{
	char *s = clock_state(d, case_id, kind);
	cr_assert(s && strcmp(s, state) == 0, "clock %s of case %lld: expected %s, got %s", kind,
	          (long long)case_id, state, s ? s : "(no row)");
}

static void expect_case_status(struct hl_d *d, int64_t case_id, const char *status)
{
	char *s = hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)case_id);
	cr_assert(s && strcmp(s, status) == 0, "case %lld: expected %s, got %s", (long long)case_id, status,
	          s ? s : "(no row)");
}

static int64_t count_events(struct hl_d *d, const char *event_id)
{
	return hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id = '%s'", event_id);
}

/* ------------------------------------------------------------------ ping */

HL_TEST(events, ping_unix_and_tcp)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *u = hl_conn_unix(d);
	json_object *r = hl_request(u, "{\"type\":\"ping\",\"id\":\"p-unix\"}");
	expect_ok(r, "p-unix");

	struct hl_conn *t = hl_conn_tcp(d);
	r = hl_request(t, "{\"type\":\"ping\",\"id\":\"p-tcp\"}");
	expect_ok(r, "p-tcp");

	/* commands are not events: nothing stored */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 0);
	cr_assert_eq(hl_d_stop(d, SIGTERM, 20000), 0, "SIGTERM must exit 0");
}

/* ----------------------------------------------------------- call events */

HL_TEST(events, call_offered_opens_case_and_stores_rows)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	const char *at = iso_at(-60);
	json_object *r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"ev-1\",\"call_id\":\"call-1\","
	                                "\"caller\":\"+86 138-0000-0001\",\"queue\":\"general\",\"at\":\"%s\"}", at);
	expect_ok(r, "ev-1");
	int64_t case_id = hl_jint(r, "case_id");
	cr_assert_gt(case_id, 0);

	/* committed before the ack: visible right away */
	PGresult *q = hl_sql(d, "SELECT caller, status, opened_at = '%s'::timestamptz FROM hotline.cases WHERE id = %lld",
	                     at, (long long)case_id);
	cr_assert_eq(PQntuples(q), 1);
	cr_expect_str_eq(PQgetvalue(q, 0, 0), "+8613800000001", "caller stored normalized");
	cr_expect_str_eq(PQgetvalue(q, 0, 1), "open");
	cr_expect_str_eq(PQgetvalue(q, 0, 2), "t", "opened_at = at");

	q = hl_sql(d, "SELECT case_id, caller FROM hotline.calls WHERE call_id = 'call-1'");
	cr_assert_eq(PQntuples(q), 1);
	cr_expect_eq(strtoll(PQgetvalue(q, 0, 0), NULL, 10), case_id);
	cr_expect_str_eq(PQgetvalue(q, 0, 1), "+8613800000001");

	/* the table's body leaves out "id" and "type" (its columns, sql/026); the view shows it whole */
	q = hl_sql(d, "SELECT case_id, type, at = '%s'::timestamptz, body->>'id', body->>'call_id', body->>'queue',"
	              " body->>'type', (SELECT body ? 'id' FROM hotline.case_events WHERE event_id = 'ev-1')"
	              " FROM hotline.v_case_events WHERE event_id = 'ev-1'", at);
	cr_assert_eq(PQntuples(q), 1);
	cr_expect_eq(strtoll(PQgetvalue(q, 0, 0), NULL, 10), case_id);
	cr_expect_str_eq(PQgetvalue(q, 0, 1), "call.offered");
	cr_expect_str_eq(PQgetvalue(q, 0, 2), "t", "case_events.at = at");
	cr_expect_str_eq(PQgetvalue(q, 0, 3), "ev-1", "body is the event as received");
	cr_expect_str_eq(PQgetvalue(q, 0, 4), "call-1");
	cr_expect_str_eq(PQgetvalue(q, 0, 5), "general");
	cr_expect_str_eq(PQgetvalue(q, 0, 6), "call.offered");
	cr_expect_str_eq(PQgetvalue(q, 0, 7), "f", "the id is stored once, in event_id");

	/* a second call from the same number joins the open case */
	int64_t again = offer(c, "call-2", "+8613800000001", iso_at(-30));
	cr_assert_eq(again, case_id, "second call joins the open case");
	/* another number opens another case */
	int64_t other = offer(c, "call-3", "+8613800000002", iso_at(-30));
	cr_assert_neq(other, case_id);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases"), 2);
}

HL_TEST(events, call_offered_without_at_uses_receipt_time)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id = event_ok(c, "no-at", "\"type\":\"call.offered\",\"call_id\":\"c1\",\"caller\":\"13800000003\"");
	int64_t skew = hl_sql_int(d, "SELECT abs(extract(epoch FROM opened_at - now()))::bigint FROM hotline.cases"
	                             " WHERE id = %lld", (long long)case_id);
	cr_assert_leq(skew, 60, "opened_at should be the time of receipt");
}

HL_TEST(events, call_answered_meets_callback)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id = offer(c, "c1", "+8613800000010", iso_at(-120));
	char rest[256];
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"c1\",\"at\":\"%s\"", iso_at(-100));
	cr_assert_eq(event_ok(c, "ab-1", rest), case_id);
	expect_clock(d, case_id, "callback", "pending");
	/* the caller calls again and is answered: the callback clock is met */
	cr_assert_eq(offer(c, "c2", "+8613800000010", iso_at(-50)), case_id);
	snprintf(rest, sizeof rest, "\"type\":\"call.answered\",\"call_id\":\"c2\",\"agent\":\"alice\",\"at\":\"%s\"",
	         iso_at(-45));
	cr_assert_eq(event_ok(c, "an-1", rest), case_id);
	expect_clock(d, case_id, "callback", "met");
	char *st = hl_sql_text(d, "SELECT state || '/' || agent FROM hotline.calls WHERE call_id = 'c2'");
	cr_expect(st && strcmp(st, "answered/alice") == 0, "calls row: %s", st ? st : "(none)");
	cr_assert_eq(count_events(d, "an-1"), 1);
}

HL_TEST(events, call_abandoned_arms_callback_clock)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "callback = \"30m\";" });
	struct hl_conn *c = hl_conn_unix(d);
	const char *at = iso_at(-10);
	int64_t case_id = offer(c, "c1", "+8613800000011", iso_at(-20));
	char rest[256];
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"c1\",\"at\":\"%s\"", at);
	cr_assert_eq(event_ok(c, "ab-1", rest), case_id);
	expect_clock(d, case_id, "callback", "pending");
	cr_assert_eq(hl_sql_int(d, "SELECT extract(epoch FROM due_at - '%s'::timestamptz)::bigint FROM hotline.clocks"
	                           " WHERE case_id = %lld AND kind = 'callback'", at, (long long)case_id), 1800,
	             "due = at + sla.callback");
	char *st = hl_sql_text(d, "SELECT state FROM hotline.calls WHERE call_id = 'c1'");
	cr_expect(st && strcmp(st, "abandoned") == 0, "call state %s", st ? st : "(none)");

	/* a second abandon does not move a pending callback */
	cr_assert_eq(offer(c, "c2", "+8613800000011", iso_at(-5)), case_id);
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"c2\",\"at\":\"%s\"", iso_at(-4));
	cr_assert_eq(event_ok(c, "ab-2", rest), case_id);
	cr_assert_eq(hl_sql_int(d, "SELECT extract(epoch FROM due_at - '%s'::timestamptz)::bigint FROM hotline.clocks"
	                           " WHERE case_id = %lld AND kind = 'callback'", at, (long long)case_id), 1800,
	             "a pending callback is not re-armed");
}

HL_TEST(events, voicemail_for_unseen_call_with_caller_opens_case)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	char rest[256];
	snprintf(rest, sizeof rest, "\"type\":\"voicemail.left\",\"call_id\":\"vm-1\",\"caller\":\"+8613800000012\","
	                            "\"at\":\"%s\"", iso_at(-30));
	int64_t case_id = event_ok(c, "vm-ev", rest);
	expect_case_status(d, case_id, "open");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 'vm-1' AND case_id = %lld",
	                        (long long)case_id), 1);
	expect_clock(d, case_id, "callback", "pending");

	/* the same for call.abandoned */
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"ab-x\",\"caller\":\"+8613800000013\","
	                            "\"at\":\"%s\"", iso_at(-30));
	int64_t case2 = event_ok(c, "ab-ev", rest);
	cr_assert_neq(case2, case_id);
	expect_clock(d, case2, "callback", "pending");
}

HL_TEST(events, call_ended_outcomes)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	/* resolved on the call */
	int64_t a = offer(c, "c1", "+8613800000020", iso_at(-100));
	char rest[512];
	snprintf(rest, sizeof rest, "\"type\":\"call.answered\",\"call_id\":\"c1\",\"agent\":\"bob\",\"at\":\"%s\"", iso_at(-90));
	event_ok(c, "an-1", rest);
	snprintf(rest, sizeof rest, "\"type\":\"call.ended\",\"call_id\":\"c1\",\"outcome\":\"resolved\",\"category\":\"water\","
	                            "\"priority\":\"high\",\"summary\":\"leak fixed\",\"at\":\"%s\"", iso_at(-80));
	cr_assert_eq(event_ok(c, "end-1", rest), a);
	expect_case_status(d, a, "resolved");
	expect_clock(d, a, "resolution", "met");

	/* followup: the agent owes an answer */
	int64_t b = offer(c, "c2", "+8613800000021", iso_at(-100));
	snprintf(rest, sizeof rest, "\"type\":\"call.answered\",\"call_id\":\"c2\",\"agent\":\"bob\",\"at\":\"%s\"", iso_at(-90));
	event_ok(c, "an-2", rest);
	snprintf(rest, sizeof rest, "\"type\":\"call.ended\",\"call_id\":\"c2\",\"outcome\":\"followup\",\"at\":\"%s\"", iso_at(-80));
	cr_assert_eq(event_ok(c, "end-2", rest), b);
	expect_case_status(d, b, "open");
	expect_clock(d, b, "callback", "pending");

	/* any other outcome is recorded */
	int64_t e = offer(c, "c3", "+8613800000022", iso_at(-100));
	snprintf(rest, sizeof rest, "\"type\":\"call.ended\",\"call_id\":\"c3\",\"outcome\":\"wrong_number\",\"at\":\"%s\"", iso_at(-80));
	cr_assert_eq(event_ok(c, "end-3", rest), e);
	char *o = hl_sql_text(d, "SELECT outcome FROM hotline.calls WHERE call_id = 'c3'");
	cr_expect(o && strcmp(o, "wrong_number") == 0, "outcome %s", o ? o : "(none)");
	cr_assert_eq(count_events(d, "end-3"), 1);
}

HL_TEST(events, callback_attempts)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = offer(c, "c1", "+8613800000030", iso_at(-100));
	char rest[256];
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"c1\",\"at\":\"%s\"", iso_at(-90));
	event_ok(c, "ab", rest);
	const char *fails[] = { "no_answer", "busy", "failed" };
	for (int i = 0; i < 3; i++) {
		char extra[128];
		snprintf(extra, sizeof extra, "\"result\":\"%s\",\"agent\":\"carol\",\"at\":\"%s\"", fails[i], iso_at(-80 + i));
		case_event(c, "callback.attempt", id, extra);
		expect_clock(d, id, "callback", "pending");
	}
	char extra[128];
	snprintf(extra, sizeof extra, "\"result\":\"reached\",\"agent\":\"carol\",\"at\":\"%s\"", iso_at(-70));
	case_event(c, "callback.attempt", id, extra);
	expect_clock(d, id, "callback", "met");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE case_id = %lld AND type = 'callback.attempt'",
	                        (long long)id), 4);
}

/* ------------------------------------------------------------ case events */

HL_TEST(events, case_lifecycle)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "survey = \"1h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = offer(c, "c1", "+8613800000040", iso_at(-600));
	expect_clock(d, id, "resolution", "pending");

	case_event(c, "case.update", id, "\"note\":\"looked into it\",\"agent\":\"dan\",\"caller_informed\":true");
	case_event(c, "case.transfer", id, "\"department\":\"roads\",\"reason\":\"pothole\"");
	PGresult *q = hl_sql(d, "SELECT department, transfers FROM hotline.cases WHERE id = %lld", (long long)id);
	cr_expect_str_eq(PQgetvalue(q, 0, 0), "roads");
	cr_expect_str_eq(PQgetvalue(q, 0, 1), "1", "transfers counted");

	case_event(c, "case.hold", id, "\"reason\":\"waiting for documents\"");
	expect_clock(d, id, "resolution", "paused");
	cr_assert_eq(hl_sql_int(d, "SELECT on_hold::int FROM hotline.cases WHERE id = %lld", (long long)id), 1);
	case_event(c, "case.resume", id, NULL);
	expect_clock(d, id, "resolution", "pending");
	cr_assert_eq(hl_sql_int(d, "SELECT on_hold::int FROM hotline.cases WHERE id = %lld", (long long)id), 0);

	case_event(c, "case.resolve", id, "\"resolution\":\"filled\"");
	expect_case_status(d, id, "resolved");
	expect_clock(d, id, "resolution", "met");
	expect_clock(d, id, "survey", "pending");

	case_event(c, "case.reopen", id, "\"reason\":\"came back\"");
	expect_case_status(d, id, "open");
	expect_clock(d, id, "resolution", "pending");
	cr_assert_eq(hl_sql_int(d, "SELECT reopens FROM hotline.cases WHERE id = %lld", (long long)id), 1);

	case_event(c, "case.close", id, NULL);
	expect_case_status(d, id, "closed");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE case_id = %lld AND state IN ('pending','paused')",
	                        (long long)id), 0, "every clock stops on close");

	/* a closed case is not joined: the next call opens a new case */
	int64_t next = offer(c, "c2", "+8613800000040", iso_at(-1));
	cr_assert_neq(next, id);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE case_id = %lld", (long long)id), 8);
}

HL_TEST(events, hold_pushes_due_time_back)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = offer(c, "c1", "+8613800000041", iso_at(-3600));
	char extra[128];
	snprintf(extra, sizeof extra, "\"at\":\"%s\"", iso_at(-3000));
	case_event(c, "case.hold", id, extra);
	snprintf(extra, sizeof extra, "\"at\":\"%s\"", iso_at(-1000));
	case_event(c, "case.resume", id, extra);
	/* 48h after opening, plus 2000 s on hold */
	cr_assert_eq(hl_sql_int(d, "SELECT extract(epoch FROM k.due_at - c.opened_at)::bigint FROM hotline.clocks k"
	                           " JOIN hotline.cases c ON c.id = k.case_id WHERE k.case_id = %lld AND k.kind = 'resolution'",
	                        (long long)id), 48 * 3600 + 2000);
}

HL_TEST(events, survey_results)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = "survey = \"1h\";" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t good = offer(c, "c1", "+8613800000050", iso_at(-600));
	case_event(c, "case.resolve", good, NULL);
	case_event(c, "survey.result", good, "\"score\":5");
	expect_clock(d, good, "survey", "met");
	expect_case_status(d, good, "resolved");

	int64_t bad = offer(c, "c2", "+8613800000051", iso_at(-600));
	case_event(c, "case.resolve", bad, NULL);
	case_event(c, "survey.result", bad, "\"score\":2");
	expect_clock(d, bad, "survey", "met");
	expect_case_status(d, bad, "open");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld AND kind = 'dissatisfied'",
	                        (long long)bad), 1);

	/* score out of range */
	json_object *r = hl_requestf(c, "{\"type\":\"survey.result\",\"id\":\"s-bad\",\"case_id\":%lld,\"score\":6}",
	                             (long long)good);
	expect_error(r, "bad_request");
	cr_expect(strstr(hl_jstr(r, "error.message"), "score"), "message names the field: %s", hl_jstr(r, "error.message"));
}

/* ------------------------------------------------------------------ errors */

HL_TEST(events, error_codes_and_connection_stays_usable)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);

	json_object *r = hl_request(c, "this is not json");
	expect_error(r, "bad_json");
	cr_assert(hl_jnull(r, "id"), "bad_json answers id null: %s", json_object_to_json_string(r));

	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"e1\",\"call_id\":\"x\"}");
	expect_error(r, "bad_request");
	cr_assert_str_eq(hl_jstr(r, "id"), "e1");
	cr_expect(strstr(hl_jstr(r, "error.message"), "caller"), "names the field: %s", hl_jstr(r, "error.message"));

	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"e2\",\"call_id\":\"x\",\"caller\":\"12ab34\"}");
	expect_error(r, "bad_request");
	cr_expect(strstr(hl_jstr(r, "error.message"), "caller"), "names the field: %s", hl_jstr(r, "error.message"));

	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"e3\",\"call_id\":\"x\",\"caller\":\"123\",\"at\":\"yesterday\"}");
	expect_error(r, "bad_request");
	cr_expect(strstr(hl_jstr(r, "error.message"), "at"), "names the field: %s", hl_jstr(r, "error.message"));

	r = hl_request(c, "{\"type\":\"ping\"}");
	expect_error(r, "bad_request");
	cr_expect(strstr(hl_jstr(r, "error.message"), "id"), "names the field: %s", hl_jstr(r, "error.message"));

	char longid[200];
	memset(longid, 'x', 129);
	longid[129] = '\0';
	r = hl_requestf(c, "{\"type\":\"ping\",\"id\":\"%s\"}", longid);
	expect_error(r, "bad_request");

	r = hl_request(c, "{\"id\":\"e4\"}");
	expect_error(r, "bad_request");
	cr_expect(strstr(hl_jstr(r, "error.message"), "type"), "names the field: %s", hl_jstr(r, "error.message"));

	r = hl_request(c, "[1,2,3]");
	cr_assert(!hl_jbool(r, "ok"), "an array is not a request");

	r = hl_request(c, "{\"type\":\"call.teleported\",\"id\":\"e5\"}");
	expect_error(r, "unknown_type");
	cr_assert_str_eq(hl_jstr(r, "id"), "e5");

	r = hl_request(c, "{\"type\":\"case.update\",\"id\":\"e6\",\"case_id\":987654,\"note\":\"?\"}");
	expect_error(r, "unknown_case");

	r = hl_request(c, "{\"type\":\"case.get\",\"id\":\"e6b\",\"case_id\":987654}");
	expect_error(r, "unknown_case");

	r = hl_request(c, "{\"type\":\"call.answered\",\"id\":\"e7\",\"call_id\":\"nope\",\"agent\":\"a\"}");
	expect_error(r, "unknown_call");

	r = hl_request(c, "{\"type\":\"call.abandoned\",\"id\":\"e8\",\"call_id\":\"nope\"}");
	expect_error(r, "unknown_call");

	r = hl_request(c, "{\"type\":\"callback.attempt\",\"id\":\"e9\",\"case_id\":1,\"result\":\"teleported\"}");
	cr_assert(!hl_jbool(r, "ok"));

	/* nothing of that was stored, and the connection still works */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 0);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases"), 0);
	r = hl_request(c, "{\"type\":\"ping\",\"id\":\"still-here\"}");
	expect_ok(r, "still-here");
	offer(c, "c1", "+8613800000060", iso_at(-1));

	/* a failed id can be used again once the request is right */
	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"e1\",\"call_id\":\"x\",\"caller\":\"+8613800000061\"}");
	expect_ok(r, "e1");
	cr_assert(!hl_jbool(r, "duplicate"));
}

HL_TEST(events, too_large_closes_connection)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .listen = "max_line = 1024;" });
	struct hl_conn *c = hl_conn_unix(d);
	/* exactly max_line bytes is fine */
	char line[1100];
	int n = snprintf(line, sizeof line, "{\"type\":\"ping\",\"id\":\"fits\",\"pad\":\"");
	memset(line + n, 'p', 1024 - (size_t)n - 2);
	strcpy(line + 1024 - 2, "\"}");
	cr_assert_eq(strlen(line), 1024);
	json_object *r = hl_request(c, line);
	expect_ok(r, "fits");

	size_t big = 4000;
	char *s = malloc(big + 1);
	memset(s, 'a', big);
	s[big - 1] = '\n';
	s[big] = '\0';
	hl_send_raw(c, s, big);
	free(s);
	r = hl_recv_json(c, HL_TIMEOUT_MS);
	cr_assert(r, "no too_large response");
	expect_error(r, "too_large");
	cr_assert(hl_wait_eof(c, 5000), "connection not closed after too_large");

	/* other connections are not affected */
	struct hl_conn *c2 = hl_conn_unix(d);
	r = hl_request(c2, "{\"type\":\"ping\",\"id\":\"after\"}");
	expect_ok(r, "after");
}

/* -------------------------------------------------------------- duplicates */

HL_TEST(events, duplicate_id_has_no_new_effect)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	const char *ev = "{\"type\":\"call.offered\",\"id\":\"dup-1\",\"call_id\":\"c1\",\"caller\":\"+8613800000070\"}";
	json_object *r = hl_request(c, ev);
	expect_ok(r, "dup-1");
	int64_t case_id = hl_jint(r, "case_id");

	r = hl_request(c, ev);
	expect_ok(r, "dup-1");
	cr_assert(hl_jbool(r, "duplicate"), "second send is a duplicate: %s", json_object_to_json_string(r));
	cr_assert_eq(hl_jint(r, "case_id"), case_id);

	/* same id, different content, other connection: still a duplicate */
	struct hl_conn *t = hl_conn_tcp(d);
	r = hl_request(t, "{\"type\":\"call.offered\",\"id\":\"dup-1\",\"call_id\":\"c9\",\"caller\":\"+8613800000071\"}");
	expect_ok(r, "dup-1");
	cr_assert(hl_jbool(r, "duplicate"));
	cr_assert_eq(hl_jint(r, "case_id"), case_id);

	/* a duplicate of a case event */
	int64_t a = case_event(c, "case.transfer", case_id, "\"department\":\"x\"");
	(void)a;
	r = hl_requestf(c, "{\"type\":\"case.update\",\"id\":\"dup-2\",\"case_id\":%lld,\"note\":\"n\"}", (long long)case_id);
	expect_ok(r, "dup-2");
	r = hl_requestf(c, "{\"type\":\"case.update\",\"id\":\"dup-2\",\"case_id\":%lld,\"note\":\"n\"}", (long long)case_id);
	cr_assert(hl_jbool(r, "duplicate"));
	cr_assert_eq(hl_jint(r, "case_id"), case_id);

	cr_assert_eq(count_events(d, "dup-1"), 1);
	cr_assert_eq(count_events(d, "dup-2"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases"), 1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls"), 1);

	/* survives a restart */
	hl_d_restart(d);
	struct hl_conn *c2 = hl_conn_unix(d);
	r = hl_request(c2, ev);
	cr_assert(hl_jbool(r, "duplicate"), "duplicate after restart: %s", json_object_to_json_string(r));
	cr_assert_eq(hl_jint(r, "case_id"), case_id);
	cr_assert_eq(count_events(d, "dup-1"), 1);
}

HL_TEST(events, duplicates_within_one_pipeline)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	const char *ev = "{\"type\":\"call.offered\",\"id\":\"pd\",\"call_id\":\"c1\",\"caller\":\"+8613800000072\"}\n";
	char buf[1024];
	snprintf(buf, sizeof buf, "%s%s%s", ev, ev, ev);
	cr_assert_eq(hl_send_raw(c, buf, strlen(buf)), 0);
	int dups = 0;
	int64_t case_id = 0;
	for (int i = 0; i < 3; i++) {
		json_object *r = hl_recv_json(c, HL_TIMEOUT_MS);
		cr_assert(r, "response %d missing", i);
		expect_ok(r, "pd");
		if (case_id)
			cr_assert_eq(hl_jint(r, "case_id"), case_id);
		case_id = hl_jint(r, "case_id");
		dups += hl_jbool(r, "duplicate");
	}
	cr_assert_eq(dups, 2, "exactly the first one is new");
	cr_assert_eq(count_events(d, "pd"), 1);
}

/* -------------------------------------------------------------- pipelining */

HL_TEST(events, pipelined_500_in_order)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	size_t cap = 500 * 200, len = 0;
	char *buf = malloc(cap);
	cr_assert(buf);
	/* a mix of events, commands and errors: order must hold across all */
	for (int i = 0; i < 500; i++) {
		int n;
		if (i % 50 == 7)
			n = snprintf(buf + len, cap - len, "{\"type\":\"nonsense\",\"id\":\"p%d\"}\n", i);
		else if (i % 10 == 3)
			n = snprintf(buf + len, cap - len, "{\"type\":\"ping\",\"id\":\"p%d\"}\n", i);
		else
			n = snprintf(buf + len, cap - len,
			             "{\"type\":\"call.offered\",\"id\":\"p%d\",\"call_id\":\"call-%d\",\"caller\":\"+86138%08d\"}\n",
			             i, i, i % 37);
		len += (size_t)n;
	}
	int rc = hl_send_raw(c, buf, len);
	free(buf);
	cr_assert_eq(rc, 0);
	for (int i = 0; i < 500; i++) {
		json_object *r = hl_recv_json(c, 30000);
		cr_assert(r, "response %d missing", i);
		char want[16];
		snprintf(want, sizeof want, "p%d", i);
		const char *got = hl_jstr(r, "id");
		cr_assert(got && strcmp(got, want) == 0, "response %d has id %s", i, got ? got : "(none)");
		if (i % 50 == 7)
			expect_error(r, "unknown_type");
		else
			cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	}
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 500 - 50 - 10);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases"), 37);
	cr_assert_eq(hl_sql_int(d, "SELECT count(DISTINCT case_id) FROM hotline.calls"), 37);
}

HL_TEST(events, crlf_and_split_writes)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_tcp(d);
	const char *a = "{\"type\":\"ping\",\"id\":\"crlf\"}\r\n";
	cr_assert_eq(hl_send_raw(c, a, strlen(a)), 0);
	json_object *r = hl_recv_json(c, HL_TIMEOUT_MS);
	expect_ok(r, "crlf");

	/* an event with \r\n: body is stored without the \r */
	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"crlf-ev\",\"call_id\":\"c1\",\"caller\":\"+8613800000080\"}\r");
	expect_ok(r, "crlf-ev");
	cr_assert_eq(count_events(d, "crlf-ev"), 1);

	/* a line that arrives in pieces */
	const char *parts[] = { "{\"type\":\"pi", "ng\",\"id\"", ":\"split\"}", "\n" };
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(hl_send_raw(c, parts[i], strlen(parts[i])), 0);
		hl_sleep_ms(30);
	}
	r = hl_recv_json(c, HL_TIMEOUT_MS);
	expect_ok(r, "split");
}

/* ---------------------------------------------------------------- case.get */

HL_TEST(events, case_get)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = offer(c, "g1", "+8613800000090", iso_at(-300));
	char rest[256];
	snprintf(rest, sizeof rest, "\"type\":\"call.abandoned\",\"call_id\":\"g1\",\"at\":\"%s\"", iso_at(-290));
	event_ok(c, "g-ab", rest);

	json_object *r = hl_requestf(c, "{\"type\":\"case.get\",\"id\":\"get-1\",\"case_id\":%lld}", (long long)id);
	expect_ok(r, "get-1");
	json_object *cs = hl_jget(r, "case");
	cr_assert(cs, "no case object: %s", json_object_to_json_string(r));
	cr_assert_eq(hl_jint(cs, "id"), id);
	cr_assert_str_eq(hl_jstr(cs, "status") ? hl_jstr(cs, "status") : "", "open");
	cr_assert_str_eq(hl_jstr(cs, "caller") ? hl_jstr(cs, "caller") : "", "+8613800000090");
	cr_assert(hl_jstr(cs, "opened_at"));

	json_object *clocks = hl_jget(cs, "clocks");
	cr_assert(clocks && json_object_is_type(clocks, json_type_array));
	bool callback = false, resolution = false;
	for (size_t i = 0; i < json_object_array_length(clocks); i++) {
		json_object *k = json_object_array_get_idx(clocks, i);
		const char *kind = hl_jstr(k, "kind");
		cr_assert(kind && hl_jstr(k, "state") && hl_jstr(k, "due_at"), "clock %zu incomplete", i);
		if (strcmp(kind, "callback") == 0) {
			callback = true;
			cr_expect_str_eq(hl_jstr(k, "state"), "pending");
		}
		if (strcmp(kind, "resolution") == 0)
			resolution = true;
	}
	cr_assert(callback && resolution, "clocks: %s", json_object_to_json_string(clocks));

	json_object *calls = hl_jget(cs, "calls");
	cr_assert(calls && json_object_array_length(calls) == 1, "calls: %s", json_object_to_json_string(calls));
	cr_assert_str_eq(hl_jstr(calls, "0.call_id"), "g1");
	cr_assert(hl_jget(cs, "alerts") && json_object_is_type(hl_jget(cs, "alerts"), json_type_array));

	/* case_id is required */
	r = hl_request(c, "{\"type\":\"case.get\",\"id\":\"get-2\"}");
	expect_error(r, "bad_request");
}

/* ------------------------------------------------------------------ stats */

HL_TEST(events, stats_answers_object)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	offer(c, "s1", "+8613800000100", iso_at(-1));
	json_object *r = hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}");
	expect_ok(r, "st");
	cr_assert(hl_jget(r, "stats") && json_object_is_type(hl_jget(r, "stats"), json_type_object),
	          "%s", json_object_to_json_string(r));
}

/* ------------------------------------------------------------- hotlinectl */

/* Run a shell command line; its exit code. */
static int run_sh(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

HL_TEST(events, hotlinectl_send_pipelines_and_reports_errors)
{
	const char *ctl = getenv("HOTLINECTL_BIN") ? getenv("HOTLINECTL_BIN") : "build/hotlinectl";
	if (access(ctl, X_OK) != 0)
		cr_skip("no hotlinectl at %s", ctl);
	struct hl_d *d = hl_d_up(NULL);
	char in[200], out[200], cmd[1024];
	snprintf(in, sizeof in, "%s/in.ndjson", d->dir);
	snprintf(out, sizeof out, "%s/out.txt", d->dir);

	FILE *f = fopen(in, "w");
	cr_assert(f);
	for (int i = 0; i < 200; i++)
		fprintf(f, "{\"type\":\"call.offered\",\"id\":\"ctl-%d\",\"call_id\":\"cc-%d\",\"caller\":\"+86139%08d\"}\n",
		        i, i, i % 7);
	fprintf(f, "\n{\"type\":\"ping\",\"id\":\"last\"}"); /* a blank line, and no final newline */
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s --unix %s send %s > %s", ctl, d->sock, in, out);
	cr_assert_eq(run_sh(cmd), 0, "hotlinectl send failed");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 200);
	f = fopen(out, "r");
	cr_assert(f);
	int lines = 0;
	char line[512];
	while (fgets(line, sizeof line, f))
		lines++;
	fclose(f);
	cr_assert_eq(lines, 201, "one response line per request");

	/* over TCP, from stdin, with one refused request: exit 1, every line answered */
	snprintf(cmd, sizeof cmd,
	         "printf '%%s\\n' '{\"type\":\"ping\",\"id\":\"a\"}' 'garbage' '{\"type\":\"ping\",\"id\":\"b\"}'"
	         " | %s --tcp 127.0.0.1:%d send > %s", ctl, d->tcp_port, out);
	cr_assert_eq(run_sh(cmd), 1, "an ok:false response makes send exit 1");
	f = fopen(out, "r");
	cr_assert(f);
	lines = 0;
	while (fgets(line, sizeof line, f))
		lines++;
	fclose(f);
	cr_assert_eq(lines, 3);

	snprintf(cmd, sizeof cmd, "%s --unix %s ping > /dev/null", ctl, d->sock);
	cr_assert_eq(run_sh(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s --unix %s case 424242 > /dev/null 2>&1", ctl, d->sock);
	cr_assert_eq(run_sh(cmd), 1, "unknown case: exit 1");
	snprintf(cmd, sizeof cmd, "%s --unix %s/nope ping > /dev/null 2>&1", ctl, d->dir);
	cr_assert_eq(run_sh(cmd), 3, "cannot connect: exit 3");
}
