-- 083_figures_stale_zone.sql - the HTTP figures never recount the history on
-- the daemon's connection (review-wire3).
--
-- The defect.  hotline.figure_cells (023) reads the rollup when it was
-- counted in the session's report zone, and otherwise recounts every day of
-- the history from figure_facts (seconds on ten million events,
-- docs/explain.md; minutes on a national hotline's years).  The daemon's
-- store session takes hotline.timezone from the database default, which
-- hotlined sets from report.timezone at start (set_report_timezone, 017);
-- the rollup is recounted in the new zone only by `hotlined --migrate`
-- (rebuild_figure_rollup_if_stale).  So after report.timezone was changed
-- and the daemon restarted without --migrate, every GET /v1/figures and
-- every wallboard refresh (/v1/board carries today's figures) ran that
-- recount as one statement of the store's pipeline, on the one connection
-- that also commits the events: ingest, acknowledgements and alerts waited
-- behind it, each time the read cache (http_api.c) expired.
--
-- The fix.  http_figures_json looks at the rollup's zone first: when it is
-- not the session's report zone (or the rollup was never counted), it
-- answers {"error": {"code": "figures_stale", "message": ...}} at once,
-- naming the two zones and the remedy (the schema's owner runs hotlined
-- --migrate, which recounts the rollup in the new zone); the daemon answers
-- /v1/figures 503 with it, and the board carries it as its "figures" (the
-- wall screen shows no figures, its lists stay live).  psql readers of the
-- views are not changed: an ad-hoc SET hotline.timezone still gets the
-- exact recount, on their own session.
--
-- Idempotent: CREATE OR REPLACE with 011's signature; http_board_json
-- (065) calls it by name.

CREATE OR REPLACE FUNCTION hotline.http_figures_json(p_day date) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, hotline AS $$
DECLARE
    counted text := (SELECT s.zone FROM hotline.figure_rollup_state s);
    zone text := hotline.report_tz();
    d date := coalesce(p_day, hotline.local_day(now()));
BEGIN
    IF counted IS DISTINCT FROM zone THEN
        RETURN json_build_object('error', json_build_object(
            'code', 'figures_stale',
            'message', format('the figures are counted in %s and this session''s report zone is %s: the '
                              'schema''s owner runs hotlined --migrate to recount them in report.timezone (and '
                              'sets the database''s hotline.timezone by hand if --migrate cannot: docs/admin.md); '
                              'not recounted here, it would hold every event behind it',
                              coalesce(counted, 'no zone yet'), zone),
            'counted_in', counted, 'time_zone', zone))::text;
    END IF;
    RETURN json_build_object(
        'day', d,
        'time_zone', zone,
        'figures', coalesce((SELECT to_jsonb(f) - 'day' FROM hotline.daily_figures f WHERE f.day = d),
            jsonb_build_object('calls_offered', 0, 'calls_answered', 0, 'answered_within_15s', 0,
                'calls_abandoned', 0, 'voicemails', 0, 'callbacks_owed', 0, 'callbacks_in_time', 0,
                'callbacks_late', 0, 'repeat_calls', 0, 'cases_opened', 0, 'cases_resolved', 0)))::text;
END
$$;

COMMENT ON FUNCTION hotline.http_figures_json(date) IS 'GET /v1/figures: one day''s figures (daily_figures) as JSON; {"error":{"code":"figures_stale"}} instead of a full recount when the rollup was counted in another zone than the session''s (083).';
