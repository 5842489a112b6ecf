"""Render steps as written (not as evaluated) in LaTeX, one `_latex_<Class>` per record."""

from __future__ import annotations

import re
import unicodedata

from derive import ast

_GREEK = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu",
    "ξ": r"\xi", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma", "τ": r"\tau", "φ": r"\phi",
    "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega", "Δ": r"\Delta", "Σ": r"\Sigma",
    "Φ": r"\Phi", "Ω": r"\Omega", "Θ": r"\Theta", "Λ": r"\Lambda",
}
_ACCENTS = {"\u0302": r"\hat", "\u0304": r"\bar", "\u0303": r"\tilde", "\u0307": r"\dot"}
_FUNCTIONS = {"exp": r"\exp", "log": r"\log", "ln": r"\ln", "sin": r"\sin", "cos": r"\cos",
              "tan": r"\tan", "tanh": r"\tanh", "sinh": r"\sinh", "cosh": r"\cosh",
              "max": r"\max", "min": r"\min"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "⊙": 2, "^": 4}


def name(text: str) -> str:
    """A name in LaTeX: `ŷ` → `\\hat{y}`, `w_next` → `w_{\\mathrm{next}}`, `w1` → `w_{1}`."""
    base, _, sub = text.partition("_")
    if not sub:
        match = re.fullmatch(r"(\D+?)(\d+)", base)
        if match:
            base, sub = match.groups()
    out = _letters(base)
    if sub:
        out += "_{" + (sub if sub.isdigit() else _letters(sub)) + "}"
    return out


def _letters(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    if len(decomposed) == 2 and decomposed[1] in _ACCENTS:
        return f"{_ACCENTS[decomposed[1]]}{{{_letters(decomposed[0])}}}"
    if text in _GREEK:
        return _GREEK[text]
    if len(text) == 1:
        return text
    if all(ch.isascii() for ch in text):
        return rf"\mathrm{{{text}}}"
    return "".join(_letters(ch) for ch in text)


def _precedence(expr: ast.Expr) -> int:
    if isinstance(expr, ast.BinOp):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, ast.Neg):
        return 3
    return 5


class LatexPrinter:
    """Prints expression records; the method is chosen by the record's class."""

    def doprint(self, expr: ast.Expr) -> str:
        """LaTeX of `expr`."""
        return getattr(self, f"_latex_{type(expr).__name__}")(expr)

    def _wrapped(self, expr: ast.Expr, minimum: int) -> str:
        text = self.doprint(expr)
        return rf"\left({text}\right)" if _precedence(expr) < minimum else text

    def _latex_Number(self, expr: ast.Number) -> str:
        return expr.text

    def _latex_Name(self, expr: ast.Name) -> str:
        if expr.id in ("pi", "π"):
            return r"\pi"
        return name(expr.id)

    def _latex_Neg(self, expr: ast.Neg) -> str:
        return "-" + self._wrapped(expr.operand, 3)

    def _latex_Transpose(self, expr: ast.Transpose) -> str:
        return self._wrapped(expr.operand, 5) + r"^{\top}"

    def _latex_BinOp(self, expr: ast.BinOp) -> str:
        op = expr.op
        if op == "/":
            return rf"\frac{{{self.doprint(expr.left)}}}{{{self.doprint(expr.right)}}}"
        if op == "^":
            return f"{self._wrapped(expr.left, 5)}^{{{self.doprint(expr.right)}}}"
        level = _PRECEDENCE[op]
        left = self._wrapped(expr.left, level)
        right = self._wrapped(expr.right, level + (op in "-⊙"))
        symbol = {"+": " + ", "-": " - ", "*": r" \cdot ", "⊙": r" \odot "}[op]
        return left + symbol + right

    def _latex_Call(self, expr: ast.Call) -> str:
        head = _FUNCTIONS.get(expr.func)
        args = ", ".join(self.doprint(a) for a in expr.args)
        if expr.func == "sqrt":
            return rf"\sqrt{{{args}}}"
        if expr.func == "abs":
            return rf"\left\lvert {args} \right\rvert"
        if head is None:
            head = (rf"\operatorname{{{expr.func}}}" if len(expr.func) > 1 and
                    expr.func.isascii() else name(expr.func))
        return rf"{head}\left({args}\right)"

    def _latex_Derivative(self, expr: ast.Derivative) -> str:
        order = len(expr.wrt)
        top = "d" if order == 1 else f"d^{{{order}}}"
        groups: list[tuple[str, int]] = []
        for v in expr.wrt:
            if groups and groups[-1][0] == v:
                groups[-1] = (v, groups[-1][1] + 1)
            else:
                groups.append((v, 1))
        bottom = r" \, ".join(f"d{name(v)}" + (f"^{{{n}}}" if n > 1 else "")
                              for v, n in groups)
        if isinstance(expr.expr, ast.Name):
            return rf"\frac{{{top} {self.doprint(expr.expr)}}}{{{bottom}}}"
        return rf"\frac{{{top}}}{{{bottom}}}\left({self.doprint(expr.expr)}\right)"


def latex(expr: ast.Expr) -> str:
    """LaTeX of a resolved expression, as the notes write it."""
    return LatexPrinter().doprint(expr)
