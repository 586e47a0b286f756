"""Errors that users see. Each names the place it comes from; none needs a traceback."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def did_you_mean(name: str, known: Iterable[str], prefix: str = "") -> str:
    """`` (did you mean 'X'?)`` for the known name closest to ``name`` (shown after ``prefix``),
    or an empty string when none is close."""
    import difflib  # only when a name is wrong: not on every command's start

    near = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{prefix}{near[0]}'?)" if near else ""


class EligibilityError(Exception):
    """Base class of every error this library raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong at one place: ``place: message`` (place is ``file:line:col`` or a field)."""

    place: str
    message: str

    def __str__(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message


class CaseError(EligibilityError):
    """A case (input facts) is invalid. ``problems`` names each field that is wrong."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class RuleFileError(EligibilityError):
    """One or more rule files are invalid. Every problem found is listed, each ``file:line:col``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UnknownPolicyError(EligibilityError):
    """The policy named does not exist in the loaded rules."""


class EngineMismatchError(EligibilityError):
    """durable-rules and the pure evaluator disagreed on which rules fire: a bug, never a result."""


class SearchTooLarge(EligibilityError):
    """A search over the classes of cases passed its budget: the one budget error of every search.

    Each search catches its own and falls back: settling a case goes field by field (or leaves a
    field undetermined), ``rules verify`` reports the invariant as not settled, a diff compares
    the policies part by part. Only what no fallback covers reaches users: one line, exit 1."""
