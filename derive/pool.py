"""Worker processes for SymPy: a runaway computation is killed, memory is capped."""

from __future__ import annotations

import atexit
import multiprocessing
import resource
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, TimeoutError
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pebble import ProcessExpired, ProcessPool

MEMORY_LIMIT = 2 * 1024**3  # bytes of address space per worker
POLL = 1.0  # seconds between checks that the pool still works, while waiting for a task


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


def _context() -> multiprocessing.context.BaseContext:
    """`fork` while this process is single-threaded and has no torch or jax (the CLI, which
    starts its workers first); else `forkserver`, whose workers start from a clean process
    (forking a process that runs JAX's threads can deadlock). A script that calls derive
    after importing torch or jax therefore needs the usual `if __name__ == "__main__":`."""
    if threading.active_count() == 1 and not {"torch", "jax"} & set(sys.modules):
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["derive.prover", "derive.matrix_prover"])
    return context


class WorkerPool:
    """A pool of worker processes with a hard timeout per task and capped memory."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool = self._start()
        atexit.register(self.close)

    def _start(self) -> ProcessPool:
        return ProcessPool(max_workers=self._workers, initializer=_limit_memory,
                           context=_context())

    def submit(self, function: Callable[..., Any], *args: Any, timeout: float) -> Future:
        """Run `function(*args)` in a worker; its future raises TimeoutError after `timeout`.

        A pool that broke (a worker died where pebble could not recover) is replaced."""
        try:
            return self._pool.schedule(function, args=args, timeout=timeout)
        except RuntimeError:
            self.close()
            self._pool = self._start()
            return self._pool.schedule(function, args=args, timeout=timeout)

    def wait(self, future: Future) -> Any:
        """The result of `future`; BrokenProcessPool rather than waiting for ever when the
        pool stopped working under it."""
        while True:
            try:
                return future.result(timeout=POLL)
            except TimeoutError:
                if future.done():
                    raise  # the task's own hard timeout
                if not self._pool.active:
                    raise BrokenProcessPool("the worker pool stopped") from None

    def close(self) -> None:
        """Stop the workers."""
        self._pool.stop()
        self._pool.join(timeout=5)


__all__ = ["ProcessExpired", "TimeoutError", "WorkerPool"]
