"""`eligibility test`: golden files run against the rules, failures said one line each, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from eligibility_cli.main import main

# The Guatemala agreement, entered into force on 2019-11-19 (84 FR 64095): a Honduran adult who
# crossed Guatemala and entered between ports on 2019-12-01 is transferred to Guatemala.
HN = """
- name: A Honduran adult who crossed Guatemala in December 2019 is sent to Guatemala
  source: "84 FR 63994; 84 FR 64095"
  policy: enacted
  case:
    nationalities: [HN]
    age: 30
    unaccompanied: false
    entry: {date: 2019-12-01, border: southern_land, place: between_ports}
    transit: [GT, MX]
  expect:
    outcome: %(outcome)s
    transfer_to: [GT]
    instruments: {us-gt-aca: applies}
"""


def _run(tmp_path: Path, text: str, *args: str) -> tuple[int, str]:
    (tmp_path / "cases.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(tmp_path / "cases.yaml"), *args])
    return result.exit_code, result.output


def test_a_passing_file_exits_0_with_a_summary(tmp_path: Path) -> None:
    code, output = _run(tmp_path, HN % {"outcome": "transfer"})
    assert code == 0, output
    assert output == "1 golden cases in 1 file: 1 passed, 0 failed\n"


def test_a_failure_names_the_line_the_case_and_the_field(tmp_path: Path) -> None:
    code, output = _run(tmp_path, HN % {"outcome": "process_in_us"})
    assert code == 1
    first, summary = output.splitlines()
    assert first == (
        f"{tmp_path / 'cases.yaml'}:2: A Honduran adult who crossed Guatemala in December 2019 is sent "
        "to Guatemala: outcome: got transfer, expected process_in_us"
    )
    assert summary.endswith("0 passed, 1 failed")


def test_json_lists_the_failures(tmp_path: Path) -> None:
    code, output = _run(tmp_path, HN % {"outcome": "expel"}, "--format", "json")
    assert code == 1
    data = json.loads(output)
    assert (data["cases"], data["failed"]) == (1, 1)
    assert data["failures"][0]["field"] == "outcome"
    assert (data["failures"][0]["got"], data["failures"][0]["expected"]) == ("transfer", "expel")


def test_an_unknown_policy_or_a_bad_key_is_an_input_error_exit_2(tmp_path: Path) -> None:
    text = HN % {"outcome": "transfer"}
    code, output = _run(tmp_path, text.replace("policy: enacted", "policy: enactd"))
    assert code == 2
    assert "cases.yaml:2: policy: unknown policy 'enactd'" in output
    code, output = _run(tmp_path, text.replace("outcome: transfer", "outcom: transfer"))
    assert code == 2
    assert "cases.yaml:12:5: expect.outcom: Extra inputs are not permitted" in output


def test_an_invalid_case_in_a_golden_file_is_an_input_error(tmp_path: Path) -> None:
    code, output = _run(tmp_path, (HN % {"outcome": "transfer"}).replace("age: 30", "age: -4"))
    assert code == 2
    assert "age: Input should be greater than or equal to 0" in output


def test_the_example_rules_and_their_golden_cases_pass(repo: Path) -> None:
    example = repo / "examples" / "us-mx-stca"
    result = CliRunner().invoke(main, ["test", str(example / "golden.yaml"), "--rules", str(example / "rules")])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(": 4 passed, 0 failed\n")
