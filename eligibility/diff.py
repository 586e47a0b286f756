"""Policy diff: every class of cases whose determination differs between two policies.

A joint search over both policies' facts (three-valued evaluation prunes the classes where both
policies settle the same headline) finds every region where they differ, exactly. Regions are
grouped by the two headlines and the rules responsible (rules one policy has and the other does
not, that decide the region), and each group is described by the ranges of facts it covers, with
an example case and the citations of the responsible rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from eligibility.conditions import PartialSet, holds, show
from eligibility.decide import OPEN, Headline, decide, possible_headlines, possible_statuses
from eligibility.engines import PureEngine
from eligibility.facts import CATALOGUE, UNKNOWN
from eligibility.program import Program, classes, compile_policy, country_pool, representatives
from eligibility.ruleset import RuleSet
from eligibility.witness import example_case

FLOOR = dt.date(2000, 1, 1)
MAX_NODES = 300_000


@dataclass
class Group:
    """Regions of cases with the same pair of determinations and the same responsible rules."""

    a: Headline
    b: Headline
    rules: tuple[str, ...]
    regions: list[dict[str, Any]] = field(default_factory=list)
    population: int = 0

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


def diff(ruleset: RuleSet, a: str, b: str) -> PolicyDiff:
    """Every region of cases that ``a`` and ``b`` determine differently, grouped."""
    pa, pb = compile_policy(ruleset, a), compile_policy(ruleset, b)
    search = _Joint(pa, pb)
    search.run({name: UNKNOWN for name in CATALOGUE})
    groups: dict[tuple[Headline, Headline], Group] = {}
    counts: dict[tuple[Headline, Headline], dict[str, int]] = {}
    for facts, ha, hb in search.found:
        group = groups.setdefault((ha, hb), Group(ha, hb, ()))
        group.regions.append(facts)
        tally = counts.setdefault((ha, hb), {})
        for rule in responsible(pa, pb, search.complete(facts)):
            tally[rule] = tally.get(rule, 0) + 1
    for key, group in groups.items():  # the rules responsible somewhere in the group, most often first
        group.rules = tuple(sorted(counts[key], key=lambda r: (-counts[key][r], r)))
    ordered = sorted(groups.values(), key=lambda g: -len(g.regions))
    return PolicyDiff(a, b, ordered, (pa, pb))


class _Joint:
    """The joint search. Instruments that both policies share (same id, same rules) have the same
    status in every case, so splits go first to the facts of the instruments that differ, and a
    class is settled as soon as the outcomes are known to differ or to agree."""

    def __init__(self, pa: Program, pb: Program) -> None:
        self.pa, self.pb = pa, pb
        self.found: list[tuple[dict[str, Any], Headline, Headline]] = []
        self.nodes = 0
        self.used = pa.facts_used | pb.facts_used
        self.members: dict[tuple[str, bool], list[str]] = {}  # (fact, of shared instruments) -> tested

        def signature(program: Program, iid: str) -> tuple[str, ...]:
            return tuple(sorted(b.rule.id for b in program.governed[iid]))

        shared = {i.id for i in pa.instruments} & {i.id for i in pb.instruments}
        self.shared = {i for i in shared if signature(pa, i) == signature(pb, i)}
        kinds = {i.id: i.kind for p in (pa, pb) for i in p.instruments}
        self.asylum_shared = all(
            i in self.shared for i, k in kinds.items() if k in ("asylum_bar", "wait_abroad")
        )

    def look(
        self, program: Program, facts: Mapping[str, Any]
    ) -> tuple[set[Headline], list[str], list[str], Any]:
        """Possible headlines, the open facts of differing and of shared instruments, and the
        statuses of the instruments the other policy does not share (None while any is open)."""
        truth = {b.key: holds(b.when, facts) for b in program.rules}
        statuses = {i.id: possible_statuses(program, i.id, truth) for i in program.instruments}
        differing = [
            (i.kind, i.receiving_country, statuses[i.id])
            for i in program.instruments
            if i.id not in self.shared
        ]
        # an instrument not in force or not applicable decides nothing, as if the policy lacked it
        settled = (
            None
            if any(len(s) > 1 for _, _, s in differing)
            else sorted(
                (kind, country or "", status)
                for kind, country, s in differing
                if (status := next(iter(s))) not in ("not_in_force", "not_applicable")
            )
        )
        own: list[str] = []
        common: list[str] = []
        for b in program.rules:
            if truth[b.key] is None and len(statuses[b.governs]) > 1:
                target = common if b.governs in self.shared else own
                for t in b.checks:
                    if _open(facts[t.fact]):
                        target.append(t.fact)
                        if CATALOGUE[t.fact].type == "countries" and t.op != "empty":
                            named = t.value if isinstance(t.value, tuple) else (t.value,)
                            self.members.setdefault((t.fact, b.governs in self.shared), []).extend(
                                m for m in named if isinstance(m, str)
                            )
        return possible_headlines(program, statuses, truth, facts), own, common, settled

    def run(self, facts: dict[str, Any]) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise RuntimeError(f"the diff needs more than {MAX_NODES} classes")
        self.members = {}
        ha, own_a, common_a, settled_a = self.look(self.pa, facts)
        hb, own_b, common_b, settled_b = self.look(self.pb, facts)
        if settled_a is not None and settled_a == settled_b:
            return  # the instruments that differ agree here, and the rest is the same rules
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
                self.found.append((facts, _representative(ha), _representative(hb)))
                return
            if next(iter(oa))[0] == "transfer" or self.asylum_shared:
                return  # same outcome, and asylum and waiting come from the same rules
            if len(ha) == 1 and len(hb) == 1:
                if ha != hb:
                    self.found.append((facts, next(iter(ha)), next(iter(hb))))
                return
        candidates = own_a + own_b or common_a + common_b
        if not candidates:
            concrete = self.complete(facts)
            a, b = self.decide(self.pa, concrete), self.decide(self.pb, concrete)
            if a != b:
                self.found.append((facts, a, b))
            return
        fact = max(dict.fromkeys(candidates), key=candidates.count)
        if fact == "decision_date" and "entry.date" in candidates:
            fact = "entry.date"  # decisions are split after entries, so that entry <= decision
        for value in self.values(fact, facts):
            self.run({**facts, fact: value})

    def values(self, fact: str, facts: Mapping[str, Any]) -> list[Any]:
        spec = CATALOGUE[fact]
        entry = facts["entry.date"] if facts["entry.date"] is not UNKNOWN else FLOOR
        if spec.type != "countries":
            return list(classes(self.pa, fact, FLOOR if fact == "entry.date" else entry, self.pb))
        current = facts[fact]
        if current is UNKNOWN:
            current = PartialSet(
                frozenset(), frozenset(), country_pool(self.pa, fact) | country_pool(self.pb, fact)
            )
        # the member most tested by the open rules of the instruments that differ (then of the
        # shared ones), so that a split settles them soonest
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
        return [current.with_member(member, True), current.with_member(member, False)]

    def complete(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        done = dict(facts)
        if done["entry.date"] is UNKNOWN:
            done["entry.date"] = done["decision_date"] if done["decision_date"] is not UNKNOWN else FLOOR
        for name in CATALOGUE:
            value = done[name]
            if isinstance(value, PartialSet):
                done[name] = value.included
            elif value is UNKNOWN and name in self.used:
                program = self.pa if name in self.pa.facts_used else self.pb
                done[name] = representatives(program, name, done["entry.date"])[0]
        return done

    @staticmethod
    def decide(program: Program, facts: Mapping[str, Any]) -> Headline:
        fired = PureEngine(program).fired(facts)
        truth = {b.key: b.key in fired for b in program.rules}
        statuses = {i.id: next(iter(possible_statuses(program, i.id, truth))) for i in program.instruments}
        return decide(program, statuses, truth, facts).headline


def _outcome(head: Headline) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    return (head.outcome, head.transfer_to, head.expel_to)


def _coarse(
    outcomes: set[tuple[str, tuple[str, ...], tuple[str, ...]]], heads: set[Headline]
) -> tuple[set[tuple[str, tuple[str, ...], tuple[str, ...]]], set[Headline]]:
    """Outcomes and headlines with every country of expulsion merged into one open one, when
    there are several."""
    if len({o[2] for o in outcomes if o[0] == "expel"}) <= 1:
        return outcomes, heads

    def merge(h: Headline) -> Headline:
        return replace(h, expel_to=(OPEN,)) if h.outcome == "expel" else h

    merged = {merge(h) for h in heads}
    return {_outcome(h) for h in merged}, merged


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
        first.wait_in_mexico if len(waits) == 1 else False,
        first.expel_to,
    )


def _open(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, PartialSet) and bool(value.undecided))


def responsible(pa: Program, pb: Program, facts: Mapping[str, Any]) -> tuple[str, ...]:
    """Rules that one policy has and the other does not, and that decide this case in it."""
    ids_a = {b.rule.id for b in pa.rules}
    ids_b = {b.rule.id for b in pb.rules}
    found: list[str] = []
    for program, others in ((pa, ids_b), (pb, ids_a)):
        truth = {b.key: holds(b.when, facts) for b in program.rules}
        for b in program.rules:
            if b.rule.id in others or b.rule.id in found:
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


def _bounds(programs: Iterable[Program], fact: str) -> list[Any]:
    cuts: set[Any] = set()
    day = dt.timedelta(days=1) if CATALOGUE[fact].type == "date" else 1
    for program in programs:
        for b in program.rules:
            for t in b.checks:
                if t.fact == fact and not isinstance(t.value, tuple):
                    if t.op in ("ge", "lt"):
                        cuts.add(t.value)
                    elif t.op in ("gt", "le"):
                        cuts.add(t.value + day)  # type: ignore[operator]
                    elif t.op in ("eq", "ne"):
                        cuts |= {t.value, t.value + day}  # type: ignore[operator]
    return sorted(cuts)


def describe(groups_regions: list[dict[str, Any]], programs: tuple[Program, Program]) -> list[str]:
    """The facts a group of regions covers, one line per fact that is constrained."""
    lines = []
    for fact, spec in CATALOGUE.items():
        values = [r[fact] for r in groups_regions]
        if any(v is UNKNOWN for v in values):
            continue  # some region leaves it open: any value
        if spec.type in ("date", "int"):
            cuts = _bounds(programs, fact)
            spans = sorted({_span(v, cuts) for v in values}, key=lambda s: (s[0] is not None, s[0] or 0))
            merged = _merge(spans)
            if merged != [(None, None)]:
                lines.append(f"{fact} " + " or ".join(_span_words(s, spec.type) for s in merged))
        elif spec.type == "countries":
            inside = frozenset.intersection(*(v.included if isinstance(v, PartialSet) else v for v in values))
            outside = frozenset.intersection(
                *(v.excluded if isinstance(v, PartialSet) else frozenset() for v in values)
            )
            words = [f"includes {show(sorted(inside))}"] if inside else []
            words += [f"excludes {show(sorted(outside))}"] if outside else []
            if words:
                lines.append(f"{fact} " + " and ".join(words))
        else:
            if spec.type == "enum":  # a class stands for every value the rules treat alike
                values = [m for v in values for m in _alike(programs, fact, v)]
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


def _span(value: Any, cuts: list[Any]) -> tuple[Any, Any]:
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


def example(group: Group, programs: tuple[Program, Program]) -> dict[str, Any]:
    """A case in the group's first region."""
    joint = _Joint(*programs)
    return example_case(joint.complete(group.regions[0]), programs[0].ruleset.context)


__all__ = ["Group", "PolicyDiff", "describe", "diff", "example", "responsible"]
