-- 065_identifier_numbers.sql - a confidential caller's number inside an
-- identifier is masked for non-privileged readers too.
--
-- The senders choose the identifiers, and real integrations put the
-- caller's number in them: a softphone's call id "pbx-8613512345678-1", an
-- event id "pbx:13512345678:1", a work order named after the caller
-- ("wo-135-1234-5678"), a department or agent written as a desk's number.
-- Until now those values were "shown as sent except for the stored number
-- itself" (042): http_mask_json replaced only the number exactly as stored
-- ("+8613512345678"), so "8613512345678" or "135-1234-5678" inside an id
-- reached every viewer whole - in GET /v1/cases/{id} (calls[].call_id,
-- orders[].order_id, events[].event_id, department, agent ...), in the
-- socket's masked case.get (same function), in the wallboard's
-- overdue_orders (order_id, department) and in every alert pushed to
-- subscribers, SSE streams, NOTIFY and masked webhooks (order_id,
-- department), while the same id quoted in a description or an alert's
-- detail was masked.
--
-- Now an identifier keeps its text, but a run of digits in it that holds a
-- confidential caller's number (mask_known_numbers, 054: 9 consecutive
-- digits with the key of a confidential number, as every masked view shows
-- it) is masked like the number itself ("pbx-86135****5678-1").  Ids with
-- no such run (Asterisk's "1733390000.123", "wo-42") are unchanged, so
-- clients can still match them.  The alert rows, hotline.calls and
-- hotline.orders keep what was sent; a privileged reader sees it.
--
-- mask_known_numbers itself now hides, in such a run, the four digits the
-- number's own mask hides: it masked the run's digits as one number
-- (mask_phone: all but the first digits and the last four), so in
-- "pbx-8613512345678-1" the suffix moved the window and "861351****6781"
-- showed a digit that "+86135****5678" hides.
--
-- Not covered: a confidential number of fewer than 9 digits inside an id
-- other than as the stored number itself (054's limit).

-- 054's masking of a run that holds a confidential number: the run's other
-- digits (an id's "-1" suffix) no longer shift which four are hidden.
CREATE OR REPLACE FUNCTION hotline.mask_known_numbers(t text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m text[];
    run text;
    digits text;
    keys text[];
    k int;
    out text := '';
    rest text := t;
    pos int;
BEGIN
    IF t IS NULL OR NOT hotline.may_quote_number(t) THEN
        RETURN t;
    END IF;
    LOOP
        m := regexp_match(rest, '(\+?[0-9](?:[-\s.()]*[0-9])*)');
        EXIT WHEN m IS NULL;
        run := m[1];
        pos := strpos(rest, run);
        out := out || left(rest, pos - 1);
        rest := substr(rest, pos + length(run));
        IF run ~ '^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])' THEN
            out := out || left(run, 10);
            rest := substr(run, 11) || rest;
            CONTINUE;
        END IF;
        digits := regexp_replace(run, '[^0-9]', '', 'g');
        IF length(digits) >= 9 THEN
            -- the key of every stretch of 9 digits of the run
            SELECT array_agg(hotline.phone_mask_key(substr(digits, i, 9))) INTO keys
            FROM generate_series(1, length(digits) - 8) i;
            IF EXISTS (SELECT 1 FROM hotline.callers c
                       WHERE c.confidential AND hotline.phone_mask_key(c.caller) = ANY (keys)) THEN
                -- the four digits the number's own mask hides, where the
                -- number is in the run (065): "8613512345678-1" is
                -- "86135****56781", not mask_phone's "861351****6781",
                -- which showed one more digit of the number
                SELECT min(i) INTO k FROM generate_series(1, length(digits) - 8) i
                WHERE EXISTS (SELECT 1 FROM hotline.callers c
                              WHERE c.confidential
                                AND hotline.phone_mask_key(c.caller) = hotline.phone_mask_key(substr(digits, i, 9)));
                out := out || CASE WHEN left(run, 1) = '+' THEN '+' ELSE '' END
                           || left(digits, k) || '****' || substr(digits, k + 5);
                CONTINUE;
            END IF;
        END IF;
        out := out || run;
    END LOOP;
    RETURN out || rest;
END
$$;

-- 042's walk, with identifiers also looked at for known numbers.
CREATE OR REPLACE FUNCTION hotline.http_mask_json(j jsonb, num text, key text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, hotline AS $$
DECLARE
    r jsonb;
    s text;
BEGIN
    CASE jsonb_typeof(j)
    WHEN 'object' THEN
        SELECT coalesce(jsonb_object_agg(k, hotline.http_mask_json(v, num, k)), '{}'::jsonb) INTO r
        FROM jsonb_each(j) AS x (k, v);
        RETURN r;
    WHEN 'array' THEN
        SELECT coalesce(jsonb_agg(hotline.http_mask_json(v, num, key) ORDER BY n), '[]'::jsonb) INTO r
        FROM jsonb_array_elements(j) WITH ORDINALITY AS x (v, n);
        RETURN r;
    WHEN 'string' THEN
        s := j #>> '{}';
        IF key = 'caller' THEN
            RETURN hotline.mask_json(j, 'caller');
        END IF;
        IF key LIKE '%\_at' THEN
            RETURN j;                    -- the daemon's timestamps
        END IF;
        IF num <> '' THEN
            -- the stored number as a whole figure, not digits inside another
            s := regexp_replace(s, '(?<![0-9.:])' || replace(num, '+', '\+') || '(?![0-9]|[.:][0-9])',
                                hotline.mask_phone(num), 'g');
        END IF;
        IF key IN ('event_id', 'call_id', 'order_id', 'agent', 'department', 'signed_by', 'acked_by') THEN
            RETURN to_jsonb(hotline.mask_known_numbers(s));
        END IF;
        RETURN to_jsonb(hotline.mask_text(s));
    ELSE
        RETURN j;
    END CASE;
END
$$;

-- The identifiers in a JSON value (at any depth) with known confidential
-- numbers masked; everything else as it is.  For an ordinary case's JSON,
-- after mask_known_json (which leaves ids alone, as the views' event bodies
-- must).
CREATE OR REPLACE FUNCTION hotline.mask_known_ids(j jsonb, key text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r jsonb;
    s text;
BEGIN
    CASE jsonb_typeof(j)
    WHEN 'object' THEN
        SELECT coalesce(jsonb_object_agg(k, hotline.mask_known_ids(v, k)), '{}'::jsonb) INTO r
        FROM jsonb_each(j) AS x (k, v);
        RETURN r;
    WHEN 'array' THEN
        SELECT coalesce(jsonb_agg(hotline.mask_known_ids(v, key) ORDER BY n), '[]'::jsonb) INTO r
        FROM jsonb_array_elements(j) WITH ORDINALITY AS x (v, n);
        RETURN r;
    WHEN 'string' THEN
        IF key IN ('event_id', 'call_id', 'order_id', 'agent', 'department', 'signed_by', 'acked_by') THEN
            s := hotline.mask_known_numbers(j #>> '{}');
            RETURN CASE WHEN s = j #>> '{}' THEN j ELSE to_jsonb(s) END;
        END IF;
        RETURN j;
    ELSE
        RETURN j;
    END CASE;
END
$$;

-- An ordinary case's identifiers in GET /v1/cases/{id} and a viewer's
-- case.get: http_case_json runs mask_known_ids after mask_known_json.  It
-- is written out in sql/071_case_read_once.sql, which rewrites the function
-- the same day (built once, planned once).

-- The identifiers of an alert's JSON (order_id, department, acked_by) with
-- known confidential numbers masked; the text itself when nothing changes.
CREATE OR REPLACE FUNCTION hotline.alert_ids_masked(j text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    o jsonb;
    k text;
    v text;
    m text;
    changed boolean := false;
BEGIN
    o := j::jsonb;
    FOREACH k IN ARRAY ARRAY['order_id', 'department', 'acked_by'] LOOP
        IF jsonb_typeof(o -> k) = 'string' THEN
            v := o ->> k;
            m := hotline.mask_known_numbers(v);     -- v itself when it quotes no 9 digits
            IF m IS DISTINCT FROM v THEN
                o := o || jsonb_build_object(k, m);
                changed := true;
            END IF;
        END IF;
    END LOOP;
    RETURN CASE WHEN changed THEN o::text ELSE j END;
END
$$;

-- 032's rule, and the identifiers.
CREATE OR REPLACE FUNCTION hotline.notify_masked(j text, caller text) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT hotline.alert_ids_masked(
    (j::jsonb || jsonb_build_object('caller', hotline.mask_phone(caller), 'confidential', true)
              || CASE WHEN j::jsonb ? 'detail'
                      THEN jsonb_build_object('detail', hotline.mask_text(j::jsonb ->> 'detail'))
                      ELSE '{}'::jsonb END)::text)
$$;

-- 050's rule, and the identifiers.
CREATE OR REPLACE FUNCTION hotline.notify_detail_masked(j text) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT hotline.alert_ids_masked(
    CASE WHEN j::jsonb ? 'detail' AND jsonb_typeof(j::jsonb -> 'detail') = 'string'
         THEN (j::jsonb || jsonb_build_object('detail', hotline.mask_text(j::jsonb ->> 'detail')))::text
         ELSE j END)
$$;

-- 061's rule for an alert of any other case (a number copied onto it, 054),
-- and the identifiers.
CREATE OR REPLACE FUNCTION hotline.notify_known_masked(j text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d text := j::jsonb ->> 'detail';
    m text;
BEGIN
    IF d IS NOT NULL AND hotline.may_quote_number(d) THEN
        m := hotline.mask_known_numbers(d);
        IF m IS DISTINCT FROM d THEN
            j := (j::jsonb || jsonb_build_object('detail', m))::text;
        END IF;
    END IF;
    RETURN hotline.alert_ids_masked(j);
END
$$;

-- Executable by everyone (like mask_known_numbers, which it calls): it only
-- masks, and notify_known_masked, which administrators may call, needs it.

-- As 054, with the department and order ids looked at for known numbers.
CREATE OR REPLACE FUNCTION hotline.http_board_json() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hotline AS $$
SELECT json_build_object(
    'generated_at', hotline.iso(now()),
    'overdue_callbacks', coalesce((
        SELECT json_agg(json_strip_nulls(json_build_object(
            'case_id', k.case_id,
            'caller', CASE WHEN coalesce(cl.confidential, false) THEN hotline.mask_phone(c.caller) ELSE c.caller END,
            'confidential', CASE WHEN coalesce(cl.confidential, false) THEN true END,
            'department', hotline.mask_known_numbers(c.department),
            'queue', CASE WHEN cf.confidential THEN hotline.mask_text(c.queue) ELSE hotline.mask_known_numbers(c.queue) END,
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
        FROM (SELECT coalesce(hotline.mask_known_numbers(o.department), '') AS department, count(*) AS n,
                     json_agg(json_strip_nulls(json_build_object(
                         'order_id', hotline.mask_known_numbers(o.order_id), 'case_id', o.case_id, 'status', o.status,
                         'overdue', o.overdue, 'due_at', hotline.iso(o.due_at),
                         'late_s', floor(extract(epoch FROM o.late_by))::bigint,
                         'urge_level', o.urge_level,
                         'category', CASE WHEN ocf.confidential
                                          THEN hotline.mask_text(o.category) ELSE hotline.mask_known_numbers(o.category) END,
                         'area', CASE WHEN ocf.confidential
                                      THEN hotline.mask_text(o.area) ELSE hotline.mask_known_numbers(o.area) END))
                         ORDER BY o.due_at) AS orders
              FROM (SELECT * FROM hotline.overdue_orders LIMIT 500) o
                   LEFT JOIN LATERAL (SELECT x.confidential FROM hotline.case_confidentiality x WHERE x.case_id = o.case_id OFFSET 0) ocf ON true
              GROUP BY coalesce(hotline.mask_known_numbers(o.department), '')) d), '[]'::json),
    'open_alerts', (SELECT count(*) FROM hotline.alerts WHERE acked_at IS NULL),
    'max_alert_id', (SELECT max(id) FROM hotline.alerts),
    'open_alert_ids', coalesce((SELECT json_agg(o.id ORDER BY o.id) FROM (SELECT id FROM hotline.alerts
        WHERE acked_at IS NULL ORDER BY id DESC LIMIT 10000) o), '[]'::json),
    'figures', hotline.http_figures_json(NULL)::json)::text
$$;

COMMENT ON FUNCTION hotline.mask_known_numbers(text) IS
    'A text with every run of digits that holds a confidential caller''s number masked where that number is (054, 065).';
COMMENT ON FUNCTION hotline.http_mask_json(jsonb, text, text) IS
    'A case''s JSON as HTTP viewers see it: the caller masked, texts masked by digits, identifiers with confidential numbers in them masked (042, 065).';
COMMENT ON FUNCTION hotline.mask_known_ids(jsonb, text) IS
    'A JSON value with confidential numbers inside its identifiers (event_id, call_id, order_id, agent, department, signed_by, acked_by) masked (065).';
COMMENT ON FUNCTION hotline.alert_ids_masked(text) IS
    'An alert''s JSON with confidential numbers inside order_id, department and acked_by masked (065).';
COMMENT ON FUNCTION hotline.notify_known_masked(text) IS
    'An alert''s JSON with confidential numbers copied into its detail or inside its identifiers masked (054, 061, 065).';
COMMENT ON FUNCTION hotline.notify_masked(text,text) IS
    'An alert''s JSON as a confidential caller''s alert is sent: the number, the detail text and numbers inside its identifiers masked, "confidential": true (032, 065).';
COMMENT ON FUNCTION hotline.notify_detail_masked(text) IS
    'An alert''s JSON with its detail text masked by digits and numbers inside its identifiers masked (an alert on a case into which a confidential caller''s case was merged; 050, 065).';
