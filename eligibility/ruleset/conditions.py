"""The condition vocabulary of rule files: parsing, and the pure three-valued evaluator.

A condition is a small tree: ``all`` / ``any`` / ``not`` over tests of one fact each, such as
``{entry.date: {on_or_after: 2019-11-19}}`` or ``{nationalities: {contains: GT}}``. The vocabulary
is closed: no Python, no expressions, no templating. Two references: ``{instrument:
receiving_country}``, bound when a statutory limit is applied to an agreement, and ``defined:
NAME``, a legal term defined once in ``rules/definitions.yaml`` and spliced in where it is named.

Evaluation is three-valued (Kleene): a test on an unknown fact is ``None``; ``all`` is false as
soon as one item is false, ``any`` true as soon as one is true.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from eligibility.errors import Problem, did_you_mean
from eligibility.ruleset.facts import CATALOGUE, UNKNOWN, Fact, FactValue, check_value
from eligibility.yamlsource import Document, Location, Path

# operator -> fact types it applies to
OPERATORS: dict[str, frozenset[str]] = {
    "eq": frozenset({"bool", "int", "date", "enum", "country", "state"}),
    "ne": frozenset({"bool", "int", "date", "enum", "country", "state"}),
    "in": frozenset({"int", "enum", "country", "state"}),
    "not_in": frozenset({"int", "enum", "country", "state"}),
    "lt": frozenset({"int", "date"}),
    "le": frozenset({"int", "date"}),
    "gt": frozenset({"int", "date"}),
    "ge": frozenset({"int", "date"}),
    "contains": frozenset({"countries"}),
    "not_contains": frozenset({"countries"}),
    "contains_any": frozenset({"countries"}),
    "contains_none": frozenset({"countries"}),
    "empty": frozenset({"countries"}),
}
ALIASES = {"before": "lt", "on_or_after": "ge", "after": "gt", "on_or_before": "le"}
NEGATION = {
    "eq": "ne",
    "ne": "eq",
    "in": "not_in",
    "not_in": "in",
    "lt": "ge",
    "ge": "lt",
    "le": "gt",
    "gt": "le",
    "contains": "not_contains",
    "not_contains": "contains",
    "contains_any": "contains_none",
    "contains_none": "contains_any",
}
LIST_OPERATORS = frozenset({"in", "not_in", "contains_any", "contains_none"})
PHRASES = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "lt": "is before",
    "le": "is on or before",
    "gt": "is after",
    "ge": "is on or after",
    "contains": "includes",
    "not_contains": "does not include",
    "contains_any": "includes one of",
    "contains_none": "includes none of",
}
INT_PHRASES = {"lt": "is under", "le": "is at most", "gt": "is over", "ge": "is at least"}


@dataclass(frozen=True)
class Param:
    """A reference to an attribute of the instrument a statutory limit is applied to."""

    name: str


Constant = FactValue | tuple[FactValue, ...] | Param


@dataclass(frozen=True)
class Test:
    """One fact compared with a constant."""

    fact: str
    op: str
    value: Constant
    location: Location = field(compare=False)


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]
    location: Location = field(compare=False)


@dataclass(frozen=True)
class Any_:
    items: tuple[Condition, ...]
    location: Location = field(compare=False)


@dataclass(frozen=True)
class Not:
    item: Condition
    location: Location = field(compare=False)


Condition = Test | All | Any_ | Not
Truth = bool | None


@dataclass(frozen=True)
class PartialSet:
    """A set-valued fact known only in part: some members known in, some known out.

    ``universe`` is every country the rules name plus one standing for any other; members not yet
    known are undecided. Splitting on one member at a time keeps the partition binary.
    """

    included: frozenset[str]
    excluded: frozenset[str]
    universe: frozenset[str]
    # (member, members): an included member standing for any of ``members``, which the rules
    # treat alike (a search splits on them as one); the others stay undecided
    alike: frozenset[tuple[str, frozenset[str]]] = frozenset()

    @property
    def undecided(self) -> frozenset[str]:
        return self.universe - self.included - self.excluded

    def with_member(self, member: str, present: bool) -> PartialSet:
        if present:
            return replace(self, included=self.included | {member})
        return replace(self, excluded=self.excluded | {member})


# ---------------------------------------------------------------- parsing


def parse_condition(
    doc: Document,
    path: Path,
    raw: Any,
    problems: list[Problem],
    definitions: Mapping[str, Condition] | None = None,
) -> Condition | None:
    """Parse the raw YAML of a ``when`` into a condition tree; report problems with their place.

    ``defined: NAME`` stands for the condition of a legal term defined once in the rule files
    (``definitions`` in policies.yaml, each with its sources), spliced in where it is used."""
    loc = doc.at(path)
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem(str(loc), "a condition is a mapping: all, any, not, or fact names"))
        return None
    parts: list[Condition] = []
    for key, value in raw.items():
        key_loc = doc.marks.get((*path, key, "__key__"), loc)
        sub = (*path, key)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                problems.append(Problem(str(key_loc), f"'{key}' takes a non-empty list of conditions"))
                continue
            items = [parse_condition(doc, (*sub, i), v, problems, definitions) for i, v in enumerate(value)]
            if all(items):
                node = tuple(i for i in items if i is not None)
                parts.append(All(node, key_loc) if key == "all" else Any_(node, key_loc))
        elif key == "not":
            item = parse_condition(doc, sub, value, problems, definitions)
            if item is not None:
                parts.append(Not(item, key_loc))
        elif key == "defined":
            known = definitions or {}
            if not isinstance(value, str) or value not in known:
                hint = did_you_mean(value, known) if isinstance(value, str) else ""
                problems.append(Problem(str(key_loc), f"unknown definition {value!r}{hint}"))
                continue
            term = known[value]
            parts.extend(term.items if isinstance(term, All) else (term,))  # one level, as if written here
        else:
            parts.extend(_parse_tests(doc, sub, key, value, key_loc, problems))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else All(tuple(parts), loc)


def _parse_tests(
    doc: Document, path: Path, name: str, raw: Any, loc: Location, problems: list[Problem]
) -> Iterator[Test]:
    fact = CATALOGUE.get(name)
    if fact is None:
        within = sorted(f for f in CATALOGUE if f.startswith(name + "."))  # a case field's derived facts
        hint = (
            " (the facts of that field are " + ", ".join(f"'{f}'" for f in within) + ")"
            if within
            else did_you_mean(name, [*CATALOGUE, "all", "any", "not"])
        )
        problems.append(Problem(str(loc), f"unknown fact '{name}'{hint}"))
        return
    if not isinstance(raw, dict):
        raw = {"eq": raw}  # shorthand: ``unaccompanied: true``
    if not raw:
        problems.append(Problem(str(loc), f"'{name}' needs an operator, e.g. eq"))
    for op_name, value in raw.items():
        op_loc = doc.marks.get((*path, op_name, "__key__"), loc)
        op = ALIASES.get(op_name, op_name)
        if op not in OPERATORS:
            hint = did_you_mean(op_name, [*OPERATORS, *ALIASES])
            problems.append(Problem(str(op_loc), f"unknown operator '{op_name}'{hint}"))
            continue
        if fact.type not in OPERATORS[op]:
            problems.append(
                Problem(str(op_loc), f"operator '{op_name}' does not apply to '{name}' ({fact.type})")
            )
            continue
        constant = _constant(fact, op, value, str(doc.at((*path, op_name))), problems)
        if constant is not None:
            yield Test(name, op, constant, op_loc)


def _constant(fact: Fact, op: str, value: Any, place: str, problems: list[Problem]) -> Constant | None:
    if op == "empty":
        if not isinstance(value, bool):
            problems.append(Problem(place, "'empty' takes true or false"))
            return None
        return value
    if isinstance(value, dict) and set(value) == {"instrument"}:
        # a set of words (family members) is typed "countries" too, but holds no country
        is_country = fact.type in ("country", "countries") and not fact.values
        if value["instrument"] != "receiving_country" or not is_country:
            problems.append(
                Problem(place, "the only reference is {instrument: receiving_country}, on a country fact")
            )
            return None
        return Param("receiving_country")
    as_country = replace(fact, type="country") if fact.type == "countries" else fact
    try:
        if op in LIST_OPERATORS:
            if not isinstance(value, list) or not value:
                problems.append(Problem(place, f"'{op}' takes a non-empty list"))
                return None
            return tuple(sorted({check_value(as_country, v) for v in value}, key=str))
        return check_value(as_country, value)
    except ValueError as exc:
        problems.append(Problem(place, str(exc)))
        return None


# ---------------------------------------------------------------- transformations


def bind(cond: Condition, params: Mapping[str, FactValue]) -> Condition:
    """Replace every ``{instrument: ...}`` reference by its value."""
    if isinstance(cond, Test):
        if isinstance(cond.value, Param):
            return replace(cond, value=params[cond.value.name])
        return cond
    if isinstance(cond, Not):
        return replace(cond, item=bind(cond.item, params))
    return replace(cond, items=tuple(bind(i, params) for i in cond.items))


def negate(cond: Condition) -> Condition:
    """The condition that holds exactly when ``cond`` does not (De Morgan down to the tests).

    Exact because every fact an engine sees is known and of its declared type.
    """
    if isinstance(cond, Test):
        if cond.op == "empty":
            return replace(cond, value=not cond.value)
        return replace(cond, op=NEGATION[cond.op])
    if isinstance(cond, Not):
        return push_negations(cond.item)
    if isinstance(cond, All):
        return Any_(tuple(negate(i) for i in cond.items), cond.location)
    return All(tuple(negate(i) for i in cond.items), cond.location)


def push_negations(cond: Condition) -> Condition:
    """The same condition with no ``not`` left (for engines that have no negation)."""
    if isinstance(cond, Test):
        return cond
    if isinstance(cond, Not):
        return negate(cond.item)
    items = tuple(push_negations(i) for i in cond.items)
    return All(items, cond.location) if isinstance(cond, All) else Any_(items, cond.location)


def tests(cond: Condition) -> Iterator[Test]:
    """Every test in the condition, in source order."""
    if isinstance(cond, Test):
        yield cond
    elif isinstance(cond, Not):
        yield from tests(cond.item)
    else:
        for item in cond.items:
            yield from tests(item)


# ---------------------------------------------------------------- evaluation


def holds(cond: Condition, facts: Mapping[str, Any]) -> Truth:
    """Three-valued truth of ``cond``: True, False, or None when unknown facts decide it."""
    if isinstance(cond, Test):
        return holds_for(cond, facts[cond.fact])
    if isinstance(cond, Not):
        inner = holds(cond.item, facts)
        return None if inner is None else not inner
    unknown = False
    if isinstance(cond, All):
        for item in cond.items:
            value = holds(item, facts)
            if value is False:
                return False
            unknown = unknown or value is None
        return None if unknown else True
    for item in cond.items:
        value = holds(item, facts)
        if value is True:
            return True
        unknown = unknown or value is None
    return None if unknown else False


def holds_for(test: Test, actual: Any) -> Truth:
    if actual is UNKNOWN:
        return None
    if isinstance(actual, PartialSet):
        return _partial(test, actual)
    op, value = test.op, test.value
    if op == "eq":
        return bool(actual == value)
    if op == "ne":
        return bool(actual != value)
    if op == "in":
        return actual in value  # type: ignore[operator]
    if op == "not_in":
        return actual not in value  # type: ignore[operator]
    if op == "lt":
        return bool(actual < value)
    if op == "le":
        return bool(actual <= value)
    if op == "gt":
        return bool(actual > value)
    if op == "ge":
        return bool(actual >= value)
    if op == "contains":
        return value in actual
    if op == "not_contains":
        return value not in actual
    if op == "contains_any":
        return any(v in actual for v in value)  # type: ignore[union-attr]
    if op == "contains_none":
        return not any(v in actual for v in value)  # type: ignore[union-attr]
    if op == "empty":
        return (len(actual) == 0) == value
    raise AssertionError(f"operator {op}")


def _partial(test: Test, actual: PartialSet) -> Truth:
    op, value = test.op, test.value
    if op == "empty":
        if actual.included:
            return not value
        return bool(value) if not actual.undecided else None
    members = value if isinstance(value, tuple) else (value,)
    if any(m in actual.included for m in members):
        found: Truth = True
    elif all(m in actual.excluded for m in members):
        found = False
    else:
        return None
    return found if op in ("contains", "contains_any") else not found


# ---------------------------------------------------------------- words


def describe(test: Test) -> str:
    """The test in words: ``entry.date is on or after 2019-11-19``."""
    if test.op == "empty":
        return f"{test.fact} is {'empty' if test.value else 'not empty'}"
    fact = CATALOGUE[test.fact]
    phrase = INT_PHRASES.get(test.op, PHRASES[test.op]) if fact.type == "int" else PHRASES[test.op]
    return f"{test.fact} {phrase} {show(test.value)}"


def show(value: Any) -> str:
    """A fact value or constant as a reader would write it."""
    if value is UNKNOWN:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (tuple, list, frozenset, set)):
        items = sorted(value, key=str)
        return "[" + ", ".join(show(v) for v in items) + "]"
    return str(value)


# ---------------------------------------------------------------- compiled truth (known facts)

_COMPARE = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in": "in",
    "not_in": "not in",
}


def compile_truths(conditions: Sequence[Condition]) -> Callable[[Mapping[str, Any]], tuple[bool, ...]]:
    """One Python function giving the truth of every condition at once, for facts that are all
    known: two-valued, so it must not see UNKNOWN or a PartialSet (``holds`` is the reference;
    the tests check the two agree)."""
    names: dict[str, str] = {}
    constants: dict[str, Any] = {}

    def fact(name: str) -> str:
        return names.setdefault(name, f"v{len(names)}")

    def const(value: Any) -> str:
        key = f"c{len(constants)}"
        constants[key] = value
        return key

    def expr(cond: Condition) -> str:
        if isinstance(cond, Test):
            v, op = fact(cond.fact), cond.op
            if op in _COMPARE:
                return f"({v} {_COMPARE[op]} {const(cond.value)})"
            if op == "contains":
                return f"({const(cond.value)} in {v})"
            if op == "not_contains":
                return f"({const(cond.value)} not in {v})"
            if op == "contains_any":
                return f"(not {v}.isdisjoint({const(cond.value)}))"
            if op == "contains_none":
                return f"{v}.isdisjoint({const(cond.value)})"
            if op == "empty":
                return f"((len({v}) == 0) == {const(cond.value)})"
            raise AssertionError(f"operator {op}")
        if isinstance(cond, Not):
            return f"(not {expr(cond.item)})"
        if not cond.items:
            return "True" if isinstance(cond, All) else "False"
        joiner = " and " if isinstance(cond, All) else " or "
        return "(" + joiner.join(expr(i) for i in cond.items) + ")"

    body = [expr(c) for c in conditions]
    loads = [f"    {v} = f[{name!r}]" for name, v in names.items()]
    source = "\n".join(
        ["def truths(f):", *loads, "    return (" + ", ".join(body) + ("," if len(body) == 1 else "") + ")"]
    )
    namespace: dict[str, Any] = dict(constants)
    exec(
        compile(source, "<compiled rules>", "exec"), namespace
    )  # source built above from validated rules only
    function: Callable[[Mapping[str, Any]], tuple[bool, ...]] = namespace["truths"]
    return function
