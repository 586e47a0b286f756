"""Policy diff: what the policy definitions (rules/policies.yaml) and their sources say the policies differ in, and nothing else."""

from __future__ import annotations

import pytest

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from eligibility import evaluate, load_rules
from eligibility.analysis.diff import DEPENDS, OPEN, Describer, _fits, _Joint, _settled, diff, example, minimize, plainness
from eligibility.analysis.partition import FLOOR, representatives
from eligibility.engine.backends import PureEngine
from eligibility.engine.decide import decide as decide_headline
from eligibility.engine.decide import possible_statuses
from eligibility.case import parse_case
from eligibility.ruleset.facts import CATALOGUE, UNKNOWN, derive_facts
from eligibility.testing import cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from eligibility_cli.main import main


# `enacted` against `draft-2019-07` and against `without-title-42` are searched exactly (tens of
# seconds each on a loaded machine). Against `implemented`, whose agreements differ for six
# receiving countries, every combination of them would be a region: the diff compares the
# policies part by part (about a minute: marked exhaustive). Quick versions run on a slice.


@pytest.mark.exhaustive
def test_the_draft_differs_from_the_signed_text_only_by_the_document_exceptions() -> None:
    result = diff(load_rules(), "enacted", "draft-2019-07")
    assert result.groups
    for group in result.groups:
        assert group.rules == ("us-gt-aca.exception.documents",)
        assert group.a.outcome == "process_in_us"
        assert (group.b.outcome, group.b.transfer_to) == ("transfer", ("GT",))
        for region in group.regions:  # every region holds a visa, admission document or waiver
            assert region["documents"] in ("us_visa", "us_admission_document", "visa_waiver")
        # its example reads like a real person, and both policies give it the group's answers
        case = example(group, result.programs)
        assert len(case["nationalities"]) == 1 and case.get("age", 30) >= 18, case
        assert case["nationalities"][0] in ("MX", "GT", "HN", "SV", "NI", "CU", "VE", "EC", "CO", "HT"), case
        assert "habitual_residence" not in case and case["entry"]["border"] == "southern_land", case
        enacted, draft = evaluate(case, "enacted"), evaluate(case, "draft-2019-07")
        assert enacted.outcome == "process_in_us" and (draft.outcome, draft.transfer_to) == ("transfer", ["GT"])


def test_plainness_prefers_one_ordinary_nationality_an_adult_and_few_facts() -> None:
    entry = {"date": "2019-12-01", "border": "southern_land"}
    ranked = sorted(
        [
            {"entry": entry, "nationalities": ["CA", "GT", "HN", "MX"], "age": 0},
            {"entry": entry, "nationalities": [], "habitual_residence": "CA", "age": 30},
            {"entry": entry, "nationalities": ["CA"], "age": 30},
            {"entry": entry, "nationalities": ["HN"], "age": 0},
            {"entry": entry, "nationalities": ["HN"], "age": 30, "transit": []},
            {"entry": entry, "nationalities": ["HN"], "age": 30},
        ],
        key=plainness,
    )
    assert ranked[0] == {"entry": entry, "nationalities": ["HN"], "age": 30}
    assert [r["nationalities"] for r in ranked[1:]] == [["HN"], ["CA"], ["HN"], [], ["CA", "GT", "HN", "MX"]]


@functools.cache
def _enacted_vs_implemented() -> Any:
    return diff(load_rules(), "enacted", "implemented")


@pytest.mark.exhaustive
def test_the_implemented_policy_differs_by_nationality_and_dates() -> None:
    result = _enacted_vs_implemented()
    assert result.by_part
    rules = {r for g in result.groups for r in g.rules}
    # DHS applied the 2019 Guatemala ACA to Honduran and Salvadoran nationals only, from
    # 2019-11-21, families from 2019-12-12, paused 2020-03-16 (AP, 2019-11-21 and 2019-12-13);
    # the 2019 Honduras and El Salvador agreements were never used
    assert {"us-gt-aca-as-implemented.scope.nationality", "us-gt-aca-as-implemented.in-practice",
            "us-gt-aca-as-implemented.scope.family-units"} <= rules
    assert any(r.startswith("us-hn-aca.") for r in rules) and any(r.startswith("us-sv-aca.") for r in rules)
    # the STCA and the transit bar are as enacted: never responsible; MPP differs only in its
    # windows of practice (returns documented for arrivals 2019-01-28 to 2021-01-20), and only
    # for waiting in Mexico
    assert not any(r.startswith(("us-ca-stca.", "transit-bar.")) for r in rules)
    for group in result.groups:
        if any(r.startswith("mpp") for r in group.rules):
            assert group.part is not None and group.part[0] == ("wait_in_mexico", "")


@pytest.mark.exhaustive
def test_the_2025_agreements_not_used_show_in_the_diff_with_implemented() -> None:
    """Of the 2025 agreements only the Honduras one was used, from 2025-10-10 (Third Country
    Deportation Watch, 2025-12-05): Guatemala (operative from 2025-07-15), Uganda (2025-09-03),
    Ecuador (2025-11-17) and Paraguay (2026-01-01) send people away only under the text, and
    Honduras does so under the text alone for decisions from 2025-07-08 to 2025-10-09."""
    import datetime as dt

    result = _enacted_vs_implemented()
    sent = {g.part[0][1]: g for g in result.groups if g.part is not None and g.part[0][0] == "transfer_to"}
    starts = {"GT": dt.date(2025, 7, 15), "UG": dt.date(2025, 9, 3), "EC": dt.date(2025, 11, 17),
              "PY": dt.date(2026, 1, 1), "HN": dt.date(2025, 7, 8)}
    for country, start in starts.items():
        group = sent[country]
        assert (group.part[1], group.part[2]) == (True, False), country
        assert country in group.a.transfer_to and country not in group.b.transfer_to
        assert any(r.startswith(f"us-{country.lower()}-aca-2025") for r in group.rules), (country, group.rules)
        later = [r["decision_date"] for r in group.regions if isinstance(r["decision_date"], dt.date)
                 and r["decision_date"] >= dt.date(2025, 1, 1)]
        assert later and min(later) == start, (country, sorted(set(later))[:3])
    hn_2025 = [r["decision_date"] for r in sent["HN"].regions
               if isinstance(r["decision_date"], dt.date) and r["decision_date"] >= dt.date(2025, 1, 1)]
    assert max(hn_2025) < dt.date(2025, 10, 10)


def test_diff_counts_a_population(tmp_path: Path) -> None:
    people = tmp_path / "people.jsonl"
    rows = [
        {"nationalities": ["NI"], "age": 30, "unaccompanied": False, "entry": {"date": "2020-01-15", "border": "southern_land", "place": "between_ports"}, "transit": ["HN", "GT", "MX"]},
        {"nationalities": ["HN"], "age": 30, "unaccompanied": False, "family_unit": False, "entry": {"date": "2020-01-15", "border": "southern_land", "place": "between_ports"}, "transit": ["GT", "MX"]},
    ]
    people.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    result = CliRunner().invoke(main, ["diff", "enacted", "implemented", "--population", str(people), "--format", "json"])
    assert result.exit_code == 3  # one row was not a case
    data = json.loads(result.stdout.splitlines()[0])
    assert data["population"] == 2 and data["rejected"] == ["row 3: malformed JSON: Expecting property name enclosed in double quotes (column 2)"]
    # the Nicaraguan is transferred under the enacted text but not by DHS (a secondary report); the Honduran by both
    assert sum(r["population"] for r in data["regions"]) == 1
    # the summary comes first: one entry per pair of answers, adding up to the regions
    summary = data["summary"]
    assert sorted(k for s in summary for k in s["kinds"]) == list(range(1, len(data["regions"]) + 1))
    assert len({(s.get("part"), s["enacted"], s["implemented"]) for s in summary}) == len(summary)
    assert sum(s["classes"] for s in summary) == sum(r["classes"] for r in data["regions"])
    assert sum(s["population"] for s in summary) == 1
    assert sum(s["share"] for s in summary) == 0.5
    # compared part by part, a case may differ in several parts: the total counts it once
    assert data["by_part"] is True and data["reason"]
    assert data["totals"] == {"classes": sum(r["classes"] for r in data["regions"]), "population": 2, "differ": 1}
    text = CliRunner().invoke(main, ["diff", "enacted", "implemented", "--population", str(people)]).output
    table = text.split("The kinds of case, one by one:")[0]
    total_row = next(line for line in table.splitlines() if line.startswith("  total  "))
    assert total_row.split()[-2:] == ["1", "50.0%"]
    assert "(2 cases in the population; a case may differ in several parts and is counted once in the total; the others are determined alike)" in table
    assert "process in us" not in text


@pytest.mark.exhaustive
def test_without_title_42_the_only_differences_are_the_expulsions() -> None:
    """Title 42's reach (42 U.S.C. 265 orders, 2020-03-21 to 2023-05-12): wherever the two
    policies differ, the enacted law expels and the law without Title 42 does not, for an entry
    in the orders' period, and a Title 42 rule is responsible (about three minutes)."""
    import datetime as dt

    result = diff(load_rules(), "enacted", "without-title-42")
    assert result.groups
    for group in result.groups:
        assert group.a.outcome == "expel" and group.b.outcome != "expel"
        assert group.rules and all(r.startswith("title-42.") for r in group.rules)
        for region in group.regions:
            entry = region["entry.date"]
            assert not isinstance(entry, dt.date) or dt.date(2020, 3, 21) <= entry < dt.date(2023, 5, 12)


def test_a_diff_past_every_budget_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import eligibility.analysis.diff

    monkeypatch.setattr(eligibility.analysis.diff, "MAX_NODES", 10)
    monkeypatch.setattr(eligibility.analysis.diff, "PART_NODES", 10)
    result = CliRunner().invoke(main, ["diff", "enacted", "implemented"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the policies differ in too many ways to compare")
    assert "internal error" not in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.exhaustive
def test_a_population_case_is_counted_in_a_region_that_holds_several_outcomes(tmp_path: Path) -> None:
    # A Honduran adult crossing between ports on 2020-06-01 is expelled to Mexico under the Title 42
    # orders (85 FR 17060) and, without them, sent to Guatemala under the 2019 ACA (8 CFR
    # 208.30(e)(7)); an air arrival is treated alike by both. The diff's regions without Title 42
    # may hold several outcomes: the Honduran is counted in one of them, once.
    people = tmp_path / "people.jsonl"
    rows = [
        {"nationalities": ["HN"], "age": 30, "unaccompanied": False, "family_unit": False,
         "entry": {"date": "2020-06-01", "border": "southern_land", "place": "between_ports"}, "transit": ["GT", "MX"]},
        {"nationalities": ["HN"], "age": 30, "unaccompanied": False, "family_unit": False,
         "entry": {"date": "2020-06-01", "border": "air", "place": "port_of_entry"}, "transit": []},
    ]
    people.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = CliRunner().invoke(
        main, ["diff", "enacted", "without-title-42", "--population", str(people), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["population"] == 2
    counted = [r for r in data["regions"] if r["population"]]
    assert [r["population"] for r in counted] == [1]
    assert counted[0]["enacted"]["outcome"] == "expel"


@functools.cache
def _kinds_of(b: str) -> Any:
    """The diff of ``enacted`` and ``b``, its describer, and each kind with its exact boxes."""
    result = diff(load_rules(), "enacted", b)
    describer = Describer(result.programs)
    return result, describer, [(group, describer.boxes(group.regions, group.within)) for group in result.groups]


@pytest.mark.exhaustive
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases(), st.data())
def test_a_diff_description_holds_exactly_the_cases_the_policies_determine_differently(
    case: dict[str, Any], data: st.DataObject
) -> None:
    """A case lies in a kind's exact description if and only if the two policies determine it
    differently, with that kind's answers. Facts a generated case leaves unknown are drawn from
    the classes the rules tell apart, so every fact is known."""
    result, describer, kinds = _kinds_of("draft-2019-07")
    facts = _fill(case, data, result.programs[0])
    _check_kinds(result, describer, kinds, facts)


def _check_kinds(result: Any, describer: Describer, kinds: list[Any], facts: dict[str, Any]) -> None:
    """The case lies in no kind if both policies determine it alike, else in exactly one, whose
    two answers are the case's: exactly (the countries of expulsion may be left open, "depends on
    the case"), or, for a kind whose answers did not settle (several outcomes), within them."""
    a, b = (_Joint.decide(program, facts) for program in result.programs)
    inside = [group for group, boxes in kinds if any(describer.holds_in(box, facts) for box in boxes)]
    if a == b:
        assert inside == [], (facts, a)
        return
    assert len(inside) == 1, (facts, a, b, [(g.a, g.b) for g in inside])
    kind = inside[0]
    assert _fits(a, kind.a) and _fits(b, kind.b), (facts, a, b, kind.a, kind.b)
    for got, shown in ((a, kind.a), (b, kind.b)):
        if _settled(shown):
            open_countries = shown.outcome == "expel" and shown.expel_to == (OPEN,)
            assert (got._replace(expel_to=(OPEN,)) if open_countries else got) == shown, (facts, got, shown)


@pytest.mark.exhaustive
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases(), st.data())
def test_the_title_42_diff_holds_exactly_the_cases_the_policies_determine_differently(
    case: dict[str, Any], data: st.DataObject
) -> None:
    result, describer, kinds = _kinds_of("without-title-42")
    _check_kinds(result, describer, kinds, _fill(case, data, result.programs[0]))


@pytest.mark.exhaustive  # the whole diff of enacted against without-title-42 (8 s)
def test_a_person_title_42_expels_who_would_wait_in_mexico_without_it_is_in_a_kind_that_says_so() -> None:
    """A Guatemalan adult at an Arizona port of entry on 2020-12-14, decided on 2021-02-16: the
    Title 42 orders (85 FR 17060) expel him to Mexico; without them he is heard in the U.S. and,
    under MPP as applied until its suspension (DHS memo of 2021-01-20, new enrollments only), may
    be returned to Mexico to wait. His kind's answer without Title 42 says he waits in Mexico (it
    once said nothing of waiting, as if nobody of the kind waited)."""
    result, describer, kinds = _kinds_of("without-title-42")
    case = {"nationalities": ["GT"], "age": 30, "unaccompanied": False, "transit": ["MX"],
            "entry": {"date": "2020-12-14", "border": "southern_land", "place": "port_of_entry", "state": "AZ"},
            "decision_date": "2021-02-16"}
    facts, _ = derive_facts(parse_case(case), load_rules().context)
    a, b = (_Joint.decide(program, facts) for program in result.programs)
    assert (a.outcome, b.outcome, b.wait_in_mexico) == ("expel", "process_in_us", True)
    [kind] = [group for group, boxes in kinds if any(describer.holds_in(box, facts) for box in boxes)]
    assert kind.b.wait_in_mexico is True and kind.b.asylum == b.asylum
    _check_kinds(result, describer, kinds, facts)


def test_minimize_joins_cubes_into_the_shortest_union() -> None:
    # {HN} or {SV} or {HN, SV} alone, each without GT: "includes one of [HN, SV], excludes [GT]"
    cubes = [
        frozenset({("HN", True), ("SV", False), ("GT", False)}),
        frozenset({("SV", True), ("HN", False), ("GT", False)}),
        frozenset({("HN", True), ("SV", True), ("GT", False)}),
    ]
    assert minimize(cubes) == {frozenset({("HN", True), ("GT", False)}), frozenset({("SV", True), ("GT", False)})}
    # x or not x: everything
    assert minimize([frozenset({("MX", True)}), frozenset({("MX", False)})]) == {frozenset()}


# ---------------------------------------------------------------- part by part, exactly


def _fill(case: dict[str, Any], data: st.DataObject, program: Any) -> dict[str, Any]:
    """The case's facts, every fact the case leaves unknown drawn from the classes the rules tell apart."""
    facts, _ = derive_facts(parse_case(case), load_rules().context)
    if facts["entry.date"] is UNKNOWN:
        facts["entry.date"] = data.draw(st.sampled_from(representatives(program, "entry.date", FLOOR)))
    for name in CATALOGUE:
        if facts.get(name, UNKNOWN) is UNKNOWN:
            facts[name] = data.draw(st.sampled_from(representatives(program, name, facts["entry.date"])))
    return facts


def _answer(program: Any, facts: dict[str, Any]) -> dict[str, Any]:
    """The policy's answer for concrete facts, from the pure evaluator's fired rules (the rules'
    statuses and the screening, as the engine decides them), with asylum and waiting in Mexico as
    they would be if the claim is heard in the U.S. (an asylum bar, a wait-abroad instrument that
    applies)."""
    fired = PureEngine(program).fired(facts)
    truth = {b.key: b.key in fired for b in program.rules}
    statuses = {i.id: next(iter(possible_statuses(program, i.id, truth))) for i in program.instruments}
    head = decide_headline(program, statuses, truth, facts).headline
    kinds = {i.id: i.kind for i in program.instruments}
    return {
        "head": head,
        "transfer_to": set(head.transfer_to),
        "expel_to": head.expel_to,
        "asylum": "barred" if any(statuses[i] == "applies" for i, k in kinds.items() if k == "asylum_bar") else "eligible",
        "wait_in_mexico": any(statuses[i] == "applies" for i, k in kinds.items() if k == "wait_abroad"),
    }


def _part_of(answer: dict[str, Any], part: tuple[str, str]) -> Any:
    name, country = part
    return country in answer["transfer_to"] if name == "transfer_to" else answer[name]


def _check_parts(result: Any, describer: Describer, kinds: list[Any], facts: dict[str, Any]) -> None:
    a, b = (_answer(program, facts) for program in result.programs)
    inside = [group for group, boxes in kinds if any(describer.holds_in(box, facts) for box in boxes)]
    parts = {group.part[0] for group, _ in kinds}
    for part in parts:
        mine = [g for g in inside if g.part[0] == part]
        va, vb = _part_of(a, part), _part_of(b, part)
        if va == vb:
            assert mine == [], (part, facts, va)
        else:
            # a group's value is the part's, or "depends on the case" when its cases hold several
            # (the countries Title 42 expels to, against no expulsion)
            assert len(mine) == 1, (part, facts, va, vb)
            assert mine[0].part[1] in (va, DEPENDS) and mine[0].part[2] in (vb, DEPENDS), (part, facts, va, vb)
    # every case the policies determine differently lies in some description
    assert (a["head"] != b["head"]) <= bool(inside), (facts, a["head"], b["head"])


@functools.cache
def _implemented_kinds() -> Any:
    result = _enacted_vs_implemented()
    describer = Describer(result.programs)
    return result, describer, [(group, describer.boxes(group.regions, group.within)) for group in result.groups]


@pytest.mark.exhaustive
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases(), st.data())
def test_each_part_description_holds_exactly_the_cases_whose_part_differs(
    case: dict[str, Any], data: st.DataObject
) -> None:
    """enacted against implemented, compared part by part: a case lies in a part's description
    (receiving country, waiting in Mexico...) if and only if the two policies give it that part's
    pair of values, the instruments screened first (Title 42, the STCA) included."""
    result, describer, kinds = _implemented_kinds()
    _check_parts(result, describer, kinds, _fill(case, data, result.programs[0]))


SLICE = {
    "entry.date": dt.date(2020, 6, 1),  # inside the Title 42 orders and the 2019 agreements' text
    "entry.border": "southern_land",
    "entry.place": "between_ports",
    "documents": "none",
    "age_at_entry": 30,
    "unaccompanied": False,
    "trafficking_victim": False,
    "public_interest": False,
}
"""A slice of cases (these facts fixed) where Title 42, the STCA and the agreements all bear on
whether a person is sent to Guatemala, small enough to compare part by part in seconds."""


@functools.cache
def _slice_kinds() -> Any:
    result = diff(load_rules(), "enacted", "implemented", within=SLICE, by_part=True)
    describer = Describer(result.programs)
    return result, describer, [(group, describer.boxes(group.regions, group.within)) for group in result.groups]


def test_the_slice_differs_in_guatemala_transfers_that_title_42_may_stop() -> None:
    result, _, kinds = _slice_kinds()
    assert result.by_part
    # the 2019 Guatemala ACA as written reaches a Honduran adult entering between ports on
    # 2020-06-01 (84 FR 63994); DHS had paused its use from 2020-03-16 (AP)
    assert any(g.part == (("transfer_to", "GT"), True, False) for g, _ in kinds)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases(), st.data())
def test_each_part_description_holds_exactly_the_cases_of_the_slice_whose_part_differs(
    case: dict[str, Any], data: st.DataObject
) -> None:
    """The quick version of the property below, on ``SLICE``: fear established in the country
    Title 42 would expel the person to (a Honduran to Mexico, another national to their own
    country) lets the screening reach the agreements."""
    result, describer, kinds = _slice_kinds()
    facts = {**_fill(case, data, result.programs[0]), **SLICE}
    if facts["decision_date"] < SLICE["entry.date"]:  # no decision precedes the entry
        days = representatives(result.programs[0], "decision_date", SLICE["entry.date"])
        facts["decision_date"] = data.draw(st.sampled_from(days))
    _check_parts(result, describer, kinds, facts)


def test_a_part_by_part_summary_names_each_part_and_its_two_values() -> None:
    """Compared part by part, a summary row is a part and its value under each policy (the
    agreements DHS never used are "sent to ...: yes | no"), not one example's two answers."""
    result = CliRunner().invoke(main, ["diff", "enacted", "implemented", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    summary, regions = data["summary"], data["regions"]
    assert all("part" in s for s in summary)
    assert len({(s["part"], s["enacted"], s["implemented"]) for s in summary}) == len(summary)
    assert sorted(k for s in summary for k in s["kinds"]) == list(range(1, len(regions) + 1))
    words = {True: "yes", False: "no"}
    for s in summary:
        classes = 0
        for kind in s["kinds"]:
            part = regions[kind - 1]["part"]
            assert s["part"].endswith(part["country"] or "") and s["part"].startswith(("sent to", "countries", "asylum", "waiting"))
            assert (words.get(part["enacted"], part["enacted"]), words.get(part["implemented"], part["implemented"])) == (s["enacted"], s["implemented"])
            classes += regions[kind - 1]["classes"]
        assert classes == s["classes"]
    # the 2025 Guatemala agreement is enacted (90 FR 42309) but no transfer under it is reported
    assert {"part": "sent to GT", "enacted": "yes", "implemented": "no"}.items() <= next(s for s in summary if s["part"] == "sent to GT").items()
    text = CliRunner().invoke(main, ["diff", "enacted", "implemented"]).output
    table = text.split("The kinds of case, one by one:")[0]
    assert "  part  " in table and "  sent to GT  " in table


def test_a_population_case_that_differs_only_in_waiting_in_mexico_is_counted(tmp_path: Path) -> None:
    """DHS announced MPP's reinstatement on 2025-01-21; the enacted rules keep it in effect for a
    Guatemalan entering from Mexico on 2025-02-01, while no return under it is reported (the
    implemented MPP). Both bar asylum (Proclamation 10888); only waiting in Mexico differs, and
    the diff once counted such a case as determined alike."""
    people = tmp_path / "people.jsonl"
    people.write_text(json.dumps({
        "nationalities": ["GT"], "age": 30, "unaccompanied": False, "transit": ["MX"],
        "entry": {"date": "2025-02-01", "border": "southern_land", "place": "port_of_entry", "state": "TX"},
    }) + "\n")
    enacted, implemented = evaluate(people.read_text(), "enacted"), evaluate(people.read_text(), "implemented")
    assert (enacted.outcome, implemented.outcome) == ("process_in_us", "process_in_us")
    assert (enacted.wait_in_mexico, implemented.wait_in_mexico) == (True, False)
    result = CliRunner().invoke(main, ["diff", "enacted", "implemented", "--population", str(people), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["totals"]["differ"] == 1
    [counted] = [r for r in data["regions"] if r["population"]]
    assert counted["part"]["name"] == "wait_in_mexico"


@pytest.mark.exhaustive
def test_a_population_case_is_counted_in_the_kind_that_names_its_answers(tmp_path: Path) -> None:
    """The Guatemalan of 2020-12-14 whom Title 42 expels and who would otherwise wait in Mexico
    (see above) is counted in the kind "waits in Mexico", not in the first kind that allows his
    answers ("several outcomes")."""
    people = tmp_path / "people.jsonl"
    people.write_text(json.dumps({
        "nationalities": ["GT"], "age": 30, "unaccompanied": False, "transit": ["MX"], "decision_date": "2021-02-16",
        "entry": {"date": "2020-12-14", "border": "southern_land", "place": "port_of_entry", "state": "AZ"},
    }) + "\n")
    result = CliRunner().invoke(main, ["diff", "enacted", "without-title-42", "--population", str(people), "--format", "json"])
    assert result.exit_code == 0, result.output
    [counted] = [r for r in json.loads(result.stdout)["regions"] if r["population"]]
    assert counted["without-title-42"]["outcome"] == "process_in_us"
    assert counted["without-title-42"]["wait_in_mexico"] is True
