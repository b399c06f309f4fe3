-- 031_rollup_deltas.sql - the rollup follows the rows a batch writes, not the cases it names (issue 15).
--
-- The cost.  030 recounted every case a batch names, whole: all its calls,
-- runs and events, to compare with the case's stored cells.  Under Zipf
-- callers one number's open case collects hundreds of calls and thousands
-- of events in minutes, is named by nearly every batch, and its recount
-- alone took 20-29 ms of a batch's ~80 (docs/performance.md: 647 calls,
-- 2,878 events).  The cost of a batch grew with the history of its cases.
--
-- The design.  A fact (figure_facts, 023) belongs to one source row: an
-- inbound call, a callback run, a case (cases_opened) or an event.  What a
-- batch can change is known before it writes:
--
--   * the calls it writes (their state, answer, agent), and the repeat flag
--     of its new calls' callers' inbound calls offered at or after the
--     earliest new one (a new call changes the flag of the next one, in any
--     case; 023; an existing call's caller and time are never rewritten);
--   * the callback runs, from the current one on, of the cases whose
--     callback clock it writes (a run goes from pending to met, or is
--     replaced by a newer one), and the cases_opened of the cases it creates;
--   * its new events (callback attempts, transfers, resolutions, surveys),
--     whose facts read the resolution chain before them (hotline.
--     case_events_turns) and the case's calls and resolution run;
--   * the existing resolutions and surveys of its cases whose answering
--     agent or resolution run it may change: those at or after the earliest
--     answer time or resolution-run start it touches, old or new (a
--     resolution's agent is the last call answered before it, its run the
--     last one started before it; an event's own row and the chain before
--     it never change: events are only appended, in seq order);
--   * everything of a case whose department changes (a transfer, a work
--     order dispatched): counted whole once, as it is before the writes, in
--     the department it leaves and the one it goes to (figure_cells_move);
--     the batch's own changes to it are counted as for any case, in the new
--     department on both sides.  Its calls, callback runs and events with
--     figures are each read by an index (the events through
--     case_events_figures, not every event the case holds).
--
-- So figures_before(case_ids, callers, t_min, hints) names those sources
-- and counts their facts as they are; figures_after() counts the same
-- sources again and adds (after - before) to the rollup.  The cost is the
-- batch's own rows, whatever its cases hold.  The hints are what only the
-- daemon knows before it writes (store_write.c send_figures_before):
--
--   {"calls": [[call_id, case_id, answered_at ms|null], ...],   the calls it writes
--    "cases": [[case_id, department|null], ...],      the case rows it writes
--    "res":   [[case_id, started_at ms], ...],         the resolution runs it writes
--    "cb":    [case_id, ...],                         the cases whose callback clock it writes
--    "ev":    [event_id, ...],                        its events of the figures' types
--    "ev_lo": ms, "ev_hi": ms}                        the range of those events' `at`
--
-- Without hints (the 3-argument form, a hand-written batch) every named case
-- and the cases of the callers' later calls are counted whole: exact,
-- slower (023's way).  figure_facts_of (025, 030) is no longer called.
--
-- Why the lock.  "Before" and "after" are two statements; between them
-- another daemon may commit a change to a source of this batch that is not
-- one of its cases (a caller's later call, in another case).  Counted by
-- both batches, that change would be added twice.  So figures_before takes
-- a transaction advisory lock (class 1212940293, as 030) on every case whose
-- sources it counts, in ascending order, before it counts; the other
-- batch takes the same lock on its own cases, so their windows never
-- overlap.  It waits holding only lock_batch's advisory locks (taken before
-- any write), never a row lock: no cycle.  New calls of the batch's callers
-- cannot appear meanwhile: lock_batch holds the callers (class 1212940289).
--
-- What this gives up: 030 brought a case changed outside the daemon back
-- to its recount at the next batch naming it.  Now, as in 023, a change
-- written outside the daemon (an import by hand, anonymization, retention)
-- is not followed until rebuild_figure_rollup() (docs/admin.md).
-- figure_case_cells goes: +0.5 kB of WAL per event and 68 bytes of storage
-- per event (explain.md) that no longer buy anything.

-- The figure-typed events by case and time: a batch's new ones (by its
-- range of `at`, one partition as a rule), the existing resolutions and
-- surveys its answers and runs may change, all of a case that moves.  Only
-- these types have an entry.  Keyed on the expression case_id + 0, which
-- the queries below name, so that no other index can serve them: the plan
-- of figure_cells_src is kept for the session (planning it per batch costs
-- ~30 ms, every partition of case_events), and one made while the month's
-- partition was still empty chose case_events_case (every event of the
-- case, 2,200 buffers for the busiest) as readily as this one.
CREATE INDEX IF NOT EXISTS case_events_figures ON hotline.case_events ((case_id + 0), at)
    WHERE type IN ('callback.attempt', 'case.transfer', 'case.resolve', 'survey.result')
       OR (type = 'call.ended' AND body->>'outcome' = 'resolved');
COMMENT ON INDEX hotline.case_events_figures IS 'The events that have figures (attempts, transfers, resolutions, surveys), by case and time: what the rollup re-counts (031).';

-- The resolution chain: the events that resolve (R), close (C) or reopen
-- (O) a case in figure_facts' sense, by case in seq order.  A resolution
-- counts when the turn before it is a reopen or none: one probe backwards
-- from the event, however many calls the case holds.
CREATE INDEX IF NOT EXISTS case_events_turns ON hotline.case_events (case_id, seq)
    WHERE type IN ('case.resolve', 'case.close', 'case.reopen')
       OR (type = 'call.ended' AND body->>'outcome' = 'resolved')
       OR (type = 'survey.result' AND (body->>'score') ~ '^[1-2]$');
COMMENT ON INDEX hotline.case_events_turns IS 'The events that resolve, close or reopen a case in the figures'' sense, by case in seq order (031).';

-- The facts of a batch's sources (see the header), as figure_facts counts
-- them, from what figures_before() settled: the cases counted whole, every
-- case of the batch (k), the call ids, the batch's figure events and the
-- range of their `at`, the cases whose callback runs (run_ids) and whose
-- cases_opened (new_ids) are counted; st holds the per-case maps s0 {case:
-- first callback run seq}, tdep {case: ms} and dep {case: new department}.
CREATE FUNCTION hotline.figure_facts_src(whole_ids bigint[], k_ids bigint[], call_ids text[], ev_ids text[],
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
      AND x.at >= lo AND x.at <= hi
      AND (x.type IN ('callback.attempt', 'case.transfer', 'case.resolve', 'survey.result')
           OR (x.type = 'call.ended' AND x.body->>'outcome' = 'resolved'))
      AND x.event_id = ANY (ev_ids)
    UNION ALL
    -- existing resolutions and surveys whose agent or run the batch may change
    SELECT x.seq, x.case_id, x.type, x.at, x.body
    FROM kc c CROSS JOIN LATERAL (
        SELECT x0.* FROM hotline.case_events x0
        WHERE (x0.case_id + 0) = c.id AND x0.at >= c.tdep
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
               -- the turn before it, from the chain's index (figure_facts' lag)
               CASE WHEN t.kind = 'R' THEN (
                   SELECT CASE WHEN y.type = 'case.resolve' OR y.type = 'call.ended' THEN 'R'
                               WHEN y.type = 'case.close' THEN 'C' ELSE 'O' END
                   FROM hotline.case_events y
                   WHERE y.case_id = e0.case_id AND y.seq < e0.seq
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
REVOKE EXECUTE ON FUNCTION hotline.figure_facts_src(bigint[], bigint[], text[], text[], timestamptz, timestamptz, bigint[], bigint[], jsonb) FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_facts_src(bigint[], bigint[], text[], text[], timestamptz, timestamptz, bigint[], bigint[], jsonb) IS 'The facts of the rows a batch may change (the calls, runs, events and cases figures_before named), as figure_facts counts them (031).';

-- Those facts summed into rollup cells, as figure_rollup_apply reads them.
-- PL/pgSQL with 025's settings (a plan kept per session, no JIT, index
-- probes rather than bitmap ANDs), and two more: every base row it reads is
-- reached by a key, but the plan is kept from the session's first batch,
-- often made while clock_runs_done was still empty - a sequential scan of
-- it per case then (11 ms a batch once it held a few hundred runs); and the
-- few hundred facts are summed by hashing, not by sorting them on four text
-- keys (7 ms of 33 in auto_explain).
CREATE FUNCTION hotline.figure_cells_src(st jsonb) RETURNS jsonb
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
BEGIN
    RETURN (
        SELECT coalesce(jsonb_agg(jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)), '[]')
        FROM (SELECT f.day, coalesce(f.department, '') AS department, coalesce(f.agent, '') AS agent,
                     jsonb_object_agg(f.metric, f.n) AS m
              FROM (SELECT x.day, x.department, x.agent, x.metric, sum(x.n) AS n
                    FROM hotline.figure_facts_src(whole_ids, k_ids, call_ids, ev_ids, lo, hi, run_ids, new_ids, st) x
                    GROUP BY 1, 2, 3, 4) f
              GROUP BY 1, 2, 3) g);
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.figure_cells_src(jsonb) FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_cells_src(jsonb) IS 'figure_facts_src summed into rollup cells, as JSON (031).';

-- The cases whose department the batch changes, counted whole as they are
-- before its writes: {"old": their cells in the department they leave,
-- "new": the same facts in the one they go to}.  Once per batch, in
-- figures_before; the batch's own changes to those cases are counted with
-- the others, in the new department on both sides.
CREATE FUNCTION hotline.figure_cells_move(st jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET jit = off SET enable_bitmapscan = off
SET enable_seqscan = off SET enable_sort = off AS $$
DECLARE
    ids bigint[] := ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(st->'move') x);
BEGIN
    RETURN (
        WITH f AS MATERIALIZED (
            SELECT x.day, x.case_id, coalesce(x.department, '') AS department,
                   coalesce(st->'dep'->>x.case_id::text, '') AS department_new,
                   coalesce(x.agent, '') AS agent, x.metric, x.n
            FROM hotline.figure_facts_src(ids, ids, '{}', '{}', NULL, NULL, '{}', '{}', '{}') x
        )
        SELECT jsonb_build_object(
            'old', (SELECT coalesce(jsonb_agg(jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)), '[]')
                    FROM (SELECT h.day, h.department, h.agent, jsonb_object_agg(h.metric, h.n) AS m
                          FROM (SELECT day, department, agent, metric, sum(n) AS n FROM f GROUP BY 1, 2, 3, 4) h
                          GROUP BY 1, 2, 3) g),
            'new', (SELECT coalesce(jsonb_agg(jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)), '[]')
                    FROM (SELECT h.day, h.department, h.agent, jsonb_object_agg(h.metric, h.n) AS m
                          FROM (SELECT day, department_new AS department, agent, metric, sum(n) AS n
                                FROM f GROUP BY 1, 2, 3, 4) h
                          GROUP BY 1, 2, 3) g)));
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.figure_cells_move(jsonb) FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_cells_move(jsonb) IS 'The facts of the cases a batch moves to another department, before its writes, in the old and in the new department (031).';

-- The first write of a batch: name the sources, lock their cases, count
-- them as they are.
CREATE FUNCTION hotline.figures_before(case_ids jsonb, callers jsonb, t_min bigint, hints jsonb) RETURNS integer
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
    -- every case whose sources are counted, in case order (see the header)
    FOR k IN
        SELECT DISTINCT i % 2147483647 FROM (
            SELECT unnest(ids) AS i UNION ALL SELECT unnest(whole_ids) UNION ALL SELECT unnest(move_ids)
            UNION ALL SELECT l.case_id FROM hotline.calls l WHERE l.call_id = ANY (call_ids)
        ) u WHERE i IS NOT NULL ORDER BY 1
    LOOP
        PERFORM pg_advisory_xact_lock(1212940293, k::int);
    END LOOP;
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
                             'ev', coalesce(hints->'ev', '[]'), 'lo', hints->'ev_lo', 'hi', hints->'ev_hi');
    PERFORM set_config('hotline.timezone', zone, true);
    PERFORM set_config('hotline.figures_src', st::text, true);
    IF cardinality(move_ids) > 0 THEN
        moved := hotline.figure_cells_move(st);
    END IF;
    PERFORM set_config('hotline.figures_before',
                       (hotline.figure_cells_src(st) || coalesce(moved->'old', '[]'))::text, true);
    PERFORM set_config('hotline.figures_moved', coalesce(moved->'new', '[]')::text, true);
    PERFORM set_config('hotline.timezone', coalesce(saved, ''), true);
    RETURN cardinality(ids);
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint, jsonb) TO hotline_daemon;
COMMENT ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint, jsonb) IS 'First write of a batch: names the rows whose facts it may change (hints from the daemon), locks their cases, counts them (031).';

-- The 3-argument form (a batch written by hand): whole cases.
CREATE OR REPLACE FUNCTION hotline.figures_before(case_ids jsonb, callers jsonb, t_min bigint) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT hotline.figures_before(case_ids, callers, t_min, NULL::jsonb)
$$;
COMMENT ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint) IS 'First write of a batch written by hand: its cases and its callers'' later calls'' cases, recounted whole (031).';

-- The last write: the same sources counted again, (after - before) added.
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
    END IF;
    PERFORM set_config('hotline.figures_src', '', true);
    PERFORM set_config('hotline.figures_before', '', true);
    PERFORM set_config('hotline.figures_moved', '', true);
    RETURN 1;
END
$$;
COMMENT ON FUNCTION hotline.figures_after() IS 'Last write of a batch: counts the rows figures_before named again and adds (after - before) to figure_rollup (031).';

-- 030's stored cells go; the rebuild is the sum of figure_facts again.
CREATE OR REPLACE FUNCTION hotline.rebuild_figure_rollup(p_zone text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
    z text := coalesce(p_zone, hotline.report_tz());
    saved text := current_setting('hotline.timezone', true);
    cells bigint;
BEGIN
    LOCK TABLE hotline.figure_rollup IN EXCLUSIVE MODE;
    PERFORM set_config('hotline.timezone', z, true);
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
COMMENT ON FUNCTION hotline.rebuild_figure_rollup(text) IS 'Recount figure_rollup from the base rows in a zone (default: the report zone) (031).';

DROP FUNCTION IF EXISTS hotline.figure_case_cells_fill();
DROP FUNCTION IF EXISTS hotline.figure_case_cells_of(bigint[]);
DROP TABLE IF EXISTS hotline.figure_case_cells;
