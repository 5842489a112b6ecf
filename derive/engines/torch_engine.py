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

    def matrix(self, values: list[list[list[float]]]) -> Array:
        return torch.tensor(values, dtype=torch.float64)

    def vjp(self, f: Callable[[Array], Array], at: Array,
            ) -> tuple[Array, Callable[[Array], Array]]:
        with torch.enable_grad():
            u = at.clone() if at.requires_grad else at.detach().clone().requires_grad_(True)
            out = f(u) + 0 * u.sum(dim=(-2, -1), keepdim=True)

        def pullback(cotangent: Array) -> Array:
            with torch.enable_grad():
                (grad,) = torch.autograd.grad(out, u, grad_outputs=cotangent,
                                              retain_graph=True, create_graph=True,
                                              allow_unused=True)
            return torch.zeros_like(u) if grad is None else grad

        return out, pullback

    def compile(self, f: Callable) -> Callable:
        return f  # eager PyTorch is fast enough op by op

    def linalg(self, name: str) -> Callable[..., Array]:
        return _LINALG[name]

    def to_nested(self, values: Array) -> list:
        return values.detach().tolist()


_LINALG: dict[str, Callable[..., Array]] = {
    "concat": lambda arrays, axis: torch.cat(arrays, dim=axis),
    "matmul": torch.matmul,
    "transpose": lambda a: a.transpose(-2, -1),
    "inv": torch.linalg.inv,
    "det": lambda a: torch.linalg.det(a)[..., None, None],
    "diagonal": lambda a: torch.diagonal(a, dim1=-2, dim2=-1)[..., None],
    "diag_embed": lambda v: torch.diag_embed(v[..., 0]),
    "sum": lambda a: a.sum(dim=(-2, -1), keepdim=True),
    "eye": lambda n, like: torch.eye(n, dtype=torch.float64).expand(like.shape[0], n, n),
}


def _fold(op: Callable[[Array, Array], Array]) -> Callable[..., Array]:
    def folded(*args: Array) -> Array:
        result = args[0]
        for arg in args[1:]:
            result = op(*torch.broadcast_tensors(result, arg))
        return result
    return folded
