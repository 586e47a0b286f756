"""ISO 3166-1 alpha-2 country codes and U.S. state codes, from pycountry (not a hand-written table)."""

from __future__ import annotations

import difflib
import json
import os
from functools import cache
from typing import Any

from eligibility.cache import cache_dir

# pycountry is the source of every code and name here. Importing it and loading its databases
# takes longer than the rest of a `check`, so the three tables used on every case are kept in the
# user cache directory, keyed by where pycountry is installed and when; pycountry itself is
# imported only to build them, and for the name lookups behind "did you mean".


@cache
def _tables() -> dict[str, Any]:
    import importlib.util

    spec = importlib.util.find_spec("pycountry")
    origin = spec.origin if spec and spec.origin else ""
    stamp = f"{origin}:{os.stat(origin).st_mtime_ns if origin else 0}"
    where = cache_dir()
    file = where / "countries.json" if where else None
    if file is not None:
        try:
            tables: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
            if tables.get("stamp") == stamp:
                return tables
        except (OSError, ValueError):
            pass
    import pycountry

    subdivisions = pycountry.subdivisions.get(country_code="US")  # type: ignore[no-untyped-call]
    tables = {
        "stamp": stamp,
        "names": {c.alpha_2: str(getattr(c, "common_name", None) or c.name) for c in pycountry.countries},
        "states": sorted(s.code.split("-", 1)[1] for s in subdivisions),
    }
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            temp = file.with_name(f".countries-{os.getpid()}.tmp")
            temp.write_text(json.dumps(tables), encoding="utf-8")
            os.replace(temp, file)
        except OSError:
            pass
    return tables


@cache
def alpha2_codes() -> frozenset[str]:
    """Every current ISO 3166-1 alpha-2 code."""
    return frozenset(_tables()["names"])


@cache
def us_state_codes() -> frozenset[str]:
    """U.S. states, the District of Columbia and outlying areas (ISO 3166-2:US, without ``US-``)."""
    return frozenset(_tables()["states"])


def country_name(code: str) -> str:
    """The short English name of a country code, or the code itself when unknown."""
    return str(_tables()["names"].get(code, code))


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
    import pycountry

    try:
        found = pycountry.countries.lookup(text)
    except LookupError:
        return None
    return str(found.alpha_2)


def other_country(excluded: frozenset[str]) -> str:
    """A real country code outside ``excluded``: the representative of 'any other country'."""
    return next(code for code in sorted(alpha2_codes()) if code not in excluded)
