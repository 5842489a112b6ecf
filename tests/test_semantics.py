"""What a derivative means (spec section 4), against values computed by hand.

Every case is evaluated three ways: SymPy (`SympyModel`), and the PyTorch and JAX evaluators
(`derive.numeric.Evaluator`), whose derivatives come from each library's own autodiff. All three
must equal the hand-computed value at a few exact points. The micrograd-style twins then build
the same graph directly in float64 PyTorch and compare values and `.grad`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import pytest
import sympy
import torch
from twins import sympy_values

from derive.instances import instantiate
from derive.model import Derivation, resolve
from derive.numeric import Evaluator
from derive.parser import parse_block
from derive.runner import Options, check_text
from derive.symbolic import SympyModel

F = Fraction
POINTS = [  # dyadic values: exact in float64, so every engine sees the very same point
    {"x": F(3, 4), "y": F(-5, 4), "w": F(3, 2), "b": F(1, 2), "lr": F(1, 8), "t": F(-1, 4),
     "z": F(5, 8)},
    {"x": F(-5, 4), "y": F(1, 2), "w": F(-3, 4), "b": F(-2), "lr": F(1, 2), "t": F(3, 2),
     "z": F(-9, 8)},
    {"x": F(2), "y": F(7, 4), "w": F(1, 4), "b": F(3, 4), "lr": F(1, 16), "t": F(5, 4),
     "z": F(1, 8)},
]
RTOL = 1e-9


def close(a: float, b: float, rtol: float = RTOL) -> bool:
    return abs(a - b) <= 1e-12 + rtol * max(abs(a), abs(b))


def derivation(text: str) -> Derivation:
    return resolve(parse_block(text), "semantics")


def three_ways(text: str, engines, points=POINTS) -> dict[str, list[list[float]]]:
    """{engine: [step][point]} for the left sides of `text`'s steps."""
    d = derivation(text)
    found = {"sympy": sympy_values(d, points)}
    for engine in engines:
        values = Evaluator(engine, d).steps(d.steps, points)
        found[engine.name] = [list(row) for row in values.lhs]
    return found


Hand = Callable[[dict[str, float]], float]

CASES: dict[str, tuple[str, list[tuple[str, Hand]]]] = {
    "by an input, through every node": (
        "h := w·x + b\nout := h^2",
        [("d(out)/dw", lambda p: 2 * (p["w"] * p["x"] + p["b"]) * p["x"]),
         ("d(out)/dx", lambda p: 2 * (p["w"] * p["x"] + p["b"]) * p["w"]),
         ("d(out)/db", lambda p: 2 * (p["w"] * p["x"] + p["b"]))]),
    "by a node: its downstream follows, its upstream is held": (
        "a := x\nb := a + x\nc := b·a",
        [("db/da", lambda p: 1.0),
         ("db/dx", lambda p: 2.0),
         ("dc/da", lambda p: 3 * p["x"]),  # c = (a + x)·a with x held: 2a + x
         ("dc/db", lambda p: p["x"]),
         ("dc/dx", lambda p: 4 * p["x"])]),
    "by a node in the middle of a chain": (
        "h := w·x + b\nout := h^2",
        [("d(out)/dh", lambda p: 2 * (p["w"] * p["x"] + p["b"])),
         ("dh/dh", lambda p: 1.0),
         ("d(out)/d(out)", lambda p: 1.0)]),
    "nodes keep their definitions inside a derivative": (
        "s := x^2 - y\nz2 := x + y",
        [("d(s^2)/ds", lambda p: 2 * (p["x"] ** 2 - p["y"])),
         ("d(s^2)/dx", lambda p: 4 * p["x"] * (p["x"] ** 2 - p["y"])),
         ("dy/dy", lambda p: 1.0),
         ("dx/dy", lambda p: 0.0),
         ("d(z2·s)/ds", lambda p: p["x"] + p["y"]),
         ("d(z2·s)/dy", lambda p: (p["x"] ** 2 - p["y"]) - (p["x"] + p["y"]))]),
    "an input nothing depends on": (
        "h := w·x",
        [("dh/dy", lambda p: 0.0), ("d(h + y)/dy", lambda p: 1.0)]),
    "a node holding a derivative": (
        "loss := (w·x - y)^2\nw_next := w - lr·dloss/dw",
        [("w_next", lambda p: p["w"] - p["lr"] * 2 * (p["w"] * p["x"] - p["y"]) * p["x"]),
         ("d(w_next)/dw", lambda p: 1 - 2 * p["lr"] * p["x"] ** 2),
         ("d(w_next)/dx", lambda p: -p["lr"] * (4 * p["w"] * p["x"] - 2 * p["y"])),
         ("d(w_next)/dlr", lambda p: -2 * (p["w"] * p["x"] - p["y"]) * p["x"]),
         ("lr·dloss/dw", lambda p: p["lr"] * 2 * (p["w"] * p["x"] - p["y"]) * p["x"])]),
    "second derivatives by inputs": (
        "f := x^3·y^2 + sin(x·y)",
        [("d²f/dx²", lambda p: 6 * p["x"] * p["y"] ** 2
          - p["y"] ** 2 * math.sin(p["x"] * p["y"])),
         ("d²f/dy²", lambda p: 2 * p["x"] ** 3 - p["x"] ** 2 * math.sin(p["x"] * p["y"])),
         ("d²f/dxdy", lambda p: 6 * p["x"] ** 2 * p["y"] + math.cos(p["x"] * p["y"])
          - p["x"] * p["y"] * math.sin(p["x"] * p["y"])),
         ("∂²f/∂y∂x", lambda p: 6 * p["x"] ** 2 * p["y"] + math.cos(p["x"] * p["y"])
          - p["x"] * p["y"] * math.sin(p["x"] * p["y"])),
         ("d(df/dx)/dx", lambda p: 6 * p["x"] * p["y"] ** 2
          - p["y"] ** 2 * math.sin(p["x"] * p["y"]))]),
    "second derivatives by a node": (
        "s := x^2\nf := s^3",
        [("d²f/ds²", lambda p: 6 * p["x"] ** 2),
         ("d²f/dx²", lambda p: 30 * p["x"] ** 4),
         ("d(df/ds)/dx", lambda p: 12 * p["x"] ** 3)]),
    "derivatives of built-in functions": (
        "u := w·x + b",
        [("d(sigmoid(u))/du", lambda p: _sig(_u(p)) * (1 - _sig(_u(p)))),
         ("d(tanh(u))/dw", lambda p: (1 - math.tanh(_u(p)) ** 2) * p["x"]),
         ("d(softplus(u))/du", lambda p: _sig(_u(p))),
         ("d(log(1 + u^2))/du", lambda p: 2 * _u(p) / (1 + _u(p) ** 2)),
         ("d(exp(-u^2))/dx", lambda p: -2 * _u(p) * math.exp(-_u(p) ** 2) * p["w"]),
         ("d(sqrt(1 + u^2))/du", lambda p: _u(p) / math.sqrt(1 + _u(p) ** 2))]),
}


def _u(p: dict[str, float]) -> float:
    return p["w"] * p["x"] + p["b"]


def _sig(v: float) -> float:
    return 1 / (1 + math.exp(-v))


@pytest.mark.parametrize("name", list(CASES))
def test_derivatives_equal_the_hand_computed_values(engines, name) -> None:
    setup, rows = CASES[name]
    text = setup + "\n" + "\n".join(f"{expr} = 0" for expr, _hand in rows)
    found = three_ways(text, engines)
    floats = [{k: float(v) for k, v in p.items()} for p in POINTS]
    for index, (expr, hand) in enumerate(rows):
        want = [hand(p) for p in floats]
        for engine, table in found.items():
            got = table[index]
            assert all(close(g, h) for g, h in zip(got, want, strict=True)), (
                f"{expr} by {engine}: {got}, by hand: {want}")


def test_mixed_derivative_through_a_node_has_one_value(engines) -> None:
    """`d²f/dxda` is `d(df/da)/dx` (differentiate by the last variable first) everywhere.

    a := x², f := a·x: nudging `a` with x held gives df/da = x, so d(df/da)/dx = 1.
    """
    found = three_ways("a := x^2\nf := a·x\nd(df/da)/dx = 0\nd²f/dxda = 0", engines)
    for engine, (nested, mixed) in found.items():
        assert nested == [1.0, 1.0, 1.0], f"{engine}: d(df/da)/dx = {nested}"
        assert mixed == [1.0, 1.0, 1.0], f"{engine}: d²f/dxda = {mixed}"


# --- abstract functions -------------------------------------------------------------------------

def test_abstract_chain_rule_is_an_identity_for_sympy() -> None:
    d = derivation("function: g, h\nu := h(t)\nv := g(u)\ndv/dt = dv/du · du/dt")
    model = SympyModel(d)
    [step] = d.steps
    assert sympy.simplify((model.full(step.lhs) - model.full(step.rhs)).doit()) == 0


@pytest.mark.parametrize(("text", "wrt"), [
    ("function: g, h\nu := h(t)\nv := g(u)\ndv/dt = 0\ndv/du · du/dt = 0\nv = 0", "t"),
    ("function: L\np := w·x\nloss := L(p, y)\nd(loss)/dw = 0\nd(loss)/dp · x = 0\nloss = 0",
     "w"),
])
def test_abstract_functions_are_checked_through_random_instances(engines, text, wrt) -> None:
    """Instances are the same in every engine; autodiff agrees with central differences."""
    d = instantiate(derivation(text), seed=0)
    assert not d.abstract
    h = 1e-6
    for engine in engines:
        evaluator = Evaluator(engine, d)
        values = evaluator.steps(d.steps, POINTS)
        derivative, chain = values.lhs[0], values.lhs[1]
        assert all(close(a, b) for a, b in zip(derivative, chain, strict=True))
        ups = [{**p, wrt: p[wrt] + F(h)} for p in POINTS]
        downs = [{**p, wrt: p[wrt] - F(h)} for p in POINTS]
        up, down = evaluator.steps(d.steps, ups).lhs[2], evaluator.steps(d.steps, downs).lhs[2]
        for g, u_, v_ in zip(derivative, up, down, strict=True):
            assert close(g, (u_ - v_) / (2 * h), rtol=1e-6), engine.name
    sym = sympy_values(d, POINTS)
    assert all(close(a, b) for a, b in zip(sym[0], values.lhs[0], strict=True))


def test_instances_depend_on_the_seed_but_not_on_the_engine(engines) -> None:
    text = "function: g\nv := g(t)\nv = 0"
    first = instantiate(derivation(text), seed=0)
    again = instantiate(derivation(text), seed=0)
    other = instantiate(derivation(text), seed=1)
    assert first.functions == again.functions
    assert first.functions != other.functions
    values = [Evaluator(e, first).steps(first.steps, POINTS).lhs[0] for e in engines]
    assert all(close(a, b) for a, b in zip(*values, strict=True))


# --- micrograd-style twins: the same graph written directly in PyTorch ---------------------------

def _leaves(point: dict[str, Fraction], names: str) -> dict[str, torch.Tensor]:
    return {n: torch.tensor(float(point[n]), dtype=torch.float64, requires_grad=True)
            for n in names.split()}


NEURON = """
h := tanh(w1·x + b1)
out := sigmoid(w2·h + b2)
loss := (out - y)^2
loss = 0
d(loss)/dw1 = 0
d(loss)/db1 = 0
d(loss)/dw2 = 0
d(loss)/db2 = 0
d(loss)/dx = 0
d(loss)/dh = 0
d(loss)/d(out) = 0
"""


def test_a_neuron_matches_torch_autograd(engines) -> None:
    points = [{"x": F(3, 4), "y": F(1, 4), "w1": F(-3, 2), "b1": F(1, 8), "w2": F(5, 4),
               "b2": F(-1, 2)},
              {"x": F(-2), "y": F(1), "w1": F(1, 2), "b1": F(-3, 4), "w2": F(-7, 4),
               "b2": F(3, 8)}]
    found = three_ways(NEURON, engines, points)
    for j, point in enumerate(points):
        t = _leaves(point, "x y w1 b1 w2 b2")
        h = torch.tanh(t["w1"] * t["x"] + t["b1"])
        out = torch.sigmoid(t["w2"] * h + t["b2"])
        loss = (out - t["y"]) ** 2
        h.retain_grad()
        out.retain_grad()
        loss.backward()
        twin = [loss.item(), t["w1"].grad.item(), t["b1"].grad.item(), t["w2"].grad.item(),
                t["b2"].grad.item(), t["x"].grad.item(), h.grad.item(), out.grad.item()]
        for engine, table in found.items():
            got = [row[j] for row in table]
            assert all(close(g, v) for g, v in zip(got, twin, strict=True)), (engine, got, twin)


def test_second_derivatives_match_torch_double_backward(engines) -> None:
    found = three_ways("f := x^3·y^2 + sin(x·y)\nd²f/dx² = 0\nd²f/dydx = 0\nd²f/dy² = 0",
                       engines)
    for j, point in enumerate(POINTS):
        t = _leaves(point, "x y")
        f = t["x"] ** 3 * t["y"] ** 2 + torch.sin(t["x"] * t["y"])
        fx, fy = torch.autograd.grad(f, (t["x"], t["y"]), create_graph=True)
        fxx, fxy = torch.autograd.grad(fx, (t["x"], t["y"]), retain_graph=True)
        (fyy,) = torch.autograd.grad(fy, t["y"])
        twin = [fxx.item(), fxy.item(), fyy.item()]
        for engine, table in found.items():
            got = [row[j] for row in table]
            assert all(close(g, v) for g, v in zip(got, twin, strict=True)), (engine, got, twin)


MICROGRAD = """
c1 := a + b
c2 := c1 + c1 + 1
c3 := c2 + 1 + c2 + (-a)
d1 := a·b + b^3
d2 := d1 + d1·2 + relu(b + a)
d3 := d2 + 3·d2 + relu(b - a)
e := c3 - d3
f := e^2
g := f/2.0 + 10.0/f
"""


def _micrograd_torch(a: float, b: float) -> tuple[float, float, float]:
    ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    c = ta + tb
    d = ta * tb + tb ** 3
    c = c + c + 1
    c = c + 1 + c + (-ta)
    d = d + d * 2 + (tb + ta).relu()
    d = d + 3 * d + (tb - ta).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return g.item(), ta.grad.item(), tb.grad.item()


def test_micrograd_sanity_check_twin(engines) -> None:
    """micrograd's test_more_ops: at a = -4, b = 2, g = 24.704…, dg/da = 138.83…, 645.57…"""
    points = [{"a": F(-4), "b": F(2)}, {"a": F(3, 2), "b": F(-5, 4)}, {"a": F(1, 4), "b": F(1)}]
    found = three_ways(MICROGRAD + "g = 0\ndg/da = 0\ndg/db = 0", engines, points)
    published = (24.70408163265306, 138.83381924198252, 645.5772594752186)
    for j, point in enumerate(points):
        twin = _micrograd_torch(float(point["a"]), float(point["b"]))
        if j == 0:
            assert all(close(v, p) for v, p in zip(twin, published, strict=True))
        for engine, table in found.items():
            got = [row[j] for row in table]
            assert all(close(g, v) for g, v in zip(got, twin, strict=True)), (engine, got, twin)


def test_micrograd_values_hold_at_the_worked_point() -> None:
    text = ("at: a = -4, b = 2\n" + MICROGRAD +
            "g ≈ 24.70408163265306\ndg/da ≈ 138.83381924198252\ndg/db ≈ 645.5772594752186\n"
            "dg/db ≈ 645.58\ndg/db ≈ 645.57\n")
    result = check_text(text, Options(samples=8))
    assert result.error is None, result.error
    assert [s.verdict.value for s in result.steps] == [
        "holds-at-point", "holds-at-point", "holds-at-point", "holds-at-point", "wrong"]


@pytest.mark.parametrize(("text", "verdicts"), [
    ("at: x = 2\nd(relu(x))/dx = 1", ["holds-at-point"]),
    ("at: x = -2\nd(relu(x))/dx = 0", ["holds-at-point"]),
    ("at: x = 2, y = 1\nd(max(x, y))/dx = 1", ["holds-at-point"]),
    ("at: x = 2\nd(relu(x)·x)/dx = 2x = 4", ["holds-at-point", "holds-at-point"]),
])
def test_slopes_of_piecewise_functions_at_the_worked_point(text, verdicts) -> None:
    result = check_text(text, Options(samples=8))
    assert [(s.verdict.value) for s in result.steps] == verdicts, [s.detail for s in result.steps]


def test_relu_graph_from_micrograd_readme(engines) -> None:
    """micrograd's test_sanity_check: y = -20 and dy/dx = 46 at x = -4."""
    text = ("z := 2x + 2 + x\nq := relu(z) + z·x\nh := relu(z·z)\nout := h + q + q·x\n"
            "out = 0\nd(out)/dx = 0")
    found = three_ways(text, engines, [{"x": F(-4)}])
    for engine, (value, slope) in found.items():
        assert (value, slope) == ([-20.0], [46.0]), engine
