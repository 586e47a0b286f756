"""Peers side by side: the U.S.-Guatemala ACA decision in zen-engine, regorus and durable-rules,
timed per case in the same run as the fast path.

The decision: the status of the U.S.-Guatemala Asylum Cooperative Agreement (TIAS 19-1115; 84 FR
63994; INA 208(a)(2)) for one case, one of not_in_force, not_applicable, excepted, applies, and
so whether the person is transferred to Guatemala. It is written three times:

* ours: the rule files, under ``us-gt-aca-only`` (bench/peers/rules/policies.yaml laid over the
  shipped rules: the enacted policy's ``ina-208a2`` and ``us-gt-aca``, without the Title 42 and
  STCA screening before the agreement); the status is the ``us-gt-aca`` instrument's in the
  determination, and the headline transfers to GT exactly when it is ``applies``;
* GoRules' JDM decision table (bench/peers/us_gt_aca.jdm.json) for ``zen-engine``;
* a Rego policy (bench/peers/us_gt_aca.rego) for ``regorus`` (the upstream build published on
  PyPI as ``celine-regorus``; upstream publishes no Python wheel there).

Both peers read the same plain dict as ours (the case format); the encodings were written by hand
from the rule file, not generated from it.

1. Cases: ``--cases`` plain dicts from a seeded ``random.Random`` (entries 2018-2023, half of them
   from 2019-10 to 2021-03, around the agreement's time in force; nationalities
   among GT/HN/SV/MX/NI and others, dual nationals and stateless persons, with and without
   documents, unaccompanied children, fear of Guatemala and public interest).
2. Agreement, on every case: ours (the status in the determination, and the headline), each peer's
   answer and durable-rules' (the rules it fires, folded into a status) must be the same; a
   difference is printed and the run exits 1 before any timing.
3. Timing, warm: every measure once on every case as a warm-up, then ``--repeats`` rounds, each
   running every measure on every case with the order of the measures rotated case by case; a
   case's time is the median of its rounds; the table shows the median (p50), p90 and mean over
   cases, in microseconds, and each measure's ratio to ours explained (> 1: ours is faster).
   Peers give bare answers (the status and whether to transfer); ours is timed bare (the headline)
   and explained (the compact determination line, every reason and citation, ``to_json()``).
   For context: ours validating the dict first (``Case.model_validate``), and ours explained under
   the whole enacted policy (17 instruments, with the screening).
4. ``eligibility.evaluate(..., engine="durable", counterfactuals=False)`` on ``--durable-cases``.

A peer that is not installed is named and skipped (``pip install '.[bench]'``). Prints figures
only; nothing asserts on a timing. Run from the repository root:

    python bench/bench_peers.py [--cases 2000] [--repeats 5] [--durable-cases 200] [--seed N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
POLICY = "us-gt-aca-only"
INSTRUMENT = "us-gt-aca"
STATUSES = ("not_in_force", "not_applicable", "excepted", "applies")

# ------------------------------------------------------------------------------------- cases

NATIONALITIES = [  # (nationalities, weight): the northern triangle and Mexico most, then others
    (["GT"], 14), (["HN"], 22), (["SV"], 16), (["MX"], 10), (["NI"], 8), (["VE"], 5), (["CU"], 5),
    (["EC"], 3), (["CO"], 3), (["HT"], 3), (["IN"], 2), (["CN"], 1), (["BR"], 1),
    (["MX", "GT"], 2), (["HN", "SV"], 1), (["GT", "US"], 1), ([], 3),
]
DOCUMENTS = [(None, 50), ("none", 20), ("us_visa", 7), ("us_transit_visa", 6),
             ("us_admission_document", 5), ("visa_waiver", 5), ("parole_travel_authorization", 7)]
FEAR = [(None, 50), ([], 20), (["GT"], 12), (["MX"], 10), (["GT", "MX"], 8)]
BORDERS = [("southern_land", 80), ("air", 10), ("sea", 3), ("northern_land", 4), ("southern_coastal", 3)]
FIRST, LAST = dt.date(2018, 1, 1), dt.date(2023, 12, 31)
# Half the entries fall around the agreement's months in force (2019-11-15 to 2021-02-06), so
# that every status is common; the other half anywhere in 2018-2023.
NEAR_FIRST, NEAR_LAST = dt.date(2019, 10, 1), dt.date(2021, 3, 31)


def _pick(rng: random.Random, table: Sequence[tuple[Any, int]]) -> Any:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights)[0]


def make_case(rng: random.Random, number: int) -> dict[str, Any]:
    """One plain case dict (the case format). Every fact the ACA turns on is given or has a
    documented default, so every answer is determined."""
    first, last = (NEAR_FIRST, NEAR_LAST) if rng.random() < 0.5 else (FIRST, LAST)
    entry = first + dt.timedelta(days=rng.randrange((last - first).days + 1))
    nationalities = list(_pick(rng, NATIONALITIES))
    border = _pick(rng, BORDERS)
    case: dict[str, Any] = {"id": f"peer-{number:05d}", "nationalities": nationalities,
                            "entry": {"date": entry.isoformat(), "border": border}}
    if border.endswith("_land") and rng.random() < 0.7:
        case["entry"]["place"] = rng.choice(["port_of_entry", "between_ports"])
    if not nationalities or rng.random() < 0.2:  # stateless: always where they lived
        case["habitual_residence"] = rng.choice(["GT", "GT", "MX", "HN", "SV"]) if not nationalities \
            else nationalities[0]
    if rng.random() < 0.6:
        case["decision_date"] = (entry + dt.timedelta(days=rng.randrange(0, 541))).isoformat()
    if rng.random() < 0.25:  # a child, accompanied or not
        case["age"] = rng.randrange(0, 18)
        case["unaccompanied"] = rng.random() < 0.5
    else:
        case["age"] = rng.randrange(18, 70)
        if rng.random() < 0.5:
            case["unaccompanied"] = rng.random() < 0.3
    documents = _pick(rng, DOCUMENTS)
    if documents is not None:
        case["documents"] = documents
    fear = _pick(rng, FEAR)
    if fear is not None:
        case["fear_established_in"] = list(fear)
    if rng.random() < 0.3:
        case["public_interest"] = rng.random() < 0.3
    return case


def make_cases(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [make_case(rng, number) for number in range(count)]


# --------------------------------------------------------------------------------- the peers


class Zen:
    """GoRules' zen-engine: the JDM decision graph, one evaluation per case.

    ``answer`` goes through ``ZenEngine.evaluate(key, case)`` with the graph in a static loader,
    the quickest call measured here; ``ZenDecision.evaluate(case)`` (``create_decision``) gives the
    same answers about ten times slower, and is timed too for reference (``answer_decision``)."""

    name = "zen-engine"
    KEY = "us-gt-aca"

    def __init__(self) -> None:
        import zen

        graph = json.loads((PEERS / "us_gt_aca.jdm.json").read_text())
        self.engine = zen.ZenEngine({"loader": {"type": "static", "content": {self.KEY: graph}}})
        self.decision = zen.ZenEngine().create_decision(json.dumps(graph))

    def answer(self, case: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.engine.evaluate(self.KEY, case)["result"]
        return result

    def answer_decision(self, case: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.decision.evaluate(case)["result"]
        return result

    def status(self, case: dict[str, Any]) -> str:
        answer = self.answer(case)
        if answer != self.answer_decision(case):
            raise AssertionError(f"zen-engine: the two calls disagree: {answer}, {self.answer_decision(case)}")
        if answer["transfer_to_gt"] != (answer["status"] == "applies"):
            raise AssertionError(f"zen-engine: transfer_to_gt and status disagree: {answer}")
        return str(answer["status"])


class Rego:
    """regorus: the Rego policy, the input set and the status rule evaluated per case.

    The input is given as JSON text: regorus 0.9's ``set_input`` turns a Python ``True`` into ``1``
    (``bool`` is a subclass of ``int``), so ``input.unaccompanied == true`` would never hold. The
    benchmark encodes each case beforehand, outside the timed call (``answer`` takes the text)."""

    name = "regorus"

    def __init__(self) -> None:
        import regorus

        self.engine = regorus.Engine()
        self.engine.add_policy_from_file(str(PEERS / "us_gt_aca.rego"))

    def answer(self, text: str) -> Any:
        self.engine.set_input_json(text)
        return self.engine.eval_rule("data.aca.us_gt.status")

    def status(self, case: dict[str, Any]) -> str:
        status = self.answer(json.dumps(case))
        if self.engine.eval_rule("data.aca.us_gt.transfer_to_gt") != (status == "applies"):
            raise AssertionError(f"regorus: transfer_to_gt and status disagree for {case}")
        return str(status)


def load_peers(report: Callable[[str], None] = print) -> list[Any]:
    """The peers that can be imported here (each one missing is reported and left out)."""
    found = []
    for peer, module, package in ((Zen, "zen", "zen-engine"), (Rego, "regorus", "celine-regorus")):
        try:
            __import__(module)
        except ImportError:
            report(f"  {peer.name}: not installed (pip install '.[bench]', or {package}): skipped")
            continue
        found.append(peer())
    return found


# ---------------------------------------------------------------------------------------- ours


def our_rules() -> Any:
    from eligibility.ruleset.load import load_rules

    return load_rules(PEERS / "rules", extend=True)


def our_status(result: Any) -> str:
    """The ACA's status in our determination (the explained line), checked against the headline."""
    line = json.loads(result.to_json())
    status = next(i["status"] for i in line["instruments"] if i["id"] == INSTRUMENT)
    transfers = line["outcome"] == "transfer" and "GT" in line["transfer_to"]
    if transfers != (status == "applies") or (result.outcome == "transfer") != transfers:
        raise AssertionError(f"ours: headline and status disagree for {line['id']}: {status}, {line['outcome']}")
    return str(status)


class Durable:
    """durable-rules through the project's C API wrapper: the rules fired, folded into a status."""

    name = "durable-rules"

    def __init__(self, program: Any) -> None:
        from eligibility.engine.decide import possible_statuses
        from eligibility.engine.durable import DurableEngine

        self.program = program
        self.engine = DurableEngine(program)
        self.keys = [b.key for b in program.rules]
        self._statuses = possible_statuses

    def facts(self, case: Any) -> dict[str, Any]:
        import bench_evaluate  # a sibling script: unknown facts filled the way settle does

        from eligibility.ruleset.facts import derive_facts

        return bench_evaluate.fill_unknowns(self.program, derive_facts(case, self.program.ruleset.context)[0])

    def answer(self, facts: dict[str, Any]) -> str:
        fired = self.engine.fired(facts)
        (status,) = self._statuses(self.program, INSTRUMENT, {k: k in fired for k in self.keys})
        return "not_applicable" if status == "excluded" else str(status)


# ---------------------------------------------------------------------------------- agreement


def check_agreement(raw: Sequence[dict[str, Any]], cases: Sequence[Any], ev: Any, peers: Sequence[Any],
                    durable: Durable | None, facts: Sequence[dict[str, Any]] | None) -> int:
    """Every answer against ours, case by case; returns the number of cases that differ."""
    counts: Counter[str] = Counter()
    differ = 0
    for i, (plain, case) in enumerate(zip(raw, cases, strict=True)):
        ours = our_status(ev.evaluate(case))
        counts[ours] += 1
        answers = {peer.name: peer.status(plain) for peer in peers}
        if durable is not None and facts is not None:
            answers[durable.name] = durable.answer(facts[i])
        wrong = {name: got for name, got in answers.items() if got != ours}
        if wrong:
            differ += 1
            if differ <= 5:
                print(f"  DIFFERENT on {plain['id']}: ours {ours}, {wrong}; case {json.dumps(plain)}")
    names = ", ".join([p.name for p in peers] + ([durable.name] if durable else [])) or "no peer"
    shown = ", ".join(f"{s} {counts[s]:,}" for s in STATUSES)
    print(f"  {len(cases):,} cases, ours: {shown}")
    print(f"  {names}: {'the same status on every case' if not differ else f'{differ:,} cases DIFFER'}")
    return differ


# ------------------------------------------------------------------------------------- timing


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def timed(n: int, measures: Sequence[tuple[str, Callable[[Any], Any], Callable[[int], Any]]],
          repeats: int) -> dict[str, list[float]]:
    """Per case, the median over ``repeats`` rounds (after one warm-up round) of each measure, in
    microseconds; within a round, the order of the measures is rotated case by case."""
    clock = time.perf_counter_ns
    k = len(measures)
    rounds: list[list[list[float]]] = [[[] for _ in range(n)] for _ in range(k)]
    for r in range(repeats + 1):
        gc.collect()
        for i in range(n):
            for j in range(k):
                m = (i + j + r) % k
                _, call, arg_of = measures[m]
                arg = arg_of(i)
                t0 = clock()
                call(arg)
                t1 = clock()
                if r:
                    rounds[m][i].append((t1 - t0) / 1000)
    return {label: [statistics.median(ts) for ts in rounds[m]] for m, (label, _, _) in enumerate(measures)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="generated cases (default 2,000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds after the warm-up (default 5)")
    parser.add_argument("--durable-cases", type=int, default=200,
                        help="cases for eligibility.evaluate(engine='durable') (default 200; 0 skips it)")
    parser.add_argument("--seed", type=int, default=20191115)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))  # bench_evaluate, a sibling script, when run from elsewhere

    import eligibility
    from eligibility.case import Case
    from eligibility.engine.backends import durable_available
    from eligibility.fast import Evaluator

    started = time.perf_counter()
    print("bench_peers: the U.S.-Guatemala ACA decision, ours against zen-engine, regorus and durable-rules")
    print(f"  cpu_count={os.cpu_count()}  python={platform.python_version()}  platform={platform.platform()}")
    print(f"  cases={args.cases:,}  repeats={args.repeats}  seed={args.seed}"
          f"  load average at start: {os.getloadavg()[0]:.2f} (other processes share the cores)")
    peers = load_peers()
    rules = our_rules()
    raw = make_cases(args.cases, args.seed)
    cases = [Case.model_validate(c) for c in raw]
    ev = Evaluator(POLICY, rules=rules, detail="compact")
    ev_enacted = Evaluator("enacted", rules=rules, detail="compact")
    durable = facts = None
    if durable_available():
        durable = Durable(ev.program)
        facts = [durable.facts(c) for c in cases]
    else:
        print("  durable-rules: not importable here (Python 3.13+?): skipped")
    for peer in peers:
        version = _version(peer.name if peer.name != "regorus" else "celine-regorus")
        print(f"  {peer.name} {version}")

    print("\n1. Agreement: the ACA's status, ours (determination and headline) against every peer")
    t0 = time.perf_counter()
    if check_agreement(raw, cases, ev, peers, durable, facts):
        print("  the encodings disagree: no timing")
        return 1
    for c in cases:  # fill our enacted Evaluator's caches too: the timed passes are warm
        ev_enacted.evaluate(c)
    print(f"  (checked, and our caches filled, in {time.perf_counter() - t0:.1f} s)")

    index: Callable[[int], Any] = cases.__getitem__
    plain: Callable[[int], Any] = raw.__getitem__
    measures: list[tuple[str, Callable[[Any], Any], Callable[[int], Any]]] = [
        ("ours: headline", ev.evaluate, index),
        ("ours: explained (compact line)", lambda c: ev.evaluate(c).to_json(), index),
        ("ours: validate dict + explained", lambda d: ev.evaluate(Case.model_validate(d)).to_json(), plain),
        ("ours: explained, whole enacted policy", lambda c: ev_enacted.evaluate(c).to_json(), index),
    ]
    texts = [json.dumps(c) for c in raw]  # regorus reads JSON text, encoded here, untimed
    for peer in peers:
        measures.append((f"{peer.name}: bare answer", peer.answer,
                         texts.__getitem__ if isinstance(peer, Rego) else plain))
        if isinstance(peer, Zen):
            measures.append(("zen-engine: bare, ZenDecision.evaluate", peer.answer_decision, plain))
    if durable is not None and facts is not None:
        measures.append(("durable-rules: fired + status (facts given)", durable.answer, facts.__getitem__))
    measures.append(("empty call (timer floor)", lambda _: None, index))

    print(f"\n2. Warm, per case: median of {args.repeats} rounds after a warm-up round, measures rotated"
          " case by case; microseconds")
    times = timed(len(cases), measures, args.repeats)
    explained = times["ours: explained (compact line)"]
    base = pct(explained, 50)
    print(f"  {'measure':<44} {'p50 us':>8} {'p90 us':>8} {'mean us':>8}   {'p50 / ours explained':>20}")
    for label, ts in times.items():
        print(f"  {label:<44} {pct(ts, 50):>8.2f} {pct(ts, 90):>8.2f} {statistics.fmean(ts):>8.2f}"
              f"   {pct(ts, 50) / base:>19.2f}x")
    print("\n  peer / ours explained (> 1: ours explained is faster than the peer's bare answer):")
    for label, ts in times.items():
        if label.startswith("ours") or label.startswith("empty"):
            continue
        paired = [p / o for p, o in zip(ts, explained, strict=True) if o > 0]
        print(f"  {label:<44} ratio of p50s {pct(ts, 50) / base:6.2f}x   of means "
              f"{statistics.fmean(ts) / statistics.fmean(explained):6.2f}x   per case p10/p50/p90 "
              f"{pct(paired, 10):5.2f} / {pct(paired, 50):5.2f} / {pct(paired, 90):5.2f}")
        if pct(ts, 50) <= base:
            print(f"    NOTE: {label} is not slower than ours explained at the median")

    if durable is not None and args.durable_cases:
        subset = list(zip(raw, cases, strict=True))[: args.durable_cases]
        print(f"\n3. eligibility.evaluate(case, '{POLICY}', engine='durable', counterfactuals=False),"
              f" the public API's explained answer through durable-rules, on {len(subset):,} cases")

        def public(c: Any) -> Any:
            return eligibility.evaluate(c, POLICY, rules=rules, engine="durable", counterfactuals=False)

        differ = sum(
            next(i.status for i in public(c).instruments if i.id == INSTRUMENT) != our_status(ev.evaluate(c))
            for _, c in subset)
        slow = timed(len(subset), [("durable", public, [c for _, c in subset].__getitem__)], 1)["durable"]
        print(f"  p50 {pct(slow, 50):,.0f} us, p90 {pct(slow, 90):,.0f} us; / ours explained:"
              f" {pct(slow, 50) / base:,.0f}x; statuses that differ from ours: {differ}")

    print(f"\nTotal bench time: {time.perf_counter() - started:.1f} s")
    return 0


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "(version unknown)"


if __name__ == "__main__":
    sys.exit(main())
