"""`eligibility serve`: the JSON API, tested through HTTP against a running server on loopback."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import eligibility
from eligibility_cli.main import main
from eligibility_cli.serve import serve

HN_ADULT = {
    "nationalities": ["HN"],
    "age": 30,
    "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"},
    "transit": ["GT", "MX"],
}
"""A Honduran adult who entered between ports on 2019-12-01 through Guatemala and Mexico: under the
Guatemala ACA and its implementing rule (84 FR 63994, from 2019-11-19), transferred to Guatemala."""


@contextlib.contextmanager
def running_server(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`eligibility serve` on a free loopback port; yields its base URL and the process."""
    script = Path(sys.executable).parent / "eligibility"  # the console script, as a user runs it
    start = [str(script), "serve"] if script.exists() else [sys.executable, "-m", "eligibility_cli.serve"]
    command = [*start, "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "http://" not in line:
            process.kill()
            raise AssertionError(f"the server did not start: {line!r} {process.communicate()[1]!r}")
        url = line.split()[2].rstrip("/")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/v1", timeout=2).status_code == 200:
                    break
            time.sleep(0.05)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    log = tmp_path_factory.mktemp("serve") / "decisions.jsonl"
    with (
        running_server("--log", str(log), "--max-body", "524288", "--max-batch", "5") as (url, _process),
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client, log


@pytest.fixture
def api(server: tuple[httpx.Client, Path]) -> httpx.Client:
    return server[0]


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    assert body["status"] == response.status_code
    return body["errors"]  # type: ignore[no-any-return]


def _check_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["check", "-", "--format", "json", *args], input=json.dumps(HN_ADULT))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_serve_is_a_command_of_eligibility() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    assert "--host" in result.output and "127.0.0.1" in result.output


def test_a_case_through_the_api_gets_the_same_determination_as_check(api: httpx.Client) -> None:
    response = api.post("/v1/evaluate", json={"case": HN_ADULT})
    assert response.status_code == 200
    got = response.json()
    assert (got["outcome"], got["transfer_to"], got["asylum"]) == ("transfer", ["GT"], "not_in_us")
    expected = _check_json()
    for record in (got, expected):
        record.pop("evaluated_at")
    assert got == expected


def test_policy_as_of_and_language_are_those_of_check(api: httpx.Client) -> None:
    body = {"case": HN_ADULT, "policy": "implemented", "as_of": "2019-12-05", "lang": "es"}
    got = api.post("/v1/evaluate", json=body).json()
    expected = _check_json("--policy", "implemented", "--as-of", "2019-12-05", "--lang", "es")
    assert got["lang"] == "es" and got["policy"] == "implemented" and got["dates"]["decision"] == "2019-12-05"
    got.pop("evaluated_at"), expected.pop("evaluated_at")
    assert got == expected


def test_every_response_carries_the_rules_digest_and_the_version(api: httpx.Client) -> None:
    digest = eligibility.load_rules().digest
    for response in (
        api.get("/v1"),
        api.post("/v1/evaluate", json={"case": HN_ADULT}),
        api.post("/v1/evaluate", json={"case": {}}),
        api.get("/"),
        api.get("/no/such/page"),
    ):
        assert response.headers["x-rules-digest"] == digest
        assert response.headers["x-eligibility-version"] == eligibility.__version__
    assert api.post("/v1/evaluate", json={"case": HN_ADULT}).json()["rules_digest"] == digest


def test_a_bad_case_is_422_naming_each_field(api: httpx.Client) -> None:
    response = api.post("/v1/evaluate", json={"case": {"nationalites": ["HN"], "entry": {"date": "2019-13-01"}}})
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in _errors(response)}
    assert "did you mean 'nationalities'" in errors["case.nationalites"]
    assert "2019-13-01" in errors["case.entry.date"]


def test_a_case_without_its_date_of_entry_is_422(api: httpx.Client) -> None:
    response = api.post("/v1/evaluate", json={"case": {"nationalities": ["HN"]}})
    assert response.status_code == 422
    assert _errors(response) == [{"field": "case.entry.date", "message": "required"}]


def test_as_of_that_contradicts_the_decision_date_is_422(api: httpx.Client) -> None:
    case = {**HN_ADULT, "decision_date": "2019-12-02"}
    response = api.post("/v1/evaluate", json={"case": case, "as_of": "2019-12-03"})
    assert response.status_code == 422
    assert _errors(response)[0]["field"] == "as_of"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"case": HN_ADULT, "lang": "fr"}, "lang"),
        ({"case": HN_ADULT, "engine": "eval"}, "engine"),
        ({"case": [1, 2]}, "case"),
        ({"case": HN_ADULT, "extra": 1}, "extra"),
    ],
)
def test_a_bad_request_field_is_422_naming_it(api: httpx.Client, body: dict[str, Any], field: str) -> None:
    response = api.post("/v1/evaluate", json=body)
    assert response.status_code == 422
    assert [e["field"] for e in _errors(response)] == [field]


@pytest.mark.parametrize("text", ['{"case": ', "not json", '{"case": {"entry": {"date": "2019-12-01"}}} trailing'])
def test_malformed_json_is_422_in_one_line(api: httpx.Client, text: str) -> None:
    response = api.post("/v1/evaluate", content=text, headers={"content-type": "application/json"})
    assert response.status_code == 422
    (error,) = _errors(response)
    assert error["message"].startswith("malformed JSON") and "\n" not in error["message"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"case": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
        ('{"case": {"age": ' + "9" * 5000 + "}}", "a number too long to read"),
    ],
)
def test_json_the_parser_gives_up_on_is_422_in_one_line(api: httpx.Client, text: str, reason: str) -> None:
    response = api.post("/v1/evaluate", content=text, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert _errors(response) == [{"field": None, "message": f"malformed JSON: {reason}"}]
    assert api.post("/v1/evaluate", json={"case": HN_ADULT}).status_code == 200


def test_a_request_naming_another_host_is_refused(api: httpx.Client) -> None:
    """A page elsewhere whose name was made to point at 127.0.0.1 (DNS rebinding) gets nothing."""
    response = api.post("/v1/evaluate", json={"case": HN_ADULT}, headers={"host": "evil.example"})
    assert response.status_code == 400 and "Host" in _errors(response)[0]["message"]
    assert api.get("/", headers={"host": "evil.example:8000"}).status_code == 400
    port = api.base_url.port
    assert api.get("/v1", headers={"host": f"localhost:{port}"}).status_code == 200


def test_an_unknown_policy_is_404_with_a_suggestion(api: httpx.Client) -> None:
    response = api.post("/v1/evaluate", json={"case": HN_ADULT, "policy": "enactd"})
    assert response.status_code == 404
    (error,) = _errors(response)
    assert error["field"] == "policy" and "did you mean 'enacted'" in error["message"]


def test_a_body_over_the_limit_is_413_and_the_next_request_is_served(api: httpx.Client) -> None:
    big = {"case": {**HN_ADULT, "id": "x" * 600_000}}
    response = api.post("/v1/evaluate", json=big)
    assert response.status_code == 413
    assert "524,288 bytes" in _errors(response)[0]["message"]
    assert api.post("/v1/evaluate", json={"case": HN_ADULT}).status_code == 200


def test_a_chunked_body_over_the_limit_is_413(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"case": {"id": "'
        for _ in range(80):
            yield b"x" * 8192
        yield b'"}}'

    response = api.post("/v1/evaluate", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert api.get("/v1").status_code == 200


def test_unknown_paths_and_methods_are_json_errors(api: httpx.Client) -> None:
    assert api.get("/v2/evaluate").status_code == 404
    assert _errors(api.get("/v2/evaluate"))[0]["message"].startswith("no such page")
    assert api.delete("/v1/evaluate").status_code == 405


def test_each_question_has_a_kind_and_the_choices_have_labels() -> None:
    from eligibility_cli.questions import QUESTIONS
    from eligibility_cli.web.intake import question

    kinds = {field: question(field, "en").kind for field in QUESTIONS}
    assert kinds["transit"] == "stops" and kinds["habitual_residence"] == "country"
    assert kinds["family_in_us"] == "list" and kinds["entry.state"] == "text"
    assert kinds["medical_emergency"] == "yes_no" and kinds["claim_date"] == "date"
    for field in QUESTIONS:
        for lang in ("en", "es"):
            q = question(field, lang)
            assert all(o.label and o.label != o.value for o in q.options), (field, lang)


def test_ask_starts_with_the_date_of_entry_and_then_asks_what_can_change_the_answer(api: httpx.Client) -> None:
    first = api.post("/v1/ask", json={}).json()
    assert first["question"]["field"] == "entry.date" and first["question"]["required"] is True
    after = api.post("/v1/ask", json={"answers": [{"field": "entry.date", "answer": "2019-12-01"}]}).json()
    # nothing is known but the date: the nationality decides which agreement can reach the person
    assert after["question"]["field"] == "nationalities"
    assert after["record"] is None


def _answer_all(api: httpx.Client, facts: dict[str, str], lang: str = "en") -> dict[str, Any]:
    answers: list[dict[str, str]] = []
    for _ in range(40):
        data = api.post("/v1/ask", json={"answers": answers, "lang": lang}).json()
        if data["question"] is None:
            return data  # type: ignore[no-any-return]
        field = data["question"]["field"]
        answers.append({"field": field, "answer": facts.get(field, "")})
    raise AssertionError("ask did not finish")


HN_ANSWERS = {"entry.date": "2019-12-01", "nationalities": "HN", "age": "30", "unaccompanied": "n",
              "family_unit": "n", "entry.border": "southern_land", "entry.place": "between_ports",
              "transit": "GT, MX", "documents": "none", "decision_date": "2019-12-01", "habitual_residence": "HN",
              "public_interest": "n", "fear_established_in": "none", "trafficking_victim": "n"}


@pytest.mark.slow  # a whole intake: a dozen requests of about 0.3 s each
def test_ask_answered_in_full_reaches_checks_determination_through_form_fields(api: httpx.Client) -> None:
    seen: dict[str, dict[str, Any]] = {}
    answers: list[dict[str, str]] = []
    for _ in range(40):
        data = api.post("/v1/ask", json={"answers": answers, "lang": "es"}).json()
        if data["question"] is None:
            break
        seen[data["question"]["field"]] = data["question"]
        answers.append({"field": data["question"]["field"], "answer": HN_ANSWERS.get(data["question"]["field"], "")})
    record = data["record"]
    assert (record["outcome"], record["transfer_to"]) == ("transfer", ["GT"])
    assert record["lang"] == "es" and [a["field"] for a in record["answers"]] == list(seen)
    assert data["summary"]["headline"] == "TRASLADO a Guatemala (GT)"
    assert data["summary"]["text"].startswith("TRASLADO a Guatemala (GT)")
    # each question is a form field: its kind, its options, its words without the typing hints
    assert seen["entry.date"]["kind"] == "date" and seen["age"]["kind"] == "number"
    assert seen["public_interest"]["kind"] == "yes_no"
    assert [o["label"] for o in seen["public_interest"]["options"]] == ["sí", "no"]
    assert "(s/n)" not in seen["public_interest"]["text"] and "(s/n)" in seen["public_interest"]["prompt"]
    border = seen["entry.border"]
    assert border["kind"] == "choice" and "1)" not in border["text"]
    assert [o["value"] for o in border["options"]] == [
        "southern_land", "northern_land", "air", "sea", "southern_coastal"]
    assert border["options"][0]["label"] == "por tierra desde México"
    assert seen["nationalities"]["kind"] == "countries"
    documents = {o["value"]: o["label"] for o in seen["documents"]["options"]}
    assert documents["parole_travel_authorization"].endswith("(parole)")  # a label with brackets of its own


@pytest.mark.slow  # a whole intake: a dozen requests of about 0.3 s each
def test_dont_know_ends_undetermined_with_what_would_settle_it(api: httpx.Client) -> None:
    # A Honduran adult who crossed between ports in December 2019, and "don't know" to the rest:
    # whether an exception of the Guatemala ACA holds (a U.S. visa, the public interest, fear
    # established as to Guatemala) is not known, so neither is the transfer.
    known = {k: HN_ANSWERS[k] for k in ("entry.date", "nationalities", "age", "decision_date", "entry.border",
                                        "entry.place", "unaccompanied", "family_unit")}
    data = _answer_all(api, known)
    record = data["record"]
    assert record["outcome"] == "undetermined"
    assert {"documents", "public_interest", "fear_established_in"} & set(record["missing_facts"])
    unknown = [a for a in record["answers"] if a["field"] not in known]
    assert unknown and all(a["value"] is None and a["answer"] == "" for a in unknown)
    assert data["summary"]["headline"] == "UNDETERMINED"


def test_ask_refuses_a_bad_answer_naming_it(api: httpx.Client) -> None:
    answers = [{"field": "entry.date", "answer": "2019-12-01"}, {"field": "age", "answer": "thirty"}]
    response = api.post("/v1/ask", json={"answers": answers})
    assert response.status_code == 422
    assert _errors(response) == [{"field": "answers.1.answer", "message": "expected a whole number of years, got 'thirty'"}]
    unknown_date = api.post("/v1/ask", json={"answers": [{"field": "entry.date", "answer": "no sé"}], "lang": "es"})
    assert unknown_date.status_code == 422 and "fecha de entrada" in _errors(unknown_date)[0]["message"]
    no_such = api.post("/v1/ask", json={"answers": [{"field": "eye_colour", "answer": "blue"}]})
    assert _errors(no_such)[0]["field"] == "answers.0.field"


def test_ask_finish_answers_from_what_is_known(api: httpx.Client) -> None:
    answers = [{"field": "entry.date", "answer": "2019-12-01"}, {"field": "nationalities", "answer": "MX"}]
    data = api.post("/v1/ask", json={"answers": answers, "finish": True}).json()
    assert data["question"] is None and data["record"]["case"]["nationalities"] == ["MX"]


def test_batch_streams_one_line_a_case_and_reports_bad_rows(api: httpx.Client) -> None:
    lines = [json.dumps(HN_ADULT), '{"entry": {"date": "2019-02-30"}}', "", "[1]", json.dumps({**HN_ADULT, "id": "b"})]
    response = api.post("/v1/batch", content="\n".join(lines), headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 4, 5]
    assert rows[0]["outcome"] == "transfer" and rows[3]["id"] == "b"
    assert rows[1]["errors"][0]["field"] == "entry.date"
    assert "errors" in rows[2]
    # each valid row is the line `eligibility batch` writes for it
    cli = CliRunner().invoke(main, ["batch", "-", "-q", "--jobs", "1"], input="\n".join(lines) + "\n")
    assert cli.exit_code == 3  # some rows were invalid
    by_row = {json.loads(line)["row"]: line for line in cli.output.splitlines() if line.startswith('{"row"')}
    served = {json.loads(line)["row"]: line for line in response.text.splitlines()}
    assert set(by_row) == {1, 5} and all(served[n] == by_row[n] for n in by_row)


def test_batch_full_detail_and_approximate_dates(api: httpx.Client) -> None:
    lines = [json.dumps({**HN_ADULT, "entry": {**HN_ADULT["entry"], "date": "2019-11"}})]
    compact = api.post("/v1/batch", content=lines[0]).json()
    full = api.post("/v1/batch", params={"detail": "full", "lang": "es"}, content=lines[0]).json()
    assert "findings" not in compact["instruments"][0] and "findings" in full["instruments"][0]
    # November 2019: the implementing rule reaches entries from 2019-11-19 only, so the day decides
    assert compact["outcome"] == "undetermined" and compact["date_cuts"]
    assert full["lang"] == "es"


def test_a_batch_over_the_limit_is_413(api: httpx.Client) -> None:
    body = "\n".join([json.dumps(HN_ADULT)] * 6)
    response = api.post("/v1/batch", content=body)
    assert response.status_code == 413 and "at most 5" in _errors(response)[0]["message"]


def test_policies_rules_and_schemas(api: httpx.Client) -> None:
    policies = {p["id"]: p for p in api.get("/v1/policies", params={"lang": "es"}).json()}
    assert policies["enacted"]["default"] is True and "implemented" in policies
    rules = api.get("/v1/rules").json()
    some = next(r for r in rules if r["instrument"] == "us-gt-aca")
    rule = api.get(f"/v1/rules/{some['id']}").json()
    assert rule["id"] == some["id"] and rule["sources"] and rule["sources"][0]["url"].startswith("http")
    missing = api.get("/v1/rules/us-gt-aca.no-such-rule")
    assert missing.status_code == 404 and _errors(missing)[0]["field"] == "rule_id"
    assert "entry" in api.get("/v1/schemas/case").json()["properties"]
    assert "outcome" in api.get("/v1/schemas/determination").json()["properties"]
    assert api.get("/v1/schemas/nope").status_code == 404
    countries = {c["code"]: c["name"] for c in api.get("/v1/countries", params={"lang": "es"}).json()}
    assert countries["MX"] == "México" and countries["HN"] == "Honduras" and len(countries) > 240
    openapi = api.get("/openapi.json").json()
    assert {"/v1/evaluate", "/v1/ask", "/v1/batch", "/v1/policies", "/v1/rules/{rule_id}"} <= set(openapi["paths"])


def test_memo_of_a_record_downloads_in_its_language(api: httpx.Client) -> None:
    record = api.post("/v1/evaluate", json={"case": HN_ADULT, "lang": "es"}).json()
    response = api.post("/v1/memo", json=record)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert 'lang="es"' in response.text and "attachment" in response.headers["content-disposition"]
    markdown = api.post("/v1/memo", params={"format": "md"}, json=record)
    assert markdown.status_code == 200 and "Guatemala" in markdown.text
    assert api.post("/v1/memo", json={"outcome": "transfer"}).status_code == 422


def test_the_page_and_its_files_are_served_without_anything_from_elsewhere(api: httpx.Client) -> None:
    page = api.get("/")
    assert page.status_code == 200 and "<form" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("intake.js", "intake.css", "strings.json"):
        assert api.get(f"/static/{name}").status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    strings = api.get("/static/strings.json").json()
    assert set(strings["en"]) == set(strings["es"])


def test_the_decision_log_has_one_record_a_line(server: tuple[httpx.Client, Path]) -> None:
    api, log = server
    api.post("/v1/evaluate", json={"case": {**HN_ADULT, "id": "logged"}})
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    last = lines[-1]
    assert last["id"] == "logged" and last["case"]["nationalities"] == ["HN"] and "evaluated_at" in last


def _port_in_use() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock, sock.getsockname()[1]


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    sock, port = _port_in_use()
    with sock:
        result = CliRunner().invoke(serve, ["--port", str(port)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "--port" in result.output


def test_listening_beyond_loopback_warns() -> None:
    sock, port = _port_in_use()  # the bind then fails: nothing is ever exposed by this test
    with sock:
        result = CliRunner().invoke(serve, ["--host", "0.0.0.0", "--port", str(port)])
    assert "warning: listening on 0.0.0.0" in result.output
    assert result.exit_code == 2


def test_an_unwritable_decision_log_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(serve, ["--port", "0", "--log", str(tmp_path / "no" / "log.jsonl")])
    assert result.exit_code == 2 and result.output.startswith("error: --log")


def test_the_server_stops_on_sigterm() -> None:
    with running_server() as (_url, process):
        process.terminate()
        assert process.wait(timeout=10) == 130  # stopped cleanly, with the contract's code for an interruption
        assert "Traceback" not in (process.stderr.read() if process.stderr else "")
