/*
 * migrate.c - `hotlined --migrate`: apply the embedded schema migrations in order.
 *
 * The SQL files sql/NNN_name.sql are compiled into the binary (see
 * mk/embed-sql.sh), so an installed daemon always carries exactly the schema
 * it was built for.  Each pending migration runs in its own transaction
 * together with its row in hotline.schema_migrations, under an advisory
 * lock so two concurrent runs cannot interleave.  A second run applies
 * nothing.  This runs before and outside the event loop, so it uses libpq's
 * blocking calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "daemon.h"
#include "migrations.h"
#include "redact.h"

#define LOCK_KEY "7370737" /* pg_advisory_lock: one migration run at a time */

int migrate_latest(void)
{
	return hl_n_migrations ? hl_migrations[hl_n_migrations - 1].version : 0;
}

/* A migration that fails on data quotes the row: mask numbers as the daemon's log does. */
static void print_server_error(const char *what, const char *msg)
{
	size_t len = strlen(msg ? msg : "");
	char *masked = malloc(len + 1);
	if (masked)
		hl_redact_digits(msg ? msg : "", masked, len + 1);
	fprintf(stderr, "hotlined: %s: %s", what, masked ? masked : "(out of memory)");
	free(masked);
}

static int exec_ok(PGconn *pg, const char *sql, const char *what)
{
	PGresult *r = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		print_server_error(what, PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

static bool is_applied(PGconn *pg, int version)
{
	char v[16];
	snprintf(v, sizeof v, "%d", version);
	const char *params[] = { v };
	PGresult *r = PQexecParams(pg, "SELECT 1 FROM hotline.schema_migrations WHERE version = $1::int",
	                           1, NULL, params, NULL, NULL, 0);
	bool yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
	PQclear(r);
	return yes;
}

int migrate_run(const char *conninfo)
{
	const char *keys[] = { "dbname", "fallback_application_name", NULL };
	const char *vals[] = { conninfo, "hotlined-migrate", NULL };
	PGconn *pg = PQconnectdbParams(keys, vals, 1);
	int applied = 0, rc = 1;

	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "hotlined: cannot connect to the database: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return 1;
	}
	PQsetNoticeProcessor(pg, NULL, NULL);
	/* a session lock: held across the migrations' transactions */
	if (exec_ok(pg, "SELECT pg_advisory_lock(" LOCK_KEY ")", "lock") != 0)
		goto out;
	/* create the bookkeeping only when missing: a role without CREATE on the
	 * database can then still be told that nothing is pending */
	PGresult *t = PQexec(pg, "SELECT to_regclass('hotline.schema_migrations') IS NOT NULL");
	bool have = PQresultStatus(t) == PGRES_TUPLES_OK && PQgetvalue(t, 0, 0)[0] == 't';
	PQclear(t);
	if (!have && exec_ok(pg, "SET client_min_messages = warning;"
	                "CREATE SCHEMA IF NOT EXISTS hotline;"
	                "CREATE TABLE IF NOT EXISTS hotline.schema_migrations ("
	                " version integer PRIMARY KEY, name text NOT NULL,"
	                " applied_at timestamptz NOT NULL DEFAULT now())", "bookkeeping") != 0)
		goto out;

	for (size_t i = 0; i < hl_n_migrations; i++) {
		const struct hl_migration *m = &hl_migrations[i];
		if (is_applied(pg, m->version))
			continue;
		if (exec_ok(pg, "BEGIN", m->name) != 0)
			goto out;
		if (exec_ok(pg, m->sql, m->name) != 0) {
			exec_ok(pg, "ROLLBACK", "rollback");
			fprintf(stderr, "hotlined: migration %s failed; nothing of it was applied\n", m->name);
			goto out;
		}
		char v[16];
		snprintf(v, sizeof v, "%d", m->version);
		const char *params[] = { v, m->name };
		PGresult *r = PQexecParams(pg, "INSERT INTO hotline.schema_migrations (version, name) VALUES ($1::int, $2)",
		                           2, NULL, params, NULL, NULL, 0);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			print_server_error(m->name, PQresultErrorMessage(r));
		PQclear(r);
		if (!ok || exec_ok(pg, "COMMIT", m->name) != 0) {
			exec_ok(pg, "ROLLBACK", "rollback");
			goto out;
		}
		printf("applied %s\n", m->name);
		applied++;
	}
	if (applied == 0) {
		/* a rollback, or a daemon not yet upgraded beside newer ones: accepted, but said */
		PGresult *v = PQexec(pg, "SELECT COALESCE(max(version), 0) FROM hotline.schema_migrations");
		int at = PQresultStatus(v) == PGRES_TUPLES_OK && PQntuples(v) == 1 ? atoi(PQgetvalue(v, 0, 0)) : 0;
		PQclear(v);
		if (at > migrate_latest())
			printf("schema at version %d, newer than this hotlined knows (%d): nothing to migrate;"
			       " run the same release everywhere once the upgrade is done\n", at, migrate_latest());
		else
			printf("schema up to date (version %d)\n", migrate_latest());
	}
	/* case_events' month partitions for the year ahead (sql/021); cron keeps
	 * them coming (docs/operations.md), the default partition catches the rest */
	PGresult *p = PQexec(pg, "SELECT hotline.ensure_event_partitions(12)"
	                         " WHERE to_regprocedure('hotline.ensure_event_partitions(integer)') IS NOT NULL");
	if (PQresultStatus(p) != PGRES_TUPLES_OK) {
		print_server_error("event partitions", PQresultErrorMessage(p));
		PQclear(p);
		goto out;
	}
	if (PQntuples(p) == 1 && strcmp(PQgetvalue(p, 0, 0), "0") != 0)
		printf("created %s month partition(s) of hotline.case_events\n", PQgetvalue(p, 0, 0));
	PQclear(p);
	rc = 0;
out:
	exec_ok(pg, "SELECT pg_advisory_unlock(" LOCK_KEY ")", "unlock");
	PQfinish(pg);
	return rc;
}

/* After the migrations: the database's report zone from report.timezone (017). */
int migrate_report_tz(const char *conninfo, const char *zone)
{
	const char *keys[] = { "dbname", "fallback_application_name", NULL };
	const char *vals[] = { conninfo, "hotlined-migrate", NULL };
	PGconn *pg = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "hotlined: cannot connect to the database: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return 1;
	}
	const char *params[] = { zone };
	PGresult *r = PQexecParams(pg, "SELECT hotline.set_report_timezone($1)", 1, NULL, params, NULL, NULL, 0);
	int rc = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		print_server_error("report.timezone", PQresultErrorMessage(r));
		rc = 1;
	} else if (PQgetvalue(r, 0, 0)[0] == 't') {
		printf("report time zone %s\n", zone);
	}
	PQclear(r);
	/* The daemon's own role may run --migrate when nothing is pending (the
	 * unit's upgrade step), but only the schema's owner may recount the
	 * figures, and only it can see whether they need it: such a role says
	 * so and succeeds. */
	if (rc == 0) {
		r = PQexec(pg, "SELECT to_regprocedure('hotline.rebuild_figure_rollup_if_stale(text)') IS NULL"
		               " OR has_function_privilege('hotline.rebuild_figure_rollup_if_stale(text)', 'EXECUTE')");
		bool may = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
		PQclear(r);
		if (!may) {
			printf("figures not checked: after a change of report.timezone the schema's owner runs --migrate"
			       " to recount them\n");
			PQfinish(pg);
			return rc;
		}
	}
	/* the figures' rollup counts local days: recount it if the zone moved (sql/023) */
	if (rc == 0) {
		r = PQexecParams(pg, "SELECT hotline.rebuild_figure_rollup_if_stale($1)"
		                     " WHERE to_regprocedure('hotline.rebuild_figure_rollup_if_stale(text)') IS NOT NULL",
		                 1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			print_server_error("figure rollup", PQresultErrorMessage(r));
			rc = 1;
		} else if (PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't') {
			printf("figures recounted in %s\n", zone);
		}
		PQclear(r);
	}
	PQfinish(pg);
	return rc;
}

/* What PQconninfoParse refuses is refused by --check and at start-up rather
 * than retried for ever (a misspelt key is as permanent as any other error
 * in the file).  libpq's message names an unknown key; its other messages
 * may quote a piece of the string, which can be a password: not repeated. */
int migrate_conninfo_check(const char *conninfo, char *why, size_t len)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
	if (opts) {
		PQconninfoFree(opts);
		return 0;
	}
	static const char unknown_key[] = "invalid connection option \"";
	if (msg && strncmp(msg, unknown_key, sizeof unknown_key - 1) == 0)
		snprintf(why, len, "%.*s", (int)strcspn(msg, "\n"), msg);
	else
		snprintf(why, len, "not a libpq connection string (key=value ... or postgresql://...)%s",
		         msg ? "" : ": out of memory");
	PQfreemem(msg);
	return -1;
}
