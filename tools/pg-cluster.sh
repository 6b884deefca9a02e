#!/bin/sh
# pg-cluster.sh -- a throwaway PostgreSQL cluster for tests and benchmarks
# (issue 6): its own data directory under a temporary directory, listening
# on 127.0.0.1 only, on a free port, with trust authentication (nothing
# but this machine's loopback can reach it, and it holds only test data).
#
#   pg-cluster.sh start [DIR]   create (initdb) when DIR has no cluster yet,
#                               then start; without DIR a new temporary
#                               directory is made.  Prints shell
#                               assignments: PGCLUSTER PGPORT PG_DSN
#   pg-cluster.sh stop DIR      clean shutdown (pg_ctl -m fast)
#   pg-cluster.sh kill DIR      crash it: pg_ctl -m immediate (no
#                               checkpoint; the next start does recovery)
#   pg-cluster.sh status DIR    exit 0 when running
#   pg-cluster.sh env DIR       print the assignments again
#   pg-cluster.sh createdb DIR NAME   a new database; prints its DSN
#   pg-cluster.sh psql DIR [DB] [psql args...]
#   pg-cluster.sh destroy DIR   stop (immediate) and remove DIR
#
# PostgreSQL refuses to run as root.  Run as root, the script makes DIR
# belong to the "postgres" user (Debian's package creates it; override
# with PG_CLUSTER_USER) and runs initdb, pg_ctl and postgres as that user
# through runuser(1).  DIR itself is created with mktemp under
# ${TMPDIR:-/tmp} so that its parent is traversable by that user.
# Otherwise everything runs as the calling user.
#
# The cluster's superuser is "scepd"; the default database is "scepd".
# Binaries: PG_BINDIR, else pg_config --bindir, else Debian's
# /usr/lib/postgresql/<newest>/bin.
#
# Durability is PostgreSQL's default (fsync on, synchronous_commit on):
# the store relies on COMMIT being durable, and the benchmark should
# measure that.  PG_CLUSTER_FAST=1 turns fsync off for quick local runs.
set -eu

die() { printf 'pg-cluster: %s\n' "$*" >&2; exit 1; }

bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		printf '%s\n' "$PG_BINDIR"
		return
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
		if [ -x "$d/initdb" ]; then
			printf '%s\n' "$d"
			return
		fi
	done
	if command -v pg_config > /dev/null 2>&1; then
		d=$(pg_config --bindir)
		if [ -x "$d/initdb" ]; then
			printf '%s\n' "$d"
			return
		fi
	fi
	die "no PostgreSQL server binaries (initdb) found; set PG_BINDIR"
}

BIN=$(bindir)
RUNAS=""
if [ "$(id -u)" = 0 ]; then
	RUNAS=${PG_CLUSTER_USER:-postgres}
	id "$RUNAS" > /dev/null 2>&1 ||
	    die "running as root needs an unprivileged user \"$RUNAS\""
fi

# as_pg CMD...: run as the cluster's owner.
as_pg() {
	if [ -n "$RUNAS" ]; then
		runuser -u "$RUNAS" -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

need_dir() {
	[ -n "${1:-}" ] || die "usage: pg-cluster.sh $CMD DIR"
	[ -f "$1/data/PG_VERSION" ] || die "$1: no cluster here"
}

port_of() {
	cat "$1/port"
}

print_env() {
	port=$(port_of "$1")
	printf 'PGCLUSTER=%s\n' "$1"
	printf 'PGPORT=%s\n' "$port"
	printf 'PG_DSN=postgresql://scepd@127.0.0.1:%s/scepd\n' "$port"
}

is_running() {
	as_pg "$BIN/pg_ctl" -D "$1/data" status > /dev/null 2>&1
}

# Write the settings that differ from initdb's defaults.
configure() {
	dir=$1
	port=$2
	fsync=on
	[ "${PG_CLUSTER_FAST:-0}" = 1 ] && fsync=off
	as_pg sh -c "cat > '$dir/data/postgresql.auto.conf'" <<EOF
# Written by tools/pg-cluster.sh: a throwaway cluster on loopback.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/sock'
max_connections = 200
shared_buffers = '64MB'
fsync = $fsync
log_min_messages = warning
log_connections = off
log_line_prefix = '%m [%p] '
EOF
	printf '%s\n' "$port" > "$dir/port"
}

start() {
	dir=${1:-}
	if [ -z "$dir" ]; then
		dir=$(mktemp -d "${TMPDIR:-/tmp}/scepd-pg.XXXXXX")
	fi
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		mkdir -p "$dir/data" "$dir/sock"
		chmod 0700 "$dir/data"
		[ -n "$RUNAS" ] && chown -R "$RUNAS" "$dir"
		chmod 0755 "$dir"
		as_pg "$BIN/initdb" -D "$dir/data" -U scepd --auth=trust \
		    --encoding=UTF8 --locale=C.UTF-8 --no-sync \
		    > "$dir/initdb.log" 2>&1 ||
		    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
		fresh=1
	else
		fresh=0
	fi
	if is_running "$dir"; then
		print_env "$dir"
		return 0
	fi
	# A fresh cluster gets a free port (retried if someone takes it
	# first); a restarted one keeps its port so that DSNs stay valid.
	tries=0
	while :; do
		if [ "$fresh" = 1 ] || [ ! -f "$dir/port" ]; then
			configure "$dir" "$(free_port)"
		fi
		if as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
		    -w -t 60 start > "$dir/pg_ctl.log" 2>&1; then
			break
		fi
		tries=$((tries + 1))
		if [ "$fresh" = 0 ] || [ $tries -ge 3 ]; then
			tail -20 "$dir/server.log" >&2 2>/dev/null || true
			die "pg_ctl start failed ($dir)"
		fi
	done
	port=$(port_of "$dir")
	if [ "$fresh" = 1 ]; then
		"$BIN/createdb" -h 127.0.0.1 -p "$port" -U scepd scepd ||
		    die "createdb scepd failed"
	fi
	print_env "$dir"
}

CMD=${1:-}
[ $# -gt 0 ] && shift
case "$CMD" in
start)
	start "${1:-}"
	;;
stop)
	need_dir "${1:-}"
	is_running "$1" || exit 0
	as_pg "$BIN/pg_ctl" -D "$1/data" -m fast -w -t 60 stop > /dev/null
	;;
kill)
	need_dir "${1:-}"
	is_running "$1" || exit 0
	as_pg "$BIN/pg_ctl" -D "$1/data" -m immediate -w -t 60 stop \
	    > /dev/null
	;;
status)
	need_dir "${1:-}"
	is_running "$1"
	;;
env)
	need_dir "${1:-}"
	print_env "$1"
	;;
createdb)
	need_dir "${1:-}"
	[ -n "${2:-}" ] || die "usage: pg-cluster.sh createdb DIR NAME"
	port=$(port_of "$1")
	"$BIN/createdb" -h 127.0.0.1 -p "$port" -U scepd "$2"
	printf 'postgresql://scepd@127.0.0.1:%s/%s\n' "$port" "$2"
	;;
psql)
	need_dir "${1:-}"
	dir=$1
	shift
	db=${1:-scepd}
	[ $# -gt 0 ] && shift
	"$BIN/psql" -h 127.0.0.1 -p "$(port_of "$dir")" -U scepd -X -q \
	    -v ON_ERROR_STOP=1 "$db" "$@"
	;;
destroy)
	[ -n "${1:-}" ] || die "usage: pg-cluster.sh destroy DIR"
	if [ -f "$1/data/PG_VERSION" ] && is_running "$1"; then
		as_pg "$BIN/pg_ctl" -D "$1/data" -m immediate -w -t 60 stop \
		    > /dev/null 2>&1 || true
	fi
	rm -rf "$1"
	;;
*)
	sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
