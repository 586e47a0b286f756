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
  ``MAX_RULES``;
* matching a fact walks a stack of 64 nodes, and a node holds at most 128 ``$or`` branches, 256
  rules ending on it and 512 children (eligibility.ruleset.limits): past the stack, ``assert_fact``
  fails (error 303) and deleting the state afterwards crashes the process. A program is split into
  as few rulesets as keep every one of them inside those limits (the shipped ``enacted`` needs two;
  in one, a case with many nationalities and late dates overflowed the stack), and a failed
  ``assert_fact`` never has its state deleted;
* an ``$or`` inside an ``$iany``/``$iall`` leaves a node's type unset, which durable-rules then
  reads: the ruleset is refused (error 102) whenever the heap happens to hold the wrong byte there,
  so "contains any of" is compiled as an ``$or`` of ``$iany`` tests, one per value;
* rulesets are kept by the digest of their definition, so loading the same rules again (a server
  reloading its rules, another thread) reuses them instead of growing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import durable_rules_engine as _dre

from eligibility.engine.program import Program
from eligibility.errors import EligibilityError
from eligibility.ruleset import limits
from eligibility.ruleset.limits import MAX_RULES, attribute, compile_condition, encode_value

__all__ = ["MAX_RULES", "attribute", "compile_condition", "encode_value"]
CATCH_ALL = "__case__"
ANCHOR = {"kind": "case"}
SESSION = "0"
_ruleset_names = itertools.count()


def compile_program(program: Program) -> dict[str, Any]:
    """The durable-rules ruleset definition of a program (JSON-ready)."""
    if len(program.rules) > MAX_RULES:
        raise EligibilityError(
            f"policy '{program.policy.id}' has {len(program.rules)} rules; durable-rules hangs or "
            f"fails above about 500 in one ruleset (limit {MAX_RULES})"
        )
    definition: dict[str, Any] = {
        b.key: {"all": [{"m": {"$and": [ANCHOR, compile_condition(b.when)]}}]} for b in program.rules
    }
    definition[CATCH_ALL] = {"all": [{"m": ANCHOR}]}
    return definition


def compile_rulesets(program: Program) -> list[dict[str, Any]]:
    """The program as the fewest durable-rules rulesets that each stay inside durable-rules'
    fixed limits (eligibility.ruleset.limits), each with the catch-all rule. Raises
    RulesetRefused for a rule too large for durable-rules even alone (rules lint refuses those)."""
    definition = compile_program(program)
    patterns = [(k, v["all"][0]["m"]) for k, v in definition.items() if k != CATCH_ALL]
    key = _plan_key(definition)
    groups = _cached_plan(key, [k for k, _ in patterns])
    if groups is None:
        try:
            groups = limits.plan(patterns, ANCHOR)
        except ValueError as exc:
            raise RulesetRefused(str(exc)) from None
        _store_plan(key, groups)
    return [{**{k: definition[k] for k in group}, CATCH_ALL: definition[CATCH_ALL]} for group in groups]


# Planning the split (``limits.plan``) builds the model of durable-rules' network a dozen times:
# ~10 ms, paid by every process that checks a case. The plan depends only on the definition and
# on the model (eligibility/ruleset/limits.py), so it is kept in the cache (eligibility.cache) under
# the digest of both, as plain JSON: a list of groups of rule keys, checked to be exactly the
# definition's keys, in order, before it is used.


def _plan_key(definition: Mapping[str, Any]) -> str:
    model = Path(limits.__file__).read_bytes()
    text = json.dumps(definition, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(model + b"\0" + text.encode()).hexdigest()[:32]


def _cached_plan(key: str, names: list[str]) -> list[list[str]] | None:
    from eligibility import cache

    name = f"durable-plan-{key}.json"
    payload = cache.load(name, key)
    if payload is None:
        return None
    try:
        groups = json.loads(payload)
    except ValueError:
        groups = None
    if (
        not isinstance(groups, list)
        or not all(isinstance(g, list) and g and all(isinstance(k, str) for k in g) for g in groups)
        or [k for g in groups for k in g] != names
    ):
        cache.reject(name, "not a plan of this policy's rules")
        return None
    return groups


def _store_plan(key: str, groups: list[list[str]]) -> None:
    from eligibility import cache

    cache.store(f"durable-plan-{key}.json", key, json.dumps(groups).encode())


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


class RulesetRefused(RuntimeError):
    """durable-rules refused the ruleset's definition (``engine_for`` then uses the
    pure evaluator, and determinations say so)."""


class DurableFailure(EligibilityError):
    """durable-rules failed on a case (an error code from ``assert_fact``): never expected, since
    every ruleset is checked against durable-rules' limits before it is created."""


_created: dict[str, int] = {}
"""Rulesets created in this process, by the digest of their definition: durable-rules cannot free
a ruleset, so loading the same rules again (a server reloading its rules, another thread)
reuses them instead of growing."""
_locks: dict[int, threading.Lock] = {}
"""One lock per ruleset: every case uses the same session id, so two threads must never match
cases in one ruleset at the same time (``DurableEngine.fired`` holds it from assert to delete)."""
_creating = threading.Lock()


def _ruleset(definition: str, policy: str) -> int:
    key = hashlib.sha256(definition.encode()).hexdigest()
    with _creating:
        handle = _created.get(key)
        if handle is None:
            handle = _created[key] = _create(definition, policy)
            _locks[handle] = threading.Lock()
        return handle


def _create(definition: str, policy: str) -> int:
    name = f"eligibility-{policy}-{next(_ruleset_names)}"
    try:
        return int(_dre.create_ruleset(name, definition))
    except Exception as exc:  # durable-rules' own error type
        raise RulesetRefused(f"durable-rules refused the ruleset: {exc}") from exc


def _forget(handle: int) -> None:
    """A ruleset whose state could not be deleted is never used again."""
    with _creating:
        for key, found in list(_created.items()):
            if found == handle:
                del _created[key]


class DurableEngine:
    """Runs a program in durable-rules through its C API, one case at a time."""

    name = "durable-rules"

    def __init__(self, program: Program) -> None:
        self.program = program
        self._facts = sorted(program.facts_used)
        self._definitions = [json.dumps(d, ensure_ascii=False) for d in compile_rulesets(program)]
        self._handles = [_ruleset(d, program.policy.id) for d in self._definitions]
        self._counter = itertools.count(1)

    def fired(self, facts: Mapping[str, Any]) -> frozenset[str]:
        message = encode_facts({f: facts[f] for f in self._facts}, next(self._counter))
        fired: set[str] = set()
        for i, handle in enumerate(self._handles):
            with _locks[handle]:
                try:
                    code, state = _dre.assert_fact(handle, message)
                except Exception as exc:  # deleting a state whose assert failed crashes the process
                    _forget(handle)
                    self._handles[i] = _ruleset(self._definitions[i], self.program.policy.id)
                    raise DurableFailure(
                        f"durable-rules could not match this case against policy '{self.program.policy.id}' "
                        f"({exc}); --engine pure evaluates the same rules"
                    ) from None
                try:
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
