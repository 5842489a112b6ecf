"""Budgets: soft time limits for SymPy and the engines, and size limits on what a block asks."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

from derive import ast
from derive.errors import BlockError
from derive.model import Derivation

REFIRE = 0.05  # seconds between alarms once a limit has expired, until the block is left

MAX_DIGITS = 4000  # digits of a number a block computes from numbers (`2^(10^10)`)
MAX_DERIVATIVE_ORDER = 4  # derivatives inside derivatives, through nodes and functions
MAX_WORK = 40_000  # operations an engine runs for a block, each weighted by its derivatives
MAX_DEPTH = 400  # depth of an expression once its functions are expanded
MAX_ENTRIES = 10_000  # entries of all the vectors and matrices a block declares
DERIVATIVE_WEIGHT = 6  # an operation under one more derivative costs this much more
CALL_WORK = 5  # the fixed cost of one derivative (one autodiff call)
ABSTRACT_WORK = 20  # operations of the random smooth function behind an abstract one
DERIVATIVE_DEPTH = 40  # stack frames one derivative adds (autodiff machinery)


class BudgetExceeded(Exception):
    """The time budget of a computation ran out."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise BudgetExceeded inside the block after `seconds` (main thread only).

    Limits nest: an inner limit never extends an outer one, and the outer one is
    restored when the inner block ends. Python runs signal handlers between bytecodes,
    so pure-Python SymPy code stops promptly; a single long C call (a huge integer
    power) is stopped by the worker process being killed instead (see `derive.pool`).
    Once expired, the alarm fires again every REFIRE seconds: an exception raised where
    Python ignores it (a garbage-collector callback) is neither lost nor printed.
    """
    if seconds <= 0:
        raise BudgetExceeded
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outer_left, _interval = signal.getitimer(signal.ITIMER_REAL)
    if outer_left > 0:
        seconds = min(seconds, outer_left)

    def expire(signum, frame):
        raise BudgetExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = quiet_unraisable
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds, REFIRE)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = previous_hook
        if outer_left > 0:
            # give the outer limit what is left of it (at least a moment, so it still fires)
            signal.setitimer(signal.ITIMER_REAL,
                             max(1e-3, outer_left - (time.monotonic() - started)), REFIRE)


def quiet_unraisable(unraisable) -> None:
    """Drop a BudgetExceeded or KeyboardInterrupt that Python could not raise (in a garbage
    collector callback, say): both are raised again. Report the rest."""
    if not isinstance(unraisable.exc_value, BudgetExceeded | KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


class Deadline:
    """A budget shared by several calls: how much of it is left."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.end - time.monotonic())


# --- size limits: refused with a BlockError before SymPy or an engine starts ----------------


def check_size(d: Derivation) -> None:
    """Raise BlockError when `d` asks more of SymPy or the engines than the limits above."""
    _Size(d).check()


class _Size:
    """Walks a derivation once: constants, then each definition's and step's cost."""

    def __init__(self, d: Derivation) -> None:
        self.d = d
        self.work = 0
        self.costs: dict[tuple[str, str], tuple[int, int, int]] = {}  # (work, depth, order)
        self.names: dict[str, frozenset[str]] = {}  # free names of each function
        self.open: set[tuple[str, str]] = set()
        self.known = set(d.inputs) | set(d.node_map)
        self.index = {node.name: i for i, node in enumerate(d.nodes)}
        self.needs: list[int] = []  # per node, a bit mask of the nodes it is computed from
        self.direct: list[frozenset[str]] = []
        self.downstream: dict[str, int] = {}

    def check(self) -> None:
        d = self.d
        self._entries()
        try:
            for i, node in enumerate(d.nodes):  # dependencies first: functions need them
                self.direct.append(self._names(node.expr))
                mask = 0
                for dep in self.direct[-1]:
                    if dep == node.name:  # read through a function
                        raise BlockError(f"`{dep}` is used in its own definition (through a "
                                         "function)", node.line)
                    if dep in self.index and self.index[dep] > i:
                        raise BlockError(f"`{node.name}` is computed from `{dep}` (through a "
                                         f"function) before `{dep}` is defined", node.line)
                    if dep in self.index:
                        mask |= 1 << self.index[dep] | self.needs[self.index[dep]]
                self.needs.append(mask)
            for _name, value in d.at:
                self._constant(value, _line(value, d.line))
            for fn in d.functions:
                self._constant(fn.expr, fn.line)
                self._limits(*self._cost(("function", fn.name), fn.line)[1:], fn.line)
            for node in d.nodes:
                self._constant(node.expr, node.line)
                work, depth, order = self._cost(("node", node.name), node.line)
                self._limits(depth, order, node.line)
                self._add(work, node.line)
            for step in d.steps:
                for side in (step.lhs, step.rhs):
                    self._constant(side, step.line)
                    work, depth, order = self._expr(side, step.line)
                    self._limits(depth, order, step.line)
                    self._add(work, step.line)
        except RecursionError:
            raise BlockError("the block nests too deeply once its nodes and functions are "
                             "expanded", d.line) from None

    def _entries(self) -> None:
        named = 3 + len(self.d.size_names)  # the largest size a size name is checked at
        total = 0
        for _name, dims in self.d.shapes:
            entries = 1
            for dim in dims:
                entries *= dim if isinstance(dim, int) else named
            total += entries
        if total > MAX_ENTRIES:
            raise BlockError(f"the vectors and matrices of this block have {total} entries, "
                             f"more than the {MAX_ENTRIES} derive checks", self.d.line)

    def _add(self, work: int, line: int) -> None:
        self.work += work
        if self.work > MAX_WORK:
            raise BlockError(f"the block is too large to check: it needs more than {MAX_WORK} "
                             "operations once its nodes, functions and derivatives are "
                             "expanded; split it into smaller blocks", line)

    def _limits(self, depth: int, order: int, line: int) -> None:
        if order > MAX_DERIVATIVE_ORDER:
            raise BlockError(f"derivatives nested {order} deep (counting those inside nodes "
                             f"and functions); derive checks up to {MAX_DERIVATIVE_ORDER}", line)
        if depth > MAX_DEPTH:
            raise BlockError(f"nesting deeper than {MAX_DEPTH} levels once functions are "
                             "expanded", line)

    def _constant(self, expr: ast.Expr, line: int) -> Fraction | None:
        """The exact value of a constant (sub)expression, or None; refuse giant numbers."""
        kids = [self._constant(child, line) for child in ast.children(expr)]
        value: Fraction | None = None
        match expr:
            case ast.Number(value=v):
                value = v
            case ast.Neg() if kids[0] is not None:
                value = -kids[0]
            case ast.BinOp(op=op) if None not in kids:
                a, b = kids
                if op == "^":
                    value = _power(a, b, line)
                elif op == "/":
                    value = a / b if b else None
                else:
                    value = a + b if op == "+" else a - b if op == "-" else a * b
        if value is not None and max(abs(value.numerator), value.denominator) > _TOO_BIG:
            raise BlockError(f"a number in this line has more than {MAX_DIGITS} digits", line)
        return value

    def _names(self, expr: ast.Expr) -> frozenset[str]:
        """Inputs and nodes `expr` reads, through functions too (as Derivation.names_in)."""
        found: set[str] = set()
        for sub in ast.walk(expr):
            if isinstance(sub, ast.Name):
                found.add(sub.id)
            elif isinstance(sub, ast.Derivative):
                found.update(sub.wrt)
            elif isinstance(sub, ast.Call) and sub.func in self.d.function_map:
                found.update(self._function_names(sub.func))
        return frozenset(found & self.known)

    def _function_names(self, name: str) -> frozenset[str]:
        if name not in self.names:
            if ("names", name) in self.open:
                raise BlockError(f"`{name}` is defined in terms of itself",
                                 self.d.function_map[name].line)
            self.open.add(("names", name))
            fn = self.d.function_map[name]
            self.names[name] = self._names(fn.expr) - set(fn.params)
            self.open.discard(("names", name))
        return self.names[name]

    def _expr(self, expr: ast.Expr, line: int) -> tuple[int, int, int]:
        """(work, depth, order) of evaluating `expr` as the engines do."""
        match expr:
            case ast.Derivative(expr=inner, wrt=wrt):
                work, depth, order = self._expr(inner, line)
                needed = self._needed(inner)
                for name in wrt:  # the first variable is the innermost derivative
                    f_work, f_depth, f_order = self._follow(name, needed, line)
                    work = DERIVATIVE_WEIGHT * (work + f_work + CALL_WORK)
                    depth = max(depth, f_depth) + DERIVATIVE_DEPTH
                    order = max(order, f_order) + 1
                    self._limits(0, order, line)
                    if work > MAX_WORK:
                        self._add(work, line)
                return work, depth, order
            case ast.Call(func=func, args=args):
                parts = [self._expr(a, line) for a in args]
                if func in self.d.function_map:
                    parts.append(self._cost(("function", func), line))
                elif func in self.d.abstract_map:
                    parts.append((ABSTRACT_WORK, 4, 0))
                return _combine(parts)
        return _combine([self._expr(child, line) for child in ast.children(expr)])

    def _cost(self, key: tuple[str, str], line: int) -> tuple[int, int, int]:
        """The memoised cost of a node's or a function's definition."""
        if key not in self.costs:
            kind, name = key
            if key in self.open:
                raise BlockError(f"`{name}` is defined in terms of itself", line)
            self.open.add(key)
            definition = (self.d.function_map[name] if kind == "function"
                          else self.d.node_map[name])
            self.costs[key] = self._expr(definition.expr, definition.line)
            self.open.discard(key)
            if self.costs[key][0] > MAX_WORK:
                self._add(self.costs[key][0], definition.line)
        return self.costs[key]

    def _needed(self, inner: ast.Expr) -> int:
        """A bit mask of the nodes `inner` is computed from."""
        mask = 0
        for name in self._names(inner):
            if name in self.index:
                mask |= 1 << self.index[name] | self.needs[self.index[name]]
        return mask

    def _follow(self, name: str, needed: int, line: int) -> tuple[int, int, int]:
        """The cost of the nodes re-evaluated when `name` is nudged (as the engines do)."""
        if name not in self.downstream:
            reached, mask = {name}, 0
            for i, node in enumerate(self.d.nodes):
                if self.direct[i] & reached:
                    reached.add(node.name)
                    mask |= 1 << i
            self.downstream[name] = mask
        follow = self.downstream[name] & needed
        parts = []
        while follow:
            low = follow & -follow
            parts.append(self._cost(("node", self.d.nodes[low.bit_length() - 1].name), line))
            follow ^= low
        if not parts:
            return 0, 0, 0
        return (sum(p[0] for p in parts), max(p[1] for p in parts),
                max(p[2] for p in parts))


def _line(expr: ast.Expr, default: int) -> int:
    return expr.pos.line if expr.pos is not None else default


def _power(base: Fraction, exponent: Fraction, line: int) -> Fraction | None:
    """`base^exponent` when it is rational; BlockError when it would be a giant number."""
    size = max(abs(base.numerator), base.denominator)
    if size > 1 and abs(exponent) * (size.bit_length() - 1) > _TOO_BIG_BITS:
        raise BlockError(f"a power in this line would have more than {MAX_DIGITS} digits; "
                         "derive refuses numbers that large", line)
    if exponent.denominator != 1 or (base == 0 and exponent < 0):
        return None
    return base ** int(exponent)


_TOO_BIG_BITS = int(MAX_DIGITS * 3.33)
_TOO_BIG = 1 << _TOO_BIG_BITS


def _combine(parts: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    """One operation over `parts`: works add up, the deepest part and highest order count."""
    if not parts:
        return 1, 1, 0
    return (1 + sum(p[0] for p in parts), 1 + max(p[1] for p in parts),
            max(p[2] for p in parts))
