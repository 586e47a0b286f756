"""Every speed figure of the project in one run, one benchmark after another on the same machine.

Runs, as subprocesses of this interpreter, each in turn:

1. ``bench_cli.py``: ``eligibility check`` cold start against a bare ``python -c pass``;
2. ``bench_fast.py``: per-case cost of the fast path, repeated classes and never-seen ones;
3. ``bench_batch.py``: ``eligibility batch`` rows/s and peak memory at 5,000, 50,000 and
   1,000,000 rows, default ``--jobs`` and ``--jobs 1``;
4. ``bench_columnar.py``: the columnar engine's rows/s for headlines;
5. ``bench_peers.py``: per-case latency against GoRules' zen-engine, OPA's Rego (regorus) and
   durable-rules (a peer not installed, ``pip install '.[bench]'``, is named and skipped);
6. ``bench_diff.py``: the example ``eligibility diff`` commands, each in a fresh process with a
   cold cache.

Each benchmark prints its own figures under a heading; the run ends with the wall time of each.
The load average is printed before and after, since other processes share the cores. Nothing
here asserts on a timing.

    python bench/bench_all.py [--quick] [--only NAME ...]

``--quick`` passes smaller sizes to each benchmark (a smoke run of a few minutes; its figures are
not the ones to quote).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (script, arguments of the full run, arguments of --quick)
BENCHES: dict[str, tuple[str, list[str], list[str]]] = {
    "cli": ("bench_cli.py", [], ["--runs", "5", "--importtime-runs", "2"]),
    "fast": ("bench_fast.py", [], ["--cases", "1000", "--rounds", "2"]),
    # each size stops after --timeout seconds and says so (a rate under rows/timeout)
    "batch": (
        "bench_batch.py",
        ["--populations", "legacy,realistic,fact_space", "--timeout", "300"],
        ["--sizes", "2000,20000", "--timeout", "60"],
    ),
    "columnar": ("bench_columnar.py", [], ["--rows", "200000"]),
    "peers": ("bench_peers.py", [], ["--cases", "300", "--repeats", "2"]),
    "diff": ("bench_diff.py", [], ["--only", "enacted:implemented"]),
}


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run, not figures to quote")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run only these benchmarks")
    args = parser.parse_args()

    print("bench_all: every speed figure in one run")
    print(f"  cpu_count={os.cpu_count()}  python={platform.python_version()}  platform={platform.platform()}")
    print(f"  load average at start: {_load()}")
    walls: list[tuple[str, float, int]] = []
    for name, (script, full, quick) in BENCHES.items():
        if args.only and name not in args.only:
            continue
        path = HERE / script
        print(
            f"\n{'=' * 100}\n{name}: {script} {' '.join(quick if args.quick else full)}\n{'=' * 100}",
            flush=True,
        )
        if not path.exists():
            print(f"  (skipped: {script} is not in this checkout)")
            continue
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(path), *(quick if args.quick else full)])
        walls.append((name, time.perf_counter() - started, code))
    print(f"\n{'=' * 100}\nwall time per benchmark (load average at end: {_load()})")
    for name, seconds, code in walls:
        print(f"  {name:<10} {seconds:8.1f} s" + ("" if code == 0 else f"  exit {code}"))
    return max((code for _, _, code in walls), default=0)


if __name__ == "__main__":
    raise SystemExit(main())
