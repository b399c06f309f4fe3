/*
 * cluster_webhooks.c - the webhook deliveries of a daemon that died are sent
 * by one live daemon.
 *
 * A delivery row (hotline.webhook_deliveries, sql/019) is written with its
 * alert and deleted once the daemon that committed the alert has POSTed it
 * or given up; a daemon reads the rows left when it starts.  With several
 * daemons on one database, one killed (-9, a lost machine) while deliveries
 * were in flight - its receiver slow or down, or just between COMMIT and
 * POST - left them to nobody: the survivors took over its clocks within
 * cluster.takeover, but its alerts never reached the receivers until some
 * daemon restarted (CONTRACT 9: every alert is still raised; the webhooks
 * are how many supervisors hear of it).
 *
 * Each row names its owner, the server pid of the store session that wrote
 * it (sql/069, the column's default) or took it over.  Every tick the
 * cluster session claims the rows whose owner is no longer a live backend,
 * for the URLs this daemon is configured with, and hands them to
 * webhooks_resume() (which skips a delivery this process is already
 * sending).  The UPDATE's row lock gives each row to one claimer: a second
 * one waits for the first's commit and then finds the owner alive.  Delivery
 * stays at least once (receivers drop repeats by X-Hotline-Delivery): a
 * daemon whose store reconnected has a new pid, so a peer may send its
 * deliveries in flight too.
 */
#include <stdio.h>

#include <libpq-fe.h>

#include "daemon.h"
#include "cluster_sql.h"

static const char SQL_CLAIM[] =
	"UPDATE hotline.webhook_deliveries d SET owner_pid = $1::int FROM hotline.alerts a"
	" WHERE a.id = d.alert_id AND a.level = d.level"
	"  AND d.url IN (SELECT jsonb_array_elements_text($2::jsonb))"
	"  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity s WHERE s.pid = d.owner_pid)"
	" RETURNING d.url, hotline.alert_json(a) AS j, hotline.notify_payload(hotline.alert_json(a), a.caller)";

static bool queued; /* a claim is in flight */

void cluster_webhooks_tick(bool away)
{
	int pid = store_backend_pid(); /* the rows become our store's */
	if (!session_up() || queued || away || pid <= 0 || hl->cfg->webhooks.n_urls == 0)
		return;
	char me[16];
	snprintf(me, sizeof me, "%d", pid);
	queued = true;
	session_query(Q_CLAIM_WEBHOOKS, SQL_CLAIM, me, webhooks_urls_json());
}

void cluster_webhooks_claimed(PGresult *r)
{
	queued = false;
	int n = r ? PQntuples(r) : 0;
	if (n > 0)
		log_notice("cluster: %d webhook delivery(ies) of a daemon that is gone taken over", n);
	for (int i = 0; i < n; i++)
		webhooks_resume(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
}
