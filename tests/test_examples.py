"""The worked example of a custom rule set (examples/us-mx-stca) with its own golden tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from eligibility import evaluate, load_rules
from eligibility.analysis.verify import verify

EXAMPLE = Path(__file__).parent.parent / "examples" / "us-mx-stca"
CASES = yaml.safe_load((EXAMPLE / "golden.yaml").read_text())


@pytest.mark.parametrize("golden", CASES, ids=lambda c: c["name"][:60])
def test_example_golden(golden: dict[str, Any]) -> None:
    rules = load_rules(EXAMPLE / "rules", extend=True)
    d = evaluate(golden["case"], golden["policy"], rules=rules)
    expect = golden["expect"]
    for key in ("outcome", "transfer_to"):
        if key in expect:
            assert getattr(d, key) == expect[key]
    statuses = {i.id: i.status for i in d.instruments}
    for iid, status in (expect.get("instruments") or {}).items():
        assert statuses[iid] == status


def test_the_example_adds_a_policy_and_keeps_the_shipped_ones() -> None:
    rules = load_rules(EXAMPLE / "rules", extend=True)
    assert {"enacted", "implemented", "draft-2019-07", "hypothetical-mexico-2019"} <= set(rules.policies)
    assert rules.default_policy == "enacted"
    assert verify(rules, ["hypothetical-mexico-2019"]) == []
