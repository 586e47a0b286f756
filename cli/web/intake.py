"""The intake page's questions: those of ``eligibility ask``, in the same order, as form fields.

The page sends back every answer so far, as typed; the server replays them on the partial case
with the parsers of ``ask`` (so both read an answer the same way, in either language), and asks
``ask``'s choice of the next question. Nothing is kept on the server between two requests.
"""

from __future__ import annotations

import json
import re
from typing import Any, get_args

import eligibility
from eligibility.case import Border, Documents, Place
from eligibility.errors import CaseError, Problem
from eligibility.i18n import translator

from ..questions import QUESTIONS, put, questions, start, unanswered
from .models import AnswerIn, Option, Question

KINDS: dict[str, str] = {
    "entry.date": "date",
    "claim_date": "date",
    "decision_date": "date",
    "age": "number",
    "nationalities": "countries",
    "fear_established_in": "countries",
    "habitual_residence": "country",
    "entry.state": "text",
    "transit": "stops",
    "family_in_us": "list",
    "documents": "choice",
    "entry.border": "choice",
    "entry.place": "choice",
}
"""How the page asks each field; every other question is a yes/no one."""

CHOICES: dict[str, tuple[str, ...]] = {
    "documents": get_args(Documents),
    "entry.border": get_args(Border),
    "entry.place": get_args(Place),
}

_YES_NO_HINT = re.compile(r"\s*\((?:y/n|s/n)\)\s*$")


def question(field: str, lang: str) -> Question:
    """``field``'s question as a form field: its words without the typing hints ``ask`` adds
    (``(y/n)``, a numbered list of choices), its kind and its options."""
    _ = translator(lang)
    prompt = questions(lang)[field][0]
    kind = KINDS.get(field, "yes_no")
    text = prompt
    options: list[Option] = []
    if kind == "yes_no":
        text = _YES_NO_HINT.sub("", prompt)
        options = [Option(value="y", label=_("yes")), Option(value="n", label=_("no"))]
    elif kind == "choice":
        text, _sep, listed = prompt.partition(": 1) ")
        listed = "1) " + listed
        for number, code in enumerate(CHOICES[field], start=1):
            found = re.search(rf"{number}\) (.+?) \({re.escape(code)}\)(?:; |$)", listed)
            options.append(Option(value=code, label=found.group(1) if found else code))
    return Question(
        field=field, text=text, kind=kind, options=options, required=field == "entry.date", prompt=prompt
    )


class AnswerError(CaseError):
    """An answer that ``ask`` would ask again, with the reason."""


def replay(
    case: dict[str, Any], answers: list[AnswerIn], lang: str
) -> tuple[dict[str, Any], list[eligibility.Answer], set[str]]:
    """The case the answers make (from ``case``, as ``ask`` starts), the answers as recorded, and
    the fields asked. Raises ``AnswerError`` at the first answer ``ask`` would not take."""
    _ = translator(lang)
    asked_words = questions(lang)
    data = start(case)
    _validate(data, "case", None)  # the facts given first must be valid, the date of entry aside
    recorded: list[eligibility.Answer] = []
    asked: set[str] = set()
    for index, given in enumerate(answers):
        where = f"answers.{index}"
        if given.field not in QUESTIONS:
            raise AnswerError([Problem(f"{where}.field", f"no question '{given.field}'")])
        words, parse = asked_words[given.field]
        if unanswered(given.answer):
            if given.field == "entry.date":
                raise AnswerError(
                    [
                        Problem(
                            f"{where}.answer",
                            _("the date of entry is needed: it decides which rules reach the person"),
                        )
                    ]
                )
            put(data, given.field, None)
            recorded.append(
                eligibility.Answer(field=given.field, question=words, answer=given.answer, value=None)
            )
            asked.add(given.field)
            continue
        try:
            value = parse(given.answer)
            trial = json.loads(json.dumps(data))
            put(trial, given.field, value)
        except ValueError as exc:
            raise AnswerError([Problem(f"{where}.answer", str(exc))]) from None
        _validate(trial, "answer", f"{where}.answer")
        put(data, given.field, value)
        shown: Any = trial
        for part in given.field.split("."):
            shown = shown.get(part) if isinstance(shown, dict) else None
        recorded.append(
            eligibility.Answer(field=given.field, question=words, answer=given.answer, value=shown)
        )
        asked.add(given.field)
    return data, recorded, asked


def _validate(data: dict[str, Any], source: str, place: str | None) -> None:
    """Raise the case's problems, at ``place`` if given, but for a date of entry not given yet."""
    try:
        eligibility.parse_case(data, source=source)
    except CaseError as exc:
        problems = [
            p for p in exc.problems if not (p.place == f"{source}: entry.date" and p.message == "required")
        ]
        if problems and place is not None:
            raise AnswerError([Problem(place, "; ".join(p.message for p in problems))]) from None
        if problems:
            raise CaseError(problems) from None
