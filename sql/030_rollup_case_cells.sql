-- 030_rollup_case_cells.sql - the rollup counts each batch's cases once, not twice (issue 15).
--
-- The cost.  figures_before() and figures_after() (023, 025) recounted the
-- facts of a batch's cases twice: before the batch's writes, to subtract
-- them, and after, to add them.  With the rollup kept (the bench's reset no
-- longer switches it off, 025), each recount took 41-63 ms per batch at ten
-- million events (16,000-26,000 buffers, ~80-100 per case), and ingest on an
-- almost empty database roughly halved.
--
-- The design.  Each case's current contribution to hotline.figure_rollup is
-- stored: hotline.figure_case_cells, one row per case, its cells as JSON
-- (the same [{"d", "dep", "a", "m": {metric: n}}] that figure_rollup_apply
-- reads, ordered by day, department and agent, so equal contributions are
-- equal jsonb).  Invariant: figure_rollup = the sum of every case's stored
-- cells (rebuild_figure_rollup writes both from figure_facts).  So:
--
--   figures_before(case_ids, callers, t_min)  only names the set (the
--       batch's cases and the cases of its callers' later inbound calls, as
--       in 023); no recount.
--   figures_after()  locks the set's stored rows (in case order), recounts
--       the set ONCE (figure_facts_of, 025's pruning), and for the cases
--       whose cells differ from the stored ones adds (after - stored) to the
--       rollup (023's upsert, key order) and replaces the stored cells.  A
--       case whose cells did not change (most cases of a repeat caller's
--       later calls) writes nothing.
--
-- Why the lock.  "Before" is no longer read under the batch's own writes but
-- from the stored row.  Two batches of different daemons can name the same
-- case (a caller's later call is in the set of a batch that does not write
-- that case); the second waits on the lock, then its recount (a new
-- statement, a new snapshot) and its read of the stored row both see the
-- first's commit: no delta is counted twice or from a stale recount.  The
-- lock is a transaction-scoped advisory lock per case of the set (key
-- 1212940293, the case id, as 016's lock_batch does for 1212940290; 0291
-- and 0292 are cluster.c's session locks of the slots), taken
-- in ascending order in figures_after, the batch's last write, after every
-- lock_batch lock: no cycle with those nor with the rollup's row locks.
-- Not a row lock (FOR NO KEY UPDATE): that writes a WAL record and dirties
-- the page of every case of the set, most of which (a repeat caller's older
-- cases) do not change, and a new case has no row to lock.  (Measured, the
-- difference is small: ~3.7 kB of figures_after's ~23 kB of WAL per batch
-- on an almost empty database; at 1 M events 45.7 kB with row locks, 47.3
-- kB with these: the stored rows themselves are the WAL.)  An optimistic
-- variant (no lock, UPDATE ... WHERE cells = the cells read, retry on a
-- mismatch) is NOT exact: a call moved out of one case's window by one
-- batch while another batch adds one in it can leave the stale count.
--
-- What changes beside the daemon.  Everything that changes the facts of a
-- case outside the daemon (an import by hand, anonymization, retention) is
-- not followed by the rollup, as before (docs/admin.md).  What differs: the
-- next batch that names such a case adds the difference between its stored
-- cells and its recount, so the rollup comes back to the recount for that
-- case (023 added nothing: its before and after both saw the change).
-- Retention (drop_events_before) is the one place where that shows: a case
-- with events in a dropped month that a later batch names loses those
-- events' figures from their days.  Anonymization's repeat_calls change
-- (docs/admin.md) likewise.  rebuild_figure_rollup() recounts both tables.

CREATE TABLE hotline.figure_case_cells (
    case_id bigint PRIMARY KEY,
    cells   jsonb NOT NULL
) WITH (fillfactor = 85);   -- a case's row is replaced by each batch naming it: room for HOT updates
COMMENT ON TABLE hotline.figure_case_cells IS 'Each case''s current contribution to hotline.figure_rollup (030): figures_after() subtracts it instead of recounting the case before a batch.';
COMMENT ON COLUMN hotline.figure_case_cells.case_id IS 'The case.';
COMMENT ON COLUMN hotline.figure_case_cells.cells IS 'Its facts summed into rollup cells: [{"d": day, "dep": department, "a": agent, "m": {metric: n}}], ordered by d, dep, a.';

-- figure_facts_of (025) with each base row read once.  025's version
-- probed cases_pkey once per case in each of its four branches and twice
-- more in case_events_from (its InitPlan, once per read of case_events),
-- and read the cases' events twice (the resolution transitions and the
-- facts): of the ~2,600 buffers of a recount of 64 cases, ~1,300 were those
-- repeated probes (EXPLAIN of the generic plan, docs/explain.md).  Now the
-- cases (with their case_events_early bound) and their events are two
-- materialized CTEs that every branch joins.  Same rules, same rows: the
-- events' CTE holds the union of the two type lists, each use filters its
-- own; the lower bound on `at` is case_events_from's (an InitPlan over the
-- cases' CTE, so the month partitions before it are pruned at run time).
-- And a call's repeat flag is an EXISTS over the caller's inbound calls of
-- the 24 hours before it, instead of 023's "previous call, ORDER BY
-- offered_at DESC, call_id DESC LIMIT 1": calls_caller_offered is (caller,
-- offered_at), so that ORDER BY fetched and sorted EVERY earlier call of
-- the caller (13 buffers per call under the bench's Zipf callers, 4,585 of
-- a batch's 6,094, auto_explain).  The same flag: the previous call is in
-- the window exactly when some earlier call is, and the EXISTS stops at the
-- first one.
CREATE OR REPLACE FUNCTION hotline.figure_facts_of(ids bigint[])
RETURNS TABLE (day date, case_id bigint, agent text, department text, metric text, n integer)
LANGUAGE sql STABLE AS $$
WITH cs AS MATERIALIZED (
    SELECT c0.id, c0.department, c0.opened_at, least(c0.opened_at, x0.first_at) AS lo
    FROM hotline.cases c0 LEFT JOIN hotline.case_events_early x0 ON x0.case_id = c0.id
    WHERE c0.id = ANY (ids)
), ev AS MATERIALIZED (
    SELECT x.seq, x.case_id, x.type, x.at, x.body FROM hotline.case_events x
    WHERE x.case_id = ANY (ids) AND x.at >= (SELECT min(cs.lo) FROM cs)
      AND x.type IN ('callback.attempt', 'case.resolve', 'call.ended', 'survey.result', 'case.transfer',
                     'case.close', 'case.reopen')
)
-- inbound calls, by the day offered
SELECT hotline.local_day(l.offered_at), l.case_id, l.agent, c.department, m.metric, m.n
FROM hotline.calls l
     JOIN cs c ON c.id = l.case_id
     CROSS JOIN LATERAL (VALUES
        ('calls_offered', 1),
        ('calls_answered', (l.answered_at IS NOT NULL)::int),
        ('answered_within_15s', coalesce(l.answered_at <= l.offered_at + interval '15 seconds', false)::int),
        ('calls_abandoned', (l.answered_at IS NULL AND l.state IN ('abandoned', 'voicemail'))::int),
        ('voicemails', (l.answered_at IS NULL AND l.state = 'voicemail')::int),
        ('repeat_calls', (EXISTS (
            SELECT 1 FROM hotline.calls p
            WHERE p.caller = l.caller AND p.inbound
              AND p.offered_at > l.offered_at - interval '24 hours' AND p.offered_at <= l.offered_at
              AND (p.offered_at, p.call_id) < (l.offered_at, l.call_id)))::int)
     ) AS m (metric, n)
WHERE l.case_id = ANY (ids) AND l.inbound AND m.n <> 0
UNION ALL
-- callbacks owed, by the day they became owed
SELECT hotline.local_day(r.started_at), r.case_id, NULL, c.department, m.metric, m.n
FROM hotline.clock_runs r
     JOIN cs c ON c.id = r.case_id
     CROSS JOIN LATERAL (VALUES
        ('callbacks_owed', 1),
        ('callbacks_in_time', coalesce(r.met_at <= r.due_at, false)::int),
        ('callbacks_late', coalesce(r.met_at > r.due_at, false)::int),
        ('callbacks_still_owed', (r.met_at IS NULL AND r.state IN ('pending', 'paused', 'breached'))::int),
        ('callbacks_dropped', (r.met_at IS NULL AND r.state = 'stopped')::int)
     ) AS m (metric, n)
WHERE r.case_id = ANY (ids) AND r.kind = 'callback' AND m.n <> 0
UNION ALL
-- cases opened
SELECT hotline.local_day(c.opened_at), c.id, NULL, c.department, 'cases_opened', 1
FROM cs c
UNION ALL
-- case events: callback attempts, resolutions, surveys, transfers
SELECT hotline.local_day(e.at), e.case_id,
       CASE WHEN e.type IN ('callback.attempt', 'case.transfer')
            THEN coalesce(e.body->>'agent', e.body->>'by')
            ELSE coalesce(e.body->>'agent',
                          (SELECT l.agent FROM hotline.calls l
                           WHERE l.case_id = e.case_id AND l.agent IS NOT NULL AND l.answered_at <= e.at
                           ORDER BY l.answered_at DESC LIMIT 1)) END,
       c.department, m.metric, m.n
FROM (
        SELECT e0.*, s.kind, s.prev
        FROM ev e0
             LEFT JOIN (
                SELECT k.seq, k.kind, lag(k.kind) OVER (PARTITION BY k.case_id ORDER BY k.seq) AS prev
                FROM (SELECT x.seq, x.case_id,
                             CASE WHEN x.type = 'case.resolve'
                                       OR (x.type = 'call.ended' AND x.body->>'outcome' = 'resolved') THEN 'R'
                                  WHEN x.type = 'case.close' THEN 'C'
                                  WHEN x.type = 'case.reopen'
                                       OR (x.type = 'survey.result' AND (x.body->>'score') ~ '^[1-2]$') THEN 'O'
                             END AS kind
                      FROM ev x
                      WHERE x.type IN ('case.resolve', 'call.ended', 'case.close', 'case.reopen', 'survey.result')) k
                WHERE k.kind IS NOT NULL
             ) s ON s.seq = e0.seq
        WHERE e0.type IN ('callback.attempt', 'case.resolve', 'call.ended', 'survey.result', 'case.transfer')
     ) e
     JOIN cs c ON c.id = e.case_id
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
REVOKE EXECUTE ON FUNCTION hotline.figure_facts_of(bigint[]) FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_facts_of(bigint[]) IS 'figure_facts of the given cases only (what the rollup maintenance recounts); each case and each of its events read once (030).';

-- figure_facts_of (025) summed per case into its cells, in the order the
-- stored rows keep.  PL/pgSQL with 025's settings for the same reasons (one
-- generic plan per session, no JIT, the case_id btree rather than a bitmap
-- AND with the month's BRIN).
CREATE FUNCTION hotline.figure_case_cells_of(ids bigint[]) RETURNS TABLE (case_id bigint, cells jsonb)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET jit = off SET enable_bitmapscan = off AS $$
BEGIN
    RETURN QUERY
    SELECT g.case_id,
           jsonb_agg(jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)
                     ORDER BY g.day, g.department, g.agent)
    FROM (SELECT f.case_id, f.day, f.department, f.agent, jsonb_object_agg(f.metric, f.n) AS m
          FROM (SELECT x.case_id, x.day, coalesce(x.department, '') AS department,
                       coalesce(x.agent, '') AS agent, x.metric, sum(x.n) AS n
                FROM hotline.figure_facts_of(ids) x GROUP BY 1, 2, 3, 4, 5) f
          GROUP BY 1, 2, 3, 4) g
    GROUP BY g.case_id;
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.figure_case_cells_of(bigint[]) FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_case_cells_of(bigint[]) IS 'figure_facts_of summed per case into rollup cells, as figure_case_cells stores them (030).';

-- The batch's set, as 023 computed it; nothing is counted here any more.
CREATE OR REPLACE FUNCTION hotline.figures_before(case_ids jsonb, callers jsonb, t_min bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ids bigint[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM hotline.figure_rollup_state) THEN
        RETURN 0;
    END IF;
    SELECT array_agg(DISTINCT i ORDER BY i) INTO ids FROM (
        SELECT x::bigint AS i FROM jsonb_array_elements_text(coalesce(case_ids, '[]')) x
        UNION ALL
        SELECT l.case_id FROM hotline.calls l
        WHERE t_min IS NOT NULL AND l.inbound AND l.offered_at >= hotline.from_ms(t_min)
          AND l.caller IN (SELECT jsonb_array_elements_text(coalesce(callers, '[]')))
    ) u WHERE i IS NOT NULL AND i > 0;
    PERFORM set_config('hotline.figures_ids', coalesce(array_to_string(ids, ','), ''), true);
    RETURN coalesce(cardinality(ids), 0);
END
$$;
COMMENT ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint) IS 'First write of a batch: names the cases whose facts it may change (030: no recount, their stored cells are the "before").';

-- The set recounted once; (recount - stored) into the rollup for the cases
-- that changed, and their stored cells replaced.
CREATE OR REPLACE FUNCTION hotline.figures_after() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    zone text := (SELECT s.zone FROM hotline.figure_rollup_state s);
    saved text := current_setting('hotline.timezone', true);
    idtext text := current_setting('hotline.figures_ids', true);
    ids bigint[];
    old_cells jsonb;
    new_cells jsonb;
    changed integer;
    k bigint;
BEGIN
    IF zone IS NULL OR idtext IS NULL OR idtext = '' THEN
        RETURN 0;
    END IF;
    ids := string_to_array(idtext, ',')::bigint[];
    -- the set's cases, locked in case order (see the header)
    FOR k IN SELECT DISTINCT i % 2147483647 FROM unnest(ids) i ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(1212940293, k::int);
    END LOOP;
    PERFORM set_config('hotline.timezone', zone, true);
    WITH a AS (
        SELECT * FROM hotline.figure_case_cells_of(ids)
    ), o AS (
        SELECT s.case_id, s.cells FROM hotline.figure_case_cells s WHERE s.case_id = ANY (ids)
    ), ch AS MATERIALIZED (
        SELECT coalesce(a.case_id, o.case_id) AS case_id, o.cells AS old, a.cells AS new
        FROM a FULL JOIN o ON o.case_id = a.case_id
        WHERE a.cells IS DISTINCT FROM o.cells
    ), up AS (
        INSERT INTO hotline.figure_case_cells AS s (case_id, cells)
        SELECT ch.case_id, ch.new FROM ch WHERE ch.new IS NOT NULL ORDER BY ch.case_id
        ON CONFLICT (case_id) DO UPDATE SET cells = EXCLUDED.cells
        RETURNING 1
    ), del AS (
        DELETE FROM hotline.figure_case_cells s USING ch
        WHERE s.case_id = ch.case_id AND ch.new IS NULL
        RETURNING 1
    )
    SELECT coalesce((SELECT jsonb_agg(c) FROM ch, jsonb_array_elements(ch.old) c), '[]'),
           coalesce((SELECT jsonb_agg(c) FROM ch, jsonb_array_elements(ch.new) c), '[]'),
           (SELECT count(*) FROM up) + (SELECT count(*) FROM del)
    INTO old_cells, new_cells, changed;
    PERFORM set_config('hotline.timezone', coalesce(saved, ''), true);
    IF changed > 0 THEN
        PERFORM hotline.figure_rollup_apply(old_cells, -1, new_cells);
    END IF;
    PERFORM set_config('hotline.figures_ids', '', true);
    RETURN cardinality(ids);
END
$$;
COMMENT ON FUNCTION hotline.figures_after() IS 'Last write of a batch: recounts its cases once, adds (facts now - stored cells) to figure_rollup for those that changed and stores their cells (030).';

-- 023's upsert of (after - before) into the rollup, unchanged, but in
-- PL/pgSQL: as a LANGUAGE sql function its statement was planned again at
-- every batch (8 ms per call, 3 of them planning, measured with
-- pg_stat_statements.track = all); now its plan is kept per session.
CREATE OR REPLACE FUNCTION hotline.figure_rollup_apply(cells_a jsonb, sign integer, cells_b jsonb) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $f$
#variable_conflict use_column
BEGIN
    WITH cells AS (
        SELECT (c->>'d')::date AS day, c->>'dep' AS department, c->>'a' AS agent, m.key AS metric,
               sign * m.value::text::bigint AS n
        FROM jsonb_array_elements(cells_a) c, jsonb_each(c->'m') m
        UNION ALL
        SELECT (c->>'d')::date, c->>'dep', c->>'a', m.key, m.value::text::bigint
        FROM jsonb_array_elements(cells_b) c, jsonb_each(c->'m') m
    ), d AS (
        SELECT day, department, agent,
            coalesce(sum(n) FILTER (WHERE metric = 'calls_offered'), 0) AS calls_offered,
            coalesce(sum(n) FILTER (WHERE metric = 'calls_answered'), 0) AS calls_answered,
            coalesce(sum(n) FILTER (WHERE metric = 'answered_within_15s'), 0) AS answered_within_15s,
            coalesce(sum(n) FILTER (WHERE metric = 'calls_abandoned'), 0) AS calls_abandoned,
            coalesce(sum(n) FILTER (WHERE metric = 'voicemails'), 0) AS voicemails,
            coalesce(sum(n) FILTER (WHERE metric = 'callbacks_owed'), 0) AS callbacks_owed,
            coalesce(sum(n) FILTER (WHERE metric = 'callbacks_in_time'), 0) AS callbacks_in_time,
            coalesce(sum(n) FILTER (WHERE metric = 'callbacks_late'), 0) AS callbacks_late,
            coalesce(sum(n) FILTER (WHERE metric = 'callbacks_still_owed'), 0) AS callbacks_still_owed,
            coalesce(sum(n) FILTER (WHERE metric = 'callbacks_dropped'), 0) AS callbacks_dropped,
            coalesce(sum(n) FILTER (WHERE metric = 'callback_attempts'), 0) AS callback_attempts,
            coalesce(sum(n) FILTER (WHERE metric = 'callbacks_reached'), 0) AS callbacks_reached,
            coalesce(sum(n) FILTER (WHERE metric = 'cases_opened'), 0) AS cases_opened,
            coalesce(sum(n) FILTER (WHERE metric = 'cases_resolved'), 0) AS cases_resolved,
            coalesce(sum(n) FILTER (WHERE metric = 'resolved_in_time'), 0) AS resolved_in_time,
            coalesce(sum(n) FILTER (WHERE metric = 'repeat_calls'), 0) AS repeat_calls,
            coalesce(sum(n) FILTER (WHERE metric = 'surveys'), 0) AS surveys,
            coalesce(sum(n) FILTER (WHERE metric = 'score_sum'), 0) AS score_sum,
            coalesce(sum(n) FILTER (WHERE metric = 'surveys_satisfied'), 0) AS surveys_satisfied,
            coalesce(sum(n) FILTER (WHERE metric = 'transfers'), 0) AS transfers
        FROM cells GROUP BY day, department, agent
        HAVING bool_or(n <> 0) AND sum(abs(n)) > 0
    )
    INSERT INTO hotline.figure_rollup AS f
    SELECT * FROM d
    WHERE (calls_offered, calls_answered, answered_within_15s, calls_abandoned, voicemails, callbacks_owed,
           callbacks_in_time, callbacks_late, callbacks_still_owed, callbacks_dropped, callback_attempts,
           callbacks_reached, cases_opened, cases_resolved, resolved_in_time, repeat_calls, surveys,
           score_sum, surveys_satisfied, transfers)
          IS DISTINCT FROM (0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                            0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                            0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint)
    ORDER BY day, department, agent
    ON CONFLICT (day, department, agent) DO UPDATE SET
        calls_offered = f.calls_offered + EXCLUDED.calls_offered,
        calls_answered = f.calls_answered + EXCLUDED.calls_answered,
        answered_within_15s = f.answered_within_15s + EXCLUDED.answered_within_15s,
        calls_abandoned = f.calls_abandoned + EXCLUDED.calls_abandoned,
        voicemails = f.voicemails + EXCLUDED.voicemails,
        callbacks_owed = f.callbacks_owed + EXCLUDED.callbacks_owed,
        callbacks_in_time = f.callbacks_in_time + EXCLUDED.callbacks_in_time,
        callbacks_late = f.callbacks_late + EXCLUDED.callbacks_late,
        callbacks_still_owed = f.callbacks_still_owed + EXCLUDED.callbacks_still_owed,
        callbacks_dropped = f.callbacks_dropped + EXCLUDED.callbacks_dropped,
        callback_attempts = f.callback_attempts + EXCLUDED.callback_attempts,
        callbacks_reached = f.callbacks_reached + EXCLUDED.callbacks_reached,
        cases_opened = f.cases_opened + EXCLUDED.cases_opened,
        cases_resolved = f.cases_resolved + EXCLUDED.cases_resolved,
        resolved_in_time = f.resolved_in_time + EXCLUDED.resolved_in_time,
        repeat_calls = f.repeat_calls + EXCLUDED.repeat_calls,
        surveys = f.surveys + EXCLUDED.surveys,
        score_sum = f.score_sum + EXCLUDED.score_sum,
        surveys_satisfied = f.surveys_satisfied + EXCLUDED.surveys_satisfied,
        transfers = f.transfers + EXCLUDED.transfers;
END
$f$;
REVOKE EXECUTE ON FUNCTION hotline.figure_rollup_apply(jsonb, integer, jsonb) FROM PUBLIC;

-- Every case's cells from figure_facts in the session's zone (the caller
-- sets hotline.timezone and holds the rollup's lock).
CREATE FUNCTION hotline.figure_case_cells_fill() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    n bigint;
BEGIN
    TRUNCATE hotline.figure_case_cells;
    INSERT INTO hotline.figure_case_cells (case_id, cells)
    SELECT g.case_id,
           jsonb_agg(jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)
                     ORDER BY g.day, g.department, g.agent)
    FROM (SELECT f.case_id, f.day, f.department, f.agent, jsonb_object_agg(f.metric, f.n) AS m
          FROM (SELECT x.case_id, x.day, coalesce(x.department, '') AS department,
                       coalesce(x.agent, '') AS agent, x.metric, sum(x.n) AS n
                FROM hotline.figure_facts x WHERE x.n <> 0 GROUP BY 1, 2, 3, 4, 5) f
          GROUP BY 1, 2, 3, 4) g
    GROUP BY g.case_id
    ORDER BY g.case_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.figure_case_cells_fill() FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_case_cells_fill() IS 'Recount hotline.figure_case_cells from figure_facts (rebuild_figure_rollup, 030).';

-- 023's rebuild, now in two steps that keep the invariant by construction:
-- every case's cells from figure_facts, then the rollup as their sum (one
-- pass over figure_facts instead of a second recount).
CREATE OR REPLACE FUNCTION hotline.rebuild_figure_rollup(p_zone text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    z text := coalesce(p_zone, hotline.report_tz());
    saved text := current_setting('hotline.timezone', true);
    cells bigint;
BEGIN
    LOCK TABLE hotline.figure_rollup IN EXCLUSIVE MODE;
    LOCK TABLE hotline.figure_case_cells IN EXCLUSIVE MODE;
    PERFORM set_config('hotline.timezone', z, true);
    PERFORM hotline.figure_case_cells_fill();
    DELETE FROM hotline.figure_rollup;
    INSERT INTO hotline.figure_rollup
    SELECT day, department, agent,
        coalesce(sum(n) FILTER (WHERE metric = 'calls_offered'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'calls_answered'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'answered_within_15s'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'calls_abandoned'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'voicemails'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'callbacks_owed'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'callbacks_in_time'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'callbacks_late'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'callbacks_still_owed'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'callbacks_dropped'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'callback_attempts'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'callbacks_reached'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'cases_opened'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'cases_resolved'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'resolved_in_time'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'repeat_calls'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'surveys'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'score_sum'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'surveys_satisfied'), 0),
        coalesce(sum(n) FILTER (WHERE metric = 'transfers'), 0)
    FROM (SELECT (c->>'d')::date AS day, c->>'dep' AS department, c->>'a' AS agent, m.key AS metric,
                 m.value::text::bigint AS n
          FROM hotline.figure_case_cells s, jsonb_array_elements(s.cells) c, jsonb_each(c->'m') m) x
    GROUP BY 1, 2, 3;
    GET DIAGNOSTICS cells = ROW_COUNT;
    INSERT INTO hotline.figure_rollup_state (zone) VALUES (z)
    ON CONFLICT (one) DO UPDATE SET zone = EXCLUDED.zone;
    PERFORM set_config('hotline.timezone', coalesce(saved, ''), true);
    RETURN cells;
END
$$;
COMMENT ON FUNCTION hotline.rebuild_figure_rollup(text) IS 'Recount figure_case_cells from the base rows in a zone (default: the report zone), and figure_rollup as their sum (030).';

-- The first fill: the cases' cells in the zone the rollup was counted in,
-- when it is kept (with no state the daemon keeps neither table).
DO $$
DECLARE
    z text := (SELECT s.zone FROM hotline.figure_rollup_state s);
    saved text := current_setting('hotline.timezone', true);
BEGIN
    IF z IS NOT NULL THEN
        PERFORM set_config('hotline.timezone', z, true);
        PERFORM hotline.figure_case_cells_fill();
        PERFORM set_config('hotline.timezone', coalesce(saved, ''), true);
    END IF;
END
$$;
ANALYZE hotline.figure_case_cells;
COMMENT ON FUNCTION hotline.figure_cells_of(bigint[]) IS 'figure_facts_of summed into rollup cells over a set of cases, as JSON; the daemon no longer calls it since 030 (figure_case_cells_of, per case), kept for ad-hoc recounts.';
