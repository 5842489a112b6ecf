"""Tests of the Markdown reports: content, links, page names, determinism and atomic writes."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from derive.report import ReportRenderer, page_names, write_reports
from derive.report.markdown import MARKER, math, mermaid
from derive.results import (
    Counterexample,
    DerivationResult,
    EngineStats,
    EngineValues,
    Graph,
    GraphEdge,
    RunResult,
    StepResult,
    Verdict,
)

NOTES = "derive/notes/01-chain-rule.md"
PAGE = "derive-notes-01-chain-rule.md"
ENGINES = (EngineStats("sympy", 17, 0.0), EngineStats("torch", 17, 2.2e-16),
           EngineStats("jax", 17, None))


def passing() -> DerivationResult:
    graph = Graph(("w", "x", "y"), ("ŷ", "s", "loss"), (
        GraphEdge("w", "ŷ", "∂ŷ/∂w = x"), GraphEdge("ŷ", "s", "∂s/∂ŷ = 1"),
        GraphEdge("y", "s", "∂s/∂y = -1"), GraphEdge("s", "loss", "∂loss/∂s = 2·s"),
        GraphEdge("x", "ŷ", 'a "quoted" | piped (label) #1')))
    return DerivationResult(NOTES, 12, "Linear regression, d(loss)/dw",
                            worked_point=(("x", "1"), ("y", "2")), graph=graph, steps=(
        StepResult(1, 14, "d(loss)/ds", "2·s", Verdict.HOLDS, "identity",
                   lhs_latex=r"\frac{d\,loss}{ds}", rhs_latex=r"2 \cdot s", engines=ENGINES),
        StepResult(2, 15, "|s|", "2.0596", Verdict.HOLDS_AT_POINT, "rounds", approximate=True,
                   lhs_latex=r"\left|s\right|", rhs_latex="2.0596"),
        StepResult(3, 16, "a|b", "c", Verdict.HOLDS, "no LaTeX"),
    ))


def wrong() -> DerivationResult:
    example = Counterexample((("s", "1"), ("y", "-1/2")),
                             (EngineValues("sympy", "2", "1"), EngineValues("torch", "2.0", "1.0")),
                             actual="2·s")
    return DerivationResult(NOTES, 30, "power rule forgotten", steps=(
        StepResult(1, 33, "d(loss)/ds", "s", Verdict.WRONG, "d(s^2)/ds is 2·s, not s",
                   counterexample=example, engines=ENGINES[1:]),
        StepResult(2, 34, "d(s)/ds", "1", Verdict.UNPROVEN, "SymPy timed out"),
    ))


def notebook() -> DerivationResult:
    return DerivationResult("nb/intro.ipynb", 3, "in a notebook", cell=4, steps=(
        StepResult(1, 5, "x", "y", Verdict.DISAGREE, "SymPy proves it, PyTorch does not"),
    ))


def broken() -> DerivationResult:
    return DerivationResult("tests/x.md", 7, "broken", error="tests/x.md:9:5: expected `=`")


def expected_wrong() -> DerivationResult:
    return DerivationResult("tests/x.md", 20, "deliberate", expect="wrong", steps=(
        StepResult(1, 22, "d(x^2)/dx", "x", Verdict.HOLDS, ""),
    ))


def full_run() -> RunResult:
    return RunResult((passing(), wrong(), notebook(), broken(), expected_wrong()))


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def table_rows(markdown: str) -> list[list[str]]:
    """Rows of every table as a parser sees them (cells' inline source)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    rows: list[list[str]] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows and token.level >= 4:
            rows[-1].append(token.content)
    return rows


def test_write_reports_returns_index_and_one_page_per_source(cwd: Path) -> None:
    paths = write_reports(full_run(), Path("reports"))
    assert paths == [Path("reports/index.md"), Path("reports", PAGE),
                     Path("reports/nb-intro.ipynb.md"), Path("reports/tests-x.md")]
    for path in paths:
        assert read(path).startswith(MARKER + "\n")
    assert sorted(p.name for p in Path("reports").iterdir()) == sorted(p.name for p in paths)


def test_index_has_overall_verdict_and_links(cwd: Path) -> None:
    write_reports(full_run(), Path("reports"))
    index = read(Path("reports/index.md"))
    assert "❌ 3 of 8 steps fail, in 4 of 5 derivations" in index
    assert f"[derive/notes/01-chain-rule.md]({PAGE})" in index
    assert f"[Linear regression, d(loss)/dw]({PAGE}#linear-regression-d-loss-dw)" in index
    assert "[in a notebook](nb-intro.ipynb.md#in-a-notebook)" in index
    header, *rows = table_rows(index)[:4]
    assert header[:3] == ["Source", "Derivations", "Steps"] and "❌ wrong" in header
    assert rows[0][:6] == [f"[derive/notes/01-chain-rule.md]({PAGE})", "2", "5", "2", "1", "1"]


def test_index_of_a_passing_run(cwd: Path) -> None:
    write_reports(RunResult((passing(),)), Path("reports"))
    assert "\n✅ All 3 steps in 1 derivation pass\n" in read(Path("reports/index.md"))


def test_page_links_to_source_lines_relative_to_the_page(cwd: Path) -> None:
    write_reports(full_run(), Path("out/deep"))
    page = read(Path("out/deep", PAGE))
    assert f"[derive/notes/01-chain-rule.md:12](../../{NOTES}#L12)" in page
    assert f"(../../{NOTES}#L33)" in page  # the failing step's own line
    notebook_page = read(Path("out/deep/nb-intro.ipynb.md"))
    assert "[nb/intro.ipynb:cell 4:3](../../nb/intro.ipynb)" in notebook_page
    assert "[← index](index.md)" in page


def test_absolute_source_is_printed_without_link(cwd: Path) -> None:
    source = str(cwd / "abs.md")
    run = RunResult((DerivationResult(source, 2, "t", error=f"{source}:3: oops"),))
    write_reports(run, Path("reports"))
    (page,) = [p for p in Path("reports").iterdir() if p.name != "index.md"]
    text = read(page)
    assert "· " + source.replace("_", r"\_") + ":2\n" in text
    assert "](" not in text.split("## t")[1]


def test_page_shows_worked_point_graph_and_math(cwd: Path) -> None:
    write_reports(full_run(), Path("reports"))
    page = read(Path("reports", PAGE))
    assert '<a id="linear-regression-d-loss-dw"></a>\n\n## Linear regression, d(loss)/dw\n' in page
    assert "**Worked point:** `x = 1, y = 2`" in page
    graph = re.search(r"```mermaid\nflowchart LR\n(.*?)\n```", page, re.DOTALL)
    assert graph is not None
    lines = graph.group(1).splitlines()
    assert '  n0(["w"])' in lines and '  n3["ŷ"]' in lines
    assert '  n4 -->|"∂loss/∂s = 2·s"| n5' in lines
    assert '  n1 -->|"a #quot;quoted#quot; #124; piped (label) #35;1"| n3' in lines
    rows = table_rows(page)
    assert rows[0] == ["#", "Step", "Verdict", "SymPy", "PyTorch", "JAX"]
    assert rows[1] == ["1", r"$\frac{d\,loss}{ds} = 2 \cdot s$", "✅ holds", "0 (17 pts)",
                       "< 1e-15 (17 pts)", "— (17 pts)"]
    assert rows[2][1] == r"$\left\vert s\right\vert \approx 2.0596$"
    assert rows[2][2:] == ["✅ holds-at-point", "—", "—", "—"]
    assert rows[3][1] == "`a|b = c`"  # plain text in a code span; its pipe ends no cell
    assert r"| 3 | `a\|b = c` |" in page
    assert all(len(row) == len(rows[0]) for row in rows[:4])


def test_graph_is_skipped_without_edges(cwd: Path) -> None:
    run = RunResult((DerivationResult("a.md", 1, "t", graph=Graph(("x",), (), ())),))
    write_reports(run, Path("reports"))
    assert "mermaid" not in read(Path("reports/a.md"))


def test_failing_steps_get_a_subsection_with_counterexample(cwd: Path) -> None:
    write_reports(full_run(), Path("reports"))
    page = read(Path("reports", PAGE))
    section = page.split('<a id="power-rule-forgotten--step-1"></a>')[1]
    assert section.startswith("\n\n### Step 1: ❌ wrong\n")
    assert "d(s^2)/ds is 2·s, not s" in section
    assert "**Counterexample:** `s = 1, y = -1/2`" in section
    assert "| SymPy | `2` | `1` |\n| PyTorch | `2.0` | `1.0` |" in section
    assert "**What the left side actually equals:** `2·s`" in section
    assert "[❌ wrong](#power-rule-forgotten--step-1)" in page
    assert "### Step 2: ⚠️ unproven" in page and "SymPy timed out" in page
    assert "### Step 1: ✅" not in page  # passing steps get no subsection
    notebook_page = read(Path("reports/nb-intro.ipynb.md"))
    assert "### Step 1: ❌ disagree" in notebook_page


def test_block_error_and_expect_wrong_are_prominent(cwd: Path) -> None:
    write_reports(full_run(), Path("reports"))
    page = read(Path("reports/tests-x.md"))
    assert "> [!CAUTION]\n> **This derivation could not be checked:** tests/x.md:9:5: " in page
    assert r"expected \`=\`" in page
    assert "> **Expected to be wrong, but no step is wrong.**" in page
    assert "❌ fail (`expect: wrong`)" in page


def test_output_is_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_reports(full_run(), Path("one"))
    first = snapshot(Path("one"))
    write_reports(full_run(), Path("one"))
    assert snapshot(Path("one")) == first
    write_reports(full_run(), Path("two"))
    assert snapshot(Path("two")) == first


def test_page_names() -> None:
    assert page_names([NOTES, "nb/intro.ipynb", "./x/../y.md", "/abs/a b.md"]) == {
        NOTES: PAGE, "nb/intro.ipynb": "nb-intro.ipynb.md", "./x/../y.md": "x-__-y.md",
        "/abs/a b.md": "abs-a_b.md"}
    names = page_names(["a/b-c.md", "a-b/c.md", "A-B-C.md", "index.md", "d.md"])
    assert names["d.md"] == "d.md"
    assert names["index.md"] != "index.md" and names["index.md"].startswith("index-")
    assert len({n.casefold() for n in names.values()} | {"index.md"}) == 6
    assert all(re.fullmatch(r"a-b-c-[0-9a-f]{8}\.md", names[s].lower())
               for s in ("a/b-c.md", "a-b/c.md", "A-B-C.md"))


def test_duplicate_titles_get_distinct_anchors(cwd: Path) -> None:
    run = RunResult(tuple(DerivationResult("a.md", line, "σ same") for line in (1, 5)))
    write_reports(run, Path("reports"))
    page = read(Path("reports/a.md"))
    assert '<a id="same"></a>' in page and '<a id="same-2"></a>' in page


def test_render_failure_leaves_previous_files_untouched(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_reports(RunResult((passing(), notebook())), Path("reports"))
    before = snapshot(Path("reports"))

    def boom(self: ReportRenderer, obj: object, **context: object) -> str:
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(ReportRenderer, "_render_Counterexample", boom)
    with pytest.raises(RuntimeError, match="renderer broke"):
        write_reports(full_run(), Path("reports"))  # the wrong step's page fails to render
    assert snapshot(Path("reports")) == before


def test_write_failure_leaves_previous_files_and_no_temporaries(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_reports(RunResult((passing(),)), Path("reports"))
    before = snapshot(Path("reports"))
    real_open = Path.open
    opened: list[str] = []

    def flaky_open(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        opened.append(self.name)
        if len(opened) == 3:
            raise OSError("disk full")
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", flaky_open)
    with pytest.raises(OSError, match="disk full"):
        write_reports(full_run(), Path("reports"))
    assert snapshot(Path("reports")) == before


def test_vanished_pages_are_removed_and_unmarked_files_kept(cwd: Path) -> None:
    out = Path("reports")
    write_reports(full_run(), out)
    (out / "mine.md").write_text("# my notes\n" + MARKER + "\n", encoding="utf-8")
    (out / "keep.txt").write_text(MARKER + "\n", encoding="utf-8")
    written = write_reports(RunResult((passing(),)), out)
    assert sorted(p.name for p in out.iterdir()) == [PAGE, "index.md", "keep.txt", "mine.md"]
    assert written == [out / "index.md", out / PAGE]


def test_out_dir_is_created(cwd: Path) -> None:
    write_reports(RunResult(()), Path("a/b/c"))
    assert "No derivations found" in read(Path("a/b/c/index.md"))


def test_renderer_dispatches_on_type_through_the_mro() -> None:
    class MoreStats(EngineStats):
        pass

    renderer = ReportRenderer(Path(os.curdir))
    assert renderer.render(Verdict.WRONG) == "❌ wrong"
    assert renderer.render(MoreStats("torch", 1, 0.5)) == "0.5 (1 pt)"
    with pytest.raises(TypeError, match="no Markdown renderer for int"):
        renderer.render(3)


def test_escaping_helpers() -> None:
    assert math(r" a | b \| c $ ") == r"$a \vert b \Vert c \$$"
    assert math("|x|") == r"$\vert x\vert$"
    assert mermaid('<b>&`x`\n"') == '"#lt;b#gt;#amp;#96;x#96; #quot;"'
