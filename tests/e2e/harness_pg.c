/*
 * harness_pg.c - the e2e harness's PostgreSQL side: a fresh database per
 * daemon on the test cluster, and the tests' SQL (hl_sql, hl_sql_int,
 * hl_sql_text).
 *
 * Design.  The cluster is named by HOTLINE_TEST_PGHOST / HOTLINE_TEST_PGPORT /
 * HOTLINE_TEST_PGUSER, by default the repository's private cluster in
 * var/pg (make pg-start).  Each daemon gets a database hl_<pid>_<n>, created
 * by harness_create_db() and dropped WITH (FORCE) by harness_drop_db() from
 * the cleanup (harness.c); each new database also sweeps away hl_<pid>_*
 * databases whose test process is gone, so a crashed run leaves nothing
 * behind for long.  The test's own connection to its database is opened
 * lazily by the first hl_sql* call and closed by the cleanup.
 */
#include "harness.h"
#include "harness_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* databases created by this test process: hl_<pid>_<db_counter> */
static int db_counter;

/* ------------------------------------------------------------- PostgreSQL */

/* Connection string for a database on the test cluster. */
static void cluster_conninfo(char *out, size_t len, const char *dbname)
{
	static char defhost[4096];
	if (!defhost[0]) {
		/* make runs tests from the repository root: default to its private cluster */
		char cwd[3000];
		if (!getcwd(cwd, sizeof cwd))
			strcpy(cwd, ".");
		snprintf(defhost, sizeof defhost, "%s/var/pg/run", cwd);
	}
	const char *user = getenv("HOTLINE_TEST_PGUSER");
	if (!user || !*user)
		user = geteuid() == 0 ? "postgres" : harness_env_or("USER", "postgres");
	int n = snprintf(out, len, "host=%s port=%s user=%s dbname=%s", harness_env_or("HOTLINE_TEST_PGHOST", defhost),
	                 harness_env_or("HOTLINE_TEST_PGPORT", "5432"), user, dbname);
	if (n < 0 || (size_t)n >= len)
		cr_assert_fail("HOTLINE_TEST_PGHOST is too long");
}

static PGconn *admin_connect(void)
{
	char ci[1024];
	cluster_conninfo(ci, sizeof ci, "postgres");
	PGconn *pg = PQconnectdb(ci);
	if (PQstatus(pg) != CONNECTION_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
		PQfinish(pg);
		cr_assert_fail("cannot reach the test cluster (%s): %s"
		               "hint: make pg-start, or set HOTLINE_TEST_PGHOST/PGPORT/PGUSER", ci, msg);
	}
	return pg;
}

/* true on success; on failure the message goes to err (when given) */
static bool admin_exec(PGconn *pg, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(pg, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok && err)
		snprintf(err, errlen, "%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

/* Drop hl_<pid>_<n> databases left by test processes that died. */
static void sweep_stale(PGconn *pg)
{
	PGresult *r = PQexec(pg, "SELECT datname FROM pg_database WHERE datname ~ '^hl_[0-9]+_[0-9]+$'");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);
		long pid = strtol(name + 3, NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH) {
			char sql[128];
			snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
			admin_exec(pg, sql, NULL, 0);
		}
	}
	PQclear(r);
}

void harness_create_db(struct hl_d *d)
{
	PGconn *pg = admin_connect();
	sweep_stale(pg);
	snprintf(d->dbname, sizeof d->dbname, "hl_%d_%d", (int)getpid(), ++db_counter);
	char sql[160], err[600];
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", d->dbname);
	bool ok = admin_exec(pg, sql, err, sizeof err);
	PQfinish(pg);
	if (!ok) {
		d->dbname[0] = '\0';
		cr_assert_fail("%s", err);
	}
	cluster_conninfo(d->conninfo, sizeof d->conninfo, d->dbname);
}

void harness_drop_db(struct hl_d *d)
{
	if (!d->dbname[0] || d->shared_db)
		return;
	char ci[1024];
	cluster_conninfo(ci, sizeof ci, "postgres");
	PGconn *pg = PQconnectdb(ci);
	if (PQstatus(pg) == CONNECTION_OK) {
		char sql[160];
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", d->dbname);
		admin_exec(pg, sql, NULL, 0);
	}
	PQfinish(pg);
	d->dbname[0] = '\0';
}

static PGconn *test_pg(struct hl_d *d)
{
	if (d->pg && PQstatus(d->pg) == CONNECTION_OK)
		return d->pg;
	if (d->pg)
		PQfinish(d->pg);
	d->pg = PQconnectdb(d->conninfo);
	if (PQstatus(d->pg) != CONNECTION_OK)
		cr_assert_fail("cannot connect to %s: %s", d->dbname, PQerrorMessage(d->pg));
	return d->pg;
}

static void clear_pg(void *p) { PQclear(p); }

static PGresult *vsql(struct hl_d *d, const char *fmt, va_list ap)
{
	char *q = harness_vfmt(fmt, ap);
	PGresult *r = PQexec(test_pg(d), q);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s: %s", q, PQresultErrorMessage(r));
		free(q);
		PQclear(r);
		cr_assert_fail("SQL failed: %s", msg);
	}
	free(q);
	return r;
}

PGresult *hl_sql(struct hl_d *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	PGresult *r = vsql(d, fmt, ap);
	va_end(ap);
	return harness_keep(r, clear_pg);
}

int64_t hl_sql_int(struct hl_d *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	PGresult *r = vsql(d, fmt, ap);
	va_end(ap);
	if (PQntuples(r) < 1 || PQnfields(r) < 1 || PQgetisnull(r, 0, 0)) {
		PQclear(r);
		cr_assert_fail("hl_sql_int: no value");
	}
	int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

char *hl_sql_text(struct hl_d *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	PGresult *r = vsql(d, fmt, ap);
	va_end(ap);
	char *s = NULL;
	if (PQntuples(r) >= 1 && PQnfields(r) >= 1 && !PQgetisnull(r, 0, 0))
		s = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return harness_keep(s, free);
}
