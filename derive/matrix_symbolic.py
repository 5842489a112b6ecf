"""SymPy for shaped blocks: every value is an explicit matrix of element symbols (1×1: scalar)."""

from __future__ import annotations

import sympy
from sympy import ImmutableMatrix as M

from derive import ast
from derive.model import Derivation
from derive.shapes import SCALAR, ShapeChecker, Sizes, identity_size, is_identity
from derive.symbolic import _SYMPY_FUNCTIONS, inline


def _scalar(value: M) -> sympy.Expr:
    return value[0, 0]


def _elementwise(value: M, function) -> M:
    return value.applyfunc(function)


def _broadcast(a: M, b: M) -> tuple[M, M]:
    if a.shape == b.shape:
        return a, b
    if a.shape == SCALAR:
        return M.ones(*b.shape) * a[0, 0], b
    if b.shape == SCALAR:
        return a, M.ones(*a.shape) * b[0, 0]
    raise ValueError(f"shapes {a.shape} and {b.shape} differ")


class MatrixModel:
    """A shaped Derivation at one choice of sizes, in SymPy."""

    def __init__(self, d: Derivation, sizes: Sizes, abstract: dict | None = None) -> None:
        self.d = d
        self.sizes = sizes
        self.shapes = ShapeChecker(d, sizes)
        self.abstract = abstract if abstract is not None else {
            name: sympy.Function(name, real=True) for name, _arity in d.abstract}
        self.symbols: dict[str, M] = {}
        for name in d.inputs:
            self.symbols[name] = self._matrix(name, self.shapes.shapes[name])
        self.node_symbols: dict[str, M] = {}
        self.definitions: dict[sympy.Symbol, sympy.Expr] = {}
        for node in d.nodes:
            value = self.graph(node.expr)
            symbols = self._matrix(node.name, value.shape)
            self.node_symbols[node.name] = symbols
            for s, e in zip(symbols, value, strict=True):
                self.definitions[s] = e

    @staticmethod
    def _matrix(name: str, shape: tuple[int, int]) -> M:
        rows, cols = shape
        if (rows, cols) == SCALAR:
            return M([[sympy.Symbol(name, real=True)]])
        if cols == 1:
            return M(rows, 1, [sympy.Symbol(f"{name}[{i}]", real=True) for i in range(rows)])
        return M(rows, cols, [sympy.Symbol(f"{name}[{i},{j}]", real=True)
                              for i in range(rows) for j in range(cols)])

    def element_symbols(self) -> list[sympy.Symbol]:
        """Every input element symbol, in input order."""
        return [s for name in self.d.inputs for s in self.symbols[name]]

    def value_of(self, name: str) -> M:
        """The symbols of an input or node."""
        return self.node_symbols.get(name) or self.symbols[name]

    # --- graph form ----------------------------------------------------------------------

    def graph(self, expr: ast.Expr, params: dict[str, M] | None = None) -> M:
        """`expr` as a matrix: nodes as their element symbols, derivatives taken."""
        params = params or {}
        match expr:
            case ast.Number(value=v):
                return M([[sympy.Rational(v.numerator, v.denominator)]])
            case ast.Name(id=name):
                if name in params:
                    return params[name]
                if name in self.d.size_names:
                    return M([[sympy.Integer(self.sizes.get(name))]])
                if name in self.d.constants:
                    return M([[sympy.pi if name in ("pi", "π") else sympy.E]])
                return self.value_of(name)
            case ast.Neg(operand=o):
                return -self.graph(o, params)
            case ast.Transpose(operand=o):
                return self.graph(o, params).T
            case ast.BinOp(op=op, left=left, right=right) if is_identity(self.d, left):
                other = self.graph(right, params)
                eye = M.eye(identity_size(op, other.shape, True))
                return self._binary(op, eye, other, right)
            case ast.BinOp(op=op, left=left, right=right) if is_identity(self.d, right):
                other = self.graph(left, params)
                eye = M.eye(identity_size(op, other.shape, False))
                return self._binary(op, other, eye, right)
            case ast.BinOp(op=op, left=left, right=right):
                return self._binary(op, self.graph(left, params), self.graph(right, params),
                                    right)
            case ast.Call(func=func, args=args):
                return self._call(func, [self.graph(a, params) for a in args], params)
            case ast.Derivative(expr=inner, wrt=wrt):
                result = self.graph(inner, params)
                for name in reversed(wrt):
                    result = self.derivative(result, name)
                return result
        raise TypeError(f"cannot lower {type(expr).__name__}")

    def _binary(self, op: str, a: M, b: M, right: ast.Expr) -> M:
        if op == "^":
            if a.shape == SCALAR:
                return M([[a[0, 0] ** b[0, 0]]])
            if isinstance(right, ast.Neg) and isinstance(right.operand, ast.Number) and \
                    right.operand.value == 1:
                return M(a.inv())
            return _elementwise(a, lambda e: e ** b[0, 0])
        if op == "*" and SCALAR not in (a.shape, b.shape):
            return M(a * b)
        if op in ("*", "⊙"):
            a, b = _broadcast(a, b)
            return M(a.multiply_elementwise(b))
        a, b = _broadcast(a, b)
        if op == "+":
            return M(a + b)
        if op == "-":
            return M(a - b)
        if op == "/":
            return M(a.shape[0], a.shape[1], [x / y for x, y in zip(a, b, strict=True)])
        raise ValueError(op)

    def _call(self, func: str, args: list[M], params: dict[str, M]) -> M:
        if func in self.d.function_map:
            fn = self.d.function_map[func]
            return self.graph(fn.expr, {**params, **dict(zip(fn.params, args, strict=True))})
        if func in self.abstract:
            return M([[self.abstract[func](*[_scalar(a) for a in args])]])
        a = args[0]
        if func == "sum":
            return M([[sum(a, sympy.Integer(0))]])
        if func == "mean":
            return M([[sum(a, sympy.Integer(0)) / len(a)]])
        if func == "norm":
            return M([[sympy.sqrt(sum((e ** 2 for e in a), sympy.Integer(0)))]])
        if func == "tr":
            return M([[a.trace()]])
        if func == "det":
            return M([[a.det()]])
        if func == "inv":
            return M(a.inv())
        if func == "diag":
            if a.shape[1] == 1:
                return M(sympy.diag(*list(a)))
            return M(a.shape[0], 1, [a[i, i] for i in range(a.shape[0])])
        if func == "softmax":
            exps = [sympy.exp(e) for e in a]
            total = sum(exps, sympy.Integer(0))
            return M(a.shape[0], 1, [e / total for e in exps])
        if func == "outer":
            return M(a * args[1].T)
        if func in ("max", "min"):
            return M([[_SYMPY_FUNCTIONS[func](*[_scalar(x) for x in args])]])
        return _elementwise(a, _SYMPY_FUNCTIONS[func])

    def derivative(self, value: M, name: str) -> M:
        """dE/dV by the perturbation rule: a gradient, or a Jacobian for vector E and V."""
        follow = {s for n in self.d.downstream(name) for s in self.node_symbols.get(n, ())}
        value = value.applyfunc(lambda e: self._inline(e, follow))
        variable = self.value_of(name)
        if value.shape == SCALAR:
            e = value[0, 0]
            return M(variable.shape[0], variable.shape[1],
                     [sympy.diff(e, v) for v in variable])
        if variable.shape == SCALAR:
            v = variable[0, 0]
            return value.applyfunc(lambda e: sympy.diff(e, v))
        return M(value.jacobian(list(variable)))

    def _inline(self, expr: sympy.Expr, nodes: set[sympy.Symbol]) -> sympy.Expr:
        return inline(expr, nodes, self.definitions)

    def full(self, expr: ast.Expr) -> M:
        """`expr` with every node inlined and equality constraints applied."""
        every = set(self.definitions)
        value = self.graph(expr).applyfunc(lambda e: self._inline(e, every))
        return value.applyfunc(lambda e: e.xreplace(self.constraint_substitution()))

    def constraint_substitution(self) -> dict[sympy.Symbol, sympy.Expr]:
        """`assume: sum(y) = c` as y's last entry = c - the others."""
        out = {}
        for name, total in self.d.sum_constraints:
            entries = list(self.symbols[name])
            out[entries[-1]] = sympy.Rational(total.numerator, total.denominator) - sum(
                entries[:-1], sympy.Integer(0))
        return out
