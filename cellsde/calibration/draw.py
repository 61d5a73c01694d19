"""Cells drawn from a calibrated population, and their simulated measurements."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from cellsde.datasets import from_arrays
from cellsde.errors import ModelMismatchError
from cellsde.simulation import simulate
from cellsde.simulation.adapters import observable_weights
from models_bio.network import ReactionNetwork

TERMS = ("scale", "offset", "noise")


def sample_cells(population: xr.Dataset, n_cells: int, *, seed: int) -> dict[str, np.ndarray]:
    """Draw ``n_cells`` cells' free parameters from a population Dataset (seeded).

    Returns
    -------
    dict of str to ndarray, shape (cell,)
        Parameter name -> values (model units), clipped to the bounds like the calibration.
    """
    if isinstance(n_cells, bool) or not isinstance(n_cells, int | np.integer) or n_cells < 1:
        raise ValueError(f"n_cells must be a positive int, got {n_cells!r}")
    names = [str(n) for n in population["param"].values]
    chol = np.linalg.cholesky(population["correlation"].values)
    z = np.random.default_rng(seed).standard_normal((int(n_cells), len(names)))
    log = np.log(population["median"].values) + (z @ chol.T) * population["spread"].values
    theta = np.clip(np.exp(log), population["lower"].values, population["upper"].values)
    return {n: theta[:, j] for j, n in enumerate(names)}


def simulate_population(
    model: ReactionNetwork,
    population: xr.Dataset,
    *,
    times: Sequence[float] | np.ndarray,
    n_cells: int,
    seed: int = 0,
    measurement_noise: bool = True,
    solver_options: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Simulate cells drawn from ``population`` as they would be measured.

    Cells' free parameters are drawn by :func:`sample_cells`; each cell runs the model's
    protocol (for a model with a ``stimulus``: its basal steady state, then the stimulus) with
    the ODE solver (``TRBDF2`` unless ``solver_options`` says otherwise); the observable is
    scaled, offset and given measurement noise as the population file says.

    Parameters
    ----------
    model : ReactionNetwork
        The calibrated model, built for the condition to simulate (e.g.
        ``models_bio.get("guo2024", ligand="TNF", dose=1.0)``).
    population : xarray.Dataset
        From :func:`cellsde.calibrate` or :func:`cellsde.calibration.open_population`.
    times : array_like, shape (time,)
        Output times (model units; 0 is the stimulus).
    n_cells : int
    seed : int
        Seeds the cells and the measurement noise.
    measurement_noise : bool
        Add the population's measurement noise (False: the noiseless observable, scaled).

    Returns
    -------
    xarray.Dataset
        ``x`` (cell, time, [measured name]), ``theta`` (cell, param); attrs record the model,
        seed, observation model and the population's provenance.

    Raises
    ------
    ModelMismatchError
        The population was calibrated for another model.
    """
    if not isinstance(model, ReactionNetwork):
        raise TypeError(f"model must be a ReactionNetwork, got {type(model).__name__}")
    if population.attrs.get("model") != model.name:
        raise ModelMismatchError(
            f"the population was calibrated for model {population.attrs.get('model')!r}, "
            f"not {model.name!r}"
        )
    theta = sample_cells(population, n_cells, seed=seed)
    opts = {"method": "TRBDF2", "rtol": 1e-6, "atol": 1e-10, **(solver_options or {})}
    ds = simulate(model, times=times, theta=theta, method="ode", seed=seed, solver_options=opts)
    y = ds["x"].values @ observable_weights(model, population.attrs["observable"])  # (cell, time)
    scale, offset, noise = (float(population["observation"].sel(term=t)) for t in TERMS)
    y = scale * y + offset
    if measurement_noise and noise > 0:
        y = y + noise * np.random.default_rng([seed, 1]).standard_normal(y.shape)
    names = [str(p) for p in population["param"].values]
    observation = {t: float(population["observation"].sel(term=t)) for t in TERMS}
    return from_arrays(
        y[..., None], times=ds["time"].values, species=[population.attrs["measured"]],
        theta=np.stack([theta[q] for q in names], axis=1), params=names,
        time_units=model.time_units,
        attrs={"model": model.name, "method": "ode", "seed": int(seed),
               "config": json.dumps({"population_model": population.attrs.get("model"),
                                     "population_fingerprint": population.attrs.get("data_fingerprint"),
                                     "observable": population.attrs["observable"],
                                     "observation": observation, "stimulus": dict(model.stimulus),
                                     "measurement_noise": bool(measurement_noise)})},
    )  # fmt: skip
