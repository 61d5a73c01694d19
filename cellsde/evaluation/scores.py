"""``evaluate``: score a fitted population model on held-out groups.

The model simulates ``n_paths`` paths per group from the group's observed initial states and
parameters (one seeded generator; the model is put in eval mode for the call). The table holds
the exact squared W2 between simulated and observed clouds at every observation time, its
time-decoupled sum tW2 per group (t > t0, the END-nSDE loss, reference/end-nsde.md section 2)
and, when the true SDE is known, the relative drift and noise-covariance errors
(:mod:`cellsde.evaluation.coefficients`) over the visited states:

- ``error_states="model"`` (default): every state, at every observation time including t0, of
  the model's own simulated paths — the states the model actually visits. It works when only
  some species are observed (NF-kB), since the model carries all of them.
- ``error_states="data"``: the data's states at every time (cells with a NaN there skipped);
  needs every model species in the data.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import xarray as xr

from cellsde.datasets.schema import GROUP, SPECIES, X
from cellsde.datasets.units import match_units, model_units
from cellsde.evaluation.coefficients import check_same_names, coefficient_error_sums
from cellsde.evaluation.table import checked_groups, grouped_table, sample_groups, w2_array
from cellsde.nn.base import PopulationModel
from cellsde.nn.grouped_paths import data_clouds, observe
from cellsde.nn.training_data import GroupedData
from models_bio.sde import SDEProtocol

ERROR_STATES = ("model", "data")


def evaluate(
    model: PopulationModel,
    data: xr.Dataset,
    *,
    n_paths: int | None = None,
    dt: float = 1e-3,
    seed: int = 0,
    true_model: SDEProtocol | None = None,
    observed: tuple[str, ...] | None = None,
    error_states: str = "model",
    observables: Mapping[str, Mapping[str, float]] | None = None,
    initial_state: np.ndarray | None = None,
) -> xr.Dataset:
    """Score ``model`` on the groups of ``data`` (use held-out groups).

    Parameters
    ----------
    model : PopulationModel
        Fitted END-nSDE, baseline, or :class:`~cellsde.baselines.MechanisticSDE`.
    data : xarray.Dataset
        cellsde schema: ``x`` (cell, time, species) with every model species at the first
        time; ``theta`` (cell, param) constant within each ``group`` when the model has params.
    n_paths : int, optional
        Simulated paths per group; default the largest number of cells in a group.
    dt : float
        Largest Euler step, in the data's time units (ignored by the recurrent baselines).
    seed : int
        Seed of the simulation noise.
    true_model : SDEProtocol, optional
        The true SDE (e.g. ``models_bio.damped_oscillator(...)``), same species and params as
        ``model``; enables ``drift_error`` and ``diffusion_error``. ``model`` must then have
        ``drift``/``diffusion`` (END-nSDE, NeuralODE, MechanisticSDE).
    observed : tuple of str, optional
        Species compared by W2; default all of the model's species.
    error_states : {"model", "data"}
        Where the coefficient errors are evaluated (module docstring).
    observables : mapping of str to mapping of str to float, optional
        Data species formed as weighted sums of model species (e.g. total nuclear NF-kB
        ``{"nfkb_nuclear": {"NFkBn": 1, "IkBaNFkBn": 1}}``); with ``observed`` unset, the data
        species that are model species or observables are compared.
    initial_state : numpy.ndarray, shape (species,) or (n, species), optional
        Initial states of every model species, for data that do not measure them all.

    Returns
    -------
    xarray.Dataset
        ``w2`` (group, time) in squared species units; ``tw2`` (group) = sum over t > t0;
        ``tw2_total`` (sum over groups), ``tw2_mean``; ``drift_error``, ``diffusion_error``
        (group) and ``*_total`` (pooled over groups), dimensionless, NaN without
        ``true_model``. ``attrs`` record seed, n_paths, dt, observed species, model class.
    """
    if error_states not in ERROR_STATES:
        raise ValueError(f"error_states must be one of {ERROR_STATES}, got {error_states!r}")
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    if n_paths is not None and n_paths < 2:
        raise ValueError(f"n_paths must be >= 2, got {n_paths}")
    if true_model is not None:
        if not isinstance(true_model, SDEProtocol):
            raise TypeError(
                f"true_model must be an SDE with drift and diffusion, got {type(true_model).__name__}"
            )
        if not isinstance(model, SDEProtocol):
            raise TypeError(
                f"{type(model).__name__} has no drift/diffusion; coefficient errors need an "
                "SDE-like model (ENDnSDE, NeuralODE); call evaluate without true_model"
            )
        check_same_names(model, true_model)
    data = match_units(data, model_units(model))  # minutes vs hours: converted or refused
    grouped, observed = checked_groups(model, data, observed, observables=observables,
                                       initial_state=initial_state)  # fmt: skip
    n = int(n_paths or grouped.mask.shape[1])
    paths = sample_groups(model, grouped, n_paths=n, dt=dt, seed=seed)
    obs, mask = data_clouds(grouped)
    w2 = w2_array(observe(paths, grouped), obs, obs_mask=mask)
    errors: dict = {}
    if true_model is not None:
        if error_states == "model":
            states, valid = paths, None
        else:
            states, valid = _data_states(model, data, grouped)
        with torch.no_grad():
            drift, diff = coefficient_error_sums(
                model, true_model, states, grouped.theta, grouped.times, valid
            )
        errors = {"drift_error": drift, "diffusion_error": diff}
    settings = {"seed": seed, "n_paths": n, "dt": dt,
                "error_states": error_states if true_model is not None else ""}  # fmt: skip
    return grouped_table(w2, grouped, data, model=model, observed=observed, settings=settings,
                         protocol="autoregressive rollout from x(t0) with the model's own noise",
                         **errors)  # fmt: skip


def _data_states(
    model: PopulationModel, data: xr.Dataset, grouped: GroupedData
) -> tuple[torch.Tensor, torch.Tensor]:
    """The data's states per group, padded: (group, cell, time, species) and validity mask."""
    have = [str(s) for s in data[X][SPECIES].values]
    values = data[X].values[..., [have.index(s) for s in model.species]]  # (cell, time, species)
    labels = np.asarray(data[GROUP].values) if GROUP in data.coords else np.zeros(len(values))
    members = [np.flatnonzero(labels == g) for g in grouped.labels]
    out = np.zeros((len(members), grouped.mask.shape[1], values.shape[1], values.shape[2]))
    ok = np.zeros(out.shape[:-1], dtype=bool)
    for k, idx in enumerate(members):
        out[k, : len(idx)] = values[idx]
        ok[k, : len(idx)] = np.isfinite(values[idx]).all(-1)
    out = np.where(ok[..., None], out, 0.0)
    device = grouped.x0.device
    return torch.as_tensor(out, dtype=grouped.x0.dtype, device=device), torch.as_tensor(
        ok, device=device
    )
