-- 061_notify_payload_plpgsql.sql - an alert's masked text at ~35 µs, not ~150.
--
-- notify_payload (054) masks an alert's JSON for whoever is not privileged:
-- the subscribe replay (up to alerts.replay_max rows), the SSE stream's
-- replay, the other daemons' fetch of an alert they were notified of
-- (cluster.c), escalations and acknowledgements (SQL_W_ALERTS_UPD) and the
-- webhooks.  As a LANGUAGE sql function that cannot be inlined (a CASE over
-- sub-selects), each call ran its query in an executor of its own, and the
-- non-inlinable SQL function it calls, notify_known_masked, was parsed and
-- planned again inside every one of those calls: 147 ms for a replay of
-- 1,000 alerts (on the development database), 0.8 ms of a peer's fetch.  A
-- stream that connects, reads its replay and hangs up ten times a second then
-- kept the store's backend busy and held every event behind it for seconds.
--
-- The same rules in PL/pgSQL, whose plans and expressions are kept for the
-- session: 35 ms for the same 1,000 (the case_confidentiality probe and
-- alert_json are most of what is left), the same text for every one of
-- 20,000 alerts compared.  The order of the tests is 054's: the caller's own
-- flag, a confidential caller's case merged into the alert's, then numbers
-- copied into the detail.
CREATE OR REPLACE FUNCTION hotline.notify_known_masked(j text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d text := j::jsonb ->> 'detail';
    m text;
BEGIN
    IF d IS NULL OR NOT hotline.may_quote_number(d) THEN
        RETURN j;
    END IF;
    m := hotline.mask_known_numbers(d);
    IF m IS DISTINCT FROM d THEN
        RETURN (j::jsonb || jsonb_build_object('detail', m))::text;
    END IF;
    RETURN j;
END
$$;

CREATE OR REPLACE FUNCTION hotline.notify_payload(j text, caller text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF caller IS NOT NULL AND EXISTS (
        SELECT 1 FROM hotline.callers c WHERE c.caller = notify_payload.caller AND c.confidential) THEN
        RETURN hotline.notify_masked(j, caller);
    END IF;
    IF jsonb_typeof(j::jsonb -> 'case_id') = 'number' AND EXISTS (
        SELECT 1 FROM hotline.case_confidentiality x
        WHERE x.case_id = (j::jsonb ->> 'case_id')::bigint AND x.confidential) THEN
        RETURN hotline.notify_detail_masked(j);
    END IF;
    RETURN hotline.notify_known_masked(j);
END
$$;
