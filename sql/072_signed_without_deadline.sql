-- 072_signed_without_deadline.sql - an order signed for under a policy
-- without a sign deadline counts as signed in time in department_monthly.
--
-- The defect.  `sign = "0"` (orders.sign or a policy's sign; see
-- docs/configuration.md) means no sign clock: the order is written with
-- sign_due_at NULL.  010, 033 and 036 counted signed_in_time as
-- `signed_at <= sign_due_at`, which is never true against NULL, so every
-- department working under such a policy was published with
-- signed_in_time 0 and sign_rate 0.000 however promptly it signed (the
-- order's sign_state said nothing was owed).  With no deadline there is
-- nothing to be late for: a sign is in time.  An order never signed (its
-- signed_at NULL) is still not counted, deadline or not.
--
-- The rule is 036's in three places: the trigger's cells
-- (order_rollup_cells), the recount (rebuild_order_rollup) and the view's
-- own count for a session in another report zone (department_monthly).
-- Each is replaced whole with only that comparison changed; the view keeps
-- its columns, names and types (CREATE OR REPLACE keeps 018's comments and
-- the grants).  Then the rollup is recounted in its zone, as 036 did, so the
-- months already stored are corrected (tests/sql/order_rollup_test.sql).

CREATE OR REPLACE FUNCTION hotline.order_rollup_cells(z text, new_rows hotline.orders[], old_rows hotline.orders[])
RETURNS SETOF hotline.order_rollup
LANGUAGE sql STABLE AS $$
SELECT c.* FROM (
    SELECT date_trunc('month', o.dispatched_at AT TIME ZONE z)::date AS month, o.department,
           sum(o.sign) AS received,
           sum(o.sign * coalesce(o.signed_at <= coalesce(o.sign_due_at, 'infinity'), false)::int) AS signed_in_time,
           sum(o.sign * coalesce(o.replied_at <= o.due_at, false)::int) AS replied_in_time,
           sum(o.sign * (o.status = 'returned')::int) AS returned,
           sum(o.sign * (o.extensions > 0)::int) AS extended,
           sum(o.sign * coalesce(o.result = 'resolved', false)::int) AS resolved,
           sum(o.sign * (o.replied_at IS NOT NULL AND o.survey_score IS NOT NULL)::int) AS surveys,
           sum(o.sign * coalesce(o.replied_at IS NOT NULL AND o.survey_score >= 3, false)::int) AS surveys_satisfied
    FROM (SELECT 1 AS sign, r.* FROM unnest(new_rows) r
          UNION ALL
          SELECT -1, r.* FROM unnest(old_rows) r) o
    GROUP BY 1, 2
) c
WHERE (c.received, c.signed_in_time, c.replied_in_time, c.returned, c.extended, c.resolved, c.surveys,
       c.surveys_satisfied) IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0)
ORDER BY 1, 2
$$;

CREATE OR REPLACE FUNCTION hotline.rebuild_order_rollup(z text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cells bigint;
BEGIN
    LOCK TABLE hotline.order_rollup IN EXCLUSIVE MODE;
    DELETE FROM hotline.order_rollup;
    IF z IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO hotline.order_rollup
    SELECT date_trunc('month', o.dispatched_at AT TIME ZONE z)::date, o.department, count(*),
           count(*) FILTER (WHERE o.signed_at <= coalesce(o.sign_due_at, 'infinity')),
           count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.replied_at <= o.due_at),
           count(*) FILTER (WHERE o.status = 'returned'), count(*) FILTER (WHERE o.extensions > 0),
           count(*) FILTER (WHERE o.result = 'resolved'),
           count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.survey_score IS NOT NULL),
           count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.survey_score >= 3)
    FROM hotline.orders o
    GROUP BY 1, 2;
    GET DIAGNOSTICS cells = ROW_COUNT;
    RETURN cells;
END
$$;

CREATE OR REPLACE VIEW hotline.department_monthly AS
WITH m AS (
    SELECT g::date AS month,
           g AT TIME ZONE hotline.report_tz() AS starts,
           (g + interval '1 month') AT TIME ZONE hotline.report_tz() AS ends
    FROM (SELECT min(dispatched_at) AS lo, max(dispatched_at) AS hi FROM hotline.orders) b,
         -- local months as timestamp (no zone): g + 1 month is the next local midnight
         generate_series(date_trunc('month', hotline.local_day(b.lo)::timestamp),
                         date_trunc('month', hotline.local_day(b.hi)::timestamp), interval '1 month') AS g
    WHERE (SELECT s.zone FROM hotline.figure_rollup_state s) IS DISTINCT FROM hotline.report_tz()
), f AS (
    SELECT r.month, r.department, r.received, r.signed_in_time, r.replied_in_time, r.returned, r.extended,
           r.resolved, r.surveys, r.surveys_satisfied
    FROM hotline.order_rollup r
    WHERE (SELECT s.zone FROM hotline.figure_rollup_state s) = hotline.report_tz() AND r.received <> 0
    UNION ALL
    SELECT m.month, o.department,
           count(*),
           count(*) FILTER (WHERE o.signed_at <= coalesce(o.sign_due_at, 'infinity')),
           count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.replied_at <= o.due_at),
           count(*) FILTER (WHERE o.status = 'returned'),
           count(*) FILTER (WHERE o.extensions > 0),
           count(*) FILTER (WHERE o.result = 'resolved'),
           count(o.survey_score) FILTER (WHERE o.replied_at IS NOT NULL),
           count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.survey_score >= 3)
    FROM m
    CROSS JOIN LATERAL (
        SELECT o.department, o.signed_at, o.sign_due_at, o.replied_at, o.due_at, o.status, o.extensions,
               o.result, o.survey_score
        FROM hotline.orders o
        WHERE o.dispatched_at >= m.starts AND o.dispatched_at < m.ends
        OFFSET 0
    ) o
    GROUP BY m.month, o.department
)
SELECT f.month, f.department, f.received, f.signed_in_time, f.replied_in_time, f.returned, f.extended,
       f.resolved, f.surveys,
       round(f.surveys_satisfied::numeric / NULLIF(f.surveys, 0), 3) AS satisfied_share,
       round(f.signed_in_time::numeric / NULLIF(f.received, 0), 3) AS sign_rate,
       round(f.replied_in_time::numeric / NULLIF(f.received, 0), 3) AS reply_rate
FROM f
ORDER BY f.month, f.department;

-- The orders already stored, in the figures' zone if there is one.
SELECT hotline.rebuild_order_rollup((SELECT s.zone FROM hotline.figure_rollup_state s));
