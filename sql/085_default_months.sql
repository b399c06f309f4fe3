-- 085_default_months.sql - months of imported history get partitions of their own.
--
-- Issue 15 and CONTRACT 8 (history import).  case_events is partitioned by
-- UTC month (021); `--migrate` and the daemon's daily upkeep create the
-- current month and the next twelve.  An event dated before the oldest
-- month partition - last year's queue_log sent with `hotline-pbx
-- --backfill`, the usual first thing a site does - landed in the default
-- partition and stayed there for good: nothing created its month, so
-- `drop_events_before()` could never drop it (it drops month partitions
-- only) and retention of an imported year meant DELETEs again.
--
-- Now:
--
--   hotline.adopt_default_months(max_months)  creates the month partition
--       of each UTC month the default partition holds rows of (oldest
--       first, at most max_months a call), moving those rows into it
--       (create_event_month, 034).  Returns how many months it made; 0 at
--       once when the default partition is empty, which is the normal case
--       (one probe of an empty table), so the daemon can ask often.
--
--   The daemon's cluster session (daemon/cluster_upkeep.c) asks every few
--   seconds whether the default partition holds a row
--   (hotline.events_in_default()) and, when
--   it does, runs its upkeep (ensure_event_partitions + this function)
--   under `lock_timeout = 1s`.  An import therefore leaves a few seconds
--   of its events in the default partition before their month is made;
--   from then on that month's events go straight to their partition.
--
--   This migration adopts every month already in the default partition
--   (sites that imported before 085).  That moves rows under a lock on the
--   default partition: minutes for tens of millions of rows, as
--   `--migrate` is run, before the daemons start.
--
-- A month adopted this way is an ordinary month partition: retention drops
-- it like any other.  An event dated in a month retention already dropped
-- (a very late one) makes its month again, holding only itself, and the
-- next retention run drops it again.

CREATE FUNCTION hotline.adopt_default_months(max_months integer DEFAULT 12) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n   integer := 0;
    one timestamptz;
BEGIN
    IF max_months IS NULL OR max_months < 0 THEN
        RAISE EXCEPTION 'adopt_default_months: max_months must be 0 or more (got %)', max_months;
    END IF;
    -- one adopter at a time: the daemons of a cluster all look every few
    -- seconds, and a second one would only queue behind the first's lock on
    -- the default partition until its lock_timeout, then warn
    IF NOT pg_try_advisory_xact_lock(7370085) THEN
        RETURN 0;
    END IF;
    WHILE n < max_months LOOP
        -- any row will do: its month is made and every row of that month
        -- leaves the default partition with it
        SELECT e.at INTO one FROM hotline.case_events_default e LIMIT 1;
        EXIT WHEN one IS NULL;
        -- false: the month exists already.  Another daemon of the cluster
        -- made it after this statement's snapshot saw the row; its rows
        -- have moved.  Stop here; the next call starts afresh.
        EXIT WHEN NOT hotline.create_event_month(one);
        n := n + 1;
        one := NULL;
    END LOOP;
    RETURN n;
END
$$;
REVOKE EXECUTE ON FUNCTION hotline.adopt_default_months(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.adopt_default_months(integer) TO hotline_daemon;
COMMENT ON FUNCTION hotline.adopt_default_months(integer) IS 'Creates the case_events month partition of each UTC month the default partition holds rows of (at most max_months), moving the rows; returns how many (085).';

-- The daemon's question every few seconds.  Its role reads case_events
-- through the parent only; this answers for the default partition alone.
CREATE FUNCTION hotline.events_in_default() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM hotline.case_events_default)
$$;
REVOKE EXECUTE ON FUNCTION hotline.events_in_default() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.events_in_default() TO hotline_daemon;
COMMENT ON FUNCTION hotline.events_in_default() IS 'Whether the default partition of case_events holds a row (the daemon then adopts its months, 085).';

SELECT hotline.adopt_default_months(1000000);
