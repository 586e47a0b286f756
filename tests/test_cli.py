"""The command line: outputs (snapshots), exit codes, and one clean line per user error."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eligibility import evaluate
from eligibility_cli.main import main

HN_ADULT = ["--nationality", "HN", "--age", "30", "--entry-date", "2019-12-01", "--border", "southern_land",
            "--place", "between_ports", "--transit", "GT", "--transit", "MX"]


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def test_the_short_answer_says_what_it_rests_on_under_the_headline(snapshot: Any) -> None:
    result = run("check", *HN_ADULT)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) <= 25
    assert lines[0].startswith("TRANSFER to Guatemala (GT)    [evidence: secondary; policy: enacted]")
    assert "rules/" not in result.output  # file:line is for --explain
    why = lines.index("Why:")
    assumed = lines.index("Assumed because not given (check with the client):")
    assert 0 < assumed < why
    rests = "\n".join(lines[assumed:why])
    assert "the decision is made on the day of entry (2019-12-01)" in rests
    assert "holds no U.S. visa" in rests and "public interest" in rests
    # a reason that rests on an assumed default says so; no exception is stated as established
    operative = next(line for line in lines if "operative on the decision date" in line)
    assert "[as assumed: decision_date]" in operative and "TIAS 19-1115" in operative
    assert "only because of what is assumed above (documents, fear_established_in, public_interest)" in result.output
    assert not any(line.lstrip().startswith("- no:") for line in lines)
    snapshot("check-hn-adult-short.txt", result.output)


def test_explain_gives_the_full_trace(snapshot: Any) -> None:
    result = run("check", *HN_ADULT, "--explain")
    assert result.exit_code == 0
    assert result.output.startswith("TRANSFER to Guatemala (GT)")
    assert "us-gt-aca.scope.arrival-date" in result.output and "rules/us-gt-aca.yaml:" in result.output
    snapshot("check-hn-adult.txt", result.output)


def test_check_json_follows_the_contract() -> None:
    result = run("check", *HN_ADULT, "--format", "json")
    assert result.exit_code == 0
    d = json.loads(result.output)
    for key in ("id", "policy", "outcome", "transfer_to", "asylum", "wait_in_mexico", "missing_facts",
                "assumed", "instruments", "explanation", "rules_digest"):
        assert key in d
    assert (d["policy"], d["outcome"], d["transfer_to"], d["asylum"]) == ("enacted", "transfer", ["GT"], "not_in_us")
    assert d["assumed"]["documents"] == "none"
    gt = next(i for i in d["instruments"] if i["id"] == "us-gt-aca")
    assert gt["status"] == "applies" and gt["reasons"] and gt["citations"]
    assert d["rules_digest"].startswith("sha256:")


def test_check_explains_a_transit_bar_case_with_its_court_window(snapshot: Any) -> None:
    result = run("check", "--nationality", "HN", "--age", "30", "--entry-date", "2019-10-01",
                 "--border", "southern_land", "--place", "between_ports", "--transit", "GT", "--transit", "MX", "-v")
    assert result.exit_code == 0
    assert "asylum: barred" in result.output
    assert "transit-bar.window.supreme-court-stay" in result.output
    snapshot("check-transit-bar.txt", result.output)


def test_check_explains_an_stca_case_with_the_exception_that_held(snapshot: Any) -> None:
    result = run("check", "--nationality", "HT", "--age", "35", "--entry-date", "2019-06-01",
                 "--border", "northern_land", "--place", "port_of_entry", "--family-in-us", "sibling:lpr", "--explain")
    assert result.exit_code == 0
    assert result.output.startswith("PROCESS IN THE U.S.")
    assert "us-ca-stca.exception.family-member" in result.output
    snapshot("check-stca-family.txt", result.output)


def test_check_names_the_missing_facts(snapshot: Any) -> None:
    args = ["check", "--nationality", "HN", "--entry-date", "2019-12-01", "--border", "southern_land",
            "--place", "between_ports", "--transit", "MX"]
    result = run(*args, "--explain")
    assert result.exit_code == 0
    assert result.output.startswith("UNDETERMINED")
    assert "missing facts: age, unaccompanied" in result.output
    snapshot("check-undetermined.txt", result.output)
    short = run(*args)
    assert short.output.startswith("UNDETERMINED")
    assert "Not known, and needed:\n  - to settle the outcome, asylum and waiting in Mexico: age, unaccompanied" in short.output
    snapshot("check-undetermined-short.txt", short.output)


def test_as_of_sets_the_decision_date() -> None:
    d = json.loads(run("check", *HN_ADULT, "--as-of", "2021-03-01", "--format", "json").output)
    assert d["dates"]["decision"] == "2021-03-01" and d["outcome"] == "process_in_us"


def test_check_reads_a_file_and_standard_input(tmp_path: Path) -> None:
    case = {"id": "c-1", "nationalities": ["SV"], "age": 40, "entry": {"date": "2020-01-10", "border": "air"}}
    (tmp_path / "case.json").write_text(json.dumps(case))
    (tmp_path / "case.yaml").write_text("id: c-1\nnationalities: [SV]\nage: 40\nentry:\n  date: 2020-01-10\n  border: air\n")
    for args, stdin in ((["check", str(tmp_path / "case.json")], None), (["check", str(tmp_path / "case.yaml")], None),
                        (["check", "-"], json.dumps(case))):
        d = json.loads(run(*args, "--format", "json", stdin=stdin).output)
        assert (d["id"], d["outcome"], d["transfer_to"]) == ("c-1", "transfer", ["GT"])


def test_flags_override_the_file(tmp_path: Path) -> None:
    (tmp_path / "case.json").write_text(json.dumps({"nationalities": ["SV"], "age": 40, "entry": {"date": "2020-01-10", "border": "air"}}))
    d = json.loads(run("check", str(tmp_path / "case.json"), "--documents", "us_visa", "--format", "json").output)
    assert d["outcome"] == "process_in_us"


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["--nationality", "HX", "--entry-date", "2019-12-01"], None, "nationalities.0: 'HX' is not an ISO 3166-1 alpha-2 country code"),
    (["--entry-date", "2019-02-30"], None, "entry.date: '2019-02-30' is not a real calendar date"),
    (["--nationality", "HN"], None, "entry.date: required"),
    (["-"], '{"nationalitys": ["HN"], "entry": {"date": "2019-12-01"}}', "nationalitys: unknown field (did you mean 'nationalities'?)"),
    (["--entry-date", "2019-12-01", "--border", "south"], None, "error: --border: 'south' is not one of 'southern_land', "),
    (["-"], '{"entry": {"date": "2019-12-01", "border": "south"}}', "entry.border: 'south' is not one of"),
    (["-"], '{"entry": {"date": "2019-12-01"', "<stdin>:1:"),
    (["-"], '{"entry": {"date": "2019-12-01"}, "age": "thirty"}', "age: Input should be a valid integer"),
    (["-"], "[" * 50_000, "<stdin>: malformed JSON: nested too deeply"),
    (["-"], '{"entry": {"date": "2019-12-01"}, "age": ' + "9" * 5000 + "}", "<stdin>: malformed JSON: a number too long to read"),
    (["--entry-date", "2019-12-01", "--transit", "MX:denied"], None, "transit.0.protection: 'denied' is not one of"),
    (["--entry-date", "2019-12-01", "--family-in-us", "sibling"], None, "--family-in-us: 'sibling' should be relation:status"),
    (["--entry-date", "2019-12-01", "--decision-date", "2019-11-01"], None, "decision_date: 2019-11-01 is before entry.date"),
    (["--entry-date", "2019-12-01", "--policy", "drafted"], None, "--policy: unknown policy 'drafted'"),
    (["/nonexistent/case.json"], None, "/nonexistent/case.json: cannot read"),
    ([], None, "give a case"),
])
def test_bad_input_is_one_clean_line_with_exit_2(args: list[str], stdin: str | None, message: str) -> None:
    result = CliRunner().invoke(main, ["check", *args], input=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_an_internal_error_exits_1_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import eligibility

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(eligibility, "evaluate", broken)
    result = CliRunner().invoke(main, ["check", *HN_ADULT])
    assert result.exit_code == 1
    assert result.output.strip() == "internal error: RuntimeError: boom"


def test_rules_list_show_and_lint(snapshot: Any) -> None:
    listing = run("rules", "list")
    assert listing.exit_code == 0 and "us-gt-aca.exception.documents" in listing.output
    shown = run("rules", "show", "us-gt-aca.exclusion.nationals")
    assert shown.exit_code == 0
    assert "ACA art. 2" in shown.output and "No aplica a ciudadanos guatemaltecos" in shown.output
    snapshot("rules-show-nationals.txt", shown.output)
    assert run("rules", "show", "transit-bar").exit_code == 0
    assert run("rules", "show", "implemented").exit_code == 0
    missing = CliRunner().invoke(main, ["rules", "show", "us-gt-aca.exception.document"])
    assert missing.exit_code == 2 and "did you mean 'us-gt-aca.exception.documents'" in missing.output
    lint = run("rules", "lint")
    assert lint.exit_code == 0 and lint.output.startswith("ok: 20 instruments")  # rules/policies.yaml


def test_rules_lint_reports_every_problem_with_its_place(tmp_path: Path, repo: Path) -> None:
    import shutil

    shutil.copytree(repo / "rules", tmp_path / "rules")
    shutil.copy(repo / "tests" / "broken_rules" / "unknown-fact.yaml", tmp_path / "rules")
    result = CliRunner().invoke(main, ["rules", "lint", str(tmp_path / "rules")])
    assert result.exit_code == 2
    assert f"error: {tmp_path}/rules/unknown-fact.yaml:16:7: unknown fact 'nationalitys'" in result.output


def test_schemas_are_json_schema() -> None:
    case = json.loads(run("schema", "case").output)
    assert "entry" in case["properties"] and "entry" in case["required"]
    determination = json.loads(run("schema", "determination").output)
    assert {"outcome", "transfer_to", "asylum", "instruments"} <= set(determination["properties"])


def _enum(schema: dict[str, Any], field: dict[str, Any]) -> set[str]:
    """The values a (possibly nullable) enumerated field of a JSON Schema allows."""
    return {v for option in field.get("anyOf", [field]) for v in option.get("enum", [])}


def test_the_case_schema_lists_the_facts_of_2020_to_2026() -> None:
    """the new fields and values are part of the input schema."""
    schema = json.loads(run("schema", "case").output)
    fields = schema["properties"]
    for name in ("cbp_one_unavailable", "medical_emergency", "imminent_threat", "title42_exception", "criminal_record"):
        assert {"type": "boolean"} in fields[name]["anyOf"], name
        assert fields[name]["description"]
    entry = schema["$defs"]["Entry"]["properties"]
    assert {"type": "boolean"} in entry["appointment"]["anyOf"] and "CBP One" in entry["appointment"]["description"]
    assert "southern_coastal" in _enum(schema, entry["border"])
    assert "parole_travel_authorization" in _enum(schema, fields["documents"])
    out = json.loads(run("schema", "determination").output)
    assert {"expel_to", "evidence", "caveats", "missing_facts_by_field"} <= set(out["properties"])
    assert "expel" in _enum(out, out["properties"]["outcome"])


# The facts of the case format on the command line: each flag reaches the case (the fact is then
# given, not assumed) and changes the answer where the law says it does (as the rule files cite).
HN_2021 = ["--nationality", "HN", "--age", "30", "--entry-date", "2021-05-01", "--border", "southern_land",
           "--place", "between_ports", "--transit", "GT", "--transit", "MX"]
HN_2023 = [*HN_2021[:5], "2023-06-01", *HN_2021[6:]]
HN_2023_PORT = [*HN_2023[:9], "port_of_entry", *HN_2023[10:]]
HN_2019_DECIDED_2026 = [*HN_2021[:5], "2019-12-01", "--decision-date", "2026-03-01", *HN_2021[6:]]


def _json(*args: str) -> dict[str, Any]:
    result = run("check", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def _headline(d: dict[str, Any]) -> tuple[Any, ...]:
    return d["outcome"], d["transfer_to"], d["expel_to"], d["asylum"]


@pytest.mark.parametrize(("field", "on", "off", "case", "default", "with_flag"), [
    # C3.3: an individual exception from Title 42 (C10.1: otherwise expelled to Mexico)
    ("title42_exception", "--title42-exception", "--no-title42-exception", HN_2021,
     ("expel", [], ["MX"], "not_in_us"), ("process_in_us", [], [], "eligible")),
    # C4.2 and C10.10: a CBP One appointment at a port of entry; the Lawful Pathways rule does not arise
    ("entry.appointment", "--appointment", "--no-appointment", HN_2023_PORT,
     ("process_in_us", [], [], "barred"), ("process_in_us", [], [], "eligible")),
    # C4.2: CBP One could not be used, at a port of entry
    ("cbp_one_unavailable", "--cbp-one-unavailable", "--cbp-one-available", HN_2023_PORT,
     ("process_in_us", [], [], "barred"), ("process_in_us", [], [], "eligible")),
    # C4.3 and C10.10: exceptionally compelling circumstances rebut the presumption
    ("medical_emergency", "--medical-emergency", "--no-medical-emergency", HN_2023,
     ("process_in_us", [], [], "barred"), ("process_in_us", [], [], "eligible")),
    ("imminent_threat", "--imminent-threat", "--no-imminent-threat", HN_2023,
     ("process_in_us", [], [], "barred"), ("process_in_us", [], [], "eligible")),
    # C6 and C10.19: Uganda does not take a person with a criminal record
    ("criminal_record", "--criminal-record", "--no-criminal-record", HN_2019_DECIDED_2026,
     ("transfer", ["EC", "GT", "PY", "UG"], [], "not_in_us"), ("transfer", ["EC", "GT", "PY"], [], "not_in_us")),
])
def test_each_new_fact_flag_reaches_the_case(
    field: str, on: str, off: str, case: list[str], default: tuple[Any, ...], with_flag: tuple[Any, ...]
) -> None:
    omitted = _json(*case)
    assert omitted["assumed"][field] is False and _headline(omitted) == default
    given = _json(*case, on)
    assert field not in given["assumed"] and _headline(given) == with_flag
    given_false = _json(*case, off)
    assert field not in given_false["assumed"] and _headline(given_false) == default


@pytest.mark.parametrize("field", ["title42_exception", "entry.appointment"])
def test_unknown_works_for_the_new_facts(field: str) -> None:
    case = HN_2021 if field == "title42_exception" else [*HN_2023_PORT[:5], "2023-02-01", *HN_2023_PORT[6:]]
    d = _json(*case, "--unknown", field)
    assert field not in d["assumed"]
    assert d["outcome"] == "undetermined" and field in d["missing_facts"]


def test_no_transit_says_the_person_crossed_no_other_country() -> None:
    """scenario 11: a Mexican who crossed directly in June 2023 is outside the Lawful Pathways rule
    (no third country); with the transit countries unknown, asylum is undetermined."""
    mx = ["--nationality", "MX", "--age", "30", "--entry-date", "2023-06-01", "--border", "southern_land",
          "--place", "between_ports"]
    assert (_json(*mx)["asylum"], _json(*mx)["missing_facts"]) == ("undetermined", ["transit"])
    assert _headline(_json(*mx, "--no-transit")) == ("process_in_us", [], [], "eligible")
    both = CliRunner().invoke(main, ["check", *mx, "--no-transit", "--transit", "GT"])
    assert both.exit_code == 2 and "--no-transit: cannot be combined with --transit" in both.output


def test_the_new_border_and_documents_values_are_accepted() -> None:
    coastal = [*HN_2021[:7], "southern_coastal", *HN_2021[8:]]
    assert _headline(_json(*coastal)) == ("expel", [], ["MX"], "not_in_us")  # rules/ citations: from 2020-05-26
    parole = ["--nationality", "GT", "--age", "30", "--entry-date", "2021-05-01", "--border", "southern_land",
              "--place", "port_of_entry", "--documents", "parole_travel_authorization"]
    d = _json(*parole)  # rules/ citations: valid documents at a port of entry, no expulsion (C10.7)
    assert _headline(d) == ("process_in_us", [], [], "eligible") and "documents" not in d["assumed"]


def test_check_explains_an_expulsion_under_title_42() -> None:
    """scenario 1 in words; and scenario 3: without Title 42 the 2019 Guatemala agreement applies."""
    result = run("check", *HN_2021[:5], "2020-06-01", *HN_2021[6:], "--explain")
    assert result.exit_code == 0
    assert result.output.startswith("EXPEL")
    assert "title-42" in result.output and "rules/title-42.yaml:" in result.output
    d = _json(*HN_2021[:5], "2020-06-01", *HN_2021[6:], "--policy", "without-title-42")
    assert (d["policy"], *_headline(d)) == ("without-title-42", "transfer", ["GT"], [], "not_in_us")


def test_diff_shows_an_expulsion(tmp_path: Path) -> None:
    """`eligibility diff` names the expulsion, its countries and the people in it (small policies, so that it is quick)."""
    small, gt = tmp_path / "small", tmp_path / "gt"
    small.mkdir()
    gt.mkdir()
    (small / "policies.yaml").write_text(
        "policies:\n"
        "  - {id: t42, title: T42, description: t, instruments: [ina-208a2, title-42], screening: [[title-42]]}\n"
        "  - {id: statute, title: Statute, description: s, instruments: [ina-208a2], screening: []}\n",
        encoding="utf-8",
    )
    text = run("diff", "t42", "statute", "--rules", str(small))
    assert text.exit_code == 0, text.output
    assert "1. t42: expel (the country depends on the case)  |  statute: process in the U.S., asylum eligible" in text.output
    (gt / "policies.yaml").write_text(
        "policies:\n"
        "  - {id: t42, title: T42, description: t, instruments: [ina-208a2, title-42, us-gt-aca], screening: [[title-42], [us-gt-aca]]}\n"
        "  - {id: aca, title: ACA, description: a, instruments: [ina-208a2, us-gt-aca], screening: [[us-gt-aca]]}\n",
        encoding="utf-8",
    )
    people = tmp_path / "people.jsonl"
    people.write_text("\n".join(json.dumps({"nationalities": [n], "age": 30, "entry": {"date": d, "border": "southern_land", "place": "between_ports"}})
                                for n, d in (("HN", "2021-05-01"), ("EC", "2021-05-01"), ("EC", "2019-05-01"))))
    result = run("diff", "t42", "aca", "--rules", str(gt), "--population", str(people), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expelled = [r for r in data["regions"] if r["t42"]["outcome"] == "expel"]
    assert expelled and all(r["t42"]["expel_to"] and r["aca"]["expel_to"] == [] for r in expelled)
    assert data["population"] == 3 and sum(r["population"] for r in expelled) == 2  # the two entries of 2021
    # the same people as CSV are counted by the columnar engine: the same counts, and a bad row said
    table = tmp_path / "people.csv"
    table.write_text("nationalities,age,entry.date,entry.border,entry.place\n"
                     "HN,30,2021-05-01,southern_land,between_ports\nEC,30,2021-05-01,southern_land,between_ports\n"
                     "EC,thirty,2021-05-01,southern_land,between_ports\nEC,30,2019-05-01,southern_land,between_ports\n")
    counted = run("diff", "t42", "aca", "--rules", str(gt), "--population", str(table), "--format", "json")
    assert counted.exit_code == 3, counted.output  # one row is not a case
    again = json.loads(counted.stdout.splitlines()[0])
    assert again["rejected"] == ["row 4: age: 'thirty' is not a whole number"]
    assert (again["population"], again["summary"]) == (data["population"], data["summary"])
    assert [r["population"] for r in again["regions"]] == [r["population"] for r in data["regions"]]


def test_help_says_what_each_new_fact_means() -> None:
    text = " ".join(run("check", "--help").output.split())
    for words in ("scheduled in advance through CBP One", "not possible to access or use CBP One",
                  "acute medical emergency", "imminent and extreme threat to life or safety",
                  "individual (humanitarian, case-by-case) exception from Title 42", "criminal record",
                  "southern_coastal", "parole_travel_authorization", "without-title-42"):
        assert words in text, words


def test_docs_rules_reference_is_up_to_date(repo: Path) -> None:
    generated = run("rules", "reference").output
    assert generated == (repo / "docs" / "rules.md").read_text(encoding="utf-8"), (
        "docs/rules.md is stale: run `eligibility rules reference > docs/rules.md`")


def test_the_console_script_works_from_any_directory(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "eligibility"
    if not script.exists():
        pytest.skip("console script not installed next to this interpreter")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([str(script), "check", *HN_ADULT, "--format", "json"], cwd=tmp_path,
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["transfer_to"] == ["GT"]


def test_a_misspelled_policy_names_its_argument_and_the_nearest_policy() -> None:
    result = CliRunner().invoke(main, ["diff", "enacted", "enactd"])
    assert result.exit_code == 2
    assert "error: POLICY_B: unknown policy 'enactd' (did you mean 'enacted'?)" in result.output
    assert "Traceback" not in result.output


def test_a_reason_quoted_for_an_agreement_keeps_its_acronym() -> None:
    """A statutory limit's reason is quoted after the agreement it limits ("As to the ...: the
    receiving country is ..."); a reason that opens with an acronym keeps it ("DHS", not "dHS").
    INA 208(a)(2)(A): the limit yields where protection in the U.S. is found in the public interest."""
    case = {"nationalities": ["HN"], "age": 30, "public_interest": True,
            "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"}}
    data = json.loads(evaluate(case, "enacted", counterfactuals=False).to_json())
    quoted = [r for i in data["instruments"] for r in i["reasons"] if r.startswith("As to the")]
    assert quoted and all(": DHS found it in the public interest" in r for r in quoted), quoted
    assert data["outcome"] == "process_in_us"  # the 208(a)(2)(A) public-interest exception held


def test_the_statute_line_says_whether_one_of_its_limits_holds() -> None:
    """INA 208(a)(2)(A) authorizes the agreements and limits them; its line says which: for a
    Honduran sent to Guatemala none of its limits holds, for a Guatemalan the own-country limit does."""
    base = {"age": 30, "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"}}
    lines = {
        nat: next(line for line in evaluate({**base, "nationalities": [nat]}, "enacted", counterfactuals=False).explanation
                  if line.startswith("INA 208(a)(2)"))
        for nat in ("HN", "GT")
    }
    assert lines["HN"].endswith(": none of its limits holds.") and lines["GT"].endswith(": one of its limits holds.")


def test_an_unsettled_outcome_is_not_told_the_person_is_transferred() -> None:
    """With the age unknown, a Honduran of Dec 2019 may be an unaccompanied child heard in the U.S.:
    MPP's reason says when the person is not amenable, not that they are transferred."""
    case = {"nationalities": ["HN"], "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"}}
    d = json.loads(evaluate(case, "enacted", counterfactuals=False).to_json())
    mpp = next(i for i in d["instruments"] if i["id"] == "mpp")
    assert d["outcome"] == "undetermined"
    assert mpp["reasons"][0].startswith("Not amenable if the person is transferred")
    assert not any("the person is transferred, so" in r for r in mpp["reasons"])


def test_a_change_of_entry_date_says_the_assumed_decision_date_moves_with_it() -> None:
    """Without a decision date, the decision is assumed on the day of entry, so a changed entry date
    changes it too (Title 42 reads the decision date: 85 FR 17060); with one given, it stays."""
    case = {"nationalities": ["HN"], "age": 30, "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"}}
    moved = [c.description for w in evaluate(case, "enacted").would_change_if for c in w.changes if c.field == "entry.date"]
    assert moved and all(d.endswith("(and the decision with it, as assumed)") for d in moved)
    fixed = [c.description for w in evaluate({**case, "decision_date": "2019-12-01"}, "enacted").would_change_if
             for c in w.changes if c.field == "entry.date"]
    assert fixed and not any("decision" in d for d in fixed)


# What `check` must not load: the web server, the plots, numpy, YAML (the case comes from flags),
# the fast path, the memo, replay, the searches of `rules verify` and `diff`, and the rule files'
# format (the rule set comes from the cache). Each would only
# slow every check down (issue 14: a check starts in a few tenths of a second at most).
NOT_FOR_CHECK = (
    "fastapi",
    "uvicorn",
    "starlette",
    "asyncio",
    "certifi",
    "matplotlib",
    "numpy",
    "yaml",
    "pycountry",
    "eligibility.fast",
    "eligibility.explain.memo",
    "eligibility.explain.replay",
    "eligibility.batch",
    "eligibility.simulate",
    "eligibility.analysis.verify",
    "eligibility.analysis.diff",
    "eligibility.ruleset.language",
    "eligibility.ruleset.rulebook",
    "eligibility.ruleset.specs",
    "eligibility_cli.serve",
    "eligibility_cli.simulate",
)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_check_loads_only_what_it_needs(fmt: str, tmp_path: Path) -> None:
    """In a fresh process (warm cache: the second run), `check` with counterfactuals imports none of
    the modules only other commands use; the list is read from sys.modules, no timing."""
    probe = (
        "import sys\n"
        "from eligibility_cli.main import main\n"
        f"sys.argv = ['eligibility', 'check', *{HN_ADULT!r}, '--format', {fmt!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "sys.stderr.write(repr(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "ELIGIBILITY_CACHE_DIR": str(tmp_path / "cache")}
    # The first run fills the cache (the rule files are read as YAML then); the cache key hashes the
    # package's code, so a file edited meanwhile (a developer at work) may need one run more.
    for attempt in range(4):
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        loaded = set(ast.literal_eval(done.stderr.strip().splitlines()[-1]))
        if attempt and "yaml" not in loaded:
            break
    assert "eligibility.analysis.counterfactual" in loaded  # the probe did run a full check
    assert sorted(m for m in NOT_FOR_CHECK if m in loaded) == []


def test_import_eligibility_loads_nothing_heavy() -> None:
    """`import eligibility` gives the public names on first use (PEP 562): importing the package
    alone loads neither pydantic nor the engine."""
    probe = "import sys, eligibility; sys.stdout.write(repr(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(ast.literal_eval(done.stdout))
    assert sorted(m for m in ("pydantic", "click", "eligibility.api", "eligibility.case") if m in loaded) == []
    import eligibility

    assert eligibility.evaluate is evaluate
    assert set(eligibility.__all__) <= set(dir(eligibility))
    with pytest.raises(AttributeError):
        eligibility.no_such_name  # noqa: B018


def test_a_durable_rules_plan_in_the_cache_is_checked_before_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The split of a policy into durable-rules rulesets is cached (eligibility.engine.durable); a
    cached plan that is not exactly the policy's rules, in order, is ignored with a notice and
    made again, and the answer is the one made without any cache."""
    from eligibility import cache

    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(tmp_path / "cache"))
    probe = "import sys; from eligibility_cli.main import main; sys.argv[0] = 'eligibility'; main()"
    command = [sys.executable, "-c", probe, "check", *HN_ADULT, "--format", "json"]

    def check(**extra: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **extra}
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False)

    def headline(done: subprocess.CompletedProcess[str]) -> tuple[Any, ...]:
        assert done.returncode == 0, done.stderr[-2000:]
        d = json.loads(done.stdout)
        return (d["outcome"], d["transfer_to"], d["asylum"], d["engine"], d["decided_by"], d["would_change_if"])

    uncached = headline(check(ELIGIBILITY_NO_CACHE="1"))
    assert uncached[3] == "durable-rules" or uncached[3] == "pure"
    assert headline(check()) == uncached
    plans = sorted((tmp_path / "cache").glob("durable-plan-*.json"))
    if uncached[3] == "durable-rules":
        assert plans, "the plan was not cached"
    for plan in plans:
        head, _, payload = plan.read_bytes().partition(b"\n")
        groups = json.loads(payload)
        wrong = [list(reversed([k for g in groups for k in g]))]  # every rule, in the wrong order
        cache.store(plan.name, json.loads(head)["key"], json.dumps(wrong).encode())
    again = check()
    if plans:
        assert "not a plan of this policy's rules" in again.stderr
    assert headline(again) == uncached
    assert "not a plan" not in check().stderr  # made again and rewritten


def test_check_pauses_the_garbage_collector_only_while_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """`check` runs without cyclic garbage collection (a short process: the collector's passes
    find nothing); run in-process, it leaves the collector as it found it, also after an error,
    and importing the commands leaves it on."""
    import gc

    import eligibility

    seen: list[bool] = []
    real = eligibility.evaluate

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    assert gc.isenabled()
    monkeypatch.setattr(eligibility, "evaluate", spy)
    assert run("check", *HN_ADULT).exit_code == 0
    assert seen == [False]
    assert gc.isenabled()
    assert run("check", "--entry-date", "2019-13-01").exit_code == 2
    assert gc.isenabled()
    gc.disable()
    try:
        assert run("check", *HN_ADULT).exit_code == 0
        assert not gc.isenabled()  # left off, as found
    finally:
        gc.enable()


def test_rules_lint_takes_the_directory_as_every_other_command_does() -> None:
    example = str(Path(__file__).resolve().parent.parent / "examples" / "us-mx-stca" / "rules")
    runner = CliRunner()
    by_option = runner.invoke(main, ["rules", "lint", "--rules", example])
    by_argument = runner.invoke(main, ["rules", "lint", example])
    assert by_option.exit_code == 0 and by_option.output == by_argument.output
    from eligibility import load_rules

    laid = load_rules(example, extend=True)  # the shipped rules with the example's laid over them
    assert f"ok: {len(laid.instruments)} instruments" in by_option.output
    assert len(laid.instruments) > len(load_rules().instruments)
    both = runner.invoke(main, ["rules", "lint", example, "--rules", "/tmp"])
    assert both.exit_code == 2 and "give the rules directory once" in both.output
