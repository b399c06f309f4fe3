-- 022_write_cost.sql - fewer rows, index entries and row locks per event (issue 15).
--
-- Measured with tests/sql/wal_cost.py (docs/explain.md, "Cost of an event"):
-- a call.offered from a new caller wrote 16 heap rows, 18 index entries and
-- ~3.2 kB of WAL after 021.  Three things cost without buying anything:
--
--  1. hotline.clock_runs got a row for every run of every clock the moment
--     it started, and an update when it ended: two clocks armed by a call
--     meant two more heap rows and four index entries, and a pending run is
--     the same row as the clock's current one.  Now the table keeps only the
--     runs that ended (renamed hotline.clock_runs_done, written by the daemon
--     when a run is met, breached or stopped) and hotline.clock_runs is a
--     view: the ended runs plus every clock's current run from
--     hotline.clocks.  Same columns (updated_at is NULL for a current run);
--     the figures read it unchanged.
--  2. Foreign keys from calls, clocks, orders and hotspot_cases to cases: the
--     check of each inserted row takes a KEY SHARE row lock on its case - a
--     WAL record and a dirtied page of cases - although the daemon, the only
--     writer, writes the case first in the same transaction.  Dropped;
--     alerts, merges and webhook deliveries (rare) keep theirs.
--  3. btree indexes on columns that only grow with time and are only ever
--     asked for ranges (cases.opened_at, calls.offered_at,
--     clock_runs.started_at): BRIN instead, which costs nothing per row.
--
-- The views that read clock_runs are saved, dropped and recreated around the
-- rename from their own current definitions (as 021 does for case_events).

CREATE TEMP TABLE hl022_views ON COMMIT DROP AS
WITH RECURSIVE dep(oid, depth) AS (
    SELECT 'hotline.clock_runs'::regclass::oid, 0
    UNION
    SELECT r.ev_class, d.depth + 1
    FROM pg_depend dp
         JOIN pg_rewrite r ON r.oid = dp.objid AND dp.classid = 'pg_rewrite'::regclass
         JOIN dep d ON dp.refobjid = d.oid
    WHERE r.ev_class <> d.oid AND d.depth < 20
)
SELECT c.oid, c.relname, max(dep.depth) AS depth,
       pg_get_viewdef(c.oid) AS def, c.reloptions, c.relacl, c.relowner,
       obj_description(c.oid, 'pg_class') AS comment,
       (SELECT array_agg(ARRAY[a.attname, col_description(c.oid, a.attnum)])
        FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
          AND col_description(c.oid, a.attnum) IS NOT NULL) AS col_comments
FROM dep JOIN pg_class c ON c.oid = dep.oid
WHERE dep.depth > 0
GROUP BY c.oid, c.relname, c.reloptions, c.relacl, c.relowner;

DO $$
DECLARE v record;
BEGIN
    FOR v IN SELECT relname FROM hl022_views ORDER BY depth DESC LOOP
        EXECUTE format('DROP VIEW IF EXISTS hotline.%I CASCADE', v.relname);
    END LOOP;
END
$$;

------------------------------------------------------------ 1. clock runs

ALTER TABLE hotline.clock_runs RENAME TO clock_runs_done;
ALTER TABLE hotline.clock_runs_done RENAME CONSTRAINT clock_runs_pkey TO clock_runs_done_pkey;
-- a run still current is the clock's own row
DELETE FROM hotline.clock_runs_done d USING hotline.clocks k
 WHERE k.case_id = d.case_id AND k.kind = d.kind AND k.seq = d.seq;
DROP INDEX IF EXISTS hotline.clock_runs_started;
CREATE INDEX clock_runs_done_started ON hotline.clock_runs_done USING brin (started_at);

CREATE VIEW hotline.clock_runs AS
SELECT d.case_id, d.kind, d.seq, d.state, d.started_at, d.due_at, d.allowed_ms,
       d.met_at, d.breached_at, d.updated_at
FROM hotline.clock_runs_done d
WHERE NOT EXISTS (SELECT 1 FROM hotline.clocks k WHERE k.case_id = d.case_id AND k.kind = d.kind AND k.seq = d.seq)
UNION ALL
SELECT k.case_id, k.kind, k.seq, k.state, k.started_at, k.due_at, k.allowed_ms,
       k.met_at, k.breached_at, NULL::timestamptz
FROM hotline.clocks k;
COMMENT ON VIEW hotline.clock_runs IS 'Every run of every clock: the ended runs (clock_runs_done) and each clock''s current run (clocks).';
COMMENT ON TABLE hotline.clock_runs_done IS 'The runs of a clock that ended and were replaced by a newer run, or ended (met, breached, stopped); the current run is hotline.clocks.';
-- the view's columns say what the table's said
DO $$
DECLARE a record;
BEGIN
    FOR a IN SELECT attname, col_description(attrelid, attnum) AS d FROM pg_attribute
             WHERE attrelid = 'hotline.clock_runs_done'::regclass AND attnum > 0 AND NOT attisdropped
    LOOP
        EXECUTE format('COMMENT ON COLUMN hotline.clock_runs.%I IS %L', a.attname,
                       coalesce(a.d, a.attname) || CASE WHEN a.attname = 'updated_at'
                                                        THEN ' (NULL for a clock''s current run)' ELSE '' END);
    END LOOP;
END
$$;
GRANT SELECT ON hotline.clock_runs TO hotline_admin;
GRANT SELECT ON hotline.clock_runs_done TO hotline_admin;
GRANT SELECT, INSERT, UPDATE ON hotline.clock_runs_done TO hotline_daemon;

------------------------------------------------------------ 2. foreign keys

ALTER TABLE hotline.calls DROP CONSTRAINT IF EXISTS calls_case_id_fkey;
ALTER TABLE hotline.clocks DROP CONSTRAINT IF EXISTS clocks_case_id_fkey;
ALTER TABLE hotline.orders DROP CONSTRAINT IF EXISTS orders_case_id_fkey;
ALTER TABLE hotline.hotspot_cases DROP CONSTRAINT IF EXISTS hotspot_cases_case_id_fkey;

------------------------------------------------------------ 3. BRIN

DROP INDEX IF EXISTS hotline.cases_opened_at;
CREATE INDEX cases_opened_at_brin ON hotline.cases USING brin (opened_at);
DROP INDEX IF EXISTS hotline.calls_offered_at;
CREATE INDEX calls_offered_at_brin ON hotline.calls USING brin (offered_at);

------------------------------------------------------ the views again

DO $$
DECLARE
    v record;
    g record;
    c text[];
BEGIN
    FOR v IN SELECT * FROM hl022_views ORDER BY depth, oid LOOP
        EXECUTE format('CREATE VIEW hotline.%I%s AS %s', v.relname,
                       CASE WHEN v.reloptions IS NULL THEN ''
                            ELSE ' WITH (' || array_to_string(v.reloptions, ', ') || ')' END,
                       v.def);
        IF v.comment IS NOT NULL THEN
            EXECUTE format('COMMENT ON VIEW hotline.%I IS %L', v.relname, v.comment);
        END IF;
        FOREACH c SLICE 1 IN ARRAY coalesce(v.col_comments, '{}'::text[]) LOOP
            EXECUTE format('COMMENT ON COLUMN hotline.%I.%I IS %L', v.relname, c[1], c[2]);
        END LOOP;
        FOR g IN SELECT a.privilege_type,
                        CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee
                 FROM aclexplode(v.relacl) a
                 WHERE a.grantee <> v.relowner
        LOOP
            EXECUTE format('GRANT %s ON hotline.%I TO %s', g.privilege_type, v.relname, g.grantee);
        END LOOP;
    END LOOP;
END
$$;

ANALYZE hotline.clock_runs_done;
