-- 046_lock_orders_hotspots.sql - hotline.lock_batch() also locks the work
-- order ids a batch names and the hotspot keys it can count under, so two
-- daemons can neither both create one order nor both count one key.
--
-- Orders.  041's lock_batch() reached an order's case only through an
-- existing row of hotline.orders, so an order_id that is new locked nothing:
-- order.dispatch with one new order_id to case X through one daemon and to
-- case Y through another, at the same moment, were both answered ok, and the
-- later INSERT ... ON CONFLICT (order_id) DO UPDATE (SQL_W_ORDERS) wrote the
-- second dispatch's state over the first's row, while case Y kept the
-- dispatch's history line and department and got no order (CONTRACT.md 9:
-- an acknowledged event is never lost).  Now every order id the batch names
-- is locked (class 1212940295, hashtext(order_id), as the callers are),
-- before its cases are looked up: the second batch waits for the first's
-- COMMIT, then its case statement sees the order's row (and locks its case),
-- its load finds the order and the rules refuse the dispatch ("order_id:
-- order '...' exists already"), as they do one sent after the first.
-- hotline.order_case_kept() is the write's belt: SQL_W_ORDERS calls it when
-- the row it would update belongs to another case (or order number), and it
-- raises, so the batch is bisected and retried instead of overwriting.
--
-- Hotspots.  Two batches that classify different cases under one hotspot
-- key through two daemons each counted the window from a snapshot without
-- the other's case: one crossing raised two alerts (the dedupe key names the
-- crossing case, so UNIQUE(dedupe_key) cannot catch it) or none at all.  Now
-- a batch that classifies a case locks the values of one field of the key
-- (class 1212940296, hashtext(value)): every value of that field the batch
-- can form a key with - the values its events carry, as the daemon sends
-- them for SQL_HOTSPOT_CASES, and the stored values of the cases its
-- classifying events reach (a key takes a field the event does not carry
-- from the case).  Two batches that can form the same key share its value of
-- that field, so the second waits and then loads the first's row and the
-- key's alerted_at.  The field is `category` when the key has it (the
-- default key, category and area), else `area`, else `department`: one
-- field, not the key's combinations, because a batch of n events with n
-- categories and n areas could form n*n keys, too many locks for one
-- transaction; the price is that two batches with one category in different
-- areas wait for each other.  The stored values are read after the cases are
-- locked, so they cannot change before the COMMIT (area lives in
-- hotline.hotspot_cases, category and department in hotline.cases).  A
-- batch that classifies nothing, or a daemon with hotspots off, passes NULL
-- and takes no such lock.
--
-- Lock order, for every batch: callers (1212940289), orders (1212940295),
-- cases (1212940290), hotspot values (1212940296), each class in ascending
-- key order, one statement per class (040).  The orders come before the
-- cases because the cases are found through them.  No other code takes
-- these classes, and the write's own locks (1212940293, 1212940294) come
-- after all of them.
--
-- The old signature stays, for a daemon of before 046 during a rolling
-- upgrade (a daemon refuses a schema older than its own, not a newer one): it
-- now takes the order locks too (it already passed the order ids), and no
-- hotspot locks, which such a daemon never took.

CREATE OR REPLACE FUNCTION hotline.lock_batch(case_ids jsonb, call_ids jsonb, callers jsonb, order_ids jsonb,
                                              hot_case_ids jsonb, hot_call_ids jsonb, hot_callers jsonb,
                                              categories jsonb, areas jsonb, departments jsonb)
RETURNS int LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n_callers int;
    n_orders int;
    n_cases int;
    n_hot int := 0;
    hot_field text := CASE WHEN categories IS NOT NULL THEN 'category'
                           WHEN areas IS NOT NULL THEN 'area'
                           WHEN departments IS NOT NULL THEN 'department' END;
    hot_values jsonb := COALESCE(categories, areas, departments);
BEGIN
    SELECT count(pg_advisory_xact_lock(1212940289, s.k)) INTO n_callers
    FROM (SELECT DISTINCT hashtext(x) AS k FROM jsonb_array_elements_text(callers) x ORDER BY 1) s;
    SELECT count(pg_advisory_xact_lock(1212940295, s.k)) INTO n_orders
    FROM (SELECT DISTINCT hashtext(x) AS k FROM jsonb_array_elements_text(order_ids) x ORDER BY 1) s;
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
    IF hot_field IS NOT NULL THEN
        SELECT count(pg_advisory_xact_lock(1212940296, s.k)) INTO n_hot
        FROM (
            SELECT DISTINCT hashtext(v) AS k FROM (
                WITH reach AS (
                    SELECT x::bigint AS id FROM jsonb_array_elements_text(hot_case_ids) x
                    UNION SELECT l.case_id FROM hotline.calls l
                          WHERE l.call_id = ANY (ARRAY(SELECT jsonb_array_elements_text(hot_call_ids)))
                    UNION SELECT c.id FROM hotline.cases c
                          WHERE c.caller = ANY (ARRAY(SELECT jsonb_array_elements_text(hot_callers)))
                            AND c.status <> 'closed')
                SELECT x AS v FROM jsonb_array_elements_text(hot_values) x
                UNION ALL SELECT CASE hot_field WHEN 'category' THEN c.category ELSE c.department END
                      FROM hotline.cases c
                      WHERE hot_field <> 'area' AND c.id = ANY (ARRAY(SELECT id FROM reach))
                UNION ALL SELECT h.area FROM hotline.hotspot_cases h
                      WHERE hot_field = 'area' AND h.case_id = ANY (ARRAY(SELECT id FROM reach))) vals
            WHERE v <> '' ORDER BY 1) s;
    END IF;
    RETURN n_callers + n_orders + n_cases + n_hot;
END
$$;

ALTER FUNCTION hotline.lock_batch(jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb)
    SET plan_cache_mode = force_custom_plan;
REVOKE EXECUTE ON FUNCTION hotline.lock_batch(jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.lock_batch(jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb)
    TO hotline_daemon;

-- The old signature (a daemon of before 046): the same locks without hotspots.
CREATE OR REPLACE FUNCTION hotline.lock_batch(case_ids jsonb, call_ids jsonb, callers jsonb, order_ids jsonb)
RETURNS int LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN hotline.lock_batch(case_ids, call_ids, callers, order_ids, NULL, NULL, NULL, NULL, NULL, NULL);
END
$$;

ALTER FUNCTION hotline.lock_batch(jsonb, jsonb, jsonb, jsonb) SET plan_cache_mode = force_custom_plan;

-- SQL_W_ORDERS's belt: an order id is one case's order for good.  Called
-- only when the row found by the upsert is another case's (or another
-- number's): the rules never write one, so this is a race that the locks
-- above did not order (or a bug); the error fails the batch, which is
-- bisected and retried, and the retry's load finds the row and refuses.
CREATE OR REPLACE FUNCTION hotline.order_case_kept(p_order_id text, have_case bigint, have_no int,
                                                   want_case bigint, want_no int)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF have_case = want_case AND have_no = want_no THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION 'order % is order % of case %, not order % of case %',
        p_order_id, have_no, have_case, want_no, want_case
        USING ERRCODE = 'unique_violation';
END
$$;

REVOKE EXECUTE ON FUNCTION hotline.order_case_kept(text, bigint, int, bigint, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.order_case_kept(text, bigint, int, bigint, int) TO hotline_daemon;
