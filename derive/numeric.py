"""Evaluate a derivation's steps with a numeric engine, derivatives by that engine's autodiff."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from derive import ast
from derive.engines import Array, Engine
from derive.model import Derivation, Step


@dataclass(frozen=True)
class SideValues:
    """Both sides of every step at every point, as one engine computes them."""

    engine: str
    lhs: tuple[tuple[float, ...], ...]  # [step][point]
    rhs: tuple[tuple[float, ...], ...]


PI, E = 3.141592653589793, 2.718281828459045


class Evaluator:
    """Evaluates expressions of one derivation on a batch of points with one engine."""

    def __init__(self, engine: Engine, derivation: Derivation) -> None:
        self.engine = engine
        self.d = derivation

    def environment(self, points: list[dict[str, Fraction]]) -> dict[str, Array]:
        """Inputs at the points, then every node computed forward in definition order."""
        env = {name: self.engine.vector([float(p[name]) for p in points])
               for name in self.d.inputs}
        zeros = self.engine.vector([0.0] * len(points))
        for node in self.d.nodes:
            # a node that reads no input (`h := tanh(e)`) still gets one value per point, so
            # that a derivative by it is taken point by point, not summed over the points
            env[node.name] = self.value(node.expr, env) + zeros
        return env

    def value(self, expr: ast.Expr, env: dict[str, Array],
              params: dict[str, Array] | None = None) -> Array:
        """`expr` evaluated in `env` (inputs and node values)."""
        params = params or {}
        match expr:
            case ast.Number(value=v):
                return self.engine.constant(float(v))
            case ast.Name(id=name):
                return params[name] if name in params else self._name(name, env)
            case ast.Neg(operand=o):
                return -self.value(o, env, params)
            case ast.Transpose(operand=o):
                return self._transpose(self.value(o, env, params))
            case ast.BinOp(op=op, left=left, right=right) if self._is_identity(left):
                other = self.value(right, env, params)
                return self._binary(op, self._identity(op, other, True), other, right)
            case ast.BinOp(op=op, left=left, right=right) if self._is_identity(right):
                other = self.value(left, env, params)
                return self._binary(op, other, self._identity(op, other, False), right)
            case ast.BinOp(op=op, left=left, right=right):
                return self._binary(op, self.value(left, env, params),
                                    self.value(right, env, params), right)
            case ast.Call(func=func, args=args):
                values = [self.value(a, env, params) for a in args]
                if func in self.d.function_map:
                    fn = self.d.function_map[func]
                    return self.value(fn.expr, env, {**params, **dict(zip(fn.params, values,
                                                                         strict=True))})
                return self._builtin(func, values)
            case ast.Derivative(expr=inner, wrt=wrt):
                return self._derivative(inner, wrt, env, params)
        raise TypeError(f"cannot evaluate {type(expr).__name__}")

    # --- what a scalar block means; MatrixEvaluator overrides these -------------------------

    def _name(self, name: str, env: dict[str, Array]) -> Array:
        if name in self.d.constants:
            return self.engine.constant(PI if name in ("pi", "π") else E)
        return env[name]

    def _transpose(self, a: Array) -> Array:
        return a

    def _is_identity(self, expr: ast.Expr) -> bool:
        return False  # `I` is a matrix: only shaped blocks have it

    def _identity(self, op: str, other: Array, on_the_left: bool) -> Array:
        raise TypeError("a scalar block has no identity matrix")

    def _binary(self, op: str, a: Array, b: Array, right: ast.Expr) -> Array:
        return ast.OPERATORS[op](a, b)

    def _builtin(self, func: str, args: list[Array]) -> Array:
        return self.engine.function(func)(*args)

    def _differentiate(self, f, at: Array) -> Array:
        """Elementwise df/du at `u = at`, by the engine's own autodiff."""
        return self.engine.derivative(f, at)

    def _derivative(self, inner: ast.Expr, wrt: tuple[str, ...], env: dict[str, Array],
                    params: dict[str, Array]) -> Array:
        """d(inner)/d(wrt[0]) d(wrt[1])…: the variable is nudged and its downstream nodes follow."""
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

        return self._differentiate(nudged, env[name])

    def steps(self, steps: tuple[Step, ...], points: list[dict[str, Fraction]]) -> SideValues:
        """Both sides of each step at each point."""
        env = self.environment(points)
        count = len(points)
        lhs, rhs = [], []
        for step in steps:
            lhs.append(self._broadcast(self.value(step.lhs, env), count))
            rhs.append(self._broadcast(self.value(step.rhs, env), count))
        return SideValues(self.engine.name, tuple(lhs), tuple(rhs))

    def _broadcast(self, values: Array, count: int) -> tuple[float, ...]:
        flat = self.engine.to_list(values)
        return tuple(flat * count) if len(flat) == 1 and count != 1 else tuple(flat)
