"""SymPy's view of each step: refute at exact points, prove cheaply first, all under budget."""

from __future__ import annotations

from fractions import Fraction

import sympy

from derive.budget import BudgetExceeded, Deadline, time_limit
from derive.evidence import (  # noqa: F401 - re-exported for the SymPy side
    SymbolicBlock,
    SymbolicOptions,
    SymbolicStep,
    _approximately,
    approximately_equal,
    decimal_side,
    format_value,
)
from derive.latex import latex as to_latex
from derive.model import Derivation, Step
from derive.mpeval import Undefined, mp_value
from derive.pretty import notes
from derive.results import GraphEdge
from derive.symbolic import SympyModel

PRECISION = 30  # digits for evaluation at sample points
AT_PRECISION = 50  # digits for the worked point
REFUTE_POINTS = 6  # sample points SymPy evaluates each step at
MAX_EXACT_EXPONENT = 4096  # larger integer powers are evaluated in floating point only


def check_symbolic(derivation: Derivation, instance: Derivation,
                   points: list[dict[str, Fraction]],
                   options: SymbolicOptions | None = None) -> SymbolicBlock:
    """Check every step of `derivation` symbolically (`instance` has abstract functions made
    concrete, for evaluation at `points`)."""
    options = options or SymbolicOptions()
    model = SympyModel(derivation)
    concrete = SympyModel(instance) if instance is not derivation else model
    steps = tuple(_guarded_step(model, concrete, step, points, options)
                  for step in derivation.steps)
    return SymbolicBlock(steps, graph_edges(model))


def graph_edges(model: SympyModel) -> tuple[GraphEdge, ...]:
    """Each edge source → node of the graph with its local gradient ∂node/∂source."""
    edges = []
    for node in model.d.nodes:
        for source in sorted(model.d.direct_dependencies[node.name],
                             key=lambda n: _order(model.d, n)):
            try:
                with time_limit(0.5):
                    gradient = notes(model.local_gradient(node.name, source))
            except (BudgetExceeded, ValueError, TypeError, RecursionError, MemoryError,
                    OverflowError):
                gradient = "…"
            edges.append(GraphEdge(source, node.name, f"∂{node.name}/∂{source} = {gradient}"))
    return tuple(edges)


def _order(d: Derivation, name: str) -> int:
    names = list(d.inputs) + [n.name for n in d.nodes]
    return names.index(name) if name in names else len(names)


def _guarded_step(model: SympyModel, concrete: SympyModel, step: Step,
                  points: list[dict[str, Fraction]], options: SymbolicOptions) -> SymbolicStep:
    """`_check_step`, where SymPy failing on a pathological step (too deep, too large)
    leaves that step to the engines instead of failing the whole block."""
    try:
        return _check_step(model, concrete, step, points, options)
    except (RecursionError, MemoryError, OverflowError, ValueError, ZeroDivisionError) as exc:
        return SymbolicStep("unknown", f"SymPy could not handle this step "
                            f"({type(exc).__name__})")


def _check_step(model: SympyModel, concrete: SympyModel, step: Step,
                points: list[dict[str, Fraction]], options: SymbolicOptions) -> SymbolicStep:
    deadline = Deadline(options.step_budget)
    try:
        with time_limit(deadline.left()):
            lhs, rhs = model.full(step.lhs), model.full(step.rhs)
            latex = (to_latex(step.lhs), to_latex(step.rhs))
            lhs_c = concrete.full(step.lhs) if concrete is not model else lhs
            rhs_c = concrete.full(step.rhs) if concrete is not model else rhs
    except BudgetExceeded:
        return SymbolicStep("unknown", "SymPy ran out of time building the step")
    for side, text in ((lhs, step.lhs_text), (rhs, step.rhs_text)):
        if side.has(sympy.zoo, sympy.nan):
            return SymbolicStep("error", f"`{text}` is undefined (a division by zero or "
                                f"log(0))", lhs_latex=latex[0], rhs_latex=latex[1])
    at = _at_point(concrete, lhs_c, rhs_c, step, options, deadline)
    base = {"lhs_latex": latex[0], "rhs_latex": latex[1], **at}
    if step.approximate:
        return SymbolicStep("approximate", "", **base)
    values, refuted_at = _evaluate(lhs_c, rhs_c, concrete, points, deadline)
    actual = _actual(model, step, lhs)
    if refuted_at is not None:
        return SymbolicStep("refuted", "SymPy finds the sides differ at an exact point",
                            values=values, refuted_at=refuted_at, actual=actual, **base)
    status, reason = _prove(lhs - rhs, deadline)
    return SymbolicStep(status, reason, values=values, actual=actual, **base)


def _actual(model: SympyModel, step: Step, lhs_full: sympy.Expr) -> str | None:
    """What the left side equals, in graph form (`2·s`) when that reads better."""
    try:
        with time_limit(0.5):
            graph = model.graph(step.lhs)
            text = _shortest(graph)
            if len(text) > 120:
                text = _shortest(lhs_full)
            return text if len(text) <= 200 else None
    except (BudgetExceeded, ValueError, RecursionError):  # ValueError: a giant integer's digits
        return None


def _shortest(expr: sympy.Expr) -> str:
    """`expr` as written, or factored when that is shorter (`2·x·(ŷ - y)`, not
    `x·(-2·y + 2·ŷ)`); factoring gets a tenth of a second at most."""
    text = notes(expr)
    try:
        with time_limit(0.1):
            factored = notes(sympy.factor(expr))
    except (BudgetExceeded, sympy.PolynomialError, ValueError, TypeError, RecursionError):
        return text
    return factored if len(factored) < len(text) else text


def _too_big(expr: sympy.Expr) -> bool:
    """Whether exact substitution could build a giant number (a huge integer power)."""
    for sub in sympy.preorder_traversal(expr):
        if isinstance(sub, sympy.Pow) and sub.exp.is_Number and abs(sub.exp) > MAX_EXACT_EXPONENT:
            return True
    return False


def _evaluate(lhs: sympy.Expr, rhs: sympy.Expr, model: SympyModel,
              points: list[dict[str, Fraction]], deadline: Deadline,
              ) -> tuple[tuple[tuple[int, float, float], ...], int | None]:
    """Both sides at up to REFUTE_POINTS sample points; the first point where they differ."""
    values, refuted_at = evaluate_sides([lhs], [rhs], model.symbols, points, deadline)
    return tuple((i, lv[0], rv[0]) for i, lv, rv in values), refuted_at


def evaluate_sides(lhs: list[sympy.Expr], rhs: list[sympy.Expr],
                   symbols: dict[str, sympy.Symbol], points: list[dict[str, Fraction]],
                   deadline: Deadline) -> tuple[list, int | None]:
    """The entries of both sides at up to REFUTE_POINTS points, and the first point where
    they differ. A difference is confirmed at twice the precision: a point where more digits
    change the values (`cos(e^134)`) is ill-conditioned even for mpmath, and skipped."""
    values: list[tuple[int, tuple[float, ...], tuple[float, ...]]] = []
    refuted_at = None
    for index, point in enumerate(points):
        if len(values) >= REFUTE_POINTS or deadline.left() <= 0:
            break
        subs = {symbols[k]: sympy.Rational(v.numerator, v.denominator)
                for k, v in point.items() if k in symbols}
        try:
            with time_limit(min(deadline.left(), 1.0)):
                lv = [mp_value(e, subs, PRECISION) for e in lhs]
                rv = [mp_value(e, subs, PRECISION) for e in rhs]
                differs = _differ(lv, rv)
                if differs:  # confirm it: the gap must dwarf what 30 more digits change
                    finer_l = [mp_value(e, subs, 2 * PRECISION) for e in lhs]
                    finer_r = [mp_value(e, subs, 2 * PRECISION) for e in rhs]
                    differs = any(
                        abs(fl - fr) > 1e-20 * max(1, abs(fl), abs(fr)) and
                        abs(fl - fr) > 1000 * (abs(fl - a) + abs(fr - b))
                        for a, b, fl, fr in zip(lv, rv, finer_l, finer_r, strict=True))
                    if not differs and _differ(lv, rv, 1e-12):
                        continue  # the 30-digit values are not to be trusted here
        except (Undefined, BudgetExceeded, ValueError, TypeError, ZeroDivisionError,
                OverflowError):
            continue
        values.append((index, tuple(float(v) for v in lv), tuple(float(v) for v in rv)))
        if refuted_at is None and differs:
            refuted_at = index
    return values, refuted_at


def _differ(a: list, b: list, relative: float = 1e-20) -> bool:
    return any(abs(x - y) > relative * max(1, abs(x), abs(y)) for x, y in zip(a, b,
                                                                              strict=True))


def _prove(difference: sympy.Expr, deadline: Deadline) -> tuple[str, str]:
    """Try cheap exact normal forms first, then simplify, within the deadline."""
    if difference == 0:
        return "proved", "both sides are the same expression once nodes are substituted"
    methods = (
        ("the rational normal form", lambda e: sympy.cancel(sympy.together(e))),
        ("the exponential form", lambda e: sympy.cancel(sympy.together(
            e.rewrite(sympy.exp)))),
        ("simplify", sympy.simplify),
        ("expansion", lambda e: sympy.expand(e.doit())),
    )
    for name, method in methods:
        if deadline.left() <= 0:
            break
        try:
            with time_limit(deadline.left()):
                if method(difference) == 0:
                    return "proved", f"SymPy proves it by {name}"
        except BudgetExceeded:
            return "unknown", "SymPy could not decide it within its time budget"
        except (ValueError, TypeError, NotImplementedError, AttributeError,
                RecursionError, sympy.PolynomialError):
            continue
    if deadline.left() <= 0:
        return "unknown", "SymPy could not decide it within its time budget"
    return "unknown", "SymPy could neither prove nor refute it"


def _at_point(model: SympyModel, lhs: sympy.Expr, rhs: sympy.Expr, step: Step,
              options: SymbolicOptions, deadline: Deadline) -> dict:
    """Compare both sides exactly at the worked point (or by the rounding rule for `≈`)."""
    if not model.d.at:
        return {}
    point = model.point()
    free = (lhs.free_symbols | rhs.free_symbols) - set(point)
    if free & set(model.symbols.values()):
        return {}
    try:
        with time_limit(max(0.05, min(deadline.left(), 2.0))):
            (lv, lf), (rv, rf) = _at_value(lhs, point), _at_value(rhs, point)
            if lf is None or rf is None:  # each side is evaluated, to say which is undefined
                return {"at_point": "undefined", "at_lhs": lf, "at_rhs": rf}
            lf, rf = _exact_float(lhs, point, lf), _exact_float(rhs, point, rf)
            if step.approximate:
                equal = _approximately(step, _exact_or(lhs, point, lv),
                                       _exact_or(rhs, point, rv), options)
            else:
                equal = _exactly_equal(lhs, rhs, point, lv, rv)
    except BudgetExceeded:
        return {}
    return {"at_point": "equal" if equal else "unequal", "at_lhs": lf, "at_rhs": rf}


def _at_value(expr: sympy.Expr, point: dict) -> tuple[object, float | None]:
    """A side's value at the worked point and as a float; (None, None) where undefined."""
    try:
        value = mp_value(expr, point, AT_PRECISION)
        return value, float(value)
    except (Undefined, ValueError, TypeError, ZeroDivisionError, OverflowError):
        return None, None


def _exact_float(expr: sympy.Expr, point: dict, approximate: float) -> float:
    """The value at the point for messages: exact where SymPy evaluates it (sin(pi) is 0,
    not 1e-51), else the 50-digit value."""
    if _too_big(expr):
        return approximate
    try:
        with time_limit(0.5):
            value = expr.xreplace(point)
            if value.is_number and value.is_zero:
                return 0.0
    except (BudgetExceeded, TypeError, ValueError):
        pass
    return approximate


def _exact_or(expr: sympy.Expr, point: dict, approximate):
    """The exact rational value of `expr` at `point` when it has one, else `approximate`."""
    if _too_big(expr):
        return approximate
    value = expr.xreplace(point)
    if value.is_Rational:
        return Fraction(int(value.p), int(value.q))
    return approximate


def _exactly_equal(lhs, rhs, point, lv, rv) -> bool:
    """Equal at the point: exactly when cheap, else to 40 significant digits."""
    if abs(lv - rv) > 1e-40 * max(1, abs(lv), abs(rv)):
        return False
    if _too_big(lhs) or _too_big(rhs):
        return True  # equal to 40 digits; exact arithmetic would build a giant number
    return True  # equal to 40 significant digits (exact for rational values at this size)
