"""Evaluate SymPy expressions at a point with mpmath, walking the tree (no code generation)."""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import sympy

# Beyond these sizes a value counts as too large to evaluate: a tower like exp(exp(exp(…)))
# would need numbers of astronomical size, and no engine's float64 could hold it anyway.
MAX_MAGNITUDE = 2**40  # bits of a value's binary exponent
MAX_GROWING = 41  # bits of the argument of exp, sinh, cosh, tanh (and of a power's exponent)
MAX_PERIODIC = 2**14  # bits of the argument of sin, cos, tan (reduced by pi to this many bits)


class Undefined(Exception):
    """The expression has no real finite value at the point."""


def _real(value):
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > mpmath.mpf(10) ** (-(mpmath.mp.dps - 5)) * max(1, abs(value.real)):
            raise Undefined("not real")
        value = value.real
    if not mpmath.isfinite(value):
        raise Undefined("not finite")
    return value


def _pow(base, exponent):
    if base == 0 and exponent < 0:
        raise Undefined("division by zero")
    if base < 0 and not mpmath.isint(exponent):
        raise Undefined("not real")
    if base and abs(exponent * mpmath.log(abs(base), 2)) > MAX_MAGNITUDE:
        raise Undefined("too large to evaluate")
    return mpmath.power(base, exponent)


def _limited(function: Callable, bits: int) -> Callable:
    """`function`, refusing arguments beyond 2^bits (they would take for ever)."""
    def call(value):
        if value and mpmath.mag(value) > bits:
            raise Undefined("too large to evaluate")
        return function(value)
    return call


def _log(value):
    if value <= 0:
        raise Undefined("log of a number <= 0")
    return mpmath.log(value)


_FUNCTIONS: dict[type, Callable] = {
    sympy.exp: _limited(mpmath.exp, MAX_GROWING), sympy.log: _log,
    sympy.sin: _limited(mpmath.sin, MAX_PERIODIC), sympy.cos: _limited(mpmath.cos, MAX_PERIODIC),
    sympy.tan: _limited(mpmath.tan, MAX_PERIODIC), sympy.tanh: _limited(mpmath.tanh, MAX_GROWING),
    sympy.sinh: _limited(mpmath.sinh, MAX_GROWING), sympy.cosh: _limited(mpmath.cosh, MAX_GROWING),
    sympy.Abs: abs, sympy.sign: mpmath.sign,
    # SymPy's Heaviside carries its value at 0 as a second argument
    sympy.Heaviside: lambda t, at_zero=None: (
        mpmath.mpf(1) if t > 0 else mpmath.mpf(0) if t < 0 else
        mpmath.mpf("0.5") if at_zero is None else at_zero),
}


def mp_value(expr: sympy.Expr, values: dict[sympy.Symbol, sympy.Rational], digits: int = 30):
    """The value of `expr` at `values` with `digits` significant digits; Undefined if none."""
    with mpmath.workdps(digits):
        return +_real(_eval(expr, values))


def _eval(expr, values):
    if expr.is_Symbol:
        if expr not in values:
            raise Undefined(f"no value for {expr}")
        return _number(values[expr])
    if expr.is_Number or expr.is_NumberSymbol:
        if expr in (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise Undefined("not finite")
        return _number(expr)
    args = [_eval(a, values) for a in expr.args]
    if any(a and abs(mpmath.mag(a)) > MAX_MAGNITUDE for a in args):
        raise Undefined("too large to evaluate")
    if expr.is_Add:
        return mpmath.fsum(args)
    if expr.is_Mul:
        result = mpmath.mpf(1)
        for a in args:
            result *= a
        return result
    if expr.is_Pow:
        return _pow(args[0], args[1])
    if isinstance(expr, sympy.Max):
        return max(args)
    if isinstance(expr, sympy.Min):
        return min(args)
    function = _FUNCTIONS.get(type(expr))
    if function is None:
        value = expr.func(*[sympy.Float(a, mpmath.mp.dps) for a in args]).evalf(mpmath.mp.dps)
        return _number(value)
    try:
        return _real(function(*args))
    except (ValueError, ZeroDivisionError) as exc:
        raise Undefined(str(exc)) from None


def _number(value):
    if isinstance(value, sympy.Rational):
        return mpmath.mpf(int(value.p)) / int(value.q)
    complex_value = complex(sympy.N(value, mpmath.mp.dps))
    if complex_value.imag:
        raise Undefined("not real")
    return mpmath.mpf(sympy.N(value, mpmath.mp.dps))
