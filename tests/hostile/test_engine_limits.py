"""durable-rules' fixed limits, found by experiment, and rule sets that would pass them.

durable-rules 2.0.28 (jruizgit/rules, src/rules/rete.c and events.c) matches a fact with a stack of
64 nodes, links at most 128 ``$or`` branches and 256 rules to one node, and keeps one rule's
``$and``/``$or`` nodes in a sequence of 32 entries. Past the stack, ``assert_fact`` fails (error
303) and deleting that case's state crashed the process (exit 134 or 139): a lint-clean overlay of
60 rules ``entry.border: {in: [southern_land, air]}`` did it. The tests below pin each limit on
durable-rules itself (in a subprocess: past a limit the process may die), show that the model in
eligibility.ruleset.limits agrees, and run a generated corpus of lint-clean rule files through the
engine in a subprocess: it must never crash, and must agree with the pure evaluator.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from eligibility import RuleFileError, load_rules
from eligibility.ruleset import limits
from eligibility.ruleset.facts import CATALOGUE

pytest.importorskip("durable_rules_engine")

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "    sources:\n      - {cite: test, evidence: unverified, url: 'https://www.govinfo.gov/x'}\n"


def rules_dir(path: Path, conditions: list[str], extend: bool = False) -> Path:
    """A rules directory with one transfer agreement ``zz-test`` whose rules have these conditions
    (YAML flow mappings), in force from 2019-11-19, and a policy ``zz`` (with the shipped
    instruments when ``extend``)."""
    path.mkdir(parents=True, exist_ok=True)
    rules = [
        f"  - id: zz-test.scope.r{i}\n    role: scope\n    title: rule {i}\n    when: {when}\n{SOURCE}"
        for i, when in enumerate(conditions)
    ]
    in_force = "  - id: zz-test.in-force\n    role: in_force\n    title: in force\n    when: {decision_date: {on_or_after: 2019-11-19}}\n"
    (path / "zz-test.yaml").write_text(
        "instrument:\n  id: zz-test\n  title: test\n  kind: transfer_agreement\n  receiving_country: MX\n"
        + SOURCE.replace("    ", "  ", 1).replace("\n      ", "\n    ")
        + "rules:\n"
        + in_force
        + SOURCE
        + "".join(rules)
    )
    shipped = "[ina-208a2, us-ca-stca, us-gt-aca, us-hn-aca, us-sv-aca, transit-bar, mpp, zz-test]"
    instruments = shipped if extend else "[zz-test]"
    stage = "[us-gt-aca, us-hn-aca, us-sv-aca, zz-test]" if extend else "[zz-test]"
    first = "      - [us-ca-stca]\n" if extend else ""
    (path / "policies.yaml").write_text(
        f"default: zz\npolicies:\n  - id: zz\n    title: zz\n    description: zz\n    instruments: {instruments}\n"
        f"    screening:\n{first}      - {stage}\n"
    )
    return path


def _run(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ELIGIBILITY_NO_CACHE": "1"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


# -- the limits, measured on durable-rules itself and matched by the model

PROBE = """
    import json, sys, durable_rules_engine as dre
    anchor = {"kind": "case"}
    def ruleset(patterns):
        d = {f"r{i}": {"all": [{"m": {"$and": [anchor, p]}}]} for i, p in enumerate(patterns)}
        d["all"] = {"all": [{"m": anchor}]}
        return d
    def outcome(patterns, fact):
        try:
            h = dre.create_ruleset("probe", json.dumps(ruleset(patterns)))
        except Exception as exc:
            return str(exc)[-3:]
        try:
            dre.assert_fact(h, json.dumps({"sid": "0", "kind": "case", "id": 1, **fact}))
        except Exception as exc:  # its state is never deleted: that crashes the process
            return str(exc)[-3:]
        return "ok"
    in_list = {"$or": [{"b": "s"}, {"b": "a"}]}
    nested = {"b": "s"}
    for depth in range(%d):
        nested = {"$and" if depth %% 2 else "$or": [nested, {"c": depth}]}
    print(json.dumps({
        "in": [outcome([in_list] * n, {"b": "s"}) for n in (64, 65, 128, 129)],
        "ge": [outcome([{"$gte": {"d": i}} for i in range(n)], {"d": 1000}) for n in (64, 65)],
        "and_or": [outcome([nested], {"b": "s"})],
    }))
"""


def _model(patterns: list[dict[str, Any]]) -> list[str]:
    return limits._check([(f"r{i}", {"$and": [limits.ANCHOR, p]}) for i, p in enumerate(patterns)], limits.ANCHOR)


def test_durable_rules_limits_are_where_the_model_puts_them() -> None:
    """Measured: 64 rules ``in: [s, a]`` on one attribute match, the 65th overflows the stack (303);
    the 129th cannot even be created (107, 128 forward nodes); 64 rules ``ge N`` all matching one
    fact pass, 65 fail (303); a rule of 15 and/or nodes is created, 16 are refused (113)."""
    result = _run(PROBE % 14)
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert measured["in"] == ["ok", "303", "303", "107"]
    assert measured["ge"] == ["ok", "303"]
    assert measured["and_or"] == ["ok"]
    refused = _run(PROBE % 15)
    assert json.loads(refused.stdout)["and_or"] == ["113"]
    in_list = {"$or": [{"b": "s"}, {"b": "a"}]}
    assert _model([in_list] * 64) == [] and _model([in_list] * 65) != []
    assert _model([{"$gte": {"d": i}} for i in range(64)]) == []
    assert _model([{"$gte": {"d": i}} for i in range(65)]) != []
    assert _model([{"b": f"v{i}"} for i in range(300)]) == []  # equality on one attribute: one matches


# -- the rule sets


def test_sixty_in_rules_run_under_durable_rules(tmp_path: Path) -> None:
    """60 lint-clean rules ``entry.border: {in: [southern_land, air]}`` over the shipped policy
    aborted the process (free(): invalid pointer, exit 134); now the policy is split into rulesets
    that fit, and durable-rules agrees with the pure evaluator."""
    rules = rules_dir(tmp_path / "r", ["{entry.border: {in: [southern_land, air]}}"] * 60, extend=True)
    result = _run(f"""
        from eligibility import evaluate, load_rules
        rules = load_rules({str(rules)!r}, extend=True)
        for case in ({{"nationalities": ["HN"], "entry": {{"date": "2019-12-01"}}}},
                     {{"nationalities": ["HN"], "age": 30, "transit": ["GT", "MX"],
                       "entry": {{"date": "2019-12-01", "border": "southern_land", "place": "between_ports"}}}}):
            durable = evaluate(case, "zz", rules=rules, engine="durable")
            pure = evaluate(case, "zz", rules=rules, engine="pure")
            assert durable.engine == "durable-rules", durable.engine
            assert (durable.outcome, durable.transfer_to) == (pure.outcome, pure.transfer_to)
        print("answered")
    """)
    assert result.returncode == 0 and "answered" in result.stdout, result.stderr[-2000:]


def test_the_shipped_enacted_policy_survives_a_case_that_overflowed_one_ruleset() -> None:
    """In one ruleset, the shipped ``enacted`` rules let a fact reach 74 nodes at once (late dates,
    every listed nationality, transit and fear country): assert_fact failed with error 303. The
    engine now runs it as two rulesets, and agrees with the pure evaluator on that fact."""
    from eligibility.engine.backends import PureEngine
    from eligibility.engine.durable import DurableEngine, compile_rulesets
    from eligibility.engine.program import compile_policy

    program = compile_policy(load_rules(), "enacted")
    assert len(compile_rulesets(program)) == 2
    facts: dict[str, Any] = {}
    for fact in program.facts_used:
        values = program.constants.get(fact, frozenset())
        kind = CATALOGUE[fact].type
        if kind == "countries":
            facts[fact] = frozenset(v for v in values if isinstance(v, str)) | {"FR"}
        elif kind == "date":
            facts[fact] = max(values) if values else dt.date(2030, 1, 1)
        elif kind == "bool":
            facts[fact] = True
        elif kind == "int":
            facts[fact] = max(values, default=0) + 1
        else:
            facts[fact] = sorted(values, key=str)[0] if values else "XX"
    assert DurableEngine(program).fired(facts) == PureEngine(program).fired(facts)


BIG_CASE = {
    "nationalities": ["AR", "BO", "BZ", "CA", "CL", "CO", "CR", "CU", "DO", "EC", "GT", "HN", "HT", "MX", "NI", "PA", "PE",
                      "PY", "SV", "UG"],
    "fear_established_in": ["EC", "GT", "HN", "MX", "PY", "SV", "UG"],
    "age": 17,
    "entry": {"date": "2025-07-18", "border": "southern_coastal", "place": "between_ports"},
    "decision_date": "2026-01-01",
    "documents": "us_visa",
    "transit": [{"country": "MX", "protection": "denied_final"}, "GT"],
    "family_in_us": [{"relation": "spouse", "status": "citizen"}],
    **dict.fromkeys(["public_interest", "criminal_record", "trafficking_victim", "medical_emergency", "imminent_threat",
                     "title42_exception"], True),
}


def test_a_valid_case_that_overflowed_the_shipped_rules_is_answered() -> None:
    """A valid case of 20 nationalities (every one the rules name but two), its fear countries and
    late dates reached 74 nodes of the shipped enacted ruleset at once: the process aborted
    (free(): invalid pointer, exit -6) with the shipped rules and no --rules at all."""
    result = _run(f"""
        from eligibility import evaluate
        durable = evaluate({BIG_CASE!r}, engine="durable")
        pure = evaluate({BIG_CASE!r}, engine="pure")
        assert durable.engine == "durable-rules" and durable.outcome == pure.outcome == "process_in_us"
        print("answered")
    """)
    assert result.returncode == 0 and "answered" in result.stdout, result.stderr[-2000:]


def test_a_rule_too_large_for_durable_rules_is_refused_at_its_place(tmp_path: Path) -> None:
    """One rule ``any`` of 70 ``age_at_entry ge N``: a fact of 70 matches all 70 at once, more than
    durable-rules' stack of 64, in any ruleset: lint refuses it at the rule."""
    many = ", ".join(f"{{age_at_entry: {{ge: {i}}}}}" for i in range(70))
    rules = rules_dir(tmp_path / "r", [f"{{any: [{many}]}}"])
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules)
    [problem] = raised.value.problems
    assert problem.place == f"{rules}/zz-test.yaml:15:5"
    assert "too large for the durable-rules engine" in problem.message and "64" in problem.message


def test_a_rule_of_sixteen_all_any_nodes_is_refused(tmp_path: Path) -> None:
    """durable-rules keeps a rule's and/or nodes in 32 entries, two each, with one for the case
    anchor: 14 nested any/all nodes in a rule are taken, 15 are refused (error 113 otherwise)."""

    def nested(depth: int) -> str:
        cond = "{age_at_entry: 1}"
        for i in range(depth):
            cond = f"{{{'any' if i % 2 else 'all'}: [{cond}, {{age_at_entry: {i + 2}}}]}}"
        return cond

    load_rules(rules_dir(tmp_path / "ok", [nested(14)]))
    with pytest.raises(RuleFileError, match="all/any nodes"):
        load_rules(rules_dir(tmp_path / "refused", [nested(15)]))


def test_a_policy_of_more_than_max_rules_is_refused_at_the_policy(tmp_path: Path) -> None:
    """10,000 rules ended in exit 1; a policy of more than 500 rules (statutory limits bound to
    each agreement counted) is refused at its place in policies.yaml."""
    rules = rules_dir(tmp_path / "r", [f"{{age_at_entry: {i}}}" for i in range(limits.MAX_RULES)])
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules)
    [problem] = raised.value.problems
    assert problem.place == f"{rules}/policies.yaml:3:5"
    assert f"has {limits.MAX_RULES + 1} rules" in problem.message


def test_rules_loaded_again_reuse_their_durable_rulesets(tmp_path: Path) -> None:
    """Each load of a rules directory created new durable-rulesets that are never freed (about
    520 KB each); the same definitions now reuse the rulesets already created."""
    from eligibility.engine import durable
    from eligibility.engine.backends import engine_for
    from eligibility.engine.program import compile_policy

    rules = rules_dir(tmp_path / "r", ["{entry.border: {in: [southern_land, air]}}"] * 3)
    engine_for(compile_policy(load_rules(rules), "zz"), "durable")
    created = len(durable._created)
    for _ in range(20):
        engine = engine_for(compile_policy(load_rules(rules), "zz"), "durable")
    assert len(durable._created) == created
    assert engine.name == "durable-rules"


def test_a_failed_assert_never_deletes_its_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleting the state of a case whose assert_fact failed crashed the process: the engine raises
    a clear error instead, and answers the next case."""
    from eligibility.analysis.partition import representatives
    from eligibility.engine import durable
    from eligibility.engine.program import compile_policy

    program = compile_policy(load_rules(), "implemented")
    engine = durable.DurableEngine(program)
    facts = {f: representatives(program, f, dt.date(2020, 1, 10))[0] for f in program.facts_used}
    expected = engine.fired(facts)
    real, deleted = durable._dre.assert_fact, []

    def overflow(handle: int, message: str) -> Any:
        raise Exception("Could not assert fact, error code: 303")

    monkeypatch.setattr(durable._dre, "assert_fact", overflow)
    monkeypatch.setattr(durable._dre, "delete_state", lambda h, s: deleted.append(h))
    with pytest.raises(durable.DurableFailure, match="error code: 303"):
        engine.fired(facts)
    assert deleted == []
    monkeypatch.undo()
    assert durable._dre.assert_fact is real and engine.fired(facts) == expected


# -- a generated corpus of lint-clean rule files never crashes the engine

CORPUS = """
    from tests.hostile.test_engine_limits import corpus
    corpus({examples}, derandomize={derandomize})
"""


def test_generated_rule_files_never_crash_durable_rules() -> None:
    """Fifteen generated rule sets (many rules repeating one condition, long lists, deep
    any/all, dates at the calendar's ends) in a subprocess: each is refused by lint or runs,
    agreeing with the pure evaluator; the process never dies."""
    result = _run(CORPUS.format(examples=15, derandomize=True), timeout=240)
    assert result.returncode == 0 and "corpus ok" in result.stdout, (result.stdout[-1500:], result.stderr[-3000:])


@pytest.mark.exhaustive
def test_many_generated_rule_files_never_crash_durable_rules() -> None:
    result = _run(CORPUS.format(examples=400, derandomize=False), timeout=3000)
    assert result.returncode == 0 and "corpus ok" in result.stdout, (result.stdout[-1500:], result.stderr[-3000:])


def corpus(examples: int, derandomize: bool) -> None:
    """Run in a subprocess: generate rule sets, lint them, run the lint-clean ones (a crash here
    kills only this process, and the last line printed names the example)."""
    import random
    import tempfile

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from eligibility.analysis.partition import representatives
    from eligibility.engine.backends import PureEngine
    from eligibility.engine.durable import DurableEngine
    from eligibility.engine.program import compile_policy

    counts = {"refused": 0, "ran": 0, "split": 0}
    work = Path(tempfile.mkdtemp(prefix="corpus-"))

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
    )
    @given(rule_sets(), st.randoms(use_true_random=False))
    def run(conditions: list[str], rnd: random.Random) -> None:
        where = rules_dir(work / f"ex{counts['refused'] + counts['ran']}", conditions)
        print("example", where, len(conditions), flush=True)
        try:
            ruleset = load_rules(where)
        except RuleFileError as exc:
            assert all(p.place.startswith(str(where)) for p in exc.problems), exc
            counts["refused"] += 1
            return
        program = compile_policy(ruleset, "zz")
        durable, pure = DurableEngine(program), PureEngine(program)
        counts["split"] += len(durable._handles) > 1  # run as several rulesets
        day = dt.date(2019, 12, 1)
        pools = {f: representatives(program, f, dt.date(1, 1, 1)) for f in program.facts_used}
        for f, values in pools.items():
            constants = program.constants.get(f, frozenset())
            if CATALOGUE[f].type == "countries":  # every country named at once, too
                pools[f] = (*values, frozenset(c for c in constants if isinstance(c, str)) | {"FR"})
        for _ in range(20):
            facts = {f: rnd.choice(values) for f, values in pools.items()}
            facts.setdefault("entry.date", day)
            assert durable.fired(facts) == pure.fired(facts), facts
        counts["ran"] += 1

    run()
    print("corpus ok", counts, flush=True)


def rule_sets() -> Any:
    """Rule conditions (YAML flow mappings) in the rule-file vocabulary, sized to reach
    durable-rules' limits: up to 140 copies of one condition, lists of up to 80 values, any/all
    nested up to 6 deep, dates at either end of the calendar."""
    from hypothesis import strategies as st

    codes = ["AR", "BR", "CU", "GT", "HN", "MX", "NI", "SV", "VE", "CA", "FR", "IN", "CN", "HT", "CO"]
    dates = st.sampled_from(["0001-01-01", "2019-07-16", "2019-11-19", "2020-03-21", "2023-05-12", "9999-12-31"])
    enums = {"entry.border": ["southern_land", "northern_land", "air", "sea"], "documents": ["none", "us_visa"]}

    def listed(values: Any, most: int) -> Any:
        return st.lists(values, min_size=1, max_size=most, unique=True).map(lambda v: "[" + ", ".join(map(str, v)) + "]")

    ages = st.integers(0, 120)
    leaf = st.one_of(
        st.tuples(st.sampled_from(["eq", "ne", "lt", "ge", "le", "gt"]), ages).map(lambda t: f"{{age_at_entry: {{{t[0]}: {t[1]}}}}}"),
        listed(ages, 80).map(lambda v: f"{{age_at_entry: {{in: {v}}}}}"),
        listed(ages, 80).map(lambda v: f"{{age_at_entry: {{not_in: {v}}}}}"),
        st.tuples(st.sampled_from(["on_or_after", "before", "after", "on_or_before", "eq", "ne"]), dates, st.sampled_from(["entry.date", "decision_date"])).map(
            lambda t: f"{{{t[2]}: {{{t[0]}: {t[1]}}}}}"
        ),
        st.sampled_from(list(enums)).flatmap(lambda f: listed(st.sampled_from(enums[f]), 4).map(lambda v: f"{{{f}: {{in: {v}}}}}")),
        st.sampled_from(["unaccompanied", "family_unit", "public_interest"]).map(lambda f: f"{{{f}: true}}"),
        st.tuples(st.sampled_from(["contains", "not_contains"]), st.sampled_from(codes)).map(lambda t: f"{{nationalities: {{{t[0]}: {t[1]}}}}}"),
        st.tuples(st.sampled_from(["contains_any", "contains_none"]), listed(st.sampled_from(codes), 15)).map(
            lambda t: f"{{nationalities: {{{t[0]}: {t[1]}}}}}"
        ),
        st.booleans().map(lambda b: f"{{fear_established_in: {{empty: {str(b).lower()}}}}}"),
    )
    condition = st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(st.sampled_from(["all", "any"]), st.lists(inner, min_size=1, max_size=6)).map(
                lambda t: f"{{{t[0]}: [{', '.join(t[1])}]}}"
            ),
            inner.map(lambda c: f"{{not: {c}}}"),
        ),
        max_leaves=40,
    )
    repeated = st.tuples(condition, st.integers(1, 140)).map(lambda t: [t[0]] * t[1])
    return st.lists(repeated | condition.map(lambda c: [c]), min_size=1, max_size=4).map(
        lambda groups: [c for g in groups for c in g]
    )


# -- the searches over classes of cases


@pytest.mark.parametrize("end", ["0001-01-01", "9999-12-31"])
def test_date_constants_at_the_ends_of_the_calendar_work(tmp_path: Path, end: str) -> None:
    """A rule naming 9999-12-31 or 0001-01-01 made rules verify (and the classes of a case with an
    unknown date) fail with OverflowError, an internal error: there is no day after the last."""
    from eligibility import evaluate
    from eligibility.analysis.verify import verify

    ops = ["on_or_after", "before", "after", "on_or_before", "eq", "ne"]
    conditions = [f"{{{fact}: {{{op}: {end}}}}}" for fact in ("entry.date", "decision_date") for op in ops]
    rules = load_rules(rules_dir(tmp_path / "r", conditions))
    findings = verify(rules, ["zz"])
    after_last = [f for f in findings if f.kind == "empty-window"]
    assert len(after_last) == (2 if end == "9999-12-31" else 0), findings  # 'after 9999-12-31' holds on no day
    for engine in ("durable", "pure", "fast"):
        for day in ("2019-12-01", end):
            det = evaluate({"nationalities": ["HN"], "entry": {"date": day}}, "zz", rules=rules, engine=engine)
            assert det.outcome in ("transfer", "process_in_us", "undetermined")


def test_a_long_contains_any_does_not_blow_up_the_search(tmp_path: Path) -> None:
    """The issue measured a case with unknown nationalities against one rule naming 14 of them in
    contains_any at 26 s and 811 MB, and 18 at 45 s and 3 GB (the classes of a set of countries
    were every subset of the names). 22 names now take about two seconds: classes of a set have at
    most two members, and a search splits on one member at a time."""
    from eligibility import evaluate

    names = "AR, BO, BR, CL, CO, CR, CU, DO, EC, GT, HN, MX, NI, PA, PE, PY, SV, UY, VE, BZ, HT, JM"
    rules = load_rules(rules_dir(tmp_path / "r", [f"{{nationalities: {{contains_any: [{names}]}}}}"] * 2))
    started = time.perf_counter()
    det = evaluate({"entry": {"date": "2019-12-01", "border": "southern_land"}}, "zz", rules=rules)
    assert time.perf_counter() - started < 30  # 2^22 subsets would take hours
    assert det.outcome == "undetermined" and "nationalities" in det.missing_facts


def test_an_approximate_date_in_the_last_month_and_a_review_on_the_last_day_work(tmp_path: Path) -> None:
    """With a rule naming 9999-12-31, the approximate entry date 9999-12 (evaluated day by day,
    and compared with the day after each) and a review date of 9999-12-31 (the fast engine adds
    a cut the day after it) both ended in an internal error (OverflowError)."""
    from eligibility import evaluate

    path = rules_dir(tmp_path / "r", ["{entry.date: {on_or_before: 9999-12-31}}"])
    text = (path / "policies.yaml").read_text()
    (path / "policies.yaml").write_text("reviewed: 9999-12-31\n" + text)
    rules = load_rules(path)
    assert rules.reviewed == dt.date.max
    for engine in ("durable", "fast"):
        det = evaluate({"nationalities": ["HN"], "entry": {"date": "9999-12"}}, "zz", rules=rules, engine=engine)
        assert det.outcome in ("transfer", "process_in_us", "undetermined")
        det = evaluate({"nationalities": ["HN"], "entry": {"date": "2019-12-01"}}, "zz", rules=rules, engine=engine)
        assert det.outcome == "transfer"  # in force from 2019-11-19, every scope rule holds


def test_threads_share_the_durable_rulesets_safely() -> None:
    """Every case uses the same durable-rules session id: three threads evaluating at once used to
    mix their cases (EngineMismatchError, 'Could not delete state, error code: 309'), and each new
    thread created rulesets of its own that were never freed."""
    import threading

    from eligibility import evaluate
    from eligibility.engine import durable

    rules = load_rules()
    cases = [
        {"nationalities": [n], "age": 30, "entry": {"date": d, "border": "southern_land", "place": "between_ports"},
         "transit": ["GT", "MX"]}
        for n in ("HN", "SV", "GT", "MX") for d in ("2019-12-01", "2020-06-01", "2024-01-01")
    ]
    want = [evaluate(c, rules=rules, engine="pure", counterfactuals=False).outcome for c in cases]
    before = len(durable._created)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                got = [evaluate(c, rules=rules, engine="durable", counterfactuals=False).outcome for c in cases]
                assert got == want
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert len(durable._created) == before  # the rulesets already built were reused
