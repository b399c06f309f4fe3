# scripts/bench-cost.sh - the phases of issue 15 ("the cost of an event"), sourced by scripts/bench.sh.
#
#   types      each event type alone on the idle cluster: rows, index entries,
#              WAL, the daemon's and PostgreSQL's CPU per event (deltas of
#              counters taken between loadgen's stages, see snap;
#              BENCH_BETWEEN names another command for between the stages,
#              e.g. one that also saves pg_stat_statements per type: it must
#              run `scripts/bench.sh snap LABEL` with the label it is given);
#   naive_jsonb the NAIVE baseline of the issue: pgbench, 8 clients, one
#              transaction per event holding ONE insert of the event as jsonb
#              into a table with a bigserial key (a user's simplest design);
#   limit_capture the LIMIT baseline: the daemon's own transactions under the
#              headline workload, captured from the log and replayed by
#              tests/bench/limit.c in large transactions;
#   history    ingest on an (almost) empty database, then with N events stored
#              (tests/sql/gen10m.sql, scaled), bytes per stored event, and
#              the time of every administrator view at that size.
#
# Schema-agnostic on purpose (other branches partition case_events, add
# rollups, change the statements): tables and indexes come from the catalog
# (pg_stat_user_tables, pg_index, pg_partition_tree), the administrator views
# are found by name in the hotline schema, and the limit replays whatever the
# daemon sent.  Uses bench.sh's variables and functions (psql_q, db_reset,
# daemon_start, record, ...).

# ------------------------------------------------------------ snapshots

# snap LABEL: one JSON line of counters to $BENCH_SNAP_OUT (run by loadgen
# --between through `scripts/bench.sh snap`, while the daemon is idle).
# PostgreSQL 15 backends publish their table and WAL counters when they go
# idle, but at most once a second, and an idle backend that skipped a flush
# waits up to 10 s.  So: wait 1.2 s, then make the daemon's backend run one
# read-only transaction (a case.get over the protocol); it flushes before it
# answers.
snap() {
	sleep 1.2
	exec 3<>"/dev/tcp/127.0.0.1/$DPORT"
	printf '{"type":"case.get","id":"snap","case_id":1}\n' >&3
	read -r -t 10 _ <&3 || true
	exec 3>&-
	local cpu_d=0 cpu_pg=0 pm p tck
	tck=$(getconf CLK_TCK)
	[ -n "${BENCH_SNAP_DPID:-}" ] && cpu_d=$(awk '{ print $14 + $15 }' "/proc/$BENCH_SNAP_DPID/stat")
	# the postmaster's own CPU and its reaped children's (a backend that
	# exited between two snapshots is counted there), then the live children
	pm=$(head -n 1 "$PGDATA_DIR/postmaster.pid")
	cpu_pg=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
	for p in $(pgrep -P "$pm"); do
		cpu_pg=$((cpu_pg + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	psql_q -Atc "SELECT json_build_object(
	    'label', '$1', 't_ms', (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
	    'wal_lsn', pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
	    'wal_records', (SELECT wal_records FROM pg_stat_wal), 'wal_fpi', (SELECT wal_fpi FROM pg_stat_wal),
	    'cpu_daemon_us', $cpu_d::bigint * 1000000 / $tck, 'cpu_pg_us', $cpu_pg::bigint * 1000000 / $tck,
	    'tables', (SELECT json_object_agg(s.relid::regclass::text, json_build_array(s.n_tup_ins, s.n_tup_upd,
	        s.n_tup_hot_upd, (SELECT count(*) FROM pg_index i WHERE i.indrelid = s.relid)))
	      FROM pg_stat_user_tables s WHERE s.schemaname <> 'naive'))" >>"$BENCH_SNAP_OUT"
}

# jq: the snapshots -> one object per stage (the difference between the
# snapshot before a type's stage and the next one), joined with loadgen's
# counts.  Index entries = rows inserted x the table's indexes + rows updated
# other than HOT x the table's indexes (a HOT update adds no index entry).
SNAP_DIFF='
  def d(a; b): (a // 0) - (b // 0);
  . as $s | [range(0; ($s | length) - 1) | . as $i | $s[$i] as $b | $s[$i + 1] as $a |
    ($a.tables | to_entries | map(. as $e | ($b.tables[$e.key] // [0, 0, 0, 0]) as $o |
      {table: $e.key, ins: d($e.value[0]; $o[0]), upd: d($e.value[1]; $o[1]), hot: d($e.value[2]; $o[2]),
       idx: $e.value[3]}) | map(select(.ins != 0 or .upd != 0))) as $t |
    {type: $b.label, seconds: (($a.t_ms - $b.t_ms) / 1000),
     wal_bytes: d($a.wal_lsn; $b.wal_lsn), wal_records: d($a.wal_records; $b.wal_records),
     wal_fpi: d($a.wal_fpi; $b.wal_fpi),
     cpu_daemon_us: d($a.cpu_daemon_us; $b.cpu_daemon_us), cpu_pg_us: d($a.cpu_pg_us; $b.cpu_pg_us),
     rows_ins: ($t | map(.ins) | add // 0), rows_upd: ($t | map(.upd) | add // 0),
     rows_hot: ($t | map(.hot) | add // 0),
     index_entries: ($t | map(.ins * .idx + (.upd - .hot) * .idx) | add // 0),
     tables: ($t | map("\(.table | sub("^hotline\\."; "")) +\(.ins)/~\(.upd)") | join(" "))}]'

# types [CALLERS [zipf]]: every event type alone, ROUNDS of each.
types() {
	db_reset
	daemon_start
	local snaps=$BENCH/snaps.jsonl out
	: >"$snaps"
	out=$(BENCH_SNAP_OUT=$snaps BENCH_SNAP_DPID=$DPID "$LOADGEN_BIN" --tcp "127.0.0.1:$DPORT" --mode types \
		--rounds "$TYPES_ROUNDS" --conns 8 --window 64 --timeout 1800 --nonce "$(nonce)" \
		--between "${BENCH_BETWEEN:-$ROOT/scripts/bench.sh snap}" ${1:+--callers "$1"} ${2:+--$2})
	daemon_stop
	jq -s "$SNAP_DIFF" "$snaps" >"$BENCH/types.json"
	jq -c --argjson lg "$out" '.[] | . as $d | ($lg.stages | map(select(.type == $d.type))[0]) as $st |
		$d + {events: $st.events, errors: $st.errors, callers: $lg.callers, zipf: $lg.zipf}' "$BENCH/types.json" |
		while read -r line; do record "types" "$line"; done
}

# ---------------------------------------------------------- baselines

# The issue's naive design: one transaction per event, one INSERT of the
# event as jsonb (the body loadgen sends for call.offered) into a table with
# a bigserial key, pgbench, 8 clients.  Its own schema (naive), a new table
# each time.
naive_jsonb() { # naive_jsonb CLIENTS
	psql_q -c "CREATE SCHEMA IF NOT EXISTS naive" -c "DROP TABLE IF EXISTS naive.events" \
		-c "CREATE TABLE naive.events (id bigserial PRIMARY KEY, body jsonb NOT NULL)" -c "CHECKPOINT" >/dev/null
	local pgb=$BENCH/naive_jsonb.pgb out tps lat
	cat >"$pgb" <<-'EOF'
		\set n random(1, 1000000000)
		INSERT INTO naive.events (body) VALUES ('{"type":"call.offered","id":"n:client_id-:n","call_id":"k:client_id-:n","caller":"+7:n","queue":"bench"}');
	EOF
	out=$(pgbench -n -M simple -h "$PGRUN" -p "$PORT" -U "$SUPER" -c "$1" -j 2 -T "$DUR" -f "$pgb" hotline 2>&1) ||
		{ echo "$out" >&2; die "pgbench failed"; }
	tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
	lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
	record "naive_jsonb" "$(jq -c -n --argjson c "$1" --argjson tps "$tps" --argjson lat "$lat" \
		'{conns: $c, acks_per_s: $tps, mean_tx_ms: $lat}')"
	psql_q -c "DROP TABLE naive.events" >/dev/null
}

# The limit: run the headline workload once with every statement of the
# daemon logged, cut its transactions out of the log (capture.py), put the
# database back where that run started, and replay them (limit.c).
limit_capture() { # limit_capture CALLERS zipf
	db_reset
	write_conf "options='-c log_statement=all'"
	local off before after events
	off=$(stat -c %s "$PGLOG")
	before=$(psql_q -Atc "SELECT count(*) FROM hotline.case_events")
	daemon_start
	"$LOADGEN_BIN" --tcp "127.0.0.1:$DPORT" --workload real --conns 8 --window 64 --duration "$CAPTURE_S" \
		--warmup 0 --nonce "$(nonce)" ${1:+--callers "$1"} ${2:+--$2} >/dev/null
	daemon_stop
	write_conf
	after=$(psql_q -Atc "SELECT count(*) FROM hotline.case_events")
	events=$((after - before))
	tail -c +$((off + 1)) "$PGLOG" | python3 "$ROOT/tests/bench/capture.py" >"$BENCH/capture.bin"
	db_reset
	record "limit" "$("$LIMIT_BIN" --conninfo "$CONNINFO" --capture "$BENCH/capture.bin" --events "$events" \
		--merge "${BENCH_LIMIT_MERGE:-4}" | jq -c --arg w real --argjson c "${1:-0}" '. + {workload: $w, callers: $c}')"
	rm -f "$BENCH/capture.bin"
}

# ------------------------------------------------------------ history

# tests/sql/gen10m.sql scaled to EVENTS (it makes 10 events per case for
# 1,000,000 cases: its case count and its open-case bound are rewritten);
# its trigger switches are dropped when the trigger no longer exists.
gen_history() { # gen_history EVENTS
	local cases=$(($1 / 10)) sql=$BENCH/gen-history.sql trig
	trig=$(psql_q -Atc "SELECT count(*) FROM pg_trigger WHERE tgname = 'clocks_record_run'")
	# Beyond 10 M events (1 M cases) the history grows denser, not longer, and
	# what an administrator lists does not grow with it: the cases still come
	# within one year (one every 30/k seconds: gen10m.sql makes the months of
	# 2025, and events past them would fill the default partition), and the
	# open cases (50,000), overdue callbacks (2,000) and open alerts (1,000)
	# stay as many as at 10 M.  At 10 M and below the file runs as it is.
	local k=1 step=30 open=$((cases * 95 / 100))
	if [ "$cases" -gt 1000000 ]; then
		k=$((cases / 1000000)); step=$(awk -v k="$k" 'BEGIN { printf "%g", 30 / k }'); open=$((cases - 50000))
	fi
	sed -e "s/i % 500\b/i % $((500 * k))/g" -e "s/i % 1000\b/i % $((1000 * k))/g" -e "s/(i \/ 500)/(i \/ $((500 * k)))/g" \
		-e "s/interval '30 s'/interval '$step s'/g" \
		-e "s/\b1000000\b/$cases/g" -e "s/\b950000\b/$open/g" "$ROOT/tests/sql/gen10m.sql" |
		{ if [ "$trig" = 0 ]; then grep -v 'TRIGGER clocks_record_run'; else cat; fi; } >"$sql"
	# the generator changed shape: it runs at its own size, and the report says how many events there are
	grep -qw 1000000 "$ROOT/tests/sql/gen10m.sql" ||
		echo "bench.sh: tests/sql/gen10m.sql has no 1000000-case literal to scale; it runs at its own size" >&2
	local tables
	tables=$(psql_q -Atc "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') FROM pg_tables
		WHERE schemaname = 'hotline' AND tablename NOT IN ('schema_migrations', 'pseudonym_key')")
	psql_q -c "TRUNCATE $tables CASCADE" >/dev/null
	psql_q -f "$sql" >"$BENCH/gen-history.log" 2>&1 || { tail -n 20 "$BENCH/gen-history.log" >&2; die "gen history failed"; }
	psql_q -c "CHECKPOINT" >/dev/null
}

# Bytes per stored event: the event table (all its partitions, with indexes
# and TOAST) and every table of the database, over the events stored.
storage_json() {
	psql_q -Atc "WITH leaves AS (
	    SELECT relid FROM pg_partition_tree('hotline.case_events') WHERE isleaf
	    UNION SELECT 'hotline.case_events'::regclass
	    WHERE NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = 'hotline.case_events'::regclass)),
	  ev AS (
	    SELECT sum(pg_total_relation_size(relid)) AS bytes,
	           sum((SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = relid)) AS n
	    FROM leaves),
	  alltab AS (SELECT sum(pg_total_relation_size(c.oid)) AS bytes FROM pg_class c
	    JOIN pg_namespace s ON s.oid = c.relnamespace
	    WHERE c.relkind = 'r' AND s.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'naive'))
	  SELECT json_build_object('events', ev.n::bigint, 'event_table_bytes', ev.bytes, 'all_tables_bytes', alltab.bytes,
	    'bytes_per_event', round(ev.bytes / nullif(ev.n, 0)), 'all_bytes_per_event', round(alltab.bytes / nullif(ev.n, 0)))
	  FROM ev, alltab"
}

# The administrator views, found by name (every view of the hotline schema
# that hotline_admin may read, but the masked v_* copies; internal views such
# as figure_facts, which only the rollup's owner reads, are left out), each timed with EXPLAIN ANALYZE (rows are
# produced, not sent): a view with a day column for one day and for one
# month, one with a month column for one month, one whose name says history
# or runs for one case, any other as the whole list.  clock_runs is timed
# for one case like case_history: it is every run of every clock ever (two
# million rows at ten million events), a case's deadline history, and no
# administrator question of issue 15 reads all of it (the day's callback
# figures are daily_figures; docs/admin.md).  Best of VIEW_RUNS (3: warm)
# runs; one run when it takes more than 2 s, and VIEW_TIMEOUT (30) seconds
# at most (recorded as -1).
view_queries() {
	local day month case_id
	read -r day month case_id < <(psql_q -Atc "SELECT d, date_trunc('month', d)::date,
	    (SELECT id FROM hotline.cases WHERE opened_at >= d ORDER BY opened_at LIMIT 1)
	  FROM (SELECT (min(opened_at) + (max(opened_at) - min(opened_at)) / 2)::date AS d FROM hotline.cases) x" | tr '|' ' ')
	psql_q -Atc "SELECT c.relname, bool_or(a.attname = 'day'), bool_or(a.attname = 'month'), bool_or(a.attname = 'case_id')
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'hotline'
	  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
	  WHERE c.relkind IN ('v', 'm') AND c.relname NOT LIKE 'v\\_%'
	    AND has_table_privilege('hotline_admin', c.oid, 'SELECT') GROUP BY 1 ORDER BY 1" |
	while IFS='|' read -r v hasday hasmonth hascase; do
		if [ "$hasday" = t ]; then
			printf '%s\tone day\tSELECT * FROM hotline.%s WHERE day = %s\n' "$v" "$v" "'$day'"
			printf '%s\tone month\tSELECT * FROM hotline.%s WHERE day >= %s AND day < %s::date + 31\n' "$v" "$v" "'$month'" "'$month'"
		elif [ "$hasmonth" = t ]; then
			printf '%s\tone month\tSELECT * FROM hotline.%s WHERE month = %s\n' "$v" "$v" "'$month'"
		elif [ "$hascase" = t ] && [[ $v == *history* || $v == *_runs ]]; then
			printf '%s\tone case\tSELECT * FROM hotline.%s WHERE case_id = %s\n' "$v" "$v" "$case_id"
		else
			printf '%s\tthe list\tSELECT * FROM hotline.%s\n' "$v" "$v"
		fi
	done
}

# query_ms QUERY: "ms rows" of one query, EXPLAIN ANALYZE planning +
# execution, best of VIEW_RUNS (3) runs each in a new session (an
# administrator opening psql), one run when it takes more than 2 s,
# VIEW_TIMEOUT (30) seconds at most (-1).
query_ms() {
	local i ms best= rows=0 out
	for i in $(seq 1 "${VIEW_RUNS:-3}"); do
		out=$(psql_q -Atc "SET statement_timeout = '${VIEW_TIMEOUT:-30}s'" -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $1" 2>/dev/null |
			jq '.[0] | [."Planning Time" + ."Execution Time", .Plan."Actual Rows"]' -c) || out='[-1,0]'
		ms=$(jq '.[0]' <<<"$out")
		if [ -z "$best" ] || awk "BEGIN { exit !($ms < $best) }"; then best=$ms; rows=$(jq '.[1]' <<<"$out"); fi
		awk "BEGIN { exit !($ms > 2000 || $ms < 0) }" && break # slow: once is enough
	done
	echo "$best $rows"
}

time_views() { # time_views EVENTS
	local v what q ms rows
	view_queries | while IFS=$'\t' read -r v what q; do
		read -r ms rows < <(query_ms "$q")
		record "view" "$(jq -c -n --arg v "$v" --arg w "$what" --arg q "$q" --argjson ms "$ms" --argjson rows "$rows" \
			--argjson ev "$1" '{view: $v, what: $w, query: $q, ms: $ms, rows: $rows, history: $ev}')"
	done
}

# week_views EVENTS: the lists that read the last days' calls, against a
# week of a large city's line.  The generated history has no call in the
# last seven days, so time_views times repeat_callers on none.  Here
# WEEK_CALLS (210,000: 30,000 a day) inbound calls of the last seven days
# are added, from WEEK_CALLS * 5 / 7 numbers drawn log-uniformly (the k-th
# with probability ~1/k: some call often), one in three confidential, then
# repeat_callers and repeat_callers_between for the week are timed as
# time_views does, and the calls and numbers are deleted again (the ingest
# that follows meets the history alone, as before).  Measured by hand in
# session 26 (docs/explain.md, "037").
week_views() { # week_views EVENTS
	local n=${WEEK_CALLS:-210000} nums pfx q ms rows
	nums=$((n * 5 / 7)); pfx="+8617$(nonce)"
	psql_q <<-SQL >/dev/null
		INSERT INTO hotline.callers (caller, confidential)
		  SELECT '$pfx' || lpad(g::text, 7, '0'), g % 3 = 0 FROM generate_series(1, $nums) g;
		INSERT INTO hotline.calls (call_id, case_id, caller, state, offered_at, answered_at, ended_at, agent)
		  SELECT 'wk$pfx-' || g, 0, '$pfx' || lpad(floor(exp(random() * ln($nums)))::int::text, 7, '0'),
		         CASE WHEN g % 10 = 0 THEN 'abandoned' ELSE 'ended' END, t,
		         CASE WHEN g % 10 <> 0 THEN t + interval '20 s' END, t + interval '5 min', 'agent' || g % 50
		  FROM generate_series(1, $n) g, LATERAL (SELECT now() - g * interval '7 days' / ($n + 1) AS t) x;
		VACUUM ANALYZE hotline.calls, hotline.callers;
	SQL
	for q in "SELECT * FROM hotline.repeat_callers" \
		"SELECT * FROM hotline.repeat_callers_between(now() - interval '7 days', now(), 2)"; do
		read -r ms rows < <(query_ms "$q")
		record "view_week" "$(jq -c -n --arg v "$(sed -E 's/.*hotline\.([a-z_]+).*/\1/' <<<"$q")" --arg q "$q" \
			--argjson ms "$ms" --argjson rows "$rows" --argjson ev "$1" --argjson n "$n" --argjson nums "$nums" \
			'{view: $v, what: "a week of \($n) calls", query: $q, ms: $ms, rows: $rows, history: $ev, calls: $n, numbers: $nums}')"
	done
	psql_q <<-SQL >/dev/null
		DELETE FROM hotline.calls WHERE call_id LIKE 'wk$pfx-%';
		DELETE FROM hotline.callers WHERE caller LIKE '$pfx%';
		VACUUM ANALYZE hotline.calls, hotline.callers;
	SQL
}

# stmts_reset / stmts_record EVENTS: the daemon's statements during one
# ingest, from pg_stat_statements (bench.sh preloads it): the eight that took
# the most time, each with its calls, mean ms and buffers per call - what a
# batch's commit is made of, on the empty and on the large database side by
# side.  Skipped when the extension cannot be created.
stmts_reset() {
	psql_q -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" \
		>/dev/null 2>&1 || true
}
stmts_record() {
	local j
	j=$(psql_q -Atc "SELECT json_agg(x) FROM (SELECT calls, round(mean_exec_time::numeric, 2) AS mean_ms,
	    round(total_exec_time::numeric) AS total_ms, shared_blks_hit / greatest(calls, 1) AS hit_per_call,
	    shared_blks_read / greatest(calls, 1) AS read_per_call, left(regexp_replace(query, '\s+', ' ', 'g'), 100) AS query
	  FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
	    AND query !~* '^(TRUNCATE|VACUUM|CHECKPOINT|CREATE|DO|BEGIN|COMMIT)'
	  ORDER BY total_exec_time DESC LIMIT 8) x" 2>/dev/null) || return 0
	[ -n "$j" ] && record "statements" "$(jq -c -n --argjson s "$j" --argjson h "$1" '{history: $h, statements: $s}')"
	return 0
}

# history_warn EVENTS: what a large history costs, said before it starts
# (measured at 100 M: 39 minutes to generate, ~50 GB at its peak).
history_warn() {
	[ "$1" -ge 50000000 ] || return 0
	echo "bench.sh: history of $1 events: about $(($1 / 10000000 * 4)) min to generate and" \
		"$(($1 / 10000000 * 5)) GB of disk ($(df -h --output=avail "$BENCH" | tail -1) free)" >&2
}

# history EVENTS: the headline ingest on the seeded, almost empty database,
# then EVENTS generated, their storage and views, and the same ingest on top;
# the statements of both ingests (stmts_record).
history() {
	db_reset
	stmts_reset
	INGEST_PHASE=history INGEST_RESET=0 INGEST_WINDOW=64 ingest real 8 50000 zipf
	stmts_record 0
	local t0 t1
	t0=$(date +%s)
	gen_history "$1"
	t1=$(date +%s)
	record "storage" "$(storage_json | jq -c --argjson s $((t1 - t0)) '. + {gen_seconds: $s}')"
	time_views "$1"
	week_views "$1"
	stmts_reset
	INGEST_PHASE=history INGEST_RESET=0 INGEST_WINDOW=64 INGEST_HISTORY=$1 ingest real 8 50000 zipf
	stmts_record "$1"
}
