"""PyTorch, JAX and SymPy compute the same values and slopes for every built-in, in float64."""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import pytest
import torch
from twins import sympy_values

from derive.engines import ENGINES, load_engine
from derive.errors import EngineUnavailable
from derive.model import BUILTINS, resolve
from derive.numeric import Evaluator
from derive.parser import parse_block

F = Fraction
# the built-in functions of spec section 3 (scalars); section 9 adds functions of matrices
SCALAR_BUILTINS = ("exp log ln sqrt abs sin cos tan tanh sinh cosh sigmoid relu softplus max "
                   "min").split()
POINTS = [  # away from every kink (relu at 1, abs at 1/2, max/min at ties)
    {"x": F(3, 4), "y": F(-3, 2), "z": F(1, 4)},
    {"x": F(5, 4), "y": F(1, 2), "z": F(-7, 8)},
    {"x": F(2), "y": F(5, 8), "z": F(3)},
    {"x": F(1, 8), "y": F(-1, 4), "z": F(1, 16)},
]
EXPRESSIONS = [
    "exp(x)", "log(x)", "ln(x)", "sqrt(x)", "abs(x - 1/2)", "sin(x·y)", "cos(x + y)",
    "tan(x/2)", "tanh(2x - 1)", "sinh(x)", "cosh(y)", "sigmoid(3y)", "relu(x - 1)",
    "relu(y)", "softplus(x - y)", "max(x, y)", "max(x, y, z)", "min(x, y)", "min(x, y, z, 1)",
    "e^x", "pi·x", "π + x", "e", "exp(1) - e",
    "sigmoid(tanh(x)·y) + softplus(-x)·relu(y)", "log(sqrt(x)) - ln(x)/2",
    "x^y", "2^x", "x^(1/3)", "(1 + x/2^40) - 1",
]


def close(a: float, b: float, rtol: float = 1e-9) -> bool:
    return abs(a - b) <= 1e-12 + rtol * max(abs(a), abs(b))


def _block(rows: list[str]) -> str:
    return "\n".join(f"{row} = 0" for row in rows)


def _sympy(text: str) -> list[list[float]]:
    return sympy_values(resolve(parse_block(text), "engines"), POINTS)


def _engine(engine, text: str) -> list[list[float]]:
    d = resolve(parse_block(text), "engines")
    return [list(row) for row in Evaluator(engine, d).steps(d.steps, POINTS).lhs]


def test_the_batch_uses_every_built_in_and_constant() -> None:
    assert set(SCALAR_BUILTINS) <= set(BUILTINS)
    used = set()
    for text in EXPRESSIONS:
        used |= {name for name in SCALAR_BUILTINS if f"{name}(" in text}
    assert used == set(SCALAR_BUILTINS)
    assert {"e", "pi", "π"} <= {word for text in EXPRESSIONS
                                for word in text.replace("^", " ").replace("·", " ").split()}


@pytest.mark.parametrize("kind", ["value", "slope"])
def test_engines_and_sympy_agree_on_every_built_in(engines, kind) -> None:
    rows = EXPRESSIONS if kind == "value" else [f"d({e})/dx" for e in EXPRESSIONS]
    text = _block(rows)
    want = _sympy(text)
    for engine in engines:
        got = _engine(engine, text)
        for row, mine, theirs in zip(rows, got, want, strict=True):
            assert all(close(a, b) for a, b in zip(mine, theirs, strict=True)), (
                f"{row}: {engine.name} {mine}, SymPy {theirs}")


def test_values_by_hand() -> None:
    torch_engine = load_engine("torch")
    text = _block(["sigmoid(x)", "softplus(x)", "relu(y)", "e", "pi", "(1 + x/2^40) - 1"])
    got = _engine(torch_engine, text)
    xs = [float(p["x"]) for p in POINTS]
    assert got[0] == pytest.approx([1 / (1 + math.exp(-v)) for v in xs], rel=1e-14)
    assert got[1] == pytest.approx([math.log1p(math.exp(v)) for v in xs], rel=1e-14)
    assert got[2] == [max(0.0, float(p["y"])) for p in POINTS]
    assert got[3] == [math.e] * len(POINTS)
    assert got[4] == [math.pi] * len(POINTS)
    # 2^-40·x survives 1 + … - 1 only in float64 (float32 has 24 bits of mantissa)
    assert got[5] == [v / 2**40 for v in xs]


def test_every_number_is_float64(engines) -> None:
    assert jax.config.jax_enable_x64
    torch_engine, jax_engine = engines
    d = resolve(parse_block("h := exp(x)·w\ndh/dw = h/w"), "dtype")
    for engine, want in ((torch_engine, torch.float64), (jax_engine, jnp.float64)):
        assert engine.constant(0.1).dtype == want
        assert engine.vector([0.1, 0.2]).dtype == want
        evaluator = Evaluator(engine, d)
        env = evaluator.environment([{"x": F(1, 3), "w": F(2)}, {"x": F(1), "w": F(-1)}])
        assert all(value.dtype == want for value in env.values())
        slope = evaluator.value(d.steps[0].lhs, env)
        assert slope.dtype == want
        for name in SCALAR_BUILTINS:
            args = (engine.vector([0.5, 1.5]),) * (2 if BUILTINS[name] is None else 1)
            assert engine.function(name)(*args).dtype == want, (engine.name, name)
    # 0.1 + 0.2 - 0.3 is 5.55e-17 in float64 and 0 (or 2.98e-8) in float32
    d = resolve(parse_block("x + 0.2 - 0.3 = 0"), "t")
    for engine in engines:
        [[value]] = Evaluator(engine, d).steps(d.steps, [{"x": F(1, 10)}]).lhs
        assert value == 0.1 + 0.2 - 0.3


def test_engine_derivative_is_elementwise_autodiff(engines) -> None:
    for engine in engines:
        at = engine.vector([0.0, 1.0, -2.0])
        slope = engine.derivative(lambda u, e=engine: e.function("tanh")(u) * u, at)
        want = [math.tanh(v) + v * (1 - math.tanh(v) ** 2) for v in (0.0, 1.0, -2.0)]
        assert engine.to_list(slope) == pytest.approx(want, rel=1e-14)
        constant = engine.derivative(lambda u, e=engine: e.constant(3.0), at)
        assert engine.to_list(constant) == [0.0, 0.0, 0.0]


def test_unknown_engine_is_refused() -> None:
    assert set(ENGINES) == {"torch", "jax"}
    with pytest.raises(EngineUnavailable, match="unknown engine `foo`"):
        load_engine("foo")
