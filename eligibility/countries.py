"""ISO 3166-1 alpha-2 country codes and U.S. state codes, from pycountry (not a hand-written table)."""

from __future__ import annotations

import difflib
from functools import cache

import pycountry


@cache
def alpha2_codes() -> frozenset[str]:
    """Every current ISO 3166-1 alpha-2 code."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def us_state_codes() -> frozenset[str]:
    """U.S. states, the District of Columbia and outlying areas (ISO 3166-2:US, without ``US-``)."""
    subdivisions = pycountry.subdivisions.get(country_code="US")  # type: ignore[no-untyped-call]
    return frozenset(s.code.split("-", 1)[1] for s in subdivisions)


def country_name(code: str) -> str:
    """The short English name of a country code, or the code itself when unknown."""
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or country.name) if country else code


def check_country(value: object) -> str:
    """Return the upper-cased alpha-2 code, or raise ValueError with a suggestion."""
    if isinstance(value, bool):
        # YAML 1.1 reads an unquoted NO (Norway) as false.
        raise ValueError("expected a country code, got a boolean (quote codes such as 'NO')")
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 3166-1 alpha-2 country code, got {value!r}")
    code = value.strip().upper()
    if code in alpha2_codes():
        return code
    hint = ""
    by_name = _lookup_by_name(value)
    if by_name:
        hint = f" (did you mean '{by_name}'?)"
    raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code{hint}")


def check_state(value: object) -> str:
    """Return the upper-cased U.S. state code, or raise ValueError with a suggestion."""
    if not isinstance(value, str):
        raise ValueError(f"expected a U.S. state code such as 'TX', got {value!r}")
    code = value.strip().upper()
    if code in us_state_codes():
        return code
    near = difflib.get_close_matches(code, sorted(us_state_codes()), n=1)
    hint = f" (did you mean '{near[0]}'?)" if near else ""
    raise ValueError(f"'{value}' is not a U.S. state code{hint}")


def _lookup_by_name(text: str) -> str | None:
    try:
        found = pycountry.countries.lookup(text)
    except LookupError:
        return None
    return str(found.alpha_2)


def other_country(excluded: frozenset[str]) -> str:
    """A real country code outside ``excluded``: the representative of 'any other country'."""
    return next(code for code in sorted(alpha2_codes()) if code not in excluded)
