-- 023_figure_rollup.sql - the daily, agent and department figures as an exact rollup (issue 15).
--
-- hotline.figure_facts (003, 009) recounts every call, clock run and event
-- each time a figure is asked for: 5.3 s for one day at ten million events
-- (docs/explain.md), and more every day.  Now the counts are kept in
-- hotline.figure_rollup, one row per (local day, department, agent) with a
-- column per figure, changed in the same transaction as the rows they count,
-- so they are exact, never estimated.  The three figure views read it: one
-- day or one month is an index range over at most days x departments x
-- agents rows.
--
-- How it stays exact.  A fact of figure_facts depends only on its case (the
-- case's current department, its calls, clock runs and events, the agent who
-- last answered a call of it) and, for repeat_calls, on the caller's previous
-- inbound call.  So a batch that changes some cases changes only their facts
-- and the repeat flags of its callers' calls that follow its own:
--
--   hotline.figures_before(case_ids, callers, t_min)   first statement of the
--       batch's write: the facts of those cases, and of the cases of the
--       callers' inbound calls offered at or after t_min (the earliest call
--       the batch writes), counted as they are now - before the writes;
--   hotline.figures_after()                            last write statement:
--       the facts of the same cases counted again, and (after - before)
--       added to the rollup in one upsert, sorted by key.
--
-- Both are set-based (one statement each per batch, whatever its size),
-- SECURITY DEFINER (the daemon cannot write the rollup otherwise), and carry
-- the set and the "before" counts from one to the other in a
-- transaction-local setting (no temporary table).  The facts of a set of
-- cases are hotline.figure_facts_of(ids): figure_facts with the same rules,
-- written to reach each case by its indexes (a caller's previous call by
-- calls_caller_offered instead of a window over every call).
--
-- The local day is the report time zone's (hotline.report_tz()).  The
-- rollup records the zone it was counted in (hotline.figure_rollup_state);
-- the views read it only when it is the session's report zone and otherwise
-- recount from figure_facts (slow but exact: an ad-hoc SET hotline.timezone
-- still gets the right figures).  `hotlined --migrate` recounts the rollup
-- when report.timezone changes (hotline.rebuild_figure_rollup, also for the
-- administrator after any write outside the daemon).
--
-- Contention: every batch of the day updates the same few rollup rows (today
-- x the departments and agents of its cases).  The upsert is the last write
-- of the batch, so a row lock is held only from there to COMMIT; batches of
-- several daemons queue for it there, always in key order (no deadlock).
-- docs/explain.md has the measurement.

CREATE TABLE hotline.figure_rollup (
    day                  date NOT NULL,
    department           text NOT NULL DEFAULT '',   -- '' = none
    agent                text NOT NULL DEFAULT '',   -- '' = none
    calls_offered        bigint NOT NULL DEFAULT 0,
    calls_answered       bigint NOT NULL DEFAULT 0,
    answered_within_15s  bigint NOT NULL DEFAULT 0,
    calls_abandoned      bigint NOT NULL DEFAULT 0,
    voicemails           bigint NOT NULL DEFAULT 0,
    callbacks_owed       bigint NOT NULL DEFAULT 0,
    callbacks_in_time    bigint NOT NULL DEFAULT 0,
    callbacks_late       bigint NOT NULL DEFAULT 0,
    callbacks_still_owed bigint NOT NULL DEFAULT 0,
    callbacks_dropped    bigint NOT NULL DEFAULT 0,
    callback_attempts    bigint NOT NULL DEFAULT 0,
    callbacks_reached    bigint NOT NULL DEFAULT 0,
    cases_opened         bigint NOT NULL DEFAULT 0,
    cases_resolved       bigint NOT NULL DEFAULT 0,
    resolved_in_time     bigint NOT NULL DEFAULT 0,
    repeat_calls         bigint NOT NULL DEFAULT 0,
    surveys              bigint NOT NULL DEFAULT 0,
    score_sum            bigint NOT NULL DEFAULT 0,
    surveys_satisfied    bigint NOT NULL DEFAULT 0,
    transfers            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, department, agent)
) WITH (fillfactor = 70);   -- room for HOT updates: no indexed column ever changes

CREATE TABLE hotline.figure_rollup_state (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    zone text NOT NULL
);

------------------------------------------------- the facts of some cases

CREATE FUNCTION hotline.figure_facts_of(ids bigint[])
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
                      WHERE x.case_id = ANY (ids)
                        AND x.type IN ('case.resolve', 'call.ended', 'case.close', 'case.reopen', 'survey.result')) k
                WHERE k.kind IS NOT NULL
             ) s ON s.seq = e0.seq
        WHERE e0.case_id = ANY (ids)
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

-- Facts summed into rollup cells (day, department, agent) as one jsonb
-- object per cell: {"d":..,"dep":..,"a":..,"m":{metric: n}}.
CREATE FUNCTION hotline.figure_cells_of(ids bigint[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
SELECT coalesce(jsonb_agg(jsonb_build_object('d', g.day, 'dep', g.department, 'a', g.agent, 'm', g.m)), '[]')
FROM (SELECT f.day, coalesce(f.department, '') AS department, coalesce(f.agent, '') AS agent,
             jsonb_object_agg(f.metric, f.n) AS m
      FROM (SELECT day, department, agent, metric, sum(n) AS n
            FROM hotline.figure_facts_of(ids) GROUP BY 1, 2, 3, 4) f
      GROUP BY 1, 2, 3) g
$$;

------------------------------------------------- before and after a batch

-- The cases whose facts a batch may change (see the header), as they are
-- now; remembered until figures_after() in the same transaction.
CREATE FUNCTION hotline.figures_before(case_ids jsonb, callers jsonb, t_min bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    zone text := (SELECT s.zone FROM hotline.figure_rollup_state s);
    saved text := current_setting('hotline.timezone', true);
    ids bigint[];
BEGIN
    IF zone IS NULL THEN
        RETURN 0;
    END IF;
    SELECT array_agg(DISTINCT i) INTO ids FROM (
        SELECT x::bigint AS i FROM jsonb_array_elements_text(coalesce(case_ids, '[]')) x
        UNION ALL
        SELECT l.case_id FROM hotline.calls l
        WHERE t_min IS NOT NULL AND l.inbound AND l.offered_at >= hotline.from_ms(t_min)
          AND l.caller IN (SELECT jsonb_array_elements_text(coalesce(callers, '[]')))
    ) u WHERE i IS NOT NULL AND i > 0;
    PERFORM set_config('hotline.timezone', zone, true);
    PERFORM set_config('hotline.figures_ids', coalesce(array_to_string(ids, ','), ''), true);
    PERFORM set_config('hotline.figures_before', hotline.figure_cells_of(coalesce(ids, '{}'))::text, true);
    PERFORM set_config('hotline.timezone', coalesce(saved, ''), true);
    RETURN coalesce(cardinality(ids), 0);
END
$$;

-- The same cases counted again; (after - before) added to the rollup.
CREATE FUNCTION hotline.figures_after() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    zone text := (SELECT s.zone FROM hotline.figure_rollup_state s);
    saved text := current_setting('hotline.timezone', true);
    idtext text := current_setting('hotline.figures_ids', true);
    ids bigint[];
    after jsonb;
BEGIN
    IF zone IS NULL OR idtext IS NULL OR idtext = '' THEN
        RETURN 0;
    END IF;
    ids := string_to_array(idtext, ',')::bigint[];
    PERFORM set_config('hotline.timezone', zone, true);
    after := hotline.figure_cells_of(ids);
    PERFORM set_config('hotline.timezone', coalesce(saved, ''), true);
    PERFORM hotline.figure_rollup_apply(current_setting('hotline.figures_before')::jsonb, -1, after);
    PERFORM set_config('hotline.figures_ids', '', true);
    PERFORM set_config('hotline.figures_before', '[]', true);
    RETURN cardinality(ids);
END
$$;

-- rollup += sign * cells_a + cells_b, in key order (one upsert).
CREATE FUNCTION hotline.figure_rollup_apply(cells_a jsonb, sign integer, cells_b jsonb) RETURNS void
LANGUAGE sql AS $$
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
    transfers = f.transfers + EXCLUDED.transfers
$$;

-- Recount everything in a zone (default: the report zone), e.g. after
-- report.timezone changed or rows were written outside the daemon.
CREATE FUNCTION hotline.rebuild_figure_rollup(p_zone text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
    FROM hotline.figure_facts
    GROUP BY 1, 2, 3;
    GET DIAGNOSTICS cells = ROW_COUNT;
    INSERT INTO hotline.figure_rollup_state (zone) VALUES (z)
    ON CONFLICT (one) DO UPDATE SET zone = EXCLUDED.zone;
    PERFORM set_config('hotline.timezone', coalesce(saved, ''), true);
    RETURN cells;
END
$$;

-- After the report zone changed (migrate.c): recount only when the rollup
-- was counted in another zone.
CREATE FUNCTION hotline.rebuild_figure_rollup_if_stale(p_zone text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hotline.figure_rollup_state WHERE zone = p_zone) THEN
        RETURN false;
    END IF;
    PERFORM hotline.rebuild_figure_rollup(p_zone);
    RETURN true;
END
$$;

REVOKE EXECUTE ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint), hotline.figures_after(),
    hotline.figure_rollup_apply(jsonb, integer, jsonb), hotline.rebuild_figure_rollup(text),
    hotline.rebuild_figure_rollup_if_stale(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint), hotline.figures_after() TO hotline_daemon;

------------------------------------------------------------ the views

-- The same cells recounted from figure_facts (the views' fallback).  A
-- PL/pgSQL function on purpose: the planner sees one cheap function scan, so
-- a view that does not need it neither plans nor JIT-compiles the whole
-- recount (4 s of JIT at ten million events, docs/explain.md).  SECURITY
-- DEFINER because administrators may not read figure_facts (018) while the
-- view computing it ran with its owner's rights: it returns exactly the
-- cells the figure views show, no number, no case.
CREATE FUNCTION hotline.figure_cells_recount()
RETURNS TABLE (day date, department text, agent text, calls_offered bigint, calls_answered bigint,
               answered_within_15s bigint, calls_abandoned bigint, voicemails bigint, callbacks_owed bigint,
               callbacks_in_time bigint, callbacks_late bigint, callbacks_still_owed bigint,
               callbacks_dropped bigint, callback_attempts bigint, callbacks_reached bigint, cases_opened bigint,
               cases_resolved bigint, resolved_in_time bigint, repeat_calls bigint, surveys bigint,
               score_sum bigint, surveys_satisfied bigint, transfers bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY
    SELECT f.day, f.department, f.agent,
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'calls_offered'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'calls_answered'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'answered_within_15s'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'calls_abandoned'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'voicemails'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'callbacks_owed'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'callbacks_in_time'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'callbacks_late'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'callbacks_still_owed'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'callbacks_dropped'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'callback_attempts'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'callbacks_reached'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'cases_opened'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'cases_resolved'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'resolved_in_time'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'repeat_calls'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'surveys'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'score_sum'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'surveys_satisfied'), 0),
    coalesce(sum(f.n) FILTER (WHERE f.metric = 'transfers'), 0)
FROM hotline.figure_facts f
    GROUP BY f.day, f.department, f.agent;
END
$$;

-- The rollup's cells when it was counted in the session's report zone,
-- otherwise the same cells recounted from figure_facts.  One of the two
-- branches runs (the other's one-time filter is false).
CREATE VIEW hotline.figure_cells AS
SELECT f.day, nullif(f.department, '') AS department, nullif(f.agent, '') AS agent,
       f.calls_offered, f.calls_answered, f.answered_within_15s, f.calls_abandoned, f.voicemails,
       f.callbacks_owed, f.callbacks_in_time, f.callbacks_late, f.callbacks_still_owed, f.callbacks_dropped,
       f.callback_attempts, f.callbacks_reached, f.cases_opened, f.cases_resolved, f.resolved_in_time,
       f.repeat_calls, f.surveys, f.score_sum, f.surveys_satisfied, f.transfers
FROM hotline.figure_rollup f
WHERE (SELECT s.zone FROM hotline.figure_rollup_state s) = hotline.report_tz()
UNION ALL
SELECT r.* FROM hotline.figure_cells_recount() r
WHERE (SELECT s.zone FROM hotline.figure_rollup_state s) IS DISTINCT FROM hotline.report_tz();

CREATE OR REPLACE VIEW hotline.daily_figures AS
SELECT day,
    sum(calls_offered)::bigint AS calls_offered,
    sum(calls_answered)::bigint AS calls_answered,
    sum(answered_within_15s)::bigint AS answered_within_15s,
    sum(calls_abandoned)::bigint AS calls_abandoned,
    sum(voicemails)::bigint AS voicemails,
    round(sum(calls_answered)::numeric / nullif(sum(calls_offered), 0), 3) AS answer_rate,
    sum(callbacks_owed)::bigint AS callbacks_owed,
    sum(callbacks_in_time)::bigint AS callbacks_in_time,
    sum(callbacks_late)::bigint AS callbacks_late,
    sum(callbacks_still_owed)::bigint AS callbacks_still_owed,
    sum(callbacks_dropped)::bigint AS callbacks_dropped,
    sum(callback_attempts)::bigint AS callback_attempts,
    sum(callbacks_reached)::bigint AS callbacks_reached,
    sum(cases_opened)::bigint AS cases_opened,
    sum(cases_resolved)::bigint AS cases_resolved,
    sum(resolved_in_time)::bigint AS resolved_in_time,
    sum(repeat_calls)::bigint AS repeat_calls,
    round(sum(repeat_calls)::numeric / nullif(sum(calls_offered), 0), 3) AS repeat_call_rate,
    sum(surveys)::bigint AS surveys,
    round(sum(score_sum)::numeric / nullif(sum(surveys), 0), 2) AS mean_score,
    round(sum(surveys_satisfied)::numeric / nullif(sum(surveys), 0), 3) AS satisfied_share,
    sum(transfers)::bigint AS transfers
FROM hotline.figure_cells
GROUP BY day
HAVING sum(calls_offered) + sum(callbacks_owed) + sum(callback_attempts) + sum(cases_opened)
       + sum(cases_resolved) + sum(surveys) + sum(transfers) + sum(calls_answered) + sum(repeat_calls)
       + sum(callbacks_in_time) + sum(callbacks_late) + sum(callbacks_still_owed) + sum(callbacks_dropped)
       + sum(callbacks_reached) + sum(resolved_in_time) + sum(score_sum) + sum(surveys_satisfied)
       + sum(answered_within_15s) + sum(calls_abandoned) + sum(voicemails) > 0
ORDER BY day;

CREATE OR REPLACE VIEW hotline.agent_daily AS
SELECT day, agent,
    sum(calls_answered)::bigint AS calls_answered,
    sum(answered_within_15s)::bigint AS answered_within_15s,
    sum(callback_attempts)::bigint AS callback_attempts,
    sum(callbacks_reached)::bigint AS callbacks_reached,
    sum(cases_resolved)::bigint AS cases_resolved,
    sum(resolved_in_time)::bigint AS resolved_in_time,
    sum(surveys)::bigint AS surveys,
    round(sum(score_sum)::numeric / nullif(sum(surveys), 0), 2) AS mean_score,
    round(sum(surveys_satisfied)::numeric / nullif(sum(surveys), 0), 3) AS satisfied_share,
    sum(transfers)::bigint AS transfers
FROM hotline.figure_cells
WHERE agent IS NOT NULL
GROUP BY day, agent
HAVING sum(calls_offered) + sum(callbacks_owed) + sum(callback_attempts) + sum(cases_opened)
       + sum(cases_resolved) + sum(surveys) + sum(transfers) + sum(calls_answered) + sum(repeat_calls)
       + sum(callbacks_in_time) + sum(callbacks_late) + sum(callbacks_still_owed) + sum(callbacks_dropped)
       + sum(callbacks_reached) + sum(resolved_in_time) + sum(score_sum) + sum(surveys_satisfied)
       + sum(answered_within_15s) + sum(calls_abandoned) + sum(voicemails) > 0
ORDER BY day, agent;

CREATE OR REPLACE VIEW hotline.department_daily AS
SELECT day, coalesce(department, '(none)') AS department,
    sum(calls_offered)::bigint AS calls_offered,
    sum(calls_answered)::bigint AS calls_answered,
    sum(answered_within_15s)::bigint AS answered_within_15s,
    sum(calls_abandoned)::bigint AS calls_abandoned,
    sum(voicemails)::bigint AS voicemails,
    round(sum(calls_answered)::numeric / nullif(sum(calls_offered), 0), 3) AS answer_rate,
    sum(callbacks_owed)::bigint AS callbacks_owed,
    sum(callbacks_in_time)::bigint AS callbacks_in_time,
    sum(callbacks_late)::bigint AS callbacks_late,
    sum(callbacks_still_owed)::bigint AS callbacks_still_owed,
    sum(callbacks_dropped)::bigint AS callbacks_dropped,
    sum(callback_attempts)::bigint AS callback_attempts,
    sum(callbacks_reached)::bigint AS callbacks_reached,
    sum(cases_opened)::bigint AS cases_opened,
    sum(cases_resolved)::bigint AS cases_resolved,
    sum(resolved_in_time)::bigint AS resolved_in_time,
    sum(repeat_calls)::bigint AS repeat_calls,
    round(sum(repeat_calls)::numeric / nullif(sum(calls_offered), 0), 3) AS repeat_call_rate,
    sum(surveys)::bigint AS surveys,
    round(sum(score_sum)::numeric / nullif(sum(surveys), 0), 2) AS mean_score,
    round(sum(surveys_satisfied)::numeric / nullif(sum(surveys), 0), 3) AS satisfied_share,
    sum(transfers)::bigint AS transfers
FROM hotline.figure_cells
GROUP BY day, coalesce(department, '(none)')
HAVING sum(calls_offered) + sum(callbacks_owed) + sum(callback_attempts) + sum(cases_opened)
       + sum(cases_resolved) + sum(surveys) + sum(transfers) + sum(calls_answered) + sum(repeat_calls)
       + sum(callbacks_in_time) + sum(callbacks_late) + sum(callbacks_still_owed) + sum(callbacks_dropped)
       + sum(callbacks_reached) + sum(resolved_in_time) + sum(score_sum) + sum(surveys_satisfied)
       + sum(answered_within_15s) + sum(calls_abandoned) + sum(voicemails) > 0
ORDER BY day, 2;

GRANT SELECT ON hotline.figure_rollup, hotline.figure_rollup_state, hotline.figure_cells TO hotline_admin;
REVOKE EXECUTE ON FUNCTION hotline.figure_facts_of(bigint[]), hotline.figure_cells_of(bigint[]),
    hotline.figure_cells_recount() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.figure_cells_recount() TO hotline_admin;
COMMENT ON FUNCTION hotline.figure_cells_recount() IS 'figure_rollup''s cells recounted from figure_facts in the session''s report zone (the figure views'' fallback).';

COMMENT ON TABLE hotline.figure_rollup IS 'The figures per local day, department and agent, kept exact by the daemon in the same transaction as the rows they count (023).';
COMMENT ON TABLE hotline.figure_rollup_state IS 'The time zone figure_rollup was counted in (the views recount when the session''s report zone differs).';
COMMENT ON VIEW hotline.figure_cells IS 'figure_rollup, or the same cells recounted from figure_facts when the report zone differs from the rollup''s.';
COMMENT ON FUNCTION hotline.figure_facts_of(bigint[]) IS 'figure_facts of the given cases only (what the rollup maintenance recounts).';
COMMENT ON FUNCTION hotline.rebuild_figure_rollup(text) IS 'Recount figure_rollup from the base rows in a zone (default: the report zone).';
DO $$
DECLARE a record;
BEGIN
    FOR a IN SELECT attname FROM pg_attribute WHERE attrelid = 'hotline.figure_rollup'::regclass AND attnum > 0 AND NOT attisdropped LOOP
        EXECUTE format('COMMENT ON COLUMN hotline.figure_rollup.%I IS %L', a.attname,
            CASE a.attname WHEN 'day' THEN 'The local day in the report zone.'
                           WHEN 'department' THEN 'The case''s current department ('''' = none).'
                           WHEN 'agent' THEN 'The agent the fact is credited to ('''' = none).'
                           ELSE 'The count of ' || a.attname || ' (see hotline.daily_figures).' END);
        EXECUTE format('COMMENT ON COLUMN hotline.figure_cells.%I IS %L', a.attname,
            CASE a.attname WHEN 'day' THEN 'The local day in the report zone.'
                           WHEN 'department' THEN 'The case''s current department.'
                           WHEN 'agent' THEN 'The agent the fact is credited to.'
                           ELSE 'The count of ' || a.attname || ' (see hotline.daily_figures).' END);
    END LOOP;
END
$$;
COMMENT ON TABLE hotline.figure_rollup_state IS 'The time zone figure_rollup was counted in.';
COMMENT ON COLUMN hotline.figure_rollup_state.one IS 'Always true: one row.';
COMMENT ON COLUMN hotline.figure_rollup_state.zone IS 'The zone of figure_rollup.day.';

-- The first count, in the zone of this session (the report zone).
SELECT hotline.rebuild_figure_rollup();
COMMENT ON FUNCTION hotline.figure_cells_of(bigint[]) IS 'figure_facts_of summed into rollup cells, as JSON (the rollup maintenance''s "before" and "after").';
COMMENT ON FUNCTION hotline.figures_before(jsonb, jsonb, bigint) IS 'First write of a batch: remembers the facts of the cases it may change, as they are.';
COMMENT ON FUNCTION hotline.figures_after() IS 'Last write of a batch: adds (facts now - facts before) to figure_rollup.';
COMMENT ON FUNCTION hotline.figure_rollup_apply(jsonb, integer, jsonb) IS 'figure_rollup += sign * cells_a + cells_b, one upsert in key order.';
COMMENT ON FUNCTION hotline.rebuild_figure_rollup_if_stale(text) IS 'Recount figure_rollup when it was counted in another zone (hotlined --migrate).';
