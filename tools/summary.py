#!/usr/bin/env python3
"""summary.py LOG.json... -- count test results over meson testlog.json files.

A TAP test counts each of its "ok"/"not ok" lines; any other test counts
once.  A test that failed without a single "not ok" line (a crash, a
timeout) counts one failure.  Prints the failures and then, last,
"N passed, M failed"; exits 1 when M > 0 or nothing ran.
"""
import json
import re
import sys

passed = failed = 0
bad = []
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError as e:
        print(f"summary: {path}: {e}")
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        name = f"{path.split('/')[0]}:{t['name']}"
        res = t.get("result", "")
        out = t.get("stdout", "") or ""
        if t.get("protocol") == "tap" or re.search(r"^(not )?ok \d+", out, re.M):
            # A skipped test is not a pass: "ok N - x # SKIP why" fails.
            skips = re.findall(r"^ok \d+.*#\s*SKIP.*$", out, re.M | re.I)
            oks = len(re.findall(r"^ok \d+", out, re.M)) - len(skips)
            nots = re.findall(r"^not ok \d+.*$", out, re.M) + skips
            passed += oks
            failed += len(nots)
            bad += [f"{name}: {n}" for n in nots]
            if res not in ("OK", "EXPECTEDFAIL") and not nots:
                failed += 1
                bad.append(f"{name}: {res}")
        elif res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            failed += 1
            bad.append(f"{name}: skipped (a skipped test is not a pass)")
        else:
            failed += 1
            bad.append(f"{name}: {res}")
for b in bad:
    print("FAILED", b)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
