#!/usr/bin/env bash
# scripts/bench-pbx.sh - how fast hotline-pbx imports a PBX's history (make bench-pbx).
#
#   scripts/bench-pbx.sh      BENCH_PBX_DAYS (default 7) days of BENCH_PBX_CALLS (default 5500)
#                             calls each: a mid-size hotline (2M calls a year is ~5,500 a day);
#                             BENCH_PBX_WINDOW (events in flight, default 1024) and
#                             BENCH_PBX_BATCH (the daemon's database.batch_max, default 1000)
#
# Generates the queue_log with tests/pbx/gen-queue-log, starts the daemon
# (HOTLINED_BIN) on a fresh database "hotline_pbxbench" of the private cluster
# (scripts/pg.sh, fsync on), imports with `hotline-pbx --backfill` (HOTLINE_PBX_BIN)
# and prints events per second and the time a year (8M events) would take at
# that rate.  Timings are printed, never asserted; not part of `make check`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DAYS=${BENCH_PBX_DAYS:-7}
CALLS=${BENCH_PBX_CALLS:-5500}
HOTLINED_BIN=${HOTLINED_BIN:-build/hotlined}
HOTLINE_PBX_BIN=${HOTLINE_PBX_BIN:-build/hotline-pbx}
work=$ROOT/var/bench-pbx
mkdir -p "$work"
rm -f "$work"/events.sock "$work"/pbx.state

scripts/pg.sh start >/dev/null
super=$(scripts/pg.sh conninfo)
scripts/pg.sh psql -q -c "DROP DATABASE IF EXISTS hotline_pbxbench" -c "CREATE DATABASE hotline_pbxbench" >/dev/null
conninfo=$(printf '%s' "$super" | sed 's/dbname=[^ ]*/dbname=hotline_pbxbench/')

cat > "$work/hotlined.conf" <<CONF
listen = { tcp = ""; unix = "$work/events.sock"; max_inflight = ${BENCH_PBX_WINDOW:-1024}; };
database = { conninfo = "$conninfo"; batch_max = ${BENCH_PBX_BATCH:-1000}; };
CONF
cat > "$work/pbx.conf" <<CONF
pbx = { socket = "$work/events.sock"; state_file = "$work/pbx.state"; id_prefix = "b:";
        country_code = "86"; national_length = 11; window = ${BENCH_PBX_WINDOW:-1024}; };
CONF
"$HOTLINED_BIN" -c "$work/hotlined.conf" --migrate >/dev/null
"$HOTLINED_BIN" -c "$work/hotlined.conf" 2> "$work/hotlined.log" &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$work/events.sock" ] && break; sleep 0.1; done

echo "generating $DAYS day(s) x $CALLS calls ..." >&2
tests/pbx/gen-queue-log --days "$DAYS" --calls "$CALLS" > "$work/queue_log"
lines=$(wc -l < "$work/queue_log")

start=$(date +%s.%N)
"$HOTLINE_PBX_BIN" -q -c "$work/pbx.conf" --backfill queue-log "$work/queue_log" 2> "$work/pbx.log"
end=$(date +%s.%N)
tail -1 "$work/pbx.log"
events=$(sed -n 's/.* lines, \([0-9]*\) events.*/\1/p' "$work/pbx.log" | tail -1)
awk -v l="$lines" -v e="$events" -v s="$start" -v t="$end" -v d="$DAYS" -v c="$CALLS" 'BEGIN {
	secs = t - s; rate = e / secs
	printf "hotline-pbx --backfill: %d days, %d calls, %d lines, %d events in %.1f s: %.0f events/s\n", d, d * c, l, e, secs, rate
	printf "a year of a mid-size hotline (8,000,000 events) at this rate: %.1f min\n", 8000000 / rate / 60
}'
kill $daemon
wait $daemon 2>/dev/null || true
