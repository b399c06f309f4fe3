-- 050_merged_confidential.sql - a case into which a confidential caller's
-- case was merged has its free texts masked as a confidential case's.
--
-- Every masking decision so far was made per case from that case's own
-- caller (callers.confidential).  After case.merge (CONTRACT 6) of a
-- confidential caller's case B into an ordinary case A, agents write about
-- both callers on A - a case.update note, the summary, call.ended's summary,
-- case.resolve's resolution, a work order's note - and A's texts quoted B's
-- number whole to every reader who is not hotline_privileged: the v_* views,
-- case_history, the orders views, GET /v1/cases/{id} and a viewer's
-- case.get (http_case_json), the wallboard (http_board_json), and an
-- alert's detail in pushes, the SSE stream, webhooks and NOTIFY
-- (notify_payload; the daemon's SQL_W_ALERTS_NEW, include/store_sql.h,
-- reads the same rule).  docs/admin.md called it a known gap.
--
-- The rule now lives in one place, the view hotline.case_confidentiality:
-- a case is confidential for masking when its caller is, or when any case
-- merged into it - directly, or through a chain of merged_into (047
-- flattens chains to the surviving case, but a case merged into a case that
-- had been resolved before being merged keeps pointing at it) - has a
-- confidential caller.  Every view and function below passes its free texts
-- and event bodies through visible_text / visible_body (or, for the
-- SECURITY DEFINER HTTP functions, mask_text / http_mask_json) with that
-- flag instead of callers.confidential.  What is not free text stays as it
-- was: the case's own caller column and "confidential" flag (its caller is
-- not confidential), the calls' and alerts' callers (each masked by its own
-- number's row).
--
-- Same columns, names, types, grants and security barrier for every view
-- (CREATE OR REPLACE keeps the grants and 018/044's comments); same
-- signatures, grants and SECURITY DEFINER for the functions.

------------------------------------------------------------------- the rule

-- A view, not a function: the views below run with their owner's rights
-- and read hotline.cases.caller and hotline.callers.caller, which
-- administrators may not read; an SQL function's body, inlined or not, runs
-- with the reader's.  Each view reads it for one case at a time (a LATERAL
-- ... WHERE case_id = ... OFFSET 0 beside the case), so the flag is
-- computed once per row by index probes (cases_pkey, callers_pkey, and the
-- partial index cases_merged_into of 010 for the cases merged into it).
CREATE OR REPLACE VIEW hotline.case_confidentiality AS
SELECT c.id AS case_id,
       EXISTS (
           WITH RECURSIVE t (id) AS (
               SELECT c.id
               UNION                     -- not ALL: a cycle ends
               SELECT m.id FROM hotline.cases m JOIN t ON m.merged_into = t.id
           )
           SELECT 1
           FROM t JOIN hotline.cases tc ON tc.id = t.id
                  JOIN hotline.callers cl ON cl.caller = tc.caller
           WHERE cl.confidential) AS confidential
FROM hotline.cases c;

COMMENT ON VIEW hotline.case_confidentiality IS
    'Internal (050): whether each case''s free texts are masked as a confidential caller''s - its caller is confidential, or a case merged into it (through any chain of merged_into) has a confidential caller. Read by the masked views, which run with their owner''s rights.';
COMMENT ON COLUMN hotline.case_confidentiality.case_id IS 'The case (hotline.cases.id).';
COMMENT ON COLUMN hotline.case_confidentiality.confidential IS
    'True when the case''s caller, or the caller of a case merged into it (directly or through a chain), is confidential.';
REVOKE ALL ON hotline.case_confidentiality FROM PUBLIC;
GRANT SELECT ON hotline.case_confidentiality TO hotline_privileged;

------------------------------------------------------------------- views

-- As 018; category, priority, queue, summary and resolution by the case's rule.
CREATE OR REPLACE VIEW hotline.v_cases WITH (security_barrier) AS
SELECT c.id, hotline.visible_caller(c.caller, cl.confidential) AS caller,
       coalesce(cl.confidential, false) AS confidential,
       c.status, c.opened_at, c.resolved_at, c.closed_at, c.last_contact_at, c.updated_at,
       hotline.visible_text(c.category, cf.confidential) AS category,
       hotline.visible_text(c.priority, cf.confidential) AS priority,
       c.department,
       hotline.visible_text(c.queue, cf.confidential) AS queue,
       hotline.visible_text(c.summary, cf.confidential) AS summary,
       hotline.visible_text(c.resolution, cf.confidential) AS resolution,
       c.transfers, c.reopens, c.on_hold, c.hold_since, c.held_ms, c.policy,
       c.held_ms * interval '1 millisecond' AS held
FROM hotline.cases c
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
     LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = c.id OFFSET 0) cf ON true;

-- As 026, plus the case's rule.  An event without a case (or whose case's
-- callers row is gone) is still masked by its body's caller.
CREATE OR REPLACE VIEW hotline.v_case_events WITH (security_barrier) AS
SELECT e.seq, e.event_id, e.case_id, e.type, e.at, e.received_at,
       hotline.visible_text(e.description, coalesce(cl.confidential, bcl.confidential) OR cf.confidential) AS description,
       hotline.visible_body(hotline.event_body(e.event_id, e.type, e.body),
                            coalesce(cl.confidential, bcl.confidential) OR cf.confidential) AS body
FROM hotline.case_events e
     LEFT JOIN hotline.cases c ON c.id = e.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
     LEFT JOIN hotline.callers bcl ON bcl.caller = e.body->>'caller'
     LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = c.id OFFSET 0) cf ON c.id IS NOT NULL;

-- As 015; the detail by the case's rule (or the alert's own caller's).
CREATE OR REPLACE VIEW hotline.v_alerts WITH (security_barrier) AS
SELECT a.id, a.kind, a.case_id,
       hotline.visible_caller(coalesce(a.caller, c.caller), cl.confidential) AS caller,
       a.level, a.raised_at, a.due_at, a.escalated_at, a.escalate_at, a.acked_at, a.acked_by,
       hotline.visible_text(a.detail, coalesce(cl.confidential, false) OR cf.confidential) AS detail,
       hotline.visible_key(a.dedupe_key, coalesce(a.caller, c.caller), cl.confidential) AS dedupe_key,
       a.order_id, a.department
FROM hotline.alerts a
     LEFT JOIN hotline.cases c ON c.id = a.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = coalesce(a.caller, c.caller)
     LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = c.id OFFSET 0) cf ON c.id IS NOT NULL;

-- As 003.
CREATE OR REPLACE VIEW hotline.open_alerts WITH (security_barrier) AS
SELECT a.id, a.kind, a.level, a.case_id,
       hotline.visible_caller(coalesce(a.caller, c.caller), cl.confidential) AS caller,
       c.status AS case_status,
       a.raised_at, now() - a.raised_at AS age,
       a.due_at, a.escalated_at, a.escalate_at,
       hotline.visible_text(a.detail, coalesce(cl.confidential, false) OR cf.confidential) AS detail
FROM hotline.alerts a
     LEFT JOIN hotline.cases c ON c.id = a.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = coalesce(a.caller, c.caller)
     LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = c.id OFFSET 0) cf ON c.id IS NOT NULL
WHERE a.acked_at IS NULL
ORDER BY a.level DESC, a.raised_at, a.id;

-- As 044 (v_orders, overdue_orders, v_hotspot_cases, case_history).
CREATE OR REPLACE VIEW hotline.v_orders WITH (security_barrier) AS
SELECT o.order_id, o.case_id, o.order_no, o.department, o.status,
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
SELECT o.department, o.order_id, o.case_id, o.status,
       hotline.visible_text(o.category, cf.confidential) AS category,
       hotline.visible_text(o.area, cf.confidential) AS area,
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
     LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = o.case_id OFFSET 0) cf ON true
WHERE o.status IN ('dispatched', 'signed', 'extension_requested')
  AND o.reply_state IN ('pending', 'breached')
  AND (o.due_at <= now() OR (o.sign_state IN ('pending', 'breached') AND o.sign_due_at <= now()))
ORDER BY o.department, due_at;

CREATE OR REPLACE VIEW hotline.v_hotspot_cases WITH (security_barrier) AS
SELECT h.case_id,
       hotline.visible_text(h.category, cf.confidential) AS category,
       hotline.visible_text(h.area, cf.confidential) AS area,
       h.department, h.at
FROM hotline.hotspot_cases h
     LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = h.case_id OFFSET 0) cf ON true;

CREATE OR REPLACE VIEW hotline.case_history WITH (security_barrier) AS
SELECT h.case_id, h.at, h.type, h.event_id, h.agent, h.description, h.seq
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

------------------------------------------------------------------- HTTP

-- As 042.  A case whose own caller is confidential is masked as before.  A
-- case into which a confidential caller's case was merged has every text
-- masked the same way (http_mask_json: every phone-like run by its digits;
-- in identifiers, the merged confidential number as a whole figure - the
-- smallest, when several were merged), but its own caller, not
-- confidential, is shown as it is and "confidential" is not set: that key
-- says the case's caller is confidential.
CREATE OR REPLACE FUNCTION hotline.http_case_json(p_id bigint) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hotline AS $$
SELECT CASE WHEN coalesce(cl.confidential, false)
            THEN (hotline.http_mask_json(x.j::jsonb, c.caller)
                  || jsonb_build_object('confidential', true))::text
            WHEN (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = c.id)
            THEN (hotline.http_mask_json(x.j::jsonb, coalesce((
                      WITH RECURSIVE t (id) AS (
                          SELECT c.id
                          UNION
                          SELECT m.id FROM hotline.cases m JOIN t ON m.merged_into = t.id)
                      SELECT min(mc.caller)
                      FROM t JOIN hotline.cases mc ON mc.id = t.id
                             JOIN hotline.callers ml ON ml.caller = mc.caller
                      WHERE ml.confidential), ''))
                  || jsonb_build_object('caller', c.caller))::text
            ELSE x.j END
FROM hotline.cases c
     CROSS JOIN LATERAL (SELECT hotline.case_json(c.id) AS j) x
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
WHERE c.id = p_id
$$;

-- As 044: the overdue callbacks' queue and the overdue orders' category and
-- area masked by the case's rule (the callback's caller by its own row).
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
            'queue', CASE WHEN cf.confidential THEN hotline.mask_text(c.queue) ELSE c.queue END,
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
             LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x
                                 WHERE x.case_id = c.id OFFSET 0) cf ON true
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
                         'category', CASE WHEN ocf.confidential
                                          THEN hotline.mask_text(o.category) ELSE o.category END,
                         'area', CASE WHEN ocf.confidential
                                      THEN hotline.mask_text(o.area) ELSE o.area END))
                         ORDER BY o.due_at) AS orders
              FROM (SELECT * FROM hotline.overdue_orders LIMIT 500) o
                   LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = o.case_id OFFSET 0) ocf ON true
              GROUP BY coalesce(o.department, '')) d), '[]'::json),
    'open_alerts', (SELECT count(*) FROM hotline.alerts WHERE acked_at IS NULL),
    'max_alert_id', (SELECT max(id) FROM hotline.alerts),
    'open_alert_ids', coalesce((SELECT json_agg(o.id ORDER BY o.id) FROM (SELECT id FROM hotline.alerts
        WHERE acked_at IS NULL ORDER BY id DESC LIMIT 10000) o), '[]'::json),
    'figures', hotline.http_figures_json(NULL)::json)::text
$$;


------------------------------------------------------------ alert payloads

-- What pushes, the SSE stream, webhooks, the replay and NOTIFY carry for an
-- alert (notify_payload, 032) was masked by the alert's caller only.  An
-- alert's detail can quote free text of its case - buck_passing quotes the
-- returned order's reason, hotspot the key (category, area), transfer_loop
-- the department sent - so an alert on a case into which a confidential
-- caller's case was merged has its detail masked too; its caller (the
-- case's own, not confidential) is sent whole and "confidential" is not set.
CREATE OR REPLACE FUNCTION hotline.notify_detail_masked(j text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN j::jsonb ? 'detail' AND jsonb_typeof(j::jsonb -> 'detail') = 'string'
            THEN (j::jsonb || jsonb_build_object('detail', hotline.mask_text(j::jsonb ->> 'detail')))::text
            ELSE j END
$$;

-- Same signature, volatility and grants as 032.
CREATE OR REPLACE FUNCTION hotline.notify_payload(j text, caller text) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT CASE
    WHEN caller IS NOT NULL AND EXISTS (
        SELECT 1 FROM hotline.callers c WHERE c.caller = notify_payload.caller AND c.confidential)
    THEN hotline.notify_masked(j, caller)
    WHEN jsonb_typeof(j::jsonb -> 'case_id') = 'number' AND EXISTS (
        SELECT 1 FROM hotline.case_confidentiality x
        WHERE x.case_id = (j::jsonb ->> 'case_id')::bigint AND x.confidential)
    THEN hotline.notify_detail_masked(j)
    ELSE j
END
$$;

REVOKE EXECUTE ON FUNCTION hotline.notify_detail_masked(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.notify_detail_masked(text) TO hotline_daemon, hotline_privileged;
-- notify_payload's body runs as its caller: the daemon (pushes, replay,
-- webhooks; SQL_W_ALERTS_NEW reads the view in a join) and hotline_privileged.
GRANT SELECT ON hotline.case_confidentiality TO hotline_daemon;

COMMENT ON FUNCTION hotline.notify_detail_masked(text) IS
    'An alert''s JSON with its detail text masked by digits (an alert on a case into which a confidential caller''s case was merged; 050).';
COMMENT ON FUNCTION hotline.notify_payload(text,text) IS
    'The NOTIFY/webhook text of an alert: the caller (and detail) masked when confidential; the detail masked when a confidential caller''s case was merged into the alert''s case.';
