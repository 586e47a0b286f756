"""Turn a class of facts back into a case a person can read and paste into a golden test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from eligibility.ruleset.conditions import PartialSet
from eligibility.ruleset.facts import UNKNOWN, Context


def _known(value: Any) -> bool:
    return value is not UNKNOWN


def example_case(facts: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """A case whose facts are ``facts``; unknown facts are left out."""
    entry_date: dt.date = facts["entry.date"]
    case: dict[str, Any] = {"entry": {"date": entry_date.isoformat()}}
    nationalities = facts.get("nationalities", UNKNOWN)
    if isinstance(nationalities, PartialSet):
        nationalities = nationalities.included
    if _known(nationalities):
        case["nationalities"] = sorted(nationalities)
    home = facts.get("habitual_residence", UNKNOWN)
    if _known(home) and (not nationalities or nationalities is UNKNOWN or home not in nationalities):
        case["habitual_residence"] = home
    simple = {
        "age_at_entry": "age",
        "unaccompanied": "unaccompanied",
        "family_unit": "family_unit",
        "documents": "documents",
        "trafficking_victim": "trafficking_victim",
        "public_interest": "public_interest",
    }
    for fact, field in simple.items():
        if _known(facts.get(fact, UNKNOWN)):
            case[field] = facts[fact]
    for fact in ("entry.border", "entry.place", "entry.state"):
        if _known(facts.get(fact, UNKNOWN)):
            case["entry"][fact[6:]] = facts[fact]
    decision = facts.get("decision_date", UNKNOWN)
    if _known(decision) and decision != entry_date:
        case["decision_date"] = decision.isoformat()
    days = facts.get("days_from_entry_to_claim", UNKNOWN)
    if _known(days) and days:
        case["claim_date"] = (entry_date + dt.timedelta(days=days)).isoformat()
    fear = facts.get("fear_established_in", UNKNOWN)
    if isinstance(fear, PartialSet):
        fear = fear.included
    if _known(fear) and fear:
        case["fear_established_in"] = sorted(fear)
    family = facts.get("family_in_us.qualifying", UNKNOWN)
    if family is True:
        case["family_in_us"] = [{"relation": "sibling", "status": "lpr"}]
    transit = _transit(facts, case, ctx, entry_date)
    if transit is not None:
        case["transit"] = transit
    return case


def _transit(facts: Mapping[str, Any], case: dict[str, Any], ctx: Context, day: dt.date) -> list[Any] | None:
    third = facts.get("transit.through_third_country", UNKNOWN)
    denied = facts.get("transit.denied_final", UNKNOWN)
    non_party = facts.get("transit.only_non_party_third_countries", UNKNOWN)
    if third is UNKNOWN and denied is UNKNOWN:
        return None
    own = set(case.get("nationalities", [])) | (
        {case["habitual_residence"]} if "habitual_residence" in case else set()
    )
    stops: list[Any] = []
    if third is True:
        wanted_party = non_party is not True
        pool = sorted(ctx.treaties.parties) if wanted_party else sorted(ctx.treaties.non_parties)
        country = next(
            (c for c in pool if c not in own and (ctx.treaties.party_to_any(c, day) is True) == wanted_party),
            None,
        )
        if country is not None:
            stops.append(country)
    if denied is True:
        where = stops[0] if stops else next(iter(sorted(own)), "MX")
        stops = [s for s in stops if s != where] + [{"country": where, "protection": "denied_final"}]
    return stops
