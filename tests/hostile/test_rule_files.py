"""Hostile rule files: each is refused with its place (``file:line:col``, or the file for a problem
of the whole file) and exit 2, never a traceback, a hang, a crash, or the content of a file
outside the rules directory.

Each test replays one finding of a probe of ``--rules DIR``; before the fix each ended in exit 1
(an internal error), read a file it should not have, or never ended.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from eligibility_cli.main import main

from eligibility import RuleFileError, load_rules
from eligibility.yamlsource import MAX_BYTES, MAX_DEPTH, YAMLSourceError, decode, load_yaml, parse_yaml

POLICY = "policies:\n  - id: extra\n    title: extra\n    description: extra\n    instruments: [ina-208a2]\n"
HN = ["--nationality", "HN", "--entry-date", "2019-12-01"]


def overlay(tmp_path: Path, name: str, content: str | bytes) -> Path:
    """A --rules directory holding one file ``name`` besides a valid policies.yaml."""
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "policies.yaml").write_text(POLICY)
    target = rules / name
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    return rules


def problems(rules: Path) -> list[str]:
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules, extend=True)
    return [str(p) for p in raised.value.problems]


def lint(rules: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["rules", "lint", str(rules)])
    return result.exit_code, result.output


def check(rules: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "--rules", str(rules), *HN])
    return result.exit_code, result.output


# -- YAML that is not plain data


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("instrument: !!python/object/apply:os.system [echo pwned]\n", "1:13", "the tag"),
        ("instrument: !!python/name:os.system\n", "1:13", "the tag"),
        ("instrument: !local thing\n", "1:13", "the tag '!local'"),
        ("a: &x {id: 1}\ninstrument:\n  <<: *x\n", "1:4", "anchors and aliases"),
        ("instrument:\n  <<: {id: a}\n  title: b\n", "2:3", "merge keys (<<)"),
        ("a: &a [*a]\n", "1:4", "anchors and aliases"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
            "1:4",
            "anchors and aliases",
        ),
    ],
    ids=["python-apply", "python-name", "local-tag", "alias-merge", "merge-key", "recursive-alias", "billion-laughs"],
)
def test_yaml_that_is_not_plain_data_is_refused_at_its_place(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    rules = overlay(tmp_path, "x.yaml", text)
    [found] = problems(rules)
    assert found.startswith(f"{rules}/x.yaml:{where}: malformed YAML: {message}"), found


@pytest.mark.parametrize(
    "text", ["instrument: !!python/object/apply:os.system [echo pwned]\n", "a: &a [*a]\n"], ids=["python-tag", "recursive-alias"]
)
def test_the_command_line_refuses_them_with_exit_2(tmp_path: Path, text: str) -> None:
    rules = overlay(tmp_path, "x.yaml", text)
    for run in (lint, check):
        code, output = run(rules)
        assert code == 2 and output.startswith(f"error: {rules}/x.yaml:1:"), output
        assert len(output.splitlines()) == 1 and "Traceback" not in output


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 20_000, 100_000])
def test_deep_nesting_is_refused_quickly(tmp_path: Path, levels: int) -> None:
    """20,000 to 100,000 nested lists exhausted the parser's recursion (exit 1)."""
    rules = overlay(tmp_path, "deep.yaml", "a: " + "[" * levels + "]" * levels + "\n")
    started = time.perf_counter()
    [found] = problems(rules)
    assert time.perf_counter() - started < 10
    assert found.startswith(f"{rules}/deep.yaml:1:") and f"nested more than {MAX_DEPTH} levels" in found


def test_nesting_within_the_limit_is_read() -> None:
    doc, found = load_yaml("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n", "f.yaml")
    assert found == [] and doc is not None


def test_parse_yaml_raises_with_line_and_column() -> None:
    """The parser case files use: the same refusals, as YAMLSourceError(line, column, problem)."""
    with pytest.raises(YAMLSourceError) as raised:
        parse_yaml("id: a\nentry: &e {date: 2019-12-01}\nagain: *e\n")
    assert (raised.value.line, raised.value.column) == (2, 8)
    assert str(raised.value).startswith("2:8: anchors and aliases")
    with pytest.raises(YAMLSourceError, match="the tag"):
        parse_yaml("id: !!python/object:builtins.dict {}\n")
    assert parse_yaml("entry: {date: 2019-12-01}\n") == {"entry": {"date": __import__("datetime").date(2019, 12, 1)}}


# -- files that are not UTF-8, not files, not readable, too large, or outside the directory


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    """A Latin-1 file: line and column of the first byte that is not UTF-8."""
    rules = overlay(tmp_path, "latin.yaml", "instrument:\n  title: Caf\xe9 de la paix\n".encode("latin-1"))
    assert problems(rules) == [f"{rules}/latin.yaml:2:13: not UTF-8 (byte 0xe9)"]
    with pytest.raises(YAMLSourceError, match="not UTF-8"):
        decode(b"ok: \xff")


def test_a_directory_named_like_a_rule_file_is_one_problem(tmp_path: Path) -> None:
    rules = overlay(tmp_path, "policies.yaml", POLICY)
    (rules / "x.yaml").mkdir()
    assert problems(rules) == [f"{rules}/x.yaml: not a regular file (a directory or device named like a rule file)"]
    assert lint(rules)[0] == 2


def test_an_unreadable_file_is_one_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 (simulated: the tests may run as root, who reads it anyway)."""
    rules = overlay(tmp_path, "locked.yaml", "instrument: {}\n")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert problems(rules) == [f"{rules}/locked.yaml: cannot be read: Permission denied"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_file_is_one_problem_for_real(tmp_path: Path) -> None:
    rules = overlay(tmp_path, "locked.yaml", "instrument: {}\n")
    (rules / "locked.yaml").chmod(0)
    assert problems(rules) == [f"{rules}/locked.yaml: cannot be read: Permission denied"]


def test_a_file_too_large_is_not_read(tmp_path: Path) -> None:
    rules = overlay(tmp_path, "big.yaml", b"# " + b"x" * MAX_BYTES + b"\n")
    assert problems(rules) == [f"{rules}/big.yaml: larger than {MAX_BYTES:,} bytes (not read)"]


def test_a_link_out_of_the_rules_directory_is_not_followed(tmp_path: Path) -> None:
    """A symlink inside --rules DIR to a file outside it was read, and its content echoed in the
    error ("unknown key 'TOPSECRET...'")."""
    secret = tmp_path / "secret.yaml"
    secret.write_text("TOPSECRET-4f1c: 1\n")
    rules = overlay(tmp_path, "policies.yaml", POLICY)
    (rules / "leak.yaml").symlink_to(secret)
    assert problems(rules) == [f"{rules}/leak.yaml: a link to a file outside the rules directory (not read)"]
    for run in (lint, check):
        code, output = run(rules)
        assert code == 2 and "TOPSECRET" not in output, output


def test_a_linked_folder_leading_out_of_the_rules_directory_is_not_followed(tmp_path: Path) -> None:
    """data/ as a link to a folder outside --rules DIR: its files were read as the rules' own."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("TOPSECRET-9a2e: 1\n")
    rules = overlay(tmp_path, "policies.yaml", POLICY)
    (rules / "data").symlink_to(outside, target_is_directory=True)
    assert problems(rules) == [f"{rules}/data/secret.yaml: a link to a file outside the rules directory (not read)"]
    for run in (lint, check):
        code, output = run(rules)
        assert code == 2 and "TOPSECRET" not in output, output


def test_a_link_inside_the_rules_directory_is_followed(tmp_path: Path) -> None:
    rules = overlay(tmp_path, "policies.yaml", POLICY)
    (rules / "data").mkdir()
    (rules / "data" / "policies.yaml").write_text(POLICY)  # not read: only rules/data/*.yaml tables
    (rules / "policies-copy.yaml").symlink_to(rules / "policies.yaml")
    found = problems(rules)  # the link is read, and its content validated as an instrument file
    assert any(f.startswith(f"{rules}/policies-copy.yaml:1:1:") for f in found), found


def test_every_file_problem_is_reported_together(tmp_path: Path) -> None:
    rules = overlay(tmp_path, "tag.yaml", "a: !!python/object:os.system x\n")
    (rules / "dir.yaml").mkdir()
    (rules / "latin.yaml").write_bytes(b"a: \xe9\n")
    found = sorted(problems(rules))
    assert [f.split(":")[0].rsplit("/", 1)[-1] for f in found] == ["dir.yaml", "latin.yaml", "tag.yaml"]
