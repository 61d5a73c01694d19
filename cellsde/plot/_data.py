"""Checks and look-ups shared by the plotting functions (no matplotlib here).

Every check raises a :class:`cellsde.errors.CellsdeError` subclass with a one-line message
that names the problem and the fix, so the CLI can print it as is.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.errors import CellsdeError, ModelMismatchError, SchemaError


def check_dataset(ds, name: str) -> xr.DataArray:
    """``ds[x]`` transposed to (cell, time, species) after checking the contract's basics."""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(
            f"{name} must be an xarray.Dataset in the cellsde schema, got {type(ds).__name__}"
        )
    if S.X not in ds:
        have = sorted(map(str, ds.data_vars))
        raise SchemaError(
            f"{name} has no variable {S.X!r} (cell, time, species); it has {have or 'no variables'}"
        )
    x = ds[S.X]
    if set(x.dims) != set(S.X_DIMS):
        raise SchemaError(f"{name}[{S.X!r}] has dims {x.dims}; expected {S.X_DIMS}")
    for dim in (S.TIME, S.SPECIES):
        if dim not in x.coords:
            raise SchemaError(f"{name}[{S.X!r}] has no {dim!r} coordinate; add one")
    if x.sizes[S.CELL] == 0 or x.sizes[S.TIME] == 0:
        raise CellsdeError(
            f"{name} is empty ({x.sizes[S.CELL]} cells, {x.sizes[S.TIME]} times); nothing to plot"
        )
    return x.transpose(*S.X_DIMS)


def species_names(x: xr.DataArray) -> list[str]:
    return [str(s) for s in x[S.SPECIES].values]


def pick_species(x: xr.DataArray, species: str | None, name: str) -> str:
    """Check that ``species`` is in ``x`` (None: the only species) and return it as str."""
    have = species_names(x)
    if species is None:
        if len(have) == 1:
            return have[0]
        raise CellsdeError(f"{name} has several species {have}; choose one with species=...")
    if str(species) not in have:
        raise CellsdeError(f"species {species!r} is not in {name}; it has {have}")
    return str(species)


def time_units(ds: xr.Dataset) -> str | None:
    """Units of the time coordinate (``time.attrs['units']``, else ``attrs['time_units']``)."""
    units = ds[S.TIME].attrs.get(S.ATTR_UNITS, ds.attrs.get(S.ATTR_TIME_UNITS))
    return None if units is None else str(units)


def species_units(ds: xr.Dataset, species: str) -> str | None:
    """Units of one species: ``x.attrs['units']`` (a str, or one entry per species) or ``attrs``."""
    units = ds[S.X].attrs.get(S.ATTR_UNITS, ds.attrs.get(S.ATTR_UNITS))
    if units is None:
        return None
    if isinstance(units, str):
        return units or None
    seq = [str(u) for u in np.atleast_1d(units)]
    names = [str(s) for s in ds[S.SPECIES].values]
    if len(seq) == len(names):
        return seq[names.index(species)] or None
    return None


def check_model(model: xr.Dataset, data: xr.Dataset, species: list[str]) -> xr.DataArray:
    """Check a model dataset against the data: same species present and the same time units."""
    xm = check_dataset(model, "model")
    have = species_names(xm)
    missing = [s for s in species if s not in have]
    if missing:
        raise ModelMismatchError(
            f"model dataset lacks species {missing} of the data; it has {have}; "
            "simulate the model with the data's species"
        )
    tu_d, tu_m = time_units(data), time_units(model)
    if tu_d is not None and tu_m is not None and tu_d != tu_m:
        raise ModelMismatchError(
            f"time units differ: data in {tu_d!r}, model in {tu_m!r}; convert one of them"
        )
    from cellsde.datasets.units import canonical_units

    for s in species:
        ud, um = canonical_units(species_units(data, s)), canonical_units(species_units(model, s))
        if ud is not None and um is not None and ud != um:
            raise ModelMismatchError(
                f"units of species {s!r} differ: data in {ud!r}, model in {um!r}; convert one"
            )
    return xm


def select_group(x: xr.DataArray, group, name: str) -> xr.DataArray:
    """Cells of ``x`` in ``group`` (all cells when ``group`` is None)."""
    if group is None:
        return x
    if S.GROUP not in x.coords:
        raise CellsdeError(f"{name} has no {S.GROUP!r} coordinate; call without group=")
    labels = x[S.GROUP].values
    keep = labels == group
    if not np.any(keep):
        shown = list(dict.fromkeys(labels.tolist()))[:10]
        raise CellsdeError(f"group {group!r} is not in {name}; its groups are {shown}")
    return x.isel({S.CELL: np.flatnonzero(keep)})


def observed(values: np.ndarray, species: str, name: str) -> np.ndarray:
    """``values`` (cell, time) as float, raising when none of them is observed (all NaN)."""
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).any():
        raise CellsdeError(f"{name} has no observed value of species {species!r} (all NaN)")
    return values


def group_title(ds: xr.Dataset, group) -> str | None:
    """What a title says about the cells shown: ``"group 3, TNF 10 ng/mL"``, or the one
    condition all cells of ``ds`` share (``group`` None), or None."""
    from cellsde.datasets.conditions import condition_text

    text = condition_text(ds, group) or _theta_text(ds, group)
    if group is None:
        return text
    return f"group {group}" + (f", {text}" if text else "")


def _theta_text(ds: xr.Dataset, group) -> str | None:
    """``"omega1 -0.5, omega2 0.5"`` when the cells (of ``group``) share one θ (at most 3)."""
    if S.THETA not in ds or S.PARAM not in ds.coords or ds.sizes[S.PARAM] > 3:
        return None
    theta = np.asarray(ds[S.THETA].transpose(*S.THETA_DIMS).values, dtype=float)
    if group is not None and S.GROUP in ds.coords:
        theta = theta[np.asarray(ds[S.GROUP].values) == group]
    if theta.shape[0] == 0 or not np.allclose(theta, theta[0], rtol=1e-9, atol=0.0):
        return None
    names = [str(p) for p in ds[S.PARAM].values]
    return ", ".join(f"{p} {v:.3g}" for p, v in zip(names, theta[0]))
