/*
 * store_retry.c - a batch whose transaction failed: run it again, refuse it
 * for now, bisect it, or fail its only item (store.c's state machine calls
 * store_batch_failed at the write's Sync when the load or the write failed).
 *
 * The rules reject invalid events before they touch the world, so a batch
 * that PostgreSQL still refuses holds either a bug's or a constraint's one
 * bad item, or nothing bad at all: a deadlock or serialization failure with
 * another daemon's batch, an event id another daemon committed first, or a
 * server that refuses every write for now (a full disk, a read-only standby,
 * a timeout).  Each has its own way out, chosen here from the SQLSTATE
 * (hl_db_failure_of); what is left is halved until the one item that fails
 * is alone and is answered with an error, nothing of it stored.  Split from
 * store.c, which keeps the queue, the batch and its completion.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "store_internal.h"

/* The batch back at the head of the queue, in its order.  With groups, its
 * first `first` items become group g_first and the rest g_second (the
 * halves of a failed batch, each then a batch of its own); without (0), the
 * items keep theirs. */
static void requeue_batch(size_t first, uint64_t g_first, uint64_t g_second)
{
	struct item *it;
	size_t left = store.n_batch;
	while ((it = TAILQ_LAST(&store.batch, itemq))) {
		TAILQ_REMOVE(&store.batch, it, entry);
		if (g_first)
			it->group = left-- > first ? g_second : g_first;
		TAILQ_INSERT_HEAD(&store.queue, it, entry);
		store.n_queue++;
	}
}

/* A clock that fell due, or an escalation, that the database would not
 * store: the timer was taken off the heap when it fired, and nothing was
 * stored.  Freed alone, its alert would wait for the next restart, and a full
 * disk, a statement timeout or a deadlock pass.  Set it again after the
 * reconnect back-off's cap; a stale run is harmless (the rules check the
 * clock's seq and set it from its state). */
static void timer_item_later(struct item *it)
{
	int kind = it->kind == ITEM_ESCALATE ? TIMER_ESCALATION : (int)it->clock;
	clocks_set(it->id, kind, it->kind == ITEM_ESCALATE ? 0 : it->seq,
	           now_ms() + (hl_ms)hl->cfg->database.reconnect_max_s * 1000);
	free(it);
}

static struct log_retry refusing_log; /* the database refusing writes: logged once, then once a minute */

/* The server refuses writes for now, whatever the batch holds (a full disk,
 * a read-only standby, a statement or lock timeout: hl_db_failure_of).
 * Halving the batch would fail every half the same way, 2n transactions for
 * n items, so every request is answered `unavailable` at once (CONTRACT 2:
 * nothing was stored, the sender retries later) and every timer is set again
 * after the back-off's cap. */
static void batch_refused_for_now(const char *why)
{
	struct item *it;
	char what[128];
	snprintf(what, sizeof what, "store: the database refuses writes for now (SQLSTATE %s); a batch of %zu answered unavailable",
	         store.error_state, store.n_batch);
	log_retry_failed(&refusing_log, what, why);
	hl->stats.batches_refused++;
	while ((it = TAILQ_FIRST(&store.batch))) {
		TAILQ_REMOVE(&store.batch, it, entry);
		if (it->kind == ITEM_REQ)
			store_item_fail(it, HL_E_UNAVAILABLE, "the database refuses writes for now; nothing was stored; retry later");
		else
			timer_item_later(it);
	}
}

/* The batch's transaction failed: run it again, refuse it, bisect it, or
 * fail its only item. */
void store_batch_failed(const char *why)
{
	static uint64_t next_group;
	struct item *it;
	hl->stats.batch_failures++;
	store_due_forget();
	enum hl_db_failure failure = hl_db_failure_of(store.error_state);
	bool race = store.error_id_race, retry = failure == HL_DB_RETRY;
	TAILQ_FOREACH(it, &store.batch, entry) {
		race = race && !it->race_retried;
		retry = retry && !it->retry_retried;
	}
	if (retry && store.n_batch > 0) {
		/* A deadlock with another daemon's batch, or a serialization
		 * failure: nothing of the batch was stored and nothing in it is at
		 * fault.  Run it again as it was, once, before any halving. */
		log_server_error(5, "store: a deadlock or serialization failure; running the batch again", why);
		hl->stats.batch_retries++;
		TAILQ_FOREACH(it, &store.batch, entry)
			it->retry_retried = true;
		requeue_batch(0, 0, 0);
	} else if (failure == HL_DB_REFUSING && store.n_batch > 0) {
		batch_refused_for_now(why);
	} else if (race && store.n_batch > 0) {
		/* Another daemon committed one of the batch's event ids while this
		 * batch was writing it (CONTRACT 9: any daemon accepts any event).
		 * Nothing of the batch was stored; run it again as it was, once:
		 * its load now sees the id and answers it duplicate. */
		log_info("store: another daemon stored one of the batch's %zu event id(s) first: running it again",
		         store.n_batch);
		hl->stats.batch_id_races++;
		TAILQ_FOREACH(it, &store.batch, entry)
			it->race_retried = true;
		requeue_batch(0, 0, 0);
	} else if (store.n_batch == 0) {
		/* only delivered webhooks' rows: they are sent again after a restart (same delivery id) */
		log_server_error(4, "store: the delivered webhooks' rows were not deleted", why);
	} else if (store.n_batch == 1) {
		it = TAILQ_FIRST(&store.batch);
		TAILQ_REMOVE(&store.batch, it, entry);
		log_server_error(3, "store: an item failed alone", why);
		if (it->kind == ITEM_REQ && failure == HL_DB_REFUSED)
			store_item_fail(it, HL_E_INTERNAL, "the database refused this event; nothing was stored");
		else if (it->kind == ITEM_REQ) /* a deadlock again, after its run again */
			store_item_fail(it, HL_E_UNAVAILABLE, "the database could not store this event for now; nothing was stored; retry later");
		else
			timer_item_later(it);
	} else {
		size_t first = store.n_batch / 2, second = store.n_batch - first;
		char what[96];
		snprintf(what, sizeof what, "store: batch of %zu failed, retrying it in halves of %zu and %zu",
		         store.n_batch, first, second);
		log_server_error(4, what, why);
		hl->stats.batch_splits++;
		uint64_t g_first = ++next_group, g_second = ++next_group;
		requeue_batch(first, g_first, g_second);
	}
	store.n_batch = 0;
	store_write_forget(); /* its alerts were not stored: their texts go */
	store_pipeline_reset();
	hl_world_reset(store.world);
	store.state = S_IDLE;
	store_kick();
}

/* A write committed: if the database had been refusing writes, say it is over. */
void store_refusals_over(void)
{
	if (refusing_log.first_us) {
		log_notice("store: the database accepts writes again");
		log_retry_ok(&refusing_log);
	}
}
