"""Golden cases: expected determinations, written from the law, run against a rule set.

A golden file is a YAML list of cases (the format of ``tests/golden/FORMAT.md``): each has a
``name``, the public ``source`` of its expectation, a ``policy``, a ``case`` and what to ``expect``
of the determination (any subset of its headline fields, ``caveats_contain`` and instrument
statuses). ``eligibility test PATH...`` runs them, as ``opa test`` or ``openfisca test`` run
theirs; the project's own golden tests and the examples use the same runner.

``load_golden`` reads and checks the files (a problem is ``file:line:col: message``, raised as
``GoldenFileError``); ``run_golden`` evaluates every case and returns one ``Failure`` per field
that differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eligibility.api import evaluate, load_rules
from eligibility.errors import CaseError, EligibilityError, Problem
from eligibility.ruleset.load import RuleSet
from eligibility.yamlsource import Document, load_yaml

EXACT_KEYS = ("outcome", "transfer_to", "expel_to", "asylum", "wait_in_mexico", "missing_facts", "evidence")
"""The determination's fields an expectation compares as they are (``missing_facts`` sorted)."""

MAX_BYTES = 4 * 1024 * 1024
"""The largest golden file read (the project's largest is under 200 KB)."""

Status = Literal["applies", "excepted", "not_applicable", "not_in_force", "undetermined"]


class GoldenFileError(EligibilityError):
    """Golden files that cannot be run: every problem, each ``file:line:col: message``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Expect(BaseModel):
    """What a golden case expects of its determination (any subset of the keys)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: Literal["transfer", "process_in_us", "expel", "undetermined"] | None = None
    transfer_to: list[str] | None = None
    expel_to: list[str] | None = None
    asylum: Literal["eligible", "barred", "not_in_us", "undetermined"] | None = None
    wait_in_mexico: bool | Literal["undetermined"] | None = None
    missing_facts: list[str] | None = None
    evidence: Literal["primary", "secondary", "unverified"] | None = None
    caveats_contain: list[str] | None = Field(None, description="each string appears in some caveat")
    instruments: dict[str, Status] | None = Field(None, description="instrument id -> status")


class GoldenCase(BaseModel):
    """One golden case, with where it is written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    source: str = Field(min_length=1, description="the public legal sources of the expectation")
    policy: str
    case: dict[str, Any]
    expect: Expect
    status: Literal["provisional"] | None = None
    note: str | None = None
    file: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Failure:
    """One expected field that the determination does not have (``got`` and ``expected`` as JSON)."""

    case: GoldenCase
    field: str
    got: Any
    expected: Any

    def __str__(self) -> str:
        return f"{self.case.where}: {self.case.name}: {self.field}: got {_shown(self.got)}, expected {_shown(self.expected)}"


def golden_files(paths: Iterable[str | Path]) -> list[Path]:
    """The golden files named: files as given, directories' ``*.yaml`` (not recursive), sorted."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.glob("*.yaml") if p.is_file())
        else:
            found.append(path)
    return found


def load_golden(paths: Iterable[str | Path]) -> list[GoldenCase]:
    """Every golden case of ``paths`` (files or directories); GoldenFileError lists all problems."""
    cases: list[GoldenCase] = []
    problems: list[Problem] = []
    names: dict[str, str] = {}
    files = golden_files(paths)
    if not files:
        raise GoldenFileError([Problem("", "no golden files (*.yaml) in the paths given")])
    for file in files:
        shown = str(file)
        try:
            with open(file, "rb") as stream:
                data = stream.read(MAX_BYTES + 1)
        except OSError as exc:
            problems.append(Problem(shown, f"cannot read: {exc.strerror}"))
            continue
        if len(data) > MAX_BYTES:
            problems.append(Problem(shown, f"larger than {MAX_BYTES // (1024 * 1024)} MB (not read)"))
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                Problem(shown, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})")
            )
            continue
        doc, found = load_yaml(text, shown)
        problems += found
        if doc is None or found:
            continue
        if not isinstance(doc.data, list):
            problems.append(Problem(str(doc.at(())), "a golden file is a list of cases"))
            continue
        for i, item in enumerate(doc.data):
            case = _golden_case(doc, i, item, problems)
            if case is None:
                continue
            if case.name in names:
                problems.append(Problem(case.where, f"the name is used twice (first at {names[case.name]})"))
            names.setdefault(case.name, case.where)
            cases.append(case)
    if problems:
        raise GoldenFileError(problems)
    return cases


def _golden_case(doc: Document, i: int, item: object, problems: list[Problem]) -> GoldenCase | None:
    where = doc.at((i,))
    if not isinstance(item, dict):
        problems.append(
            Problem(str(where), "a golden case is a mapping (name, source, policy, case, expect)")
        )
        return None
    try:
        case = GoldenCase.model_validate({**item, "file": doc.file, "line": where.line})
    except ValidationError as exc:
        for err in exc.errors():
            path = tuple(err["loc"])
            place = doc.at((i, *path, "__key__") if err["type"] == "extra_forbidden" else (i, *path))
            problems.append(Problem(str(place), f"{'.'.join(map(str, path))}: {err['msg']}"))
        return None
    expect = case.expect
    for key in ("transfer_to", "expel_to", "missing_facts"):
        value = getattr(expect, key)
        if value is not None and value != sorted(value):
            problems.append(Problem(str(doc.at((i, "expect", key))), f"expect.{key}: list it sorted"))
    if not expect.model_dump(exclude_none=True):
        problems.append(Problem(str(doc.at((i, "expect"))), "expect: expects nothing"))
    if case.status == "provisional" and not case.note:
        problems.append(Problem(str(where), "status: provisional needs a note saying why"))
    return case


def check_cases(cases: Sequence[GoldenCase], rules: RuleSet) -> None:
    """GoldenFileError if a case names a policy the rules lack or is not a valid case."""
    from eligibility.case import parse_case

    problems: list[Problem] = []
    for case in cases:
        if case.policy not in rules.policies:
            known = ", ".join(sorted(rules.policies))
            problems.append(Problem(case.where, f"policy: unknown policy '{case.policy}' (known: {known})"))
        try:
            parse_case(case.case, source=f"{case.where}: case")
        except CaseError as exc:
            problems += exc.problems
        for iid in case.expect.instruments or {}:
            if iid not in rules.instruments:
                problems.append(Problem(case.where, f"expect.instruments: unknown instrument '{iid}'"))
    if problems:
        raise GoldenFileError(problems)


def run_case(case: GoldenCase, rules: RuleSet, engine: str = "durable") -> list[Failure]:
    """The fields of ``case``'s determination that differ from what it expects."""
    got = evaluate(case.case, case.policy, rules=rules, engine=engine, counterfactuals=False)
    data = got.model_dump(mode="json")
    expect = case.expect
    failures: list[Failure] = []
    for key in EXACT_KEYS:
        wanted = getattr(expect, key)
        if wanted is None:
            continue
        value = data.get(key)
        if key == "missing_facts":  # listed sorted in the file; the determination lists the first split first
            value = sorted(value or [])
        if value != wanted:
            failures.append(Failure(case, key, value, wanted))
    caveats = data.get("caveats") or []
    for fragment in expect.caveats_contain or []:
        if not any(fragment in caveat for caveat in caveats):
            failures.append(Failure(case, "caveats", f"no caveat containing {fragment!r}", fragment))
    statuses = {i["id"]: i["status"] for i in data.get("instruments") or []}
    for iid, status in (expect.instruments or {}).items():
        if statuses.get(iid) != status:
            failures.append(Failure(case, f"instruments.{iid}", statuses.get(iid), status))
    return failures


@dataclass(frozen=True)
class Report:
    """The result of a run: every case, and the failures."""

    cases: tuple[GoldenCase, ...]
    failures: tuple[Failure, ...]

    @property
    def failed(self) -> int:
        return len({id(f.case) for f in self.failures})

    def summary(self) -> str:
        files = len({c.file for c in self.cases})
        provisional = sum(c.status == "provisional" for c in self.cases)
        note = f" ({provisional} provisional)" if provisional else ""
        return (
            f"{len(self.cases)} golden cases in {files} file{'s' if files != 1 else ''}{note}: "
            f"{len(self.cases) - self.failed} passed, {self.failed} failed"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": len(self.cases),
            "passed": len(self.cases) - self.failed,
            "failed": self.failed,
            "failures": [
                {
                    "file": f.case.file,
                    "line": f.case.line,
                    "name": f.case.name,
                    "field": f.field,
                    "got": f.got,
                    "expected": f.expected,
                }
                for f in self.failures
            ],
        }


def run_golden(
    paths: Iterable[str | Path], rules: RuleSet | str | Path | None = None, engine: str = "durable"
) -> Report:
    """Load the golden files of ``paths`` and run every case against ``rules`` (a RuleSet, or a
    rules directory laid over the shipped rules, or None for the shipped rules)."""
    ruleset = (
        rules if isinstance(rules, RuleSet) else load_rules(rules, extend=True) if rules else load_rules()
    )
    cases = load_golden(paths)
    check_cases(cases, ruleset)
    failures: list[Failure] = []
    for case in cases:
        failures += run_case(case, ruleset, engine)
    return Report(tuple(cases), tuple(failures))


def _shown(value: Any) -> str:
    import json

    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
