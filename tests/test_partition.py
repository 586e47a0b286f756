"""The partition of the fact space: every class's example case lies in its class, and the search
spends one budget, whatever walks it."""

from __future__ import annotations

import pytest

from eligibility import load_rules
from eligibility.analysis.partition import Node, Partition, Split, cuts
from eligibility.case import parse_case
from eligibility.engine.program import compile_policy
from eligibility.errors import SearchTooLarge
from eligibility.ruleset.conditions import PartialSet, holds
from eligibility.ruleset.facts import UNKNOWN, derive_facts


def _open(value: object) -> bool:
    return value is UNKNOWN or (isinstance(value, PartialSet) and bool(value.undecided))


@pytest.mark.parametrize("policy", ["enacted", "draft-2019-07"])
def test_every_example_lies_in_its_class(policy: str) -> None:
    """Walk the first classes of the policy (splitting on the facts its undecided rules test): at
    every class, a rule the three-valued evaluation decides holds the same way on the example, and
    the example is a valid case that reads back to the same facts the rules test."""
    program = compile_policy(load_rules(), policy)
    space = Partition((program,), budget=400)
    checked = 0

    def step(node: Node) -> Split | None:
        nonlocal checked
        facts = node.facts
        example = space.example(facts)
        truth = {b.key: holds(b.when, facts) for b in program.rules}
        for b in program.rules:
            if truth[b.key] is not None:
                assert holds(b.when, example) is truth[b.key], (b.rule.id, facts)
        checked += 1
        case = parse_case(space.case(facts))  # a case a person can paste: valid input
        assert case.entry.date == example["entry.date"]
        derived, _ = derive_facts(case, program.ruleset.context)
        for name in ("age_at_entry", "entry.border", "entry.place", "nationalities", "documents"):
            if name in space.used and not _open(facts[name]):
                assert derived[name] == example[name], name
        open_facts = [t.fact for b in program.rules if truth[b.key] is None for t in b.checks if _open(facts[t.fact])]
        if not open_facts:
            return None
        fact = open_facts[0]
        return Split(fact, space.values(fact, facts))

    with pytest.raises(SearchTooLarge, match="more than 400 classes of cases"):
        space.search(space.start(), step)
    assert checked == 400 and space.spent == 401  # the budget counts every class visited


def test_the_budget_counts_what_the_search_names() -> None:
    """A split budget counts the classes split, a leaf budget only what the step spends."""
    program = compile_policy(load_rules(), "enacted")

    def splitting(space: Partition) -> object:
        def step(node: Node) -> Split | None:
            if node.facts["unaccompanied"] is UNKNOWN:
                return Split("unaccompanied", space.values("unaccompanied", node.facts))
            if node.facts["trafficking_victim"] is UNKNOWN:
                return Split("trafficking_victim", space.values("trafficking_victim", node.facts))
            return None

        return space.search(space.start(), step)

    by_split = Partition((program,), budget=3, counting="split")
    splitting(by_split)
    assert by_split.spent == 3  # the root and its two children are split; the four leaves are not
    with pytest.raises(SearchTooLarge):
        splitting(Partition((program,), budget=2, counting="split"))
    by_node = Partition((program,), budget=7)
    splitting(by_node)
    assert by_node.spent == 7


def test_cut_points_of_a_date_fact() -> None:
    """Each test is constant between two cut points: 'on or after D' cuts at D, 'after D' and 'on
    or before D' at the day after, 'on D' at D and the day after."""
    import datetime as dt

    from eligibility.ruleset.conditions import Test
    from eligibility.yamlsource import Location

    here = Location("test", 1, 1)
    day = dt.date(2019, 11, 21)
    next_day = dt.date(2019, 11, 22)
    assert cuts([Test("entry.date", "ge", day, here)], "entry.date") == (day,)
    assert cuts([Test("entry.date", "gt", day, here)], "entry.date") == (next_day,)
    assert cuts([Test("entry.date", "le", day, here)], "entry.date") == (next_day,)
    assert cuts([Test("entry.date", "eq", day, here)], "entry.date") == (day, next_day)
    assert cuts([Test("decision_date", "ge", day, here)], "entry.date") == ()
