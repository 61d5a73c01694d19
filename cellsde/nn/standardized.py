"""Fixed input standardisation of population models, set from training data.

END-nSDE and the baselines keep buffers ``x_loc``, ``x_scale``, ``theta_loc``, ``theta_scale``;
:func:`cellsde.fit` calls :func:`standardize` when ``FitConfig.standardize`` is true, so every
model sees inputs in units of the data's spread.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from cellsde.datasets.schema import PARAM, SPECIES, THETA, X
from cellsde.errors import ModelMismatchError
from cellsde.nn.base import PopulationModel


class Standardized(PopulationModel):
    """A population model with buffers ``x_loc``, ``x_scale`` (species,) and ``theta_loc``,
    ``theta_scale`` (param,); defaults 0 and 1 (no standardisation)."""

    def _register_scaling(self, n_species: int, n_params: int) -> None:
        self.register_buffer("x_loc", torch.zeros(n_species))
        self.register_buffer("x_scale", torch.ones(n_species))
        self.register_buffer("theta_loc", torch.zeros(n_params))
        self.register_buffer("theta_scale", torch.ones(n_params))

    def set_standardization(
        self,
        *,
        x_loc: torch.Tensor,
        x_scale: torch.Tensor,
        theta_loc: torch.Tensor,
        theta_scale: torch.Tensor,
    ) -> None:
        """Set the fixed standardisation (scales must be > 0)."""
        for name, v in (("x_scale", x_scale), ("theta_scale", theta_scale)):
            if not bool(torch.all(torch.as_tensor(v) > 0)):
                raise ValueError(f"{name} must be > 0 everywhere")
        with torch.no_grad():
            self.x_loc.copy_(torch.as_tensor(x_loc))
            self.x_scale.copy_(torch.as_tensor(x_scale))
            self.theta_loc.copy_(torch.as_tensor(theta_loc))
            self.theta_scale.copy_(torch.as_tensor(theta_scale))

    def scaled_inputs(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """``[(x - x_loc) / x_scale, (theta - theta_loc) / theta_scale]``, (path, species + param)."""
        z = [(x - self.x_loc) / self.x_scale]
        if theta.shape[-1]:
            z.append((theta - self.theta_loc) / self.theta_scale)
        return torch.cat(z, -1)


def standardize(model: Standardized, train: xr.Dataset) -> None:
    """Set ``model``'s input standardisation from the training data (in place).

    Parameters
    ----------
    model : Standardized
        An END-nSDE or a baseline of :mod:`cellsde.baselines`.
    train : xarray.Dataset
        ``x`` (cell, time, species) with the model's species; ``theta`` (cell, param) when the
        model has parameters. Location = mean, scale = standard deviation over all cells and
        times (NaN ignored; a zero or undefined scale becomes 1).
    """
    if not isinstance(model, Standardized):
        raise TypeError(
            f"standardize expects an END-nSDE or a cellsde baseline, got {type(model).__name__}"
        )
    species, params = list(model.species), list(model.param_names)
    have = [str(s) for s in train[X][SPECIES].values]
    if any(s not in have for s in species):
        raise ModelMismatchError(f"the data have species {have}; the model needs {species}")
    flat = train[X].sel({SPECIES: species}).values.reshape(-1, len(species))  # (cell*time, species)
    scale = np.nanstd(flat, axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    loc = np.nan_to_num(np.nanmean(flat, axis=0))
    th_loc, th_scale = np.zeros(len(params)), np.ones(len(params))
    if params:
        if THETA not in train:
            raise ModelMismatchError(
                f"the model needs parameters {params} but the data have no {THETA!r} variable"
            )
        th = train[THETA].sel({PARAM: params}).values  # (cell, param)
        th_loc, th_scale = th.mean(0), th.std(0)
        th_scale = np.where(th_scale > 0, th_scale, 1.0)
    kw = {"dtype": model.x_loc.dtype, "device": model.x_loc.device}
    model.set_standardization(
        x_loc=torch.tensor(loc, **kw),
        x_scale=torch.tensor(scale, **kw),
        theta_loc=torch.tensor(th_loc, **kw),
        theta_scale=torch.tensor(th_scale, **kw),
    )
