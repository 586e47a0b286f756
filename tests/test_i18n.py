"""Spanish: the program's message catalog is complete and current, and the answers read in Spanish.

The catalog is `eligibility/locale/es/LC_MESSAGES/eligibility.po` (compiled to `.mo`); its
messages are extracted from the source with Babel. Rule titles, caveats and summaries are
translated in the rule files themselves (`title_es`...), checked by `rules lint`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

from eligibility_cli.main import main

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "eligibility" / "locale"
PO = LOCALE / "es" / "LC_MESSAGES" / "eligibility.po"
MO = LOCALE / "es" / "LC_MESSAGES" / "eligibility.mo"
PLACEHOLDER = re.compile(r"\{[a-z_]*(?:![rs])?\}")


def _source_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("eligibility", "cli"):
        for _file, _line, message, _comments, _context in extract_from_dir(ROOT / folder, keywords={"_": None}):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog() -> dict[str, str]:
    with PO.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and isinstance(m.id, str)}


def test_every_message_of_the_program_is_in_the_catalog_and_none_is_stale() -> None:
    source, catalog = _source_messages(), _catalog()
    assert source - set(catalog) == set(), "run pybabel extract/update (see the README)"
    assert set(catalog) - source == set(), "messages no longer in the source: pybabel update"


def test_every_message_has_a_spanish_text_with_the_same_placeholders() -> None:
    for message, spanish in _catalog().items():
        assert spanish.strip(), message
        assert sorted(PLACEHOLDER.findall(spanish)) == sorted(PLACEHOLDER.findall(message)), message
        # text appended to other text keeps its leading space or punctuation
        assert spanish[:1].isspace() == message[:1].isspace(), message


def test_the_compiled_catalog_is_the_catalog() -> None:
    with MO.open("rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    assert compiled == _catalog(), "run pybabel compile -d eligibility/locale -D eligibility"


def _check(*args: str) -> str:
    result = CliRunner().invoke(main, ["check", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return str(result.output)


HN_ADULT = ["--nationality", "HN", "--age", "30", "--entry-date", "2019-12-01", "--border", "southern_land",
            "--place", "between_ports", "--transit", "GT", "--transit", "MX"]


def test_the_short_answer_reads_in_spanish() -> None:
    text = _check(*HN_ADULT, "--lang", "es")
    lines = text.splitlines()
    assert lines[0].startswith("TRASLADO a Guatemala (GT)    [evidencia: secundaria; política: enacted]")
    assert "Supuestos por no haberse indicado (verificar con el cliente):" in lines
    assert "  - la decisión se toma el día de la entrada (2019-12-01)" in lines
    assert "Por qué:" in lines and "Cambiaría si:" in lines
    assert len(lines) <= 25
    # the codes stay as the contract says
    assert "TRANSFER" not in text and "Why:" not in text


@pytest.mark.parametrize("lang", ["es"])
def test_the_json_record_keeps_its_codes_and_says_its_language(lang: str) -> None:
    import json

    d: dict[str, Any] = json.loads(_check(*HN_ADULT, "--lang", lang, "--format", "json"))
    assert (d["lang"], d["outcome"], d["transfer_to"], d["asylum"]) == ("es", "transfer", ["GT"], "not_in_us")
    gt = next(i for i in d["instruments"] if i["id"] == "us-gt-aca")
    assert gt["status"] == "applies"


SPANISH_LOOKUPS = {
    # the README's lookup: transfer to Guatemala under the 2019 agreement
    "es-hn-adult.txt": HN_ADULT,
    # age and accompaniment unknown: an unaccompanied child is not transferred (INA 208(a)(2)(E))
    "es-undetermined.txt": ["--nationality", "HN", "--entry-date", "2019-12-01", "--border", "southern_land",
                            "--place", "between_ports", "--transit", "MX"],
    # a Salvadoran who flew in with a U.S. visa in 2020: the agreement's document exception
    "es-visa.txt": ["--nationality", "SV", "--age", "40", "--entry-date", "2020-01-10", "--border", "air",
                    "--place", "port_of_entry", "--documents", "us_visa"],
}


@pytest.mark.parametrize("name", sorted(SPANISH_LOOKUPS))
def test_three_lookups_in_spanish(name: str, snapshot: Any) -> None:
    text = _check(*SPANISH_LOOKUPS[name], "--lang", "es")
    # rule and instrument titles come from the rule files' Spanish texts (the names of cited
    # documents stay as published)
    assert "(signed text)" not in text and "Safe Third Country Agreement" not in text, text
    assert not any(line.lstrip("- ").startswith(("The ", "Not met", "Unknown")) for line in text.splitlines()), text
    snapshot(name, text)


def test_every_rule_instrument_and_policy_has_its_spanish_text() -> None:
    from eligibility import load_rules

    rules = load_rules()
    for inst in rules.instruments.values():
        assert inst.translations["es"]["title"], inst.id
        for rule in inst.rules:
            spanish = rule.translations["es"]
            assert spanish["title"], rule.id
            assert len(spanish.get("caveats", ())) == len(rule.caveats), rule.id
    for policy in rules.policies.values():
        assert policy.translations["es"]["title"] and policy.translations["es"]["description"], policy.id


def test_lint_refuses_a_rule_file_translated_only_in_part(tmp_path: Path) -> None:
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    gt = rules / "us-gt-aca.yaml"
    lines = gt.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("title_es:") and i > 10)
    del lines[index]
    gt.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "lint", str(rules)])
    assert result.exit_code == 2, result.output
    assert "us-gt-aca.yaml:" in result.output and "has no Spanish title (title_es)" in result.output


@pytest.mark.parametrize("case", [
    {"nationalities": ["HN"], "age": 30, "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"}},
    {"nationalities": ["MX"], "age": 25, "entry": {"date": "2021-06-01", "border": "southern_land", "place": "between_ports"}},
    {"nationalities": ["VE"], "entry": {"date": "2025-03-01", "border": "southern_land"}},
])
def test_the_fast_engine_writes_the_same_spanish_as_the_pure_evaluator(case: dict[str, Any]) -> None:
    """`batch --lang es` lines come from the fast engine's templates, built in Spanish."""
    from eligibility import evaluate

    fast = evaluate(case, engine="fast", lang="es").model_dump(exclude={"engine", "would_change_if"})
    pure = evaluate(case, engine="pure", counterfactuals=False, lang="es").model_dump(exclude={"engine", "would_change_if"})
    assert fast == pure
    assert fast["lang"] == "es" and fast["explanation"][0] != evaluate(case, engine="fast").explanation[0]


def test_batch_writes_spanish_texts_and_english_codes() -> None:
    import json

    rows = '{"id": "a", "nationalities": ["HN"], "age": 30, "entry": {"date": "2019-12-01", "border": "southern_land", "place": "between_ports"}}\n'
    result = CliRunner().invoke(main, ["batch", "-", "-q", "--lang", "es"], input=rows)
    assert result.exit_code == 0, result.output
    line = json.loads(result.output)
    assert (line["outcome"], line["transfer_to"], line["lang"]) == ("transfer", ["GT"], "es")
    assert line["explanation"][0].startswith("Traslado a Guatemala (GT)")
