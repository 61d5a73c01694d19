"""Rate-law expressions: validated once, compiled to vectorised functions.

A rate law is a Python expression string in species, parameter and rule names, e.g.
``"p6*hill(NFkBn_cas2, p6n2, p6n3)"`` or ``"Vmax*S/(Km + S)"``. Expressions are parsed with
:mod:`ast` and only arithmetic, comparisons, boolean logic, numbers, names and the
functions in :data:`FUNCTIONS` are accepted, so an expression read from a stranger's SBML
file can never run code. The compiled function evaluates on numpy arrays or torch tensors
(the array namespace is passed in), broadcasting over cells.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from models_bio.distrib import DRAWS, bind_draws, check_arity

# Functions an expression may call, with their arity (None = variadic). `hill(x, n, K)` is
# the activating Hill function x^n / (x^n + K^n); `piecewise(v1, c1, v2, c2, ..., otherwise)`
# follows MathML/SBML semantics; `quotient(a, b)` is a / b rounded toward zero and `rem(a, b)`
# the remainder with the sign of a (MathML). The names of models_bio.distrib.DRAWS draw random
# numbers; they evaluate only in a namespace made with a generator (`namespace("numpy", rng=)`).
FUNCTIONS: dict[str, int | None] = {
    **dict.fromkeys(
        ("exp", "log", "log10", "sqrt", "abs", "sin", "cos", "tan", "tanh", "asin", "acos",
         "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "floor", "ceil", "factorial"), 1
    ),
    "pow": 2, "quotient": 2, "rem": 2, "hill": 3, "hill_rep": 3,
    "min": None, "max": None, "piecewise": None,
    **dict.fromkeys(DRAWS),  # random draws (models_bio.distrib): arity checked there
}  # fmt: skip
CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf}

_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.Name,
    ast.Load, ast.Constant, ast.IfExp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub,
    ast.UAdd, ast.Not, ast.And, ast.Or, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq,
)  # fmt: skip


class ExpressionError(ValueError):
    """An expression is malformed, uses a forbidden construct, or names an unknown symbol."""


@dataclass(frozen=True)
class Expression:
    """A validated rate-law expression.

    Parameters
    ----------
    source : str
        Python-syntax expression, e.g. ``"k1*A*B"``.
    """

    source: str

    def __post_init__(self) -> None:
        parse(self.source)

    @property
    def names(self) -> frozenset[str]:
        """Symbols (species, parameters, rule variables, ``time``) the expression reads."""
        return symbols(self.source)


def parse(source: str) -> ast.Expression:
    """Parse and validate ``source``; raise :class:`ExpressionError` naming the problem."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError(f"a rate expression must be a non-empty string, got {source!r}")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"cannot parse expression {source!r}: {err.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(
                f"expression {source!r} uses {type(node).__name__}, which is not allowed; "
                "use arithmetic, comparisons and the functions " + ", ".join(sorted(FUNCTIONS))
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ExpressionError(
                f"expression {source!r} has a non-numeric constant {node.value!r}"
            )
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = ast.unparse(node.func)
                raise ExpressionError(
                    f"expression {source!r} calls {name!r}; allowed functions: "
                    + ", ".join(sorted(FUNCTIONS))
                )
            if node.keywords:
                raise ExpressionError(f"expression {source!r}: keyword arguments are not allowed")
            arity = FUNCTIONS[node.func.id]
            if node.func.id in DRAWS:
                try:
                    check_arity(node.func.id, len(node.args))
                except ValueError as err:
                    raise ExpressionError(f"expression {source!r}: {err}") from None
            elif arity is not None and len(node.args) != arity:
                raise ExpressionError(
                    f"expression {source!r}: {node.func.id}() takes {arity} arguments, "
                    f"got {len(node.args)}"
                )
    return tree


def symbols(source: str) -> frozenset[str]:
    """The free names of an expression (function names and constants excluded)."""
    tree = parse(source)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return frozenset(
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and id(n) not in called and n.id not in CONSTANTS
    )


def draws(source: str) -> frozenset[str]:
    """The random draws (names of :data:`models_bio.distrib.DRAWS`) an expression calls."""
    return frozenset(
        n.func.id
        for n in ast.walk(parse(source))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in DRAWS
    )


class _ToNamespace(ast.NodeTransformer):
    """Rewrite function calls to ``_f.<name>`` and comparisons/booleans to namespace calls.

    A random draw also receives the state ``_x_``, whose leading axes give the batch shape.
    """

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        assert isinstance(node.func, ast.Name)
        if node.func.id in DRAWS:
            node.args.append(ast.Name("_x_", ast.Load()))
        node.func = ast.Attribute(
            value=ast.Name("_f", ast.Load()), attr=node.func.id, ctx=ast.Load()
        )
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in CONSTANTS:
            return ast.Constant(CONSTANTS[node.id])
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        ops = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq",
               ast.NotEq: "ne"}  # fmt: skip
        terms = [node.left, *node.comparators]
        calls = [_call(ops[type(op)], terms[i], terms[i + 1]) for i, op in enumerate(node.ops)]
        out = calls[0]
        for c in calls[1:]:
            out = _call("and_", out, c)
        return out

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        name = "and_" if isinstance(node.op, ast.And) else "or_"
        out = node.values[0]
        for v in node.values[1:]:
            out = _call(name, out, v)
        return out

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return _call("not_", node.operand)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        return _call("where", node.test, node.body, node.orelse)


def _call(name: str, *args: ast.AST) -> ast.Call:
    func = ast.Attribute(value=ast.Name("_f", ast.Load()), attr=name, ctx=ast.Load())
    return ast.Call(func=func, args=list(args), keywords=[])


def to_code(source: str) -> str:
    """Python source of ``source`` with function calls routed through the namespace ``_f``."""
    tree = _ToNamespace().visit(parse(source))
    return ast.unparse(ast.fix_missing_locations(tree))


def compile_program(
    outputs: Iterable[str],
    *,
    inputs: Mapping[str, str],
    assignments: Iterable[tuple[str, str]] = (),
    stack: bool = True,
) -> Callable[..., Any]:
    """Compile several expressions into one straight-line vectorised function.

    Parameters
    ----------
    outputs : iterable of str
        Expressions to evaluate, in order.
    inputs : mapping of str to str
        Symbol name -> Python code reading it from the function arguments, e.g.
        ``{"A": "_x_[..., 3]", "k1": "_p_[..., 0]", "time": "_t_"}`` (the arguments are
        named ``_x_``, ``_p_``, ``_t_`` so that no species name can shadow them).
    assignments : iterable of (name, expression)
        Intermediate variables evaluated in order before the outputs (SBML assignment rules).
    stack : bool
        Stack the outputs along a new last axis (``_f.stack``); else return a tuple.

    Returns
    -------
    callable
        ``fn(x, p, t, ns)`` where ``ns`` is ``_f`` is an array namespace (:data:`NUMPY` or :data:`TORCH`).
    """
    outs = list(outputs)
    lines = ["def _program(_x_, _p_, _t_, _f):"]
    known = set(inputs)
    for name, code in inputs.items():
        lines.append(f"    {_ident(name)} = {code}")
    for name, expr in assignments:
        missing = symbols(expr) - known
        if missing:
            raise ExpressionError(f"rule for {name!r} reads unknown symbols {sorted(missing)}")
        lines.append(f"    {_ident(name)} = _f.broadcast({to_code(expr)}, _t_)")
        known.add(name)
    for expr in outs:
        missing = symbols(expr) - known
        if missing:
            raise ExpressionError(
                f"expression {expr!r} reads unknown symbols {sorted(missing)}; known symbols "
                "are the species, parameters, rule variables and 'time'"
            )
    body = ", ".join(f"_f.broadcast({to_code(e)}, _t_)" for e in outs)
    if stack:
        lines.append(f"    return _f.stack([{body}], _x_)" if outs else "    return _f.empty(_x_)")
    else:
        lines.append(f"    return ({body}{',' if len(outs) == 1 else ''})")
    namespace: dict[str, Any] = {"__builtins__": {}}
    exec(compile("\n".join(lines), "<cellsde-expression>", "exec"), namespace)
    return namespace["_program"]


def _ident(name: str) -> str:
    if not name.isidentifier() or name in ("_x_", "_p_", "_t_", "_f"):
        raise ExpressionError(f"{name!r} is not a valid symbol name (letters, digits, _)")
    return name


def _hill(np_pow: Callable[[Any, Any], Any]) -> Callable[[Any, Any, Any], Any]:
    def hill(x: Any, n: Any, k: Any) -> Any:
        xn = np_pow(x, n)
        return xn / (xn + np_pow(k, n))

    return hill


def _piecewise(where: Callable[..., Any]) -> Callable[..., Any]:
    def piecewise(*args: Any) -> Any:
        otherwise = args[-1] if len(args) % 2 == 1 else float("nan")
        pairs = args[: len(args) - len(args) % 2]
        out = otherwise
        for i in range(len(pairs) - 2, -1, -2):
            out = where(pairs[i + 1], pairs[i], out)
        return out

    return piecewise


def _make_numpy(rng: Any = None) -> SimpleNamespace:
    import numpy as np

    def broadcast(v: Any, t: Any) -> Any:
        return v

    def stack(vals: list[Any], x: Any) -> Any:
        # one preallocated output; broadcasting happens in the assignment
        out = np.empty((*x.shape[:-1], len(vals)))
        for i, v in enumerate(vals):
            out[..., i] = v
        return out

    ns = SimpleNamespace(
        exp=np.exp, log=np.log, log10=np.log10, sqrt=np.sqrt, abs=np.abs, sin=np.sin,
        cos=np.cos, tan=np.tan, tanh=np.tanh, floor=np.floor, ceil=np.ceil, pow=np.power,
        min=lambda *a: _reduce(np.minimum, a), max=lambda *a: _reduce(np.maximum, a),
        lt=np.less, le=np.less_equal, gt=np.greater, ge=np.greater_equal, eq=np.equal,
        ne=np.not_equal, and_=np.logical_and, or_=np.logical_or, not_=np.logical_not,
        where=lambda c, a, b: np.where(c, a, b), broadcast=broadcast, stack=stack,
        empty=lambda x: np.zeros((*x.shape[:-1], 0)),
    )  # fmt: skip
    ns.asin, ns.acos, ns.atan = np.arcsin, np.arccos, np.arctan
    ns.sinh, ns.cosh = np.sinh, np.cosh
    ns.asinh, ns.acosh, ns.atanh = np.arcsinh, np.arccosh, np.arctanh
    ns.hill = _hill(np.power)
    ns.hill_rep = lambda x, n, k: 1.0 - ns.hill(x, n, k)
    ns.piecewise = _piecewise(ns.where)
    ns.factorial = np.vectorize(
        lambda v: math.gamma(v + 1.0) if v >= 0 else math.nan, otypes=[float]
    )
    ns.quotient = lambda a, b: np.trunc(np.divide(a, b))
    ns.rem = np.fmod
    bind_draws(ns, rng, lambda like: np.shape(like)[:-1], error=ExpressionError)
    return ns


def _make_torch() -> SimpleNamespace:
    import torch

    def as_t(v: Any, like: Any) -> Any:
        return (
            v
            if isinstance(v, torch.Tensor)
            else torch.as_tensor(v, dtype=like.dtype, device=like.device)
        )

    def stack(vals: list[Any], x: Any) -> Any:
        shape = x.shape[:-1]
        return torch.stack([as_t(v, x).expand(shape) for v in vals], -1)

    def where(c: Any, a: Any, b: Any) -> Any:
        return torch.where(torch.as_tensor(c), torch.as_tensor(a), torch.as_tensor(b))

    def tensor_fn(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return lambda v: fn(
            torch.as_tensor(v, dtype=torch.get_default_dtype())
            if not isinstance(v, torch.Tensor)
            else v
        )

    ns = SimpleNamespace(
        exp=tensor_fn(torch.exp), log=tensor_fn(torch.log), log10=tensor_fn(torch.log10),
        sqrt=tensor_fn(torch.sqrt), abs=tensor_fn(torch.abs), sin=tensor_fn(torch.sin),
        cos=tensor_fn(torch.cos), tan=tensor_fn(torch.tan), tanh=tensor_fn(torch.tanh),
        floor=tensor_fn(torch.floor), ceil=tensor_fn(torch.ceil),
        pow=lambda a, b: torch.pow(torch.as_tensor(a), b),
        min=lambda *a: _reduce(lambda u, v: torch.minimum(torch.as_tensor(u), torch.as_tensor(v)), a),
        max=lambda *a: _reduce(lambda u, v: torch.maximum(torch.as_tensor(u), torch.as_tensor(v)), a),
        lt=lambda a, b: torch.as_tensor(a) < b, le=lambda a, b: torch.as_tensor(a) <= b,
        gt=lambda a, b: torch.as_tensor(a) > b, ge=lambda a, b: torch.as_tensor(a) >= b,
        eq=lambda a, b: torch.as_tensor(a) == b, ne=lambda a, b: torch.as_tensor(a) != b,
        and_=lambda a, b: torch.logical_and(torch.as_tensor(a), torch.as_tensor(b)),
        or_=lambda a, b: torch.logical_or(torch.as_tensor(a), torch.as_tensor(b)),
        not_=lambda a: torch.logical_not(torch.as_tensor(a)),
        where=where, broadcast=lambda v, t: v, stack=stack,
        empty=lambda x: x.new_zeros((*x.shape[:-1], 0)),
    )  # fmt: skip
    for fname in ("asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh"):
        setattr(ns, fname, tensor_fn(getattr(torch, fname)))
    ns.hill = _hill(ns.pow)
    ns.hill_rep = lambda x, n, k: 1.0 - ns.hill(x, n, k)
    ns.piecewise = _piecewise(where)
    ns.factorial = tensor_fn(lambda v: torch.exp(torch.lgamma(v + 1.0)).round())
    ns.quotient = lambda a, b: torch.trunc(torch.as_tensor(a) / b)
    ns.rem = lambda a, b: torch.fmod(torch.as_tensor(a), b)
    # draws run on numpy (events)
    bind_draws(ns, None, lambda like: tuple(like.shape[:-1]), error=ExpressionError)
    return ns


def _reduce(fn: Callable[[Any, Any], Any], args: tuple[Any, ...]) -> Any:
    if not args:
        raise ExpressionError("min()/max() need at least one argument")
    out = args[0]
    for a in args[1:]:
        out = fn(out, a)
    return out


def namespace(backend: str, *, rng: Any = None) -> SimpleNamespace:
    """The array namespace for ``backend`` (``"numpy"`` or ``"torch"``).

    ``rng`` (a ``numpy.random.Generator``, numpy only) serves the random draws; without it a
    draw raises :class:`ExpressionError`.
    """
    if backend == "numpy":
        return _make_numpy(rng)
    if backend == "torch":
        return _make_torch()
    raise ValueError(f"unknown backend {backend!r}; use 'numpy' or 'torch'")
