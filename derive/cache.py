"""A verdict cache keyed by block text, options and the versions of every engine."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, replace
from functools import cache
from importlib import metadata
from pathlib import Path

from derive.results import (
    Counterexample,
    DerivationResult,
    EngineStats,
    EngineValues,
    Graph,
    GraphEdge,
    StepResult,
    Verdict,
)

FORMAT = 1


@cache
def versions() -> str:
    """Versions of derive and of every library a verdict depends on (without importing them)."""
    parts = []
    for package in ("derive", "sympy", "mpmath", "torch", "jax", "jaxlib", "lark"):
        try:
            parts.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package}=none")
    return ";".join(parts)


def _code_digest() -> str:
    """A digest of derive's own source, so an edited checker never reuses old verdicts."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")) + sorted(root.glob("*.lark")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_CODE = None


def block_key(text: str, options_key: str) -> str:
    """The cache key of one block under given options."""
    global _CODE
    if _CODE is None:
        _CODE = _code_digest()
    material = f"{FORMAT}\0{versions()}\0{_CODE}\0{options_key}\0{text}"
    return hashlib.sha256(material.encode()).hexdigest()


class VerdictCache:
    """Stores each block's result, without its location, as JSON under `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / "verdicts" / key[:2] / f"{key}.json"

    def get(self, key: str, where: DerivationResult) -> DerivationResult | None:
        """The cached result placed at `where`'s location, or None."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            return _decode(data, where)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, result: DerivationResult) -> None:
        """Store a result atomically; a failure to write is ignored (the cache is optional)."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(_encode(result), handle, ensure_ascii=False)
            os.replace(tmp, path)
        except OSError:
            pass


def _encode(result: DerivationResult) -> dict:
    data = asdict(result)
    for step in data["steps"]:
        step["line"] -= result.line  # lines relative to the block
    for key in ("source", "line", "title", "cell"):
        del data[key]
    return data


def _decode(data: dict, where: DerivationResult) -> DerivationResult:
    steps = []
    for s in data["steps"]:
        example = s.pop("counterexample")
        engines = tuple(EngineStats(**e) for e in s.pop("engines"))
        if example is not None:
            example = Counterexample(
                point=tuple(tuple(p) for p in example["point"]),
                values=tuple(EngineValues(**v) for v in example["values"]),
                actual=example["actual"])
        s["line"] += where.line
        s["verdict"] = Verdict(s["verdict"])
        steps.append(StepResult(**s, engines=engines, counterexample=example))
    graph = data["graph"]
    if graph is not None:
        graph = Graph(tuple(graph["inputs"]), tuple(graph["nodes"]),
                      tuple(GraphEdge(**e) for e in graph["edges"]))
    return replace(where, expect=data["expect"], error=data["error"], steps=tuple(steps),
                   worked_point=tuple(tuple(p) for p in data["worked_point"]), graph=graph,
                   sizes=tuple(data["sizes"]))
