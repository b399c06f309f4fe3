-- 077_turn_words.sql - retention keeps the daemon's words the figures read
-- (review-views3).
--
-- The defect.  The figures read two things from an event's history line,
-- the daemon's own words at its start: a status event recorded only because
-- a later change of status was delivered first (063, turn_superseded: "close
-- of case N dated before the case's reopen: recorded only", and the same for
-- a resolution, a reopen, a low survey) and a resolution of a closed case
-- dated before its close (064, resolved_before_close: "resolution of case N
-- dated before the case's close: resolved before it").  Retention
-- (anonymize_closed) rebuilt every description of a closed case from its
-- scrubbed body (describe_event: "closed", "resolved"), so after a retention
-- run the recount took a superseded close for a turn (the resolution after
-- it no longer counted) and a resolution dated before the close for one
-- after it (not counted either): figure_facts disagreed with figure_rollup,
-- and rebuild_figure_rollup() (also the one hotlined --migrate runs when
-- report.timezone changes) lowered past cases_resolved / resolved_in_time.
-- Retention closes nothing but closed cases, the very cases these lines are
-- about.
--
-- The fix.  turn_words(type, description) gives those words, rebuilt from
-- the parts the two functions match (a case id, a score, fixed words:
-- nothing a sender wrote and no number), and anonymize_closed puts them
-- before the rebuilt description, as the daemon did: both functions read
-- the same.  Events anonymized before this version lost the words for good
-- (their recount stays as it was; the rollup, not rebuilt, kept them).
--
-- The same for the agent.  The figures credit an attempt, a transfer, a
-- resolution and a survey to the agent named in its body ("agent").
-- scrub_body (049) passed every value but ids and times through mask_json,
-- so an agent known by an employee number of 7 digits or more ("20230145")
-- became "******45" in the recount after a retention run: agent_daily's
-- figures moved to an agent that does not exist on a rebuild.  An agent is
-- one of the hotline's staff, not the caller, and calls.agent was never
-- touched by retention: scrub_body now keeps "agent" as it is, like the
-- ids.  "by" stays masked: an order's signer may be anyone, the caller too
-- (figure_facts reads it only for an attempt or a transfer without
-- "agent", and neither event takes "by": protocol.c).
--
-- Idempotent: CREATE OR REPLACE with 049's and 076's signatures.

CREATE OR REPLACE FUNCTION hotline.scrub_body(b jsonb, token text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN s ? 'caller' THEN jsonb_set(s, '{caller}', to_jsonb(token)) ELSE s END
FROM (SELECT coalesce((SELECT jsonb_object_agg(k, CASE WHEN k IN ('id', 'type', 'at', 'case_id', 'call_id', 'order_id',
                                                                  'alert_id', 'into', 'since', 'until', 'caller',
                                                                  'agent')   -- 077: who, for agent_daily
                                                       THEN v ELSE hotline.mask_json(v, k) END)
                       FROM jsonb_each(t) AS x (k, v)), t) AS s
      FROM (SELECT b - ARRAY['note', 'summary', 'reason', 'resolution', 'detail', 'comment',
                             'message', 'text'] AS t) y) x
$$;

CREATE OR REPLACE FUNCTION hotline.turn_words(p_type text, p_description text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN hotline.turn_superseded(p_type, p_description) AND p_type = 'survey.result' THEN
        (SELECT format('survey on case %s: score %s of 5; dated before the case''s %s: case %s not reopened',
                       m[1], m[2], m[3], m[4])
         FROM regexp_match(p_description,
                           '^survey on case ([0-9]+): score ([12]) of 5.*; dated before the case''s (resolution|close): case ([0-9]+) not reopened') m)
    WHEN hotline.turn_superseded(p_type, p_description) OR hotline.resolved_before_close(p_type, p_description) THEN
        substring(p_description from
                  '^(?:close|resolution|reopen) of case [0-9]+ dated before the case''s (?:reopen|resolution|close): (?:recorded only|resolved before it)')
END
$$;
COMMENT ON FUNCTION hotline.turn_words(text, text) IS 'The daemon''s first words of an event''s history line that the figures read (turn_superseded, 063; resolved_before_close, 064), rebuilt from their parts, or NULL: retention keeps them when it rebuilds the line (077).';

CREATE OR REPLACE FUNCTION hotline.anonymize_closed(days integer, max_cases integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ids     bigint[];
    numbers text[];
BEGIN
    IF days IS NULL OR days < 0 THEN
        RAISE EXCEPTION 'anonymize_closed: days must be >= 0 (got %)', days;
    END IF;
    IF max_cases IS NULL OR max_cases < 1 THEN
        RAISE EXCEPTION 'anonymize_closed: max_cases must be >= 1 (got %)', max_cases;
    END IF;

    -- The batch: closed long enough, not done yet, not locked by the daemon.
    WITH batch AS (
        SELECT c.id, c.caller FROM hotline.cases c
        WHERE c.status = 'closed' AND c.caller NOT LIKE 'anon:%'
          AND c.closed_at < now() - make_interval(days => days)
        ORDER BY c.closed_at
        LIMIT max_cases
        FOR UPDATE SKIP LOCKED
    )
    SELECT array_agg(id), array_agg(DISTINCT caller) INTO ids, numbers FROM batch;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;

    -- 076: a call that repeated an earlier call of its number keeps saying
    -- so once the number is gone from either (figure_facts finds repeats by
    -- the number): a call of the batch's numbers, in any case, with such an
    -- earlier call in another case when one of the two is the batch's (a
    -- case's own calls keep one caller, "anon:<case id>", between them; so
    -- the live cases' calls are written only where they lose one).
    UPDATE hotline.calls l SET repeat_kept = true
    WHERE l.caller = ANY (numbers) AND l.inbound AND NOT l.repeat_kept
      AND EXISTS (SELECT 1 FROM hotline.calls q
                  WHERE q.caller = l.caller AND q.inbound
                    AND q.offered_at > l.offered_at - interval '24 hours' AND q.offered_at <= l.offered_at
                    AND (q.offered_at, q.call_id) < (l.offered_at, l.call_id)
                    AND q.case_id <> l.case_id AND (q.case_id = ANY (ids) OR l.case_id = ANY (ids)));

    UPDATE hotline.calls l SET caller = 'anon:' || l.case_id, queue = hotline.mask_text(l.queue)
    WHERE l.case_id = ANY (ids) AND l.caller NOT LIKE 'anon:%';

    -- The number may appear inside a dedupe key (e.g. repeat_caller alerts):
    -- replace it by the token, which carries the case id, so keys stay distinct.
    UPDATE hotline.alerts a
       SET caller = CASE WHEN a.caller IS NULL THEN NULL ELSE 'anon:' || a.case_id END,
           detail = NULL,
           dedupe_key = replace(a.dedupe_key, c.caller, 'anon:' || a.case_id)
      FROM hotline.cases c
     WHERE c.id = a.case_id AND a.case_id = ANY (ids);

    -- 077: the daemon's first words that the figures read are kept
    UPDATE hotline.case_events e
       SET body = hotline.scrub_body(e.body, 'anon:' || e.case_id),
           description = concat_ws('; ', hotline.turn_words(e.type, e.description),
                                    hotline.describe_event(e.type, hotline.scrub_body(e.body, 'anon:' || e.case_id)))
     WHERE e.case_id = ANY (ids);

    UPDATE hotline.cases c
       SET caller = 'anon:' || c.id, summary = NULL, resolution = NULL,
           category = hotline.mask_text(c.category), priority = hotline.mask_text(c.priority),
           queue = hotline.mask_text(c.queue)
     WHERE c.id = ANY (ids);

    -- 044: what was said on the orders goes; what classifies them stays,
    -- every phone-like run in it masked (no callers row will say later that
    -- the case was confidential).
    UPDATE hotline.orders o
       SET note = NULL, return_reason = NULL, extend_reason = NULL,
           category = hotline.mask_text(o.category), area = hotline.mask_text(o.area),
           signed_by = hotline.mask_text(o.signed_by)
     WHERE o.case_id = ANY (ids)
       AND (o.note IS NOT NULL OR o.return_reason IS NOT NULL OR o.extend_reason IS NOT NULL
            OR o.category IS DISTINCT FROM hotline.mask_text(o.category)
            OR o.area IS DISTINCT FROM hotline.mask_text(o.area)
            OR o.signed_by IS DISTINCT FROM hotline.mask_text(o.signed_by));

    UPDATE hotline.hotspot_cases h
       SET category = hotline.mask_text(h.category), area = hotline.mask_text(h.area)
     WHERE h.case_id = ANY (ids)
       AND (h.category IS DISTINCT FROM hotline.mask_text(h.category)
            OR h.area IS DISTINCT FROM hotline.mask_text(h.area));

    -- A number's own row goes when nothing uses it any more: every case has
    -- a call from its caller, so "no call and no open case" means unused.
    -- Rows the daemon holds locked are left for a later run.
    DELETE FROM hotline.callers d
     WHERE d.caller IN (
        SELECT cl.caller FROM hotline.callers cl
        WHERE cl.caller = ANY (numbers)
          AND NOT EXISTS (SELECT 1 FROM hotline.calls l WHERE l.caller = cl.caller)
          AND NOT EXISTS (SELECT 1 FROM hotline.cases c
                          WHERE c.caller = cl.caller AND c.status <> 'closed')
        FOR UPDATE SKIP LOCKED);

    RETURN cardinality(ids);
END
$$;
