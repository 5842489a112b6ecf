"""Print SymPy expressions the way course notes write them: `2·s`, `(w·x - y)^2`."""

from __future__ import annotations

import sympy
from sympy.printing.str import StrPrinter


class NotesPrinter(StrPrinter):
    """SymPy's StrPrinter with `·` for products and `^` for powers."""

    def _print_Mul(self, expr: sympy.Mul) -> str:
        return super()._print_Mul(expr).replace("*", "·")

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Exp1(self, expr: sympy.Expr) -> str:
        return "e"

    def _print_Abs(self, expr: sympy.Abs) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        target = self._print(expr.expr)
        wrt = "".join(f"d{self._print(v)}" * n for v, n in expr.variable_count)
        order = sum(n for _v, n in expr.variable_count)
        return f"d{'' if order == 1 else f'^{order}'}({target})/{wrt}"


def notes(expr: sympy.Expr) -> str:
    """`expr` in the notation of the notes."""
    return NotesPrinter().doprint(expr)


from derive.evidence import number  # noqa: E402,F401 - kept where callers look for it
