"""Combine SymPy's findings and each engine's values into one verdict per step."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from derive.evidence import SymbolicStep, format_value, number
from derive.model import Derivation, Step
from derive.numeric import SideValues
from derive.results import (
    ENGINE_LABELS,
    Counterexample,
    EngineStats,
    EngineValues,
    StepResult,
    Verdict,
)


@dataclass(frozen=True)
class Tolerance:
    """`|L - R| <= atol + rtol·max(|L|, |R|)`."""

    rtol: float = 1e-9
    atol: float = 1e-12

    def close(self, a: Value, b: Value) -> bool:
        """Whether two finite values (numbers, or matrices entry by entry) agree."""
        return all(abs(x - y) <= self.atol + self.rtol * max(abs(x), abs(y))
                   for x, y in zip(entries(a), entries(b), strict=True))


@dataclass(frozen=True)
class PointSet:
    """The points every engine evaluates: the worked point (if any), the candidates, then a
    probe beside each candidate (every coordinate moved by 2⁻³⁰ of itself), which tells a
    point where float64 cannot be trusted (`cos(e^45)`) from one where it can."""

    worked: dict[str, Fraction] | None
    candidates: list[dict[str, Fraction]]

    def all(self) -> list[dict[str, Fraction]]:
        """Worked point first (if any), then the candidates, then their probes."""
        if "_all" not in self.__dict__:  # computed once: the judges ask for it often
            self.__dict__["_all"] = (
                ([self.worked] if self.worked is not None else []) + self.candidates +
                [{k: v * PROBE for k, v in point.items()} for point in self.candidates])
        return self.__dict__["_all"]

    @property
    def offset(self) -> int:
        """Index of the first candidate among `all()`."""
        return 1 if self.worked is not None else 0

    def probe(self, j: int) -> int:
        """Index among `all()` of the probe beside candidate j."""
        return j + len(self.candidates)


PROBE = 1 + Fraction(1, 2**30)
PROBE_RTOL, PROBE_ATOL = 1e-4, 1e-6  # how far a probe may move a well-conditioned value


Value = float | tuple[float, ...]  # a number, or the entries of a matrix (row-major)


def entries(value: Value) -> tuple[float, ...]:
    """The entries of a value (a number is one entry)."""
    return value if isinstance(value, tuple) else (value,)


def _finite(*values: Value) -> bool:
    return all(math.isfinite(x) for v in values for x in entries(v))


def show(value: Value, shape: tuple[int, int] | None = None) -> str:
    """A value for messages: a number, `[a, b]` for a vector, `[[a, b], [c, d]]` for a matrix."""
    items = entries(value)
    if len(items) == 1:
        return number(items[0])
    rows, cols = shape if shape is not None else (len(items), 1)
    if cols == 1:
        return "[" + ", ".join(number(x) for x in items) + "]"
    return "[" + ", ".join("[" + ", ".join(number(x) for x in items[r * cols:(r + 1) * cols])
                           + "]" for r in range(rows)) + "]"


def _names(engines: list[str]) -> str:
    labels = [ENGINE_LABELS.get(e, e) for e in engines]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


class StepJudge:
    """Decides the verdict of one step from every engine's evidence."""

    def __init__(self, derivation: Derivation, step: Step, sym: SymbolicStep,
                 numeric: list[SideValues], points: PointSet, tolerance: Tolerance,
                 samples: int, worked_text: str, shape: tuple[int, int] | None = None,
                 describe_point=None) -> None:
        self.d = derivation
        self.step = step
        self.sym = sym
        self.numeric = numeric
        self.points = points
        self.tol = tolerance
        self.samples = samples
        self.worked_text = worked_text
        self.shape = shape
        self.describe_point = describe_point or (
            lambda point: tuple((k, number(float(v))) for k, v in point.items()))
        i = step.index - 1
        self.lhs = {v.engine: v.lhs[i] for v in numeric}
        self.rhs = {v.engine: v.rhs[i] for v in numeric}
        self.engines = [v.engine for v in numeric]
        self.valid = self._valid_points()

    def _valid_points(self) -> list[int]:
        """Candidate indices (into all()) where every engine has both sides finite, the
        point is well-conditioned (its probe moves no value much) and the engines agree on
        each side. Ill-conditioned points are redrawn like undefined ones; points where
        the engines contradict each other are kept in `unstable`."""
        found: list[int] = []
        self.unstable: list[int] = []
        self.ill_conditioned = 0
        for j in range(self.points.offset, self.points.offset + len(self.points.candidates)):
            if not all(_finite(self.lhs[e][j], self.rhs[e][j]) for e in self.engines):
                continue
            if not self._well_conditioned(j):
                self.ill_conditioned += 1
                continue
            if self._engines_differ(j) is not None:
                self.unstable.append(j)
                continue
            found.append(j)
            if len(found) >= self.samples:
                break
        return found

    def _well_conditioned(self, j: int) -> bool:
        k = self.points.probe(j)
        for e in self.engines:
            for table in (self.lhs, self.rhs):
                a, b = table[e][j], table[e][k]
                if not _finite(b) or any(
                        abs(x - y) > PROBE_ATOL + PROBE_RTOL * max(abs(x), abs(y))
                        for x, y in zip(entries(a), entries(b), strict=True)):
                    return False
        return True

    def _engines_differ(self, j: int) -> str | None:
        """Which side two engines compute differently at point j, if any."""
        first = self.engines[0]
        for side, table in (("left", self.lhs), ("right", self.rhs)):
            for other in self.engines[1:]:
                a, b = table[first][j], table[other][j]
                if _finite(a, b) and not self.tol.close(a, b):
                    return (f"{ENGINE_LABELS[first]} and {ENGINE_LABELS[other]} compute "
                            f"different values of the {side} side at {self._point_text(j)}: "
                            f"{self._show(a)} and {self._show(b)}")
        return None

    # --- evidence ------------------------------------------------------------------------------

    def identity(self, engine: str) -> bool:
        """Whether `engine` finds L = R at every valid sample point."""
        return all(self.tol.close(self.lhs[engine][j], self.rhs[engine][j]) for j in self.valid)

    def mismatch(self, engine: str) -> int | None:
        """The first valid point where `engine` finds L ≠ R."""
        return next((j for j in self.valid
                     if not self.tol.close(self.lhs[engine][j], self.rhs[engine][j])), None)

    def at_worked(self, engine: str) -> bool | None:
        """Whether `engine` finds L = R at the worked point; None if undefined there.
        (An `≈` step is judged by SymPy's value, which the engines must reproduce.)"""
        if self.points.worked is None:
            return None
        lv, rv = self.lhs[engine][0], self.rhs[engine][0]
        if not _finite(lv, rv):
            return None
        return self.tol.close(lv, rv)

    def cross_check(self) -> str | None:
        """Where two engines compute different values for the same side, say so: at the
        worked point, or at most sample points (a few ill-conditioned points are redrawn)."""
        if self.points.worked is not None:
            differ = self._engines_differ(0)
            if differ is not None:
                return differ
        if self.unstable and len(self.unstable) >= max(1, len(self.valid)):
            return self._engines_differ(self.unstable[0])
        offset = self.points.offset
        valid = set(self.valid)
        for index, lv, rv in self.sym.values:
            j = index + offset
            if j not in valid:
                continue
            for e in self.engines:
                for side, mine, theirs in (("left", lv, self.lhs[e][j]),
                                           ("right", rv, self.rhs[e][j])):
                    if _finite(theirs) and not self.tol.close(mine, theirs):
                        return (f"SymPy and {ENGINE_LABELS[e]} compute different values of "
                                f"the {side} side at {self._point_text(j)}: "
                                f"{self._show(mine)} and {self._show(theirs)}")
        return None

    def _point_text(self, j: int) -> str:
        if self.points.worked is not None and j == 0:
            return f"the worked point ({self.worked_text})"
        point = self.points.all()[j]
        return ", ".join(f"{k} = {v}" for k, v in self.describe_point(point))

    def _show(self, value: Value) -> str:
        return show(value, self.shape)

    # --- the verdict ---------------------------------------------------------------------------

    def result(self) -> StepResult:
        verdict, detail, example = self._decide()
        return StepResult(
            index=self.step.index, line=self.step.line, lhs=self.step.lhs_text,
            rhs=self.step.rhs_text, verdict=verdict, detail=detail,
            approximate=self.step.approximate, lhs_latex=self.sym.lhs_latex,
            rhs_latex=self.sym.rhs_latex, engines=self._stats(verdict),
            counterexample=self._counterexample(example) if example is not None else None,
        )

    def _decide(self) -> tuple[Verdict, str, int | None]:
        sym, names = self.sym, _names(self.engines)
        if sym.status == "error":
            return Verdict.ERROR, sym.reason, None
        worked = [self.at_worked(e) for e in self.engines]
        if self.step.approximate:
            return self._approximate(worked)
        cross = self.cross_check()
        if cross is not None:
            return Verdict.DISAGREE, cross, None
        if not self.valid:
            return (Verdict.ERROR, "no valid sample point: at every point drawn a side is "
                    "undefined or not real (check `assume:`)", None)
        identity = [self.identity(e) for e in self.engines]
        n = len(self.valid) + (1 if self.points.worked is not None else 0)
        if sym.status == "proved":
            if all(identity):
                return Verdict.HOLDS, f"{sym.reason}; {names} agree at {n} points", None
            bad = self.engines[identity.index(False)]
            j = self.mismatch(bad)
            return (Verdict.DISAGREE, f"{sym.reason}, but {ENGINE_LABELS[bad]} finds the sides "
                    f"differ at {self._point_text(j)}", j)
        if sym.at_point == "undefined" or (self.points.worked is not None and None in worked
                                           and sym.at_point is not None):
            return (Verdict.ERROR, f"a side is undefined at the worked point "
                    f"({self.worked_text}): {self.step.lhs_text} = "
                    f"{format_value(sym.at_lhs)}, {self.step.rhs_text} = "
                    f"{format_value(sym.at_rhs)}", None)
        if sym.at_point == "equal":
            if all(worked):
                return (Verdict.HOLDS_AT_POINT, f"not an identity, but at the worked point "
                        f"({self.worked_text}) both sides are {format_value(sym.at_lhs)}; "
                        f"{names} agree there", None)
            bad = self.engines[worked.index(False)]
            return (Verdict.DISAGREE, f"SymPy finds both sides equal at the worked point, but "
                    f"{ENGINE_LABELS[bad]} does not", 0)
        if (sym.status == "unknown" and sym.at_point is None and
                self.points.worked is not None and all(worked)):
            return (Verdict.UNPROVEN, f"{sym.reason}; {names} find both sides equal at the "
                    f"worked point ({self.worked_text}) but SymPy could not confirm it", None)
        mismatches = [self.mismatch(e) for e in self.engines]
        if sym.status == "refuted" or (sym.status == "unknown" and all(
                m is not None for m in mismatches)):
            if all(not i for i in identity) or sym.at_point == "unequal":
                example = self._example_point(mismatches)
                return Verdict.WRONG, self._wrong_detail(example), example
            good = self.engines[identity.index(True)]
            return (Verdict.DISAGREE, f"SymPy finds the sides differ, but "
                    f"{ENGINE_LABELS[good]} finds them equal at every sample point",
                    self._example_point(mismatches))
        if all(identity):
            return (Verdict.UNPROVEN, f"{sym.reason}; {names} agree at {n} points",
                    None)
        bad = self.engines[identity.index(False)]
        return (Verdict.DISAGREE, f"{ENGINE_LABELS[bad]} finds the sides differ, but the "
                "other engines do not", self.mismatch(bad))

    def _approximate(self, worked: list[bool | None]) -> tuple[Verdict, str, int | None]:
        sym = self.sym
        if sym.at_point is None:
            return (Verdict.ERROR, "an approximate step needs the worked point to give a value "
                    "to every input it uses", None)
        if sym.at_point == "undefined" or None in worked:
            return (Verdict.ERROR, f"a side is undefined at the worked point "
                    f"({self.worked_text})", None)
        value = format_value(sym.at_lhs)
        for e in self.engines:  # the engines must compute SymPy's values at the point
            for mine, theirs in ((sym.at_lhs, self.lhs[e][0]), (sym.at_rhs, self.rhs[e][0])):
                if mine is None or not self.tol.close(mine, theirs):
                    return (Verdict.DISAGREE, f"at the worked point ({self.worked_text}) SymPy "
                            f"computes {format_value(mine)} but {ENGINE_LABELS[e]} "
                            f"{self._show(theirs)}", 0)
        if sym.at_point == "equal":
            return (Verdict.HOLDS_AT_POINT, f"at the worked point ({self.worked_text}) "
                    f"{self.step.lhs_text} = {value} ≈ {self.step.rhs_text}", None)
        exact = repr(sym.at_lhs)
        return (Verdict.WRONG, f"at the worked point ({self.worked_text}) "
                f"{self.step.lhs_text} = {exact}…, which is not ≈ {self.step.rhs_text}", 0)

    def _wrong_detail(self, example: int | None) -> str:
        sym, step = self.sym, self.step
        if sym.at_point == "unequal":
            return (f"at the worked point ({self.worked_text}) {step.lhs_text} = "
                    f"{format_value(sym.at_lhs)}, not {format_value(sym.at_rhs)}")
        if sym.actual and sym.actual.replace(" ", "") != step.lhs_text.replace(" ", ""):
            return f"{step.lhs_text} is {sym.actual}, not {step.rhs_text}"
        text = f"{step.lhs_text} is not {step.rhs_text}"
        if example is not None:  # no short formula to show: show the values instead
            first = self.engines[0]
            text += (f": at {self._point_text(example)} the left side is "
                     f"{self._show(self.lhs[first][example])} and the right side "
                     f"{self._show(self.rhs[first][example])}")
        return text

    def _example_point(self, mismatches: list[int | None]) -> int | None:
        if self.sym.at_point == "unequal":
            return 0
        if self.sym.refuted_at is not None:
            j = self.sym.refuted_at + self.points.offset
            if all(_finite(self.lhs[e][j], self.rhs[e][j]) for e in self.engines):
                return j
        return next((m for m in mismatches if m is not None), None)

    def _counterexample(self, j: int) -> Counterexample:
        shown = self.describe_point(self.points.all()[j])
        values = []
        sym_value = self._sympy_at(j)
        if sym_value is not None:
            values.append(EngineValues("sympy", *sym_value))
        for e in self.engines:
            values.append(EngineValues(e, self._show(self.lhs[e][j]),
                                       self._show(self.rhs[e][j])))
        return Counterexample(shown, tuple(values), self.sym.actual)

    def _sympy_at(self, j: int) -> tuple[str, str] | None:
        if self.points.worked is not None and j == 0:
            if self.sym.at_lhs is None:
                return None
            return format_value(self.sym.at_lhs), format_value(self.sym.at_rhs)
        for index, lv, rv in self.sym.values:
            if index + self.points.offset == j:
                return self._show(lv), self._show(rv)
        return None

    def _stats(self, verdict: Verdict) -> tuple[EngineStats, ...]:
        """Each engine's largest |L - R| over the points the verdict rests on: the worked
        point for `holds-at-point`, else the worked point and the valid samples."""
        at_point = verdict is Verdict.HOLDS_AT_POINT or self.step.approximate
        worked = [0] if self.points.worked is not None else []
        indices = worked if at_point else worked + self.valid
        if at_point:
            sym_pairs = ([(self.sym.at_lhs, self.sym.at_rhs)]
                         if self.sym.at_lhs is not None and self.sym.at_rhs is not None else [])
        else:
            sym_pairs = [(lv, rv) for _i, lv, rv in self.sym.values]
        if self.step.approximate and worked and self.sym.at_lhs is not None:
            # a rounded value differs from the exact one by design: show instead how far
            # each engine's left side is from SymPy's
            stats = [EngineStats("sympy", 1, None)]
            for e in self.engines:
                pairs = ([(self.lhs[e][0], self.sym.at_lhs)]
                         if _finite(self.lhs[e][0]) else [])
                stats.append(EngineStats(e, len(pairs), _deviation(pairs)))
            return tuple(stats)
        stats = [EngineStats("sympy", len(sym_pairs), _deviation(sym_pairs))]
        for e in self.engines:
            pairs = [(self.lhs[e][j], self.rhs[e][j]) for j in indices
                     if _finite(self.lhs[e][j], self.rhs[e][j])]
            stats.append(EngineStats(e, len(pairs), _deviation(pairs)))
        return tuple(stats)


def _deviation(pairs: list[tuple[Value, Value]]) -> float | None:
    return max((abs(x - y) for a, b in pairs for x, y in zip(entries(a), entries(b),
                                                              strict=True)), default=None)
