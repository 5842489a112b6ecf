"""Typed results of a run: verdicts per step, per derivation and per run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    """The verdict of one step (spec section 5)."""

    HOLDS = "holds"
    HOLDS_AT_POINT = "holds-at-point"
    UNPROVEN = "unproven"
    WRONG = "wrong"
    DISAGREE = "disagree"
    ERROR = "error"

    @property
    def fails(self) -> bool:
        """Whether this verdict fails `check`."""
        return self in (Verdict.WRONG, Verdict.DISAGREE, Verdict.ERROR)


VERDICT_ORDER: tuple[Verdict, ...] = tuple(Verdict)
ENGINE_LABELS = {"sympy": "SymPy", "torch": "PyTorch", "jax": "JAX"}


@dataclass(frozen=True)
class EngineStats:
    """What one engine saw for one step over its sample points."""

    engine: str  # "sympy", "torch" or "jax"
    points: int  # sample points evaluated (worked point included)
    max_deviation: float | None  # largest |L - R| over those points; None if not computed


@dataclass(frozen=True)
class EngineValues:
    """Both sides of a step as one engine computes them at one point."""

    engine: str
    lhs: str
    rhs: str


@dataclass(frozen=True)
class Counterexample:
    """A point where a step fails, with each engine's values there."""

    point: tuple[tuple[str, str], ...]  # (input, value) in input order
    values: tuple[EngineValues, ...]
    actual: str | None = None  # what the left side really equals, e.g. "2·s"


@dataclass(frozen=True)
class StepResult:
    """One step `L = R` (or `L ≈ R`) and its verdict."""

    index: int  # from 1 within the derivation
    line: int  # line in the source file (within its cell for notebooks)
    lhs: str
    rhs: str
    verdict: Verdict
    detail: str
    approximate: bool = False
    lhs_latex: str = ""
    rhs_latex: str = ""
    engines: tuple[EngineStats, ...] = ()
    counterexample: Counterexample | None = None


@dataclass(frozen=True)
class GraphEdge:
    """An edge of the computational graph, labelled with its local gradient."""

    source: str
    target: str
    label: str  # e.g. "∂loss/∂s = 2·s"


@dataclass(frozen=True)
class Graph:
    """The computational graph of a derivation: inputs, nodes and edges."""

    inputs: tuple[str, ...]
    nodes: tuple[str, ...]
    edges: tuple[GraphEdge, ...]


@dataclass(frozen=True)
class DerivationResult:
    """One `derive` block: where it is, its steps and whether it passes."""

    source: str
    line: int
    title: str
    expect: str | None = None  # "wrong" or None
    error: str | None = None  # set when the block could not be checked at all
    steps: tuple[StepResult, ...] = ()
    cell: int | None = None  # notebook cell (1-based), None for Markdown and API text
    worked_point: tuple[tuple[str, str], ...] = ()
    graph: Graph | None = None
    sizes: tuple[str, ...] = field(default=())  # concrete sizes checked, for shaped blocks

    @property
    def ok(self) -> bool:
        """Whether the derivation passes `check`."""
        if self.error is not None:
            return False
        if any(s.verdict in (Verdict.ERROR, Verdict.DISAGREE) for s in self.steps):
            return False
        has_wrong = any(s.verdict is Verdict.WRONG for s in self.steps)
        return has_wrong if self.expect == "wrong" else not has_wrong

    @property
    def location(self) -> str:
        """`source:line`, or `source:cell N:line` for a notebook."""
        return location(self.source, self.line, self.cell)

    def failing_steps(self) -> tuple[StepResult, ...]:
        """The steps that make this derivation fail (none when it passes)."""
        if self.ok or self.error is not None:
            return ()
        if self.expect == "wrong":
            return tuple(s for s in self.steps if s.verdict in (Verdict.ERROR, Verdict.DISAGREE))
        return tuple(s for s in self.steps if s.verdict.fails)


def location(source: str, line: int, cell: int | None = None) -> str:
    """Format a source location as `path:line` or `path:cell N:line`."""
    if cell is None:
        return f"{source}:{line}"
    return f"{source}:cell {cell}:{line}"


@dataclass(frozen=True)
class RunResult:
    """All derivations of one run, in input order."""

    derivations: tuple[DerivationResult, ...]

    @property
    def ok(self) -> bool:
        """Whether every derivation passes."""
        return all(d.ok for d in self.derivations)

    def summary(self) -> dict[str, int]:
        """Step counts per verdict; a block that could not be checked counts as one error."""
        counts: Counter[str] = Counter({v.value: 0 for v in VERDICT_ORDER})
        for d in self.derivations:
            if d.error is not None:
                counts[Verdict.ERROR.value] += 1
            for s in d.steps:
                counts[s.verdict.value] += 1
        return {v.value: counts[v.value] for v in VERDICT_ORDER}
