"""The request and response bodies of the JSON API (they make its OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from eligibility.explain.determination import DecisionRecord

Lang = Literal["en", "es"]
CASE_HELP = "a case in the case format (GET /v1/schemas/case); only entry.date is required"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvaluateRequest(_Body):
    """One case to determine, as ``eligibility check --format json`` does."""

    case: dict[str, Any] = Field(description=CASE_HELP)
    policy: str | None = Field(None, description="a policy of GET /v1/policies (default: enacted)")
    as_of: str | None = Field(
        None, description="the decision date, YYYY-MM-DD (the case's decision_date; give one or the other)"
    )
    lang: Lang = Field("en", description="language of the texts: en or es")
    engine: Literal["durable", "pure", "fast"] = Field(
        "durable", description="as `check --engine` ('fast' leaves out would_change_if)"
    )


class AnswerIn(_Body):
    """One answer to a question of the intake, as typed ('' or "don't know": left unknown)."""

    field: str = Field(max_length=64, description="the question's field, e.g. entry.date")
    answer: str = Field(
        max_length=2000, description="the answer as a person would type it to `eligibility ask`"
    )


class AskRequest(_Body):
    """A partial case and the answers so far: the next question, or the answer when none is left."""

    case: dict[str, Any] = Field(default_factory=dict, description="facts known before the questions")
    answers: list[AnswerIn] = Field(default_factory=list, max_length=64)
    policy: str | None = None
    lang: Lang = "en"
    finish: bool = Field(False, description="stop asking: the answer from the facts given so far")


class Option(BaseModel):
    value: str = Field(description="the answer to send")
    label: str


class Question(BaseModel):
    """The next question: the one whose answer most decides what is still open."""

    field: str
    text: str = Field(description="the question, in the language asked")
    kind: Literal["date", "yes_no", "choice", "number", "country", "countries", "stops", "list", "text"] = (
        Field(
            description="country: one ISO code; countries: codes separated by commas; stops: countries in "
            "order, each may be COUNTRY:protection; list: items separated by commas"
        )
    )
    options: list[Option] = Field(default_factory=list, description="for yes_no and choice")
    required: bool = Field(description="only the date of entry cannot be left unknown")
    prompt: str = Field(description="the question as `eligibility ask` words it, with its hints")


class Summary(BaseModel):
    """The short answer (``eligibility check``'s default output) and its parts."""

    headline: str
    evidence: str = Field(description="the evidence level in words, in the language asked")
    caveats: list[str]
    text: str = Field(description="the whole short answer, as `eligibility check` prints it")


class AskResponse(BaseModel):
    question: Question | None = Field(description="null when no question can change the answer")
    asked: int = Field(description="questions answered so far")
    record: DecisionRecord | None = Field(
        description="when no question is left (or finish): the decision record, as `ask --format json`"
    )
    summary: Summary | None = None


class ErrorItem(BaseModel):
    field: str | None = Field(description="where in the request: a body path such as case.entry.date")
    message: str


class ErrorBody(BaseModel):
    """Every error: the HTTP status, and each problem with its place."""

    status: int
    errors: list[ErrorItem]


class PolicyInfo(BaseModel):
    id: str
    title: str
    description: str
    instruments: list[str]
    default: bool


class SourceInfo(BaseModel):
    cite: str
    evidence: str
    url: str
    quote: str | None
    paraphrase: str | None


class RuleInfo(BaseModel):
    id: str
    instrument: str
    role: str
    title: str
    location: str
    overrides: str | None
    when: list[str] = Field(description="the condition in plain words, one line each")
    sources: list[SourceInfo]
    note: str | None
    instruments: list[str] = Field(description="the instruments that use the rule")


class CountryInfo(BaseModel):
    code: str = Field(description="ISO 3166-1 alpha-2")
    name: str


class ServerInfo(BaseModel):
    version: str
    rules_digest: str
    default_policy: str
    languages: list[str]
    max_body_bytes: int
    max_batch_cases: int
