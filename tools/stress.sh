#!/bin/sh
# stress.sh -- `make stress`: the long forms of the hardening tests
# (issue 8) that `make test` runs bounded.  Prints a summary at the end and
# exits non-zero when any part failed.
#
#   1. every libFuzzer target for STRESS_FUZZ_SECONDS (default 600) under
#      ASan+UBSan, two at a time, after replaying the corpora
#      (tools/fuzz-smoke.sh with FUZZ_SECONDS; build-fuzz, CC=clang);
#   2. the crash test (tests/harden/test_crash.sh) with
#      STRESS_KILL_CYCLES SIGKILLs (default 200);
#   3. the hostile suite (tests/harden/test_hostile.sh) with
#      STRESS_SLOWLORIS slowloris clients (default 1000) and STRESS_IDLE
#      idle connections (default 5000).
#
# STRESS_PARTS picks parts (default "fuzz crash hostile").  The crash and
# hostile tests run in the plain build ($BUILD, default build).  Findings
# of the fuzzers are kept in build-fuzz/fuzz-artifacts/.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${BUILD:-build}
FUZZ_SECONDS=${STRESS_FUZZ_SECONDS:-600}
CYCLES=${STRESS_KILL_CYCLES:-200}
SLOW=${STRESS_SLOWLORIS:-1000}
IDLE=${STRESS_IDLE:-5000}
PARTS=${STRESS_PARTS:-fuzz crash hostile}
OUT=${STRESS_OUT:-$B/stress}
rc=0
summary=""
mkdir -p "$OUT" || exit 1

note()
{
	summary="$summary$*
"
}

# tap_counts LOG: "P passed, F failed, T todo" of a TAP log.
tap_counts()
{
	p=$(grep -c '^ok ' "$1")
	f=$(grep '^not ok ' "$1" | grep -vc '# TODO')
	t=$(grep -c '^not ok .*# TODO' "$1")
	echo "$p passed, $f failed, $t todo"
}

# run_harden NAME: one harden script through meson (the suite's env),
# with a timeout long enough for the stress sizes; TAP to $OUT/NAME.tap.
run_harden()
{
	name=$1
	meson test -C "$B" --no-rebuild "$name" --timeout-multiplier 20 \
	    --print-errorlogs >"$OUT/$name.meson.log" 2>&1
	st=$?
	python3 - "$B/meson-logs/testlog.json" "$name" >"$OUT/$name.tap" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    n = r.get("name", "")
    if n == sys.argv[2] or n.endswith(" / " + sys.argv[2]):
        sys.stdout.write(r.get("stdout") or "")
PY
	return $st
}

for part in $PARTS; do
	case $part in
	fuzz)
		echo "stress: fuzzing, ${FUZZ_SECONDS} s per target"
		FUZZ_SECONDS=$FUZZ_SECONDS tools/fuzz-smoke.sh \
		    >"$OUT/fuzz.log" 2>&1
		st=$?
		[ $st -eq 0 ] || rc=1
		note "fuzz (${FUZZ_SECONDS} s per target): $([ $st -eq 0 ] &&
		    echo ok || echo FAILED, see build-fuzz/fuzz-test.log)"
		while read -r line; do
			note "  $line"
		done <build-fuzz/fuzz-summary.txt
		;;
	crash|hostile)
		if [ ! -f "$B/build.ninja" ]; then
			meson setup "$B" >/dev/null || { rc=1; continue; }
		fi
		ninja -C "$B" >"$OUT/ninja.log" 2>&1 ||
		    { cat "$OUT/ninja.log"; rc=1; continue; }
		if [ "$part" = crash ]; then
			echo "stress: crash test, $CYCLES kill cycles"
			HARDEN_KILL_CYCLES=$CYCLES run_harden crash
		else
			echo "stress: hostile suite, $SLOW slowloris," \
			    "$IDLE idle connections"
			HARDEN_SLOWLORIS=$SLOW HARDEN_IDLE=$IDLE \
			    run_harden hostile
		fi
		st=$?
		[ $st -eq 0 ] || rc=1
		note "$part: $([ $st -eq 0 ] && echo ok || echo FAILED):" \
		    "$(tap_counts "$OUT/$part.tap") (TAP in $OUT/$part.tap)"
		grep -E '^# (kill cycles|slowloris|idle|scepd RSS)' \
		    "$OUT/$part.tap" | cut -c1-200 | while read -r line; do
			echo "  $line"
		done >"$OUT/$part.diag"
		while read -r line; do
			note "$line"
		done <"$OUT/$part.diag"
		;;
	*)
		echo "stress: unknown part $part" >&2
		rc=2
		;;
	esac
done

echo "stress: summary"
printf '%s' "$summary"
[ $rc -eq 0 ] && echo "stress: all parts passed" || echo "stress: FAILED"
exit $rc
