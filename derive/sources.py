"""Find `derive` blocks in Markdown files, notebooks and directories."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

from derive.errors import SourceError

FENCE_INFO = "derive"
MAX_SOURCE_BYTES = 16 * 1024**2  # larger files are refused (notebooks with their outputs)


@dataclass(frozen=True)
class BlockText:
    """The raw text of one fenced `derive` block and where it stands."""

    source: str  # the path as the user named it (joined with the path below a directory)
    fence_line: int  # line of the opening fence, 1-based (within the cell for notebooks)
    first_line: int  # line of the block's first content line
    text: str
    heading: str | None  # the nearest Markdown heading above the block
    cell: int | None = None  # 1-based notebook cell


def blocks_in_markdown(text: str, source: str, cell: int | None = None) -> list[BlockText]:
    """Every fenced `derive` block in Markdown `text`, in order."""
    tokens = MarkdownIt("commonmark").parse(text)
    heading: str | None = None
    found = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and index + 1 < len(tokens):
            heading = tokens[index + 1].content.strip() or heading
        elif token.type == "fence" and token.info.strip().split(maxsplit=1)[:1] == [FENCE_INFO]:
            start = token.map[0] + 1 if token.map else 1
            found.append(BlockText(source, start, start + 1, token.content, heading, cell))
    return found


def blocks_in_notebook(text: str, source: str) -> list[BlockText]:
    """Every `derive` block in the markdown cells of a Jupyter notebook."""
    try:
        notebook = json.loads(text)
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise SourceError(source, "not a valid Jupyter notebook (expected JSON with `cells`)") \
            from None
    found = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise SourceError(source, f"not a valid Jupyter notebook (cell {number} is not an "
                              "object)")
        if cell.get("cell_type") != "markdown":
            continue
        body = cell.get("source", "")
        if isinstance(body, list) and all(isinstance(part, str) for part in body):
            body = "".join(body)
        if not isinstance(body, str):
            raise SourceError(source, f"not a valid Jupyter notebook (the source of cell {number} "
                              "is not text)")
        found.extend(blocks_in_markdown(body, source, cell=number))
    return found


def read_source(path: Path, label: str) -> list[BlockText]:
    """The blocks of one file; SourceError when it cannot be read as text."""
    check_file(path, label)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(label, f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(label, f"is not UTF-8 text (byte {exc.start + 1} is invalid)") from None
    text = text.removeprefix("\ufeff")
    if path.suffix == ".ipynb":
        return blocks_in_notebook(text, label)
    return blocks_in_markdown(text, label)


@dataclass(frozen=True)
class SourceFile:
    """A file to check: its path on disk and the label reports use."""

    path: Path
    label: str


def expand_paths(paths: list[str]) -> Iterator[SourceFile | SourceError]:
    """Files named, and `.md`/`.ipynb` files below directories, in sorted order.

    A directory loop or an unreadable directory yields a SourceError and the walk goes on.
    """
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from _walk(path, given)
        else:
            yield SourceFile(path, _label(given))


def _label(path: str) -> str:
    return Path(path).as_posix()


def _walk(root: Path, given: str) -> Iterator[SourceFile | SourceError]:
    seen: set[tuple[int, int]] = set()

    def visit(directory: Path, label: str) -> Iterator[SourceFile | SourceError]:
        try:
            stat = directory.stat()
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            yield SourceError(label, f"cannot be read: {exc.strerror or exc}")
            return
        key = (stat.st_dev, stat.st_ino)
        if key in seen:
            yield SourceError(label, "is a directory loop (a link back to a parent); skipped")
            return
        seen.add(key)
        for entry in entries:
            child_label = f"{label.rstrip('/')}/{entry.name}" if label else entry.name
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                yield from visit(Path(entry.path), child_label)
            elif entry.name.endswith((".md", ".ipynb")):
                yield SourceFile(Path(entry.path), _label(child_label))

    yield from visit(root, given)


def check_file(path: Path, label: str) -> None:
    """SourceError unless `path` is a regular file small enough to read (never a FIFO)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SourceError(label, f"cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(label, "cannot be read: it is not a regular file")
    if info.st_size > MAX_SOURCE_BYTES:
        raise SourceError(label, f"is {info.st_size / 1024**2:.1f} MiB, more than the "
                          f"{MAX_SOURCE_BYTES // 1024**2} MiB derive reads; skipped")
