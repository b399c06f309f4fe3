#!/usr/bin/env bash
# scripts/bench.sh - run every hotlined benchmark in one go and write docs/performance.md.
#
#   scripts/bench.sh run        set up PostgreSQL + the daemon, measure, write docs/performance.md
#   scripts/bench.sh pg-start   start the benchmark cluster only (var/bench/pg, port 5490)
#   scripts/bench.sh pg-stop    stop it
#   scripts/bench.sh psql       psql into it
#   scripts/bench.sh render     re-render docs/performance.md from var/bench/results (no measuring)
#   scripts/bench.sh history-big [N]  the history phase alone at N events (100 M; make bench-history):
#               its records go to tests/bench/history-100m.jsonl (kept in the tree: the run takes
#               an hour), and docs/performance.md shows them beside the full run's 10 M
#   scripts/bench.sh phase F A  run one phase function by hand (development), e.g. phase ingest real 8 50000 zipf
#   scripts/bench.sh snap LABEL  one snapshot of the counters (loadgen --mode types runs it)
#
# Environment: BENCH_QUICK=1 runs a ~3-minute smoke version (shorter phases,
# 100k clocks instead of 1M, 200 connections instead of 1,000, a history of
# 100k events instead of 10M, a seed of 10,000 cases instead of 50,000) and writes docs/performance.md only when
# BENCH_OUT says so (default: var/bench/quick.md).  BENCH_HISTORY=N sizes the
# history phase (100000000: the opt-in 100-million-event run, about an hour
# and 50 GB).  BENCH_DPORT is the daemon's TCP port (parallel worktrees).
# HOTLINED_BIN, LOADGEN_BIN, LIMIT_BIN name the binaries (mk/bench.mk sets them).
#
# Design.  Everything runs on one machine: PostgreSQL (its own cluster, Unix
# socket only, fsync and synchronous_commit ON, so every acknowledgement costs
# a real durable commit), the daemon and the load generator.  The machine is
# shared and noisy, so each daemon figure is reported next to baselines measured
# in the same run against the same cluster, and as a ratio.  The headline is
# the realistic workload of issue 15 (loadgen's `real`: the mix with work
# orders, callers drawn Zipf-like from 50,000 numbers, 8 connections x 64),
# and its baselines (scripts/bench-cost.sh):
#   naive  pgbench, 8 clients, one transaction per event holding ONE jsonb
#          insert (a user's simplest design);
#   limit  the daemon's own transactions of a headline run, captured from
#          the server log and replayed by tests/bench/limit.c in large
#          transactions, pipelined, from a bare libpq client;
#   stmts  pgbench, the daemon's statements for each event, one transaction
#          per event (the daemon's SQL without batching).
# Then: repeat callers against all-new callers, each event type alone (rows,
# index entries, WAL, CPU per event), history (ingest on an empty database
# and with 10M events stored, bytes per event, every administrator view,
# the lists over the last days' calls with a week of a large city's line),
# clocks and alert lateness with ingest beside, connections.
# Before each phase the schema is truncated and reseeded, so that table and
# index sizes are comparable between the daemon and the baselines.
# Raw figures go to var/bench/results/*.json (one JSON object per line); the
# report is rendered from them at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PORT=5490
BENCH=$ROOT/var/bench
PGBASE=$BENCH/pg
PGDATA_DIR=$PGBASE/data
PGRUN=$PGBASE/run
PGLOG=$PGBASE/postgresql.log
# the figures of a full run; a BENCH_QUICK run keeps its own (var/bench/quick/),
# so that a smoke run never overwrites what docs/performance.md was rendered from
RES=$BENCH/results
[ "${BENCH_QUICK:-0}" = 1 ] && RES=$BENCH/quick
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
HOTLINED_BIN=${HOTLINED_BIN:-$ROOT/build/hotlined}
LOADGEN_BIN=${LOADGEN_BIN:-$ROOT/build/bench/loadgen}
LIMIT_BIN=${LIMIT_BIN:-$ROOT/build/bench/limit}
QUICK=${BENCH_QUICK:-0}

die() { echo "bench.sh: $*" >&2; exit 1; }
say() { printf '\n== %s\n' "$*" >&2; }

if [ "$(id -u)" = 0 ]; then
	SUPER=postgres
	as_pg() { runuser -u postgres -- "$@"; }
else
	SUPER=${USER:-$(id -un)}
	as_pg() { "$@"; }
fi
CONNINFO="host=$PGRUN port=$PORT dbname=hotline user=$SUPER"
psql_q() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGRUN" -p "$PORT" -U "$SUPER" -d hotline "$@"; }

# --------------------------------------------------------------- PostgreSQL

pg_running() { [ -f "$PGDATA_DIR/PG_VERSION" ] && as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

pg_start() {
	[ -x "$BIN/initdb" ] || die "no PostgreSQL server in /usr/lib/postgresql/*/bin"
	mkdir -p "$PGBASE" "$PGRUN"
	[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PGBASE"
	if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
		as_pg "$BIN/initdb" -D "$PGDATA_DIR" -E UTF8 --locale=C --auth=trust -U "$SUPER" >"$PGBASE/initdb.log" 2>&1 ||
			{ cat "$PGBASE/initdb.log" >&2; die "initdb failed"; }
	fi
	# Durable commits on purpose: the comparison is about amortising fsync.
	as_pg tee "$PGDATA_DIR/bench.conf" >/dev/null <<-EOF
		listen_addresses = ''
		unix_socket_directories = '$PGRUN'
		port = $PORT
		max_connections = 300
		shared_buffers = 512MB
		fsync = on
		synchronous_commit = on
		full_page_writes = on
		max_wal_size = 4GB
		checkpoint_timeout = 30min
		autovacuum = on
		logging_collector = off
		log_min_messages = warning
		log_line_prefix = '@@%p|%v|'
		# per-statement times (docs/performance.md "what bounds each figure")
		shared_preload_libraries = 'pg_stat_statements'
		pg_stat_statements.track = top
	EOF
	grep -q "^include_if_exists = 'bench.conf'" "$PGDATA_DIR/postgresql.conf" ||
		echo "include_if_exists = 'bench.conf'" | as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
	if ! pg_running; then
		as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG" -w -t 60 start >/dev/null ||
			{ tail -n 30 "$PGLOG" >&2; die "pg_ctl start failed"; }
	else
		as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" reload >/dev/null
	fi
	"$BIN/psql" -X -q -h "$PGRUN" -p "$PORT" -U "$SUPER" -d postgres -Atc \
		"SELECT 1 FROM pg_database WHERE datname = 'hotline'" | grep -q 1 ||
		"$BIN/psql" -X -q -h "$PGRUN" -p "$PORT" -U "$SUPER" -d postgres -c "CREATE DATABASE hotline"
}

pg_stop() {
	if pg_running; then as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null; fi
}

# Back to the same starting point before every phase: the tables truncated,
# then a history of SEED closed cases (each with its call, event and met
# clocks; half with one replied work order, a fifth with two, ~0.9 orders a
# case: what a running hotline's orders table holds, so order statements are
# planned and measured against a table with statistics and history, as the
# call tables are), the figures' rollup counted from them, and ANALYZE.  Not
# empty tables on purpose: with the statistics of an empty table the planner
# picks sequential scans (the cached plans of the
# foreign-key checks on hotline.cases among them) and every phase would
# measure a quadratic slowdown until autovacuum's next ANALYZE instead of
# the daemon.  No RESTART IDENTITY: ids are never reused.
db_reset() {
	local tables
	tables=$(psql_q -Atc "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') FROM pg_tables
		WHERE schemaname = 'hotline' AND tablename NOT IN ('schema_migrations', 'pseudonym_key')")
	psql_q <<-SQL >/dev/null
		TRUNCATE $tables CASCADE;
		BEGIN;
		CREATE TEMP TABLE h ON COMMIT DROP AS
		  SELECT nextval('hotline.cases_id_seq') AS id, g, '+1$(nonce)' || g AS caller,
		         now() - interval '10 days' + g * interval '1 s' AS t FROM generate_series(1, $SEED) g;
		INSERT INTO hotline.callers (caller) SELECT caller FROM h;
		INSERT INTO hotline.cases (id, caller, status, opened_at, resolved_at, closed_at)
		  SELECT id, caller, 'closed', t, t + interval '1 h', t + interval '2 h' FROM h;
		INSERT INTO hotline.calls (call_id, case_id, caller, state, offered_at, answered_at, ended_at)
		  SELECT 'h' || id, id, caller, 'ended', t, t, t + interval '5 min' FROM h;
		INSERT INTO hotline.clocks (case_id, kind, state, started_at, due_at, allowed_ms, met_at)
		  SELECT id, 'resolution', 'met', t, t + interval '2 days', 172800000, t + interval '1 h' FROM h;
		INSERT INTO hotline.case_events (event_id, case_id, type, at, body)
		  SELECT 'h' || id, id, 'call.offered', t, jsonb_build_object('type', 'call.offered', 'id', 'h' || id) FROM h;
		INSERT INTO hotline.orders (order_id, case_id, order_no, department, status, category, area,
		    dispatched_at, signed_at, signed_by, replied_at, result, due_at, sign_due_at,
		    sign_state, sign_seq, sign_allowed_ms, sign_met_at, reply_state, reply_seq, reply_allowed_ms, reply_met_at)
		  SELECT 'h' || id || '-' || n, id, n, 'dept-' || (g + n) % 20, 'replied', 'water', 'area-' || g % 1000,
		         t + n * interval '5 min', t + n * interval '10 min', 'clerk', t + interval '1 h', 'resolved',
		         t + interval '3 days', t + interval '1 day', 'met', 1, 86400000, t + n * interval '10 min',
		         'met', 1, 259200000, t + interval '1 h'
		  FROM h, generate_series(1, CASE WHEN g % 10 < 5 THEN 1 WHEN g % 10 < 7 THEN 2 ELSE 0 END) n;
		COMMIT;
		-- the figures' rollup (023) counted again: TRUNCATE emptied its state,
		-- and with no state the daemon skips its upkeep (figures_before/after
		-- return at once), so every phase would measure ingest without it
		DO \$\$ BEGIN
		  IF to_regproc('hotline.rebuild_figure_rollup') IS NOT NULL THEN
		    PERFORM hotline.rebuild_figure_rollup();
		  END IF;
		END \$\$;
		VACUUM ANALYZE;
		CHECKPOINT;
	SQL
}

db_fresh() {
	"$BIN/psql" -X -q -h "$PGRUN" -p "$PORT" -U "$SUPER" -d postgres -c "DROP DATABASE IF EXISTS hotline" -c "CREATE DATABASE hotline"
	"$HOTLINED_BIN" -c "$CONF" --migrate >/dev/null
}

# ------------------------------------------------------------------ daemon

DPID=
DLOG=$BENCH/hotlined.log
CONF=$BENCH/hotlined.conf
DPORT=${BENCH_DPORT:-7390}

write_conf() { # write_conf [MORE_CONNINFO]
	cat >"$CONF" <<-EOF
		# written by scripts/bench.sh
		listen = {
		  tcp = "127.0.0.1:$DPORT";
		  unix = "";
		  max_connections = 1200;
		  max_inflight = 1024;
		  idle_timeout = "0";
		};
		database = { conninfo = "$CONNINFO${1:+ $1}"; batch_max = ${BENCH_BATCH_MAX:-1000}; };
		log = { level = "notice"; };
	EOF
}

# Start the daemon and wait for "ready"; START_MS = the milliseconds it took.
# (Not printed: a $(...) subshell would lose DPID.)
daemon_start() {
	local t0 t1 i
	: >"$DLOG"
	t0=$(date +%s%3N)
	( ulimit -n 8192; exec "$HOTLINED_BIN" -c "$CONF" ) >>"$DLOG" 2>&1 &
	DPID=$!
	for i in $(seq 1 1200); do
		if grep -q " ready" "$DLOG"; then
			t1=$(date +%s%3N)
			START_MS=$((t1 - t0))
			return 0
		fi
		kill -0 "$DPID" 2>/dev/null || { cat "$DLOG" >&2; die "the daemon exited"; }
		sleep 0.025
	done
	die "the daemon did not become ready in 30 s"
}

daemon_stop() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
dstats() { "$LOADGEN_BIN" --tcp "127.0.0.1:$DPORT" --mode stats; }

trap 'daemon_stop; [ -n "${PERF_PID:-}" ] && kill -INT "$PERF_PID" 2>/dev/null; true' EXIT

# ----------------------------------------------------------------- results

RESULTS=$RES/results.jsonl
# record PHASE JSON: one line of $RESULTS
record() { printf '%s\n' "$2" | jq -c --arg p "$1" '. + {phase: $p}' >>"$RESULTS"; printf '%s %s\n' "$1" "$2" >&2; }

nonce() { printf '%06d' $(( ($(date +%s%N) / 1000) % 1000000 )); }

# ------------------------------------------------------------- the phases

# ingest WORKLOAD CONNS [CALLERS [zipf]]: callers drawn from that many numbers (repeat calls).
# INGEST_PHASE names the record (default ingest), INGEST_RESET=0 keeps the
# database as it is, INGEST_WINDOW overrides the window, INGEST_HISTORY is
# written into the record (the events stored before), INGEST_ROLLUP=off empties
# hotline.figure_rollup_state after the reset, so the daemon skips the
# figures' rollup (what its upkeep costs is the difference).  The daemon's CPU per
# event comes from /proc (utime + stime over the whole run, warm-up included,
# divided by every event acknowledged).
ingest() {
	[ "${INGEST_RESET:-1}" = 0 ] || db_reset
	[ "${INGEST_ROLLUP:-on}" = on ] || psql_q -c "TRUNCATE hotline.figure_rollup_state" >/dev/null
	daemon_start
	local out st cpu0 cpu1 tck
	tck=$(getconf CLK_TCK)
	cpu0=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat")
	out=$("$LOADGEN_BIN" --tcp "127.0.0.1:$DPORT" --workload "$1" --conns "$2" --window "${INGEST_WINDOW:-$WINDOW}" \
		--duration "$DUR" --warmup "$WARM" --nonce "$(nonce)" ${3:+--callers "$3"} ${4:+--$4})
	cpu1=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat")
	st=$(dstats | jq -c '.stats | {batch_size_mean, batch_size_max, commit_ms_mean, commit_ms_max, events}')
	record "${INGEST_PHASE:-ingest}" "$(jq -c -n --argjson a "$out" --argjson b "$st" --argjson h "${INGEST_HISTORY:-0}" \
		--argjson cpu $(((cpu1 - cpu0) * 1000000 / tck)) \
		'$a + $b + {history: $h, daemon_cpu_us: $cpu}')"
	daemon_stop
}

# The profile: samples of our processes under the headline load (8
# connections x 64 in flight), split by process and by function (what bounds
# the figure).
profile() { # profile WORKLOAD [CALLERS [zipf]]
	command -v perf >/dev/null || { echo "bench.sh: no perf, no profile" >&2; return 0; }
	db_reset
	daemon_start
	"$LOADGEN_BIN" --tcp "127.0.0.1:$DPORT" --workload "$1" --conns 8 --window 64 \
		--duration "$DUR" --warmup 1 --nonce "$(nonce)" ${2:+--callers "$2"} ${3:+--$3} >/dev/null &
	local lg=$!
	sleep 2
	# only our processes: the daemon, this cluster's postgres processes, the load generator
	local pm pids
	pm=$(head -n 1 "$PGDATA_DIR/postmaster.pid")
	pids=$(echo "$DPID" "$lg" "$pm" $(pgrep -P "$pm") | tr ' ' ',')
	perf record -e cpu-clock -g -F 999 -p "$pids" -o "$BENCH/perf.data" -- sleep "$PROF_S" >/dev/null 2>&1 || true
	wait "$lg" || true
	local dpid=$DPID
	daemon_stop
	{
		echo "# share of the CPU samples by process ($1${2:+, callers from $2${3:+ ($3)}}, 8 connections x 64, ${PROF_S}s; the daemon, its PostgreSQL, loadgen)"
		perf report -i "$BENCH/perf.data" --stdio --no-children -g none --sort comm 2>/dev/null | awk '/^ +[0-9]/ && n++ < 8'
		echo "# hottest functions"
		perf report -i "$BENCH/perf.data" --stdio --no-children -g none --sort comm,dso,sym 2>/dev/null | awk '/^ +[0-9]/ && n++ < 25'
		echo "# inside the daemon (self time, % of all samples)"
		perf report -i "$BENCH/perf.data" --stdio --no-children -g none --pid "$dpid" --sort dso,sym 2>/dev/null |
			awk '/^ +[0-9]/ && n++ < 30'
	} >"$RES/profile-$1.txt"
}

# The daemon's own statements for each event, one transaction per event
# (pgbench): not the issue's naive design (naive_jsonb, bench-cost.sh), but
# what the daemon's SQL would cost without batching.
stmts() { # stmts WORKLOAD CONNS
	db_reset
	local pgb=$BENCH/naive_$1.pgb per=1 out tps lat j=1
	[ "$1" = mix ] && per=6
	[ "$2" -gt 1 ] && j=2
	"$ROOT/tests/bench/make-naive.sh" "$1" >"$pgb"
	out=$(pgbench -n -M simple -h "$PGRUN" -p "$PORT" -U "$SUPER" -c "$2" -j "$j" -T "$DUR" \
		-D nonce="$(nonce)" -D now="$(date +%s%3N)" -D n=0 -f "$pgb" hotline 2>&1) ||
		{ echo "$out" >&2; echo "bench.sh: the stmts baseline failed (a secondary baseline: the run goes on without it)" >&2; return 0; }
	tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
	record "stmts" "$(jq -c -n --arg w "$1" --argjson c "$2" --argjson tps "$tps" --argjson lat "$lat" --argjson per "$per" \
		'{workload: $w, conns: $c, acks_per_s: ($tps * $per), mean_tx_ms: ($lat / $per)}')"
}

openloop() { # openloop WORKLOAD RATE CONNS [CALLERS [zipf]]
	db_reset
	daemon_start
	local out st
	out=$("$LOADGEN_BIN" --tcp "127.0.0.1:$DPORT" --workload "$1" --conns "$3" --rate "$2" \
		--duration "$DUR" --warmup "$WARM" --nonce "$(nonce)" ${4:+--callers "$4"} ${5:+--$5})
	st=$(dstats | jq -c '.stats | {batch_size_mean, batch_size_max, commit_ms_mean, commit_ms_max}')
	record "openloop" "$(jq -c -n --argjson a "$out" --argjson b "$st" '$a + $b')"
	daemon_stop
}

# N pending clocks (cases + clocks rows), due in 30 days, never warned.
bulk_clocks() { # bulk_clocks N CALLER_PREFIX
	[ "$1" -gt 0 ] || return 0
	psql_q <<-SQL >/dev/null
		BEGIN;
		CREATE TEMP TABLE nc ON COMMIT DROP AS
		  SELECT nextval('hotline.cases_id_seq') AS id, g FROM generate_series(1, $1) g;
		INSERT INTO hotline.cases (id, caller, status, opened_at)
		  SELECT id, '$2' || g, 'open', now() FROM nc;
		INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms)
		  SELECT id, 'resolution', 'pending', 1, now(), now() + interval '30 days' + g * interval '1 ms',
		         2592000000 FROM nc;
		COMMIT;
		VACUUM ANALYZE hotline.cases, hotline.clocks;
		CHECKPOINT;
	SQL
}

# RSS, timer bytes and start time with N pending clocks.
clocks_mem() { # clocks_mem N
	db_reset
	bulk_clocks "$1" "+4$(nonce)"
	local ms st rss
	daemon_start
	ms=$START_MS
	sleep 1
	rss=$(rss_kb "$DPID")
	st=$(dstats | jq -c '.stats | {pending: (.pending_clocks | add), timer_bytes}')
	record "clocks" "$(jq -c -n --argjson n "$1" --argjson ms "$ms" --argjson rss "$rss" --argjson s "$st" \
		'{clocks: $n, start_ms: $ms, rss_kb: $rss} + $s')"
	daemon_stop
}

# Alert lateness: BIG pending clocks of which DUE fall due within one second,
# DUE_IN seconds from now (after the daemon has started and loaded them).
# LATENESS_SPREAD_MS=1 puts them all at the same millisecond (CONTRACT 5's
# burst: 12,000 due at once must all alert within a second; `phase burst`).
lateness() { # lateness BIG DUE DUE_IN [ingest]: with "ingest", the headline workload runs beside
	db_reset
	bulk_clocks $(($1 - $2)) "+3$(nonce)"
	psql_q <<-SQL >/dev/null
		BEGIN;
		CREATE TEMP TABLE nc ON COMMIT DROP AS
		  SELECT nextval('hotline.cases_id_seq') AS id, g FROM generate_series(1, $2) g;
		INSERT INTO hotline.cases (id, caller, status, opened_at) SELECT id, '+2$(nonce)' || g, 'open', now() FROM nc;
		INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms)
		  SELECT id, 'callback', 'pending', 1, now(), date_trunc('second', now()) + interval '$3 s' + (g % ${LATENESS_SPREAD_MS:-1000}) * interval '1 ms',
		         1800000 FROM nc;
		COMMIT;
	SQL
	local ms out st lg= ing='null'
	daemon_start
	ms=$START_MS
	if [ "${4:-}" = ingest ]; then
		# the headline workload at full speed beside the timers, from now until
		# well after the clocks have fallen due
		"$LOADGEN_BIN" --tcp "127.0.0.1:$DPORT" --workload real --conns 8 --window 64 --duration $(($3 + 5)) \
			--warmup 0 --nonce "$(nonce)" --callers 50000 --zipf >"$BENCH/lateness-ingest.json" &
		lg=$!
	fi
	out=$("$LOADGEN_BIN" --tcp "127.0.0.1:$DPORT" --mode lateness --expect "$2" --timeout $(($3 + 60)))
	[ -n "$lg" ] && { wait "$lg" || true; ing=$(jq -c '{acks_per_s, errors, p99_ms}' "$BENCH/lateness-ingest.json"); }
	# due_*: a due clock's wait for its batch and that batch's time (queue wait versus processing)
	st=$(dstats | jq -c '.stats | {batches, batch_size_mean, batch_size_max, commit_ms_mean, commit_ms_max,
		due_fired, due_wait_ms_mean, due_wait_ms_max, due_batch_ms_mean, due_batch_ms_max, due_deferred, batches_beside_due}')
	record "${LATENESS_PHASE:-lateness}" "$(jq -c -n --argjson a "$out" --argjson n "$1" --argjson ms "$ms" --argjson rss "$(rss_kb "$DPID")" \
		--argjson st "$st" --argjson ing "$ing" '$a + {pending: $n, start_ms: $ms, rss_kb: $rss, ingest: $ing} + $st')"
	daemon_stop
}

# CONTRACT 5's burst: N clocks (12,000) due in the same millisecond among
# BIG pending, DUE_IN seconds from now; max_ms is the last alert's lateness.
burst() { # burst N [BIG [DUE_IN [ingest]]]
	LATENESS_PHASE=burst LATENESS_SPREAD_MS=1 lateness "${2:-1000000}" "$1" "${3:-15}" ${4:-}
}

# Order kept for due clocks (store_due.c), not in the full run: N callback
# clocks fall due within one second while the headline ingest saturates the
# daemon, and 0.3 s into that second one event per case that meets its
# callback is sent (MODE=attempt names the case, MODE=call names only a call
# stored for it).  A clock due 0.2 s or more after the send must not alert:
# the daemon had its case's event before the deadline.  Prints a record and
# fails if one did.
due_order() { # due_order [N]
	local n=${1:-2000} ids="$BENCH/due_order.ids" sent due0 t0 st late early
	db_reset
	psql_q <<-SQL >/dev/null
		BEGIN;
		CREATE TEMP TABLE nc ON COMMIT DROP AS SELECT nextval('hotline.cases_id_seq') AS id, g FROM generate_series(1, $n) g;
		INSERT INTO hotline.cases (id, caller, status, opened_at) SELECT id, '+5$(nonce)' || g, 'open', now() FROM nc;
		INSERT INTO hotline.clocks (case_id, kind, state, seq, started_at, due_at, allowed_ms)
		  SELECT id, 'callback', 'pending', 1, now(), date_trunc('second', now()) + interval '10 s' + (g % 1000) * interval '1 ms',
		         1800000 FROM nc;
		INSERT INTO hotline.calls (call_id, case_id, caller, state, inbound, offered_at)
		  SELECT 'dk-' || c.id, c.id, c.caller, 'offered', true, now() FROM hotline.cases c JOIN nc ON nc.id = c.id;
		COMMIT;
	SQL
	psql_q -Atc "SELECT case_id FROM hotline.clocks WHERE kind = 'callback' AND state = 'pending' ORDER BY due_at" >"$ids"
	due0=$(psql_q -Atc "SELECT extract(epoch FROM min(due_at)) FROM hotline.clocks WHERE kind = 'callback' AND state = 'pending'")
	daemon_start
	"$LOADGEN_BIN" --tcp "127.0.0.1:$DPORT" --workload real --conns 8 --window 64 --duration 16 --warmup 0 \
		--nonce "$(nonce)" --callers 50000 --zipf >"$BENCH/due_order-ingest.json" &
	local lg=$!
	sent=$(python3 "$ROOT/tests/bench/due_order.py" "$DPORT" "$ids" "$(echo "$due0 + 0.3" | bc)")
	wait "$lg" || true
	sleep 2
	t0=$(echo "$sent" | jq -r .sent_at)
	st=$(dstats | jq -c '.stats | {due_fired, due_deferred, due_wait_ms_mean, due_batch_ms_mean}')
	late=$(psql_q -Atc "SELECT count(a.id) FROM hotline.clocks k JOIN hotline.alerts a ON a.case_id = k.case_id
		AND a.kind = 'callback_overdue' WHERE k.kind = 'callback' AND k.case_id IN (SELECT x::bigint FROM unnest(string_to_array('$(paste -sd, "$ids")', ',')) x)
		AND k.due_at > to_timestamp($t0 + 0.2)")
	early=$(psql_q -Atc "SELECT count(*) FROM hotline.clocks k WHERE k.kind = 'callback' AND k.due_at < to_timestamp($t0)
		AND k.case_id IN (SELECT x::bigint FROM unnest(string_to_array('$(paste -sd, "$ids")', ',')) x)")
	record "due_order" "$(jq -c -n --argjson s "$sent" --argjson st "$st" --arg mode "${MODE:-attempt}" --argjson late "$late" \
		--argjson early "$early" '$s + $st + {mode: $mode, due_before_send: $early, alerted_though_met_in_time: $late}')"
	daemon_stop
	[ "$late" = 0 ] || die "due_order: $late clocks alerted although their event came before their deadline"
}

conns() { # conns N
	db_reset
	daemon_start
	sleep 0.5
	record "conns" "$("$LOADGEN_BIN" --tcp "127.0.0.1:$DPORT" --mode conns --conns "$1" --pid "$DPID" --hold 1 --timeout 60)"
	daemon_stop
}

# The phases of issue 15 (per event type, the naive and limit baselines, history).
. "$ROOT/scripts/bench-cost.sh"

# ----------------------------------------------------------------- report

machine_json() {
	jq -c -n --arg cpu "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" --arg ncpu "$(nproc)" \
		--arg mem "$(free -m | awk '/^Mem:/ { print $2 }')" --arg kernel "$(uname -r)" \
		--arg pg "$("$BIN/postgres" --version | sed 's/.*) //')" --arg hl "$("$HOTLINED_BIN" --version | head -1)" \
		--arg libevent "$(pkg-config --modversion libevent)" --arg libpq "$(pkg-config --modversion libpq)" \
		--arg cc "$(${CC:-cc} --version | head -1)" --arg disk "$(findmnt -n -o SOURCE,FSTYPE --target "$PGDATA_DIR" | tr -s ' ')" \
		--arg fsync "${FSYNC_OPS:-}" --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" --arg quick "$QUICK" \
		--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg seed "$SEED" \
		'{seed: $seed, cpu: $cpu, ncpu: $ncpu, mem_mb: $mem, kernel: $kernel, postgres: $pg, hotlined: $hl, libevent: $libevent,
		  libpq: $libpq, cc: $cc, disk: $disk, fdatasync_per_s: $fsync, date: $date, quick: $quick, loadavg: $load}'
}

render() {
	"$ROOT/tests/bench/render.sh" "$RESULTS" "$RES/machine.json" "$RES" "$WINDOW" "$DUR" >"$OUT"
	echo "bench.sh: wrote $OUT" >&2
}

# -------------------------------------------------------------------- main

case ${1:-run} in
pg-start) pg_start; echo "$CONNINFO"; exit 0 ;;
pg-stop) pg_stop; exit 0 ;;
psql) shift; exec "$BIN/psql" -h "$PGRUN" -p "$PORT" -U "$SUPER" -d hotline "$@" ;;
render)
	WINDOW=${BENCH_WINDOW:-16}; DUR=${BENCH_DURATION:-15}; OUT=${BENCH_OUT:-$ROOT/docs/performance.md}; SEED=${BENCH_SEED:-50000}
	render; exit 0 ;;
snap) shift; snap "$@"; exit 0 ;;
phase) # one phase by hand, for development: scripts/bench.sh phase ingest offered 64
	shift; WINDOW=${BENCH_WINDOW:-16}; DUR=${BENCH_DURATION:-5}; WARM=1; SEED=${BENCH_SEED:-50000}; PROF_S=3
	TYPES_ROUNDS=${BENCH_TYPES_ROUNDS:-500}; CAPTURE_S=${BENCH_CAPTURE_S:-3}
	RESULTS=$RES/phase.jsonl; mkdir -p "$RES"; pg_start; write_conf
	[ "${BENCH_FRESH:-0}" = 1 ] && db_fresh
	"$@"; exit 0 ;;
history-big) # the history phase alone at 100 M events (make bench-history): its records are kept in the tree
	shift; N=${1:-100000000}; WINDOW=${BENCH_WINDOW:-16}; DUR=${BENCH_DURATION:-15}; WARM=2; SEED=${BENCH_SEED:-50000}
	VIEW_RUNS=3; VIEW_TIMEOUT=30
	OUT=${BENCH_OUT:-$ROOT/docs/performance.md}
	BIG_RESULTS=${BENCH_BIG_RESULTS:-$ROOT/tests/bench/history-100m.jsonl}
	for b in "$HOTLINED_BIN" "$LOADGEN_BIN"; do [ -x "$b" ] || die "$b missing (make bench-history builds it)"; done
	cp "$HOTLINED_BIN" "$BENCH/hotlined.bin"; HOTLINED_BIN=$BENCH/hotlined.bin
	history_warn "$N"
	pg_start; write_conf; db_fresh; mkdir -p "$RES"
	RESULTS=$RES/history-big.jsonl; : >"$RESULTS"
	T_BEGIN=$(date +%s)
	history "$N"
	db_reset
	jq -c -n --argjson s $(( $(date +%s) - T_BEGIN )) '{seconds: $s}' | { read -r l; record "total" "$l"; }
	machine_json | { read -r l; record "machine" "$l"; }
	cp "$RESULTS" "$BIG_RESULTS"
	echo "bench.sh: kept the records in $BIG_RESULTS" >&2
	RESULTS=$RES/results.jsonl
	if [ -s "$RESULTS" ]; then render; else echo "bench.sh: no full run to render beside it (make bench)" >&2; fi
	exit 0 ;;
run) ;;
*) echo "usage: $0 run|render|history-big [N]|pg-start|pg-stop|psql|phase NAME ARGS" >&2; exit 2 ;;
esac

for b in "$HOTLINED_BIN" "$LOADGEN_BIN" "$LIMIT_BIN"; do [ -x "$b" ] || die "$b missing (make bench builds it)"; done
command -v pgbench >/dev/null || die "pgbench missing (apt-get install postgresql-client)"
command -v jq >/dev/null || die "jq missing"

if [ "$QUICK" = 1 ]; then
	DUR=${BENCH_DURATION:-3}; WARM=1; BIG=100000; DUE=2000; NCONN=200; PROF_S=2
	TYPES_ROUNDS=300; CAPTURE_S=3; HISTORY=${BENCH_HISTORY:-100000}; DUE_IN=6; VIEW_RUNS=1; VIEW_TIMEOUT=5
	SEED=${BENCH_SEED:-10000}; WEEK_CALLS=${BENCH_WEEK_CALLS:-21000}
	OUT=${BENCH_OUT:-$BENCH/quick.md}
else
	DUR=${BENCH_DURATION:-15}; WARM=2; BIG=1000000; DUE=10000; NCONN=1000; PROF_S=8
	TYPES_ROUNDS=4000; CAPTURE_S=10; HISTORY=${BENCH_HISTORY:-10000000}; DUE_IN=15; VIEW_RUNS=3; VIEW_TIMEOUT=30
	OUT=${BENCH_OUT:-$ROOT/docs/performance.md}
fi
WINDOW=${BENCH_WINDOW:-16}
SEED=${SEED:-${BENCH_SEED:-50000}}
# Other people rebuild build/hotlined while we run: measure one snapshot.
cp "$HOTLINED_BIN" "$BENCH/hotlined.bin"
HOTLINED_BIN=$BENCH/hotlined.bin
T_BEGIN=$(date +%s)

say "PostgreSQL (port $PORT, fsync on, synchronous_commit on)"
pg_start
write_conf
db_fresh
mkdir -p "$RES"
: >"$RESULTS"
FSYNC_OPS=$(cd "$BENCH" && "$BIN/pg_test_fsync" -s 1 -f "$BENCH/fsync.probe" 2>/dev/null |
	awk '/fdatasync/ && /ops\/sec/ { print $2; exit }') || true
rm -f "$BENCH/fsync.probe"
machine_json >"$RES/machine.json"

H="50000 zipf"   # the headline: the real workload, callers Zipf-drawn from 50,000 numbers
say "headline: the real workload (mix + work orders), callers from 50,000 numbers (zipf), 8 connections x 64"
INGEST_WINDOW=64 ingest real 8 $H
say "repeat callers: the same workload with every caller new"
INGEST_WINDOW=64 ingest real 8
say "the headline without the figures' rollup (what keeping it costs)"
INGEST_PHASE=norollup INGEST_ROLLUP=off INGEST_WINDOW=64 ingest real 8 $H
INGEST_PHASE=norollup INGEST_ROLLUP=off INGEST_WINDOW=64 ingest real 8
say "call.offered alone: new callers, then zipf callers"
INGEST_WINDOW=64 ingest offered 8
INGEST_WINDOW=64 ingest offered 8 $H
say "naive: pgbench, 8 clients, one jsonb insert per transaction"
naive_jsonb 8
say "the daemon's own statements, one transaction per event (pgbench, 8 clients)"
stmts mix 8
say "limit: the daemon's captured transactions replayed"
limit_capture $H
if [ "$QUICK" != 1 ]; then
	say "the headline workload on 1 and 64 connections (window $WINDOW)"
	ingest real 1 $H
	ingest real 64 $H
fi
say "open loop: the headline workload at 2000 events/s"
openloop real 2000 8 $H
say "each event type alone: new callers, then zipf callers ($TYPES_ROUNDS rounds)"
types
[ "$QUICK" = 1 ] || types $H
say "profile (perf) under the headline load"
PROF_S=$PROF_S profile real $H

say "clocks: memory and start time"
clocks_mem 0
clocks_mem $((BIG / 10))
clocks_mem "$BIG"
say "clocks: alert lateness, $BIG pending, $DUE due within one second, the headline ingest beside"
lateness "$BIG" "$DUE" "$DUE_IN" ingest

say "connections: $NCONN"
conns "$NCONN"

history_warn "$HISTORY"
say "history: ingest empty, then with $HISTORY events stored; storage; administrator views"
history "$HISTORY"

db_reset
T_ALL=$(( $(date +%s) - T_BEGIN ))
echo "bench.sh: all phases in $T_ALL s" >&2
jq -c -n --argjson s "$T_ALL" '{seconds: $s}' | { read -r l; record "total" "$l"; }
render
