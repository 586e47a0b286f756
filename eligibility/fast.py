"""The fast path: evaluate each class of cases once, then fill in each case's own values.

The rules compare every fact with finitely many constants, so cases fall into finitely many
classes that every rule treats alike (``eligibility.analysis.partition``). Two cases of one class get the
same determination except where a value is *shown*: the id, the dates, and the fact values quoted
in reasons and findings. So the first case of a class is evaluated in full (settled, explained,
rendered to JSON) with a placeholder in place of every shown value; later cases of the class only
compute their class and fill in the placeholders.

Two caches, both keyed by values that determine the whole determination:

* the *class key* (level 2): when every fact the rules test is known, the truth of every rule
  (from one compiled function of all the conditions); otherwise each fact's class under every
  test. Plus what the explanation depends on besides the facts (the defaults assumed, the unknown
  fields, the transit countries missing from the treaty table). A miss costs one full evaluation.
* the *case key* (level 1): read straight from the case's fields without deriving facts: the
  categorical fields exactly, dates and ages as classes. A miss costs deriving the facts and the
  class key, and fills in the categorical values; a hit leaves only the id, dates, age and days
  to fill in.

Misses are evaluated by the pure evaluator; both caches are bounded (``CASE_KEYS``, ``CLASSES``).
A compact class miss whose facts are all known is not settled and built but assembled
(``Evaluator._assemble``) from parts memoized by what each reads: each instrument's explanation,
the screening's decision, the deciding rules, the explanation lines (``tests/test_fast_newclass.py``
checks it gives the lines ``build`` gives).
``tests/test_fast.py`` checks, on generated and golden cases, that the JSON holds the same values
as what ``evaluate(..., engine="durable")`` gives (the fast lines are ASCII, other characters
escaped), apart from the ``engine`` field (``fast``) and the counterfactuals, which the fast path
does not compute.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import operator
import re
from bisect import bisect_right
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any, Literal, TypeVar

from eligibility.analysis.partition import program_cuts
from eligibility.analysis.settle import (
    DESTINATION_FACTS,
    PARTS,
    Region,
    Settlement,
    may_stay,
    open_destinations,
    part_of,
    settle,
)
from eligibility.case import Case, age_on
from eligibility.engine.backends import engine_for
from eligibility.engine.decide import (
    OPEN,
    Decision,
    Headline,
    Status,
    decide,
    destination_countries,
    destination_rules,
    every_possible_status,
    fired_truth,
    flip_shape,
    possible_destinations,
    possible_statuses,
    screened,
    status_flips,
    status_reads,
)
from eligibility.engine.program import BoundRule, Program, compile_policy
from eligibility.explain.build import (
    build,
    explanation_lines,
    headline,
    instrument_result,
    region_status,
    resting_on_defaults,
    rule_caveats,
    speaking,
)
from eligibility.explain.determination import Dates, Determination, InstrumentResult
from eligibility.memo import make_room
from eligibility.ruleset.conditions import PartialSet, compile_truths, show
from eligibility.ruleset.facts import (
    CATALOGUE,
    UNKNOWN,
    derive_facts,
    non_parties_of,
    possible_third_countries,
)
from eligibility.ruleset.facts import treaty_gaps as _treaty_gaps
from eligibility.ruleset.load import EVIDENCE_ORDER, RuleSet

Detail = Literal["full", "compact"]

# Placeholders: a NUL-delimited name inside a JSON string ("\u0000name\u0000" once dumped).
_TOKEN = re.compile(r'"\\u0000(@\w+)\\u0000"|\\u0000([\w.:]+)\\u0000')
_VARIABLE = ("@id", "entry", "decision", "claim", "age", "days")  # filled per case
_VARIABLE_FACTS = {
    "entry.date": "entry",
    "decision_date": "decision",
    "age_at_entry": "age",
    "days_from_entry_to_claim": "days",
}
# Cache sizes: memory stays bounded whatever the input (the oldest half goes when one is full).
CASE_KEYS = 20_000  # about 1.4 KB each (a prepared case key shares its template's text)
CLASSES = 4_000  # compact templates, about 10 KB each (full templates: a tenth as many, 60 KB each)


_H = TypeVar("_H", bound=Hashable)


def _tok(name: str) -> str:
    return f"\x00{name}\x00"


@dataclass(frozen=True, slots=True)
class _Template:
    """One class's determination: the headline, and its JSON split around the placeholders."""

    headline: Headline
    missing_facts: tuple[str, ...]
    base: tuple[bytes, ...]  # ASCII JSON text, with b"" where a placeholder goes
    holes: tuple[tuple[int, str], ...]  # (index in base, placeholder name)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A template with one case key's categorical values filled in: only the variable slots remain."""

    template: _Template
    parts: tuple[bytes, ...]  # the template's own pieces (shared, not copied) and the filled values
    slots: tuple[tuple[int, int], ...]  # (index in parts, index in the case's variable values)


@dataclass(frozen=True, slots=True)
class Result:
    """The fast answer for one case: the headline at once, the explained determination on demand."""

    outcome: str
    transfer_to: tuple[str, ...]
    asylum: str
    wait_in_mexico: bool | str
    expel_to: tuple[str, ...]
    missing_facts: tuple[str, ...]
    policy: str
    _prepared: _Prepared
    _case: Case

    def to_bytes(self, row: int | None = None) -> bytes:
        """The determination as one line of JSON, explanation included: ASCII bytes (characters
        beyond ASCII are written as JSON escapes, so the line decodes to the same strings).

        ``row`` puts ``"row": N`` first (batch lines carry their input row number)."""
        parts = list(self._prepared.parts)
        values = _variables(self._case)
        for index, slot in self._prepared.slots:
            parts[index] = values[slot]
        if row is not None:
            parts[0] = b'{"row":%d,%s' % (row, parts[0][1:])
        return b"".join(parts)

    def to_json(self) -> str:
        """The determination as one line of JSON (the determination format, `eligibility schema determination`), explanation included."""
        return self.to_bytes().decode("ascii")

    def determination(self) -> Determination:
        """The full Determination object (parsed from ``to_json``)."""
        return Determination.model_validate_json(self.to_json())

    @property
    def explanation(self) -> list[str]:
        """The explanation lines, outcome first."""
        explanation: list[str] = json.loads(self.to_json())["explanation"]
        return explanation


def _variables(case: Case) -> tuple[bytes, ...]:
    """The values every case fills in itself, in ``_VARIABLE`` order (JSON-escaped, ASCII)."""
    fields = case.__dict__
    entry_date = case.entry.date
    given = case.model_fields_set
    ident = fields["id"]
    decision = fields["decision_date"] if "decision_date" in given else entry_date
    claim = fields["claim_date"] if "claim_date" in given else entry_date
    birth = fields["birth_date"]
    age = fields["age"] if birth is None else age_on(birth, entry_date)
    return (
        b"null" if ident is None else encode_basestring_ascii(ident).encode(),
        entry_date.isoformat().encode(),
        b"" if decision is None else decision.isoformat().encode(),
        b"" if claim is None else claim.isoformat().encode(),
        b"" if age is None else str(age).encode(),
        b"" if claim is None else str((claim - entry_date).days).encode(),
    )


class Evaluator:
    """Evaluates many cases under one policy, each class of cases once.

    ``detail='compact'`` leaves out the per-rule ``findings`` (the contract's fields and every
    reason and citation stay), which makes a batch line about a tenth of the size.
    """

    def __init__(
        self,
        policy: str | None = None,
        *,
        rules: RuleSet | None = None,
        detail: Detail = "full",
        lang: str = "en",
    ) -> None:
        from eligibility.ruleset.load import default_rules

        self.rules = rules or default_rules()
        self.program: Program = compile_policy(self.rules, policy)
        self.policy = self.program.policy.id
        self.detail = detail
        self.lang = lang  # the language of the texts of every line
        self._bounds = cut_points(self.program)
        self._named = _named(self.program)
        self._used = self.program.facts_used
        self._truths = compile_truths([b.when for b in self.program.rules])
        # Per instrument: the indices of its in-force and window rules, and of its other rules by
        # role. An instrument not in force is explained by its in-force and window rules alone;
        # its other rules count only through the status it would have in force, and only as far as
        # the screening tells those statuses apart (see ``_Mask``). They are shown only among the
        # per-rule findings, which compact output leaves out.
        index = {b.key: n for n, b in enumerate(self.program.rules)}

        def of(iid: str, *roles: str) -> tuple[int, ...]:
            return tuple(index[b.key] for b in self.program.governed[iid] if b.rule.role in roles)

        self._force_masks = [
            _Mask(
                i.id,
                of(i.id, "in_force"),
                of(i.id, "window"),
                of(i.id, "scope", "alternative", "exclusion", "exception", "destination"),
                of(i.id, "scope"),
                of(i.id, "alternative"),
                of(i.id, "exclusion", "exception"),
                tuple((index[b.key], b) for b in destination_rules(self.program, i.id))
                if i.kind == "expulsion"
                else None,
            )
            for i in self.program.instruments
            if i.kind != "statutory_limit"
        ]
        self._limits: dict[str, Status] = {
            i.id: "not_applicable" for i in self.program.instruments if i.kind == "statutory_limit"
        }
        self._expulsions = [m.destinations for m in self._force_masks if m.destinations is not None]
        self._expulsion_at = [n for n, m in enumerate(self._force_masks) if m.destinations is not None]
        self._keys = tuple(b.key for b in self.program.rules)
        self._elsewhere: dict[Hashable, tuple[tuple[tuple[str, ...], ...], ...]] = {}  # destination facts ->
        self._interned: dict[Hashable, Any] = {}  # one copy of values many case keys share
        self._masks: dict[Hashable, tuple[Any, ...]] = {}  # (truths, countries of expulsion) -> key
        self._moves: dict[Hashable, Headline] = {}  # (statuses, countries of expulsion) -> headline
        self._by_class: dict[Hashable, _Template] = {}
        self._by_case: dict[Hashable, _Prepared] = {}
        self._transit: dict[Hashable, tuple[Any, ...]] = {}
        self._shown: dict[tuple[str, Any], bytes] = {}  # ('f:' + fact, value) -> its JSON text in a reason
        self._headlines: dict[Hashable, Headline] = {}  # case key -> headline (headline-only path)
        self._class_headlines: dict[Hashable, Headline] = {}
        self.evaluations = 0  # full evaluations (class-key misses)
        self.sharing = False  # keep the classes evaluated in full, for ``discoveries``
        self._found: list[tuple[Hashable, _Template]] = []
        # an explained instrument (one object for alike ones) -> its JSON text, split
        self._instrument_texts: dict[int, tuple[InstrumentResult, list[bytes | tuple[str]]]] = {}
        # The compact assembler of a new class whose facts are all known (``_assemble``): for each
        # instrument, in program order, a function picking the truths its possible statuses read
        # and one picking those its explanation reads; and the memos of the steps.
        # False: every new class is built by ``build`` (the tests compare the two).
        self.assembling = _ASSEMBLES
        self.assembled = 0  # new classes assembled from memoized parts, without ``build``
        program = self.program
        self._iids = tuple(i.id for i in program.instruments)
        self._status_pick = tuple(
            _picker([index[k] for k in status_reads(program, i.id)]) for i in program.instruments
        )
        self._explain_pick = tuple(
            _picker(
                [
                    index[k]
                    for k in (
                        status_reads(program, i.id)
                        if i.kind == "statutory_limit"
                        else tuple(b.key for b in program.governed[i.id])
                    )
                ]
            )
            for i in program.instruments
        )
        self._all_shown = {name: _tok(_VARIABLE_FACTS.get(name) or f"f:{name}") for name in CATALOGUE}
        self._possible: dict[Hashable, frozenset[Status]] = {}  # (instrument, truths read) -> statuses
        self._decisions: dict[Hashable, _Decided | None] = {}  # (statuses, destinations) -> decision
        self._explained: dict[Hashable, tuple[InstrumentResult, _Seg]] = {}
        # (keys of the deciding rules, late) -> the text of evidence and caveats, and of decided_by
        self._deciding: dict[Hashable, tuple[_Seg, _Seg]] = {}
        self._explanations: dict[Hashable, _Seg] = {}  # the text of explanation, dates
        self._late: str | None = None  # the caveat of a decision after the review date, as built
        self._flip_pick = tuple(
            _picker([index[k] for k in flip_shape(program, i.id)[0]]) for i in program.instruments
        )
        self._contributions: dict[Hashable, tuple[str, ...]] = {}  # see ``_deciding_keys``
        self._flipped: dict[Hashable, Any] = {}  # (instrument, truths read) -> ``decide.status_flips``
        self._destination_at = tuple(
            (b.key, index[b.key]) for b in program.rules if b.rule.role == "destination"
        )
        self._mask_pick = tuple(
            _picker(sorted({*m.scope, *m.alternative, *m.stops, *m.in_force, *m.windows}))
            for m in self._force_masks
        )
        self._mask_statuses: dict[Hashable, tuple[Status, int, bool]] = {}  # see ``_masked``
        self._moved: dict[Hashable, tuple[bool | None, ...]] = {}  # see ``_masked``
        # (statuses, countries of expulsion) -> ``decide.screened``'s headline (see ``_deciding_keys``)
        self._screened: dict[Hashable, Headline] = {}
        self._serials = itertools.count()
        self._destination_pick = _picker(
            [index[b.key] for b in program.rules if b.rule.role == "destination"]
        )
        self._limit_at = frozenset(
            n for n, i in enumerate(program.instruments) if i.kind == "statutory_limit"
        )
        self._expulsion_in = tuple(n for n, i in enumerate(program.instruments) if i.kind == "expulsion")
        self._destination_rules = tuple(b for b in program.rules if b.rule.role == "destination")
        self._openings: dict[Headline, _Seg] = {}
        self._assumed: dict[Hashable, _Seg] = {}
        self._closing = (  # after ``dates`` to ``decided_by``, and after it to the end
            _segment(
                [*_field("engine", "fast"), b",", *_field("rules_digest", program.ruleset.digest), b","]
            ),
            _segment(
                [
                    b",",
                    *_field("lang", self.lang),
                    b",",
                    *_field("date_ranges", {}),
                    b",",
                    *_field("date_cuts", []),
                    b"}",
                ]
            ),
        )

    # -- the hot path -----------------------------------------------------------------------------

    def evaluate(self, case: Case) -> Result:
        """The determination of ``case`` (a validated Case)."""
        key = self._case_key(case)
        prepared = self._by_case.get(key)
        if prepared is None:
            _bound(self._by_case, CASE_KEYS)
            prepared = self._by_case[key] = self._prepare(case)
        t = prepared.template
        return Result(*t.headline, t.missing_facts, self.policy, prepared, case)

    def to_json(self, case: Case) -> str:
        """Shorthand for ``evaluate(case).to_json()``."""
        return self.evaluate(case).to_json()

    def headline(self, case: Case) -> Headline:
        """Only the headline (outcome, transfer_to, asylum, wait_in_mexico), for counting
        populations: a class seen for the first time is settled but not explained."""
        key = self._case_key(case)
        prepared = self._by_case.get(key)
        if prepared is not None:
            return prepared.template.headline
        found = self._headlines.get(key)
        if found is None:
            facts, assumed = derive_facts(case, self.rules.context)
            class_key, truths = self._class_key(case, facts, assumed)
            template = self._by_class.get(class_key)
            if template is not None:
                found = template.headline
            else:
                found = self._class_headlines.get(class_key)
                if found is None:
                    self.evaluations += 1
                    settled = settle(self.program, facts, engine_for(self.program, "pure"), truths=truths)
                    _bound(self._class_headlines, CLASSES)
                    outcome, transfer_to, asylum, wait, expel_to = headline(settled)
                    found = self._class_headlines[class_key] = Headline(
                        outcome, transfer_to, asylum, wait, expel_to
                    )
            _bound(self._headlines, CASE_KEYS)
            self._headlines[key] = found
        return found

    def _case_key(self, case: Case) -> Hashable:
        fields = case.__dict__
        given = case.model_fields_set
        entry = case.entry
        entry_date = entry.date
        bounds = self._bounds
        nationalities = fields["nationalities"]
        nats = None if nationalities is None else tuple(nationalities)
        birth = fields["birth_date"]
        age = fields["age"] if birth is None else age_on(birth, entry_date)
        decision = fields["decision_date"] if "decision_date" in given else entry_date
        claim = fields["claim_date"] if "claim_date" in given else entry_date
        derived = None if fields["transit"] is None else self._transit_of(case)
        family = fields["family_in_us"]
        fear = fields["fear_established_in"]
        return (
            entry.appointment,
            fields["cbp_one_unavailable"],
            fields["medical_emergency"],
            fields["imminent_threat"],
            fields["title42_exception"],
            fields["criminal_record"],
            nats,
            fields["habitual_residence"],
            None if age is None else bisect_right(bounds["age_at_entry"], age),
            fields["unaccompanied"],
            fields["family_unit"],
            fields["documents"],
            bisect_right(bounds["*date"], entry_date),
            entry.border,
            entry.place,
            entry.state,
            None if decision is None else bisect_right(bounds["decision_date"], decision),
            None
            if claim is None
            else bisect_right(bounds["days_from_entry_to_claim"], (claim - entry_date).days),
            fields["trafficking_victim"],
            fields["public_interest"],
            None if fear is None else tuple(fear),
            derived,
            None if family is None else tuple([(m.relation, m.status) for m in family]),
            self._fields_given(given, entry.model_fields_set),
        )

    def _fields_given(self, given: set[str], entry: set[str]) -> Hashable:
        """Which fields the case gives (a value shared by every case key that gives the same)."""
        key = (frozenset(given), frozenset(entry))
        return self._intern(key)

    def _intern(self, value: _H) -> _H:
        """One shared copy of ``value`` (bounded like the caches: an entry dropped only loses sharing)."""
        found: _H | None = self._interned.get(value)
        if found is None:
            _bound(self._interned, CASE_KEYS)
            found = self._interned[value] = value
        return found

    def _transit_of(self, case: Case) -> tuple[Any, ...]:
        """What the transit facts and the treaty gaps read of a case with a transit, as
        ``_transit_facts`` gives it (memoized by the fields they read)."""
        nationalities = case.nationalities
        memo = (
            tuple([(s.country, s.protection) for s in case.transit or ()]),
            None if nationalities is None else tuple(nationalities),
            case.habitual_residence,
            "habitual_residence" in case.model_fields_set,
            case.entry.date,
        )
        derived = self._transit.get(memo)
        if derived is None:
            derived = self._transit_facts(case, memo)
        return derived

    def _transit_facts(self, case: Case, memo: Hashable) -> tuple[Any, ...]:
        options = possible_third_countries(case)
        denied = any(stop.protection == "denied_final" for stop in case.transit or ())
        # the countries themselves, as the rules tell them apart (when a rule tests them)
        countries = (
            self._classify("transit.countries", frozenset(stop.country for stop in case.transit or ()))
            if "transit.countries" in self.program.facts_used
            else None
        )
        if options is None:
            derived: tuple[Any, ...] = (None, denied, None, (), countries)
        else:
            through = {bool(third) for third in options}
            derived = (
                through.pop() if len(through) == 1 else None,
                denied,
                non_parties_of(options, self.rules.context, case.entry.date),
                tuple(_treaty_gaps(case, self.rules.context)),
                countries,
            )
        _bound(self._transit, CASE_KEYS)
        self._transit[memo] = derived
        return derived

    # -- misses -----------------------------------------------------------------------------------

    def _prepare(self, case: Case) -> _Prepared:
        facts, assumed = derive_facts(case, self.rules.context)
        key, truths = self._class_key(case, facts, assumed)
        template = self._by_class.get(key)
        if template is None:
            self._room_for_class()
            template = self._by_class[key] = self._template(case, facts, assumed, truths)
            if self.sharing:
                self._found.append((key, template))
        shown = self._shown
        parts = list(template.base)
        slots: list[tuple[int, int]] = []
        for index, name in template.holes:
            if name.startswith("f:"):  # a fact's value quoted in a reason (never unknown there)
                value = facts[name[2:]]
                text = shown.get((name, value))
                if text is None:
                    _bound(shown, CASE_KEYS)
                    text = shown[(name, value)] = encode_basestring_ascii(show(value))[1:-1].encode()
                parts[index] = text
            elif name == "@residence":
                parts[index] = encode_basestring_ascii(assumed["habitual_residence"]).encode()
            else:
                slots.append((index, _VARIABLE.index(name)))
        slots_of = tuple(slots)  # alike for most case keys of one template: one copy
        return _Prepared(template, tuple(parts), self._intern(slots_of))

    def _class_key(
        self, case: Case, facts: dict[str, Any], assumed: dict[str, Any]
    ) -> tuple[Hashable, tuple[bool, ...] | None]:
        """What the determination depends on, besides the values it shows.

        When every fact the rules test is known, that is the truth of every rule (the settlement
        is then one region, decided by those truths alone): a much coarser key than the classes
        of the facts, so far fewer full evaluations. With unknown facts the case is split on
        them, and the split depends on the classes of the known facts too.

        Also returns the truths when every fact is known (None otherwise).
        """
        truths: tuple[bool, ...] | None = None
        unknown = frozenset(name for name, value in facts.items() if value is UNKNOWN)
        key: list[Any]
        if unknown.isdisjoint(self._used):
            truths = self._truths(facts)
            reviewed, decision = self.program.ruleset.reviewed, facts["decision_date"]
            late = reviewed is not None and isinstance(decision, dt.date) and decision > reviewed
            key = ["known", unknown, late]  # a decision after the review date has a caveat
            # what each destination rule would give: whether a rule decides the answer depends on
            # where the person would go without it (a Mexican-Ecuadorian and a Mexican both go to
            # Mexico under Title 42's rule; without it, only the first has another country)
            elsewhere = self._elsewhere_of(facts)
            countries = tuple(
                _countries(d, given, truths) for d, given in zip(self._expulsions, elsewhere, strict=True)
            )
            if self.detail == "compact":
                found = self._masks.get((truths, countries, elsewhere))
                if found is None:
                    _bound(self._masks, CASE_KEYS)
                    found = self._masks[(truths, countries, elsewhere)] = self._masked(
                        truths, countries, facts
                    )
                key += [found, elsewhere]
            else:  # the countries of expulsion, which truths alone do not give; and which
                # defaults each finding rests on, which differ between cases of the same truths
                # (a rule false by a given fact rests on no default, false by a defaulted one does)
                rests = resting_on_defaults(self.program, facts, assumed) if assumed else {}
                key += [truths, countries, elsewhere, tuple(sorted((k, tuple(v)) for k, v in rests.items()))]
        else:
            key = [
                UNKNOWN if value is UNKNOWN else self._classify(name, value) for name, value in facts.items()
            ]
            if any(self._expulsions):
                key += [facts[name] for name in DESTINATION_FACTS]
        nones = tuple(
            name
            for name in (
                "nationalities",
                "habitual_residence",
                "age",
                "claim_date",
                "transit",
                "family_in_us",
            )
            if getattr(case, name) is None
        )
        gaps = () if case.transit is None else self._transit_of(case)[3]  # ``treaty_gaps``
        return (*key, tuple(assumed), nones, gaps), truths

    def _elsewhere_of(self, facts: dict[str, Any]) -> tuple[tuple[tuple[str, ...], ...], ...]:
        """For each expulsion, the countries each of its destination rules would give
        (memoized by the facts they read)."""
        read = tuple([facts[name] for name in DESTINATION_FACTS])
        try:
            found = self._elsewhere.get(read)
        except TypeError:  # a value that cannot be hashed: not kept
            return self._destinations(facts)
        if found is None:
            _bound(self._elsewhere, CASE_KEYS)
            found = self._elsewhere[read] = self._destinations(facts)
        return found

    def _destinations(self, facts: dict[str, Any]) -> tuple[tuple[tuple[str, ...], ...], ...]:
        return tuple(tuple(destination_countries(r, facts) for _, r in d) for d in self._expulsions)

    def _masked(
        self, truths: tuple[bool, ...], countries: tuple[tuple[str, ...], ...], facts: dict[str, Any]
    ) -> tuple[Any, ...]:
        """The truths, with the other rules of each instrument not in force replaced by whether
        putting it in force would change the headline (see ``_Mask``); and the countries of
        expulsion of each expulsion in force."""
        masked: list[Any] | None = None
        statuses: list[Status] = []
        expelled = iter(countries)  # of every expulsion, in order
        shown: list[tuple[str, ...]] = []  # of every expulsion in force
        # for each instrument not in force, and each expulsion in force that does not apply: the
        # status one flip of a rule would give it (None: no one flip can), by position
        moves: list[tuple[int, Status] | None] = []
        for k, m in enumerate(self._force_masks):
            memo: Hashable = (k, self._mask_pick[k](truths))
            found = self._mask_statuses.get(memo)
            if found is None:
                _bound(self._mask_statuses, CASE_KEYS)
                found = self._mask_statuses[memo] = _mask_status(m, truths)
            status, failed, window = found
            to = next(expelled) if m.destinations is not None else ()
            if not failed and window:
                statuses.append(status)
                if m.destinations is not None:
                    if status == "applies":
                        shown.append(to)
                    else:  # its destination rules count only if one flip makes it apply
                        masked = masked or list(truths)
                        for n, _ in m.destinations:
                            masked[n] = None
                        moves.append((len(statuses) - 1, "applies"))
                continue
            # one flip puts it in force: the failed in-force rule, or any window rule
            moves.append((len(statuses), status) if failed + (not window) == 1 else None)
            statuses.append("not_in_force")
            masked = masked or list(truths)
            for n in m.others:
                masked[n] = None
        if masked is None:
            return (*truths, *shown)
        memo = (tuple(statuses), countries, tuple(moves))  # what the moves read (``_headline_of``)
        moved = self._moved.get(memo)
        if moved is None:
            base = self._headline_of(tuple(statuses), countries, truths, facts)
            flipped: list[bool | None] = []
            for move in moves:
                if move is None:
                    flipped.append(None)
                    continue
                changed = list(statuses)
                changed[move[0]] = move[1]
                flipped.append(self._headline_of(tuple(changed), countries, truths, facts) != base)
            _bound(self._moved, CASE_KEYS)
            moved = self._moved[memo] = tuple(flipped)
        return (*masked, *shown, *moved)

    def _headline_of(
        self,
        statuses: tuple[Status, ...],
        countries: tuple[tuple[str, ...], ...],
        truths: tuple[bool, ...],
        facts: dict[str, Any],
    ) -> Headline:
        """The screening's headline for these statuses (memoized: the countries of the expulsions
        that apply are all it reads of the truths and the facts)."""
        key = (
            statuses,
            tuple(
                c if statuses[at] == "applies" else None
                for at, c in zip(self._expulsion_at, countries, strict=True)
            ),
        )
        found = self._moves.get(key)
        if found is None:
            program = self.program
            truth = self._destination_truth(truths)  # all ``decide`` reads of the truths
            named = {m.iid: s for m, s in zip(self._force_masks, statuses, strict=True)} | self._limits
            _bound(self._moves, CASE_KEYS)
            found = self._moves[key] = decide(program, named, truth, facts).headline
        return found

    def _room_for_class(self) -> None:
        """Make room in ``_by_class`` for one more template. The prepared case keys of the templates
        it drops go too: each holds its template, so ``_by_case`` (``CASE_KEYS``) would otherwise
        keep far more templates alive than ``CLASSES`` allows (a template per case key at worst)."""
        by_class = self._by_class
        limit = CLASSES if self.detail == "compact" else CLASSES // 10
        if len(by_class) < limit:
            return
        _bound(by_class, limit)
        kept = {id(t) for t in list(by_class.values())}
        for key, prepared in list(self._by_case.items()):
            if id(prepared.template) not in kept:
                self._by_case.pop(key, None)

    def _classify(self, name: str, value: Any) -> Hashable:
        kind = CATALOGUE[name].type
        if name == "entry.date":
            return bisect_right(self._bounds["*date"], value)
        if kind in ("date", "int"):
            return bisect_right(self._bounds.get(name, ()), value)
        named = self._named.get(name, frozenset())
        if kind in ("country", "state"):
            return value if value in named else "*other"
        if kind == "countries":
            return frozenset(v if v in named else "*other" for v in value)
        return value  # type: ignore[no-any-return]  # bool, enum: every value is its own class

    def _template(
        self, case: Case, facts: dict[str, Any], assumed: dict[str, Any], truths: tuple[bool, ...] | None
    ) -> _Template:
        self.evaluations += 1
        program = self.program
        reviewed, decision = program.ruleset.reviewed, facts["decision_date"]
        late = reviewed is not None and isinstance(decision, dt.date) and decision > reviewed
        if (
            self.assembling
            and self.detail == "compact"
            and truths is not None
            and facts["entry.date"] is not UNKNOWN
        ):
            assembled = self._assemble(case, facts, assumed, truths, late)
            if assembled is not None:
                self.assembled += 1
                return assembled
        settlement = (
            settle(program, facts, engine_for(program, "pure"))
            if truths is None or facts["entry.date"] is UNKNOWN
            else _settle_known(program, facts, truths)
        )
        shown = {
            name: value if value is UNKNOWN else _tok(_VARIABLE_FACTS.get(name) or f"f:{name}")
            for name, value in facts.items()
        }
        det = build(
            program,
            case,
            shown,
            dict(assumed),
            settlement,
            "fast",
            findings=self.detail == "full",
            after_review=late,
            shown_dates={name: _tok(name) for name in ("entry", "decision", "claim")},
            values=facts,
            lang=self.lang,
        )
        if late and self._late is None:
            self._late = det.caveats[-1]  # added last (``build``): alike for every class
        base, holes = self._text(det, assumed)
        return _Template(
            Headline(
                det.outcome, tuple(det.transfer_to), det.asylum, det.wait_in_mexico, tuple(det.expel_to)
            ),
            tuple(det.missing_facts),
            base,
            holes,
        )

    def _text(
        self, det: Determination, assumed: dict[str, Any]
    ) -> tuple[tuple[bytes, ...], tuple[tuple[int, str], ...]]:
        """The determination's JSON text split around its placeholders: the text of
        ``_plain_text``, each instrument's part taken from ``_pieces`` (explained instruments
        alike are one object, ``eligibility.explain.build``), so only the rest is dumped here."""
        data = det.model_dump(mode="json", exclude={"instruments"})
        data = {k: [_tok("@instruments")] if k == "instruments" else data[k] for k in _FIELDS}
        _placed(data, assumed, self.detail)
        items: list[bytes | tuple[str]] = []
        for item in _split(json.dumps(data, separators=(",", ":"))):
            if item == ("@instruments",):
                for n, inst in enumerate(det.instruments):
                    if n:
                        items.append(b",")
                    items += self._pieces(inst)
            else:
                items.append(item)
        return _joined(items)

    def _assemble(
        self,
        case: Case,
        facts: dict[str, Any],
        assumed: dict[str, Any],
        truths: tuple[bool, ...],
        late: bool,
    ) -> _Template | None:
        """The compact template of a new class whose facts are all known, put together from parts
        memoized by what each reads, without settling, ``build`` or a Determination: what ``build``
        gives for the one region ``_settle_known`` makes (the same functions make each part on a
        miss). None (``build`` then) where that region's answer is not settled: countries of
        expulsion left open, facts known in part, treaty gaps the explanation mentions, and until
        one class has shown the caveat of a decision after the review date."""
        program = self.program
        concrete = {name: facts[name] for name in DESTINATION_FACTS}
        if any(isinstance(v, PartialSet) for v in concrete.values()) or (late and self._late is None):
            return None
        if case.transit is not None and self._transit_of(case)[3] and _GAPS_SHOWN in program.facts_used:
            return None
        truth: dict[str, bool] | None = None  # by rule key: made when a memo misses
        possible = self._possible
        statuses: list[frozenset[Status]] = []
        memo: Hashable
        for n, pick in enumerate(self._status_pick):
            memo = (n, pick(truths))
            found = possible.get(memo)
            if found is None:
                truth = truth or dict(zip(self._keys, truths, strict=True))
                _bound(possible, CASE_KEYS)
                found = possible[memo] = possible_statuses(program, self._iids[n], truth)
            statuses.append(found)
        elsewhere = self._elsewhere_of(facts)
        destinations = tuple(
            _destination(d, given, truths) for d, given in zip(self._expulsions, elsewhere, strict=True)
        )
        memo = (tuple(statuses), destinations)
        decided = self._decisions.get(memo, _UNSEEN)
        if decided is _UNSEEN:
            _bound(self._decisions, CLASSES)
            decided = self._decisions[memo] = self._decided(
                statuses, destinations, self._destination_truth(truths), concrete
            )
        if decided is None:
            return None
        assert isinstance(decided, _Decided)
        decision = decided.decision
        # each instrument's explanation (``build.instrument_result``), memoized by what it reads
        results: list[InstrumentResult] = []
        segments: list[_Seg] = []
        explained = self._explained
        for n, pick in enumerate(self._explain_pick):
            memo = (n, decided.shapes[n], pick(truths))
            piece = explained.get(memo)
            if piece is None:
                truth = truth or dict(zip(self._keys, truths, strict=True))
                with speaking(self.lang):
                    inst = instrument_result(
                        program, self._iids[n], decided.settlement, truth, self._all_shown, False, None
                    )
                data = inst.model_dump(mode="json")
                del data["findings"]
                _bound(explained, CLASSES)
                text = json.dumps(data, separators=(",", ":"))
                piece = explained[memo] = (inst, _segment(_split("," + text if n else text)))
            segments.append(piece[1])
            results.append(piece[0])
        # the rules that decided the headline (``decide.deciding_rules``), and what they give
        deciding = self._deciding_keys(decided, truths, concrete, elsewhere)
        if deciding is None:
            return None
        memo = (deciding, late)
        found_by = self._deciding.get(memo)
        if found_by is None:
            rules = [b for b in program.rules if b.key in memo[0]]
            evidence = min(
                (b.rule.evidence for b in rules), key=EVIDENCE_ORDER.__getitem__, default="primary"
            )
            with speaking(self.lang):
                caveats = list(dict.fromkeys(c for b in rules for c in rule_caveats(b.rule)))
            if late and self._late is not None:
                caveats.append(self._late)
            _bound(self._deciding, CLASSES)
            found_by = self._deciding[memo] = (
                _segment([*_field("evidence", evidence), b",", *_field("caveats", caveats), b","]),
                _segment(_field("decided_by", list(dict.fromkeys(b.rule.id for b in rules)))),
            )
        # the explanation (``build.explanation_lines``), memoized by what it reads
        head = decision.headline
        unknown_decision = facts["decision_date"] is UNKNOWN
        no_claim = case.claim_date is None and case.given("claim_date")
        memo = (head, decided.reported, unknown_decision, no_claim)
        lines = self._explanations.get(memo)
        if lines is None:
            dates = {
                "entry": _tok("entry"),
                "decision": None if unknown_decision else _tok("decision"),
                "claim": None if no_claim else _tok("claim"),
            }
            with speaking(self.lang):
                explanation = explanation_lines(
                    head.outcome,
                    list(head.transfer_to),
                    list(head.expel_to),
                    head.asylum,
                    head.wait_in_mexico,
                    {"outcome": [], "asylum": [], "wait_in_mexico": []},
                    results,
                    Dates(**dates),
                )
            _bound(self._explanations, CLASSES)
            lines = self._explanations[memo] = _segment(
                [b"],", *_field("explanation", explanation), b",", *_field("dates", dates), b","]
            )
        opening = self._openings.get(head)
        if opening is None:
            _bound(self._openings, CASE_KEYS)
            opening = self._openings[head] = _segment(
                [
                    b'{"id":',
                    ("@id",),
                    b",",
                    *_field("policy", self.policy),
                    b",",
                    *_field("outcome", head.outcome),
                    b",",
                    *_field("transfer_to", list(head.transfer_to)),
                    b",",
                    *_field("expel_to", list(head.expel_to)),
                    b",",
                    *_field("asylum", head.asylum),
                    b",",
                    *_field("wait_in_mexico", head.wait_in_mexico),
                    b",",
                ]
            )
        base, holes = _stitched(
            [
                opening,
                found_by[0],
                self._assumed_text(assumed),
                *segments,
                lines,
                self._closing[0],
                found_by[1],
                self._closing[1],
            ]
        )
        return _Template(head, (), base, holes)

    def _assumed_text(self, assumed: dict[str, Any]) -> _Seg:
        """The JSON text from ``missing_facts`` to the opening of ``instruments`` (memoized by the
        assumed defaults: their names, and the values not shown as placeholders)."""
        try:
            memo: Hashable = tuple(
                [(k, None) if k in _PLACED else (k, type(v), _frozen(v)) for k, v in assumed.items()]
            )
            found = self._assumed.get(memo)
        except TypeError:  # a value that cannot be hashed: not kept
            memo, found = None, None
        if found is None:
            found = _segment(
                [
                    *_field("missing_facts", []),
                    b",",
                    *_field("missing_facts_by_field", {}),
                    b",",
                    *_field("assumed", _placed_assumed(assumed)),
                    b',"instruments":[',
                ]
            )
            if memo is not None:
                _bound(self._assumed, CASE_KEYS)
                self._assumed[memo] = found
        return found

    def _deciding_keys(
        self,
        decided: _Decided,
        truths: tuple[bool, ...],
        concrete: dict[str, Any],
        elsewhere: tuple[tuple[tuple[str, ...], ...], ...],
    ) -> frozenset[str] | None:
        """The keys of ``decide.deciding_rules(program, truth, concrete, decision)``. What each
        instrument adds (the rules whose flip alone moves it to a status that changes the headline)
        is memoized by the decision and the truths its flips read (``decide.status_flips``); what the
        destination rules add, by the decision, their truths and the countries each gives. None
        when a status by the flips is not the decision's (never expected: the same precedence)."""
        program = self.program
        truth: dict[str, bool] | None = None  # the destination rules' truths (all ``screened`` reads)
        contributions = self._contributions
        serial = decided.serial
        found_keys: set[str] = set()
        for n, pick in enumerate(self._flip_pick):
            read = (n, pick(truths))
            memo: Hashable = (serial, read)
            found = contributions.get(memo)
            if found is None:
                flips = self._flipped.get(read)
                if flips is None:
                    _bound(self._flipped, CASE_KEYS)
                    every = dict(zip(self._keys, truths, strict=True))
                    flips = self._flipped[read] = status_flips(program, self._iids[n], every)
                status, flipped_to = flips
                truth = truth or self._destination_truth(truths)
                if n not in self._limit_at and status != decided.single[n]:
                    return None
                moved: list[str] = []
                for to, members in flipped_to:
                    if to == decided.single[n]:
                        continue
                    move = decided.moves.get((n, to))
                    if move is None:
                        changed = list(decided.single)
                        changed[n] = to
                        key = (tuple(changed), decided.destinations)
                        head = self._screened.get(key)
                        if head is None:
                            _bound(self._screened, CASE_KEYS)
                            named = dict(zip(self._iids, changed, strict=True))
                            head = self._screened[key] = screened(program, named, truth, concrete)
                        move = decided.moves[(n, to)] = head != decided.base
                    if move:
                        moved += members
                _bound(contributions, CASE_KEYS)
                found = contributions[memo] = tuple(moved)
            if found:
                found_keys.update(found)
        if decided.expels:  # an expulsion applies: the destination rules that hold may decide
            memo = (serial, -1, self._destination_pick(truths), elsewhere)
            found = contributions.get(memo)
            if found is None:
                truth = truth or self._destination_truth(truths)
                named = decided.named
                moved = []
                for b in self._destination_rules:
                    if named[b.governs] != "applies" or not truth[b.key]:
                        continue
                    flipped = dict(truth)
                    flipped[b.key] = not truth[b.key]
                    if screened(program, named, flipped, concrete) != decided.base:
                        moved.append(b.key)
                _bound(contributions, CASE_KEYS)
                found = contributions[memo] = tuple(moved)
            found_keys.update(found)
        return frozenset(found_keys)

    def _destination_truth(self, truths: tuple[bool, ...]) -> dict[str, bool]:
        """The truths of the destination rules by key: all that ``decide`` and ``screened`` read of
        the truths (through ``expulsion_destination``)."""
        return {key: truths[at] for key, at in self._destination_at}

    def _decided(
        self,
        statuses: list[frozenset[Status]],
        destinations: tuple[tuple[str | None, tuple[str, ...]], ...],
        truth: dict[str, bool],
        concrete: dict[str, Any],
    ) -> _Decided | None:
        """The screening's decision for these possible statuses (one each: the facts are known),
        and what the explanation of each instrument reads of it (``build.instrument_result``'s key);
        None when the countries of expulsion are left open."""
        program = self.program
        possible = dict(zip(self._iids, statuses, strict=True))
        if any(len(s) != 1 for s in statuses):
            return None
        decision = decide(program, {i: next(iter(s)) for i, s in possible.items()}, truth, concrete)
        if OPEN in decision.headline.expel_to:
            return None
        region = Region({}, {}, possible, decision)
        settlement = Settlement([region], [], {}, {}, True, {}, possible)
        reported: list[Status] = []
        shapes: list[Hashable] = []
        for i in program.instruments:
            status = region_status(region, i.id)
            expulsion: Hashable = None
            if i.kind == "expulsion" and status in ("applies", "excepted"):
                rule = decision.destination.get(i.id)
                expulsion = (
                    frozenset(() if rule is None else (rule.key,)),
                    frozenset((decision.headline.expel_to,) if rule is not None else ()),
                    i.id in decision.fear_excepted,
                )
            amenable: Hashable = None
            if status == "not_applicable":
                amenable = ((decision.headline.outcome,) if i.id in decision.not_amenable else (), 1)
            stopper = decision.screened_out_by.get(i.id)
            reported.append(status)
            shapes.append((status, expulsion, amenable, (stopper,) if stopper else ()))
        single = tuple(next(iter(s)) for s in statuses)
        named = dict(zip(self._iids, single, strict=True))
        head = decision.headline
        return _Decided(
            next(self._serials),
            destinations,
            decision,
            settlement,
            single,
            named,
            tuple(reported),
            tuple(shapes),
            screened(program, named, truth, concrete) if head.expel_to else head,
            any(single[n] == "applies" for n in self._expulsion_in),
            {},
        )

    def _pieces(self, inst: InstrumentResult) -> list[bytes | tuple[str]]:
        """One instrument's JSON text, split around its placeholders (kept per object)."""
        found = self._instrument_texts.get(id(inst))
        if found is None or found[0] is not inst:
            _bound(self._instrument_texts, CLASSES if self.detail == "compact" else CLASSES // 10)
            data = inst.model_dump(mode="json")
            if self.detail == "compact":
                del data["findings"]
            found = self._instrument_texts[id(inst)] = (
                inst,
                _split(json.dumps(data, separators=(",", ":"))),
            )
        return found[1]

    def discoveries(self) -> list[tuple[Hashable, _Template]]:
        """The classes evaluated in full since the last call (with ``sharing``), for ``learn`` by
        other evaluators of the same rules, policy and detail (the workers of one batch)."""
        found, self._found = self._found, []
        return found

    def learn(self, found: list[tuple[Hashable, _Template]]) -> None:
        """Classes another evaluator of the same rules, policy and detail evaluated in full: their
        cases are then filled in here without a full evaluation."""
        for key, template in found:
            if key not in self._by_class:
                self._room_for_class()
                self._by_class[key] = template

    @property
    def classes_seen(self) -> int:
        """How many classes were evaluated in full so far."""
        return len(self._by_class)


@dataclass(frozen=True, slots=True)
class _Mask:
    """One instrument's rules, by index in the program, for the compact class key.

    An instrument not in force shows only its in-force and window rules. What its other rules
    decide counts only when one rule putting it in force is flipped (``decide.deciding_rules``):
    that gives the status it would have in force, and the screening (``decide.decide``) tells
    apart only whether it applies (for an expulsion: to which countries), stops the screening
    without applying (excluded, excepted, or an expulsion with fear established in every
    destination), or does not reach the person."""

    iid: str
    in_force: tuple[int, ...]
    windows: tuple[int, ...]
    others: tuple[int, ...]  # every rule but the in-force and window ones
    scope: tuple[int, ...]
    alternative: tuple[int, ...]
    stops: tuple[int, ...]  # exclusions and exceptions
    destinations: tuple[tuple[int, BoundRule], ...] | None  # an expulsion's, in file order


def _mask_status(m: _Mask, truths: tuple[bool, ...]) -> tuple[Status, int, bool]:
    """The instrument's status if it were in force (excepted as excluded: the screening treats
    them alike), how many of its in-force rules fail, and whether a window rule holds (or it has
    none)."""
    status: Status
    if not all(truths[n] for n in m.scope) or (m.alternative and not any(truths[n] for n in m.alternative)):
        status = "not_applicable"
    elif any(truths[n] for n in m.stops):
        status = "excluded"
    else:
        status = "applies"
    failed = sum(1 for n in m.in_force if not truths[n])
    return status, failed, not m.windows or any(truths[n] for n in m.windows)


_FIELDS = tuple(Determination.model_fields)
# the fields ``Evaluator._assemble`` writes (in ``_FIELDS`` order): another field turns it off
_ASSEMBLES = (
    set(_FIELDS) - {"would_change_if"}
    == {
        "id",
        "policy",
        "outcome",
        "transfer_to",
        "expel_to",
        "asylum",
        "wait_in_mexico",
        "evidence",
        "caveats",
        "missing_facts",
        "missing_facts_by_field",
        "assumed",
        "instruments",
        "explanation",
        "dates",
        "engine",
        "rules_digest",
        "decided_by",
        "lang",
        "date_ranges",
        "date_cuts",
    }
    and list(_FIELDS).index("would_change_if") == list(_FIELDS).index("instruments") + 1
)
_PLACED = frozenset({"claim_date", "decision_date", "habitual_residence"})  # see ``_placed_assumed``
_GAPS_SHOWN = "transit.only_non_party_third_countries"  # treaty gaps are explained when tested
_UNSEEN = object()


@dataclass(frozen=True, slots=True)
class _Decided:
    """The screening's decision for one vector of statuses and countries of expulsion, as the
    compact assembler reads it: the one-region settlement ``build.instrument_result`` reads, each
    instrument's reported status, and what else its explanation reads of the decision."""

    serial: int  # tells decisions apart in memo keys (one number for each made)
    destinations: tuple[tuple[str | None, tuple[str, ...]], ...]  # of every expulsion: rule, countries
    decision: Decision
    settlement: Settlement
    single: tuple[Status, ...]  # each instrument's status
    named: dict[str, Status]  # the same by instrument
    reported: tuple[Status, ...]
    shapes: tuple[Hashable, ...]
    base: Headline  # the headline the deciding rules' flips are compared with (``deciding_rules``)
    expels: bool  # whether an expulsion applies
    moves: dict[tuple[int, Status], bool]  # (instrument, status) -> whether that status alone moves it


def _picker(indices: list[int]) -> Callable[[tuple[bool, ...]], Hashable]:
    """A function giving the truths at ``indices`` (a tuple; one index: the truth alone)."""
    if not indices:
        return lambda _: ()
    if len(indices) == 1:
        only = indices[0]
        return lambda truths: truths[only]
    return operator.itemgetter(*indices)


def _destination(
    destinations: tuple[tuple[int, BoundRule], ...],
    given: tuple[tuple[str, ...], ...],
    truths: tuple[bool, ...],
) -> tuple[str | None, tuple[str, ...]]:
    """``expulsion_destination`` as the key of its rule and its countries (``given``: what each
    destination rule gives)."""
    for (index, b), countries in zip(destinations, given, strict=True):
        if truths[index]:
            return b.key, countries
    return None, ()


def _field(name: str, value: Any) -> list[bytes | tuple[str]]:
    """One field of a determination's JSON text (``"name":value``), split around its placeholders."""
    return _split(json.dumps({name: value}, separators=(",", ":"))[1:-1])


def _frozen(value: Any) -> Hashable:
    """A default's value as a memo key (a list as a tuple)."""
    return tuple(value) if isinstance(value, list) else value


_Seg = tuple[bytes | str, ...]
"""A piece of a template's text: literal, placeholder name, literal, ..., literal."""


def _segment(items: list[bytes | tuple[str]]) -> _Seg:
    """Literal pieces and placeholders (``_split``) as one ``_Seg``."""
    out: list[bytes | str] = []
    literal: list[bytes] = []
    for item in items:
        if isinstance(item, bytes):
            literal.append(item)
        else:
            out += [b"".join(literal), item[0]]
            literal = []
    out.append(b"".join(literal))
    return tuple(out)


def _stitched(segments: list[_Seg]) -> tuple[tuple[bytes, ...], tuple[tuple[int, str], ...]]:
    """Pieces of text one after the other, as a template's text (``_Template.base``, ``holes``)."""
    base: list[bytes] = []
    holes: list[tuple[int, str]] = []
    pending: list[bytes] = []
    for segment in segments:
        pending.append(segment[0])  # type: ignore[arg-type]
        for at in range(1, len(segment), 2):
            base += [b"".join(pending), b""]
            holes.append((len(base) - 1, segment[at]))  # type: ignore[arg-type]
            pending = [segment[at + 1]]  # type: ignore[list-item]
    base.append(b"".join(pending))
    return tuple(base), tuple(holes)


def _joined(items: list[bytes | tuple[str]]) -> tuple[tuple[bytes, ...], tuple[tuple[int, str], ...]]:
    """Pieces and placeholders as a template's text: literal, hole, literal, ..., literal."""
    base: list[bytes] = []
    holes: list[tuple[int, str]] = []
    literal: list[bytes] = []
    for item in items:
        if isinstance(item, bytes):
            literal.append(item)
        else:
            base += [b"".join(literal), b""]
            holes.append((len(base) - 1, item[0]))
            literal = []
    base.append(b"".join(literal))
    return tuple(base), tuple(holes)


def _placed_assumed(assumed: dict[str, Any]) -> dict[str, Any]:
    """The assumed defaults with placeholders for the assumed dates and residence."""
    return {
        k: _tok({"claim_date": "claim", "decision_date": "decision"}[k])
        if k in ("claim_date", "decision_date")
        else (_tok("@residence") if k == "habitual_residence" else v)
        for k, v in assumed.items()
    }


def _placed(data: dict[str, Any], assumed: dict[str, Any], detail: Detail) -> None:
    """A dumped determination with placeholders for the id and the assumed dates and residence,
    less what compact lines leave out."""
    data["id"] = _tok("@id")
    data["assumed"] = _placed_assumed(assumed)
    if detail == "compact":
        for inst in data["instruments"]:
            if isinstance(inst, dict):
                del inst["findings"]
        del data["would_change_if"]


def _plain_text(det: Determination, assumed: dict[str, Any], detail: Detail) -> str:
    """The JSON text of a template, dumped whole (``Evaluator._text`` gives it in parts)."""
    data = det.model_dump(mode="json")
    _placed(data, assumed, detail)
    return json.dumps(data, separators=(",", ":"))  # ASCII: other characters as \uXXXX escapes


def _settle_known(program: Program, facts: dict[str, Any], truths: tuple[bool, ...]) -> Settlement:
    """``settle(program, facts, pure engine, truths=truths)`` when every fact the rules test is
    known: the search stops at its root, one region, which the pure evaluator decides from the
    truths given (what ``settle`` does then, without its search)."""
    truth = dict(zip([b.key for b in program.rules], truths, strict=True))
    statuses = every_possible_status(program, truth)
    # the region's example (``Partition.example``): a set known in part holds its members known
    # in; a decision never precedes the entry
    concrete = {
        name: value.included if isinstance(value := facts[name], PartialSet) else value
        for name in program.facts_used
    }
    if "entry.date" in concrete and facts["decision_date"] is not UNKNOWN:
        concrete["entry.date"] = min(facts["entry.date"], facts["decision_date"])
    fired = fired_truth(program, frozenset(k for k, v in truth.items() if v))
    decision = decide(program, {i: next(iter(s)) for i, s in statuses.items()}, fired, concrete)
    if decision.headline.outcome == "expel":
        for iid in decision.destination:
            possible = possible_destinations(program, iid, truth, facts)
            if len(possible) > 1 or (OPEN,) in possible:
                decision = dataclasses.replace(
                    decision, headline=decision.headline._replace(expel_to=(OPEN,))
                )
    region = Region(dict(facts), truth, statuses, decision, concrete, fired)
    out = Settlement([region], [], {}, {}, True, truth, statuses)
    stay = may_stay(region)
    for part in PARTS:
        out.values[part] = {part_of(decision.headline, part)}
        if part != "outcome" and stay:
            out.values[part].add(OPEN)
        out.decisive[part] = set()
    open_destinations(out, facts, stay)
    return out


def _split(text: str) -> list[bytes | tuple[str]]:
    """JSON text as literal pieces (ASCII bytes) and placeholders (a name in a 1-tuple)."""
    items: list[bytes | tuple[str]] = []
    at = 0
    for match in _TOKEN.finditer(text):
        if match.start() > at:
            items.append(text[at : match.start()].encode())
        items.append((match.group(1) or match.group(2),))
        at = match.end()
    if at < len(text):
        items.append(text[at:].encode())
    return items


def _countries(
    destinations: tuple[tuple[int, BoundRule], ...],
    given: tuple[tuple[str, ...], ...],
    truths: tuple[bool, ...],
) -> tuple[str, ...]:
    """The countries of expulsion: the first destination rule that holds gives them, less fear
    (``given``: what each of them gives)."""
    for (index, _), countries in zip(destinations, given, strict=True):
        if truths[index]:
            return countries
    return ()


_bound = make_room


def cut_points(program: Program) -> dict[str, tuple[Any, ...]]:
    """For each date and int fact, the cut points of the partition (``cuts``): every test is
    constant between two of them.

    ``*date`` joins the cuts of every date fact: the entry date stands in for any unknown date
    when a case is settled, so its class must be fine enough for all of them.
    """
    found: dict[str, set[Any]] = {
        name: set(program_cuts((program,), name))
        for name in program.facts_used
        if CATALOGUE[name].type in ("date", "int")
    }
    if program.ruleset.reviewed is not None and program.ruleset.reviewed < dt.date.max:  # later: a caveat
        found.setdefault("decision_date", set()).add(program.ruleset.reviewed + dt.timedelta(days=1))
    out = {name: tuple(sorted(values)) for name, values in found.items() if values}
    out["*date"] = tuple(sorted({v for n, vs in found.items() if CATALOGUE[n].type == "date" for v in vs}))
    for name in ("age_at_entry", "decision_date", "days_from_entry_to_claim"):
        out.setdefault(name, ())
    return out


def _named(program: Program) -> dict[str, frozenset[str]]:
    named: dict[str, set[str]] = {}
    for b in program.rules:
        for t in b.checks:
            if CATALOGUE[t.fact].type in ("country", "state", "countries"):
                values = t.value if isinstance(t.value, tuple) else (t.value,)
                named.setdefault(t.fact, set()).update(v for v in values if isinstance(v, str))
    return {k: frozenset(v) for k, v in named.items()}
