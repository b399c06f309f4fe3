-- 010_orders.sql - work orders across departments (CONTRACT.md 6).
--
-- hotline.orders holds one row per work order (工单) with its two clocks,
-- sign and reply, both counted from dispatch.  Each clock keeps its state and
-- run number (seq) in the row, like hotline.clocks, so each breach is alerted
-- once (dedupe key "<case>#<order no>:<clock>:<seq>:overdue").  order_no
-- numbers a case's orders 1, 2, ...: the daemon's timers are keyed on
-- (case, order_no), which is how a fired timer finds its order with the
-- case's own load.
--
-- Cases gain the status 'merged' (case.merge) with merged_into, and a fifth
-- clock kind, 'redispatch' (after a return the hotline owes a new dispatch).
-- Alerts gain order_id and department; hotline.alert_json carries them, and
-- hotline.case_json lists the case's orders (both redefined here).
--
-- Views for administrators: hotline.v_orders (the orders, no phone numbers
-- in them), hotline.overdue_orders (orders past a deadline, by department)
-- and hotline.department_monthly (each department's scores per month).

ALTER TABLE hotline.cases DROP CONSTRAINT IF EXISTS cases_status_check;
ALTER TABLE hotline.cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('open', 'resolved', 'closed', 'merged'));
ALTER TABLE hotline.cases ADD COLUMN IF NOT EXISTS merged_into bigint REFERENCES hotline.cases (id);
CREATE INDEX IF NOT EXISTS cases_merged_into ON hotline.cases (merged_into) WHERE merged_into IS NOT NULL;

ALTER TABLE hotline.clocks DROP CONSTRAINT IF EXISTS clocks_kind_check;
ALTER TABLE hotline.clocks ADD CONSTRAINT clocks_kind_check
    CHECK (kind IN ('callback', 'update', 'resolution', 'survey', 'redispatch'));

ALTER TABLE hotline.alerts ADD COLUMN IF NOT EXISTS order_id text;
ALTER TABLE hotline.alerts ADD COLUMN IF NOT EXISTS department text;

CREATE TABLE IF NOT EXISTS hotline.orders (
    order_id            text PRIMARY KEY,           -- the sender's key (or "wo:<event id>")
    case_id             bigint NOT NULL REFERENCES hotline.cases (id),
    order_no            integer NOT NULL,           -- 1.. within the case
    department          text NOT NULL,
    status              text NOT NULL CHECK (status IN ('dispatched', 'signed', 'returned',
                                                        'extension_requested', 'replied')),
    category            text,
    area                text,
    dispatched_at       timestamptz NOT NULL,
    signed_at           timestamptz,
    signed_by           text,
    returned_at         timestamptz,
    return_reason       text,
    replied_at          timestamptz,
    result              text CHECK (result IN ('resolved', 'explained', 'unresolved')),
    note                text,
    due_at              timestamptz NOT NULL,       -- the reply deadline in force
    sign_due_at         timestamptz,
    extend_requested_at timestamptz,
    extend_until        timestamptz,                -- a pending extension request
    extend_reason       text,
    extensions          integer NOT NULL DEFAULT 0, -- approved
    extend_rejections   integer NOT NULL DEFAULT 0,
    sign_state          text CHECK (sign_state IN ('pending', 'met', 'breached', 'stopped')),
    sign_seq            integer NOT NULL DEFAULT 0,
    sign_allowed_ms     bigint,
    sign_met_at         timestamptz,
    sign_breached_at    timestamptz,
    reply_state         text NOT NULL CHECK (reply_state IN ('pending', 'met', 'breached', 'stopped')),
    reply_seq           integer NOT NULL DEFAULT 1,
    reply_allowed_ms    bigint,
    reply_met_at        timestamptz,
    reply_breached_at   timestamptz,
    calendar            text NOT NULL DEFAULT '',
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, order_no)
);
CREATE INDEX IF NOT EXISTS orders_sign_pending ON hotline.orders (sign_due_at) WHERE sign_state = 'pending';
CREATE INDEX IF NOT EXISTS orders_reply_pending ON hotline.orders (due_at) WHERE reply_state = 'pending';
CREATE INDEX IF NOT EXISTS orders_dispatched_at ON hotline.orders (dispatched_at);
CREATE INDEX IF NOT EXISTS orders_department ON hotline.orders (department, dispatched_at);

-- Hotspots (热点): each case's key values, and the last alert per key (one per crossing).
CREATE TABLE IF NOT EXISTS hotline.hotspot_cases (
    case_id    bigint PRIMARY KEY REFERENCES hotline.cases (id),
    category   text,
    area       text,
    department text,
    at         timestamptz NOT NULL            -- when the case got its current key
);
CREATE INDEX IF NOT EXISTS hotspot_cases_category ON hotline.hotspot_cases (category, at);
CREATE INDEX IF NOT EXISTS hotspot_cases_area ON hotline.hotspot_cases (area, at);
CREATE INDEX IF NOT EXISTS hotspot_cases_department ON hotline.hotspot_cases (department, at);
CREATE TABLE IF NOT EXISTS hotline.hotspots (
    key        text PRIMARY KEY,                -- JSON array of the key values
    alerted_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS hotspots_alerted_at ON hotline.hotspots (alerted_at);

-- An alert as pushed, NOTIFYed and sent to webhooks: now with order_id and department.
CREATE OR REPLACE FUNCTION hotline.alert_json(a hotline.alerts) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT json_strip_nulls(json_build_object(
    'id', a.id, 'kind', a.kind, 'case_id', a.case_id, 'caller', a.caller,
    'level', a.level, 'raised_at', hotline.iso(a.raised_at), 'due_at', hotline.iso(a.due_at),
    'escalated_at', hotline.iso(a.escalated_at),
    'acked_at', hotline.iso(a.acked_at), 'acked_by', a.acked_by, 'detail', a.detail,
    'order_id', a.order_id, 'department', a.department))::text
$$;

-- One order as shown in case.get and hotlinectl case.
CREATE OR REPLACE FUNCTION hotline.order_json(o hotline.orders) RETURNS json
LANGUAGE sql STABLE AS $$
SELECT json_strip_nulls(json_build_object(
    'order_id', o.order_id, 'department', o.department, 'status', o.status,
    'category', o.category, 'area', o.area,
    'dispatched_at', hotline.iso(o.dispatched_at), 'sign_due_at', hotline.iso(o.sign_due_at),
    'signed_at', hotline.iso(o.signed_at), 'due_at', hotline.iso(o.due_at),
    'replied_at', hotline.iso(o.replied_at), 'result', o.result,
    'returned_at', hotline.iso(o.returned_at), 'return_reason', o.return_reason,
    'extend_until', hotline.iso(o.extend_until), 'extensions', NULLIF(o.extensions, 0),
    'sign', o.sign_state, 'reply', o.reply_state))
$$;

-- case.get: as in 001, plus merged_into and the case's orders.
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
        FROM hotline.calls l WHERE l.case_id = c.id), '[]'::json),
    'alerts', COALESCE((SELECT json_agg(hotline.alert_json(a)::json ORDER BY a.id)
        FROM hotline.alerts a WHERE a.case_id = c.id AND a.acked_at IS NULL), '[]'::json),
    'events', COALESCE((SELECT json_agg(json_strip_nulls(json_build_object(
            'event_id', e.event_id, 'type', e.type, 'at', hotline.iso(e.at),
            'description', e.description)) ORDER BY e.at, e.seq)
        FROM hotline.case_events e WHERE e.case_id = c.id), '[]'::json)
))::text
FROM hotline.cases c WHERE c.id = p_id
$$;

---------------------------------------------------------------- views

-- The orders as administrators see them (no phone numbers live in this table).
CREATE OR REPLACE VIEW hotline.v_orders AS
SELECT o.order_id, o.case_id, o.order_no, o.department, o.status, o.category, o.area,
       o.dispatched_at, o.sign_due_at, o.signed_at, o.signed_by, o.due_at, o.replied_at, o.result,
       o.returned_at, o.return_reason, o.extensions, o.extend_until, o.extend_reason,
       o.sign_state, o.reply_state, o.note
FROM hotline.orders o;

-- Orders past a deadline right now: unsigned past the sign deadline, or not
-- answered past the reply deadline, oldest first, with the department to call.
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
  AND ((o.reply_state IN ('pending', 'breached') AND o.due_at <= now())
       OR (o.sign_state IN ('pending', 'breached') AND o.sign_due_at <= now()))
ORDER BY o.department, due_at;

-- Each department's scores per month (local month of dispatch, report time
-- zone): orders received, signed in time, replied in time, returned,
-- extended, replied `resolved`, and the share of satisfied surveys (score
-- 3..5: satisfied or basically satisfied) on cases it replied to.
CREATE OR REPLACE VIEW hotline.department_monthly AS
WITH o AS (
    SELECT o.*, date_trunc('month', hotline.local_day(o.dispatched_at))::date AS month
    FROM hotline.orders o
), s AS (
    SELECT DISTINCT ON (e.case_id) e.case_id, (e.body->>'score')::int AS score
    FROM hotline.case_events e WHERE e.type = 'survey.result'
    ORDER BY e.case_id, e.at DESC, e.seq DESC
)
SELECT o.month, o.department,
       count(*) AS received,
       count(*) FILTER (WHERE o.signed_at IS NOT NULL AND o.signed_at <= o.sign_due_at) AS signed_in_time,
       count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.replied_at <= o.due_at) AS replied_in_time,
       count(*) FILTER (WHERE o.status = 'returned') AS returned,
       count(*) FILTER (WHERE o.extensions > 0) AS extended,
       count(*) FILTER (WHERE o.result = 'resolved') AS resolved,
       count(s.score) FILTER (WHERE o.replied_at IS NOT NULL) AS surveys,
       round(count(*) FILTER (WHERE o.replied_at IS NOT NULL AND s.score >= 3)::numeric
             / NULLIF(count(s.score) FILTER (WHERE o.replied_at IS NOT NULL), 0), 3) AS satisfied_share,
       round(count(*) FILTER (WHERE o.signed_at IS NOT NULL AND o.signed_at <= o.sign_due_at)::numeric
             / NULLIF(count(*), 0), 3) AS sign_rate,
       round(count(*) FILTER (WHERE o.replied_at IS NOT NULL AND o.replied_at <= o.due_at)::numeric
             / NULLIF(count(*), 0), 3) AS reply_rate
FROM o LEFT JOIN s ON s.case_id = o.case_id
GROUP BY o.month, o.department
ORDER BY o.month, o.department;

---------------------------------------------------------------- grants

GRANT SELECT, INSERT, UPDATE ON hotline.orders, hotline.hotspot_cases, hotline.hotspots TO hotline_daemon;
GRANT SELECT ON hotline.orders, hotline.hotspot_cases, hotline.hotspots, hotline.v_orders, hotline.overdue_orders, hotline.department_monthly
    TO hotline_admin;
GRANT SELECT (merged_into) ON hotline.cases TO hotline_admin;
GRANT SELECT (order_id, department) ON hotline.alerts TO hotline_admin;
REVOKE EXECUTE ON FUNCTION hotline.order_json(hotline.orders) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.order_json(hotline.orders) TO hotline_daemon, hotline_admin;
