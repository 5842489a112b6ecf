"""Run the checks: find blocks, resolve them, SymPy first, then the numeric engines."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from derive.engines import DEFAULT_ENGINES, Engine, load_engine
from derive.errors import BlockError, SourceError
from derive.instances import instantiate
from derive.model import Derivation, resolve
from derive.numeric import Evaluator
from derive.parser import HEADER, parse_block
from derive.pretty import number
from derive.prover import SymbolicBlock, SymbolicOptions, SymbolicStep, check_symbolic
from derive.results import DerivationResult, RunResult, StepResult, Verdict
from derive.sampling import candidates
from derive.sources import BlockText, SourceFile, expand_paths, read_source
from derive.verdicts import PointSet, StepJudge, Tolerance

CANDIDATE_FACTOR = 3  # candidates drawn per sample wanted, so undefined points can be redrawn


@dataclass(frozen=True)
class Options:
    """Everything a run can be told: samples, seed, tolerances, engines, budgets."""

    samples: int = 16
    seed: int = 0
    rtol: float = 1e-9
    atol: float = 1e-12
    engines: tuple[str, ...] = DEFAULT_ENGINES
    step_budget: float = 4.0
    jobs: int = 1
    cache: bool = False
    cache_dir: Path = field(default=Path(".derive-cache"))

    def key(self) -> str:
        """What in these options changes verdicts (for the cache)."""
        return (f"samples={self.samples};seed={self.seed};rtol={self.rtol};atol={self.atol};"
                f"engines={','.join(self.engines)};budget={self.step_budget}")


@dataclass(frozen=True)
class Prepared:
    """A block ready to check, or the reason it cannot be."""

    text: BlockText
    title: str
    derivation: Derivation | None
    error: str | None


def default_title(blocks: Sequence[BlockText]) -> list[str]:
    """Each block's title: its `title:` line, else the heading above it, made unique by `#N`."""
    raw: list[str | None] = []
    for block in blocks:
        title = None
        for line in block.text.split("\n"):
            match = HEADER.match(line)
            if match and match.group(1) == "title":
                title = match.group(2).strip()
        raw.append(title)
    bases = [t if t is not None else (b.heading or "") for t, b in zip(raw, blocks, strict=True)]
    counts = Counter(bases)
    titles = []
    for number_, (given, base) in enumerate(zip(raw, bases, strict=True), start=1):
        if given is not None:
            titles.append(given)
        elif not base:
            titles.append(f"#{number_}")
        elif counts[base] > 1:
            titles.append(f"{base} #{number_}")
        else:
            titles.append(base)
    return titles


def prepare(blocks: Sequence[BlockText]) -> list[Prepared]:
    """Parse and resolve each block; a bad block becomes an error, the others go on."""
    out = []
    for block, title in zip(blocks, default_title(blocks), strict=True):
        try:
            parsed = parse_block(block.text, first_line=block.first_line,
                                 heading=block.heading, fence_line=block.fence_line)
            out.append(Prepared(block, title, resolve(parsed, title), None))
        except BlockError as exc:
            out.append(Prepared(block, title, None, exc.located(block.source, block.cell)))
        except RecursionError:
            out.append(Prepared(block, title, None,
                                f"{block.source}:{block.first_line}: the block is nested too "
                                "deeply to check"))
    return out


def points_for(d: Derivation, options: Options) -> PointSet:
    """The worked point (exact, if every value is rational) and the sample candidates."""
    worked = worked_values(d)
    return PointSet(worked, candidates(d, options.samples * CANDIDATE_FACTOR, options.seed))


def worked_values(d: Derivation) -> dict[str, Fraction] | None:
    """The `at:` point as exact numbers where possible (pi and e as close fractions)."""
    if not d.at:
        return None
    from derive.symbolic import SympyModel

    model = SympyModel(d)
    values = {}
    for name, value in model.point().items():
        exact = value.evalf(40)
        values[name.name] = Fraction(str(exact)) if not value.is_Rational else Fraction(
            int(value.p), int(value.q))
    # inputs the worked point leaves out are given the midpoint of their domain
    for name in d.inputs:
        values.setdefault(name, Fraction(0))
    return values


def worked_text(d: Derivation) -> str:
    """`x = 1, y = 2, w = 1` as the block writes its worked point."""
    from derive.pretty import notes
    from derive.symbolic import SympyModel

    model = SympyModel(d)
    return ", ".join(f"{k} = {notes(model.graph(v))}" for k, v in d.at)


def symbolic_phase(item: Prepared, options: Options) -> SymbolicBlock:
    """SymPy's part for one block (runs in a worker process when --jobs > 1)."""
    d = item.derivation
    assert d is not None
    points = points_for(d, options)
    return check_symbolic(d, instantiate(d, options.seed), points.candidates,
                          SymbolicOptions(options.step_budget, options.rtol, options.atol))


class Checker:
    """Checks prepared blocks: SymPy first, then every numeric engine, then verdicts."""

    def __init__(self, options: Options,
                 progress: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.progress = progress
        self._engines: list[Engine] | None = None

    def engines(self) -> list[Engine]:
        """The numeric engines, loaded on first use."""
        if self._engines is None:
            self._engines = [load_engine(name) for name in self.options.engines]
        return self._engines

    def check(self, items: list[Prepared]) -> list[DerivationResult]:
        """A result for every prepared block, in order."""
        symbolic = [symbolic_phase(item, self.options) if item.derivation else None
                    for item in items]
        results = []
        for item, sym in zip(items, symbolic, strict=True):
            if self.progress:
                self.progress(item.title)
            results.append(self.finish(item, sym))
        return results

    def finish(self, item: Prepared, sym: SymbolicBlock | None) -> DerivationResult:
        """Combine SymPy's findings with the engines' values into a DerivationResult."""
        block = item.text
        base = {"source": block.source, "line": block.fence_line, "title": item.title,
                "cell": block.cell}
        d = item.derivation
        if d is None or sym is None:
            expect = "wrong" if re.search(r"^\s*expect\s*:\s*wrong", block.text, re.M) else None
            return DerivationResult(**base, expect=expect, error=item.error)
        points = points_for(d, self.options)
        instance = instantiate(d, self.options.seed)
        numeric = [Evaluator(engine, instance).steps(d.steps, points.all())
                   for engine in self.engines()]
        tolerance = Tolerance(self.options.rtol, self.options.atol)
        text = worked_text(d) if d.at else ""
        steps = tuple(
            _safe_judge(d, step, sym_step, numeric, points, tolerance, self.options, text)
            for step, sym_step in zip(d.steps, sym.steps, strict=True)
        )
        from derive.results import Graph

        graph = Graph(d.inputs, tuple(n.name for n in d.nodes), sym.edges)
        worked = tuple((k, _value_text(v)) for k, v in _worked_pairs(d))
        return DerivationResult(**base, expect=d.expect, steps=steps, worked_point=worked,
                                graph=graph)


def _worked_pairs(d: Derivation):
    from derive.pretty import notes
    from derive.symbolic import SympyModel

    model = SympyModel(d)
    return [(k, notes(model.graph(v))) for k, v in d.at]


def _value_text(v: str) -> str:
    return v


def _safe_judge(d, step, sym_step: SymbolicStep, numeric, points, tolerance, options,
                text) -> StepResult:
    judge = StepJudge(d, step, sym_step, numeric, points, tolerance, options.samples, text)
    return judge.result()


def check_files(paths: list[str], options: Options,
                progress: Callable[[str], None] | None = None) -> RunResult:
    """Check every block of every file below `paths`."""
    checker = Checker(options, progress)
    results: list[DerivationResult] = []
    for entry in expand_paths(paths):
        if isinstance(entry, SourceError):
            results.append(_source_error(entry))
            continue
        results.extend(check_source(entry, checker))
    return RunResult(tuple(results))


def check_source(entry: SourceFile, checker: Checker) -> list[DerivationResult]:
    """The results of one file (one error entry if it cannot be read)."""
    try:
        blocks = read_source(entry.path, entry.label)
    except SourceError as exc:
        return [_source_error(exc)]
    return checker.check(prepare(blocks))


def _source_error(exc: SourceError) -> DerivationResult:
    return DerivationResult(source=exc.source, line=1, title=Path(exc.source).name,
                            error=f"{exc.source}:1: {exc.message}")


def check_text(text: str, options: Options | None = None, source: str = "<text>",
               ) -> DerivationResult:
    """Check one block given as text (the body of a `derive` fence)."""
    block = BlockText(source, 1, 1, text, None)
    [result] = Checker(options or Options()).check(prepare([block]))
    return result


__all__ = ["Checker", "Options", "check_files", "check_source", "check_text", "number",
           "Verdict"]
