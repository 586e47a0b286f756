"""Replay a decision record: evaluate its case again with today's rules and say whether the answer
still holds; if not, what changed and which rules did it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eligibility.errors import CaseError, Problem
from eligibility.explain.determination import DecisionRecord, Determination, Finding
from eligibility.i18n import translator

ChangeKind = Literal["added", "removed", "holds", "condition", "sources"]
HEADLINE = ("outcome", "transfer_to", "expel_to", "asylum", "wait_in_mexico")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RuleChange(_Frozen):
    """A rule that reads or decides differently now than when the record was made."""

    rule: str
    location: str | None = Field(description="where the rule is now (null: it was removed)")
    change: ChangeKind
    before: Any = Field(description="what it was: its truth, condition or citations")
    after: Any = Field(description="what it is now")
    decided: bool = Field(description="whether it decided the headline, then or now")


class Replay(_Frozen):
    """The outcome of replaying one record."""

    holds: bool = Field(description="whether the headline (outcome, countries, asylum, waiting) is unchanged")
    changed: list[str] = Field(description="the fields of the headline that changed")
    was: dict[str, Any]
    now: dict[str, Any]
    recorded: dict[str, str] = Field(description="version, evaluated_at and rules_digest of the record")
    rules: list[RuleChange] = Field(description="the rules that changed, those that decided it first")
    evidence: tuple[str, str] = Field(description="the evidence level then and now")
    determination: DecisionRecord = Field(description="today's decision record for the same case")


def read_record(text: str, source: str) -> DecisionRecord:
    """A decision record from its JSON; CaseError (exit 2) names the place of a problem."""
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseError(
            [Problem(f"{source}:{exc.lineno}:{exc.colno}", f"malformed JSON: {exc.msg}")]
        ) from None
    if not isinstance(data, dict):
        raise CaseError([Problem(source, "a decision record must be a JSON object")])
    if "case" not in data:
        raise CaseError(
            [Problem(source, "not a decision record: no 'case' (write one with `check --format json`)")]
        )
    try:
        return DecisionRecord.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CaseError([Problem(f"{source}: {where}", str(first["msg"]))]) from None


def compare(record: DecisionRecord, now: DecisionRecord) -> Replay:
    """The record against today's record for the same case (``api.replay`` evaluates it)."""
    was = {k: getattr(record, k) for k in HEADLINE}
    is_ = {k: getattr(now, k) for k in HEADLINE}
    changed = [k for k in HEADLINE if was[k] != is_[k]]
    return Replay(
        holds=not changed,
        changed=changed,
        was=was,
        now=is_,
        recorded={
            "version": record.version,
            "evaluated_at": record.evaluated_at,
            "rules_digest": record.rules_digest,
        },
        rules=_rule_changes(record, now),
        evidence=(record.evidence, now.evidence),
        determination=now,
    )


def _findings(det: Determination) -> dict[str, Finding]:
    return {f.rule: f for i in det.instruments for f in i.findings}


def _rule_changes(before: Determination, after: Determination) -> list[RuleChange]:
    old, new = _findings(before), _findings(after)
    decided = set(before.decided_by) | set(after.decided_by)
    changes: list[RuleChange] = []
    for rid in dict.fromkeys([*old, *new]):
        change = _rule_change(old.get(rid), new.get(rid))
        if change is not None:
            kind, was, now = change
            location = new[rid].location if rid in new else None
            changes.append(
                RuleChange(
                    rule=rid, location=location, change=kind, before=was, after=now, decided=rid in decided
                )
            )
    changes.sort(key=lambda c: (not c.decided, c.change == "sources"))
    return changes


def _rule_change(a: Finding | None, b: Finding | None) -> tuple[ChangeKind, Any, Any] | None:
    """How a rule reads differently now (what changed, what it was, what it is), or None."""
    if a is None:
        return None if b is None else ("added", None, b.holds)
    if b is None:
        return "removed", a.holds, None
    if a.condition != b.condition:
        return "condition", a.condition, b.condition
    if a.holds != b.holds:
        return "holds", a.holds, b.holds
    cites = [c.cite for c in a.citations], [c.cite for c in b.citations]
    return ("sources", *cites) if cites[0] != cites[1] else None


def render_replay(result: Replay, lang: str = "en") -> str:
    """The replay in words: does the answer still hold, and if not, why."""
    from eligibility.explain.short import headline_words, level_name

    _ = translator(lang)
    rec = result.recorded
    lines = []
    then = headline_words(result.determination.model_copy(update=result.was))
    if result.holds:
        lines.append(_("The answer still holds: {headline}").format(headline=_sentence(then)))
    else:
        now = headline_words(result.determination)
        lines.append(
            _("The answer has changed: it was {was}, it is now {now}").format(was=then, now=_sentence(now))
        )
        for field in result.changed:
            lines.append(f"  - {field}: {_value(result.was[field])} → {_value(result.now[field])}")
    lines.append(
        _("Recorded {when} by version {version} with rules {digest}…; replayed with rules {now}….").format(
            when=rec["evaluated_at"],
            version=rec["version"],
            digest=rec["rules_digest"][:19],
            now=result.determination.rules_digest[:19],
        )
    )
    then_level, now_level = result.evidence
    if then_level != now_level:
        lines.append(
            _("Evidence: {was} then, {now} now.").format(
                was=level_name(then_level, lang), now=level_name(now_level, lang)
            )
        )
    if result.rules:
        lines.append(_("Rules that read differently now (those that decided the answer first):"))
        for change in result.rules:
            where = f" ({change.location})" if change.location else ""
            mark = " *" if change.decided else ""
            lines.append(f"  - {change.rule}{where}{mark}: {_rule_words(change, lang)}")
        if any(c.decided for c in result.rules):
            lines.append(_("  * decided the answer, then or now"))
    elif result.recorded["rules_digest"] != result.determination.rules_digest:
        lines.append(_("The rules changed, but no rule reads differently for this case."))
    return "\n".join(lines)


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _rule_words(change: RuleChange, lang: str) -> str:
    _ = translator(lang)

    def then(value: Any) -> str:
        return {True: _("held"), False: _("did not hold"), None: _("was unknown")}[value]

    def now(value: Any) -> str:
        return {True: _("holds"), False: _("does not hold"), None: _("is unknown")}[value]

    if change.change == "added":
        return _("new rule; it {now}").format(now=now(change.after))
    if change.change == "removed":
        return _("removed; it {then}").format(then=then(change.before))
    if change.change == "holds":
        return _("it {then} then; it {now} now").format(then=then(change.before), now=now(change.after))
    if change.change == "condition":
        return _("condition was “{then}”, is now “{now}”").format(then=change.before, now=change.after)
    return _("sources were {then}, are now {now}").format(
        then="; ".join(change.before), now="; ".join(change.after)
    )
