"""Fuzzing: random and mutated blocks never raise anything but BlockError, never overrun.

The longer run is benchmarks/fuzz.py; these keep the normal suite fast.
"""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.budget import check_size
from derive.errors import BlockError
from derive.model import resolve
from derive.parser import parse_block
from derive.results import DerivationResult
from derive.runner import HARD_LIMIT_MARGIN, Options, check_text
from derive.sources import read_source

ROOT = Path(__file__).resolve().parent.parent
TOKENS = [
    "x", "y", "w", "s", "ŷ", "σ", "θ̂", "loss", "f", "e", "pi", "0", "1", "2", "0.5", "1/3",
    "99999", " ", " ", "\n", "\n", ",", "+", "-", "*", "·", "/", "^", "**", "²", "ᵀ", "(", ")",
    "(", ")", "=", "=", "≈", ":=", "<", ">", "#", ".", "d(", "∂(", "d²(", ")/d", "/dx", "/dy",
    "/∂x", "dx/dy", "dloss/dw", "d²f/dx²", "exp(", "log(", "sqrt(", "sin(", "sigmoid(",
    "max(", "f(t) := ", "title: ", "at: x = 1", "assume: x > 0", "function: f",
    "expect: wrong", "\u202e", "\u200b", "😀", "{", "`", "'", "$",
]
ALPHABET = "".join(sorted({c for t in TOKENS for c in t}))
VALID = [b.text for path in sorted((ROOT / "tests" / "cases").glob("*.md"))
         for b in read_source(path, path.name)] or ["d(x^2)/dx = 2x\n"]

token_text = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
char_text = st.text(alphabet=ALPHABET, max_size=120)


@st.composite
def mutated(draw) -> str:
    """A valid block with characters or lines deleted, duplicated, swapped or replaced."""
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 20)))
        kind = draw(st.sampled_from(["delete", "duplicate", "replace", "swap-lines"]))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif kind == "replace":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[j:]
        else:
            lines = text.split("\n")
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


blocks = st.one_of(token_text, char_text, mutated())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks)
def test_parsing_and_resolving_raise_only_block_errors(text: str) -> None:
    started = time.monotonic()
    try:
        derivation = resolve(parse_block(text), "fuzz")
        check_size(derivation)
    except BlockError as exc:
        assert exc.message and exc.line >= 1
    assert time.monotonic() - started < 10


OPTIONS = Options(samples=4, step_budget=0.5, jobs=1)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.one_of(mutated(), token_text))
def test_whole_blocks_are_checked_within_their_budget(text: str) -> None:
    started = time.monotonic()
    result = check_text(text, OPTIONS)
    took = time.monotonic() - started
    assert isinstance(result, DerivationResult)
    assert result.error is not None or result.steps
    # SymPy's hard limit plus each engine's, twice when points are redrawn: a hang guard
    allowed = 5 * (OPTIONS.step_budget * max(1, len(result.steps)) + HARD_LIMIT_MARGIN)
    assert took < allowed
