"""Compile a policy: bind statutory limits to the agreements they limit, and name every rule.

A *program* is what both engines run: a flat list of bound rules, each with a condition whose
``{instrument: receiving_country}`` references are replaced by values, and a short key that the
engines report when the rule fires.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eligibility.ruleset.conditions import Condition, Test, bind, tests
from eligibility.ruleset.load import Built, Instrument, Policy, Rule, RuleSet


@dataclass(frozen=True)
class BoundRule:
    """A rule as one engine rule: ``governs`` is the instrument whose status it concludes."""

    key: str
    rule: Rule
    governs: str
    via: str | None  # the statutory limit it was bound from, if any
    when: Condition
    checks: tuple[Test, ...] = field(default=(), compare=False)  # tests(when), computed once

    def __post_init__(self) -> None:
        if not self.checks:
            object.__setattr__(self, "checks", tuple(tests(self.when)))


@dataclass(frozen=True, eq=False)
class Program:
    """A policy ready to evaluate."""

    ruleset: RuleSet
    policy: Policy
    instruments: tuple[Instrument, ...]
    rules: tuple[BoundRule, ...]
    governed: Mapping[str, tuple[BoundRule, ...]]  # instrument id -> the rules concluding its status
    constants: Mapping[str, frozenset[Any]]  # fact -> every constant it is compared with
    built: Built = field(default_factory=lambda: Built())  # its engines, built once

    @property
    def facts_used(self) -> frozenset[str]:
        """The facts the rules test, and those an expulsion's countries are read from."""
        return self._used  # type: ignore[attr-defined, no-any-return]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {i.id: i for i in self.instruments})
        testing: dict[str, list[BoundRule]] = {}
        for b in self.rules:
            for name in dict.fromkeys(t.fact for t in b.checks):
                testing.setdefault(name, []).append(b)
        object.__setattr__(self, "_testing", {k: tuple(v) for k, v in testing.items()})
        object.__setattr__(self, "_roles", {})
        object.__setattr__(self, "_classes", {})  # the partition's classes of each fact, once
        object.__setattr__(self, "_limited", {})
        sends = any(b.rule.role == "destination" for b in self.rules)
        object.__setattr__(
            self, "_used", frozenset(self.constants) | (DESTINATION_INPUTS if sends else frozenset())
        )
        object.__setattr__(
            self, "limits", frozenset(i.id for i in self.instruments if i.kind == "statutory_limit")
        )

    limits: frozenset[str] = field(init=False, default=frozenset())
    """The statutory limits: their status depends on the rules of the agreements they limit."""

    def keys_by_role(self, iid: str, own: bool = False) -> Mapping[str, tuple[str, ...]]:
        """The keys of the rules concluding ``iid``'s status, by role (``own``: not bound from a limit)."""
        cache: dict[tuple[str, bool], dict[str, tuple[str, ...]]] = self._roles  # type: ignore[attr-defined]
        found = cache.get((iid, own))
        if found is None:
            roles: dict[str, list[str]] = {}
            for b in self.governed[iid]:
                if not own or b.via is None:
                    roles.setdefault(b.rule.role, []).append(b.key)
            found = cache[(iid, own)] = {k: tuple(v) for k, v in roles.items()}
        return found

    def limited_by(self, limit: str) -> frozenset[str]:
        """The instruments whose rules a statutory limit's status reads (those it is bound to)."""
        cache: dict[str, frozenset[str]] = self._limited  # type: ignore[attr-defined]
        found = cache.get(limit)
        if found is None:
            found = cache[limit] = frozenset(b.governs for b in self.governed[limit])
        return found

    def rules_testing(self, fact: str) -> tuple[BoundRule, ...]:
        """The rules whose conditions test ``fact``."""
        return self._testing.get(fact, ())  # type: ignore[attr-defined, no-any-return]

    def instrument(self, iid: str) -> Instrument:
        return self._by_id[iid]  # type: ignore[attr-defined, no-any-return]


DESTINATION_INPUTS = frozenset({"nationalities", "habitual_residence", "fear_established_in"})
"""The facts an expulsion's countries are read from (``to: nationality``, less fear)."""


def compile_policy(ruleset: RuleSet, policy: str | None = None) -> Program:
    """The program of ``policy`` (default: the rule set's default policy), compiled once per rule set."""
    name = policy or ruleset.default_policy
    return ruleset.built.get(Program, name, lambda: _compile(ruleset, name))


def _compile(ruleset: RuleSet, name: str) -> Program:
    ruleset.require_policy(name)
    policy = ruleset.policies[name]
    instruments = tuple(ruleset.instruments[i] for i in policy.instruments)
    bound: list[BoundRule] = []
    counter = itertools.count()
    for inst in instruments:
        if inst.kind == "statutory_limit":
            continue
        for rule in inst.rules:
            bound.append(BoundRule(f"r{next(counter)}", rule, inst.id, None, rule.when))
        for limit in instruments:
            if limit.kind == "statutory_limit" and inst.kind in limit.applies_to:
                params = {"receiving_country": inst.receiving_country or ""}
                for rule in limit.rules:
                    bound.append(
                        BoundRule(f"r{next(counter)}", rule, inst.id, limit.id, bind(rule.when, params))
                    )
    governed = {inst.id: tuple(b for b in bound if b.governs == inst.id) for inst in instruments}
    for inst in instruments:
        if inst.kind == "statutory_limit":
            governed[inst.id] = tuple(b for b in bound if b.via == inst.id)
    constants: dict[str, set[Any]] = {}
    for b in bound:
        for test in b.checks:
            values = test.value if isinstance(test.value, tuple) else (test.value,)
            constants.setdefault(test.fact, set()).update(values)
    return Program(
        ruleset, policy, instruments, tuple(bound), governed, {k: frozenset(v) for k, v in constants.items()}
    )
