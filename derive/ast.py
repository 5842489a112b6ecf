"""Expression trees of the block language: frozen records that carry their position."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Pos:
    """A position in the source: 1-based line and column."""

    line: int
    column: int


@dataclass(frozen=True)
class Expr:
    """Base of every expression node."""

    pos: Pos | None = field(default=None, compare=False, kw_only=True)


@dataclass(frozen=True)
class Number(Expr):
    """An exact number: `2`, `0.25` (exactly 1/4), `1/3` is Div of two Numbers."""

    value: Fraction
    text: str


@dataclass(frozen=True)
class Name(Expr):
    """An identifier: an input, a node, a constant or a function parameter."""

    id: str


@dataclass(frozen=True)
class Call(Expr):
    """`f(a, b)`: a function application (or, before resolution, maybe a product)."""

    func: str
    args: tuple[Expr, ...]


# What each binary operator means for numbers, SymPy expressions and arrays alike.
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "⊙": operator.mul,
    "/": operator.truediv, "^": operator.pow,
}


@dataclass(frozen=True)
class BinOp(Expr):
    """A binary operation: `+ - * / ^` and `⊙` (elementwise product)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg(Expr):
    """Unary minus."""

    operand: Expr


@dataclass(frozen=True)
class Transpose(Expr):
    """`Aᵀ` or `A^T`."""

    operand: Expr


@dataclass(frozen=True)
class Derivative(Expr):
    """`d(E)/dv`, `d²E/dudv`: the derivative of `expr` by each name of `wrt` in turn."""

    expr: Expr
    wrt: tuple[str, ...]


@dataclass(frozen=True)
class ShortDerivative(Expr):
    """`dA/dv` as written, before the block says whether it is a derivative or a quotient."""

    text: str


@dataclass(frozen=True)
class RawDerivative(Expr):
    """`d(E)/dv…` as parsed, before the block resolves its variables."""

    opener: str
    expr: Expr
    dvars: tuple[tuple[str, int], ...]  # (text, column) of each `dv`


def walk(expr: Expr):
    """Yield `expr` and every expression below it, parents first."""
    yield expr
    for child in children(expr):
        yield from walk(child)


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of `expr`."""
    match expr:
        case Call(args=args):
            return args
        case BinOp(left=left, right=right):
            return (left, right)
        case Neg(operand=o) | Transpose(operand=o):
            return (o,)
        case Derivative(expr=e) | RawDerivative(expr=e):
            return (e,)
    return ()
