"""Save and open cellsde datasets: netCDF (h5netcdf) or zarr, chosen by the file suffix.

Writes are atomic (:func:`cellsde.datasets.atomic.atomic_path`): the data go to a temporary
name in the target's directory, then a rename puts them under the real name, so a crash never
leaves a half-written file or store there. Readers validate and load everything into memory,
then close the file, so the same path can be overwritten afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from cellsde.datasets.atomic import atomic_path
from cellsde.datasets.validate import validate_dataset
from cellsde.errors import SchemaError

__all__ = ["NETCDF_SUFFIXES", "ZARR_SUFFIXES", "open_dataset", "read_table", "save_dataset"]

NETCDF_SUFFIXES = (".nc", ".h5")
ZARR_SUFFIXES = (".zarr",)
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_NETCDF3_MAGIC = b"CDF"


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in NETCDF_SUFFIXES:
        return "netcdf"
    if suffix in ZARR_SUFFIXES:
        return "zarr"
    raise ValueError(
        f"cannot tell the format of {str(path)!r} from its suffix {suffix or '(none)'!r}; "
        f"use one of {NETCDF_SUFFIXES + ZARR_SUFFIXES}"
    )


def save_dataset(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Validate ``ds`` and write it atomically to ``path``.

    Parameters
    ----------
    ds : xarray.Dataset
        A dataset following the cellsde contract (see :func:`validate_dataset`); its
        attributes must be netCDF-storable (nested dicts as a JSON string in ``config``).
    path : str or os.PathLike
        ``*.nc`` / ``*.h5`` for netCDF4 (h5netcdf engine), ``*.zarr`` for a zarr store
        (a directory). An existing file or store at ``path`` is replaced.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    SchemaError
        If ``ds`` breaks the contract or holds attributes netCDF cannot store.
    ValueError
        If the suffix is not one of ``.nc``, ``.h5``, ``.zarr``.
    FileNotFoundError
        If the target directory does not exist.
    """
    path = Path(path)
    fmt = _format(path)
    validate_dataset(ds)
    if fmt == "netcdf":
        _write_netcdf(ds, path)
    else:
        if path.exists() and not _is_zarr_store(path):
            raise FileExistsError(
                f"{str(path)!r} exists and is not a zarr store; refusing to replace it"
            )
        with atomic_path(path, directory=True) as tmp:
            ds.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True)
    return path


def _write_netcdf(ds: xr.Dataset, path: Path) -> None:
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a directory; cannot write a file there")
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")


def write_table(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a result table (fit history, inference or evaluation result) to netCDF atomically.

    Unlike :func:`save_dataset` it does not require the trajectory schema (``x``), only a
    ``.nc``/``.h5`` path in an existing directory.
    """
    path = Path(path)
    if _format(path) != "netcdf":
        raise ValueError(f"result tables are written as netCDF; use a .nc path, not {path.name!r}")
    _write_netcdf(ds, path)
    return path


def read_table(path: str | os.PathLike) -> xr.Dataset:
    """Read any netCDF file or zarr store the toolkit writes (tables included), unvalidated.

    The counterpart of :func:`write_table` (theta, scores, fit history), used by
    ``cellsde info``; trajectories are better read with :func:`open_dataset`, which checks them.

    Raises
    ------
    FileNotFoundError, SchemaError, ValueError
        As :func:`open_dataset`, without the schema check.
    """
    path = Path(path)
    fmt = _format(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if fmt == "zarr":
        if not _is_zarr_store(path):
            raise SchemaError(f"{str(path)!r} is not a zarr store (no zarr metadata found)")
        with xr.open_zarr(path, decode_timedelta=False) as opened:
            return _normalise(opened.load())
    return _normalise(_open_netcdf(path))


def _is_zarr_store(path: Path) -> bool:
    return path.is_dir() and any(
        (path / name).exists() for name in (".zgroup", "zarr.json", ".zmetadata")
    )


def open_dataset(path: str | os.PathLike) -> xr.Dataset:
    """Read a dataset written by :func:`save_dataset` (or any contract-conforming file).

    Parameters
    ----------
    path : str or os.PathLike
        A netCDF file (``.nc``/``.h5``; netCDF4/HDF5 or classic netCDF3) or a ``.zarr`` store.

    Returns
    -------
    xarray.Dataset
        Validated and fully loaded into memory; the file is closed again.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    SchemaError
        If the file is empty, not netCDF/zarr, or does not follow the data contract.
    ValueError
        If the suffix is not one of ``.nc``, ``.h5``, ``.zarr``.
    """
    ds = read_table(path)
    try:
        return validate_dataset(ds)
    except SchemaError as err:
        raise SchemaError(f"{str(path)!r}: {err}") from None


def _open_netcdf(path: Path) -> xr.Dataset:
    if path.is_dir():
        raise SchemaError(f"{str(path)!r} is a directory, not a netCDF file")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise SchemaError(f"{str(path)!r} is empty (0 bytes); it is not a netCDF dataset")
    if head.startswith(_HDF5_MAGIC):
        engine = "h5netcdf"
    elif head.startswith(_NETCDF3_MAGIC):
        engine = "scipy"
    else:
        raise SchemaError(
            f"{str(path)!r} is not a netCDF file (it starts with {head!r}, not an HDF5 or "
            "netCDF signature)"
        )
    try:
        with xr.open_dataset(path, engine=engine, decode_timedelta=False) as opened:
            return opened.load()
    except (OSError, ValueError) as err:
        raise SchemaError(f"cannot read {str(path)!r} as netCDF: {err}") from None


def _normalise(ds: xr.Dataset) -> xr.Dataset:
    """Undo storage artefacts: object str coords -> numpy str, numpy scalar attrs -> Python."""
    for name, coord in ds.coords.items():
        values = coord.values
        if values.dtype == object and all(isinstance(v, str) for v in values.tolist()):
            ds = ds.assign_coords({name: (coord.dims, values.astype(str), coord.attrs)})
    ds.attrs = {key: _plain(value) for key, value in ds.attrs.items()}
    for var in ds.variables.values():
        var.attrs = {key: _plain(value) for key, value in var.attrs.items()}
        var.encoding = {}
    return ds


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value
