"""Run the checks: find blocks, resolve them, SymPy in workers, then the numeric engines."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

from derive.budget import BudgetExceeded, check_size, time_limit
from derive.cache import VerdictCache, block_key
from derive.engines import DEFAULT_ENGINES, Engine, load_engine
from derive.errors import BlockError, SourceError
from derive.evidence import SymbolicBlock, SymbolicOptions, SymbolicStep
from derive.instances import instantiate
from derive.matrix_numeric import MatrixEvaluator, group_point
from derive.model import Derivation, resolve
from derive.numeric import Evaluator, SideValues
from derive.parser import HEADER, parse_block
from derive.results import DerivationResult, Graph, RunResult, StepResult, Verdict
from derive.sampling import candidates
from derive.shapes import ShapeChecker, Sizes, size_choices
from derive.sources import BlockText, SourceFile, expand_paths, read_source
from derive.verdicts import ENGINE_LABELS, PointSet, StepJudge, Tolerance
from derive.worked import worked_pairs, worked_values

CANDIDATE_FACTOR = 3  # candidates drawn per sample wanted, so undefined points can be redrawn
REDRAW_FACTOR = 12  # candidates per sample when too many of the first ones were undefined
HARD_LIMIT_MARGIN = 10.0  # seconds a worker may overrun its budget before it is killed
READ_LIMIT = 15.0  # seconds to find the blocks of one file (Markdown parsing is pure Python)


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
        return (f"samples={self.samples};seed={self.seed};rtol={self.rtol!r};"
                f"atol={self.atol!r};engines={','.join(self.engines)};"
                f"budget={self.step_budget!r}")

    def symbolic(self) -> SymbolicOptions:
        """The part of these options SymPy needs."""
        return SymbolicOptions(self.step_budget, self.rtol, self.atol)


@dataclass(frozen=True)
class Prepared:
    """A block ready to check, or the reason it cannot be."""

    text: BlockText
    title: str
    derivation: Derivation | None
    error: str | None

    def placeholder(self) -> DerivationResult:
        """The result's location fields, with no verdicts yet."""
        block = self.text
        expect = "wrong" if re.search(r"^\s*expect\s*:\s*wrong", block.text, re.M) else None
        return DerivationResult(source=block.source, line=block.fence_line, title=self.title,
                                cell=block.cell, expect=expect, error=self.error)


def default_titles(blocks: Sequence[BlockText]) -> list[str]:
    """Each block's title: its `title:` line, else the heading above it, made unique by `#N`."""
    given: list[str | None] = []
    for block in blocks:
        title = None
        for line in block.text.split("\n"):
            match = HEADER.match(line)
            if match and match.group(1) == "title":
                title = match.group(2).strip()
        given.append(title)
    bases = [printable(t if t is not None else (b.heading or ""))
             for t, b in zip(given, blocks, strict=True)]
    counts = Counter(bases)
    titles = []
    for position, (title, base) in enumerate(zip(given, bases, strict=True), start=1):
        if title is not None:
            titles.append(base)
        elif not base:
            titles.append(f"#{position}")
        else:
            titles.append(f"{base} #{position}" if counts[base] > 1 else base)
    return titles



def prepare(blocks: Sequence[BlockText]) -> list[Prepared]:
    """Parse and resolve each block; a bad block becomes an error, the others go on."""
    out = []
    for block, title in zip(blocks, default_titles(blocks), strict=True):
        try:
            parsed = parse_block(block.text, first_line=block.first_line,
                                 heading=block.heading, fence_line=block.fence_line)
            derivation = resolve(parsed, title)
            check_size(derivation)
            if derivation.shaped:
                for sizes in size_choices(derivation):
                    ShapeChecker(derivation, sizes).check_steps()
            out.append(Prepared(block, title, derivation, None))
        except BlockError as exc:
            out.append(Prepared(block, title, None,
                                printable(exc.located(block.source, block.cell))))
        except RecursionError:
            out.append(Prepared(block, title, None,
                                f"{block.source}:{block.first_line}: the block is nested too "
                                "deeply to check"))
    return out


def points_for(d: Derivation, options: Options, factor: int = CANDIDATE_FACTOR) -> PointSet:
    """The worked point and the random candidates, the same in every process (a larger
    factor draws more candidates; the first ones stay the same)."""
    return PointSet(worked_values(d), candidates(d, options.samples * factor, options.seed))


def shaped_points(d: Derivation, sizes: Sizes, options: Options,
                  factor: int = CANDIDATE_FACTOR) -> PointSet:
    """Sample points over every entry of a shaped block at one choice of sizes."""
    from derive.sampling import shaped_candidates

    return PointSet(None, shaped_candidates(d, sizes, options.samples * factor, options.seed))


def symbolic_phase(derivation: Derivation, options: Options) -> list[SymbolicBlock]:
    """SymPy's part for one block, one result per choice of sizes (runs in a worker)."""
    from derive.matrix_prover import check_shaped_symbolic
    from derive.prover import check_symbolic

    instance = instantiate(derivation, options.seed)
    if derivation.shaped:
        return [check_shaped_symbolic(derivation, instance,
                                      shaped_points(derivation, sizes, options).candidates,
                                      options.symbolic(), sizes)
                for sizes in size_choices(derivation)]
    points = points_for(derivation, options)
    return [check_symbolic(derivation, instance, points.candidates, options.symbolic())]


def _stopped(derivation: Derivation, reason: str) -> list[SymbolicBlock]:
    """What SymPy contributes when its worker had to be stopped."""
    step = SymbolicStep("unknown", reason)
    count = len(size_choices(derivation)) if derivation.shaped else 1
    return [SymbolicBlock(tuple(step for _ in derivation.steps), ())] * count


class Checker:
    """Checks prepared blocks: SymPy in workers, then every numeric engine, then verdicts."""

    def __init__(self, options: Options | None = None,
                 progress: Callable[[int, int, str], None] | None = None) -> None:
        self.options = options or Options()
        self.progress = progress
        self._engines: list[Engine] | None = None
        self._pool = None
        self.cache = VerdictCache(self.options.cache_dir) if self.options.cache else None

    def engines(self) -> list[Engine]:
        """The numeric engines, loaded on first use (never when every verdict is cached)."""
        if self._engines is None:
            self._engines = [load_engine(name) for name in self.options.engines]
        return self._engines

    def pool(self):
        """The SymPy worker pool, started on first use."""
        if self._pool is None:
            import derive.matrix_prover
            import derive.prover  # noqa: F401 - SymPy, imported once before the fork
            from derive.pool import WorkerPool

            self._pool = WorkerPool(self.options.jobs)
        return self._pool

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def check(self, items: list[Prepared]) -> list[DerivationResult]:
        """A result for every prepared block, in input order."""
        results: list[DerivationResult | None] = [None] * len(items)
        pending: list[tuple[int, str | None, Future]] = []
        for index, item in enumerate(items):
            if item.derivation is None:
                results[index] = item.placeholder()
                continue
            key = block_key(item.derivation.text, self.options.key()) if self.cache else None
            cached = self.cache.get(key, item.placeholder()) if key else None
            if cached is not None:
                results[index] = cached
                continue
            budget = self.options.step_budget * len(item.derivation.steps) + HARD_LIMIT_MARGIN
            future = self.pool().submit(symbolic_phase, item.derivation, self.options,
                                        timeout=budget)
            pending.append((index, key, future))
        if pending:
            self.engines()  # import torch and jax while the workers run SymPy
        for done, (index, key, future) in enumerate(pending, start=1):
            item = items[index]
            assert item.derivation is not None
            if self.progress:
                self.progress(done, len(pending), item.title)
            sym = self._symbolic_result(item.derivation, future)
            result = self.finish(item, sym)
            results[index] = result
            if key and self.cache and not depends_on_load(result):
                self.cache.put(key, result)
        return [r for r in results if r is not None]

    def _symbolic_result(self, derivation: Derivation, future: Future) -> list[SymbolicBlock]:
        from derive.pool import ProcessExpired, TimeoutError

        try:
            return self.pool().wait(future)
        except TimeoutError:
            return _stopped(derivation, "SymPy was stopped: the block exceeded its time budget")
        except MemoryError:
            return _stopped(derivation, "SymPy was stopped: it ran out of memory")
        except ProcessExpired as exc:  # the worker died (out of memory in C code, a signal)
            return _stopped(derivation, f"SymPy's worker died ({exc})")
        except Exception as exc:  # SymPy failed on this block (a RecursionError, a broken pool)
            return _stopped(derivation, f"SymPy failed on this block ({type(exc).__name__})")

    def finish(self, item: Prepared, sym: list[SymbolicBlock]) -> DerivationResult:
        """Combine SymPy's findings with the engines' values into a DerivationResult."""
        d = item.derivation
        assert d is not None
        base = item.placeholder()
        worked = worked_pairs(d)
        if d.shaped:
            runs = [self._judge_shaped(d, sizes, block)
                    for sizes, block in zip(size_choices(d), sym, strict=True)]
            steps = _worst(runs, [s.text() for s in size_choices(d)])
            sizes_text = tuple(s.text() for s in size_choices(d) if s.values)
        else:
            steps = self._judge(d, sym[0], lambda factor: points_for(d, self.options, factor),
                                lambda engine, inst, points: Evaluator(engine, inst).steps(
                                    d.steps, points), ", ".join(f"{k} = {v}" for k, v in worked))
            sizes_text = ()
        graph = Graph(d.inputs, tuple(n.name for n in d.nodes), sym[0].edges)
        return DerivationResult(source=base.source, line=base.line, title=base.title,
                                cell=base.cell, expect=d.expect, steps=steps,
                                worked_point=worked, graph=graph, sizes=sizes_text)

    def _judge(self, d: Derivation, sym: SymbolicBlock, points_of: Callable[[int], PointSet],
               evaluate, worked_text: str, shapes=None,
               describe_point=None) -> tuple[StepResult, ...]:
        """Verdicts of every step; when undefined points leave a step with fewer than
        `samples` valid points, more candidates are drawn (up to REDRAW_FACTOR·samples)."""
        instance = instantiate(d, self.options.seed)
        tolerance = Tolerance(self.options.rtol, self.options.atol)
        for factor in (CANDIDATE_FACTOR, REDRAW_FACTOR):
            points = points_of(factor)
            numeric: list[SideValues] = []
            limit = self.options.step_budget * len(d.steps) + HARD_LIMIT_MARGIN
            for engine in self.engines():
                label = ENGINE_LABELS.get(engine.name, engine.name)
                try:
                    with time_limit(limit):
                        numeric.append(evaluate(engine, instance, points.all()))
                except BudgetExceeded:
                    reason = f"{label} ran out of time: the block took more than {limit:g} s"
                    return tuple(_engine_error(step, reason) for step in d.steps)
                except Exception as exc:  # an engine that cannot evaluate this block
                    reason = (f"{label} could not evaluate the block: "
                              f"{type(exc).__name__}: {exc}")
                    return tuple(_engine_error(step, reason) for step in d.steps)
            judges = [StepJudge(d, step, sym_step, numeric, points, tolerance,
                                self.options.samples, worked_text,
                                shape=(shapes or {}).get(step.index),
                                describe_point=describe_point)
                      for step, sym_step in zip(d.steps, sym.steps, strict=True)]
            if all(len(j.valid) >= self.options.samples or j.step.approximate
                   for j in judges):
                break
        return tuple(j.result() for j in judges)

    def _judge_shaped(self, d: Derivation, sizes: Sizes,
                      sym: SymbolicBlock) -> tuple[StepResult, ...]:
        checker = ShapeChecker(d, sizes)
        return self._judge(
            d, sym, lambda factor: shaped_points(d, sizes, self.options, factor),
            lambda engine, inst, points: MatrixEvaluator(engine, inst, sizes).steps(
                d.steps, points),
            "", shapes=checker.check_steps(),
            describe_point=lambda point: group_point(point, d, checker.shapes))


def _worst(runs: list[tuple[StepResult, ...]], sizes: list[str]) -> tuple[StepResult, ...]:
    """Per step, the result at the first size where it fails (else at the first size)."""
    out = []
    for per_size in zip(*runs, strict=True):
        chosen = per_size[0]
        for size, result in zip(sizes, per_size, strict=True):
            if result.verdict.fails or result.verdict is Verdict.UNPROVEN:
                detail = f"at {size}: {result.detail}" if size else result.detail
                chosen = replace(result, detail=detail)
                break
        out.append(chosen)
    return tuple(out)


# What a step's detail says when its verdict came from a time or memory limit: such a
# verdict depends on how busy the machine was, so it is never cached.
LOAD_DEPENDENT = ("time budget", "ran out of time", "was stopped", "worker died",
                  "could not handle this step", "out of memory")


def depends_on_load(result: DerivationResult) -> bool:
    """Whether any verdict of `result` came from a time or memory limit."""
    return any(phrase in step.detail for step in result.steps for phrase in LOAD_DEPENDENT)


def _engine_error(step, reason: str) -> StepResult:
    return StepResult(index=step.index, line=step.line, lhs=step.lhs_text, rhs=step.rhs_text,
                      verdict=Verdict.ERROR, detail=reason, approximate=step.approximate)


def check_files(paths: list[str], options: Options | None = None,
                progress: Callable[[int, int, str], None] | None = None) -> RunResult:
    """Check every block of every file below `paths`, in order."""
    checker = Checker(options, progress)
    try:
        items: list[Prepared] = []
        errors: dict[int, DerivationResult] = {}
        for entry in expand_paths(paths):
            blocks = _read(entry)
            if isinstance(blocks, DerivationResult):
                errors[len(items) + len(errors)] = blocks
            else:
                items.extend(prepare(blocks))
        checked = iter(checker.check(items))
        total = len(items) + len(errors)
        return RunResult(tuple(errors[i] if i in errors else next(checked)
                               for i in range(total)))
    finally:
        checker.close()


def _read(entry: SourceFile | SourceError) -> list[BlockText] | DerivationResult:
    if isinstance(entry, SourceError):
        return _source_error(entry)
    label = printable(entry.label)
    try:
        with time_limit(READ_LIMIT):
            return read_source(entry.path, label)
    except SourceError as exc:
        return _source_error(exc)
    except BudgetExceeded:
        return _source_error(SourceError(label, f"took more than {READ_LIMIT:g} s to read; "
                                         "skipped"))
    except (RecursionError, MemoryError):
        return _source_error(SourceError(label, "is nested too deeply to read; skipped"))


def _source_error(exc: SourceError) -> DerivationResult:
    source = printable(exc.source)
    return DerivationResult(source=source, line=1, title=Path(source).name,
                            error=f"{source}:1: {printable(exc.message)}")


_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def printable(text: str) -> str:
    """`text` as one line that cannot move a terminal's cursor or reorder what it shows:
    line breaks become spaces; control, line-separator and bidi characters become `\\u…`."""
    return "".join(
        f"\\u{ord(c):04x}" if c != "\t" and (ord(c) in _BIDI or unicodedata.category(c) in
                                            ("Cc", "Zl", "Zp")) else c
        for c in _LINE_BREAKS.sub(" ", text))


_SHARED: list[Checker] = []


def shared_checker(options: Options | None = None) -> Checker:
    """The process's Checker for these options: engines and workers start once; a call with
    other options stops the previous Checker's workers first."""
    options = options or Options()
    if _SHARED and _SHARED[0].options == options:
        return _SHARED[0]
    while _SHARED:
        _SHARED.pop().close()
    _SHARED.append(Checker(options))
    return _SHARED[0]


def check_text(text: str, options: Options | None = None, source: str = "<text>",
               ) -> DerivationResult:
    """Check one block given as text (the body of a `derive` fence)."""
    block = BlockText(source, 1, 1, text, None)
    [result] = shared_checker(options).check(prepare([block]))
    return result
