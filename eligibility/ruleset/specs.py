"""The rule file format, as the pydantic models every rule file is validated against.

Only eligibility.ruleset.load uses them, when it reads rule files: a rule set taken from the cache
(eligibility.cache), as ``check`` takes it, never needs them, and this module is not imported then.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from eligibility.case import FamilyStatus
from eligibility.ruleset.load import Evidence, Kind, Role, Treaty

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$")]
InstrumentId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]


class _Spec(BaseModel):
    # built when first validated (`rules language` reads only their fields)
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class SourceSpec(_Spec):
    """Where a rule comes from: the citation a lawyer can check."""

    cite: str = Field(min_length=1, description="instrument and article or section, e.g. 'ACA art. 2'")
    evidence: Evidence
    url: str
    quote: str | None = None
    paraphrase: str | None = None

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class RuleSpec(_Spec):
    id: RuleId
    role: Role
    title: str = Field(min_length=1, description="what holds when the rule fires, in plain English")
    when: Any
    sources: list[SourceSpec] = Field(min_length=1)
    overrides: str | None = None
    restates: list[RuleId] = []
    note: str | None = None
    caveat: str | list[str] | None = Field(
        None, description="shown with any answer this rule decides (litigation, discretion); one or several"
    )
    title_es: str | None = Field(None, min_length=1, description="the title in Spanish")
    caveat_es: str | list[str] | None = Field(None, description="the caveats in Spanish, one for each")
    to: list[str] | Literal["nationality"] | None = Field(
        None,
        description="for a destination rule: the countries of expulsion, or 'nationality' (every country "
        "of nationality; for a stateless person the country of habitual residence)",
    )


class InstrumentSpec(_Spec):
    id: InstrumentId
    title: str = Field(min_length=1)
    kind: Kind | None = None
    receiving_country: str | None = None
    applies_to: list[Kind] = []
    extends: InstrumentId | None = None
    summary: str | None = None
    sources: list[SourceSpec] = Field(min_length=1)
    notes: list[str] = []
    title_es: str | None = Field(None, min_length=1, description="the title in Spanish")
    summary_es: str | None = Field(None, min_length=1, description="the summary in Spanish")


class OmitSpec(_Spec):
    rule: RuleId
    because: SourceSpec


class RuleFileSpec(_Spec):
    instrument: InstrumentSpec
    rules: list[RuleSpec] = []
    omit: list[OmitSpec] = []


class PolicySpec(_Spec):
    id: InstrumentId
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    title_es: str | None = Field(None, min_length=1)
    description_es: str | None = Field(None, min_length=1)
    instruments: list[InstrumentId] = Field(min_length=1)
    screening: list[list[InstrumentId]] = []


class NeverStatusSpec(_Spec):
    instrument: InstrumentId | list[InstrumentId]
    status: list[Literal["applies", "excepted", "not_applicable", "not_in_force"]] = Field(min_length=1)


class InvariantSpec(_Spec):
    """A property the law guarantees, checked by ``eligibility rules verify`` over every class."""

    id: InstrumentId
    title: str = Field(min_length=1)
    when: Any = None
    never: (
        Literal[
            "transfer",
            "asylum_barred",
            "wait_in_mexico",
            "transfer_to_nationality",
            "expel",
            "expel_to_fear_country",
        ]
        | NeverStatusSpec
    )
    sources: list[SourceSpec] = Field(min_length=1)


class ReasonSpec(_Spec):
    text: str = Field(min_length=1, description="the reason in words, as an explanation shows it")
    text_es: str | None = Field(None, min_length=1, description="the reason in Spanish")
    sources: list[SourceSpec] = Field(min_length=1)


class DefinitionSpec(_Spec):
    id: InstrumentId
    title: str = Field(min_length=1, description="the legal term and what it means, in plain English")
    title_es: str | None = Field(None, min_length=1, description="the title in Spanish")
    when: Any
    sources: list[SourceSpec] = Field(min_length=1)


class DefinitionsFileSpec(_Spec):
    definitions: list[DefinitionSpec] = Field(
        min_length=1, description="legal terms defined once, used in a rule's condition as 'defined: ID'"
    )


class PoliciesFileSpec(_Spec):
    default: InstrumentId | None = None
    screened_first_because: ReasonSpec | None = Field(
        None,
        description="why an agreement screened in an earlier stage keeps the later stages from being "
        "screened (shown when an agreement is not screened for that reason)",
    )
    reviewed: dt.date | None = Field(
        None, description="the date the law was last reviewed; later decisions carry a caveat"
    )
    policies: list[PolicySpec] = []
    invariants: list[InvariantSpec] = []


class TreatyRowSpec(_Spec):
    country: str
    treaty: Treaty
    since: dt.date
    source: SourceSpec


class NonPartySpec(_Spec):
    country: str
    source: SourceSpec


class TreatyTableSpec(_Spec):
    table: Literal["treaty_parties"]
    description: str
    rows: list[TreatyRowSpec]
    non_parties: list[NonPartySpec] = []


HostName = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
]


class OfficialHostSpec(_Spec):
    host: HostName
    what: str = Field(min_length=1, description="whose host it is and what it publishes")


class NotCitableHostSpec(_Spec):
    host: HostName
    why: str = Field(min_length=1, description="why no citation may link to it")


class HostsTableSpec(_Spec):
    """The hosts a citation may link to (rules/data/official-hosts.yaml, eligibility.ruleset.hosts)."""

    table: Literal["official_hosts"]
    description: str
    official: list[OfficialHostSpec] = []
    not_citable: list[NotCitableHostSpec] = []


class QualifyingStatusSpec(_Spec):
    status: FamilyStatus
    source: SourceSpec


class FamilyTableSpec(_Spec):
    table: Literal["qualifying_family_statuses"]
    description: str
    statuses: list[QualifyingStatusSpec] = Field(min_length=1)
