/*
 * cluster_acks.c - an acknowledgement committed elsewhere reaches this
 * daemon's watchers.
 *
 * An alert is acknowledged through one daemon (socket alert.ack, HTTP, the
 * wallboard) or in psql (hotline.ack_alert).  Its commit sends NOTIFY
 * hotline_alert_ack; cluster.c listens on its side session, skips its own
 * store's notifications (already delivered locally) and fetches the alert
 * row, whole and masked, since the payload is masked and a full-access
 * subscriber sees numbers whole.  Here the fetched row goes to the
 * subscribers and SSE streams as the `ack` push they get for a local ack.
 * Before, a wall screen on one daemon kept showing an alert acknowledged on
 * another until it was reloaded, and docs/admin.md's "the event socket's
 * alert.ack does the same" (NOTIFY hotline_alert_ack) was not true.
 */
#include <stdlib.h>

#include <libpq-fe.h>

#include "daemon.h"

void cluster_ack_fetched(PGresult *r)
{
	if (PQntuples(r) == 0)
		return; /* not (or no longer) there: nothing to take down */
	int64_t id = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	if (cluster_seen(id, 0))
		return; /* pushed meanwhile (the notification and a catch-up, say): once */
	subscribers_deliver(SUB_ACK, id, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 2));
	/* the escalation stops here if this daemon runs it (its batch would find
	 * the row acknowledged anyway: SQL_W_ALERTS_UPD escalates only unacked) */
	if (cluster_owns(id))
		clocks_set(id, TIMER_ESCALATION, 0, 0);
}
