#!/bin/sh
# bench-bigstore.sh -- enrollment throughput with a big store (issue 7:
# "throughput with 1,000,000 certificates already in the store within 10%
# of an empty store"), for `make bench` (tools/bench.sh calls it) or on its
# own:
#
#   empty   scepd on a fresh SQLite store
#   big     scepd on a store seeded with BENCH_BIGSTORE_ROWS past
#           enrollments (scepbench-seed: a requests row, a certs row and an
#           audit event each, as scepd writes them, the audit chain intact)
#
# Both deployments are made the same way (scepd init) in the same
# directory; the runs alternate (empty, big, empty, big) and the better
# run of each counts, so that load from elsewhere on the machine hits both
# alike.  Each run: scepbench enroll (POST, AES-128, SHA-256, RSA-2048
# clients, every reply verified) for BENCH_BIGSTORE_DURATION seconds at
# BENCH_BIGSTORE_CONCURRENCY clients.  Then EXPLAIN QUERY PLAN of every
# statement of the enrollment path on the big store: a full scan of a big
# table is reported (and fails the run).
#
#   tools/bench-bigstore.sh [--json FILE]
#
# Prints a small table; with --json also writes
#   {"rows": N, "seed_s": S, "db_mb": M, "duration_s": D,
#    "concurrency": C, "empty": R, "big": R, "ratio": big/empty,
#    "scans": [...]}
# where R = {"ok", "failures", "duplicates", "throughput", "p50_ms",
# "p99_ms"} of the better run, or null for a run that could not be made.
#
# Knobs (environment): BUILD (default build), BENCH_BIGSTORE_ROWS
# (1000000), BENCH_BIGSTORE_DURATION (10), BENCH_BIGSTORE_CONCURRENCY (32).
# The store takes about 3.6 kB per enrollment on disk (3.6 GB for a
# million): CSR, signer certificate, certificate and audit row.
#
# Exit status: 0 when every run was made without a failed or duplicate
# enrollment and no statement scans; 1 otherwise.  Everything it starts is
# stopped by pid and its files removed at exit.
set -u

cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
ROWS=${BENCH_BIGSTORE_ROWS:-1000000}
DUR=${BENCH_BIGSTORE_DURATION:-10}
CONC=${BENCH_BIGSTORE_CONCURRENCY:-32}
SCEPD=$BUILD/src/scepd/scepd
SCEPBENCH=$BUILD/src/bench/scepbench
SEED=$BUILD/src/bench/scepbench-seed
BENCH_NAME=bench-bigstore
. tools/bench-lib.sh
bench_json_arg "$@"
need "$SCEPD" "$SCEPBENCH" "$SEED"
command -v sqlite3 > /dev/null 2>&1 || { say "sqlite3 is not installed"; exit 1; }

bench_workdir bigstore
R=$WORK/results
mkdir -p "$R"
status=0

# deploy NAME: a fresh deployment in $WORK/NAME (init output NAME.init).
deploy() {
	port=$(free_port)
	scepd_init "$1" "$port" --ca-key rsa2048 &&
	    echo "$port" > "$WORK/$1.port"
}

# run NAME TAG: serve deployment NAME, one scepbench run into TAG.json.
run() {
	port=$(cat "$WORK/$1.port")
	url=$(jget "$WORK/$1.init" scep_url)
	ch=$(jget "$WORK/$1.init" challenge)
	ca=$(jget "$WORK/$1.init" ca_cert)
	scepd_serve "$1" "$port" || { stop_all; return 1; }
	[ -s "$WORK/keys.pem" ] || warm_keys "$url" "$ch" "$ca"
	say "$2: $CONC clients, ${DUR}s"
	"$SCEPBENCH" --json --key-cache "$WORK/keys.pem" --url "$url" \
	    --challenge "$ch" --ca "$ca" --concurrency "$CONC" \
	    --duration "$DUR" --prebuild $((DUR * 1500)) \
	    > "$R/$2.json" 2> "$R/$2.err"
	rc=$?
	stop_all
	return $rc
}

deploy empty && deploy big || exit 1
say "seeding $ROWS enrollments"
t0=$(date +%s.%N)
"$SEED" "$WORK/big/scepd.db" "$ROWS" >&2 || { say "seeding failed"; exit 1; }
t1=$(date +%s.%N)
SEED_S=$(python3 -c "print(round($t1 - $t0, 1))")
DB_MB=$(du -m "$WORK/big/scepd.db" | cut -f1)
say "seeded in ${SEED_S}s, store ${DB_MB} MB"

for round in 1 2; do
	run empty "empty-$round" || status=1
	run big "big-$round" || status=1
done

# EXPLAIN QUERY PLAN of the enrollment path (src/store/store_sqlite.c,
# the statements a PKCSReq, RenewalReq, CertPoll or GetCert runs), with
# the values a request would bind.  "SCAN t" without "USING INDEX" on a
# big table is a full scan (except a walk in rowid order that stops at
# the first row, which SQLite also calls SCAN).
cat > "$WORK/plan.sql" <<'EOF'
.mode list
SELECT 'endpoint by ext';
EXPLAIN QUERY PLAN SELECT * FROM endpoints WHERE uri_ext = 'x' AND deleted_at = 0;
SELECT 'account by challenge';
EXPLAIN QUERY PLAN SELECT * FROM accounts WHERE challenge_hash = x'00';
SELECT 'one-time challenge';
EXPLAIN QUERY PLAN SELECT * FROM one_time_challenges WHERE challenge_hash = x'00' AND used_at = 0 AND expires_at > 0;
SELECT 'account rules';
EXPLAIN QUERY PLAN SELECT cn_pattern, san_pattern FROM account_rules WHERE account_id = 1;
SELECT 'request by transid';
EXPLAIN QUERY PLAN SELECT * FROM requests WHERE endpoint_id = 1 AND transid = 'x' ORDER BY id DESC LIMIT 1;
SELECT 'request transition';
EXPLAIN QUERY PLAN UPDATE requests SET status = 2 WHERE id = 1 AND status = 1;
SELECT 'serial taken?';
EXPLAIN QUERY PLAN SELECT 1 FROM certs WHERE serial = 'x';
SELECT 'cert by serial';
EXPLAIN QUERY PLAN SELECT * FROM certs WHERE serial = 'x';
SELECT 'certs by key';
EXPLAIN QUERY PLAN SELECT * FROM certs WHERE key_fp = x'00';
SELECT 'account enrollment count';
EXPLAIN QUERY PLAN UPDATE accounts SET enrollments = enrollments + 1 WHERE id = 1 AND (max_enrollments = 0 OR enrollments < max_enrollments);
SELECT 'audit chain head (rowid order, LIMIT 1: one row)';
EXPLAIN QUERY PLAN SELECT id, hash FROM events ORDER BY id DESC LIMIT 1;
SELECT 'revoked certs (CRL)';
EXPLAIN QUERY PLAN SELECT serial, revoked_at, revoke_reason FROM certs WHERE ca_id = 1 AND status = 2 ORDER BY revoked_at, id;
EOF
sqlite3 "$WORK/big/scepd.db" < "$WORK/plan.sql" > "$R/plan.txt" 2>&1 ||
    status=1

PYTHONPATH=tools python3 - "$R" "$ROWS" "$SEED_S" "$DB_MB" "$DUR" "$CONC" "$JSON" <<'EOF' || status=1
import json, os, re, sys
from bench_results import load, pick

R, ROWS, SEED_S, DB_MB, DUR, CONC, OUT = sys.argv[1:8]

def best(prefix):
    runs = [load(R, "%s-%d" % (prefix, i)) for i in (1, 2)]
    runs = [pick(j) for j in runs if j]
    return max(runs, key=lambda r: r["throughput"]) if runs else None

empty, big = best("empty"), best("big")
ratio = big["throughput"] / empty["throughput"] if (
    empty and big and empty["throughput"]) else None

# Plan lines per statement; a scan of a big table is one without an index.
scans, label = [], None
for line in open(os.path.join(R, "plan.txt")):
    line = line.strip()
    if not line:
        continue
    if line == "QUERY PLAN":
        continue
    if not re.search(r"SCAN|SEARCH|USE TEMP", line):
        label = line
        continue
    m = re.search(r"SCAN (requests|certs|events)\b(.*)", line)
    if m and "USING" not in m.group(2) and "one row" not in label:
        scans.append("%s: %s" % (label, line))

ok = True
print("%-34s %10s %8s %8s %6s %5s" % ("store", "enroll/s", "p50 ms",
                                      "p99 ms", "fail", "dup"))
for name, r in (("empty", empty), ("%s enrollments" % ROWS, big)):
    if r is None:
        print("%-34s %10s" % (name, "not run"))
        ok = False
        continue
    print("%-34s %10.1f %8.1f %8.1f %6d %5d" % (
        name, r["throughput"], r["p50_ms"], r["p99_ms"], r["failures"],
        r["duplicates"]))
    if r["failures"] or r["duplicates"] or not r["ok"]:
        ok = False
if ratio is not None:
    print("big / empty: %.2f (target >= 0.90: %s)" % (
        ratio, "PASS" if ratio >= 0.9 else "MISS"))
print("(seeded in %s s, store %s MB; %s s per run, %s clients, better of "
      "2 alternating runs each)" % (SEED_S, DB_MB, DUR, CONC))
for s in scans:
    print("full scan on the enrollment path: " + s)
if scans:
    ok = False
if OUT:
    with open(OUT, "w") as f:
        json.dump({"rows": int(ROWS), "seed_s": float(SEED_S),
                   "db_mb": int(DB_MB), "duration_s": int(DUR),
                   "concurrency": int(CONC), "empty": empty, "big": big,
                   "ratio": ratio, "scans": scans}, f, indent=1)
        f.write("\n")
sys.exit(0 if ok else 1)
EOF
exit $status
