"""Forked worker processes for the searches over classes of cases (``diff``, ``rules verify``).

The searches are independent and CPU-bound: with several CPUs they run in worker processes
forked from this one, which inherit the compiled programs (nothing is pickled but the tasks and
their results). A process running other threads never forks (a lock one of them holds would be
copied held); where workers cannot start or one dies, the caller searches in its own process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

WORKERS = "ELIGIBILITY_DIFF_WORKERS"
"""Environment variable: how many processes search at once, for ``diff`` and ``rules verify``
(default: one per CPU this process may run on, at most ``MAX_WORKERS``; 1: all in this process)."""

MAX_WORKERS = 4

FORKING = threading.Lock()
"""Held while a module-level job is set for forked workers to read (one forking search at a time)."""


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def workers(jobs: int) -> int:
    """How many worker processes to start for ``jobs`` independent searches (1: none)."""
    if threading.active_count() > 1:
        return 1  # forking a process that runs other threads may copy a lock held by one of them
    wanted = os.environ.get(WORKERS, "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return min(jobs, int(wanted))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(jobs, cpus, MAX_WORKERS))


def _quiet_worker() -> None:
    """A worker leaves Ctrl-C to its parent (which stops it) and dies of a SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class NoPool(Exception):
    """The worker processes could not be started: search in this process."""


@contextlib.contextmanager
def pool(count: int) -> Iterator[ProcessPoolExecutor]:
    """``count`` forked worker processes. On any exception (an interrupt, a search past its
    budget) the work not started is cancelled and the workers are killed at once, not waited for."""
    try:
        executor = ProcessPoolExecutor(
            count, mp_context=multiprocessing.get_context("fork"), initializer=_quiet_worker
        )
    except (OSError, ValueError) as exc:
        raise NoPool from exc
    try:
        yield executor
    except BaseException:
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.kill()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(timeout=5)
        raise
    executor.shutdown(wait=True)


def run_forked(
    calls: Sequence[tuple[Callable[[Any], Any], Any]],
    count: int,
    on_done: Callable[[int, int], None] | None = None,
) -> list[Any] | None:
    """Each ``(function, argument)`` called in ``count`` forked workers, the results in order
    (``on_done(done, total)`` as each finishes); None if the workers cannot start or one dies (the
    caller then calls them itself). The first error raised stops every call and is raised here."""
    try:
        with pool(count) as executor:
            futures = [executor.submit(function, argument) for function, argument in calls]
            for number, done in enumerate(as_completed(futures), 1):
                done.result()
                if on_done is not None:
                    on_done(number, len(futures))
            return [future.result() for future in futures]
    except (NoPool, BrokenProcessPool):
        return None


__all__ = ["FORKING", "MAX_WORKERS", "WORKERS", "NoPool", "can_fork", "pool", "run_forked", "workers"]
