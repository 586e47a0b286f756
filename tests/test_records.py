"""Decision records (`check --format json`), `eligibility replay`, and dates known only
approximately (a month, or a range of days).

The expected answers come from the law: the 2019 Guatemala agreement reaches only persons who
arrived on or after 2019-11-19, when the implementing rule took effect (84 FR 63994, DATES), and
was in force from 2019-11-15 (TIAS 19-1115) until its suspension on 2021-02-06.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import eligibility
from eligibility import evaluate
from eligibility_cli.main import main

REPO = Path(__file__).resolve().parents[1]
HN_BETWEEN_PORTS = ["--nationality", "HN", "--age", "30", "--border", "southern_land", "--place", "between_ports"]


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=stdin)


def _record(*args: str) -> dict[str, Any]:
    result = run("check", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


# --- the record -----------------------------------------------------------------------------


def test_the_json_record_carries_the_facts_as_given_the_version_and_the_time() -> None:
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    d = _record(*HN_BETWEEN_PORTS, "--entry-date", "2019-12-01", "--transit", "GT", "--transit", "mx")
    after = dt.datetime.now(dt.timezone.utc)
    assert d["case"] == {
        "nationalities": ["HN"],
        "age": 30,
        "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"},
        "transit": [{"country": "GT"}, {"country": "MX"}],  # normalized: upper case
    }
    assert d["version"] == eligibility.api.version()
    assert before <= dt.datetime.fromisoformat(d["evaluated_at"]) <= after
    assert d["answers"] is None and d["rules_digest"].startswith("sha256:")
    assert d["assumed"]["decision_date"] == "2019-12-01"
    # the rules that decided it, and the defaults each rests on
    assert "us-gt-aca.scope.arrival-date" in d["decided_by"]
    gt = next(i for i in d["instruments"] if i["id"] == "us-gt-aca")
    documents = next(f for f in gt["findings"] if f["rule"] == "us-gt-aca.exception.documents")
    assert documents["holds"] is False and documents["assumed"] == ["documents"]
    nationals = next(f for f in gt["findings"] if f["rule"] == "us-gt-aca.exclusion.nationals")
    assert nationals["holds"] is False and nationals["assumed"] == []  # a given fact settles it


def test_ask_records_each_question_and_its_answer() -> None:
    result = run("ask", "--nationality", "HN", "--entry-date", "2019-12-01", "--format", "json", stdin="\n30\n\n\n")  # the decision date first (left unknown), then the age
    assert result.exit_code == 0, result.output
    d = json.loads(result.output[result.output.index("{") :])
    asked = {a["field"]: a for a in d["answers"]}
    assert asked["age"]["answer"] == "30" and asked["age"]["value"] == 30
    left = [a for a in d["answers"] if a["answer"] == ""]
    assert left and all(a["value"] is None for a in left)  # Enter leaves the fact unknown
    assert d["case"]["age"] == 30


def test_a_record_replayed_in_another_run_still_holds(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    record.write_text(run("check", *HN_BETWEEN_PORTS, "--entry-date", "2019-12-01", "--format", "json").output)
    result = run("replay", str(record))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("The answer still holds: TRANSFER to Guatemala (GT).")
    d = json.loads(run("replay", str(record), "--format", "json").output)
    assert d["holds"] is True and d["changed"] == [] and d["rules"] == []


def test_replay_names_the_rule_whose_date_changed(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    record.write_text(run("check", *HN_BETWEEN_PORTS, "--entry-date", "2019-12-01", "--format", "json").output)
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    gt = rules / "us-gt-aca.yaml"
    text = gt.read_text()
    assert "entry.date: {on_or_after: 2019-11-19}" in text
    gt.write_text(text.replace("entry.date: {on_or_after: 2019-11-19}", "entry.date: {on_or_after: 2019-12-05}"))
    result = run("replay", str(record), "--rules", str(rules))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("The answer has changed: it was TRANSFER to Guatemala (GT), it is now PROCESS IN THE U.S.")
    assert "us-gt-aca.scope.arrival-date" in result.output and "2019-12-05" in result.output
    d = json.loads(run("replay", str(record), "--rules", str(rules), "--format", "json").output)
    assert d["holds"] is False and "outcome" in d["changed"]
    assert d["rules"][0]["rule"] == "us-gt-aca.scope.arrival-date" and d["rules"][0]["decided"] is True


@pytest.mark.parametrize(("content", "message"), [
    ("{", "record.json:1:2: malformed JSON"),
    ("[]", "a decision record must be a JSON object"),
    ('{"outcome": "transfer"}', "not a decision record"),
])
def test_a_bad_record_is_one_line_with_exit_2(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "record.json").write_text(content)
    result = run("replay", str(tmp_path / "record.json"))
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


# --- approximate dates ------------------------------------------------------------------------


def test_a_month_that_straddles_the_implementing_rule_is_undetermined_and_names_the_day() -> None:
    d = _record(*HN_BETWEEN_PORTS, "--entry-date", "2019-11")
    assert d["outcome"] == "undetermined" and d["transfer_to"] == []
    assert d["date_ranges"] == {"entry.date": "2019-11"}
    assert [(c["field"], c["date"]) for c in d["date_cuts"]] == [("entry.date", "2019-11-19")]
    assert d["date_cuts"][0]["after"] == "transfer to GT"
    assert d["date_cuts"][0]["before"].startswith("process in the U.S.")
    assert "entry.date" in d["missing_facts_by_field"]["outcome"]
    assert d["case"]["entry"]["date"] == "2019-11"  # the record keeps the date as given
    text = run("check", *HN_BETWEEN_PORTS, "--entry-date", "2019-11").output
    assert text.startswith("UNDETERMINED")
    assert "entry.date before 2019-11-19: process in the U.S." in text and "from 2019-11-19: transfer to GT" in text


def test_a_month_after_it_gives_the_transfer() -> None:
    d = _record(*HN_BETWEEN_PORTS, "--entry-date", "2019-12")
    assert (d["outcome"], d["transfer_to"]) == ("transfer", ["GT"])
    assert d["date_ranges"] == {"entry.date": "2019-12"} and d["date_cuts"] == []
    assert d["dates"]["entry"] == "2019-12"


def test_a_range_on_one_side_of_every_cut_is_settled_and_a_range_across_one_is_not() -> None:
    inside = evaluate({"nationalities": ["HN"], "age": 30, "entry": {"date": "2019-11-19..2020-03-19",
                       "border": "southern_land", "place": "between_ports"}})
    assert (inside.outcome, inside.transfer_to) == ("transfer", ["GT"])
    # Title 42 orders took effect at 23:59 on 2020-03-20: a range over that day is split by it
    across = evaluate({"nationalities": ["HN"], "age": 30, "entry": {"date": "2020-03-01..2020-03-31",
                       "border": "southern_land", "place": "between_ports"}})
    assert across.outcome == "undetermined"
    assert any(c.date == "2020-03-21" and c.after.startswith("expel") for c in across.date_cuts)


def test_every_day_of_an_approximate_date_gives_the_answer_it_reports() -> None:
    """The range answer is what each of its days gives, when they agree."""
    case = {"nationalities": ["SV"], "age": 40, "entry": {"date": "2020-01-01..2020-01-10", "border": "air"}}
    ranged = evaluate(case, counterfactuals=False)
    for day in range(1, 11):
        one = evaluate({**case, "entry": {"date": f"2020-01-{day:02d}", "border": "air"}}, counterfactuals=False)
        assert (one.outcome, one.transfer_to, one.asylum) == (ranged.outcome, ranged.transfer_to, ranged.asylum)


@pytest.mark.parametrize(("args", "message"), [
    (["--entry-date", "2019-13"], "entry.date: '2019-13' is not a real month"),
    (["--entry-date", "2019-12-20..2019-12-01"], "the range ends before it starts"),
    (["--entry-date", "2019-12", "--decision-date", "2019-11"], "decision_date: 2019-11 is before entry.date 2019-12"),
    (["--entry-date", "2010-01-01..2019-12-31", "--decision-date", "2020-01-01..2025-12-31"],
     "combinations of days; narrow them"),
])
def test_a_bad_approximate_date_is_one_line_with_exit_2(args: list[str], message: str) -> None:
    result = run("check", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_an_approximate_birth_date_must_fit_the_age() -> None:
    ok = evaluate({"birth_date": "2002-06", "age": 17, "entry": {"date": "2019-12-01"}}, counterfactuals=False)
    assert ok.date_ranges == {"birth_date": "2002-06"}
    with pytest.raises(eligibility.CaseError, match="age: 30 does not match birth_date"):
        evaluate({"birth_date": "2002-06", "age": 30, "entry": {"date": "2019-12-01"}})


def test_the_version_in_records_is_the_packages() -> None:
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert eligibility.api.version() == declared
