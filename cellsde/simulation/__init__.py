"""Simulation: from a model definition to a heterogeneous population Dataset.

Public names::

    simulate(model, *, times, n_cells, ..., client=None, chunk_cells=None) -> Dataset   the door
    simulate_chunked(model, *, times, chunk_cells, client=None, ...) -> Dataset  (in memory)
    simulate_to_zarr(model, path, *, times, chunk_cells, client=None, resume=False, ...) -> Path
    sample_theta(model, *, n_cells, seed, heterogeneity, cells_per_group) -> (theta, names, group)
    build_population(model, *, times, ...) -> Population   the checked, frozen request
    run(population, *, progress=False) -> Dataset          one plain run of a request

The data path: :func:`simulate` checks its arguments into one :class:`Population`
(:mod:`~cellsde.simulation.request`: model, kind, method, times, per-cell ``theta`` from
:mod:`~cellsde.simulation.theta`, seed, ...), then :func:`run` picks the solver in
:data:`cellsde.solvers.METHODS`, feeds it through the model kind's adapter
(:mod:`~cellsde.simulation.adapters`) and wraps its output in the cellsde schema. The chunked
and dask paths (:mod:`~cellsde.simulation.chunked`) run the same request chunk by chunk.
"""

from cellsde.simulation.chunked import simulate_chunked, simulate_to_zarr
from cellsde.simulation.request import Population, build_population
from cellsde.simulation.run import run
from cellsde.simulation.simulate import simulate
from cellsde.simulation.theta import sample_theta

__all__ = [
    "Population",
    "build_population",
    "run",
    "sample_theta",
    "simulate",
    "simulate_chunked",
    "simulate_to_zarr",
]
