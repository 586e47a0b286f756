"""Settle a case whose facts are partly unknown (contract section 4).

The rules compare each fact with finitely many constants, so every unknown fact has finitely many
classes of values (``program.representatives``). We split the case on one unknown fact at a time,
choosing facts that the still-undecided rules depend on, until the three-valued evaluation settles
the outcome in each branch. Each leaf of that tree is a region of cases with one outcome; the
engine then evaluates one representative case of each region, and the pure evaluator's verdict on
that case must agree with it. The outcome is returned when every region agrees; otherwise it is
``undetermined``, and the facts split on where regions disagree are the ``missing_facts``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eligibility.conditions import Truth, holds, tests
from eligibility.decide import Decision, Headline, Status, decide, fired_truth, possible_decisions, possible_statuses
from eligibility.engines import Engine
from eligibility.errors import EngineMismatchError
from eligibility.facts import CATALOGUE, UNKNOWN
from eligibility.program import Program, representatives

MAX_REGIONS = 20_000


@dataclass(frozen=True)
class Region:
    """A set of cases (the known facts plus the split values) that share one decision."""

    facts: Mapping[str, Any]  # UNKNOWN where not split on
    truth: Mapping[str, Truth]  # three-valued, per rule key
    statuses: Mapping[str, frozenset[Status]]
    decision: Decision  # the engine's, on one representative case


@dataclass
class Settlement:
    regions: list[Region] = field(default_factory=list)
    split_on: list[str] = field(default_factory=list)  # facts split on, in the order first split
    decisive: dict[str, set[str]] = field(default_factory=dict)  # headline field -> facts that change it

    def missing(self, part: str = "outcome") -> list[str]:
        """Facts that change ``part`` of the headline (outcome, asylum, wait_in_mexico), first split first."""
        found = self.decisive.get(part, set())
        return [f for f in self.split_on if f in found]


def _parts(headline: Headline) -> dict[str, object]:
    return {
        "outcome": (headline.outcome, headline.transfer_to),
        "asylum": headline.asylum,
        "wait_in_mexico": headline.wait_in_mexico if headline.outcome == "process_in_us" else None,
    }


def settle(program: Program, facts: Mapping[str, Any], engine: Engine, pure: Engine | None = None) -> Settlement:
    """Every region of the case's unknown facts, each decided by ``engine``."""
    settlement = Settlement()
    entry_date: dt.date = facts["entry.date"]
    _split(program, dict(facts), engine, pure, entry_date, settlement)
    return settlement


def _split(
    program: Program, facts: dict[str, Any], engine: Engine, pure: Engine | None,
    entry_date: dt.date, out: Settlement,
) -> set[Headline]:
    truth = {b.key: holds(b.when, facts) for b in program.rules}
    decisions = possible_decisions(program, truth)
    headlines = {d.headline for d in decisions}
    candidates = _undecided_facts(program, facts, truth)
    if len(headlines) == 1 or not candidates:
        out.regions.append(_leaf(program, facts, truth, engine, pure, entry_date))
        if len(out.regions) > MAX_REGIONS:
            raise RuntimeError(f"more than {MAX_REGIONS} regions of unknown facts")
        return {out.regions[-1].decision.headline}
    fact = candidates[0]
    if fact not in out.split_on:
        out.split_on.append(fact)
    found: set[Headline] = set()
    for value in representatives(program, fact, entry_date):
        found |= _split(program, {**facts, fact: value}, engine, pure, entry_date, out)
    if len(found) > 1:
        for part in ("outcome", "asylum", "wait_in_mexico"):
            values = {_parts(h)[part] for h in found} - {None}
            if len(values) > 1:
                out.decisive.setdefault(part, set()).add(fact)
    return found


def _undecided_facts(program: Program, facts: Mapping[str, Any], truth: Mapping[str, Truth]) -> list[str]:
    """Unknown facts that undecided rules test, most often tested first."""
    counts: dict[str, int] = {}
    for b in program.rules:
        if truth[b.key] is None:
            for t in tests(b.when):
                if facts[t.fact] is UNKNOWN:
                    counts[t.fact] = counts.get(t.fact, 0) + 1
    order = list(CATALOGUE)
    return sorted(counts, key=lambda f: (-counts[f], order.index(f)))


def _leaf(
    program: Program, facts: Mapping[str, Any], truth: Mapping[str, Truth], engine: Engine,
    pure: Engine | None, entry_date: dt.date,
) -> Region:
    statuses = {i.id: possible_statuses(program, i.id, truth) for i in program.instruments}
    concrete = {
        name: (representatives(program, name, entry_date)[0] if value is UNKNOWN else value)
        for name, value in facts.items()
        if name in program.facts_used or value is not UNKNOWN
    }
    fired = engine.fired(concrete)
    if pure is not None and pure is not engine:
        expected = pure.fired(concrete)
        if expected != fired:
            names = sorted(b.rule.id for b in program.rules if b.key in fired ^ expected)
            raise EngineMismatchError(f"{engine.name} and {pure.name} disagree on rules {names}")
    concrete_statuses = {
        iid: next(iter(possible_statuses(program, iid, fired_truth(program, fired))))
        for iid in statuses
    }
    decision = decide(program, concrete_statuses)
    for iid, allowed in statuses.items():
        if concrete_statuses[iid] not in allowed:
            raise EngineMismatchError(
                f"{engine.name} gives '{iid}' status {concrete_statuses[iid]}, the rules allow {sorted(allowed)}"
            )
    return Region(dict(facts), truth, statuses, decision)
