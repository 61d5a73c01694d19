"""The cellsde data layer: one xarray schema, its validation, files (atomic), lab imports.

Public names::

    validate_dataset(ds) -> ds
    save_dataset(ds, path) / open_dataset(path)          netCDF (.nc, .h5) or zarr (.zarr)
    from_arrays(x, *, times, species, ...) -> Dataset
    import_csv(path, *, cell_col, time_col, ...) -> Dataset   (+ import_report(ds))
    read_guo2024(path, *, source="exp") -> Dataset
    schema                                              dimension / variable / attribute names
"""

from cellsde.datasets import schema
from cellsde.datasets.arrays import from_arrays
from cellsde.datasets.csv_import import ImportReport, import_csv, import_report
from cellsde.datasets.guo2024 import read_guo2024
from cellsde.datasets.io import open_dataset, save_dataset
from cellsde.datasets.validate import validate_dataset

__all__ = [
    "ImportReport",
    "from_arrays",
    "import_csv",
    "import_report",
    "open_dataset",
    "read_guo2024",
    "save_dataset",
    "schema",
    "validate_dataset",
]
