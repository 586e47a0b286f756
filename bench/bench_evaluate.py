"""Benchmark the evaluation pipeline on seeded synthetic cases.

Measures, for each policy (enacted, implemented, draft-2019-07):

1. the engine call alone, ``engine_for(program, 'durable').fired(facts)`` against
   ``engine_for(program, 'pure').fired(facts)``, on fully known facts (every unknown fact filled
   with its first representative value, as ``eligibility.analysis.settle._leaf`` does), interleaved case
   by case so that the durable/pure ratio is taken under the same machine conditions;
2. the full ``eligibility.evaluate(case, policy, engine=...)`` (parse, facts, settle,
   explanation) for both engines, interleaved, reported separately for cases whose facts are all
   known and for cases with unknown facts;
3. the number of regions ``eligibility.analysis.settle.settle`` makes for the cases with unknown facts.

Prints figures only; nothing here asserts on a timing. Standard library plus the project's code.

    python bench/bench_evaluate.py [--cases 3000] [--unknown-share 0.2] [--seed 20191121]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import functools
import gc
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import eligibility
from eligibility.api import load_rules
from eligibility.engine.backends import durable_available, engine_for
from eligibility.ruleset.facts import UNKNOWN, derive_facts
from eligibility.analysis.partition import representatives
from eligibility.engine.program import Program, compile_policy
from eligibility.analysis.settle import settle

POLICIES = ("enacted", "implemented", "draft-2019-07")
NATIONALITIES = ("HN", "SV", "GT", "MX", "NI", "VE", "CU", "CA", "ES")
FIRST_ENTRY = dt.date(2018, 6, 1)
LAST_ENTRY = dt.date(2023, 12, 31)
BORDERS = ("southern_land",) * 5 + ("northern_land", "air", "sea")
PLACES = ("port_of_entry", "between_ports")
STATES = ("TX", "CA", "AZ", "NM", "NY", "WA", "VT", "FL")
DOCUMENTS = ("none",) * 6 + ("us_visa", "us_transit_visa", "us_admission_document", "visa_waiver")
TRANSITS: tuple[list[Any], ...] = (
    ["GT", "MX"], ["GT", "MX"], ["MX"], ["MX"], ["SV", "GT", "MX"], ["NI", "HN", "GT", "MX"], [],
    [{"country": "MX", "protection": "denied_final"}],
    ["GT", {"country": "MX", "protection": "pending"}],
)
# Fields an "unknown-fact" case may leave out (each then is unknown, or takes its default).
OMITTABLE = ("nationalities", "age", "unaccompanied", "family_unit", "documents",
             "entry.border", "entry.place", "entry.state", "transit")
# How many fields an unknown-fact case leaves out (weights for 1, 2, 3).
OMIT_WEIGHTS = (0.5, 0.35, 0.15)


# --------------------------------------------------------------------------------------- cases

def make_case(rng: random.Random, number: int) -> dict[str, Any]:
    """A valid case (the case format, `eligibility schema case`) with every field the rules test given."""
    entry = FIRST_ENTRY + dt.timedelta(days=rng.randrange((LAST_ENTRY - FIRST_ENTRY).days + 1))
    nationalities = [rng.choice(NATIONALITIES)]
    if rng.random() < 0.05:
        nationalities.append(rng.choice([n for n in NATIONALITIES if n != nationalities[0]]))
    age = rng.randint(5, 60)
    case: dict[str, Any] = {
        "id": f"bench-{number}",
        "nationalities": nationalities,
        "age": age,
        "unaccompanied": age < 18 and rng.random() < 0.6,
        "family_unit": rng.random() < 0.3,
        "documents": rng.choice(DOCUMENTS),
        "entry": {
            "date": entry.isoformat(),
            "border": rng.choice(BORDERS),
            "place": rng.choice(PLACES),
            "state": rng.choice(STATES),
        },
        "transit": list(rng.choice(TRANSITS)),
    }
    if rng.random() < 0.35:
        case["decision_date"] = (entry + dt.timedelta(days=rng.randint(1, 900))).isoformat()
    if rng.random() < 0.1:
        case["claim_date"] = (entry + dt.timedelta(days=rng.randint(0, 30))).isoformat()
    if rng.random() < 0.05:
        case["fear_established_in"] = ["GT"]
    return case


def leave_out(rng: random.Random, case: dict[str, Any]) -> dict[str, Any]:
    """The case with one to three of its fields left out."""
    out = dict(case)
    out["entry"] = dict(case["entry"])
    count = rng.choices((1, 2, 3), weights=OMIT_WEIGHTS)[0]
    for name in rng.sample(OMITTABLE, count):
        if name.startswith("entry."):
            del out["entry"][name[6:]]
        else:
            del out[name]
    return out


def make_cases(count: int, unknown_share: float, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cases = []
    for number in range(count):
        case = make_case(rng, number)
        cases.append(leave_out(rng, case) if rng.random() < unknown_share else case)
    return cases


def has_unknown(program: Program, facts: Mapping[str, Any]) -> bool:
    """Whether some fact the policy's rules test is unknown."""
    return any(facts[name] is UNKNOWN for name in program.facts_used)


def fill_unknowns(program: Program, facts: Mapping[str, Any]) -> dict[str, Any]:
    """Fully known facts, built the way ``eligibility.analysis.settle._leaf`` builds its concrete case."""
    entry_date = facts["entry.date"]
    return {
        name: (representatives(program, name, entry_date)[0] if value is UNKNOWN else value)
        for name, value in facts.items()
        if name in program.facts_used or value is not UNKNOWN
    }


# --------------------------------------------------------------------------------- statistics

def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100), by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


COLUMNS = (("p50 us", 10), ("p90 us", 10), ("p99 us", 10), ("max us", 10), ("mean us", 10),
           ("cases/s", 9))
HEADER = f"  {'policy':<14} {'engine':<14} {'set':<8} {'n':>5} " + " ".join(
    f"{title:>{width}}" for title, width in COLUMNS)


def row(policy: str, engine: str, subset: str, micros: Sequence[float]) -> str:
    """One table row: percentiles of per-case times in microseconds, and throughput."""
    head = f"  {policy:<14} {engine:<14} {subset:<8} {len(micros):>5} "
    if not micros:
        return head + " ".join(f"{'-':>{width}}" for _, width in COLUMNS)
    mean = statistics.fmean(micros)
    figures = (pct(micros, 50), pct(micros, 90), pct(micros, 99), max(micros), mean)
    return head + " ".join(f"{v:>10.1f}" for v in figures) + f" {1e6 / mean:>9.0f}"


def interleaved(items: Sequence[Any], first: Callable[[Any], Any], second: Callable[[Any], Any],
                keep: Callable[[Any], Any] = lambda result: result,
                ) -> tuple[list[float], list[float], list[tuple[Any, Any, Any]]]:
    """Time ``first(item)`` and ``second(item)`` for each item, alternating which runs first.

    Returns the two lists of times in microseconds (same order as ``items``) and, per item, the
    item with ``keep`` of each result (``keep`` runs outside the timed region; keeping only a
    summary keeps the heap, and so the garbage collector's pauses, the same size all run long).
    """
    clock = time.perf_counter_ns
    a_times: list[float] = []
    b_times: list[float] = []
    results = []
    for i, item in enumerate(items):
        if i % 2 == 0:
            t0 = clock()
            ra = first(item)
            t1 = clock()
            rb = second(item)
            t2 = clock()
            a_times.append((t1 - t0) / 1000)
            b_times.append((t2 - t1) / 1000)
        else:
            t0 = clock()
            rb = second(item)
            t1 = clock()
            ra = first(item)
            t2 = clock()
            b_times.append((t1 - t0) / 1000)
            a_times.append((t2 - t1) / 1000)
        results.append((item, keep(ra), keep(rb)))
    return a_times, b_times, results


def summary(result: Any) -> Any:
    """The headline of a determination (or the exception raised instead)."""
    if isinstance(result, Exception):
        return result
    return (result.outcome, tuple(result.transfer_to), result.asylum, result.wait_in_mexico,
            tuple(result.missing_facts))


def safe(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``, or the exception it raised (reported, so the bench finishes)."""
    try:
        return call(*args, **kwargs)
    except Exception as exc:
        return exc


def evaluator(policy: str, engine: str) -> Callable[[dict[str, Any]], Any]:
    """One case -> ``eligibility.evaluate(case, policy, engine=engine)`` (or its exception)."""
    return functools.partial(safe, eligibility.evaluate, policy=policy, engine=engine)


def split(times: Sequence[float], flags: Sequence[bool], wanted: bool) -> list[float]:
    return [t for t, flag in zip(times, flags, strict=True) if flag == wanted]


# ---------------------------------------------------------------------------------------- main

def engine_section(programs: Mapping[str, Program], facts_of: Sequence[Mapping[str, Any]]) -> None:
    print("\n1. Engine call alone: engine.fired(facts) on fully known facts (every case, unknown"
          " facts\n   filled with representatives()[0] as settle._leaf does), interleaved"
          " durable/pure")
    print(HEADER)
    ratio_lines = []
    mismatches: dict[str, int] = {}
    for name, program in programs.items():
        durable = engine_for(program, "durable")
        pure = engine_for(program, "pure")
        concrete = [fill_unknowns(program, f) for f in facts_of]
        for f in concrete[:50]:  # warm up both
            durable.fired(f)
            pure.fired(f)
        gc.collect()
        d_times, p_times, results = interleaved(concrete, durable.fired, pure.fired)
        mismatches[name] = sum(1 for _, a, b in results if a != b)
        print(row(name, durable.name, "all", d_times))
        print(row(name, pure.name, "all", p_times))
        per_case = [d / p for d, p in zip(d_times, p_times, strict=True) if p > 0]
        ratio_lines.append(
            f"  {name:<14} ratio of p50s {pct(d_times, 50) / pct(p_times, 50):5.2f}   "
            f"ratio of means {statistics.fmean(d_times) / statistics.fmean(p_times):5.2f}   "
            f"per-case ratio p10/p50/p90 {pct(per_case, 10):5.2f} / {pct(per_case, 50):5.2f}"
            f" / {pct(per_case, 90):5.2f}"
        )
    print("\n  durable/pure time ratio (same run, interleaved; > 1 means durable is slower):")
    for line in ratio_lines:
        print(line)
    print("  cases where durable and pure fired different rules: "
          + ", ".join(f"{k}={v}" for k, v in mismatches.items()))


def evaluate_section(programs: Mapping[str, Program], raw: Sequence[dict[str, Any]],
                     facts_of: Sequence[Mapping[str, Any]], failures: list[str]) -> None:
    print("\n2. Full eligibility.evaluate(case, policy, engine=...) per case (parse + facts +"
          " settle +\n   explanation), interleaved durable/pure. 'known': every fact the policy"
          " tests is known;\n   'unknown': some are not, and the case is settled over regions."
          " (engine='durable' also\n   runs the pure evaluator on every region, as its check.)")
    print(HEADER)
    ratio_lines = []
    region_lines = []
    outcomes: dict[str, collections.Counter[str]] = {}
    for name, program in programs.items():
        flags = [has_unknown(program, f) for f in facts_of]
        gc.collect()
        d_times, p_times, results = interleaved(
            raw, evaluator(name, "durable"), evaluator(name, "pure"), keep=summary)
        counts: collections.Counter[str] = collections.Counter()
        for case, d_res, p_res in results:
            for label, res in (("durable", d_res), ("pure", p_res)):
                if isinstance(res, Exception):
                    failures.append(f"{name} {label} {case.get('id')}: {type(res).__name__}: {res}")
            if not isinstance(d_res, Exception):
                counts[d_res[0]] += 1
                if not isinstance(p_res, Exception) and d_res != p_res:
                    failures.append(f"{name} {case.get('id')}: durable and pure headlines differ")
        outcomes[name] = counts
        label = engine_for(program, "durable").name
        for subset, flag in (("known", False), ("unknown", True)):
            print(row(name, label, subset, split(d_times, flags, flag)))
            print(row(name, "pure", subset, split(p_times, flags, flag)))
        parts = []
        for subset, flag in (("known", False), ("unknown", True)):
            d, p = split(d_times, flags, flag), split(p_times, flags, flag)
            if d and p:
                parts.append(f"{subset} {pct(d, 50) / pct(p, 50):5.2f}")
        ratio_lines.append(f"  {name:<14} " + "   ".join(parts))

        pure = engine_for(program, "pure")
        regions = []
        for facts, flag in zip(facts_of, flags, strict=True):
            if flag:
                result = safe(settle, program, facts, pure)
                if isinstance(result, Exception):
                    failures.append(f"{name} settle: {type(result).__name__}: {result}")
                else:
                    regions.append(len(result.regions))
        if regions:
            region_lines.append(
                f"  {name:<14} {len(regions):>5} {statistics.fmean(regions):>8.1f} "
                f"{pct(regions, 50):>7.0f} {pct(regions, 90):>7.0f} {pct(regions, 99):>7.0f} "
                f"{max(regions):>7d}")
    print("\n  evaluate durable/pure ratio of p50s (same run, interleaved):")
    for line in ratio_lines:
        print(line)
    print("\n3. Regions per case from eligibility.analysis.settle.settle, cases with unknown facts")
    print(f"  {'policy':<14} {'n':>5} {'mean':>8} {'median':>7} {'p90':>7} {'p99':>7} {'max':>7}")
    for line in region_lines:
        print(line)
    print("\nOutcomes (durable engine): " + "; ".join(
        f"{name}: " + ", ".join(f"{k}={v}" for k, v in sorted(c.items()))
        for name, c in outcomes.items()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000, help="synthetic cases (default 3000)")
    parser.add_argument("--unknown-share", type=float, default=0.2,
                        help="share of cases that leave fields out (default 0.2)")
    parser.add_argument("--seed", type=int, default=20191121)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    print("bench_evaluate: eligibility pipeline timings")
    print(f"  cpu_count={os.cpu_count()}  python={platform.python_version()}"
          f" ({platform.python_implementation()})  platform={platform.platform()}")
    print(f"  durable-rules available: {durable_available()}  cases={args.cases}"
          f"  unknown-share={args.unknown_share}  seed={args.seed}")
    if not durable_available():
        print("  NOTE: durable-rules is not importable: engine 'durable' falls back to 'pure'.")

    t0 = time.perf_counter()
    rules = load_rules()
    print(f"  load_rules (shipped rules, first call): {(time.perf_counter() - t0) * 1e3:.1f} ms")

    raw = make_cases(args.cases, args.unknown_share, args.seed)
    parsed = [eligibility.parse_case(c) for c in raw]  # every case must be valid
    facts_of = [derive_facts(c, rules.context)[0] for c in parsed]
    programs = {name: compile_policy(rules, name) for name in POLICIES}

    print("\nCold start (first use in this process; not included below)")
    for name, program in programs.items():
        for engine in ("durable", "pure"):
            t0 = time.perf_counter()
            engine_for(program, engine)
            built = (time.perf_counter() - t0) * 1e3
            t0 = time.perf_counter()
            eligibility.evaluate(raw[0], name, engine=engine)
            first = (time.perf_counter() - t0) * 1e3
            print(f"  {name:<14} {engine:<8} engine build {built:7.2f} ms   first evaluate"
                  f" {first:7.2f} ms   ({len(program.rules)} bound rules,"
                  f" {len(program.facts_used)} facts)")

    failures: list[str] = []
    engine_section(programs, facts_of)
    evaluate_section(programs, raw, facts_of, failures)
    if failures:
        print(f"\nFAILURES ({len(failures)}):")
        for line in failures[:20]:
            print("  " + line)
    else:
        print("No evaluation errors; durable and pure headlines agree on every case.")
    print(f"\nTotal bench time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
