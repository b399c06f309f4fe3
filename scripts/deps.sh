#!/usr/bin/env bash
# scripts/deps.sh - install the Debian packages needed to build, test and run hotlined.
#
# Only what is missing is installed.  As root it runs apt-get itself (updating
# the package lists first when they are empty, or when an install fails on a
# stale list); otherwise it prints the exact apt-get line and fails only when
# something is actually missing, so a prepared machine needs no root.
set -euo pipefail

PKGS=(build-essential pkg-config libevent-dev libpq-dev libconfig-dev libjson-c-dev
      libcriterion-dev libsystemd-dev libssl-dev zlib1g-dev postgresql tzdata clang netcat-openbsd
      chromium fonts-noto-cjk python3)  # chromium: the wallboard test (scripts/test-browser.sh); the font: its Chinese
# zlib1g-dev: hotline-pbx reads rotated queue_logs logrotate compressed
# python3 drives that test and scripts/test-{config,metrics}-docs.py (it was used without being listed)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root:  apt-get update && $line" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
	echo "deps: apt-get update (package lists are empty)"
	apt-get update -q
fi
echo "deps: $line"
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
	echo "deps: install failed, refreshing the package lists and retrying"
	apt-get update -q
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
