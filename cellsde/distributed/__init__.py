"""Scale-out with dask.distributed: chunked population simulation and parameter sweeps.

Public names::

    simulate_chunked(model, *, times, chunk_cells, client=None, ...) -> Dataset   (in memory)
    simulate_to_zarr(model, path, *, times, chunk_cells, client=None, resume=False, ...) -> Path
    read_manifest(path) -> dict                   the per-chunk completion record of a store
    sweep(fn, grid, *, client=None, seed=0) -> Dataset
    connect(spec) -> context manager of a dask Client  ("local:N" or a scheduler address)
    chunk_plan(n_cells, chunk_cells, seed) -> ChunkPlan

``cellsde.simulate(..., client=..., chunk_cells=...)`` delegates here. dask is imported only
inside this package, and only when a store is laid out or a cluster is started.
"""

from cellsde.distributed.chunks import DEFAULT_CHUNK_CELLS, ChunkPlan, chunk_plan
from cellsde.distributed.client import connect
from cellsde.distributed.population import simulate_chunked, simulate_to_zarr
from cellsde.distributed.store import read_manifest
from cellsde.distributed.sweep import sweep

__all__ = [
    "DEFAULT_CHUNK_CELLS",
    "ChunkPlan",
    "chunk_plan",
    "connect",
    "read_manifest",
    "simulate_chunked",
    "simulate_to_zarr",
    "sweep",
]
