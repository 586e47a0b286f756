"""The durable-rules boundary: the only module that imports durable-rules.

A program becomes one durable-rules ruleset: one rule per bound rule, named by its key, over a
single fact per case. Everything durable-specific stays here, and each of its measured traps
(pinned in tests/test_durable_traps.py) is handled on purpose:

* the public ``Host`` API starts timer threads, swallows exceptions raised in actions and is ~5x
  slower: we call the C API (``durable_rules_engine``) directly, with no actions at all;
* live sessions are capped at 1,024 per ruleset and session ids are compared by 32-bit hash only,
  so two ids can share state: every case uses the same session id, and its state is deleted
  before the next case;
* ``delete_state`` crashes when a case matched no rule: a catch-all rule (``__case__``) matches
  every case, and its activation is drained like the others;
* ``$or`` fires a rule once per true branch: activations are collected into a set;
* strings and numbers compare as text, and a missing attribute makes even ``$neq`` false: every
  fact is sent, known and typed, with dates as day numbers;
* there is no negation: ``not`` is pushed down to the tests (De Morgan), exact on total facts;
* ``$iall`` is false on an empty list: "contains none" is written ``len == 0 or all differ``;
* a rule made only of ``$nex`` loops forever: every rule is anchored on ``kind == "case"``;
* rulesets hang or fail with more than ~500 rules under one node: compiling refuses more than
  ``MAX_RULES``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Mapping
from typing import Any

import durable_rules_engine as _dre

from eligibility.engine.program import Program
from eligibility.errors import EligibilityError
from eligibility.ruleset.conditions import All, Any_, Condition, Not, Test, push_negations

MAX_RULES = 500
CATCH_ALL = "__case__"
SESSION = "0"
_ruleset_names = itertools.count()


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
        return {"$iany": {name: {"$or": [{"$i": v} for v in value]}}}
    if op == "not_contains":
        return {"$or": [{length: 0}, {"$iall": {name: {"$neq": {"$i": value}}}}]}
    if op == "contains_none":
        every_differs = {"$and": [{"$neq": {"$i": v}} for v in value]}
        return {"$or": [{length: 0}, {"$iall": {name: every_differs}}]}
    if op == "empty":
        return {length: 0} if test.value else {"$gt": {length: 0}}
    raise AssertionError(f"operator {op}")


def compile_program(program: Program) -> dict[str, Any]:
    """The durable-rules ruleset definition of a program (JSON-ready)."""
    if len(program.rules) > MAX_RULES:
        raise EligibilityError(
            f"policy '{program.policy.id}' has {len(program.rules)} rules; durable-rules hangs or "
            f"fails above about 500 in one ruleset (limit {MAX_RULES})"
        )
    anchor = {"kind": "case"}
    definition: dict[str, Any] = {
        b.key: {"all": [{"m": {"$and": [anchor, compile_condition(b.when)]}}]} for b in program.rules
    }
    definition[CATCH_ALL] = {"all": [{"m": anchor}]}
    return definition


def encode_facts(facts: Mapping[str, Any], counter: int) -> str:
    """One case as the JSON fact durable-rules receives; every fact must be known."""
    message: dict[str, Any] = {"kind": "case", "sid": SESSION, "id": counter}
    for name, value in facts.items():
        encoded = encode_value(value)
        if not isinstance(encoded, (bool, int, str, list)):
            raise EligibilityError(f"fact '{name}' is not known ({value!r}); durable-rules needs every fact")
        message[attribute(name)] = encoded
        if isinstance(encoded, list):
            message[attribute(name) + "__len"] = len(encoded)
    return json.dumps(message, ensure_ascii=False)


CREATE_ATTEMPTS = 3
"""durable-rules (2.0.28) now and then rejects a valid ruleset definition that the same process
accepts on another try ("Could not create ruleset, error code: 102", ERR_UNEXPECTED_TYPE, seen in
fresh processes under load with a byte-identical definition): creating it is tried this often."""


class RulesetRefused(RuntimeError):
    """durable-rules refused the ruleset's definition on every try (``engine_for`` then uses the
    pure evaluator, and determinations say so)."""


class DurableEngine:
    """Runs a program in durable-rules through its C API, one case at a time."""

    name = "durable-rules"

    def __init__(self, program: Program) -> None:
        self.program = program
        self._facts = sorted(program.facts_used)
        definition = json.dumps(compile_program(program), ensure_ascii=False)
        for attempt in range(CREATE_ATTEMPTS):
            self._name = f"eligibility-{program.policy.id}-{next(_ruleset_names)}"
            try:
                self._handle = _dre.create_ruleset(self._name, definition)
                break
            except Exception as exc:  # durable-rules' own error type; the same definition usually passes
                if attempt == CREATE_ATTEMPTS - 1:
                    raise RulesetRefused(
                        f"durable-rules refused the ruleset {CREATE_ATTEMPTS} times: {exc}"
                    ) from exc
        self._counter = itertools.count(1)

    def fired(self, facts: Mapping[str, Any]) -> frozenset[str]:
        message = encode_facts({f: facts[f] for f in self._facts}, next(self._counter))
        handle = self._handle
        fired: set[str] = set()
        try:
            code, state = _dre.assert_fact(handle, message)
            if code == 0:
                result = _dre.start_action_for_state(handle, state)
                activation = result[1] if result else None
                while activation:
                    fired.add(activation[2 : activation.index('"', 2)])
                    activation = _dre.complete_and_start_action(handle, state)
        finally:
            _dre.delete_state(handle, SESSION)
        fired.discard(CATCH_ALL)
        return frozenset(fired)
