"""`derive check` from `derive.cli.main` (no subprocess): exit codes, text lines and JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from derive.cli import main

FAST = ["--no-cache", "--jobs", "1", "--samples", "8"]

RIGHT = """\
# Right

```derive
title: power rule
f := x^3
df/dx = 3x^2
      = 3·x·x
```
"""

WRONG = """\
# Wrong

Some prose.

```derive
title: power rule forgotten
d(x^3)/dx = 3x
```

```derive
title: a right one beside it
d(x^2)/dx = 2x
```
"""

INVALID = """\
# Invalid

```derive
title: missing operand
f := x +
```
"""

EXPECT_CAUGHT = """\
```derive
title: shown to warn students
expect: wrong
d(x^2)/dx = x
```
"""

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# A notebook\n"]},
        {"cell_type": "markdown", "metadata": {},
         "source": ["Text.\n", "\n", "```derive\n", "title: in a cell\n", "s := x - y\n",
                    "d(s^2)/ds = s\n", "```\n"]},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in an empty directory: relative paths, and any cache or report, stay in it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return name


def check(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["check", *FAST, *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_passing_notes_exit_0(here, capsys) -> None:
    status, out, err = check(capsys, write(here, "right.md", RIGHT))
    assert status == 0, out + err
    assert out == "derive: 2 steps in 1 derivation: 2 holds — ok\n"


def test_a_wrong_step_exits_1_with_one_line_per_failing_step(here, capsys) -> None:
    status, out, _err = check(capsys, write(here, "wrong.md", WRONG))
    assert status == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"wrong\.md:7: wrong: power rule forgotten, step 1: d\(x\^3\)/dx = 3x"
                        r" — \S.*", lines[0]), lines[0]
    assert "3·x^2" in lines[0]  # what the left side really is
    assert lines[1] == "derive: 2 steps in 2 derivations: 1 holds, 1 wrong — FAILED"


def test_an_invalid_block_exits_1_and_says_where(here, capsys) -> None:
    status, out, _err = check(capsys, write(here, "invalid.md", INVALID), write(
        here, "right.md", RIGHT))
    assert status == 1
    first = out.splitlines()[0]
    assert first.startswith("invalid.md:5:8: error: missing operand — "), first
    assert "expected an expression" in first
    assert out.splitlines()[-1].endswith("— FAILED")


def test_expect_wrong(here, capsys) -> None:
    status, out, _err = check(capsys, write(here, "caught.md", EXPECT_CAUGHT))
    assert (status, out) == (0, "derive: 1 step in 1 derivation: 1 wrong — ok\n")
    status, out, _err = check(capsys, write(here, "missed.md", EXPECT_CAUGHT.replace(
        "= x", "= 2x")))
    assert status == 1
    assert out.splitlines()[0].startswith("missed.md:1: ")
    assert "expect: wrong" in out.splitlines()[0]


@pytest.mark.parametrize("args", [
    ["check", "no-such-file.md"],
    ["check", "--engines", "foo"],
    ["check", "--samples", "0"],
    ["check", "--samples", "many"],
    ["check", "--rtol", "-1"],
    ["check", "--format", "xml"],
    ["verify"],
    [],
])
def test_bad_usage_exits_2(here, capsys, args) -> None:
    write(here, "right.md", RIGHT)
    assert main([*args, "right.md"] if args[1:2] == ["--engines"] else args) == 2
    _out, err = capsys.readouterr()
    assert err.strip(), "a usage error says what is wrong on stderr"


def test_missing_path_is_named(here, capsys) -> None:
    write(here, "right.md", RIGHT)
    status, out, err = check(capsys, "right.md", "gone.md")
    assert status == 2
    assert "gone.md" in err
    assert out == ""


def test_help_lists_the_commands(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "check" in out and "report" in out
    assert main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--format", "--samples", "--seed", "--rtol", "--atol", "--engines"):
        assert option in out


def test_json_document(here, capsys) -> None:
    write(here, "notes/a.md", WRONG)
    write(here, "notes/b/invalid.md", INVALID)
    write(here, "notes/nb.ipynb", json.dumps(NOTEBOOK))
    write(here, "notes/README.md", "# Nothing to check here\n")
    write(here, "notes/skip.txt", RIGHT)
    status, out, _err = check(capsys, "--format", "json", "notes")
    assert status == 1
    document = json.loads(out)
    assert set(document) == {"version", "derivations", "summary"}
    assert document["version"] == 1
    items = document["derivations"]
    assert [(d["source"], d["line"], d["title"]) for d in items] == [
        ("notes/a.md", 5, "power rule forgotten"),
        ("notes/a.md", 10, "a right one beside it"),
        ("notes/b/invalid.md", 3, "missing operand"),
        ("notes/nb.ipynb", 3, "in a cell"),
    ]
    for item in items:
        keys = {"source", "line", "title", "expect", "ok", "error", "steps"}
        assert set(item) == (keys | {"cell"} if item["source"].endswith(".ipynb") else keys)
        for step in item["steps"]:
            assert set(step) == {"index", "line", "lhs", "rhs", "verdict", "detail"}
    wrong, right, invalid, cell = items
    assert (wrong["ok"], wrong["expect"], wrong["error"]) == (False, None, None)
    assert wrong["steps"][0] | {"detail": ""} == {
        "index": 1, "line": 7, "lhs": "d(x^3)/dx", "rhs": "3x", "verdict": "wrong",
        "detail": ""}
    assert right["ok"] is True and right["steps"][0]["verdict"] == "holds"
    assert invalid["ok"] is False and invalid["steps"] == []
    assert invalid["error"].startswith("notes/b/invalid.md:5:8: ")
    assert (cell["cell"], cell["steps"][0]["line"], cell["steps"][0]["verdict"]) == (2, 6, "wrong")
    assert document["summary"] == {"holds": 1, "holds-at-point": 0, "unproven": 0, "wrong": 2,
                                   "disagree": 0, "error": 1}


def test_notebook_lines_name_the_cell(here, capsys) -> None:
    status, out, _err = check(capsys, write(here, "nb.ipynb", json.dumps(NOTEBOOK)))
    assert status == 1
    assert out.splitlines()[0].startswith(
        "nb.ipynb:cell 2:6: wrong: in a cell, step 1: d(s^2)/ds = s — ")


def test_same_input_same_output(here, capsys) -> None:
    name = write(here, "wrong.md", WRONG)
    outputs = []
    for _ in range(2):
        for fmt in ("text", "json"):
            status, out, _err = check(capsys, "--format", fmt, name)
            assert status == 1
            outputs.append(out)
    assert outputs[:2] == outputs[2:]


def test_without_paths_the_shipped_notes_are_checked(here, capsys) -> None:
    status, out, err = check(capsys)
    assert status == 0, out + err
    assert re.fullmatch(r"derive: \d+ steps in \d+ derivations: .* — ok\n", out), out


def test_verdicts_from_a_time_limit_are_not_cached(tmp_path, monkeypatch) -> None:
    """A step SymPy could not finish in its budget is re-checked next run, not replayed."""
    from derive.runner import Checker, Options, prepare
    from derive.sources import BlockText

    monkeypatch.chdir(tmp_path)
    options = Options(samples=4, step_budget=0.0001, cache=True, cache_dir=tmp_path / "c")
    block = BlockText("a.md", 1, 2, "f := (x + y)^3\nf = x^3 + 3x^2·y + 3x·y^2 + y^3\n", None)
    checker = Checker(options)
    try:
        [result] = checker.check(prepare([block]))
    finally:
        checker.close()
    assert result.steps[0].verdict.value == "unproven", result.steps[0].detail
    assert not list((tmp_path / "c").rglob("*.json"))
