-- 006_clock_runs_setbased.sql - the daemon writes hotline.clock_runs itself, set-based.
--
-- 003 kept clock_runs with a per-row PL/pgSQL trigger on hotline.clocks.  The
-- daemon now writes the runs in the same statement as the clocks
-- (include/store_sql.h, SQL_W_CLOCKS): one set-based upsert per batch instead
-- of a function call per clock, which was the largest avoidable cost of an
-- alert burst (make bench).  The trigger goes; the table and its contents stay.

DROP TRIGGER IF EXISTS clocks_record_run ON hotline.clocks;
GRANT SELECT, INSERT, UPDATE ON hotline.clock_runs TO hotline_daemon;

-- A new installation starts with empty tables, and plans made while they look
-- empty (sequential scans) would stay until autovacuum's first ANALYZE.
-- Analyze these tables early and often: every 1,000 changed rows + 2 %.
ALTER TABLE hotline.cases       SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE hotline.calls       SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE hotline.case_events SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE hotline.clocks      SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE hotline.clock_runs  SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE hotline.callers     SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE hotline.alerts      SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.02);
