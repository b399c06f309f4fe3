-- 003_views.sql - the questions administrators ask, as views.
--
--   hotline.case_history        a case's events and alerts in time order
--   hotline.overdue_callbacks   callers owed a call back past the deadline, now
--   hotline.open_alerts         unacknowledged alerts, with level and age
--   hotline.repeat_callers      numbers with 2+ inbound calls in the last 7 days
--                               (hotline.repeat_callers_between for any period)
--   hotline.daily_figures       per local day: calls, callbacks, cases, surveys
--   hotline.agent_daily         the same per agent
--   hotline.department_daily    the same per department
--   hotline.v_cases, v_calls, v_case_events, v_alerts, v_callers
--                               whole rows of the base tables, numbers masked
--
-- Design.  The views run with their owner's table rights (the default; NOT
-- security_invoker), so administrators need no access to the phone columns
-- of the base tables (002 withholds it).  Every number and every request
-- body goes through hotline.visible_caller / visible_body / visible_text,
-- which run as the *invoking* user and show a confidential number whole only
-- to members of hotline_privileged.  No view hides rows for security, so
-- nothing leaks through a user's WHERE clause; security_barrier is set anyway
-- on the views that expose numbers, so that a future row filter cannot be
-- bypassed with a leaky function.  Equality and range tests on ids and
-- timestamps are leakproof and still reach the indexes.
--
-- Days are local days in the reporting time zone: the setting
-- hotline.timezone when set (ALTER DATABASE hotline SET hotline.timezone =
-- 'Asia/Shanghai'), otherwise the session's TimeZone.
--
-- Figures need the history of every run of a clock, while hotline.clocks
-- keeps only the current run of each (case, kind).  hotline.clock_runs keeps
-- one row per run, filled by a trigger on hotline.clocks (SECURITY DEFINER:
-- the daemon needs no privilege on it and cannot forge it).

------------------------------------------------------------------- helpers

CREATE OR REPLACE FUNCTION hotline.report_tz() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT coalesce(nullif(current_setting('hotline.timezone', true), ''), current_setting('TimeZone'))
$$;

CREATE OR REPLACE FUNCTION hotline.local_day(t timestamptz) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT (t AT TIME ZONE hotline.report_tz())::date
$$;

-- One readable line for an event whose description the daemon did not write
-- (and for anonymized events, 004).  Never quotes the caller's number.
CREATE OR REPLACE FUNCTION hotline.describe_event(t text, b jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE t
    WHEN 'call.offered'     THEN 'call ' || coalesce(b->>'call_id', '?') || ' offered'
                                 || coalesce(' in queue ' || (b->>'queue'), '')
    WHEN 'call.answered'    THEN 'call ' || coalesce(b->>'call_id', '?') || ' answered'
                                 || coalesce(' by ' || (b->>'agent'), '')
    WHEN 'call.abandoned'   THEN 'call ' || coalesce(b->>'call_id', '?') || ' abandoned; callback owed'
    WHEN 'voicemail.left'   THEN 'voicemail left on call ' || coalesce(b->>'call_id', '?') || '; callback owed'
    WHEN 'call.ended'       THEN 'call ' || coalesce(b->>'call_id', '?') || ' ended: '
                                 || coalesce(b->>'outcome', '?')
                                 || coalesce(', category ' || (b->>'category'), '')
                                 || coalesce(', priority ' || (b->>'priority'), '')
                                 || coalesce(' - ' || left(b->>'summary', 80), '')
    WHEN 'callback.attempt' THEN 'callback attempt' || coalesce(' by ' || (b->>'agent'), '')
                                 || ': ' || coalesce(b->>'result', '?')
    WHEN 'case.update'      THEN 'update' || coalesce(' by ' || (b->>'agent'), '')
                                 || CASE WHEN (b->>'caller_informed') = 'true' THEN ' (caller informed)' ELSE '' END
                                 || coalesce(': ' || left(b->>'note', 80), '')
    WHEN 'case.transfer'    THEN 'transferred to ' || coalesce(b->>'department', '?')
                                 || coalesce(': ' || left(b->>'reason', 80), '')
    WHEN 'case.resolve'     THEN 'resolved' || coalesce(': ' || left(b->>'resolution', 80), '')
    WHEN 'case.close'       THEN 'closed'
    WHEN 'case.reopen'      THEN 'reopened' || coalesce(': ' || left(b->>'reason', 80), '')
    WHEN 'case.hold'        THEN 'put on hold' || coalesce(': ' || left(b->>'reason', 80), '')
    WHEN 'case.resume'      THEN 'resumed'
    WHEN 'survey.result'    THEN 'survey score ' || coalesce(b->>'score', '?')
    ELSE t
END
$$;

---------------------------------------------------------------- clock runs

CREATE TABLE IF NOT EXISTS hotline.clock_runs (
    case_id     bigint NOT NULL,
    kind        text NOT NULL,
    seq         integer NOT NULL,
    state       text NOT NULL,
    started_at  timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    allowed_ms  bigint NOT NULL,
    met_at      timestamptz,
    breached_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, kind, seq)
);
CREATE INDEX IF NOT EXISTS clock_runs_started ON hotline.clock_runs (started_at);

CREATE OR REPLACE FUNCTION hotline.record_clock_run() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO hotline.clock_runs AS r
           (case_id, kind, seq, state, started_at, due_at, allowed_ms, met_at, breached_at)
    VALUES (NEW.case_id, NEW.kind, NEW.seq, NEW.state, NEW.started_at, NEW.due_at,
            NEW.allowed_ms, NEW.met_at, NEW.breached_at)
    ON CONFLICT (case_id, kind, seq) DO UPDATE
       SET state = EXCLUDED.state, started_at = EXCLUDED.started_at, due_at = EXCLUDED.due_at,
           allowed_ms = EXCLUDED.allowed_ms, met_at = EXCLUDED.met_at,
           breached_at = EXCLUDED.breached_at, updated_at = now();
    RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.record_clock_run() FROM PUBLIC;

DROP TRIGGER IF EXISTS clocks_record_run ON hotline.clocks;
CREATE TRIGGER clocks_record_run AFTER INSERT OR UPDATE ON hotline.clocks
    FOR EACH ROW EXECUTE FUNCTION hotline.record_clock_run();

-- Runs that existed before this migration.
INSERT INTO hotline.clock_runs (case_id, kind, seq, state, started_at, due_at, allowed_ms, met_at, breached_at)
SELECT case_id, kind, seq, state, started_at, due_at, allowed_ms, met_at, breached_at FROM hotline.clocks
ON CONFLICT DO NOTHING;

------------------------------------------------------ pseudonyms for numbers

-- A secret salt, readable only by the owner, so the views can give each
-- number a stable pseudonym (caller_ref) that groups a confidential number's
-- calls without revealing it, and that cannot be recomputed by guessing.
CREATE TABLE IF NOT EXISTS hotline.pseudonym_key (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    salt text NOT NULL
);
REVOKE ALL ON hotline.pseudonym_key FROM PUBLIC;
INSERT INTO hotline.pseudonym_key (salt)
VALUES (replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
ON CONFLICT DO NOTHING;

----------------------------------------------------- masked base-table rows

CREATE OR REPLACE VIEW hotline.v_callers WITH (security_barrier) AS
SELECT hotline.visible_caller(cl.caller, cl.confidential) AS caller,
       left(md5(k.salt || cl.caller), 16) AS caller_ref,
       cl.confidential, cl.repeat_alerted_at, cl.first_seen_at
FROM hotline.callers cl CROSS JOIN hotline.pseudonym_key k;

CREATE OR REPLACE VIEW hotline.v_cases WITH (security_barrier) AS
SELECT c.id, hotline.visible_caller(c.caller, cl.confidential) AS caller,
       coalesce(cl.confidential, false) AS confidential,
       c.status, c.opened_at, c.resolved_at, c.closed_at, c.last_contact_at, c.updated_at,
       c.category, c.priority, c.department, c.queue, c.summary, c.resolution,
       c.transfers, c.reopens, c.on_hold, c.hold_since, c.held_ms, c.policy
FROM hotline.cases c LEFT JOIN hotline.callers cl ON cl.caller = c.caller;

CREATE OR REPLACE VIEW hotline.v_calls WITH (security_barrier) AS
SELECT l.call_id, l.case_id, hotline.visible_caller(l.caller, cl.confidential) AS caller,
       left(md5(k.salt || l.caller), 16) AS caller_ref,
       coalesce(cl.confidential, false) AS confidential,
       l.state, l.inbound, l.offered_at, l.answered_at, l.ended_at, l.queue, l.agent, l.outcome
FROM hotline.calls l
     LEFT JOIN hotline.callers cl ON cl.caller = l.caller
     CROSS JOIN hotline.pseudonym_key k;

CREATE OR REPLACE VIEW hotline.v_case_events WITH (security_barrier) AS
SELECT e.seq, e.event_id, e.case_id, e.type, e.at, e.received_at,
       hotline.visible_text(e.description, cl.confidential) AS description,
       hotline.visible_body(e.body, coalesce(cl.confidential, bcl.confidential)) AS body
FROM hotline.case_events e
     LEFT JOIN hotline.cases c ON c.id = e.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
     LEFT JOIN hotline.callers bcl ON bcl.caller = e.body->>'caller';

CREATE OR REPLACE VIEW hotline.v_alerts WITH (security_barrier) AS
SELECT a.id, a.kind, a.case_id,
       hotline.visible_caller(coalesce(a.caller, c.caller), cl.confidential) AS caller,
       a.level, a.raised_at, a.due_at, a.escalated_at, a.escalate_at, a.acked_at, a.acked_by,
       hotline.visible_text(a.detail, cl.confidential) AS detail, a.dedupe_key
FROM hotline.alerts a
     LEFT JOIN hotline.cases c ON c.id = a.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = coalesce(a.caller, c.caller);

------------------------------------------------------------- case history

-- One row per event of a case, and one per alert raised / escalated /
-- acknowledged for it, in time order (an alert after the event at the same
-- instant).  Ask for one case: SELECT * FROM hotline.case_history WHERE case_id = 42;
CREATE OR REPLACE VIEW hotline.case_history WITH (security_barrier) AS
SELECT h.case_id, h.at, h.type, h.event_id, h.agent, h.description, h.seq
FROM (
    SELECT e.case_id, e.at, e.type, e.event_id, e.seq,
           coalesce(e.body->>'agent', e.body->>'by',
                    CASE WHEN e.type = 'call.ended' THEN
                        (SELECT l.agent FROM hotline.calls l WHERE l.call_id = e.body->>'call_id') END) AS agent,
           hotline.visible_text(coalesce(e.description, hotline.describe_event(e.type, e.body)),
                                cl.confidential) AS description
    FROM hotline.case_events e
         JOIN hotline.cases c ON c.id = e.case_id
         LEFT JOIN hotline.callers cl ON cl.caller = c.caller
    UNION ALL
    SELECT a.case_id, x.at, x.type, 'alert:' || a.id || x.suffix, NULL::bigint, x.agent,
           hotline.visible_text(x.description, cl.confidential)
    FROM hotline.alerts a
         JOIN hotline.cases c ON c.id = a.case_id
         LEFT JOIN hotline.callers cl ON cl.caller = c.caller
         CROSS JOIN LATERAL (VALUES
            (a.raised_at, 'alert.raised', '', NULL::text,
             format('alert #%s %s raised', a.id, a.kind) || coalesce(': ' || a.detail, '')),
            (a.escalated_at, 'alert.escalated', ':escalated', NULL::text,
             format('alert #%s %s escalated to level %s', a.id, a.kind, a.level)),
            (a.acked_at, 'alert.acked', ':acked', a.acked_by,
             format('alert #%s %s acknowledged', a.id, a.kind) || coalesce(' by ' || a.acked_by, ''))
         ) AS x (at, type, suffix, agent, description)
    WHERE x.at IS NOT NULL
) h
ORDER BY h.case_id, h.at, h.seq IS NULL, h.seq, h.event_id;

-------------------------------------------------------- overdue callbacks

-- clocks_pending covers only 'pending'; the overdue list also wants breached
-- callbacks (still owed), and without this index it reads every clock
-- (docs/explain.md: 300 ms -> under 10 ms with 2M clocks).
CREATE INDEX IF NOT EXISTS clocks_callback_owed ON hotline.clocks (due_at)
    WHERE kind = 'callback' AND state IN ('pending', 'breached');

-- Callers owed a call back whose deadline has passed, oldest first: how late,
-- how many callback attempts since the callback became owed, the last result.
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
     JOIN hotline.cases c ON c.id = k.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
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

-------------------------------------------------------------- open alerts

CREATE OR REPLACE VIEW hotline.open_alerts WITH (security_barrier) AS
SELECT a.id, a.kind, a.level, a.case_id,
       hotline.visible_caller(coalesce(a.caller, c.caller), cl.confidential) AS caller,
       c.status AS case_status,
       a.raised_at, now() - a.raised_at AS age,
       a.due_at, a.escalated_at, a.escalate_at,
       hotline.visible_text(a.detail, cl.confidential) AS detail
FROM hotline.alerts a
     LEFT JOIN hotline.cases c ON c.id = a.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = coalesce(a.caller, c.caller)
WHERE a.acked_at IS NULL
ORDER BY a.level DESC, a.raised_at, a.id;

----------------------------------------------------------- repeat callers

-- Numbers with at least p_min inbound calls offered in [p_from, p_to): one
-- row per number (grouped by its pseudonym, so two numbers that mask alike
-- never merge), with its cases and each call's result in time order
-- ('answered', or the state of a call nobody answered: abandoned, voicemail,
-- offered).  SECURITY INVOKER over v_calls, so masking is the caller's.
CREATE OR REPLACE FUNCTION hotline.repeat_callers_between(p_from timestamptz, p_to timestamptz,
                                                          p_min integer DEFAULT 2)
RETURNS TABLE (caller text, caller_ref text, confidential boolean, calls bigint,
               answered bigint, unanswered bigint, first_call_at timestamptz,
               last_call_at timestamptz, case_ids bigint[], call_ids text[], call_results text[])
LANGUAGE sql STABLE AS $$
SELECT min(v.caller), v.caller_ref, bool_or(v.confidential), count(*),
       count(*) FILTER (WHERE v.answered_at IS NOT NULL),
       count(*) FILTER (WHERE v.answered_at IS NULL),
       min(v.offered_at), max(v.offered_at),
       array_agg(DISTINCT v.case_id ORDER BY v.case_id),
       array_agg(v.call_id ORDER BY v.offered_at, v.call_id),
       array_agg(CASE WHEN v.answered_at IS NOT NULL THEN 'answered' ELSE v.state END
                 ORDER BY v.offered_at, v.call_id)
FROM hotline.v_calls v
WHERE v.inbound AND v.offered_at >= p_from AND v.offered_at < p_to
GROUP BY v.caller_ref
HAVING count(*) >= greatest(p_min, 1)
ORDER BY count(*) DESC, max(v.offered_at) DESC, v.caller_ref
$$;

CREATE OR REPLACE VIEW hotline.repeat_callers AS
SELECT * FROM hotline.repeat_callers_between(now() - interval '7 days', now(), 2);

------------------------------------------------------------------ figures

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
FROM hotline.case_events e
     JOIN hotline.cases c ON c.id = e.case_id
     -- the run of the resolution clock a resolution ended
     LEFT JOIN LATERAL (
        SELECT r.met_at, r.due_at FROM hotline.clock_runs r
        WHERE e.type IN ('case.resolve', 'call.ended')
          AND r.case_id = e.case_id AND r.kind = 'resolution' AND r.started_at <= e.at
        ORDER BY r.seq DESC LIMIT 1
     ) rr ON true
     CROSS JOIN LATERAL (VALUES
        ('callback_attempts', (e.type = 'callback.attempt')::int),
        ('callbacks_reached', (e.type = 'callback.attempt' AND e.body->>'result' = 'reached')::int),
        ('cases_resolved', (e.type = 'case.resolve'
                            OR (e.type = 'call.ended' AND e.body->>'outcome' = 'resolved'))::int),
        ('resolved_in_time', ((e.type = 'case.resolve' OR (e.type = 'call.ended' AND e.body->>'outcome' = 'resolved'))
                              AND coalesce(rr.met_at <= rr.due_at, e.at <= rr.due_at, false))::int),
        ('surveys', (e.type = 'survey.result')::int),
        ('score_sum', CASE WHEN e.type = 'survey.result' AND (e.body->>'score') ~ '^[1-5]$'
                           THEN (e.body->>'score')::int ELSE 0 END),
        ('surveys_satisfied', (e.type = 'survey.result' AND (e.body->>'score') ~ '^[4-5]$')::int),
        ('transfers', (e.type = 'case.transfer')::int)
     ) AS m (metric, n)
WHERE e.type IN ('callback.attempt', 'case.resolve', 'call.ended', 'survey.result', 'case.transfer')
  AND m.n <> 0;

CREATE OR REPLACE VIEW hotline.daily_figures AS
SELECT day,
    coalesce(sum(n) FILTER (WHERE metric = 'calls_offered'), 0)::bigint AS calls_offered,
    coalesce(sum(n) FILTER (WHERE metric = 'calls_answered'), 0)::bigint AS calls_answered,
    coalesce(sum(n) FILTER (WHERE metric = 'answered_within_15s'), 0)::bigint AS answered_within_15s,
    coalesce(sum(n) FILTER (WHERE metric = 'calls_abandoned'), 0)::bigint AS calls_abandoned,
    coalesce(sum(n) FILTER (WHERE metric = 'voicemails'), 0)::bigint AS voicemails,
    round(coalesce(sum(n) FILTER (WHERE metric = 'calls_answered'), 0)::numeric / nullif(coalesce(sum(n) FILTER (WHERE metric = 'calls_offered'), 0), 0), 3) AS answer_rate,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_owed'), 0)::bigint AS callbacks_owed,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_in_time'), 0)::bigint AS callbacks_in_time,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_late'), 0)::bigint AS callbacks_late,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_still_owed'), 0)::bigint AS callbacks_still_owed,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_dropped'), 0)::bigint AS callbacks_dropped,
    coalesce(sum(n) FILTER (WHERE metric = 'callback_attempts'), 0)::bigint AS callback_attempts,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_reached'), 0)::bigint AS callbacks_reached,
    coalesce(sum(n) FILTER (WHERE metric = 'cases_opened'), 0)::bigint AS cases_opened,
    coalesce(sum(n) FILTER (WHERE metric = 'cases_resolved'), 0)::bigint AS cases_resolved,
    coalesce(sum(n) FILTER (WHERE metric = 'resolved_in_time'), 0)::bigint AS resolved_in_time,
    coalesce(sum(n) FILTER (WHERE metric = 'repeat_calls'), 0)::bigint AS repeat_calls,
    round(coalesce(sum(n) FILTER (WHERE metric = 'repeat_calls'), 0)::numeric / nullif(coalesce(sum(n) FILTER (WHERE metric = 'calls_offered'), 0), 0), 3) AS repeat_call_rate,
    coalesce(sum(n) FILTER (WHERE metric = 'surveys'), 0)::bigint AS surveys,
    round(coalesce(sum(n) FILTER (WHERE metric = 'score_sum'), 0)::numeric / nullif(coalesce(sum(n) FILTER (WHERE metric = 'surveys'), 0), 0), 2) AS mean_score,
    round(coalesce(sum(n) FILTER (WHERE metric = 'surveys_satisfied'), 0)::numeric / nullif(coalesce(sum(n) FILTER (WHERE metric = 'surveys'), 0), 0), 3) AS satisfied_share,
    coalesce(sum(n) FILTER (WHERE metric = 'transfers'), 0)::bigint AS transfers
FROM hotline.figure_facts
GROUP BY day
ORDER BY day;

CREATE OR REPLACE VIEW hotline.agent_daily AS
SELECT day, agent,
    coalesce(sum(n) FILTER (WHERE metric = 'calls_answered'), 0)::bigint AS calls_answered,
    coalesce(sum(n) FILTER (WHERE metric = 'answered_within_15s'), 0)::bigint AS answered_within_15s,
    coalesce(sum(n) FILTER (WHERE metric = 'callback_attempts'), 0)::bigint AS callback_attempts,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_reached'), 0)::bigint AS callbacks_reached,
    coalesce(sum(n) FILTER (WHERE metric = 'cases_resolved'), 0)::bigint AS cases_resolved,
    coalesce(sum(n) FILTER (WHERE metric = 'resolved_in_time'), 0)::bigint AS resolved_in_time,
    coalesce(sum(n) FILTER (WHERE metric = 'surveys'), 0)::bigint AS surveys,
    round(coalesce(sum(n) FILTER (WHERE metric = 'score_sum'), 0)::numeric / nullif(coalesce(sum(n) FILTER (WHERE metric = 'surveys'), 0), 0), 2) AS mean_score,
    round(coalesce(sum(n) FILTER (WHERE metric = 'surveys_satisfied'), 0)::numeric / nullif(coalesce(sum(n) FILTER (WHERE metric = 'surveys'), 0), 0), 3) AS satisfied_share,
    coalesce(sum(n) FILTER (WHERE metric = 'transfers'), 0)::bigint AS transfers
FROM hotline.figure_facts
WHERE agent IS NOT NULL
GROUP BY day, agent
ORDER BY day, agent;

CREATE OR REPLACE VIEW hotline.department_daily AS
SELECT day, coalesce(department, '(none)') AS department,
    coalesce(sum(n) FILTER (WHERE metric = 'calls_offered'), 0)::bigint AS calls_offered,
    coalesce(sum(n) FILTER (WHERE metric = 'calls_answered'), 0)::bigint AS calls_answered,
    coalesce(sum(n) FILTER (WHERE metric = 'answered_within_15s'), 0)::bigint AS answered_within_15s,
    coalesce(sum(n) FILTER (WHERE metric = 'calls_abandoned'), 0)::bigint AS calls_abandoned,
    coalesce(sum(n) FILTER (WHERE metric = 'voicemails'), 0)::bigint AS voicemails,
    round(coalesce(sum(n) FILTER (WHERE metric = 'calls_answered'), 0)::numeric / nullif(coalesce(sum(n) FILTER (WHERE metric = 'calls_offered'), 0), 0), 3) AS answer_rate,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_owed'), 0)::bigint AS callbacks_owed,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_in_time'), 0)::bigint AS callbacks_in_time,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_late'), 0)::bigint AS callbacks_late,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_still_owed'), 0)::bigint AS callbacks_still_owed,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_dropped'), 0)::bigint AS callbacks_dropped,
    coalesce(sum(n) FILTER (WHERE metric = 'callback_attempts'), 0)::bigint AS callback_attempts,
    coalesce(sum(n) FILTER (WHERE metric = 'callbacks_reached'), 0)::bigint AS callbacks_reached,
    coalesce(sum(n) FILTER (WHERE metric = 'cases_opened'), 0)::bigint AS cases_opened,
    coalesce(sum(n) FILTER (WHERE metric = 'cases_resolved'), 0)::bigint AS cases_resolved,
    coalesce(sum(n) FILTER (WHERE metric = 'resolved_in_time'), 0)::bigint AS resolved_in_time,
    coalesce(sum(n) FILTER (WHERE metric = 'repeat_calls'), 0)::bigint AS repeat_calls,
    round(coalesce(sum(n) FILTER (WHERE metric = 'repeat_calls'), 0)::numeric / nullif(coalesce(sum(n) FILTER (WHERE metric = 'calls_offered'), 0), 0), 3) AS repeat_call_rate,
    coalesce(sum(n) FILTER (WHERE metric = 'surveys'), 0)::bigint AS surveys,
    round(coalesce(sum(n) FILTER (WHERE metric = 'score_sum'), 0)::numeric / nullif(coalesce(sum(n) FILTER (WHERE metric = 'surveys'), 0), 0), 2) AS mean_score,
    round(coalesce(sum(n) FILTER (WHERE metric = 'surveys_satisfied'), 0)::numeric / nullif(coalesce(sum(n) FILTER (WHERE metric = 'surveys'), 0), 0), 3) AS satisfied_share,
    coalesce(sum(n) FILTER (WHERE metric = 'transfers'), 0)::bigint AS transfers
FROM hotline.figure_facts
GROUP BY day, coalesce(department, '(none)')
ORDER BY day, 2;

------------------------------------------------------------------- grants

GRANT SELECT ON hotline.case_history, hotline.overdue_callbacks, hotline.open_alerts,
    hotline.repeat_callers, hotline.daily_figures, hotline.agent_daily, hotline.department_daily,
    hotline.figure_facts, hotline.clock_runs,
    hotline.v_cases, hotline.v_calls, hotline.v_case_events, hotline.v_alerts, hotline.v_callers
    TO hotline_admin;
GRANT EXECUTE ON FUNCTION hotline.report_tz(), hotline.local_day(timestamptz),
    hotline.describe_event(text, jsonb),
    hotline.repeat_callers_between(timestamptz, timestamptz, integer) TO hotline_admin;
