"""Hostile and pathological notes: bounded, clean, nothing lost (issue 6).

tests/hostile/*.md hold pathological blocks and tests/hostile/expected.json the clean outcome
of each; files that cannot be committed (not UTF-8, FIFOs, links) are made in tmp_path.
"""

from __future__ import annotations

import builtins
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sympy
import sympy.parsing.sympy_parser

from derive import cli
from derive.budget import BudgetExceeded, check_size, time_limit
from derive.errors import BlockError
from derive.model import resolve
from derive.parser import parse_block
from derive.pool import TimeoutError, WorkerPool
from derive.runner import Options, prepare, shared_checker, symbolic_phase
from derive.sources import BlockText, read_source

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "hostile"
SENTINEL = Path("/tmp/derive-hostile-sentinel")  # what the injection payloads try to create
ARGS = ["--no-cache", "--samples", "4", "--budget", "1", "--jobs", "2"]


def bad_files(directory: Path) -> dict[str, str]:
    """Unreadable or malformed files, and what each one's error says."""
    directory.mkdir()
    (directory / "good.md").write_text("# fine\n\n```derive\nd(x^2)/dx = 2x\n```\n")
    (directory / "latin1.md").write_bytes(b"# caf\xe9\n\n```derive\nx = x\n```\n")
    (directory / "utf16.md").write_bytes("```derive\nx = x\n```\n".encode("utf-16"))
    notebooks = {
        "broken.ipynb": '{"cells": [', "cells-not-a-list.ipynb": '{"cells": 5}',
        "a-list.ipynb": "[1, 2]", "deep.ipynb": "[" * 100_000 + "]" * 100_000,
        "source-a-number.ipynb": '{"cells": [{"cell_type": "markdown", "source": 5}]}',
        "source-numbers.ipynb": '{"cells": [{"cell_type": "markdown", "source": [1, 2]}]}',
        "cell-a-number.ipynb": '{"cells": [7]}',
    }
    for name, text in notebooks.items():
        (directory / name).write_text(text)
    (directory / "dangling.md").symlink_to(directory / "nowhere.md")
    (directory / "zero.md").symlink_to("/dev/zero")
    os.mkfifo(directory / "fifo.md")
    (directory / "sub").mkdir()
    (directory / "sub" / "loop").symlink_to("..")
    expected = {name: "not a valid Jupyter notebook" for name in notebooks}
    expected.update({"latin1.md": "not UTF-8", "utf16.md": "not UTF-8",
                     "dangling.md": "cannot be read", "zero.md": "not a regular file",
                     "fifo.md": "not a regular file", "loop": "directory loop"})
    return expected


def test_the_hostile_corpus_gives_its_clean_outcomes(tmp_path, capsys) -> None:
    SENTINEL.unlink(missing_ok=True)
    expected_bad = bad_files(tmp_path / "bad")
    started = time.monotonic()
    status = cli.main(["check", "--format", "json", *ARGS, str(HOSTILE), str(tmp_path / "bad")])
    took = time.monotonic() - started
    out, err = capsys.readouterr()
    assert status == 1
    assert "Traceback" not in err and "internal error" not in err
    run = json.loads(out)
    expected = json.loads((HOSTILE / "expected.json").read_text(encoding="utf-8"))
    seen: dict[str, dict[str, dict]] = {}
    for d in run["derivations"]:
        seen.setdefault(Path(d["source"]).name, {})[d["title"]] = d
    for name, blocks in expected.items():
        assert set(seen[name]) == set(blocks), name
        for title, want in blocks.items():
            got = seen[name][title]
            if "error" in want:
                assert got["error"] is not None and want["error"] in got["error"], title
                assert got["error"].startswith(got["source"] + ":"), title  # names the file
            else:
                assert got["error"] is None, (title, got["error"])
                assert [s["verdict"] for s in got["steps"]] == want["verdicts"], title
                for step, detail in zip(got["steps"], want.get("details", []), strict=False):
                    assert detail is None or detail in step["detail"], (title, step["detail"])
    for name, message in expected_bad.items():
        [entry] = seen[name].values()
        assert message in entry["error"] and name in entry["error"], entry["error"]
    assert [s["verdict"] for s in seen["good.md"]["fine"]["steps"]] == ["holds"]
    assert not SENTINEL.exists()
    assert took < 120, f"the corpus took {took:.0f} s"  # a hang guard, not a benchmark
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 2 * 1024**2  # KiB: 2 GiB


def test_injection_attempts_run_nothing(monkeypatch) -> None:
    """Every path a block takes, SymPy's included, runs here with eval, exec, compile, os and
    subprocess spied on: none is ever handed the text of a payload."""
    SENTINEL.unlink(missing_ok=True)
    calls: list[str] = []

    def spy(name, original):
        def call(*args, **kwargs):
            text = repr(args) + repr(kwargs)
            if "PWNED" in text or str(SENTINEL) in text:
                calls.append(f"{name}{text}")
            return original(*args, **kwargs)
        return call

    for module, name in [(builtins, "eval"), (builtins, "exec"), (builtins, "compile"),
                         (os, "system"), (os, "popen"), (subprocess, "Popen"),
                         (sympy, "sympify"), (sympy.parsing.sympy_parser, "parse_expr")]:
        monkeypatch.setattr(module, name, spy(f"{module.__name__}.{name}",
                                               getattr(module, name)))
    options = Options(samples=4, step_budget=1.0)
    checker = shared_checker(options)
    items = prepare(read_source(HOSTILE / "injection.md", "injection.md"))
    checked = 0
    for item in items:
        if item.derivation is not None:  # what a worker runs, then the engines, in-process
            checker.finish(item, symbolic_phase(item.derivation, options))
            checked += 1
    assert checked >= 5
    assert calls == []
    assert not SENTINEL.exists()


def block(text: str):
    """A resolved block, size limits checked."""
    derivation = resolve(parse_block(text), "t")
    check_size(derivation)
    return derivation


@pytest.mark.parametrize(("text", "message"), [
    ("y = 2^(10^10)", "more than 4000 digits"),
    ("at: x = ((2^1000)^1000)^1000\nx = 1", "more than 4000 digits"),
    ("y = 10^2000·10^2100", "more than 4000 digits"),
    ("d(d(d(d(d(x^6)/dx)/dx)/dx)/dx)/dx = 720x", "derivatives nested 5 deep"),
    ("g := d(x^3)/dx\nh := d(g)/dx\nk := d(h)/dx\nm := d(k)/dx\nd(m)/dx = 0",
     "derivatives nested 5 deep"),
    ("f0(t) := t^2\n" + "\n".join(f"f{i}(t) := f{i - 1}(t) + f{i - 1}(t)" for i in range(1, 20))
     + "\nf19(x) = x", "too large to check"),
    ("f(t) := f(t)\nf(x) = 1", "`f` is defined in terms of itself"),
    ("p := s(z)\ns(t) := t·p\np = 1", "`p` is used in its own definition"),
    ("shape: W 200×200\nsum(W) = sum(W)", "more than the 10000 derive checks"),
])
def test_size_limits_refuse_what_would_blow_up(text: str, message: str) -> None:
    with pytest.raises(BlockError, match=message.replace("(", r"\(").replace("^", r"\^")):
        block(text)


def test_size_limits_let_ordinary_blocks_through() -> None:
    for path in sorted((ROOT / "derive" / "notes").glob("*.md")):
        for item in prepare(read_source(path, path.name)):
            assert item.error is None, item.error
    block("d(d(d(d(x^5)/dx)/dx)/dx)/dx = 120x\ny = 2^1000")


def test_a_runaway_task_is_killed_and_the_pool_goes_on() -> None:
    pool = WorkerPool(1)
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            pool.wait(pool.submit(time.sleep, 60, timeout=1))
        assert time.monotonic() - started < 15
        assert pool.wait(pool.submit(pow, 2, 10, timeout=30)) == 1024
        pool._pool.stop()  # a broken pool is replaced on the next submit
        assert pool.wait(pool.submit(pow, 3, 2, timeout=30)) == 9
    finally:
        pool.close()


def test_the_engines_in_this_process_are_stopped_by_the_budget(monkeypatch) -> None:
    from derive import runner

    monkeypatch.setattr(runner, "HARD_LIMIT_MARGIN", 0.0)
    checker = runner.Checker(Options(samples=4, step_budget=0.001, jobs=1))
    text = "h0 := x\n" + "\n".join(f"h{i} := sin(h{i - 1}) + x" for i in range(1, 150))
    try:
        [result] = checker.check(prepare([BlockText("t.md", 1, 1, text + "\nd(h149)/dx = 1",
                                                    None)]))
    finally:
        checker.close()
    [step] = result.steps
    assert step.verdict.value == "error" and "ran out of time" in step.detail


def test_an_expired_limit_fires_again_until_it_is_left() -> None:
    swallowed = 0
    with pytest.raises(BudgetExceeded), time_limit(0.05):
        while True:
            try:
                time.sleep(0.01)
            except BudgetExceeded:  # as a garbage-collector callback would swallow it
                swallowed += 1
                if swallowed > 1:
                    raise
    assert swallowed == 2


def test_titles_and_errors_are_one_printable_line() -> None:
    heading = BlockText("a\x1bb.md", 4, 5, "x = x\n", "Setext\nheading \u202e")
    broken = BlockText("a.md", 8, 9, "expect: \x1b[2J\n", None)
    [first, second] = prepare([heading, broken])
    assert first.title == "Setext heading \\u202e"
    assert "\x1b" not in second.error and "\\u001b[2J" in second.error


def test_an_internal_error_is_one_line_and_a_traceback_only_with_debug(
        monkeypatch, capsys, tmp_path) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "check_files", broken)
    assert cli.main(["check", str(tmp_path)]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert cli.main(["check", "--debug", str(tmp_path)]) == cli.EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as handle:
                if entry.isdigit() and int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return "zombie" not in handle.read()
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_run_stops_its_workers_and_keeps_the_reports(tmp_path, signum) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "slow.md").write_text(
        (HOSTILE / "slow.md").read_text(encoding="utf-8"), encoding="utf-8")
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "index.md").write_text("the previous report\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "derive", "report", "--no-cache", "--budget", "60", "--jobs",
         "1", "--out", str(reports), str(tmp_path / "notes")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not _children(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # the worker is deep in SymPy now
        workers = _children(process.pid)
        assert workers
        process.send_signal(signum)
        _out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == cli.EXIT_INTERRUPTED
    assert "interrupted" in err and "Traceback" not in err
    time.sleep(0.5)
    assert not [pid for pid in workers if _alive(pid)]
    assert (reports / "index.md").read_text() == "the previous report\n"
