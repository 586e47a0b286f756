"""Benchmark ``eligibility batch`` end to end: rows/s and peak memory at several sizes, in one run.

1. Generates seeded JSON Lines inputs, one per population (``--populations``), as large as the
   largest of ``--sizes`` (default 5,000, 50,000 and 1,000,000 rows; the smaller sizes are the
   first rows of the same file). The populations (generators in ``bench/batch_populations.py``):
   ``realistic``: southwest-border arrivals with entry dates spread over 2018-2026, fields left out
   now and then; ``fact_space``: rows drawn across the whole space of facts the rules test;
   ``legacy``: this script's earlier population (``make_case``: dates in 2019-2020, every field
   the names, ``--population rich`` then added the optional fields), kept for comparison.
2. For each population and size, runs ``eligibility batch INPUT -o OUT.jsonl`` as a subprocess with
   the default ``--jobs`` (one worker per core) and with ``--jobs 1``, and measures the wall time
   of the process, rows/s, and peak memory: /proc is polled about every 50 ms for the resident
   set (RSS) of the batch process and all its descendants, and the peak of the sum is reported
   (with fork, pages shared copy-on-write count once per process in the RSS sum; the
   proportional set size, PSS, sampled every ~0.5 s, counts them once). A run is stopped at
   ``--timeout`` seconds (its rate is then at most rows / timeout), and a size is skipped when
   the rate measured at the size before says it would take more than twice that.
3. Checks that the output has as many lines as the input (exit code 0: no row rejected), and
   notes the output size per row.
4. With ``--durable-cases N``: ``--engine durable --jobs 2`` on the first N rows of the first
   population, beside the fast engine on the same rows.
5. With ``--profile ROWS``: profiles ``eligibility.batch.run`` in this process (jobs=1, fast,
   compact) on the first ROWS rows of each population with cProfile, and prints the top functions
   by own time and the cumulative time of the steps, as microseconds per row.

Prints figures only; nothing here asserts on a timing. The temporary directory is removed at the
end unless ``--keep``.

    python bench/bench_batch.py [--sizes 5000,50000,1000000] [--populations realistic,fact_space]
                                [--timeout 300] [--durable-cases 0] [--profile 0] [--seed 20191121]

``--cases N`` is ``--sizes N`` (one size).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/: also when loaded by path (tests)
import batch_populations  # a sibling module

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
# Land routes by nationality, (route, weight), the last leg before the U.S. Mexico: one table for
# both generators.
ISTHMUS, ROUTES, FAR = batch_populations.ISTHMUS, batch_populations.ROUTES, batch_populations.FAR
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


def profile(source: Path, rows: int, workdir: Path, label: str) -> None:
    """cProfile ``eligibility.batch.run`` in this process (jobs=1) and print the top own times."""
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
    ranked = sorted(entries.items(), key=lambda kv: -kv[1][2])[:12]
    total_own = sum(v[2] for v in entries.values())
    print(f"\n5. cProfile of eligibility.batch.run(jobs=1, fast, compact), {label}, on {summary.rows:,} rows"
          f" (a new Evaluator,\n   so its class misses are included: {summary.classes:,} full "
          f"evaluations): {elapsed:.2f} s under the profiler\n   ({summary.rows / elapsed:,.0f} rows/s; "
          "the profiler itself slows Python calls down). Top 12 by own time:")
    print(f"  {'us/row':>8} {'share':>6} {'calls/row':>10}  function")
    for (filename, line, name), (_cc, calls, own, _cum, _callers) in ranked:
        where = f"{Path(filename).name}:{line}" if line else filename
        print(f"  {own / summary.rows * 1e6:>8.2f} {own / total_own:>6.1%} {calls / summary.rows:>10.2f}"
              f"  {name} ({where})")
    print("  cumulative time of the steps (us/row; reading a row is `case` (shapes) or `_case` (the"
          " model);\n  a miss of the case key calls _prepare, a miss of the class key also calls"
          " _template, the full evaluation):")
    wanted = {("__init__.py", "case"), ("__init__.py", "_case"), ("fast.py", "evaluate"),
              ("fast.py", "_case_key"), ("fast.py", "_prepare"), ("fast.py", "_template"),
              ("fast.py", "to_bytes"), ("settle.py", "settle"), ("build.py", "build")}
    for (filename, line, name), (_cc, calls, _own, cum, _callers) in sorted(entries.items(), key=lambda kv: -kv[1][3]):
        if (Path(filename).name, name) in wanted:
            print(f"  {cum / summary.rows * 1e6:>8.2f} {calls:>10,} calls  {name} ({Path(filename).name}:{line})")
    out.unlink(missing_ok=True)
    part.unlink(missing_ok=True)


def make_input(population: str, path: Path, count: int, seed: int) -> int:
    """Write ``count`` rows of ``population``; returns the file's size in bytes."""
    if population in ("legacy", "rich"):
        return write_cases(path, count, seed, rich=population == "rich")
    return batch_populations.write(path, population, count, seed)


def sizes_option(text: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "").replace(",", "")) for part in text.split(",") if part})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: sizes are whole numbers, separated by commas") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("give at least one size of 1 row or more")
    return sizes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=sizes_option, default=[5_000, 50_000, 1_000_000],
                        help="rows of input, comma-separated (default 5000,50000,1000000)")
    parser.add_argument("--cases", type=int, default=None, help="one size: the same as --sizes N")
    parser.add_argument("--populations", default="realistic,fact_space",
                        help="comma-separated, of realistic, fact_space, legacy, rich (default realistic,fact_space)")
    parser.add_argument("--population", choices=("legacy", "rich", "realistic", "fact_space"), default=None,
                        help="one population: the same as --populations NAME")
    parser.add_argument("--jobs", default="default,1",
                        help="the --jobs values to run, comma-separated; 'default' gives none (default default,1)")
    parser.add_argument("--durable-cases", type=int, default=0,
                        help="rows for a durable engine run beside the fast one (default 0: none)")
    parser.add_argument("--profile", type=int, default=0, metavar="ROWS",
                        help="also cProfile the batch in-process on the first ROWS rows (default 0: off)")
    parser.add_argument("--max-rss-gib", type=float, default=8.0,
                        help="stop a batch whose process tree passes this RSS sum (default 8 GiB)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="stop a batch after this many seconds (default 300)")
    parser.add_argument("--seed", type=int, default=20191121)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    sizes: list[int] = [args.cases] if args.cases else args.sizes
    populations = [args.population] if args.population else [p for p in args.populations.split(",") if p]
    for name in populations:
        if name not in ("legacy", "rich", *batch_populations.POPULATIONS):
            parser.error(f"--populations: unknown population {name!r}")
    jobs_values = [j.strip() for j in args.jobs.split(",") if j.strip()]

    started = time.perf_counter()
    cli = find_cli()
    limits = {"max_rss": args.max_rss_gib * (1 << 30), "timeout": args.timeout}
    print("bench_batch: eligibility batch JSONL -> JSONL (--engine fast --detail compact), whole process tree")
    print(f"  cpu_count={os.cpu_count()}  python={platform.python_version()}"
          f" ({platform.python_implementation()})  platform={platform.platform()}")
    print(f"  console script: {cli}")
    print(f"  sizes={','.join(f'{n:,}' for n in sizes)}  populations={','.join(populations)}"
          f"  jobs={','.join(jobs_values)}  timeout={args.timeout:.0f} s  seed={args.seed}")
    print(f"  load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
          " (other processes share the cores)")

    workdir = Path(tempfile.mkdtemp(prefix="bench_batch."))
    results: list[Run] = []
    try:
        out = workdir / "out.jsonl"
        for population in populations:
            source = workdir / f"{population}.jsonl"
            t0 = time.perf_counter()
            size = make_input(population, source, sizes[-1], args.seed)
            print(f"\n== {population}: {sizes[-1]:,} rows, {size / 1e6:,.1f} MB, {size / sizes[-1]:.0f} bytes/row,"
                  f" generated in {time.perf_counter() - t0:.1f} s")
            print(f"  {'run':<30} {'rows':>9} {'wall s':>8} {'rows/s':>9} {'in-run/s':>9} {'RSS sum MiB':>11}"
                  f" {'PSS MiB':>8} {'out B/row':>9}  check")
            rate_at: dict[str, float] = {}
            for rows in sizes:
                part = source
                if rows != sizes[-1]:
                    part = workdir / f"{population}-{rows}.jsonl"
                    head(source, part, rows)
                for jobs in jobs_values:
                    label = f"{population} {rows:,} --jobs {jobs}"
                    extra = ["--engine", "fast", "--detail", "compact"] + ([] if jobs == "default" else ["--jobs", jobs])
                    known = rate_at.get(jobs)
                    if known is not None and rows / known > 2 * args.timeout:
                        print(f"  {label:<30} skipped: at {known:,.0f} rows/s it would take ~{rows / known:,.0f} s"
                              f" (over twice --timeout)", flush=True)
                        continue
                    run = run_batch(cli, label, part, rows, out, extra, **limits)
                    results.append(run)
                    rate_at[jobs] = run.rate
                    status = "ok" if run.returncode == 0 and run.out_lines == rows else check(run).split("\n")[0].strip()
                    if run.memory.stopped:
                        status = f"STOPPED ({run.memory.stopped}): under {rows / run.wall:,.0f} rows/s"
                    print(f"  {label:<30} {rows:>9,} {run.wall:>8.2f} {run.rate:>9,.0f} "
                          f"{(run.inner_rate or float('nan')):>9,.0f} {mib(run.memory.peak_sum):>11} "
                          f"{mib(run.memory.peak_pss_sum):>8} {run.out_bytes / max(run.out_lines, 1):>9,.0f}  {status}",
                          flush=True)
                if part != source:
                    part.unlink(missing_ok=True)
            if args.durable_cases:
                part = workdir / "durable.jsonl"
                rows = min(args.durable_cases, sizes[-1])
                head(source, part, rows)
                for label, extra in (("durable --jobs 2", ["--engine", "durable"]), ("fast --jobs 2", ["--engine", "fast"])):
                    run = run_batch(cli, label, part, rows, out, [*extra, "--detail", "compact", "--jobs", "2"], **limits)
                    print(f"  {population} {label:<21} {rows:>9,} {run.wall:>8.2f} {run.rate:>9,.0f}"
                          f" {(run.inner_rate or float('nan')):>9,.0f}")
            if args.profile:
                profile(source, min(args.profile, sizes[-1]), workdir, population)

        print("\n== Against the targets (100,000 rows/s with the default --jobs on 2 cores; 5,000 rows in under"
              " a second;\n   the default --jobs never slower than --jobs 1; peak memory <= 200 MB at 1,000,000 rows)")
        by_label = {r.label: r for r in results}
        for population in populations:
            for rows in sizes:
                d = by_label.get(f"{population} {rows:,} --jobs default")
                one = by_label.get(f"{population} {rows:,} --jobs 1")
                if d is None:
                    continue
                notes = [f"{d.rate:,.0f} rows/s ({'met' if d.rate >= 100_000 and not d.memory.stopped else 'NOT met'})"]
                if rows == 5_000:
                    notes.append(f"{d.wall:.2f} s ({'met' if d.wall < 1 else 'NOT met'})")
                if one is not None:
                    notes.append(f"--jobs 1 {one.rate:,.0f} rows/s: default/1 = {d.rate / one.rate:.2f}"
                                 f" ({'met' if d.wall <= one.wall * 1.05 else 'NOT met'})")
                if rows >= 1_000_000:
                    peak = max([d.memory.peak_pss_sum] + [r.memory.peak_pss_sum for r in [one] if r is not None])
                    notes.append(f"peak PSS {peak / 1e6:,.0f} MB ({'met' if peak <= 200e6 else 'NOT met'})")
                print(f"  {population} {rows:>9,}: " + "; ".join(notes))
        print(f"  load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if args.keep:
            print(f"\nkept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nTotal bench time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
