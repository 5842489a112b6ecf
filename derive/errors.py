"""The exception root of derive; each subclass says what went wrong and how to fix it."""

from __future__ import annotations


class DeriveError(Exception):
    """Root of every error derive raises on purpose."""


class UsageError(DeriveError):
    """The command line or API was called wrongly (exit status 2)."""


class BlockError(DeriveError):
    """A `derive` block is not valid; carries the position of the mistake."""

    def __init__(self, message: str, line: int, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def located(self, source: str, cell: int | None = None) -> str:
        """`source:line:column: message` (with `cell N:` for notebooks)."""
        where = source if cell is None else f"{source}:cell {cell}"
        col = f":{self.column}" if self.column is not None else ""
        return f"{where}:{self.line}{col}: {self.message}"


class SourceError(DeriveError):
    """A source file could not be read (not UTF-8, not a notebook, unreadable)."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


class EngineUnavailable(DeriveError):
    """A numeric engine (PyTorch or JAX) is not installed or failed to start.

    Install it (`pip install torch jax`) or leave it out with `--engines`.
    """
