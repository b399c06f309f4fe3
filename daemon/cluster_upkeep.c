/*
 * cluster_upkeep.c - the event partitions kept coming by the cluster session:
 * the months ahead, once a day, and the months of imported history that
 * landed in the default partition, within seconds.
 *
 * hotline.case_events is partitioned by UTC month (sql/021) so that retention
 * drops a month in milliseconds.  Two things would defeat that: a daemon that
 * runs for years without `--migrate` (no partitions for the coming months, so
 * every event lands in the default partition), and an import of old history
 * (`hotline-pbx --backfill`: events dated before the oldest month partition).
 * This file runs the SQL that prevents both (ensure_event_partitions,
 * adopt_default_months) on cluster.c's side session, one query at a time
 * like the rest of that session, never on the store's connection.  It owns
 * its state and its counters; cluster.c forwards its results and ticks.
 */
#include <stdlib.h>

#include <libpq-fe.h>

#include "daemon.h"
#include "cluster_sql.h"

#define UPKEEP_EVERY_MS (24 * 3600 * 1000LL)
#define UPKEEP_RETRY_MS (3600 * 1000LL)
#define DEFAULT_CHECK_MS (5 * 1000LL)    /* how often the default partition is looked at */
#define DEFAULT_AFTER_FAIL_MS (60 * 1000LL)

static struct {
	hl_ms upkeep_at;            /* monotonic ms of the next upkeep; 0: as soon as the session is up */
	bool upkeep_queued;
	hl_ms upkeep_failed_at;     /* monotonic ms of the last failed upkeep; 0: none */
	hl_ms default_at;           /* monotonic ms of the next look at the default partition */
	bool default_queued;
	uint64_t upkeeps, partitions_created, upkeep_failures;
} K;

/* hotline.case_events is partitioned by month (sql/021) and --migrate
 * creates the next months; a daemon that runs for years without a migrate
 * must keep them coming, or every event lands in the default partition and
 * retention can no longer drop a month in milliseconds.  So once a day (and
 * when the session comes up) the side session asks for the partitions of the
 * next UPKEEP_MONTHS: nothing to do on almost every day, a CREATE TABLE once a
 * month.  Creating a partition takes a lock on case_events that the store's
 * inserts wait for; lock_timeout bounds that wait, so an administrator's long
 * query on the table costs a retry an hour later, never a stalled store
 * queued behind our lock request.  Every daemon of a cluster does it; the
 * function is idempotent and a lost race is only a retry. */
static void upkeep_now(void)
{
	if (!session_up() || K.upkeep_queued || mono_ms() < K.upkeep_at)
		return;
	K.upkeep_queued = true;
	session_query(Q_SETUP, "SET lock_timeout = '1s'", NULL, NULL);
	session_query(Q_UPKEEP, SQL[Q_UPKEEP], NULL, NULL);
	session_query(Q_SETUP, "RESET lock_timeout", NULL, NULL);
}

/* Events dated before the oldest month partition (an import of last year's
 * queue_log) land in the default partition, where retention cannot drop
 * them.  Every DEFAULT_CHECK_MS the session asks whether the default
 * partition holds a row (one probe of a table that is empty on almost every
 * look); when it does, the upkeep runs at once, and its
 * hotline.adopt_default_months() (sql/085) makes the month of those rows and
 * moves them into it.  An import so leaves a few seconds of its events in the
 * default partition per month it reaches, a move of a tenth of a second or so.  After a
 * failed upkeep (lock_timeout) it waits DEFAULT_AFTER_FAIL_MS before trying
 * again, so a long transaction on case_events costs a warning a minute, not
 * one every few seconds. */
static void default_tick(void)
{
	hl_ms now = mono_ms();
	if (!session_up() || K.default_queued || K.upkeep_queued || now < K.default_at)
		return;
	K.default_queued = true;
	K.default_at = now + DEFAULT_CHECK_MS;
	session_query(Q_DEFAULT, SQL[Q_DEFAULT], NULL, NULL);
}

static void default_done(PGresult *r)
{
	K.default_queued = false;
	bool rows = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
	if (!rows || K.upkeep_queued)
		return;
	if (K.upkeep_failed_at && mono_ms() - K.upkeep_failed_at < DEFAULT_AFTER_FAIL_MS)
		return;
	K.upkeep_at = 0;
	upkeep_now();
}

static void upkeep_done(PGresult *r)
{
	int made = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : 0;
	K.upkeep_queued = false;
	K.upkeep_at = mono_ms() + UPKEEP_EVERY_MS;
	K.upkeep_failed_at = 0;
	K.upkeeps++;
	K.partitions_created += (uint64_t)(made > 0 ? made : 0);
	if (made > 0)
		log_notice("cluster: upkeep created %d event partition(s) (hotline.case_events: %d months ahead, and the "
		           "months of events in the default partition)", made, UPKEEP_MONTHS);
}

void cluster_upkeep_tick(void)
{
	upkeep_now();
	default_tick();
}

void cluster_upkeep_ready(void)
{
	K.upkeep_at = 0;
	upkeep_now();
}

void cluster_upkeep_lost(void)
{
	K.upkeep_queued = false;
	K.default_queued = false;
}

void cluster_upkeep_result(int tag, PGresult *r)
{
	if (tag == Q_UPKEEP)
		upkeep_done(r);
	else if (tag == Q_DEFAULT)
		default_done(r);
}

void cluster_upkeep_failed(int tag)
{
	if (tag == Q_DEFAULT) {
		K.default_queued = false;
		return;
	}
	/* session.c logged why (a lock not granted within lock_timeout, say) */
	K.upkeep_queued = false;
	K.upkeep_failures++;
	K.upkeep_failed_at = mono_ms();
	K.upkeep_at = K.upkeep_failed_at + UPKEEP_RETRY_MS;
	log_warn("cluster: upkeep of the event partitions failed: trying again in an hour, or in a minute if events "
	         "wait in the default partition");
}

void cluster_upkeep_figures(uint64_t *upkeeps, uint64_t *created, uint64_t *failures)
{
	*upkeeps = K.upkeeps;
	*created = K.partitions_created;
	*failures = K.upkeep_failures;
}
