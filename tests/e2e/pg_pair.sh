#!/usr/bin/env bash
# pg_pair.sh - a PostgreSQL primary and its synchronous standby, for the
# failover test in tests/e2e/test_cluster.c.
#
#   pg_pair.sh start DIR PORT1 PORT2   initdb a primary in DIR/primary, clone a
#                                      standby with pg_basebackup into DIR/standby,
#                                      make it synchronous, create database hotline
#   pg_pair.sh kill-primary DIR        stop the primary like a crash (-m immediate)
#   pg_pair.sh promote DIR             promote the standby
#   pg_pair.sh stop DIR                stop both, remove DIR
#
# Unix sockets only, in DIR/run.  synchronous_commit = on with the standby in
# synchronous_standby_names: a COMMIT returns only once the standby has the
# WAL, which is what makes "no acknowledged event lost" true across failover.
set -euo pipefail
cmd=$1 dir=$2
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if [ "$(id -u)" = 0 ]; then
	SUPER=postgres
	as() { runuser -u postgres -- "$@"; }
else
	SUPER=$(id -un)
	as() { "$@"; }
fi

case $cmd in
start)
	p1=$3 p2=$4
	mkdir -p "$dir/run"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
	as "$BIN/initdb" -D "$dir/primary" -U "$SUPER" --auth=trust -N >"$dir/initdb.log" 2>&1
	cat >>"$dir/primary/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir/run'
port = $p1
wal_level = replica
max_wal_senders = 5
synchronous_commit = on
synchronous_standby_names = 'standby'
shared_buffers = 16MB
CONF
	as "$BIN/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w start >/dev/null
	as "$BIN/pg_basebackup" -h "$dir/run" -p "$p1" -U "$SUPER" -D "$dir/standby" -R -X stream >>"$dir/initdb.log" 2>&1
	cat >>"$dir/standby/postgresql.conf" <<CONF
port = $p2
CONF
	echo "primary_conninfo = 'host=$dir/run port=$p1 user=$SUPER application_name=standby'" \
		| as tee -a "$dir/standby/postgresql.auto.conf" >/dev/null
	as "$BIN/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w start >/dev/null
	for _ in $(seq 100); do
		s=$(as "$BIN/psql" -h "$dir/run" -p "$p1" -U "$SUPER" -d postgres -Atc \
			"SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'" 2>/dev/null || true)
		[ "$s" = sync ] && break
		sleep 0.1
	done
	[ "$s" = sync ] || { echo "pg_pair.sh: the standby is not synchronous ($s)" >&2; exit 1; }
	as "$BIN/psql" -h "$dir/run" -p "$p1" -U "$SUPER" -d postgres -qc "CREATE DATABASE hotline" >/dev/null
	;;
kill-primary)
	as "$BIN/pg_ctl" -D "$dir/primary" -m immediate stop >/dev/null
	;;
promote)
	as "$BIN/pg_ctl" -D "$dir/standby" -w promote >/dev/null
	# alone now: without this its commits would wait for a synchronous standby
	# forever (a failover manager does the same, or attaches a new standby)
	port=$(sed -n 's/^port = //p' "$dir/standby/postgresql.conf" | tail -n 1)
	as "$BIN/psql" -h "$dir/run" -p "$port" -U "$SUPER" -d postgres -qAtc \
		"ALTER SYSTEM SET synchronous_standby_names = ''" -c "SELECT pg_reload_conf()" >/dev/null
	;;
stop)
	as "$BIN/pg_ctl" -D "$dir/primary" -m immediate stop >/dev/null 2>&1 || true
	as "$BIN/pg_ctl" -D "$dir/standby" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
	;;
*)
	echo "usage: pg_pair.sh start DIR PORT1 PORT2 | kill-primary DIR | promote DIR | stop DIR" >&2
	exit 2
	;;
esac
