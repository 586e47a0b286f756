"""The columnar engine: the headlines of a whole population at once.

A population is a table in the CSV batch layout (``eligibility.batch.rows``: one column per case
field, dotted for the entry, ``entry.date``; the list fields ``nationalities``, ``transit``,
``fear_established_in`` and ``family_in_us`` as ``;``-separated items; an empty cell is an omitted
field and ``null`` an unknown one). :func:`evaluate_frame` takes it as a pandas DataFrame, a polars
DataFrame, a pyarrow Table, or a mapping of column name to a sequence or numpy array, and returns
one :class:`ColumnarResult`: per row a class id, and per class the headline, the evidence and, on
demand, the explained determination.

How (every step but the last over whole columns, with numpy):

1. *Codes.* Each column is factorized (its distinct cells; free for pyarrow dictionary columns and
   pandas categoricals). Each distinct cell is read once as the row path reads it (its value, or
   why it is not a valid value): the categorical fields become a code per distinct value; the
   dates become day numbers, and the entry date, the age at entry (from the birth date, computed
   on whole columns), the decision date and the days from entry to claim are placed between the
   cut points of the policy's rules (``fast.cut_points``: every rule's test is constant between two
   of them) with ``searchsorted``, each distinct cell once, then gathered per row. The entry date is also placed between the dates from which a
   country became party to a treaty (the transit facts read them).
2. *Classes.* Each fact the rules read is classed under every test of the rules
   (``Evaluator._classify``), once per distinct combination of the fields it is derived from
   (the transit facts: also the entry date's class between treaty dates); a one-field group's
   facts once per value of the field. Rows alike in the classes of every fact and date are one
   *distinct row*; the rest of this step runs on the distinct rows alone. Where every fact the
   rules test is known, a row's class is the truth of every rule (each group of rules testing the
   same facts evaluated, by a function compiled for it alone, once per distinct combination of
   the classes of those facts) and, where a destination rule holds, the facts that name the
   countries of expulsion: the fast path's class key. Elsewhere it is the class of every fact.
   Codes are packed into one integer and renumbered densely whenever the next would not fit.
   ``coarse=False`` keys by the fast path's finer case key instead (fields read exactly).
3. *Per class.* A class by truths gets its headline from the truths, without a Case: each
   instrument's status from its rules by role, over every class at once (numpy), and the
   screening (``decide.decide``) once per distinct statuses and countries of expulsion. Any
   other class: one representative row is read into a ``Case`` and evaluated by the fast path's
   ``Evaluator`` (``eligibility.fast``). The evidence and explanation of a class are found on
   demand (``result.evidence``, ``explain``), from its representative row.
4. *Broadcast.* Each row takes its class's answer (``result.outcome`` and the other columns).

What a table finds is kept per policy for the next table (bounded like the fast path's caches):
the facts of a group's cells, a rule group's truths for the facts it tests, the headline of each
statuses and countries of expulsion.

Why this is exact: the class id reads every field exactly as the fast path's case key does
(``Evaluator._case_key``): the categorical fields exactly (an omitted field and ``null`` apart),
dates and ages as classes between the same cut points, which fields are given, and the transit
facts through the transit, the nationalities, the habitual residence and the entry date's class
between the treaty dates (the only way the date enters them). Two rows of one class therefore have
the same case key, and the fast path gives every case of one case key the same determination
apart from the values it shows (id, dates, ages). Where every fact the rules test is known, the
fast path settles a case as one region, decided by ``decide`` on the statuses the truths give: the
headline of a class by truths is that (its statuses and countries of expulsion are all ``decide``
reads). ``tests/test_columnar.py`` checks the headlines
and evidence against the fast path and durable-rules on generated populations of every policy.

Rows that are not valid cases are never dropped: each is reported (``result.rejected``) with the
message the row path gives (``batch`` and ``check``). Cells are checked once per distinct value
and rows across fields (dates in order, an entry's facts consistent) on whole columns; a row
found wrong, or with a date given approximately (``2019-12``, a range), is read by the row path
itself (the ``Case`` model), so its message, or its answer, is the row path's.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from eligibility.case import FIELD_NAMES, MAX_ID_CHARS, Case, entry_conflict, parse_case, parse_span
from eligibility.csvformat import HeaderError, cell_value, header_problem, records
from eligibility.engine.decide import Headline
from eligibility.errors import CaseError, EligibilityError
from eligibility.explain.determination import Determination
from eligibility.fast import CASE_KEYS, Evaluator, cut_points
from eligibility.memo import make_room
from eligibility.ruleset.conditions import compile_truths
from eligibility.ruleset.load import RuleSet, default_rules

__all__ = [
    "COLUMNS",
    "ColumnarError",
    "ColumnarResult",
    "Columns",
    "CsvPopulation",
    "cell_value",
    "evaluate_frame",
    "evaluate_policies",
    "outcome_code",
    "read_columns",
    "read_csv",
]

Codes = npt.NDArray[np.signedinteger[Any]]
"""Per row codes (-1: none), 32 or 64 bits (a column read from Arrow keeps its own indices)."""

COLUMNS: tuple[str, ...] = FIELD_NAMES
"""The columns a population may have (the CSV batch layout): every case field, ``entry.*`` dotted."""

DATE_FIELDS = ("entry.date", "birth_date", "claim_date", "decision_date")

_PACK_LIMIT = 1 << 22
"""Packed codes are renumbered densely before they would exceed this (bincount over this many)."""


class ColumnarError(EligibilityError):
    """A table no row can be read from: a column named twice, a column and one of its own fields
    (``entry`` and ``entry.date``), columns of different lengths, or a type that is not a table."""


def outcome_code(head: Headline) -> str:
    """A short, stable code for a headline (``simulate``'s ``outcome_code``): ``transfer.GT``,
    ``expel.MX``, ``process_in_us.barred.mpp``, ``process_in_us.eligible``, ``undetermined``."""
    if head.outcome == "transfer":
        return "transfer." + "+".join(head.transfer_to)
    if head.outcome == "expel":
        return "expel." + "+".join(head.expel_to)
    if head.outcome != "process_in_us":
        return "undetermined"
    wait = {True: ".mpp", "undetermined": ".mpp_undetermined"}.get(head.wait_in_mexico, "")
    return f"process_in_us.{head.asylum}{wait}"


# --- cells, as the row path reads them --------------------------------------------------------------


def _text(value: object) -> str:
    """A cell of a table as CSV text: missing values (None, NaN, NaT, pandas' NA) are the empty
    cell, yes/no values ``true``/``false``, whole numbers their digits (a float column holding whole
    numbers too: pandas keeps an integer column with gaps as floats), dates ISO (a date and time at
    midnight as its date)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if value != value:  # NaN
            return ""
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return "" if np.isnat(value) else _text(value.astype("datetime64[us]").item())
    text = str(value)
    return "" if text in ("<NA>", "NaT", "nan") else text


def _row_case(cells: Mapping[str, str]) -> Case | str:
    """A row read by the row path: the Case, or the message ``batch`` gives for it."""
    data: dict[str, Any] = {}
    try:
        for column, cell in cells.items():
            if not column or cell == "":
                continue
            value = cell_value(column, cell.strip())
            if "." in column:
                head, tail = column.split(".", 1)
                data.setdefault(head, {})[tail] = value
            else:
                data[column] = value
    except ValueError as exc:
        return str(exc)
    try:
        return parse_case(data, source="")
    except CaseError as exc:
        return "; ".join(str(p).removeprefix(": ") for p in exc.problems)


# --- reading a table into codes -------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    codes: Codes  # per row: index into cells, -1 for a missing value
    cells: list[str]  # the distinct cells, as CSV text
    texts: Any = None  # the id column: not factorized (every id may differ); its values by row


def _id_column(values: Any, rows: int) -> _Column:
    """The id column: only whether a row gives an id counts, and whether it is one (at most
    ``MAX_ID_CHARS`` characters, encodable): codes 0 (an id), 1 (not one), -1 (none given)."""
    module = type(values).__module__.split(".")[0]
    if module == "pyarrow":
        texts = values.to_pylist()
    elif module in ("pandas", "polars"):
        texts = values.to_list()
    else:
        texts = list(values)
    codes = np.empty(rows, dtype=np.int64)
    for i, value in enumerate(texts):
        cell = _text(value)
        if cell == "":
            codes[i] = -1
            continue
        text = cell.strip()
        try:
            text.encode("utf-8")
            codes[i] = 0 if len(text) <= MAX_ID_CHARS or text.lower() == "null" else 1
        except UnicodeEncodeError:
            codes[i] = 1
    return _Column(codes, ["id", "!"], texts)


def _factorize_values(values: Any) -> tuple[Codes, list[Any]]:
    """Codes (-1: missing) and distinct values of a numpy array or a sequence."""
    array = values if isinstance(values, np.ndarray) else None
    if array is not None and array.dtype.kind in "biu":
        uniques, inverse = np.unique(array, return_inverse=True)
        return inverse.astype(np.int64).reshape(-1), uniques.tolist()
    if array is not None and array.dtype.kind == "M":
        days = array.astype("datetime64[D]")
        nat = np.isnat(days)
        uniques, inverse = np.unique(days[~nat], return_inverse=True)
        codes = np.full(len(days), -1, dtype=np.int64)
        codes[~nat] = inverse.reshape(-1)
        return codes, [u.item() for u in uniques]
    index: dict[Any, int] = {}
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values.tolist() if array is not None else values):
        if v is None:
            out[i] = -1
            continue
        try:
            found = index.get(v)
        except TypeError:  # not hashable (a list): as text
            v = ";".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
            found = index.get(v)
        if found is None:
            found = index[v] = len(index)
        out[i] = found
    return out, list(index)


def _module(name: str) -> Any:
    """An optional library, imported only when a table of its own is given (untyped here)."""
    import importlib

    return importlib.import_module(name)


def _from_arrow(column: Any) -> tuple[Codes, list[Any]]:
    pa, pc = _module("pyarrow"), _module("pyarrow.compute")

    if isinstance(column, pa.ChunkedArray):
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        column = column.unify_dictionaries()
        chunks = column.chunks
        if not chunks:
            return np.empty(0, dtype=np.int64), []
        dictionary = chunks[0].dictionary
        if len(chunks) == 1:  # its indices as they are (not copied)
            indices = chunks[0].indices
        else:
            indices = pa.chunked_array([c.indices for c in chunks]).combine_chunks()
    else:
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        dictionary, indices = column.dictionary, column.indices
    return _arrow_indices(indices), dictionary.to_pylist()


def _arrow_indices(indices: Any) -> Codes:
    """A pyarrow array of dictionary indices as codes (-1: null), read from its buffers (no
    compute kernel, no allocation from arrow's memory pool)."""
    length, offset = len(indices), indices.offset
    buffers = indices.buffers()
    if buffers[1] is None:
        return np.full(length, -1, dtype=np.int64)
    kind = "i" if _module("pyarrow").types.is_signed_integer(indices.type) else "u"
    width = indices.type.bit_width // 8
    data = np.frombuffer(buffers[1], dtype=f"<{kind}{width}", count=offset + length)[offset:]
    # signed 32 or 64 bits: the buffer itself (read-only, never copied); else widened
    codes: Codes = data if kind == "i" and width >= 4 else data.astype(np.int32 if width < 4 else np.int64)
    if indices.null_count:
        valid = np.unpackbits(np.frombuffer(buffers[0], dtype=np.uint8), bitorder="little")
        codes = np.where(valid[offset : offset + length].view(bool), codes, -1)
    return codes


def _from_pandas(series: Any) -> tuple[Codes, list[Any]]:
    pd = _module("pandas")
    if isinstance(series.dtype, pd.CategoricalDtype):
        return np.asarray(series.cat.codes, dtype=np.int64), list(series.cat.categories)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), list(uniques)


def _from_polars(series: Any) -> tuple[Codes, list[Any]]:
    pl = _module("polars")
    if series.dtype not in (pl.Categorical,) and not isinstance(series.dtype, pl.Enum):
        if series.dtype != pl.String:
            series = series.cast(pl.String) if series.dtype != pl.Boolean else series
            if series.dtype == pl.Boolean:
                series = series.replace_strict({True: "true", False: "false"}, return_dtype=pl.String)
        series = series.cast(pl.Categorical)
    physical = series.to_physical()
    distinct = series.drop_nulls().unique()
    keys = distinct.to_physical().to_numpy().astype(np.int64)
    if not len(keys):
        return np.full(len(series), -1, dtype=np.int64), []
    lut = np.full(int(keys.max()) + 2, -1, dtype=np.int64)
    lut[keys] = np.arange(len(keys))
    raw = physical.fill_null(-1).to_numpy().astype(np.int64)
    return lut[raw], distinct.cast(pl.String).to_list()


def _one_column(values: Any) -> bool:
    if isinstance(values, (list, tuple)):
        return True
    if isinstance(values, np.ndarray):
        return values.ndim == 1
    return (
        type(values).__module__.split(".")[0] in ("pandas", "polars", "pyarrow")
        and len(getattr(values, "shape", (0,))) == 1
    )


def _table(frame: Any) -> tuple[list[str], int, dict[str, tuple[Codes, list[Any]] | _Column]]:
    """The column names, the number of rows, and each column factorized (the id column read as it is)."""
    module = type(frame).__module__.split(".")[0]
    out: dict[str, tuple[Codes, list[Any]] | _Column] = {}
    if module == "pyarrow":
        names = [str(n) for n in frame.column_names]
        rows = frame.num_rows
        for i, name in enumerate(names):
            column = frame.column(i)
            out[name] = _id_column(column, rows) if name.strip() == "id" else _from_arrow(column)
    elif module == "polars":
        names = list(frame.columns)
        rows = frame.height
        for name in names:
            column = frame.get_column(name)
            out[name] = _id_column(column, rows) if name.strip() == "id" else _from_polars(column)
    elif module == "pandas":
        names = [str(n) for n in frame.columns]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise ColumnarError(f"column '{dup}' appears twice")
        rows = len(frame)
        for i, name in enumerate(names):
            column = frame.iloc[:, i]
            out[name] = _id_column(column, rows) if name.strip() == "id" else _from_pandas(column)
    elif isinstance(frame, Mapping):
        names = [str(n) for n in frame]
        for name, values in frame.items():
            if not _one_column(values):
                raise ColumnarError(
                    f"column '{name}': a column is a list, a tuple, a one-dimensional array or a Series,"
                    f" not {type(values).__name__}"
                )
        lengths = {len(values) for values in frame.values()}
        if len(lengths) > 1:
            raise ColumnarError(
                f"the columns have different lengths ({', '.join(map(str, sorted(lengths)))})"
            )
        rows = lengths.pop() if lengths else 0
        for name, values in frame.items():
            out[str(name)] = (
                _id_column(values, rows) if str(name).strip() == "id" else _factorize_values(values)
            )
    else:
        raise ColumnarError(
            f"a population is a pandas or polars DataFrame, a pyarrow Table or a mapping of columns, not {type(frame).__name__}"
        )
    return names, rows, out


@dataclass(frozen=True)
class Columns:
    """A table read into codes (:func:`read_columns`), ready for any policy of one rule set."""

    rules: RuleSet
    rows: int
    columns: dict[str, _Column]
    seconds: float  # reading and factorizing


def read_columns(frame: Any, *, rules: RuleSet | None = None) -> Columns:
    """Read a population (see the module) into codes once, to evaluate it under several policies
    (``evaluate_frame(read_columns(frame), policy)``). Raises ColumnarError for a table no row can
    be read from."""
    started = time.perf_counter()
    names, rows, raw = _table(frame)
    stripped = [n.strip() for n in names]
    problem = header_problem(names)
    if problem is not None:
        raise ColumnarError(problem)
    columns: dict[str, _Column] = {}
    for name, strip in zip(names, stripped, strict=True):
        read = raw[name]
        if isinstance(read, _Column):
            columns[strip] = read
            continue
        codes, values = read
        cells = [_text(v) for v in values]
        empty = [i for i, c in enumerate(cells) if c == ""]
        if empty:  # an empty cell is a missing one
            lut = np.arange(len(cells) + 1, dtype=np.int64) - 1
            lut[np.array(empty) + 1] = -1
            codes = lut[codes + 1]
        columns[strip] = _Column(codes, cells)
    return Columns(rules or default_rules(), rows, columns, time.perf_counter() - started)


# --- the codes of the case key --------------------------------------------------------------------

_ANCHOR = {"entry": {"date": "2000-01-01"}}


_FORMS: dict[tuple[str, str], tuple[bool, Any]] = {}
"""What ``_field_value`` found for a column's cell (for every later table; bounded)."""


def _field_value(column: str, cell: str) -> tuple[bool, Any]:
    """Whether a non-date cell is a valid value of its field on its own, and a hashable form of the
    value the Case holds (two cells with the same form give the same field); each cell read once
    (kept in ``_FORMS``)."""
    found = _FORMS.get((column, cell))
    if found is None:
        found = _read_field_value(column, cell)
        make_room(_FORMS, CASE_KEYS)
        _FORMS[column, cell] = found
    return found


def _read_field_value(column: str, cell: str) -> tuple[bool, Any]:
    try:
        value = cell_value(column, cell.strip())
    except ValueError:
        return False, None
    data: dict[str, Any] = {"entry": dict(_ANCHOR["entry"])}
    if "." in column:
        data["entry"][column.split(".", 1)[1]] = value
    else:
        data[column] = value
    try:
        case = parse_case(data, source="")
    except CaseError:
        return False, None
    dumped = case.model_dump(mode="json", exclude_unset=True)
    held = dumped["entry"].get(column[6:]) if column.startswith("entry.") else dumped.get(column)
    return True, json.dumps(held, sort_keys=True)


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_value(cell: str) -> tuple[str, dt.date | None]:
    """('date', day), ('null', None), ('span', None) for an approximate date, or ('bad', None)."""
    text = cell.strip()
    if text.lower() == "null":
        return "null", None
    if _ISO.match(text):
        try:
            return "date", dt.date.fromisoformat(text)
        except ValueError:
            return "bad", None
    try:
        return ("span", None) if parse_span(text) is not None else ("bad", None)
    except ValueError:
        return "bad", None


@dataclass
class _Dates:
    """A date column, per distinct cell (index 0: the cell missing): its state (0 omitted, 1 null,
    2 a day), day number (ordinal), year and month*100+day, and whether it is wrong or
    approximate (read by the row path); ``cell`` gathers a per-cell array per row."""

    given: bool
    at: Codes | None  # per row: the code of its cell, -1 missing (None: no such column)
    state: Codes
    days: Codes
    year: Codes
    monthday: Codes
    wrong: npt.NDArray[np.bool_]
    rows: int

    def cell(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if self.at is None:  # no such column: every row alike (read-only, no per-row array)
            return np.broadcast_to(_narrow(values[:1]), (self.rows,))
        return _by_code(values)[self.at]


_INT32 = 1 << 31


def _narrow(lut: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A table of 64-bit integers as 32 bits when its values fit (what is gathered per row from
    it then takes half the memory, and packs faster)."""
    if (
        lut.dtype.kind == "i"
        and lut.dtype.itemsize > 4
        and (not len(lut) or -_INT32 <= lut.min() <= lut.max() < _INT32)
    ):
        return lut.astype(np.int32)
    return lut


def _small(lut: Codes, card: int) -> Codes:
    """A table of codes below ``card`` in the fewest bits that hold them (8 or 16 when they fit):
    the per-row codes gathered from it then take a quarter or half the memory of 32 bits, and
    the fresh memory a first table touches is what its time goes to. Only for codes that are
    packed (``_classes``, which widens them) or compared, never multiplied in their own type."""
    kind = np.int8 if card <= 1 << 7 else np.int16 if card <= 1 << 15 else np.int32
    return lut.astype(kind) if lut.dtype != kind else lut


def _by_code(lut: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A table by cell index (0: the cell missing, then the cells) made one to index by code
    (-1: missing, the last entry): ``_by_code(lut)[codes] == lut[codes + 1]``, one pass less
    (and 32 bits where the values fit)."""
    return _narrow(np.concatenate([lut[1:], lut[:1]]))


_DATE_CELLS: dict[str, tuple[int, int, int, int, int]] = {}
"""Per date cell: its state (0 omitted, 1 null, 2 a day), day number, year, month*100+day and
whether it is wrong or approximate (for every later table; bounded)."""


def _date_cell(cell: str) -> tuple[int, int, int, int, int]:
    found = _DATE_CELLS.get(cell)
    if found is None:
        kind, day = _date_value(cell)
        if kind == "null":
            found = (1, 0, 0, 0, 0)
        elif kind == "date" and day is not None:
            found = (2, day.toordinal(), day.year, day.month * 100 + day.day, 0)
        else:  # approximate, or not a date
            found = (0, 0, 0, 0, 1)
        make_room(_DATE_CELLS, 4 * CASE_KEYS)
        _DATE_CELLS[cell] = found
    return found


def _dates(column: _Column | None, rows: int) -> _Dates:
    table = np.zeros((1 if column is None else len(column.cells) + 1, 5), dtype=np.int64)
    if column is not None and column.cells:
        each = itertools.chain.from_iterable(map(_date_cell, column.cells))
        table[1:] = np.fromiter(each, dtype=np.int64, count=5 * len(column.cells)).reshape(-1, 5)
    state, days, year, monthday, wrong = table.T.copy()
    at = None if column is None else column.codes.astype(np.intp, copy=False)  # gathered several times
    return _Dates(column is not None, at, state, days, year, monthday, wrong.astype(bool), rows)


def _ordinals(values: Iterable[dt.date]) -> npt.NDArray[np.int64]:
    return np.array([d.toordinal() for d in values], dtype=np.int64)


@dataclass
class _Keyed:
    """Every row's class (before renumbering) and what the rows need besides."""

    parts: list[tuple[Codes, int]]  # (codes, how many) per component
    fallback: npt.NDArray[np.bool_]  # rows read by the row path (wrong somewhere, or approximate dates)
    fields: dict[str, tuple[Codes, int]]  # per categorical column: the code of the value the Case holds
    dates: list[tuple[Codes, int]]  # the classes of the entry date, age, decision date and claim delay
    treaty: Codes  # the entry date's class between the treaty dates
    # per row the values of the date and age facts: the entry and decision dates (day numbers),
    # the age at entry and the days from entry to claim (meaningful where known)
    values: dict[str, Any] = field(default_factory=dict)  # an array, or what ``_values_at`` reads
    # per fact derived from a group of fields (``_fact_parts``): per row the group's combination,
    # and the fact's value in each combination
    derived: dict[str, tuple[Codes, list[Any]]] = field(default_factory=dict)
    # per fact derived from a group of several fields: its code per combination, the combination
    # per row, and how many codes
    fact_luts: dict[str, tuple[Codes, Codes, int]] = field(default_factory=dict)
    # per categorical column: a cell of each value code (0: the empty cell)
    cells: dict[str, list[str]] = field(default_factory=dict)


def _components(columns: Columns, bounds: dict[str, tuple[Any, ...]], fine: bool = True) -> _Keyed:
    """Per row the codes of the fine class (the fast path's case key: ``parts``; with ``fine``
    False only what the coarse class is made from), and whether the row path reads it."""
    rows = columns.rows
    cols = columns.columns
    fallback = np.zeros(rows, dtype=bool)
    parts: list[tuple[Codes, int]] = []
    known = set(COLUMNS)
    for name, given in cols.items():
        if name and name not in known:  # an unknown field: wrong wherever it is given
            fallback |= given.codes >= 0
    # categorical fields: one code per distinct value the Case holds (omitted: 0)
    values: dict[str, npt.NDArray[np.int64]] = {}  # per column, lut of its cells -> value code
    held: dict[str, list[Any]] = {}
    texts: dict[str, list[str]] = {}
    fields: dict[str, tuple[Codes, int]] = {}
    for name in COLUMNS:
        column = cols.get(name)
        if column is None or name in DATE_FIELDS:
            continue
        if name == "id":  # only whether it is given counts (and whether it is an id)
            at = column.codes + 1
            fallback |= at == 2
            parts.append(((at > 0).view(np.int8), 2))
            continue
        forms: dict[Any, int] = {}
        lut = np.zeros(len(column.cells) + 1, dtype=np.int64)
        bad = np.zeros(len(column.cells) + 1, dtype=bool)
        for i, cell in enumerate(column.cells, start=1):
            ok, form = _field_value(name, cell)
            if not ok:
                bad[i] = True
                continue
            lut[i] = forms.setdefault(form, len(forms) + 1)
        held[name] = [None, *forms]
        texts[name] = [""] * (len(forms) + 1)
        for i in range(len(column.cells), 0, -1):
            texts[name][lut[i]] = column.cells[i - 1]
        texts[name][0] = ""
        if bad.any():
            fallback |= _by_code(bad)[column.codes]
        values[name] = lut
        if len(forms) > 0:
            parts.append((_small(_by_code(lut), len(forms) + 1)[column.codes], len(forms) + 1))
            fields[name] = parts[-1]
    # an entry's facts consistent (the distinct combinations, once each)
    entry_names = ("entry.border", "entry.place", "entry.state", "entry.appointment")
    if any(n in cols for n in entry_names):
        combo: Codes | None = None
        size = 1
        for n in entry_names:
            if n in cols:
                card = len(held[n])
                if combo is not None:
                    combo = _times(combo, card, size)  # a new array
                    if n in fields:
                        combo += fields[n][0]
                elif n in fields:
                    combo = fields[n][0]
                size *= card
        if combo is None:
            combo = np.zeros(rows, dtype=np.int32)
        distinct = (
            np.flatnonzero(np.bincount(combo, minlength=size)) if size <= _PACK_LIMIT else np.unique(combo)
        )
        wrong = []
        for code in distinct.tolist():
            facts: list[Any] = []
            rest = code
            for n in reversed(entry_names):
                if n in cols:
                    card = len(held[n])
                    form = held[n][rest % card]
                    rest //= card
                    facts.append(None if form is None else json.loads(form))
                else:
                    facts.append(None)
            border, place, state, appointment = reversed(facts)
            if entry_conflict(border, place, state, appointment) is not None:
                wrong.append(code)
        if wrong and size <= _PACK_LIMIT:
            conflict = np.zeros(size, dtype=bool)
            conflict[wrong] = True
            fallback |= conflict[combo]
        elif wrong:
            fallback |= np.isin(combo, np.array(wrong, dtype=np.int64))
    # dates: each distinct cell read once (its day number, class, ...), then gathered per row
    entry = _dates(cols.get("entry.date"), rows)
    birth = _dates(cols.get("birth_date"), rows)
    claim = _dates(cols.get("claim_date"), rows)
    decision = _dates(cols.get("decision_date"), rows)
    for d in (birth, claim):
        if d.given:
            fallback |= d.cell(d.wrong)
    E = entry.cell(entry.days)  # 0 where not a day (a day's number is at least 1)
    fallback |= E == 0  # the entry date is required, and never unknown
    birth_state: Any = birth.cell(birth.state) if birth.given else 0
    claim_state: Any = claim.cell(claim.state) if claim.given else 0
    if birth.given:
        fallback |= (birth_state == 2) & (birth.cell(birth.days) > E)
    if claim.given:
        claim_days = claim.cell(claim.days)
        fallback |= (claim_state == 2) & (claim_days < E)
    if decision.given:  # per cell: its day, -1 when wrong, past every day when omitted or null
        latest = np.iinfo(np.int32).max
        check = np.where(decision.wrong, -1, np.where(decision.state == 2, decision.days, latest))
        fallback |= decision.cell(check) < E
        if claim.given or fine:
            decision_state = decision.cell(decision.state)
        if claim.given:
            decision_days = decision.cell(decision.days)
            fallback |= (claim_state == 2) & (decision_state == 2) & (decision_days < claim_days)
    # the entry date between every date cut of the rules and of the treaty table
    treaty = {
        since for parties in columns.rules.context.treaties.parties.values() for since in parties.values()
    }
    cuts = _ordinals(sorted(set(bounds["*date"]) | treaty))
    parts.append(
        (entry.cell(_small(np.searchsorted(cuts, entry.days, side="right"), len(cuts) + 1)), len(cuts) + 1)
    )
    dates = [parts[-1]]
    treaty_class = entry.cell(
        _small(np.searchsorted(_ordinals(sorted(treaty)), entry.days, side="right"), len(treaty) + 1)
    )
    # the age at entry: from the birth date when given, else the age given
    age_col = cols.get("age")
    age_state: Any = 0  # 0 omitted, 1 null, 2 a number
    age_value: Any = 0
    if age_col is not None:
        numbers = np.zeros(len(age_col.cells) + 1, dtype=np.int64)
        states = np.zeros(len(age_col.cells) + 1, dtype=np.int64)
        for i, form in enumerate(held["age"][1:], start=1):
            number = json.loads(form)
            states[i], numbers[i] = (1, 0) if number is None else (2, number)
        lut = fields["age"][0] if "age" in fields else np.zeros(rows, dtype=np.int64)
        if birth.given:
            age_state, age_value = states[lut], numbers[lut]
    age_cuts = np.array(bounds["age_at_entry"], dtype=np.int64)
    if birth.given:
        from_birth = (
            entry.cell(entry.year)
            - birth.cell(birth.year)
            - (entry.cell(entry.monthday) < birth.cell(birth.monthday))
        )
        has_birth = birth_state == 2
        fallback |= has_birth & (age_state == 2) & (age_value != from_birth)
        age = np.where(has_birth, from_birth, age_value)
        age_known = has_birth | (age_state == 2)
        age_class = np.where(age_known, np.searchsorted(age_cuts, age, side="right") + 1, 0)
    elif age_col is not None:  # the classes of each distinct age, gathered
        lut_class = np.where(states == 2, np.searchsorted(age_cuts, numbers, side="right") + 1, 0)
        age_class = _small(lut_class, len(age_cuts) + 2)[lut]
        age = (numbers, lut)  # per row when asked for (``_distinct``)
    else:
        age_class = np.broadcast_to(np.int32(0), (rows,))
        age = age_class
    parts.append((age_class, len(age_cuts) + 2))
    dates.append(parts[-1])
    if birth.given and fine:  # which of the age and birth date are given (else the age's own codes say it)
        parts.append((np.asarray(age_state * 3 + birth_state, dtype=np.int64), 9))
    # the decision date (the entry date when omitted) and the days from entry to claim
    decision_cuts = _ordinals(bounds["decision_date"])
    by_entry = entry.cell(np.searchsorted(decision_cuts, entry.days, side="right") + 1)
    if decision.given:  # per cell its class (-1: omitted, the entry date's then)
        by_decision = decision.cell(
            np.where(
                decision.state == 0,
                -1,
                np.where(
                    decision.state == 1, 0, np.searchsorted(decision_cuts, decision.days, side="right") + 1
                ),
            )
        )
        decision_class = np.where(by_decision < 0, by_entry, by_decision)
        # the decision date, or the entry date when omitted (per row when asked for)
        day: Any = (_by_code(decision.days), _by_code(decision.state), decision.at, E)
        if fine:
            parts.append((decision_class * 3 + decision_state, 3 * (len(decision_cuts) + 2)))
    else:  # the entry date's class says it
        decision_class, day = by_entry, E
    dates.append((decision_class, len(decision_cuts) + 2))
    day_cuts = np.array(bounds["days_from_entry_to_claim"], dtype=np.int64)
    if claim.given:
        waited = np.where(claim_state == 2, claim_days - E, 0)
        claim_class = np.where(claim_state == 1, 0, np.searchsorted(day_cuts, waited, side="right") + 1)
        if fine:
            parts.append((claim_class * 3 + claim_state, 3 * (len(day_cuts) + 2)))
    else:  # no claim date: the entry date stands in, every row alike
        waited = np.broadcast_to(np.int32(0), (rows,))
        claim_class = np.broadcast_to(np.int32(np.searchsorted(day_cuts, 0, side="right") + 1), (rows,))
    dates.append((claim_class, len(day_cuts) + 2))
    values = {"entry.date": E, "decision_date": day, "age_at_entry": age, "days_from_entry_to_claim": waited}
    return _Keyed(parts, fallback, fields, dates, treaty_class, values, cells=texts)


# Groups of fields whose facts are derived together (a fact's value depends on these fields alone;
# the habitual residence defaults to the first nationality; the transit facts read the
# nationalities, the residence and, for treaty parties, the entry date).
_GROUPS: tuple[tuple[str, ...], ...] = (
    ("nationalities", "habitual_residence"),
    ("transit", "nationalities", "habitual_residence", "@treaty"),
    *((name,) for name in COLUMNS if name not in ("nationalities", "habitual_residence", "transit", "id")),
)
_GROUP_FACTS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _facts_of(group: tuple[str, ...]) -> tuple[str, ...]:
    """The facts derived from the fields of ``group`` alone (dates and ages: classed apart)."""
    from eligibility.ruleset.facts import CATALOGUE

    found = _GROUP_FACTS.get(group)
    if found is None:
        inputs = set(group)
        found = tuple(
            name
            for name, fact in CATALOGUE.items()
            if fact.type not in ("date", "int")
            and set(fact.inputs) <= inputs | {"habitual_residence", "nationalities"}
            and (name.startswith("transit.") if "transit" in inputs else set(fact.inputs) <= inputs)
        )
        _GROUP_FACTS[group] = found
    return found


def _representatives(ids: Codes, count: int, positions: Codes) -> list[int]:
    """Per combination (``ids`` per row, ``count`` of them), one row of ``positions`` that has it (-1: none)."""
    representative = np.full(count, -1, dtype=np.int64)
    representative[ids if len(positions) == len(ids) else ids[positions]] = positions  # every row: as it is
    found: list[int] = representative.tolist()
    return found


def _fact_parts(
    columns: Columns,
    keyed: _Keyed,
    good: npt.NDArray[np.bool_],
    evaluator: Evaluator,
    fact_codes: dict[str, tuple[Codes, int]],
) -> list[tuple[Codes, int]]:
    """The components of the coarse class id: per group of fields, the class of each fact derived
    from them under every test of the rules (``Evaluator._classify``; unknown a class of its own;
    the facts that name the countries of expulsion exactly), found once per distinct combination
    of the group's values, from one row of it."""
    from eligibility.analysis.settle import DESTINATION_FACTS
    from eligibility.ruleset.facts import UNKNOWN, derive_facts

    ctx = columns.rules.context
    known = _answers(columns.rules, evaluator.policy).facts
    exact = DESTINATION_FACTS if any(evaluator._expulsions) else ()
    parts = list(keyed.dates)
    rows = columns.rows
    positions = np.flatnonzero(good)
    for group in _GROUPS:
        facts = _facts_of(group)
        given = [keyed.fields[n] for n in group if n in keyed.fields] + (
            [(keyed.treaty, int(keyed.treaty.max(initial=0)) + 1)] if "@treaty" in group else []
        )
        if not facts or not any(n in keyed.fields for n in group):
            continue
        single = len(given) == 1 and "@treaty" not in group  # one field: its values are the combinations
        ids, count = given[0] if single else _classes(given, rows, sparse=1 << 14)
        representative: list[int] | None = None
        if not single:
            representative = _representatives(ids, count, positions)
        classes: dict[tuple[Any, ...], int] = {}
        lut = np.zeros(count, dtype=np.int32)
        per_fact: dict[str, dict[Any, int]] = {f: {"?": 0} for f in facts}  # unknown: 0
        fact_luts = {f: np.zeros(count, dtype=np.int32) for f in facts}
        derived: dict[str, list[Any]] = {f: [None] * count for f in facts}
        for f in facts:
            keyed.derived[f] = (ids, derived[f])
        names = [n for n in group if n in columns.columns]
        for combo in range(count):
            row = -1 if representative is None else representative[combo]
            if single:  # the facts of a field's value, whatever the row
                memo: tuple[Any, ...] = (group, tuple(names), keyed.cells[names[0]][combo])
            elif row < 0:
                continue
            else:
                memo = (
                    group,
                    tuple(names),
                    *[_cell(columns.columns[n], row) for n in names],
                    int(keyed.treaty[row]),
                )
            values = known.get(memo)
            if values is None and single and len(positions):
                # a valid row with this value in place of its own (the group's facts read it alone)
                cells = _cells(columns, int(positions[0])) | {names[0]: keyed.cells[names[0]][combo]}
                case = _row_case(cells)
                if not isinstance(case, str):
                    make_room(known, CASE_KEYS)
                    values = known[memo] = derive_facts(case, ctx)[0]
            if values is None:  # read once per distinct cells of the group (for every later table too)
                if representative is None:
                    representative = _representatives(ids, count, positions)
                    row = representative[combo]
                if row < 0:
                    continue
                case = _row_case(_cells(columns, row))
                assert not isinstance(case, str)
                make_room(known, CASE_KEYS)
                values = known[memo] = derive_facts(case, ctx)[0]
            for f in facts:
                derived[f][combo] = values[f]
            key = tuple(
                "?"
                if values[f] is UNKNOWN
                else (
                    evaluator._classify(f, values[f]),
                    tuple(values[f])
                    if f in exact and isinstance(values[f], list)
                    else values[f]
                    if f in exact
                    else None,
                )
                for f in facts
            )
            lut[combo] = classes.setdefault(key, len(classes))
            for f, k in zip(facts, key, strict=True):
                fact_luts[f][combo] = per_fact[f].setdefault(k, len(per_fact[f]))
        if len(facts) == 1:  # the group's classes are its fact's
            f = facts[0]
            if len(per_fact[f]) > 1:
                fact_codes[f] = (_small(fact_luts[f], len(per_fact[f]))[ids], len(per_fact[f]))
                if len(classes) > 1:
                    parts.append(fact_codes[f])
            elif f not in fact_codes:
                fact_codes[f] = (np.zeros(rows, dtype=np.int32), 1)
            continue
        if len(classes) > 1:
            parts.append((_small(lut, len(classes))[ids], len(classes)))
        for f in facts:  # per row when asked for (``_distinct``: on the distinct rows alone)
            if (f not in fact_codes and f not in keyed.fact_luts) or len(per_fact[f]) > 1:
                fact_codes.pop(f, None)
                keyed.fact_luts[f] = (fact_luts[f], ids, len(per_fact[f]))
    return parts


@dataclass
class _Distinct:
    """The distinct rows by the classes of their facts: ``key`` gives each row its distinct row, ``rows`` one row of each; ``keyed``
    and ``facts`` are those of the distinct rows alone (a table of ``count`` rows; of the fields,
    those that name the countries of expulsion)."""

    key: Codes
    count: int
    rows: Codes
    keyed: _Keyed
    facts: dict[str, tuple[Codes, int]]


def _values_at(values: Any, rows: Codes) -> Codes:
    """Per row of ``rows`` the values of a date or age fact (see ``_Keyed.values``)."""
    if isinstance(values, np.ndarray):
        return values[rows]
    if len(values) == 4:  # the decision date where given, else the entry date
        days, state, codes, entry = values  # per code (-1: the last) the day and state; per row the code
        at = codes[rows]
        return np.asarray(np.where(state[at] == 2, days[at], entry[rows]), dtype=np.int64)
    table, codes = values  # the age given: per value code, and the code per row
    return np.asarray(table[codes[rows]], dtype=np.int64)


def _distinct(columns: Columns, keyed: _Keyed, fact_codes: dict[str, tuple[Codes, int]]) -> _Distinct:
    """The rows that differ in what the truths of the rules and the countries of expulsion read:
    the class of every group of fields' facts (the facts that name the countries of expulsion
    exactly) and of every date, and whether the row is read by the row path."""
    parts = [*keyed.parts, (keyed.fallback.view(np.int8), 2 if keyed.fallback.any() else 1)]
    key, count = _classes(parts, columns.rows)
    rows = np.zeros(count, dtype=np.int64)
    rows[key] = np.arange(columns.rows, dtype=np.int32 if columns.rows < _INT32 else np.int64)
    taken: dict[int, Codes] = {}

    def take(codes: Codes) -> Codes:  # per distinct row (arrays shared by several facts, once)
        found = taken.get(id(codes))
        if found is None:
            found = taken[id(codes)] = codes[rows]
        return found

    from eligibility.analysis.settle import DESTINATION_FACTS

    keyed_rows = _Keyed(
        [],
        keyed.fallback[rows],
        # the fields the truths read as fields: those that name the countries of expulsion
        {n: (take(codes), card) for n, (codes, card) in keyed.fields.items() if n in DESTINATION_FACTS},
        [(take(codes), card) for codes, card in keyed.dates],
        take(keyed.treaty),
        {n: _values_at(values, rows) for n, values in keyed.values.items()},
        {f: (take(ids), values) for f, (ids, values) in keyed.derived.items()},
    )
    facts = {f: (take(codes), card) for f, (codes, card) in fact_codes.items()}
    facts |= {f: (lut[take(ids)], card) for f, (lut, ids, card) in keyed.fact_luts.items()}
    return _Distinct(key, count, rows, keyed_rows, facts)


_DATE_FACTS = ("entry.date", "age_at_entry", "decision_date", "days_from_entry_to_claim")


@dataclass
class _Truths:
    """The rows whose every fact the rules test is known, classed by the truth of every rule.

    ``ids`` (one per such row, ``rows`` says which) index the classes; per group of rules testing
    the same facts (``groups``: the rules' indices in program order), ``codes`` gives each of these
    rows the code of the group's truths and ``tables`` the truths of each code; ``destination``
    the codes of the facts that name the countries of expulsion (where a destination rule holds)."""

    ids: Codes
    count: int
    rows: npt.NDArray[np.bool_]
    groups: list[tuple[int, ...]]
    codes: list[Codes]
    tables: list[list[tuple[bool, ...]]]
    destination: list[Codes]
    base: dict[str, Any]  # the facts of one of these rows


def _facts_at(
    columns: Columns,
    keyed: _Keyed,
    row: int,
    base: dict[str, Any],
    names: Iterable[str] | None = None,
    only: bool = False,
) -> dict[str, Any]:
    """The facts of a valid row: ``names`` (the others as in ``base``, or left out with ``only``)
    from what the codes found (the facts derived once per combination of the fields they are
    derived from, the dates and ages from their day numbers), or, with no ``base``, every fact
    from the row's Case."""
    if not base:
        from eligibility.ruleset.facts import derive_facts

        case = _row_case(_cells(columns, row))
        assert not isinstance(case, str)
        return derive_facts(case, columns.rules.context)[0]
    out = {name: base[name] for name in names or ()} if only else dict(base)
    for name in names or ():
        if name in ("entry.date", "decision_date"):
            out[name] = dt.date.fromordinal(int(keyed.values[name][row]))
        elif name in keyed.values:
            out[name] = int(keyed.values[name][row])
        elif name in keyed.derived:
            ids, values = keyed.derived[name]
            out[name] = values[int(ids[row])]
    return out


def _facts_of_rows(
    keyed: _Keyed, rows: Codes, base: dict[str, Any], names: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Per row of ``rows`` (valid rows) the values of the facts ``names``, as ``_facts_at`` finds
    them, a column at a time."""
    per_name: list[list[Any]] = []
    for name in names:
        if name in ("entry.date", "decision_date"):
            per_name.append([dt.date.fromordinal(d) for d in keyed.values[name][rows].tolist()])
        elif name in keyed.values:
            per_name.append(keyed.values[name][rows].tolist())
        elif name in keyed.derived:
            ids, values = keyed.derived[name]
            per_name.append([values[i] for i in ids[rows].tolist()])
        else:
            per_name.append([base[name]] * len(rows))
    return list(zip(*per_name, strict=True)) if per_name else [()] * len(rows)


def _truth_ids(
    columns: Columns,
    keyed: _Keyed,
    good: npt.NDArray[np.bool_],
    evaluator: Evaluator,
    fact_codes: dict[str, tuple[Codes, int]],
    numbers: Codes,
) -> _Truths | None:
    """For the rows whose every fact the rules test is known: a class id by the truth of every
    rule, and the facts that give the countries of expulsion exactly (what the fast path's class
    key is then made of). Each rule's truth is found once per distinct combination of the classes
    of the facts it tests (rules testing the same facts together), from one row of it, and
    broadcast. Returns None when no row has every tested fact known. ``keyed`` and ``good`` are
    of the distinct rows; ``numbers`` gives the row of ``columns`` of each."""
    from eligibility.analysis.settle import DESTINATION_FACTS
    from eligibility.ruleset.facts import UNKNOWN, derive_facts

    for f, coded in zip(_DATE_FACTS, keyed.dates, strict=True):
        fact_codes[f] = coded  # unknown: 0 (the entry date is never unknown)
    used = evaluator.program.facts_used
    sample = np.flatnonzero(good)
    if not len(sample):
        return None
    first = _row_case(_cells(columns, int(numbers[sample[0]])))
    assert not isinstance(first, str)
    constant, _ = derive_facts(first, columns.rules.context)
    known = good.copy()
    for f in used:
        if f == "entry.date":
            continue
        if f in fact_codes:
            known &= fact_codes[f][0] != 0
        elif constant[f] is UNKNOWN:  # no column gives it: unknown in every row
            return None
    everywhere = bool(known.all())
    positions = np.flatnonzero(known)
    if not len(positions):
        return None
    by_facts: dict[frozenset[str], list[int]] = {}
    for n, b in enumerate(evaluator.program.rules):
        by_facts.setdefault(frozenset(t.fact for t in b.checks), []).append(n)
    base = _facts_at(columns, keyed, int(numbers[positions[0]]), {})  # the facts of one row, every one known
    answers = _answers(columns.rules, evaluator.policy)
    rules = evaluator.program.rules

    def at(codes: Codes) -> Codes:
        return codes if everywhere else codes[positions]

    parts: list[tuple[Codes, int]] = []
    groups: list[tuple[int, ...]] = []
    row_codes: list[Codes] = []
    tables: list[list[tuple[bool, ...]]] = []
    destination = {n for rules in evaluator._expulsions for n, _b in rules}
    reaches = np.zeros(len(positions), dtype=bool)  # some destination rule holds
    for fact_set, indices in by_facts.items():
        given = [fact_codes[f] for f in sorted(fact_set) if f in fact_codes]
        if len(given) == 1:  # one fact: its codes are the combinations (some perhaps on no row)
            ids, count = at(given[0][0]), given[0][1]
        else:
            ids, count = _classes([(at(c), n) for c, n in given], len(positions), sparse=1 << 14)
        representative = np.full(count, -1, dtype=np.int64)
        representative[ids] = positions
        truths: dict[tuple[bool, ...], int] = {}
        lut = np.zeros(count, dtype=np.int64)
        group = tuple(indices)
        compiled = answers.group_truths.get(group)
        if compiled is None:  # the truths of these rules alone, from the facts they test
            compiled = answers.group_truths[group] = compile_truths([rules[n].when for n in indices])
        names = sorted(fact_set)
        combos = np.flatnonzero(representative >= 0)
        found = _facts_of_rows(keyed, representative[combos], base, names)
        for combo, values in zip(combos.tolist(), found, strict=True):
            memo: tuple[Any, ...] | None = (group, *values)
            try:
                vector = answers.truths.get(memo)
            except TypeError:  # a value that is not hashable: not kept
                memo, vector = None, None
            if vector is None:
                vector = compiled(dict(zip(names, values, strict=True)))
                if memo is not None:
                    make_room(answers.truths, CASE_KEYS)
                    answers.truths[memo] = vector
            lut[combo] = truths.setdefault(vector, len(truths))
        codes = lut[ids] if len(truths) > 1 else np.zeros(len(positions), dtype=np.int64)
        if len(truths) > 1:
            parts.append((codes, len(truths)))
        groups.append(tuple(indices))
        row_codes.append(codes)
        tables.append(list(truths))
        hits = [at_ for at_, n in enumerate(indices) if n in destination]
        if hits:
            holds = np.zeros(len(truths), dtype=bool)
            for vector, code in truths.items():
                holds[code] = any(vector[h] for h in hits)
            reaches |= holds[codes]
    # the countries of expulsion: from the destination facts, where a destination rule holds
    named: list[Codes] = []
    for name in DESTINATION_FACTS if destination else ():
        if name in keyed.fields:
            codes, n = keyed.fields[name]
            parts.append((np.where(reaches, at(codes), 0), n))
            named.append(parts[-1][0])
    ids, count = _classes(parts, len(positions))
    return _Truths(ids, count, known, groups, row_codes, tables, named, base)


_STATUS_CODES: tuple[str, ...] = ("not_in_force", "not_applicable", "excluded", "excepted", "applies")


def _truth_headlines(
    columns: Columns, keyed: _Keyed, evaluator: Evaluator, truths: _Truths
) -> list[Headline]:
    """The headline of each class by truths, without a Case: each instrument's status from the
    truths of its rules by role (``decide.possible_statuses``, two-valued: one status), over every
    class at once, and the screening (``decide.decide``) once per distinct statuses, rule of
    expulsion that holds first and, where an expulsion applies, facts that name its countries, as
    the fast path settles a case whose tested facts are all known. (``decide``'s headline does not
    read the statuses of statutory limits.)"""
    from eligibility.analysis.settle import DESTINATION_FACTS
    from eligibility.engine.decide import decide, destination_countries, destination_rules

    program = evaluator.program
    count = truths.count
    where = np.zeros(count, dtype=np.int64)  # a position (among the truth rows) of each class
    where[truths.ids] = np.arange(len(truths.ids))
    matrix = np.zeros((len(program.rules), count), dtype=bool)  # per rule, its truth in each class
    for indices, table, codes in zip(truths.groups, truths.tables, truths.codes, strict=True):
        matrix[list(indices)] = (
            np.array(table, dtype=bool).reshape(len(table), len(indices)).T[:, codes[where]]
        )
    index = {b.key: n for n, b in enumerate(program.rules)}

    def all_of(keys: Sequence[str]) -> npt.NDArray[np.bool_]:
        return np.asarray(matrix[[index[k] for k in keys]].all(axis=0), dtype=bool)

    def any_of(keys: Sequence[str]) -> npt.NDArray[np.bool_]:
        return np.asarray(matrix[[index[k] for k in keys]].any(axis=0), dtype=bool)

    parts: list[tuple[Codes, int]] = []
    status_of: list[npt.NDArray[Any]] = []
    expulsions: list[
        str
    ] = []  # the expulsions, and per class the first of their destination rules that holds
    first_rules: list[Codes] = []
    screened = [i for i in program.instruments if i.kind != "statutory_limit"]
    expelled = np.zeros(count, dtype=bool)  # some expulsion applies
    for inst in screened:
        roles = program.keys_by_role(inst.id)
        in_force = all_of(roles.get("in_force", ()))
        if roles.get("window"):
            in_force &= any_of(roles["window"])
        scope = all_of(roles.get("scope", ()))
        if roles.get("alternative"):
            scope &= any_of(roles["alternative"])
        status = np.where(
            ~in_force,
            0,
            np.where(
                ~scope,
                1,
                np.where(
                    any_of(roles.get("exclusion", ())), 2, np.where(any_of(roles.get("exception", ())), 3, 4)
                ),
            ),
        )
        parts.append((status.astype(np.int64), len(_STATUS_CODES)))
        status_of.append(status)
        if inst.kind == "expulsion":  # which destination rule holds first (0: none)
            applies = status == 4
            expelled |= applies
            first = np.zeros(count, dtype=np.int64)
            for n, b in reversed(list(enumerate(destination_rules(program, inst.id), start=1))):
                first = np.where(matrix[index[b.key]], n, first)
            parts.append((np.where(applies, first, 0), len(destination_rules(program, inst.id)) + 1))
            first_rules.append(parts[-1][0])
            expulsions.append(inst.id)
    for codes in truths.destination:
        parts.append((np.where(expelled, codes[where], 0), int(codes.max(initial=0)) + 1))
    keys, distinct = _classes(parts, count)
    example = np.zeros(distinct, dtype=np.int64)
    example[keys] = np.arange(count)
    positions = np.flatnonzero(truths.rows)
    limits = {i.id: "not_applicable" for i in program.instruments if i.kind == "statutory_limit"}
    known = _answers(columns.rules, evaluator.policy).headlines
    rules = {iid: destination_rules(program, iid) for iid in expulsions}
    firsts = dict(zip(expulsions, first_rules, strict=True))
    heads: list[Headline] = []
    every_status = (
        np.stack(status_of, axis=1)[example].tolist() if status_of else [[] for _ in range(distinct)]
    )
    first_of = {iid: codes[example].tolist() for iid, codes in firsts.items()}
    expels = expelled[example]
    destinations = iter(
        _facts_of_rows(keyed, positions[where[example[expels]]], truths.base, DESTINATION_FACTS)
    )
    for n, (at, expel) in enumerate(zip(example.tolist(), expels.tolist(), strict=True)):
        status_codes = tuple(every_status[n])
        facts: dict[str, Any] = {}
        countries: tuple[Any, ...] = ()
        if expel:  # the countries of expulsion read the destination facts
            named = dict(zip(DESTINATION_FACTS, next(destinations), strict=True))
            countries = tuple(
                destination_countries(rules[iid][first_of[iid][n] - 1], named) if first_of[iid][n] else ()
                for iid in expulsions
            )
        memo = (status_codes, countries)
        head = known.get(memo)
        if head is None:
            if expel:
                facts = _facts_at(columns, keyed, int(positions[where[at]]), truths.base, DESTINATION_FACTS)
            statuses: dict[str, Any] = {
                inst.id: _STATUS_CODES[code] for inst, code in zip(screened, status_codes, strict=True)
            }
            truth = dict(zip([b.key for b in program.rules], matrix[:, at].tolist(), strict=True))
            make_room(known, CASE_KEYS)
            head = known[memo] = decide(program, statuses | limits, truth, facts).headline
        heads.append(head)
    return [heads[k] for k in keys.tolist()]


def _renumber(key: Codes, size: int) -> tuple[Codes, int]:
    """Dense ids 0..d-1 for the values of ``key`` (each below ``size``), in order of value: by a
    table of every value (``size`` not too large, nor much larger than the rows), else by a sort."""
    if size <= _PACK_LIMIT and size <= 32 * len(key) + 4096:
        present = np.zeros(size, dtype=bool)
        present[key] = True
        distinct = np.flatnonzero(present)
        ids = np.empty(size, dtype=np.int32)  # size < 2**31
        ids[distinct] = np.arange(len(distinct), dtype=np.int32)
        return ids[key], len(distinct)
    rows = len(key)
    bits = max(rows - 1, 1).bit_length()
    if not rows or size.bit_length() + bits > 63:
        distinct, inverse = np.unique(key, return_inverse=True)
        return inverse.reshape(-1), len(distinct)
    # sorted with each row's number below the code (one sort of 64-bit integers, the fastest)
    both = key.astype(np.int64) << bits
    both |= np.arange(rows, dtype=np.int64)
    both.sort()
    order = both & ((1 << bits) - 1)
    both >>= bits  # the codes, in order
    starts = np.empty(rows, dtype=bool)
    starts[0] = True
    np.not_equal(both[1:], both[:-1], out=starts[1:])
    dense: Codes = np.cumsum(starts, dtype=np.int32 if rows < _INT32 else np.int64)
    dense -= 1
    ids = np.empty(rows, dtype=dense.dtype)
    ids[order] = dense
    return ids, int(dense[-1]) + 1


def _times(key: Codes, card: int, size: int) -> Codes:
    """``key * card`` for codes below ``size``: in 32 bits while the product fits, else 64 (never
    in the 8 or 16 bits a small table's codes may have)."""
    wide = size * card >= _INT32
    if key.dtype.itemsize < 4 or (wide and key.dtype.itemsize < 8):
        key = key.astype(np.int64 if wide else np.int32)
    return key * card


def _classes(parts: Sequence[tuple[Codes, int]], rows: int, sparse: int = 0) -> tuple[Codes, int]:
    """One class id per row from the components' codes: packed, renumbered when full. With
    ``sparse``, packed codes below it are returned as they are (a class may then have no row)."""
    key: Codes | None = None
    size = 1
    for codes, card in sorted(parts, key=lambda p: p[1]):
        if card <= 1 or (codes.ndim == 1 and codes.strides[0] == 0):  # one code on every row: no part
            continue
        if key is None:
            key, size = codes, card
            continue
        if size * card > _PACK_LIMIT:
            key, size = _renumber(key, size)
        key = _times(key, card, size)  # a new array: added to in place (the sum fits its type)
        key += codes
        size *= card
    if key is None:
        return np.zeros(rows, dtype=np.int64), 1 if rows else 0
    if size <= sparse:
        return key, size
    return _renumber(key, size)


# --- the result -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClassAnswer:
    """One class of rows: the answer every row of it gets, and one row of it."""

    headline: Headline
    evidence: str | None  # None until asked for (``ColumnarResult.evidence``): it needs the explanation
    code: str  # outcome_code(headline)
    row: int  # a row of the class (0-based)
    exact: bool  # False: a class of one row's own values (read by the row path)


@dataclass
class ColumnarResult:
    """The answers for a population under one policy.

    ``class_id[row]`` is the row's class (an index into ``classes``), -1 for a row that is not a
    valid case (``rejected`` says why). The columns (``outcome``, ``evidence``, ...) are numpy
    arrays, one value per row (None for a rejected row); ``counts()`` counts rows by outcome code.
    """

    policy: str
    rules: RuleSet
    rows: int
    class_id: npt.NDArray[np.int64]
    classes: list[ClassAnswer]
    rejected: list[tuple[int, str]]
    timings: dict[str, float]
    _columns: Columns = field(repr=False)

    def _broadcast(self, values: list[Any]) -> npt.NDArray[Any]:
        table = np.empty(len(values) + 1, dtype=object)
        table[:-1] = values
        table[-1] = None
        return table[self.class_id]  # -1: the None at the end

    @property
    def outcome(self) -> npt.NDArray[Any]:
        """Per row the outcome code (``outcome_code``: ``transfer.GT``, ``process_in_us.barred``...)."""
        return self._broadcast([c.code for c in self.classes])

    @property
    def evidence(self) -> npt.NDArray[Any]:
        """Per row the weakest evidence level the answer rests on (the determination's ``evidence``;
        found per class on first use: it needs each class explained, dearer than its headline)."""
        for n, c in enumerate(self.classes):
            if c.evidence is None:
                case = self.case(c.row)
                assert not isinstance(case, str)
                self.classes[n] = _answer(self.rules, self.policy, case, c.row, c.exact, evidence=True)
        return self._broadcast([c.evidence for c in self.classes])

    def column(self, name: str) -> npt.NDArray[Any]:
        """Per row one field of the headline: ``outcome``, ``transfer_to``, ``asylum``,
        ``wait_in_mexico`` or ``expel_to`` (as in the determination; lists as tuples), or
        ``outcome_code`` / ``evidence``."""
        if name == "outcome_code":
            return self.outcome
        if name == "evidence":
            return self.evidence
        if name not in Headline._fields:
            raise KeyError(name)
        return self._broadcast([getattr(c.headline, name) for c in self.classes])

    def counts(self) -> dict[str, int]:
        """Rows by outcome code (rejected rows left out)."""
        ids = self.class_id[self.class_id >= 0]
        per_class = np.bincount(ids, minlength=len(self.classes))
        out: dict[str, int] = {}
        for answer, n in zip(self.classes, per_class.tolist(), strict=True):
            if n:
                out[answer.code] = out.get(answer.code, 0) + n
        return out

    def case(self, row: int) -> Case | str:
        """The Case of a row (0-based), or why it is not one (the row path's message)."""
        return _row_case(_cells(self._columns, row))

    def determination(self, class_id: int) -> Determination:
        """The explained determination of a class, for its representative row (``classes[class_id].row``):
        every row of the class has the same answer and explanation, with its own id and dates."""
        answer = self.classes[class_id]
        return self.row_determination(answer.row)

    def explain(self, class_id: int) -> list[str]:
        """The explanation lines of a class (its representative row's), outcome first."""
        return list(self.determination(class_id).explanation)

    def row_determination(self, row: int) -> Determination:
        """The explained determination of one row (0-based; CaseError if it is not a valid case)."""
        from eligibility.api import evaluate

        case = self.case(row)
        if isinstance(case, str):
            raise CaseError([])  # pragma: no cover - message below
        return evaluate(case, self.policy, rules=self.rules, engine="fast", counterfactuals=False)

    def to_dict(self) -> dict[str, npt.NDArray[Any]]:
        """The result columns: ``outcome`` (the code), ``transfer_to``, ``asylum``, ``wait_in_mexico``,
        ``expel_to``, ``evidence`` and ``class_id``."""
        return {
            "outcome": self.outcome,
            "transfer_to": self.column("transfer_to"),
            "asylum": self.column("asylum"),
            "wait_in_mexico": self.column("wait_in_mexico"),
            "expel_to": self.column("expel_to"),
            "evidence": self.evidence,
            "class_id": self.class_id,
        }


def _cell(column: _Column, row: int) -> str:
    if column.texts is not None:
        return _text(column.texts[row])
    code = int(column.codes[row])
    return "" if code < 0 else column.cells[code]


def _cells(columns: Columns, row: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, column in columns.columns.items():
        code = int(column.codes[row])
        if column.texts is not None:
            out[name] = _text(column.texts[row])
        else:
            out[name] = "" if code < 0 else column.cells[code]
    return out


_EVIDENCE = re.compile(rb'"evidence":"(\w+)"')


class _Answers:
    """Per policy: the fast evaluator (compact)."""

    def __init__(self, rules: RuleSet, policy: str) -> None:
        self.evaluator = Evaluator(policy, rules=rules, detail="compact")
        # what earlier tables found (bounded like the fast path's caches): the facts derived from
        # the cells of a group of fields; the truths of a group of rules (compiled per group) for
        # the facts it tests; the headline for statuses and countries of expulsion
        self.facts: dict[Hashable, dict[str, Any]] = {}
        self.group_truths: dict[tuple[int, ...], Callable[[Mapping[str, Any]], tuple[bool, ...]]] = {}
        self.truths: dict[Hashable, tuple[bool, ...]] = {}
        self.headlines: dict[Hashable, Headline] = {}


def _answers(rules: RuleSet, policy: str) -> _Answers:
    return rules.built.get(_Answers, policy, lambda: _Answers(rules, policy))


def _answer(
    rules: RuleSet, policy: str, case: Case, row: int, exact: bool, evidence: bool = False
) -> ClassAnswer:
    if case.spans:  # approximate dates: every day of them (the api's answer)
        from eligibility.api import evaluate

        det = evaluate(case, policy, rules=rules, engine="fast", counterfactuals=False)
        head = Headline(
            det.outcome, tuple(det.transfer_to), det.asylum, det.wait_in_mexico, tuple(det.expel_to)
        )
        return ClassAnswer(head, det.evidence, outcome_code(head), row, exact)
    evaluator = _answers(rules, policy).evaluator
    if not evidence:  # the headline only: settled, not explained
        head = evaluator.headline(case)
        return ClassAnswer(head, None, outcome_code(head), row, exact)
    result = evaluator.evaluate(case)
    found = _EVIDENCE.search(result.to_bytes())
    head = Headline(result.outcome, result.transfer_to, result.asylum, result.wait_in_mexico, result.expel_to)  # type: ignore[arg-type]
    return ClassAnswer(head, found.group(1).decode() if found else "primary", outcome_code(head), row, exact)


def evaluate_policies(
    frame: Any, policies: Sequence[str] | None = None, *, rules: RuleSet | None = None
) -> dict[str, ColumnarResult]:
    """:func:`evaluate_frame` under each of ``policies`` (default: every policy of the rules), the
    table read once. Raises UnknownPolicyError for a policy not in the rules."""
    columns = frame if isinstance(frame, Columns) else read_columns(frame, rules=rules)
    ruleset = columns.rules
    names = list(policies) if policies is not None else sorted(ruleset.policies)
    return {name: evaluate_frame(columns, name) for name in names}


def evaluate_frame(
    frame: Any,
    policy: str | None = None,
    *,
    rules: RuleSet | None = None,
    evidence: bool = False,
    coarse: bool = True,
) -> ColumnarResult:
    """The headline, evidence and class of every row of a population under ``policy`` (default:
    the rules' default, ``enacted``); see the module. ``frame`` is a pandas or polars DataFrame, a
    pyarrow Table, a mapping of column name to values, or :class:`Columns` already read. Raises
    ColumnarError for a table no row can be read from, UnknownPolicyError for an unknown policy.

    The headlines are settled per class without explaining them; the evidence needs each class
    explained (a full evaluation) and is found on first use of ``result.evidence``, or at once with
    ``evidence=True``."""
    from eligibility.engine.program import compile_policy

    columns = frame if isinstance(frame, Columns) else read_columns(frame, rules=rules)
    ruleset = columns.rules
    name = policy or ruleset.default_policy
    ruleset.require_policy(name)
    program = compile_policy(ruleset, name)
    timings = {"read": columns.seconds}
    started = time.perf_counter()
    bounds = cut_points(program)
    rows = columns.rows
    keyed = _components(columns, bounds, fine=not coarse)
    fast_rows = ~keyed.fallback
    by_truths: _Truths | None = None
    if coarse:
        evaluator = _answers(ruleset, name).evaluator
        fact_codes: dict[str, tuple[Codes, int]] = {}
        keyed.parts = _fact_parts(columns, keyed, fast_rows, evaluator, fact_codes)
        distinct = _distinct(columns, keyed, fact_codes)
        by_truths = _truth_ids(
            columns, distinct.keyed, ~distinct.keyed.fallback, evaluator, distinct.facts, distinct.rows
        )
        if by_truths is not None:
            of_distinct = np.full(distinct.count, -1, dtype=np.int64)  # the class by truths of each
            of_distinct[by_truths.rows] = by_truths.ids
            by_truth_class = of_distinct[distinct.key]
            fast_rows &= by_truth_class < 0
    now = time.perf_counter()
    timings["codes"] = now - started
    started = now
    if fast_rows.any():
        ids, count = _classes([(codes[fast_rows], card) for codes, card in keyed.parts], int(fast_rows.sum()))
    else:
        ids, count = np.zeros(0, dtype=np.int64), 0
    representative = np.zeros(count, dtype=np.int64)
    positions = np.flatnonzero(fast_rows)
    representative[ids] = positions  # some row of each class (which one does not matter)
    now = time.perf_counter()
    timings["unique"] = now - started
    started = now
    classes: list[ClassAnswer] = []
    for row in representative.tolist():
        case = _row_case(_cells(columns, row))
        if isinstance(case, str):  # never: the checks above find every wrong row
            raise AssertionError(f"row {row}: {case}")
        classes.append(_answer(ruleset, name, case, row, True))
    if by_truths is not None and not count:  # every valid row classed by truths (below)
        class_id = by_truth_class
    else:
        class_id = np.full(rows, -1, dtype=np.int64)
        class_id[positions] = ids
    if by_truths is not None:  # classes by truths come after, their headlines found from the truths
        by_truth = np.zeros(by_truths.count, dtype=np.int64)
        by_truth[by_truths.ids] = distinct.rows[by_truths.rows]
        heads = _truth_headlines(columns, distinct.keyed, evaluator, by_truths)
        codes_of: dict[int, str] = {}  # by the headline's identity (one object per distinct statuses)
        for head, row in zip(heads, by_truth.tolist(), strict=True):
            code = codes_of.get(id(head))
            if code is None:
                code = codes_of[id(head)] = outcome_code(head)
            classes.append(ClassAnswer(head, None, code, row, True))
        if count:
            class_id = np.where(by_truth_class >= 0, by_truth_class + count, class_id)
        count += by_truths.count
    # rows read by the row path: each rejected with its message, or a class of its own values
    rejected: list[tuple[int, str]] = []
    own: dict[tuple[str, ...], int] = {}
    for row in np.flatnonzero(keyed.fallback).tolist():
        cells = _cells(columns, row)
        case = _row_case(cells)
        if isinstance(case, str):
            rejected.append((row, case))
            continue
        values = tuple(cells.values())
        found = own.get(values)
        if found is None:
            found = own[values] = len(classes)
            classes.append(_answer(ruleset, name, case, row, False))
        class_id[row] = found
    result = ColumnarResult(name, ruleset, rows, class_id, classes, rejected, timings, columns)
    if evidence:
        result.evidence  # noqa: B018 - found now, for every class
    timings["evaluate"] = time.perf_counter() - started
    return result


# --- a CSV file of cases ----------------------------------------------------------------------------


@dataclass
class CsvPopulation:
    """A CSV batch file read into columns: ``numbers[i]`` is the file's line number of row ``i``;
    ``rejected`` the lines the reader itself refuses (not UTF-8, more cells than the header names),
    with the batch reader's messages. Blank lines are not rows."""

    columns: Columns
    numbers: npt.NDArray[np.int64]
    rejected: list[tuple[int, str]]


def read_csv(file: Any, *, name: str | None = None, rules: RuleSet | None = None) -> CsvPopulation:
    """Read a CSV file of cases (a path or a binary stream) as ``eligibility batch`` reads it, into
    columns for :func:`evaluate_frame`. Raises ColumnarError for a header no row can be read with
    (the batch reader's words); OSError as ``open`` does."""
    import io
    from pathlib import Path

    if isinstance(file, (str, Path)):
        with Path(file).open("rb") as stream:
            return read_csv(stream, name=name or str(file), rules=rules)
    text = io.TextIOWrapper(file, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        try:
            names, lines = records(text, name or "stdin")
        except HeaderError as exc:
            raise ColumnarError(str(exc)) from None
        cells: list[list[str]] = [[] for _ in names]
        numbers: list[int] = []
        rejected: list[tuple[int, str]] = []
        for number, row in lines:
            if isinstance(row, str):
                rejected.append((number, row))
                continue
            numbers.append(number)
            for at, values in enumerate(cells):
                values.append(row[at] if at < len(row) else "")
    finally:
        text.detach()
    columns = {n: v for n, v in zip(names, cells, strict=True) if n}
    return CsvPopulation(read_columns(columns, rules=rules), np.array(numbers, dtype=np.int64), rejected)
