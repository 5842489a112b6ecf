"""The Python API: check a block given as text, or a file, from Python code and tests."""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any

from derive.errors import UsageError
from derive.output import Problem, derivation_problems, format_point, render_check
from derive.results import ENGINE_LABELS, DerivationResult, RunResult, StepResult

if TYPE_CHECKING:
    from derive.runner import Options

_ALIASES = {"budget": "step_budget"}  # the command line's names for Options fields


class Result:
    """The verdicts of one derivation checked from Python.

    >>> result = derive.check("f := x^2\\ndf/dx = 2x")   # doctest: +SKIP
    >>> result.verdicts, result.ok                        # doctest: +SKIP
    (['holds'], True)
    """

    def __init__(self, derivation: DerivationResult) -> None:
        self.derivation = derivation

    @property
    def steps(self) -> tuple[StepResult, ...]:
        """Every step with its verdict, in order (none when the block is invalid)."""
        return self.derivation.steps

    @property
    def verdicts(self) -> list[str]:
        """The verdict of each step as a string: `["holds", "wrong"]`."""
        return [s.verdict.value for s in self.derivation.steps]

    @property
    def ok(self) -> bool:
        """Whether the derivation passes (`expect: wrong` taken into account)."""
        return self.derivation.ok

    @property
    def error(self) -> str | None:
        """Why the block could not be checked at all (`path:line:column: message`), or None."""
        return self.derivation.error

    @property
    def title(self) -> str:
        """The derivation's title."""
        return self.derivation.title

    def report(self) -> str:
        """What `derive check` prints for this derivation, with counterexample details."""
        return explain(self.derivation)

    def assert_ok(self) -> None:
        """Raise AssertionError with the `check` report unless the derivation passes.

        >>> derive.check("d(x^2)/dx = x").assert_ok()   # doctest: +SKIP
        AssertionError: <text>:1: wrong: #1, step 1: d(x^2)/dx = x — ...
        """
        if not self.ok:
            raise AssertionError(self.report())

    def __repr__(self) -> str:
        d = self.derivation
        if d.error is not None:
            return f"<Result {d.title!r} error: {d.error}>"
        state = "ok" if d.ok else "FAILED"
        return f"<Result {d.title!r} {state}: {', '.join(self.verdicts) or 'no steps'}>"


def options(**given: Any) -> Options:
    """Run options from keyword arguments: the fields of derive.Options (`budget` too).

    >>> options(samples=8, engines="torch")   # doctest: +SKIP
    Options(samples=8, ..., engines=('torch',), ...)
    """
    from derive.runner import Options

    names = {f.name for f in dataclasses.fields(Options)}
    values: dict[str, Any] = {}
    for key, value in given.items():
        name = _ALIASES.get(key, key)
        if name not in names:
            raise UsageError(f"unknown option `{key}` (choose from "
                             f"{', '.join(sorted(names | set(_ALIASES)))})")
        if name == "engines":
            value = _engines(value)
        values[name] = value
    return Options(**values)


def _engines(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    from derive.engines import ENGINES

    names = tuple(n.strip() for n in value.split(",")) if isinstance(value, str) else tuple(value)
    names = tuple(n for n in names if n)
    unknown = [n for n in names if n not in ENGINES]
    if unknown or not names:
        raise UsageError(f"unknown engine {unknown[0]!r} (choose from {', '.join(ENGINES)})"
                         if unknown else "name at least one engine")
    return names


def check(text: str, *, source: str = "<text>", **given: Any) -> Result:
    """Check one block given as text (the body of a `derive` fence, without the fences).

    Keyword options are those of derive.Options (samples, seed, rtol, atol, engines, …).

    >>> derive.check("title: square\\nd(x^2)/dx = 2x").verdicts   # doctest: +SKIP
    ['holds']
    """
    from derive.runner import check_text

    if not isinstance(text, str):
        raise UsageError(f"derive.check takes the block as a str, not {type(text).__name__}")
    return Result(check_text(text, options(**given), source=source))


def check_file(path: str | os.PathLike[str], **given: Any) -> RunResult:
    """Check every block of a Markdown file or notebook (or of every one below a directory).

    >>> run = derive.check_file("notes/01-chain-rule.md")   # doctest: +SKIP
    >>> run.ok, run.summary()["wrong"]                       # doctest: +SKIP
    (True, 0)
    """
    from derive.runner import check_files

    name = os.fspath(path)
    if not os.path.exists(name):
        raise UsageError(f"no such file or directory: {name}")
    return check_files([name], options(**given))


def explain(d: DerivationResult) -> str:
    """The `check` lines of one derivation, each failing step followed by its counterexample.

    >>> print(explain(derive.check("d(x^2)/dx = x").derivation))   # doctest: +SKIP
    <text>:1: wrong: #1, step 1: d(x^2)/dx = x — d(x^2)/dx is 2·x, not x
        counterexample: x = …
    """
    *lines, summary = render_check(RunResult((d,))).splitlines()
    out: list[str] = []
    for line, problem in zip(lines, derivation_problems(d), strict=False):
        out.append(line)
        step = _step_of(d, problem)
        if step is not None and step.verdict.fails:
            out.extend(_counterexample_lines(step))
    out.append(summary)
    return "\n".join(out) + "\n"


def _step_of(d: DerivationResult, problem: Problem) -> StepResult | None:
    for step in d.steps:
        if step.line == problem.line and problem.message.startswith(
                f"{d.title}, step {step.index}:"):
            return step
    return None


def _counterexample_lines(step: StepResult) -> list[str]:
    example = step.counterexample
    if example is None:
        return []
    lines = [f"    counterexample: {format_point(example.point)}"] if example.point else []
    labels = [ENGINE_LABELS.get(v.engine, v.engine) for v in example.values]
    width = max(map(len, labels), default=0)
    for label, v in zip(labels, example.values, strict=True):
        lines.append(f"      {label:<{width}}  left side {v.lhs}, right side {v.rhs}")
    if example.actual:
        lines.append(f"    the left side actually equals {example.actual}")
    return lines


__all__ = ["Result", "check", "check_file", "explain", "options"]
