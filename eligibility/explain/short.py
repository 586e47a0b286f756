"""The short answer: what an intake desk reads first (the full trace is ``render_text(explain=True)``).

In order: the headline with its evidence level and caveats; what it rests on (the facts given,
then every default that was assumed, said as facts to check with the client, the decision date
first); the reasons that decided it, each with its citation; what is still unknown and what would
settle it; and the few changes of facts that would change the answer. A reason never states an
assumed default as established: a rule that held or failed only because of a default says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from eligibility.explain.determination import DecisionRecord, Determination, Finding, InstrumentResult
from eligibility.i18n import country_name, translator

WOULD_CHANGE_SHOWN = 4
"""How many changes of facts the short answer lists (the rest: ``--explain``)."""


def render_short(det: Determination) -> str:
    """The short answer to one case (about 15 to 25 lines), in the determination's language."""
    _ = translator(det.lang)
    out = [*_headline(det, _)]
    out.append("")
    out.extend(_rests_on(det, _))
    why = _why(det, _)
    if why:
        out.append("")
        out.append(_("Why:"))
        out.extend(why)
    unknown = _unknown(det, _)
    if unknown:
        out.append("")
        out.extend(unknown)
    changes = _changes(det, _)
    if changes:
        out.append("")
        out.append(_("Would change if:"))
        out.extend(changes)
    out.append(
        _("Every instrument, rule and file:line: --explain.  Rules {digest}…").format(
            digest=det.rules_digest[:19]
        )
    )
    return "\n".join(out)


def _countries(codes: Iterable[str], lang: str) -> str:
    return ", ".join(f"{country_name(c, lang)} ({c})" for c in codes)


def headline_words(det: Determination) -> str:
    """The outcome in capitals with its countries: 'TRANSFER to Guatemala (GT)'."""
    _ = translator(det.lang)
    if det.outcome == "transfer":
        return _("TRANSFER to {countries}").format(countries=_countries(det.transfer_to, det.lang))
    if det.outcome == "expel":
        return _("EXPEL to {countries}").format(countries=_countries(det.expel_to, det.lang))
    if det.outcome == "process_in_us":
        return _("PROCESS IN THE U.S.")
    return _("UNDETERMINED")


def evidence_words(level: str, lang: str = "en") -> str:
    """What an evidence level means, in one clause."""
    _ = translator(lang)
    return {
        "primary": _("primary: every rule that decided it rests on the official text"),
        "secondary": _(
            "secondary: a rule that decided it rests on a report of the law, not on the official text"
        ),
        "unverified": _("unverified: a rule that decided it rests on a source that could not be checked"),
    }[level]


def level_name(level: str, lang: str = "en") -> str:
    """An evidence level's name in ``lang``."""
    _ = translator(lang)
    return {"primary": _("primary"), "secondary": _("secondary"), "unverified": _("unverified")}[level]


def status_name(status: str, lang: str = "en") -> str:
    """An instrument's status in words."""
    _ = translator(lang)
    return {
        "applies": _("applies"),
        "excepted": _("excepted"),
        "not_applicable": _("not applicable"),
        "not_in_force": _("not in force"),
        "undetermined": _("undetermined"),
    }[status]


def headline_line(det: Determination) -> str:
    """The first line: the headline, its evidence level, the policy and the case id."""
    _ = translator(det.lang)
    said = _("evidence: {level}; policy: {policy}").format(
        level=level_name(det.evidence, det.lang), policy=det.policy
    )
    if det.id:
        said += "; " + _("case {id}").format(id=det.id)
    return f"{headline_words(det)}    [{said}]"


def _headline(det: Determination, _: Callable[[str], str]) -> list[str]:
    lines = [headline_line(det)]
    lines.append("  " + _status_line(det, _))
    for caveat in det.caveats:
        lines.append("  " + _("caveat: {text}").format(text=caveat))
    weakest = _weakest(det)
    lines.append(
        "  "
        + _("Evidence {words}").format(words=evidence_words(det.evidence, det.lang))
        + (
            f": {'; '.join(weakest[:2])}"
            + (_(" (and {count} more)").format(count=len(weakest) - 2) if len(weakest) > 2 else "")
            if weakest
            else ""
        )
        + "."
    )
    return lines


def _weakest(det: Determination) -> list[str]:
    """The sources at the determination's evidence level among the rules that decided it."""
    if det.evidence == "primary":
        return []
    decided = set(det.decided_by)
    cites = [
        c.cite
        for i in det.instruments
        for f in i.findings
        if f.rule in decided
        for c in f.citations
        if c.evidence == det.evidence
    ]
    return list(dict.fromkeys(cites))


def _status_line(det: Determination, _: Callable[[str], str]) -> str:
    if det.outcome == "transfer":
        return _("The protection claim is examined in {countries}, not in the U.S.").format(
            countries=", ".join(country_name(c, det.lang) for c in det.transfer_to)
        )
    if det.outcome == "expel":
        return _("Expelled without immigration processing: no asylum claim is heard.")
    asylum = {
        "eligible": _("asylum: may apply (no asylum bar encoded here applies)"),
        "barred": _("asylum: barred (withholding of removal and CAT protection only)"),
        "undetermined": _("asylum: undetermined"),
        "not_in_us": _("asylum: not in the U.S."),
    }[det.asylum]
    wait = {
        True: _("may be returned to Mexico to wait for the hearing"),
        False: _("not returned to Mexico to wait"),
        "undetermined": _("waiting in Mexico: undetermined"),
    }[det.wait_in_mexico]
    if det.outcome == "undetermined":
        if det.date_cuts:
            return _("The answer depends on the day, within the dates known only approximately.")
        return _("The known facts do not settle the outcome.")
    return f"{asylum}; {wait}."


# --- what the answer rests on -------------------------------------------------------------


def _rests_on(det: Determination, _: Callable[[str], str]) -> list[str]:
    lines: list[str] = []
    if isinstance(det, DecisionRecord):
        given = given_facts(det.case, det.lang)
        lines.append(_("Facts given: {facts}.").format(facts="; ".join(given) if given else _("none")))
    if not det.assumed:
        lines.append(_("Nothing was assumed: every fact the rules test was given or is unknown."))
        return lines
    lines.append(_("Assumed because not given (check with the client):"))
    changed = {c.field for w in det.would_change_if for c in w.changes}
    first = [f for f in det.assumed if f == "decision_date"]
    first += [f for f in det.assumed if f in changed and f not in first]
    rest = [f for f in det.assumed if f not in first]
    for field in first:
        lines.append("  - " + assumption(field, det.assumed[field], det, _))
    if rest:
        lines.append(
            "  - "
            + _("also: {items}").format(items="; ".join(assumption(f, det.assumed[f], det, _) for f in rest))
        )
    return lines


def assumption(field: str, value: Any, det: Determination, _: Callable[[str], str]) -> str:
    """A default, said as a fact a lawyer can check with the client."""
    entry = det.dates.entry
    if field == "decision_date":
        return (
            _("the decision is made on the day of entry ({date})").format(date=value)
            if value == entry
            else _("the decision is made on {date}").format(date=value)
        )
    if field == "claim_date":
        return (
            _("the protection claim was made on the day of entry ({date})").format(date=value)
            if value == entry
            else _("the protection claim was made on {date}").format(date=value)
        )
    if field == "habitual_residence":
        return _("habitually resident in {country}").format(country=_countries([value], det.lang))
    words = {
        ("documents", "none"): _(
            "holds no U.S. visa, admission document, visa waiver or parole travel authorization"
        ),
        ("fear_established_in", ()): _(
            "no screening officer has found persecution or torture more likely than not in any country"
        ),
        ("public_interest", False): _(
            "DHS has not found it in the public interest for the person to seek protection in the U.S."
        ),
        ("trafficking_victim", False): _("not a victim of a severe form of trafficking in persons"),
        ("family_in_us", ()): _("no family member in the U.S."),
        ("entry.appointment", False): _("no CBP One appointment at a port of entry"),
        ("cbp_one_unavailable", False): _("CBP One could be used"),
        ("medical_emergency", False): _("no acute medical emergency at entry"),
        ("imminent_threat", False): _("no imminent and extreme threat to life or safety at entry"),
        ("title42_exception", False): _("no individual Title 42 exception from CBP"),
        ("criminal_record", False): _("no criminal record"),
    }
    key = tuple(value) if isinstance(value, list) else value
    return words.get((field, key)) or f"{field} = {_show(value)}"


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def given_facts(case: Mapping[str, Any], lang: str = "en") -> list[str]:
    """The facts of a case as given, each in a few words (unknown ones: 'not known')."""
    _ = translator(lang)
    out: list[str] = []
    unknown = _("not known")

    yes_no_labels = {
        "unaccompanied": _("unaccompanied"),
        "family_unit": _("travelling as a family unit"),
        "trafficking_victim": _("trafficking victim"),
        "public_interest": _("DHS public-interest finding"),
        "cbp_one_unavailable": _("CBP One unavailable"),
        "medical_emergency": _("medical emergency at entry"),
        "imminent_threat": _("imminent threat at entry"),
        "title42_exception": _("individual Title 42 exception"),
        "criminal_record": _("criminal record"),
    }

    def yes_no(value: Any) -> str:
        return unknown if value is None else (_("yes") if value else _("no"))

    for field, value in case.items():
        if field == "id":
            continue
        if field == "nationalities":
            out.append(
                _("nationality: {value}").format(
                    value=unknown
                    if value is None
                    else (_countries(value, lang) if value else _("none (stateless)"))
                )
            )
        elif field == "entry":
            out.append(_entry_words(value, lang))
        elif field == "transit":
            out.append(
                _("countries passed through: {value}").format(
                    value=unknown
                    if value is None
                    else (
                        ", ".join(_stop_words(s, lang) for s in value) if value else _("none (came directly)")
                    )
                )
            )
        elif field == "documents":
            out.append(
                _("documents: {value}").format(
                    value=unknown if value is None else _document_words(value, lang)
                )
            )
        elif field in ("habitual_residence",):
            out.append(
                _("habitual residence: {value}").format(
                    value=unknown if value is None else _countries([value], lang)
                )
            )
        elif field == "fear_established_in":
            out.append(
                _("fear found more likely than not in: {value}").format(
                    value=unknown if value is None else (_countries(value, lang) or _("no country"))
                )
            )
        elif field == "family_in_us":
            out.append(
                _("family in the U.S.: {value}").format(
                    value=unknown
                    if value is None
                    else (", ".join(f"{m['relation']} ({m['status']})" for m in value) or _("none"))
                )
            )
        elif isinstance(value, bool) or (value is None and field in yes_no_labels):
            out.append(f"{yes_no_labels.get(field, field)}: {yes_no(value)}")
        else:
            label = {"age": _("age"), "birth_date": _("born"), "claim_date": _("claim made")}
            label |= {"decision_date": _("decision date")}
            out.append(f"{label.get(field, field)}: {unknown if value is None else _show(value)}")
    return out


def _entry_words(entry: Mapping[str, Any], lang: str) -> str:
    _ = translator(lang)
    parts = [_("entry {date}").format(date=entry.get("date"))]
    border = entry.get("border")
    borders = {
        "southern_land": _("southern land border (from Mexico)"),
        "northern_land": _("northern land border (from Canada)"),
        "air": _("by air"),
        "sea": _("by sea"),
        "southern_coastal": _("by sea near the border with Mexico"),
    }
    places = {"port_of_entry": _("at a port of entry"), "between_ports": _("between ports of entry")}
    if "border" in entry:
        parts.append(_("border not known") if border is None else borders.get(border, str(border)))
    if "place" in entry:
        place = entry.get("place")
        parts.append(_("place not known") if place is None else places.get(place, str(place)))
    if entry.get("state"):
        parts.append(_("in {state}").format(state=entry["state"]))
    if "appointment" in entry:
        parts.append(
            {True: _("with a CBP One appointment"), False: _("without a CBP One appointment")}.get(
                entry["appointment"], _("CBP One appointment not known")
            )
        )
    return ", ".join(parts)


def _stop_words(stop: Mapping[str, Any], lang: str) -> str:
    _ = translator(lang)
    name = _countries([stop["country"]], lang)
    protection = stop.get("protection", "none")
    said = {
        "pending": _("claim pending"),
        "abandoned": _("claim abandoned"),
        "denied_final": _("protection denied, final"),
        "granted": _("protection granted"),
    }.get(protection)
    return f"{name}, {said}" if said else name


def _document_words(value: str, lang: str) -> str:
    _ = translator(lang)
    return {
        "none": _("none"),
        "us_visa": _("a U.S. visa"),
        "us_transit_visa": _("a U.S. transit visa"),
        "us_admission_document": _("a U.S. admission document"),
        "visa_waiver": _("no U.S. visa needed (visa waiver)"),
        "parole_travel_authorization": _("a parole travel authorization"),
    }.get(value, value)


# --- why ------------------------------------------------------------------------------------


def _deciding(det: Determination) -> list[InstrumentResult]:
    """The instruments whose status gives the headline."""
    if det.outcome == "transfer":
        return [i for i in det.instruments if i.kind == "transfer_agreement" and i.status == "applies"]
    if det.outcome == "expel":
        return [i for i in det.instruments if i.kind == "expulsion" and i.status == "applies"]
    if det.outcome == "process_in_us":
        found = [i for i in det.instruments if i.kind == "asylum_bar" and i.status == "applies"]
        found += [i for i in det.instruments if i.kind == "wait_abroad" and i.status == "applies"]
        return found
    return [i for i in det.instruments if i.status == "undetermined"]


def _why(det: Determination, _: Callable[[str], str]) -> list[str]:
    lines: list[str] = []
    assumed = set(det.assumed)
    for inst in _deciding(det):
        lines.append(
            "  " + _("{title}: {status}").format(title=inst.title, status=status_name(inst.status, det.lang))
        )
        findings = {f.rule: f for f in inst.findings}
        for reason, rule in zip(inst.reasons, inst.reason_rules, strict=True):
            finding = findings.get(rule) if rule else None
            if finding is not None and finding.holds is False and finding.role in ("exclusion", "exception"):
                continue
            said = f"    - {reason}"
            if finding is not None and finding.assumed:
                said += " " + _("[as assumed: {fields}]").format(fields=", ".join(finding.assumed))
            lines.append(said + (f" — {_cites(finding, det.lang)}" if finding else ""))
        lines.extend(_exceptions(inst, assumed, _))
    if det.outcome == "process_in_us":
        lines.extend(_no_transfer(det, _))
        if det.asylum == "eligible":
            lines.append("  " + _("No asylum bar applies on these facts and dates."))
    return lines


def _cites(finding: Finding, lang: str = "en") -> str:
    return "; ".join(f"{c.cite} [{level_name(c.evidence, lang)}]" for c in finding.citations)


def _exceptions(inst: InstrumentResult, assumed: set[str], _: Callable[[str], str]) -> list[str]:
    """For an instrument that applies: its exclusions and exceptions that do not hold, those that
    fail only because of an assumed default named."""
    if inst.status != "applies":
        return []
    failed = [f for f in inst.findings if f.role in ("exclusion", "exception") and f.holds is False]
    if not failed:
        return []
    on_assumption = [f for f in failed if f.assumed]
    fields = list(dict.fromkeys(name for f in on_assumption for name in f.assumed))
    if not on_assumption:
        return ["    - " + _("No exception or exclusion holds ({count} checked).").format(count=len(failed))]
    return [
        "    - "
        + _(
            "No exception or exclusion holds ({count} checked); {assumed} of them only because of "
            "what is assumed above ({fields})."
        ).format(count=len(failed), assumed=len(on_assumption), fields=", ".join(fields))
    ]


def _no_transfer(det: Determination, _: Callable[[str], str]) -> list[str]:
    """For a claim heard in the U.S.: why each agreement in force does not send the person away."""
    lines = []
    for inst in det.instruments:
        if inst.kind not in ("transfer_agreement", "expulsion") or inst.status not in (
            "excepted",
            "not_applicable",
        ):
            continue
        reason = inst.reasons[0] if inst.reasons else ""
        lines.append(
            "  " + _("{title}: {status}").format(title=inst.title, status=status_name(inst.status, det.lang))
        )
        lines.append(f"    - {reason}")
    return lines


# --- what is unknown, and what would change the answer ---------------------------------------


def _unknown(det: Determination, _: Callable[[str], str]) -> list[str]:
    lines = []
    if det.date_cuts:
        lines.append(_("Depends on the day:"))
        for cut in det.date_cuts:
            lines.append(
                "  - "
                + _("{field} before {date}: {before}; from {date}: {after}").format(
                    field=cut.field, date=cut.date, before=cut.before, after=cut.after
                )
            )
    if not det.missing_facts:
        return lines
    parts = {
        "outcome": _("the outcome"),
        "asylum": _("asylum"),
        "wait_in_mexico": _("waiting in Mexico"),
    }
    lines.append(_("Not known, and needed:"))
    groups: dict[tuple[str, ...], list[str]] = {}
    for part, fields in det.missing_facts_by_field.items():
        groups.setdefault(tuple(fields), []).append(parts[part])
    for needed, named in groups.items():
        said = (
            named[0]
            if len(named) == 1
            else _("{items} and {last}").format(items=", ".join(named[:-1]), last=named[-1])
        )
        lines.append("  - " + _("to settle {part}: {fields}").format(part=said, fields=", ".join(needed)))
    return lines


def _changes(det: Determination, _: Callable[[str], str]) -> list[str]:
    dated = ("entry.date", "decision_date")

    def rank(index: int) -> tuple[int, int]:
        fields = {c.field for c in det.would_change_if[index].changes}
        return (1 if fields & set(dated) else 0, index)

    order = sorted(range(len(det.would_change_if)), key=rank)
    shown = order[:WOULD_CHANGE_SHOWN]
    lines = []
    for index in sorted(shown, key=rank):
        change = det.would_change_if[index]
        what = _(" and ").join(c.description for c in change.changes)
        lines.append(
            f"  - {what}: {result_words(change.outcome, change.transfer_to, change.expel_to, change.asylum, change.wait_in_mexico, det.lang)}"
        )
    if len(order) > len(shown):
        lines.append("  " + _("… and {count} more (--explain)").format(count=len(order) - len(shown)))
    return lines


def result_words(
    outcome: str,
    transfer_to: Iterable[str],
    expel_to: Iterable[str],
    asylum: str,
    wait: bool | str,
    lang: str = "en",
) -> str:
    """A headline in a few words: 'transfer to GT', 'process in the U.S., asylum barred'."""
    _ = translator(lang)
    if outcome == "transfer":
        return _("transfer to {countries}").format(countries=", ".join(transfer_to))
    if outcome == "expel":
        return _("expel to {countries}").format(countries=", ".join(expel_to))
    if outcome == "undetermined":
        return _("undetermined")
    said = {
        "eligible": _("asylum eligible"),
        "barred": _("asylum barred"),
        "undetermined": _("asylum undetermined"),
        "not_in_us": _("asylum not in the U.S."),
    }[asylum]
    return _("process in the U.S., {asylum}").format(asylum=said) + (_(", wait in Mexico") if wait else "")
