"""The intake questions of ``eligibility ask``: one per case field, with a parser for the answer.

Every question may be left unanswered: an empty answer, ``?``, "don't know" or "no sé" leaves the
fact unknown (``unanswered``), never a value. Yes/no questions take yes/no/sí; list questions take
"none" (or "no", "ninguno"); a choice is typed by its number or its code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, get_args

from eligibility.case import Border, Documents, Place, parse_span
from eligibility.i18n import translator

DONT_KNOW = ("", "?", "don't know", "dont know", "unknown", "no sé", "no se")
"""Answers that leave the fact unknown."""

NONE = ("none", "no", "-", "ninguno", "ninguna", "nada")
"""Answers to a list question that mean an empty list."""


def unanswered(text: str) -> bool:
    """Whether the answer is "don't know" (the fact is then left unknown)."""
    return text.strip().lower() in DONT_KNOW


Tr = Callable[[str], str]


def _yes_no(_: Tr) -> Callable[[str], bool]:
    def parse(text: str) -> bool:
        answer = text.strip().lower()
        if answer in ("y", "yes", "true", "s", "sí", "si"):
            return True
        if answer in ("n", "no", "false"):
            return False
        raise ValueError(_("answer y (yes, sí) or n (no), or press Enter if not known"))

    return parse


def _codes(text: str) -> list[str]:
    text = text.strip()
    return [] if text.lower() in NONE else [c.strip() for c in text.split(",") if c.strip()]


def _pairs(first: str, second: str, _: Tr) -> Callable[[str], list[dict[str, str]]]:
    def parse(text: str) -> list[dict[str, str]]:
        items = []
        for part in _codes(text):
            left, sep, right = part.partition(":")
            if first == "country" and not sep:
                items.append({first: left})
            elif not sep:
                raise ValueError(
                    _("write {first}:{second}, e.g. sibling:lpr").format(first=first, second=second)
                )
            else:
                items.append({first: left, second: right})
        return items

    return parse


def _text(text: str) -> str:
    return text.strip()


def _int(_: Tr) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(
                _("expected a whole number of years, got {text!r}").format(text=text.strip())
            ) from None

    return parse


def _date(_: Tr) -> Callable[[str], str]:
    """A day, a month (2019-12) or a range of days (2019-12-01..2019-12-20); 'today' or 'hoy'."""

    def parse(text: str) -> str:
        answer = text.strip().lower()
        if answer in ("today", "hoy"):
            return dt.date.today().isoformat()
        try:
            if parse_span(answer) is not None:
                return answer
            return dt.date.fromisoformat(answer).isoformat()
        except ValueError:
            raise ValueError(
                _(
                    "expected a date YYYY-MM-DD, a month YYYY-MM or a range YYYY-MM-DD..YYYY-MM-DD, got {text!r}"
                ).format(text=text.strip())
            ) from None

    return parse


def _choice(values: tuple[str, ...], _: Tr) -> Callable[[str], str]:
    """A choice typed by its number in the list or by its code."""

    def parse(text: str) -> str:
        answer = text.strip()
        if answer.isdigit() and 1 <= int(answer) <= len(values):
            return values[int(answer) - 1]
        if answer in values:
            return answer
        raise ValueError(
            _("type a number from 1 to {count}, or one of {codes}").format(
                count=len(values), codes=", ".join(values)
            )
        )

    return parse


def _numbered(values: tuple[str, ...], words: dict[str, str]) -> str:
    return "; ".join(f"{n}) {words[v]} ({v})" for n, v in enumerate(values, start=1))


_DOCUMENTS = get_args(Documents)
_BORDERS = get_args(Border)
_PLACES = get_args(Place)


def questions(lang: str = "en") -> dict[str, tuple[str, Callable[[str], Any]]]:
    """Each field's question in ``lang``, with the parser of its answer."""
    _ = translator(lang)
    yes_no = _yes_no(_)
    date = _date(_)
    return {
        "entry.date": (
            _(
                "Date of arrival at a port, or of entry between ports (YYYY-MM-DD, or a month YYYY-MM if not sure)"
            ),
            date,
        ),
        "nationalities": (_("Nationalities, as ISO codes separated by commas ('none' if stateless)"), _codes),
        "habitual_residence": (_("Country of last habitual residence (ISO code)"), _text),
        "age": (_("Age in years on the date of entry"), _int(_)),
        "unaccompanied": (
            _("No parent or legal guardian available in the U.S. to provide care and custody? (y/n)"),
            yes_no,
        ),
        "family_unit": (_("Arrived as a family unit, a parent or guardian with a child? (y/n)"), yes_no),
        "documents": (
            _("Documents held on arrival: ")
            + _numbered(
                _DOCUMENTS,
                {
                    "none": _("no documents"),
                    "us_visa": _("a U.S. visa"),
                    "us_transit_visa": _("a U.S. transit visa"),
                    "us_admission_document": _("a U.S. admission document"),
                    "visa_waiver": _("no visa needed, under the visa waiver"),
                    "parole_travel_authorization": _("a parole travel authorization"),
                },
            ),
            _choice(_DOCUMENTS, _),
        ),
        "entry.border": (
            _("How did the person reach the U.S.: ")
            + _numbered(
                _BORDERS,
                {
                    "southern_land": _("by land from Mexico"),
                    "northern_land": _("by land from Canada"),
                    "air": _("by air"),
                    "sea": _("by sea, elsewhere than next to the border with Mexico"),
                    "southern_coastal": _("by sea, on a coast next to the border with Mexico"),
                },
            ),
            _choice(_BORDERS, _),
        ),
        "entry.place": (
            _("Where: ")
            + _numbered(
                _PLACES, {"port_of_entry": _("at a port of entry"), "between_ports": _("between ports")}
            ),
            _choice(_PLACES, _),
        ),
        "entry.appointment": (
            _("Did the person present at a port of entry at a time scheduled through CBP One? (y/n)"),
            yes_no,
        ),
        "entry.state": (_("U.S. state of entry (e.g. TX)"), _text),
        "claim_date": (_("Date the protection claim was made (YYYY-MM-DD)"), date),
        "decision_date": (
            _(
                "Date of the decision on the case, which fixes the rules in force (YYYY-MM-DD, or 'today' "
                "for a case decided now)"
            ),
            date,
        ),
        "transit": (
            _("Countries passed through, in order, e.g. GT,MX or MX:denied_final ('none' for none)"),
            _pairs("country", "protection", _),
        ),
        "trafficking_victim": (_("Victim of a severe form of trafficking in persons? (y/n)"), yes_no),
        "fear_established_in": (
            _("Countries where persecution or torture was found more likely than not ('none')"),
            _codes,
        ),
        "public_interest": (
            _("Did DHS decide it is in the public interest for the person to stay? (y/n)"),
            yes_no,
        ),
        "family_in_us": (
            _("Family in the U.S. as relation:status, separated by commas, e.g. sibling:lpr ('none')"),
            _pairs("relation", "status", _),
        ),
        "cbp_one_unavailable": (
            _(
                "Was it impossible for the person to access or use CBP One (language, illiteracy, technical "
                "failure, other serious obstacle)? (y/n)"
            ),
            yes_no,
        ),
        "medical_emergency": (
            _(
                "At entry, did the person or an accompanying family member face an acute medical emergency? (y/n)"
            ),
            yes_no,
        ),
        "imminent_threat": (
            _(
                "At entry, did the person or an accompanying family member face an imminent and extreme threat "
                "to life or safety (rape, kidnapping, torture, murder)? (y/n)"
            ),
            yes_no,
        ),
        "title42_exception": (_("Did CBP grant an individual exception from Title 42? (y/n)"), yes_no),
        "criminal_record": (_("Does the person have a criminal record? (y/n)"), yes_no),
    }


QUESTIONS = questions("en")
"""The questions in English."""


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
