-- 001_schema.sql - the tables hotlined writes: cases, calls, events, clocks, alerts.
--
-- The daemon is the only writer of these tables (supervisors may acknowledge
-- alerts).  Every accepted request is kept verbatim in case_events; the other
-- tables hold the current state derived from them.  Uniqueness constraints
-- carry the guarantees: case_events.event_id makes a request take effect once,
-- alerts.dedupe_key makes each breach alert once, even across crashes.

CREATE SCHEMA IF NOT EXISTS hotline;

-- Phone numbers we have heard from: confidentiality and repeat-caller state.
CREATE TABLE hotline.callers (
    caller            text PRIMARY KEY,
    confidential      boolean NOT NULL DEFAULT false,
    repeat_alerted_at timestamptz,          -- the call that raised the last repeat_caller alert
    first_seen_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hotline.cases (
    id              bigserial PRIMARY KEY,
    caller          text NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'closed')),
    opened_at       timestamptz NOT NULL,
    resolved_at     timestamptz,
    closed_at       timestamptz,
    last_contact_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    category        text,
    priority        text,
    department      text,
    queue           text,
    summary         text,
    resolution      text,
    transfers       integer NOT NULL DEFAULT 0,
    reopens         integer NOT NULL DEFAULT 0,
    on_hold         boolean NOT NULL DEFAULT false,
    hold_since      timestamptz,
    held_ms         bigint NOT NULL DEFAULT 0,
    policy          text NOT NULL DEFAULT 'default'
);
-- "the caller's most recent case that is not closed", asked for every inbound call
CREATE INDEX cases_caller_open ON hotline.cases (caller, opened_at DESC) WHERE status <> 'closed';
CREATE INDEX cases_opened_at ON hotline.cases (opened_at);

CREATE TABLE hotline.calls (
    call_id     text PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES hotline.cases (id),
    caller      text NOT NULL,
    state       text NOT NULL CHECK (state IN ('offered', 'answered', 'abandoned', 'voicemail', 'ended')),
    inbound     boolean NOT NULL DEFAULT true,
    offered_at  timestamptz NOT NULL,
    answered_at timestamptz,
    ended_at    timestamptz,
    queue       text,
    agent       text,
    outcome     text
);
CREATE INDEX calls_case ON hotline.calls (case_id);
CREATE INDEX calls_caller_offered ON hotline.calls (caller, offered_at);
CREATE INDEX calls_offered_at ON hotline.calls (offered_at);

CREATE TABLE hotline.case_events (
    seq         bigserial PRIMARY KEY,     -- order of acceptance
    event_id    text NOT NULL UNIQUE,      -- the request id: the idempotency key
    case_id     bigint REFERENCES hotline.cases (id),
    type        text NOT NULL,
    at          timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    description text,                      -- one readable line, written by the daemon
    body        jsonb NOT NULL             -- the request as received
);
CREATE INDEX case_events_case_at ON hotline.case_events (case_id, at, seq);
CREATE INDEX case_events_at ON hotline.case_events (at);

CREATE TABLE hotline.clocks (
    case_id           bigint NOT NULL REFERENCES hotline.cases (id),
    kind              text NOT NULL CHECK (kind IN ('callback', 'update', 'resolution', 'survey')),
    state             text NOT NULL CHECK (state IN ('pending', 'paused', 'met', 'breached', 'stopped')),
    seq               integer NOT NULL DEFAULT 1,   -- one run of the clock; alerts are keyed on it
    started_at        timestamptz NOT NULL,
    due_at            timestamptz NOT NULL,
    warn_at           timestamptz,
    warned            boolean NOT NULL DEFAULT false,
    allowed_ms        bigint NOT NULL,
    paused_at         timestamptz,
    remaining_ms      bigint,
    warn_remaining_ms bigint,
    met_at            timestamptz,
    breached_at       timestamptz,
    calendar          text NOT NULL DEFAULT '',
    PRIMARY KEY (case_id, kind)
);
-- the daemon loads every pending clock at start
CREATE INDEX clocks_pending ON hotline.clocks (due_at) WHERE state = 'pending';

CREATE TABLE hotline.alerts (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,
    case_id     bigint REFERENCES hotline.cases (id),
    caller      text,
    level       integer NOT NULL DEFAULT 1,
    raised_at   timestamptz NOT NULL,
    due_at      timestamptz,
    escalated_at timestamptz,
    escalate_at timestamptz,                -- next escalation; NULL = none
    acked_at    timestamptz,
    acked_by    text,
    detail      text,
    dedupe_key  text NOT NULL UNIQUE        -- one alert per breach, whatever happens
);
CREATE INDEX alerts_open ON hotline.alerts (id) WHERE acked_at IS NULL;
CREATE INDEX alerts_escalate ON hotline.alerts (escalate_at) WHERE acked_at IS NULL AND escalate_at IS NOT NULL;
CREATE INDEX alerts_case ON hotline.alerts (case_id);

-- Exact conversions between timestamptz and the daemon's milliseconds since the epoch.
CREATE FUNCTION hotline.ms(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT floor(extract(epoch FROM t) * 1000)::bigint $$;
CREATE FUNCTION hotline.from_ms(ms bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT 'epoch'::timestamptz + ms * interval '1 millisecond' $$;

-- ISO 8601 in UTC with milliseconds, as everything on the wire.
CREATE FUNCTION hotline.iso(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- An alert as pushed to subscribers and sent with NOTIFY hotline_alert.
CREATE FUNCTION hotline.alert_json(a hotline.alerts) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT json_strip_nulls(json_build_object(
    'id', a.id, 'kind', a.kind, 'case_id', a.case_id, 'caller', a.caller,
    'level', a.level, 'raised_at', hotline.iso(a.raised_at), 'due_at', hotline.iso(a.due_at),
    'escalated_at', hotline.iso(a.escalated_at),
    'acked_at', hotline.iso(a.acked_at), 'acked_by', a.acked_by, 'detail', a.detail))::text
$$;

-- A case as answered to `case.get`: status, caller, clocks, calls, open alerts.
CREATE FUNCTION hotline.case_json(p_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT json_strip_nulls(json_build_object(
    'id', c.id, 'caller', c.caller, 'status', c.status,
    'opened_at', hotline.iso(c.opened_at), 'resolved_at', hotline.iso(c.resolved_at),
    'closed_at', hotline.iso(c.closed_at), 'last_contact_at', hotline.iso(c.last_contact_at),
    'category', c.category, 'priority', c.priority, 'department', c.department,
    'queue', c.queue, 'summary', c.summary, 'resolution', c.resolution,
    'transfers', c.transfers, 'reopens', c.reopens, 'on_hold', c.on_hold, 'policy', c.policy,
    'clocks', COALESCE((SELECT json_agg(json_strip_nulls(json_build_object(
            'kind', k.kind, 'state', k.state, 'started_at', hotline.iso(k.started_at),
            'due_at', hotline.iso(k.due_at), 'warn_at', hotline.iso(k.warn_at),
            'met_at', hotline.iso(k.met_at), 'breached_at', hotline.iso(k.breached_at),
            'remaining_ms', k.remaining_ms, 'calendar', NULLIF(k.calendar, '')))
            ORDER BY array_position(ARRAY['callback','update','resolution','survey'], k.kind))
        FROM hotline.clocks k WHERE k.case_id = c.id), '[]'::json),
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
