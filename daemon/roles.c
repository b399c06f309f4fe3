/*
 * roles.c - the request types each socket role may send (see roles.h).
 *
 * One table, read by conn.c before a request is queued: keeping the rule a
 * pure function of (role, type) makes it a unit test rather than an e2e
 * test, and keeps conn.c's change to a single check.  Events are everything
 * that is not a control request, so a new event type is ingest's without an
 * edit here; a new control request is refused to the limited roles until it
 * is added to a list, which is the safe default.
 *
 * Pure: part of the functional core.
 */
#include <string.h>

#include "roles.h"

static const char *const names[] = {
	[HL_SR_FULL] = "full",
	[HL_SR_INGEST] = "ingest",
	[HL_SR_VIEWER] = "viewer",
	[HL_SR_SUPERVISOR] = "supervisor",
};

/* Requests that are not events (CONTRACT.md 3). */
static const char *const control[] = {"ping", "auth", "case.get", "subscribe", "stats", "alert.ack", NULL};
/* What every role may do. */
static const char *const anyone[] = {"ping", "auth", NULL};
static const char *const viewing[] = {"case.get", "subscribe", "stats", NULL};

static bool in(const char *const *list, const char *type)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(list[i], type))
			return true;
	return false;
}

int hl_sock_role_from_name(const char *name)
{
	for (int i = 0; name && i < (int)(sizeof names / sizeof names[0]); i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

const char *hl_sock_role_name(enum hl_sock_role r)
{
	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

bool hl_sock_role_allows(enum hl_sock_role r, const char *type)
{
	if (r == HL_SR_FULL)
		return true;
	if (!type)
		return false;
	if (in(anyone, type))
		return true;
	switch (r) {
	case HL_SR_INGEST:
		return !in(control, type);
	case HL_SR_VIEWER:
		return in(viewing, type);
	case HL_SR_SUPERVISOR:
		return in(viewing, type) || !strcmp(type, "alert.ack");
	default:
		return false;
	}
}
