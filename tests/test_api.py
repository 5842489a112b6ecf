"""Tests of the Python API: derive.check, derive.check_file, Result and the public names."""

from __future__ import annotations

import pytest

import derive
from derive.output import render_check
from derive.results import RunResult

LINEAR = """\
title: linear model
at: x = 1, y = 2, w = 1
ŷ := w·x
loss := (ŷ - y)^2
d(loss)/dw = 2(ŷ - y)·x = -2
"""


def test_a_right_block() -> None:
    result = derive.check(LINEAR)
    assert result.ok
    assert result.verdicts == ["holds", "holds-at-point"]
    assert [s.index for s in result.steps] == [1, 2]
    assert result.derivation.title == "linear model"
    assert result.error is None
    result.assert_ok()
    assert repr(result) == "<Result 'linear model' ok: holds, holds-at-point>"


def test_a_wrong_step_fails_assert_ok_with_the_check_report() -> None:
    result = derive.check("title: power rule\ns := x\nd(s^2)/ds = s\n", source="notes.md")
    assert not result.ok
    assert result.verdicts == ["wrong"]
    with pytest.raises(AssertionError) as caught:
        result.assert_ok()
    message = str(caught.value)
    check_lines = render_check(RunResult((result.derivation,))).splitlines()
    assert message.splitlines()[0] == check_lines[0] == (
        "notes.md:3: wrong: power rule, step 1: d(s^2)/ds = s — d(s^2)/ds is 2·s, not s")
    assert message.splitlines()[-1] == check_lines[-1]
    assert "counterexample: x = " in message and "the left side actually equals 2·s" in message
    assert "FAILED" in repr(result)


def test_an_invalid_block_is_an_error_with_its_position() -> None:
    result = derive.check("f := x +\n")
    assert not result.ok and result.steps == () and result.verdicts == []
    assert result.error is not None and result.error.startswith("<text>:1:8: the line ends")
    assert "error" in repr(result)
    with pytest.raises(AssertionError, match=r"<text>:1:8: error: #1 — the line ends too early"):
        result.assert_ok()


def test_expect_wrong() -> None:
    assert derive.check("expect: wrong\nd(x^2)/dx = x\n").ok
    holds = derive.check("expect: wrong\nd(x^2)/dx = 2x\n")
    assert not holds.ok
    with pytest.raises(AssertionError, match="expected to be wrong"):
        holds.assert_ok()


def test_options() -> None:
    result = derive.check("d(x^2)/dx = 2x\n", samples=4, seed=3, engines="torch", budget=2)
    assert result.verdicts == ["holds"]
    assert [e.engine for e in result.steps[0].engines] == ["sympy", "torch"]
    with pytest.raises(derive.UsageError, match="unknown option `smaples`"):
        derive.check("x = x\n", smaples=3)
    with pytest.raises(derive.UsageError, match="unknown engine 'tf'"):
        derive.check("x = x\n", engines="tf")
    with pytest.raises(derive.UsageError):
        derive.check(b"x = x")  # type: ignore[arg-type]


def test_check_file(tmp_path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Square\n\n```derive\nd(x^2)/dx = 2x\n```\n\n```derive\n"
                     "title: oops\nd(x^2)/dx = x\n```\n", encoding="utf-8")
    run = derive.check_file(notes)
    assert isinstance(run, derive.RunResult)
    assert [d.title for d in run.derivations] == ["Square", "oops"]
    assert [d.ok for d in run.derivations] == [True, False]
    assert run.summary()["wrong"] == 1
    with pytest.raises(derive.UsageError, match="no such file"):
        derive.check_file(tmp_path / "missing.md")


def test_public_names() -> None:
    for name in derive.__all__:
        assert getattr(derive, name) is not None, name
    assert derive.Verdict.WRONG.fails
    assert issubclass(derive.BlockError, derive.DeriveError)
    assert derive.Options().samples == 16
    assert derive.Result.__name__ == "Result" and derive.Derivation.__name__ == "Derivation"
    assert isinstance(derive.__version__, str) and derive.__version__
    with pytest.raises(AttributeError):
        derive.no_such_name  # noqa: B018
