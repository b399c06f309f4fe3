/*
 * store_stmt.c - the store's statements: which are prepared once per
 * connection, which are planned at each run, and how a statement's text
 * finds its prepared name.
 *
 * Every statement of a batch is prepared when the connection starts
 * (store_conn.c's start-up), so that a batch costs PostgreSQL no parsing or
 * planning, only execution, and the load statements' columns are found by
 * name once (store_columns.c describes the prepared statements).  A few are
 * planned at each run instead: prepared as well (for their columns) but sent
 * as the unnamed statement in their prepared text, because a generic plan
 * for them can be catastrophic whatever the statistics (PLANNED_EACH_RUN).
 * Apart from store_conn.c because this is the list of what the store says,
 * not the life of the connection it says it on.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "daemon.h"
#include "protocol.h"
#include "rules.h"
#include "store_sql.h"
#include "orders.h"
#include "store_orders_sql.h"
#include "store_due_sql.h"
#include "store_internal.h"

static const char *const PREPARED[] = {
	SQL_SEEN, SQL_CASES, SQL_CALLS, SQL_CALLERS, SQL_ALERTS, SQL_IDS,
	SQL_W_CALLERS, SQL_W_CASES, SQL_W_CALLS, SQL_W_CLOCKS, SQL_W_CLOCK_FIRES, SQL_W_EVENTS,
	SQL_W_ALERTS_NEW, SQL_W_ALERTS_UPD, SQL_CASE_GET, SQL_CASE_GET_MASKED, SQL_REPLAY, SQL_ACK_GET,
	SQL_ORDER_CASES, SQL_ORDERS, SQL_W_ORDERS, SQL_W_MERGES,
	SQL_HOTSPOT_CASES, SQL_HOTSPOTS, SQL_W_HOTSPOT_CASES, SQL_W_HOTSPOTS, SQL_W_ORDER_URGE_STOP,
	SQL_W_ORDER_SURVEYS,
	SQL_LOCK_BATCH, SQL_CLOCK_NOTIFY, SQL_DUE_CONFLICTS,
	SQL_W_WEBHOOKS_DONE, SQL_W_FIGURES_BEFORE, SQL_W_FIGURES_AFTER,
};
#define N_PREPARED ((int)(sizeof PREPARED / sizeof PREPARED[0]))

/* The statements planned at every run rather than once: only those whose
 * generic plan can be catastrophic.  SQL_HOTSPOT_CASES filters
 * hotspot_cases (one row per case) by `at > $6`, a recent window: a generic
 * plan cannot know that the window is a sliver of the table and may scan all
 * of it each batch, however fresh the statistics.  The order loads are
 * prepared (issue 15): a plan cached while orders was empty used to compare
 * every row with every order id of the batch (`= ANY (ARRAY(...))` is not
 * hashed), O(orders x batch) until an ANALYZE; now every key list is
 * `IN (SELECT ...)`, hashed or joined, so even that plan is O(orders) and
 * sql/029's analyze thresholds replace it within about a thousand orders.
 * With statistics, their generic plan probes orders_unreplied, orders_pkey
 * and orders_case_id_order_no_key as the custom plans did; it saves the
 * planning of two statements a batch. */
static const char *const PLANNED_EACH_RUN[] = { SQL_HOTSPOT_CASES };

/* per prepared statement: the text sent at each run, NULL when it runs prepared */
static char *run_text[N_PREPARED];

int store_stmt_count(void) { return N_PREPARED; }

const char *store_stmt_sql(int i) { return PREPARED[i]; }

const char *store_stmt_each_run(int i) { return i >= 0 && i < N_PREPARED ? run_text[i] : NULL; }

/* The prepared statement that runs sql, or -1.  By text, not only by
 * pointer: the statements are `static const` in their headers, so each file
 * that includes one has its own copy at its own address (comparing pointers
 * alone sent every statement of store_load.c and store_write.c unprepared). */
int store_stmt_index(const char *sql)
{
	/* one entry per copy: every statement in each of the (at most 8) files
	 * that include the SQL headers, so the cache never fills and a batch
	 * never falls back to comparing texts */
	enum { SEEN_MAX = 8 * N_PREPARED };
	static const char *seen_ptr[SEEN_MAX];
	static int seen_idx[SEEN_MAX];
	static int n_seen;
	for (int k = 0; k < n_seen; k++)
		if (seen_ptr[k] == sql)
			return seen_idx[k];
	int found = -1;
	for (int i = 0; i < N_PREPARED && found < 0; i++)
		if (PREPARED[i] == sql || strcmp(PREPARED[i], sql) == 0)
			found = i;
	if (n_seen < SEEN_MAX)
		seen_ptr[n_seen] = sql, seen_idx[n_seen++] = found;
	return found;
}

/* The texts of the statements planned at each run: as prepared (the same
 * columns, store_columns.c), once, at start. */
void store_stmt_init(void)
{
	for (size_t k = 0; k < sizeof PLANNED_EACH_RUN / sizeof PLANNED_EACH_RUN[0]; k++) {
		int i = store_stmt_index(PLANNED_EACH_RUN[k]);
		if (i >= 0 && !run_text[i])
			run_text[i] = store_columns_prepare_text(PREPARED[i]);
	}
}

void store_stmt_free(void)
{
	for (int i = 0; i < N_PREPARED; i++) {
		free(run_text[i]);
		run_text[i] = NULL;
	}
}
