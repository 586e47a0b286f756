"""Evidence and caveats: an answer that rests on a weaker source says so on its first line.

For every golden case, the rules that decided its headline are computed independently here (flip
one rule's truth, everything else as it is, and see whether the headline moves); the text output
must then show, on the headline's line, an evidence level no stronger than any of them, and every
caveat of theirs right under it. Every rule whose evidence is ``unverified`` must decide at least
one golden case, so that each is seen in the text of some answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from eligibility import evaluate, load_rules
from eligibility.case import parse_case
from eligibility.engine.decide import decide, possible_statuses
from eligibility.engine.backends import engine_for
from eligibility.explain.build import render_text
from eligibility.ruleset.facts import derive_facts
from eligibility.engine.program import compile_policy
from eligibility.ruleset.load import EVIDENCE_ORDER
from eligibility.analysis.settle import settle
from tests.test_golden import _cases

GOLDEN = [p.values[0] for p in _cases()]


def _decided_here(golden: dict[str, Any]) -> set[str]:
    """Rule ids whose truth, flipped alone, changes the headline of some region of the case."""
    rules = load_rules()
    program = compile_policy(rules, golden["policy"])
    facts, _ = derive_facts(parse_case(golden["case"]), rules.context)
    found: set[str] = set()
    for region in settle(program, facts, engine_for(program, "pure")).regions:
        truth = dict(region.fired)
        statuses = {i.id: next(iter(possible_statuses(program, i.id, truth))) for i in program.instruments}
        base = decide(program, statuses, truth, region.concrete).headline
        for b in program.rules:
            if b.rule.role == "destination" and not truth[b.key]:
                continue
            flipped = {**truth, b.key: not truth[b.key]}
            changed = {**statuses, b.governs: next(iter(possible_statuses(program, b.governs, flipped)))}
            if decide(program, changed, flipped, region.concrete).headline != base:
                found.add(b.rule.id)
    return found


@pytest.mark.parametrize("golden", GOLDEN[::3], ids=lambda g: g["name"][:60])
def test_the_headline_shows_the_weakest_evidence_and_every_caveat_of_the_rules_that_decided_it(
    golden: dict[str, Any],
) -> None:
    rules = load_rules()
    decided = [rules.rule(rid) for rid in sorted(_decided_here(golden))]
    det = evaluate(golden["case"], golden["policy"], engine="pure", counterfactuals=False)
    weakest = min((r.evidence for r in decided), key=EVIDENCE_ORDER.__getitem__, default="primary")
    assert det.evidence == weakest
    text = render_text(det).splitlines()
    assert f"[evidence: {weakest};" in text[0]
    shown = [line.strip().removeprefix("caveat: ") for line in text[1:] if line.startswith("  caveat: ")]
    for rule in decided:
        for caveat in rule.caveats:
            assert caveat in shown, (rule.id, caveat)


def test_every_unverified_or_secondary_rule_shows_its_level_in_a_case_it_decides() -> None:
    """Each rule of weaker evidence that decides some golden case shows its level there; every
    unverified rule decides at least one."""
    rules = load_rules()
    weaker = {r.id: r.evidence for r in rules.all_rules() if r.evidence != "primary"}
    seen: dict[str, str] = {}
    for golden in GOLDEN:
        decided = _decided_here(golden) & set(weaker)
        if not decided or all(rid in seen for rid in decided):
            continue
        det = evaluate(golden["case"], golden["policy"], engine="pure", counterfactuals=False)
        first = render_text(det).splitlines()[0]
        for rid in decided:
            assert EVIDENCE_ORDER[det.evidence] <= EVIDENCE_ORDER[weaker[rid]], (rid, first)
            assert f"evidence: {det.evidence}" in first
            seen.setdefault(rid, det.evidence)
    unverified = {rid for rid, level in weaker.items() if level == "unverified"}
    assert unverified <= set(seen), sorted(unverified - set(seen))
