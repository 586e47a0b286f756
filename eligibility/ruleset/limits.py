"""What the durable-rules engine can take: the expressions it is given for our conditions, and a
model of the alpha network it builds from them, so that the loader refuses a rule the engine
cannot run and the engine (eligibility.engine.durable, the only module that imports durable-rules)
keeps every ruleset it creates inside the engine's fixed-size tables.

durable-rules 2.0.28 (jruizgit/rules, ``src/rules/rete.c`` and ``events.c``) builds one tree of
*alpha nodes* per ruleset: a test under the same parent with the same attribute, operator and value
is shared by every rule that makes it; ``$or`` adds a *forward* node that each branch links to;
``$iany``/``$iall`` nodes are never shared. Its tables have fixed sizes, and going past them is
either an error code or worse:

* matching walks the nodes a fact reaches with a stack of 64 entries (``MAX_STACK_SIZE``): a node
  pushes every child the fact matches and every forward node hanging off it. Past 64,
  ``assert_fact`` fails with error 303, and deleting that case's state afterwards crashes the
  process (``free(): invalid pointer``). Measured: 64 rules ``in: [a, b]`` on one attribute pass,
  65 fail; 64 rules ``ge: N`` with distinct N pass, 65 fail;
* a node links at most 128 forward nodes (error 107 when creating the ruleset: 129 ``in`` rules on
  one value), 256 rules ending on the same node (error 108), and 512 children (error 106; looking
  for a new child in a full table never returns, the hang of more than ~500 similar rules);
* one rule's ``$and``/``$or`` nodes fill a 32-entry sequence, two entries each (error 113 with 16).

``plan`` splits a program's rules into the fewest consecutive groups, each of which the model
shows stays inside every limit for every fact; each group becomes its own ruleset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eligibility.ruleset.conditions import All, Any_, Condition, Not, Test, push_negations

MAX_RULES = 500
"""Bound rules in one policy (more make a ruleset that hangs or fails, and a slow engine)."""
ANCHOR = {"kind": "case"}
STACK = 64
FORWARDS = 128
BETAS = 256
CHILDREN = 400  # of 512 buckets (linear probing; a full table makes the lookup loop forever)
EXPRESSIONS = 31  # entries of a rule's $and/$or sequence (the 32nd is error 113)
COMPARISONS = {"$lt", "$lte", "$gt", "$gte", "$neq"}


def attribute(fact: str) -> str:
    """The durable attribute name of a fact (durable flattens dotted names into paths)."""
    return fact.replace(".", "__")


def encode_value(value: Any) -> Any:
    """A fact value or constant as durable-rules compares it: dates become day numbers."""
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, frozenset):
        return sorted(value)
    return value


def compile_condition(cond: Condition) -> dict[str, Any]:
    """A condition (without ``not``) as a durable-rules expression."""
    if isinstance(cond, Not):
        return compile_condition(push_negations(cond))
    if isinstance(cond, All):
        return {"$and": [compile_condition(c) for c in cond.items]}
    if isinstance(cond, Any_):
        return {"$or": [compile_condition(c) for c in cond.items]}
    return _compile_test(cond)


def _compile_test(test: Test) -> dict[str, Any]:
    name, op = attribute(test.fact), test.op
    value = encode_value(test.value)
    length = name + "__len"
    if op == "eq":
        return {name: value}
    if op == "ne":
        return {"$neq": {name: value}}
    if op in ("lt", "le", "gt", "ge"):
        return {{"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}[op]: {name: value}}
    if op == "in":
        return {"$or": [{name: encode_value(v)} for v in test.value]}  # type: ignore[union-attr]
    if op == "not_in":
        return {"$and": [{"$neq": {name: encode_value(v)}} for v in test.value]}  # type: ignore[union-attr]
    if op == "contains":
        return {"$iany": {name: {"$i": value}}}
    if op == "contains_any":
        # One $iany per value, never an $or inside one: durable-rules (2.0.28) builds that $or's
        # forward node without setting its right-hand type, then reads it (rete.c, createAlpha),
        # so such a ruleset is refused with error 102 whenever the heap holds the wrong byte there.
        return {"$or": [{"$iany": {name: {"$i": v}}} for v in value]}
    if op == "not_contains":
        return {"$or": [{length: 0}, {"$iall": {name: {"$neq": {"$i": value}}}}]}
    if op == "contains_none":
        every_differs = {"$and": [{"$neq": {"$i": v}} for v in value]}
        return {"$or": [{length: 0}, {"$iall": {name: every_differs}}]}
    if op == "empty":
        return {length: 0} if test.value else {"$gt": {length: 0}}
    raise AssertionError(f"operator {op}")


@dataclass(eq=False)
class _Node:
    attribute: str = ""
    op: str = ""
    value: Any = None
    children: dict[tuple[str, str, str], _Node] = field(default_factory=dict)
    unshared: list[_Node] = field(default_factory=list)  # $iany / $iall children
    forwards: list[_Node] = field(default_factory=list)
    betas: int = 0


class Network:
    """The alpha network of a list of rule patterns, built the way durable-rules builds it."""

    def __init__(self) -> None:
        self.root = _Node()
        self.worst = 0  # the largest expression sequence of one rule

    def add(self, pattern: Mapping[str, Any]) -> None:
        """Add one rule's pattern (the ``m`` expression)."""
        self._count = 0
        end = self._build(pattern, self.root)
        end.betas += 1
        self.worst = max(self.worst, self._count)

    def _build(self, expr: Mapping[str, Any], parent: _Node) -> _Node:
        [(key, value)] = expr.items()
        if key in ("$and", "$or"):
            self._count += 2
            if key == "$and":
                node = parent
                for item in value:
                    node = self._build(item, node)
                return node
            forward = _Node("$forward")
            for item in value:
                self._build(item, parent).forwards.append(forward)
            return forward
        if key in ("$iany", "$iall"):
            [(attribute, inner)] = value.items()
            node = _Node(attribute, key)
            self._count += _sequence(inner)
            parent.unshared.append(node)
            return node
        if key in COMPARISONS:
            [(attribute, constant)] = value.items()
            op = key
        else:
            attribute, constant, op = key, value, "$eq"
        ident = (attribute, op, repr(constant))
        found = parent.children.get(ident)
        if found is None:
            found = parent.children[ident] = _Node(attribute, op, constant)
        return found

    def problems(self) -> list[str]:
        """What would overflow durable-rules' tables (empty when nothing would)."""
        found: list[str] = []
        if self.worst > EXPRESSIONS:
            found.append(
                f"a rule has {self.worst // 2} all/any nodes (durable-rules takes {EXPRESSIONS // 2})"
            )
        depth = self._stack(self.root, {})
        if depth > STACK:
            found.append(f"matching may need {depth} stack entries (durable-rules has {STACK})")
        for node in self._nodes():
            if len(node.forwards) >= FORWARDS:
                found.append(
                    f"{len(node.forwards)} 'any' or list tests share one node (limit {FORWARDS - 1})"
                )
            if node.betas >= BETAS:
                found.append(f"{node.betas} rules have the same condition (limit {BETAS - 1})")
            if len(node.children) + len(node.unshared) > CHILDREN:
                found.append(
                    f"{len(node.children) + len(node.unshared)} tests under one node (limit {CHILDREN})"
                )
        return found

    def _nodes(self) -> list[_Node]:
        seen: dict[int, _Node] = {}
        todo = [self.root]
        while todo:
            node = todo.pop()
            if id(node) not in seen:
                seen[id(node)] = node
                todo += [*node.children.values(), *node.unshared, *node.forwards]
        return list(seen.values())

    def _stack(self, node: _Node, memo: dict[int, int]) -> int:
        """The most stack entries matching can use below ``node``, once it is popped: it pushes
        every forward node and every child the fact may match (children testing one attribute for
        equality with different values: one at most), and the worst child is explored first."""
        found = memo.get(id(node))
        if found is not None:
            return found
        memo[id(node)] = 0  # the model is a DAG; this only guards against surprises
        by_attribute: dict[str, list[_Node]] = {}
        for child in node.children.values():
            by_attribute.setdefault(child.attribute, []).append(child)
        pushed = len(node.forwards) + len(node.unshared)
        pushed += sum(_most_matching(tests) for tests in by_attribute.values())
        below = max((self._stack(c, memo) for c in self._children(node)), default=0)
        depth = max(pushed, pushed - 1 + below) if pushed else 0
        memo[id(node)] = depth
        return depth

    @staticmethod
    def _children(node: _Node) -> list[_Node]:
        return [*node.children.values(), *node.unshared, *node.forwards]


_HOLDS = {
    "$eq": lambda a, c: a == c,
    "$neq": lambda a, c: a != c,
    "$lt": lambda a, c: a < c,
    "$lte": lambda a, c: a <= c,
    "$gt": lambda a, c: a > c,
    "$gte": lambda a, c: a >= c,
}


def _most_matching(tests: list[_Node]) -> int:
    """How many of these tests of one attribute one value can pass at once (the value is a
    number or a string, and every constant here is of that kind: the facts are typed)."""
    if len(tests) == 1:
        return 1
    constants = {t.value for t in tests}
    if not all(isinstance(c, int) and not isinstance(c, bool) for c in constants):
        if any(t.op not in ("$eq", "$neq") for t in tests):
            return len(tests)  # an order on text or a mix of kinds: assume every test passes
        points: set[Any] = {*constants, object()}
    else:
        points = {c + d for c in constants for d in (-1, 0, 1)}
    return max(sum(1 for t in tests if _passes(t, p)) for p in points)


def _passes(test: _Node, value: Any) -> bool:
    try:
        return bool(_HOLDS[test.op](value, test.value))
    except TypeError:
        return test.op == "$neq"


def _sequence(expr: Any) -> int:
    """The $and/$or entries inside an $iany/$iall (they share the rule's sequence)."""
    if isinstance(expr, dict):
        return sum((2 if k in ("$and", "$or") else 0) + _sequence(v) for k, v in expr.items())
    if isinstance(expr, list):
        return sum(_sequence(v) for v in expr)
    return 0


def plan(patterns: Sequence[tuple[str, Mapping[str, Any]]], shared: Mapping[str, Any]) -> list[list[str]]:
    """The rule names split into consecutive groups whose networks (each with ``shared``, the
    catch-all pattern) stay inside durable-rules' limits. Raises ValueError naming a rule that
    does not fit even alone."""
    groups: list[list[str]] = []
    start = 0
    while start < len(patterns):
        if not _fits(patterns[start : start + 1], shared):
            name, found = patterns[start][0], _check(patterns[start : start + 1], shared)
            raise ValueError(f"rule {name} alone does not fit durable-rules: {'; '.join(found)}")
        # the longest run from start that fits: whole, else doubling, then halving the gap
        low, high = start + 1, len(patterns)
        if not _fits(patterns[start:high], shared):
            step = 1
            while low + step < high and _fits(patterns[start : low + step], shared):
                low, step = low + step, step * 2
            high = min(high - 1, low + step - 1)
            while low < high:
                middle = (low + high + 1) // 2
                if _fits(patterns[start:middle], shared):
                    low = middle
                else:
                    high = middle - 1
        else:
            low = high
        groups.append([name for name, _ in patterns[start:low]])
        start = low
    return groups


def _check(patterns: Sequence[tuple[str, Mapping[str, Any]]], shared: Mapping[str, Any]) -> list[str]:
    network = Network()
    network.add(shared)
    for _, pattern in patterns:
        network.add(pattern)
    return network.problems()


def _fits(patterns: Sequence[tuple[str, Mapping[str, Any]]], shared: Mapping[str, Any]) -> bool:
    return not _check(patterns, shared)


def rule_problems(cond: Condition) -> list[str]:
    """Why one rule's condition, compiled alone, would not fit durable-rules (empty if it fits)."""
    return _check([("", {"$and": [ANCHOR, compile_condition(cond)]})], ANCHOR)
