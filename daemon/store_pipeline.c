/*
 * store_pipeline.c - the store's pipeline: statements queued on the one
 * connection, sent without waiting, and one callback when their results
 * are in.
 *
 * Split from store_conn.c, which owns the connection's life (connect, start
 * up, reconnect) and hands this file the results as they arrive
 * (store_pipeline_results, from its socket callback).  Nothing here blocks:
 * a flush that cannot finish waits for the socket to be writable.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "daemon.h"
#include "store_internal.h"

/*
 * A caller opens a pipeline for up to n statements (store_pipeline_begin),
 * queues them (store_send_stmt), then ends it with one callback:
 * store_pipeline_sync(done) sends a Sync, and done runs when the Sync's
 * result arrives, so after COMMIT (or the rollback), with every statement's
 * result or the first error; store_pipeline_open(done) sends a flush request
 * instead, and done runs once every statement's result is in while the
 * transaction (and its locks) go on.  The batch state machine (store.c) then
 * only says what comes next; it never counts results.
 */

/* Room for the results of up to n statements: store_send_stmt() refuses to go
 * past it (a statement added to a pipeline without raising its count would
 * otherwise write beyond store.res). */
static int res_cap;
static store_done_fn on_done;  /* the callback of the pipeline in flight */
static bool done_when_all_in;  /* open: call it when every result is in, not at Sync */

void store_pipeline_reset(void)
{
	for (int i = 0; i < store.n_stmts; i++)
		PQclear(store.res[i]);
	free(store.res);
	store.res = NULL;
	store.n_stmts = store.cur_stmt = 0;
	free(store.error);
	store.error = NULL;
	store.error_id_race = false;
	store.error_state[0] = '\0';
	on_done = NULL;
	done_when_all_in = false;
}

void store_pipeline_begin(int n)
{
	store_pipeline_reset();
	store.res = hl_xrealloc(NULL, sizeof *store.res * (size_t)(n ? n : 1));
	memset(store.res, 0, sizeof *store.res * (size_t)(n ? n : 1));
	res_cap = n;
	store.n_stmts = 0;
}

static void pipeline_fail(const char *msg)
{
	if (!store.error)
		store.error = hl_xstrdup(msg && *msg ? msg : "pipeline error");
}

/* Every statement is prepared once per connection (see startup_next): a
 * batch then costs PostgreSQL no parsing or planning, only execution. */
void store_send_stmt(const char *sql, int nparams, const char *const *params)
{
	if (store.n_stmts >= res_cap) {
		log_crit("store: more statements than the pipeline was sized for (%d)", res_cap);
		abort();
	}
	int i = store_stmt_index(sql);
	/* a few are planned at each run (store_stmt.c): their prepared text, as the unnamed statement */
	const char *each = store_stmt_each_run(i);
	char name[16];
	snprintf(name, sizeof name, "hl_%d", i);
	if (i < 0 || each ? !PQsendQueryParams(store.pg, i < 0 ? sql : each, nparams, NULL, params, NULL, NULL, 0)
	                  : !PQsendQueryPrepared(store.pg, name, nparams, params, NULL, NULL, 0))
		pipeline_fail(PQerrorMessage(store.pg));
	store.n_stmts++;
}

/* Push what the pipeline holds to the server; the rest when the socket is writable. */
static void pipeline_flush(void)
{
	int f = PQflush(store.pg);
	if (f < 0) {
		store_on_lost(PQerrorMessage(store.pg));
		return;
	}
	if (f == 1)
		event_add(store.ev_write, NULL);
}

/* Mid-pipeline: send the statements queued so far, so that PostgreSQL starts
 * on them while the daemon builds the rest (store_start_write: the rollup's
 * figures_before, the longest statement of a write, runs while the rows are
 * turned into JSON).  libpq itself sends only past 64 kB in pipeline mode.
 * A failure is not handled here, in the middle of a caller's work: the
 * Sync's flush meets it again and reports the lost connection. */
void store_pipeline_push(void)
{
	if (PQflush(store.pg) == 1)
		event_add(store.ev_write, NULL);
}

void store_pipeline_sync(store_done_fn done)
{
	on_done = done;
	done_when_all_in = false;
	store.load_open = false;
	if (!PQpipelineSync(store.pg))
		pipeline_fail(PQerrorMessage(store.pg));
	pipeline_flush();
}

/* Without ending the transaction: a flush request instead of a Sync, so the
 * batch locks the load took stay held through the write and its COMMIT
 * (several daemons, see sql/016_cluster.sql and cluster.c). */
void store_pipeline_open(store_done_fn done)
{
	on_done = done;
	done_when_all_in = true;
	store.load_open = true;
	if (!PQsendFlushRequest(store.pg))
		pipeline_fail(PQerrorMessage(store.pg));
	pipeline_flush();
}

static void call_done(void)
{
	store_done_fn done = on_done;
	on_done = NULL;
	done_when_all_in = false;
	if (done)
		done(store.res, store.n_stmts, store.error);
}

/* Collect what the server sent: each statement's result, then the callback. */
void store_pipeline_results(void)
{
	for (;;) {
		if (PQisBusy(store.pg))
			return;
		PGresult *r = PQgetResult(store.pg);
		if (!r) {
			/* end of one statement's results */
			if (store.cur_stmt < store.n_stmts)
				store.cur_stmt++;
			else
				return; /* nothing more pending */
			if (done_when_all_in && store.cur_stmt == store.n_stmts) {
				call_done();
				return;
			}
			continue;
		}
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			/* the transaction is over: committed, or rolled back on error */
			store.load_open = false;
			call_done();
			return;
		}
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
			if (store.cur_stmt < store.n_stmts && !store.res[store.cur_stmt])
				store.res[store.cur_stmt] = r;
			else
				PQclear(r);
		} else {
			const char *m = st == PGRES_PIPELINE_ABORTED ? "pipeline aborted" : PQresultErrorMessage(r);
			if (!store.error && st == PGRES_FATAL_ERROR) {
				/* the same event id through two daemons at once: the unique
				 * key waited for the other's COMMIT (store.c batch_failed) */
				const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
				const char *key = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
				snprintf(store.error_state, sizeof store.error_state, "%s", code ? code : "");
				store.error_id_race = code && strcmp(code, "23505") == 0 && key && strcmp(key, "event_ids_pkey") == 0;
			}
			pipeline_fail(m && *m ? m : PQresStatus(st));
			PQclear(r);
		}
	}
}
