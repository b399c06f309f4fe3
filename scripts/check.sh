#!/usr/bin/env bash
# scripts/check.sh - run every test (unit + end-to-end) under ASan/UBSan and sum the results.
#
# Called by `make check` after deps and pg-start.  It runs `make -k SAN=1 unit
# e2e` (so a failing unit suite does not hide the end-to-end results), keeps
# the full output in var/check.log, adds up Criterion's "Synthesis" lines and
# ends with one plain line "N passed, N failed".  Exit status: 0 only when the
# build and every test binary succeeded and nothing failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
MAKE=${MAKE:-make}
mkdir -p var

# The e2e harness creates one database per test on the private cluster.
eval "$(scripts/pg.sh env)"

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1

# LeakSanitizer stops the world with ptrace-like machinery that some sandboxes
# forbid; then it fails every program at exit.  Detect that once, up front.
probe=$(mktemp -d)
printf 'int main(void) { return 0; }\n' >"$probe/p.c"
if cc -fsanitize=address -o "$probe/p" "$probe/p.c" 2>/dev/null; then
	if ! "$probe/p" >"$probe/out" 2>&1 || grep -q 'LeakSanitizer has encountered a fatal error' "$probe/out"; then
		echo "check: WARNING: LeakSanitizer does not work here (ptrace restricted?); running with detect_leaks=0" >&2
		cat "$probe/out" >&2
		export ASAN_OPTIONS=detect_leaks=0
	fi
fi
rm -rf "$probe"

$MAKE --no-print-directory -k SAN=1 unit e2e 2>&1 | tee var/check.log
rc=${PIPESTATUS[0]}

# [====] Synthesis: Tested: 3 | Passing: 1 | Failing: 2 | Crashing: 1   (Failing includes Crashing)
read -r passed failed < <(sed 's/\x1b\[[0-9;]*m//g' var/check.log |
	awk '/Synthesis: Tested:/ {
		for (i = 1; i <= NF; i++) { if ($i == "Passing:") p += $(i+1); if ($i == "Failing:") f += $(i+1) }
	} END { print p + 0, f + 0 }')

if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
	echo "check: make failed (exit $rc) outside the counted tests: a build error or a test binary that died; see var/check.log"
fi
echo "$passed passed, $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ]
