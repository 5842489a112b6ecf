"""Markdown reports of a run: `index.md` plus one page per source file (see `pages` for names)."""

from derive.report.pages import INDEX, page_names
from derive.report.renderer import ReportRenderer
from derive.report.writer import write_reports

__all__ = ["INDEX", "ReportRenderer", "page_names", "write_reports"]
