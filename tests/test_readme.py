"""The README's examples run, and its transcripts are what the command prints today."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from eligibility_cli.main import main

PATH = Path(__file__).parent.parent / "README.md"
README = PATH.read_text(encoding="utf-8")


def test_python_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_console_transcripts_are_current(request: pytest.FixtureRequest) -> None:
    """``python -m pytest --update-snapshots`` rewrites the transcripts; review the diff."""
    transcripts = re.findall(r"```console\n\$ (eligibility [^\n]*)\n(.*?)```", README, re.S)
    assert transcripts
    updated = README
    for line, shown in transcripts:
        command, _, pipe = line.partition(" | ")
        result = CliRunner().invoke(main, shlex.split(command)[1:])
        assert result.exit_code in (0, 3), f"README transcript `{command}` fails: {result.output[:300]}"
        output = result.output
        if pipe:  # a filter such as `head -5` or `grep -A1 "..."`, run by the shell as a reader would
            output = subprocess.run(pipe, shell=True, input=output, capture_output=True, text=True, check=False).stdout
        if request.config.getoption("--update-snapshots"):
            updated = updated.replace(f"$ {line}\n{shown}```", f"$ {line}\n{output}```")
        else:
            assert output == shown, f"README transcript of `{command}` is stale (run pytest --update-snapshots)"
    if updated != README:
        PATH.write_text(updated, encoding="utf-8")


def test_the_two_commands_are_there() -> None:
    assert "pip install . && eligibility check --nationality HN" in README
    assert "pip install '.[test]' && python -m pytest" in README


def test_the_contract_document_names_every_field_of_the_schemas() -> None:
    """docs/contract.md is what users rely on: every field of a case (entry's too) and every
    top-level field of a determination is in it, and every value of the enumerated case fields."""
    import re
    from typing import get_args

    from eligibility.case import Border, Documents, Entry, Place
    from eligibility.case import Case as CaseModel
    from eligibility.explain.determination import Determination

    text = (Path(__file__).resolve().parent.parent / "docs" / "contract.md").read_text()
    named = set(re.findall(r"`([a-z_.0-9]+)`", text))
    fields = {n for n in CaseModel.model_fields if n != "entry"} | {f"entry.{n}" for n in Entry.model_fields}
    assert fields - named == set()
    assert set(Determination.model_fields) - named - {"row"} == set()
    for values in (Border, Documents, Place):
        assert set(get_args(values)) - named == set(), values
