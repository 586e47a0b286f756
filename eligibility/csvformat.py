"""The CSV layout of cases (``eligibility batch``, ``diff --population``, ``simulate --population``
and the columnar engine read it alike): a header of case fields, ``entry.*`` dotted; a list field
split on ``;``; ``null`` for a value given as unknown.

One reading of a file's lines and cells for every reader: the row path builds a case per row
(``eligibility.batch.rows``), the columnar engine whole columns (``eligibility.columnar``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import IO, Any

from eligibility.ruleset.facts import FLAGS

LIST_FIELDS = frozenset({"nationalities", "fear_established_in", "transit", "family_in_us"})
BOOL_FIELDS = frozenset({"unaccompanied", "family_unit", "trafficking_victim", "public_interest", *FLAGS})
# FLAGS: entry.appointment, cbp_one_unavailable, medical_emergency, ...

CELL_LIMIT = 1 << 20
"""Characters a cell may hold (the csv module's own limit is 131,072): a longer one is its row's error."""

_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, read with surrogateescape


class HeaderError(ValueError):
    """A CSV header no row can be read with (a whole batch stops, exit 2)."""


def header_problem(header: list[str]) -> str | None:
    """Why a CSV header cannot be read: a column named twice, or a column and one of its own
    fields (``entry`` and ``entry.date``), which would silently overwrite each other."""
    names = [h.strip() for h in header]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return f"column '{name}' appears twice"
        seen.add(name)
    for name in names:
        if "." in name and name.split(".", 1)[0] in seen:
            return f"columns '{name.split('.', 1)[0]}' and '{name}' give the same field twice"
    return None


def records(handle: IO[str], name: str) -> tuple[list[str], Iterator[tuple[int, list[str] | str]]]:
    """The stripped column names, and (line number, cells) for each line that is not blank, or
    (line number, why it is not read) for a line that is not UTF-8 text or has more cells than
    the header names. HeaderError for a header no row can be read with; no header, no rows."""
    csv.field_size_limit(max(csv.field_size_limit(), CELL_LIMIT))
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise HeaderError(f"{name}: header: malformed CSV: {exc}") from None
    if header is None:
        return [], iter(())
    problem = header_problem(header)
    if problem is not None:
        raise HeaderError(f"{name}: header: {problem}")
    columns = [h.strip() for h in header]

    def lines() -> Iterator[tuple[int, list[str] | str]]:
        number = 1  # the header's
        while True:
            number += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # a cell over the field limit...: that row only
                yield number, f"malformed CSV: {exc}"
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if any(_NOT_UTF8.search(cell) for cell in cells):
                yield number, "not UTF-8 text"
            elif len(cells) > len(columns):
                yield number, f"{len(cells)} cells, but the header names {len(columns)} columns"
            else:
                yield number, cells

    return columns, lines()


def cell_value(column: str, cell: str) -> Any:
    """The value of one CSV cell (already stripped) of ``column``: ``null`` is None, a list field
    splits on ``;`` (``transit`` items may be ``country:protection``, ``family_in_us`` items
    ``relation:status``), a yes/no field is ``true`` or ``false`` (ValueError otherwise), ``age`` a
    whole number (ValueError otherwise); other cells stay text."""
    if cell.lower() == "null":
        return None
    if column in LIST_FIELDS:
        items = [i.strip() for i in cell.split(";") if i.strip()]
        if column == "transit":
            return [_pair(i, "country", "protection") if ":" in i else i for i in items]
        if column == "family_in_us":
            return [_pair(i, "relation", "status", column) for i in items]
        return items
    if column in BOOL_FIELDS:
        if cell.lower() not in ("true", "false"):
            raise ValueError(f"{column}: '{cell}' is not true or false")
        return cell.lower() == "true"
    if column == "age":
        try:
            return int(cell)
        except ValueError:
            raise ValueError(f"age: '{cell}' is not a whole number") from None
    return cell


def _pair(item: str, first: str, second: str, column: str = "transit") -> dict[str, str]:
    """``first:second`` as a mapping; the whole of what follows the first colon is ``second`` (so
    that ``spouse:foo:citizen`` is refused by the case model, as ``check`` refuses it)."""
    left, sep, right = item.partition(":")
    if not sep or not left.strip() or not right.strip():
        raise ValueError(f"{column}: '{item}' should be {first}:{second}")
    return {first: left.strip(), second: right.strip()}
