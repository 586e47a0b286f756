"""Strategies the tests share; the case strategy is the public one (eligibility.testing)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from eligibility.testing import boundary_dates, cases, countries, with_border

__all__ = ["POLICIES", "TITLE_42_POLICIES", "cases", "title42_cases"]

POLICIES = st.sampled_from(["enacted", "implemented", "draft-2019-07", "without-title-42"])
TITLE_42_POLICIES = st.sampled_from(["enacted", "implemented", "draft-2019-07"])
"""The policies with Title 42 (every policy but without-title-42)."""

TITLE_42_FROM, TITLE_42_UNTIL = dt.date(2020, 3, 21), dt.date(2023, 5, 12)  # [from, until)
_EXPELLED_TO_MEXICO = ["MX", "GT", "HN", "SV", "VE", "CU", "HT", "NI"]


@st.composite
def title42_cases(draw: st.DrawFn, unknowns: bool = True) -> dict[str, Any]:
    """A case of ``cases()`` moved into the Title 42 period: encountered at a land or coastal border
    from 2020-03-21 to 2023-05-11 and decided then, with nationalities known (they decide where
    to), so that the expulsion rules are reached in most examples."""
    case = draw(cases(unknowns=unknowns))
    cuts = [d for d in boundary_dates() if TITLE_42_FROM <= d < TITLE_42_UNTIL]
    window = st.dates(min_value=TITLE_42_FROM, max_value=TITLE_42_UNTIL - dt.timedelta(days=1))
    entry = draw(st.sampled_from(cuts) | window)
    case["entry"]["date"] = entry.isoformat()
    with_border(case, draw(st.sampled_from(["southern_land", "southern_land", "northern_land", "southern_coastal"])))
    decision = draw(st.none() | st.sampled_from([d for d in cuts if d >= entry] or [entry]))
    case.pop("decision_date", None)
    if decision is not None:
        case["decision_date"] = decision.isoformat()
    case.pop("claim_date", None)
    case.pop("birth_date", None)
    case["nationalities"] = draw(
        st.lists(st.sampled_from(_EXPELLED_TO_MEXICO + countries()), min_size=1, max_size=2, unique=True)
    )
    return case
