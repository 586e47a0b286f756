"""Benchmark reloading rules in one process (a server or embedder that reloads its rules): the
resident memory (RSS) before and after ``--reloads`` reloads (default 3,000).

Each reload is what an embedder does: ``load_rules(DIR, extend=True)`` (default the example
overlay examples/us-mx-stca/rules), compile ``--policy``, take its durable-rules engine and
evaluate one case with it. durable-rules cannot free a ruleset, so each reload used to add a new
one (about 520 KB each: 3,000 reloads added 1.5 GB, and its handle table holds 131,072); the
engine now reuses the rulesets of an identical definition. ``--fresh`` forgets them before each
reload, which is what every reload did before (it shows the growth; keep ``--reloads`` small).

Prints figures only; nothing here asserts. Linux (/proc/self/status).

    python bench/bench_reload.py [--reloads 3000] [--rules examples/us-mx-stca/rules]
                                 [--policy hypothetical-mexico-2019] [--fresh]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from eligibility import load_rules
from eligibility.analysis.partition import representatives
from eligibility.engine import durable
from eligibility.engine.backends import engine_for
from eligibility.engine.program import compile_policy

ROOT = Path(__file__).resolve().parents[1]


def rss_mib() -> float:
    """The resident set of this process, in MiB (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def reload(rules: Path, policy: str) -> str:
    program = compile_policy(load_rules(rules, extend=True), policy)
    engine = engine_for(program, "durable")
    facts = {f: representatives(program, f, dt.date(2019, 12, 1))[0] for f in program.facts_used}
    engine.fired(facts)
    return engine.name


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reloads", type=int, default=3000)
    parser.add_argument("--rules", type=Path, default=ROOT / "examples" / "us-mx-stca" / "rules")
    parser.add_argument("--policy", default="hypothetical-mexico-2019")
    parser.add_argument(
        "--fresh", action="store_true", help="forget the rulesets before each reload (as before)"
    )
    args = parser.parse_args()

    name = reload(args.rules, args.policy)  # warm up: imports, caches, the first rulesets
    before, started = rss_mib(), time.perf_counter()
    for i in range(args.reloads):
        if args.fresh:
            durable._created.clear()
        reload(args.rules, args.policy)
        if (i + 1) % max(1, args.reloads // 5) == 0:
            print(f"  after {i + 1:>6,} reloads: RSS {rss_mib():8.1f} MiB")
    after, elapsed = rss_mib(), time.perf_counter() - started
    print(f"engine: {name}; rules: {args.rules}; policy: {args.policy}")
    print(
        f"reloads: {args.reloads:,} in {elapsed:.1f} s ({elapsed / max(1, args.reloads) * 1000:.1f} ms each)"
    )
    print(f"RSS before: {before:.1f} MiB, after: {after:.1f} MiB, growth: {after - before:+.1f} MiB")
    print(f"durable-rules rulesets held: {len(durable._created)}")


if __name__ == "__main__":
    main()
