"""The END-nSDE training objective: time-decoupled squared W2 between simulated and observed clouds.

``tW2 = sum_g sum_{t > t0} W2²(sim_{g,t}, obs_{g,t})`` (summed or averaged over groups), with
every group simulated at once (:func:`cellsde.nn.grouped_paths.simulate_groups`) and the
per-(group, time) values from the one table :func:`cellsde.losses.w2_table`, which also
defines the debiased value.
"""

from __future__ import annotations

import torch

from cellsde.losses.table import w2_table
from cellsde.nn.base import PopulationModel
from cellsde.nn.grouped_paths import data_clouds, observe, simulate_groups
from cellsde.nn.training_data import GroupedData


def model_w2(
    model: PopulationModel,
    data: GroupedData,
    *,
    n_paths: int,
    dt: float,
    generator: torch.Generator,
    checkpoint: bool = False,
    debiased: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Simulate every group at once and compare with the data at every observation time.

    Parameters
    ----------
    model : PopulationModel
    data : GroupedData
        The groups: initial states, ``theta``, observed clouds and times.
    n_paths : int
        Simulated paths per group (per cloud when debiased).
    dt : float
        Largest Euler step, in the data's time units.
    generator : torch.Generator
        Source of the simulation noise (advanced in place).
    checkpoint : bool
        Recompute rollout segments in the backward pass (less memory).
    debiased : bool
        Simulate two independent clouds of ``n_paths`` per group and return the debiased
        value ``(W2²(a, obs) + W2²(b, obs)) / 2 - W2²(a, b) / 2`` of
        :func:`cellsde.losses.w2_table` (twice the simulation; may be negative).

    Returns
    -------
    w2 : torch.Tensor, shape (group, time)
        Squared W2 (or its debiased value) per group and time, squared observed units (0
        where the group has no observation at that time).
    observed : torch.Tensor of bool, shape (group, time)
        Whether the group had at least one observed cell at that time.
    """
    copies = 2 if debiased else 1
    paths = simulate_groups(model, data, n_paths=n_paths, dt=dt, generator=generator,
                            copies=copies, checkpoint=checkpoint)  # fmt: skip
    obs, mask = data_clouds(data)
    return w2_table(observe(paths, data), obs, obs_mask=mask, debiased=debiased, clouds=copies)


def tw2_loss(
    w2: torch.Tensor, observed: torch.Tensor, *, reduce_groups: str = "sum", skip_first: bool = True
) -> torch.Tensor:
    """Sum of W2² over times (after the first, by default), summed or averaged over groups.

    Parameters
    ----------
    w2, observed : torch.Tensor, shape (group, time)
        From :func:`model_w2` (``w2`` is 0 where not observed).
    reduce_groups : {"sum", "mean"}
    skip_first : bool
        Leave the initial time out (every path starts from data there).

    Returns
    -------
    torch.Tensor, shape ()
    """
    w = w2[:, 1:] if skip_first else w2
    per_group = w.sum(-1)  # (group,)
    return per_group.sum() if reduce_groups == "sum" else per_group.mean()
