-- 042_http_case_mask.sql - GET /v1/cases/{id} masks a confidential number as
-- psql's views do: by its digits, in every text, value by value.
--
-- 011's http_case_json() masked a confidential case by replace() on the
-- JSON text, looking for the stored number exactly.  Two consequences:
--   * a number an agent wrote another way ("139-1234-5678", "139 1234
--     5678", "13912345678" without +86) in the case's summary, category,
--     an order's note or return reason, an alert's detail ... reached every
--     viewer and wall screen whole, although hotline.v_cases and the other
--     views mask it (sql/008, docs/admin.md "Numbers written anyhow");
--   * a short confidential number (a service number: "110") was replaced
--     inside timestamps and ids too ("00:01:10.110Z" -> "00:01:10.*10Z"),
--     and inside a bare number (a case id 1105) it made the text invalid
--     JSON, so the endpoint failed.
-- Now the case's JSON is walked value by value (http_mask_json): "caller"
-- values are masked whole by their digits (as mask_json does); every other
-- string has the stored number (as a whole figure) masked, then every
-- phone-like run masked (mask_text, which keeps ISO dates); the daemon's
-- timestamps ("..._at") are left as they are; identifiers (event_id, call_id,
-- order_id, agent, department, signed_by, acked_by) are shown as sent
-- except for the stored number itself, as in the views; numbers (ids,
-- counters, remaining_ms) are left alone.  Same signature, grants and
-- SECURITY DEFINER as 011.

CREATE OR REPLACE FUNCTION hotline.http_mask_json(j jsonb, num text, key text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, hotline AS $$
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
            RETURN to_jsonb(s);
        END IF;
        RETURN to_jsonb(hotline.mask_text(s));
    ELSE
        RETURN j;
    END CASE;
END
$$;

CREATE OR REPLACE FUNCTION hotline.http_case_json(p_id bigint) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hotline AS $$
SELECT CASE WHEN coalesce(cl.confidential, false)
            THEN (hotline.http_mask_json(x.j::jsonb, c.caller)
                  || jsonb_build_object('confidential', true))::text
            ELSE x.j END
FROM hotline.cases c
     CROSS JOIN LATERAL (SELECT hotline.case_json(c.id) AS j) x
     LEFT JOIN hotline.callers cl ON cl.caller = c.caller
WHERE c.id = p_id
$$;

COMMENT ON FUNCTION hotline.http_mask_json(jsonb, text, text) IS
    'A case''s JSON for HTTP readers: a confidential number masked in every string by its digits; numbers and identifiers kept.';
