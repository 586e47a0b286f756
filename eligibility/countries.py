"""ISO 3166-1 alpha-2 country codes and U.S. state codes, from pycountry (not a hand-written table)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import cache
from typing import Any

from eligibility import cache as store
from eligibility.errors import did_you_mean

# pycountry is the source of every code and name here. Importing it and loading its databases
# takes 40-60 ms, a sixth of a `check`, so the tables used on every case (country codes and names,
# U.S. state codes) are kept in the user cache directory (eligibility.cache) as JSON, in a file
# named by a key of where pycountry is installed and its databases' sizes and times; pycountry
# itself is imported only to build them, and for the name lookups behind "did you mean". A cached
# table is used only if its header names that key, its content has the recorded hash and it has
# the tables' shape (alpha-2 codes, state codes, names as strings); else it is rebuilt.

_TABLES_FORMAT = "countries/1"
_ALPHA2 = re.compile(r"[A-Z]{2}")
_STATE = re.compile(r"[A-Z0-9]{1,3}")


@cache
def _tables() -> dict[str, Any]:
    key = _pycountry_key()
    name = f"countries-{key[:32]}.json"
    payload = store.load(name, key)
    if payload is not None:
        try:
            tables = _valid(json.loads(payload))
        except (ValueError, RecursionError):
            tables = None
        if tables is not None:
            return tables
        store.reject(name, "not a valid country table")
    import pycountry

    subdivisions = pycountry.subdivisions.get(country_code="US")  # type: ignore[no-untyped-call]
    tables = {
        "names": {c.alpha_2: str(getattr(c, "common_name", None) or c.name) for c in pycountry.countries},
        "states": sorted(s.code.split("-", 1)[1] for s in subdivisions),
    }
    if _valid(tables) is not None:
        store.store(name, key, json.dumps(tables, ensure_ascii=False).encode())
    return tables


def _pycountry_key() -> str:
    """Where pycountry is installed, and the size and time of its code and databases."""
    import importlib.util

    spec = importlib.util.find_spec("pycountry")
    origin = spec.origin if spec and spec.origin else ""
    parts = [_TABLES_FORMAT, origin]
    if origin:
        base = os.path.dirname(origin)
        for file in (origin, *(os.path.join(base, "databases", f"iso3166-{n}.json") for n in (1, 2))):
            try:
                info = os.stat(file)
                parts.append(f"{file}:{info.st_size}:{info.st_mtime_ns}")
            except OSError:
                parts.append(f"{file}:-")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _valid(tables: object) -> dict[str, Any] | None:
    """``tables`` if it has the shape of the country tables (codes well formed), else None."""
    if not isinstance(tables, dict) or set(tables) != {"names", "states"}:
        return None
    names, states = tables["names"], tables["states"]
    if not isinstance(names, dict) or not isinstance(states, list) or not names or not states:
        return None
    for code, text in names.items():
        if not _ALPHA2.fullmatch(code) or not isinstance(text, str) or not 0 < len(text) <= 200:
            return None
    for code in states:
        if not isinstance(code, str) or not _STATE.fullmatch(code):
            return None
    if states != sorted(set(states)):
        return None
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
    hint = did_you_mean(code, sorted(us_state_codes()))
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
