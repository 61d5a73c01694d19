"""Small symbolic steps on expression-language strings: substitution and linear solving.

The SBML reader uses them to turn an algebraic rule ``0 = f(x, ...)`` that is linear in one
unknown ``x`` into the assignment rule ``x = -f(0) / (f(1) - f(0))``: exact when ``f`` is
affine in ``x`` (``f = a + b x`` with ``a, b`` free of ``x``), which :func:`degree` checks on the
syntax tree, so the rule holds at every instant without an iterative solver.
"""

from __future__ import annotations

import ast

from models_bio.expressions import parse


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, ast.expr]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return self.mapping.get(node.id, node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node.args = [self.visit(a) for a in node.args]  # function names are never replaced
        return node


def substitute(expr: str, values: dict[str, str]) -> str:
    """``expr`` with each name in ``values`` replaced by the (parenthesised) expression given."""
    tree = parse(expr)
    mapping = {k: parse(f"({v})").body for k, v in values.items()}
    return ast.unparse(ast.fix_missing_locations(_Rename(mapping).visit(tree)))


def degree(expr: str, name: str) -> int | None:
    """Polynomial degree of ``expr`` in ``name`` when it is 0 or 1, else None (non-linear).

    Sums, differences, products with factors free of ``name``, division by terms free of it and
    unary signs keep linearity; any other use of ``name`` (a power, a function argument, a
    comparison, a piecewise condition) counts as non-linear.
    """

    def deg(node: ast.AST) -> int | None:
        if isinstance(node, ast.Name):
            return 1 if node.id == name else 0
        if isinstance(node, ast.Constant):
            return 0
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            return deg(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = deg(node.left), deg(node.right)
            if a is None or b is None:
                return None
            if isinstance(node.op, ast.Add | ast.Sub):
                return max(a, b)
            if isinstance(node.op, ast.Mult):
                return a + b if a + b <= 1 else None
            if isinstance(node.op, ast.Div):
                return a if b == 0 else None
            return 0 if a == b == 0 else None
        free = not any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))
        return 0 if free else None

    return deg(parse(expr).body)


def solve_linear(expr: str, name: str) -> str | None:
    """The expression of ``name`` solving ``expr == 0`` when ``expr`` is affine in it, else None."""
    if degree(expr, name) != 1:
        return None
    f0, f1 = substitute(expr, {name: "0"}), substitute(expr, {name: "1"})
    return f"-({f0})/(({f1}) - ({f0}))"
