#!/usr/bin/env bash
# tests/stress/stress.sh - the long versions of the chaos tests (`make stress`).
#
# Runs the durability, fault, limit and access end-to-end binaries with HL_STRESS=N,
# which multiplies their volumes (N x 2000 events through SIGTERM, 4 x N x 1000
# through kill -9, N crash cycles, ...), ROUNDS times in a row, one test at a
# time (--jobs 1: the machine is shared).  Each round gets fresh databases and,
# for the outage tests, a fresh throwaway PostgreSQL cluster.  Then, when the
# fuzz targets can be built (clang), a short fuzzing pass (FUZZ_SECONDS each).
#
#   STRESS_SCALE   volume multiplier (default 5)
#   STRESS_ROUNDS  how many times to run the whole set (default 3)
#   STRESS_FUZZ    seconds per fuzz target, 0 = skip (default 120)
#   B              build directory holding hotlined and tests/ (default build)
#
# Output goes to var/stress.log as well; the last line is "N passed, N failed".
# Exit status 0 only when every run of every binary passed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2
B=${B:-build}
SCALE=${STRESS_SCALE:-5}
ROUNDS=${STRESS_ROUNDS:-3}
FUZZ=${STRESS_FUZZ:-120}
MAKE=${MAKE:-make}
mkdir -p var
LOG=var/stress.log
: >"$LOG"

eval "$(scripts/pg.sh env)"
export HOTLINED_BIN=$B/hotlined HOTLINECTL_BIN=$B/hotlinectl HL_STRESS=$SCALE
# sanitizer builds: stop at the first report
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

BINS="$B/tests/e2e_test_durability $B/tests/e2e_test_faults $B/tests/e2e_test_limits $B/tests/e2e_test_access"
rc=0
for round in $(seq 1 "$ROUNDS"); do
	for t in $BINS; do
		if [ ! -x "$t" ]; then
			echo "stress: $t is missing (make $t)" | tee -a "$LOG"
			rc=1
			continue
		fi
		echo "== round $round/$ROUNDS: $t (HL_STRESS=$SCALE)" | tee -a "$LOG"
		start=$(date +%s)
		# one test at a time: several tests stop PostgreSQL clusters and kill daemons
		"$t" --jobs 1 2>&1 | tee -a "$LOG"
		[ "${PIPESTATUS[0]}" = 0 ] || rc=1
		echo "   ($(( $(date +%s) - start )) s)" | tee -a "$LOG"
	done
done

if [ "$FUZZ" != 0 ]; then
	if command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
		echo "== fuzzing, $FUZZ s per target" | tee -a "$LOG"
		$MAKE --no-print-directory fuzz FUZZ_SECONDS="$FUZZ" 2>&1 | grep -v '^#[0-9]' | tee -a "$LOG"
		[ "${PIPESTATUS[0]}" = 0 ] || rc=1
	else
		echo "stress: no clang, fuzzing skipped" | tee -a "$LOG"
	fi
fi

read -r passed failed < <(sed 's/\x1b\[[0-9;]*m//g' "$LOG" |
	awk '/Synthesis: Tested:/ {
		for (i = 1; i <= NF; i++) { if ($i == "Passing:") p += $(i+1); if ($i == "Failing:") f += $(i+1) }
	} END { print p + 0, f + 0 }')
echo "$passed passed, $failed failed" | tee -a "$LOG"
exit $rc
