"""durable-rules and the pure evaluator agree: same fired rules, same determinations."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility import evaluate, load_rules
from eligibility.ruleset.conditions import holds, negate, push_negations
from eligibility.engine.backends import engine_for
from eligibility.analysis.partition import representatives
from eligibility.engine.program import Program, compile_policy
from tests.strategies import POLICIES, cases
from tests.test_golden import _cases

pytest.importorskip("durable_rules_engine")

POLICY_NAMES = ["enacted", "implemented", "draft-2019-07"]


def _program(policy: str) -> Program:
    return compile_policy(load_rules(), policy)


def _random_facts(program: Program, rng: random.Random) -> dict[str, Any]:
    import datetime as dt

    entry = dt.date(2004, 1, 1) + dt.timedelta(days=rng.randrange(7300))
    facts: dict[str, Any] = {}
    for name in sorted(program.facts_used):
        if name == "entry.date":
            facts[name] = rng.choice(representatives(program, name, dt.date(2003, 1, 1)))
            continue
        options = representatives(program, name, entry)
        facts[name] = rng.choice(options)
    return facts


@pytest.mark.parametrize("policy", POLICY_NAMES)
@pytest.mark.parametrize("total", [3000, pytest.param(20000, marks=pytest.mark.exhaustive)])
def test_engines_fire_the_same_rules_on_seeded_cases(policy: str, total: int) -> None:
    """3,000 seeded cases in the default run, 20,000 in the exhaustive step."""
    program = _program(policy)
    durable, pure = engine_for(program, "durable"), engine_for(program, "pure")
    rng = random.Random(20191121)
    fired_somewhere: set[str] = set()
    for _ in range(total // len(POLICY_NAMES)):
        facts = _random_facts(program, rng)
        expected = pure.fired(facts)
        assert durable.fired(facts) == expected, facts
        fired_somewhere |= expected
    assert len(fired_somewhere) > len(program.rules) * 0.8  # the sample reaches most rules


@settings(max_examples=300, deadline=None)
@given(POLICIES, st.randoms(use_true_random=False))
def test_engines_fire_the_same_rules_on_generated_facts(policy: str, rng: random.Random) -> None:
    program = _program(policy)
    facts = _random_facts(program, rng)
    assert engine_for(program, "durable").fired(facts) == engine_for(program, "pure").fired(facts)


@settings(max_examples=40, deadline=None)
@given(cases(), POLICIES)
def test_engines_give_the_same_determination(case: dict[str, Any], policy: str) -> None:
    by_durable = evaluate(case, policy, engine="durable", counterfactuals=False)
    by_pure = evaluate(case, policy, engine="pure", counterfactuals=False)
    assert by_durable.engine == "durable-rules" and by_pure.engine == "pure"
    assert by_durable.model_dump(exclude={"engine"}) == by_pure.model_dump(exclude={"engine"})


@pytest.mark.parametrize("golden", _cases())
def test_engines_agree_on_golden_cases(golden: dict[str, Any]) -> None:
    by_durable = evaluate(golden["case"], golden["policy"], engine="durable", counterfactuals=False)
    by_pure = evaluate(golden["case"], golden["policy"], engine="pure", counterfactuals=False)
    assert by_durable.model_dump(exclude={"engine"}) == by_pure.model_dump(exclude={"engine"})


@settings(max_examples=300, deadline=None)
@given(POLICIES, st.randoms(use_true_random=False))
def test_pushing_negations_down_keeps_the_meaning(policy: str, rng: random.Random) -> None:
    """durable-rules has no negation: the De Morgan rewrite must be exact on known facts."""
    program = _program(policy)
    facts = _random_facts(program, rng)
    for bound in program.rules:
        assert holds(push_negations(bound.when), facts) == holds(bound.when, facts)
        assert holds(negate(bound.when), facts) == (not holds(bound.when, facts))
