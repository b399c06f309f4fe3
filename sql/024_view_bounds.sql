-- 024_view_bounds.sql - the last administrator views over 50 ms at ten million events (issue 15).
--
-- After 021-023 three views still took 50-60 ms on the ten-million-event
-- database (docs/explain.md), and one of them grew with history:
--
-- * hotline.department_monthly read the latest survey of EVERY case
--   (DISTINCT ON over all survey.result events of every partition) and
--   joined the month's orders to it: 13 ms with no orders at all (most of
--   it JIT-compiling a plan costed at 580,000), 3.1 s with 8,640 orders in
--   the month.  Now the view walks the months that have orders (a series
--   between the first and the last dispatch, so `WHERE month = X` keeps
--   one), reads that month's orders by a range of orders_dispatched_at,
--   and fetches each order's survey from case_events_survey, a partial
--   index of the survey.result events only (2 buffers a partition probed),
--   in the partitions from the order's dispatch on (run-time partition
--   pruning).  Its cost is the month's orders, not the history: 0.2 ms with
--   none, 91 ms for 8,640 orders in one month (about 10 us an order; the
--   50 ms holds up to ~4,000 orders a month - see docs/explain.md).
--   One refinement of meaning: the survey counted for an order is the
--   case's latest survey recorded AT OR AFTER the order's dispatch; a survey
--   from before the order existed cannot be about the department's reply
--   (the old view counted it).
--
-- * hotline.open_alerts planned a parallel sequential scan of all of
--   alerts (200,000 there, 1,000 open): two workers started for 40 ms
--   instead of the partial index alerts_open (001).  alerts is read by
--   the daemon and these views only through indexes, so parallel workers
--   never pay off on it: parallel_workers = 0.
--
-- * hotline.overdue_callbacks looked up each overdue callback's open
--   callback_overdue alert in alerts_case (every alert the case ever had)
--   and sorted them; alerts_open_callback holds only the open ones, in
--   the order wanted.  Its remaining cost is three index probes per
--   overdue callback (clock, case, caller): it grows with the overdue
--   list, not with history (34 ms for 2,000 overdue, 1 ms for the first 20).
--
-- Write cost: one index entry per survey.result event (case_events_survey;
-- no other event type has an entry) and one per callback_overdue alert.
-- An acknowledgement already updates alerts_open's predicate column.

ALTER TABLE hotline.alerts SET (parallel_workers = 0);

CREATE INDEX IF NOT EXISTS alerts_open_callback ON hotline.alerts (case_id, id)
    WHERE acked_at IS NULL AND kind = 'callback_overdue';

CREATE INDEX IF NOT EXISTS case_events_survey ON hotline.case_events (case_id, at)
    WHERE type = 'survey.result';

-- Same columns, names and types as 010's view (CREATE OR REPLACE keeps the
-- grants and the column comments of 018).
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
       count(s.score) FILTER (WHERE o.replied_at IS NOT NULL) AS surveys,
       round(count(*) FILTER (WHERE o.replied_at IS NOT NULL AND s.score >= 3)::numeric
             / NULLIF(count(s.score) FILTER (WHERE o.replied_at IS NOT NULL), 0), 3) AS satisfied_share,
       round(count(*) FILTER (WHERE o.signed_at IS NOT NULL AND o.signed_at <= o.sign_due_at)::numeric
             / NULLIF(count(*), 0), 3) AS sign_rate,
       round(count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.replied_at <= o.due_at)::numeric
             / NULLIF(count(*), 0), 3) AS reply_rate
FROM m
-- OFFSET 0 keeps this a per-month range scan of orders_dispatched_at (flattened
-- into a join, the planner scanned every order and filtered).
CROSS JOIN LATERAL (
    SELECT o.* FROM hotline.orders o
    WHERE o.dispatched_at >= m.starts AND o.dispatched_at < m.ends
    OFFSET 0
) o
LEFT JOIN LATERAL (
    SELECT (e.body->>'score')::int AS score
    FROM hotline.case_events e
    WHERE e.case_id = o.case_id AND e.type = 'survey.result' AND e.at >= o.dispatched_at
      AND o.replied_at IS NOT NULL
    ORDER BY e.at DESC, e.seq DESC
    LIMIT 1
) s ON true
GROUP BY m.month, o.department
ORDER BY m.month, o.department;

COMMENT ON INDEX hotline.alerts_open_callback IS 'Open callback_overdue alerts by case (overdue_callbacks, 024).';
COMMENT ON INDEX hotline.case_events_survey IS 'The survey.result events by case (department_monthly, 024).';
