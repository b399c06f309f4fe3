-- tests/sql/ms_test.sql - hotline.ms / hotline.from_ms (sql/020_ms_inline.sql):
-- the same values to the microsecond as the original arithmetic of
-- sql/001_schema.sql, in any session time zone, and inlined by the planner
-- (the reason for 020: a call that is not inlined costs ~2.5 us, thousands
-- of times per batch).  Run by scripts/sql-test.sh; any failure raises.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS hlmstest CASCADE;
CREATE SCHEMA hlmstest;

CREATE FUNCTION hlmstest.eq(what text, got anyelement, want anyelement) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF got IS DISTINCT FROM want THEN
        RAISE EXCEPTION 'FAIL %: got [%], want [%]', what, got, want;
    END IF;
    RAISE NOTICE 'ok %', what;
END $$;

SET client_min_messages = notice;
-- A zone with DST and one with a half-hour offset: the results must not move.
SET TimeZone = 'America/New_York';

-- instants: pre-1970, around the epoch to the microsecond, a DST change, now, far future
CREATE TEMP TABLE ts AS
  SELECT timestamptz '1970-01-01 00:00:00+00' + g * interval '1 us' AS t FROM generate_series(-2500, 2500) g
  UNION ALL SELECT timestamptz '2026-03-08 06:59:59.9995+00' + g * interval '1 us' FROM generate_series(0, 1000) g
  UNION ALL SELECT now() + g * interval '7 us' FROM generate_series(1, 20000) g
  UNION ALL SELECT timestamptz '1800-01-01 00:00:00.0005+00' UNION ALL SELECT timestamptz '9999-12-31 23:59:59.999999+00'
  UNION ALL SELECT NULL;
CREATE TEMP TABLE mss AS
  SELECT g::bigint AS m FROM generate_series(-2500, 2500) g
  UNION ALL SELECT hotline.ms(now()) + g * 997 FROM generate_series(1, 20000) g
  UNION ALL SELECT -5364662400000 UNION ALL SELECT 253402300799999 UNION ALL SELECT NULL;

SELECT hlmstest.eq('ms equals floor(extract(epoch) * 1000)',
    (SELECT count(*) FROM ts WHERE hotline.ms(t) IS DISTINCT FROM floor(extract(epoch FROM t) * 1000)::bigint), 0::bigint);
SELECT hlmstest.eq('from_ms equals epoch + ms milliseconds',
    (SELECT count(*) FROM mss WHERE hotline.from_ms(m) IS DISTINCT FROM 'epoch'::timestamptz + m * interval '1 millisecond'), 0::bigint);
SET TimeZone = 'Asia/Kolkata';
SELECT hlmstest.eq('ms round trip in another zone',
    (SELECT count(*) FROM mss WHERE hotline.ms(hotline.from_ms(m)) IS DISTINCT FROM m), 0::bigint);
SELECT hlmstest.eq('ms floors sub-millisecond instants', hotline.ms(timestamptz '1969-12-31 23:59:59.9995+00'), -1::bigint);
SELECT hlmstest.eq('from_ms of a known instant', hotline.from_ms(1700000000123), timestamptz '2023-11-14 22:13:20.123+00');

-- inlined: the plan shows the expression, not a call of the function
CREATE FUNCTION hlmstest.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; out text := '';
BEGIN
    FOR r IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP out := out || r || E'\n'; END LOOP;
    RETURN out;
END $$;
SELECT hlmstest.eq('ms is inlined', hlmstest.plan('SELECT hotline.ms(t) FROM ts') LIKE '%hotline.ms%', false);
SELECT hlmstest.eq('from_ms is inlined', hlmstest.plan('SELECT hotline.from_ms(m) FROM mss') LIKE '%hotline.from_ms%', false);

SET client_min_messages = warning;
DROP SCHEMA hlmstest CASCADE;
\echo 'ms_test.sql: all assertions passed'
