"""The committed reports/ are exactly what `make report` writes for the shipped notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.cli import build_parser, options_from, shipped_notes
from derive.report.writer import render_reports
from derive.runner import check_files

ROOT = Path(__file__).resolve().parents[1]


def test_committed_reports_are_current(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    args = build_parser().parse_args(["report", "--no-cache"])
    run = check_files([shipped_notes()], options_from(args))
    pages = render_reports(run, Path(args.out))
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "reports").glob("*.md")}
    stale = sorted(name for name in pages.keys() | on_disk.keys()
                   if pages.get(name) != on_disk.get(name))
    assert not stale, f"reports/ is stale for {stale}: regenerate it with `make report`"
    assert run.ok, "the shipped notes must pass"
