"""Invariants the law guarantees, checked on generated cases (the legal sources)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import evaluate
from eligibility.testing import countries, with_border
from tests.strategies import POLICIES, TITLE_42_POLICIES, cases, title42_cases

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""A case with many unknown facts can take a second or more to settle under the law to 2026 (20
instruments naming 23 countries), so each of these tests draws a modest number of cases; every
run draws new ones."""
FEW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""For the invariants of the law from 2020 on: cases whose nationalities are
known, which settle quickly; each test stays under about ten seconds."""

AGREEMENTS_2025 = ("us-hn-aca-2025", "us-hn-aca-2025-as-implemented", "us-gt-aca-2025", "us-ug-aca-2025",
                   "us-ec-aca-2025", "us-py-aca-2025")


def _age(case: dict[str, Any]) -> int | None:
    return case.get("age")


def _status(determination: Any, iid: str) -> str | None:
    return next((i.status for i in determination.instruments if i.id == iid), None)


@SETTINGS
@given(cases(), POLICIES)
def test_nobody_is_sent_to_a_country_of_their_nationality(case: dict[str, Any], policy: str) -> None:
    d = evaluate(case, policy, counterfactuals=False)
    nationalities = case.get("nationalities")
    if d.outcome == "transfer" and nationalities:
        assert not set(d.transfer_to) & set(nationalities)
    if d.outcome == "transfer" and nationalities == [] and case.get("habitual_residence"):
        assert case["habitual_residence"] not in d.transfer_to


@SETTINGS
@given(cases(), POLICIES)
def test_an_unaccompanied_child_is_never_transferred(case: dict[str, Any], policy: str) -> None:
    case = {**case, "age": 15, "unaccompanied": True}
    case.pop("birth_date", None)
    d = evaluate(case, policy, counterfactuals=False)
    assert d.outcome != "transfer"
    assert "ina-208a2.exception.unaccompanied-child" in {
        f.rule for i in d.instruments for f in i.findings if f.holds
    }


@SETTINGS
@given(cases(), POLICIES)
def test_the_same_input_gives_the_same_output(case: dict[str, Any], policy: str) -> None:
    # (the two engines' agreement is tests/test_differential.py's)
    first = evaluate(copy.deepcopy(case), policy, counterfactuals=False).to_json()
    assert evaluate(copy.deepcopy(case), policy, counterfactuals=False).to_json() == first


@SETTINGS
@given(cases(), POLICIES)
def test_the_stca_never_applies_away_from_the_northern_land_border(case: dict[str, Any], policy: str) -> None:
    border = case["entry"].get("border")
    if border not in (None, "northern_land"):
        assert _status(evaluate(case, policy, counterfactuals=False), "us-ca-stca") == "not_applicable"


@SETTINGS
@given(cases(), POLICIES, st.sampled_from(["air", "sea"]))
def test_the_transit_bar_never_bars_air_or_sea_arrivals(case: dict[str, Any], policy: str, border: str) -> None:
    with_border(case, border)
    d = evaluate(case, policy, counterfactuals=False)
    assert d.asylum != "barred"
    assert _status(d, "transit-bar") in ("not_applicable", "not_in_force", "undetermined")


@SETTINGS
@given(cases(), POLICIES)
def test_the_transit_bar_never_bars_an_entry_before_2019_07_16(case: dict[str, Any], policy: str) -> None:
    entry = dt.date.fromisoformat(case["entry"]["date"])
    if entry < dt.date(2019, 7, 16):
        assert evaluate(case, policy, counterfactuals=False).asylum != "barred"


@SETTINGS
@given(cases(), POLICIES, st.sampled_from(["MX", "GT", "ES"]))
def test_a_final_denial_in_transit_never_turns_eligible_into_barred(case: dict[str, Any], policy: str, country: str) -> None:
    before = evaluate(case, policy, counterfactuals=False)
    if before.asylum == "eligible" and isinstance(case.get("transit"), list):
        case["transit"] = [*case["transit"], {"country": country, "protection": "denied_final"}]
        assert evaluate(case, policy, counterfactuals=False).asylum != "barred"


@SETTINGS
@given(cases(unknowns=False), POLICIES, st.data())
def test_an_answer_given_with_unknown_facts_holds_whatever_they_are(case: dict[str, Any], policy: str, data: Any) -> None:
    """an outcome settled despite unknown facts is the outcome of every
    completion; and missing_facts only ever names facts that were unknown."""
    full = evaluate(case, policy, counterfactuals=False)
    droppable = [k for k in case if k != "entry"] + [f"entry.{k}" for k in case["entry"] if k != "date"]
    dropped = data.draw(st.lists(st.sampled_from(droppable), unique=True)) if droppable else []
    partial = copy.deepcopy(case)
    for name in dropped:
        if name.startswith("entry."):
            partial["entry"][name[6:]] = None
        else:
            partial[name] = None
    d = evaluate(partial, policy, counterfactuals=False)
    if d.outcome != "undetermined":
        assert (d.outcome, d.transfer_to, d.expel_to) == (full.outcome, full.transfer_to, full.expel_to)
    if d.asylum != "undetermined":
        assert d.asylum == full.asylum
    if d.outcome == "process_in_us" and d.wait_in_mexico != "undetermined":
        assert d.wait_in_mexico == full.wait_in_mexico
    unknown = set(dropped) | ({"age"} if "birth_date" in dropped and "age" not in case else set())
    assert set(d.missing_facts) <= unknown | {"age", "habitual_residence"}
    if "undetermined" in (d.outcome, d.asylum, d.wait_in_mexico):
        assert d.missing_facts, "an undetermined field of the headline names the facts that would settle it"


def test_an_unknown_nationality_leaves_asylum_open_when_fear_may_cover_the_country_of_expulsion() -> None:
    """Found by the test above. Title 42 expels most nationalities to their own country (85 FR
    17060), but never to a country where the person established fear: an Argentine who established
    fear of Argentina has nowhere to be expelled to and is processed in the U.S. With the
    nationality unknown, the expulsion's country is open, and so is whether the person is expelled
    at all: asylum cannot be settled as 'not_in_us'."""
    case: dict[str, Any] = {
        "entry": {"date": "2020-03-21", "border": "southern_land", "place": "port_of_entry", "state": "TX"},
        "nationalities": ["AR"],
        "age": 17,
        "unaccompanied": False,
        "family_unit": False,
        "transit": [],
        "fear_established_in": ["AR"],
        "public_interest": True,
    }
    full = evaluate(case, "enacted", counterfactuals=False)
    assert (full.outcome, full.asylum) == ("process_in_us", "eligible")
    partial = evaluate(dict(case, nationalities=None), "enacted", counterfactuals=False)
    assert (partial.outcome, partial.asylum) == ("undetermined", "undetermined")
    assert "nationalities" in partial.missing_facts_by_field["asylum"]


@SETTINGS
@given(cases(), POLICIES)
def test_every_valid_case_gets_a_determination(case: dict[str, Any], policy: str) -> None:
    d = evaluate(case, policy, counterfactuals=False)
    assert d.outcome in ("transfer", "process_in_us", "expel", "undetermined")
    assert (d.transfer_to != []) == (d.outcome == "transfer")
    assert (d.expel_to != []) == (d.outcome == "expel")
    assert d.explanation and all(i.reasons for i in d.instruments)


@SETTINGS
@given(cases(), POLICIES)
def test_mpp_never_applies_to_a_person_who_is_transferred(case: dict[str, Any], policy: str) -> None:
    d = evaluate(case, policy, counterfactuals=False)
    if d.outcome in ("transfer", "expel"):  # MPP is 'mpp-as-implemented' in the implemented policy
        waits = [i.status for i in d.instruments if i.kind == "wait_abroad"]
        assert waits and all(s in ("not_applicable", "not_in_force") for s in waits)


# The law from 2020 on (the rule files cite the sources).


@FEW
@given(title42_cases(), TITLE_42_POLICIES, st.data())
def test_nobody_is_expelled_to_a_country_where_they_established_fear(case: dict[str, Any], policy: str, data: Any) -> None:
    """Title 42 (42 U.S.C. 265; 42 CFR 71.40) and Huisha-Huisha v. Mayorkas: a country in fear_established_in is never a country of expulsion."""
    places = sorted({"MX", "CA", *case["nationalities"]})
    case["fear_established_in"] = data.draw(st.lists(st.sampled_from(places), min_size=1, max_size=2, unique=True))
    d = evaluate(case, policy, counterfactuals=False)
    assert not set(d.expel_to) & set(case["fear_established_in"])


@FEW
@given(title42_cases(), TITLE_42_POLICIES, st.sampled_from(["air", "sea"]))
def test_title_42_never_expels_an_air_or_sea_arrival(case: dict[str, Any], policy: str, border: str) -> None:
    """Title 42 (42 U.S.C. 265; 42 CFR 71.40): the orders reach arrivals by land, and by sea only at the southern coastal border."""
    with_border(case, border)
    d = evaluate(case, policy, counterfactuals=False)
    assert d.outcome != "expel" and d.expel_to == []
    assert _status(d, "title-42") in ("not_applicable", "not_in_force")


@FEW
@given(title42_cases(), TITLE_42_POLICIES, st.integers(0, 17))
def test_an_unaccompanied_child_is_never_expelled_from_2020_11_18(case: dict[str, Any], policy: str, age: int) -> None:
    """Title 42 (42 U.S.C. 265; 42 CFR 71.40): P.J.E.S. v. Wolf from 2020-11-18, then the CDC's own exception."""
    case.update(age=age, unaccompanied=True)
    if dt.date.fromisoformat(case["entry"]["date"]) < dt.date(2020, 11, 18):
        case["entry"]["date"] = "2020-11-18"
        if case.get("decision_date", "9999") < "2020-11-18":
            case["decision_date"] = "2020-11-18"
    d = evaluate(case, policy, counterfactuals=False)
    assert d.outcome != "expel"
    assert _status(d, "title-42") in ("excepted", "not_applicable", "not_in_force")


@FEW
@given(cases(), POLICIES, st.dates(dt.date(2003, 1, 1), dt.date(2019, 11, 18)), st.dates(dt.date(2025, 7, 1), dt.date(2027, 6, 30)),
       st.lists(st.sampled_from(countries()), max_size=2, unique=True))
def test_nobody_who_entered_before_2019_11_19_is_transferred_under_a_2025_agreement(
    case: dict[str, Any], policy: str, entry: dt.date, decision: dt.date, nationalities: list[str]
) -> None:
    """2025 ACAs (Federal Register, 2025): the 2019 implementing rule, on which the 2025 agreements rest, is prospective only."""
    if case.get("nationalities") is None:  # known: the dates decide here, and a known case is quick
        case["nationalities"] = nationalities
    case["entry"]["date"] = entry.isoformat()
    case["decision_date"] = decision.isoformat()  # when the 2025 agreements are operative
    case.pop("claim_date", None)
    case.pop("birth_date", None)
    d = evaluate(case, policy, counterfactuals=False)
    assert not {i.id for i in d.instruments if i.status == "applies"} & set(AGREEMENTS_2025)
    assert not set(d.transfer_to) & {"UG", "EC", "PY"}


@FEW
@given(cases() | title42_cases(), POLICIES, st.lists(st.sampled_from(countries()), max_size=2, unique=True))
def test_the_headline_fits_the_outcome(case: dict[str, Any], policy: str, nationalities: list[str]) -> None:
    """expel_to is set exactly when the outcome is expel, and an expelled person
    is neither transferred nor heard in the U.S.; missing_facts is never empty while outcome,
    asylum or wait_in_mexico is undetermined (other unknown facts than the nationalities: those are
    dropped in test_an_answer_given_with_unknown_facts_holds_whatever_they_are)."""
    if case.get("nationalities") is None:
        case["nationalities"] = nationalities
    d = evaluate(case, policy, counterfactuals=False)
    assert (d.expel_to != []) == (d.outcome == "expel")
    assert d.expel_to == sorted(d.expel_to)
    if d.outcome == "expel":
        assert (d.asylum, d.transfer_to, d.wait_in_mexico) == ("not_in_us", [], False)
    if "undetermined" in (d.outcome, d.asylum, d.wait_in_mexico):
        assert d.missing_facts


@FEW
@given(title42_cases())
def test_without_title_42_nobody_is_expelled(case: dict[str, Any]) -> None:
    d = evaluate(case, "without-title-42", counterfactuals=False)
    assert d.outcome != "expel" and d.expel_to == []
    assert "title-42" not in {i.id for i in d.instruments}
