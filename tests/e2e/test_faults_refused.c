/*
 * test_faults_refused.c - PostgreSQL refuses a batch for a reason that is
 * not the batch's: a full disk, a deadlock.
 *
 * CONTRACT 2 has one answer for "nothing was stored, send it again later":
 * `unavailable`.  Before, a batch that PostgreSQL refused was halved until
 * one event failed alone, and that event was answered `internal`, whatever
 * the cause: a disk full for a minute turned every event of it into an error
 * the sender could not tell from a bug, after 2n transactions.  Now the
 * SQLSTATE decides (util.c hl_db_failure_of, store.c batch_failed):
 *   - the server refusing writes for now (53100 disk_full, a read-only
 *     standby, a statement timeout...): every request of the batch is
 *     answered `unavailable` at once, nothing is halved, nothing is stored,
 *     and the same ids are accepted once the server takes writes;
 *   - a deadlock or serialization failure: the batch runs again once as it
 *     was; if it keeps failing it is halved as before, and an event that
 *     still fails alone is answered `unavailable`, not `internal`;
 *   - anything else (a constraint, a bug): halved, `internal` as before
 *     (test_defects, test_pipeline).
 * The failures are made by triggers raising the SQLSTATE, since a real full
 * disk cannot be made in a test.
 */
#include "harness.h"

#include <stdio.h>
#include <string.h>

TestSuite(faults_refused, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 120);

/* Send n call.offered events (ids prefix-0 ..) in one pipeline; count the
 * answers by code in ok / unavailable / other. */
static void burst(struct hl_conn *c, const char *prefix, int n, int *ok, int *unavailable, int *other)
{
	*ok = *unavailable = *other = 0;
	for (int i = 0; i < n; i++)
		cr_assert_eq(hl_sendf(c, "{\"type\":\"call.offered\",\"id\":\"%s-%d\",\"call_id\":\"%s-call-%d\","
		                         "\"caller\":\"+86137000%05d\"}", prefix, i, prefix, i, 31000 + i), 0);
	for (int i = 0; i < n; i++) {
		json_object *r = hl_recv_json(c, 20000);
		cr_assert(r, "answer %d of %d missing", i, n);
		const char *code = hl_jstr(r, "error.code");
		if (hl_jbool(r, "ok"))
			(*ok)++;
		else if (code && strcmp(code, "unavailable") == 0)
			(*unavailable)++;
		else
			(*other)++, cr_log_warn("%s", json_object_to_json_string(r));
	}
}

static int64_t stat_of(struct hl_conn *c, const char *name)
{
	char path[64];
	snprintf(path, sizeof path, "stats.%s", name);
	return hl_jint(hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}"), path);
}

HL_TEST(faults_refused, a_full_disk_answers_every_event_unavailable_and_halves_nothing)
{
	struct hl_d *d = hl_d_up(NULL);
	hl_sql(d, "CREATE FUNCTION public.hl_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
	          "RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END$$");
	hl_sql(d, "CREATE TRIGGER hl_disk_full BEFORE INSERT ON hotline.calls FOR EACH ROW "
	          "EXECUTE FUNCTION public.hl_disk_full()");
	struct hl_conn *c = hl_conn_unix(d);
	int ok, unavailable, other;
	burst(c, "full", 40, &ok, &unavailable, &other);
	cr_assert_eq(unavailable, 40, "ok %d, unavailable %d, other %d", ok, unavailable, other);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 0, "nothing half-stored");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.cases"), 0);
	cr_assert_eq(stat_of(c, "batch_splits"), 0, "a full disk is not the batch's fault: nothing to halve");
	cr_assert_geq(stat_of(c, "batches_refused"), 1);
	cr_assert_eq(stat_of(c, "errors.internal"), 0);
	/* logged at err once, with the SQLSTATE, not once per batch */
	burst(c, "full", 40, &ok, &unavailable, &other);
	cr_assert_eq(unavailable, 40);
	size_t errs = 0;
	for (const char *q = hl_d_log(d); (q = strstr(q, "<3>store: the database refuses writes for now (SQLSTATE 53100)")); q++)
		errs++;
	cr_assert_eq(errs, 1, "%s", hl_d_log(d));

	/* the disk has room again: the same ids are accepted, once each */
	hl_sql(d, "DROP TRIGGER hl_disk_full ON hotline.calls");
	burst(c, "full", 40, &ok, &unavailable, &other);
	cr_assert_eq(ok, 40, "ok %d, unavailable %d, other %d", ok, unavailable, other);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 40);
	cr_assert(strstr(hl_d_log(d), "store: the database accepts writes again"), "%s", hl_d_log(d));
}

HL_TEST(faults_refused, a_deadlock_runs_the_batch_again_and_never_answers_internal)
{
	struct hl_d *d = hl_d_up(NULL);
	/* the first transaction that inserts a call dies in a deadlock; the
	 * sequence is not rolled back with it, so the run again succeeds */
	hl_sql(d, "CREATE SEQUENCE public.hl_deadlocks");
	hl_sql(d, "GRANT USAGE ON SEQUENCE public.hl_deadlocks TO PUBLIC");
	hl_sql(d, "CREATE FUNCTION public.hl_deadlock_once() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
	          "IF nextval('public.hl_deadlocks') = 1 THEN "
	          "RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END IF; "
	          "RETURN NEW; END$$");
	hl_sql(d, "CREATE TRIGGER hl_deadlock BEFORE INSERT ON hotline.calls FOR EACH STATEMENT "
	          "EXECUTE FUNCTION public.hl_deadlock_once()");
	struct hl_conn *c = hl_conn_unix(d);
	int ok, unavailable, other;
	burst(c, "dl", 20, &ok, &unavailable, &other);
	cr_assert_eq(ok, 20, "ok %d, unavailable %d, other %d", ok, unavailable, other);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events"), 20);
	cr_assert_eq(stat_of(c, "batch_retries"), 1);
	cr_assert_eq(stat_of(c, "batch_splits"), 0, "run again whole, not halved");

	/* a deadlock every time: halved down to single events, each answered
	 * unavailable (send it again later), never internal */
	hl_sql(d, "DROP TRIGGER hl_deadlock ON hotline.calls");
	hl_sql(d, "CREATE FUNCTION public.hl_deadlock_always() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
	          "RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END$$");
	hl_sql(d, "CREATE TRIGGER hl_deadlock BEFORE INSERT ON hotline.calls FOR EACH STATEMENT "
	          "EXECUTE FUNCTION public.hl_deadlock_always()");
	burst(c, "dl2", 4, &ok, &unavailable, &other);
	cr_assert_eq(unavailable, 4, "ok %d, unavailable %d, other %d", ok, unavailable, other);
	cr_assert_eq(stat_of(c, "errors.internal"), 0);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.case_events WHERE event_id LIKE 'dl2-%%'"), 0);
}
