"""Hypothesis strategies for property tests of policies (public API).

``cases()`` draws valid cases (the case format) biased to what the rules tell apart: a
day before, on and after every date the rules compare with (and the date the law was last
reviewed, after which a decision carries a caveat), every country they name plus others, every
value of each enumerated field, empty and long transit lists, and omitted or explicitly unknown
fields. Dates run from 2003 to mid-2027. Cases shrink towards the first boundary date and short
lists, so a failing example reads like a golden test::

    from hypothesis import given
    from eligibility import evaluate
    from eligibility.testing import cases

    @given(cases(policy="implemented"))
    def test_no_mexican_is_sent_to_guatemala(case):
        d = evaluate(case, "implemented")
        assert not (d.outcome == "transfer" and "MX" in (case.get("nationalities") or []))

Requires hypothesis (``pip install 'asylum-eligibility[test]'``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, get_args

from hypothesis import strategies as st

from eligibility.case import BORDER_STATES, Border, Documents, FamilyStatus, Place, Protection, Relation
from eligibility.engine.program import Program, compile_policy
from eligibility.ruleset.facts import FLAGS
from eligibility.ruleset.load import RuleSet, default_rules

__all__ = ["boundary_dates", "cases", "countries", "with_border"]

_DAY = dt.timedelta(days=1)
_FIRST_DAY = dt.date(2003, 1, 1)
_LAST_DAY = dt.date(2027, 6, 30)  # after the date the law was last reviewed (rules/policies.yaml)
_EXTRA_COUNTRIES = ("NI", "VE", "CU", "ES", "BR", "IN", "MY", "FR")
_STATES = ("TX", "CA", "AZ", "NM", "NY", "VT")


def _programs(rules: RuleSet | None, policy: str | None) -> list[Program]:
    ruleset = rules or default_rules()
    names = [policy] if policy else sorted(ruleset.policies)
    return [compile_policy(ruleset, name) for name in names]


def boundary_dates(rules: RuleSet | None = None, policy: str | None = None) -> list[dt.date]:
    """Every date the rules compare with, and the date the law was last reviewed (a later decision
    carries a caveat), each with the day before and after, sorted."""
    found: set[dt.date] = set()
    programs = _programs(rules, policy)
    for program in programs:
        dates = [v for values in program.constants.values() for v in values if isinstance(v, dt.date)]
        if program.ruleset.reviewed is not None:
            dates.append(program.ruleset.reviewed)
        for value in dates:
            found |= {value - _DAY, value, value + _DAY}
    return sorted(found)


def countries(rules: RuleSet | None = None, policy: str | None = None) -> list[str]:
    """Every country the rules name, then a few they do not."""
    named: set[str] = set()
    for program in _programs(rules, policy):
        for fact in ("nationalities", "habitual_residence", "fear_established_in"):
            named |= {v for v in program.constants.get(fact, ()) if isinstance(v, str)}
    return sorted(named) + [c for c in _EXTRA_COUNTRIES if c not in named]


def with_border(case: dict[str, Any], border: str) -> dict[str, Any]:
    """The case (changed in place, and returned) arriving across ``border`` instead, kept
    consistent as the case format requires: a state not on that border is left out (unknown), and
    an arrival by air between ports becomes one at a port of entry."""
    entry = case["entry"]
    entry["border"] = border
    if (
        border in BORDER_STATES
        and entry.get("state") is not None
        and entry["state"] not in BORDER_STATES[border]
    ):
        del entry["state"]
    if border == "air" and entry.get("place") == "between_ports":
        entry["place"] = "port_of_entry"
    return case


def _dates(cuts: list[dt.date], lo: dt.date) -> st.SearchStrategy[dt.date]:
    on_cuts = [d for d in cuts if lo <= d <= _LAST_DAY]
    anywhere = st.dates(min_value=lo, max_value=max(lo, _LAST_DAY))
    return st.one_of(st.sampled_from(on_cuts), anywhere) if on_cuts else anywhere


@st.composite
def cases(
    draw: st.DrawFn, policy: str | None = None, rules: RuleSet | None = None, unknowns: bool = True
) -> dict[str, Any]:
    """A valid case as a dict. With ``unknowns``, optional fields may be omitted or null."""
    cuts = boundary_dates(rules, policy)
    named = countries(rules, policy)
    entry_date = draw(_dates(cuts, _FIRST_DAY))
    case: dict[str, Any] = {"entry": {"date": entry_date.isoformat()}}

    def put(target: dict[str, Any], key: str, values: st.SearchStrategy[Any]) -> None:
        choice = draw(st.sampled_from(["value", "omitted", "null"]) if unknowns else st.just("value"))
        if choice == "value":
            target[key] = draw(values)
        elif choice == "null":
            target[key] = None

    country = st.sampled_from(named)
    put(case, "nationalities", st.lists(country, max_size=3, unique=True))
    if draw(st.booleans()):
        put(case, "habitual_residence", country)
    put(case, "age", st.sampled_from([17, 18, 30, 8, 65]) | st.integers(0, 90))
    put(case, "unaccompanied", st.booleans())
    put(case, "family_unit", st.booleans())
    put(case, "documents", st.sampled_from(get_args(Documents)))
    put(case["entry"], "border", st.sampled_from(get_args(Border)))
    border = case["entry"].get("border")
    # consistent facts only (the case format refuses the others): no arrival by air between
    # ports, a state on the border crossed, no CBP One appointment between ports
    places = [p for p in get_args(Place) if not (border == "air" and p == "between_ports")]
    put(case["entry"], "place", st.sampled_from(places))
    states = [s for s in _STATES if border not in BORDER_STATES or s in BORDER_STATES[border]]
    put(case["entry"], "state", st.sampled_from(states))
    for name in FLAGS:  # entry.appointment, cbp_one_unavailable, ...
        target, key = (case["entry"], name[6:]) if name.startswith("entry.") else (case, name)
        between = case["entry"].get("place") == "between_ports"
        put(target, key, st.just(False) if name == "entry.appointment" and between else st.booleans())
    decision: dt.date | None = None
    if draw(st.booleans()):
        put(case, "decision_date", _dates(cuts, entry_date).map(dt.date.isoformat))
        if case.get("decision_date"):
            decision = dt.date.fromisoformat(case["decision_date"])
    if draw(st.booleans()):
        latest = 30 if decision is None else min(30, (decision - entry_date).days)
        put(case, "claim_date", st.integers(0, latest).map(lambda n: (entry_date + n * _DAY).isoformat()))
    stop = country | st.fixed_dictionaries(
        {"country": country, "protection": st.sampled_from(get_args(Protection))}
    )
    put(case, "transit", st.lists(stop, max_size=6))
    put(case, "trafficking_victim", st.booleans())
    put(case, "fear_established_in", st.lists(country, max_size=2, unique=True))
    put(case, "public_interest", st.booleans())
    member = st.fixed_dictionaries(
        {"relation": st.sampled_from(get_args(Relation)), "status": st.sampled_from(get_args(FamilyStatus))}
    )
    put(case, "family_in_us", st.lists(member, max_size=2))
    return case
