"""Import lab tracks from CSV (long or wide layout) into a cellsde dataset.

Long layout: one row per cell and frame, a cell column, a time column and one column per
species. Wide layout: one row per cell, one column per time (headers such as ``0``,
``5.0``, ``t5``), one species. Tracks may start and end at different frames, have gaps,
repeated rows, unsorted or slightly jittered times: observation times are merged onto a
common grid (rule in :mod:`cellsde.datasets.timegrid`) and NaN marks what a cell did not
observe. Nothing is dropped silently: counts of rows read, merged and discarded are stored
in ``attrs["import_report"]`` (JSON); :func:`import_report` returns them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.datasets.arrays import from_arrays
from cellsde.datasets.csv_layouts import long_rows, wide_rows
from cellsde.datasets.csv_table import (
    MISSING_TOKENS,
    parse_time_header,
    read_text_table,
    require_columns,
)
from cellsde.datasets.report import ImportReport, import_report
from cellsde.datasets.timegrid import cluster_times
from cellsde.datasets.units import canonical_units
from cellsde.errors import ImportFormatError

__all__ = ["ImportReport", "import_csv", "import_report"]

LAYOUTS = ("auto", "long", "wide")
DUPLICATES = ("error", "mean", "first")


def import_csv(
    path: str | Path,
    *,
    cell_col: str,
    time_col: str | None = None,
    species: Sequence[str] | None = None,
    time_units: str,
    value_units: str | None = None,
    layout: str = "auto",
    time_tolerance: float | None = None,
    duplicates: str = "error",
    group_col: str | None = None,
    cell_coords: Sequence[str] = (),
    sep: str = ",",
) -> xr.Dataset:
    """Read single-cell tracks from a CSV file into a dataset with ``method="measured"``.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file (UTF-8 text, header row).
    cell_col : str
        Column holding the cell id (kept as str labels in coord ``cell``).
    time_col : str, optional
        Long layout: column holding the observation time in ``time_units``.
    species : sequence of str, optional
        Long layout: columns to import as species (default: every column that is not the
        cell, time, group or a cell coord). Wide layout: one name for the values
        (default ``"value"``).
    time_units : str
        Units of the times: ``"h"``, ``"min"``, ``"s"``, ``"d"`` or ``"dimensionless"``.
        Required: the file's times are never assumed to be in hours.
    value_units : str, optional
        Units of the measured values, e.g. ``"a.u."``, ``"µM"``, ``"molecules"`` (common
        spellings are made canonical, :func:`cellsde.datasets.units.canonical_units`); stored
        as ``x.attrs["units"]`` and shown on every figure axis. Default: not recorded.
    layout : {"auto", "long", "wide"}
        ``"auto"``: long when ``time_col`` is a column, else wide when headers are times.
    time_tolerance : float, optional
        Observation times closer than this merge into one grid time; default 1/4 of the
        frame interval (long; see the rule there) or 0 (wide). Pass 0 for exact times, e.g.
        for sparse tracks whose frame interval cannot be estimated. See :mod:`cellsde.datasets.timegrid`.
    duplicates : {"error", "mean", "first"}
        What to do when rows for the same cell and grid time disagree on a species (missing
        values never disagree): raise, average, or keep the first in file order.
    group_col : str, optional
        Column with each cell's condition, stored as coord ``group`` (int if all integers).
    cell_coords : sequence of str
        Further per-cell columns stored as coords on ``cell`` (float if numeric, else str).
    sep : str
        Field separator.

    Returns
    -------
    xarray.Dataset
        ``x`` (cell, time, species), float64, NaN where a cell was not observed; attrs
        ``import_report`` (JSON of :class:`ImportReport`) and ``config`` (the arguments).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ImportFormatError
        For an empty, binary or malformed file, a header without rows, a missing column
        (the available ones are listed), a non-numeric value (column and row named),
        conflicting duplicates (cell and time named), or no cells.

    Notes
    -----
    Missing values are empty fields or ``NA``, ``NaN``, ``N/A``, ``null``, ``None`` (any
    case). Rows without a time or a cell id are discarded and counted in the report;
    missing species values are simply not observed (NaN).
    """
    if layout not in LAYOUTS:
        raise ImportFormatError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if duplicates not in DUPLICATES:
        raise ImportFormatError(f"duplicates must be one of {DUPLICATES}, got {duplicates!r}")
    if time_units not in S.TIME_UNITS:
        raise ImportFormatError(f"time_units must be one of {S.TIME_UNITS}, got {time_units!r}")
    if value_units is not None and canonical_units(value_units) is None:
        raise ImportFormatError(
            f"value_units {value_units!r} is not a unit; say what the values are in, e.g. "
            "'a.u.', 'µM', 'nM', 'molecules'"
        )
    table = read_text_table(path, sep=sep)
    meta_cols = ([group_col] if group_col else []) + list(cell_coords)
    require_columns(table, [cell_col, *meta_cols], path)
    if layout == "auto":
        if time_col is not None and time_col in table.columns:
            layout = "long"
        elif sum(parse_time_header(c) is not None for c in table.columns) >= 2:
            layout = "wide"
        else:
            raise ImportFormatError(
                f"cannot tell the layout of {str(path)!r}: no time column "
                f"{time_col!r} and no numeric time headers; its columns are "
                f"{', '.join(repr(c) for c in table.columns)}"
            )
    rows = np.arange(1, len(table) + 1)
    cell = table[cell_col].astype(str).str.strip().to_numpy(dtype=str)
    no_cell = np.isin(np.char.lower(cell), list(MISSING_TOKENS))
    if layout == "long":
        if time_col is None:
            raise ImportFormatError("layout 'long' needs time_col (the column holding times)")
        long, no_time = long_rows(table, path, cell, rows, cell_col, time_col, species, meta_cols)
        keep = ~no_time & ~no_cell
    else:
        long, keep = wide_rows(table, path, cell, rows, cell_col, species, meta_cols, no_cell)
        no_time = np.zeros(len(table), dtype=bool)
    if time_tolerance is None and layout == "wide":
        time_tolerance = 0.0
    ds, counts = _assemble(long, keep, time_tolerance, duplicates, time_units, group_col)
    if layout == "wide":  # count file rows, not melted (cell, time) entries
        kept = table[~no_cell]
        counts["rows_merged"] = len(kept) - counts["n_cells"]
        counts["exact_duplicate_rows"] = int(kept.duplicated().sum())
    report = ImportReport(
        path=str(path),
        layout=layout,
        rows_read=len(table),
        rows_discarded_no_time=int(np.sum(no_time & ~no_cell)),
        rows_discarded_no_cell=int(np.sum(no_cell)),
        time_units=time_units,
        **counts,
    )
    config = {
        "reader": "import_csv",
        "path": str(path),
        "cell_col": cell_col,
        "time_col": time_col,
        "species": list(long.species),
        "layout": layout,
        "time_tolerance": report.time_tolerance,
        "duplicates": duplicates,
        "group_col": group_col,
        "cell_coords": list(cell_coords),
        "value_units": value_units,
    }
    ds.attrs[S.ATTR_CONFIG] = json.dumps(config, sort_keys=True)
    if value_units is not None:
        ds[S.X].attrs[S.ATTR_UNITS] = canonical_units(value_units)
    ds.attrs[S.ATTR_IMPORT_REPORT] = json.dumps(asdict(report), sort_keys=True)
    return ds


def _assemble(long, keep, tolerance, duplicates, time_units, group_col):
    cell, time, values = long.cell[keep], long.time[keep], long.values[keep]
    rows = long.rows[keep]
    if cell.size == 0:
        raise ImportFormatError("no rows with both a cell id and a time; nothing to import")
    codes, labels = pd.factorize(cell, sort=False)  # (row,), (cell,) in order of appearance
    grid = cluster_times(time, codes, tolerance=tolerance)
    n_cell, n_time, n_sp = len(labels), len(grid.times), values.shape[1]
    slot = codes * n_time + grid.index  # (row,)
    frame = pd.DataFrame(values, columns=range(n_sp))
    exact = pd.DataFrame({"c": codes, "t": time}).join(frame).duplicated()
    stats = frame.groupby(slot)
    lo, hi, n_obs = stats.min(), stats.max(), stats.count()
    conflict = (n_obs.to_numpy() >= 2) & (lo.to_numpy() != hi.to_numpy())  # (slot, species)
    if conflict.any() and duplicates == "error":
        k, s = np.argwhere(conflict)[0]
        where = np.flatnonzero((slot == lo.index[k]) & ~np.isnan(values[:, s]))
        raise ImportFormatError(
            f"cell {str(labels[lo.index[k] // n_time])!r} has conflicting values for species "
            f"{long.species[s]!r} at time {grid.times[lo.index[k] % n_time]:g} {time_units} "
            f"(data rows {', '.join(str(r) for r in rows[where])}: "
            f"{', '.join(f'{v:g}' for v in values[where, s])}); remove the duplicate rows or "
            "pass duplicates='mean' or 'first'"
        )
    merged = stats.mean() if duplicates == "mean" else stats.first()
    x = np.full((n_cell * n_time, n_sp), np.nan)  # (cell*time, species)
    x[merged.index.to_numpy()] = merged.to_numpy()
    x = x.reshape(n_cell, n_time, n_sp)  # (cell, time, species)
    coords = {
        name: _per_cell(vals[keep], codes, labels, name, numeric=name != group_col)
        for name, vals in long.meta.items()
    }
    group = coords.pop(group_col, None) if group_col else None
    ds = from_arrays(
        x,
        times=grid.times,
        species=long.species,
        group=group,
        time_units=time_units,
        attrs={S.ATTR_METHOD: "measured", S.ATTR_MODEL: ""},
        cell_coords=coords,
    )
    ds = ds.assign_coords({S.CELL: np.asarray(labels, dtype=str)})
    counts = {
        "rows_merged": int(len(slot) - len(np.unique(slot))),
        "exact_duplicate_rows": int(exact.sum()),
        "conflicts_resolved": int(conflict.sum()),
        "n_cells": n_cell,
        "n_times": n_time,
        "n_species": n_sp,
        "time_tolerance": grid.tolerance,
        "max_time_shift": grid.max_shift,
        "observed_fraction": float(np.mean(~np.isnan(x))) if x.size else 0.0,
        "grid_rule": grid.rule,
    }
    return ds, counts


def _per_cell(values: np.ndarray, codes, labels, name: str, *, numeric: bool) -> np.ndarray:
    """One value per cell from a per-row column; error if a cell has two different values.

    Returns int64 when every value is an integer, float64 when all are numbers and
    ``numeric``, else the str values.
    """
    _, first = np.unique(codes, return_index=True)  # first row of each cell, by code
    per_cell = values[first]  # (cell,)
    clash = np.flatnonzero(values != per_cell[codes])
    if clash.size:
        i = clash[0]
        raise ImportFormatError(
            f"column {name!r} must be constant per cell, but cell {str(labels[codes[i]])!r} has "
            f"{str(per_cell[codes[i]])!r} and {str(values[i])!r}"
        )
    try:
        if all(v.lstrip("+-").isdigit() for v in per_cell):
            return per_cell.astype(np.int64)
        if numeric:
            missing = np.isin(np.char.lower(per_cell), list(MISSING_TOKENS))
            return np.where(missing, "nan", per_cell).astype(np.float64)
    except (ValueError, OverflowError):
        pass
    return per_cell
