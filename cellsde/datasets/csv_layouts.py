"""Turn a CSV table (str cells) into long rows: one observation of all species per row.

Long layout: one row per cell and frame. Wide layout: one row per cell, one column per time,
melted here into long rows so both layouts share the same grid and duplicate handling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellsde.datasets.csv_table import parse_time_header, require_columns, to_float
from cellsde.errors import ImportFormatError

__all__ = ["LongRows", "long_rows", "wide_rows"]


@dataclass(frozen=True)
class LongRows:
    """Rows after layout handling: one observation of all species per row."""

    cell: np.ndarray  # (row,) str cell ids
    time: np.ndarray  # (row,) float, NaN where the file has no time
    values: np.ndarray  # (row, species) float, NaN = not observed
    rows: np.ndarray  # (row,) data row number in the file (1-based)
    meta: dict  # name -> (row,) str per-cell column values
    species: list


def long_rows(table, path, cell, rows, cell_col, time_col, species, meta_cols):
    """Long layout: each file row is one observation.

    Parameters are the str ``table``, its ``path`` (for messages), the stripped ``cell`` ids
    (row,), the 1-based data ``rows`` (row,), column names, and ``species`` (None = every
    column not named otherwise). Returns ``(LongRows, no_time)``, ``no_time`` (row,) bool.
    """
    require_columns(table, [time_col], path)
    if species is None:
        used = {cell_col, time_col, *meta_cols}
        species = [c for c in table.columns if c not in used]
        if not species:
            raise ImportFormatError(f"{str(path)!r} has no species columns besides cell and time")
    if isinstance(species, str):
        species = [species]
    require_columns(table, species, path)
    time = to_float(table[time_col], time_col, rows)  # (row,)
    values = np.stack([to_float(table[s], s, rows) for s in species], axis=1)  # (row, species)
    meta = {c: table[c].astype(str).str.strip().to_numpy(dtype=str) for c in meta_cols}
    return LongRows(cell, time, values, rows, meta, list(species)), np.isnan(time)


def wide_rows(table, path, cell, rows, cell_col, species, meta_cols, no_cell):
    """Wide layout: each file row is one cell, each time header one observation.

    Rows whose cell id is missing (``no_cell``, (row,) bool) are left out; the rest are
    melted to (cell, time) rows. Returns ``(LongRows, keep)`` with ``keep`` all True.
    """
    time_cols, times = [], []
    for col in table.columns:
        if col == cell_col or col in meta_cols:
            continue
        t = parse_time_header(col)
        if t is None:
            raise ImportFormatError(
                f"column {col!r} of {str(path)!r} is neither a time header nor the cell column; "
                "list it in cell_coords (per-cell values) or remove it"
            )
        time_cols.append(col)
        times.append(t)
    if len(set(times)) != len(times):
        raise ImportFormatError(f"time headers of {str(path)!r} repeat a time: {time_cols}")
    names = ["value"] if species is None else ([species] if isinstance(species, str) else species)
    if len(names) != 1:
        raise ImportFormatError(f"wide layout holds one species; got species={list(names)}")
    values = np.stack([to_float(table[c], c, rows) for c in time_cols], axis=1)  # (row, time)
    keep_rows = np.flatnonzero(~no_cell)
    n_t = len(times)
    long = LongRows(
        cell=np.repeat(cell[keep_rows], n_t),
        time=np.tile(np.asarray(times, dtype=np.float64), len(keep_rows)),
        values=values[keep_rows].reshape(-1, 1),
        rows=np.repeat(rows[keep_rows], n_t),
        meta={
            c: np.repeat(table[c].astype(str).str.strip().to_numpy(dtype=str)[keep_rows], n_t)
            for c in meta_cols
        },
        species=list(names),
    )
    return long, np.ones(len(long.cell), dtype=bool)
