"""The END-nSDE training objective: time-decoupled squared W2 between simulated and observed clouds."""

from __future__ import annotations

import torch

from cellsde.losses import w2_squared
from cellsde.nn.base import PopulationModel
from cellsde.nn.training_data import GroupedData


def initial_states(data: GroupedData, n_paths: int) -> torch.Tensor:
    """Initial states of ``n_paths`` paths per group, cycling through the group's cells.

    Returns
    -------
    torch.Tensor, shape (group * n_paths, species)
    """
    g = data.x0.shape[0]
    idx = torch.arange(n_paths, device=data.x0.device)[None, :] % data.n0[:, None]  # (group, path)
    x0 = torch.gather(data.x0, 1, idx[..., None].expand(g, n_paths, data.x0.shape[-1]))
    return x0.reshape(g * n_paths, -1)


def per_time_w2(
    model: PopulationModel,
    data: GroupedData,
    *,
    n_paths: int,
    dt: float,
    generator: torch.Generator,
    checkpoint: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Simulate every group at once and compare with the data at every observation time.

    Returns
    -------
    w2 : torch.Tensor, shape (group, time)
        Squared W2 per group and time (0 where the group has no observation at that time).
    observed : torch.Tensor of bool, shape (group, time)
        Whether the group had at least one observed cell at that time.
    """
    g, t = data.obs.shape[0], data.times.shape[0]
    x0 = initial_states(data, n_paths)  # (group*path, species)
    theta = data.theta.repeat_interleave(n_paths, 0)  # (group*path, param)
    paths = model.sample_paths(
        x0, theta, data.times, dt=dt, generator=generator, checkpoint=checkpoint
    )
    sim = (
        (paths @ data.readout).reshape(g, n_paths, t, -1).transpose(1, 2)
    )  # (group, time, path, obs)
    obs = data.obs.transpose(1, 2)  # (group, time, cell, obs)
    mask = data.mask.transpose(1, 2)  # (group, time, cell)
    observed = mask.any(-1)  # (group, time)
    # An empty cloud has no W2; give it one dummy point and weight 0 so one batched call works.
    safe_mask = mask.clone()
    safe_mask[..., 0] |= ~observed
    w2 = w2_squared(sim, obs, b_mask=safe_mask)  # (group, time)
    return torch.where(observed, w2, torch.zeros_like(w2)), observed


def tw2_loss(
    w2: torch.Tensor, observed: torch.Tensor, *, reduce_groups: str = "sum", skip_first: bool = True
) -> torch.Tensor:
    """Sum of W2² over times (after the first, by default), summed or averaged over groups."""
    w = w2[:, 1:] if skip_first else w2
    per_group = w.sum(-1)  # (group,)
    return per_group.sum() if reduce_groups == "sum" else per_group.mean()
