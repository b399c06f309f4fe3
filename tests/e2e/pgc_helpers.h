/*
 * pgc_helpers.h - a throwaway PostgreSQL cluster for the tests that stop,
 * restart or reconfigure the server (test_faults.c, test_faults_doubt.c):
 * such a test must never touch the shared cluster other tests use at the
 * same time.  initdb into a temp dir (as the "postgres" user through runuser
 * when we are root, exactly as scripts/pg.sh does), no TCP, its own socket
 * directory; fini() (the suite's .fini) stops and removes it.  A daemon is
 * pointed at it through database.conninfo (daemon_on); the harness still
 * creates (and later drops) an unused database on the shared cluster, which
 * is harmless.  Static inline: each file uses only some.
 */
#ifndef HL_E2E_PGC_HELPERS_H
#define HL_E2E_PGC_HELPERS_H

#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------ a throwaway PostgreSQL */

struct pgc {
	char dir[64];        /* /tmp/hl-pgc-XXXXXX */
	char bin[200];       /* /usr/lib/postgresql/NN/bin */
	char conninfo[256];  /* database "hotline" on it */
	bool running;
};

static struct pgc *the_pgc; /* at most one per test; stopped and removed by fini() */

static void *scratch[16];
static size_t n_scratch;

static inline void *xcalloc(size_t n, size_t size)
{
	cr_assert_lt(n_scratch, sizeof scratch / sizeof scratch[0]);
	void *p = calloc(n ? n : 1, size);
	cr_assert(p, "out of memory");
	return scratch[n_scratch++] = p;
}

/* Run a shell command built from fmt; returns its exit status. */
static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof cmd)
		return -1;
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* "runuser -u postgres -- " when we are root (initdb refuses root), else "". */
static inline const char *as_owner(void)
{
	return geteuid() == 0 ? "runuser -u postgres -- " : "";
}

static inline void pgc_stop(struct pgc *p, const char *mode)
{
	if (!p->running)
		return;
	sh("%s%s/pg_ctl -D %s/data -m %s -w -t 60 stop >>%s/pg_ctl.log 2>&1", as_owner(), p->bin, p->dir, mode, p->dir);
	p->running = false;
}

/* Start and wait until it accepts connections. */
static inline void pgc_start(struct pgc *p)
{
	int rc = sh("%s%s/pg_ctl -D %s/data -l %s/postgresql.log -w -t 60 start >>%s/pg_ctl.log 2>&1", as_owner(),
	            p->bin, p->dir, p->dir, p->dir);
	cr_assert_eq(rc, 0, "pg_ctl start failed (see %s/postgresql.log)", p->dir);
	p->running = true;
}

static inline struct pgc *pgc_create(void)
{
	cr_assert_null(the_pgc, "one private cluster per test");
	struct pgc *p = calloc(1, sizeof *p);
	cr_assert(p);
	the_pgc = p;
	FILE *f = popen("ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1", "r");
	cr_assert(f);
	if (!fgets(p->bin, sizeof p->bin, f))
		p->bin[0] = '\0';
	pclose(f);
	p->bin[strcspn(p->bin, "\n")] = '\0';
	cr_assert(p->bin[0], "no PostgreSQL server in /usr/lib/postgresql/*/bin");

	snprintf(p->dir, sizeof p->dir, "/tmp/hl-pgc-XXXXXX");
	cr_assert(mkdtemp(p->dir), "mkdtemp: %s", strerror(errno));
	chmod(p->dir, 0755);
	if (geteuid() == 0)
		cr_assert_eq(sh("chown postgres:postgres %s", p->dir), 0);
	const char *super = geteuid() == 0 ? "postgres" : (getenv("USER") ? getenv("USER") : "postgres");
	int rc = sh("%s%s/initdb -D %s/data -E UTF8 --locale=C --auth=trust -U %s >%s/initdb.log 2>&1", as_owner(),
	            p->bin, p->dir, super, p->dir);
	cr_assert_eq(rc, 0, "initdb failed (see %s/initdb.log)", p->dir);
	/* no TCP, our own socket directory; fsync off: this cluster never outlives the machine */
	rc = sh("printf \"listen_addresses = ''\\nunix_socket_directories = '%s'\\nport = 5432\\n"
	        "max_connections = 30\\nshared_buffers = 16MB\\nfsync = off\\nlog_min_messages = warning\\n\" "
	        "| %stee -a %s/data/postgresql.conf >/dev/null",
	        p->dir, as_owner(), p->dir);
	cr_assert_eq(rc, 0);
	pgc_start(p);
	snprintf(p->conninfo, sizeof p->conninfo, "host=%s port=5432 user=%s dbname=hotline", p->dir, super);
	char admin[300];
	snprintf(admin, sizeof admin, "host=%s port=5432 user=%s dbname=postgres", p->dir, super);
	PGconn *pg = PQconnectdb(admin);
	bool ok = PQstatus(pg) == CONNECTION_OK;
	if (ok) {
		PGresult *r = PQexec(pg, "CREATE DATABASE hotline");
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
	}
	PQfinish(pg);
	cr_assert(ok, "cannot create database hotline on the private cluster");
	return p;
}

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static inline void fini(void)
{
	/* the daemon first (the harness), then its database server */
	hl_e2e_cleanup();
	if (the_pgc) {
		pgc_stop(the_pgc, "immediate");
		nftw(the_pgc->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(the_pgc);
		the_pgc = NULL;
	}
	while (n_scratch > 0)
		free(scratch[--n_scratch]);
}

/* A daemon on the private cluster: config written, migrated there; started unless no_start.
 * The daemon logs in as its own role "hotlined" (created by the migrations), as in production. */
static inline struct hl_d *daemon_on_opts(struct pgc *p, const struct hl_e2e_opts *base, const char *dead_first)
{
	char *db = xcalloc(768, 1);
	if (dead_first) {
		/* a multi-host conninfo whose first host is gone: libpq must fail over */
		snprintf(db, 768, "conninfo = \"host=%s,%s port=5432,5432 user=hotlined dbname=hotline"
		         " target_session_attrs=read-write\"; reconnect_max = \"1s\";", dead_first, p->dir);
	} else {
		char ci[300];
		snprintf(ci, sizeof ci, "%s", p->conninfo);
		char *u = strstr(ci, " user=");
		cr_assert(u);
		*u = '\0';
		snprintf(db, 768, "conninfo = \"%s user=hotlined dbname=hotline\"; reconnect_max = \"1s\";", ci);
	}
	struct hl_e2e_opts o = *base;
	bool no_start = o.no_start;
	o.database = db, o.no_start = true;
	struct hl_d *d = hl_d_up(&o);
	/* the harness migrated its own database on the shared cluster; from now
	 * on its SQL helpers and --migrate go to the private cluster */
	snprintf(d->conninfo, sizeof d->conninfo, "%s", p->conninfo);
	if (d->pg) {
		PQfinish(d->pg);
		d->pg = NULL;
	}
	cr_assert_eq(hl_d_migrate(d), 0, "--migrate on the private cluster failed");
	if (!no_start)
		hl_d_start(d);
	return d;
}

static inline struct hl_d *daemon_on_hosts(struct pgc *p, const char *sla, bool no_start, const char *dead_first)
{
	return daemon_on_opts(p, &(struct hl_e2e_opts){ .sla = sla, .no_start = no_start }, dead_first);
}

static inline struct hl_d *daemon_on(struct pgc *p, const char *sla, bool no_start)
{
	return daemon_on_hosts(p, sla, no_start, NULL);
}

/* After PostgreSQL restarted, the harness's SQL connection is stale. */
static inline void forget_sql_conn(struct hl_d *d)
{
	if (d->pg) {
		PQfinish(d->pg);
		d->pg = NULL;
	}
}

#endif
