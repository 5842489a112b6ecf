"""Lower a Derivation to SymPy, with derivatives taken by the perturbation rule of the spec."""

from __future__ import annotations

from functools import cached_property

import sympy

from derive import ast
from derive.model import Derivation

_SYMPY_FUNCTIONS = {
    "exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt,
    "abs": sympy.Abs, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "tanh": sympy.tanh, "sinh": sympy.sinh, "cosh": sympy.cosh,
    "sigmoid": lambda t: 1 / (1 + sympy.exp(-t)),
    "relu": lambda t: sympy.Max(0, t),
    "softplus": lambda t: sympy.log(1 + sympy.exp(t)),
    "max": sympy.Max, "min": sympy.Min,
}


class SympyModel:
    """A Derivation in SymPy: inputs are real symbols, nodes are symbols with definitions.

    Expressions are first built in *graph form*, where a node stands as its own symbol;
    `full` inlines every node so that only inputs remain.
    """

    def __init__(self, derivation: Derivation, abstract: dict[str, object] | None = None):
        self.d = derivation
        self.symbols = {name: self._input_symbol(name) for name in derivation.inputs}
        self.node_symbols = {n.name: sympy.Symbol(n.name, real=True) for n in derivation.nodes}
        self.abstract = abstract if abstract is not None else {
            name: sympy.Function(name, real=True) for name, _arity in derivation.abstract}
        self.definitions: dict[sympy.Symbol, sympy.Expr] = {}
        for node in derivation.nodes:
            self.definitions[self.node_symbols[node.name]] = self.graph(node.expr)

    def _input_symbol(self, name: str) -> sympy.Symbol:
        domain = self.d.domain(name)
        kwargs: dict[str, bool] = {"real": True}
        if domain.lower is not None and (domain.lower > 0 or
                                         (domain.lower == 0 and domain.lower_strict)):
            kwargs["positive"] = True
        elif domain.lower is not None and domain.lower >= 0:
            kwargs["nonnegative"] = True
        elif domain.upper is not None and (domain.upper < 0 or
                                           (domain.upper == 0 and domain.upper_strict)):
            kwargs["negative"] = True
        elif domain.upper is not None and domain.upper <= 0:
            kwargs["nonpositive"] = True
        if 0 in domain.excluded:
            kwargs["nonzero"] = True
        return sympy.Symbol(name, **kwargs)

    def symbol(self, name: str) -> sympy.Symbol:
        """The symbol of an input or a node."""
        return self.node_symbols.get(name) or self.symbols[name]

    # --- graph form ----------------------------------------------------------------------------

    def graph(self, expr: ast.Expr, params: dict[str, sympy.Expr] | None = None) -> sympy.Expr:
        """`expr` in graph form: nodes as symbols, derivatives taken."""
        params = params or {}
        match expr:
            case ast.Number(value=v):
                return sympy.Rational(v.numerator, v.denominator)
            case ast.Name(id=name):
                if name in params:
                    return params[name]
                if name in self.d.constants:
                    return sympy.pi if name in ("pi", "π") else sympy.E
                return self.symbol(name)
            case ast.Neg(operand=o):
                return -self.graph(o, params)
            case ast.BinOp(op=op, left=left, right=right):
                return ast.OPERATORS[op](self.graph(left, params), self.graph(right, params))
            case ast.Call(func=func, args=args):
                values = [self.graph(a, params) for a in args]
                if func in self.d.function_map:
                    fn = self.d.function_map[func]
                    return self.graph(fn.expr, {**params, **dict(zip(fn.params, values,
                                                                     strict=True))})
                if func in self.abstract:
                    return self.abstract[func](*values)
                return _SYMPY_FUNCTIONS[func](*values)
            case ast.Derivative(expr=inner, wrt=wrt):
                result = self.graph(inner, params)
                for name in reversed(wrt):
                    result = self.derivative(result, name)
                return result
        raise TypeError(f"cannot lower {type(expr).__name__} to SymPy")

    def derivative(self, graph_expr: sympy.Expr, name: str) -> sympy.Expr:
        """d(graph_expr)/d(name): `name` is nudged and the nodes computed from it follow."""
        follow = {self.node_symbols[n] for n in self.d.downstream(name)}
        expr = self.inline(graph_expr, follow)
        return sympy.diff(expr, self.symbol(name))

    def inline(self, expr: sympy.Expr, nodes: set[sympy.Symbol]) -> sympy.Expr:
        """Replace the given node symbols by their definitions until none is left."""
        return inline(expr, nodes, self.definitions)

    @cached_property
    def _all_nodes(self) -> set[sympy.Symbol]:
        return set(self.definitions)

    def full(self, expr: ast.Expr) -> sympy.Expr:
        """`expr` with every node inlined: a function of the inputs only."""
        return self.inline(self.graph(expr), self._all_nodes)

    def local_gradient(self, target: str, source: str) -> sympy.Expr:
        """∂target/∂source for an edge of the graph, in graph form (the notes' local gradient)."""
        definition = self.definitions[self.node_symbols[target]]
        return sympy.diff(definition, self.symbol(source))

    def point(self) -> dict[sympy.Symbol, sympy.Expr]:
        """The worked point as a substitution of exact values."""
        return {self.symbols[name]: self.graph(value) for name, value in self.d.at}


def inline(expr: sympy.Expr, nodes: set[sympy.Symbol],
           definitions: dict[sympy.Symbol, sympy.Expr]) -> sympy.Expr:
    """Replace the node symbols `nodes` in `expr` by their definitions until none is left."""
    for _ in range(len(definitions) + 1):
        present = expr.free_symbols & nodes
        if not present:
            return expr
        mapping = {s: definitions[s] for s in present}
        # `subs` turns Derivative(L(z), z) into a Subs when z is replaced; xreplace is
        # faster but would produce a derivative by an expression.
        expr = (expr.subs(mapping, simultaneous=True) if expr.has(sympy.Derivative)
                else expr.xreplace(mapping))
    return expr
