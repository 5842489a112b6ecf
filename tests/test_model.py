"""The resolved model of a block: inputs, nodes, functions, graph edges, worked point."""

from __future__ import annotations

from fractions import Fraction

import pytest

from derive import ast
from derive.errors import BlockError
from derive.model import Derivation, Domain, constant_value, resolve
from derive.parser import parse_block

REGRESSION = """\
title: ignored, resolve takes the title it is given
at: x = 1, y = 2, w = 1/2, lr = 0.1
assume: lr > 0
ŷ := w·x
s := ŷ - y
loss := s^2
w_next := w - lr·dloss/dw
d(loss)/dŷ = d(loss)/ds · ds/dŷ = 2s
w_next ≈ 0.8
"""


def derivation(text: str, title: str = "model") -> Derivation:
    return resolve(parse_block(text), title)


def test_inputs_nodes_and_steps() -> None:
    d = derivation(REGRESSION, "linear regression")
    assert d.title == "linear regression"
    assert d.inputs == ("w", "x", "y", "lr")
    assert [n.name for n in d.nodes] == ["ŷ", "s", "loss", "w_next"]
    assert [n.line for n in d.nodes] == [4, 5, 6, 7]
    assert [(s.index, s.line, s.lhs_text, s.rhs_text, s.approximate) for s in d.steps] == [
        (1, 8, "d(loss)/dŷ", "d(loss)/ds · ds/dŷ", False),
        (2, 8, "d(loss)/ds · ds/dŷ", "2s", False),
        (3, 9, "w_next", "0.8", True)]
    assert d.expect is None
    assert d.node_map["s"].expr == ast.BinOp("-", ast.Name("ŷ"), ast.Name("y"))


def test_graph_edges_downstream_and_needed_nodes() -> None:
    d = derivation(REGRESSION)
    assert d.direct_dependencies == {
        "ŷ": {"w", "x"}, "s": {"ŷ", "y"}, "loss": {"s"}, "w_next": {"w", "lr", "loss"}}
    assert d.downstream("w") == ("ŷ", "s", "loss", "w_next")
    assert d.downstream("s") == ("loss", "w_next")
    assert d.downstream("lr") == ("w_next",)
    assert d.downstream("w_next") == ()
    assert d.needed_nodes(ast.Name("loss")) == {"loss", "s", "ŷ"}
    assert d.needed_nodes(ast.Name("x")) == set()


def test_derivatives_resolve_to_their_variables() -> None:
    d = derivation(REGRESSION)
    lhs = d.steps[0].lhs
    assert lhs == ast.Derivative(ast.Name("loss"), ("ŷ",))
    rhs = d.steps[0].rhs
    assert rhs == ast.BinOp("*", ast.Derivative(ast.Name("loss"), ("s",)),
                            ast.Derivative(ast.Name("s"), ("ŷ",)))
    assert d.node_map["w_next"].expr == ast.BinOp(
        "-", ast.Name("w"),
        ast.BinOp("*", ast.Name("lr"), ast.Derivative(ast.Name("loss"), ("w",))))


def test_concrete_functions_carry_their_free_names_into_the_graph() -> None:
    d = derivation("g(t) := t·w + c\nh := g(x)\nk := h + g(1)\nk = h + g(1)")
    assert [(f.name, f.params) for f in d.functions] == [("g", ("t",))]
    assert d.direct_dependencies["h"] == {"x", "w", "c"}
    assert d.direct_dependencies["k"] == {"h", "w", "c"}
    assert d.downstream("w") == ("h", "k")
    assert set(d.inputs) == {"w", "c", "x"}


def test_abstract_functions_and_their_arity() -> None:
    d = derivation("function: L, g, unused\nloss := L(p, y) + g(p)\nloss = loss")
    assert d.abstract_map == {"L": 2, "g": 1, "unused": 1}
    assert d.inputs == ("p", "y")


def test_constants_unless_the_block_defines_them() -> None:
    assert derivation("e^x + pi + π = 0").constants == frozenset({"e", "pi", "π"})
    d = derivation("e := x + 1\ne·pi = 0")
    assert d.constants == frozenset({"pi", "π"})
    assert d.inputs == ("x",)


def test_worked_point_and_at_only_inputs() -> None:
    d = derivation("at: a = -1/2, b = 0.25, c = 3\nf := a + b\nf = -1/4")
    point = d.worked_point()
    assert list(point) == ["a", "b", "c"]
    assert [constant_value(v) for v in point.values()] == [Fraction(-1, 2), Fraction(1, 4), 3]
    assert d.inputs == ("a", "b", "c")  # `c` is given a value, so it is an input too


def test_domains_from_assume() -> None:
    d = derivation("assume: x > 0, 0 < p <= 1, y != 0, y != 1, -1 <= z\nf := x+p+y+z\nf = f")
    assert d.domain("x") == Domain(Fraction(0), True)
    assert d.domain("p") == Domain(Fraction(0), True, Fraction(1), False)
    assert d.domain("y") == Domain(excluded=(Fraction(0), Fraction(1)))
    assert d.domain("z") == Domain(Fraction(-1), False)
    assert d.domain("nothing") == Domain()
    tighter = derivation("assume: x > 0, x >= 1, x < 5, x <= 3\nx = x")
    assert tighter.domain("x") == Domain(Fraction(1), False, Fraction(3), False)


def test_expect_wrong_is_kept() -> None:
    assert derivation("expect: wrong\nd(x^2)/dx = x").expect == "wrong"


@pytest.mark.parametrize(("expr", "value"), [
    ("3", Fraction(3)), ("-1/2", Fraction(-1, 2)), ("0.25 + 1", Fraction(5, 4)),
    ("2·(3 - 1)", Fraction(4)), ("1/0", None), ("x", None), ("2^3", None),
])
def test_constant_value(expr, value) -> None:
    d = derivation(f"{expr} = 0")
    assert constant_value(d.steps[0].lhs) == value


def test_assumption_on_a_node_is_refused() -> None:
    with pytest.raises(BlockError, match="assumptions are about inputs"):
        derivation("assume: h > 0\nh := x^2\nh = h")


def test_a_function_name_cannot_be_a_derivative_variable_or_a_node() -> None:
    with pytest.raises(BlockError, match="cannot differentiate by the function `g`"):
        derivation("function: g\nd(g(x))/dg = 1")
    with pytest.raises(BlockError, match="built-in function and cannot be redefined"):
        derivation("sigmoid(t) := t\nsigmoid(x) = x")
