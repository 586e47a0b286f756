"""`eligibility ask` asks only what can change the answer, and reaches check's determination."""

from __future__ import annotations

import copy
import json
import sys
from typing import Any, get_args

import pytest
import yaml
from click.testing import CliRunner

from eligibility import evaluate, load_rules
from eligibility.case import Border, Documents
from eligibility.ruleset.facts import FLAGS
from eligibility_cli.main import main, next_question
from tests.test_golden import GOLDEN


DEFAULT_ANSWERS = {"documents": "none", "trafficking_victim": "n", "public_interest": "n",
                   "fear_established_in": "none", "family_in_us": "none",
                   **{name: "n" for name in FLAGS}}  # each defaults to false


def _answer(case: dict[str, Any], field: str) -> str:
    """What a person who knows the whole case answers (the documented default where it is silent)."""
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


def _script(case: dict[str, Any], policy: str, given: dict[str, Any] | None = None) -> tuple[list[str], list[str]]:
    """The questions ask would ask for this case (starting from the facts ``given``), and the answers, in order."""
    from eligibility_cli.questions import start

    ruleset = load_rules()
    data: dict[str, Any] = start(copy.deepcopy(given or {}))
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


HN_2021 = {"nationalities": ["HN"], "age": 30, "unaccompanied": False, "family_unit": False,
           "entry": {"date": "2021-05-01", "border": "southern_land", "place": "between_ports", "state": "TX"},
           "transit": ["GT", "MX"], "decision_date": "2021-05-01"}
HN_2021_FLAGS = ["--nationality", "HN", "--age", "30", "--accompanied", "--no-family-unit", "--entry-date", "2021-05-01",
                 "--border", "southern_land", "--place", "between_ports", "--state", "TX", "--transit", "GT",
                 "--transit", "MX", "--decision-date", "2021-05-01"]
"""The facts known from the start (given as flags), so that ask is left with the facts of contract
section 6 and the fields whose defaults it does not assume."""


def _on(date: str) -> dict[str, Any]:
    return {**HN_2021, "entry": {**HN_2021["entry"], "date": date}, "decision_date": date}


def test_ask_has_a_question_for_every_new_fact() -> None:
    """yes/no questions a lawyer understands, and the new values offered."""
    from eligibility_cli.questions import ASK_INSTEAD_OF_DEFAULT, QUESTIONS

    assert set(FLAGS) <= set(QUESTIONS) and set(FLAGS) <= set(ASK_INSTEAD_OF_DEFAULT)
    for name in FLAGS:
        question, parse = QUESTIONS[name]
        assert question.endswith("? (y/n)") and parse("y") is True and parse("no") is False
    assert "scheduled through CBP One" in QUESTIONS["entry.appointment"][0]
    assert "individual exception from Title 42" in QUESTIONS["title42_exception"][0]
    assert "rape, kidnapping, torture, murder" in QUESTIONS["imminent_threat"][0]
    assert all(value in QUESTIONS["entry.border"][0] for value in get_args(Border))
    assert all(value in QUESTIONS["documents"][0] for value in get_args(Documents))


def test_ask_asks_about_the_new_facts_only_when_they_can_change_the_answer() -> None:
    fields, _ = _script(HN_2021, "enacted", HN_2021)
    assert "title42_exception" in fields  # rules/ citations: it would stop the expulsion
    assert not {"criminal_record", "entry.appointment", "medical_emergency"} & set(fields)  # no rule reaches them
    assert "title42_exception" not in _script(HN_2021, "without-title-42", HN_2021)[0]
    assert not set(FLAGS) & set(_script(_on("2019-12-01"), "enacted", _on("2019-12-01"))[0])  # none matters in 2019
    fields, _ = _script(_on("2023-06-01"), "enacted", _on("2023-06-01"))  # rules/ citations: rebuts Lawful Pathways
    assert {"medical_emergency", "imminent_threat"} <= set(fields) and "title42_exception" not in fields


@pytest.mark.parametrize(("exception", "outcome"), [(False, ("expel", ["MX"])), (True, ("process_in_us", []))])
def test_ask_reaches_an_expulsion_and_its_exception(exception: bool, outcome: tuple[str, list[str]]) -> None:
    case = {**HN_2021, "title42_exception": exception}
    fields, answers = _script(case, "enacted", HN_2021)
    assert "title42_exception" in fields
    result = CliRunner().invoke(main, ["ask", *HN_2021_FLAGS, "--format", "json"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "Did CBP grant an individual exception from Title 42? (y/n)" in result.output
    d = json.loads(result.stdout.strip().splitlines()[-1])
    full = evaluate(case, counterfactuals=False)
    assert (d["outcome"], d["expel_to"]) == outcome == (full.outcome, full.expel_to)
    assert "title42_exception" not in d["assumed"]  # asked, not assumed


def test_ask_starts_from_the_new_fact_flags() -> None:
    given = {**HN_2021, "title42_exception": True}
    fields, answers = _script(given, "enacted", given)
    assert "title42_exception" not in fields
    result = CliRunner().invoke(main, ["ask", *HN_2021_FLAGS, "--title42-exception", "--format", "json"],
                                input="\n".join(answers) + "\n")
    d = json.loads(result.stdout.strip().splitlines()[-1])
    assert d["outcome"] == "process_in_us" and "title42_exception" not in d["assumed"]
    assert "exception from Title 42" not in result.output


def test_dont_know_leaves_every_fact_unknown() -> None:
    """Enter at every question records nothing: the answer is that of the facts given alone
    (before, Enter recorded 'no transit', 'no fear', 'no family' and ended at the age prompt)."""
    from eligibility_cli.questions import start

    flags = ["--nationality", "HN", "--entry-date", "2019-12-01", "--border", "southern_land"]
    result = CliRunner().invoke(main, ["ask", *flags, "--format", "json"], input="\n" * 40)
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout.strip().splitlines()[-1])
    known = start({"nationalities": ["HN"], "entry": {"date": "2019-12-01", "border": "southern_land"}})
    alone = evaluate(known, "enacted", counterfactuals=False)
    assert (d["outcome"], d["asylum"], d["missing_facts"]) == (alone.outcome, alone.asylum, alone.missing_facts)
    assert "transit" in d["missing_facts"] and d["outcome"] == "undetermined"
    assert "invalid literal" not in result.output


@pytest.mark.parametrize("answer", ["?", "no sé", "don't know", ""])
def test_each_way_of_saying_dont_know(answer: str) -> None:
    from eligibility_cli.questions import unanswered

    assert unanswered(answer)


def test_answers_a_lawyer_gives_are_read_as_meant() -> None:
    """'no' to a list of countries is none, not Norway; 'sí' is yes; a choice may be its number."""
    from eligibility_cli.questions import QUESTIONS

    assert QUESTIONS["fear_established_in"][1]("no") == [] and QUESTIONS["transit"][1]("ninguno") == []
    assert QUESTIONS["trafficking_victim"][1]("sí") is True
    assert QUESTIONS["documents"][1]("1") == "none" and QUESTIONS["entry.border"][1]("2") == "northern_land"
    assert QUESTIONS["entry.place"][1]("between_ports") == "between_ports"
    with pytest.raises(ValueError, match="whole number of years"):
        QUESTIONS["age"][1]("thirty")


def test_a_bad_answer_is_asked_again_with_the_reason() -> None:
    """After any number of bad answers the question is asked again, and the good answer counts."""
    flags = ["--nationality", "HN", "--entry-date", "2019-12-01", "--border", "southern_land",
             "--place", "between_ports", "--transit", "GT", "--transit", "MX", "--decision-date", "2019-12-01"]
    # age, then public interest, fear, documents (by number) and trafficking
    answers = ["thirty", "-", "3O", "x", "30", "n", "none", "1", "n"] + [""] * 30
    result = CliRunner().invoke(main, ["ask", *flags, "--format", "json"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("expected a whole number of years") == 4
    d = json.loads(result.stdout.strip().splitlines()[-1])
    assert d["outcome"] == "transfer" and d["transfer_to"] == ["GT"]  # 84 FR 63994: an adult Honduran, Dec 2019


def test_piped_prompts_each_end_their_line() -> None:
    result = CliRunner().invoke(main, ["ask", "--entry-date", "2019-12-01"], input="\n" * 5)
    prompts = [line for line in result.output.splitlines() if "[Enter if not known]" in line]
    assert len(prompts) >= 6 and all(line.endswith("[Enter if not known]: ") for line in prompts)


@pytest.mark.skipif(sys.platform != "linux", reason="a pseudo-terminal of the Linux kind")
def test_ask_at_a_terminal() -> None:
    """Driven through a pseudo-terminal as a person types: a bad answer is asked again, a choice is
    typed by its number, and the determination follows (84 FR 63994: an adult Honduran, Dec 2019)."""
    import os
    import pty
    import select
    import subprocess

    master, slave = pty.openpty()
    script = os.path.join(os.path.dirname(sys.executable), "eligibility")
    flags = ["--nationality", "HN", "--entry-date", "2019-12-01", "--border", "southern_land", "--place",
             "between_ports", "--transit", "GT", "--transit", "MX", "--decision-date", "2019-12-01"]
    proc = subprocess.Popen([script, "ask", *flags], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen = b""

    def until(text: bytes, also: bytes = b"\0") -> None:
        """Read until ``text`` (or ``also``) has come, at the end of what was read."""
        nonlocal seen
        while not (seen.endswith(text) or also in seen) if text.endswith(b": ") else text not in seen:
            ready, _, _ = select.select([master], [], [], 60)
            assert ready, f"no {text!r} after: {seen[-300:]!r}"
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the command ended and closed the terminal
                chunk = b""
            assert chunk, f"no {text!r} before the end: {seen[-600:]!r}"
            seen += chunk

    try:
        until(b"Age in years")
        os.write(master, b"thirty\n")
        until(b"expected a whole number of years")
        os.write(master, b"30\n")
        seen = b""  # from here on, only what follows the age
        answers = iter([b"n", b"none", b"1", b"n"])  # in order: public interest, fear, documents, trafficking
        while b"TRANSFER to Guatemala (GT)" not in seen:
            until(b"[Enter if not known]: ", also=b"TRANSFER to Guatemala (GT)")
            if seen.endswith(b"[Enter if not known]: "):
                seen = b""
                os.write(master, next(answers) + b"\n")
    finally:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(master)
    assert proc.returncode == 0
