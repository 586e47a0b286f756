"""Benchmark the columnar engine: headlines of a whole population (``eligibility.columnar``).

The population (``columnar_population.py``, seeded): rows drawn from ``bench_batch.make_case``
cases (``--population realistic``: every field the rules read given; ``rich``: with the optional
fields and fields left out now and then, i.e. unknown facts), each row's dates moved together so
that the entry dates spread over 2018-2026. It is given as a pyarrow Table of dictionary columns
(as ``pyarrow.csv.read_csv`` gives with dictionary encoding): reading it costs no hashing.

For each size (``--rows``, default 1,000,000 and 5,000,000) on one core: the columnar headlines
(``evaluate_frame``, a warm rule set: what an earlier table of 200,000 rows found is kept, the
facts of each group's cells, each rule group's truths for its facts, the headline of each
statuses), rows/s and the split (read, codes, unique, per-class headlines, broadcast of the
outcome column); the same table again (everything the first run found kept; ``--repeat`` times,
the median, with the process's CPU time beside the wall time: the machine may be shared); then the first
run's headlines with every class explained (``result.evidence``: one full evaluation per class,
the explanations' cost; ``--no-explain`` leaves it out); then the fast path on the first
``--fast-rows`` rows (``Evaluator.headline`` on Cases validated beforehand, and with the
validation of each row's dict) for comparison.

Prints figures only; nothing here asserts on a timing. Run from the repository root:

    python bench/bench_columnar.py [--rows 1000000 5000000] [--policy enacted] [--population realistic]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import columnar_population as cp

from eligibility.case import Case
from eligibility.columnar import _row_case, evaluate_frame
from eligibility.fast import Evaluator


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--policy", default="enacted")
    parser.add_argument("--population", choices=["realistic", "rich"], default="realistic")
    parser.add_argument("--fast-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="times to run the same table again (median)")
    parser.add_argument(
        "--explain",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time explaining every class",
    )
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for rows in args.rows:
        columns = cp.make_columns(rows, args.seed, rich=args.population == "rich")
        table = cp.to_arrow(columns)
        evaluate_frame(table.slice(0, min(rows, 200_000)), args.policy)  # warm: the classes' answers
        started = time.perf_counter()
        result = evaluate_frame(table, args.policy)
        outcome = result.outcome
        total = time.perf_counter() - started
        broadcast = total - sum(result.timings.values())
        t = result.timings
        print(
            f"{rows:>10,} rows ({args.population}, {args.policy}): columnar headlines {rows / total:>12,.0f} rows/s"
            f"  ({total:.3f} s: read {t['read']:.3f}, codes {t['codes']:.3f}, unique {t['unique']:.3f},"
            f" per-class {t['evaluate']:.3f}, broadcast {broadcast:.3f}; {len(result.classes):,} classes,"
            f" {len(result.rejected):,} rows rejected, {len(set(outcome.tolist())):,} outcome codes)"
        )
        runs = []
        for _ in range(max(1, args.repeat)):
            started, cpu = time.perf_counter(), time.process_time()
            again = evaluate_frame(table, args.policy)
            again.outcome  # noqa: B018 - the outcome column, as above
            runs.append((time.perf_counter() - started, time.process_time() - cpu, again.timings))
        repeat, cpu_time, t = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
        print(
            f"{rows:>10,} rows: the same table again (all it found kept) {rows / repeat:>12,.0f} rows/s"
            f"  ({repeat:.3f} s, cpu {cpu_time:.3f} s: read {t['read']:.3f}, codes {t['codes']:.3f},"
            f" unique {t['unique']:.3f}, per-class {t['evaluate']:.3f}"
            f"{f'; median of {len(runs)}' if len(runs) > 1 else ''})"
        )
        if args.explain:
            started = time.perf_counter()
            result.evidence  # noqa: B018 - every class explained (a full evaluation each)
            explained = time.perf_counter() - started
            print(
                f"{rows:>10,} rows: columnar headlines and every class explained (evidence)"
                f" {rows / (total + explained):>12,.0f} rows/s  ({total + explained:.3f} s: explaining"
                f" {len(result.classes):,} classes {explained:.3f})"
            )
    n = min(args.fast_rows, rows)
    cells = cp.to_dict({k: (v[0][:n], v[1]) for k, v in columns.items()})
    names = list(cells)
    dicts = [{name: cells[name][i] for name in names} for i in range(n)]
    cases = [c for c in (_row_case(d) for d in dicts) if isinstance(c, Case)]
    ev = Evaluator(args.policy)
    for case in cases:
        ev.headline(case)  # warm
    started = time.perf_counter()
    for case in cases:
        ev.headline(case)
    took = time.perf_counter() - started
    print(
        f"{len(cases):>10,} rows: fast path headlines (Cases validated beforehand) {len(cases) / took:>12,.0f} rows/s"
    )
    started = time.perf_counter()
    for d in dicts:
        case = _row_case(d)
        if isinstance(case, Case):
            ev.headline(case)
    took = time.perf_counter() - started
    print(f"{n:>10,} rows: fast path headlines with each row's validation {n / took:>12,.0f} rows/s")
    print(f"(one core: pid {os.getpid()}; figures under the load above)")


if __name__ == "__main__":
    main()
