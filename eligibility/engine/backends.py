"""The engine interface, and the pure-Python evaluator of the rule vocabulary.

An engine answers one question: given facts that are all known, which rules fire? durable-rules
(``eligibility.engine.durable``) is the engine of record; the pure evaluator here checks it on every
evaluation and is the fallback where durable-rules cannot be installed (Python 3.13 and later).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from eligibility.engine.program import Program
from eligibility.ruleset.conditions import holds


class Engine(Protocol):
    """Decides which rules of a program fire on known facts."""

    name: str

    def fired(self, facts: Mapping[str, Any]) -> frozenset[str]:
        """The keys of the bound rules whose conditions hold."""
        ...


class PureEngine:
    """Evaluates the condition trees directly, in Python."""

    name = "pure"

    def __init__(self, program: Program) -> None:
        self.program = program

    def fired(self, facts: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(b.key for b in self.program.rules if holds(b.when, facts) is True)


def durable_available() -> bool:
    """Whether durable-rules can be imported here (it does not build on Python 3.13+)."""
    try:
        import durable_rules_engine  # noqa: F401
    except ImportError:
        return False
    return True


def engine_for(program: Program, name: str = "durable") -> Engine:
    """The engine ``name`` ('durable' or 'pure') for ``program``, built once per process.

    'durable' falls back to 'pure' where durable-rules is not installed, or where it refuses to
    create the ruleset (a rule too large for its fixed tables, or a definition it rejects); the
    engine's ``name`` says which one ran, and every determination reports it.
    """
    if name == "durable" and not durable_available():
        name = "pure"
    if name == "durable":
        from eligibility.engine.durable import DurableEngine, RulesetRefused

        try:
            return program.built.get(DurableEngine, name, lambda: DurableEngine(program))
        except RulesetRefused:
            name = "pure"
    if name == "pure":
        return program.built.get(PureEngine, name, lambda: PureEngine(program))
    raise ValueError(f"unknown engine '{name}' (known: durable, pure)")
