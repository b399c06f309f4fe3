#!/usr/bin/env bash
# scripts/test-manpages.sh - hold the manual pages to the programs' --help.
#
# For each (program, page) pair: every option --help lists must be in the
# page, and every option the page documents must be in --help (a page that
# documents a removed option, or an option nobody documented, fails).
# Options are extracted generically, so the test keeps working when the
# option parsing changes: long options as "--name" anywhere in --help and as
# "\-\-name" in the page; short options as "-x," / "-x " at the start of a
# --help line and as "\-x" at the start of a .B/.BI/.BR line of the page.
#
# Prints "test-manpages: N passed, N failed" (scripts/check.sh collects it).
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
B=${B:-build}
HOTLINED_BIN=${HOTLINED_BIN:-$B/hotlined}
HOTLINECTL_BIN=${HOTLINECTL_BIN:-$B/hotlinectl}

# the plain build, made if absent (scripts/check.sh builds the sanitized one)
if [ ! -x "$HOTLINED_BIN" ] || [ ! -x "$HOTLINECTL_BIN" ]; then
	${MAKE:-make} --no-print-directory all >/dev/null 2>&1 || true
fi

pass=0
fail=0

help_opts() { # the options a --help text lists, one a line
	"$1" --help 2>&1 | {
		text=$(cat)
		printf '%s\n' "$text" | grep -oE -- '(^|[[ ,|(])--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z][a-z0-9-]*'
		printf '%s\n' "$text" | grep -oE -- '^[[:space:]]*-[a-zA-Z0-9]([ ,]|$)' | grep -oE -- '-[a-zA-Z0-9]'
	} | sort -u
}

page_opts() { # the options a man page documents, one a line
	{
		grep -oE -- '\\-\\-[a-z][a-z0-9-]*' "$1" | sed 's/\\//g'
		grep -E -- '^\.(B|BI|BR|IR|IB) *"?\\-[a-zA-Z0-9]\b' "$1" | grep -oE -- '\\-[a-zA-Z0-9]\b' | sed 's/\\//g' \
			| grep -vE -- '^-[a-zA-Z0-9][a-z]'
	} | sort -u
}

check_pair() { # PROGRAM PAGE
	local prog=$1 page=$2 o
	if [ ! -x "$prog" ]; then
		echo "test-manpages: $prog not built" >&2
		fail=$((fail + 1))
		return
	fi
	local h p
	h=$(help_opts "$prog")
	p=$(page_opts "$page")
	if [ -z "$h" ]; then
		echo "FAIL: $prog --help lists no option" >&2
		fail=$((fail + 1))
		return
	fi
	for o in $h; do
		if printf '%s\n' "$p" | grep -qxF -- "$o"; then
			pass=$((pass + 1))
		else
			echo "FAIL: $prog --help lists $o, $page does not document it" >&2
			fail=$((fail + 1))
		fi
	done
	for o in $p; do
		if printf '%s\n' "$h" | grep -qxF -- "$o"; then
			pass=$((pass + 1))
		else
			echo "FAIL: $page documents $o, $prog --help does not list it" >&2
			fail=$((fail + 1))
		fi
	done
}

check_pair "$HOTLINED_BIN" man/hotlined.8
check_pair "$HOTLINECTL_BIN" man/hotlinectl.1

echo "test-manpages: $pass passed, $fail failed"
[ "$fail" = 0 ]
