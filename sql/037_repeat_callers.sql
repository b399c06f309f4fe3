-- 037_repeat_callers.sql - repeat_callers counts a number's calls first and masks once per number (issue 15).
--
-- The cost.  003's repeat_callers is repeat_callers_between() over
-- v_calls: every call of the week passes the masking view first, so each
-- one costs an md5 for its pseudonym (caller_ref, the grouping key) and a
-- join to hotline.callers for its confidential flag, and only then are the
-- calls grouped.  The planner joins the week's calls to callers by hashing
-- the whole callers table: every number that ever called.  Measured on the
-- benchmark cluster (2026-12-03) with ten million events of history and a
-- week of a large city's line added (210,000 inbound calls, 30,000 a day,
-- from 150,000 numbers; 17,355 of them called twice or more): 495 ms
-- (count(*)), 1,196 ms under EXPLAIN ANALYZE: 453,857 callers hashed, the
-- week's calls sorted twice to disk by caller_ref.  The time grew with
-- the callers table, that is with the history, and the md5s were 60 % of
-- it (a week's md5s alone: 340 ms).
--
-- The design.  The view groups the week's calls by the number itself,
-- keeps the numbers with two calls or more, and only then looks up each
-- such number's confidential flag (one probe of callers_pkey) and computes
-- its pseudonym and its masked form: once per repeat caller instead of
-- once per call, and no scan of callers.  Grouping by the number is
-- grouping by its pseudonym (a keyed md5 of the number: two numbers share
-- one only by a collision of 64 bits).  Same columns, order and rows; it
-- is now a security_barrier view reading the tables with its owner's
-- rights, as v_calls is, and masks with hotline.visible_caller(), which
-- runs as the reader: a confidential number is masked for everyone outside
-- hotline_privileged, as before (tests/sql/admin_test.sql scans every
-- readable column for a confidential number's digits).  Same measurement:
-- 231 ms (count(*)), 692 ms under EXPLAIN ANALYZE: what is left is reading
-- and sorting the week's calls, which the list needs (every call of every
-- repeat caller is in its arrays).
--
-- repeat_callers_between(from, to, min) keeps reading v_calls: a
-- function runs as its caller, who may not read hotline.calls, so it can
-- only group what the masking view gives it.  The view is the everyday
-- list; the function is for a report on another period.

CREATE OR REPLACE VIEW hotline.repeat_callers WITH (security_barrier) AS
SELECT hotline.visible_caller(g.caller, cl.confidential) AS caller,
       left(md5(k.salt || g.caller), 16) AS caller_ref,
       coalesce(cl.confidential, false) AS confidential,
       g.calls, g.answered, g.unanswered, g.first_call_at, g.last_call_at,
       g.case_ids, g.call_ids, g.call_results
FROM (SELECT l.caller, count(*) AS calls,
             count(*) FILTER (WHERE l.answered_at IS NOT NULL) AS answered,
             count(*) FILTER (WHERE l.answered_at IS NULL) AS unanswered,
             min(l.offered_at) AS first_call_at, max(l.offered_at) AS last_call_at,
             array_agg(DISTINCT l.case_id ORDER BY l.case_id) AS case_ids,
             array_agg(l.call_id ORDER BY l.offered_at, l.call_id) AS call_ids,
             array_agg(CASE WHEN l.answered_at IS NOT NULL THEN 'answered' ELSE l.state END
                       ORDER BY l.offered_at, l.call_id) AS call_results
      FROM hotline.calls l
      WHERE l.inbound AND l.offered_at >= now() - interval '7 days' AND l.offered_at < now()
      GROUP BY l.caller
      HAVING count(*) >= 2) g
     -- a probe per repeat caller (a join may hash every number ever seen)
     LEFT JOIN LATERAL (SELECT cl0.confidential FROM hotline.callers cl0
                        WHERE cl0.caller = g.caller OFFSET 0) cl ON true
     CROSS JOIN hotline.pseudonym_key k
ORDER BY g.calls DESC, g.last_call_at DESC, 2;
COMMENT ON VIEW hotline.repeat_callers IS 'Callers who called repeatedly in the last 7 days (masked; caller_ref to count them). Grouped by number, masked once per number (037).';
