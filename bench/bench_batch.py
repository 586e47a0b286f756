"""Benchmark ``eligibility batch`` end to end: wall time, rows/s and peak memory of the process tree.

1. Generates a seeded, realistic JSON Lines file of ``--cases`` cases (default 1,000,000) in a
   temporary directory: nationalities weighted like southwest-border arrivals (GT, HN, MX, SV,
   then NI, CU, VE, EC, CO, HT, BR, PE, IN, CN, RO), the four demographics (single adults, adults
   and children in family units, unaccompanied children) with ages to match, some birth dates
   in place of ages, entry dates spread over 2019-01-01..2020-12-31, border, place and state of
   entry, transit routes that follow the nationality (with a protection claim on some stops),
   decision and claim dates on part of the cases, and a few cases with fields left out (unknown).
2. Runs ``eligibility batch INPUT -o OUT.jsonl --engine fast --detail compact --jobs J`` as a
   subprocess for J = 1 and 2 (``--repeats`` rounds, alternating the order of J in each round),
   and measures the wall time of the process, rows/s, and peak memory: /proc is polled about
   every 50 ms for the resident set (RSS) of the batch process and all its descendants, and the
   peaks of the sum and of the largest single process are reported (with fork, pages shared
   copy-on-write count once per process in the RSS sum; the proportional set size, PSS, sampled
   every ~0.5 s, counts them once), as well as the largest VmHWM the kernel recorded.
3. Checks that the output has as many lines as the input (and exit code 0: no row rejected),
   and notes the output size per row.
4. Runs ``--engine durable --jobs 2`` on the first ``--durable-cases`` rows (default 2,000) for a
   side-by-side rate (durable-rules on every row, explanation built per row).
5. With ``--profile ROWS``: profiles ``eligibility.batch.run`` in this process (jobs=1, fast,
   compact) on the first ROWS rows with cProfile, and prints the top 10 functions by own time,
   as microseconds per row.

Prints figures only; nothing here asserts on a timing. Standard library plus the project's code.
The temporary directory is removed at the end unless ``--keep``.

    python bench/bench_batch.py [--cases 1000000] [--repeats 1] [--durable-cases 2000]
                                [--profile 0] [--seed 20191121] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# ------------------------------------------------------------------------------ the population

# Nationality weights loosely after CBP southwest border apprehensions, 2019-2020.
NATIONALITY_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("GT", 0.28), ("HN", 0.26), ("MX", 0.22), ("SV", 0.08), ("NI", 0.03), ("CU", 0.03),
    ("VE", 0.015), ("EC", 0.02), ("CO", 0.005), ("HT", 0.01), ("BR", 0.015), ("PE", 0.005),
    ("IN", 0.01), ("CN", 0.005), ("RO", 0.005),
)
NATIONS = tuple(n for n, _ in NATIONALITY_WEIGHTS)
NATION_WEIGHTS = tuple(w for _, w in NATIONALITY_WEIGHTS)
# Demographic: (name, weight, age range, unaccompanied, family_unit)
DEMOGRAPHICS: tuple[tuple[str, float, tuple[int, int], bool, bool], ...] = (
    ("single_adult", 0.47, (18, 65), False, False),
    ("family_adult", 0.25, (18, 50), False, True),
    ("family_child", 0.20, (0, 17), False, True),
    ("uac", 0.08, (12, 17), True, False),
)
DEMOGRAPHIC_WEIGHTS = tuple(d[1] for d in DEMOGRAPHICS)
FIRST_ENTRY = dt.date(2019, 1, 1)
LAST_ENTRY = dt.date(2020, 12, 31)
BORDERS = ("southern_land", "air", "northern_land", "sea")
BORDER_WEIGHTS = (0.88, 0.06, 0.04, 0.02)
STATES = {
    "southern_land": (("TX", "AZ", "CA", "NM"), (0.55, 0.2, 0.15, 0.1)),
    "northern_land": (("WA", "NY", "VT", "MI", "ND"), (0.3, 0.3, 0.2, 0.15, 0.05)),
    "air": (("FL", "NY", "TX", "CA", "IL", "NJ"), (0.3, 0.2, 0.2, 0.15, 0.1, 0.05)),
    "sea": (("FL", "PR"), (0.7, 0.3)),
}
ISTHMUS = ["PA", "CR", "NI", "HN", "GT", "MX"]
# Land routes by nationality: (route, weight); the last leg before the U.S. is Mexico.
ROUTES: dict[str, tuple[tuple[list[str], float], ...]] = {
    "MX": (([], 1.0),),
    "GT": ((["MX"], 1.0),),
    "HN": ((["GT", "MX"], 0.88), (["SV", "GT", "MX"], 0.05), (["MX"], 0.07)),
    "SV": ((["GT", "MX"], 0.92), (["MX"], 0.08)),
    "NI": ((["HN", "GT", "MX"], 0.85), (["MX"], 0.15)),
    "*americas": ((["CO", *ISTHMUS], 0.5), (ISTHMUS, 0.2), (["MX"], 0.3)),
    "*far": ((["EC", "CO", *ISTHMUS], 0.6), (["MX"], 0.4)),
}
FAR = {"IN", "CN", "RO"}
PROTECTIONS = ("pending", "denied_final", "abandoned", "granted")
DOCUMENTS = ("none", "us_visa", "us_transit_visa", "us_admission_document", "visa_waiver")
DOCUMENT_WEIGHTS = (0.9, 0.04, 0.02, 0.02, 0.02)
RELATIONS = ("spouse", "parent", "child", "sibling", "aunt", "uncle")
STATUSES = ("citizen", "lpr", "asylee", "refugee", "lawful_nonimmigrant", "pending_asylum_adult", "other")


def _pick(rng: random.Random, options: Sequence[Any], weights: Sequence[float]) -> Any:
    return rng.choices(options, weights=weights)[0]


def _route(rng: random.Random, nationality: str) -> list[str]:
    group = nationality if nationality in ROUTES else ("*far" if nationality in FAR else "*americas")
    routes = ROUTES[group]
    return list(_pick(rng, [r for r, _ in routes], [w for _, w in routes]))


def make_case(rng: random.Random, number: int, rich: bool = False) -> dict[str, Any]:
    """One realistic, valid case (the case format, `eligibility schema case`).

    The default population gives every field the names: nationalities (2% dual), age,
    ``unaccompanied`` and ``family_unit``, the entry (date in 2019-2020, border, place, state),
    the transit route (a protection claim on one stop in 4%), and a decision date in 30%; every
    other field is left out (its default is assumed). ``rich=True`` adds what a real intake file
    also holds: birth dates in place of ages (10%), fields left out now and then (age, flags,
    nationality, transit: unknown facts), documents, claim dates, habitual residence, fear
    established, trafficking and family in the U.S.
    """
    nationality = _pick(rng, NATIONS, NATION_WEIGHTS)
    _, _, (low, high), unaccompanied, family_unit = _pick(rng, DEMOGRAPHICS, DEMOGRAPHIC_WEIGHTS)
    age = rng.randint(low, high)
    entry = FIRST_ENTRY + dt.timedelta(days=rng.randrange((LAST_ENTRY - FIRST_ENTRY).days + 1))
    border = _pick(rng, BORDERS, BORDER_WEIGHTS)
    states, state_weights = STATES[border]
    if border == "southern_land":
        place = "between_ports" if rng.random() < 0.75 else "port_of_entry"
        transit: list[Any] = _route(rng, nationality)
    else:
        place = "port_of_entry"
        transit = ["CA"] if border == "northern_land" else ([] if rng.random() < 0.7 else ["PA"])
    if transit and rng.random() < 0.04:
        at = rng.randrange(len(transit))
        transit[at] = {"country": transit[at], "protection": rng.choice(PROTECTIONS)}
    case: dict[str, Any] = {"id": f"c{number:07d}"}
    r = rng.random()
    if r < 0.02:
        case["nationalities"] = [nationality, rng.choice([n for n in NATIONS if n != nationality])]
    elif r < 0.995 or not rich:
        case["nationalities"] = [nationality]
    r = rng.random() if rich else 0.5
    if r < 0.10:  # birth date instead of age
        case["birth_date"] = (entry - dt.timedelta(days=365 * age + rng.randint(0, 360))).isoformat()
    elif r < 0.97:
        case["age"] = age
    if not rich or rng.random() < 0.9:
        case["unaccompanied"] = unaccompanied
        case["family_unit"] = family_unit
    if rich and rng.random() < 0.95:
        case["documents"] = _pick(rng, DOCUMENTS, DOCUMENT_WEIGHTS)
    case["entry"] = {"date": entry.isoformat(), "border": border, "place": place,
                     "state": _pick(rng, states, state_weights)}
    if not rich or rng.random() < 0.97:
        case["transit"] = transit
    if rng.random() < 0.30:
        case["decision_date"] = (entry + dt.timedelta(days=rng.randint(1, 700))).isoformat()
    if not rich:
        return case
    if rng.random() < 0.15:
        case["claim_date"] = (entry + dt.timedelta(days=rng.randint(0, 60))).isoformat()
    if rng.random() < 0.03 and nationality not in ("MX", "GT"):
        case["habitual_residence"] = "MX"
    if rng.random() < 0.02:
        case["fear_established_in"] = ["GT"]
    if rng.random() < 0.01:
        case["trafficking_victim"] = True
    if rng.random() < 0.05:
        case["family_in_us"] = [{"relation": rng.choice(RELATIONS), "status": rng.choice(STATUSES)}]
    return case


def write_cases(path: Path, count: int, seed: int, rich: bool = False) -> int:
    """Write ``count`` cases as JSON Lines; returns the file size in bytes."""
    rng = random.Random(seed)
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        block: list[str] = []
        for number in range(1, count + 1):
            block.append(dumps(make_case(rng, number, rich)))
            if len(block) >= 10_000:
                out.write("\n".join(block) + "\n")
                block = []
        if block:
            out.write("\n".join(block) + "\n")
    return path.stat().st_size


def head(source: Path, target: Path, rows: int) -> None:
    """The first ``rows`` lines of ``source`` into ``target``."""
    with source.open("rb") as src, target.open("wb") as dst:
        for number, line in enumerate(src):
            if number >= rows:
                break
            dst.write(line)


def count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            lines += block.count(b"\n")
    return lines


# ----------------------------------------------------------------------------- memory polling

PAGE = os.sysconf("SC_PAGE_SIZE")


def descendants(pid: int) -> list[int]:
    """``pid`` and all its descendants, through /proc/PID/task/TID/children (else /proc/*/stat)."""
    found = [pid]
    try:
        for current in found:  # grows while iterating: a breadth-first walk
            try:
                tids = os.listdir(f"/proc/{current}/task")
            except FileNotFoundError:
                continue  # exited meanwhile
            for tid in tids:
                try:
                    with open(f"/proc/{current}/task/{tid}/children") as handle:
                        found.extend(int(c) for c in handle.read().split())
                except ProcessLookupError:
                    continue
                except FileNotFoundError:
                    if os.path.exists(f"/proc/{current}/task/{tid}"):
                        raise  # no children files in this kernel
        return found
    except (FileNotFoundError, PermissionError):
        pass
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found = [pid]
    for current in found:
        found.extend(parents.get(current, ()))
    return found


def rss_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return None


def status_kib(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def pss_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


@dataclass
class MemoryPeaks:
    """Peaks seen while polling a process tree."""

    samples: int = 0
    peak_sum: int = 0  # bytes: largest sum of RSS over the tree at one poll
    peak_single: int = 0  # bytes: largest RSS of one process at one poll
    peak_pss_sum: int = 0  # bytes: largest sum of PSS (sampled less often)
    peak_processes: int = 0
    hwm: dict[int, int] = field(default_factory=dict)  # pid -> VmHWM (KiB), last read
    stopped: str = ""  # why the poller stopped the process tree, if it did


class Poller:
    """Polls the RSS of a process and its descendants every ``interval`` seconds, in a thread."""

    def __init__(self, pid: int, interval: float = 0.05, pss_every: int = 10,
                 max_rss: float = float("inf"), deadline: float = float("inf")) -> None:
        self.pid = pid
        self.interval = interval
        self.pss_every = pss_every
        self.max_rss = max_rss  # bytes: above this RSS sum the process group is stopped
        self.deadline = deadline  # time.monotonic() after which it is stopped
        self.peaks = MemoryPeaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        peaks = self.peaks
        while not self._stop.is_set():
            pids = descendants(self.pid)
            sizes = [s for s in (rss_bytes(p) for p in pids) if s is not None]
            if sizes:
                peaks.samples += 1
                peaks.peak_sum = max(peaks.peak_sum, sum(sizes))
                peaks.peak_single = max(peaks.peak_single, max(sizes))
                peaks.peak_processes = max(peaks.peak_processes, len(sizes))
                if peaks.samples % self.pss_every == 1:
                    pss = [s for s in (pss_bytes(p) for p in pids) if s is not None]
                    peaks.peak_pss_sum = max(peaks.peak_pss_sum, sum(pss))
                for p in pids:
                    hwm = status_kib(p, "VmHWM:")
                    if hwm is not None:
                        peaks.hwm[p] = max(peaks.hwm.get(p, 0), hwm)
                if sum(sizes) > self.max_rss or time.monotonic() > self.deadline:
                    peaks.stopped = (f"RSS sum {sum(sizes) / (1 << 30):.1f} GiB over the limit"
                                     if sum(sizes) > self.max_rss else "time limit reached")
                    self._kill()
                    return
            self._stop.wait(self.interval)

    def _kill(self) -> None:
        """Stop the batch: its process group (it was started in a session of its own)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)


# ------------------------------------------------------------------------------------- running

SUMMARY = re.compile(r"([\d,]+) rows in ([\d.]+) s \(([\d,]+) rows/s\)")


@dataclass
class Run:
    label: str
    rows: int
    wall: float
    returncode: int
    stderr: str
    memory: MemoryPeaks
    out_lines: int
    out_bytes: int

    @property
    def rate(self) -> float:
        return self.rows / self.wall if self.wall else 0.0

    @property
    def inner_rate(self) -> float | None:
        """rows/s as the batch's own summary line reports it (without start-up and import)."""
        match = SUMMARY.search(self.stderr)
        return float(match.group(3).replace(",", "")) if match else None


def find_cli() -> str:
    """The ``eligibility`` console script next to this interpreter, else the one on PATH."""
    here = Path(sys.executable).parent / "eligibility"
    if here.exists():
        return str(here)
    found = shutil.which("eligibility")
    if not found:
        sys.exit("bench_batch: the 'eligibility' console script was not found (pip install -e .)")
    return found


def run_batch(cli: str, label: str, source: Path, rows: int, out: Path, extra: list[str],
              max_rss: float = float("inf"), timeout: float = float("inf")) -> Run:
    cmd = [cli, "batch", str(source), "-o", str(out), *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    with Poller(proc.pid, max_rss=max_rss, deadline=time.monotonic() + timeout) as poller:
        _, err = proc.communicate()
    wall = time.perf_counter() - t0
    lines = count_lines(out) if out.exists() else -1
    size = out.stat().st_size if out.exists() else 0
    if out.exists():
        out.unlink()  # the next run starts with the same free disk and page cache
    return Run(label, rows, wall, proc.returncode, err.decode(errors="replace"), poller.peaks, lines, size)


def mib(value: float) -> str:
    return f"{value / (1 << 20):8.1f}"


def report(label: str, runs: list[Run]) -> None:
    walls = [r.wall for r in runs]
    inner = [x for x in (r.inner_rate for r in runs) if x is not None]
    rates = [r.rate for r in runs]
    peak_sum = [r.memory.peak_sum for r in runs]
    peak_single = [r.memory.peak_single for r in runs]
    pss = [r.memory.peak_pss_sum for r in runs]
    hwm = [max(r.memory.hwm.values(), default=0) * 1024 for r in runs]
    print(f"  {label:<26} {runs[0].rows:>9,} {statistics.median(walls):>8.2f} "
          f"{statistics.median(rates):>10,.0f} "
          f"{(statistics.median(inner) if inner else float('nan')):>10,.0f} "
          f"{mib(statistics.median(peak_sum))} {mib(statistics.median(peak_single))} "
          f"{mib(statistics.median(pss))} {mib(statistics.median(hwm))} "
          f"{max(r.memory.peak_processes for r in runs):>5} {min(r.memory.samples for r in runs):>6}")


def check(run: Run) -> str:
    notes = []
    if run.memory.stopped:
        notes.append(f"STOPPED by the bench after {run.wall:.0f} s: {run.memory.stopped}")
    if run.returncode != 0:
        notes.append(f"exit {run.returncode}")
    if run.out_lines != run.rows and not run.memory.stopped:
        notes.append(f"OUTPUT HAS {run.out_lines:,} LINES FOR {run.rows:,} ROWS")
    last = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "(no summary)"
    status = "; ".join(notes) if notes else f"ok: {run.out_lines:,} output lines = input rows, exit 0"
    return f"  {run.label:<26} {status}\n      summary: {last}"


def profile(source: Path, rows: int, workdir: Path) -> None:
    """cProfile ``eligibility.batch.run`` in this process (jobs=1) and print the top 10 own times."""
    import cProfile
    import pstats

    from eligibility import batch

    part = workdir / "profile.jsonl"
    head(source, part, rows)
    out = workdir / "profile-out.jsonl"
    options = batch.Options(None, "fast", "compact", "jsonl")
    batch.run(str(part), str(out), options, jobs=1)  # untimed: load the rules, import everything
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    summary = batch.run(str(part), str(out), options, jobs=1)
    profiler.disable()
    elapsed = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(entries.items(), key=lambda kv: -kv[1][2])[:10]
    total_own = sum(v[2] for v in entries.values())
    print(f"\n5. cProfile of eligibility.batch.run(jobs=1, fast, compact) on {summary.rows:,} rows "
          f"(a new Evaluator,\n   so its class misses are included: {summary.classes:,} full "
          f"evaluations): {elapsed:.2f} s under the profiler\n   ({summary.rows / elapsed:,.0f} rows/s; "
          "the profiler itself slows Python calls down). Top 10 by own time:")
    print(f"  {'us/row':>8} {'share':>6} {'calls/row':>10}  function")
    for (filename, line, name), (_cc, calls, own, _cum, _callers) in ranked:
        where = f"{Path(filename).name}:{line}" if line else filename
        print(f"  {own / summary.rows * 1e6:>8.2f} {own / total_own:>6.1%} {calls / summary.rows:>10.2f}"
              f"  {name} ({where})")
    print("  cumulative time of the steps (us/row; a miss of the case key calls _prepare, a miss of the"
          " class\n  key also calls _template, the full evaluation):")
    wanted = ("model_validate_json", "evaluate", "_case_key", "_prepare", "_template", "to_json")
    for (filename, line, name), (_cc, calls, _own, cum, _callers) in sorted(entries.items(), key=lambda kv: -kv[1][3]):
        if name in wanted and (name != "evaluate" or filename.endswith("fast.py")) and (
                name != "to_json" or filename.endswith("fast.py")):
            print(f"  {cum / summary.rows * 1e6:>8.2f} {calls:>10,} calls  {name} ({Path(filename).name}:{line})")
    out.unlink(missing_ok=True)
    part.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="rows of input (default 1,000,000)")
    parser.add_argument("--population", choices=("realistic", "rich"), default="realistic",
                        help="'realistic' (default): the fields every row has; 'rich': also birth dates,"
                        " fields left out, documents, claim dates, residence, family (see make_case)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="rounds of the fast runs (jobs 1 and 2, order alternating; default 1)")
    parser.add_argument("--durable-cases", type=int, default=2000,
                        help="rows for the durable engine run (default 2,000; 0 skips it)")
    parser.add_argument("--profile", type=int, default=0, metavar="ROWS",
                        help="also cProfile the batch in-process on the first ROWS rows (default 0: off)")
    parser.add_argument("--max-rss-gib", type=float, default=8.0,
                        help="stop a batch whose process tree passes this RSS sum (default 8 GiB)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="stop a batch after this many seconds (default 1800)")
    parser.add_argument("--seed", type=int, default=20191121)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    cli = find_cli()
    limits = {"max_rss": args.max_rss_gib * (1 << 30), "timeout": args.timeout}
    print("bench_batch: eligibility batch, whole process tree")
    print(f"  cpu_count={os.cpu_count()}  python={platform.python_version()}"
          f" ({platform.python_implementation()})  platform={platform.platform()}")
    print(f"  console script: {cli}")
    print(f"  cases={args.cases:,}  population={args.population}  repeats={args.repeats}"
          f"  durable-cases={args.durable_cases:,}  seed={args.seed}")
    print(f"  load average at start: {os.getloadavg()[0]:.2f} (other processes share the cores)")

    workdir = Path(tempfile.mkdtemp(prefix="bench_batch."))
    try:
        source = workdir / "cases.jsonl"
        t0 = time.perf_counter()
        size = write_cases(source, args.cases, args.seed, rich=args.population == "rich")
        print(f"\n1. Input: {source} ({args.cases:,} rows, {size / 1e6:,.1f} MB, "
              f"{size / max(args.cases, 1):.0f} bytes/row), generated in {time.perf_counter() - t0:.1f} s")

        out = workdir / "out.jsonl"
        fast = ["--engine", "fast", "--detail", "compact", "--jobs"]
        runs: dict[str, list[Run]] = {"fast --jobs 1": [], "fast --jobs 2": []}
        print("\n2. Runs (rows/s = rows / wall time of the process; 'in-run' = the summary line's rate,"
              " without\n   interpreter start-up). Memory: peak RSS sum over the tree, peak single"
              " process, peak PSS\n   sum (every ~0.5 s), largest kernel VmHWM; procs = most processes"
              " seen at once.")
        for round_ in range(args.repeats):
            for jobs in (1, 2) if round_ % 2 == 0 else (2, 1):
                label = f"fast --jobs {jobs}"
                run = run_batch(cli, label, source, args.cases, out, [*fast, str(jobs)], **limits)
                runs[label].append(run)
                print(f"   round {round_ + 1}: {label:<16} {run.wall:7.2f} s  {run.rate:>9,.0f} rows/s  "
                      f"peak RSS sum {mib(run.memory.peak_sum).strip()} MiB  exit {run.returncode}"
                      + (f"  STOPPED: {run.memory.stopped}" if run.memory.stopped else ""), flush=True)
        side: list[Run] = []
        if args.durable_cases:
            part = workdir / "durable.jsonl"
            rows = min(args.durable_cases, args.cases)
            head(source, part, rows)
            side.append(run_batch(cli, "durable --jobs 2", part, rows, out,
                                  ["--engine", "durable", "--detail", "compact", "--jobs", "2"], **limits))
            side.append(run_batch(cli, "fast --jobs 2 (same rows)", part, rows, out, [*fast, "2"], **limits))

        print(f"\n  {'run':<26} {'rows':>9} {'wall s':>8} {'rows/s':>10} {'in-run/s':>10} "
              f"{'sum MiB':>8} {'one MiB':>8} {'PSS MiB':>8} {'HWM MiB':>8} {'procs':>5} {'polls':>6}")
        for label, group in runs.items():
            report(label, group)
        for run in side:
            report(run.label, [run])

        print("\n3. Output checks")
        for run in [*(r for group in runs.values() for r in group), *side]:
            print(check(run))
        complete = [r for group in runs.values() for r in group if r.out_lines > 0]
        if complete:
            r = complete[0]
            print(f"  output size: {r.out_bytes / 1e9:,.2f} GB for {r.out_lines:,} rows = "
                  f"{r.out_bytes / r.out_lines:,.0f} bytes/row (--detail compact)")

        print("\n4. Against the targets" + ("" if all(r.returncode == 0 for g in runs.values() for r in g)
                                           else " (runs that did not finish count at their wall time)"))
        j1 = statistics.median(r.rate for r in runs["fast --jobs 1"]) if args.repeats else 0.0
        j2 = statistics.median(r.rate for r in runs["fast --jobs 2"]) if args.repeats else 0.0
        if args.repeats:
            peak2 = statistics.median(r.memory.peak_sum for r in runs["fast --jobs 2"])
            peak1 = statistics.median(r.memory.peak_sum for r in runs["fast --jobs 1"])
            print(f"  rows/s with --jobs 2: {j2:,.0f} (target >= 100,000: "
                  f"{'met' if j2 >= 100_000 else 'NOT met'}); --jobs 1: {j1:,.0f}; "
                  f"jobs 2 / jobs 1 = {j2 / j1 if j1 else float('nan'):.2f}")
            print(f"  peak RSS sum for {args.cases:,} cases: --jobs 2 {peak2 / 1e6:,.1f} MB, --jobs 1 "
                  f"{peak1 / 1e6:,.1f} MB (target <= 200 MB: {'met' if max(peak1, peak2) <= 200e6 else 'NOT met'})")
        if len(side) == 2:
            d, f = side
            print(f"  durable vs fast on the same {d.rows:,} rows, --jobs 2: {d.rate:,.0f} vs {f.rate:,.0f} rows/s"
                  f" wall (in-run {d.inner_rate or float('nan'):,.0f} vs {f.inner_rate or float('nan'):,.0f})")
            if j2:
                print(f"  fast --jobs 2 on all {args.cases:,} rows: {j2 / d.rate:,.1f}x durable's wall rate")
        if args.profile:
            profile(source, min(args.profile, args.cases), workdir)
    finally:
        if args.keep:
            print(f"\nkept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nTotal bench time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
