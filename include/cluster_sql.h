/*
 * cluster_sql.h - what daemon/cluster.c says on its side session, in one
 * place, as store_sql.h is for the store: the survey of the live daemons
 * and of who holds which slot, the slot locks, the pending clocks and
 * escalations of the slots taken, an alert fetched for a NOTIFY, the open
 * alerts a session that was away missed, and the daily upkeep of the event
 * partitions (a dead daemon's webhook deliveries: cluster_webhooks.c).  Each statement is indexed by the
 * tag its result comes back with (enum q_kind).  The advisory lock classes
 * live here because the statements spell them; 016_cluster.sql uses
 * 1212940289 and ...290 for the batch's caller and case locks.
 * Included by cluster.c (cluster_webhooks.c for its tag).
 */
#ifndef HL_CLUSTER_SQL_H
#define HL_CLUSTER_SQL_H

/* Advisory lock class of the slots (016_cluster.sql uses ...289 and ...290). */
#define SLOT_LOCK_CLASS 1212940291
/* Shared lock (class, cluster.slots) every daemon holds: peers configured with
 * another number of slots show up in pg_locks, and the logs say so. */
#define SLOTS_CONF_CLASS 1212940292
#define APP_PREFIX "hotlined:"
#define HL_XSTR(x) #x
#define HL_STR(x) HL_XSTR(x)

enum q_kind { Q_SETUP, Q_SURVEY, Q_LOCK, Q_UNLOCK, Q_CLOCKS, Q_ESCALATIONS, Q_FETCH, Q_FETCH_ACK, Q_UPKEEP, Q_CATCH_UP, Q_CLAIM_WEBHOOKS, Q_DEFAULT };

/* The daily upkeep (cluster.c upkeep_tick): the event partitions of the
 * current month and the next UPKEEP_MONTHS, as --migrate creates them. */
#define UPKEEP_MONTHS 12
/* The most open alerts one catch-up pushes (the oldest first). */
#define CATCH_UP_MAX 10000

static const char *const SQL[] = {
	[Q_SURVEY] =
		/* client backends only: a parallel worker carries its leader's application_name */
		"SELECT COALESCE((SELECT string_agg(n, ' ' ORDER BY n) FROM (SELECT DISTINCT"
		"                  substr(application_name, length('" APP_PREFIX "') + 1) n FROM pg_stat_activity"
		"                  WHERE datname = current_database() AND backend_type = 'client backend'"
		"                  AND application_name LIKE '" APP_PREFIX "%') p), ''),"
		" COALESCE((SELECT string_agg(l.objid::text || ':' || substr(a.application_name, length('" APP_PREFIX "') + 1), ' ')"
		"  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
		"  WHERE l.locktype = 'advisory' AND l.granted AND l.classid = " HL_STR(SLOT_LOCK_CLASS)
		"  AND l.objsubid = 2 AND l.pid <> pg_backend_pid()"
		"  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())), ''),"
		" COALESCE((SELECT string_agg(substr(a.application_name, length('" APP_PREFIX "') + 1) || ' has ' || l.objid, ', ')"
		"  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
		"  WHERE l.locktype = 'advisory' AND l.granted AND l.classid = " HL_STR(SLOTS_CONF_CLASS)
		"  AND l.objsubid = 2 AND l.objid <> $1::int"
		"  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())), ''),"
		/* other cluster sessions under this daemon's own name (cluster.name given twice) */
		" (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
		"  AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
		"  AND application_name = current_setting('application_name')),"
		/* the server's clock, for this host's offset (cluster_clock.c) */
		" (extract(epoch FROM clock_timestamp()) * 1000)::bigint",
	[Q_LOCK] = "SELECT s FROM unnest($1::int[]) s WHERE pg_try_advisory_lock(" HL_STR(SLOT_LOCK_CLASS) ", s)",
	[Q_UNLOCK] = "SELECT pg_advisory_unlock(" HL_STR(SLOT_LOCK_CLASS) ", s) FROM unnest($1::int[]) s",
	[Q_CLOCKS] =
		"SELECT case_id, kind, seq, CASE WHEN warned OR warn_at IS NULL THEN hotline.ms(due_at)"
		" ELSE hotline.ms(warn_at) END FROM hotline.clocks"
		" WHERE state = 'pending' AND (case_id % $2::int)::int = ANY ($1::int[])"
		/* work-order clocks go with their case's slot (timer_owner_id) */
		" UNION ALL SELECT case_id * 1024 + order_no, 'order_sign', sign_seq, hotline.ms(sign_due_at)"
		"  FROM hotline.orders WHERE sign_state = 'pending' AND reply_state IN ('pending', 'breached')"
		"  AND (case_id % $2::int)::int = ANY ($1::int[])" /* implied: reads orders_reply_owed (029) */
		" UNION ALL SELECT case_id * 1024 + order_no, 'order_reply', reply_seq, hotline.ms(due_at)"
		"  FROM hotline.orders WHERE reply_state = 'pending' AND (case_id % $2::int)::int = ANY ($1::int[])",
	[Q_ESCALATIONS] =
		"SELECT id, hotline.ms(escalate_at) FROM hotline.alerts"
		" WHERE acked_at IS NULL AND escalate_at IS NOT NULL AND (id % $2::int)::int = ANY ($1::int[]) /* alerts_open (032) */",
	[Q_FETCH] =
		"SELECT j, esc, id, level, $2::int, hotline.notify_payload(j, caller) FROM"
		" (SELECT hotline.alert_json(a) AS j, COALESCE(hotline.ms(a.escalate_at), 0) AS esc, a.id, a.level, a.caller"
		"  FROM hotline.alerts a WHERE a.id = $1::bigint) x",
	/* an acknowledgement another daemon (or hotline.ack_alert in psql) committed */
	[Q_FETCH_ACK] =
		"SELECT j, id, hotline.notify_payload(j, caller) FROM"
		" (SELECT hotline.alert_json(a) AS j, a.id, a.caller"
		"  FROM hotline.alerts a WHERE a.id = $1::bigint AND a.acked_at IS NOT NULL) x",
	/* the months ahead, then the months of rows in the default partition
	 * (sql/085: an import of old history); 12 a run at most, the next check
	 * comes back for more */
	[Q_UPKEEP] = "SELECT hotline.ensure_event_partitions(" HL_STR(UPKEEP_MONTHS) ")"
	             " + hotline.adopt_default_months(12)",
	/* at each session start (cluster_own.c): the newest alert id (the row
	 * without j), then the open alerts raised after $1 or raised or
	 * escalated in the last $2 ms (negative: none), whose notifications were
	 * sent while the session was away; the partial index alerts_open holds
	 * them */
	[Q_CATCH_UP] =
		"SELECT NULL AS j, (SELECT coalesce(max(id), 0) FROM hotline.alerts) AS id, 0 AS level, NULL AS masked"
		" UNION ALL"
		" SELECT j, id, level, hotline.notify_payload(j, caller) FROM"
		" (SELECT hotline.alert_json(a) AS j, a.id, a.level, a.caller FROM hotline.alerts a"
		"  WHERE a.acked_at IS NULL AND (a.id > $1::bigint"
		"   OR greatest(a.raised_at, a.escalated_at) >= now() - $2::bigint * interval '1 millisecond')"
		"  ORDER BY a.id LIMIT " HL_STR(CATCH_UP_MAX) ") x"
		/* what was shown ($3 "id:level ..."): escalated beyond the level
		 * shown, or acknowledged (level 0), whatever the daemons' clocks say */
		" UNION ALL"
		" SELECT j, id, CASE WHEN acked THEN 0 ELSE level END, hotline.notify_payload(j, caller) FROM"
		" (SELECT hotline.alert_json(a) AS j, a.id, a.level, a.caller, a.acked_at IS NOT NULL AS acked"
		"  FROM (SELECT split_part(e, ':', 1)::bigint AS id, split_part(e, ':', 2)::int AS level"
		"        FROM unnest(string_to_array($3::text, ' ')) e) s"
		"  JOIN hotline.alerts a ON a.id = s.id"
		"  WHERE a.acked_at IS NOT NULL OR a.level > s.level) y",
	/* every few seconds (cluster_upkeep.c): has an event landed in the
	 * default partition (sql/085)?  An empty table: one page read, or none */
	[Q_DEFAULT] = "SELECT hotline.events_in_default()",
};

#endif
