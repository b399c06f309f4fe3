/*
 * cluster_owned.c - which clocks this daemon of a cluster runs, for `stats`.
 *
 * A daemon runs the timers of the slots it owns (a case's slot is its id %
 * cluster.slots, an order clock goes with its case, an escalation with its
 * alert id).  It also keeps timers of its peers' slots in memory - every
 * clock it loaded at start, and those its own events armed - ready for a
 * takeover, so `pending_clocks` is not what it owns and differs between
 * daemons.  CONTRACT.md 9 promises that `stats` shows which clocks the daemon
 * owns: cluster.owned lists the slots, and this counts their timers.  A walk
 * over every timer, for stats only: a few milliseconds per million.
 */
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

struct owned_count {
	size_t clocks, escalations;
};

static void count_owned(int64_t id, int kind, void *arg)
{
	struct owned_count *n = arg;
	if (!cluster_owns(timer_owner_id(id, kind)))
		return;
	if (kind == TIMER_ESCALATION)
		n->escalations++;
	else
		n->clocks++;
}

void cluster_clocks_owned(size_t *clocks, size_t *escalations)
{
	struct owned_count n = { 0, 0 };
	clocks_each(count_owned, &n);
	*clocks = n.clocks;
	*escalations = n.escalations;
}
