"""Benchmark the fast path in process: per-case latency of ``eligibility.fast.Evaluator``.

On seeded synthetic cases (``--population realistic``: ``bench_batch.make_case``, the population
``bench_batch.py`` writes; ``rich``: the same with the optional fields; ``broad``:
``bench_evaluate.make_cases``, wide date and field ranges with 20% unknown-fact cases, less those
the case format refuses), under one
policy (``--policy``, default enacted), every case validated once beforehand (``Case``):

1. Cold: the first pass over the cases with new Evaluators (``detail='full'`` and ``'compact'``,
   interleaved case by case), ``ev.evaluate(case).to_json()``: time per case, split into class
   hits and misses, ``ev.evaluations`` (class misses; ``ev.assembled`` of them put together from
   memoized parts, compact only), and the growth of
   the process's resident memory while the caches fill.
2. Warm (``--passes`` more passes over the same cases, caches filled), per case, interleaved case
   by case with the order rotated so every measure runs under the same machine conditions:
   (a) durable-rules raw post: ``DurableEngine(program).fired(facts)`` on the case's facts
       (derived, and unknown facts filled with ``representatives()[0]``, beforehand): the C API
       assert, the activations drained, the state deleted; fired rule names only, no explanation;
   (b) ``ev.evaluate(case)``: the headline only;
   (c) ``ev.evaluate(case).to_json()``, compact (the explained determination, ~5.6 KB);
   (d) the same, full (every rule's findings, ~53 KB);
   for context: (p) ``Case.model_validate_json(line)`` (what ``eligibility batch`` does per row
   before evaluating) and (t) an empty call (the floor of the timer).
3. The public durable-rules API: ``durable.lang.post(ruleset, event)`` on a trivial ruleset of
   four rules (exactly one matches each event), interleaved with the same ruleset through the C
   API (``durable_rules_engine.assert_event``, activation drained), on ``--durable-posts`` cases.
4. (e) ``eligibility.evaluate(case, policy, counterfactuals=False, engine="durable")`` on the
   first ``--slow-cases`` cases, interleaved with (d) on the same cases; headlines compared.
5. (f) Population loops: the same cases repeated, counting outcomes from ``ev.evaluate(case)``;
   also with ``.to_json()`` compact, and from the JSON line (validate + evaluate + to_json, the
   per-row work of a batch worker without its I/O): cases/s, median over rounds.

Prints figures only; nothing here asserts on a timing. Standard library plus the project's code.
Run from the repository root:

    python bench/bench_fast.py [--cases 5000] [--population realistic] [--passes 3]
                               [--slow-cases 300] [--durable-posts 2000] [--policy enacted]
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import bench_batch  # a sibling script (bench/ is sys.path[0]): the population
import bench_evaluate

import eligibility
from eligibility.case import Case
from eligibility.engine.backends import durable_available
from eligibility.ruleset.facts import derive_facts
from eligibility.fast import Evaluator
from eligibility.engine.program import compile_policy

pct = bench_evaluate.pct
TARGET_US = 10.0  # in-process evaluation with explanation, p50
PAGE = os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------------------- cases

def make_cases(population: str, count: int, seed: int) -> list[dict[str, Any]]:
    if population == "broad":
        return bench_evaluate.make_cases(count, 0.2, seed)
    rng = random.Random(seed)
    return [bench_batch.make_case(rng, number, rich=population == "rich") for number in range(count)]


# ---------------------------------------------------------------------------------- statistics

COLUMNS = (("n", 7), ("p50 us", 9), ("p90 us", 9), ("p99 us", 9), ("max us", 10), ("mean us", 9),
           ("per s", 10))
HEADER = f"  {'measure':<44} " + " ".join(f"{title:>{width}}" for title, width in COLUMNS)


def row(label: str, micros: Sequence[float]) -> str:
    head = f"  {label:<44} {len(micros):>7} "
    if not micros:
        return head + " ".join(f"{'-':>{width}}" for _, width in COLUMNS[1:])
    mean = statistics.fmean(micros)
    return (head + f"{pct(micros, 50):>9.2f} {pct(micros, 90):>9.2f} {pct(micros, 99):>9.2f} "
            f"{max(micros):>10.1f} {mean:>9.2f} {1e6 / mean:>10,.0f}")


def rotated(items: Sequence[Any], measures: Sequence[Callable[[Any], Any]],
            args_of: Sequence[Callable[[Any], Any]]) -> list[list[float]]:
    """Time every measure on every item, in an order rotated item by item; microseconds.

    ``args_of[k](item)`` is the argument of ``measures[k]`` (prepared outside the timed region).
    """
    clock = time.perf_counter_ns
    k = len(measures)
    times: list[list[float]] = [[] for _ in range(k)]
    for i, item in enumerate(items):
        for j in range(k):
            m = (i + j) % k
            arg = args_of[m](item)
            call = measures[m]
            t0 = clock()
            call(arg)
            t1 = clock()
            times[m].append((t1 - t0) / 1000)
    return times


def rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


def noop(_: Any) -> None:
    return None


# ------------------------------------------------------------------------------------ sections

def cold_section(cases: Sequence[Case], ev_full: Evaluator, ev_compact: Evaluator) -> None:
    print(f"\n1. Cold first pass: new Evaluators, ev.evaluate(case).to_json() on each of {len(cases):,}"
          " cases,\n   full and compact interleaved case by case")
    print(HEADER)
    clock = time.perf_counter_ns
    before = rss()
    gc.collect()
    started = time.perf_counter()
    results: dict[str, tuple[list[float], list[bool]]] = {"full": ([], []), "compact": ([], [])}
    for i, case in enumerate(cases):
        order = (("full", ev_full), ("compact", ev_compact))
        for name, ev in order if i % 2 == 0 else order[::-1]:
            misses = ev.evaluations
            t0 = clock()
            ev.evaluate(case).to_json()
            t1 = clock()
            results[name][0].append((t1 - t0) / 1000)
            results[name][1].append(ev.evaluations > misses)
    elapsed = time.perf_counter() - started
    grown = rss() - before
    for name, (times, missed) in results.items():
        print(row(f"cold {name}: every case", times))
        print(row(f"cold {name}: class hits", [t for t, m in zip(times, missed, strict=True) if not m]))
        print(row(f"cold {name}: class misses (full evaluation)", [t for t, m in zip(times, missed, strict=True) if m]))
    for name, ev in (("full", ev_full), ("compact", ev_compact)):
        keys = len(getattr(ev, "_by_case", ()))
        miss_ms = sum(t for t, m in zip(*results[name], strict=True) if m) / 1e3
        print(f"  {name:<8} ev.evaluations={ev.evaluations:,} (classes_seen={ev.classes_seen:,}, case keys"
              f" cached={keys:,}) for {len(cases):,} cases: {ev.evaluations / len(cases):.1%} of cases"
              f" are misses; misses took {miss_ms / 1e3:.1f} s of the pass")
        if getattr(ev, "assembled", 0):
            print(f"  {'':<8} of the misses, {ev.assembled:,} assembled from memoized parts (facts all"
                  " known: no settlement, build or Determination)")
    print(f"  cold pass: {elapsed:.1f} s for both; resident memory grew {grown / 1e6:,.1f} MB while the"
          f" two Evaluators' caches filled ({grown / max(1, ev_full.evaluations + ev_compact.evaluations):,.0f}"
          " bytes per full evaluation)")
    compact_misses = [t for t, m in zip(*results["compact"], strict=True) if m]
    if compact_misses:
        p50 = statistics.median(compact_misses)
        print(f"  issue 14 target: a full evaluation of a class never seen before, compact, at most 100 us:"
              f" p50 {p50:,.0f} us, {p50 / 100:.1f}x the target ({'met' if p50 <= 100 else 'NOT met'})")


def warm_section(cases: Sequence[Case], lines: Sequence[bytes], facts: Sequence[dict[str, Any]] | None,
                 ev_full: Evaluator, ev_compact: Evaluator, passes: int) -> dict[str, list[float]]:
    print(f"\n2. Warm: {passes} pass(es) over the same {len(cases):,} cases (caches filled by the cold pass),"
          " every\n   measure on every case, order rotated case by case")
    labels = ["(t) empty call (timer floor)", "(p) Case.model_validate_json(line)",
              "(b) ev.evaluate(case) headline",
              "(c) ev.evaluate(case).to_json() compact", "(d) ev.evaluate(case).to_json() full",
              "(c') ev.evaluate(case).to_bytes() compact", "(d') ev.evaluate(case).to_bytes() full"]
    measures: list[Callable[[Any], Any]] = [
        noop, Case.model_validate_json, ev_compact.evaluate,
        lambda c: ev_compact.evaluate(c).to_json(), lambda c: ev_full.evaluate(c).to_json(),
        lambda c: ev_compact.evaluate(c).to_bytes(), lambda c: ev_full.evaluate(c).to_bytes()]
    index = list(range(len(cases)))
    args_of: list[Callable[[int], Any]] = [
        cases.__getitem__, lines.__getitem__, cases.__getitem__, cases.__getitem__, cases.__getitem__,
        cases.__getitem__, cases.__getitem__]
    if facts is not None:
        from eligibility.engine.durable import DurableEngine

        engine = DurableEngine(ev_full.program)
        for f in facts[:200]:
            engine.fired(f)
        labels.insert(0, "(a) durable-rules raw post: fired(facts)")
        measures.insert(0, engine.fired)
        args_of.insert(0, facts.__getitem__)
    before = (ev_full.evaluations, ev_compact.evaluations)
    times: list[list[float]] = [[] for _ in measures]
    for _ in range(passes):
        gc.collect()
        for k, ts in enumerate(rotated(index, measures, args_of)):
            times[k].extend(ts)
    print(HEADER)
    for label, ts in zip(labels, times, strict=True):
        print(row(label, ts))
    if (ev_full.evaluations, ev_compact.evaluations) != before:
        print(f"  NOTE: the warm passes made {ev_full.evaluations - before[0]} + "
              f"{ev_compact.evaluations - before[1]} full evaluations (the transit memo or caches were cleared?)")
    by = dict(zip(labels, times, strict=True))
    if facts is not None:
        durable = by["(a) durable-rules raw post: fired(facts)"]
        print("\n  durable raw post / fast (same run, interleaved; > 1 means the fast path is quicker):")
        for label in labels[3:]:
            fast = by[label]
            paired = [d / f for d, f in zip(durable, fast, strict=True) if f > 0]
            print(f"  {label:<44} ratio of p50s {pct(durable, 50) / pct(fast, 50):7.1f}x   ratio of means "
                  f"{statistics.fmean(durable) / statistics.fmean(fast):7.1f}x   per-case ratio p10/p50/p90 "
                  f"{pct(paired, 10):6.1f} / {pct(paired, 50):6.1f} / {pct(paired, 90):6.1f}")
    return by


TRIVIAL_RULES: dict[str, dict[str, Any]] = {
    # Four rules, a partition: exactly one matches each event (an event fires one rule only).
    "minor": {"all": [{"m": {"$and": [{"kind": "case"}, {"$lt": {"age": 18}}]}}]},
    "adult_other_border": {"all": [{"m": {"$and": [
        {"kind": "case"}, {"$gte": {"age": 18}}, {"$neq": {"border": "southern_land"}}]}}]},
    "adult_aca_national": {"all": [{"m": {"$and": [
        {"kind": "case"}, {"$gte": {"age": 18}}, {"border": "southern_land"},
        {"$or": [{"nationality": "HN"}, {"nationality": "SV"}, {"nationality": "GT"}]}]}}]},
    "adult_other_national": {"all": [{"m": {"$and": [
        {"kind": "case"}, {"$gte": {"age": 18}}, {"border": "southern_land"},
        {"$neq": {"nationality": "HN"}}, {"$neq": {"nationality": "SV"}}, {"$neq": {"nationality": "GT"}}]}}]},
}


def event_of(case: Case) -> dict[str, Any]:
    nationality = (case.nationalities or ["ZZ"])[0]
    age = case.age if case.age is not None else 30
    return {"kind": "case", "nationality": nationality, "age": age,
            "border": case.entry.border or "southern_land"}


def public_api_section(cases: Sequence[Case], count: int, seed: int) -> None:
    import durable_rules_engine as dre
    from durable import lang

    print(f"\n3. durable-rules' own per-post cost: a trivial ruleset of {len(TRIVIAL_RULES)} rules, one event"
          f" per case\n   ({count:,} cases), durable.lang.post() interleaved with the C API"
          " (assert_event + drain)")
    fired: list[str] = []
    name = f"bench_fast_trivial_{seed}"
    with lang.ruleset(name):
        m = lang.m

        @lang.when_all((m.kind == "case") & (m.age < 18))
        def minor(c: Any) -> None:
            fired.append("minor")

        @lang.when_all((m.kind == "case") & (m.age >= 18) & (m.border != "southern_land"))
        def adult_other_border(c: Any) -> None:
            fired.append("adult_other_border")

        @lang.when_all((m.kind == "case") & (m.age >= 18) & (m.border == "southern_land")
                       & ((m.nationality == "HN") | (m.nationality == "SV") | (m.nationality == "GT")))
        def adult_aca_national(c: Any) -> None:
            fired.append("adult_aca_national")

        @lang.when_all((m.kind == "case") & (m.age >= 18) & (m.border == "southern_land")
                       & (m.nationality != "HN") & (m.nationality != "SV") & (m.nationality != "GT"))
        def adult_other_national(c: Any) -> None:
            fired.append("adult_other_national")

    handle = dre.create_ruleset(f"{name}_raw", json.dumps(TRIVIAL_RULES))
    raw_fired: list[str] = []

    def raw_post(message: str) -> None:
        code, state = dre.assert_event(handle, message)
        if code == 0:
            result = dre.start_action_for_state(handle, state)
            activation = result[1] if result else None
            while activation:
                raw_fired.append(activation[2 : activation.index('"', 2)])
                activation = dre.complete_and_start_action(handle, state)

    events = [event_of(c) for c in cases[:count]]
    for number, event in enumerate(events, start=1):
        event["id"] = number  # events with the same content would count as one already seen
    for event in events[:50]:  # warm up both (and start the Host: lang.get_host())
        lang.post(name, dict(event, id=-event["id"]))
        raw_post(json.dumps(dict(event, id=-event["id"])))
    fired.clear()
    raw_fired.clear()
    gc.collect()
    times = rotated(range(len(events)), [lambda e: lang.post(name, e), raw_post],
                    [events.__getitem__, lambda i: json.dumps(events[i])])
    print(HEADER)
    print(row("durable.lang.post(ruleset, event)", times[0]))
    print(row("C API assert_event + drain (same ruleset)", times[1]))
    same = fired == raw_fired
    print(f"  rules fired: {len(fired):,} by post(), {len(raw_fired):,} through the C API"
          f" ({'the same rule for every event' if same else 'THEY DIFFER'});"
          f" post() / C API, ratio of p50s: {pct(times[0], 50) / pct(times[1], 50):.1f}x")
    print("  (the public Host also runs two timer threads, re-armed every 0.2 s; each post builds a Closure"
          " and\n  writes the session state back through the network as JSON)")


def slow_section(cases: Sequence[Case], policy: str, ev_full: Evaluator) -> list[float]:
    print(f"\n4. (e) eligibility.evaluate(case, counterfactuals=False, engine='durable') on {len(cases):,}"
          " cases,\n   interleaved with (d) the fast full to_json() on the same cases")

    def durable(case: Case) -> Any:
        return eligibility.evaluate(case, policy, engine="durable", counterfactuals=False)

    durable(cases[0])
    gc.collect()
    times = rotated(range(len(cases)), [durable, lambda c: ev_full.evaluate(c).to_json()],
                    [cases.__getitem__, cases.__getitem__])
    print(HEADER)
    print(row("(e) evaluate(..., engine='durable')", times[0]))
    print(row("(d) ev.evaluate(case).to_json() full", times[1]))
    differ = 0
    for case in cases:
        d = durable(case)
        r = ev_full.evaluate(case)
        if (d.outcome, tuple(d.transfer_to), d.asylum) != (r.outcome, r.transfer_to, r.asylum):
            differ += 1
    print(f"  evaluate durable / fast full, ratio of p50s: {pct(times[0], 50) / pct(times[1], 50):,.0f}x;"
          f" headlines that differ: {differ}")
    return times[0]


def population_section(cases: Sequence[Case], lines: Sequence[bytes], ev: Evaluator, rounds: int,
                       seconds: float) -> dict[str, float]:
    n = len(cases)
    repeat = max(1, int(seconds * 150_000 / max(1, n) / rounds))  # about `seconds` per loop kind

    def headline() -> collections.Counter[str]:
        counts: collections.Counter[str] = collections.Counter()
        evaluate = ev.evaluate
        for _ in range(repeat):
            for case in cases:
                counts[evaluate(case).outcome] += 1
        return counts

    def with_json() -> int:
        size = 0
        evaluate = ev.evaluate
        for _ in range(repeat):
            for case in cases:
                size += len(evaluate(case).to_json())
        return size

    def from_line() -> int:
        size = 0
        evaluate = ev.evaluate
        validate = Case.model_validate_json
        for _ in range(repeat):
            for line in lines:
                size += len(evaluate(validate(line)).to_json())
        return size

    loops: list[tuple[str, Callable[[], Any]]] = [
        ("(f) count outcomes: ev.evaluate(case).outcome", headline),
        ("    ... and .to_json() compact", with_json),
        ("    ... from the JSON line: validate+evaluate+json", from_line),
    ]
    print(f"\n5. (f) Population loops: the same {n:,} cases x {repeat} per round, {rounds} rounds,"
          " loop kinds\n   interleaved round by round; cases/s (median over rounds, min..max)")
    rates: dict[str, list[float]] = {label: [] for label, _ in loops}
    counts: Any = None
    for r in range(rounds):
        gc.collect()
        for label, loop in loops if r % 2 == 0 else loops[::-1]:
            t0 = time.perf_counter()
            out = loop()
            elapsed = time.perf_counter() - t0
            rates[label].append(n * repeat / elapsed)
            if loop is headline:
                counts = out
    medians = {}
    for label, values in rates.items():
        medians[label] = statistics.median(values)
        print(f"  {label:<52} {medians[label]:>12,.0f} cases/s   ({min(values):,.0f} .. {max(values):,.0f})"
              f"   {1e6 / medians[label]:6.2f} us/case")
    total = sum(counts.values())
    print("  outcomes per pass: " + ", ".join(f"{k} {v // repeat:,}" for k, v in sorted(counts.items()))
          + f"  ({total // repeat:,} cases)")
    return medians


# ---------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000, help="synthetic cases (default 5,000)")
    parser.add_argument("--population", choices=("realistic", "rich", "broad"), default="realistic",
                        help="case generator (default realistic; see the module docstring)")
    parser.add_argument("--policy", default="enacted")
    parser.add_argument("--passes", type=int, default=3, help="warm passes (default 3)")
    parser.add_argument("--slow-cases", type=int, default=300,
                        help="cases for evaluate(engine='durable') (default 300; 0 skips it)")
    parser.add_argument("--durable-posts", type=int, default=2000,
                        help="cases for the durable.lang post() section (default 2,000; 0 skips it)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the population loops (default 5)")
    parser.add_argument("--loop-seconds", type=float, default=1.0,
                        help="about how long each population loop kind runs in total (default 1 s)")
    parser.add_argument("--seed", type=int, default=20191121)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    durable = durable_available()
    print("bench_fast: eligibility.fast.Evaluator, per-case latency in process")
    print(f"  cpu_count={os.cpu_count()}  python={platform.python_version()}"
          f" ({platform.python_implementation()})  platform={platform.platform()}")
    print(f"  cases={args.cases:,}  population={args.population}  policy={args.policy}  passes={args.passes}"
          f"  seed={args.seed}  durable-rules available: {durable}")
    print(f"  load average at start: {os.getloadavg()[0]:.2f} (other processes share the cores)")

    raw = []
    for data in make_cases(args.population, args.cases, args.seed):
        try:
            Case.model_validate(data)
        except ValueError:  # the broad generator draws some combinations the case format refuses
            continue
        raw.append(data)
    if len(raw) < args.cases:
        print(f"  {args.cases - len(raw):,} generated cases the case format refuses were left out:"
              f" {len(raw):,} cases")
    lines = [json.dumps(c, separators=(",", ":")).encode() for c in raw]
    cases = [Case.model_validate(c) for c in raw]
    rules = eligibility.load_rules()
    program = compile_policy(rules, args.policy)
    facts = None
    if durable:
        facts = [bench_evaluate.fill_unknowns(program, derive_facts(c, rules.context)[0]) for c in cases]

    t0 = time.perf_counter()
    ev_full = Evaluator(args.policy, detail="full")
    ev_compact = Evaluator(args.policy, detail="compact")
    print(f"  two Evaluators built in {(time.perf_counter() - t0) * 1e3:.1f} ms; sizes: full "
          f"{len(ev_full.evaluate(cases[0]).to_json()):,} B, compact "
          f"{len(ev_compact.evaluate(cases[0]).to_json()):,} B (first case)")

    cold_section(cases, ev_full, ev_compact)
    warm = warm_section(cases, lines, facts, ev_full, ev_compact, args.passes)
    if durable and args.durable_posts:
        public_api_section(cases, min(args.durable_posts, len(cases)), args.seed)
    elif not durable:
        print("\n3./4. durable-rules is not importable here: sections on it are skipped.")
    if durable and args.slow_cases:
        slow_section(cases[: args.slow_cases], args.policy, ev_full)
    population_section(cases, lines, ev_compact, args.rounds, args.loop_seconds)

    compact = pct(warm["(c) ev.evaluate(case).to_json() compact"], 50)
    full = pct(warm["(d) ev.evaluate(case).to_json() full"], 50)
    headline = pct(warm["(b) ev.evaluate(case) headline"], 50)
    compact_bytes = pct(warm["(c') ev.evaluate(case).to_bytes() compact"], 50)
    full_bytes = pct(warm["(d') ev.evaluate(case).to_bytes() full"], 50)
    print(f"\nTarget: in-process evaluation with explanation, p50 <= {TARGET_US:.0f} us (warm):")
    for label, value in (("compact to_json", compact), ("full to_json", full), ("compact to_bytes", compact_bytes),
                         ("full to_bytes", full_bytes), ("headline only", headline)):
        print(f"  {label:<16} p50 {value:6.2f} us  {'met' if value <= TARGET_US else 'NOT met'}")
    print(f"\nTotal bench time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
