"""Load and validate rule files: instruments, their rules, policies and data tables.

Layout of a rules directory::

    rules/<instrument>.yaml   one legal instrument: its rules, each citing its source
    rules/policies.yaml       named bundles of instruments and their screening order
    rules/data/*.yaml         data tables the rules rely on (treaty parties with dates, the statuses
                              of a family member in the U.S. that count, the hosts a citation may
                              link to)

Every file is validated up front by pydantic models of the format (``extra="forbid"``); every
problem of every file is collected and reported as ``file:line:col: message``. That includes every
citation's web address: a ``primary`` citation links an official host, and no citation links a
host the ``official_hosts`` table lists as not citable (eligibility.ruleset.hosts).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.resources
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from eligibility.countries import check_country
from eligibility.errors import Problem, RuleFileError, UnknownPolicyError, did_you_mean
from eligibility.ruleset.conditions import Condition, bind, parse_condition, tests
from eligibility.ruleset.facts import Context, TreatyTable
from eligibility.ruleset.hosts import HOSTS_FILE, host_of, match
from eligibility.ruleset.limits import MAX_RULES, rule_problems
from eligibility.yamlsource import MAX_BYTES, Document, Location, YAMLSourceError, decode, load_yaml

if TYPE_CHECKING:  # the format's models (eligibility.ruleset.specs) load only when rule files are read
    from eligibility.ruleset.specs import (
        DefinitionsFileSpec,
        HostsTableSpec,
        PoliciesFileSpec,
        RuleFileSpec,
        SourceSpec,
        _Spec,
    )

Evidence = Literal["primary", "secondary", "unverified"]
Role = Literal["in_force", "window", "scope", "alternative", "exclusion", "exception", "destination"]
Kind = Literal["transfer_agreement", "asylum_bar", "wait_abroad", "statutory_limit", "expulsion"]
EVIDENCE_ORDER: dict[str, int] = {"primary": 2, "secondary": 1, "unverified": 0}
Treaty = Literal["refugee_convention_1951", "refugee_protocol_1967", "convention_against_torture"]


# ---------------------------------------------------------------- the loaded rules


@dataclass(frozen=True)
class Source:
    cite: str
    evidence: Evidence
    url: str
    quote: str | None
    paraphrase: str | None

    @property
    def label(self) -> str:
        return f"{self.cite} [{self.evidence}]"


@dataclass(frozen=True)
class Rule:
    """One rule: when its condition holds, it concludes its role for its instrument."""

    id: str
    instrument: str
    role: Role
    title: str
    when: Condition
    sources: tuple[Source, ...]
    overrides: str | None
    location: Location
    note: str | None = None
    restates: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()  # shown with any answer this rule decides
    to: tuple[str, ...] | None = None  # a destination rule's countries; () means 'nationality'
    # per language other than English: 'title' and 'caveats' as the rule file gives them
    translations: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)

    @property
    def evidence(self) -> Evidence:
        """The weakest evidence level among the rule's sources: an answer is as firm as its weakest link."""
        return min((s.evidence for s in self.sources), key=EVIDENCE_ORDER.__getitem__)


@dataclass(frozen=True)
class Invariant:
    """A property every policy must have (``never`` happens when ``when`` holds)."""

    id: str
    title: str
    when: Condition | None
    never: str | tuple[tuple[str, ...], frozenset[str]]  # a headline property, or (instruments, statuses)
    sources: tuple[Source, ...]
    location: Location


@dataclass(frozen=True)
class Instrument:
    id: str
    title: str
    kind: Kind
    receiving_country: str | None
    applies_to: tuple[Kind, ...]
    rules: tuple[Rule, ...]
    sources: tuple[Source, ...]
    summary: str | None
    notes: tuple[str, ...]
    location: Location
    extends: str | None
    translations: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    description: str
    instruments: tuple[str, ...]
    screening: tuple[tuple[str, ...], ...]
    location: Location
    translations: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Reason:
    """A rule of the screening that is not an instrument's rule, with its sources."""

    text: str
    sources: tuple[Source, ...]
    translations: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)


_T = TypeVar("_T")


class Built:
    """What later stages build once per process from a rule set or a compiled program (programs,
    engines, fast evaluators), each kept under its own type and a name. A stage stores and reads
    back only its own types, so the lower layer never names the ones above it; never cached."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: dict[tuple[type, str], object] = {}

    def get(self, kind: type[_T], name: str, build: Callable[[], _T]) -> _T:
        """The ``kind`` built under ``name``, built by ``build()`` the first time."""
        found = self._items.get((kind, name))
        if not isinstance(found, kind):
            found = self._items[(kind, name)] = build()
        return found

    def __repr__(self) -> str:
        return f"Built({len(self._items)} items)"


@dataclass(frozen=True, eq=False)
class RuleSet:
    """Every instrument and policy of a rules directory, validated."""

    instruments: Mapping[str, Instrument]
    policies: Mapping[str, Policy]
    default_policy: str
    context: Context
    digest: str
    directory: str
    invariants: tuple[Invariant, ...] = ()
    reviewed: dt.date | None = None  # the date the law was last reviewed (rules/policies.yaml)
    screened_first_because: Reason | None = None  # rules/policies.yaml
    built: Built = field(
        default_factory=lambda: Built(), repr=False, compare=False
    )  # compiled programs, evaluators

    def require_policy(self, name: str) -> None:
        """Raise UnknownPolicyError, naming the known policies, unless ``name`` is one of them."""
        if name not in self.policies:
            known = ", ".join(sorted(self.policies))
            raise UnknownPolicyError(
                f"unknown policy '{name}'{did_you_mean(name, self.policies)} (known: {known})"
            )

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id; raises KeyError with a suggestion."""
        for instrument in self.instruments.values():
            for rule in instrument.rules:
                if rule.id == rule_id:
                    return rule
        known = [r.id for i in self.instruments.values() for r in i.rules]
        raise KeyError(f"no rule '{rule_id}'" + did_you_mean(rule_id, known))

    def all_rules(self) -> list[Rule]:
        """Every rule once, in file order (a variant's inherited rules are listed with its base)."""
        seen: dict[str, Rule] = {}
        for instrument in self.instruments.values():
            for rule in instrument.rules:
                seen.setdefault(rule.id, rule)
        return list(seen.values())


def default_rules_dir() -> Path:
    """The rules shipped with the package (or, in a source checkout, the repository's rules/)."""
    packaged = importlib.resources.files("eligibility") / "rules"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "rules"


@functools.cache
def default_rules() -> RuleSet:
    """The shipped rules, loaded and validated once per process."""
    return load_rules(None)


def load_rules(path: str | Path | None = None, *, extend: bool = False) -> RuleSet:
    """Load and validate a rules directory (default: the shipped rules). Raises RuleFileError.

    With ``extend``, ``path`` is laid over the shipped rules: its instrument and data files add
    to or replace the shipped files of the same name, and its policies.yaml adds or replaces
    policies (and invariants) by id.
    """
    layers: list[tuple[Path, str]] = []
    if path is None or extend:
        layers.append((default_rules_dir(), "rules"))
    if path is not None:
        layers.append((Path(path), str(path).rstrip("/")))
    for directory, _ in layers:
        if not directory.is_dir():
            raise RuleFileError([Problem(str(directory), "not a directory of rule files")])
    chosen: dict[str, tuple[Path, str]] = {}  # relative name -> (file, shown name)
    layered: list[tuple[Path, str]] = []  # policies.yaml and definitions.yaml of every layer
    for directory, shown in layers:
        for file in sorted(directory.glob("*.yaml")) + sorted(directory.glob("data/*.yaml")):
            rel = file.relative_to(directory).as_posix()
            if rel in ("policies.yaml", "definitions.yaml"):  # every layer's, in order
                layered.append((file, f"{shown}/{rel}"))
            else:
                chosen[rel] = (file, f"{shown}/{rel}")
    if HOSTS_FILE not in chosen:  # a rules directory without its own list is checked against the shipped one
        shipped = default_rules_dir() / HOSTS_FILE
        if shipped.is_file():
            chosen[HOSTS_FILE] = (shipped, f"rules/{HOSTS_FILE}")
    problems: list[Problem] = []
    digest = hashlib.sha256()
    docs: list[tuple[str, Document]] = []
    texts: list[tuple[str, str, str]] = []
    for rel, (file, shown_name) in [
        *sorted(chosen.items()),
        *((f[1].rsplit("/", 1)[-1], f) for f in layered),
    ]:
        text = _read(file, file.parents[rel.count("/")], shown_name, problems)
        if text is None:
            continue
        digest.update(rel.encode() + b"\0" + text.encode() + b"\0")
        texts.append((rel, shown_name, text))
    if problems:  # and the YAML problems of the files that could be read
        raise RuleFileError(problems + [p for _, shown, text in texts for p in load_yaml(text, shown)[1]])
    cache_key = _cache_key(digest.hexdigest(), [(rel, shown) for rel, shown, _ in texts], layers[-1][1])
    cached = _from_cache(cache_key, "sha256:" + digest.hexdigest(), layers[-1][1])
    if cached is not None:
        return cached
    for rel, shown_name, text in texts:
        doc, found = load_yaml(text, shown_name)
        problems += found
        if doc is not None:
            kind = (
                "data"
                if rel.startswith("data/")
                else {"policies.yaml": "policies", "definitions.yaml": "definitions"}.get(rel, "instrument")
            )
            docs.append((kind, doc))
    ruleset = _assemble(docs, problems, layers[-1][1], "sha256:" + digest.hexdigest())
    if ruleset is not None and not problems:
        _check_engine_limits(ruleset, problems)
    if problems or ruleset is None:
        raise RuleFileError(problems or [Problem(layers[-1][1], "no rule files")])
    _to_cache(cache_key, ruleset)
    return ruleset


def _read(file: Path, directory: Path, shown: str, problems: list[Problem]) -> str | None:
    """A rule file's text, or None with a problem: a link leading out of its directory (never
    followed), something that is not a regular file, a file too large, unreadable or not UTF-8."""
    try:
        if not file.resolve().is_relative_to(directory.resolve()):  # the file or a folder on its way
            problems.append(Problem(shown, "a link to a file outside the rules directory (not read)"))
            return None
        if not file.is_file():
            problems.append(
                Problem(shown, "not a regular file (a directory or device named like a rule file)")
            )
            return None
        if file.stat().st_size > MAX_BYTES:
            problems.append(Problem(shown, f"larger than {MAX_BYTES:,} bytes (not read)"))
            return None
        return decode(file.read_bytes())
    except YAMLSourceError as exc:
        problems.append(Problem(f"{shown}:{exc.line}:{exc.column}", exc.problem))
    except OSError as exc:
        problems.append(Problem(shown, f"cannot be read: {exc.strerror or exc}"))
    return None


def _check_engine_limits(ruleset: RuleSet, problems: list[Problem]) -> None:
    """Rules the durable-rules engine cannot run, refused here rather than failing (or crashing)
    when a case is evaluated: one rule too large for it even alone (eligibility.ruleset.limits,
    which models its fixed tables), or a policy of more than MAX_RULES rules once statutory limits
    are bound to each agreement they limit. Several rules that together overflow a table are
    fine: the engine splits a policy into as many rulesets as it needs."""
    for rule in ruleset.all_rules():
        when = bind(rule.when, {"receiving_country": "MX"}) if _uses_param(rule.when) else rule.when
        found = rule_problems(when)
        if found:
            problems.append(
                Problem(
                    str(rule.location),
                    f"rule '{rule.id}' is too large for the durable-rules engine: {'; '.join(found)}. "
                    "Split it into several rules",
                )
            )
    for policy in ruleset.policies.values():
        instruments = [ruleset.instruments[i] for i in policy.instruments if i in ruleset.instruments]
        count = 0
        for inst in instruments:
            if inst.kind == "statutory_limit":
                continue
            count += len(inst.rules)
            for limit in instruments:
                if limit.kind == "statutory_limit" and inst.kind in limit.applies_to:
                    count += len(limit.rules)
        if count > MAX_RULES:
            problems.append(
                Problem(
                    str(policy.location),
                    f"policy '{policy.id}' has {count} rules once each statutory limit is applied to the "
                    f"agreements it limits; the durable-rules engine takes at most {MAX_RULES}",
                )
            )


def _validate(doc: Document, model: type[_Spec], problems: list[Problem]) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            place = doc.marks.get((*loc, "__key__")) or doc.at(loc)
            problems.append(Problem(str(place), _message(err, model)))
        return None


def _message(err: Any, model: type[_Spec]) -> str:
    if err["type"] == "extra_forbidden":
        name = str(err["loc"][-1])
        owner = _model_at(model, err["loc"][:-1])
        return f"unknown key '{name}'" + (did_you_mean(name, owner.model_fields) if owner else "")
    if err["type"] == "missing":
        return f"missing '{err['loc'][-1]}'"
    if err["type"] == "literal_error":
        return f"{err['input']!r} is not one of {err['ctx']['expected']}"
    field = str(err["loc"][-1]) if err["loc"] else ""
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "too_short":
        message = "needs at least one entry"
    return f"{field}: {message}" if field else message


def _model_at(model: type[_Spec], loc: tuple[Any, ...]) -> type[_Spec] | None:
    from eligibility.ruleset.specs import _Spec

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None:
            return None
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        current = next((a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, _Spec)), None)
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, _Spec) else None


def _source(spec: SourceSpec) -> Source:
    return Source(spec.cite, spec.evidence, spec.url, spec.quote, spec.paraphrase)


def _assemble(
    docs: list[tuple[str, Document]], problems: list[Problem], shown: str, digest: str
) -> RuleSet | None:
    from eligibility.ruleset.specs import (
        DefinitionsFileSpec,
        FamilyTableSpec,
        HostsTableSpec,
        PoliciesFileSpec,
        RuleFileSpec,
        TreatyTableSpec,
    )

    specs: dict[str, tuple[RuleFileSpec, Document]] = {}
    unchecked: list[tuple[Document, str]] = []  # rule files whose fields are wrong, and their names
    policies_docs: list[tuple[PoliciesFileSpec, Document]] = []
    definitions_docs: list[tuple[DefinitionsFileSpec, Document]] = []
    parties: dict[str, dict[str, dt.date]] = {}
    non_parties: set[str] = set()
    qualifying: set[str] | None = None
    hosts = _Hosts()
    for kind, doc in docs:
        name = doc.file.rsplit("/", 1)[-1]
        table_name = doc.data.get("table") if isinstance(doc.data, dict) else None
        if kind == "data" and table_name == "qualifying_family_statuses":
            family = _validate(doc, FamilyTableSpec, problems)
            if family:
                qualifying = {row.status for row in family.statuses}
        elif kind == "data" and table_name == "official_hosts":
            listed = _validate(doc, HostsTableSpec, problems)
            if listed:
                hosts.add(listed, doc)
        elif kind == "data":
            table = _validate(doc, TreatyTableSpec, problems)
            if table:
                for i, row in enumerate(table.rows):
                    try:
                        country = check_country(row.country)
                    except ValueError as exc:
                        problems.append(Problem(str(doc.at(("rows", i, "country"))), str(exc)))
                        continue
                    parties.setdefault(country, {})[row.treaty] = row.since
                for i, non in enumerate(table.non_parties):
                    try:
                        non_parties.add(check_country(non.country))
                    except ValueError as exc:
                        problems.append(Problem(str(doc.at(("non_parties", i, "country"))), str(exc)))
        elif kind == "definitions":
            terms = _validate(doc, DefinitionsFileSpec, problems)
            if terms:
                definitions_docs.append((terms, doc))
        elif kind == "policies":
            spec = _validate(doc, PoliciesFileSpec, problems)
            if spec:
                policies_docs.append((spec, doc))
        else:
            spec = _validate(doc, RuleFileSpec, problems)
            if spec is None:
                unchecked.append((doc, name))
            if spec:
                if spec.instrument.id in specs:
                    problems.append(
                        Problem(
                            str(doc.at(("instrument", "id"))),
                            f"instrument '{spec.instrument.id}' is also defined in {specs[spec.instrument.id][1].file}",
                        )
                    )
                    continue
                expected = name.removesuffix(".yaml")
                if spec.instrument.id != expected:
                    problems.append(
                        Problem(
                            str(doc.at(("instrument", "id"))),
                            f"instrument id '{spec.instrument.id}' must match the file name '{expected}'",
                        )
                    )
                specs[spec.instrument.id] = (spec, doc)
    definitions: dict[str, Condition] = {}
    for dspec, ddoc in definitions_docs:  # a later file (--rules DIR) redefines a term of the same id
        for i, term in enumerate(dspec.definitions):
            parsed = parse_condition(ddoc, ("definitions", i, "when"), term.when, problems, definitions)
            if parsed is not None:
                definitions[term.id] = parsed
    for doc, name in unchecked:  # every problem of a file in one run, not its fields' alone
        _check_raw_rule_file(doc, name, problems, definitions)
    hosts.check(problems)
    for _kind, doc in docs:
        _check_citations(doc, hosts, problems)
    instruments: dict[str, Instrument] = {}
    for iid in specs:
        _build_instrument(iid, specs, instruments, problems, (), definitions)
    _check_rule_ids(instruments, specs, problems)
    if qualifying is None:  # a rule on family members needs the statuses that count
        for rule in (r for i in instruments.values() for r in i.rules):
            if any(t.fact == "family_in_us.qualifying" for t in tests(rule.when)):
                problems.append(
                    Problem(
                        str(rule.location),
                        "tests family_in_us.qualifying, but no data file gives the statuses that count "
                        "(table: qualifying_family_statuses)",
                    )
                )
                break
    if not policies_docs:
        problems.append(Problem(f"{shown}/policies.yaml", "missing: a rules directory needs policies.yaml"))
        return None
    policies: dict[str, Policy] = {}
    invariants: dict[str, Invariant] = {}
    default: str | None = None
    reviewed: dt.date | None = None
    screened_first_because: Reason | None = None
    default_place = str(policies_docs[-1][1].at(()))
    for spec, doc in policies_docs:
        policies.update(_build_policies(spec, doc, instruments, problems))
        invariants.update(
            {inv.id: inv for inv in _build_invariants(spec, doc, instruments, problems, definitions)}
        )
        if spec.default is not None:
            default, default_place = spec.default, str(doc.at(("default",)))
        if spec.reviewed is not None:
            reviewed = spec.reviewed
        if spec.screened_first_because is not None:
            basis = spec.screened_first_because
            screened_first_because = Reason(
                basis.text,
                tuple(_source(s) for s in basis.sources),
                {"es": {"text": basis.text_es}} if basis.text_es else {},
            )
    if default is None:
        problems.append(Problem(default_place, "missing 'default': name the default policy"))
        return None
    if default not in policies:
        problems.append(Problem(default_place, f"default policy '{default}' is not defined"))
    return RuleSet(
        instruments,
        policies,
        default,
        Context(
            TreatyTable(parties, frozenset(non_parties)),
            None if qualifying is None else frozenset(qualifying),
        ),
        digest,
        shown,
        tuple(invariants.values()),
        reviewed,
        screened_first_because,
    )


def _check_raw_rule_file(
    doc: Document, name: str, problems: list[Problem], definitions: Mapping[str, Condition]
) -> None:
    """A rule file whose fields are wrong, checked as far as its raw data allows: its instrument id
    against its file name, and each rule's condition."""
    data = doc.data if isinstance(doc.data, dict) else {}
    head = data.get("instrument")
    iid = head.get("id") if isinstance(head, dict) else None
    expected = name.removesuffix(".yaml")
    if isinstance(iid, str) and iid != expected:
        problems.append(
            Problem(
                str(doc.at(("instrument", "id"))),
                f"instrument id '{iid}' must match the file name '{expected}'",
            )
        )
    rules = data.get("rules")
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict) and "when" in rule:
            parse_condition(doc, ("rules", i, "when"), rule["when"], problems, definitions)


def _build_instrument(
    iid: str,
    specs: dict[str, tuple[RuleFileSpec, Document]],
    done: dict[str, Instrument],
    problems: list[Problem],
    chain: tuple[str, ...],
    definitions: Mapping[str, Condition],
) -> Instrument | None:
    if iid in done:
        return done[iid]
    spec, doc = specs[iid]
    head = spec.instrument
    base: Instrument | None = None
    if head.extends:
        if head.extends in chain or head.extends == iid:
            problems.append(
                Problem(
                    str(doc.at(("instrument", "extends"))), f"'{iid}' extends itself through '{head.extends}'"
                )
            )
            return None
        if head.extends not in specs:
            hint = did_you_mean(head.extends, specs)
            problems.append(
                Problem(
                    str(doc.at(("instrument", "extends"))),
                    f"extends unknown instrument '{head.extends}'{hint}",
                )
            )
            return None
        base = _build_instrument(head.extends, specs, done, problems, (*chain, iid), definitions)
        if base is None:
            return None
    elif spec.omit:
        problems.append(Problem(str(doc.at(("omit",))), "'omit' needs 'extends': only a variant omits rules"))
    kind = head.kind or (base.kind if base else None)
    if kind is None:
        problems.append(Problem(str(doc.at(("instrument",))), "missing 'kind'"))
        return None
    receiving = head.receiving_country or (base.receiving_country if base else None)
    if receiving is not None:
        try:
            receiving = check_country(receiving)
        except ValueError as exc:
            problems.append(Problem(str(doc.at(("instrument", "receiving_country"))), str(exc)))
    if kind == "transfer_agreement" and receiving is None:
        problems.append(
            Problem(str(doc.at(("instrument",))), "a transfer_agreement needs 'receiving_country'")
        )
    if kind == "statutory_limit" and not head.applies_to:
        problems.append(Problem(str(doc.at(("instrument",))), "a statutory_limit needs 'applies_to'"))
    inherited = list(base.rules) if base else []
    for i, omit in enumerate(spec.omit):
        if not any(r.id == omit.rule for r in inherited):
            hint = did_you_mean(omit.rule, [r.id for r in inherited])
            problems.append(
                Problem(str(doc.at(("omit", i, "rule"))), f"omits unknown rule '{omit.rule}'{hint}")
            )
    omitted = {o.rule for o in spec.omit}
    rules = [r for r in inherited if r.id not in omitted]
    own_overrides = {iid, *(head.applies_to or ())} | ({base.id} if base else set())
    for i, rs in enumerate(spec.rules):
        path = ("rules", i)
        if not rs.id.startswith(iid + "."):
            problems.append(
                Problem(str(doc.at((*path, "id"))), f"rule id '{rs.id}' must start with '{iid}.'")
            )
        if rs.role in ("exclusion", "exception"):
            if rs.overrides is None:
                problems.append(
                    Problem(
                        str(doc.at(path)), f"an {rs.role} must name what it overrides ('overrides: {iid}')"
                    )
                )
            elif rs.overrides not in own_overrides:
                problems.append(
                    Problem(
                        str(doc.at((*path, "overrides"))),
                        f"overrides '{rs.overrides}', expected one of: {', '.join(sorted(own_overrides))}",
                    )
                )
        elif rs.overrides is not None:
            problems.append(
                Problem(
                    str(doc.at((*path, "overrides"))),
                    f"only an exclusion or exception overrides; this rule is '{rs.role}'",
                )
            )
        if (rs.role == "destination") != (kind == "expulsion" and rs.to is not None):
            if rs.role == "destination" and kind != "expulsion":
                message = "only an expulsion has destination rules"
            elif rs.role == "destination":
                message = "a destination rule needs 'to' (a list of countries, or 'nationality')"
            else:
                message = "only a destination rule has 'to'"
            problems.append(Problem(str(doc.at((*path, "to" if rs.to is not None else "role"))), message))
        destination: tuple[str, ...] | None = None
        if rs.to == "nationality":
            destination = ()
        elif rs.to is not None:
            checked = []
            for j, code in enumerate(rs.to):
                try:
                    checked.append(check_country(code))
                except ValueError as exc:
                    problems.append(Problem(str(doc.at((*path, "to", j))), str(exc)))
            if not rs.to:
                problems.append(Problem(str(doc.at((*path, "to"))), "names no country"))
            destination = tuple(checked)
        if kind == "statutory_limit" and rs.role not in ("exclusion", "exception"):
            problems.append(
                Problem(
                    str(doc.at((*path, "role"))), "a statutory limit's rules are exclusions or exceptions"
                )
            )
        when = parse_condition(doc, (*path, "when"), rs.when, problems, definitions)
        if when is None:
            continue
        if _uses_param(when) and kind != "statutory_limit":
            problems.append(
                Problem(
                    str(doc.at((*path, "when"))),
                    "{instrument: receiving_country} is only for statutory limits",
                )
            )
        rules.append(
            Rule(
                rs.id,
                iid,
                rs.role,
                rs.title,
                when,
                tuple(_source(s) for s in rs.sources),
                rs.overrides,
                doc.at(path),
                rs.note,
                tuple(rs.restates),
                (rs.caveat,) if isinstance(rs.caveat, str) else tuple(rs.caveat or ()),
                destination,
                _spanish(title=rs.title_es, caveats=_texts(rs.caveat_es)),
            )
        )
    _check_spanish(spec, doc, problems)
    instrument = Instrument(
        iid,
        head.title,
        kind,
        receiving,
        tuple(head.applies_to),
        tuple(rules),
        tuple(_source(s) for s in head.sources),
        head.summary,
        tuple(head.notes),
        doc.at(("instrument",)),
        head.extends,
        _spanish(title=head.title_es, summary=head.summary_es),
    )
    done[iid] = instrument
    return instrument


_PARTIAL = "the file gives Spanish texts, so it must give them all"


def _check_spanish(spec: RuleFileSpec, doc: Document, problems: list[Problem]) -> None:
    """A rule file that gives a Spanish text anywhere gives one for every title, summary and
    caveat (a file without any is shown in English whatever the language asked)."""
    head = spec.instrument
    if not (head.title_es or head.summary_es or any(r.title_es or r.caveat_es for r in spec.rules)):
        return
    if not head.title_es:
        problems.append(
            Problem(str(doc.at(("instrument", "title"))), f"no Spanish title (title_es): {_PARTIAL}")
        )
    if head.summary and not head.summary_es:
        problems.append(
            Problem(str(doc.at(("instrument", "summary"))), f"no Spanish summary (summary_es): {_PARTIAL}")
        )
    for i, rs in enumerate(spec.rules):
        if not rs.title_es:
            problems.append(
                Problem(
                    str(doc.at(("rules", i, "title"))),
                    f"rule '{rs.id}' has no Spanish title (title_es): {_PARTIAL}",
                )
            )
        english, spanish = _texts(rs.caveat) or (), _texts(rs.caveat_es) or ()
        if len(english) != len(spanish):
            problems.append(
                Problem(
                    str(doc.at(("rules", i, "caveat_es" if rs.caveat_es else "caveat"))),
                    f"rule '{rs.id}' has {len(english)} caveat(s) and {len(spanish)} in Spanish (caveat_es): "
                    "give one Spanish text for each",
                )
            )


def _texts(value: str | list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else ((value,) if isinstance(value, str) else tuple(value))


def _spanish(**texts: Any) -> dict[str, dict[str, Any]]:
    """The translations of an item: {'es': {...}} with the texts the rule file gives."""
    given = {k: v for k, v in texts.items() if v}
    return {"es": given} if given else {}


@dataclass
class _Hosts:
    """The ``official_hosts`` tables read: every official and not-citable host with where it is listed."""

    official: dict[str, Location] = field(default_factory=dict)
    not_citable: dict[str, tuple[str, Location]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def add(self, spec: HostsTableSpec, doc: Document) -> None:
        self.files.append(doc.file)
        for i, row in enumerate(spec.official):
            self.official.setdefault(row.host, doc.at(("official", i, "host")))
        for i, bad in enumerate(spec.not_citable):
            self.not_citable.setdefault(bad.host, (bad.why, doc.at(("not_citable", i, "host"))))

    def check(self, problems: list[Problem]) -> None:
        """A host listed both as official and as not citable (in any of the tables) is a problem."""
        for host, (_why, where) in self.not_citable.items():
            if host in self.official:
                problems.append(
                    Problem(str(where), f"'{host}' is also listed as official (at {self.official[host]})")
                )

    @property
    def named(self) -> str:
        return ", ".join(self.files) or "no official_hosts table"


def _check_citations(doc: Document, hosts: _Hosts, problems: list[Problem]) -> None:
    """Every citation of ``doc`` (a mapping with ``cite``, ``evidence`` and ``url``) against the hosts:
    a primary one links an official host; none links a host that is not citable. One problem per
    citation, at its url, naming what cites it."""
    for path, owner, source in _citations(doc.data, (), "this file"):
        url, evidence = source.get("url"), source.get("evidence")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue  # reported by validation
        host = host_of(url)
        place = str(doc.at((*path, "url")))
        denied = match(host, hosts.not_citable)
        if denied is not None:
            why = hosts.not_citable[denied][0]
            problems.append(
                Problem(
                    place,
                    f"{owner} links {host}, a host no citation may link to: {why}. Link the official "
                    f"text, or a reputable report of it (hosts: {hosts.named})",
                )
            )
        elif evidence == "primary" and match(host, hosts.official) is None:
            problems.append(
                Problem(
                    place,
                    f"{owner} has a primary citation on {host}, which is not an official host. Link "
                    f"the official text, or make the citation secondary (hosts: {hosts.named})",
                )
            )


def _citations(data: Any, path: tuple[Any, ...], owner: str) -> Any:
    """(path, owner, citation) for every citation in a rule file's data, ``owner`` naming what cites
    it: a rule, an instrument, an omission, an invariant, a definition or a data row."""
    if isinstance(data, dict):
        if {"cite", "evidence", "url"} <= set(data):
            yield path, owner, data
            return
        for key, value in data.items():
            yield from _citations(value, (*path, key), _owner(data, path, key, owner))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _citations(value, (*path, i), owner)


def _owner(data: dict[str, Any], path: tuple[Any, ...], key: str, owner: str) -> str:
    """Who cites what lies under ``data[key]`` (``data`` is at ``path``)."""
    parent = next((p for p in reversed(path) if isinstance(p, str)), "")
    if isinstance(data.get("id"), str):
        kinds = {
            "rules": "rule",
            "invariants": "invariant",
            "definitions": "definition",
            "policies": "policy",
        }
        return f"{kinds.get(parent, parent or 'item')} '{data['id']}'"
    if parent == "omit" and isinstance(data.get("rule"), str):
        return f"the omission of rule '{data['rule']}'"
    if isinstance(data.get("country"), str):
        return " ".join(["row", data["country"], *([str(data["treaty"])] if "treaty" in data else [])])
    if isinstance(data.get("status"), str):
        return f"status '{data['status']}'"
    if not path and key == "screened_first_because":
        return "screened_first_because"
    return owner


def _uses_param(cond: Condition) -> bool:
    from eligibility.ruleset.conditions import Param, tests

    return any(isinstance(t.value, Param) for t in tests(cond))


def _check_rule_ids(
    instruments: dict[str, Instrument],
    specs: dict[str, tuple[RuleFileSpec, Document]],
    problems: list[Problem],
) -> None:
    seen: dict[str, Location] = {}
    for _iid, (spec, doc) in specs.items():
        for i, rs in enumerate(spec.rules):
            where = doc.at(("rules", i, "id"))
            if rs.id in seen:
                problems.append(Problem(str(where), f"duplicate rule id '{rs.id}' (first at {seen[rs.id]})"))
            seen.setdefault(rs.id, where)
    for spec, doc in specs.values():
        for i, rs in enumerate(spec.rules):
            for j, other in enumerate(rs.restates):
                if other not in seen:
                    hint = did_you_mean(other, seen)
                    problems.append(
                        Problem(
                            str(doc.at(("rules", i, "restates", j))), f"restates unknown rule '{other}'{hint}"
                        )
                    )


def _build_policies(
    spec: PoliciesFileSpec, doc: Document, instruments: dict[str, Instrument], problems: list[Problem]
) -> dict[str, Policy]:
    policies: dict[str, Policy] = {}
    spanish = any(ps.title_es or ps.description_es for ps in spec.policies) or (
        spec.screened_first_because is not None and spec.screened_first_because.text_es is not None
    )
    for i, ps in enumerate(spec.policies):
        if spanish and not (ps.title_es and ps.description_es):
            problems.append(
                Problem(
                    str(doc.at(("policies", i, "title"))),
                    f"policy '{ps.id}' has no Spanish title or description (title_es, description_es): {_PARTIAL}",
                )
            )
    if spanish and spec.screened_first_because is not None and not spec.screened_first_because.text_es:
        problems.append(
            Problem(str(doc.at(("screened_first_because", "text"))), f"no Spanish text (text_es): {_PARTIAL}")
        )
    for i, ps in enumerate(spec.policies):
        path = ("policies", i)
        if ps.id in policies:
            problems.append(Problem(str(doc.at((*path, "id"))), f"duplicate policy '{ps.id}'"))
        for j, iid in enumerate(ps.instruments):
            if iid not in instruments:
                hint = did_you_mean(iid, instruments)
                problems.append(
                    Problem(str(doc.at((*path, "instruments", j))), f"unknown instrument '{iid}'{hint}")
                )
        agreements = [
            iid
            for iid in ps.instruments
            if iid in instruments and instruments[iid].kind in ("transfer_agreement", "expulsion")
        ]
        staged = [iid for stage in ps.screening for iid in stage]
        for iid in agreements:
            if staged.count(iid) != 1:
                problems.append(
                    Problem(
                        str(doc.at((*path, "screening"))),
                        f"'{iid}' ({instruments[iid].kind}) must appear once in 'screening'",
                    )
                )
        for j, stage in enumerate(ps.screening):
            for k, iid in enumerate(stage):
                if iid not in agreements:
                    problems.append(
                        Problem(
                            str(doc.at((*path, "screening", j, k))),
                            f"'{iid}' is not a transfer agreement or expulsion of this policy",
                        )
                    )
        seen_agreement = False
        for j, stage in enumerate(ps.screening):
            for k, iid in enumerate(stage):
                kind = instruments[iid].kind if iid in instruments else None
                if kind == "expulsion" and seen_agreement:
                    # the searches (diff, verify, a check with unknown facts) read an expulsion
                    # that applies as deciding the answer, as it does when screened first
                    problems.append(
                        Problem(
                            str(doc.at((*path, "screening", j, k))),
                            f"expulsion '{iid}' must be screened before every transfer agreement "
                            "(in an earlier stage)",
                        )
                    )
            seen_agreement = seen_agreement or any(
                iid in instruments and instruments[iid].kind == "transfer_agreement" for iid in stage
            )
        policies[ps.id] = Policy(
            ps.id,
            ps.title,
            ps.description,
            tuple(ps.instruments),
            tuple(tuple(s) for s in ps.screening),
            doc.at(path),
            _spanish(title=ps.title_es, description=ps.description_es),
        )
    return policies


def _build_invariants(
    spec: PoliciesFileSpec,
    doc: Document,
    instruments: dict[str, Instrument],
    problems: list[Problem],
    definitions: Mapping[str, Condition],
) -> list[Invariant]:
    from eligibility.ruleset.specs import NeverStatusSpec

    found = []
    for i, inv in enumerate(spec.invariants):
        path = ("invariants", i)
        when = (
            None
            if inv.when is None
            else parse_condition(doc, (*path, "when"), inv.when, problems, definitions)
        )
        never: str | tuple[tuple[str, ...], frozenset[str]]
        if isinstance(inv.never, NeverStatusSpec):
            named = inv.never.instrument
            named = [named] if isinstance(named, str) else named
            for iid in named:
                if iid not in instruments:
                    problems.append(
                        Problem(str(doc.at((*path, "never", "instrument"))), f"unknown instrument '{iid}'")
                    )
            never = (tuple(named), frozenset(inv.never.status))
        else:
            never = inv.never
        found.append(
            Invariant(inv.id, inv.title, when, never, tuple(_source(s) for s in inv.sources), doc.at(path))
        )
    return found


# -- the rule-set cache ---------------------------------------------------------------------------
#
# Parsing and validating the YAML rule files is most of a command's start-up time, so a valid rule
# set is kept in the user's cache directory (eligibility.cache) as JSON, never as a pickle: the
# allow-listed encoding of eligibility.ruleset.cachecodec, which rebuilds only plain data and the classes
# listed in _codec() (by their declared fields). A class added to the rule set's object graph must
# be added there, or the rule set is never cached (tests/test_cache.py checks that the shipped
# rules are); RuleSet.built (compiled programs, evaluators) is per-process and never stored. The file is named
# by a key made of the files' contents and names, the package's code (file sizes and times), and
# the versions of Python and pydantic. The entry also holds the digest of the rule files it was
# built from, and is used only if that equals the digest of the files just read (and its directory
# the one loaded), so `rules_digest` always describes those files. Invalid rule files are never
# cached (their errors are reported every time). ELIGIBILITY_NO_CACHE=1 turns the cache off;
# ELIGIBILITY_CACHE_DIR moves it. A cache file that cannot be read or fails validation is ignored
# (with a notice) and rewritten.


def _cache_key(digest: str, names: list[tuple[str, str]], shown: str, package: Path | None = None) -> str:
    """The cache key of a rule set: its files, and every module of the code that builds it
    (``package``, default this package, subpackages included)."""
    import sys

    import pydantic

    package = package or Path(__file__).resolve().parents[1]
    code = [
        (f.relative_to(package).as_posix(), f.stat().st_size, f.stat().st_mtime_ns)
        for f in sorted(package.rglob("*.py"))
    ]
    parts = [digest, repr(names), shown, sys.version, pydantic.VERSION, repr(code)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _codec() -> Any:
    """The cache's JSON codec (eligibility.ruleset.cachecodec.Codec): the classes a cached rule set holds."""
    from eligibility.ruleset.cachecodec import Codec
    from eligibility.ruleset.conditions import All, Any_, Not, Param, Test

    classes = (RuleSet, Instrument, Rule, Invariant, Policy, Source, Location, Context, TreatyTable, Reason)
    return Codec((*classes, Test, All, Any_, Not, Param), {RuleSet: ("built",)})


def _from_cache(key: str, digest: str, shown: str) -> RuleSet | None:
    from eligibility import cache
    from eligibility.ruleset.cachecodec import CacheFormatError

    name = f"rules-{key}.json"
    payload = cache.load(name, key)
    if payload is None:
        return None
    try:
        ruleset = _codec().decode(payload)
    except CacheFormatError:
        ruleset = None
    if not isinstance(ruleset, RuleSet) or ruleset.digest != digest or ruleset.directory != shown:
        cache.reject(name, "not a valid rule set for these rule files")
        return None
    return ruleset


def _to_cache(key: str, ruleset: RuleSet) -> None:
    from eligibility import cache
    from eligibility.ruleset.cachecodec import Unencodable

    try:
        payload = _codec().encode(ruleset).encode()
    except Unencodable:  # a value the encoding does not know: run without the cache
        return
    cache.store(f"rules-{key}.json", key, payload)
