"""Random smooth functions standing in for abstract ones, the same for every engine."""

from __future__ import annotations

import random
from dataclasses import replace
from fractions import Fraction

from derive import ast
from derive.model import Derivation, FunctionDef
from derive.sampling import block_seed


def _num(value: Fraction) -> ast.Expr:
    number = ast.Number(abs(value), str(abs(value)))
    return ast.Neg(number) if value < 0 else number


def _coefficient(rng: random.Random, low: int = -9, high: int = 9) -> Fraction:
    value = 0
    while value == 0:
        value = rng.randint(low, high)
    return Fraction(value, rng.randint(4, 9))


def smooth_function(name: str, arity: int, rng: random.Random) -> FunctionDef:
    """`f(t1..tk) = a0 + Σ (aᵢ·sin(bᵢ·tᵢ + cᵢ) + gᵢ·tᵢ) + h·sin(Σ kᵢ·tᵢ)` with random rationals."""
    params = tuple(f"_t{i}" for i in range(arity))
    terms: list[ast.Expr] = [_num(_coefficient(rng))]
    for p in params:
        inner = ast.BinOp("+", ast.BinOp("*", _num(_coefficient(rng)), ast.Name(p)),
                          _num(_coefficient(rng)))
        terms.append(ast.BinOp("*", _num(_coefficient(rng)), ast.Call("sin", (inner,))))
        terms.append(ast.BinOp("*", _num(_coefficient(rng)), ast.Name(p)))
    if arity > 1:
        mix: ast.Expr = ast.BinOp("*", _num(_coefficient(rng)), ast.Name(params[0]))
        for p in params[1:]:
            mix = ast.BinOp("+", mix, ast.BinOp("*", _num(_coefficient(rng)), ast.Name(p)))
        terms.append(ast.BinOp("*", _num(_coefficient(rng)), ast.Call("sin", (mix,))))
    body = terms[0]
    for term in terms[1:]:
        body = ast.BinOp("+", body, term)
    return FunctionDef(name, params, body, 0)


def instantiate(derivation: Derivation, seed: int) -> Derivation:
    """The derivation with each abstract function replaced by a random smooth one."""
    if not derivation.abstract:
        return derivation
    rng = random.Random(block_seed(derivation.text, seed) ^ 0x5EED)
    made = tuple(smooth_function(name, arity, rng) for name, arity in derivation.abstract)
    return replace(derivation, functions=derivation.functions + made, abstract=())
