"""What each engine found: the records SymPy's workers send back, and the `≈` rule."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from derive import ast
from derive.model import Step
from derive.results import GraphEdge

DECIMAL_DIGITS_EXACT = 15  # from this many significant digits, `≈` uses the tolerance


@dataclass(frozen=True)
class SymbolicOptions:
    """Budgets and tolerances of the symbolic checks."""

    step_budget: float = 4.0
    rtol: float = 1e-9
    atol: float = 1e-12


@dataclass(frozen=True)
class SymbolicStep:
    """What SymPy found for one step."""

    status: str  # "proved", "refuted", "unknown", "error", "approximate"
    reason: str
    at_point: str | None = None  # "equal", "unequal", "undefined" or None (no worked point)
    at_lhs: float | None = None
    at_rhs: float | None = None
    values: tuple[tuple[int, float, float], ...] = ()  # (candidate index, L, R)
    refuted_at: int | None = None  # candidate index of a counterexample
    actual: str | None = None
    lhs_latex: str = ""
    rhs_latex: str = ""


@dataclass(frozen=True)
class SymbolicBlock:
    """SymPy's findings for every step of a derivation, and its graph's local gradients."""

    steps: tuple[SymbolicStep, ...]
    edges: tuple[GraphEdge, ...]


def decimal_side(expr: ast.Expr) -> tuple[Fraction, Fraction] | None:
    """For a side written as a decimal number, its value and half a unit in its last place."""
    sign = 1
    while isinstance(expr, ast.Neg):
        sign, expr = -sign, expr.operand
    if not isinstance(expr, ast.Number) or "." not in expr.text:
        return None
    digits = expr.text.replace(".", "").lstrip("0")
    if len(digits) >= DECIMAL_DIGITS_EXACT:
        return None
    places = len(expr.text.split(".")[1])
    return sign * expr.value, Fraction(1, 2 * 10 ** places)


def _approximately(step: Step, lv, rv, options: SymbolicOptions) -> bool:
    """The `≈` rule: a decimal stands for what rounds to it; otherwise the tolerance."""
    return approximately_equal(step, float(lv), float(rv), options.rtol, options.atol,
                               exact=(_fraction(lv), _fraction(rv)))


def _fraction(value) -> Fraction:
    """An exact value, or an mpmath number as the fraction it stores (man·2^exp)."""
    if isinstance(value, Fraction):
        return value
    sign, mantissa, exponent, _bits = value._mpf_  # man_exp drops the sign
    return (-1) ** sign * Fraction(int(mantissa)) * Fraction(2) ** int(exponent)


def approximately_equal(step: Step, lhs: float, rhs: float, rtol: float, atol: float,
                        exact: tuple | None = None) -> bool:
    """Whether `lhs ≈ rhs` holds by the rounding rule (decimal side) or the tolerance."""
    for side, other, other_exact in ((step.rhs, lhs, exact[0] if exact else None),
                                     (step.lhs, rhs, exact[1] if exact else None)):
        decimal = decimal_side(side)
        if decimal is not None:
            value, half = decimal
            x = other_exact if other_exact is not None else Fraction(other)
            if value >= 0:
                return value - half <= x < value + half
            return value - half < x <= value + half
    return abs(lhs - rhs) <= atol + rtol * max(abs(lhs), abs(rhs))


def format_value(value: float | None) -> str:
    """A value for messages; `undefined` for None."""
    return "undefined" if value is None else number(value)


def number(value: float) -> str:
    """A float as short as it can be while telling values apart."""
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.12g}"
    return "0" if text == "-0" else text
