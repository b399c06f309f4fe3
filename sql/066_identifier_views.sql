-- 066_identifier_views.sql - the administrators' views mask a confidential
-- number inside an identifier too, as the HTTP answers do since 065.
--
-- A call id "pbx-8613512345678-1", an order "wo-135-1234-5678", an event id
-- "pbx:13512345678:1", a department or agent written as a desk's number:
-- hotline_admin (read-only, numbers masked) read them whole in v_calls,
-- v_orders, v_alerts, overdue_orders, v_case_events, case_history and
-- v_hotspot_cases, while the same ids quoted in a description were masked.
-- Each such column now goes through visible_id: whole for hotline_privileged
-- (and the daemon's own reads of the base tables); otherwise a run of digits
-- holding a confidential caller's number is masked (mask_known_numbers,
-- 054), every other id unchanged - so the views still join on them, and a
-- privileged reader or the base tables have what was sent.
--
-- The views are 008's and 050's (overdue_orders 051's) with only those
-- columns changed (same names, same types).  overdue_orders is ordered by
-- the (visible) department, as before.

CREATE OR REPLACE FUNCTION hotline.visible_id(t text) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT CASE WHEN t IS NULL OR NOT hotline.may_quote_number(t) THEN t
            WHEN hotline.sees_confidential() THEN t
            ELSE hotline.mask_known_numbers(t) END
$$;

COMMENT ON FUNCTION hotline.visible_id(text) IS
    'An identifier (call, order, event id, department, agent) as the current user may see it: a confidential number inside it masked unless privileged (066).';

CREATE OR REPLACE VIEW hotline.v_calls WITH (security_barrier) AS
SELECT hotline.visible_id(l.call_id) AS call_id, l.case_id, hotline.visible_caller(l.caller, cl.confidential) AS caller,
       left(md5(k.salt || l.caller), 16) AS caller_ref,
       coalesce(cl.confidential, false) AS confidential,
       l.state, l.inbound, l.offered_at, l.answered_at, l.ended_at,
       hotline.visible_text(l.queue, cl.confidential) AS queue, hotline.visible_id(l.agent) AS agent, l.outcome
FROM hotline.calls l
     LEFT JOIN hotline.callers cl ON cl.caller = l.caller
     CROSS JOIN hotline.pseudonym_key k;

CREATE OR REPLACE VIEW hotline.v_case_events WITH (security_barrier) AS
SELECT e.seq, hotline.visible_id(e.event_id) AS event_id, e.case_id, e.type, e.at, e.received_at,
       hotline.visible_text(e.description, coalesce(cl.confidential, bcl.confidential) OR cf.confidential) AS description,
       hotline.visible_body(hotline.event_body(e.event_id, e.type, e.body),
                            coalesce(cl.confidential, bcl.confidential) OR cf.confidential) AS body
FROM hotline.case_events e
     LEFT JOIN hotline.cases c ON c.id = e.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
     LEFT JOIN hotline.callers bcl ON bcl.caller = e.body->>'caller'
     LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = c.id OFFSET 0) cf ON c.id IS NOT NULL;

CREATE OR REPLACE VIEW hotline.v_alerts WITH (security_barrier) AS
SELECT a.id, a.kind, a.case_id,
       hotline.visible_caller(coalesce(a.caller, c.caller), cl.confidential) AS caller,
       a.level, a.raised_at, a.due_at, a.escalated_at, a.escalate_at, a.acked_at,
       hotline.visible_id(a.acked_by) AS acked_by,
       hotline.visible_text(a.detail, coalesce(cl.confidential, false) OR cf.confidential) AS detail,
       hotline.visible_key(a.dedupe_key, coalesce(a.caller, c.caller), cl.confidential) AS dedupe_key,
       hotline.visible_id(a.order_id) AS order_id, hotline.visible_id(a.department) AS department
FROM hotline.alerts a
     LEFT JOIN hotline.cases c ON c.id = a.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = coalesce(a.caller, c.caller)
     LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = c.id OFFSET 0) cf ON c.id IS NOT NULL;

CREATE OR REPLACE VIEW hotline.v_orders WITH (security_barrier) AS
SELECT hotline.visible_id(o.order_id) AS order_id, o.case_id, o.order_no,
       hotline.visible_id(o.department) AS department, o.status,
       hotline.visible_text(o.category, cf.confidential) AS category,
       hotline.visible_text(o.area, cf.confidential) AS area,
       o.dispatched_at, o.sign_due_at, o.signed_at,
       hotline.visible_text(o.signed_by, cf.confidential) AS signed_by,
       o.due_at, o.replied_at, o.result, o.returned_at,
       hotline.visible_text(o.return_reason, cf.confidential) AS return_reason,
       o.extensions, o.extend_until,
       hotline.visible_text(o.extend_reason, cf.confidential) AS extend_reason,
       o.sign_state, o.reply_state,
       hotline.visible_text(o.note, cf.confidential) AS note
FROM hotline.orders o
     LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = o.case_id OFFSET 0) cf ON true;

CREATE OR REPLACE VIEW hotline.overdue_orders WITH (security_barrier) AS
SELECT hotline.visible_id(o.department) AS department, hotline.visible_id(o.order_id) AS order_id,
       o.case_id, o.status,
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
ORDER BY 1, due_at;

CREATE OR REPLACE VIEW hotline.v_hotspot_cases WITH (security_barrier) AS
SELECT h.case_id,
       hotline.visible_text(h.category, cf.confidential) AS category,
       hotline.visible_text(h.area, cf.confidential) AS area,
       hotline.visible_id(h.department) AS department, h.at
FROM hotline.hotspot_cases h
     LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = h.case_id OFFSET 0) cf ON true;

CREATE OR REPLACE VIEW hotline.case_history WITH (security_barrier) AS
SELECT h.case_id, h.at, h.type, hotline.visible_id(h.event_id) AS event_id, hotline.visible_id(h.agent) AS agent,
       h.description, h.seq
FROM (
    SELECT e.case_id, e.at, e.type, e.event_id, e.seq,
           coalesce(e.body->>'agent', hotline.visible_text(e.body->>'by', cf.confidential),
                    CASE WHEN e.type = 'call.ended' THEN
                        (SELECT l.agent FROM hotline.calls l WHERE l.call_id = e.body->>'call_id') END) AS agent,
           hotline.visible_text(coalesce(e.description, hotline.describe_event(e.type, e.body)),
                                cf.confidential) AS description
    FROM hotline.case_events e
         JOIN hotline.cases c ON c.id = e.case_id
         LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = c.id OFFSET 0) cf ON true
    UNION ALL
    SELECT a.case_id, x.at, x.type, 'alert:' || a.id || x.suffix, NULL::bigint, x.agent,
           hotline.visible_text(x.description, cf.confidential)
    FROM hotline.alerts a
         JOIN hotline.cases c ON c.id = a.case_id
         LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = c.id OFFSET 0) cf ON true
         CROSS JOIN LATERAL (VALUES
            (a.raised_at, 'alert.raised', '', NULL::text,
             format('alert #%s %s raised', a.id, a.kind) || coalesce(': ' || a.detail, '')),
            (a.escalated_at, 'alert.escalated', ':escalated', NULL::text,
             format('alert #%s %s escalated to level %s', a.id, a.kind, a.level)),
            (a.acked_at, 'alert.acked', ':acked', a.acked_by,
             format('alert #%s %s acknowledged', a.id, a.kind) || coalesce(' by ' || a.acked_by, ''))
         ) AS x (at, type, suffix, agent, description)
    WHERE x.at IS NOT NULL
) h
ORDER BY h.case_id, h.at, h.seq IS NULL, h.seq, h.event_id;
