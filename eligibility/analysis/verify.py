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

from eligibility.analysis.settle import evaluate_node
from eligibility.analysis.witness import example_case
from eligibility.engine.decide import (
    OPEN,
    Status,
    decide,
    possible_headlines,
    possible_statuses,
    status_of,
)
from eligibility.engine.program import (
    BoundRule,
    Program,
    classes,
    compile_policy,
    country_pool,
    representatives,
)
from eligibility.errors import SearchTooLarge
from eligibility.ruleset.conditions import All, Any_, Condition, Not, PartialSet, Test, Truth, holds, tests
from eligibility.ruleset.facts import CATALOGUE, UNKNOWN
from eligibility.ruleset.load import Invariant, RuleSet
from eligibility.yamlsource import Location

FLOOR = dt.date(2000, 1, 1)
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
    """Every finding for the named policies (default: all), static checks first."""
    findings = _window_findings(ruleset)
    names = policies or sorted(ruleset.policies)
    seen: set[tuple[str, str]] = set()
    for name in names:
        program = compile_policy(ruleset, name)
        for finding in [*_rule_findings(program), *_invariant_findings(program)]:
            key = (finding.kind, finding.message)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    return findings


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
            bound = {
                "ge": (item.value, None),
                "gt": (item.value + day, None),
                "lt": (None, item.value),
                "le": (None, item.value + day),
                "eq": (item.value, item.value + day),
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


class _Search:
    """Depth-first search over classes of facts, pruned by three-valued evaluation."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.nodes = 0

    def start(self) -> dict[str, Any]:
        return {name: UNKNOWN for name in CATALOGUE}

    def children(
        self, facts: dict[str, Any], fact: str, prefer: frozenset[str], extra: tuple[Condition, ...] = ()
    ) -> list[dict[str, Any]]:
        self.nodes += 1
        if self.nodes > NODE_BUDGET:
            raise SearchTooLarge(f"more than {NODE_BUDGET} classes")
        spec = CATALOGUE[fact]
        current = facts[fact]
        entry = facts["entry.date"] if facts["entry.date"] is not UNKNOWN else FLOOR
        if spec.type != "countries":
            values = classes(self.program, fact, FLOOR if fact == "entry.date" else entry, extra=extra)
            if spec.type == "bool":
                values = (False, True)
            return [_child(facts, fact, v) for v in values]
        if current is UNKNOWN:
            universe = country_pool(self.program, fact)
            current = PartialSet(frozenset(), frozenset(), universe)
        pool = sorted(current.undecided & prefer) or sorted(current.undecided)
        member = pool[0]
        return [
            _child(facts, fact, current.with_member(member, True)),
            _child(facts, fact, current.with_member(member, False)),
        ]

    def open_facts(self, facts: Mapping[str, Any], conditions: list[Condition]) -> list[str]:
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

    def concrete(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """One case of the class: every open fact takes its first class value."""
        done = dict(facts)
        if done["entry.date"] is UNKNOWN:
            decision = done["decision_date"]
            done["entry.date"] = decision if decision is not UNKNOWN else FLOOR
        for name in self.program.facts_used | set(CATALOGUE):
            value = done[name]
            if isinstance(value, PartialSet):
                done[name] = value.included
            elif value is UNKNOWN and name in self.program.facts_used:
                done[name] = representatives(self.program, name, done["entry.date"])[0]
        if done["decision_date"] is not UNKNOWN and done["decision_date"] < done["entry.date"]:
            done["entry.date"] = done["decision_date"]
        return done


_Node = tuple[Mapping[str, Any], Program, dict[str, Truth], dict[str, frozenset[Status]]]
_NODES: dict[int, _Node] = {}  # id(facts) -> the facts, the program, truths and statuses there
_PARENTS: dict[int, tuple[Mapping[str, Any], Mapping[str, Any], str]] = {}  # id(child) -> child, parent, fact
_KEEP = 50_000


def _child(facts: dict[str, Any], fact: str, value: Any) -> dict[str, Any]:
    child = {**facts, fact: value}
    if len(_PARENTS) > _KEEP:
        _PARENTS.clear()
    _PARENTS[id(child)] = (child, facts, fact)
    return child


def _node(
    program: Program, facts: Mapping[str, Any]
) -> tuple[dict[str, Truth], dict[str, frozenset[Status]]]:
    """Truths of the rules and possible statuses on ``facts``: remembered for the last nodes of
    the search, and from the parent node only the rules testing the fact split are evaluated."""
    hit = _NODES.get(id(facts))
    if hit is not None and hit[0] is facts and hit[1] is program:
        return hit[2], hit[3]
    link = _PARENTS.get(id(facts))
    parent = _NODES.get(id(link[1])) if link is not None and link[0] is facts else None
    if link is not None and parent is not None and parent[0] is link[1] and parent[1] is program:
        truth, statuses = evaluate_node(program, facts, (link[2], parent[2], parent[3]))
    else:
        truth, statuses = evaluate_node(program, facts)
    if len(_NODES) > _KEEP:
        _NODES.clear()
    _NODES[id(facts)] = (facts, program, truth, statuses)
    return truth, statuses


def _prefer(conditions: list[Condition], fact: str) -> frozenset[str]:
    named: set[str] = set()
    for cond in conditions:
        for t in tests(cond):
            if t.fact == fact:
                values = t.value if isinstance(t.value, tuple) else (t.value,)
                named |= {v for v in values if isinstance(v, str)}
    return frozenset(named)


def _find(
    search: _Search,
    facts: dict[str, Any],
    conditions: list[Condition] | Callable[[dict[str, Any]], list[Condition]],
    verdict: Callable[[dict[str, Any]], Truth],
) -> dict[str, Any] | None:
    """A class where ``verdict`` is True for every case (False: none below; None: split further
    on the open facts of ``conditions``)."""
    answer = verdict(facts)
    if answer is not None:
        return facts if answer else None
    relevant = conditions(facts) if callable(conditions) else conditions
    open_facts = search.open_facts(facts, relevant)
    if not open_facts:
        return None
    fact = open_facts[0]
    for child in search.children(facts, fact, _prefer(relevant, fact), tuple(relevant)):
        found = _find(search, child, conditions, verdict)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------- rules


def _rule_findings(program: Program) -> list[Issue]:
    findings: list[Issue] = []
    restated = {other for b in program.rules for other in b.rule.restates} | {
        b.rule.id for b in program.rules if b.rule.restates
    }
    ctx = program.ruleset.context
    for inst in program.instruments:
        if inst.kind == "statutory_limit":
            continue
        rules = program.governed[inst.id]
        conditions = [b.when for b in rules]
        search = _Search(program)
        applies = _find(
            search,
            search.start(),
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
            search = _Search(program)
            witness = _find(search, search.start(), [b.when], functools.partial(holds, b.when))
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
            search = _Search(program)
            first = [b.when] + [
                c for c in conditions if c is not b.when
            ]  # split on the rule's own facts first
            found = _find(search, search.start(), first, functools.partial(_matters, rules, b))
            if found is None:
                findings.append(
                    Issue(
                        "redundant-rule",
                        b.rule.location.short,
                        f"{b.rule.id}: never changes the status of {inst.id} (say so with 'restates' if intended)",
                        program.policy.id,
                        example_case(search.concrete(witness), ctx),
                    )
                )
    return findings


def _status_truth(program: Program, iid: str, facts: Mapping[str, Any], *, status: Status) -> Truth:
    truth = {b.key: holds(b.when, facts) for b in program.governed[iid]}
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


def _matters(rules: tuple[BoundRule, ...], b: BoundRule, facts: Mapping[str, Any]) -> Truth:
    """Whether removing ``b`` changes the instrument's status here (None: open facts decide).

    A removed scope or in_force rule is a condition that always holds; a removed exclusion,
    exception or window one that never holds (with no window left, the instrument is in force).
    """
    role = b.rule.role
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


def _invariant_findings(program: Program) -> list[Issue]:
    findings = []
    ids = {i.id for i in program.instruments}
    for inv in program.ruleset.invariants:
        if isinstance(inv.never, tuple) and not set(inv.never[0]) & ids:
            continue
        search = _Search(program)

        def relevant(facts: dict[str, Any], inv: Invariant = inv) -> list[Condition]:
            truth, statuses = _node(program, facts)
            open_instruments = {i for i, s in statuses.items() if len(s) > 1}
            found = [inv.when] if inv.when is not None and holds(inv.when, facts) is None else []
            if inv.never == "transfer_to_nationality":  # settle who is a national of where first
                found += [Test("nationalities", "contains", c, HERE) for c in _receiving(program)]
            found += [b.when for b in program.rules if truth[b.key] is None and b.governs in open_instruments]
            return found

        try:
            found = _find(search, search.start(), relevant, functools.partial(_violates, program, inv))
        except SearchTooLarge:
            findings.append(
                Issue(
                    "invariant",
                    inv.location.short,
                    f"{inv.id}: not settled within {NODE_BUDGET} classes",
                    program.policy.id,
                )
            )
            continue
        if found is not None:
            case = example_case(search.concrete(found), program.ruleset.context)
            findings.append(
                Issue(
                    "invariant",
                    inv.location.short,
                    f"{inv.id}: violated ({inv.title})",
                    program.policy.id,
                    case,
                )
            )
    return findings


def _violates(program: Program, inv: Invariant, facts: Mapping[str, Any]) -> Truth:
    when = True if inv.when is None else holds(inv.when, facts)
    if when is False:
        return False
    truth, statuses = _node(program, facts)
    if not _violation_possible(program, inv, facts, statuses):
        return False
    if when is None or any(len(s) > 1 for s in statuses.values()):
        return None
    decision = decide(program, {i: next(iter(s)) for i, s in statuses.items()}, truth, facts)
    if _violated(inv, facts, decision.headline, decision.statuses):
        return True
    nat = facts["nationalities"]
    undecided = inv.never == "transfer_to_nationality" and (
        nat is UNKNOWN or (isinstance(nat, PartialSet) and nat.undecided)
    )
    return None if undecided else False


def _violation_possible(
    program: Program, inv: Invariant, facts: Mapping[str, Any], statuses: Mapping[str, frozenset[Status]]
) -> bool:
    if isinstance(inv.never, tuple):
        named, forbidden = inv.never
        reported = {
            "not_applicable" if s == "excluded" else s for iid in named for s in statuses.get(iid, ())
        }
        return bool(reported & forbidden)
    truth, _ = _node(program, facts)
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
                if (
                    nat is UNKNOWN
                    or (isinstance(nat, PartialSet) and country not in nat.excluded)
                    or (isinstance(nat, frozenset) and country in nat)
                ):
                    return True
    return False


def _violated(inv: Invariant, facts: Mapping[str, Any], head: Any, statuses: Mapping[str, Status]) -> bool:
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
    return head.outcome == "transfer" and bool(set(head.transfer_to) & set(members or ()))


def _receiving(program: Program) -> tuple[str, ...]:
    return tuple(sorted({i.receiving_country for i in program.instruments if i.receiving_country}))


__all__ = ["Issue", "verify"]
