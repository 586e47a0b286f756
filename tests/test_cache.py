"""The rule-set and country caches: used when valid, rebuilt when stale, never required."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eligibility import ruleset
from eligibility.errors import RuleFileError
from eligibility.ruleset import default_rules_dir, load_rules


def _copy(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return rules


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    real = ruleset.load_yaml

    def counting(text: str, file: str):  # type: ignore[no-untyped-def]
        parsed.append(file)
        return real(text, file)

    monkeypatch.setattr(ruleset, "load_yaml", counting)
    return parsed


def test_a_second_load_reads_the_cache_and_an_edit_invalidates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(tmp_path / "cache"))
    rules = _copy(tmp_path)
    parsed = _count_parses(monkeypatch)
    first = load_rules(rules)
    assert parsed and list((tmp_path / "cache").glob("rules-*.pickle"))
    parsed.clear()
    second = load_rules(rules)
    assert parsed == [] and second.digest == first.digest
    assert [r.id for r in second.instruments["us-gt-aca"].rules] == [r.id for r in first.instruments["us-gt-aca"].rules]
    policy = rules / "policies.yaml"
    policy.write_text(policy.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    third = load_rules(rules)
    assert parsed and third.digest != first.digest


def test_invalid_rules_are_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(tmp_path / "cache"))
    rules = _copy(tmp_path)
    (rules / "policies.yaml").write_text("default: [", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(RuleFileError, match="policies.yaml:1"):
            load_rules(rules)
    assert not list((tmp_path / "cache").glob("rules-*.pickle"))


def test_a_corrupt_cache_file_is_ignored_and_caching_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(tmp_path / "cache"))
    rules = _copy(tmp_path)
    load_rules(rules)
    for file in (tmp_path / "cache").glob("rules-*.pickle"):
        file.write_bytes(b"not a pickle")
    assert load_rules(rules).instruments["us-gt-aca"].receiving_country == "GT"
    monkeypatch.setenv("ELIGIBILITY_NO_CACHE", "1")
    shutil.rmtree(tmp_path / "cache")
    load_rules(rules)
    assert not (tmp_path / "cache").exists()
