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


def test_a_country_of_expulsion_is_never_one_the_person_established_fear_of() -> None:
    """Huisha-Huisha v. Mayorkas, 27 F.4th 718 (D.C. Cir. 2022): the Executive may expel "only to
    places where they will not be persecuted or tortured". The engine reads every country of
    expulsion less every country in fear_established_in; verify relies on it for the countries
    read from a nationality, so it is checked here on concrete facts, rule by rule."""
    import itertools

    from eligibility.engine.decide import OPEN, destination_countries
    from eligibility.engine.program import compile_policy

    program = compile_policy(load_rules(), "enacted")
    rules = [b for b in program.rules if b.rule.role == "destination"]
    assert rules and any(b.rule.to for b in rules) and any(not b.rule.to for b in rules)
    countries = ["MX", "CA", "GT", "HN", "VE"]
    for nationalities in ([], ["GT"], ["MX", "VE"], ["HN", "CA"]):
        for residence in ("MX", "CA", "GT"):
            for size in range(3):
                for fear in itertools.combinations(countries, size):
                    facts = {"nationalities": frozenset(nationalities), "habitual_residence": residence,
                             "fear_established_in": frozenset(fear)}
                    for b in rules:
                        got = destination_countries(b, facts)
                        assert OPEN not in got and not set(got) & set(fear), (b.rule.id, facts, got)


def test_verify_finds_an_expulsion_to_a_country_of_fear_when_the_engine_allows_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fear invariant is searched, not assumed: with the engine's subtraction of the countries
    of fear removed, verify finds a person expelled to a country he established fear of."""
    from eligibility.engine import decide
    from eligibility.ruleset.conditions import PartialSet

    def keeping_fear(b: Any, facts: Any) -> tuple[str, ...]:
        fear, to = facts["fear_established_in"], frozenset(b.rule.to or ())
        known = isinstance(fear, frozenset) or (isinstance(fear, PartialSet) and to <= fear.included | fear.excluded)
        if to and known:
            return tuple(sorted(to))  # the countries a rule names, the feared ones not taken out
        return decide_destinations(b, facts)

    decide_destinations = decide.destination_countries
    monkeypatch.setattr(decide, "destination_countries", keeping_fear)
    monkeypatch.setenv("ELIGIBILITY_DIFF_WORKERS", "1")
    findings = [f for f in verify(load_rules(), ["enacted"]) if "no-expulsion-to-fear-country" in f.message]
    assert len(findings) == 1 and "violated" in findings[0].message
    example: Any = findings[0].example
    assert set(example["fear_established_in"]) & {"MX", "CA"}
