"""Check that an :class:`xarray.Dataset` follows the cellsde data contract.

The contract (see :mod:`cellsde.datasets.schema`): a float variable ``x`` with dims
``(cell, time, species)`` (NaN = not observed), an optional float ``theta`` with dims
``(cell, param)``, a strictly increasing finite float ``time`` coordinate carrying
``attrs["units"]``, unique string ``species``/``param`` names, an optional ``group`` coordinate
on ``cell`` (int or str), and attributes that netCDF can store (nested dicts go, as a JSON
string, into ``attrs["config"]``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.datasets.timegrid import check_times
from cellsde.errors import SchemaError

__all__ = ["check_attrs_storable", "validate_dataset"]


def validate_dataset(ds: xr.Dataset) -> xr.Dataset:
    """Check that ``ds`` follows the cellsde data contract and return it unchanged.

    Parameters
    ----------
    ds : xarray.Dataset
        Candidate dataset: ``x`` (cell, time, species) float, optional ``theta``
        (cell, param) float, coords ``time`` (with ``attrs["units"]``), ``species``,
        optional ``param`` and ``group`` (cell,).

    Returns
    -------
    xarray.Dataset
        The same object, so calls can be chained: ``ds = validate_dataset(ds)``.

    Raises
    ------
    SchemaError
        Naming exactly what is wrong and, where there is one, the fix.
    TypeError
        If ``ds`` is not an :class:`xarray.Dataset`.
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"expected an xarray.Dataset, got {type(ds).__name__}")
    _check_x(ds)
    _check_time(ds)
    _check_names(ds, S.SPECIES)
    if S.THETA in ds.data_vars or S.THETA in ds.coords:
        _check_theta(ds)
    if S.GROUP in ds.coords or S.GROUP in ds.data_vars:
        _check_group(ds)
    if S.CELL in ds.coords:
        cells = ds[S.CELL].values
        if len(np.unique(cells)) != len(cells):
            raise SchemaError("coord 'cell' has duplicate labels; cell labels must be unique")
    _check_attrs(ds)
    return ds


def _dims_text(dims) -> str:
    return "(" + ", ".join(repr(str(d)) for d in dims) + ")"


def _check_x(ds: xr.Dataset) -> None:
    for dim in S.X_DIMS:
        if dim not in ds.dims:
            raise SchemaError(f"dataset has no dim {dim!r}; it has {_dims_text(ds.dims)}")
    if S.X not in ds.data_vars:
        names = _dims_text(ds.data_vars) if ds.data_vars else "no data variables"
        raise SchemaError(f"dataset has no variable {S.X!r} (cell, time, species); it has {names}")
    x = ds[S.X]
    if x.dims != S.X_DIMS:
        fix = ""
        if set(x.dims) == set(S.X_DIMS):
            fix = f"; fix with ds.transpose{S.X_DIMS}"
        raise SchemaError(
            f"variable {S.X!r} has dims {_dims_text(x.dims)}; expected {_dims_text(S.X_DIMS)}{fix}"
        )
    if not np.issubdtype(x.dtype, np.floating):
        raise SchemaError(
            f"variable {S.X!r} has dtype {x.dtype}; it must be float (NaN marks unobserved "
            "values); convert with ds['x'] = ds['x'].astype('float64')"
        )


def _check_time(ds: xr.Dataset) -> None:
    if S.TIME not in ds.coords:
        raise SchemaError(f"dataset has no coord {S.TIME!r}; add one: ds.assign_coords(time=...)")
    t = ds[S.TIME]
    if t.dims != (S.TIME,):
        raise SchemaError(f"coord 'time' has dims {_dims_text(t.dims)}; expected ('time',)")
    if not np.issubdtype(t.dtype, np.floating):
        raise SchemaError(
            f"coord 'time' has dtype {t.dtype}; it must be float (numbers in the units of "
            "attrs['units'])"
        )
    check_times(t.values, name="coord 'time'", error=SchemaError,
                fix="sort with ds.sortby('time') and drop duplicates")  # fmt: skip
    units = t.attrs.get(S.ATTR_UNITS)
    if units is None:
        raise SchemaError(
            f"coord 'time' has no attrs['units']; set one of {S.TIME_UNITS}, e.g. "
            "ds['time'].attrs['units'] = 'h'"
        )
    if units not in S.TIME_UNITS:
        raise SchemaError(f"coord 'time' has units {units!r}; expected one of {S.TIME_UNITS}")
    declared = ds.attrs.get(S.ATTR_TIME_UNITS)
    if declared is not None and declared != units:
        raise SchemaError(
            f"attrs['time_units'] is {declared!r} but coord 'time' has units {units!r}; "
            "make them agree"
        )


def _check_names(ds: xr.Dataset, dim: str) -> None:
    if dim not in ds.coords:
        raise SchemaError(f"dataset has no coord {dim!r} naming its {dim} (str labels)")
    values = ds[dim].values
    if ds[dim].dims != (dim,):
        raise SchemaError(f"coord {dim!r} has dims {_dims_text(ds[dim].dims)}; expected ({dim!r},)")
    if not all(isinstance(v, str) for v in values.tolist()):
        raise SchemaError(f"coord {dim!r} must hold str names; it has dtype {values.dtype}")
    seen: set[str] = set()
    for name in values.tolist():
        if name in seen:
            raise SchemaError(
                f"coord {dim!r} has the duplicate name {name!r}; names must be unique"
            )
        if not name:
            raise SchemaError(f"coord {dim!r} has an empty name")
        seen.add(name)


def _check_theta(ds: xr.Dataset) -> None:
    theta = ds[S.THETA]
    if theta.dims != S.THETA_DIMS:
        raise SchemaError(
            f"variable {S.THETA!r} has dims {_dims_text(theta.dims)}; expected "
            f"{_dims_text(S.THETA_DIMS)}"
        )
    if not np.issubdtype(theta.dtype, np.floating):
        raise SchemaError(f"variable {S.THETA!r} has dtype {theta.dtype}; it must be float")
    _check_names(ds, S.PARAM)


def _check_group(ds: xr.Dataset) -> None:
    group = ds[S.GROUP]
    if group.dims != (S.CELL,):
        raise SchemaError(
            f"coord 'group' has dims {_dims_text(group.dims)}; expected ('cell',) with one "
            f"label per cell ({ds.sizes[S.CELL]} cells)"
        )
    values = group.values
    if np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.str_):
        return
    if values.dtype == object and all(isinstance(v, str) for v in values.tolist()):
        return
    raise SchemaError(
        f"coord 'group' has dtype {values.dtype}; it must be int or str labels "
        "(floats would compare inexactly; use str(dose) or an index)"
    )


def check_attrs_storable(attrs: Mapping, where: str = "attrs") -> None:
    """Raise :class:`SchemaError` unless every value in ``attrs`` can be stored in netCDF.

    Storable: str, int, float (Python or NumPy scalars) and 1-D numeric or str lists/arrays.
    Not storable: dicts (put them in ``attrs['config']`` as ``json.dumps(...)``), None, bools.
    """
    for key, value in attrs.items():
        if not isinstance(key, str):
            raise SchemaError(f"{where} key {key!r} is not a str")
        _check_value(key, value, where)


def _check_value(key: str, value, where: str) -> None:
    bad = None
    if isinstance(value, Mapping):
        bad = "a dict; netCDF cannot store nested dicts. Store it as a JSON string, e.g. attrs['config'] = json.dumps(...)"
    elif value is None:
        bad = "None; netCDF cannot store None. Drop the key or store a str"
    elif isinstance(value, bool | np.bool_):
        bad = "a bool; netCDF cannot store bools. Store int(value) or str(value)"
    elif isinstance(value, str | int | float | np.integer | np.floating):
        return
    elif isinstance(value, list | tuple | np.ndarray):
        arr = np.asarray(value)
        if arr.ndim != 1:
            bad = f"an array with {arr.ndim} dims; netCDF attributes must be 1-D"
        elif arr.dtype.kind in "iuf" or (arr.dtype.kind == "U" and len(arr) > 0):
            return
        else:
            bad = f"a sequence of dtype {arr.dtype}; netCDF attributes hold numbers or str only"
    else:
        bad = f"of type {type(value).__name__}; netCDF stores only str, int, float and 1-D arrays"
    raise SchemaError(f"{where}[{key!r}] is {bad}")


def _check_attrs(ds: xr.Dataset) -> None:
    check_attrs_storable(ds.attrs)
    for name, var in ds.variables.items():
        check_attrs_storable(var.attrs, where=f"{name}.attrs")
    config = ds.attrs.get(S.ATTR_CONFIG)
    if config is not None:
        if not isinstance(config, str):
            raise SchemaError("attrs['config'] must be a JSON string (json.dumps of a dict)")
        try:
            json.loads(config)
        except json.JSONDecodeError as err:
            raise SchemaError(f"attrs['config'] is not valid JSON: {err}") from None
    method = ds.attrs.get(S.ATTR_METHOD)
    if method is not None and method not in S.METHODS:
        raise SchemaError(f"attrs['method'] is {method!r}; expected one of {S.METHODS}")
    version = ds.attrs.get(S.ATTR_SCHEMA_VERSION)
    if version is not None and (
        not isinstance(version, int | np.integer) or not 1 <= int(version) <= S.SCHEMA_VERSION
    ):
        raise SchemaError(
            f"attrs['schema_version'] is {version!r}; this cellsde reads versions 1.."
            f"{S.SCHEMA_VERSION} (upgrade cellsde for newer files)"
        )
