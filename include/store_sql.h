/*
 * store_sql.h - every SQL statement the store issues, in one place.
 *
 * Included by daemon/store.c and by the `make bench` limit baseline
 * (tests/bench/limit.c), so the baseline always runs exactly the daemon's
 * statements.  Keys are passed as JSON arrays and rows as JSON arrays of
 * objects: one statement per table per batch, never one per event.  Flat
 * rows are read with json_to_recordset, not jsonb_to_recordset: the text is
 * lexed once and each field taken as it passes, where jsonb first builds the
 * whole binary tree and then looks every column up in it (1,000 rows of
 * eight columns: 2.5-2.9 ms against 4.2-5.0 ms, PostgreSQL 15).  The events'
 * insert keeps jsonb: its body is a nested value stored as jsonb, taken out
 * of the tree without a second parse.  Timestamps cross as milliseconds since the epoch
 * (hotline.ms / hotline.from_ms).  All parameters are bound, never spliced.
 */
#ifndef HL_STORE_SQL_H
#define HL_STORE_SQL_H

/* ---- load: what a batch touches */

/* the idempotency keys live in hotline.event_ids (sql/021): one global
 * unique index, whatever the months case_events is partitioned into.  For
 * an id found (a duplicate: rare) the stored event's type and order_id, so
 * that the duplicate is answered with the order the event named, not with
 * its own body's (by the case's index; NULL when retention dropped it). */
static const char SQL_SEEN[] =
	"SELECT e.event_id, COALESCE(e.case_id, 0) AS case_id, s.type AS stored_type, s.order_id AS stored_order_id "
	"FROM hotline.event_ids e LEFT JOIN LATERAL ("
	"  SELECT ce.type, ce.body->>'order_id' AS order_id FROM hotline.case_events ce"
	"  WHERE ce.case_id = e.case_id AND ce.event_id = e.event_id LIMIT 1) s ON true "
	"WHERE e.event_id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))";

/* The open cases of the callers in JSON array `callers` that a batch can
 * reach (SQL_CASES's comment says why these), given the case ids it names
 * in JSON array `cases`: one column, id.  Shared with SQL_HOTSPOT_CASES,
 * which must see every case the rules can touch. */
#define SQL_CALLERS_OPEN_CASES(cases, callers)                                                          \
	"SELECT o.id FROM jsonb_array_elements_text(" callers "::jsonb) x CROSS JOIN LATERAL ("           \
	"  SELECT c.id FROM hotline.cases c WHERE c.caller = x AND c.status <> 'closed'"                  \
	"  ORDER BY c.opened_at DESC, c.id DESC"                                                           \
	"  LIMIT 1 + (SELECT count(*) FROM hotline.cases n"                                                \
	"             WHERE n.id = ANY (ARRAY(SELECT y::bigint FROM jsonb_array_elements_text(" cases "::jsonb) y))" \
	"               AND n.caller = x AND n.status <> 'closed')) o"

static const char SQL_CASES[] =
	"WITH ids AS ("
	"  SELECT x::bigint AS id FROM jsonb_array_elements_text($1::jsonb) x"
	"  UNION SELECT l.case_id FROM hotline.calls l"
	"        WHERE l.call_id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))"
	/* the caller's newest cases that are not closed, not only the newest
	 * one: an event earlier in the batch may close it, and the rules must
	 * then find the next one, as a later batch would (issue 16, item 15).
	 * Only a case.close closes, and it names its case (in $1), so k of the
	 * caller's open cases named in the batch need at most k + 1 of them;
	 * a number shared by many callers (withheld, switchboard) with
	 * thousands of open cases still loads only those. */
	"  UNION " SQL_CALLERS_OPEN_CASES("$1", "$3") ")"
	"SELECT c.id, c.caller, c.status, hotline.ms(c.opened_at) AS opened_at, hotline.ms(c.resolved_at) AS resolved_at,"
	"  hotline.ms(c.closed_at) AS closed_at, hotline.ms(c.last_contact_at) AS last_contact_at,"
	"  hotline.ms(c.last_reached_at) AS last_reached_at,"
	"  hotline.ms(c.updated_at) AS updated_at,"
	"  c.category, c.priority, c.department, c.queue, c.summary, c.resolution,"
	"  c.transfers, c.reopens, c.on_hold, hotline.ms(c.hold_since) AS hold_since, c.held_ms, c.policy,"
	"  hotline.ms(c.last_hold_from) AS last_hold_from, hotline.ms(c.last_hold_until) AS last_hold_until,"
	"  (SELECT json_agg(json_build_array(k.kind, k.state, k.seq, hotline.ms(k.started_at),"
	"     hotline.ms(k.due_at), hotline.ms(k.warn_at), k.warned, k.allowed_ms, hotline.ms(k.paused_at),"
	"     k.remaining_ms, k.warn_remaining_ms, hotline.ms(k.met_at), hotline.ms(k.breached_at), k.calendar))"
	"   FROM hotline.clocks k WHERE k.case_id = c.id) AS clocks"
	" FROM hotline.cases c WHERE c.id IN (SELECT id FROM ids WHERE id IS NOT NULL)";

static const char SQL_CALLS[] =
	"SELECT call_id, case_id, caller, state, inbound, hotline.ms(offered_at) AS offered_at,"
	"  hotline.ms(answered_at) AS answered_at, hotline.ms(ended_at) AS ended_at, queue, agent, outcome"
	" FROM hotline.calls "
	"WHERE call_id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))";

static const char SQL_CALLERS[] =
	"WITH cl AS ("
	"  SELECT x AS caller FROM jsonb_array_elements_text($1::jsonb) x"
	"  UNION SELECT c.caller FROM hotline.cases c"
	"        WHERE c.id = ANY (ARRAY(SELECT x::bigint FROM jsonb_array_elements_text($2::jsonb) x))"
	"  UNION SELECT l.caller FROM hotline.calls l"
	"        WHERE l.call_id = ANY (ARRAY(SELECT jsonb_array_elements_text($3::jsonb))))"
	/* only the calls the repeat-caller count can still see: inside the
	 * window and after the oldest crossing it keeps (rules_alerts.c
	 * count_inbound never counts a call at or before repeat_floor, and a
	 * late call re-follows the chain from the last crossing before it,
	 * sql/082; a caller without one since 082: after its last alert).  At
	 * most about HL_REPEAT_KEEP (2) x threshold calls, however many the caller made: the
	 * cost of a number that calls all day stays flat (issue 15). */
	"SELECT r.caller, r.confidential, hotline.ms(r.repeat_alerted_at) AS repeat_alerted_at,"
	"  hotline.ms(r.repeat_floor) AS repeat_floor,"
	"  CASE WHEN r.repeat_crossings IS NOT NULL"
	"   THEN ARRAY(SELECT hotline.ms(x) FROM unnest(r.repeat_crossings) x ORDER BY x)::text END AS repeat_crossings,"
	"  ARRAY(SELECT hotline.ms(l.offered_at) FROM hotline.calls l WHERE l.caller = r.caller AND l.inbound"
	"        AND l.offered_at > GREATEST(hotline.from_ms($4::bigint), r.repeat_floor,"
	"                                    CASE WHEN r.repeat_crossings IS NULL THEN r.repeat_alerted_at END)"
	"        ORDER BY l.offered_at)::text AS recent_calls"
	" FROM hotline.callers r WHERE r.caller IN (SELECT caller FROM cl)";

static const char SQL_ALERTS[] =
	"SELECT id, kind, COALESCE(case_id, 0) AS case_id, caller, level, hotline.ms(raised_at) AS raised_at,"
	"  hotline.ms(due_at) AS due_at, hotline.ms(escalate_at) AS escalate_at, hotline.ms(acked_at) AS acked_at,"
	"  acked_by, dedupe_key, detail FROM hotline.alerts "
	"WHERE id = ANY (ARRAY(SELECT x::bigint FROM jsonb_array_elements_text($1::jsonb) x))";

static const char SQL_IDS[] =
	"SELECT nextval('hotline.cases_id_seq') AS id FROM generate_series(1, $1::int)";

/* ---- write: every row the rules changed, then COMMIT at the pipeline's Sync */

/* Rows the batch created ("new": true) are plain INSERTs, the others
 * upserts: a speculative insert (ON CONFLICT) writes a second WAL record per
 * row (HEAP_CONFIRM), which a row nobody else can have created does not need
 * (a new caller is held by the batch's lock, a new case's id comes from the
 * sequence; sql/022, docs/explain.md).  A row without "new" is upserted. */
static const char SQL_W_CALLERS[] =
	"WITH r AS (SELECT r.caller, r.confidential, hotline.from_ms(r.repeat_alerted_at) AS repeat_alerted_at,"
	"  hotline.from_ms(r.repeat_floor) AS repeat_floor,"
	"  CASE WHEN r.repeat_crossings IS NOT NULL THEN"
	"   ARRAY(SELECT hotline.from_ms(x::bigint) FROM json_array_elements_text(r.repeat_crossings) x) END"
	"   AS repeat_crossings,"
	"  coalesce(r.new, false) AS new"
	" FROM json_to_recordset($1::json) AS r(caller text, confidential boolean, repeat_alerted_at bigint,"
	"  repeat_floor bigint, repeat_crossings json, new boolean)),"
	" ins AS (INSERT INTO hotline.callers (caller, confidential, repeat_alerted_at, repeat_floor, repeat_crossings)"
	"  SELECT caller, confidential, repeat_alerted_at, repeat_floor, repeat_crossings FROM r WHERE new)"
	" INSERT INTO hotline.callers AS t (caller, confidential, repeat_alerted_at, repeat_floor, repeat_crossings)"
	" SELECT caller, confidential, repeat_alerted_at, repeat_floor, repeat_crossings FROM r WHERE NOT new"
	" ON CONFLICT (caller) DO UPDATE SET confidential = EXCLUDED.confidential,"
	"   repeat_alerted_at = EXCLUDED.repeat_alerted_at, repeat_floor = EXCLUDED.repeat_floor,"
	"   repeat_crossings = EXCLUDED.repeat_crossings";

static const char SQL_W_CASES[] =
	"WITH r AS (SELECT r.id, r.caller, r.status, hotline.from_ms(r.opened_at) AS opened_at,"
	"  hotline.from_ms(r.resolved_at) AS resolved_at, hotline.from_ms(r.closed_at) AS closed_at,"
	"  hotline.from_ms(r.last_contact_at) AS last_contact_at, hotline.from_ms(r.last_reached_at) AS last_reached_at,"
	"  hotline.from_ms(r.updated_at) AS updated_at,"
	"  r.category, r.priority, r.department, r.queue, r.summary, r.resolution, r.transfers, r.reopens,"
	"  r.on_hold, hotline.from_ms(r.hold_since) AS hold_since, r.held_ms, r.policy, coalesce(r.new, false) AS new,"
	"  hotline.from_ms(r.last_hold_from) AS last_hold_from, hotline.from_ms(r.last_hold_until) AS last_hold_until"
	" FROM json_to_recordset($1::json) AS r(id bigint, caller text, status text, opened_at bigint,"
	"  resolved_at bigint, closed_at bigint, last_contact_at bigint, last_reached_at bigint, updated_at bigint, category text,"
	"  priority text, department text, queue text, summary text, resolution text, transfers int,"
	"  reopens int, on_hold boolean, hold_since bigint, held_ms bigint, policy text, new boolean,"
	"  last_hold_from bigint, last_hold_until bigint)),"
	" ins AS (INSERT INTO hotline.cases (id, caller, status, opened_at, resolved_at, closed_at, last_contact_at,"
	"  last_reached_at, updated_at, category, priority, department, queue, summary, resolution, transfers, reopens, on_hold,"
	"  hold_since, held_ms, policy, last_hold_from, last_hold_until)"
	"  SELECT id, caller, status, opened_at, resolved_at, closed_at, last_contact_at, last_reached_at, updated_at, category,"
	"  priority, department, queue, summary, resolution, transfers, reopens, on_hold, hold_since, held_ms,"
	"  policy, last_hold_from, last_hold_until FROM r WHERE new)"
	" INSERT INTO hotline.cases AS t (id, caller, status, opened_at, resolved_at, closed_at, last_contact_at,"
	"  last_reached_at, updated_at, category, priority, department, queue, summary, resolution, transfers, reopens, on_hold,"
	"  hold_since, held_ms, policy, last_hold_from, last_hold_until)"
	" SELECT id, caller, status, opened_at, resolved_at, closed_at, last_contact_at, last_reached_at, updated_at, category,"
	"  priority, department, queue, summary, resolution, transfers, reopens, on_hold, hold_since, held_ms,"
	"  policy, last_hold_from, last_hold_until FROM r WHERE NOT new"
	" ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, resolved_at = EXCLUDED.resolved_at,"
	"  closed_at = EXCLUDED.closed_at, last_contact_at = EXCLUDED.last_contact_at,"
	"  last_reached_at = EXCLUDED.last_reached_at,"
	"  updated_at = EXCLUDED.updated_at, category = EXCLUDED.category, priority = EXCLUDED.priority,"
	"  department = EXCLUDED.department, queue = EXCLUDED.queue, summary = EXCLUDED.summary,"
	"  resolution = EXCLUDED.resolution, transfers = EXCLUDED.transfers, reopens = EXCLUDED.reopens,"
	"  on_hold = EXCLUDED.on_hold, hold_since = EXCLUDED.hold_since, held_ms = EXCLUDED.held_ms,"
	"  policy = EXCLUDED.policy, last_hold_from = EXCLUDED.last_hold_from,"
	"  last_hold_until = EXCLUDED.last_hold_until";

/* A call the batch created is plainly inserted like a new case (no
 * HEAP_CONFIRM record).  Its id is not among the batch's locks, but its
 * caller is: the same call offered twice from one number waits for the
 * first batch and loads its row.  Offered from two numbers on two daemons at
 * once, the second INSERT fails on calls_pkey; the batch is bisected and the
 * retry loads the call the first committed (store.c) - where an upsert would
 * have rewritten that call under the other case. */
static const char SQL_W_CALLS[] =
	"WITH r AS (SELECT r.call_id, r.case_id, r.caller, r.state, r.inbound,"
	"  hotline.from_ms(r.offered_at) AS offered_at, hotline.from_ms(r.answered_at) AS answered_at,"
	"  hotline.from_ms(r.ended_at) AS ended_at, r.queue, r.agent, r.outcome, coalesce(r.new, false) AS new"
	" FROM json_to_recordset($1::json) AS r(call_id text, case_id bigint, caller text, state text,"
	"  inbound boolean, offered_at bigint, answered_at bigint, ended_at bigint, queue text, agent text,"
	"  outcome text, new boolean)),"
	" ins AS (INSERT INTO hotline.calls (call_id, case_id, caller, state, inbound, offered_at, answered_at,"
	"  ended_at, queue, agent, outcome)"
	"  SELECT call_id, case_id, caller, state, inbound, offered_at, answered_at, ended_at, queue, agent,"
	"  outcome FROM r WHERE new)"
	" INSERT INTO hotline.calls AS t (call_id, case_id, caller, state, inbound, offered_at, answered_at,"
	"  ended_at, queue, agent, outcome)"
	" SELECT call_id, case_id, caller, state, inbound, offered_at, answered_at, ended_at, queue, agent,"
	"  outcome FROM r WHERE NOT new"
	" ON CONFLICT (call_id) DO UPDATE SET state = EXCLUDED.state, answered_at = EXCLUDED.answered_at,"
	"  ended_at = EXCLUDED.ended_at, queue = EXCLUDED.queue, agent = EXCLUDED.agent,"
	"  outcome = EXCLUDED.outcome";

/* The clock row holds the current run; hotline.clock_runs_done keeps the
 * runs a newer run replaced (sql/022), written in the same statement when a
 * clock's seq moves on: the run as it was last written, read before the
 * upsert (every CTE sees the same snapshot).  A run still current costs no
 * second row (hotline.clock_runs, a view, shows it from hotline.clocks). */
static const char SQL_W_CLOCKS[] =
	"WITH r AS ("
	" SELECT r.case_id, r.kind, r.state, r.seq, hotline.from_ms(r.started_at) AS started_at,"
	"  hotline.from_ms(r.due_at) AS due_at, hotline.from_ms(r.warn_at) AS warn_at, r.warned, r.allowed_ms,"
	"  hotline.from_ms(r.paused_at) AS paused_at, r.remaining_ms, r.warn_remaining_ms,"
	"  hotline.from_ms(r.met_at) AS met_at, hotline.from_ms(r.breached_at) AS breached_at, r.calendar,"
	"  coalesce(r.new, false) AS new"
	" FROM json_to_recordset($1::json) AS r(case_id bigint, kind text, state text, seq int,"
	"  started_at bigint, due_at bigint, warn_at bigint, warned boolean, allowed_ms bigint,"
	"  paused_at bigint, remaining_ms bigint, warn_remaining_ms bigint, met_at bigint,"
	"  breached_at bigint, calendar text, new boolean)),"
	" ins AS ("
	" INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, warn_at, warned,"
	"  allowed_ms, paused_at, remaining_ms, warn_remaining_ms, met_at, breached_at, calendar)"
	" SELECT case_id, kind, state, seq, started_at, due_at, warn_at, warned, allowed_ms, paused_at,"
	"  remaining_ms, warn_remaining_ms, met_at, breached_at, calendar FROM r WHERE new),"
	" replaced AS ("
	" SELECT k.case_id, k.kind, k.seq, k.state, k.started_at, k.due_at, k.allowed_ms, k.met_at, k.breached_at"
	" FROM hotline.clocks k JOIN r ON k.case_id = r.case_id AND k.kind = r.kind AND k.seq <> r.seq"
	" WHERE NOT r.new),"
	" up AS ("
	" INSERT INTO hotline.clocks AS t (case_id, kind, state, seq, started_at, due_at, warn_at, warned,"
	"  allowed_ms, paused_at, remaining_ms, warn_remaining_ms, met_at, breached_at, calendar)"
	" SELECT case_id, kind, state, seq, started_at, due_at, warn_at, warned, allowed_ms, paused_at,"
	"  remaining_ms, warn_remaining_ms, met_at, breached_at, calendar FROM r WHERE NOT new"
	" ON CONFLICT (case_id, kind) DO UPDATE SET state = EXCLUDED.state, seq = EXCLUDED.seq,"
	"  started_at = EXCLUDED.started_at, due_at = EXCLUDED.due_at, warn_at = EXCLUDED.warn_at,"
	"  warned = EXCLUDED.warned, allowed_ms = EXCLUDED.allowed_ms, paused_at = EXCLUDED.paused_at,"
	"  remaining_ms = EXCLUDED.remaining_ms, warn_remaining_ms = EXCLUDED.warn_remaining_ms,"
	"  met_at = EXCLUDED.met_at, breached_at = EXCLUDED.breached_at, calendar = EXCLUDED.calendar)"
	" INSERT INTO hotline.clock_runs_done AS cr (case_id, kind, seq, state, started_at, due_at, allowed_ms,"
	"  met_at, breached_at)"
	" SELECT * FROM replaced"
	" ON CONFLICT (case_id, kind, seq) DO UPDATE SET state = EXCLUDED.state,"
	"  started_at = EXCLUDED.started_at, due_at = EXCLUDED.due_at, allowed_ms = EXCLUDED.allowed_ms,"
	"  met_at = EXCLUDED.met_at, breached_at = EXCLUDED.breached_at, updated_at = now()";

/* The clocks of a batch of timers alone (store_write.c timers_only): a fire
 * (hl_rules_clock_fire) changes a pending run's state, warned and
 * breached_at and nothing else, never its seq, so it needs neither the
 * upsert's speculative insert nor the replaced run's read, and six fields a
 * row instead of sixteen (512 clocks: 3.8-3.9 ms against 6.1-7.7 ms,
 * EXPLAIN ANALYZE on the bench cluster; docs/write-cost.md).  The seq is
 * checked: the batch loaded the run under its lock, and a run restarted
 * behind that lock's back is not marked breached. */
static const char SQL_W_CLOCK_FIRES[] =
	"UPDATE hotline.clocks AS k SET state = r.state, warned = r.warned,"
	" breached_at = hotline.from_ms(r.breached_at)"
	" FROM json_to_recordset($1::json) AS r(case_id bigint, kind text, seq int, state text, warned boolean,"
	"  breached_at bigint)"
	" WHERE k.case_id = r.case_id AND k.kind = r.kind AND k.seq = r.seq";

/* The body is stored as received, "id" and "type" included (CONTRACT 5;
 * sql/053 undid 026's packing).  The body comes as the request's JSON value
 * inside the array (store_write.c), parsed once with it.  An order.reply's
 * body carries "case_resolved": true when the rules resolved its case with
 * it, what the figures count (sql/045); a sender's own key of that name is
 * dropped. */
static const char SQL_W_EVENTS[] =
	"INSERT INTO hotline.case_events (event_id, case_id, type, at, received_at, description, body)"
	" SELECT r.event_id, NULLIF(r.case_id, 0), r.type, hotline.from_ms(r.at), hotline.from_ms(r.received_at),"
	"  r.description, CASE WHEN r.type = 'order.reply' AND jsonb_typeof(r.body) = 'object'"
	"   THEN (r.body - 'case_resolved')"
	"    || CASE WHEN r.case_resolved THEN '{\"case_resolved\": true}'::jsonb ELSE '{}'::jsonb END"
	"   ELSE r.body END"
	" FROM jsonb_to_recordset($1::jsonb) AS r(event_id text, case_id bigint, type text,"
	"  at bigint, received_at bigint, description text, body jsonb, case_resolved boolean, n int) ORDER BY r.n";

/* The figures' rollup (sql/023, 031), exact in the batch's own transaction:
 * the first write counts the facts of the rows the batch may change - its
 * cases ($1, JSON array of ids), its new calls' callers' ($2) calls offered
 * since $3 (ms; the earliest new call: a new call changes the repeat flag of
 * the next), and what $4 names (the calls, case rows, resolution runs,
 * callback clocks and figure events it writes; store_write.c figure_hints) -
 * the last write counts them again and adds (now - before) to
 * hotline.figure_rollup. */
static const char SQL_W_FIGURES_BEFORE[] =
	"SELECT hotline.figures_before($1::jsonb, $2::jsonb, $3::bigint, $4::jsonb)";
static const char SQL_W_FIGURES_AFTER[] = "SELECT hotline.figures_after()";

/* New alerts: inserted unless their dedupe key exists (exactly once).  The
 * daemon renders each alert's JSON (r.j: all but the id, which the sequence
 * gives here, byte for byte as hotline.alert_json; store_write.c): no
 * alert_json() per row (sql/032).  The NOTIFY payload is that text, masked
 * by hotline.notify_masked when the caller is confidential as
 * hotline.callers says at this statement, or its detail masked
 * (notify_detail_masked) when a confidential caller's case was merged into
 * the alert's case (hotline.case_confidentiality, sql/050): the rule of
 * notify_payload(), read in a join instead of notify_payload()'s function
 * call and subquery per row.  Only rows actually inserted come back, in id order,
 * each with its place in the rows sent (n), not its text: the daemon keeps
 * the text it sent and puts the id before it (store_write.c), and "masked"
 * is NULL when it is that text unchanged (not confidential).  Sending each
 * alert's text back twice was ~250 kB of a due batch of 480 alerts for the
 * server to format, the socket to carry and libpq to copy. */
static const char SQL_W_ALERTS_NEW[] =
	"WITH r AS MATERIALIZED ("
	" SELECT nextval('hotline.alerts_id_seq') AS id, s.* FROM ("
	"  SELECT * FROM json_to_recordset($1::json) AS r(kind text, case_id bigint, caller text,"
	"   level int, raised_at bigint, due_at bigint, escalate_at bigint, detail text, dedupe_key text, n int,"
	"   order_id text, department text, j text)"
	"  ORDER BY r.n) s),"
	" ins AS ("
	" INSERT INTO hotline.alerts AS a (id, kind, case_id, caller, level, raised_at, due_at, escalate_at,"
	"  detail, dedupe_key, order_id, department)"
	" SELECT r.id, r.kind, NULLIF(r.case_id, 0), r.caller, r.level, hotline.from_ms(r.raised_at),"
	"  hotline.from_ms(r.due_at), hotline.from_ms(r.escalate_at), r.detail, r.dedupe_key,"
	"  r.order_id, r.department"
	" FROM r ORDER BY r.id"
	" ON CONFLICT (dedupe_key) DO NOTHING"
	" RETURNING a.id, a.level),"
	/* the webhook deliveries ($2: JSON array of URLs), durable with the alert (sql/019) */
	" wh AS (INSERT INTO hotline.webhook_deliveries (alert_id, level, url)"
	"  SELECT ins.id, ins.level, u FROM ins, jsonb_array_elements_text($2::jsonb) u ON CONFLICT DO NOTHING),"
	" t AS (SELECT r.id, r.kind, r.escalate_at AS esc, r.n, '{\"id\":' || r.id || ',' || r.j AS j, r.caller, r.detail,"
	"  coalesce(cl.confidential, false) AS confidential, coalesce(cf.confidential, false) AS case_confidential"
	"  FROM ins JOIN r ON r.id = ins.id"
	"  LEFT JOIN hotline.callers cl ON cl.caller = r.caller"
	"  LEFT JOIN hotline.case_confidentiality cf ON cf.case_id = r.case_id)"
	/* the masked text once per alert: NOTIFY and the reply share it */
	" SELECT id, kind, esc, n, pg_notify('hotline_alert', m.masked), NULLIF(m.masked, t.j) AS masked"
	" FROM t CROSS JOIN LATERAL (SELECT CASE WHEN t.confidential THEN hotline.notify_masked(t.j, t.caller)"
	"  WHEN t.case_confidential THEN hotline.notify_detail_masked(t.j)"
	/* a confidential number copied into another case's text (sql/054): only
	 * a detail with a run of 9 digits is looked at (most quote none) */
	"  WHEN hotline.may_quote_number(t.detail) THEN hotline.notify_known_masked(t.j)"
	"  ELSE t.j END AS masked) m"
	" ORDER BY id";

/* Acknowledgements and escalations; an escalation only if still unacknowledged
 * and at the level the rules saw (a supervisor may have acked in SQL). */
static const char SQL_W_ALERTS_UPD[] =
	"WITH upd AS ("
	" UPDATE hotline.alerts AS a SET"
	"  level = CASE WHEN r.escalated THEN r.level ELSE a.level END,"
	"  escalated_at = CASE WHEN r.escalated THEN hotline.from_ms(r.now) ELSE a.escalated_at END,"
	"  escalate_at = CASE WHEN a.acked_at IS NULL THEN hotline.from_ms(r.escalate_at) END,"
	"  acked_at = COALESCE(a.acked_at, hotline.from_ms(r.acked_at)),"
	"  acked_by = COALESCE(a.acked_by, r.acked_by)"
	" FROM json_to_recordset($1::json) AS r(id bigint, level int, escalate_at bigint, acked_at bigint,"
	"  acked_by text, escalated boolean, now bigint)"
	" WHERE a.id = r.id AND (NOT r.escalated OR (a.acked_at IS NULL AND a.level = r.level - 1))"
	" RETURNING a.id, a.kind, a.caller, hotline.ms(a.escalate_at) AS esc, hotline.alert_json(a) AS j,"
	"  r.escalated, a.level),"
	" wh AS (INSERT INTO hotline.webhook_deliveries (alert_id, level, url)"
	"  SELECT upd.id, upd.level, u FROM upd, jsonb_array_elements_text($2::jsonb) u WHERE upd.escalated"
	"  ON CONFLICT DO NOTHING)"
	/* the masked text once per row (it probes the caller): NOTIFY and the reply share it */
	" SELECT id, kind, esc, j, escalated,"
	"  CASE WHEN escalated THEN pg_notify('hotline_alert', m.masked)"
	/* not escalated = acknowledged (store_write.c): the other daemons' watchers
	 * take it down too, as after hotline.ack_alert in psql (sql/008) */
	"  ELSE pg_notify('hotline_alert_ack', m.masked) END, m.masked"
	" FROM upd CROSS JOIN LATERAL (SELECT hotline.notify_payload(upd.j, upd.caller) AS masked) m";

/* Webhook deliveries done (delivered or given up): $1 = [{alert_id, level, url}]. */
static const char SQL_W_WEBHOOKS_DONE[] =
	"DELETE FROM hotline.webhook_deliveries d"
	" USING json_to_recordset($1::json) AS r(alert_id bigint, level int, url text)"
	" WHERE d.alert_id = r.alert_id AND d.level = r.level AND d.url = r.url";

/* At start: the deliveries left undone, rendered as at the alert's commit
 * (a row whose alert has escalated since is superseded by the newer level's),
 * but not those a live daemon is sending (their owner, sql/069, is a live
 * backend): a daemon that started re-sent every peer's deliveries in flight. */
#define SQL_WEBHOOKS_PENDING \
	"WITH stale AS (DELETE FROM hotline.webhook_deliveries d USING hotline.alerts a" \
	" WHERE a.id = d.alert_id AND a.level <> d.level)" \
	" SELECT d.url, hotline.alert_json(a), hotline.notify_payload(hotline.alert_json(a), a.caller)" \
	" FROM hotline.webhook_deliveries d JOIN hotline.alerts a ON a.id = d.alert_id AND a.level = d.level" \
	" WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity s WHERE s.pid = d.owner_pid AND s.pid <> pg_backend_pid())" \
	" ORDER BY d.alert_id, d.level"

/* ---- reads that must see the batch's own writes */

static const char SQL_CASE_GET[] = "SELECT hotline.case_json($1::bigint)";
/* case.get for a viewer or supervisor socket client: the HTTP API's masked form (sql/011) */
static const char SQL_CASE_GET_MASKED[] = "SELECT hotline.http_case_json($1::bigint)";
/* alert.ack: who acknowledged the alert and when, as stored once this batch's
 * UPDATE ran (the first acknowledgement wins, also against a concurrent
 * hotline.ack_alert in psql), so the reply never names a later acker */
static const char SQL_ACK_GET[] =
	"SELECT acked_by, hotline.iso(acked_at) AS acked_at FROM hotline.alerts WHERE id = $1::bigint";

/* The replay of a subscribe: the newest $2 open alerts after $1, ascending,
 * each also masked (for HTTP readers), and how many open alerts follow $1 in
 * all (the same on every row; no row when there are none). */
static const char SQL_REPLAY[] =
	"SELECT a.id, x.j, hotline.notify_payload(x.j, a.caller),"
	"  (SELECT count(*) FROM hotline.alerts o WHERE o.id > $1::bigint AND o.acked_at IS NULL)"
	" FROM hotline.alerts a CROSS JOIN LATERAL (SELECT hotline.alert_json(a) AS j) x"
	" WHERE a.id IN (SELECT o.id FROM hotline.alerts o WHERE o.id > $1::bigint AND o.acked_at IS NULL"
	"                ORDER BY o.id DESC LIMIT $2::int)"
	" ORDER BY a.id";

/* ---- several daemons (cluster.c, sql/016_cluster.sql) */

/* First statement of every batch that loads: locks its callers, the order
 * ids it names, its cases and, for a batch that classifies, the hotspot
 * values it can count under, until COMMIT ($1-$3 as SQL_CASES, $4 the order
 * ids, $5-$10 SQL_HOTSPOT_CASES's reach and values, or NULL; sql/046). */
static const char SQL_LOCK_BATCH[] = "SELECT hotline.lock_batch($1::jsonb, $2::jsonb, $3::jsonb, $4::jsonb,"
	" $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb, $10::jsonb)";

/* Clocks the batch armed in slots another daemon owns: announced in the
 * batch's transaction, so the owner hears of them exactly when they commit. */
static const char SQL_CLOCK_NOTIFY[] =
	"SELECT count(pg_notify('hotline_clock', x)) FROM jsonb_array_elements_text($1::jsonb) x";

#endif
