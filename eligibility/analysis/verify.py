"""Verify a rule set over the whole partition of cases: ``eligibility rules verify``.

The rules compare facts with finitely many constants, so the set of all cases splits into finitely
many classes, and every question below is answered exactly by a search over those classes (split
on one fact at a time, prune with three-valued evaluation), not by sampling:

* ``dead-rule``: a rule whose condition no case satisfies;
* ``redundant-rule``: a rule that never changes its instrument's status (removing it changes no
  class), unless it ``restates`` another rule on purpose;
* ``never-applies``: an instrument that applies to no case at all;
* ``empty-window`` / ``overlapping-windows``: date windows that are empty, or ``window`` rules of
  one instrument that overlap;
* ``invariant``: a property declared in policies.yaml (``never: transfer`` when ...) that some
  class violates.

Every class gets exactly one determination by construction (the status order and the screening
order are total), so gaps and conflicts between rules of equal standing cannot arise; ``verify``
checks what can go wrong in the data. Each finding names ``file:line`` and, where a case shows it,
an example ready to paste into a golden test.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from eligibility.analysis.partition import Node, Partition, Split, evaluate_node, other_member, shift
from eligibility.analysis.workers import FORKING, can_fork, run_forked, workers
from eligibility.engine.decide import (
    OPEN,
    Status,
    decide,
    possible_headlines,
    possible_statuses,
    status_of,
)
from eligibility.engine.program import BoundRule, Program, compile_policy
from eligibility.errors import SearchTooLarge
from eligibility.ruleset.conditions import All, Any_, Condition, Not, PartialSet, Test, Truth, holds, tests
from eligibility.ruleset.facts import CATALOGUE, UNKNOWN
from eligibility.ruleset.load import Invariant, RuleSet
from eligibility.yamlsource import Location

HERE = Location("verify", 1, 1)
NODE_BUDGET = 200_000


@dataclass(frozen=True)
class Issue:
    """One problem in the rules (a rule that never holds, an invariant that fails, a window that
    overlaps; not to be confused with a determination's per-rule findings)."""

    kind: str
    location: str
    message: str
    policy: str | None = None
    example: dict[str, Any] | None = None

    def __str__(self) -> str:
        where = f" [{self.policy}]" if self.policy else ""
        return f"{self.location}: {self.kind}{where}: {self.message}"


def verify(ruleset: RuleSet, policies: list[str] | None = None) -> list[Issue]:
    """Every finding for the named policies (default: all), static checks first.

    The invariants' searches are independent: with several CPUs they run in forked worker
    processes (``ELIGIBILITY_DIFF_WORKERS``, see ``eligibility.analysis.workers``), with the same
    findings in the same order as in one process."""
    findings = _window_findings(ruleset)
    names = policies or sorted(ruleset.policies)
    programs = [compile_policy(ruleset, name) for name in names]
    tasks = [
        (p, i, countries)
        for p, program in enumerate(programs)
        for i, inv in enumerate(ruleset.invariants)
        if _concerns(program, inv)
        for countries in _scopes(program, inv)
    ]
    found: dict[tuple[int, int], Issue | None] = {}
    for (p, i, _), finding in zip(tasks, _run_invariants(programs, tasks), strict=True):
        # an invariant's first violation, in the order of its scopes, else its first "not settled"
        before = found.get((p, i))
        if finding is not None and (before is None or (finding.example and not before.example)):
            found[(p, i)] = finding
    seen: set[tuple[str, str]] = set()
    for p, program in enumerate(programs):
        held = [found[(p, i)] for i in range(len(ruleset.invariants)) if (p, i) in found]
        for finding in [*_rule_findings(program), *(f for f in held if f is not None)]:
            key = (finding.kind, finding.message)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    return findings


_PROGRAMS: list[Program] | None = None
"""The programs whose invariants ``_invariant_task`` checks (inherited by forked workers)."""


_Task = tuple[int, int, tuple[str, ...] | None]
"""A program's index, an invariant's index, the countries it is checked for (None: as a whole)."""


def _scopes(program: Program, inv: Invariant) -> list[tuple[str, ...] | None]:
    """The searches an invariant is checked by: one per receiving country for
    ``transfer_to_nationality`` (each prunes every class that cannot send the person there),
    else one."""
    if inv.never == "transfer_to_nationality":
        return [(country,) for country in _receiving(program)]
    return [None]


def _invariant_task(task: _Task, programs: list[Program] | None = None) -> Issue | None:
    chosen = programs if programs is not None else _PROGRAMS
    assert chosen is not None
    program = chosen[task[0]]
    return _invariant_finding(program, program.ruleset.invariants[task[1]], task[2])


def _run_invariants(programs: list[Program], tasks: list[_Task]) -> list[Issue | None]:
    """Each task's finding, in order: in forked worker processes when there are several CPUs,
    else (or if a worker cannot start or dies) here."""
    global _PROGRAMS
    count = workers(len(tasks))
    if count > 1 and can_fork():
        with FORKING:
            _PROGRAMS = programs
            try:
                done = run_forked([(_invariant_task, task) for task in tasks], count)
                if done is not None:
                    return done
            finally:
                _PROGRAMS = None
    return [_invariant_task(task, programs) for task in tasks]


# ---------------------------------------------------------------- static: date windows


def _intervals(cond: Condition, fact: str) -> tuple[dt.date | None, dt.date | None] | None:
    """The [lower, upper) interval a conjunction puts on a date fact (None if not a conjunction)."""
    items = cond.items if isinstance(cond, All) else (cond,) if isinstance(cond, Test) else None
    if items is None:
        return None
    lower: dt.date | None = None
    upper: dt.date | None = None
    day = dt.timedelta(days=1)
    for item in items:
        if isinstance(item, Test) and item.fact == fact and isinstance(item.value, dt.date):
            after = shift(item.value, day)  # None after 9999-12-31
            bound = {
                "ge": (item.value, None),
                "gt": (item.value, item.value)
                if after is None
                else (after, None),  # nothing after the last day
                "lt": (None, item.value),
                "le": (None, after),
                "eq": (item.value, after),
            }.get(item.op)
            if bound:
                lo, hi = bound
                lower = lo if lo and (lower is None or lo > lower) else lower
                upper = hi if hi and (upper is None or hi < upper) else upper
    return lower, upper


def _conjunctions(cond: Condition) -> Iterator[Condition]:
    yield cond
    if isinstance(cond, (All, Any_)):
        for item in cond.items:
            yield from _conjunctions(item)
    elif isinstance(cond, Not):
        yield from _conjunctions(cond.item)


def _window_findings(ruleset: RuleSet) -> list[Issue]:
    findings = []
    date_facts = [name for name, fact in CATALOGUE.items() if fact.type == "date"]
    for rule in ruleset.all_rules():
        for part in _conjunctions(rule.when):
            for fact in date_facts:
                span = _intervals(part, fact)
                if span and span[0] and span[1] and span[0] >= span[1]:
                    findings.append(
                        Issue(
                            "empty-window",
                            rule.location.short,
                            f"{rule.id}: {fact} from {span[0]} before {span[1]} is empty",
                        )
                    )
    for inst in ruleset.instruments.values():
        windows = [(r, _intervals(r.when, "decision_date")) for r in inst.rules if r.role == "window"]
        for (a, sa), (b, sb) in itertools.combinations(windows, 2):
            if sa and sb and sa[0] and sa[1] and sb[0] and sb[1] and sa[0] < sb[1] and sb[0] < sa[1]:
                findings.append(
                    Issue(
                        "overlapping-windows",
                        b.location.short,
                        f"{b.id} overlaps {a.id} ({sb[0]}..{sb[1]} and {sa[0]}..{sa[1]})",
                    )
                )
    return findings


# ---------------------------------------------------------------- the search


def _partition(program: Program) -> Partition:
    """The classes of cases of ``program``, for one search of at most ``NODE_BUDGET`` splits."""
    return Partition((program,), NODE_BUDGET, "split", "more than {budget} classes")


def _open_facts(facts: Mapping[str, Any], conditions: list[Condition]) -> list[str]:
    """Unknown facts tested by conditions whose truth is not settled, entry.date first."""
    found: list[str] = []
    for cond in conditions:
        if holds(cond, facts) is None:
            for t in tests(cond):
                value = facts[t.fact]
                if (
                    value is UNKNOWN or (isinstance(value, PartialSet) and value.undecided)
                ) and t.fact not in found:
                    found.append(t.fact)
    # decision dates are split after the entry date, so that each class has entry <= decision
    return sorted(found, key=lambda f: (f == "decision_date" and "entry.date" in found, found.index(f)))


def _node(program: Program, node: Node) -> tuple[dict[str, Truth], dict[str, frozenset[Status]]]:
    """Truths of the rules and possible statuses in a class: computed once, and from the class it
    was split from (when known there) only the rules testing the fact split are evaluated."""
    if node.state is None:
        parent = node.parent
        if parent is not None and parent.state is not None and node.fact:
            node.state = evaluate_node(program, node.facts, (node.fact, *parent.state))
        else:
            node.state = evaluate_node(program, node.facts)
    return node.state  # type: ignore[no-any-return]


def _member(
    partition: Partition,
    fact: str,
    facts: Mapping[str, Any],
    conditions: list[Condition],
    first: Mapping[str, tuple[str, ...]] | None = None,
) -> str | None:
    """The member of a set of countries to split on: the first of ``first[fact]`` still
    undecided, else the first the conditions name, if any."""
    if CATALOGUE[fact].type != "countries":
        return None
    undecided = partition.members(fact, facts).undecided
    for member in (first or {}).get(fact, ()):
        if member in undecided:
            return member
    named: set[str] = set()
    for cond in conditions:
        for t in tests(cond):
            if t.fact == fact:
                values = t.value if isinstance(t.value, tuple) else (t.value,)
                named |= {v for v in values if isinstance(v, str)}
    return (sorted(undecided & named) or sorted(undecided))[0]


def _find(
    partition: Partition,
    conditions: list[Condition] | Callable[[Node], list[Condition]],
    verdict: Callable[[Node], Truth],
    first: Mapping[str, tuple[str, ...]] | None = None,
    start: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """A class where ``verdict`` is True for every case (False: none below; None: split further
    on the open facts of ``conditions``; a set of countries on the members ``first`` names
    first), searched from ``start`` (default: every case)."""

    def step(node: Node) -> dict[str, Any] | Split | None:
        answer = verdict(node)
        if answer is not None:
            return node.facts if answer else None
        relevant = conditions(node) if callable(conditions) else conditions
        open_facts = _open_facts(node.facts, relevant)
        if not open_facts:
            return None
        fact = open_facts[0]
        member = _member(partition, fact, node.facts, relevant, first)
        values = partition.values(fact, node.facts, member=member, extra=tuple(relevant))
        return Split(fact, values, lambda found: found is not None)

    def join(node: Node, split: Split, found: list[dict[str, Any] | None]) -> dict[str, Any] | None:
        return next((f for f in found if f is not None), None)

    return partition.search(start or partition.start(), step, join)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- rules


def _rule_findings(program: Program) -> list[Issue]:
    findings: list[Issue] = []
    restated = {other for b in program.rules for other in b.rule.restates} | {
        b.rule.id for b in program.rules if b.rule.restates
    }
    for inst in program.instruments:
        if inst.kind == "statutory_limit":
            continue
        rules = program.governed[inst.id]
        conditions = [b.when for b in rules]
        applies = _find(
            _partition(program),
            conditions,
            functools.partial(_status_truth, program, inst.id, status="applies"),
        )
        if applies is None:
            findings.append(
                Issue(
                    "never-applies", inst.location.short, f"{inst.id}: applies to no case", program.policy.id
                )
            )
        for b in rules:
            witness = _find(_partition(program), [b.when], functools.partial(_holds, b.when))
            if witness is None:
                findings.append(
                    Issue(
                        "dead-rule",
                        b.rule.location.short,
                        f"{b.rule.id}: no case satisfies its condition",
                        program.policy.id,
                    )
                )
                continue
            if b.rule.id in restated or applies is None or b.rule.role == "destination":
                continue  # a destination rule says where, not whether: it never changes a status
            search = _partition(program)
            first = [b.when] + [
                c for c in conditions if c is not b.when
            ]  # split on the rule's own facts first
            found = _find(search, first, functools.partial(_matters, rules, b))
            if found is None:
                findings.append(
                    Issue(
                        "redundant-rule",
                        b.rule.location.short,
                        f"{b.rule.id}: never changes the status of {inst.id} (say so with 'restates' if intended)",
                        program.policy.id,
                        search.case(witness),
                    )
                )
    return findings


def _holds(cond: Condition, node: Node) -> Truth:
    return holds(cond, node.facts)


def _status_truth(program: Program, iid: str, node: Node, *, status: Status) -> Truth:
    truth = {b.key: holds(b.when, node.facts) for b in program.governed[iid]}
    found = possible_statuses(program, iid, _total(program, truth))
    return None if status in found and len(found) > 1 else status in found


def _total(program: Program, partial: Mapping[str, Truth]) -> dict[str, Truth]:
    return {b.key: partial.get(b.key, False) for b in program.rules}


def _any(values: list[Truth]) -> Truth:
    return True if True in values else None if None in values else False


def _every(values: list[Truth]) -> Truth:
    return False if False in values else None if None in values else True


def _options(value: Truth) -> tuple[bool, ...]:
    return (False, True) if value is None else (value,)


def _matters(rules: tuple[BoundRule, ...], b: BoundRule, node: Node) -> Truth:
    """Whether removing ``b`` changes the instrument's status in a class (None: open facts decide).

    A removed scope or in_force rule is a condition that always holds; a removed exclusion,
    exception or window one that never holds (with no window left, the instrument is in force).
    """
    role, facts = b.rule.role, node.facts
    if role == "destination":
        return False  # where an expulsion sends a person, not whether it reaches them
    others: dict[str, list[Truth]] = {
        r: [] for r in ("in_force", "window", "scope", "alternative", "exclusion", "exception", "destination")
    }
    for r in rules:
        if r is not b:
            others[r.rule.role].append(holds(r.when, facts))
    other_windows = bool(others["window"])
    other_alternatives = bool(others["alternative"])
    aggregates = [
        _every(others["in_force"]),
        _any(others["window"]),
        _every(others["scope"]),
        _any(others["alternative"]),
        _any(others["exclusion"]),
        _any(others["exception"]),
        holds(b.when, facts),
    ]
    results = set()
    for in_force, window, scope, alt, excl, exc, mine in itertools.product(*map(_options, aggregates)):

        def status(
            present: bool,
            in_force: bool = in_force,
            window: bool = window,
            scope: bool = scope,
            alt: bool = alt,
            excl: bool = excl,
            exc: bool = exc,
            mine: bool = mine,
        ) -> Status:
            own = mine if present else None
            windows_ok = True
            if role == "window" and own is not None:
                windows_ok = window or own
            elif other_windows:
                windows_ok = window
            reach_ok = True
            if role == "alternative" and own is not None:
                reach_ok = alt or own
            elif other_alternatives:
                reach_ok = alt
            return status_of(
                in_force and (own is not False if role == "in_force" else True) and windows_ok,
                scope and (own is not False if role == "scope" else True) and reach_ok,
                excl or (own is True and role == "exclusion"),
                exc or (own is True and role == "exception"),
            )

        results.add(status(True) != status(False))
        if len(results) > 1:
            return None
    return results.pop()


# ---------------------------------------------------------------- invariants


def _concerns(program: Program, inv: Invariant) -> bool:
    """Whether the invariant can say anything of the program (an invariant on instruments the
    policy does not have cannot)."""
    ids = {i.id for i in program.instruments}
    return not (isinstance(inv.never, tuple) and not set(inv.never[0]) & ids)


def _invariant_finding(
    program: Program, inv: Invariant, countries: tuple[str, ...] | None = None
) -> Issue | None:
    """A class of cases the program determines against the invariant, as a finding.
    ``countries``: for ``transfer_to_nationality``, the receiving countries checked (default:
    every one); the invariant holds if it holds for each country alone, and each such search
    prunes every class that cannot send the person to that country."""
    search = _partition(program)
    receiving = countries if countries is not None else _receiving(program)
    if inv.never == "expel_to_fear_country":  # the countries the destination rules name
        receiving = tuple(
            sorted({c for b in program.rules if b.rule.role == "destination" for c in b.rule.to or ()})
        )

    def relevant(node: Node) -> list[Condition]:
        facts = node.facts
        truth, statuses = _node(program, node)
        open_instruments = {i for i, s in statuses.items() if len(s) > 1}
        found = [inv.when] if inv.when is not None and holds(inv.when, facts) is None else []
        if inv.never == "transfer_to_nationality":  # settle who is a national of where first
            found += [Test("nationalities", "contains", c, HERE) for c in receiving]
        if inv.never == "expel_to_fear_country":  # settle the fear of each country it may expel to first
            found += [Test("fear_established_in", "contains", c, HERE) for c in receiving]
        found += [b.when for b in program.rules if truth[b.key] is None and b.governs in open_instruments]
        return found

    try:
        first: dict[str, tuple[str, ...]] | None = None
        # the members the invariant itself names are members to split on even where no rule of the
        # policy names them: the countries of its `when`, and for the nationality invariant the
        # receiving countries (a policy without INA 208(a)(2)(A)'s limits)
        members: dict[str, set[str]] = {}
        for t in tests(inv.when) if inv.when is not None else ():
            if CATALOGUE[t.fact].type == "countries":  # a set, split one member at a time
                values = t.value if isinstance(t.value, tuple) else (t.value,)
                members.setdefault(t.fact, set()).update(v for v in values if isinstance(v, str))
        if inv.never == "transfer_to_nationality":
            # a class whose nationalities leave out the receiving countries has nothing to find
            first = {"nationalities": receiving}
            members.setdefault("nationalities", set()).update(receiving)
        if inv.never == "expel_to_fear_country":  # the fear of each country a rule expels to
            members.setdefault("fear_established_in", set()).update(receiving)
        start = search.start()
        for fact, named in members.items():
            known = named | {c for c in program.constants.get(fact, ()) if isinstance(c, str)}
            start[fact] = PartialSet(
                frozenset(), frozenset(), frozenset(known | set(other_member(fact, frozenset(known))))
            )
        found = _find(search, relevant, functools.partial(_violates, program, inv, receiving), first, start)
    except SearchTooLarge:
        return Issue(
            "invariant",
            inv.location.short,
            f"{inv.id}: not settled within {NODE_BUDGET} classes",
            program.policy.id,
        )
    if found is None:
        return None
    return Issue(
        "invariant",
        inv.location.short,
        f"{inv.id}: violated ({inv.title})",
        program.policy.id,
        search.case(found),
    )


def _violates(program: Program, inv: Invariant, receiving: tuple[str, ...], node: Node) -> Truth:
    facts = node.facts
    when = True if inv.when is None else holds(inv.when, facts)
    if when is False:
        return False
    truth, statuses = _node(program, node)
    if not _violation_possible(program, inv, facts, truth, statuses, receiving):
        return False
    if when is True and not isinstance(inv.never, tuple):
        # every headline the class may get violates the invariant, or none does: settled here,
        # whatever the instruments screened after the one that decides are
        heads = possible_headlines(program, statuses, truth, facts)
        verdicts = {_head_violates(inv, facts, head, receiving) for head in heads}
        if len(verdicts) == 1 and None not in verdicts:
            return verdicts.pop()
    if when is None or any(len(s) > 1 for s in statuses.values()):
        return None
    decision = decide(program, {i: next(iter(s)) for i, s in statuses.items()}, truth, facts)
    if _violated(inv, facts, decision.headline, decision.statuses, receiving):
        return True
    nat = facts["nationalities"]
    undecided = inv.never == "transfer_to_nationality" and (
        nat is UNKNOWN or (isinstance(nat, PartialSet) and any(c in nat.undecided for c in receiving))
    )
    return None if undecided else False


def _head_violates(inv: Invariant, facts: Mapping[str, Any], head: Any, receiving: tuple[str, ...]) -> Truth:
    """Whether every case of the class with this headline violates the invariant (None: the
    class's facts do not settle it). For the invariants on headlines (not on statuses)."""
    if inv.never == "transfer":
        return bool(head.outcome == "transfer")
    if inv.never == "expel":
        return bool(head.outcome == "expel")
    if inv.never == "asylum_barred":
        return None if head.asylum == "undetermined" else bool(head.asylum == "barred")
    if inv.never == "wait_in_mexico":
        if head.outcome != "process_in_us":
            return False
        return None if head.wait_in_mexico == "undetermined" else bool(head.wait_in_mexico)
    if inv.never == "expel_to_fear_country":
        # Countries of expulsion left open (OPEN) are either named by a destination rule
        # (``receiving`` here), and known once the fear of each is known: the search splits on
        # that first; or read from the person's nationality, less every country of fear
        # (``destination_countries``, whose own test is in tests/test_verify.py): never one.
        fact = "fear_established_in"
        if head.outcome != "expel":
            return False
        fear = facts[fact]
        if OPEN in head.expel_to and (
            fear is UNKNOWN or (isinstance(fear, PartialSet) and any(c in fear.undecided for c in receiving))
        ):
            return None
        countries = tuple(c for c in head.expel_to if c != OPEN)
    else:  # transfer_to_nationality
        fact = "nationalities"
        countries = tuple(c for c in head.transfer_to if c in receiving) if head.outcome == "transfer" else ()
    if not countries:
        return False
    if OPEN in countries:
        return None
    value = facts[fact]
    if isinstance(value, frozenset):
        return bool(value & set(countries))
    if isinstance(value, PartialSet):
        if value.included & set(countries):
            return True
        if all(c in value.excluded for c in countries):
            return False
    return None


def _violation_possible(
    program: Program,
    inv: Invariant,
    facts: Mapping[str, Any],
    truth: Mapping[str, Truth],
    statuses: Mapping[str, frozenset[Status]],
    receiving: tuple[str, ...],
) -> bool:
    if isinstance(inv.never, tuple):
        named, forbidden = inv.never
        reported = {
            "not_applicable" if s == "excluded" else s for iid in named for s in statuses.get(iid, ())
        }
        return bool(reported & forbidden)
    for head in possible_headlines(program, statuses, truth, facts):
        if inv.never == "transfer" and head.outcome == "transfer":
            return True
        if inv.never == "expel" and head.outcome == "expel":
            return True
        if inv.never == "expel_to_fear_country" and head.outcome == "expel":
            fear = facts["fear_established_in"]
            if OPEN in head.expel_to or fear is UNKNOWN:
                return True
            if isinstance(fear, PartialSet):  # a country the fear may yet include
                if any(
                    c not in fear.excluded and (c in fear.universe or c in fear.included)
                    for c in head.expel_to
                ):
                    return True
            elif set(head.expel_to) & fear:
                return True
        if inv.never == "asylum_barred" and head.asylum == "barred":
            return True
        if inv.never == "wait_in_mexico" and head.outcome == "process_in_us" and head.wait_in_mexico:
            return True
        if inv.never == "transfer_to_nationality" and head.outcome == "transfer":
            nat = facts["nationalities"]
            for country in head.transfer_to:
                if country in receiving and (
                    nat is UNKNOWN
                    or (isinstance(nat, PartialSet) and country not in nat.excluded)
                    or (isinstance(nat, frozenset) and country in nat)
                ):
                    return True
    return False


def _violated(
    inv: Invariant,
    facts: Mapping[str, Any],
    head: Any,
    statuses: Mapping[str, Status],
    receiving: tuple[str, ...],
) -> bool:
    if isinstance(inv.never, tuple):
        found = [statuses[iid] for iid in inv.never[0] if iid in statuses]
        return any(("not_applicable" if s == "excluded" else s) in inv.never[1] for s in found)
    if inv.never == "transfer":
        return bool(head.outcome == "transfer")
    if inv.never == "expel":
        return bool(head.outcome == "expel")
    if inv.never == "expel_to_fear_country":
        fear = facts["fear_established_in"]
        members = (
            fear.included if isinstance(fear, PartialSet) else fear if isinstance(fear, frozenset) else ()
        )
        return head.outcome == "expel" and bool(set(head.expel_to) & set(members))
    if inv.never == "asylum_barred":
        return bool(head.asylum == "barred")
    if inv.never == "wait_in_mexico":
        return bool(head.outcome == "process_in_us" and head.wait_in_mexico)
    nat = facts["nationalities"]
    members = nat.included if isinstance(nat, PartialSet) else nat
    return head.outcome == "transfer" and bool(set(head.transfer_to) & set(members or ()) & set(receiving))


def _receiving(program: Program) -> tuple[str, ...]:
    return tuple(sorted({i.receiving_country for i in program.instruments if i.receiving_country}))


__all__ = ["Issue", "verify"]
