-- 036_order_rollup.sql - department_monthly read from a rollup kept by the orders' own writes (issue 15).
--
-- The cost.  033's department_monthly reads every order dispatched in the
-- month: 9 ms for the 8,640 orders of a month at ten million events, 52.8
-- ms (best of three; 112 ms under EXPLAIN ANALYZE's timing) for the 86,400
-- of a month at a hundred million (`make bench-history`, 2026-12-03): the
-- time grows with the month's orders, and the target is 50 ms whatever the
-- history.  The other figures of issue 15 come from figure_rollup (023);
-- the orders' figures did not.
--
-- The design.  An order's figures are a function of its own row alone
-- (received; signed in time; replied in time; returned; extended; resolved;
-- a survey counted and whether it was satisfied, 033), and its month is
-- its dispatch's local month.  So the month's cells can follow every write
-- of an order exactly: statement triggers on hotline.orders read the
-- statement's transition tables, count the new rows' facts minus the old
-- rows' per (month, department), and add the difference to
-- hotline.order_rollup in the same transaction.  No hint from the daemon
-- is needed, so every writer is followed: the daemon's upsert
-- (SQL_W_ORDERS: an INSERT .. ON CONFLICT fires the INSERT trigger for the
-- rows it inserts and the UPDATE trigger for those it updates),
-- record_surveys (033), a correction by hand, retention's DELETE, a
-- TRUNCATE.  An update that changes no figure (most: a clock's state, a
-- note) sums to zero and writes nothing.
--
-- The zone.  Months are local months in the report zone.  The rollup is
-- counted in the zone of the figures' rollup (figure_rollup_state, 023),
-- and rebuild_figure_rollup() (by hand, or by `hotlined --migrate` when
-- report.timezone changes) now recounts both in the same transaction.
-- Without that row the triggers write nothing, the rollup is emptied, and
-- the view counts the orders (033's query), as it does for a session whose
-- report zone is another (SET hotline.timezone): exact either way.
--
-- Several daemons.  Two batches adding to the same cells would lock them in
-- the order of their statements, and one batch writes orders in two
-- statements (the upsert, then record_surveys), so two batches could each
-- hold a cell the other wants next.  The trigger first takes one
-- transaction advisory lock (class 1212940294), so the batches that write
-- orders keep their cells' locks one after the other, from their first
-- order write to their COMMIT (figure_rollup's cells of today already
-- serialize them in the same way: docs/write-cost.md, "Several daemons and
-- the rollup").  Every batch takes it after lock_batch's and
-- figures_before's advisory locks and before figures_after's cells, so no
-- cycle.  A recount takes the same locks in the same order (below): it
-- waits for the batches in flight, and the ones after it add to the
-- recounted cells.
--
-- Write cost: per batch that writes orders, one aggregate over its
-- transition rows and an upsert of a few cells (one per month and
-- department it touches); none for a batch without orders.

CREATE TABLE hotline.order_rollup (
    month            date NOT NULL,
    department       text NOT NULL,
    received         bigint NOT NULL DEFAULT 0,
    signed_in_time   bigint NOT NULL DEFAULT 0,
    replied_in_time  bigint NOT NULL DEFAULT 0,
    returned         bigint NOT NULL DEFAULT 0,
    extended         bigint NOT NULL DEFAULT 0,
    resolved         bigint NOT NULL DEFAULT 0,
    surveys          bigint NOT NULL DEFAULT 0,
    surveys_satisfied bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (month, department)
);
COMMENT ON TABLE hotline.order_rollup IS
    'Work-order figures per local month of dispatch and department, in figure_rollup_state''s zone, kept by triggers on orders in the same transaction (036). Read through department_monthly.';
COMMENT ON COLUMN hotline.order_rollup.month IS 'The local month (its first day) in which the orders were dispatched, in figure_rollup_state''s zone.';
COMMENT ON COLUMN hotline.order_rollup.department IS 'The department the orders were dispatched to.';
COMMENT ON COLUMN hotline.order_rollup.received IS 'Orders dispatched (department_monthly.received).';
COMMENT ON COLUMN hotline.order_rollup.signed_in_time IS 'Of them, signed for by their sign deadline.';
COMMENT ON COLUMN hotline.order_rollup.replied_in_time IS 'Of them, replied to by their reply deadline.';
COMMENT ON COLUMN hotline.order_rollup.returned IS 'Of them, returned by the department (status returned).';
COMMENT ON COLUMN hotline.order_rollup.extended IS 'Of them, granted at least one extension.';
COMMENT ON COLUMN hotline.order_rollup.resolved IS 'Of them, replied with the result resolved.';
COMMENT ON COLUMN hotline.order_rollup.surveys IS 'Of the replied ones, those with a survey score (033).';
COMMENT ON COLUMN hotline.order_rollup.surveys_satisfied IS 'Of those, scored 3 or more (the numerator of satisfied_share).';
REVOKE ALL ON hotline.order_rollup FROM PUBLIC;
GRANT SELECT ON hotline.order_rollup TO hotline_admin;

-- The cells of some order rows: +1 for each fact of a row of new_rows, -1
-- for each of old_rows, per local month of dispatch in zone z and
-- department, in key order (the upsert locks them in that order), the
-- cells whose difference is zero left out.  The facts are 033's
-- department_monthly's, one row at a time.
CREATE FUNCTION hotline.order_rollup_cells(z text, new_rows hotline.orders[], old_rows hotline.orders[])
RETURNS SETOF hotline.order_rollup
LANGUAGE sql STABLE AS $$
SELECT c.* FROM (
    SELECT date_trunc('month', o.dispatched_at AT TIME ZONE z)::date AS month, o.department,
           sum(o.sign) AS received,
           sum(o.sign * coalesce(o.signed_at <= o.sign_due_at, false)::int) AS signed_in_time,
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
REVOKE EXECUTE ON FUNCTION hotline.order_rollup_cells(text, hotline.orders[], hotline.orders[]) FROM PUBLIC;

-- Add (new - old) of the changed orders to their cells.  One function for
-- the four events: each branch names only the transition tables its event
-- has (PL/pgSQL plans a statement when it first runs it).
CREATE FUNCTION hotline.order_rollup_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    z text;
    new_rows hotline.orders[] := '{}';
    old_rows hotline.orders[] := '{}';
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM hotline.order_rollup;
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(1212940294, 0);
    -- read after the lock: a recount that changed the zone has committed
    z := (SELECT s.zone FROM hotline.figure_rollup_state s);
    IF z IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_rows := ARRAY(SELECT n FROM new_orders n);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_rows := ARRAY(SELECT o FROM old_orders o);
    END IF;
    INSERT INTO hotline.order_rollup AS r
    SELECT * FROM hotline.order_rollup_cells(z, new_rows, old_rows)
    ON CONFLICT (month, department) DO UPDATE SET
        received = r.received + EXCLUDED.received, signed_in_time = r.signed_in_time + EXCLUDED.signed_in_time,
        replied_in_time = r.replied_in_time + EXCLUDED.replied_in_time, returned = r.returned + EXCLUDED.returned,
        extended = r.extended + EXCLUDED.extended, resolved = r.resolved + EXCLUDED.resolved,
        surveys = r.surveys + EXCLUDED.surveys, surveys_satisfied = r.surveys_satisfied + EXCLUDED.surveys_satisfied;
    RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.order_rollup_follow() FROM PUBLIC;

CREATE TRIGGER orders_rollup_insert AFTER INSERT ON hotline.orders
    REFERENCING NEW TABLE AS new_orders FOR EACH STATEMENT EXECUTE FUNCTION hotline.order_rollup_follow();
CREATE TRIGGER orders_rollup_update AFTER UPDATE ON hotline.orders
    REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders
    FOR EACH STATEMENT EXECUTE FUNCTION hotline.order_rollup_follow();
CREATE TRIGGER orders_rollup_delete AFTER DELETE ON hotline.orders
    REFERENCING OLD TABLE AS old_orders FOR EACH STATEMENT EXECUTE FUNCTION hotline.order_rollup_follow();
CREATE TRIGGER orders_rollup_truncate AFTER TRUNCATE ON hotline.orders
    FOR EACH STATEMENT EXECUTE FUNCTION hotline.order_rollup_follow();

-- Recount the rollup from the orders in zone z (NULL: empty it).  Called
-- by rebuild_figure_rollup() (below), after the figures' recount.
CREATE FUNCTION hotline.rebuild_order_rollup(z text) RETURNS bigint
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
           count(*) FILTER (WHERE o.signed_at IS NOT NULL AND o.signed_at <= o.sign_due_at),
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
REVOKE EXECUTE ON FUNCTION hotline.rebuild_order_rollup(text) FROM PUBLIC;
COMMENT ON FUNCTION hotline.rebuild_order_rollup(text) IS
    'Recounts order_rollup from the orders in the given zone, or empties it (036); rebuild_figure_rollup() runs it.';

-- rebuild_figure_rollup() recounts both rollups.  035's function keeps its
-- body under another name; the new one takes the locks in the order every
-- batch takes them (figures_before's ROW EXCLUSIVE on figure_case_rollup
-- first, then the orders trigger's advisory lock and cells, then
-- figure_rollup's cells in figures_after), so a recount and a batch never
-- wait for each other in a circle: the recount waits at its first lock for
-- the batches past their figures_before, and the later ones wait there for
-- it.  (A batch of timers alone writes orders without figures_before; it
-- takes no figure lock, so it only makes the recount wait.)
ALTER FUNCTION hotline.rebuild_figure_rollup(text) RENAME TO rebuild_figure_cells;
COMMENT ON FUNCTION hotline.rebuild_figure_cells(text) IS
    'Recount figure_rollup from the base rows in a zone (default: the report zone); empties figure_case_rollup (031, 035). Called by rebuild_figure_rollup() (036).';
CREATE FUNCTION hotline.rebuild_figure_rollup(p_zone text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cells bigint;
BEGIN
    LOCK TABLE hotline.figure_case_rollup IN EXCLUSIVE MODE;
    PERFORM pg_advisory_xact_lock(1212940294, 0);
    LOCK TABLE hotline.order_rollup IN EXCLUSIVE MODE;
    cells := hotline.rebuild_figure_cells(p_zone);
    PERFORM hotline.rebuild_order_rollup((SELECT s.zone FROM hotline.figure_rollup_state s));
    RETURN cells;
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.rebuild_figure_rollup(text) FROM PUBLIC;
COMMENT ON FUNCTION hotline.rebuild_figure_rollup(text) IS
    'Recount figure_rollup from the base rows in a zone (default: the report zone), empty figure_case_rollup, and recount order_rollup in the same zone (031, 035, 036).';

-- Without the figures' zone (its row deleted by hand) there is no rollup of
-- the orders either: the view counts the orders.
CREATE FUNCTION hotline.order_rollup_zone_gone() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM hotline.rebuild_order_rollup(NULL);
    RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.order_rollup_zone_gone() FROM PUBLIC;
CREATE TRIGGER figure_rollup_state_orders AFTER DELETE ON hotline.figure_rollup_state
    FOR EACH STATEMENT EXECUTE FUNCTION hotline.order_rollup_zone_gone();
CREATE TRIGGER figure_rollup_state_orders_truncate AFTER TRUNCATE ON hotline.figure_rollup_state
    FOR EACH STATEMENT EXECUTE FUNCTION hotline.order_rollup_zone_gone();

-- The orders already stored, in the figures' zone if there is one.
SELECT hotline.rebuild_order_rollup((SELECT s.zone FROM hotline.figure_rollup_state s));

-- Same columns, names and types as 033's view (CREATE OR REPLACE keeps the
-- grants and the column comments of 018).  The first half reads the month's
-- cells by the rollup's key when the session's report zone is the
-- rollup's; the second is 033's count of the month's orders otherwise (each
-- half's condition is a one-time filter: the other half does not run).
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
           count(*) FILTER (WHERE o.signed_at IS NOT NULL AND o.signed_at <= o.sign_due_at),
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
