-- 047_merge_chains.sql - a case merged into a case that was later merged
-- elsewhere now points at the case that is still open (CONTRACT 6).
--
-- When `into` is resolved, every case merged into it is owed a call back
-- (rules.c resolve(): the cases whose merged_into is the resolved case).
-- Merging into a merged case is refused, but merging a case B that already
-- had A merged into it was accepted and left A -> B -> C: resolving C armed
-- B's call back and never A's.  From this version the daemon moves A to C
-- when B is merged (orders.c on_merge, unless B had been resolved before:
-- A's caller was owed the call back then).  This migration does the same
-- for the chains already stored: each case follows merged_into through
-- cases that are merged and were never resolved, to the first one that is
-- not.  The history keeps what happened ("case A merged into case B").

WITH RECURSIVE chain(id, root, depth) AS (
    SELECT c.id, c.merged_into, 1
      FROM hotline.cases c
     WHERE c.status = 'merged' AND c.merged_into IS NOT NULL
    UNION ALL
    SELECT ch.id, n.merged_into, ch.depth + 1
      FROM chain ch
      JOIN hotline.cases n ON n.id = ch.root
     WHERE n.status = 'merged' AND n.merged_into IS NOT NULL AND n.resolved_at IS NULL
       AND ch.depth < 64
), roots AS (
    SELECT DISTINCT ON (id) id, root FROM chain ORDER BY id, depth DESC
)
UPDATE hotline.cases c SET merged_into = r.root
  FROM roots r
 WHERE c.id = r.id AND c.merged_into IS DISTINCT FROM r.root;
