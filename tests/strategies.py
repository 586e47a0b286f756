"""Strategies the tests share; the case strategy is the public one (eligibility.testing)."""

from __future__ import annotations

from hypothesis import strategies as st

from eligibility.testing import cases

__all__ = ["POLICIES", "cases"]

POLICIES = st.sampled_from(["enacted", "implemented", "draft-2019-07"])
