"""The fact vocabulary: every name a rule file may test, its type, and how it comes from a case.

Rules never read the case directly: they test *facts*, which are the case's fields (named as in the
contract) plus a few derived facts (the age on the entry date, the transit-bar tests, ...). A fact
is either known or ``UNKNOWN``; both engines see the same facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from eligibility.case import Border, Case, Documents, FamilyStatus, Place, Relation, age_on
from eligibility.countries import check_country, check_state
from eligibility.errors import did_you_mean


class _Unknown:
    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
"""The value of a fact that the case does not settle."""

FactType = Literal["bool", "int", "date", "enum", "country", "state", "countries"]
FactValue = bool | int | dt.date | str | frozenset[str]
Facts = Mapping[str, "FactValue | _Unknown"]


@dataclass(frozen=True)
class TreatyTable:
    """Which countries were party to which treaty from which date (loaded from rules/data)."""

    parties: Mapping[str, Mapping[str, dt.date]]  # country -> treaty -> date it became party
    non_parties: frozenset[str] = frozenset()  # known to be party to none of them

    def party_to_any(self, country: str, on: dt.date) -> bool | None:
        """Whether ``country`` was party to any of the treaties on ``on``; None when not known."""
        if any(since <= on for since in self.parties.get(country, {}).values()):
            return True
        return False if country in self.non_parties or country in self.parties else None


@dataclass(frozen=True)
class Context:
    """Data tables that derived facts need."""

    treaties: TreatyTable
    # the statuses of a family member in the U.S. that count (rules/data/family-in-us.yaml);
    # None: the rule files do not say, and a family member's status then settles nothing
    qualifying_statuses: frozenset[str] | None = None


@dataclass(frozen=True)
class Fact:
    """One fact: its name in rule files, type, the case fields it comes from, and how."""

    name: str
    type: FactType
    inputs: tuple[str, ...]
    description: str
    derive: Callable[[Case, Context, dict[str, Any]], Any]
    values: tuple[str, ...] = ()  # for enums, and the members of a set that is not of countries
    lower: int | None = None  # for ints: the smallest possible value


def _field(name: str) -> Callable[[Case, Context, dict[str, Any]], Any]:
    def get(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
        value = getattr(case.entry, name[6:]) if name.startswith("entry.") else getattr(case, name)
        return UNKNOWN if value is None else value

    return get


def _defaulted(
    name: str, default: Callable[[Case], Any], shown: Any = None
) -> Callable[[Case, Context, dict[str, Any]], Any]:
    """A field with a documented default: applied (and recorded in ``assumed``) when omitted."""

    def get(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
        if not case.given(name):
            value = default(case)
            if value is UNKNOWN:
                return UNKNOWN
            assumed[name] = shown if shown is not None else _jsonable(value)
            return value
        value = getattr(case.entry, name[6:]) if name.startswith("entry.") else getattr(case, name)
        return UNKNOWN if value is None else value

    return get


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(value)
    return value


def _nationalities(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
    return UNKNOWN if case.nationalities is None else frozenset(case.nationalities)


def _habitual_residence(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
    if case.habitual_residence is not None:
        return case.habitual_residence
    if case.given("habitual_residence") or not case.nationalities:
        return UNKNOWN
    # Contract: defaults to a country of nationality (the first listed).
    assumed["habitual_residence"] = case.nationalities[0]
    return case.nationalities[0]


def _age_at_entry(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
    if case.birth_date is not None:
        return age_on(case.birth_date, case.entry.date)
    return UNKNOWN if case.age is None else case.age


def _days_to_claim(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
    claim = _defaulted("claim_date", lambda c: c.entry.date)(case, ctx, assumed)
    return UNKNOWN if claim is UNKNOWN else (claim - case.entry.date).days


def possible_third_countries(case: Case) -> list[frozenset[str]] | None:
    """Every set of third countries the case allows (several while habitual_residence is unknown);
    None when transit or nationalities are unknown."""
    if case.transit is None:
        return None
    if case.transit == []:
        return [frozenset()]
    if case.nationalities is None:
        return None
    candidates = frozenset(stop.country for stop in case.transit) - set(case.nationalities)
    if case.habitual_residence is not None:
        return [candidates - {case.habitual_residence}]
    if case.nationalities and not case.given("habitual_residence"):
        return [candidates]  # documented default: the habitual residence is a country of nationality
    # unknown: it may be any one of the candidates, or elsewhere
    return [candidates, *(candidates - {home} for home in candidates)]


def treaty_gaps(case: Case, ctx: Context) -> list[str]:
    """Transit countries that may be third countries and whose treaty status the table lacks."""
    options = possible_third_countries(case) or []
    candidates = sorted(frozenset().union(*options)) if options else []
    return [c for c in candidates if ctx.treaties.party_to_any(c, case.entry.date) is None]


def _settled(values: set[bool]) -> Any:
    return values.pop() if len(values) == 1 else UNKNOWN


def _through_third_country(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
    options = possible_third_countries(case)
    return UNKNOWN if options is None else _settled({bool(third) for third in options})


def _denied_final(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
    if case.transit is None:
        return UNKNOWN
    return any(stop.protection == "denied_final" for stop in case.transit)


def _only_non_parties(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
    options = possible_third_countries(case)
    return UNKNOWN if options is None else non_parties_of(options, ctx, case.entry.date)


def non_parties_of(options: list[frozenset[str]], ctx: Context, on: dt.date) -> Any:
    results: set[Any] = set()
    for third in options:
        party = [ctx.treaties.party_to_any(c, on) for c in sorted(third)]
        results.add(False if not third or True in party else UNKNOWN if None in party else True)
    return UNKNOWN if UNKNOWN in results else _settled(results)


def _qualifying_family(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
    members = _defaulted("family_in_us", lambda c: [], shown=[])(case, ctx, assumed)
    return UNKNOWN if members is UNKNOWN else _qualifies(members, ctx)


def _qualifies(members: list[Any], ctx: Context) -> Any:
    """Whether a family member has a status that counts (``Context.qualifying_statuses``)."""
    if not members:
        return False
    if ctx.qualifying_statuses is None:
        return UNKNOWN
    return any(m.status in ctx.qualifying_statuses for m in members)


def _transit_countries(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
    return UNKNOWN if case.transit is None else frozenset(stop.country for stop in case.transit)


def _family_members(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
    members = _defaulted("family_in_us", lambda c: [], shown=[])(case, ctx, assumed)
    return UNKNOWN if members is UNKNOWN else frozenset(f"{m.relation}:{m.status}" for m in members)


def _family_relations(case: Case, ctx: Context, assumed: dict[str, Any]) -> Any:
    members = _defaulted("family_in_us", lambda c: [], shown=[])(case, ctx, assumed)
    return UNKNOWN if members is UNKNOWN else frozenset(m.relation for m in members)


BORDERS: tuple[str, ...] = get_args(Border)
PLACES: tuple[str, ...] = get_args(Place)
DOCUMENTS: tuple[str, ...] = get_args(Documents)
RELATIONS: tuple[str, ...] = get_args(Relation)
FAMILY_STATUSES: tuple[str, ...] = get_args(FamilyStatus)
# the members of ``family_in_us.members``: ``relation:status``, as the CLI's --family-in-us and
# the family_in_us column of a batch spell a family member
FAMILY_MEMBERS: tuple[str, ...] = tuple(f"{r}:{s}" for r in RELATIONS for s in FAMILY_STATUSES)
# Yes/no facts that default to false when omitted (the case format), in catalogue order
# after ``fear_established_in``: name -> meaning.
FLAGS: Final[dict[str, str]] = {
    "entry.appointment": "presented at a port of entry at a time scheduled in advance through CBP One",
    "cbp_one_unavailable": "it was not possible to access or use CBP One",
    "medical_emergency": "at entry, the person or an accompanying family member faced an acute medical emergency",
    "imminent_threat": "at entry, the person or an accompanying family member faced an imminent and extreme threat to life or safety",
    "title42_exception": "CBP granted an individual exception from Title 42",
    "criminal_record": "the person has a criminal record",
}

CATALOGUE: Final[dict[str, Fact]] = {
    f.name: f
    for f in (
        Fact(
            "nationalities",
            "countries",
            ("nationalities",),
            "every nationality held; empty when stateless",
            _nationalities,
        ),
        Fact(
            "habitual_residence",
            "country",
            ("habitual_residence",),
            "country of last habitual residence",
            _habitual_residence,
        ),
        Fact(
            "age_at_entry",
            "int",
            ("age",),
            "age in whole years on the entry date (from birth_date, else age)",
            _age_at_entry,
            lower=0,
        ),
        Fact(
            "unaccompanied",
            "bool",
            ("unaccompanied",),
            "no parent or legal guardian in the U.S. to provide care and custody",
            _field("unaccompanied"),
        ),
        Fact(
            "family_unit",
            "bool",
            ("family_unit",),
            "arrived as a parent or legal guardian with a child, or as that child",
            _field("family_unit"),
        ),
        Fact(
            "documents",
            "enum",
            ("documents",),
            "what the person held on arrival",
            _defaulted("documents", lambda c: "none"),
            values=DOCUMENTS,
        ),
        Fact(
            "entry.date",
            "date",
            ("entry.date",),
            "arrival at a port of entry, or entry or attempted entry between ports",
            _field("entry.date"),
        ),
        Fact(
            "entry.border",
            "enum",
            ("entry.border",),
            "how the person reached the U.S.",
            _field("entry.border"),
            values=BORDERS,
        ),
        Fact(
            "entry.place",
            "enum",
            ("entry.place",),
            "at a port of entry or between ports",
            _field("entry.place"),
            values=PLACES,
        ),
        Fact("entry.state", "state", ("entry.state",), "U.S. state of entry", _field("entry.state")),
        Fact(
            "decision_date",
            "date",
            ("decision_date",),
            "when the determination is made",
            _defaulted("decision_date", lambda c: c.entry.date),
        ),
        Fact(
            "days_from_entry_to_claim",
            "int",
            ("claim_date",),
            "days from entry.date to claim_date",
            _days_to_claim,
            lower=0,
        ),
        Fact(
            "trafficking_victim",
            "bool",
            ("trafficking_victim",),
            "victim of a severe form of trafficking in persons",
            _defaulted("trafficking_victim", lambda c: False),
        ),
        Fact(
            "public_interest",
            "bool",
            ("public_interest",),
            "DHS decided the person may pursue protection in the U.S. in the public interest",
            _defaulted("public_interest", lambda c: False),
        ),
        Fact(
            "fear_established_in",
            "countries",
            ("fear_established_in",),
            "countries where persecution or torture was found more likely than not",
            _defaulted("fear_established_in", lambda c: frozenset(), shown=[]),
        ),
        *(
            Fact(name, "bool", (name,), meaning, _defaulted(name, lambda c: False))
            for name, meaning in FLAGS.items()
        ),
        Fact(
            "transit.through_third_country",
            "bool",
            ("transit", "nationalities", "habitual_residence"),
            "some transit country is neither a nationality nor the habitual residence",
            _through_third_country,
        ),
        Fact(
            "transit.denied_final",
            "bool",
            ("transit",),
            "some transit country finally denied a protection claim",
            _denied_final,
        ),
        Fact(
            "transit.only_non_party_third_countries",
            "bool",
            ("transit", "nationalities", "habitual_residence"),
            "every third country transited was, on the entry date, party to none of the 1951 Convention, the 1967 Protocol and the CAT",
            _only_non_parties,
        ),
        Fact(
            "family_in_us.qualifying",
            "bool",
            ("family_in_us",),
            "a family member in the U.S. is a citizen, LPR, asylee, refugee, lawful nonimmigrant or adult asylum applicant",
            _qualifying_family,
        ),
        Fact(
            "transit.countries",
            "countries",
            ("transit",),
            "every country passed through on the way (nationalities and the habitual residence included); empty when none",
            _transit_countries,
        ),
        # Sets of words, not of countries: typed "countries" (a set-valued fact: the operators, the
        # partition and the fast path treat every set alike), their members listed in ``values``.
        Fact(
            "family_in_us.members",
            "countries",
            ("family_in_us",),
            "every family member in the U.S. as `relation:status` (e.g. `spouse:citizen`); empty when none",
            _family_members,
            values=FAMILY_MEMBERS,
        ),
        Fact(
            "family_in_us.relations",
            "countries",
            ("family_in_us",),
            "the relation of every family member in the U.S., whatever their status; empty when none",
            _family_relations,
            values=RELATIONS,
        ),
    )
}


def derive_facts(case: Case, ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """The facts of a case (in catalogue order), and the defaults that were assumed to get them.

    One straight pass over the case: this runs once per case in a batch, so it reads the model's
    fields directly. Each fact's ``derive`` in the catalogue documents the same derivation and is
    checked against this pass by the tests.
    """
    fields = case.__dict__
    given = case.model_fields_set
    entry = case.entry
    entry_date = entry.date
    assumed: dict[str, Any] = {}
    nationalities = fields["nationalities"]
    residence = fields["habitual_residence"]
    if residence is None:
        if "habitual_residence" in given or not nationalities:
            residence = UNKNOWN
        else:
            residence = assumed["habitual_residence"] = nationalities[0]
    birth = fields["birth_date"]
    if birth is not None:
        age: Any = age_on(birth, entry_date)
    else:
        age = fields["age"]
    documents = fields["documents"]
    if "documents" not in given:
        documents = assumed["documents"] = "none"
    decision = fields["decision_date"]
    if "decision_date" not in given:
        decision = entry_date
        assumed["decision_date"] = entry_date.isoformat()
    claim = fields["claim_date"]
    if "claim_date" not in given:
        claim = entry_date
        assumed["claim_date"] = entry_date.isoformat()
    trafficking = fields["trafficking_victim"]
    if "trafficking_victim" not in given:
        trafficking = assumed["trafficking_victim"] = False
    interest = fields["public_interest"]
    if "public_interest" not in given:
        interest = assumed["public_interest"] = False
    fear = fields["fear_established_in"]
    if "fear_established_in" not in given:
        fear = ()
        assumed["fear_established_in"] = []
    family = fields["family_in_us"]
    if "family_in_us" not in given:
        family = ()
        assumed["family_in_us"] = []
    flags: dict[str, Any] = {}
    entry_given = entry.model_fields_set
    for name in FLAGS:
        if name.startswith("entry."):
            short = name[6:]
            value = entry.__dict__[short]
            if short not in entry_given:
                value = assumed[name] = False
        else:
            value = fields[name]
            if name not in given:
                value = assumed[name] = False
        flags[name] = _known(value)
    transit = fields["transit"]
    through: Any
    denied: Any
    only_non_parties: Any
    if transit is None:
        through = denied = only_non_parties = UNKNOWN
    else:
        options = possible_third_countries(case)
        denied = any(stop.protection == "denied_final" for stop in transit)
        if options is None:
            through = only_non_parties = UNKNOWN
        else:
            through = _settled({bool(third) for third in options})
            only_non_parties = non_parties_of(options, ctx, entry_date)
    facts: dict[str, Any] = {
        "nationalities": UNKNOWN if nationalities is None else frozenset(nationalities),
        "habitual_residence": residence,
        "age_at_entry": UNKNOWN if age is None else age,
        "unaccompanied": _known(fields["unaccompanied"]),
        "family_unit": _known(fields["family_unit"]),
        "documents": _known(documents),
        "entry.date": entry_date,
        "entry.border": _known(entry.border),
        "entry.place": _known(entry.place),
        "entry.state": _known(entry.state),
        "decision_date": _known(decision),
        "days_from_entry_to_claim": UNKNOWN if claim is None else (claim - entry_date).days,
        "trafficking_victim": _known(trafficking),
        "public_interest": _known(interest),
        "fear_established_in": UNKNOWN if fear is None else frozenset(fear),
        **flags,
        "transit.through_third_country": through,
        "transit.denied_final": denied,
        "transit.only_non_party_third_countries": only_non_parties,
        "family_in_us.qualifying": UNKNOWN if family is None else _qualifies(family, ctx),
        "transit.countries": UNKNOWN if transit is None else frozenset([stop.country for stop in transit]),
        "family_in_us.members": UNKNOWN
        if family is None
        else frozenset([f"{m.relation}:{m.status}" for m in family]),
        "family_in_us.relations": UNKNOWN if family is None else frozenset([m.relation for m in family]),
    }
    return facts, dict(sorted(assumed.items()))


def _spelled(fact: Fact) -> str:
    if fact.values == FAMILY_MEMBERS:
        return f"relation:status (relation one of {', '.join(RELATIONS)}; status one of {', '.join(FAMILY_STATUSES)})"
    return "one of " + ", ".join(fact.values)


def _known(value: Any) -> Any:
    return UNKNOWN if value is None else value


def derive_facts_by_catalogue(case: Case, ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same facts as ``derive_facts``, one catalogue entry at a time (the reference it is tested against)."""
    assumed: dict[str, Any] = {}
    facts = {name: fact.derive(case, ctx, assumed) for name, fact in CATALOGUE.items()}
    if isinstance(facts["fear_established_in"], list):
        facts["fear_established_in"] = frozenset(facts["fear_established_in"])
    return facts, dict(sorted(assumed.items()))


def check_value(fact: Fact, value: object) -> FactValue:
    """Validate a constant that a rule compares ``fact`` against; raise ValueError if it cannot be."""
    kind = fact.type
    if kind in ("country", "countries") and fact.values:  # a set of words (family_in_us.members)
        if value not in fact.values:
            example = f", e.g. {fact.values[0]}" if ":" in fact.values[0] else ""
            hint = did_you_mean(value, fact.values) if isinstance(value, str) else ""
            if fact.values == FAMILY_MEMBERS and value in RELATIONS:
                hint = f" (a {value} whatever their status: test 'family_in_us.relations')"
            raise ValueError(f"'{fact.name}' has members {_spelled(fact)}{example}, not {value!r}{hint}")
        return str(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"'{fact.name}' is true or false, not {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"'{fact.name}' is a whole number, not {value!r}")
        return value
    if kind == "date":
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise ValueError(f"'{fact.name}' is a date YYYY-MM-DD, not {value!r}")
        return value
    if kind == "enum":
        if value not in fact.values:
            raise ValueError(f"'{fact.name}' is one of {', '.join(fact.values)}, not {value!r}")
        return str(value)
    if kind == "state":
        return check_state(value)
    return check_country(value)
