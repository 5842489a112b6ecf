"""Tests of the SymPy builder: its printer speaks the block language, its checks are check's."""

from __future__ import annotations

import random

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy.core.function import AppliedUndef

import derive
from derive.builder import BlockPrinter, Derivation, sigmoid
from derive.model import resolve
from derive.parser import parse_block
from derive.symbolic import SympyModel

x, y, w, z = sympy.symbols("x y w z")
dx, d_ = sympy.symbols("dx d")  # names a careless printer would turn into derivatives
f = sympy.Function("f")


def lowered(text: str) -> sympy.Expr:
    """Parse `text` as the left side of a step and lower it to SymPy, as the checker does."""
    derivation = resolve(parse_block(f"{text} = 0\n"), "round trip")
    return SympyModel(derivation).graph(derivation.steps[0].lhs)


def same_value(a: sympy.Expr, b: sympy.Expr) -> bool:
    """Whether `a` and `b` are the same expression, or agree at random points (by name)."""
    plain = {s: sympy.Symbol(s.name) for s in a.free_symbols | b.free_symbols}
    a, b = a.xreplace(plain), b.xreplace(plain)
    if a == b:
        return True
    names = sorted({s.name for s in a.free_symbols | b.free_symbols})
    rng = random.Random(len(names))
    for _ in range(3):
        point = {sympy.Symbol(n): sympy.Rational(rng.randint(11, 29), 10) for n in names}
        va, vb = (sympy.N(e.xreplace(point), 30) for e in (a, b))
        if va.has(sympy.nan, sympy.zoo) or vb.has(sympy.nan, sympy.zoo):
            return False
        if not abs(va - vb) <= sympy.Float("1e-12") * max(1, abs(va), abs(vb)):
            return False
    return True


def round_trip(expr: sympy.Expr) -> str:
    text = BlockPrinter().doprint(expr)
    assert same_value(lowered(text), expr.doit()), text
    return text


@pytest.mark.parametrize(("expr", "text"), [
    (2*sympy.exp(-x)/(1 + x)**2, "2·exp(-x)/(x + 1)^2"),
    (-x/2, "-x/2"),
    (x**-2, "x^(-2)"),
    (sympy.sqrt(x) + 1/sympy.sqrt(y), "sqrt(x) + 1/sqrt(y)"),
    (x**sympy.Rational(1, 3), "x^(1/3)"),
    (sympy.E*x + sympy.pi, "e·x + pi"),
    (sympy.exp(1)**x, "exp(x)"),
    (sympy.Float(0.1967)*x, "0.1967·x"),
    (sympy.Float(1e-20) + x, "x + 0.00000000000000000001"),
    (sympy.Abs(x) + sympy.Max(x, y, 0) + sympy.Min(x, y), "abs(x) + max(0, x, y) + min(x, y)"),
    ((-2)**x, "(-2)^x"),
    (x**(y**z), "x^(y^z)"),
    (3*sympy.Derivative(x**2, x), "3·d(x^2)/dx"),
    (sympy.Derivative(x**2, x)**2, "(d(x^2)/dx)^2"),
    (x/sympy.Derivative(x**2, x), "x/(d(x^2)/dx)"),
    (sympy.Derivative(x**3, (x, 2)), "d^2(x^3)/dx^2"),
    (sympy.Derivative(x**2*y, x, y), "d^2(x^2·y)/d(x)d(y)"),
    (sympy.Derivative(dx**2, dx), "d(dx^2)/d(dx)"),
    (dx/d_ + d_/dx, "d/(dx) + dx/(d)"),
    (sympy.Derivative(f(x**2), x), "d(f(x^2))/dx"),
    (sigmoid(x)*(1 - sigmoid(x)), "(1 - sigmoid(x))·sigmoid(x)"),
])
def test_printer_writes_the_block_language(expr: sympy.Expr, text: str) -> None:
    printed = BlockPrinter().doprint(expr)
    assert printed == text
    if not expr.atoms(AppliedUndef):  # abstract and named functions mean nothing to SymPy
        round_trip(expr)


@pytest.mark.parametrize("expr", [
    sympy.Integral(x, x), sympy.I*x, sympy.oo, sympy.atan(x), x > 1,
    sympy.Piecewise((x, x > 0), (0, True)), sympy.Symbol("x'"), sympy.Symbol("exp"),
    sympy.Symbol("e"), sympy.Dummy("t"), sympy.Derivative(x**4, (x, 3)),
    sympy.Function("d")(x), sympy.Subs(sympy.Derivative(f(z), z), z, x**2),
])
def test_printer_refuses_what_a_block_cannot_say(expr: sympy.Basic) -> None:
    with pytest.raises(derive.UsageError):
        BlockPrinter().doprint(expr)


LEAVES = st.sampled_from([x, y, dx, d_, sympy.Integer(2), sympy.Integer(-3),
                          sympy.Rational(1, 3), sympy.Rational(-5, 2), sympy.Float(0.25),
                          sympy.Float(-1.5e-7), sympy.pi, sympy.E])


def _derivative(e: sympy.Expr, v: sympy.Symbol = x) -> sympy.Derivative:
    return sympy.Derivative(e * v, v, evaluate=False)


UNARY = [sympy.exp, sympy.sin, sympy.cos, sympy.tanh, sympy.Abs, sympy.sqrt,
         lambda e: -e, lambda e: 1/e, _derivative, lambda e: _derivative(e, dx),
         lambda e: _derivative(e)**2, lambda e: 2**_derivative(e),
         lambda e: sympy.Derivative(e * x * y, x, y)]


def _max(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    try:
        return sympy.Max(a, b)
    except ValueError:  # SymPy refuses to compare complex constants
        return a + b


BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
          lambda a, b: a ** 2 + b, _max, lambda a, b: sympy.Pow(a, sympy.Integer(-2)) * b,
          lambda a, b: a / _derivative(b), lambda a, b: a ** b]


def _grow(children: st.SearchStrategy) -> st.SearchStrategy:
    unary = st.tuples(st.sampled_from(UNARY), children).map(lambda t: t[0](t[1]))
    binary = st.tuples(st.sampled_from(BINARY), children, children).map(
        lambda t: t[0](t[1], t[2]))
    return unary | binary


EXPRESSIONS = st.recursive(LEAVES, _grow, max_leaves=8).filter(
    lambda e: not e.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.filter_too_much])
@given(EXPRESSIONS)
def test_printed_text_parses_back_to_the_same_expression(expr: sympy.Expr) -> None:
    round_trip(expr)
