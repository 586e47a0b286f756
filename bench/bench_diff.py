"""Benchmark ``eligibility diff`` as a user runs it: each example diff in a fresh process, with a
cold cache (a fresh ``ELIGIBILITY_CACHE_DIR`` per run, so nothing derived is reused: the rule set
is validated again and no diff is read back), default options.

Prints, for each diff, the wall time, the child's user and system CPU time, its exit status and
the first line of its output (how many kinds of case, or why it stopped), with the load average
before and after the run (the machine may be shared: the figures are then under load). With
``--warm`` each diff is also run a second time with the same cache directory (what a user sees
the second time). Prints figures only; nothing here asserts on a timing. Standard library only.

    python bench/bench_diff.py [--runs 1] [--warm] [--only enacted:implemented ...] [--cli CMD]

``--cli`` runs another command in place of the ``eligibility`` script (for instance an older copy
of the package: ``--cli "python -c 'from eligibility_cli.main import main; main()'"`` with
``PYTHONPATH`` set to it), to compare before and after in one run.

Issue 12's target: each of these under 5 s wall on 2 cores, cold.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/: also when loaded by path
from bench_cli import find_cli  # a sibling module

ROOT = Path(__file__).resolve().parent.parent

DIFFS: list[tuple[str, str, list[str]]] = [
    ("enacted", "hypothetical-mexico-2019", ["--rules", str(ROOT / "examples" / "us-mx-stca" / "rules")]),
    ("enacted", "implemented", []),
    ("enacted", "draft-2019-07", []),
    ("enacted", "without-title-42", []),
]
TARGET = 5.0


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unknown"


def run(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[float, float, float, int, str]:
    """Wall, user and system time of one child process, its exit status and first output line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        code, out = done.returncode, (done.stdout or done.stderr)
    except subprocess.TimeoutExpired:
        code, out = -1, f"timed out after {timeout:.0f} s"
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    first = next((line for line in out.splitlines() if line.strip()), "")
    if code not in (0, -1):
        first = next((line for line in (done.stderr or out).splitlines() if line.strip()), first)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime, code, first[:150]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="cold runs of each diff (default 1)")
    parser.add_argument("--warm", action="store_true", help="also a second run with the cache kept")
    parser.add_argument("--only", action="append", default=[], help="A:B, a diff to run (repeatable)")
    parser.add_argument("--cli", help="the command to run in place of the eligibility script")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is stopped")
    args = parser.parse_args()
    cli = shlex.split(args.cli) if args.cli else [find_cli()]
    chosen = [d for d in DIFFS if not args.only or f"{d[0]}:{d[1]}" in args.only]
    print(f"bench_diff: {shlex.join(cli)}; {os.cpu_count()} CPUs; loadavg before: {loadavg()}")
    print(f"{'diff':<45} {'run':>4} {'wall s':>8} {'user s':>8} {'sys s':>7} {'exit':>5}  output")
    for a, b, extra in chosen:
        for number in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="bench-diff-") as cache:
                env = {**os.environ, "ELIGIBILITY_CACHE_DIR": cache}
                env.pop("ELIGIBILITY_NO_CACHE", None)
                cmd = [*cli, "diff", a, b, *extra]
                label = f"{a} vs {b}" + (" (example rules)" if extra else "")
                passes = [("cold", number + 1)] + ([("warm", number + 1)] if args.warm else [])
                for kind, n in passes:
                    wall, user, system, code, first = run(cmd, env, args.timeout)
                    mark = "" if wall < TARGET else " *"
                    print(
                        f"{label:<45} {kind[0]}{n:>3} {wall:>8.2f} {user:>8.2f} {system:>7.2f} {code:>5}  "
                        f"{first}{mark}",
                        flush=True,
                    )
    print(f"loadavg after: {loadavg()}   (* : over the {TARGET:.0f} s target)")


if __name__ == "__main__":
    main()
