"""Write a run's report pages atomically and remove the pages of vanished sources."""

from __future__ import annotations

import os
from pathlib import Path

from derive.report.markdown import MARKER
from derive.report.pages import INDEX, Index, build_pages
from derive.report.renderer import ReportRenderer
from derive.results import RunResult


def render_reports(run: RunResult, out_dir: Path) -> dict[str, str]:
    """Every page of the report, by file name (index first), rendered in memory."""
    pages = build_pages(run)
    renderer = ReportRenderer(out_dir)
    rendered = {INDEX: renderer.render(Index(run, pages))}
    rendered.update((page.name, renderer.render(page)) for page in pages)
    return rendered


def _is_generated(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.readline().rstrip("\r\n") == MARKER
    except OSError:
        return False


def _replace_all(out_dir: Path, rendered: dict[str, str]) -> None:
    """Write every page to a temporary file, then move them all into place."""
    temporary: dict[str, Path] = {}
    try:
        for name, text in rendered.items():
            temporary[name] = out_dir / f".{name}.{os.getpid()}.tmp"
            with temporary[name].open("w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
    except BaseException:
        for path in temporary.values():
            path.unlink(missing_ok=True)
        raise
    for name, path in temporary.items():
        os.replace(path, out_dir / name)


def write_reports(run: RunResult, out_dir: Path) -> list[Path]:
    """Write `index.md` and one page per source into `out_dir`; return the paths written.

    Nothing is written unless every page renders. Afterwards, `*.md` files in
    `out_dir` that start with the generated-file marker but belong to no current
    source are deleted; files without the marker are never touched.
    """
    out_dir = Path(out_dir)
    rendered = render_reports(run, out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _replace_all(out_dir, rendered)
    for path in sorted(out_dir.glob("*.md")):
        if path.name not in rendered and path.is_file() and _is_generated(path):
            path.unlink()
    return [out_dir / name for name in rendered]
