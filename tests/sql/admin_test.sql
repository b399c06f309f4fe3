-- tests/sql/admin_test.sql - what administrators see: views, privileges,
-- masking, retention.  Run by scripts/sql-test.sh on a fresh database that
-- has every migration applied; any failed assertion raises an exception and
-- psql (ON_ERROR_STOP) exits non-zero.
--
-- The scenario is written the way the daemon writes it (as the LOGIN role
-- hotlined, so the daemon's privileges are exercised too): a fixed past day
-- 2024-03-10 (UTC) for the figures, and rows relative to now() for the
-- "right now" views (overdue callbacks, repeat callers in the last 7 days).
--
-- Numbers: A +8613800000001 (ordinary), B +8613900000002 (confidential),
--          C +8613700000003 (ordinary).

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET TimeZone = 'UTC';

------------------------------------------------------------------ helpers
DROP SCHEMA IF EXISTS hltest CASCADE;
CREATE SCHEMA hltest;
GRANT USAGE ON SCHEMA hltest TO PUBLIC;

-- Raise unless got = want (NULLs equal).
CREATE FUNCTION hltest.eq(what text, got anyelement, want anyelement) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF got IS DISTINCT FROM want THEN
        RAISE EXCEPTION 'FAIL %: got [%], want [%]', what, got, want;
    END IF;
    RAISE NOTICE 'ok %', what;
END $$;

-- Raise unless running sql fails with SQLSTATE state (default: insufficient_privilege).
CREATE FUNCTION hltest.fails(sql text, state text DEFAULT '42501') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        EXECUTE sql;
    EXCEPTION WHEN OTHERS THEN
        IF SQLSTATE = state THEN
            RAISE NOTICE 'ok refused (%): %', state, sql;
            RETURN;
        END IF;
        RAISE EXCEPTION 'FAIL [%] failed with % (%), want %', sql, SQLSTATE, SQLERRM, state;
    END;
    RAISE EXCEPTION 'FAIL [%] succeeded, want error %', sql, state;
END $$;

-- Rows of a query as one string: 'a|b|c;a|b|c' (NULL as '-').
CREATE FUNCTION hltest.rows(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE r record; out text := ''; line text;
BEGIN
    FOR r IN EXECUTE q LOOP
        SELECT string_agg(coalesce(value, '-'), '|' ORDER BY ord) INTO line
        FROM json_each_text(row_to_json(r)) WITH ORDINALITY AS j(key, value, ord);
        out := out || CASE WHEN out = '' THEN '' ELSE ';' END || line;
    END LOOP;
    RETURN out;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA hltest TO PUBLIC;
SET client_min_messages = notice;   -- each passed assertion prints 'ok ...'

----------------------------------------------------------------- scenario
-- Written as the daemon.
SET ROLE hotlined;

INSERT INTO hotline.callers (caller, confidential) VALUES
    ('+8613800000001', false), ('+8613900000002', true), ('+8613700000003', false);

-- Case 1 (A): answered in 10 s, follow-up promised, called back in time,
-- resolved, survey 5, closed.
INSERT INTO hotline.cases (id, caller, status, opened_at, summary)
VALUES (1, '+8613800000001', 'open', '2024-03-10 09:00:00+00', 'pension payment missing');
INSERT INTO hotline.calls (call_id, case_id, caller, state, offered_at, answered_at, ended_at, agent, outcome)
VALUES ('c1', 1, '+8613800000001', 'ended', '2024-03-10 09:00:00+00', '2024-03-10 09:00:10+00',
        '2024-03-10 09:05:00+00', 'alice', 'followup');
INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms)
VALUES (1, 'resolution', 'pending', 1, '2024-03-10 09:00+00', '2024-03-12 09:00+00', 172800000),
       (1, 'callback', 'pending', 1, '2024-03-10 09:05+00', '2024-03-10 09:35+00', 1800000);
UPDATE hotline.clocks SET state = 'met', met_at = '2024-03-10 09:30+00' WHERE case_id = 1 AND kind = 'callback';
UPDATE hotline.clocks SET state = 'met', met_at = '2024-03-10 11:00+00' WHERE case_id = 1 AND kind = 'resolution';
INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms, met_at)
VALUES (1, 'survey', 'met', 1, '2024-03-10 11:00+00', '2024-03-11 11:00+00', 86400000, '2024-03-10 12:00+00');
UPDATE hotline.cases SET status = 'closed', resolved_at = '2024-03-10 11:00+00',
       closed_at = '2024-03-10 13:00+00', resolution = 'paid on 12 March' WHERE id = 1;
INSERT INTO hotline.case_events (event_id, case_id, type, at, description, body) VALUES
 ('e1', 1, 'call.offered', '2024-03-10 09:00:00+00', 'call c1 offered; case opened; resolution clock started',
  '{"type":"call.offered","id":"e1","call_id":"c1","caller":"+8613800000001"}'),
 ('e2', 1, 'call.answered', '2024-03-10 09:00:10+00', NULL,
  '{"type":"call.answered","id":"e2","call_id":"c1","agent":"alice"}'),
 ('e3', 1, 'call.ended', '2024-03-10 09:05:00+00', NULL,
  '{"type":"call.ended","id":"e3","call_id":"c1","outcome":"followup","summary":"pension payment missing"}'),
 ('e4', 1, 'callback.attempt', '2024-03-10 09:20:00+00', NULL,
  '{"type":"callback.attempt","id":"e4","case_id":1,"result":"no_answer","agent":"bob"}'),
 ('e5', 1, 'callback.attempt', '2024-03-10 09:30:00+00', 'callback by bob: reached; callback clock met',
  '{"type":"callback.attempt","id":"e5","case_id":1,"result":"reached","agent":"bob"}'),
 ('e6', 1, 'case.resolve', '2024-03-10 11:00:00+00', NULL,
  '{"type":"case.resolve","id":"e6","case_id":1,"resolution":"paid on 12 March"}'),
 ('e7', 1, 'survey.result', '2024-03-10 12:00:00+00', NULL,
  '{"type":"survey.result","id":"e7","case_id":1,"score":5}'),
 ('e8', 1, 'case.close', '2024-03-10 13:00:00+00', NULL, '{"type":"case.close","id":"e8","case_id":1}');

-- Case 2 (B, confidential): abandoned, callback late (alert raised and
-- acknowledged), called again 30 min later (a repeat call), transferred.
INSERT INTO hotline.cases (id, caller, status, opened_at, department, transfers)
VALUES (2, '+8613900000002', 'open', '2024-03-10 10:00+00', 'housing', 1);
INSERT INTO hotline.calls (call_id, case_id, caller, state, offered_at, answered_at, ended_at, agent) VALUES
 ('c2', 2, '+8613900000002', 'abandoned', '2024-03-10 10:00:00+00', NULL, '2024-03-10 10:01:00+00', NULL),
 ('c3', 2, '+8613900000002', 'answered', '2024-03-10 10:30:00+00', '2024-03-10 10:30:20+00', NULL, 'alice');
INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms)
VALUES (2, 'resolution', 'pending', 1, '2024-03-10 10:00+00', '2024-03-12 10:00+00', 172800000),
       (2, 'callback', 'pending', 1, '2024-03-10 10:01+00', '2024-03-10 10:31+00', 1800000);
UPDATE hotline.clocks SET state = 'breached', breached_at = '2024-03-10 10:31+00' WHERE case_id = 2 AND kind = 'callback';
UPDATE hotline.clocks SET state = 'met', met_at = '2024-03-10 11:00+00' WHERE case_id = 2 AND kind = 'callback';
INSERT INTO hotline.alerts (id, kind, case_id, caller, level, raised_at, due_at, acked_at, acked_by, detail, dedupe_key)
VALUES (1, 'callback_overdue', 2, '+8613900000002', 1, '2024-03-10 10:31+00', '2024-03-10 10:31+00',
        '2024-03-10 10:40+00', 'sup1', 'callback owed to +8613900000002 since 10:01', '2:callback:1:overdue'),
       (2, 'repeat_caller', 2, '+8613900000002', 1, '2024-03-10 10:30+00', NULL, NULL, NULL,
        '2 calls from +86139****0002 within 24h', 'repeat:+8613900000002:e11');
INSERT INTO hotline.case_events (event_id, case_id, type, at, description, body) VALUES
 ('e9', 2, 'call.offered', '2024-03-10 10:00:00+00', 'call c2 offered from +8613900000002; case opened',
  '{"type":"call.offered","id":"e9","call_id":"c2","caller":"+8613900000002","confidential":true}'),
 ('e10', 2, 'call.abandoned', '2024-03-10 10:01:00+00', NULL,
  '{"type":"call.abandoned","id":"e10","call_id":"c2"}'),
 ('e11', 2, 'call.offered', '2024-03-10 10:30:00+00', NULL,
  '{"type":"call.offered","id":"e11","call_id":"c3","caller":"+8613900000002"}'),
 ('e12', 2, 'call.answered', '2024-03-10 10:30:20+00', NULL,
  '{"type":"call.answered","id":"e12","call_id":"c3","agent":"alice"}'),
 ('e13', 2, 'case.transfer', '2024-03-10 10:45:00+00', NULL,
  '{"type":"case.transfer","id":"e13","case_id":2,"department":"housing","reason":"rent","agent":"alice"}'),
 ('e14', 2, 'callback.attempt', '2024-03-10 11:00:00+00', NULL,
  '{"type":"callback.attempt","id":"e14","case_id":2,"result":"reached","agent":"bob"}');

-- Case 3 (C), now: voicemail 2 h ago, one busy attempt, callback overdue by
-- 1.5 h with an escalated alert; a second call an hour ago, abandoned.
INSERT INTO hotline.cases (id, caller, status, opened_at)
VALUES (3, '+8613700000003', 'open', now() - interval '2 hours');
INSERT INTO hotline.calls (call_id, case_id, caller, state, offered_at, ended_at) VALUES
 ('c4', 3, '+8613700000003', 'voicemail', now() - interval '2 hours', now() - interval '119 minutes'),
 ('c5', 3, '+8613700000003', 'abandoned', now() - interval '1 hour', now() - interval '59 minutes');
INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms, breached_at)
VALUES (3, 'callback', 'breached', 1, now() - interval '119 minutes', now() - interval '89 minutes', 1800000,
        now() - interval '89 minutes');
INSERT INTO hotline.alerts (id, kind, case_id, caller, level, raised_at, due_at, escalated_at, dedupe_key)
VALUES (3, 'callback_overdue', 3, '+8613700000003', 2, now() - interval '89 minutes',
        now() - interval '89 minutes', now() - interval '74 minutes', '3:callback:1:overdue');
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
 ('e15', 3, 'call.offered', now() - interval '2 hours', '{"type":"call.offered","id":"e15","call_id":"c4","caller":"+8613700000003"}'),
 ('e16', 3, 'voicemail.left', now() - interval '119 minutes', '{"type":"voicemail.left","id":"e16","call_id":"c4"}'),
 ('e17', 3, 'callback.attempt', now() - interval '110 minutes',
  '{"type":"callback.attempt","id":"e17","case_id":3,"result":"busy","agent":"bob"}'),
 ('e18', 3, 'call.offered', now() - interval '1 hour', '{"type":"call.offered","id":"e18","call_id":"c5","caller":"+8613700000003"}'),
 ('e19', 3, 'call.abandoned', now() - interval '59 minutes', '{"type":"call.abandoned","id":"e19","call_id":"c5"}');

-- Case 4 (B, confidential) in the last week: two answered calls. The later
-- one is 26 hours old, never 24: at 00:00-01:00 a call a day old falls on
-- the same date as the rows two hours old and 'daily_figures today' counted it.
INSERT INTO hotline.cases (id, caller, status, opened_at) VALUES (4, '+8613900000002', 'open', now() - interval '3 days');
INSERT INTO hotline.calls (call_id, case_id, caller, state, offered_at, answered_at, agent) VALUES
 ('c6', 4, '+8613900000002', 'answered', now() - interval '3 days', now() - interval '3 days' + interval '5 s', 'carol'),
 ('c7', 4, '+8613900000002', 'answered', now() - interval '26 hours', now() - interval '26 hours' + interval '5 s', 'carol');

-- The daemon may use its sequences and upsert (INSERT .. ON CONFLICT DO UPDATE).
SELECT setval('hotline.cases_id_seq', 10);
SELECT setval('hotline.alerts_id_seq', 10);
INSERT INTO hotline.callers AS t (caller, confidential) VALUES ('+8613900000002', true)
ON CONFLICT (caller) DO UPDATE SET confidential = EXCLUDED.confidential;
-- A clock's current run is its own row: hotline.clock_runs (a view since
-- 022) shows it with no second row; the daemon writes clock_runs_done only
-- when a newer run replaces one (include/store_sql.h, SQL_W_CLOCKS).
RESET ROLE;
-- The rows above were written straight into the tables, not through the
-- daemon's batch (hotline.figures_before/after): count the rollup (023) in
-- this session's report zone, so the figures below are read from it.
SELECT hotline.rebuild_figure_rollup();
SELECT hltest.eq('figures read the rollup', (SELECT zone FROM hotline.figure_rollup_state), hotline.report_tz());

SELECT hltest.eq('clock runs recorded', (SELECT count(*) FROM hotline.clock_runs), 6::bigint);
SELECT hltest.eq('clock run keeps the met time',
    (SELECT met_at FROM hotline.clock_runs WHERE case_id = 2 AND kind = 'callback' AND seq = 1),
    '2024-03-10 11:00+00'::timestamptz);

--------------------------------------------------------- views as admin
SET ROLE hotline_admin;

-- case_history: events and alert rows in time order; B masked everywhere.
SELECT hltest.eq('case_history case 2', hltest.rows($$
    SELECT to_char(at, 'HH24:MI:SS'), type, event_id, agent, description
    FROM hotline.case_history WHERE case_id = 2$$),
    '10:00:00|call.offered|e9|-|call c2 offered from +86139****0002; case opened;'
    '10:01:00|call.abandoned|e10|-|call c2 abandoned; callback owed;'
    '10:30:00|call.offered|e11|-|call c3 offered;'
    '10:30:00|alert.raised|alert:2|-|alert #2 repeat_caller raised: 2 calls from +86139****0002 within 24h;'
    '10:30:20|call.answered|e12|alice|call c3 answered by alice;'
    '10:31:00|alert.raised|alert:1|-|alert #1 callback_overdue raised: callback owed to +86139****0002 since 10:01;'
    '10:40:00|alert.acked|alert:1:acked|sup1|alert #1 callback_overdue acknowledged by sup1;'
    '10:45:00|case.transfer|e13|alice|transferred to housing: rent;'
    '11:00:00|callback.attempt|e14|bob|callback attempt by bob: reached');

SELECT hltest.eq('case_history case 1 (fallbacks, ordinary number)', hltest.rows($$
    SELECT type, agent, description FROM hotline.case_history WHERE case_id = 1$$),
    'call.offered|-|call c1 offered; case opened; resolution clock started;'
    'call.answered|alice|call c1 answered by alice;'
    'call.ended|alice|call c1 ended: followup - pension payment missing;'
    'callback.attempt|bob|callback attempt by bob: no_answer;'
    'callback.attempt|bob|callback by bob: reached; callback clock met;'
    'case.resolve|-|resolved: paid on 12 March;'
    'survey.result|-|survey score 5;'
    'case.close|-|closed');

SELECT hltest.eq('case_history case 3 escalation row', hltest.rows($$
    SELECT type, description FROM hotline.case_history WHERE case_id = 3 AND type LIKE 'alert.%'$$),
    'alert.raised|alert #3 callback_overdue raised;alert.escalated|alert #3 callback_overdue escalated to level 2');

-- overdue_callbacks: only case 3 (case 2's callback was met).
SELECT hltest.eq('overdue_callbacks', hltest.rows($$
    SELECT case_id, caller, status, state, attempts, last_result, alert_id, alert_level,
           late_by BETWEEN interval '88 minutes' AND interval '91 minutes'
    FROM hotline.overdue_callbacks$$),
    '3|+8613700000003|open|breached|1|busy|3|2|true');
-- an attempt dated up to a day after its receipt (protocol.c) is counted:
-- 033 bounds the attempts by now() + 2 days to skip the months made ahead
BEGIN;
RESET ROLE;
INSERT INTO hotline.case_events (event_id, case_id, type, at, description, body) VALUES
    ('e3f', 3, 'callback.attempt', now() + interval '20 hours', NULL, '{"result":"no_answer","agent":"bob"}');
SET ROLE hotline_admin;
SELECT hltest.eq('overdue_callbacks: an attempt dated ahead', hltest.rows($$
    SELECT case_id, attempts, last_result FROM hotline.overdue_callbacks$$), '3|2|no_answer');
ROLLBACK;
SET ROLE hotline_admin;

-- open_alerts: the unacknowledged ones, highest level first.
SELECT hltest.eq('open_alerts', hltest.rows($$
    SELECT id, kind, level, case_id, caller, case_status, detail FROM hotline.open_alerts$$),
    '3|callback_overdue|2|3|+8613700000003|open|-;'
    '2|repeat_caller|1|2|+86139****0002|open|2 calls from +86139****0002 within 24h');
SELECT hltest.eq('open_alerts age', (SELECT age > interval '88 minutes' FROM hotline.open_alerts WHERE id = 3), true);

-- repeat_callers (last 7 days): C twice (neither answered), B twice (both answered).
SELECT hltest.eq('repeat_callers', hltest.rows($$
    SELECT caller, confidential, calls, answered, unanswered, case_ids::text, call_ids::text, call_results::text
    FROM hotline.repeat_callers$$),
    '+8613700000003|false|2|0|2|{3}|{c4,c5}|{voicemail,abandoned};'
    '+86139****0002|true|2|2|0|{4}|{c6,c7}|{answered,answered}');
SELECT hltest.eq('repeat_callers_between 2024-03-10', hltest.rows($$
    SELECT caller, calls, case_ids::text, call_results::text
    FROM hotline.repeat_callers_between('2024-03-10', '2024-03-11', 2)$$),
    '+86139****0002|2|{2}|{abandoned,answered}');
SELECT hltest.eq('repeat_callers_between all time, 3 calls', hltest.rows($$
    SELECT caller, calls, case_ids::text FROM hotline.repeat_callers_between('-infinity', 'infinity', 3)$$),
    '+86139****0002|4|{2,4}');
SELECT hltest.eq('repeat_callers_between empty period',
    hltest.rows($$SELECT * FROM hotline.repeat_callers_between('2024-03-11', '2024-03-10')$$), '');
-- 037: the view groups hotline.calls by number and masks once per number;
-- it must give what the function gives over v_calls for the same week, row
-- for row and in order (one statement: one now()), masked as the reader.
SELECT hltest.eq('repeat_callers = repeat_callers_between(last 7 days)', (
    SELECT count(*) FROM (
        (SELECT row_number() OVER () AS n, v.* FROM hotline.repeat_callers v
         EXCEPT ALL
         SELECT row_number() OVER (), f.* FROM hotline.repeat_callers_between(now() - interval '7 days', now(), 2) f)
        UNION ALL
        (SELECT row_number() OVER (), f.* FROM hotline.repeat_callers_between(now() - interval '7 days', now(), 2) f
         EXCEPT ALL
         SELECT row_number() OVER () AS n, v.* FROM hotline.repeat_callers v)) d), 0::bigint);

-- daily_figures for 2024-03-10 (UTC).
SELECT hltest.eq('daily_figures 2024-03-10', hltest.rows($$
    SELECT * FROM hotline.daily_figures WHERE day = '2024-03-10'$$),
    -- day|offered|answered|15s|abandoned|voicemails|answer_rate
    '2024-03-10|3|2|1|1|0|0.667|'
    -- callbacks owed|in time|late|still owed|dropped|attempts|reached
    || '2|1|1|0|0|3|2|'
    -- cases opened|resolved|in time|repeat calls|repeat rate
    || '2|1|1|1|0.333|'
    -- surveys|mean|satisfied|transfers
    || '1|5.00|1.000|1');
SELECT hltest.eq('daily_figures today', hltest.rows($$
    SELECT calls_offered, calls_answered, calls_abandoned, voicemails, callbacks_owed, callbacks_still_owed,
           callback_attempts, cases_opened, repeat_calls
    FROM hotline.daily_figures WHERE day = hotline.local_day(now() - interval '2 hours')
      AND hotline.local_day(now() - interval '2 hours') = hotline.local_day(now() - interval '1 hour')$$),
    CASE WHEN (now() - interval '2 hours')::date = (now() - interval '1 hour')::date
         THEN '2|0|2|1|1|1|1|1|1' ELSE '' END);

SELECT hltest.eq('agent_daily 2024-03-10', hltest.rows($$
    SELECT * FROM hotline.agent_daily WHERE day = '2024-03-10'$$),
    -- day|agent|answered|15s|attempts|reached|resolved|in time|surveys|mean|satisfied|transfers
    '2024-03-10|alice|2|1|0|0|1|1|1|5.00|1.000|1;'
    '2024-03-10|bob|0|0|3|2|0|0|0|-|-|0');

SELECT hltest.eq('department_daily 2024-03-10', hltest.rows($$
    SELECT * FROM hotline.department_daily WHERE day = '2024-03-10'$$),
    '2024-03-10|(none)|1|1|1|0|0|1.000|1|1|0|0|0|2|1|1|1|1|0|0.000|1|5.00|1.000|0;'
    '2024-03-10|housing|2|1|0|1|0|0.500|1|0|1|0|0|1|1|1|0|0|1|0.500|0|-|-|1');

-- The reporting time zone: at UTC+8 the 2024-03-10 calls are still on the 10th,
-- a call at 20:00 UTC would be the 11th.
SET hotline.timezone = 'Asia/Shanghai';
SELECT hltest.eq('local_day in hotline.timezone', hotline.local_day('2024-03-10 20:00+00'), '2024-03-11'::date);
SELECT hltest.eq('daily_figures in Asia/Shanghai',
    (SELECT calls_offered FROM hotline.daily_figures WHERE day = '2024-03-10'), 3::bigint);
RESET hotline.timezone;
SET TimeZone = 'America/New_York';
SELECT hltest.eq('local_day falls back to TimeZone', hotline.local_day('2024-03-10 03:00+00'), '2024-03-09'::date);
SET TimeZone = 'UTC';

-- Masked base rows.
SELECT hltest.eq('v_cases masks B only', hltest.rows($$SELECT id, caller, confidential FROM hotline.v_cases ORDER BY id$$),
    '1|+8613800000001|false;2|+86139****0002|true;3|+8613700000003|false;4|+86139****0002|true');
SELECT hltest.eq('v_calls', hltest.rows($$SELECT call_id, caller FROM hotline.v_calls WHERE case_id = 2 ORDER BY call_id$$),
    'c2|+86139****0002;c3|+86139****0002');
SELECT hltest.eq('v_case_events body', (SELECT body->>'caller' FROM hotline.v_case_events WHERE event_id = 'e9'), '+86139****0002');
-- 026: the stored body leaves out "id" and "type" (the columns); the view puts them back
SELECT hltest.eq('event_body_pack drops id and type',
    hotline.event_body_pack('x1', 'call.offered', '{"id": "x1", "type": "call.offered", "caller": "+1"}'), '{"caller": "+1"}'::jsonb);
SELECT hltest.eq('event_body_pack keeps an id that differs',
    hotline.event_body_pack('x1', 'call.offered', '{"id": "x2", "type": "call.offered"}'), '{"id": "x2"}'::jsonb);
SELECT hltest.eq('event_body is the body as received',
    hotline.event_body('x1', 'call.offered', hotline.event_body_pack('x1', 'call.offered',
        '{"id": "x1", "type": "call.offered", "caller": "+1"}')), '{"id": "x1", "type": "call.offered", "caller": "+1"}'::jsonb);
SELECT hltest.eq('v_case_events body whole', (SELECT body->>'id' || ' ' || (body->>'type') FROM hotline.v_case_events WHERE event_id = 'e9'),
    (SELECT event_id || ' ' || type FROM hotline.case_events WHERE event_id = 'e9'));
SELECT hltest.eq('v_alerts', hltest.rows($$SELECT id, caller, detail FROM hotline.v_alerts WHERE id = 1$$),
    '1|+86139****0002|callback owed to +86139****0002 since 10:01');
SELECT hltest.eq('v_callers', hltest.rows($$SELECT caller FROM hotline.v_callers ORDER BY caller$$),
    '+8613700000003;+8613800000001;+86139****0002');
RESET ROLE;
-- 053: the table's body is the event as received again; a row packed by
-- the daemons of 026 to 052 is made whole by the migration (run again here
-- on rows written as they wrote them; the migration is idempotent).
INSERT INTO hotline.case_events (event_id, case_id, type, at, body)
    VALUES ('pk1', NULL, 'case.update', '2024-03-10 12:00+00', '{"note": "n"}'),
           ('pk2', NULL, 'case.update', '2024-03-10 12:00+00', '{"id": "pk2", "type": "case.update"}'),
           ('pk3', NULL, 'case.update', '2024-03-10 12:00+00', '"not an object"');
\ir ../../sql/053_event_body_whole.sql
SELECT hltest.eq('053 makes packed bodies whole', hltest.rows($$SELECT event_id, body::text FROM hotline.case_events
    WHERE event_id LIKE 'pk_' ORDER BY event_id$$),
    'pk1|{"id": "pk1", "note": "n", "type": "case.update"};pk2|{"id": "pk2", "type": "case.update"};pk3|"not an object"');
DELETE FROM hotline.case_events WHERE event_id LIKE 'pk_';
DELETE FROM hotline.event_ids WHERE event_id LIKE 'pk_';

------------------------------------------------ privileged see numbers whole
SET ROLE hotline_privileged;
SELECT hltest.eq('privileged: v_cases whole', (SELECT caller FROM hotline.v_cases WHERE id = 2), '+8613900000002');
SELECT hltest.eq('privileged: case_history whole',
    (SELECT description FROM hotline.case_history WHERE event_id = 'e9'), 'call c2 offered from +8613900000002; case opened');
SELECT hltest.eq('privileged: open_alerts whole', (SELECT caller FROM hotline.open_alerts WHERE id = 2), '+8613900000002');
SELECT hltest.eq('privileged: repeat_callers whole',
    (SELECT caller FROM hotline.repeat_callers WHERE confidential), '+8613900000002');
SELECT hltest.eq('privileged: repeat_callers = repeat_callers_between', (
    SELECT count(*) FROM (
        SELECT * FROM hotline.repeat_callers
        EXCEPT ALL SELECT * FROM hotline.repeat_callers_between(now() - interval '7 days', now(), 2)) d), 0::bigint);
SELECT hltest.eq('privileged: base table', (SELECT caller FROM hotline.cases WHERE id = 2), '+8613900000002');
SELECT hltest.fails('UPDATE hotline.cases SET status = ''closed'' WHERE id = 3');
RESET ROLE;

-- A superuser who SET ROLEs to an administrator is masked like one.
SET ROLE hotline_admin;
SELECT hltest.eq('SET ROLE masks', (SELECT caller FROM hotline.v_cases WHERE id = 2), '+86139****0002');
RESET ROLE;

---------------------------------------------------- admin is read-only
SET ROLE hotline_admin;
SELECT hltest.fails(q) FROM unnest(ARRAY[
    'INSERT INTO hotline.cases (caller, opened_at) VALUES (''+1'', now())',
    'UPDATE hotline.cases SET status = ''closed''',
    'DELETE FROM hotline.cases',
    'TRUNCATE hotline.cases',
    'INSERT INTO hotline.calls (call_id, case_id, caller, state, offered_at) VALUES (''x'', 1, ''+1'', ''offered'', now())',
    'UPDATE hotline.calls SET agent = ''x''',
    'DELETE FROM hotline.calls',
    'INSERT INTO hotline.case_events (event_id, type, at, body) VALUES (''x'', ''x'', now(), ''{}'')',
    'UPDATE hotline.case_events SET description = ''x''',
    'DELETE FROM hotline.case_events',
    'UPDATE hotline.clocks SET state = ''met''',
    'DELETE FROM hotline.clocks',
    'UPDATE hotline.alerts SET acked_at = now(), acked_by = ''x''',
    'DELETE FROM hotline.alerts',
    'UPDATE hotline.callers SET confidential = false',
    'DELETE FROM hotline.callers',
    'INSERT INTO hotline.clock_runs_done VALUES (9, ''callback'', 1, ''met'', now(), now(), 1)',
    'SELECT nextval(''hotline.cases_id_seq'')',
    -- the raw numbers and bodies are not readable
    'SELECT * FROM hotline.cases',
    'SELECT caller FROM hotline.cases',
    'SELECT caller FROM hotline.calls',
    'SELECT body FROM hotline.case_events',
    'SELECT caller FROM hotline.alerts',
    'SELECT caller FROM hotline.callers',
    'SELECT count(*) FROM hotline.cases WHERE caller LIKE ''+86139%''',
    'SELECT * FROM hotline.pseudonym_key',
    'SELECT hotline.case_json(2)',
    'SELECT hotline.ack_alert(2, ''admin'')',
    'SELECT hotline.anonymize_closed(0)',
    'CREATE TABLE hotline.x (a int)',
    'CREATE VIEW hotline.x AS SELECT 1',
    'DROP VIEW hotline.case_history',
    'CREATE OR REPLACE VIEW hotline.open_alerts AS SELECT 1 AS id',
    'ALTER TABLE hotline.cases ADD COLUMN x int'
]) AS q;
-- views are not writable either
SELECT hltest.fails('UPDATE hotline.v_cases SET status = ''closed''', '55000');
SELECT hltest.fails('DELETE FROM hotline.open_alerts', '55000');
-- but the non-phone columns and every view are readable
SELECT hltest.eq('admin reads non-phone columns',
    (SELECT count(*) FROM hotline.cases WHERE status = 'open'), 3::bigint);
SELECT hltest.eq('admin reads clocks', (SELECT count(*) FROM hotline.clocks), 6::bigint);
SELECT hltest.eq('admin reads every view', (
    SELECT (SELECT count(*) FROM hotline.case_history) > 0 AND (SELECT count(*) FROM hotline.overdue_callbacks) = 1
       AND (SELECT count(*) FROM hotline.open_alerts) = 2 AND (SELECT count(*) FROM hotline.repeat_callers) = 2
       AND (SELECT count(*) FROM hotline.daily_figures) > 0 AND (SELECT count(*) FROM hotline.agent_daily) > 0
       AND (SELECT count(*) FROM hotline.department_daily) > 0 AND (SELECT count(*) FROM hotline.v_case_events) = 19
       AND (SELECT count(*) FROM hotline.v_callers) = 3 AND (SELECT count(*) FROM hotline.v_alerts) = 3
       AND (SELECT count(*) FROM hotline.v_calls) = 7), true);
-- figure_facts is an internal helper (sql/018): not for administrators
SELECT hltest.eq('figure_facts is internal', has_table_privilege('hotline_admin', 'hotline.figure_facts', 'SELECT'), false);
SELECT hltest.eq('v_cases.held is an interval', (SELECT held FROM hotline.v_cases ORDER BY id LIMIT 1) IS NOT NULL
    AND pg_typeof((SELECT held FROM hotline.v_cases LIMIT 1))::text = 'interval', true);
-- a filter on the masked column sees the masked value only
SELECT hltest.eq('filter on masked column', (SELECT count(*) FROM hotline.v_cases WHERE caller = '+8613900000002'), 0::bigint);
RESET ROLE;

---------------------------------------------- the daemon cannot destroy
SET ROLE hotlined;
SELECT hltest.fails(q) FROM unnest(ARRAY[
    'DROP TABLE hotline.case_events',
    'DROP SCHEMA hotline CASCADE',
    'ALTER TABLE hotline.cases DROP COLUMN summary',
    'ALTER TABLE hotline.alerts DISABLE TRIGGER ALL',
    'TRUNCATE hotline.case_events',
    'TRUNCATE hotline.alerts',
    'DELETE FROM hotline.case_events',
    'DELETE FROM hotline.cases WHERE id = 3',
    'DELETE FROM hotline.alerts',
    'DELETE FROM hotline.callers',
    'CREATE TABLE hotline.x (a int)',
    'CREATE INDEX x ON hotline.cases (summary)',
    'DROP VIEW hotline.case_history',
    'DROP FUNCTION hotline.mask_phone(text)',
    'DROP TABLE hotline.clock_runs_done',
    'DELETE FROM hotline.clock_runs_done',
    'SELECT * FROM hotline.pseudonym_key',
    'SELECT hotline.ack_alert(2, ''daemon'')',
    'SELECT hotline.anonymize_closed(0)',
    'CALL hotline.anonymize_closed_all(0)'
]) AS q;
UPDATE hotline.cases SET updated_at = updated_at WHERE id = 3;
SELECT hltest.eq('daemon reads', (SELECT caller FROM hotline.cases WHERE id = 3), '+8613700000003');
SELECT hltest.eq('daemon builds case json', (hotline.case_json(3)::json->>'caller'), '+8613700000003');
RESET ROLE;

------------------------------------------------- supervisors acknowledge
SET ROLE hotline_supervisor;
SELECT hltest.fails('UPDATE hotline.alerts SET acked_at = now(), acked_by = ''sup'' WHERE id = 2');
SELECT hltest.eq('supervisor sees masked numbers', (SELECT caller FROM hotline.open_alerts WHERE id = 2), '+86139****0002');
SELECT hltest.eq('ack_alert acknowledges', hotline.ack_alert(2, 'sup2'), true);
SELECT hltest.eq('ack_alert twice', hotline.ack_alert(2, 'sup3'), false);
SELECT hltest.eq('ack_alert unknown id', hotline.ack_alert(999, 'sup2'), false);
SELECT hltest.eq('acked alert left open_alerts', (SELECT count(*) FROM hotline.open_alerts WHERE id = 2), 0::bigint);
SELECT hltest.eq('ack recorded in history', (SELECT agent FROM hotline.case_history WHERE event_id = 'alert:2:acked'), 'sup2');
SELECT hltest.eq('ack without a name records the login', hotline.ack_alert(3, ''), true);
RESET ROLE;
SELECT hltest.eq('ack stops escalation', (SELECT escalate_at IS NULL AND acked_by = current_user FROM hotline.alerts WHERE id = 3), true);

---------------------------------------------------------------- masking
SELECT hltest.eq('mask 14', hotline.mask_phone('+8613812340001'), '+86138****0001');
SELECT hltest.eq('mask 9', hotline.mask_phone('123456789'), '1****6789');
SELECT hltest.eq('mask 8', hotline.mask_phone('12345678'), '******78');
SELECT hltest.eq('mask 3', hotline.mask_phone('110'), '*10');
SELECT hltest.eq('mask 2', hotline.mask_phone('12'), '**');
SELECT hltest.eq('mask 1', hotline.mask_phone('1'), '*');
SELECT hltest.eq('mask empty', hotline.mask_phone(''), '');
SELECT hltest.eq('mask null', hotline.mask_phone(NULL), NULL::text);
SELECT hltest.eq('mask anon', hotline.mask_phone('anon:12'), 'anon:12');
SELECT hltest.eq('visible_caller row', (SELECT hotline.visible_caller(c) FROM hotline.callers c WHERE caller = '+8613900000002'),
    '+8613900000002');   -- superuser is privileged
SET ROLE hotline_admin;
SELECT hltest.eq('visible_text two numbers', hotline.visible_text('from +8613900000002 and 13700000003, ref 123456', true),
    'from +86139****0002 and 137****0003, ref 123456');
SELECT hltest.eq('visible_text not confidential', hotline.visible_text('from +8613800000001, ref 1234567', false),
    'from +8613800000001, ref 1234567');
-- 054: B's number (confidential) copied by hand onto a text of a case that
-- is not confidential is masked, in any writing; other numbers stay whole.
SELECT hltest.eq('visible_text copied number', hotline.visible_text(
    'neighbour at 139 0000 0002, also +86 139-0000-0002 and 008613900000002; A is 13800000001, due 2026-12-05', false),
    'neighbour at 139****0002, also +86139****0002 and 0086139****0002; A is 13800000001, due 2026-12-05');
SELECT hltest.eq('visible_text no number', hotline.visible_text('due 2026-12-05T10:00Z, ref 123456', false),
    'due 2026-12-05T10:00Z, ref 123456');
SELECT hltest.eq('visible_body copied number', hotline.visible_body(
    '{"caller":"+8613800000001","call_id":"13900000002","note":"call 13900000002","n":13900000002,"x":[{"y":"139.0000.0002"}]}', false),
    '{"caller":"+8613800000001","call_id":"13900000002","note":"call 139****0002","n":"139****0002","x":[{"y":"139****0002"}]}'::jsonb);
SELECT hltest.eq('notify_known_masked', hotline.notify_known_masked('{"id":1,"detail":"returned: 13900000002 unreachable"}'),
    '{"id": 1, "detail": "returned: 139****0002 unreachable"}');
SELECT hltest.eq('visible_body', hotline.visible_body('{"caller":"+8613900000002","n":1}', true),
    '{"caller":"+86139****0002","n":1}'::jsonb);
SELECT hltest.eq('visible_body caller not a string', hotline.visible_body('{"caller":5}', true), '{"caller":5}'::jsonb);
RESET ROLE;

-------------------------------------------------------------- retention
SELECT hltest.fails('SELECT hotline.anonymize_closed(-1)', 'P0001');
-- case 1 closed on 2024-03-10; cases 2..4 are open and must not change.
SELECT hltest.eq('nothing closed 10000 days ago', hotline.anonymize_closed(10000), 0);
SELECT hltest.eq('anonymize case 1', hotline.anonymize_closed(30), 1);
SELECT hltest.eq('idempotent', hotline.anonymize_closed(30), 0);
SELECT hltest.eq('case 1 anonymized', hltest.rows($$SELECT caller, summary, resolution, status, opened_at FROM hotline.cases WHERE id = 1$$),
    'anon:1|-|-|closed|2024-03-10T09:00:00+00:00');
SELECT hltest.eq('calls anonymized', hltest.rows($$SELECT call_id, caller, agent, outcome FROM hotline.calls WHERE case_id = 1$$),
    'c1|anon:1|alice|followup');
SELECT hltest.eq('no number or free text left in case 1 events', (
    SELECT count(*) FROM hotline.case_events WHERE case_id = 1
     AND (body::text LIKE '%8613800000001%' OR coalesce(description, '') LIKE '%8613800000001%'
          OR body::text LIKE '%pension%' OR description LIKE '%pension%' OR body::text LIKE '%March%'
          OR description LIKE '%March%')), 0::bigint);
SELECT hltest.eq('event ids and figures kept', hltest.rows($$
    SELECT event_id, type, body->>'caller', body->>'score', body->>'result' FROM hotline.case_events WHERE case_id = 1 ORDER BY seq$$),
    'e1|call.offered|anon:1|-|-;e2|call.answered|-|-|-;e3|call.ended|-|-|-;e4|callback.attempt|-|-|no_answer;'
    'e5|callback.attempt|-|-|reached;e6|case.resolve|-|-|-;e7|survey.result|-|5|-;e8|case.close|-|-|-');
SELECT hltest.eq('descriptions rebuilt', (SELECT description FROM hotline.case_events WHERE event_id = 'e3'), 'call c1 ended: followup');
SELECT hltest.eq('callers row of A gone', (SELECT count(*) FROM hotline.callers WHERE caller = '+8613800000001'), 0::bigint);
SELECT hltest.eq('open cases untouched', (SELECT count(*) FROM hotline.cases WHERE caller LIKE 'anon:%'), 1::bigint);
SELECT hltest.eq('figures unchanged after retention', hltest.rows($$
    SELECT calls_offered, calls_answered, callbacks_in_time, cases_resolved, surveys, mean_score
    FROM hotline.daily_figures WHERE day = '2024-03-10'$$), '3|2|1|1|1|5.00');

------------------------------------------------------------ work orders (010)
-- Written as the daemon writes them (role hotlined), read as an administrator.
SET ROLE hotlined;
INSERT INTO hotline.cases (id, caller, status, opened_at, department)
    VALUES (20, '+8613700000003', 'open', '2024-05-06 01:00+00', 'water'),
           (21, '+8613700000003', 'merged', '2024-05-06 01:05+00', NULL);
UPDATE hotline.cases SET merged_into = 20 WHERE id = 21;
INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, dispatched_at, signed_at,
        replied_at, result, due_at, sign_due_at, extensions, sign_state, sign_seq, reply_state, reply_seq)
VALUES ('o-1', 20, 1, 'roads', 'returned', '2024-05-06 02:00+00', NULL, NULL, NULL,
        '2024-05-09 09:00+00', '2024-05-06 04:00+00', 0, 'stopped', 1, 'stopped', 1),
       ('o-2', 20, 2, 'water', 'replied', '2024-05-06 03:00+00', '2024-05-06 03:30+00',
        '2024-05-08 08:00+00', 'resolved', '2024-05-09 09:00+00', '2024-05-06 05:00+00', 1, 'met', 1, 'met', 2),
       ('o-3', 20, 3, 'gas', 'dispatched', now() - interval '3 hours', NULL, NULL, NULL,
        now() - interval '1 hour', now() - interval '2 hours', 0, 'breached', 1, 'breached', 1),
       ('o-4', 20, 4, 'gas', 'signed', now() - interval '1 hour', now() - interval '50 minutes', NULL, NULL,
        now() + interval '1 day', now() + interval '1 hour', 0, 'met', 1, 'pending', 1);
INSERT INTO hotline.alerts (kind, case_id, level, raised_at, due_at, dedupe_key, order_id, department)
    VALUES ('order_reply_overdue', 20, 2, now() - interval '1 hour', now() - interval '1 hour', '20#3:reply:1:overdue',
            'o-3', 'gas');
INSERT INTO hotline.case_events (event_id, case_id, type, at, description, body) VALUES
    ('oe1', 20, 'order.dispatch', '2024-05-06 02:00+00', 'order o-1 dispatched to roads (order 1 of case 20)',
     '{"type":"order.dispatch"}'),
    ('oe2', 20, 'survey.result', '2024-05-08 09:00+00', 'survey on case 20: score 4 of 5', '{"score":4}');
-- what the daemon's batch does with a survey.result (033: store_write.c)
SELECT hotline.record_surveys(jsonb_build_array(jsonb_build_object('case_id', 20,
    'at', hotline.ms('2024-05-08 09:00+00'), 'score', 4, 'n', 1)));
RESET ROLE;

SET ROLE hotline_admin;
SELECT hltest.eq('v_orders', hltest.rows($$SELECT order_id, department, status, result FROM hotline.v_orders
    WHERE case_id = 20 ORDER BY order_no$$), 'o-1|roads|returned|-;o-2|water|replied|resolved;o-3|gas|dispatched|-;o-4|gas|signed|-');
SELECT hltest.eq('overdue_orders by department', hltest.rows($$SELECT department, order_id, overdue, urge_level
    FROM hotline.overdue_orders$$), 'gas|o-3|reply|2');
-- 051: a deadline is passed once its moment has passed, as the daemon's
-- clocks and the figures (met_at <= due_at is in time) count it: an order
-- due at this very instant (now() is the transaction's) is not overdue
-- yet, one due a microsecond ago is.
BEGIN;
SET LOCAL ROLE hotlined;
INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, dispatched_at, due_at, sign_due_at,
        extensions, sign_state, sign_seq, reply_state, reply_seq)
VALUES ('o-5', 20, 5, 'gas', 'dispatched', now() - interval '1 hour', now(), now() + interval '1 hour',
        0, 'pending', 1, 'pending', 1),
       ('o-6', 20, 6, 'gas', 'dispatched', now() - interval '1 hour', now() + interval '1 day', now(),
        0, 'pending', 1, 'pending', 1),
       ('o-7', 20, 7, 'gas', 'dispatched', now() - interval '1 hour', now() - interval '1 microsecond',
        now() + interval '1 hour', 0, 'pending', 1, 'pending', 1);
SET LOCAL ROLE hotline_admin;
SELECT hltest.eq('overdue_orders: due this instant is not overdue yet', hltest.rows($$SELECT order_id, overdue
    FROM hotline.overdue_orders WHERE order_id IN ('o-5', 'o-6', 'o-7')$$), 'o-7|reply');
ROLLBACK;
SELECT hltest.eq('department_monthly', hltest.rows($$SELECT month, department, received, signed_in_time,
    replied_in_time, returned, extended, resolved, surveys, satisfied_share
    FROM hotline.department_monthly WHERE month = '2024-05-01' ORDER BY department$$),
    '2024-05-01|roads|1|0|0|1|0|0|0|-;2024-05-01|water|1|1|1|0|1|1|1|1.000');
SELECT hltest.eq('order history line', (SELECT description FROM hotline.case_history WHERE event_id = 'oe1'),
    'order o-1 dispatched to roads (order 1 of case 20)');
SELECT hltest.eq('merged_into visible', (SELECT merged_into FROM hotline.cases WHERE id = 21), 20::bigint);
SELECT hltest.eq('alert carries the order', (SELECT order_id || ' ' || department FROM hotline.v_alerts
    WHERE dedupe_key = '20#3:reply:1:overdue'), 'o-3 gas');
SELECT hltest.fails($$INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, dispatched_at,
    due_at, reply_state) VALUES ('x', 20, 9, 'x', 'dispatched', now(), now(), 'pending')$$);
RESET ROLE;
SELECT hltest.eq('alert_json has order_id and department', (
    SELECT (hotline.alert_json(a)::json->>'order_id') || ' ' || (hotline.alert_json(a)::json->>'department')
    FROM hotline.alerts a WHERE dedupe_key = '20#3:reply:1:overdue'), 'o-3 gas');
SELECT hltest.eq('case_json lists orders', (SELECT json_array_length(hotline.case_json(20)::json->'orders')), 4);
-- out of the way of the retention checks below
DELETE FROM hotline.alerts WHERE case_id = 20;
DELETE FROM hotline.case_events WHERE case_id = 20;
DELETE FROM hotline.orders WHERE case_id = 20;
DELETE FROM hotline.cases WHERE id IN (21, 20);

-- Close case 2 (B) in the past: its alerts, including the repeat_caller
-- dedupe key that carries the number, lose the number; B's callers row stays
-- because case 4 still uses it.
UPDATE hotline.cases SET status = 'closed', closed_at = '2024-03-11 00:00+00' WHERE id = 2;
SELECT hltest.eq('anonymize case 2', hotline.anonymize_closed(30, 1), 1);
SELECT hltest.eq('alerts anonymized', hltest.rows($$SELECT id, caller, detail, dedupe_key FROM hotline.alerts WHERE case_id = 2 ORDER BY id$$),
    '1|anon:2|-|2:callback:1:overdue;2|anon:2|-|repeat:anon:2:e11');
SELECT hltest.eq('B still known (case 4)', (SELECT confidential FROM hotline.callers WHERE caller = '+8613900000002'), true);
SELECT hltest.eq('no full number anywhere for case 2', (
    SELECT count(*) FROM hotline.case_history WHERE case_id = 2 AND description LIKE '%8613900000002%'), 0::bigint);
-- batches: close 3 and 4 long ago, anonymize one per call
UPDATE hotline.cases SET status = 'closed', closed_at = now() - interval '40 days' WHERE id IN (3, 4);
SELECT hltest.eq('batch of 1', hotline.anonymize_closed(30, 1), 1);
SELECT hltest.eq('batch of 1 again', hotline.anonymize_closed(30, 1), 1);
SELECT hltest.eq('done', hotline.anonymize_closed(30, 1), 0);
SELECT hltest.eq('no numbers left', (SELECT count(*) FROM hotline.calls WHERE caller NOT LIKE 'anon:%'), 0::bigint);
SELECT hltest.eq('callers emptied', (SELECT count(*) FROM hotline.callers), 0::bigint);
SELECT hltest.eq('repeat_callers now groups by token', hltest.rows($$
    SELECT caller, calls FROM hotline.repeat_callers_between('-infinity', 'infinity', 2) ORDER BY caller$$),
    'anon:2|2;anon:3|2;anon:4|2');

------------------------------------------- issue 16: no confidential digits
-- A confidential caller D whose number is quoted in every free-text place,
-- formatted every way a person writes it.  Then, as hotline_admin and as
-- hotline_supervisor, every readable column of every relation in the schema
-- (tables, views, and the table functions they may call) is scanned for D's
-- digits, ignoring separators: none may show them.
SET client_min_messages = warning;
-- Every readable column of every relation (and set-returning function without
-- arguments) whose value, digits only, contains `digits`: 'relation.column' list.
CREATE FUNCTION hltest.leaks(digits text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE r record; n bigint; out text := '';
BEGIN
    FOR r IN
        SELECT format('%I.%I', ns.nspname, c.relname) AS rel, a.attname AS col
        FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE ns.nspname = 'hotline' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
          AND has_column_privilege(current_user, c.oid, a.attnum, 'SELECT')
        ORDER BY 1, a.attnum
    LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE regexp_replace(%I::text, ''[^0-9]'', '''', ''g'') LIKE %L',
                       r.rel, r.col, '%' || digits || '%') INTO n;
        IF n > 0 THEN
            out := out || r.rel || '.' || r.col || ' ';
        END IF;
    END LOOP;
    FOR r IN
        SELECT p.oid::regprocedure AS fn, p.proname
        FROM pg_proc p JOIN pg_namespace ns ON ns.oid = p.pronamespace
        WHERE ns.nspname = 'hotline' AND p.proretset AND p.pronargs = 0
          AND has_function_privilege(current_user, p.oid, 'EXECUTE')
    LOOP
        EXECUTE format('SELECT count(*) FROM hotline.%I() x WHERE regexp_replace(x::text, ''[^0-9]'', '''', ''g'') LIKE %L',
                       r.proname, '%' || digits || '%') INTO n;
        IF n > 0 THEN
            out := out || r.fn::text || ' ';
        END IF;
    END LOOP;
    SELECT count(*) INTO n FROM hotline.repeat_callers_between('-infinity', 'infinity', 1) x
    WHERE regexp_replace(x::text, '[^0-9]', '', 'g') LIKE '%' || digits || '%';
    IF n > 0 THEN
        out := out || 'repeat_callers_between ';
    END IF;
    RETURN out;
END $$;
GRANT EXECUTE ON FUNCTION hltest.leaks(text) TO PUBLIC;

SET ROLE hotlined;
INSERT INTO hotline.callers (caller, confidential) VALUES ('+8613600000009', true);
INSERT INTO hotline.cases (id, caller, status, opened_at, summary, resolution, queue, category, priority)
VALUES (30, '+8613600000009', 'open', now() - interval '1 hour', 'call back on 136-0000-0009',
        'told +86 136 0000 0009', 'q 13600000009', 'cat 136 0000 0009', 'prio (136)0000-0009');
INSERT INTO hotline.calls (call_id, case_id, caller, state, offered_at, queue)
VALUES ('c30', 30, '+8613600000009', 'offered', now() - interval '1 hour', '(136) 0000.0009'),
       ('c31', 30, '+8613600000009', 'offered', now() - interval '30 minutes', NULL);
INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms)
VALUES (30, 'update', 'pending', 1, now() - interval '1 hour', now() + interval '1 day', 86400000);
INSERT INTO hotline.case_events (event_id, case_id, type, at, description, body) VALUES
 ('e30', 30, 'call.offered', now() - interval '1 hour', 'call c30 offered from +8613600000009; due 2026-11-20T09:31Z',
  '{"type":"call.offered","id":"e30","call_id":"c30","caller":"+861360000----0009","note":"ring 136 0000 0009",
    "extra":{"deep":["13600000009", 13600000009, {"x":"0086 136-0000-0009"}]}}'),
 ('e31', 30, 'case.update', now() - interval '50 minutes', NULL,
  '{"type":"case.update","id":"e31","case_id":30,"note":"his other phone: 136.0000.0009"}'),
 ('e32', 30, 'case.hold', now() - interval '40 minutes', NULL,
  '{"type":"case.hold","id":"e32","case_id":30,"reason":"call 13600000009 back"}'),
 ('e33', NULL, 'call.offered', now() - interval '30 minutes', NULL,
  '{"type":"call.offered","id":"e33","call_id":"c31","caller":"+8613600000009"}');
INSERT INTO hotline.alerts (id, kind, case_id, caller, level, raised_at, detail, dedupe_key)
VALUES (30, 'repeat_caller', 30, '+8613600000009', 1, now() - interval '30 minutes',
        '2 calls, last from 136 0000 0009', 'repeat:+8613600000009:e33');
-- 044: a work order (overdue, so overdue_orders lists it) with D in every
-- free text, the signer's event, the case's hotspot row and an alerted key.
INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, category, area,
        dispatched_at, signed_at, signed_by, returned_at, return_reason, note, due_at, sign_due_at,
        extend_requested_at, extend_until, extend_reason, sign_state, sign_seq, reply_state, reply_seq)
VALUES ('o-30', 30, 1, 'water', 'extension_requested', 'water 136-0000-0009', 'area (136) 0000 0009',
        now() - interval '3 hours', now() - interval '170 minutes', 'clerk +86 136 0000 0009',
        NULL, 'ask 136.0000.0009', 'told 13600000009', now() - interval '1 hour', now() - interval '2 hours',
        now() - interval '90 minutes', now() + interval '1 day', 'caller +8613600000009 away',
        'met', 1, 'breached', 1);
INSERT INTO hotline.case_events (event_id, case_id, type, at, description, body) VALUES
 ('e34', 30, 'order.sign', now() - interval '170 minutes', 'order o-30 signed by clerk +86 136 0000 0009; sign met',
  '{"type":"order.sign","id":"e34","order_id":"o-30","by":"clerk +86 136 0000 0009"}');
INSERT INTO hotline.hotspot_cases (case_id, category, area, department, at)
VALUES (30, 'water 136-0000-0009', 'area (136) 0000 0009', 'water', now() - interval '3 hours');
INSERT INTO hotline.hotspots (key, alerted_at)
VALUES ('["water 136-0000-0009","area (136) 0000 0009"]', now() - interval '3 hours');
RESET ROLE;
SET client_min_messages = notice;

SELECT hltest.eq('superuser sees D (the scan finds what is there)',
    hltest.leaks('13600000009') LIKE '%hotline.v_alerts.dedupe_key%', true);
SELECT hltest.eq('superuser sees D in the orders and hotspots (the scan reaches them)', (
    SELECT array_agg(x ORDER BY x) FROM regexp_split_to_table(hltest.leaks('13600000009'), ' ') x
    WHERE x ~ '^hotline\.(orders|v_orders|overdue_orders|hotspot_cases|v_hotspot_cases|hotspots|v_hotspots)\.'),
    ARRAY['hotline.hotspot_cases.area', 'hotline.hotspot_cases.category', 'hotline.hotspots.key',
          'hotline.orders.area', 'hotline.orders.category', 'hotline.orders.extend_reason',
          'hotline.orders.note', 'hotline.orders.return_reason', 'hotline.orders.signed_by',
          'hotline.overdue_orders.area', 'hotline.overdue_orders.category',
          'hotline.v_hotspot_cases.area', 'hotline.v_hotspot_cases.category', 'hotline.v_hotspots.key',
          'hotline.v_orders.area', 'hotline.v_orders.category', 'hotline.v_orders.extend_reason',
          'hotline.v_orders.note', 'hotline.v_orders.return_reason', 'hotline.v_orders.signed_by']);
SELECT hltest.eq('wallboard: no digits of D', regexp_replace(hotline.http_board_json(), '[^0-9]', '', 'g') LIKE '%13600000009%', false);
SELECT hltest.eq('wallboard: the overdue order''s texts masked', (
    SELECT o->>'category' || '|' || (o->>'area') FROM json_array_elements(hotline.http_board_json()::json->'overdue_orders') d,
        json_array_elements(d->'orders') o WHERE o->>'order_id' = 'o-30'), 'water 136****0009|area (136****0009');
SET ROLE hotline_admin;
SELECT hltest.eq('admin: no column of any relation shows D''s digits', hltest.leaks('13600000009'), '');
SELECT hltest.eq('admin: v_alerts dedupe key masked',
    (SELECT dedupe_key FROM hotline.v_alerts WHERE id = 30), 'repeat:+86136****0009:e33');
SELECT hltest.eq('admin: formatted caller in the body masked by digits',
    (SELECT body->>'caller' FROM hotline.v_case_events WHERE event_id = 'e30'), '+86136****0009');
SELECT hltest.eq('admin: note masked, rest of the text kept',
    (SELECT body->>'note' FROM hotline.v_case_events WHERE event_id = 'e31'), 'his other phone: 136****0009');
SELECT hltest.eq('admin: descriptions keep dates',
    (SELECT description FROM hotline.v_case_events WHERE event_id = 'e30'),
    'call c30 offered from +86136****0009; due 2026-11-20T09:31Z');
SELECT hltest.eq('admin: case free text masked', hltest.rows($$
    SELECT summary, resolution, queue FROM hotline.v_cases WHERE id = 30$$),
    'call back on 136****0009|told +86136****0009|q 136****0009');
SELECT hltest.fails('SELECT dedupe_key FROM hotline.alerts');
SELECT hltest.fails('SELECT summary FROM hotline.cases');
SELECT hltest.fails('SELECT queue FROM hotline.calls');
SELECT hltest.eq('admin: order free text masked', hltest.rows($$
    SELECT category, area, signed_by, return_reason, extend_reason, note FROM hotline.v_orders WHERE order_id = 'o-30'$$),
    'water 136****0009|area (136****0009|clerk +86136****0009|ask 136****0009|caller +86136****0009 away|told 136****0009');
SELECT hltest.eq('admin: overdue order masked', hltest.rows($$
    SELECT order_id, category, area, overdue FROM hotline.overdue_orders WHERE case_id = 30$$),
    'o-30|water 136****0009|area (136****0009|reply');
SELECT hltest.eq('admin: hotspot row and key masked', hltest.rows($$
    SELECT h.category, h.area, k.key FROM hotline.v_hotspot_cases h, hotline.v_hotspots k WHERE h.case_id = 30$$),
    'water 136****0009|area (136****0009|["water 136****0009","area (136****0009"]');
SELECT hltest.eq('admin: the signer in the history masked', hltest.rows($$
    SELECT agent, description FROM hotline.case_history WHERE event_id = 'e34'$$),
    'clerk +86136****0009|order o-30 signed by clerk +86136****0009; sign met');
SELECT hltest.eq('admin: the order''s other columns still readable',
    hltest.rows($$SELECT order_id, status, reply_state FROM hotline.orders WHERE case_id = 30$$),
    'o-30|extension_requested|breached');
SELECT hltest.fails('SELECT * FROM hotline.orders');
SELECT hltest.fails('SELECT note FROM hotline.orders');
SELECT hltest.fails('SELECT signed_by FROM hotline.orders');
SELECT hltest.fails('SELECT category FROM hotline.hotspot_cases');
SELECT hltest.fails('SELECT key FROM hotline.hotspots');
SELECT hltest.fails('SELECT hotline.order_json(o) FROM hotline.orders o');
RESET ROLE;
SET ROLE hotline_supervisor;
SELECT hltest.eq('supervisor: no column of any relation shows D''s digits', hltest.leaks('13600000009'), '');
RESET ROLE;
SET ROLE hotline_privileged;
SELECT hltest.eq('privileged: dedupe key whole',
    (SELECT dedupe_key FROM hotline.v_alerts WHERE id = 30), 'repeat:+8613600000009:e33');
SELECT hltest.eq('privileged: order texts whole', hltest.rows($$
    SELECT v.note, v.signed_by, o.note, k.key FROM hotline.v_orders v JOIN hotline.orders o USING (order_id),
        hotline.v_hotspots k WHERE order_id = 'o-30'$$),
    'told 13600000009|clerk +86 136 0000 0009|told 13600000009|["water 136-0000-0009","area (136) 0000 0009"]');
RESET ROLE;


-- 050: a confidential caller's case merged into an ordinary case.  E
-- (+8613500000008) is confidential; case 41 (E) was merged into case 40,
-- whose caller (+8613800000040) is not, and case 42 (F, +8613400000007,
-- confidential) into 41 before 41 was merged (a chain 047 keeps: 41 had been
-- resolved).  Agents then wrote E's and F's numbers on case 40: its summary,
-- resolution, an event's body and description, a work order's note.
SET client_min_messages = warning;
SET ROLE hotlined;
INSERT INTO hotline.callers (caller, confidential) VALUES ('+8613500000008', true), ('+8613400000007', true),
    ('+8613800000040', false);
INSERT INTO hotline.cases (id, caller, status, opened_at, summary, resolution, queue)
VALUES (40, '+8613800000040', 'resolved', now() - interval '2 hours', 'also for 135-0000-0008 and 134 0000 0007',
        'called back +86 135 0000 0008', 'q 135 0000 0008');
-- owed a call back, overdue: the wallboard lists case 40 with its queue
INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms)
VALUES (40, 'callback', 'pending', 1, now() - interval '2 hours', now() - interval '1 hour', 3600000);
INSERT INTO hotline.cases (id, caller, status, opened_at, resolved_at, merged_into)
VALUES (41, '+8613500000008', 'merged', now() - interval '2 hours', now() - interval '90 minutes', 40),
       (42, '+8613400000007', 'merged', now() - interval '2 hours', NULL, 41);
INSERT INTO hotline.case_events (event_id, case_id, type, at, description, body) VALUES
 ('e40', 40, 'case.update', now() - interval '80 minutes', 'note: ring 13500000008',
  '{"type":"case.update","id":"e40","case_id":40,"note":"his other phone: 135.0000.0008","summary":"F is 13400000007"}'),
 ('e41', 40, 'call.ended', now() - interval '70 minutes', NULL,
  '{"type":"call.ended","id":"e41","call_id":"c40","summary":"E at (135) 0000 0008"}'),
 ('e42', 40, 'case.resolve', now() - interval '60 minutes', NULL,
  '{"type":"case.resolve","id":"e42","case_id":40,"resolution":"called back +8613500000008"}');
INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, category, area, note,
        dispatched_at, due_at, sign_due_at, sign_state, sign_seq, reply_state, reply_seq)
VALUES ('o-40', 40, 1, 'sewer', 'dispatched', 'sewer', 'east', 'E wants a call on 135 0000 0008',
        now() - interval '1 hour', now() + interval '1 day', now() + interval '1 hour', 'pending', 1, 'pending', 1);
-- an alert's detail quoting free text of case 40 (buck_passing quotes a return reason)
INSERT INTO hotline.alerts (id, kind, case_id, caller, level, raised_at, detail, dedupe_key)
VALUES (40, 'buck_passing', 40, '+8613800000040', 1, now() - interval '30 minutes',
        'case 40 dispatched back to roads, which returned order o-40 (E on 135 0000 0008)', 'buck_passing:40#1');
RESET ROLE;
SET client_min_messages = notice;
SELECT hltest.eq('merged: superuser sees E on case 40 (the scan finds what is there)',
    hltest.leaks('13500000008') LIKE '%hotline.v_cases.summary%', true);
SET ROLE hotline_admin;
SELECT hltest.eq('merged, admin: no column of any relation shows E''s digits', hltest.leaks('13500000008'), '');
SELECT hltest.eq('merged, admin: no column of any relation shows F''s digits (a chain)', hltest.leaks('13400000007'), '');
SELECT hltest.eq('merged, admin: the survivor''s texts masked, its own caller whole', hltest.rows($$
    SELECT caller, confidential, summary, resolution FROM hotline.v_cases WHERE id = 40$$),
    '+8613800000040|false|also for 135****0008 and 134****0007|called back +86135****0008');
SELECT hltest.eq('merged, admin: bodies and descriptions masked', hltest.rows($$
    SELECT event_id, description, coalesce(body->>'note', body->>'summary', body->>'resolution')
    FROM hotline.v_case_events WHERE case_id = 40 ORDER BY event_id$$),
    'e40|note: ring 135****0008|his other phone: 135****0008;e41|-|E at (135****0008;e42|-|called back +86135****0008');
SELECT hltest.eq('merged, admin: history masked', (SELECT description FROM hotline.case_history WHERE event_id = 'e40'),
    'note: ring 135****0008');
SELECT hltest.eq('merged, admin: the order''s note masked', (SELECT note FROM hotline.v_orders WHERE order_id = 'o-40'),
    'E wants a call on 135****0008');
RESET ROLE;
SET ROLE hotline_supervisor;
SELECT hltest.eq('merged, supervisor: no column of any relation shows E''s digits', hltest.leaks('13500000008'), '');
SELECT hltest.eq('merged, supervisor: no column of any relation shows F''s digits', hltest.leaks('13400000007'), '');
RESET ROLE;
SET ROLE hotline_privileged;
SELECT hltest.eq('merged, privileged: texts whole', hltest.rows($$
    SELECT c.summary, o.note FROM hotline.v_cases c JOIN hotline.v_orders o ON o.case_id = c.id WHERE c.id = 40$$),
    'also for 135-0000-0008 and 134 0000 0007|E wants a call on 135 0000 0008');
RESET ROLE;
SELECT hltest.eq('merged: /v1/cases/40 (and a viewer''s case.get) shows no digits of E or F', (
    SELECT regexp_replace(hotline.http_case_json(40), '[^0-9]', '', 'g') ~ '13500000008|13400000007'), false);
SELECT hltest.eq('merged: /v1/cases/40 keeps the survivor''s own caller and says nothing of confidentiality', (
    SELECT (j->>'caller') || '|' || coalesce(j->>'confidential', '-') || '|' || (j->>'summary')
    FROM (SELECT hotline.http_case_json(40)::jsonb AS j) x),
    '+8613800000040|-|also for 135****0008 and 134****0007');
SELECT hltest.eq('merged: a confidential caller''s own case as before', (
    SELECT hotline.http_case_json(42)::jsonb ->> 'confidential'), 'true');
SELECT hltest.eq('merged: the rule', hltest.rows($$SELECT case_id, confidential FROM hotline.case_confidentiality
    WHERE case_id IN (40, 41, 42, 2) ORDER BY case_id$$), '2|false;40|true;41|true;42|true');
SELECT hltest.eq('merged: wallboard shows no digits of E', (
    SELECT regexp_replace(hotline.http_board_json(), '[^0-9]', '', 'g') LIKE '%13500000008%'), false);
SELECT hltest.eq('merged: wallboard masks the queue, keeps the caller', (
    SELECT (o->>'caller') || '|' || (o->>'queue') || '|' || coalesce(o->>'confidential', '-')
    FROM json_array_elements(hotline.http_board_json()::json->'overdue_callbacks') o WHERE (o->>'case_id')::bigint = 40),
    '+8613800000040|q 135****0008|-');
SET ROLE hotlined;
SELECT hltest.eq('merged: the alert''s payload (pushes, SSE, webhooks, replay) masks the detail, keeps the caller', (
    SELECT (p ->> 'caller') || '|' || (p ->> 'detail') || '|' || coalesce(p ->> 'confidential', '-')
    FROM (SELECT hotline.notify_payload(hotline.alert_json(a), a.caller)::jsonb AS p
          FROM hotline.alerts a WHERE id = 40) x),
    '+8613800000040|case 40 dispatched back to roads, which returned order o-40 (E on 135****0008)|-');
RESET ROLE;
SELECT hltest.eq('merged: an ordinary case''s alert payload unchanged', (
    SELECT hotline.notify_payload(j, NULL) = j FROM (SELECT '{"id":1,"case_id":2,"detail":"ring 13700000003"}'::text AS j) x),
    true);
-- 054: E's number copied into the detail of an unrelated case's alert
SELECT hltest.eq('copied: an ordinary case''s alert detail masks a confidential number', (
    SELECT hotline.notify_payload('{"id":1,"case_id":2,"detail":"ring 13500000008"}', NULL)::jsonb ->> 'detail'),
    'ring 135****0008');
-- out of the way of the checks below
DELETE FROM hotline.alerts WHERE case_id = 40;
DELETE FROM hotline.clocks WHERE case_id = 40;
DELETE FROM hotline.orders WHERE case_id = 40;
DELETE FROM hotline.case_events WHERE case_id = 40;
DELETE FROM hotline.cases WHERE id IN (42, 41, 40);
DELETE FROM hotline.callers WHERE caller IN ('+8613500000008', '+8613400000007', '+8613800000040');

-- Functions that run with their owner's rights bypass the column privileges:
-- the only one administrators or supervisors may call is ack_alert (which
-- returns a boolean).  Every other function they may execute runs as them.
SELECT hltest.eq('SECURITY DEFINER functions for admin/supervisor', (
    SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p
    WHERE p.pronamespace = 'hotline'::regnamespace AND p.prosecdef
      AND (has_function_privilege('hotline_admin', p.oid, 'EXECUTE')
           OR has_function_privilege('hotline_supervisor', p.oid, 'EXECUTE'))),
    -- figure_cells_recount (023): the figure views' fallback; only the figures' cells
    -- mask_known_json, mask_known_numbers (054): the text given back, with the
    -- runs masked that share a confidential number's visible digits (what
    -- v_cases already shows; tested below)
    'ack_alert,figure_cells_recount,mask_known_json,mask_known_numbers');
-- 054: the masking of copied numbers is no oracle: of the 10,000 numbers
-- that "+86136****0006" (a confidential caller) can be, all come back masked
INSERT INTO hotline.callers (caller, confidential) VALUES ('+8613600000006', true);
SET ROLE hotline_admin;
SELECT hltest.eq('copied numbers: no oracle', (
    SELECT count(*) FROM generate_series(0, 9999) i
    WHERE hotline.visible_text('+86136' || lpad(i::text, 4, '0') || '0006', false) <> '+86136****0006'), 0::bigint);
SELECT hltest.eq('copied numbers: another tail stays', hotline.visible_text('+8613600000007', false), '+8613600000007');
-- 067: a newline, a tab or a vertical tab inside a run is written as an
-- escape in the JSON text, which the cheap checks read (may_quote_number_json,
-- and 071's quotes_known_number); the walk reads the string, where they
-- separate digits of one run.  Still masked (before 067 it was not).
SELECT hltest.eq('copied numbers: a run with escaped separators is still masked', hotline.visible_body(
    jsonb_build_object('note', 'ring 136' || chr(10) || '0000' || chr(9) || '0006 or 136' || chr(11) || '0000 0006'), false),
    '{"note":"ring 136****0006 or 136****0006"}'::jsonb);
SELECT hltest.eq('copied numbers: an id made of the number is left as sent, a copy beside it masked', hotline.visible_body(
    '{"call_id":"13600000006","note":"re 13600000006"}', false), '{"call_id":"13600000006","note":"re 136****0006"}'::jsonb);
RESET ROLE;
-- 071: the shortcut never lets through what the walk masks.  3,000 random
-- bodies, each a confidential number (two of them) written with random
-- separators (escaped ones, quotes, backslashes, non-ASCII spaces, letters)
-- between random digits and separators: wherever the walk masks something,
-- quotes_known_number said yes.  Many of them (checked) are masked.
INSERT INTO hotline.callers (caller, confidential) VALUES ('+12025550143', true);
SELECT setseed(0.071);
CREATE TEMP TABLE t071 AS
SELECT i, jsonb_build_object('note', noise1 || num || noise2, 'n', 1) AS b
FROM (SELECT i,
             (SELECT string_agg(CASE WHEN random() < 0.5 THEN floor(random() * 10)::text
                                     ELSE (ARRAY[' ', '-', '.', '(', ')', chr(10), chr(9), chr(11), '+', 'x', '"', '\', '/', chr(12288)])[1 + floor(random() * 14)::int] END, '')
              FROM generate_series(1, 12 + i % 3) k) AS noise1,
             (SELECT string_agg(d || CASE WHEN random() < 0.4
                                          THEN (ARRAY[' ', '-', '.', '(', ')', chr(10), chr(9), chr(11), '"', '\', chr(12288), 'x'])[1 + floor(random() * 12)::int]
                                          ELSE '' END, '')
              FROM regexp_split_to_table(CASE WHEN i % 2 = 0 THEN '8613600000006' ELSE '12025550143' END, '') d
              WHERE i > 0) AS num,
             (SELECT string_agg(CASE WHEN random() < 0.5 THEN floor(random() * 10)::text ELSE ' ' END, '')
              FROM generate_series(1, 6 + i % 5) k) AS noise2
      FROM generate_series(1, 3000) i) x;
SELECT hltest.eq('copied numbers: the shortcut lets nothing through that the walk masks', (
    SELECT count(*) FROM t071
    WHERE hotline.mask_known_json_walk(b) <> b AND NOT hotline.quotes_known_number(b::text)), 0::bigint);
SELECT hltest.eq('copied numbers: many of the random bodies hold a masked copy', (
    SELECT count(*) > 500 FROM t071 WHERE hotline.mask_known_json(b) <> b), true);   -- 913 of 3,000 here
DROP TABLE t071;
DELETE FROM hotline.callers WHERE caller = '+12025550143';
-- 067, 071: the HTTP case (and a viewer's case.get): a copy masked, and a
-- case that quotes no confidential number given back as case_json wrote it
INSERT INTO hotline.case_events (event_id, case_id, type, at, description, body)
VALUES ('e067', 2, 'case.update', now() - interval '1 minute', 'note: 136 0000 0006',
        '{"type":"case.update","id":"e067","case_id":2,"note":"136 0000 0006"}');
SELECT hltest.eq('copied numbers: /v1/cases masks a copy in an ordinary case', (
    SELECT (regexp_replace(hotline.http_case_json(2), '[^0-9]', '', 'g') LIKE '%13600000006%')::text
           || '|' || (hotline.http_case_json(2) LIKE '%note: 136****0006%')::text), 'false|true');
DELETE FROM hotline.case_events WHERE event_id = 'e067';
INSERT INTO hotline.case_events (event_id, case_id, type, at, description, body)
VALUES ('e067b', 2, 'case.update', now() - interval '1 minute', 'note: 136' || chr(10) || '0000 0006',
        '{"type":"case.update","id":"e067b","case_id":2}');
SELECT hltest.eq('copied numbers: /v1/cases masks a copy behind a line break', (
    SELECT (regexp_replace(hotline.http_case_json(2), '[^0-9]', '', 'g') LIKE '%13600000006%')::text
           || '|' || (hotline.http_case_json(2)::jsonb::text LIKE '%note: 136****0006%')::text), 'false|true');
DELETE FROM hotline.case_events WHERE event_id = 'e067b';
SELECT hltest.eq('copied numbers: /v1/cases of a case quoting none is case_json''s text',
    hotline.http_case_json(2) = hotline.case_json(2), true);
DELETE FROM hotline.callers WHERE caller = '+8613600000006';

-- NOTIFY payloads (hotline_alert and, from ack_alert, hotline_alert_ack)
SELECT hltest.eq('notify payload: no digits of D', (
    SELECT regexp_replace(hotline.alert_notify_json(a), '[^0-9]', '', 'g') LIKE '%13600000009%'
    FROM hotline.alerts a WHERE id = 30), false);
SELECT hltest.eq('notify payload: caller masked, detail masked', (
    SELECT (hotline.alert_notify_json(a)::jsonb ->> 'caller') || '|' || (hotline.alert_notify_json(a)::jsonb ->> 'detail')
    FROM hotline.alerts a WHERE id = 30), '+86136****0009|2 calls, last from 136****0009');
SELECT hltest.eq('ack_alert notifies through the masked payload',
    position('alert_notify_json' IN pg_get_functiondef('hotline.ack_alert(bigint, text)'::regprocedure)) > 0, true);

-- Retention (044): once D's case is anonymized no callers row says it was
-- confidential, so the texts the views would show hold no number any more.
UPDATE hotline.cases SET status = 'closed', closed_at = now() - interval '40 days' WHERE id = 30;
SELECT hltest.eq('anonymize case 30', hotline.anonymize_closed(30, 10), 1);
SELECT hltest.eq('D forgotten', (SELECT count(*) FROM hotline.callers WHERE caller = '+8613600000009'), 0::bigint);
SET ROLE hotline_admin;
SELECT hltest.eq('admin, anonymized: order texts gone or masked', hltest.rows($$
    SELECT category, area, signed_by, return_reason, extend_reason, note FROM hotline.v_orders WHERE order_id = 'o-30'$$),
    'water 136****0009|area (136****0009|clerk +86136****0009|-|-|-');
SELECT hltest.eq('admin, anonymized: hotspot row and case texts masked', hltest.rows($$
    SELECT h.category, h.area, c.category, c.priority, c.queue, l.queue
    FROM hotline.v_hotspot_cases h JOIN hotline.v_cases c ON c.id = h.case_id
         JOIN hotline.v_calls l ON l.case_id = c.id AND l.call_id = 'c30' WHERE h.case_id = 30$$),
    'water 136****0009|area (136****0009|cat 136****0009|prio (136****0009|q 136****0009|(136****0009');
SELECT hltest.eq('admin, anonymized: the signer''s event masked', hltest.rows($$
    SELECT agent, description FROM hotline.case_history WHERE event_id = 'e34'$$),
    'clerk +86136****0009|order.sign');
-- 049: e30's body has keys hotlined does not read ("extra", nested); they
-- are masked too, as every reader sees them once the caller is forgotten.
SELECT hltest.eq('admin, anonymized: no body holds D', (
    SELECT count(*) FROM hotline.v_case_events
    WHERE case_id = 30 AND regexp_replace(body::text, '[^0-9]', '', 'g') LIKE '%13600000009%'), 0::bigint);
SELECT hltest.eq('admin, anonymized: an unknown key masked, ids and times kept', (
    SELECT (body -> 'extra')::text || '|' || (body ->> 'call_id') || '|' || (body ->> 'caller')
    FROM hotline.v_case_events WHERE event_id = 'e30'),
    '{"deep": ["136****0009", "136****0009", {"x": "0086136****0009"}]}|c30|anon:30');
RESET ROLE;
SET ROLE hotline_supervisor;
SELECT hltest.eq('supervisor, anonymized: no body holds D', (
    SELECT count(*) FROM hotline.v_case_events
    WHERE case_id = 30 AND regexp_replace(body::text, '[^0-9]', '', 'g') LIKE '%13600000009%'), 0::bigint);
RESET ROLE;

-- mask_text: by digits, whatever the separators
SELECT hltest.eq('mask_text dashes', hotline.mask_text('+861390000----0003'), '+86139****0003');
SELECT hltest.eq('mask_text spaces and parens', hotline.mask_text('x (010) 6512 3456 y'), 'x (010****3456 y');
SELECT hltest.eq('mask_text short runs and dates kept', hotline.mask_text('case 12, 2024-03-10 10:01, ref 123456'),
    'case 12, 2024-03-10 10:01, ref 123456');
SELECT hltest.eq('mask_text date then number', hotline.mask_text('2024-03-10 13900000002'), '2024-03-10 139****0002');
SELECT hltest.eq('mask_json keeps an anonymized caller', hotline.mask_json('{"caller":"anon:12"}'), '{"caller":"anon:12"}'::jsonb);
SELECT hltest.eq('mask_text: not a date, a number', hotline.mask_text('2024-13-45 99'), '20****4599');
SELECT hltest.eq('mask_json nested', hotline.mask_json('{"a":[13900000002,"139 0000 0002",{"b":"ok 12"}],"caller":"110"}'),
    '{"a":["139****0002","139****0002",{"b":"ok 12"}],"caller":"*10"}'::jsonb);

------------------------------------- issue 16: a resolution counts once
-- case 31 on 2024-04-01: ended resolved, resolve, ended resolved (1), reopen,
-- resolve (2), close, ended resolved on the closed case (no), survey 1
-- reopens it, resolve (3).
-- Written as the daemon writes a batch: the rollup (023) follows in the same transaction.
SET ROLE hotlined;
BEGIN;
SELECT hotline.figures_before('[31]', '[]', NULL);
INSERT INTO hotline.cases (id, caller, status, opened_at) VALUES (31, '+8613800000031', 'resolved', '2024-04-01 08:00+00');
INSERT INTO hotline.case_events (event_id, case_id, type, at, body)
SELECT 'r' || n, 31, t, '2024-04-01 09:00+00'::timestamptz + n * interval '1 minute', b::jsonb
FROM (VALUES (1, 'call.ended', '{"outcome":"resolved"}'), (2, 'case.resolve', '{}'),
             (3, 'call.ended', '{"outcome":"resolved"}'), (4, 'case.reopen', '{}'), (5, 'case.resolve', '{}'),
             (6, 'case.close', '{}'), (7, 'call.ended', '{"outcome":"resolved"}'),
             (8, 'survey.result', '{"score":1}'), (9, 'case.resolve', '{}')) AS v (n, t, b)
ORDER BY n;
SELECT hotline.figures_after();
COMMIT;
RESET ROLE;
SELECT hltest.eq('cases_resolved counts transitions',
    (SELECT cases_resolved FROM hotline.daily_figures WHERE day = '2024-04-01'), 3::bigint);

-- psql for administrators (sql/018): every column an administrator can read,
-- and every relation and function of the schema they can use, has a comment;
-- a column added later without one fails here.
SELECT hltest.eq('columns without a comment', (
    SELECT string_agg(c.relname || '.' || a.attname, ', ' ORDER BY c.relname, a.attnum)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = 'hotline' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
      AND has_column_privilege('hotline_admin', c.oid, a.attnum, 'SELECT')
      AND col_description(c.oid, a.attnum) IS NULL), NULL::text);
SELECT hltest.eq('relations without a comment', (
    SELECT string_agg(c.relname, ', ' ORDER BY c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'hotline' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
      AND (has_table_privilege('hotline_admin', c.oid, 'SELECT') OR has_any_column_privilege('hotline_admin', c.oid, 'SELECT'))
      AND obj_description(c.oid, 'pg_class') IS NULL), NULL::text);
SELECT hltest.eq('functions without a comment', (
    SELECT string_agg(p.oid::regprocedure::text, ', ')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'hotline' AND has_function_privilege('hotline_admin', p.oid, 'EXECUTE')
      AND obj_description(p.oid, 'pg_proc') IS NULL), NULL::text);

-- department_monthly (024): an order counts the case's latest survey recorded
-- at or after its dispatch (one from before cannot be about its reply); the
-- month is the report zone's; a month without orders has no row.
SET ROLE hotlined;
INSERT INTO hotline.cases (id, caller, status, opened_at, department)
    VALUES (930, '+8613700000930', 'open', '2024-07-01 00:00+00', 'parks');
INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, dispatched_at, signed_at,
        replied_at, result, due_at, sign_due_at, extensions, sign_state, sign_seq, reply_state, reply_seq)
VALUES ('o-930', 930, 1, 'parks', 'replied', '2024-07-10 10:00+00', '2024-07-10 10:30+00',
        '2024-07-11 10:00+00', 'resolved', '2024-07-12 10:00+00', '2024-07-10 12:00+00', 0, 'met', 1, 'met', 1),
       ('o-931', 930, 2, 'parks', 'replied', '2024-07-31 23:30+00', '2024-07-31 23:40+00',
        '2024-08-02 10:00+00', 'resolved', '2024-08-03 10:00+00', '2024-08-01 01:00+00', 0, 'met', 1, 'met', 1);
INSERT INTO hotline.case_events (event_id, case_id, type, at, description, body) VALUES
    ('pe1', 930, 'survey.result', '2024-07-09 09:00+00', 'survey on case 930: score 1 of 5', '{"score":1}'),
    ('pe2', 930, 'survey.result', '2024-07-20 09:00+00', 'survey on case 930: score 5 of 5', '{"score":5}');
-- the daemon's batches (033): pe2 first, then pe1 arriving late with an
-- earlier `at`: the order keeps the latest survey, pe2, as 024's view did
-- from the events; o-931 (dispatched after both) keeps none
SELECT hotline.record_surveys(jsonb_build_array(jsonb_build_object('case_id', 930,
    'at', hotline.ms('2024-07-20 09:00+00'), 'score', 5, 'n', 0)));
SELECT hotline.record_surveys(jsonb_build_array(jsonb_build_object('case_id', 930,
    'at', hotline.ms('2024-07-09 09:00+00'), 'score', 1, 'n', 0)));
RESET ROLE;
SELECT hltest.eq('record_surveys: the latest survey at or after each dispatch', hltest.rows($$SELECT order_id,
    survey_at AT TIME ZONE 'UTC', survey_score FROM hotline.orders WHERE case_id = 930 ORDER BY order_no$$),
    'o-930|2024-07-20T09:00:00|5;o-931|-|-');
-- one batch with two surveys of a case: the later one (by `at`, then by its
-- place in the batch) is kept, for the orders dispatched before it
BEGIN;
SET ROLE hotlined;
SELECT hotline.record_surveys('[]'::jsonb);
SELECT hotline.record_surveys(jsonb_build_array(
    jsonb_build_object('case_id', 930, 'at', hotline.ms('2024-08-05 09:00+00'), 'score', 2, 'n', 3),
    jsonb_build_object('case_id', 930, 'at', hotline.ms('2024-08-05 09:00+00'), 'score', 4, 'n', 7),
    jsonb_build_object('case_id', 930, 'at', hotline.ms('2024-08-01 09:00+00'), 'score', 1, 'n', 9)));
RESET ROLE;
SELECT hltest.eq('record_surveys: one batch, two surveys', hltest.rows($$SELECT order_id, survey_score
    FROM hotline.orders WHERE case_id = 930 ORDER BY order_no$$), 'o-930|4;o-931|4');
ROLLBACK;
SET ROLE hotline_admin;
SET hotline.timezone = 'UTC';
SELECT hltest.eq('department_monthly: survey at or after dispatch', hltest.rows($$SELECT month, received, surveys,
    satisfied_share FROM hotline.department_monthly WHERE department = 'parks' ORDER BY month$$),
    '2024-07-01|2|1|1.000');
SET hotline.timezone = 'Asia/Shanghai';
SELECT hltest.eq('department_monthly: the report zone''s month', hltest.rows($$SELECT month, received
    FROM hotline.department_monthly WHERE department = 'parks' ORDER BY month$$),
    '2024-07-01|1;2024-08-01|1');
SELECT hltest.eq('department_monthly: a month without orders', (SELECT count(*) FROM hotline.department_monthly
    WHERE month = '2024-06-01'), 0::bigint);
RESET hotline.timezone;
RESET ROLE;

SET client_min_messages = warning;
DROP SCHEMA hltest CASCADE;
\echo 'admin_test.sql: all assertions passed'
