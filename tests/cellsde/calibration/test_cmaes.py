"""CMA-ES on standard test functions."""

from __future__ import annotations

import numpy as np

from cellsde.calibration.cmaes import minimize


def test_finds_the_minimum_of_an_ill_conditioned_quadratic() -> None:
    scales = np.logspace(0, 3, 6)

    def ellipsoid(x):
        return float(np.sum((scales * (x - 1.0)) ** 2))

    state = minimize(ellipsoid, np.zeros(6), sigma=0.5, generations=500, seed=0)
    assert state["best_f"] < 1e-8
    np.testing.assert_allclose(state["best_x"], 1.0, atol=1e-4)


def test_rosenbrock_and_reproducible() -> None:
    def rosen(x):
        return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))

    a = minimize(rosen, np.zeros(4), sigma=0.3, generations=400, seed=1)
    b = minimize(rosen, np.zeros(4), sigma=0.3, generations=400, seed=1)
    assert a["best_f"] < 1e-6
    assert a["best_f"] == b["best_f"]
