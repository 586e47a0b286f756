"""family_in_us.members and family_in_us.relations: facts for rules about family members in the
U.S. by relation and status (issue 12).

A worked rule file in a temporary directory (an imagined agreement, not law) with exceptions for a
spouse who is a U.S. citizen or LPR and for a child with a parent or legal guardian in the U.S.:
it lints, verifies clean and passes golden cases whose answers are read from its rules by hand.
durable-rules, the pure evaluator and the fast path read the facts alike on generated cases, and
the fast path's case key tells apart family members of the same status and different relations.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from eligibility import evaluate, load_rules, parse_case
from eligibility.errors import RuleFileError
from eligibility.ruleset.facts import CATALOGUE, UNKNOWN, derive_facts, derive_facts_by_catalogue

RULE_FILE = """instrument:
  id: us-xx-family
  title: An example agreement sending people who passed through Panama to Costa Rica, but not a spouse or child of someone in the U.S.
  kind: transfer_agreement
  receiving_country: CR
  sources:
    - {cite: Example Agreement art. 1, evidence: unverified, url: "https://example.org/agreement", paraphrase: An example.}
rules:
  - id: us-xx-family.in-force
    role: in_force
    title: The agreement is in force on the decision date
    when:
      decision_date: {on_or_after: 2026-01-01}
    sources:
      - {cite: Example Agreement art. 9, evidence: unverified, url: "https://example.org/agreement", paraphrase: It enters into force on 1 January 2026.}
  - id: us-xx-family.scope.through-panama
    role: scope
    title: The person passed through Panama
    when:
      transit.countries: {contains: PA}
    sources:
      - {cite: Example Agreement art. 2, evidence: unverified, url: "https://example.org/agreement", paraphrase: It applies to people who passed through Panama.}
  - id: us-xx-family.exception.spouse
    role: exception
    overrides: us-xx-family
    title: The person's spouse is a U.S. citizen or lawful permanent resident
    when:
      family_in_us.members: {contains_any: [spouse:citizen, spouse:lpr]}
    sources:
      - {cite: Example Agreement art. 4, evidence: unverified, url: "https://example.org/agreement", paraphrase: It does not apply to a spouse of a U.S. citizen or permanent resident.}
  - id: us-xx-family.exception.child
    role: exception
    overrides: us-xx-family
    title: A child whose parent or legal guardian is in the U.S., whatever their status
    when:
      age_at_entry: {lt: 18}
      family_in_us.relations: {contains_any: [parent, legal_guardian]}
    sources:
      - {cite: Example Agreement art. 5, evidence: unverified, url: "https://example.org/agreement", paraphrase: It does not apply to a child with a parent or guardian in the U.S.}
"""

POLICIES = """policies:
  - id: family-example
    title: The statute's limits and the example agreement
    description: INA 208(a)(2) and the example agreement, alone.
    instruments: [ina-208a2, us-xx-family]
    screening:
      - [us-xx-family]
"""

# Expected answers read from the rules above: in force from 2026-01-01 (decision date = entry
# date), reaches whoever passed through Panama, and does not apply (excepted) to a person whose
# spouse is a citizen or LPR, or to someone under 18 with a parent or legal guardian in the U.S.
# Costa Rica is a party to the refugee treaties (rules/data), so INA 208(a)(2)(A) lets it apply.
ADULT = "nationalities: [VE]\n    age: 30\n    entry: {date: 2026-03-01, border: southern_land, place: between_ports}\n    transit: [CO, PA, CR, NI, HN, GT, MX]"
GOLDEN = f"""- name: A Venezuelan adult who crossed Panama, with no family in the U.S., is sent to Costa Rica
  source: "Example Agreement arts. 2 and 9 (imagined)"
  policy: family-example
  case:
    {ADULT}
  expect:
    outcome: transfer
    transfer_to: [CR]
    instruments: {{us-xx-family: applies}}
- name: The same person with a U.S.-citizen spouse is excepted
  source: "Example Agreement art. 4 (imagined)"
  policy: family-example
  case:
    {ADULT}
    family_in_us: [{{relation: spouse, status: citizen}}]
  expect:
    outcome: process_in_us
    instruments: {{us-xx-family: excepted}}
- name: A spouse who is only an asylum applicant does not except them
  source: "Example Agreement art. 4 (imagined)"
  policy: family-example
  case:
    {ADULT}
    family_in_us: [{{relation: spouse, status: pending_asylum_adult}}]
  expect:
    outcome: transfer
    transfer_to: [CR]
    instruments: {{us-xx-family: applies}}
- name: A U.S.-citizen sibling does not except them (the exception names a spouse)
  source: "Example Agreement art. 4 (imagined)"
  policy: family-example
  case:
    {ADULT}
    family_in_us: [{{relation: sibling, status: citizen}}, {{relation: spouse, status: other}}]
  expect:
    outcome: transfer
    transfer_to: [CR]
    instruments: {{us-xx-family: applies}}
- name: A child whose parent is in the U.S. with no lawful status is excepted
  source: "Example Agreement art. 5 (imagined)"
  policy: family-example
  case:
    nationalities: [HN]
    age: 15
    unaccompanied: false
    entry: {{date: 2026-03-01, border: southern_land, place: between_ports}}
    transit: [PA, CR, NI, GT, MX]
    family_in_us: [{{relation: parent, status: other}}]
  expect:
    outcome: process_in_us
    instruments: {{us-xx-family: excepted}}
- name: With the family in the U.S. unknown, whether a spouse excepts them is unknown
  source: "Example Agreement arts. 2, 4 and 9 (imagined)"
  policy: family-example
  case:
    {ADULT}
    family_in_us: null
  expect:
    outcome: undetermined
    missing_facts: [family_in_us]
"""


def _rules_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "us-xx-family.yaml").write_text(RULE_FILE, encoding="utf-8")
    (root / "policies.yaml").write_text(POLICIES, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return load_rules(_rules_dir(tmp_path_factory.mktemp("family") / "rules"), extend=True)


def test_the_facts_of_a_case(rules) -> None:  # type: ignore[no-untyped-def]
    ctx = rules.context
    given = {"entry": {"date": "2026-03-01"}}
    family = [{"relation": "spouse", "status": "citizen"}, {"relation": "child", "status": "other"}]
    for value, members, relations in (
        (family, {"spouse:citizen", "child:other"}, {"spouse", "child"}),
        ([], set(), set()),
        (None, UNKNOWN, UNKNOWN),
    ):
        facts, assumed = derive_facts(parse_case({**given, "family_in_us": value}), ctx)
        want = [members, relations] if value is not None else [UNKNOWN, UNKNOWN]
        assert [facts["family_in_us.members"], facts["family_in_us.relations"]] == want
        assert "family_in_us" not in assumed
        assert derive_facts_by_catalogue(parse_case({**given, "family_in_us": value}), ctx)[0] == facts
    # omitted: the documented default (no family member in the U.S.), recorded as assumed
    facts, assumed = derive_facts(parse_case(given), ctx)
    assert (facts["family_in_us.members"], facts["family_in_us.relations"]) == (frozenset(), frozenset())
    assert assumed["family_in_us"] == []
    assert derive_facts_by_catalogue(parse_case(given), ctx) == (facts, assumed)


def test_the_worked_example_lints_verifies_and_passes_its_golden_cases(tmp_path: Path, rules) -> None:  # type: ignore[no-untyped-def]
    from eligibility.analysis.verify import verify
    from eligibility.golden import run_golden

    assert verify(rules, ["family-example"]) == []
    (tmp_path / "golden.yaml").write_text(GOLDEN, encoding="utf-8")
    for engine in ("durable", "pure"):
        report = run_golden([tmp_path / "golden.yaml"], rules, engine=engine)
        assert len(report.cases) == 6 and not report.failures, [str(f) for f in report.failures]


def test_the_cli_lints_verifies_and_tests_the_worked_example(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.main import main

    root = _rules_dir(tmp_path / "rules")
    (tmp_path / "golden.yaml").write_text(GOLDEN, encoding="utf-8")
    runner = CliRunner()
    for args in (
        ["rules", "lint", str(root)],
        ["rules", "verify", "--rules", str(root), "--policy", "family-example"],
        ["test", str(tmp_path / "golden.yaml"), "--rules", str(root)],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("{family_in_us.members: {contains: lpr}}", "'family_in_us.members' has members relation:status"),
        ("{family_in_us.members: {contains: spouse}}", "(a spouse whatever their status: test 'family_in_us.relations')"),
        ("{family_in_us.members: {contains: spouse:citzen}}", "(did you mean 'spouse:citizen'?)"),
        ("{family_in_us.relations: {contains: spuse}}", "(did you mean 'spouse'?)"),
        ("{family_in_us.relations: {eq: spouse}}", "operator 'eq' does not apply to 'family_in_us.relations'"),
        ("{family_in_us: {contains: spouse:citizen}}", "'family_in_us.members', 'family_in_us.qualifying'"),
    ],
)
def test_lint_explains_a_wrong_family_test(tmp_path: Path, when: str, message: str) -> None:
    text = RULE_FILE.replace("{contains_any: [spouse:citizen, spouse:lpr]}", "x").replace(
        "family_in_us.members: x", when[1:-1]
    )
    _rules_dir(tmp_path).joinpath("us-xx-family.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rules(tmp_path, extend=True)
    assert message in " ".join(p.message for p in caught.value.problems)


def _case(draw: random.Random) -> dict[str, object]:
    relations = ["spouse", "parent", "legal_guardian", "sibling", "child"]
    statuses = ["citizen", "lpr", "pending_asylum_adult", "other"]
    case: dict[str, object] = {
        "nationalities": [draw.choice(["VE", "HN", "CR"])],
        "age": draw.choice([10, 17, 18, 40]),
        "unaccompanied": draw.random() < 0.2,
        "entry": {"date": draw.choice(["2025-12-31", "2026-03-01"]), "border": "southern_land", "place": "between_ports"},
        "transit": draw.choice([["PA", "CR", "MX"], ["GT", "MX"]]),
    }
    shape = draw.random()
    if shape < 0.1:
        case["family_in_us"] = None
    elif shape < 0.9:
        case["family_in_us"] = [
            {"relation": draw.choice(relations), "status": draw.choice(statuses)} for _ in range(draw.randint(0, 2))
        ]
    return case


def _by_hand(case: dict[str, object]) -> str:
    """The outcome read from the worked rule file and INA 208(a)(2) (not to one's own country, not
    for an unaccompanied child)."""
    family = case.get("family_in_us", [])
    reached = "PA" in case["transit"] and case["entry"]["date"] >= "2026-01-01" and case["nationalities"] != ["CR"]  # type: ignore[index,operator]
    if not reached or (case["age"] < 18 and case["unaccompanied"]):  # type: ignore[operator]
        return "process_in_us"  # INA 208(a)(2)(E): not for an unaccompanied child
    if family is None:
        return "undetermined"
    pairs = {(m["relation"], m["status"]) for m in family}  # type: ignore[attr-defined,index]
    spouse = bool(pairs & {("spouse", "citizen"), ("spouse", "lpr")})
    child = case["age"] < 18 and any(r in ("parent", "legal_guardian") for r, _ in pairs)  # type: ignore[operator]
    return "process_in_us" if spouse or child else "transfer"


def test_the_engines_agree_on_the_family_facts(rules) -> None:  # type: ignore[no-untyped-def]
    """durable-rules, the pure evaluator and the fast path (full and headline-only) read the family
    facts alike, and as the rule file says."""
    from eligibility.fast import Evaluator

    fast, heads = Evaluator("family-example", rules=rules), Evaluator("family-example", rules=rules)
    draw = random.Random(12)
    cases = [_case(draw) for _ in range(120)]
    for case in cases:
        want = evaluate(case, "family-example", rules=rules, engine="pure", counterfactuals=False)
        assert want.outcome == _by_hand(case), case
        durable = evaluate(case, "family-example", rules=rules, engine="durable", counterfactuals=False)
        assert (durable.outcome, durable.transfer_to, durable.missing_facts) == (
            want.outcome,
            want.transfer_to,
            want.missing_facts,
        ), case
        got = fast.evaluate(parse_case(case)).determination()
        assert (got.outcome, got.transfer_to, got.missing_facts) == (
            want.outcome,
            want.transfer_to,
            want.missing_facts,
        ), case
        assert [
            (f.rule, f.holds) for i in got.instruments for f in i.findings
        ] == [(f.rule, f.holds) for i in want.instruments for f in i.findings], case
        head = heads.headline(parse_case(case))
        assert (head.outcome, list(head.transfer_to)) == (want.outcome, want.transfer_to), case
    # the columnar engine (whole columns, in the batch layout: family members as relation:status)
    from eligibility.columnar import evaluate_frame

    def cell(case: dict[str, object]) -> str:
        family = case.get("family_in_us", "")
        return "null" if family is None else ";".join(f"{m['relation']}:{m['status']}" for m in family)  # type: ignore[index,union-attr]

    frame = {
        "nationalities": [c["nationalities"][0] for c in cases],  # type: ignore[index]
        "age": [str(c["age"]) for c in cases],
        "unaccompanied": [str(c["unaccompanied"]).lower() for c in cases],
        "entry.date": [c["entry"]["date"] for c in cases],  # type: ignore[index]
        "entry.border": ["southern_land"] * len(cases),
        "entry.place": ["between_ports"] * len(cases),
        "transit": [";".join(c["transit"]) for c in cases],  # type: ignore[arg-type]
        "family_in_us": [cell(c) for c in cases],
    }
    for coarse in (True, False):
        result = evaluate_frame(frame, "family-example", rules=rules, coarse=coarse)
        got_codes = [str(code).split(".")[0] for code in result.outcome]
        assert got_codes == [_by_hand(c) for c in cases]


def test_the_fast_path_tells_apart_relations_of_one_status(rules) -> None:  # type: ignore[no-untyped-def]
    """Two cases that differ only in a family member's relation (same status): a spouse who is a
    citizen excepts the person, a sibling who is a citizen does not. The fast path's case key once
    kept only the statuses, and gave the second case the first one's answer."""
    from eligibility.fast import Evaluator

    base = {
        "nationalities": ["VE"],
        "age": 30,
        "entry": {"date": "2026-03-01", "border": "southern_land", "place": "between_ports"},
        "transit": ["PA", "MX"],
    }
    spouse = {**base, "family_in_us": [{"relation": "spouse", "status": "citizen"}]}
    sibling = {**base, "family_in_us": [{"relation": "sibling", "status": "citizen"}]}
    for first, second in ((spouse, sibling), (sibling, spouse)):
        fast = Evaluator("family-example", rules=rules)
        for case in (first, second):
            durable = evaluate(case, "family-example", rules=rules, engine="durable", counterfactuals=False)
            assert durable.outcome == ("process_in_us" if case is spouse else "transfer")
            assert fast.evaluate(parse_case(case)).determination().outcome == durable.outcome
            assert fast.headline(parse_case(case)).outcome == durable.outcome


def test_a_class_example_holds_the_family_members_its_rules_name(rules) -> None:  # type: ignore[no-untyped-def]
    """verify's and diff's examples are built from a class's facts: a class of the family facts
    gives a case with those facts (checked by deriving them again)."""
    from eligibility.analysis.partition import Partition, readable_case
    from eligibility.engine.program import compile_policy
    from eligibility.ruleset.conditions import PartialSet, holds

    program = compile_policy(rules, "family-example")
    partition = Partition((program,), 10_000, "split", "more than {budget} classes")
    start = partition.start()
    seen = 0
    for members_in in (frozenset(), frozenset({"spouse:citizen"}), frozenset({"spouse:lpr", "sibling:other"})):
        for relations_in in (frozenset(), frozenset({"legal_guardian"})):
            facts = dict(start)
            facts["entry.date"] = facts["decision_date"] = dt.date(2026, 3, 1)
            universe = partition.members("family_in_us.members", facts).universe
            facts["family_in_us.members"] = PartialSet(members_in, universe - members_in - {"spouse:other"}, universe)
            facts["family_in_us.relations"] = PartialSet(
                relations_in, frozenset({"parent"}) - relations_in, frozenset({"parent", "legal_guardian"})
            )
            case = readable_case(partition.example(facts), rules.context)
            derived, _ = derive_facts(parse_case(case), rules.context)
            for b in program.rules:
                if any(t.fact.startswith("family_in_us.") for t in b.checks):
                    want = holds(b.when, {**facts, "age_at_entry": derived["age_at_entry"]})
                    if want is not None:
                        assert holds(b.when, derived) == want, (b.key, case)
                        seen += 1
            assert members_in <= derived["family_in_us.members"]
            assert relations_in <= derived["family_in_us.relations"]
    assert seen
    assert CATALOGUE["family_in_us.members"].inputs == ("family_in_us",)
