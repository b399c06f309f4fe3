/*
 * store_due.c - the due lane: clocks that fell due run ahead of the queue.
 *
 * Issue 15: with ingest saturating the daemon, a clock that fell due used to
 * wait in the one FIFO behind every request queued before it (up to
 * 8 x 64 in flight, batches of 300-1000 events taking 75-380 ms), and 10,000
 * clocks due in one second arrived faster than mixed batches drained them:
 * alerts came 0.6-1.7 s late.  So a clock that falls due joins a lane of its
 * own (store_fire); while it is not empty, the next batch is the due clocks
 * alone, which commits in a few milliseconds per hundred alerts.
 *
 * Order.  The rules must still see a request received before the clock fell
 * due before the clock's check when that request may touch the clock's case:
 * an answered call received in time meets the callback; decided after the
 * fire it would be "met (late)" and the caller alerted as overdue.  So the
 * clocks of a batch are checked against the requests they pass (queued with
 * a smaller ticket): the core (batch_keys.c) says which of those name a case
 * themselves; for the others (reached through a caller, a call, a work order
 * or a merge) the batch's load carries a probe (SQL_DUE_CONFLICTS) that
 * returns the due cases they reach.  After the load, a clock whose case is
 * touched goes back into the queue at its place by ticket, as if it had
 * never jumped, and its case is decided in arrival order.  Escalations stay
 * in the queue (they are not due clocks of a case and rarely come in bursts).
 *
 * One batch of due clocks holds at most DUE_BATCH_MAX of them; the
 * cluster's ownership is unchanged (main.c queues a clock only for a slot
 * this daemon holds, and the one store connection writes it).
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "daemon.h"
#include "batch_keys.h"
#include "store_due_sql.h"
#include "store_internal.h"

/* Due clocks per batch (and never more than database.batch_max).  A batch
 * has a fixed cost (a dozen statements planned and bound, the lock, the
 * COMMIT): measured with 10,000 due in one second, batches of 128 took
 * 280-340 us per alert and drained the burst slower than batches of 512
 * (185-330 us); batches of 1,000 were no faster than 512 and hold every
 * alert of the batch until its COMMIT, 250-300 ms later. */
#define DUE_BATCH_MAX 512

/* A batch of due clocks, when any wait (the halves of a failed batch, at the
 * head of the queue, go first: store.c takes them before calling this). */
void store_due_take(void)
{
	struct item *it;
	int max = hl->cfg->database.batch_max < DUE_BATCH_MAX ? hl->cfg->database.batch_max : DUE_BATCH_MAX;
	while ((it = TAILQ_FIRST(&store.due)) && (int)store.n_batch < max) {
		TAILQ_REMOVE(&store.due, it, entry);
		store.n_due--;
		store.n_queue--;
		TAILQ_INSERT_TAIL(&store.batch, it, entry);
		store.n_batch++;
	}
}

/* The queued requests the batch's clocks pass: every item of the queue with
 * a smaller ticket than the batch's last clock. */
void store_due_probe(void)
{
	struct item *it;
	uint64_t last = 0;
	json_object *cases = NULL;
	store_due_forget();
	TAILQ_FOREACH(it, &store.batch, entry) {
		if (it->kind != ITEM_FIRE)
			continue;
		if (it->ticket > last)
			last = it->ticket;
		struct hl_bk_item k;
		store_bk_item(it, &k);
		if (!cases)
			cases = json_object_new_array();
		json_object_array_add(cases, json_object_new_int64(hl_due_case(&k)));
	}
	size_t n = 0, cap = 0;
	struct hl_bk_item *ahead = NULL;
	TAILQ_FOREACH(it, &store.queue, entry) {
		if (it->ticket >= last)
			continue; /* the queue is in ticket order but for retried batches: look at all of it */
		if (n == cap)
			ahead = hl_xrealloc(ahead, sizeof *ahead * (cap = cap ? 2 * cap : 64));
		store_bk_item(it, &ahead[n++]);
	}
	if (!cases || n == 0) {
		if (cases)
			json_object_put(cases);
		free(ahead);
		return;
	}
	store.ahead = hl_xrealloc(NULL, sizeof *store.ahead);
	hl_due_ahead_collect(ahead, n, store.ahead);
	free(ahead);
	char *due = store_json_take(cases);
	if (store.ahead->probe && !store.ahead->unkeyed) {
		const char *p[] = { due, store.ahead->callers, store.ahead->calls, store.ahead->orders,
		                    store.ahead->named };
		store.load_at[L_DUE] = store.n_stmts, store_send_stmt(SQL_DUE_CONFLICTS, 5, p);
	}
	free(due);
}

/* Put a clock back into the queue at its place by ticket. */
static void back_in_line(struct item *it)
{
	struct item *q;
	TAILQ_FOREACH_REVERSE(q, &store.queue, itemq, entry)
		if (q->ticket < it->ticket)
			break;
	if (q)
		TAILQ_INSERT_AFTER(&store.queue, q, it, entry);
	else
		TAILQ_INSERT_HEAD(&store.queue, it, entry);
	it->group = 0;
	store.n_queue++;
}

static bool probed(const PGresult *r, int64_t case_id)
{
	for (int i = 0; r && i < PQntuples(r); i++)
		if (store_get_ms(r, i, 0) == case_id)
			return true;
	return false;
}

/* The batch failed or the connection went: what it passed is looked at again next time. */
void store_due_forget(void)
{
	if (store.ahead) {
		hl_due_ahead_free(store.ahead);
		free(store.ahead);
		store.ahead = NULL;
	}
}

void store_due_settle(void)
{
	if (!store.ahead)
		return;
	const PGresult *r = store.load_at[L_DUE] >= 0 ? store.res[store.load_at[L_DUE]] : NULL;
	struct item *it, *next;
	for (it = TAILQ_FIRST(&store.batch); it; it = next) {
		next = TAILQ_NEXT(it, entry);
		if (it->kind != ITEM_FIRE)
			continue;
		struct hl_bk_item k;
		store_bk_item(it, &k);
		int64_t c = hl_due_case(&k);
		if (!hl_due_ahead_names(store.ahead, c) && !probed(r, c))
			continue;
		TAILQ_REMOVE(&store.batch, it, entry);
		store.n_batch--;
		back_in_line(it);
		hl->stats.due_deferred++;
	}
	hl_due_ahead_free(store.ahead);
	free(store.ahead);
	store.ahead = NULL;
}

void store_due_done(uint64_t batch_us)
{
	struct item *it;
	TAILQ_FOREACH(it, &store.batch, entry) {
		if (it->kind != ITEM_FIRE)
			continue;
		uint64_t wait = store.t_batch_us > it->queued_us ? store.t_batch_us - it->queued_us : 0;
		hl->stats.due_fired++;
		hl->stats.due_wait_us_total += wait;
		if (wait > hl->stats.due_wait_us_max)
			hl->stats.due_wait_us_max = wait;
		hl->stats.due_batch_us_total += batch_us;
		if (batch_us > hl->stats.due_batch_us_max)
			hl->stats.due_batch_us_max = batch_us;
	}
}

void store_due_free(void)
{
	struct item *it;
	while ((it = TAILQ_FIRST(&store.due))) {
		TAILQ_REMOVE(&store.due, it, entry);
		free(it);
	}
	store.n_due = 0;
	store_due_forget();
}
