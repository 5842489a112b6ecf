"""JAX engine: float64 arrays (x64 enabled) and jax.vjp."""

from __future__ import annotations

import os
from collections.abc import Callable

import jax

jax.config.update("jax_enable_x64", True)  # before any array exists


def _compilation_cache() -> None:
    """Keep JAX's compiled kernels on disk: a second run skips most of XLA's compile time."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "derive", f"jax-{jax.__version__}")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", directory)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


if os.environ.get("DERIVE_JAX_CACHE", "1") != "0":
    _compilation_cache()

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from derive.engines import Array  # noqa: E402


class JaxEngine:
    """Evaluates with jax.numpy float64 arrays; derivatives by jax.vjp."""

    name = "jax"
    label = "JAX"

    def __init__(self) -> None:
        self._functions: dict[str, Callable[..., Array]] = {
            "exp": jnp.exp, "log": jnp.log, "ln": jnp.log, "sqrt": jnp.sqrt,
            "abs": jnp.abs, "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan,
            "tanh": jnp.tanh, "sinh": jnp.sinh, "cosh": jnp.cosh,
            "sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu, "softplus": jax.nn.softplus,
            "max": _fold(jnp.maximum), "min": _fold(jnp.minimum),
        }

    def constant(self, value: float) -> Array:
        return jnp.asarray(value, dtype=jnp.float64)

    def vector(self, values: list[float]) -> Array:
        return jnp.asarray(values, dtype=jnp.float64)

    def function(self, name: str) -> Callable[..., Array]:
        return self._functions[name]

    def derivative(self, f: Callable[[Array], Array], at: Array) -> Array:
        out, pullback = jax.vjp(lambda u: f(u) + 0 * u, at)
        (grad,) = pullback(jnp.ones_like(out))
        return grad

    def to_list(self, values: Array) -> list[float]:
        return [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]

    def matrix(self, values: list[list[list[float]]]) -> Array:
        return jnp.asarray(values, dtype=jnp.float64)

    def vjp(self, f: Callable[[Array], Array], at: Array,
            ) -> tuple[Array, Callable[[Array], Array]]:
        out, pullback = jax.vjp(lambda u: f(u) + 0 * u.sum(axis=(-2, -1), keepdims=True), at)
        return out, lambda cotangent: pullback(cotangent)[0]

    def compile(self, f: Callable) -> Callable:
        return jax.jit(f)

    def linalg(self, name: str) -> Callable[..., Array]:
        return _LINALG[name]

    def to_nested(self, values: Array) -> list:
        return np.asarray(values, dtype=np.float64).tolist()


_LINALG: dict[str, Callable[..., Array]] = {
    "concat": lambda arrays, axis: jnp.concatenate(arrays, axis=axis),
    "matmul": jnp.matmul,
    "transpose": lambda a: jnp.swapaxes(a, -2, -1),
    "inv": jnp.linalg.inv,
    "det": lambda a: jnp.linalg.det(a)[..., None, None],
    "diagonal": lambda a: jnp.diagonal(a, axis1=-2, axis2=-1)[..., None],
    "diag_embed": lambda v: v * jnp.eye(v.shape[-2], dtype=jnp.float64),
    "sum": lambda a: a.sum(axis=(-2, -1), keepdims=True),
    "eye": lambda n, like: jnp.broadcast_to(jnp.eye(n, dtype=jnp.float64),
                                            (like.shape[0], n, n)),
}


def _fold(op: Callable[[Array, Array], Array]) -> Callable[..., Array]:
    def folded(*args: Array) -> Array:
        result = args[0]
        for arg in args[1:]:
            result = op(result, arg)
        return result
    return folded
