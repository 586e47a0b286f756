"""Reading many cases: JSON Lines or CSV (the case format, `eligibility schema case`), row by row, never losing a row."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from eligibility.case import DuplicateKeyError, json_object_strict
from eligibility.csvformat import cell_value, records

MAX_LINE = 1 << 20
"""Bytes: a longer JSON line is reported by its size, and never held whole."""


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(row number, case dict) for each row, or (row number, error message) for a broken one."""
    file = Path(path)
    if file.suffix.lower() == ".csv":
        yield from csv_rows(file)
    else:
        with file.open("rb") as lines:
            for number, raw in json_lines(lines):
                yield number, raw if isinstance(raw, str) else json_object(raw)


def json_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | str]]:
    """(row number, line) for each line that is not blank, or (row number, why it is not read)
    for a line over MAX_LINE bytes, which is skipped without being held whole."""
    number = 0
    while raw := stream.readline(MAX_LINE + 1):
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            size = len(raw)
            while (more := stream.readline(MAX_LINE)) and not more.endswith(b"\n"):
                size += len(more)
            size += len(more.rstrip(b"\n"))
            yield number, long_line(size, MAX_LINE)
        elif raw.strip():
            yield number, raw.rstrip(b"\r\n")


def long_line(size: int, limit: int) -> str:
    return f"line of {size:,} bytes, over the {limit:,}-byte limit"


def json_object(raw: bytes) -> dict[str, Any] | str:
    """The JSON object a line holds, or why it holds none: whatever the line holds (bytes that are
    not UTF-8, nesting deeper than Python recurses, an integer of more digits than it converts, a
    value that is not an object, a key given twice in one object), the answer is one of the two."""
    try:
        data = json_object_strict(raw)
    except DuplicateKeyError as exc:
        return str(exc)
    except json.JSONDecodeError as exc:
        return f"malformed JSON: {exc.msg} (column {exc.colno})"
    except UnicodeDecodeError:
        return "malformed JSON: not UTF-8 text"
    except RecursionError:
        return "malformed JSON: nested too deeply"
    except ValueError:  # an integer of more digits than Python converts (4,300)
        return "malformed JSON: a number too long to read"
    return data if isinstance(data, dict) else "a case must be a JSON object"


def csv_rows(file: Path | IO[bytes], name: str | None = None) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(row number, case dict), or (row number, why the row is broken): a row that is not UTF-8
    text or has more cells than the header is reported, and the others are read. ``file`` is a
    path or a binary stream (standard input, read as it comes); ``name`` names it in errors."""
    # a byte-order mark is not a column's name; bytes that are not UTF-8 are kept (as lone
    # surrogates) so that only their row is refused
    if isinstance(file, Path):
        with file.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            yield from _csv_rows(handle, name or str(file))
        return
    stream = io.TextIOWrapper(file, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        yield from _csv_rows(stream, name or "stdin")
    finally:
        stream.detach()  # the stream stays open: it is not ours


def _csv_rows(handle: IO[str], name: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    columns, lines = records(handle, name)
    for number, cells in lines:
        if isinstance(cells, str):
            yield number, cells
            continue
        yield number, csv_case(columns, cells)


def csv_case(columns: list[str], cells: list[str]) -> dict[str, Any] | str:
    """A CSV row's cells as a case dict (an empty cell is an omitted field), or why a cell cannot
    be read (a yes/no or age cell that is not one)."""
    case: dict[str, Any] = {}
    try:
        for column, cell in zip(columns, cells, strict=False):
            if not column or cell == "":
                continue
            _put(case, column, cell_value(column, cell.strip()))
    except ValueError as exc:
        return str(exc)
    return case


def _put(case: dict[str, Any], column: str, value: Any) -> None:
    if "." in column:
        head, tail = column.split(".", 1)
        case.setdefault(head, {})[tail] = value
    else:
        case[column] = value
