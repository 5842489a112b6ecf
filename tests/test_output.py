"""Tests of the `check` renderers: compiler-style lines, GitHub annotations and JSON."""

from __future__ import annotations

import json

from derive.output import render_check, render_github, render_json
from derive.results import (
    Counterexample,
    DerivationResult,
    EngineValues,
    RunResult,
    StepResult,
    Verdict,
)

NOTES = "derive/notes/01-chain-rule.md"


def passing() -> DerivationResult:
    return DerivationResult(NOTES, 12, "linear regression", steps=(
        StepResult(1, 14, "d(loss)/dŷ", "2·s", Verdict.HOLDS, "identity"),
        StepResult(2, 15, "2·s", "-2", Verdict.HOLDS_AT_POINT, "equal at the worked point"),
        StepResult(3, 16, "df/dx", "2.0596", Verdict.HOLDS_AT_POINT, "rounds", approximate=True),
    ))


def wrong() -> DerivationResult:
    example = Counterexample((("s", "1"),), (EngineValues("sympy", "2", "1"),), actual="2·s")
    return DerivationResult(NOTES, 30, "power rule forgotten", steps=(
        StepResult(1, 33, "d(loss)/ds", "s", Verdict.WRONG, "d(s^2)/ds is 2·s, not s",
                   counterexample=example),
        StepResult(2, 34, "d(s)/ds", "1", Verdict.HOLDS, "identity"),
    ))


def notebook() -> DerivationResult:
    return DerivationResult("nb/intro.ipynb", 3, "in a notebook", cell=4, steps=(
        StepResult(1, 5, "x", "y", Verdict.DISAGREE, "SymPy proves it, PyTorch does not"),
        StepResult(2, 6, "tanh(x)", "x", Verdict.UNPROVEN, "SymPy timed out"),
    ))


def broken() -> DerivationResult:
    return DerivationResult("tests/x.md", 7, "broken", error="tests/x.md:9:5: expected `=`")


def expected_wrong(caught: bool) -> DerivationResult:
    verdict = Verdict.WRONG if caught else Verdict.HOLDS
    return DerivationResult("tests/x.md", 20, "deliberate", expect="wrong", steps=(
        StepResult(1, 22, "d(x^2)/dx", "x", verdict, "d(x^2)/dx is 2·x, not x"),
    ))


def full_run() -> RunResult:
    return RunResult((passing(), wrong(), notebook(), broken(), expected_wrong(False)))


def test_check_prints_one_line_per_problem_then_the_summary() -> None:
    assert render_check(full_run()) == (
        f"{NOTES}:33: wrong: power rule forgotten, step 1: d(loss)/ds = s"
        " — d(s^2)/ds is 2·s, not s\n"
        "nb/intro.ipynb:cell 4:5: disagree: in a notebook, step 1: x = y"
        " — SymPy proves it, PyTorch does not\n"
        "nb/intro.ipynb:cell 4:6: unproven: in a notebook, step 2: tanh(x) = x — SymPy timed out\n"
        "tests/x.md:9:5: error: broken — expected `=`\n"
        "tests/x.md:20: error: deliberate — expected to be wrong (expect: wrong),"
        " but no step is wrong\n"
        "derive: 9 steps in 5 derivations: 3 holds, 2 holds-at-point, 1 unproven, 1 wrong,"
        " 1 disagree, 1 error — FAILED\n"
    )


def test_check_passing_run_prints_only_an_ok_summary() -> None:
    run = RunResult((passing(), expected_wrong(True)))
    assert render_check(run) == (
        "derive: 4 steps in 2 derivations: 1 holds, 2 holds-at-point, 1 wrong — ok\n")


def test_check_singular_and_empty_summaries() -> None:
    one = DerivationResult("a.md", 1, "t", steps=(StepResult(1, 2, "x", "x", Verdict.HOLDS, ""),))
    assert render_check(RunResult((one,))) == "derive: 1 step in 1 derivation: 1 holds — ok\n"
    assert render_check(RunResult(())) == "derive: 0 steps in 0 derivations — ok\n"


def test_check_approximate_step_uses_approx_sign_and_one_line() -> None:
    step = StepResult(1, 4, "df/dx", "2.06", Verdict.WRONG, "is 2.0596…,\nnot 2.06\n",
                      approximate=True)
    run = RunResult((DerivationResult("a.md", 2, "t", steps=(step,)),))
    assert render_check(run).splitlines()[0] == (
        "a.md:4: wrong: t, step 1: df/dx ≈ 2.06 — is 2.0596…, not 2.06")


def test_check_block_error_locations() -> None:
    cases = {
        "nb.ipynb:cell 2:4:7: bad token": "nb.ipynb:cell 2:4:7: error: t — bad token",
        "nb.ipynb:cell 2:4: bad token": "nb.ipynb:cell 2:4: error: t — bad token",
        "nb.ipynb: cannot be read": "nb.ipynb:cell 2:1: error: t — cannot be read",
        "something odd": "nb.ipynb:cell 2:1: error: t — something odd",
    }
    for error, expected in cases.items():
        run = RunResult((DerivationResult("nb.ipynb", 1, "t", error=error, cell=2),))
        assert render_check(run).splitlines()[0] == expected


def test_expect_wrong_block_with_an_error_step_reports_it() -> None:
    steps = (StepResult(1, 3, "x", "y", Verdict.WRONG, "no"),
             StepResult(2, 4, "x", "z", Verdict.ERROR, "no valid sample point"))
    run = RunResult((DerivationResult("a.md", 1, "t", expect="wrong", steps=steps),))
    assert render_check(run).splitlines()[:-1] == [
        "a.md:4: error: t, step 2: x = z — no valid sample point"]


def test_github_annotations() -> None:
    lines = render_github(full_run()).splitlines()
    assert lines == [
        f"::error file={NOTES},line=33,title=derive wrong::power rule forgotten, step 1:"
        " d(loss)/ds = s — d(s^2)/ds is 2·s, not s",
        "::error file=nb/intro.ipynb,title=derive disagree::cell 4:5: in a notebook, step 1:"
        " x = y — SymPy proves it, PyTorch does not",
        "::warning file=nb/intro.ipynb,title=derive unproven::cell 4:6: in a notebook, step 2:"
        " tanh(x) = x — SymPy timed out",
        "::error file=tests/x.md,line=9,col=5,title=derive error::broken — expected `=`",
        "::error file=tests/x.md,line=20,title=derive error::deliberate — expected to be wrong"
        " (expect: wrong), but no step is wrong",
        render_check(full_run()).splitlines()[-1],
    ]


def test_github_escapes_data_and_properties() -> None:
    step = StepResult(1, 2, "x", "y", Verdict.WRONG, "100% off")
    title = "a\rb\nc"
    run = RunResult((DerivationResult("dir,x/a:b%.md", 1, title, steps=(step,)),))
    first = render_github(run).splitlines()[0]
    assert first == ("::error file=dir%2Cx/a%3Ab%25.md,line=2,title=derive wrong::"
                     "a%0Db%0Ac, step 1: x = y — 100%25 off")


def test_json_structure() -> None:
    text = render_json(full_run())
    assert text.endswith("}\n") and '\n  "derivations": [' in text
    assert "dŷ" in text  # not \u escaped
    document = json.loads(text)
    assert list(document) == ["version", "derivations", "summary"]
    assert document["version"] == 1
    first, second, nb, error, expected = document["derivations"]
    assert list(first) == ["source", "line", "title", "expect", "ok", "error", "steps"]
    assert first["ok"] is True and first["expect"] is None and first["error"] is None
    assert first["steps"][0] == {"index": 1, "line": 14, "lhs": "d(loss)/dŷ", "rhs": "2·s",
                                 "verdict": "holds", "detail": "identity"}
    assert list(first["steps"][0]) == ["index", "line", "lhs", "rhs", "verdict", "detail"]
    assert second["ok"] is False and second["steps"][0]["verdict"] == "wrong"
    assert list(nb)[:3] == ["source", "line", "cell"] and nb["cell"] == 4
    assert "cell" not in first
    assert error["steps"] == [] and error["error"] == "tests/x.md:9:5: expected `=`"
    assert expected["expect"] == "wrong" and expected["ok"] is False
    assert document["summary"] == {"holds": 3, "holds-at-point": 2, "unproven": 1, "wrong": 1,
                                   "disagree": 1, "error": 1}


def test_json_drops_steps_of_a_block_with_an_error() -> None:
    step = StepResult(1, 2, "x", "y", Verdict.HOLDS, "")
    run = RunResult((DerivationResult("a.md", 1, "t", error="a.md:1: bad", steps=(step,)),))
    assert json.loads(render_json(run))["derivations"][0]["steps"] == []


def test_renderers_are_deterministic() -> None:
    for render in (render_check, render_github, render_json):
        assert render(full_run()).encode() == render(full_run()).encode()
