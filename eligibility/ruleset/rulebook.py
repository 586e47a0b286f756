"""The rules as a reader sees them: listings, one rule with its sources, the rules reference."""

from __future__ import annotations

import textwrap
from typing import Any

from eligibility.ruleset.conditions import All, Any_, Condition, Not, Test, describe
from eligibility.ruleset.load import Rule, RuleSet, Source


def condition_words(cond: Condition, indent: int = 0) -> list[str]:
    """A condition as indented lines of plain words."""
    pad = "  " * indent
    if isinstance(cond, Test):
        return [pad + describe(cond)]
    if isinstance(cond, Not):
        return [pad + "not:", *condition_words(cond.item, indent + 1)]
    word = "all of:" if isinstance(cond, All) else "any of:"
    assert isinstance(cond, (All, Any_))
    return [pad + word] + [line for item in cond.items for line in condition_words(item, indent + 1)]


def list_rules(ruleset: RuleSet) -> list[dict[str, Any]]:
    """Every rule once: id, instrument, role, title, location, evidence levels."""
    return [
        {
            "id": r.id,
            "instrument": r.instrument,
            "role": r.role,
            "title": r.title,
            "location": r.location.short,
            "evidence": sorted({s.evidence for s in r.sources}),
        }
        for r in ruleset.all_rules()
    ]


def _source_lines(source: Source) -> list[str]:
    lines = [f"  - {source.cite} [{source.evidence}]", f"    {source.url}"]
    if source.quote:
        lines += textwrap.wrap(f'"{source.quote}"', 96, initial_indent="    ", subsequent_indent="     ")
    if source.paraphrase:
        lines += textwrap.wrap(
            f"(paraphrase) {source.paraphrase}", 96, initial_indent="    ", subsequent_indent="    "
        )
    return lines


def describe_rule(ruleset: RuleSet, rule_id: str) -> str:
    """One rule with its condition, citations and quotes; raises KeyError if unknown."""
    rule: Rule = ruleset.rule(rule_id)
    used_by = sorted(i.id for i in ruleset.instruments.values() if any(r.id == rule_id for r in i.rules))
    lines = [
        f"{rule.id}  ({rule.role} of {rule.instrument}; {rule.location.short})",
        f"  {rule.title}",
    ]
    if rule.overrides:
        lines.append(f"  overrides: {rule.overrides}")
    lines.append("when:")
    lines += condition_words(rule.when, 1)
    lines.append("sources:")
    for source in rule.sources:
        lines += _source_lines(source)
    if rule.note:
        lines.append(f"note: {rule.note}")
    lines.append(f"in instruments: {', '.join(used_by)}")
    return "\n".join(lines)


def show_instrument(ruleset: RuleSet, ident: str) -> str:
    """An instrument (its summary, sources, notes and rules) or a policy."""
    if ident in ruleset.policies:
        policy = ruleset.policies[ident]
        lines = [
            f"policy {policy.id}: {policy.title}  ({policy.location.short})",
            f"  {policy.description}",
            "instruments:",
        ]
        lines += [f"  - {i}: {ruleset.instruments[i].title}" for i in policy.instruments]
        if policy.screening:
            lines.append(
                "screening order: " + " then ".join("[" + ", ".join(s) + "]" for s in policy.screening)
            )
        return "\n".join(lines)
    inst = ruleset.instruments[ident]
    lines = [f"{inst.id}: {inst.title}  ({inst.kind}; {inst.location.short})"]
    if inst.extends:
        lines.append(f"  extends: {inst.extends}")
    if inst.receiving_country:
        lines.append(f"  receiving country: {inst.receiving_country}")
    if inst.summary:
        lines += textwrap.wrap(inst.summary, 96, initial_indent="  ", subsequent_indent="  ")
    lines.append("sources:")
    for source in inst.sources:
        lines += _source_lines(source)
    for note in inst.notes:
        lines.append(f"note: {note}")
    lines.append("rules:")
    lines += [f"  - {r.id} ({r.role}): {r.title}  [{r.location.short}]" for r in inst.rules]
    return "\n".join(lines)


def reference_markdown(ruleset: RuleSet) -> str:
    """The rules reference (docs/rules.md): every policy, instrument and rule with its sources."""
    out = [
        "# Rules reference",
        "",
        "Generated from `rules/` by `eligibility rules reference`; do not edit by hand.",
        "",
    ]
    if ruleset.reviewed is not None:
        out += [
            f"The law was last reviewed on {ruleset.reviewed.isoformat()}: a decision after that date carries "
            "a caveat that later law is not encoded.",
            "",
        ]
    out += ["## Policies", ""]
    for policy in ruleset.policies.values():
        default = " (default)" if policy.id == ruleset.default_policy else ""
        out += [f"### `{policy.id}`{default}: {policy.title}", "", policy.description.strip(), ""]
        out += [f"- `{i}`: {ruleset.instruments[i].title}" for i in policy.instruments]
        if policy.screening:
            order = " then ".join(
                "[" + ", ".join(f"`{i}`" for i in stage) + "]" for stage in policy.screening
            )
            out += ["", f"Screening order: {order}."]
        out.append("")
    out += ["## Instruments", ""]
    for inst in ruleset.instruments.values():
        out += [
            f"### `{inst.id}`: {inst.title}",
            "",
            f"Kind: {inst.kind.replace('_', ' ')}"
            + (f"; receiving country: {inst.receiving_country}" if inst.receiving_country else "")
            + (f"; extends `{inst.extends}`" if inst.extends else "")
            + f". Source file: `{inst.location.file}`.",
            "",
        ]
        if inst.summary:
            out += [inst.summary.strip(), ""]
        for source in inst.sources:
            out.append(f"- {source.cite} [{source.evidence}] <{source.url}>")
        for note in inst.notes:
            out.append(f"- Note: {note}")
        out += ["", "| rule | role | when | sources (rule evidence) | line |", "|---|---|---|---|---|"]
        for rule in inst.rules:
            when = "; ".join(line.strip() for line in condition_words(rule.when))
            cites = "; ".join(f"{s.cite} [{s.evidence}]" for s in rule.sources) + f" (**{rule.evidence}**)"
            cell = f"`{rule.id}`<br>{rule.title}"
            if rule.to is not None:
                cell += "<br>Expel to: " + (", ".join(rule.to) if rule.to else "every country of nationality")
            for caveat in rule.caveats:
                cell += f"<br>Caveat: {caveat}"
            out.append(
                f"| {cell} | {rule.role} | {when} | {cites} | {rule.location.short} |".replace("\n", " ")
            )
        out.append("")
    return "\n".join(out).rstrip() + "\n"
