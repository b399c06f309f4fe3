-- 015_v_alerts_orders.sql - administrators see which order an alert is about.
--
-- 008 rebuilt hotline.v_alerts with masked captions and dedupe keys, and
-- administrators read alerts only through it; 010 added order_id and
-- department to hotline.alerts.  Neither column can hold a caller's number,
-- so they are shown as they are, appended to the view (CREATE OR REPLACE
-- VIEW may only add columns at the end).
CREATE OR REPLACE VIEW hotline.v_alerts WITH (security_barrier) AS
SELECT a.id, a.kind, a.case_id,
       hotline.visible_caller(coalesce(a.caller, c.caller), cl.confidential) AS caller,
       a.level, a.raised_at, a.due_at, a.escalated_at, a.escalate_at, a.acked_at, a.acked_by,
       hotline.visible_text(a.detail, cl.confidential) AS detail,
       hotline.visible_key(a.dedupe_key, coalesce(a.caller, c.caller), cl.confidential) AS dedupe_key,
       a.order_id, a.department
FROM hotline.alerts a
     LEFT JOIN hotline.cases c ON c.id = a.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = coalesce(a.caller, c.caller);
