"""Compile a policy: bind statutory limits to the agreements they limit, and name every rule.

A *program* is what both engines run: a flat list of bound rules, each with a condition whose
``{instrument: receiving_country}`` references are replaced by values, and a short key that the
engines report when the rule fires.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eligibility.countries import other_country
from eligibility.ruleset.conditions import Condition, Test, bind, tests
from eligibility.ruleset.facts import CATALOGUE, FactValue
from eligibility.ruleset.load import Instrument, Policy, Rule, RuleSet


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
    engines: dict[str, Any] = field(default_factory=dict)  # engine name -> engine, built once

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
        object.__setattr__(self, "_classes", {})
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
    program = ruleset.programs.get(name)
    if program is None:
        program = ruleset.programs[name] = _compile(ruleset, name)
    return program


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


def representatives(program: Program, fact: str, entry_date: dt.date) -> tuple[FactValue, ...]:
    """One value of ``fact`` from every class of values that the program's rules tell apart.

    The rules compare each fact with finitely many constants, so these classes are finite: a date
    a day before, on and after each cut; each country named plus one other; every subset of them.
    """
    spec = CATALOGUE[fact]
    consts = program.constants.get(fact, frozenset())
    if spec.type == "bool":
        return (False, True)
    if spec.type == "enum":
        return spec.values
    if spec.type == "int":
        lower = spec.lower or 0
        values = {lower} | {v for c in consts for v in (c - 1, c, c + 1) if v >= lower}
        return tuple(sorted(values))
    if spec.type == "date":
        day = dt.timedelta(days=1)
        values = {entry_date} | {v for c in consts for v in (c - day, c, c + day) if v >= entry_date}
        return tuple(sorted(values))
    named = frozenset(c for c in consts if isinstance(c, str))  # not the true/false of `empty`
    if spec.type == "state":
        return (*sorted(named), next(s for s in ("TX", "NM", "NY", "FL") if s not in named))
    pool = (*sorted(named), other_country(named))
    if spec.type == "country":
        return pool
    # Sets of countries: every set of at most two members. Searches split a set one member at a
    # time (over ``country_pool``), so they never need the 2^n subsets of a long list of names.
    return tuple(
        frozenset(c) for r in range(min(len(pool), MAX_SET_SIZE) + 1) for c in itertools.combinations(pool, r)
    )


MAX_SET_SIZE = 2


def country_pool(program: Program, fact: str) -> frozenset[str]:
    """Every country the rules compare a set-valued fact with, and one standing for any other."""
    named = frozenset(c for c in program.constants.get(fact, frozenset()) if isinstance(c, str))
    return named | {other_country(named)}


def classes(
    program: Program, fact: str, entry_date: dt.date, *others: Program, extra: tuple[Any, ...] = ()
) -> tuple[FactValue, ...]:
    """One value per class of ``fact`` that the rules of these programs tell apart (coarser than
    ``representatives``): the first day (or number) of each interval between the cuts the rules
    make, and one value per group of values that every test treats alike. Used to split searches."""
    from eligibility.ruleset.conditions import tests

    own = {id(b.when) for p in (program, *others) for b in p.rules}
    # the tests of ``extra`` conditions that are not the programs' own rules (those count anyway)
    added = tuple(dict.fromkeys(t for c in extra if id(c) not in own for t in tests(c) if t.fact == fact))
    cache: dict[Any, tuple[FactValue, ...]] = program._classes  # type: ignore[attr-defined]
    key = (fact, entry_date, tuple(id(p) for p in others), added)
    found = cache.get(key)
    if found is None:
        if len(cache) > 10_000:
            cache.clear()
        found = cache[key] = _classes(program, fact, entry_date, others, added)
    return found


def _classes(
    program: Program, fact: str, entry_date: dt.date, others: tuple[Program, ...], added: tuple[Any, ...]
) -> tuple[FactValue, ...]:
    spec = CATALOGUE[fact]
    checks = [
        t for p in (program, *others) for b in p.rules_testing(fact) for t in b.checks if t.fact == fact
    ]
    checks += added
    if spec.type in ("date", "int"):
        step: Any = dt.timedelta(days=1) if spec.type == "date" else 1
        lower: Any = entry_date if spec.type == "date" else (spec.lower or 0)
        bounds: set[Any] = set()
        for t in checks:
            for v in t.value if isinstance(t.value, tuple) else (t.value,):
                if t.op in ("ge", "lt"):
                    bounds.add(v)
                elif t.op in ("gt", "le"):
                    bounds.add(v + step)
                else:
                    bounds |= {v, v + step}
        return (lower, *sorted(b for b in bounds if b > lower))
    if spec.type == "countries":
        return representatives(program, fact, entry_date)
    from eligibility.ruleset.conditions import holds

    domain = representatives(program, fact, entry_date)
    if spec.type in ("country", "state"):
        named = {
            v
            for t in checks
            for v in (t.value if isinstance(t.value, tuple) else (t.value,))
            if isinstance(v, str)
        }
        domain = tuple(dict.fromkeys([*sorted(named), *domain]))
    if others:
        domain = tuple(
            dict.fromkeys([*domain, *(v for p in others for v in representatives(p, fact, entry_date))])
        )
    seen: dict[tuple[Any, ...], FactValue] = {}
    for value in domain:
        signature = tuple(holds(t, {fact: value}) for t in checks)
        seen.setdefault(signature, value)
    return tuple(seen.values())
