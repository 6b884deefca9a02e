# shellcheck shell=sh
# bench-lib.sh -- what tools/bench*.sh share; sourced (". tools/bench-lib.sh"
# from the repository root), never run.
#
# The sourcing script sets BENCH_NAME (its messages' prefix) and, when it
# runs them, SCEPD / SCEPBENCH.  It gets:
#
#   say MSG...            "BENCH_NAME: MSG" on standard error
#   need FILE...          exit 1 unless every FILE is an executable
#   bench_json_arg "$@"  JSON = FILE of the script's only argument
#                         "--json FILE" ("" without); exit 2 with the usage
#                         on anything else
#   free_port             a free loopback TCP port
#   wait_http URL [N]     until URL answers 2xx, at most N tenths of a
#                         second (100); 1 when it never did
#   jget FILE KEY         member KEY of the JSON object in FILE
#   bench_workdir TAG     WORK = a fresh temporary directory; at exit (also
#                         on INT/TERM) every tracked process is stopped,
#                         bench_at_exit runs (redefine it after sourcing)
#                         and WORK is removed
#   track PID / stop_all  processes this script started, stopped by pid
#                         (never by name)
#   scepd_init NAME PORT [init options]
#                         scepd init --json into $WORK/NAME for
#                         http://127.0.0.1:PORT; its JSON in $WORK/NAME.init
#   scepd_serve NAME PORT [serve options]
#                         scepd serve of $WORK/NAME in the background
#                         (tracked, also in LAST_PID; its output in
#                         LAST_LOG = $WORK/NAME-PORT.log), then waits up to
#                         30 s for /healthz
#   warm_keys URL CHALLENGE CA
#                         fills the key cache $WORK/keys.pem (64 keys) with a
#                         small untimed run, so that no timed run makes keys
#
# Every function is safe under set -e.

BENCH_NAME=${BENCH_NAME:-bench}
PIDS=""
LAST_PID=""
LAST_LOG=""

say() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }

need() {
	for _f in "$@"; do
		[ -x "$_f" ] ||
		    { say "$_f is not built (ninja -C ${BUILD:-build})"; exit 1; }
	done
}

bench_json_arg() {
	JSON=""
	if [ "${1:-}" = "--json" ] && [ -n "${2:-}" ] && [ $# -eq 2 ]; then
		# shellcheck disable=SC2034  # read by the sourcing script
		JSON=$2
	elif [ $# -gt 0 ]; then
		echo "usage: tools/$BENCH_NAME.sh [--json FILE]" >&2
		exit 2
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() {
	_i=0
	while [ "$_i" -lt "${2:-100}" ]; do
		curl -fs -o /dev/null --max-time 2 "$1" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

jget() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

track() { PIDS="$PIDS $1"; }

stop_all() {
	for _p in $PIDS; do
		kill "$_p" 2> /dev/null || true
	done
	for _p in $PIDS; do
		wait "$_p" 2> /dev/null || true
	done
	PIDS=""
}

bench_at_exit() { :; }

# shellcheck disable=SC2317  # called through the trap
bench_cleanup() {
	stop_all
	bench_at_exit || true
	[ -z "${WORK:-}" ] || rm -rf "$WORK"
}

bench_workdir() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/scepd-$1.XXXXXX") || exit 1
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

scepd_init() {
	_n=$1
	_p=$2
	shift 2
	"$SCEPD" init --data-dir "$WORK/$_n" --json \
	    --url "http://127.0.0.1:$_p" --listen "127.0.0.1:$_p" "$@" \
	    > "$WORK/$_n.init" 2> "$WORK/$_n.err" && return 0
	say "scepd init failed: $(tail -1 "$WORK/$_n.err")"
	return 1
}

scepd_serve() {
	_n=$1
	_p=$2
	shift 2
	LAST_LOG=$WORK/$_n-$_p.log
	"$SCEPD" serve --data-dir "$WORK/$_n" --listen "127.0.0.1:$_p" "$@" \
	    > "$LAST_LOG" 2>&1 &
	LAST_PID=$!
	track "$LAST_PID"
	wait_http "http://127.0.0.1:$_p/healthz" 300 && return 0
	say "scepd did not start on port $_p:"
	tail -5 "$LAST_LOG" >&2 || true
	return 1
}

warm_keys() {
	"$SCEPBENCH" --key-cache "$WORK/keys.pem" --url "$1" \
	    --challenge "$2" --ca "$3" --count 64 --concurrency 4 \
	    --keys 64 > /dev/null 2>&1 || true
}
