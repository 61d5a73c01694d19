"""Exact transport plans (no gradient): marginals and optimality against POT."""

from __future__ import annotations

import numpy as np
import ot
import pytest

from cellsde.losses.transport import exact_plan, quantile_plan_1d


@pytest.mark.parametrize(
    ("n", "m", "limit"), [(9, 9, 8), (9, 6, 8), (9, 6, 0), (11, 13, 0), (11, 13, 100)]
)
def test_plan_has_uniform_marginals_and_optimal_cost(n: int, m: int, limit: int) -> None:
    rng = np.random.default_rng(n * m + limit)
    cost = ot.dist(rng.normal(size=(n, 2)), rng.normal(size=(m, 2)))
    plan = exact_plan(cost, replicate_factor=limit)
    p = np.zeros((n, m))
    np.add.at(p, (plan.rows, plan.cols), plan.weights)
    np.testing.assert_allclose(p.sum(1), 1 / n, atol=1e-12)
    np.testing.assert_allclose(p.sum(0), 1 / m, atol=1e-12)
    want = ot.emd2(np.full(n, 1 / n), np.full(m, 1 / m), cost)
    assert plan.cost(cost) == pytest.approx(want, abs=1e-12)


def test_quantile_plan_weights_are_exact() -> None:
    plan = quantile_plan_1d(3, 2)  # breakpoints 0, 1/3, 1/2, 2/3, 1
    np.testing.assert_array_equal(plan.rows, [0, 1, 1, 2])
    np.testing.assert_array_equal(plan.cols, [0, 0, 1, 1])
    np.testing.assert_allclose(plan.weights, [1 / 3, 1 / 6, 1 / 6, 1 / 3])


def test_bad_cost_raises() -> None:
    with pytest.raises(ValueError, match="NaN"):
        exact_plan(np.array([[0.0, np.nan], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="non-empty"):
        exact_plan(np.zeros((0, 3)))
