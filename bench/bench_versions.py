"""Compare two installs of the checker side by side: ``eligibility check`` cold start, interleaved.

Runs the same ``eligibility check`` command (the README's lookup, text and ``--format json``, and a
2025 case) with the console script of each environment, alternating A and B run by run so that a
noisy machine treats both alike, and prints the median and minimum wall time of each, their ratio,
and ``python -c pass`` for scale. The cache directory is left as the user's (a warm rule-set cache,
as a user has after the first command); one untimed run of each warms it.

    python bench/bench_versions.py OTHER_VENV/bin/python [--runs 15]

Prints figures only; nothing here asserts on a timing. Standard library only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "check (README lookup)": [
        "check", "--nationality", "HN", "--age", "30", "--entry-date", "2019-12-01", "--border",
        "southern_land", "--place", "between_ports", "--transit", "GT", "--transit", "MX",
    ],
    "check --format json": [
        "check", "--nationality", "HN", "--age", "30", "--entry-date", "2019-12-01", "--border",
        "southern_land", "--place", "between_ports", "--transit", "GT", "--transit", "MX",
        "--format", "json",
    ],
    "check, a 2025 case decided in 2026": [
        "check", "--nationality", "HN", "--age", "30", "--accompanied", "--entry-date", "2025-03-01",
        "--border", "southern_land", "--place", "between_ports", "--as-of", "2026-03-01",
    ],
}


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("other", help="the python of the other environment (B)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    pythons = {"A (this)": Path(sys.executable), "B (other)": Path(args.other)}
    clis = {name: str(p.parent / "eligibility") for name, p in pythons.items()}
    print(f"A: {clis['A (this)']}\nB: {clis['B (other)']}\n")
    bare = [_wall([sys.executable, "-c", "pass"]) for _ in range(args.runs)]
    print(f"python -c pass: median {statistics.median(bare) * 1000:.0f} ms\n")
    print(f"{'command':38} {'A median':>9} {'A min':>7} {'B median':>9} {'B min':>7} {'A/B':>6}")
    for label, argv in COMMANDS.items():
        times: dict[str, list[float]] = {name: [] for name in clis}
        for name, cli in clis.items():
            _wall([cli, *argv])  # warm the user cache
        for _ in range(args.runs):
            for name, cli in clis.items():
                times[name].append(_wall([cli, *argv]))
        a, b = (statistics.median(times[n]) for n in clis)
        amin, bmin = (min(times[n]) for n in clis)
        print(f"{label:38} {a * 1000:7.0f}ms {amin * 1000:5.0f}ms {b * 1000:7.0f}ms {bmin * 1000:5.0f}ms {a / b:6.2f}")


if __name__ == "__main__":
    main()
