/*
 * test_partitions.c - imported history gets month partitions of its own
 * (sql/085, daemon/cluster_upkeep.c).
 *
 * `hotline-pbx --backfill` of last year's queue_log sends events dated
 * before the oldest month partition of hotline.case_events.  They land in
 * the default partition; within seconds the daemon's cluster session makes
 * their months and moves them there, so that retention
 * (hotline.drop_events_before) drops an imported month like any other, and
 * a resend of a dropped event is still a duplicate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "harness.h"

TestSuite(partitions, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 120);

static json_object *stats_of(struct hl_d *d)
{
	struct hl_conn *c = hl_conn_unix(d);
	json_object *r = hl_requestf(c, "{\"type\":\"stats\",\"id\":\"%s\"}", hl_uid("st"));
	hl_conn_close(c);
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	return hl_jget(r, "stats");
}

static int64_t in_default(struct hl_d *d)
{
	return hl_sql_int(d, "SELECT count(*) FROM hotline.case_events_default");
}

static int64_t partition_rows(struct hl_d *d, const char *month)
{
	if (hl_sql_int(d, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	                  " WHERE n.nspname = 'hotline' AND c.relname = 'case_events_p%s'", month) != 1)
		return -1;
	return hl_sql_int(d, "SELECT count(*) FROM hotline.case_events_p%s", month);
}

HL_TEST(partitions, imported_months_get_their_own_partition_and_retention_drops_them)
{
	struct hl_d *d = hl_d_up(NULL);
	struct hl_conn *c = hl_conn_unix(d);
	cr_assert_eq(partition_rows(d, "201903"), -1, "a partition for March 2019 before any event of it");

	/* last year's log, as hotline-pbx --backfill sends it: two months */
	const char *ids[] = { "imp-1", "imp-2", "imp-3" };
	json_object *r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"imp-1\",\"call_id\":\"imp-c1\","
	                               "\"caller\":\"+4930555101\",\"at\":\"2019-03-14T09:12:00+01:00\",\"backfill\":true}");
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	r = hl_request(c, "{\"type\":\"call.abandoned\",\"id\":\"imp-2\",\"call_id\":\"imp-c1\","
	                  "\"at\":\"2019-03-14T09:13:00+01:00\",\"backfill\":true}");
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"imp-3\",\"call_id\":\"imp-c2\","
	                  "\"caller\":\"+4930555102\",\"at\":\"2019-05-02T10:00:00Z\",\"backfill\":true}");
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));

	/* within a few seconds both months exist and hold their events */
	int64_t t0 = hl_now_ms(), end = t0 + 20000;
	while ((in_default(d) != 0 || partition_rows(d, "201903") < 0 || partition_rows(d, "201905") < 0) &&
	       hl_now_ms() < end)
		hl_sleep_ms(100);
	fprintf(stderr, "partitions: the imported months were made %lld ms after their events\n",
	        (long long)(hl_now_ms() - t0));
	cr_assert_eq(in_default(d), 0, "events left in the default partition");
	cr_assert_eq(partition_rows(d, "201903"), 2);
	cr_assert_eq(partition_rows(d, "201905"), 1);
	cr_assert_eq(partition_rows(d, "201904"), -1, "a month with no event was made");
	cr_assert_geq(hl_jint(stats_of(d), "cluster.partitions_created"), 2);
	cr_assert(strstr(hl_d_log(d), "months of events in the default partition"), "no upkeep line in the log");
	/* the history reads the same through the parent */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id LIKE 'imp-%%'"), 3);

	/* a later event of an adopted month goes straight to its partition */
	r = hl_request(c, "{\"type\":\"call.offered\",\"id\":\"imp-4\",\"call_id\":\"imp-c3\","
	                  "\"caller\":\"+4930555103\",\"at\":\"2019-03-20T08:00:00Z\",\"backfill\":true}");
	cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
	cr_assert_eq(in_default(d), 0);
	cr_assert_eq(partition_rows(d, "201903"), 3);

	/* retention drops the imported months in one statement; their ids stay */
	cr_assert_eq(hl_sql_int(d, "SELECT hotline.drop_events_before('2019-06-01')"), 2);
	cr_assert_eq(partition_rows(d, "201903"), -1);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id LIKE 'imp-%%'"), 0);
	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
		r = hl_requestf(c, "{\"type\":\"call.offered\",\"id\":\"%s\",\"call_id\":\"imp-c1\","
		                   "\"caller\":\"+4930555101\",\"at\":\"2019-03-14T09:12:00+01:00\",\"backfill\":true}",
		                ids[i]);
		cr_assert(hl_jbool(r, "ok") && hl_jbool(r, "duplicate"), "resend of %s: %s", ids[i],
		          json_object_to_json_string(r));
	}
	cr_assert_eq(in_default(d), 0);
	hl_conn_close(c);
}

/* The function alone, as an administrator calls it: the months of the rows in
 * the default partition, oldest first, at most max_months a call.  In one
 * transaction of its own, so that the daemon's side session cannot adopt the
 * rows first. */
static int64_t tx_int(PGconn *pg, const char *sql)
{
	PGresult *r = PQexec(pg, sql);
	cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
	int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

HL_TEST(partitions, adopt_default_months_by_hand)
{
	struct hl_d *d = hl_d_up(NULL);
	PGconn *pg = PQconnectdb(d->conninfo);
	cr_assert_eq(PQstatus(pg), CONNECTION_OK);
	PQclear(PQexec(pg, "BEGIN"));
	PGresult *r = PQexec(pg, "INSERT INTO hotline.case_events (event_id, case_id, type, at, body)"
	                         " SELECT 'hand-' || m, NULL, 'case.update', m, '{}'"
	                         " FROM generate_series('2001-01-15'::timestamptz, '2001-03-15', interval '1 month') m");
	cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(pg));
	PQclear(r);
	cr_assert_eq(tx_int(pg, "SELECT count(*) FROM hotline.case_events_default"), 3);
	cr_assert_eq(tx_int(pg, "SELECT hotline.adopt_default_months(2)"), 2);
	cr_assert_eq(tx_int(pg, "SELECT count(*) FROM hotline.case_events_default"), 1, "max_months not kept");
	cr_assert_eq(tx_int(pg, "SELECT count(*) FROM hotline.case_events_p200101"), 1);
	cr_assert_eq(tx_int(pg, "SELECT count(*) FROM hotline.case_events_p200102"), 1);
	cr_assert_eq(tx_int(pg, "SELECT hotline.adopt_default_months()"), 1);
	cr_assert_eq(tx_int(pg, "SELECT count(*) FROM hotline.case_events_p200103"), 1);
	cr_assert_eq(tx_int(pg, "SELECT hotline.adopt_default_months()"), 0);
	cr_assert_eq(tx_int(pg, "SELECT count(*) FROM hotline.case_events WHERE event_id LIKE 'hand-%'"), 3);
	PQclear(PQexec(pg, "COMMIT"));
	PQfinish(pg);
}

/* Two daemons on one database both look at the default partition: one adopts,
 * the other steps aside (an advisory lock), and neither warns of a failed
 * upkeep while an import through both of them crosses six months. */
HL_TEST(partitions, two_daemons_adopt_without_warnings)
{
	struct hl_d *a = hl_d_up(NULL);
	struct hl_d *b = hl_d_up_peer(a, NULL);
	struct hl_conn *ca = hl_conn_unix(a), *cb = hl_conn_unix(b);
	for (int m = 1; m <= 6; m++) {
		for (int i = 0; i < 20; i++) {
			json_object *r = hl_requestf(i % 2 ? cb : ca,
			                             "{\"type\":\"call.offered\",\"id\":\"two-%d-%d\",\"call_id\":\"two-c%d-%d\","
			                             "\"caller\":\"+49305559%02d%02d\",\"at\":\"2018-%02d-%02dT10:00:00Z\","
			                             "\"backfill\":true}",
			                             m, i, m, i, m, i, m, i + 1);
			cr_assert(hl_jbool(r, "ok"), "%s", json_object_to_json_string(r));
		}
		hl_sleep_ms(1000);
	}
	int64_t end = hl_now_ms() + 20000;
	while (in_default(a) != 0 && hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_eq(in_default(a), 0, "events left in the default partition");
	for (int m = 1; m <= 6; m++) {
		char month[8];
		snprintf(month, sizeof month, "2018%02d", m);
		cr_assert_eq(partition_rows(a, month), 20, "month %s", month);
	}
	cr_assert_eq(hl_jint(stats_of(a), "cluster.upkeep_failures") + hl_jint(stats_of(b), "cluster.upkeep_failures"), 0);
	cr_assert_null(strstr(hl_d_log(a), "upkeep of the event partitions failed"));
	cr_assert_null(strstr(hl_d_log(b), "upkeep of the event partitions failed"));
	hl_conn_close(ca);
	hl_conn_close(cb);
}
