"""The rule language, documented from its own definitions (the source of docs/rule-language.md).

Everything listed here is read from the code that checks rule files: the fields of a rule file
(the pydantic specs of ``eligibility.ruleset.load``), the roles and instrument kinds, every fact a
condition may test (``CATALOGUE``, with its type, values and the case fields it comes from) and
every operator (``OPERATORS``, with its aliases, the types it applies to and an example). A test
checks that docs/rule-language.md is this text, so the document cannot go stale.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel

from eligibility.ruleset.conditions import ALIASES, INT_PHRASES, NEGATION, OPERATORS, PHRASES
from eligibility.ruleset.facts import CATALOGUE, FAMILY_MEMBERS, FAMILY_STATUSES, RELATIONS, Fact
from eligibility.ruleset.load import Evidence, Kind, Role
from eligibility.ruleset.specs import (
    DefinitionsFileSpec,
    InstrumentSpec,
    InvariantSpec,
    OmitSpec,
    PoliciesFileSpec,
    PolicySpec,
    RuleFileSpec,
    RuleSpec,
    SourceSpec,
)

ROLES: dict[str, str] = {
    "in_force": "the instrument is in force when every `in_force` rule holds (dates of entry into force, suspension, termination)",
    "window": "a date window; when an instrument has windows, one must hold for it to be in force (e.g. the court windows of a rule under litigation)",
    "scope": "the instrument reaches the person only when every `scope` rule holds (who, where, when)",
    "alternative": "scope alternatives: the person is reached when one `alternative` rule holds (with the `scope` rules)",
    "exclusion": "the instrument does not apply to the person when an `exclusion` holds (names the rule it `overrides`)",
    "exception": "the instrument reaches the person but does not apply to them when an `exception` holds (`overrides` names what it sets aside)",
    "destination": "for an expulsion: where the person is sent (`to:` countries, or `nationality`)",
}

KINDS: dict[str, str] = {
    "transfer_agreement": "sends the person to the receiving country to seek protection there",
    "asylum_bar": "bars asylum (withholding of removal and CAT protection remain)",
    "wait_abroad": "returns the person to wait abroad for the U.S. hearing",
    "statutory_limit": "limits the agreements it applies to (INA 208(a)(2)(A))",
    "expulsion": "expels the person without an asylum hearing (Title 42)",
}

EVIDENCE: dict[str, str] = {
    "primary": "read in the official text (Federal Register, statute, regulation, court order, agency page)",
    "secondary": "from a report of the law (press, practitioners' guides, an unofficial copy)",
    "unverified": "a point not confirmed in any source read (said as such in the answer)",
}

TYPES: dict[str, str] = {
    "bool": "true or false",
    "int": "a whole number",
    "date": "a date, YYYY-MM-DD",
    "enum": "one of the values listed",
    "country": "an ISO 3166-1 alpha-2 country code",
    "state": "a U.S. state code (USPS)",
    "countries": "a set of country codes",
}

EXAMPLES: dict[str, str] = {
    "eq": "unaccompanied: {eq: true}  (shorthand: unaccompanied: true)",
    "ne": "entry.border: {ne: air}",
    "in": "entry.border: {in: [southern_land, southern_coastal]}",
    "not_in": "entry.state: {not_in: [CA, AZ]}",
    "lt": "entry.date: {before: 2019-11-19}",
    "le": "age_at_entry: {le: 17}",
    "gt": "entry.date: {after: 2020-03-20}",
    "ge": "entry.date: {on_or_after: 2019-11-19}",
    "contains": "nationalities: {contains: GT}",
    "not_contains": "fear_established_in: {not_contains: GT}",
    "contains_any": "nationalities: {contains_any: [CU, HT, NI]}",
    "contains_none": "nationalities: {contains_none: [MX, CA]}",
    "empty": "nationalities: {empty: true}  (stateless)",
}


EXAMPLE_RULE_FILE = """instrument:
  id: us-xx-example
  title: An example agreement sending people who passed through Panama to Costa Rica
  kind: transfer_agreement
  receiving_country: CR
  sources:
    - cite: Example Agreement art. 1
      evidence: unverified
      url: https://example.org/agreement
      paraphrase: People who passed through Panama on their way may be sent to Costa Rica.
rules:
  - id: us-xx-example.in-force
    role: in_force
    title: The agreement is in force on the decision date
    when:
      decision_date: {on_or_after: 2026-01-01}
    sources:
      - cite: Example Agreement art. 9
        evidence: unverified
        url: https://example.org/agreement
        paraphrase: It enters into force on 1 January 2026.
  - id: us-xx-example.scope.through-panama
    role: scope
    title: The person passed through Panama on the way to the United States
    when:
      transit.countries: {contains: PA}
    sources:
      - cite: Example Agreement art. 2
        evidence: unverified
        url: https://example.org/agreement
        paraphrase: It applies to people who passed through Panama.
  - id: us-xx-example.exclusion.costa-ricans
    role: exclusion
    overrides: us-xx-example
    restates: [ina-208a2.exclusion.own-country]
    title: The person is a national of Costa Rica
    when:
      nationalities: {contains: CR}
    sources:
      - cite: Example Agreement art. 3
        evidence: unverified
        url: https://example.org/agreement
        paraphrase: It does not apply to nationals of Costa Rica.
"""

EXAMPLE_POLICIES = """policies:
  - id: panama-example
    title: The statute's limits and the example agreement
    description: INA 208(a)(2) and the example agreement, alone.
    instruments: [ina-208a2, us-xx-example]
    screening:
      - [us-xx-example]
"""

EXAMPLE_GOLDEN = """- name: A Venezuelan who crossed Panama in 2026 is sent to Costa Rica
  source: "Example Agreement arts. 2 and 9 (imagined)"
  policy: panama-example
  case:
    nationalities: [VE]
    age: 30
    entry: {date: 2026-03-01, border: southern_land, place: between_ports}
    transit: [CO, PA, CR, NI, HN, GT, MX]
  expect:
    outcome: transfer
    transfer_to: [CR]
    instruments: {us-xx-example: applies}
- name: A Honduran who did not cross Panama is not
  source: "Example Agreement art. 2 (imagined)"
  policy: panama-example
  case:
    nationalities: [HN]
    age: 30
    entry: {date: 2026-03-01, border: southern_land, place: between_ports}
    transit: [GT, MX]
  expect:
    outcome: process_in_us
    instruments: {us-xx-example: not_applicable}
"""


def language_markdown() -> str:
    """docs/rule-language.md: the rule language, from its definitions."""
    lines = [
        "# The rule language",
        "",
        "Generated by `eligibility rules language` from the definitions the rule loader checks "
        "(`eligibility/ruleset/language.py`); a test keeps it current. `eligibility rules lint DIR` "
        "checks rule files against it, every problem as `file:line:col: message`.",
        "",
        "## A rule file",
        "",
        "One file per instrument, `<id>.yaml` (the file name is the instrument's id), with a "
        "header and its rules. This one is an example, not law: an agreement sending people who "
        "passed through Panama to Costa Rica from 2026.",
        "",
        "```yaml",
        *EXAMPLE_RULE_FILE.splitlines(),
        "```",
        "",
        "A policy names the instruments it applies and the order they are screened in "
        "(`policies.yaml` in the same directory; `--rules DIR` lays the directory over the shipped "
        "rules, so this adds a policy to the shipped ones):",
        "",
        "```yaml",
        *EXAMPLE_POLICIES.splitlines(),
        "```",
        "",
        "Then `eligibility rules lint DIR`, `eligibility rules verify --rules DIR --policy "
        "panama-example`, and golden cases written from the (here, imagined) text, run with "
        "`eligibility test FILE --rules DIR` (format: tests/golden/FORMAT.md):",
        "",
        "```yaml",
        *EXAMPLE_GOLDEN.splitlines(),
        "```",
        "",
    ]
    lines += _fields("`instrument:`", InstrumentSpec)
    lines += _fields("each of `rules:`", RuleSpec)
    lines += _fields("each of `sources:`", SourceSpec)
    lines += _fields("each of `omit:` (in a variant that `extends` another instrument)", OmitSpec)
    lines += [
        "A file holds " + ", ".join(f"`{name}`" for name in RuleFileSpec.model_fields) + ".",
        "",
        "### Roles",
        "",
        "| role | meaning |",
        "|---|---|",
        *(f"| `{role}` | {ROLES[role]} |" for role in get_args(Role)),
        "",
        "### Kinds of instrument",
        "",
        "| kind | meaning |",
        "|---|---|",
        *(f"| `{kind}` | {KINDS[kind]} |" for kind in get_args(Kind)),
        "",
        "### Evidence levels",
        "",
        "| level | meaning |",
        "|---|---|",
        *(f"| `{level}` | {EVIDENCE[level]} |" for level in get_args(Evidence)),
        "",
        "### Country codes",
        "",
        "A country (`receiving_country`, a country a condition names) is an ISO 3166-1 alpha-2 code "
        "of a current country (the table is pycountry's). Codes ISO leaves for "
        "user assignment (`AA`, `QM` to `QZ`, `XA` to `XZ`, `ZZ`) are refused, so a fictional "
        "receiving country is written with a real country's code standing in for it (the example "
        "above uses `CR`). A case's nationalities and transit countries are checked the same way.",
        "",
        "## policies.yaml",
        "",
        "A rules directory may hold a `policies.yaml` (see the example above). With `--rules DIR` (or "
        "`load_rules(DIR, extend=True)`) it adds to the shipped policies and replaces those of the same "
        "id; `load_rules(DIR)` alone reads the directory as a whole rule set, which then needs a "
        "`default`. Its keys:",
        "",
    ]
    lines += _fields("`policies.yaml`", PoliciesFileSpec, heading=False)
    lines += _fields("each of `policies:`", PolicySpec)
    lines += _fields("each of `invariants:` (checked by `eligibility rules verify`)", InvariantSpec)
    lines += [
        "An invariant's `never` is one of "
        + ", ".join(f"`{v}`" for v in NEVER_WORDS)
        + ", or `{instrument: ID or [IDs], status: [statuses]}`: no case may get that status.",
        "",
        "### Defined terms",
        "",
        "`defined: ID` in a condition stands for a term of `definitions.yaml`; a `definitions.yaml` "
        "in your directory adds terms (and replaces shipped ones of the same id). The shipped terms:",
        "",
        "| id | meaning |",
        "|---|---|",
        *(f"| `{term_id}` | {title} |" for term_id, title in _shipped_terms()),
        "",
        "## Conditions",
        "",
        "A `when` is a mapping. Its keys are facts (each with one or more operators), or:",
        "",
        "- `all: [conditions]`: every one holds (several keys in one mapping also mean all of them);",
        "- `any: [conditions]`: at least one holds;",
        "- `not: condition`: it does not hold;",
        "- `defined: NAME`: the condition of a legal term defined once in `definitions.yaml`, with its sources.",
        "",
        "A fact whose value is not known makes a test unknown, and an answer that depends on it "
        "undetermined (with the fact listed as missing), never a guess.",
        "",
        "## Facts",
        "",
        "| fact | type | values | from the case fields | meaning |",
        "|---|---|---|---|---|",
    ]
    for fact in CATALOGUE.values():
        values = ", ".join(f"`{v}`" for v in fact.values) if fact.values else TYPES[fact.type]
        if fact.values == FAMILY_MEMBERS:
            values = "a set of `relation:status`: " + _family_words()
        elif fact.type == "countries" and fact.values:
            values = "a set of " + values
        if fact.type == "int" and fact.lower is not None:
            values += f", {fact.lower} or more"
        inputs = ", ".join(f"`{i}`" for i in fact.inputs)
        lines.append(f"| `{fact.name}` | {_type(fact)} | {values} | {inputs} | {fact.description} |")
    lines += [
        "",
        *FAMILY_NOTE,
        "",
        "## Operators",
        "",
        "| operator | also written | reads | negation | applies to | example |",
        "|---|---|---|---|---|---|",
    ]
    aliases: dict[str, list[str]] = {}
    for alias, op in ALIASES.items():
        aliases.setdefault(op, []).append(alias)
    for op, types in OPERATORS.items():
        also = ", ".join(f"`{a}`" for a in aliases.get(op, [])) or "-"
        reads = PHRASES.get(op, op.replace("_", " "))
        if op in INT_PHRASES:
            reads += f" (numbers: {INT_PHRASES[op]})"
        negation = f"`{NEGATION[op]}`" if op in NEGATION else "-"
        applies = ", ".join(sorted(types)) + (", set" if "countries" in types else "")
        lines.append(f"| `{op}` | {also} | {reads} | {negation} | {applies} | `{EXAMPLES.get(op, '')}` |")
    lines += [
        "",
        "Lists (`in`, `not_in`, `contains_any`, `contains_none`) take a non-empty list. Dates are "
        "calendar dates; a window is written `{on_or_after: FROM, before: TO}` (FROM included, TO "
        "excluded).",
        "",
    ]
    return "\n".join(lines)


def _type(fact: Fact) -> str:
    """The type a rule writer reads: a set of words (not of countries) is a ``set``."""
    return "set" if fact.type == "countries" and fact.values else fact.type


def _family_words() -> str:
    return (
        "relation "
        + ", ".join(f"`{r}`" for r in RELATIONS)
        + "; status "
        + ", ".join(f"`{s}`" for s in FAMILY_STATUSES)
    )


FAMILY_NOTE = [
    "A `set` is tested like a set of countries (`contains`, `contains_any`, ...), with its own "
    "words as members. The family facts come from `family_in_us` (omitted: no family member in "
    "the U.S., an assumed default; `null`: not known, so the facts are unknown). A family member "
    "is spelled `relation:status` as in `--family-in-us` and a batch's `family_in_us` column, so "
    "the relation and the status are tested together:",
    "",
    "- a spouse in the U.S., whatever their status: `family_in_us.relations: {contains: spouse}`;",
    "- a spouse who is a U.S. citizen or a lawful permanent resident: "
    "`family_in_us.members: {contains_any: [spouse:citizen, spouse:lpr]}`;",
    "- no parent in the U.S. who is a citizen: `family_in_us.members: {not_contains: parent:citizen}`.",
    "",
    "`family_in_us.qualifying` is the STCA's own list (any listed relation with a status in "
    "`rules/data/family-in-us.yaml`).",
]


NEVER_WORDS: tuple[str, ...] = next(
    get_args(a) for a in get_args(InvariantSpec.model_fields["never"].annotation) if get_args(a)
)
"""The answers an invariant's ``never`` may name (those ``InvariantSpec.never`` takes)."""


def _shipped_terms() -> list[tuple[str, str]]:
    """The legal terms of the shipped definitions.yaml: id and title, in file order."""
    from eligibility.ruleset.load import default_rules_dir
    from eligibility.yamlsource import parse_yaml

    data = parse_yaml((default_rules_dir() / "definitions.yaml").read_text(encoding="utf-8"))
    terms = DefinitionsFileSpec.model_validate(data).definitions
    return [(term.id, " ".join(term.title.split())) for term in terms]


def _fields(title: str, model: type[BaseModel], heading: bool = True) -> list[str]:
    lines = [f"### Fields of {title}", ""] if heading else []
    lines += ["| field | required | meaning |", "|---|---|---|"]
    for name, info in model.model_fields.items():
        meaning = info.description or _FIELD_NOTES.get(name, "")
        lines.append(f"| `{name}` | {'yes' if info.is_required() else 'no'} | {meaning} |")
    return [*lines, ""]


_FIELD_NOTES: dict[str, Any] = {
    "id": "lower case, dotted for a rule (`instrument.kind.name`); a rule's id starts with its instrument's",
    "role": "see Roles",
    "title": "the name a reader knows it by",
    "when": "the condition (see Conditions)",
    "sources": "one or more citations, each with an evidence level",
    "overrides": "for an exclusion or exception: the instrument (or rule) it sets aside",
    "restates": "rules of other instruments this rule restates (so the same law is not counted twice)",
    "note": "a note for rule writers",
    "kind": "see Kinds of instrument",
    "receiving_country": "for a transfer agreement: the country people are sent to",
    "applies_to": "for a statutory limit: the kinds of instrument it limits",
    "extends": "a base instrument whose rules this variant inherits (it may `omit` some)",
    "summary": "a paragraph for the reference",
    "notes": "points a reader should know (UNVERIFIED points are marked so)",
    "evidence": "see Evidence levels",
    "url": "where the source can be read (http or https)",
    "quote": "the words of the source (or give `paraphrase`)",
    "paraphrase": "the source in other words, where no quote is at hand",
    "rule": "the id of the inherited rule left out",
    "default": "the policy used when none is named (required when the directory is read alone)",
    "policies": "the policies (below)",
    "invariants": "properties every case must keep, each with its sources (below)",
    "description": "what the policy is, for the reader",
    "title_es": "the title in Spanish",
    "description_es": "the description in Spanish",
    "instruments": "the instruments the policy applies (include `ina-208a2` for the statute's own limits on transfers)",
    "screening": (
        "the order in which expulsions and transfer agreements are screened: a list of stages, each a "
        "list of instrument ids; an expulsion that applies stops every later stage, and once an "
        "agreement of a stage has the person within its scope, later stages are not screened"
    ),
    "never": "the answer no case may get (below)",
    "because": "the source that says why",
}
