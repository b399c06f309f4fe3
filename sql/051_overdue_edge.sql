-- 051_overdue_edge.sql - a deadline is passed once its moment has passed.
--
-- The daemon's clocks fire a millisecond after their due time (clocks.c,
-- docs/rules.md "The edge of a deadline") and every figure counts a
-- deadline met at its due time as in time (met_at <= due_at).  The list of
-- overdue callbacks already said `due_at < now()`; overdue_orders said
-- `due_at <= now()`, so an order due at this very instant was listed as
-- overdue while the figures would count a reply at that instant in time.
-- Same view as 050 but for `<`.
CREATE OR REPLACE VIEW hotline.overdue_orders WITH (security_barrier) AS
SELECT o.department, o.order_id, o.case_id, o.status,
       hotline.visible_text(o.category, cf.confidential) AS category,
       hotline.visible_text(o.area, cf.confidential) AS area,
       CASE WHEN o.reply_state IN ('pending', 'breached') AND o.due_at < now() THEN 'reply'
            ELSE 'sign' END AS overdue,
       CASE WHEN o.reply_state IN ('pending', 'breached') AND o.due_at < now() THEN o.due_at
            ELSE o.sign_due_at END AS due_at,
       now() - CASE WHEN o.reply_state IN ('pending', 'breached') AND o.due_at < now() THEN o.due_at
                    ELSE o.sign_due_at END AS late_by,
       o.dispatched_at, o.signed_at, o.extensions,
       (SELECT max(a.level) FROM hotline.alerts a
         WHERE a.order_id = o.order_id AND a.kind = 'order_reply_overdue') AS urge_level
FROM hotline.orders o
     LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = o.case_id OFFSET 0) cf ON true
WHERE o.status IN ('dispatched', 'signed', 'extension_requested')
  AND o.reply_state IN ('pending', 'breached')
  AND (o.due_at < now() OR (o.sign_state IN ('pending', 'breached') AND o.sign_due_at < now()))
ORDER BY o.department, due_at;
