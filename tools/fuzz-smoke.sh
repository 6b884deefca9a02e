#!/bin/sh
# fuzz-smoke.sh -- a bounded libFuzzer run of every core decoder (STYLE H13).
#
#   tools/fuzz-smoke.sh
#	Configure build-fuzz once (CC=clang, -Dfuzz=enabled, ASan+UBSan),
#	build the fuzz and replay targets, then run the Meson suites 'corpus'
#	(replay of fuzz/corpus/) and 'fuzz' (each fuzzer FUZZ_SECONDS, default
#	20 s, on a copy of its corpus; two at a time).  Prints one line per
#	target with libFuzzer's execution count and coverage, and exits non-zero
#	if any target crashed, leaked or timed out.  The results also land in
#	build-fuzz/meson-logs/testlog.json, which tools/summary.py counts.
#	FUZZ_BUILD names another build directory (default build-fuzz).
#
#   tools/fuzz-smoke.sh --one FUZZER CORPUS_DIR
#	One fuzzer, as Meson's 'fuzz' suite calls it.  The corpus is copied to
#	a temporary directory first (libFuzzer adds the inputs it finds to the
#	first corpus directory, and the saved corpus must only change by
#	review).  A crashing input is kept in build-fuzz/fuzz-artifacts/ so it
#	can be minimised and added to fuzz/corpus/<target>/ for ever.
set -u

one() {
	bin=$1
	corpus=$2
	secs=${FUZZ_SECONDS:-20}
	name=$(basename "$bin")
	work=$(mktemp -d "${TMPDIR:-/tmp}/scepd-$name.XXXXXX") || exit 1
	trap 'rm -rf "$work"' EXIT INT TERM
	mkdir "$work/corpus" "$work/artifacts" || exit 1
	cp "$corpus"/* "$work/corpus/" 2>/dev/null
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
	    "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
	    -rss_limit_mb=2048 -max_len=65536 \
	    -artifact_prefix="$work/artifacts/" "$work/corpus" \
	    >"$work/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" |
	    tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1)
	line="$name: ${execs:-?} executions, ${cov:-cov: ?} edges, ${secs}s, exit $rc"
	echo "$line"
	[ -n "${FUZZ_SUMMARY:-}" ] && echo "$line" >>"$FUZZ_SUMMARY"
	if [ "$rc" -ne 0 ]; then
		tail -n 80 "$work/log"
		keep=${FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}
		mkdir -p "$keep" && cp "$work"/artifacts/* "$keep"/ 2>/dev/null &&
		    echo "$name: crashing input(s) kept in $keep"
	fi
	exit "$rc"
}

if [ "${1:-}" = "--one" ]; then
	[ $# -eq 3 ] || { echo "usage: $0 --one FUZZER CORPUS_DIR" >&2; exit 2; }
	one "$2" "$3"
fi

cd "$(dirname "$0")/.." || exit 1
b=${FUZZ_BUILD:-build-fuzz}
if [ ! -f "$b/build.ninja" ]; then
	CC=clang meson setup "$b" -Dfuzz=enabled \
	    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null ||
	    { echo "fuzz-smoke: meson setup $b failed"; exit 1; }
fi
targets=""
for t in msg env csr getmsg ias kpwire query adminjson policy; do
	targets="$targets fuzz/fuzz_$t fuzz/replay_$t"
done
# shellcheck disable=SC2086
ninja -C "$b" $targets >"$b/fuzz-ninja.log" 2>&1 ||
    { cat "$b/fuzz-ninja.log"; echo "fuzz-smoke: build failed"; exit 1; }

FUZZ_SUMMARY=$PWD/$b/fuzz-summary.txt
FUZZ_ARTIFACTS=$PWD/$b/fuzz-artifacts
export FUZZ_SUMMARY FUZZ_ARTIFACTS
: >"$FUZZ_SUMMARY"
# --no-rebuild: only the targets above are needed (and built).  A fuzz
# test's timeout is 300 s; longer runs (make stress) stretch it.
mult=$(( (${FUZZ_SECONDS:-20} + 60) / 240 + 1 ))
meson test -C "$b" --no-rebuild --suite corpus --suite fuzz \
    --num-processes 2 --timeout-multiplier "$mult" --print-errorlogs \
    >"$b/fuzz-test.log" 2>&1
rc=$?
tail -n 20 "$b/fuzz-test.log"
echo "fuzz-smoke: per target"
sort "$FUZZ_SUMMARY"
[ "$rc" -eq 0 ] || echo "fuzz-smoke: FAILED (see $b/fuzz-test.log)"
exit "$rc"
