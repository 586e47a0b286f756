from __future__ import annotations

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
