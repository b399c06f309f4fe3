-- 011_http.sql - what the HTTP API and the wallboard read, as JSON text, numbers masked.
--
-- The daemon answers GET /v1/cases/{id}, /v1/figures and /v1/board with one
-- statement each through its nonblocking pipeline; these functions build the
-- JSON in the database so that one round trip suffices.  They are SECURITY
-- DEFINER (the daemon role has no rights on the figure views) with a fixed
-- search_path, and they mask confidential callers themselves: HTTP readers
-- (viewers, wall screens) never see a confidential number whole, whoever
-- owns the function.  The masked form is the NOTIFY one (mask_phone, and
-- "confidential": true).  No existing object is redefined here.

-- A case as case.get returns it, a confidential caller's number masked
-- wherever it appears in the text (caller, alerts, summaries, notes).
CREATE FUNCTION hotline.http_case_json(p_id bigint) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hotline AS $$
SELECT CASE WHEN coalesce(cl.confidential, false)
            THEN (replace(j, c.caller, hotline.mask_phone(c.caller))::jsonb
                  || jsonb_build_object('confidential', true))::text
            ELSE j END
FROM hotline.cases c
     CROSS JOIN LATERAL (SELECT hotline.case_json(c.id) AS j) x
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
WHERE c.id = p_id
$$;

-- One day's figures (hotline.daily_figures) in the report time zone; all
-- zeros for a day without activity.  p_day NULL = today there.
CREATE FUNCTION hotline.http_figures_json(p_day date) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hotline AS $$
SELECT json_build_object(
    'day', d.day,
    'time_zone', hotline.report_tz(),
    'figures', coalesce((SELECT to_jsonb(f) - 'day' FROM hotline.daily_figures f WHERE f.day = d.day),
        jsonb_build_object('calls_offered', 0, 'calls_answered', 0, 'answered_within_15s', 0,
            'calls_abandoned', 0, 'voicemails', 0, 'callbacks_owed', 0, 'callbacks_in_time', 0,
            'callbacks_late', 0, 'repeat_calls', 0, 'cases_opened', 0, 'cases_resolved', 0)))::text
FROM (SELECT coalesce(p_day, hotline.local_day(now())) AS day) d
$$;

-- The wallboard's lists besides the alerts (which come over SSE):
--   overdue_callbacks: callers owed a call back past the deadline, oldest first
--   overdue_orders:    work orders past their sign or reply deadline
--                      (hotline.overdue_orders), by department, most orders
--                      first: {department, orders: [{order_id, case_id,
--                      overdue, due_at, late_s, urge_level, ...}]}
--   figures:           today's, as /v1/figures
--   open_alert_ids:    the ids of every open alert (at most 10,000; `open_alerts`
--                      counts them all), so a board drops alerts acknowledged
--                      elsewhere (in psql, say) that no stream announced; only
--                      ids up to max_alert_id (newer ones were raised after)
CREATE FUNCTION hotline.http_board_json() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hotline AS $$
SELECT json_build_object(
    'generated_at', hotline.iso(now()),
    'overdue_callbacks', coalesce((
        SELECT json_agg(json_strip_nulls(json_build_object(
            'case_id', k.case_id,
            'caller', CASE WHEN coalesce(cl.confidential, false) THEN hotline.mask_phone(c.caller) ELSE c.caller END,
            'confidential', CASE WHEN coalesce(cl.confidential, false) THEN true END,
            'department', c.department, 'queue', c.queue, 'status', c.status,
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
                         'urge_level', o.urge_level, 'category', o.category, 'area', o.area))
                         ORDER BY o.due_at) AS orders
              FROM (SELECT * FROM hotline.overdue_orders LIMIT 500) o
              GROUP BY coalesce(o.department, '')) d), '[]'::json),
    'open_alerts', (SELECT count(*) FROM hotline.alerts WHERE acked_at IS NULL),
    'max_alert_id', (SELECT max(id) FROM hotline.alerts),
    'open_alert_ids', coalesce((SELECT json_agg(o.id ORDER BY o.id) FROM (SELECT id FROM hotline.alerts
        WHERE acked_at IS NULL ORDER BY id DESC LIMIT 10000) o), '[]'::json),
    'figures', hotline.http_figures_json(NULL)::json)::text
$$;

REVOKE EXECUTE ON FUNCTION hotline.http_case_json(bigint), hotline.http_figures_json(date),
    hotline.http_board_json() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.http_case_json(bigint), hotline.http_figures_json(date),
    hotline.http_board_json() TO hotline_daemon;
