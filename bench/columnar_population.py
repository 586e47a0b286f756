"""A large realistic population in the CSV batch layout, as whole columns (for bench_columnar.py).

The rows are drawn (with numpy, seeded) from a pool of ``bench_batch.make_case`` cases: the
southern border's nationalities and demographics of FY2019 (``bench_batch``); with ``rich``, also
birth dates in place of ages now and then, fields left out now and then (unknown facts),
documents, claim dates, habitual residence, fear established, trafficking and family in the U.S. Each drawn row's
dates are then moved together by one random number of days, so that the entry dates spread over
2018-01-01 to 2026-12-31 (every period the rules tell apart: the ACAs, Title 42, the 2023
rule, the policies after it) while the row stays consistent (decision and claim after entry, the
age at entry as given).

``make_columns(rows, seed)`` returns, per column, numpy codes (-1: empty cell) and the distinct
cells; ``to_arrow`` makes a pyarrow Table of dictionary columns from it, ``to_dict`` a mapping of
lists (small populations only).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np

import bench_batch

FIRST, LAST = dt.date(2018, 1, 1), dt.date(2026, 12, 31)
DATES = ("entry.date", "birth_date", "claim_date", "decision_date")


def cells_of(case: dict[str, Any]) -> dict[str, str]:
    """A case dict as one CSV row (an omitted field is an empty cell)."""

    def text(name: str, value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            if not value:
                return " "  # read as the empty list
            if name == "transit":
                return ";".join(v if isinstance(v, str) else f"{v['country']}:{v['protection']}" for v in value)
            if name == "family_in_us":
                return ";".join(f"{v['relation']}:{v['status']}" for v in value)
            return ";".join(value)
        return str(value)

    out: dict[str, str] = {}
    for name, value in case.items():
        if name == "entry":
            out.update({f"entry.{k}": text(k, v) for k, v in value.items()})
        elif name != "id":
            out[name] = text(name, value)
    return out


def make_columns(
    rows: int, seed: int = 1, pool: int = 20_000, rich: bool = False
) -> dict[str, tuple[np.ndarray, list[str]]]:
    rng = random.Random(seed)
    cases = [cells_of(bench_batch.make_case(rng, n, rich=rich)) for n in range(pool)]
    names = sorted({n for c in cases for n in c})
    gen = np.random.default_rng(seed)
    drawn = gen.integers(0, pool, rows)
    entry_pool = np.array([dt.date.fromisoformat(c["entry.date"]).toordinal() for c in cases])
    target = gen.integers(FIRST.toordinal(), LAST.toordinal() + 1, rows)
    shift = target - entry_pool[drawn]
    out: dict[str, tuple[np.ndarray, list[str]]] = {}
    for name in names:
        values = [c.get(name, "") for c in cases]
        if name in DATES:
            days = np.array([dt.date.fromisoformat(v).toordinal() if v else 0 for v in values])
            given = days[drawn] > 0
            moved = np.where(given, days[drawn] + shift, 0)
            distinct, codes = np.unique(moved, return_inverse=True)
            cells = ["" if d == 0 else dt.date.fromordinal(int(d)).isoformat() for d in distinct]
            codes = np.where(given, codes.reshape(-1), -1)
            if cells and cells[0] == "":
                codes = np.where(codes >= 0, codes - 1, -1)
                cells = cells[1:]
            out[name] = (codes.astype(np.int32), cells)
            continue
        distinct_cells = sorted(set(values) - {""})
        index = {v: i for i, v in enumerate(distinct_cells)}
        pool_codes = np.array([index.get(v, -1) for v in values], dtype=np.int32)
        out[name] = (pool_codes[drawn], distinct_cells)
    return out


def to_arrow(columns: dict[str, tuple[np.ndarray, list[str]]]) -> Any:
    import pyarrow as pa

    arrays = {}
    for name, (codes, cells) in columns.items():
        indices = pa.array(codes, mask=codes < 0, type=pa.int32())
        arrays[name] = pa.DictionaryArray.from_arrays(indices, pa.array(cells, type=pa.string()))
    return pa.table(arrays)


def to_dict(columns: dict[str, tuple[np.ndarray, list[str]]]) -> dict[str, list[str]]:
    out = {}
    for name, (codes, cells) in columns.items():
        table = np.array([*cells, ""], dtype=object)
        out[name] = table[codes].tolist()
    return out
