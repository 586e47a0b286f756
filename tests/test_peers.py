"""The peers' encodings of the U.S.-Guatemala ACA (bench/peers/) against ours.

Hand-written cases with the status the law gives (TIAS 19-1115; 84 FR 63994; INA 208(a)(2)),
checked against ours always and against zen-engine and regorus where they are installed (the
optional ``bench`` extra; skipped otherwise, as in CI); then 200 generated cases (the benchmark's
generator), where every peer must give our status.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from eligibility.case import Case
from eligibility.fast import Evaluator

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_peers.py"


def _load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_peers", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_peers", module)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def _case(**fields: Any) -> dict[str, Any]:
    case: dict[str, Any] = {"nationalities": ["HN"], "age": 30, "entry": {"date": "2020-01-10"}}
    case.update(fields)
    return case


# (what the case shows, the case, the status the law gives)
LAW = [
    ("an adult Honduran arriving in January 2020", _case(), "applies"),
    ("no transit requirement: arrived by air", _case(entry={"date": "2020-01-10", "border": "air"}), "applies"),
    ("decided the day it entered into force, arrived before the rule", _case(entry={"date": "2019-11-15"}),
     "not_applicable"),
    ("decided before it entered into force", _case(entry={"date": "2019-11-14"}), "not_in_force"),
    ("arrived the day before the rule, decided later", _case(entry={"date": "2019-11-18"},
                                                            decision_date="2019-12-01"), "not_applicable"),
    ("arrived the day the rule took effect", _case(entry={"date": "2019-11-19"}), "applies"),
    ("decided the day before the suspension", _case(decision_date="2021-02-05"), "applies"),
    ("decided the day of the suspension", _case(decision_date="2021-02-06"), "not_in_force"),
    ("a Guatemalan", _case(nationalities=["GT"]), "not_applicable"),
    ("a Mexican and Guatemalan national", _case(nationalities=["MX", "GT"]), "not_applicable"),
    ("a Guatemalan with a U.S. visa: excluded before excepted", _case(nationalities=["GT"], documents="us_visa"),
     "not_applicable"),
    ("stateless, living in Guatemala", _case(nationalities=[], habitual_residence="GT"), "not_applicable"),
    ("stateless, living in Mexico", _case(nationalities=[], habitual_residence="MX"), "applies"),
    ("an unaccompanied 17-year-old", _case(age=17, unaccompanied=True), "excepted"),
    ("an accompanied 17-year-old", _case(age=17, unaccompanied=False), "applies"),
    ("an unaccompanied 18-year-old", _case(age=18, unaccompanied=True), "applies"),
    ("a U.S. visa", _case(documents="us_visa"), "excepted"),
    ("a U.S. admission document", _case(documents="us_admission_document"), "excepted"),
    ("no U.S. visa needed", _case(documents="visa_waiver"), "excepted"),
    ("a U.S. transit visa is no exception", _case(documents="us_transit_visa"), "applies"),
    ("parole travel authorization is no exception", _case(documents="parole_travel_authorization"), "applies"),
    ("fear of Guatemala established", _case(fear_established_in=["MX", "GT"]), "excepted"),
    ("fear of Mexico only", _case(fear_established_in=["MX"]), "applies"),
    ("public interest found", _case(public_interest=True), "excepted"),
    ("public interest not found", _case(public_interest=False), "applies"),
    ("an unaccompanied child arriving after the suspension", _case(age=10, unaccompanied=True,
                                                                   entry={"date": "2021-03-01"}), "not_in_force"),
]
IDS = [shown for shown, _, _ in LAW]


@pytest.fixture(scope="module")
def ours() -> Evaluator:
    return Evaluator(bench.POLICY, rules=bench.our_rules(), detail="compact")


def _peer(name: str) -> Any:
    if name == "zen-engine":
        pytest.importorskip("zen")
        return bench.Zen()
    pytest.importorskip("regorus")
    return bench.Rego()


@pytest.mark.parametrize(("shown", "case", "expected"), LAW, ids=IDS)
def test_ours_gives_the_law(ours: Evaluator, shown: str, case: dict[str, Any], expected: str) -> None:
    assert bench.our_status(ours.evaluate(Case.model_validate(case))) == expected, shown


@pytest.mark.parametrize("name", ["zen-engine", "regorus"])
def test_peer_gives_the_law(name: str) -> None:
    peer = _peer(name)
    got = {shown: peer.status(case) for shown, case, _ in LAW}
    assert got == {shown: expected for shown, _, expected in LAW}


def test_generated_cases_reach_every_status(ours: Evaluator) -> None:
    cases = bench.make_cases(200, 20191115)
    statuses = {bench.our_status(ours.evaluate(Case.model_validate(c))) for c in cases}
    assert statuses == set(bench.STATUSES)


@pytest.mark.parametrize("name", ["zen-engine", "regorus"])
@pytest.mark.parametrize("seed", [1, 2])
def test_peer_agrees_on_generated_cases(ours: Evaluator, name: str, seed: int) -> None:
    peer = _peer(name)
    rng = random.Random(seed)
    differ = []
    for number in range(100):
        case = bench.make_case(rng, number)
        expected = bench.our_status(ours.evaluate(Case.model_validate(case)))
        got = peer.status(case)
        if got != expected:
            differ.append(f"{json.dumps(case)}: ours {expected}, {name} {got}")
    assert not differ, "\n".join(differ[:5])
