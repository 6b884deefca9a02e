#!/bin/sh
# bench_isolation.sh -- the cost of key isolation (issue 8): scepbench
# enrollments against one scepd data directory with the key processes on
# and off, alternating, and the medians side by side.  A measurement,
# not a test: run it by hand on a quiet machine.
#
#   tests/harden/bench_isolation.sh [BUILD]      (default: build)
#
# Knobs: BENCH_ROUNDS (runs per mode, default 5), BENCH_DURATION (seconds
# per run, default 10), BENCH_CONCURRENCY (default 8).
#
# Reports enrollments/s, latency and the CPU time per enrollment of scepd
# and all its key processes together (scepbench --server-pid sees only
# the scepd process, not the key processes).
set -eu

cd "$(dirname "$0")/../.."
BUILD=${1:-build}
ROUNDS=${BENCH_ROUNDS:-5}
DUR=${BENCH_DURATION:-10}
CONC=${BENCH_CONCURRENCY:-8}
SCEPD=$BUILD/src/scepd/scepd
SCEPBENCH=$BUILD/src/bench/scepbench
[ -x "$SCEPD" ] && [ -x "$SCEPBENCH" ] || {
	echo "bench_isolation: build $SCEPD and $SCEPBENCH first" >&2
	exit 2
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scepd-isobench.XXXXXX")
PID=""
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$SCEPD" init --data-dir "$WORK/d" --json --ca-key rsa2048 \
    --url "http://127.0.0.1:$PORT" >"$WORK/init.json" 2>"$WORK/init.err"
eval "$(python3 - "$WORK/init.json" <<'EOF'
import json, shlex, sys
j = json.load(open(sys.argv[1]))
for k in ("scep_url", "challenge", "ca_cert"):
    print("%s=%s" % (k.upper(), shlex.quote(j[k])))
EOF
)"

# CPU seconds (user + system) of every process serving this data dir.
cpu_s() {
	python3 - "$WORK/d" <<'EOF'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
total = 0
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        cmd = open("/proc/%s/cmdline" % p, "rb").read().replace(b"\0", b" ")
        if (b"--data-dir " + sys.argv[1].encode() + b" ") not in cmd + b" ":
            continue
        f = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()
        total += int(f[11]) + int(f[12])
    except OSError:
        pass
print(total / tick)
EOF
}

run() {
	mode=$1
	n=$2
	SCEPD_KEY_ISOLATION=$mode "$SCEPD" serve --data-dir "$WORK/d" \
	    --listen "127.0.0.1:$PORT" >>"$WORK/scepd-$mode.log" 2>&1 &
	PID=$!
	i=0
	until curl -fs -o /dev/null "$SCEP_URL?operation=GetCACaps"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "scepd did not start" >&2; exit 1; }
		sleep 0.1
	done
	# Warm-up: key loading, allocator, connection pool.
	"$SCEPBENCH" --url "$SCEP_URL" --challenge "$CHALLENGE" --ca "$CA_CERT" \
	    --key-cache "$WORK/keys.pem" --concurrency "$CONC" --count 200 \
	    >/dev/null 2>&1 || true
	c0=$(cpu_s)
	"$SCEPBENCH" --url "$SCEP_URL" --challenge "$CHALLENGE" --ca "$CA_CERT" \
	    --key-cache "$WORK/keys.pem" --concurrency "$CONC" \
	    --duration "$DUR" --json >"$WORK/$mode-$n.json" 2>"$WORK/$mode-$n.err" ||
	    true
	c1=$(cpu_s)
	python3 - "$WORK/$mode-$n.json" "$c0" "$c1" >"$WORK/$mode-$n.cpu" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
ok = max(j["ok"], 1)
print((float(sys.argv[3]) - float(sys.argv[2])) * 1000 / ok)
EOF
	kill "$PID"
	wait "$PID" 2>/dev/null || true
	PID=""
}

echo "bench_isolation: $ROUNDS x $DUR s per mode, concurrency $CONC," \
    "$(nproc) CPUs, $(openssl version | cut -d' ' -f1-2)" >&2
for n in $(seq "$ROUNDS"); do
	run on "$n"
	run off "$n"
done

python3 - "$WORK" "$ROUNDS" <<'EOF'
import json, statistics, sys
w, rounds = sys.argv[1], int(sys.argv[2])
res = {}
for mode in ("on", "off"):
    rate, p50, p99, cpu, fail = [], [], [], [], 0
    for n in range(1, rounds + 1):
        j = json.load(open("%s/%s-%d.json" % (w, mode, n)))
        rate.append(j["throughput"])
        p50.append(j["p50_ms"])
        p99.append(j["p99_ms"])
        fail += j["failures"] + j["duplicates"]
        cpu.append(float(open("%s/%s-%d.cpu" % (w, mode, n)).read()))
    res[mode] = dict(rate=statistics.median(rate), runs=rate,
                     p50=statistics.median(p50), p99=statistics.median(p99),
                     cpu=statistics.median(cpu), fail=fail)
print("%-14s %12s %9s %9s %14s %8s" % ("key_isolation", "enroll/s",
      "p50 ms", "p99 ms", "CPU ms/enroll", "errors"))
for mode in ("on", "off"):
    r = res[mode]
    print("%-14s %12.1f %9.2f %9.2f %14.2f %8d" % (mode, r["rate"], r["p50"],
          r["p99"], r["cpu"], r["fail"]))
    print("  runs: %s" % " ".join("%.1f" % x for x in r["runs"]))
cost = 1 - res["on"]["rate"] / res["off"]["rate"]
print("cost of isolation: %.1f%% of enrollments/s (median of %d runs each)"
      % (100 * cost, rounds))
EOF
