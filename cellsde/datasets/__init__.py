"""The cellsde data layer: one xarray schema, its validation, files, lab imports, torch bridge.

Public names::

    validate_dataset(ds) -> ds
    save_dataset(ds, path) / open_dataset(path)          netCDF (.nc, .h5) or zarr (.zarr)
    from_arrays(x, *, times, species, ...) -> Dataset
    to_tensors(ds, *, dtype, device) -> Tensors / from_tensors(x, *, times, species, ...)
    import_csv(path, *, cell_col, time_col, ...) -> Dataset   (+ import_report(ds))
    read_guo2024(path, *, source="exp") -> Dataset
    schema                                              dimension / variable / attribute names
"""

from cellsde.datasets import schema
from cellsde.datasets.arrays import from_arrays
from cellsde.datasets.csv_import import ImportReport, import_csv, import_report
from cellsde.datasets.guo2024 import read_guo2024
from cellsde.datasets.io import open_dataset, save_dataset
from cellsde.datasets.tensors import Tensors, from_tensors, to_tensors
from cellsde.datasets.validate import validate_dataset

__all__ = [
    "ImportReport",
    "Tensors",
    "from_arrays",
    "from_tensors",
    "import_csv",
    "import_report",
    "open_dataset",
    "read_guo2024",
    "save_dataset",
    "schema",
    "to_tensors",
    "validate_dataset",
]
