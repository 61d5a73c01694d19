"""Bootstrap resampling of the cells of each group (uncertainty of inferred theta)."""

from __future__ import annotations

from dataclasses import replace

import torch

from cellsde.nn.training_data import GroupedData


def resample_cells(data: GroupedData, *, n_boot: int, generator: torch.Generator) -> GroupedData:
    """``n_boot`` resamples (with replacement) of every group's observed cells.

    Returns G * n_boot groups, group-major (g0b0, g0b1, ..., g1b0, ...). Initial states are
    kept (they set where paths start, not what is compared).
    """
    g, n_max = data.mask.shape[:2]
    n_cells = data.mask.any(-1).sum(-1)  # (group,) cells with at least one observation
    u = torch.rand((g, n_boot, n_max), generator=generator, device=generator.device).to(
        data.obs.device
    )
    # Cells with observations are the first n_cells rows of each group (padding comes last).
    idx = (u * n_cells[:, None, None]).floor().long().clamp(max=n_max - 1)  # (group, boot, cell)
    valid = torch.arange(n_max, device=idx.device)[None, None, :] < n_cells[:, None, None]
    gi = torch.arange(g, device=idx.device)[:, None, None]
    obs = data.obs[gi, idx]  # (group, boot, cell, time, obs)
    mask = data.mask[gi, idx] & valid[..., None]  # (group, boot, cell, time)

    def rep(t: torch.Tensor) -> torch.Tensor:
        return t.repeat_interleave(n_boot, 0)

    return replace(
        data,
        obs=obs.reshape(g * n_boot, *obs.shape[2:]),
        mask=mask.reshape(g * n_boot, *mask.shape[2:]),
        x0=rep(data.x0),
        n0=rep(data.n0),
        theta=rep(data.theta),
    )
