"""Tests of the SymPy builder: its printer speaks the block language, its checks are check's."""

from __future__ import annotations

import random

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sympy.core.function import AppliedUndef

import derive
from derive.builder import BlockPrinter, Derivation, sigmoid
from derive.model import resolve
from derive.parser import parse_block
from derive.symbolic import SympyModel

x, y, w, z = sympy.symbols("x y w z")
dx, dy, d_ = sympy.symbols("dx dy d")  # names a careless printer would turn into derivatives
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
        undefined = [v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) for v in (va, vb)]
        if any(undefined):  # a pole: both sides must have it
            if all(undefined):
                continue
            return False
        if not abs(va - vb) <= sympy.Float("1e-12") * max(1, abs(va), abs(vb)):
            return False
    return True


def round_trip(expr: sympy.Expr) -> str:
    """Print `expr`, parse it back and compare; a float stands for the decimal it prints as."""
    text = BlockPrinter().doprint(expr)
    decimals = {f: sympy.Rational(BlockPrinter().doprint(f)) for f in expr.atoms(sympy.Float)}
    assert same_value(lowered(text), expr.xreplace(decimals).doit()), text
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
    (sympy.Float("1e400") * x, "1" + "0" * 400 + ".0·x"),
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
    (dx/dy + x*y, "dx/(dy) + x·y"),  # `dx/dy` would be a derivative: x and y are names here
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


# real symbols, or SymPy rewrites abs(exp(x)) as exp(re(x)), which no block can say
X, Y, DX, DY, D = sympy.symbols("x y dx dy d", real=True)
LEAVES = st.sampled_from([X, Y, DX, DY, D, sympy.Integer(2), sympy.Integer(-3),
                          sympy.Rational(1, 3), sympy.Rational(-5, 2), sympy.Float(0.25),
                          sympy.Float(-1.5e-7), sympy.pi, sympy.E])


def _derivative(e: sympy.Expr, v: sympy.Symbol = X) -> sympy.Derivative:
    return sympy.Derivative(e * v, v, evaluate=False)


UNARY = [sympy.exp, sympy.sin, sympy.cos, sympy.tanh, sympy.Abs, sympy.sqrt,
         lambda e: -e, lambda e: 1/e, _derivative, lambda e: _derivative(e, DX),
         lambda e: _derivative(e)**2, lambda e: 2**_derivative(e),
         lambda e: sympy.Derivative(e * X * Y, X, Y)]


def _max(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    try:
        return sympy.Max(a, b)
    except ValueError:  # SymPy refuses to compare complex constants
        return a + b


BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
          lambda a, b: a ** 2 + b, _max, lambda a, b: sympy.Pow(a, sympy.Integer(-2)) * b,
          lambda a, b: a / _derivative(b), lambda a, b: a ** b]


def defined(expr: sympy.Expr) -> bool:
    """Whether `expr` has no pole everywhere (`1/d(1)/dx`), which no comparison can test,
    and no float beyond a double's range (the printer refuses those, tested apart)."""
    if any(f != 0 and not 1e-300 < abs(f) < 1e300 for f in expr.atoms(sympy.Float)):
        return False
    try:
        return not expr.doit().has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
    except ValueError:  # Max of an infinity
        return False


# what the expressions above may become and a block can say
SAYABLE = (sympy.Add, sympy.Mul, sympy.Pow, sympy.Rational, sympy.Float, sympy.Symbol,
           sympy.Tuple, sympy.Derivative, sympy.exp, sympy.log, sympy.sin, sympy.cos,
           sympy.tan, sympy.tanh, sympy.sinh, sympy.cosh, sympy.Abs, sympy.Max, sympy.Min,
           type(sympy.pi), type(sympy.E))


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
    assume(defined(expr))
    if all(isinstance(e, SAYABLE) for e in sympy.preorder_traversal(expr)):
        round_trip(expr)
    else:  # SymPy rewrote it with `re`, `sign`, …: refused, never printed as something else
        with pytest.raises(derive.UsageError, match="cannot be written in a derive block"):
            BlockPrinter().doprint(expr)


def linear_model(at_x: int = 1) -> tuple[Derivation, sympy.Symbol, sympy.Symbol]:
    d = Derivation("linear model", at={x: at_x, y: 2, w: 1})
    yhat = d.node("ŷ", w*x)
    loss = d.node("loss", (yhat - y)**2)
    return d, yhat, loss


def test_a_right_derivation_holds_and_holds_at_the_point() -> None:
    d, yhat, loss = linear_model()
    d.chain(d.diff(loss, w), 2*(yhat - y)*x, -2)
    assert d.text() == ("title: linear model\n"
                        "at: x = 1, y = 2, w = 1\n"
                        "ŷ := w·x\n"
                        "loss := (-y + ŷ)^2\n"
                        "d(loss)/dw = x·(-2·y + 2·ŷ) = -2\n")
    result = d.check()
    assert result.verdicts == ["holds", "holds-at-point"]
    result.assert_ok()


def test_a_step_wrong_at_the_worked_point_reports_like_check() -> None:
    d, yhat, loss = linear_model(at_x=3)
    d.chain(d.diff(loss, w), 2*(yhat - y)*x, 2)
    result = d.check()
    assert result.verdicts == ["holds", "wrong"]
    assert result.derivation == derive.check(d.text(), source="<Derivation>").derivation
    with pytest.raises(AssertionError) as caught:
        result.assert_ok()
    assert str(caught.value).startswith(
        "<Derivation>:5: wrong: linear model, step 2: x·(-2·y + 2·ŷ) = 2 — at the worked point "
        "(x = 3, y = 2, w = 1) x·(-2·y + 2·ŷ) = 6, not 2")


def test_abstract_functions_and_the_chain_rule() -> None:
    d = Derivation("chain rule")
    f, g = d.function("f"), d.function("g")
    u = d.node("u", g(x))
    d.chain(d.diff(f(g(x)), x), d.diff(f(u), u) * d.diff(u, x))
    d.chain(d.diff(f(u), x), d.diff(f(u), u) * g(x))  # the inner derivative forgotten
    assert d.text().splitlines()[:3] == ["title: chain rule", "function: f, g", "u := g(x)"]
    assert d.check().verdicts == ["holds", "wrong"]


def test_defined_functions_assumptions_and_approximate_steps() -> None:
    t = sympy.Symbol("t")
    q = sympy.Symbol("q", positive=True)
    d = Derivation("sigmoid", at={z: 1, q: sympy.Rational(1, 2)})
    σ = d.define("σ", [t], 1/(1 + sympy.exp(-t)))
    d.assume(sympy.And(z > -10, z < 10))
    d.chain(d.diff(σ(z), z), σ(z)*(1 - σ(z)))
    d.chain(d.diff(sigmoid(z), z), sympy.Float(0.1966), approximate=True)
    d.chain(d.diff(sympy.log(q), q), 1/q, 2)
    text = d.text()
    assert "assume: z > -10, z < 10, q > 0\n" in text
    assert "σ(t) := 1/(1 + exp(-t))\n" in text
    assert "d(sigmoid(z))/dz ≈ 0.1966\n" in text
    assert d.check().verdicts == ["holds", "holds-at-point", "holds", "holds-at-point"]


def test_expect_wrong() -> None:
    d = Derivation("forgot the power rule", expect="wrong")
    d.chain(d.diff(x**2, x), x)
    assert "expect: wrong" in d.text()
    assert d.check().ok


@pytest.mark.parametrize("build", [
    lambda d: d.node("x'", x),
    lambda d: d.node("exp", x),
    lambda d: (d.node("a", x), d.node("a", y)),
    lambda d: d.function("d"),
    lambda d: d.function("sigmoid"),
    lambda d: d.chain(x),
    lambda d: d.chain("x", x),
    lambda d: d.assume(x + 1),
    lambda d: Derivation("t", at={x: y}),
    lambda d: Derivation("two\nlines"),
    lambda d: d.diff(x),
])
def test_mistakes_in_building_are_usage_errors(build) -> None:
    with pytest.raises(derive.UsageError):
        build(Derivation("t"))


def test_a_float_too_long_to_write_out_is_refused() -> None:
    with pytest.raises(derive.UsageError, match="more than 4000 digits"):
        BlockPrinter().doprint(sympy.Float(2) ** (10**8) * x)
