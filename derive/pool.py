"""Worker processes for SymPy: a runaway computation is killed, memory is capped."""

from __future__ import annotations

import atexit
import multiprocessing
import resource
from collections.abc import Callable
from concurrent.futures import Future, TimeoutError
from typing import Any

from pebble import ProcessExpired, ProcessPool

MEMORY_LIMIT = 2 * 1024**3  # bytes of address space per worker


def _address_space() -> int:
    """Bytes of address space this process maps now."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        return 0


def _limit_memory() -> None:
    """Cap a worker's address space so a blow-up raises MemoryError instead of exhausting RAM.

    The cap is what the worker inherited at fork plus MEMORY_LIMIT."""
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = _address_space() + MEMORY_LIMIT
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # pragma: no cover - platforms without RLIMIT_AS
        pass


class WorkerPool:
    """A pool of forked workers with a hard timeout per task.

    The pool is started before torch or jax are imported, so its workers carry SymPy
    only; `fork` (not spawn) means a user's script is never re-imported by a worker.
    """

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("fork")
        self._pool = ProcessPool(max_workers=workers, initializer=_limit_memory,
                                 context=context)
        atexit.register(self.close)

    def submit(self, function: Callable[..., Any], *args: Any, timeout: float) -> Future:
        """Run `function(*args)` in a worker; its future raises TimeoutError after `timeout`."""
        return self._pool.schedule(function, args=args, timeout=timeout)

    def close(self) -> None:
        """Stop the workers."""
        self._pool.stop()
        self._pool.join(timeout=5)


__all__ = ["ProcessExpired", "TimeoutError", "WorkerPool"]
