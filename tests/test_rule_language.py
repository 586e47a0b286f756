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
