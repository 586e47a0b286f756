"""Golden cases: expected determinations written from the law (the public sources each case cites), never from the code."""

from __future__ import annotations

import re

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from eligibility import load_rules
from eligibility.golden import GoldenCase, check_cases, load_golden, run_case

GOLDEN = Path(__file__).parent / "golden"

# The loader (eligibility.golden) checks each case's keys and values; these tests add what the
# project's own files must also hold: the shipped policies and instruments only, public sources.
POLICIES = {"enacted", "implemented", "draft-2019-07", "without-title-42"}
INSTRUMENTS = {
    "ina-208a2",
    "title-42",
    "us-ca-stca",
    "us-gt-aca",
    "us-gt-aca-as-implemented",
    "us-gt-aca-draft-2019-07",
    "us-hn-aca",
    "us-sv-aca",
    "us-hn-aca-2025",
    "us-hn-aca-2025-as-implemented",
    "us-gt-aca-2025",
    "us-ug-aca-2025",
    "us-ec-aca-2025",
    "us-py-aca-2025",
    "transit-bar",
    "lawful-pathways",
    "securing-the-border",
    "proclamation-10888",
    "mpp",
    "mpp-as-implemented",
}
# A case must stand alone: its source cites public law, not a file outside the repository.
OUTSIDE = re.compile(r"\.\./|\bshared[/\\]")  # a relative path up, or a sibling folder of notes


def _load(file: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(file.read_text(encoding="utf-8"))


def _cases() -> list[Any]:
    """Every golden case as it is written (a dict), one pytest param each (other modules use them)."""
    return [
        pytest.param(case, id=f"{file.stem}[{i}] {case['name'][:70]}")
        for file in sorted(GOLDEN.glob("*.yaml"))
        for i, case in enumerate(_load(file))
    ]


CASES = load_golden([GOLDEN])  # the runner of `eligibility test`: it checks the files' form too


@pytest.mark.parametrize("golden", CASES, ids=[f"{Path(c.file).stem}:{c.line} {c.name[:70]}" for c in CASES])
def test_golden(golden: GoldenCase) -> None:
    failures = run_case(golden, load_rules())
    assert not failures, "\n".join(f"{f} ({golden.source})" for f in failures)


def test_the_runner_checks_the_cases_against_the_shipped_rules() -> None:
    check_cases(CASES, load_rules())  # raises on an unknown policy or instrument, or an invalid case


def test_golden_files_are_well_formed() -> None:
    """Beyond the loader's checks: each case stands alone (its source cites public law), names a
    shipped policy and instruments, and expects a headline whose fields agree with each other."""
    for case in CASES:
        label = f"{case.where}: {case.name}"
        assert case.policy in POLICIES, f"{label}: policy {case.policy!r}"
        assert isinstance(case.case.get("entry", {}).get("date"), dt.date), f"{label}: a case needs entry.date"
        assert not OUTSIDE.search(case.source), f"{label}: source points outside the repository"
        expect = case.expect
        assert set(expect.instruments or {}) <= INSTRUMENTS, f"{label}: unknown instrument"
        # The headline's fields must agree with each other (expel and transfer imply the rest).
        if expect.outcome == "expel":
            assert expect.transfer_to in (None, []), f"{label}: expel with transfer_to"
            assert expect.asylum in (None, "not_in_us"), f"{label}: expel with asylum"
            assert expect.wait_in_mexico in (None, False), f"{label}: expel with wait_in_mexico"
        elif expect.outcome is not None:
            assert expect.expel_to in (None, []), f"{label}: expel_to outside an expel outcome"
        if expect.outcome == "transfer":
            assert expect.asylum in (None, "not_in_us"), f"{label}: transfer with asylum"
            assert expect.wait_in_mexico in (None, False), f"{label}: transfer with wait_in_mexico"
