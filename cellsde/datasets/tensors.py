"""The one bridge between cellsde datasets (xarray) and torch tensors.

Torch has no NaN-aware reductions that training code can rely on, so :func:`to_tensors`
replaces unobserved values by 0 and returns a boolean ``mask`` (True = observed);
:func:`from_tensors` puts NaN back wherever the mask is False.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.datasets.arrays import from_arrays
from cellsde.datasets.validate import validate_dataset
from cellsde.errors import SchemaError

__all__ = ["Tensors", "from_tensors", "to_tensors"]


@dataclass(frozen=True)
class Tensors:
    """Torch view of a dataset.

    Attributes
    ----------
    x : torch.Tensor, shape (cell, time, species)
        Trajectories with unobserved (NaN) entries replaced by 0.
    mask : torch.Tensor of bool, shape (cell, time, species)
        True where ``x`` was observed.
    times : torch.Tensor, shape (time,)
        Observation times in ``time_units``.
    theta : torch.Tensor, shape (cell, param), or None
        Per-cell parameters when the dataset has ``theta``.
    group : torch.Tensor of int64, shape (cell,), or None
        Index of each cell's group in ``group_labels``.
    species, params, group_labels : tuple
        Names of the species, of the parameters (empty without theta) and the sorted
        distinct group labels (empty without group).
    time_units : str
        Units of ``times``.
    """

    x: torch.Tensor
    mask: torch.Tensor
    times: torch.Tensor
    theta: torch.Tensor | None
    group: torch.Tensor | None
    species: tuple[str, ...]
    params: tuple[str, ...]
    group_labels: tuple
    time_units: str


def to_tensors(
    ds: xr.Dataset, *, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
) -> Tensors:
    """Convert a validated dataset into torch tensors on ``device``.

    Parameters
    ----------
    ds : xarray.Dataset
        Dataset following the cellsde contract (validated here).
    dtype : torch.dtype
        Floating dtype of ``x``, ``times`` and ``theta``.
    device : str or torch.device
        Where the tensors live, e.g. ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    Tensors
        ``x`` (cell, time, species) with NaN -> 0, ``mask`` (cell, time, species) bool,
        ``times`` (time,), ``theta`` (cell, param) or None, ``group`` (cell,) codes or None.

    Raises
    ------
    SchemaError
        If ``ds`` breaks the contract.
    TypeError
        If ``dtype`` is not a floating torch dtype.
    """
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch dtype, got {dtype!r}")
    validate_dataset(ds)
    x = np.asarray(ds[S.X].values, dtype=np.float64)  # (cell, time, species)
    mask = ~np.isnan(x)
    x = np.where(mask, x, 0.0)

    def tensor(a: np.ndarray, dt=dtype) -> torch.Tensor:
        return torch.tensor(np.ascontiguousarray(a), dtype=dt, device=device)

    theta = None
    params: tuple[str, ...] = ()
    if S.THETA in ds.data_vars:
        theta = tensor(ds[S.THETA].values)  # (cell, param)
        params = tuple(ds[S.PARAM].values.tolist())
    group = None
    labels: tuple = ()
    if S.GROUP in ds.coords:
        uniques, codes = np.unique(ds[S.GROUP].values, return_inverse=True)
        group = tensor(codes.reshape(-1), torch.int64)  # (cell,)
        labels = tuple(uniques.tolist())
    return Tensors(
        x=tensor(x),
        mask=tensor(mask, torch.bool),
        times=tensor(ds[S.TIME].values),
        theta=theta,
        group=group,
        species=tuple(ds[S.SPECIES].values.tolist()),
        params=params,
        group_labels=labels,
        time_units=str(ds[S.TIME].attrs[S.ATTR_UNITS]),
    )


def from_tensors(
    x: torch.Tensor,
    *,
    times,
    species: Sequence[str],
    mask: torch.Tensor | None = None,
    theta: torch.Tensor | None = None,
    params: Sequence[str] | None = None,
    group=None,
    time_units: str = "h",
    attrs: Mapping | None = None,
) -> xr.Dataset:
    """Build a dataset from tensors, restoring NaN where ``mask`` is False.

    Parameters
    ----------
    x : torch.Tensor, shape (cell, time, species)
        Trajectories (any device; detached and copied to CPU).
    times : torch.Tensor or array_like, shape (time,)
        Observation times in ``time_units``.
    species : sequence of str, length species
        Species names.
    mask : torch.Tensor of bool, shape (cell, time, species), optional
        True where observed; entries where it is False become NaN.
    theta : torch.Tensor, shape (cell, param), optional
        Per-cell parameters; needs ``params``.
    params : sequence of str, optional
        Parameter names.
    group : torch.Tensor of int or array_like of labels, shape (cell,), optional
        Group labels (e.g. ``labels[codes]`` to undo :func:`to_tensors`).
    time_units : str
        Units of ``times``.
    attrs : mapping, optional
        Dataset attributes (see :func:`from_arrays`).

    Returns
    -------
    xarray.Dataset
        Validated float64 dataset.

    Raises
    ------
    SchemaError
        If shapes disagree or the mask is not boolean.
    TypeError
        If ``x`` is not a torch tensor.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}; use from_arrays")
    x_np = x.detach().to("cpu", torch.float64).numpy().copy()  # (cell, time, species)
    if mask is not None:
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
            raise SchemaError("mask must be a bool torch.Tensor (True = observed)")
        if tuple(mask.shape) != tuple(x.shape):
            raise SchemaError(
                f"mask has shape {tuple(mask.shape)}; it must match x {tuple(x.shape)}"
            )
        x_np[~mask.detach().cpu().numpy()] = np.nan
    return from_arrays(
        x_np,
        times=_numpy(times),
        species=species,
        theta=None if theta is None else _numpy(theta),
        params=params,
        group=None if group is None else _numpy(group),
        time_units=time_units,
        attrs=attrs,
    )


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.is_floating_point():
            value = value.to(torch.float64)
        return value.numpy()
    return np.asarray(value)
