"""Heterogeneity inference by minimising tW2 over theta, for all groups at once.

For every group the objective ``tW2(theta) = sum_{t > t0} W2²(sim_t(theta), obs_t)`` is
minimised by Adam on theta, differentiating through the Euler–Maruyama paths. Common random
numbers (the same Brownian increments at every iteration) make the objective a smooth,
deterministic function of theta. All groups and all starting points advance together in one
batched rollout of shape (group * start * path, species).

theta is optimised in a box that extends the training range by ``margin`` on each side
(through a sigmoid), so an estimate may leave the range the model was trained on — it is
then flagged, never silently clipped to it.

Debiased objective (``debiased=True``). The expected W2² between two finite clouds grows
with their spread, so the plain objective is smallest for a simulated cloud *narrower* than
the data: noise parameters are underestimated, by a lot for small groups (damped oscillator,
signed error -0.8 at K = 8, -0.2 at K = 32). The debiased objective compares clouds of the
group's own size: ``R = min(8, max(2, n_paths // K))`` simulated clouds of K paths, each
with the group's observation mask, enter the debiased value of :func:`cellsde.losses.w2_table`
(the one definition, shared with training).
"""

from __future__ import annotations

from dataclasses import replace

import torch
from tqdm.auto import tqdm

from cellsde.losses.table import w2_table
from cellsde.nn.base import PopulationModel
from cellsde.nn.grouped_paths import data_clouds, observe, simulate_groups
from cellsde.nn.training_data import GroupedData
from cellsde.training.objective import model_w2


def _expand(data: GroupedData, reps: int) -> GroupedData:
    """Repeat each group ``reps`` times (group-major: g0 g0 ... g1 g1 ...)."""

    def rep(t: torch.Tensor) -> torch.Tensor:
        return t.repeat_interleave(reps, 0)

    return replace(
        data,
        obs=rep(data.obs),
        mask=rep(data.mask),
        x0=rep(data.x0),
        n0=rep(data.n0),
        theta=rep(data.theta),
    )


def objective(
    model: PopulationModel,
    data: GroupedData,
    theta: torch.Tensor,
    *,
    n_paths: int,
    dt: float,
    seed: int,
    debiased: bool = False,
) -> torch.Tensor:
    """tW2 of every group at ``theta`` (group, param) with a fixed Brownian stream -> (group,).

    ``theta`` sets the leading (unknown) columns of ``data.theta``; trailing known
    covariates are kept. ``debiased=True``: the size-matched debiased form (module docstring).
    """
    gen = torch.Generator(device=data.obs.device).manual_seed(seed)
    at = data.with_unknown(theta)  # the data's known covariates stay
    if debiased:
        return debiased_tw2(model, at, n_paths=n_paths, dt=dt, generator=gen)
    w2, _ = model_w2(model, at, n_paths=n_paths, dt=dt, generator=gen)
    return w2[:, 1:].sum(-1)


def debiased_tw2(
    model: PopulationModel,
    data: GroupedData,
    *,
    n_paths: int,
    dt: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """``sum_{t > t0}`` of the debiased W2² of :func:`cellsde.losses.w2_table`, per group.

    Parameters
    ----------
    data : GroupedData
        G groups padded to K cells; ``theta`` is simulated.
    n_paths : int
        Simulated paths per group, cut into ``R = min(8, max(2, n_paths // K))`` clouds of K
        (at most 8: each cloud adds two exact W2 solves per group and time); each
        simulated cloud keeps the group's observation mask, so it has the data's size at
        every time.

    Returns
    -------
    torch.Tensor, shape (group,)
    """
    k = data.obs.shape[1]
    r = min(8, max(2, n_paths // k))
    paths = simulate_groups(model, data, n_paths=k, dt=dt, generator=generator, copies=r)
    obs, mask = data_clouds(data)  # (group, time, cell, obs), (group, time, cell)
    w2, _ = w2_table(observe(paths, data), obs, sim_mask=mask.repeat(1, 1, r), obs_mask=mask,
                     debiased=True, clouds=r)  # fmt: skip
    return w2[:, 1:].sum(-1)


def search_box(
    lo: torch.Tensor, hi: torch.Tensor, margin: float = 0.25
) -> tuple[torch.Tensor, torch.Tensor]:
    """The box theta is searched in: [lo, hi] widened by ``margin * (hi - lo)`` on each side."""
    width = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
    return lo - margin * width, hi + margin * width


def minimise_tw2(
    model: PopulationModel,
    data: GroupedData,
    *,
    lo: torch.Tensor,
    hi: torch.Tensor,
    starts: torch.Tensor,
    n_paths: int,
    dt: float,
    seed: int,
    iterations: int = 120,
    lr: float = 0.08,
    margin: float = 0.25,
    debiased: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Best theta per group over several starts.

    Parameters
    ----------
    data : GroupedData
        G groups (the leading theta columns are searched; trailing known covariates kept).
    lo, hi : torch.Tensor, shape (param,)
        Training range of theta.
    starts : torch.Tensor, shape (start, param) or (group, start, param)
        Initial values (the same for all groups, or per group).
    n_paths, dt, seed
        Simulation settings; ``seed`` fixes the common random numbers.
    iterations, lr : int, float
        Adam steps and learning rate in the unconstrained (logit) space.
    margin : float
        Search box = training range widened by ``margin * (hi - lo)`` on each side.
    debiased : bool
        Minimise the size-matched debiased tW2 (module docstring) instead of the plain one.

    Returns
    -------
    theta : torch.Tensor, shape (group, param)
    tw2 : torch.Tensor, shape (group,)
        The objective at ``theta`` (same random numbers as the search).
    """
    g = data.obs.shape[0]
    if starts.ndim == 2:
        starts = starts.expand(g, *starts.shape)
    s = starts.shape[1]
    box_lo, box_hi = search_box(lo, hi, margin)
    frac = ((starts - box_lo) / (box_hi - box_lo)).clamp(1e-4, 1 - 1e-4)
    u = torch.logit(frac).reshape(g * s, -1).detach().requires_grad_(True)
    opt = torch.optim.Adam([u], lr=lr)
    big = _expand(data, s)
    best_loss = torch.full((g * s,), float("inf"), device=u.device)
    best_theta = (box_lo + (box_hi - box_lo) * torch.sigmoid(u)).detach().clone()
    # progress on a terminal only (tqdm's disable=None): the search is the long part of infer
    for _ in tqdm(
        range(iterations), desc="infer: W2 search", unit="step", leave=False, disable=None
    ):
        theta = box_lo + (box_hi - box_lo) * torch.sigmoid(u)
        loss = objective(model, big, theta, n_paths=n_paths, dt=dt, seed=seed, debiased=debiased)
        improved = loss.detach() < best_loss
        best_loss = torch.where(improved, loss.detach(), best_loss)
        best_theta = torch.where(improved[:, None], theta.detach(), best_theta)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
    best_loss = best_loss.view(g, s)
    pick = best_loss.argmin(1)  # (group,)
    theta = best_theta.view(g, s, -1)[torch.arange(g), pick]
    return theta, best_loss[torch.arange(g), pick]
