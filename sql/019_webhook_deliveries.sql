-- 019: durable webhook deliveries (daemon/webhooks.c, docs/webhooks.md).
--
-- One row per alert, escalation level and webhook URL that has not been
-- delivered yet.  The daemon inserts the rows in the same statement that
-- inserts (or escalates) the alert, so a committed alert always has its
-- deliveries recorded; it deletes a row once the receiver answered 2xx (or
-- the delivery was given up), with its next batch.  At start it loads the
-- rows left and POSTs them again with the same delivery id
-- ("<alert_id>.<level>.<url hash>"), so a receiver that keeps the ids it has
-- seen processes each delivery once, across retries and restarts.
CREATE TABLE hotline.webhook_deliveries (
    alert_id    bigint NOT NULL REFERENCES hotline.alerts (id) ON DELETE CASCADE,
    level       int NOT NULL,
    url         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alert_id, level, url)
);

GRANT SELECT, INSERT, DELETE ON hotline.webhook_deliveries TO hotline_daemon;
GRANT SELECT ON hotline.webhook_deliveries TO hotline_admin;

COMMENT ON TABLE hotline.webhook_deliveries IS
    'Webhook POSTs not yet delivered (one per alert, level and URL); written with the alert, deleted once delivered or given up, re-sent at daemon start.';
COMMENT ON COLUMN hotline.webhook_deliveries.alert_id IS 'The alert (hotline.alerts.id).';
COMMENT ON COLUMN hotline.webhook_deliveries.level IS 'The alert''s escalation level this delivery announces.';
COMMENT ON COLUMN hotline.webhook_deliveries.url IS 'The webhook URL (webhooks.urls in hotlined.conf).';
COMMENT ON COLUMN hotline.webhook_deliveries.created_at IS 'When the alert (or escalation) was committed.';
