"""would_change_if: each expectation below is read from the legal sources cited, not from the code."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import eligibility.api as api
from eligibility import CaseError, evaluate
from eligibility.analysis.counterfactual import headline_of
from eligibility.analysis.settle import part_of
from tests.strategies import POLICIES, cases, title42_cases

HN_ADULT = {"nationalities": ["HN"], "age": 30, "unaccompanied": False,
            "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"},
            "transit": ["GT", "MX"]}


def _changes(d: Any) -> list[tuple[dict[str, Any], Any]]:
    return [({c.field: c.value for c in w.changes}, w) for w in d.would_change_if]


def _find(d: Any, **fields: Any) -> Any:
    for changes, w in _changes(d):
        if changes == fields:
            return w
    raise AssertionError(f"no counterfactual {fields} among {[c for c, _ in _changes(d)]}")


def test_a_transfer_to_guatemala_would_not_happen_for_the_exceptions_of_a1_and_a2() -> None:
    d = evaluate(HN_ADULT)
    assert (d.outcome, d.transfer_to) == ("transfer", ["GT"])
    # the Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)): documents us_visa, us_admission_document or visa_waiver are exceptions
    visa = _find(d, documents="us_visa")
    assert visa.outcome == "process_in_us" and "us-gt-aca.exception.documents" in visa.rules
    assert any("ACA art. 4 or 5" in c for c in visa.citations)
    assert "us_admission_document" in " ".join(c.description for c in visa.changes)
    assert "visa_waiver" in " ".join(c.description for c in visa.changes)
    # ... a U.S. transit visa is not
    assert not any(ch.get("documents") == "us_transit_visa" for ch, _ in _changes(d))
    # the Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)): fear established as to Guatemala at the threshold screening
    fear = _find(d, fear_established_in=["GT"])
    assert fear.outcome == "process_in_us" and fear.rules == ["us-gt-aca.exception.fear-in-guatemala"]
    # the Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)): the rule is prospective from 2019-11-19: an entry the day before is not reached
    before = _find(d, **{"entry.date": "2019-11-18"})
    assert before.outcome == "process_in_us" and "us-gt-aca.scope.arrival-date" in before.rules
    # INA 208(a)(2): public interest; an unaccompanied child (two facts together); a Guatemalan national
    assert _find(d, public_interest=True).outcome == "process_in_us"
    child = _find(d, age=17, unaccompanied=True)
    assert child.outcome == "process_in_us" and "ina-208a2.exception.unaccompanied-child" in child.rules
    assert _find(d, nationalities=["GT", "HN"]).outcome == "process_in_us"
    # the Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)): decided on the day of the suspension, 2021-02-06, there is no transfer
    assert _find(d, decision_date="2021-02-06").outcome == "process_in_us"
    # the Guatemala ACA (84 FR 63994; 8 CFR 208.30(e)(7)): no border or transit requirement: neither changes the transfer
    assert not any("entry.border" in ch or "transit" in ch for ch, _ in _changes(d))


def test_a_transit_bar_case_would_change_with_the_bars_exceptions_and_limits() -> None:
    case = {**HN_ADULT, "entry": {**HN_ADULT["entry"], "date": "2019-10-01"}}
    d = evaluate(case)
    assert (d.outcome, d.asylum) == ("process_in_us", "barred")
    # the transit bar (84 FR 33829; 8 CFR 208.13(c)(4)) exceptions (i) final denial and (ii) trafficking
    assert _find(d, transit=True).asylum == "eligible" or _find(d, trafficking_victim=True).asylum == "eligible"
    assert _find(d, trafficking_victim=True).asylum == "eligible"
    # the transit bar (84 FR 33829; 8 CFR 208.13(c)(4)): southern land border only
    assert any(ch.get("entry.border") in ("air", "sea", "northern_land") and w.asylum == "eligible" for ch, w in _changes(d))
    # the transit bar (84 FR 33829; 8 CFR 208.13(c)(4)): enforceable until the vacatur of 2020-06-30
    assert _find(d, decision_date="2020-06-30").asylum == "eligible"
    # the transit bar (84 FR 33829; 8 CFR 208.13(c)(4)): entries before 2019-07-16 are not reached, nor decisions outside the court windows
    earlier = [(ch["entry.date"], w) for ch, w in _changes(d) if "entry.date" in ch and ch["entry.date"] < "2019-10-01"]
    assert earlier and all(w.asylum == "eligible" for _, w in earlier)


def test_counterfactuals_can_be_left_out() -> None:
    assert evaluate(HN_ADULT, counterfactuals=False).would_change_if == []


def test_counterfactuals_are_deterministic() -> None:
    assert evaluate(HN_ADULT).to_json() == evaluate(dict(HN_ADULT)).to_json()


def test_a_change_between_two_expulsions_names_only_the_expulsion_rules() -> None:
    # A Mexican adult crossing on 2020-06-01 is expelled under Title 42 (85 FR 17060); by the
    # northern land border they would be expelled to Canada instead. The asylum bars and MPP are
    # moot either way (no claim is heard), so their rules did not make the difference.
    det = evaluate(
        {
            "nationalities": ["MX"],
            "age": 30,
            "unaccompanied": False,
            "entry": {"date": "2020-06-01", "border": "southern_land", "place": "between_ports"},
        }
    )
    assert det.outcome == "expel" and det.expel_to == ["MX"]
    northern = [c for c in det.would_change_if if c.changes[0].field == "entry.border" and c.expel_to == ["CA"]]
    assert northern, det.would_change_if
    assert all(r.startswith("title-42.") for r in northern[0].rules), northern[0].rules


def test_an_asylum_bar_that_holds_for_a_transferred_person_is_shown_as_moot() -> None:
    # Sent to Guatemala under the ACA (8 CFR 208.30(e)(7)): no asylum claim is heard in the U.S.,
    # so the transit bar (8 CFR 208.13(c)(4)), whose conditions hold, decides nothing.
    det = evaluate(HN_ADULT)
    assert det.outcome == "transfer"
    line = next(x for x in det.explanation if x.startswith("Third-country transit bar"))
    assert line.endswith("applies (moot: the person is transferred, so no asylum claim is heard in the U.S.).")


# The search evaluates each change incrementally (only the rules testing a changed fact, each
# distinct test of a fact once per value, results memoised per set of flipped rules). Every change
# it reports must give, evaluated from scratch (every rule's truth computed again: no base, no
# memo), the headline it names, and one that differs from the case's own.


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(cases(), title42_cases()), POLICIES)
def test_every_change_found_gives_its_headline_when_evaluated_from_scratch(case: dict[str, Any], policy: str) -> None:
    try:
        parsed = api.parse_case(case)
    except CaseError:
        parsed = None
    assume(parsed is not None and not parsed.spans)
    assert parsed is not None
    rules = api.load_rules()
    program = api.compile_policy(rules, policy)
    facts, assumed = api.derive_facts(parsed, rules.context)
    settlement = api.settle(program, facts, api.engine_for(program, "pure"), None)
    base = tuple(settlement.settled(part) for part in ("outcome", "asylum", "wait_in_mexico"))
    for change in api.find_changes(program, facts, assumed, settlement):
        changed = dict(change.changes)
        new = {**facts, **changed}
        if "entry.date" in changed and "decision_date" in assumed and "decision_date" not in changed:
            new["decision_date"] = new["entry.date"]  # the decision date follows the entry date
        head = change.headline
        named = (part_of(head, "outcome"), part_of(head, "asylum"), part_of(head, "wait_in_mexico"))
        assert named != base, change
        assert headline_of(program, new) == named, change
