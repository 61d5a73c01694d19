"""The calibrated population as a Dataset: write, read, and draw cells from it.

Layout (``attrs["kind"] == "cellsde-population"``)
---------------------------------------------------
========================  =====================  ==============================================
name                      dims                   meaning
========================  =====================  ==============================================
``median``                (param)                population median, model units
``spread``                (param)                sd of the log value
``correlation``           (param, param2)        correlation of the log values
``lower``, ``upper``      (param)                bounds of medians and cells
``*_interval``            (..., bound)           percentile intervals (``bound``: lower/upper)
``observation``           (term)                 scale, offset, noise sd (measured units)
``observation_fitted``    (term)                 which of them were estimated
``tw2``                   (condition)            tW2 of each calibration condition at the estimate
``cells``                 (condition)            measured cells per condition
========================  =====================  ==============================================

attrs: ``model``, ``observable``, ``measured``, ``time_units``, ``conditions`` (JSON: label ->
stimulus), ``seed``, ``config`` (JSON), ``level``, ``loss``, ``hessian_eigenvalues`` (JSON),
``cellsde_version``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from cellsde._version import __version__
from cellsde.calibration.population import OBSERVATION, Population
from cellsde.calibration.spec import Condition, ObservationModel
from cellsde.errors import CellsdeError

KIND = "cellsde-population"


def natural(
    population: Population, spec: ObservationModel, phi: np.ndarray
) -> dict[str, np.ndarray]:
    """Medians, spreads, correlation and observation parameters of ``phi``."""
    from cellsde.calibration.objective import observation

    t = torch.as_tensor(phi, dtype=torch.float64)
    nat = population.split(t)
    chol = nat["chol"].numpy()
    obs = observation(population, spec, t)
    return {
        "median": np.exp(nat["log_median"].numpy()),
        "spread": nat["spread"].numpy(),
        "correlation": chol @ chol.T,
        "observation": np.array([float(obs[n]) for n in OBSERVATION]),
    }


def population_dataset(
    *,
    model: str,
    population: Population,
    spec: ObservationModel,
    phi: np.ndarray,
    replicates: np.ndarray | None,
    eigenvalues: np.ndarray | None,
    level: float,
    conditions: tuple[Condition, ...],
    tw2: np.ndarray,
    cells: np.ndarray,
    time_units: str,
    attrs: Mapping[str, object],
) -> xr.Dataset:
    """Assemble the population Dataset (module docstring) from the estimate and replicates."""
    est = natural(population, spec, phi)
    names = list(population.names)
    coords = {
        "param": names, "param2": names, "bound": ["lower", "upper"],
        "term": list(OBSERVATION), "condition": [c.label for c in conditions],
    }  # fmt: skip
    data = {
        "median": ("param", est["median"]),
        "spread": ("param", est["spread"]),
        "correlation": (("param", "param2"), est["correlation"]),
        "lower": ("param", population.lower),
        "upper": ("param", population.upper),
        "observation": ("term", est["observation"]),
        "observation_fitted": ("term", [n in spec.fitted for n in OBSERVATION]),
        "tw2": ("condition", np.asarray(tw2, dtype=float)),
        "cells": ("condition", np.asarray(cells, dtype=int)),
    }
    if replicates is not None:
        from cellsde.calibration.uncertainty import intervals

        samples = [natural(population, spec, r) for r in replicates]
        for key, dims in (("median", ("param",)), ("spread", ("param",)),
                          ("correlation", ("param", "param2")), ("observation", ("term",))):  # fmt: skip
            lo, hi = intervals(np.stack([s[key] for s in samples]), level)
            data[f"{key}_interval"] = ((*dims, "bound"), np.stack([lo, hi], axis=-1))
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(
        {
            "kind": KIND, "model": model, "observable": spec.observable,
            "measured": spec.measured or "", "time_units": time_units,
            "conditions": json.dumps({c.label: dict(c.stimulus) for c in conditions}),
            "level": float(level), "cellsde_version": __version__,
            "hessian_eigenvalues": json.dumps([] if eigenvalues is None else eigenvalues.tolist()),
            **attrs,
        }
    )  # fmt: skip
    return ds


def open_population(path: str | os.PathLike[str], *, model: str | None = None) -> xr.Dataset:
    """Read a population file written by :func:`cellsde.calibrate`.

    Raises
    ------
    CellsdeError
        The file is missing, not a population file, or (with ``model``) for another model.
    """
    path = Path(path)
    if not path.is_file():
        raise CellsdeError(f"population file {str(path)!r} does not exist")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds = ds.load()
    if ds.attrs.get("kind") != KIND:
        raise CellsdeError(f"{str(path)!r} is not a cellsde population file (no kind={KIND!r})")
    if model is not None and ds.attrs.get("model") != model:
        raise CellsdeError(
            f"{str(path)!r} is a population of model {ds.attrs.get('model')!r}, not {model!r}"
        )
    return ds
