"""Many cases at once: JSON Lines or CSV in, JSON Lines or CSV out, in constant memory.

A JSON Lines file is cut into chunks of ``CHUNK`` bytes at line ends (one quick pass that also
counts the lines, so every row keeps its number); worker processes read their own chunks, and the
parent writes the results in input order. The workers share the classes of cases they evaluate in
full: the parent evaluates the first chunk itself before it starts them (with ``fork`` they start
with what it learned), and passes each class a worker evaluates on to the others with the next
chunks, so that no class costs a full evaluation in every worker. Standard input and CSV are read by the parent and sent
to the workers in blocks of rows. A bad row (broken JSON, an invalid field, a line longer than
``MAX_LINE`` bytes) is reported with its row number and never stops the run.

The output file appears only when the run is complete: it is written under a temporary name in
the same directory and renamed at the end; an interrupted run removes it.
"""

from __future__ import annotations

import collections
import csv
import io
import itertools
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import ValidationError

from eligibility.batch.rows import HeaderError, csv_rows
from eligibility.case import Case, parse_case
from eligibility.errors import CaseError, EligibilityError, Problem
from eligibility.fast import Detail, Evaluator
from eligibility.ruleset.load import RuleSet

MAX_LINE = 1 << 20  # bytes: a longer line is rejected unread
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
    _STATE["rules"] = rules
    _STATE["options"] = options
    if worker:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and stops the pool
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # and ends its workers with SIGTERM
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


ChunkResult = tuple[bytes | str, dict[str, int], list[Rejected], int, int, list[Any]]
"""(output bytes, or the path of a part file holding them; counts by outcome; rejected rows; rows
seen; full evaluations; the classes so evaluated, for the other workers)"""


def _run(
    func: Callable[[Any], ChunkResult], arg: Any, part: str | None, learned: list[Any] | None = None
) -> ChunkResult:
    """Run one task in a worker, first learning the classes other workers evaluated (``learned``);
    with ``part``, its output goes to that file, not back through the pipe (the parent then
    appends the file to the output in the kernel, without copying it through Python)."""
    if learned:
        _STATE["evaluator"].learn(learned)
    text, *rest = func(arg)
    if part is None or not text:
        return (text, *rest)  # type: ignore[return-value]
    with open(part, "wb") as handle:
        handle.write(text if isinstance(text, bytes) else text.encode())
    return (part, *rest)  # type: ignore[return-value]


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
            case = _case(raw)
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
    try:
        return Case.model_validate_json(raw)
    except ValidationError:
        pass  # say why, in the words `check` uses
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CaseError([Problem("", f"malformed JSON: {exc.msg} (column {exc.colno})")]) from None
    except UnicodeDecodeError:
        raise CaseError([Problem("", "malformed JSON: not UTF-8 text")]) from None
    except RecursionError:
        raise CaseError([Problem("", "malformed JSON: nested too deeply")]) from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise CaseError([Problem("", "malformed JSON: a number too long to read")]) from None
    if not isinstance(data, dict):
        raise CaseError([Problem("", "a case must be a JSON object")])
    return parse_case(data, source="")


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
    return f"line of {size:,} bytes, over the {MAX_LINE:,}-byte limit"


def _stream_tasks(stream: IO[bytes]) -> Iterator[Task]:
    """Blocks of rows from a stream of JSON lines, without ever holding a long line whole."""
    rows: list[tuple[int, bytes | dict[str, Any] | str]] = []
    number = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            break
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            size = len(raw)
            while (more := stream.readline(MAX_LINE)) and not more.endswith(b"\n"):
                size += len(more)
            size += len(more.rstrip(b"\n"))
            rows.append((number, _long(size)))
        else:
            rows.append((number, raw.rstrip(b"\r\n")))
        if len(rows) >= ROWS_PER_TASK:
            yield (_run_lines, rows)
            rows = []
    if rows:
        yield (_run_lines, rows)


def _csv_tasks(path: Path) -> Iterator[Task]:
    rows: list[tuple[int, bytes | dict[str, Any] | str]] = []
    read = csv_rows(path)
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
) -> Summary:
    """Evaluate every row of ``source`` ('-': standard input) into ``output`` (None: standard output)."""
    started = time.perf_counter()
    summary = Summary()
    total: int | None = None
    stdin = source == "-"
    if not stdin and not Path(source).is_file():
        raise BatchError(f"{source}: no such file")
    _init(options, rules, worker=False)  # checks the policy before reading or writing anything
    tasks: Iterator[Task] | list[Task]
    if in_format == "csv":
        tasks = _csv_tasks(Path(source)) if not stdin else _csv_stdin_tasks()
    elif stdin:
        tasks = _stream_tasks(sys.stdin.buffer)
    else:
        tasks, total = _jsonl_file_tasks(Path(source))
    with _AtomicOutput(output) as out:
        if options.out_format == "csv":
            out.write((",".join(CSV_COLUMNS) + "\n").encode())

        def take(result: ChunkResult) -> None:
            text, counts, rejected, rows, classes, _ = result
            if isinstance(text, str):
                out.append_file(text)
                os.unlink(text)
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
            _run_pool(tasks, jobs, options, rules, take, out.parts_dir())
    summary.seconds = time.perf_counter() - started
    return summary


def _csv_stdin_tasks() -> Iterator[Task]:
    with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as copy:
        copy.write(sys.stdin.buffer.read())
    try:
        yield from _csv_tasks(Path(copy.name))
    finally:
        os.unlink(copy.name)


def _run_pool(
    tasks: Iterator[Task] | list[Task],
    jobs: int,
    options: Options,
    rules: RuleSet | None,
    take: Callable[[ChunkResult], None],
    parts: str,
) -> None:
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    tasks = iter(tasks)
    if method == "fork":  # the first chunk here: the workers start with the classes it holds
        first = next(tasks, None)
        if first is None:
            return
        take(first[0](first[1]))
        second = next(tasks, None)
        if second is None:
            return  # one chunk: no workers needed
        tasks = itertools.chain([second], tasks)
    window = 3 * jobs  # tasks in flight: bounds memory whatever the input size
    # ^C or SIGTERM while the workers are being forked would leave half a pool behind: hold the
    # signals until it stands (the workers unblock them), then they stop it cleanly.
    held = {signal.SIGINT, signal.SIGTERM}
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, held) if hasattr(signal, "pthread_sigmask") else None
    try:
        pool = context.Pool(jobs, initializer=_init, initargs=(options, rules))
    except BaseException:
        if blocked is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        raise
    inflight: list[Any] = []
    recent: collections.deque[list[Any]] = collections.deque(maxlen=SHARED_RESULTS * jobs)
    try:
        if blocked is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)  # a held signal lands here, or later
        for number, (func, arg) in enumerate(tasks, start=1):
            part = os.path.join(parts, f"{number}.part")
            learned = [found for result in recent for found in result]
            inflight.append(pool.apply_async(_run, (func, arg, part, learned)))
            while len(inflight) >= window:
                recent.append(_take_one(inflight, take))
        while inflight:
            _take_one(inflight, take)
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.close()
        pool.join()


SHARED_RESULTS = 2
"""A class a worker evaluates in full goes with the tasks sent while this many results per worker
are taken after it: each worker most likely gets it (with two workers, in 15 of 16 cases), and a
worker that does not evaluates the class itself (the same determination)."""


def _take_one(inflight: list[Any], take: Callable[[ChunkResult], None]) -> list[Any]:
    """Take the oldest task's result; returns the classes its worker evaluated in full."""
    result: ChunkResult = inflight.pop(0).get()
    take(result)
    return result[5]


class _AtomicOutput:
    """A file that appears under its name only when complete; standard output when no name."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.temp: str | None = None
        self.handle: IO[bytes] | None = None
        self.parts: str | None = None

    def __enter__(self) -> _AtomicOutput:
        if self.path is None or self.path == "-":
            self.handle = sys.stdout.buffer
            return self
        target = Path(self.path)
        if target.is_dir():
            raise BatchError(f"{self.path}: is a directory; give the output file's name")
        try:
            fd, self.temp = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".partial", dir=target.parent or "."
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

    def parts_dir(self) -> str:
        """A private directory for the workers' part files, on the output's file system."""
        if self.parts is None:
            where = Path(self.path).parent if self.temp and self.path else None
            self.parts = tempfile.mkdtemp(prefix=".eligibility-parts-", dir=where)
        return self.parts

    def append_file(self, path: str) -> None:
        """Append a part file, copied by the kernel (no copy through Python where it can)."""
        assert self.handle is not None
        self.handle.flush()
        with open(path, "rb") as source:
            size = os.fstat(source.fileno()).st_size
            done = 0
            try:
                target = self.handle.fileno()
                while done < size:
                    sent = os.sendfile(target, source.fileno(), done, size - done)
                    if sent == 0:
                        break
                    done += sent
            except (OSError, ValueError, AttributeError):  # no descriptor, or no os.sendfile here
                pass
            if done < size:  # no sendfile to this kind of output: copy the rest
                source.seek(done)
                shutil.copyfileobj(source, self.handle)

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        assert self.handle is not None
        if self.parts is not None:
            shutil.rmtree(self.parts, ignore_errors=True)
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
