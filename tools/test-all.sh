#!/bin/sh
# test-all.sh -- every suite: plain build, then the ASan+UBSan build, then
# a bounded libFuzzer smoke run; ends with "N passed, M failed".
set -u
cd "$(dirname "$0")/.."
rc=0
logs=""
for b in build build-asan; do
	opts=""
	[ "$b" = build-asan ] && opts="-Db_sanitize=address,undefined -Db_lundef=false"
	if [ ! -f "$b/build.ninja" ]; then
		# shellcheck disable=SC2086
		meson setup "$b" $opts >/dev/null || { echo "meson setup $b failed"; rc=1; continue; }
	fi
	if ! ninja -C "$b" >"$b.ninja.log" 2>&1; then
		cat "$b.ninja.log"; echo "build $b failed"; rc=1; continue
	fi
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    meson test -C "$b" --num-processes 2 --print-errorlogs \
	    >"$b.test.log" 2>&1 || rc=1
	tail -n 25 "$b.test.log"
	logs="$logs $b/meson-logs/testlog.json"
done
if [ -x tools/fuzz-smoke.sh ]; then
	tools/fuzz-smoke.sh || rc=1
	[ -f build-fuzz/meson-logs/testlog.json ] && logs="$logs build-fuzz/meson-logs/testlog.json"
fi
# shellcheck disable=SC2086
python3 tools/summary.py $logs || rc=1
exit $rc
