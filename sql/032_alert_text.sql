-- 032_alert_text.sql - a new alert's text comes from the daemon, one index fewer (issue 15).
--
-- The cost.  With 10,000 clocks falling due in one second, the alert insert
-- (store_sql.h SQL_W_ALERTS_NEW) was the largest part of a due batch after
-- the figures' rollup: 36.8 ms for 512 alerts (EXPLAIN ANALYZE, 1 M clocks
-- pending), of which ~18 ms were the insert with hotline.alert_json() per
-- row in RETURNING (json_build_object of thirteen pairs, four to_char(),
-- json_strip_nulls) and ~10 ms the NOTIFY text, hotline.notify_payload(),
-- which probes hotline.callers once per alert to learn whether the caller
-- is confidential.
--
-- The design.  The daemon already holds every field of a new alert, so it
-- renders the alert's JSON itself, byte for byte as alert_json() would
-- (compact, nulls left out, times as hotline.iso), all but the id, which
-- the sequence assigns in the statement.  The masked text for NOTIFY,
-- webhooks and HTTP readers stays in SQL, one rule for every channel:
-- hotline.notify_masked() below is the masking half of notify_payload(),
-- called only for confidential callers' alerts.  Whether the caller is
-- confidential is read as notify_payload() reads it, from hotline.callers
-- at the insert, so a mark committed by another daemon a moment before is
-- seen, but in a join of the statement (one index probe in its plan)
-- instead of notify_payload()'s function call and subquery per row (5-6 ms
-- of 512 rows).  The daemon's own idea of the caller is not trusted for
-- this: a batch of due clocks loads no callers, and a batch that loads one
-- holds no lock on it when it reaches it through a case.  notify_payload()
-- now calls notify_masked(), so the two cannot drift apart.  Escalations,
-- the ack NOTIFY and the replay still render with alert_json() (they are
-- not on the due path).
--
-- One index fewer.  Every alert entered six indexes (4,150 WAL records for
-- 512 alerts, eight per alert with the heap row and the foreign key's row
-- lock).  alerts_escalate (001: escalate_at of the open alerts that will
-- escalate) is read only by the daemon's start-up reads of the escalation
-- timers (store_conn.c ST_ESCALATIONS, cluster.c Q_ESCALATIONS: WHERE
-- acked_at IS NULL AND escalate_at IS NOT NULL, every row, in no order),
-- and alerts_open (001: the open alerts' ids) serves them as well: an
-- Index Scan using alerts_open with a filter on escalate_at (10,000 open
-- of 310,000 alerts: 5.7 ms against 7.1 ms; docs/explain.md).  Without it
-- an escalation (level, escalated_at, escalate_at) changes no indexed
-- column, so its UPDATE can be HOT: no new entry in the other five.
DROP INDEX IF EXISTS hotline.alerts_escalate;

-- Same signature, volatility and grants for notify_payload as 008.
CREATE OR REPLACE FUNCTION hotline.notify_masked(j text, caller text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (j::jsonb || jsonb_build_object('caller', hotline.mask_phone(caller), 'confidential', true)
               || CASE WHEN j::jsonb ? 'detail'
                       THEN jsonb_build_object('detail', hotline.mask_text(j::jsonb ->> 'detail'))
                       ELSE '{}'::jsonb END)::text
$$;

CREATE OR REPLACE FUNCTION hotline.notify_payload(j text, caller text) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT CASE
    WHEN caller IS NOT NULL AND EXISTS (
        SELECT 1 FROM hotline.callers c WHERE c.caller = notify_payload.caller AND c.confidential)
    THEN hotline.notify_masked(j, caller)
    ELSE j
END
$$;

REVOKE EXECUTE ON FUNCTION hotline.notify_masked(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.notify_masked(text, text) TO hotline_daemon, hotline_privileged;

COMMENT ON FUNCTION hotline.notify_masked(text,text) IS 'An alert''s JSON as a confidential caller''s alert is sent: the number and the detail text masked, "confidential": true.';
