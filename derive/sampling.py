"""Sample points for a derivation: seeded from its text, drawn from each input's domain."""

from __future__ import annotations

import hashlib
import random
from fractions import Fraction

from derive.model import Derivation, Domain
from derive.shapes import ShapeChecker, Sizes, element_names

# Points are multiples of 1/256: exact in binary floating point, so SymPy's exact value and
# the engines' float64 value are computed at the very same point.
GRID = 256
DEFAULT_SPAN = Fraction(5, 2)


def block_seed(text: str, seed: int) -> int:
    """A seed for one block: stable across runs and machines."""
    digest = hashlib.sha256(f"{seed}\0{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def draw(domain: Domain, rng: random.Random) -> Fraction:
    """One value from `domain` on the 1/256 grid."""
    lo, hi = _interval(domain)
    lo_k = int((lo * GRID).__ceil__())
    hi_k = int((hi * GRID).__floor__())
    for _ in range(64):
        value = Fraction(rng.randint(lo_k, hi_k), GRID)
        if domain.contains(value):
            return value
    # a narrow domain: fall back to its midpoint
    return (lo + hi) / 2


def _interval(domain: Domain) -> tuple[Fraction, Fraction]:
    lo, hi = domain.lower, domain.upper
    if lo is not None and hi is not None:
        return lo, hi
    if lo is not None:
        return lo, lo + 2 * DEFAULT_SPAN
    if hi is not None:
        return hi - 2 * DEFAULT_SPAN, hi
    return -DEFAULT_SPAN, DEFAULT_SPAN


def candidates(derivation: Derivation, count: int, seed: int) -> list[dict[str, Fraction]]:
    """`count` random points over the derivation's inputs (extra ones allow redrawing)."""
    rng = random.Random(block_seed(derivation.text, seed))
    return [{name: draw(derivation.domain(name), rng) for name in derivation.inputs}
            for _ in range(count)]


def shaped_candidates(d: Derivation, sizes: Sizes, count: int,
                      seed: int) -> list[dict[str, Fraction]]:
    """Random points over every entry of every input; `sum(y) = c` fixes y's last entry."""
    shapes = ShapeChecker(d, sizes).shapes
    rng = random.Random(block_seed(d.text + sizes.text(), seed))
    constraints = dict(d.sum_constraints)
    points = []
    for _ in range(count):
        point: dict[str, Fraction] = {}
        for name in d.inputs:
            entries = [n for row in element_names(name, shapes[name]) for n in row]
            for entry in entries:
                point[entry] = draw(d.domain(name), rng)
            if name in constraints:
                point[entries[-1]] = constraints[name] - sum(
                    (point[e] for e in entries[:-1]), Fraction(0))
        points.append(point)
    return points
