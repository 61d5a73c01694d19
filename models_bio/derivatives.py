"""Exact symbolic derivatives of rate-law expressions.

Stiff solvers need the Jacobian of the rate laws and calibration needs their derivatives with
respect to parameters. Finite differences of a stiff system are inexact and cost one drift
evaluation per column; here every partial derivative is derived once, as a new expression in
the same restricted language (:mod:`models_bio.expressions`), and compiled with the rate laws
into one straight-line vectorised program.

Rules
-----
* Assignment-rule variables are substituted by their expressions first, so a derivative
  follows the chain rule through every rule.
* ``hill(x, n, K)`` is differentiated as ``x**n / (x**n + K**n)`` and ``hill_rep`` as
  ``1 - hill``; ``pow(a, b)`` as ``a**b`` (the ``log(a)`` term only when ``b`` is not constant).
* Comparisons, boolean logic, ``floor`` and ``ceil`` have derivative 0 (a piecewise-constant
  function, differentiated away from its jumps); ``piecewise``, ``min``, ``max`` and
  conditional expressions differentiate the branch that is selected.
* Sums and products with a zero or unit factor are folded, so the derivative of a mass-action
  law ``k*A*B`` with respect to ``A`` is ``k*B``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

from models_bio.expressions import ExpressionError, parse

_ZERO = ast.Constant(0.0)
_ONE = ast.Constant(1.0)


def _const(node: ast.AST) -> float | None:
    return float(node.value) if isinstance(node, ast.Constant) else None


def _is(node: ast.AST | None, value: float) -> bool:
    return node is not None and _const(node) == value


def _add(a: ast.AST | None, b: ast.AST | None) -> ast.AST | None:
    if a is None or _is(a, 0.0):
        return b
    if b is None or _is(b, 0.0):
        return a
    return ast.BinOp(a, ast.Add(), b)


def _neg(a: ast.AST | None) -> ast.AST | None:
    if a is None:
        return None
    if _const(a) is not None:
        return ast.Constant(-_const(a))
    return ast.UnaryOp(ast.USub(), a)


def _mul(a: ast.AST | None, b: ast.AST | None) -> ast.AST | None:
    if a is None or b is None or _is(a, 0.0) or _is(b, 0.0):
        return None
    if _is(a, 1.0):
        return b
    if _is(b, 1.0):
        return a
    return ast.BinOp(a, ast.Mult(), b)


def _div(a: ast.AST | None, b: ast.AST) -> ast.AST | None:
    if a is None or _is(a, 0.0):
        return None
    return a if _is(b, 1.0) else ast.BinOp(a, ast.Div(), b)


def _pow(a: ast.AST, b: ast.AST) -> ast.AST:
    return ast.BinOp(a, ast.Pow(), b)


def _call(name: str, *args: ast.AST) -> ast.AST:
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


def _chain(outer: ast.AST, inner_d: ast.AST | None) -> ast.AST | None:
    return _mul(outer, inner_d)


class _Derivative:
    """d(expression)/d(var) on a validated, rule-free AST; ``None`` means exactly 0."""

    def __init__(self, var: str) -> None:
        self.var = var

    def __call__(self, node: ast.AST) -> ast.AST | None:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise ExpressionError(f"cannot differentiate {ast.unparse(node)!r}")
        return method(node)

    def _Constant(self, node: ast.Constant) -> None:
        return None

    def _Name(self, node: ast.Name) -> ast.AST | None:
        return _ONE if node.id == self.var else None

    def _Compare(self, node: ast.AST) -> None:
        return None

    _BoolOp = _Compare

    def _UnaryOp(self, node: ast.UnaryOp) -> ast.AST | None:
        if isinstance(node.op, ast.Not):
            return None
        d = self(node.operand)
        return _neg(d) if isinstance(node.op, ast.USub) else d

    def _IfExp(self, node: ast.IfExp) -> ast.AST | None:
        a, b = self(node.body), self(node.orelse)
        if a is None and b is None:
            return None
        return ast.IfExp(node.test, a or _ZERO, b or _ZERO)

    def _BinOp(self, node: ast.BinOp) -> ast.AST | None:
        u, v = node.left, node.right
        du, dv = self(u), self(v)
        if isinstance(node.op, ast.Add):
            return _add(du, dv)
        if isinstance(node.op, ast.Sub):
            return _add(du, _neg(dv))
        if isinstance(node.op, ast.Mult):
            return _add(_mul(du, v), _mul(u, dv))
        if isinstance(node.op, ast.Div):  # (du v - u dv) / v^2 = du/v - u dv / v^2
            return _add(_div(du, v), _neg(_div(_mul(u, dv), _pow(v, ast.Constant(2.0)))))
        if isinstance(node.op, ast.Pow):
            return self._power(u, v, du, dv)
        raise ExpressionError(f"cannot differentiate {ast.unparse(node)!r}")

    def _power(self, u, v, du, dv) -> ast.AST | None:
        out = None
        if du is not None:  # v * u**(v-1) * du
            c = _const(v)
            lower = ast.Constant(c - 1.0) if c is not None else ast.BinOp(v, ast.Sub(), _ONE)
            base = _ONE if c == 1.0 else _pow(u, lower)
            out = _mul(_mul(v, base), du)
        if dv is not None:  # u**v * log(u) * dv
            out = _add(out, _mul(_mul(_pow(u, v), _call("log", u)), dv))
        return out

    def _Call(self, node: ast.Call) -> ast.AST | None:
        name, args = node.func.id, node.args  # type: ignore[attr-defined]
        if name in ("floor", "ceil"):
            return None
        if name == "pow":
            return self(_pow(args[0], args[1]))
        if name == "hill":
            x, n, k = args
            return self(ast.BinOp(_pow(x, n), ast.Div(), _add(_pow(x, n), _pow(k, n))))
        if name == "hill_rep":
            return _neg(self(_call("hill", *args)))
        if name == "piecewise":  # values at even positions (and 'otherwise'), conditions odd
            parts = [self(a) if i % 2 == 0 else a for i, a in enumerate(args)]
            if all(parts[i] is None for i in range(0, len(args), 2)):
                return None
            return _call("piecewise", *[p or _ZERO for p in parts])
        if name in ("min", "max"):
            return self._extreme(name, list(args))
        (u,) = args
        du = self(u)
        if du is None:
            return None
        outer = {
            "exp": lambda: _call("exp", u),
            "log": lambda: ast.BinOp(_ONE, ast.Div(), u),
            "log10": lambda: ast.BinOp(_ONE, ast.Div(), _mul(u, _call("log", ast.Constant(10.0)))),
            "sqrt": lambda: ast.BinOp(ast.Constant(0.5), ast.Div(), _call("sqrt", u)),
            "abs": lambda: ast.IfExp(ast.Compare(u, [ast.Lt()], [_ZERO]), ast.Constant(-1.0), _ONE),
            "sin": lambda: _call("cos", u),
            "cos": lambda: _neg(_call("sin", u)),
            "tan": lambda: _add(_ONE, _pow(_call("tan", u), ast.Constant(2.0))),
            "tanh": lambda: ast.BinOp(_ONE, ast.Sub(), _pow(_call("tanh", u), ast.Constant(2.0))),
            "sinh": lambda: _call("cosh", u),
            "cosh": lambda: _call("sinh", u),
            "asin": lambda: _div(_ONE, _call("sqrt", ast.BinOp(_ONE, ast.Sub(), _pow(u, ast.Constant(2.0))))),
            "acos": lambda: _neg(_div(_ONE, _call("sqrt", ast.BinOp(_ONE, ast.Sub(), _pow(u, ast.Constant(2.0)))))),
            "atan": lambda: _div(_ONE, _add(_ONE, _pow(u, ast.Constant(2.0)))),
            "asinh": lambda: _div(_ONE, _call("sqrt", _add(_pow(u, ast.Constant(2.0)), _ONE))),
            "acosh": lambda: _div(_ONE, _call("sqrt", ast.BinOp(_pow(u, ast.Constant(2.0)), ast.Sub(), _ONE))),
            "atanh": lambda: _div(_ONE, ast.BinOp(_ONE, ast.Sub(), _pow(u, ast.Constant(2.0)))),
        }  # fmt: skip
        if name not in outer:
            raise ExpressionError(f"cannot differentiate {name}()")
        return _chain(outer[name](), du)

    def _extreme(self, name: str, args: list[ast.AST]) -> ast.AST | None:
        if len(args) == 1:
            return self(args[0])
        first, rest = args[0], _call(name, *args[1:]) if len(args) > 2 else args[1]
        d_first, d_rest = self(first), self(rest)
        if d_first is None and d_rest is None:
            return None
        op = ast.GtE() if name == "max" else ast.LtE()
        test = ast.Compare(first, [op], [rest])
        return ast.IfExp(test, d_first or _ZERO, d_rest or _ZERO)


def _inline(tree: ast.AST, rules: Mapping[str, ast.AST]) -> ast.AST:
    class _Sub(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return rules[node.id] if node.id in rules else node

        def visit_Call(self, node: ast.Call) -> ast.AST:
            node.args = [self.visit(a) for a in node.args]  # keep the function name
            return node

    return _Sub().visit(tree)


def inline_rules(source: str, assignments: Iterable[tuple[str, str]] = ()) -> ast.AST:
    """The expression tree of ``source`` with every assignment-rule variable substituted."""
    rules: dict[str, ast.AST] = {}
    for name, expr in assignments:  # rules are in evaluation order: earlier ones inline later ones
        rules[name] = _inline(parse(expr).body, dict(rules))
    return _inline(parse(source).body, rules)


def derivative(source: str, var: str, *, assignments: Iterable[tuple[str, str]] = ()) -> str | None:
    """The partial derivative of expression ``source`` with respect to symbol ``var``.

    Parameters
    ----------
    source : str
        A validated expression (see :mod:`models_bio.expressions`).
    var : str
        A species, parameter or ``time``.
    assignments : iterable of (name, expression)
        Assignment rules (in evaluation order) that ``source`` may read; they are inlined.

    Returns
    -------
    str or None
        The derivative as an expression in the same language, or ``None`` when it is
        identically zero.

    Raises
    ------
    ExpressionError
        ``source`` calls a function whose derivative is not defined here.
    """
    tree = inline_rules(source, assignments)
    d = _Derivative(var)(tree)
    return None if d is None else ast.unparse(ast.fix_missing_locations(d))
