-- 078_http_sessions.sql - a wallboard session that signed out stays signed
-- out (review-http3).
--
-- The defect.  The wallboard's session cookie is stateless (an HMAC keyed
-- with the token, daemon/http_auth.c), so it survives a restart and works
-- on every daemon of a cluster that shares the tokens.  Signing out only
-- told the browser to drop it: a copy of the cookie (another tab, a proxy's
-- log, a screen's cookie copied before) kept reading the board and
-- acknowledging alerts until its expiry, up to 12 hours, on every daemon.
--
-- The fix.  Each session has an id (128 random bits, kept across renewals;
-- a cookie from before this version has the start of its MAC as its id).
-- DELETE /v1/session records the id here, in the database every daemon
-- shares and that outlives them; a request that comes with a session
-- cookie asks http_session_live before it is served (one primary-key probe
-- in the store's pipeline, with the request's other reads).  A row is kept
-- until no cookie of its session can be valid any more (`until`: the
-- longest a renewed cookie can live, plus slack for clocks), then the next
-- sign-out deletes it.  The table holds ids only, never a token or a name.

CREATE TABLE hotline.http_sessions_ended (
    sid   text PRIMARY KEY,
    until timestamptz NOT NULL
);
COMMENT ON TABLE hotline.http_sessions_ended IS
    'Wallboard sessions signed out (DELETE /v1/session): their cookies are refused by every daemon until `until`, when none can be valid any more';

-- Sign a session out; 'true'.  Deletes the rows whose sessions expired.
CREATE FUNCTION hotline.http_session_end(p_sid text, p_until bigint) RETURNS text
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, hotline AS $$
DELETE FROM hotline.http_sessions_ended WHERE until < now();
INSERT INTO hotline.http_sessions_ended (sid, until) VALUES (p_sid, to_timestamp(p_until))
ON CONFLICT (sid) DO UPDATE SET until = greatest(hotline.http_sessions_ended.until, excluded.until);
SELECT 'true';
$$;

-- 'true' when the session has not signed out, else 'false' (JSON text, as
-- the API's other reads answer).
CREATE FUNCTION hotline.http_session_live(p_sid text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, hotline AS $$
SELECT CASE WHEN EXISTS (SELECT 1 FROM hotline.http_sessions_ended WHERE sid = p_sid) THEN 'false' ELSE 'true' END;
$$;

REVOKE ALL ON hotline.http_sessions_ended FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION hotline.http_session_end(text, bigint), hotline.http_session_live(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.http_session_end(text, bigint), hotline.http_session_live(text) TO hotline_daemon;
