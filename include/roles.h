/*
 * roles.h - who may make which request on the event sockets (pure; roles.c).
 *
 * The HTTP API has three roles (CONTRACT.md 7); the event sockets speak the
 * same words so that an operator learns one scheme:
 *
 *   ingest      may send events (call.*, case.*, order.*, ...), ping, auth
 *   viewer      ping, auth, case.get, subscribe, stats
 *   supervisor  viewer + alert.ack (acked_by defaults to the token's name)
 *
 * and "full" (every request), which is what a plain-string token and the
 * daemon's own Unix socket give, as in version 1.  A request the role may not
 * make is answered {"ok":false,"error":{"code":"forbidden",...}} and the
 * connection stays open.
 */
#ifndef HL_ROLES_H
#define HL_ROLES_H

#include <stdbool.h>

enum hl_sock_role {
	HL_SR_FULL = 0,
	HL_SR_INGEST,
	HL_SR_VIEWER,
	HL_SR_SUPERVISOR,
};

/* "ingest", "viewer", "supervisor", "full" -> the role; -1 when unknown. */
int hl_sock_role_from_name(const char *name);
const char *hl_sock_role_name(enum hl_sock_role r);
/* May a connection with role r make a request of this type ("ping", "alert.ack", "call.offered", ...)? */
bool hl_sock_role_allows(enum hl_sock_role r, const char *type);

#endif
