"""Vectorised sparse LU against dense numpy solves."""

from __future__ import annotations

import numpy as np
import pytest

from cellsde.solvers.sparse_lu import SparseLU


def _problem(n=12, cells=7, density=0.25, seed=0):
    rng = np.random.default_rng(seed)
    pattern = rng.random((n, n)) < density
    rows, cols = np.nonzero(pattern & ~np.eye(n, dtype=bool))
    lu = SparseLU(n, rows, cols)
    dense = np.zeros((cells, n, n))
    values = rng.standard_normal((lu.pattern[0].size, cells)) * 0.4
    dense[:, lu.pattern[0], lu.pattern[1]] = values.T
    dense += 3.0 * np.eye(n)  # well-conditioned without pivoting
    return lu, dense, dense[:, lu.pattern[0], lu.pattern[1]].T.copy(), rng


@pytest.mark.parametrize("ordering", ["min-degree", "rcm", "natural"])
def test_solves_match_dense(ordering: str) -> None:
    lu, dense, values, rng = _problem()
    lu = SparseLU(lu.n, *lu.pattern, ordering=ordering)
    factors, ok = lu.factor(values)
    assert ok
    b = rng.standard_normal((lu.n, dense.shape[0]))
    want = np.linalg.solve(dense, b.T[..., None])[..., 0].T
    np.testing.assert_allclose(lu.solve(factors, b), want, rtol=1e-12, atol=1e-12)
    want_t = np.linalg.solve(np.swapaxes(dense, 1, 2), b.T[..., None])[..., 0].T
    np.testing.assert_allclose(lu.solve_transposed(factors, b), want_t, rtol=1e-12, atol=1e-12)
    many = rng.standard_normal((lu.n, dense.shape[0], 4))
    np.testing.assert_allclose(
        lu.solve(factors, many)[..., 2], lu.solve(factors, many[..., 2]), rtol=1e-14
    )


def test_fill_in_is_smaller_with_an_ordering() -> None:
    lu, *_ = _problem(n=40, density=0.08, seed=1)
    natural = SparseLU(lu.n, *lu.pattern, ordering="natural").nnz
    assert SparseLU(lu.n, *lu.pattern).nnz <= natural


def test_zero_pivot_is_reported() -> None:
    lu = SparseLU(2, [0, 1], [1, 0])
    values = np.zeros((lu.pattern[0].size, 1))  # a zero matrix: the first pivot is 0
    assert not lu.factor(values)[1]


def test_bad_patterns_are_refused() -> None:
    with pytest.raises(ValueError, match="in \\[0, 3\\)"):
        SparseLU(3, [0, 3], [1, 0])
    with pytest.raises(ValueError, match="twice"):
        SparseLU(3, [0, 0], [1, 1])
    with pytest.raises(ValueError, match="ordering"):
        SparseLU(3, [0], [1], ordering="amd")
    lu = SparseLU(3, [0], [1])
    with pytest.raises(ValueError, match="entries"):
        lu.factor(np.ones((2, 4)))
