/*
 * store_columns.c - rows read by column name, the names checked once per connection.
 *
 * Each load statement (and each alert statement of the write) declares the
 * columns its decoder reads, by name, in a struct store_columns next to that
 * decoder (store_load.c, store_orders.c, store.c).
 * When the statements are prepared (store_conn.c), each mapped statement is
 * also described (PQsendDescribePrepared, in the same pipeline), and here
 * every name is resolved to its column number once: a statement that lacks a
 * column its decoder reads stops the daemon at start with the statement and
 * the column named, instead of decoding the wrong column quietly.  Decoders
 * then read `r, row, m->at[CASE_OPENED_AT]`, never a bare position.
 *
 * A statement whose text does not name its computed columns yet (the work
 * order statements of store_orders_sql.h: `hotline.ms(x)` comes out as
 * "ms") is marked named_in_order: it is prepared wrapped as
 * SELECT * FROM (statement) AS q(names...), which names its columns in order
 * and fails at prepare time if it has fewer columns than names.  When those
 * statements say `AS name` themselves, the flag goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "daemon.h"
#include "rules.h"
#include "store_internal.h"

static struct store_columns *find(const char *sql)
{
	for (struct store_columns *const *m = store_column_maps; *m; m++)
		if ((*m)->sql == sql || strcmp((*m)->sql, sql) == 0) /* a copy per file: see store_stmt_index */
			return *m;
	return NULL;
}

char *store_columns_prepare_text(const char *sql)
{
	const struct store_columns *m = find(sql);
	if (!m || !m->named_in_order)
		return hl_xstrdup(sql);
	size_t len = strlen(sql) + 64;
	for (int k = 0; k < m->n; k++)
		len += strlen(m->names[k]) + 2;
	char *text = hl_xrealloc(NULL, len);
	size_t at = (size_t)snprintf(text, len, "SELECT * FROM (%s) AS q(", sql);
	for (int k = 0; k < m->n; k++)
		at += (size_t)snprintf(text + at, len - at, "%s%s", k ? ", " : "", m->names[k]);
	snprintf(text + at, len - at, ")");
	return text;
}

int store_columns_count(void)
{
	int n = 0;
	for (struct store_columns *const *m = store_column_maps; *m; m++)
		n++;
	return n;
}

const char *store_columns_sql(int i)
{
	return store_column_maps[i]->sql;
}

bool store_columns_resolve(int i, const PGresult *described, char *why, size_t why_len)
{
	struct store_columns *m = store_column_maps[i];
	for (int k = 0; k < m->n; k++) {
		m->at[k] = described ? PQfnumber(described, m->names[k]) : -1;
		if (m->at[k] < 0) {
			snprintf(why, why_len, "the statement %s returns no column \"%s\"", m->what, m->names[k]);
			return false;
		}
	}
	return true;
}
