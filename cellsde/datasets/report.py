"""The record of what a lab import did with each row, stored in ``attrs["import_report"]``."""

from __future__ import annotations

import json
from dataclasses import dataclass

import xarray as xr

from cellsde.datasets.schema import ATTR_IMPORT_REPORT
from cellsde.errors import SchemaError

__all__ = ["ATTR_IMPORT_REPORT", "ImportReport", "import_report"]


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_csv` did with each row of the file."""

    path: str
    layout: str
    rows_read: int  # data rows in the file
    rows_discarded_no_time: int  # long layout: rows without a time value
    rows_discarded_no_cell: int  # rows without a cell id
    rows_merged: int  # rows folded into another row of the same cell and grid time
    exact_duplicate_rows: int  # of those, rows identical to an earlier row
    conflicts_resolved: int  # (cell, time, species) entries whose differing values were combined
    n_cells: int
    n_times: int
    n_species: int
    time_units: str
    time_tolerance: float
    max_time_shift: float  # largest |observed time - grid time|
    observed_fraction: float  # share of non-NaN entries in x
    grid_rule: str

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line (the CLI prints these)."""
        return [
            f"read {self.rows_read} rows from {self.path} ({self.layout} layout)",
            f"discarded {self.rows_discarded_no_time} rows without time, "
            f"{self.rows_discarded_no_cell} rows without cell id",
            f"merged {self.rows_merged} rows into others of the same cell and time "
            f"({self.exact_duplicate_rows} exact duplicates, "
            f"{self.conflicts_resolved} conflicting entries combined)",
            f"dataset: {self.n_cells} cells x {self.n_times} times x {self.n_species} species, "
            f"{100 * self.observed_fraction:.1f}% observed",
            f"time grid: {self.grid_rule}; largest shift {self.max_time_shift:g} {self.time_units}",
        ]


def import_report(ds: xr.Dataset) -> ImportReport:
    """Return the :class:`ImportReport` stored by :func:`import_csv` in ``ds.attrs``.

    Raises
    ------
    SchemaError
        If ``ds`` was not made by :func:`import_csv`.
    """
    text = ds.attrs.get(ATTR_IMPORT_REPORT)
    if not isinstance(text, str):
        raise SchemaError("dataset has no attrs['import_report']; it was not made by import_csv")
    return ImportReport(**json.loads(text))
