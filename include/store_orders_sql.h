/*
 * store_orders_sql.h - the work-order statements of the store's batch
 * (CONTRACT.md 6), in the style of store_sql.h: keys as JSON arrays, rows as
 * json_to_recordset, one statement per table per batch.
 *
 * Load (same round trip as store_sql.h's loads):
 *   SQL_ORDER_CASES  the cases an order event reaches only through its
 *                    order_id, and the cases merged into the batch's cases,
 *                    named by id ($2) or reached through an order ($1), a
 *                    call ($3) or a caller ($4, a call offered in the same
 *                    batch joins its caller's open case): their callers are
 *                    owed a call back when it resolves, and order.reply and
 *                    call.ended resolve a case they do not name (sql/041
 *                    locks the same set).  $3 and $4 are only the calls a
 *                    call.ended "resolved" ends, and the callers of those
 *                    offered in the same batch (batch_keys.c).
 *                    Columns 0..20 are exactly SQL_CASES's; 21 is merged_into.
 *   SQL_ORDERS       of every case the batch touches, the orders the rules
 *                    can read (orders.c): the batch's own orders by id, every
 *                    order not replied (open ones: "still open", their clocks
 *                    stopped when the case closes, a fired timer's order;
 *                    returned ones: buck passing, the redispatch alert's
 *                    tag) and the case's highest-numbered order (the next
 *                    order_no).  A replied order is read by none of these
 *                    rules, and a case's history is mostly replied orders.
 * Write (after hotline.cases):
 *   SQL_W_ORDERS     new and changed orders.
 *   SQL_W_MERGES     merged_into of newly merged cases.
 *   SQL_W_ORDER_SURVEYS  the batch's survey.result events onto their cases'
 *                    orders (survey_at, survey_score; sql/033), only in a
 *                    batch that holds one.
 */
#ifndef HL_STORE_ORDERS_SQL_H
#define HL_STORE_ORDERS_SQL_H

#include "store_sql.h" /* SQL_CALLERS_OPEN_CASES */

static const char SQL_ORDER_CASES[] =
	"WITH o AS ("
	"  SELECT o.case_id AS id FROM hotline.orders o"
	"   WHERE o.order_id IN (SELECT jsonb_array_elements_text($1::jsonb))),"
	" ids AS ("
	"  SELECT id FROM o"
	"  UNION SELECT m.id FROM hotline.cases m"
	"   WHERE m.merged_into IN (SELECT x::bigint FROM jsonb_array_elements_text($2::jsonb) x"
	"    UNION SELECT id FROM o"
	"    UNION SELECT l.case_id FROM hotline.calls l"
	"     WHERE l.call_id IN (SELECT jsonb_array_elements_text($3::jsonb))"
	"    UNION " SQL_CALLERS_OPEN_CASES("$2", "$4") "))"
	"SELECT c.id, c.caller, c.status, hotline.ms(c.opened_at), hotline.ms(c.resolved_at),"
	"  hotline.ms(c.closed_at), hotline.ms(c.last_contact_at), hotline.ms(c.last_reached_at), hotline.ms(c.updated_at),"
	"  c.category, c.priority, c.department, c.queue, c.summary, c.resolution,"
	"  c.transfers, c.reopens, c.on_hold, hotline.ms(c.hold_since), c.held_ms, c.policy,"
	"  hotline.ms(c.last_hold_from), hotline.ms(c.last_hold_until),"
	"  (SELECT json_agg(json_build_array(k.kind, k.state, k.seq, hotline.ms(k.started_at),"
	"     hotline.ms(k.due_at), hotline.ms(k.warn_at), k.warned, k.allowed_ms, hotline.ms(k.paused_at),"
	"     k.remaining_ms, k.warn_remaining_ms, hotline.ms(k.met_at), hotline.ms(k.breached_at), k.calendar))"
	"   FROM hotline.clocks k WHERE k.case_id = c.id),"
	"  c.merged_into"
	" FROM hotline.cases c WHERE c.id IN (SELECT id FROM ids)";

#define HL_ORDER_COLS                                                                                         \
	" o.order_id, o.case_id, o.order_no, o.status, o.department, o.category, o.area, o.result, o.note,"        \
	"  o.return_reason, o.extend_reason, o.signed_by, hotline.ms(o.dispatched_at), hotline.ms(o.signed_at),"  \
	"  hotline.ms(o.returned_at), hotline.ms(o.replied_at), hotline.ms(o.due_at), hotline.ms(o.sign_due_at),"  \
	"  hotline.ms(o.extend_requested_at), hotline.ms(o.extend_until), o.extensions, o.extend_rejections,"      \
	"  o.sign_state, o.sign_seq, o.sign_allowed_ms, hotline.ms(o.sign_met_at), hotline.ms(o.sign_breached_at),"\
	"  o.reply_state, o.reply_seq, o.reply_allowed_ms, hotline.ms(o.reply_met_at),"                           \
	"  hotline.ms(o.reply_breached_at), o.calendar"

/* Three parts, each read through an index, never a case's replied history:
 * the unreplied orders (orders_unreplied, sql/029), the highest-numbered
 * order if it is replied (one step of orders_case_id_order_no_key), the
 * batch's own orders if replied (orders_pkey: an event naming a replied
 * order is refused naming its status).  `IN (SELECT ...)` is a hashed
 * subplan; `= ANY (ARRAY(...))` would scan the array once per row. */
static const char SQL_ORDERS[] =
	"WITH k AS MATERIALIZED ("
	"  SELECT x::bigint AS id FROM jsonb_array_elements_text($2::jsonb) x"
	"  UNION SELECT p.case_id FROM hotline.orders p"
	"   WHERE p.order_id IN (SELECT jsonb_array_elements_text($1::jsonb))"
	"  UNION SELECT m.id FROM hotline.cases m"
	"   WHERE m.merged_into IN (SELECT x::bigint FROM jsonb_array_elements_text($2::jsonb) x))"
	"SELECT" HL_ORDER_COLS " FROM hotline.orders o"
	" WHERE o.case_id IN (SELECT id FROM k) AND o.replied_at IS NULL"
	" UNION ALL SELECT" HL_ORDER_COLS " FROM k CROSS JOIN LATERAL (SELECT * FROM hotline.orders q"
	"  WHERE q.case_id = k.id ORDER BY q.order_no DESC LIMIT 1) o WHERE o.replied_at IS NOT NULL"
	" UNION ALL SELECT" HL_ORDER_COLS " FROM hotline.orders o"
	" WHERE o.order_id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND o.replied_at IS NOT NULL";

static const char SQL_W_ORDERS[] =
	"INSERT INTO hotline.orders AS t (order_id, case_id, order_no, department, status, category, area,"
	"  dispatched_at, signed_at, signed_by, returned_at, return_reason, replied_at, result, note, due_at,"
	"  sign_due_at, extend_requested_at, extend_until, extend_reason, extensions, extend_rejections,"
	"  sign_state, sign_seq, sign_allowed_ms, sign_met_at, sign_breached_at, reply_state, reply_seq,"
	"  reply_allowed_ms, reply_met_at, reply_breached_at, calendar)"
	" SELECT r.order_id, r.case_id, r.order_no, r.department, r.status, r.category, r.area,"
	"  hotline.from_ms(r.dispatched_at), hotline.from_ms(r.signed_at), r.signed_by,"
	"  hotline.from_ms(r.returned_at), r.return_reason, hotline.from_ms(r.replied_at), r.result, r.note,"
	"  hotline.from_ms(r.due_at), hotline.from_ms(r.sign_due_at), hotline.from_ms(r.extend_requested_at),"
	"  hotline.from_ms(r.extend_until), r.extend_reason, r.extensions, r.extend_rejections,"
	"  r.sign_state, r.sign_seq, r.sign_allowed_ms, hotline.from_ms(r.sign_met_at),"
	"  hotline.from_ms(r.sign_breached_at), r.reply_state, r.reply_seq, r.reply_allowed_ms,"
	"  hotline.from_ms(r.reply_met_at), hotline.from_ms(r.reply_breached_at), r.calendar"
	" FROM json_to_recordset($1::json) AS r(order_id text, case_id bigint, order_no int, department text,"
	"  status text, category text, area text, dispatched_at bigint, signed_at bigint, signed_by text,"
	"  returned_at bigint, return_reason text, replied_at bigint, result text, note text, due_at bigint,"
	"  sign_due_at bigint, extend_requested_at bigint, extend_until bigint, extend_reason text,"
	"  extensions int, extend_rejections int, sign_state text, sign_seq int, sign_allowed_ms bigint,"
	"  sign_met_at bigint, sign_breached_at bigint, reply_state text, reply_seq int, reply_allowed_ms bigint,"
	"  reply_met_at bigint, reply_breached_at bigint, calendar text)"
	" ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, signed_at = EXCLUDED.signed_at,"
	"  signed_by = EXCLUDED.signed_by, returned_at = EXCLUDED.returned_at,"
	"  return_reason = EXCLUDED.return_reason, replied_at = EXCLUDED.replied_at, result = EXCLUDED.result,"
	"  note = EXCLUDED.note, due_at = EXCLUDED.due_at, sign_due_at = EXCLUDED.sign_due_at,"
	"  extend_requested_at = EXCLUDED.extend_requested_at, extend_until = EXCLUDED.extend_until,"
	"  extend_reason = EXCLUDED.extend_reason, extensions = EXCLUDED.extensions,"
	"  extend_rejections = EXCLUDED.extend_rejections, sign_state = EXCLUDED.sign_state,"
	"  sign_seq = EXCLUDED.sign_seq, sign_allowed_ms = EXCLUDED.sign_allowed_ms,"
	"  sign_met_at = EXCLUDED.sign_met_at, sign_breached_at = EXCLUDED.sign_breached_at,"
	"  reply_state = EXCLUDED.reply_state, reply_seq = EXCLUDED.reply_seq,"
	"  reply_allowed_ms = EXCLUDED.reply_allowed_ms, reply_met_at = EXCLUDED.reply_met_at,"
	"  reply_breached_at = EXCLUDED.reply_breached_at, updated_at = now()"
	/* an order id is one case's order for good: a row of another case (a
	 * race the batch locks did not order, or a bug) fails the batch, which
	 * is bisected and retried, instead of being written over (sql/046) */
	" WHERE (t.case_id = EXCLUDED.case_id AND t.order_no = EXCLUDED.order_no)"
	"  OR hotline.order_case_kept(t.order_id, t.case_id, t.order_no, EXCLUDED.case_id, EXCLUDED.order_no)";

static const char SQL_W_MERGES[] =
	"UPDATE hotline.cases AS c SET merged_into = r.merged_into"
	" FROM json_to_recordset($1::json) AS r(case_id bigint, merged_into bigint) WHERE c.id = r.case_id";

/* After SQL_W_ORDERS (an order dispatched in the same batch is counted):
 * hotline.record_surveys keeps on each order the case's latest survey at or
 * after its dispatch, the one department_monthly counts. */
static const char SQL_W_ORDER_SURVEYS[] = "SELECT hotline.record_surveys($1::jsonb)";

/* An order that was answered, returned, given a new deadline or whose case
 * closed is no longer urged: its open overdue alert stops escalating (it
 * stays open until acknowledged).  Runs after the alert statements. */
static const char SQL_W_ORDER_URGE_STOP[] =
	"UPDATE hotline.alerts AS a SET escalate_at = NULL"
	" FROM json_to_recordset($1::json) AS r(order_id text, sign_done boolean, reply_done boolean)"
	" WHERE a.order_id = r.order_id AND a.acked_at IS NULL AND a.escalate_at IS NOT NULL"
	"  AND ((a.kind = 'order_sign_overdue' AND r.sign_done) OR (a.kind = 'order_reply_overdue' AND r.reply_done))";

/* Hotspots (hotspot.h): the key values of the batch's cases and of recent
 * cases sharing a value with the batch's events; the keys alerted recently. */
/* The hotspot rows the rules can read (hotspot.c): those of every case an
 * event that classifies it reaches ($1 by id, $2 through a stored call, $7
 * as its caller's open case: batch_keys.c's hot_cases, hot_calls and
 * hot_callers), and
 * the window's rows whose key the batch can form.  A key's field comes from
 * an event of the batch or from the case as stored, so a row is loaded only
 * if, on every field of hotspot.key, its value is one of the batch's ($3,
 * $4, $5; NULL: not a key field) or one a reached case holds.  Matching on
 * any one field instead returned most of a busy window (1,300-1,600 rows a
 * batch of 256 in make bench): every case of the same category. */
static const char SQL_HOTSPOT_CASES[] =
	"WITH reach AS ("
	"  SELECT x::bigint AS id FROM jsonb_array_elements_text($1::jsonb) x"
	"  UNION SELECT l.case_id FROM hotline.calls l"
	"        WHERE l.call_id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))"
	"  UNION " SQL_CALLERS_OPEN_CASES("$1", "$7") "),"
	" own AS MATERIALIZED (SELECT h.* FROM hotline.hotspot_cases h WHERE h.case_id IN (SELECT id FROM reach)),"
	" known AS MATERIALIZED (SELECT c.category, c.department, o.area FROM hotline.cases c"
	"   LEFT JOIN own o ON o.case_id = c.id WHERE c.id IN (SELECT id FROM reach))"
	"SELECT case_id, category, area, department, hotline.ms(at) AS at FROM own"
	" UNION SELECT h.case_id, h.category, h.area, h.department, hotline.ms(h.at) FROM hotline.hotspot_cases h"
	" WHERE h.at > hotline.from_ms($6::bigint)"
	"  AND ($3::jsonb IS NULL OR h.category = ANY (ARRAY("
	"        SELECT jsonb_array_elements_text($3::jsonb) UNION SELECT category FROM known)))"
	"  AND ($4::jsonb IS NULL OR h.area = ANY (ARRAY("
	"        SELECT jsonb_array_elements_text($4::jsonb) UNION SELECT area FROM known)))"
	"  AND ($5::jsonb IS NULL OR h.department = ANY (ARRAY("
	"        SELECT jsonb_array_elements_text($5::jsonb) UNION SELECT department FROM known)))";

static const char SQL_HOTSPOTS[] =
	"SELECT key, hotline.ms(alerted_at) FROM hotline.hotspots WHERE alerted_at > hotline.from_ms($1::bigint)";

static const char SQL_W_HOTSPOT_CASES[] =
	"INSERT INTO hotline.hotspot_cases AS t (case_id, category, area, department, at)"
	" SELECT r.case_id, r.category, r.area, r.department, hotline.from_ms(r.at)"
	" FROM json_to_recordset($1::json) AS r(case_id bigint, category text, area text, department text, at bigint)"
	" ON CONFLICT (case_id) DO UPDATE SET category = EXCLUDED.category, area = EXCLUDED.area,"
	"  department = EXCLUDED.department, at = EXCLUDED.at";

static const char SQL_W_HOTSPOTS[] =
	"INSERT INTO hotline.hotspots AS t (key, alerted_at)"
	" SELECT r.key, hotline.from_ms(r.alerted_at) FROM json_to_recordset($1::json) AS r(key text, alerted_at bigint)"
	" ON CONFLICT (key) DO UPDATE SET alerted_at = EXCLUDED.alerted_at";

/* The startup COPY's order part: (timer id, timer kind, seq, due ms) of every pending order clock.
 * A sign owed implies a reply owed: the added condition lets it read orders_reply_owed (sql/029). */
#define SQL_PENDING_ORDER_CLOCKS(sign_kind, reply_kind)                                                      \
	" UNION ALL SELECT case_id * 1024 + order_no, " #sign_kind ", sign_seq, hotline.ms(sign_due_at)"        \
	"  FROM hotline.orders WHERE sign_state = 'pending' AND reply_state IN ('pending', 'breached')"         \
	" UNION ALL SELECT case_id * 1024 + order_no, " #reply_kind ", reply_seq, hotline.ms(due_at)"           \
	"  FROM hotline.orders WHERE reply_state = 'pending'"

#endif
