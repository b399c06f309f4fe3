-- 081_last_hold.sql - the case's last hold, kept after it is resumed (review-rules3).
--
-- A contact with the caller (an answered call, a reached call back, a
-- case.update with caller_informed) restarts the update clock.  During a
-- hold the clock does not run: a contact on hold arms the new run paused
-- with its whole allowance, and the resume runs it (docs/rules.md, "Contact
-- during a hold").  A contact dated during a hold that was resumed before
-- the contact was delivered (a PBX's lag) found the case no longer on hold
-- and the hold's start and end forgotten: it restarted the update clock
-- from the contact as if the case had never been on hold, due the length
-- of the hold too early (an update_overdue nobody earned).  Likewise a
-- contact dated before a hold, delivered after it was resumed, got no time
-- for the hold, and a case.hold dated inside that hold put the case on
-- hold again.
--
-- `last_hold_from` / `last_hold_until` are the start and the end of the
-- case's last resumed hold (daemon/rules.c on_resume); the rules re-time
-- such a contact by them and record such a hold only.  NULL: no hold ended
-- by a resume yet (a case held before this version, resumed after it, has
-- both).  Adding nullable columns rewrites no row.
ALTER TABLE hotline.cases ADD COLUMN IF NOT EXISTS last_hold_from timestamptz;
ALTER TABLE hotline.cases ADD COLUMN IF NOT EXISTS last_hold_until timestamptz;

COMMENT ON COLUMN hotline.cases.last_hold_from IS
    'Start of the case''s last hold that a case.resume ended; NULL if none (081).';
COMMENT ON COLUMN hotline.cases.last_hold_until IS
    'End (the case.resume) of the case''s last hold; NULL if none (081).';

-- an administrator reads every column of a case but its caller (002)
GRANT SELECT (last_hold_from, last_hold_until) ON hotline.cases TO hotline_admin;
