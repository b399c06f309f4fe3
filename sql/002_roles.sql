-- 002_roles.sql - who may do what: the daemon, administrators, supervisors.
--
-- Four group roles (NOLOGIN) carry the privileges; people and the daemon log
-- in as their own LOGIN roles and are made members:
--
--   hotline_daemon      what hotlined needs: read, insert and update its tables,
--                       draw ids from the sequences, call the helper functions.
--                       No DELETE, no TRUNCATE, owns nothing, may create nothing
--                       in the schema: it cannot drop, alter or empty a table.
--   hotline_admin       read-only.  Non-phone columns of the base tables (column
--                       privileges) and every view in 003; phone numbers and the
--                       raw request bodies only through the views, which mask
--                       confidential numbers (hotline.visible_caller).
--   hotline_supervisor  hotline_admin + acknowledging alerts, only through the
--                       SECURITY DEFINER function hotline.ack_alert(id, by).
--   hotline_privileged  hotline_admin + confidential numbers in clear: the views
--                       show them whole, and the base tables may be read fully.
--
-- and one LOGIN role, hotlined (member of hotline_daemon), for the daemon's
-- conninfo.  It has no password: the development cluster trusts local
-- connections; production sets one (see docs/admin.md).
--
-- Roles are cluster-wide while this migration runs once per database, so the
-- roles are created only when missing (DO blocks) and every GRANT is safe to
-- repeat.  The migration user needs CREATEROLE (or superuser) the first time
-- a role is created in a cluster.
--
-- The masking helpers live here too, because the privilege design depends on
-- them: the views in 003 call them.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['hotline_daemon', 'hotline_admin', 'hotline_supervisor', 'hotline_privileged'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hotlined') THEN
        CREATE ROLE hotlined LOGIN;
    END IF;
END
$$;

-- Memberships: supervisors and privileged users are administrators too.
GRANT hotline_daemon TO hotlined;
GRANT hotline_admin TO hotline_supervisor;
GRANT hotline_admin TO hotline_privileged;

-- Nobody but the owner creates objects in the schema (PG 15 already keeps
-- CREATE on "public" away from PUBLIC; our schema never granted it).
REVOKE ALL ON SCHEMA hotline FROM PUBLIC;
GRANT USAGE ON SCHEMA hotline TO hotline_daemon, hotline_admin;

------------------------------------------------------------------- daemon

GRANT SELECT, INSERT, UPDATE ON hotline.callers, hotline.cases, hotline.calls,
    hotline.case_events, hotline.clocks, hotline.alerts TO hotline_daemon;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA hotline TO hotline_daemon;

-- The migration runner's bookkeeping, if it already exists: the daemon may
-- check the schema version at start; administrators may look.
DO $$
BEGIN
    IF to_regclass('hotline.schema_migrations') IS NOT NULL THEN
        GRANT SELECT ON hotline.schema_migrations TO hotline_daemon, hotline_admin;
    END IF;
END
$$;

------------------------------------------------------------ administrators

-- Every column except the phone numbers (and the raw request body, which
-- carries the caller).  SELECT * on these tables is therefore refused for an
-- administrator: the v_* views in 003 are the way to see whole rows.
GRANT SELECT (id, status, opened_at, resolved_at, closed_at, last_contact_at, updated_at,
              category, priority, department, queue, summary, resolution, transfers,
              reopens, on_hold, hold_since, held_ms, policy)
    ON hotline.cases TO hotline_admin;
GRANT SELECT (call_id, case_id, state, inbound, offered_at, answered_at, ended_at,
              queue, agent, outcome)
    ON hotline.calls TO hotline_admin;
GRANT SELECT (seq, event_id, case_id, type, at, received_at)
    ON hotline.case_events TO hotline_admin;
GRANT SELECT ON hotline.clocks TO hotline_admin;
GRANT SELECT (id, kind, case_id, level, raised_at, due_at, escalated_at, escalate_at,
              acked_at, acked_by, dedupe_key)
    ON hotline.alerts TO hotline_admin;
GRANT SELECT (confidential, repeat_alerted_at, first_seen_at)
    ON hotline.callers TO hotline_admin;

-- The privileged may read everything in clear.
GRANT SELECT ON hotline.callers, hotline.cases, hotline.calls, hotline.case_events,
    hotline.clocks, hotline.alerts TO hotline_privileged;

------------------------------------------------------------------ masking

-- '+8613812340001' -> '+86138****0001': keep the first len-8 characters and
-- the last 4.  Numbers of 8 characters or fewer keep only their last 2.
CREATE OR REPLACE FUNCTION hotline.mask_phone(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN p IS NULL THEN NULL
    WHEN p LIKE 'anon:%' THEN p          -- already anonymized (004): nothing to hide
    WHEN length(p) <= 2 THEN repeat('*', length(p))
    WHEN length(p) <= 8 THEN repeat('*', length(p) - 2) || right(p, 2)
    ELSE left(p, length(p) - 8) || '****' || right(p, 4)
END
$$;

-- Does the current user see confidential numbers whole?  current_user, not
-- session_user: SET ROLE hotline_admin must mask even for a superuser.  The
-- views run with their owner's table rights but call this as the invoker.
CREATE OR REPLACE FUNCTION hotline.sees_confidential() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT pg_has_role(current_user, 'hotline_privileged', 'MEMBER')
$$;

-- The number as the current user may see it.
CREATE OR REPLACE FUNCTION hotline.visible_caller(p text, confidential boolean) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT CASE WHEN NOT coalesce(confidential, false) OR hotline.sees_confidential()
            THEN p ELSE hotline.mask_phone(p) END
$$;

-- Same, from a hotline.callers row (its number and its confidential flag).
CREATE OR REPLACE FUNCTION hotline.visible_caller(c hotline.callers) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT hotline.visible_caller(c.caller, c.confidential)
$$;

-- Free text that may quote a number (descriptions, alert details): when the
-- number is confidential and the user is not privileged, every run of 7 or
-- more digits (optionally after '+') is masked like a phone number.
CREATE OR REPLACE FUNCTION hotline.visible_text(t text, confidential boolean) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    m text[];
    out text := '';
    rest text := t;
    pos int;
BEGIN
    IF t IS NULL OR NOT coalesce(confidential, false) OR hotline.sees_confidential() THEN
        RETURN t;
    END IF;
    LOOP
        m := regexp_match(rest, '\+?[0-9]{7,}');
        EXIT WHEN m IS NULL;
        pos := strpos(rest, m[1]);
        out := out || left(rest, pos - 1) || hotline.mask_phone(m[1]);
        rest := substr(rest, pos + length(m[1]));
    END LOOP;
    RETURN out || rest;
END
$$;

-- The request body as the current user may see it: "caller" masked.
CREATE OR REPLACE FUNCTION hotline.visible_body(b jsonb, confidential boolean) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT CASE WHEN b ? 'caller' AND jsonb_typeof(b -> 'caller') = 'string'
                 AND coalesce(confidential, false) AND NOT hotline.sees_confidential()
            THEN jsonb_set(b, '{caller}', to_jsonb(hotline.mask_phone(b ->> 'caller')))
            ELSE b END
$$;

------------------------------------------------------------ acknowledging

-- Supervisors acknowledge alerts here rather than with UPDATE: the function
-- sets exactly acked_at/acked_by (and stops escalation), never touches an
-- alert twice, and tells the daemon with NOTIFY hotline_alert_ack (payload:
-- the alert as JSON) so it stops escalating the copy it holds in memory.
-- Returns false when the alert does not exist or was already acknowledged.
CREATE OR REPLACE FUNCTION hotline.ack_alert(p_id bigint, p_by text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a hotline.alerts;
BEGIN
    UPDATE hotline.alerts
       SET acked_at = clock_timestamp(),
           acked_by = coalesce(nullif(p_by, ''), session_user::text),
           escalate_at = NULL
     WHERE id = p_id AND acked_at IS NULL
    RETURNING * INTO a;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM pg_notify('hotline_alert_ack', hotline.alert_json(a));
    RETURN true;
END
$$;

-------------------------------------------------------------- functions

-- Functions are executable by PUBLIC by default; keep the ones that return
-- raw numbers or write for the roles that need them.
REVOKE EXECUTE ON FUNCTION hotline.ack_alert(bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION hotline.alert_json(hotline.alerts) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION hotline.case_json(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.ack_alert(bigint, text) TO hotline_supervisor;
GRANT EXECUTE ON FUNCTION hotline.alert_json(hotline.alerts), hotline.case_json(bigint),
    hotline.iso(timestamptz) TO hotline_daemon, hotline_privileged;
GRANT EXECUTE ON FUNCTION hotline.iso(timestamptz), hotline.mask_phone(text),
    hotline.sees_confidential(), hotline.visible_caller(text, boolean),
    hotline.visible_caller(hotline.callers), hotline.visible_text(text, boolean),
    hotline.visible_body(jsonb, boolean) TO hotline_admin;

-- No ALTER DEFAULT PRIVILEGES: a later migration that adds a table the
-- daemon writes grants it explicitly (GRANT SELECT, INSERT, UPDATE ... TO
-- hotline_daemon), so no view or private table is ever writable by accident.
