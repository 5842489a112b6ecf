"""Shapes of vectors and matrices (spec section 9): declared sizes, inference, size choices."""

from __future__ import annotations

from dataclasses import dataclass

from derive import ast
from derive.errors import BlockError
from derive.model import Derivation

Shape = tuple[int, int]  # (rows, columns); a scalar is (1, 1), a column vector (n, 1)
SCALAR: Shape = (1, 1)

ELEMENTWISE = {"exp", "log", "ln", "sqrt", "abs", "sin", "cos", "tan", "tanh", "sinh", "cosh",
               "sigmoid", "relu", "softplus"}
REDUCTIONS = {"sum", "mean", "norm"}
MATRIX_FUNCTIONS = {"sum", "mean", "tr", "det", "inv", "diag", "softmax", "norm", "outer"}
SIZE_CHOICES = ((2,), (3, 2, 4))  # every size name takes the first, then distinct values


def describe(shape: Shape) -> str:
    """`2×3`, `2` for a column vector, `scalar`."""
    rows, cols = shape
    if shape == SCALAR:
        return "scalar"
    return f"{rows}" if cols == 1 else f"{rows}×{cols}"


@dataclass(frozen=True)
class Sizes:
    """One choice of concrete sizes for the size names of a block."""

    values: tuple[tuple[str, int], ...]

    def text(self) -> str:
        """`n = 2, m = 3`."""
        return ", ".join(f"{k} = {v}" for k, v in self.values)

    def get(self, dim: int | str) -> int:
        """A dimension as a number."""
        return dim if isinstance(dim, int) else dict(self.values)[dim]


def size_choices(d: Derivation) -> list[Sizes]:
    """The concrete sizes a block is checked at: all 2, then distinct values 3, 2, 4, …."""
    names = sorted(d.size_names)
    if not names:
        return [Sizes(())]
    first = Sizes(tuple((n, 2) for n in names))
    second = Sizes(tuple((n, 3 + i) for i, n in enumerate(names)))
    return [first, second]


def declared(d: Derivation, sizes: Sizes) -> dict[str, Shape]:
    """The concrete shape of every declared input."""
    out = {}
    for name, dims in d.shapes:
        rows = sizes.get(dims[0])
        cols = sizes.get(dims[1]) if len(dims) > 1 else 1
        out[name] = (rows, cols)
    return out


def element_names(name: str, shape: tuple[int, int]) -> list[list[str]]:
    """The names SymPy and sampling give to the entries of an input."""
    rows, cols = shape
    if shape == SCALAR:
        return [[name]]
    if cols == 1:
        return [[f"{name}[{i}]"] for i in range(rows)]
    return [[f"{name}[{i},{j}]" for j in range(cols)] for i in range(rows)]


class ShapeChecker:
    """Infers the shape of every node and step side; a mismatch is a BlockError."""

    def __init__(self, d: Derivation, sizes: Sizes) -> None:
        self.d = d
        self.sizes = sizes
        self.shapes: dict[str, Shape] = declared(d, sizes)
        for name in d.inputs:
            self.shapes.setdefault(name, SCALAR)
        for node in d.nodes:
            self.shapes[node.name] = self.infer(node.expr, node.line)

    def infer(self, expr: ast.Expr, line: int, params: dict[str, Shape] | None = None) -> Shape:
        """The shape of `expr`."""
        params = params or {}
        match expr:
            case ast.Number():
                return SCALAR
            case ast.Name(id=name):
                if name in params:
                    return params[name]
                if name in self.d.size_names or name in self.d.constants:
                    return SCALAR
                return self.shapes.get(name, SCALAR)
            case ast.Neg(operand=o):
                return self.infer(o, line, params)
            case ast.Transpose(operand=o):
                rows, cols = self.infer(o, line, params)
                return (cols, rows)
            case ast.BinOp(op=op, left=left, right=right) if is_identity(self.d, left) or (
                    is_identity(self.d, right)):
                return self._identity(op, left, right, line, params, expr)
            case ast.BinOp(op=op, left=left, right=right):
                return self._binary(op, self.infer(left, line, params),
                                    self.infer(right, line, params), right, line, expr)
            case ast.Call(func=func, args=args):
                return self._call(func, [self.infer(a, line, params) for a in args], line, expr)
            case ast.Derivative(expr=inner, wrt=wrt):
                shape = self.infer(inner, line, params)
                for name in reversed(wrt):
                    shape = self._derivative_shape(shape, self.shapes.get(name, SCALAR),
                                                   line, expr)
                return shape
        raise BlockError(f"cannot find the shape of {type(expr).__name__}", line)

    def _identity(self, op, left, right, line, params, expr) -> Shape:
        other = self.infer(right if is_identity(self.d, left) else left, line, params)
        size = identity_size(op, other, is_identity(self.d, left))
        if size is None:
            raise self._error(f"`I` is sized by what it meets, and {describe(other)} does not "
                              "give it a square size here", line, expr)
        eye = (size, size)
        if op == "*" and other != SCALAR:
            return other
        return self._binary(op, eye if is_identity(self.d, left) else other,
                            other if is_identity(self.d, left) else eye, right, line, expr)

    def _error(self, message: str, line: int, expr: ast.Expr) -> BlockError:
        return BlockError(message, line, expr.pos.column if expr.pos else None)

    def _binary(self, op: str, a: Shape, b: Shape, right: ast.Expr, line: int,
                expr: ast.Expr) -> Shape:
        if op == "^":
            if a == SCALAR:
                if b != SCALAR:
                    raise self._error(f"an exponent must be a scalar, not {describe(b)}",
                                      line, expr)
                return SCALAR
            if _is_minus_one(right):
                if a[0] != a[1]:
                    raise self._error(f"only a square matrix has an inverse, not "
                                      f"{describe(a)}", line, expr)
                return a
            if b != SCALAR:
                raise self._error(f"an exponent must be a scalar, not {describe(b)}", line,
                                  expr)
            return a
        if a == SCALAR:
            return b
        if b == SCALAR:
            return a
        if op == "*":
            if a[1] != b[0]:
                raise self._error(f"{describe(a)} · {describe(b)}: inner sizes {a[1]} and "
                                  f"{b[0]} differ", line, expr)
            return (a[0], b[1])
        if a != b:
            symbol = {"⊙": "⊙", "/": "/", "+": "+", "-": "-"}[op]
            raise self._error(f"{describe(a)} {symbol} {describe(b)}: the shapes differ", line,
                              expr)
        return a

    def _call(self, func: str, args: list[Shape], line: int, expr: ast.Expr) -> Shape:
        if func in ELEMENTWISE:
            return args[0]
        if func in REDUCTIONS:
            return SCALAR
        if func in ("tr", "det", "inv"):
            if args[0][0] != args[0][1]:
                raise self._error(f"`{func}` needs a square matrix, not {describe(args[0])}",
                                  line, expr)
            return SCALAR if func != "inv" else args[0]
        if func == "diag":
            rows, cols = args[0]
            if cols == 1:
                return (rows, rows)
            if rows == cols:
                return (rows, 1)
            raise self._error(f"`diag` needs a vector or a square matrix, not "
                              f"{describe(args[0])}", line, expr)
        if func == "softmax":
            if args[0][1] != 1:
                raise self._error(f"`softmax` needs a vector, not {describe(args[0])}", line,
                                  expr)
            return args[0]
        if func == "outer":
            if args[0][1] != 1 or args[1][1] != 1:
                raise self._error("`outer` needs two vectors", line, expr)
            return (args[0][0], args[1][0])
        if func in ("max", "min"):
            if any(a != SCALAR for a in args):
                raise self._error(f"`{func}` takes scalars", line, expr)
            return SCALAR
        if func in self.d.function_map:
            fn = self.d.function_map[func]
            return self.infer(fn.expr, line, dict(zip(fn.params, args, strict=True)))
        if any(a != SCALAR for a in args):
            raise self._error(f"the abstract function `{func}` takes scalars", line, expr)
        return SCALAR

    def _derivative_shape(self, e: Shape, v: Shape, line: int, expr: ast.Expr) -> Shape:
        if e == SCALAR:
            return v
        if v == SCALAR:
            return e
        if e[1] == 1 and v[1] == 1:
            return (e[0], v[0])  # the Jacobian: one row per entry of E
        raise self._error(f"the derivative of a {describe(e)} value by a {describe(v)} value "
                          "is not defined here (use a scalar, or vectors for a Jacobian)",
                          line, expr)

    def check_steps(self) -> dict[int, Shape]:
        """The shape of each step (both sides must agree)."""
        out = {}
        for step in self.d.steps:
            left = self.infer(step.lhs, step.line)
            right = self.infer(step.rhs, step.line)
            if left != right and SCALAR not in (left, right):
                raise BlockError(f"the sides have different shapes: {describe(left)} and "
                                 f"{describe(right)}", step.line)
            if left != right:
                raise BlockError(f"the sides have different shapes: {describe(left)} and "
                                 f"{describe(right)}", step.line)
            out[step.index] = left
        return out


def _is_minus_one(expr: ast.Expr) -> bool:
    return (isinstance(expr, ast.Neg) and isinstance(expr.operand, ast.Number) and
            expr.operand.value == 1)


def is_identity(d: Derivation, expr: ast.Expr) -> bool:
    """Whether `expr` is the identity matrix `I` of a shaped block (sized by context)."""
    return (isinstance(expr, ast.Name) and expr.id == "I" and d.shaped and
            "I" not in d.inputs and "I" not in d.node_map)


def identity_size(op: str, other: Shape, on_the_left: bool) -> int | None:
    """The size of `I` next to a value of shape `other` under `op`, or None."""
    if op == "*" and other != SCALAR:
        return other[0] if on_the_left else other[1]
    if op in ("+", "-", "⊙") and other[0] == other[1] and other != SCALAR:
        return other[0]
    return None
