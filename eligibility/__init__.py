"""Rules-as-code eligibility checker for asylum transfer agreements.

>>> from eligibility import evaluate
>>> d = evaluate({"nationalities": ["HN"], "age": 30, "entry": {"date": "2019-12-01"}})
>>> d.outcome, d.transfer_to
('transfer', ['GT'])

The names below are imported when first used (PEP 562), so that ``import eligibility`` and a
command that needs only some of them start quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from eligibility._version import __version__

if TYPE_CHECKING:
    from eligibility.api import evaluate, load_rules, record
    from eligibility.case import Case, parse_case, read_case_data
    from eligibility.errors import CaseError, EligibilityError, RuleFileError, UnknownPolicyError
    from eligibility.explain.build import render_text
    from eligibility.explain.determination import Answer, DecisionRecord, Determination
    from eligibility.ruleset.load import RuleSet

_WHERE = {
    "evaluate": "eligibility.api",
    "load_rules": "eligibility.api",
    "record": "eligibility.api",
    "Case": "eligibility.case",
    "parse_case": "eligibility.case",
    "read_case_data": "eligibility.case",
    "CaseError": "eligibility.errors",
    "EligibilityError": "eligibility.errors",
    "RuleFileError": "eligibility.errors",
    "UnknownPolicyError": "eligibility.errors",
    "render_text": "eligibility.explain.build",
    "Answer": "eligibility.explain.determination",
    "DecisionRecord": "eligibility.explain.determination",
    "Determination": "eligibility.explain.determination",
    "RuleSet": "eligibility.ruleset.load",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'eligibility' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = [
    "Answer",
    "Case",
    "CaseError",
    "DecisionRecord",
    "Determination",
    "EligibilityError",
    "RuleFileError",
    "RuleSet",
    "UnknownPolicyError",
    "__version__",
    "evaluate",
    "load_rules",
    "parse_case",
    "read_case_data",
    "record",
    "render_text",
]
