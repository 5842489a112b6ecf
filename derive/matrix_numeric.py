"""Numeric evaluation of shaped blocks: arrays of shape (points, rows, columns) in an engine."""

from __future__ import annotations

from fractions import Fraction

from derive import ast
from derive.engines import Array, Engine
from derive.evidence import number
from derive.model import Derivation, Step
from derive.numeric import Evaluator, SideValues
from derive.shapes import (
    SCALAR,
    ShapeChecker,
    Sizes,
    element_names,
    identity_size,
    is_identity,
)


class MatrixEvaluator(Evaluator):
    """Evaluates a shaped derivation at a batch of points with one engine."""

    def __init__(self, engine: Engine, d: Derivation, sizes: Sizes) -> None:
        super().__init__(engine, d)
        self.sizes = sizes
        self.shapes = ShapeChecker(d, sizes).shapes
        self.la = engine.linalg

    def inputs(self, points: list[dict[str, Fraction]]) -> dict[str, Array]:
        """Every input as a (points, rows, columns) array."""
        out = {}
        for name in self.d.inputs:
            names = element_names(name, self.shapes[name])
            out[name] = self.engine.matrix([[[float(p[n]) for n in row] for row in names]
                                            for p in points])
        return out

    def environment(self, inputs: dict[str, Array]) -> dict[str, Array]:
        """The inputs, then every node computed forward in definition order."""
        env = dict(inputs)
        for node in self.d.nodes:  # constant nodes too get their points axis
            env[node.name] = self._batched(self.value(node.expr, env), inputs)
        return env

    def _is_identity(self, expr: ast.Expr) -> bool:
        return is_identity(self.d, expr)

    def _identity(self, op: str, other: Array, on_the_left: bool) -> Array:
        shape = tuple(other.shape[-2:]) if len(other.shape) == 3 else SCALAR
        return self.la("eye")(identity_size(op, shape, on_the_left), other)

    def _name(self, name: str, env: dict[str, Array]) -> Array:
        if name in self.d.size_names:
            return self.engine.constant(float(self.sizes.get(name)))
        return super()._name(name, env)

    @staticmethod
    def _is_scalar(a: Array) -> bool:
        return len(a.shape) < 3 or tuple(a.shape[-2:]) == SCALAR

    def _transpose(self, a: Array) -> Array:
        return a if len(a.shape) < 3 else self.la("transpose")(a)

    def _binary(self, op: str, a: Array, b: Array, right: ast.Expr) -> Array:
        if op == "^":
            if not self._is_scalar(a) and isinstance(right, ast.Neg) and isinstance(
                    right.operand, ast.Number) and right.operand.value == 1:
                return self.la("inv")(a)
            return a ** b
        if op == "*" and not (self._is_scalar(a) or self._is_scalar(b)):
            return self.la("matmul")(a, b)
        if op in ("*", "⊙"):
            return a * b
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "/":
            return a / b
        raise ValueError(op)

    def _builtin(self, func: str, args: list[Array]) -> Array:
        method = getattr(self, f"_builtin_{func}", None)
        return method(*args) if method else self.engine.function(func)(*args)

    def _builtin_sum(self, a: Array) -> Array:
        return self.la("sum")(a) if len(a.shape) == 3 else a

    def _builtin_mean(self, a: Array) -> Array:
        return self._builtin_sum(a) / (a.shape[-2] * a.shape[-1] if len(a.shape) == 3 else 1)

    def _builtin_norm(self, a: Array) -> Array:
        return self.engine.function("sqrt")(self._builtin_sum(a * a))

    def _builtin_tr(self, a: Array) -> Array:
        return self.la("sum")(self.la("diagonal")(a))

    def _builtin_det(self, a: Array) -> Array:
        return self.la("det")(a)

    def _builtin_inv(self, a: Array) -> Array:
        return self.la("inv")(a)

    def _builtin_diag(self, a: Array) -> Array:
        return self.la("diag_embed")(a) if a.shape[-1] == 1 else self.la("diagonal")(a)

    def _builtin_softmax(self, a: Array) -> Array:
        exps = self.engine.function("exp")(a)
        return exps / self.la("sum")(exps)

    def _builtin_outer(self, a: Array, b: Array) -> Array:
        return self.la("matmul")(a, self._transpose(b))

    def _differentiate(self, nudged, at: Array) -> Array:
        """A gradient (the shape of the variable), or a Jacobian for vector by vector."""
        out, pullback = self.engine.vjp(nudged, at)
        if self._is_scalar(out):
            return pullback(out * 0 + 1)
        rows, cols = out.shape[-2], out.shape[-1]
        entries = []
        for i in range(rows):
            for j in range(cols):
                grad = pullback(self._one_hot(out, i, j))
                entries.append(grad)
        if self._is_scalar(at):  # dE/dv for a scalar v: the shape of E
            return self._assemble([[entries[i * cols + j] for j in range(cols)]
                                   for i in range(rows)])
        # vector E and vector V: the Jacobian, one row per entry of E
        return self._assemble([[self._transpose(g)] for g in entries], stack_rows=True)

    def _one_hot(self, like: Array, i: int, j: int) -> Array:
        eye_rows = self.la("eye")(like.shape[-2], like)[:, :, i:i + 1]
        eye_cols = self.la("eye")(like.shape[-1], like)[:, j:j + 1, :]
        return self.la("matmul")(eye_rows, eye_cols)

    def _assemble(self, blocks: list[list[Array]], stack_rows: bool = False) -> Array:
        """Entries (each (points, 1, 1), or rows (points, 1, n)) into one array."""
        concat = self.la("concat")
        if stack_rows:
            return concat([row[0] for row in blocks], -2)
        return concat([concat(row, -1) for row in blocks], -2)

    def steps(self, steps: tuple[Step, ...], points: list[dict[str, Fraction]]) -> SideValues:
        """Both sides of each step at each point, each a tuple of entries (row-major).

        The whole block is one function of its inputs, compiled once by engines that
        compile (JAX): shapes differ from block to block, and op-by-op dispatch would
        compile every operation anew for each shape."""
        def sides(inputs: dict[str, Array]) -> list[tuple[Array, Array]]:
            env = self.environment(inputs)
            return [(self._batched(self.value(s.lhs, env), inputs),
                     self._batched(self.value(s.rhs, env), inputs)) for s in steps]

        results = self.engine.compile(sides)(self.inputs(points))
        count = len(points)
        lhs = tuple(self._per_point(left, count) for left, _right in results)
        rhs = tuple(self._per_point(right, count) for _left, right in results)
        return SideValues(self.engine.name, lhs, rhs)

    def _batched(self, value: Array, inputs: dict[str, Array]) -> Array:
        """A value with its points axis, even when it is a constant."""
        if len(getattr(value, "shape", ())) == 3:
            return value
        some = next(iter(inputs.values()))
        return value + 0 * self.la("sum")(some)

    def _per_point(self, values: Array, count: int) -> tuple[tuple[float, ...], ...]:
        nested = self.engine.to_nested(values)
        if not isinstance(nested, list):  # a constant
            return tuple((float(nested),) for _ in range(count))
        if len(values.shape) < 3:
            return tuple((float(v),) for v in self.engine.to_list(values))
        return tuple(tuple(float(x) for row in point for x in row) for point in nested)


def group_point(point: dict[str, Fraction], d: Derivation,
                shapes: dict[str, tuple[int, int]]) -> tuple[tuple[str, str], ...]:
    """A point over entries, shown per input: `W = [[1, 2], [3, 4]], x = [5, 6]`."""
    out = []
    for name in d.inputs:
        rows = element_names(name, shapes[name])
        values = [[number(float(point[n])) for n in row] for row in rows]
        if shapes[name] == SCALAR:
            out.append((name, values[0][0]))
        elif shapes[name][1] == 1:
            out.append((name, "[" + ", ".join(v[0] for v in values) + "]"))
        else:
            out.append((name, "[" + ", ".join("[" + ", ".join(r) + "]" for r in values) + "]"))
    return tuple(out)
