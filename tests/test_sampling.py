"""Sample points: seeded from the block's text, drawn from each input's domain (spec section 6)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from fractions import Fraction

import pytest

from derive.errors import BlockError
from derive.model import Derivation, Domain, resolve
from derive.parser import parse_block
from derive.runner import Options, check_text
from derive.sampling import GRID, block_seed, candidates, draw

DOMAINS = """\
assume: x > 0, 0 < p < 1, y != 0, q >= 2, r <= -1, 1/4 <= t <= 1/2, u > 0, u != 1
f := x + p + y + q + r + t + u + v
f = f
"""


def derivation(text: str) -> Derivation:
    return resolve(parse_block(text), "sampling")


def test_points_are_reproducible_for_the_same_text_and_seed() -> None:
    d = derivation(DOMAINS)
    assert candidates(d, 48, 0) == candidates(d, 48, 0)
    assert candidates(derivation(DOMAINS), 48, 7) == candidates(d, 48, 7)


def test_different_seeds_and_texts_give_different_points() -> None:
    d = derivation(DOMAINS)
    assert candidates(d, 16, 0) != candidates(d, 16, 1)
    other = derivation(DOMAINS.replace("f = f", "f = f  # another comment"))
    assert candidates(other, 16, 0) != candidates(d, 16, 0)
    assert block_seed("a", 0) != block_seed("a", 1) != block_seed("b", 0)


def test_points_do_not_depend_on_the_process() -> None:
    """The seed comes from the block's text, never from Python's randomised `hash`."""
    code = ("import json, sys\n"
            "from derive.model import resolve\nfrom derive.parser import parse_block\n"
            "from derive.sampling import candidates\n"
            "d = resolve(parse_block(sys.stdin.read()), 'sampling')\n"
            "print(json.dumps([{k: str(v) for k, v in p.items()} for p in "
            "candidates(d, 8, 3)]))\n")
    here = [{k: str(v) for k, v in p.items()} for p in candidates(derivation(DOMAINS), 8, 3)]
    for hash_seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", code], input=DOMAINS, capture_output=True,
                              text=True, encoding="utf-8", check=True,
                              env={**os.environ, "PYTHONHASHSEED": hash_seed})
        assert json.loads(done.stdout) == here


def test_every_point_is_in_its_domain_and_on_the_grid() -> None:
    d = derivation(DOMAINS)
    points = candidates(d, 200, 0)
    assert all(set(p) == set(d.inputs) for p in points)
    for p in points:
        assert p["x"] > 0
        assert 0 < p["p"] < 1
        assert p["y"] != 0
        assert p["q"] >= 2
        assert p["r"] <= -1
        assert Fraction(1, 4) <= p["t"] <= Fraction(1, 2)
        assert p["u"] > 0 and p["u"] != 1
        for value in p.values():
            assert (value * GRID).denominator == 1  # exact in binary floating point
    # an input without assumptions takes both signs
    assert min(p["v"] for p in points) < 0 < max(p["v"] for p in points)
    # a lower bound alone still spreads the values
    assert len({p["q"] for p in points}) > 50
    assert max(p["q"] for p in points) > 3


def test_boundaries_are_reached_only_when_allowed() -> None:
    d = derivation("assume: 0 <= a <= 1/128, 0 < b < 1/128\nf := a + b\nf = f")
    points = candidates(d, 300, 0)
    assert {p["a"] for p in points} == {Fraction(0), Fraction(1, 256), Fraction(2, 256)}
    assert {p["b"] for p in points} == {Fraction(1, 256)}


def test_an_equality_pins_an_input() -> None:
    d = derivation("assume: n >= 3, n <= 3\nf := n·x\nf = f")
    assert {p["n"] for p in candidates(d, 20, 0)} == {Fraction(3)}


def test_a_very_narrow_domain_still_gives_values_inside_it() -> None:
    domain = Domain(Fraction(0), True, Fraction(1, 1000), True)
    values = {draw(domain, random.Random(seed)) for seed in range(20)}
    assert all(domain.contains(v) for v in values)


@pytest.mark.parametrize(("domain", "inside", "outside"), [
    (Domain(Fraction(0), True), [Fraction(1, 256), Fraction(9)], [Fraction(0), Fraction(-1)]),
    (Domain(Fraction(2), False), [Fraction(2), Fraction(3)], [Fraction(511, 256)]),
    (Domain(None, False, Fraction(1), True), [Fraction(-5), Fraction(255, 256)], [Fraction(1)]),
    (Domain(excluded=(Fraction(0), Fraction(1))), [Fraction(1, 2)], [Fraction(0), Fraction(1)]),
])
def test_domain_contains(domain, inside, outside) -> None:
    assert all(domain.contains(v) for v in inside)
    assert not any(domain.contains(v) for v in outside)


def test_assume_lines_become_domains() -> None:
    d = derivation(DOMAINS)
    assert d.domain("x") == Domain(Fraction(0), True)
    assert d.domain("p") == Domain(Fraction(0), True, Fraction(1), True)
    assert d.domain("y") == Domain(excluded=(Fraction(0),))
    assert d.domain("q") == Domain(Fraction(2), False)
    assert d.domain("r") == Domain(None, False, Fraction(-1), False)
    assert d.domain("u") == Domain(Fraction(0), True, excluded=(Fraction(1),))
    assert d.domain("v") == Domain()


@pytest.mark.parametrize("assume", [
    "x > 1, x < 1",
    "x >= 1, x <= 1, x != 1",
    "0 < p < 1, p > 2",
    "x < 0, x > 0",
    "2 < x, x <= 2",
])
def test_contradictory_assumptions_are_a_block_error(assume) -> None:
    with pytest.raises(BlockError, match="contradict each other") as info:
        derivation(f"assume: {assume}\nf := x + p\nf = f")
    assert info.value.line == 1
    result = check_text(f"title: t\nassume: {assume}\nx + p = p + x", Options(samples=8))
    assert result.error is not None and "contradict" in result.error
    assert result.steps == ()


def test_undefined_points_are_redrawn() -> None:
    result = check_text("sqrt(x)·sqrt(x) + log(y) = x + log(y)", Options(samples=8))
    [step] = result.steps
    assert step.verdict.value == "holds", step.detail
    assert "8 points" in step.detail


def test_no_valid_point_is_an_error_with_the_reason() -> None:
    result = check_text("log(-1 - x^2) = log(-1 - x^2)·1", Options(samples=8))
    [step] = result.steps
    assert step.verdict.value == "error"
    assert "no valid sample point" in step.detail


def test_assumptions_reach_sympy_and_the_samples() -> None:
    text = "sqrt(x^2) = x\nlog(x^2) = 2log(x)"
    free = check_text(text, Options(samples=8))
    positive = check_text("assume: x > 0\n" + text, Options(samples=8))
    assert [s.verdict.value for s in positive.steps] == ["holds", "holds"]
    assert free.steps[0].verdict.value == "wrong"
    assert free.steps[1].verdict.value != "holds"
