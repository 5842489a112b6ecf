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

    Limits nest: an inner limit never extends an outer one, and the outer one is
    restored when the inner block ends. Python runs signal handlers between bytecodes,
    so pure-Python SymPy code stops promptly; a single long C call (a huge integer
    power) is stopped by the worker process being killed instead (see `derive.pool`).
    """
    if seconds <= 0:
        raise BudgetExceeded
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outer_left, _interval = signal.getitimer(signal.ITIMER_REAL)
    if outer_left > 0:
        seconds = min(seconds, outer_left)

    def expire(signum, frame):
        raise BudgetExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left > 0:
            # give the outer limit what is left of it (at least a moment, so it still fires)
            signal.setitimer(signal.ITIMER_REAL,
                             max(1e-3, outer_left - (time.monotonic() - started)))


class Deadline:
    """A budget shared by several calls: how much of it is left."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.end - time.monotonic())
