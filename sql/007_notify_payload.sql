-- 007_notify_payload.sql - the NOTIFY payload from an alert's JSON, without building it again.
--
-- The daemon renders each new or escalated alert once (hotline.alert_json)
-- and derives the NOTIFY payload from that text: the same JSON, with a
-- confidential caller's number masked.  005's alert_notify_json(a) now
-- delegates here, so the masking rule lives in one place.

CREATE OR REPLACE FUNCTION hotline.notify_payload(j text, caller text) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT CASE
    WHEN caller IS NOT NULL AND EXISTS (
        SELECT 1 FROM hotline.callers c WHERE c.caller = notify_payload.caller AND c.confidential)
    THEN (j::jsonb || jsonb_build_object('caller', hotline.mask_phone(caller), 'confidential', true))::text
    ELSE j
END
$$;

CREATE OR REPLACE FUNCTION hotline.alert_notify_json(a hotline.alerts) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT hotline.notify_payload(hotline.alert_json(a), a.caller)
$$;

REVOKE EXECUTE ON FUNCTION hotline.notify_payload(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.notify_payload(text, text) TO hotline_daemon, hotline_privileged;
