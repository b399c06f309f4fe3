-- 029_order_indexes.sql - fewer index entries per work-order event, and
-- statistics that follow the tables created after 006 (issue 15).
--
-- A sign or a reply rewrites its order's row.  PostgreSQL updates a row
-- "HOT" (no new index entry at all) only when no column any index reads
-- changes, key or partial-index predicate, and the new version fits on the
-- page.  010's two partial indexes (sign_due_at WHERE sign_state =
-- 'pending', due_at WHERE reply_state = 'pending') made every sign and
-- every reply a full update: a new entry in each of the six indexes the new
-- version belongs to.  Now:
--
--   * one partial index of the orders whose reply is owed (pending or
--     breached) replaces both.  A sign never changes reply_state, due_at or
--     any other indexed column, so with room on the page a sign is HOT: no
--     index entry.  fillfactor 65: when the signs of a page's orders come
--     in different batches, each access in between prunes the versions the
--     last ones left, so nearly every sign fits; a whole table signed in
--     one burst (the benchmark's order.sign stage) still finds room for 61
--     %.  (At 50 every sign of such a burst fits, but rows a little smaller
--     than the page's then land one by one in half-empty pages: a full-page
--     image each after a checkpoint, 1.7 kB more WAL per dispatch in the
--     benchmark.  At 80, 41 % of the burst.)  "Sign owed" implies "reply owed" (a
--     reply, a return and a closed case end both clocks; an approved
--     extension re-arms only the reply), so the readers of owed sign clocks
--     (cluster.c's Q_CLOCKS, the start-up COPY, overdue_orders) add the
--     redundant `reply_state IN ('pending', 'breached')` and use it too.
--     Orders of a closed case leave it (their clocks are stopped), so it
--     holds only the orders someone still waits for.
--   * orders_unreplied (case_id) WHERE replied_at IS NULL: the orders of a
--     case the batch's rules can read (open and returned ones; replied_at
--     is set by a reply only, so a sign stays HOT).  The batch loads these,
--     not the case's whole history (store_orders_sql.h SQL_ORDERS): a
--     repeat caller's case can hold hundreds of replied orders.
--   * orders_department (department, dispatched_at) goes: nothing reads
--     it (department_monthly ranges over orders_dispatched_at and groups;
--     overdue_orders reads the owed orders; "one department's orders in a
--     month" is that month's range of orders_dispatched_at, filtered).
--
-- Per event (index entries): dispatch 6 -> 5, sign 5 -> 0 (HOT), reply 4 -> 3.
--
-- Autovacuum: 006 gave the v1 tables (alerts among them) ANALYZE thresholds
-- that follow a growing table closely; orders, hotspot_cases and hotspots
-- came with 010 and kept the defaults (50 rows + 10 % of the table), so a
-- hotline's orders were planned from statistics up to 10 % stale.  The same
-- thresholds as 006 here.  (The daemon still plans its loads of these
-- tables at each run, store_orders.c: a plan cached between two ANALYZEs
-- can be catastrophic, and the thresholds cannot make that window empty.)
DROP INDEX IF EXISTS hotline.orders_sign_pending;
DROP INDEX IF EXISTS hotline.orders_reply_pending;
DROP INDEX IF EXISTS hotline.orders_department;
CREATE INDEX IF NOT EXISTS orders_reply_owed ON hotline.orders (due_at)
    WHERE reply_state IN ('pending', 'breached');
COMMENT ON INDEX hotline.orders_reply_owed IS
    'Orders whose reply (and so perhaps sign) is owed: start-up timers, overdue_orders (029).';

CREATE INDEX IF NOT EXISTS orders_unreplied ON hotline.orders (case_id) WHERE replied_at IS NULL;
COMMENT ON INDEX hotline.orders_unreplied IS
    'A case''s orders not replied (open or returned): what a batch loads of its cases (029).';

ALTER TABLE hotline.orders SET (fillfactor = 65,
    autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE hotline.hotspot_cases SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE hotline.hotspots      SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);

-- Same columns, names and types as 010's view (CREATE OR REPLACE keeps the
-- grants and 018's column comments); the one added condition is implied by
-- the others (see above) and lets the planner read orders_reply_owed.
CREATE OR REPLACE VIEW hotline.overdue_orders AS
SELECT o.department, o.order_id, o.case_id, o.status, o.category, o.area,
       CASE WHEN o.reply_state IN ('pending', 'breached') AND o.due_at <= now() THEN 'reply'
            ELSE 'sign' END AS overdue,
       CASE WHEN o.reply_state IN ('pending', 'breached') AND o.due_at <= now() THEN o.due_at
            ELSE o.sign_due_at END AS due_at,
       now() - CASE WHEN o.reply_state IN ('pending', 'breached') AND o.due_at <= now() THEN o.due_at
                    ELSE o.sign_due_at END AS late_by,
       o.dispatched_at, o.signed_at, o.extensions,
       (SELECT max(a.level) FROM hotline.alerts a
         WHERE a.order_id = o.order_id AND a.kind = 'order_reply_overdue') AS urge_level
FROM hotline.orders o
WHERE o.status IN ('dispatched', 'signed', 'extension_requested')
  AND o.reply_state IN ('pending', 'breached')
  AND (o.due_at <= now() OR (o.sign_state IN ('pending', 'breached') AND o.sign_due_at <= now()))
ORDER BY o.department, due_at;
