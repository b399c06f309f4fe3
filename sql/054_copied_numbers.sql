-- 054_copied_numbers.sql - a confidential caller's number copied by hand
-- onto another case is masked too.
--
-- Until now the decision to mask a free text was made per case (008, 050):
-- every phone-like run in the texts of a confidential caller's case, or of
-- a case a confidential caller's case was merged into.  A number an agent
-- copied onto an unrelated case ("neighbour at 139 0000 0002 reports the
-- same leak", a work order returned "caller 13900000002 unreachable") was
-- shown whole to every reader, because nothing links that case to the
-- confidential caller.  The brief is absolute: a confidential caller's
-- number is never visible to a non-privileged reader.
--
-- So the texts of the other cases are now looked at run by run: a
-- phone-like run (008's rule: an optional '+' and 7 or more digits with
-- spaces, dashes, dots and parentheses between them; a leading ISO date
-- kept) is masked when some 9 consecutive digits of it look like the tail of
-- a confidential caller's number *as every masked view shows it*: the same
-- first digit and last four digits around the four that mask_phone hides
-- ("+86 139 0000 0002", "13900000002" and "008613900000002" all match
-- "+8613900000002", shown as "+86139****0002").  Other numbers stay
-- readable (unlike a confidential case's texts, where every run is masked).
--
-- Why the masked form and not the whole number: visible_text is called
-- with the reader's rights and may be called with any text, so whatever
-- it masks answers "is this a confidential number?".  Matched on the whole
-- number, an administrator who sees "+86139****0002" in v_cases could try
-- the 10,000 numbers it can be and learn the one that comes back masked.
-- Matched on what that administrator already sees, the answer tells
-- nothing new.  The price: a number that shares those five digits with a
-- confidential number (1 in 100,000 for each 9-digit stretch) is masked
-- too, the safe side.  A confidential number of fewer than 9 digits (an
-- extension, a local number written without its area code) is not looked
-- for in other cases' texts.
--
-- Where: visible_text and visible_body (every masked view), the HTTP case
-- and wallboard JSON, and what is sent about an alert (NOTIFY, pushes, the
-- SSE stream, webhooks: the detail, through notify_payload and the daemon's
-- new-alert statement, which calls notify_known_masked).
--
-- Cost: a text is first matched against one regular expression (a run of
-- 9 digits once ISO dates are taken out); only such a text is walked, and
-- each run of 9 or more digits is looked up in the partial index
-- callers_confidential_key, which holds only the confidential numbers (no
-- cost for ordinary callers' rows).  The lookups read hotline.callers,
-- which administrators may not read, so the walk is SECURITY DEFINER.

-- The key a confidential number is found by: of its last 9 digits, the
-- first and the last four (what mask_phone leaves visible there); NULL for
-- numbers of fewer than 9 digits.
CREATE OR REPLACE FUNCTION hotline.phone_mask_key(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN length(d) >= 9 THEN left(right(d, 9), 1) || right(d, 4) END
FROM (SELECT regexp_replace(p, '[^0-9]', '', 'g') AS d) x
$$;

CREATE INDEX IF NOT EXISTS callers_confidential_key ON hotline.callers (hotline.phone_mask_key(caller))
    WHERE confidential;

-- Whether t may quote such a number: a run of 9 digits (separators
-- allowed, as in a phone-like run) once ISO dates are out.  Inlined where
-- it is used, so most texts (the daemon's descriptions quote numbers masked
-- already) cost one regular expression, ~0.6 us.
CREATE OR REPLACE FUNCTION hotline.may_quote_number(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT t ~ '[0-9](?:[-\s.()]*[0-9]){8}'
       AND regexp_replace(t, '(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])', '', 'g')
           ~ '[0-9](?:[-\s.()]*[0-9]){8}'
$$;

-- t with every run that may hold a confidential caller's number (its key,
-- above) masked as mask_text masks it, every other run as it is.
CREATE OR REPLACE FUNCTION hotline.mask_known_numbers(t text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m text[];
    run text;
    digits text;
    keys text[];
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
                out := out || hotline.mask_phone(CASE WHEN left(run, 1) = '+' THEN '+' ELSE '' END || digits);
                CONTINUE;
            END IF;
        END IF;
        out := out || run;
    END LOOP;
    RETURN out || rest;
END
$$;

-- The keys of an event body that identify it (ids, times, the case's own
-- caller): shown as sent (008), so copied numbers are not looked for there.
-- A constant, inlined where it is used.
CREATE OR REPLACE FUNCTION hotline.identifying_keys() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ARRAY['id', 'type', 'at', 'case_id', 'call_id', 'order_id', 'alert_id', 'event_id', 'into',
             'since', 'until', 'caller']
$$;

-- A JSON value with mask_known_numbers applied to every string, nested
-- objects and arrays included, but not to what identifies the event (ids,
-- times, the case's own caller: they are shown as sent, 008); a JSON number
-- of 7 or more digits is looked at as its digits.
CREATE OR REPLACE FUNCTION hotline.mask_known_json(j jsonb, key text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r jsonb;
    s text;
BEGIN
    IF key = ANY (hotline.identifying_keys()) THEN
        RETURN j;
    END IF;
    CASE jsonb_typeof(j)
    WHEN 'object' THEN
        IF NOT hotline.may_quote_number((j - hotline.identifying_keys())::text) THEN
            RETURN j;
        END IF;
        SELECT coalesce(jsonb_object_agg(k, hotline.mask_known_json(v, k)), '{}'::jsonb) INTO r
        FROM jsonb_each(j) AS x (k, v);
        RETURN r;
    WHEN 'array' THEN
        IF NOT hotline.may_quote_number(j::text) THEN
            RETURN j;
        END IF;
        SELECT coalesce(jsonb_agg(hotline.mask_known_json(v) ORDER BY n), '[]'::jsonb) INTO r
        FROM jsonb_array_elements(j) WITH ORDINALITY AS x (v, n);
        RETURN r;
    WHEN 'string' THEN
        s := hotline.mask_known_numbers(j #>> '{}');
        RETURN CASE WHEN s = j #>> '{}' THEN j ELSE to_jsonb(s) END;
    WHEN 'number' THEN
        s := hotline.mask_known_numbers(j::text);
        RETURN CASE WHEN s = j::text THEN j ELSE to_jsonb(s) END;
    ELSE
        RETURN j;
    END CASE;
END
$$;

-- An alert's JSON with its detail looked at by mask_known_numbers.
-- The text itself when nothing in it is masked.
CREATE OR REPLACE FUNCTION hotline.notify_known_masked(j text) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT CASE WHEN m IS DISTINCT FROM d THEN (j::jsonb || jsonb_build_object('detail', m))::text ELSE j END
FROM (SELECT d, CASE WHEN hotline.may_quote_number(d) THEN hotline.mask_known_numbers(d) ELSE d END AS m
      FROM (SELECT j::jsonb ->> 'detail' AS d) x) y
$$;

----------------------------------------------------------- the masked views

-- Same signatures as 008: the case's rule first, then the copied numbers.
-- The cheap test first: a text of an ordinary case that quotes no long
-- number is returned before anything else is looked at.
CREATE OR REPLACE FUNCTION hotline.visible_text(t text, confidential boolean) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT CASE WHEN t IS NULL THEN t
            WHEN NOT coalesce(confidential, false) AND NOT hotline.may_quote_number(t) THEN t
            WHEN hotline.sees_confidential() THEN t
            WHEN coalesce(confidential, false) THEN hotline.mask_text(t)
            ELSE hotline.mask_known_numbers(t) END
$$;

-- A body of an ordinary case that quotes no long number outside what
-- identifies the event is returned before the walk (a call's body always
-- quotes its own caller, which the walk leaves alone anyway).
CREATE OR REPLACE FUNCTION hotline.visible_body(b jsonb, confidential boolean) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT CASE WHEN b IS NULL THEN b
            WHEN NOT coalesce(confidential, false) AND NOT hotline.may_quote_number(
                     CASE WHEN jsonb_typeof(b) = 'object'
                          THEN b - hotline.identifying_keys() ELSE b END::text) THEN b
            WHEN hotline.sees_confidential() THEN b
            WHEN coalesce(confidential, false) THEN hotline.mask_json(b)
            ELSE hotline.mask_known_json(b) END
$$;

------------------------------------------------------------------- HTTP

-- As 050, and the texts of any other case looked at by mask_known_json.
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
            -- the text as case_json wrote it unless something was masked
            -- (jsonb would reorder the keys a client may compare)
            WHEN hotline.may_quote_number(x.j)
            THEN (SELECT CASE WHEN k = x.j::jsonb THEN x.j ELSE k::text END
                  FROM (SELECT hotline.mask_known_json(x.j::jsonb) AS k) y)
            ELSE x.j END
FROM hotline.cases c
     CROSS JOIN LATERAL (SELECT hotline.case_json(c.id) AS j) x
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
WHERE c.id = p_id
$$;

-- As 050, and the queue, category and area of the other cases looked at
-- for copied numbers.
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
        FROM (SELECT coalesce(o.department, '') AS department, count(*) AS n,
                     json_agg(json_strip_nulls(json_build_object(
                         'order_id', o.order_id, 'case_id', o.case_id, 'status', o.status,
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
              GROUP BY coalesce(o.department, '')) d), '[]'::json),
    'open_alerts', (SELECT count(*) FROM hotline.alerts WHERE acked_at IS NULL),
    'max_alert_id', (SELECT max(id) FROM hotline.alerts),
    'open_alert_ids', coalesce((SELECT json_agg(o.id ORDER BY o.id) FROM (SELECT id FROM hotline.alerts
        WHERE acked_at IS NULL ORDER BY id DESC LIMIT 10000) o), '[]'::json),
    'figures', hotline.http_figures_json(NULL)::json)::text
$$;

------------------------------------------------------------ alert payloads

-- As 050, and the detail of any other alert looked at for copied numbers.
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
    ELSE hotline.notify_known_masked(j)
END
$$;

COMMENT ON FUNCTION hotline.phone_mask_key(text) IS
    'The key a confidential number is found by in free text (054): of its last 9 digits the first and the last four, what mask_phone shows; NULL under 9 digits.';
COMMENT ON FUNCTION hotline.may_quote_number(text) IS
    'Whether a text has a run of 9 or more digits once ISO dates are taken out (054): only such a text is looked at for copied numbers.';
COMMENT ON FUNCTION hotline.mask_known_numbers(text) IS
    'A free text with every phone-like run that may hold a confidential caller''s number (as masked views show it) masked, other runs as they are (054).';
COMMENT ON FUNCTION hotline.mask_known_json(jsonb, text) IS
    'A JSON value with mask_known_numbers applied to its strings and long numbers, identifiers left as sent (054).';
COMMENT ON FUNCTION hotline.identifying_keys() IS
    'The keys of an event body that identify it (ids, times, the caller), left as sent when copied numbers are masked (054).';
COMMENT ON FUNCTION hotline.notify_known_masked(text) IS
    'An alert''s JSON with a confidential caller''s number copied into its detail masked (054).';
