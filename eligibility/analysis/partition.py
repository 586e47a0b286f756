"""The partition of the fact space, and the one split-and-prune search over it.

The rules compare each fact with finitely many constants, so the set of all cases falls into
finitely many classes that every rule treats alike: for a date or a number, the intervals between
the cut points the rules make (``cuts``); for a country or an enumeration, the groups of values
every test treats alike (``classes``, coarser than ``representatives``); for a set of countries,
one member in or out at a time (``country_pool``).

A :class:`Partition` holds the programs a search compares (one policy, or two for a diff) and is
the only place that splits a class of cases (``values``), turns a class back into one case
(``example`` for the facts, ``case`` for the input a person reads), and spends a search's budget
(``spend``: past it, ``SearchTooLarge``). ``search`` walks the classes depth first: a *step* looks
at a class (its three-valued rule truths prune it) and either settles it or names the fact to
split on; ``settle``, ``verify`` and ``diff`` are steps of this one search.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from eligibility.case import Case, entry_conflict
from eligibility.countries import other_country
from eligibility.engine.decide import Status, possible_statuses
from eligibility.engine.program import Program
from eligibility.errors import SearchTooLarge
from eligibility.ruleset.conditions import PartialSet, Test, Truth, holds, tests
from eligibility.ruleset.facts import CATALOGUE, RELATIONS, UNKNOWN, Context, FactValue

FLOOR = dt.date(2000, 1, 1)
"""The earliest entry date a search considers (before every date the rules name)."""

MAX_SET_SIZE = 2


# ---------------------------------------------------------------- the classes of one fact


def cuts(checks: Iterable[Test], fact: str) -> tuple[Any, ...]:
    """The cut points of a date or number fact: every test of ``checks`` on it is constant from
    one cut point up to the next."""
    step: Any = dt.timedelta(days=1) if CATALOGUE[fact].type == "date" else 1
    found: set[Any] = set()
    for t in checks:
        if t.fact != fact:
            continue
        for v in t.value if isinstance(t.value, tuple) else (t.value,):
            if t.op in ("ge", "lt"):
                found.add(v)
            elif t.op in ("gt", "le"):
                found.add(shift(v, step))
            else:
                found |= {v, shift(v, step)}
    found.discard(None)  # a cut after the last day of the calendar cuts nothing
    return tuple(sorted(found))


def shift(value: Any, step: Any) -> Any:
    """``value + step``, or None past either end of the calendar (0001-01-01, 9999-12-31): rules may
    name those days, and no case lies beyond them."""
    try:
        return value + step
    except OverflowError:
        return None


def program_cuts(programs: Iterable[Program], fact: str) -> tuple[Any, ...]:
    """``cuts`` of every rule of ``programs`` on ``fact``."""
    return cuts((t for p in programs for b in p.rules_testing(fact) for t in b.checks), fact)


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
        near = {shift(c, d) for c in consts for d in (-day, dt.timedelta(0), day)} - {None}
        return tuple(sorted({entry_date} | {v for v in near if v >= entry_date}))
    named = frozenset(c for c in consts if isinstance(c, str))  # not the true/false of `empty`
    if spec.type == "state":
        return (*sorted(named), next(s for s in ("TX", "NM", "NY", "FL") if s not in named))
    pool = (*sorted(named), *other_member(fact, named))
    if spec.type == "country":
        return pool
    # Sets of countries: every set of at most two members. Searches split a set one member at a
    # time (over ``country_pool``), so they never need the 2^n subsets of a long list of names.
    return tuple(
        frozenset(c) for r in range(min(len(pool), MAX_SET_SIZE) + 1) for c in itertools.combinations(pool, r)
    )


def most_members(fact: str) -> int:
    """The most members a case may give a set-valued fact (``nationalities``: 20): a class with
    more holds no valid case, so a search never includes one more."""
    spec = CATALOGUE[fact]
    field = fact if fact in Case.model_fields else spec.inputs[0] if len(spec.inputs) == 1 else None
    if field not in Case.model_fields:
        return 10**9
    limits = [m.max_length for m in Case.model_fields[field].metadata if hasattr(m, "max_length")]
    # a set of words (family_in_us.relations) holds each of them at most once
    return min((n for n in [*limits, len(spec.values) or None] if n is not None), default=10**9)


def country_pool(program: Program, fact: str) -> frozenset[str]:
    """Every country (or member) the rules compare a set-valued fact with, and one standing for
    any other (none when the rules name every member a set of words can have)."""
    named = frozenset(c for c in program.constants.get(fact, frozenset()) if isinstance(c, str))
    return named | set(other_member(fact, named))


def other_member(fact: str, named: frozenset[str]) -> tuple[str, ...]:
    """The member standing for any member of a set-valued (or country) fact that ``named`` leaves
    out: a country code, or for a set of words (``family_in_us.members``) the first word not named,
    a family member of status ``other`` first (so the stand-in does not make
    ``family_in_us.qualifying`` hold); empty when every word is named."""
    words = CATALOGUE[fact].values
    if not words:
        return (other_country(named),)
    neutral = sorted(words, key=lambda w: not w.endswith(":other"))  # stable: file order otherwise
    return next(((w,) for w in neutral if w not in named), ())


def classes(
    program: Program, fact: str, entry_date: dt.date, *others: Program, extra: tuple[Any, ...] = ()
) -> tuple[FactValue, ...]:
    """One value per class of ``fact`` that the rules of these programs tell apart (coarser than
    ``representatives``): the first day (or number) of each interval between the cuts the rules
    make, and one value per group of values that every test treats alike. Used to split searches."""
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
        lower: Any = entry_date if spec.type == "date" else (spec.lower or 0)
        return (lower, *(c for c in cuts(checks, fact) if c > lower))
    if spec.type == "countries":
        return representatives(program, fact, entry_date)
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


# ---------------------------------------------------------------- rule truths in a class


def evaluate_node(
    program: Program,
    facts: Mapping[str, Any],
    parent: tuple[str, Mapping[str, Truth], Mapping[str, frozenset[Status]]] | None = None,
) -> tuple[dict[str, Truth], dict[str, frozenset[Status]]]:
    """Three-valued truths of the rules and possible statuses of the instruments on ``facts``.

    With ``parent`` (the fact just split, and the parent's truths and statuses), only the rules
    that test that fact and were undecided are evaluated again: narrowing a fact never changes a
    rule already decided."""
    if parent is None:
        truth = {b.key: holds(b.when, facts) for b in program.rules}
        return truth, {i.id: possible_statuses(program, i.id, truth) for i in program.instruments}
    fact, parent_truth, parent_statuses = parent
    statuses = dict(parent_statuses)
    if not fact:  # the same facts: the truths and statuses given
        return dict(parent_truth), statuses
    truth, touched = narrow(program, facts, parent_truth, fact)
    if touched:
        for limit in program.limits:  # a limit's status reads the rules of the agreements it limits
            if limit not in touched and not touched.isdisjoint(program.limited_by(limit)):
                touched.add(limit)
        for iid in touched:
            statuses[iid] = possible_statuses(program, iid, truth)
    return truth, statuses


def narrow(
    program: Program, facts: Mapping[str, Any], parent: Mapping[str, Truth], fact: str
) -> tuple[dict[str, Truth], set[str]]:
    """The rule truths once ``fact`` was narrowed (a rule decided before stays decided), and the
    instruments whose rules were decided by it."""
    truth = dict(parent)
    touched: set[str] = set()
    for b in program.rules_testing(fact):
        if parent[b.key] is None:
            value = holds(b.when, facts)
            if value is not None:
                truth[b.key] = value
                touched.add(b.governs)
                if b.via is not None:
                    touched.add(b.via)
    return truth, touched


def is_open(value: Any) -> bool:
    """Whether a fact of a class still holds more than one class of values."""
    return value is UNKNOWN or (isinstance(value, PartialSet) and bool(value.undecided))


# ---------------------------------------------------------------- the search


@dataclass(eq=False)
class Node:
    """A class of cases the search reached: its facts, the class it was split from (on
    ``fact``), and what the step keeps there (``state``: the rule truths, for its children)."""

    facts: dict[str, Any]
    parent: Node | None = None
    fact: str | None = None
    state: Any = None


@dataclass(frozen=True)
class Split:
    """A step's answer for a class it cannot settle: split it on ``fact`` into ``values``;
    ``enough``, given a child's result, stops the split before the remaining children; ``also``,
    by child, other entries of its facts (what a search keeps beside the facts: see diff's
    ``SPAN``)."""

    fact: str
    values: Sequence[Any]
    enough: Callable[[Any], bool] | None = None
    also: Sequence[Mapping[str, Any]] | None = None


Step = Callable[[Node], Any]
Join = Callable[[Node, Split, list[Any]], Any]


@dataclass
class Partition:
    """The classes of cases of ``programs``, and one search's budget over them.

    ``budget`` counts what ``counting`` names: every class visited (``node``), every class split
    (``split``), or only the classes a step settles (``leaf``, through ``spend`` by the step
    itself); past it, ``SearchTooLarge`` with ``message`` (``{budget}`` is filled in)."""

    programs: tuple[Program, ...]
    budget: int | None = None
    counting: Literal["node", "split", "leaf"] = "node"
    message: str = "more than {budget:,} classes of cases"
    spent: int = 0
    used: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.used = frozenset().union(*(p.facts_used for p in self.programs))

    @staticmethod
    def start() -> dict[str, Any]:
        """The class of every case: every fact unknown."""
        return {name: UNKNOWN for name in CATALOGUE}

    def spend(self) -> None:
        """Count one unit of the budget; past it, ``SearchTooLarge``."""
        self.spent += 1
        if self.budget is not None and self.spent > self.budget:
            raise SearchTooLarge(self.message.format(budget=self.budget))

    def search(
        self, facts: dict[str, Any], step: Step, join: Join | None = None, node: Node | None = None
    ) -> Any:
        """Walk the classes below ``facts`` depth first. ``step(node)`` settles a class (its
        result is returned) or returns a ``Split``; ``join(node, split, results)`` combines the
        children's results (without it, the search returns None)."""
        node = Node(facts) if node is None else node
        if self.counting == "node":
            self.spend()
        out = step(node)
        if not isinstance(out, Split):
            return out
        if self.counting == "split":
            self.spend()
        results: list[Any] = []
        for number, value in enumerate(out.values):
            facts = {**node.facts, out.fact: value}
            if out.also is not None:
                facts.update(out.also[number])
            child = Node(facts, node, out.fact)
            results.append(self.search(child.facts, step, join, child))
            if out.enough is not None and out.enough(results[-1]):
                break
        return join(node, out, results) if join is not None else None

    # ------------------------------------------------------------ splitting one fact

    def values(
        self,
        fact: str,
        facts: Mapping[str, Any],
        *,
        member: str | None = None,
        alike: frozenset[str] = frozenset(),
        extra: tuple[Any, ...] = (),
    ) -> list[Any]:
        """The classes ``fact`` splits into below ``facts``: one value per class of a date, number
        or enumeration (``extra``: conditions beyond the rules that must be told apart), or, for a
        set of countries, ``member`` (default: the first undecided) in or out. ``alike``: members
        the rules treat as ``member`` everywhere, split on as one."""
        spec = CATALOGUE[fact]
        if spec.type == "bool":
            return [False, True]
        if spec.type != "countries":
            entry = facts["entry.date"]
            floor = FLOOR if fact == "entry.date" or entry is UNKNOWN else entry
            first, *others = self.programs
            return list(classes(first, fact, floor, *others, extra=extra))
        current = self.members(fact, facts)
        chosen = member if member is not None else sorted(current.undecided)[0]
        if len(current.included) >= most_members(fact):  # no valid case holds one more
            return [current.with_member(chosen, False)]
        together = alike & current.undecided
        if len(together) > 1:  # the rules tell these members apart nowhere: split on them as one
            return [
                replace(current.with_member(chosen, True), alike=current.alike | {(chosen, together)}),
                replace(current, excluded=current.excluded | together),
            ]
        return [current.with_member(chosen, True), current.with_member(chosen, False)]

    def members(self, fact: str, facts: Mapping[str, Any]) -> PartialSet:
        """A set-valued fact of the class, as a partial set (all members undecided if unknown)."""
        current = facts[fact]
        if current is UNKNOWN:
            universe = frozenset().union(*(country_pool(p, fact) for p in self.programs))
            return PartialSet(frozenset(), frozenset(), universe)
        if not isinstance(current, PartialSet):
            raise TypeError(f"{fact} is known: it has no members to split on")
        return current

    # ------------------------------------------------------------ from a class to one case

    def example(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """One case of the class, as facts: a set of countries holds the members known in; an
        unknown fact the rules test takes the first value of its first class (an unknown entry
        date: the decision date, or ``FLOOR``); a decision never precedes the entry."""
        done = dict(facts)
        if done["entry.date"] is UNKNOWN:
            decision = done["decision_date"]
            done["entry.date"] = decision if decision is not UNKNOWN else FLOOR
        for name in CATALOGUE:
            value = done[name]
            if isinstance(value, PartialSet):
                done[name] = value.included
            elif value is UNKNOWN and name in self.used:
                program = next(p for p in self.programs if name in p.facts_used)
                done[name] = representatives(program, name, done["entry.date"])[0]
        if done["decision_date"] is not UNKNOWN and done["decision_date"] < done["entry.date"]:
            done["entry.date"] = done["decision_date"]
        return done

    def case(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """One case of the class, as the input a person reads and pastes into a golden test. A value
        chosen for a fact the class leaves unknown (its answer does not depend on it) is left out
        where it would make the entry impossible (a state off the border crossed, an arrival by air
        between ports): the case format refuses such a case."""
        done = self.example(facts)
        for name in ("entry.state", "entry.appointment", "entry.place"):
            if facts[name] is UNKNOWN and entry_conflict(
                done["entry.border"], done["entry.place"], done["entry.state"], done["entry.appointment"]
            ):
                done[name] = UNKNOWN
        return readable_case(done, self.programs[0].ruleset.context)


def readable_case(facts: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """The case input whose facts are ``facts`` (concrete, or unknown: those are left out)."""
    entry_date: dt.date = facts["entry.date"]
    case: dict[str, Any] = {"entry": {"date": entry_date.isoformat()}}
    nationalities = facts.get("nationalities", UNKNOWN)
    if isinstance(nationalities, PartialSet):
        nationalities = nationalities.included
    if nationalities is not UNKNOWN:
        case["nationalities"] = sorted(nationalities)
    home = facts.get("habitual_residence", UNKNOWN)
    if home is not UNKNOWN and (not nationalities or nationalities is UNKNOWN or home not in nationalities):
        case["habitual_residence"] = home
    simple = {
        "age_at_entry": "age",
        "unaccompanied": "unaccompanied",
        "family_unit": "family_unit",
        "documents": "documents",
        "trafficking_victim": "trafficking_victim",
        "public_interest": "public_interest",
    }
    for fact, name in simple.items():
        if facts.get(fact, UNKNOWN) is not UNKNOWN:
            case[name] = facts[fact]
    for fact in ("entry.border", "entry.place", "entry.state"):
        if facts.get(fact, UNKNOWN) is not UNKNOWN:
            case["entry"][fact[6:]] = facts[fact]
    decision = facts.get("decision_date", UNKNOWN)
    if decision is not UNKNOWN and decision != entry_date:
        case["decision_date"] = decision.isoformat()
    days = facts.get("days_from_entry_to_claim", UNKNOWN)
    if days is not UNKNOWN and days:
        case["claim_date"] = (entry_date + dt.timedelta(days=days)).isoformat()
    fear = facts.get("fear_established_in", UNKNOWN)
    if isinstance(fear, PartialSet):
        fear = fear.included
    if fear is not UNKNOWN and fear:
        case["fear_established_in"] = sorted(fear)
    family = _family(facts, ctx)
    if family is not None:
        case["family_in_us"] = family
    transit = _transit(facts, case, ctx, entry_date)
    if transit is not None:
        case["transit"] = transit
    return case


def _family(facts: Mapping[str, Any], ctx: Context) -> list[dict[str, str]] | None:
    """The family members in the U.S. of a class: the ``relation:status`` members its rules named,
    a family member of every relation named without one, and a sibling (or another relation left
    out) with a status that counts when a family member must qualify; None when that is none."""
    qualifying = facts.get("family_in_us.qualifying", UNKNOWN)
    members, relations = (
        facts.get(name, UNKNOWN) for name in ("family_in_us.members", "family_in_us.relations")
    )
    out = members.excluded if isinstance(members, PartialSet) else frozenset()
    left_out = relations.excluded if isinstance(relations, PartialSet) else frozenset()
    pairs = sorted(_included(members))
    # a relation named on its own gets a status that does not count unless one must
    statuses = ["other", "lpr"] if qualifying is not True else ["lpr", "citizen", "other"]
    for relation in sorted(_included(relations) - {p.split(":")[0] for p in pairs}):
        pairs.append(
            next((f"{relation}:{s}" for s in statuses if f"{relation}:{s}" not in out), f"{relation}:other")
        )
    counts = ctx.qualifying_statuses or frozenset({"lpr"})
    if qualifying is True and not any(p.split(":")[1] in counts for p in pairs):
        pairs.append(
            next(
                (
                    f"{relation}:{status}"
                    for relation in ("sibling", *RELATIONS)
                    for status in sorted(counts, key=lambda s: (s != "lpr", s))
                    if relation not in left_out and f"{relation}:{status}" not in out
                ),
                "sibling:lpr",
            )
        )
    if not pairs:
        return None
    return [dict(zip(("relation", "status"), p.split(":"), strict=True)) for p in dict.fromkeys(pairs)]


def _included(value: Any) -> frozenset[str]:
    if isinstance(value, PartialSet):
        return value.included
    return value if isinstance(value, frozenset) else frozenset()


def _transit(facts: Mapping[str, Any], case: dict[str, Any], ctx: Context, day: dt.date) -> list[Any] | None:
    third = facts.get("transit.through_third_country", UNKNOWN)
    denied = facts.get("transit.denied_final", UNKNOWN)
    non_party = facts.get("transit.only_non_party_third_countries", UNKNOWN)
    listed = facts.get("transit.countries", UNKNOWN)
    if isinstance(listed, PartialSet):
        listed = listed.included
    if third is UNKNOWN and denied is UNKNOWN and listed is UNKNOWN:
        return None
    own = set(case.get("nationalities", [])) | (
        {case["habitual_residence"]} if "habitual_residence" in case else set()
    )
    stops: list[Any] = sorted(listed) if listed is not UNKNOWN else []  # the countries a rule named
    if third is True and all(c in own for c in stops):
        wanted_party = non_party is not True
        pool = sorted(ctx.treaties.parties) if wanted_party else sorted(ctx.treaties.non_parties)
        country = next(
            (c for c in pool if c not in own and (ctx.treaties.party_to_any(c, day) is True) == wanted_party),
            None,
        )
        if country is not None:
            stops.append(country)
    if denied is True:
        where = stops[0] if stops else next(iter(sorted(own)), "MX")
        stops = [s for s in stops if s != where] + [{"country": where, "protection": "denied_final"}]
    return stops


__all__ = [
    "FLOOR",
    "Node",
    "Partition",
    "Split",
    "classes",
    "country_pool",
    "cuts",
    "evaluate_node",
    "narrow",
    "program_cuts",
    "readable_case",
    "representatives",
]
