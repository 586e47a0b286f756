"""Build the determination, with its explanation, from the settled regions of a case."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, cast

from eligibility.analysis.counterfactual import Change, describe_change
from eligibility.analysis.settle import DESTINATION_FACTS, Region, Settlement
from eligibility.case import Case
from eligibility.engine.decide import (
    IN_SCOPE,
    MEMOIZED,
    Asylum,
    Outcome,
    Status,
    deciding_rules,
    reaches,
    reader,
    status_reads,
)
from eligibility.engine.program import BoundRule, Program
from eligibility.explain.determination import (
    Citation,
    Dates,
    Determination,
    FactChange,
    Finding,
    InstrumentResult,
    WouldChange,
)
from eligibility.explain.short import headline_line, level_name, render_short, result_words, status_name
from eligibility.i18n import country_name, translator
from eligibility.memo import make_room
from eligibility.ruleset.conditions import Truth, describe, show
from eligibility.ruleset.facts import CATALOGUE, UNKNOWN, treaty_gaps
from eligibility.ruleset.load import EVIDENCE_ORDER

UNDETERMINED: Literal["undetermined"] = "undetermined"

_LANG: ContextVar[str] = ContextVar("lang", default="en")
"""The language of the determination being built (set by ``build``)."""


def _(message: str) -> str:
    """A program message in the language of the determination being built."""
    return translator(_LANG.get())(message)


def _text(item: Any, name: str = "title") -> str:
    """A text of the rule files (a title, a caveat list's item...) in the language being built,
    English where the rule file has no translation."""
    lang = _LANG.get()
    if lang != "en":
        translated = getattr(item, "translations", {}).get(lang, {}).get(name)
        if translated:
            return str(translated)
    return str(getattr(item, name))


def build(
    program: Program,
    case: Case,
    facts: Mapping[str, Any],
    assumed: dict[str, Any],
    settlement: Settlement,
    engine: str,
    changes: list[Change] | None = None,
    findings: bool = True,
    after_review: bool | None = None,
    shown_dates: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    lang: str = "en",
) -> Determination:
    """The determination of a settled case. ``findings=False`` leaves each instrument's per-rule
    findings empty (the fast path's compact lines do not carry them). ``after_review`` says
    whether the decision date is after the rules' review date, where ``facts`` show the date as
    a placeholder (the fast path's templates); ``shown_dates`` gives the text shown for each known
    date (``entry``, ``decision``, ``claim``) in place of its value, everywhere it is shown, and
    ``values`` the facts' real values where ``facts`` hold placeholders."""
    with speaking(lang):
        return _build(
            program,
            case,
            facts,
            assumed,
            settlement,
            engine,
            changes,
            findings,
            after_review,
            shown_dates,
            values,
            lang,
        )


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """The texts built inside are in ``lang``."""
    token = _LANG.set(lang)
    try:
        yield
    finally:
        _LANG.reset(token)


def _build(
    program: Program,
    case: Case,
    facts: Mapping[str, Any],
    assumed: dict[str, Any],
    settlement: Settlement,
    engine: str,
    changes: list[Change] | None,
    findings: bool,
    after_review: bool | None,
    shown_dates: Mapping[str, str] | None,
    values: Mapping[str, Any] | None,
    lang: str,
) -> Determination:
    outcome, transfer, asylum, wait, expel = headline(settlement)
    transfer_to = list(transfer)
    unknown_inputs = _unknown_inputs(case, facts, assumed)
    missing_by = {
        part: _input_names(settlement.missing(part), unknown_inputs)
        for part in ("outcome", "asylum", "wait_in_mexico")
    }
    open_parts = [
        part
        for part, value in (("outcome", outcome), ("asylum", asylum), ("wait_in_mexico", wait))
        if value == UNDETERMINED
    ]
    missing = _unique(name for part in open_parts for name in missing_by[part])
    if open_parts and not missing:  # a sound fallback: every unknown field the rules test
        missing = sorted(unknown_inputs)
        missing_by.update({part: missing for part in open_parts if not missing_by[part]})
    decided = _decided(program, settlement)
    evidence = min((b.rule.evidence for b in decided), key=EVIDENCE_ORDER.__getitem__, default="primary")
    caveats = _unique(c for b in decided for c in rule_caveats(b.rule))
    reviewed = program.ruleset.reviewed
    decision_date = facts["decision_date"]
    if after_review is None:
        after_review = (
            reviewed is not None and isinstance(decision_date, dt.date) and decision_date > reviewed
        )
    if reviewed is not None and after_review:
        shown = decision_date.isoformat() if isinstance(decision_date, dt.date) else str(decision_date)
        caveats.append(
            _(
                "The decision date {date} is after {reviewed}, when the law encoded here was last "
                "reviewed: the law after {reviewed} is not encoded."
            ).format(date=shown, reviewed=reviewed.isoformat())
        )
    truth = _common_truth(program, settlement.regions) if settlement.exact else dict(settlement.root_truth)
    rests = resting_on_defaults(program, values or facts, assumed) if findings else {}
    results = [
        instrument_result(program, i.id, settlement, truth, facts, findings, rests)
        for i in program.instruments
    ]
    claim = case.claim_date or (None if case.given("claim_date") else case.entry.date)
    dates = Dates(
        entry=shown_dates["entry"] if shown_dates else case.entry.date.isoformat(),
        decision=None
        if facts["decision_date"] is UNKNOWN
        else (shown_dates["decision"] if shown_dates else show(facts["decision_date"])),
        claim=None if claim is None else (shown_dates["claim"] if shown_dates else claim.isoformat()),
    )
    explanation = explanation_lines(
        outcome, transfer_to, list(expel), asylum, wait, missing_by, results, dates
    )
    gaps = treaty_gaps(case, program.ruleset.context)
    if gaps and "transit.only_non_party_third_countries" in program.facts_used:
        explanation.append(
            _(
                "The treaty-party table (rules/data/treaty-parties.yaml) has no entry for {countries}: "
                "whether the transit-bar exception for non-party countries holds cannot be settled from it."
            ).format(countries=", ".join(gaps))
        )
    return Determination(
        id=case.id,
        policy=program.policy.id,
        outcome=outcome,
        transfer_to=transfer_to,
        expel_to=list(expel),
        asylum=asylum,
        wait_in_mexico=wait,
        evidence=evidence,
        caveats=caveats,
        missing_facts=missing,
        missing_facts_by_field={k: v for k, v in missing_by.items() if v},
        would_change_if=[_would_change(program, c, case, facts) for c in changes or []],
        assumed=assumed,
        instruments=results,
        explanation=explanation,
        dates=dates,
        engine=engine,
        rules_digest=program.ruleset.digest,
        decided_by=_unique(b.rule.id for b in decided),
        lang=lang,
    )


def headline(
    settlement: Settlement,
) -> tuple[Outcome, tuple[str, ...], Asylum, bool | Literal["undetermined"], tuple[str, ...]]:
    """Outcome, receiving countries, asylum, waiting in Mexico and countries of expulsion, each
    settled or undetermined."""
    settled = cast("tuple[Outcome, tuple[str, ...], tuple[str, ...]] | None", settlement.settled("outcome"))
    outcome: Outcome = "undetermined" if settled is None else settled[0]
    transfer_to = () if settled is None else tuple(settled[1])
    expel_to = () if settled is None else tuple(settled[2])
    asylum = cast("Asylum", settlement.settled("asylum") or UNDETERMINED)
    wait: bool | Literal["undetermined"] = False
    if outcome == "process_in_us":
        settled_wait = cast("bool | None", settlement.settled("wait_in_mexico"))
        wait = "undetermined" if settled_wait is None else settled_wait
    elif outcome == "undetermined":  # false only when no open outcome lets the person wait in Mexico
        waits = {
            v if isinstance(v, str) else bool(v) for v in settlement.values.get("wait_in_mexico", {False})
        }
        only = waits.pop() if len(waits) == 1 else "undetermined"
        wait = only if isinstance(only, bool) else "undetermined"
    return outcome, transfer_to, asylum, wait, expel_to


def _decided(program: Program, settlement: Settlement) -> list[BoundRule]:
    """The rules that decided the headline in some region (see ``decide.deciding_rules``), in
    program order."""
    keys: set[str] = set()
    done: set[Hashable] = set()  # regions alike in what deciding_rules reads are done once
    for region in settlement.regions:
        if region.fired:
            alike = (
                frozenset(k for k, v in region.fired.items() if v),
                tuple(region.concrete.get(name) for name in DESTINATION_FACTS),
                region.decision.headline,
            )
            if alike in done:
                continue
            done.add(alike)
            keys.update(
                b.key for b in deciding_rules(program, region.fired, region.concrete, region.decision)
            )
    return [b for b in program.rules if b.key in keys]


def _would_change(program: Program, change: Change, case: Case, facts: Mapping[str, Any]) -> WouldChange:
    items = []
    for fact, value in change.changes:
        field, json_value, words = describe_change(fact, value, case.entry.date, before=facts[fact])
        if len(change.alternatives) > 1:
            others = [describe_change(fact, v, case.entry.date)[1] for v in change.alternatives]
            shown = [  # a set of countries in words, not as a Python list; none: "none"
                ("(" + ", ".join(map(str, v)) + ")" if len(v) > 1 else ", ".join(map(str, v)) or "none")
                if isinstance(v, list | tuple)
                else str(v)
                for v in others
            ]
            words = f"{field} {' or '.join(shown)}"
        if fact == "entry.date" and not case.given("decision_date"):
            words += _(" (and the decision with it, as assumed)")
        items.append(FactChange(field=field, value=json_value, description=words))
    citations = _unique(s.label for rid in change.rules for s in program.ruleset.rule(rid).sources)
    head = change.headline
    return WouldChange(
        changes=items,
        outcome=head.outcome,
        transfer_to=list(head.transfer_to),
        expel_to=list(head.expel_to),
        asylum=head.asylum,
        wait_in_mexico=head.wait_in_mexico,
        rules=list(change.rules),
        citations=citations,
    )


def _input_names(facts: list[str], unknown_inputs: set[str]) -> list[str]:
    """The case fields behind unknown facts (``age`` behind ``age_at_entry``...)."""
    names: list[str] = []
    for fact in facts:
        for name in CATALOGUE[fact].inputs:
            if name in unknown_inputs and name not in names:
                names.append(name)
    return names


def _unknown_inputs(case: Case, facts: Mapping[str, Any], assumed: Mapping[str, Any]) -> set[str]:
    """Case fields that are unknown: absent or null, and not filled by a default."""
    found = set()
    for name, fact in CATALOGUE.items():
        if facts[name] is UNKNOWN:
            for field in fact.inputs:
                value = (
                    getattr(case.entry, field[6:])
                    if field.startswith("entry.")
                    else getattr(case, field, None)
                )
                if value is None and field not in assumed:
                    found.add(field)
    return found


def _common_truth(program: Program, regions: list[Region]) -> dict[str, Truth]:
    if len(regions) == 1:  # one region: its own truths
        only = regions[0].truth
        return {b.key: only[b.key] for b in program.rules}
    truth: dict[str, Truth] = {}
    for b in program.rules:
        values = {r.truth[b.key] for r in regions}
        truth[b.key] = values.pop() if len(values) == 1 else None
    return truth


def region_status(region: Region, iid: str) -> Status:
    """The status reported for one region (``excluded`` is reported as not_applicable)."""
    if iid in region.decision.not_amenable:
        return "not_applicable"
    if iid in region.decision.fear_excepted:
        return "excepted"
    stopper = region.decision.screened_out_by.get(iid)
    if stopper is not None and region.statuses[stopper] <= IN_SCOPE:
        return "not_applicable"
    allowed = {"not_applicable" if s == "excluded" else s for s in region.statuses[iid]}
    if len(allowed) == 1 and stopper is None:
        return cast("Status", next(iter(allowed)))
    return UNDETERMINED


PIECES = 2_000
"""How many explained instruments ``instrument_result`` keeps per program (the oldest half goes when full)."""
_pieces: weakref.WeakKeyDictionary[Program, dict[Hashable, InstrumentResult]] = weakref.WeakKeyDictionary()
_Shape = tuple[
    Callable[[Mapping[str, Any]], tuple[Any, ...]], Callable[[Mapping[str, Any]], tuple[Any, ...]], str
]
_shapes: weakref.WeakKeyDictionary[Program, dict[str, _Shape]] = weakref.WeakKeyDictionary()


def _shape(program: Program, iid: str) -> _Shape:
    """What an instrument's explanation reads of the truths and the facts: a function reading
    the truths of its rules (for a statutory limit, also of the rules telling whether each
    agreement it is bound to reaches the person, which its reasons read: what its status reads,
    ``status_reads``), one reading the facts they test, and its kind."""
    shapes = _shapes.get(program)
    if shapes is None:
        shapes = _shapes[program] = {}
    found = shapes.get(iid)
    if found is None:
        rules = program.governed[iid]
        kind = program.instrument(iid).kind
        found = shapes[iid] = (
            reader(status_reads(program, iid) if kind == "statutory_limit" else tuple(b.key for b in rules)),
            reader(tuple(_unique(t.fact for b in rules for t in b.checks))),
            kind,
        )
    return found


def _status(settlement: Settlement, iid: str) -> Status:
    """The instrument's status over the settlement's regions (undetermined where they differ)."""
    if settlement.exact and len(settlement.regions) == 1:
        return region_status(settlement.regions[0], iid)
    if settlement.exact:
        statuses = {region_status(r, iid) for r in settlement.regions}
    else:
        root = {"not_applicable" if s == "excluded" else s for s in settlement.root_statuses[iid]}
        statuses = set(root) if len(root) == 1 else {UNDETERMINED}
    return statuses.pop() if len(statuses) == 1 else UNDETERMINED


def instrument_result(
    program: Program,
    iid: str,
    settlement: Settlement,
    truth: Mapping[str, Truth],
    facts: Mapping[str, Any],
    with_findings: bool = True,
    rests: Mapping[str, list[str]] | None = None,
) -> InstrumentResult:
    """One instrument's result, reused when everything it is made of is alike: a pure function of
    the program, the instrument, the language, its status, the truths of its rules, the facts they
    test (as shown), the defaults its findings rest on, and what it reads of the regions."""
    if not MEMOIZED.get():
        return _explain_instrument(program, iid, settlement, truth, facts, with_findings, rests)
    regions = settlement.regions
    status = _status(settlement, iid)
    truths_of, facts_of, kind = _shape(program, iid)
    expulsion: Hashable = None
    if kind == "expulsion" and status in ("applies", "excepted"):
        expulsion = (
            frozenset(b.key for r in regions if (b := r.decision.destination.get(iid)) is not None),
            frozenset(r.decision.headline.expel_to for r in regions if iid in r.decision.destination),
            all(iid in r.decision.fear_excepted for r in regions),
        )
    amenable: Hashable = None
    if status == "not_applicable":
        amenable = (
            tuple(r.decision.headline.outcome for r in regions if iid in r.decision.not_amenable),
            len(regions),
        )
    try:
        key = (
            iid,
            _LANG.get(),
            status,
            truths_of(truth),
            tuple([(type(v), v) for v in facts_of(facts)]),  # 1 == True, not alike
            tuple(tuple((rests or {}).get(b.key, ())) for b in program.governed[iid])
            if with_findings
            else None,
            expulsion,
            amenable,
            tuple(sorted({s for r in regions if (s := r.decision.screened_out_by.get(iid))})),
        )
        pieces = _pieces.get(program)
        if pieces is None:
            pieces = _pieces[program] = {}
        found = pieces.get(key)
    except TypeError:  # a fact value that cannot be hashed: not reused
        return _explain_instrument(program, iid, settlement, truth, facts, with_findings, rests)
    if found is None:
        make_room(pieces, PIECES)
        found = pieces[key] = _explain_instrument(
            program, iid, settlement, truth, facts, with_findings, rests
        )
    return found


def _explain_instrument(
    program: Program,
    iid: str,
    settlement: Settlement,
    truth: Mapping[str, Truth],
    facts: Mapping[str, Any],
    with_findings: bool = True,
    rests: Mapping[str, list[str]] | None = None,
) -> InstrumentResult:
    inst = program.instrument(iid)
    regions = settlement.regions
    status = _status(settlement, iid)
    rules = program.governed[iid]
    findings = (
        [
            _finding(b, truth[b.key], facts, inst.kind == "statutory_limit", (rests or {}).get(b.key, []))
            for b in rules
        ]
        if with_findings
        else []
    )
    decisive = _decisive(program, status, rules, truth, inst.kind)
    reasons = [
        _reason(
            b, truth[b.key], facts, _limited(program, b, truth) if inst.kind == "statutory_limit" else None
        )
        for b in decisive
    ]
    reason_rules: list[str | None] = [b.rule.id for b in decisive]
    expel_to: list[str] = []
    if inst.kind == "expulsion" and status in ("applies", "excepted"):
        chosen = {r.decision.destination.get(iid) for r in regions} - {None}
        if len(chosen) == 1:
            rule = next(iter(chosen))
            assert rule is not None
            countries = {r.decision.headline.expel_to for r in regions if iid in r.decision.destination}
            if status == "applies" and len(countries) == 1:
                expel_to = [c for c in next(iter(countries)) if c != "?"]
            if status == "excepted" and all(iid in r.decision.fear_excepted for r in regions):
                decisive = [*decisive, rule]
                reasons.append(
                    _reason(rule, True, facts)
                    + _(
                        "; but the person established that persecution or torture is more likely than not "
                        "in every one of those countries (fear_established_in), so there is nowhere to "
                        "expel them to"
                    )
                )
                reason_rules.append(rule.rule.id)
            elif status == "applies":
                decisive = [*decisive, rule]
                reasons.append(
                    _reason(rule, True, facts)
                    + _("; countries in fear_established_in are never destinations")
                )
                reason_rules.append(rule.rule.id)
    if status == "not_applicable" and any(iid in r.decision.not_amenable for r in regions):
        where = [r.decision.headline.outcome for r in regions if iid in r.decision.not_amenable]
        how = _(" or ").join(sorted({_("expelled") if o == "expel" else _("transferred") for o in where}))
        if len(where) == len(regions) and len(set(where)) == 1:
            said = _("Not amenable: the person is {how}, so there are no U.S. proceedings to wait for")
        else:  # the outcome is not settled: say when, not that it is so
            said = _("Not amenable if the person is {how}: there are then no U.S. proceedings to wait for")
        reasons.insert(0, said.format(how=how) + _(" (amenable only when the claim is heard in the U.S.)"))
        reason_rules.insert(0, None)
    stoppers = {r.decision.screened_out_by.get(iid) for r in regions} - {None}
    for stopper in sorted(s for s in stoppers if s):
        reasons.insert(
            0,
            _(
                "Not screened: the person is expelled under {title}, which is screened before everything else"
            ).format(title=_text(program.instrument(stopper)))
            if program.instrument(stopper).kind == "expulsion"
            else _(
                "Not screened: the person is within the scope of the {title}, which is screened first"
            ).format(title=_text(program.instrument(stopper)))
            + _because(program),
        )
        reason_rules.insert(0, None)
    if not reasons:
        reasons, reason_rules = [_default_reason(status, inst.kind)], [None]
    citations = _unique(s.label for b in decisive for s in b.rule.sources)
    return InstrumentResult(
        id=iid,
        title=_text(inst),
        kind=inst.kind,
        status=status,
        receiving_country=inst.receiving_country,
        expel_to=expel_to,
        reasons=reasons,
        reason_rules=reason_rules,
        citations=citations,
        findings=findings,
    )


def _decisive(
    program: Program, status: Status, rules: Iterable[BoundRule], truth: Mapping[str, Truth], kind: str
) -> list[BoundRule]:
    rules = list(rules)
    if kind == "statutory_limit":
        if status not in ("applies", UNDETERMINED):
            return []
        firsts: dict[str, BoundRule] = {}
        for b in rules:  # a limit matters only for an agreement in force whose scope reaches the person
            gate = reaches(program, b.governs, truth)
            if (
                truth[b.key] is not False
                and gate is not False
                and (status == UNDETERMINED or (truth[b.key] and gate))
            ):
                firsts.setdefault(b.rule.id, b)
        return list(firsts.values())
    if status == "not_in_force":
        failed = [b for b in rules if b.rule.role == "in_force" and truth[b.key] is False]
        windows = [b for b in rules if b.rule.role == "window"]
        return failed or windows
    if status == "not_applicable":
        alternatives = [b for b in rules if b.rule.role == "alternative"]
        missed = alternatives if all(truth[b.key] is False for b in alternatives) else []
        return [
            b
            for b in rules
            if (b.rule.role == "scope" and truth[b.key] is False)
            or (b.rule.role == "exclusion" and truth[b.key] is True)
        ] + missed
    if status == "excepted":
        return [b for b in rules if b.rule.role == "exception" and truth[b.key] is True]
    if status == "applies":
        return [
            b
            for b in rules
            if b.rule.role in ("in_force", "scope")
            or (b.rule.role in ("window", "alternative") and truth[b.key] is True)
        ]
    return [b for b in rules if truth[b.key] is None and b.rule.role != "destination"]


def _because(program: Program) -> str:
    """Why an earlier stage of the screening stops the later ones, as the rule files say."""
    basis = program.ruleset.screened_first_because
    return f" ({_text(basis, 'text')})" if basis else ""


def _default_reason(status: Status, kind: str) -> str:
    if kind == "statutory_limit":
        return _("None of the statute's limits holds for this person")
    return _("Every condition holds and no exception applies") if status == "applies" else status


def rule_caveats(rule: Any) -> list[str]:
    """A rule's caveats in the language being built."""
    lang = _LANG.get()
    if lang != "en":
        translated = getattr(rule, "translations", {}).get(lang, {}).get("caveats")
        if translated:
            return list(translated)
    return list(rule.caveats)


def _facts_tested(b: BoundRule, facts: Mapping[str, Any]) -> str:
    names = _unique(t.fact for t in b.checks)
    return "; ".join(f"{n} = {show(facts[n])}" for n in names)


def _limited(program: Program, b: BoundRule, truth: Mapping[str, Truth]) -> list[str]:
    """The agreements (in force, reaching the person) for which a limit's rule has ``b``'s truth."""
    return [
        _text(program.instrument(o.governs))
        for o in program.governed[b.via or ""]
        if o.rule.id == b.rule.id
        and truth[o.key] is truth[b.key]
        and reaches(program, o.governs, truth) is not False
    ]


def _lower_first(text: str) -> str:
    """A sentence to follow a colon: 'The person ...' becomes 'the person ...', but a first word
    written as an acronym or abbreviation ('DHS', 'CBP', 'U.S.') stays as it is."""
    first = text.split(" ", 1)[0]
    if "." in first or any(c.isupper() for c in first[1:]):
        return text
    return text[:1].lower() + text[1:]


def _reason(b: BoundRule, holds: Truth, facts: Mapping[str, Any], limits: list[str] | None = None) -> str:
    title = _text(b.rule)
    if limits:
        title = _("As to the {agreements}: {title}").format(
            agreements=", ".join(limits), title=_lower_first(title)
        )
    detail = _facts_tested(b, facts)
    if holds is True:
        return f"{title} ({detail})"
    if holds is False:
        return _("Not met: {title} ({facts})").format(title=title, facts=detail)
    return _("Unknown: {title} ({facts})").format(title=title, facts=detail)


def resting_on_defaults(
    program: Program, facts: Mapping[str, Any], assumed: Mapping[str, Any]
) -> dict[str, list[str]]:
    """For each rule whose truth is known: the assumed defaults it rests on, those without which
    (the field unknown) its truth would be unknown."""
    from eligibility.ruleset.conditions import holds

    derived = {
        field: [name for name, fact in CATALOGUE.items() if field in fact.inputs and name in facts]
        for field in assumed
    }
    found: dict[str, list[str]] = {}
    for b in program.rules:
        tested = {t.fact for t in b.checks}
        fields = [f for f, names in derived.items() if tested.intersection(names)]
        if not fields or holds(b.when, facts) is None:
            continue
        for field in fields:
            trial = {**facts, **dict.fromkeys(derived[field], UNKNOWN)}
            if holds(b.when, trial) is None:
                found.setdefault(b.key, []).append(field)
    return found


def _finding(
    b: BoundRule, holds: Truth, facts: Mapping[str, Any], limit_entry: bool, rests: list[str]
) -> Finding:
    return Finding(
        rule=b.rule.id,
        role=b.rule.role,
        title=_text(b.rule),
        holds=holds,
        condition=" and ".join(describe(t) for t in b.checks) if _flat(b) else _words(b),
        facts=_facts_tested(b, facts),
        via=b.via,
        applied_to=b.governs if limit_entry else None,
        citations=[
            Citation(cite=s.cite, evidence=s.evidence, url=s.url, quote=s.quote) for s in b.rule.sources
        ],
        location=b.rule.location.short,
        evidence=b.rule.evidence,
        caveats=rule_caveats(b.rule),
        assumed=rests,
    )


def _flat(b: BoundRule) -> bool:
    from eligibility.ruleset.conditions import All, Test

    return isinstance(b.when, Test) or (
        isinstance(b.when, All) and all(isinstance(i, Test) for i in b.when.items)
    )


def _words(b: BoundRule) -> str:
    from eligibility.ruleset.conditions import All, Any_, Condition, Not, Test

    def words(c: Condition) -> str:
        if isinstance(c, Test):
            return describe(c)
        if isinstance(c, Not):
            return f"not ({words(c.item)})"
        joiner = " and " if isinstance(c, All) else " or "
        return "(" + joiner.join(words(i) for i in c.items) + ")"

    return (
        words(b.when).removeprefix("(").removesuffix(")")
        if not isinstance(b.when, (Test, Any_))
        else words(b.when)
    )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def explanation_lines(
    outcome: str,
    transfer_to: list[str],
    expel_to: list[str],
    asylum: str,
    wait: bool | str,
    missing_by: dict[str, list[str]],
    results: list[InstrumentResult],
    dates: Dates,
) -> list[str]:
    lines: list[str] = []
    lang = _LANG.get()
    if outcome == "expel":
        names = _(" and ").join(f"{country_name(c, lang)} ({c})" for c in expel_to)
        by = [r.title for r in results if r.kind == "expulsion" and r.status == "applies"]
        lines.append(
            _(
                "Expelled to {countries} under {by}, without immigration processing: no asylum claim is "
                "heard (only a torture screening on a claim the person raises)."
            ).format(countries=names, by=_(" and ").join(by))
        )
    elif outcome == "transfer":
        names = _(" and ").join(f"{country_name(c, lang)} ({c})" for c in transfer_to)
        by = [r.title for r in results if r.kind == "transfer_agreement" and r.status == "applies"]
        lines.append(
            _(
                "Transfer to {countries} under {by}; the protection claim is examined there, not in the U.S."
            ).format(countries=names, by=_(" and ").join(by))
        )
    elif outcome == "process_in_us":
        lines.append(
            _("The claim is heard in the United States: no transfer agreement applies without exception.")
        )
        lines.append(
            {
                "eligible": _("No asylum bar encoded here applies: the person may seek asylum."),
                "barred": _("Barred from asylum: withholding of removal and CAT protection only."),
                "undetermined": _("Whether an asylum bar applies depends on facts not known."),
            }.get(asylum, "")
        )
        if wait is True:
            lines.append(_("The person may be returned to Mexico to wait for the U.S. proceedings."))
        elif wait == UNDETERMINED:
            lines.append(
                _("Whether the person may be returned to Mexico to wait depends on facts not known.")
            )
    else:
        lines.append(_("Undetermined: the known facts do not settle the outcome."))
    if missing_by["outcome"]:
        lines.append(
            _("Facts that would settle the outcome: {facts}.").format(facts=", ".join(missing_by["outcome"]))
        )
    if asylum == UNDETERMINED and missing_by["asylum"] and outcome != UNDETERMINED:
        lines.append(
            _("Facts that would settle asylum: {facts}.").format(facts=", ".join(missing_by["asylum"]))
        )
    if wait == UNDETERMINED and missing_by["wait_in_mexico"]:
        lines.append(
            _("Facts that would settle waiting in Mexico: {facts}.").format(
                facts=", ".join(missing_by["wait_in_mexico"])
            )
        )
    for r in results:
        moot = r.kind == "asylum_bar" and r.status == "applies" and outcome in ("expel", "transfer")
        said = status_name(r.status, lang)
        if r.kind == "statutory_limit":  # its status says whether one of its limits holds
            said = {
                "not_applicable": _("none of its limits holds"),
                "applies": _("one of its limits holds"),
            }.get(r.status, said)
        if moot:
            said += (
                _(" (moot: the person is expelled, so no asylum claim is heard in the U.S.)")
                if outcome == "expel"
                else _(" (moot: the person is transferred, so no asylum claim is heard in the U.S.)")
            )
        lines.append(f"{r.title}: {said}.")
    lines.append(
        _(
            "Entry {entry} decides which rules reach the person; decision {decision} decides which are in force."
        ).format(entry=dates.entry, decision=dates.decision or _("unknown"))
    )
    return lines


def render_text(det: Determination, *, explain: bool = False) -> str:
    """The determination in words: the short answer (``explain=False``), or the full trace with
    every instrument, rule id and ``file:line``."""
    if not explain:
        return render_short(det)
    return render_trace(det)


def render_trace(det: Determination) -> str:
    """The full trace: the outcome first, then every instrument with each reason's rule."""
    _ = translator(det.lang)
    out: list[str] = []
    out.append(headline_line(det))
    for caveat in det.caveats:
        out.append("  " + _("caveat: {text}").format(text=caveat))
    wait = {True: _("yes"), False: _("no"), UNDETERMINED: _("undetermined")}[det.wait_in_mexico]
    if det.outcome in ("transfer", "expel"):
        wait = _("n/a (transferred)") if det.outcome == "transfer" else _("n/a (expelled)")
    asylum = {
        "not_in_us": _("not in the U.S. (expelled: no asylum claim is heard)")
        if det.outcome == "expel"
        else _("not in the U.S. (claim examined in the receiving country)"),
        "barred": _("barred (withholding of removal and CAT only)"),
        "eligible": _("eligible"),
        "undetermined": _("undetermined"),
    }[det.asylum]
    out.append(_("asylum: {asylum}    wait in Mexico: {wait}").format(asylum=asylum, wait=wait))
    if det.missing_facts:
        out.append(_("missing facts: {facts}").format(facts=", ".join(det.missing_facts)))
    unknown = _("unknown")
    out.append(
        _("dates: entry {entry}, decision {decision}, claim {claim}").format(
            entry=det.dates.entry, decision=det.dates.decision or unknown, claim=det.dates.claim or unknown
        )
    )
    out.append("")
    for line in det.explanation:
        out.append(line)
    out.append("")
    out.append(_("Why:"))
    for inst in det.instruments:
        out.append(f"  {inst.id}: {status_name(inst.status, det.lang).upper()} — {inst.title}")
        findings = {f.rule: f for f in inst.findings}
        for reason, rule in zip(inst.reasons, inst.reason_rules, strict=True):
            out.append(f"    - {reason}")
            finding = findings.get(rule) if rule else None
            if finding is not None:
                cites = "; ".join(f"{c.cite} [{level_name(c.evidence, det.lang)}]" for c in finding.citations)
                out.append(f"        {cites}  ({finding.rule}, {finding.location})")
        if inst.status == "applies" and inst.kind != "statutory_limit":
            for f in inst.findings:
                if f.role in ("exclusion", "exception") and f.holds is False:
                    out.append(
                        "    - "
                        + (
                            _("no, as assumed ({fields}): {title}").format(
                                fields=", ".join(f.assumed), title=f.title
                            )
                            if f.assumed
                            else _("no: {title}").format(title=f.title)
                        )
                        + f" ({f.location})"
                    )
    if det.would_change_if:
        out.append("")
        out.append(_("Would change if:"))
        for change in det.would_change_if:
            what = " and ".join(c.description for c in change.changes)
            result = result_words(
                change.outcome,
                change.transfer_to,
                change.expel_to,
                change.asylum,
                change.wait_in_mexico,
                det.lang,
            )
            out.append(f"  - {what}: {result}  ({', '.join(change.rules)})")
    if det.assumed:
        out.append("")
        out.append(_("Assumed (defaults): ") + ", ".join(f"{k} = {show(v)}" for k, v in det.assumed.items()))
    out.append("")
    out.append(f"engine: {det.engine}    rules: {det.rules_digest[:19]}…")
    return "\n".join(out)
