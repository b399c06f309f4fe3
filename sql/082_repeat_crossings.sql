-- 082_repeat_crossings.sql - a caller's last repeat_caller crossings (review-rules3).
--
-- A crossing is the last call of a window of `repeat_caller.window` that
-- reached `repeat_caller.threshold` calls; each raises one repeat_caller
-- alert, and its calls count for no later window (CONTRACT 4: "one alert per
-- crossing").  The daemon kept only the last one (repeat_alerted_at) and
-- never counted a call dated at or before it: a call delivered late (a PBX
-- bridge's lag) was in no window, and the same calls raised two alerts in
-- the order of their `at` but one in the order they arrived.
--
-- `repeat_crossings` keeps the last 2 crossings (HL_REPEAT_KEEP), ascending (the last is
-- repeat_alerted_at); a late call re-follows the chain of crossings from
-- the last one before it (daemon/rules_alerts.c).  `repeat_floor` is the
-- newest crossing no longer kept: a call dated at or before it is not
-- counted (nothing is known before it).  A caller alerted before this
-- version starts with its floor at its last crossing - exactly the old
-- rule - and keeps crossings from its next one.  The update touches only
-- the callers that were ever alerted.
ALTER TABLE hotline.callers ADD COLUMN IF NOT EXISTS repeat_crossings timestamptz[];
ALTER TABLE hotline.callers ADD COLUMN IF NOT EXISTS repeat_floor timestamptz;

UPDATE hotline.callers SET repeat_floor = repeat_alerted_at
WHERE repeat_alerted_at IS NOT NULL AND repeat_floor IS NULL AND repeat_crossings IS NULL;

COMMENT ON COLUMN hotline.callers.repeat_crossings IS
    'The last (up to 2) repeat_caller crossings of this number, ascending: the last call of each window that raised an alert (082).';
COMMENT ON COLUMN hotline.callers.repeat_floor IS
    'A late call dated at or before this is not counted for repeat_caller (the newest crossing no longer kept; 082).';

-- an administrator reads a caller's counters, not its number (002)
GRANT SELECT (repeat_crossings, repeat_floor) ON hotline.callers TO hotline_admin;
