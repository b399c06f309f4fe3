-- 069_webhook_owner.sql - a dead daemon's webhook deliveries are taken over.
--
-- A webhook delivery row (019) is written with its alert and deleted once
-- the daemon that committed the alert has POSTed it (or given up); a daemon
-- loads the rows left only when it starts.  With several daemons on one
-- database (CONTRACT 9) a daemon killed (-9, a lost machine) while its
-- deliveries were in flight - a receiver slow or down, or simply the moment
-- between COMMIT and POST - left them to nobody: the survivors took over its
-- clocks within cluster.takeover, but its alerts never reached PagerDuty or
-- Alertmanager until some daemon restarted.
--
-- owner_pid is the server pid of the store session that wrote the row (its
-- default) or that took it over.  Every daemon's cluster session claims, once
-- a tick, the rows whose owner is no longer a live backend
-- (pg_stat_activity) for the URLs it is configured with, and sends them
-- (daemon/cluster_webhooks.c).  The UPDATE's row lock makes each
-- row claimed by one daemon: a second claimer waits, then finds the owner
-- alive.  Delivery stays at least once (the receiver drops repeats by
-- X-Hotline-Delivery): a daemon whose store reconnected has a new pid, so its
-- deliveries in flight may be claimed and sent by a peer as well.
ALTER TABLE hotline.webhook_deliveries ADD COLUMN IF NOT EXISTS owner_pid int NOT NULL DEFAULT pg_backend_pid();
GRANT UPDATE (owner_pid) ON hotline.webhook_deliveries TO hotline_daemon;
COMMENT ON COLUMN hotline.webhook_deliveries.owner_pid IS
    'The server pid of the daemon''s store session that wrote the row or took it over; a row whose owner is no longer a live backend is taken over by a live daemon.';
