"""The fast path settles a class whose tested facts are all known without the search
(``fast._settle_known``): the same settlement as ``settle`` gives, field by field."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from eligibility import load_rules
from eligibility.analysis.settle import Settlement, settle
from eligibility.case import parse_case
from eligibility.engine.backends import engine_for
from eligibility.engine.program import compile_policy
from eligibility.fast import _settle_known
from eligibility.ruleset.conditions import compile_truths
from eligibility.ruleset.facts import UNKNOWN, derive_facts
from tests.strategies import POLICIES, TITLE_42_POLICIES, cases, title42_cases
from tests.test_golden import _cases

RULES = load_rules()


def _fields(s: Settlement) -> dict[str, Any]:
    return {
        "regions": [
            (dict(r.facts), dict(r.truth), dict(r.statuses), r.decision, dict(r.concrete), dict(r.fired))
            for r in s.regions
        ],
        "split_on": s.split_on,
        "decisive": s.decisive,
        "values": s.values,
        "exact": s.exact,
        "root_truth": dict(s.root_truth),
        "root_statuses": dict(s.root_statuses),
    }


def _check(case: Any, policy: str) -> bool:
    """Compare on ``case`` when the rules' facts are all known; whether they were."""
    program = compile_policy(RULES, policy)
    facts, _ = derive_facts(parse_case(case), RULES.context)
    if any(facts[name] is UNKNOWN for name in program.facts_used) or facts["entry.date"] is UNKNOWN:
        return False
    truths = compile_truths([b.when for b in program.rules])(facts)
    expected = settle(program, facts, engine_for(program, "pure"), truths=truths)
    assert _fields(_settle_known(program, facts, truths)) == _fields(expected), case
    return True


def test_golden_cases_settle_alike() -> None:
    compared = sum(_check(p.values[0]["case"], p.values[0]["policy"]) for p in _cases())
    assert compared >= 3  # the golden cases that give every fact the rules test


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POLICIES, cases(unknowns=False))
def test_generated_cases_settle_alike(policy: str, case: dict[str, Any]) -> None:
    _check(case, policy)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TITLE_42_POLICIES, title42_cases(unknowns=False))
def test_expelled_cases_settle_alike(policy: str, case: dict[str, Any]) -> None:
    _check(case, policy)
