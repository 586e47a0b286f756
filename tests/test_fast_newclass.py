"""The compact assembler of a new class (``Evaluator._assemble``) gives the lines ``build`` gives.

A class seen for the first time whose facts are all known is put together from parts memoized by
what each reads (each instrument's explanation, the screening's decision, the deciding rules, the
explanation lines), not built by ``build``. Each test runs the same cases, in the same order,
through an evaluator that assembles and one that does not (``assembling = False``: every new
class is settled and built, the path ``tests/test_fast.py`` compares with durable-rules), and
requires every line to be byte for byte the same; and a sample against ``evaluate`` itself.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import evaluate
from eligibility.case import Case, parse_case
from eligibility.errors import CaseError
from eligibility.fast import Evaluator
from tests.strategies import POLICIES, cases
from tests.test_explain_cache import _population

ASSEMBLING: dict[tuple[str, str], tuple[Evaluator, Evaluator]] = {}
COUNTS: dict[str, tuple[int, int]] = {}  # policy -> new classes, assembled (seen when run alone)


def _pair(policy: str, lang: str = "en") -> tuple[Evaluator, Evaluator]:
    """A shared evaluator that assembles new classes and one that builds them (per policy and
    language: later cases meet the memos filled by earlier ones)."""
    if (policy, lang) not in ASSEMBLING:
        built = Evaluator(policy, detail="compact", lang=lang)
        built.assembling = False
        ASSEMBLING[(policy, lang)] = (Evaluator(policy, detail="compact", lang=lang), built)
    return ASSEMBLING[(policy, lang)]


def _same_lines(evaluators: tuple[Evaluator, Evaluator], population: list[Case]) -> None:
    assembling, built = evaluators
    for case in population:
        assert assembling.evaluate(case).to_bytes(3) == built.evaluate(case).to_bytes(3), case


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_realistic_population_assembled_equals_it_built(lang: str) -> None:
    """The benchmark's realistic population: nearly every new class is assembled, none differs."""
    evaluators = _pair("enacted", lang)
    _same_lines(evaluators, _population(400))
    assert evaluators[0].assembled >= 0.9 * evaluators[0].evaluations > 50
    assert evaluators[1].assembled == 0


def test_assembled_lines_equal_the_reference_evaluation() -> None:
    """Compact lines of assembled classes are ``evaluate``'s determinations less the findings."""
    ev = Evaluator("enacted", detail="compact")
    for case in _population(120):
        before = ev.assembled
        got = json.loads(ev.evaluate(case).to_json())
        if ev.assembled == before:
            continue
        want = json.loads(evaluate(case, "enacted", engine="pure", counterfactuals=False).to_json())
        for inst in want["instruments"]:
            del inst["findings"]
        del want["would_change_if"]
        assert got.pop("engine") == "fast" and want.pop("engine") == "pure"
        assert got == want, case.id
    assert ev.assembled > 30


def _varied(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The case, and the same case with one fact moved: new classes near ones just seen (parts of
    their determinations are then taken from the memos, others made anew)."""
    out = [case]
    entry = dict(case["entry"])
    for border in ("southern_land", "northern_land", "air"):
        if entry.get("border") != border:
            moved = {k: v for k, v in entry.items() if k not in ("state", "place")}
            out.append(dict(case, entry={**moved, "border": border}))
    out.append(dict(case, decision_date="2027-01-15"))  # after the review date: its caveat
    out.append(dict(case, fear_established_in=["MX", "GT", "HN", "SV", "VE", "CU", "HT", "NI", "EC"]))
    out.append(dict(case, nationalities=["MX", "EC"]))
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POLICIES, st.data())
def test_generated_cases_assembled_equal_them_built(policy: str, data: st.DataObject) -> None:
    """Generated cases of every policy with their facts known (others are not assembled), and
    variations of each."""
    case = data.draw(cases(policy=policy, unknowns=False))
    population = []
    for one in _varied(case):
        try:
            population.append(parse_case(one))
        except CaseError:  # a variation the case format refuses (a state not on that border...)
            continue
    evaluators = _pair(policy)
    _same_lines(evaluators, population)
    COUNTS[policy] = (evaluators[0].evaluations, evaluators[0].assembled)



def test_the_assemblers_memos_stay_within_their_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """With tiny bounds, every memo of the assembler stays within its own, and entries dropped
    (a decision gone while its instruments' parts stay...) change no line."""
    from eligibility import fast

    monkeypatch.setattr(fast, "CLASSES", 8)
    monkeypatch.setattr(fast, "CASE_KEYS", 40)
    assembling = Evaluator("enacted", detail="compact")
    built = Evaluator("enacted", detail="compact")
    built.assembling = False
    _same_lines((assembling, built), _population(200))
    assert assembling.assembled > 50
    for name, bound in {
        "_possible": 40,
        "_decisions": 8,
        "_explained": 8,
        "_deciding": 8,
        "_explanations": 8,
        "_contributions": 40,
        "_flipped": 40,
        "_mask_statuses": 40,
        "_moved": 40,
        "_screened": 40,
        "_openings": 40,
        "_assumed": 40,
    }.items():
        assert len(getattr(assembling, name)) <= bound, name
