"""The worked example's diff (examples/us-mx-stca): the enacted law against the enacted law of 2019
plus a hypothetical U.S.-Mexico agreement. The two policies screen different instruments before
the agreements (enacted: Title 42, then the STCA; the example: the STCA alone, rules/policies.yaml
and examples/us-mx-stca/rules/policies.yaml), which once made every part's search split on the
shared STCA and on Title 42's countries of expulsion, past every budget."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import load_rules
from eligibility.analysis.diff import Describer, _PartSearch, diff
from eligibility.analysis.partition import representatives
from eligibility.engine.program import compile_policy
from eligibility.ruleset.facts import UNKNOWN
from eligibility.testing import cases
from tests.test_diff import _check_parts, _fill

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "us-mx-stca" / "rules"
A, B = "enacted", "hypothetical-mexico-2019"


@functools.cache
def _rules() -> Any:
    return load_rules(str(EXAMPLE), extend=True)


def _search(part: tuple[str, str]) -> _PartSearch:
    rules = _rules()
    return _PartSearch(compile_policy(rules, A), compile_policy(rules, B), part)


def test_a_part_factors_out_only_what_both_policies_screen_first_with_the_same_rules() -> None:
    # Both policies screen the STCA (same rules) before the Honduras agreements: it stops the
    # screening alike under both, so it is factored out. Title 42 is screened first under the
    # enacted law only: it decides the part, with the 2019 agreement (shared) and the 2025 one
    # (enacted only).
    hn = _search(("transfer_to", "HN"))
    assert hn.gates == {"us-ca-stca"}
    assert hn.relevant == {"title-42", "us-hn-aca", "us-hn-aca-2025"}
    # The example has no Uganda agreement: the agreements it screens alongside the STCA are not
    # screened before Uganda's under the enacted law, and decide nothing about Uganda.
    ug = _search(("transfer_to", "UG"))
    assert ug.gates == {"us-ca-stca"}
    assert ug.relevant == {"title-42", "us-ug-aca-2025"}
    # Mexico: the example's agreement, screened after the STCA; Title 42 is not screened before
    # any Mexico agreement under the enacted law (it has none).
    mx = _search(("transfer_to", "MX"))
    assert mx.gates == {"us-ca-stca"}
    assert mx.relevant == {"us-mx-stca"}


def test_where_title_42_sends_a_person_is_not_split_on_for_a_receiving_country() -> None:
    # Whether the person is sent to Honduras depends on whether Title 42 expels them at all
    # (one split: fear established in every country it would expel them to), not on where.
    hn = _search(("transfer_to", "HN"))
    assert not hn.where_matters()
    # the example's policy expels nobody: whether the enacted law expels is all that differs
    assert not _search(("expel_to", "")).where_matters()
    # both the enacted law and the implemented one expel under Title 42: where to is compared
    rules = _rules()
    both = _PartSearch(compile_policy(rules, "enacted"), compile_policy(rules, "implemented"), ("expel_to", ""))
    assert both.where_matters()


SLICE = {
    "entry.date": dt.date(2020, 12, 20),  # inside the Title 42 orders, before the 2019 agreements ended
    "entry.border": "southern_land",
    "entry.place": "between_ports",
    "documents": "none",
    "age_at_entry": 30,
    "unaccompanied": False,
    "trafficking_victim": False,
    "public_interest": False,
}


@functools.cache
def _slice_kinds() -> Any:
    result = diff(_rules(), A, B, within=SLICE, by_part=True)
    describer = Describer(result.programs)
    return result, describer, [(group, describer.boxes(group.regions, group.within)) for group in result.groups]


def test_the_slice_differs_in_honduras_transfers() -> None:
    _, _, kinds = _slice_kinds()
    # the 2019 Honduras agreement is operative from 2020-12-15 (us-hn-aca.in-force): under the
    # example it may send a person to Honduras whom Title 42 expels under the enacted law
    assert any(g.part == (("transfer_to", "HN"), False, True) for g, _ in kinds)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases(), st.data())
def test_each_part_description_holds_exactly_the_cases_of_the_slice_whose_part_differs(
    case: dict[str, Any], data: st.DataObject
) -> None:
    result, describer, kinds = _slice_kinds()
    facts = {**_fill(case, data, result.programs[0]), **SLICE}
    if facts["decision_date"] is UNKNOWN or facts["decision_date"] < SLICE["entry.date"]:
        days = representatives(result.programs[0], "decision_date", SLICE["entry.date"])
        facts["decision_date"] = data.draw(st.sampled_from(days))
    _check_parts(result, describer, kinds, facts)


@functools.cache
def _full_kinds() -> Any:
    result = diff(_rules(), A, B)
    describer = Describer(result.programs)
    return result, describer, [(group, describer.boxes(group.regions, group.within)) for group in result.groups]


@pytest.mark.exhaustive
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases(), st.data())
def test_the_example_diff_is_exact_part_by_part(case: dict[str, Any], data: st.DataObject) -> None:
    """The whole diff (it passed every budget before): each part's description holds exactly the
    cases whose part differs."""
    result, describer, kinds = _full_kinds()
    assert result.by_part
    _check_parts(result, describer, kinds, _fill(case, data, result.programs[0]))


@pytest.mark.parametrize("by_part", [True, False])
def test_workers_find_the_same_classes_in_the_same_order(
    monkeypatch: pytest.MonkeyPatch, pools: list[int], by_part: bool
) -> None:
    # the searches run in worker processes when there are several CPUs: the result is the same
    # as in one process, class for class

    def run(workers: str) -> list[Any]:
        monkeypatch.setenv("ELIGIBILITY_DIFF_WORKERS", workers)
        result = diff(_rules(), A, "without-title-42" if not by_part else B, within=SLICE, by_part=by_part)
        return [(g.part, g.a, g.b, g.rules, g.regions, g.within) for g in result.groups]

    alone = run("1")
    assert alone and not pools  # there are differences to compare, found in this process
    assert run("2") == alone
    assert pools and max(pools) == 2  # ... and by worker processes


def test_no_worker_is_forked_from_a_process_running_other_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    # forking a threaded process (a web server calling the library) may copy a lock another
    # thread holds; the search then stays in the process, whatever the environment asks
    import threading

    from eligibility.analysis.workers import workers

    monkeypatch.setenv("ELIGIBILITY_DIFF_WORKERS", "4")
    assert workers(8) == 4
    seen: list[int] = []
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        seen.append(workers(8))
    finally:
        stop.set()
        other.join()
    assert seen == [1]


def test_diffs_in_two_threads_at_once_each_get_their_own_answer() -> None:
    # a web server may run two diffs at once: each keeps its own policies (no shared search state)
    import threading

    def groups(other: str) -> list[Any]:
        result = diff(_rules(), A, other, within=SLICE, by_part=True)
        return [(g.part, g.a, g.b, g.regions) for g in result.groups]

    expected = {other: groups(other) for other in (B, "without-title-42")}
    got: dict[str, Any] = {}

    def run(other: str) -> None:
        try:
            got[other] = groups(other)
        except BaseException as exc:  # reported below, not lost in the thread
            got[other] = exc

    for _ in range(2):
        threads = [threading.Thread(target=run, args=(other,)) for other in expected]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert got == expected


@pytest.mark.skipif(sys.platform != "linux", reason="the workers are forked on Linux only")
def test_ctrl_c_stops_a_diff_and_its_workers(tmp_path: Path) -> None:
    """Ctrl-C at a terminal reaches the whole process group: the diff ends with 130 and leaves
    no worker process behind."""
    import os
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "eligibility"), "diff", "enacted", "without-title-42"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "ELIGIBILITY_DIFF_WORKERS": "2"},
    )

    def children() -> set[int]:
        found = set()
        for task in Path(f"/proc/{proc.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                found |= {int(c) for c in (task / "children").read_text().split()}
        return found

    deadline = time.monotonic() + 60
    while not children() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = children()
    assert workers, "the diff ended before it started its workers"
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)]
    assert alive == []


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def test_each_part_shows_its_example_and_the_two_answers_it_gets() -> None:
    """Compared part by part, "for example" is the example case's own pair of answers, which
    also places it in its part: the example diff's example of "sent to CA" (a Mexican crossing
    from Canada at a port of entry in 2020) is expelled to Canada under Title 42 (85 FR 17060)
    in the enacted law and, with no Title 42 in the example policy, returned to Canada under the
    STCA (8 CFR 208.30(e)(6)), never "depends on the case"."""
    from click.testing import CliRunner

    from eligibility import evaluate
    from eligibility_cli.main import main

    out = CliRunner().invoke(main, ["diff", A, B, "--rules", str(EXAMPLE), "--format", "json"])
    assert out.exit_code == 0, out.output
    regions = json.loads(out.stdout)["regions"]
    assert regions and all("part" in r for r in regions)
    for number, region in enumerate(regions, 1):
        answers = {p: evaluate(region["example"], p, rules=_rules(), engine="pure", counterfactuals=False) for p in (A, B)}
        for policy, got in answers.items():
            shown = region[policy]
            assert shown["outcome"] != "undetermined", (number, policy)
            assert (shown["outcome"], shown["transfer_to"], shown["expel_to"]) == (
                got.outcome,
                list(got.transfer_to),
                list(got.expel_to),
            ), (number, policy, region["example"])
        part = region["part"]
        if part["name"] == "transfer_to":
            assert [part["country"] in answers[p].transfer_to for p in (A, B)] == [part[A], part[B]], number
    sent_to_ca = next(r for r in regions if r["part"]["name"] == "transfer_to" and r["part"]["country"] == "CA")
    assert (sent_to_ca[A]["outcome"], sent_to_ca[A]["expel_to"]) == ("expel", ["CA"])
    assert (sent_to_ca[B]["outcome"], sent_to_ca[B]["transfer_to"]) == ("transfer", ["CA"])


def test_a_diff_tells_its_progress_from_the_calling_thread_and_still_forks_its_workers(
    monkeypatch: pytest.MonkeyPatch, pools: list[int]
) -> None:
    """A progress bar drawn by a thread of its own kept every diff at a terminal in one process
    (a process running other threads never forks): progress is told from the calling thread."""
    import threading
    from eligibility.analysis.diff import PROGRESS

    told: list[tuple[str, int, int, bool]] = []
    caller = threading.current_thread()

    def listen(stage: str, done: int, total: int) -> None:
        told.append((stage, done, total, threading.current_thread() is caller))

    monkeypatch.setenv("ELIGIBILITY_DIFF_WORKERS", "2")
    token = PROGRESS.set(listen)
    try:
        result = diff(_rules(), A, B)
    finally:
        PROGRESS.reset(token)
    assert result.by_part and told and pools == [2]
    assert {stage for stage, *_ in told} == {"comparing part by part"}
    assert all(0 < done <= total and here for _, done, total, here in told)
    assert told[-1][1] == told[-1][2]  # it ends at its total


def test_the_command_at_a_terminal_draws_its_bar_and_still_forks_its_workers(
    monkeypatch: pytest.MonkeyPatch, pools: list[int]
) -> None:
    from click.testing import CliRunner

    from eligibility_cli import main as cli

    drawn: list[tuple[str, int, int]] = []

    class AtATerminal(cli._Bar):
        def __init__(self, what: str) -> None:
            super().__init__(what)
            self.enabled = False  # nothing written to the test's stream

        def __call__(self, stage: str, done: int, total: int) -> None:
            drawn.append((stage, done, total))

    monkeypatch.setattr(cli, "_Bar", AtATerminal)
    monkeypatch.setenv("ELIGIBILITY_DIFF_WORKERS", "2")
    out = CliRunner().invoke(cli.main, ["diff", A, B, "--rules", str(EXAMPLE)])
    assert out.exit_code == 0, out.output
    assert pools == [2]
    stages = [stage for stage, *_ in drawn]
    assert "comparing part by part" in stages and stages[-1] == "describing each kind exactly"
    assert drawn[-1][1] == drawn[-1][2]
