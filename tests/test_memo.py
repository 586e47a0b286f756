"""The client memo (``render_memo``): one printable page for a lawyer's file, in HTML and Markdown.

Written from what the memo must say: the README's case (a transfer to Guatemala), the facts as
given, what was assumed, the reasons with their citations and evidence levels, what is unknown,
what would change the answer, how to read the evidence levels, and the record it was made from.
A record is data: whatever it holds must come out inert.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

import eligibility
from eligibility import i18n
from eligibility.explain.determination import DecisionRecord
from eligibility.explain.memo import render_memo

WHEN = "2024-05-01T12:00:00+00:00"
README_CASE: dict[str, Any] = {
    "nationalities": ["HN"],
    "age": 30,
    "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"},
    "transit": [{"country": "GT"}, {"country": "MX"}],
}
UNDETERMINED_CASE: dict[str, Any] = {
    "nationalities": ["HN"],
    "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"},
    "transit": [{"country": "MX"}],
}
HEARD_IN_US_CASE: dict[str, Any] = {
    "nationalities": ["HT"],
    "age": 35,
    "entry": {"date": "2019-06-01", "border": "northern_land", "place": "port_of_entry"},
    "family_in_us": [{"relation": "sibling", "status": "lpr"}],
}
HOSTILE = "<script>alert(1)</script>"


def make(case: dict[str, Any], lang: str = "en") -> DecisionRecord:
    return eligibility.record(eligibility.evaluate(case, lang=lang), case, evaluated_at=WHEN)


@pytest.fixture(scope="module")
def readme() -> DecisionRecord:
    return make(README_CASE)


class Page(HTMLParser):
    """An HTML memo read back: its text by section (the h2 it falls under), its links, its table
    rows, its tags, and any tag closed out of order."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input", "col", "wbr", "area", "base", "source"})

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.unbalanced: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.sections: dict[str, list[str]] = {"": []}
        self.links: list[tuple[str | None, str]] = []
        self.rows: list[list[str]] = []
        self.lang: str | None = None
        self._section = ""
        self._heading: list[str] | None = None
        self._link: tuple[str | None, list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "h2":
            self._heading = []
        elif tag == "footer":
            self._section = "footer"
            self.sections.setdefault("footer", [])
        elif tag == "a":
            self._link = (dict(attrs).get("href"), [])
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.unbalanced.append(f"</{tag}> with {self.stack[-1:] or 'nothing'} open")
        else:
            self.stack.pop()
        if tag == "h2" and self._heading is not None:
            self._section = " ".join("".join(self._heading).split())
            self.sections.setdefault(self._section, [])
            self._heading = None
        elif tag == "a" and self._link is not None:
            self.links.append((self._link[0], "".join(self._link[1])))
            self._link = None
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        for part in (self._heading, self._cell, self._link[1] if self._link else None):
            if part is not None:
                part.append(data)
        if self._heading is None:
            self.sections[self._section].append(data)

    def text(self, section: str | None = None) -> str:
        parts = (
            [p for ps in self.sections.values() for p in ps] if section is None else self.sections[section]
        )
        return " ".join("".join(parts).split())


def md_sections(text: str) -> dict[str, str]:
    """The Markdown memo's text under each '## ' heading ('' before the first)."""
    out: dict[str, list[str]] = {"": []}
    current = ""
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            out[current] = []
        else:
            out[current].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def unescape_md(text: str) -> str:
    return re.sub(r"\\([\\`*_\[\]<>|#&!~])", r"\1", text)


# --- the README's case ------------------------------------------------------------------------


def test_the_memo_heads_the_readme_case_with_its_determination(readme: DecisionRecord) -> None:
    page = Page(render_memo(readme, "html"))
    assert page.lang == "en"
    assert [t for t, _ in page.starts if t == "h1"] == ["h1"]
    top = page.text("")
    assert "Eligibility memo" in top
    assert "TRANSFER to Guatemala (GT)" in top
    assert "examined in Guatemala, not in the U.S." in top
    assert "Evidence secondary" in top and "report of the law" in top  # the level and what it means
    assert "Decision date: 2019-12-01 (assumed)" in top
    assert top.index("Eligibility memo") < top.index("TRANSFER to Guatemala (GT)")

    md = render_memo(readme, "md")
    assert md.startswith("# Eligibility memo\n")
    assert "**TRANSFER to Guatemala (GT)**" in md
    assert "Evidence secondary" in md


def test_the_memo_shows_the_caveats_with_the_determination(readme: DecisionRecord) -> None:
    caveat = "Enjoined in part: East Bay Sanctuary Covenant v. Barr (N.D. Cal.)"
    record = readme.model_copy(update={"caveats": [caveat]})
    top = Page(render_memo(record, "html")).text("")
    assert top.index("TRANSFER to Guatemala (GT)") < top.index(caveat)
    assert caveat in md_sections(render_memo(record, "md"))["Determination"]


def test_the_memo_keeps_its_sections_in_order(readme: DecisionRecord) -> None:
    expected = [
        "Facts as given",
        "Assumed, not given: check with the client",
        "Why: the reasons that decided it",
        "What is unknown, and what would settle it",
        "What would change the answer",
        "How to read the evidence levels",
    ]
    page = Page(render_memo(readme, "html"))
    assert [s for s in page.sections if s not in ("", "footer")] == expected
    assert list(page.sections)[-1] == "footer"
    assert [s for s in md_sections(render_memo(readme, "md")) if s] == ["Determination", *expected]


def test_the_memo_states_the_facts_as_given(readme: DecisionRecord) -> None:
    page = Page(render_memo(readme, "html"))
    rows = {row[0]: row[1] for row in page.rows if len(row) == 2}
    assert rows["Nationality"] == "Honduras (HN)"
    assert rows["Age"] == "30"
    assert rows["Countries passed through"] == "Guatemala (GT), Mexico (MX)"
    assert "2019-12-01" in rows["Entry"] and "between ports of entry" in rows["Entry"]
    assert "southern land border" in rows["Entry"]
    assert len(rows) == 5  # the header and the four facts given: nothing assumed is shown as given

    facts = md_sections(render_memo(readme, "md"))["Facts as given"]
    assert "| Nationality | Honduras (HN) |" in facts
    assert "| Countries passed through | Guatemala (GT), Mexico (MX) |" in facts


def test_the_memo_says_each_default_as_a_fact_to_check_with_the_client(readme: DecisionRecord) -> None:
    page = Page(render_memo(readme, "html"))
    assumed = page.text("Assumed, not given: check with the client")
    first = assumed.split("2019-12-01")[0]
    assert "decision is made on" in first  # the decision date, assumed, comes first
    assert "holds no U.S. visa" in assumed
    assert "public interest" in assumed
    assert "habitually resident in Honduras (HN)" in assumed
    assert "decision_date =" not in assumed  # said in words, not as a field

    md = md_sections(render_memo(readme, "md"))["Assumed, not given: check with the client"]
    assert "decision is made on" in md and "2019-12-01" in md


def test_the_reasons_cite_their_sources_with_evidence_levels_and_links(readme: DecisionRecord) -> None:
    page = Page(render_memo(readme, "html"))
    why = page.text("Why: the reasons that decided it")
    assert "Guatemala Asylum Cooperative Agreement" in why and ": applies" in why
    assert re.search(r"84 FR 63994[^;\[]*\[primary\]", why)
    assert "[as assumed: decision_date]" in why  # a reason resting on a default says so
    assert "No exception or exclusion holds" in why

    url = next(
        c.url
        for i in readme.instruments
        for f in i.findings
        for c in f.citations
        if c.cite.startswith("84 FR 63994")
    )
    assert (url, "84 FR 63994, DATES and applicability") in page.links
    assert all(href and href.startswith(("http://", "https://")) for href, _ in page.links)

    md = md_sections(render_memo(readme, "md"))["Why: the reasons that decided it"]
    assert re.search(r"\[84 FR 63994[^\]]*\]\(https://[^)]+\) \[primary\]", md)


def test_the_memo_lists_a_few_changes_that_would_change_the_answer(readme: DecisionRecord) -> None:
    page = Page(render_memo(readme, "html"))
    changes = page.text("What would change the answer")
    assert "nationalities also GT: process in the U.S." in changes
    md = md_sections(render_memo(readme, "md"))["What would change the answer"]
    items = [line for line in md.splitlines() if line.startswith("- ")]
    assert 1 < len(items) <= 5  # a few, and how many more there are
    assert len(readme.would_change_if) > 4 and str(len(readme.would_change_if) - 4) in items[-1]


def test_the_memo_says_nothing_needed_is_unknown_when_the_facts_settle_it(readme: DecisionRecord) -> None:
    page = Page(render_memo(readme, "html"))
    assert "Nothing that is needed is unknown" in page.text("What is unknown, and what would settle it")


def test_the_memo_says_what_is_unknown_and_what_would_settle_it() -> None:
    record = make(UNDETERMINED_CASE)
    page = Page(render_memo(record, "html"))
    assert "UNDETERMINED" in page.text("")
    unknown = page.text("What is unknown, and what would settle it")
    assert "age, unaccompanied" in unknown
    assert "Nothing that is needed is unknown" not in unknown
    md = md_sections(render_memo(record, "md"))["What is unknown, and what would settle it"]
    assert "age, unaccompanied" in md


def test_a_claim_heard_in_the_us_says_why_no_agreement_sends_it_away() -> None:
    record = make(HEARD_IN_US_CASE)
    page = Page(render_memo(record, "html"))
    assert "PROCESS IN THE U.S." in page.text("")
    why = page.text("Why: the reasons that decided it")
    assert "Safe Third Country Agreement" in why and "excepted" in why
    assert "No asylum bar applies" in why


def test_the_memo_explains_how_to_read_the_evidence_levels(readme: DecisionRecord) -> None:
    page = Page(render_memo(readme, "html"))
    levels = page.text("How to read the evidence levels")
    for level in ("primary", "secondary", "unverified"):
        assert level in levels
    assert "official text" in levels and "Do not rely on it" in levels
    md = md_sections(render_memo(readme, "md"))["How to read the evidence levels"]
    assert "**primary**" in md and "**secondary**" in md and "**unverified**" in md


def test_the_footer_names_the_record_it_was_made_from(readme: DecisionRecord) -> None:
    page = Page(render_memo(readme, "html"))
    footer = page.text("footer")
    assert readme.rules_digest.startswith("sha256:") and readme.rules_digest in footer  # whole
    assert f"Tool version: {readme.version}" in footer
    assert f"Evaluated at: {WHEN}" in footer
    assert "Policy: enacted" in footer
    assert "not legal advice" in footer.lower()

    md = render_memo(readme, "md")
    tail = md[md.rindex("\n---\n") :]
    assert readme.rules_digest in tail and readme.version in tail and WHEN in tail
    assert "not legal advice" in tail.lower()


# --- a document to file -------------------------------------------------------------------------


def test_the_html_memo_is_one_self_contained_printable_file(readme: DecisionRecord) -> None:
    text = render_memo(readme, "html")
    page = Page(text)
    tags = {t for t, _ in page.starts}
    assert {"script", "link", "img", "iframe", "object"}.isdisjoint(tags)
    assert not any("src" in attrs for _, attrs in page.starts)
    style = text[text.index("<style>") : text.index("</style>")]
    assert "@page" in style and "@media print" in style and "break-inside" in style
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    assert re.search(r"font-family:[^;]*serif", style)
    assert text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in text


@pytest.mark.parametrize(
    "case", [README_CASE, UNDETERMINED_CASE, HEARD_IN_US_CASE], ids=["transfer", "undetermined", "us"]
)
def test_the_html_memo_parses_with_balanced_tags(case: dict[str, Any]) -> None:
    page = Page(render_memo(make(case), "html"))
    assert page.unbalanced == []
    assert page.stack == []
    assert [t for t, _ in page.starts][:3] == ["html", "head", "meta"]


def test_an_unknown_format_is_refused(readme: DecisionRecord) -> None:
    with pytest.raises(ValueError, match="memo format"):
        render_memo(readme, "pdf")  # type: ignore[arg-type]


# --- a hostile record -----------------------------------------------------------------------------


def hostile(record: DecisionRecord) -> DecisionRecord:
    """The README's record with markup, a script address and Markdown in the places data goes."""
    instruments = []
    for inst in record.instruments:
        findings = [
            f.model_copy(
                update={
                    "citations": [
                        c.model_copy(
                            update={
                                "cite": c.cite + " <u>x</u> | [x](javascript:alert(2))",
                                "url": "javascript:alert(3)",
                            }
                        )
                        for c in f.citations
                    ]
                }
            )
            for f in inst.findings
        ]
        instruments.append(
            inst.model_copy(
                update={
                    "title": inst.title + " <img src=x onerror=alert(4)>",
                    "reasons": [r + " </li></ol><script>alert(5)</script>" for r in inst.reasons],
                    "findings": findings,
                }
            )
        )
    return record.model_copy(
        update={
            "caveats": ['"><script>alert(6)</script>'],
            "policy": "enacted <!-- | ",
            "version": "0.1.0</footer><script>",
            "instruments": instruments,
            "case": {**record.case, "age": "30 | </td><script>alert(7)</script>"},
        }
    )


def test_a_hostile_id_comes_out_inert_in_html() -> None:
    record = make({**README_CASE, "id": HOSTILE})
    text = render_memo(record, "html")
    assert "<script" not in text
    page = Page(text)
    assert "script" not in {t for t, _ in page.starts}
    assert HOSTILE in page.text("")  # shown as written, not run
    assert "&lt;script&gt;" in text


def test_a_hostile_record_comes_out_inert_in_html(readme: DecisionRecord) -> None:
    text = render_memo(hostile(readme), "html")
    page = Page(text)
    assert page.unbalanced == [] and page.stack == []
    assert {t for t, _ in page.starts} & {"script", "img", "u"} == set()
    assert "<!--" not in text.split("</style>", 1)[1]
    assert page.links == []  # a javascript: address is shown, never linked
    assert "javascript:alert(3)" not in text
    assert "<img src=x onerror=alert(4)>" in page.text("Why: the reasons that decided it")
    rows = {row[0]: row[1] for row in page.rows if len(row) == 2}
    assert rows["Age"] == "30 | </td><script>alert(7)</script>"


UNESCAPED_LT = re.compile(r"(?<!\\)<")
UNESCAPED_LINK = re.compile(r"(?<!\\)\]\(")


def test_a_hostile_id_comes_out_inert_in_markdown() -> None:
    record = make({**README_CASE, "id": HOSTILE + " | *x* [y](javascript:z)\n# heading"})
    md = render_memo(record, "md")
    assert not UNESCAPED_LT.search(md)  # no tag, comment or autolink
    assert not any(line.startswith("# heading") for line in md.splitlines())
    top = md_sections(md)[""]
    assert not UNESCAPED_LINK.search(top)
    assert "\\<script\\>" in top and "\\|" in top and "\\*x\\*" in top
    assert HOSTILE in unescape_md(top)


def test_a_hostile_record_cannot_break_the_markdown(readme: DecisionRecord) -> None:
    md = render_memo(hostile(readme), "md")
    assert not UNESCAPED_LT.search(md)
    assert "javascript:alert(3)" not in md  # an address that is not http(s) is never linked
    assert all(target.startswith("http") for target in re.findall(r"(?<!\\)\]\(([^)]*)", md))
    table = [line for line in md_sections(md)["Facts as given"].splitlines() if line.startswith("|")]
    assert len(table) == 6
    assert all(len(re.findall(r"(?<!\\)\|", line)) == 3 for line in table)  # two cells, whatever the data


# --- languages ----------------------------------------------------------------------------------


def spanish_catalog() -> bool:
    try:
        i18n.translator("es")
    except OSError:
        return False
    return True


@pytest.fixture
def english_for_spanish(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Without the Spanish catalog, Spanish messages stay English (to test what does not depend on it)."""
    if not spanish_catalog():
        original, english = i18n.translator, i18n.translator("en")
        for module in list(sys.modules.values()):
            name = getattr(module, "__name__", "")
            if name.startswith("eligibility") and getattr(module, "translator", None) is original:
                monkeypatch.setattr(module, "translator", lambda lang: english)
    yield


def test_the_memo_is_marked_with_the_records_language(english_for_spanish: None) -> None:
    record = make(README_CASE, lang="es")
    assert record.lang == "es"
    text = render_memo(record, "html")
    assert text.splitlines()[1] == '<html lang="es">'
    page = Page(text)
    assert page.lang == "es" and page.unbalanced == []


@pytest.mark.skipif(
    not spanish_catalog(),
    reason="eligibility/locale/es (the Spanish catalog) does not exist yet: the Spanish memo cannot be rendered",
)
def test_a_spanish_memo_is_titled_in_spanish() -> None:
    record = make(README_CASE, lang="es")
    html_text = render_memo(record, "html")
    assert '<html lang="es">' in html_text
    # only the title is asserted: the catalog may not have every message of the memo yet
    assert "<h1>Memorando de elegibilidad</h1>" in html_text, (
        "the Spanish catalog lacks the memo's title: extract the messages (pybabel extract) and translate them"
    )
    assert render_memo(record, "md").startswith("# Memorando de elegibilidad\n")
    assert "Guatemala (GT)" in html_text
