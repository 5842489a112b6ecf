"""Finding `derive` blocks in Markdown, notebooks and directories (spec section 1)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from derive.errors import SourceError
from derive.sources import (
    SourceFile,
    blocks_in_markdown,
    blocks_in_notebook,
    expand_paths,
    read_source,
)

MARKDOWN = """\
# Top

Prose with `derive` in it.

## Section A

```derive
f := x
df/dx = 1
```

~~~derive
title: tilde fence
x = x
~~~

```python
x = 1
```

```derive extra words
y = y
```

- a list item

  ```derive
  z = z
  ```

> ```derive
> w = w
> ```

### Section B

````derive
a = a
````
"""


def test_fenced_derive_blocks_with_lines_and_headings() -> None:
    blocks = blocks_in_markdown(MARKDOWN, "notes.md")
    assert [(b.fence_line, b.first_line, b.heading, b.text) for b in blocks] == [
        (7, 8, "Section A", "f := x\ndf/dx = 1\n"),
        (12, 13, "Section A", "title: tilde fence\nx = x\n"),
        (21, 22, "Section A", "y = y\n"),
        (27, 28, "Section A", "z = z\n"),
        (31, 32, "Section A", "w = w\n"),
        (37, 38, "Section B", "a = a\n"),
    ]
    assert {b.source for b in blocks} == {"notes.md"}
    assert all(b.cell is None for b in blocks)


def test_no_heading_and_no_block() -> None:
    [block] = blocks_in_markdown("```derive\nx = x\n```\n", "a.md")
    assert block.heading is None and block.fence_line == 1
    assert blocks_in_markdown("# Only prose\n\n```\nx = x\n```\n", "b.md") == []
    assert blocks_in_markdown("", "c.md") == []


def test_crlf_markdown_keeps_line_numbers() -> None:
    [block] = blocks_in_markdown("# A\r\n\r\n```derive\r\nf := x\r\ndf/dx = 1\r\n```\r\n", "a.md")
    assert (block.fence_line, block.first_line, block.text) == (3, 4, "f := x\ndf/dx = 1\n")


def _notebook(*cells) -> str:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_notebook_blocks_come_from_markdown_cells_with_their_cell_number() -> None:
    text = _notebook(
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n"]},
        {"cell_type": "code", "metadata": {}, "source": ["```derive\n", "x = x\n", "```\n"],
         "outputs": [], "execution_count": None},
        {"cell_type": "markdown", "metadata": {},
         "source": ["## Part\n", "\n", "```derive\n", "y = y\n", "```\n"]},
        {"cell_type": "markdown", "metadata": {}, "source": "```derive\nz = z\n```\n"},
        {"cell_type": "raw", "metadata": {}, "source": "```derive\nr = r\n```\n"},
    )
    blocks = blocks_in_notebook(text, "nb.ipynb")
    assert [(b.cell, b.fence_line, b.first_line, b.heading, b.text) for b in blocks] == [
        (3, 3, 4, "Part", "y = y\n"),
        (4, 1, 2, None, "z = z\n"),
    ]


@pytest.mark.parametrize("text", ["not json", "[]", '{"cells": 3}', '{"metadata": {}}'])
def test_a_broken_notebook_is_a_source_error(text) -> None:
    with pytest.raises(SourceError, match="not a valid Jupyter notebook"):
        blocks_in_notebook(text, "bad.ipynb")


def test_read_source(tmp_path: Path) -> None:
    md = tmp_path / "a.md"
    md.write_bytes("\ufeff# H\n\n```derive\nx = x\n```\n".encode())
    [block] = read_source(md, "label/a.md")
    assert (block.source, block.fence_line, block.heading) == ("label/a.md", 3, "H")
    nb = tmp_path / "n.ipynb"
    nb.write_text(_notebook({"cell_type": "markdown", "metadata": {},
                             "source": "```derive\nx = x\n```\n"}), encoding="utf-8")
    [cell] = read_source(nb, "n.ipynb")
    assert cell.cell == 1
    latin = tmp_path / "latin.md"
    latin.write_bytes(b"caf\xe9\n")
    with pytest.raises(SourceError, match="not UTF-8"):
        read_source(latin, "latin.md")
    with pytest.raises(SourceError, match="cannot be read"):
        read_source(tmp_path / "missing.md", "missing.md")


def test_directories_expand_to_markdown_and_notebooks_in_order(tmp_path: Path,
                                                              monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("notes/b.md", "notes/a.ipynb", "notes/README.md", "notes/sub/c.md",
                 "notes/skip.txt", "notes/.hidden/d.md", "notes/.ipynb_checkpoints/a.ipynb",
                 "one.md"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
    found = list(expand_paths(["notes", "one.md", "notes/"]))
    assert all(isinstance(f, SourceFile) for f in found)
    assert [f.label for f in found] == [
        "notes/README.md", "notes/a.ipynb", "notes/b.md", "notes/sub/c.md", "one.md",
        "notes/README.md", "notes/a.ipynb", "notes/b.md", "notes/sub/c.md"]
    assert found[2].path == Path("notes") / "b.md"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_directory_loop_is_reported_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "e" / "x.md").write_text("", encoding="utf-8")
    (tmp_path / "d" / "e" / "up").symlink_to(tmp_path / "d")
    found = list(expand_paths([str(tmp_path / "d")]))
    files = [f.label for f in found if isinstance(f, SourceFile)]
    errors = [f for f in found if isinstance(f, SourceError)]
    assert files == [f"{tmp_path}/d/e/x.md"]
    assert len(errors) == 1 and "loop" in errors[0].message


def test_a_fifo_is_refused_without_blocking(tmp_path) -> None:
    """Every reader (the CLI, the pytest plugin, the API) refuses a FIFO before opening it."""
    import os

    from derive.errors import SourceError
    from derive.sources import read_source

    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match="not a regular file"):
        read_source(fifo, "pipe.md")
