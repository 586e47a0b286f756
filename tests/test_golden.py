"""Golden cases: expected determinations written from the legal brief, never from the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from eligibility import evaluate

GOLDEN = Path(__file__).parent / "golden"


def _cases() -> list[Any]:
    params = []
    for file in sorted(GOLDEN.glob("*.yaml")):
        for i, case in enumerate(yaml.safe_load(file.read_text(encoding="utf-8"))):
            marks = []
            params.append(pytest.param(case, id=f"{file.stem}[{i}] {case['name'][:70]}", marks=marks))
    return params


@pytest.mark.parametrize("golden", _cases())
def test_golden(golden: dict[str, Any]) -> None:
    determination = evaluate(golden["case"], golden["policy"])
    expect = golden["expect"]
    got = determination.model_dump()
    for key in ("outcome", "transfer_to", "asylum", "wait_in_mexico", "missing_facts"):
        if key in expect:
            assert got[key] == expect[key], f"{key}: {got[key]!r}, expected {expect[key]!r} ({golden['source']})"
    statuses = {i["id"]: i["status"] for i in got["instruments"]}
    for iid, status in (expect.get("instruments") or {}).items():
        assert statuses.get(iid) == status, f"{iid}: {statuses.get(iid)}, expected {status} ({golden['source']})"


def test_golden_files_are_well_formed() -> None:
    allowed = {"name", "source", "policy", "case", "expect", "status", "note"}
    for file in sorted(GOLDEN.glob("*.yaml")):
        for case in yaml.safe_load(file.read_text(encoding="utf-8")):
            assert set(case) <= allowed, f"{file.name}: {case.get('name')}: {set(case) - allowed}"
            assert case["expect"], f"{file.name}: {case['name']}: expects nothing"
