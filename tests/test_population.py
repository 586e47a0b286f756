"""The FY2019 southwest border population model (`eligibility simulate`).

Expected outcomes are read from the legal sources they cite.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eligibility_cli.simulate import simulate as simulate_command

from eligibility.simulate.population import (
    DEMOGRAPHICS,
    FAMILY_ADULT,
    FAMILY_CHILD,
    NATIONALITIES,
    SINGLE_ADULT,
    UAC,
    Assumptions,
    SimulationError,
    SimulationResult,
    cohorts,
    load_population,
    make_assumptions,
    render_csv,
    render_text,
    simulate,
)

TOTAL = 851_508
POLICIES = ("enacted", "implemented", "draft-2019-07")


@pytest.fixture(scope="module")
def default_run() -> SimulationResult:
    return simulate(POLICIES)


def _base(demographic: str) -> str:
    return "family unit" if demographic in (FAMILY_CHILD, FAMILY_ADULT) else demographic


# --- the data file ------------------------------------------------------------------------------


def test_every_figure_has_a_source_and_an_evidence_level() -> None:
    figures = load_population().figures()
    assert figures, "the data file has figures"
    for fig in figures:
        assert fig["source"].strip(), fig
        assert fig["evidence"] in ("primary", "secondary", "unverified"), fig
    by_name = {f["figure"]: f for f in figures}
    # The (CBP Southwest Land Border Encounters) marks these as it does here.
    assert by_name["total"]["value"] == TOTAL
    assert by_name["by_demographic.uac"]["evidence"] == "primary"
    assert by_name["by_citizenship.HN.total"]["evidence"] == "unverified"
    assert by_name["by_citizenship.other.total"]["value"] == 77_276


# --- cohorts ------------------------------------------------------------------------------------


def test_cohorts_add_up_to_the_cbp_figures_by_nationality_and_demographic() -> None:
    data = load_population()
    groups = cohorts(Assumptions(), seed=7)
    assert sum(c.count for c in groups) == TOTAL
    assert all(c.count > 0 for c in groups)
    by_nat: Counter[str] = Counter()
    by_demo: Counter[str] = Counter()
    family_by_nat: Counter[str] = Counter()
    for c in groups:
        by_nat[c.nationality] += c.count
        by_demo[_base(c.demographic)] += c.count
        if c.demographic in (FAMILY_CHILD, FAMILY_ADULT):
            family_by_nat[c.nationality] += c.count
    assert by_nat == {nat: data.by_citizenship[nat].total.value for nat in NATIONALITIES}
    assert by_demo == {
        UAC: data.by_demographic.uac.value,
        "family unit": data.by_demographic.family_unit_individuals.value,
        SINGLE_ADULT: data.by_demographic.single_adults.value,
    }
    for nat in ("GT", "HN", "SV", "MX"):
        figure = data.by_citizenship[nat].family_unit_individuals
        assert figure is not None and family_by_nat[nat] == figure.value
    assert sum(c.count for c in groups if c.nationality == "MX" and c.demographic == UAC) == 10_400
    assert len(groups) <= 100, "one evaluator call per cohort: keep the cohorts few"


def test_the_cohorts_describe_the_border_patrol_population() -> None:
    for c in cohorts():
        case = c.case
        assert case.entry.date == dt.date(2020, 1, 15)
        assert case.entry.border == "southern_land" and case.entry.place == "between_ports"
        assert case.documents == "none"
        assert (case.age is not None and case.age < 18) == (c.demographic in (UAC, FAMILY_CHILD))
        expected_unaccompanied = {UAC: True, FAMILY_CHILD: False}.get(c.demographic)  # adults: not asked
        assert case.unaccompanied is expected_unaccompanied
        assert case.family_unit is (c.demographic in (FAMILY_CHILD, FAMILY_ADULT))
        transit = [s.country for s in case.transit or []]
        routes = {"GT": ["MX"], "HN": ["GT", "MX"], "SV": ["GT", "MX"], "MX": [], "other": ["HN", "GT", "MX"]}
        assert transit == routes[c.nationality]


def test_the_same_seed_gives_the_same_cohorts_and_another_seed_moves_people_only_within_groups() -> None:
    def rows(seed: int) -> list[tuple[Any, ...]]:
        return [(c.nationality, c.demographic, c.detail, c.count) for c in cohorts(seed=seed)]

    assert rows(1) == rows(1)
    assert rows(1) != rows(2)

    def groups(seed: int) -> Counter[tuple[str, str]]:
        out: Counter[tuple[str, str]] = Counter()
        for nat, demo, _, n in rows(seed):
            out[nat, _base(demo)] += n
        return out

    assert groups(1) == groups(2)


def test_assumptions_that_do_not_fit_the_data_are_refused() -> None:
    with pytest.raises(SimulationError, match="family_child_share"):
        make_assumptions(family_child_share=1.5)
    with pytest.raises(SimulationError, match="decision_date"):
        make_assumptions(entry_date=dt.date(2020, 1, 15), decision_date=dt.date(2020, 1, 1))
    with pytest.raises(SimulationError, match="unaccompanied children"):
        cohorts(make_assumptions(mexico_uac=100_000))


# --- outcomes (the legal sources) --------------------------------------------------------------------


def test_counts_add_up_to_the_population_under_every_policy(default_run: SimulationResult) -> None:
    for policy in POLICIES:
        assert sum(default_run.by_outcome(policy).values()) == TOTAL
    assert default_run.cases == TOTAL * len(POLICIES)
    assert default_run.evaluations == default_run.cohorts * len(POLICIES)


def test_implemented_sends_hondurans_who_crossed_guatemala_and_never_mexicans(
    default_run: SimulationResult,
) -> None:
    # the implemented policy (rules/policies.yaml): as implemented, HN and SV nationals were transferred (single adults from 2019-11-21,
    # family units from 2019-12-12, until 2020-03-16); Mexican and other nationals were not.
    hn_adults = default_run.by_outcome("implemented", nationality="HN", demographic=SINGLE_ADULT)
    assert set(hn_adults) == {"transfer to GT"}
    hn_families = default_run.by_outcome("implemented", nationality="HN", demographic=FAMILY_CHILD)
    assert set(hn_families) == {"transfer to GT"}
    for nat in ("MX", "other", "GT"):
        assert not any(
            label.startswith("transfer") for label in default_run.by_outcome("implemented", nationality=nat)
        )


def test_unaccompanied_children_are_never_transferred(default_run: SimulationResult) -> None:
    # INA 208(a)(2): INA 208(a)(2)(E); the ACA repeats it (the Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)) exceptions). The draft keeps the statute (the implemented policy (rules/policies.yaml)).
    for policy in POLICIES:
        for label in default_run.by_outcome(policy, demographic=UAC):
            assert not label.startswith("transfer"), (policy, label)


def test_enacted_sends_mexicans_but_never_guatemalans_to_guatemala(default_run: SimulationResult) -> None:
    # the Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)): no transit requirement (Mexicans in scope); not applicable to Guatemalan nationals (art. 2, INA 208(a)(2)).
    mx_adults = default_run.by_outcome("enacted", nationality="MX", demographic=SINGLE_ADULT)
    assert set(mx_adults) == {"transfer to GT"}
    gt = default_run.by_outcome("enacted", nationality="GT")
    assert not any(label.startswith("transfer") for label in gt)
    # the transit bar (84 FR 33829; 8 CFR 208.13(c)(4)): Guatemalans crossed Mexico, a third country, in the enforceable window: barred. MPP (DHS guidance of 2019-01-25): adults
    # and families may be returned to Mexico; unaccompanied children may not.
    assert default_run.by_outcome("enacted", nationality="GT", demographic=SINGLE_ADULT) == {
        "processed in U.S., barred from asylum, may wait in Mexico (MPP)": 47_527
    }
    assert set(default_run.by_outcome("enacted", nationality="GT", demographic=UAC)) == {
        "processed in U.S., barred from asylum"
    }


def test_mexicans_heard_in_the_us_are_not_barred_and_do_not_wait_in_mexico(
    default_run: SimulationResult,
) -> None:
    # the transit bar (84 FR 33829; 8 CFR 208.13(c)(4)): a Mexican who came straight from Mexico transited no third country; MPP (DHS guidance of 2019-01-25): MPP excludes Mexicans.
    assert default_run.by_outcome("implemented", nationality="MX") == {
        "processed in U.S., asylum eligible": 166_458
    }


def test_family_units_were_not_yet_transferred_in_early_december_2019() -> None:
    # the implemented policy (rules/policies.yaml): implemented: single adults from 2019-11-21, family units only from 2019-12-12.
    result = simulate(["implemented"], make_assumptions(entry_date=dt.date(2019, 12, 1)), seed=3)
    assert set(result.by_outcome("implemented", nationality="SV", demographic=SINGLE_ADULT)) == {
        "transfer to GT"
    }
    for demo in (FAMILY_CHILD, FAMILY_ADULT):
        assert not any(
            label.startswith("transfer")
            for label in result.by_outcome("implemented", nationality="SV", demographic=demo)
        )


def test_nobody_is_transferred_on_the_actual_fy2019_dates() -> None:
    # the Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)): the implementing rule is prospective: only arrivals on or after 2019-11-19.
    result = simulate(POLICIES, make_assumptions(entry_date=dt.date(2019, 6, 1)))
    for policy in POLICIES:
        assert not any(label.startswith("transfer") for label in result.by_outcome(policy)), policy


def test_the_csv_is_long_format_and_adds_up(default_run: SimulationResult) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(default_run))))
    assert list(rows[0]) == ["policy", "nationality", "demographic", "outcome", "count", "share", "outcome_code"]
    codes = {r["outcome"]: r["outcome_code"] for r in rows}
    assert codes["transfer to GT"] == "transfer.GT"
    assert codes["processed in U.S., barred from asylum, may wait in Mexico (MPP)"] == "process_in_us.barred.mpp"
    for policy in POLICIES:
        mine = [r for r in rows if r["policy"] == policy]
        assert sum(int(r["count"]) for r in mine) == TOTAL
        assert abs(sum(float(r["share"]) for r in mine) - 1) < 1e-4
    assert {r["demographic"] for r in rows} == set(DEMOGRAPHICS)


def test_policies_that_come_out_the_same_say_which_assumption_hides_their_difference() -> None:
    """The enacted Guatemala ACA excepts holders of a U.S. visa (84 FR 63994, 8 CFR 208.30(e)(7)
    as applied with the agreement's documents exception); the July 2019 draft, as reported, had no
    such exception. With nobody holding a visa (the default), the two must come out the same, and
    the visa share is what sets them apart; with 10% holding a visa, enacted transfers fewer."""
    same = simulate(["enacted", "draft-2019-07"])
    assert [(i.policies, [lever[0] for lever in i.would_differ]) for i in same.identical] == [
        (("enacted", "draft-2019-07"), ["visa_share"])
    ]
    text = render_text(same)
    assert "enacted and draft-2019-07 give the same counts under these assumptions; they differ if people " in text
    assert "held a U.S. visa (--visa-share, now 0%)" in text
    visas = simulate(["enacted", "draft-2019-07"], make_assumptions(visa_share=0.1))
    assert visas.identical == ()
    enacted = visas.by_outcome("enacted").get("transfer to GT", 0)
    draft = visas.by_outcome("draft-2019-07").get("transfer to GT", 0)
    assert draft == same.by_outcome("enacted")["transfer to GT"]  # the draft reaches visa holders too
    assert 0.85 * draft < enacted < 0.95 * draft  # about 10% fewer under the enacted agreement


def test_an_assumption_set_by_the_user_that_hides_a_difference_is_named() -> None:
    """Under the Guatemala ACA a person who establishes that persecution or torture in Guatemala is
    more likely than not is not sent there (8 CFR 208.30(e)(7), 84 FR 63994): with everyone having done
    so, neither the enacted law nor DHS's practice sends anyone to Guatemala in January 2020, and
    the two come out the same. What makes them the same is the user's own 100%, at its other
    extreme (nobody), not at the one already set."""
    same = simulate(["enacted", "implemented"], make_assumptions(fear_of_guatemala_share=1.0))
    [identical] = same.identical
    assert [(lever[0], lever[1]) for lever in identical.would_differ] == [("fear_of_guatemala_share", 0.0)]
    assert "they differ if nobody established a fear of Guatemala (--fear-of-guatemala, now 100%)" in render_text(same)


# --- the command --------------------------------------------------------------------------------


def _run(*args: str) -> Any:
    return CliRunner().invoke(simulate_command, list(args), catch_exceptions=False)


def test_the_command_prints_a_table_with_its_assumptions() -> None:
    result = _run("--policy", "implemented")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("U.S. Border Patrol apprehensions, southwest border, FY2019: 851,508 people")
    assert "entry date 2020-01-15" in out and "seed 2019" in out
    assert "implemented: What DHS actually did" in out and "transfer to GT" in out
    assert "cases/s" in out


def test_the_command_prints_json_and_csv() -> None:
    result = _run("--format", "json", "--policy", "enacted", "--child-share", "0.6", "--seed", "5")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["assumptions"]["family_child_share"] == 0.6 and data["seed"] == 5
    assert data["sources"] and data["assumption_notes"]["entry_date"]
    assert sum(c["count"] for c in data["counts"]) == TOTAL
    result = _run("--format", "csv", "--policy", "enacted", "--policy", "implemented")
    assert result.exit_code == 0, result.output
    assert sum(int(r["count"]) for r in csv.DictReader(io.StringIO(result.output))) == 2 * TOTAL


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--child-share", "2"], "error: --child-share:"),
        (["--entry-date", "2020-02-30"], "error: --entry-date: '2020-02-30' is not a date"),
        (["--policy", "nope"], "error: --policy: unknown policy 'nope'"),
        (["--seed", "x"], "error: Invalid value for '--seed'"),
        (["--format", "xml"], "error: Invalid value for '--format'"),
    ],
)
def test_bad_option_values_give_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(simulate_command, args)
    assert result.exit_code == 2
    assert result.output.startswith(message), result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "fy2019.png"
    result = _run("--policy", "enacted", "--policy", "implemented", "--format", "csv", "--plot", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 20_000


def test_plot_without_matplotlib_is_one_line_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    result = CliRunner().invoke(simulate_command, ["--plot", "x.png"])
    assert result.exit_code == 2
    assert result.output == "error: --plot needs matplotlib: pip install 'asylum-eligibility[plot]'\n"


def test_simulate_counts_a_csv_population_and_says_which_rows_are_not_cases(tmp_path: Path) -> None:
    """`simulate --population FILE`: single Honduran and Salvadoran adults who crossed between
    ports through Guatemala and Mexico after the ACA took effect (84 FR 63994, 2019-11-19) are sent
    to Guatemala under the enacted text; a row that is not a case is named, and the exit is 3 as
    in batch, the others counted."""
    table = tmp_path / "people.csv"
    table.write_text(
        "id,nationalities,age,unaccompanied,family_unit,entry.date,entry.border,entry.place,transit\n"
        "a,HN,30,false,false,2019-12-01,southern_land,between_ports,GT;MX\n"
        "b,SV,25,false,false,2020-01-15,southern_land,between_ports,GT;MX\n"
        "c,HN,x,false,false,2020-01-15,southern_land,between_ports,GT;MX\n"
    )
    result = CliRunner().invoke(simulate_command, ["--population", str(table), "--policy", "enacted", "--format", "json"])
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert data["rejected"] == [{"row": 4, "error": "age: 'x' is not a whole number"}]
    assert (data["cases"], data["counts"]) == (2, {"enacted": {"transfer.GT": 2}})
