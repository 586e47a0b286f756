"""Hostile case input to `check` and the library: each probe is refused in one line with exit 2
(or, for output, neutralized), never a traceback, a hang or a silent guess.

Each test replays one finding of a reliability probe of the command line; the expected message
is the documented behaviour (README, "Limits"), written before the fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from eligibility import CaseError, parse_case, read_case_data
from eligibility_cli.main import main

GOOD = {"nationalities": ["HN"], "entry": {"date": "2019-12-01", "border": "southern_land"}}


def _check(*args: str, stdin: bytes | str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *args], input=stdin)
    return result.exit_code, result.output


def _one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: ")
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("dup.json", '{"nationalities": ["HN"], "nationalities": ["GT"], "entry": {"date": "2019-12-01"}}',
         "dup.json: the key 'nationalities' is given twice in one object"),
        ("dup-entry.json", '{"entry": {"date": "2019-12-01", "date": "2020-01-01"}}',
         "dup-entry.json: the key 'date' is given twice in one object"),
        ("dup.yaml", "nationalities: [HN]\nnationalities: [GT]\nentry: {date: 2019-12-01}\n",
         "dup.yaml:2:1: duplicate key 'nationalities'"),
    ],
)
def test_a_key_given_twice_is_an_error_not_the_last_value(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    os.chdir(tmp_path)
    code, output = _check(name)
    assert code == 2
    assert message in _one_error_line(output)


def test_invalid_utf8_in_a_file_names_the_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "latin1.json").write_bytes(b'{"entry": {"date": "2019-12-01"},\n "id": "Jos\xe9"}')
    os.chdir(tmp_path)
    code, output = _check("latin1.json")
    assert code == 2
    assert "latin1.json:2:12: not UTF-8 text (byte 0xe9)" in _one_error_line(output)


def test_invalid_utf8_on_standard_input_is_refused() -> None:
    code, output = _check("-", stdin=b'{"entry": {"date": "2019-12-01"}, "id": "\xff"}')
    assert code == 2
    assert "<stdin>:1:42: not UTF-8 text (byte 0xff)" in _one_error_line(output)


def test_parse_case_refuses_bytes_that_are_not_utf8() -> None:
    with pytest.raises(CaseError, match=r"case:1:1: not UTF-8 text \(byte 0xff\)"):
        parse_case(b"\xff{}")


def test_an_endless_input_is_refused_after_the_size_limit() -> None:
    """/dev/zero as the case used to read until memory ran out."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    start = time.monotonic()
    code, output = _check("/dev/zero")
    assert code == 2
    assert "/dev/zero: larger than 1,024 KB" in _one_error_line(output)
    assert time.monotonic() - start < 30  # bounded, whatever the machine


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('"2019-12-01"', "entry: should be a mapping (date, border, place, state, appointment), not text"),
        ("[1, 2]", "entry: should be a mapping (date, border, place, state, appointment), not a list"),
        ("7", "entry: should be a mapping (date, border, place, state, appointment), not a value"),
    ],
)
def test_an_entry_that_is_not_a_mapping_with_entry_flags_is_a_clean_error(entry: str, message: str) -> None:
    code, output = _check("-", "--border", "air", stdin='{"nationalities": ["HN"], "entry": ' + entry + "}")
    assert code == 2
    assert message in _one_error_line(output)


def test_a_null_entry_with_an_entry_flag_is_the_entry_the_flags_give() -> None:
    code, output = _check("-", "--entry-date", "2019-12-01", "--format", "json", stdin='{"nationalities": ["HN"], "entry": null}')
    assert code == 0, output
    assert json.loads(output)["case"]["entry"]["date"] == "2019-12-01"


def test_many_invalid_values_make_a_short_error() -> None:
    """200,000 bad nationalities made a 15 MB error line after 15 s (under the size limit, 100,000)."""
    case = {"entry": {"date": "2019-12-01"}, "nationalities": ["Z"] * 100_000}
    start = time.monotonic()
    code, output = _check("-", stdin=json.dumps(case))
    assert code == 2
    line = _one_error_line(output)
    assert "nationalities: at most 20 items (100000 given)" in line
    assert len(line) < 300
    assert time.monotonic() - start < 30


def test_many_errors_are_listed_up_to_ten_and_counted() -> None:
    case = {"entry": {"date": "2019-12-01"}, "nationalities": [f"Z{i}" for i in range(15)], "age": "x", "fear_established_in": ["Q"]}
    code, output = _check("-", stdin=json.dumps(case))
    assert code == 2
    line = _one_error_line(output)
    assert line.count("is not an ISO 3166-1 alpha-2 country code") == 10
    assert line.endswith("<stdin>: and 7 more problems")


def test_a_very_long_value_is_cut_in_the_message() -> None:
    code, output = _check("-", stdin=json.dumps({"entry": {"date": "2019-12-01", "border": "x" * 100_000}}))
    assert code == 2
    assert len(_one_error_line(output)) < 400


def test_an_id_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(CaseError, match="id: longer than 1,000 characters"):
        parse_case({**GOOD, "id": "x" * 1001})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--nationality", "HN", "--entry-date", "2019-12-01", "--age", "x"], "error: --age: 'x' is not a valid integer (see 'main check --help')"),
        (["--entry-date", "2019-12-01", "--border", "moon"], "error: --border: 'moon' is not one of 'southern_land', "),
        (["--entry-date", "2019-12-01", "--bogus"], "error: No such option '--bogus' (see 'main check --help')"),
    ],
)
def test_a_bad_flag_value_is_one_line(args: list[str], message: str) -> None:
    code, output = _check(*args)
    assert code == 2
    assert message in _one_error_line(output)


def test_a_bad_jobs_value_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text(json.dumps(GOOD) + "\n")
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "in.jsonl"), "--jobs", "x"])
    assert result.exit_code == 2
    assert "error: --jobs/-j: 'x' is not a valid integer range" in _one_error_line(result.output)


# -- YAML cases: the loader builds plain data only, within limits ---------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
            "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nentry: {date: 2019-12-01}\n",
            "case.yaml:1:4: malformed YAML: anchors and aliases",
            id="billion-laughs",
        ),
        pytest.param("entry: !!python/object/apply:os.system [echo hacked]\n", "case.yaml:1:8:", id="python-tag"),
        pytest.param("x: " + "[" * 30_000 + "]" * 30_000 + "\n", "case.yaml", id="deep-nesting"),
    ],
)
def test_hostile_yaml_cases_are_refused_quickly(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "case.yaml").write_text(text, encoding="utf-8")
    os.chdir(tmp_path)
    start = time.monotonic()
    code, output = _check("case.yaml")
    assert code == 2
    assert message in _one_error_line(output)
    assert "hacked" not in output
    assert time.monotonic() - start < 30


def test_read_case_data_builds_no_objects_from_tags() -> None:
    with pytest.raises(CaseError):
        read_case_data("!!python/object/new:os.system [echo hacked]\n")


# -- the terminal: what comes from input is shown, never acted on -------------------------------

ESCAPES = "\x1b]0;PWNED\x07\x1b[2J\x1b[1A\rFAKE: TRANSFER NOT APPLICABLE\u202e"


def test_control_characters_in_an_id_are_made_visible_in_text_output() -> None:
    code, output = _check("-", stdin=json.dumps({**GOOD, "id": ESCAPES}))
    assert code == 0, output
    assert "\x1b" not in output and "\x07" not in output and "\r" not in output and "\u202e" not in output
    assert "\\x1b]0;PWNED\\x07\\x1b[2J" in output


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_control_characters_are_neutralized_in_the_memo_and_trace(fmt: str) -> None:
    code, output = _check("-", "--format", fmt, "--explain", stdin=json.dumps({**GOOD, "id": ESCAPES}))
    assert code == 0, output
    assert not any(c in output for c in "\x1b\x07\r\u202e")


def test_control_characters_in_an_invalid_value_are_made_visible_in_the_error() -> None:
    code, output = _check("-", stdin=json.dumps({"entry": {"date": "2019-12-01", "border": "\x1b[2J\rFAKE: ok"}}))
    assert code == 2
    line = _one_error_line(output)
    assert "\x1b" not in line and "\r" not in line
    assert "\\x1b[2J" in line


def test_control_characters_in_batch_row_reports_are_made_visible(tmp_path: Path) -> None:
    rows = [json.dumps(GOOD), json.dumps({"id": "\x1b]0;PWNED\x07", "entry": {"date": "2019-12-01", "border": "\x1b[2J"}})]
    (tmp_path / "in.jsonl").write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 3, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b[2J" in result.output


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`eligibility rules list | head` used to end with `internal error: BrokenPipeError`, exit 1."""
    env = {**os.environ, "ELIGIBILITY_CACHE_DIR": str(tmp_path)}
    code = "import sys\nfrom eligibility_cli.main import main\nsys.argv = ['eligibility', 'rules', 'list']\nmain()\n"
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], stdout=write_end, stderr=subprocess.PIPE, env=env, timeout=120, check=False
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""


@pytest.mark.parametrize("command", [["replay"], ["test"]])
def test_replay_and_test_read_a_bounded_input(command: list[str]) -> None:
    """`replay /dev/zero` and `test /dev/zero` read until memory ran out (an internal error)."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    result = CliRunner().invoke(main, [*command, "/dev/zero"])
    assert result.exit_code == 2, result.output
    assert "/dev/zero: larger than" in _one_error_line(result.output)


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_an_interrupted_command_exits_130(tmp_path: Path, signum: str) -> None:
    """Ctrl-C printed 'Aborted!' with exit 1, and SIGTERM killed the command (143): the contract's
    code for an interruption is 130. The command is interrupted while it waits for its case on
    standard input (seen in /proc: a read of descriptor 0), never at a guessed moment."""
    import platform
    import signal

    reading = {"x86_64": "0 0x0 ", "aarch64": "63 0x0 "}.get(platform.machine())
    if reading is None or not Path("/proc/self/syscall").exists():
        pytest.skip("needs Linux /proc/PID/syscall on x86_64 or aarch64")
    env = {**os.environ, "ELIGIBILITY_CACHE_DIR": str(tmp_path)}
    code = "import sys\nfrom eligibility_cli.main import main\nsys.argv = ['eligibility', 'check', '-']\nmain()\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        deadline = time.monotonic() + 120
        while not Path(f"/proc/{proc.pid}/syscall").read_text().startswith(reading):
            assert time.monotonic() < deadline and proc.poll() is None, "the command never read its input"
            time.sleep(0.05)
        proc.send_signal(getattr(signal, signum))
        proc.wait(timeout=60)  # standard input stays open: an end of input must not race the signal
        assert proc.stderr is not None
        err = proc.stderr.read()
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.decode().strip() == "interrupted"
