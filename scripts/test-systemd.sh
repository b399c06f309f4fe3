#!/bin/sh
# test-systemd.sh - check the systemd units in systemd/ without a running systemd.
#
#  1. systemd-analyze verify on hotlined.service + hotlined.socket.  verify
#     insists that ExecStart= binaries exist and that Documentation= man pages
#     resolve, so it runs on a copy of the units whose /usr/local/sbin/hotlined
#     is rewritten to a dummy executable in a temp dir, with MANPATH pointing
#     at this tree's man/ pages.  Any output from verify is a failure.  The
#     same for hotline-pbx.service (the Asterisk bridge), whose exposure must
#     also stay within MAX_EXPOSURE.
#  2. systemd-analyze security --offline=yes on the unit as shipped: the
#     overall exposure must be 2.0 or lower ("OK" or better).  systemd >= 252
#     has --threshold (0..100, i.e. exposure x 10); the overall line is also
#     parsed, so older versions work too.
#  3. the sysusers.d and tmpfiles.d snippets applied to a scratch root (when
#     systemd-sysusers / systemd-tmpfiles exist and we are root): the user
#     exists with no login shell, /run/hotlined gets hotlined:hotlined 0750.
#
# Skips (exit 0, with a message) when systemd-analyze is absent.

set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "test-systemd: SKIP: systemd-analyze not found"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hl-systemd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

echo "== $(systemd-analyze --version | head -n 1)"

# --- 1. verify --------------------------------------------------------------
mkdir -p "$tmp/units" "$tmp/sbin" "$tmp/man/man1" "$tmp/man/man5" "$tmp/man/man8"
printf '#!/bin/sh\nexit 0\n' > "$tmp/sbin/hotlined"
chmod 0755 "$tmp/sbin/hotlined"
sed "s|/usr/local/sbin/hotlined|$tmp/sbin/hotlined|g" systemd/hotlined.service > "$tmp/units/hotlined.service"
cp systemd/hotlined.socket "$tmp/units/hotlined.socket"

if grep -q "^ExecStart=$tmp/sbin/hotlined " "$tmp/units/hotlined.service"; then
	ok
else
	bad "hotlined.service: ExecStart= does not run /usr/local/sbin/hotlined (install.mk rewrites that path)"
fi

man_opt=--man=no
if command -v man >/dev/null 2>&1; then
	cp man/hotlinectl.1 "$tmp/man/man1/" && cp man/hotlined.conf.5 "$tmp/man/man5/" &&
		cp man/hotlined.8 "$tmp/man/man8/" && man_opt=--man=yes
fi

echo "== systemd-analyze verify $man_opt hotlined.service hotlined.socket"
# Run from inside the unit directory so that Service=/Requires= resolve there.
if out=$(cd "$tmp/units" && MANPATH="$tmp/man" systemd-analyze verify "$man_opt" \
		./hotlined.service ./hotlined.socket 2>&1) && [ -z "$out" ]; then
	ok
else
	bad "systemd-analyze verify:"
	printf '%s\n' "$out" >&2
fi

# hotline-pbx.service (the Asterisk bridge): verify, and its exposure.
mkdir -p "$tmp/bin" "$tmp/pbx"
printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/hotline-pbx"
chmod 0755 "$tmp/bin/hotline-pbx"
sed "s|/usr/local/bin/hotline-pbx|$tmp/bin/hotline-pbx|g" systemd/hotline-pbx.service > "$tmp/units/hotline-pbx.service"
[ "$man_opt" = --man=yes ] && cp man/hotline-pbx.1 "$tmp/man/man1/"
echo "== systemd-analyze verify $man_opt hotline-pbx.service"
if out=$(cd "$tmp/units" && MANPATH="$tmp/man" systemd-analyze verify "$man_opt" ./hotline-pbx.service 2>&1) &&
	[ -z "$out" ]; then
	ok
else
	bad "systemd-analyze verify hotline-pbx.service:"
	printf '%s\n' "$out" >&2
fi
cp systemd/hotline-pbx.service "$tmp/pbx/hotline-pbx.service"
pbx_overall=$(cd "$tmp/pbx" && systemd-analyze security --offline=yes --no-pager hotline-pbx.service 2>&1 |
	grep 'Overall exposure level' | tail -n 1)
echo "$pbx_overall"
pbx_score=$(printf '%s\n' "$pbx_overall" | sed -n 's/.*: \([0-9][0-9.]*\) .*/\1/p')
if [ -n "$pbx_score" ] && awk -v s="$pbx_score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
	ok
else
	bad "hotline-pbx.service exposure '$pbx_score' is above $MAX_EXPOSURE"
fi

# --- 2. security ------------------------------------------------------------
echo "== systemd-analyze security --offline=yes hotlined.service (want <= $MAX_EXPOSURE)"
cp systemd/hotlined.service "$tmp/hotlined.service"
threshold=$(echo "$MAX_EXPOSURE" | awk '{ printf "%d", $1 * 10 + 0.5 }')
if systemd-analyze security --help 2>/dev/null | grep -q -- '--threshold'; then
	topt=--threshold=$threshold
else
	topt=
fi
set +e
report=$(cd "$tmp" && systemd-analyze security --offline=yes ${topt:+"$topt"} --no-pager hotlined.service 2>&1)
rc=$?
set -e
overall=$(printf '%s\n' "$report" | grep 'Overall exposure level' | tail -n 1)
echo "$overall"
score=$(printf '%s\n' "$overall" | sed -n 's/.*: \([0-9][0-9.]*\) .*/\1/p')
if [ -z "$score" ]; then
	bad "no overall exposure level in the security report"
	printf '%s\n' "$report" >&2
elif awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' && [ $rc -eq 0 ]; then
	ok
else
	bad "exposure $score is above $MAX_EXPOSURE (exit $rc); the exposed settings:"
	printf '%s\n' "$report" | grep '^✗' >&2 || true
fi
# Nothing in the report may be a plain error (a misspelt setting shows up here).
if printf '%s\n' "$report" | grep -qi 'unknown\|failed to parse\|ignoring'; then
	bad "security report has parse warnings:"
	printf '%s\n' "$report" | grep -i 'unknown\|failed to parse\|ignoring' >&2
else
	ok
fi

# --- 3. sysusers.d + tmpfiles.d on a scratch root ------------------------------
if [ "$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null 2>&1 &&
	command -v systemd-tmpfiles >/dev/null 2>&1; then
	echo "== systemd-sysusers + systemd-tmpfiles --root=<scratch>"
	r=$tmp/root
	mkdir -p "$r/etc" "$r/run" "$r/usr/sbin"
	if systemd-sysusers --root="$r" "$here/systemd/hotlined.sysusers.conf" >"$tmp/sysusers.log" 2>&1; then
		ok
	else
		bad "systemd-sysusers failed:"; cat "$tmp/sysusers.log" >&2
	fi
	pw=$(grep '^hotlined:' "$r/etc/passwd" || true)
	gr=$(grep '^hotlined:' "$r/etc/group" || true)
	if [ -n "$pw" ] && [ -n "$gr" ]; then ok; else bad "sysusers created no hotlined user/group"; fi
	uid=$(echo "$pw" | cut -d: -f3)
	if [ -n "$uid" ] && [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ]; then ok; else bad "hotlined uid '$uid' is not a system uid"; fi
	case $pw in
	*nologin) ok ;;
	*) bad "hotlined has a login shell: $pw" ;;
	esac

	# The config exists (as install puts it) so that the "z" lines apply.
	mkdir -p "$r/etc/hotlined"
	: > "$r/etc/hotlined/hotlined.conf"
	chmod 0644 "$r/etc/hotlined/hotlined.conf"
	if systemd-tmpfiles --root="$r" --create "$here/systemd/hotlined.tmpfiles.conf" >"$tmp/tmpfiles.log" 2>&1; then
		ok
	else
		bad "systemd-tmpfiles failed:"; cat "$tmp/tmpfiles.log" >&2
	fi
	gid=$(echo "$gr" | cut -d: -f3)
	st() { stat -c '%a %u %g' "$1" 2>/dev/null || echo missing; }
	want() { # want PATH "MODE UID GID"
		got=$(st "$1")
		if [ "$got" = "$2" ]; then ok; else bad "$1: '$got', want '$2'"; fi
	}
	want "$r/run/hotlined" "750 $uid $gid"
	want "$r/etc/hotlined" "750 0 $gid"
	want "$r/etc/hotlined/hotlined.conf" "640 0 $gid"
else
	echo "note: not root or no systemd-sysusers/systemd-tmpfiles: sysusers.d/tmpfiles.d not applied"
fi

echo "test-systemd: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
