"""The ESDIRK tableaux: order conditions, stage order, stiff accuracy, L-stability."""

from __future__ import annotations

import numpy as np
import pytest

from cellsde.solvers.tableaux import TABLEAUX


def _order_conditions(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> list[float]:
    """Residuals of the 8 conditions of order <= 4 (Butcher trees), in order 1, 2, 3, 3, 4x4."""
    return [
        b.sum() - 1.0,
        b @ c - 1 / 2,
        b @ c**2 - 1 / 3,
        b @ a @ c - 1 / 6,
        b @ c**3 - 1 / 4,
        (b * c) @ a @ c - 1 / 8,
        b @ a @ c**2 - 1 / 12,
        b @ a @ a @ c - 1 / 24,
    ]


_COUNT = {1: 1, 2: 2, 3: 4, 4: 8}  # conditions up to each order


@pytest.mark.parametrize(("name", "order"), [("TRBDF2", 2), ("ESDIRK4", 4)])
def test_solution_and_embedded_weights_have_their_orders(name: str, order: int) -> None:
    t = TABLEAUX[name]
    b = t.a[-1]  # stiffly accurate: the solution is the last stage
    b_hat = b - t.b_err
    res = _order_conditions(t.a, b, t.c)
    np.testing.assert_allclose(res[: _COUNT[order]], 0.0, atol=1e-14)
    if order < 4:  # and not one more
        assert np.max(np.abs(res[_COUNT[order] : _COUNT[order + 1]])) > 1e-3
    emb = 3  # both embedded estimates are third order
    res_hat = _order_conditions(t.a, b_hat, t.c)
    np.testing.assert_allclose(res_hat[: _COUNT[emb]], 0.0, atol=1e-14)
    assert np.max(np.abs(res_hat[_COUNT[emb] :])) > 1e-4  # a genuine lower-order estimate
    assert t.error_order == min(order, emb)


@pytest.mark.parametrize("name", ["TRBDF2", "ESDIRK4"])
def test_esdirk_structure_and_l_stability(name: str) -> None:
    t = TABLEAUX[name]
    s = t.stages
    np.testing.assert_allclose(t.a.sum(axis=1), t.c, atol=1e-15)
    assert np.all(np.triu(t.a, 1) == 0.0) and np.all(t.a[0] == 0.0)
    np.testing.assert_allclose(np.diag(t.a)[1:], t.gamma, rtol=1e-15)
    assert t.c[-1] == 1.0
    # stage order 2: every stage integrates t exactly
    np.testing.assert_allclose(t.a @ t.c, t.c**2 / 2, atol=1e-14)
    np.testing.assert_allclose(t.predictor.sum(axis=1), t.c, atol=1e-14)

    def r(z: complex) -> complex:  # stability function: x1 = R(z) x0 for x' = lambda x
        return complex(np.linalg.solve(np.eye(s) - z * t.a, np.ones(s))[-1])

    assert abs(r(-1e12)) < 1e-9  # L-stable: stiff modes are damped out in one step
    assert all(abs(r(1j * y)) <= 1.0 + 1e-12 for y in np.geomspace(1e-3, 1e4, 60))
    assert all(abs(r(x)) < 1.0 for x in -np.geomspace(1e-3, 1e6, 60))
