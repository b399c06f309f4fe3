#!/usr/bin/env bash
# scripts/check.sh - run every test (unit + end-to-end) under ASan/UBSan and sum the results.
#
# Called by `make check` after deps and pg-start.  It builds every test binary
# in parallel (`make -j SAN=1 tests`, and the plain `all`), runs `make -k SAN=1
# unit e2e` (so a failing unit suite does not hide the end-to-end results), then the
# packaging checks scripts/test-install.sh (make install/uninstall into a
# DESTDIR, with the real non-sanitized build) and scripts/test-systemd.sh
# (systemd-analyze verify/security; it skips when systemd-analyze is absent),
# scripts/sql-test.sh (the administrators' SQL assertions on fresh databases),
# scripts/test-manpages.sh (every option of the man pages against --help),
# scripts/test-config-docs.sh (the documented defaults, ranges and reload split
# of every configuration key against daemon/config_table.c),
# scripts/test-metrics-docs.sh (every metric the rules and docs name exists) and
# scripts/test-browser.sh (the wallboard in headless Chromium).
# The full output goes to var/check.log.  It adds up Criterion's "Synthesis"
# lines and the scripts' "test-X: N passed, N failed" lines and ends with one
# plain line "N passed, N failed".  A script that fails without printing its
# summary counts as one failure.  Exit status: 0 only when the build and every
# test binary and script succeeded and nothing failed.
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

# Build first, on every core (both builds: the sanitized one the suites run,
# the plain one the packaging scripts install); the suites then run one at
# a time, as their second-scale deadlines expect.  Serial, the two builds
# took a third of the check's time.
jobs=$(nproc 2>/dev/null || echo 2)
$MAKE --no-print-directory -k -j"$jobs" SAN=1 tests 2>&1 | tee var/check.log
build_rc=${PIPESTATUS[0]}
$MAKE --no-print-directory -k -j"$jobs" all 2>&1 | tee -a var/check.log
[ "${PIPESTATUS[0]}" = 0 ] || build_rc=1
$MAKE --no-print-directory -k SAN=1 unit e2e 2>&1 | tee -a var/check.log
rc=${PIPESTATUS[0]}
[ "$build_rc" = 0 ] || rc=1

# Packaging: each script prints "NAME: N passed, N failed" (or a SKIP line).
script_passed=0
script_failed=0
for script in scripts/sql-test.sh scripts/test-install.sh scripts/test-systemd.sh scripts/test-manpages.sh scripts/test-config-docs.sh scripts/test-metrics-docs.sh scripts/test-browser.sh; do
	name=$(basename "$script" .sh)
	echo "== $script" | tee -a var/check.log
	out=$(mktemp)
	MAKE="$MAKE" bash "$script" >"$out" 2>&1
	src=$?
	tee -a var/check.log <"$out"
	summary=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$out" | tail -n 1)
	rm -f "$out"
	if [ -n "$summary" ]; then
		read -r p f < <(echo "$summary" | awk '{ print $2, $4 }')
		script_passed=$((script_passed + p))
		script_failed=$((script_failed + f))
		if [ "$src" != 0 ] && [ "$f" = 0 ]; then
			echo "check: $script exited $src with no failed check counted" | tee -a var/check.log
			script_failed=$((script_failed + 1))
		fi
	elif [ "$src" != 0 ]; then
		echo "check: $script exited $src without a summary; counted as 1 failed" | tee -a var/check.log
		script_failed=$((script_failed + 1))
	fi
	[ "$src" = 0 ] || rc=1
done

# [====] Synthesis: Tested: 3 | Passing: 1 | Failing: 2 | Crashing: 1   (Failing includes Crashing)
read -r passed failed < <(sed 's/\x1b\[[0-9;]*m//g' var/check.log |
	awk '/Synthesis: Tested:/ {
		for (i = 1; i <= NF; i++) { if ($i == "Passing:") p += $(i+1); if ($i == "Failing:") f += $(i+1) }
	} END { print p + 0, f + 0 }')
passed=$((passed + script_passed))
failed=$((failed + script_failed))

if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
	echo "check: make failed (exit $rc) outside the counted tests: a build error or a test binary that died; see var/check.log"
fi
echo "$passed passed, $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ]
