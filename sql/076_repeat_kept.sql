-- 076_repeat_kept.sql - retention keeps the day's repeat calls (review-views3).
--
-- The defect.  A repeat call is an inbound call with an earlier inbound
-- call from the same number in the 24 hours before it (figure_facts, and
-- figure_facts_src for the rollup each batch keeps).  Retention
-- (anonymize_closed, 004/044) turns the calls of a closed case into
-- "anon:<case id>": a number that called at 09:00 (case A, then closed)
-- and again at 11:00 (case B) lost its 11:00 repeat in the recount once A
-- was anonymized (the 09:00 call no longer has the number), and a call of
-- A that repeated a call of an earlier case lost it too.  The rollup, and
-- the views reading it, kept them: figure_rollup and figure_facts
-- disagreed after every retention run, and rebuild_figure_rollup() (also
-- run by set_report_timezone) lowered a past day's repeat_calls.
--
-- The fix.  hotline.calls.repeat_kept: anonymize_closed (077) sets it, before it
-- rewrites any number, on every call of the batch's numbers (in any case)
-- that is a repeat then of a call in another case, one of the two the
-- batch's; figure_facts and figure_facts_src count a call as a repeat when
-- it is kept or found by the number.  Anonymization never
-- adds one: the calls sharing an "anon:<case id>" are one case's, of one
-- number, and were repeats of each other already.  The flag says only
-- that another call came within 24 hours before, never which nor whose.
--
-- figure_facts_src and figure_facts here are also 063's (superseded status
-- events are no turns: turn_superseded) and 064's (a resolution dated
-- before a close comes before it: resolved_before_close), whose files
-- define those two functions and explain the rules.
--
-- Idempotent: ADD COLUMN IF NOT EXISTS, CREATE OR REPLACE with 062's and
-- 044's signatures and columns.  No recount: before this version a
-- recount after retention was the wrong side; a rollup rebuilt since then
-- (rebuild_figure_rollup) has lost those repeats for good.

ALTER TABLE hotline.calls ADD COLUMN IF NOT EXISTS repeat_kept boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN hotline.calls.repeat_kept IS 'Set by retention (anonymize_closed) on a call that was a repeat call (another inbound call of its number in the 24 hours before) when a number went: the figures still count it as a repeat (076).';

CREATE OR REPLACE FUNCTION hotline.figure_facts_src(whole_ids bigint[], k_ids bigint[], call_ids text[], ev_ids text[],
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
    SELECT x.seq, x.case_id, x.type, x.at, x.body, x.description FROM hotline.case_events x
    WHERE (x.case_id + 0) = ANY (k_ids)
      -- the hours of the batch's range (the key), then its exact bounds
      AND date_bin('1 hour', x.at, '2000-01-01 00:00:00+00') >= date_bin('1 hour', lo, '2000-01-01 00:00:00+00')
      AND date_bin('1 hour', x.at, '2000-01-01 00:00:00+00') <= date_bin('1 hour', hi, '2000-01-01 00:00:00+00')
      AND x.at >= lo AND x.at <= hi
      AND (x.type IN ('callback.attempt', 'case.transfer', 'case.resolve', 'survey.result')
           OR (x.type = 'call.ended' AND x.body->>'outcome' = 'resolved')
           OR (x.type = 'order.reply' AND x.body->>'case_resolved' = 'true'))
      AND x.event_id = ANY (ev_ids)
      -- only after the writes (figures_after has set hotline.figures_before):
      -- before them the batch's events are not stored (an event id is stored
      -- once: hotline.event_ids is unique, a batch re-sending one fails
      -- whole), and a busy case's entries of the hour are not read for none
      AND coalesce(current_setting('hotline.figures_before', true), '') <> ''
    UNION ALL
    -- existing resolutions and surveys whose agent or run the batch may change
    SELECT x.seq, x.case_id, x.type, x.at, x.body, x.description
    FROM kc c CROSS JOIN LATERAL (
        SELECT x0.* FROM hotline.case_events x0
        WHERE (x0.case_id + 0) = c.id
          AND date_bin('1 hour', x0.at, '2000-01-01 00:00:00+00') >= date_bin('1 hour', c.tdep, '2000-01-01 00:00:00+00') AND x0.at >= c.tdep
          AND x0.at >= ev_from AND x0.at <= ev_to   -- (038: the other months are not even opened)
          AND (x0.type IN ('callback.attempt', 'case.transfer', 'case.resolve', 'survey.result')
               OR (x0.type = 'call.ended' AND x0.body->>'outcome' = 'resolved')
               OR (x0.type = 'order.reply' AND x0.body->>'case_resolved' = 'true'))
          AND x0.type NOT IN ('callback.attempt', 'case.transfer')
          AND NOT (x0.event_id = ANY (ev_ids))
        OFFSET 0   -- a probe per case (flattened, the kept plan read the whole index once)
    ) x
    WHERE c.tdep IS NOT NULL AND NOT c.whole
    UNION ALL
    -- every existing event with figures of a case counted whole
    SELECT x.seq, x.case_id, x.type, x.at, x.body, x.description
    FROM kc c CROSS JOIN LATERAL (
        SELECT x0.* FROM hotline.case_events x0
        WHERE (x0.case_id + 0) = c.id AND x0.at >= ev_from AND x0.at <= ev_to
          AND (x0.type IN ('callback.attempt', 'case.transfer', 'case.resolve', 'survey.result')
               OR (x0.type = 'call.ended' AND x0.body->>'outcome' = 'resolved')
               OR (x0.type = 'order.reply' AND x0.body->>'case_resolved' = 'true'))
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
             -- 076: or a repeat of a call retention anonymized
             count(*) FILTER (WHERE l.repeat_kept OR EXISTS (
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
        SELECT e1.*,
               -- a resolution of a case that is merged (062): the latest
               -- merge or close below it; 'M' = merged then, and the daemon
               -- recorded the resolution only (only a close ends a merge)
               CASE WHEN e1.kind = 'R' THEN (
                   SELECT CASE WHEN y.type = 'case.merge' THEN 'M' ELSE 'C' END
                   FROM hotline.case_events y
                   WHERE (y.case_id + 0) = e1.case_id AND y.seq < e1.kseq AND y.at >= ev_from AND y.at <= ev_to
                     AND NOT hotline.turn_superseded(y.type, y.description)   -- 063
                     AND (y.type IN ('case.resolve', 'case.close', 'case.reopen', 'case.merge')
                          OR (y.type = 'call.ended' AND y.body->>'outcome' = 'resolved')
                          OR (y.type = 'order.reply' AND y.body->>'case_resolved' = 'true')
                          OR (y.type = 'survey.result' AND (y.body->>'score') ~ '^[1-2]$'))
                     AND y.type IN ('case.close', 'case.merge')
                   ORDER BY y.seq DESC LIMIT 1) END AS mc
        FROM (
        SELECT e0.*, t.kind, ks.kseq,
               -- the turn before it (figure_facts' lag): the case's entries of
               -- case_events_figs, the highest seq below its own (below the
               -- close it came before, for a resolution dated before the
               -- close of a closed case: 064)
               CASE WHEN t.kind = 'R' THEN (
                   SELECT CASE WHEN y.type = 'call.ended' THEN 'E'
                               WHEN y.type IN ('case.resolve', 'order.reply') THEN 'R'
                               WHEN y.type = 'case.close' THEN 'C'
                               WHEN y.type = 'case.merge' THEN 'M' ELSE 'O' END
                   FROM hotline.case_events y
                   WHERE (y.case_id + 0) = e0.case_id AND y.seq < ks.kseq AND y.at >= ev_from AND y.at <= ev_to
                     AND NOT hotline.turn_superseded(y.type, y.description)   -- 063
                     AND (y.type IN ('case.resolve', 'case.close', 'case.reopen', 'case.merge')
                          OR (y.type = 'call.ended' AND y.body->>'outcome' = 'resolved')
                          OR (y.type = 'order.reply' AND y.body->>'case_resolved' = 'true')
                          OR (y.type = 'survey.result' AND (y.body->>'score') ~ '^[1-2]$'))
                   ORDER BY y.seq DESC LIMIT 1) END AS prev
        FROM ev e0
             CROSS JOIN LATERAL (SELECT CASE WHEN NOT hotline.turn_superseded(e0.type, e0.description) AND (e0.type = 'case.resolve'
                                                  OR (e0.type = 'call.ended' AND e0.body->>'outcome' = 'resolved')
                                                  OR (e0.type = 'order.reply' AND e0.body->>'case_resolved' = 'true'))
                                             THEN 'R' END AS kind) t
             CROSS JOIN LATERAL (SELECT CASE WHEN hotline.resolved_before_close(e0.type, e0.description)
                                             THEN coalesce((SELECT max(y.seq) FROM hotline.case_events y
                                                            WHERE (y.case_id + 0) = e0.case_id AND y.seq < e0.seq
                                                              AND y.type = 'case.close'), e0.seq)
                                             ELSE e0.seq END AS kseq) ks
        ) e1
     ) e
     -- a resolution counts when it moved the case into resolved (062's header)
     CROSS JOIN LATERAL (SELECT (e.kind = 'R' AND coalesce(e.prev, 'O') = 'O' AND coalesce(e.mc, 'C') <> 'M')
                                AS turn) u
     JOIN kc c ON c.id = e.case_id
     LEFT JOIN LATERAL (
        SELECT r.met_at, r.due_at FROM hotline.clock_runs r
        WHERE u.turn
          AND r.case_id = e.case_id AND r.kind = 'resolution' AND r.started_at <= e.at
        ORDER BY r.seq DESC LIMIT 1
     ) rr ON true
     CROSS JOIN LATERAL (VALUES
        ('callback_attempts', (e.type = 'callback.attempt')::int),
        ('callbacks_reached', (e.type = 'callback.attempt' AND e.body->>'result' = 'reached')::int),
        ('cases_resolved', u.turn::int),
        ('resolved_in_time', (u.turn AND coalesce(rr.met_at <= rr.due_at, e.at <= rr.due_at, false))::int),
        ('surveys', (e.type = 'survey.result')::int),
        ('score_sum', CASE WHEN e.type = 'survey.result' AND (e.body->>'score') ~ '^[1-5]$'
                           THEN (e.body->>'score')::int ELSE 0 END),
        ('surveys_satisfied', (e.type = 'survey.result' AND (e.body->>'score') ~ '^[4-5]$')::int),
        ('transfers', (e.type = 'case.transfer')::int)
     ) AS m (metric, n)
WHERE m.n <> 0
$$;
COMMENT ON FUNCTION hotline.figure_facts_src(bigint[], bigint[], text[], text[], timestamptz, timestamptz, bigint[], bigint[], jsonb, timestamptz, timestamptz) IS 'The facts of the rows a batch may change (the calls, runs, events and cases figures_before named), as figure_facts counts them; every event of those cases lies between ev_from and ev_to (031, 034, 038; resolving order replies and merges, 045; a merged case''s resolutions are recorded only, 062; superseded status events are no turns, 063; a resolution dated before the close of a closed case comes before it, 064; a repeat of a call retention anonymized, calls.repeat_kept, 076).';


CREATE OR REPLACE VIEW hotline.figure_facts AS
-- inbound calls, by the day offered
SELECT hotline.local_day(l.offered_at) AS day, l.case_id, l.agent, c.department, m.metric, m.n
FROM (SELECT l0.*, lag(l0.offered_at) OVER (PARTITION BY l0.caller ORDER BY l0.offered_at, l0.call_id) AS prev_at
      FROM hotline.calls l0 WHERE l0.inbound) l
     JOIN hotline.cases c ON c.id = l.case_id
     CROSS JOIN LATERAL (VALUES
        ('calls_offered', 1),
        ('calls_answered', (l.answered_at IS NOT NULL)::int),
        ('answered_within_15s', coalesce(l.answered_at <= l.offered_at + interval '15 seconds', false)::int),
        ('calls_abandoned', (l.answered_at IS NULL AND l.state IN ('abandoned', 'voicemail'))::int),
        ('voicemails', (l.answered_at IS NULL AND l.state = 'voicemail')::int),
        ('repeat_calls', (l.repeat_kept OR coalesce(l.prev_at > l.offered_at - interval '24 hours', false))::int)
     ) AS m (metric, n)
WHERE m.n <> 0
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
WHERE r.kind = 'callback' AND m.n <> 0
UNION ALL
-- cases opened
SELECT hotline.local_day(c.opened_at), c.id, NULL, c.department, 'cases_opened', 1
FROM hotline.cases c
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
        -- each event with the status event before it in its case (s.prev)
        SELECT e0.*, s.kind, s.prev, s.merged
        FROM hotline.case_events e0
             LEFT JOIN (
                SELECT k.seq, CASE WHEN k.code IN ('R', 'E') THEN 'R' END AS kind,
                       lag(k.code) OVER w AS prev,
                       -- merged before it: a merge later than the last
                       -- close (062: resolving or reopening a merged case is
                       -- recorded only, it stays merged; a close ends it)
                       coalesce(max(k.seq) FILTER (WHERE k.code = 'M') OVER w1
                                > coalesce(max(k.seq) FILTER (WHERE k.code = 'C') OVER w1, 0),
                                false) AS merged
                FROM (SELECT x.seq, x.case_id,
                             -- the chain's order: its seq, or just below the
                             -- close it came before (064)
                             CASE WHEN hotline.resolved_before_close(x.type, x.description)
                                  THEN coalesce((SELECT max(y.seq) FROM hotline.case_events y
                                                 WHERE y.case_id = x.case_id AND y.seq < x.seq
                                                   AND y.type = 'case.close'), x.seq + 0.5) - 0.5
                                  ELSE x.seq END AS key,
                             CASE WHEN x.type = 'call.ended' AND x.body->>'outcome' = 'resolved' THEN 'E'
                                  WHEN x.type = 'case.resolve'
                                       OR (x.type = 'order.reply' AND x.body->>'case_resolved' = 'true') THEN 'R'
                                  WHEN x.type = 'case.close' THEN 'C'
                                  WHEN x.type = 'case.merge' THEN 'M'
                                  WHEN x.type = 'case.reopen'
                                       OR (x.type = 'survey.result' AND (x.body->>'score') ~ '^[1-2]$') THEN 'O'
                             END AS code
                      FROM hotline.case_events x
                      WHERE x.type IN ('case.resolve', 'call.ended', 'case.close', 'case.reopen', 'survey.result',
                                       'case.merge', 'order.reply')
                        AND x.case_id IS NOT NULL
                        AND NOT hotline.turn_superseded(x.type, x.description)) k   -- 063
                WHERE k.code IS NOT NULL
                WINDOW w AS (PARTITION BY k.case_id ORDER BY k.key, k.seq),
                       w1 AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
             ) s ON s.seq = e0.seq
        WHERE e0.type IN ('callback.attempt', 'case.resolve', 'call.ended', 'survey.result', 'case.transfer',
                          'order.reply')
     ) e
     -- a resolution counts when it moved the case into resolved (062's header)
     CROSS JOIN LATERAL (SELECT (e.kind = 'R' AND coalesce(e.prev, 'O') = 'O' AND NOT coalesce(e.merged, false))
                                AS turn) u
     JOIN hotline.cases c ON c.id = e.case_id
     -- the run of the resolution clock a resolution ended
     LEFT JOIN LATERAL (
        SELECT r.met_at, r.due_at FROM hotline.clock_runs r
        WHERE u.turn
          AND r.case_id = e.case_id AND r.kind = 'resolution' AND r.started_at <= e.at
        ORDER BY r.seq DESC LIMIT 1
     ) rr ON true
     CROSS JOIN LATERAL (VALUES
        ('callback_attempts', (e.type = 'callback.attempt')::int),
        ('callbacks_reached', (e.type = 'callback.attempt' AND e.body->>'result' = 'reached')::int),
        ('cases_resolved', u.turn::int),
        ('resolved_in_time', (u.turn AND coalesce(rr.met_at <= rr.due_at, e.at <= rr.due_at, false))::int),
        ('surveys', (e.type = 'survey.result')::int),
        ('score_sum', CASE WHEN e.type = 'survey.result' AND (e.body->>'score') ~ '^[1-5]$'
                           THEN (e.body->>'score')::int ELSE 0 END),
        ('surveys_satisfied', (e.type = 'survey.result' AND (e.body->>'score') ~ '^[4-5]$')::int),
        ('transfers', (e.type = 'case.transfer')::int)
     ) AS m (metric, n)
WHERE e.type IN ('callback.attempt', 'case.resolve', 'call.ended', 'survey.result', 'case.transfer',
                 'order.reply')
  AND m.n <> 0;

-- anonymize_closed sets calls.repeat_kept (the fix above): its one
-- definition is 077's, which also keeps the daemon's first words of each
-- history line; 077 follows this file, so nothing runs in between.
