"""Bounded memos: the caches that keep what a pure function computed stay within a size."""

from __future__ import annotations

import itertools
from typing import Any


def make_room(cache: dict[Any, Any], size: int) -> None:
    """Make room for one more entry: drop the oldest half when ``cache`` is full. Safe when two
    threads do it at once (an entry already dropped by the other is passed over)."""
    if len(cache) >= size:
        for key in list(itertools.islice(cache, len(cache) // 2 + 1)):
            cache.pop(key, None)
