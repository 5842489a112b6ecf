"""Numeric evaluation of shaped blocks: arrays of shape (points, rows, columns) in an engine."""

from __future__ import annotations

from fractions import Fraction

from derive import ast
from derive.engines import Array, Engine
from derive.evidence import number
from derive.model import Derivation, Step
from derive.numeric import SideValues
from derive.shapes import SCALAR, ShapeChecker, Sizes, element_names

PI, E = 3.141592653589793, 2.718281828459045


class MatrixEvaluator:
    """Evaluates a shaped derivation at a batch of points with one engine."""

    def __init__(self, engine: Engine, d: Derivation, sizes: Sizes) -> None:
        self.engine = engine
        self.d = d
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
        for node in self.d.nodes:
            env[node.name] = self.value(node.expr, env)
        return env

    def value(self, expr: ast.Expr, env: dict[str, Array],
              params: dict[str, Array] | None = None) -> Array:
        """`expr` in `env`: a (points, rows, columns) array, or a constant."""
        params = params or {}
        e = self.engine
        match expr:
            case ast.Number(value=v):
                return e.constant(float(v))
            case ast.Name(id=name):
                if name in params:
                    return params[name]
                if name in self.d.size_names:
                    return e.constant(float(self.sizes.get(name)))
                if name in self.d.constants:
                    return e.constant(PI if name in ("pi", "π") else E)
                return env[name]
            case ast.Neg(operand=o):
                return -self.value(o, env, params)
            case ast.Transpose(operand=o):
                return self._transpose(self.value(o, env, params))
            case ast.BinOp(op=op, left=left, right=right):
                return self._binary(op, self.value(left, env, params),
                                    self.value(right, env, params), right)
            case ast.Call(func=func, args=args):
                return self._call(func, [self.value(a, env, params) for a in args], env,
                                  params)
            case ast.Derivative(expr=inner, wrt=wrt):
                return self._derivative(inner, wrt, env, params)
        raise TypeError(f"cannot evaluate {type(expr).__name__}")

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

    def _call(self, func: str, args: list[Array], env, params) -> Array:
        if func in self.d.function_map:
            fn = self.d.function_map[func]
            return self.value(fn.expr, env, {**params, **dict(zip(fn.params, args,
                                                                  strict=True))})
        a = args[0]
        la = self.la
        if func == "sum":
            return la("sum")(a) if len(a.shape) == 3 else a
        if func == "mean":
            return la("sum")(a) / (a.shape[-2] * a.shape[-1]) if len(a.shape) == 3 else a
        if func == "norm":
            return self.engine.function("sqrt")(la("sum")(a * a))
        if func == "tr":
            return la("sum")(la("diagonal")(a))
        if func == "det":
            return la("det")(a)
        if func == "inv":
            return la("inv")(a)
        if func == "diag":
            return la("diag_embed")(a) if a.shape[-1] == 1 else la("diagonal")(a)
        if func == "softmax":
            exps = self.engine.function("exp")(a)
            return exps / la("sum")(exps)
        if func == "outer":
            return la("matmul")(a, self._transpose(args[1]))
        return self.engine.function(func)(*args)

    def _derivative(self, inner: ast.Expr, wrt: tuple[str, ...], env: dict[str, Array],
                    params: dict[str, Array]) -> Array:
        name, rest = wrt[0], wrt[1:]  # d²f/dudv = d/du (df/dv), as SymPy takes it
        wanted = set(self.d.downstream(name)) & self.d.needed_nodes(inner)
        follow = [n for n in self.d.nodes if n.name in wanted]

        def nudged(u: Array) -> Array:
            moved = dict(env)
            moved[name] = u
            for node in follow:
                moved[node.name] = self.value(node.expr, moved)
            if rest:
                return self._derivative(inner, rest, moved, params)
            return self.value(inner, moved, params)

        at = env[name]
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
