"""Simulating a population model on the groups of :class:`~cellsde.nn.training_data.GroupedData`.

:func:`model_groups` turns a Dataset into those tensors for a model. Every group's paths
advance together in one call of the model's :meth:`~cellsde.nn.base.PopulationModel.sample_paths`:
each path starts from one of the group's observed initial states (cycling through them) and
carries the group's ``theta``.
Training, evaluation, inference and the floors all draw their simulated clouds here, and
compare them with :func:`data_clouds` through :func:`cellsde.losses.w2_table`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import xarray as xr

from cellsde.errors import CellsdeError
from cellsde.nn.base import PopulationModel
from cellsde.nn.covariates import attach_covariates
from cellsde.nn.training_data import GroupedData, group_tensors


def model_groups(
    model: PopulationModel,
    ds: xr.Dataset,
    *,
    observed: tuple[str, ...] | None = None,
    observables: Mapping[str, Mapping[str, float]] | None = None,
    initial_state: np.ndarray | None = None,
) -> GroupedData:
    """The groups of ``ds`` as tensors for ``model``: its species, parameters and ``observed``.

    Parameters
    ----------
    model : PopulationModel
    ds : xarray.Dataset
        cellsde schema (see :func:`cellsde.nn.training_data.group_tensors`); with the
        coordinates of the model's covariates, if it has any.
    observed : tuple of str, optional
        Species compared with the data; default all of the model's species.
    observables, initial_state : optional
        Data species formed from model species, and initial states for data that do not
        measure every model species (see :func:`cellsde.nn.training_data.group_tensors`).

    Raises
    ------
    CellsdeError
        ``observed`` names species the model does not have, or the data do not fit the model
        (:class:`~cellsde.errors.ModelMismatchError`, :class:`~cellsde.errors.SchemaError`).
    """
    observed = tuple(observed) if observed else model.species
    unknown = sorted(set(observed) - set(model.species) - set(observables or ()))
    if unknown:
        raise CellsdeError(
            f"observed species {unknown} are not species of the model {model.species}"
        )
    ds = attach_covariates(model.covariates, ds)  # known covariates: trailing theta columns
    return group_tensors(ds, species=model.species, params=model.param_names, observed=observed,
                         observables=observables, initial_state=initial_state)  # fmt: skip


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


def simulate_groups(
    model: PopulationModel,
    data: GroupedData,
    *,
    n_paths: int,
    dt: float,
    generator: torch.Generator,
    copies: int = 1,
    checkpoint: bool = False,
) -> torch.Tensor:
    """``copies`` independent clouds of ``n_paths`` paths per group, in one rollout.

    Every copy starts from the same initial states (:func:`initial_states`), so copies differ
    only by their noise. Gradients flow unless the caller disables them.

    Returns
    -------
    torch.Tensor, shape (group, copies * n_paths, time, species)
        Paths of all model species; the path axis holds the copies back to back.
    """
    g = data.x0.shape[0]
    x0 = initial_states(data, n_paths).reshape(g, n_paths, -1)  # (group, path, species)
    x0 = x0.repeat(1, copies, 1).reshape(g * copies * n_paths, -1)  # (group*copy*path, species)
    theta = data.theta.repeat_interleave(copies * n_paths, 0)  # (group*copy*path, param)
    paths = model.sample_paths(
        x0, theta, data.times, dt=dt, generator=generator, checkpoint=checkpoint
    )  # (group*copy*path, time, species)
    return paths.reshape(g, copies * n_paths, data.times.shape[0], -1)


def observe(paths: torch.Tensor, data: GroupedData) -> torch.Tensor:
    """Observed coordinates of simulated paths, as clouds per (group, time).

    Parameters
    ----------
    paths : torch.Tensor, shape (group, path, time, species)

    Returns
    -------
    torch.Tensor, shape (group, time, path, observed)
        ``paths @ data.readout``, transposed for :func:`cellsde.losses.w2_table`.
    """
    return (paths @ data.readout).transpose(1, 2)


def data_clouds(data: GroupedData) -> tuple[torch.Tensor, torch.Tensor]:
    """The observed clouds and their mask, laid out for :func:`cellsde.losses.w2_table`.

    Returns
    -------
    obs : torch.Tensor, shape (group, time, cell, observed)
    mask : torch.Tensor of bool, shape (group, time, cell)
    """
    return data.obs.transpose(1, 2), data.mask.transpose(1, 2)
