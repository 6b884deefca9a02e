#!/usr/bin/env python3
"""overload.py -- PKIOperation flood for test_overload.sh (issue 7).

    overload.py URL MSGFILE CLIENTS SECONDS METRICS_URL

CLIENTS threads POST the pkiMessage in MSGFILE to URL back to back, each
on its own keep-alive connection, for SECONDS; meanwhile /metrics is
scraped every 100 ms for the largest scepd_queue_depth and
scepd_inflight_requests seen.  Prints one JSON object: counts by HTTP
status, the Retry-After values seen on 503s, latency (ms) max and p99 per
status, and the gauges' peaks.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse
import urllib.request


def main():
    url, msgfile, clients, secs, murl = sys.argv[1:6]
    clients, secs = int(clients), float(secs)
    body = open(msgfile, "rb").read()
    u = urllib.parse.urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    lock = threading.Lock()
    codes, lat, retry = {}, {}, set()
    errors = [0]
    peaks = {"scepd_queue_depth": 0, "scepd_inflight_requests": 0}
    stop = time.monotonic() + secs

    def client():
        conn = None
        while time.monotonic() < stop:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port,
                                                      timeout=30)
                t0 = time.monotonic()
                conn.request("POST", path, body, {
                    "Content-Type": "application/x-pki-message"})
                r = conn.getresponse()
                r.read()
                ms = (time.monotonic() - t0) * 1000
                with lock:
                    codes[r.status] = codes.get(r.status, 0) + 1
                    lat.setdefault(r.status, []).append(ms)
                    if r.status == 503:
                        retry.add(r.getheader("Retry-After"))
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception:
                with lock:
                    errors[0] += 1
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.01)

    def scraper():
        while time.monotonic() < stop:
            try:
                t = urllib.request.urlopen(murl, timeout=5).read().decode()
                for line in t.splitlines():
                    for k in peaks:
                        if line.startswith(k + " "):
                            peaks[k] = max(peaks[k], float(line.split()[1]))
            except Exception:
                pass
            time.sleep(0.1)

    ts = [threading.Thread(target=client) for _ in range(clients)]
    ts.append(threading.Thread(target=scraper))
    for t in ts:
        t.start()
    for t in ts:
        t.join()

    def p99(v):
        v = sorted(v)
        return v[min(len(v) - 1, int(len(v) * 0.99))] if v else 0

    print(json.dumps({
        "codes": {str(k): v for k, v in codes.items()},
        "retry_after": sorted(x for x in retry if x is not None),
        "retry_after_missing": None in retry,
        "max_ms": {str(k): round(max(v), 1) for k, v in lat.items()},
        "p99_ms": {str(k): round(p99(v), 1) for k, v in lat.items()},
        "errors": errors[0],
        "peaks": peaks,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
