"""Build a contract-conforming :class:`xarray.Dataset` from plain NumPy arrays."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from cellsde._version import __version__
from cellsde.datasets import schema as S
from cellsde.datasets.validate import validate_dataset
from cellsde.errors import SchemaError

__all__ = ["from_arrays"]


def from_arrays(
    x,
    *,
    times,
    species: Sequence[str],
    theta=None,
    params: Sequence[str] | None = None,
    group=None,
    time_units: str = "h",
    attrs: Mapping | None = None,
    cell_coords: Mapping | None = None,
) -> xr.Dataset:
    """Wrap arrays as a cellsde dataset, checking every shape.

    Parameters
    ----------
    x : array_like, shape (cell, time, species)
        Trajectories; NaN marks values that were not observed. Converted to float
        (float32 and float64 are kept, other dtypes become float64).
    times : array_like, shape (time,)
        Strictly increasing observation times in ``time_units``.
    species : sequence of str, length species
        Unique species names.
    theta : array_like, shape (cell, param), optional
        Per-cell extrinsic parameters.
    params : sequence of str, length param
        Parameter names; required when ``theta`` is given.
    group : array_like of int or str, shape (cell,), optional
        Population / condition label of each cell.
    time_units : str
        One of ``"h"``, ``"min"``, ``"s"``, ``"d"``, ``"dimensionless"``.
    attrs : mapping, optional
        Dataset attributes. ``attrs["config"]`` may be a dict; it is stored as JSON.
        ``schema_version``, ``cellsde_version`` and ``time_units`` are filled in.
    cell_coords : mapping of str to array_like (cell,), optional
        Extra per-cell coordinates, e.g. ``{"dose": doses, "ligand": names}``.

    Returns
    -------
    xarray.Dataset
        Validated dataset with ``x`` (cell, time, species) and, if given, ``theta``.

    Raises
    ------
    SchemaError
        If a shape, a name list or an attribute does not fit; the message names the shapes.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        hint = "; for one species use x[..., None]" if x.ndim == 2 else ""
        raise SchemaError(f"x has shape {x.shape}; expected 3 dims (cell, time, species){hint}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    n_cell, n_time, n_species = x.shape
    times = np.asarray(times, dtype=np.float64)
    if times.shape != (n_time,):
        raise SchemaError(
            f"times has shape {times.shape}; x has shape {x.shape}, so times needs ({n_time},)"
        )
    species = _names(species, "species", n_species, x.shape, "x")
    coords: dict = {
        S.TIME: (S.TIME, times, {S.ATTR_UNITS: time_units}),
        S.SPECIES: species,
    }
    data_vars: dict = {S.X: (S.X_DIMS, x)}
    if theta is not None:
        theta = np.asarray(theta)
        if not np.issubdtype(theta.dtype, np.floating):
            theta = theta.astype(np.float64)
        if theta.ndim != 2 or theta.shape[0] != n_cell:
            raise SchemaError(
                f"theta has shape {theta.shape}; x has {n_cell} cells, so theta needs "
                f"({n_cell}, n_param)"
            )
        if params is None:
            raise SchemaError("theta is given but params (its names) is not")
        coords[S.PARAM] = _names(params, "params", theta.shape[1], theta.shape, "theta")
        data_vars[S.THETA] = (S.THETA_DIMS, theta)
    elif params is not None:
        raise SchemaError("params is given but theta is not")
    for name, values in {S.GROUP: group, **dict(cell_coords or {})}.items():
        if values is None:
            continue
        values = np.asarray(values)
        if values.shape != (n_cell,):
            raise SchemaError(
                f"{name} has shape {values.shape}; x has {n_cell} cells, so {name} needs "
                f"({n_cell},)"
            )
        if values.dtype == object:
            values = values.astype(str)
        coords[name] = (S.CELL, values)
    all_attrs = {
        S.ATTR_SCHEMA_VERSION: S.SCHEMA_VERSION,
        S.ATTR_VERSION: __version__,
        **dict(attrs or {}),
        S.ATTR_TIME_UNITS: time_units,
    }
    if isinstance(all_attrs.get(S.ATTR_CONFIG), Mapping):
        all_attrs[S.ATTR_CONFIG] = json.dumps(all_attrs[S.ATTR_CONFIG], sort_keys=True)
    ds = xr.Dataset(data_vars, coords=coords, attrs=all_attrs)
    return validate_dataset(ds)


def _names(names, label: str, n: int, shape: tuple, owner: str) -> np.ndarray:
    if isinstance(names, str):
        raise SchemaError(f"{label} must be a sequence of str, not the single str {names!r}")
    names = list(names)
    if len(names) != n:
        raise SchemaError(
            f"{label} has {len(names)} names; {owner} has shape {shape}, so {label} needs {n}"
        )
    if not all(isinstance(v, str) for v in names):
        raise SchemaError(f"{label} must be str names; got {names!r}")
    return np.asarray(names, dtype=str)
