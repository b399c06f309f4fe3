-- 025_rollup_pruning.sql - the rollup's recount reads only the months a batch's cases have events in (issue 15).
--
-- The regression.  With ten million events stored, ingest fell to 0.35 of
-- the almost-empty database (docs/performance.md, section 4).  Most of that
-- was the benchmark: its reset (scripts/bench.sh db_reset) TRUNCATEd
-- hotline.figure_rollup_state, and with no state figures_before() and
-- figures_after() return at once, so the "empty" side never kept the rollup
-- while the generated history (tests/sql/gen10m.sql, which recounts it) did.
-- With the rollup kept on both sides, pg_stat_statements under the headline
-- load: figures_before() and figures_after() take 50-80 ms per batch each
-- (13,000-28,000 buffer hits), every other statement of a batch 1-9 ms, on
-- both databases.  Two costs in them grew with history:
--
-- * figure_facts_of (023) reads case_events twice by `case_id = ANY (ids)`
--   with no bound on `at`: a probe of the case_id index of EVERY month
--   partition for every case of the batch.  A month of a long history has
--   a 3-level index (3-4 buffers a probe), an empty month only its
--   metapage: the cost grew with the months kept, not with the batch.
-- * figure_cells_of was a LANGUAGE sql function: its body, with both reads
--   expanded over every partition, was planned again at every call.
--
-- The fix: a lower bound on the `at` of a set of cases' events, so that
-- the partition key prunes.  An event normally is at or after its case
-- opened (the event that opens a case gives its opened_at), but `at` comes
-- from the client, so a later event may be dated earlier.  Those cases, and
-- only those, are recorded in hotline.case_events_early (case, its earliest
-- event), by the same statement-level trigger that records event_ids
-- (set-based: one statement per batch, one cases_pkey probe per case of the
-- batch; a row only when an event predates its case, normally never).
--   hotline.case_events_from(ids)  the earliest event time any of those
--       cases can have: min over the EXISTING cases of least(opened_at,
--       early.first_at).  A case with no row has no facts (every branch of
--       figure_facts_of joins cases), so it is left out: figures_before()
--       runs before the batch writes its new cases.
--   figure_facts_of(ids)  the same as 023's, with `at >= (SELECT
--       case_events_from(ids))` on both reads of case_events: an InitPlan,
--       so the Append prunes the months before it at run time.  Exact: the
--       bound is at or below every event of those cases.
-- A batch of recent cases now reads the current months' partitions (and
-- the default one); a batch naming an old case reads from that case's
-- month on - never more than before.  Retention (drop_events_before) keeps
-- the bound valid (it is a lower bound).  An UPDATE of case_events.at by
-- hand is not tracked: run hotline.rebuild_case_events_early() after one.
-- And figure_cells_of becomes PL/pgSQL, its plan kept per session (below).

CREATE TABLE hotline.case_events_early (
    case_id  bigint PRIMARY KEY,
    first_at timestamptz NOT NULL
);
COMMENT ON TABLE hotline.case_events_early IS 'Cases that have an event dated before the case opened, and the earliest such event (the lower bound of hotline.case_events_from, 025).';
COMMENT ON COLUMN hotline.case_events_early.case_id IS 'The case.';
COMMENT ON COLUMN hotline.case_events_early.first_at IS 'The at of its earliest event (before cases.opened_at).';

CREATE FUNCTION hotline.rebuild_case_events_early() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM hotline.case_events_early;
    INSERT INTO hotline.case_events_early (case_id, first_at)
    SELECT e.case_id, min(e.at) FROM hotline.case_events e JOIN hotline.cases c ON c.id = e.case_id
    WHERE e.at < c.opened_at GROUP BY e.case_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION hotline.rebuild_case_events_early() IS 'Recount hotline.case_events_early from case_events (after an UPDATE of case_events.at by hand).';
REVOKE EXECUTE ON FUNCTION hotline.rebuild_case_events_early() FROM PUBLIC;
SELECT hotline.rebuild_case_events_early();

-- 021's trigger function, plus the early events.  The cases are probed one
-- by one (a correlated subquery on cases_pkey): the planner knows nothing of
-- a transition table's size and could otherwise hash all of cases.
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
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION hotline.record_event_ids() IS 'Trigger: the ids of the events an INSERT stored, into hotline.event_ids (unique); events dated before their case opened, into hotline.case_events_early (025).';

-- The earliest `at` the events of these cases can have (NULL when none of
-- them exists: then they have no facts).
CREATE FUNCTION hotline.case_events_from(ids bigint[]) RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT min(least(c.opened_at, x.first_at))
FROM hotline.cases c LEFT JOIN hotline.case_events_early x ON x.case_id = c.id
WHERE c.id = ANY (ids)
$$;
COMMENT ON FUNCTION hotline.case_events_from(bigint[]) IS 'A lower bound of the at of every event of these cases (025): the partitions before it hold none of them.';
REVOKE EXECUTE ON FUNCTION hotline.case_events_from(bigint[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION hotline.figure_facts_of(ids bigint[])
RETURNS TABLE (day date, case_id bigint, agent text, department text, metric text, n integer)
LANGUAGE sql STABLE AS $$
-- inbound calls, by the day offered
SELECT hotline.local_day(l.offered_at), l.case_id, l.agent, c.department, m.metric, m.n
FROM hotline.calls l
     JOIN hotline.cases c ON c.id = l.case_id
     LEFT JOIN LATERAL (
        SELECT p.offered_at AS prev_at FROM hotline.calls p
        WHERE p.caller = l.caller AND p.inbound AND p.offered_at <= l.offered_at
          AND (p.offered_at, p.call_id) < (l.offered_at, l.call_id)
        ORDER BY p.offered_at DESC, p.call_id DESC LIMIT 1
     ) pv ON true
     CROSS JOIN LATERAL (VALUES
        ('calls_offered', 1),
        ('calls_answered', (l.answered_at IS NOT NULL)::int),
        ('answered_within_15s', coalesce(l.answered_at <= l.offered_at + interval '15 seconds', false)::int),
        ('calls_abandoned', (l.answered_at IS NULL AND l.state IN ('abandoned', 'voicemail'))::int),
        ('voicemails', (l.answered_at IS NULL AND l.state = 'voicemail')::int),
        ('repeat_calls', coalesce(pv.prev_at > l.offered_at - interval '24 hours', false)::int)
     ) AS m (metric, n)
WHERE l.case_id = ANY (ids) AND l.inbound AND m.n <> 0
UNION ALL
-- callbacks owed, by the day they became owed
SELECT hotline.local_day(r.started_at), r.case_id, NULL, c.department, m.metric, m.n
FROM hotline.clock_runs r
     JOIN hotline.cases c ON c.id = r.case_id
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
FROM hotline.cases c
WHERE c.id = ANY (ids)
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
        FROM hotline.case_events e0
             LEFT JOIN (
                SELECT k.seq, k.kind, lag(k.kind) OVER (PARTITION BY k.case_id ORDER BY k.seq) AS prev
                FROM (SELECT x.seq, x.case_id,
                             CASE WHEN x.type = 'case.resolve'
                                       OR (x.type = 'call.ended' AND x.body->>'outcome' = 'resolved') THEN 'R'
                                  WHEN x.type = 'case.close' THEN 'C'
                                  WHEN x.type = 'case.reopen'
                                       OR (x.type = 'survey.result' AND (x.body->>'score') ~ '^[1-2]$') THEN 'O'
                             END AS kind
                      FROM hotline.case_events x
                      WHERE x.case_id = ANY (ids) AND x.at >= (SELECT hotline.case_events_from(ids))
                        AND x.type IN ('case.resolve', 'call.ended', 'case.close', 'case.reopen', 'survey.result')) k
                WHERE k.kind IS NOT NULL
             ) s ON s.seq = e0.seq
        WHERE e0.case_id = ANY (ids) AND e0.at >= (SELECT hotline.case_events_from(ids))
          AND e0.type IN ('callback.attempt', 'case.resolve', 'call.ended', 'survey.result', 'case.transfer')
     ) e
     JOIN hotline.cases c ON c.id = e.case_id
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
-- figure_cells_of (023) in PL/pgSQL: the same query, but its plan is kept
-- for the session (a daemon connection lives for days) instead of being
-- planned again at every call, as a LANGUAGE sql function's body is: four
-- branches, two reads of case_events over every month partition, twice per
-- batch.  The settings are the function's own:
--   plan_cache_mode = force_generic_plan  one plan for every batch; the
--       first five calls of a session would otherwise plan custom plans
--       with the ids known, and a custom plan of ~250 ids is costed high
--       enough for...
--   jit = off  ...JIT: 5-6 s of compiling per call at ten million events
--       (measured), for a recount that reads a few thousand buffers;
--   enable_bitmapscan = off  with the bound on `at`, the planner ANDs the
--       month's BRIN (at) index with the case_id btree: lossy pages, each
--       row rechecked against `case_id = ANY (ids)` (a linear search of
--       ~250 ids when the array is a parameter); the case_id btree alone
--       finds each case's few events directly.
CREATE OR REPLACE FUNCTION hotline.figure_cells_of(ids bigint[]) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET jit = off SET enable_bitmapscan = off AS $$
BEGIN
    RETURN (
        SELECT coalesce(jsonb_agg(jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)), '[]')
        FROM (SELECT f.day, coalesce(f.department, '') AS department, coalesce(f.agent, '') AS agent,
                     jsonb_object_agg(f.metric, f.n) AS m
              FROM (SELECT x.day, x.department, x.agent, x.metric, sum(x.n) AS n
                    FROM hotline.figure_facts_of(ids) x GROUP BY 1, 2, 3, 4) f
              GROUP BY 1, 2, 3) g);
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.figure_cells_of(bigint[]) FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_cells_of(bigint[]) IS 'figure_facts_of summed into rollup cells, as JSON (the rollup maintenance''s "before" and "after"); plan kept per session (025).';

REVOKE EXECUTE ON FUNCTION hotline.figure_facts_of(bigint[]) FROM PUBLIC;
COMMENT ON FUNCTION hotline.figure_facts_of(bigint[]) IS 'figure_facts of the given cases only (what the rollup maintenance recounts); reads case_events from hotline.case_events_from(ids) on (025).';
ANALYZE hotline.case_events_early;

------------------------------------------- overdue_callbacks: a plan that does not depend on an estimate

-- docs/performance.md measured 1,683 ms at ten million events on the
-- bench's generated history, docs/explain.md 34 ms on a database of the same
-- size.  The difference is the planner's estimate of the overdue callbacks:
-- `state IN ('pending', 'breached') AND due_at < now()` is estimated from the
-- column statistics as if due_at did not depend on state (a pending
-- callback is nearly always due in the future, the history's met ones in
-- the past).  With a few thousand pending callbacks in the table (any live
-- day; the bench's ingest left ~9,000) the estimate is ~23,000 rows instead
-- of 2,000, and the planner hashes ALL of cases (parallel seq scan, 1 M
-- rows, cold after a generation) instead of probing cases_pkey 2,000 times.
-- docs/explain.md's database had no pending callback but the 1,000 overdue
-- ones, hence 867 estimated and a nested loop.  Now the case and the caller
-- are fetched per overdue callback by LATERAL subqueries that cannot be
-- flattened (OFFSET 0): always index probes, whatever the estimate; the cost
-- is the length of the list.  Same columns, names and types (CREATE OR
-- REPLACE keeps the grants, the comments and the security barrier).
-- The same overestimate costs the plan at ~12,800,000, far above
-- jit_above_cost (100,000): 2.0 s of JIT compiling (measured: 202
-- functions, "Optimization 1146 ms, Emission 675 ms") for 60 ms of work.
-- JIT pays only for queries that scan millions of rows; every query of this
-- database is meant to use indexes (the daemon's batches, the views), and
-- an overestimate anywhere (a custom plan of the rollup's recount: 5.7 s)
-- turns into seconds of compiling.  So JIT is off for this database (new
-- sessions), when the migrating role may set it; otherwise a NOTICE says
-- how (docs/admin.md).
CREATE OR REPLACE VIEW hotline.overdue_callbacks WITH (security_barrier) AS
SELECT k.case_id,
       hotline.visible_caller(c.caller, cl.confidential) AS caller,
       c.status, c.department, k.state,
       k.started_at AS owed_since, k.due_at,
       now() - k.due_at AS late_by,
       coalesce(t.attempts, 0) AS attempts,
       t.last_attempt_at, t.last_result,
       al.id AS alert_id, al.level AS alert_level
FROM hotline.clocks k
     CROSS JOIN LATERAL (
        SELECT c0.caller, c0.status, c0.department FROM hotline.cases c0 WHERE c0.id = k.case_id OFFSET 0
     ) c
     LEFT JOIN LATERAL (
        SELECT cl0.confidential FROM hotline.callers cl0 WHERE cl0.caller = c.caller OFFSET 0
     ) cl ON true
     LEFT JOIN LATERAL (
        SELECT count(*) AS attempts, max(e.at) AS last_attempt_at,
               (array_agg(e.body->>'result' ORDER BY e.at DESC, e.seq DESC))[1] AS last_result
        FROM hotline.case_events e
        WHERE e.case_id = k.case_id AND e.type = 'callback.attempt' AND e.at >= k.started_at
     ) t ON true
     LEFT JOIN LATERAL (
        SELECT a.id, a.level FROM hotline.alerts a
        WHERE a.case_id = k.case_id AND a.kind = 'callback_overdue' AND a.acked_at IS NULL
        ORDER BY a.id DESC LIMIT 1
     ) al ON true
WHERE k.kind = 'callback' AND k.state IN ('pending', 'breached') AND k.due_at < now()
ORDER BY k.due_at, k.case_id;

DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'hotlined 025: could not turn JIT off for this database; as its owner: ALTER DATABASE % SET jit = off (docs/admin.md)',
        quote_ident(current_database());
END
$$;
