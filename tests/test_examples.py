"""The worked example of a custom rule set (examples/us-mx-stca) with its own golden tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from eligibility import evaluate, load_rules
from eligibility.analysis.verify import verify
from eligibility.golden import run_golden

EXAMPLE = Path(__file__).parent.parent / "examples" / "us-mx-stca"
RULES = EXAMPLE / "rules"


def test_example_golden() -> None:
    """Every expected field of the example's golden cases (asylum and wait_in_mexico too), with
    the runner of `eligibility test`."""
    report = run_golden([EXAMPLE / "golden.yaml"], RULES)
    assert len(report.cases) == len(yaml.safe_load((EXAMPLE / "golden.yaml").read_text()))
    assert not report.failures, "\n".join(map(str, report.failures))


def test_the_example_adds_a_policy_and_keeps_the_shipped_ones() -> None:
    rules = load_rules(EXAMPLE / "rules", extend=True)
    assert {"enacted", "implemented", "draft-2019-07", "hypothetical-mexico-2019"} <= set(rules.policies)
    assert rules.default_policy == "enacted"
    assert verify(rules, ["hypothetical-mexico-2019"]) == []
