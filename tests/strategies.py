"""Hypothesis strategies for valid cases, biased to the dates and countries the rules name."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

COUNTRIES = ["HN", "SV", "GT", "MX", "CA", "NI", "VE", "CU", "ES", "MY", "IN", "BR", "US", "FR"]
CUTS = [
    "2004-12-29", "2019-01-28", "2019-07-16", "2019-07-24", "2019-08-16", "2019-09-09", "2019-09-11",
    "2019-11-15", "2019-11-19", "2019-11-21", "2019-12-12", "2020-03-16", "2020-06-30", "2020-12-15",
    "2021-01-19", "2021-01-21", "2021-02-06", "2021-02-16", "2023-03-25",
]
DAY = dt.timedelta(days=1)


@st.composite
def dates(draw: Any, lo: dt.date = dt.date(2004, 1, 1), hi: dt.date = dt.date(2024, 12, 31)) -> dt.date:
    if draw(st.booleans()):
        cut = dt.date.fromisoformat(draw(st.sampled_from(CUTS)))
        day = cut + draw(st.sampled_from([-1, 0, 1])) * DAY
        if lo <= day <= hi:
            return day
    return draw(st.dates(min_value=lo, max_value=hi))


def _maybe(strategy: Any) -> Any:
    """Omitted (absent), explicitly unknown (None) or a value."""
    return st.one_of(st.just(...), st.none(), strategy)


@st.composite
def cases(draw: Any, unknowns: bool = True) -> dict[str, Any]:
    """A valid case dict (contract section 1). With ``unknowns``, fields may be omitted or null."""
    maybe = _maybe if unknowns else (lambda s: s)
    entry_date = draw(dates())
    case: dict[str, Any] = {"entry": {"date": entry_date.isoformat()}}

    def put(target: dict[str, Any], key: str, strategy: Any) -> None:
        value = draw(maybe(strategy))
        if value is not ...:
            target[key] = value

    country = st.sampled_from(COUNTRIES)
    put(case, "nationalities", st.lists(country, max_size=2, unique=True))
    if draw(st.booleans()):
        put(case, "habitual_residence", country)
    put(case, "age", st.integers(0, 70))
    put(case, "unaccompanied", st.booleans())
    put(case, "family_unit", st.booleans())
    put(case, "documents", st.sampled_from(["none", "us_visa", "us_transit_visa", "us_admission_document", "visa_waiver"]))
    put(case["entry"], "border", st.sampled_from(["southern_land", "northern_land", "air", "sea"]))
    put(case["entry"], "place", st.sampled_from(["port_of_entry", "between_ports"]))
    put(case["entry"], "state", st.sampled_from(["TX", "CA", "AZ", "NM", "NY", "VT"]))
    later = st.integers(0, 600).map(lambda n: (entry_date + n * DAY).isoformat())
    if draw(st.booleans()):
        put(case, "decision_date", st.one_of(later, dates(lo=entry_date).map(dt.date.isoformat)))
    if draw(st.booleans()):
        put(case, "claim_date", st.integers(0, 30).map(lambda n: (entry_date + n * DAY).isoformat()))
    stop = st.one_of(country, st.fixed_dictionaries({
        "country": country, "protection": st.sampled_from(["none", "pending", "abandoned", "denied_final", "granted"])}))
    put(case, "transit", st.lists(stop, max_size=4))
    put(case, "trafficking_victim", st.booleans())
    put(case, "fear_established_in", st.lists(st.sampled_from(["GT", "HN", "SV", "MX", "CA"]), max_size=2, unique=True))
    put(case, "public_interest", st.booleans())
    member = st.fixed_dictionaries({
        "relation": st.sampled_from(["spouse", "sibling", "parent", "aunt"]),
        "status": st.sampled_from(["citizen", "lpr", "asylee", "other", "lawful_nonimmigrant"])})
    put(case, "family_in_us", st.lists(member, max_size=2))
    return case


POLICIES = st.sampled_from(["enacted", "implemented", "draft-2019-07"])
