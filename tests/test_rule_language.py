"""docs/rule-language.md: current, and every example in it is valid rule language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from eligibility import load_rules
from eligibility.errors import Problem
from eligibility.ruleset.conditions import OPERATORS, parse_condition
from eligibility.ruleset.facts import CATALOGUE
from eligibility.ruleset.language import EXAMPLES, language_markdown
from eligibility.yamlsource import load_yaml

DOC = Path(__file__).resolve().parent.parent / "docs" / "rule-language.md"


def test_the_document_is_current() -> None:
    """Regenerate with `eligibility rules language > docs/rule-language.md`."""
    assert DOC.read_text(encoding="utf-8") == language_markdown()


def test_every_fact_and_operator_is_documented() -> None:
    text = language_markdown()
    for name in CATALOGUE:
        assert f"| `{name}` |" in text
    for op in OPERATORS:
        assert f"| `{op}` |" in text and op in EXAMPLES


@pytest.mark.parametrize("op", sorted(EXAMPLES))
def test_each_operator_example_parses(op: str) -> None:
    source = EXAMPLES[op].split("  (")[0]  # the example, without its note
    doc, problems = load_yaml(source, "example")
    assert doc is not None and not problems
    found: list[Problem] = []
    assert parse_condition(doc, (), doc.data, found) is not None, found
    assert found == []


def test_the_example_rule_file_lints_and_loads(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert example is not None
    data = yaml.safe_load(example.group(1))
    (tmp_path / f"{data['instrument']['id']}.yaml").write_text(example.group(1), encoding="utf-8")
    rules = load_rules(tmp_path, extend=True)
    assert "us-xx-example" in rules.instruments


RULE_FILE = """instrument:
  id: {id}
  title: An example
  kind: transfer_agreement
  receiving_country: MX
  sources:
    - {{cite: Example art. 1, evidence: unverified, url: "https://example.org/a", paraphrase: An example.}}
rules:
  - id: {id}.in-force
    role: in_force
    title: In force
    when: {when}
    sources:
      - {{cite: Example art. 2, evidence: unverified, url: "https://example.org/a", paraphrase: An example.}}
"""


def test_lint_reports_every_problem_of_every_file_in_one_run(tmp_path: Path) -> None:
    """An id that does not match its file name used to hide the operator error beside it; a case
    field used as a fact is pointed to the facts derived from it, not to a similar name."""
    from eligibility.errors import RuleFileError

    (tmp_path / "aa-one.yaml").write_text(RULE_FILE.format(id="aa-wrong", when="{decision_date: {sooner: 2020-01-01}}"))
    (tmp_path / "bb-two.yaml").write_text(RULE_FILE.format(id="bb-two", when="{family_in_us: {eq: true}}"))
    with pytest.raises(RuleFileError) as caught:
        load_rules(tmp_path, extend=True)
    messages = [p.message for p in caught.value.problems]
    assert "instrument id 'aa-wrong' must match the file name 'aa-one'" in messages
    assert "unknown operator 'sooner'" in " ".join(messages)
    assert (
        "unknown fact 'family_in_us' (the facts of that field are 'family_in_us.members', "
        "'family_in_us.qualifying', 'family_in_us.relations')" in messages
    )


def _example_dir(tmp_path: Path) -> Path:
    from eligibility.ruleset.language import EXAMPLE_POLICIES, EXAMPLE_RULE_FILE

    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "us-xx-example.yaml").write_text(EXAMPLE_RULE_FILE, encoding="utf-8")
    (tmp_path / "policies.yaml").write_text(EXAMPLE_POLICIES, encoding="utf-8")
    return tmp_path


def test_the_documented_panama_example_lints_verifies_and_passes_its_golden_cases(tmp_path: Path) -> None:
    """The Done-when of the rule language: a rule file sending people who transited Panama to
    another country, written from the document alone, linted, verified and tested."""
    from eligibility.analysis.verify import verify
    from eligibility.golden import run_golden
    from eligibility.ruleset.language import EXAMPLE_GOLDEN

    rules = load_rules(_example_dir(tmp_path / "rules"), extend=True)
    assert verify(rules, ["panama-example"]) == []
    (tmp_path / "golden.yaml").write_text(EXAMPLE_GOLDEN, encoding="utf-8")
    for engine in ("durable", "pure"):
        report = run_golden([tmp_path / "golden.yaml"], rules, engine=engine)
        assert len(report.cases) == 2 and not report.failures, [str(f) for f in report.failures]


def test_the_engines_agree_on_the_transit_countries(tmp_path: Path) -> None:
    """transit.countries is read alike by durable-rules, the pure evaluator and the fast path
    (whose cache keys must tell apart cases that differ only in the countries crossed)."""
    import random

    from eligibility import evaluate, parse_case
    from eligibility.fast import Evaluator

    rules = load_rules(_example_dir(tmp_path), extend=True)
    fast = Evaluator("panama-example", rules=rules)
    draw = random.Random(2026)
    for _ in range(150):
        case = {
            "nationalities": [draw.choice(["VE", "CR", "HN", "PA", "CO"])],
            "age": 30,
            "entry": {"date": draw.choice(["2025-12-31", "2026-01-01", "2026-06-01"]), "border": "southern_land",
                      "place": "between_ports"},
            "transit": draw.sample(["CO", "PA", "CR", "NI", "GT", "MX"], draw.randint(0, 4)),
        }
        want = evaluate(case, "panama-example", rules=rules, engine="pure", counterfactuals=False)
        for engine in ("durable",):
            got = evaluate(case, "panama-example", rules=rules, engine=engine, counterfactuals=False)
            assert (got.outcome, got.transfer_to) == (want.outcome, want.transfer_to), case
        head = fast.headline(parse_case(case))
        assert (head.outcome, list(head.transfer_to)) == (want.outcome, want.transfer_to), case
        through_panama = "PA" in case["transit"] and case["nationalities"] != ["CR"] and case["entry"]["date"] >= "2026-01-01"
        assert (want.outcome == "transfer") == through_panama, case


def test_a_file_with_wrong_fields_still_has_its_id_and_conditions_checked(tmp_path: Path) -> None:
    """A wrong evidence level and an unknown role once hid the same file's id mismatch, bad date and
    unknown fact until a second run."""
    from eligibility.errors import RuleFileError

    text = RULE_FILE.format(id="cc-wrong", when="{entry.date: {before: notadate}, favourite_colour: blue}")
    text = text.replace("role: in_force", "role: in_forse").replace("evidence: unverified", "evidence: maybe", 1)
    (tmp_path / "cc-three.yaml").write_text(text)
    with pytest.raises(RuleFileError) as caught:
        load_rules(tmp_path, extend=True)
    messages = " | ".join(p.message for p in caught.value.problems)
    assert "in_forse" in messages and "maybe" in messages  # the fields
    assert "instrument id 'cc-wrong' must match the file name 'cc-three'" in messages
    assert "'entry.date' is a date YYYY-MM-DD, not 'notadate'" in messages
    assert "unknown fact 'favourite_colour'" in messages


def test_a_would_change_line_names_sets_of_countries_in_words(tmp_path: Path) -> None:
    """The documented example excludes nationals of Costa Rica; with an exclusion of Panamanians
    too, a Venezuelan who crossed Panama would not be sent if he were also Costa Rican or also
    Panamanian: two sets of nationalities, once written as Python lists ("['CR', 'VE']")."""
    from eligibility import evaluate
    from eligibility.ruleset.language import EXAMPLE_RULE_FILE

    folder = _example_dir(tmp_path)
    extra = EXAMPLE_RULE_FILE.split("  - id: us-xx-example.exclusion.costa-ricans")[1]
    extra = "  - id: us-xx-example.exclusion.panamanians" + extra.replace("contains: CR", "contains: PA").replace(
        "Costa Rica", "Panama"
    )
    (folder / "us-xx-example.yaml").write_text(EXAMPLE_RULE_FILE + extra, encoding="utf-8")
    rules = load_rules(folder, extend=True)
    case = {"nationalities": ["VE"], "age": 30, "transit": ["CO", "PA", "MX"],
            "entry": {"date": "2026-03-01", "border": "southern_land", "place": "between_ports"}}
    answer = evaluate(case, "panama-example", rules=rules)
    assert answer.outcome == "transfer"
    lines = [c.description for w in answer.would_change_if for c in w.changes if c.field == "nationalities"]
    assert "nationalities (CR, VE) or (PA, VE)" in lines, lines
    assert not any("[" in line for line in lines)


def test_an_expulsion_screened_after_an_agreement_is_refused(tmp_path: Path) -> None:
    """The searches read an expulsion that applies as the answer, as when it is screened first
    (the Title 42 orders were applied before any screening for an agreement: 85 FR 17060); a
    policy screening one after an agreement would get answers no case has, so lint refuses it."""
    from eligibility.errors import RuleFileError

    (tmp_path / "policies.yaml").write_text(
        "policies:\n"
        "  - id: late-expulsion\n"
        "    title: Late\n"
        "    description: Title 42 screened after the Guatemala agreement.\n"
        "    instruments: [ina-208a2, us-gt-aca, title-42]\n"
        "    screening: [[us-gt-aca], [title-42]]\n"
    )
    with pytest.raises(RuleFileError) as caught:
        load_rules(tmp_path, extend=True)
    assert [p.message for p in caught.value.problems] == [
        "expulsion 'title-42' must be screened before every transfer agreement (in an earlier stage)"
    ]
    (tmp_path / "policies.yaml").write_text(
        (tmp_path / "policies.yaml").read_text().replace("[[us-gt-aca], [title-42]]", "[[title-42], [us-gt-aca]]")
    )
    assert "late-expulsion" in load_rules(tmp_path, extend=True).policies


def test_a_would_change_line_names_no_nationality_as_none() -> None:
    """A Honduran in November 2025 (enacted): as a stateless person, or as also a Guatemalan, he
    would be sent to Uganda only; the empty set of nationalities once read as nothing at all."""
    from eligibility import evaluate

    case = {"nationalities": ["HN"], "age": 30, "transit": ["GT", "MX"],
            "entry": {"date": "2025-11-01", "border": "southern_land", "place": "between_ports"}}
    lines = [c.description for w in evaluate(case, "enacted").would_change_if for c in w.changes if c.field == "nationalities"]
    assert any(line.endswith(" or none") or " or none " in line for line in lines), lines
    assert not any(line.endswith("or ") or "or :" in line for line in lines), lines
