"""Small END-nSDE training sets shared by the nn/fit tests."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

import models_bio as mb
from cellsde.nn.rollout import rollout

GRID = (-1.0, 0.0, 1.0)


def damped_dataset(
    *, n_per_group: int = 24, seed: int = 1, grid=GRID, k1=0.3, k2=0.1, n_times=6
) -> xr.Dataset:
    """Damped-oscillator populations on a grid of omega, as a cellsde Dataset."""
    model = mb.damped_oscillator(k1=k1, k2=k2)
    om = np.array([(a, b) for a in grid for b in grid])
    g = len(om)
    theta = torch.tensor(np.repeat(om, n_per_group, 0), dtype=torch.float64)
    times = torch.linspace(0, 1, n_times, dtype=torch.float64)
    x0 = torch.tensor([[0.0, 1.0]], dtype=torch.float64).repeat(g * n_per_group, 1)
    with torch.no_grad():
        paths = rollout(
            model, x0, theta, times, dt=1e-2, generator=torch.Generator().manual_seed(seed)
        )
    time = xr.DataArray(times.numpy(), dims="time", attrs={"units": "dimensionless"})
    return xr.Dataset(
        {
            "x": (("cell", "time", "species"), paths.numpy()),
            "theta": (("cell", "param"), theta.numpy()),
        },
        coords={
            "time": time,
            "species": ["x1", "x2"],
            "param": ["omega1", "omega2"],
            "group": ("cell", np.repeat(np.arange(g), n_per_group)),
        },
        attrs={"time_units": "dimensionless"},
    )
