"""Helpers shared by the engine and semantics tests: SymPy's values of step sides."""

from __future__ import annotations

from fractions import Fraction

import sympy

from derive.model import Derivation
from derive.symbolic import SympyModel


def sympy_values(d: Derivation, points: list[dict[str, Fraction]]) -> list[list[float]]:
    """The left side of every step at every point, by SymPy: [step][point]."""
    model = SympyModel(d)
    out = []
    for step in d.steps:
        expr = model.full(step.lhs)
        row = []
        for p in points:
            subs = {model.symbols[n]: sympy.Rational(p[n].numerator, p[n].denominator)
                    for n in d.inputs}
            row.append(float(sympy.N(expr.subs(subs).doit(), 30)))
        out.append(row)
    return out
