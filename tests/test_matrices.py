"""Vectors and matrices (spec section 9): identities hold, their usual mistakes are caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.runner import Options, check_files
from derive.shapes import ShapeChecker, size_choices

BLOCKS = {
    "a·x": ("shape: a n, x n\nd(aᵀ·x)/dx = a", ["holds"]),
    "quadratic form": ("shape: x n, A n×n\nd(xᵀ·A·x)/dx = (A + Aᵀ)·x", ["holds"]),
    "trace": ("shape: A n×n, X n×n\nd(tr(A·X))/dX = Aᵀ", ["holds"]),
    "log det": ("shape: X n×n\nd(log(det(X)))/dX = (X^-1)ᵀ", ["holds"]),
    "linear layer (section 9)": (
        "shape: W 2×3, x 3, y 2, b 2\nŷ := W·x + b\nloss := sum((ŷ - y)^2)\n"
        "dloss/dŷ = 2(ŷ - y)\ndloss/dW = 2(ŷ - y)·xᵀ\ndloss/dx = Wᵀ·dloss/dŷ\n"
        "dloss/db = 2(ŷ - y)", ["holds"] * 4),
    "batch mse": ("shape: X N×d, w d, y N\n"
                  "d(1/N·sum((X·w - y)^2))/dw = 2/N·Xᵀ·(X·w - y)", ["holds"]),
    "softmax Jacobian": ("shape: z 3\np := softmax(z)\ndp/dz = diag(p) - p·pᵀ", ["holds"]),
    "softmax cross-entropy": (
        "shape: z 3, y 3\nassume: sum(y) = 1\np := softmax(z)\nloss := -sum(y ⊙ log(p))\n"
        "dloss/dz = p - y", ["holds"]),
    "two-layer tanh": (
        "shape: W1 h×d, b1 h, W2 1×h, x d\na := tanh(W1·x + b1)\nŷ := W2·a\n"
        "loss := (ŷ - y)^2\ndloss/dW2 = 2(ŷ - y)·aᵀ\n"
        "dloss/dW1 = ((W2ᵀ·2(ŷ - y)) ⊙ (1 - a^2))·xᵀ", ["holds", "holds"]),
    "identity sized by context": (
        "shape: A n×n, x n\nd((A + I)·x)/dx = A + I\n"
        "d(xᵀ·(I - A)·x)/dx = ((I - A) + (I - A)ᵀ)·x\nI·x = x", ["holds"] * 3),
    "softmax Jacobian through I": (
        "shape: z 3\np := softmax(z)\ndp/dz = diag(p)·(I - outer(1 + 0·p, p))", ["holds"]),
    # the usual mistakes
    "the identity forgotten": ("shape: A n×n, x n\nd((A + I)·x)/dx = A", ["wrong"]),
    "transposes swapped": ("shape: W n×n, x n\nŷ := W·x\nloss := sum(ŷ^2)\n"
                           "dloss/dx = W·(2ŷ)", ["wrong"]),
    "A instead of A + Aᵀ": ("shape: x n, A n×n\nd(xᵀ·A·x)/dx = 2·A·x", ["wrong"]),
    "missing 1/N": ("shape: X N×d, w d, y N\n"
                    "d(1/N·sum((X·w - y)^2))/dw = 2·Xᵀ·(X·w - y)", ["wrong"]),
    "p - y without the constraint": (
        "shape: z 3, y 3\np := softmax(z)\nloss := -sum(y ⊙ log(p))\ndloss/dz = p - y",
        ["wrong"]),
    "a Jacobian where a gradient belongs": (
        "shape: x 3\nf := sum(x^2)\ndf/dx = 2·x", ["holds"]),
}
SHAPE_ERRORS = {
    "inner sizes": ("shape: W 2×3, x 2\nŷ := W·x\nd(sum(ŷ))/dx = x",
                    "2×3 · 2: inner sizes 3 and 2 differ"),
    "sides differ": ("shape: W 2×3, x 3, y 2\nŷ := W·x\nloss := sum((ŷ - y)^2)\n"
                     "dloss/dW = 2·x·(ŷ - y)ᵀ", "the sides have different shapes: 2×3 and 3×2"),
    "no inverse": ("shape: W 2×3\nf := sum(W^-1)\nf = 1", "only a square matrix has an inverse"),
    "an identity with nothing to size it": ("shape: x 2\nf := sum(x)·I\nf = 1",
                                             "`I` is sized by what it meets"),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("matrices")
    text = "".join(f"```derive\ntitle: {title}\n{body}\n```\n\n"
                   for title, (body, _) in {**BLOCKS, **SHAPE_ERRORS}.items())
    (folder / "layers.md").write_text(text, encoding="utf-8")
    run = check_files([str(folder)], Options(samples=8, jobs=2))
    return {d.title: d for d in run.derivations}


@pytest.mark.parametrize("title", list(BLOCKS))
def test_verdicts(results, title: str) -> None:
    d = results[title]
    assert d.error is None, d.error
    assert [s.verdict.value for s in d.steps] == BLOCKS[title][1], [s.detail for s in d.steps]


@pytest.mark.parametrize("title", list(SHAPE_ERRORS))
def test_shape_errors_name_both_shapes(results, title: str) -> None:
    d = results[title]
    assert d.error is not None and SHAPE_ERRORS[title][1] in d.error


def test_a_wrong_matrix_step_shows_a_readable_counterexample(results) -> None:
    step = results["transposes swapped"].steps[0]
    example = step.counterexample
    assert example is not None
    point = dict(example.point)
    assert point["W"].startswith("[[") and point["x"].startswith("[")
    engines = {v.engine for v in example.values}
    assert {"sympy", "torch", "jax"} <= engines
    assert all(v.lhs.startswith("[") for v in example.values)
    assert "the left side is [" in step.detail


def test_named_sizes_are_checked_at_several_sizes_and_reported(results) -> None:
    d = results["quadratic form"]
    assert len(d.sizes) == 2 and d.sizes[0] != d.sizes[1]
    assert all(text.startswith("n = ") for text in d.sizes)


def test_a_size_name_in_an_expression_is_that_number(results) -> None:
    assert results["batch mse"].steps[0].verdict.value == "holds"
    assert results["missing 1/N"].steps[0].verdict.value == "wrong"


def test_shape_inference_of_a_jacobian() -> None:
    from derive.model import resolve
    from derive.parser import parse_block

    d = resolve(parse_block("shape: x 3, W 2×3\ny := W·x\ndy/dx = W"), "j")
    [sizes] = size_choices(d)
    assert ShapeChecker(d, sizes).check_steps() == {1: (2, 3)}


def test_the_shipped_layers_chapter_passes() -> None:
    notes = Path(__file__).resolve().parents[1] / "derive" / "notes" / "07-layers.md"
    run = check_files([str(notes)], Options(samples=8, jobs=2))
    assert run.ok, [(d.title, d.error, [s.detail for s in d.steps if s.verdict.fails])
                    for d in run.derivations if not d.ok]
    assert len(run.derivations) >= 5


def test_reports_show_matrix_counterexamples_as_latex_matrices(results, tmp_path) -> None:
    from derive.report import write_reports
    from derive.results import RunResult

    write_reports(RunResult((results["transposes swapped"],)), tmp_path)
    page = next(p for p in tmp_path.glob("*.md") if p.name != "index.md").read_text()
    assert r"$W = \begin{bmatrix}" in page and r"\end{bmatrix}$" in page
    assert "| SymPy | $\\begin{bmatrix}" in page
