-- 048_case_get_bounded.sql - case.get (and GET /v1/cases/{id}) answers with
-- a case's newest 500 events and 500 calls, and says how many it left out.
--
-- The whole history made one answer of 2.6 MB for a case of 23,000 events
-- (a repeat caller's case over the years), and reads run in the event
-- batches: a reviewer's client with a thousand case.gets of a 2,000-event
-- case in flight delayed another client's event by 10 s.  The newest 500
-- are what a person reads on a case page; `events_omitted` /
-- `calls_omitted` say how many older ones are left out (absent when none:
-- json_strip_nulls), and administrators read the whole history in psql
-- (hotline.case_history).  The rest of the answer is 010's.

CREATE OR REPLACE FUNCTION hotline.case_json(p_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT json_strip_nulls(json_build_object(
    'id', c.id, 'caller', c.caller, 'status', c.status,
    'opened_at', hotline.iso(c.opened_at), 'resolved_at', hotline.iso(c.resolved_at),
    'closed_at', hotline.iso(c.closed_at), 'last_contact_at', hotline.iso(c.last_contact_at),
    'category', c.category, 'priority', c.priority, 'department', c.department,
    'queue', c.queue, 'summary', c.summary, 'resolution', c.resolution,
    'transfers', c.transfers, 'reopens', c.reopens, 'on_hold', c.on_hold, 'policy', c.policy,
    'merged_into', c.merged_into,
    'clocks', COALESCE((SELECT json_agg(json_strip_nulls(json_build_object(
            'kind', k.kind, 'state', k.state, 'started_at', hotline.iso(k.started_at),
            'due_at', hotline.iso(k.due_at), 'warn_at', hotline.iso(k.warn_at),
            'met_at', hotline.iso(k.met_at), 'breached_at', hotline.iso(k.breached_at),
            'remaining_ms', k.remaining_ms, 'calendar', NULLIF(k.calendar, '')))
            ORDER BY array_position(ARRAY['callback','update','resolution','survey','redispatch'], k.kind))
        FROM hotline.clocks k WHERE k.case_id = c.id), '[]'::json),
    'orders', COALESCE((SELECT json_agg(hotline.order_json(o) ORDER BY o.order_no)
        FROM hotline.orders o WHERE o.case_id = c.id), '[]'::json),
    'calls', COALESCE((SELECT json_agg(json_strip_nulls(json_build_object(
            'call_id', l.call_id, 'state', l.state, 'offered_at', hotline.iso(l.offered_at),
            'answered_at', hotline.iso(l.answered_at), 'ended_at', hotline.iso(l.ended_at),
            'queue', l.queue, 'agent', l.agent, 'outcome', l.outcome)) ORDER BY l.offered_at, l.call_id)
        FROM (SELECT * FROM hotline.calls l WHERE l.case_id = c.id
              ORDER BY l.offered_at DESC, l.call_id DESC LIMIT 500) l), '[]'::json),
    'calls_omitted', (SELECT count(*) - 500 FROM hotline.calls l WHERE l.case_id = c.id
                      HAVING count(*) > 500),
    'alerts', COALESCE((SELECT json_agg(hotline.alert_json(a)::json ORDER BY a.id)
        FROM hotline.alerts a WHERE a.case_id = c.id AND a.acked_at IS NULL), '[]'::json),
    'events', COALESCE((SELECT json_agg(json_strip_nulls(json_build_object(
            'event_id', e.event_id, 'type', e.type, 'at', hotline.iso(e.at),
            'description', e.description)) ORDER BY e.at, e.seq)
        FROM (SELECT * FROM hotline.case_events e WHERE e.case_id = c.id
              ORDER BY e.at DESC, e.seq DESC LIMIT 500) e), '[]'::json),
    'events_omitted', (SELECT count(*) - 500 FROM hotline.case_events e WHERE e.case_id = c.id
                       HAVING count(*) > 500)
))::text
FROM hotline.cases c WHERE c.id = p_id
$$;

