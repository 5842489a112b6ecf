"""Generate a seeded synthetic course of derivative claims, in derive blocks, with ground truth."""

from __future__ import annotations

import argparse
import json
import pickle
import random
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import sympy
from sympy.parsing.sympy_parser import parse_expr, standard_transformations
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

#: Names the inputs of a block are drawn from (never `e`, `d` or `pi`: the format reserves them).
INPUT_POOL = ("x", "y", "w", "u", "v")
#: Steps per derive block.
STEPS_PER_BLOCK = 5
#: One claim in WRONG_EVERY is wrong.
WRONG_EVERY = 5
#: Built-in functions of the format the generator may print.
ALLOWED_FUNCS = {sympy.exp, sympy.sin, sympy.cos, sympy.tanh, sympy.log}
#: Size caps, in printed characters, to keep claims as long as course notes write them.
MAX_F_CHARS = 48
MAX_CLAIM_CHARS = 120
#: Rational points the claims are checked at (exact substitution, then 60-digit evaluation).
CHECK_POINTS = (
    sympy.Rational(1, 3),
    sympy.Rational(-2, 5),
    sympy.Rational(3, 4),
    sympy.Rational(5, 7),
    sympy.Rational(-1, 2),
    sympy.Rational(6, 5),
    sympy.Rational(-7, 4),
    sympy.Rational(2, 9),
)
#: Chance of redrawing a right step whose claim could not be rewritten differently.
AS_IS_REDRAW = 0.9
WRONG_KINDS = ("dropped term", "flipped sign", "wrong factor", "missing chain factor")


class DerivePrinter(StrPrinter):
    """SymPy's str printer, speaking the derive syntax: `^`, `·`, `exp(1)`, no Abs/floats/I."""

    def _print_Pow(self, expr, rational=False):
        prec = precedence(expr)
        base, exp_ = expr.base, expr.exp
        if exp_ is sympy.S.Half and not rational:
            return f"sqrt({self._print(base)})"
        if expr.is_commutative and not rational:
            if -exp_ is sympy.S.Half:
                return f"1/sqrt({self._print(base)})"
            if exp_ is sympy.S.NegativeOne:
                return "1/" + self.parenthesize(base, prec, strict=False)
        # The base is parenthesized strictly, so `(a^b)^c` never prints as the
        # right-associative `a^b^c`; a power exponent needs no parentheses.
        b = self.parenthesize(base, prec, strict=True)
        e = self.parenthesize(exp_, prec, strict=False)
        return f"{b}^{e}"

    def _print_Mul(self, expr):
        # Every nested part is already printed by this printer, so the only `*`
        # left in the result are the separators of this product.
        return super()._print_Mul(expr).replace("*", "·")

    def _print_Exp1(self, expr):
        return "exp(1)"

    def _refuse(self, expr):
        raise ValueError(f"the derive format cannot print {type(expr).__name__}: {expr}")

    _print_Abs = _refuse
    _print_Float = _refuse
    _print_ImaginaryUnit = _refuse
    _print_Derivative = _refuse
    _print_Piecewise = _refuse
    _print_sign = _refuse


_PRINTER = DerivePrinter({"order": None})


def to_derive(expr: sympy.Expr) -> str:
    """Print a SymPy expression in the derive syntax."""
    for func in expr.atoms(sympy.Function):
        if func.func not in ALLOWED_FUNCS:
            raise ValueError(f"the generator must not print {func.func}: {expr}")
    return _PRINTER.doprint(expr)


def from_derive(text: str, names: tuple[str, ...]) -> sympy.Expr:
    """Read back the subset of the derive syntax `to_derive` writes (for self-checks only)."""
    local = {n: sympy.Symbol(n) for n in names}
    local.update({"exp": sympy.exp, "sin": sympy.sin, "cos": sympy.cos, "tanh": sympy.tanh,
                  "log": sympy.log, "sqrt": sympy.sqrt})
    py = text.replace("^", "**").replace("·", "*")
    return parse_expr(py, local_dict=local, global_dict={"Integer": sympy.Integer,
                                                          "Rational": sympy.Rational,
                                                          "Symbol": sympy.Symbol},
                      transformations=standard_transformations, evaluate=True)


@dataclass
class Step:
    """One claim `d(f)/d(var) = claim`, with what the generator knows about it."""

    f: sympy.Expr
    var: sympy.Symbol
    claim: sympy.Expr
    right: bool
    kind: str  # "right" or one of WRONG_KINDS
    form: str  # how the claim was rewritten
    f_text: str
    claim_text: str

    @property
    def text(self) -> str:
        """The step as a line of a derive block."""
        return f"d({self.f_text})/d{self.var.name} = {self.claim_text}"


@dataclass
class Block:
    """One derive block: a title, its inputs and its steps."""

    title: str
    inputs: tuple[str, ...]
    steps: list[Step]


@dataclass
class Course:
    """A whole synthetic course."""

    size: int
    seed: int
    blocks: list[Block]

    def steps(self) -> list[tuple[Block, int, Step]]:
        """Every step with its block and 1-based index in the block."""
        return [(b, i, s) for b in self.blocks for i, s in enumerate(b.steps, 1)]


# --------------------------------------------------------------------------- expressions


def _random_expr(rng: random.Random, syms: list[sympy.Symbol], depth: int) -> sympy.Expr:
    """A random composition of + · / ^ exp sin cos tanh of the given depth."""
    if depth <= 0:
        if rng.random() < 0.15:
            return sympy.Integer(rng.choice((2, 3)))
        return rng.choice(syms)
    sub = depth - 1
    op = rng.choices(("+", "*", "/", "^", "exp", "sin", "cos", "tanh"),
                     weights=(3, 3, 2, 2, 2, 1.5, 1.5, 2))[0]
    if op == "+":
        return _random_expr(rng, syms, sub) + _random_expr(rng, syms, rng.randint(0, sub))
    if op == "*":
        return _random_expr(rng, syms, sub) * _random_expr(rng, syms, rng.randint(0, sub))
    if op == "^":
        return _random_expr(rng, syms, sub) ** rng.choice((2, 2, 3))
    if op == "/":
        num = _random_expr(rng, syms, sub)
        inner = _random_expr(rng, syms, rng.randint(0, max(sub - 1, 0)))
        den = rng.choice((
            1 + sympy.exp(-inner),      # the sigmoid shape
            inner**2 + 1,
            2 + sympy.cos(inner),
            rng.choice(syms),
        ))
        return num / den
    func = {"exp": sympy.exp, "sin": sympy.sin, "cos": sympy.cos, "tanh": sympy.tanh}[op]
    return func(_random_expr(rng, syms, sub))


def _forms(expr: sympy.Expr, rng: random.Random) -> list[tuple[str, sympy.Expr]]:
    """Equivalent rewrites of expr, in a random order, to disguise SymPy's own output."""
    names = ["together", "exp", "factor_terms", "factor", "expand"]
    rng.shuffle(names)
    out = []
    small = sympy.count_ops(expr) <= 25
    for name in names:
        if name == "together":
            out.append((name, sympy.together(expr)))
        elif name == "exp" and expr.has(sympy.tanh):
            out.append((name, expr.rewrite(sympy.tanh, sympy.exp)))
        elif name == "factor_terms":
            out.append((name, sympy.factor_terms(expr)))
        elif name == "factor" and small:
            out.append((name, sympy.factor(expr)))
        elif name == "expand" and small:
            expanded = sympy.expand(expr)
            if sympy.count_ops(expanded) <= 30:
                out.append((name, expanded))
    return out


def _disguise(expr: sympy.Expr, rng: random.Random) -> tuple[str, sympy.Expr]:
    """Pick a rewrite of expr that prints differently from SymPy's own form, if any."""
    plain = to_derive(expr)
    for name, form in _forms(expr, rng):
        try:
            text = to_derive(form)
        except ValueError:
            continue
        if text != plain and len(text) <= min(MAX_CLAIM_CHARS, max(60, 1.5 * len(plain))):
            return name, form
    return "as-is", expr


def _terms(expr: sympy.Expr) -> list[sympy.Expr]:
    """The summands of expr, expanding a non-sum once if that gives a sum."""
    if isinstance(expr, sympy.Add):
        return list(expr.args)
    expanded = sympy.expand(expr)
    return list(expanded.args) if isinstance(expanded, sympy.Add) else [expr]


def _mutate(kind: str, f: sympy.Expr, var: sympy.Symbol, deriv: sympy.Expr,
            rng: random.Random) -> sympy.Expr | None:
    """A wrong derivative of f of the given kind, or None when the kind does not apply."""
    terms = _terms(deriv)
    if kind == "dropped term":
        if len(terms) < 2:
            return None
        k = rng.randrange(len(terms))
        return sympy.Add(*(t for i, t in enumerate(terms) if i != k))
    if kind == "flipped sign":
        if len(terms) < 2:
            return -deriv
        k = rng.randrange(len(terms))
        return sympy.Add(*(-t if i == k else t for i, t in enumerate(terms)))
    if kind == "wrong factor":
        factor = rng.choice((sympy.Integer(2), sympy.Rational(1, 2), sympy.Integer(3), var))
        k = rng.randrange(len(terms))
        return sympy.Add(*(factor * t if i == k else t for i, t in enumerate(terms)))
    if kind == "missing chain factor":
        # Differentiate one inner node h(u) as h'(u), forgetting the factor du/dvar.
        nodes = []
        for node in sympy.preorder_traversal(f):
            if isinstance(node, sympy.Pow) and node.exp.is_Integer:
                inner = node.base
            elif isinstance(node, (sympy.exp, sympy.sin, sympy.cos, sympy.tanh)):
                inner = node.args[0]
            else:
                continue
            if inner.has(var) and inner != var:
                nodes.append((node, inner))
        if not nodes:
            return None
        node, inner = rng.choice(nodes)
        s, t = sympy.Dummy("s"), sympy.Dummy("t")
        outer = sympy.diff(node.func(t, *node.args[1:]), t).subs(t, inner)
        g = f.xreplace({node: s})
        return (sympy.diff(g, var) + sympy.diff(g, s) * outer).subs(s, node)
    raise ValueError(kind)


# --------------------------------------------------------------------------- self-checks


def _values(expr: sympy.Expr, names: tuple[str, ...], point: tuple) -> sympy.Float | None:
    """expr at the point (exact rational substitution, evaluated to 60 digits), or None."""
    subs = {sympy.Symbol(n): p for n, p in zip(names, point, strict=True)}
    val = expr.xreplace(subs)
    if val.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    val = sympy.N(val, 60)
    if not val.is_real or not val.is_finite:
        return None
    return val


def _points(names: tuple[str, ...], rng: random.Random, count: int = 4) -> list[tuple]:
    """A few points with rational coordinates."""
    return [tuple(rng.choice(CHECK_POINTS) for _ in names) for _ in range(count)]


def check_step(step: Step, names: tuple[str, ...], rng: random.Random) -> None:
    """Raise AssertionError unless the step is right or wrong as labelled, and prints faithfully.

    Right claims must equal SymPy's derivative at every checked rational point;
    wrong ones must differ at one at least. The printed text must read back as
    the same expressions.
    """
    deriv = sympy.diff(step.f, step.var)
    for text, expr in ((step.f_text, step.f), (step.claim_text, step.claim)):
        back = from_derive(text, names)
        for pt in _points(names, rng, 3):
            a, b = _values(back, names, pt), _values(expr, names, pt)
            if (a is None) != (b is None) or (a is not None and abs(a - b) > 1e-40):
                raise AssertionError(f"printed form {text!r} does not read back as {expr}")
    good, differs = 0, False
    for pt in _points(names, rng, 8):
        a, b = _values(deriv, names, pt), _values(step.claim, names, pt)
        if a is None or b is None:
            continue
        good += 1
        if abs(a - b) > sympy.Float(10, 60) ** -40 * max(1, abs(a)):
            differs = True
            if step.right:
                raise AssertionError(f"right claim {step.text} is wrong at {pt}")
    if good < 3:
        raise AssertionError(f"too few points to check {step.text}")
    if not step.right and not differs:
        raise AssertionError(f"wrong claim {step.text} is right at every point")


# --------------------------------------------------------------------------- course


def _make_step(rng: random.Random, names: tuple[str, ...], wrong: bool) -> Step:
    """One random, self-checked step (regenerated until every check passes)."""
    syms = [sympy.Symbol(n) for n in names]
    while True:
        f = _random_expr(rng, syms, rng.randint(2, 4))
        free = f.free_symbols
        if len(free) < min(2, len(syms)) or sympy.count_ops(f) < 3:
            continue
        if any(not a.free_symbols for a in f.atoms(sympy.Function)):
            continue  # no constant subexpressions such as sin(3)
        var = rng.choice(sorted(free, key=lambda s: s.name))
        try:
            f_text = to_derive(f)
        except ValueError:
            continue
        if len(f_text) > MAX_F_CHARS:
            continue
        deriv = sympy.diff(f, var)
        if sympy.count_ops(deriv) < 2 or len(to_derive(deriv)) > MAX_CLAIM_CHARS:
            continue  # a trivial derivative (0, 1, y) teaches nothing; a huge one is unrealistic
        if wrong:
            kinds = list(WRONG_KINDS)
            rng.shuffle(kinds)
            for kind in kinds:
                bad = _mutate(kind, f, var, deriv, rng)
                if bad is not None and bad != deriv:
                    break
            else:
                continue
            form, claim = _disguise(bad, rng)
        else:
            kind = "right"
            form, claim = _disguise(deriv, rng)
            if form == "as-is" and rng.random() < AS_IS_REDRAW:
                continue  # claims mostly differ from SymPy's own printed form
        try:
            claim_text = to_derive(claim)
        except ValueError:
            continue
        if len(claim_text) > MAX_CLAIM_CHARS:
            continue
        step = Step(f, var, claim, not wrong, kind, form, f_text, claim_text)
        try:
            check_step(step, names, rng)
        except AssertionError:
            continue
        return step


def generate(size: int, seed: int = 0) -> Course:
    """A course of `size` steps, STEPS_PER_BLOCK per block, one claim in WRONG_EVERY wrong."""
    rng = random.Random(f"derive-bench:{size}:{seed}")
    wrong_at = set(rng.sample(range(size), round(size / WRONG_EVERY)))
    blocks: list[Block] = []
    for start in range(0, size, STEPS_PER_BLOCK):
        names = tuple(sorted(rng.sample(INPUT_POOL, rng.choice((2, 3))), key=INPUT_POOL.index))
        stop = min(start + STEPS_PER_BLOCK, size)
        steps = [_make_step(rng, names, i in wrong_at) for i in range(start, stop)]
        number = len(blocks) + 1
        title = f"synthetic {number:04d}: derivatives in {', '.join(names)}"
        blocks.append(Block(title, names, steps))
    return Course(size, seed, blocks)


def markdown(course: Course) -> str:
    """The course as a Markdown file of derive blocks."""
    out = [f"# A synthetic course: {course.size} derivative steps (seed {course.seed})", ""]
    for number, block in enumerate(course.blocks, 1):
        out += [f"## Derivatives, part {number}", "", "```derive", f"title: {block.title}"]
        out += [step.text for step in block.steps]
        out += ["```", ""]
    return "\n".join(out)


def truth(course: Course) -> dict[str, list[bool]]:
    """Ground truth: per block title, whether each step's claim is right."""
    return {b.title: [s.right for s in b.steps] for b in course.blocks}


def write(course: Course, out_dir: Path, data_file: Path | None = None) -> Path:
    """Write course.md and course.truth.json into out_dir (and the SymPy data, if asked)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "course.md"
    md.write_text(markdown(course), encoding="utf-8")
    (out_dir / "course.truth.json").write_text(
        json.dumps(truth(course), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if data_file is not None:
        data_file.write_bytes(pickle.dumps(plain_data(course)))
    return md


def plain_data(course: Course) -> dict:
    """The SymPy objects of every step, in plain containers (picklable without this module)."""
    return {"size": course.size, "seed": course.seed,
            "steps": [{"title": b.title, "index": i, "f": s.f, "var": s.var, "claim": s.claim,
                       "right": s.right} for b, i, s in course.steps()]}


def describe(course: Course) -> list[dict]:
    """Per-step metadata (kind of mistake, rewrite used), for debugging a benchmark."""
    rows = []
    for block, index, step in course.steps():
        row = {k: v for k, v in asdict(step).items() if k in ("right", "kind", "form")}
        rows.append({"title": block.title, "index": index, "line": step.text, **row})
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command line: write a synthetic course."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=100, help="number of steps (default 100)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="directory to write course.md into")
    ap.add_argument("--data", type=Path, help="also pickle the SymPy objects to this file")
    ap.add_argument("--describe", action="store_true", help="print per-step metadata as JSON")
    args = ap.parse_args(argv)
    course = generate(args.size, args.seed)
    md = write(course, args.out, args.data)
    if args.describe:
        json.dump(describe(course), sys.stdout, indent=1, ensure_ascii=False)
        print()
    print(f"wrote {md} ({args.size} steps, {len(course.blocks)} blocks)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
