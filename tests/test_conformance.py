"""Conformance: the spec's examples and the project's own cases, from the CLI and from the API.

Every derivation's verdicts must equal `expected.json` beside the Markdown files exactly:
a list of step verdicts, or `"error"` for a block that must be refused (and then has no steps).
`python -m derive check --format json` runs once, in a subprocess, over both folders; the
Python API (`derive.runner.check_files`) runs once in this process over the same paths.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from derive.output import render_json
from derive.results import DerivationResult
from derive.runner import Options, check_files

HERE = Path(__file__).resolve().parent
EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "spec" / "examples"
CASES = HERE / "cases"
SUITES = {"examples": EXAMPLES, "cases": CASES}
MISSING_SHARED = (f"the spec's conformance examples are not here ({EXAMPLES}): this checkout "
                  "has no ../shared folder beside it")


def _absent(suite: str) -> str:
    return MISSING_SHARED if suite == "examples" else f"{SUITES[suite]}/expected.json is missing"


def _suites() -> list:
    return [pytest.param(name, marks=() if (root / "expected.json").is_file() else
                         pytest.mark.skip(reason=_absent(name)))
            for name, root in SUITES.items()]


def _available() -> dict[str, Path]:
    return {name: root for name, root in SUITES.items() if (root / "expected.json").is_file()}


def _expected(root: Path) -> dict[str, dict[str, list[str] | str]]:
    return json.loads((root / "expected.json").read_text(encoding="utf-8"))


def _params() -> list:
    params = []
    for name, root in SUITES.items():
        if not (root / "expected.json").is_file():
            params.append(pytest.param(name, None, None, id=f"{name}-absent",
                                       marks=pytest.mark.skip(reason=_absent(name))))
            continue
        for file, blocks in _expected(root).items():
            for title in blocks:
                params.append(pytest.param(name, file, title, id=f"{name}/{file}::{title}"))
    return params


def _verdicts_json(item: dict) -> list[str] | str:
    if item["error"] is not None:
        assert item["steps"] == [], f"{item['title']}: a block with an error has no steps"
        return "error"
    return [step["verdict"] for step in item["steps"]]


def _verdicts_api(result: DerivationResult) -> list[str] | str:
    if result.error is not None:
        assert result.steps == (), f"{result.title}: a block with an error has no steps"
        return "error"
    return [step.verdict.value for step in result.steps]


def _file_key(source: str, root: Path) -> str | None:
    path = Path(source)
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


@pytest.fixture(scope="module")
def paths() -> list[str]:
    return [str(root) for root in _available().values()]


@pytest.fixture(scope="module")
def cli_output(paths: list[str]) -> str:
    """`python -m derive check --format json` over every available suite, in one process."""
    done = subprocess.run(
        [sys.executable, "-m", "derive", "check", "--format", "json", "--no-cache", *paths],
        capture_output=True, text=True, encoding="utf-8", cwd=HERE.parent, timeout=300,
    )
    assert done.returncode == 1, f"exit status {done.returncode}; stderr:\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def cli_items(cli_output: str) -> list[dict]:
    document = json.loads(cli_output)
    assert document["version"] == 1
    return document["derivations"]


@pytest.fixture(scope="module")
def api_results(paths: list[str]):
    return check_files(paths, Options())


def _table_json(items: list[dict], root: Path) -> dict[str, dict[str, list[str] | str]]:
    table: dict[str, dict[str, list[str] | str]] = {}
    for item in items:
        key = _file_key(item["source"], root)
        if key is not None:
            assert item["title"] not in table.setdefault(key, {}), f"duplicate {item['title']}"
            table[key][item["title"]] = _verdicts_json(item)
    return table


def _table_api(results, root: Path) -> dict[str, dict[str, list[str] | str]]:
    table: dict[str, dict[str, list[str] | str]] = {}
    for result in results.derivations:
        key = _file_key(result.source, root)
        if key is not None:
            assert result.title not in table.setdefault(key, {}), f"duplicate {result.title}"
            table[key][result.title] = _verdicts_api(result)
    return table


def _root_or_skip(suite: str) -> Path:
    root = SUITES[suite]
    if not (root / "expected.json").is_file():
        if suite == "examples":
            pytest.skip(MISSING_SHARED)
        pytest.fail(f"{root}/expected.json is missing")
    return root


@pytest.mark.parametrize(("suite", "file", "title"), _params())
def test_cli_verdicts_match_expected(cli_items, suite, file, title) -> None:
    root = _root_or_skip(suite)
    got = _table_json(cli_items, root).get(file, {})
    assert title in got, f"{file}: no derivation titled {title!r} in the JSON output"
    assert got[title] == _expected(root)[file][title]


@pytest.mark.parametrize(("suite", "file", "title"), _params())
def test_api_verdicts_match_expected(api_results, suite, file, title) -> None:
    root = _root_or_skip(suite)
    got = _table_api(api_results, root).get(file, {})
    assert title in got, f"{file}: no derivation titled {title!r} from check_files"
    assert got[title] == _expected(root)[file][title]


@pytest.mark.parametrize("suite", _suites())
def test_no_derivation_is_missing_or_extra(cli_items, api_results, suite) -> None:
    root = _root_or_skip(suite)
    want = {(file, title) for file, blocks in _expected(root).items() for title in blocks}
    from_cli = {(f, t) for f, blocks in _table_json(cli_items, root).items() for t in blocks}
    from_api = {(f, t) for f, blocks in _table_api(api_results, root).items() for t in blocks}
    assert from_cli == want
    assert from_api == want


def test_cli_and_api_print_the_same_json_byte_for_byte(cli_output, api_results) -> None:
    """Sampling is seeded by block text, so another process gives the very same document."""
    assert render_json(api_results) == cli_output


# --- details the verdict tables cannot hold ----------------------------------------------------

ERRORS = {  # title in tests/cases/errors.md → (line:column or line, words of the message)
    "unclosed parenthesis": ("5:11", "expected `)`"),
    "operator without a right operand": ("11:7", "expected an expression"),
    "a character that is not part of the language": ("17:8", "unexpected character `$`"),
    "continuation as the first line": ("22:1", "no chain comes before it"),
    "continuation after a definition": ("28:1", "no chain comes before it"),
    "derivative by a number": ("33:8", "cannot differentiate by `3`"),
    "rounded step without a worked point": ("39", "needs a worked point"),
    "misspelt built-in function": ("44:3", "unknown function `sigmoud` (did you mean `sigmoid`?"),
    "node defined twice": ("50", "`h` is already defined on line 49"),
    "node used before its definition": ("56:8", "`h` is used before its definition on line 57"),
    "node used in its own definition": ("63:6", "`h` is used in its own definition"),
    "assumptions no value satisfies": ("69", "contradict each other"),
    "a worked point for a node": ("75", "`h` is a node"),
    "abstract function called with two arities": ("83:8", "called with 1 and with 2 arguments"),
    "a built-in function without its argument": ("88:21", "`tanh` is a function"),
    "expect takes only wrong": ("93:9", "takes only `wrong`"),
    "nothing to check": ("97", "no step to check"),
}


@pytest.mark.parametrize("title", list(ERRORS))
def test_block_errors_say_where_and_what(cli_items, title) -> None:
    where, words = ERRORS[title]
    [item] = [i for i in cli_items
              if i["source"].endswith("cases/errors.md") and i["title"] == title]
    assert item["ok"] is False
    assert item["error"].startswith(f"{CASES / 'errors.md'}:{where}: "), item["error"]
    assert words in item["error"]


def test_notebook_blocks_carry_their_cell(cli_items) -> None:
    notebook = [i for i in cli_items if i["source"].endswith("cases/notebook.ipynb")]
    assert [(i["cell"], i["line"]) for i in notebook] == [(3, 3), (4, 3), (4, 10)]
    assert [s["line"] for s in notebook[0]["steps"]] == [6, 7]
    assert [s["line"] for s in notebook[1]["steps"]] == [7]
    assert notebook[2]["error"].startswith(f"{CASES / 'notebook.ipynb'}:cell 4:12:9: ")
    markdown = [i for i in cli_items if i["source"].endswith(".md")]
    assert markdown and all("cell" not in i for i in markdown)


def test_expect_wrong_passes_only_when_a_step_is_wrong(cli_items, api_results) -> None:
    want = {"a deliberate mistake that is caught": True,
            "a deliberate mistake among right steps": True,
            "marked wrong but every step holds": False}
    got = {i["title"]: (i["expect"], i["ok"]) for i in cli_items
           if i["source"].endswith("cases/expect.md")}
    assert got == {title: ("wrong", ok) for title, ok in want.items()}
    api = {r.title: r.ok for r in api_results.derivations if r.source.endswith("expect.md")}
    assert api == want


def test_steps_report_their_source_lines(cli_items) -> None:
    [item] = [i for i in cli_items if i["title"] == "Slope of a cubic"]
    assert item["line"] == 49  # the opening fence
    # a blank line and a comment between a chain and its continuation keep the line numbers
    assert [(s["index"], s["line"], s["lhs"], s["rhs"]) for s in item["steps"]] == [
        (1, 52, "df/dx", "3x² - 2"), (2, 55, "3x² - 2", "3·x·x - 2")]


def test_worked_point_values_are_exact_in_details(cli_items) -> None:
    """`sin(pi) = 0` is exactly 0 at the worked point, not evaluation noise."""
    [item] = [i for i in cli_items if i["title"] == "exact values at the worked point"]
    detail = item["steps"][2]["detail"]
    assert "both sides are 0;" in detail, detail
