-- 005_notify_mask.sql - NOTIFY hotline_alert never carries a confidential number whole.
--
-- Any role that can connect may LISTEN, so the payload of NOTIFY
-- hotline_alert is masked like the administrators' views: a confidential
-- caller's number appears as '+86138****0001' (with "confidential": true).
-- Supervisors' socket subscriptions still receive the number whole: they are
-- the ones who call back.

CREATE OR REPLACE FUNCTION hotline.alert_notify_json(a hotline.alerts) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT CASE
    WHEN a.caller IS NOT NULL AND EXISTS (
        SELECT 1 FROM hotline.callers c WHERE c.caller = a.caller AND c.confidential)
    THEN (hotline.alert_json(a)::jsonb
          || jsonb_build_object('caller', hotline.mask_phone(a.caller), 'confidential', true))::text
    ELSE hotline.alert_json(a)
END
$$;

REVOKE EXECUTE ON FUNCTION hotline.alert_notify_json(hotline.alerts) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.alert_notify_json(hotline.alerts) TO hotline_daemon, hotline_privileged;
