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
    assert "unknown fact 'family_in_us' (the facts of that field are 'family_in_us.qualifying')" in messages
