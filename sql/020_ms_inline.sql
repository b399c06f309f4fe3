-- 020_ms_inline.sql - hotline.ms and hotline.from_ms become inlinable (issue 15).
--
-- Every statement of the store converts timestamps to and from milliseconds
-- since the epoch (store_sql.h): a batch of 256 call.offered events makes
-- about 7,000 such calls, and a batch of repeat callers, whose open cases
-- and clocks and recent calls are loaded and written back, over 15,000.
-- Both functions were declared IMMUTABLE but their bodies used STABLE
-- operators (extract(epoch FROM timestamptz), timestamptz + interval: STABLE
-- because other fields of them depend on the session's time zone).
-- PostgreSQL never inlines a SQL function whose body is more volatile than
-- its declaration, so each call ran as a real function call: about 2.5 us
-- each, 10x the expression itself, 17-40 ms of a batch's 100 ms.
--
-- The same arithmetic written with IMMUTABLE operators only: the epoch of a
-- timestamptz is the epoch of that instant read as UTC wall time, and the
-- instant ms after the epoch is the UTC wall time 'epoch' + ms read at UTC.
-- The results are identical to the bit (same numeric floor, same interval
-- arithmetic), for NULL, negative and sub-millisecond values alike; only the
-- call overhead goes.  Signatures, volatility and grants are unchanged.
CREATE OR REPLACE FUNCTION hotline.ms(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT floor(extract(epoch FROM t AT TIME ZONE 'UTC') * 1000)::bigint $$;

CREATE OR REPLACE FUNCTION hotline.from_ms(ms bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ('epoch'::timestamp + ms * interval '1 millisecond') AT TIME ZONE 'UTC' $$;
