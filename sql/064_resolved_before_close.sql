-- 064_resolved_before_close.sql - a resolution dated before the close of
-- a closed case, delivered after it, is the case's resolution in the figures.
--
-- The defect (review-rules2).  The agent resolves a case at 11:00; the
-- supervisor closes it at 12:00, and the close reaches the daemon first.
-- The resolve was refused ("case is closed"): the agent's tool got an error
-- for a real resolution, and cases_resolved / resolved_in_time lost it,
-- although in the order of `at` the case was resolved, then closed.  The
-- daemon now records it: resolved_at, the resolution run the close stopped
-- met at its `at`, the case still closed (docs/rules.md, "Events that
-- arrive late"), and its history line starts with "resolution of case N
-- dated before the case's close: resolved before it".
--
-- The figures read each case's chain of status events in the order the
-- daemon applied them (062, 063): such a resolution would follow the close
-- and not count (the turn before it is a close).  resolved_before_close()
-- names it from that line (sender-chosen text never comes before it), and
-- the chain puts it just before the close it came before: in
-- figure_facts_src (the rollup) the turn before it is the one below that
-- close, in figure_facts (the recount) the window is ordered by that key.
-- For every other event the turns it sees are the same as before or differ
-- only between a resolution and a close, neither of which lets a
-- resolution count: the rollup and the recount stay equal.  No event
-- before this version has such a line.
--
-- Idempotent: CREATE OR REPLACE; no recount of the rollup (see the
-- end).

CREATE OR REPLACE FUNCTION hotline.resolved_before_close(p_type text, p_description text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT coalesce(p_type IN ('case.resolve', 'call.ended')
                AND p_description ~ '^resolution of case [0-9]+ dated before the case''s close: resolved before it',
                false)
$$;
COMMENT ON FUNCTION hotline.resolved_before_close(text, text) IS 'Whether a case.resolve or call.ended outcome resolved is the resolution of a closed case dated before its close and delivered after it (064, docs/rules.md "Events that arrive late"); the figures'' chain puts it before that close.';

-- The chain of turns that reads it is in figure_facts_src (the rollup) and
-- the figure_facts view (the recount).  063, 064 and 076 changed both on
-- the same day, and both are written out once, with all three changes, in
-- sql/076_repeat_kept.sql: a migration in between has nothing that counts
-- figures, and --migrate applies them together.

-- No recount of the rollup: no event stored before this version has such
-- a line, so every count is what it was (a recount takes ~15 minutes at
-- 100 M events, at --migrate).
