-- 009_resolution_transitions.sql - a case counts as resolved once per resolution.
--
-- Issue 16, item 12.  hotline.figure_facts (003) counted every case.resolve
-- event and every call.ended with outcome "resolved" as a resolution, even
-- when the rules had only recorded it because the case was already
-- resolved (or closed): call.ended resolved -> case.resolve -> call.ended
-- resolved made cases_resolved = 3 for one case resolved once.
--
-- The figures now count resolution *transitions*, replaying the case's
-- status the way daemon/rules.c changes it, in acceptance order (seq):
--   R  case.resolve, call.ended outcome=resolved: open -> resolved, else no change
--   C  case.close: -> closed
--   O  case.reopen, survey.result score 1..2: -> open
-- The status before an event is open when the case has no earlier R/C/O
-- event or the latest one is O, so an R counts exactly when the latest
-- earlier status event of its case is absent or an O.  (A refused event is
-- never stored, so it takes no part.)  resolved_in_time follows the same
-- rule.  Retention (004) keeps type, outcome and score, so the figures do
-- not change when a case is anonymized.
--
-- Only figure_facts is replaced (same columns); daily_figures, agent_daily
-- and department_daily read it and need no change.


-- Every countable fact as (day, case, agent, department, metric, n); the
-- three figure views below sum it by day, by day and agent, by day and
-- department.  Days are hotline.local_day().  Departments are the case's
-- current department.  Agents: the answering agent of a call, the agent of a
-- callback attempt or transfer, and for resolutions and surveys the agent who
-- last answered a call of the case before then.
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
        ('repeat_calls', coalesce(l.prev_at > l.offered_at - interval '24 hours', false)::int)
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
                      WHERE x.type IN ('case.resolve', 'call.ended', 'case.close', 'case.reopen', 'survey.result')
                        AND x.case_id IS NOT NULL) k
                WHERE k.kind IS NOT NULL
             ) s ON s.seq = e0.seq
        WHERE e0.type IN ('callback.attempt', 'case.resolve', 'call.ended', 'survey.result', 'case.transfer')
     ) e
     JOIN hotline.cases c ON c.id = e.case_id
     -- the run of the resolution clock a resolution ended
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
WHERE e.type IN ('callback.attempt', 'case.resolve', 'call.ended', 'survey.result', 'case.transfer')
  AND m.n <> 0;
