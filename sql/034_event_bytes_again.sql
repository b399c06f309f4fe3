-- 034_event_bytes_again.sql - bytes per stored event back under 250 (issue 15).
--
-- Measured at ten million events (scripts/bench.sh phase gen_history
-- 10000000, tests/sql/gen10m.sql; pg_relation_size of the heap and of each
-- index over all month partitions, docs/explain.md "034"): 278 bytes an
-- event, of which the heap 235, case_events_case 11, and 031's two partial
-- indexes 32 (case_events_figures 22: a (bigint, timestamptz) entry for
-- each of half the events, ~44 bytes an entry at the fill interleaved
-- inserts leave; case_events_turns 9.5).  After this migration 248: the heap
-- 224, case_events_case 11, case_events_figs 12.6.  Two changes:
--
--  1. One partial index instead of 031's two: case_events_figs, over the
--     union of their rows (the types that have figures, and the ones that
--     turn a case's resolution chain), keyed on (case_id + 0, the hour of
--     `at`).  A key shared by several entries is deduplicated by btree
--     (PostgreSQL 13+): a case's entries of one hour are one posting list,
--     ~6 bytes an entry instead of a 28-byte tuple each.  Keyed on
--     case_id + 0 for the reason 031 gives (the plan kept for the session
--     must not pick case_events_case).  The hour is there so that the
--     batch's queries stay bounded by what the batch touches, 031's point:
--     its new events and the resolutions at or after its answers are read
--     among the entries of their cases in the batch's hours only (a case
--     with 3,000 callbacks in the month: 66 buffers), with the exact `at`
--     bounds checked on the row.  (case_id + 0) alone is 9 bytes an event
--     but reads all of a case's month at every batch naming it.
--     What it gives up: within an hour, a busy case's figure events are all
--     read when the batch's new ones are looked for, after its writes (before
--     them they are not stored, so figures_before does not look; see the
--     query).  The headline's busiest Zipf caller has ~600 callbacks in
--     15 s: figures_after +1.9 ms a batch (5.3 -> 7.2 ms, six interleaved
--     pairs), figures_before unchanged.  And the chain's probe (the turn
--     before a resolution) reads the case's entries of every hour and keeps
--     the highest seq below the resolution's (a sort of a case's figure
--     events per resolution counted) instead of one step back in
--     (case_id, seq).
--
--  2. The month partitions made from now on store their columns in an
--     order that wastes no alignment padding: the 8-byte fixed columns
--     (seq, case_id, at, received_at) first, the variable-length ones after.
--     In the parent's order (seq, event_id, case_id, type, at, ...) a text
--     column before each bigint/timestamptz pads ~3.5 bytes on average, twice
--     a row, and the row's own 8-byte alignment rounds the rest up: 224
--     bytes of heap an event instead of 235 (measured, same rows).  A
--     partition may order its columns as it likes: rows are routed from the
--     parent by column name, every query names the parent, and nothing is
--     rewritten: the months already holding rows keep their layout (they go
--     with retention), the empty months made ahead are made again.
--     create_event_month builds the column list from the parent's catalog,
--     so a column added to the parent later is in the months made after it.
--     Its cost: a tuple conversion per row routed (a column map, no
--     detoasting).  A dump restores the months in the parent's order (the
--     data by column name): correct, the padding back until the next month.
--
-- Nothing a user reads changes: same columns, same views, same figures.

------------------------------------------------------ 1. one partial index

-- The events that have figures (attempts, transfers, resolutions, surveys)
-- and the ones that resolve, close or reopen a case (the resolution chain),
-- by case and hour (deduplicated; see the header).  date_bin over a fixed
-- origin is immutable (no time zone): an hour is the same for every session.
CREATE INDEX IF NOT EXISTS case_events_figs
    ON hotline.case_events ((case_id + 0), (date_bin('1 hour', at, '2000-01-01 00:00:00+00')))
    WHERE type IN ('callback.attempt', 'case.transfer', 'case.resolve', 'survey.result', 'case.close', 'case.reopen')
       OR (type = 'call.ended' AND body->>'outcome' = 'resolved');
COMMENT ON INDEX hotline.case_events_figs IS 'The events that have figures or turn a case''s resolution chain, by case and hour (deduplicated): what the rollup re-counts (034; 031''s case_events_figures and case_events_turns in one).';
DROP INDEX IF EXISTS hotline.case_events_figures;
DROP INDEX IF EXISTS hotline.case_events_turns;

-- 031's function, every read of case_events through case_events_figs: the
-- queries name its key expressions (the hour as a bound implied by the exact
-- one on `at`) and their type lists imply its predicate.
CREATE OR REPLACE FUNCTION hotline.figure_facts_src(whole_ids bigint[], k_ids bigint[], call_ids text[], ev_ids text[],
                                         lo timestamptz, hi timestamptz, run_ids bigint[], new_ids bigint[],
                                         st jsonb)
RETURNS TABLE (day date, case_id bigint, agent text, department text, metric text, n integer)
LANGUAGE sql STABLE AS $$
WITH kc AS MATERIALIZED (
    SELECT c0.id,
           -- a moving case is counted in its new department on both sides (see figures_before)
           CASE WHEN st->'dep' ? c0.id::text THEN st->'dep'->>c0.id::text ELSE c0.department END AS department,
           c0.opened_at, c0.id = ANY (whole_ids) AS whole,
           c0.id = ANY (whole_ids) OR c0.id = ANY (run_ids) AS runs,
           c0.id = ANY (whole_ids) OR c0.id = ANY (new_ids) AS opened,
           hotline.from_ms((st->'tdep'->>c0.id::text)::bigint) AS tdep,
           coalesce((st->'s0'->>c0.id::text)::int, 0) AS s0
    FROM hotline.cases c0 WHERE c0.id = ANY (k_ids)
), ev AS MATERIALIZED (
    -- the batch's new events
    SELECT x.seq, x.case_id, x.type, x.at, x.body FROM hotline.case_events x
    WHERE (x.case_id + 0) = ANY (k_ids)
      -- the hours of the batch's range (the key), then its exact bounds
      AND date_bin('1 hour', x.at, '2000-01-01 00:00:00+00') >= date_bin('1 hour', lo, '2000-01-01 00:00:00+00')
      AND date_bin('1 hour', x.at, '2000-01-01 00:00:00+00') <= date_bin('1 hour', hi, '2000-01-01 00:00:00+00')
      AND x.at >= lo AND x.at <= hi
      AND (x.type IN ('callback.attempt', 'case.transfer', 'case.resolve', 'survey.result')
           OR (x.type = 'call.ended' AND x.body->>'outcome' = 'resolved'))
      AND x.event_id = ANY (ev_ids)
      -- only after the writes (figures_after has set hotline.figures_before):
      -- before them the batch's events are not stored (an event id is stored
      -- once: hotline.event_ids is unique, a batch re-sending one fails
      -- whole), and a busy case's entries of the hour are not read for none
      AND coalesce(current_setting('hotline.figures_before', true), '') <> ''
    UNION ALL
    -- existing resolutions and surveys whose agent or run the batch may change
    SELECT x.seq, x.case_id, x.type, x.at, x.body
    FROM kc c CROSS JOIN LATERAL (
        SELECT x0.* FROM hotline.case_events x0
        WHERE (x0.case_id + 0) = c.id
          AND date_bin('1 hour', x0.at, '2000-01-01 00:00:00+00') >= date_bin('1 hour', c.tdep, '2000-01-01 00:00:00+00') AND x0.at >= c.tdep
          AND (x0.type IN ('callback.attempt', 'case.transfer', 'case.resolve', 'survey.result')
               OR (x0.type = 'call.ended' AND x0.body->>'outcome' = 'resolved'))
          AND x0.type NOT IN ('callback.attempt', 'case.transfer')
          AND NOT (x0.event_id = ANY (ev_ids))
        OFFSET 0   -- a probe per case (flattened, the kept plan read the whole index once)
    ) x
    WHERE c.tdep IS NOT NULL AND NOT c.whole
    UNION ALL
    -- every existing event with figures of a case counted whole
    SELECT x.seq, x.case_id, x.type, x.at, x.body
    FROM kc c CROSS JOIN LATERAL (
        SELECT x0.* FROM hotline.case_events x0
        WHERE (x0.case_id + 0) = c.id
          AND (x0.type IN ('callback.attempt', 'case.transfer', 'case.resolve', 'survey.result')
               OR (x0.type = 'call.ended' AND x0.body->>'outcome' = 'resolved'))
          AND NOT (x0.event_id = ANY (ev_ids))
        OFFSET 0
    ) x
    WHERE c.whole
)
-- inbound calls, by the day offered: the ones named, and every call of a
-- case counted whole (a moving case's in its new department, as kc; a later
-- call of one of the batch's callers may be in a case the batch does not
-- name).  Summed per case, day and agent before they are turned into one
-- row per figure: a moving busy case has hundreds of calls, and a row per
-- call and figure cost more than the probes.
SELECT g.day, g.case_id, g.agent, g.department, m.metric, m.n
FROM (SELECT hotline.local_day(l.offered_at) AS day, l.case_id, l.agent,
             CASE WHEN st->'dep' ? c.id::text THEN st->'dep'->>c.id::text ELSE c.department END AS department,
             count(*)::int AS offered,
             count(l.answered_at)::int AS answered,
             count(*) FILTER (WHERE l.answered_at <= l.offered_at + interval '15 seconds')::int AS within_15s,
             count(*) FILTER (WHERE l.answered_at IS NULL AND l.state IN ('abandoned', 'voicemail'))::int AS abandoned,
             count(*) FILTER (WHERE l.answered_at IS NULL AND l.state = 'voicemail')::int AS voicemails,
             count(*) FILTER (WHERE EXISTS (
                 SELECT 1 FROM hotline.calls q
                 WHERE q.caller = l.caller AND q.inbound
                   AND q.offered_at > l.offered_at - interval '24 hours' AND q.offered_at <= l.offered_at
                   AND (q.offered_at, q.call_id) < (l.offered_at, l.call_id)))::int AS repeats
      FROM (SELECT l0.* FROM hotline.calls l0 WHERE l0.call_id = ANY (call_ids)
            UNION ALL
            SELECT l0.* FROM hotline.calls l0 WHERE l0.case_id = ANY (whole_ids)) l
           JOIN hotline.cases c ON c.id = l.case_id
      WHERE l.inbound
      GROUP BY 1, 2, 3, 4) g
     CROSS JOIN LATERAL (VALUES
        ('calls_offered', g.offered), ('calls_answered', g.answered), ('answered_within_15s', g.within_15s),
        ('calls_abandoned', g.abandoned), ('voicemails', g.voicemails), ('repeat_calls', g.repeats)
     ) AS m (metric, n)
WHERE m.n <> 0
UNION ALL
-- callback runs of the cases whose callback clock the batch writes, from
-- the current run on, by the day owed
SELECT hotline.local_day(r.started_at), c.id, NULL, c.department, m.metric, m.n
FROM (SELECT * FROM kc WHERE kc.runs) c
     -- clock_runs' two halves, each probed by its key (the view joined as a
     -- whole is hashed: every clock of the database, 240 ms)
     CROSS JOIN LATERAL (
        SELECT k.seq, k.state, k.started_at, k.due_at, k.met_at FROM hotline.clocks k
        WHERE k.case_id = c.id AND k.kind = 'callback' AND k.seq >= c.s0
        UNION ALL
        SELECT d.seq, d.state, d.started_at, d.due_at, d.met_at FROM hotline.clock_runs_done d
        WHERE d.case_id = c.id AND d.kind = 'callback' AND d.seq >= c.s0
          AND NOT EXISTS (SELECT 1 FROM hotline.clocks k2
                          WHERE k2.case_id = d.case_id AND k2.kind = d.kind AND k2.seq = d.seq)
     ) r
     CROSS JOIN LATERAL (VALUES
        ('callbacks_owed', 1),
        ('callbacks_in_time', coalesce(r.met_at <= r.due_at, false)::int),
        ('callbacks_late', coalesce(r.met_at > r.due_at, false)::int),
        ('callbacks_still_owed', (r.met_at IS NULL AND r.state IN ('pending', 'paused', 'breached'))::int),
        ('callbacks_dropped', (r.met_at IS NULL AND r.state = 'stopped')::int)
     ) AS m (metric, n)
WHERE m.n <> 0
UNION ALL
-- the batch's new cases opened
SELECT hotline.local_day(c.opened_at), c.id, NULL, c.department, 'cases_opened', 1
FROM kc c WHERE c.opened
UNION ALL
-- the events: attempts, resolutions, surveys, transfers
SELECT hotline.local_day(e.at), e.case_id,
       CASE WHEN e.type IN ('callback.attempt', 'case.transfer')
            THEN coalesce(e.body->>'agent', e.body->>'by')
            ELSE coalesce(e.body->>'agent',
                          (SELECT l.agent FROM hotline.calls l
                           WHERE l.case_id = e.case_id AND l.agent IS NOT NULL AND l.answered_at <= e.at
                           ORDER BY l.answered_at DESC LIMIT 1)) END,
       c.department, m.metric, m.n
FROM (
        SELECT e0.*, t.kind,
               -- the turn before it (figure_facts' lag): the case's entries of
               -- case_events_figs, the highest seq below its own
               CASE WHEN t.kind = 'R' THEN (
                   SELECT CASE WHEN y.type = 'case.resolve' OR y.type = 'call.ended' THEN 'R'
                               WHEN y.type = 'case.close' THEN 'C' ELSE 'O' END
                   FROM hotline.case_events y
                   WHERE (y.case_id + 0) = e0.case_id AND y.seq < e0.seq
                     AND (y.type IN ('case.resolve', 'case.close', 'case.reopen')
                          OR (y.type = 'call.ended' AND y.body->>'outcome' = 'resolved')
                          OR (y.type = 'survey.result' AND (y.body->>'score') ~ '^[1-2]$'))
                   ORDER BY y.seq DESC LIMIT 1) END AS prev
        FROM ev e0
             CROSS JOIN LATERAL (SELECT CASE WHEN e0.type = 'case.resolve'
                                                  OR (e0.type = 'call.ended' AND e0.body->>'outcome' = 'resolved')
                                             THEN 'R' END AS kind) t
     ) e
     JOIN kc c ON c.id = e.case_id
     LEFT JOIN LATERAL (
        SELECT r.met_at, r.due_at FROM hotline.clock_runs r
        WHERE e.kind = 'R' AND coalesce(e.prev, 'O') = 'O'
          AND r.case_id = e.case_id AND r.kind = 'resolution' AND r.started_at <= e.at
        ORDER BY r.seq DESC LIMIT 1
     ) rr ON true
     CROSS JOIN LATERAL (VALUES
        ('callback_attempts', (e.type = 'callback.attempt')::int),
        ('callbacks_reached', (e.type = 'callback.attempt' AND e.body->>'result' = 'reached')::int),
        ('cases_resolved', (e.kind = 'R' AND coalesce(e.prev, 'O') = 'O')::int),
        ('resolved_in_time', (e.kind = 'R' AND coalesce(e.prev, 'O') = 'O'
                              AND coalesce(rr.met_at <= rr.due_at, e.at <= rr.due_at, false))::int),
        ('surveys', (e.type = 'survey.result')::int),
        ('score_sum', CASE WHEN e.type = 'survey.result' AND (e.body->>'score') ~ '^[1-5]$'
                           THEN (e.body->>'score')::int ELSE 0 END),
        ('surveys_satisfied', (e.type = 'survey.result' AND (e.body->>'score') ~ '^[4-5]$')::int),
        ('transfers', (e.type = 'case.transfer')::int)
     ) AS m (metric, n)
WHERE m.n <> 0
$$;
COMMENT ON FUNCTION hotline.figure_facts_src(bigint[], bigint[], text[], text[], timestamptz, timestamptz, bigint[], bigint[], jsonb) IS 'The facts of the rows a batch may change (the calls, runs, events and cases figures_before named), as figure_facts counts them (031; the chain through case_events_figs, 034).';

------------------------------------------- 2. the months' column order

-- The parent's columns as a partition's column list, the fixed-width ones
-- first by alignment (8, 4, 2, 1 bytes), then the variable-length ones, each
-- group in the parent's order; with their NOT NULL, defaults and collation,
-- as LIKE ... INCLUDING DEFAULTS gave (ATTACH wants the NOT NULLs; the
-- defaults serve an INSERT that names the partition).  cols: for CREATE
-- TABLE; names: the same order, for an INSERT's column list.
CREATE FUNCTION hotline.event_month_columns(OUT cols text, OUT names text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT string_agg(format('%I %s%s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                             CASE WHEN a.attcollation <> t.typcollation
                                  THEN format(' COLLATE %I.%I', cn.nspname, co.collname) ELSE '' END,
                             CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                             coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')),
                      ', ' ORDER BY a.attlen < 0, position(a.attalign IN 'disc'), a.attnum),
           string_agg(quote_ident(a.attname), ', ' ORDER BY a.attlen < 0, position(a.attalign IN 'disc'), a.attnum)
    FROM pg_attribute a
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_collation co ON co.oid = a.attcollation
         LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = 'hotline.case_events'::regclass AND a.attnum > 0 AND NOT a.attisdropped
$$;
REVOKE EXECUTE ON FUNCTION hotline.event_month_columns() FROM PUBLIC;
COMMENT ON FUNCTION hotline.event_month_columns() IS 'The column list of a new case_events month partition: fixed-width columns first, no alignment padding (034).';

-- As in 021, the month made as its own table in that column order and then
-- attached (CREATE TABLE ... PARTITION OF would take the parent's order);
-- the rows of the default partition that fall in it moved by column name.
CREATE OR REPLACE FUNCTION hotline.create_event_month(lo timestamptz) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m    timestamp := date_trunc('month', lo AT TIME ZONE 'UTC');
    f    timestamptz := m AT TIME ZONE 'UTC';
    t    timestamptz := (m + interval '1 month') AT TIME ZONE 'UTC';
    name text := 'case_events_p' || to_char(m, 'YYYYMM');
    c    record;
BEGIN
    IF to_regclass('hotline.' || name) IS NOT NULL THEN
        RETURN false;
    END IF;
    c := hotline.event_month_columns();
    EXECUTE format('CREATE TABLE hotline.%I (%s)', name, c.cols);
    IF EXISTS (SELECT 1 FROM hotline.case_events_default WHERE at >= f AND at < t) THEN
        EXECUTE format('WITH m AS (DELETE FROM hotline.case_events_default WHERE at >= $1 AND at < $2 RETURNING *)'
                       ' INSERT INTO hotline.%I (%s) SELECT %s FROM m', name, c.names, c.names) USING f, t;
    END IF;
    EXECUTE format('ALTER TABLE hotline.case_events ATTACH PARTITION hotline.%I FOR VALUES FROM (%L) TO (%L)',
                   name, f, t);
    RETURN true;
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.create_event_month(timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION hotline.create_event_month(timestamptz) IS 'Creates the case_events partition of the UTC month of its argument, its fixed-width columns first (034; rows moved out of the default partition).';

-- The months made ahead that hold no row yet, made again in that order
-- (the lock first, so that no row arrives between the check and the drop).
LOCK TABLE hotline.case_events IN ACCESS EXCLUSIVE MODE;
DO $$
DECLARE
    p record;
    n integer;
BEGIN
    FOR p IN
        SELECT c.relname, (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::timestamptz AS lo
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'hotline.case_events'::regclass AND c.relname ~ '^case_events_p[0-9]{6}$'
        ORDER BY c.relname
    LOOP
        EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM hotline.%I LIMIT 1) x', p.relname) INTO n;
        IF n = 0 THEN
            EXECUTE format('ALTER TABLE hotline.case_events DETACH PARTITION hotline.%I', p.relname);
            EXECUTE format('DROP TABLE hotline.%I', p.relname);
            PERFORM hotline.create_event_month(p.lo);
        END IF;
    END LOOP;
END
$$;
