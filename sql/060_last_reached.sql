-- 060_last_reached.sql - when the caller was last reached, apart from told.
--
-- A `call.abandoned` (or `voicemail.left`) delivered after a later contact
-- owes no call back: the caller rang again, was answered, and those events
-- came first (a PBX bridge infers an abandonment after a grace period).
-- The daemon told that "later contact" by `cases.last_contact_at`, which a
-- `case.update` with `caller_informed: true` also moves - and such an update
-- does not meet a callback (CONTRACT 3: only an answer or a reached call back
-- does).  So an abandonment delivered after a later caller_informed owed
-- nothing, where the same events in order left the call back owed.
--
-- `last_reached_at` is the last answer or reached call back alone; the rule
-- reads it instead (daemon/rules.c, on_abandoned).  Cases that are not closed
-- start from last_contact_at, the old rule's value, so a case in flight
-- across the upgrade keeps the answer it would have had; a closed case
-- only records a late abandonment, so it needs none.  Adding a nullable
-- column rewrites no row; the UPDATE touches the cases still open.
ALTER TABLE hotline.cases ADD COLUMN IF NOT EXISTS last_reached_at timestamptz;

UPDATE hotline.cases SET last_reached_at = last_contact_at
WHERE status <> 'closed' AND last_contact_at IS NOT NULL AND last_reached_at IS NULL;

COMMENT ON COLUMN hotline.cases.last_reached_at IS
    'Last time the caller was reached (call answered, call back reached); not moved by caller_informed (060).';

-- an administrator reads every column of a case but its caller (002)
GRANT SELECT (last_reached_at) ON hotline.cases TO hotline_admin;
