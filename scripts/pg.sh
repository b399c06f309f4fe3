#!/usr/bin/env bash
# scripts/pg.sh - a private PostgreSQL cluster for development and tests.
#
#   scripts/pg.sh start      create (once) and start the cluster, create database "hotline"; idempotent
#   scripts/pg.sh stop       stop it (fast shutdown)
#   scripts/pg.sh status     exit 0 when it is running
#   scripts/pg.sh env        print shell exports (PGHOST.., HOTLINE_TEST_PG*, HOTLINE_CONNINFO)
#   scripts/pg.sh conninfo   print the superuser's libpq connection string (migrations, psql)
#   scripts/pg.sh conninfo-daemon   the daemon's: the unprivileged hotlined role
#   scripts/pg.sh psql [ARGS]  psql into database "hotline" (or -d another)
#
# Layout (under the repository): var/pg/data (PGDATA), var/pg/run (the Unix
# socket; no TCP at all: listen_addresses = ''), var/pg/log/postgresql.log.
# Port 5432 lives in our own socket directory, so it never clashes with a
# system cluster.  Local connections are trusted: this is a developer cluster.
#
# initdb refuses to run as root, so when we are root the cluster belongs to the
# "postgres" user and initdb/pg_ctl run through runuser; the superuser is then
# "postgres", otherwise it is the calling user.  If postgres cannot reach the
# repository (e.g. it lives under /root), or the socket path would be too long
# for a Unix socket, the cluster is kept under /tmp and var/pg is a symlink.
#
# Durability is kept realistic (fsync and synchronous_commit on): the daemon
# acknowledges events only after COMMIT, and the tests should see real costs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${HOTLINE_PGPORT:-5432}
DBNAME=hotline

die() { echo "pg.sh: $*" >&2; exit 1; }

# Newest installed server, e.g. /usr/lib/postgresql/15/bin.
find_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	[ -n "$d" ] && [ -x "$d/initdb" ] || die "no PostgreSQL server found in /usr/lib/postgresql/*/bin (run: make deps)"
	echo "$d"
}
BIN=$(find_bindir)

if [ "$(id -u)" = 0 ]; then
	SUPER=postgres
	as_owner() { runuser -u postgres -- "$@"; }
else
	SUPER=${USER:-$(id -un)}
	as_owner() { "$@"; }
fi

# Where the cluster lives: var/pg, or a /tmp directory it points to (see above).
base_dir() {
	local want=$ROOT/var/pg
	if [ -L "$want" ] || [ -d "$want/data" ]; then
		readlink -f "$want"
		return
	fi
	local ok=1
	# 107 bytes is the Unix socket path limit; "/run/.s.PGSQL.5432" adds 18.
	[ ${#want} -gt 85 ] && ok=0
	if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$ROOT" 2>/dev/null; then ok=0; fi
	if [ $ok = 1 ]; then
		echo "$want"
	else
		local alt
		alt=/tmp/hotlined-pg-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
		mkdir -p "$ROOT/var" "$alt"
		ln -sfn "$alt" "$want"
		echo "$alt"
	fi
}
BASE=$(base_dir)
DATA=$BASE/data
RUN=$BASE/run
LOGDIR=$BASE/log
LOG=$LOGDIR/postgresql.log

# The one place the daemon's connection string is made.
conninfo() { echo "host=$RUN port=$PORT dbname=$DBNAME user=$SUPER"; }
# the daemon's own role (created by the migrations): what var/dev.conf connects as
daemon_conninfo() { echo "host=$RUN port=$PORT dbname=$DBNAME user=hotlined"; }

is_running() { [ -f "$DATA/PG_VERSION" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

init_cluster() {
	mkdir -p "$BASE" "$RUN" "$LOGDIR"
	if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$BASE"; fi
	if [ ! -f "$DATA/PG_VERSION" ]; then
		echo "pg.sh: initdb $DATA"
		as_owner "$BIN/initdb" -D "$DATA" -E UTF8 --locale=C --auth=trust -U "$SUPER" >"$LOGDIR/initdb.log" 2>&1 ||
			{ cat "$LOGDIR/initdb.log" >&2; die "initdb failed"; }
	fi
	# Our settings live in their own file, rewritten at every start so that a
	# moved checkout still gets the right socket directory.
	as_owner tee "$DATA/hotline.conf" >/dev/null <<-EOF
		# written by scripts/pg.sh at every start; edit the script, not this file
		listen_addresses = ''
		unix_socket_directories = '$RUN'
		port = $PORT
		max_connections = 200
		shared_buffers = 128MB
		fsync = on
		synchronous_commit = on
		logging_collector = off
		log_min_messages = warning
	EOF
	grep -q "^include_if_exists = 'hotline.conf'" "$DATA/postgresql.conf" ||
		echo "include_if_exists = 'hotline.conf'" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
}

psql_q() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$PORT" -U "$SUPER" "$@"; }

wait_ready() {
	local _
	for _ in $(seq 1 300); do
		"$BIN/pg_isready" -q -h "$RUN" -p "$PORT" && return 0
		sleep 0.1
	done
	tail -n 30 "$LOG" >&2 || true
	die "server did not become ready (log: $LOG)"
}

start() {
	init_cluster
	if ! is_running; then
		# a stale pid file after a crash is handled by pg_ctl itself
		as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null ||
			{ tail -n 30 "$LOG" >&2; die "pg_ctl start failed (log: $LOG)"; }
	fi
	wait_ready
	if [ "$(psql_q -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")" != 1 ]; then
		psql_q -d postgres -c "CREATE DATABASE $DBNAME"
	fi
	echo "pg.sh: running, $(conninfo)"
}

stop() {
	if is_running; then
		as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
		echo "pg.sh: stopped"
	else
		echo "pg.sh: not running"
	fi
}

case ${1:-} in
start) start ;;
stop) stop ;;
status)
	if is_running; then echo "pg.sh: running, $(conninfo)"; else echo "pg.sh: not running"; exit 1; fi ;;
env)
	cat <<-EOF
		export PGHOST='$RUN' PGPORT='$PORT' PGUSER='$SUPER' PGDATABASE='$DBNAME'
		export HOTLINE_TEST_PGHOST='$RUN' HOTLINE_TEST_PGPORT='$PORT' HOTLINE_TEST_PGUSER='$SUPER'
		export HOTLINE_CONNINFO='$(conninfo)'
	EOF
	;;
conninfo) conninfo ;;
conninfo-daemon) daemon_conninfo ;;
psql)
	shift
	is_running || die "not running (scripts/pg.sh start)"
	exec "$BIN/psql" -h "$RUN" -p "$PORT" -U "$SUPER" -d "$DBNAME" "$@" ;;
*)
	echo "usage: $0 start|stop|status|env|conninfo|conninfo-daemon|psql [psql args]" >&2
	exit 2 ;;
esac
