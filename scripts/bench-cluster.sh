#!/usr/bin/env bash
# scripts/bench-cluster.sh - several daemons on one database: ingest with 1, 2
# and 3 daemons, and the takeover time over repeated kill -9 of a clock owner.
#
#   scripts/bench-cluster.sh            (make bench-cluster) prints a Markdown report
#                                       and writes it to var/bench/cluster.md
#
# Uses the development PostgreSQL (scripts/pg.sh; started if needed) and a
# fresh database hl_bench_cluster on it.  Environment: HOTLINED_BIN, LOADGEN_BIN;
# CLUSTER_SECONDS (ingest seconds per run, default 10), CLUSTER_KILLS (default 10).
# Figures are printed, never asserted: the machine is shared.  Each daemon gets
# its own load generator (16 connections x 32 in flight, new callers only), as
# each would behind a load balancer.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
HOTLINED_BIN=${HOTLINED_BIN:-$ROOT/build/hotlined}
LOADGEN_BIN=${LOADGEN_BIN:-$ROOT/build/bench/loadgen}
SECONDS_PER_RUN=${CLUSTER_SECONDS:-10}
KILLS=${CLUSTER_KILLS:-10}
WORK=$(mktemp -d /tmp/hl-bench-cluster-XXXXXX)
OUT=$ROOT/var/bench/cluster.md
mkdir -p "$ROOT/var/bench"
scripts/pg.sh start >/dev/null
eval "$(scripts/pg.sh env)"
DB=hl_bench_cluster
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
SUPER_CI="host=$PGHOST port=$PGPORT dbname=$DB user=$PGUSER"

declare -A PIDS
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

conf() { # conf NAME: a daemon's config
	cat >"$WORK/$1.conf" <<CONF
listen = { tcp = ""; unix = "$WORK/$1.sock"; max_inflight = 4096; };
database = { conninfo = "$SUPER_CI"; };
cluster = { takeover = "2s"; name = "$1"; };
log = { level = "notice"; };
CONF
}
start() { # start NAME
	conf "$1"
	rm -f "$WORK/$1.sock"
	"$HOTLINED_BIN" -c "$WORK/$1.conf" 2>>"$WORK/$1.log" &
	PIDS[$1]=$!
	for _ in $(seq 300); do [ -S "$WORK/$1.sock" ] && return; sleep 0.05; done
	echo "bench-cluster: $1 did not start" >&2; exit 1
}
stop() { kill "${PIDS[$1]}" 2>/dev/null || true; wait "${PIDS[$1]}" 2>/dev/null || true; PIDS[$1]=; }
owned() { "$LOADGEN_BIN" --unix "$WORK/$1.sock" --mode stats 2>/dev/null | grep -o '"slots_owned":[0-9]*' | cut -d: -f2; }
now_ms() { date +%s%3N; }

conf a
"$HOTLINED_BIN" -c "$WORK/a.conf" --migrate --conninfo "$SUPER_CI" >/dev/null

report() { echo "$*" | tee -a "$OUT"; }
: >"$OUT"
report "# Several daemons on one database ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
report ""
report "| daemons | acks/s (sum) | per daemon | p50 ms (worst) | p99 ms (worst) |"
report "|---|---|---|---|---|"
nonce=400000
for n in 1 2 3; do
	names=(a b c)
	for i in $(seq 0 $((n - 1))); do start "${names[$i]}"; done
	sleep 2 # let them share the slots
	loaders=()
	for i in $(seq 0 $((n - 1))); do
		nonce=$((nonce + 1))
		"$LOADGEN_BIN" --unix "$WORK/${names[$i]}.sock" --workload offered --conns 16 --window 32 \
			--duration "$SECONDS_PER_RUN" --warmup 2 --nonce "$nonce" >"$WORK/load-$n-$i.json" &
		loaders+=($!)
	done
	wait "${loaders[@]}"
	sum=0 each="" p50=0 p99=0
	for i in $(seq 0 $((n - 1))); do
		f=$WORK/load-$n-$i.json
		a=$(grep -o '"acks_per_s":[0-9.]*' "$f" | cut -d: -f2)
		l50=$(grep -o '"p50_ms":[0-9.]*' "$f" | cut -d: -f2)
		l99=$(grep -o '"p99_ms":[0-9.]*' "$f" | cut -d: -f2)
		sum=$(echo "$sum + $a" | bc)
		each="$each ${a%.*}"
		p50=$(echo "if ($l50 > $p50) $l50 else $p50" | bc)
		p99=$(echo "if ($l99 > $p99) $l99 else $p99" | bc)
	done
	report "| $n | ${sum%.*} | ${each# } | ${p50%.*} | ${p99%.*} |"
	for i in $(seq 0 $((n - 1))); do stop "${names[$i]}"; done
done

report ""
report "Takeover after kill -9 of a daemon holding half of the 64 slots (cluster.takeover = 2s), $KILLS times:"
report ""
start a
start b
times=()
for k in $(seq "$KILLS"); do
	for _ in $(seq 200); do [ "$(owned b)" = 32 ] && [ "$(owned a)" = 32 ] && break; sleep 0.05; done
	t0=$(now_ms)
	kill -9 "${PIDS[a]}"; wait "${PIDS[a]}" 2>/dev/null || true; PIDS[a]=
	while [ "$(owned b)" != 64 ]; do
		[ $(($(now_ms) - t0)) -gt 30000 ] && { echo "bench-cluster: no takeover in 30 s" >&2; exit 1; }
		sleep 0.01
	done
	times+=($(($(now_ms) - t0)))
	start a
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
cnt=${#times[@]}
pick() { echo "$sorted" | sed -n "$1p"; }
report "| min | median | p90 | max | all (ms) |"
report "|---|---|---|---|---|"
report "| $(pick 1) | $(pick $(((cnt + 1) / 2))) | $(pick $(((cnt * 9 + 9) / 10))) | $(pick "$cnt") | ${times[*]} |"
report ""
report "(measured by polling the survivor's \`stats\` every ~10 ms, so each figure includes up to one poll)"
stop a
stop b
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
