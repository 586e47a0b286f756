"""Policy diff: every class of cases whose determination differs between two policies.

A joint search over both policies' facts (three-valued evaluation prunes the classes where both
policies settle the same headline) finds every region where they differ, exactly. Regions are
grouped by the two headlines and the rules responsible (rules one policy has and the other does
not, that decide the region), and each group is described by the ranges of facts it covers, with
an example case and the citations of the responsible rules.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from eligibility.analysis.counterfactual import DESTINATION_FACTS
from eligibility.analysis.partition import (
    FLOOR,
    Node,
    Partition,
    Split,
    country_pool,
    evaluate_node,
    program_cuts,
    readable_case,
    representatives,
)
from eligibility.analysis.partition import (
    cuts as rule_cuts,
)
from eligibility.analysis.workers import FORKING, MAX_WORKERS, NoPool, can_fork, pool, run_forked, workers
from eligibility.countries import other_country
from eligibility.engine.backends import PureEngine
from eligibility.engine.decide import (
    IN_SCOPE,
    OPEN,
    Headline,
    Status,
    decide,
    destination_rules,
    expulsion_destination,
    possible_headlines,
    possible_statuses,
)
from eligibility.engine.program import Program, compile_policy
from eligibility.errors import SearchTooLarge
from eligibility.ruleset.conditions import PartialSet, Test, Truth, holds, show, tests
from eligibility.ruleset.facts import CATALOGUE, UNKNOWN
from eligibility.ruleset.load import RuleSet

MAX_NODES = 100_000

PROGRESS: ContextVar[Callable[[str, int, int], None] | None] = ContextVar("diff_progress", default=None)
"""Told, as a diff goes on, what it is doing and how far (done, of total): a command line's progress
bar. Called from the calling thread only (a thread of its own would keep the searches from forking
worker processes)."""


def report(stage: str, done: int, total: int) -> None:
    """Tell ``PROGRESS`` how far ``stage`` is, if anything listens."""
    listener = PROGRESS.get()
    if listener is not None:
        listener(stage, done, total)


SETTLED_NODES = 40_000
"""The classes the exact search may go through to settle every answer of a kind of case (one
outcome, receiving countries, asylum and waiting), in all; each pair of answers gets
PAIR_NODES_PER_CLASS for each of its classes, at least PAIR_NODES (a pair whose outcome is open:
PAIR_NODES). A pair that does not settle
within them is left as it was: its kind's answer says "depends on the case"."""

PAIR_NODES = 2_000
PAIR_NODES_PER_CLASS = 15


@dataclass
class Group:
    """Regions of cases with the same pair of determinations and the same responsible rules."""

    a: Headline
    b: Headline
    rules: tuple[str, ...]
    regions: list[dict[str, Any]] = field(default_factory=list)
    population: int = 0
    # part by part (see ``Part``): the part and its value under each policy; a and b are then the
    # determinations of the group's example case
    part: tuple[Part, Any, Any] | None = None
    witness: dict[str, Any] | None = None  # part by part: a case of the group whose part differs
    # the group's cases are those of ``regions`` that lie in one of these (None: every one): where
    # the instruments both policies share and screen first do not stop the screening (see _Reach)
    within: list[dict[str, Any]] | None = None
    # the classes its settled classes were split from (see ``_settle``): a class split finer than
    # ``within``'s may not be met with them, so its example may be drawn from these instead
    origins: list[dict[str, Any]] = field(default_factory=list)

    def key(self) -> tuple[Headline, Headline, tuple[str, ...]]:
        return (self.a, self.b, self.rules)


@dataclass
class PolicyDiff:
    a: str
    b: str
    groups: list[Group]
    programs: tuple[Program, Program]
    rejected: list[str] = field(default_factory=list)  # population rows that were not valid cases
    population_total: int = 0
    by_part: bool = False  # the exact search was too large: compared part by part
    searched: int = 0  # classes the exact search went through before it stopped (by_part)
    reason: str = ""  # why the policies were compared part by part


Part = tuple[str, str]
"""A part of a determination compared on its own: ("transfer_to", country): whether the person is
sent there; ("expel_to", ""): the countries of expulsion; ("asylum", ""): asylum if the claim is
heard in the U.S. (from the asylum bars alone); ("wait_in_mexico", ""): likewise, waiting."""


FEARED = "fear_established_in covers "
"""Prefix of a relation a search splits on like a fact (not one of the catalogue): whether fear
was established in every country an expulsion (its id follows) would send the person to, leaving
it nowhere to send them (``decide`` then excepts it). The countries come from the person's
nationalities or an expulsion's own list, so this is not a combination of members in or out of
``fear_established_in`` that a class of the rules' named countries could say."""


def feared_key(iid: str) -> str:
    return FEARED + iid


def feared(program: Program, iid: str, facts: Mapping[str, Any]) -> bool:
    """``feared_key(iid)`` for concrete facts (``derive_facts``): the expulsion, if it applies,
    has no country left once every country in ``fear_established_in`` is taken out."""
    truth = {b.key: holds(b.when, facts) for b in destination_rules(program, iid)}
    _, countries = expulsion_destination(program, iid, truth, facts)
    return not countries


SPAN = "span of "
"""Prefix of an entry a part's search keeps beside a date or number it split on: the span
``[low, high)`` (None: no bound) of the class the value stands for. A part's search splits such a
fact only at the cuts of the rules that decide the part (see ``_PartSearch.values``), so its
classes are unions of the finer classes every rule of both policies tells apart; the span says
which. Descriptions, bounds and meets read it in place of the value's own class."""


def span_of(region: Mapping[str, Any], fact: str, cuts: Sequence[Any]) -> tuple[Any, Any]:
    """The span of ``fact``'s class in a region: the one the search kept, else between ``cuts``."""
    kept = region.get(SPAN + fact)
    return kept if kept is not None else _span(region[fact], cuts)


Pending = tuple[str, str | None]
"""A split a class needs before it is settled: the fact, and for a set of countries the member."""


def expels(program: Program, iid: str, truth: Mapping[str, Truth], facts: Mapping[str, Any]) -> Truth:
    """Whether an expulsion that applies sends the person anywhere (None: open until
    ``feared_key(iid)`` is split on)."""
    known = facts.get(feared_key(iid), UNKNOWN)
    if known is not UNKNOWN:
        return not known
    for b in destination_rules(program, iid):
        held = truth[b.key]
        if held is None:
            return None
        if not held:
            continue
        to = b.rule.to or ()
        fear = facts["fear_established_in"]
        if not to or not isinstance(fear, PartialSet):
            return None
        if any(c in fear.excluded for c in to):
            return True
        return False if all(c in fear.included for c in to) else None
    return False


def adjust(
    program: Program,
    statuses: dict[str, frozenset[Status]],
    truth: Mapping[str, Truth],
    facts: Mapping[str, Any],
    among: Iterable[str] | None = None,
) -> Pending | None:
    """Expulsions (of ``among``) that may apply are taken as ``decide`` takes them: one that
    certainly leaves no country is excepted, and one that may is excepted or applies (changed in
    place in ``statuses``; ``possible_headlines`` would take it as applying); the split that tells
    for one that certainly applies."""
    pending: Pending | None = None
    for inst in program.instruments:
        if inst.kind != "expulsion" or (among is not None and inst.id not in among):
            continue
        status = statuses[inst.id]
        if "applies" not in status:
            continue
        sends = expels(program, inst.id, truth, facts)
        if sends is False:
            statuses[inst.id] = (status - {"applies"}) | {"excepted"}
        elif sends is None:
            statuses[inst.id] = status | {"excepted"}
            if status == {"applies"} and pending is None:
                pending = (feared_key(inst.id), None)
    return pending


def part_value(part: Part, head: Headline) -> Any:
    """The part's value in a determination's headline (None where it does not apply: asylum and
    waiting are compared only when both policies hear the claim in the U.S.)."""
    name, country = part
    if name == "transfer_to":
        return country in head.transfer_to
    if name == "expel_to":
        return head.expel_to
    if head.outcome != "process_in_us":
        return None
    return head.asylum if name == "asylum" else head.wait_in_mexico


MANY_COUNTRIES = 3
"""Policies whose agreements differ for this many receiving countries are compared part by part
at once: the exact search would make every combination of those countries a region of its own
(``enacted`` and ``implemented`` differ for six: the search passed 100,000 classes)."""


def _differing_countries(pa: Program, pb: Program) -> list[str]:
    """The receiving countries of the agreements one policy has and the other has not (same id,
    same rules counts as shared)."""
    search = _Joint(pa, pb, 0)
    return sorted(
        {
            inst.receiving_country
            for p in (pa, pb)
            for inst in p.instruments
            if inst.receiving_country and inst.kind != "expulsion" and inst.id not in search.shared
        }
    )


def diff(
    ruleset: RuleSet,
    a: str,
    b: str,
    *,
    max_nodes: int | None = None,
    within: Mapping[str, Any] | None = None,
    by_part: bool | None = None,
) -> PolicyDiff:
    """Every region of cases that ``a`` and ``b`` determine differently, grouped.

    When the exact search needs more than ``max_nodes`` classes (default ``MAX_NODES``: policies
    that differ in many agreements make every combination of receiving countries a region), the
    determinations are compared part by part instead (``by_part``): each receiving country, the
    countries of expulsion, asylum and waiting in Mexico, each over the facts of the instruments
    that decide it. A case is determined differently exactly when some part differs.

    ``within``: facts fixed for every case compared (the search covers only those cases);
    ``by_part``: compare part by part (True) or exactly (False) whatever the policies' size.
    """
    pa, pb = compile_policy(ruleset, a), compile_policy(ruleset, b)
    start = {**{name: UNKNOWN for name in CATALOGUE}, **(within or {})}
    countries = _differing_countries(pa, pb)
    if by_part is None and len(countries) >= MANY_COUNTRIES:
        reason = (
            f"the agreements of {len(countries)} receiving countries differ "
            f"({', '.join(countries)}): every combination of them would be a kind of its own"
        )
        return _by_part(pa, pb, 0, start, reason)
    if by_part:
        return _by_part(pa, pb, 0, start, "asked to")
    search = _Joint(pa, pb, max_nodes)
    if search.same_expulsions:
        search.off = frozenset(i.id for i in pa.instruments if i.kind == "expulsion")
    try:
        found = _search_exact(search, start)
    except SearchTooLarge:  # the exact search passed its budget: part by part
        spent = search.partition.spent - 1
        return _by_part(pa, pb, spent, start, f"more than {spent:,} classes")
    found, origins = _settle(search, found)
    groups: dict[tuple[Headline, Headline], Group] = {}
    counts: dict[tuple[Headline, Headline], dict[str, int]] = {}
    for facts, ha, hb, rules in found:
        group = groups.setdefault((ha, hb), Group(ha, hb, ()))
        group.regions.append(facts)
        tally = counts.setdefault((ha, hb), {})
        for rule in rules:
            tally[rule] = tally.get(rule, 0) + 1
    for key, group in groups.items():  # the rules responsible somewhere in the group, most often first
        group.rules = tuple(sorted(counts[key], key=lambda r: (-counts[key][r], r)))
        group.origins = origins.get(key, [])
    if search.off:
        reach = reached(pa, pb, set(search.off), start)
        for group in groups.values():
            group.within = reach
    ordered = sorted(groups.values(), key=lambda g: -len(g.regions))
    return PolicyDiff(a, b, ordered, (pa, pb))  # with ``within``: of those cases only


def _settle(
    search: _Joint, found: Found
) -> tuple[Found, dict[tuple[Headline, Headline], list[dict[str, Any]]]]:
    """The classes found, each whose answers are left open (a class all determined differently
    may still hold several outcomes, or asylum or waiting that depend on the case) split until
    they are settled, one pair of answers at a time, within SETTLED_NODES classes in all: a pair
    that does not settle within them stays as it is (the kind says "depends on the case")."""
    pa, pb = search.programs
    open_pairs: dict[tuple[Headline, Headline], list[int]] = {}
    for index, (_, ha, hb, _) in enumerate(found):
        if not (_settled(ha) and _settled(hb)):
            open_pairs.setdefault((ha, hb), []).append(index)
    if not open_pairs:
        return found, {}
    settler = _Joint(pa, pb, None, settle=True)
    settler.off = search.off
    left = min(SETTLED_NODES, search.partition.budget or SETTLED_NODES)
    pieces: dict[int, Found] = {}
    seen, total = 0, sum(len(indexes) for indexes in open_pairs.values())
    for (ha, hb), indexes in open_pairs.items():
        if left <= 0:
            break
        # where the outcome itself is open, settling it may make each combination of receiving
        # countries a kind of its own (without-title-42: 200,000 classes): a small try only
        several = "undetermined" in (ha.outcome, hb.outcome)
        share = PAIR_NODES if several else max(PAIR_NODES, PAIR_NODES_PER_CLASS * len(indexes))
        settler.partition.budget = min(left, share)
        settler.partition.spent = 0
        settled: dict[int, Found] = {}
        try:
            for index in indexes:
                seen += 1
                report("settling each kind's answers", seen, total)
                settler.found = []
                settler.partition.search(dict(found[index][0]), settler.step)
                settled[index] = [
                    (f, _as_open(a, ha), _as_open(b, hb), responsible(pa, pb, settler.example(f)))
                    for f, a, b in settler.found
                ]
        except SearchTooLarge:
            continue  # this pair's answers stay open
        finally:
            left -= settler.partition.spent
        pieces.update(settled)
    report("settling each kind's answers", total, total)
    origins: dict[tuple[Headline, Headline], list[dict[str, Any]]] = {}
    for index, settled_pieces in pieces.items():
        for _, a, b, _ in settled_pieces:
            kept = origins.setdefault((a, b), [])
            if not kept or kept[-1] is not found[index][0]:
                kept.append(found[index][0])
    return [piece for index, item in enumerate(found) for piece in pieces.get(index, [item])], origins


def _as_open(head: Headline, before: Headline) -> Headline:
    """A settled answer, its countries of expulsion left open where they were before settling
    (the kind's countries are read from the person's nationality, or depend on the border)."""
    if head.outcome == "expel" and before.outcome == "expel" and OPEN in before.expel_to:
        return head._replace(expel_to=(OPEN,))
    return head


class _Joint:
    """The joint search. Instruments that both policies share (same id, same rules) have the same
    status in every case, so splits go first to the facts of the instruments that differ, and a
    class is settled as soon as the outcomes are known to differ or to agree."""

    def __init__(self, pa: Program, pb: Program, max_nodes: int | None = None, settle: bool = False) -> None:
        self.pa, self.pb = pa, pb
        self.settle = settle  # split a class the policies determine differently until its answers are settled
        self.programs = (pa, pb)
        budget = MAX_NODES if max_nodes is None else max_nodes
        self.partition = Partition((pa, pb), budget, message="the diff needs more than {budget} classes")
        self.found: list[tuple[dict[str, Any], Any, Any]] = []  # (class, a's, b's): headlines, or part values
        self.members: dict[tuple[str, bool], list[str]] = {}  # (fact, of shared instruments) -> tested
        self.pending: dict[str, Pending | None] = {}  # policy -> a split the last look needs first

        def signature(program: Program, iid: str) -> tuple[str, ...]:
            return tuple(sorted(b.rule.id for b in program.governed[iid]))

        shared = {i.id for i in pa.instruments} & {i.id for i in pb.instruments}
        self.shared = {i for i in shared if signature(pa, i) == signature(pb, i)}
        self.only_a = [i.id for i in pa.instruments if i.id not in self.shared]
        self.only_b = [i.id for i in pb.instruments if i.id not in self.shared]
        # every expulsion of either policy is the other's (same rules): the same countries in each case
        self.same_expulsions = all(
            i.id in self.shared for p in (pa, pb) for i in p.instruments if i.kind == "expulsion"
        )
        # Shared expulsions that send the person somewhere give both policies the same answer, so
        # the joint search compares them as if no expulsion applied (``off``), and a group's cases
        # are then its regions where none sends the person anywhere (``_Reach``).
        self.off: frozenset[str] = frozenset()
        self.gates: set[str] = set()
        self._alike: dict[str, dict[str, frozenset[str]]] = {}
        self.statuses: dict[str, dict[str, frozenset[Status]]] = {}  # policy -> the last look's
        self.current: dict[str, dict[str, frozenset[Status]]] = {}  # policy -> the class's (``truths``)
        self._headlines: dict[tuple[Any, ...], set[Headline]] = {}
        self._destinations: dict[Program, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self.twin_of: dict[tuple[Any, ...], str] = {}  # a slot of b's -> b's instrument in it
        for iid in self.only_b:
            slot = self._slot(pb, iid)
            if slot is not None:
                self.twin_of.setdefault(slot, iid)
        kinds = {i.id: i.kind for p in (pa, pb) for i in p.instruments}
        self.kinds = kinds
        # the screening stage of each instrument, counted from the last (None: not screened)
        self.stage: dict[str, int | None] = {}
        for p in (pa, pb):
            stages = p.policy.screening
            for number, st in enumerate(stages):
                for iid in st:
                    self.stage[iid] = number - len(stages)

    def together(
        self,
        facts: Mapping[str, Any],
        truth_a: Mapping[str, Truth],
        truth_b: Mapping[str, Truth],
        twins: dict[str, str],
    ) -> str | None:
        """'differ' or 'agree' when, for every status the instruments both policies share (or
        twin) may have, taken the same in both, the policies certainly differ or agree; None when
        that is open or too costly to tell."""
        sa, sb = self.statuses[self.pa.policy.id], self.statuses[self.pb.policy.id]
        pairs = [(i, i) for i in self.shared if len(sa[i]) > 1]
        pairs += [(i, j) for i, j in twins.items() if len(sa[i]) > 1]
        if not pairs:
            return None
        combos = 1
        for i, _ in pairs:
            combos *= len(sa[i])
        if combos > 64:
            return None
        differ = agree = True
        for chosen in itertools.product(*(sorted(sa[i]) for i, _ in pairs)):
            fixed_a = {**sa, **{i: frozenset({c}) for (i, _), c in zip(pairs, chosen, strict=True)}}
            fixed_b = {**sb, **{j: frozenset({c}) for (_, j), c in zip(pairs, chosen, strict=True)}}
            ha = self.headlines(self.pa, fixed_a, truth_a, facts)
            hb = self.headlines(self.pb, fixed_b, truth_b, facts)
            differ = differ and _disjoint(ha, hb)
            agree = (
                agree
                and len(ha) == 1
                and ha == hb
                and (OPEN not in next(iter(ha)).expel_to or self.same_expulsions)
            )
            if not differ and not agree:
                return None
        return "differ" if differ else "agree" if agree else None

    def headlines(
        self,
        program: Program,
        statuses: Mapping[str, frozenset[Status]],
        truth: Mapping[str, Truth],
        facts: Mapping[str, Any],
    ) -> set[Headline]:
        """``possible_headlines``, once per what it reads: the statuses, the truths of the
        expulsions' destination rules and the facts their countries are read from."""
        ids, keys = self._reads(program)
        key = (
            program,
            tuple(map(statuses.__getitem__, ids)),
            tuple(map(truth.__getitem__, keys)),
            tuple(facts.get(f, UNKNOWN) for f in DESTINATION_FACTS),
        )
        found = self._headlines.get(key)
        if found is None:
            if len(self._headlines) > 200_000:
                self._headlines.clear()
            found = self._headlines[key] = possible_headlines(program, statuses, truth, facts)
        return set(found)

    def _reads(self, program: Program) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The instruments and the expulsions' destination rules ``headlines`` reads."""
        found = self._destinations.get(program)
        if found is None:
            found = self._destinations[program] = (
                tuple(i.id for i in program.instruments),
                tuple(
                    b.key
                    for i in program.instruments
                    if i.kind == "expulsion"
                    for b in destination_rules(program, i.id)
                ),
            )
        return found

    def twins(self, truth_a: Mapping[str, Truth], truth_b: Mapping[str, Truth]) -> dict[str, str]:
        """Instruments of one policy only (a's, with b's twin) that, in this region, have the same status as one of the
        other's in every case: same kind, receiving country and screening stage, and the same
        open rules left in each role once the facts fixed so far are applied (an agreement as
        implemented, here inside its window of practice, and the agreement as written)."""
        left = {slot: self._residual(self.pb, iid, truth_b) for slot, iid in self.twin_of.items()}
        found: dict[str, str] = {}
        for iid in self.only_a:
            slot = self._slot(self.pa, iid)
            if slot is None or slot not in left:
                continue
            if self._residual(self.pa, iid, truth_a) == left[slot]:
                found[iid] = self.twin_of[slot]
                del left[slot]
        return found

    def _slot(self, program: Program, iid: str) -> tuple[Any, ...] | None:
        inst = program.instrument(iid)
        if inst.kind in ("statutory_limit", "expulsion"):
            return None
        stage = next((n for n, st in enumerate(program.policy.screening) if iid in st), -1)
        return (inst.kind, inst.receiving_country or "", stage)

    @staticmethod
    def _residual(program: Program, iid: str, truth: Mapping[str, Truth]) -> tuple[Any, ...]:
        """What is left of each role of the instrument's rules: decided, or its open conditions."""
        found: list[Any] = []
        for role in ("in_force", "window", "scope", "alternative", "exclusion", "exception"):
            rules = [b for b in program.governed[iid] if b.rule.role == role]
            values = [truth[b.key] for b in rules]
            open_ = frozenset(b.when for b in rules if truth[b.key] is None)
            if role in ("in_force", "scope"):  # all must hold
                found.append(False if False in values else open_ or True)
            elif not rules:  # no window or alternative: nothing more needed; no exclusion: none
                found.append(role in ("window", "alternative"))
            else:  # one is enough
                found.append(True if True in values else open_ or False)
        return tuple(found)

    def look(
        self,
        program: Program,
        facts: Mapping[str, Any],
        truth: Mapping[str, Truth],
        twins: set[str],
        only: set[str] | None = None,
        destinations: bool = True,
        headlines: bool = True,
    ) -> tuple[set[Headline], list[tuple[str, str]], list[tuple[str, str]], Any]:
        """Possible headlines, the open facts (with the instrument whose rules test them) of
        differing instruments and of shared ones, and the statuses of the instruments the other policy does not share
        (None while any is open). Without ``destinations``, the facts of the rules that say
        where an expulsion sends the person are left out (whether it sends them anywhere is
        then one split, ``feared_key``); without ``headlines``, no headline (an empty set)."""
        statuses = dict(self.current[program.policy.id])
        self.pending[program.policy.id] = adjust(program, statuses, truth, facts)
        # stages never screened: an earlier one certainly has the person in an agreement's scope
        unscreened: set[str] = set()
        stopped = False
        for stage in program.policy.screening:
            if stopped:
                unscreened.update(stage)
            elif any(self.kinds[i] != "expulsion" and statuses[i] <= IN_SCOPE for i in stage):
                stopped = True
        differing = [
            (i.kind, i.receiving_country or "", self.stage.get(i.id), statuses[i.id], i.id)
            for i in program.instruments
            if i.id not in self.shared
            and i.id not in twins
            and i.id not in unscreened
            and i.kind != "statutory_limit"
            and (only is None or i.id in only)
        ]
        # An instrument not in force or not applicable decides nothing, as if the policy lacked it;
        # one that has the person in its scope without applying (excepted, excluded) only stops the
        # screening of later stages, which matters nowhere else. (A statutory limit decides
        # through the agreements it is bound to.)
        # An expulsion excepted because fear was established in every country it would send the
        # person to sends nobody and stops nothing (``decide`` screens on): it decides nothing.
        settled = (
            None
            if any(len(s) > 1 for *_, s, _ in differing)
            else sorted(
                (kind, country, stage, status if status == "applies" else "in_scope")
                for kind, country, stage, s, iid in differing
                if (status := next(iter(s))) not in ("not_in_force", "not_applicable")
                and (status == "applies" or (stage is not None and stage < -1))
                and not (kind == "expulsion" and status == "excepted" and facts.get(feared_key(iid)) is True)
            )
        )
        own: list[tuple[str, str]] = []
        common: list[tuple[str, str]] = []
        for b in program.rules:
            if (
                truth[b.key] is None
                and len(statuses[b.governs]) > 1
                and b.governs not in unscreened
                and (destinations or b.rule.role != "destination")
            ):
                shared = b.governs in self.shared or b.governs in twins
                for t in b.checks:
                    if _open(facts[t.fact]):
                        (common if shared else own).append((t.fact, b.governs))
                        if (
                            CATALOGUE[t.fact].type == "countries"
                            and t.op != "empty"
                            and (only is None or b.governs in only)
                        ):
                            named = t.value if isinstance(t.value, tuple) else (t.value,)
                            self.members.setdefault((t.fact, shared), []).extend(
                                m for m in named if isinstance(m, str)
                            )
        self.statuses[program.policy.id] = statuses
        heads = self.headlines(program, statuses, truth, facts) if headlines else set()
        return heads, own, common, settled

    def split(self, pending: Pending, facts: Mapping[str, Any]) -> Split:
        """The split ``adjust`` asked for."""
        fact, member = pending
        if fact.startswith(FEARED):
            return Split(fact, [False, True])
        if member is not None:
            return Split(fact, self.partition.values(fact, facts, member=member))
        return Split(fact, self.values(fact, facts))

    def example(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """One case of the class, as facts (``Partition.example``, with fear established in every
        country an expulsion would send the person to, or not, as the class says)."""
        done = self.partition.example({k: v for k, v in facts.items() if not k.startswith(FEARED)})
        for key, wanted in facts.items():
            if not key.startswith(FEARED) or wanted is UNKNOWN:
                continue
            iid = key[len(FEARED) :]
            program = next(p for p in self.programs if iid in p.governed)
            if feared(program, iid, done) == wanted:
                continue
            truth = {b.key: holds(b.when, done) for b in destination_rules(program, iid)}
            if wanted:  # fear in every country it would send the person to
                _, countries = expulsion_destination(program, iid, truth, done)
                done["fear_established_in"] = frozenset(done["fear_established_in"]) | set(countries)
            else:  # fear in none of them, where the class allows
                bare = {**done, "fear_established_in": frozenset()}
                _, countries = expulsion_destination(program, iid, truth, bare)
                fear = facts["fear_established_in"]
                kept = fear.included if isinstance(fear, PartialSet) else frozenset()
                done["fear_established_in"] = frozenset(done["fear_established_in"]) - (set(countries) - kept)
        return done

    def truths(self, node: Node) -> tuple[dict[str, Truth], dict[str, Truth]]:
        """Both policies' rule truths in a class (from its parent's, when it was split from one:
        only the rules testing the fact split are evaluated again), kept in ``node.state`` with
        the instruments' possible statuses (``self.current``: the class's, by policy)."""
        parent = node.parent
        if parent is not None and node.fact is not None and node.fact.startswith(FEARED):  # no rule tests it
            node.state = parent.state
        elif parent is None or node.fact is None:
            node.state = (*evaluate_node(self.pa, node.facts), *evaluate_node(self.pb, node.facts))
        else:
            truth_a, status_a, truth_b, status_b = parent.state
            node.state = (
                *evaluate_node(self.pa, node.facts, (node.fact, truth_a, status_a)),
                *evaluate_node(self.pb, node.facts, (node.fact, truth_b, status_b)),
            )
        truth_a, status_a, truth_b, status_b = node.state
        if self.off:
            none: frozenset[Status] = frozenset({"not_applicable"})
            status_a = {**status_a, **{i: none for i in self.off}}
            status_b = {**status_b, **{i: none for i in self.off}}
        self.current = {self.pa.policy.id: status_a, self.pb.policy.id: status_b}
        return truth_a, truth_b

    def run(self, facts: dict[str, Any]) -> None:
        """Search every class below ``facts``; raises ``SearchTooLarge`` past the budget."""
        self.partition.search(facts, self.step)

    def step(self, node: Node) -> Split | None:
        """Settle one class (recording it in ``found`` where the policies differ) or split it."""
        facts = node.facts
        self.members = {}
        truth_a, truth_b = self.truths(node)
        twins = self.twins(truth_a, truth_b)
        twinned = set(twins) | set(twins.values())
        ha, own_a, common_a, settled_a = self.look(self.pa, facts, truth_a, twinned)
        hb, own_b, common_b, settled_b = self.look(self.pb, facts, truth_b, twinned)
        if settled_a is not None and settled_a == settled_b:
            return None  # the instruments that differ agree here, and the rest is the same rules
        if _disjoint(ha, hb):  # every case here is determined differently: split only to settle its answers
            return self.record(facts, truth_a, truth_b, _summary(ha), _summary(hb))
        together = self.together(facts, truth_a, truth_b, twins)
        if together == "differ":
            return self.record(facts, truth_a, truth_b, _summary(ha), _summary(hb))
        if together == "agree":
            return None
        oa = {_outcome(h) for h in ha}
        ob = {_outcome(h) for h in hb}
        # Where only one policy can expel, where to does not bear on whether they differ: the
        # countries are left open ("depends on the case") rather than split country by country.
        if not any(o[0] == "expel" for o in ob):
            oa, ha = _coarse(oa, ha)
        if not any(o[0] == "expel" for o in oa):
            ob, hb = _coarse(ob, hb)
        if len(oa) == 1 and len(ob) == 1:
            if oa != ob:
                return self.record(facts, truth_a, truth_b, _representative(ha), _representative(hb))
            if next(iter(oa))[0] != "process_in_us":
                return None  # the same transfer or expulsion
            # Both heard in the U.S.: only the parts decided by rules the policies do not share
            # (asylum bars, waiting abroad) can differ.
            same_part = {
                kind: all(i in self.shared or i in twinned for i, k in self.kinds.items() if k == kind)
                for kind in ("asylum_bar", "wait_abroad")
            }
            parts_a = {_parts(h, same_part) for h in ha}
            parts_b = {_parts(h, same_part) for h in hb}
            if len(parts_a) == 1 and len(parts_b) == 1:
                if parts_a != parts_b:
                    return self.record(facts, truth_a, truth_b, _representative(ha), _representative(hb))
                return None
            # so only the facts of their rules are worth splitting
            parts = {k for k, same in same_part.items() if not same}
            own_a, own_b, common_a, common_b = (
                [(f, i) for f, i in facts_of if self.kinds[i] in parts]
                for facts_of in (own_a, own_b, common_a, common_b)
            )
        candidates: list[str] = []
        if own_a + own_b:
            # One instrument at a time, the one with the fewest open facts: settling it often
            # settles the comparison (an agreement that certainly applies sends the person away),
            # where interleaving the facts of every instrument multiplies the classes.
            open_facts: dict[str, set[str]] = {}
            for f, i in own_a + own_b:
                open_facts.setdefault(i, set()).add(f)
            focus = min(open_facts, key=lambda i: (len(open_facts[i]), i))
            candidates = [f for f, i in own_a + own_b if i == focus]
        pending = self.pending[self.pa.policy.id] or self.pending[self.pb.policy.id]
        if not candidates and pending is not None:  # whether an expulsion sends the person anywhere:
            return self.split(pending, facts)  # where it sends nobody, the shared rules decide alike
        if not candidates and common_a + common_b:
            # the shared instruments screened first decide whether the others are screened at all
            order = {i: self.stage.get(i) or 0 for _, i in common_a + common_b}
            first = min(order.values())
            candidates = [f for f, i in common_a + common_b if order[i] == first]
        if not candidates:
            concrete = self.example(facts)
            a, b = self.decide(self.pa, concrete, self.off), self.decide(self.pb, concrete, self.off)
            if a != b:
                self.found.append((facts, a, b))
            return None
        # facts of a few values first: a set of countries is split one member at a time, and
        # each split leaves the rest of the search to do again
        fact = max(
            dict.fromkeys(candidates),
            key=lambda f: (CATALOGUE[f].type != "countries", candidates.count(f)),
        )
        if fact == "decision_date" and "entry.date" in candidates:
            fact = "entry.date"  # decisions are split after entries, so that entry <= decision
        return Split(fact, self.values(fact, facts))

    def record(
        self,
        facts: dict[str, Any],
        truth_a: Mapping[str, Truth],
        truth_b: Mapping[str, Truth],
        a: Headline,
        b: Headline,
    ) -> Split | None:
        """A class whose cases the policies all determine differently: kept with its two answers
        once each is settled (one outcome, receiving countries, asylum and waiting; the countries
        of expulsion may stay open: they are read from the person's nationality), else split on a
        fact an instrument whose status is still open tests, so that each kind of case is one
        pair of answers."""
        if not self.settle or (_settled(a) and _settled(b)):
            self.found.append((facts, a, b))
            return None
        # the instruments that decide what is left open: any, where the outcome is; else the
        # asylum bars, or the waiting abroad
        kinds = {
            kind
            for head in (a, b)
            for kind, left in (("asylum_bar", head.asylum), ("wait_abroad", head.wait_in_mexico))
            if left == "undetermined"
        }
        every = any(h.outcome == "undetermined" or OPEN in h.transfer_to for h in (a, b))
        open_facts: dict[tuple[int, str], list[str]] = {}  # (stage, instrument) -> facts its open rules test
        for program, truth in ((self.pa, truth_a), (self.pb, truth_b)):
            statuses = self.current[program.policy.id]
            for rule in program.rules:
                if not every and self.kinds[rule.governs] not in kinds:
                    continue
                if truth[rule.key] is None and len(statuses[rule.governs]) > 1:
                    key = (self.stage.get(rule.governs) or 0, rule.governs)
                    open_facts.setdefault(key, []).extend(
                        t.fact for t in tests(rule.when) if _open(facts[t.fact])
                    )
        open_facts = {k: v for k, v in open_facts.items() if v}
        fact = None
        if open_facts:
            # the instrument screened first, then with the fewest open facts: settling it often
            # settles the answer; its most tested fact, sets of countries last
            focus = min(open_facts, key=lambda k: (k[0], len(set(open_facts[k])), k[1]))
            candidates = open_facts[focus]
            fact = max(
                dict.fromkeys(candidates),
                key=lambda f: (CATALOGUE[f].type != "countries", candidates.count(f)),
            )
        if fact is None:  # every status is settled: the answers are the class's own
            self.found.append((facts, a, b))
            return None
        if fact == "decision_date" and _open(facts["entry.date"]):
            fact = "entry.date"  # decisions are split after entries, so that entry <= decision
        return Split(fact, self.values(fact, facts))

    def values(self, fact: str, facts: Mapping[str, Any]) -> list[Any]:
        """The classes to split ``fact`` into: for a set of countries, the member most tested by
        the open rules of the instruments that differ (then of the shared ones), so that a split
        settles them soonest, with every member the rules treat alike."""
        if CATALOGUE[fact].type != "countries":
            return self.partition.values(fact, facts)
        current = self.partition.members(fact, facts)
        member = None
        for shared in (False, True):
            tested = [m for m in self.members.get((fact, shared), ()) if m in current.undecided]
            if tested:
                member = max(sorted(set(tested)), key=tested.count)
                break
        if member is None:
            named = {
                str(v) for p in (self.pa, self.pb) for v in p.constants.get(fact, ()) if isinstance(v, str)
            }
            member = sorted(current.undecided & named or current.undecided)[0]
        return self.partition.values(
            fact, facts, member=member, alike=self.alike(fact).get(member, frozenset())
        )

    def alike(self, fact: str) -> dict[str, frozenset[str]]:
        """For each country a set-valued fact may hold, every country that each test of both
        policies treats the same way (named in the same lists, never alone)."""
        if fact in self._alike:
            return self._alike[fact]
        where = self.where_matters()
        if where and fact in DESTINATION_FACTS and any(self.kinds[i] == "expulsion" for i in self.deciding()):
            self._alike[fact] = {}  # an expulsion's countries are read from the members themselves
            return {}
        signature: dict[str, set[tuple[int, str, int]]] = {}
        for number, program in enumerate((self.pa, self.pb)):
            for b in program.rules_testing(fact):
                if b.governs not in self.deciding() or (not where and b.rule.role == "destination"):
                    continue
                for index, t in enumerate(b.checks):
                    if t.fact != fact or t.op == "empty":  # emptiness treats every member alike
                        continue
                    named = t.value if isinstance(t.value, tuple) else (t.value,)
                    if not all(isinstance(m, str) for m in named):
                        self._alike[fact] = {}  # a parameter: compare member by member
                        return {}
                    for m in named:
                        signature.setdefault(str(m), set()).add((number, b.key, index))
        pool = country_pool(self.pa, fact) | country_pool(self.pb, fact)
        by_signature: dict[frozenset[tuple[int, str, int]], set[str]] = {}
        for m in pool:
            by_signature.setdefault(frozenset(signature.get(m, ())), set()).add(m)
        self._alike[fact] = {m: frozenset(group) for group in by_signature.values() for m in group}
        return self._alike[fact]

    def deciding(self) -> set[str]:
        """The instruments whose rules the search evaluates (here: all of both policies)."""
        return set(self.kinds)

    def where_matters(self) -> bool:
        """Whether the countries an expulsion sends the person to matter, not only whether it
        sends them anywhere (``feared_key``, split on as a fact of its own)."""
        return True

    @staticmethod
    def decide(program: Program, facts: Mapping[str, Any], off: frozenset[str] = frozenset()) -> Headline:
        """The headline for concrete facts (the instruments ``off`` taken as not applicable)."""
        fired = PureEngine(program).fired(facts)
        truth = {b.key: b.key in fired for b in program.rules}
        statuses = {i.id: next(iter(possible_statuses(program, i.id, truth))) for i in program.instruments}
        statuses.update({i: "not_applicable" for i in off})
        return decide(program, statuses, truth, facts).headline

    def stops(
        self, program: Program, facts: Mapping[str, Any], truth: Mapping[str, Truth]
    ) -> tuple[Truth, Pending | None]:
        """Whether the shared instruments screened first (``self.gates``) stop the screening (an
        expulsion that sends the person somewhere, an agreement that has the person in its
        scope), and while that is open, a split that tells."""
        some: Pending | None = None
        certain = True
        for iid in sorted(self.gates, key=lambda i: (self.stage.get(i) or 0, i)):
            status = possible_statuses(program, iid, truth)
            if self.kinds[iid] == "expulsion":
                sends = expels(program, iid, truth, facts) if "applies" in status else False
                if sends is False:
                    continue
                if status == {"applies"}:
                    if sends:
                        return True, None
                    split: Pending | None = (feared_key(iid), None)
                else:
                    split = self.open_fact(program, iid, facts, truth)
            else:
                if status <= IN_SCOPE:
                    return True, None
                if not status & IN_SCOPE:
                    continue
                split = self.open_fact(program, iid, facts, truth)
            certain = False
            some = some or split
        return (False, None) if certain else (None, some)

    @staticmethod
    def open_fact(
        program: Program, iid: str, facts: Mapping[str, Any], truth: Mapping[str, Truth]
    ) -> Pending | None:
        """An open fact of an undecided rule of the instrument (not a destination rule), with the
        member it names for a set of countries."""
        for b in program.governed[iid]:
            if truth[b.key] is None and b.rule.role != "destination":
                for t in b.checks:
                    value = facts[t.fact]
                    if not _open(value):
                        continue
                    if CATALOGUE[t.fact].type == "countries" and t.op != "empty":
                        named = t.value if isinstance(t.value, tuple) else (t.value,)
                        undecided = value.undecided if isinstance(value, PartialSet) else frozenset(named)
                        member = next((m for m in named if isinstance(m, str) and m in undecided), None)
                        if member is not None:
                            return (t.fact, member)
                    return (t.fact, None)
        return None


REACH_NODES = 200_000
"""Classes the search for where the screening reaches a stage may go through (a guard)."""


class _Reach(_Joint):
    """Where the instruments ``gates`` (shared by both policies, screened first) do not stop the
    screening: a search over their facts alone, each class found a region of such cases."""

    def __init__(self, pa: Program, pb: Program, gates: set[str]) -> None:
        super().__init__(pa, pb, REACH_NODES)
        self.gates = set(gates)

    def step(self, node: Node) -> Split | None:
        truth_a, _ = self.truths(node)
        stopped, split = self.stops(self.pa, node.facts, truth_a)
        if stopped is False:
            self.found.append((node.facts, None, None))
            return None
        if stopped or split is None:
            return None
        return self.split(split, node.facts)

    def deciding(self) -> set[str]:
        return self.gates


_REACHED: dict[tuple[Program, Program, frozenset[str], str], list[dict[str, Any]]] = {}
"""Keyed by the programs themselves (equal only to themselves), which it keeps alive: an id could
be reused by another rule set's program once the first is freed."""


def reached(pa: Program, pb: Program, gates: set[str], start: dict[str, Any]) -> list[dict[str, Any]]:
    """The regions where ``gates`` do not stop the screening (``_Reach``), searched once per
    programs, gates and start."""
    key = _reach_key(pa, pb, gates, start)
    if key not in _REACHED:
        search = _Reach(pa, pb, gates)
        search.run(dict(start))
        _remember_reach(pa, pb, gates, start, [facts for facts, _, _ in search.found])
    return list(_REACHED[key])


def _reach_key(
    pa: Program, pb: Program, gates: set[str], start: dict[str, Any]
) -> tuple[Program, Program, frozenset[str], str]:
    return (pa, pb, frozenset(gates), repr(sorted(start.items(), key=lambda kv: kv[0])))


def _remember_reach(
    pa: Program, pb: Program, gates: set[str], start: dict[str, Any], regions: list[dict[str, Any]]
) -> None:
    if len(_REACHED) > 64:
        _REACHED.clear()
    _REACHED[_reach_key(pa, pb, gates, start)] = regions


def _meet(one: Mapping[str, Any], other: Mapping[str, Any], spans: bool = True) -> dict[str, Any] | None:
    """The class of the cases in both classes (of the same programs' partition), or None if none
    (or if it cannot tell: a date or number class of the one that only overlaps the other's).
    ``spans``: whether either may hold a ``SPAN`` (False: neither does, a quicker look)."""
    for name, value in other.items():  # a quick look first: most pairs differ in a fixed fact
        mine = one.get(name, UNKNOWN)
        if (
            mine is not UNKNOWN
            and mine != value
            and not isinstance(mine, PartialSet)
            and not (spans and (SPAN + name in one or SPAN + name in other))
        ):
            return None
    done = dict(one)
    for name, value in other.items():
        mine = done.get(name, UNKNOWN)
        if value is UNKNOWN or mine == value or name.startswith(SPAN):
            continue
        if mine is not UNKNOWN and (SPAN + name in one or SPAN + name in other):
            # a class of a part's search (see SPAN) and a finer one: the finer, if inside it
            wide, narrow = (one, other) if SPAN + name in one else (other, one)
            lo, hi = wide[SPAN + name]
            inner = narrow[name]
            if narrow is other and SPAN + name in other:
                return None  # two coarse classes: cannot tell
            if (lo is None or lo <= inner) and (hi is None or inner < hi):
                done[name] = inner
                done.pop(SPAN + name, None)
                continue
            return None
        if mine is UNKNOWN:
            done[name] = value
        elif isinstance(mine, PartialSet) and isinstance(value, PartialSet):
            included, excluded = mine.included | value.included, mine.excluded | value.excluded
            if included & excluded:
                return None
            done[name] = PartialSet(
                included, excluded, mine.universe | value.universe, mine.alike | value.alike
            )
        else:
            return None
    return done


OPEN_HEAD = Headline("undetermined", (), "undetermined", False)

PART_NODES = 400_000
"""Classes one part's search may go through (each part is small: this is a guard)."""


def _part_list(pa: Program, pb: Program) -> list[Part]:
    countries = sorted(
        {
            i.receiving_country
            for p in (pa, pb)
            for i in p.instruments
            if i.receiving_country and i.kind != "expulsion"
        }
    )
    found: list[Part] = [("transfer_to", c) for c in countries]
    kinds = {i.kind for p in (pa, pb) for i in p.instruments}
    found += [("expel_to", "")] if "expulsion" in kinds else []
    found += [("asylum", "")] if "asylum_bar" in kinds else []
    found += [("wait_in_mexico", "")] if "wait_abroad" in kinds else []
    return found


def _by_part(pa: Program, pb: Program, searched: int, start: dict[str, Any], reason: str) -> PolicyDiff:
    groups: dict[tuple[Part, Any, Any], Group] = {}
    counts: dict[tuple[Part, Any, Any], dict[str, int]] = {}
    searches = {part: _PartSearch(pa, pb, part) for part in _part_list(pa, pb)}
    # a part whose instruments are the same, with the same rules, is the same in every case
    todo = [part for part, search in searches.items() if not search.relevant <= search.shared]
    gate_sets = sorted({frozenset(searches[p].gates) for p in todo if searches[p].factored}, key=sorted)
    found, reaches = _run_searches(pa, pb, start, todo, gate_sets)
    for gates, regions in zip(gate_sets, reaches, strict=True):
        _remember_reach(pa, pb, set(gates), start, regions)
    for part, classes in zip(todo, found, strict=True):
        search = searches[part]
        for facts, va, vb, rules in classes:
            key = (part, va, vb)
            if key not in groups:
                groups[key] = Group(OPEN_HEAD, OPEN_HEAD, (), part=key)
                if search.factored:
                    groups[key].within = reached(pa, pb, search.gates, start)
            groups[key].regions.append(facts)
            tally = counts.setdefault(key, {})
            for rule in rules:
                tally[rule] = tally.get(rule, 0) + 1
    for key, group in groups.items():
        group.rules = tuple(sorted(counts[key], key=lambda r: (-counts[key][r], r)))
        witness = _witness(searches[key[0]], group, key[1], key[2])
        if witness is not None:
            group.witness = witness
            group.a, group.b = (_Joint.decide(p, witness) for p in (pa, pb))
    ordered = list(groups.values())  # part by part, in the order of the parts
    return PolicyDiff(
        pa.policy.id, pb.policy.id, ordered, (pa, pb), by_part=True, searched=searched, reason=reason
    )


Found = list[tuple[dict[str, Any], Any, Any, tuple[str, ...]]]
"""A part's search's classes: the class, the part's value under each policy, the rules responsible."""

_Job = tuple[Program, Program, dict[str, Any]]

_JOB: _Job | None = None
"""The programs and start the searches of ``_run_searches`` read (inherited by forked workers)."""


def _search_part(part: Part, job: _Job | None = None) -> Found:
    assert job is not None or _JOB is not None
    pa, pb, start = job or _JOB  # type: ignore[misc]
    search = _PartSearch(pa, pb, part)
    search.run(dict(start))
    among = search.relevant - search.gates
    return [
        (facts, va, vb, responsible(pa, pb, search.example(facts), among)) for facts, va, vb in search.found
    ]


def _search_reach(gates: frozenset[str], job: _Job | None = None) -> list[dict[str, Any]]:
    assert job is not None or _JOB is not None
    pa, pb, start = job or _JOB  # type: ignore[misc]
    return reached(pa, pb, set(gates), start)


def _run_searches(
    pa: Program, pb: Program, start: dict[str, Any], parts: list[Part], gate_sets: list[frozenset[str]]
) -> tuple[list[Found], list[list[dict[str, Any]]]]:
    """Each part's search, and where each set of gates lets the screening on (``reached``): in
    forked worker processes when there are several CPUs (the searches are independent), else
    here. A search past its budget raises ``SearchTooLarge`` here either way (and stops the
    other searches)."""
    global _JOB
    job = (pa, pb, start)
    count = workers(len(parts) + len(gate_sets))
    if count > 1 and can_fork():
        with FORKING:
            _JOB = job
            try:
                calls: list[tuple[Callable[[Any], Any], Any]] = [
                    *((_search_reach, gates) for gates in gate_sets),
                    *((_search_part, part) for part in parts),
                ]
                done = run_forked(calls, count, lambda n, total: report("comparing part by part", n, total))
                if done is not None:
                    return done[len(gate_sets) :], done[: len(gate_sets)]
                # a worker could not start or died: search here instead
            finally:
                _JOB = None
    return [_search_part(part, job) for part in parts], [_search_reach(gates, job) for gates in gate_sets]


_EXACT: tuple[_Joint, Node] | None = None
"""The exact search and the class it split first (inherited by forked workers)."""


def _found_with_rules(search: _Joint) -> Found:
    pa, pb = search.programs
    return [(facts, ha, hb, responsible(pa, pb, search.example(facts))) for facts, ha, hb in search.found]


def _search_subtree(child: tuple[str, Any, Mapping[str, Any]]) -> tuple[Found, int]:
    """One child of the first split of the exact search, searched (in a worker): its classes and
    the classes it went through."""
    assert _EXACT is not None
    search, root = _EXACT
    fact, value, also = child
    facts = {**root.facts, fact: value, **also}
    search.found = []
    search.partition.spent = 0
    search.partition.search(facts, search.step, node=Node(facts, root, fact))
    return _found_with_rules(search), search.partition.spent


def _search_exact(search: _Joint, start: dict[str, Any]) -> Found:
    """The exact search (``_Joint.run``), with the rules responsible for each class. With several
    CPUs, the subtrees below the first split are searched in forked worker processes, in order
    (the same classes in the same order). The budget is then the sum of theirs, counted as each
    finishes: past it, the others are stopped (a subtree may pass it alone before that)."""
    global _EXACT
    count = workers(MAX_WORKERS)
    if count <= 1 or not can_fork():
        search.run(start)
        return _found_with_rules(search)
    root = Node(start)
    search.partition.spend()
    out = search.step(root)
    if not isinstance(out, Split):
        return _found_with_rules(search)
    children = [(out.fact, v, out.also[n] if out.also else {}) for n, v in enumerate(out.values)]
    budget = search.partition.budget
    with FORKING:
        _EXACT = (search, root)
        try:
            with pool(min(count, len(children))) as executor:
                futures = [executor.submit(_search_subtree, child) for child in children]
                spent = 1
                for number, done in enumerate(as_completed(futures), 1):
                    spent += done.result()[1]
                    report("searching every class of cases", number, len(futures))
                    if budget is not None and spent > budget:
                        raise SearchTooLarge(search.partition.message.format(budget=budget))
                results = [f.result() for f in futures]
        except SearchTooLarge:  # the subtrees together (or one alone) passed the budget
            search.partition.spent = (budget or 0) + 1
            raise
        except (NoPool, BrokenProcessPool):  # a worker could not start or died: search here instead
            search.partition.spent = 0
            search.run(start)
            return _found_with_rules(search)
        finally:
            _EXACT = None
    return [item for found, _ in results for item in found]


def _witness(search: _PartSearch, group: Group, va: Any, vb: Any) -> dict[str, Any] | None:
    """A case of the group (its part has the values ``va`` and ``vb``): from the first of its
    regions that meets a region where the screening reaches the part, with a nationality (the
    first, in this order, that the class leaves open) rather than stateless when that case has
    the same part values."""
    for facts in itertools.islice(_each_member(group), WITNESS_TRIES):
        nationalities = facts["nationalities"]
        trials = []
        if isinstance(nationalities, PartialSet) and not nationalities.included:
            liked = [c for c in EXAMPLE_NATIONALITIES if c in nationalities.undecided][:1]
            trials += [{**facts, "nationalities": nationalities.with_member(c, True)} for c in liked]
        for trial in [*trials, facts]:
            case = search.example(trial)
            if (search.concrete_value(search.pa, case), search.concrete_value(search.pb, case)) == (va, vb):
                return case
    return None


WITNESS_TRIES = 64
"""Classes tried in search of an example case of a part's group (see ``_witness``)."""


EXAMPLE_NATIONALITIES = ("HN", "GT", "SV", "MX", "NI", "CU", "VE", "EC", "CO", "HT", "PE", "CN", "IN", "RO")
"""Nationalities tried first for an example case, in the order of recent southwest-border arrivals."""


class _PartSearch(_Joint):
    """The joint search for one part of the determination: it splits only on the facts of the
    instruments that decide the part, and settles a class as soon as the part's possible values
    under the two policies are apart or one and the same.

    The instruments screened before a receiving country's agreements (expulsions, the STCA)
    decide whether those agreements are screened at all. Those both policies share (the same
    rules) and screen before the part's instruments (``gates``) stop the screening in the same
    cases under both: the part then differs exactly where the rest differs and the screening
    gets past them. The search compares the rest as if they were not there (a class where they
    certainly stop the screening is dropped), and a group's cases are its regions that lie where
    the screening gets past them (``Group.within``). Those screened first under one policy only,
    or with other rules (``screen``: Title 42 against a policy without it), are among the
    instruments that decide the part, split on after the part's own. A date or a number is split
    only at the cuts of the rules the search reads (``SPAN``)."""

    def __init__(self, pa: Program, pb: Program, part: Part) -> None:
        super().__init__(pa, pb, PART_NODES)
        self.part = part
        name, country = part
        self.partition.message = (
            f"the policies differ in too many ways to compare: {name}{' ' + country if country else ''} alone "
            "needs more than {budget:,} classes of cases"
        )
        relevant: set[str] = set()
        before: list[set[str] | None] = []  # by policy: the instruments screened before the part's
        for p in (pa, pb):
            if name == "transfer_to":
                kinds = {
                    i.id for i in p.instruments if i.receiving_country == country and i.kind != "expulsion"
                }
            elif name == "expel_to":
                kinds = {i.id for i in p.instruments if i.kind == "expulsion"}
            else:
                kind = "asylum_bar" if name == "asylum" else "wait_abroad"
                kinds = {i.id for i in p.instruments if i.kind == kind}
            relevant |= kinds
            stages = p.policy.screening
            first = next((n for n, st in enumerate(stages) if kinds & set(st)), None)
            # (a policy without the part's instruments gives the part one value whatever is screened)
            before.append(None if first is None else {i for st in stages[:first] for i in st})
        # Instruments screened before the part's under both policies and shared by them stop the
        # screening in the same cases under both (``gates``): they are factored out (see above).
        # Those screened first under one policy only, or with other rules, are among the
        # instruments that decide the part (``screen``).
        known = [b for b in before if b is not None]
        common_before = set.intersection(*known) if known else set()
        self.gates = common_before & self.shared
        self.screen = set().union(*known) - self.gates
        self.factored = bool(self.gates)
        self.relevant = relevant | self.screen
        self._cuts: dict[str, tuple[Any, ...]] = {}
        # twins matter only among the instruments that decide the part
        self.only_a = [i for i in self.only_a if i in self.relevant]
        self.twin_of = {slot: i for slot, i in self.twin_of.items() if i in self.relevant}

    def values_of(
        self,
        program: Program,
        facts: Mapping[str, Any],
        truth: Mapping[str, Truth],
        ungated: bool = False,
        concrete: bool = False,
    ) -> set[Any]:
        statuses = _statuses(program, truth) if concrete else dict(self.current[program.policy.id])
        name, _ = self.part
        if name in ("asylum", "wait_in_mexico"):  # if the claim is heard in the U.S.
            kind = "asylum_bar" if name == "asylum" else "wait_abroad"
            mine = [statuses[i.id] for i in program.instruments if i.kind == kind]
            found: set[Any] = set()
            if any("applies" in st for st in mine):
                found.add("barred" if name == "asylum" else True)
            if all(st - {"applies"} for st in mine):
                found.add("eligible" if name == "asylum" else False)
            return found
        if ungated:  # as if the screening reached the part's instruments
            statuses.update({i: frozenset({"not_applicable"}) for i in self.gates if i in statuses})
        adjust(program, statuses, truth, facts)
        heads = self.headlines(program, statuses, truth, facts)
        return {part_value(self.part, h) for h in heads}

    def step(self, node: Node) -> Split | None:
        facts = node.facts
        self.members = {}
        truth_a, truth_b = self.truths(node)
        va = self.values_of(self.pa, facts, truth_a, self.factored)
        vb = self.values_of(self.pb, facts, truth_b, self.factored)
        if _apart(va, vb):
            self.found.append((facts, _one(va), _one(vb)))
            return None
        if len(va) == 1 and va == vb and not _open_countries(next(iter(va))):
            return None
        twins = self.twins(truth_a, truth_b)
        twinned = set(twins) | set(twins.values())
        # where an expulsion sends the person bears on no part but the countries of expulsion
        where = self.where_matters()
        _, own_a, common_a, settled_a = self.look(
            self.pa, facts, truth_a, twinned, self.relevant, where, False
        )
        _, own_b, common_b, settled_b = self.look(
            self.pb, facts, truth_b, twinned, self.relevant, where, False
        )
        if settled_a is not None and settled_a == settled_b:
            return None  # the instruments that decide the part and differ agree here
        own = [(f, i) for f, i in own_a + own_b if i in self.relevant]
        common = [(f, i) for f, i in common_a + common_b if i in self.relevant]
        candidates: list[str] = []
        # The part's own instruments first, then those screened before them under one policy
        # only: where the part's instruments give both policies the same value whatever is
        # screened (out of their dates, out of their scope), the screening need not be split on.
        gates = [(f, i) for f, i in own + common if i in self.screen]
        own = [(f, i) for f, i in own if i not in self.screen]
        common = [(f, i) for f, i in common if i not in self.screen]
        if own:
            open_facts: dict[str, set[str]] = {}
            for f, i in own:
                open_facts.setdefault(i, set()).add(f)
            focus = min(open_facts, key=lambda i: (len(open_facts[i]), i))
            candidates = [f for f, i in own if i == focus]
        elif common:
            candidates = [f for f, _ in common]
        elif gates:  # then whether the part's instruments are screened at all
            order = {i: self.stage.get(i) or 0 for _, i in gates}
            first = min(order.values())
            candidates = [f for f, i in gates if order[i] == first]
        if not candidates:
            # an expulsion among the part's instruments: whether it sends the person anywhere
            pending = adjust(self.pa, dict(self.current[self.pa.policy.id]), truth_a, facts, self.relevant)
            pending = pending or adjust(
                self.pb, dict(self.current[self.pb.policy.id]), truth_b, facts, self.relevant
            )
            if pending is not None:
                return self.split(pending, facts)
            concrete = self.example(facts)
            a = self.concrete_value(self.pa, concrete, ungated=True)
            b = self.concrete_value(self.pb, concrete, ungated=True)
            if a != b:
                self.found.append((facts, a, b))
            return None
        fact = max(
            dict.fromkeys(candidates),
            key=lambda f: (CATALOGUE[f].type != "countries", candidates.count(f)),
        )
        if fact == "decision_date" and "entry.date" in candidates:
            fact = "entry.date"
        return self.split_at_own_cuts(fact, facts)

    def deciding(self) -> set[str]:
        return self.relevant

    def where_matters(self) -> bool:
        # the countries of expulsion, when both policies may expel (against a policy that never
        # does, whether the other expels is all that tells them apart)
        return self.part[0] == "expel_to" and all(
            any(i.kind == "expulsion" for i in p.instruments) for p in self.programs
        )

    def truths(self, node: Node) -> tuple[dict[str, Truth], dict[str, Truth]]:
        """As the joint search's, with the instruments factored out (``gates``) taken as not
        applicable: the search compares the rest as if they were not there, and its classes are
        not split at their rules' cuts, so their truths here are not read."""
        found = super().truths(node)
        if self.gates:
            none: frozenset[Status] = frozenset({"not_applicable"})
            for policy, statuses in self.current.items():
                self.current[policy] = {**statuses, **{i: none for i in self.gates if i in statuses}}
        return found

    def split(self, pending: Pending, facts: Mapping[str, Any]) -> Split:
        fact, _ = pending
        if fact in CATALOGUE and CATALOGUE[fact].type in ("date", "int"):
            return self.split_at_own_cuts(fact, facts)
        return super().split(pending, facts)

    def split_at_own_cuts(self, fact: str, facts: Mapping[str, Any]) -> Split:
        """A date or number is split only at the cuts of the rules this search reads (the part's
        instruments, those screened before them, the statutory limits): the part is the same
        across the finer classes the other rules tell apart, and each split would multiply the
        classes below it. Each class keeps its span (``SPAN``)."""
        if CATALOGUE[fact].type not in ("date", "int"):
            return Split(fact, super().values(fact, facts))
        fine = self.partition.values(fact, facts)
        own = self._own_cuts(fact)
        starts = [v for i, v in enumerate(fine) if i == 0 or any(fine[i - 1] < c <= v for c in own)]
        return Split(fact, starts, also=[{SPAN + fact: _span(v, own)} for v in starts])

    def _own_cuts(self, fact: str) -> tuple[Any, ...]:
        if fact not in self._cuts:
            read = self.relevant
            self._cuts[fact] = rule_cuts(
                (
                    t
                    for p in self.programs
                    for b in p.rules_testing(fact)
                    if b.governs in read or self.kinds.get(b.governs) == "statutory_limit"
                    for t in b.checks
                ),
                fact,
            )
        return self._cuts[fact]

    def concrete_value(self, program: Program, facts: Mapping[str, Any], ungated: bool = False) -> Any:
        """The part's value for concrete facts, the instruments screened first included (with
        ``ungated``, those factored out left out, as the search compares)."""
        truth = _truths(program, facts)
        return _one(self.values_of(program, facts, truth, ungated and self.factored, concrete=True))


def _statuses(program: Program, truth: Mapping[str, Truth]) -> dict[str, frozenset[Status]]:
    return {i.id: possible_statuses(program, i.id, truth) for i in program.instruments}


def _open_countries(value: Any) -> bool:
    return isinstance(value, tuple) and OPEN in value


def _apart(va: set[Any], vb: set[Any]) -> bool:
    """Whether no value of the one can be a value of the other (open countries may be any)."""

    def may_equal(x: Any, y: Any) -> bool:
        return _open_countries(x) or _open_countries(y) or bool(x == y)

    return not any(may_equal(x, y) for x in va for y in vb)


def _one(values: set[Any]) -> Any:
    """The value, or 'depends on the case' when the region holds several."""
    return next(iter(values)) if len(values) == 1 else DEPENDS


DEPENDS = "depends on the case"


def _truths(program: Program, facts: Mapping[str, Any]) -> dict[str, Truth]:
    return {b.key: holds(b.when, facts) for b in program.rules}


def _outcome(head: Headline) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    return (head.outcome, head.transfer_to, head.expel_to)


def _parts(head: Headline, same: Mapping[str, bool]) -> tuple[Any, ...]:
    """The parts of a U.S. headline that rules one policy does not share decide."""
    return (
        None if same["asylum_bar"] else head.asylum,
        None if same["wait_abroad"] else head.wait_in_mexico,
    )


def _coarse(
    outcomes: set[tuple[str, tuple[str, ...], tuple[str, ...]]], heads: set[Headline]
) -> tuple[set[tuple[str, tuple[str, ...], tuple[str, ...]]], set[Headline]]:
    """Outcomes and headlines with every country of expulsion merged into one open one, when
    there are several."""
    if len({o[2] for o in outcomes if o[0] == "expel"}) <= 1:
        return outcomes, heads

    def merge(h: Headline) -> Headline:
        return h._replace(expel_to=(OPEN,)) if h.outcome == "expel" else h

    merged = {merge(h) for h in heads}
    return {_outcome(h) for h in merged}, merged


def _disjoint(ha: set[Headline], hb: set[Headline]) -> bool:
    """Whether no headline the one policy may give can be one the other may give."""

    def may_equal(x: Headline, y: Headline) -> bool:
        countries = x.expel_to == y.expel_to or OPEN in x.expel_to or OPEN in y.expel_to
        return countries and (x.outcome, x.transfer_to, x.asylum, x.wait_in_mexico) == (
            y.outcome,
            y.transfer_to,
            y.asylum,
            y.wait_in_mexico,
        )

    return not any(may_equal(x, y) for x in ha for y in hb)


def _summary(heads: set[Headline]) -> Headline:
    """One headline for the several a region may have: the outcome 'undetermined' when it may be
    of more than one kind, the countries open ('?') when they depend on the case."""
    if len({h.outcome for h in heads}) > 1:
        return Headline("undetermined", (), "undetermined", False)
    if len({h.transfer_to for h in heads}) > 1:
        heads = {h._replace(transfer_to=(OPEN,)) for h in heads}
    if len({h.expel_to for h in heads}) > 1:
        heads = {h._replace(expel_to=(OPEN,)) for h in heads}
    return _representative(heads)


def _representative(heads: set[Headline]) -> Headline:
    """One headline standing for a set that agrees on the outcome; asylum 'undetermined' when the
    region holds several (the asylum bar decides within it)."""
    first = sorted(heads, key=str)[0]
    asylums = {h.asylum for h in heads}
    waits = {h.wait_in_mexico for h in heads}
    return Headline(
        first.outcome,
        first.transfer_to,
        first.asylum if len(asylums) == 1 else "undetermined",
        first.wait_in_mexico if len(waits) == 1 else "undetermined",
        first.expel_to,
    )


def _settled(head: Headline) -> bool:
    """Whether a class's answer is one answer (its countries of expulsion aside)."""
    return (
        head.outcome != "undetermined"
        and head.asylum != "undetermined"
        and head.wait_in_mexico != "undetermined"
        and OPEN not in head.transfer_to
    )


def _open(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, PartialSet) and bool(value.undecided))


def responsible(
    pa: Program, pb: Program, facts: Mapping[str, Any], among: set[str] | None = None
) -> tuple[str, ...]:
    """Rules that one policy has and the other does not, and that decide this case in it (of the
    instruments ``among``, when given)."""
    ids_a = {b.rule.id for b in pa.rules}
    ids_b = {b.rule.id for b in pb.rules}
    found: list[str] = []
    for program, others in ((pa, ids_b), (pb, ids_a)):
        own = [b for b in program.rules if b.rule.id not in others and (among is None or b.governs in among)]
        # the truths a status of their instruments reads, evaluated once each
        truth = {
            r.key: holds(r.when, facts) for iid in {b.governs for b in own} for r in program.governed[iid]
        }
        for b in own:
            if b.rule.id in found:
                continue
            value = truth[b.key]
            decisive = (
                value is True
                if b.rule.role in ("exclusion", "exception", "window", "alternative")
                else value is False
            )
            status = possible_statuses(program, b.governs, truth)
            if b.rule.role == "destination":
                decisive = False
            if decisive or (status == frozenset({"applies"}) and b.rule.role in ("in_force", "scope")):
                found.append(b.rule.id)
    return tuple(found)


# ---------------------------------------------------------------- describing regions


def describe(groups_regions: list[dict[str, Any]], programs: tuple[Program, Program]) -> list[str]:
    """The facts a group of regions covers, one line per fact that is constrained."""
    lines = []
    for fact, spec in CATALOGUE.items():
        values = [r[fact] for r in groups_regions]
        if any(v is UNKNOWN for v in values):
            continue  # some region leaves it open: any value
        if spec.type in ("date", "int"):
            cuts = program_cuts(programs, fact)
            spans = sorted(
                {span_of(r, fact, cuts) for r in groups_regions}, key=lambda s: (s[0] is not None, s[0] or 0)
            )
            merged = _merge(spans)
            if merged != [(None, None)]:
                lines.append(f"{fact} " + " or ".join(_span_words(s, spec.type) for s in merged))
        elif spec.type == "countries":
            inside = frozenset.intersection(*(v.included if isinstance(v, PartialSet) else v for v in values))
            outside = frozenset.intersection(
                *(v.excluded if isinstance(v, PartialSet) else frozenset() for v in values)
            )
            stands = {m: c for v in values if isinstance(v, PartialSet) for m, c in v.alike}
            plain = sorted(m for m in inside if m not in stands)
            words = [f"includes {show(plain)}"] if plain else []
            words += [f"includes one of {show(sorted(stands[m]))}" for m in sorted(inside) if m in stands]
            words += [f"excludes {show(sorted(outside))}"] if outside else []
            if words:
                lines.append(f"{fact} " + " and ".join(words))
        else:
            if spec.type == "enum":  # a class stands for every value the rules treat alike
                values = [m for v in dict.fromkeys(values) for m in _alike(programs, fact, v)]
            distinct = sorted({show(v) for v in values})
            everything = (
                {show(v) for v in representatives(programs[0], fact, FLOOR)}
                if spec.type != "state"
                else set()
            )
            if set(distinct) != everything:
                lines.append(
                    f"{fact} " + (distinct[0] if len(distinct) == 1 else "one of " + ", ".join(distinct))
                )
    return lines


def _alike(programs: tuple[Program, Program], fact: str, value: Any) -> list[Any]:
    checks = [t for p in programs for b in p.rules for t in b.checks if t.fact == fact]
    signature = [holds(t, {fact: value}) for t in checks]
    return [v for v in CATALOGUE[fact].values if [holds(t, {fact: v}) for t in checks] == signature]


def _span(value: Any, cuts: Sequence[Any]) -> tuple[Any, Any]:
    lower = max((c for c in cuts if c <= value), default=None)
    upper = min((c for c in cuts if c > value), default=None)
    return (lower, upper)


def _merge(spans: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    merged: list[tuple[Any, Any]] = []
    for lower, upper in spans:
        if merged and merged[-1][1] is not None and merged[-1][1] == lower:
            merged[-1] = (merged[-1][0], upper)
        else:
            merged.append((lower, upper))
    return merged


def _span_words(span: tuple[Any, Any], kind: str) -> str:
    lower, upper = span
    if kind == "date":
        last = None if upper is None else upper - dt.timedelta(days=1)
        if lower is None and last is None:
            return "any date"
        if lower is None:
            return f"on or before {last}"
        if last is None:
            return f"on or after {lower}"
        return f"{lower}" if lower == last else f"from {lower} to {last}"
    if lower is None:
        return f"under {upper}"
    if upper is None:
        return f"{lower} or more"
    return f"{lower}" if upper == lower + 1 else f"{lower} to {upper - 1}"


ADULT_AGE = 30
"""The age given to an example whose region leaves age open (any age gives its answers)."""
PLAIN_NATIONALITY = frozenset({"HN"})
"""The nationality given to an example whose region leaves nationality open."""
EXAMPLE_REGIONS = 1_000
"""Regions of a group looked at for its plainest example (a group may hold tens of thousands)."""
EXAMPLE_TRIES = 12
"""How many of the plainest drawn cases that get the group's answers are made plainer."""
EXAMPLE_LOOKS = 200
"""How many of the plainest drawn cases are checked for the group's answers, at most."""
ORDINARY_COUNTRIES = ("MX", "GT", "HN", "SV", "NI", "CU", "VE", "EC", "CO", "HT")
"""Countries preferred in an example, the most often met at the southwest border first (CBP
southwest border apprehensions by citizenship)."""
CASE_DEFAULTS = {"documents": "none", "trafficking_victim": False, "public_interest": False}
"""Fields an example leaves out when they hold their default (the case format's defaults)."""


def example(group: Group, programs: tuple[Program, Program]) -> dict[str, Any]:
    """The plainest case of the group (part by part: the group's witness, a case whose part
    differs).

    A case is drawn from each region (facts the region leaves open set to ordinary values: age
    30, one nationality); the plainest few by ``plainness`` are then made plainer one fact at a
    time (an ordinary country for each nationality and the habitual residence, age 30, defaults
    left out), a change kept only when both policies still give the same answers. The first by
    ``plainness`` of those the two policies determine as the group says is the example."""
    if group.witness is not None:
        case = readable_case(group.witness, programs[0].ruleset.context)
        answers = answers_of(case, programs)
        return case if answers is None else _plainer(case, answers, programs)
    partition = Partition(programs)
    drawn: list[tuple[tuple[Any, ...], int, dict[str, Any]]] = []
    for i, region in enumerate(_members(group, EXAMPLE_REGIONS)):
        for facts in _plain_variants(region):
            case = partition.case(facts)
            drawn.append((plainness(case), i, case))
    drawn.sort(key=lambda item: (item[0], item[1]))
    # then the group's own classes as they are (a class split finer than ``within``'s may meet
    # none of them): a case drawn from one is kept only if it gets the group's answers
    direct = [
        (plainness(case), i, case)
        for i, region in enumerate(group.regions[:EXAMPLE_LOOKS] if group.within is not None else ())
        for case in [partition.case(facts) for facts in _plain_variants(region)]
    ]
    direct.sort(key=lambda item: (item[0], item[1]))
    best: tuple[tuple[Any, ...], dict[str, Any]] | None = None
    fitting = 0
    for _, _, case in [*drawn[:EXAMPLE_LOOKS], *direct[:EXAMPLE_LOOKS]]:
        if fitting >= EXAMPLE_TRIES:
            break
        answers = answers_of(case, programs)
        if answers is None or not (_fits(answers[0], group.a) and _fits(answers[1], group.b)):
            continue
        fitting += 1
        plain = _plainer(case, answers, programs)
        if best is None or plainness(plain) < best[0]:
            best = (plainness(plain), plain)
    return best[1] if best is not None else partition.case(group.regions[0])


def _members(group: Group, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` classes of the group's cases: its regions, each met with the first region
    of ``within`` it meets (see ``Group.within``)."""
    return list(itertools.islice(_each_member(group), limit))


def _each_member(group: Group) -> Iterator[dict[str, Any]]:
    """``_members``, one at a time (a witness is usually the first)."""
    tries = MEETS
    # each region of ``within`` by what it fixes, the facts most often told apart first
    first = ("entry.date", "decision_date", "entry.border", "entry.place", "documents")
    fixed = [
        dict(
            sorted(
                ((k, v) for k, v in w.items() if v is not UNKNOWN),
                key=lambda kv: first.index(kv[0]) if kv[0] in first else len(first),
            )
        )
        for w in group.within or ()
    ]
    half = EXAMPLE_REGIONS // 2  # origins first (an origin's cases may get other answers), not only
    for region in [*group.origins[:half], *group.regions, *group.origins[half:]]:
        if tries <= 0:
            break
        if group.within is None:
            yield dict(region)
            continue
        spans = any(k.startswith(SPAN) for k in region)  # (``within`` holds none: see _Reach)
        for w in fixed:
            tries -= 1
            meet = _meet(region, w, spans)
            if meet is not None:
                yield meet
                break


MEETS = 400_000
"""Regions of ``within`` met with a group's regions, at most, in search of its example cases."""


def plainness(case: Mapping[str, Any]) -> tuple[Any, ...]:
    """How ordinary a case reads, lower first, in this order of preference: exactly one
    nationality (then none given, then stateless, then several); an adult, or no age; entry
    from Mexico over land, or no border; nationalities (and habitual residence) among those most
    often met at the southwest border; the fewest facts given; the earliest entry date."""
    nationalities = case.get("nationalities")
    if nationalities is None:
        people = 1
    elif len(nationalities) == 1:
        people = 0
    elif not nationalities:
        people = 2
    else:
        people = 2 + len(nationalities)
    entry = case.get("entry", {})
    child = 1 if isinstance(case.get("age"), int) and case["age"] < 18 else 0
    border = 0 if entry.get("border") in (None, "southern_land") else 1
    rank = {c: i for i, c in enumerate(ORDINARY_COUNTRIES)}
    named = [
        *(nationalities or ()),
        *([case["habitual_residence"]] if case.get("habitual_residence") else []),
    ]
    countries = sum(rank.get(c, len(rank)) for c in named)
    given = len(case) + len(entry)
    return (people, child, border, countries, given, entry.get("date", ""))


def _plain_variants(region: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The region with the facts it leaves open set to ordinary values, then the region as it is."""
    plain = dict(region)
    if plain.get("age_at_entry") is UNKNOWN:
        plain["age_at_entry"] = ADULT_AGE
    if plain.get("nationalities") is UNKNOWN:
        plain["nationalities"] = PLAIN_NATIONALITY
    return [plain, dict(region)] if plain != dict(region) else [plain]


def _plainer(
    case: dict[str, Any], answers: tuple[Headline, Headline], programs: tuple[Program, Program]
) -> dict[str, Any]:
    """``case`` made plainer one change at a time, each kept only if the answers stay the same."""

    def same(trial: dict[str, Any]) -> bool:
        return answers_of(trial, programs) == answers

    current = {k: v for k, v in case.items() if k not in CASE_DEFAULTS or CASE_DEFAULTS[k] != v}
    if not same(current):
        current = case
    if isinstance(current.get("age"), int) and current["age"] != ADULT_AGE:
        trial = {**current, "age": ADULT_AGE}
        if same(trial):
            current = trial
    rank = {c: i for i, c in enumerate(ORDINARY_COUNTRIES)}
    if not current.get("nationalities"):  # stateless, or none given: one ordinary nationality
        for country in ORDINARY_COUNTRIES:
            trial = {**current, "nationalities": [country]}
            trial.pop("habitual_residence", None)
            if same(trial):
                current = trial
                break
    for member in list(current.get("nationalities") or []):
        for country in ORDINARY_COUNTRIES[: rank.get(member, len(rank))]:
            if country in current["nationalities"]:
                continue
            trial = {**current, "nationalities": sorted({*current["nationalities"], country} - {member})}
            if trial.get("habitual_residence") == country:
                trial.pop("habitual_residence")
            if same(trial):
                current = trial
                break
    home = current.get("habitual_residence")
    if isinstance(home, str):
        for country in ORDINARY_COUNTRIES[: rank.get(home, len(rank))]:
            trial = {**current, "habitual_residence": country}
            if country in (current.get("nationalities") or ()):
                trial.pop("habitual_residence")
            if same(trial):
                current = trial
                break
    if "habitual_residence" in current and current.get("nationalities"):  # a fact the answers may not need
        trial = {k: v for k, v in current.items() if k != "habitual_residence"}
        if same(trial):
            current = trial
    return current


def answers_of(
    case: Mapping[str, Any], programs: tuple[Program, Program]
) -> tuple[Headline, Headline] | None:
    """The two policies' answers for ``case``, or None if it is not a valid case."""
    from eligibility.case import parse_case
    from eligibility.errors import CaseError
    from eligibility.ruleset.facts import derive_facts

    try:
        parsed = parse_case(dict(case))
    except CaseError:
        return None
    facts, _ = derive_facts(parsed, programs[0].ruleset.context)
    return (_Joint.decide(programs[0], facts), _Joint.decide(programs[1], facts))


def _fits(got: Headline, wanted: Headline) -> bool:
    if wanted.outcome == "undetermined":
        return True
    return (
        got.outcome == wanted.outcome
        and wanted.transfer_to in (got.transfer_to, (OPEN,))
        and wanted.expel_to in (got.expel_to, (OPEN,))
        and wanted.asylum in (got.asylum, "undetermined")
        and wanted.wait_in_mexico in (got.wait_in_mexico, "undetermined")
    )


# ---------------------------------------------------------------- exact descriptions
#
# A region of the joint search is a box: for each fact the search split on, one class of values
# (a span between the rules' cut points for a date or a number; the values every test treats
# alike for a yes/no, an enumeration, a country or a state; for a set of countries, members known
# in or out), and any value for the facts it left open. A group is the union of its regions, so
# it is described exactly by its boxes. Boxes that differ in one fact only are merged (the fact's
# classes joined), and boxes inside others dropped, until nothing changes: a short union of exact
# boxes, never a bounding box.

OTHER = "another country"
"""How a description names any country the rules do not name."""


@dataclass(frozen=True)
class Allowed:
    """The values one fact may take in a box: ``values`` (for yes/no, enumerations, countries and
    states, plus ``other``: any value the rules do not name), ``spans`` (dates and numbers,
    ``[low, high)``, None for no bound), or ``sets`` (sets of countries: alternatives, each
    (members in, groups of which one member is in, members out))."""

    kind: str
    values: frozenset[Any] = frozenset()
    other: bool = False
    spans: tuple[tuple[Any, Any], ...] = ()
    sets: frozenset[Cube] = frozenset()

    def __hash__(self) -> int:  # boxes are hashed over and over while they are merged: once each
        found: int | None = self.__dict__.get("_hash")
        if found is None:
            found = self.__dict__["_hash"] = hash((self.kind, self.values, self.other, self.spans, self.sets))
        return found


Box = tuple[tuple[str, Allowed], ...]
Cube = frozenset[tuple[str, bool]]


def minimize(cubes: Iterable[Cube]) -> frozenset[Cube]:
    """A short union of cubes equal to the union of ``cubes`` (a cube: members known in or out of
    a set of countries, the others free). Cubes inside others are dropped; two cubes that differ
    only in one member's presence are merged; a member's literal is dropped from a cube when the
    cube with that literal reversed lies inside another cube (so the union does not change)."""
    found = set(cubes)
    changed = True
    while changed:
        changed = False
        for cube in sorted(found, key=lambda c: (-len(c), sorted(c))):
            if cube not in found:
                continue
            if any(other != cube and other <= cube for other in found):
                found.discard(cube)  # inside a cube with fewer literals
                changed = True
                continue
            for member, present in sorted(cube):
                flipped = (cube - {(member, present)}) | {(member, not present)}
                if any(other <= flipped for other in found if other != cube):
                    found.discard(cube)
                    found.add(cube - {(member, present)})
                    changed = True
                    break
    return frozenset(found)


class Describer:
    """Exact descriptions of groups of regions, and whether a case's facts lie in one."""

    def __init__(self, programs: tuple[Program, Program]) -> None:
        self.programs = programs
        self._named: dict[str, frozenset[Any]] = {}
        self._cuts: dict[str, tuple[Any, ...]] = {}
        self._tests: dict[str, list[Test]] = {}
        self._allowed: dict[tuple[str, Any], Allowed | None] = {}  # regions share most classes
        self._within: dict[tuple[Any, ...], tuple[list[Mapping[str, Any]], set[Box]]] = {}

    def named(self, fact: str) -> frozenset[Any]:
        if fact not in self._named:
            self._named[fact] = frozenset(
                v for p in self.programs for v in p.constants.get(fact, ()) if isinstance(v, str)
            )
        return self._named[fact]

    def cuts(self, fact: str) -> tuple[Any, ...]:
        if fact not in self._cuts:
            self._cuts[fact] = program_cuts(self.programs, fact)
        return self._cuts[fact]

    def _checks(self, fact: str) -> list[Test]:
        if fact not in self._tests:  # asked once per region and fact: gathered once per fact
            self._tests[fact] = [
                t for p in self.programs for b in p.rules_testing(fact) for t in b.checks if t.fact == fact
            ]
        return self._tests[fact]

    def _signature(self, fact: str, value: Any) -> tuple[Any, ...]:
        return tuple(holds(t, {fact: value}) for t in self._checks(fact))

    def allowed(self, fact: str, value: Any) -> Allowed | None:
        """The class of ``value`` in a region, or None when the region leaves ``fact`` open."""
        if value is UNKNOWN:
            return None
        key = (fact, value)
        try:
            return self._allowed[key]
        except KeyError:
            found = self._allowed[key] = self._allowed_of(fact, value)
            return found
        except TypeError:  # not hashable
            return self._allowed_of(fact, value)

    def _allowed_of(self, fact: str, value: Any) -> Allowed | None:
        if fact.startswith(FEARED):
            return Allowed("values", values=frozenset({value}))
        kind = CATALOGUE[fact].type
        if kind in ("date", "int"):
            return Allowed("spans", spans=(_span(value, self.cuts(fact)),))
        if kind == "countries":
            if not isinstance(value, PartialSet):
                value = PartialSet(frozenset(value), frozenset(), frozenset(value))
            named = self.named(fact)
            standing = {m for m, _ in value.alike}
            base = {(m, True) for m in self._in_terms(value.included - standing, named)}
            base |= {(m, False) for m in self._in_terms(value.excluded, named)}
            cubes = [frozenset(base)]
            for _, members in sorted(value.alike, key=str):  # one of them in: disjoint cubes
                ordered = sorted(self._in_terms(members, named))
                cubes = [
                    c | {(m, True)} | {(e, False) for e in ordered[:i]}
                    for c in cubes
                    for i, m in enumerate(ordered)
                ]
            return Allowed("sets", sets=minimize(c for c in cubes if not _contradicts(c)))
        sig = self._signature(fact, value)
        if kind in ("bool", "enum"):
            domain: tuple[Any, ...] = (False, True) if kind == "bool" else CATALOGUE[fact].values
            return Allowed("values", values=frozenset(v for v in domain if self._signature(fact, v) == sig))
        named = self.named(fact)
        stand_in = (
            other_country(named)
            if kind == "country"
            else next(s for s in ("TX", "NM", "NY", "FL", "WA") if s not in named)
        )
        alike = frozenset(v for v in named if self._signature(fact, v) == sig)
        return Allowed("values", values=alike, other=self._signature(fact, stand_in) == sig)

    def _in_terms(self, members: frozenset[str], named: frozenset[Any]) -> set[str]:
        return {m if m in named else OTHER for m in members}

    def boxes(
        self, regions: Sequence[Mapping[str, Any]], within: Sequence[Mapping[str, Any]] | None = None
    ) -> list[Box]:
        """The group's regions as boxes, merged and pruned (see above); with ``within``, the
        cases of the regions that lie in one of those (``Group.within``): each box of the one
        intersected with each box of the other, fact by fact, then merged and pruned again."""
        names = [
            *CATALOGUE,
            *sorted({k for r in [*regions, *(within or ())] for k in r if k.startswith(FEARED)}),
        ]
        found: set[Box] = set()
        for region in regions:
            clauses = []
            for fact in names:
                kept = region.get(SPAN + fact)
                if kept is not None:  # a class of a part's search (see SPAN)
                    allowed: Allowed | None = Allowed("spans", spans=(kept,))
                else:
                    allowed = self.allowed(fact, region.get(fact, UNKNOWN))
                if allowed is not None and not self._everything(fact, allowed):
                    clauses.append((fact, allowed))
            found.add(tuple(clauses))
        found = self._simplify(found, names)
        if within is not None:
            theirs = self._within_boxes(within, names)
            found = self._simplify(
                {box for one in found for two in theirs if (box := self._intersect(one, two)) is not None},
                names,
            )
        return sorted(found, key=lambda box: (len(box), [_order(c) for c in box], self.words(box)))

    def _within_boxes(self, within: Sequence[Mapping[str, Any]], names: Sequence[str]) -> set[Box]:
        """``within`` as boxes, merged and pruned: once per list of regions (the groups of a part,
        and the parts screened after the same instruments, share one)."""
        key = (tuple(map(id, within)), tuple(names))
        kept = self._within.get(key)
        if kept is None:  # (the regions are kept with their boxes: their ids stay theirs)
            kept = self._within[key] = (list(within), self._simplify(set(self.boxes(within)), names))
        return kept[1]

    def _intersect(self, one: Box, two: Box) -> Box | None:
        """The cases of both boxes, as a box (None: none)."""
        mine = dict(one)
        for fact, allowed in two:
            have = mine.get(fact)
            if have is None:
                mine[fact] = allowed
                continue
            both = self._both(have, allowed)
            if both is None:
                return None
            mine[fact] = both
        return tuple(sorted(mine.items(), key=_order))

    @staticmethod
    def _both(x: Allowed, y: Allowed) -> Allowed | None:
        if x.kind == "spans":
            spans = []
            for lo1, hi1 in x.spans:
                for lo2, hi2 in y.spans:
                    lo = lo1 if lo2 is None else lo2 if lo1 is None else max(lo1, lo2)
                    hi = hi1 if hi2 is None else hi2 if hi1 is None else min(hi1, hi2)
                    if lo is None or hi is None or lo < hi:
                        spans.append((lo, hi))
            return Allowed("spans", spans=tuple(_merge(sorted(spans, key=_span_key)))) if spans else None
        if x.kind == "sets":
            cubes = [a | b for a in x.sets for b in y.sets if not _contradicts(a | b)]
            return Allowed("sets", sets=minimize(cubes)) if cubes else None
        values, other = x.values & y.values, x.other and y.other
        return Allowed("values", values=values, other=other) if values or other else None

    def _simplify(self, found: set[Box], names: Sequence[str]) -> set[Box]:
        """Boxes that differ in one fact merged, boxes inside others dropped, until nothing changes."""
        changed = True
        while changed:
            changed = False
            present = {f for box in found for f, _ in box}  # a fact no box names merges nothing
            for fact in [f for f in names if f in present]:
                buckets: dict[Box, list[tuple[Box, Allowed | None]]] = {}
                for box in found:
                    rest = tuple(c for c in box if c[0] != fact)
                    buckets.setdefault(rest, []).append((box, next((a for f, a in box if f == fact), None)))
                merged: set[Box] = set()
                for rest, boxes in buckets.items():
                    if len(boxes) == 1:  # nothing to merge it with: the box as it is
                        merged.add(boxes[0][0])
                        continue
                    changed = True
                    joined = self._join(fact, [choice for _, choice in boxes])
                    merged.add(
                        tuple(sorted([*rest, (fact, joined)] if joined is not None else rest, key=_order))
                    )
                found = merged
            kept = {box for box in found if not any(other != box and _inside(box, other) for other in found)}
            changed = changed or kept != found
            found = kept
        return found

    def _join(self, fact: str, choices: list[Allowed | None]) -> Allowed | None:
        if any(c is None for c in choices):
            return None  # one of them allows any value
        present = [c for c in choices if c is not None]
        first = present[0]
        if first.kind == "spans":
            joined = Allowed(
                "spans", spans=tuple(_merge(sorted({s for c in present for s in c.spans}, key=_span_key)))
            )
        elif first.kind == "sets":
            joined = Allowed("sets", sets=minimize(frozenset().union(*(c.sets for c in present))))
        else:
            joined = Allowed(
                "values",
                values=frozenset().union(*(c.values for c in present)),
                other=any(c.other for c in present),
            )
        return None if self._everything(fact, joined) else joined

    def _everything(self, fact: str, allowed: Allowed) -> bool:
        if fact.startswith(FEARED):
            return allowed.values == {False, True}
        kind = CATALOGUE[fact].type
        if allowed.kind == "spans":
            return allowed.spans == ((None, None),)
        if allowed.kind == "sets":
            return frozenset() in allowed.sets
        if kind == "bool":
            return allowed.values == {False, True}
        if kind == "enum":
            return allowed.values == set(CATALOGUE[fact].values)
        return allowed.other and allowed.values == self.named(fact)

    def words(self, box: Box) -> list[str]:
        """A box as lines a reader checks a case against, one per fact."""
        return [self._clause(fact, allowed) for fact, allowed in box]

    def _clause(self, fact: str, allowed: Allowed) -> str:
        if fact.startswith(FEARED):
            return (
                "fear_established_in "
                + ("includes" if True in allowed.values else "does not include")
                + f" every country {fact[len(FEARED) :]} would expel the person to"
            )
        kind = CATALOGUE[fact].type
        if allowed.kind == "spans":
            return f"{fact} " + " or ".join(_span_words(s, kind) for s in allowed.spans)
        if allowed.kind == "sets":
            return f"{fact} " + " or ".join(self._set_words(fact, allowed.sets))
        values = sorted(allowed.values, key=show)
        if kind == "bool":
            return f"{fact} {show(values[0])}"
        if allowed.other:
            left = sorted(self.named(fact) - allowed.values)
            return f"{fact} not {' or '.join(left)}" if left else f"{fact} any"
        return f"{fact} " + (
            show(values[0]) if len(values) == 1 else "one of " + ", ".join(map(show, values))
        )

    def _set_words(self, fact: str, cubes: frozenset[Cube]) -> list[str]:
        """Cubes in words; cubes alike but for one member known in are said together ("includes
        one of"), and "one of" every member but those excluded is said "is not empty"."""
        grouped: dict[Cube, set[str]] = {}
        alone: list[Cube] = []
        for cube in cubes:
            ins = [m for m, present in cube if present]
            if len(ins) == 1:
                grouped.setdefault(cube - {(ins[0], True)}, set()).add(ins[0])
            else:
                alone.append(cube)
        universe = self.named(fact) | {OTHER}
        options = []
        for rest, members in sorted(grouped.items(), key=lambda item: sorted(item[1])):
            outside = sorted(m for m, present in rest if not present)
            if len(members) == 1:
                words = [f"includes {show(sorted(members))}"]
            elif members | set(outside) == universe:
                words = ["is not empty"]
            else:
                words = [f"includes one of {show(sorted(members))}"]
            words += [f"excludes {show(outside)}"] if outside else []
            options.append(" and ".join(words))
        for cube in sorted(alone, key=sorted):
            inside = sorted(m for m, present in cube if present)
            outside = sorted(m for m, present in cube if not present)
            if not inside and set(outside) == universe:
                options.append("is empty (stateless)" if fact == "nationalities" else "is empty")
                continue
            words = [f"includes {show(inside)}"] if inside else []
            words += [f"excludes {show(outside)}"] if outside else []
            options.append(" and ".join(words) or "any")
        return options

    def holds_in(self, box: Box, facts: Mapping[str, Any]) -> bool:
        """Whether known facts (``derive_facts``) lie in ``box``."""
        for fact, allowed in box:
            if fact.startswith(FEARED):
                iid = fact[len(FEARED) :]
                program = next(p for p in self.programs if iid in p.governed)
                if feared(program, iid, facts) not in allowed.values:
                    return False
                continue
            value = facts.get(fact, UNKNOWN)
            if value is UNKNOWN:
                return False
            if allowed.kind == "spans":
                if not any(
                    (lo is None or lo <= value) and (hi is None or value < hi) for lo, hi in allowed.spans
                ):
                    return False
            elif allowed.kind == "sets":
                have = self._in_terms(frozenset(value), self.named(fact))
                if not any(all((m in have) == present for m, present in cube) for cube in allowed.sets):
                    return False
            elif value not in allowed.values and not (allowed.other and value not in self.named(fact)):
                return False
        return True


def _contradicts(cube: Cube) -> bool:
    return any((m, not present) in cube for m, present in cube)


def _order(clause: tuple[str, Allowed]) -> tuple[int, str]:
    fact = clause[0]
    return (list(CATALOGUE).index(fact), "") if fact in CATALOGUE else (len(CATALOGUE), fact)


def _span_key(span: tuple[Any, Any]) -> tuple[bool, Any]:
    return (span[0] is not None, span[0] if span[0] is not None else 0)


def _inside(small: Box, big: Box) -> bool:
    """Whether every case of box ``small`` is in box ``big`` (checked fact by fact; sets of
    countries only when ``big``'s alternatives include all of ``small``'s)."""
    mine = dict(small)
    for fact, allowed in big:
        own = mine.get(fact)
        if own is None or own.kind != allowed.kind:
            return False
        if allowed.kind == "spans":
            if not all(
                any(
                    (lo is None or (a is not None and lo <= a))
                    and (hi is None or (b is not None and b <= hi))
                    for lo, hi in allowed.spans
                )
                for a, b in own.spans
            ):
                return False
        elif allowed.kind == "sets":
            if not own.sets <= allowed.sets:
                return False
        elif not (own.values <= allowed.values and (allowed.other or not own.other)):
            return False
    return True


__all__ = ["Describer", "Group", "PolicyDiff", "describe", "diff", "example", "plainness", "responsible"]
