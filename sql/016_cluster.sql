-- 016_cluster.sql - several daemons on one database: the batch locks.
--
-- Every daemon runs its batches as one transaction: lock, load, rules (in
-- the daemon's memory), write, COMMIT.  hotline.lock_batch() is the first
-- statement of that transaction.  It takes transaction-scoped advisory locks
-- (released by the COMMIT or ROLLBACK, never leaked by a dying daemon) on
-- everything the batch may read and then write:
--
--   1. the callers of its events (key 1212940289, hashtext(caller)): an event
--      that may open a case holds its caller, so two daemons can never both
--      see "no open case" and both open one;
--   2. then the cases it names, the cases of its calls and of its work orders,
--      the cases merged into its cases (a resolution arms their callbacks)
--      and the open cases of its callers (key 1212940290, the case id): two
--      daemons never write one case, or one of its orders, from two stale
--      copies.
--
-- Callers before cases, each class in ascending order, in one statement:
-- every transaction takes its locks in the same global order, so they cannot
-- deadlock.  The cases are looked up after the callers are held, so the set
-- is complete (only a holder of the caller's lock opens a case for it).  A
-- single daemon never waits on these locks; they cost one statement in the
-- load pipeline (no extra round trip).  hashtext collisions only make two
-- callers share a lock.

CREATE OR REPLACE FUNCTION hotline.lock_batch(case_ids jsonb, call_ids jsonb, callers jsonb, order_ids jsonb)
RETURNS int LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k bigint;
    n int := 0;
BEGIN
    FOR k IN SELECT DISTINCT hashtext(x) FROM jsonb_array_elements_text(callers) x ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(1212940289, k::int);
        n := n + 1;
    END LOOP;
    FOR k IN
        SELECT DISTINCT id % 2147483647 FROM (
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
        WHERE id IS NOT NULL ORDER BY 1
    LOOP
        PERFORM pg_advisory_xact_lock(1212940290, k::int);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

REVOKE EXECUTE ON FUNCTION hotline.lock_batch(jsonb, jsonb, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.lock_batch(jsonb, jsonb, jsonb, jsonb) TO hotline_daemon;
