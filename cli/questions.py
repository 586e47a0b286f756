"""The intake questions of ``eligibility ask``: one per case field, with a parser for the answer.

Every question may be left unanswered: an empty answer, ``?``, "don't know" or "no sé" leaves the
fact unknown (``unanswered``), never a value. Yes/no questions take yes/no/sí; list questions take
"none" (or "no", "ninguno"); a choice is typed by its number or its code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, get_args

from eligibility.case import Border, Documents, Place

DONT_KNOW = ("", "?", "don't know", "dont know", "unknown", "no sé", "no se")
"""Answers that leave the fact unknown."""

NONE = ("none", "no", "-", "ninguno", "ninguna", "nada")
"""Answers to a list question that mean an empty list."""


def unanswered(text: str) -> bool:
    """Whether the answer is "don't know" (the fact is then left unknown)."""
    return text.strip().lower() in DONT_KNOW


def _yes_no(text: str) -> bool:
    answer = text.strip().lower()
    if answer in ("y", "yes", "true", "s", "sí", "si"):
        return True
    if answer in ("n", "no", "false"):
        return False
    raise ValueError("answer y (yes, sí) or n (no), or press Enter if not known")


def _codes(text: str) -> list[str]:
    text = text.strip()
    return [] if text.lower() in NONE else [c.strip() for c in text.split(",") if c.strip()]


def _pairs(first: str, second: str) -> Callable[[str], list[dict[str, str]]]:
    def parse(text: str) -> list[dict[str, str]]:
        items = []
        for part in _codes(text):
            left, sep, right = part.partition(":")
            if first == "country" and not sep:
                items.append({first: left})
            elif not sep:
                raise ValueError(f"write {first}:{second}, e.g. sibling:lpr")
            else:
                items.append({first: left, second: right})
        return items

    return parse


def _text(text: str) -> str:
    return text.strip()


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"expected a whole number of years, got {text.strip()!r}") from None


def _date(text: str) -> str:
    answer = text.strip().lower()
    if answer in ("today", "hoy"):
        return dt.date.today().isoformat()
    try:
        return dt.date.fromisoformat(answer).isoformat()
    except ValueError:
        raise ValueError(f"expected a date YYYY-MM-DD, got {text.strip()!r}") from None


def _choice(values: tuple[str, ...]) -> Callable[[str], str]:
    """A choice typed by its number in the list or by its code."""

    def parse(text: str) -> str:
        answer = text.strip()
        if answer.isdigit() and 1 <= int(answer) <= len(values):
            return values[int(answer) - 1]
        if answer in values:
            return answer
        raise ValueError(f"type a number from 1 to {len(values)}, or one of {', '.join(values)}")

    return parse


def _numbered(values: tuple[str, ...], words: dict[str, str]) -> str:
    return "; ".join(f"{n}) {words[v]} ({v})" for n, v in enumerate(values, start=1))


_DOCUMENTS = get_args(Documents)
_BORDERS = get_args(Border)
_PLACES = get_args(Place)


QUESTIONS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "entry.date": ("Date of arrival at a port, or of entry between ports (YYYY-MM-DD)", _date),
    "nationalities": ("Nationalities, as ISO codes separated by commas ('none' if stateless)", _codes),
    "habitual_residence": ("Country of last habitual residence (ISO code)", _text),
    "age": ("Age in years on the date of entry", _int),
    "unaccompanied": (
        "No parent or legal guardian available in the U.S. to provide care and custody? (y/n)",
        _yes_no,
    ),
    "family_unit": ("Arrived as a family unit, a parent or guardian with a child? (y/n)", _yes_no),
    "documents": (
        "Documents held on arrival: "
        + _numbered(
            _DOCUMENTS,
            {
                "none": "no documents",
                "us_visa": "a U.S. visa",
                "us_transit_visa": "a U.S. transit visa",
                "us_admission_document": "a U.S. admission document",
                "visa_waiver": "no visa needed, under the visa waiver",
                "parole_travel_authorization": "a parole travel authorization",
            },
        ),
        _choice(_DOCUMENTS),
    ),
    "entry.border": (
        "How did the person reach the U.S.: "
        + _numbered(
            _BORDERS,
            {
                "southern_land": "by land from Mexico",
                "northern_land": "by land from Canada",
                "air": "by air",
                "sea": "by sea, elsewhere than next to the border with Mexico",
                "southern_coastal": "by sea, on a coast next to the border with Mexico",
            },
        ),
        _choice(_BORDERS),
    ),
    "entry.place": (
        "Where: "
        + _numbered(_PLACES, {"port_of_entry": "at a port of entry", "between_ports": "between ports"}),
        _choice(_PLACES),
    ),
    "entry.appointment": (
        "Did the person present at a port of entry at a time scheduled through CBP One? (y/n)",
        _yes_no,
    ),
    "entry.state": ("U.S. state of entry (e.g. TX)", _text),
    "claim_date": ("Date the protection claim was made (YYYY-MM-DD)", _date),
    "decision_date": (
        "Date of the decision on the case, which fixes the rules in force (YYYY-MM-DD, or 'today' for a "
        "case decided now)",
        _date,
    ),
    "transit": (
        "Countries passed through, in order, e.g. GT,MX or MX:denied_final ('none' for none)",
        _pairs("country", "protection"),
    ),
    "trafficking_victim": ("Victim of a severe form of trafficking in persons? (y/n)", _yes_no),
    "fear_established_in": (
        "Countries where persecution or torture was found more likely than not ('none')",
        _codes,
    ),
    "public_interest": ("Did DHS decide it is in the public interest for the person to stay? (y/n)", _yes_no),
    "family_in_us": (
        "Family in the U.S. as relation:status, separated by commas, e.g. sibling:lpr ('none')",
        _pairs("relation", "status"),
    ),
    "cbp_one_unavailable": (
        "Was it impossible for the person to access or use CBP One (language, illiteracy, technical "
        "failure, other serious obstacle)? (y/n)",
        _yes_no,
    ),
    "medical_emergency": (
        "At entry, did the person or an accompanying family member face an acute medical emergency? (y/n)",
        _yes_no,
    ),
    "imminent_threat": (
        "At entry, did the person or an accompanying family member face an imminent and extreme threat "
        "to life or safety (rape, kidnapping, torture, murder)? (y/n)",
        _yes_no,
    ),
    "title42_exception": ("Did CBP grant an individual exception from Title 42? (y/n)", _yes_no),
    "criminal_record": ("Does the person have a criminal record? (y/n)", _yes_no),
}


ASK_INSTEAD_OF_DEFAULT = (
    "documents",
    "trafficking_victim",
    "fear_established_in",
    "public_interest",
    "family_in_us",
    "decision_date",
    "claim_date",
    "entry.appointment",
    "cbp_one_unavailable",
    "medical_emergency",
    "imminent_threat",
    "title42_exception",
    "criminal_record",
)
"""Fields whose documented default ask does not assume: they are asked when they can change the answer."""


def start(data: dict[str, Any]) -> dict[str, Any]:
    """The case ask starts from: the facts given, and the fields above unknown unless given."""
    begun = dict(data)
    entry = dict(begun.get("entry") or {})
    for field in ASK_INSTEAD_OF_DEFAULT:
        if field.startswith("entry."):
            entry.setdefault(field[6:], None)
        else:
            begun.setdefault(field, None)
    begun["entry"] = entry
    return begun


def put(data: dict[str, Any], field: str, value: Any) -> None:
    """Set a (possibly dotted) case field."""
    if field.startswith("entry."):
        data.setdefault("entry", {})[field[6:]] = value
    else:
        data[field] = value
