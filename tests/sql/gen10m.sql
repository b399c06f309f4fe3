-- tests/sql/gen10m.sql - ten million events for docs/explain.md (NOT a test; scratch databases only).
--
-- 1M cases, 1.5M calls, 10M case_events, 2M clocks (2,000 callbacks overdue
-- now), 200k alerts, 300k numbers, on a database with every migration
-- applied.  About 6 minutes on 2 cores.  Since 021/022: the events go into
-- the month partitions of case_events (from 2025-01 on: the partitions are
-- made first) and their ids into hotline.event_ids; a clock's
-- current run is its own row, so clock_runs_done stays empty here.

\timing on
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SET work_mem = '64MB';
-- a partition for every month the events fall in
SELECT count(hotline.create_event_month(m))
FROM generate_series('2025-01-01'::timestamptz, '2026-01-01'::timestamptz, interval '1 month') m;
-- 300k numbers, 1 in 20 confidential
INSERT INTO hotline.callers (caller, confidential, first_seen_at)
SELECT '+86138' || lpad(n::text, 8, '0'), n % 20 = 0, '2025-01-01'
FROM generate_series(0, 299999) n;
-- 1M cases, one every 30 s from 2025-01-01; the last 50k still open
INSERT INTO hotline.cases (id, caller, status, opened_at, resolved_at, closed_at, department)
SELECT i, '+86138' || lpad((i % 300000)::text, 8, '0'),
       CASE WHEN i > 950000 THEN 'open' ELSE 'closed' END,
       '2025-01-01'::timestamptz + i * interval '30 s',
       CASE WHEN i <= 950000 THEN '2025-01-01'::timestamptz + i * interval '30 s' + interval '3 h' END,
       CASE WHEN i <= 950000 THEN '2025-01-01'::timestamptz + i * interval '30 s' + interval '1 day' END,
       (ARRAY['housing','pensions','transport','health',NULL])[1 + i % 5]
FROM generate_series(1, 1000000) i;
SELECT setval('hotline.cases_id_seq', 1000000);
-- 1.5M calls: one per case, a second for every other case
INSERT INTO hotline.calls (call_id, case_id, caller, state, offered_at, answered_at, ended_at, agent, outcome)
SELECT 'call-' || i || '-' || k, i, '+86138' || lpad((i % 300000)::text, 8, '0'),
       CASE WHEN k = 2 THEN 'abandoned' ELSE 'ended' END,
       '2025-01-01'::timestamptz + i * interval '30 s' + (k - 1) * interval '10 min',
       CASE WHEN k = 1 THEN '2025-01-01'::timestamptz + i * interval '30 s' + (i % 40) * interval '1 s' END,
       '2025-01-01'::timestamptz + i * interval '30 s' + (k - 1) * interval '10 min' + interval '5 min',
       CASE WHEN k = 1 THEN 'agent' || (i % 50) END, CASE WHEN k = 1 THEN 'followup' END
FROM generate_series(1, 1000000) i, generate_series(1, 2) k
WHERE k = 1 OR i % 2 = 0;
-- 10M events: 10 per case, two minutes apart; the body whole, "id" and
-- "type" included, as the daemon stores it (sql/053).  Their ids go
-- into event_ids by a second INSERT, not by the trigger: its transition
-- table holds every row of the statement, a 25 GB temporary file at 100 M.
-- (The trigger also keeps case_events_early, the cases with an event before
-- their opening: none here, every event is after it, so it stays empty.)
ALTER TABLE hotline.case_events DISABLE TRIGGER case_events_record_ids;
INSERT INTO hotline.case_events (event_id, case_id, type, at, received_at, description, body)
SELECT 'sp1:' || i || ':' || k, i, t.type,
       '2025-01-01'::timestamptz + i * interval '30 s' + k * interval '2 min',
       '2025-01-01'::timestamptz + i * interval '30 s' + k * interval '2 min',
       t.type || ' on case ' || i,
       jsonb_build_object('id', 'sp1:' || i || ':' || k, 'type', t.type, 'call_id', 'call-' || i || '-1',
                          'case_id', i, 'agent', 'agent' || (i % 50), 'result', 'no_answer')
FROM generate_series(1, 1000000) i, generate_series(1, 10) k,
     LATERAL (SELECT (ARRAY['call.offered','call.answered','call.ended','callback.attempt','callback.attempt',
                            'case.update','case.transfer','case.resolve','survey.result','case.close'])[k] AS type) t;
INSERT INTO hotline.event_ids (event_id, case_id)
SELECT 'sp1:' || i || ':' || k, i FROM generate_series(1, 1000000) i, generate_series(1, 10) k;
ALTER TABLE hotline.case_events ENABLE TRIGGER case_events_record_ids;
-- clocks: a callback and a resolution clock per case; 2000 callbacks overdue now
INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms, met_at, breached_at)
SELECT i, 'callback',
       CASE WHEN i % 500 = 0 THEN (CASE WHEN i % 1000 = 0 THEN 'breached' ELSE 'pending' END) ELSE 'met' END, 1,
       CASE WHEN i % 500 = 0 THEN now() - (i / 500) * interval '1 min' ELSE '2025-01-01'::timestamptz + i * interval '30 s' + interval '5 min' END,
       CASE WHEN i % 500 = 0 THEN now() - (i / 500) * interval '1 min' + interval '30 min' - interval '31 min'
            ELSE '2025-01-01'::timestamptz + i * interval '30 s' + interval '35 min' END,
       1800000,
       CASE WHEN i % 500 <> 0 THEN '2025-01-01'::timestamptz + i * interval '30 s' + interval '8 min' END,
       CASE WHEN i % 1000 = 0 THEN now() - (i / 500) * interval '1 min' - interval '1 min' END
FROM generate_series(1, 1000000) i;
INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms, met_at)
SELECT i, 'resolution', 'met', 1, '2025-01-01'::timestamptz + i * interval '30 s',
       '2025-01-01'::timestamptz + i * interval '30 s' + interval '48 h', 172800000,
       '2025-01-01'::timestamptz + i * interval '30 s' + interval '3 h'
FROM generate_series(1, 1000000) i;
-- 200k alerts, the last 1000 open
INSERT INTO hotline.alerts (kind, case_id, caller, level, raised_at, due_at, acked_at, acked_by, dedupe_key)
SELECT 'callback_overdue', i, '+86138' || lpad((i % 300000)::text, 8, '0'), 1,
       '2025-01-01'::timestamptz + i * interval '30 s' + interval '35 min',
       '2025-01-01'::timestamptz + i * interval '30 s' + interval '35 min',
       CASE WHEN i % 1000 <> 0 THEN '2025-01-01'::timestamptz + i * interval '30 s' + interval '40 min' END,
       CASE WHEN i % 1000 <> 0 THEN 'sup' END, i || ':callback:1:overdue'
FROM generate_series(5, 1000000, 5) i;
VACUUM ANALYZE;
SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) FROM pg_stat_user_tables WHERE schemaname = 'hotline' ORDER BY 1;
-- bytes per stored event with indexes: every partition of case_events and the idempotency keys
SELECT (SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i
        WHERE i.inhparent = 'hotline.case_events'::regclass) / 1e7 AS case_events_bytes_per_event,
       pg_total_relation_size('hotline.event_ids') / 1e7 AS event_ids_bytes_per_event;
-- 100k work orders (one for every tenth case; 8,640 in a month), for
-- department_monthly (024): replied two days after the case opened, one in 30
-- returned, one in 7 extended; each keeps its case's survey (033: the
-- survey.result event above, 18 minutes after the case opened, after the
-- dispatch; its body has no score), as the daemon's record_surveys would
INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, dispatched_at, signed_at,
        replied_at, result, due_at, sign_due_at, extensions, sign_state, sign_seq, reply_state, reply_seq,
        survey_at, survey_score)
SELECT 'o' || c.id, c.id, 1, c.department, CASE WHEN c.id % 30 = 0 THEN 'returned' ELSE 'replied' END,
       c.opened_at + interval '10 minutes', c.opened_at + interval '40 minutes',
       CASE WHEN c.id % 30 = 0 THEN NULL ELSE c.opened_at + interval '2 days' END,
       CASE WHEN c.id % 30 = 0 THEN NULL ELSE 'resolved' END,
       c.opened_at + interval '3 days', c.opened_at + interval '1 hour', (c.id % 7 = 0)::int, 'met', 1,
       CASE WHEN c.id % 30 = 0 THEN 'stopped' ELSE 'met' END, 1,
       c.opened_at + 9 * interval '2 min', NULL
FROM hotline.cases c WHERE c.id % 10 = 0 AND c.department IS NOT NULL;
ANALYZE hotline.orders;
-- the figures' rollup (023), counted once from the rows above
SELECT hotline.rebuild_figure_rollup();
VACUUM ANALYZE hotline.figure_rollup;
