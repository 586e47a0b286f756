"""The client memo: one printable page on a decision record, for a lawyer's file.

It says what the short answer says (``short.render_short``, whose helpers it uses), laid out as a
document: the determination with its evidence level and caveats, the facts as given, the defaults
assumed (to check with the client), the reasons that decided it with their citations, what is
unknown, the changes of facts that would change the answer, how to read the evidence levels, and
a footer with the policy, the rules digest, the tool's version and when it was made.

Two renderings of the same content: HTML (one self-contained file with print CSS, to print or to
save as PDF) and GitHub-flavoured Markdown. Everything that comes from the record is escaped: a
record is data, and may be hostile.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

from eligibility.explain.determination import DecisionRecord, Finding
from eligibility.explain.short import (
    WOULD_CHANGE_SHOWN,
    _changes,
    _deciding,
    _exceptions,
    _headline,
    _no_transfer,
    _rests_on,
    _status_line,
    _unknown,
    given_facts,
    headline_words,
    level_name,
    status_name,
)
from eligibility.i18n import translator

_ITEM = "  - "
"""How ``short``'s helpers start an item of a list (after their indentation)."""


# --- the content, as plain text ---------------------------------------------------------------


@dataclass(frozen=True)
class _Cite:
    text: str
    level: str
    """the evidence level's name, in the memo's language"""
    url: str


@dataclass(frozen=True)
class _Reason:
    text: str
    assumed: str | None
    """'[as assumed: ...]' when the rule's truth rests on assumed defaults"""
    cites: list[_Cite]


@dataclass(frozen=True)
class _Instrument:
    heading: str
    reasons: list[_Reason]


@dataclass(frozen=True)
class _Memo:
    lang: str
    labels: dict[str, str]
    """the memo's fixed headings and labels, translated"""
    meta: list[tuple[str, str]]
    headline: str
    status: str
    evidence: str
    caveats: list[str]
    facts: list[tuple[str, str]]
    interview: str | None
    assumptions: list[str]
    nothing_assumed: str | None
    why: list[_Instrument]
    why_notes: list[str]
    unknown: list[tuple[str | None, list[str]]]
    """groups of items under ``short``'s lead-ins ('Not known, and needed:')"""
    changes: list[str]
    levels: list[tuple[str, str]]
    footer: list[tuple[str, str]]
    disclaimer: str


def render_memo(record: DecisionRecord, fmt: Literal["html", "md"]) -> str:
    """A one-page memo on ``record`` for a client file, in the record's language: ``fmt`` 'html'
    (a self-contained page with print CSS) or 'md' (GitHub-flavoured Markdown)."""
    memo = _content(record)
    if fmt == "html":
        return _html(memo)
    if fmt == "md":
        return _markdown(memo)
    raise ValueError(f"unknown memo format {fmt!r}: 'html' or 'md'")


def _content(rec: DecisionRecord) -> _Memo:
    _ = translator(rec.lang)
    labels = {
        "title": _("Eligibility memo"),
        "determination": _("Determination"),
        "caveats": _("Caveats"),
        "facts": _("Facts as given"),
        "fact": _("Fact"),
        "given": _("As given"),
        "assumed": _("Assumed, not given: check with the client"),
        "why": _("Why: the reasons that decided it"),
        "sources": _("Sources"),
        "unknown": _("What is unknown, and what would settle it"),
        "changes": _("What would change the answer"),
        "levels": _("How to read the evidence levels"),
    }
    assumed_date = "decision_date" in rec.assumed
    decision = rec.dates.decision or _("not known")
    meta = [
        (_("Case"), rec.id if rec.id else _("no case id")),
        (_("Policy"), rec.policy),
        (_("Decision date"), _("{date} (assumed)").format(date=decision) if assumed_date else decision),
    ]
    evidence = _headline(rec, _)[-1].strip()  # the level, what it means, and the weakest sources

    rests = _rests_on(rec, _)
    assumptions = [line.removeprefix(_ITEM) for line in rests if line.startswith(_ITEM)]

    unknown = _groups(_unknown(rec, _))
    if not unknown:
        unknown = [
            (
                None,
                [_("Nothing that is needed is unknown: the facts given and the defaults assumed settle it.")],
            )
        ]
    changes = [line.removeprefix(_ITEM) for line in _changes(rec, _) if line.startswith(_ITEM)]
    more = len(rec.would_change_if) - WOULD_CHANGE_SHOWN
    if more > 0:
        changes.append(
            _("… and {count} more in the full trace (eligibility check --explain).").format(count=more)
        )
    if not rec.would_change_if:
        changes = [_("No change of a single fact found changes the answer.")]

    why, notes = _reasons(rec, _)
    return _Memo(
        lang=rec.lang,
        labels=labels,
        meta=meta,
        headline=headline_words(rec),
        status=_status_line(rec, _),
        evidence=evidence,
        caveats=list(rec.caveats),
        facts=_facts(rec, _),
        interview=(
            _("These facts were taken in an interview ({count} questions answered).").format(
                count=len(rec.answers)
            )
            if rec.answers
            else None
        ),
        assumptions=assumptions,
        nothing_assumed=None
        if rec.assumed
        else _("Nothing was assumed: every fact the rules test was given or is unknown."),
        why=why,
        why_notes=notes,
        unknown=unknown,
        changes=changes,
        levels=[
            (
                level_name("primary", rec.lang),
                _(
                    "The rule rests on the official text (statute, regulation, agreement as published). "
                    "Cite it, after checking that the text cited is the one in force on the dates of the case."
                ),
            ),
            (
                level_name("secondary", rec.lang),
                _(
                    "The rule rests on a report of the law (a news report, an agency or research summary), "
                    "not on the official text. Read the official text before relying on it."
                ),
            ),
            (
                level_name("unverified", rec.lang),
                _(
                    "The rule rests on a source that could not be checked. Do not rely on it: verify the "
                    "rule independently before advising the client."
                ),
            ),
        ],
        footer=[
            (_("Policy"), rec.policy),
            (_("Rules digest"), rec.rules_digest),
            (_("Tool version"), rec.version),
            (_("Evaluated at"), rec.evaluated_at),
        ],
        disclaimer=_(
            "Not legal advice. This memo applies rules encoded from the sources cited to the facts given "
            "and the defaults assumed above; a lawyer must check both before relying on it."
        ),
    )


def _groups(lines: list[str]) -> list[tuple[str | None, list[str]]]:
    """``short``'s lines as lists of items, each under the line that leads in to it."""
    groups: list[tuple[str | None, list[str]]] = []
    for line in lines:
        if line.startswith(_ITEM):
            if not groups:
                groups.append((None, []))
            groups[-1][1].append(line.removeprefix(_ITEM))
        elif line.strip():
            groups.append((line.strip(), []))
    return groups


def _facts(rec: DecisionRecord, _: Callable[[str], str]) -> list[tuple[str, str]]:
    """The facts as given, as (label, value) rows: ``given_facts`` says one fact per field."""
    given = given_facts(rec.case, rec.lang)
    fields: list[str] = [field for field in rec.case if field != "id"]
    if len(fields) != len(given):  # not one line per field: labels from the lines alone
        fields = [""] * len(given)
    rows = []
    for field, said in zip(fields, given, strict=True):
        if field == "entry" and isinstance(rec.case["entry"], dict):
            date = str(rec.case["entry"].get("date"))
            prefix = _("entry {date}").format(date=date)
            label = _("entry")
            value = date + said.removeprefix(prefix) if said.startswith(prefix) else said
        else:
            label, sep, value = said.partition(": ")
            if not sep:
                label, value = field, said
        rows.append((label[:1].upper() + label[1:], value))
    return rows


def _reasons(rec: DecisionRecord, _: Callable[[str], str]) -> tuple[list[_Instrument], list[str]]:
    """The instruments that decided the headline, each with the reasons ``short`` gives for it,
    with their citations; then, for a claim heard in the U.S., why no agreement sends it away."""
    assumed = set(rec.assumed)
    out = []
    for inst in _deciding(rec):
        findings = {f.rule: f for f in inst.findings}
        reasons = []
        for reason, rule in zip(inst.reasons, inst.reason_rules, strict=True):
            finding = findings.get(rule) if rule else None
            if not _shown(finding):
                continue
            reasons.append(
                _Reason(
                    reason,
                    _("[as assumed: {fields}]").format(fields=", ".join(finding.assumed))
                    if finding is not None and finding.assumed
                    else None,
                    _cites(finding, rec.lang),
                )
            )
        reasons += [
            _Reason(line.strip().removeprefix("- "), None, []) for line in _exceptions(inst, assumed, _)
        ]
        out.append(
            _Instrument(
                _("{title}: {status}").format(title=inst.title, status=status_name(inst.status, rec.lang)),
                reasons,
            )
        )
    notes = []
    if rec.outcome == "process_in_us":
        for line in _no_transfer(rec, _):
            if line.startswith("    - ") and out:
                out[-1].reasons.append(_Reason(line.strip().removeprefix("- "), None, []))
            else:
                out.append(_Instrument(line.strip(), []))
        if rec.asylum == "eligible":
            notes.append(_("No asylum bar applies on these facts and dates."))
    return out, notes


def _shown(finding: Finding | None) -> bool:
    """Whether ``short`` gives a reason: not for an exclusion or exception that does not hold
    (those are summed up by ``_exceptions``)."""
    return not (finding is not None and finding.holds is False and finding.role in ("exclusion", "exception"))


def _cites(finding: Finding | None, lang: str) -> list[_Cite]:
    if finding is None:
        return []
    return [_Cite(c.cite, level_name(c.evidence, lang), c.url) for c in finding.citations]


def _safe_url(url: str) -> str | None:
    """``url`` if it is an absolute http(s) address (anything else is shown, never linked)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
@page { margin: 11mm 15mm 10mm; }
*, *::before, *::after { box-sizing: border-box; }
html { font-family: "Times New Roman", Times, "Liberation Serif", "Nimbus Roman", "DejaVu Serif", Georgia, serif;
  font-size: 10pt; line-height: 1.22; color: #111; background: #fff; }
body { margin: 0; }
.memo { max-width: 180mm; margin: 0 auto; }
h1 { font-size: 16pt; font-weight: bold; letter-spacing: .02em; margin: 0 0 1pt; }
h2 { font-size: 9.5pt; font-weight: bold; text-transform: uppercase; letter-spacing: .06em;
  margin: 5pt 0 2pt; padding-bottom: 1pt; border-bottom: .6pt solid #555; break-after: avoid; }
h3 { font-size: 10pt; font-weight: bold; font-style: italic; margin: 2pt 0 1pt; break-after: avoid; }
p { margin: 0 0 2pt; }
ul, ol { margin: 0 0 2pt; padding-left: 15pt; }
li { margin: 0 0 1pt; break-inside: avoid; }
a { color: #1a3c78; text-decoration: none; }
.meta { margin: 0 0 6pt; padding-bottom: 4pt; border-bottom: 1.8pt double #111; font-size: 9.5pt; }
.meta span { margin-right: 14pt; white-space: nowrap; }
.decision { border: .8pt solid #111; padding: 4pt 8pt 3pt; margin: 0 0 2pt; break-inside: avoid; }
.headline { font-size: 13.5pt; font-weight: bold; letter-spacing: .03em; margin-bottom: 1pt; }
.evidence, .caveats { font-size: 9pt; }
.caveats { margin-top: 2pt; }
table.facts { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
table.facts th, table.facts td { text-align: left; vertical-align: top; padding: 1pt 6pt 1pt 0;
  border-bottom: .4pt solid #bbb; }
table.facts thead th { font-size: 8pt; font-weight: bold; text-transform: uppercase; letter-spacing: .05em;
  border-bottom: .8pt solid #555; }
table.facts td:first-child { width: 28%; font-style: italic; }
tr { break-inside: avoid; }
.note { font-size: 9pt; font-style: italic; }
.sources { display: block; font-size: 8.5pt; color: #333; }
.level { font-size: 8pt; font-style: italic; white-space: nowrap; color: #111; }
.assumed { font-style: italic; white-space: nowrap; }
.lead { font-style: italic; }
.levels { border: .6pt solid #777; background: #f5f5f1; padding: 2pt 7pt 3pt; margin-top: 6pt;
  font-size: 8.5pt; line-height: 1.22; break-inside: avoid; }
.levels h2 { border: 0; margin: 1pt 0 2pt; padding: 0; font-size: 8.5pt; }
.levels dl { margin: 0; display: grid; grid-template-columns: repeat(3, 1fr); gap: 0 10pt; }
.levels div { margin: 0; }
.levels dt { font-weight: bold; font-style: italic; }
.levels dd { margin: 0; }
footer { margin-top: 5pt; padding-top: 2pt; border-top: .6pt solid #555; font-size: 8pt; color: #222;
  break-inside: avoid; }
footer p { margin: 0 0 1pt; }
footer .record span { margin-right: 12pt; white-space: nowrap; }
footer i { color: #444; }
footer code { font-family: "DejaVu Sans Mono", "Liberation Mono", Consolas, monospace; font-size: 7.5pt;
  overflow-wrap: anywhere; }
footer .disclaimer { font-weight: bold; }
@media screen {
  html { background: #d6d6d2; }
  body { padding: 12px 0; }
  .memo { background: #fff; max-width: 210mm; min-height: 297mm; padding: 12mm 15mm 12mm; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
}
@media print {
  a { color: #111; }
  .levels { background: none; }
}
"""


_URL_SAFE = ":/?#@!$&'*+,;=%~-._"
"""What an address keeps as is in a Markdown link (spaces, parentheses and brackets are encoded)."""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _link(text: str, url: str) -> str:
    safe = _safe_url(url)
    return f'<a href="{_e(safe)}">{_e(text)}</a>' if safe else _e(text)


def _html(m: _Memo) -> str:
    lab = m.labels
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(m.lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(lab['title'])} — {_e(m.meta[0][1])}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        '<main class="memo">',
        "<header>",
        f"<h1>{_e(lab['title'])}</h1>",
        '<p class="meta">' + " ".join(f"<span><b>{_e(k)}:</b> {_e(v)}</span>" for k, v in m.meta) + "</p>",
        "</header>",
        '<section class="decision">',
        f'<p class="headline">{_e(m.headline)}</p>',
        f"<p>{_e(m.status)}</p>",
        f'<p class="evidence">{_e(m.evidence)}</p>',
    ]
    if m.caveats:
        out.append(f'<ul class="caveats">{"".join(f"<li>{_e(c)}</li>" for c in m.caveats)}</ul>')
    out.append("</section>")

    out += ["<section>", f"<h2>{_e(lab['facts'])}</h2>"]
    if m.facts:
        out += [
            '<table class="facts">',
            f"<thead><tr><th>{_e(lab['fact'])}</th><th>{_e(lab['given'])}</th></tr></thead>",
            "<tbody>",
            *(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in m.facts),
            "</tbody>",
            "</table>",
        ]
    if m.interview:
        out.append(f'<p class="note">{_e(m.interview)}</p>')
    out.append("</section>")

    out += ["<section>", f"<h2>{_e(lab['assumed'])}</h2>"]
    if m.nothing_assumed:
        out.append(f"<p>{_e(m.nothing_assumed)}</p>")
    if m.assumptions:
        out.append("<ul>")
        out += [f"<li>{_e(item)}</li>" for item in m.assumptions]
        out.append("</ul>")
    out.append("</section>")

    out += ["<section>", f"<h2>{_e(lab['why'])}</h2>"]
    for inst in m.why:
        out.append(f"<h3>{_e(inst.heading)}</h3>")
        if inst.reasons:
            out.append("<ol>")
            for r in inst.reasons:
                said = _e(r.text)
                if r.assumed:
                    said += f' <span class="assumed">{_e(r.assumed)}</span>'
                if r.cites:
                    said += '<span class="sources">' + "; ".join(
                        f'{_link(c.text, c.url)} <span class="level">[{_e(c.level)}]</span>' for c in r.cites
                    )
                    said += "</span>"
                out.append(f"<li>{said}</li>")
            out.append("</ol>")
    out += [f"<p>{_e(note)}</p>" for note in m.why_notes]
    out.append("</section>")

    out += [
        "<section>",
        f"<h2>{_e(lab['unknown'])}</h2>",
    ]
    for lead, items in m.unknown:
        if lead:
            out.append(f'<p class="lead">{_e(lead)}</p>')
        if items:
            out += ["<ul>", *(f"<li>{_e(u)}</li>" for u in items), "</ul>"]
    out += [
        "</section>",
        "<section>",
        f"<h2>{_e(lab['changes'])}</h2>",
        "<ul>",
        *(f"<li>{_e(c)}</li>" for c in m.changes),
        "</ul>",
        "</section>",
        '<aside class="levels">',
        f"<h2>{_e(lab['levels'])}</h2>",
        "<dl>",
        *(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in m.levels),
        "</dl>",
        "</aside>",
        "<footer>",
        '<p class="record">'
        + " ".join(
            f"<span><i>{_e(k)}:</i> {f'<code>{_e(v)}</code>' if i == 1 else _e(v)}</span>"
            for i, (k, v) in enumerate(m.footer)
        )
        + "</p>",
        f'<p class="disclaimer">{_e(m.disclaimer)}</p>',
        "</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


# --- Markdown ---------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#&!~])")


def _md(text: str) -> str:
    """``text`` as literal Markdown on one line: its characters that Markdown or HTML would
    read (emphasis, links, tags, entities, table cells) backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _md_link(text: str, url: str) -> str:
    safe = _safe_url(url)
    if not safe:
        return _md(text)
    return f"[{_md(text)}]({quote(safe, safe=_URL_SAFE)})"


def _markdown(m: _Memo) -> str:
    lab = m.labels
    out = [f"# {_md(lab['title'])}", ""]
    out.append("  \n".join(f"**{_md(k)}:** {_md(v)}" for k, v in m.meta))
    out += ["", f"## {_md(lab['determination'])}", "", f"**{_md(m.headline)}**", "", _md(m.status), ""]
    out += [_md(m.evidence), ""]
    if m.caveats:
        out += [f"**{_md(lab['caveats'])}:**", "", *(f"- {_md(c)}" for c in m.caveats), ""]

    out += [f"## {_md(lab['facts'])}", ""]
    if m.facts:
        out += [f"| {_md(lab['fact'])} | {_md(lab['given'])} |", "| --- | --- |"]
        out += [f"| {_md(k)} | {_md(v)} |" for k, v in m.facts]
        out.append("")
    if m.interview:
        out += [f"*{_md(m.interview)}*", ""]

    out += [f"## {_md(lab['assumed'])}", ""]
    if m.nothing_assumed:
        out += [_md(m.nothing_assumed), ""]
    if m.assumptions:
        out += [*(f"- {_md(a)}" for a in m.assumptions), ""]

    out += [f"## {_md(lab['why'])}", ""]
    for inst in m.why:
        out += [f"### {_md(inst.heading)}", ""]
        for number, r in enumerate(inst.reasons, 1):
            said = f"{number}. {_md(r.text)}"
            if r.assumed:
                said += f" *{_md(r.assumed)}*"
            if r.cites:
                said += f"  \n   {_md(lab['sources'])}: " + "; ".join(
                    f"{_md_link(c.text, c.url)} [{_md(c.level)}]" for c in r.cites
                )
            out.append(said)
        if inst.reasons:
            out.append("")
    out += [*(_md(note) for note in m.why_notes)]
    if m.why_notes:
        out.append("")

    out += [f"## {_md(lab['unknown'])}", ""]
    for lead, items in m.unknown:
        if lead:
            out += [_md(lead), ""]
        if items:
            out += [*(f"- {_md(u)}" for u in items), ""]
    out += [f"## {_md(lab['changes'])}", "", *(f"- {_md(c)}" for c in m.changes), ""]
    out += [f"## {_md(lab['levels'])}", ""]
    out += [f"> **{_md(k)}**: {_md(v)}  " for k, v in m.levels]
    out[-1] = out[-1].rstrip()
    out += ["", "---", ""]
    out.append("  \n".join(f"{_md(k)}: {_md(v)}" for k, v in m.footer))
    out += ["", f"**{_md(m.disclaimer)}**", ""]
    return "\n".join(out)
