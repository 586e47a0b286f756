"""`eligibility rules verify`: clean on the shipped rules, and it catches every planted defect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from eligibility import evaluate, load_rules
from eligibility.analysis.verify import verify
from eligibility_cli.main import main

PLANTED = Path(__file__).parent / "broken_policies"
EXPECTATIONS = yaml.safe_load((PLANTED / "expectations.yaml").read_text())


def test_the_shipped_rules_verify_clean() -> None:
    """Every class of cases of every shipped policy (about 2 s)."""
    result = CliRunner().invoke(main, ["rules", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok:")


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_each_planted_defect_is_found(name: str) -> None:
    expected = EXPECTATIONS[name]
    rules = load_rules(PLANTED / name, extend=True)
    findings = verify(rules, [expected["policy"]])
    for want in expected["findings"]:
        matches = [f for f in findings if f.kind == want["kind"] and want["file"] in f.location
                   and (want.get("rule") or want.get("instrument") or want.get("invariant")) in f.message
                   and ("line" not in want or f.location.endswith(f":{want['line']}"))]
        assert matches, f"{want} not among {[str(f) for f in findings]}"
    assert len(findings) == len(expected["findings"]), [str(f) for f in findings]


def test_an_invariant_example_really_violates_it() -> None:
    rules = load_rules(PLANTED / "invariant-children", extend=True)
    [finding] = verify(rules, ["planted"])
    example: Any = finding.example
    assert example["unaccompanied"] is True and example["age"] < 18
    determination = evaluate(example, "planted", rules=rules)
    assert determination.outcome == "transfer"  # the planted policy sends a child away
    assert evaluate(example, "enacted").outcome != "transfer"  # the law does not


def test_verify_exits_3_with_findings_and_prints_examples() -> None:
    result = CliRunner().invoke(main, ["rules", "verify", "--rules", str(PLANTED / "redundant-exception"),
                                       "--policy", "planted"])
    assert result.exit_code == 3
    assert "redundant-rule [planted]: mx-aca.exception.visa" in result.output
    assert "example:" in result.output


def test_invariants_checked_in_worker_processes_give_what_one_process_gives(
    monkeypatch: pytest.MonkeyPatch, pools: list[int]
) -> None:
    """The invariants' searches run in forked workers when there are several CPUs: the same
    findings, examples included, in the same order."""

    rules = load_rules(PLANTED / "invariant-children", extend=True)

    def run(workers: str) -> list[tuple[str, Any]]:
        monkeypatch.setenv("ELIGIBILITY_DIFF_WORKERS", workers)
        return [(str(f), f.example) for f in verify(rules, ["planted", "implemented"])]

    alone = run("1")
    assert alone and not pools
    assert "unaccompanied-children-never-transferred: violated" in alone[0][0]
    assert run("2") == alone
    assert pools == [2]


def test_a_transfer_to_ones_own_country_is_found_where_no_rule_names_a_nationality() -> None:
    """A policy of the 2025 Uganda agreement alone, without INA 208(a)(2)(A)'s limit ("other
    than the country of the alien's nationality"): no rule of it names a nationality, yet a
    Ugandan is sent to Uganda. The search must split on Uganda as a nationality all the same."""
    rules = load_rules(PLANTED / "invariant-own-country", extend=True)
    found = [f for f in verify(rules, ["planted"]) if "no-transfer-to-own-country" in f.message]
    assert len(found) == 1
    example: Any = found[0].example
    assert "UG" in example["nationalities"]
    determination = evaluate(example, "planted", rules=rules)
    assert determination.outcome == "transfer" and "UG" in determination.transfer_to
    assert "UG" not in evaluate(example, "enacted").transfer_to  # the law's own limit holds
