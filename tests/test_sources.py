"""Sources a lawyer can cite: every citation's web address is checked against the hosts table
(rules/data/official-hosts.yaml). A ``primary`` citation links an official host; no citation, at any
evidence level, links a host the table lists as not citable (admin, preview, staging and development
hosts, aggregators of copied documents). The loader refuses either, at the url's file:line, naming
what cites it and the host, so ``eligibility rules lint`` does too.

The list of hosts not to cite is kept in the data file, not here: the loader applies it to every
rules directory (a user's --rules too), and the test below reads the same list, so the rule and its
test cannot drift apart.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from eligibility import RuleFileError, load_rules
from eligibility.ruleset.hosts import HOSTS_FILE, covers, host_of, match
from eligibility.ruleset.load import default_rules_dir

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [*sorted((ROOT / "rules").rglob("*.yaml")), *sorted((ROOT / "examples").rglob("rules/**/*.yaml"))]

RULE_ON_A_BLOG = """\
instrument:
  id: blog-cited
  title: An agreement cited from a blog
  kind: transfer_agreement
  receiving_country: GT
  sources:
    - cite: 84 FR 63994
      evidence: primary
      url: https://www.govinfo.gov/content/pkg/FR-2019-11-19/html/2019-25137.htm
rules:
  - id: blog-cited.scope
    role: scope
    title: A rule whose primary source is a law firm's blog
    when:
      entry.date: {on_or_after: 2019-11-19}
    sources:
      - cite: 8 CFR 208.30(e)(7), as a blog reads it
        evidence: primary
        url: https://www.cohentuckerlaw.com/?p=3175
"""


def _hosts() -> dict[str, Any]:
    data = yaml.safe_load((default_rules_dir() / HOSTS_FILE).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _citations(data: Any) -> list[dict[str, Any]]:
    """Every citation (a mapping with cite, evidence and url) anywhere in a rule file's data."""
    if isinstance(data, dict):
        if {"cite", "evidence", "url"} <= set(data):
            return [data]
        return [c for value in data.values() for c in _citations(value)]
    if isinstance(data, list):
        return [c for value in data for c in _citations(value)]
    return []


def _shipped_citations() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for file in SHIPPED:
        for citation in _citations(yaml.safe_load(file.read_text(encoding="utf-8"))):
            found.append((str(file.relative_to(ROOT)), citation))
    assert len(found) > 200, "the rule files cite their sources"
    return found


def _copy_of_the_shipped_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    return rules


# --- the matching rule ---------------------------------------------------------------------------


def test_an_entry_covers_its_host_and_every_subdomain_and_nothing_else() -> None:
    assert covers("uscourts.gov", "uscourts.gov")
    assert covers("uscourts.gov", "www.uscourts.gov")
    assert covers("uscourts.gov", "cdn.ca9.uscourts.gov")
    assert not covers("uscourts.gov", "notuscourts.gov")
    assert not covers("uscourts.gov", "uscourts.gov.example.com")
    assert host_of("https://WWW.GovInfo.gov:443/link/fr/84/63994") == "www.govinfo.gov"
    assert match("dev.immpolicytracking.org", ["immpolicytracking.org", "dev.immpolicytracking.org"]) == (
        "dev.immpolicytracking.org"
    )
    assert match("immpolicytracking.org", ["dev.immpolicytracking.org"]) is None


def test_the_hosts_file_is_shipped_with_the_rule_data() -> None:
    """The wheel carries rules/data/*.yaml (pyproject: package data of eligibility.rules.data)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"eligibility.rules.data" = ["*.yaml"]' in text
    assert HOSTS_FILE == "data/official-hosts.yaml"
    table = _hosts()
    assert table["table"] == "official_hosts"
    official = {row["host"] for row in table["official"]}
    assert {
        "federalregister.gov",
        "govinfo.gov",
        "ecfr.gov",
        "uscode.house.gov",
        "supremecourt.gov",
    } <= official
    assert all(row["what"].strip() for row in table["official"])
    assert all(row["why"].strip() for row in table["not_citable"])
    assert not official & {row["host"] for row in table["not_citable"]}


# --- the shipped rules ---------------------------------------------------------------------------


def test_every_shipped_primary_citation_links_an_official_host() -> None:
    official = [row["host"] for row in _hosts()["official"]]
    wrong = [
        f"{file}: {c['cite']} -> {c['url']}"
        for file, c in _shipped_citations()
        if c["evidence"] == "primary" and match(host_of(c["url"]), official) is None
    ]
    assert not wrong, "\n".join(wrong)


def test_no_shipped_citation_links_an_admin_preview_dev_or_aggregator_host() -> None:
    not_citable = [row["host"] for row in _hosts()["not_citable"]]
    # the hosts this list was made for (rules/ before the review) stay on it
    for host in (
        "admin.mvs.editor80.com",
        "preview.deepnewz.com",
        "dev.immpolicytracking.org",
        "backend.hrw.org",
        "newvision-web-nuxt3.us-east-1.elasticbeanstalk.com",
        "usimm.pikapod.net",
        "scribd.com",
        "pdfslide.net",
        "cupdf.com",
        "docslib.org",
        "federal.elaws.us",
        "daily8.com",
        "globebanner.com",
        "cetient.com",
        "timesng.com",
    ):
        assert match(host, not_citable), host
    wrong = [
        f"{file}: {c['cite']} -> {c['url']}"
        for file, c in _shipped_citations()
        if match(host_of(c["url"]), not_citable) is not None
    ]
    assert not wrong, "\n".join(wrong)


def test_the_shipped_rules_and_the_example_pass_the_check() -> None:
    load_rules()
    load_rules(ROOT / "examples" / "us-mx-stca" / "rules", extend=True)


# --- what lint says ------------------------------------------------------------------------------


def test_a_primary_citation_on_a_blog_is_refused_at_its_file_and_line(tmp_path: Path) -> None:
    rules = _copy_of_the_shipped_rules(tmp_path)
    (rules / "blog-cited.yaml").write_text(RULE_ON_A_BLOG, encoding="utf-8")
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules)
    problems = raised.value.problems
    assert len(problems) == 1, "\n".join(map(str, problems))
    line = next(n for n, t in enumerate(RULE_ON_A_BLOG.splitlines(), 1) if "cohentuckerlaw" in t)
    assert problems[0].place == f"{rules}/blog-cited.yaml:{line}:14"
    message = problems[0].message
    assert "rule 'blog-cited.scope'" in message
    assert "www.cohentuckerlaw.com" in message
    assert "not an official host" in message
    assert "data/official-hosts.yaml" in message


def test_the_same_citation_as_secondary_passes(tmp_path: Path) -> None:
    rules = _copy_of_the_shipped_rules(tmp_path)
    text = RULE_ON_A_BLOG.replace(
        "as a blog reads it\n        evidence: primary", "as a blog reads it\n        evidence: secondary"
    )
    (rules / "blog-cited.yaml").write_text(text, encoding="utf-8")
    assert "blog-cited" in load_rules(rules).instruments


@pytest.mark.parametrize("evidence", ["primary", "secondary", "unverified"])
def test_a_not_citable_host_is_refused_at_every_evidence_level(tmp_path: Path, evidence: str) -> None:
    rules = _copy_of_the_shipped_rules(tmp_path)
    text = RULE_ON_A_BLOG.replace(
        "evidence: primary\n        url: https://www.cohentuckerlaw.com/?p=3175",
        (f"evidence: {evidence}\n        url: https://preview.deepnewz.com/uganda/some-story"),
    )
    (rules / "blog-cited.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules)
    (problem,) = raised.value.problems
    assert re.fullmatch(rf"{re.escape(str(rules))}/blog-cited\.yaml:\d+:14", problem.place)
    assert (
        "rule 'blog-cited.scope' links preview.deepnewz.com, a host no citation may link to"
        in problem.message
    )


def test_lint_prints_the_problem_and_fails(tmp_path: Path) -> None:
    from eligibility_cli.main import main

    rules = tmp_path / "mine"
    rules.mkdir()
    (rules / "blog-cited.yaml").write_text(RULE_ON_A_BLOG, encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "lint", str(rules)])
    assert result.exit_code != 0
    assert f"{rules}/blog-cited.yaml:" in result.output
    assert "blog-cited.scope" in result.output and "www.cohentuckerlaw.com" in result.output


def test_a_citation_outside_a_rule_names_what_cites_it(tmp_path: Path) -> None:
    rules = _copy_of_the_shipped_rules(tmp_path)
    table = rules / "data" / "treaty-parties.yaml"
    text = table.read_text(encoding="utf-8")
    old = 'evidence: primary, url: "https://treaties.un.org/pages/ShowMTDSGDetails.aspx'
    assert old in text
    table.write_text(
        text.replace(old, 'evidence: primary, url: "https://www.scribd.com/doc', 1), encoding="utf-8"
    )
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules)
    (problem,) = raised.value.problems
    assert problem.place.startswith(f"{rules}/data/treaty-parties.yaml:")
    assert problem.message.startswith("row ") and "www.scribd.com" in problem.message


# --- a user's rules directory --------------------------------------------------------------------


def test_a_rules_directory_without_a_hosts_list_is_checked_against_the_shipped_one(tmp_path: Path) -> None:
    rules = _copy_of_the_shipped_rules(tmp_path)
    (rules / HOSTS_FILE).unlink()
    (rules / "blog-cited.yaml").write_text(RULE_ON_A_BLOG, encoding="utf-8")
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules)
    (problem,) = raised.value.problems
    assert "not an official host" in problem.message
    assert "rules/data/official-hosts.yaml" in problem.message


def test_a_rules_directory_may_carry_its_own_hosts_list_which_replaces_the_shipped_one(
    tmp_path: Path,
) -> None:
    rules = _copy_of_the_shipped_rules(tmp_path)
    own = _hosts()
    own["official"].append({"host": "cohentuckerlaw.com", "what": "trusted by this user, for this test"})
    (rules / HOSTS_FILE).write_text(yaml.safe_dump(own, sort_keys=False), encoding="utf-8")
    (rules / "blog-cited.yaml").write_text(RULE_ON_A_BLOG, encoding="utf-8")
    assert "blog-cited" in load_rules(rules).instruments


def test_a_host_listed_both_as_official_and_not_citable_is_a_problem(tmp_path: Path) -> None:
    rules = _copy_of_the_shipped_rules(tmp_path)
    extra = rules / "data" / "more-hosts.yaml"
    extra.write_text(
        "table: official_hosts\ndescription: more\nnot_citable:\n  - {host: govinfo.gov, why: a mistake}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules)
    places = [p.place for p in raised.value.problems]
    assert f"{rules}/data/more-hosts.yaml:4:12" in places
