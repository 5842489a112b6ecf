"""SymPy's view of the steps of a shaped block, entry by entry, under the same budgets."""

from __future__ import annotations

import sympy

from derive.budget import BudgetExceeded, Deadline, time_limit
from derive.latex import latex
from derive.matrix_symbolic import MatrixModel
from derive.model import Derivation
from derive.pretty import notes
from derive.prover import (
    SymbolicBlock,
    SymbolicOptions,
    SymbolicStep,
    evaluate_sides,
)
from derive.prover import _prove as prove_zero
from derive.shapes import Sizes


def check_shaped_symbolic(d: Derivation, instance: Derivation, points: list[dict],
                          options: SymbolicOptions, sizes: Sizes) -> SymbolicBlock:
    """Each step's SymPy verdict for one choice of sizes."""
    model = MatrixModel(d, sizes)
    concrete = MatrixModel(instance, sizes) if instance is not d else model
    steps = []
    for step in d.steps:
        steps.append(_check_step(model, concrete, step, points, options))
    return SymbolicBlock(tuple(steps), ())


def _check_step(model: MatrixModel, concrete: MatrixModel, step, points, options):
    deadline = Deadline(options.step_budget)
    latex_sides = {"lhs_latex": latex(step.lhs), "rhs_latex": latex(step.rhs)}
    try:
        with time_limit(deadline.left()):
            lhs, rhs = model.full(step.lhs), model.full(step.rhs)
            lhs_c = concrete.full(step.lhs) if concrete is not model else lhs
            rhs_c = concrete.full(step.rhs) if concrete is not model else rhs
            actual = notes(model.graph(step.lhs).tolist())
            actual = actual if len(actual) <= 120 else None
    except BudgetExceeded:
        return SymbolicStep("unknown", "SymPy ran out of time building the step",
                            **latex_sides)
    if any(e.has(sympy.zoo, sympy.nan) for e in (*lhs, *rhs)):
        return SymbolicStep("error", "a side is undefined (a division by zero or log(0))",
                            **latex_sides)
    if step.approximate:
        return SymbolicStep("error", "approximate steps are for scalars at the worked point",
                            **latex_sides)
    values, refuted_at = _evaluate(concrete, lhs_c, rhs_c, points, deadline)
    if refuted_at is not None:
        return SymbolicStep("refuted", "SymPy finds the sides differ at an exact point",
                            values=values, refuted_at=refuted_at,
                            actual=actual, **latex_sides)
    status, reason = "proved", "SymPy proves every entry"
    for left, right in zip(lhs, rhs, strict=True):
        status, entry_reason = prove_zero(left - right, deadline)
        if status != "proved":
            reason = entry_reason
            break
    return SymbolicStep(status, reason, values=values, actual=actual, **latex_sides)


def _evaluate(model: MatrixModel, lhs, rhs, points, deadline):
    symbols = {s.name: s for s in model.element_symbols()}
    values, refuted_at = evaluate_sides(list(lhs), list(rhs), symbols, points, deadline)
    return tuple(values), refuted_at
