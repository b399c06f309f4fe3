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
-- per (case, local day, agent, metric).  Invariant: for every case stored
-- there, its rows equal what figure_facts counts for that case.  So:
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

CREATE TABLE hotline.figure_case_rollup (
    case_id bigint NOT NULL,
    day     date NOT NULL,
    agent   text NOT NULL,
    metric  text NOT NULL,
    n       integer NOT NULL,
    PRIMARY KEY (case_id, day, agent, metric)
) WITH (fillfactor = 80);   -- n changes with each batch of the case: room for HOT updates
COMMENT ON TABLE hotline.figure_case_rollup IS 'The facts of the large cases (035), without the department: a move of such a case reads them instead of recounting it. Kept by figures_before/after; emptied by rebuild_figure_rollup().';
COMMENT ON COLUMN hotline.figure_case_rollup.case_id IS 'The case (stored once its whole count at a move reached hotline.rollup_case_cells_min source rows).';
COMMENT ON COLUMN hotline.figure_case_rollup.day IS 'The local day of the facts, in the rollup''s zone.';
COMMENT ON COLUMN hotline.figure_case_rollup.agent IS 'The agent of the facts ('''' for none), as figure_rollup.agent.';
COMMENT ON COLUMN hotline.figure_case_rollup.metric IS 'The figure (a column name of figure_rollup).';
COMMENT ON COLUMN hotline.figure_case_rollup.n IS 'The case''s count of that figure on that day for that agent (may be 0: the rows of a stored case are never removed, so that it stays stored).';
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
-- facts in the one they go to, "promote": [[case, day, agent, metric, n],
-- ...] the whole count of those not stored that are large}.  A stored case
-- (st->'big') is read from its rows; the others are counted whole (031).
CREATE OR REPLACE FUNCTION hotline.figure_cells_move(st jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET jit = off SET enable_bitmapscan = off
SET enable_seqscan = off SET enable_sort = off AS $$
DECLARE
    ids bigint[] := ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(st->'move') x);
    big_ids bigint[] := ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(coalesce(st->'big', '[]')) x);
    count_ids bigint[];
    min_n integer := coalesce((st->>'big_min')::int, 32);
BEGIN
    count_ids := ARRAY(SELECT i FROM unnest(ids) i WHERE NOT (i = ANY (big_ids)));
    RETURN (
        WITH f AS MATERIALIZED (
            SELECT x.day, x.case_id, coalesce(x.agent, '') AS agent, x.metric, sum(x.n)::int AS n, false AS stored
            FROM hotline.figure_facts_src(count_ids, count_ids, '{}', '{}', NULL, NULL, '{}', '{}', '{}') x
            GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT r.day, r.case_id, r.agent, r.metric, r.n, true
            FROM hotline.figure_case_rollup r
            WHERE r.case_id = ANY (ids) AND r.case_id = ANY (big_ids) AND r.n <> 0
        ), fd AS MATERIALIZED (
            SELECT f.day, coalesce(c.department, '') AS department,
                   coalesce(st->'dep'->>f.case_id::text, '') AS department_new, f.agent, f.metric, f.n
            FROM f JOIN hotline.cases c ON c.id = f.case_id
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
                          FROM (SELECT day, department, agent, metric, sum(n) AS n FROM fd GROUP BY 1, 2, 3, 4) h
                          GROUP BY 1, 2, 3) g),
            'new', (SELECT coalesce(jsonb_agg(jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)), '[]')
                    FROM (SELECT h.day, h.department, h.agent, jsonb_object_agg(h.metric, h.n) AS m
                          FROM (SELECT day, department_new AS department, agent, metric, sum(n) AS n
                                FROM fd GROUP BY 1, 2, 3, 4) h
                          GROUP BY 1, 2, 3) g),
            'promote', (SELECT coalesce(jsonb_agg(jsonb_build_array(f.case_id, f.day, f.agent, f.metric, f.n)), '[]')
                        FROM f WHERE f.case_id IN (SELECT p.case_id FROM promote p))));
END
$$;
COMMENT ON FUNCTION hotline.figure_cells_move(jsonb) IS 'The facts of the cases a batch moves to another department, before its writes, in the old and in the new department; stored cases read from figure_case_rollup, the others counted whole, the large ones to store (031, 035).';

-- A batch's (after - before) of the stored cases' facts (the cells with
-- "c") added to their rows, in key order.
CREATE FUNCTION hotline.figure_case_rollup_apply(cells_a jsonb, cells_b jsonb) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $f$
#variable_conflict use_column
BEGIN
    INSERT INTO hotline.figure_case_rollup AS r (case_id, day, agent, metric, n)
    SELECT u.case_id, u.day, u.agent, u.metric, sum(u.n)::int
    FROM (SELECT (c->>'c')::bigint AS case_id, (c->>'d')::date AS day, c->>'a' AS agent, m.key AS metric,
                 -(m.value::text::int) AS n
          FROM jsonb_array_elements(cells_a) c, jsonb_each(c->'m') m WHERE c ? 'c'
          UNION ALL
          SELECT (c->>'c')::bigint, (c->>'d')::date, c->>'a', m.key, m.value::text::int
          FROM jsonb_array_elements(cells_b) c, jsonb_each(c->'m') m WHERE c ? 'c') u
    GROUP BY 1, 2, 3, 4
    HAVING sum(u.n) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (case_id, day, agent, metric) DO UPDATE SET n = r.n + EXCLUDED.n;
END
$f$;
REVOKE EXECUTE ON FUNCTION hotline.figure_case_rollup_apply(jsonb, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_case_rollup_apply(jsonb, jsonb) IS 'figure_case_rollup += the stored cases'' cells ("c") of cells_b - those of cells_a (035).';

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
    big_min integer := coalesce(nullif(current_setting('hotline.rollup_case_cells_min', true), '')::int, 32);
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
    big_ids := ARRAY(SELECT i FROM unnest(all_ids) i
                     WHERE EXISTS (SELECT 1 FROM hotline.figure_case_rollup r WHERE r.case_id = i));
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
            INSERT INTO hotline.figure_case_rollup (case_id, day, agent, metric, n)
            SELECT (p->>0)::bigint, (p->>1)::date, p->>2, p->>3, (p->>4)::int
            FROM jsonb_array_elements(moved->'promote') p
            ORDER BY 1, 2, 3, 4;
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
