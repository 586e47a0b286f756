"""The fast path gives the same determinations as durable-rules (differential tests).

The fast path evaluates each class of cases once and fills in each case's own values (id, dates,
ages, the facts quoted in reasons). These tests run cases through one shared evaluator per policy,
so that later cases reuse classes evaluated for earlier ones, and compare every JSON line with
``evaluate(..., engine="durable")``: equal except ``engine`` and the counterfactuals, which the
fast path does not compute.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import evaluate, load_rules
from eligibility.case import parse_case
from eligibility.ruleset.facts import derive_facts, derive_facts_by_catalogue
from eligibility.fast import Evaluator
from tests.strategies import POLICIES, cases
from tests.test_golden import _cases

ENGINE = "durable"  # the engine of record; where it is not installed, evaluate falls back to pure
EVALUATORS: dict[tuple[str, str], Evaluator] = {}
SEEN = {"cases": 0}


def _evaluator(policy: str, detail: str = "full") -> Evaluator:
    key = (policy, detail)
    if key not in EVALUATORS:
        EVALUATORS[key] = Evaluator(policy, detail="full" if detail == "full" else "compact")
    return EVALUATORS[key]


def _slow(case: Any, policy: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(evaluate(case, policy, engine=ENGINE, counterfactuals=False).to_json())
    data.pop("engine")
    return data


def _fast(case: Any, policy: str, detail: str = "full") -> dict[str, Any]:
    line = _evaluator(policy, detail).to_json(parse_case(case))
    data: dict[str, Any] = json.loads(line)
    assert data.pop("engine") == "fast"
    SEEN["cases"] += 1
    return data


def _same(case: Any, policy: str) -> None:
    assert _fast(case, policy) == _slow(case, policy), case


@pytest.mark.parametrize("golden", _cases())
def test_golden_cases_match_durable(golden: dict[str, Any]) -> None:
    _same(golden["case"], golden["policy"])


def _siblings(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Cases that differ only in values a reason shows: mostly of the same class, sometimes not."""
    out = []
    for days in (1, -1, 17):
        moved = json.loads(json.dumps(case))
        entry = dt.date.fromisoformat(moved["entry"]["date"]) + dt.timedelta(days=days)
        if entry < dt.date(2003, 1, 1):
            continue
        moved["entry"]["date"] = entry.isoformat()
        for name in ("decision_date", "claim_date"):
            if isinstance(moved.get(name), str) and moved[name] < entry.isoformat():
                moved[name] = entry.isoformat()
        moved["id"] = f"sibling {days:+d}"
        out.append(moved)
    if isinstance(case.get("age"), int):
        older = dict(case, age=min(case["age"] + 1, 130), id="older")
        out.append(older)
    if case.get("nationalities"):
        other = dict(case, nationalities=[{"FJ": "TO"}.get(c, "FJ") for c in case["nationalities"]])
        out.append(dict(other, nationalities=list(dict.fromkeys(other["nationalities"]))))
    return out


@pytest.mark.exhaustive  # a minute of durable-rules runs on cases with many unknown facts: CI's own step
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POLICIES, st.data())
def test_generated_cases_and_their_siblings_match_durable(policy: str, data: st.DataObject) -> None:
    """Full lines equal durable-rules' determinations; compact lines equal them without the
    findings. Compact templates are shared more widely than full ones (an instrument not in force
    keys only on whether putting it in force would change the headline): siblings that move an
    instrument in or out of force must still get their own evidence, caveats and reasons."""
    case = data.draw(cases(policy=policy, unknowns=data.draw(st.booleans())))
    for one in [case, *_siblings(case)]:
        slow = _slow(one, policy)
        assert _fast(one, policy) == slow, one
        assert _fast(one, policy, "compact") == _without_findings(slow), one


def _without_findings(data: dict[str, Any]) -> dict[str, Any]:
    for inst in data["instruments"]:
        del inst["findings"]
    del data["would_change_if"]
    return data


HEADLINE_ONLY: dict[str, Evaluator] = {}


@pytest.mark.exhaustive  # as above
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POLICIES, st.data())
def test_the_headline_only_path_matches_durable(policy: str, data: st.DataObject) -> None:
    """``Evaluator.headline`` (used to count populations) settles without explaining."""
    case = data.draw(cases(policy=policy, unknowns=data.draw(st.booleans())))
    ev = HEADLINE_ONLY.setdefault(policy, Evaluator(policy))
    for one in [case, *_siblings(case)]:
        slow = _slow(one, policy)
        got = ev.headline(parse_case(one))
        expected = (slow["outcome"], tuple(slow["transfer_to"]), slow["asylum"], slow["wait_in_mexico"])
        assert got == (*expected, tuple(slow["expel_to"])), one


def test_classes_are_reused() -> None:
    """The tests above exercise reuse: far fewer full evaluations than cases."""
    ev = Evaluator("enacted")
    base = {
        "nationalities": ["HN"],
        "age": 30,
        "entry": {"border": "southern_land", "place": "between_ports"},
    }
    days = [dt.date(2019, 12, 2) + dt.timedelta(days=n) for n in range(60)]
    for i, day in enumerate(days):
        case = dict(base, id=f"c{i}", entry={**base["entry"], "date": day.isoformat()}, age=20 + i % 40)
        result = ev.evaluate(parse_case(case))
        assert result.outcome == "transfer" and result.transfer_to == ("GT",)  # Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)), scenario 1
    assert ev.evaluations == 1  # one class: in force, adult, between ports, no other facts differ
    assert json.loads(ev.to_json(parse_case(dict(base, entry={**base["entry"], "date": "2020-01-31"}))))[
        "dates"
    ]["entry"] == ("2020-01-31")


@pytest.mark.parametrize("detail", ["compact", "full"])
def test_a_class_learned_from_another_evaluator_gives_the_same_lines(detail: str) -> None:
    """Batch workers share the classes they evaluate in full (sent between processes, so pickled):
    the evaluator that learns one fills in its cases without evaluating it, byte for byte alike."""
    first, second = Evaluator("enacted", detail=detail), Evaluator("enacted", detail=detail)  # type: ignore[arg-type]
    first.sharing = True
    seen = {"nationalities": ["HN"], "age": 30, "id": "a", "entry": {"date": "2019-12-02", "border": "southern_land", "place": "between_ports"}}
    later = {**seen, "id": "b", "age": 41, "entry": {**seen["entry"], "date": "2020-01-15"}}
    first.evaluate(parse_case(seen))
    found = first.discoveries()
    assert len(found) == 1 and first.discoveries() == []  # one class, handed over once
    second.learn(pickle.loads(pickle.dumps(found)))
    line = second.evaluate(parse_case(later)).to_bytes(7)
    assert second.evaluations == 0
    assert line == first.evaluate(parse_case(later)).to_bytes(7)
    assert json.loads(line)["transfer_to"] == ["GT"]  # Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)), scenario 1


def test_compact_detail_drops_only_findings() -> None:
    case = {"nationalities": ["SV"], "age": 25, "entry": {"date": "2020-02-01", "border": "southern_land"}}
    full, compact = _fast(case, "enacted"), _fast(case, "enacted", "compact")
    for inst in full["instruments"]:
        del inst["findings"]
    del full["would_change_if"]
    assert compact == full


@settings(max_examples=300, deadline=None)
@given(cases())
def test_derive_facts_matches_the_catalogue(case: dict[str, Any]) -> None:
    """The one-pass derivation equals each catalogue entry's own derivation."""
    parsed = parse_case(case)
    context = load_rules().context
    assert derive_facts(parsed, context) == derive_facts_by_catalogue(parsed, context)


@pytest.mark.parametrize("policy", ["enacted", "implemented", "draft-2019-07"])
def test_compiled_truths_equal_holds_on_known_facts(policy: str) -> None:
    """The fast path's compiled rules (two-valued, known facts only) against ``holds``."""
    import random

    from eligibility.ruleset.conditions import compile_truths, holds
    from eligibility.analysis.partition import representatives
    from eligibility.engine.program import compile_policy

    program = compile_policy(load_rules(), policy)
    truths = compile_truths([b.when for b in program.rules])
    rng = random.Random(20191121)
    seen: set[tuple[bool, ...]] = set()
    for _ in range(3000):
        entry = dt.date(2003, 1, 1) + dt.timedelta(days=rng.randrange(8000))
        facts = {name: rng.choice(representatives(program, name, entry)) for name in program.facts_used}
        facts["entry.date"] = entry
        got = truths(facts)
        assert got == tuple(holds(b.when, facts) for b in program.rules), facts
        seen.add(got)
    assert len(seen) > 50  # the sample is not one class over and over


def test_a_class_seen_before_the_review_date_does_not_hide_the_caveat_after_it() -> None:
    """Two cases alike in every rule, decided either side of the rules' review date: only the later
    says that the law after that date is not encoded, in the fast path as in durable."""
    ev = Evaluator("enacted")
    case = {"nationalities": ["AR"], "age": 30, "unaccompanied": False, "family_unit": False, "documents": "none",
            "transit": [], "fear_established_in": [], "family_in_us": [], "trafficking_victim": False,
            "public_interest": False, "habitual_residence": "AR",
            "entry": {"date": "2026-11-30", "border": "southern_land", "place": "port_of_entry", "state": "TX",
                      "appointment": False}}
    later = {**case, "entry": {**case["entry"], "date": "2026-12-17"}}
    before, after = (json.loads(ev.to_json(parse_case(c)))["caveats"] for c in (case, later))
    assert not any("not encoded" in c for c in before)
    assert any("the law after 2026-12-01 is not encoded" in c for c in after)
    assert _fast(later, "enacted") == _slow(later, "enacted")


def test_the_fast_path_matches_the_pure_evaluator_on_a_realistic_population() -> None:
    """The first 200 cases of the benchmark's seeded population (nationalities, demographics,
    routes and dates like southwest-border arrivals, 2019-2020): one fast evaluator over all of
    them, in order, as `batch` runs, gives each the pure evaluator's headline, evidence and
    caveats (classes of cases share a template: a class key too coarse would show here)."""
    from tests.test_explain_cache import _population

    fast = Evaluator("enacted", detail="compact")
    for case in _population(200):
        got = json.loads(fast.evaluate(case).to_json())
        want = evaluate(case, engine="pure", counterfactuals=False)
        assert (got["outcome"], got["transfer_to"], got["expel_to"], got["asylum"], got["evidence"], got["caveats"]) == (
            want.outcome, want.transfer_to, want.expel_to, want.asylum, want.evidence, want.caveats
        ), case


def test_a_class_is_not_shared_by_cases_whose_other_destinations_differ() -> None:
    """Title 42's destination rule sends a Mexican national to Mexico (85 FR 17060); without the
    rule, a Mexican-Ecuadorian national would have another country of nationality to go to and a
    Mexican none. So the rule decides the first one's answer and not the second's (``decided_by``,
    as durable-rules gives it). The fast path keyed both by the countries of expulsion alone and
    gave the Mexican the dual national's reasons when the dual national came first (seen in a
    batch of 20,000 generated rows)."""
    def case(nationalities: list[str]) -> Any:
        return parse_case({"nationalities": nationalities, "age": 46, "unaccompanied": False, "family_unit": False,
                           "documents": "none", "decision_date": "2020-11-07", "transit": [],
                           "entry": {"date": "2020-10-25", "border": "southern_land", "place": "between_ports", "state": "NM"}})

    for detail in ("compact", "full"):
        ev = Evaluator("enacted", detail=detail)
        for nationalities in (["MX", "EC"], ["MX"], ["MX", "EC"]):
            got = json.loads(ev.evaluate(case(nationalities)).to_json())["decided_by"]
            expected = evaluate(case(nationalities), "enacted", engine="durable", counterfactuals=False).decided_by
            assert got == expected, (detail, nationalities)
