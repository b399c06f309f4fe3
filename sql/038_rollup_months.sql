-- 038_rollup_months.sql - a batch's figures upkeep no longer opens every
-- month of case_events (issue 15).
--
-- What it cost.  A batch of ONE event took 8-10 ms from its first statement
-- to COMMIT (scripts/bench.sh phase ingest real 1 with a window of 1: 90-150
-- events/s), which alone rules out an acknowledgement in 10 ms at any rate.
-- perf over the cluster's backends in that run: 37 % of the statements' time
-- in ExecInitAppend / ExecInitIndexScan, i.e. starting the scans of month
-- partitions that are then never read.  figure_facts_src (031, 034), called
-- twice a batch through figure_cells_src and once more through
-- figure_cells_move, reads case_events in three correlated probes - the
-- resolutions and surveys from a case's first touched answer on, every
-- event of a case counted whole, the turn before a resolution - bounded by
-- the row they probe for (c.tdep, c.id, e0.seq).  Such a bound prunes the
-- months at each rescan, but only after the executor has opened every
-- month's index scan: 3 probes x 27 months at every call of a plan kept for
-- the session.  figure_cells_src for one case, in a loop on the bench
-- cluster (two runs): 426 and 422 us a call with 27 partitions, 1,137 and
-- 1,591 us with 63 (three more years of months): the batch's fixed cost
-- grew with the months kept, not with the batch (025 fixed the same for figure_facts_of; 031's probes came back
-- without its bound).
--
-- The fix: the callers compute hotline.case_events_from() of the cases
-- counted (025: at or before every event of those cases, least(opened_at,
-- case_events_early.first_at)) and hotline.case_events_until() (new: at or
-- after every event of those cases) into PL/pgSQL variables, and the probes
-- add `at >= ev_from AND at <= ev_to`.  A variable is an external parameter
-- of the kept plan, so the Append prunes the months outside them when the
-- executor starts ("Subplans Removed"), not at each rescan: of the past
-- months and of the year of months made ahead (sql/021, cluster.c) only the
-- cases' own are started.  Exact: the bounds enclose every event the probes
-- can find.  The lower one by 025's argument; figures_after counts after
-- the writes, when case_events_early holds the batch's own early events,
-- and computes the bounds again.  The upper one: an event is dated at most
-- a day after it was stored (protocol.c HL_AT_FUTURE_MS; 033 already reads
-- overdue_callbacks' attempts so), and one dated later - written by hand -
-- is recorded in hotline.case_events_late by the INSERT's trigger.  A case
-- that does not exist yet has no row in kc, so no probe runs for it.
--
-- Two more of a batch's fixed costs, found in the same run
-- (pg_stat_statements with track_planning, figures_before/after of a
-- one-event batch in a loop: 2.17 ms a pair):
--  * figures_before's own statements were planned again at every call:
--    under plan_cache_mode = auto a custom plan of a jsonb array of unknown
--    length looks cheaper than the generic one, so the generic plan was
--    never kept (0.32 ms of planning for the earliest answer per case,
--    0.12 ms, 0.09 ms and 0.05 ms for three others).  The function now
--    forces the generic plan, as every function it calls already does; the
--    generic plans probe the same indexes (auto_explain over both forms of
--    figures_before: no scan of a table but figure_rollup_state's one row).
--  * case_events_from() was LANGUAGE sql, SECURITY DEFINER: never inlined,
--    so its query was planned at every call (twice a batch).  The same
--    query in PL/pgSQL keeps its plan for the session.
-- Together: 2.17 -> 1.41-1.81 ms a pair in that loop.
--
-- Nothing a user reads changes: same figures, same rows.

------------------------------------------------- 1. the late-dated events

-- A case's events dated more than a day after they were stored, as
-- case_events_early (025) holds those dated before the case opened; the
-- same statement trigger fills both.  "Stored" is the inserting
-- transaction's now(): the bound below adds a day to clock_timestamp(),
-- which is later than the commit of every row a query can see.
CREATE TABLE hotline.case_events_late (
    case_id bigint PRIMARY KEY,
    last_at timestamptz NOT NULL
);
COMMENT ON TABLE hotline.case_events_late IS 'Cases that have an event dated more than a day after it was stored, and the latest such event (the upper bound of hotline.case_events_until, 038).';
COMMENT ON COLUMN hotline.case_events_late.case_id IS 'The case.';
COMMENT ON COLUMN hotline.case_events_late.last_at IS 'The at of its latest event dated more than a day after it was stored.';

-- Only an event dated after now() + 1 day can lie beyond the bound of a
-- later query, and those are in the months ahead and the default partition
-- (pruned to them: no scan of the history).
CREATE FUNCTION hotline.rebuild_case_events_late() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM hotline.case_events_late;
    INSERT INTO hotline.case_events_late (case_id, last_at)
    SELECT e.case_id, max(e.at) FROM hotline.case_events e
    WHERE e.at > now() + interval '1 day' AND e.case_id IS NOT NULL
    GROUP BY e.case_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION hotline.rebuild_case_events_late() IS 'Recount hotline.case_events_late from case_events (after an UPDATE of case_events.at by hand, as rebuild_case_events_early).';
REVOKE EXECUTE ON FUNCTION hotline.rebuild_case_events_late() FROM PUBLIC;
SELECT hotline.rebuild_case_events_late();   -- the rows already stored

-- 025's trigger function, plus the late events (a filter before the
-- aggregate: normally no row passes it).
CREATE OR REPLACE FUNCTION hotline.record_event_ids() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO hotline.event_ids (event_id, case_id) SELECT n.event_id, n.case_id FROM new_events n;
    INSERT INTO hotline.case_events_early AS x (case_id, first_at)
    SELECT m.case_id, m.lo
    FROM (SELECT n.case_id, min(n.at) AS lo FROM new_events n WHERE n.case_id IS NOT NULL GROUP BY n.case_id) m
    WHERE m.lo < (SELECT c.opened_at FROM hotline.cases c WHERE c.id = m.case_id)
    ORDER BY m.case_id
    ON CONFLICT (case_id) DO UPDATE SET first_at = EXCLUDED.first_at WHERE EXCLUDED.first_at < x.first_at;
    INSERT INTO hotline.case_events_late AS x (case_id, last_at)
    SELECT n.case_id, max(n.at) FROM new_events n
    WHERE n.at > now() + interval '1 day' AND n.case_id IS NOT NULL
    GROUP BY n.case_id ORDER BY 1
    ON CONFLICT (case_id) DO UPDATE SET last_at = EXCLUDED.last_at WHERE EXCLUDED.last_at > x.last_at;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION hotline.record_event_ids() IS 'Trigger: the ids of the events an INSERT stored, into hotline.event_ids (unique); events dated before their case opened, into hotline.case_events_early (025); events dated more than a day after they were stored, into hotline.case_events_late (038).';

-- The latest `at` the events of these cases can have: a day after now, or
-- later for a case with late-dated events.  clock_timestamp(), not now():
-- a transaction that began before another committed still sees its rows.
-- STABLE although clock_timestamp() is not: any value from the call's own
-- instant on is a valid bound, so one value for a whole statement is too,
-- and a query may then prune its months with it when the executor starts.
CREATE FUNCTION hotline.case_events_until(ids bigint[]) RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN greatest(clock_timestamp() + interval '1 day',
                    (SELECT max(x.last_at) FROM hotline.case_events_late x WHERE x.case_id = ANY (ids)));
END
$$;
COMMENT ON FUNCTION hotline.case_events_until(bigint[]) IS 'An upper bound of the at of every event of these cases (038): the partitions after it hold none of them.';
REVOKE EXECUTE ON FUNCTION hotline.case_events_until(bigint[]) FROM PUBLIC;

---------------------------------------------- 2. the probes, bounded both ways

-- 034's figure_facts_src with the two bounds as its last arguments; the old
-- signature is dropped below, once nothing calls it.
CREATE FUNCTION hotline.figure_facts_src(whole_ids bigint[], k_ids bigint[], call_ids text[], ev_ids text[],
                                         lo timestamptz, hi timestamptz, run_ids bigint[], new_ids bigint[],
                                         st jsonb, ev_from timestamptz, ev_to timestamptz)
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
          AND x0.at >= ev_from AND x0.at <= ev_to   -- (038: the other months are not even opened)
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
        WHERE (x0.case_id + 0) = c.id AND x0.at >= ev_from AND x0.at <= ev_to
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
                   WHERE (y.case_id + 0) = e0.case_id AND y.seq < e0.seq AND y.at >= ev_from AND y.at <= ev_to
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

REVOKE EXECUTE ON FUNCTION hotline.figure_facts_src(bigint[], bigint[], text[], text[], timestamptz, timestamptz, bigint[], bigint[], jsonb, timestamptz, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_facts_src(bigint[], bigint[], text[], text[], timestamptz, timestamptz, bigint[], bigint[], jsonb, timestamptz, timestamptz) IS 'The facts of the rows a batch may change (the calls, runs, events and cases figures_before named), as figure_facts counts them; every event of those cases lies between ev_from and ev_to (031, 034, 038).';

-- 035's two callers, passing the bounds.
CREATE OR REPLACE FUNCTION hotline.figure_cells_src(st jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET jit = off SET enable_bitmapscan = off
SET enable_seqscan = off SET enable_sort = off AS $$
DECLARE
    whole_ids bigint[] := ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(st->'whole') x);
    k_ids bigint[] := ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(st->'k') x);
    call_ids text[] := ARRAY(SELECT x FROM jsonb_array_elements_text(st->'calls') x);
    ev_ids text[] := ARRAY(SELECT x FROM jsonb_array_elements_text(coalesce(st->'ev', '[]')) x);
    lo timestamptz := hotline.from_ms((st->>'lo')::bigint);
    hi timestamptz := hotline.from_ms((st->>'hi')::bigint);
    run_ids bigint[] := ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(coalesce(st->'cb', '[]')) x);
    new_ids bigint[] := ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(coalesce(st->'new', '[]')) x);
    big_ids bigint[] := ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(coalesce(st->'big', '[]')) x);
    -- every event of the cases counted lies between the two (variables: the
    -- generic plan prunes the months outside them when the executor starts)
    ev_from timestamptz := hotline.case_events_from(k_ids || whole_ids);
    ev_to timestamptz := hotline.case_events_until(k_ids || whole_ids);
BEGIN
    RETURN (
        SELECT coalesce(jsonb_agg(CASE WHEN g.c IS NULL
                                       THEN jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)
                                       ELSE jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m,
                                                               'c', g.c) END), '[]')
        FROM (SELECT f.day, f.department, f.agent, f.c, jsonb_object_agg(f.metric, f.n) AS m
              FROM (SELECT x.day, coalesce(x.department, '') AS department, coalesce(x.agent, '') AS agent,
                           CASE WHEN x.case_id = ANY (big_ids) THEN x.case_id END AS c, x.metric, sum(x.n) AS n
                    FROM hotline.figure_facts_src(whole_ids, k_ids, call_ids, ev_ids, lo, hi, run_ids, new_ids, st, ev_from, ev_to) x
                    GROUP BY 1, 2, 3, 4, 5) f
              GROUP BY 1, 2, 3, 4) g);
END
$$;

COMMENT ON FUNCTION hotline.figure_cells_src(jsonb) IS 'figure_facts_src summed into rollup cells, as JSON; the stored cases'' facts apart under "c" (031, 035; only the months of the cases'' events read, 038).';

CREATE OR REPLACE FUNCTION hotline.figure_cells_move(st jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET jit = off SET enable_bitmapscan = off
SET enable_seqscan = off SET enable_sort = off AS $$
DECLARE
    ids bigint[] := ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(st->'move') x);
    big_ids bigint[] := ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(coalesce(st->'big', '[]')) x);
    dep jsonb := coalesce(st->'dep', '{}');
    count_ids bigint[];
    stored_ids bigint[];
    min_n integer := coalesce((st->>'big_min')::int, 32);
    ev_from timestamptz;
    ev_to timestamptz;
BEGIN
    count_ids := ARRAY(SELECT i FROM unnest(ids) i WHERE NOT (i = ANY (big_ids)));
    ev_from := hotline.case_events_from(count_ids);
    ev_to := hotline.case_events_until(count_ids);
    stored_ids := ARRAY(SELECT i FROM unnest(ids) i WHERE i = ANY (big_ids));
    RETURN (
        -- each fact with the department it leaves: the whole count's own (the
        -- case's now), a stored case's read once per case, not once per row
        WITH f AS MATERIALIZED (
            SELECT x.day, x.case_id, coalesce(x.department, '') AS department, coalesce(x.agent, '') AS agent,
                   x.metric, sum(x.n)::int AS n, false AS stored
            FROM hotline.figure_facts_src(count_ids, count_ids, '{}', '{}', NULL, NULL, '{}', '{}', '{}', ev_from, ev_to) x
            GROUP BY 1, 2, 3, 4, 5
            UNION ALL
            SELECT r.day, c.id, coalesce(c.department, ''), r.agent, m.metric, m.n, true
            FROM hotline.cases c
                 -- a probe per case (joined, the plan kept from the first batch,
                 -- made while the table was empty, read all of it per case)
                 CROSS JOIN LATERAL (SELECT r0.* FROM hotline.figure_case_rollup r0
                                     WHERE r0.case_id = c.id OFFSET 0) r
                 CROSS JOIN LATERAL (VALUES ('calls_offered', r.calls_offered), ('calls_answered', r.calls_answered),
                                    ('answered_within_15s', r.answered_within_15s),
                                    ('calls_abandoned', r.calls_abandoned), ('voicemails', r.voicemails),
                                    ('callbacks_owed', r.callbacks_owed), ('callbacks_in_time', r.callbacks_in_time),
                                    ('callbacks_late', r.callbacks_late),
                                    ('callbacks_still_owed', r.callbacks_still_owed),
                                    ('callbacks_dropped', r.callbacks_dropped),
                                    ('callback_attempts', r.callback_attempts),
                                    ('callbacks_reached', r.callbacks_reached), ('cases_opened', r.cases_opened),
                                    ('cases_resolved', r.cases_resolved), ('resolved_in_time', r.resolved_in_time),
                                    ('repeat_calls', r.repeat_calls), ('surveys', r.surveys),
                                    ('score_sum', r.score_sum), ('surveys_satisfied', r.surveys_satisfied),
                                    ('transfers', r.transfers)) m (metric, n)
            WHERE c.id = ANY (stored_ids) AND m.n <> 0
        ), promote AS (
            -- the source rows a whole count reads, roughly: what a move of it costs
            SELECT f.case_id FROM f WHERE NOT f.stored
            GROUP BY f.case_id
            HAVING coalesce(sum(f.n) FILTER (WHERE f.metric IN ('calls_offered', 'callbacks_owed', 'callback_attempts',
                                                               'cases_resolved', 'surveys', 'transfers')), 0) >= min_n
        )
        SELECT jsonb_build_object(
            'old', (SELECT coalesce(jsonb_agg(jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)), '[]')
                    FROM (SELECT h.day, h.department, h.agent, jsonb_object_agg(h.metric, h.n) AS m
                          FROM (SELECT day, department, agent, metric, sum(n) AS n FROM f GROUP BY 1, 2, 3, 4) h
                          GROUP BY 1, 2, 3) g),
            'new', (SELECT coalesce(jsonb_agg(jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)), '[]')
                    FROM (SELECT h.day, h.department, h.agent, jsonb_object_agg(h.metric, h.n) AS m
                          FROM (SELECT day, coalesce(dep->>case_id::text, '') AS department, agent, metric, sum(n) AS n
                                FROM f GROUP BY 1, 2, 3, 4) h
                          GROUP BY 1, 2, 3) g),
            'promote', (SELECT coalesce(jsonb_agg(jsonb_build_array(g.case_id, g.day, g.agent, g.m)), '[]')
                        FROM (SELECT f.case_id, f.day, f.agent, jsonb_object_agg(f.metric, f.n) AS m
                              FROM f WHERE f.case_id IN (SELECT p.case_id FROM promote p)
                              GROUP BY 1, 2, 3) g)));
END
$$;

COMMENT ON FUNCTION hotline.figure_cells_move(jsonb) IS 'The facts of the cases a batch moves to another department, before its writes, in the old and in the new department; stored cases read from figure_case_rollup, the others counted whole, the large ones to store (031, 035; months pruned, 038).';

DROP FUNCTION hotline.figure_facts_src(bigint[], bigint[], text[], text[], timestamptz, timestamptz, bigint[], bigint[], jsonb);

-- A batch's bookkeeping statements: one plan for the session (see the header).
ALTER FUNCTION hotline.figures_before(jsonb, jsonb, bigint, jsonb) SET plan_cache_mode = force_generic_plan;

-- 025's function in PL/pgSQL: the same query, its plan kept for the session.
CREATE OR REPLACE FUNCTION hotline.case_events_from(ids bigint[]) RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (SELECT min(least(c.opened_at, x.first_at))
            FROM hotline.cases c LEFT JOIN hotline.case_events_early x ON x.case_id = c.id
            WHERE c.id = ANY (ids));
END
$$;
