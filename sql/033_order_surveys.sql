-- 033_order_surveys.sql - department_monthly reads each order's survey from the order row (issue 15).
--
-- The cost.  024's department_monthly fetched each order's survey from
-- case_events at read time: for every order of the month, one probe of the
-- partial index case_events_survey in every month partition from the
-- order's dispatch on (run-time pruning keeps the earlier ones out).  That
-- is ~20 probes an order at ten million events, and the number grows with
-- every month of history kept after the order: 130 ms in the bench for the
-- 8,640 orders of one month (target 50 ms), and the figure would keep
-- growing with the history, not with the month.
--
-- The design.  The survey an order counts is fixed when the survey arrives,
-- so it is stored then: hotline.orders.survey_at and survey_score hold the
-- case's latest survey.result recorded at or after the order's dispatch (the
-- meaning 024 gave the view, unchanged; ties on `at` go to the later event,
-- as 024's `ORDER BY at DESC, seq DESC` did).  The daemon's batch sends the
-- batch's survey.result events to hotline.record_surveys() (store_write.c,
-- only in a batch that holds one): one UPDATE of the case's orders through
-- orders_case_id_order_no_key, no trigger, no cost for any other event.
-- The view then reads the month's orders and nothing else.
--
-- Why not at read time with a better index: any index of case_events is
-- one index a partition, so a per-order lookup costs a probe per month kept
-- after the order.  Why not the case row: the daemon writes cases from its
-- own struct; a column it does not load would be overwritten or need a
-- second write.  The order row is written by the daemon with an explicit
-- column list (SQL_W_ORDERS), which leaves these two columns alone.
--
-- Who writes case_events besides the daemon must call record_surveys() the
-- same way (the SQL tests do; tests/sql/gen10m.sql fills the columns of its
-- generated orders with the backfill below).  Retention that drops old event
-- months no longer takes an old order's survey out of its month's figures.
--
-- Write cost: case_events_survey (024) is dropped: one index entry less per
-- survey.result event; a survey updates its case's orders (usually one, HOT:
-- neither column is indexed).

ALTER TABLE hotline.orders ADD COLUMN IF NOT EXISTS survey_at timestamptz,
                           ADD COLUMN IF NOT EXISTS survey_score integer;
COMMENT ON COLUMN hotline.orders.survey_at IS
    'When the case''s latest survey recorded at or after this order''s dispatch was taken; NULL if none (department_monthly).';
COMMENT ON COLUMN hotline.orders.survey_score IS
    'That survey''s score (1..5); NULL if none (department_monthly).';

-- surveys: a JSON array of {"case_id", "at" (ms since the epoch), "score",
-- "n" (the order within the batch)}.  Per case only the latest survey of the
-- batch can matter: for an order dispatched at or before it, it is the
-- latest survey at or after the dispatch; for an order dispatched after it,
-- so is every earlier one.  PL/pgSQL: the plan is kept per session.
CREATE OR REPLACE FUNCTION hotline.record_surveys(surveys jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE hotline.orders o SET survey_at = s.at, survey_score = s.score
    FROM (SELECT DISTINCT ON (r.case_id) r.case_id, hotline.from_ms(r.at) AS at, r.score
          FROM jsonb_to_recordset(surveys) AS r(case_id bigint, at bigint, score integer, n integer)
          ORDER BY r.case_id, r.at DESC, r.n DESC) s
    WHERE o.case_id = s.case_id AND o.dispatched_at <= s.at
      AND (o.survey_at IS NULL OR o.survey_at <= s.at);
END
$$;
COMMENT ON FUNCTION hotline.record_surveys(jsonb) IS
    'Stores a batch''s survey.result events on their cases'' orders (survey_at, survey_score; 033). Called by the daemon.';
REVOKE EXECUTE ON FUNCTION hotline.record_surveys(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.record_surveys(jsonb) TO hotline_daemon;

-- The orders already stored: the latest survey of each case that has an
-- order, kept for the orders dispatched at or before it (024's meaning).
-- Uses case_events_survey before it goes.
UPDATE hotline.orders o SET survey_at = s.at, survey_score = s.score
FROM (SELECT DISTINCT ON (e.case_id) e.case_id, e.at, (e.body->>'score')::int AS score
      FROM hotline.case_events e
      WHERE e.type = 'survey.result' AND e.case_id IN (SELECT case_id FROM hotline.orders)
      ORDER BY e.case_id, e.at DESC, e.seq DESC) s
WHERE o.case_id = s.case_id AND o.dispatched_at <= s.at;

DROP INDEX IF EXISTS hotline.case_events_survey;

-- Same columns, names and types as 024's view (CREATE OR REPLACE keeps the
-- grants and the column comments of 018).  The months come from the first
-- and last dispatch (two steps of orders_dispatched_at), the month's orders
-- from a range of orders_dispatched_at (OFFSET 0: flattened into a join,
-- the planner scanned every order and filtered), the survey from the row.
CREATE OR REPLACE VIEW hotline.department_monthly AS
WITH m AS (
    SELECT g::date AS month,
           g AT TIME ZONE hotline.report_tz() AS starts,
           (g + interval '1 month') AT TIME ZONE hotline.report_tz() AS ends
    FROM (SELECT min(dispatched_at) AS lo, max(dispatched_at) AS hi FROM hotline.orders) b,
         -- local months as timestamp (no zone): g + 1 month is the next local midnight
         generate_series(date_trunc('month', hotline.local_day(b.lo)::timestamp),
                         date_trunc('month', hotline.local_day(b.hi)::timestamp), interval '1 month') AS g
)
SELECT m.month, o.department,
       count(*) AS received,
       count(*) FILTER (WHERE o.signed_at IS NOT NULL AND o.signed_at <= o.sign_due_at) AS signed_in_time,
       count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.replied_at <= o.due_at) AS replied_in_time,
       count(*) FILTER (WHERE o.status = 'returned') AS returned,
       count(*) FILTER (WHERE o.extensions > 0) AS extended,
       count(*) FILTER (WHERE o.result = 'resolved') AS resolved,
       count(o.survey_score) FILTER (WHERE o.replied_at IS NOT NULL) AS surveys,
       round(count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.survey_score >= 3)::numeric
             / NULLIF(count(o.survey_score) FILTER (WHERE o.replied_at IS NOT NULL), 0), 3) AS satisfied_share,
       round(count(*) FILTER (WHERE o.signed_at IS NOT NULL AND o.signed_at <= o.sign_due_at)::numeric
             / NULLIF(count(*), 0), 3) AS sign_rate,
       round(count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.replied_at <= o.due_at)::numeric
             / NULLIF(count(*), 0), 3) AS reply_rate
FROM m
CROSS JOIN LATERAL (
    SELECT o.department, o.signed_at, o.sign_due_at, o.replied_at, o.due_at, o.status, o.extensions,
           o.result, o.survey_score
    FROM hotline.orders o
    WHERE o.dispatched_at >= m.starts AND o.dispatched_at < m.ends
    OFFSET 0
) o
GROUP BY m.month, o.department
ORDER BY m.month, o.department;

------------------------------------------- overdue_callbacks: the months after now are not probed

-- What was left of its cost at ten million events (bench: 69-72 ms for 2,000
-- overdue callbacks; EXPLAIN (ANALYZE, BUFFERS) on the bench cluster): per
-- overdue callback its clock row, the case (4 buffers), the caller (memoized),
-- the open alert (2.5 buffers) and the callback attempts, an Append over
-- case_events pruned at each rescan to the months from the clock's start on.
-- Those months run to the last partition made ahead: 13 of the 14 probed per
-- callback were months not begun yet (create_event_month keeps a year
-- ahead), empty but each a scan started and ended: ~10 ms of the 2,000.
-- An event's `at` is at most one day after its receipt (protocol.c,
-- HL_AT_FUTURE_MS), so `at <= now() + 2 days` (the second day for clock
-- skew between the daemon's host and the database's) loses no attempt and
-- prunes them at executor start.  Written as `<= ANY (ARRAY[...])`, not a
-- plain `<=`: two plain bounds on `at` are costed as a narrow range (0.5 %)
-- and the planner then ANDs each month's BRIN (at) with the case_id index,
-- a lossy bitmap of the whole range of the month per callback; partition
-- pruning reads the array form, the BRIN index (no array support in
-- PostgreSQL 15) does not, so the case_id probe stays.  Same columns, names
-- and types (CREATE OR REPLACE keeps the grants, comments, security barrier).
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
          AND e.at <= ANY (ARRAY[now() + interval '2 days'])
     ) t ON true
     LEFT JOIN LATERAL (
        SELECT a.id, a.level FROM hotline.alerts a
        WHERE a.case_id = k.case_id AND a.kind = 'callback_overdue' AND a.acked_at IS NULL
        ORDER BY a.id DESC LIMIT 1
     ) al ON true
WHERE k.kind = 'callback' AND k.state IN ('pending', 'breached') AND k.due_at < now()
ORDER BY k.due_at, k.case_id;
