"""The memos of a full evaluation give exactly what evaluating afresh gives.

``eligibility.engine.decide.screened`` reuses the screening's headline for alike statuses, and
``eligibility.explain.build`` reuses an instrument's explained result for alike inputs (its
status, the truths of its rules, the facts they test, what it reads of the regions). Here the same
cases are evaluated with the memos (warm: shared by every example of the session) and inside
``unmemoized()``, where every headline and explanation is made afresh, and the determinations
(explanation, counterfactuals, findings) must be equal; and through the fast path, whose templates
are built on the same memos.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import evaluate
from eligibility.case import parse_case
from eligibility.engine.decide import decide, screened, unmemoized
from eligibility.engine.program import compile_policy
from eligibility.fast import Evaluator
from eligibility.ruleset.facts import UNKNOWN, derive_facts
from eligibility.ruleset.load import default_rules
from tests.strategies import POLICIES, cases, title42_cases

EVALUATORS: dict[tuple[str, str, str], Evaluator] = {}


def _evaluator(policy: str, detail: str, lang: str) -> Evaluator:
    key = (policy, detail, lang)
    if key not in EVALUATORS:
        EVALUATORS[key] = Evaluator(policy, detail="full" if detail == "full" else "compact", lang=lang)
    return EVALUATORS[key]


ANY_CASE = st.one_of(cases(), title42_cases())
LANGS = st.sampled_from(["en", "en", "es"])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POLICIES, ANY_CASE, LANGS)
def test_memoized_evaluation_equals_a_fresh_one(policy: str, case: dict[str, Any], lang: str) -> None:
    memoized = evaluate(case, policy, engine="pure", lang=lang)
    with unmemoized():
        fresh = evaluate(case, policy, engine="pure", lang=lang)
    assert memoized == fresh, case


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(POLICIES, ANY_CASE, LANGS, st.sampled_from(["full", "compact"]))
def test_fast_templates_on_memos_equal_fresh_ones(
    policy: str, case: dict[str, Any], lang: str, detail: str
) -> None:
    parsed = parse_case(case)
    line = _evaluator(policy, detail, lang).to_json(parsed)  # the shared evaluator: classes and memos warm
    with unmemoized():
        fresh = Evaluator(policy, detail="full" if detail == "full" else "compact", lang=lang).to_json(parsed)
    assert line == fresh, case


@settings(max_examples=30, deadline=None)
@given(POLICIES, ANY_CASE, st.data())
def test_screened_headline_equals_decide(policy: str, case: dict[str, Any], data: st.DataObject) -> None:
    rules = default_rules()
    program = compile_policy(rules, policy)
    facts, _ = derive_facts(parse_case(case), rules.context)
    concrete = {name: None if value is UNKNOWN else value for name, value in facts.items()}
    truth = {b.key: data.draw(st.booleans()) for b in program.rules}
    statuses = {
        i.id: data.draw(
            st.sampled_from(["applies", "excepted", "not_applicable", "not_in_force", "excluded"])
        )
        for i in program.instruments
    }
    assert screened(program, statuses, truth, concrete) == decide(program, statuses, truth, concrete).headline


def _population(count: int) -> list[Any]:
    """The first cases of the benchmark's seeded realistic population (``bench/bench_batch.py``)."""
    import importlib.util
    import random
    import sys
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "bench_batch", Path(__file__).resolve().parent.parent / "bench" / "bench_batch.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_batch", bench)  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    rng = random.Random(20191121)
    return [parse_case(bench.make_case(rng, number)) for number in range(1, count + 1)]


def test_a_population_through_the_memos_equals_it_without_them() -> None:
    """Many classes of one policy: instruments with the same status but other truths, facts or
    regions meet in the memos here (the fast path shows facts as placeholders, so only the truths
    tell apart what its reasons say); every line must be what a fresh explanation gives."""
    population = _population(120)
    for detail in ("compact", "full"):
        memoized = Evaluator("enacted", detail=detail)  # type: ignore[arg-type]
        lines = [memoized.to_json(case) for case in population]
        with unmemoized():
            fresh = Evaluator("enacted", detail=detail)  # type: ignore[arg-type]
            for case, line in zip(population, lines, strict=True):
                assert fresh.to_json(case) == line, case


def _deciding_rules_one_by_one(
    program: Any, truth: dict[str, bool], facts: dict[str, Any], decision: Any
) -> list[Any]:
    """``deciding_rules`` as it was written before it grouped rules and kept its answers: each
    rule flipped on its own, every headline from ``decide`` (the reference)."""
    from eligibility.engine.decide import _role_counts, _status_from_counts, possible_statuses

    counts = {i.id: _role_counts(program, i.id, truth) for i in program.instruments}
    statuses = {
        i.id: next(iter(possible_statuses(program, i.id, truth)))
        if i.kind == "statutory_limit"
        else _status_from_counts(counts[i.id])
        for i in program.instruments
    }
    base = (
        decide(program, statuses, truth, facts).headline if decision.headline.expel_to else decision.headline
    )
    found = []
    for b in program.rules:
        if b.rule.role == "destination":
            if statuses[b.governs] != "applies" or not truth[b.key]:
                continue
            flipped = {**truth, b.key: not truth[b.key]}
            if decide(program, statuses, flipped, facts).headline != base:
                found.append(b)
            continue
        held = dict(counts[b.governs])
        held[b.rule.role] += -1 if truth[b.key] else 1
        status = _status_from_counts(held)
        changed = {**statuses, b.governs: status}
        if status != statuses[b.governs] and decide(program, changed, truth, facts).headline != base:
            found.append(b)
    return found


@settings(max_examples=40, deadline=None)
@given(POLICIES, ANY_CASE, st.data())
def test_deciding_rules_equal_flipping_each_rule_alone(
    policy: str, case: dict[str, Any], data: st.DataObject
) -> None:
    from eligibility.engine.decide import deciding_rules, possible_statuses

    rules = default_rules()
    program = compile_policy(rules, policy)
    facts, _ = derive_facts(parse_case(case), rules.context)
    concrete = {name: None if value is UNKNOWN else value for name, value in facts.items()}
    truth = {b.key: data.draw(st.booleans()) for b in program.rules}
    statuses = {i.id: next(iter(possible_statuses(program, i.id, truth))) for i in program.instruments}
    decision = decide(program, statuses, truth, concrete)
    want = _deciding_rules_one_by_one(program, truth, concrete, decision)
    assert deciding_rules(program, truth, concrete, decision) == want
    with unmemoized():
        assert deciding_rules(program, truth, concrete, decision) == want


class _Checked(Evaluator):
    """An evaluator whose every template text is checked against the determination dumped whole."""

    checked = 0

    def _text(self, det: Any, assumed: dict[str, Any]) -> Any:
        from eligibility.fast import _plain_text

        base, holes = super()._text(det, assumed)
        assert len(base) == 2 * len(holes) + 1 and [i for i, _ in holes] == list(range(1, len(base), 2))
        parts = list(base)
        for index, name in holes:
            parts[index] = (
                f'"\\u0000{name}\\u0000"' if name.startswith("@") else f"\\u0000{name}\\u0000"
            ).encode()
        assert b"".join(parts) == _plain_text(det, assumed, self.detail).encode()
        _Checked.checked += 1
        return base, holes


def test_templates_put_together_from_instrument_texts_equal_the_whole_dump() -> None:
    """The fast path's template text is assembled from each instrument's own JSON text (kept per
    explained instrument): byte for byte what dumping the whole determination gives."""
    population = _population(60)
    for detail in ("compact", "full"):
        for lang in ("en", "es"):
            checked = _Checked("enacted", detail=detail, lang=lang)  # type: ignore[arg-type]
            checked.assembling = False  # every new class built, so that its text is checked
            before = _Checked.checked
            for case in population:
                checked.to_json(case)
            assert _Checked.checked - before == checked.evaluations > 10
