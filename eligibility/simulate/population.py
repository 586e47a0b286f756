"""The population model behind ``eligibility simulate``: a real population, split into cohorts.

Researchers ask how many of the 851,508 people apprehended by the U.S. Border Patrol at the
southwest border in FY2019 could have been sent to Guatemala under each policy. This module:

1. loads the CBP figures (``populations/fy2019-sw-border.yaml``, every figure with its source and
   evidence level);
2. splits them into cohorts (:func:`cohorts`): nationality x demographic from the data, then
   sub-cohorts drawn at random (``seed``) with numpy (children and adults in family units, ages
   of unaccompanied children, entry state by Border Patrol sector, routes and the optional
   shares), every cohort with one representative :class:`~eligibility.case.Case` and a count;
3. determines each cohort once per policy and adds its count to the outcome (:func:`simulate`);
4. renders the outcome table as text, JSON or CSV.

Every assumption is a field of :class:`Assumptions` with a default and a note saying why. The
FY2019 population arrived before the Guatemala agreement was in force (2019-11-15), so the
simulation asks a counterfactual question: what if these same people had arrived on
``entry_date``?
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import product
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from eligibility.case import Border, Case, Country, Documents, Place
from eligibility.engine.decide import Headline
from eligibility.errors import EligibilityError
from eligibility.ruleset.load import Evidence

POPULATION = "fy2019-sw-border"
DEFAULT_SEED = 2019
DEFAULT_POLICIES: tuple[str, ...] = ("enacted", "implemented", "draft-2019-07")

#: Nationality groups, in the order of the CBP table; ``other`` is every other citizenship.
NATIONALITIES: tuple[str, ...] = ("GT", "HN", "SV", "MX", "other")
NATIONALITY_NAMES: Mapping[str, str] = {
    "GT": "Guatemala",
    "HN": "Honduras",
    "SV": "El Salvador",
    "MX": "Mexico",
    "other": "Other",
}
UAC = "unaccompanied child"
FAMILY_CHILD = "child in family unit"
FAMILY_ADULT = "adult in family unit"
SINGLE_ADULT = "single adult"
DEMOGRAPHICS: tuple[str, ...] = (UAC, FAMILY_CHILD, FAMILY_ADULT, SINGLE_ADULT)


class SimulationError(EligibilityError):
    """The assumptions are inconsistent with the data (e.g. they leave a negative remainder)."""


# --- the data file -------------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Period(_Frozen):
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")


class Source(_Frozen):
    """A publication the figures come from; the chart of ``simulate --plot`` names each in its footer."""

    name: str = Field(min_length=1)
    url: str | None = None


class Figure(_Frozen):
    """One published figure with where it comes from and how far to trust it."""

    value: int = Field(ge=0)
    evidence: Evidence
    from_: str = Field(alias="from", description="the key of its publication in ``sources``")
    source: str
    url: str | None = None


class Definition(_Frozen):
    text: str
    evidence: Evidence
    url: str | None = None


class CitizenshipFigures(_Frozen):
    total: Figure
    family_unit_individuals: Figure | None = None
    uac: Figure | None = None


class EightMonthRow(_Frozen):
    family_unit_individuals: int | None = None
    uac: int | None = None
    single_adults: int | None = None


class EightMonths(_Frozen):
    period: Period
    evidence: Evidence
    from_: str = Field(alias="from")
    source: str
    by_citizenship: dict[str, EightMonthRow]


class Sector(_Frozen):
    state: str
    uac: int
    family_unit_individuals: int
    single_adults: int | None = None


class Sectors(_Frozen):
    evidence: Evidence
    from_: str = Field(alias="from")
    source: str
    url: str | None = None
    sectors: dict[str, Sector]
    note: str = ""


class Demographics(_Frozen):
    uac: Figure
    family_unit_individuals: Figure
    single_adults: Figure


class PopulationData(_Frozen):
    """A population file (``eligibility/populations/<id>.yaml``), validated."""

    id: str
    title: str
    period: Period
    agency: str
    sources: dict[str, Source] = Field(min_length=1)
    definitions: dict[str, Definition]
    total: Figure
    by_demographic: Demographics
    by_citizenship: dict[str, CitizenshipFigures]
    first_eight_months: EightMonths
    by_sector: Sectors

    @model_validator(mode="after")
    def _adds_up(self) -> PopulationData:
        d = self.by_demographic
        parts = d.uac.value + d.family_unit_individuals.value + d.single_adults.value
        if parts != self.total.value:
            raise ValueError(f"by_demographic adds up to {parts}, not the total {self.total.value}")
        by_nat = sum(c.total.value for c in self.by_citizenship.values())
        if by_nat != self.total.value:
            raise ValueError(f"by_citizenship adds up to {by_nat}, not the total {self.total.value}")
        if set(self.by_citizenship) != set(NATIONALITIES):
            raise ValueError(f"by_citizenship must list {', '.join(NATIONALITIES)}")
        for key in ("uac", "family_unit_individuals"):
            in_sectors = sum(getattr(s, key) for s in self.by_sector.sectors.values())
            if in_sectors != getattr(d, key).value:
                raise ValueError(f"by_sector {key} adds up to {in_sectors}, not {getattr(d, key).value}")
        cited = [self.total, *(getattr(d, k) for k in Demographics.model_fields)]
        cited += [
            f for c in self.by_citizenship.values() for f in (c.total, c.family_unit_individuals, c.uac) if f
        ]
        used = [f.from_ for f in cited] + [self.first_eight_months.from_, self.by_sector.from_]
        unknown = sorted(set(used) - set(self.sources))
        if unknown:
            raise ValueError(
                f"'from' names no source: {', '.join(unknown)} (known: {', '.join(self.sources)})"
            )
        unused = [key for key in self.sources if key not in used]
        if unused:
            raise ValueError(f"sources no figure comes from: {', '.join(unused)}")
        return self

    def source_names(self) -> list[str]:
        """Every publication a figure comes from, in the file's order (the chart's footer names each)."""
        return [s.name for s in self.sources.values()]

    def figures(self) -> list[dict[str, Any]]:
        """Every figure of the file, flat: name, value, evidence, source, url."""
        rows: list[tuple[str, Figure]] = [("total", self.total)]
        rows += [(f"by_demographic.{k}", getattr(self.by_demographic, k)) for k in Demographics.model_fields]
        for nat, figs in self.by_citizenship.items():
            for key in CitizenshipFigures.model_fields:
                fig = getattr(figs, key)
                if fig is not None:
                    rows.append((f"by_citizenship.{nat}.{key}", fig))
        out = [
            {
                "figure": name,
                **fig.model_dump(mode="json", exclude_none=True, exclude={"from_"}),
                "from": self.sources[fig.from_].name,
            }
            for name, fig in rows
        ]
        eight = self.first_eight_months
        for nat, row in eight.by_citizenship.items():
            for key, value in row.model_dump(exclude_none=True).items():
                out.append(
                    {
                        "figure": f"first_eight_months.{nat}.{key}",
                        "value": value,
                        "evidence": eight.evidence,
                        "source": f"{eight.source} ({eight.period.start} to {eight.period.end})",
                        "from": self.sources[eight.from_].name,
                    }
                )
        sec = self.by_sector
        for name, s in sec.sectors.items():
            for key, value in s.model_dump(exclude_none=True).items():
                if key != "state":
                    out.append(
                        {
                            "figure": f"by_sector.{name}.{key}",
                            "value": value,
                            "evidence": sec.evidence,
                            "source": sec.source,
                            "from": self.sources[sec.from_].name,
                            **({"url": sec.url} if sec.url else {}),
                        }
                    )
        return out


@cache
def load_population(name: str = POPULATION) -> PopulationData:
    """The population file shipped with the package (works from an installed wheel)."""
    resource = resources.files("eligibility") / "populations" / f"{name}.yaml"
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SimulationError(f"no population '{name}' (eligibility/populations/{name}.yaml)") from None
    try:
        return PopulationData.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SimulationError(f"populations/{name}.yaml: {where}: {first['msg']}") from None


# --- the assumptions -----------------------------------------------------------------------------


class Route(_Frozen):
    """A route north: the countries crossed, in order, and the share of the group taking it."""

    via: tuple[Country, ...] = ()
    share: float = Field(1.0, ge=0, le=1)


def _default_routes() -> dict[str, tuple[Route, ...]]:
    return {
        "GT": (Route(via=("MX",)),),
        "HN": (Route(via=("GT", "MX")),),
        "SV": (Route(via=("GT", "MX")),),
        "MX": (Route(via=()),),
        "other": (Route(via=("HN", "GT", "MX")),),
    }


def _default_uac_shares() -> dict[str, float]:
    """UAC / (UAC + single adults) by citizenship, from the Oct 2018-May 2019 CBP table."""
    rows = load_population().first_eight_months.by_citizenship
    shares = {}
    for nat in ("GT", "HN", "SV"):
        row = rows[nat]
        assert row.uac is not None and row.single_adults is not None
        shares[nat] = round(row.uac / (row.uac + row.single_adults), 4)
    return shares


_BAND = re.compile(r"^(\d{1,2})-(\d{1,2})$")


class Assumptions(_Frozen):
    """Everything the simulation assumes beyond the CBP figures; each field has a default and a note."""

    entry_date: dt.date = Field(
        dt.date(2020, 1, 15),
        description=(
            "Every person is treated as arriving on this date. The FY2019 population arrived before the "
            "Guatemala ACA entered into force (2019-11-15), so this is a counterfactual. 2020-01-15: single "
            "adults (from 2019-11-21) and family units (from 2019-12-12) were being transferred, before the "
            "2020-03-16 pause, and the transit bar was enforceable (2019-09-11 to 2020-06-30)."
        ),
    )
    decision_date: dt.date | None = Field(
        None, description="The date of the determination; none: the entry date (the documented default)."
    )
    entry_border: Border = Field(
        "southern_land", description="U.S. Border Patrol southwest border apprehensions: from Mexico."
    )
    entry_place: Place = Field(
        "between_ports", description="U.S. Border Patrol apprehends between ports of entry (CBP)."
    )
    states_from_sectors: bool = Field(
        True,
        description=(
            "Entry state drawn from the FY2019 Border Patrol sector figures (CA: San Diego, El Centro; AZ: "
            "Tucson, Yuma; TX: the rest, El Paso sector including New Mexico), the same split for every "
            "nationality; single adults follow the UAC and family-unit split, since sector figures for single "
            "adults are incomplete. Matters only where court orders differed by circuit (transit bar, "
            "2019-08-16 to 2019-09-09). False: entry state unknown."
        ),
    )
    documents: Documents = Field(
        "none",
        description="Entry between ports: no U.S. visa or admission document (so no ACA or MPP exception).",
    )
    visa_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description=(
            "Share who hold a U.S. visa (documents: us_visa), an exception of the Guatemala ACA as enacted "
            "(84 FR 63994) that the July 2019 draft did not have. Default 0, a stated assumption: CBP "
            "publishes no count of visa holders among people apprehended between ports."
        ),
    )
    family_child_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description=(
            "Share of family-unit individuals who are children. CBP does not publish the split in the "
            "figures used (UNVERIFIED): one parent with one child on average."
        ),
    )
    child_age: int = Field(7, ge=0, le=17, description="Age of children in family units (accompanied).")
    adult_age: int = Field(30, ge=18, le=130, description="Age of adults (single or in family units).")
    uac_age_groups: dict[str, float] = Field(
        default_factory=lambda: {"0-12": 0.17, "13-14": 0.14, "15-17": 0.69},
        description=(
            "Age bands of unaccompanied children and their shares (illustrative, UNVERIFIED: not from a "
            "source read; most UAC are teenagers). Every band is under 18, so no encoded rule depends on it."
        ),
    )
    uac_share_of_non_family: dict[str, float] = Field(
        default_factory=_default_uac_shares,
        description=(
            "For GT, HN and SV the FY2019 totals give family units but not UAC vs single adults: the "
            "remainder is split by the UAC share of the Oct 2018-May 2019 CBP table (secondary)."
        ),
    )
    mexico_uac: int = Field(
        10_400,
        ge=0,
        description="Mexican UAC in FY2019: 'more than 10,400' (secondary; a lower bound). The rest are single adults.",
    )
    other_nationality: Country = Field(
        "NI",
        description=(
            "The 77,276 'other' people (an UNVERIFIED remainder) are represented by one placeholder "
            "nationality (Nicaragua): a national of neither GT, HN, SV nor MX who needs a U.S. visa. Any such "
            "nationality gives the same outcomes under the encoded rules."
        ),
    )
    routes: dict[str, tuple[Route, ...]] = Field(
        default_factory=_default_routes,
        description=(
            "Countries crossed, by nationality group: HN and SV through GT and MX, GT through MX, MX none, "
            "other through HN, GT and MX (overland from Central America; an assumption)."
        ),
    )
    denied_in_transit_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description=(
            "Share of people with a transit country who applied for protection in the last one and got a "
            "final denial (transit-bar exception (i)). Default: none sought protection in transit."
        ),
    )
    fear_of_guatemala_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share who establish at the ACA threshold screening that harm in Guatemala is more likely than not.",
    )
    fear_of_mexico_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share who establish that harm in Mexico is more likely than not (MPP exception).",
    )
    trafficking_victim: bool = Field(
        False, description="Nobody is a victim of severe trafficking (8 CFR 214.11)."
    )
    public_interest: bool = Field(False, description="DHS makes no public-interest decision for anyone.")

    @field_validator("uac_age_groups")
    @classmethod
    def _bands(cls, value: dict[str, float]) -> dict[str, float]:
        for band, share in value.items():
            m = _BAND.match(band)
            if not m or not 0 <= int(m.group(1)) <= int(m.group(2)) <= 17:
                raise ValueError(f"'{band}' is not an age band such as '15-17' (ages 0 to 17)")
            if not 0 <= share <= 1:
                raise ValueError(f"share of '{band}' is {share}, not between 0 and 1")
        _sums_to_one(value.values(), "the age band shares")
        return value

    @field_validator("uac_share_of_non_family")
    @classmethod
    def _uac_shares(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != {"GT", "HN", "SV"}:
            raise ValueError("give a share for each of GT, HN and SV")
        for nat, share in value.items():
            if not 0 <= share <= 1:
                raise ValueError(f"share for {nat} is {share}, not between 0 and 1")
        return value

    @field_validator("routes")
    @classmethod
    def _routes(cls, value: dict[str, tuple[Route, ...]]) -> dict[str, tuple[Route, ...]]:
        unknown = set(value) - set(NATIONALITIES)
        if unknown:
            raise ValueError(
                f"unknown nationality group {sorted(unknown)} (known: {', '.join(NATIONALITIES)})"
            )
        merged = {**_default_routes(), **value}
        for nat, routes in merged.items():
            if not routes:
                raise ValueError(f"{nat}: give at least one route")
            _sums_to_one((r.share for r in routes), f"the route shares of {nat}")
        return merged

    @model_validator(mode="after")
    def _dates(self) -> Assumptions:
        if self.decision_date is not None and self.decision_date < self.entry_date:
            raise ValueError(f"decision_date: {self.decision_date} is before entry_date {self.entry_date}")
        return self

    @classmethod
    def notes(cls) -> dict[str, str]:
        """The note of every assumption (its field description)."""
        return {name: f.description or "" for name, f in cls.model_fields.items()}


def _sums_to_one(shares: Iterable[float], what: str) -> None:
    total = sum(shares)
    if abs(total - 1) > 1e-6:
        raise ValueError(f"{what} add up to {total:g}, not 1")


def make_assumptions(**values: Any) -> Assumptions:
    """Assumptions from keyword values; ``SimulationError`` with one line per bad value."""
    try:
        return Assumptions(**values)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {message}" if where else message)
        raise SimulationError("; ".join(lines)) from None


# --- cohorts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cohort:
    """People who share every fact the rules read: one representative case and how many they are."""

    nationality: str  # a NATIONALITIES entry
    demographic: str  # a DEMOGRAPHICS entry
    detail: tuple[str, ...]  # the sub-cohort: age band, entry state, route, optional shares
    case: Case
    count: int


def group_sizes(assumptions: Assumptions, data: PopulationData | None = None) -> dict[tuple[str, str], int]:
    """People by (nationality, 'uac' | 'family' | 'single'): the CBP figures and the stated splits.

    Family units by citizenship come from the data; UAC vs single adults for GT, HN and SV split
    the remainder by ``uac_share_of_non_family``; Mexico's UAC are ``mexico_uac``; 'other' takes
    what remains of each demographic total.
    """
    data = data or load_population()
    sizes: dict[tuple[str, str], int] = {}
    for nat in ("GT", "HN", "SV", "MX"):
        figs = data.by_citizenship[nat]
        if figs.family_unit_individuals is None:
            raise SimulationError(f"populations/{data.id}.yaml: no family-unit figure for {nat}")
        family = figs.family_unit_individuals.value
        rest = figs.total.value - family
        if nat == "MX":
            uac = assumptions.mexico_uac
        else:
            uac = round(rest * assumptions.uac_share_of_non_family[nat])
        sizes[nat, "family"], sizes[nat, "uac"], sizes[nat, "single"] = family, uac, rest - uac
    demo = data.by_demographic
    sizes["other", "family"] = demo.family_unit_individuals.value - sum(
        sizes[n, "family"] for n in NATIONALITIES[:-1]
    )
    sizes["other", "uac"] = demo.uac.value - sum(sizes[n, "uac"] for n in NATIONALITIES[:-1])
    sizes["other", "single"] = (
        data.by_citizenship["other"].total.value - sizes["other", "family"] - sizes["other", "uac"]
    )
    kinds = {"uac": "unaccompanied children", "family": "family-unit individuals", "single": "single adults"}
    for (nat, kind), n in sizes.items():
        if n < 0:
            raise SimulationError(
                f"mexico_uac: leaves {n:,} {kinds[kind]} of {NATIONALITY_NAMES[nat]} nationality "
                "(the UAC assumptions exceed the CBP totals)"
            )
    return sizes


def _state_shares(data: PopulationData, a: Assumptions) -> dict[str, list[tuple[str | None, float]]]:
    """Entry-state shares by demographic, from the Border Patrol sector figures."""
    if not a.states_from_sectors:
        return {d: [(None, 1.0)] for d in DEMOGRAPHICS}
    uac: dict[str, int] = {}
    family: dict[str, int] = {}
    for s in data.by_sector.sectors.values():
        uac[s.state] = uac.get(s.state, 0) + s.uac
        family[s.state] = family.get(s.state, 0) + s.family_unit_individuals
    states = sorted(uac)

    def shares(counts: Mapping[str, int]) -> list[tuple[str | None, float]]:
        total = sum(counts.values())
        return [(st, counts.get(st, 0) / total) for st in states]

    both = {st: uac[st] + family.get(st, 0) for st in states}
    return {
        UAC: shares(uac),
        FAMILY_CHILD: shares(family),
        FAMILY_ADULT: shares(family),
        SINGLE_ADULT: shares(both),
    }


def _band_age(band: str) -> int:
    low, high = (int(x) for x in band.split("-"))
    return (low + high) // 2


def _options(
    a: Assumptions, nat: str, demographic: str, states: Sequence[tuple[str | None, float]]
) -> list[tuple[tuple[str, ...], dict[str, Any], float]]:
    """The sub-cohorts of one group: (detail labels, facts, probability), zero-probability ones left out."""
    if demographic == UAC:
        ages = [(f"age {band}", _band_age(band), share) for band, share in a.uac_age_groups.items()]
    else:
        age = a.child_age if demographic == FAMILY_CHILD else a.adult_age
        ages = [("", age, 1.0)]
    yes_no = (True, False)
    options = []
    visas = yes_no if a.visa_share else (False,)  # nobody holds a visa: no branch to draw
    for (age_label, age, p_age), (state, p_state), route, denied, fear_gt, fear_mx, visa in product(
        ages, states, a.routes[nat], yes_no, yes_no, yes_no, visas
    ):
        p_denied = a.denied_in_transit_share if route.via else 0.0
        p = (
            p_age
            * p_state
            * route.share
            * (p_denied if denied else 1 - p_denied)
            * (a.fear_of_guatemala_share if fear_gt else 1 - a.fear_of_guatemala_share)
            * (a.fear_of_mexico_share if fear_mx else 1 - a.fear_of_mexico_share)
            * (a.visa_share if visa else 1 - a.visa_share)
        )
        if p <= 0:
            continue
        transit = [
            {"country": c, "protection": "denied_final" if denied and i == len(route.via) - 1 else "none"}
            for i, c in enumerate(route.via)
        ]
        fear = [c for c, flag in (("GT", fear_gt), ("MX", fear_mx)) if flag]
        detail = [
            age_label,
            f"entered {state}" if state else "",
            "via " + ", ".join(route.via) if route.via else "no transit country",
            f"denied protection in {route.via[-1]}" if denied else "",
            "fear of " + " and ".join(fear) + " established" if fear else "",
            "holds a U.S. visa" if visa else "",
        ]
        facts = {
            "age": age,
            "unaccompanied": True if demographic == UAC else (False if demographic == FAMILY_CHILD else None),
            "family_unit": demographic in (FAMILY_CHILD, FAMILY_ADULT),
            "state": state,
            "transit": transit,
            "fear_established_in": fear,
            "documents": "us_visa" if visa else a.documents,
        }
        options.append((tuple(d for d in detail if d), facts, p))
    return options


def _case(a: Assumptions, nat: str, demographic: str, detail: tuple[str, ...], facts: dict[str, Any]) -> Case:
    entry: dict[str, Any] = {"date": a.entry_date, "border": a.entry_border, "place": a.entry_place}
    if facts["state"] is not None:
        entry["state"] = facts["state"]
    data: dict[str, Any] = {
        "id": " / ".join((nat, demographic, *detail)),
        "nationalities": [a.other_nationality if nat == "other" else nat],
        "age": facts["age"],
        "unaccompanied": facts["unaccompanied"],
        "family_unit": facts["family_unit"],
        "documents": facts["documents"],
        "entry": entry,
        "transit": facts["transit"],
        "trafficking_victim": a.trafficking_victim,
        "fear_established_in": facts["fear_established_in"],
        "public_interest": a.public_interest,
        "family_in_us": [],
    }
    if a.decision_date is not None:
        data["decision_date"] = a.decision_date
    return Case.model_validate(data)


def cohorts(assumptions: Assumptions | None = None, seed: int = DEFAULT_SEED) -> list[Cohort]:
    """The population as cohorts whose counts add up to the CBP total exactly.

    Nationality x demographic sizes are fixed by the data and the assumptions (:func:`group_sizes`);
    ``seed`` draws each group into sub-cohorts with numpy (binomial: children vs adults in family
    units; multinomial: age band, entry state, route and the optional shares), one draw per group,
    never one per person.
    """
    a = assumptions or Assumptions()
    data = load_population()
    sizes = group_sizes(a, data)
    states = _state_shares(data, a)
    rng = np.random.default_rng(seed)
    out: list[Cohort] = []
    for nat in NATIONALITIES:
        family = sizes[nat, "family"]
        children = int(rng.binomial(family, a.family_child_share))
        groups = (
            (UAC, sizes[nat, "uac"]),
            (FAMILY_CHILD, children),
            (FAMILY_ADULT, family - children),
            (SINGLE_ADULT, sizes[nat, "single"]),
        )
        for demographic, n in groups:
            options = _options(a, nat, demographic, states[demographic])
            probabilities = np.array([p for _, _, p in options], dtype=float)
            drawn = rng.multinomial(n, probabilities / probabilities.sum())
            for (detail, facts, _), k in zip(options, drawn, strict=True):
                if k:
                    out.append(
                        Cohort(nat, demographic, detail, _case(a, nat, demographic, detail, facts), int(k))
                    )
    return out


# --- simulation ----------------------------------------------------------------------------------


class Outcome(Headline):
    """What a determination says, in the fields that matter for counting (``engine.decide.Headline``)."""

    __slots__ = ()

    @property
    def label(self) -> str:
        """Human-readable, per the determination format (``barred``: withholding of removal and CAT only)."""
        if self.outcome == "transfer":
            return "transfer to " + " or ".join(self.transfer_to)
        if self.outcome == "expel":
            return "expelled to " + " or ".join(self.expel_to) + " (Title 42)"
        if self.outcome != "process_in_us":
            return "undetermined"
        asylum = {
            "eligible": "asylum eligible",
            "barred": "barred from asylum",
            "undetermined": "asylum undetermined",
        }.get(self.asylum, f"asylum {self.asylum}")
        wait = {True: ", may wait in Mexico (MPP)", "undetermined": ", MPP undetermined"}.get(
            self.wait_in_mexico, ""
        )
        return f"processed in U.S., {asylum}{wait}"

    @property
    def code(self) -> str:
        """A short, stable code for the outcome (for spreadsheets): ``transfer.GT``, ``expel.MX``,
        ``process_in_us.barred.mpp``, ``process_in_us.eligible``, ``undetermined``."""
        from eligibility.columnar import outcome_code

        return outcome_code(self)

    @property
    def rank(self) -> tuple[int, int, str]:
        first = {"expel": 0, "transfer": 1, "process_in_us": 2}.get(self.outcome, 9)
        asylum = {"eligible": 0, "undetermined": 1, "barred": 2}.get(self.asylum, 3)
        wait = 0 if self.wait_in_mexico is False else 1 if self.wait_in_mexico is True else 2
        return first, 3 * asylum + wait, self.label

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "outcome": self.outcome,
            "transfer_to": list(self.transfer_to),
            "expel_to": list(self.expel_to),
            "asylum": self.asylum,
            "wait_in_mexico": self.wait_in_mexico,
        }


Key = tuple[str, str, str, str]  # policy, nationality, demographic, outcome label


@dataclass(frozen=True)
class SimulationResult:
    """Counts of people by (policy, nationality, demographic, outcome label), with what they rest on."""

    population: PopulationData
    policies: tuple[str, ...]
    policy_titles: Mapping[str, str]
    assumptions: Assumptions
    seed: int
    counts: Mapping[Key, int]
    outcomes: Mapping[str, Outcome]  # label -> fields
    cohorts: int  # per policy
    evaluations: int
    elapsed: float  # seconds, cohorts and evaluation
    identical: tuple[Identical, ...] = ()  # pairs of policies with the same counts (simulate(compare=True))

    @property
    def total(self) -> int:
        return self.population.total.value

    @property
    def cases(self) -> int:
        """People counted: the population once per policy."""
        return self.total * len(self.policies)

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.elapsed if self.elapsed > 0 else float("inf")

    def labels(self) -> list[str]:
        """Every outcome label, transfers first, then by asylum and MPP."""
        return sorted(self.outcomes, key=lambda label: self.outcomes[label].rank)

    def by_outcome(
        self, policy: str, *, nationality: str | None = None, demographic: str | None = None
    ) -> dict[str, int]:
        """People by outcome label under ``policy``, optionally within one nationality or demographic."""
        out: dict[str, int] = {}
        for (pol, nat, demo, label), n in self.counts.items():
            if pol == policy and nationality in (None, nat) and demographic in (None, demo):
                out[label] = out.get(label, 0) + n
        return out


def simulate(
    policies: Sequence[str] = DEFAULT_POLICIES,
    assumptions: Assumptions | None = None,
    seed: int = DEFAULT_SEED,
    *,
    rules: Any = None,
    compare: bool = True,
) -> SimulationResult:
    """Determine every cohort once per policy and count people by outcome.

    With ``compare``, policies that come out the same are examined (``identical_policies``): the
    result's ``identical`` says which assumptions, set otherwise, would tell them apart.

    Raises ``UnknownPolicyError`` for a policy not in the rules, ``SimulationError`` when the
    assumptions do not fit the data.
    """
    from eligibility.fast import Evaluator
    from eligibility.ruleset.load import default_rules

    a = assumptions or Assumptions()
    ruleset = rules or default_rules()
    names = tuple(dict.fromkeys(policies))
    if not names:
        raise SimulationError("give at least one policy")
    for name in names:
        ruleset.require_policy(name)
    started = time.perf_counter()
    groups = cohorts(a, seed)
    counts: dict[Key, int] = {}
    outcomes: dict[str, Outcome] = {}
    evaluations = 0
    for name in names:
        evaluator = Evaluator(name, rules=ruleset)
        for cohort in groups:
            r = evaluator.headline(cohort.case)
            evaluations += 1
            outcome = Outcome(*r)
            label = outcome.label
            outcomes.setdefault(label, outcome)
            key = (name, cohort.nationality, cohort.demographic, label)
            counts[key] = counts.get(key, 0) + cohort.count
    elapsed = time.perf_counter() - started
    result = SimulationResult(
        population=load_population(),
        policies=names,
        policy_titles={n: ruleset.policies[n].title for n in names},
        assumptions=a,
        seed=seed,
        counts=counts,
        outcomes=outcomes,
        cohorts=len(groups),
        evaluations=evaluations,
        elapsed=elapsed,
    )
    if compare and len(names) > 1:
        result = dataclasses.replace(result, identical=identical_policies(result, ruleset))
    return result


# --- policies that come out the same --------------------------------------------------------------

# The assumptions that can hide a difference between policies: the assumption, the option that sets
# it ("" where it is not an option), and what it means set to all and set to none. Each is tried at
# whichever of all and none it is not set to (a share in between is tried at both).
LEVERS: tuple[tuple[str, str, str, str], ...] = (
    ("visa_share", "--visa-share", "people held a U.S. visa", "nobody held a U.S. visa"),
    (
        "fear_of_guatemala_share",
        "--fear-of-guatemala",
        "people established a fear of Guatemala",
        "nobody established a fear of Guatemala",
    ),
    (
        "fear_of_mexico_share",
        "--fear-of-mexico",
        "people established a fear of Mexico",
        "nobody established a fear of Mexico",
    ),
    (
        "denied_in_transit_share",
        "--denied-in-transit",
        "people had been denied protection in transit",
        "nobody had been denied protection in transit",
    ),
    (
        "trafficking_victim",
        "",
        "people were victims of severe trafficking",
        "nobody was a victim of severe trafficking",
    ),
    (
        "public_interest",
        "",
        "DHS decided in the public interest",
        "DHS decided nothing in the public interest",
    ),
)


Lever = tuple[str, Any, str, str]
"""An assumption, the value tried, the option that sets it ("" if none) and what that value means."""


def _tries(assumptions: Assumptions) -> list[Lever]:
    """The values of the assumptions that may hide a difference, each tried where it is not set:
    every share at all and at none, yes and no, and the entry date the simulation assumes by
    default (when another is set)."""
    found: list[Lever] = []
    for name, option, everyone, nobody in LEVERS:
        now = getattr(assumptions, name)
        high: Any = 1.0 if isinstance(now, float) else True
        low: Any = 0.0 if isinstance(now, float) else False
        found += [(name, v, option, words) for v, words in ((high, everyone), (low, nobody)) if now != v]
    default = Assumptions.model_fields["entry_date"].default
    if assumptions.entry_date != default:
        found.append(("entry_date", default, "--entry-date", f"people arrived on {default}"))
    return found


@dataclass(frozen=True)
class Identical:
    """Two policies that give the same counts under the assumptions, and the assumptions that,
    set otherwise, make them differ (``(assumption, value tried, option, meaning)``)."""

    policies: tuple[str, str]
    would_differ: tuple[Lever, ...]
    tried: tuple[Lever, ...] = ()

    def sentence(self, assumptions: Assumptions) -> str:
        a, b = self.policies
        head = f"{a} and {b} give the same counts under these assumptions"
        if not self.would_differ:
            names = dict.fromkeys(lever[2] or f"{lever[0]} (not an option)" for lever in self.tried)
            return head + "; no assumption tried on its own (" + ", ".join(names) + ") sets them apart."
        parts = []
        for name, _value, option, meaning in self.would_differ:
            now = getattr(assumptions, name)
            shown = (
                f"{100 * now:.0f}%"
                if isinstance(now, float)
                else ("yes" if now else "no")
                if isinstance(now, bool)
                else str(now)
            )
            parts.append(f"{meaning} ({option or 'not an option'}, now {shown})")
        return head + "; they differ if " + " or if ".join(parts) + "."

    def to_json(self) -> dict[str, Any]:
        return {
            "policies": list(self.policies),
            "would_differ_if": [
                {
                    "assumption": name,
                    "value": str(value) if isinstance(value, dt.date) else value,
                    "option": option or None,
                    "meaning": meaning,
                }
                for name, value, option, meaning in self.would_differ
            ],
        }


def _same_counts(result: SimulationResult, a: str, b: str) -> bool:
    def of(policy: str) -> dict[tuple[str, str, str], int]:
        return {(nat, demo, label): n for (p, nat, demo, label), n in result.counts.items() if p == policy}

    return of(a) == of(b)


def identical_policies(result: SimulationResult, rules: Any = None) -> tuple[Identical, ...]:
    """Each pair of the result's policies with the same counts, and which assumptions (``_tries``),
    set otherwise, would make them differ (one more simulation of the pair per value tried)."""
    found = []
    names = result.policies
    tries = tuple(_tries(result.assumptions))
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if not _same_counts(result, a, b):
                continue
            levers = []
            for lever in tries:
                name, value = lever[0], lever[1]
                try:
                    tried = result.assumptions.model_copy(update={name: value})
                    tried = Assumptions.model_validate(
                        tried.model_dump()
                    )  # a decision before the new entry: skip
                except ValueError:
                    continue
                again = simulate((a, b), tried, result.seed, rules=rules, compare=False)
                if not _same_counts(again, a, b):
                    levers.append(lever)
            found.append(Identical((a, b), tuple(levers), tries))
    return tuple(found)


# --- renderings ----------------------------------------------------------------------------------


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def assumption_lines(result: SimulationResult) -> list[str]:
    """The assumptions that matter, one short line each (the header of the text table)."""
    a = result.assumptions
    sizes = group_sizes(a, result.population)
    decision = a.decision_date or a.entry_date
    routes = "; ".join(
        f"{nat}: " + " or ".join(("via " + ", ".join(r.via) if r.via else "none") for r in a.routes[nat])
        for nat in NATIONALITIES
    )
    uac_shares = ", ".join(f"{nat} {100 * s:.1f}%" for nat, s in a.uac_share_of_non_family.items())
    return [
        f"entry date {a.entry_date} for everyone (the FY2019 population arrived before the Guatemala ACA was "
        f"in force); decision date {decision}",
        f"entry {a.entry_border}, {a.entry_place} (Border Patrol); documents: {a.documents}"
        + (f", {100 * a.visa_share:.0f}% hold a U.S. visa" if a.visa_share else " (nobody holds a U.S. visa)")
        + "; entry state: "
        + ("drawn by Border Patrol sector" if a.states_from_sectors else "unknown"),
        f"family units: {100 * a.family_child_share:.0f}% children (age {a.child_age}), adults age {a.adult_age}; "
        "UAC ages " + ", ".join(f"{band}: {100 * s:.0f}%" for band, s in a.uac_age_groups.items()),
        f"UAC share of non-family people: {uac_shares} (CBP, Oct 2018-May 2019); Mexican UAC {a.mexico_uac:,}",
        f"other: {sizes['other', 'uac'] + sizes['other', 'family'] + sizes['other', 'single']:,} people, "
        f"represented by nationality {a.other_nationality}",
        f"routes: {routes}",
        f"protection denied in transit {100 * a.denied_in_transit_share:.0f}%; fear established of Guatemala "
        f"{100 * a.fear_of_guatemala_share:.0f}%, of Mexico {100 * a.fear_of_mexico_share:.0f}%; "
        f"trafficking victims: {'all' if a.trafficking_victim else 'none'}; public-interest decisions: "
        f"{'all' if a.public_interest else 'none'}",
        f"seed {result.seed} (draws children vs adults in family units, UAC ages, entry states)",
    ]


def render_text(result: SimulationResult) -> str:
    """Header lines with the assumptions, then per policy a table by nationality and by demographic."""
    total = result.total
    labels = result.labels()
    width = max([len("outcome"), *map(len, labels)])
    lines = [
        f"{result.population.title}: {total:,} people",
        "Who could have been sent to a third country under each policy? Assumptions:",
        *(f"  {line}" for line in assumption_lines(result)),
    ]

    def table(policy: str, dimension: str, keys: Sequence[str], names: Sequence[str]) -> list[str]:
        cols = [max(9, len(n) + 1) for n in names]
        head = f"  {'outcome':<{width}} {'people':>9} {'share':>7}" + "".join(
            f"{n:>{w}}" for n, w in zip(names, cols, strict=True)
        )
        rows = [head]
        by_key = {
            k: result.by_outcome(policy, nationality=k)
            if dimension == "nationality"
            else result.by_outcome(policy, demographic=k)
            for k in keys
        }
        everyone = result.by_outcome(policy)
        for label in labels:
            n = everyone.get(label, 0)
            if not n:
                continue
            cells = "".join(f"{by_key[k].get(label, 0):>{w},}" for k, w in zip(keys, cols, strict=True))
            rows.append(f"  {label:<{width}} {n:>9,} {_pct(n, total):>7}{cells}")
        sums = "".join(f"{sum(by_key[k].values()):>{w},}" for k, w in zip(keys, cols, strict=True))
        rows.append(f"  {'total':<{width}} {sum(everyone.values()):>9,} {_pct(total, total):>7}{sums}")
        return rows

    demo_names = ("UAC", "FU child", "FU adult", "single adult")
    for policy in result.policies:
        lines += ["", f"{policy}: {result.policy_titles[policy]}", " by nationality"]
        lines += table(policy, "nationality", NATIONALITIES, [NATIONALITY_NAMES[n] for n in NATIONALITIES])
        lines += [" by demographic"]
        lines += table(policy, "demographic", DEMOGRAPHICS, demo_names)
    if result.identical:
        lines += [""] + [same.sentence(result.assumptions) for same in result.identical]
    lines += [
        "",
        "barred from asylum: heard in the U.S. for withholding of removal and CAT protection only (transit bar);",
        "may wait in Mexico (MPP): may be returned to Mexico to wait for the U.S. hearing. UAC: unaccompanied",
        "alien children; FU: family-unit individuals. Figures and their evidence levels: --format json.",
        f"Counted {result.cases:,} cases ({total:,} people x {len(result.policies)} policies) in "
        f"{result.elapsed:.2f} s: {result.cases_per_second:,.0f} cases/s ({result.cohorts} cohorts per policy, "
        f"{result.evaluations} evaluations).",
    ]
    return "\n".join(lines) + "\n"


def to_json(result: SimulationResult) -> dict[str, Any]:
    """One object: population, policies, assumptions with notes, sources, outcomes, counts, timing."""
    pop = result.population
    sizes = group_sizes(result.assumptions, pop)
    return {
        "population": {
            "id": pop.id,
            "title": pop.title,
            "period": {"from": pop.period.start.isoformat(), "to": pop.period.end.isoformat()},
            "total": pop.total.value,
        },
        "policies": [{"id": p, "title": result.policy_titles[p]} for p in result.policies],
        "seed": result.seed,
        "assumptions": result.assumptions.model_dump(mode="json"),
        "assumption_notes": Assumptions.notes(),
        "groups": [
            {"nationality": nat, "demographic": kind, "count": sizes[nat, kind]}
            for nat in NATIONALITIES
            for kind in ("uac", "family", "single")
        ],
        "sources": pop.figures(),
        "outcomes": {label: result.outcomes[label].to_json() for label in result.labels()},
        "counts": [
            {"policy": p, "nationality": nat, "demographic": demo, "outcome": label, "count": n}
            for (p, nat, demo, label), n in _sorted_counts(result)
        ],
        "totals": {p: result.by_outcome(p) for p in result.policies},
        "identical": [same.to_json() for same in result.identical],
        "timing": {
            "cases": result.cases,
            "elapsed_seconds": round(result.elapsed, 6),
            "cases_per_second": round(result.cases_per_second),
            "cohorts_per_policy": result.cohorts,
            "evaluations": result.evaluations,
        },
    }


def render_json(result: SimulationResult) -> str:
    return json.dumps(to_json(result), ensure_ascii=False, indent=2) + "\n"


def render_csv(result: SimulationResult) -> str:
    """Long format: policy, nationality, demographic, outcome, count, share (of the whole population),
    outcome_code (``Outcome.code``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["policy", "nationality", "demographic", "outcome", "count", "share", "outcome_code"])
    for (policy, nat, demo, label), n in _sorted_counts(result):
        writer.writerow([policy, nat, demo, label, n, f"{n / result.total:.6f}", result.outcomes[label].code])
    return buffer.getvalue()


def _sorted_counts(result: SimulationResult) -> list[tuple[Key, int]]:
    order = {label: i for i, label in enumerate(result.labels())}

    def key(item: tuple[Key, int]) -> tuple[int, int, int, int]:
        (p, nat, demo, label), _ = item
        return result.policies.index(p), NATIONALITIES.index(nat), DEMOGRAPHICS.index(demo), order[label]

    return sorted(result.counts.items(), key=key)


# --- a population file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileCounts:
    """The cases of a CSV file (the batch layout) counted by outcome code under each policy, by the
    columnar engine (``eligibility.columnar``): each class of cases settled once per policy."""

    path: str
    policies: tuple[str, ...]
    rows: int  # the file's rows that are valid cases
    counts: Mapping[str, Mapping[str, int]]  # policy -> outcome code -> rows
    rejected: tuple[tuple[int, str], ...]  # (line number, why the row is not a case)
    classes: Mapping[str, int]  # policy -> classes evaluated
    elapsed: float


def count_file(path: str, policies: Sequence[str] = DEFAULT_POLICIES, *, rules: Any = None) -> FileCounts:
    """Count the cases of a CSV file by outcome code under each policy (the file read once).

    Raises ColumnarError for a header no row can be read with, UnknownPolicyError for a policy not
    in the rules, OSError when the file cannot be read."""
    from eligibility.columnar import evaluate_policies, read_csv
    from eligibility.ruleset.load import default_rules

    ruleset = rules or default_rules()
    names = tuple(dict.fromkeys(policies))
    if not names:
        raise SimulationError("give at least one policy")
    for name in names:
        ruleset.require_policy(name)
    started = time.perf_counter()
    read = read_csv(path, rules=ruleset)
    results = evaluate_policies(read.columns, names)
    first = results[names[0]]
    rejected = sorted([*read.rejected, *((int(read.numbers[row]), why) for row, why in first.rejected)])
    return FileCounts(
        path=path,
        policies=names,
        rows=read.columns.rows - len(first.rejected),
        counts={name: r.counts() for name, r in results.items()},
        rejected=tuple(rejected),
        classes={name: len(r.classes) for name, r in results.items()},
        elapsed=time.perf_counter() - started,
    )


def render_file_counts(result: FileCounts, fmt: str = "text") -> str:
    """``text``: a table per policy; ``json``: one object; ``csv``: policy, outcome_code, count, share."""
    if fmt == "json":
        return (
            json.dumps(
                {
                    "population": result.path,
                    "cases": result.rows,
                    "rejected": [{"row": n, "error": why} for n, why in result.rejected],
                    "counts": {p: dict(sorted(c.items())) for p, c in result.counts.items()},
                },
                indent=2,
            )
            + "\n"
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["policy", "outcome_code", "count", "share"])
        for policy, counts in result.counts.items():
            for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
                writer.writerow([policy, code, n, round(n / result.rows, 6) if result.rows else 0.0])
        return buffer.getvalue()
    lines = [f"{result.path}: {result.rows:,} cases, {len(result.rejected):,} rows rejected"]
    for n, why in result.rejected[:10]:
        lines.append(f"  row {n}: {why}")
    if len(result.rejected) > 10:
        lines.append(f"  and {len(result.rejected) - 10:,} more")
    for policy, counts in result.counts.items():
        lines += ["", f"{policy} ({result.classes[policy]:,} classes of cases):"]
        for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"  {code:<48} {n:>10,}  {_pct(n, result.rows):>6}")
    return "\n".join(lines) + "\n"
