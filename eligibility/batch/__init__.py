"""Many cases at once: JSON Lines or CSV in, JSON Lines or CSV out, in constant memory.

A JSON Lines file is cut into chunks of ``CHUNK`` bytes at line ends (one quick pass that also
counts the lines, so every row keeps its number); worker processes read their own chunks, and the
parent writes the results in input order. The workers share the classes of cases they evaluate in
full: the parent evaluates the first chunk itself before it starts them (with ``fork`` they start
with what it learned), and passes each class a worker evaluates on to the others with the next
chunks, so that no class costs a full evaluation in every worker. Standard input and CSV are read by the parent and sent
to the workers in blocks of rows. A bad row (broken JSON, an invalid field, a line longer than
``MAX_LINE`` bytes) is reported with its row number and never stops the run. A JSON line whose
shape (the line less its id, age and dates) was validated before is read without the Case model,
its own values checked (``_Shapes``); any other line, and any line those checks are not sure of,
is read by the model, so every error is the model's own.

The output file appears only when the run is complete: it is written under a temporary name in
the same directory and renamed at the end; an interrupted run removes it, and a run killed outright
(SIGKILL) leaves it to the next run on the same output, which removes it (``_AtomicOutput``). The
workers hand their output over as unnamed files, and die with the parent; a worker that dies is
seen at once, and its rows are evaluated again once (``_Workers``). ``-o`` naming the input itself
is refused before anything is read or written.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import datetime as dt
import gc
import io
import itertools
import json
import multiprocessing
import multiprocessing.connection
import os
import pickle
import re
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing import reduction
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

import orjson
from pydantic import BaseModel

from eligibility.batch.rows import MAX_LINE, csv_rows, json_lines, json_object, long_line
from eligibility.case import MAX_ID_CHARS, Case, age_on, parse_case
from eligibility.csvformat import HeaderError
from eligibility.errors import CaseError, EligibilityError, Problem
from eligibility.fast import Detail, Evaluator
from eligibility.ruleset.load import RuleSet

CHUNK = 1 << 16  # bytes of JSON Lines per task (about 300 rows)
ROWS_PER_TASK = 2000  # rows per task when the parent reads (standard input, CSV)
Format = Literal["jsonl", "csv"]
EngineName = Literal["fast", "durable"]
CSV_COLUMNS = (
    "row",
    "id",
    "policy",
    "outcome",
    "transfer_to",
    "expel_to",
    "asylum",
    "wait_in_mexico",
    "missing_facts",
    "assumed",
    "explanation",
    "rules_digest",
    "evidence",
    "caveats",
)


class BatchError(EligibilityError):
    """The batch cannot run at all (unreadable input, unwritable output)."""


@dataclass(frozen=True)
class Rejected:
    """One row that was not evaluated, and why (``place`` is ``input:row`` or ``input:row: field``)."""

    row: int
    message: str


@dataclass
class Summary:
    """What a batch did."""

    rows: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    seconds: float = 0.0
    classes: int = 0  # full evaluations (fast engine)

    @property
    def written(self) -> int:
        return self.rows - self.rejected

    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0.0
        counts = ", ".join(
            f"{k} {self.outcomes[k]:,}" for k in ("expel", "transfer", "process_in_us", "undetermined")
        )
        return (
            f"{self.rows:,} rows in {self.seconds:.2f} s ({rate:,.0f} rows/s): {counts}; "
            f"{self.rejected:,} rejected"
        )


@dataclass(frozen=True)
class Options:
    policy: str | None = None
    engine: EngineName = "fast"
    detail: Detail = "compact"
    out_format: Format = "jsonl"
    lang: str = "en"


# -- one worker ---------------------------------------------------------------------------------

_STATE: dict[str, Any] = {}


def _init(options: Options, rules: RuleSet | None, worker: bool = True) -> None:
    inherited = _STATE.get("evaluator")
    if not (
        worker and inherited is not None and _STATE.get("options") == options and _STATE["rules"] is rules
    ):
        _STATE["evaluator"] = Evaluator(options.policy, rules=rules, detail=options.detail, lang=options.lang)
        _STATE["evaluator"].sharing = True
    if "shapes" not in _STATE:
        _STATE["shapes"] = _Shapes()  # kept from run to run: it depends on the Case model alone
    _STATE["rules"] = rules
    _STATE["options"] = options
    if worker:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and stops the pool
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # and ends its workers with SIGTERM
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


ChunkResult = tuple[bytes | int, dict[str, int], list[Rejected], int, int, list[Any]]
"""(output bytes, or an open descriptor of an unnamed file holding them; counts by outcome;
rejected rows; rows seen; full evaluations; the classes so evaluated, for the other workers)"""


def _run(func: Callable[[Any], ChunkResult], arg: Any, learned: list[Any] | None = None) -> ChunkResult:
    """Run one task in a worker, first learning the classes other workers evaluated (``learned``)."""
    if learned:
        _STATE["evaluator"].learn(learned)
    return func(arg)


def _run_range(task: tuple[str, int, int, int]) -> ChunkResult:
    """Evaluate the JSON lines of bytes [start, end) of ``path``; the first is row ``first``."""
    path, start, end, first = task
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return _run_lines(list(enumerate(lines, start=first)))


def _run_lines(rows: list[tuple[int, bytes | dict[str, Any] | str]]) -> ChunkResult:
    """Evaluate rows: raw JSON lines, CSV rows read as dicts, or a message for a row already bad."""
    options: Options = _STATE["options"]
    evaluator: Evaluator = _STATE["evaluator"]
    shapes: _Shapes = _STATE["shapes"]
    out: list[bytes] = []
    counts: dict[str, int] = {}
    rejected: list[Rejected] = []
    seen = 0
    before = evaluator.evaluations
    for number, raw in rows:
        if isinstance(raw, bytes) and not raw.strip():
            continue  # a blank line is not a row
        seen += 1
        try:
            if isinstance(raw, bytes):
                case = shapes.case(raw)
            else:
                case = shapes.case_of(raw) if isinstance(raw, dict) else _case(raw)
        except CaseError as exc:
            rejected.append(Rejected(number, "; ".join(str(p).removeprefix(": ") for p in exc.problems)))
            continue
        if case.spans:  # approximate dates: every day of them is evaluated
            text, outcome = _durable_line(case, options, engine=options.engine)
            line = b'{"row":%d,%s' % (number, text[1:].encode())
        elif options.engine == "fast":
            result = evaluator.evaluate(case)
            outcome, line = result.outcome, result.to_bytes(number)
        else:
            text, outcome = _durable_line(case, options)
            line = b'{"row":%d,%s' % (number, text[1:].encode())
        counts[outcome] = counts.get(outcome, 0) + 1
        out.append(line)
    if options.out_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for line in out:
            writer.writerow(_csv_row(json.loads(line)))
        data = buffer.getvalue().encode("utf-8")
    else:
        out.append(b"")
        data = b"\n".join(out) if len(out) > 1 else b""
    return data, counts, rejected, seen, evaluator.evaluations - before, evaluator.discoveries()


def _case(raw: bytes | dict[str, Any] | str) -> Case:
    """A validated case; CaseError names the field (places are relative to the row)."""
    if isinstance(raw, str):  # a row the reader already found broken
        raise CaseError([Problem("", raw)])
    if isinstance(raw, dict):
        return parse_case(raw, source="")
    if len(raw) > MAX_LINE:
        raise CaseError([Problem("", _long(len(raw)))])
    data = json_object(raw)  # a key given twice is refused, as `check` refuses it
    if isinstance(data, str):
        raise CaseError([Problem("", data)])
    return parse_case(data, source="")


SHAPES = 5_000
"""Validated shapes kept per process (a shape is a few hundred bytes and one Case, about 2 KB)."""

_VARYING = ("id", "age", "birth_date", "claim_date", "decision_date")  # and entry.date
_ABSENT = object()
_DAY = re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _Shapes:
    """Rows read without validating every one through the Case model.

    A row's *shape* is its JSON (a CSV row: its case dict, ``case_of``) with the values that vary
    from row to row taken out (the id, the age and the four dates), and which of those it gives.
    The first row of each shape is validated by the Case model (``_case``); when it is valid and
    gives no approximate date, its Case is kept. A later row of the same shape has the same values in every other field, which
    the model validated, so only its own varying values need checking: the id a string of at
    most MAX_ID_CHARS characters or null, the age a whole number 0..130 or null, each date a day
    ``YYYY-MM-DD`` of the calendar (null allowed but for the entry date), and the checks the
    model makes across fields (``Case._check_dates``, the claim before the decision). A row
    that passes is the kept Case with its own varying values (no validator changes those values
    beyond parsing the dates); a row that does not, or whose JSON this reader does not take
    (orjson refuses it), goes through ``_case``, so its error is the model's own, word for word.
    ``tests/test_batch.py`` checks on generated and hostile rows that the two give equal Cases
    and the same errors.
    """

    def __init__(self) -> None:
        self.known: dict[tuple[bytes, int], tuple[Case, tuple[tuple[bytes, int], ...]]] = {}
        self.rows: dict[tuple[bytes, int], Case] = {}  # CSV rows (``case_of``), kept apart

    def case_of(self, row: dict[str, Any]) -> Case:
        """A CSV row read as a case dict (``rows.csv_case``), by its shape as ``case`` reads a
        JSON line (a dict cannot give a key twice, so no count of keys is needed)."""
        data = dict(row)
        if type(data.get("entry")) is dict:
            data["entry"] = dict(data["entry"])  # the row's own stays whole, for ``_case``
        given, values, entry_date = _take_varying(data)
        try:
            key = (orjson.dumps(data), given)
        except orjson.JSONEncodeError:  # pragma: no cover (cells are text, lists, dicts)
            return _case(row)
        kept = self.rows.get(key)
        if kept is not None:
            found = _vary(kept, entry_date, values)
            return found if found is not None else _case(row)
        case = _case(row)  # raises CaseError for an invalid row: its shape is not kept
        if not case.spans and _vary(case, entry_date, values) == case:
            if len(self.rows) >= SHAPES:
                self.rows.clear()
            self.rows[key] = case
        return case

    def case(self, raw: bytes) -> Case:
        if len(raw) > MAX_LINE or b"\\" in raw:  # an escape could spell a key twice unseen
            return _case(raw)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _case(raw)
        if type(data) is not dict:
            return _case(raw)
        given, values, entry_date = _take_varying(data)
        try:
            key = (orjson.dumps(data), given)
        except orjson.JSONEncodeError:  # pragma: no cover (what orjson read, it writes)
            return _case(raw)
        known = self.known.get(key)
        if known is not None:
            kept, keys = known
            # orjson keeps the last of a key given twice: a row that names a key more often
            # than its shape holds it (or holds it as a string value too) goes through the model
            found = None if any(raw.count(k) != n for k, n in keys) else _vary(kept, entry_date, values)
            if found is not None:
                return found
            return _case(raw)
        case = _case(raw)  # raises CaseError for an invalid row: its shape is not kept
        if not case.spans and _vary(case, entry_date, values) == case:
            if len(self.known) >= SHAPES:
                self.known.clear()
            varying = [n for n, v in zip(_VARYING, values, strict=True) if v is not _ABSENT]
            keys = _key_counts(data, [*varying, *(["date"] if entry_date is not _ABSENT else [])])
            # a copy of the exact size: orjson's own bytes keep room for 4 KB
            self.known[(bytes(memoryview(key[0])), given)] = (case, keys)
        return case


def _take_varying(data: dict[str, Any]) -> tuple[int, list[Any], Any]:
    """Take a row's varying values out of its dict, in place (the entry date out of its entry):
    which of ``_VARYING`` it gives (one bit each), their values (``_ABSENT`` where not given),
    and the entry date."""
    given = 0
    values: list[Any] = []
    for name in _VARYING:
        value = data.pop(name, _ABSENT)
        given = given << 1 | (value is not _ABSENT)
        values.append(value)
    entry = data.get("entry")
    return given, values, entry.pop("date", _ABSENT) if type(entry) is dict else _ABSENT


def _key_counts(data: Any, more: list[str]) -> tuple[tuple[bytes, int], ...]:
    """How often each key is written in a row of this shape: ``"key"`` once per object holding it."""
    counts = collections.Counter(more)
    stack = [data]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            counts.update(item.keys())
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return tuple((b'"' + k.encode() + b'"', n) for k, n in counts.items())


def _day(value: Any) -> dt.date | None:
    """A day written exactly YYYY-MM-DD (as the model reads it), else None."""
    if type(value) is str and len(value) == 10 and value.isascii() and _DAY.fullmatch(value.encode()):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _vary(known: Case, entry_value: Any, values: list[Any]) -> Case | None:
    """``known`` with a row's own varying values (``_VARYING``, then the entry date), if the
    model would take them as they are; None if it might not (the row then goes through it)."""
    ident, age, birth_text, claim_text, decision_text = values
    if ident is not _ABSENT and ident is not None and (type(ident) is not str or len(ident) > MAX_ID_CHARS):
        return None
    if age is not _ABSENT and age is not None and (type(age) is not int or not 0 <= age <= 130):
        return None
    entry = _day(entry_value)
    if entry is None:
        return None
    dates: list[dt.date | None] = []
    for text in (birth_text, claim_text, decision_text):
        if text is _ABSENT or text is None:
            dates.append(None)
            continue
        day = _day(text)
        if day is None:
            return None
        dates.append(day)
    birth, claim, decision = dates
    if birth is not None and (birth > entry or (type(age) is int and age_on(birth, entry) != age)):
        return None
    if (claim is not None and claim < entry) or (decision is not None and decision < entry):
        return None
    if claim is not None and decision is not None and decision < claim:
        return None
    fields = dict(known.__dict__)
    for name, value, parsed in zip(_VARYING, values, (ident, age, birth, claim, decision), strict=True):
        if value is not _ABSENT:
            fields[name] = parsed
    entry_fields = dict(known.entry.__dict__)
    entry_fields["date"] = entry
    fields["entry"] = _copy(known.entry, entry_fields)
    return _copy(known, fields)


_M = TypeVar("_M", bound=BaseModel)


def _copy(model: _M, fields: dict[str, Any]) -> _M:
    """``model`` with these field values, not validated again (what ``model_copy(update=...)``
    makes, without its bookkeeping: the fields given stay those of ``model``)."""
    made = model.__class__.__new__(model.__class__)
    object.__setattr__(made, "__dict__", fields)
    object.__setattr__(made, "__pydantic_fields_set__", model.__pydantic_fields_set__)
    object.__setattr__(made, "__pydantic_extra__", None)
    private = model.__pydantic_private__
    object.__setattr__(made, "__pydantic_private__", None if private is None else dict(private))
    return made


def _durable_line(case: Case, options: Options, engine: str = "durable") -> tuple[str, str]:
    from eligibility.api import evaluate

    rules = _STATE.get("rules")
    det = evaluate(case, options.policy, rules=rules, engine=engine, counterfactuals=False, lang=options.lang)
    data = det.model_dump(mode="json")
    if options.detail == "compact":
        for inst in data["instruments"]:
            del inst["findings"]
        del data["would_change_if"]
    return json.dumps(data, separators=(",", ":")), det.outcome  # ASCII, as the fast engine writes


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula: a CSV cell starting so is written with a
leading apostrophe, so that opening the output never runs a formula a row carried in
(OWASP's advice on CSV injection)."""


def _inert(cell: Any) -> Any:
    return "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


def _csv_row(d: dict[str, Any]) -> list[Any]:
    return [_inert(cell) for cell in _csv_cells(d)]


def _csv_cells(d: dict[str, Any]) -> list[Any]:
    wait = d["wait_in_mexico"]
    return [
        d["row"],
        d["id"] or "",
        d["policy"],
        d["outcome"],
        ";".join(d["transfer_to"]),
        ";".join(d["expel_to"]),
        d["asylum"],
        wait if isinstance(wait, str) else str(wait).lower(),
        ";".join(d["missing_facts"]),
        ";".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in d["assumed"].items()),
        " ".join(d["explanation"]),
        d["rules_digest"],
        d["evidence"],
        " | ".join(d["caveats"]),
    ]


# -- reading the input --------------------------------------------------------------------------

Task = tuple[Callable[..., ChunkResult], Any]


def _jsonl_file_tasks(path: Path) -> tuple[list[Task], int]:
    """Cut a JSON Lines file into tasks at line ends, in one pass that counts the lines.

    A line over MAX_LINE bytes becomes a task of its own that only reports it; it is never read
    into memory.
    """
    tasks: list[Task] = []
    start, start_row = 0, 1  # the next task begins at byte ``start``, row ``start_row``
    offset, last_newline, newlines = 0, -1, 0
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            first = block.find(b"\n")
            if first >= 0 and offset + first - last_newline - 1 > MAX_LINE:
                if start <= last_newline:
                    tasks.append((_run_range, (str(path), start, last_newline + 1, start_row)))
                tasks.append((_too_long, (newlines + 1, offset + first - last_newline - 1)))
                start, start_row = offset + first + 1, newlines + 2
            count = block.count(b"\n")
            if count:
                newlines += count
                last_newline = offset + block.rfind(b"\n")
                if last_newline + 1 - start >= CHUNK:
                    tasks.append((_run_range, (str(path), start, last_newline + 1, start_row)))
                    start, start_row = last_newline + 1, newlines + 1
            offset += len(block)
    tail = offset - last_newline - 1  # bytes after the last newline
    if tail > MAX_LINE:
        if start <= last_newline:
            tasks.append((_run_range, (str(path), start, last_newline + 1, start_row)))
        tasks.append((_too_long, (newlines + 1, tail)))
    elif start < offset:
        tasks.append((_run_range, (str(path), start, offset, start_row)))
    return tasks, newlines + (1 if tail else 0)


def _too_long(task: tuple[int, int]) -> ChunkResult:
    row, size = task
    return b"", {}, [Rejected(row, _long(size))], 1, 0, []


def _long(size: int) -> str:
    return long_line(size, MAX_LINE)


def _stream_tasks(stream: IO[bytes]) -> Iterator[Task]:
    """Blocks of rows from a stream of JSON lines, without ever holding a long line whole."""
    rows: list[tuple[int, bytes | dict[str, Any] | str]] = []
    for number, raw in json_lines(stream):
        rows.append((number, raw))
        if len(rows) >= ROWS_PER_TASK:
            yield (_run_lines, rows)
            rows = []
    if rows:
        yield (_run_lines, rows)


def _csv_tasks(source: Path | IO[bytes]) -> Iterator[Task]:
    """Blocks of rows from a CSV file, or from standard input as it comes."""
    rows: list[tuple[int, bytes | dict[str, Any] | str]] = []
    read = csv_rows(source)
    try:
        first = next(read, None)  # the header is checked before the first row
    except HeaderError as exc:
        raise BatchError(str(exc)) from None
    if first is not None:
        rows.append(first)
    for number, row in read:
        rows.append((number, row))
        if len(rows) >= ROWS_PER_TASK:
            yield (_run_lines, rows)
            rows = []
    if rows:
        yield (_run_lines, rows)


# -- the run ------------------------------------------------------------------------------------


def input_format(path: str, given: str | None) -> Format:
    if given:
        return "csv" if given == "csv" else "jsonl"
    return "csv" if path.lower().endswith(".csv") else "jsonl"


def run(
    source: str,
    output: str | None,
    options: Options,
    *,
    jobs: int = 1,
    in_format: Format = "jsonl",
    rules: RuleSet | None = None,
    on_reject: Callable[[Rejected], None] = lambda r: None,
    on_progress: Callable[[int, int | None], None] = lambda done, total: None,
    on_note: Callable[[str], None] = lambda message: None,
) -> Summary:
    """Evaluate every row of ``source`` ('-': standard input) into ``output`` (None: standard output).

    ``on_note`` hears what is no row's fault but worth saying: a worker process that died, and
    whose rows were evaluated again. A worker dying twice on the same rows raises
    WorkerDiedError; no output file is written then.
    """
    started = time.perf_counter()
    summary = Summary()
    total: int | None = None
    stdin = source == "-"
    if not stdin and not Path(source).is_file():
        raise BatchError(f"{source}: no such file")
    _refuse_the_input_as_output(source, output)
    _init(options, rules, worker=False)  # checks the policy before reading or writing anything
    tasks: Iterator[Task] | list[Task]
    if in_format == "csv":
        tasks = _csv_tasks(Path(source) if not stdin else sys.stdin.buffer)
    elif stdin:
        tasks = _stream_tasks(sys.stdin.buffer)
    else:
        tasks, total = _jsonl_file_tasks(Path(source))
    with _AtomicOutput(output) as out:
        if options.out_format == "csv":
            out.write((",".join(CSV_COLUMNS) + "\n").encode())

        def take(result: ChunkResult) -> None:
            text, counts, rejected, rows, classes, _ = result
            if isinstance(text, int):
                try:
                    out.append_file(text)
                finally:
                    os.close(text)
            else:
                out.write(text)
            summary.outcomes.update(counts)
            for r in rejected:
                on_reject(r)
            summary.rows += rows
            summary.rejected += len(rejected)
            summary.classes += classes
            on_progress(summary.rows, total)

        if jobs <= 1:
            for func, arg in tasks:
                take(func(arg))
        else:
            where = "stdin" if stdin else source
            _Workers(jobs, options, rules, out, where, on_note).run(tasks, take)
    summary.seconds = time.perf_counter() - started
    return summary


def _refuse_the_input_as_output(source: str, output: str | None) -> None:
    """``-o`` naming the input itself (its path, a symbolic link to it, or another hard link) would
    replace the cases with their determinations: refused before anything is read or written."""
    if output is None or output == "-":
        return
    try:
        made = os.stat(output)  # follows a symbolic link
    except (OSError, ValueError):
        return  # nothing there yet (or no such name can exist): not the input
    try:
        read = os.fstat(sys.stdin.fileno()) if source == "-" else os.stat(source)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return  # standard input that is no file (a test's buffer)
    if (made.st_dev, made.st_ino) == (read.st_dev, read.st_ino):
        which = "the file standard input reads" if source == "-" else "the input file"
        raise BatchError(f"{output}: is {which}; give the output another name")


# -- the workers --------------------------------------------------------------------------------


class WorkerDiedError(EligibilityError):
    """A worker process died twice on the same rows (killed, most likely by the kernel for want of
    memory): the run stops rather than lose those rows, and no output file is written."""


SHARED_RESULTS = 2
"""A class a worker evaluates in full goes with the tasks sent while this many results per worker
are taken after it: each worker most likely gets it (with two workers, in 15 of 16 cases), and a
worker that does not evaluates the class itself (the same determination)."""

TRIES = 2
"""Times a task is given to a worker: a worker that dies (the out-of-memory killer picks the
largest process, which may have nothing to do with its rows) has its task run again once by a
new worker; a second death on the same rows is taken as caused by them, and stops the run."""

_PASS_FILES = os.name == "posix" and reduction.HAVE_SEND_HANDLE
"""Workers hand their output over as unnamed temporary files, by descriptor (SCM_RIGHTS): the
parent appends each to the output in the kernel (os.sendfile), and no part file ever has a name
that a killed run could leave behind. Elsewhere the output comes back through the pipe."""

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass
class _Task:
    number: int  # in input order, from 1
    func: Callable[[Any], ChunkResult]
    arg: Any
    tries: int = 0


@dataclass
class _Worker:
    process: Any  # multiprocessing.process.BaseProcess
    conn: Any  # multiprocessing.connection.Connection, a socket pair on POSIX
    task: _Task | None = None


class _Workers:
    """``jobs`` worker processes, each given one task at a time through a pipe of its own, so that
    the parent always knows which rows each one holds. The parent waits on the pipes and on the
    processes' sentinels together: a worker that dies (the out-of-memory killer, a stray kill -9)
    is seen at once, its task is given again to a new worker (``TRIES``), and results are written
    in input order. The workers die with the parent: on Linux the kernel kills them
    (PR_SET_PDEATHSIG); elsewhere each notices within a second, between tasks."""

    def __init__(
        self,
        jobs: int,
        options: Options,
        rules: RuleSet | None,
        out: _AtomicOutput,
        source: str,
        on_note: Callable[[str], None],
    ) -> None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self.context: Any = multiprocessing.get_context(method)  # typeshed's BaseContext has no Process
        self.forked = method == "fork"
        self.jobs = jobs
        self.options = options
        self.rules = rules
        self.out = out
        self.source = source
        self.on_note = on_note
        self.workers: list[_Worker] = []
        self.done: dict[int, ChunkResult] = {}  # results waiting for an earlier task's

    def run(self, tasks: Iterator[Task] | list[Task], take: Callable[[ChunkResult], None]) -> None:
        tasks = iter(tasks)
        if self.forked:  # the first chunk here: the workers start with the classes it holds
            first = next(tasks, None)
            if first is None:
                return
            take(first[0](first[1]))
            second = next(tasks, None)
            if second is None:
                return  # one chunk: no workers needed
            tasks = itertools.chain([second], tasks)
        try:
            self._run(tasks, take)
        except BaseException:
            self._stop(kill=True)
            raise
        self._stop(kill=False)

    def _run(self, tasks: Iterator[Task], take: Callable[[ChunkResult], None]) -> None:
        window = 3 * self.jobs  # tasks handed out and not yet written: bounds memory and descriptors
        fresh = (_Task(number, func, arg) for number, (func, arg) in enumerate(tasks, start=1))
        again: collections.deque[_Task] = collections.deque()  # the tasks of dead workers
        recent: collections.deque[list[Any]] = collections.deque(maxlen=SHARED_RESULTS * self.jobs)
        written = handed = 0  # tasks 1..written are written; 1..handed were handed out
        exhausted = False
        for _ in range(self.jobs):
            self._start()
        while True:
            for worker in self.workers:
                if worker.task is not None:
                    continue
                task = again.popleft() if again else None
                if task is None and not exhausted and handed - written < window:
                    task = next(fresh, None)
                    exhausted = task is None
                    handed = task.number if task else handed
                if task is None:
                    break
                worker.task = task
                learned = [found for result in recent for found in result]
                with contextlib.suppress(OSError):  # it died: its sentinel says so below
                    worker.conn.send((task.func, task.arg, learned))
            busy = [w for w in self.workers if w.task is not None]
            if not busy:  # every task handed out is written: done, or rows would be lost
                if not exhausted or again or self.done:
                    raise RuntimeError(f"batch: tasks {written + 1}-{handed} were lost track of")
                return
            watched = [w.conn for w in busy] + [w.process.sentinel for w in self.workers]
            ready = multiprocessing.connection.wait(watched, timeout=1.0)
            for worker in list(self.workers):
                if worker.task is not None and (worker.conn in ready or worker.process.sentinel in ready):
                    result = self._receive(worker)
                    if result is not None:
                        self.done[worker.task.number] = result
                        worker.task = None
                if worker.process.sentinel in ready:
                    self._replace(worker, again)
            while written + 1 in self.done:
                result = self.done.pop(written + 1)
                written += 1
                take(result)
                recent.append(result[5])

    def _receive(self, worker: _Worker) -> ChunkResult | None:
        """The result of the worker's task; None if it died before giving it whole."""
        try:
            if not worker.conn.poll(0):
                return None
            kind, data, *rest = worker.conn.recv()
            if kind == "file":
                data = reduction.recv_handle(worker.conn)
        except (EOFError, OSError):
            return None
        if kind == "error":  # the task failed in the worker: the run stops with its error
            raise data
        return (data, *rest)

    def _replace(self, worker: _Worker, again: collections.deque[_Task]) -> None:
        """A worker died: its task goes again to a new worker, or, the second time, stops the run."""
        self.workers.remove(worker)
        worker.process.join(5)
        worker.conn.close()
        task = worker.task
        if task is not None:
            task.tries += 1
            rows, how = self._rows(task), _death(worker.process.exitcode)
            if task.tries >= TRIES:
                raise WorkerDiedError(
                    f"{rows}: a worker process died on these rows {task.tries} times ({how}); the run is stopped"
                )
            self.on_note(f"{rows}: a worker process died ({how}); these rows are evaluated again")
            again.append(task)
        self._start()

    def _rows(self, task: _Task) -> str:
        """``input:first-last``, the rows of a task."""
        try:
            if task.func is _run_range:
                path, start, end, first = task.arg
                with open(path, "rb") as handle:
                    handle.seek(start)
                    data = handle.read(end - start)
                last = first + data.count(b"\n") - (1 if data.endswith(b"\n") else 0)
            elif task.func is _too_long:
                first = last = task.arg[0]
            else:
                first, last = task.arg[0][0], task.arg[-1][0]
        except (OSError, TypeError, IndexError, ValueError):
            return f"{self.source}: task {task.number}"
        return f"{self.source}:{first}" if first == last else f"{self.source}:{first}-{last}"

    def _start(self) -> None:
        ours, theirs = self.context.Pipe(duplex=True)
        # a forked worker lets go of what is the parent's alone: the other workers' pipes, the output
        drop = [w.conn.fileno() for w in self.workers] + [ours.fileno(), *self.out.descriptors()]
        process = self.context.Process(
            target=_serve,
            args=(
                theirs,
                os.getpid(),
                self.options,
                self.rules,
                self.out.parts_where(),
                drop if self.forked else [],
            ),
            daemon=True,
        )
        # ^C or SIGTERM while a worker is being forked would leave it behind: hold the signals until
        # it stands (the worker unblocks them), then they stop it cleanly.
        held = {signal.SIGINT, signal.SIGTERM}
        blocked = (
            signal.pthread_sigmask(signal.SIG_BLOCK, held) if hasattr(signal, "pthread_sigmask") else None
        )
        freeze = False
        try:
            self.out.flush()  # a forked worker must hold no output the parent has not written
            freeze = self.forked and gc.get_freeze_count() == 0
            if freeze:  # what the worker inherits stays out of its collections (see _serve)
                gc.freeze()
            process.start()
        finally:
            if freeze:
                gc.unfreeze()
            if blocked is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)  # a held signal lands here
            theirs.close()
        self.workers.append(_Worker(process, ours))

    def _stop(self, kill: bool) -> None:
        """End the workers: asked to (their work done), or killed (the run failed or was stopped);
        every wait is bounded."""
        for worker in self.workers:
            if kill:
                worker.process.kill()
            else:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
        for worker in self.workers:
            worker.process.join(5)
            if worker.process.exitcode is None:
                worker.process.kill()
                worker.process.join(5)
            worker.conn.close()
        self.workers = []
        for text, *_ in self.done.values():
            if isinstance(text, int):
                os.close(text)
        self.done = {}


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}" + (", perhaps for want of memory" if -code == signal.SIGKILL else "")
    return f"exit code {code}"


def _serve(
    conn: Any, parent: int, options: Options, rules: RuleSet | None, parts: str | None, drop: list[int]
) -> None:
    """A worker: evaluate the tasks the parent sends, until it sends None or is gone."""
    with open(os.devnull, "rb") as null:
        for fd in drop:  # the numbers stay taken (the parent's objects may still name them)
            with contextlib.suppress(OSError):
                os.dup2(null.fileno(), fd, inheritable=False)
    _follow(parent)
    # Forked, the worker shares the parent's objects (the rules, the classes evaluated so far)
    # page by page until it writes to them; the cyclic collector writes to every object it
    # examines, which would copy those pages. They were frozen before the fork: stay so.
    _init(options, rules)
    while True:
        try:
            while not conn.poll(1.0):
                if os.getppid() != parent:
                    return  # the parent is gone (where the kernel does not end us with it)
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        func, arg, learned = message
        try:
            text, *rest = _run(func, arg, learned)
            part = _part(text, parts) if text and _PASS_FILES and isinstance(text, bytes) else None
        except Exception as exc:  # the parent stops the run with it (a full disk, too)
            conn.send(("error", _portable(exc), None, None, None, None))
            continue
        if part is None:
            conn.send(("bytes", text, *rest))
            continue
        with part:
            conn.send(("file", None, *rest))
            reduction.send_handle(conn, part.fileno(), parent)


def _part(text: bytes, where: str | None) -> IO[bytes]:
    """An unnamed temporary file holding ``text`` (O_TMPFILE where the system has it)."""
    part = tempfile.TemporaryFile(dir=where)  # noqa: SIM115 (returned open, closed by the caller)
    try:
        part.write(text)
        part.flush()
    except BaseException:
        part.close()
        raise
    return part


def _follow(parent: int) -> None:
    """Die with the parent: on Linux the kernel sends SIGKILL when it dies (PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)


def _portable(exc: Exception) -> Exception:
    """The exception itself if it can cross the pipe, else its words in a RuntimeError."""
    try:
        pickle.dumps(exc)
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


# -- the output ---------------------------------------------------------------------------------

_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


class _AtomicOutput:
    """A file that appears under its name only when complete; standard output when no name.

    It is written as ``.NAME.HOST-PID.XXXXXXXX.partial`` next to NAME, and renamed at the end. A
    run killed outright (SIGKILL) leaves that file behind: the next run on the same output
    removes it, when HOST is this machine and no process PID lives (a live run's file is kept).
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.temp: str | None = None
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> _AtomicOutput:
        if self.path is None or self.path == "-":
            self.handle = sys.stdout.buffer
            return self
        target = Path(self.path)
        if target.is_dir():
            raise BatchError(f"{self.path}: is a directory; give the output file's name")
        _remove_stale(target)
        try:
            fd, self.temp = tempfile.mkstemp(
                prefix=f".{target.name}.{_HOST}-{os.getpid()}.", suffix=".partial", dir=target.parent or "."
            )
        except OSError as exc:
            raise BatchError(f"{self.path}: cannot write here ({exc.strerror})") from None
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.temp, 0o666 & ~umask)  # as an ordinary new file would be
        self.handle = os.fdopen(fd, "wb", buffering=1 << 20)
        return self

    def write(self, data: bytes) -> None:
        assert self.handle is not None
        self.handle.write(data)

    def flush(self) -> None:
        assert self.handle is not None
        self.handle.flush()
        if self.temp is None:
            sys.stdout.flush()

    def parts_where(self) -> str | None:
        """Where the workers' unnamed part files go: the output's file system, which has room for it."""
        return str(Path(self.path).parent) if self.temp and self.path else None

    def descriptors(self) -> list[int]:
        """What a worker must not hold: the partial file (standard output is shared)."""
        return [self.handle.fileno()] if self.temp and self.handle else []

    def append_file(self, fd: int) -> None:
        """Append an open file, copied by the kernel (no copy through Python where it can)."""
        assert self.handle is not None
        self.handle.flush()
        size = os.fstat(fd).st_size
        done = 0
        try:
            target = self.handle.fileno()
            while done < size:
                sent = os.sendfile(target, fd, done, size - done)
                if sent == 0:
                    break
                done += sent
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass  # no descriptor, or no sendfile to this kind of output
        while done < size:  # copy the rest
            data = os.pread(fd, min(size - done, 1 << 20), done)
            if not data:
                break
            self.handle.write(data)
            done += len(data)

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        assert self.handle is not None
        if self.temp is None:
            self.handle.flush()
            return
        self.handle.close()
        if kind is None:
            try:
                os.replace(self.temp, str(self.path))
            except OSError as exc:  # e.g. a directory created at that name meanwhile
                os.unlink(self.temp)
                raise BatchError(f"{self.path}: cannot write the output there ({exc.strerror})") from None
        else:
            os.unlink(self.temp)


def _remove_stale(target: Path) -> None:
    """Remove the partial files that killed runs left for ``target``: named for this host and a
    process that no longer lives. A file of a live run, of another host or of another form is kept."""
    if os.name != "posix":  # os.kill(pid, 0) tests a process only on POSIX
        return
    form = re.compile(
        re.escape(f".{target.name}.") + r"(?P<host>[A-Za-z0-9-]+)-(?P<pid>[0-9]+)\.[a-z0-9_]+\.partial"
    )
    try:
        entries = list(os.scandir(target.parent or "."))
    except OSError:
        return
    for entry in entries:
        found = form.fullmatch(entry.name)
        if found and found["host"] == _HOST and not _alive(int(found["pid"])):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process, alive
    try:  # a zombie is dead, only not yet reaped
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return True
