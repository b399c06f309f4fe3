#!/bin/sh
# test-install.sh - check "make install" / "make uninstall" (mk/install.mk).
#
# Installs into a throw-away DESTDIR and checks the tree: every file where
# hotlined(8) says it is, with the right mode, nothing outside PREFIX and /etc,
# the units pointing at the installed binary, an admin's configuration never
# overwritten.  Then "make uninstall" must leave nothing but empty directories
# (and an edited configuration, which it keeps on purpose).  Done twice: for
# the default PREFIX (/usr/local) and for PREFIX=/usr.
#
#   scripts/test-install.sh           uses the real build (make builds it)
#   scripts/test-install.sh --stub    stand-in binaries (and example config,
#                                     when conf/hotlined.conf is missing): tests
#                                     the packaging while the code is unfinished
#
# Exit status 0 when every check passed.

set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

stub=0
[ "${1:-}" = "--stub" ] && stub=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hl-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...
	desc=$1; shift
	if "$@"; then ok; else bad "$desc"; fi
}

# Until the top-level Makefile includes mk/install.mk, pull it in ourselves.
if grep -q '^[[:space:]]*-\{0,1\}include[[:space:]].*mk/install\.mk' Makefile; then
	set -- -f Makefile
else
	set -- -f Makefile -f mk/install.mk
fi

if [ $stub = 1 ]; then
	mkdir -p "$tmp/stub"
	printf '#!/bin/sh\necho "hotlined stub"\n' > "$tmp/stub/hotlined"
	printf '#!/bin/sh\necho "hotlinectl stub"\n' > "$tmp/stub/hotlinectl"
	printf '#!/bin/sh\necho "hotline-pbx stub"\n' > "$tmp/stub/hotline-pbx"
	chmod 0755 "$tmp/stub/hotlined" "$tmp/stub/hotlinectl" "$tmp/stub/hotline-pbx"
	set -- "$@" HOTLINED_BIN="$tmp/stub/hotlined" HOTLINECTL_BIN="$tmp/stub/hotlinectl" \
		HOTLINE_PBX_BIN="$tmp/stub/hotline-pbx"
	if [ ! -f conf/hotlined.conf ]; then
		printf '# stub example configuration\nlisten = { tcp = "127.0.0.1:7370"; };\n' > "$tmp/stub/hotlined.conf"
		set -- "$@" HL_CONF_EX="$tmp/stub/hotlined.conf"
		conf_ex=$tmp/stub/hotlined.conf
	else
		conf_ex=conf/hotlined.conf
	fi
else
	conf_ex=conf/hotlined.conf
	check "conf/hotlined.conf exists in the source tree" test -f "$conf_ex"
fi

mk() { make --no-print-directory "$@" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log" >&2; return 1; }; }

mode_of() { stat -c %a "$1"; }

# has_mode FILE MODE: a regular file with exactly that mode
has_mode() {
	[ -f "$1" ] || { echo "  missing: $1" >&2; return 1; }
	m=$(mode_of "$1")
	[ "$m" = "$2" ] || { echo "  $1: mode $m, want $2" >&2; return 1; }
}

same() { cmp -s "$1" "$2" || { echo "  $2 differs from $1" >&2; return 1; }; }

# only_under ROOT PREFIX: every file in ROOT lies under PREFIX or /etc/hotlined
only_under() {
	stray=$(find "$1" ! -type d | sed "s|^$1||" | grep -v -e "^$2/" -e '^/etc/hotlined/')
	[ -z "$stray" ] || { echo "  installed outside $2 and /etc/hotlined:" "$stray" >&2; return 1; }
}

no_files_left() {
	left=$(find "$1" ! -type d)
	[ -z "$left" ] || { echo "  left behind:" "$left" >&2; return 1; }
}

unit_execs() { # the ExecStart/ExecStartPre binaries named in a unit
	sed -n 's/^ExecStart\(Pre\)\{0,1\}=[-@:+!]*\([^ ]*\).*/\2/p' "$1" | sort -u
}

execs_are() {
	execs=$(unit_execs "$1" | tr '\n' ' ')
	[ "$execs" = "$2 " ] || { echo "  $1 runs '$execs', want '$2'" >&2; return 1; }
}

run_case() { # run_case PREFIX MAKE-ARGS...
	p=$1; shift
	d=$tmp/root$(echo "$p" | tr / _)
	mkdir -p "$d"
	echo "== make install DESTDIR=$d PREFIX=$p"
	if ! mk "$@" install DESTDIR="$d" PREFIX="$p"; then
		bad "make install PREFIX=$p failed"
		return 0
	fi
	ok

	check "hotlined in sbin, 0755" has_mode "$d$p/sbin/hotlined" 755
	check "hotlinectl in bin, 0755" has_mode "$d$p/bin/hotlinectl" 755
	check "hotline-pbx in bin, 0755" has_mode "$d$p/bin/hotline-pbx" 755
	check "hotline-pbx.1" has_mode "$d$p/share/man/man1/hotline-pbx.1" 644
	check "hotline-pbx example config in doc" same conf/hotline-pbx.conf "$d$p/share/doc/hotlined/hotline-pbx.conf.example"
	check "hotline-pbx.service runs $p/bin/hotline-pbx" execs_are "$d$p/lib/systemd/system/hotline-pbx.service" "$p/bin/hotline-pbx"
	if [ $stub = 0 ]; then
		check "installed hotlined --version runs" sh -c "'$d$p/sbin/hotlined' --version >/dev/null"
	fi

	n=0
	for f in sql/[0-9][0-9][0-9]_*.sql; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		check "$f installed 0644" has_mode "$d$p/share/hotlined/sql/${f#sql/}" 644
		check "$f installed unchanged" same "$f" "$d$p/share/hotlined/sql/${f#sql/}"
	done
	check "at least one migration in sql/" test "$n" -gt 0
	nsql=$(find "$d$p/share/hotlined/sql" -type f | wc -l)
	check "exactly the $n migrations installed (found $nsql)" test "$nsql" -eq "$n"

	check "hotlinectl.1" has_mode "$d$p/share/man/man1/hotlinectl.1" 644
	check "hotlined.conf.5" has_mode "$d$p/share/man/man5/hotlined.conf.5" 644
	check "hotlined.8" has_mode "$d$p/share/man/man8/hotlined.8" 644
	check "operations.md" has_mode "$d$p/share/doc/hotlined/operations.md" 644
	for f in docs/*.md; do
		check "$f installed" has_mode "$d$p/share/doc/hotlined/${f#docs/}" 644
	done
	# every document the README links to is installed beside it
	for f in $(grep -o '](docs/[^)#]*' README.md | sed 's|^](docs/||' | sort -u); do
		check "README's link docs/$f installed" test -f "$d$p/share/doc/hotlined/$f"
	done
	check "example config in doc" same "$conf_ex" "$d$p/share/doc/hotlined/hotlined.conf.example"

	u=$d$p/lib/systemd/system
	check "hotlined.service" has_mode "$u/hotlined.service" 644
	check "hotlined.socket" has_mode "$u/hotlined.socket" 644
	check "socket unit unchanged" same systemd/hotlined.socket "$u/hotlined.socket"
	check "sysusers.d/hotlined.conf" same systemd/hotlined.sysusers.conf "$d$p/lib/sysusers.d/hotlined.conf"
	check "tmpfiles.d/hotlined.conf" same systemd/hotlined.tmpfiles.conf "$d$p/lib/tmpfiles.d/hotlined.conf"
	check "service runs $p/sbin/hotlined" execs_are "$u/hotlined.service" "$p/sbin/hotlined"
	if [ "$p" != /usr/local ]; then
		check "no /usr/local left in the service for PREFIX=$p" \
			sh -c "! grep -q '^Exec.*/usr/local/' '$u/hotlined.service'"
	fi

	check "/etc/hotlined is 0750" test "$(mode_of "$d/etc/hotlined")" = 750
	check "config installed 0640" has_mode "$d/etc/hotlined/hotlined.conf" 640
	check "config is the example" same "$conf_ex" "$d/etc/hotlined/hotlined.conf"
	check "nothing outside $p and /etc/hotlined" only_under "$d" "$p"

	# An admin's configuration survives a reinstall ...
	echo "# edited by the admin" >> "$d/etc/hotlined/hotlined.conf"
	cp "$d/etc/hotlined/hotlined.conf" "$tmp/edited.conf"
	if mk "$@" install DESTDIR="$d" PREFIX="$p"; then ok; else bad "second make install failed"; fi
	check "reinstall keeps the edited config" same "$tmp/edited.conf" "$d/etc/hotlined/hotlined.conf"
	check "reinstall says it kept the config" grep -q "keeping existing" "$tmp/make.log"

	# ... and an uninstall: everything else goes.
	echo "== make uninstall DESTDIR=$d PREFIX=$p (edited config)"
	if mk "$@" uninstall DESTDIR="$d" PREFIX="$p"; then ok; else bad "make uninstall failed"; fi
	check "uninstall keeps the edited config" same "$tmp/edited.conf" "$d/etc/hotlined/hotlined.conf"
	rm -f "$d/etc/hotlined/hotlined.conf"
	check "uninstall removed everything else" no_files_left "$d"

	# An unmodified config is removed by uninstall.
	echo "== make install + uninstall DESTDIR=$d PREFIX=$p (pristine config)"
	if mk "$@" install DESTDIR="$d" PREFIX="$p" && mk "$@" uninstall DESTDIR="$d" PREFIX="$p"; then
		ok
	else
		bad "install/uninstall round trip failed"
	fi
	check "uninstall leaves only empty directories" no_files_left "$d"
	check "uninstall leaves the directories" test -d "$d$p/share/hotlined/sql"
}

# Manual pages: groff must render them without a warning.
if command -v groff >/dev/null 2>&1; then
	for m in man/hotlined.8 man/hotlined.conf.5 man/hotlinectl.1 man/hotline-pbx.1; do
		w=$(groff -man -ww -z "$m" 2>&1)
		if [ -z "$w" ]; then ok; else bad "$m: groff warnings: $w"; fi
	done
else
	echo "note: groff not found, manual pages not linted"
fi

for prefix in /usr/local /usr; do
	run_case "$prefix" "$@"
done

echo "test-install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
