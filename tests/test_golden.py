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

# Fields of the determination compared as they are.
EXACT_KEYS = ("outcome", "transfer_to", "expel_to", "asylum", "wait_in_mexico", "missing_facts", "evidence")
EXPECT_KEYS = {*EXACT_KEYS, "caveats_contain", "instruments"}
CASE_KEYS = {"name", "source", "policy", "case", "expect", "status", "note"}
POLICIES = {"enacted", "implemented", "draft-2019-07", "without-title-42"}
OUTCOMES = {"transfer", "process_in_us", "expel", "undetermined"}
ASYLUM = {"eligible", "barred", "not_in_us", "undetermined"}
EVIDENCE = {"primary", "secondary", "unverified"}
STATUSES = {"applies", "excepted", "not_applicable", "not_in_force", "undetermined"}
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
    names: set[str] = set()
    for file in sorted(GOLDEN.glob("*.yaml")):
        for case in _load(file):
            label = f"{file.name}: {case.get('name')}"
            assert set(case) <= CASE_KEYS, f"{label}: {set(case) - CASE_KEYS}"
            assert case["name"] not in names, f"{label}: duplicate name"
            names.add(case["name"])
            assert case["policy"] in POLICIES, f"{label}: policy {case['policy']!r}"
            assert isinstance(case["case"], dict) and isinstance(case["case"].get("entry", {}).get("date"), dt.date), (
                f"{label}: a case needs entry.date"
            )
            source = case["source"]
            assert isinstance(source, str) and source.strip(), f"{label}: no source"
            assert not OUTSIDE.search(source), f"{label}: source points outside the repository"
            if case.get("status") is not None:
                assert case["status"] == "provisional" and case.get("note"), f"{label}: provisional needs a note"
            expect = case["expect"]
            assert expect, f"{label}: expects nothing"
            assert set(expect) <= EXPECT_KEYS, f"{label}: unknown expect keys {set(expect) - EXPECT_KEYS}"
            if "outcome" in expect:
                assert expect["outcome"] in OUTCOMES, f"{label}: outcome {expect['outcome']!r}"
            if "asylum" in expect:
                assert expect["asylum"] in ASYLUM, f"{label}: asylum {expect['asylum']!r}"
            if "wait_in_mexico" in expect:
                assert expect["wait_in_mexico"] in (True, False, "undetermined"), f"{label}: wait_in_mexico"
            if "evidence" in expect:
                assert expect["evidence"] in EVIDENCE, f"{label}: evidence {expect['evidence']!r}"
            for key in ("transfer_to", "expel_to", "missing_facts"):
                if key in expect:
                    assert expect[key] == sorted(expect[key]), f"{label}: {key} must be sorted"
            if "caveats_contain" in expect:
                fragments = expect["caveats_contain"]
                assert isinstance(fragments, list) and all(isinstance(f, str) and f for f in fragments), (
                    f"{label}: caveats_contain is a list of strings"
                )
            # The headline's fields must agree with each other (expel and transfer imply the rest).
            outcome = expect.get("outcome")
            if outcome == "expel":
                assert expect.get("transfer_to", []) == [], f"{label}: expel with transfer_to"
                assert expect.get("asylum", "not_in_us") == "not_in_us", f"{label}: expel with asylum"
                assert expect.get("wait_in_mexico", False) is False, f"{label}: expel with wait_in_mexico"
            elif outcome is not None:
                assert expect.get("expel_to", []) == [], f"{label}: expel_to outside an expel outcome"
            if outcome == "transfer":
                assert expect.get("asylum", "not_in_us") == "not_in_us", f"{label}: transfer with asylum"
                assert expect.get("wait_in_mexico", False) is False, f"{label}: transfer with wait_in_mexico"
            for iid, status in (expect.get("instruments") or {}).items():
                assert iid in INSTRUMENTS, f"{label}: unknown instrument {iid!r}"
                assert status in STATUSES, f"{label}: {iid}: status {status!r}"
