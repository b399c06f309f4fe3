-- 026_event_bytes.sql - fewer bytes per stored event and per update (issue 15).
--
-- Measured with tests/sql/wal_cost.py (docs/explain.md, "Cost of an event"):
--
--  1. Every event row held its id and type twice: in the event_id and type
--     columns and again as the "id" and "type" keys of its jsonb body (about
--     52 bytes of a ~300-byte row: key, value and two 4-byte jsonb headers
--     each).  The daemon now stores the body without those two keys when
--     they equal the columns (hotline.event_body_pack, in its INSERT), and
--     hotline.event_body() puts them back for whoever shows the body:
--     v_case_events' body is the event as received, exactly as before (jsonb
--     orders its keys itself, so the merged object is the same value).
--     Rows written before this migration keep both keys; event_body() is the
--     identity on them, so nothing needs rewriting (the migration takes
--     milliseconds on any size; retention drops the old months in time).
--     A body whose "id" or "type" differs from its column (an import by
--     hand) is stored as it is, and event_body() keeps its own keys: the
--     body's keys win in the merge.
--
--  2. hotline.calls and hotline.cases are updated by most events
--     (call.answered, call.ended, case.update, order.dispatch...) but none
--     of those updates changes an indexed column; an update is HOT (no new
--     index entry in any of the table's 2-3 btrees) only when the new row
--     version fits in the same page, and the pages were filled to 100 %.
--     fillfactor 80 leaves room; it applies to pages written from now on
--     (no rewrite here).  clocks is left as it is: its updates change
--     due_at or state, which its partial indexes name, so they are never
--     HOT.
--
-- Nothing else changes shape: same columns, same views, same grants.

-- Inlined by the planner (IMMUTABLE SQL of IMMUTABLE parts: no to_jsonb,
-- which is only STABLE): ~1 us per row when its body argument is a column;
-- the daemon passes the body as a JSON value of its row array (parsed once),
-- because an inlined function repeats its argument expression at each use.
-- A key is dropped only when it is the column's value as a JSON string, so
-- event_body() gives back exactly the same value.
CREATE FUNCTION hotline.event_body_pack(event_id text, type text, body jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(body) <> 'object' THEN body
                ELSE body - array_remove(ARRAY[
                         CASE WHEN body ->> 'id' = event_id AND jsonb_typeof(body -> 'id') = 'string' THEN 'id' END,
                         CASE WHEN body ->> 'type' = type AND jsonb_typeof(body -> 'type') = 'string' THEN 'type' END],
                     NULL)
           END
$$;

CREATE FUNCTION hotline.event_body(event_id text, type text, body jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(body) <> 'object' THEN body
                ELSE jsonb_build_object('id', event_id, 'type', type) || body
           END
$$;

COMMENT ON FUNCTION hotline.event_body_pack(text, text, jsonb) IS
    'An event body as stored in case_events: without its "id" and "type" keys when they equal the event_id and type columns (026).';
COMMENT ON FUNCTION hotline.event_body(text, text, jsonb) IS
    'The event as received, from a case_events row: its stored body with "id" and "type" put back from the columns (026).';
GRANT EXECUTE ON FUNCTION hotline.event_body_pack(text, text, jsonb), hotline.event_body(text, text, jsonb)
    TO hotline_daemon, hotline_admin, hotline_privileged;

-- Same columns, same masking (008), the body whole again.
CREATE OR REPLACE VIEW hotline.v_case_events WITH (security_barrier) AS
SELECT e.seq, e.event_id, e.case_id, e.type, e.at, e.received_at,
       hotline.visible_text(e.description, coalesce(cl.confidential, bcl.confidential)) AS description,
       hotline.visible_body(hotline.event_body(e.event_id, e.type, e.body),
                            coalesce(cl.confidential, bcl.confidential)) AS body
FROM hotline.case_events e
     LEFT JOIN hotline.cases c ON c.id = e.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
     LEFT JOIN hotline.callers bcl ON bcl.caller = e.body->>'caller';

COMMENT ON COLUMN hotline.case_events.body IS
    'The event as received (JSON), without its "id" and "type" keys, which are the event_id and type columns (026; hotline.event_body() puts them back, v_case_events shows it whole, the caller masked for a confidential caller).';

ALTER TABLE hotline.calls SET (fillfactor = 80);
ALTER TABLE hotline.cases SET (fillfactor = 80);
