"""Reading many cases: JSON Lines or CSV (the case format, `eligibility schema case`), row by row, never losing a row."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eligibility.ruleset.facts import FLAGS

LIST_FIELDS = {"nationalities", "fear_established_in", "transit", "family_in_us"}
BOOL_FIELDS = {
    "unaccompanied",
    "family_unit",
    "trafficking_victim",
    "public_interest",
    *FLAGS,  # entry.appointment, cbp_one_unavailable, medical_emergency, ...
}


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(row number, case dict) for each row, or (row number, error message) for a broken one."""
    file = Path(path)
    if file.suffix.lower() == ".csv":
        yield from csv_rows(file)
    else:
        with file.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, f"malformed JSON: {exc.msg}"
                    continue
                yield (number, data) if isinstance(data, dict) else (number, "a case must be a JSON object")


def csv_rows(file: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with file.open(encoding="utf-8-sig", newline="") as handle:  # a byte-order mark is not a column's name
        for number, row in enumerate(csv.DictReader(handle), start=2):
            case: dict[str, Any] = {}
            try:
                for column, cell in row.items():
                    if column is None or cell is None or cell == "":
                        continue
                    _put(case, column.strip(), _cell(column.strip(), cell.strip()))
            except ValueError as exc:
                yield number, str(exc)
                continue
            yield number, case


def _cell(column: str, cell: str) -> Any:
    if cell.lower() == "null":
        return None
    if column in LIST_FIELDS:
        items = [i.strip() for i in cell.split(";") if i.strip()]
        if column == "transit":
            return [
                {"country": i.split(":")[0], "protection": i.split(":")[1]} if ":" in i else i for i in items
            ]
        if column == "family_in_us":
            return [{"relation": i.split(":")[0], "status": i.split(":")[-1]} for i in items]
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


def _put(case: dict[str, Any], column: str, value: Any) -> None:
    if "." in column:
        head, tail = column.split(".", 1)
        case.setdefault(head, {})[tail] = value
    else:
        case[column] = value
