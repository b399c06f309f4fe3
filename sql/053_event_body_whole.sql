-- 053_event_body_whole.sql - hotline.case_events.body is the event as
-- received again, "id" and "type" included (CONTRACT 5).
--
-- 026 stored the body without its "id" and "type" keys (they equal the
-- event_id and type columns) to save ~50 bytes an event, and put them back
-- in v_case_events and hotline.event_body().  But CONTRACT 5 names the
-- table itself: `hotline.case_events.body` is "the event as received", and
-- whoever reads the table (a privileged administrator, a report, an export
-- to another system) got a body without its id and type.  The daemon now
-- stores the body whole (store_sql.h, SQL_W_EVENTS) and the rows packed
-- since 026 are made whole here.  The cost, measured by make bench, is in
-- docs/write-cost.md ("053").
--
-- The rewrite touches only packed rows (every event has a type, so a body
-- object without "type" is one 026 packed), partition by partition through
-- the parent; on a large history it rewrites those rows once (7 s a
-- million rows on the benchmark machine, docs/write-cost.md "053") and
-- leaves their old versions to autovacuum.
-- event_body() stays: it is the identity on a whole body, and
-- v_case_events keeps calling it, so a row written by an older daemon
-- during a rolling restart still shows whole there.
UPDATE hotline.case_events
   SET body = hotline.event_body(event_id, type, body)
 WHERE jsonb_typeof(body) = 'object' AND NOT body ? 'type';

COMMENT ON COLUMN hotline.case_events.body IS
    'The event as received (JSON, its "id" and "type" included; the caller masked for a confidential caller in v_case_events).';
COMMENT ON FUNCTION hotline.event_body_pack(text, text, jsonb) IS
    'An event body without its "id" and "type" keys when they equal the event_id and type columns (how 026 to 052 stored it; no longer used by the daemon).';
COMMENT ON FUNCTION hotline.event_body(text, text, jsonb) IS
    'The event as received, from a case_events row: its body with "id" and "type" from the columns when missing (rows packed by 026 to 052, an older daemon).';
