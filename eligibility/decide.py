"""From the rules that hold to each instrument's status, and from statuses to the outcome (A7).

Status of an instrument, from its rules (the order is the precedence, written here once):

1. ``not_in_force`` unless every ``in_force`` rule holds and, if it has ``window`` rules (periods
   of enforceability that are alternatives, such as court orders), at least one of them holds;
2. ``not_applicable`` unless every ``scope`` rule holds and no ``exclusion`` holds;
3. ``excepted`` when an ``exception`` holds;
4. ``applies`` otherwise.

Then the policy's screening order (A7): transfer agreements are screened stage by stage; once an
agreement of a stage has the person within its scope (applies or excepted), later stages are not
screened. Any agreement that applies sends the person to its receiving country; otherwise the claim
is heard in the U.S., where an asylum bar that applies bars asylum and a wait-abroad instrument
that applies decides ``wait_in_mexico``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from eligibility.conditions import Truth
from eligibility.program import Program

Status = Literal["applies", "excepted", "not_applicable", "not_in_force", "undetermined", "excluded"]
"""``excluded`` is internal: within the instrument's scope but excluded (reported as not_applicable).
It matters for screening (A7.1): a person within the STCA's scope is not screened under any ACA."""
Outcome = Literal["transfer", "process_in_us", "undetermined"]
Asylum = Literal["eligible", "barred", "not_in_us", "undetermined"]


@dataclass(frozen=True)
class Headline:
    outcome: Outcome
    transfer_to: tuple[str, ...]
    asylum: Asylum
    wait_in_mexico: bool


@dataclass(frozen=True)
class Decision:
    headline: Headline
    statuses: Mapping[str, Status]
    screened_out_by: Mapping[str, str]  # agreement -> the agreement whose scope stopped its screening
    not_amenable: frozenset[str] = frozenset()  # wait-abroad instruments set aside by a transfer


def _possible(value: Truth) -> tuple[bool, ...]:
    return (False, True) if value is None else (value,)


def _and(values: Iterable[Truth]) -> Truth:
    values = list(values)
    return False if False in values else None if None in values else True


def _or(values: Iterable[Truth]) -> Truth:
    values = list(values)
    return True if True in values else None if None in values else False


def possible_statuses(program: Program, iid: str, truth: Mapping[str, Truth]) -> frozenset[Status]:
    """Every status the instrument can have, given three-valued truths of its rules."""
    rules = program.governed[iid]
    if program.instrument(iid).kind == "statutory_limit":
        held = _or(_and([truth[b.key], reaches(program, b.governs, truth)]) for b in rules)
        return frozenset({"applies" if h else "not_applicable" for h in _possible(held)})

    keys = program.keys_by_role(iid)

    def by_role(role: str) -> list[Truth]:
        return [truth[k] for k in keys.get(role, ())]

    windows = by_role("window")
    in_force = _and([*by_role("in_force"), _or(windows) if windows else True])
    scope = _and(by_role("scope"))
    excluded, excepted = _or(by_role("exclusion")), _or(by_role("exception"))
    found: set[Status] = set()
    for f, s, x, e in itertools.product(*map(_possible, (in_force, scope, excluded, excepted))):
        found.add(status_of(f, s, x, e))
    return frozenset(found)


def reaches(program: Program, iid: str, truth: Mapping[str, Truth]) -> Truth:
    """Whether the instrument is in force and the person within its scope (exclusions aside)."""
    keys = program.keys_by_role(iid, own=True)
    windows = [truth[k] for k in keys.get("window", ())]
    return _and(
        [truth[k] for k in keys.get("in_force", ())]
        + [truth[k] for k in keys.get("scope", ())]
        + ([_or(windows)] if windows else [])
    )


def status_of(in_force: bool, in_scope: bool, excluded: bool, excepted: bool) -> Status:
    if not in_force:
        return "not_in_force"
    if not in_scope:
        return "not_applicable"
    if excluded:
        return "excluded"
    return "excepted" if excepted else "applies"


def decide(program: Program, statuses: Mapping[str, Status]) -> Decision:
    """The outcome for known statuses (none ``undetermined``), following the policy's screening."""
    final = dict(statuses)
    screened_out_by: dict[str, str] = {}
    transfer_to: set[str] = set()
    stopper: str | None = None
    for stage in program.policy.screening:
        if stopper is not None:
            for iid in stage:
                if final[iid] in IN_SCOPE:
                    final[iid] = "not_applicable"
                    screened_out_by[iid] = stopper
            continue
        for iid in stage:
            if final[iid] == "applies":
                transfer_to.add(program.instrument(iid).receiving_country or "")
        in_scope = [iid for iid in stage if final[iid] in IN_SCOPE]
        if in_scope:
            stopper = in_scope[0]
    kinds = {i.id: i.kind for i in program.instruments}
    not_amenable: set[str] = set()
    if transfer_to:
        headline = Headline("transfer", tuple(sorted(transfer_to)), "not_in_us", False)
        for iid, kind in kinds.items():  # A8: amenable only when the claim is heard in the U.S.
            if kind == "wait_abroad" and final[iid] in IN_SCOPE:
                final[iid] = "not_applicable"
                not_amenable.add(iid)
    else:
        barred = any(final[i] == "applies" for i, k in kinds.items() if k == "asylum_bar")
        wait = any(final[i] == "applies" for i, k in kinds.items() if k == "wait_abroad")
        headline = Headline("process_in_us", (), "barred" if barred else "eligible", wait)
    return Decision(headline, final, screened_out_by, frozenset(not_amenable))


IN_SCOPE: frozenset[Status] = frozenset({"applies", "excepted", "excluded"})


def possible_headlines(program: Program, statuses: Mapping[str, frozenset[Status]]) -> set[Headline]:
    """Every headline consistent with each instrument's possible statuses (an over-approximation:
    correlations between instruments are ignored, so it may include headlines no case has)."""
    agreements = [iid for stage in program.policy.screening for iid in stage]
    classes = [sorted({_screening_class(s) for s in statuses[iid]}) for iid in agreements]
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
    found: set[Headline] = set()
    for combo in itertools.product(*classes):
        by_id = dict(zip(agreements, combo, strict=True))
        transfer_to: set[str] = set()
        for stage in program.policy.screening:
            transfer_to |= {program.instrument(i).receiving_country or "" for i in stage if by_id[i] == "A"}
            if any(by_id[i] in ("A", "E") for i in stage):
                break
        if transfer_to:
            found.add(Headline("transfer", tuple(sorted(transfer_to)), "not_in_us", False))
        else:
            found |= {Headline("process_in_us", (), a, w) for a in asylum for w in wait}
    return found


def _screening_class(status: Status) -> str:
    """A: applies (transfers); E: in scope but excepted or excluded (stops later stages); N: neither."""
    return {"applies": "A", "excepted": "E", "excluded": "E"}.get(status, "N")


def fired_truth(program: Program, fired: frozenset[str]) -> dict[str, Truth]:
    """Two-valued truths from the set of rule keys an engine reported as fired."""
    return {b.key: b.key in fired for b in program.rules}
