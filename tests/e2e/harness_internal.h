/*
 * harness_internal.h - what the e2e harness's own files share: the registry
 * and the helpers one file defines and another uses.  Tests include harness.h
 * only; nothing here is part of its API.
 *
 *   harness.c         registry, Criterion hooks, owned results, environment
 *   harness_pg.c      the test databases
 *   harness_daemon.c  the hotlined children
 *   harness_conn.c    the sockets
 */
#ifndef HL_E2E_HARNESS_INTERNAL_H
#define HL_E2E_HARNESS_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "harness.h"

#define MAX_DAEMONS 8
#define MAX_CONNS 64

/* harness.c: the registry of this test process, torn down by hl_e2e_cleanup() */
extern struct hl_d *harness_daemons[MAX_DAEMONS];
extern struct hl_conn *harness_conns[MAX_CONNS];

/* harness.c */
char *harness_vfmt(const char *fmt, va_list ap);   /* vasprintf; fails the test when out of memory */
char *harness_read_file(const char *path);         /* whole file, malloc'd; "" when unreadable */
/* Print the tail of a file to stderr (the daemon log on failure). */
void harness_print_tail(const char *title, const char *path, size_t max);
/* Hand `p` to the test; the cleanup frees it with fn.  Returns p. */
void *harness_keep(void *p, void (*fn)(void *));
const char *harness_env_or(const char *name, const char *dflt); /* $name, or dflt when unset or empty */
void harness_registry_init(void); /* once per process: atexit cleanup, SIGPIPE ignored */

/* harness_pg.c */
void harness_create_db(struct hl_d *d); /* a fresh hl_<pid>_<n>: sets d->dbname and d->conninfo */
void harness_drop_db(struct hl_d *d);   /* unless d->shared_db */

/* harness_conn.c: a connected Unix-socket fd, or -1 (errno set) */
int harness_connect_unix(const char *path);

#endif
