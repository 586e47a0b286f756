"""Rule files: the shipped rules are valid, and every broken file gets its one error at its place.

Each file in tests/broken_rules/ holds exactly one mistake and says, on its first line, the
``line:col: message`` that the loader must report (one file per error message, as OpenFisca does).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from eligibility import RuleFileError, load_rules
from eligibility.ruleset.load import default_rules_dir

BROKEN = Path(__file__).parent / "broken_rules"


def test_shipped_rules_load() -> None:
    rules = load_rules()
    assert {"enacted", "implemented", "draft-2019-07"} <= set(rules.policies)
    assert rules.default_policy == "enacted"


def test_every_rule_cites_a_source_with_evidence_level() -> None:
    for rule in load_rules().all_rules():
        assert rule.sources, rule.id
        for source in rule.sources:
            assert source.evidence in ("primary", "secondary", "unverified"), rule.id
            assert source.url.startswith(("http://", "https://")), rule.id


@pytest.mark.parametrize("broken", sorted(BROKEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_broken_rule_file_is_reported_at_its_place(broken: Path, tmp_path: Path) -> None:
    expect = re.match(r"# expect: (\d+):(\d+): (.*)", broken.read_text().splitlines()[0])
    assert expect, f"{broken.name}: first line must be '# expect: LINE:COL: message'"
    line, col, message = expect.groups()
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    target = rules / ("policies.yaml" if broken.stem.startswith("policies-") else broken.name)
    shutil.copy(broken, target)
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules)
    problems = raised.value.problems
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert problems[0].place == f"{rules}/{target.name}:{line}:{col}", str(problems[0])
    assert problems[0].message.startswith(message), str(problems[0])


def test_every_problem_of_a_file_set_is_reported(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    for name in ("unknown-fact", "bad-country", "no-citation"):
        shutil.copy(BROKEN / f"{name}.yaml", rules / f"{name}.yaml")
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules)
    files = sorted(p.place.split(":")[0].rsplit("/", 1)[-1] for p in raised.value.problems)
    assert files == ["bad-country.yaml", "no-citation.yaml", "unknown-fact.yaml"]


def test_a_rules_directory_needs_policies(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text((BROKEN / "unknown-fact.yaml").read_text())
    with pytest.raises(RuleFileError, match="policies.yaml: missing"):
        load_rules(tmp_path)


def test_a_policy_of_title_42_alone_expels_to_the_nationality_less_fear(tmp_path: Path) -> None:
    """No rule of this policy tests fear or nationality, yet the countries of expulsion are read
    from them (42 U.S.C. 265 orders: Mexico for its own and Northern Triangle nationals, else the
    country of nationality; a country where fear is established is dropped)."""
    from eligibility import evaluate

    (tmp_path / "policies.yaml").write_text(
        "policies:\n  - id: title-42-only\n    title: Title 42 alone\n    description: Only Title 42.\n"
        "    instruments: [title-42]\n    screening:\n      - [title-42]\n"
    )
    rules = load_rules(tmp_path, extend=True)
    entry = {"date": "2021-05-01", "border": "southern_land", "place": "between_ports"}
    brazilian = evaluate({"nationalities": ["BR"], "age": 30, "entry": entry}, "title-42-only", rules=rules)
    assert (brazilian.outcome, brazilian.expel_to) == ("expel", ["BR"])
    afraid = {"nationalities": ["HN"], "age": 30, "entry": entry, "fear_established_in": ["MX"]}
    assert evaluate(afraid, "title-42-only", rules=rules).outcome == "process_in_us"


def test_why_the_stca_is_screened_first_is_read_from_the_rule_files(tmp_path: Path) -> None:
    """The screening order's legal basis is data with its source (rules/policies.yaml), not a
    string in the code: the explanation quotes whatever the rule files say."""
    import shutil

    from eligibility import evaluate, load_rules

    rules = tmp_path / "rules"
    shutil.copytree(Path(__file__).resolve().parent.parent / "rules", rules)
    policies = rules / "policies.yaml"
    text = policies.read_text()
    assert "text: 8 CFR 208.30(e)(7) excludes persons described in (e)(6)" in text
    policies.write_text(text.replace("text: 8 CFR 208.30(e)(7) excludes persons described in (e)(6)", "text: a reason stated in the rule files"))
    case = {"nationalities": ["HN"], "age": 30, "entry": {"date": "2019-12-01", "border": "northern_land", "place": "port_of_entry"}}
    shipped = evaluate(case, counterfactuals=False)
    edited = evaluate(case, rules=load_rules(rules), counterfactuals=False)
    reasons = [r for i in shipped.instruments for r in i.reasons if r.startswith("Not screened")]
    assert reasons and all(r.endswith("(8 CFR 208.30(e)(7) excludes persons described in (e)(6))") for r in reasons)
    edited_reasons = [r for i in edited.instruments for r in i.reasons if r.startswith("Not screened")]
    assert edited_reasons and all(r.endswith("(a reason stated in the rule files)") for r in edited_reasons)


def test_the_qualifying_family_statuses_are_rule_data_checked_like_the_rules(tmp_path: Path) -> None:
    """Which statuses of a family member in the U.S. count for the STCA's family exception
    (8 CFR 208.30(e)(6)(iii)) is a data table with sources: a status the case format does not
    know is an error naming its line; without the table, a family member settles nothing."""
    import shutil

    from eligibility import evaluate

    rules = tmp_path / "rules"
    shutil.copytree(Path(__file__).resolve().parent.parent / "rules", rules)
    table = rules / "data" / "family-in-us.yaml"
    text = table.read_text()
    table.write_text(text.replace("  - status: refugee\n", "  - status: cousin\n"))
    with pytest.raises(RuleFileError) as err:
        load_rules(rules)
    line = next(n for n, t in enumerate(table.read_text().splitlines(), 1) if "status: cousin" in t)
    assert any(p.place.startswith(f"{rules}/data/family-in-us.yaml:{line}:") for p in err.value.problems), err.value
    table.write_text(text)
    case = {
        "nationalities": ["HN"], "age": 30, "family_in_us": [{"relation": "sibling", "status": "lpr"}],
        "entry": {"date": "2019-12-01", "border": "northern_land", "place": "port_of_entry"},
    }
    assert evaluate(case, rules=load_rules(rules), counterfactuals=False).outcome == "process_in_us"
    table.write_text(text.replace("  - status: lpr\n", "  - status: other\n"))  # LPRs no longer count
    assert evaluate(case, rules=load_rules(rules), counterfactuals=False).outcome == "transfer"
    table.unlink()
    with pytest.raises(RuleFileError, match="no data file gives the statuses that count"):
        load_rules(rules)


def test_a_legal_term_is_defined_once_and_means_the_same_everywhere() -> None:
    """'Unaccompanied alien child' (6 U.S.C. 279(g)(2)) is defined once, in rules/definitions.yaml;
    every rule that names it tests exactly that condition, and no rule or invariant spells it out
    again."""
    from eligibility.ruleset.conditions import tests

    rules = load_rules()
    users = [r for r in rules.all_rules() if {(t.fact, t.op, t.value) for t in tests(r.when)} >= {("age_at_entry", "lt", 18), ("unaccompanied", "eq", True)}]
    assert len(users) >= 9, [r.id for r in users]  # INA 208(a)(2)(E), the STCA, the three 2019 ACAs, MPP, Title 42, the 2023 and 2024 rules
    spelled = [p.name for p in default_rules_dir().glob("*.yaml") if "unaccompanied: true" in p.read_text() and p.name != "definitions.yaml"]
    assert spelled == []


def test_stateless_is_defined_once() -> None:
    """'Having no nationality' (INA 208(a)(2)(A)) is defined once; the five exclusions of stateless
    habitual residents of the receiving country name it and test exactly an empty nationality list."""
    from eligibility.ruleset.conditions import tests

    users = [r for r in load_rules().all_rules() if ("nationalities", "empty", True) in {(t.fact, t.op, t.value) for t in tests(r.when)}]
    assert {r.id for r in users} >= {
        "ina-208a2.exclusion.stateless-residence", "us-ca-stca.exclusion.stateless-residents",
        "us-gt-aca.exclusion.stateless-residents", "us-hn-aca.exclusion.stateless-residents",
        "us-sv-aca.exclusion.stateless-residents",
    }
    spelled = [p.name for p in default_rules_dir().glob("*.yaml") if "nationalities: {empty: true}" in p.read_text() and p.name != "definitions.yaml"]
    assert spelled == []
