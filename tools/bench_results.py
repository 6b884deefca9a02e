"""bench_results.py -- reading scepbench results, for the Python parts of
tools/bench*.sh (run as PYTHONPATH=tools python3 - ... from the repository
root)."""
import json
import os

# The members of a scepbench --json line that the summaries keep.
KEPT = ("ok", "failures", "duplicates", "throughput", "p50_ms", "p99_ms")


def load(results, name):
    """The last JSON line of RESULTS/NAME.json, or None when the run left
    none (it could not be made)."""
    try:
        with open(os.path.join(results, name + ".json")) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


def pick(j):
    """The summary members of a scepbench result."""
    return {k: j[k] for k in KEPT}
