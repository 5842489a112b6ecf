"""The pytest plugin: with `--derive`, each `derive` block of a .md/.ipynb file is a test.

    $ pytest --derive notes/
    $ pytest --derive notes/ -k "chain rule" -n 4 --junitxml=derive.xml

Nothing heavy is imported until a block is checked; without `--derive` (or the ini
option `derive = true`) the plugin collects nothing.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from derive.results import DerivationResult
    from derive.runner import Checker, Prepared
    from derive.sources import BlockText

SUFFIXES = (".md", ".ipynb")
_CHECKER = pytest.StashKey["Checker"]()


class DeriveFailure(Exception):
    """A derivation that fails; carries its result for the report."""

    def __init__(self, result: DerivationResult) -> None:
        super().__init__(result.title)
        self.result = result


class DeriveUnprovenWarning(UserWarning):
    """A step SymPy could not settle in its time budget, though the engines agree."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--derive` and its run options; ini `derive` and `derive_paths`."""
    group = parser.getgroup("derive", "check derivations in Markdown and notebooks")
    group.addoption("--derive", action="store_true", default=False,
                    help="collect each ```derive block of .md/.ipynb files as a test")
    group.addoption("--derive-engines", default=None, metavar="NAMES",
                    help="numeric engines, comma-separated (default: torch,jax)")
    group.addoption("--derive-samples", type=int, default=None, metavar="N",
                    help="random sample points per step (default: 16)")
    group.addoption("--derive-seed", type=int, default=None, metavar="N",
                    help="seed mixed into each block's sampling (default: 0)")
    parser.addini("derive", type="bool", default=False,
                  help="collect derive blocks as tests, as --derive does")
    parser.addini("derive_paths", type="paths", default=[],
                  help="only .md/.ipynb files below these paths are checked "
                  "(default: every collected .md/.ipynb file)")


def enabled(config: pytest.Config) -> bool:
    """Whether derive blocks are collected in this run."""
    return bool(config.getoption("derive") or config.getini("derive"))


def pytest_configure(config: pytest.Config) -> None:
    """Refuse bad option values before anything is collected."""
    if not enabled(config):
        return
    samples = config.getoption("derive_samples")
    if samples is not None and samples < 1:
        raise pytest.UsageError("--derive-samples must be at least 1")
    engines = config.getoption("derive_engines")
    if engines is not None:
        from derive.engines import ENGINES

        names = [n.strip() for n in engines.split(",") if n.strip()]
        unknown = [n for n in names if n not in ENGINES]
        if unknown or not names:
            raise pytest.UsageError(
                f"--derive-engines: unknown engine {unknown[0]!r} (choose from "
                f"{', '.join(ENGINES)})" if unknown else "--derive-engines: name an engine")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> DeriveFile | None:
    """A DeriveFile for each .md/.ipynb file, when derive is enabled and the path is wanted."""
    config = parent.config
    if file_path.suffix not in SUFFIXES or not enabled(config):
        return None
    wanted = config.getini("derive_paths")
    if wanted and not any(file_path == p or p in file_path.parents for p in wanted):
        return None
    return DeriveFile.from_parent(parent, path=file_path)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the checker's worker processes."""
    checker = session.config.stash.get(_CHECKER, None)
    if checker is not None:
        del session.config.stash[_CHECKER]
        close = getattr(checker, "close", None)
        if close is not None:
            close()


def checker(config: pytest.Config) -> Checker:
    """The session's Checker (one per process: engines load once), made on first use."""
    found = config.stash.get(_CHECKER, None)
    if found is None:
        from derive.runner import Checker, Options

        given: dict[str, Any] = {}
        if config.getoption("derive_engines") is not None:
            given["engines"] = tuple(n.strip() for n in config.getoption("derive_engines")
                                     .split(",") if n.strip())
        if config.getoption("derive_samples") is not None:
            given["samples"] = config.getoption("derive_samples")
        if config.getoption("derive_seed") is not None:
            given["seed"] = config.getoption("derive_seed")
        found = config.stash[_CHECKER] = Checker(Options(jobs=1, **given))
    return found


class DeriveFile(pytest.File):
    """A Markdown file or notebook whose `derive` blocks are the tests."""

    blocks: list[BlockText]
    _prepared: list[Prepared] | None = None

    def label(self) -> str:
        """The file's path as reports name it: relative to the rootdir when below it."""
        try:
            return self.path.relative_to(self.config.rootpath).as_posix()
        except ValueError:
            return self.path.as_posix()

    def collect(self) -> Iterator[pytest.Item]:
        """One DeriveItem per block, named by its title (a file that cannot be read: one item)."""
        from derive.errors import SourceError
        from derive.results import DerivationResult
        from derive.runner import default_titles
        from derive.sources import read_source

        try:
            self.blocks = read_source(self.path, self.label())
        except SourceError as exc:
            result = DerivationResult(source=exc.source, line=1, title=self.path.name,
                                      error=f"{exc.source}:1: {exc.message}")
            yield UnreadableItem.from_parent(self, name=self.path.name, result=result)
            return
        seen: set[str] = set()
        for index, title in enumerate(default_titles(self.blocks)):
            name = title if title not in seen else f"{title} #{index + 1}"
            seen.add(name)
            yield DeriveItem.from_parent(self, name=name, index=index, title=title)

    def prepared(self, index: int) -> Prepared:
        """The block `index` parsed and resolved, as `check` prepares it (the whole file once)."""
        if self._prepared is None:
            from derive.runner import prepare

            self._prepared = prepare(self.blocks)
        return self._prepared[index]


class _BlockItem(pytest.Item):
    """What every derive test item shares: the failure report is `check`'s."""

    title: str

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        """The `check` report of a failing block, not a traceback."""
        if isinstance(excinfo.value, DeriveFailure):
            from derive.api import explain

            return explain(excinfo.value.result).rstrip("\n")
        return super().repr_failure(excinfo, style=style)


class DeriveItem(_BlockItem):
    """One `derive` block: passes when `derive check` would pass it."""

    def __init__(self, *, index: int, title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = index
        self.title = title

    @property
    def block(self) -> BlockText:
        """The block's text and location."""
        assert isinstance(self.parent, DeriveFile)
        return self.parent.blocks[self.index]

    def runtest(self) -> None:
        """Check the block; raise DeriveFailure unless it passes, warn for unproven steps."""
        assert isinstance(self.parent, DeriveFile)
        [result] = checker(self.config).check([self.parent.prepared(self.index)])
        if not result.ok:
            raise DeriveFailure(result)
        from derive.output import derivation_problems

        for problem in derivation_problems(result):
            if problem.warning:
                warnings.warn(DeriveUnprovenWarning(
                    f"{problem.location}: {problem.verdict}: {problem.message}"), stacklevel=1)

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        """Where the block stands: its opening fence."""
        return self.path, self.block.fence_line - 1, f"[derive] {self.title}"


class UnreadableItem(_BlockItem):
    """A file that cannot be read as notes (not UTF-8, not a notebook): one failing test."""

    def __init__(self, *, result: DerivationResult, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.result = result
        self.title = result.title

    def runtest(self) -> None:
        """Fail with the reason the file cannot be read."""
        raise DeriveFailure(self.result)

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        """The file itself."""
        return self.path, 0, f"[derive] {self.title}"
