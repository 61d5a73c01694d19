"""Scale-out with dask.distributed: the client, the chunked zarr store, chunks and sweeps.

Public names::

    connect(spec) -> context manager of a dask Client  ("local:N" or a scheduler address)
    chunk_plan(n_cells, chunk_cells, seed) -> ChunkPlan
    read_manifest(path) -> dict                   the per-chunk completion record of a store
    sweep(fn, grid, *, client=None, seed=0) -> Dataset

The chunked population runs that use them (``cellsde.simulate(..., client=...,
chunk_cells=...)``, ``simulate_chunked``, ``simulate_to_zarr``) live in
:mod:`cellsde.simulation`. dask is imported only inside this package, and only when a store is
laid out or a cluster is started.
"""

from cellsde.distributed.chunks import DEFAULT_CHUNK_CELLS, ChunkPlan, chunk_plan
from cellsde.distributed.client import connect
from cellsde.distributed.store import read_manifest
from cellsde.distributed.sweep import sweep

__all__ = [
    "DEFAULT_CHUNK_CELLS",
    "ChunkPlan",
    "chunk_plan",
    "connect",
    "read_manifest",
    "sweep",
]
