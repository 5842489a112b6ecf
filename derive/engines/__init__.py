"""Numeric engines behind one small interface; each engine lives in one module."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

from derive.errors import EngineUnavailable

Array = Any


class Engine(Protocol):
    """What the numeric evaluator needs from an autodiff library, float64 throughout."""

    name: str  # "torch", "jax"
    label: str  # "PyTorch", "JAX"

    def constant(self, value: float) -> Array:
        """A float64 scalar."""

    def vector(self, values: list[float]) -> Array:
        """A float64 vector (one entry per sample point)."""

    def function(self, name: str) -> Callable[..., Array]:
        """The built-in function `name` (exp, log, sigmoid, max, …), elementwise."""

    def derivative(self, f: Callable[[Array], Array], at: Array) -> Array:
        """Elementwise d f(u)/du at `u = at`, by the library's own autodiff, differentiable."""

    def to_list(self, values: Array) -> list[float]:
        """Plain floats, one per sample point."""

    # --- vectors and matrices: arrays of shape (points, rows, columns) ------------------

    def matrix(self, values: list[list[list[float]]]) -> Array:
        """A float64 array of shape (points, rows, columns)."""

    def vjp(self, f: Callable[[Array], Array], at: Array,
            ) -> tuple[Array, Callable[[Array], Array]]:
        """`f(at)` and its pullback: cotangent ↦ gradient by `at`, differentiable."""

    def compile(self, f: Callable) -> Callable:
        """`f` compiled for repeated calls where the library compiles (jax.jit), else `f`."""

    def linalg(self, name: str) -> Callable[..., Array]:
        """Batched matrix operations: matmul, transpose, inv, det, diagonal, diag_embed,
        sum (over rows and columns, keeping them), eye (n, like), concat (arrays, axis)."""

    def to_nested(self, values: Array) -> list:
        """Nested lists of floats."""


ENGINES: dict[str, str] = {
    "torch": "derive.engines.torch_engine:TorchEngine",
    "jax": "derive.engines.jax_engine:JaxEngine",
}
DEFAULT_ENGINES = ("torch", "jax")


def load_engine(name: str) -> Engine:
    """Import and start the engine `name`; EngineUnavailable if it cannot be used."""
    if name not in ENGINES:
        raise EngineUnavailable(f"unknown engine `{name}` (known: {', '.join(ENGINES)})")
    module_name, class_name = ENGINES[name].split(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, class_name)()
    except ImportError as exc:
        raise EngineUnavailable(
            f"the {name} engine cannot be loaded ({exc}); install it, or choose engines "
            f"with --engines") from None
