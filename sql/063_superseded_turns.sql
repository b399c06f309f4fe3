-- 063_superseded_turns.sql - a status event the daemon recorded only,
-- because a later change of status delivered first superseded it, is not a
-- turn in the figures.
--
-- The defect (review-rules2).  Events are applied at their own `at`
-- (CONTRACT 3), and a PBX bridge, an agents' tool or a survey system may
-- deliver one after later ones of the same case.  A case.close dated before
-- the case's last reopen closed the reopened case; a case.resolve (or a
-- call.ended outcome resolved) dated before it resolved it; a case.reopen
-- dated before a resolution or close reopened the case; a low survey dated
-- before the case's latest resolution reopened it.  The daemon now records
-- such an event only (docs/rules.md, "Events that arrive late"), as the
-- same events in the order of `at` would leave the case, and its history
-- line says so, first: "close of case N dated before the case's reopen:
-- recorded only", "resolution of case N dated before ...", "reopen of case
-- N dated before ...", and for the survey "...; dated before the case's
-- resolution: case N not reopened".
--
-- The figures (062) read each case's chain of status events in the order
-- they were applied (seq): a resolution counts when the turn before it is a
-- reopen or none.  A superseded event left in that chain would disagree
-- with the case: a superseded close before a later resolve made that
-- resolution not count, a superseded resolve counted as the resolution of
-- a case that stayed open.  turn_superseded() names the events the daemon
-- recorded only for that reason, from the line it wrote (the daemon's own
-- text; the only column the daemon writes for an event besides the body
-- as received); the chain of both figure_facts_src (the rollup) and
-- figure_facts (the recount) skips them, and such a resolve is no
-- resolution itself.  The text is fixed when the event is stored, so the
-- rollup and the recount stay equal.  No event before this version has
-- such a line: nothing already counted changes.
--
-- Idempotent: CREATE OR REPLACE.  Unlike 062 it does not recount the
-- rollup (see the end).

CREATE OR REPLACE FUNCTION hotline.turn_superseded(p_type text, p_description text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
-- the daemon's own words at the start of the line (rules_check.c
-- hl_rules_superseded), where nothing a sender chose (a call_id, a reason)
-- comes before them
SELECT coalesce(
    (p_type IN ('case.close', 'case.resolve', 'case.reopen', 'call.ended')
     AND p_description ~ '^(close|resolution|reopen) of case [0-9]+ dated before the case''s (reopen|resolution|close): recorded only')
    OR (p_type = 'survey.result'
        AND p_description ~ '^survey on case [0-9]+: score [12] of 5.*; dated before the case''s (resolution|close): case [0-9]+ not reopened'),
    false)
$$;
COMMENT ON FUNCTION hotline.turn_superseded(text, text) IS 'Whether a status event (close, resolve, reopen, call.ended resolved, a low survey) was recorded only because a later change of status delivered first superseded it (063, docs/rules.md "Events that arrive late"); the figures'' chain of turns skips it.';

-- The chain of turns that reads it is in figure_facts_src (the rollup) and
-- the figure_facts view (the recount).  063, 064 and 076 changed both on
-- the same day, and both are written out once, with all three changes, in
-- sql/076_repeat_kept.sql: a migration in between has nothing that counts
-- figures, and --migrate applies them together.

-- No recount of the rollup: no event stored before this version has such
-- a line, so every count is what it was (a recount takes ~15 minutes at
-- 100 M events, at --migrate).
