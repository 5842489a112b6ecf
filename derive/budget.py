"""Soft time budgets for SymPy calls: an alarm that interrupts a runaway computation."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class BudgetExceeded(Exception):
    """The time budget of a computation ran out."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise BudgetExceeded inside the block after `seconds` (main thread only).

    Python runs signal handlers between bytecodes, so pure-Python SymPy code stops
    promptly; a single long C call (a huge integer power) is stopped by the worker
    process being killed instead (see `derive.pool`).
    """
    if seconds <= 0:
        raise BudgetExceeded
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise BudgetExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Deadline:
    """A budget shared by several calls: how much of it is left."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.end - time.monotonic())
