"""Rules-as-code eligibility checker for asylum transfer agreements.

>>> from eligibility import evaluate
>>> d = evaluate({"nationalities": ["HN"], "age": 30, "entry": {"date": "2019-12-01"}})
>>> d.outcome, d.transfer_to
('transfer', ['GT'])
"""

from eligibility._version import __version__
from eligibility.api import evaluate, load_rules, record
from eligibility.case import Case, parse_case, read_case_data
from eligibility.errors import CaseError, EligibilityError, RuleFileError, UnknownPolicyError
from eligibility.explain.build import render_text
from eligibility.explain.determination import Answer, DecisionRecord, Determination
from eligibility.ruleset.load import RuleSet

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
