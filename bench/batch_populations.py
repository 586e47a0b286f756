"""Populations of cases for benchmarking ``eligibility batch``: seeded generators of JSON Lines rows.

Two populations, both valid rows of the case format (`eligibility schema case`):

* ``realistic``: southwest-border arrivals with a wide spread of dates. Nationalities weighted
  loosely after CBP southwest border encounters (GT, HN, MX, SV, then NI, CU, VE, EC, CO, HT, BR,
  PE, IN, CN, RO); four demographics (single adults, adults and children in family units,
  unaccompanied children) with ages to match; entry dates uniform over 2018-01-01..2026-12-31
  (so every instrument from the 2019 agreements to the 2025 ones is in or out of force for some
  rows); border, place and state of entry; transit routes that follow the nationality (a
  protection claim on one stop in 4%); a decision date in 30% of rows; and, as a real intake file
  holds them, birth dates in place of ages (10%), fields left out now and then (unknown facts),
  documents, claim dates, CBP One flags after 2023, habitual residence, fear established and
  family in the U.S.
* ``fact_space``: rows drawn across the whole space of facts the rules test: every nationality
  the rules name and others, 0-3 of them (stateless too); ages 0..130 or a birth date; each flag
  true, false or left out; every border, place, state and document; transit routes of 0-4
  countries with any protection; family in the U.S. of any relation and status; fear
  established anywhere; entry dates uniform over 2018..2026 and claim and decision dates after
  them. Only the combinations the case format refuses are avoided (a state off the border
  crossed, an air arrival between ports, a CBP One appointment between ports, a decision before
  the claim), so every row is valid and is evaluated.

    python bench/batch_populations.py realistic 1000 > cases.jsonl

Standard library only; the same seed gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

FIRST = dt.date(2018, 1, 1)
LAST = dt.date(2026, 12, 31)
SPAN = (LAST - FIRST).days + 1

NATIONALITY_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("GT", 0.28), ("HN", 0.26), ("MX", 0.22), ("SV", 0.08), ("NI", 0.03), ("CU", 0.03),
    ("VE", 0.015), ("EC", 0.02), ("CO", 0.005), ("HT", 0.01), ("BR", 0.015), ("PE", 0.005),
    ("IN", 0.01), ("CN", 0.005), ("RO", 0.005),
)
NATIONS = tuple(n for n, _ in NATIONALITY_WEIGHTS)
NATION_WEIGHTS = tuple(w for _, w in NATIONALITY_WEIGHTS)
DEMOGRAPHICS: tuple[tuple[float, tuple[int, int], bool, bool], ...] = (
    (0.47, (18, 65), False, False),  # single adults
    (0.25, (18, 50), False, True),  # adults in family units
    (0.20, (0, 17), False, True),  # children in family units
    (0.08, (12, 17), True, False),  # unaccompanied children
)
BORDERS = ("southern_land", "air", "northern_land", "sea", "southern_coastal")
BORDER_WEIGHTS = (0.86, 0.06, 0.04, 0.02, 0.02)
STATES: dict[str, tuple[str, ...]] = {  # as eligibility.case.BORDER_STATES; any state by air and sea
    "southern_land": ("AZ", "CA", "NM", "TX"),
    "northern_land": ("AK", "ID", "ME", "MI", "MN", "MT", "ND", "NH", "NY", "VT", "WA"),
    "southern_coastal": ("CA", "TX"),
    "air": ("FL", "NY", "TX", "CA", "IL", "NJ", "GA", "PR"),
    "sea": ("FL", "PR", "CA", "TX"),
}
ISTHMUS = ["PA", "CR", "NI", "HN", "GT", "MX"]
ROUTES: dict[str, tuple[tuple[list[str], float], ...]] = {
    "MX": (([], 1.0),),
    "GT": ((["MX"], 1.0),),
    "HN": ((["GT", "MX"], 0.88), (["SV", "GT", "MX"], 0.05), (["MX"], 0.07)),
    "SV": ((["GT", "MX"], 0.92), (["MX"], 0.08)),
    "NI": ((["HN", "GT", "MX"], 0.85), (["MX"], 0.15)),
    "*americas": ((["CO", *ISTHMUS], 0.5), (ISTHMUS, 0.2), (["MX"], 0.3)),
    "*far": ((["EC", "CO", *ISTHMUS], 0.6), (["MX"], 0.4)),
}
FAR = {"IN", "CN", "RO"}
PROTECTIONS = ("none", "pending", "abandoned", "denied_final", "granted")
DOCUMENTS = ("none", "us_visa", "us_transit_visa", "us_admission_document", "visa_waiver",
             "parole_travel_authorization")
RELATIONS = ("spouse", "child", "parent", "legal_guardian", "sibling", "grandparent", "grandchild",
             "aunt", "uncle", "niece", "nephew")
STATUSES = ("citizen", "lpr", "asylee", "refugee", "lawful_nonimmigrant", "pending_asylum_adult", "other")
FLAGS = ("cbp_one_unavailable", "medical_emergency", "imminent_threat", "title42_exception",
         "criminal_record", "trafficking_victim", "public_interest")
# Every country a shipped rule names (nationalities, residence, fear, transit), and others.
COUNTRIES = ("GT", "HN", "SV", "MX", "NI", "CR", "PA", "CO", "EC", "PE", "BO", "CL", "AR", "UY",
             "PY", "BR", "VE", "CU", "HT", "DO", "BZ", "CA", "UG", "IN", "CN", "RO", "RU", "TR",
             "AF", "SN", "MR", "ES", "FR", "US")


def _day(rng: random.Random) -> dt.date:
    return FIRST + dt.timedelta(days=rng.randrange(SPAN))


def _later(rng: random.Random, day: dt.date, most: int) -> dt.date:
    return min(day + dt.timedelta(days=rng.randint(0, most)), dt.date(9999, 12, 31))


def _route(rng: random.Random, nationality: str) -> list[Any]:
    group = nationality if nationality in ROUTES else ("*far" if nationality in FAR else "*americas")
    routes = ROUTES[group]
    return list(rng.choices([r for r, _ in routes], weights=[w for _, w in routes])[0])


def realistic(rng: random.Random, number: int) -> dict[str, Any]:
    """One row of the realistic population (see the module's docstring)."""
    nationality = rng.choices(NATIONS, weights=NATION_WEIGHTS)[0]
    _, (low, high), unaccompanied, family_unit = rng.choices(
        DEMOGRAPHICS, weights=[d[0] for d in DEMOGRAPHICS])[0]
    age = rng.randint(low, high)
    entry = _day(rng)
    border = rng.choices(BORDERS, weights=BORDER_WEIGHTS)[0]
    if border == "southern_land":
        place = "between_ports" if rng.random() < 0.75 else "port_of_entry"
        transit: list[Any] = _route(rng, nationality)
    else:
        place = "port_of_entry"
        transit = ["CA"] if border == "northern_land" else ([] if rng.random() < 0.7 else ["PA"])
    if transit and rng.random() < 0.04:
        at = rng.randrange(len(transit))
        transit[at] = {"country": transit[at], "protection": rng.choice(PROTECTIONS[1:])}
    case: dict[str, Any] = {"id": f"r{number:07d}"}
    r = rng.random()
    if r < 0.02:
        case["nationalities"] = [nationality, rng.choice([n for n in NATIONS if n != nationality])]
    elif r < 0.995:
        case["nationalities"] = [nationality]
    r = rng.random()
    if r < 0.10:
        case["birth_date"] = (entry - dt.timedelta(days=365 * age + rng.randint(0, 360))).isoformat()
    elif r < 0.97:
        case["age"] = age
    if rng.random() < 0.9:
        case["unaccompanied"] = unaccompanied
        case["family_unit"] = family_unit
    if rng.random() < 0.95:
        case["documents"] = rng.choices(DOCUMENTS[:5], weights=(0.9, 0.04, 0.02, 0.02, 0.02))[0]
    case["entry"] = {"date": entry.isoformat(), "border": border, "place": place,
                     "state": rng.choice(STATES[border])}
    if entry >= dt.date(2023, 1, 12) and place == "port_of_entry" and rng.random() < 0.4:
        case["entry"]["appointment"] = True  # CBP One appointments, from January 2023
    if rng.random() < 0.97:
        case["transit"] = transit
    if rng.random() < 0.15:
        case["claim_date"] = _later(rng, entry, 60).isoformat()
    if rng.random() < 0.30:
        earliest = dt.date.fromisoformat(case.get("claim_date", entry.isoformat()))
        case["decision_date"] = _later(rng, earliest, 700).isoformat()
    if rng.random() < 0.03 and nationality not in ("MX", "GT"):
        case["habitual_residence"] = "MX"
    if rng.random() < 0.02:
        case["fear_established_in"] = ["GT"]
    if rng.random() < 0.01:
        case["trafficking_victim"] = True
    if rng.random() < 0.05:
        case["family_in_us"] = [{"relation": rng.choice(RELATIONS), "status": rng.choice(STATUSES)}]
    return case


def fact_space(rng: random.Random, number: int) -> dict[str, Any]:
    """One row drawn across the whole fact space (see the module's docstring)."""
    case: dict[str, Any] = {"id": f"f{number:07d}"}
    entry = _day(rng)
    r = rng.random()
    if r < 0.9:
        case["nationalities"] = rng.sample(COUNTRIES, rng.choice((1, 1, 1, 2, 3)))
    elif r < 0.95:
        case["nationalities"] = []  # stateless
    r = rng.random()
    if r < 0.15:
        age = rng.randint(0, 100)
        case["birth_date"] = (entry - dt.timedelta(days=365 * age + rng.randint(0, 360))).isoformat()
    elif r < 0.9:
        case["age"] = rng.randint(0, 130) if rng.random() < 0.1 else rng.randint(0, 70)
    for name in ("unaccompanied", "family_unit", *FLAGS):
        r = rng.random()
        if r < 0.7:
            case[name] = r < 0.2
    if rng.random() < 0.8:
        case["documents"] = rng.choice(DOCUMENTS)
    border = rng.choice(BORDERS)
    place = "port_of_entry" if border == "air" else rng.choice(("port_of_entry", "between_ports"))
    given_entry: dict[str, Any] = {"date": entry.isoformat()}
    if rng.random() < 0.9:
        given_entry["border"] = border
    if rng.random() < 0.9:
        given_entry["place"] = place
    if rng.random() < 0.8:
        given_entry["state"] = rng.choice(STATES[border])
    if place == "port_of_entry" and rng.random() < 0.5:
        given_entry["appointment"] = rng.random() < 0.5
    case["entry"] = given_entry
    if rng.random() < 0.9:
        stops = rng.sample(COUNTRIES, rng.randint(0, 4))
        case["transit"] = [
            {"country": c, "protection": rng.choice(PROTECTIONS)} if rng.random() < 0.3 else c for c in stops
        ]
    if rng.random() < 0.4:
        case["claim_date"] = _later(rng, entry, 400).isoformat()
    if rng.random() < 0.5:
        earliest = dt.date.fromisoformat(case.get("claim_date", entry.isoformat()))
        case["decision_date"] = _later(rng, earliest, 1500).isoformat()
    if rng.random() < 0.3:
        case["habitual_residence"] = rng.choice(COUNTRIES)
    if rng.random() < 0.2:
        case["fear_established_in"] = rng.sample(COUNTRIES, rng.randint(1, 3))
    if rng.random() < 0.3:
        case["family_in_us"] = [
            {"relation": rng.choice(RELATIONS), "status": rng.choice(STATUSES)} for _ in range(rng.randint(0, 2))
        ]
    return case


POPULATIONS: dict[str, Callable[[random.Random, int], dict[str, Any]]] = {
    "realistic": realistic,
    "fact_space": fact_space,
}


def rows(population: str, count: int, seed: int) -> Iterator[dict[str, Any]]:
    make = POPULATIONS[population]
    rng = random.Random(seed)
    for number in range(1, count + 1):
        yield make(rng, number)


def write(path: Path, population: str, count: int, seed: int) -> int:
    """Write ``count`` rows as JSON Lines; returns the file's size in bytes."""
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        block: list[str] = []
        for row in rows(population, count, seed):
            block.append(dumps(row))
            if len(block) >= 10_000:
                out.write("\n".join(block) + "\n")
                block = []
        if block:
            out.write("\n".join(block) + "\n")
    return path.stat().st_size


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3) or args[0] not in POPULATIONS:
        sys.exit(f"usage: batch_populations.py {{{','.join(POPULATIONS)}}} COUNT [SEED] > cases.jsonl")
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    for row in rows(args[0], int(args[1]), int(args[2]) if len(args) == 3 else 20191121):
        sys.stdout.write(dumps(row) + "\n")


if __name__ == "__main__":
    main()
