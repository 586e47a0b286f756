"""The columnar engine gives every row of a population the answer the row path gives it.

Each generated population is evaluated three ways and compared row by row: the columnar engine
(``eligibility.columnar.evaluate_frame``, whole columns at once), the fast path
(``eligibility.fast.Evaluator``, case by case) and durable-rules
(``eligibility.evaluate(..., engine="durable")``, the engine of record) on the headline (outcome,
transfer_to, asylum, wait_in_mexico, expel_to) and the evidence. A row that is not a valid case must
be reported with the message the CSV batch reader and ``parse_case`` give it, and no other row lost.
Expected answers come from the other engines, never from the columnar engine itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import evaluate, load_rules
from eligibility.batch.rows import csv_rows
from eligibility.case import FIELD_NAMES, parse_case
from eligibility.columnar import (
    ColumnarError,
    cell_value,
    evaluate_frame,
    evaluate_policies,
    outcome_code,
    read_columns,
)
from eligibility.engine.decide import Headline
from eligibility.errors import CaseError
from eligibility.fast import Evaluator
from eligibility.testing import countries
from tests.strategies import cases

RULES = load_rules()
POLICIES = sorted(RULES.policies)
FAST: dict[str, Evaluator] = {}


def _fast(policy: str) -> Evaluator:
    if policy not in FAST:
        FAST[policy] = Evaluator(policy, rules=RULES, detail="compact")
    return FAST[policy]


# --- populations ------------------------------------------------------------------------------------


def to_cells(case: dict[str, Any]) -> dict[str, str]:
    """A case dict as one CSV row of the batch layout (an omitted field is an empty cell)."""

    def text(name: str, value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            if not value:
                return " "  # a blank cell, read as the empty list
            if name == "transit":
                return ";".join(
                    v if isinstance(v, str) else f"{v['country']}:{v['protection']}" for v in value
                )
            if name == "family_in_us":
                return ";".join(f"{v['relation']}:{v['status']}" for v in value)
            return ";".join(value)
        return str(value)

    cells = {name: "" for name in FIELD_NAMES}
    for name, value in case.items():
        if name == "entry":
            for key, v in value.items():
                cells[f"entry.{key}"] = text(key, v)
        else:
            cells[name] = text(name, value)
    return cells


_NATS = [*countries(), "US", "CN", "RU", "AF"]
_STATES = ["TX", "CA", "AZ", "NM", "NY", "VT", "FL", "WA", "ME"]


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


def random_row(rng: random.Random, number: int, wrong: float = 0.05, unknown: float = 0.1) -> dict[str, str]:
    """One CSV row with a wide spread of values (entry dates 2018-2026, many nationalities, fields
    omitted, or null with probability ``unknown``), and now and then (``wrong``) a wrong cell or an
    approximate date. Unknown facts make classes dear to settle (each is searched over the values
    the unknown facts may take), so the quick tests keep them rare."""
    cells = {name: "" for name in FIELD_NAMES}

    def maybe(name: str, value: str, p: float = 0.7) -> None:
        roll = rng.random()
        omitted = (1 - p) * min(1.0, 10 * unknown)  # an omitted field without a default is unknown too
        cells[name] = "null" if roll < unknown else "" if roll > 1 - omitted else value

    entry = _day(rng, dt.date(2018, 1, 1), dt.date(2026, 12, 31))
    cells["id"] = f"r{number}" if rng.random() < 0.8 else ""
    cells["entry.date"] = entry.isoformat()
    maybe(
        "nationalities",
        ";".join(rng.sample(_NATS, rng.choice([1, 1, 1, 2, 3]))) if rng.random() < 0.97 else " ",
    )
    if rng.random() < 0.3:
        maybe("habitual_residence", rng.choice(_NATS))
    if rng.random() < 0.3:
        birth = _day(rng, dt.date(1950, 1, 1), entry)
        cells["birth_date"] = birth.isoformat()
        if rng.random() < 0.3:
            cells["age"] = str(
                entry.year - birth.year - ((entry.month, entry.day) < (birth.month, birth.day))
            )
    else:
        maybe("age", str(rng.choice([rng.randrange(0, 18), rng.randrange(18, 90), 17, 18])))
    maybe("unaccompanied", rng.choice(["true", "false", "TRUE", "False"]))
    maybe("family_unit", rng.choice(["true", "false"]))
    maybe("documents", rng.choice(["none", "none", "us_visa", "us_transit_visa", "visa_waiver"]))
    border = rng.choice(["southern_land", "southern_land", "northern_land", "air", "sea", "southern_coastal"])
    maybe("entry.border", border)
    place = rng.choice(["port_of_entry", "between_ports"])
    if border == "air":
        place = "port_of_entry"
    maybe("entry.place", place)
    states = {"southern_land": ["TX", "CA", "AZ", "NM"], "northern_land": ["NY", "VT", "WA", "ME"]}
    maybe("entry.state", rng.choice(states.get(border, _STATES)), 0.5)
    maybe("entry.appointment", "false" if place == "between_ports" else rng.choice(["true", "false"]), 0.4)
    for flag in (
        "cbp_one_unavailable",
        "medical_emergency",
        "imminent_threat",
        "title42_exception",
        "criminal_record",
    ):
        maybe(flag, rng.choice(["true", "false", "false"]), 0.3)
    decision = None
    if rng.random() < 0.4:
        decision = _day(rng, entry, entry + dt.timedelta(days=900))
        maybe("decision_date", decision.isoformat())
    if rng.random() < 0.3:
        claim = entry + dt.timedelta(days=rng.randrange(0, 400))
        if decision is None or claim <= decision:
            maybe("claim_date", claim.isoformat())
    stops = [
        rng.choice(_NATS)
        + (":" + rng.choice(["none", "pending", "denied_final", "granted"]) if rng.random() < 0.3 else "")
        for _ in range(rng.choice([0, 1, 1, 2, 3]))
    ]
    maybe("transit", ";".join(stops) if stops else " ")
    maybe("trafficking_victim", rng.choice(["true", "false", "false", "false"]), 0.4)
    if rng.random() < 0.2:
        maybe("fear_established_in", ";".join(rng.sample(["GT", "MX", "HN", "SV"], rng.choice([1, 2]))))
    maybe("public_interest", rng.choice(["true", "false", "false"]), 0.3)
    if rng.random() < 0.2:
        maybe(
            "family_in_us",
            rng.choice(["spouse:citizen", "parent:lpr", "sibling:other", "child:asylee;uncle:refugee"]),
        )
    if rng.random() < wrong:  # something wrong, or approximate
        name, value = rng.choice(
            [
                ("entry.date", entry.strftime("%Y-%m")),  # approximate: a month
                ("entry.date", "2020-02-30"),
                ("entry.date", ""),
                ("age", "thirty"),
                ("age", "200"),
                ("nationalities", "XX"),
                ("unaccompanied", "yes"),
                ("documents", "passport"),
                ("entry.state", "ZZ"),
                ("decision_date", (entry - dt.timedelta(days=3)).isoformat()),
                ("birth_date", (entry + dt.timedelta(days=3)).isoformat()),
                ("claim_date", (entry - dt.timedelta(days=1)).isoformat()),
                ("entry.border", "air"),
                ("id", "x" * 1001),
                ("unknown_field", "1"),
            ]
        )
        if name == "entry.border" and value == "air":
            cells["entry.place"] = "between_ports"
        cells[name] = value
    return cells


def population(count: int, seed: int, wrong: float = 0.05, unknown: float = 0.01) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [random_row(rng, n, wrong, unknown) for n in range(count)]


def columns_of(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    names = list(dict.fromkeys(n for r in rows for n in r))
    return {n: [r.get(n, "") for r in rows] for n in names}


def row_path(rows: list[dict[str, str]]) -> list[Any]:
    """Each row as the CSV batch reader and parse_case read it: a Case, or the message."""
    names = list(dict.fromkeys(n for r in rows for n in r))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for r in rows:
        writer.writerow([r.get(n, "") for n in names])
    out: list[Any] = []
    for _number, got in csv_rows(io.BytesIO(buffer.getvalue().encode())):
        if isinstance(got, str):
            out.append(got)
            continue
        try:
            out.append(parse_case(got, source=""))
        except CaseError as exc:
            out.append("; ".join(str(p).removeprefix(": ") for p in exc.problems))
    assert len(out) == len(rows)  # no blank row among them
    return out


def _answer(det: Any) -> tuple[Headline, str]:
    head = Headline(det.outcome, tuple(det.transfer_to), det.asylum, det.wait_in_mexico, tuple(det.expel_to))
    return head, det.evidence


def _check(rows: list[dict[str, str]], policy: str, durable_every: int = 1, coarse: bool = True) -> None:
    result = evaluate_frame(columns_of(rows), policy, rules=RULES, coarse=coarse)
    expected = row_path(rows)
    rejected = dict(result.rejected)
    outcome, evidence = result.outcome, result.evidence
    for row, want in enumerate(expected):
        if isinstance(want, str):
            assert rejected.get(row) == want, (row, rows[row])
            assert result.class_id[row] == -1
            continue
        assert row not in rejected, (row, rejected.get(row), rows[row])
        cls = result.classes[result.class_id[row]]
        if want.spans:
            det = evaluate(want, policy, rules=RULES, engine="durable", counterfactuals=False)
            assert (cls.headline, cls.evidence) == _answer(det), rows[row]
            continue
        fast = _fast(policy).evaluate(want)
        fast_head = Headline(fast.outcome, fast.transfer_to, fast.asylum, fast.wait_in_mexico, fast.expel_to)
        assert cls.headline == fast_head, (row, rows[row])
        assert outcome[row] == outcome_code(fast_head)
        if row % durable_every == 0:
            det = evaluate(want, policy, rules=RULES, engine="durable", counterfactuals=False)
            assert (cls.headline, evidence[row]) == _answer(det), (row, rows[row])


# --- the engines agree --------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
def test_wide_population_matches_fast_and_durable(policy: str) -> None:
    _check(population(80, seed=POLICIES.index(policy) + 1), policy, durable_every=8)


def test_case_key_classes_match_fast_and_durable() -> None:
    """The finer classes (``coarse=False``: the fast path's case key, fields read exactly)."""
    _check(population(50, seed=21), "enacted", durable_every=5, coarse=False)


@pytest.mark.exhaustive
@pytest.mark.parametrize("policy", POLICIES)
def test_large_population_matches_fast_and_durable(policy: str) -> None:
    _check(
        population(1_500, seed=100 + POLICIES.index(policy), wrong=0.02, unknown=0.05),
        policy,
        durable_every=7,
    )


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.lists(cases(unknowns=False), min_size=1, max_size=15), st.sampled_from(POLICIES))
def test_generated_cases_match_durable(drawn: list[dict[str, Any]], policy: str) -> None:
    _check([to_cells(c) for c in drawn], policy)


@pytest.mark.exhaustive
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.lists(cases(), min_size=1, max_size=40), st.sampled_from(POLICIES))
def test_many_generated_cases_match_durable(drawn: list[dict[str, Any]], policy: str) -> None:
    _check([to_cells(c) for c in drawn], policy)


def _expulsion_rows() -> list[dict[str, str]]:
    """Rows that share their rules' truths and statuses but not their countries of expulsion:
    entries while Title 42 was in force (its destination rule by nationality expels an Ecuadorian
    to Ecuador, a Colombian to Colombia), with fear established in some, all or none of them
    (fear in every destination excepts the person from the expulsion)."""
    rows = []
    for n, (nationalities, fear, entry) in enumerate(
        (nats, fear, entry)
        for nats in ("MX", "MX;EC", "EC", "EC;CO", "CO", "PE;CO", "GT")
        for fear in ("", "MX", "EC", "EC;CO")
        for entry in ("2020-06-01", "2021-09-15", "2022-03-01", "2023-06-01")
    ):
        cells = {name: "" for name in FIELD_NAMES}
        cells.update(
            {
                "id": f"t{n}",
                "nationalities": nationalities,
                "age": "30",
                "unaccompanied": "false",
                "family_unit": "false",
                "entry.date": entry,
                "entry.border": "southern_land",
                "entry.place": "between_ports",
                "entry.state": "TX",
                "transit": "GT;MX",
                "fear_established_in": fear,
            }
        )
        rows.append(cells)
    return rows


@pytest.mark.parametrize("policy", POLICIES)
def test_classes_by_truths_have_their_own_countries_of_expulsion(policy: str) -> None:
    """Headlines found from the truths, once per distinct statuses: the countries of expulsion
    still come from each class's own nationalities and fear (durable-rules on every row)."""
    _check(_expulsion_rows(), policy)


@pytest.mark.parametrize("policy", POLICIES)
def test_known_population_by_truths_matches_fast_and_durable(policy: str) -> None:
    """Every tested fact known on every row: every class is found by truths."""
    _check(population(60, seed=40 + POLICIES.index(policy), wrong=0.0, unknown=0.0), policy, durable_every=4)


def test_tables_one_after_another_do_not_mix_their_columns() -> None:
    """What a table found is kept for the next (per policy), by the cells of the fields it read:
    a nationality in one table and the same country as habitual residence in the next are two
    different things."""
    rows = [
        {**cells, "nationalities": country, "habitual_residence": ""}
        for cells, country in zip(
            population(20, seed=51, wrong=0.0, unknown=0.0), ["MX", "GT", "EC", "CU"] * 5, strict=True
        )
    ]
    # every row against the fast path, one in five against durable-rules (the suite's time)
    _check([{k: v for k, v in r.items() if k != "habitual_residence"} for r in rows], "enacted", durable_every=5)
    swapped = [{**r, "habitual_residence": r["nationalities"], "nationalities": "HN"} for r in rows]
    _check([{k: v for k, v in r.items() if k != "nationalities"} for r in swapped], "enacted", durable_every=5)


def test_rows_of_one_class_share_the_answer_and_the_class_is_explained() -> None:
    rows = population(150, seed=7, wrong=0.0)
    result = evaluate_frame(columns_of(rows), "enacted", rules=RULES)
    assert len(result.classes) < len(rows)  # classes are shared
    cls = int(result.class_id[0])
    det = result.determination(cls)
    assert (det.outcome, det.evidence) == (result.classes[cls].headline.outcome, result.evidence[0])
    assert result.explain(cls)[0] == det.explanation[0]
    counts = result.counts()
    assert sum(counts.values()) == len(rows) - len(result.rejected)
    assert counts == {c: int((result.outcome == c).sum()) for c in counts}


def test_policies_share_one_reading() -> None:
    rows = population(60, seed=11)
    both = evaluate_policies(read_columns(columns_of(rows), rules=RULES), ["enacted", "implemented"])
    for policy, result in both.items():
        alone = evaluate_frame(columns_of(rows), policy, rules=RULES)
        assert list(result.outcome) == list(alone.outcome)


# --- invalid rows ---------------------------------------------------------------------------------------


def test_wrong_rows_are_reported_and_the_others_kept() -> None:
    rows = population(60, seed=3, wrong=0.0)
    rows[5]["age"] = "thirty"
    rows[9]["nationalities"] = "XX;MX"
    rows[17]["entry.date"] = ""
    rows[18]["decision_date"] = "2017-01-01"
    rows[21]["entry.state"] = "TX"
    rows[21]["entry.border"] = "northern_land"
    rows[30]["surname"] = "Smith"
    result = evaluate_frame(columns_of(rows), "enacted", rules=RULES)
    got = dict(result.rejected)
    assert {5, 9, 17, 18, 21, 30} <= set(got)
    assert set(got) == {n for n, r in enumerate(row_path(rows)) if isinstance(r, str)}
    assert got[5] == "age: 'thirty' is not a whole number"
    assert got[17] == "entry.date: required"
    assert "northern_land" in got[21]
    assert "surname" in got[30] and "unknown field" in got[30]
    assert (result.class_id >= 0).sum() == 60 - len(got)
    assert result.outcome[5] is None and result.outcome[6] is not None


def test_approximate_dates_are_answered_as_evaluate_answers_them() -> None:
    rows = population(3, seed=5, wrong=0.0)
    rows[1]["entry.date"] = "2019-07"  # the interim final rule's month: undetermined in part
    _check(rows, "enacted")


def test_a_table_no_row_can_be_read_from() -> None:
    with pytest.raises(ColumnarError, match="give the same field twice"):
        evaluate_frame({"entry": ["x"], "entry.date": ["2020-01-01"]}, rules=RULES)
    with pytest.raises(ColumnarError, match="different lengths"):
        evaluate_frame({"entry.date": ["2020-01-01"], "age": ["1", "2"]}, rules=RULES)
    with pytest.raises(ColumnarError, match="not int"):
        evaluate_frame(5, rules=RULES)


@pytest.mark.parametrize(
    ("column", "cell", "value"),
    [
        ("nationalities", "MX; GT", ["MX", "GT"]),
        ("nationalities", "NULL", None),
        ("transit", "GT:denied_final;MX", [{"country": "GT", "protection": "denied_final"}, "MX"]),
        ("family_in_us", "spouse:citizen", [{"relation": "spouse", "status": "citizen"}]),
        ("unaccompanied", "False", False),
        ("age", "30", 30),
        ("age", "x", "age: 'x' is not a whole number"),
        ("unaccompanied", "x", "unaccompanied: 'x' is not true or false"),
        ("entry.date", "2019-12-01", "2019-12-01"),
        # all that follows the first colon is the second half, for the case model to judge, as check does
        ("family_in_us", "spouse:foo:citizen", [{"relation": "spouse", "status": "foo:citizen"}]),
        ("family_in_us", "spouse", "family_in_us: 'spouse' should be relation:status"),
        ("transit", "GT:asylum:junk", [{"country": "GT", "protection": "asylum:junk"}]),
    ],
)
def test_cells_are_read_as_the_csv_layout_says(column: str, cell: str, value: Any) -> None:
    """The CSV layout (README, docs/contract.md): `null` is unknown, lists split on `;`, transit
    items `country:protection`, family items `relation:status`; one reader for batch and columns."""
    try:
        got: Any = cell_value(column, cell)
    except ValueError as exc:
        got = str(exc)
    assert got == value


# --- every kind of table gives the same --------------------------------------------------------------


def _typed_frames(rows: list[dict[str, str]]) -> dict[str, Any]:
    data = columns_of(rows)
    frames: dict[str, Any] = {"dict": data, "numpy": {k: np.array(v, dtype=object) for k, v in data.items()}}
    try:
        import pandas as pd

        frames["pandas"] = pd.DataFrame(data)
        frames["pandas categorical"] = pd.DataFrame({k: pd.Categorical(v) for k, v in data.items()})
    except ImportError:
        pass
    try:
        import polars as pl

        frames["polars"] = pl.DataFrame(data)
    except ImportError:
        pass
    try:
        import pyarrow as pa

        frames["pyarrow"] = pa.table(data)
        frames["pyarrow dictionary"] = pa.table({k: pa.array(v).dictionary_encode() for k, v in data.items()})
    except ImportError:
        pass
    return frames


def test_every_kind_of_table_gives_the_same() -> None:
    rows = population(40, seed=13)
    expected = evaluate_frame(columns_of(rows), "enacted", rules=RULES)
    frames = _typed_frames(rows)
    for kind, frame in frames.items():
        got = evaluate_frame(frame, "enacted", rules=RULES)
        assert list(got.outcome) == list(expected.outcome), kind
        assert list(got.evidence) == list(expected.evidence), kind
        assert got.rejected == expected.rejected, kind


def test_a_slice_of_an_arrow_table_reads_its_own_rows() -> None:
    """A pyarrow table sliced (its columns' indices and nulls read from an offset) gives what
    the same rows give as lists; so do several chunks."""
    pa = pytest.importorskip("pyarrow")
    rows = population(60, seed=17)
    whole = pa.table({k: pa.array(v).dictionary_encode() for k, v in columns_of(rows).items()})
    for start, stop in ((0, 60), (7, 50), (33, 34)):
        expected = evaluate_frame(columns_of(rows[start:stop]), "enacted", rules=RULES)
        got = evaluate_frame(whole.slice(start, stop - start), "enacted", rules=RULES)
        assert list(got.outcome) == list(expected.outcome), (start, stop)
        assert got.rejected == expected.rejected, (start, stop)
    chunked = pa.concat_tables([whole.slice(0, 25), whole.slice(25)])
    assert list(evaluate_frame(chunked, "enacted", rules=RULES).outcome) == list(
        evaluate_frame(columns_of(rows), "enacted", rules=RULES).outcome
    )


def test_typed_columns_read_as_their_text() -> None:
    """Missing values are omitted fields; yes/no, whole numbers and dates as their CSV text."""
    pd = pytest.importorskip("pandas")
    text = {
        "entry.date": ["2019-08-01", "2020-01-15", "2021-03-01"],
        "age": ["30", "", "12"],
        "unaccompanied": ["false", "", "true"],
        "nationalities": ["HN", "GT", "SV"],
    }
    typed = pd.DataFrame(
        {
            "entry.date": pd.to_datetime(text["entry.date"]),
            "age": [30, None, 12],  # floats with a gap
            "unaccompanied": pd.array([False, None, True], dtype="boolean"),
            "nationalities": text["nationalities"],
        }
    )
    a, b = evaluate_frame(text, rules=RULES), evaluate_frame(typed, rules=RULES)
    assert list(a.outcome) == list(b.outcome) and a.rejected == b.rejected == []


def test_a_csv_file_reads_as_the_batch_reader_reads_it(tmp_path: Any) -> None:
    from eligibility.columnar import read_csv

    rows = population(40, seed=17)
    names = list(FIELD_NAMES)
    lines = [",".join(names)]
    for r in rows:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow([r[n] for n in names])
        lines.append(buffer.getvalue())
    lines.insert(5, "")  # a blank line is not a row
    lines.insert(9, "x," * len(names) + "extra")  # more cells than the header names
    data = "\n".join(lines).encode() + b"\n" + b'"\xff\xfe",2020-01-01\n'
    path = tmp_path / "cases.csv"
    path.write_bytes(data)
    read = read_csv(path, rules=RULES)
    result = evaluate_frame(read.columns, "enacted", rules=RULES)
    got = dict(read.rejected) | {int(read.numbers[row]): message for row, message in result.rejected}
    want: dict[int, str] = {}
    answers: dict[int, str] = {}
    for number, row in csv_rows(path):
        if isinstance(row, str):
            want[number] = row
            continue
        try:
            case = parse_case(row, source="")
        except CaseError as exc:
            want[number] = "; ".join(str(p).removeprefix(": ") for p in exc.problems)
            continue
        fast = _fast("enacted").evaluate(case)
        answers[number] = outcome_code(
            Headline(fast.outcome, fast.transfer_to, fast.asylum, fast.wait_in_mexico, fast.expel_to)
        )
    assert got == want
    assert {int(n): o for n, o in zip(read.numbers, result.outcome, strict=True) if o is not None} == answers
    with pytest.raises(ColumnarError, match="appears twice"):
        (tmp_path / "twice.csv").write_text("age,age\n1,2\n")
        read_csv(tmp_path / "twice.csv", rules=RULES)


def test_simulate_counts_a_population_file(tmp_path: Any) -> None:
    from eligibility.simulate.population import count_file, render_file_counts

    rows = population(80, seed=19)
    names = list(FIELD_NAMES)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for r in rows:
        writer.writerow([r[n] for n in names])
    path = tmp_path / "cases.csv"
    path.write_text(buffer.getvalue())
    got = count_file(str(path), ["enacted", "implemented"], rules=RULES)
    for policy in ("enacted", "implemented"):
        want: dict[str, int] = {}
        for case in row_path(rows):
            if not isinstance(case, str):
                if case.spans:
                    det = evaluate(case, policy, rules=RULES, engine="durable", counterfactuals=False)
                    code = outcome_code(_answer(det)[0])
                else:
                    fast = _fast(policy).evaluate(case)
                    code = outcome_code(
                        Headline(
                            fast.outcome, fast.transfer_to, fast.asylum, fast.wait_in_mexico, fast.expel_to
                        )
                    )
                want[code] = want.get(code, 0) + 1
        assert got.counts[policy] == want
    assert got.rows + len(got.rejected) == len(rows)
    assert "enacted" in render_file_counts(got, "text") and render_file_counts(got, "csv").startswith(
        "policy,"
    )


@pytest.mark.parametrize(
    ("column", "why"),
    [
        (5, "not int"),
        ("2020-01-01", "not str"),  # was read as ten one-character rows
        (np.array([["2020-01-01"]]), "not ndarray"),  # was flattened, out of line with the rows
    ],
)
def test_a_mapping_whose_value_is_not_one_column_is_one_error(column: Any, why: str) -> None:
    with pytest.raises(ColumnarError, match=f"column 'entry.date': a column is a list, .*, {why}"):
        evaluate_frame({"entry.date": column}, rules=RULES)


def test_dictionary_indices_are_read_from_their_offset() -> None:
    """A sliced arrow array keeps its parent's buffers and an offset: codes and nulls are read
    from the offset on (what to_pylist gives)."""
    pa = pytest.importorskip("pyarrow")
    from eligibility.columnar import _arrow_indices

    whole = pa.array(["GT", "HN", None, "SV", "HN", None, "GT", "MX", "HN", "SV"]).dictionary_encode()
    for start, length in [(0, 10), (2, 6), (3, 5), (9, 1), (5, 0)]:
        part = whole.slice(start, length).indices
        expected = [-1 if i is None else i for i in part.to_pylist()]
        assert list(_arrow_indices(part)) == expected, (start, length)


def test_dictionary_indices_of_every_width_are_read() -> None:
    """Indices of 8, 16, 32 or 64 bits, signed or not, with nulls: the same codes (32 bits are
    read in place, the others widened)."""
    pa = pytest.importorskip("pyarrow")
    from eligibility.columnar import _arrow_indices

    values = [0, 1, None, 2, 1, None, 0]
    expected = [-1 if v is None else v for v in values]
    for kind in (pa.int8(), pa.uint8(), pa.int16(), pa.uint16(), pa.int32(), pa.uint32(), pa.int64()):
        indices = pa.array(values, type=kind)
        for start, length in ((0, 7), (1, 5)):
            got = _arrow_indices(indices.slice(start, length))
            assert list(got) == expected[start : start + length], (kind, start)


def test_codes_kept_in_fewer_bits_keep_every_value() -> None:
    """A table of codes below ``card`` narrowed to 8, 16 or 32 bits (``_small``) keeps every code,
    at each width's edge (a code of 128 in 8 bits would read as -128)."""
    from eligibility.columnar import _small

    for card, bits in ((2, 8), (128, 8), (129, 16), (1 << 15, 16), ((1 << 15) + 1, 32), (1 << 20, 32)):
        narrowed = _small(np.arange(card, dtype=np.int64), card)
        assert narrowed.dtype.itemsize * 8 == bits, card
        assert narrowed.tolist() == list(range(card)), card


def test_class_ids_tell_apart_exactly_the_distinct_combinations() -> None:
    """Codes packed into one class id, whatever their integer types and however large the
    product of their counts: two rows have one id if and only if they have the same codes, and
    the ids are 0 to count - 1 (codes of 8 bits multiplied in 8 bits, or a product past 2**31
    in 32 bits, would make rows of different codes one class)."""
    from eligibility.columnar import _classes

    rng = np.random.default_rng(5)
    rows = 3_000
    parts = [
        (rng.integers(0, 100, rows).astype(np.int8), 100),
        (rng.integers(0, 120, rows).astype(np.int16), 120),
        (rng.integers(0, 5_000_000, rows).astype(np.int32), 5_000_000),
        (rng.integers(0, 2, rows).astype(np.int8), 2),
        (rng.integers(0, 3_000, rows).astype(np.int64), 3_000),
        (rng.integers(0, 10, rows).astype(np.int32), 1 << 30),  # ids 4 apart times 2**30: 2**32 apart
    ]
    parts[2][0][: rows // 2] = parts[2][0][rows // 2 :]  # rows alike in some parts
    for chosen in ([0, 1], [0, 2], [2, 4], [3, 0, 1, 2, 4], [1, 3], [0, 5], [4, 5]):
        given = [parts[n] for n in chosen]
        ids, count = _classes(given, rows)
        combos = list(zip(*(codes.tolist() for codes, _ in given), strict=True))
        number: dict[tuple[int, ...], int] = {}
        for combo, i in zip(combos, ids.tolist(), strict=True):
            assert number.setdefault(combo, i) == i, chosen  # the same codes: the same id
        assert len(set(number.values())) == len(number) == count, chosen  # different codes: different ids
        assert sorted(set(ids.tolist())) == list(range(count)), chosen
