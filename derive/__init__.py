"""derive: check the derivations in course notes with SymPy, PyTorch and JAX.

    >>> import derive
    >>> derive.check("title: square\\nd(x^2)/dx = 2x").verdicts   # doctest: +SKIP
    ['holds']

Importing derive is cheap: SymPy, PyTorch and JAX load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from derive.errors import (
    BlockError,
    DeriveError,
    EngineUnavailable,
    SourceError,
    UsageError,
)
from derive.results import DerivationResult, RunResult, StepResult, Verdict

if TYPE_CHECKING:
    from derive.api import Result, check, check_file
    from derive.builder import Derivation
    from derive.runner import Options

# Public names that live in heavier modules, imported on first access.
_LAZY = {
    "check": "derive.api",
    "check_file": "derive.api",
    "Result": "derive.api",
    "Derivation": "derive.builder",
    "Options": "derive.runner",
}

__all__ = [
    "BlockError",
    "Derivation",
    "DerivationResult",
    "DeriveError",
    "EngineUnavailable",
    "Options",
    "Result",
    "RunResult",
    "SourceError",
    "StepResult",
    "UsageError",
    "Verdict",
    "__version__",
    "check",
    "check_file",
]


def __getattr__(name: str) -> Any:
    """Import the heavier public names (and `__version__`) when first used."""
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
    elif name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("derive")
        except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
            value = "0+unknown"
    else:
        raise AttributeError(f"module 'derive' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Every public name, the lazy ones included."""
    return sorted(set(globals()) | set(__all__))
