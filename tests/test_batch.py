"""`eligibility batch`: every valid row written in order, every bad row reported, output atomic."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eligibility import batch, evaluate
from eligibility_cli.main import main

HN_ADULT = {"nationalities": ["HN"], "age": 30, "family_unit": False, "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"}}
MX_ADULT = {"nationalities": ["MX"], "age": 40, "entry": {"date": "2020-01-10", "border": "southern_land", "place": "port_of_entry"}}
UAC = {"nationalities": ["SV"], "age": 15, "unaccompanied": True, "entry": {"date": "2019-12-20", "border": "southern_land"}}


def _cases(n: int) -> list[dict[str, Any]]:
    base = [HN_ADULT, MX_ADULT, UAC]
    return [dict(base[i % 3], id=f"c{i}") for i in range(n)]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _expected(case: dict[str, Any], policy: str = "enacted") -> dict[str, Any]:
    """The compact line: `check`'s determination (durable-rules) without findings and counterfactuals."""
    data: dict[str, Any] = json.loads(evaluate(case, policy, counterfactuals=False).to_json())
    for inst in data["instruments"]:
        del inst["findings"]
    del data["would_change_if"]
    del data["engine"]
    return data


def _lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        data.pop("engine")
        out.append(data)
    return out


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_rows_come_out_in_order_and_match_check(tmp_path: Path, jobs: str) -> None:
    cases = _cases(30)
    src = _write(tmp_path / "in.jsonl", [json.dumps(c) for c in cases])
    result = CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / "out.jsonl"), "--jobs", jobs])
    assert result.exit_code == 0, result.output
    got = _lines(tmp_path / "out.jsonl")
    assert [g.pop("row") for g in got] == list(range(1, 31))
    assert got == [_expected(c) for c in cases]
    # scenario 1 (HN adult, Dec 2019: to GT), #23 (a Mexican under the signed text: to GT), Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)) (UAC excepted)
    assert [g["outcome"] for g in got[:3]] == ["transfer", "transfer", "process_in_us"]
    assert "30 rows" in result.output and "transfer 20" in result.output


@pytest.mark.skipif(sys.platform != "linux", reason="workers start with the parent's classes only with fork")
def test_workers_share_the_classes_they_evaluate(tmp_path: Path) -> None:
    """Many chunks of three classes: with two workers the output is byte for byte that of one, and
    no worker evaluates again a class the parent evaluated in the first chunk."""
    cases = _cases(3000)
    src = _write(tmp_path / "in.jsonl", [json.dumps(c) for c in cases])
    assert src.stat().st_size > 4 * batch.CHUNK  # several chunks: the workers do run
    one = batch.run(str(src), str(tmp_path / "one.jsonl"), batch.Options(), jobs=1)
    two = batch.run(str(src), str(tmp_path / "two.jsonl"), batch.Options(), jobs=2)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert one.rows == two.rows == 3000
    assert one.classes == two.classes == 3  # HN adult, MX adult, unaccompanied child


def test_bad_rows_are_reported_with_their_row_number_and_the_rest_is_written(tmp_path: Path) -> None:
    lines = [
        json.dumps(HN_ADULT),
        "{not json",
        "",  # a blank line is not a row, but it keeps its line number
        json.dumps({"entry": {"date": "2019-02-30"}}),
        json.dumps({"entry": {"date": "2019-12-01"}, "nationalty": ["HN"]}),
        "[1, 2]",
        json.dumps(MX_ADULT),
        json.dumps({"entry": {"date": "2019-12-01"}, "id": "x" * (batch.MAX_LINE + 10)}),
        json.dumps(UAC),
    ]
    src = _write(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["batch", str(src), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 3
    errors = [line for line in result.output.splitlines() if line.startswith(str(src))]
    assert errors == [
        f"{src}:2: malformed JSON: Expecting property name enclosed in double quotes (column 2)",
        f"{src}:4: entry.date: '2019-02-30' is not a real calendar date",
        f"{src}:5: nationalty: unknown field (did you mean 'nationalities'?)",
        f"{src}:6: a case must be a JSON object",
        f"{src}:8: line of {len(lines[7]):,} bytes, over the {batch.MAX_LINE:,}-byte limit",
    ]
    assert [row["row"] for row in _lines(out)] == [1, 7, 9]
    assert "8 rows" in result.output and "5 rejected" in result.output


def test_chunking_keeps_row_numbers_and_skips_long_lines_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny chunks and a tiny line limit, so that rows straddle every boundary the reader makes."""
    monkeypatch.setattr(batch, "CHUNK", 64)
    monkeypatch.setattr(batch, "MAX_LINE", 250)
    long_row = json.dumps(dict(HN_ADULT, id="y" * 300))
    lines = [json.dumps(c) for c in _cases(12)]
    lines[4] = long_row
    lines[11] = long_row  # the last line, without a final newline
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines), encoding="utf-8")
    rejected: list[batch.Rejected] = []
    out = tmp_path / "out.jsonl"
    summary = batch.run(str(src), str(out), batch.Options(), jobs=1, on_reject=rejected.append)
    assert [r.row for r in rejected] == [5, 12]
    assert [row["row"] for row in _lines(out)] == [1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
    assert summary.rows == 12 and summary.rejected == 2


def test_an_interrupted_run_leaves_no_output_and_keeps_an_old_file(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [json.dumps(c) for c in _cases(10)])
    out = tmp_path / "out.jsonl"
    out.write_text("the previous run's output\n")

    def interrupt(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batch.run(str(src), str(out), batch.Options(), jobs=1, on_progress=interrupt)
    assert out.read_text() == "the previous run's output\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_csv_in_and_out(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "id,nationalities,age,unaccompanied,entry.date,entry.border,entry.place,transit\n"
        "a,HN,30,false,2019-12-01,southern_land,between_ports,GT;MX\n"
        "b,SV,15,true,2019-12-20,southern_land,port_of_entry,\n"
        "c,HN,thirty,false,2019-12-01,southern_land,between_ports,\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 3
    assert f"{src}:4: age: 'thirty' is not a whole number" in result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"))))
    assert list(rows[0]) == list(batch.CSV_COLUMNS)
    assert [(r["row"], r["id"], r["outcome"], r["transfer_to"]) for r in rows] == [
        ("2", "a", "transfer", "GT"),
        ("3", "b", "process_in_us", ""),  # Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)): unaccompanied children are excepted
    ]
    assert rows[0]["explanation"].startswith("Transfer to Guatemala (GT)")


NEW_LAW_CSV = (
    "id,nationalities,age,unaccompanied,entry.date,entry.border,entry.place,entry.appointment,documents,"
    "decision_date,transit,cbp_one_unavailable,medical_emergency,imminent_threat,title42_exception,criminal_record\n"
    "t42,HN,30,false,2021-05-01,southern_land,between_ports,,,,GT;MX,,,,false,\n"
    "t42-exception,HN,30,false,2021-05-01,southern_land,between_ports,,,,GT;MX,,,,TRUE,\n"
    "coastal,EC,30,false,2021-05-01,southern_coastal,between_ports,,,,,,,,,\n"
    "parole,GT,30,false,2021-05-01,southern_land,port_of_entry,,parole_travel_authorization,,,,,,,\n"
    "appointment,HN,30,false,2023-06-01,southern_land,port_of_entry,true,,,GT;MX,,,,,\n"
    "cbp-one,HN,30,false,2023-06-01,southern_land,port_of_entry,,,,GT;MX,true,,,,\n"
    "medical,HN,30,false,2023-06-01,southern_land,between_ports,,,,GT;MX,,true,,,\n"
    "threat,HN,30,false,2023-06-01,southern_land,between_ports,,,,GT;MX,,,true,,\n"
    "lawful-pathways,HN,30,false,2023-06-01,southern_land,between_ports,false,,,GT;MX,false,false,false,,\n"
    "record,HN,30,false,2019-12-01,southern_land,between_ports,,,2026-03-01,GT;MX,,,,,true\n"
    "bad,HN,30,false,2021-05-01,southern_land,between_ports,maybe,,,,,,,,\n"
    "unknown,HN,30,false,2021-05-01,southern_land,between_ports,,,,GT;MX,,,,null,\n"
)


def test_csv_reads_the_facts_of_2020_to_2026(tmp_path: Path) -> None:
    """In a CSV batch: the new columns are booleans like the old ones, the new
    values are accepted, and the output's expel_to column names the countries of expulsion."""
    src = tmp_path / "in.csv"
    src.write_text(NEW_LAW_CSV, encoding="utf-8")
    result = CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / "out.csv"), "--jobs", "1"])
    assert result.exit_code == 3
    assert f"{src}:12: entry.appointment: 'maybe' is not true or false" in result.output
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8")))}
    got = {k: (r["outcome"], r["transfer_to"], r["expel_to"], r["asylum"]) for k, r in rows.items()}
    assert got == {
        "t42": ("expel", "", "MX", "not_in_us"),  # rules/ citations
        "t42-exception": ("process_in_us", "", "", "eligible"),  # C3.3: an individual exception
        "coastal": ("expel", "", "EC", "not_in_us"),  # C3.2: coastal arrivals from 2020-05-26; C10.4
        "parole": ("process_in_us", "", "", "eligible"),  # C3.3 valid documents at a port; C10.7
        "appointment": ("process_in_us", "", "", "eligible"),  # C4.2 and C10.10
        "cbp-one": ("process_in_us", "", "", "eligible"),  # C4.2
        "medical": ("process_in_us", "", "", "eligible"),  # C4.3 and C10.10
        "threat": ("process_in_us", "", "", "eligible"),  # C4.3
        "lawful-pathways": ("process_in_us", "", "", "barred"),  # C10.10
        "record": ("transfer", "EC;GT;PY", "", "not_in_us"),  # C6 and C10.19: Uganda takes no one with a record
        "unknown": ("undetermined", "", "", "undetermined"),
    }
    assert rows["unknown"]["missing_facts"] == "title42_exception"
    assumed = {k: r["assumed"] for k, r in rows.items()}
    assert "title42_exception" not in assumed["t42"] and "title42_exception=false" in assumed["appointment"]
    assert "entry.appointment" not in assumed["appointment"] and "entry.appointment=false" in assumed["t42"]
    assert "criminal_record" not in assumed["record"] and "cbp_one_unavailable" not in assumed["cbp-one"]
    lines = tmp_path / "out.jsonl"
    assert CliRunner().invoke(main, ["batch", str(src), "-o", str(lines), "-q", "--engine", "durable"]).exit_code == 3
    assert [(d["id"], d["expel_to"]) for d in _lines(lines)][:3] == [("t42", ["MX"]), ("t42-exception", []), ("coastal", ["EC"])]


def test_the_fast_engine_gives_the_same_lines_for_the_law_of_2020_to_2026(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(NEW_LAW_CSV, encoding="utf-8")
    for engine in ("fast", "durable"):
        CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / f"{engine}.jsonl"), "--engine", engine, "-q"])
    assert _lines(tmp_path / "fast.jsonl") == _lines(tmp_path / "durable.jsonl")


def test_a_decision_after_the_review_date_carries_its_caveat_in_a_batch(tmp_path: Path) -> None:
    """evidence and caveats (rules/policies.yaml) and scenario 18: a decision after 2026-12-01 says that later law is not encoded."""
    late = dict(HN_ADULT, decision_date="2027-01-01")
    src = _write(tmp_path / "in.jsonl", [json.dumps(late)])
    assert any("2026-12-01" in c for c in evaluate(late, counterfactuals=False).caveats)
    for engine in ("durable", "fast"):
        out = tmp_path / f"{engine}.jsonl"
        assert CliRunner().invoke(main, ["batch", str(src), "-o", str(out), "-q", "--engine", engine]).exit_code == 0
        assert any("the law after 2026-12-01 is not encoded" in c for c in _lines(out)[0]["caveats"]), engine


def test_durable_engine_gives_the_same_lines(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [json.dumps(c) for c in _cases(6)])
    for engine in ("fast", "durable"):
        result = CliRunner().invoke(
            main, ["batch", str(src), "-o", str(tmp_path / f"{engine}.jsonl"), "--engine", engine, "-q"]
        )
        assert result.exit_code == 0 and result.output == ""
    assert _lines(tmp_path / "fast.jsonl") == _lines(tmp_path / "durable.jsonl")


def test_standard_input_to_standard_output_in_a_real_process(tmp_path: Path) -> None:
    cases = _cases(5)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "eligibility"), "batch", "-", "--jobs", "2", "--policy", "implemented"],
        input="\n".join(json.dumps(c) for c in cases),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    got = [json.loads(line) for line in run.stdout.splitlines()]
    assert [g["policy"] for g in got] == ["implemented"] * 5
    # implemented: HN single adults from 2019-11-21 -> GT; Mexicans never
    assert [g["outcome"] for g in got] == ["transfer", "process_in_us", "process_in_us", "transfer", "process_in_us"]
    assert run.stderr.startswith("5 rows in ")  # no progress bar when standard error is not a terminal


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["batch", "missing.jsonl"], "error: missing.jsonl: no such file"),
        (["batch", "{src}", "--policy", "nope"], "error: --policy: unknown policy 'nope'"),
        (["batch", "{src}", "--jobs", "0"], "error: --jobs/-j: 0 is not in the range x>=1"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    src = _write(tmp_path / "in.jsonl", [json.dumps(HN_ADULT)])
    result = CliRunner().invoke(main, [a.format(src=src) for a in args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.splitlines()) == 1


def test_sigterm_mid_run_removes_the_partial_output(tmp_path: Path) -> None:
    """A real process, stopped while it writes: exit 130, no output, no temporary files left."""
    import signal
    import time

    src = _write(tmp_path / "in.jsonl", [json.dumps(c) for c in _cases(150_000)])  # long enough to be stopped mid-run
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "eligibility"), "batch", str(src), "-o", str(out_dir / "o.jsonl"), "-j", "2"],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".partial") for p in out_dir.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == "interrupted: no output file was written\n"
    assert list(out_dir.iterdir()) == []


def test_csv_output_carries_evidence_and_caveats(tmp_path: Path) -> None:
    """A researcher reading the CSV sees how firm each answer is: the 2025 agreements rest on
    unverified readings and are challenged in U.T. v. Bondi (D.D.C. No. 1:20-cv-00116)."""
    src = tmp_path / "in.csv"
    src.write_text(
        "id,nationalities,age,unaccompanied,entry.date,entry.border,entry.place,decision_date\n"
        "hn,HN,30,false,2025-03-01,southern_land,between_ports,2026-03-01\n",
        encoding="utf-8",
    )
    for engine in ("fast", "durable"):
        out = tmp_path / f"{engine}.csv"
        assert CliRunner().invoke(main, ["batch", str(src), "-o", str(out), "-q", "--engine", engine]).exit_code == 0
        [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
        assert (row["outcome"], row["evidence"]) == ("transfer", "unverified"), engine
        assert "U.T. v. Bondi" in row["caveats"]
        assert "trafficking_victim=false" in row["assumed"]  # booleans as in JSON, not Python


@pytest.mark.skipif(sys.platform != "linux", reason="the planted failure reaches the workers through fork")
def test_a_chunk_that_fails_in_a_worker_stops_the_run_without_hanging(tmp_path: Path) -> None:
    """When one chunk fails in a worker, the run ends with its error and leaves no output file
    (the other workers stop with the pool, their part files are removed)."""
    src = _write(tmp_path / "in.jsonl", [json.dumps(c) for c in _cases(3000)])
    script = textwrap.dedent(f"""
        import sys
        from eligibility import batch
        real = batch._run_lines
        def failing(rows):
            if any(number > 2000 for number, _ in rows):
                raise RuntimeError("planted failure")
            return real(rows)
        batch._run_lines = failing
        try:
            batch.run({str(src)!r}, {str(tmp_path / "out.jsonl")!r}, batch.Options(), jobs=2)
        except RuntimeError as exc:
            print("stopped:", exc)
            sys.exit(7)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 7 and "planted failure" in done.stdout, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no output, partial file or parts


# -- hostile input: each one a regression test (the project's issue on hostile input) -----------


def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_is_written_inert(tmp_path: Path) -> None:
    """CSV injection: an id such as =HYPERLINK(...) comes back with a leading apostrophe."""
    import csv

    source = tmp_path / "in.csv"
    source.write_text(
        'id,nationalities,entry.date\n=HYPERLINK("http://x"),HN,2019-12-01\n+1,HN,2019-12-01\n@a,HN,2019-12-01\n-2,HN,2019-12-01\nplain,HN,2019-12-01\n'
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["batch", str(source), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    ids = [row["id"] for row in csv.DictReader(out.open())]
    assert ids == ["'=HYPERLINK(\"http://x\")", "'+1", "'@a", "'-2", "plain"]


def test_a_csv_with_a_byte_order_mark_reads_its_first_column(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"\xef\xbb\xbfid,nationalities,entry.date\na,HN,2019-12-01\n")
    result = CliRunner().invoke(main, ["batch", str(source), "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["id"] == "a"


def test_an_output_that_is_a_directory_is_one_line_with_exit_2_and_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"nationalities": ["HN"], "entry": {"date": "2019-12-01"}}\n')
    folder = tmp_path / "out"
    folder.mkdir()
    result = CliRunner().invoke(main, ["batch", str(source), "-o", str(folder), "-q"])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {folder}: is a directory; give the output file's name"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out"]  # no stray partial file
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(("header", "message"), [
    ("id,entry,entry.date", "columns 'entry' and 'entry.date' give the same field twice"),
    ("id,nationalities,nationalities.x,entry.date", "columns 'nationalities' and 'nationalities.x' give the same field twice"),
    ("id,id,entry.date", "column 'id' appears twice"),
])
def test_a_csv_header_no_row_can_be_read_with_is_one_line_with_exit_2(tmp_path: Path, header: str, message: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text(header + "\n" + ",".join(["a"] * (header.count(",") + 1)) + "\n")
    result = CliRunner().invoke(main, ["batch", str(source), "-q"])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"error: {source}: header: {message}"


def test_a_csv_row_that_is_not_utf8_or_has_extra_cells_is_reported_and_the_others_are_written(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(
        b"id,nationalities,entry.date\n"
        b"a,HN,2019-12-01\n"
        b"b\xff,HN,2019-12-01\n"
        b"c,HN,2019-12-01,extra\n"
        b"d,HN,2019-12-01\n"
    )
    result = CliRunner().invoke(main, ["batch", str(source)])
    assert result.exit_code == 3, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [d["id"] for d in lines] == ["a", "d"]
    assert f"{source}:3: not UTF-8 text" in result.output
    assert f"{source}:4: 4 cells, but the header names 3 columns" in result.output


def test_a_row_nested_too_deeply_a_huge_number_or_a_lone_surrogate_is_reported_and_the_batch_goes_on(tmp_path: Path) -> None:
    """JSONL in, CSV out: each bad row is one line naming its row; the good rows are all written."""
    good = '{"id": "%s", "nationalities": ["HN"], "entry": {"date": "2019-12-01"}}'
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([
        good % "a",
        "[" * 50_000,
        '{"id": "b", "age": ' + "9" * 5000 + ', "entry": {"date": "2019-12-01"}}',
        '{"id": "\\ud800", "entry": {"date": "2019-12-01"}}',
        good % "z",
    ]) + "\n")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["batch", str(source), "-o", str(out)])
    assert result.exit_code == 3, result.output
    assert [row["id"] for row in csv.DictReader(out.open())] == ["a", "z"]
    assert f"{source}:2: malformed JSON: nested too deeply" in result.output
    assert f"{source}:3: malformed JSON: a number too long to read" in result.output
    assert f"{source}:4: id: not valid Unicode text (a lone surrogate)" in result.output
    assert "internal error" not in result.output and "set_int_max_str_digits" not in result.output


def test_a_key_given_twice_is_refused_as_check_refuses_it_also_after_a_row_of_its_shape(tmp_path: Path) -> None:
    """A legal fact must not silently take the last of two values: check refuses such a case, and
    batch refused none (the last value won), even on a row whose shape it had read before."""
    rows = [
        '{"id": "a", "nationalities": ["HN"], "age": 30, "entry": {"date": "2019-12-01"}}',
        '{"id": "b", "nationalities": ["HN"], "age": 31, "age": 40, "entry": {"date": "2019-12-02"}}',
        '{"id": "c", "nationalities": ["HN"], "age": 32, "entry": {"date": "2019-12-02", "date": "2019-12-03"}}',
        '{"id": "d", "nationalities": ["HN"], "\\u0061ge": 33, "age": 34, "entry": {"date": "2019-12-04"}}',
        '{"id": "e", "nationalities": ["HN"], "age": 35, "entry": {"date": "2019-12-05"}}',
    ]
    source = _write(tmp_path / "in.jsonl", rows)
    for jobs in ("1", "2"):
        result = CliRunner().invoke(main, ["batch", str(source), "--jobs", jobs])
        assert result.exit_code == 3, result.output
        assert [d["id"] for d in map(json.loads, result.stdout.splitlines()) if "id" in d] == ["a", "e"]
        for row, key in ((2, "age"), (3, "date"), (4, "age")):
            assert f"{source}:{row}: the key '{key}' is given twice in one object" in result.output
    checked = CliRunner().invoke(main, ["check", "-"], input=rows[1])
    assert checked.exit_code == 2 and "the key 'age' is given twice in one object" in checked.output


# -- rows read by shape (batch._Shapes) against the Case model ---------------------------------


def _population(name: str, count: int, seed: int) -> list[dict[str, Any]]:
    """Rows of bench/batch_populations.py (realistic, or drawn across the whole fact space)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "batch_populations", Path(__file__).resolve().parent.parent / "bench" / "batch_populations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.rows(name, count, seed))


def _variants(row: dict[str, Any]) -> list[bytes]:
    """The row, then the same shape with varying values the model takes, refuses or reads
    differently: each a line to compare."""
    entry = row["entry"]["date"]
    changes: list[tuple[str, Any]] = [
        ("id", "another"), ("id", None), ("id", "x" * 1000), ("id", "x" * 1001), ("id", 7), ("id", "caf\u00e9 \U0001f600"),
        ("id", "a\u0000b"), ("age", 0), ("age", 130), ("age", 131), ("age", -1), ("age", True), ("age", 5.0),
        ("age", None), ("age", "30"), ("age", 10**30), ("entry.date", "2019-02-29"), ("entry.date", "2020-02-29"),
        ("entry.date", "2019-1-01"), ("entry.date", " 2019-01-01"), ("entry.date", "2019-01-01\n"),
        ("entry.date", "\uff12019-01-01"), ("entry.date", "2019-12"), ("entry.date", "2019-12-01..2019-12-20"),
        ("entry.date", None), ("entry.date", 20190101), ("entry.date", "0001-01-01"), ("entry.date", "9999-12-31"),
        ("birth_date", "1990-05-05"), ("birth_date", entry), ("birth_date", "2030-01-01"), ("birth_date", None),
        ("claim_date", entry), ("claim_date", "2017-01-01"), ("claim_date", "2027-06-01"), ("claim_date", "2019-13-01"),
        ("decision_date", entry), ("decision_date", "2017-01-01"), ("decision_date", "2026-12-31"),
        ("decision_date", "2020-06"), ("decision_date", None),
    ]
    lines = [json.dumps(row).encode()]
    for name, value in changes:
        changed = json.loads(json.dumps(row))
        if name == "entry.date":
            changed["entry"]["date"] = value
        else:
            changed[name] = value
        lines.append(json.dumps(changed).encode())
    text = json.dumps(row)
    lines += [
        text.replace('"entry"', '"age": 3, "age"', 1).encode(),  # a key given twice: refused, as check refuses it
        text.replace('"entry": {', '"entry": {"date": "2019-12-01", ', 1).encode(),
        text.replace('"entry"', '"\\u0061ge": 3, "age"', 1).encode(),  # the same key, spelled with an escape
        text.replace("{", '{"unknown": 1, ', 1).encode(),
        text[:-1].encode(),  # cut short
        text.encode("utf-16"),
        text.replace('"id": "', '"id": "\\ud800', 1).encode(),
        text.encode() + b" ",
    ]
    return lines


def _read(read: Any, raw: bytes) -> Any:
    try:
        case = read(raw)
    except Exception as exc:  # noqa: BLE001 (the error itself is compared)
        return ("error", type(exc).__name__, str(exc))
    return ("case", case, case.model_fields_set, case.entry.model_fields_set, case.spans)


@pytest.mark.parametrize("population", ["realistic", "fact_space"])
def test_rows_read_by_shape_are_the_cases_the_model_reads(population: str) -> None:
    """Every line, valid or not, gives what the Case model gives (batch._case): an equal Case with
    the same fields given, or the same error; most of them after a row of the same shape was
    kept, so that the kept Case is what is reused."""
    shapes = batch._Shapes()
    read = 0
    for row in _population(population, 60, 7):
        for raw in _variants(row):
            assert _read(shapes.case, raw) == _read(batch._case, raw), raw
            read += 1
    assert shapes.known  # the rows of a shape were taken from a kept Case
    assert read > 60 * 40


def test_the_batch_output_is_the_same_with_and_without_reading_by_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated rows and their hostile variants, through the whole batch (one process and two):
    the same bytes and the same rejected rows as when every row is read by the Case model."""
    lines = [raw for row in _population("realistic", 8, 11) + _population("fact_space", 4, 12) for raw in _variants(row)]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n")
    got = _with_and_without_shapes(source, "case", monkeypatch)
    assert got["shapes-1"] == got["shapes-2"] == got["model-1"]
    assert 0 < len(got["model-1"][1]) < len(lines)  # some rows refused, most written


def _with_and_without_shapes(
    source: Path, reader: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, tuple[bytes, list[batch.Rejected]]]:
    """The batch of ``source`` read by shape in one process and in two, then with every row read
    by the Case model (``reader``, the ``_Shapes`` method, replaced by ``_case``): the output's
    bytes and the rejected rows of each."""
    got: dict[str, tuple[bytes, list[batch.Rejected]]] = {}
    for how in ("shapes-1", "shapes-2", "model-1"):
        if how == "model-1":
            monkeypatch.setattr(batch._Shapes, reader, lambda self, row: batch._case(row))
        rejected: list[batch.Rejected] = []
        out = source.parent / f"{how}.jsonl"
        in_format = "csv" if source.suffix == ".csv" else "jsonl"
        batch.run(str(source), str(out), batch.Options(), jobs=int(how[-1]), in_format=in_format, on_reject=rejected.append)
        got[how] = (out.read_bytes(), rejected)
    return got


def _csv_variants(row: dict[str, Any]) -> list[dict[str, str]]:
    """The row as CSV cells, then the same shape with varying cells the model takes, refuses or
    reads differently (each cell as a spreadsheet would hold it)."""
    from eligibility.case import FIELD_NAMES
    from tests.test_columnar import to_cells

    cells = to_cells(row)
    entry = cells["entry.date"]
    changes = [
        ("id", "another"), ("id", "null"), ("id", ""), ("id", "x" * 1000), ("id", "x" * 1001),
        ("id", "caf\u00e9 \U0001f600"), ("id", " padded "), ("age", "0"), ("age", "130"), ("age", "131"),
        ("age", "-1"), ("age", "030"), ("age", " 30"), ("age", "null"), ("age", ""), ("age", "true"),
        ("entry.date", "2019-02-29"), ("entry.date", "2020-02-29"), ("entry.date", "2019-1-01"),
        ("entry.date", " 2019-01-01"), ("entry.date", "2019-12"), ("entry.date", "2019-12-01..2019-12-20"),
        ("entry.date", "null"), ("entry.date", ""), ("entry.date", "20190101"), ("entry.date", "0001-01-01"),
        ("entry.date", "9999-12-31"), ("birth_date", "1990-05-05"), ("birth_date", entry),
        ("birth_date", "2030-01-01"), ("birth_date", "null"), ("birth_date", ""), ("claim_date", entry),
        ("claim_date", "2017-01-01"), ("claim_date", "2027-06-01"), ("claim_date", "2019-13-01"),
        ("claim_date", "NULL"), ("decision_date", entry), ("decision_date", "2017-01-01"),
        ("decision_date", "2026-12-31"), ("decision_date", "2020-06"), ("decision_date", "null"),
        ("decision_date", ""),
    ]
    variants = [dict(cells)]
    for name, value in changes:
        variants.append({**cells, name: value})
    return [{name: v[name] for name in FIELD_NAMES} for v in variants]


@pytest.mark.parametrize("population", ["realistic", "fact_space"])
def test_csv_rows_read_by_shape_are_the_cases_the_model_reads(population: str) -> None:
    """CSV rows (read into case dicts as the CSV reader reads them) give by their shape what the
    Case model gives: an equal Case with the same fields given, or the same error."""
    from eligibility.batch.rows import csv_case

    shapes = batch._Shapes()
    read = 0
    for row in _population(population, 60, 7):
        for cells in _csv_variants(row):
            data = csv_case(list(cells), list(cells.values()))
            if isinstance(data, str):  # a cell the reader refuses: the row never reaches a Case
                continue
            assert _read(shapes.case_of, data) == _read(batch._case, data), cells
            read += 1
    assert shapes.rows  # the rows of a shape were taken from a kept Case
    assert read > 60 * 40


def test_a_csv_batch_is_the_same_with_and_without_reading_by_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated CSV rows and their hostile variants, through the whole batch (one process and
    two): the same bytes and the same rejected rows as when every row is read by the Case model."""
    rows = [v for row in _population("realistic", 8, 11) + _population("fact_space", 4, 12) for v in _csv_variants(row)]
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(rows[0]))
        writer.writerows([list(r.values()) for r in rows])
    got = _with_and_without_shapes(source, "case_of", monkeypatch)
    assert got["shapes-1"] == got["shapes-2"] == got["model-1"]
    assert 0 < len(got["model-1"][1]) < len(rows)  # some rows refused, most written


def test_rows_read_by_shape_get_the_headline_durable_rules_gives(tmp_path: Path) -> None:
    """The batch lines of generated rows (read by shape after the first of each) carry the
    headline of evaluate(..., engine="durable") for the same case."""
    rows = []
    for row in _population("realistic", 20, 3):  # each twice: the second is read by its shape
        again = dict(row, id=row["id"] + "-again")
        if "age" in row and "birth_date" not in row and row["age"] < 130:
            again["age"] = row["age"] + 1
        rows += [row, again]
    source = _write(tmp_path / "in.jsonl", [json.dumps(r) for r in rows])
    batch.run(str(source), str(tmp_path / "out.jsonl"), batch.Options(), jobs=1)
    got = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(got) == len(rows)
    for line, row in zip(got, rows, strict=True):
        want = evaluate(row, engine="durable", counterfactuals=False)
        assert (line["id"], line["outcome"], line["transfer_to"], line["expel_to"], line["asylum"], line["wait_in_mexico"]) == (
            row["id"], want.outcome, want.transfer_to, want.expel_to, want.asylum, want.wait_in_mexico
        ), row


def test_a_csv_cell_over_the_limit_is_its_rows_error_and_the_others_are_written(tmp_path: Path) -> None:
    """A cell of 1.1 million characters ended the whole batch with the csv module's own error
    (its limit is 131,072): it is now that row's error; a cell of 200,000 is read."""
    source = tmp_path / "in.csv"
    source.write_text("id,nationalities,entry.date\na,HN,2019-12-01\nb," + "x" * 1_100_000 + ",2019-12-01\n"
                      "c," + "y" * 200_000 + ",2019-12-01\nd,SV,2019-12-02\n")
    result = CliRunner().invoke(main, ["batch", str(source)])
    assert result.exit_code == 3, result.output[:500]
    assert [d["id"] for d in map(json.loads, result.stdout.splitlines()) if "id" in d] == ["a", "d"]
    assert f"{source}:3: malformed CSV: field larger than field limit" in result.output
    assert f"{source}:4: nationalities.0:" in result.output
