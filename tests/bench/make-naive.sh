#!/usr/bin/env bash
# tests/bench/make-naive.sh offered|mix - print the pgbench script of the "naive" baseline.
#
# The naive baseline is what an application without batching would do: one
# transaction per event, one round trip per statement.  Each event runs the
# statements daemon/store.c issues for it - the six load SELECTs, nextval for
# a new case id, then the INSERT .. ON CONFLICT writes of the rows the rules
# changed - with the parameters the daemon binds written in as literals
# (pgbench -M simple substitutes :variables textually, also inside them).
# The rows are those the daemon writes for the same events, captured from it
# with log_statement = all.  Keep the SQL in step with store.c.
#
#   offered  one call.offered from a new caller per transaction;
#   mix      per script run six events, each its own transaction, as loadgen's
#            mix: call.offered -> call.answered -> call.ended(followup);
#            call.abandoned -> callback.attempt(reached); case.update.
#
# pgbench variables: -D nonce=DIGITS -D now=EPOCH_MS -D n=0 (n counts per client).
set -euo pipefail
W=${1:?usage: make-naive.sh offered|mix}

# load ARRAY_EVENTS ARRAY_CASES ARRAY_CALLS ARRAY_CALLERS NEW_CASES [VAR]
load() {
	cat <<-SQL
	SELECT event_id, COALESCE(case_id, 0) FROM hotline.event_ids
	WHERE event_id = ANY (ARRAY(SELECT jsonb_array_elements_text('$1'::jsonb)));
	WITH ids AS (
	  SELECT x::bigint AS id FROM jsonb_array_elements_text('$2'::jsonb) x
	  UNION SELECT l.case_id FROM hotline.calls l
	        WHERE l.call_id = ANY (ARRAY(SELECT jsonb_array_elements_text('$3'::jsonb)))
	  UNION SELECT (SELECT c.id FROM hotline.cases c WHERE c.caller = x AND c.status <> 'closed'
	                ORDER BY c.opened_at DESC, c.id DESC LIMIT 1)
	        FROM jsonb_array_elements_text('$4'::jsonb) x)
	SELECT c.id, c.caller, c.status, hotline.ms(c.opened_at), hotline.ms(c.resolved_at),
	  hotline.ms(c.closed_at), hotline.ms(c.last_contact_at), hotline.ms(c.updated_at),
	  c.category, c.priority, c.department, c.queue, c.summary, c.resolution,
	  c.transfers, c.reopens, c.on_hold, hotline.ms(c.hold_since), c.held_ms, c.policy,
	  (SELECT json_agg(json_build_array(k.kind, k.state, k.seq, hotline.ms(k.started_at),
	     hotline.ms(k.due_at), hotline.ms(k.warn_at), k.warned, k.allowed_ms, hotline.ms(k.paused_at),
	     k.remaining_ms, k.warn_remaining_ms, hotline.ms(k.met_at), hotline.ms(k.breached_at), k.calendar))
	   FROM hotline.clocks k WHERE k.case_id = c.id)
	 FROM hotline.cases c WHERE c.id IN (SELECT id FROM ids WHERE id IS NOT NULL);
	SELECT call_id, case_id, caller, state, inbound, hotline.ms(offered_at), hotline.ms(answered_at),
	  hotline.ms(ended_at), queue, agent, outcome FROM hotline.calls
	WHERE call_id = ANY (ARRAY(SELECT jsonb_array_elements_text('$3'::jsonb)));
	WITH cl AS (
	  SELECT x AS caller FROM jsonb_array_elements_text('$4'::jsonb) x
	  UNION SELECT c.caller FROM hotline.cases c
	        WHERE c.id = ANY (ARRAY(SELECT x::bigint FROM jsonb_array_elements_text('$2'::jsonb) x))
	  UNION SELECT l.caller FROM hotline.calls l
	        WHERE l.call_id = ANY (ARRAY(SELECT jsonb_array_elements_text('$3'::jsonb))))
	SELECT r.caller, r.confidential, hotline.ms(r.repeat_alerted_at),
	  ARRAY(SELECT hotline.ms(l.offered_at) FROM hotline.calls l WHERE l.caller = r.caller AND l.inbound
	        AND l.offered_at > hotline.from_ms(:since::bigint) ORDER BY l.offered_at)::text
	 FROM hotline.callers r WHERE r.caller IN (SELECT caller FROM cl);
	SELECT id, kind, COALESCE(case_id, 0), caller, level, hotline.ms(raised_at), hotline.ms(due_at),
	  hotline.ms(escalate_at), hotline.ms(acked_at), acked_by, dedupe_key, detail FROM hotline.alerts
	WHERE id = ANY (ARRAY(SELECT x::bigint FROM jsonb_array_elements_text('[]'::jsonb) x));
	SQL
	if [ "$5" = 0 ]; then
		echo "SELECT nextval('hotline.cases_id_seq') FROM generate_series(1, 0);"
	else
		echo "SELECT nextval('hotline.cases_id_seq') AS $6 FROM generate_series(1, $5) \\gset"
	fi
}

w_callers() {
	cat <<-SQL
	INSERT INTO hotline.callers AS t (caller, confidential, repeat_alerted_at)
	 SELECT r.caller, r.confidential, hotline.from_ms(r.repeat_alerted_at)
	 FROM jsonb_to_recordset('[{"caller": "$1", "confidential": false, "repeat_alerted_at": null}]'::jsonb)
	   AS r(caller text, confidential boolean, repeat_alerted_at bigint)
	 ON CONFLICT (caller) DO UPDATE SET confidential = EXCLUDED.confidential,
	   repeat_alerted_at = EXCLUDED.repeat_alerted_at;
	SQL
}

# w_case ID CALLER LAST_CONTACT(null|:t) SUMMARY(null|"..") CATEGORY(null|"..")
w_case() {
	cat <<-SQL
	INSERT INTO hotline.cases AS t (id, caller, status, opened_at, resolved_at, closed_at, last_contact_at,
	  updated_at, category, priority, department, queue, summary, resolution, transfers, reopens, on_hold,
	  hold_since, held_ms, policy)
	 SELECT r.id, r.caller, r.status, hotline.from_ms(r.opened_at), hotline.from_ms(r.resolved_at),
	  hotline.from_ms(r.closed_at), hotline.from_ms(r.last_contact_at), hotline.from_ms(r.updated_at),
	  r.category, r.priority, r.department, r.queue, r.summary, r.resolution, r.transfers, r.reopens,
	  r.on_hold, hotline.from_ms(r.hold_since), r.held_ms, r.policy
	 FROM jsonb_to_recordset('[{"id": $1, "queue": "bench", "caller": "$2", "policy": "default", "status": "open", "held_ms": 0, "on_hold": false, "reopens": 0, "summary": $4, "category": $5, "priority": null, "closed_at": null, "opened_at": :t, "transfers": 0, "department": null, "hold_since": null, "resolution": null, "updated_at": :t, "resolved_at": null, "last_contact_at": $3}]'::jsonb)
	  AS r(id bigint, caller text, status text, opened_at bigint,
	  resolved_at bigint, closed_at bigint, last_contact_at bigint, updated_at bigint, category text,
	  priority text, department text, queue text, summary text, resolution text, transfers int,
	  reopens int, on_hold boolean, hold_since bigint, held_ms bigint, policy text)
	 ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, resolved_at = EXCLUDED.resolved_at,
	  closed_at = EXCLUDED.closed_at, last_contact_at = EXCLUDED.last_contact_at,
	  updated_at = EXCLUDED.updated_at, category = EXCLUDED.category, priority = EXCLUDED.priority,
	  department = EXCLUDED.department, queue = EXCLUDED.queue, summary = EXCLUDED.summary,
	  resolution = EXCLUDED.resolution, transfers = EXCLUDED.transfers, reopens = EXCLUDED.reopens,
	  on_hold = EXCLUDED.on_hold, hold_since = EXCLUDED.hold_since, held_ms = EXCLUDED.held_ms,
	  policy = EXCLUDED.policy;
	SQL
}

# w_call ROW_JSON
w_call() {
	cat <<-SQL
	INSERT INTO hotline.calls AS t (call_id, case_id, caller, state, inbound, offered_at, answered_at,
	  ended_at, queue, agent, outcome)
	 SELECT r.call_id, r.case_id, r.caller, r.state, r.inbound, hotline.from_ms(r.offered_at),
	  hotline.from_ms(r.answered_at), hotline.from_ms(r.ended_at), r.queue, r.agent, r.outcome
	 FROM jsonb_to_recordset('[$1]'::jsonb)
	  AS r(call_id text, case_id bigint, caller text, state text,
	  inbound boolean, offered_at bigint, answered_at bigint, ended_at bigint, queue text, agent text,
	  outcome text)
	 ON CONFLICT (call_id) DO UPDATE SET state = EXCLUDED.state, answered_at = EXCLUDED.answered_at,
	  ended_at = EXCLUDED.ended_at, queue = EXCLUDED.queue, agent = EXCLUDED.agent,
	  outcome = EXCLUDED.outcome;
	SQL
}

# clock CASE KIND STATE SEQ ALLOWED_MS -> one clocks row (JSON)
clock() {
	local met=null
	[ "$3" = met ] && met=:t
	printf '{"seq": %s, "kind": "%s", "state": "%s", "due_at": 1895324724431, "met_at": %s, "warned": false, "case_id": %s, "warn_at": 1895307444431, "calendar": "", "paused_at": null, "allowed_ms": %s, "started_at": :t, "breached_at": null, "remaining_ms": null, "warn_remaining_ms": null}' \
		"$4" "$2" "$3" "$met" "$1" "$5"
}

# w_clocks ROWS_JSON  (SQL_W_CLOCKS in include/store_sql.h for one clock whose run
# is not replaced: the clock row only; clock_runs_done gets a row only when a
# newer run replaces one, sql/022)
w_clocks() {
	cat <<-SQL
	INSERT INTO hotline.clocks AS t (case_id, kind, state, seq, started_at, due_at, warn_at, warned,
	  allowed_ms, paused_at, remaining_ms, warn_remaining_ms, met_at, breached_at, calendar)
	 SELECT r.case_id, r.kind, r.state, r.seq, hotline.from_ms(r.started_at), hotline.from_ms(r.due_at),
	  hotline.from_ms(r.warn_at), r.warned, r.allowed_ms, hotline.from_ms(r.paused_at), r.remaining_ms,
	  r.warn_remaining_ms, hotline.from_ms(r.met_at), hotline.from_ms(r.breached_at), r.calendar
	 FROM jsonb_to_recordset('[$1]'::jsonb)
	  AS r(case_id bigint, kind text, state text, seq int,
	  started_at bigint, due_at bigint, warn_at bigint, warned boolean, allowed_ms bigint,
	  paused_at bigint, remaining_ms bigint, warn_remaining_ms bigint, met_at bigint,
	  breached_at bigint, calendar text)
	 ON CONFLICT (case_id, kind) DO UPDATE SET state = EXCLUDED.state, seq = EXCLUDED.seq,
	  started_at = EXCLUDED.started_at, due_at = EXCLUDED.due_at, warn_at = EXCLUDED.warn_at,
	  warned = EXCLUDED.warned, allowed_ms = EXCLUDED.allowed_ms, paused_at = EXCLUDED.paused_at,
	  remaining_ms = EXCLUDED.remaining_ms, warn_remaining_ms = EXCLUDED.warn_remaining_ms,
	  met_at = EXCLUDED.met_at, breached_at = EXCLUDED.breached_at, calendar = EXCLUDED.calendar;
	SQL
}

# w_event EVENT_ID CASE TYPE BODY(escaped JSON) DESCRIPTION
w_event() {
	cat <<-SQL
	INSERT INTO hotline.case_events (event_id, case_id, type, at, received_at, description, body)
	 SELECT r.event_id, NULLIF(r.case_id, 0), r.type, hotline.from_ms(r.at), hotline.from_ms(r.received_at),
	  r.description, hotline.event_body_pack(r.event_id, r.type, r.body::jsonb)
	 FROM jsonb_to_recordset('[{"n": 0, "at": :t, "body": "$4", "type": "$3", "case_id": $2, "event_id": "$1", "description": "$5", "received_at": :t}]'::jsonb)
	  AS r(event_id text, case_id bigint, type text,
	  at bigint, received_at bigint, description text, body text, n int) ORDER BY r.n;
	SQL
}

E='P:nonce-:client_id-:n'         # event id prefix
C='q:nonce-:client_id-:n'         # call id prefix
P1='+7:nonce:ph'                  # first caller of the round
P2='+6:nonce:ph'                  # second caller (mix)
DAY=86400000

cat <<HDR
-- generated by tests/bench/make-naive.sh $W: the naive baseline (see that script)
\\set n :n + 1
\\set ph (:client_id + 1) * 100000000 + :n
\\set since :now - 86401000
\\set t :now + :n
HDR

offered() {
	echo "BEGIN;"
	load "[\"$E-o\"]" '[]' "[\"$C-a\"]" "[\"$P1\"]" 1 x
	w_callers "$P1"
	w_case :x "$P1" null null null
	w_call "{\"agent\": null, \"queue\": \"bench\", \"state\": \"offered\", \"caller\": \"$P1\", \"call_id\": \"$C-a\", \"case_id\": :x, \"inbound\": true, \"outcome\": null, \"ended_at\": null, \"offered_at\": :t, \"answered_at\": null}"
	w_clocks "$(clock :x update pending 1 $DAY), $(clock :x resolution pending 1 $((2 * DAY)))"
	w_event "$E-o" :x call.offered "{\\\"type\\\":\\\"call.offered\\\",\\\"id\\\":\\\"$E-o\\\",\\\"call_id\\\":\\\"$C-a\\\",\\\"caller\\\":\\\"$P1\\\",\\\"queue\\\":\\\"bench\\\"}" \
		"call $C-a offered from +7****0001; case :x opened; resolution armed, due 2026-11-23T05:18:44.431Z; update armed, due 2026-11-22T05:18:44.431Z"
	echo "COMMIT;"
}

offered
[ "$W" = offered ] && exit 0

# call.answered
echo "BEGIN;"
load "[\"$E-n\"]" '[]' "[\"$C-a\"]" '[]' 0
w_case :x "$P1" :t null null
w_call "{\"agent\": \"agent-1\", \"queue\": \"bench\", \"state\": \"answered\", \"caller\": \"$P1\", \"call_id\": \"$C-a\", \"case_id\": :x, \"inbound\": true, \"outcome\": null, \"ended_at\": null, \"offered_at\": :t, \"answered_at\": :t}"
w_clocks "$(clock :x update pending 2 $DAY)"
w_event "$E-n" :x call.answered "{\\\"type\\\":\\\"call.answered\\\",\\\"id\\\":\\\"$E-n\\\",\\\"call_id\\\":\\\"$C-a\\\",\\\"agent\\\":\\\"agent-1\\\"}" \
	"call $C-a answered by agent-1; update restarted, due 2026-11-22T05:18:44.802Z"
echo "COMMIT;"

# call.ended (followup): arms the callback clock
echo "BEGIN;"
load "[\"$E-e\"]" '[]' "[\"$C-a\"]" '[]' 0
w_case :x "$P1" :t '"asked about a payment"' '"benefits"'
w_call "{\"agent\": \"agent-1\", \"queue\": \"bench\", \"state\": \"ended\", \"caller\": \"$P1\", \"call_id\": \"$C-a\", \"case_id\": :x, \"inbound\": true, \"outcome\": \"followup\", \"ended_at\": :t, \"offered_at\": :t, \"answered_at\": :t}"
w_clocks "$(clock :x callback pending 1 1800000)"
w_event "$E-e" :x call.ended "{\\\"type\\\":\\\"call.ended\\\",\\\"id\\\":\\\"$E-e\\\",\\\"call_id\\\":\\\"$C-a\\\",\\\"outcome\\\":\\\"followup\\\",\\\"category\\\":\\\"benefits\\\",\\\"summary\\\":\\\"asked about a payment\\\"}" \
	"call $C-a ended: followup; callback armed, due 2026-11-21T05:48:45.145Z"
echo "COMMIT;"

# call.abandoned from a new caller: opens case :y, arms its callback
echo "BEGIN;"
load "[\"$E-x\"]" '[]' "[\"$C-b\"]" "[\"$P2\"]" 1 y
w_callers "$P2"
w_case :y "$P2" null null null
w_call "{\"agent\": null, \"queue\": null, \"state\": \"abandoned\", \"caller\": \"$P2\", \"call_id\": \"$C-b\", \"case_id\": :y, \"inbound\": true, \"outcome\": null, \"ended_at\": null, \"offered_at\": :t, \"answered_at\": null}"
w_clocks "$(clock :y update pending 1 $DAY), $(clock :y resolution pending 1 $((2 * DAY))), $(clock :y callback pending 1 1800000)"
w_event "$E-x" :y call.abandoned "{\\\"type\\\":\\\"call.abandoned\\\",\\\"id\\\":\\\"$E-x\\\",\\\"call_id\\\":\\\"$C-b\\\",\\\"caller\\\":\\\"$P2\\\"}" \
	"call $C-b offered from +6****0002; case :y opened; resolution armed, due 2026-11-23T05:18:45.479Z; update armed, due 2026-11-22T05:18:45.479Z; abandoned; callback armed, due 2026-11-21T05:48:45.479Z"
echo "COMMIT;"

# callback.attempt reached on :y
echo "BEGIN;"
load "[\"$E-c\"]" '[:y]' '[]' '[]' 0
w_case :y "$P2" :t null null
w_clocks "$(clock :y callback met 1 1800000), $(clock :y update pending 2 $DAY)"
w_event "$E-c" :y callback.attempt "{\\\"type\\\":\\\"callback.attempt\\\",\\\"id\\\":\\\"$E-c\\\",\\\"case_id\\\": :y,\\\"result\\\":\\\"reached\\\",\\\"agent\\\":\\\"agent-1\\\"}" \
	"callback attempt on case :y: reached; callback met; update restarted, due 2026-11-22T05:18:45.803Z"
echo "COMMIT;"

# case.update (caller informed) on :x
echo "BEGIN;"
load "[\"$E-u\"]" '[:x]' '[]' '[]' 0
w_case :x "$P1" :t '"asked about a payment"' '"benefits"'
w_clocks "$(clock :x update pending 3 $DAY)"
w_event "$E-u" :x case.update "{\\\"type\\\":\\\"case.update\\\",\\\"id\\\":\\\"$E-u\\\",\\\"case_id\\\": :x,\\\"note\\\":\\\"documents requested\\\",\\\"caller_informed\\\":true}" \
	"case :x updated (note); caller informed; update restarted, due 2026-11-22T05:18:46.123Z"
echo "COMMIT;"
