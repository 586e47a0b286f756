"""What would change the answer: the smallest changes of facts that give another determination.

Computed from the rules, never written by hand. Every fact the policy tests takes, one at a time,
a value from each of its classes (a day before or after each date the rules name, each country
they name, each document...); a change is kept when it settles a different outcome, asylum or
wait in Mexico. Facts that rules test together (age and unaccompanied, for instance) are also
changed in pairs, kept only when neither change alone does the same. Dates and ages keep the
nearest value on each side. The rules whose truth the change flips are named with their sources.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eligibility.analysis.partition import representatives
from eligibility.analysis.settle import Settlement, part_of
from eligibility.case import entry_conflict
from eligibility.engine.decide import Headline, Status, decide, is_open, possible_headlines, possible_statuses
from eligibility.engine.program import BoundRule, Program
from eligibility.ruleset.conditions import Test, Truth, holds, holds_for, show
from eligibility.ruleset.facts import CATALOGUE, UNKNOWN

MAX_PAIR_EVALUATIONS = 600


@dataclass(frozen=True)
class Change:
    """One counterfactual: these fact values would give this headline, because of these rules."""

    changes: tuple[tuple[str, Any], ...]  # (fact, new value)
    headline: Headline
    rules: tuple[str, ...]
    alternatives: tuple[Any, ...] = ()  # other values of a single changed fact with the same result


Result = tuple[Hashable, ...]  # (outcome and transfer_to, asylum, wait in Mexico)


MOVING = ("decision_date",)
"""The fact a change of others may move (the decision date, when assumed, follows the entry date)."""

DESTINATION_FACTS = ("nationalities", "habitual_residence", "fear_established_in")
"""The facts an expulsion's countries are read from, besides the rules' truths."""


def headline_of(
    program: Program,
    facts: Mapping[str, Any],
    base: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
    memo: dict[Hashable, Any] | None = None,
    changed: Iterable[str] | None = None,
) -> Result | None:
    """The settled (outcome, asylum, wait) of facts, or None when unknown facts leave any open.

    ``base`` is (facts, truth) of a nearby case: only the rules that test a fact that differs from
    it are evaluated again. ``memo`` keeps the result per set of rules whose truth differs from the
    base's (the result depends on nothing else but the countries an expulsion reads). ``changed``
    names the facts that may differ from the base's (every other one is the base's own value);
    without it every fact is compared.
    """
    if base is None:
        truth = {b.key: holds(b.when, facts) for b in program.rules}
        statuses = {i.id: possible_statuses(program, i.id, truth) for i in program.instruments}
    else:
        before, truth_before = base
        memo = {} if memo is None else memo
        moved: set[str] = set()
        flipped: list[tuple[str, Truth]] = []
        names = frozenset(
            name for name in (facts if changed is None else changed) if facts[name] is not before[name]
        )
        # A rule's truth depends on the facts it tests alone, the unchanged ones being the base's:
        # the rules that flip for one changed fact's value are kept, and so is the truth of a rule
        # testing several changed facts, for their values.
        for name in names:
            cached = ("flips", name, facts[name])
            if cached not in memo:  # the rules that flip when this fact alone takes this value
                memo[cached] = _flips(program, name, facts[name], before, truth_before, memo)
            for b, tested, value_now in memo[cached]:
                if len(tested & names) == 1:  # the others are evaluated with every changed fact
                    flipped.append((b.key, value_now))
                    moved.add(b.governs)
                    if b.via is not None:
                        moved.add(b.via)
        if len(names) > 1:
            together = ("together", names)
            if together not in memo:
                memo[together] = list(
                    {
                        b.key: (b, tuple(sorted(tested & names)))
                        for name in names
                        for b, tested, _ in _testing(program, name)
                        if len(tested & names) > 1
                    }.values()
                )
            for b, tested_names in memo[together]:
                cached = ("rule", b.key, tested_names, *(facts[n] for n in tested_names))
                if cached not in memo:
                    memo[cached] = holds(b.when, facts)
                value_now = memo[cached]
                if value_now is not truth_before[b.key]:
                    flipped.append((b.key, value_now))
                    moved.add(b.governs)
                    if b.via is not None:
                        moved.add(b.via)
        key = (frozenset(flipped), *(facts[f] for f in DESTINATION_FACTS))
        if key in memo:
            return memo[key]  # type: ignore[no-any-return]
        truth = dict(truth_before)
        truth.update(flipped)
        statuses = dict(_base_statuses(program, before, truth_before))
        for iid in moved:  # only the instruments whose rules changed truth are computed again
            statuses[iid] = possible_statuses(program, iid, truth)
        memo[key] = result = _settled(program, statuses, truth, facts)
        return result
    return _settled(program, statuses, truth, facts)


Testing = tuple[tuple[BoundRule, frozenset[str], tuple[int, ...]], ...]
"""The rules testing a fact, each with every fact it tests and the places of its tests of this
fact among the fact's distinct tests."""

_TESTING: dict[int, tuple[Program, dict[str, tuple[Testing, tuple[Test, ...]]]]] = {}


def _testing(program: Program, name: str) -> Testing:
    """The rules testing a fact, each with every fact it tests (computed once per program)."""
    return _tests_of(program, name)[0]


def _tests_of(program: Program, name: str) -> tuple[Testing, tuple[Test, ...]]:
    """The rules testing a fact (see ``Testing``) and the fact's distinct tests: many rules make
    the same test (age under 18, the same date), which is then made once per value."""
    held = _TESTING.get(id(program))
    if held is None or held[0] is not program:
        held = _TESTING[id(program)] = (program, {})
    found = held[1].get(name)
    if found is None:
        distinct: dict[Hashable, int] = {}
        unique: list[Test] = []
        rules = []
        for b in program.rules_testing(name):
            places = []
            for t in b.checks:
                if t.fact != name:
                    continue
                try:  # by type too: 1 == True, yet a test of 1 is not a test of True
                    key: Hashable = (t.op, type(t.value), t.value)
                    hash(key)
                except TypeError:
                    key = ("test", id(t))
                if key not in distinct:
                    distinct[key] = len(unique)
                    unique.append(t)
                places.append(distinct[key])
            rules.append((b, frozenset(t.fact for t in b.checks), tuple(places)))
        found = held[1][name] = (tuple(rules), tuple(unique))
    return found


def _flips(
    program: Program,
    name: str,
    value: Any,
    before: Mapping[str, Any],
    truth_before: Mapping[str, Truth],
    memo: dict[Hashable, Any],
) -> list[tuple[BoundRule, frozenset[str], Truth]]:
    """The rules whose truth flips when fact ``name`` alone takes ``value`` (the others being
    ``before``'s), each with every fact it tests and its new truth."""
    rules, unique = _tests_of(program, name)
    was = memo.get(("tests", name))
    if was is None:  # the fact's tests on the base's value, once per base
        was = memo[("tests", name)] = [holds_for(t, before[name]) for t in unique]
    moved = [holds_for(t, value) is not w for t, w in zip(unique, was, strict=True)]
    alone: dict[str, Any] | None = None
    found = []
    for b, tested, places in rules:
        # a rule none of whose tests of this fact changes keeps its truth
        if not any(moved[i] for i in places):
            continue
        if alone is None:
            alone = {**before, name: value}
        value_now = holds(b.when, alone)
        if value_now is not truth_before[b.key]:
            found.append((b, tested, value_now))
    return found


def _settled(
    program: Program,
    statuses: Mapping[str, frozenset[Status]],
    truth: Mapping[str, Truth],
    facts: Mapping[str, Any],
) -> Result | None:
    heads = possible_headlines(program, statuses, truth, facts)
    if len(heads) == 1:
        if all(len(s) == 1 for s in statuses.values()):
            head = decide(program, {i: next(iter(s)) for i, s in statuses.items()}, truth, facts).headline
        else:
            head = next(iter(heads))
        return None if is_open(head) else _key(head)
    return None  # left open by unknown facts: not a settled change (kept cheap: no search here)


_STATUS_MEMO: dict[int, tuple[Mapping[str, Any], dict[str, frozenset[Status]]]] = {}


def _base_statuses(
    program: Program, facts: Mapping[str, Any], truth: Mapping[str, Truth]
) -> dict[str, frozenset[Status]]:
    """The statuses of a base case, computed once per base (keyed by its truth mapping)."""
    found = _STATUS_MEMO.get(id(truth))
    if found is None or found[0] is not truth:
        _STATUS_MEMO.clear()
        found = _STATUS_MEMO[id(truth)] = (
            truth,
            {i.id: possible_statuses(program, i.id, truth) for i in program.instruments},
        )
    return found[1]


def _key(head: Headline) -> Result:
    return (part_of(head, "outcome"), part_of(head, "asylum"), part_of(head, "wait_in_mexico"))


def _alternatives(
    program: Program, fact: str, current: Any, entry_date: dt.date, moves_decision: bool = False
) -> list[Any]:
    spec = CATALOGUE[fact]
    if spec.type == "countries":
        named = sorted(str(c) for c in program.constants.get(fact, ()) if isinstance(c, str))
        return [current | {c} for c in named if c not in current] + [
            current - {c} for c in named if c in current
        ]
    if fact == "entry.date":
        floor = dt.date(2000, 1, 1)
        values = set(representatives(program, fact, floor))
        if moves_decision:  # the decision date moves with it, so its cuts count too
            values |= set(representatives(program, "decision_date", floor))
        return sorted(v for v in values if v != current)
    return [v for v in representatives(program, fact, entry_date) if v != current]


def _distance(before: Any, after: Any) -> float:
    if isinstance(before, dt.date):
        return float(abs((after - before).days))
    if isinstance(before, int) and not isinstance(before, bool):
        return float(abs(after - before))
    return 0.0


def counterfactuals(
    program: Program, facts: Mapping[str, Any], assumed: Mapping[str, Any], settlement: Settlement
) -> list[Change]:
    """The smallest changes of known facts that settle a different headline."""
    if not settlement.exact or len(settlement.regions) > 64:
        return []
    base = tuple(settlement.settled(part) for part in ("outcome", "asylum", "wait_in_mexico"))
    entry_date: dt.date = facts["entry.date"]
    order = [f for f in CATALOGUE if f in program.facts_used and facts[f] is not UNKNOWN]

    def changed(updates: dict[str, Any]) -> dict[str, Any] | None:
        new = {**facts, **updates}
        if "entry.date" in updates and "decision_date" in assumed and "decision_date" not in updates:
            new["decision_date"] = updates["entry.date"]  # the decision date follows the entry date
        if new["decision_date"] is not UNKNOWN and new["decision_date"] < new["entry.date"]:
            return None
        if entry_conflict(
            new["entry.border"], new["entry.place"], new["entry.state"], new["entry.appointment"]
        ):
            return None  # a change to facts that cannot all be true (a state off the border...)
        return new

    base_truth = (facts, {b.key: holds(b.when, facts) for b in program.rules})
    memo: dict[Hashable, Any] = {}
    singles: dict[tuple[str, Any], Result] = {}
    found: list[Change] = []
    moves = "decision_date" in assumed
    for fact in order:
        changing: list[tuple[Any, Result]] = []
        for value in _alternatives(program, fact, facts[fact], entry_date, moves):
            new = changed({fact: value})
            result = None if new is None else headline_of(program, new, base_truth, memo, (fact, *MOVING))
            if result is not None:
                singles[(fact, value)] = result
                if result != base:
                    changing.append((value, result))
        for values, result in _grouped(facts[fact], changing):
            found.append(
                _change(
                    program,
                    facts,
                    changed({fact: values[0]}) or {},
                    ((fact, values[0]),),
                    result,
                    values,
                    base_truth[1],
                )
            )
    found += _pairs(program, facts, order, base, singles, changed, entry_date, base_truth, memo)
    return found


def _grouped(current: Any, changing: list[tuple[Any, Result]]) -> list[tuple[list[Any], Result]]:
    """Per new result: for ordered facts the nearest value on each side, otherwise every value."""
    groups: dict[Result, list[Any]] = {}
    for value, result in changing:
        groups.setdefault(result, []).append(value)
    if not isinstance(current, (int, dt.date)) or isinstance(current, bool):
        return [(values, result) for result, values in groups.items()]
    picked: list[tuple[list[Any], Result]] = []
    for result, values in groups.items():
        below = [v for v in values if v < current]
        above = [v for v in values if v > current]
        picked += [([max(below)], result)] if below else []
        picked += [([min(above)], result)] if above else []
    return sorted(picked, key=lambda p: abs(_distance(current, p[0][0])))


def _pairs(
    program: Program,
    facts: Mapping[str, Any],
    order: list[str],
    base: tuple[Hashable, ...],
    singles: Mapping[tuple[str, Any], tuple[Hashable, ...]],
    changed: Any,
    entry_date: dt.date,
    base_truth: tuple[Mapping[str, Any], Mapping[str, Any]],
    memo: dict[Hashable, Any],
) -> list[Change]:
    together: set[tuple[str, str]] = set()
    for b in program.rules:
        names = sorted({t.fact for t in b.checks} & set(program.facts_used))
        together |= {(a, c) for a, c in itertools.combinations(names, 2)}
    unknown_partners = [
        f
        for f in CATALOGUE
        if f in program.facts_used and facts[f] is UNKNOWN and CATALOGUE[f].type != "countries"
    ]
    budget = MAX_PAIR_EVALUATIONS
    best: dict[tuple[Hashable, ...], tuple[float, tuple[Mapping[str, Any], Any, Result]]] = {}
    for a, c in sorted(together):
        if budget < 0:
            break
        if a not in order or (c not in order and c not in unknown_partners):
            continue
        for va in _alternatives(program, a, facts[a], entry_date):
            if budget < 0:
                break
            for vc in (
                _alternatives(program, c, facts[c], entry_date)
                if c in order
                else representatives(program, c, entry_date)
            ):
                budget -= 1
                if budget < 0:
                    break
                new = changed({a: va, c: vc})
                result = None if new is None else headline_of(program, new, base_truth, memo, (a, c, *MOVING))
                if result is None or result == base:
                    continue
                if singles.get((a, va)) == result or singles.get((c, vc)) == result:
                    continue  # not minimal: one change alone does it
                key = (a, c, result)
                distance = _distance(facts[a], va) + (
                    _distance(facts[c], vc) if facts[c] is not UNKNOWN else 0
                )
                if key not in best or distance < best[key][0]:
                    best[key] = (distance, (new or {}, ((a, va), (c, vc)), result))
    return [
        _change(program, facts, after, changes, result, truth_before=base_truth[1])
        for _, (after, changes, result) in best.values()
    ]


def _change(
    program: Program,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    changes: tuple[tuple[str, Any], ...],
    result: Result,
    alternatives: list[Any] | None = None,
    truth_before: Mapping[str, Truth] | None = None,
) -> Change:
    if truth_before is None:
        truth_before = {b.key: holds(b.when, before) for b in program.rules}
    truth_after = dict(truth_before)
    for name in {name for name, _ in changes} | {n for n in after if after[n] is not before[n]}:
        for b in program.rules_testing(name):
            truth_after[b.key] = holds(b.when, after)
    touched = {
        i for b in program.rules if truth_before[b.key] != truth_after[b.key] for i in (b.governs, b.via) if i
    }
    moved = {
        iid
        for iid in touched
        if possible_statuses(program, iid, truth_before) != possible_statuses(program, iid, truth_after)
    }
    # an instrument set aside before and after (an asylum bar or waiting abroad for a person
    # expelled or transferred either way, an agreement for a person expelled either way) did not
    # move, whatever its own rules say
    if moved:
        final = (_final_before(program, truth_before, before), _final(program, truth_after, after))
        moved = {iid for iid in moved if final[0][iid] != final[1][iid]}
    flipped: list[str] = []
    for b in program.rules:  # rules whose truth the change flips, in instruments whose status it moves
        flips = truth_before[b.key] != truth_after[b.key] and (
            b.governs in moved or b.via in moved or b.rule.role == "destination"
        )
        if flips and b.rule.id not in flipped:
            flipped.append(b.rule.id)
    outcome, transfer_to, expel_to = result[0] if isinstance(result[0], tuple) else ("undetermined", (), ())
    head = Headline(outcome, tuple(transfer_to), result[1], bool(result[2]), tuple(expel_to))  # type: ignore[arg-type]
    return Change(changes, head, tuple(flipped), tuple(alternatives or ()))


_FINAL_MEMO: list[tuple[Program, Mapping[str, Truth], Mapping[str, Any], dict[str, Hashable]]] = []


def _final_before(
    program: Program, truth: Mapping[str, Truth], facts: Mapping[str, Any]
) -> dict[str, Hashable]:
    """``_final`` of the case itself, computed once for all its changes (kept for the last case)."""
    for held in _FINAL_MEMO:
        if held[0] is program and held[1] is truth and held[2] is facts:
            return held[3]
    found = _final(program, truth, facts)
    _FINAL_MEMO[:] = [(program, truth, facts, found)]
    return found


def _final(program: Program, truth: Mapping[str, Truth], facts: Mapping[str, Any]) -> dict[str, Hashable]:
    """Each instrument's possible statuses, or 'set aside' where the outcome makes it moot: an
    asylum bar or a wait-abroad instrument when the person is certainly expelled or transferred
    (no claim is heard in the U.S.), an agreement when the person is certainly expelled."""
    statuses = {i.id: possible_statuses(program, i.id, truth) for i in program.instruments}
    outcomes = {h.outcome for h in possible_headlines(program, statuses, truth, facts)}
    found: dict[str, Hashable] = {}
    for inst in program.instruments:
        aside = (inst.kind in ("wait_abroad", "asylum_bar") and outcomes <= {"expel", "transfer"}) or (
            inst.kind in ("transfer_agreement", "statutory_limit") and outcomes == {"expel"}
        )
        found[inst.id] = "set aside" if aside else statuses[inst.id]
    return found


def describe_change(fact: str, value: Any, entry_date: dt.date, before: Any = None) -> tuple[str, Any, str]:
    """The case field a change is about, its new value as JSON, and the change in words."""
    if fact == "age_at_entry":
        return "age", value, f"age {value}"
    if fact == "days_from_entry_to_claim":
        claim = (entry_date + dt.timedelta(days=value)).isoformat()
        return "claim_date", claim, f"claim made on {claim} ({value} days after entry)"
    if fact == "transit.through_third_country":
        return "transit", value, "transit through a third country" if value else "no third country in transit"
    if fact == "transit.denied_final":
        return (
            "transit",
            value,
            "a final denial of protection in a transit country" if value else "no final denial in transit",
        )
    if fact == "transit.only_non_party_third_countries":
        return (
            "transit",
            value,
            "only third countries party to none of the refugee and torture treaties"
            if value
            else "a third country party to a refugee or torture treaty",
        )
    if fact == "family_in_us.qualifying":
        return (
            "family_in_us",
            value,
            "a family member in the U.S. with qualifying status"
            if value
            else "no family member in the U.S. with qualifying status",
        )
    if isinstance(value, frozenset):
        if isinstance(before, frozenset):
            added, removed = sorted(value - before), sorted(before - value)
            words = "; ".join(
                [*(f"{fact} also {c}" for c in added), *(f"{fact} without {c}" for c in removed)]
            )
            return fact, sorted(value), words or f"{fact} {show(value)}"
        return fact, sorted(value), f"{fact} {show(value)}"
    if isinstance(value, dt.date):
        return fact, value.isoformat(), f"{fact} {value.isoformat()}"
    return fact, value, f"{fact} {show(value)}"
