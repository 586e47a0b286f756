"""The README's examples run, and its transcripts are what the command prints today."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from eligibility_cli.main import main

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_python_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_console_transcripts_are_current() -> None:
    transcripts = re.findall(r"```console\n\$ (eligibility [^\n]*)\n(.*?)```", README, re.S)
    assert transcripts
    for command, shown in transcripts:
        command, _, head = command.partition(" | head -")
        args = shlex.split(command)[1:]
        output = CliRunner().invoke(main, args).output
        if head:
            output = "".join(output.splitlines(keepends=True)[: int(head)])
        assert output == shown, f"README transcript of `{command}` is stale"


def test_the_two_commands_are_there() -> None:
    assert "pip install . && eligibility check --nationality HN" in README
    assert "pip install '.[test]' && python -m pytest" in README
