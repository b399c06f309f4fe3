-- 049_scrub_unknown_keys.sql - anonymization masks every key of an event
-- body, not only the keys hotlined reads.
--
-- The daemon stores a request's body as it came (CONTRACT 3), keys it does
-- not read included: an integration's "memo": "call back on 139...", a
-- PBX's nested {"cdr": {"src": 139...}}.  While the case's caller is known,
-- views mask the whole body for a confidential caller (visible_body ->
-- mask_json).  Anonymization removes the callers row, so the views can no
-- longer tell, and 044's scrub_body masked only the keys it named: an
-- unknown key kept the number for every reader, for ever (found in a
-- review: a confidential caller's number in v_case_events' body for
-- hotline_admin and hotline_supervisor after anonymize_closed).
--
-- scrub_body now keeps only what identifies and orders the event (ids,
-- times, the caller's token) as it is and passes every other value through
-- mask_json (strings by mask_text, numbers of 7+ digits, nested objects and
-- arrays), after removing the free-text keys as before.  Values without a
-- phone-like run are unchanged, so descriptions rebuilt from the body read
-- as before.  The bodies of the cases anonymized already are scrubbed again
-- below (only those with a key outside the kept ones and the ones 044
-- already masked, so a large history is read but little of it is written).
CREATE OR REPLACE FUNCTION hotline.scrub_body(b jsonb, token text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN s ? 'caller' THEN jsonb_set(s, '{caller}', to_jsonb(token)) ELSE s END
FROM (SELECT coalesce((SELECT jsonb_object_agg(k, CASE WHEN k IN ('id', 'type', 'at', 'case_id', 'call_id', 'order_id',
                                                                  'alert_id', 'into', 'since', 'until', 'caller')
                                                       THEN v ELSE hotline.mask_json(v, k) END)
                       FROM jsonb_each(t) AS x (k, v)), t) AS s
      FROM (SELECT b - ARRAY['note', 'summary', 'reason', 'resolution', 'detail', 'comment',
                             'message', 'text'] AS t) y) x
$$;

-- The events of cases anonymized before this version.
UPDATE hotline.case_events e
   SET body = hotline.scrub_body(e.body, 'anon:' || e.case_id),
       description = hotline.describe_event(e.type, hotline.scrub_body(e.body, 'anon:' || e.case_id))
  FROM hotline.cases c
 WHERE c.id = e.case_id AND c.caller LIKE 'anon:%'
   AND EXISTS (SELECT 1 FROM jsonb_each(e.body) AS x (k, v)
                WHERE jsonb_typeof(v) IN ('string', 'number', 'object', 'array')
                  AND k NOT IN ('id', 'type', 'at', 'case_id', 'call_id', 'order_id', 'alert_id', 'into',
                                'since', 'until', 'caller')
                  AND hotline.mask_json(v, k) IS DISTINCT FROM v);
