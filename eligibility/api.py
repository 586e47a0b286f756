"""The public entry points: load rules, evaluate a case."""

from __future__ import annotations

from pathlib import Path

from eligibility.analysis.counterfactual import counterfactuals as find_changes
from eligibility.analysis.settle import settle
from eligibility.case import Case, parse_case
from eligibility.engine.backends import PureEngine, engine_for
from eligibility.engine.program import compile_policy
from eligibility.explain.build import build
from eligibility.explain.determination import Determination
from eligibility.fast import Evaluator
from eligibility.ruleset.facts import derive_facts
from eligibility.ruleset.load import RuleSet, default_rules
from eligibility.ruleset.load import load_rules as _load_rules


def _fast(ruleset: RuleSet, policy: str | None) -> Evaluator:
    """One fast evaluator per rule set and policy, kept with the rule set's compiled programs."""
    name = policy or ruleset.default_policy
    return ruleset.built.get(Evaluator, name, lambda: Evaluator(policy, rules=ruleset))


def load_rules(path: str | Path | None = None, *, extend: bool = False) -> RuleSet:
    """Load and validate a rules directory; ``None`` gives the shipped rules (loaded once).

    With ``extend=True``, ``path`` adds to or replaces the shipped instruments and policies.
    Raises ``RuleFileError`` listing every problem as ``file:line:col: message``.
    """
    return default_rules() if path is None else _load_rules(path, extend=extend)


def evaluate(
    case: Case | dict[str, object] | str,
    policy: str | None = None,
    *,
    rules: RuleSet | None = None,
    engine: str = "durable",
    counterfactuals: bool = True,
) -> Determination:
    """What happens to this person under ``policy`` (default: ``enacted``), and why.

    ``case`` is a Case, a dict, or JSON/YAML text (the case format, `eligibility schema case`). ``engine`` is 'durable'
    (durable-rules decides which rules fire, checked by the pure evaluator; falls back to 'pure'
    where durable-rules is not installed) or 'pure'. ``counterfactuals`` adds ``would_change_if``
    (the smallest changes of facts that change the answer). Raises ``CaseError`` for an invalid case and
    ``UnknownPolicyError`` for an unknown policy.
    """
    ruleset = rules or load_rules()
    parsed = parse_case(case)
    if engine == "fast":
        return _fast(ruleset, policy).evaluate(parsed).determination()
    program = compile_policy(ruleset, policy)
    facts, assumed = derive_facts(parsed, ruleset.context)
    chosen = engine_for(program, engine)
    checker = engine_for(program, "pure")
    settlement = settle(program, facts, chosen, checker if not isinstance(chosen, PureEngine) else None)
    changes = find_changes(program, facts, assumed, settlement) if counterfactuals else None
    return build(program, parsed, facts, assumed, settlement, chosen.name, changes)
