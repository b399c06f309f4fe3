-- 008_confidential_text.sql - a confidential number stays hidden however it is written.
--
-- Issue 16 (items 2, 3, 6).  Before this migration:
--   * hotline_admin read hotline.alerts.dedupe_key on the base table and in
--     v_alerts, and a repeat_caller key carries the number whole
--     ('repeat:+8613900000002:e11');
--   * hotline.ack_alert sent NOTIFY hotline_alert_ack with the alert's JSON
--     unmasked, and any role that may connect may LISTEN;
--   * visible_body masked only a "caller" string, by characters, so
--     "+861390000----0003" kept all 13 digits, and numbers in notes, reasons,
--     summaries ... were shown whole; visible_text only found unbroken digit
--     runs, so "139-0000-0003" or "139 0000 0003" passed;
--   * free-text columns of hotline.cases (summary, resolution, queue,
--     category, priority) and hotline.calls.queue were readable on the base
--     tables, where nothing can mask them.
--
-- The rule now (docs/admin.md, "Confidential numbers"): for a confidential
-- caller and a reader who is not hotline_privileged, every phone-like digit
-- run in any text we show is masked *by its digits*: a run is an optional
-- '+' and 7 or more digits, with any number of spaces, dashes, dots and
-- parentheses between them; it is shown as its digits masked by
-- hotline.mask_phone ("+86 139-0000 0003" -> "+86139****0003").  A run that
-- begins with a valid ISO date of 1900..2099 (2026-11-20) keeps the date,
-- and what follows is looked at on its own, so the daemon's descriptions
-- ("due 2026-11-20T09:31Z") stay readable.  JSON bodies are
-- masked value by value, nested objects and arrays included, and a JSON
-- number of 7 or more digits becomes a masked string.

------------------------------------------------------------------ masking

-- Every phone-like run in t masked, unconditionally (the callers below
-- decide when).  Pure text in, text out.
CREATE OR REPLACE FUNCTION hotline.mask_text(t text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    m text[];
    run text;
    digits text;
    out text := '';
    rest text := t;
    pos int;
BEGIN
    IF t IS NULL THEN
        RETURN NULL;
    END IF;
    LOOP
        m := regexp_match(rest, '(\+?[0-9](?:[-\s.()]*[0-9])*)');
        EXIT WHEN m IS NULL;
        run := m[1];
        pos := strpos(rest, run);
        out := out || left(rest, pos - 1);
        rest := substr(rest, pos + length(run));
        IF run ~ '^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])' THEN
            -- a date: keep it, and look at what follows it on its own
            out := out || left(run, 10);
            rest := substr(run, 11) || rest;
            CONTINUE;
        END IF;
        digits := regexp_replace(run, '[^0-9]', '', 'g');
        IF length(digits) >= 7 THEN
            out := out || hotline.mask_phone(CASE WHEN left(run, 1) = '+' THEN '+' ELSE '' END || digits);
        ELSE
            out := out || run;
        END IF;
    END LOOP;
    RETURN out || rest;
END
$$;

-- A JSON value with every string masked by mask_text, recursively; a JSON
-- number of 7+ digits becomes a masked string; a string under the key
-- "caller" is masked whole by its digits whatever its length ("110" -> "*10").
CREATE OR REPLACE FUNCTION hotline.mask_json(j jsonb, key text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    r jsonb;
BEGIN
    CASE jsonb_typeof(j)
    WHEN 'object' THEN
        SELECT coalesce(jsonb_object_agg(k, hotline.mask_json(v, k)), '{}'::jsonb) INTO r
        FROM jsonb_each(j) AS x (k, v);
        RETURN r;
    WHEN 'array' THEN
        SELECT coalesce(jsonb_agg(hotline.mask_json(v) ORDER BY n), '[]'::jsonb) INTO r
        FROM jsonb_array_elements(j) WITH ORDINALITY AS x (v, n);
        RETURN r;
    WHEN 'string' THEN
        IF key = 'caller' AND (j #>> '{}') LIKE 'anon:%' THEN
            RETURN j;                    -- already anonymized (004)
        ELSIF key = 'caller' THEN
            RETURN to_jsonb(hotline.mask_phone(CASE WHEN (j #>> '{}') ~ '^\s*\+' THEN '+' ELSE '' END
                                               || regexp_replace(j #>> '{}', '[^0-9]', '', 'g')));
        END IF;
        RETURN to_jsonb(hotline.mask_text(j #>> '{}'));
    WHEN 'number' THEN
        IF length(regexp_replace(j::text, '[^0-9]', '', 'g')) >= 7 THEN
            RETURN to_jsonb(hotline.mask_text(j::text));
        END IF;
        RETURN j;
    ELSE
        RETURN j;
    END CASE;
END
$$;

-- Free text as the current user may see it (same signature as 002).
CREATE OR REPLACE FUNCTION hotline.visible_text(t text, confidential boolean) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT CASE WHEN t IS NULL OR NOT coalesce(confidential, false) OR hotline.sees_confidential()
            THEN t ELSE hotline.mask_text(t) END
$$;

-- The request body as the current user may see it (same signature as 002).
CREATE OR REPLACE FUNCTION hotline.visible_body(b jsonb, confidential boolean) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT CASE WHEN b IS NULL OR NOT coalesce(confidential, false) OR hotline.sees_confidential()
            THEN b ELSE hotline.mask_json(b) END
$$;

-- An alert's dedupe key may quote the number (repeat:<number>:<event id>).
CREATE OR REPLACE FUNCTION hotline.visible_key(k text, caller text, confidential boolean) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT CASE WHEN k IS NULL OR NOT coalesce(confidential, false) OR hotline.sees_confidential() THEN k
            ELSE hotline.mask_text(CASE WHEN caller IS NULL OR caller = '' THEN k
                                        ELSE replace(k, caller, hotline.mask_phone(caller)) END) END
$$;

------------------------------------------------------------ NOTIFY payloads

-- One rule for both channels (hotline_alert from the daemon, hotline_alert_ack
-- from ack_alert): a confidential caller's number masked, "confidential":
-- true, and the detail text masked too.  Same signature as 007.
CREATE OR REPLACE FUNCTION hotline.notify_payload(j text, caller text) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT CASE
    WHEN caller IS NOT NULL AND EXISTS (
        SELECT 1 FROM hotline.callers c WHERE c.caller = notify_payload.caller AND c.confidential)
    THEN (j::jsonb || jsonb_build_object('caller', hotline.mask_phone(caller), 'confidential', true)
                   || CASE WHEN j::jsonb ? 'detail'
                           THEN jsonb_build_object('detail', hotline.mask_text(j::jsonb ->> 'detail'))
                           ELSE '{}'::jsonb END)::text
    ELSE j
END
$$;

-- Item 3: the acknowledgement's NOTIFY is masked like hotline_alert.
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
    PERFORM pg_notify('hotline_alert_ack', hotline.alert_notify_json(a));
    RETURN true;
END
$$;

------------------------------------------------------- base-table columns

-- Free text can quote a number and cannot be masked on a base table: the
-- administrators read it through v_cases / v_calls (masked) only.  The
-- dedupe key likewise, through v_alerts.
REVOKE SELECT (summary, resolution, queue, category, priority) ON hotline.cases FROM hotline_admin;
REVOKE SELECT (queue) ON hotline.calls FROM hotline_admin;
REVOKE SELECT (dedupe_key) ON hotline.alerts FROM hotline_admin;

------------------------------------------------------------------- views

CREATE OR REPLACE VIEW hotline.v_cases WITH (security_barrier) AS
SELECT c.id, hotline.visible_caller(c.caller, cl.confidential) AS caller,
       coalesce(cl.confidential, false) AS confidential,
       c.status, c.opened_at, c.resolved_at, c.closed_at, c.last_contact_at, c.updated_at,
       hotline.visible_text(c.category, cl.confidential) AS category,
       hotline.visible_text(c.priority, cl.confidential) AS priority,
       c.department,
       hotline.visible_text(c.queue, cl.confidential) AS queue,
       hotline.visible_text(c.summary, cl.confidential) AS summary,
       hotline.visible_text(c.resolution, cl.confidential) AS resolution,
       c.transfers, c.reopens, c.on_hold, c.hold_since, c.held_ms, c.policy
FROM hotline.cases c LEFT JOIN hotline.callers cl ON cl.caller = c.caller;

CREATE OR REPLACE VIEW hotline.v_calls WITH (security_barrier) AS
SELECT l.call_id, l.case_id, hotline.visible_caller(l.caller, cl.confidential) AS caller,
       left(md5(k.salt || l.caller), 16) AS caller_ref,
       coalesce(cl.confidential, false) AS confidential,
       l.state, l.inbound, l.offered_at, l.answered_at, l.ended_at,
       hotline.visible_text(l.queue, cl.confidential) AS queue, l.agent, l.outcome
FROM hotline.calls l
     LEFT JOIN hotline.callers cl ON cl.caller = l.caller
     CROSS JOIN hotline.pseudonym_key k;

-- An event without a case (refused offers are never stored, but imported
-- rows may lack one) is masked by its body's caller, description included.
CREATE OR REPLACE VIEW hotline.v_case_events WITH (security_barrier) AS
SELECT e.seq, e.event_id, e.case_id, e.type, e.at, e.received_at,
       hotline.visible_text(e.description, coalesce(cl.confidential, bcl.confidential)) AS description,
       hotline.visible_body(e.body, coalesce(cl.confidential, bcl.confidential)) AS body
FROM hotline.case_events e
     LEFT JOIN hotline.cases c ON c.id = e.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
     LEFT JOIN hotline.callers bcl ON bcl.caller = e.body->>'caller';

CREATE OR REPLACE VIEW hotline.v_alerts WITH (security_barrier) AS
SELECT a.id, a.kind, a.case_id,
       hotline.visible_caller(coalesce(a.caller, c.caller), cl.confidential) AS caller,
       a.level, a.raised_at, a.due_at, a.escalated_at, a.escalate_at, a.acked_at, a.acked_by,
       hotline.visible_text(a.detail, cl.confidential) AS detail,
       hotline.visible_key(a.dedupe_key, coalesce(a.caller, c.caller), cl.confidential) AS dedupe_key
FROM hotline.alerts a
     LEFT JOIN hotline.cases c ON c.id = a.case_id
     LEFT JOIN hotline.callers cl ON cl.caller = coalesce(a.caller, c.caller);

------------------------------------------------------------------- grants

REVOKE EXECUTE ON FUNCTION hotline.notify_payload(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.notify_payload(text, text) TO hotline_daemon, hotline_privileged;
REVOKE EXECUTE ON FUNCTION hotline.ack_alert(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.ack_alert(bigint, text) TO hotline_supervisor;
GRANT EXECUTE ON FUNCTION hotline.mask_text(text), hotline.mask_json(jsonb, text),
    hotline.visible_key(text, text, boolean) TO hotline_admin;
GRANT SELECT ON hotline.v_cases, hotline.v_calls, hotline.v_case_events, hotline.v_alerts TO hotline_admin;
