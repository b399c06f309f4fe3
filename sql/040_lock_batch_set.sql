-- 040_lock_batch_set.sql - hotline.lock_batch() takes each class of locks in
-- one statement (issue 15).
--
-- 016's lock_batch() ran PERFORM pg_advisory_xact_lock(...) once per key in
-- a PL/pgSQL loop, and 027 made the function plan every statement at each
-- call (force_custom_plan, for its lookups).  So every lock was a statement
-- planned and run on its own: pg_stat_statements over the lateness phase
-- (10,000 clocks due in one second, 78 due batches of ~128 alerts; nested
-- statements tracked) gave the PERFORM 10,000 calls, 19.5 ms of planning and
-- 7.9 ms of execution, a fifth of lock_batch()'s 10.5 us an alert; an
-- ingest batch of 256 events takes 300-500 such locks.
--
-- Now each class is one statement that calls pg_advisory_xact_lock() per
-- row of an ordered subquery.  The order is the one 016 relies on (callers
-- before cases, each class in ascending key order, so two batches cannot
-- deadlock): the subquery has DISTINCT and ORDER BY, so it is not pulled up
-- into the aggregate above it, and the aggregate consumes its rows, and
-- takes their locks, in that order.  The cases are still looked up by a
-- statement of their own, after the callers are held (a VOLATILE function
-- takes a new snapshot per statement), so the set stays complete.
-- Same signature, same result (the number of locks taken), same grants;
-- 027's plan_cache_mode setting is kept by CREATE OR REPLACE.

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
            SELECT x::bigint AS id FROM jsonb_array_elements_text(case_ids) x
            UNION SELECT l.case_id FROM hotline.calls l
                  WHERE l.call_id = ANY (ARRAY(SELECT jsonb_array_elements_text(call_ids)))
            UNION SELECT o.case_id FROM hotline.orders o
                  WHERE o.order_id = ANY (ARRAY(SELECT jsonb_array_elements_text(order_ids)))
            UNION SELECT m.id FROM hotline.cases m
                  WHERE m.merged_into = ANY (ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(case_ids) x))
            UNION SELECT c.id FROM hotline.cases c
                  WHERE c.caller = ANY (ARRAY(SELECT jsonb_array_elements_text(callers)))
                    AND c.status <> 'closed') ids
        WHERE id IS NOT NULL ORDER BY 1) s;
    RETURN n_callers + n_cases;
END
$$;
