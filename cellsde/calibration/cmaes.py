"""CMA-ES: the derivative-free route to the same calibration loss.

The (mu/mu_w, lambda) evolution strategy with cumulative step-size adaptation and rank-one
plus rank-mu covariance updates, with the default strategy parameters of Hansen's tutorial
("The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772, table 1). It needs only loss
values, so it also works where no gradient exists (stochastic simulations); on a smooth
problem with exact gradients it is the baseline the gradient route is measured against.

The state is a plain dict of arrays, so a run can be checkpointed and resumed exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Strategy:
    """The fixed strategy parameters for dimension ``n`` and population ``lam``."""

    n: int
    lam: int
    mu: int
    weights: np.ndarray
    mu_eff: float
    c_sigma: float
    d_sigma: float
    c_c: float
    c_1: float
    c_mu: float
    chi_n: float

    @staticmethod
    def default(n: int, lam: int | None = None) -> Strategy:
        lam = lam or 4 + int(3 * math.log(n))
        mu = lam // 2
        w = math.log((lam + 1) / 2) - np.log(np.arange(1, mu + 1))
        w = w / w.sum()
        mu_eff = 1.0 / float(np.sum(w**2))
        c_sigma = (mu_eff + 2) / (n + mu_eff + 5)
        d_sigma = 1 + 2 * max(0.0, math.sqrt((mu_eff - 1) / (n + 1)) - 1) + c_sigma
        c_c = (4 + mu_eff / n) / (n + 4 + 2 * mu_eff / n)
        c_1 = 2 / ((n + 1.3) ** 2 + mu_eff)
        c_mu = min(1 - c_1, 2 * (mu_eff - 2 + 1 / mu_eff) / ((n + 2) ** 2 + mu_eff))
        chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))
        return Strategy(n, lam, mu, w, mu_eff, c_sigma, d_sigma, c_c, c_1, c_mu, chi_n)


def initial_state(mean: np.ndarray, sigma: float, seed: int) -> dict:
    """The state of a new run at ``mean`` with step size ``sigma``."""
    n = mean.size
    return {
        "mean": np.asarray(mean, dtype=float).copy(), "sigma": float(sigma),
        "cov": np.eye(n), "p_sigma": np.zeros(n), "p_c": np.zeros(n), "generation": 0,
        "rng": np.random.default_rng(seed).bit_generator.state,
        "best_x": np.asarray(mean, dtype=float).copy(), "best_f": math.inf,
    }  # fmt: skip


def generation(state: dict, loss: Callable[[np.ndarray], float], strategy: Strategy) -> dict:
    """Sample ``lambda`` points, evaluate ``loss`` on each, and update ``state`` (a new dict)."""
    s = strategy
    rng = np.random.default_rng()
    rng.bit_generator.state = state["rng"]
    vals, vecs = np.linalg.eigh(state["cov"])
    vals = np.maximum(vals, 1e-20)
    b, d = vecs, np.sqrt(vals)
    z = rng.standard_normal((s.lam, s.n))
    y = (z * d) @ b.T  # ~ N(0, C)
    x = state["mean"] + state["sigma"] * y
    f = np.array([loss(xi) for xi in x])
    order = np.argsort(f)
    y_sel = y[order[: s.mu]]
    y_w = s.weights @ y_sel
    mean = state["mean"] + state["sigma"] * y_w
    inv_sqrt = (b / d) @ b.T  # C^-1/2
    p_sigma = (1 - s.c_sigma) * state["p_sigma"] + math.sqrt(
        s.c_sigma * (2 - s.c_sigma) * s.mu_eff
    ) * (inv_sqrt @ y_w)
    norm = float(np.linalg.norm(p_sigma))
    g = state["generation"] + 1
    h_sigma = norm / math.sqrt(1 - (1 - s.c_sigma) ** (2 * g)) < (1.4 + 2 / (s.n + 1)) * s.chi_n
    p_c = (1 - s.c_c) * state["p_c"] + h_sigma * math.sqrt(s.c_c * (2 - s.c_c) * s.mu_eff) * y_w
    rank_mu = (y_sel.T * s.weights) @ y_sel
    cov = (
        (1 - s.c_1 - s.c_mu) * state["cov"]
        + s.c_1 * (np.outer(p_c, p_c) + (1 - h_sigma) * s.c_c * (2 - s.c_c) * state["cov"])
        + s.c_mu * rank_mu
    )
    sigma = state["sigma"] * math.exp((s.c_sigma / s.d_sigma) * (norm / s.chi_n - 1))
    best = order[0]
    better = f[best] < state["best_f"]
    return {
        "mean": mean, "sigma": sigma, "cov": (cov + cov.T) / 2, "p_sigma": p_sigma, "p_c": p_c,
        "generation": g, "rng": rng.bit_generator.state,
        "best_x": x[best].copy() if better else state["best_x"],
        "best_f": float(f[best]) if better else state["best_f"], "losses": f,
    }  # fmt: skip


def minimize(
    loss: Callable[[np.ndarray], float],
    mean: np.ndarray,
    *,
    sigma: float,
    generations: int,
    seed: int,
    lam: int | None = None,
) -> dict:
    """Run ``generations`` generations from ``mean``; the final state (``best_x``, ``best_f``)."""
    strategy = Strategy.default(np.asarray(mean).size, lam)
    state = initial_state(mean, sigma, seed)
    for _ in range(generations):
        state = generation(state, loss, strategy)
    return state
