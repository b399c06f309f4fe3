-- tests/sql/lock_batch_test.sql - hotline.lock_batch() (sql/016, set-based in
-- sql/040): the advisory locks a batch takes, counted and listed from
-- pg_locks, for every way a batch reaches a case (named, through a call, a
-- work order, a caller's open case, a merge into any of these (sql/041)),
-- none for a closed case or a
-- key named twice; the order ids and hotspot values of sql/046; and the ordering its statements rely on (an aggregate
-- over an ordered DISTINCT subquery calls its function in key order: two
-- batches that took their locks in different orders could deadlock).
-- Run by scripts/sql-test.sh; any failure raises.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS hllocktest CASCADE;
CREATE SCHEMA hllocktest;

CREATE FUNCTION hllocktest.eq(what text, got anyelement, want anyelement) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF got IS DISTINCT FROM want THEN
        RAISE EXCEPTION 'FAIL %: got [%], want [%]', what, got, want;
    END IF;
    RAISE NOTICE 'ok %', what;
END $$;

-- the advisory locks this session holds, as "class:key" sorted
CREATE FUNCTION hllocktest.held() RETURNS text LANGUAGE sql AS $$
SELECT coalesce(string_agg(classid || ':' || objid::int, ' ' ORDER BY classid, objid::int), '')
FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
$$;

-- records the order it is called in
CREATE TABLE hllocktest.calls (n serial, k int);
CREATE FUNCTION hllocktest.note(k int) RETURNS void LANGUAGE sql AS $$
INSERT INTO hllocktest.calls (k) VALUES (k)
$$;

-- (rows a failed run left behind)
DELETE FROM hotline.orders WHERE order_id = 'lk-order-1';
DELETE FROM hotline.calls WHERE call_id = 'lk-call-1';
DELETE FROM hotline.hotspot_cases WHERE case_id BETWEEN 9901 AND 9910;
DELETE FROM hotline.cases WHERE id BETWEEN 9901 AND 9910;
INSERT INTO hotline.cases (id, caller, status, opened_at) VALUES
    (9901, '+8613900009901', 'open', now()),      -- named
    (9902, '+8613900009902', 'open', now()),      -- reached through its call
    (9903, '+8613900009903', 'open', now()),      -- reached through its work order
    (9904, '+8613900009904', 'open', now()),      -- merged into 9901
    (9905, '+8613900009905', 'open', now()),      -- the open case of a caller of the batch
    (9906, '+8613900009905', 'closed', now()),    -- that caller's closed case: no lock
    (9907, '+8613900009907', 'open', now()),      -- not reached
    (9908, '+8613900009908', 'merged', now()),    -- merged into 9902 (reached through its call)
    (9909, '+8613900009909', 'merged', now()),    -- merged into 9903 (reached through its order)
    (9910, '+8613900009910', 'merged', now());    -- merged into 9905 (a caller's open case)
UPDATE hotline.cases SET merged_into = 9901 WHERE id = 9904;
UPDATE hotline.cases SET merged_into = 9902 WHERE id = 9908;
UPDATE hotline.cases SET merged_into = 9903 WHERE id = 9909;
UPDATE hotline.cases SET merged_into = 9905 WHERE id = 9910;
INSERT INTO hotline.calls (call_id, case_id, caller, state, offered_at)
VALUES ('lk-call-1', 9902, '+8613900009902', 'ended', now());
INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, dispatched_at, due_at, sign_due_at,
                            sign_state, sign_seq, reply_state, reply_seq)
VALUES ('lk-order-1', 9903, 1, 'lk-water', 'dispatched', now(), now() + interval '3 days',
        now() + interval '1 hour', 'pending', 1, 'pending', 1);

SET client_min_messages = notice;

BEGIN;
SELECT hllocktest.eq('nothing held before', hllocktest.held(), '');
SELECT hllocktest.eq('locks taken: 2 callers + 2 order ids + 8 cases',
    hotline.lock_batch('["9901", "9901"]'::jsonb, '["lk-call-1", "lk-call-unknown"]'::jsonb,
                       '["+8613900009905", "+8613900000000", "+8613900009905"]'::jsonb,
                       '["lk-order-1", "lk-order-new", "lk-order-1"]'::jsonb),
    12);
SELECT hllocktest.eq('the locks held: each caller and order id by hashtext (046: a new one too), each case by id',
    hllocktest.held(),
    (SELECT string_agg(k, ' ' ORDER BY c, i) FROM (
        SELECT 1212940289::bigint AS c, h AS i, '1212940289:' || h AS k
        FROM (SELECT DISTINCT hashtext(x) AS h FROM unnest(ARRAY['+8613900009905', '+8613900000000']) x) hs
        UNION ALL
        SELECT 1212940295, h, '1212940295:' || h
        FROM (SELECT DISTINCT hashtext(x) AS h FROM unnest(ARRAY['lk-order-1', 'lk-order-new']) x) ho
        UNION ALL
        SELECT 1212940290, id, '1212940290:' || id FROM unnest(ARRAY[9901, 9902, 9903, 9904, 9905, 9908, 9909, 9910]) id) l));
COMMIT;

-- 046: the hotspot values of a classifying batch, of one field of the key
-- (category when the key has it): the events' values and those of the cases
-- its classifying events reach (named, through a call, a caller's open case)
UPDATE hotline.cases SET category = 'lk-roads' WHERE id = 9902;
UPDATE hotline.cases SET category = 'lk-power', department = 'lk-dept' WHERE id = 9905;
INSERT INTO hotline.hotspot_cases (case_id, category, area, at) VALUES (9901, NULL, 'lk-haidian', now());
BEGIN;
SELECT hllocktest.eq('category key: 2 cases (9901, merged 9904) + 3 values',
    hotline.lock_batch('["9901"]'::jsonb, '[]'::jsonb, '[]'::jsonb, '[]'::jsonb,
                       '["9901"]'::jsonb, '["lk-call-1"]'::jsonb, '["+8613900009905"]'::jsonb,
                       '["lk-water", "", "lk-water"]'::jsonb, '[]'::jsonb, NULL),
    5);
SELECT hllocktest.eq('the hotspot locks: the category values by hashtext, none for an empty one',
    (SELECT string_agg(objid::int::text, ' ' ORDER BY objid::int) FROM pg_locks
     WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND classid = 1212940296),
    (SELECT string_agg(h::text, ' ' ORDER BY h)
     FROM (SELECT DISTINCT hashtext(x) AS h FROM unnest(ARRAY['lk-water', 'lk-roads', 'lk-power']) x) hs));
ROLLBACK;
BEGIN;
SELECT hllocktest.eq('area key: the area of a reached case from hotspot_cases',
    hotline.lock_batch('[]'::jsonb, '[]'::jsonb, '[]'::jsonb, '[]'::jsonb,
                       '["9901"]'::jsonb, '[]'::jsonb, '[]'::jsonb, NULL, '["lk-chaoyang"]'::jsonb, NULL),
    2);
ROLLBACK;
BEGIN;
SELECT hllocktest.eq('a batch that classifies nothing takes no hotspot lock',
    hotline.lock_batch('["9901"]'::jsonb, '[]'::jsonb, '[]'::jsonb, '[]'::jsonb, NULL, NULL, NULL, NULL, NULL, NULL),
    2);
COMMIT;
SELECT hllocktest.eq('released at COMMIT', hllocktest.held(), '');
SELECT hllocktest.eq('lookups planned at each call (027, restored by 041)',
    (SELECT array_to_string(proconfig, ',') FROM pg_proc WHERE oid = 'hotline.lock_batch(jsonb, jsonb, jsonb, jsonb)'::regprocedure),
    'plan_cache_mode=force_custom_plan');
SELECT hllocktest.eq('and the signature of 046 too',
    (SELECT array_to_string(proconfig, ',') FROM pg_proc
     WHERE oid = 'hotline.lock_batch(jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb)'::regprocedure),
    'plan_cache_mode=force_custom_plan');

BEGIN;
SELECT hllocktest.eq('an empty batch takes no lock',
    hotline.lock_batch('[]'::jsonb, '[]'::jsonb, '[]'::jsonb, '[]'::jsonb), 0);
SELECT hllocktest.eq('and holds none', hllocktest.held(), '');
ROLLBACK;

-- The shape of lock_batch()'s statements: the function is called once per
-- row, in the subquery's order, for keys that arrive unordered and repeated.
SELECT count(hllocktest.note(s.k))
FROM (SELECT DISTINCT k FROM (SELECT (g * 7919) % 1009 - 500 AS k FROM generate_series(1, 3000) g) x ORDER BY 1) s;
SELECT hllocktest.eq('called once per distinct key', (SELECT count(*) FROM hllocktest.calls), 1009::bigint);
SELECT hllocktest.eq('called in ascending key order',
    (SELECT count(*) FROM (SELECT k < lag(k) OVER (ORDER BY n) AS back FROM hllocktest.calls) b WHERE back), 0::bigint);

SET client_min_messages = warning;
DELETE FROM hotline.orders WHERE order_id = 'lk-order-1';
DELETE FROM hotline.calls WHERE call_id = 'lk-call-1';
DELETE FROM hotline.hotspot_cases WHERE case_id BETWEEN 9901 AND 9910;
DELETE FROM hotline.cases WHERE id BETWEEN 9901 AND 9910;
DROP SCHEMA hllocktest CASCADE;
