-- 071_case_read_once.sql - a case read (case.get, GET /v1/cases/{id}) costs
-- one case_json and one look for copied numbers, not five and a walk.
--
-- What it cost.  On the benchmark's database (1.1 M cases, Zipf callers),
-- http_case_json took ~11 ms for a case of two events and 230-250 ms for the
-- busiest caller's case (1,467 events; the answer holds the newest 500),
-- against 1 and 33-50 ms for case_json alone.  Reads run in the store's
-- batches (store.c), so eight such reads in one batch held every event
-- behind them for two seconds.  Three causes:
--
-- 1. 054's body (and 065's) reads case_json through `CROSS JOIN LATERAL (SELECT
--    hotline.case_json(c.id) AS j) x`.  The planner pulls such a subquery
--    up and puts the call in place of every x.j: the CASE names it five
--    times (twice inside the inlined may_quote_number_json), so the case was
--    built up to five times.  OFFSET 0 keeps the subquery: built once.
--
-- 2. mask_known_json (054) walks the JSON node by node in PL/pgSQL and
--    looks at every string that holds a run of 9 digits.  A case's answer
--    always holds such runs (its caller; a PBX's call ids such as
--    "1733390000.12345"), so every read was walked, ~0.2 ms per event of
--    the answer, although hardly any text quotes a confidential number.
--    quotes_known_number answers first whether the text could: the key of
--    every 9-digit stretch of every phone-like run of the whole text (one
--    regular expression), looked up at once in callers_confidential_key (071).
--    Only a text that holds such a key is walked, as before.
--
-- 3. Both http_case_json and case_json were LANGUAGE sql functions that
--    cannot be inlined (SET clauses, a FROM), and such a function's body is
--    parsed and planned again at every top-level statement that calls it:
--    each read planned case_json's dozen sub-selects anew.  In PL/pgSQL
--    (as 061 did for notify_payload) the plans are kept for the daemon's
--    session.  The queries are 048's and 054's with 065's and 067's changes.
--
-- Measured on that database, one read per statement in one session as the
-- daemon sends them (the machine shared with other work): 40.8 ms a read
-- of a small case before, 11.7 with 1 and 2 alone, 4.8 with all three;
-- the busiest case 150-200 ms before, 68-80 with 1 and 2.  The answers are
-- the same bytes (md5 of 401 consecutive cases' answers and of the
-- busiest case's, before and after).  Again once 065 had added its walk of
-- the identifiers (a quieter machine): 30.7 -> 0.9-1.1 ms a small case,
-- 315-322 -> 56-72 ms the busiest.
--
-- Why the shortcut never shows what the walk would hide.  The walk masks a
-- run of one string when the key of one of its 9-digit stretches is a
-- confidential caller's (mask_known_numbers).  Every such stretch is a
-- stretch of a run of the whole text: JSON writes digits, '+', '-', '.',
-- '(' and ')' and non-ASCII spaces as they are, and the escapes it writes
-- instead of control characters (\n, \t, \u000b...) are turned into a
-- space before the runs are taken, which joins runs, never splits one.  A
-- superset of keys can only send more texts to the walk.  The keys of
-- identifying fields (ids, times, the caller) are among them although the
-- walk leaves those fields alone: such a text is walked, as before.
-- tests/sql/admin_test.sql checks both sides (a copied number behind an
-- escaped newline is still masked; an answer without one comes back as
-- case_json wrote it).

CREATE OR REPLACE FUNCTION hotline.quotes_known_number(t text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT EXISTS (
    SELECT 1 FROM hotline.callers c
    WHERE c.confidential
      AND hotline.phone_mask_key(c.caller) = ANY (ARRAY(
          -- a stretch's key: its first digit and its last four (phone_mask_key)
          SELECT DISTINCT substr(r.d, i, 1) || substr(r.d, i + 5, 4)
          FROM (SELECT regexp_replace(m[1], '[^0-9]', '', 'g') AS d
                FROM regexp_matches(regexp_replace(t, '\\(u[0-9a-fA-F]{4}|.)', ' ', 'g'),
                                    '([0-9](?:[-\s.()]*[0-9]){8,})', 'g') AS m) r
               CROSS JOIN LATERAL generate_series(1, length(r.d) - 8) AS i)))
$$;
REVOKE EXECUTE ON FUNCTION hotline.quotes_known_number(text) FROM PUBLIC;
COMMENT ON FUNCTION hotline.quotes_known_number(text) IS
    'Whether some 9-digit stretch of a phone-like run of t (JSON escapes read as spaces) has the key of a confidential caller''s number (phone_mask_key): only then can mask_known_json or mask_known_numbers mask anything in it (071). Reads hotline.callers: called by the SECURITY DEFINER functions only.';

-- 054's walk, renamed (it calls itself, not the shortcut), its checks of an
-- object and an array reading the JSON text as 067 explains.
CREATE OR REPLACE FUNCTION hotline.mask_known_json_walk(j jsonb, key text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r jsonb;
    s text;
BEGIN
    IF key = ANY (hotline.identifying_keys()) THEN
        RETURN j;
    END IF;
    CASE jsonb_typeof(j)
    WHEN 'object' THEN
        IF NOT hotline.may_quote_number_json((j - hotline.identifying_keys())::text) THEN
            RETURN j;
        END IF;
        SELECT coalesce(jsonb_object_agg(k, hotline.mask_known_json_walk(v, k)), '{}'::jsonb) INTO r
        FROM jsonb_each(j) AS x (k, v);
        RETURN r;
    WHEN 'array' THEN
        IF NOT hotline.may_quote_number_json(j::text) THEN
            RETURN j;
        END IF;
        SELECT coalesce(jsonb_agg(hotline.mask_known_json_walk(v) ORDER BY n), '[]'::jsonb) INTO r
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
REVOKE EXECUTE ON FUNCTION hotline.mask_known_json_walk(jsonb, text) FROM PUBLIC;
COMMENT ON FUNCTION hotline.mask_known_json_walk(jsonb, text) IS
    'mask_known_json''s walk (054, 067): mask_known_numbers applied to every string and long number but the identifying keys'' (071).';

-- Same signature, rights and answers as 054's: the shortcut, then the walk.
CREATE OR REPLACE FUNCTION hotline.mask_known_json(j jsonb, key text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF j IS NULL OR key = ANY (hotline.identifying_keys()) THEN
        RETURN j;
    END IF;
    IF NOT hotline.quotes_known_number(j::text) THEN
        RETURN j;
    END IF;
    RETURN hotline.mask_known_json_walk(j, key);
END
$$;

-- 048's case_json in PL/pgSQL: its plans kept for the session.
CREATE OR REPLACE FUNCTION hotline.case_json(p_id bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
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
    );
END
$$;

-- As 054, with 065's identifiers (mask_known_ids) and 067's check of the
-- JSON text, in PL/pgSQL, the case built once and looked at by the
-- shortcut first.  The shortcut
-- covers the identifiers: it reads the whole text, ids included, and
-- mask_known_ids masks a run only where mask_known_numbers would.
CREATE OR REPLACE FUNCTION hotline.http_case_json(p_id bigint) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, hotline AS $$
BEGIN
    RETURN (
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
            WHEN hotline.may_quote_number_json(x.j) AND hotline.quotes_known_number(x.j)
            THEN (SELECT CASE WHEN y.k = x.j::jsonb THEN x.j ELSE y.k::text END
                  FROM (SELECT hotline.mask_known_ids(hotline.mask_known_json_walk(x.j::jsonb)) AS k OFFSET 0) y)
            ELSE x.j END
FROM hotline.cases c
     -- OFFSET 0: built once, not once for each x.j below (see the header)
     CROSS JOIN LATERAL (SELECT hotline.case_json(c.id) AS j OFFSET 0) x
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
WHERE c.id = p_id
    );
END
$$;
