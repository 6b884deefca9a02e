# lib.sh -- shared plumbing of the PostgreSQL shell tests (test_*.sh),
# sourced by them; they run under with-cluster.sh, which provides the
# cluster (PGCLUSTER, PG_DSN, STORE_TEST_DSN, PG_CLUSTER_TOOL).
#
# It gives a test file:
#   * TAP: tap_check DESC STATUS, tap_ok DESC CMD..., tap_is GOT WANT DESC,
#     diag, bail; the plan is printed at exit.
#   * $WORK, a private directory removed at exit (kept with PG_KEEP=1),
#     and node_start/node_stop for scepd processes, each stopped at exit
#     by its pid (never by name).  When an assertion failed, the tail of
#     every node's log is shown.
#   * pg_sql DB SQL: one query through psql, unaligned, tuples only.
#   * free_port, wait_http, json_get FILE KEY.
#
# Environment (tests/pg/meson.build): SCEPD, SCEPBENCH, SCEPMSG, SCEPCTL.

set -u

TAP_N=0
TAP_FAILED=0
NODE_PIDS=""
NODE_LOGS=""
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scepd-pgtest.XXXXXX") || {
	echo "Bail out! mktemp"
	exit 1
}

diag() {
	printf '# %s\n' "$*"
}

tap_check() {
	TAP_N=$((TAP_N + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $TAP_N - $1"
	else
		echo "not ok $TAP_N - $1"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
	return "$2"
}

# tap_ok DESC CMD...: passes when CMD exits 0; its output is shown only
# when it fails.
tap_ok() {
	_desc=$1
	shift
	_out=$("$@" 2>&1)
	_rc=$?
	tap_check "$_desc" "$_rc"
	if [ "$_rc" -ne 0 ]; then
		printf '%s\n' "$_out" | tail -15 | sed 's/^/#   /'
	fi
	return "$_rc"
}

tap_is() {
	if [ "$1" = "$2" ]; then
		tap_check "$3" 0
	else
		tap_check "$3" 1
		diag "got:      '$1'"
		diag "expected: '$2'"
		return 1
	fi
}

bail() {
	echo "Bail out! $*"
	exit 1
}

node_stop_all() {
	for _p in $NODE_PIDS; do
		kill "$_p" 2>/dev/null
	done
	for _p in $NODE_PIDS; do
		wait "$_p" 2>/dev/null
	done
	NODE_PIDS=""
}

finish() {
	_status=$?
	node_stop_all
	if [ "$TAP_FAILED" -ne 0 ]; then
		for _l in $NODE_LOGS; do
			diag "---- last lines of $_l"
			tail -25 "$_l" 2>/dev/null | sed 's/^/#   /'
		done
	fi
	echo "1..$TAP_N"
	if [ "${PG_KEEP:-0}" = 1 ]; then
		diag "kept $WORK"
	else
		rm -rf "$WORK"
	fi
	if [ "$TAP_FAILED" -ne 0 ]; then
		exit 1
	fi
	exit "$_status"
}
trap finish EXIT
trap 'exit 130' INT TERM

for _v in SCEPD PG_CLUSTER_TOOL PGCLUSTER STORE_TEST_DSN; do
	eval "_val=\${$_v:-}"
	[ -n "$_val" ] || bail "$_v is not set (run through meson test)"
done

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL [SECONDS]: until it answers 200.
wait_http() {
	_i=0
	_max=$((${2:-10} * 10))
	while [ $_i -lt $_max ]; do
		curl -fs -o /dev/null --max-time 2 "$1" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# json_get FILE KEY: a top-level string or number of a JSON file.
json_get() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# pg_sql DB SQL: the query's rows, "|"-separated, no header.
pg_sql() {
	"$PG_CLUSTER_TOOL" psql "$PGCLUSTER" "$1" -At -c "$2"
}

# The database name of a postgresql:// DSN made by pg-cluster.sh.
dsn_db() {
	printf '%s\n' "${1##*/}"
}

# node_start NAME DATA_DIR PORT [serve options...]: scepd serve in the
# background; NODE_PID is its pid.  Waits for /healthz.
node_start() {
	_name=$1
	_dir=$2
	_port=$3
	shift 3
	"$SCEPD" serve --data-dir "$_dir" --listen "127.0.0.1:$_port" \
	    --url "http://127.0.0.1:$_port" "$@" \
	    >> "$WORK/$_name.log" 2>&1 &
	NODE_PID=$!
	NODE_PIDS="$NODE_PIDS $NODE_PID"
	case " $NODE_LOGS " in
	*" $WORK/$_name.log "*) ;;
	*) NODE_LOGS="$NODE_LOGS $WORK/$_name.log" ;;
	esac
	wait_http "http://127.0.0.1:$_port/healthz" 15
}

# node_start_copy NAME COPY AT PORT [serve options...]: like node_start,
# for a node whose data directory is COPY (a copy of AT, as another
# machine would hold) but which must see it at AT's path, because the
# shared store names key files by absolute path.  As root, COPY is
# bind-mounted over AT in a mount namespace of the node's own (unshare),
# so the node reads its copy and nothing else; otherwise the node uses AT
# itself (NODE_COPY=0).
node_start_copy() {
	_name=$1
	_copy=$2
	_at=$3
	_port=$4
	shift 4
	NODE_COPY=0
	if [ "$(id -u)" = 0 ] && unshare -m --propagation private true \
	    2> /dev/null; then
		NODE_COPY=1
		unshare -m --propagation private sh -c \
		    'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
		    "$_copy" "$_at" "$SCEPD" serve --data-dir "$_at" \
		    --listen "127.0.0.1:$_port" \
		    --url "http://127.0.0.1:$_port" "$@" \
		    >> "$WORK/$_name.log" 2>&1 &
		NODE_PID=$!
		NODE_PIDS="$NODE_PIDS $NODE_PID"
		NODE_LOGS="$NODE_LOGS $WORK/$_name.log"
		wait_http "http://127.0.0.1:$_port/healthz" 15
		return
	fi
	node_start "$_name" "$_at" "$_port" "$@"
}

# node_stop PID: SIGTERM and wait; the exit status of scepd.
node_stop() {
	kill "$1" 2>/dev/null
	wait "$1"
	_rc=$?
	_rest=""
	for _p in $NODE_PIDS; do
		[ "$_p" = "$1" ] || _rest="$_rest $_p"
	done
	NODE_PIDS=$_rest
	return $_rc
}
