"""Calibrated uncertainty of inferred theta: a parametric bootstrap, bias- and slope-corrected.

Why not only resample the group's cells? The nonparametric bootstrap measures how much the
estimate moves when the group's cells are resampled. For the estimators used here that spread
is too narrow: the amortized network (trained by MSE, so close to a posterior mean) and the tW2
search both shrink estimates towards the middle of the range, so an estimate moves *less* than
theta does. On the damped oscillator (K = 32) the amortized estimate behaves like
``0.8 * theta + noise``; intervals built from the spread of estimates then cover the truth in
only about 80 % of cases at a nominal 95 %.

The method here is a parametric bootstrap read through a first-order Neyman inversion:

1. Simulate ``B`` replicate groups from the model at the estimate ``theta_hat`` (same group
   size, initial states and observation pattern as the group) and re-estimate theta on each:
   draws ``e_b`` with mean ``m`` and spread ``e_b - m``. The spread includes everything the
   estimator does on a fresh group — cell sampling, the simulation noise of the search, the
   optimiser — because the whole estimator is re-run.
2. Estimate the slope ``J = d E[estimate] / d theta`` (param x param) by central differences:
   replicates at ``theta_hat +- h e_j`` with the *same* random numbers as step 1 (common random
   numbers make the difference of means precise).
3. Invert the linearised relation ``estimate = m(theta) + eps``:
   ``theta_centre = theta_hat + J^-1 (theta_hat - m)`` (bias corrected) and
   ``theta = theta_centre - J^-1 eps``; the interval at ``level`` is
   ``theta_centre +- z * sd(J^-1 (e_b - m))`` per parameter (normal quantile ``z``).

When the estimate does not depend on a parameter (``J`` singular: theta not identifiable from
these data) the interval is infinite (NaN): the data cannot bound it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from statistics import NormalDist

import torch

from cellsde.nn.base import PopulationModel
from cellsde.nn.grouped_paths import initial_states
from cellsde.nn.training_data import GroupedData

Estimator = Callable[[GroupedData], torch.Tensor]


@dataclass(frozen=True)
class ParametricInterval:
    """Result of :func:`parametric_interval` (all tensors float, on the data's device).

    Attributes
    ----------
    centre : torch.Tensor, shape (group, param)
        Bias-corrected estimate ``theta_hat + J^-1 (theta_hat - m)``.
    std : torch.Tensor, shape (group, param)
        Standard deviation of the estimator mapped to theta (``sd(J^-1 (e_b - m))``).
    lo, hi : torch.Tensor, shape (group, param)
        ``centre -+ z * std`` at the nominal ``level``.
    draws : torch.Tensor, shape (group, boot, param)
        ``centre - J^-1 (e_b - m)``: the sampling distribution of theta given the estimate.
    jacobian : torch.Tensor, shape (group, param, param)
        ``J[g, i, j] = d E[estimate_i] / d theta_j`` at the estimate.
    """

    centre: torch.Tensor
    std: torch.Tensor
    lo: torch.Tensor
    hi: torch.Tensor
    draws: torch.Tensor
    jacobian: torch.Tensor


def simulate_like(
    model: PopulationModel,
    data: GroupedData,
    theta: torch.Tensor,
    *,
    n_rep: int,
    dt: float,
    seed: int,
) -> GroupedData:
    """``n_rep`` replicate groups per group, simulated at ``theta`` like the group was observed.

    Parameters
    ----------
    data : GroupedData
        G groups: their initial states are cycled through, their observation mask is copied.
    theta : torch.Tensor, shape (group, param)
        Parameters to simulate each group's replicates at (the leading columns of
        ``data.theta``; its trailing known covariates are kept).
    n_rep : int
        Replicates per group.
    dt : float
        Euler–Maruyama step, in the model's time units.
    seed : int
        Seeds the Brownian increments; the same seed and shapes give the same increments
        (common random numbers across ``theta``).

    Returns
    -------
    GroupedData
        G * n_rep groups, group-major (g0r0, g0r1, ..., g1r0, ...), ``theta`` set.
    """
    g, n_max, t = data.obs.shape[:3]

    def rep(x: torch.Tensor) -> torch.Tensor:
        return x.repeat_interleave(n_rep, 0)

    full = data.with_unknown(theta).theta  # (group, param + covariate): covariates kept
    big = replace(data, mask=rep(data.mask), x0=rep(data.x0), n0=rep(data.n0), theta=rep(full))
    x0 = initial_states(big, n_max)  # (group*rep*cell, species)
    gen = torch.Generator(device=data.obs.device).manual_seed(seed)
    with torch.no_grad():
        paths = model.sample_paths(
            x0, big.theta.repeat_interleave(n_max, 0), data.times, dt=dt, generator=gen
        )  # (group*rep*cell, time, species)
    obs = (paths @ data.readout).reshape(g * n_rep, n_max, t, -1).to(data.obs.dtype)
    obs = torch.where(
        big.mask[..., None], obs, torch.zeros_like(obs)
    )  # (group*rep, cell, time, obs)
    return replace(big, obs=obs)


def parametric_interval(
    model: PopulationModel,
    data: GroupedData,
    theta_hat: torch.Tensor,
    estimate: Estimator,
    *,
    n_boot: int,
    dt: float,
    seed: int,
    step: torch.Tensor,
    level: float = 0.95,
) -> ParametricInterval:
    """Bias- and slope-corrected parametric-bootstrap interval of every group's theta.

    Parameters
    ----------
    model : PopulationModel
        The model the estimate refers to (replicates are simulated with it).
    data : GroupedData
        The G observed groups.
    theta_hat : torch.Tensor, shape (group, param)
        The estimate to assess.
    estimate : callable
        The estimator: GroupedData of n groups -> theta (n, param). It is re-run on
        ``(1 + 2 * param) * n_boot`` replicates per group.
    n_boot : int
        Replicates per group and per simulated parameter point (>= 2).
    dt : float
        Simulation step.
    seed : int
        Seeds the replicates (one stream, reused at every parameter point).
    step : torch.Tensor, shape (param,)
        Finite-difference step ``h`` per parameter, in theta units.
    level : float
        Nominal two-sided coverage of ``lo``-``hi``, in (0, 1).

    Returns
    -------
    ParametricInterval
    """
    if n_boot < 2:
        raise ValueError(f"n_boot must be >= 2 for a parametric interval, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    g, p = theta_hat.shape
    theta_hat = theta_hat.detach()

    def draws_at(theta: torch.Tensor) -> torch.Tensor:
        reps = simulate_like(model, data, theta, n_rep=n_boot, dt=dt, seed=seed)
        return estimate(reps).detach().reshape(g, n_boot, p)  # (group, boot, param)

    e0 = draws_at(theta_hat)
    m0 = e0.mean(1)  # (group, param)
    jac = torch.empty(g, p, p, dtype=theta_hat.dtype, device=theta_hat.device)
    for j in range(p):
        shift = torch.zeros(p, dtype=theta_hat.dtype, device=theta_hat.device)
        shift[j] = step[j]
        up, down = draws_at(theta_hat + shift).mean(1), draws_at(theta_hat - shift).mean(1)
        jac[:, :, j] = (up - down) / (2 * step[j])
    inv, info = torch.linalg.inv_ex(jac)  # (group, param, param)
    singular = (info != 0) | ~torch.isfinite(inv).flatten(1).all(1)
    inv = torch.where(singular[:, None, None], torch.full_like(inv, float("nan")), inv)
    centre = theta_hat + torch.einsum("gij,gj->gi", inv, theta_hat - m0)
    dev = torch.einsum("gij,gbj->gbi", inv, e0 - m0[:, None, :])  # (group, boot, param)
    std = dev.std(1, unbiased=True)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    return ParametricInterval(centre=centre, std=std, lo=centre - z * std, hi=centre + z * std,
                              draws=centre[:, None, :] - dev, jacobian=jac)  # fmt: skip
