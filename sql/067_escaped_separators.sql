-- 067_escaped_separators.sql - a confidential number copied into a text
-- with a line break or a tab between its digits is masked too.
--
-- The defect.  054 masks a confidential caller's number copied onto an
-- ordinary case by walking the strings of a JSON body (mask_known_json)
-- and, per string, every phone-like run: digits with '-', '.', '(', ')'
-- or any white space between them (008's rule), so "136<newline>0000
-- 0006" is one run, 13600000006.  Before walking, three places ask the
-- cheap question "could this quote a number at all?" (may_quote_number: a
-- run of 9 digits) - but of the JSON *text*, where that newline is written
-- as the two characters \n (a tab \t, a vertical tab \u000b).  There the
-- run is broken, the answer is no, and the body was given back whole:
--   - visible_body: every masked view's bodies (v_case_events,
--     case_history) for administrators and supervisors;
--   - mask_known_json's checks of an object and of an array;
--   - http_case_json: GET /v1/cases/{id} and a viewer's case.get, whose
--     case JSON quotes the events' descriptions and the case's texts.
-- A note pasted from a two-line address book entry is enough.
--
-- The fix: may_quote_number_json asks the same question of a JSON text
-- with every escape read as a space first.  That only joins runs, never
-- splits one (JSON writes digits, '+', '-', '.', '(', ')' and non-ASCII
-- spaces as they are), so every text the walk would mask something in is
-- walked.  tests/sql/admin_test.sql: "a run with escaped separators is
-- still masked" and "/v1/cases masks a copy behind a line break" fail
-- before this file.

CREATE OR REPLACE FUNCTION hotline.may_quote_number_json(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT hotline.may_quote_number(regexp_replace(t, '\\(u[0-9a-fA-F]{4}|.)', ' ', 'g'))
$$;
COMMENT ON FUNCTION hotline.may_quote_number_json(text) IS
    'may_quote_number of a JSON text, its escapes (\n, \t, \u000b...) read as spaces: a run of digits the JSON text writes with an escaped separator is still one run (067).';

-- 054's, with the JSON text asked by may_quote_number_json.
CREATE OR REPLACE FUNCTION hotline.visible_body(b jsonb, confidential boolean) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT CASE WHEN b IS NULL THEN b
            WHEN NOT coalesce(confidential, false) AND NOT hotline.may_quote_number_json(
                     CASE WHEN jsonb_typeof(b) = 'object'
                          THEN b - hotline.identifying_keys() ELSE b END::text) THEN b
            WHEN hotline.sees_confidential() THEN b
            WHEN coalesce(confidential, false) THEN hotline.mask_json(b)
            ELSE hotline.mask_known_json(b) END
$$;

-- The other two places, mask_known_json's checks of an object and of an
-- array and http_case_json's check of a case, ask may_quote_number_json
-- too: they are written out in sql/071_case_read_once.sql, which rewrites
-- both functions the same day.
