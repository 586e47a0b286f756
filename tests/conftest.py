from __future__ import annotations

from typing import Any

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-snapshots", action="store_true",
                     help="Rewrite tests/snapshots/ from the current output; review the diff before committing.")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture
def snapshot(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Compare text with tests/snapshots/<name>; ``--update-snapshots`` rewrites it."""
    update = request.config.getoption("--update-snapshots")

    def check(name: str, text: str) -> None:
        path = REPO / "tests" / "snapshots" / name
        if update or not path.exists():
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            if not update:
                pytest.fail(f"snapshot {name} was missing and has been written; review it and run again")
        assert text == path.read_text(encoding="utf-8"), f"{name} changed; run pytest --update-snapshots and review the diff"

    return check


def pytest_configure(config: pytest.Config) -> None:
    """Keep the tests' rule-set and country caches out of the user's cache directory."""
    import os
    import tempfile

    os.environ.setdefault("ELIGIBILITY_CACHE_DIR", tempfile.mkdtemp(prefix="eligibility-test-cache-"))


# The inner loop: `python -m pytest -m "not slow and not exhaustive"` leaves out the modules and
# tests that cost the most (measured with --durations; each is still run by the README's test
# command and by CI): property tests over generated cases, differential tests against
# durable-rules, `ask` transcripts, cache tests that start subprocesses.
SLOW_MODULES = frozenset({"test_properties", "test_differential", "test_ask", "test_cache"})
SLOW_TESTS = frozenset({
    "test_generated_cases_and_their_siblings_match_durable",
    "test_the_headline_only_path_matches_durable",
    "test_sigterm_mid_run_removes_the_partial_output",
    "test_python_examples_run",
})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module is not None else ""  # type: ignore[attr-defined]
        if module in SLOW_MODULES or item.originalname in SLOW_TESTS:  # type: ignore[attr-defined]
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the pools of worker processes the searches start (``diff``, ``rules verify``)."""
    from concurrent.futures import ProcessPoolExecutor

    from eligibility.analysis import workers

    started: list[int] = []

    class Counted(ProcessPoolExecutor):
        def __init__(self, count: int, **options: Any) -> None:
            started.append(count)
            super().__init__(count, **options)

    monkeypatch.setattr(workers, "ProcessPoolExecutor", Counted)
    return started
