"""The rule-set and country caches: used when valid, rebuilt when stale, never required, never trusted.

The security tests replay the probes of the cache issue against whatever files the cache writes
(and the names earlier versions used): a planted pickle never runs, a planted or edited entry
never changes an answer or the rules digest, a FIFO never hangs a command, a symlink is never
followed, and a directory others can write to (or owned by someone else) is not used.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eligibility import cache, countries
from eligibility.ruleset import load as ruleset
from eligibility.errors import RuleFileError
from eligibility.ruleset.load import RuleSet, default_rules_dir, load_rules

SCRIPT = Path(sys.executable).parent / "eligibility"
CHECK = ["check", "--nationality", "HN", "--age", "30", "--entry-date", "2019-12-01"]
CHECK += ["--border", "southern_land", "--place", "between_ports", "--format", "json"]


def _copy(tmp_path: Path, name: str = "rules") -> Path:
    rules = tmp_path / name
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


@pytest.fixture(autouse=True)
def _fresh_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts as a new process would: no notice given, country tables not yet loaded."""
    monkeypatch.setattr(cache, "_noticed", False, raising=False)
    monkeypatch.delenv("ELIGIBILITY_NO_CACHE", raising=False)
    _forget_countries()
    yield
    _forget_countries()


def _forget_countries() -> None:
    for table in (countries._tables, countries.alpha2_codes, countries.us_state_codes):
        table.cache_clear()


def _run(
    cache_dir: Path | None, *args: str, timeout: float = 120, via: str = "ELIGIBILITY_CACHE_DIR"
) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh process, caching in ``cache_dir`` (None: caching off), named by ``via``."""
    env = {k: v for k, v in os.environ.items() if k != "ELIGIBILITY_NO_CACHE"}
    # the command must run the same `eligibility` package as this process (the source tree, which
    # `python -m pytest` puts first, or the installed one): the cache key hashes the package's code
    env["PYTHONPATH"] = os.pathsep.join([str(Path(ruleset.__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    if cache_dir is None:
        env["ELIGIBILITY_NO_CACHE"] = "1"
    else:
        env.update(_naming(cache_dir, via))
        if via != "ELIGIBILITY_CACHE_DIR":
            env.pop("ELIGIBILITY_CACHE_DIR", None)
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout)


def _naming(cache_dir: Path, via: str) -> dict[str, str]:
    """The environment that makes ``cache_dir`` the cache directory through variable ``via``."""
    if via == "XDG_CACHE_HOME":
        assert cache_dir.name == "asylum-eligibility"
        return {via: str(cache_dir.parent)}
    return {via: str(cache_dir)}


def _populate(cache_dir: Path, via: str = "ELIGIBILITY_CACHE_DIR") -> list[str]:
    """Run a check so that the cache holds the shipped rules and the country tables; their names."""
    result = _run(cache_dir, *CHECK, via=via)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in cache_dir.iterdir())
    assert any(n.startswith("rules-") for n in names) and any(n.startswith("countries") for n in names)
    return names


def _every_name(names: list[str]) -> list[str]:
    """The names the cache uses and the names earlier versions used (rules-<key>.pickle, countries.json)."""
    every = set(names) | {"countries.json"}
    for name in names:
        if name.startswith("rules-"):
            key = name.removeprefix("rules-").split(".")[0]
            every |= {f"rules-{key}.json", f"rules-{key}.pickle"}
    return sorted(every)


class _Plant:
    """Unpickling this creates the directory ``marker``: the proof that a cache file ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (self.marker,))


def _plant(cache_dir: Path, names: list[str], data: bytes) -> None:
    for name in names:
        path = cache_dir / name
        if path.is_symlink() or path.exists():
            path.unlink()
        path.write_bytes(data)


def _truth() -> dict[str, Any]:
    """The determination of CHECK computed from the rule files, with caching off."""
    result = _run(None, *CHECK)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def _answer(result: subprocess.CompletedProcess[str]) -> tuple[Any, ...]:
    assert result.returncode == 0, result.stderr
    d = json.loads(result.stdout)
    return d["outcome"], d["transfer_to"], d["asylum"], d["rules_digest"]


def _notices(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("eligibility: ")]


def _same_rules(a: RuleSet, b: RuleSet) -> None:
    for field in dataclasses.fields(RuleSet):
        if field.compare:  # not the per-process `built`
            assert getattr(a, field.name) == getattr(b, field.name), field.name


def _edited_rules(tmp_path: Path) -> Path:
    """A copy of the shipped rules in which the Guatemala agreement ends before 2019-12-01."""
    rules = _copy(tmp_path, "edited")
    file = rules / "us-gt-aca.yaml"
    text, n = re.subn(
        r"(decision_date: \{on_or_after: 2019-11-15, before: )2021-02-06",
        r"\g<1>2019-11-16",
        file.read_text(),
    )
    assert n == 1, "the in-force rule of us-gt-aca.yaml changed: update this test's edit"
    file.write_text(text, encoding="utf-8")
    return rules


# ---------------------------------------------------------------- the cache works


def test_a_second_load_reads_the_cache_and_an_edit_invalidates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(tmp_path / "cache"))
    rules = _copy(tmp_path)
    parsed = _count_parses(monkeypatch)
    first = load_rules(rules)
    assert parsed
    assert list((tmp_path / "cache").glob("rules-*"))
    parsed.clear()
    second = load_rules(rules)
    assert parsed == [] and second.digest == first.digest
    _same_rules(first, second)
    policy = rules / "policies.yaml"
    policy.write_text(policy.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    third = load_rules(rules)
    assert parsed and third.digest != first.digest


def test_the_cache_holds_checked_json_and_no_pickle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cache file is a JSON header and a JSON payload; the directory is private. (This also
    fails when a class the rule set holds is missing from ruleset._codec(): then nothing is cached.)"""
    cache_dir = tmp_path / "cache"
    names = _populate(cache_dir)
    assert (cache_dir.stat().st_mode & 0o777) == 0o700
    for name in names:
        data = (cache_dir / name).read_bytes()
        assert not data.startswith(b"\x80"), f"{name} is a pickle"
        head, payload = data.split(b"\n", 1)
        assert json.loads(head)["format"] == cache.FORMAT
        json.loads(payload)
        assert ((cache_dir / name).stat().st_mode & 0o777) == 0o600
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(cache_dir))
    parsed = _count_parses(monkeypatch)
    cached = load_rules()
    assert parsed == []
    monkeypatch.setenv("ELIGIBILITY_NO_CACHE", "1")
    _same_rules(cached, load_rules())


def test_invalid_rules_are_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(tmp_path / "cache"))
    rules = _copy(tmp_path)
    (rules / "policies.yaml").write_text("default: [", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(RuleFileError, match=r"policies\.yaml:1"):
            load_rules(rules)
    assert not list((tmp_path / "cache").glob("rules-*"))


def test_a_corrupt_cache_file_is_ignored_with_one_notice_and_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(tmp_path / "cache"))
    rules = _copy(tmp_path)
    good = load_rules(rules)
    files = list((tmp_path / "cache").glob("rules-*"))
    for file in files:
        file.write_bytes(b"not a cache file")
    assert load_rules(rules).instruments["us-gt-aca"].receiving_country == "GT"
    assert load_rules(rules).digest == good.digest
    assert len(_notices(capsys.readouterr().err)) == 1
    for file in files:
        assert file.read_bytes() != b"not a cache file"
    monkeypatch.setenv("ELIGIBILITY_NO_CACHE", "1")
    shutil.rmtree(tmp_path / "cache")
    load_rules(rules)
    assert not (tmp_path / "cache").exists()


# ---------------------------------------------------------------- the cache is not trusted


@pytest.mark.parametrize("where", ["subprocess", "in-process"])
def test_a_planted_pickle_never_runs_code(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Probe: a pickle whose unpickling runs os.mkdir, under every name the cache uses."""
    cache_dir, marker = tmp_path / "cache", tmp_path / "marker"
    populated = _populate(cache_dir)
    _plant(cache_dir, _every_name(populated), pickle.dumps(_Plant(marker)))
    if where == "subprocess":
        result = _run(cache_dir, *CHECK)
        assert not marker.exists()
        assert _answer(result) == _answer(_run(None, *CHECK))
        assert len(_notices(result.stderr)) == 1
    else:
        monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(cache_dir))
        assert load_rules().instruments["us-gt-aca"].receiving_country == "GT"
        countries.check_country("GT")
        assert not marker.exists()
        assert len(_notices(capsys.readouterr().err)) == 1
    # the planted files under the current names were replaced by good entries
    _populate(cache_dir)
    for name in populated:
        assert not (cache_dir / name).read_bytes().startswith(b"\x80")


def test_an_oversized_planted_file_is_not_read(tmp_path: Path) -> None:
    """Probe: the planted pickle padded to 32 MiB (over cache.MAX_BYTES) with zeros."""
    cache_dir, marker = tmp_path / "cache", tmp_path / "marker"
    names = _every_name(_populate(cache_dir))
    _plant(cache_dir, names, pickle.dumps(_Plant(marker)))
    for name in names:
        os.truncate(cache_dir / name, 32 * 1024 * 1024)  # sparse: no disk used
    result = _run(cache_dir, *CHECK)
    assert not marker.exists()
    assert _answer(result) == _answer(_run(None, *CHECK))
    assert "too large" in result.stderr


def test_a_planted_rule_set_with_an_edited_rule_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probe: the cache entry of edited rules (Guatemala's agreement not in force) planted under
    the shipped rules' cache name, with a well-formed header for that name. The answer and the
    rules digest come from the real rule files."""
    cache_dir, other = tmp_path / "cache", tmp_path / "other"
    truth = _truth()
    assert truth["outcome"] == "transfer" and truth["transfer_to"] == ["GT"]
    names = [n for n in _populate(cache_dir) if n.startswith("rules-")]
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(other))
    edited = load_rules(_edited_rules(tmp_path))
    assert edited.digest != truth["rules_digest"]
    (entry,) = [p for p in other.iterdir() if p.name.startswith("rules-")]
    for name in names:
        target = cache_dir / name
        data = entry.read_bytes()
        if data.startswith(b'{"format"'):  # keep the header valid for the shipped rules' name
            head, payload = data.split(b"\n", 1)
            header = {**json.loads(head), "key": json.loads(target.read_bytes().split(b"\n", 1)[0])["key"]}
            data = json.dumps(header).encode() + b"\n" + payload
        target.write_bytes(data)
    result = _run(cache_dir, *CHECK)
    assert _answer(result) == _answer(_run(None, *CHECK))
    assert json.loads(result.stdout)["outcome"] == "transfer"
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(cache_dir))
    loaded = load_rules()
    assert loaded.digest == _truth()["rules_digest"]
    assert loaded.rule("us-gt-aca.in-force") != edited.rule("us-gt-aca.in-force")


@pytest.mark.parametrize("how", ["writable-by-others", "foreign-owner"])
def test_a_forged_entry_that_others_could_have_written_is_not_used(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probe: a fully forged entry (the edited rules, relabelled with the real digest and
    directory) under the shipped rules' name, in a file others can write or another user owns."""
    if how == "foreign-owner" and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    cache_dir = tmp_path / "cache"
    truth = _truth()
    (name,) = [n for n in _populate(cache_dir) if n.startswith("rules-")]
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(tmp_path / "other"))
    edited = load_rules(_edited_rules(tmp_path))
    forged = dataclasses.replace(edited, digest=truth["rules_digest"], directory="rules")
    key = json.loads((cache_dir / name).read_bytes().split(b"\n", 1)[0])["key"]
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(cache_dir))

    def plant() -> None:
        cache.store(name, key, ruleset._codec().encode(forged).encode())
        if how == "writable-by-others":
            os.chmod(cache_dir / name, 0o666)
        else:
            os.chown(cache_dir / name, 65534, 65534)

    cache.store(name, key, ruleset._codec().encode(forged).encode())
    assert load_rules().rule("us-gt-aca.in-force") == edited.rule("us-gt-aca.in-force")  # the forgery works
    plant()
    assert load_rules().rule("us-gt-aca.in-force") != edited.rule("us-gt-aca.in-force")
    plant()
    result = _run(cache_dir, *CHECK)
    assert _answer(result) == ("transfer", ["GT"], "not_in_us", truth["rules_digest"])
    assert "ignored the cache file" in result.stderr


def test_a_fifo_at_a_cache_name_does_not_hang(tmp_path: Path) -> None:
    """Probe: a FIFO (with no writer) under every name the cache uses; the command must finish."""
    cache_dir = tmp_path / "cache"
    populated = _populate(cache_dir)
    for name in _every_name(populated):
        (cache_dir / name).unlink(missing_ok=True)
        os.mkfifo(cache_dir / name)
    result = _run(cache_dir, *CHECK, timeout=60)
    assert _answer(result) == _answer(_run(None, *CHECK))
    assert len(_notices(result.stderr)) == 1
    for name in populated:  # replaced by regular files
        assert (cache_dir / name).is_file() and not (cache_dir / name).is_fifo()


def test_symlinks_at_cache_names_are_not_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe: symlinks to another file under every final name and the temporary names the cache
    used (.countries-<pid>.tmp); the file they point to must be unchanged."""
    cache_dir = tmp_path / "cache"
    populated = _populate(cache_dir)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    names = [*_every_name(populated), f".countries-{os.getpid()}.tmp"]
    for name in names:
        (cache_dir / name).unlink(missing_ok=True)
        (cache_dir / name).symlink_to(victim)
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(cache_dir))
    assert load_rules().instruments["us-gt-aca"].receiving_country == "GT"
    assert countries.check_country("gt") == "GT"
    assert _answer(_run(cache_dir, *CHECK)) == _answer(_run(None, *CHECK))
    assert victim.read_text(encoding="utf-8") == "precious\n"
    for name in populated:  # the links were replaced, not written through
        assert not (cache_dir / name).is_symlink()


@pytest.mark.parametrize(
    ("via", "mode"),
    [
        ("ELIGIBILITY_CACHE_DIR", 0o777),
        pytest.param("ELIGIBILITY_CACHE_DIR", 0o1777, marks=pytest.mark.exhaustive),  # the run stays short
        pytest.param("ELIGIBILITY_CACHE_DIR", 0o770, marks=pytest.mark.exhaustive),
        ("XDG_CACHE_HOME", 0o777),
    ],
)
def test_a_cache_directory_others_can_write_is_not_used(
    via: str, mode: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Probe: ELIGIBILITY_CACHE_DIR names a world- (or group-) writable directory, or
    XDG_CACHE_HOME one (like /tmp) in which asylum-eligibility is writable by all, holding first
    valid entries, then planted pickles under every name; none is read, nothing is written."""
    cache_dir, marker = tmp_path / "xdg" / "asylum-eligibility", tmp_path / "marker"
    populated = _populate(cache_dir, via)
    os.chmod(cache_dir, mode)
    os.chmod(cache_dir.parent, 0o1777)
    monkeypatch.delenv("ELIGIBILITY_CACHE_DIR", raising=False)
    for name, value in _naming(cache_dir, via).items():
        monkeypatch.setenv(name, value)
    parsed = _count_parses(monkeypatch)
    load_rules()
    assert parsed  # the valid entry was not used
    notices = _notices(capsys.readouterr().err)
    assert len(notices) == 1 and "not using the cache directory" in notices[0]
    _plant(cache_dir, _every_name(populated), pickle.dumps(_Plant(marker)))
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in cache_dir.iterdir()}
    load_rules()
    countries.check_country("GT")
    result = _run(cache_dir, *CHECK, via=via)
    assert not marker.exists()
    assert _answer(result) == _answer(_run(None, *CHECK))
    assert len(_notices(result.stderr)) == 1 and _notices(capsys.readouterr().err) == []
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in cache_dir.iterdir()} == before


def test_a_cache_directory_owned_by_another_user_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probe: the cache directory (with planted pickles) belongs to someone else. As root the
    directory is given to nobody; otherwise the process pretends to be another user."""
    cache_dir, marker = tmp_path / "cache", tmp_path / "marker"
    populated = _populate(cache_dir)
    _plant(cache_dir, _every_name(populated), pickle.dumps(_Plant(marker)))
    if os.geteuid() == 0:
        os.chown(cache_dir, 65534, 65534)
        result = _run(cache_dir, *CHECK)
        assert not marker.exists()
        assert _answer(result) == _answer(_run(None, *CHECK))
        assert "not owned by you" in result.stderr
    else:
        real = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: real + 1)
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(cache_dir))
    parsed = _count_parses(monkeypatch)
    load_rules()
    countries.check_country("GT")
    assert parsed and not marker.exists()


def test_an_edited_country_cache_does_not_change_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probe: the cached country table edited to add 'XX' and drop 'GT' (its header left as it was)."""
    cache_dir = tmp_path / "cache"
    for name in _populate(cache_dir):
        if not name.startswith("countries"):
            continue
        data = (cache_dir / name).read_bytes()
        head, _, payload = data.partition(b"\n") if data.startswith(b'{"format"') else (b"", b"", data)
        tables = json.loads(payload)
        tables["names"]["XX"] = "Nowhere"
        del tables["names"]["GT"]
        edited = json.dumps(tables).encode()
        (cache_dir / name).write_bytes(head + b"\n" + edited if head else edited)
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(cache_dir))
    with pytest.raises(ValueError, match="'XX' is not an ISO 3166-1"):
        countries.check_country("XX")
    assert countries.check_country("GT") == "GT"
    assert countries.country_name("GT") == "Guatemala"
    result = _run(cache_dir, *[("XX" if a == "HN" else a) for a in CHECK])
    assert result.returncode != 0 and "'XX' is not an ISO 3166-1" in result.stderr


def test_the_rule_cache_decoder_rebuilds_only_allow_listed_classes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crafted payloads (unknown classes, unexpected or missing fields, bad containers, NaN, deep
    nesting) are rejected by the decoder, and a rules entry holding one is not used."""
    from eligibility.ruleset.cachecodec import CacheFormatError

    codec = ruleset._codec()
    good = codec.decode(codec.encode(("a", 1, None)))
    assert good == ("a", 1, None)
    crafted = [
        '{"$t": "Popen", "args": ["touch", "x"]}',
        '{"$t": "system", "v": "touch x"}',
        '{"$t": "Source", "cite": "c", "evidence": "primary", "url": "u", "quote": null}',
        '{"$t": "Source", "cite": "c", "evidence": "primary", "url": "u", "quote": null, "paraphrase": null, "x": 1}',
        '{"$t": "RuleSet", "programs": {"$t": "dict", "v": []}}',
        '{"$t": "tuple", "v": 1}',
        '{"$t": "dict", "v": [[[1], 2]]}',
        '{"$t": "date", "v": "2019-13-01"}',
        '{"no tag": 1}',
        "NaN",
        "[" * 100_000 + "]" * 100_000,
    ]
    for text in crafted:
        with pytest.raises(CacheFormatError):
            codec.decode(text)
    cache_dir = tmp_path / "cache"
    (name,) = [n for n in _populate(cache_dir) if n.startswith("rules-")]
    key = json.loads((cache_dir / name).read_bytes().split(b"\n", 1)[0])["key"]
    monkeypatch.setenv("ELIGIBILITY_CACHE_DIR", str(cache_dir))
    parsed = _count_parses(monkeypatch)
    digest = _truth()["rules_digest"]
    # a rules entry holding a rejected payload: the rules are parsed again (one load each, a second
    # or so: an unknown class, an unexpected field and deep nesting stand for the rest, which the
    # decoder rejects above through the same error)
    for text in (crafted[0], crafted[3], crafted[-1]):
        cache.store(name, key, text.encode())
        parsed.clear()
        assert load_rules().digest == digest and parsed


def test_an_edit_to_code_in_any_subpackage_changes_the_rule_cache_key(tmp_path: Path) -> None:
    """The cached rule set was built by the package's code: a change in any module, subpackages
    included (the engine, the analysis...), must give a new key, or users would keep a rule set
    built by code they no longer run. (On a copy of the package: other tests use the real key.)"""
    import os
    import shutil

    package = tmp_path / "eligibility"
    shutil.copytree(Path(ruleset.__file__).resolve().parents[1], package)
    args: tuple[Any, ...] = ("digest", [("a.yaml", "rules/a.yaml")], "rules")
    key = ruleset._cache_key(*args, package=package)
    deep = package / "engine" / "decide.py"
    stat = deep.stat()
    os.utime(deep, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert ruleset._cache_key(*args, package=package) != key
    os.utime(deep, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ruleset._cache_key(*args, package=package) == key
