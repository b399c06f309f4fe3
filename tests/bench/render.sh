#!/usr/bin/env bash
# tests/bench/render.sh RESULTS.jsonl MACHINE.json RESULTS_DIR WINDOW DURATION - print docs/performance.md.
#
# scripts/bench.sh records every figure as one JSON line (field "phase":
# ingest, naive, limit, openloop, clocks, lateness, conns); this turns them
# into the tables of docs/performance.md, computes the ratios against the
# baselines of the same run, checks the targets, appends the perf profile and
# the analysis (tests/bench/analysis.md, written by a person who read a full
# run).  Pure jq + shell, so a rerun of `scripts/bench.sh render` re-renders.
set -euo pipefail
R=$1 M=$2 DIR=$3 WINDOW=$4 DUR=$5
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

q() { jq -r -s "$@" "$R"; }
m() { jq -r "$1" "$M"; }

cat <<EOF
# hotlined performance

Written by \`make bench\` (scripts/bench.sh) on $(m .date)$( [ "$(m .quick)" = 1 ] && echo " — **BENCH_QUICK smoke run, not the reference figures**").
Every figure below comes from one run on one machine; PostgreSQL, the daemon
and the load generator share its CPUs.  The machine is shared and noisy, so
the daemon is compared with baselines measured **in the same run against the
same PostgreSQL cluster**, and the comparisons are given as ratios.

## Machine, versions, settings

| | |
|---|---|
| CPU | $(m .cpu), $(m .ncpu) vCPUs (shared) |
| memory | $(m .mem_mb) MB |
| kernel | $(m .kernel) |
| disk (PGDATA) | $(m .disk); pg_test_fsync: $(m .fdatasync_per_s) fdatasync/s |
| PostgreSQL | $(m .postgres); own cluster, Unix socket; fsync = on, synchronous_commit = on, shared_buffers = 512MB |
| hotlined | $(m .hotlined); database.batch_max = 1000, listen.max_inflight = 1024, log level notice |
| libevent / libpq | $(m .libevent) / $(m .libpq) |
| compiler | $(m .cc), -O2 -g |
| load average at start | $(m .loadavg) |
| phases | ${DUR} s measured each after a warm-up; before each phase the tables are truncated, seeded with a history of 50,000 closed cases (case, call, event, clock each) and ANALYZEd |

Workloads (tests/bench/loadgen.c):
- **offered**: \`call.offered\` from a new caller every time (a new case, two clocks armed).
- **mix**: rounds of six events on two new callers: \`call.offered → call.answered →
  call.ended(followup)\`; \`call.abandoned → callback.attempt(reached)\`;
  \`case.update(caller_informed)\`.  The attempt and the update carry the \`case_id\`
  returned by the daemon, so they are sent after that reply.

Closed loop: each connection keeps a window of ${WINDOW} requests in flight.
Latency = from writing the request to reading its \`ok\`, which the daemon sends
only after COMMIT.

Baselines, same cluster, same run:
- **naive**: pgbench (\`-M simple\`), one transaction per event, one round trip per
  statement: the daemon's own statements for that event (six load SELECTs,
  nextval, the INSERT .. ON CONFLICT writes), parameters inlined
  (tests/bench/make-naive.sh).  pgbench clients = connections.
- **limit**: tests/bench/limit.c, a bare libpq client in pipeline mode on one
  connection running the daemon's batch statements (same SQL text) for
  1000 events per transaction, back to back, with no parsing or rules.

## 1. Ingest

EOF

echo "| workload | conns | daemon acks/s | p50 ms | p99 ms | p99.9 ms | max ms | mean batch | naive acks/s | daemon / naive | daemon / limit |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
q -r '
  (map(select(.phase == "limit")) | map({key: .workload, value: .events_per_s}) | from_entries) as $lim |
  (map(select(.phase == "naive")) | map({key: "\(.workload)/\(.conns)", value: .acks_per_s}) | from_entries) as $nv |
  map(select(.phase == "ingest"))[] |
  ($nv["\(.workload)/\(.conns)"] // 0) as $n | ($lim[.workload] // 0) as $l |
  "| \(.workload) | \(.conns) | \(.acks_per_s | round) | \(.p50_ms) | \(.p99_ms) | \(.p999_ms) | \(.max_ms) | \(.batch_size_mean * 10 | round / 10) | \($n | round) | \(if $n > 0 then (.acks_per_s / $n * 10 | round / 10 | tostring) + "×" else "–" end) | \(if $l > 0 then (.acks_per_s / $l * 100 | round / 100 | tostring) else "–" end) |"'
echo
echo "Errors during ingest: $(q '[.[] | select(.phase == "ingest" or .phase == "openloop") | .errors] | add // 0')."
echo
echo "Limit (bare pipeline, 1000 events per transaction, one connection):"
echo
echo "| workload | events/s | batch p50 ms | batch p99 ms |"
echo "|---|---:|---:|---:|"
q -r 'map(select(.phase == "limit"))[] | "| \(.workload) | \(.events_per_s | round) | \(.batch_p50_ms) | \(.batch_p99_ms) |"'
echo
echo "Naive per-event transaction time (pgbench mean latency per event): $(q -r '[.[] | select(.phase == "naive") | "\(.workload)/\(.conns): \(.mean_tx_ms * 100 | round / 100) ms"] | join(", ")')."
echo
echo "### Open loop: fixed rate, latency from the scheduled send time"
echo
echo "| workload | conns | offered events/s | acks/s | p50 ms | p99 ms | p99.9 ms | max ms | mean batch | mean commit ms |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
q -r 'map(select(.phase == "openloop"))[] | "| \(.workload) | \(.conns) | \(.rate) | \(.acks_per_s | round) | \(.p50_ms) | \(.p99_ms) | \(.p999_ms) | \(.max_ms) | \(.batch_size_mean * 10 | round / 10) | \(.commit_ms_mean * 10 | round / 10) |"'

cat <<'EOF'

## 2. Clocks

Pending clocks are created in bulk with SQL before the daemon starts (one case
and one pending clock per row).  Start time = from exec to the "ready" log
line (the daemon has COPYed every pending clock into its timer heap).  RSS
from /proc/PID/status one second after ready.

EOF
echo "| pending clocks | start ms | RSS MB | timer_bytes (stats) | timer bytes / clock | RSS bytes / clock (vs 0) |"
echo "|---:|---:|---:|---:|---:|---:|"
q -r '(map(select(.phase == "clocks" and .clocks == 0))[0].rss_kb // 0) as $r0 |
  map(select(.phase == "clocks"))[] |
  "| \(.clocks) | \(.start_ms) | \(.rss_kb / 1024 * 10 | round / 10) | \(.timer_bytes) | \(if .clocks > 0 then (.timer_bytes / .clocks | round | tostring) else "–" end) | \(if .clocks > 0 then ((.rss_kb - $r0) * 1024 / .clocks | round | tostring) else "–" end) |"'
echo
echo "Alert lateness (push arrival at a subscriber minus the clock's due_at, wall clock):"
echo
echo "| pending | due in the same second | alerts received | p50 ms | p99 ms | max ms | start ms | batches | mean batch | mean batch ms |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
q -r 'map(select(.phase == "lateness"))[] | "| \(.pending) | \(.expected) | \(.alerts) | \(.p50_ms) | \(.p99_ms) | \(.max_ms) | \(.start_ms) | \(.batches // "–") | \((.batch_size_mean // 0) | round) | \((.commit_ms_mean // 0) | round) |"'

cat <<'EOF'

## 3. Connections

EOF
echo "| connections | failed | RSS before MB | RSS with all open MB | bytes / connection |"
echo "|---:|---:|---:|---:|---:|"
q -r 'map(select(.phase == "conns"))[] | "| \(.conns) | \(.failed) | \(.rss_before_kb / 1024 * 10 | round / 10) | \(.rss_after_kb / 1024 * 10 | round / 10) | \(.bytes_per_conn) |"'

cat <<'EOF'

## Targets

EOF
echo "| target | measured | met |"
echo "|---|---|---|"
q -r '
  def yes(c): if c then "yes" else "**no**" end;
  (map(select(.phase == "limit")) | map({key: .workload, value: .events_per_s}) | from_entries) as $lim |
  (map(select(.phase == "naive")) | map({key: "\(.workload)/\(.conns)", value: .acks_per_s}) | from_entries) as $nv |
  (map(select(.phase == "ingest")) | map(. + {rn: (.acks_per_s / ($nv["\(.workload)/\(.conns)"] // 1e-9))})) as $in |
  ($in | map(select(.conns == 64)) | map({w: .workload, rl: (.acks_per_s / ($lim[.workload] // 1e-9))})) as $rl |
  (map(select(.phase == "openloop"))) as $ol |
  (map(select(.phase == "clocks")) | sort_by(.clocks)) as $ck |
  (($ck | map(select(.clocks == 0))[0].rss_kb) // 0) as $r0 |
  ($ck | last) as $big |
  (map(select(.phase == "lateness"))[0]) as $lt |
  "| ingest ≥ 3× naive (every workload and connection count) | \($in | map("\(.workload)/\(.conns): \(.rn * 10 | round / 10)×") | join(", ")) | \(yes($in | all(.rn >= 3))) |",
  "| ingest ≥ ½ limit (64 connections) | \($rl | map("\(.w): \(.rl * 100 | round / 100)") | join(", ")) | \(yes($rl | all(.rl >= 0.5))) |",
  "| p99 ack ≤ 10 ms at 2,000 events/s (open loop) | \($ol | map("\(.workload): \(.p99_ms) ms") | join(", ")) | \(yes($ol | all(.p99_ms <= 10))) |",
  "| ≤ 150 bytes per pending clock | \($big.clocks) clocks: \((($big.rss_kb - $r0) * 1024 / $big.clocks) | round) B RSS, \($big.timer_bytes / $big.clocks | round) B timer | \(yes(($big.rss_kb - $r0) * 1024 / $big.clocks <= 150)) |",
  "| \($big.clocks) clocks loaded in ≤ 5 s | \($big.start_ms) ms | \(yes($big.start_ms <= 5000)) |",
  "| alert lateness p99 ≤ 100 ms | p99 \($lt.p99_ms) ms (\($lt.alerts)/\($lt.expected) alerts) | \(yes($lt.p99_ms <= 100 and $lt.alerts == $lt.expected)) |"'

for f in "$DIR"/profile-*.txt; do
	[ -f "$f" ] || continue
	echo
	echo "## Profile: $(basename "$f" .txt)"
	echo
	echo "perf record -e cpu-clock -F 999 -p (the daemon, every process of the benchmark's PostgreSQL cluster, loadgen) during a 64-connection phase; percentages are of all samples of those processes:"
	echo
	echo '```'
	cat "$f"
	echo '```'
done

echo
if [ -f "$HERE/analysis.md" ]; then
	cat "$HERE/analysis.md"
fi
