"""Benchmark the command line as a user runs it: wall time of whole processes.

Runs each command ``--runs`` times (default 15) after one untimed warm-up run, and prints the
median and the minimum wall time:

* ``eligibility check --nationality HN --age 30 --entry-date 2019-12-01 --border southern_land
  --place between_ports --transit GT --transit MX`` (text, and ``--format json``);
* ``eligibility rules lint``;
* ``python -c "import eligibility"`` and ``python -c "pass"`` for comparison;

then the top entries of ``python -X importtime -c "import eligibility.api"`` by cumulative time
(the median over a few runs). Prints figures only; nothing here asserts on a timing. Standard
library only; the commands are those of the environment running this script.

    python bench/bench_cli.py [--runs 15] [--importtime-runs 5] [--top 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

CHECK_ARGS = ["check", "--nationality", "HN", "--age", "30", "--entry-date", "2019-12-01",
              "--border", "southern_land", "--place", "between_ports",
              "--transit", "GT", "--transit", "MX"]


def find_cli() -> str:
    """The ``eligibility`` console script next to this interpreter, else the one on PATH."""
    here = Path(sys.executable).parent / ("eligibility.exe" if os.name == "nt" else "eligibility")
    if here.exists():
        return str(here)
    found = shutil.which("eligibility")
    if not found:
        sys.exit("bench_cli: the 'eligibility' console script was not found (pip install -e .)")
    return found


def run_once(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, proc


def timed(cmd: list[str], runs: int) -> tuple[list[float], subprocess.CompletedProcess[str]]:
    _, last = run_once(cmd)  # warm-up: page cache, .pyc files
    times = []
    for _ in range(runs):
        elapsed, last = run_once(cmd)
        times.append(elapsed)
    return times, last


def describe_result(label: str, proc: subprocess.CompletedProcess[str]) -> str:
    """A one-line sanity note on the last run's output (not a timing check)."""
    note = f"exit {proc.returncode}"
    out = proc.stdout.strip()
    if label.endswith("json") and proc.returncode == 0:
        try:
            data = json.loads(out)
            note += (f", outcome={data.get('outcome')} transfer_to={data.get('transfer_to')}"
                     f" engine={data.get('engine')}")
        except json.JSONDecodeError as exc:
            note += f", output is not one JSON object: {exc}"
    elif out:
        note += f", first line: {out.splitlines()[0][:70]!r}"
    if proc.returncode != 0 and proc.stderr.strip():
        note += f", stderr: {proc.stderr.strip().splitlines()[-1][:100]!r}"
    return note


Times = dict[str, list[int]]


def importtime(runs: int) -> tuple[Times, Times, dict[str, int], list[str]]:
    """Per module: self and cumulative import times (us) over ``runs`` runs; depth; order."""
    self_us: dict[str, list[int]] = defaultdict(list)
    cumulative: dict[str, list[int]] = defaultdict(list)
    depth: dict[str, int] = {}
    order: list[str] = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import eligibility.api"],
                              capture_output=True, text=True, check=False)
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "imported package" in line:
                continue
            parts = line[len("import time:"):].split("|")
            if len(parts) != 3:
                continue
            name = parts[2].rstrip()
            stripped = name.lstrip()
            depth.setdefault(stripped, (len(name) - len(stripped)) // 2)
            if stripped not in self_us:
                order.append(stripped)
            self_us[stripped].append(int(parts[0]))
            cumulative[stripped].append(int(parts[1]))
    return self_us, cumulative, depth, order


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--importtime-runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    cli = find_cli()
    py = sys.executable
    print("bench_cli: wall time of whole processes")
    print(f"  cpu_count={os.cpu_count()}  python={platform.python_version()}"
          f" ({platform.python_implementation()})  platform={platform.platform()}")
    print(f"  interpreter: {py}")
    print(f"  console script: {cli}")
    print(f"  runs per command: {args.runs} (after 1 untimed warm-up run)")

    commands = [
        ("check (text)", [cli, *CHECK_ARGS]),
        ("check --format json", [cli, *CHECK_ARGS, "--format", "json"]),
        ("rules lint", [cli, "rules", "lint"]),
        ('python -c "import eligibility"', [py, "-c", "import eligibility"]),
        ('python -c "pass"', [py, "-c", "pass"]),
    ]
    print(f"\n  {'command':<34} {'median ms':>10} {'min ms':>9} {'max ms':>9} {'stdev ms':>9}"
          "   result of last run")
    medians = {}
    for label, cmd in commands:
        times, last = timed(cmd, args.runs)
        ms = [t * 1e3 for t in times]
        medians[label] = statistics.median(ms)
        spread = statistics.stdev(ms) if len(ms) > 1 else 0.0
        print(f"  {label:<34} {statistics.median(ms):>10.1f} {min(ms):>9.1f} {max(ms):>9.1f} "
              f"{spread:>9.1f}   {describe_result(label, last)}")

    base = medians['python -c "import eligibility"']
    start = medians['python -c "pass"']
    print("\n  medians relative to the interpreter alone and to importing the package:")
    for label, _ in commands[:3]:
        print(f"  {label:<34} {medians[label] - start:>+8.1f} ms over 'pass'   "
              f"{medians[label] - base:>+8.1f} ms over 'import eligibility'")
    print(f"  {'import eligibility':<34} {base - start:>+8.1f} ms over 'pass'")

    self_us, cumulative, depth, order = importtime(args.importtime_runs)
    print(f"\n  python -X importtime -c \"import eligibility.api\": top {args.top} by cumulative"
          f" time\n  (median of {args.importtime_runs} runs; depth = nesting level in the import"
          " tree)")
    print(f"  {'cumulative ms':>13} {'self ms':>9} {'depth':>6}  module")
    ranked = sorted(order, key=lambda m: -statistics.median(cumulative[m]))
    for name in ranked[: args.top]:
        cum_ms = statistics.median(cumulative[name]) / 1e3
        self_ms = statistics.median(self_us[name]) / 1e3
        print(f"  {cum_ms:>13.1f} {self_ms:>9.1f} {depth[name]:>6}  {name}")
    top_self = sorted(order, key=lambda m: -statistics.median(self_us[m]))[: args.top]
    print(f"\n  top {args.top} by self time (the module's own body, without its imports):")
    print(f"  {'self ms':>9}  module")
    for name in top_self:
        print(f"  {statistics.median(self_us[name]) / 1e3:>9.1f}  {name}")
    print(f"\nTotal bench time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
