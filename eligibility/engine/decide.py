"""From the rules that hold to each instrument's status, and from statuses to the outcome.

Status of an instrument, from its rules (the order is the precedence, written here once):

1. ``not_in_force`` unless every ``in_force`` rule holds and, if it has ``window`` rules (periods
   of enforceability that are alternatives, such as court orders), at least one of them holds;
2. ``not_applicable`` unless every ``scope`` rule holds, at least one ``alternative`` rule holds
   if it has any (ways of coming within the scope, each with its own source), and no
   ``exclusion`` holds;
3. ``excepted`` when an ``exception`` holds;
4. ``applies`` otherwise.

Then the policy's screening order: expulsions and transfer agreements are screened stage by stage.
An expulsion that applies (Title 42) expels the person to the countries of its first destination
rule that holds, less every country in ``fear_established_in`` (when none is left the expulsion is
excepted), and nothing later is screened. Once an agreement of a stage has the person within its
scope (applies or excepted), later stages are not screened. Any agreement that applies sends the
person to its receiving country; otherwise the claim is heard in the U.S., where an asylum bar that
applies bars asylum and a wait-abroad instrument that applies decides ``wait_in_mexico``.
"""

from __future__ import annotations

import itertools
import operator
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from eligibility.engine.program import BoundRule, Program
from eligibility.memo import make_room
from eligibility.ruleset.conditions import PartialSet, Truth

Status = Literal["applies", "excepted", "not_applicable", "not_in_force", "undetermined", "excluded"]
"""``excluded`` is internal: within the instrument's scope but excluded (reported as not_applicable).
It matters for screening (8 CFR 208.30(e)(7) excludes persons described in (e)(6)): a person within
the STCA's scope is not screened under any ACA."""
Outcome = Literal["transfer", "process_in_us", "undetermined", "expel"]
Asylum = Literal["eligible", "barred", "not_in_us", "undetermined"]


class Headline(NamedTuple):
    """The answer without its explanation: the outcome, the receiving countries, asylum, waiting
    in Mexico and the countries of expulsion. The screening of one concrete case (``decide``)
    settles each; a determination may leave any of them undetermined."""

    outcome: Outcome
    transfer_to: tuple[str, ...]
    asylum: Asylum
    wait_in_mexico: bool | Literal["undetermined"]
    expel_to: tuple[str, ...] = ()


OPEN = "?"
"""A country of expulsion that unknown facts leave open (``expel_to == (OPEN,)``)."""


@dataclass(frozen=True)
class Decision:
    headline: Headline
    statuses: Mapping[str, Status]
    screened_out_by: Mapping[str, str]  # instrument -> the instrument that stopped its screening
    not_amenable: frozenset[str] = frozenset()  # wait-abroad instruments set aside by a transfer or expulsion
    destination: Mapping[str, BoundRule] = field(default_factory=dict)  # expulsion -> its destination rule
    fear_excepted: frozenset[str] = frozenset()  # expulsions excepted: fear in every destination


def _possible(value: Truth) -> tuple[bool, ...]:
    return (False, True) if value is None else (value,)


def _and(values: Iterable[Truth]) -> Truth:
    values = list(values)
    return False if False in values else None if None in values else True


def _or(values: Iterable[Truth]) -> Truth:
    values = list(values)
    return True if True in values else None if None in values else False


_POSSIBLE: weakref.WeakKeyDictionary[Program, dict[Hashable, frozenset[Status]]] = weakref.WeakKeyDictionary()
_READS: weakref.WeakKeyDictionary[Program, dict[str, tuple[str, ...]]] = weakref.WeakKeyDictionary()
POSSIBLE = 50_000
"""How many instruments' possible statuses ``possible_statuses`` keeps per program."""


def possible_statuses(program: Program, iid: str, truth: Mapping[str, Truth]) -> frozenset[Status]:
    """Every status the instrument can have, given three-valued truths of its rules (memoized by
    the truths it reads: ``status_reads``)."""
    if not MEMOIZED.get():
        return _possible_statuses(program, iid, truth)
    memo = _POSSIBLE.get(program)
    if memo is None:
        memo = _POSSIBLE[program] = {}
    key = (iid, _readers(program)[iid](truth))
    found = memo.get(key)
    if found is None:
        make_room(memo, POSSIBLE)
        found = memo[key] = _possible_statuses(program, iid, truth)
    return found


def every_possible_status(program: Program, truth: Mapping[str, Truth]) -> dict[str, frozenset[Status]]:
    """``possible_statuses`` of every instrument, in program order."""
    if not MEMOIZED.get():
        return {i.id: _possible_statuses(program, i.id, truth) for i in program.instruments}
    memo = _POSSIBLE.get(program)
    if memo is None:
        memo = _POSSIBLE[program] = {}
    out: dict[str, frozenset[Status]] = {}
    for iid, read in _readers(program).items():
        key = (iid, read(truth))
        found = memo.get(key)
        if found is None:
            make_room(memo, POSSIBLE)
            found = memo[key] = _possible_statuses(program, iid, truth)
        out[iid] = found
    return out


_Reader = Callable[[Mapping[str, Any]], tuple[Any, ...]]
_READERS: weakref.WeakKeyDictionary[Program, dict[str, _Reader]] = weakref.WeakKeyDictionary()


def reader(keys: tuple[str, ...]) -> _Reader:
    """A function giving the values of ``keys`` in a mapping, as a tuple."""
    if not keys:
        return lambda _: ()
    if len(keys) == 1:
        only = keys[0]
        return lambda values: (values[only],)
    return operator.itemgetter(*keys)


def _readers(program: Program) -> dict[str, _Reader]:
    """For each instrument, in program order, a function reading the truths of ``status_reads``."""
    found = _READERS.get(program)
    if found is None:
        found = _READERS[program] = {i.id: reader(status_reads(program, i.id)) for i in program.instruments}
    return found


def status_reads(program: Program, iid: str) -> tuple[str, ...]:
    """The keys of the rules whose truths an instrument's possible statuses read: its own (by
    role), and for a statutory limit those of its rules and of every rule of the instruments it
    is bound to (whether each reaches the person)."""
    reads = _READS.get(program)
    if reads is None:
        reads = _READS[program] = {}
    found = reads.get(iid)
    if found is None:
        keys = [k for ks in program.keys_by_role(iid).values() for k in ks]
        if program.instrument(iid).kind == "statutory_limit":
            keys += [b.key for b in program.governed[iid]]
            for governed in dict.fromkeys(b.governs for b in program.governed[iid]):
                keys += [k for ks in program.keys_by_role(governed, own=True).values() for k in ks]
        found = reads[iid] = tuple(dict.fromkeys(keys))
    return found


def _possible_statuses(program: Program, iid: str, truth: Mapping[str, Truth]) -> frozenset[Status]:
    rules = program.governed[iid]
    if program.instrument(iid).kind == "statutory_limit":
        reached: dict[str, Truth] = {}
        for b in rules:
            if b.governs not in reached:
                reached[b.governs] = reaches(program, b.governs, truth)
        held = _or(_and([truth[b.key], reached[b.governs]]) for b in rules)
        return frozenset({"applies" if h else "not_applicable" for h in _possible(held)})

    keys = program.keys_by_role(iid)

    def by_role(role: str) -> list[Truth]:
        return [truth[k] for k in keys.get(role, ())]

    windows = by_role("window")
    in_force = _and([*by_role("in_force"), _or(windows) if windows else True])
    alternatives = by_role("alternative")
    scope = _and([*by_role("scope"), _or(alternatives) if alternatives else True])
    excluded, excepted = _or(by_role("exclusion")), _or(by_role("exception"))
    return _STATUSES[(in_force, scope, excluded, excepted)]


def _statuses_of(in_force: Truth, scope: Truth, excluded: Truth, excepted: Truth) -> frozenset[Status]:
    return frozenset(
        status_of(f, s, x, e)
        for f, s, x, e in itertools.product(*map(_possible, (in_force, scope, excluded, excepted)))
    )


def reaches(program: Program, iid: str, truth: Mapping[str, Truth]) -> Truth:
    """Whether the instrument is in force and the person within its scope (exclusions aside)."""
    keys = program.keys_by_role(iid, own=True)
    windows = [truth[k] for k in keys.get("window", ())]
    alternatives = [truth[k] for k in keys.get("alternative", ())]
    return _and(
        [truth[k] for k in keys.get("in_force", ())]
        + [truth[k] for k in keys.get("scope", ())]
        + ([_or(windows)] if windows else [])
        + ([_or(alternatives)] if alternatives else [])
    )


def status_of(in_force: bool, in_scope: bool, excluded: bool, excepted: bool) -> Status:
    if not in_force:
        return "not_in_force"
    if not in_scope:
        return "not_applicable"
    if excluded:
        return "excluded"
    return "excepted" if excepted else "applies"


_STATUSES: dict[tuple[Truth, Truth, Truth, Truth], frozenset[Status]] = {
    (f, s, x, e): _statuses_of(f, s, x, e) for f, s, x, e in itertools.product((True, False, None), repeat=4)
}
"""Every status possible for each three-valued in-force, scope, exclusion and exception."""


def decide(
    program: Program, statuses: Mapping[str, Status], truth: Mapping[str, Truth], facts: Mapping[str, Any]
) -> Decision:
    """The outcome for known statuses (none ``undetermined``), following the policy's screening.

    ``truth`` and ``facts`` (two-valued, concrete) give an expulsion's countries."""
    final = dict(statuses)
    screened_out_by: dict[str, str] = {}
    transfer_to: set[str] = set()
    expel_to: set[str] = set()
    destination: dict[str, BoundRule] = {}
    fear_excepted: set[str] = set()
    stopper: str | None = None
    for stage in program.policy.screening:
        if stopper is not None:
            for iid in stage:
                if final[iid] in IN_SCOPE:
                    final[iid] = "not_applicable"
                    screened_out_by[iid] = stopper
            continue
        for iid in stage:
            inst = program.instrument(iid)
            if inst.kind == "expulsion":
                if final[iid] == "applies":
                    rule, countries = expulsion_destination(program, iid, truth, facts)
                    if rule is not None:
                        destination[iid] = rule
                    if countries:
                        expel_to.update(countries)
                    else:  # no destination left: fear was established in every one of them
                        final[iid] = "excepted"
                        fear_excepted.add(iid)
            elif final[iid] == "applies":
                transfer_to.add(inst.receiving_country or "")
        if expel_to:
            stopper = next(iid for iid in stage if iid in destination and final[iid] == "applies")
            continue
        in_scope = [
            iid for iid in stage if final[iid] in IN_SCOPE and program.instrument(iid).kind != "expulsion"
        ]
        if in_scope:
            stopper = in_scope[0]
    kinds = {i.id: i.kind for i in program.instruments}
    not_amenable: set[str] = set()
    if expel_to or transfer_to:
        if expel_to:
            headline = Headline("expel", (), "not_in_us", False, tuple(sorted(expel_to)))
        else:
            headline = Headline("transfer", tuple(sorted(transfer_to)), "not_in_us", False)
        for iid, kind in kinds.items():  # amenable only when the claim is heard in the U.S.
            if kind == "wait_abroad" and final[iid] in IN_SCOPE:
                final[iid] = "not_applicable"
                not_amenable.add(iid)
    else:
        barred = any(final[i] == "applies" for i, k in kinds.items() if k == "asylum_bar")
        wait = any(final[i] == "applies" for i, k in kinds.items() if k == "wait_abroad")
        headline = Headline("process_in_us", (), "barred" if barred else "eligible", wait)
    return Decision(
        headline, final, screened_out_by, frozenset(not_amenable), destination, frozenset(fear_excepted)
    )


MEMOIZED: ContextVar[bool] = ContextVar("memoized", default=True)
"""Whether the screening's headlines (``screened``) and explained instruments
(``eligibility.explain.build``) are reused; ``unmemoized`` turns it off."""


@contextmanager
def unmemoized() -> Iterator[None]:
    """Inside, nothing is taken from those memos: every headline and explanation is made afresh
    (the tests compare the two paths)."""
    token = MEMOIZED.set(False)
    try:
        yield
    finally:
        MEMOIZED.reset(token)


_HEADLINES: weakref.WeakKeyDictionary[Program, dict[Hashable, Headline]] = weakref.WeakKeyDictionary()
HEADLINES = 50_000
"""How many headlines ``screened`` keeps per program, and how many sets of headlines
``possible_headlines`` keeps (the oldest half goes when one is full)."""


def screened(
    program: Program, statuses: Mapping[str, Status], truth: Mapping[str, Truth], facts: Mapping[str, Any]
) -> Headline:
    """``decide(program, statuses, truth, facts).headline``, memoized: besides the statuses, the
    screening reads the truths and facts only through ``expulsion_destination`` of the expulsions
    that apply (the key holds its answer for every one of them)."""
    if not MEMOIZED.get():
        return decide(program, statuses, truth, facts).headline
    memo = _HEADLINES.get(program)
    if memo is None:
        memo = _HEADLINES[program] = {}
    shape = _shape_of(program)(statuses)
    key: Hashable = shape
    expulsions = _expulsions(program)
    if any(shape[n] == "applies" for n, _ in expulsions):
        destinations = []
        for n, iid in expulsions:
            if shape[n] == "applies":
                rule, countries = expulsion_destination(program, iid, truth, facts)
                destinations.append((n, None if rule is None else rule.key, countries))
        key = (shape, tuple(destinations))
    found = memo.get(key)
    if found is None:
        make_room(memo, HEADLINES)
        found = memo[key] = decide(program, statuses, truth, facts).headline
    return found


_MOVES: weakref.WeakKeyDictionary[Program, dict[Hashable, dict[tuple[str, Status], bool]]] = (
    weakref.WeakKeyDictionary()
)
_EXPULSIONS: weakref.WeakKeyDictionary[Program, tuple[tuple[int, str], ...]] = weakref.WeakKeyDictionary()


_SHAPE_OF: weakref.WeakKeyDictionary[Program, _Reader] = weakref.WeakKeyDictionary()


def _shape_of(program: Program) -> _Reader:
    """A function giving the statuses of every instrument, in program order, as a tuple."""
    found = _SHAPE_OF.get(program)
    if found is None:
        found = _SHAPE_OF[program] = reader(tuple(i.id for i in program.instruments))
    return found


def _expulsions(program: Program) -> tuple[tuple[int, str], ...]:
    """The expulsions, with their positions in ``program.instruments``."""
    found = _EXPULSIONS.get(program)
    if found is None:
        found = _EXPULSIONS[program] = tuple(
            (n, i.id) for n, i in enumerate(program.instruments) if i.kind == "expulsion"
        )
    return found


_DESTINATION_RULES: weakref.WeakKeyDictionary[Program, dict[str, tuple[BoundRule, ...]]] = (
    weakref.WeakKeyDictionary()
)


def destination_rules(program: Program, iid: str) -> tuple[BoundRule, ...]:
    """An expulsion's destination rules, in file order (the first that holds gives the countries)."""
    known = _DESTINATION_RULES.get(program)
    if known is None:
        known = _DESTINATION_RULES[program] = {}
    found = known.get(iid)
    if found is None:
        found = known[iid] = tuple(b for b in program.governed[iid] if b.rule.role == "destination")
    return found


def expulsion_destination(
    program: Program, iid: str, truth: Mapping[str, Truth], facts: Mapping[str, Any]
) -> tuple[BoundRule | None, tuple[str, ...]]:
    """For concrete facts: the destination rule that holds first and its countries, less fear."""
    for b in destination_rules(program, iid):
        held = truth[b.key]
        if held is None:  # three-valued truths (verify, counterfactuals): which rule holds is open
            return b, (OPEN,)
        if held:
            return b, destination_countries(b, facts)
    return None, ()


def destination_countries(b: BoundRule, facts: Mapping[str, Any]) -> tuple[str, ...]:
    """The countries of one destination rule, less every country in ``fear_established_in``;
    ``(OPEN,)`` when unknown facts leave them open."""
    to = b.rule.to or ()
    countries: frozenset[str]
    if to:
        countries = frozenset(to)
    else:  # 'nationality': every country of nationality; stateless: the habitual residence
        nationalities = facts["nationalities"]
        if not isinstance(nationalities, frozenset):
            return (OPEN,)
        if nationalities:
            countries = nationalities
        else:
            residence = facts["habitual_residence"]
            if not isinstance(residence, str):
                return (OPEN,)
            countries = frozenset({residence})
    fear = facts["fear_established_in"]
    if isinstance(fear, frozenset):
        return tuple(sorted(countries - fear))
    if isinstance(fear, PartialSet) and countries <= fear.included | fear.excluded:
        return tuple(sorted(countries - fear.included))
    return (OPEN,)


def possible_destinations(
    program: Program, iid: str, truth: Mapping[str, Truth], facts: Mapping[str, Any]
) -> set[tuple[str, ...]]:
    """Every set of countries of expulsion the facts allow (``()``: fear in every one of them)."""
    found: set[tuple[str, ...]] = set()
    for b in destination_rules(program, iid):
        held = truth[b.key]
        if held is False:
            continue
        found.add(destination_countries(b, facts))
        if held:
            return found
    found.add(())
    return found


def is_open(headline: Headline) -> bool:
    """Whether unknown facts leave the countries of expulsion open."""
    return OPEN in headline.expel_to


IN_SCOPE: frozenset[Status] = frozenset({"applies", "excepted", "excluded"})


def possible_headlines(
    program: Program,
    statuses: Mapping[str, frozenset[Status]],
    truth: Mapping[str, Truth],
    facts: Mapping[str, Any],
) -> set[Headline]:
    """Every headline consistent with each instrument's possible statuses (an over-approximation:
    correlations between instruments are ignored, so it may include headlines no case has).
    Memoized: besides the statuses, it reads the truths and facts only through the countries each
    expulsion that may apply may send the person to."""
    options: list[set[tuple[str, ...]]] = []
    for _, iid in _expulsions(program):  # in any order: the headlines are a set
        option: set[tuple[str, ...]] = set()
        if "applies" in statuses[iid]:
            option |= possible_destinations(program, iid, truth, facts)
        if statuses[iid] - {"applies"}:
            option.add(())
        options.append(option)
    if not MEMOIZED.get():
        return _possible_headlines(program, statuses, options)
    memo = _POSSIBLE_HEADLINES.get(program)
    if memo is None:
        memo = _POSSIBLE_HEADLINES[program] = {}
    key = (_shape_of(program)(statuses), tuple(frozenset(o) for o in options))
    found = memo.get(key)
    if found is None:
        make_room(memo, HEADLINES)
        found = memo[key] = frozenset(_possible_headlines(program, statuses, options))
    return set(found)


_POSSIBLE_HEADLINES: weakref.WeakKeyDictionary[Program, dict[Hashable, frozenset[Headline]]] = (
    weakref.WeakKeyDictionary()
)


def _possible_headlines(
    program: Program, statuses: Mapping[str, frozenset[Status]], options: list[set[tuple[str, ...]]]
) -> set[Headline]:
    found: set[Headline] = set()
    for chosen in itertools.product(*options):
        countries = frozenset().union(*chosen)
        if countries:
            found.add(Headline("expel", (), "not_in_us", False, tuple(sorted(countries))))
    if not all(() in o for o in options):  # expelled whatever the unknown facts are
        return found
    kinds = {i.id: i.kind for i in program.instruments}
    bars = [statuses[i] for i, k in kinds.items() if k == "asylum_bar"]
    waits = [statuses[i] for i, k in kinds.items() if k == "wait_abroad"]
    asylum: set[Asylum] = set()
    if any("applies" in s for s in bars):
        asylum.add("barred")
    if all(s - {"applies"} for s in bars):
        asylum.add("eligible")
    wait: set[bool] = set()
    if any("applies" in s for s in waits):
        wait.add(True)
    if all(s - {"applies"} for s in waits):
        wait.add(False)
    # Every (receiving countries, screening stopped) the stages allow, folded one agreement at a
    # time: the states stay few (2 per agreement whose applying is open), never 3^n combinations.
    stages = [[i for i in stage if kinds[i] != "expulsion"] for stage in program.policy.screening]
    done: set[frozenset[str]] = set()
    states: set[frozenset[str]] = {frozenset()}
    for number, stage in enumerate(stages):
        last = number == len(stages) - 1
        partial: set[tuple[frozenset[str], bool]] = {(t, False) for t in states}
        for iid in stage:
            screened = {_screening_class(s) for s in statuses[iid]}
            country = program.instrument(iid).receiving_country or ""
            partial = {
                (t | {country} if c == "A" else t, stop or (c != "N" and not last))
                for t, stop in partial
                for c in screened
            }
        done |= {t for t, stop in partial if stop}
        states = {t for t, stop in partial if not stop}
    for transfer_to in done | states:
        if transfer_to:
            found.add(Headline("transfer", tuple(sorted(transfer_to)), "not_in_us", False))
        else:
            found |= {Headline("process_in_us", (), a, w) for a in asylum for w in wait}
    return found


def _screening_class(status: Status) -> str:
    """A: applies (transfers); E: in scope but excepted or excluded (stops later stages); N: neither."""
    return {"applies": "A", "excepted": "E", "excluded": "E"}.get(status, "N")


def fired_truth(program: Program, fired: frozenset[str]) -> dict[str, bool]:
    """Two-valued truths from the set of rule keys an engine reported as fired."""
    return {b.key: b.key in fired for b in program.rules}


def deciding_rules(
    program: Program, truth: Mapping[str, bool], facts: Mapping[str, Any], decision: Decision
) -> list[BoundRule]:
    """The rules that decided the headline: flipping one rule's truth alone (every other rule as
    it is) changes the outcome, the countries, asylum or waiting in Mexico. Concrete facts only.

    A destination rule counts only when it holds: what it is unsure of is where a person it
    reaches is sent, which does not bear on a person it does not reach."""
    flips = {i.id: status_flips(program, i.id, truth) for i in program.instruments}
    possible = every_possible_status(program, truth) if program.limits else {}
    statuses: dict[str, Status] = {
        i.id: next(iter(possible[i.id])) if i.kind == "statutory_limit" else flips[i.id][0]
        for i in program.instruments
    }
    # compared with the concrete case's own headline (the region's may show open countries)
    base = screened(program, statuses, truth, facts) if decision.headline.expel_to else decision.headline
    # Only destination rules are read by decide() besides the statuses: any other rule's flip
    # gives the headline of its instrument's new status, the same for every rule that moves it so;
    # and whether it moves the headline is the same for every case with these statuses, base and
    # destinations (what decide() reads of the truths and facts), so it is kept for them.
    moved: dict[tuple[str, Status], bool] = {}
    if MEMOIZED.get():
        memo = _MOVES.get(program)
        if memo is None:
            memo = _MOVES[program] = {}
        alike = (
            _shape_of(program)(statuses),
            tuple(
                (None if rule is None else rule.key, countries)
                for rule, countries in (
                    expulsion_destination(program, iid, truth, facts) for _, iid in _expulsions(program)
                )
            ),
            base,
        )
        moved = memo.get(alike)  # type: ignore[assignment]
        if moved is None:
            make_room(memo, HEADLINES)
            moved = memo[alike] = {}
    found: set[str] = set()
    for b in _destination_bound(program):
        if statuses[b.governs] != "applies" or not truth[b.key]:
            continue
        flipped = dict(truth)
        flipped[b.key] = not truth[b.key]
        if screened(program, statuses, flipped, facts) != base:
            found.add(b.key)
    # the status with one rule flipped depends only on its instrument, role and truth
    for governs, (_, flipped_to) in flips.items():
        for status, members in flipped_to:
            if status == statuses[governs]:
                continue
            key = (governs, status)
            if key not in moved:
                changed = {**statuses, governs: status}
                moved[key] = screened(program, changed, truth, facts) != base
            if moved[key]:
                found.update(members)
    return [b for b in program.rules if b.key in found]


_Flips = tuple[Status, tuple[tuple[Status, tuple[str, ...]], ...]]
_FLIPS: weakref.WeakKeyDictionary[Program, dict[Hashable, _Flips]] = weakref.WeakKeyDictionary()
_FlipShape = tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...], _Reader]
_SHAPES: weakref.WeakKeyDictionary[Program, dict[str, _FlipShape]] = weakref.WeakKeyDictionary()
_DESTINATIONS: weakref.WeakKeyDictionary[Program, tuple[BoundRule, ...]] = weakref.WeakKeyDictionary()


def status_flips(program: Program, iid: str, truth: Mapping[str, bool]) -> _Flips:
    """The instrument's status from the counts of its rules that hold by role, and for the other
    rules (not destination rules) whose ``governs`` is ``iid``, by role and truth: the status one
    of them flipped alone gives, with the keys of those rules. Memoized by the truths it reads."""
    _, groups, read = flip_shape(program, iid)
    memo: dict[Hashable, _Flips] | None = None
    key: Hashable = None
    if MEMOIZED.get():
        memo = _FLIPS.get(program)
        if memo is None:
            memo = _FLIPS[program] = {}
        key = (iid, *map(bool, read(truth)))
        found = memo.get(key)
        if found is not None:
            return found
    counts = _role_counts(program, iid, truth)
    out: list[tuple[Status, tuple[str, ...]]] = []
    for role, keys in groups:
        holding = tuple(k for k in keys if truth[k])
        for held_now, members in ((True, holding), (False, tuple(k for k in keys if not truth[k]))):
            if members:
                held = dict(counts)
                held[role] += -1 if held_now else 1
                out.append((_status_from_counts(held), members))
    result = (_status_from_counts(counts), tuple(out))
    if memo is not None:
        make_room(memo, POSSIBLE)
        memo[key] = result
    return result


def flip_shape(program: Program, iid: str) -> _FlipShape:
    """What ``status_flips`` reads: the keys of the instrument's rules by role and of the rules it
    governs; those rules (not destination rules) by role, in program order; and a function
    reading the truths of the first."""
    shapes = _SHAPES.get(program)
    if shapes is None:
        shapes = _SHAPES[program] = {}
    found = shapes.get(iid)
    if found is None:
        groups: dict[str, list[str]] = {}
        for b in program.rules:
            if b.governs == iid and b.rule.role != "destination":
                groups.setdefault(b.rule.role, []).append(b.key)
        reads = [k for ks in program.keys_by_role(iid).values() for k in ks]
        reads += [k for ks in groups.values() for k in ks]
        read = tuple(dict.fromkeys(reads))
        found = shapes[iid] = (
            read,
            tuple((role, tuple(keys)) for role, keys in groups.items()),
            reader(read),
        )
    return found


def _destination_bound(program: Program) -> tuple[BoundRule, ...]:
    """The destination rules, in program order."""
    found = _DESTINATIONS.get(program)
    if found is None:
        found = _DESTINATIONS[program] = tuple(b for b in program.rules if b.rule.role == "destination")
    return found


_ROLES = ("in_force", "window", "scope", "alternative", "exclusion", "exception", "destination")


def _role_counts(program: Program, iid: str, truth: Mapping[str, bool]) -> dict[str, int]:
    """How many rules of each role hold, and (``n_`` + role) how many there are."""
    counts = {role: 0 for role in _ROLES} | {f"n_{role}": 0 for role in _ROLES}
    for role, keys in program.keys_by_role(iid).items():
        counts[role] = sum(1 for k in keys if truth[k])
        counts[f"n_{role}"] = len(keys)
    return counts


def _status_from_counts(c: Mapping[str, int]) -> Status:
    return status_of(
        c["in_force"] == c["n_in_force"] and (c["n_window"] == 0 or c["window"] > 0),
        c["scope"] == c["n_scope"] and (c["n_alternative"] == 0 or c["alternative"] > 0),
        c["exclusion"] > 0,
        c["exception"] > 0,
    )
