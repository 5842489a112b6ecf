"""Resolve a parsed block into a Derivation: inputs, graph nodes, functions and steps."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from derive import ast
from derive.errors import BlockError
from derive.parser import Block, Constraint

# Built-in functions and how many arguments each takes (None: two or more).
BUILTINS: dict[str, int | None] = {
    "exp": 1, "log": 1, "ln": 1, "sqrt": 1, "abs": 1, "sin": 1, "cos": 1, "tan": 1,
    "tanh": 1, "sinh": 1, "cosh": 1, "sigmoid": 1, "relu": 1, "softplus": 1,
    "max": None, "min": None,
}
# Section 9: functions of vectors and matrices; a block that uses them is checked as shaped.
MATRIX_BUILTINS: dict[str, int | None] = {
    "sum": 1, "mean": 1, "tr": 1, "det": 1, "inv": 1, "diag": 1, "softmax": 1, "norm": 1,
    "outer": 2,
}
BUILTINS.update(MATRIX_BUILTINS)
CONSTANTS = ("e", "pi", "π")
# An identifier as the grammar's NAME reads it: combining marks may follow a letter (`x̄`).
NAME_PATTERN = re.compile(r"[^\W\d¹²³ᵀ](?:[^\W¹²³ᵀ]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff"
                          r"\u20d0-\u20ff\ufe20-\ufe2f])*")


@dataclass(frozen=True)
class Node:
    """A node of the computational graph: `name := expr`."""

    name: str
    expr: ast.Expr
    line: int


@dataclass(frozen=True)
class FunctionDef:
    """A concrete function `name(params) := expr`."""

    name: str
    params: tuple[str, ...]
    expr: ast.Expr
    line: int


@dataclass(frozen=True)
class Step:
    """A resolved step `lhs = rhs` (or `≈`)."""

    index: int
    line: int
    lhs: ast.Expr
    rhs: ast.Expr
    lhs_text: str
    rhs_text: str
    approximate: bool


@dataclass(frozen=True)
class Domain:
    """Where an input may be sampled: bounds and excluded values."""

    lower: Fraction | None = None
    lower_strict: bool = False
    upper: Fraction | None = None
    upper_strict: bool = False
    excluded: tuple[Fraction, ...] = ()

    def contains(self, value: Fraction) -> bool:
        """Whether `value` satisfies every bound of this domain."""
        if self.lower is not None and (value < self.lower or
                                       (self.lower_strict and value == self.lower)):
            return False
        if self.upper is not None and (value > self.upper or
                                       (self.upper_strict and value == self.upper)):
            return False
        return value not in self.excluded


@dataclass(frozen=True)
class Derivation:
    """A block resolved against its own names: what the checker and every engine use."""

    title: str
    text: str
    line: int
    expect: str | None
    inputs: tuple[str, ...]
    nodes: tuple[Node, ...]
    functions: tuple[FunctionDef, ...]
    abstract: tuple[tuple[str, int], ...]  # (name, arity)
    constants: frozenset[str]  # names that mean e or pi in this block
    at: tuple[tuple[str, ast.Expr], ...]
    domains: tuple[tuple[str, Domain], ...]
    steps: tuple[Step, ...]
    # section 9: declared shapes (name, dims), size names, and `assume: sum(y) = c`
    shapes: tuple[tuple[str, tuple[int | str, ...]], ...] = ()
    size_names: frozenset[str] = frozenset()
    sum_constraints: tuple[tuple[str, Fraction], ...] = ()

    @property
    def shaped(self) -> bool:
        """Whether the block declares vectors or matrices."""
        return bool(self.shapes)

    @cached_property
    def node_map(self) -> dict[str, Node]:
        """Nodes by name."""
        return {n.name: n for n in self.nodes}

    @cached_property
    def function_map(self) -> dict[str, FunctionDef]:
        """Concrete functions by name."""
        return {f.name: f for f in self.functions}

    @cached_property
    def abstract_map(self) -> dict[str, int]:
        """Abstract functions and their arity."""
        return dict(self.abstract)

    def domain(self, name: str) -> Domain:
        """The sampling domain of an input."""
        return dict(self.domains).get(name, Domain())

    @cached_property
    def direct_dependencies(self) -> dict[str, frozenset[str]]:
        """For each node, the inputs and nodes its definition reads."""
        return {n.name: frozenset(self.names_in(n.expr)) for n in self.nodes}

    def names_in(self, expr: ast.Expr) -> set[str]:
        """Inputs and nodes read by `expr`, through concrete functions' free names too."""
        found: set[str] = set()
        for sub in ast.walk(expr):
            if isinstance(sub, ast.Name) and sub.id not in self.constants:
                found.add(sub.id)
            elif isinstance(sub, ast.Derivative):
                found.update(sub.wrt)
            elif isinstance(sub, ast.Call) and sub.func in self.function_map:
                fn = self.function_map[sub.func]
                found.update(self.names_in(fn.expr) - set(fn.params))
        return found & (set(self.inputs) | set(self.node_map))

    def downstream(self, name: str) -> tuple[str, ...]:
        """Nodes computed from `name`, directly or not, in definition order."""
        reached = {name}
        out = []
        for node in self.nodes:
            if self.direct_dependencies[node.name] & reached:
                reached.add(node.name)
                out.append(node.name)
        return tuple(out)

    def needed_nodes(self, expr: ast.Expr) -> set[str]:
        """The nodes `expr` reads, directly or through other nodes."""
        todo = [n for n in self.names_in(expr) if n in self.node_map]
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(n for n in self.direct_dependencies[name] if n in self.node_map)
        return seen

    def worked_point(self) -> dict[str, ast.Expr]:
        """The `at:` values by input name."""
        return dict(self.at)


def resolve(block: Block, title: str) -> Derivation:
    """Resolve names in a parsed block; raise BlockError with the line of any mistake."""
    return _Resolver(block, title).derivation()


class _Resolver:
    """Turns a Block into a Derivation, checking every name."""

    def __init__(self, block: Block, title: str) -> None:
        self.block = block
        self.title = title
        self.functions = {d.name: d for d in block.definitions if d.params is not None}
        self.node_lines = {d.name: d.line for d in block.definitions if d.params is None}
        self.abstract_names = {name: line for name, line in block.functions}
        self.arity: dict[str, int] = {}
        self.standalone = self._standalone_names()
        defined = set(self.node_lines) | set(self.functions)
        self.constants = frozenset(c for c in CONSTANTS if c not in defined)
        self.size_names = frozenset(d for s in block.shapes for d in s.dims
                                    if isinstance(d, str))
        self.block_names = (self.standalone | set(self.node_lines) |
                            {b.name for b in block.at}) - self.constants

    def _expressions(self):
        b = self.block
        for d in b.definitions:
            yield d.expr, d.line, d.params or ()
        for s in b.steps:
            yield s.lhs, s.line, ()
            yield s.rhs, s.line, ()
        for c in b.assume:
            for t in c.terms:
                yield t, c.line, ()

    def _standalone_names(self) -> set[str]:
        names: set[str] = set()
        for expr, _line, params in self._expressions():
            for sub in ast.walk(expr):
                if isinstance(sub, ast.Name) and sub.id not in params:
                    names.add(sub.id)
        return names

    def derivation(self) -> Derivation:
        b = self.block
        self._check_definitions()
        nodes = []
        for d in b.definitions:
            if d.params is None:
                nodes.append(Node(d.name, self.expr(d.expr, d.line, ()), d.line))
        functions = tuple(
            FunctionDef(d.name, d.params, self.expr(d.expr, d.line, d.params), d.line)
            for d in b.definitions if d.params is not None
        )
        steps = tuple(
            Step(s.index, s.line, self.expr(s.lhs, s.line, ()), self.expr(s.rhs, s.line, ()),
                 s.lhs_text, s.rhs_text, s.approximate)
            for s in b.steps
        )
        if any(s.approximate for s in steps) and not b.at:
            first = next(s for s in steps if s.approximate)
            raise BlockError("an approximate step (`≈`) needs a worked point: add an `at:` line",
                             first.line)
        inputs = self._inputs(nodes, functions, steps)
        self._check_order(nodes, steps)
        at = self._worked_point(inputs)
        self.sum_constraints: list[tuple[str, Fraction]] = []
        domains = self._domains(inputs)
        shapes = self._shapes(inputs)
        uses_matrices = any(isinstance(sub, ast.Call) and sub.func in MATRIX_BUILTINS
                            for e, _line, _params in self._expressions() for sub in ast.walk(e))
        if (self.sum_constraints or uses_matrices) and not shapes:
            shapes = ((inputs[0], (1,)),) if inputs else ()
        for name in self.abstract_names:
            self.arity.setdefault(name, 1)  # declared but never called
        if not steps:
            raise BlockError("the block has no step to check (write a chain `L = R`)", b.line)
        return Derivation(
            title=self.title, text=b.text, line=b.line, expect=b.expect, inputs=inputs,
            nodes=tuple(nodes), functions=functions,
            abstract=tuple(sorted(self.arity.items())), constants=self.constants, at=at,
            domains=domains, steps=steps, shapes=shapes, size_names=self.size_names,
            sum_constraints=tuple(self.sum_constraints),
        )

    def _shapes(self, inputs) -> tuple[tuple[str, tuple[int | str, ...]], ...]:
        out = []
        for shape in self.block.shapes:
            if shape.name in self.node_lines:
                raise BlockError(f"`{shape.name}` is a node: its shape follows from its "
                                 "definition; `shape:` declares inputs", shape.line)
            if any(shape.name == name for name, _dims in out):
                raise BlockError(f"`{shape.name}` has two shapes", shape.line)
            if any(d == 0 for d in shape.dims):
                raise BlockError(f"`{shape.name}` has a size of 0", shape.line)
            out.append((shape.name, shape.dims))
        return tuple(out)

    def _check_definitions(self) -> None:
        seen: dict[str, int] = {}
        for d in self.block.definitions:
            if d.name in seen:
                raise BlockError(f"`{d.name}` is already defined on line {seen[d.name]}", d.line)
            if d.name in BUILTINS:
                raise BlockError(f"`{d.name}` is a built-in function and cannot be redefined",
                                 d.line)
            if d.name in self.abstract_names:
                raise BlockError(f"`{d.name}` is declared abstract with `function:` and "
                                 "cannot also be defined", d.line)
            seen[d.name] = d.line
        for name, line in self.block.functions:
            if name in BUILTINS:
                raise BlockError(f"`{name}` is a built-in function; `function:` declares new "
                                 "abstract functions", line)

    def _inputs(self, nodes, functions, steps) -> tuple[str, ...]:
        order: list[str] = []
        exprs = [(n.expr, ()) for n in nodes] + [(f.expr, f.params) for f in functions]
        exprs += [(e, ()) for s in steps for e in (s.lhs, s.rhs)]
        for expr, params in exprs:
            for sub in ast.walk(expr):
                if isinstance(sub, ast.Name):
                    name = sub.id
                elif isinstance(sub, ast.Derivative):
                    for name in sub.wrt:
                        if name not in order and name not in self.node_lines:
                            order.append(name)
                    continue
                else:
                    continue
                if (name not in params and name not in self.node_lines and
                        name not in self.constants and name not in order and
                        name not in self.size_names and not self._is_identity(name)):
                    order.append(name)
        for binding in self.block.at:
            if binding.name not in order and binding.name not in self.node_lines:
                order.append(binding.name)
        return tuple(order)

    def _is_identity(self, name: str) -> bool:
        """`I` in a block with shapes is the identity matrix, unless the block declares it."""
        return (name == "I" and bool(self.block.shapes) and name not in self.node_lines and
                all(s.name != "I" for s in self.block.shapes) and
                all(b.name != "I" for b in self.block.at))

    def _check_order(self, nodes, steps) -> None:
        index = {n.name: i for i, n in enumerate(nodes)}
        for i, node in enumerate(nodes):
            for sub in ast.walk(node.expr):
                names = ((sub.id,) if isinstance(sub, ast.Name) else
                         sub.wrt if isinstance(sub, ast.Derivative) else ())
                for name in names:
                    if name == node.name:
                        raise BlockError(f"`{name}` is used in its own definition", node.line,
                                         sub.pos.column if sub.pos else None)
                    if name in index and index[name] > i:
                        raise BlockError(
                            f"`{name}` is used before its definition on line "
                            f"{self.node_lines[name]}", node.line,
                            sub.pos.column if sub.pos else None)
        for step in steps:
            for side in (step.lhs, step.rhs):
                for sub in ast.walk(side):
                    if (isinstance(sub, ast.Name) and sub.id in self.node_lines and
                            self.node_lines[sub.id] > step.line):
                        raise BlockError(
                            f"`{sub.id}` is used before its definition on line "
                            f"{self.node_lines[sub.id]}", step.line,
                            sub.pos.column if sub.pos else None)

    def _worked_point(self, inputs) -> tuple[tuple[str, ast.Expr], ...]:
        out = []
        seen = set()
        for binding in self.block.at:
            if binding.name in self.node_lines:
                raise BlockError(f"`{binding.name}` is a node; `at:` gives values to inputs "
                                 "only", binding.line)
            if binding.name in seen:
                raise BlockError(f"`{binding.name}` has two values in `at:`", binding.line)
            seen.add(binding.name)
            value = self.expr(binding.value, binding.line, ())
            for sub in ast.walk(value):
                if isinstance(sub, ast.Name) and sub.id not in self.constants:
                    raise BlockError(
                        f"the value of `{binding.name}` in `at:` must be a number, not "
                        f"an expression with `{sub.id}`", binding.line,
                        sub.pos.column if sub.pos else None)
                if isinstance(sub, ast.Derivative | ast.Call) and not (
                        isinstance(sub, ast.Call) and sub.func in BUILTINS):
                    raise BlockError(f"the value of `{binding.name}` in `at:` must be a number",
                                     binding.line)
            out.append((binding.name, value))
        return tuple(out)

    def _domains(self, inputs) -> tuple[tuple[str, Domain], ...]:
        domains: dict[str, Domain] = {}
        for constraint in self.block.assume:
            for (left, op, right) in zip(constraint.terms, constraint.ops,
                                         constraint.terms[1:], strict=False):
                self._bound(domains, left, op, right, constraint)
        for name, domain in domains.items():
            if not _satisfiable(domain):
                line = next(c.line for c in self.block.assume if name in c.text)
                raise BlockError(f"the assumptions on `{name}` contradict each other "
                                 "(no value satisfies them all)", line)
        return tuple(sorted(domains.items()))

    def _bound(self, domains, left, op, right, constraint: Constraint) -> None:
        flipped = {"<": ">", "<=": ">=", "≤": ">=", ">": "<", ">=": "<=", "≥": "<=",
                   "!=": "!=", "≠": "!=", "=": "="}
        op = {"≤": "<=", "≥": ">=", "≠": "!="}.get(op, op)
        if isinstance(right, ast.Name | ast.Call) and not isinstance(left, ast.Name | ast.Call):
            left, right, op = right, left, flipped[op]
        value = constant_value(right)
        if (op == "=" and isinstance(left, ast.Call) and left.func == "sum" and
                len(left.args) == 1 and isinstance(left.args[0], ast.Name) and
                value is not None):
            self.sum_constraints.append((left.args[0].id, value))
            return
        if not isinstance(left, ast.Name) or value is None:
            raise BlockError(
                f"cannot use the assumption `{constraint.text}`: compare an input with a "
                "number, as in `x > 0` or `0 < p < 1`", constraint.line)
        name = left.id
        if name in self.node_lines:
            raise BlockError(f"`{name}` is a node; assumptions are about inputs", constraint.line)
        d = domains.get(name, Domain())
        if op in (">", ">="):
            if d.lower is None or value > d.lower or (value == d.lower and op == ">"):
                d = Domain(value, op == ">", d.upper, d.upper_strict, d.excluded)
        elif op in ("<", "<="):
            if d.upper is None or value < d.upper or (value == d.upper and op == "<"):
                d = Domain(d.lower, d.lower_strict, value, op == "<", d.excluded)
        elif op == "!=":
            d = Domain(d.lower, d.lower_strict, d.upper, d.upper_strict, (*d.excluded, value))
        else:
            d = Domain(value, False, value, False, d.excluded)
        domains[name] = d

    # --- expressions -------------------------------------------------------------------------

    def expr(self, expr: ast.Expr, line: int, params: tuple[str, ...]) -> ast.Expr:
        """Resolve calls, products and derivatives in `expr`."""
        match expr:
            # `tanh²(x)` reads `tanh` as a value: refuse it rather than make `tanh` an input.
            # Names of section 9's matrix functions (`mean`, `norm`, `tr`) stay usable as inputs.
            case ast.Name(id=name) if name not in params and name not in self.node_lines and (
                    (name in BUILTINS and name not in MATRIX_BUILTINS) or
                    name in self.functions or name in self.abstract_names):
                raise BlockError(f"`{name}` is a function: call it, as in `{name}(x)` (and write "
                                 f"its square as `{name}(x)^2`)", line,
                                 expr.pos.column if expr.pos else None)
            case ast.Number() | ast.Name():
                return expr
            case ast.Call(func=func, args=args):
                return self._call(expr, func, tuple(self.expr(a, line, params) for a in args),
                                  line, params)
            case ast.BinOp(op="^", left=left, right=ast.Name(id="T")) if (
                    self.block.shapes and "T" not in self.node_lines and
                    all(s.name != "T" for s in self.block.shapes)):
                return ast.Transpose(self.expr(left, line, params), pos=expr.pos)
            case ast.BinOp(op=op, left=left, right=right):
                return ast.BinOp(op, self.expr(left, line, params),
                                 self.expr(right, line, params), pos=expr.pos)
            case ast.Neg(operand=o):
                return ast.Neg(self.expr(o, line, params), pos=expr.pos)
            case ast.Transpose(operand=o):
                return ast.Transpose(self.expr(o, line, params), pos=expr.pos)
            case ast.RawDerivative():
                return self._raw_derivative(expr, line, params)
            case ast.ShortDerivative():
                return self._short_derivative(expr, line, params)
        raise AssertionError(f"unexpected expression {expr!r}")

    def _call(self, expr, func, args, line, params) -> ast.Expr:
        column = expr.pos.column if expr.pos else None
        if func in params:  # `g(p) := p(1 - p)`: a parameter before `(` multiplies
            if len(args) != 1:
                raise BlockError(f"`{func}` is a parameter, not a function, so "
                                 f"`{func}(…, …)` means nothing", line, column)
            return ast.BinOp("*", ast.Name(func, pos=expr.pos), args[0], pos=expr.pos)
        if func in BUILTINS:
            want = BUILTINS[func]
            if (want is not None and len(args) != want) or (want is None and len(args) < 2):
                need = "two or more arguments" if want is None else (
                    "one argument" if want == 1 else f"{want} arguments")
                raise BlockError(f"`{func}` takes {need}, not {len(args)}", line, column)
            return ast.Call(func, args, pos=expr.pos)
        if func in self.functions:
            want = len(self.functions[func].params)
            if len(args) != want:
                raise BlockError(f"`{func}` is defined with {want} parameter(s) on line "
                                 f"{self.functions[func].line}, but called with {len(args)}",
                                 line, column)
            return ast.Call(func, args, pos=expr.pos)
        if func in self.abstract_names:
            if self.arity.setdefault(func, len(args)) != len(args):
                raise BlockError(f"`{func}` is called with {self.arity[func]} and with "
                                 f"{len(args)} arguments", line, column)
            return ast.Call(func, args, pos=expr.pos)
        if func in self.node_lines or len(func) == 1 or func in self.standalone or (
                func in self.constants):
            if len(args) != 1:
                raise BlockError(f"`{func}` is not a function, so `{func}(…, …)` means nothing",
                                 line, column)
            return ast.BinOp("*", ast.Name(func, pos=expr.pos), args[0], pos=expr.pos)
        known = sorted(BUILTINS) + sorted(self.functions) + sorted(self.abstract_names)
        close = difflib.get_close_matches(func, known, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        raise BlockError(f"unknown function `{func}` ({hint}declare abstract functions with "
                         "`function:`)", line, column)

    def _raw_derivative(self, expr: ast.RawDerivative, line, params) -> ast.Expr:
        order = 2 if expr.opener[1:-1] in ("^2", "²") else 1
        wrt: list[str] = []
        for text, column in expr.dvars:
            wrt.extend(self._variables(text, line, column))
        inner = self.expr(expr.expr, line, params)
        return self._derivative(inner, tuple(wrt), order, line, expr, params)

    def _derivative(self, inner, wrt, order, line, expr, params) -> ast.Derivative:
        column = expr.pos.column if expr.pos else None
        if len(wrt) == 1 and order == 2:
            wrt = wrt * 2
        if len(wrt) != order:
            raise BlockError(
                f"a derivative of order {order} needs {order} variable(s) after `/`, got "
                f"{len(wrt)}: write `d²f/dx²` or `d²f/dxdy`", line, column)
        for name in wrt:
            if name in params:
                raise BlockError(f"cannot differentiate by the parameter `{name}`", line, column)
        return ast.Derivative(inner, tuple(wrt), pos=expr.pos)

    _DVAR = re.compile(r"^[d∂]\s*(?:\((?P<paren>[^()]*)\)|(?P<name>[^\W\d]\w*?))\s*"
                       r"(?P<sq>\^2|²)?$")

    def _variables(self, text: str, line: int, column: int) -> list[str]:
        """`dx` → [x]; `dx²` → [x, x]; `d(x)` → [x]; `dudv` → [u, v] when u, v are names."""
        squared = text.endswith(("^2", "²"))
        body = text[:-2] if text.endswith("^2") else text[:-1] if text.endswith("²") else text
        body = body[1:].strip()
        if body.startswith("(") and body.endswith(")"):
            inner = body[1:-1].strip()
            if not NAME_PATTERN.fullmatch(inner):
                raise BlockError(
                    f"cannot differentiate by `{inner}`: the variable after `/d` must be an "
                    "input or a node of the block", line, column)
            names = [inner]
        else:
            names = self._split_names(body, line, column)
        if squared:
            names = names + names[-1:]
        for name in names:
            if name in self.constants:
                raise BlockError(f"cannot differentiate by the constant `{name}`", line, column)
            if name in self.functions or name in self.abstract_names or (
                    name in BUILTINS and name not in MATRIX_BUILTINS):
                raise BlockError(f"cannot differentiate by the function `{name}`: the "
                                 "variable must be an input or a node", line, column)
        return names

    def _split_names(self, body: str, line: int, column: int) -> list[str]:
        """`udv` → [u, v] when u and v are names of the block; else the body as one name."""
        if body in self.block_names or not re.search(r"[d∂]", body[1:]):
            return [body]
        return self._split_names_or_none(body) or [body]

    def _split_names_or_none(self, body: str) -> list[str] | None:
        if body in self.block_names:
            return [body]
        for cut in range(1, len(body)):
            if body[cut] in "d∂" and body[:cut] in self.block_names:
                rest = self._split_names_or_none(body[cut + 1:])
                if rest is not None:
                    return [body[:cut], *rest]
        return None

    _SHORT = re.compile(r"^(?P<d>[d∂])(?P<order>\^2|²)?(?P<top>[^/]+?)/(?P<bottom>.+)$")

    def _short_derivative(self, expr: ast.ShortDerivative, line, params) -> ast.Expr:
        match = self._SHORT.match(expr.text)
        assert match is not None
        top, bottom = match.group("top"), match.group("bottom")
        order = 2 if match.group("order") else 1
        names_ok = top in self.block_names or top in params
        variables = self._short_variables(bottom)
        if names_ok and variables is not None:
            target = ast.Name(top, pos=expr.pos)
            return self._derivative(target, tuple(variables), order, line, expr, params)
        # `dA/dv` of names the block does not have is the quotient of the inputs `dA` and `dv`;
        # `∂A` is no name, so `∂A/∂v` can only be a derivative.
        if order == 1 and "/" not in bottom[1:] and expr.text[0] == "d" and "∂" not in bottom:
            return ast.BinOp("/", ast.Name(expr.text.split("/")[0], pos=expr.pos),
                             ast.Name(bottom, pos=expr.pos), pos=expr.pos)
        raise BlockError(f"`{expr.text}` is not a derivative of names of this block", line,
                         expr.pos.column if expr.pos else None)

    def _short_variables(self, bottom: str) -> list[str] | None:
        """Split `dx`, `dx²`, `dudv`, `∂x∂y` into names of the block, or None."""
        squared = bottom.endswith(("^2", "²"))
        body = bottom[:-2] if bottom.endswith("^2") else bottom[:-1] if squared else bottom
        names = self._split_names_or_none(body[1:])
        if names is None:
            return None
        return names + names[-1:] if squared else names


def constant_value(expr: ast.Expr) -> Fraction | None:
    """The exact rational value of a constant expression of numbers, or None."""
    match expr:
        case ast.Number(value=v):
            return v
        case ast.Neg(operand=o):
            v = constant_value(o)
            return None if v is None else -v
        case ast.BinOp(op=op, left=left, right=right) if op in "+-*/":
            a, b = constant_value(left), constant_value(right)
            if a is None or b is None or (op == "/" and b == 0):
                return None
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[op]
    return None


def _satisfiable(d: Domain) -> bool:
    if d.lower is None or d.upper is None:
        return True
    if d.lower < d.upper:
        return True
    return d.lower == d.upper and not (d.lower_strict or d.upper_strict) and (
        d.lower not in d.excluded)
