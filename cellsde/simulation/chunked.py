"""Simulate a population chunk by chunk, in process or on dask workers, in memory or to zarr.

The chunks are cut, seeded and run with :mod:`cellsde.distributed` (``chunk_plan``,
``run_tasks``) and written into its zarr store; each chunk is one plain
:func:`~cellsde.simulation.run.solve`, and the whole is assembled by the same
:func:`~cellsde.simulation.run.to_dataset` as a plain run.

Reproducibility contract
------------------------
* ``theta`` (and ``group``) of the whole population are drawn once, up front, from ``seed``
  by the same :class:`~cellsde.simulation.request.Population` request as a plain run, so a
  chunked run has the same cells as a plain run with the same seed, whatever ``chunk_cells``.
* Chunk ``i`` runs :func:`~cellsde.simulation.run.solve` on its slice of that request
  (:meth:`Population.cells`) with seed ``SeedSequence(seed).spawn(n_chunks)[i]``
  (:mod:`cellsde.distributed.chunks`). Each chunk's result depends only on its cells and its
  seed, so the dataset is identical with or without dask and for any number of workers. A
  different ``chunk_cells`` gives other noise streams: a statistically equivalent population,
  not the same numbers (nor the numbers of a plain unchunked run).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.distributed.chunks import DEFAULT_CHUNK_CELLS, ChunkPlan, chunk_plan
from cellsde.distributed.client import run_tasks
from cellsde.distributed.store import create_store, done_chunks, fingerprint, write_chunk
from cellsde.simulation.request import Population, build_population
from cellsde.simulation.run import solve, to_dataset


@dataclass(frozen=True)
class ChunkTask:
    """One chunk: cells ``start:stop`` of the population, with the chunk's seed (pickled to
    workers)."""

    index: int
    start: int
    stop: int
    population: Population


def run_chunk(task: ChunkTask) -> np.ndarray:
    """Simulate one chunk; returns ``x`` of shape (cell, time, species)."""
    return solve(task.population)


@dataclass(frozen=True)
class _Chunking:
    plan: ChunkPlan
    tasks: tuple[ChunkTask, ...]
    attrs: dict  # added to the dataset's attrs
    config: dict  # added to attrs["config"]


def _chunking(population: Population, chunk_cells: int) -> _Chunking:
    plan = chunk_plan(population.n_cells, chunk_cells, population.seed)
    tasks = tuple(
        ChunkTask(i, *plan.bounds(i), population.cells(*plan.bounds(i), seed=plan.seeds[i]))
        for i in range(plan.n_chunks)
    )
    attrs = {"chunk_cells": plan.chunk_cells, "n_chunks": plan.n_chunks}
    config = {**attrs, "chunk_seeds": "numpy.random.SeedSequence(seed).spawn(n_chunks)"}
    return _Chunking(plan, tasks, attrs, config)


def run_chunked(
    population: Population, *, chunk_cells: int, client: Any = None, retries: int = 2
) -> xr.Dataset:
    """Simulate ``population`` in chunks of ``chunk_cells`` cells, in memory.

    The core of :func:`simulate_chunked` and of ``cellsde.simulate(..., chunk_cells=...)``;
    ``client``, ``retries`` as there.
    """
    cut = _chunking(population, chunk_cells)
    x = np.full((population.n_cells, population.times.size, len(population.species)), np.nan)
    for i, xi in run_tasks(client, run_chunk, cut.tasks, retries=retries, label="chunk"):
        x[cut.tasks[i].start : cut.tasks[i].stop] = xi
    return to_dataset(population, x, attrs=cut.attrs, config=cut.config)


def write_zarr(
    population: Population,
    path: Path,
    *,
    chunk_cells: int,
    client: Any = None,
    resume: bool = False,
    retries: int = 2,
) -> Path:
    """Simulate ``population`` in chunks into the zarr store ``path`` (see :func:`simulate_to_zarr`)."""
    cut = _chunking(population, chunk_cells)
    shape = (population.n_cells, population.times.size, len(population.species))
    nan = np.broadcast_to(np.nan, shape)  # zero-stride: the layout, not the memory
    template = to_dataset(population, nan, attrs=cut.attrs, config=cut.config)  # x: a view
    config = template.attrs[S.ATTR_CONFIG]
    manifest = {
        "fingerprint": fingerprint(config, population.theta, population.group, population.x0),
        "n_cells": cut.plan.n_cells, "chunk_cells": cut.plan.chunk_cells,
        "n_chunks": cut.plan.n_chunks, "seed": cut.plan.seed,
    }  # fmt: skip
    done: set[int] = set()
    if resume and path.exists():
        done = done_chunks(path, manifest)
    else:
        create_store(path, template, manifest, cut.plan.chunk_cells)
    todo = [t for t in cut.tasks if t.index not in done]
    for i, xi in run_tasks(client, run_chunk, todo, retries=retries, label="chunk"):
        write_chunk(path, todo[i].start, xi, todo[i].index)
    return path


def simulate_chunked(
    model: Any,
    *,
    times: Any,
    chunk_cells: int | None = None,
    client: Any = None,
    retries: int = 2,
    **options: Any,
) -> xr.Dataset:
    """Simulate a population in chunks of cells (on dask when ``client`` is given), in memory.

    Parameters
    ----------
    model : str, ReactionNetwork, SDEModel, SDEProtocol or LatticeModel
        As in :func:`cellsde.simulate` (pickled to the workers).
    times : array_like, shape (time,)
        As in :func:`cellsde.simulate`.
    chunk_cells : int, optional
        Cells per chunk (default 1000); the memory of one task is about that of a plain run
        of this many cells.
    client : distributed.Client, optional
        Run the chunks on this dask cluster; ``None`` runs them one after another here.
    retries : int
        Times dask re-runs a chunk that raised; a chunk whose worker died is rescheduled by
        the scheduler (``distributed.scheduler.allowed-failures``, default 3).
    **options
        The other keywords of :func:`cellsde.simulate` that say what to simulate
        (``n_cells``, ``theta``, ``params``, ``method``, ``seed``, ``device``, ``dt``,
        ``heterogeneity``, ``cells_per_group``, ``x0`` -- of shape (cell, species) it is split
        by chunk --, ``observables``, ``solver_options``).

    Returns
    -------
    xarray.Dataset
        The cellsde schema as from :func:`cellsde.simulate`, plus attrs ``chunk_cells`` and
        ``n_chunks``; ``x`` (cell, time, species) identical for any client or worker count.
    """
    population = build_population(model, times=times, **options)
    chunk = DEFAULT_CHUNK_CELLS if chunk_cells is None else chunk_cells
    return run_chunked(population, chunk_cells=chunk, client=client, retries=retries)


def simulate_to_zarr(
    model: Any,
    path: str | os.PathLike,
    *,
    times: Any,
    chunk_cells: int = DEFAULT_CHUNK_CELLS,
    client: Any = None,
    resume: bool = False,
    retries: int = 2,
    **options: Any,
) -> Path:
    """Simulate a population in chunks and write each finished chunk into one zarr store.

    The store is laid out first (full shape, ``x`` NaN, ``theta``/coords/attrs complete);
    each chunk is written as a region along ``cell`` as soon as it finishes and then recorded
    in the store's manifest (:func:`cellsde.distributed.read_manifest`). If the run dies,
    every recorded chunk is complete; ``resume=True`` with the same arguments computes only
    the missing chunks.

    Parameters
    ----------
    model : str, ReactionNetwork, SDEModel, SDEProtocol or LatticeModel
        As in :func:`cellsde.simulate` (pickled to the workers).
    path : str or os.PathLike
        A ``.zarr`` directory; replaced unless ``resume`` (then it must come from the same
        run: same model, options, seed and chunk size, else :class:`CellsdeError`).
    times : array_like, shape (time,)
        As in :func:`cellsde.simulate`.
    chunk_cells : int
        Cells per chunk; the memory of one task is about that of a plain run of this many cells.
    client : distributed.Client, optional
        Run the chunks on this dask cluster; ``None`` runs them one after another here.
    resume : bool
        Keep the finished chunks of an existing store; a missing store is created.
    retries : int
        Times dask re-runs a chunk that raised; a chunk whose worker died is rescheduled by
        the scheduler (``distributed.scheduler.allowed-failures``, default 3).
    **options
        The other keywords of :func:`cellsde.simulate` that say what to simulate, as in
        :func:`simulate_chunked`.

    Returns
    -------
    pathlib.Path
        ``path``; :func:`cellsde.datasets.open_dataset` reads it as a cellsde dataset with
        attrs ``seed``, ``chunk_cells``, ``n_chunks``.
    """
    path = Path(path)
    if path.suffix.lower() != ".zarr":
        raise ValueError(f"chunked runs write a zarr store; use a .zarr path, not {path.name!r}")
    population = build_population(model, times=times, **options)
    return write_zarr(
        population, path, chunk_cells=chunk_cells, client=client, resume=resume, retries=retries
    )
