"""Build a derivation from SymPy objects: it is printed as block text and checked like a block."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sympy
from sympy.core.function import AppliedUndef, UndefinedFunction
from sympy.core.mul import _keep_coeff
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from derive.errors import UsageError
from derive.model import BUILTINS, CONSTANTS

if TYPE_CHECKING:
    from derive.api import Result

# A name of the block language (grammar.lark, NAME), after NFC normalisation.
NAME = re.compile(r"[^\W\d¹²³ᵀ][^\W¹²³ᵀ]*")
RELATIONS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_FUNCTIONS = (sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.tanh, sympy.sinh,
              sympy.cosh, sympy.Abs, sympy.Max, sympy.Min)
_PRINTABLE = (sympy.Add, sympy.Mul, sympy.Pow, sympy.Rational, sympy.Float, sympy.Symbol,
              sympy.core.numbers.Exp1, sympy.core.numbers.Pi, sympy.Derivative, AppliedUndef,
              *_FUNCTIONS)


def block_name(name: str, what: str = "name") -> str:
    """`name` as the block writes it (NFC); UsageError if no block could use it."""
    text = unicodedata.normalize("NFC", str(name))
    if not NAME.fullmatch(text):
        raise UsageError(f"`{name}` cannot be a {what} in a derive block: use letters, digits "
                         "and `_`, starting with a letter")
    if text in BUILTINS or text in CONSTANTS:
        raise UsageError(f"`{name}` is a built-in function or constant of derive blocks; "
                         f"choose another {what}")
    return text


def sympy_function(name: str) -> UndefinedFunction:
    """A SymPy function that prints as a call of the block language, e.g. `sigmoid`."""
    return sympy.Function(name)


sigmoid = sympy_function("sigmoid")
relu = sympy_function("relu")
softplus = sympy_function("softplus")


MAX_DECIMAL_DIGITS = 4000  # what a block may hold (derive refuses larger numbers)


class BlockPrinter(StrPrinter):
    """SymPy to block text: `^` powers, `·` products, `d(E)/dv`, `e`, `pi`; refuses the rest.

    >>> BlockPrinter().doprint(2*sympy.exp(-x)/(1 + x)**2)   # doctest: +SKIP
    '2·exp(-x)/(x + 1)^2'
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, None] = {}  # functions called that are no built-in, in order
        self.symbols: dict[str, sympy.Symbol] = {}  # every symbol printed, by block name

    def _print(self, expr: Any, **kwargs: Any) -> str:
        if isinstance(expr, sympy.Basic):
            if isinstance(expr, sympy.Dummy | sympy.Wild) or not isinstance(expr, _PRINTABLE):
                raise UsageError(f"`{expr}` ({type(expr).__name__}) cannot be written in a "
                                 "derive block")
            if isinstance(expr, AppliedUndef):  # dispatch by name would pick a method
                return self._print_AppliedUndef(expr)
        return super()._print(expr, **kwargs)

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        name = block_name(expr.name)
        self.symbols.setdefault(name, expr)
        return name

    def _print_Float(self, expr: sympy.Float) -> str:
        if expr != 0 and abs(sympy.log(abs(expr), 10)) > MAX_DECIMAL_DIGITS:
            raise UsageError(f"`{expr}` cannot be written in a derive block: written out it "
                             f"would have more than {MAX_DECIMAL_DIGITS} digits")
        # a double prints as its shortest repr (0.1967, not 0.196700000000000)
        double = float(expr)
        text = (repr(double) if expr._prec <= 53 and math.isfinite(double)
                else sympy.sstr(expr, full_prec=False))  # beyond a double's range: its digits
        plain = format(Decimal(text), "f")
        return plain if "." in plain else plain + ".0"

    def _print_Exp1(self, expr: sympy.Expr) -> str:
        return "e"

    def _print_Pi(self, expr: sympy.Expr) -> str:
        return "pi"

    def _print_Abs(self, expr: sympy.Expr) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Max(self, expr: sympy.Expr) -> str:
        return f"max({self.stringify(expr.args, ', ')})"

    def _print_Min(self, expr: sympy.Expr) -> str:
        return f"min({self.stringify(expr.args, ', ')})"

    def _print_AppliedUndef(self, expr: AppliedUndef) -> str:
        name = unicodedata.normalize("NFC", expr.func.__name__)
        if name not in BUILTINS:
            name = block_name(name, "function name")
            if name in ("d", "∂"):
                raise UsageError("`d` and `∂` cannot name a function: `d(` opens a derivative")
            self.calls.setdefault(name, None)
        return f"{name}({self.stringify(expr.args, ', ')})"

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        wrt = []
        for variable, count in expr.variable_count:
            if not isinstance(variable, sympy.Symbol) or isinstance(variable, sympy.Dummy):
                raise UsageError(f"cannot differentiate by `{variable}`: differentiate by a "
                                 "symbol (an input or a node)")
            wrt.extend([variable] * int(count))
        if len(wrt) > 2:
            raise UsageError(f"`{expr}`: derive blocks have first and second derivatives only")
        inner = self._print(expr.expr)
        if len(wrt) == 1:
            return f"d({inner})/{self._dvar(wrt[0])}"
        if wrt[0] == wrt[1]:
            return f"d^2({inner})/{self._dvar(wrt[0])}^2"
        return f"d^2({inner})/{self._dvar(wrt[0], True)}{self._dvar(wrt[1], True)}"

    def _dvar(self, variable: sympy.Symbol, paren: bool = False) -> str:
        name = self._print(variable)
        return f"d({name})" if paren or re.search("[d∂]", name) else f"d{name}"

    def _operand(self, item: sympy.Expr, level: int) -> str:
        if isinstance(item, sympy.Derivative):
            return f"({self._print(item)})"
        return self.parenthesize(item, level, strict=False)

    def _denominator(self, factors: list[sympy.Expr]) -> str:
        texts = [self._operand(f, PRECEDENCE["Mul"]) for f in factors]
        text = "·".join(texts)
        # `x/dy` would read as a derivative `dA/dv`: a name after `/` never starts with d or ∂
        if len(texts) > 1 or text.startswith(("d", "∂")):
            return f"({text})"
        return text

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        base, exponent = expr.base, expr.exp
        if exponent is sympy.S.Half:
            return f"sqrt({self._print(base)})"
        if exponent.is_Rational and exponent == -sympy.S.Half:
            return f"1/sqrt({self._print(base)})"
        if exponent is sympy.S.NegativeOne:
            return f"1/{self._denominator([base])}"
        level = precedence(expr)
        return f"{self._operand(base, level)}^{self._operand(exponent, level)}"

    def _print_Mul(self, expr: sympy.Mul) -> str:
        coefficient, rest = expr.as_coeff_Mul()
        sign = ""
        if coefficient.is_negative:
            sign, expr = "-", _keep_coeff(-coefficient, rest)
            if not expr.is_Mul:
                return sign + self.parenthesize(expr, PRECEDENCE["Mul"], strict=False)
        numerator: list[sympy.Expr] = []
        denominator: list[sympy.Expr] = []
        for factor in expr.as_ordered_factors():
            if factor.is_Rational:
                if factor.p != 1:
                    numerator.append(sympy.Integer(factor.p))
                if factor.q != 1:
                    denominator.append(sympy.Integer(factor.q))
            elif factor.is_Pow and factor.is_commutative and (
                    factor.exp.as_coeff_Mul()[0].is_negative):
                denominator.append(sympy.Pow(factor.base, -factor.exp))
            else:
                numerator.append(factor)
        text = "·".join(self.parenthesize(f, PRECEDENCE["Mul"], strict=False)
                        for f in numerator) or "1"
        if denominator:
            text += "/" + self._denominator(denominator)
        return sign + text

    def relation(self, condition: sympy.Basic) -> list[str]:
        """An assumption (`x > 0`, `Ne(y, 0)`, `And(0 < p, p < 1)`) as block constraints."""
        if isinstance(condition, sympy.And):
            return [text for arg in condition.args for text in self.relation(arg)]
        if not isinstance(condition, sympy.core.relational.Relational) or (
                condition.rel_op not in RELATIONS):
            raise UsageError(f"`{condition}` is no assumption a derive block can state: "
                             "compare an input with a number, as in `x > 0`")
        return [f"{self._print(condition.lhs)} {RELATIONS[condition.rel_op]} "
                f"{self._print(condition.rhs)}"]


def _sympify(value: Any) -> sympy.Expr:
    if isinstance(value, str):
        raise UsageError(f"`{value}` is a string: pass SymPy expressions or numbers")
    try:
        return sympy.sympify(value, strict=True)
    except (sympy.SympifyError, TypeError) as exc:
        raise UsageError(f"`{value!r}` is no SymPy expression or number") from exc


def _assumptions(symbol: sympy.Symbol, name: str) -> list[str]:
    """What SymPy assumes about a symbol, as constraints (`positive=True` is `x > 0`)."""
    for attribute, text in (("is_positive", "> 0"), ("is_negative", "< 0"),
                            ("is_nonnegative", ">= 0"), ("is_nonpositive", "<= 0"),
                            ("is_nonzero", "!= 0")):
        if getattr(symbol, attribute) is True:
            return [f"{name} {text}"]
    return []


class Derivation:
    """A derivation held in SymPy, checked exactly as the `derive` block it prints as.

    >>> x, w, y = sympy.symbols("x w y")
    >>> d = Derivation("linear model", at={x: 1, y: 2, w: 1})
    >>> yhat = d.node("ŷ", w*x); loss = d.node("loss", (yhat - y)**2)
    >>> d.chain(d.diff(loss, w), 2*(yhat - y)*x, -2)
    >>> d.check().verdicts                                # doctest: +SKIP
    ['holds', 'holds-at-point']
    """

    def __init__(self, title: str = "", *, at: Mapping[Any, Any] | None = None,
                 expect: str | None = None, source: str = "<Derivation>") -> None:
        if "\n" in title or "\r" in title:
            raise UsageError("a title is one line")
        if expect not in (None, "wrong"):
            raise UsageError(f"expect takes only 'wrong', not {expect!r}")
        self.title = title.strip()
        self.expect = expect
        self.source = source
        self.at: dict[str, sympy.Expr] = {}
        for key, value in (at or {}).items():
            name = block_name(key.name if isinstance(key, sympy.Symbol) else key, "input")
            number = _sympify(value)
            if number.free_symbols:
                raise UsageError(f"the value of `{name}` in `at` must be a number, not {value}")
            self.at[name] = number
        self._assumptions: list[sympy.Basic] = []
        self._functions: dict[str, None] = {}
        self._lines: list[tuple[str, Any]] = []  # ("node", (name, expr)), ("define", …), …
        self._names: set[str] = set()

    def _new_name(self, name: str, what: str) -> str:
        text = block_name(name, what)
        if text in self._names:
            raise UsageError(f"`{text}` is already a node or function of this derivation")
        self._names.add(text)
        return text

    def function(self, name: str) -> UndefinedFunction:
        """Declare an abstract (unspecified, smooth) function; returns it as a SymPy Function.

        >>> f = d.function("f"); d.chain(d.diff(f(x**2), x), 2*x*...)   # doctest: +SKIP
        """
        text = self._new_name(name, "function name")
        if text in ("d", "∂"):
            raise UsageError("`d` and `∂` cannot name a function: `d(` opens a derivative")
        self._functions[text] = None
        return sympy.Function(text)

    def define(self, name: str, params: Iterable[sympy.Symbol], expr: Any) -> UndefinedFunction:
        """Define a concrete function, `σ(t) := 1/(1 + exp(-t))`; returns it to call.

        >>> σ = d.define("σ", [t], 1/(1 + sympy.exp(-t)))   # doctest: +SKIP
        """
        text = self._new_name(name, "function name")
        if text in ("d", "∂"):
            raise UsageError("`d` and `∂` cannot name a function: `d(` opens a derivative")
        params = tuple(params)
        if not all(isinstance(p, sympy.Symbol) for p in params):
            raise UsageError("the parameters of a function are SymPy symbols")
        self._lines.append(("define", (text, params, _sympify(expr))))
        return sympy.Function(text)

    def node(self, name: str, expr: Any) -> sympy.Symbol:
        """Add a node `name := expr` of the computational graph; returns its symbol.

        >>> yhat = d.node("ŷ", w*x)   # doctest: +SKIP
        """
        text = self._new_name(name, "node name")
        self._lines.append(("node", (text, _sympify(expr))))
        return sympy.Symbol(text)

    def diff(self, expr: Any, *variables: Any) -> sympy.Derivative:
        """The derivative term `d(expr)/dv` (unevaluated): `d.diff(loss, w)`, `d.diff(f, x, x)`.

        >>> d.diff(loss, w)   # doctest: +SKIP
        Derivative(loss, w)
        """
        if not variables:
            raise UsageError("name the variable to differentiate by: d.diff(expr, x)")
        return sympy.Derivative(_sympify(expr), *variables, evaluate=False)

    def assume(self, *conditions: Any) -> None:
        """Domains of inputs: `d.assume(x > 0, sympy.Ne(y, 0))`.

        >>> d.assume(x > 0, sympy.And(0 < p, p < 1))   # doctest: +SKIP
        """
        for condition in conditions:
            BlockPrinter().relation(condition)  # refuse what a block cannot state, now
            self._assumptions.append(condition)

    def chain(self, *exprs: Any, approximate: bool = False) -> None:
        """Add the steps `E0 = E1 = E2 …` (`≈` when approximate): each adjacent pair is a step.

        >>> d.chain(d.diff(loss, w), 2*(yhat - y)*x, -2)   # doctest: +SKIP
        """
        if len(exprs) < 2:
            raise UsageError("a chain needs two expressions or more: d.chain(lhs, rhs, …)")
        self._lines.append(("chain", (tuple(_sympify(e) for e in exprs), approximate)))

    def text(self) -> str:
        """The `derive` block this derivation prints as (the body, without fences).

        >>> print(d.text())   # doctest: +SKIP
        title: linear model
        at: x = 1, y = 2, w = 1
        ŷ := w·x
        ...
        """
        printer = BlockPrinter()
        body = [self._line(printer, kind, item) for kind, item in self._lines]
        params = {block_name(p.name) for kind, item in self._lines if kind == "define"
                  for p in item[1]}
        assumptions: dict[str, None] = {}
        for condition in self._assumptions:
            assumptions.update(dict.fromkeys(printer.relation(condition)))
        for name, symbol in list(printer.symbols.items()):
            if name not in self._names and name not in params:
                assumptions.update(dict.fromkeys(_assumptions(symbol, name)))
        head = [f"title: {self.title}"] if self.title else []
        if self.at:
            head.append("at: " + ", ".join(f"{name} = {printer.doprint(value)}"
                                           for name, value in self.at.items()))
        if assumptions:
            head.append("assume: " + ", ".join(assumptions))
        functions = [*self._functions, *(f for f in printer.calls if f not in self._functions
                                          and f not in self._names)]
        if functions:
            head.append("function: " + ", ".join(functions))
        if self.expect:
            head.append(f"expect: {self.expect}")
        return "\n".join([*head, *body]) + "\n"

    @staticmethod
    def _line(printer: BlockPrinter, kind: str, item: Any) -> str:
        if kind == "node":
            name, expr = item
            return f"{name} := {printer.doprint(expr)}"
        if kind == "define":
            name, params, expr = item
            return f"{name}({', '.join(printer.doprint(p) for p in params)}) := " \
                   f"{printer.doprint(expr)}"
        exprs, approximate = item
        relation = " ≈ " if approximate else " = "
        return relation.join(printer.doprint(e) for e in exprs)

    def check(self, **options: Any) -> Result:
        """Check the printed block; the same Result (and report) as derive.check(self.text())."""
        from derive.api import check

        return check(self.text(), source=self.source, **options)

    def __repr__(self) -> str:
        return f"<Derivation {self.title!r}: {len(self._lines)} line(s)>"


__all__ = ["BlockPrinter", "Derivation", "block_name", "relu", "sigmoid", "softplus"]
