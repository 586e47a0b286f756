"""Invariants the law guarantees, checked on generated cases (brief Part A)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import evaluate
from tests.strategies import POLICIES, cases

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
    first = evaluate(copy.deepcopy(case), policy, counterfactuals=False).to_json()
    assert evaluate(copy.deepcopy(case), policy, counterfactuals=False).to_json() == first
    assert evaluate(case, policy, engine="pure", counterfactuals=False).model_dump(exclude={"engine"}) == evaluate(
        case, policy, counterfactuals=False).model_dump(exclude={"engine"})


@SETTINGS
@given(cases(), POLICIES)
def test_the_stca_never_applies_away_from_the_northern_land_border(case: dict[str, Any], policy: str) -> None:
    border = case["entry"].get("border")
    if border not in (None, "northern_land"):
        assert _status(evaluate(case, policy, counterfactuals=False), "us-ca-stca") == "not_applicable"


@SETTINGS
@given(cases(), POLICIES, st.sampled_from(["air", "sea"]))
def test_the_transit_bar_never_bars_air_or_sea_arrivals(case: dict[str, Any], policy: str, border: str) -> None:
    case["entry"]["border"] = border
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
    """Contract section 4: an outcome settled despite unknown facts is the outcome of every
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
        assert (d.outcome, d.transfer_to) == (full.outcome, full.transfer_to)
    if d.asylum != "undetermined":
        assert d.asylum == full.asylum
    if d.outcome == "process_in_us" and d.wait_in_mexico != "undetermined":
        assert d.wait_in_mexico == full.wait_in_mexico
    unknown = set(dropped) | ({"age"} if "birth_date" in dropped and "age" not in case else set())
    assert set(d.missing_facts) <= unknown | {"age", "habitual_residence"}
    if d.outcome == "undetermined":
        assert d.missing_facts, "an undetermined outcome names the facts that would settle it"


@SETTINGS
@given(cases(), POLICIES)
def test_every_valid_case_gets_a_determination(case: dict[str, Any], policy: str) -> None:
    d = evaluate(case, policy, counterfactuals=False)
    assert d.outcome in ("transfer", "process_in_us", "undetermined")
    assert (d.transfer_to != []) == (d.outcome == "transfer")
    assert d.explanation and all(i.reasons for i in d.instruments)


@SETTINGS
@given(cases(), POLICIES)
def test_mpp_never_applies_to_a_person_who_is_transferred(case: dict[str, Any], policy: str) -> None:
    d = evaluate(case, policy, counterfactuals=False)
    if d.outcome == "transfer":
        assert _status(d, "mpp") in ("not_applicable", "not_in_force")
