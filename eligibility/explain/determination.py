"""The determination: the answer for one case, carrying its own explanation (the determination format, `eligibility schema determination`).

Text and JSON are two renderings of this one object; the text shows nothing that is not here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from eligibility.engine.decide import Outcome
from eligibility.i18n import Lang
from eligibility.ruleset.load import Evidence

ReportedStatus = Literal["applies", "excepted", "not_applicable", "not_in_force", "undetermined"]
"""An instrument's status as a determination reports it: ``engine.decide.Status`` less
``excluded``, which is reported as ``not_applicable`` with the exclusion among the reasons."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Citation(_Frozen):
    """A source a reader can check."""

    cite: str
    evidence: Evidence
    url: str
    quote: str | None = None


class Finding(_Frozen):
    """One rule of an instrument, and whether it held for this case (null: unknown facts decide)."""

    rule: str
    role: Literal["in_force", "window", "scope", "alternative", "exclusion", "exception", "destination"]
    title: str
    holds: bool | None
    condition: str = Field(description="the rule's condition in words")
    facts: str = Field(description="the facts the rule tested, with this case's values")
    via: str | None = Field(None, description="the statutory limit this rule comes from, if any")
    applied_to: str | None = Field(None, description="for a statutory limit: the agreement it limits")
    citations: list[Citation]
    location: str = Field(description="rules/<file>.yaml:<line>")
    evidence: Evidence = Field("primary", description="the weakest evidence level among the rule's sources")
    caveats: list[str] = Field(
        default_factory=list, description="litigation or discretion that qualifies the rule"
    )
    assumed: list[str] = Field(
        default_factory=list,
        description="the assumed defaults (fields of `assumed`) this rule's truth rests on: unknown without them",
    )


class InstrumentResult(_Frozen):
    id: str
    title: str
    kind: Literal["transfer_agreement", "asylum_bar", "wait_abroad", "statutory_limit", "expulsion"]
    status: ReportedStatus
    receiving_country: str | None = None
    expel_to: list[str] = Field(
        default_factory=list, description="for an expulsion that applies: the countries of expulsion"
    )
    reasons: list[str]
    reason_rules: list[str | None] = Field(
        description="the rule that gave each reason (null: the screening order or a summary)"
    )
    citations: list[str]
    findings: list[Finding]


class FactChange(_Frozen):
    field: str = Field(description="the case field")
    value: Any = Field(description="its new value")
    description: str


class WouldChange(_Frozen):
    """A smallest change of facts that gives a different determination, and the rules behind it."""

    changes: list[FactChange]
    outcome: Outcome
    transfer_to: list[str]
    expel_to: list[str] = Field(default_factory=list)
    asylum: Literal["eligible", "barred", "not_in_us", "undetermined"]
    wait_in_mexico: bool
    rules: list[str]
    citations: list[str]


class DateCut(_Frozen):
    """A day that splits a date known only approximately: the answer before it and from it."""

    field: str = Field(description="the date field (entry.date, decision_date, claim_date, birth_date)")
    date: str = Field(description="the first day of the second part")
    before: str = Field(description="the answer on the days before it, in words")
    after: str = Field(description="the answer from that day, in words")


class Dates(_Frozen):
    """The two time axes: entry (which law reaches the person), decision (which law is enforceable)."""

    entry: str
    decision: str | None
    claim: str | None


class Determination(_Frozen):
    """What happens to this person under these rules, and why."""

    id: str | None
    policy: str
    outcome: Outcome
    transfer_to: list[str]
    expel_to: list[str] = Field(
        default_factory=list, description="when outcome is expel: the countries of expulsion (sorted)"
    )
    asylum: Literal["eligible", "barred", "not_in_us", "undetermined"]
    wait_in_mexico: bool | Literal["undetermined"]
    evidence: Evidence = Field(
        "primary",
        description="the weakest evidence level among the rules that decided the headline (a rule decided "
        "it when flipping its truth alone would change outcome, transfer_to, expel_to, asylum or wait_in_mexico)",
    )
    caveats: list[str] = Field(
        default_factory=list,
        description="litigation, receiving-country discretion, and a decision date after the law was last reviewed",
    )
    missing_facts: list[str] = Field(
        description="fields whose values would settle a field of the headline that is undetermined"
    )
    missing_facts_by_field: dict[str, list[str]] = Field(
        default_factory=dict,
        description="for outcome, asylum and wait_in_mexico: the fields that would settle each",
    )
    assumed: dict[str, Any]
    instruments: list[InstrumentResult]
    would_change_if: list[WouldChange] = Field(default_factory=list)
    explanation: list[str]
    dates: Dates
    engine: str = Field(description="the engine that decided which rules fire")
    rules_digest: str
    decided_by: list[str] = Field(
        default_factory=list,
        description="the rules that decided the headline (flipping one alone would change it), in rule-file order",
    )
    lang: Lang = Field("en", description="the language of the texts (titles, reasons, caveats, explanation)")
    date_ranges: dict[str, str] = Field(
        default_factory=dict,
        description="dates known only approximately (a month or a range), as given: the answer is given only when "
        "every day of them gives it",
    )
    date_cuts: list[DateCut] = Field(
        default_factory=list,
        description="when dates known approximately do not settle the answer: the days that split them",
    )

    def to_json(self) -> str:
        """One line of JSON."""
        return self.model_dump_json()


class Answer(_Frozen):
    """One question of ``eligibility ask`` and what was answered (null: left unknown)."""

    field: str
    question: str
    answer: str = Field(description="the text typed, as typed ('' for Enter)")
    value: Any = Field(description="the value recorded for the field (null: left unknown)")


class DecisionRecord(Determination):
    """A determination with what it was made from, for a client file: ``eligibility replay``
    evaluates it again with the rules of the day and says whether the answer still holds."""

    case: dict[str, Any] = Field(description="the facts as given, normalized (the case format)")
    answers: list[Answer] | None = Field(
        None, description="for `eligibility ask`: each question and its answer"
    )
    version: str = Field(description="the version of the tool that made the determination")
    evaluated_at: str = Field(description="when it was made (UTC, ISO 8601)")
