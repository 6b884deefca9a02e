#!/usr/bin/env python3
"""flood.py -- connection-level abuse for test_hostile.sh (issue 8).

    flood.py idle HOST PORT N SECONDS
        Open N TCP connections that never send a byte and hold them for
        up to SECONDS.
    flood.py slowloris HOST PORT N SECONDS [INTERVAL]
        Open N connections that send a request line and then one header
        byte every INTERVAL seconds (default 1), never finishing the
        headers.

Prints one JSON object: how many connections were opened, how many the
server closed (and after how many seconds: median and max), how many it
answered first and with which status lines (408 is what a server may say
before it closes), and how many were still open at the end.  Exit status 0
unless the flood itself could not run.
"""
import json
import resource
import selectors
import socket
import sys
import time


def main():
    if len(sys.argv) < 6 or sys.argv[1] not in ("idle", "slowloris"):
        sys.stderr.write(__doc__)
        return 2
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    n, secs = int(sys.argv[4]), float(sys.argv[5])
    interval = float(sys.argv[6]) if len(sys.argv) > 6 else 1.0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 256), hard))

    socks = {}
    sel = selectors.DefaultSelector()
    refused = 0
    t0 = time.monotonic()
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((host, port))
        except OSError:
            refused += 1
            s.close()
            continue
        s.setblocking(False)
        st = {"opened": time.monotonic(), "sent": 0, "answer": b""}
        if mode == "slowloris":
            try:
                s.send(b"POST /scep/x?operation=PKIOperation HTTP/1.1\r\n"
                       b"Host: x\r\nX-a: ")
            except OSError:
                pass
        socks[s] = st
        sel.register(s, selectors.EVENT_READ)
    opened = len(socks)
    closed_after = []
    answers = {}
    next_drip = time.monotonic() + interval
    while socks and time.monotonic() - t0 < secs:
        events = sel.select(0.2)
        now = time.monotonic()
        for key, _ in events:
            s = key.fileobj
            st = socks[s]
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data:
                st["answer"] += data[:200]
                continue
            closed_after.append(now - st["opened"])
            line = st["answer"].split(b"\r\n", 1)[0].decode("latin-1")
            if line:
                answers[line] = answers.get(line, 0) + 1
            sel.unregister(s)
            s.close()
            del socks[s]
        if mode == "slowloris" and now >= next_drip:
            next_drip = now + interval
            for s in list(socks):
                try:
                    s.send(b"a")
                except OSError:
                    pass
    still_open = len(socks)
    for s in socks:
        s.close()
    closed_after.sort()
    out = {
        "mode": mode,
        "opened": opened,
        "refused": refused,
        "closed_by_server": len(closed_after),
        "close_median_s": round(closed_after[len(closed_after) // 2], 2)
        if closed_after else None,
        "close_max_s": round(closed_after[-1], 2) if closed_after else None,
        "answers": answers,
        "still_open": still_open,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
