#!/usr/bin/env bash
# scripts/sql-test.sh - apply every migration to fresh databases and run the
# SQL tests of what administrators see (tests/sql/*_test.sql).
#
#   scripts/sql-test.sh            uses HOTLINE_TEST_PGHOST/PORT/USER, else PGHOST/PGPORT/PGUSER
#
# Two databases are made on the same cluster and every migration is applied
# to each, one file per transaction (as `hotlined --migrate` does): the
# second proves the migrations succeed when the cluster-wide roles already
# exist.  Each test script then runs in both.  The databases are dropped at
# the end, whatever happened.  Needs a superuser (or a database owner with
# CREATEROLE and CREATEDB).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PGHOST=${HOTLINE_TEST_PGHOST:-${PGHOST:-}}
export PGPORT=${HOTLINE_TEST_PGPORT:-${PGPORT:-5432}}
export PGUSER=${HOTLINE_TEST_PGUSER:-${PGUSER:-$(id -un)}}
[ -n "$PGHOST" ] || unset PGHOST

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d postgres)
DBS=("hl_sqltest_$$_a" "hl_sqltest_$$_b")
LOGS=$(mktemp -d /tmp/hl_sqltest.XXXXXX)

cleanup() {
	for db in "${DBS[@]}"; do "${PSQL[@]}" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; done
	rm -rf "$LOGS"
}
trap cleanup EXIT

fail=0
npass=0
nfail=0
for db in "${DBS[@]}"; do
	"${PSQL[@]}" -c "CREATE DATABASE $db" >/dev/null
	for f in "$ROOT"/sql/[0-9][0-9][0-9]_*.sql; do
		PGOPTIONS='-c client_min_messages=warning' "${PSQL[@]}" -d "$db" -1 -f "$f" >/dev/null \
			|| { echo "sql-test: $(basename "$f") failed on $db" >&2; exit 1; }
	done
	echo "sql-test: migrations applied to $db"
	for t in "$ROOT"/tests/sql/*_test.sql; do
		if "${PSQL[@]}" -d "$db" -f "$t" >"$LOGS/$db.$(basename "$t").log" 2>&1; then
			n=$(grep -c 'NOTICE:  ok' "$LOGS/$db.$(basename "$t").log")
			echo "sql-test: $(basename "$t") on $db: PASS ($n assertions)"
			npass=$((npass + n))
		else
			nfail=$((nfail + 1))
			echo "sql-test: $(basename "$t") on $db: FAIL" >&2
			grep -E 'ERROR|FAIL' "$LOGS/$db.$(basename "$t").log" >&2 || tail -n 20 "$LOGS/$db.$(basename "$t").log" >&2
			fail=1
		fi
	done
done
echo "sql-test: $npass passed, $nfail failed"
exit $fail
