-- 017_report_timezone.sql - the report zone follows the configuration.
--
-- Daily figures count local days in hotline.report_tz() (003).  Until now
-- that read the setting hotline.timezone, which nobody set, so figures fell
-- back to UTC days.  The daemon now sets it from report.timezone (default:
-- the first calendar's zone, else UTC) at --migrate and at every start:
--
--     SELECT hotline.set_report_timezone('Asia/Shanghai');
--
-- The function is SECURITY DEFINER, owned by the role that runs the
-- migrations, and stores the zone as a database default
-- (ALTER DATABASE ... SET hotline.timezone), so that every new session -
-- psql, reports, the daemon - reads it from its own GUC at no cost per row
-- (a table lookup inside report_tz() would run once per row of a figures
-- view).  The unprivileged daemon role gets only EXECUTE on it; it cannot set
-- any other database setting.  Several daemons on one database set the same
-- value; the function writes only when the value changes, and an invalid zone
-- is refused (nothing changes).  When the migration role does not own the
-- database, the function returns false with a warning and the administrator
-- sets the zone by hand (docs/admin.md).  A session may still override it for
-- an ad-hoc report: SET hotline.timezone = 'Europe/Paris'.

CREATE OR REPLACE FUNCTION hotline.set_report_timezone(zone text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    cur text;
BEGIN
    IF zone IS NULL OR zone !~ '^[A-Za-z0-9/_+-]{1,63}$'
       OR NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = zone) THEN
        RAISE EXCEPTION 'report timezone: unknown time zone %', quote_literal(coalesce(zone, 'NULL'))
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.opt INTO cur
      FROM pg_db_role_setting d, unnest(d.setconfig) AS s(opt)
     WHERE d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND d.setrole = 0 AND s.opt LIKE 'hotline.timezone=%';
    IF cur = 'hotline.timezone=' || zone THEN
        RETURN true;
    END IF;
    BEGIN
        EXECUTE format('ALTER DATABASE %I SET hotline.timezone = %L', current_database(), zone);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE WARNING 'report timezone: the migration role does not own database %; run as its owner: ALTER DATABASE % SET hotline.timezone = %',
            current_database(), quote_ident(current_database()), quote_literal(zone);
        RETURN false;
    END;
    RETURN true;
END
$$;

REVOKE ALL ON FUNCTION hotline.set_report_timezone(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hotline.set_report_timezone(text) TO hotline_daemon;
