"""Where derived data is kept between runs (rule sets, country tables), to start commands quickly.

``ELIGIBILITY_NO_CACHE=1`` turns caching off; ``ELIGIBILITY_CACHE_DIR`` moves it (default:
``$XDG_CACHE_HOME/asylum-eligibility``, else ``~/.cache/asylum-eligibility``). Everything kept
there is rebuilt from its source when it is missing, stale or unreadable.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path | None:
    """Where derived data is cached, or None when caching is off."""
    if os.environ.get("ELIGIBILITY_NO_CACHE"):
        return None
    base = os.environ.get("ELIGIBILITY_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "asylum-eligibility"
