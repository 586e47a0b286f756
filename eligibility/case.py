"""The case: the facts of one person, as in the case format (`eligibility schema case`).

Every field is optional except ``entry.date``. An omitted field takes its documented default (the
default is then listed under ``assumed`` in the determination); an omitted field without default,
or an explicit ``null``, is **unknown**.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from eligibility.countries import check_country, check_state
from eligibility.errors import CaseError, Problem, did_you_mean
from eligibility.yamlsource import YAMLSourceError, decode, load_yaml

MAX_CASE_BYTES = 1024 * 1024
"""The largest case file or standard input read (a case is a few hundred bytes)."""
MAX_ID_CHARS = 1000
MAX_PROBLEMS = 10
"""A case's errors beyond this many are counted, not listed (the message stays one short line)."""
MAX_MESSAGE_CHARS = 300

Border = Literal["southern_land", "northern_land", "air", "sea", "southern_coastal"]
Place = Literal["port_of_entry", "between_ports"]
Documents = Literal[
    "none",
    "us_visa",
    "us_transit_visa",
    "us_admission_document",
    "visa_waiver",
    "parole_travel_authorization",
]
Protection = Literal["none", "pending", "abandoned", "denied_final", "granted"]
Relation = Literal[
    "spouse",
    "child",
    "parent",
    "legal_guardian",
    "sibling",
    "grandparent",
    "grandchild",
    "aunt",
    "uncle",
    "niece",
    "nephew",
]
FamilyStatus = Literal[
    "citizen",
    "lpr",
    "asylee",
    "refugee",
    "lawful_nonimmigrant",
    "pending_asylum_adult",
    "other",
]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date YYYY-MM-DD, got a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"'{value}' is not a real calendar date") from None
    raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")


IsoDate = Annotated[dt.date, BeforeValidator(_parse_date)]


def _text(value: object) -> object:
    """Text that can be written out: a string with a lone surrogate (a JSON escape such as
    \\ud800 that encodes no character) is refused, as it cannot be encoded in UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("not valid Unicode text (a lone surrogate)") from None
        if len(value) > MAX_ID_CHARS:
            raise ValueError(f"longer than {MAX_ID_CHARS:,} characters")
    return value


BORDER_STATES: dict[str, frozenset[str]] = {
    "southern_land": frozenset({"AZ", "CA", "NM", "TX"}),
    "northern_land": frozenset({"AK", "ID", "ME", "MI", "MN", "MT", "ND", "NH", "NY", "VT", "WA"}),
    "southern_coastal": frozenset({"CA", "TX"}),
}
"""The states on each border (an arrival by air or by sea elsewhere may be in any state): the
land border with Mexico, the land border with Canada, and the coasts next to the border with Mexico."""


def entry_conflict(border: object, place: object, state: object, appointment: object) -> str | None:
    """Why these facts of an entry cannot all be true ('entry.state: ...'), or None. A value that
    is not a string (unknown) conflicts with nothing."""
    states = BORDER_STATES.get(border) if isinstance(border, str) else None
    if states is not None and isinstance(state, str) and state not in states:
        return (
            f"entry.state: {state} is not on the border of entry.border = {border} "
            f"(states on it: {', '.join(sorted(states))})"
        )
    if border == "air" and place == "between_ports":
        return "entry.place: between_ports, but entry.border = air: an arrival by air is at a port of entry"
    if appointment is True and place == "between_ports":
        return "entry.appointment: a CBP One appointment is kept at a port of entry, but entry.place = between_ports"
    return None


SPAN_FIELDS: tuple[str, ...] = ("entry.date", "birth_date", "claim_date", "decision_date")
"""The dates that may be given approximately: a month ``2019-12`` or a range
``2019-12-01..2019-12-20`` (both ends included)."""
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def parse_span(value: object) -> tuple[dt.date, dt.date] | None:
    """The first and last day of an approximate date (a month or a range), None for anything
    else; ValueError for a malformed one."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    month = _MONTH.match(text)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        if not 1 <= number <= 12 or year < 1:
            raise ValueError(f"'{value}' is not a real month (YYYY-MM)")
        first = dt.date(year, number, 1)
        following = dt.date(year + number // 12, number % 12 + 1, 1) if year < 9999 or number < 12 else None
        return first, (following - dt.timedelta(days=1)) if following else dt.date(9999, 12, 31)
    pair = _RANGE.match(text)
    if pair:
        start, end = (_parse_date(pair.group(i)) for i in (1, 2))
        if end < start:
            raise ValueError(f"'{value}': the range ends before it starts")
        return start, end
    return None


Country = Annotated[str, BeforeValidator(check_country)]
UsState = Annotated[str, BeforeValidator(check_state)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(_Strict):
    """How, where and when the person reached the United States."""

    date: IsoDate = Field(description="Arrival at a port of entry, or entry or attempted entry between ports")
    border: Border | None = Field(
        None, description="southern_land = from Mexico, northern_land = from Canada"
    )
    place: Place | None = None
    state: UsState | None = Field(None, description="U.S. state of entry (court orders differed by circuit)")
    appointment: StrictBool | None = Field(
        None, description="presented at a port of entry at a time scheduled in advance through CBP One"
    )


class TransitStop(_Strict):
    """A country passed through en route, and what became of any protection claim there."""

    country: Country
    protection: Protection = "none"


class FamilyMember(_Strict):
    """A family member in the United States and their status."""

    relation: Relation
    status: FamilyStatus


def _transit_item(value: object) -> object:
    return {"country": value} if isinstance(value, str) else value


class Case(_Strict):
    """The facts of one person. Only ``entry.date`` is required; see the case format (`eligibility schema case`)."""

    id: Annotated[str, BeforeValidator(_text)] | None = None
    nationalities: list[Country] | None = Field(
        None, description="Every nationality held; [] means stateless", max_length=20
    )
    habitual_residence: Country | None = None
    birth_date: IsoDate | None = None
    age: Annotated[StrictInt, Field(ge=0, le=130)] | None = None
    unaccompanied: StrictBool | None = None
    family_unit: StrictBool | None = None
    documents: Documents | None = None
    entry: Entry
    claim_date: IsoDate | None = None
    decision_date: IsoDate | None = None
    transit: list[Annotated[TransitStop, BeforeValidator(_transit_item)]] | None = Field(None, max_length=50)
    trafficking_victim: StrictBool | None = None
    fear_established_in: list[Country] | None = Field(None, max_length=50)
    public_interest: StrictBool | None = None
    family_in_us: list[FamilyMember] | None = Field(None, max_length=50)
    cbp_one_unavailable: StrictBool | None = Field(
        None, description="it was not possible to access or use CBP One"
    )
    medical_emergency: StrictBool | None = Field(
        None,
        description="at entry, the person or an accompanying family member faced an acute medical emergency",
    )
    imminent_threat: StrictBool | None = Field(
        None,
        description="at entry, the person or an accompanying family member faced an imminent and extreme threat to life or safety",
    )
    title42_exception: StrictBool | None = Field(
        None, description="CBP granted an individual exception from Title 42"
    )
    criminal_record: StrictBool | None = Field(None, description="the person has a criminal record")
    _spans: dict[str, tuple[dt.date, dt.date, str]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _approximate_dates(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Case:
        """An approximate date is validated as its first day and kept, as given, in ``spans``."""
        spans: dict[str, tuple[dt.date, dt.date, str]] = {}
        if isinstance(data, dict):
            data = dict(data)
            for name in SPAN_FIELDS:
                holder = data
                key = name
                if name.startswith("entry."):
                    if not isinstance(data.get("entry"), dict):
                        continue
                    holder = data["entry"] = dict(data["entry"])
                    key = name[6:]
                try:
                    span = parse_span(holder.get(key))
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
                if span is not None:
                    spans[name] = (*span, str(holder[key]).strip())
                    holder[key] = span[0].isoformat()
        case: Case = handler(data)
        if isinstance(data, Case):
            return case
        case._spans = spans
        case._check_dates()
        case._check_consistency()
        return case

    def _check_consistency(self) -> None:
        """Facts that cannot all be true: a state off the border crossed, an air arrival between
        ports, a CBP One appointment between ports."""
        entry = self.entry
        problem = entry_conflict(entry.border, entry.place, entry.state, entry.appointment)
        if problem is not None:
            raise ValueError(problem)
        claim, decision = self.bounds("claim_date"), self.bounds("decision_date")
        if claim is not None and decision is not None and decision[1] < claim[0]:
            raise ValueError("decision_date: before claim_date (a decision is made on a claim already made)")

    def _check_dates(self) -> None:
        """The dates in order (for approximate dates: on some day of each)."""
        entry_first, entry_last = self.bounds("entry.date")  # type: ignore[misc]
        if self.birth_date is not None:
            birth_first, birth_last = self.bounds("birth_date")  # type: ignore[misc]
            if birth_first > entry_last:
                raise ValueError("birth_date: after entry.date")
            if self.age is not None:
                youngest, oldest = age_on(birth_last, entry_first), age_on(birth_first, entry_last)
                if not youngest <= self.age <= oldest:
                    derived = str(youngest) if youngest == oldest else f"{youngest} to {oldest}"
                    raise ValueError(f"age: {self.age} does not match birth_date ({derived} on entry.date)")
        for name in ("claim_date", "decision_date"):
            bounds = self.bounds(name)
            if bounds is not None and bounds[1] < entry_first:
                shown = self._spans[name][2] if name in self._spans else bounds[1].isoformat()
                raise ValueError(f"{name}: {shown} is before entry.date {self.entry_date_text}")

    @property
    def spans(self) -> dict[str, tuple[dt.date, dt.date, str]]:
        """The dates given approximately: field → (first day, last day, the text as given)."""
        return self._spans

    def bounds(self, name: str) -> tuple[dt.date, dt.date] | None:
        """The first and last possible day of a date field (None: not given)."""
        if name in self._spans:
            return self._spans[name][:2]
        value = self.entry.date if name == "entry.date" else getattr(self, name)
        return None if value is None else (value, value)

    @property
    def entry_date_text(self) -> str:
        """The entry date as given ('2019-12', a range, or the day)."""
        return self._spans["entry.date"][2] if "entry.date" in self._spans else self.entry.date.isoformat()

    def given(self, name: str) -> bool:
        """Whether the field was present in the input (``null`` counts as present)."""
        if name.startswith("entry."):
            return name.split(".", 1)[1] in self.entry.model_fields_set
        return name in self.model_fields_set


def age_on(birth: dt.date, day: dt.date) -> int:
    """Age in whole years on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


FIELD_NAMES: tuple[str, ...] = tuple(
    [n for n in Case.model_fields if n != "entry"] + [f"entry.{n}" for n in Entry.model_fields]
)


def parse_case(data: object, *, source: str = "case") -> Case:
    """Validate a case given as a dict, JSON or YAML text, or a Case. Raises CaseError."""
    if isinstance(data, Case):
        return data
    if isinstance(data, (str, bytes)):
        data = read_case_data(data, source)
    if not isinstance(data, dict):
        raise CaseError([Problem(source, "a case must be a JSON or YAML object (a mapping)")])
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        raise CaseError(_bounded(_problems(exc, data, source), source)) from None


def read_case_data(text: str | bytes, source: str = "case") -> object:
    """JSON or YAML text as plain data, before validation; CaseError names the place of a syntax error.

    Bytes must be UTF-8 (the bad byte's line and column are named); a key given twice in one
    mapping is an error, as a legal fact must not silently take the last of two values; YAML is
    read by the safe loader of eligibility.yamlsource (no code, no duplicate keys).
    """
    raw = decode_utf8(text, source) if isinstance(text, bytes) else text
    if len(raw) > MAX_CASE_BYTES:
        raise _too_large(source)
    stripped = raw.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            return json.loads(raw, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise CaseError(
                [Problem(f"{source}:{exc.lineno}:{exc.colno}", f"malformed JSON: {exc.msg}")]
            ) from None
        except _DuplicateKey as exc:
            raise CaseError([Problem(source, duplicate_key_message(exc.key))]) from None
        except RecursionError:
            raise CaseError([Problem(source, "malformed JSON: nested too deeply")]) from None
        except ValueError:  # an integer of more digits than Python converts (4,300)
            raise CaseError([Problem(source, "malformed JSON: a number too long to read")]) from None
    try:
        doc, problems = load_yaml(raw, source)
    except RecursionError:
        raise CaseError([Problem(source, "malformed YAML: nested too deeply")]) from None
    if problems:
        raise CaseError(_bounded(problems, source))
    return doc.data if doc is not None else None


def decode_utf8(data: bytes, source: str) -> str:
    """``data`` as text; CaseError with the line and column of the first byte that is not UTF-8."""
    try:
        return decode(data)
    except YAMLSourceError as exc:
        problem = f"not UTF-8 text (byte 0x{exc.byte or 0:02x}); save the file as UTF-8"
        raise CaseError([Problem(f"{source}:{exc.line}:{exc.column}", problem)]) from None


def read_case_stream(stream: Any, source: str) -> str:
    """At most ``MAX_CASE_BYTES`` of a binary stream (a file, standard input) as UTF-8 text."""
    data = stream.read(MAX_CASE_BYTES + 1)
    if len(data) > MAX_CASE_BYTES:
        raise _too_large(source)
    return decode_utf8(data, source)


def _too_large(source: str) -> CaseError:
    return CaseError(
        [Problem(source, f"larger than {MAX_CASE_BYTES // 1024:,} KB; a case is one person's facts")]
    )


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def json_object_strict(raw: str | bytes) -> Any:
    """``json.loads`` that refuses a key given twice in one object: ValueError with the message
    `check` gives (a legal fact must not silently take the last of two values)."""
    try:
        return json.loads(raw, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        raise DuplicateKeyError(duplicate_key_message(exc.key)) from None


class DuplicateKeyError(ValueError):
    """A JSON object names one key twice."""


def duplicate_key_message(key: str) -> str:
    return f"the key '{_shown(key)}' is given twice in one object"


def _shown(text: str, limit: int = 60) -> str:
    """Input text as it may appear in a message: control characters escaped, long text cut."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bounded(problems: list[Problem], source: str) -> list[Problem]:
    """The first ``MAX_PROBLEMS`` problems, each message cut to a readable length, and a count
    of the rest (200,000 bad values must not make a 15 MB error line)."""
    shown = [
        Problem(
            p.place,
            p.message if len(p.message) <= MAX_MESSAGE_CHARS else p.message[: MAX_MESSAGE_CHARS - 1] + "…",
        )
        for p in problems[:MAX_PROBLEMS]
    ]
    if len(problems) > MAX_PROBLEMS:
        shown.append(Problem(source, f"and {len(problems) - MAX_PROBLEMS:,} more problems"))
    return shown


def _problems(exc: ValidationError, data: dict[str, Any], source: str) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
        loc = [p for p in loc if p not in ("list[...]", "constrained-int", "literal")]
        field = ".".join(loc)
        message = _message(err, loc, data)
        if err["type"] == "missing" and field == "entry":
            field = "entry.date"
        if not field and message.startswith(tuple(f"{n}:" for n in FIELD_NAMES)):
            field, message = message.split(": ", 1)
        problems.append(Problem(f"{source}: {field}" if field else source, message))
    return problems


def _message(err: Any, loc: list[str], data: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        name = loc[-1] if loc else "?"
        parent = "entry." if len(loc) == 2 and loc[0] == "entry" else ""
        pool = [n for n in FIELD_NAMES if (parent and n.startswith(parent)) or (not parent and "." not in n)]
        pool = [n.removeprefix(parent) for n in pool]
        hint = did_you_mean(name, pool, parent)
        return f"unknown field{hint}"
    if kind == "missing":
        return "required"
    if kind == "too_long":
        most = err.get("ctx", {}).get("max_length")
        return f"at most {most} items ({err.get('ctx', {}).get('actual_length', 'more')} given)"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{err['input']!r} is not one of {expected}"
    message = str(err["msg"])
    return message.removeprefix("Value error, ")
