-- tests/sql/rollup_test.sql - hotline.figure_rollup (023, 031) equals a recount, batch after batch.
--
-- Run by scripts/sql-test.sh after the other tests, in the same database.
-- Each batch is written the way the daemon writes it (store_write.c): one
-- transaction, hotline.figures_before(cases, callers, t_min, hints) first,
-- the rows, hotline.figures_after() last.  The hints name what the batch
-- writes, as store_write.c's figure_hints does (031: only those rows are
-- counted); one batch uses the 3-argument form (whole cases, as by hand).  After every batch the rollup must equal the
-- figures recounted from the base rows (hotline.figure_facts), cell by cell:
-- new calls and cases, a call offered out of order (it changes the repeat
-- flag of the caller's next call, in another case), answers, a transfer (the
-- case's facts move to the new department), a callback run going from
-- pending to breached to met late, a run replaced by a new one, a
-- resolution and a survey, a reopen; large cases stored, followed, moved
-- from their rows and emptied by a rebuild (035).

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET hotline.timezone = 'Asia/Shanghai';

-- the months the batches below are dated in have partitions of their own
-- (038: the recount's probes prune the months before the cases' first
-- event; in the default partition nothing would be pruned)
SELECT count(hotline.create_event_month(m))
FROM generate_series('2024-01-01'::timestamptz, '2024-06-01', '1 month') m;

CREATE SCHEMA IF NOT EXISTS hlroll;
-- The recount: what rebuild_figure_rollup() would write.
CREATE OR REPLACE VIEW hlroll.recount AS
SELECT day, coalesce(department, '') AS department, coalesce(agent, '') AS agent, metric, sum(n) AS n
FROM hotline.figure_facts GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0;
CREATE OR REPLACE VIEW hlroll.rolled AS
SELECT f.day, f.department, f.agent, m.key AS metric, m.value::text::bigint AS n
FROM hotline.figure_rollup f, jsonb_each(to_jsonb(f) - 'day' - 'department' - 'agent') m
WHERE m.value::text::bigint <> 0;
CREATE OR REPLACE FUNCTION hlroll.check(what text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    diff text;
BEGIN
    SELECT string_agg(format('%s %s/%s/%s %s', side, day, department, agent, metric || '=' || n), '; ')
    INTO diff FROM (
        (SELECT 'recount-only' AS side, * FROM hlroll.recount EXCEPT SELECT 'recount-only', * FROM hlroll.rolled)
        UNION ALL
        (SELECT 'rollup-only', * FROM hlroll.rolled EXCEPT SELECT 'rollup-only', * FROM hlroll.recount)
    ) x;
    IF diff IS NOT NULL THEN
        RAISE EXCEPTION 'FAIL %: rollup <> recount: %', what, diff;
    END IF;
    -- the stored large cases (035): each one's rows equal its recount
    SELECT string_agg(format('case %s %s/%s %s: stored %s, recount %s', case_id, day, agent, metric, s, r), '; ')
    INTO diff FROM (
        SELECT coalesce(a.case_id, b.case_id) AS case_id, coalesce(a.day, b.day) AS day,
               coalesce(a.agent, b.agent) AS agent, coalesce(a.metric, b.metric) AS metric,
               coalesce(a.n, 0) AS s, coalesce(b.n, 0) AS r
        FROM (SELECT r.case_id, r.day, r.agent, m.key AS metric, m.value::text::bigint AS n
              FROM hotline.figure_case_rollup r, jsonb_each(to_jsonb(r) - 'case_id' - 'day' - 'agent') m
              WHERE m.value <> '0') a
             FULL JOIN (SELECT f.case_id, f.day, coalesce(f.agent, '') AS agent, f.metric, sum(f.n) AS n
                        FROM hotline.figure_facts f
                        WHERE f.case_id IN (SELECT case_id FROM hotline.figure_case_rollup)
                        GROUP BY 1, 2, 3, 4 HAVING sum(f.n) <> 0) b
             ON (a.case_id, a.day, a.agent, a.metric) = (b.case_id, b.day, b.agent, b.metric)
        WHERE coalesce(a.n, 0) <> coalesce(b.n, 0)
    ) x;
    IF diff IS NOT NULL THEN
        RAISE EXCEPTION 'FAIL %: stored case <> recount: %', what, diff;
    END IF;
    IF (SELECT zone FROM hotline.figure_rollup_state) IS DISTINCT FROM hotline.report_tz() THEN
        RAISE EXCEPTION 'FAIL %: the rollup is not in the report zone', what;
    END IF;
    RAISE NOTICE 'ok %', what;
END $$;

SET client_min_messages = notice;   -- each passed check prints 'ok ...'

-- The starting point: whatever earlier tests left, counted in this zone.
SELECT hotline.rebuild_figure_rollup();
SELECT hlroll.check('rebuild equals recount');

-- Batch 1: two new cases of one caller X, their calls; a callback owed on the first.
BEGIN;
SELECT hotline.figures_before('[9101, 9102]', '["+8613600009999"]', hotline.ms('2024-04-29 10:00+00'),
    '{"calls": [["rt-1", 9101, null], ["rt-3", 9102, null]], "cases": [[9101, "housing"], [9102, null]],
      "res": [], "cb": [9101], "ev": []}');
INSERT INTO hotline.cases (id, caller, status, opened_at, department)
VALUES (9101, '+8613600009999', 'open', '2024-04-29 10:00+00', 'housing'),
       (9102, '+8613600009999', 'open', '2024-05-01 20:00+00', NULL);
INSERT INTO hotline.calls (call_id, case_id, caller, state, inbound, offered_at)
VALUES ('rt-1', 9101, '+8613600009999', 'abandoned', true, '2024-04-29 10:00+00'),
       ('rt-3', 9102, '+8613600009999', 'offered', true, '2024-05-01 20:00+00');
INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms)
VALUES (9101, 'callback', 'pending', 1, '2024-05-01 10:00+00', '2024-05-01 10:30+00', 1800000);
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-e1', 9101, 'call.offered', '2024-04-29 10:00+00', '{"type":"call.offered","call_id":"rt-1"}'),
    ('rt-e2', 9102, 'call.offered', '2024-05-01 20:00+00', '{"type":"call.offered","call_id":"rt-3"}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 1: new cases, calls, a pending callback');

-- Batch 2: a call of X offered between the two (out of order): rt-3 becomes
-- a repeat call (its case 9102 is not in the batch's cases).
BEGIN;
SELECT hotline.figures_before('[9101]', '["+8613600009999"]', hotline.ms('2024-05-01 15:00+00'),
    jsonb_build_object('calls', jsonb_build_array(jsonb_build_array('rt-2', 9101, hotline.ms('2024-05-01 15:00:10+00'))),
                       'cases', '[]'::jsonb, 'res', '[]'::jsonb, 'ev', '[]'::jsonb));
INSERT INTO hotline.calls (call_id, case_id, caller, state, inbound, offered_at, answered_at, agent)
VALUES ('rt-2', 9101, '+8613600009999', 'answered', true, '2024-05-01 15:00+00', '2024-05-01 15:00:10+00', 'ann');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 2: a call offered out of order moves the next call''s repeat flag');
DO $$
BEGIN
    IF (SELECT sum(repeat_calls) FROM hotline.figure_rollup WHERE day = '2024-05-02') IS DISTINCT FROM 1::numeric THEN
        RAISE EXCEPTION 'FAIL rt-3 (2024-05-02 in Asia/Shanghai) should now be a repeat call';
    END IF;
    RAISE NOTICE 'ok the next call became a repeat call';
END $$;

-- Batch 3: the callback run breaches; a callback attempt by bob.
BEGIN;
SELECT hotline.figures_before('[9101]', '[]', NULL,
    jsonb_build_object('calls', '[]'::jsonb, 'cases', '[]'::jsonb, 'res', '[]'::jsonb, 'cb', '[9101]'::jsonb,
                       'ev', '["rt-e3"]'::jsonb,
                       'ev_lo', hotline.ms('2024-05-01 11:00+00'), 'ev_hi', hotline.ms('2024-05-01 11:00+00')));
UPDATE hotline.clocks SET state = 'breached', breached_at = '2024-05-01 10:30+00' WHERE case_id = 9101 AND kind = 'callback';
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-e3', 9101, 'callback.attempt', '2024-05-01 11:00+00', '{"type":"callback.attempt","agent":"bob","result":"no_answer"}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 3: pending -> breached');

-- Batch 4: met late, and the case is transferred (its facts change department).
BEGIN;
SELECT hotline.figures_before('[9101]', '[]', NULL,
    jsonb_build_object('calls', '[]'::jsonb, 'cases', '[[9101, "roads"]]'::jsonb, 'res', '[]'::jsonb,
                       'cb', '[9101]'::jsonb, 'ev', '["rt-e4", "rt-e5"]'::jsonb,
                       'ev_lo', hotline.ms('2024-05-01 11:30+00'), 'ev_hi', hotline.ms('2024-05-01 11:31+00')));
UPDATE hotline.clocks SET state = 'met', met_at = '2024-05-01 11:30+00' WHERE case_id = 9101 AND kind = 'callback';
UPDATE hotline.cases SET department = 'roads', transfers = 1 WHERE id = 9101;
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-e4', 9101, 'callback.attempt', '2024-05-01 11:30+00', '{"type":"callback.attempt","agent":"bob","result":"reached"}'),
    ('rt-e5', 9101, 'case.transfer', '2024-05-01 11:31+00', '{"type":"case.transfer","department":"roads","by":"bob"}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 4: breached -> met late; transfer moves the department');

-- Batch 5: a new callback run replaces the met one (the daemon keeps the old
-- run in clock_runs_done); a resolution clock and a resolution in time.
BEGIN;
SELECT hotline.figures_before('[9101]', '[]', NULL,
    jsonb_build_object('calls', '[]'::jsonb, 'cases', '[[9101, "roads"]]'::jsonb,
                       'res', jsonb_build_array(jsonb_build_array(9101, hotline.ms('2024-05-01 10:00+00'))),
                       'cb', '[9101]'::jsonb, 'ev', '["rt-e6"]'::jsonb,
                       'ev_lo', hotline.ms('2024-05-02 08:00+00'), 'ev_hi', hotline.ms('2024-05-02 08:00+00')));
INSERT INTO hotline.clock_runs_done (case_id, kind, seq, state, started_at, due_at, allowed_ms, met_at, breached_at)
SELECT case_id, kind, seq, state, started_at, due_at, allowed_ms, met_at, breached_at
FROM hotline.clocks WHERE case_id = 9101 AND kind = 'callback';
UPDATE hotline.clocks SET seq = 2, state = 'pending', started_at = '2024-05-02 09:00+00',
       due_at = '2024-05-02 09:30+00', met_at = NULL, breached_at = NULL
WHERE case_id = 9101 AND kind = 'callback';
INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms, met_at)
VALUES (9101, 'resolution', 'met', 1, '2024-05-01 10:00+00', '2024-05-03 10:00+00', 172800000, '2024-05-02 08:00+00');
UPDATE hotline.cases SET status = 'resolved', resolved_at = '2024-05-02 08:00+00' WHERE id = 9101;
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-e6', 9101, 'case.resolve', '2024-05-02 08:00+00', '{"type":"case.resolve"}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 5: a run replaced; a resolution in time');

-- Batch 6: a low survey reopens, a second resolution counts again; the new
-- callback run is dropped (stopped).
BEGIN;
SELECT hotline.figures_before('[9101, 9102]', '["+8613600009999"]', NULL,
    jsonb_build_object('calls', jsonb_build_array(jsonb_build_array('rt-3', 9102, hotline.ms('2024-05-01 20:00:30+00'))),
                       'cases', '[]'::jsonb, 'res', '[]'::jsonb, 'cb', '[9101]'::jsonb,
                       'ev', '["rt-e7", "rt-e8", "rt-e9"]'::jsonb,
                       'ev_lo', hotline.ms('2024-05-02 09:00+00'), 'ev_hi', hotline.ms('2024-05-02 11:00+00')));
UPDATE hotline.clocks SET state = 'stopped' WHERE case_id = 9101 AND kind = 'callback';
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-e7', 9101, 'survey.result', '2024-05-02 09:00+00', '{"type":"survey.result","score":2}'),
    ('rt-e8', 9101, 'case.resolve', '2024-05-02 10:00+00', '{"type":"case.resolve","agent":"cy"}'),
    ('rt-e9', 9102, 'survey.result', '2024-05-02 11:00+00', '{"type":"survey.result","score":5}');
UPDATE hotline.calls SET state = 'answered', answered_at = '2024-05-01 20:00:30+00', agent = 'ann' WHERE call_id = 'rt-3';
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 6: reopen by survey, second resolution, run stopped, answer late');

-- A batch that is rolled back leaves the rollup as it was.
BEGIN;
SELECT hotline.figures_before('[9102]', '[]', NULL, '{"calls": [], "cases": [[9102, "water"]], "res": [], "ev": []}');
UPDATE hotline.cases SET department = 'water' WHERE id = 9102;
SELECT hotline.figures_after();
ROLLBACK;
SELECT hlroll.check('a rolled back batch changes nothing');

-- The check sees a change written without the rollup (control).
DO $$
BEGIN
    UPDATE hotline.cases SET department = 'water' WHERE id = 9102;
    BEGIN
        PERFORM hlroll.check('(control)');
    EXCEPTION WHEN raise_exception THEN
        RAISE NOTICE 'ok a change outside a batch is seen by the check';
        RAISE EXCEPTION USING ERRCODE = 'P0004', MESSAGE = 'undo';
    END;
    RAISE EXCEPTION 'FAIL the check did not see a department change';
EXCEPTION WHEN assert_failure THEN
    NULL;
END $$;

-- Batch 8 (025): events dated before their case opened, months earlier (in
-- another month partition): the recount reads case_events from
-- case_events_from(ids) on, so the trigger must have lowered that bound.
BEGIN;
SELECT hotline.figures_before('[9101]', '[]', NULL,
    jsonb_build_object('calls', '[]'::jsonb, 'cases', '[]'::jsonb, 'res', '[]'::jsonb,
                       'ev', '["rt-e-early1", "rt-e-early2"]'::jsonb,
                       'ev_lo', hotline.ms('2024-02-10 08:00+00'), 'ev_hi', hotline.ms('2024-03-02 08:00+00')));
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-e-early1', 9101, 'callback.attempt', '2024-02-10 08:00+00',
     '{"type":"callback.attempt","agent":"ann","result":"reached"}'),
    ('rt-e-early2', 9101, 'case.transfer', '2024-03-02 08:00+00', '{"type":"case.transfer","by":"bob"}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 8: events dated months before their case opened');
DO $$
BEGIN
    IF (SELECT first_at FROM hotline.case_events_early WHERE case_id = 9101) <> '2024-02-10 08:00+00' THEN
        RAISE EXCEPTION 'FAIL case_events_early does not hold the earliest event of 9101';
    END IF;
    IF hotline.case_events_from('{9101, 9102}') <> '2024-02-10 08:00+00' THEN
        RAISE EXCEPTION 'FAIL case_events_from is not the earliest event';
    END IF;
    IF hotline.case_events_from('{-5}') IS NOT NULL THEN
        RAISE EXCEPTION 'FAIL case_events_from of no case is not NULL';
    END IF;
    IF hotline.rebuild_case_events_early() < 1 THEN
        RAISE EXCEPTION 'FAIL rebuild_case_events_early lost 9101';
    END IF;
    RAISE NOTICE 'ok case_events_early and case_events_from';
END $$;
-- and again in a later batch that names the case: the "before" must see them
-- (the 3-argument form: the case recounted whole)
BEGIN;
SELECT hotline.figures_before('[9101]', '[]', NULL);
UPDATE hotline.cases SET department = 'transport' WHERE id = 9101;
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 9: a case with early events moves department');

-- Batch 9b (038): a reopen dated before everything else of the case, in an
-- earlier month than its first event so far, then a resolution: the reopen
-- is the resolution's turn before (by seq), so the resolution counts.  The
-- probe finds it only if figures_after's bound on `at` is taken after the
-- batch's writes (case_events_early lowered by the trigger): with the bound
-- of figures_before the month of the reopen would be pruned, the turn
-- before would be rt-e8's resolution and the rollup would miss one.
BEGIN;
SELECT hotline.figures_before('[9101]', '[]', NULL,
    jsonb_build_object('calls', '[]'::jsonb, 'cases', '[]'::jsonb, 'res', '[]'::jsonb,
                       'ev', '["rt-e-early3", "rt-e10"]'::jsonb,
                       'ev_lo', hotline.ms('2024-01-20 08:00+00'), 'ev_hi', hotline.ms('2024-05-20 08:00+00')));
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-e-early3', 9101, 'case.reopen', '2024-01-20 08:00+00', '{"type":"case.reopen"}'),
    ('rt-e10', 9101, 'case.resolve', '2024-05-20 08:00+00', '{"type":"case.resolve","agent":"cy"}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 9b: a resolution whose turn before is dated in an earlier month');
DO $$
BEGIN
    IF (SELECT sum(cases_resolved) FROM hotline.figure_rollup WHERE day = '2024-05-20') IS DISTINCT FROM 1::numeric THEN
        RAISE EXCEPTION 'FAIL the resolution after an early reopen is not counted';
    END IF;
    RAISE NOTICE 'ok a turn before in an earlier month partition';
END $$;

-- Batch 9c (038): the same with a reopen dated months AFTER now, written by
-- hand (the daemon refuses `at` more than a day after receipt): the trigger
-- records it in case_events_late, so the probe's upper bound still reaches
-- its month and the later resolution, whose turn before it is, counts.
SELECT count(hotline.create_event_month(date_trunc('month', now()) + interval '5 months'));
BEGIN;
SELECT hotline.figures_before('[9101]', '[]', NULL,
    jsonb_build_object('calls', '[]'::jsonb, 'cases', '[]'::jsonb, 'res', '[]'::jsonb,
                       'ev', '["rt-e-late1", "rt-e11"]'::jsonb,
                       'ev_lo', hotline.ms('2024-05-21 08:00+00'),
                       'ev_hi', hotline.ms(date_trunc('month', now()) + interval '5 months 3 days')));
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-e-late1', 9101, 'case.reopen', date_trunc('month', now()) + interval '5 months 3 days', '{"type":"case.reopen"}');
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-e11', 9101, 'case.resolve', '2024-05-21 08:00+00', '{"type":"case.resolve","agent":"cy"}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 9c: a resolution whose turn before is dated months ahead');
DO $$
BEGIN
    IF (SELECT sum(cases_resolved) FROM hotline.figure_rollup WHERE day = '2024-05-21') IS DISTINCT FROM 1::numeric THEN
        RAISE EXCEPTION 'FAIL the resolution after a reopen dated ahead is not counted';
    END IF;
    IF (SELECT last_at FROM hotline.case_events_late WHERE case_id = 9101)
       IS DISTINCT FROM date_trunc('month', now()) + interval '5 months 3 days' THEN
        RAISE EXCEPTION 'FAIL case_events_late does not hold the late event of 9101';
    END IF;
    IF hotline.case_events_until('{9101}') <> date_trunc('month', now()) + interval '5 months 3 days' THEN
        RAISE EXCEPTION 'FAIL case_events_until is not the late event';
    END IF;
    IF hotline.case_events_until('{-5}') < now() + interval '1 day' THEN
        RAISE EXCEPTION 'FAIL case_events_until of no case is before a day from now';
    END IF;
    IF hotline.rebuild_case_events_late() <> 1 THEN
        RAISE EXCEPTION 'FAIL rebuild_case_events_late did not find 9101 alone';
    END IF;
    RAISE NOTICE 'ok a turn before in a month ahead; case_events_late and case_events_until';
END $$;

-- Batch 10 (030): two calls of one caller offered at the same instant, in
-- two cases: the one with the greater call_id is the repeat (the EXISTS of
-- figure_facts_of must break the tie as figure_facts' lag does), and an
-- outbound call in the window is no previous call.
BEGIN;
SELECT hotline.figures_before('[9103, 9104]', '["+8613600007777"]', hotline.ms('2024-05-03 09:00+00'),
    '{"calls": [["rt-t2", 9103, null], ["rt-t1", 9104, null], ["rt-t0", 9104, null]],
      "cases": [[9103, "water"], [9104, "housing"]], "res": [], "ev": []}');
INSERT INTO hotline.cases (id, caller, status, opened_at, department)
VALUES (9103, '+8613600007777', 'open', '2024-05-03 09:00+00', 'water'),
       (9104, '+8613600007777', 'open', '2024-05-03 09:00+00', 'housing');
INSERT INTO hotline.calls (call_id, case_id, caller, state, inbound, offered_at)
VALUES ('rt-t2', 9103, '+8613600007777', 'offered', true, '2024-05-03 09:00+00'),
       ('rt-t1', 9104, '+8613600007777', 'offered', true, '2024-05-03 09:00+00'),
       ('rt-t0', 9104, '+8613600007777', 'offered', false, '2024-05-03 08:00+00');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 10: two calls at the same instant, an outbound call before them');
DO $$
BEGIN
    IF (SELECT sum(repeat_calls) FROM hotline.figure_rollup WHERE department = 'water' AND day = '2024-05-03')
       IS DISTINCT FROM 1::numeric THEN
        RAISE EXCEPTION 'FAIL the later call_id of a tie is not the repeat call';
    END IF;
    RAISE NOTICE 'ok a tie of offered_at is broken by call_id';
END $$;

-- The same tie counted whole: a case moved by hand-written batch (3
-- arguments: whole cases) and by the daemon's hints (figure_cells_move); the
-- whole count takes the flag from the previous call in one ordered pass.
BEGIN;
SELECT hotline.figures_before('[9103, 9104]', '["+8613600007777"]', NULL);
UPDATE hotline.cases SET department = 'roads' WHERE id = 9103;
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 10b: the tie counted whole');
BEGIN;
SELECT hotline.figures_before('[9103]', '[]', NULL, '{"calls": [], "cases": [[9103, "water"]], "res": [], "ev": []}');
UPDATE hotline.cases SET department = 'water' WHERE id = 9103;
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 10c: the tie moved');

-- Batches 11-15 (031): what only the rows a batch writes can change.
-- Batch 11: a new case, a call answered by dan, a resolution run due at
-- 10:05, and a resolution at 10:10 naming no agent (its agent is the last
-- call answered before it: dan; late: 0 in time).
BEGIN;
SELECT hotline.figures_before('[9105]', '["+8613600005555"]', hotline.ms('2024-05-04 10:00+00'),
    jsonb_build_object('calls', jsonb_build_array(jsonb_build_array('rt-5a', 9105, hotline.ms('2024-05-04 10:00:05+00'))),
                       'cases', '[[9105, "water"]]'::jsonb,
                       'res', jsonb_build_array(jsonb_build_array(9105, hotline.ms('2024-05-04 09:59+00'))),
                       'ev', '["rt-r1"]'::jsonb,
                       'ev_lo', hotline.ms('2024-05-04 10:10+00'), 'ev_hi', hotline.ms('2024-05-04 10:10+00')));
INSERT INTO hotline.cases (id, caller, status, opened_at, department)
VALUES (9105, '+8613600005555', 'open', '2024-05-04 09:59+00', 'water');
INSERT INTO hotline.calls (call_id, case_id, caller, state, inbound, offered_at, answered_at, agent)
VALUES ('rt-5a', 9105, '+8613600005555', 'answered', true, '2024-05-04 10:00+00', '2024-05-04 10:00:05+00', 'dan');
INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms)
VALUES (9105, 'resolution', 'pending', 1, '2024-05-04 09:59+00', '2024-05-04 10:05+00', 360000);
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-r1', 9105, 'case.resolve', '2024-05-04 10:10+00', '{}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 11: a resolution''s agent is the last call answered before it');

-- Batch 12: a call of the case offered and answered by eve before that
-- resolution, written later: the existing resolution's agent becomes eve.
BEGIN;
SELECT hotline.figures_before('[9105]', '["+8613600005555"]', hotline.ms('2024-05-04 10:06+00'),
    jsonb_build_object('calls', jsonb_build_array(jsonb_build_array('rt-5b', 9105, hotline.ms('2024-05-04 10:06:02+00'))),
                       'cases', '[]'::jsonb, 'res', '[]'::jsonb, 'ev', '[]'::jsonb));
INSERT INTO hotline.calls (call_id, case_id, caller, state, inbound, offered_at, answered_at, agent)
VALUES ('rt-5b', 9105, '+8613600005555', 'answered', true, '2024-05-04 10:06+00', '2024-05-04 10:06:02+00', 'eve');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 12: an answer written late moves an existing resolution to its agent');
DO $$
BEGIN
    IF (SELECT sum(cases_resolved) FROM hotline.figure_rollup WHERE agent = 'eve' AND day = '2024-05-04')
       IS DISTINCT FROM 1::numeric THEN
        RAISE EXCEPTION 'FAIL the resolution of 9105 is not eve''s';
    END IF;
    RAISE NOTICE 'ok the resolution moved to eve';
END $$;

-- Batch 13: the resolution run's deadline moves to 10:30 (a hold): the
-- existing resolution becomes one in time.
BEGIN;
SELECT hotline.figures_before('[9105]', '[]', NULL,
    jsonb_build_object('calls', '[]'::jsonb, 'cases', '[]'::jsonb,
                       'res', jsonb_build_array(jsonb_build_array(9105, hotline.ms('2024-05-04 09:59+00'))),
                       'ev', '[]'::jsonb));
UPDATE hotline.clocks SET due_at = '2024-05-04 10:30+00' WHERE case_id = 9105 AND kind = 'resolution';
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 13: a run''s deadline moved changes an existing resolution');

-- Batch 14: a reopen and two resolutions in one batch, a new resolution run
-- replacing the first: the first resolution after the reopen counts, the
-- one right after it does not.
BEGIN;
SELECT hotline.figures_before('[9105]', '[]', NULL,
    jsonb_build_object('calls', '[]'::jsonb, 'cases', '[[9105, "water"]]'::jsonb,
                       'res', jsonb_build_array(jsonb_build_array(9105, hotline.ms('2024-05-04 10:20+00'))),
                       'ev', '["rt-r2", "rt-r3"]'::jsonb,
                       'ev_lo', hotline.ms('2024-05-04 10:25+00'), 'ev_hi', hotline.ms('2024-05-04 10:26+00')));
INSERT INTO hotline.clock_runs_done (case_id, kind, seq, state, started_at, due_at, allowed_ms, met_at, breached_at)
SELECT case_id, kind, seq, state, started_at, due_at, allowed_ms, met_at, breached_at
FROM hotline.clocks WHERE case_id = 9105 AND kind = 'resolution';
UPDATE hotline.clocks SET seq = 2, state = 'met', started_at = '2024-05-04 10:20+00',
       due_at = '2024-05-04 11:00+00', met_at = '2024-05-04 10:25+00'
WHERE case_id = 9105 AND kind = 'resolution';
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-o1', 9105, 'case.reopen', '2024-05-04 10:20+00', '{}'),
    ('rt-r2', 9105, 'case.resolve', '2024-05-04 10:25+00', '{"agent": "fay"}'),
    ('rt-r3', 9105, 'case.resolve', '2024-05-04 10:26+00', '{"agent": "fay"}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 14: reopen, resolve, resolve again; a run replaced');

-- Batch 15: a call ended "resolved" dated between the first resolution and
-- the reopen but accepted last (the chain is in acceptance order: it follows
-- a resolution, no count), a low survey (a reopen), and a call ended
-- "resolved" after it (counts; its agent is eve's answer).
BEGIN;
SELECT hotline.figures_before('[9105]', '[]', NULL,
    jsonb_build_object('calls', '[]'::jsonb, 'cases', '[]'::jsonb, 'res', '[]'::jsonb,
                       'ev', '["rt-x1", "rt-s1", "rt-x2"]'::jsonb,
                       'ev_lo', hotline.ms('2024-05-04 10:15+00'), 'ev_hi', hotline.ms('2024-05-04 10:41+00')));
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-x1', 9105, 'call.ended', '2024-05-04 10:15+00', '{"outcome": "resolved"}'),
    ('rt-s1', 9105, 'survey.result', '2024-05-04 10:40+00', '{"score": 1}'),
    ('rt-x2', 9105, 'call.ended', '2024-05-04 10:41+00', '{"outcome": "resolved"}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 15: resolutions out of time order, a low survey reopens');
DO $$
BEGIN
    IF (SELECT sum(cases_resolved) FROM hotline.figure_rollup WHERE department = 'water' AND day = '2024-05-04')
       IS DISTINCT FROM 3::numeric THEN
        RAISE EXCEPTION 'FAIL 9105 should have three counted resolutions';
    END IF;
    RAISE NOTICE 'ok three counted resolutions';
END $$;

-- Batch 16 (031): a case moves to another department in the batch that also
-- answers one of its calls and adds a callback attempt: the batch's own
-- changes are counted in the new department on both sides, the rest moves.
BEGIN;
SELECT hotline.figures_before('[9105]', '["+8613600005555"]', hotline.ms('2024-05-04 11:00+00'),
    '{"calls": [["rt-5c", 9105, null]], "cases": [], "res": [], "cb": [], "ev": []}');
INSERT INTO hotline.calls (call_id, case_id, caller, state, inbound, offered_at)
VALUES ('rt-5c', 9105, '+8613600005555', 'offered', true, '2024-05-04 11:00+00');
SELECT hotline.figures_after();
COMMIT;
BEGIN;
SELECT hotline.figures_before('[9105]', '[]', NULL,
    jsonb_build_object('calls', jsonb_build_array(jsonb_build_array('rt-5c', 9105, hotline.ms('2024-05-04 11:00:20+00'))),
                       'cases', '[[9105, "parks"]]'::jsonb, 'res', '[]'::jsonb, 'cb', '[]'::jsonb,
                       'ev', '["rt-a16"]'::jsonb,
                       'ev_lo', hotline.ms('2024-05-04 11:01+00'), 'ev_hi', hotline.ms('2024-05-04 11:01+00')));
UPDATE hotline.calls SET state = 'answered', answered_at = '2024-05-04 11:00:20+00', agent = 'gus' WHERE call_id = 'rt-5c';
UPDATE hotline.cases SET department = 'parks' WHERE id = 9105;
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-a16', 9105, 'callback.attempt', '2024-05-04 11:01+00', '{"agent": "gus", "result": "reached"}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 16: a case moves in the batch that answers its call');

-- Batches 17-21 (035): large cases are stored (figure_case_rollup) and moved
-- from their rows, not recounted.  The threshold lowered to 5 source rows
-- for the test (9105 has 3 calls, 3 counted resolutions, a survey, an
-- attempt); check() also compares every stored case with its recount.
SET hotline.rollup_case_cells_min = 5;
-- Batch 17: 9105 moves (parks -> roads) in a batch that adds its call rt-5d
-- and an attempt: counted whole once and stored, then followed by the batch.
BEGIN;
SELECT hotline.figures_before('[9105]', '["+8613600005555"]', hotline.ms('2024-05-05 09:00+00'),
    jsonb_build_object('calls', '[["rt-5d", 9105, null]]'::jsonb,
                       'cases', '[[9105, "roads"]]'::jsonb, 'res', '[]'::jsonb, 'cb', '[]'::jsonb,
                       'ev', '["rt-a17"]'::jsonb,
                       'ev_lo', hotline.ms('2024-05-05 09:01+00'), 'ev_hi', hotline.ms('2024-05-05 09:01+00')));
INSERT INTO hotline.calls (call_id, case_id, caller, state, inbound, offered_at)
VALUES ('rt-5d', 9105, '+8613600005555', 'offered', true, '2024-05-05 09:00+00');
UPDATE hotline.cases SET department = 'roads' WHERE id = 9105;
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-a17', 9105, 'callback.attempt', '2024-05-05 09:01+00', '{"agent": "gus", "result": "no_answer"}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 17: a large case moves: counted whole, stored');
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM hotline.figure_case_rollup WHERE case_id = 9105 AND day = '2024-05-05'
                   AND calls_offered = 1) THEN
        RAISE EXCEPTION 'FAIL 9105 was not stored with the batch''s own call';
    END IF;
    RAISE NOTICE 'ok a large case that moves is stored';
END $$;

-- Batch 18: the stored case is followed without moving: rt-5d answered, and
-- a call of the same caller in a new small case 9106 offered before rt-5d
-- (written later): rt-5d's repeat flag changes, in 9105 (a case the batch
-- does not name).
BEGIN;
SELECT hotline.figures_before('[9105, 9106]', '["+8613600005555"]', hotline.ms('2024-05-05 08:59+00'),
    jsonb_build_object('calls', jsonb_build_array(jsonb_build_array('rt-5d', 9105, hotline.ms('2024-05-05 09:00:40+00')),
                                                  jsonb_build_array('rt-6a', 9106, null)),
                       'cases', '[[9106, null]]'::jsonb, 'res', '[]'::jsonb, 'cb', '[]'::jsonb, 'ev', '[]'::jsonb));
INSERT INTO hotline.cases (id, caller, status, opened_at) VALUES (9106, '+8613600005555', 'open', '2024-05-05 08:59+00');
INSERT INTO hotline.calls (call_id, case_id, caller, state, inbound, offered_at)
VALUES ('rt-6a', 9106, '+8613600005555', 'abandoned', true, '2024-05-05 08:59+00');
UPDATE hotline.calls SET state = 'answered', answered_at = '2024-05-05 09:00:40+00', agent = 'hal' WHERE call_id = 'rt-5d';
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 18: a stored case follows an answer and another case''s call');

-- Batch 19: the stored case and a small one move in one batch (a dispatch
-- to 9106, which had no department; 9105 roads -> water), with a resolution
-- of 9105: 9105 is read from its rows, 9106 counted whole (too small).
BEGIN;
SELECT hotline.figures_before('[9105, 9106]', '[]', NULL,
    jsonb_build_object('calls', '[]'::jsonb, 'cases', '[[9105, "water"], [9106, "water"]]'::jsonb,
                       'res', '[]'::jsonb, 'cb', '[]'::jsonb, 'ev', '["rt-r19"]'::jsonb,
                       'ev_lo', hotline.ms('2024-05-05 10:00+00'), 'ev_hi', hotline.ms('2024-05-05 10:00+00')));
UPDATE hotline.cases SET department = 'water' WHERE id IN (9105, 9106);
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-r19', 9105, 'case.resolve', '2024-05-05 10:00+00', '{}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 19: a stored case and a small one move together');
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM hotline.figure_case_rollup WHERE case_id = 9106) THEN
        RAISE EXCEPTION 'FAIL the small case 9106 was stored';
    END IF;
    RAISE NOTICE 'ok a small case is not stored';
END $$;

-- The move of a stored case reads its rows (control: a wrong stored row is
-- carried to the new department, and the check sees it).
DO $$
BEGIN
    UPDATE hotline.figure_case_rollup SET calls_offered = calls_offered + 100
    WHERE case_id = 9105 AND day = '2024-05-05';
    PERFORM hotline.figures_before('[9105]', '[]', NULL,
        '{"calls": [], "cases": [[9105, "parks"]], "res": [], "cb": [], "ev": []}');
    UPDATE hotline.cases SET department = 'parks' WHERE id = 9105;
    PERFORM hotline.figures_after();
    BEGIN
        PERFORM hlroll.check('(control)');
    EXCEPTION WHEN raise_exception THEN
        IF SQLERRM NOT LIKE '%rollup <> recount%' THEN
            RAISE;
        END IF;
        RAISE NOTICE 'ok the move of a stored case reads its stored rows';
        RAISE EXCEPTION USING ERRCODE = 'P0004', MESSAGE = 'undo';
    END;
    RAISE EXCEPTION 'FAIL the move of a stored case did not read its rows';
EXCEPTION WHEN assert_failure THEN
    NULL;
END $$;
SELECT hlroll.check('batch 19b: the control undone');

-- Batch 20: a stored case moved by a hand-written batch (3 arguments: whole
-- cases; its rows follow the whole count's difference).
BEGIN;
SELECT hotline.figures_before('[9105]', '[]', NULL);
UPDATE hotline.cases SET department = 'housing' WHERE id = 9105;
INSERT INTO hotline.case_events (event_id, case_id, type, at, body) VALUES
    ('rt-s20', 9105, 'survey.result', '2024-05-05 11:00+00', '{"score": 4}');
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 20: a stored case moved by hand');

-- Batch 21: a rebuild empties the stored cases; the next move stores 9105 again.
SELECT hotline.rebuild_figure_rollup();
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM hotline.figure_case_rollup) THEN
        RAISE EXCEPTION 'FAIL rebuild_figure_rollup left stored cases';
    END IF;
    RAISE NOTICE 'ok a rebuild empties the stored cases';
END $$;
SELECT hlroll.check('batch 21: rebuild');
BEGIN;
SELECT hotline.figures_before('[9105]', '[]', NULL,
    '{"calls": [], "cases": [[9105, "roads"]], "res": [], "cb": [], "ev": []}');
UPDATE hotline.cases SET department = 'roads' WHERE id = 9105;
SELECT hotline.figures_after();
COMMIT;
SELECT hlroll.check('batch 21b: stored again at the next move after a rebuild');
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM hotline.figure_case_rollup WHERE case_id = 9105) THEN
        RAISE EXCEPTION 'FAIL 9105 was not stored again';
    END IF;
    RAISE NOTICE 'ok stored again';
END $$;
RESET hotline.rollup_case_cells_min;

-- A change written outside the daemon (an import by hand) is not followed
-- by the rollup, even by a later batch naming the case (031: only the rows
-- a batch writes are counted again); rebuild_figure_rollup() recounts.
UPDATE hotline.cases SET department = 'parks' WHERE id = 9104;
BEGIN;
SELECT hotline.figures_before('[9104]', '[]', NULL, '{"calls": [], "cases": [], "res": [], "ev": []}');
SELECT hotline.figures_after();
COMMIT;
DO $$
BEGIN
    BEGIN
        PERFORM hlroll.check('(outside change)');
    EXCEPTION WHEN raise_exception THEN
        RAISE NOTICE 'ok a change outside the daemon is not followed';
        RETURN;
    END;
    RAISE EXCEPTION 'FAIL a change outside the daemon was followed without a rebuild';
END $$;
SELECT hotline.rebuild_figure_rollup();
SELECT hlroll.check('rebuild after a change outside the daemon');

-- Without figures_before, figures_after does nothing.
DO $$
BEGIN
    IF hotline.figures_after() <> 0 THEN
        RAISE EXCEPTION 'FAIL figures_after without figures_before changed something';
    END IF;
    RAISE NOTICE 'ok figures_after alone does nothing';
END $$;

-- The views read the rollup: one day's figures equal the recount's.
SELECT hlroll.check('final');
DO $$
DECLARE
    fast jsonb;
    slow jsonb;
BEGIN
    SELECT jsonb_agg(f ORDER BY day) INTO fast FROM hotline.daily_figures f WHERE day BETWEEN '2024-05-01' AND '2024-05-03';
    DELETE FROM hotline.figure_rollup_state;          -- force the recount branch (rolled back below)
    SELECT jsonb_agg(f ORDER BY day) INTO slow FROM hotline.daily_figures f WHERE day BETWEEN '2024-05-01' AND '2024-05-03';
    IF fast IS DISTINCT FROM slow OR fast IS NULL THEN
        RAISE EXCEPTION 'FAIL daily_figures from the rollup % <> recounted %', fast, slow;
    END IF;
    RAISE NOTICE 'ok daily_figures from the rollup equal the recount';
    RAISE EXCEPTION USING ERRCODE = 'P0004', MESSAGE = 'undo';
EXCEPTION WHEN assert_failure THEN
    NULL;
END $$;

DROP SCHEMA hlroll CASCADE;
