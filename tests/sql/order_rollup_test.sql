-- tests/sql/order_rollup_test.sql - hotline.order_rollup (036) equals a recount of the orders, write after write.
--
-- Run by scripts/sql-test.sh in the same database as the other tests.  The
-- orders are written as the daemon writes them (role hotlined): plain
-- INSERTs, the daemon's upsert (INSERT .. ON CONFLICT DO UPDATE, which
-- inserts some rows and updates others in one statement), record_surveys
-- (033), then by hand: an update that changes no figure, a department
-- changed, a DELETE, a TRUNCATE.  After each, department_monthly (read from
-- the rollup) and the rollup's cells must equal 033's count of the orders
-- in the report zone.  Then the zone: a recount in another zone follows
-- rebuild_figure_rollup(), a session in another zone is counted from the
-- orders, and without the zone row the triggers write nothing.  The
-- state of the figures' rollup is put back at the end.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET hotline.timezone = 'Asia/Shanghai';

CREATE SCHEMA IF NOT EXISTS hlordr;
CREATE TABLE hlordr.saved_zone AS SELECT zone FROM hotline.figure_rollup_state;

-- 033's department_monthly, counted from the orders of this test's departments.
CREATE OR REPLACE VIEW hlordr.recount AS
SELECT date_trunc('month', o.dispatched_at AT TIME ZONE hotline.report_tz())::date AS month, o.department,
       count(*) AS received,
       -- no sign deadline (sign = "0"): a sign is in time (072)
       count(*) FILTER (WHERE o.signed_at IS NOT NULL
                          AND (o.sign_due_at IS NULL OR o.signed_at <= o.sign_due_at)) AS signed_in_time,
       count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.replied_at <= o.due_at) AS replied_in_time,
       count(*) FILTER (WHERE o.status = 'returned') AS returned,
       count(*) FILTER (WHERE o.extensions > 0) AS extended,
       count(*) FILTER (WHERE o.result = 'resolved') AS resolved,
       count(o.survey_score) FILTER (WHERE o.replied_at IS NOT NULL) AS surveys,
       count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.survey_score >= 3) AS surveys_satisfied
FROM hotline.orders o WHERE o.department LIKE 'or-%'
GROUP BY 1, 2;
CREATE OR REPLACE VIEW hlordr.viewed AS
SELECT month, department, received, signed_in_time, replied_in_time, returned, extended, resolved, surveys,
       coalesce(round(satisfied_share * surveys), 0) AS surveys_satisfied
FROM hotline.department_monthly WHERE department LIKE 'or-%';
CREATE OR REPLACE VIEW hlordr.cells AS
SELECT month, department, received, signed_in_time, replied_in_time, returned, extended, resolved, surveys,
       surveys_satisfied
FROM hotline.order_rollup WHERE department LIKE 'or-%' AND received <> 0;

-- The rows of the recount missing from relation b and those of b missing
-- from the recount, or NULL when they are the same (whole rows compared as
-- text: the aliases ra and rb name no column of the views compared).
CREATE OR REPLACE FUNCTION hlordr.diff(b regclass, b_side text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    diff text;
BEGIN
    EXECUTE format('SELECT string_agg(format(''%%s %%s'', side, row_txt), ''; '') FROM (
        (SELECT ''recount-only'' AS side, ra::text AS row_txt FROM hlordr.recount ra
         EXCEPT SELECT ''recount-only'', rb::text FROM %1$s rb)
        UNION ALL
        (SELECT %2$L, rb::text FROM %1$s rb
         EXCEPT SELECT %2$L, ra::text FROM hlordr.recount ra)) x', b, b_side) INTO diff;
    RETURN diff;
END $$;

-- what: the step; rolled: whether the view must have read the rollup
CREATE OR REPLACE FUNCTION hlordr.check(what text, rolled boolean DEFAULT true) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    diff text := hlordr.diff('hlordr.viewed', 'view-only');
BEGIN
    IF diff IS NOT NULL THEN
        RAISE EXCEPTION 'FAIL %: department_monthly <> recount: %', what, diff;
    END IF;
    IF rolled THEN
        IF (SELECT zone FROM hotline.figure_rollup_state) IS DISTINCT FROM hotline.report_tz() THEN
            RAISE EXCEPTION 'FAIL %: the view did not read the rollup (its zone is not the report zone)', what;
        END IF;
        diff := hlordr.diff('hlordr.cells', 'rollup-only');
        IF diff IS NOT NULL THEN
            RAISE EXCEPTION 'FAIL %: order_rollup <> recount: %', what, diff;
        END IF;
    END IF;
    RAISE NOTICE 'ok %', what;
END $$;

SET client_min_messages = notice;   -- each passed check prints 'ok ...'

SELECT hotline.rebuild_figure_rollup('Asia/Shanghai');
SELECT hlordr.check('recounted with the figures');

INSERT INTO hotline.cases (id, caller, status, opened_at, department)
VALUES (9701, '+8613900009701', 'open', '2025-05-31 16:00+00', 'or-water'),
       (9702, '+8613900009702', 'open', '2025-06-10 02:00+00', 'or-roads');

-- As the daemon writes: a plain INSERT; the first order is dispatched on
-- 31 May in UTC, which is 1 June in Shanghai.
SET ROLE hotlined;
INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, dispatched_at, due_at, sign_due_at,
                            sign_state, sign_seq, reply_state, reply_seq)
VALUES ('or-1', 9701, 1, 'or-water', 'dispatched', '2025-05-31 17:00+00', '2025-06-03 17:00+00',
        '2025-05-31 18:00+00', 'pending', 1, 'pending', 1),
       ('or-2', 9701, 2, 'or-roads', 'dispatched', '2025-05-31 15:00+00', '2025-06-03 15:00+00',
        '2025-05-31 16:00+00', 'pending', 1, 'pending', 1);
RESET ROLE;
SELECT hlordr.check('inserted, the month in the report zone');
DO $$ BEGIN
    IF (SELECT received FROM hotline.order_rollup WHERE month = '2025-06-01' AND department = 'or-water') <> 1
       OR (SELECT received FROM hotline.order_rollup WHERE month = '2025-05-01' AND department = 'or-roads') <> 1 THEN
        RAISE EXCEPTION 'FAIL the local month: %', (SELECT string_agg(c::text, '; ') FROM hlordr.cells c);
    END IF;
    RAISE NOTICE 'ok 31 May 17:00 UTC counts in June in Shanghai';
END $$;

-- The daemon's upsert: two new orders (one signed without a sign deadline),
-- two existing ones updated (signed in time, returned; replied late with an
-- extension) in one statement.
SET ROLE hotlined;
INSERT INTO hotline.orders AS t (order_id, case_id, order_no, department, status, dispatched_at, signed_at,
                                 replied_at, result, due_at, sign_due_at, extensions, sign_state, sign_seq,
                                 reply_state, reply_seq)
VALUES ('or-1', 9701, 1, 'or-water', 'replied', '2025-05-31 17:00+00', '2025-05-31 17:30+00',
        '2025-06-05 00:00+00', 'resolved', '2025-06-03 17:00+00', '2025-05-31 18:00+00', 1, 'met', 1, 'breached', 1),
       ('or-2', 9701, 2, 'or-roads', 'returned', '2025-05-31 15:00+00', NULL, NULL, NULL,
        '2025-06-03 15:00+00', '2025-05-31 16:00+00', 0, 'stopped', 1, 'stopped', 1),
       ('or-3', 9702, 1, 'or-roads', 'signed', '2025-06-10 03:00+00', '2025-06-10 05:00+00', NULL, NULL,
        '2025-06-13 03:00+00', '2025-06-10 04:00+00', 0, 'breached', 1, 'pending', 1),
       -- a policy with sign = "0": no sign deadline, no sign clock
       ('or-9', 9702, 9, 'or-roads', 'signed', '2025-06-10 03:00+00', '2025-06-12 05:00+00', NULL, NULL,
        '2025-06-13 03:00+00', NULL, 0, NULL, 0, 'pending', 1)
ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, signed_at = EXCLUDED.signed_at,
    replied_at = EXCLUDED.replied_at, result = EXCLUDED.result, extensions = EXCLUDED.extensions,
    sign_state = EXCLUDED.sign_state, reply_state = EXCLUDED.reply_state;
RESET ROLE;
SELECT hlordr.check('upsert: inserted and updated rows in one statement');

-- A survey (033): counted on replied orders only, satisfied from 3 up.
SET ROLE hotlined;
SELECT hotline.record_surveys(jsonb_build_array(
    jsonb_build_object('case_id', 9701, 'at', hotline.ms('2025-06-06 00:00+00'), 'score', 4, 'n', 1)));
RESET ROLE;
SELECT hlordr.check('a survey recorded');

-- An update that changes no figure writes no cell.
DO $$
DECLARE
    before text := (SELECT string_agg(ctid::text || xmin::text, ',' ORDER BY month, department)
                    FROM hotline.order_rollup WHERE department LIKE 'or-%');
BEGIN
    UPDATE hotline.orders SET note = 'called the caller', reply_seq = reply_seq + 1 WHERE order_id LIKE 'or-%';
    IF (SELECT string_agg(ctid::text || xmin::text, ',' ORDER BY month, department)
        FROM hotline.order_rollup WHERE department LIKE 'or-%') IS DISTINCT FROM before THEN
        RAISE EXCEPTION 'FAIL an update without a figure changed wrote cells';
    END IF;
    RAISE NOTICE 'ok an update that changes no figure writes no cell';
END $$;
SELECT hlordr.check('after the update without figures');

-- By hand: a department corrected, an order deleted.
UPDATE hotline.orders SET department = 'or-parks' WHERE order_id = 'or-3';
SELECT hlordr.check('a department changed moves the order''s figures');
DELETE FROM hotline.orders WHERE order_id = 'or-2';
SELECT hlordr.check('an order deleted');

-- Another zone: the recount follows rebuild_figure_rollup().
SELECT hotline.rebuild_figure_rollup('UTC');
SET hotline.timezone = 'UTC';
SELECT hlordr.check('recounted in UTC with the figures');
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM hotline.order_rollup WHERE month = '2025-05-01' AND department = 'or-water') THEN
        RAISE EXCEPTION 'FAIL the recount in UTC: %', (SELECT string_agg(c::text, '; ') FROM hlordr.cells c);
    END IF;
    RAISE NOTICE 'ok in UTC the 31 May order counts in May';
END $$;
-- a session in another zone than the rollup's: counted from the orders
SET hotline.timezone = 'Asia/Shanghai';
SELECT hlordr.check('a session in another zone counts the orders', false);
SET hotline.timezone = 'UTC';
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'orders_rollup_update') THEN
        RAISE EXCEPTION 'FAIL no trigger';
    END IF;
END $$;

-- Without the zone row: the rollup is emptied and the triggers write nothing.
DELETE FROM hotline.figure_rollup_state;
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM hotline.order_rollup) THEN
        RAISE EXCEPTION 'FAIL the rollup was kept without a zone';
    END IF;
    RAISE NOTICE 'ok no zone, no rollup';
END $$;
INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, dispatched_at, due_at,
                            sign_state, sign_seq, reply_state, reply_seq)
VALUES ('or-4', 9702, 2, 'or-roads', 'dispatched', '2025-06-11 03:00+00', '2025-06-14 03:00+00',
        'pending', 1, 'pending', 1);
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM hotline.order_rollup) THEN
        RAISE EXCEPTION 'FAIL a trigger wrote without a zone';
    END IF;
    RAISE NOTICE 'ok no zone, no writes';
END $$;
SELECT hlordr.check('without the zone row the view counts the orders', false);

-- Back to a zone: the rollup is recounted, orders written meanwhile included.
SELECT hotline.rebuild_figure_rollup('Asia/Shanghai');
SET hotline.timezone = 'Asia/Shanghai';
SELECT hlordr.check('recounted after a time without a zone');

-- A recount beside a batch in flight (a second session, through dblink):
-- the batch holds what figures_before takes first and has written an order
-- (the trigger's lock and cell); the recount started meanwhile waits for
-- it instead of deadlocking, and both end with the rollup exact.
CREATE EXTENSION IF NOT EXISTS dblink SCHEMA hlordr;
SELECT hlordr.dblink_connect('recount', format('host=%s port=%s dbname=%s user=%s',
    split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
    current_database(), current_user));
BEGIN;
LOCK TABLE hotline.figure_case_rollup IN ROW EXCLUSIVE MODE;      -- figures_before's first lock
INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, dispatched_at, due_at,
                            sign_state, sign_seq, reply_state, reply_seq)
VALUES ('or-5', 9702, 3, 'or-roads', 'dispatched', '2025-06-12 03:00+00', '2025-06-15 03:00+00',
        'pending', 1, 'pending', 1);
SELECT hlordr.dblink_send_query('recount', 'SELECT hotline.rebuild_figure_rollup(''Asia/Shanghai'')');
SELECT pg_sleep(0.5);
DO $$ BEGIN
    IF hlordr.dblink_is_busy('recount') <> 1 THEN
        RAISE EXCEPTION 'FAIL the recount did not wait for the batch in flight';
    END IF;
    RAISE NOTICE 'ok the recount waits for the batch in flight';
END $$;
LOCK TABLE hotline.figure_rollup IN ROW EXCLUSIVE MODE;           -- figures_after's cells
COMMIT;
DO $$ BEGIN
    IF (SELECT n FROM hlordr.dblink_get_result('recount') AS r(n bigint)) IS NULL THEN
        RAISE EXCEPTION 'FAIL the recount beside a batch returned nothing';
    END IF;
    RAISE NOTICE 'ok a recount beside a batch in flight waits for it, no deadlock';
END $$;
SELECT hlordr.dblink_disconnect('recount');
SELECT hlordr.check('after a recount beside a batch');

-- TRUNCATE empties the rollup with the orders (rolled back: other tests' orders stay).
DO $$ BEGIN
    TRUNCATE hotline.orders;
    IF EXISTS (SELECT 1 FROM hotline.order_rollup) THEN
        RAISE EXCEPTION 'FAIL the rollup outlived a TRUNCATE of the orders';
    END IF;
    RAISE NOTICE 'ok TRUNCATE of the orders empties the rollup';
    RAISE EXCEPTION USING ERRCODE = 'P0004', MESSAGE = 'undo';
EXCEPTION WHEN assert_failure THEN
    NULL;
END $$;
SELECT hlordr.check('after the TRUNCATE was undone');

-- Leave the database as found: this test's rows gone, the figures' zone as it was.
DELETE FROM hotline.orders WHERE department LIKE 'or-%';
DELETE FROM hotline.cases WHERE id IN (9701, 9702);
SELECT hlordr.check('this test''s orders deleted');
DO $$ BEGIN
    IF (SELECT zone FROM hlordr.saved_zone) IS NULL THEN
        DELETE FROM hotline.figure_rollup_state;
    ELSE
        PERFORM hotline.rebuild_figure_rollup((SELECT zone FROM hlordr.saved_zone));
    END IF;
END $$;
DROP SCHEMA hlordr CASCADE;
