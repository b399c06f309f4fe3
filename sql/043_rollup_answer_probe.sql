-- 043_rollup_answer_probe.sql - figures_before finds the earliest answer
-- of a batch's calls by their ids, not by their cases (issue 15).
--
-- What it cost.  pg_stat_statements (track = all) over the headline ingest
-- (8 x 64 in flight, 50,000 Zipf callers, bench cluster): the statement of
-- figures_before that finds, per case, the earliest answer or resolution
-- run the batch touches took 1.9 ms of a batch's ~45 ms, the most of any of
-- its statements but the counts themselves.  auto_explain showed why: its
-- generic plan (038 forces it) joined the batch's calls (hints->'calls', ~70)
-- to hotline.calls by hashing every call of the batch's cases, read through
-- calls_case with the outer `case_id = ANY (k_ids)` pushed down: 929 calls,
-- 805 buffers, for 40 probes' worth, and the hot callers of a Zipf
-- distribution have hundreds of calls each.  The same for the resolution
-- clocks (91 rows of clocks_pkey for 38 cases).
--
-- The fix: each call and each clock is read by its own key, in a LATERAL
-- subquery the outer filter cannot be pushed into (OFFSET 0): one probe of
-- calls_pkey per call of the batch, one of clocks_pkey per resolution.  The
-- same rows come out (call_id and (case_id, kind) are unique), so the
-- figures do not change.  The rest of the function is 035's, with 038's
-- plan_cache_mode in its definition (CREATE OR REPLACE resets a function's
-- SET clauses: 041's header).

CREATE OR REPLACE FUNCTION hotline.figures_before(case_ids jsonb, callers jsonb, t_min bigint, hints jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan AS $$
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
                     -- one probe of calls_pkey per call (043: joined, the
                     -- generic plan read every call of the batch's cases)
                     CROSS JOIN LATERAL (SELECT l0.case_id, l0.answered_at FROM hotline.calls l0
                                         WHERE l0.call_id = h->>0 OFFSET 0) l
                WHERE h->>2 IS NOT NULL
                UNION ALL
                SELECT (h->>1)::bigint, (h->>2)::bigint
                FROM jsonb_array_elements(coalesce(hints->'calls', '[]')) h
                UNION ALL
                SELECT (h->>0)::bigint, (h->>1)::bigint FROM jsonb_array_elements(coalesce(hints->'res', '[]')) h
                UNION ALL
                SELECT kk.case_id, hotline.ms(kk.started_at)
                FROM jsonb_array_elements(coalesce(hints->'res', '[]')) h
                     CROSS JOIN LATERAL (SELECT kk0.case_id, kk0.started_at FROM hotline.clocks kk0
                                         WHERE kk0.case_id = (h->>0)::bigint AND kk0.kind = 'resolution'
                                         OFFSET 0) kk
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


COMMENT ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint, jsonb) IS 'First write of a batch: names the rows whose facts it may change (hints from the daemon), locks their cases, counts them; stores a large case that moves (031, 035, 043).';
