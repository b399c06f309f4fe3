-- 021_case_events_partitioned.sql - case_events by month; the idempotency key in its own table.
--
-- Issue 15.  hotline.case_events grows without end (every accepted event,
-- forever) and was one heap with four btrees: seq (primary key), event_id
-- (UNIQUE), (case_id, at, seq) and (at).  Every event paid four index
-- entries (about 400 bytes per stored event with indexes, and four btree
-- WAL records per insert), and retention could only DELETE rows one by one.
--
-- Now:
--
--   hotline.case_events    PARTITION BY RANGE (at), one partition per UTC
--                          month (case_events_pYYYYMM) and a DEFAULT
--                          partition (case_events_default) for an event far
--                          in the past or future: every event is stored,
--                          whatever its `at`.  Same columns, same meaning.
--     indexes              (case_id) btree - a case's history, the overdue
--                          list's attempts; deduplicated by PostgreSQL (a
--                          case has a handful of events: one posting list)
--                          (at) BRIN - time ranges; almost free to maintain
--                          because rows arrive in time order.
--                          No index on seq (nothing looks an event up by it:
--                          it only orders a case's events) and no foreign key
--                          to cases (the daemon writes the case first in the
--                          same transaction; the check cost a row lock - a WAL
--                          record - on the case for every event).
--   hotline.event_ids      (event_id PRIMARY KEY, case_id): the idempotency
--                          key.  A partitioned table cannot have a UNIQUE
--                          index that leaves out its partition column, and a
--                          key (event_id, at) would let a retry with another
--                          `at` in, and make the daemon's "seen before?"
--                          probe every month's index.  One slim global table
--                          keeps the guarantee exactly as before: a second
--                          insert of an id fails with unique_violation (when
--                          two daemons race on one id, the second waits for
--                          the first's COMMIT, then fails and rolls its batch
--                          back; its retry finds the id and answers
--                          duplicate:true, tests/e2e/test_cluster.c).
--                          Filled by a statement-level trigger on
--                          case_events with a transition table (set-based:
--                          one call per INSERT statement, i.e. per batch,
--                          not per row), SECURITY DEFINER, so every writer -
--                          the daemon, an import in psql - is held to it and
--                          the daemon cannot remove a key.  Retention drops
--                          months of events but keeps their ids: a late
--                          duplicate of a forgotten event is still known.
--
--   hotline.ensure_event_partitions(months_ahead)  creates the month
--                          partitions from the current month to months_ahead
--                          ahead (moving rows out of the default partition
--                          when one of them already holds some).  Called by
--                          this migration, by `hotlined --migrate`, at every
--                          daemon start (migrate.c) and from cron daily
--                          (docs/operations.md).  Returns how many it made.
--   hotline.drop_events_before(cutoff)  DETACHes and DROPs every month
--                          partition that ends at or before cutoff:
--                          milliseconds per month, whatever its size, instead
--                          of a DELETE of millions of rows.  Returns the
--                          number of months dropped.
--
-- The conversion: the v1 table is renamed, the views that read it are
-- saved (definition, options, comments, grants), dropped, and recreated on
-- the new table after its rows are copied (one INSERT; ~1 minute per 10
-- million events on 2 cores).  The views are recreated from their own
-- current definitions, so whatever an earlier migration made of them is kept.

-------------------------------------------------- the views that read v1

CREATE TEMP TABLE hl021_views ON COMMIT DROP AS
WITH RECURSIVE dep(oid, depth) AS (
    SELECT 'hotline.case_events'::regclass::oid, 0
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

-- pg_get_viewdef above ran with the migration's search_path; make sure the
-- saved texts name the schema (they do: hotline is never on the path).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM hl021_views WHERE def ~ '\mFROM case_events\M') THEN
        RAISE EXCEPTION '021: a view definition does not name its schema';
    END IF;
END
$$;

DO $$
DECLARE v record;
BEGIN
    FOR v IN SELECT relname FROM hl021_views ORDER BY depth DESC LOOP
        EXECUTE format('DROP VIEW IF EXISTS hotline.%I CASCADE', v.relname);
    END LOOP;
END
$$;

------------------------------------------------------- the new table

ALTER TABLE hotline.case_events RENAME TO case_events_v1;
ALTER TABLE hotline.case_events_v1 RENAME CONSTRAINT case_events_pkey TO case_events_v1_pkey;
ALTER INDEX hotline.case_events_case_at RENAME TO case_events_v1_case_at;
ALTER INDEX hotline.case_events_at RENAME TO case_events_v1_at;

CREATE TABLE hotline.case_events (
    seq         bigint NOT NULL DEFAULT nextval('hotline.case_events_seq_seq'),
    event_id    text NOT NULL,
    case_id     bigint,
    type        text NOT NULL,
    at          timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    description text,
    body        jsonb NOT NULL
) PARTITION BY RANGE (at);
ALTER SEQUENCE hotline.case_events_seq_seq OWNED BY hotline.case_events.seq;
CREATE TABLE hotline.case_events_default PARTITION OF hotline.case_events DEFAULT;
CREATE INDEX case_events_case ON hotline.case_events (case_id);
CREATE INDEX case_events_at_brin ON hotline.case_events USING brin (at);

CREATE TABLE hotline.event_ids (
    event_id text PRIMARY KEY,
    case_id  bigint
);

-- Every inserted event's id, once per statement (set-based).  A second
-- insert of an id fails the statement with unique_violation.
CREATE FUNCTION hotline.record_event_ids() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO hotline.event_ids (event_id, case_id) SELECT n.event_id, n.case_id FROM new_events n;
    RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.record_event_ids() FROM PUBLIC;
CREATE TRIGGER case_events_record_ids AFTER INSERT ON hotline.case_events
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION hotline.record_event_ids();

-- The UTC month [lo, lo + 1 month) as a partition, its rows moved out of
-- the default partition if it holds any (rare: an event dated far ahead).
CREATE FUNCTION hotline.create_event_month(lo timestamptz) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m    timestamp := date_trunc('month', lo AT TIME ZONE 'UTC');
    f    timestamptz := m AT TIME ZONE 'UTC';
    t    timestamptz := (m + interval '1 month') AT TIME ZONE 'UTC';
    name text := 'case_events_p' || to_char(m, 'YYYYMM');
BEGIN
    IF to_regclass('hotline.' || name) IS NOT NULL THEN
        RETURN false;
    END IF;
    IF EXISTS (SELECT 1 FROM hotline.case_events_default WHERE at >= f AND at < t) THEN
        EXECUTE format('CREATE TABLE hotline.%I (LIKE hotline.case_events INCLUDING DEFAULTS)', name);
        EXECUTE format('WITH m AS (DELETE FROM hotline.case_events_default WHERE at >= $1 AND at < $2 RETURNING *)'
                       ' INSERT INTO hotline.%I SELECT * FROM m', name) USING f, t;
        EXECUTE format('ALTER TABLE hotline.case_events ATTACH PARTITION hotline.%I FOR VALUES FROM (%L) TO (%L)',
                       name, f, t);
    ELSE
        EXECUTE format('CREATE TABLE hotline.%I PARTITION OF hotline.case_events FOR VALUES FROM (%L) TO (%L)',
                       name, f, t);
    END IF;
    RETURN true;
END
$$;

-- The partitions of the current UTC month and the next months_ahead ones.
CREATE FUNCTION hotline.ensure_event_partitions(months_ahead integer DEFAULT 3) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer := 0;
BEGIN
    IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 120 THEN
        RAISE EXCEPTION 'ensure_event_partitions: months_ahead must be 0..120 (got %)', months_ahead;
    END IF;
    FOR i IN 0 .. months_ahead LOOP
        IF hotline.create_event_month(now() + make_interval(months => i)) THEN
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;

-- Retention: every month partition that ends at or before cutoff, detached
-- and dropped (the default partition is never dropped).  Event ids stay in
-- hotline.event_ids.
CREATE FUNCTION hotline.drop_events_before(cutoff timestamptz) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p record;
    n integer := 0;
BEGIN
    IF cutoff IS NULL THEN
        RAISE EXCEPTION 'drop_events_before: cutoff must not be NULL';
    END IF;
    FOR p IN
        SELECT c.relname, (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS hi
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'hotline.case_events'::regclass AND c.relname ~ '^case_events_p[0-9]{6}$'
        ORDER BY c.relname
    LOOP
        IF p.hi <= cutoff THEN
            EXECUTE format('ALTER TABLE hotline.case_events DETACH PARTITION hotline.%I', p.relname);
            EXECUTE format('DROP TABLE hotline.%I', p.relname);
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.create_event_month(timestamptz),
    hotline.ensure_event_partitions(integer), hotline.drop_events_before(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.ensure_event_partitions(integer) TO hotline_daemon;

-------------------------------------------------------- the v1 rows

-- A partition for every month that holds events (within 20 years back and
-- 2 ahead: a stray far date stays in the default partition), and the
-- months ahead.
SELECT count(hotline.create_event_month(m))
FROM (SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS m
      FROM hotline.case_events_v1
      WHERE at >= now() - interval '20 years' AND at < now() + interval '2 years') x;
SELECT hotline.ensure_event_partitions(3);

-- The trigger fills event_ids as the rows are copied.
INSERT INTO hotline.case_events (seq, event_id, case_id, type, at, received_at, description, body)
SELECT seq, event_id, case_id, type, at, received_at, description, body
FROM hotline.case_events_v1 ORDER BY at, seq;
DROP TABLE hotline.case_events_v1;

------------------------------------------------- grants, as on v1 (002)

GRANT SELECT, INSERT, UPDATE ON hotline.case_events TO hotline_daemon;
GRANT SELECT ON hotline.event_ids TO hotline_daemon;
GRANT SELECT (seq, event_id, case_id, type, at, received_at) ON hotline.case_events TO hotline_admin;
GRANT SELECT ON hotline.case_events TO hotline_privileged;

COMMENT ON TABLE hotline.case_events IS 'Every event applied to a case, as received (the audit trail); one partition per UTC month (021).';
COMMENT ON COLUMN hotline.case_events.seq IS 'Sequence number: the order in which events were accepted.';
COMMENT ON COLUMN hotline.case_events.event_id IS 'The sender''s unique event id (duplicates have no second effect; the key is hotline.event_ids).';
COMMENT ON COLUMN hotline.case_events.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.case_events.type IS 'The event type, e.g. call.abandoned, case.resolved.';
COMMENT ON COLUMN hotline.case_events.at IS 'When it happened (timestamptz; shown in the session''s TimeZone); the partition key.';
COMMENT ON COLUMN hotline.case_events.received_at IS 'When hotlined received it.';
COMMENT ON COLUMN hotline.case_events.description IS 'A short text for people (masked for a confidential caller).';
COMMENT ON COLUMN hotline.case_events.body IS 'The event as received (JSON; the caller masked for a confidential caller in v_case_events).';
COMMENT ON COLUMN hotline.event_ids.event_id IS 'The sender''s event id: a second event with it has no effect (duplicate:true).';
COMMENT ON COLUMN hotline.event_ids.case_id IS 'The case the event was applied to (answered again to a duplicate).';
COMMENT ON FUNCTION hotline.record_event_ids() IS 'Trigger: the ids of the events an INSERT stored, into hotline.event_ids (unique).';
COMMENT ON FUNCTION hotline.create_event_month(timestamptz) IS 'Creates the case_events partition of the UTC month of its argument (rows moved out of the default partition).';
COMMENT ON FUNCTION hotline.ensure_event_partitions(integer) IS 'Creates the case_events partitions of this UTC month and the next months_ahead; returns how many it made.';
COMMENT ON FUNCTION hotline.drop_events_before(timestamptz) IS 'Retention: detaches and drops every month partition of case_events that ends at or before cutoff.';
COMMENT ON TABLE hotline.event_ids IS 'The id of every event ever accepted (the idempotency key), kept when retention drops the event.';

------------------------------------------------------ the views again

DO $$
DECLARE
    v record;
    g record;
    c text[];
BEGIN
    FOR v IN SELECT * FROM hl021_views ORDER BY depth, oid LOOP
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

ANALYZE hotline.case_events;
ANALYZE hotline.event_ids;
