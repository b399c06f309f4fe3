-- tests/sql/identifiers_test.sql - a confidential caller's number inside an
-- identifier (a call id, an order id, an event id, a department, an agent)
-- is masked in the administrators' views (sql/066), and whole for
-- hotline_privileged and in the base tables.  Run by scripts/sql-test.sh
-- after admin_test.sql, on its own rows (case ids 9001.. and numbers of
-- their own).

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET TimeZone = 'UTC';

DROP SCHEMA IF EXISTS hltest_ids CASCADE;
CREATE SCHEMA hltest_ids;
GRANT USAGE ON SCHEMA hltest_ids TO PUBLIC;
CREATE FUNCTION hltest_ids.eq(what text, got anyelement, want anyelement) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF got IS DISTINCT FROM want THEN
        RAISE EXCEPTION 'FAIL %: got [%], want [%]', what, got, want;
    END IF;
    RAISE NOTICE 'ok %', what;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA hltest_ids TO PUBLIC;
SET client_min_messages = notice;

-- F +8613512340009 is confidential; G +8613812340008 is not.
SET ROLE hotlined;
INSERT INTO hotline.callers (caller, confidential) VALUES ('+8613512340009', true), ('+8613812340008', false);
INSERT INTO hotline.cases (id, caller, status, opened_at, department)
VALUES (9001, '+8613512340009', 'open', now() - interval '3 hours', 'desk 135 1234 0009'),
       (9002, '+8613812340008', 'open', now() - interval '3 hours', 'roads');
INSERT INTO hotline.calls (call_id, case_id, caller, state, offered_at, agent) VALUES
 ('pbx-8613512340009-1', 9001, '+8613512340009', 'offered', now() - interval '3 hours', 'ext 13512340009'),
 ('pbx-8613812340008-1', 9002, '+8613812340008', 'offered', now() - interval '3 hours', 'alice');
INSERT INTO hotline.case_events (event_id, case_id, type, at, description, body) VALUES
 ('pbx:13512340009:1', 9001, 'call.offered', now() - interval '3 hours', 'call offered',
  '{"type":"call.offered","id":"pbx:13512340009:1","call_id":"pbx-8613512340009-1","caller":"+8613512340009"}'),
 ('pbx:13812340008:1', 9002, 'call.offered', now() - interval '3 hours', 'call offered',
  '{"type":"call.offered","id":"pbx:13812340008:1","call_id":"pbx-8613812340008-1","caller":"+8613812340008"}');
INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, dispatched_at, sign_due_at, due_at,
                            sign_state, reply_state)
VALUES ('wo-135-1234-0009', 9001, 1, 'desk 135 1234 0009', 'dispatched', now() - interval '3 hours',
        now() - interval '1 hour', now() + interval '1 day', 'breached', 'pending'),
       ('wo-13812340008', 9002, 1, 'roads', 'dispatched', now() - interval '3 hours',
        now() - interval '1 hour', now() + interval '1 day', 'breached', 'pending');
INSERT INTO hotline.alerts (kind, case_id, caller, level, raised_at, due_at, detail, dedupe_key, order_id, department,
                            acked_at, acked_by)
VALUES ('order_sign_overdue', 9001, '+8613512340009', 1, now() - interval '1 hour', now() - interval '1 hour',
        'not signed', 'ids:9001', 'wo-135-1234-0009', 'desk 135 1234 0009', now(), 'sup 13512340009');
RESET ROLE;

SET ROLE hotline_admin;
SELECT hltest_ids.eq('v_calls: the call id', (SELECT call_id FROM hotline.v_calls WHERE case_id = 9001),
                     'pbx-86135****00091');
SELECT hltest_ids.eq('v_calls: the agent', (SELECT agent FROM hotline.v_calls WHERE case_id = 9001), 'ext 135****0009');
SELECT hltest_ids.eq('v_calls: another caller''s id whole', (SELECT call_id FROM hotline.v_calls WHERE case_id = 9002),
                     'pbx-8613812340008-1');
SELECT hltest_ids.eq('v_case_events: the event id', (SELECT event_id FROM hotline.v_case_events WHERE case_id = 9001),
                     'pbx:135****0009:1');
SELECT hltest_ids.eq('case_history: the event id',
                     (SELECT event_id FROM hotline.case_history WHERE case_id = 9001 AND type = 'call.offered'),
                     'pbx:135****0009:1');
SELECT hltest_ids.eq('v_orders: order and department',
                     (SELECT order_id || ' / ' || department FROM hotline.v_orders WHERE case_id = 9001),
                     'wo-135****0009 / desk 135****0009');
SELECT hltest_ids.eq('v_orders: another order whole', (SELECT order_id FROM hotline.v_orders WHERE case_id = 9002),
                     'wo-13812340008');
SELECT hltest_ids.eq('overdue_orders: order and department',
                     (SELECT order_id || ' / ' || department FROM hotline.overdue_orders WHERE case_id = 9001),
                     'wo-135****0009 / desk 135****0009');
SELECT hltest_ids.eq('v_alerts: order, department, acked_by',
                     (SELECT order_id || ' / ' || department || ' / ' || acked_by FROM hotline.v_alerts
                      WHERE case_id = 9001),
                     'wo-135****0009 / desk 135****0009 / sup 135****0009');
SELECT hltest_ids.eq('no view shows the digits',
                     (SELECT count(*) FROM (
                         SELECT call_id || agent AS t FROM hotline.v_calls WHERE case_id = 9001
                         UNION ALL SELECT event_id FROM hotline.v_case_events WHERE case_id = 9001
                         UNION ALL SELECT order_id || department FROM hotline.v_orders WHERE case_id = 9001
                         UNION ALL SELECT order_id || department FROM hotline.overdue_orders WHERE case_id = 9001
                         UNION ALL SELECT order_id || department || acked_by FROM hotline.v_alerts WHERE case_id = 9001
                         UNION ALL SELECT event_id || coalesce(agent, '') FROM hotline.case_history WHERE case_id = 9001
                     ) x WHERE regexp_replace(t, '[^0-9]', '', 'g') LIKE '%13512340009%'), 0::bigint);
RESET ROLE;

SET ROLE hotline_privileged;
SELECT hltest_ids.eq('privileged: the call id whole', (SELECT call_id FROM hotline.v_calls WHERE case_id = 9001),
                     'pbx-8613512340009-1');
SELECT hltest_ids.eq('privileged: the order whole', (SELECT order_id FROM hotline.v_orders WHERE case_id = 9001),
                     'wo-135-1234-0009');
RESET ROLE;

-- the rows are left as they were
DELETE FROM hotline.alerts WHERE case_id IN (9001, 9002);
DELETE FROM hotline.orders WHERE case_id IN (9001, 9002);
DELETE FROM hotline.case_events WHERE case_id IN (9001, 9002);
DELETE FROM hotline.calls WHERE case_id IN (9001, 9002);
DELETE FROM hotline.clocks WHERE case_id IN (9001, 9002);
DELETE FROM hotline.cases WHERE id IN (9001, 9002);
DELETE FROM hotline.callers WHERE caller IN ('+8613512340009', '+8613812340008');
DROP SCHEMA hltest_ids CASCADE;
