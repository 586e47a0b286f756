"""Settle a case whose facts are partly unknown (see the README, "Unknown facts").

The rules compare each fact with finitely many constants, so every unknown fact has finitely many
classes of values (``eligibility.analysis.partition``; a set of countries is split one member at
a time). We split the case on one unknown fact at a time, choosing facts that the still-undecided
rules test, until the three-valued evaluation settles the headline in each branch. Each leaf is a
region of cases that share one headline; the engine evaluates one representative case of each
region, and the pure evaluator must agree with it.

A field of the headline (outcome, asylum, wait in Mexico) is returned when every region agrees on
it, and is ``undetermined`` otherwise; the facts split on where regions disagree are its missing
facts. When very many facts are unknown the full tree can be large: past ``LEAF_BUDGET`` leaves,
each field is settled on its own, stopping as soon as two regions disagree on it, and its missing
facts are then every unknown fact the undecided rules test (a sound over-approximation).
"""

from __future__ import annotations

import datetime as dt
import functools
import weakref
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from eligibility.analysis.partition import Node, Partition, Split, evaluate_node
from eligibility.engine.backends import Engine, PureEngine
from eligibility.engine.decide import (
    OPEN,
    Decision,
    Headline,
    Status,
    decide,
    fired_truth,
    is_open,
    possible_destinations,
    possible_headlines,
    possible_statuses,
)
from eligibility.engine.program import Program
from eligibility.errors import EngineMismatchError, SearchTooLarge
from eligibility.ruleset.conditions import PartialSet, Truth, holds
from eligibility.ruleset.facts import CATALOGUE, UNKNOWN

LEAF_BUDGET = 1500
PARTS = ("outcome", "asylum", "wait_in_mexico")


def _part_of(part: str, headline: Headline) -> Hashable:
    """``part_of`` as the per-part search compares it: a person not processed in the U.S. does not
    wait in Mexico, which ``headline`` reads as not waiting, so the search need not tell apart."""
    value = part_of(headline, part)
    return False if part == "wait_in_mexico" and value is None else value


def part_of(headline: Headline, part: str) -> Hashable:
    """The value of one field of the headline (None: the field does not apply)."""
    if part == "outcome":
        return (headline.outcome, headline.transfer_to, headline.expel_to)
    if part == "asylum":
        return headline.asylum
    return headline.wait_in_mexico if headline.outcome == "process_in_us" else None


@dataclass(frozen=True)
class Region:
    """A set of cases (the known facts plus the split values) that share one decision."""

    facts: Mapping[str, Any]
    truth: Mapping[str, Truth]  # three-valued, per rule key
    statuses: Mapping[str, frozenset[Status]]
    decision: Decision  # the engine's, on one representative case
    concrete: Mapping[str, Any] = field(default_factory=dict)  # the representative case's facts
    fired: Mapping[str, bool] = field(default_factory=dict)  # the engine's truths on it


@dataclass
class Settlement:
    regions: list[Region] = field(default_factory=list)
    split_on: list[str] = field(default_factory=list)  # facts split on, in the order first split
    decisive: dict[str, set[str]] = field(default_factory=dict)  # part -> facts that change it
    values: dict[str, set[Hashable]] = field(default_factory=dict)  # part -> values seen
    exact: bool = True
    root_truth: Mapping[str, Truth] = field(default_factory=dict)
    root_statuses: Mapping[str, frozenset[Status]] = field(default_factory=dict)

    def missing(self, part: str = "outcome") -> list[str]:
        """Facts that change ``part`` of the headline, the first split first."""
        found = self.decisive.get(part, set())
        return [f for f in self.split_on if f in found]

    def settled(self, part: str) -> Hashable | None:
        """The single value of ``part`` over every region, or None when it is undetermined."""
        values = self.values.get(part, set()) - {None}
        if len(values) != 1:
            return None
        value = next(iter(values))
        if part == "outcome" and isinstance(value, tuple) and OPEN in value[2]:
            return None  # expelled, but unknown facts leave the countries open
        return value


def settle(
    program: Program,
    facts: Mapping[str, Any],
    engine: Engine,
    pure: Engine | None = None,
    truths: tuple[bool, ...] | None = None,
) -> Settlement:
    """Every region of the case's unknown facts, each decided by ``engine``. ``truths``: the
    truth of every rule in program order, when every fact is known and they are computed already."""
    start = dict(facts)
    root_truth: dict[str, Truth] = (
        {b.key: holds(b.when, start) for b in program.rules}
        if truths is None
        else dict(zip([b.key for b in program.rules], truths, strict=True))
    )
    root_statuses = {i.id: possible_statuses(program, i.id, root_truth) for i in program.instruments}
    tree = _Tree(program, engine, pure, start["entry.date"], lambda h: h, stop_at=None)
    try:
        tree.run(start, (root_truth, root_statuses))
    except SearchTooLarge:
        return _settle_parts(program, start, engine, pure, root_truth, root_statuses)
    out = Settlement(tree.regions, tree.split_on, {}, {}, True, root_truth, root_statuses)
    checks = Partition((program,), CHECK_BUDGET, message="more than {budget:,} classes to check one fact")
    stay = any(may_stay(r) for r in tree.regions)
    for part in PARTS:
        out.values[part] = {part_of(r.decision.headline, part) for r in tree.regions}
        if part != "outcome" and stay:
            out.values[part].add(OPEN)
        surely, maybe = set(), set()
        for fact, splits in tree.children.items():
            for branches in splits:
                sets = [frozenset({part_of(h, part) for h in heads} - {None}) for heads in branches]
                if len(set(sets)) > 1:
                    surely.add(fact)  # two branches that differ only in this fact disagree
                elif len(frozenset().union(*sets)) > 1:
                    maybe.add(fact)  # it was split where the part was still open
        for fact in sorted((maybe - surely) & _can_affect(program, part)):
            if _decisive(program, start, fact, part, checks) is not False:
                surely.add(fact)  # decisive, or not checked within the budget (kept: sound)
        out.decisive[part] = surely
    open_destinations(out, start, stay)
    return out


DESTINATION_FACTS = ("nationalities", "habitual_residence", "fear_established_in")


def open_destinations(out: Settlement, start: Mapping[str, Any], stay: bool) -> None:
    """Where a region is expelled to countries that unknown facts leave open, those facts decide
    (and, where fear may be established in every one of them, asylum and waiting in Mexico too)."""
    if any(is_open(r.decision.headline) for r in out.regions):
        for name in DESTINATION_FACTS:
            if start[name] is UNKNOWN:
                for part in PARTS if stay else ("outcome",):
                    out.decisive.setdefault(part, set()).add(name)
                if name not in out.split_on:
                    out.split_on.append(name)


def may_stay(region: Region) -> bool:
    """Whether some people of a region expelled to countries left open may have nowhere to be
    expelled to: fear established in every one of them excepts them from the expulsion, and they
    are screened on (the asylum and MPP answers of the region then are not settled)."""
    headline = region.decision.headline
    if headline.outcome != "expel" or OPEN not in headline.expel_to:
        return False
    fear = region.facts["fear_established_in"]
    return not (isinstance(fear, frozenset) and not fear)


CHECK_BUDGET = 4000
KINDS = {
    "outcome": {"transfer_agreement", "expulsion"},
    "asylum": {"transfer_agreement", "expulsion", "asylum_bar"},
    "wait_in_mexico": {"transfer_agreement", "expulsion", "wait_abroad"},
}


@functools.cache  # programs compare by identity and live as long as their rule set
def _can_affect(program: Program, part: str) -> frozenset[str]:
    """Facts tested by rules of the kinds of instrument that decide ``part``."""
    return frozenset(
        t.fact for b in program.rules if program.instrument(b.governs).kind in KINDS[part] for t in b.checks
    )


def _decisive(program: Program, facts: dict[str, Any], fact: str, part: str, space: Partition) -> bool | None:
    """Whether two cases that differ only in ``fact`` differ in ``part`` (None: the budget of
    ``space``, shared by every fact checked for one case, is spent).

    Splits every other undecided fact first, so that a split on ``fact`` separates cases equal in
    everything else; three-valued evaluation settles the leaves, no engine needed.
    """

    def step(node: Node) -> frozenset[Hashable] | Split:
        truth, statuses = node.state = evaluate_node(program, node.facts, _parent(node))
        heads = possible_headlines(program, statuses, truth, node.facts)
        possible = frozenset({part_of(h, part) for h in heads} - {None})
        candidates = _undecided_facts(program, node.facts, truth)
        if len(possible) <= 1 or not candidates:
            return possible
        others = [c for c in candidates if c != fact]
        chosen = others[0] if others else fact
        return Split(chosen, _split_values(space, chosen, node.facts, program, truth))

    def join(node: Node, split: Split, branches: list[frozenset[Hashable]]) -> frozenset[Hashable]:
        if split.fact == fact and len(set(branches) - {frozenset()}) > 1:
            raise _Found
        return frozenset().union(*branches)

    try:
        space.search(dict(facts), step, join)
    except _Found:
        return True
    except SearchTooLarge:
        return None
    return False


def _parent(
    node: Node, root: tuple[Mapping[str, Truth], Mapping[str, frozenset[Status]]] | None = None
) -> tuple[str, Mapping[str, Truth], Mapping[str, frozenset[Status]]] | None:
    """What ``evaluate_node`` needs of the class a node was split from (at the root: ``root``, the
    truths and statuses already known there)."""
    if node.parent is None or node.fact is None:
        return None if root is None else ("", *root)
    return (node.fact, *node.parent.state)


class _Found(Exception):
    pass


def _settle_parts(
    program: Program,
    start: dict[str, Any],
    engine: Engine,
    pure: Engine | None,
    root_truth: Mapping[str, Truth],
    root_statuses: Mapping[str, frozenset[Status]],
) -> Settlement:
    out = Settlement([], [], {}, {}, False, root_truth, root_statuses)
    undecided = _undecided_facts(program, start, root_truth)
    kinds = KINDS
    memo: dict[Hashable, _Fired] = {}
    for part in PARTS:
        relevant = {
            t.fact
            for b in program.rules
            if root_truth[b.key] is None
            and program.instrument(b.governs).kind in kinds[part]
            and len(root_statuses[b.governs]) > 1
            for t in b.checks
        }
        tree = _Tree(
            program,
            engine,
            pure,
            start["entry.date"],
            functools.partial(_part_of, part),
            stop_at=2,
            memo=memo,
        )
        try:
            tree.run(start, (root_truth, root_statuses))
            seen = {part_of(r.decision.headline, part) for r in tree.regions}
        except SearchTooLarge:
            seen = {part_of(r.decision.headline, part) for r in tree.regions} | {"(not settled)"}
        if part != "outcome" and any(may_stay(r) for r in tree.regions):
            seen.add(OPEN)
        out.values[part] = seen
        out.decisive[part] = (set(undecided) & relevant) if len(seen - {None}) > 1 else set()
        out.regions += tree.regions
    out.split_on = undecided
    return out


class _Tree:
    """Splits facts until ``target`` of the headline is settled in every branch.

    Without ``stop_at`` the engine runs only once the whole tree is known to fit ``LEAF_BUDGET``
    (each leaf's headline is already settled by the three-valued evaluation), so a tree that
    would not fit costs no engine calls."""

    def __init__(
        self,
        program: Program,
        engine: Engine,
        pure: Engine | None,
        entry_date: dt.date,
        target: Callable[[Headline], Hashable],
        stop_at: int | None,
        memo: dict[Hashable, _Fired] | None = None,
    ) -> None:
        self.program, self.engine, self.pure, self.entry_date = program, engine, pure, entry_date
        self.target, self.stop_at = target, stop_at
        self.partition = Partition((program,), LEAF_BUDGET, "leaf", "more than {budget:,} regions")
        self.regions: list[Region] = []
        self.split_on: list[str] = []
        self.children: dict[str, list[list[set[Headline]]]] = {}  # fact -> per split: each child's headlines
        self._children: dict[str, list[list[frozenset[int]]]] = {}  # the same, as leaf numbers
        self._pending: list[tuple[dict[str, Any], dict[str, Truth], dict[str, frozenset[Status]]]] = []
        self.seen: set[Hashable] = set()
        self.leaves: dict[Hashable, _Fired] = {} if memo is None else memo  # a case -> the engine's verdict
        self._root: tuple[Mapping[str, Truth], Mapping[str, frozenset[Status]]] | None = None

    def run(
        self,
        facts: dict[str, Any],
        root: tuple[Mapping[str, Truth], Mapping[str, frozenset[Status]]] | None = None,
    ) -> None:
        """Split from ``facts`` (``root``: their truths and statuses, when known); raises
        ``SearchTooLarge`` past ``LEAF_BUDGET`` leaves."""
        self._root = root
        self.partition.search(facts, self.step, self.join)
        for leaf, truth, statuses in self._pending[len(self.regions) :]:
            self.regions.append(self.leaf(leaf, truth, statuses))
        heads = [r.decision.headline for r in self.regions]
        self.children = {
            fact: [[{heads[i] for i in branch} for branch in branches] for branches in splits]
            for fact, splits in self._children.items()
        }

    def step(self, node: Node) -> frozenset[int] | Split:
        program, facts = self.program, node.facts
        truth, statuses = node.state = evaluate_node(program, facts, _parent(node, self._root))
        possible = {self.target(h) for h in possible_headlines(program, statuses, truth, facts)}
        candidates = _undecided_facts(program, facts, truth)
        if len(possible) == 1 or not candidates:
            self.partition.spend()
            self._pending.append((facts, truth, statuses))
            if self.stop_at:
                region = self.leaf(facts, truth, statuses)
                self.regions.append(region)
                self.seen.add(self.target(region.decision.headline))
            return frozenset({len(self._pending) - 1})
        fact = candidates[0]
        if fact not in self.split_on:
            self.split_on.append(fact)
        enough = self._enough if self.stop_at else None
        return Split(fact, _split_values(self.partition, fact, facts, program, truth), enough)

    def _enough(self, _: frozenset[int]) -> bool:
        """Stop splitting once ``stop_at`` values of the target were seen."""
        return len(self.seen - {None}) >= (self.stop_at or 0)

    def join(self, node: Node, split: Split, branches: list[frozenset[int]]) -> frozenset[int]:
        self._children.setdefault(split.fact, []).append(branches)
        return frozenset().union(*branches)

    def leaf(
        self, facts: dict[str, Any], truth: Mapping[str, Truth], statuses: Mapping[str, frozenset[Status]]
    ) -> Region:
        return _leaf(
            self.program, self.partition, facts, truth, statuses, self.engine, self.pure, self.leaves
        )


def _split_values(
    partition: Partition, fact: str, facts: Mapping[str, Any], program: Program, truth: Mapping[str, Truth]
) -> list[Any]:
    """The children of a split: every class of a scalar fact, or one member in/out of a set (the
    member the undecided rules name most often)."""
    if CATALOGUE[fact].type != "countries":
        return partition.values(fact, facts)
    current = partition.members(fact, facts)
    weights: dict[str, float] = {m: 0.0 for m in current.undecided}
    for b in program.rules_testing(fact):
        if truth[b.key] is None:
            for t in b.checks:
                if t.fact == fact:
                    named = t.value if isinstance(t.value, tuple) else (t.value,)
                    for m in current.undecided if t.op == "empty" else named:
                        if isinstance(m, str) and m in weights:
                            weights[m] += 1.0 if t.op != "empty" else 0.5
    return partition.values(fact, facts, member=max(sorted(weights), key=lambda m: weights[m]))


def _undecided_facts(program: Program, facts: Mapping[str, Any], truth: Mapping[str, Truth]) -> list[str]:
    """Unknown facts that undecided rules test, the most often tested first (counting every test
    of each undecided rule; ties in the order of the fact catalogue)."""
    counts: dict[str, int] = {}
    for name, testing in _tests_by_fact(program):
        value = facts[name]
        if value is UNKNOWN or (isinstance(value, PartialSet) and value.undecided):
            count = sum(n for key, n in testing if truth[key] is None)
            if count:
                counts[name] = count
    return sorted(counts, key=lambda f: -counts[f])  # stable: the catalogue's order among ties


_TESTS_BY_FACT: weakref.WeakKeyDictionary[Program, tuple[tuple[str, tuple[tuple[str, int], ...]], ...]] = (
    weakref.WeakKeyDictionary()
)


def _tests_by_fact(program: Program) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
    """Per fact the rules test, in the order of the fact catalogue: each rule testing it (its key)
    with how many tests of it the rule makes."""
    found = _TESTS_BY_FACT.get(program)
    if found is None:
        found = _TESTS_BY_FACT[program] = tuple(
            (name, tuple((b.key, sum(t.fact == name for t in b.checks)) for b in program.rules_testing(name)))
            for name in CATALOGUE
            if program.rules_testing(name)
        )
    return found


_Fired = tuple[dict[str, bool], dict[str, Status], Decision]


def _fire(
    program: Program,
    concrete: Mapping[str, Any],
    engine: Engine,
    pure: Engine | None,
    expected: frozenset[str] | None = None,
) -> _Fired:
    """What ``engine`` makes of one concrete case (checked against ``pure``): truths, statuses,
    decision. ``expected``: the rules the pure evaluator is already known to fire there."""
    fired = expected if isinstance(engine, PureEngine) and expected is not None else engine.fired(concrete)
    if pure is not None and pure is not engine:
        if expected is None:
            expected = pure.fired(concrete)
        if expected != fired:
            names = sorted(b.rule.id for b in program.rules if b.key in fired ^ expected)
            raise EngineMismatchError(f"{engine.name} and {pure.name} disagree on rules {names}")
    truth_here = fired_truth(program, fired)
    statuses = {i.id: next(iter(possible_statuses(program, i.id, truth_here))) for i in program.instruments}
    return truth_here, statuses, decide(program, statuses, truth_here, concrete)


def _leaf(
    program: Program,
    partition: Partition,
    facts: Mapping[str, Any],
    truth: Mapping[str, Truth],
    statuses: Mapping[str, frozenset[Status]],
    engine: Engine,
    pure: Engine | None,
    memo: dict[Hashable, _Fired] | None = None,
) -> Region:
    example = partition.example(facts)
    concrete = {name: example[name] for name in program.facts_used}
    key = tuple(sorted(concrete.items()))
    known = memo.get(key) if memo is not None else None
    if known is None:
        # what the pure evaluator fires on this case: a rule decided on the region (by its own
        # three-valued reading) has that truth on any case of it, this one included; only the
        # others are evaluated on the case
        expected = frozenset(k for k, v in truth.items() if v) | frozenset(
            b.key for b in program.rules if truth[b.key] is None and holds(b.when, concrete) is True
        )
        known = _fire(program, concrete, engine, pure, expected)
        if memo is not None:
            memo[key] = known
    truth_here, concrete_statuses, decision = known
    for iid, allowed in statuses.items():
        if concrete_statuses[iid] not in allowed:
            raise EngineMismatchError(
                f"{engine.name} gives '{iid}' status {concrete_statuses[iid]}, the rules allow {sorted(allowed)}"
            )
    if decision.headline.outcome == "expel":
        for iid in decision.destination:
            if len(possible_destinations(program, iid, truth, facts)) > 1 or (OPEN,) in possible_destinations(
                program, iid, truth, facts
            ):
                decision = replace(decision, headline=decision.headline._replace(expel_to=(OPEN,)))
    return Region(dict(facts), truth, statuses, decision, concrete, truth_here)
