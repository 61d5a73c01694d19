"""Symbolic derivatives of rate laws against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from models_bio.derivatives import derivative
from models_bio.expressions import ExpressionError, compile_program, namespace

NAMES = ("A", "B", "k", "n", "K")
POINT = {"A": 0.7, "B": 1.9, "k": 2.3, "n": 2.5, "K": 0.4}
CASES = [
    "k*A*B", "k*A**2", "k*A/(K + A)", "hill(A, n, K)", "hill_rep(A, n, K)",
    "pow(A, n)", "exp(-k*A) + log(B)", "sqrt(A*B) + log10(B)", "sin(A)*cos(B) + tan(A/4)",
    "tanh(A) - abs(A - B)", "A**B", "min(A, B, K) + max(A, 2*B)",
    "piecewise(A*B, A > 1, k*A, B > 1, K)", "(A if B > 1 else 2*A) * k", "asinh(A) + atan(B)",
    "floor(A) + ceil(B)",
]  # fmt: skip


def _value(expr: str, point: dict[str, float]) -> float:
    inputs = {q: f"_p_[..., {i}]" for i, q in enumerate(NAMES)}
    prog = compile_program([expr], inputs=inputs)
    p = np.array([[point[q] for q in NAMES]])
    return float(prog(np.zeros((1, 0)), p, 0.0, namespace("numpy"))[0, 0])


@pytest.mark.parametrize("expr", CASES)
@pytest.mark.parametrize("var", ["A", "B", "n"])
def test_derivative_matches_central_differences(expr: str, var: str) -> None:
    d = derivative(expr, var)
    h = 1e-6
    up, down = dict(POINT), dict(POINT)
    up[var] += h
    down[var] -= h
    fd = (_value(expr, up) - _value(expr, down)) / (2 * h)
    exact = 0.0 if d is None else _value(d, POINT)
    assert exact == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_products_fold_to_mass_action_terms() -> None:
    assert derivative("k*A*B", "A") == "k * B"
    assert derivative("k*A*B", "C") is None
    assert derivative("floor(A)", "A") is None


def test_assignment_rules_are_inlined_by_the_chain_rule() -> None:
    rules = [("r1", "k*A"), ("r2", "r1*B")]
    d = derivative("r2 + A", "A", assignments=rules)
    assert _value(d, POINT) == pytest.approx(POINT["k"] * POINT["B"] + 1.0)


def test_bad_expressions_are_refused() -> None:
    with pytest.raises(ExpressionError):
        derivative("__import__('os')", "A")
    with pytest.raises(ExpressionError):
        derivative("", "A")
