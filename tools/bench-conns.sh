#!/bin/bash
# bench-conns.sh -- issue 7's connection and memory targets, measured:
#
#   1. 10,000 concurrent keep-alive connections held by one scepd: each
#      connection sends one GetCACaps, reads the reply and stays open,
#      idle; scepd's resident memory (VmRSS of /proc/PID/status) is read
#      before and with all of them open, and a fresh client must still be
#      served meanwhile.  Target: under 100 MB.
#   2. 1,000,000 GetCACaps requests (wrk, 2 threads, 32 keep-alive
#      connections, in rounds until the count is reached): VmRSS after
#      a warm-up round and after the last round.  Target: no growth.
#
# Usage: tools/bench-conns.sh [RESULT_JSON]
# Knobs: BUILD (build), CONNS_N (10000), CONNS_REQUESTS (1000000),
# CONNS_MEMORY (scepd --connection-memory; default: scepd's default).
# Needs python3, curl and wrk; raises its own open-file limit (and the
# server's, which inherits it).  Prints a summary; writes one JSON object
# to RESULT_JSON when given.  Exit status 0 when everything ran.
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${CONNS_N:-10000}
REQS=${CONNS_REQUESTS:-1000000}
OUT=${1:-}
SCEPD=$BUILD/src/scepd/scepd

BENCH_NAME=bench-conns
. tools/bench-lib.sh
need "$SCEPD"
command -v wrk >/dev/null || { say "wrk is not installed"; exit 1; }
# Both ends in this shell: N client sockets here, N + a few in scepd.
want=$((N * 2 + 1024))
ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((N + 256)) ]; then
	say "open-file limit $(ulimit -n) is below $((N + 256)); cannot run"
	exit 1
fi

bench_workdir conns
PORT=$(free_port)
scepd_init d "$PORT" --endpoint bench || exit 1
# The idle timeout must outlast the measurement; the limit must leave
# room for the probe and wrk beside the N idle connections.
scepd_serve d "$PORT" --connection-limit $((N + 100)) --log-level warn \
    ${CONNS_MEMORY:+--connection-memory "$CONNS_MEMORY"} || exit 1
PID=$LAST_PID
URL="http://127.0.0.1:$PORT/scep/bench?operation=GetCACaps"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }

# ---- 1. N idle keep-alive connections ----
RSS0=$(rss_kb)
say "opening $N keep-alive connections (scepd pid $PID, VmRSS ${RSS0} kB)"
python3 - "$PORT" "$N" "$PID" "$URL" > "$WORK/conns.json" <<'EOF'
import json, socket, subprocess, sys, time
port, n, pid, url = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
req = (b"GET /scep/bench?operation=GetCACaps HTTP/1.1\r\n"
       b"Host: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")

def rss():
    for l in open("/proc/%s/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])

socks, ok, t0 = [], 0, time.monotonic()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(req)
    data = b""
    while b"\r\n\r\n" not in data:
        b = s.recv(4096)
        if not b:
            break
        data += b
    if data.startswith(b"HTTP/1.1 200"):
        ok += 1
    socks.append(s)
opened = time.monotonic() - t0
time.sleep(1)
held_rss = rss()
# Still open?  A closed socket reads EOF at once.
alive = 0
for s in socks:
    s.setblocking(False)
    try:
        alive += 0 if s.recv(1) == b"" else 1
    except BlockingIOError:
        alive += 1
    except OSError:
        pass
probe = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                        "%{http_code} %{time_total}", url],
                       capture_output=True, text=True).stdout.split()
print(json.dumps({"connections": n, "answered": ok, "alive": alive,
                  "open_seconds": round(opened, 1), "rss_kb": held_rss,
                  "probe_code": probe[0] if probe else "",
                  "probe_seconds": float(probe[1]) if len(probe) > 1 else -1}))
for s in socks:
    s.close()
EOF
cat "$WORK/conns.json" >&2

# ---- 2. REQS requests, resident memory before and after ----
round_reqs() { awk '/requests in/ { print $1 }' "$1"; }
sleep 1
wrk -t2 -c32 -d3s "$URL" > "$WORK/warm.wrk" 2>&1
RSS_BEFORE=$(rss_kb)
total=0
rounds=0
while [ "$total" -lt "$REQS" ]; do
	wrk -t2 -c32 -d10s "$URL" > "$WORK/round.wrk" 2>&1
	n=$(round_reqs "$WORK/round.wrk")
	[ -n "$n" ] && [ "$n" -gt 0 ] || { say "wrk round failed"; exit 1; }
	total=$((total + n))
	rounds=$((rounds + 1))
	say "round $rounds: $n requests, total $total, VmRSS $(rss_kb) kB"
	[ "$rounds" -lt 100 ] || break
done
RSS_AFTER=$(rss_kb)
non2xx=$(awk '/Non-2xx/ { print $NF }' "$WORK/round.wrk")

python3 - "$WORK/conns.json" "$RSS0" "$RSS_BEFORE" "$RSS_AFTER" "$total" \
    "${non2xx:-0}" "$OUT" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
rss0, before, after, total, non2xx = map(int, sys.argv[2:7])
out = sys.argv[7]
r = {"idle": c, "rss_start_kb": rss0, "requests": total,
     "rss_before_kb": before, "rss_after_kb": after,
     "non2xx_last_round": non2xx}
print("%d keep-alive connections: %d answered, %d still open after 1 s, "
      "VmRSS %.1f MB (%.1f MB at start); a fresh client meanwhile: "
      "HTTP %s in %.3f s" % (c["connections"], c["answered"], c["alive"],
      c["rss_kb"] / 1024.0, rss0 / 1024.0, c["probe_code"],
      c["probe_seconds"]))
print("%d GetCACaps requests: VmRSS %.1f MB after warm-up, %.1f MB after "
      "(%+d kB)" % (total, before / 1024.0, after / 1024.0, after - before))
if out:
    json.dump(r, open(out, "w"))
EOF
