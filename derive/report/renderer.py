"""The Markdown renderer: one `_render_<ClassName>` method per record, as in SymPy's printers."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from derive.latex import name as latex_name
from derive.output import format_point, step_equation
from derive.report import markdown as md
from derive.report.pages import INDEX, Index, SourcePage
from derive.results import (
    ENGINE_LABELS,
    VERDICT_ORDER,
    Counterexample,
    DerivationResult,
    EngineStats,
    Graph,
    RunResult,
    StepResult,
    Verdict,
    location,
)

ICONS = {Verdict.HOLDS: "✅", Verdict.HOLDS_AT_POINT: "✅", Verdict.UNPROVEN: "⚠️",
         Verdict.WRONG: "❌", Verdict.DISAGREE: "❌", Verdict.ERROR: "❌"}
LINKED_SUFFIXES = (".md", ".ipynb")  # other sources (API text) are no file to link to


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _explained(step: StepResult) -> bool:
    return step.verdict.fails or step.verdict is Verdict.UNPROVEN


def _result(ok: bool) -> str:
    return "✅ pass" if ok else "❌ fail"


class ReportRenderer:
    """Renders report records as Markdown: `render(obj)` calls `_render_<type name>`."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)

    def render(self, obj: object, **context: Any) -> str:
        """Markdown for `obj`, by the first class in its MRO that has a `_render_` method."""
        for cls in type(obj).__mro__:
            method = getattr(self, f"_render_{cls.__name__}", None)
            if method is not None:
                return method(obj, **context)
        raise TypeError(f"no Markdown renderer for {type(obj).__name__}")

    # -- pages ---------------------------------------------------------------------------

    def _render_Index(self, index: Index) -> str:
        blocks = [md.MARKER, "# derive report", self.render(index.run)]
        if index.pages:
            header = ["Steps", *(self.render(v) for v in VERDICT_ORDER), "Result"]
            sources = [[f"[{md.text(p.source)}]({quote(p.name)})", str(len(p.derivations)),
                        *self._counts(p.derivations), _result(all(d.ok for d in p.derivations))]
                       for p in index.pages]
            derivations = [[f"[{md.text(d.title)}]({quote(p.name)}#{a})",
                            md.code(d.location, table=True), *self._counts((d,)), _result(d.ok)]
                           for p in index.pages for d, a in p.sections()]
            blocks += ["## Sources", md.table(["Source", "Derivations", *header], sources),
                       "## Derivations", md.table(["Derivation", "Location", *header], derivations)]
        return "\n\n".join(blocks) + "\n"

    def _render_SourcePage(self, page: SourcePage) -> str:
        blocks = [md.MARKER, f"# {md.text(page.source)}",
                  f"[← index]({INDEX}) · {self.render(RunResult(page.derivations))}"]
        blocks += [self.render(d, anchor=a) for d, a in page.sections()]
        return "\n\n".join(blocks) + "\n"

    def _render_RunResult(self, run: RunResult) -> str:
        counts = run.summary()
        total, count = sum(counts.values()), len(run.derivations)
        if not count:
            return "ℹ️ No derivations found."
        if run.ok:
            line = f"✅ All {_plural(total, 'step')} in {_plural(count, 'derivation')} pass"
            unproven = counts[Verdict.UNPROVEN.value]
            return line + (f" ({unproven} unproven ⚠️)" if unproven else "")
        failed = sum(not d.ok for d in run.derivations)
        steps = sum(len(d.failing_steps()) + (d.error is not None) for d in run.derivations)
        where = f"{failed} of {_plural(count, 'derivation')}"
        return f"❌ {steps} of {_plural(total, 'step')} fail, in {where}" if steps else (
            f"❌ {where} fail")

    def _counts(self, derivations: tuple[DerivationResult, ...]) -> list[str]:
        counts = RunResult(derivations).summary()
        return [str(sum(counts.values())), *(str(n) if n else "" for n in counts.values())]

    # -- one derivation ------------------------------------------------------------------

    def _link(self, source: str, line: int | None) -> str | None:
        if os.path.isabs(source) or source.startswith(("/", "\\")):
            return None
        if not source.lower().endswith(LINKED_SUFFIXES):
            return None
        try:
            relative = os.path.relpath(source, self.out_dir)
        except ValueError:  # another drive on Windows
            return None
        target = quote(relative.replace(os.sep, "/"))
        return target if line is None else f"{target}#L{line}"

    def _where(self, source: str, line: int, cell: int | None) -> str:
        """`path:line` as a link to the source (a notebook has no line anchors)."""
        target = self._link(source, line if cell is None else None)
        label = md.text(location(source, line, cell))
        return f"[{label}]({target})" if target else label

    def _equation(self, step: StepResult, table: bool = False) -> str:
        if step.lhs_latex.strip() and step.rhs_latex.strip():
            relation = r"\approx" if step.approximate else "="
            return md.math(f"{step.lhs_latex} {relation} {step.rhs_latex}")
        return md.code(step_equation(step), table=table)

    def _render_DerivationResult(self, d: DerivationResult, anchor: str) -> str:
        status = _result(d.ok) + ("" if d.expect != "wrong" else " (`expect: wrong`)")
        blocks = [f'<a id="{anchor}"></a>', f"## {md.text(d.title)}",
                  f"{status} · {self._where(d.source, d.line, d.cell)}"]
        if d.error is not None:
            blocks.append(f"> [!CAUTION]\n> **This derivation could not be checked:** "
                          f"{md.text(d.error)}")
        if d.expect == "wrong":
            blocks.append("> [!NOTE]\n> A deliberate mistake, kept to warn students: it passes "
                          "when at least one step is wrong.")
            if d.error is None and not any(s.verdict is Verdict.WRONG for s in d.steps):
                blocks.append("> [!CAUTION]\n> **Expected to be wrong, but no step is wrong.**")
        if d.worked_point:
            blocks.append(f"**Worked point:** {md.code(format_point(d.worked_point))}")
        if d.sizes:
            blocks.append("**Sizes checked:** " + ", ".join(md.code(s) for s in d.sizes))
        graph = self.render(d.graph) if d.graph is not None else ""
        if graph:
            blocks += ["**Computational graph** (edges labelled with local gradients)", graph]
        if d.steps:
            blocks += [self._steps_table(d, anchor)]
            blocks += [self.render(s, anchor=anchor, where=self._where(d.source, s.line, d.cell))
                       for s in d.steps if _explained(s)]
        return "\n\n".join(blocks)

    def _steps_table(self, d: DerivationResult, anchor: str) -> str:
        engines = list(dict.fromkeys(e.engine for s in d.steps for e in s.engines))
        rows = []
        for s in d.steps:
            verdict = self.render(s.verdict)
            if _explained(s):
                verdict = f"[{verdict}](#{anchor}--step-{s.index})"
            seen = {e.engine: e for e in s.engines}
            rows.append([str(s.index), self._equation(s, table=True), verdict,
                         *(self.render(seen[e]) if e in seen else "—" for e in engines)])
        header = ["#", "Step", "Verdict", *(md.text(ENGINE_LABELS.get(e, e)) for e in engines)]
        note = ("Engine columns: the largest deviation \\|L − R\\| over the sample points "
                "(its order of magnitude when tiny), and how many points were used.")
        return md.table(header, rows) + ("\n\n" + note if engines else "")

    def _render_StepResult(self, step: StepResult, anchor: str, where: str) -> str:
        blocks = [f'<a id="{anchor}--step-{step.index}"></a>',
                  f"### Step {step.index}: {self.render(step.verdict)}",
                  f"{self._equation(step)} · {where}"]
        if step.detail.strip():
            blocks.append(md.text(step.detail))
        if step.counterexample is not None:
            blocks.append(self.render(step.counterexample))
        return "\n\n".join(blocks)

    # -- small records -------------------------------------------------------------------

    def _render_Counterexample(self, example: Counterexample) -> str:
        blocks = []
        if example.point and any(v.startswith("[") for _k, v in example.point):
            shown = ", ".join(f"${latex_name(k)} = {latex_value(v)}$" for k, v in example.point)
            blocks.append(f"**Counterexample:** {shown}")
        elif example.point:
            blocks.append(f"**Counterexample:** {md.code(format_point(example.point))}")
        if example.values:
            rows = [[md.text(ENGINE_LABELS.get(v.engine, v.engine)), _value_cell(v.lhs),
                     _value_cell(v.rhs)]
                    for v in example.values]
            blocks.append(md.table(["Engine", "Left side", "Right side"], rows))
        if example.actual:
            blocks.append(f"**What the left side actually equals:** {md.code(example.actual)}")
        return "\n\n".join(blocks)

    def _render_Graph(self, graph: Graph) -> str:
        if not graph.edges:
            return ""
        ids: dict[str, str] = {}
        lines = ["```mermaid", "flowchart LR"]
        ends = [name for e in graph.edges for name in (e.source, e.target)]
        for name in (*graph.inputs, *graph.nodes, *ends):
            if name not in ids:
                ids[name] = f"n{len(ids)}"
                shape = ("([", "])") if name in graph.inputs else ("[", "]")
                lines.append(f"  {ids[name]}{shape[0]}{md.mermaid(name)}{shape[1]}")
        for e in graph.edges:
            label = f"|{md.mermaid(e.label)}|" if e.label.strip() else ""
            lines.append(f"  {ids[e.source]} -->{label} {ids[e.target]}")
        return "\n".join([*lines, "```"])

    def _render_Verdict(self, verdict: Verdict) -> str:
        return f"{ICONS[verdict]} {verdict.value}"

    def _render_EngineStats(self, stats: EngineStats) -> str:
        deviation = "—" if stats.max_deviation is None else deviation_bound(stats.max_deviation)
        return f"{deviation} ({stats.points} {'pt' if stats.points == 1 else 'pts'})"


def deviation_bound(value: float) -> str:
    """A deviation as its order of magnitude (`0`, `< 1e-15`, `3.5`): the last bits of a float64
    result differ between CPUs, and reports must be byte-identical wherever they are made."""
    if value == 0:
        return "0"
    if value != value or value == float("inf"):
        return "∞"
    if value >= 1e-6:
        return f"{value:.2g}"
    return f"< 1e{math.ceil(math.log10(value))}"


def latex_value(text: str) -> str:
    """`[[1, 2], [3, 4]]` as a LaTeX bmatrix, `[1, 2]` as a column; a number as it is."""
    if not text.startswith("["):
        return text
    inner = text[1:-1]
    if inner.startswith("["):
        rows = [row.strip(" []").split(", ") for row in inner.split("], [")]
    else:
        rows = [[entry] for entry in inner.split(", ")]
    body = r" \\ ".join(" & ".join(row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def _value_cell(text: str) -> str:
    return f"${latex_value(text)}$" if text.startswith("[") else md.code(text, table=True)
