"""One run of a :class:`Population`: its solver through :data:`cellsde.solvers.METHODS`, then
the dataset.

:func:`run` serves :func:`cellsde.simulate`; the chunked and dask runs
(:mod:`cellsde.simulation.chunked`) call :func:`solve` on each chunk's cells and assemble the
whole population with the same :func:`to_dataset`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from cellsde.datasets import from_arrays
from cellsde.datasets import schema as S
from cellsde.simulation.adapters import ADAPTERS
from cellsde.simulation.kinds import time_units, value_units
from cellsde.simulation.request import Population
from cellsde.solvers.methods import METHODS


def solve(population: Population, *, progress: bool = False) -> np.ndarray:
    """Simulate the population's cells.

    Parameters
    ----------
    population : Population
        The checked request.
    progress : bool
        Let the solver show a progress bar.

    Returns
    -------
    ndarray of float64, shape (cell, time, species)
        The reported variables (``population.species``) at ``population.times``.
    """
    method = METHODS[population.method]
    inputs, output = ADAPTERS[population.kind]
    given = {"seed": population.seed, "dt": population.dt, "device": population.device}
    result = method.load()(
        population.model,
        **inputs(population, method, progress),
        **{k: given[k] for k in method.takes},
        progress=progress,
        **population.solver_options,
    )
    return np.asarray(output(population, result), dtype=float)


def to_dataset(
    population: Population,
    x: np.ndarray,
    *,
    attrs: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """The cellsde dataset of a population's trajectories.

    Parameters
    ----------
    population : Population
        The request ``x`` answers.
    x : ndarray, shape (cell, time, species)
        Trajectories of ``population.species`` (any array-like of that shape, e.g. a
        zero-stride NaN view to lay out a store).
    attrs, config : mapping, optional
        Extra ``attrs`` and extra entries of ``attrs["config"]`` (how the run was cut).

    Returns
    -------
    xarray.Dataset
        ``x`` (cell, time, species), ``theta`` (cell, param) when some parameter varies,
        coord ``group`` (cell,); attrs ``model``, ``method``, ``seed``, ``time_units`` and a
        JSON ``config`` of every option.
    """
    full = {**population.config(), **(config or {})}
    heterogeneous = bool(population.param_names)
    ds = from_arrays(
        x, times=population.times, species=list(population.species),
        theta=population.theta if heterogeneous else None,
        params=list(population.param_names) if heterogeneous else None,
        group=population.group, time_units=time_units(population.model, population.kind),
        attrs={
            S.ATTR_MODEL: full["model"], S.ATTR_METHOD: population.method,
            S.ATTR_SEED: population.seed, S.ATTR_CONFIG: json.dumps(full, sort_keys=True),
            **(attrs or {}),
        },
    )  # fmt: skip
    units = value_units(population.model, population.kind, population.species)
    if units is not None:  # units travel from the model to every figure label
        ds[S.X].attrs[S.ATTR_UNITS] = units
    return ds


def run(population: Population, *, progress: bool = False) -> xr.Dataset:
    """Simulate a population and return its dataset (:func:`solve`, then :func:`to_dataset`)."""
    return to_dataset(population, solve(population, progress=progress))
