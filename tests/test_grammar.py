"""The block language of spec sections 2-4: tokens, precedence, names, derivatives, errors.

Expressions are compared by their SymPy value (`SympyModel.full`): robust to how the tree is
built, and exact, so `-x^2` against `(-x)^2` or `2^3^2` against `(2^3)^2` cannot pass by luck.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy

from derive import ast
from derive.errors import BlockError
from derive.model import Derivation, resolve
from derive.parser import parse_block
from derive.symbolic import SympyModel


def S(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


x, y, s, a, b, w = (S(n) for n in ("x", "y", "s", "a", "b", "w"))


def derivation(text: str) -> Derivation:
    return resolve(parse_block(text), "test")


def value(expr: str, setup: str = "") -> sympy.Expr:
    """The value of `expr` (nodes inlined) in a block with the lines of `setup` before it."""
    d = derivation(f"{setup}\n{expr} = 0" if setup else f"{expr} = 0")
    return SympyModel(d).full(d.steps[-1].lhs)


def same(got: sympy.Expr, want: sympy.Expr) -> bool:
    return sympy.simplify(got - want) == 0


def error(text: str, **kwargs) -> BlockError:
    with pytest.raises(BlockError) as info:
        resolve(parse_block(text, **kwargs), "test")
    return info.value


# --- operators and precedence ------------------------------------------------------------------

@pytest.mark.parametrize(("text", "want"), [
    ("-x^2", -x**2),
    ("-x**2", -x**2),
    ("-2^2", sympy.Integer(-4)),
    ("(-2)^2", sympy.Integer(4)),
    ("(-x)^2", x**2),
    ("2^-1", sympy.Rational(1, 2)),
    ("-x²", -x**2),
    ("3 - -x", 3 + x),
])
def test_unary_minus_binds_looser_than_power(text, want) -> None:
    assert value(text) == want


@pytest.mark.parametrize(("text", "want"), [
    ("2^3^2", sympy.Integer(512)),
    ("2**3**2", sympy.Integer(512)),
    ("2^3**2", sympy.Integer(512)),
    ("(2^3)^2", sympy.Integer(64)),
    ("x^2^3", x**8),
])
def test_power_is_right_associative(text, want) -> None:
    assert value(text) == want


@pytest.mark.parametrize(("text", "want"), [
    ("x²", x**2),
    ("x³", x**3),
    ("(x + 1)²", (x + 1)**2),
    ("2x²", 2 * x**2),
    ("x²·y³", x**2 * y**3),
    ("sin(x)²", sympy.sin(x)**2),
])
def test_superscripts_square_and_cube(text, want) -> None:
    assert same(value(text), want)


@pytest.mark.parametrize(("text", "want"), [
    ("1 + 2·3", 7), ("1 + 2*3", 7), ("2⋅3 + 1", 7), ("2×3 + 1", 7), ("8/2/2", 2),
    ("8/2·2", 8), ("2 - 3 - 4", -5), ("2 + 3^2·2", 20), ("-2·3^2", -18), ("1/2x", None),
])
def test_products_and_sums_associate_to_the_left(text, want) -> None:
    got = value(text)
    if want is None:  # `/` and implicit multiplication share a level: (1/2)·x
        assert same(got, x / 2)
    else:
        assert got == want


# --- `.` as multiplication and as decimal point ------------------------------------------------

@pytest.mark.parametrize(("text", "want"), [
    ("2.s.1", 2 * s),
    ("2.5", sympy.Rational(5, 2)),
    ("-2.x", -2 * x),
    ("x.y", x * y),
    ("0.25", sympy.Rational(1, 4)),
    ("w.x - y", w * x - y),
    ("2.5.x", sympy.Rational(5, 2) * x),
    ("2.(x + 1)", 2 * x + 2),
])
def test_dot_multiplies_except_between_digits(text, want) -> None:
    assert same(value(text), want)


def test_decimals_are_exact_fractions() -> None:
    d = derivation("0.1 + 0.2 = 0.3")
    step = d.steps[0]
    assert step.rhs == ast.Number(Fraction(3, 10), "0.3")
    assert SympyModel(d).full(step.lhs) == sympy.Rational(3, 10)


# --- implicit multiplication and `name(` -------------------------------------------------------

@pytest.mark.parametrize(("text", "want"), [
    ("2x", 2 * x),
    ("2(x + 1)", 2 * x + 2),
    ("(a + b)(a - b)", a**2 - b**2),
    ("2 s", 2 * s),
    ("2x^2", 2 * x**2),
    ("3(x)(y)", 3 * x * y),
    ("(x + 1)2", 2 * x + 2),
    ("2 sin(x)", 2 * sympy.sin(x)),
])
def test_implicit_multiplication(text, want) -> None:
    assert same(value(text), want)


@pytest.mark.parametrize(("text", "setup", "want"), [
    ("x(y + 1)", "", x * (y + 1)),  # a one-letter name
    ("p1(1 - p1)", "", S("p1") * (1 - S("p1"))),  # a name that appears without `(`
    ("h(1 + x)", "h := w·x", w * x * (1 + x)),  # a node
    ("σ(z)", "", S("σ") * S("z")),  # a one-letter Greek name
    ("e(x + 1)", "", sympy.E * (x + 1)),  # the constant e
])
def test_a_name_before_parenthesis_multiplies(text, setup, want) -> None:
    assert same(value(text, setup), want)


@pytest.mark.parametrize(("text", "setup", "want"), [
    ("sigmoid(x)", "", 1 / (1 + sympy.exp(-x))),
    ("σ(x)", "σ(t) := 1/(1 + exp(-t))", 1 / (1 + sympy.exp(-x))),
    ("q(x, y)", "q(u, v) := u^2·v", x**2 * y),
    ("slope(x)", "slope(p) := p(1 - p)", x * (1 - x)),  # a parameter before `(` multiplies
    ("max(x, y, 0)", "", sympy.Max(x, y, 0)),
])
def test_functions_are_called(text, setup, want) -> None:
    assert same(value(text, setup), want)


def test_abstract_functions_are_called() -> None:
    got = value("f(x) + g(x, y)", "function: f, g")
    f, g = sympy.Function("f", real=True), sympy.Function("g", real=True)
    assert got == f(x) + g(x, y)


@pytest.mark.parametrize(("text", "hint"), [
    ("sigmoud(x) = 1", "did you mean `sigmoid`?"),
    ("tanhh(x) = 1", "did you mean `tanh`?"),
    ("sofplus(x) = 1", "did you mean `softplus`?"),
    ("sigma(x) = 1\nsigmoid(x) = 1", "did you mean `sigmoid`?"),
])
def test_unknown_function_suggests_a_name(text, hint) -> None:
    err = error(text)
    name = text.split("(")[0]
    assert err.message.startswith(f"unknown function `{name}` ({hint} ")
    assert "declare abstract functions with `function:`" in err.message
    assert (err.line, err.column) == (1, 1)


def test_unknown_function_without_a_close_name_has_no_hint() -> None:
    err = error("y = 2·foobar(y + 1)")
    assert err.message == ("unknown function `foobar` (declare abstract functions with "
                           "`function:`)")
    assert (err.line, err.column) == (1, 7)


def test_a_function_name_is_no_value() -> None:
    assert "`tanh` is a function" in error("1 - tanh²(x) = 0").message
    assert "`g` is a function" in error("function: g\ng + 1 = g(1)").message


def test_arity_is_checked() -> None:
    assert "`exp` takes one argument, not 2" in error("exp(x, y) = 1").message
    assert "`max` takes two or more arguments" in error("max(x) = 1").message
    assert "defined with 2 parameter(s)" in error("q(u, v) := u·v\nq(x) = 1").message


# --- names --------------------------------------------------------------------------------------

def test_multi_letter_names_are_one_symbol() -> None:
    d = derivation("xy = x·y")
    assert d.inputs == ("xy", "x", "y")
    assert value("xy") == S("xy")
    assert not same(value("xy"), x * y)


@pytest.mark.parametrize("name", ["ŷ", "σ", "θ", "y_hat", "w1", "_t", "loss2_b", "x̄", "θ̂"])
def test_unicode_letters_digits_and_underscore_make_names(name) -> None:
    d = derivation(f"{name} + 1 = 1 + {name}")
    assert d.inputs == (name,)


def test_text_is_nfc_normalised() -> None:
    decomposed = "y\u0302"  # y + combining circumflex
    d = derivation(f"{decomposed}·2 = 2ŷ")
    assert d.inputs == ("ŷ",)
    model = SympyModel(d)
    assert model.full(d.steps[0].lhs) == model.full(d.steps[0].rhs)


def test_node_names_with_combining_marks_differentiate() -> None:
    d = derivation("x̄ := x + 1\nf := x̄^2\ndf/dx̄ = d(f)/d(x̄)")
    model = SympyModel(d)
    assert same(model.full(d.steps[0].lhs), 2 * (x + 1))


@pytest.mark.parametrize(("text", "want"), [
    ("pi", sympy.pi), ("π", sympy.pi), ("e", sympy.E), ("e^x", sympy.exp(x)),
    ("2pi", 2 * sympy.pi),
])
def test_constants(text, want) -> None:
    assert same(value(text), want)


def test_a_block_may_define_e() -> None:
    assert same(value("e", "e := x + 1"), x + 1)


# --- derivatives --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "setup", "want"), [
    ("d(x^2)/dx", "", 2 * x),
    ("∂(x^2)/∂x", "", 2 * x),
    ("d(x^2)/d(x)", "", 2 * x),
    ("∂(x^2)/∂(x)", "", 2 * x),
    ("d(x^2)/d x", "", 2 * x),
    ("df/dx", "f := x^3", 3 * x**2),
    ("∂f/∂x", "f := x^3", 3 * x**2),
    ("d(f)/d(x)", "f := x^3", 3 * x**2),
])
def test_derivative_notations_and_d_equals_partial(text, setup, want) -> None:
    assert same(value(text, setup), want)


@pytest.mark.parametrize(("text", "setup", "want"), [
    ("lr·dloss/dw", "loss := w^2", 2 * S("lr") * w),  # lr·(dloss/dw), not (lr·dloss)/dw
    ("2·d(w·x)/dw", "", 2 * x),
    ("2d(w·x)/dw", "", 2 * x),
    ("dloss/dw·x", "loss := w^2", 2 * w * x),
    ("-dloss/dw", "loss := w^2", -2 * w),
    ("(dloss/dw)^2", "loss := w^2", 4 * w**2),
    ("1/dloss/dw", "loss := w^2", 1 / (2 * w)),
])
def test_a_derivative_is_one_atom(text, setup, want) -> None:
    assert same(value(text, setup), want)


def test_short_derivative_needs_names_of_the_block() -> None:
    # both names belong to the block: a derivative
    assert value("dA/dv", "A := v^2") == 2 * S("v")
    # neither does: the quotient of the inputs `dA` and `dv`
    d = derivation("dA/dv = 1")
    assert d.inputs == ("dA", "dv")
    assert SympyModel(d).full(d.steps[0].lhs) == S("dA") / S("dv")
    # `dx/dy` of two independent inputs of the block is 0
    assert value("dx/dy", "z := x + y") == 0
    assert value("dy/dy", "z := x + y") == 1


def test_partial_of_unknown_names_is_an_error_not_a_quotient() -> None:
    err = error("∂A/∂v = 1")
    assert "`∂A/∂v` is not a derivative of names of this block" in err.message


@pytest.mark.parametrize(("text", "want"), [
    ("d²f/dx²", 6 * x * y**2),
    ("d^2(f)/dx^2", 6 * x * y**2),
    ("d²(f)/dx²", 6 * x * y**2),
    ("d^2f/dx^2", 6 * x * y**2),
    ("∂²f/∂x²", 6 * x * y**2),
    ("d²f/dy²", 2 * x**3),
    ("d²f/dxdy", 6 * x**2 * y),
    ("d²f/dydx", 6 * x**2 * y),
    ("∂²f/∂x∂y", 6 * x**2 * y),
    ("d²(f)/dx dy", 6 * x**2 * y),
    ("d(df/dx)/dx", 6 * x * y**2),
])
def test_second_and_mixed_derivatives(text, want) -> None:
    assert same(value(text, "f := x^3·y^2"), want)


def test_mixed_derivative_splits_by_the_block_names() -> None:
    d = derivation("f := ad^2·x\nd²f/daddx = 2ad")  # `ad` is a name: the split is ad, x
    [step] = d.steps
    assert isinstance(step.lhs, ast.Derivative) and step.lhs.wrt == ("ad", "x")
    assert SympyModel(d).full(step.lhs) == 2 * S("ad")


@pytest.mark.parametrize(("text", "message"), [
    ("d(x^2)/d(2) = 0", "cannot differentiate by `2`"),
    ("d(x^2)/d(x + 1) = 0", "cannot differentiate by `x + 1`"),
    ("d(x)/dsin = 1", "cannot differentiate by the function `sin`"),
    ("d(x)/dpi = 0", "cannot differentiate by the constant `pi`"),
    ("d(x)/dx dy = 0", "a derivative of order 1 needs 1 variable(s)"),
    ("f := x^2\ndf/dx^2 = 0", "write `d²f/dx²` or `d²f/dxdy`"),
    ("g(t) := d(t^2)/dt\ng(x) = 1", "cannot differentiate by the parameter `t`"),
])
def test_derivatives_by_anything_else_are_errors(text, message) -> None:
    assert message in error(text).message


# --- lines: chains, comments, headers ------------------------------------------------------------

def test_chains_and_continuations_make_steps() -> None:
    block = parse_block("f := x^2\ndf/dx = 2x = 2·x\n   = x + x\n\n# note\n= 2x", first_line=7)
    assert [(s.index, s.line, s.lhs_text, s.rhs_text) for s in block.steps] == [
        (1, 8, "df/dx", "2x"), (2, 8, "2x", "2·x"), (3, 9, "2·x", "x + x"), (4, 12, "x + x", "2x")]
    assert [d.line for d in block.definitions] == [7]


def test_approximate_relations() -> None:
    block = parse_block("at: x = 1\nx ≈ 1.0 ~= 1 = 1")
    assert [s.approximate for s in block.steps] == [True, True, False]
    assert [s.rhs_text for s in block.steps] == ["1.0", "1", "1"]


def test_comments_run_to_the_end_of_the_line() -> None:
    block = parse_block("# a comment line\nx = x  # = y, not a step\n  # indented comment")
    assert [(s.lhs_text, s.rhs_text) for s in block.steps] == [("x", "x")]


def test_header_lines() -> None:
    block = parse_block(
        "title: Linear regression, d(loss)/dw\n"
        "f := x·w\n"
        "at: x = 1, y = -1/2, w = 0.25, t = pi, u = e\n"
        "assume: x > 0, 0 < p < 1, y != 0\n"
        "function: g, h\n"
        "expect: wrong\n"
        "f = g(x) + h(p) + y + t + u\n")
    assert block.title == "Linear regression, d(loss)/dw"
    assert block.expect == "wrong"
    assert [b.name for b in block.at] == ["x", "y", "w", "t", "u"]
    assert [c.text for c in block.assume] == ["x > 0", "0 < p < 1", "y != 0"]
    assert [c.ops for c in block.assume] == [(">",), ("<", "<"), ("!=",)]
    assert block.functions == (("g", 5), ("h", 5))
    d = resolve(block, "t")
    model = SympyModel(d)
    point = {k.name: v for k, v in model.point().items()}
    assert point == {"x": 1, "y": sympy.Rational(-1, 2), "w": sympy.Rational(1, 4),
                     "t": sympy.pi, "u": sympy.E}


def test_title_keeps_its_hash_and_a_node_may_be_called_at() -> None:
    block = parse_block("title: Equation #2\nat := x + 1\nat = x + 1")
    assert block.title == "Equation #2"
    assert [d.name for d in block.definitions] == ["at"]


def test_crlf_line_ends() -> None:
    block = parse_block("f := x^2\r\ndf/dx = 2x\r\n= 2·x\r\n")
    assert [(s.line, s.rhs_text) for s in block.steps] == [(2, "2x"), (3, "2·x")]


# --- errors: where and what was expected ---------------------------------------------------------

@pytest.mark.parametrize(("text", "line", "column", "message"), [
    ("f := x +", 1, 8, "the line ends too early after `+`: expected an expression"),
    ("x = )", 1, 5, "unexpected `)`; expected an expression (a number, a name or `(`)"),
    ("f := (x + 1", 1, 11, "the line ends too early after `1`: expected `)`"),
    ("x = 2 +* 3", 1, 8, "unexpected `*`; expected an expression"),
    ("y := 2 $ x", 1, 8, "unexpected character `$`"),
    ("   f := x +", 1, 11, "the line ends too early after `+`"),
    ("x = 1\n\nf := x ^", 3, 8, "the line ends too early after `^`"),
    ("at: x = ", 1, 7, "the line ends too early after `=`: expected an expression"),
    ("at: 1 = x", 1, 5, "unexpected `1`; expected a name"),
    ("function: 1", 1, 11, "unexpected `1`; expected a name"),
    ("assume: x >", 1, 11, "the line ends too early after `>`"),
    ("expect: right", 1, 9, "`expect:` takes only `wrong`, not `right`"),
    ("= 2x", 1, 1, "a line starting with `=` continues a chain, but no chain comes before it"),
    ("f := x\n  ≈ 2", 2, 3, "no chain comes before it"),
    ("f := x\ndf/dx\n= 1", 2, 1, "the line ends too early after `df/dx`: expected `=`, `≈`"),
    ("d(f)/d = 0", 1, 6, "expected the variable after `/`, as in `/dx`"),
    ("x = 1 # fine\ny := (((x)) + 1\ny = 1", 2, 15, "expected `)`"),
])
def test_syntax_errors_say_where_and_what_was_expected(text, line, column, message) -> None:
    err = error(text)
    assert (err.line, err.column) == (line, column)
    assert message in err.message


def test_error_lines_count_from_the_first_line_of_the_block() -> None:
    err = error("x = 1\nf := x +", first_line=41)
    assert (err.line, err.column) == (42, 8)
    assert err.located("notes.md") == f"notes.md:42:8: {err.message}"
    assert err.located("nb.ipynb", cell=3) == f"nb.ipynb:cell 3:42:8: {err.message}"


@pytest.mark.parametrize(("text", "line", "message"), [
    ("f := x\nf := y\nf = 1", 2, "`f` is already defined on line 1"),
    ("g := f\nf := x\ng = 1", 1, "`f` is used before its definition on line 2"),
    ("f + 1 = 2\nf := x", 1, "`f` is used before its definition on line 2"),
    ("f := f + 1\nf = 1", 1, "`f` is used in its own definition"),
    ("exp := x\nexp = x", 1, "`exp` is a built-in function and cannot be redefined"),
    ("function: g\ng := x\ng = x", 2, "declared abstract"),
    ("at: x = 1\nf := x\nf ≈ 1\nx ≈ 1.0", 3, None),
    ("f := x^2\ndf/dx ≈ 2.0", 2, "needs a worked point"),
    ("f := x^2", 1, "no step to check"),
    ("at: x = y\nx = 1", 1, "must be a number"),
    ("at: x = 1, x = 2\nx = 1", 1, "`x` has two values in `at:`"),
    ("assume: x > y\nx = y", 1, "compare an input with a number"),
    ("assume: x > 1, x < 0\nx = x", 1, "contradict each other"),
])
def test_resolution_errors(text, line, message) -> None:
    if message is None:  # a valid block, for contrast
        derivation(text)
        return
    err = error(text)
    assert err.line == line
    assert message in err.message


def test_names_of_matrix_functions_stay_usable_as_scalar_inputs() -> None:
    d = derivation("z := (x - mean)/std\ndz/dmean = -1/std\nd(z)/d(mean) = d(z)/dmean")
    assert set(d.inputs) == {"x", "mean", "std"}
    model = SympyModel(d)
    assert [same(model.full(s.lhs), model.full(s.rhs)) for s in d.steps] == [True, True]


@pytest.mark.parametrize(("text", "column", "plain"), [
    ("at: lr = 1e-3\nlr = lr", 10, "0.001"),
    ("x = 2.5E3", 5, "2500"),
    ("x ≈ 1e-7", 5, "0.0000001"),
    ("f := 2e3·x", 6, "2000"),
])
def test_scientific_notation_is_refused_not_misread(text, column, plain) -> None:
    err = error(text)
    assert err.column == column
    assert "looks like scientific notation" in err.message
    assert f"as in `{plain}`" in err.message


def test_e_next_to_numbers_is_still_the_constant() -> None:
    assert same(value("2e + 1"), 2 * sympy.E + 1)
    assert same(value("2e^x"), 2 * sympy.exp(x))
    assert same(value("x1e3"), S("x1e3"))
