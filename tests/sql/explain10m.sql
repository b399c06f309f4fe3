-- tests/sql/explain10m.sql - the plans of docs/explain.md (NOT a test; on the gen10m database).
--
--   psql -d big -f tests/sql/explain10m.sql
--
-- Every administrator view, as hotline_admin (masking included), each run
-- twice: the second (warm) plan is the one documented.
\pset pager off
SET ROLE hotline_admin;
\o /dev/null
SELECT * FROM hotline.case_history WHERE case_id = 555555;
SELECT * FROM hotline.overdue_callbacks;
SELECT * FROM hotline.open_alerts;
SELECT * FROM hotline.daily_figures WHERE day = '2025-06-01';
SELECT * FROM hotline.daily_figures WHERE day >= '2025-06-01' AND day < '2025-07-01';
SELECT * FROM hotline.agent_daily WHERE day = '2025-06-01';
SELECT * FROM hotline.agent_daily WHERE day >= '2025-06-01' AND day < '2025-07-01';
SELECT * FROM hotline.department_daily WHERE day = '2025-06-01';
SELECT * FROM hotline.department_daily WHERE day >= '2025-06-01' AND day < '2025-07-01';
\o
\echo '### case_history, one case'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hotline.case_history WHERE case_id = 555555;
\echo '### overdue_callbacks'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hotline.overdue_callbacks;
\echo '### overdue_callbacks, first 20'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hotline.overdue_callbacks LIMIT 20;
\echo '### open_alerts'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hotline.open_alerts;
\echo '### daily_figures, one day'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hotline.daily_figures WHERE day = '2025-06-01';
\echo '### daily_figures, one month'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hotline.daily_figures WHERE day >= '2025-06-01' AND day < '2025-07-01';
\echo '### agent_daily, one day'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hotline.agent_daily WHERE day = '2025-06-01';
\echo '### agent_daily, one month'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hotline.agent_daily WHERE day >= '2025-06-01' AND day < '2025-07-01';
\echo '### department_daily, one day'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hotline.department_daily WHERE day = '2025-06-01';
\echo '### department_daily, one month'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hotline.department_daily WHERE day >= '2025-06-01' AND day < '2025-07-01';
\echo '### department_monthly, one month'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hotline.department_monthly WHERE month = '2025-06-01';
RESET ROLE;
\echo '### sizes'
SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) FROM pg_stat_user_tables
WHERE schemaname = 'hotline' AND relname NOT LIKE 'case_events_p%' ORDER BY 1;
SELECT (SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i
        WHERE i.inhparent = 'hotline.case_events'::regclass) / 1e7 AS case_events_bytes_per_event,
       pg_total_relation_size('hotline.event_ids') / 1e7 AS event_ids_bytes_per_event;
\echo '### retention: one month dropped'
\timing on
BEGIN;
SELECT hotline.drop_events_before('2025-02-01');
ROLLBACK;
