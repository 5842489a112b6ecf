"""Tests of the pytest plugin: `pytest --derive` turns each derive block into a test."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

COURSE = """\
# Course

## Linear model

```derive
at: x = 1, y = 2, w = 1
ŷ := w·x
loss := (ŷ - y)^2
d(loss)/dw = 2(ŷ - y)·x = -2
```

## Power rule

```derive
title: power rule forgotten
s := x
d(s^2)/ds = 2s
d(s^2)/ds = s
```

```derive
title: broken block
f := x +
```

```derive
title: deliberate mistake
expect: wrong
d(x^2)/dx = x
```

```derive
title: not actually wrong
expect: wrong
d(x^2)/dx = 2x
```
"""
WRONG_LINE = 18  # `d(s^2)/ds = s` in COURSE


def notebook(*cells: str) -> str:
    """A notebook with one markdown cell per text."""
    return json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": c}
                                 for c in cells], "metadata": {}, "nbformat": 4,
                       "nbformat_minor": 5})


@pytest.fixture(scope="module")
def engines_loaded() -> None:
    """Import the checker and both engines before pytester snapshots sys.modules.

    An in-process pytest run drops the modules it imported when it ends; torch and jax
    cannot be imported twice in one process, so they are imported once, here.
    """
    from derive.engines import load_engine
    from derive.runner import Checker  # noqa: F401

    for name in ("torch", "jax"):
        load_engine(name)


def test_importing_the_plugin_loads_no_engine_and_no_sympy() -> None:
    code = ("import sys, derive, derive.plugin\n"
            "heavy = [m for m in ('torch', 'jax', 'sympy', 'derive.runner') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_without_opt_in_markdown_is_not_collected(pytester: pytest.Pytester) -> None:
    pytester.makefile(".md", course=COURSE)
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    assert "course.md" not in result.stdout.str()


def test_each_block_is_a_test_with_the_check_report(engines_loaded: None,
                                                   pytester: pytest.Pytester) -> None:
    pytester.makefile(".md", course=COURSE)
    pytester.makefile(".ipynb", lesson=notebook(
        "# Lesson", "```derive\ntitle: in a notebook\nd(x^3)/dx = 3x\n```\n"))
    (pytester.path / "bad.ipynb").write_text("{not json", encoding="utf-8")
    result = pytester.runpytest_inprocess("--derive", "-v")
    # passes: the right block and `expect: wrong` with a wrong step; the rest fails
    result.assert_outcomes(passed=2, failed=5)
    result.stdout.fnmatch_lines([
        "course.md::Linear model PASSED*",
        "course.md::power rule forgotten FAILED*",
        "course.md::deliberate mistake PASSED*",
    ])
    out = result.stdout.str()
    # the failing step, where it is, its verdict and the counterexample, as `check` says them
    assert (f"course.md:{WRONG_LINE}: wrong: power rule forgotten, step 2: d(s^2)/ds = s — "
            "d(s^2)/ds is 2·s, not s") in out
    assert "counterexample: x = " in out
    assert "PyTorch  left side" in out and "JAX      left side" in out
    assert "Traceback" not in out and "DeriveFailure" not in out
    # a block that does not parse fails with its message and position
    assert ("course.md:23:8: error: broken block — the line ends too early after `+`") in out
    # `expect: wrong` with every step holding fails, saying so
    assert "expected to be wrong (expect: wrong), but no step is wrong" in out
    # notebooks: located by cell; an unreadable file is one failing test
    assert "lesson.ipynb:cell 2:3: wrong: in a notebook, step 1: d(x^3)/dx = 3x" in out
    assert "bad.ipynb:1: error: bad.ipynb — not a valid Jupyter notebook" in out
    # the failure section is headed by the block, as reportinfo names it
    assert "[derive] power rule forgotten" in out


def test_k_selects_by_title_and_ini_paths_restrict(engines_loaded: None,
                                                  pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nderive = true\nderive_paths = notes\n")
    pytester.mkdir("notes")
    pytester.mkdir("drafts")
    (pytester.path / "notes" / "course.md").write_text(COURSE, encoding="utf-8")
    (pytester.path / "drafts" / "draft.md").write_text(
        "```derive\ntitle: power draft\nd(x^2)/dx = x\n```\n", encoding="utf-8")
    result = pytester.runpytest_inprocess("-k", "power or mistake", "-v")
    result.assert_outcomes(passed=1, failed=1, deselected=3)
    result.stdout.fnmatch_lines(["*course.md::power rule forgotten FAILED*",
                                 "*course.md::deliberate mistake PASSED*"])
    assert "draft" not in result.stdout.str()


def test_unproven_steps_pass_with_a_warning(pytester: pytest.Pytester) -> None:
    # a stand-in checker: SymPy timing out cannot be provoked reliably in a test
    pytester.makeconftest("""
        import derive.plugin
        from derive.results import DerivationResult, StepResult, Verdict

        class Unproven:
            def check(self, items):
                [item] = items
                step = StepResult(1, 3, "f", "g", Verdict.UNPROVEN, "SymPy ran out of time")
                return [DerivationResult(item.text.source, item.text.fence_line, item.title,
                                         steps=(step,))]

        def pytest_configure(config):
            config.stash[derive.plugin._CHECKER] = Unproven()
    """)
    pytester.makefile(".md", notes="```derive\ntitle: slow\nf := x\nf = x\n```\n")
    result = pytester.runpytest_inprocess("--derive")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*DeriveUnprovenWarning: notes.md:3: unproven: slow, step 1:*"])


def test_xdist_and_junitxml(pytester: pytest.Pytester) -> None:
    pytester.makefile(".md", course=COURSE)
    result = pytester.runpytest_subprocess("--derive", "-p", "xdist", "-n", "2",
                                           "--junitxml=out.xml")
    result.assert_outcomes(passed=2, failed=3)
    xml = (pytester.path / "out.xml").read_text(encoding="utf-8")
    assert (f"course.md:{WRONG_LINE}: wrong: power rule forgotten, step 2: d(s^2)/ds = s"
            in xml)
    assert "course.md:23:8: error: broken block" in xml


def test_bad_engine_name_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--derive", "--derive-engines", "tensorflow")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown engine 'tensorflow'*"])


def test_run_options_reach_the_checker(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(textwrap.dedent("""
        import derive.plugin

        def pytest_collection_finish(session):
            options = derive.plugin.checker(session.config).options
            print("OPTIONS", options.engines, options.samples, options.seed, options.jobs)
    """))
    result = pytester.runpytest_inprocess("--derive", "--derive-engines", "torch",
                                          "--derive-samples", "5", "--derive-seed", "7", "-s")
    result.stdout.fnmatch_lines(["OPTIONS ('torch',) 5 7 1"])
