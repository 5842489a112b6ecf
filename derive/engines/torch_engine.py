"""PyTorch engine: float64 tensors and torch.autograd."""

from __future__ import annotations

from collections.abc import Callable

import torch

from derive.engines import Array


class TorchEngine:
    """Evaluates with torch float64 tensors; derivatives by torch.autograd.grad."""

    name = "torch"
    label = "PyTorch"

    def __init__(self) -> None:
        self._functions: dict[str, Callable[..., Array]] = {
            "exp": torch.exp, "log": torch.log, "ln": torch.log, "sqrt": torch.sqrt,
            "abs": torch.abs, "sin": torch.sin, "cos": torch.cos, "tan": torch.tan,
            "tanh": torch.tanh, "sinh": torch.sinh, "cosh": torch.cosh,
            "sigmoid": torch.sigmoid, "relu": torch.relu,
            "softplus": torch.nn.functional.softplus,
            "max": _fold(torch.maximum), "min": _fold(torch.minimum),
        }

    def constant(self, value: float) -> Array:
        return torch.tensor(value, dtype=torch.float64)

    def vector(self, values: list[float]) -> Array:
        return torch.tensor(values, dtype=torch.float64)

    def function(self, name: str) -> Callable[..., Array]:
        return self._functions[name]

    def derivative(self, f: Callable[[Array], Array], at: Array) -> Array:
        with torch.enable_grad():
            u = at.clone() if at.requires_grad else at.detach().clone().requires_grad_(True)
            out = f(u) + 0 * u
            (grad,) = torch.autograd.grad(out, u, grad_outputs=torch.ones_like(out),
                                          create_graph=True, allow_unused=True)
        return torch.zeros_like(u) if grad is None else grad

    def to_list(self, values: Array) -> list[float]:
        return [float(v) for v in values.detach().reshape(-1).tolist()]


def _fold(op: Callable[[Array, Array], Array]) -> Callable[..., Array]:
    def folded(*args: Array) -> Array:
        result = args[0]
        for arg in args[1:]:
            result = op(*torch.broadcast_tensors(result, arg))
        return result
    return folded
