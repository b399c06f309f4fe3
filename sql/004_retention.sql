-- 004_retention.sql - forget callers' numbers and words, keep the figures.
--
-- hotline.anonymize_closed(days) takes cases closed more than `days` days ago
-- and removes what identifies the caller or records what was said:
--
--   cases        caller -> 'anon:<case id>', summary and resolution -> NULL
--   calls        caller -> 'anon:<case id>'
--   alerts       caller -> 'anon:<case id>', detail -> NULL, the number inside
--                dedupe_key replaced by the token (the key stays unique)
--   case_events  body: "caller" -> the token; note, summary, reason,
--                resolution, detail, comment, message, text removed;
--                description rewritten from the scrubbed body
--   callers      the number's row deleted once no call and no open case uses it
--
-- Everything counted stays: timestamps, states, outcomes, categories,
-- departments, agents, scores, clocks, event ids (the idempotency keys are
-- untouched, so a late duplicate event is still recognised).
--
-- Safe beside the running daemon: it only takes cases whose status is
-- 'closed' (never open or resolved ones), locks them with FOR UPDATE SKIP
-- LOCKED (a case the daemon is working on is left for the next run), and
-- handles at most `max_cases` cases per call, so each call is one short
-- transaction.  Idempotent: an anonymized case (caller 'anon:...') is never
-- taken again.  Returns the number of cases anonymized by this call; the
-- procedure hotline.anonymize_closed_all(days) repeats it, committing after
-- every batch, until nothing is left (that is what cron runs).
--
-- Only the owner of the schema (the migration user) or a superuser may run
-- it: EXECUTE is revoked from PUBLIC.

-- Finds the next batch without scanning the cases already done.
CREATE INDEX IF NOT EXISTS cases_to_anonymize ON hotline.cases (closed_at)
    WHERE status = 'closed' AND caller NOT LIKE 'anon:%';

-- A request body with the caller's number replaced and free text removed.
CREATE OR REPLACE FUNCTION hotline.scrub_body(b jsonb, token text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN s ? 'caller' THEN jsonb_set(s, '{caller}', to_jsonb(token)) ELSE s END
FROM (SELECT b - ARRAY['note', 'summary', 'reason', 'resolution', 'detail', 'comment',
                       'message', 'text'] AS s) x
$$;

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

    UPDATE hotline.calls l SET caller = 'anon:' || l.case_id
    WHERE l.case_id = ANY (ids) AND l.caller NOT LIKE 'anon:%';

    -- The number may appear inside a dedupe key (e.g. repeat_caller alerts):
    -- replace it by the token, which carries the case id, so keys stay distinct.
    UPDATE hotline.alerts a
       SET caller = CASE WHEN a.caller IS NULL THEN NULL ELSE 'anon:' || a.case_id END,
           detail = NULL,
           dedupe_key = replace(a.dedupe_key, c.caller, 'anon:' || a.case_id)
      FROM hotline.cases c
     WHERE c.id = a.case_id AND a.case_id = ANY (ids);

    UPDATE hotline.case_events e
       SET body = hotline.scrub_body(e.body, 'anon:' || e.case_id),
           description = hotline.describe_event(e.type, hotline.scrub_body(e.body, 'anon:' || e.case_id))
     WHERE e.case_id = ANY (ids);

    UPDATE hotline.cases c
       SET caller = 'anon:' || c.id, summary = NULL, resolution = NULL
     WHERE c.id = ANY (ids);

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

-- For cron: every batch in its own transaction, so locks are held briefly
-- and the work done survives an interruption.  Call it outside a transaction
-- block:  psql -d hotline -c 'CALL hotline.anonymize_closed_all(365)'
CREATE OR REPLACE PROCEDURE hotline.anonymize_closed_all(days integer, batch integer DEFAULT 1000)
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    total bigint := 0;
BEGIN
    LOOP
        n := hotline.anonymize_closed(days, batch);
        total := total + n;
        COMMIT;
        EXIT WHEN n = 0;
    END LOOP;
    RAISE NOTICE 'anonymized % closed cases', total;
END
$$;

REVOKE EXECUTE ON FUNCTION hotline.anonymize_closed(integer, integer) FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE hotline.anonymize_closed_all(integer, integer) FROM PUBLIC;
