#!/bin/sh
# bench-pg.sh -- enrollments per second with each store (issue 6), for
# `make bench` (tools/bench.sh calls it) or on its own:
#
#   sqlite-1   one scepd node on its SQLite store (the embedded default)
#   pg-1       one scepd node on PostgreSQL
#   pg-2       two scepd nodes on one PostgreSQL, the load split in two
#
# Each run: scepbench enroll (POST, AES-128, SHA-256, RSA-2048 clients,
# every reply verified) for BENCH_PG_DURATION seconds at a total
# concurrency of BENCH_PG_CONCURRENCY, against a fresh deployment.
# PostgreSQL is a throwaway cluster (tools/pg-cluster.sh) with its default
# durability (fsync and synchronous_commit on), on the same machine:
# server, database and load generator share the CPUs, so on a small
# machine two nodes do not add capacity; the figure shows what the shared
# store costs.
#
#   tools/bench-pg.sh [--json FILE]
#
# Prints a small table; with --json also writes
#   {"machine": {...}, "duration_s": D, "concurrency": C,
#    "runs": {"sqlite-1": R, "pg-1": R, "pg-2": R}}
# where R = {"ok", "failures", "duplicates", "throughput", "p50_ms",
# "p99_ms"} (throughput: verified enrollments per second, summed over
# the nodes), or null for a run that could not be made.
#
# Knobs (environment): BUILD (build directory, default build),
# BENCH_PG_DURATION (10), BENCH_PG_CONCURRENCY (32).
#
# Exit status: 0 when all three runs were made without a failed or
# duplicate enrollment, 1 otherwise.  Everything it starts (servers,
# cluster, temporary files) is stopped and removed at exit, by pid.
set -u

cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
DUR=${BENCH_PG_DURATION:-10}
CONC=${BENCH_PG_CONCURRENCY:-32}
SCEPD=$BUILD/src/scepd/scepd
SCEPBENCH=$BUILD/src/bench/scepbench
TOOL=tools/pg-cluster.sh
BENCH_NAME=bench-pg
. tools/bench-lib.sh
bench_json_arg "$@"
need "$SCEPD" "$SCEPBENCH"

bench_workdir benchpg
R=$WORK/results
mkdir -p "$R"
CLUSTER=""
status=0

# shellcheck disable=SC2317  # called through the trap
bench_at_exit() {
	[ -z "$CLUSTER" ] || "$TOOL" destroy "$CLUSTER" > /dev/null 2>&1
}

# serve_copy NAME PORT: a second node on deployment NAME with its own copy
# of $WORK/NAME seen at that path (key files are named by absolute path in
# the shared store): a mount namespace as root, else the same directory.
serve_copy() {
	_d=$WORK/$1
	if [ "$(id -u)" = 0 ] && unshare -m --propagation private true \
	    2> /dev/null; then
		cp -a "$_d" "$_d.copy"
		unshare -m --propagation private sh -c \
		    'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
		    "$_d.copy" "$_d" "$SCEPD" serve --data-dir "$_d" \
		    --listen "127.0.0.1:$2" --url "http://127.0.0.1:$2" \
		    > "$WORK/$1-copy.log" 2>&1 &
		track $!
		wait_http "http://127.0.0.1:$2/healthz" 300
	else
		scepd_serve "$1" "$2" --url "http://127.0.0.1:$2"
	fi
}

# bench NAME URL CONCURRENCY: scepbench --json into $R/NAME.json.
bench() {
	"$SCEPBENCH" --json --key-cache "$WORK/keys.pem" --url "$2" \
	    --challenge "$CH" --ca "$CA" --concurrency "$3" \
	    --duration "$DUR" --prebuild $((DUR * 300)) \
	    > "$R/$1.json" 2> "$R/$1.err"
}

# deploy NAME [init options]: a fresh deployment; sets PORT, URL, CH, CA.
deploy() {
	_n=$1
	shift
	PORT=$(free_port)
	scepd_init "$_n" "$PORT" --ca-key rsa2048 "$@" || return 1
	URL=$(jget "$WORK/$_n.init" scep_url)
	CH=$(jget "$WORK/$_n.init" challenge)
	CA=$(jget "$WORK/$_n.init" ca_cert)
}

# ---- sqlite-1 ----
if deploy sqlite && scepd_serve sqlite "$PORT"; then
	warm_keys "$URL" "$CH" "$CA"
	say "sqlite-1: one node, SQLite, $CONC clients, ${DUR}s"
	bench sqlite-1 "$URL" "$CONC" || status=1
else
	status=1
fi
stop_all

# ---- PostgreSQL ----
if out=$("$TOOL" start 2> "$WORK/cluster.err"); then
	CLUSTER=$(printf '%s\n' "$out" | sed -n 's/^PGCLUSTER=//p')
else
	say "no PostgreSQL cluster: $(tail -1 "$WORK/cluster.err")"
	status=1
fi

if [ -n "$CLUSTER" ]; then
	DSN1=$("$TOOL" createdb "$CLUSTER" bench1)
	if deploy pg1 --store "$DSN1" && scepd_serve pg1 "$PORT"; then
		say "pg-1: one node, PostgreSQL, $CONC clients, ${DUR}s"
		bench pg-1 "$URL" "$CONC" || status=1
	else
		status=1
	fi
	stop_all

	DSN2=$("$TOOL" createdb "$CLUSTER" bench2)
	PB=$(free_port)
	if deploy pg2 --store "$DSN2" && scepd_serve pg2 "$PORT" &&
	    serve_copy pg2 "$PB"; then
		URLB="http://127.0.0.1:$PB/scep/${URL##*/scep/}"
		say "pg-2: two nodes, PostgreSQL, $((CONC / 2)) clients each," \
		    "${DUR}s"
		bench pg-2a "$URL" $((CONC / 2)) &
		b1=$!
		bench pg-2b "$URLB" $((CONC / 2)) &
		b2=$!
		wait $b1 || status=1
		wait $b2 || status=1
	else
		status=1
	fi
	stop_all
fi

PYTHONPATH=tools python3 - "$R" "$DUR" "$CONC" "$JSON" <<'EOF' || status=1
import json, os, platform, sys
from bench_results import load, pick

R, DUR, CONC, OUT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

runs = {}
for name in ("sqlite-1", "pg-1"):
    j = load(R, name)
    runs[name] = pick(j) if j else None
a, b = load(R, "pg-2a"), load(R, "pg-2b")
if a and b:
    runs["pg-2"] = {
        "ok": a["ok"] + b["ok"],
        "failures": a["failures"] + b["failures"],
        "duplicates": a["duplicates"] + b["duplicates"],
        "throughput": a["throughput"] + b["throughput"],
        "p50_ms": max(a["p50_ms"], b["p50_ms"]),
        "p99_ms": max(a["p99_ms"], b["p99_ms"]),
    }
else:
    runs["pg-2"] = None

desc = {"sqlite-1": "1 node, SQLite", "pg-1": "1 node, PostgreSQL",
        "pg-2": "2 nodes, PostgreSQL"}
print("%-22s %10s %8s %8s %6s %5s" % ("store", "enroll/s", "p50 ms",
                                      "p99 ms", "fail", "dup"))
ok = True
for k in ("sqlite-1", "pg-1", "pg-2"):
    r = runs[k]
    if r is None:
        print("%-22s %10s" % (desc[k], "not run"))
        ok = False
        continue
    print("%-22s %10.1f %8.1f %8.1f %6d %5d" % (
        desc[k], r["throughput"], r["p50_ms"], r["p99_ms"], r["failures"],
        r["duplicates"]))
    if r["failures"] or r["duplicates"] or not r["ok"]:
        ok = False
print("(%d s per run, %d clients in total, every reply verified; "
      "PostgreSQL on the same machine, fsync on)" % (DUR, CONC))
if OUT:
    doc = {"machine": {"nproc": os.cpu_count(), "kernel": platform.release()},
           "duration_s": DUR, "concurrency": CONC, "runs": runs}
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
sys.exit(0 if ok else 1)
EOF
exit $status
