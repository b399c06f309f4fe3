#!/usr/bin/env bash
# scripts/test-browser.sh - the wallboard in headless Chromium against the real daemon and PostgreSQL.
#
# Called by scripts/check.sh (make check) after pg-start.  Builds the daemon
# (the plain build: Chromium and ASan together would only slow the machine
# down; the daemon's HTTP code runs under ASan in tests/e2e/test_http.c),
# then runs tests/browser/test_wallboard.py, which prints
# "test-browser: N passed, N failed".  Chromium comes from Debian's package
# (scripts/deps.sh installs it); without it the test is skipped, loudly.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
MAKE=${MAKE:-make}
if ! command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1; then
	echo "test-browser: SKIP: chromium not found (scripts/deps.sh installs it)"
	exit 0
fi
eval "$(scripts/pg.sh env)"
$MAKE --no-print-directory all >/dev/null || { echo "test-browser: 0 passed, 1 failed (build)"; exit 1; }
exec python3 tests/browser/test_wallboard.py "$@"
