-- 041_merged_lock.sql - hotline.lock_batch() also locks the cases merged into
-- the cases a batch reaches through a call, an order or a caller.
--
-- A case merged into another (case.merge) is owed a call back when the case
-- it was merged into is resolved (CONTRACT.md 6).  Three events resolve a
-- case: case.resolve names it by id, order.reply ("resolved") reaches it
-- through its order_id, call.ended ("resolved") through its call_id, or,
-- for a call offered in the same batch, through its caller's open case.  040's
-- lock_batch() locked the cases merged into the batch's cases *by id* only,
-- and the daemon loaded only those (store_orders_sql.h, SQL_ORDER_CASES), so
-- an order reply or a call that resolved a case left every merged caller
-- without a callback clock.  The daemon now loads the cases merged into the
-- cases its calls and orders reach as well, and arms their callback clocks;
-- this migration locks them, so two daemons cannot write one merged case at
-- once.  Same lock order as 040 (callers, then cases ascending), same
-- signature, result and grants.
--
-- 040 said 027's plan_cache_mode setting survives CREATE OR REPLACE; it does
-- not (CREATE OR REPLACE FUNCTION replaces the function's SET clauses, and
-- 040 gave none), so it is set again here.

CREATE OR REPLACE FUNCTION hotline.lock_batch(case_ids jsonb, call_ids jsonb, callers jsonb, order_ids jsonb)
RETURNS int LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n_callers int;
    n_cases int;
BEGIN
    SELECT count(pg_advisory_xact_lock(1212940289, s.k)) INTO n_callers
    FROM (SELECT DISTINCT hashtext(x) AS k FROM jsonb_array_elements_text(callers) x ORDER BY 1) s;
    SELECT count(pg_advisory_xact_lock(1212940290, s.k::int)) INTO n_cases
    FROM (
        SELECT DISTINCT id % 2147483647 AS k FROM (
            WITH reached AS (
                SELECT x::bigint AS id FROM jsonb_array_elements_text(case_ids) x
                UNION SELECT l.case_id FROM hotline.calls l
                      WHERE l.call_id = ANY (ARRAY(SELECT jsonb_array_elements_text(call_ids)))
                UNION SELECT o.case_id FROM hotline.orders o
                      WHERE o.order_id = ANY (ARRAY(SELECT jsonb_array_elements_text(order_ids)))
                UNION SELECT c.id FROM hotline.cases c
                      WHERE c.caller = ANY (ARRAY(SELECT jsonb_array_elements_text(callers)))
                        AND c.status <> 'closed')
            SELECT id FROM reached
            UNION SELECT m.id FROM hotline.cases m
                  WHERE m.merged_into = ANY (ARRAY(SELECT id FROM reached WHERE id IS NOT NULL))) ids
        WHERE id IS NOT NULL ORDER BY 1) s;
    RETURN n_callers + n_cases;
END
$$;

ALTER FUNCTION hotline.lock_batch(jsonb, jsonb, jsonb, jsonb) SET plan_cache_mode = force_custom_plan;
