"""Exact discrete optimal-transport plans between two uniform empirical clouds (numpy, CPU).

The plans here carry no gradient: they are computed on detached cost matrices and then held
fixed while :mod:`cellsde.losses.wasserstein` re-evaluates the transport cost with autograd.
That is the envelope-theorem gradient POT's ``ot.emd2`` returns.

Three exact solvers, chosen by :func:`exact_plan`:

- ``n == m``: optimal assignment (``scipy.optimize.linear_sum_assignment``); the plan is a
  permutation with weight ``1/n`` per pair.
- ``n != m`` and ``lcm(n, m) <= replicate_factor * max(n, m)``: each source point is
  replicated ``L/n`` times and each target point ``L/m`` times (``L = lcm(n, m)``); an
  optimal assignment of the ``L x L`` replicated problem is an optimal plan of the original
  one, because the transport polytope with integer marginals ``(L/n, L/m)`` has integral
  vertices.
- otherwise: the transport linear program on the polytope
  ``{P >= 0 : P 1 = m, P^T 1 = n}`` (scaled to integer marginals, total mass ``n m``) solved by
  HiGHS through ``scipy.optimize.linprog``; the vertex solution is rounded to integers when
  that keeps the marginals exact, then divided by ``n m``.

None of these is entropic or approximate: each returns an optimal plan of the exact problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from scipy.optimize import linear_sum_assignment, linprog

DEFAULT_REPLICATE_FACTOR = 8


@dataclass(frozen=True)
class TransportPlan:
    """A sparse transport plan: mass ``weights[k]`` moves from ``rows[k]`` to ``cols[k]``.

    Attributes
    ----------
    rows, cols : numpy.ndarray of int64, shape (K,)
        Source and target point indices.
    weights : numpy.ndarray of float64, shape (K,)
        Transported mass; sums to 1, row sums ``1/n``, column sums ``1/m``.
    """

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray

    def cost(self, cost: np.ndarray) -> float:
        """Total cost ``sum_k weights[k] * cost[rows[k], cols[k]]`` of the plan."""
        return float(np.sum(self.weights * cost[self.rows, self.cols]))


def _check_cost(cost: np.ndarray) -> np.ndarray:
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or cost.shape[0] == 0 or cost.shape[1] == 0:
        raise ValueError(f"cost must be a non-empty (n, m) matrix, got shape {cost.shape}")
    if not np.all(np.isfinite(cost)):
        raise ValueError("cost matrix has NaN or inf entries; drop unobserved points first")
    return cost


def _assign(cost: np.ndarray) -> TransportPlan:
    n = cost.shape[0]
    rows, cols = linear_sum_assignment(cost)
    return TransportPlan(
        rows.astype(np.int64), cols.astype(np.int64), np.full(n, 1.0 / n, dtype=np.float64)
    )


def assignment_plan(cost: np.ndarray) -> TransportPlan:
    """Optimal plan between two clouds of equal size by linear assignment.

    Parameters
    ----------
    cost : numpy.ndarray, shape (n, n)
        Ground cost, e.g. squared Euclidean distances.

    Returns
    -------
    TransportPlan
        ``n`` pairs of weight ``1/n``.
    """
    cost = _check_cost(cost)
    if cost.shape[0] != cost.shape[1]:
        raise ValueError(f"assignment_plan needs a square cost matrix, got {cost.shape}")
    return _assign(cost)


def _replicated_plan(cost: np.ndarray, lcm: int) -> TransportPlan:
    n, m = cost.shape
    rep_r, rep_c = lcm // n, lcm // m
    big = np.repeat(np.repeat(cost, rep_r, axis=0), rep_c, axis=1)  # (L, L)
    r, c = linear_sum_assignment(big)
    key = (r // rep_r) * m + (c // rep_c)
    uniq, counts = np.unique(key, return_counts=True)
    return TransportPlan(
        (uniq // m).astype(np.int64), (uniq % m).astype(np.int64), counts / float(lcm)
    )


def _lp_plan(cost: np.ndarray) -> TransportPlan:
    n, m = cost.shape
    # Variables P[i, j] flattened row-major; row sums = m, column sums = n (integer marginals).
    row_sum = scipy.sparse.kron(scipy.sparse.eye(n), np.ones((1, m)))  # (n, n m)
    col_sum = scipy.sparse.kron(np.ones((1, n)), scipy.sparse.eye(m))  # (m, n m)
    a_eq = scipy.sparse.vstack([row_sum, col_sum]).tocsr()
    b_eq = np.concatenate([np.full(n, float(m)), np.full(m, float(n))])
    scale = float(np.max(np.abs(cost))) or 1.0
    res = linprog(cost.ravel() / scale, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs-ds")
    if res.status != 0:
        raise RuntimeError(f"exact transport LP failed (HiGHS status {res.status}): {res.message}")
    p = res.x.reshape(n, m)
    rounded = np.rint(p)
    if np.all(rounded.sum(1) == m) and np.all(rounded.sum(0) == n) and np.all(rounded >= 0):
        p = rounded
    else:
        p = np.where(p > 1e-9, p, 0.0)
    rows, cols = np.nonzero(p)
    return TransportPlan(rows.astype(np.int64), cols.astype(np.int64), p[rows, cols] / (n * m))


def exact_plan(
    cost: np.ndarray, *, replicate_factor: int = DEFAULT_REPLICATE_FACTOR
) -> TransportPlan:
    """Exact optimal plan between uniform weights ``1/n`` and ``1/m`` for a cost matrix.

    Parameters
    ----------
    cost : numpy.ndarray, shape (n, m)
        Ground cost (finite).
    replicate_factor : int, default 8
        For ``n != m``, solve by replicated assignment when
        ``lcm(n, m) <= replicate_factor * max(n, m)``, otherwise by the transport linear
        program (HiGHS dual simplex). Both are exact; the rule picks the faster one
        (assignment cost grows like ``lcm³``, the LP like ``(n m)^1.5``). Speed, n ≈ 50 on
        one core: equal sizes ~0.1 ms, replicated ~10 ms, LP ~20-40 ms per cloud pair.

    Returns
    -------
    TransportPlan
        An optimal plan; ``plan.cost(cost)`` is the optimal transport cost.
    """
    return solve_exact(_check_cost(cost), replicate_factor=replicate_factor)


def solve_exact(cost: np.ndarray, *, replicate_factor: int) -> TransportPlan:
    """:func:`exact_plan` without input checks, for callers that validated ``cost`` already.

    ``cost`` must be a finite, non-empty float64 (n, m) array.
    """
    n, m = cost.shape
    if n == m:
        return _assign(cost)
    lcm = n * m // math.gcd(n, m)
    if lcm <= replicate_factor * max(n, m):
        return _replicated_plan(cost, lcm)
    return _lp_plan(cost)


def quantile_plan_1d(n: int, m: int) -> TransportPlan:
    """Monotone (quantile-coupling) plan between two *sorted* 1-D clouds of sizes n and m.

    The optimal 1-D coupling pairs quantiles: on each interval between consecutive points of
    ``{i/n} ∪ {j/m}`` the sorted sample ``i`` of the first cloud meets sample ``j`` of the
    second. Breakpoints are computed in integer arithmetic (units of ``1/(n m)``), so the
    weights are exact.

    Parameters
    ----------
    n, m : int
        Cloud sizes (>= 1).

    Returns
    -------
    TransportPlan
        Indices into the sorted clouds; at most ``n + m - 1`` pairs.
    """
    if n < 1 or m < 1:
        raise ValueError(f"cloud sizes must be >= 1, got n={n}, m={m}")
    breaks = np.union1d(np.arange(n + 1) * m, np.arange(m + 1) * n)  # in units of 1/(n m)
    left, width = breaks[:-1], np.diff(breaks)
    return TransportPlan(
        (left // m).astype(np.int64), (left // n).astype(np.int64), width / float(n * m)
    )
