"""Parse the text of one `derive` block into frozen records that carry their lines."""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from derive import ast
from derive.errors import BlockError

MAX_LINE_LENGTH = 2000
MAX_BLOCK_LINES = 2000
MAX_NESTING = 200

HEADER = re.compile(r"^\s*(title|at|assume|function|functions|expect|shape)\s*:(?!=)\s*(.*)$")
STARTS_WITH_RELATION = re.compile(r"^\s*(=|≈|~=)")
# `1e-3` would read as 1·e - 3 and `2e3` as 2·e3: refuse what looks like scientific notation.
SCIENTIFIC = re.compile(r"(?<![\w.])\d+(?:\.\d+)?[eE][+-]?\d+(?![\w.])")

_TERMINAL_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "DOPEN": "a derivative `d(…)`",
    "SHORTDERIV": "a derivative `dA/dv`",
    "DVAR": "the variable after `/`, as in `/dx`",
    "EQ": "`=`",
    "APPROX": "`≈`",
    "CMP": "a comparison",
    "COMMA": "`,`",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "SLASH": "`/`",
    "MULOP": "`·`",
    "POWOP": "`^`",
    "__ANON_0": "`:=`",
    "__EXPR": "an expression (a number, a name or `(`)",
}


@dataclass(frozen=True)
class Definition:
    """`NAME := EXPR` (a node) or `NAME(p, q) := EXPR` (a concrete function)."""

    name: str
    params: tuple[str, ...] | None
    expr: ast.Expr
    line: int


@dataclass(frozen=True)
class StepSyntax:
    """One step `L = R` as written: both sides and where the right side stands."""

    index: int
    line: int
    lhs: ast.Expr
    rhs: ast.Expr
    lhs_text: str
    rhs_text: str
    approximate: bool


@dataclass(frozen=True)
class Binding:
    """`name = value` in an `at:` line."""

    name: str
    value: ast.Expr
    line: int


@dataclass(frozen=True)
class Constraint:
    """One comparison chain of an `assume:` line, e.g. `0 < p < 1`."""

    terms: tuple[ast.Expr, ...]
    ops: tuple[str, ...]
    line: int
    text: str


@dataclass(frozen=True)
class Shape:
    """`NAME ROWS×COLS` or `NAME N` in a `shape:` line; sizes are numbers or names."""

    name: str
    dims: tuple[int | str, ...]
    line: int


@dataclass(frozen=True)
class Block:
    """A parsed `derive` block: headers, definitions and steps, each with its line."""

    text: str
    line: int  # the line of the opening fence (or 1 for API text)
    title: str | None
    heading: str | None
    expect: str | None
    at: tuple[Binding, ...]
    assume: tuple[Constraint, ...]
    functions: tuple[tuple[str, int], ...]
    shapes: tuple[Shape, ...]
    definitions: tuple[Definition, ...]
    steps: tuple[StepSyntax, ...]


@cache
def _parser() -> Lark:
    grammar = resources.files("derive").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        start=[
            "chain",
            "continuation",
            "definition",
            "function_definition",
            "at_list",
            "assume_list",
            "name_list",
        ],
    )


def strip_comment(line: str) -> str:
    """The line without its `# comment`."""
    index = line.find("#")
    return line if index < 0 else line[:index]


def parse_block(text: str, *, first_line: int = 1, heading: str | None = None,
                fence_line: int | None = None) -> Block:
    """Parse block text whose first line is source line `first_line`; raise BlockError."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = text.split("\n")
    if len(lines) > MAX_BLOCK_LINES:
        raise BlockError(f"block has {len(lines)} lines, more than {MAX_BLOCK_LINES}", first_line)
    builder = _BlockBuilder(first_line)
    for offset, raw in enumerate(lines):
        builder.add_line(raw, first_line + offset)
    return builder.build(text, fence_line if fence_line is not None else first_line, heading)


class _BlockBuilder:
    """Collects the lines of one block into a Block."""

    def __init__(self, first_line: int) -> None:
        self.first_line = first_line
        self.title: str | None = None
        self.expect: str | None = None
        self.at: list[Binding] = []
        self.assume: list[Constraint] = []
        self.functions: list[tuple[str, int]] = []
        self.shapes: list[Shape] = []
        self.definitions: list[Definition] = []
        self.steps: list[StepSyntax] = []
        self.chain_tail: tuple[ast.Expr, str] | None = None

    def add_line(self, raw: str, number: int) -> None:
        if len(raw) > MAX_LINE_LENGTH:
            raise BlockError(
                f"line is {len(raw)} characters long, more than {MAX_LINE_LENGTH}", number, 1
            )
        header = HEADER.match(raw)
        if header and header.group(1) == "title":
            self.title = header.group(2).strip()
            return
        line = strip_comment(raw)
        if not line.strip():
            return  # blank lines and comments keep a chain open
        scientific = SCIENTIFIC.search(line)
        if scientific:
            raise BlockError(
                f"`{scientific.group()}` looks like scientific notation, which blocks do not "
                f"read: write the number out, as in `{_plain(scientific.group())}`",
                number, scientific.start() + 1)
        if header:
            self._header(header.group(1), line, header.start(2), number)
            self.chain_tail = None
        elif STARTS_WITH_RELATION.match(line):
            if self.chain_tail is None:
                col = STARTS_WITH_RELATION.match(line).start(1) + 1
                raise BlockError(
                    "a line starting with `=` continues a chain, but no chain comes before it",
                    number, col)
            tree = _parse(line, "continuation", number)
            self._chain(tree, line, number, continued=True)
        elif ":=" in line:
            self._definition(line, number)
            self.chain_tail = None
        else:
            tree = _parse(line, "chain", number)
            self._chain(tree, line, number, continued=False)

    def _header(self, key: str, line: str, start: int, number: int) -> None:
        value = line[start:]
        padded = " " * start + value
        if key == "expect":
            word = value.strip()
            if word != "wrong":
                raise BlockError(f"`expect:` takes only `wrong`, not `{word}`", number, start + 1)
            self.expect = "wrong"
        elif key == "at":
            tree = _parse(padded, "at_list", number)
            for binding in tree.children:
                name_tok, _eq, expr = binding.children
                self.at.append(Binding(str(name_tok), _to_ast(expr, number), number))
        elif key == "assume":
            tree = _parse(padded, "assume_list", number)
            for constraint in tree.children:
                terms = tuple(_to_ast(c, number) for c in constraint.children[::2])
                ops = tuple(str(c.children[0]) for c in constraint.children[1::2])
                text = padded[constraint.meta.start_pos:constraint.meta.end_pos].strip()
                self.assume.append(Constraint(terms, ops, number, text))
        elif key in ("function", "functions"):
            tree = _parse(padded, "name_list", number)
            self.functions.extend((str(tok), number) for tok in tree.children)
        elif key == "shape":
            self.shapes.extend(_parse_shapes(value, number, start))

    def _definition(self, line: str, number: int) -> None:
        head = line.split(":=", 1)[0]
        start = "function_definition" if "(" in head else "definition"
        tree = _parse(line, start, number)
        name = str(tree.children[0])
        if start == "definition":
            params = None
            expr = tree.children[1]
        else:
            params = tuple(str(t) for t in tree.children[1:-1])
            expr = tree.children[-1]
        self.definitions.append(Definition(name, params, _to_ast(expr, number), number))

    def _chain(self, tree: Tree, line: str, number: int, continued: bool) -> None:
        items = tree.children
        if continued:
            assert self.chain_tail is not None
            sides: list[tuple[ast.Expr, str]] = [self.chain_tail]
            relations = [str(r.children[0]) for r in items[0::2]]
            exprs = items[1::2]
        else:
            sides = []
            relations = [str(r.children[0]) for r in items[1::2]]
            exprs = items[0::2]
        for expr in exprs:
            text = line[expr.meta.start_pos:expr.meta.end_pos].strip() if isinstance(
                expr, Tree) else str(expr)
            sides.append((_to_ast(expr, number), text))
        for relation, (lhs, rhs) in zip(relations, itertools.pairwise(sides),
                                        strict=True):
            self.steps.append(StepSyntax(
                index=len(self.steps) + 1, line=number, lhs=lhs[0], rhs=rhs[0],
                lhs_text=lhs[1], rhs_text=rhs[1], approximate=relation != "=",
            ))
        self.chain_tail = sides[-1]

    def build(self, text: str, line: int, heading: str | None) -> Block:
        return Block(
            text=text, line=line, title=self.title, heading=heading, expect=self.expect,
            at=tuple(self.at), assume=tuple(self.assume), functions=tuple(self.functions),
            shapes=tuple(self.shapes), definitions=tuple(self.definitions),
            steps=tuple(self.steps),
        )


_SHAPE_ITEM = re.compile(r"\s*([^\W\d]\w*)\s+(\w+)(?:\s*[×x]\s*(\w+))?\s*$")


def _parse_shapes(value: str, number: int, start: int) -> list[Shape]:
    shapes = []
    column = start + 1
    for part in value.split(","):
        match = _SHAPE_ITEM.match(part)
        if not match:
            raise BlockError(
                f"expected `NAME ROWS×COLS` or `NAME SIZE` in `shape:`, got `{part.strip()}`",
                number, column)
        dims = tuple(int(d) if d.isdecimal() else d for d in match.groups()[1:] if d is not None)
        shapes.append(Shape(match.group(1), dims, number))
        column += len(part) + 1
    return shapes


def _plain(text: str) -> str:
    """`1e-3` as `0.001`, `2.5E3` as `2500` (`2.5·10^(400)` when that would be long)."""
    mantissa, _e, exponent = text.lower().partition("e")
    if abs(int(exponent)) > 30:  # never write out a million zeros
        return f"{mantissa}·10^({int(exponent)})"
    return format(Decimal(text), "f")


def _parse(line: str, start: str, number: int) -> Tree:
    depth = max_paren_depth(line)
    if depth > MAX_NESTING:
        raise BlockError(f"nesting deeper than {MAX_NESTING} levels", number,
                         _deep_column(line))
    try:
        tree = _parser().parse(line, start=start)
    except UnexpectedInput as exc:
        raise BlockError(_describe(exc, line), number, getattr(exc, "column", None)) from None
    if _tree_depth(tree) > MAX_NESTING:  # long sums, `-` or `^` chains nest without `(`
        raise BlockError(f"nesting deeper than {MAX_NESTING} levels (split the expression "
                         "with nodes `:=`)", number)
    return tree


def _tree_depth(tree: Tree) -> int:
    """The depth of a parse tree, without recursion."""
    deepest, todo = 0, [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return deepest


def max_paren_depth(line: str) -> int:
    """The deepest nesting of parentheses in `line`."""
    depth = deepest = 0
    for char in line:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def _deep_column(line: str) -> int:
    depth = 0
    for index, char in enumerate(line):
        depth += char == "("
        depth -= char == ")"
        if depth > MAX_NESTING:
            return index + 1
    return 1


_EXPRESSION_STARTS = {"NAME", "NUMBER", "LPAR", "DOPEN", "SHORTDERIV"}


def _expected(names: set[str]) -> str:
    # where an expression may start, say so once; where only a name may (`function: 1`), say that
    if names & (_EXPRESSION_STARTS - {"NAME"}):
        names = (names - _EXPRESSION_STARTS - {"MINUS", "PLUS"}) | {"__EXPR"}
    readable = sorted({_TERMINAL_NAMES.get(n, f"`{n.lower()}`") for n in names
                       if not n.startswith("__ANON") or n in _TERMINAL_NAMES})
    if not readable:
        return ""
    if len(readable) > 5:
        readable = [*readable[:5], "…"]
    return "expected " + ", ".join(readable)


def _describe(exc: UnexpectedInput, line: str) -> str:
    if isinstance(exc, UnexpectedCharacters):
        char = line[exc.pos_in_stream] if exc.pos_in_stream < len(line) else "?"
        expected = _expected(set(exc.allowed or ()))
        return f"unexpected character `{char}`" + (f"; {expected}" if expected else "")
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        expected = _expected(set(exc.expected or ()))
        last = line.rstrip()
        tail = f" after `{last.split()[-1]}`" if last.split() else ""
        return f"the line ends too early{tail}" + (f": {expected}" if expected else "")
    assert isinstance(exc, UnexpectedToken)
    expected = _expected(set(exc.expected or ()))
    return f"unexpected `{exc.token}`" + (f"; {expected}" if expected else "")


def _pos(meta_or_token, number: int) -> ast.Pos:
    column = getattr(meta_or_token, "column", None) or 1
    return ast.Pos(number, column)


def _to_ast(tree: Tree | Token, number: int) -> ast.Expr:
    return _ToAst(number).transform(tree) if isinstance(tree, Tree) else _token_ast(tree, number)


def _token_ast(token: Token, number: int) -> ast.Expr:
    if token.type == "NUMBER":
        return ast.Number(Fraction(str(token)), str(token), pos=_pos(token, number))
    return ast.Name(str(token), pos=_pos(token, number))


@v_args(meta=True)
class _ToAst(Transformer):
    """Lark parse tree → derive.ast records."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.line_no = number

    def _p(self, meta) -> ast.Pos:
        return ast.Pos(self.line_no, getattr(meta, "column", 1) or 1)

    def number(self, meta, children):
        return ast.Number(Fraction(str(children[0])), str(children[0]), pos=self._p(meta))

    def name(self, meta, children):
        return ast.Name(str(children[0]), pos=self._p(meta))

    def call(self, meta, children):
        return ast.Call(str(children[0]), tuple(children[1:]), pos=self._p(meta))

    def _bin(op):
        def method(self, meta, children):
            left, right = children[0], children[-1]
            return ast.BinOp(op, left, right, pos=self._p(meta))
        return method

    add = _bin("+")
    sub = _bin("-")
    mul = _bin("*")
    implicit_mul = _bin("*")
    div = _bin("/")
    hadamard = _bin("⊙")

    def pow(self, meta, children):
        return ast.BinOp("^", children[0], children[-1], pos=self._p(meta))

    def neg(self, meta, children):
        return ast.Neg(children[0], pos=self._p(meta))

    def factor(self, meta, children):  # unary plus
        return children[0]

    def superscript(self, meta, children):
        exponent = {"²": 2, "³": 3}[str(children[1])]
        return ast.BinOp("^", children[0], ast.Number(Fraction(exponent), str(exponent)),
                         pos=self._p(meta))

    def transpose(self, meta, children):
        return ast.Transpose(children[0], pos=self._p(meta))

    def derivative(self, meta, children):
        opener, expr, *dvars = children
        return ast.RawDerivative(str(opener), expr, tuple((str(d), d.column) for d in dvars),
                                 pos=self._p(meta))

    def short_derivative(self, meta, children):
        return ast.ShortDerivative(str(children[0]), pos=self._p(meta))
