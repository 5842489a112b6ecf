"""Text renderers of a run for `derive check`: compiler-style lines, GitHub annotations, JSON."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from derive.results import DerivationResult, RunResult, StepResult, Verdict, location

# What follows `source:` in DerivationResult.error: `[cell N:]line[:column]: message`.
_ERROR_AT = re.compile(
    r"(?:cell (?P<cell>\d+):)?(?P<line>\d+)(?::(?P<column>\d+))?: (?P<message>.*)", re.DOTALL
)
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")


@dataclass(frozen=True)
class Problem:
    """One reported line: a failing or unproven step, or a block that fails as a whole."""

    source: str
    line: int
    cell: int | None
    column: int | None
    verdict: str  # a Verdict value
    message: str  # `title, step K: L = R — reason` or `title — message`
    warning: bool = False

    @property
    def location(self) -> str:
        """`path:line[:column]`, or `path:cell N:line[:column]` for a notebook."""
        where = location(self.source, self.line, self.cell)
        return where if self.column is None else f"{where}:{self.column}"


def one_line(text: str) -> str:
    """`text` with its line breaks (and the blanks around them) turned into single spaces."""
    return _NEWLINES.sub(" ", text).strip()


def step_equation(step: StepResult) -> str:
    """The step as plain text: `L = R`, or `L ≈ R` for an approximate step."""
    return f"{step.lhs} {'≈' if step.approximate else '='} {step.rhs}"


def format_point(point: tuple[tuple[str, str], ...]) -> str:
    """A point as `x = 1, y = 2`."""
    return ", ".join(f"{name} = {value}" for name, value in point)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _with_reason(text: str, reason: str) -> str:
    reason = one_line(reason)
    return f"{text} — {reason}" if reason else text


def _block_error(d: DerivationResult, error: str) -> Problem:
    rest = error.removeprefix(f"{d.source}:") if error.startswith(f"{d.source}:") else None
    match = _ERROR_AT.fullmatch(rest) if rest is not None else None
    if match is None:
        message = rest.lstrip() if rest is not None else error
        return Problem(d.source, d.line, d.cell, None, Verdict.ERROR.value,
                       _with_reason(d.title, message))
    cell = int(match["cell"]) if match["cell"] else d.cell
    column = int(match["column"]) if match["column"] else None
    return Problem(d.source, int(match["line"]), cell, column, Verdict.ERROR.value,
                   _with_reason(d.title, match["message"]))


def derivation_problems(d: DerivationResult) -> list[Problem]:
    """What `check` says about one derivation, in source order (nothing when it passes)."""
    if d.error is not None:
        return [_block_error(d, d.error)]
    problems = []
    if d.expect == "wrong" and not any(s.verdict is Verdict.WRONG for s in d.steps):
        problems.append(Problem(
            d.source, d.line, d.cell, None, Verdict.ERROR.value,
            f"{d.title} — expected to be wrong (expect: wrong), but no step is wrong"))
    failing = set(d.failing_steps())
    for step in d.steps:
        warning = step.verdict is Verdict.UNPROVEN
        if step in failing or warning:
            text = f"{d.title}, step {step.index}: {one_line(step_equation(step))}"
            problems.append(Problem(d.source, step.line, d.cell, None, step.verdict.value,
                                    _with_reason(text, step.detail), warning))
    return problems


def run_problems(run: RunResult) -> list[Problem]:
    """Every problem of the run, derivation by derivation."""
    return [p for d in run.derivations for p in derivation_problems(d)]


def summary_line(run: RunResult) -> str:
    """`derive: 23 steps in 9 derivations: 20 holds, 1 wrong — FAILED` (zero counts left out)."""
    counts = run.summary()
    text = (f"derive: {_plural(sum(counts.values()), 'step')} in "
            f"{_plural(len(run.derivations), 'derivation')}")
    parts = [f"{count} {verdict}" for verdict, count in counts.items() if count]
    if parts:
        text += ": " + ", ".join(parts)
    return text + (" — ok" if run.ok else " — FAILED")


def render_check(run: RunResult) -> str:
    """`path:line: VERDICT: title, step K: L = R — reason` per failing (or unproven) step."""
    lines = [f"{p.location}: {p.verdict}: {p.message}" for p in run_problems(run)]
    lines.append(summary_line(run))
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(p: Problem) -> str:
    props = [f"file={_escape_property(p.source)}"]
    message = p.message
    if p.cell is None:
        props.append(f"line={p.line}")
        if p.column is not None:
            props.append(f"col={p.column}")
    else:  # a line within a cell is no line of the .ipynb file: say it in the message
        message = f"cell {p.cell}:{p.line}: {message}"
    props.append(f"title={_escape_property(f'derive {p.verdict}')}")
    kind = "warning" if p.warning else "error"
    return f"::{kind} {','.join(props)}::{_escape_data(message)}"


def render_github(run: RunResult) -> str:
    """GitHub Actions workflow commands: `::error` per failing step, `::warning` per unproven."""
    lines = [_annotation(p) for p in run_problems(run)]
    lines.append(summary_line(run))
    return "\n".join(lines) + "\n"


def _step_json(step: StepResult) -> dict[str, object]:
    return {"index": step.index, "line": step.line, "lhs": step.lhs, "rhs": step.rhs,
            "verdict": step.verdict.value, "detail": step.detail}


def derivation_json(d: DerivationResult) -> dict[str, object]:
    """One derivation as spec section 7 has it (`cell` only for notebooks)."""
    item: dict[str, object] = {"source": d.source, "line": d.line}
    if d.cell is not None:
        item["cell"] = d.cell
    item.update(title=d.title, expect=d.expect, ok=d.ok, error=d.error,
                steps=[] if d.error is not None else [_step_json(s) for s in d.steps])
    return item


def render_json(run: RunResult) -> str:
    """The JSON document of spec section 7, indented, with a trailing newline."""
    document = {"version": 1,
                "derivations": [derivation_json(d) for d in run.derivations],
                "summary": run.summary()}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
