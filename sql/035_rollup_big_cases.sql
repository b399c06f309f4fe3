-- 035_rollup_big_cases.sql - a busy case that changes department is moved from its stored cells, not recounted (issue 15).
--
-- The cost.  031 counts, per batch, only the rows the batch writes, except
-- for a case whose department changes (a transfer, or an order.dispatch to
-- a case without one): its facts are in the rollup under the department it
-- leaves, so figure_cells_move counted it whole before the writes and
-- carried the count to the new department.  Under Zipf callers the busiest
-- callers' open cases hold hundreds of calls and are dispatched often: the
-- move was 19.1 ms of figures_before's 26.6 ms, of a ~64 ms batch
-- (pg_stat_statements, bench "real 8 50000 zipf"), and the cost grew with
-- the history of the case again.
--
-- The design.  A case whose whole count, at a move, is LARGE (at least
-- hotline.rollup_case_cells_min source rows: inbound calls, callback runs,
-- attempts, resolutions, surveys and transfers; 32 unless set) gets its
-- facts stored, without the department: hotline.figure_case_rollup, one row
-- per (case, local day, agent) with figure_rollup's twenty figures (a row
-- per figure was five times the rows to update: 77 per batch, 11 kB of
-- WAL, in the bench).  Invariant: for every case stored there, its rows
-- equal what figure_facts counts for that case.  So:
--
--   * promotion: figure_cells_move counts a moving case that is not stored
--     whole, as 031 did (once, as it is before the writes), and stores that
--     count when it is large;
--   * upkeep: figure_facts_src already returns each fact's case, so
--     figure_cells_src keeps the facts of stored cases apart in its cells
--     (the key "c": the case; figure_rollup_apply ignores it and sums
--     cells of the same day, department and agent); figures_after adds
--     (after - before) of those to the case's rows, as it does to the
--     rollup.  031's argument that (after - before) of the named sources
--     is the whole change holds per fact, so per case: a stored case's
--     rows follow it exactly.  That is a few rows of a batch (the day and
--     agents its writes touch), not one per event (030 stored every case,
--     as JSON: +0.5 kB of WAL per event);
--   * a move of a stored case reads its rows (one index range) instead of
--     its calls, runs and events: the cost of the move no longer grows with
--     the case.  Small cases are counted whole, as in 031 (cheap).
--
-- Locks.  A stored case's rows are read and written only by a batch that
-- holds the case's advisory lock (031: every case whose sources it counts),
-- so two daemons never interleave on them.  rebuild_figure_rollup() empties
-- the table (cases are promoted again at their next move): it takes this
-- table's EXCLUSIVE lock before the rollup's, and figures_before takes ROW
-- EXCLUSIVE on it before anything else, so a rebuild never runs between a
-- batch's before and after (the batch would add its delta to rows the
-- rebuild removed, and store half a case), and the order (this table, then
-- the rollup) is the same on both sides: no deadlock.
--
-- What changes beside the daemon (an import by hand, anonymization,
-- retention) is, as in 031, not followed by the rollup nor by these rows
-- until rebuild_figure_rollup().  A stored case moved after such a change
-- carries its stored facts (the rollup's) to the new department, where 031
-- carried its recount: neither equals the recount before the rebuild.
--
-- A stored case's rows are never deleted (a row may fall to zeros): a case
-- is stored exactly when it has a row.  The threshold is read per batch
-- from the session (ALTER DATABASE ... SET hotline.rollup_case_cells_min;
-- the tests lower it); changing it only changes which cases are stored
-- next, never a figure.  Measured (docs/explain.md, 035): the move 9.8-11.9
-- -> 2.3-2.9 ms a batch, figures_before 15.3-17.6 -> 8.1-10.1 ms,
-- figures_after +0.9-1.7 ms and ~+5 kB of WAL.

CREATE TABLE hotline.figure_case_rollup (
    case_id              bigint NOT NULL,
    day                  date NOT NULL,
    agent                text NOT NULL DEFAULT '',   -- '' = none
    calls_offered        integer NOT NULL DEFAULT 0,
    calls_answered       integer NOT NULL DEFAULT 0,
    answered_within_15s  integer NOT NULL DEFAULT 0,
    calls_abandoned      integer NOT NULL DEFAULT 0,
    voicemails           integer NOT NULL DEFAULT 0,
    callbacks_owed       integer NOT NULL DEFAULT 0,
    callbacks_in_time    integer NOT NULL DEFAULT 0,
    callbacks_late       integer NOT NULL DEFAULT 0,
    callbacks_still_owed integer NOT NULL DEFAULT 0,
    callbacks_dropped    integer NOT NULL DEFAULT 0,
    callback_attempts    integer NOT NULL DEFAULT 0,
    callbacks_reached    integer NOT NULL DEFAULT 0,
    cases_opened         integer NOT NULL DEFAULT 0,
    cases_resolved       integer NOT NULL DEFAULT 0,
    resolved_in_time     integer NOT NULL DEFAULT 0,
    repeat_calls         integer NOT NULL DEFAULT 0,
    surveys              integer NOT NULL DEFAULT 0,
    score_sum            integer NOT NULL DEFAULT 0,
    surveys_satisfied    integer NOT NULL DEFAULT 0,
    transfers            integer NOT NULL DEFAULT 0,
    PRIMARY KEY (case_id, day, agent)
) WITH (fillfactor = 70);   -- as figure_rollup: a batch of the case adds to a row, no indexed column changes (HOT)
COMMENT ON TABLE hotline.figure_case_rollup IS 'The facts of the large cases (035), as figure_rollup''s cells but per case instead of department: a move of such a case reads them instead of recounting it. Kept by figures_before/after; emptied by rebuild_figure_rollup().';
COMMENT ON COLUMN hotline.figure_case_rollup.case_id IS 'The case (stored once its whole count at a move reached hotline.rollup_case_cells_min source rows).';
COMMENT ON COLUMN hotline.figure_case_rollup.day IS 'The local day of the facts, in the rollup''s zone.';
COMMENT ON COLUMN hotline.figure_case_rollup.agent IS 'The agent of the facts ('''' for none), as figure_rollup.agent.';
COMMENT ON COLUMN hotline.figure_case_rollup.calls_offered IS 'The case''s calls offered on that day for that agent, as figure_rollup.calls_offered.';
COMMENT ON COLUMN hotline.figure_case_rollup.calls_answered IS 'The case''s calls answered on that day for that agent, as figure_rollup.calls_answered.';
COMMENT ON COLUMN hotline.figure_case_rollup.answered_within_15s IS 'The case''s answered within 15s on that day for that agent, as figure_rollup.answered_within_15s.';
COMMENT ON COLUMN hotline.figure_case_rollup.calls_abandoned IS 'The case''s calls abandoned on that day for that agent, as figure_rollup.calls_abandoned.';
COMMENT ON COLUMN hotline.figure_case_rollup.voicemails IS 'The case''s voicemails on that day for that agent, as figure_rollup.voicemails.';
COMMENT ON COLUMN hotline.figure_case_rollup.callbacks_owed IS 'The case''s callbacks owed on that day for that agent, as figure_rollup.callbacks_owed.';
COMMENT ON COLUMN hotline.figure_case_rollup.callbacks_in_time IS 'The case''s callbacks in time on that day for that agent, as figure_rollup.callbacks_in_time.';
COMMENT ON COLUMN hotline.figure_case_rollup.callbacks_late IS 'The case''s callbacks late on that day for that agent, as figure_rollup.callbacks_late.';
COMMENT ON COLUMN hotline.figure_case_rollup.callbacks_still_owed IS 'The case''s callbacks still owed on that day for that agent, as figure_rollup.callbacks_still_owed.';
COMMENT ON COLUMN hotline.figure_case_rollup.callbacks_dropped IS 'The case''s callbacks dropped on that day for that agent, as figure_rollup.callbacks_dropped.';
COMMENT ON COLUMN hotline.figure_case_rollup.callback_attempts IS 'The case''s callback attempts on that day for that agent, as figure_rollup.callback_attempts.';
COMMENT ON COLUMN hotline.figure_case_rollup.callbacks_reached IS 'The case''s callbacks reached on that day for that agent, as figure_rollup.callbacks_reached.';
COMMENT ON COLUMN hotline.figure_case_rollup.cases_opened IS 'The case''s cases opened on that day for that agent, as figure_rollup.cases_opened.';
COMMENT ON COLUMN hotline.figure_case_rollup.cases_resolved IS 'The case''s cases resolved on that day for that agent, as figure_rollup.cases_resolved.';
COMMENT ON COLUMN hotline.figure_case_rollup.resolved_in_time IS 'The case''s resolved in time on that day for that agent, as figure_rollup.resolved_in_time.';
COMMENT ON COLUMN hotline.figure_case_rollup.repeat_calls IS 'The case''s repeat calls on that day for that agent, as figure_rollup.repeat_calls.';
COMMENT ON COLUMN hotline.figure_case_rollup.surveys IS 'The case''s surveys on that day for that agent, as figure_rollup.surveys.';
COMMENT ON COLUMN hotline.figure_case_rollup.score_sum IS 'The case''s score sum on that day for that agent, as figure_rollup.score_sum.';
COMMENT ON COLUMN hotline.figure_case_rollup.surveys_satisfied IS 'The case''s surveys satisfied on that day for that agent, as figure_rollup.surveys_satisfied.';
COMMENT ON COLUMN hotline.figure_case_rollup.transfers IS 'The case''s transfers on that day for that agent, as figure_rollup.transfers.';
GRANT SELECT ON hotline.figure_case_rollup TO hotline_admin;

-- 031's cells of a batch's sources, with the facts of the stored cases
-- (st->'big') kept apart under their case ("c").  Otherwise unchanged.
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
BEGIN
    RETURN (
        SELECT coalesce(jsonb_agg(CASE WHEN g.c IS NULL
                                       THEN jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)
                                       ELSE jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m,
                                                               'c', g.c) END), '[]')
        FROM (SELECT f.day, f.department, f.agent, f.c, jsonb_object_agg(f.metric, f.n) AS m
              FROM (SELECT x.day, coalesce(x.department, '') AS department, coalesce(x.agent, '') AS agent,
                           CASE WHEN x.case_id = ANY (big_ids) THEN x.case_id END AS c, x.metric, sum(x.n) AS n
                    FROM hotline.figure_facts_src(whole_ids, k_ids, call_ids, ev_ids, lo, hi, run_ids, new_ids, st) x
                    GROUP BY 1, 2, 3, 4, 5) f
              GROUP BY 1, 2, 3, 4) g);
END
$$;
COMMENT ON FUNCTION hotline.figure_cells_src(jsonb) IS 'figure_facts_src summed into rollup cells, as JSON; the stored cases'' facts apart under "c" (031, 035).';

-- The cases whose department the batch changes, as they are before its
-- writes: {"old": their cells in the department they leave, "new": the same
-- facts in the one they go to, "promote": [[case, day, agent, {metric: n}],
-- ...] the whole count of those not stored that are large}.  A stored case
-- (st->'big') is read from its rows; the others are counted whole (031).
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
BEGIN
    count_ids := ARRAY(SELECT i FROM unnest(ids) i WHERE NOT (i = ANY (big_ids)));
    stored_ids := ARRAY(SELECT i FROM unnest(ids) i WHERE i = ANY (big_ids));
    RETURN (
        -- each fact with the department it leaves: the whole count's own (the
        -- case's now), a stored case's read once per case, not once per row
        WITH f AS MATERIALIZED (
            SELECT x.day, x.case_id, coalesce(x.department, '') AS department, coalesce(x.agent, '') AS agent,
                   x.metric, sum(x.n)::int AS n, false AS stored
            FROM hotline.figure_facts_src(count_ids, count_ids, '{}', '{}', NULL, NULL, '{}', '{}', '{}') x
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
COMMENT ON FUNCTION hotline.figure_cells_move(jsonb) IS 'The facts of the cases a batch moves to another department, before its writes, in the old and in the new department; stored cases read from figure_case_rollup, the others counted whole, the large ones to store (031, 035).';

-- A batch's (after - before) of the stored cases' facts (the cells with
-- "c") added to their rows, in key order.
CREATE FUNCTION hotline.figure_case_rollup_apply(cells_a jsonb, cells_b jsonb) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $f$
#variable_conflict use_column
BEGIN
    WITH cells AS (
        SELECT (c->>'c')::bigint AS case_id, (c->>'d')::date AS day, c->>'a' AS agent, m.key AS metric,
               -(m.value::text::int) AS n
        FROM jsonb_array_elements(cells_a) c, jsonb_each(c->'m') m WHERE c ? 'c'
        UNION ALL
        SELECT (c->>'c')::bigint, (c->>'d')::date, c->>'a', m.key, m.value::text::int
        FROM jsonb_array_elements(cells_b) c, jsonb_each(c->'m') m WHERE c ? 'c'
    ), d AS (
        SELECT u.case_id, u.day, u.agent, jsonb_object_agg(u.metric, u.n) AS m
        FROM (SELECT case_id, day, agent, metric, sum(n)::int AS n FROM cells
              GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0) u
        GROUP BY 1, 2, 3
    )
    INSERT INTO hotline.figure_case_rollup AS r
    SELECT p.* FROM d,
         LATERAL jsonb_populate_record(NULL::hotline.figure_case_rollup,
                                       '{"calls_offered": 0, "calls_answered": 0, "answered_within_15s": 0, "calls_abandoned": 0, "voicemails": 0, "callbacks_owed": 0, "callbacks_in_time": 0, "callbacks_late": 0, "callbacks_still_owed": 0, "callbacks_dropped": 0, "callback_attempts": 0, "callbacks_reached": 0, "cases_opened": 0, "cases_resolved": 0, "resolved_in_time": 0, "repeat_calls": 0, "surveys": 0, "score_sum": 0, "surveys_satisfied": 0, "transfers": 0}'::jsonb || d.m
                                       || jsonb_build_object('case_id', d.case_id, 'day', d.day, 'agent', d.agent)) p
    ORDER BY p.case_id, p.day, p.agent
    ON CONFLICT (case_id, day, agent) DO UPDATE SET
        calls_offered = r.calls_offered + EXCLUDED.calls_offered,
        calls_answered = r.calls_answered + EXCLUDED.calls_answered,
        answered_within_15s = r.answered_within_15s + EXCLUDED.answered_within_15s,
        calls_abandoned = r.calls_abandoned + EXCLUDED.calls_abandoned,
        voicemails = r.voicemails + EXCLUDED.voicemails,
        callbacks_owed = r.callbacks_owed + EXCLUDED.callbacks_owed,
        callbacks_in_time = r.callbacks_in_time + EXCLUDED.callbacks_in_time,
        callbacks_late = r.callbacks_late + EXCLUDED.callbacks_late,
        callbacks_still_owed = r.callbacks_still_owed + EXCLUDED.callbacks_still_owed,
        callbacks_dropped = r.callbacks_dropped + EXCLUDED.callbacks_dropped,
        callback_attempts = r.callback_attempts + EXCLUDED.callback_attempts,
        callbacks_reached = r.callbacks_reached + EXCLUDED.callbacks_reached,
        cases_opened = r.cases_opened + EXCLUDED.cases_opened,
        cases_resolved = r.cases_resolved + EXCLUDED.cases_resolved,
        resolved_in_time = r.resolved_in_time + EXCLUDED.resolved_in_time,
        repeat_calls = r.repeat_calls + EXCLUDED.repeat_calls,
        surveys = r.surveys + EXCLUDED.surveys,
        score_sum = r.score_sum + EXCLUDED.score_sum,
        surveys_satisfied = r.surveys_satisfied + EXCLUDED.surveys_satisfied,
        transfers = r.transfers + EXCLUDED.transfers;
END
$f$;
REVOKE EXECUTE ON FUNCTION hotline.figure_case_rollup_apply(jsonb, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_case_rollup_apply(jsonb, jsonb) IS 'figure_case_rollup += the stored cases'' cells ("c") of cells_b - those of cells_a (035).';

-- Which of these cases are stored: a probe of the key per case, whatever
-- plan the session keeps (an EXISTS may be hashed over the whole table).
CREATE FUNCTION hotline.figure_cases_stored(ids bigint[]) RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off AS $$
BEGIN
    RETURN ARRAY(SELECT i FROM unnest(ids) i
                 WHERE (SELECT r.case_id FROM hotline.figure_case_rollup r WHERE r.case_id = i LIMIT 1) IS NOT NULL);
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.figure_cases_stored(bigint[]) FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_cases_stored(bigint[]) IS 'The cases among ids that figure_case_rollup stores (035).';

-- (figures_before, figures_after and rebuild_figure_rollup: 031's, with the stored cases; see the header)
CREATE OR REPLACE FUNCTION hotline.figures_before(case_ids jsonb, callers jsonb, t_min bigint, hints jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    zone text := (SELECT s.zone FROM hotline.figure_rollup_state s);
    saved text := current_setting('hotline.timezone', true);
    ids bigint[];
    whole_ids bigint[];
    k_ids bigint[];
    call_ids text[];
    new_ids bigint[] := '{}';
    move_ids bigint[] := '{}';
    all_ids bigint[];
    big_ids bigint[];
    -- (a setting that is not a number is ignored: a batch must not fail on it)
    big_min integer := CASE WHEN current_setting('hotline.rollup_case_cells_min', true) ~ '^\s*[0-9]{1,9}\s*$'
                            THEN current_setting('hotline.rollup_case_cells_min', true)::int ELSE 32 END;
    dep jsonb;
    moved jsonb;
    s0 jsonb;
    tdep jsonb;
    st jsonb;
    k bigint;
BEGIN
    IF zone IS NULL THEN
        RETURN 0;
    END IF;
    -- before anything else: a rebuild waits for this batch's after (see the header)
    LOCK TABLE hotline.figure_case_rollup IN ROW EXCLUSIVE MODE;
    SELECT coalesce(array_agg(DISTINCT x::bigint), '{}') INTO ids
    FROM jsonb_array_elements_text(coalesce(case_ids, '[]')) x WHERE x::bigint > 0;
    IF hints IS NULL THEN
        -- whole cases: the named ones and those of the callers' later calls
        SELECT coalesce(array_agg(DISTINCT i), '{}') INTO whole_ids FROM (
            SELECT unnest(ids) AS i
            UNION ALL
            SELECT l.case_id FROM hotline.calls l
            WHERE t_min IS NOT NULL AND l.inbound AND l.offered_at >= hotline.from_ms(t_min)
              AND l.caller IN (SELECT jsonb_array_elements_text(coalesce(callers, '[]')))
        ) u WHERE i IS NOT NULL AND i > 0;
        k_ids := whole_ids;
        call_ids := '{}';
    ELSE
        -- the cases whose department changes: their facts move (figure_cells_move)
        whole_ids := '{}';
        SELECT coalesce(array_agg(c.id), '{}'), jsonb_object_agg(c.id::text, h->>1) INTO move_ids, dep
        FROM jsonb_array_elements(coalesce(hints->'cases', '[]')) h
             JOIN hotline.cases c ON c.id = (h->>0)::bigint
        WHERE c.department IS DISTINCT FROM (h->>1) AND c.id = ANY (ids);
        k_ids := ids;
        -- the cases it creates (their cases_opened; an existing case's never changes)
        SELECT coalesce(array_agg((h->>0)::bigint), '{}') INTO new_ids
        FROM jsonb_array_elements(coalesce(hints->'cases', '[]')) h
        WHERE NOT EXISTS (SELECT 1 FROM hotline.cases c WHERE c.id = (h->>0)::bigint);
        -- (a call the batch creates is not there yet: its case comes with it)
        SELECT coalesce(array_agg(DISTINCT u.call_id), '{}') INTO call_ids FROM (
            SELECT h->>0 AS call_id, (h->>1)::bigint AS case_id
            FROM jsonb_array_elements(coalesce(hints->'calls', '[]')) h
            UNION ALL
            SELECT l.call_id, l.case_id FROM hotline.calls l
            WHERE t_min IS NOT NULL AND l.inbound AND l.offered_at >= hotline.from_ms(t_min)
              AND l.caller IN (SELECT jsonb_array_elements_text(coalesce(callers, '[]')))
        ) u;
    END IF;
    -- every case whose sources are counted, locked in case order (031's header)
    SELECT coalesce(array_agg(DISTINCT i), '{}') INTO all_ids FROM (
        SELECT unnest(ids) AS i UNION ALL SELECT unnest(whole_ids) UNION ALL SELECT unnest(move_ids)
        UNION ALL SELECT l.case_id FROM hotline.calls l WHERE l.call_id = ANY (call_ids)
    ) u WHERE i IS NOT NULL;
    FOR k IN SELECT DISTINCT i % 2147483647 FROM unnest(all_ids) i ORDER BY 1
    LOOP
        PERFORM pg_advisory_xact_lock(1212940293, k::int);
    END LOOP;
    -- the stored ones among them (under their locks: no other batch changes them now)
    big_ids := hotline.figure_cases_stored(all_ids);
    IF hints IS NOT NULL AND cardinality(k_ids) > 0 THEN
        -- the callback runs from the current one on
        SELECT jsonb_object_agg(kk.case_id::text, kk.seq) INTO s0 FROM hotline.clocks kk
        WHERE kk.case_id IN (SELECT x::bigint FROM jsonb_array_elements_text(coalesce(hints->'cb', '[]')) x)
          AND NOT (kk.case_id = ANY (whole_ids)) AND kk.kind = 'callback';
        -- per case, the earliest answer or resolution-run start the batch touches, old or new
        SELECT jsonb_object_agg(t.case_id::text, t.ms) INTO tdep FROM (
            SELECT v.case_id, min(v.ms) AS ms FROM (
                -- (a call not answered now never was: answered_at is never unset)
                SELECT l.case_id, hotline.ms(l.answered_at) AS ms
                FROM jsonb_array_elements(coalesce(hints->'calls', '[]')) h
                     JOIN hotline.calls l ON l.call_id = h->>0
                WHERE h->>2 IS NOT NULL
                UNION ALL
                SELECT (h->>1)::bigint, (h->>2)::bigint
                FROM jsonb_array_elements(coalesce(hints->'calls', '[]')) h
                UNION ALL
                SELECT (h->>0)::bigint, (h->>1)::bigint FROM jsonb_array_elements(coalesce(hints->'res', '[]')) h
                UNION ALL
                SELECT kk.case_id, hotline.ms(kk.started_at)
                FROM jsonb_array_elements(coalesce(hints->'res', '[]')) h
                     JOIN hotline.clocks kk ON kk.case_id = (h->>0)::bigint AND kk.kind = 'resolution'
            ) v WHERE v.ms IS NOT NULL AND v.case_id = ANY (k_ids)
            GROUP BY v.case_id
        ) t;
    END IF;
    st := jsonb_build_object('whole', to_jsonb(whole_ids), 'new', to_jsonb(new_ids), 'cb', coalesce(hints->'cb', '[]'),
                             'move', to_jsonb(move_ids), 'dep', coalesce(dep, '{}'), 'k', to_jsonb(k_ids), 'calls', to_jsonb(call_ids),
                             's0', coalesce(s0, '{}'), 'tdep', coalesce(tdep, '{}'),
                             'ev', coalesce(hints->'ev', '[]'), 'lo', hints->'ev_lo', 'hi', hints->'ev_hi',
                             'big', to_jsonb(big_ids), 'big_min', big_min);
    PERFORM set_config('hotline.timezone', zone, true);
    IF cardinality(move_ids) > 0 THEN
        moved := hotline.figure_cells_move(st);
        IF jsonb_array_length(moved->'promote') > 0 THEN
            -- large cases counted whole: stored as they are before the writes,
            -- then followed by this batch's (after - before) like the others
            INSERT INTO hotline.figure_case_rollup
            SELECT r.* FROM jsonb_array_elements(moved->'promote') p,
                 LATERAL jsonb_populate_record(NULL::hotline.figure_case_rollup,
                                               '{"calls_offered": 0, "calls_answered": 0, "answered_within_15s": 0, "calls_abandoned": 0, "voicemails": 0, "callbacks_owed": 0, "callbacks_in_time": 0, "callbacks_late": 0, "callbacks_still_owed": 0, "callbacks_dropped": 0, "callback_attempts": 0, "callbacks_reached": 0, "cases_opened": 0, "cases_resolved": 0, "resolved_in_time": 0, "repeat_calls": 0, "surveys": 0, "score_sum": 0, "surveys_satisfied": 0, "transfers": 0}'::jsonb || (p->3)
                                               || jsonb_build_object('case_id', p->0, 'day', p->1, 'agent', p->2)) r
            ORDER BY r.case_id, r.day, r.agent;
            big_ids := big_ids || ARRAY(SELECT DISTINCT (p->>0)::bigint FROM jsonb_array_elements(moved->'promote') p);
            st := jsonb_set(st, '{big}', to_jsonb(big_ids));
        END IF;
    END IF;
    PERFORM set_config('hotline.figures_src', st::text, true);
    PERFORM set_config('hotline.figures_before',
                       (hotline.figure_cells_src(st) || coalesce(moved->'old', '[]'))::text, true);
    PERFORM set_config('hotline.figures_moved', coalesce(moved->'new', '[]')::text, true);
    PERFORM set_config('hotline.timezone', coalesce(saved, ''), true);
    RETURN cardinality(ids);
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint, jsonb) TO hotline_daemon;
COMMENT ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint, jsonb) IS 'First write of a batch: names the rows whose facts it may change (hints from the daemon), locks their cases, counts them; stores a large case that moves (031, 035).';

CREATE OR REPLACE FUNCTION hotline.figures_after() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    zone text := (SELECT s.zone FROM hotline.figure_rollup_state s);
    saved text := current_setting('hotline.timezone', true);
    src text := current_setting('hotline.figures_src', true);
    before_cells jsonb;
    after_cells jsonb;
BEGIN
    IF zone IS NULL OR src IS NULL OR src = '' THEN
        RETURN 0;
    END IF;
    before_cells := current_setting('hotline.figures_before')::jsonb;
    PERFORM set_config('hotline.timezone', zone, true);
    after_cells := hotline.figure_cells_src(src::jsonb)
                   || coalesce(nullif(current_setting('hotline.figures_moved', true), ''), '[]')::jsonb;
    PERFORM set_config('hotline.timezone', coalesce(saved, ''), true);
    IF after_cells IS DISTINCT FROM before_cells THEN
        PERFORM hotline.figure_rollup_apply(before_cells, -1, after_cells);
        -- and the stored cases' rows (their table is held since figures_before: no rebuild between)
        IF (src::jsonb)->'big' <> '[]' THEN
            PERFORM hotline.figure_case_rollup_apply(before_cells, after_cells);
        END IF;
    END IF;
    PERFORM set_config('hotline.figures_src', '', true);
    PERFORM set_config('hotline.figures_before', '', true);
    PERFORM set_config('hotline.figures_moved', '', true);
    RETURN 1;
END
$$;
COMMENT ON FUNCTION hotline.figures_after() IS 'Last write of a batch: counts the rows figures_before named again and adds (after - before) to figure_rollup, and to the stored cases'' rows (031, 035).';

-- The rebuild empties the stored cases too (they are stored again at their
-- next move), this table locked first: figures_before holds it from a
-- batch's first write to its commit (see the header).
CREATE OR REPLACE FUNCTION hotline.rebuild_figure_rollup(p_zone text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    z text := coalesce(p_zone, hotline.report_tz());
    saved text := current_setting('hotline.timezone', true);
    cells bigint;
BEGIN
    LOCK TABLE hotline.figure_case_rollup IN EXCLUSIVE MODE;
    LOCK TABLE hotline.figure_rollup IN EXCLUSIVE MODE;
    PERFORM set_config('hotline.timezone', z, true);
    DELETE FROM hotline.figure_case_rollup;
    DELETE FROM hotline.figure_rollup;
    INSERT INTO hotline.figure_rollup
    SELECT day, coalesce(department, ''), coalesce(agent, ''),
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
    FROM hotline.figure_facts WHERE n <> 0
    GROUP BY 1, 2, 3;
    GET DIAGNOSTICS cells = ROW_COUNT;
    INSERT INTO hotline.figure_rollup_state (zone) VALUES (z)
    ON CONFLICT (one) DO UPDATE SET zone = EXCLUDED.zone;
    PERFORM set_config('hotline.timezone', coalesce(saved, ''), true);
    RETURN cells;
END
$$;
COMMENT ON FUNCTION hotline.rebuild_figure_rollup(text) IS 'Recount figure_rollup from the base rows in a zone (default: the report zone); empties figure_case_rollup (031, 035).';
