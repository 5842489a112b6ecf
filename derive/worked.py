"""The worked point (`at:`) as numbers and as text, without SymPy (safe in the main process)."""

from __future__ import annotations

import math
from fractions import Fraction

from derive import ast
from derive.model import Derivation

MAX_EXPONENT = 1000
MAX_BITS = 13_300  # about 4000 digits: larger exact powers are refused, never built

_FLOAT_FUNCTIONS = {
    "exp": math.exp, "log": math.log, "ln": math.log, "sqrt": math.sqrt, "abs": abs,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "tanh": math.tanh,
    "sinh": math.sinh, "cosh": math.cosh,
}


class NotANumber(ValueError):
    """A worked-point value that is not a usable number."""


def value(expr: ast.Expr) -> Fraction | float:
    """The value of a constant expression: exact when rational, else a float."""
    match expr:
        case ast.Number(value=v):
            return v
        case ast.Name(id=name) if name in ("pi", "π"):
            return math.pi
        case ast.Name(id="e"):
            return math.e
        case ast.Neg(operand=o):
            return -value(o)
        case ast.BinOp(op=op, left=left, right=right):
            a, b = value(left), value(right)
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                if b == 0:
                    raise NotANumber("division by zero")
                return a / b
            if op == "^":
                if abs(b) > MAX_EXPONENT:
                    raise NotANumber(f"exponent larger than {MAX_EXPONENT}")
                if isinstance(b, Fraction) and b.denominator == 1 and isinstance(a, Fraction):
                    if a == 0 and b < 0:
                        raise NotANumber("division by zero")
                    size = max(abs(a.numerator), a.denominator).bit_length() - 1
                    if size * abs(b) > MAX_BITS:  # ((2^1000)^1000)^1000 would need 10^9 bits
                        raise NotANumber("a power too large to compute exactly")
                    return a ** int(b)
                return float(a) ** float(b)
        case ast.Call(func=func, args=(arg,)) if func in _FLOAT_FUNCTIONS:
            try:
                return _FLOAT_FUNCTIONS[func](float(value(arg)))
            except (ValueError, OverflowError) as exc:
                raise NotANumber(str(exc)) from None
    raise NotANumber("not a constant")


def worked_values(d: Derivation) -> dict[str, Fraction] | None:
    """The worked point as exact fractions of what the engines evaluate; missing inputs get 0."""
    if not d.at:
        return None
    out = {}
    for name, expr in d.at:
        try:
            number = value(expr)
            out[name] = number if isinstance(number, Fraction) else Fraction(float(number))
        except (NotANumber, OverflowError, ValueError, TypeError):
            out[name] = Fraction(0)
    return {name: out.get(name, Fraction(0)) for name in d.inputs}


def text(expr: ast.Expr) -> str:
    """A constant expression as the notes write it."""
    match expr:
        case ast.Number(text=t):
            return t
        case ast.Name(id=name):
            return name
        case ast.Neg(operand=o):
            return "-" + text(o)
        case ast.BinOp(op=op, left=left, right=right):
            symbol = {"*": "·"}.get(op, op)
            return f"{text(left)}{symbol}{text(right)}" if op in "*/^" else (
                f"{text(left)} {symbol} {text(right)}")
        case ast.Call(func=func, args=args):
            return f"{func}({', '.join(text(a) for a in args)})"
    return "?"


def worked_pairs(d: Derivation) -> tuple[tuple[str, str], ...]:
    """(input, value text) for each `at:` binding."""
    return tuple((name, text(expr)) for name, expr in d.at)
