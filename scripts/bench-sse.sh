#!/usr/bin/env bash
# scripts/bench-sse.sh - `make bench` (bench-sse): 1,000 SSE clients receive each new alert while ingest continues.
#
# Uses the private cluster of `make run` (scripts/pg.sh), a fresh database
# hl_bench_sse, and the daemon with http.listen and two tokens; then
# build/bench/ssefan opens SSE_CLIENTS streams (default 1000), starts a
# background ingest over POST /v1/events, raises SSE_ALERTS alerts (default 20)
# and prints the delivery latency per client (p50/p99/max, share within 1 s).
# Output also goes to var/bench/sse.txt.  Timings are printed, never asserted.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
HOTLINED_BIN=${HOTLINED_BIN:-$ROOT/build/hotlined}
SSEFAN_BIN=${SSEFAN_BIN:-$ROOT/build/bench/ssefan}
CLIENTS=${SSE_CLIENTS:-1000}
ALERTS=${SSE_ALERTS:-20}
scripts/pg.sh start >/dev/null
eval "$(scripts/pg.sh env)"
DB=hl_bench_sse
TMP=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
cat >"$TMP/hotlined.conf" <<CONF
listen = { tcp = ""; unix = "$TMP/events.sock"; };
database = { conninfo = "host=$PGHOST port=$PGPORT dbname=$DB user=hotlined"; };
alerts = { transfer_limit = 1; };
log = { level = "notice"; };
http = { listen = "127.0.0.1:$PORT";
  tokens = ( { token = "bench-view"; name = "wall"; role = "viewer"; },
             { token = "bench-ingest"; name = "pbx"; role = "ingest"; } ); };
CONF
"$HOTLINED_BIN" -c "$TMP/hotlined.conf" --migrate --conninfo "host=$PGHOST port=$PGPORT dbname=$DB user=$PGUSER" >/dev/null
"$HOTLINED_BIN" -c "$TMP/hotlined.conf" 2>"$TMP/hotlined.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB"; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do
	python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz', timeout=1)" 2>/dev/null && break
	sleep 0.1
done
mkdir -p var/bench
echo "== SSE fan-out: $CLIENTS clients, $ALERTS alerts, ingest continuing ($(nproc) cores, $(date -u +%FT%TZ))" | tee var/bench/sse.txt
"$SSEFAN_BIN" "$PORT" bench-view bench-ingest "$CLIENTS" "$ALERTS" | tee -a var/bench/sse.txt
