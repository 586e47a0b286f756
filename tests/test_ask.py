"""`eligibility ask` asks only what can change the answer, and reaches check's determination."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from eligibility import evaluate, load_rules
from eligibility_cli.main import main, next_question
from tests.test_golden import GOLDEN


DEFAULT_ANSWERS = {"documents": "none", "trafficking_victim": "n", "public_interest": "n",
                   "fear_established_in": "none", "family_in_us": "none"}


def _answer(case: dict[str, Any], field: str) -> str:
    """What a person who knows the whole case answers (the contract default where it is silent)."""
    value = case["entry"].get(field[6:]) if field.startswith("entry.") else case.get(field)
    if field == "age" and value is None and case.get("birth_date"):
        return str(_age(case))
    if value is None and field in ("decision_date", "claim_date"):
        return str(case["entry"]["date"])
    if value is None:
        return DEFAULT_ANSWERS.get(field, "")
    if isinstance(value, bool):
        return "y" if value else "n"
    if isinstance(value, list):
        parts = [":".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item) for item in value]
        return ",".join(parts) or "none"
    return str(value)


def _age(case: dict[str, Any]) -> int:
    import datetime as dt

    from eligibility.case import age_on

    return age_on(dt.date.fromisoformat(str(case["birth_date"])), dt.date.fromisoformat(str(case["entry"]["date"])))


def _script(case: dict[str, Any], policy: str) -> tuple[list[str], list[str]]:
    """The questions ask would ask for this case, and the answers, in order."""
    from eligibility_cli.questions import start

    ruleset = load_rules()
    data: dict[str, Any] = start({})
    asked: set[str] = set()
    fields, answers = [], []
    while (field := next_question(data, policy, ruleset, asked)) is not None:
        asked.add(field)
        fields.append(field)
        answer = _answer(case, field)
        answers.append(answer)
        if answer == "":
            break
        from eligibility_cli.questions import QUESTIONS, put

        put(data, field, QUESTIONS[field][1](answer))
    return fields, answers


CASES = [c for f in sorted(GOLDEN.glob("*.yaml")) for c in yaml.safe_load(f.read_text())
         if not any(v is None for v in c["case"].values()) and "birth_date" not in c["case"]][:40:5]


@pytest.mark.parametrize("golden", CASES, ids=lambda c: c["name"][:60])
def test_ask_reaches_the_determination_of_check(golden: dict[str, Any]) -> None:
    case, policy = copy.deepcopy(golden["case"]), golden["policy"]
    full = evaluate(case, policy)
    fields, answers = _script(case, policy)
    result = CliRunner().invoke(main, ["ask", "--policy", policy, "--format", "json"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    asked = json.loads(result.stdout.strip().splitlines()[-1])
    if full.outcome != "undetermined":
        assert (asked["outcome"], asked["transfer_to"]) == (full.outcome, full.transfer_to)
    if full.asylum != "undetermined" and asked["asylum"] != "undetermined":
        assert asked["asylum"] == full.asylum
    assert len(fields) <= len(set(fields))  # never the same question twice


def test_ask_asks_only_what_matters() -> None:
    case = {"nationalities": ["HN"], "age": 30, "unaccompanied": False, "family_unit": False,
            "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports", "state": "TX"},
            "transit": ["GT", "MX"]}
    fields, answers = _script(case, "enacted")
    assert "unaccompanied" not in fields  # a 30-year-old is never an unaccompanied child
    assert "family_unit" not in fields and "entry.state" not in fields  # matter to no rule here
    assert fields[:2] == ["entry.date", "nationalities"]
    result = CliRunner().invoke(main, ["ask", "--format", "json"], input="\n".join(answers) + "\n")
    d = json.loads(result.stdout.strip().splitlines()[-1])
    assert (d["outcome"], d["transfer_to"]) == ("transfer", ["GT"])


def test_ask_stops_at_the_end_of_the_answers() -> None:
    result = CliRunner().invoke(main, ["ask"], input="2019-12-01\n")
    assert result.exit_code == 0
    assert "UNDETERMINED" in result.output
