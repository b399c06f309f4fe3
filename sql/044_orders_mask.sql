-- 044_orders_mask.sql - a confidential caller's number typed into a work
-- order or a hotspot key is masked for administrators, as in the case.
--
-- Before this migration, for a confidential caller:
--   * hotline_admin held SELECT on the whole of hotline.orders,
--     hotline.hotspot_cases and hotline.hotspots (010), so the order's free
--     text - category, area, note (order.dispatch / order.reply), return_reason
--     (order.return), signed_by (order.sign "by"), extend_reason
--     (order.extend) - and the case's hotspot key (category, area) were read
--     in clear, where nothing can mask them; 018 called orders.note masked;
--   * hotline.v_orders and hotline.overdue_orders selected those columns raw;
--   * hotline.case_history.agent is the event's "by" when it has no "agent":
--     order.sign's signer, in clear;
--   * the wallboard (http_board_json, 011; SECURITY DEFINER) listed the
--     overdue orders' category and area, and the overdue callbacks' queue, raw;
--   * anonymize_closed (004) left the orders' and hotspot rows' texts as
--     they were; once the number's callers row is deleted no view knows the
--     case was confidential, so nothing masked them any more.
--
-- Now, as 008 did for hotline.cases: administrators have no privilege on the
-- free-text columns of those tables, and read them through views that pass
-- them through hotline.visible_text(text, callers.confidential) - masked by
-- digits (mask_text) unless the reader is hotline_privileged:
--   hotline.v_orders          category, area, signed_by, return_reason,
--                             extend_reason, note (same columns and types)
--   hotline.overdue_orders    category, area (same columns and types)
--   hotline.v_hotspot_cases   (new) hotline.hotspot_cases, category and area masked
--   hotline.v_hotspots        (new) hotline.hotspots; the key is shared by many
--                             cases, so every phone-like run in it is masked
--                             for every non-privileged reader
--   hotline.case_history      agent: a "by" (not an "agent") is masked
-- hotline_privileged keeps SELECT on the whole tables (as 021 kept
-- case_events for it).  The wallboard masks the same texts for a
-- confidential caller; anonymize_closed removes the orders' notes and
-- reasons and masks every phone-like run left in the orders' and hotspot
-- rows' texts (docs/admin.md, "Confidential numbers", "Retention").

------------------------------------------------------- base-table columns

-- A column privilege cannot narrow a table privilege: take the table's away,
-- give back every column but the free text.  A column added later is not
-- readable until a migration grants it.
REVOKE SELECT ON hotline.orders, hotline.hotspot_cases, hotline.hotspots FROM hotline_admin;
GRANT SELECT (order_id, case_id, order_no, department, status, dispatched_at, signed_at,
              returned_at, replied_at, result, due_at, sign_due_at, extend_requested_at,
              extend_until, extensions, extend_rejections, sign_state, sign_seq, sign_allowed_ms,
              sign_met_at, sign_breached_at, reply_state, reply_seq, reply_allowed_ms,
              reply_met_at, reply_breached_at, calendar, updated_at, survey_at, survey_score)
    ON hotline.orders TO hotline_admin;
GRANT SELECT (case_id, department, at) ON hotline.hotspot_cases TO hotline_admin;
GRANT SELECT (alerted_at) ON hotline.hotspots TO hotline_admin;
GRANT SELECT ON hotline.orders, hotline.hotspot_cases, hotline.hotspots TO hotline_privileged;

------------------------------------------------------------------- views

-- Same columns, names and types as 010's view (CREATE OR REPLACE keeps the
-- grants and 018's column comments).  An order always has its case; the
-- callers row may be gone (anonymized), and then anonymize_closed has
-- already masked the texts.
CREATE OR REPLACE VIEW hotline.v_orders WITH (security_barrier) AS
SELECT o.order_id, o.case_id, o.order_no, o.department, o.status,
       hotline.visible_text(o.category, cl.confidential) AS category,
       hotline.visible_text(o.area, cl.confidential) AS area,
       o.dispatched_at, o.sign_due_at, o.signed_at,
       hotline.visible_text(o.signed_by, cl.confidential) AS signed_by,
       o.due_at, o.replied_at, o.result, o.returned_at,
       hotline.visible_text(o.return_reason, cl.confidential) AS return_reason,
       o.extensions, o.extend_until,
       hotline.visible_text(o.extend_reason, cl.confidential) AS extend_reason,
       o.sign_state, o.reply_state,
       hotline.visible_text(o.note, cl.confidential) AS note
FROM hotline.orders o
     LEFT JOIN hotline.cases c ON c.id = o.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller;

-- Same columns, names, types and rows as 029's view; category and area masked.
CREATE OR REPLACE VIEW hotline.overdue_orders WITH (security_barrier) AS
SELECT o.department, o.order_id, o.case_id, o.status,
       hotline.visible_text(o.category, cl.confidential) AS category,
       hotline.visible_text(o.area, cl.confidential) AS area,
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
     LEFT JOIN hotline.cases c ON c.id = o.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
WHERE o.status IN ('dispatched', 'signed', 'extension_requested')
  AND o.reply_state IN ('pending', 'breached')
  AND (o.due_at <= now() OR (o.sign_state IN ('pending', 'breached') AND o.sign_due_at <= now()))
ORDER BY o.department, due_at;

CREATE OR REPLACE VIEW hotline.v_hotspot_cases WITH (security_barrier) AS
SELECT h.case_id,
       hotline.visible_text(h.category, cl.confidential) AS category,
       hotline.visible_text(h.area, cl.confidential) AS area,
       h.department, h.at
FROM hotline.hotspot_cases h
     LEFT JOIN hotline.cases c ON c.id = h.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller;

-- A key is the JSON array of the values many cases share; which of them were
-- confidential is not kept, so the key is masked for every reader who is not
-- hotline_privileged (a phone-like run in a category or area is a number).
CREATE OR REPLACE VIEW hotline.v_hotspots WITH (security_barrier) AS
SELECT hotline.visible_text(h.key, true) AS key, h.alerted_at
FROM hotline.hotspots h;

-- As 003, but an event's "by" (order.sign's signer, typed by a department)
-- is free text: masked like the description.  "agent" stays an identifier.
CREATE OR REPLACE VIEW hotline.case_history WITH (security_barrier) AS
SELECT h.case_id, h.at, h.type, h.event_id, h.agent, h.description, h.seq
FROM (
    SELECT e.case_id, e.at, e.type, e.event_id, e.seq,
           coalesce(e.body->>'agent', hotline.visible_text(e.body->>'by', cl.confidential),
                    CASE WHEN e.type = 'call.ended' THEN
                        (SELECT l.agent FROM hotline.calls l WHERE l.call_id = e.body->>'call_id') END) AS agent,
           hotline.visible_text(coalesce(e.description, hotline.describe_event(e.type, e.body)),
                                cl.confidential) AS description
    FROM hotline.case_events e
         JOIN hotline.cases c ON c.id = e.case_id
         LEFT JOIN hotline.callers cl ON cl.caller = c.caller
    UNION ALL
    SELECT a.case_id, x.at, x.type, 'alert:' || a.id || x.suffix, NULL::bigint, x.agent,
           hotline.visible_text(x.description, cl.confidential)
    FROM hotline.alerts a
         JOIN hotline.cases c ON c.id = a.case_id
         LEFT JOIN hotline.callers cl ON cl.caller = c.caller
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

------------------------------------------------------------------ wallboard

-- As 011, but a confidential caller's texts are masked by digits (mask_text),
-- as /v1/cases/{id} masks them since 042: the overdue orders' category and
-- area, the overdue callbacks' queue.  The function runs as its owner, for
-- whom visible_text masks nothing, so it masks by the callers row itself.
-- Same signature, grants and SECURITY DEFINER as 011.
CREATE OR REPLACE FUNCTION hotline.http_board_json() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hotline AS $$
SELECT json_build_object(
    'generated_at', hotline.iso(now()),
    'overdue_callbacks', coalesce((
        SELECT json_agg(json_strip_nulls(json_build_object(
            'case_id', k.case_id,
            'caller', CASE WHEN coalesce(cl.confidential, false) THEN hotline.mask_phone(c.caller) ELSE c.caller END,
            'confidential', CASE WHEN coalesce(cl.confidential, false) THEN true END,
            'department', c.department,
            'queue', CASE WHEN coalesce(cl.confidential, false) THEN hotline.mask_text(c.queue) ELSE c.queue END,
            'status', c.status,
            'owed_since', hotline.iso(k.started_at), 'due_at', hotline.iso(k.due_at),
            'late_s', floor(extract(epoch FROM now() - k.due_at))::bigint,
            'attempts', coalesce(t.attempts, 0), 'last_attempt_at', hotline.iso(t.last_attempt_at),
            'last_result', t.last_result, 'alert_id', al.id, 'alert_level', al.level))
            ORDER BY k.due_at, k.case_id)
        FROM (SELECT * FROM hotline.clocks k0
              WHERE k0.kind = 'callback' AND k0.state IN ('pending', 'breached') AND k0.due_at < now()
              ORDER BY k0.due_at LIMIT 500) k
             JOIN hotline.cases c ON c.id = k.case_id
             LEFT JOIN hotline.callers cl ON cl.caller = c.caller
             LEFT JOIN LATERAL (
                SELECT count(*) AS attempts, max(e.at) AS last_attempt_at,
                       (array_agg(e.body->>'result' ORDER BY e.at DESC, e.seq DESC))[1] AS last_result
                FROM hotline.case_events e
                WHERE e.case_id = k.case_id AND e.type = 'callback.attempt' AND e.at >= k.started_at) t ON true
             LEFT JOIN LATERAL (
                SELECT a.id, a.level FROM hotline.alerts a
                WHERE a.case_id = k.case_id AND a.kind = 'callback_overdue' AND a.acked_at IS NULL
                ORDER BY a.id DESC LIMIT 1) al ON true), '[]'::json),
    'overdue_orders', coalesce((
        SELECT json_agg(json_build_object('department', d.department, 'orders', d.orders)
                        ORDER BY d.n DESC, d.department)
        FROM (SELECT coalesce(o.department, '') AS department, count(*) AS n,
                     json_agg(json_strip_nulls(json_build_object(
                         'order_id', o.order_id, 'case_id', o.case_id, 'status', o.status,
                         'overdue', o.overdue, 'due_at', hotline.iso(o.due_at),
                         'late_s', floor(extract(epoch FROM o.late_by))::bigint,
                         'urge_level', o.urge_level,
                         'category', CASE WHEN coalesce(ocl.confidential, false)
                                          THEN hotline.mask_text(o.category) ELSE o.category END,
                         'area', CASE WHEN coalesce(ocl.confidential, false)
                                      THEN hotline.mask_text(o.area) ELSE o.area END))
                         ORDER BY o.due_at) AS orders
              FROM (SELECT * FROM hotline.overdue_orders LIMIT 500) o
                   LEFT JOIN hotline.cases oc ON oc.id = o.case_id
                   LEFT JOIN hotline.callers ocl ON ocl.caller = oc.caller
              GROUP BY coalesce(o.department, '')) d), '[]'::json),
    'open_alerts', (SELECT count(*) FROM hotline.alerts WHERE acked_at IS NULL),
    'max_alert_id', (SELECT max(id) FROM hotline.alerts),
    'open_alert_ids', coalesce((SELECT json_agg(o.id ORDER BY o.id) FROM (SELECT id FROM hotline.alerts
        WHERE acked_at IS NULL ORDER BY id DESC LIMIT 10000) o), '[]'::json),
    'figures', hotline.http_figures_json(NULL)::json)::text
$$;

------------------------------------------------------------------ retention

-- An anonymized case has no callers row, so the views can no longer tell it
-- was confidential: what they would show must hold no number already.  As
-- 004, plus: the orders' note, return_reason and extend_reason are removed
-- (what was said, like the case's summary); every phone-like run is masked
-- (mask_text) in what is kept because it classifies or is counted - the
-- case's category, priority and queue, the calls' queue, the orders'
-- category, area and signed_by, the hotspot rows' category and area - and in
-- the event bodies' category, area, by, queue and priority (scrub_body),
-- from which the descriptions are rebuilt.  Same signatures and grants.
CREATE OR REPLACE FUNCTION hotline.scrub_body(b jsonb, token text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN s ? 'caller' THEN jsonb_set(s, '{caller}', to_jsonb(token)) ELSE s END
FROM (SELECT coalesce((SELECT jsonb_object_agg(k, CASE WHEN k IN ('category', 'area', 'by', 'queue', 'priority')
                                                         AND jsonb_typeof(v) = 'string'
                                                       THEN to_jsonb(hotline.mask_text(v #>> '{}')) ELSE v END)
                       FROM jsonb_each(t) AS x (k, v)), t) AS s
      FROM (SELECT b - ARRAY['note', 'summary', 'reason', 'resolution', 'detail', 'comment',
                             'message', 'text'] AS t) y) x
$$;

CREATE OR REPLACE FUNCTION hotline.anonymize_closed(days integer, max_cases integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ids     bigint[];
    numbers text[];
BEGIN
    IF days IS NULL OR days < 0 THEN
        RAISE EXCEPTION 'anonymize_closed: days must be >= 0 (got %)', days;
    END IF;
    IF max_cases IS NULL OR max_cases < 1 THEN
        RAISE EXCEPTION 'anonymize_closed: max_cases must be >= 1 (got %)', max_cases;
    END IF;

    -- The batch: closed long enough, not done yet, not locked by the daemon.
    WITH batch AS (
        SELECT c.id, c.caller FROM hotline.cases c
        WHERE c.status = 'closed' AND c.caller NOT LIKE 'anon:%'
          AND c.closed_at < now() - make_interval(days => days)
        ORDER BY c.closed_at
        LIMIT max_cases
        FOR UPDATE SKIP LOCKED
    )
    SELECT array_agg(id), array_agg(DISTINCT caller) INTO ids, numbers FROM batch;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;

    UPDATE hotline.calls l SET caller = 'anon:' || l.case_id, queue = hotline.mask_text(l.queue)
    WHERE l.case_id = ANY (ids) AND l.caller NOT LIKE 'anon:%';

    -- The number may appear inside a dedupe key (e.g. repeat_caller alerts):
    -- replace it by the token, which carries the case id, so keys stay distinct.
    UPDATE hotline.alerts a
       SET caller = CASE WHEN a.caller IS NULL THEN NULL ELSE 'anon:' || a.case_id END,
           detail = NULL,
           dedupe_key = replace(a.dedupe_key, c.caller, 'anon:' || a.case_id)
      FROM hotline.cases c
     WHERE c.id = a.case_id AND a.case_id = ANY (ids);

    UPDATE hotline.case_events e
       SET body = hotline.scrub_body(e.body, 'anon:' || e.case_id),
           description = hotline.describe_event(e.type, hotline.scrub_body(e.body, 'anon:' || e.case_id))
     WHERE e.case_id = ANY (ids);

    UPDATE hotline.cases c
       SET caller = 'anon:' || c.id, summary = NULL, resolution = NULL,
           category = hotline.mask_text(c.category), priority = hotline.mask_text(c.priority),
           queue = hotline.mask_text(c.queue)
     WHERE c.id = ANY (ids);

    -- 044: what was said on the orders goes; what classifies them stays,
    -- every phone-like run in it masked (no callers row will say later that
    -- the case was confidential).
    UPDATE hotline.orders o
       SET note = NULL, return_reason = NULL, extend_reason = NULL,
           category = hotline.mask_text(o.category), area = hotline.mask_text(o.area),
           signed_by = hotline.mask_text(o.signed_by)
     WHERE o.case_id = ANY (ids)
       AND (o.note IS NOT NULL OR o.return_reason IS NOT NULL OR o.extend_reason IS NOT NULL
            OR o.category IS DISTINCT FROM hotline.mask_text(o.category)
            OR o.area IS DISTINCT FROM hotline.mask_text(o.area)
            OR o.signed_by IS DISTINCT FROM hotline.mask_text(o.signed_by));

    UPDATE hotline.hotspot_cases h
       SET category = hotline.mask_text(h.category), area = hotline.mask_text(h.area)
     WHERE h.case_id = ANY (ids)
       AND (h.category IS DISTINCT FROM hotline.mask_text(h.category)
            OR h.area IS DISTINCT FROM hotline.mask_text(h.area));

    -- A number's own row goes when nothing uses it any more: every case has
    -- a call from its caller, so "no call and no open case" means unused.
    -- Rows the daemon holds locked are left for a later run.
    DELETE FROM hotline.callers d
     WHERE d.caller IN (
        SELECT cl.caller FROM hotline.callers cl
        WHERE cl.caller = ANY (numbers)
          AND NOT EXISTS (SELECT 1 FROM hotline.calls l WHERE l.caller = cl.caller)
          AND NOT EXISTS (SELECT 1 FROM hotline.cases c
                          WHERE c.caller = cl.caller AND c.status <> 'closed')
        FOR UPDATE SKIP LOCKED);

    RETURN cardinality(ids);
END
$$;

-- (004 revoked EXECUTE from PUBLIC; CREATE OR REPLACE keeps that.)

------------------------------------------------------------------- grants

GRANT SELECT ON hotline.v_hotspot_cases, hotline.v_hotspots TO hotline_admin;

------------------------------------------------------------------ comments

COMMENT ON VIEW hotline.v_orders IS 'hotline.orders for administrators: free texts of a confidential caller masked.';
COMMENT ON COLUMN hotline.orders.note IS 'A note on the order (free text; administrators read it masked, through v_orders).';
COMMENT ON COLUMN hotline.orders.category IS 'Category of the complaint or request (as sent; administrators read it through v_orders).';
COMMENT ON COLUMN hotline.orders.area IS 'The area (district) of a work order (administrators read it through v_orders).';
COMMENT ON COLUMN hotline.orders.signed_by IS 'Who signed for the order (free text; administrators read it through v_orders).';
COMMENT ON COLUMN hotline.orders.return_reason IS 'Why the order was returned (administrators read it through v_orders).';
COMMENT ON COLUMN hotline.orders.extend_reason IS 'Why an extension was requested (administrators read it through v_orders).';
COMMENT ON COLUMN hotline.v_orders.category IS 'Category of the complaint or request (masked for a confidential caller).';
COMMENT ON COLUMN hotline.v_orders.area IS 'The area (district) of a work order (masked for a confidential caller).';
COMMENT ON COLUMN hotline.v_orders.signed_by IS 'Who signed for the order (masked for a confidential caller).';
COMMENT ON COLUMN hotline.v_orders.return_reason IS 'Why the order was returned (masked for a confidential caller).';
COMMENT ON COLUMN hotline.v_orders.extend_reason IS 'Why an extension was requested (masked for a confidential caller).';
COMMENT ON COLUMN hotline.v_orders.note IS 'A note on the order (masked for a confidential caller).';
COMMENT ON COLUMN hotline.overdue_orders.category IS 'Category of the complaint or request (masked for a confidential caller).';
COMMENT ON COLUMN hotline.overdue_orders.area IS 'The area (district) of a work order (masked for a confidential caller).';
COMMENT ON COLUMN hotline.hotspot_cases.category IS 'Category of the complaint or request (as sent; administrators read it through v_hotspot_cases).';
COMMENT ON COLUMN hotline.hotspot_cases.area IS 'The area (district) of a work order (administrators read it through v_hotspot_cases).';
COMMENT ON COLUMN hotline.hotspots.key IS 'The hotspot key (category, area, department ... as configured in hotspot.key; administrators read it through v_hotspots).';
COMMENT ON VIEW hotline.v_hotspot_cases IS 'hotline.hotspot_cases for administrators: category and area of a confidential caller masked.';
COMMENT ON COLUMN hotline.v_hotspot_cases.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.v_hotspot_cases.category IS 'Category of the complaint or request (masked for a confidential caller).';
COMMENT ON COLUMN hotline.v_hotspot_cases.area IS 'The area (district) of a work order (masked for a confidential caller).';
COMMENT ON COLUMN hotline.v_hotspot_cases.department IS 'The department responsible (as sent by the PBX/CRM, e.g. "roads").';
COMMENT ON COLUMN hotline.v_hotspot_cases.at IS 'When the case entered the hotspot window.';
COMMENT ON VIEW hotline.v_hotspots IS 'hotline.hotspots for administrators: every phone-like run in the key masked.';
COMMENT ON COLUMN hotline.v_hotspots.key IS 'The hotspot key, phone-like runs masked unless the reader is hotline_privileged.';
COMMENT ON COLUMN hotline.v_hotspots.alerted_at IS 'When the hotspot was last alerted.';
COMMENT ON COLUMN hotline.case_history.agent IS 'The agent (operator) id; for an event with a "by" instead (order.sign), that text, masked for a confidential caller.';
COMMENT ON FUNCTION hotline.visible_key(text,text,boolean) IS 'An alert''s dedupe key as the current user may see it (a repeat_caller key quotes the number).';
