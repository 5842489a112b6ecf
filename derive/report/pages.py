"""Page names, anchors and the page records of a report.

Page names. A source path becomes a file name in the output directory:
its components (split on `/` or `\\`, dropping empty and `.` ones, `..` written
`__`) are joined with `-`, characters other than letters, digits, `_`, `.` and `-`
become `_`, leading dots are dropped, and `.md` is appended unless the name
already ends in `.md`: `derive/notes/01-chain-rule.md` gives
`derive-notes-01-chain-rule.md`, `nb/intro.ipynb` gives `nb-intro.ipynb.md`.
When two sources of one run would get the same name (compared case-insensitively,
as on macOS and Windows), or a name would be `index.md`, each such source gets
`-` and the first 8 hex digits of the SHA-1 of its path before `.md`
(`a-b-c-1f2e3d4c.md`), or all 40 digits should that still collide; names longer
than 120 bytes (UTF-8) are shortened the same way. So names depend only on the
run's source paths.

Anchors. Each derivation gets `id` = its title in lower-case ASCII, other
characters turned into `-` (`derivation` if nothing is left), with `-2`, `-3`…
for repeats on the same page; a step's subsection is `ANCHOR--step-K`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from derive.results import DerivationResult, RunResult

INDEX = "index.md"
_MAX_NAME = 120
_UNSAFE = re.compile(r"[^\w.\-]")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SourcePage:
    """One report page: a source file, its page name, its derivations and their anchors."""

    source: str
    name: str
    derivations: tuple[DerivationResult, ...]
    anchors: tuple[str, ...]

    def sections(self) -> tuple[tuple[DerivationResult, str], ...]:
        """Each derivation with its anchor."""
        return tuple(zip(self.derivations, self.anchors, strict=True))


@dataclass(frozen=True)
class Index:
    """The index page: the whole run and the pages it links to."""

    run: RunResult
    pages: tuple[SourcePage, ...]


def _digest(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()


def page_stem(source: str) -> str:
    """The page name of `source` before collisions are resolved."""
    parts = [p for p in re.split(r"[\\/]+", source) if p not in ("", ".")]
    name = "-".join("__" if p == ".." else _UNSAFE.sub("_", p) for p in parts)
    name = name.lstrip(".") or "source"
    return name if name.lower().endswith(".md") else f"{name}.md"


def _hashed(stem: str, source: str, digits: int) -> str:
    short = stem[:-3].encode("utf-8")[:_MAX_NAME].decode("utf-8", "ignore")
    return f"{short}-{_digest(source)[:digits]}.md"


def _too_long(name: str) -> bool:
    return len(name.encode("utf-8")) > _MAX_NAME


def page_names(sources: Sequence[str]) -> dict[str, str]:
    """A distinct page name for each distinct source (scheme in the module docstring)."""
    unique = list(dict.fromkeys(sources))
    stems = {s: page_stem(s) for s in unique}
    taken = Counter(n.casefold() for n in stems.values())
    taken[INDEX] += 1
    names = {s: _hashed(n, s, 8) if taken[n.casefold()] > 1 or _too_long(n) else n
             for s, n in stems.items()}
    final = Counter(n.casefold() for n in names.values())
    return {s: _hashed(stems[s], s, 40) if final[n.casefold()] > 1 or n == INDEX else n
            for s, n in names.items()}


def slug(title: str) -> str:
    """An ASCII anchor: `Linear regression, d(loss)/dw` → `linear-regression-d-loss-dw`."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return _NON_SLUG.sub("-", ascii_title.lower()).strip("-") or "derivation"


def anchors(derivations: Sequence[DerivationResult]) -> tuple[str, ...]:
    """Distinct anchors for the derivations of one page, in order."""
    used: set[str] = set()
    out = []
    for d in derivations:
        base = candidate = slug(d.title)
        number = 1
        while candidate in used:
            number += 1
            candidate = f"{base}-{number}"
        used.add(candidate)
        out.append(candidate)
    return tuple(out)


def build_pages(run: RunResult) -> tuple[SourcePage, ...]:
    """The run's derivations grouped by source, in order of first appearance."""
    groups: dict[str, list[DerivationResult]] = {}
    for d in run.derivations:
        groups.setdefault(d.source, []).append(d)
    names = page_names(list(groups))
    return tuple(SourcePage(source, names[source], tuple(ds), anchors(ds))
                 for source, ds in groups.items())
