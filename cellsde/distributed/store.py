"""A zarr store filled chunk by chunk, with an atomic per-chunk completion manifest.

Layout: the full dataset (``x`` (cell, time, species) NaN until written, zarr chunks of
``chunk_cells`` cells; ``theta``, coords and attrs complete from the start) is created under
a temporary name and renamed into place. Each finished chunk is written as a region along
``cell``; only after its data are on disk is its index added to ``cellsde_chunks.json`` in
the store directory (temporary file + ``os.replace``). A store of a run that died therefore
holds every chunk listed in the manifest in full, and resuming recomputes only the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.datasets.atomic import atomic_path, atomic_write_text
from cellsde.datasets.io import _is_zarr_store
from cellsde.datasets.validate import validate_dataset
from cellsde.errors import CellsdeError

MANIFEST = "cellsde_chunks.json"


def fingerprint(config: str, *arrays: np.ndarray | None) -> str:
    """SHA-256 of a run's JSON config and arrays (theta, group, x0): a resumed store must
    come from the same run."""
    digest = hashlib.sha256(config.encode())
    for a in arrays:
        digest.update(b"none" if a is None else np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def read_manifest(path: str | os.PathLike) -> dict:
    """The completion record of a chunked store.

    Returns
    -------
    dict
        ``n_cells``, ``chunk_cells``, ``n_chunks``, ``seed``, ``fingerprint`` and ``done`` (sorted
        list of finished chunk indices).
    """
    file = Path(path) / MANIFEST
    if not file.is_file():
        raise CellsdeError(f"{str(path)!r} has no {MANIFEST}; it was not written by a chunked run")
    with open(file) as fh:
        return json.load(fh)


def _write_manifest(path: Path, manifest: dict) -> None:
    atomic_write_text(path / MANIFEST, json.dumps(manifest, sort_keys=True))


def create_store(path: Path, template: xr.Dataset, manifest: dict, chunk_cells: int) -> None:
    """Lay out ``template`` (x lazily NaN) at ``path``, replacing what is there, atomically."""
    import dask.array as da

    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"directory {str(parent)!r} does not exist; create it first")
    if path.exists() and not _is_zarr_store(path):
        raise FileExistsError(f"{str(path)!r} exists and is not a zarr store; refusing to replace")
    shape = template.sizes[S.CELL], template.sizes[S.TIME], template.sizes[S.SPECIES]
    chunks = (chunk_cells, shape[1], shape[2])
    x_attrs = dict(template[S.X].attrs) if S.X in template else {}  # e.g. the values' units
    lazy = template.assign({S.X: (S.X_DIMS, da.full(shape, np.nan, chunks=chunks), x_attrs)})
    validate_dataset(lazy)
    with atomic_path(path, directory=True) as tmp:
        lazy.to_zarr(
            tmp, mode="w", zarr_format=2, consolidated=True, compute=False,
            encoding={S.X: {"chunks": chunks, "_FillValue": np.nan}},
        )  # fmt: skip
        _write_manifest(tmp, {**manifest, "done": []})


def write_chunk(path: Path, start: int, x: np.ndarray, index: int) -> None:
    """Write ``x`` (cell, time, species) at cells ``start...``, then mark chunk ``index`` done."""
    region = xr.Dataset({S.X: (S.X_DIMS, np.asarray(x, dtype=np.float64))})
    region.to_zarr(
        path, region={S.CELL: slice(start, start + x.shape[0])}, mode="r+", zarr_format=2,
        consolidated=True,
    )  # fmt: skip
    manifest = read_manifest(path)
    manifest["done"] = sorted({*manifest["done"], int(index)})
    _write_manifest(path, manifest)


def done_chunks(path: Path, manifest: dict) -> set[int]:
    """Finished chunks of an existing store written by the same run (else a clear error)."""
    if not _is_zarr_store(path):
        raise CellsdeError(f"cannot resume: {str(path)!r} is not a zarr store")
    old = read_manifest(path)
    keys = ("fingerprint", "n_cells", "chunk_cells", "n_chunks", "seed")
    diff = [k for k in keys if old.get(k) != manifest[k]]
    if diff:
        raise CellsdeError(
            f"cannot resume {str(path)!r}: it was written by a different run (differs in "
            f"{', '.join(diff)}); use the same model, options, seed and chunk size, or drop "
            "--resume to start over"
        )
    return set(old["done"])
