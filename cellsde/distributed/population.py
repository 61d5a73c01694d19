"""Simulate a population chunk by chunk, in process or on dask workers, in memory or to zarr.

Reproducibility contract
------------------------
* ``theta`` (and ``group``) of the whole population are drawn once, up front, from ``seed``
  exactly as :func:`cellsde.simulate` draws them, so a chunked run has the same cells as a
  plain run with the same seed, whatever ``chunk_cells``.
* Chunk ``i`` simulates with seed ``SeedSequence(seed).spawn(n_chunks)[i]``
  (:mod:`cellsde.distributed.chunks`). Each chunk's result depends only on its cells and its
  seed, so the dataset is identical with or without dask and for any number of workers. A
  different ``chunk_cells`` gives other noise streams: a statistically equivalent population,
  not the same numbers (nor the numbers of a plain unchunked run).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cellsde.datasets import from_arrays
from cellsde.datasets import schema as S
from cellsde.distributed.chunks import DEFAULT_CHUNK_CELLS, ChunkPlan, chunk_plan
from cellsde.distributed.client import run_tasks
from cellsde.distributed.store import create_store, done_chunks, fingerprint, write_chunk


@dataclass(frozen=True)
class ChunkTask:
    """One chunk: ``simulate(model, **kwargs)`` for cells ``start:stop`` (pickled to workers)."""

    index: int
    start: int
    stop: int
    model: Any
    kwargs: dict


def run_chunk(task: ChunkTask) -> np.ndarray:
    """Simulate one chunk; returns ``x`` of shape (cell, time, species)."""
    from cellsde.simulate import simulate

    return np.asarray(simulate(task.model, **task.kwargs)[S.X].values, dtype=np.float64)


@dataclass(frozen=True)
class _Run:
    plan: ChunkPlan
    tasks: tuple[ChunkTask, ...]
    template: xr.Dataset  # the full dataset except x
    theta: np.ndarray  # (cell, param)
    cols: tuple[str, ...]
    group: np.ndarray  # (cell,)
    times: np.ndarray  # (time,)
    species: tuple[str, ...]
    attrs: dict
    x0: np.ndarray | None


def _prepare(model, *, times, n_cells, theta, params, method, seed, device, dt, heterogeneity,
             cells_per_group, x0, observables, solver_options, chunk_cells) -> _Run:  # fmt: skip
    from cellsde.population import resolve_population
    from cellsde.simulate import simulate

    _, _, times, method, th, cols, group = resolve_population(
        model, times=times, n_cells=n_cells, theta=theta, params=params, method=method,
        seed=seed, heterogeneity=heterogeneity, cells_per_group=cells_per_group,
    )  # fmt: skip
    n = th.shape[0]
    plan = chunk_plan(n, chunk_cells, seed)
    if dt is None and method in ("cle", "sde"):
        dt = float(np.min(np.diff(times))) / 100 if times.size > 1 else 1.0
    x0 = None if x0 is None else np.asarray(x0, dtype=float)
    if x0 is not None and x0.ndim == 2 and x0.shape[0] != n:
        raise ValueError(f"x0 has {x0.shape[0]} rows for {n} cells")

    def kwargs(a: int, b: int, chunk_seed: int, t: np.ndarray) -> dict:
        return {
            "times": t, "n_cells": b - a, "theta": {c: th[a:b, j] for j, c in enumerate(cols)},
            "params": dict(params or {}), "method": method, "seed": chunk_seed,
            "device": device, "dt": dt, "observables": observables,
            "x0": x0[a:b] if x0 is not None and x0.ndim == 2 else x0,
            "solver_options": dict(solver_options or {}), "progress": False,
        }  # fmt: skip

    tasks = tuple(
        ChunkTask(i, *plan.bounds(i), model, kwargs(*plan.bounds(i), plan.seeds[i], times))
        for i in range(plan.n_chunks)
    )
    # a one-cell, one-step probe tells the output species, units and attrs before any chunk runs
    probe = simulate(model, **kwargs(0, 1, plan.seeds[0], times[:2]))
    config = json.loads(probe.attrs[S.ATTR_CONFIG])
    config.update(
        n_cells=n, seed=int(seed), times=times.tolist(), theta_given=theta is not None,
        cells_per_group=cells_per_group, chunk_cells=plan.chunk_cells, n_chunks=plan.n_chunks,
        chunk_seeds="numpy.random.SeedSequence(seed).spawn(n_chunks)",
        heterogeneity=heterogeneity if isinstance(heterogeneity, str)
        else {k: repr(v) for k, v in heterogeneity.items()},
    )  # fmt: skip
    attrs = {
        **probe.attrs, S.ATTR_SEED: int(seed), "chunk_cells": plan.chunk_cells,
        "n_chunks": plan.n_chunks, S.ATTR_CONFIG: json.dumps(config, sort_keys=True),
    }  # fmt: skip
    species = tuple(str(s) for s in probe[S.SPECIES].values)
    time_units = probe[S.TIME].attrs[S.ATTR_UNITS]
    template = from_arrays(
        np.empty((n, times.size, 0)), times=times, species=[],
        theta=th if cols else None, params=list(cols) if cols else None, group=group,
        time_units=time_units, attrs=attrs,
    ).drop_vars(S.X)  # fmt: skip
    template = template.assign_coords({S.SPECIES: np.asarray(species, dtype=str)})
    return _Run(plan, tasks, template, th, tuple(cols), group, times, species, attrs, x0)


def simulate_chunked(
    model: Any,
    *,
    times: Sequence[float] | np.ndarray,
    chunk_cells: int | None = None,
    client: Any = None,
    n_cells: int | None = None,
    theta: np.ndarray | Mapping[str, Any] | None = None,
    params: Mapping[str, float] | None = None,
    method: str | None = None,
    seed: int = 0,
    device: str = "cpu",
    dt: float | None = None,
    heterogeneity: str | Mapping[str, Any] = "default",
    cells_per_group: int | None = None,
    x0: np.ndarray | None = None,
    observables: Sequence[str] | None = None,
    solver_options: Mapping[str, Any] | None = None,
    retries: int = 2,
) -> xr.Dataset:
    """Simulate a population in chunks of cells (on dask when ``client`` is given), in memory.

    Parameters
    ----------
    model : str, ReactionNetwork, SDEModel, SDEProtocol or LatticeModel
        As in :func:`cellsde.simulate` (pickled to the workers; a registered name is cheapest).
    times, n_cells, theta, params, method, seed, device, dt, heterogeneity, cells_per_group,
    x0, observables, solver_options
        As in :func:`cellsde.simulate` (``x0`` of shape (cell, species) is split by chunk).
    chunk_cells : int
        Cells per chunk; the memory of one task is about that of a plain run of this many cells.
    client : distributed.Client, optional
        Run the chunks on this dask cluster; ``None`` runs them one after another here.
    retries : int
        Times dask re-runs a chunk that raised; a chunk whose worker died is rescheduled by
        the scheduler (``distributed.scheduler.allowed-failures``, default 3).

    Returns
    -------
    xarray.Dataset
        The cellsde schema as from :func:`cellsde.simulate`, plus attrs ``chunk_cells`` and
        ``n_chunks``; ``x`` (cell, time, species) identical for any client or worker count.
    """
    chunk = DEFAULT_CHUNK_CELLS if chunk_cells is None else chunk_cells
    run = _prepare(
        model, times=times, n_cells=n_cells, theta=theta, params=params, method=method,
        seed=seed, device=device, dt=dt, heterogeneity=heterogeneity,
        cells_per_group=cells_per_group, x0=x0, observables=observables,
        solver_options=solver_options, chunk_cells=chunk,
    )  # fmt: skip
    x = np.full((run.plan.n_cells, run.times.size, len(run.species)), np.nan)  # (cell, time, sp.)
    for i, xi in run_tasks(client, run_chunk, run.tasks, retries=retries, label="chunk"):
        x[run.tasks[i].start : run.tasks[i].stop] = xi
    return run.template.assign({S.X: (S.X_DIMS, x)})[[S.X, *run.template.data_vars]]


def simulate_to_zarr(
    model: Any,
    path: str | os.PathLike,
    *,
    times: Sequence[float] | np.ndarray,
    chunk_cells: int = DEFAULT_CHUNK_CELLS,
    client: Any = None,
    resume: bool = False,
    n_cells: int | None = None,
    theta: np.ndarray | Mapping[str, Any] | None = None,
    params: Mapping[str, float] | None = None,
    method: str | None = None,
    seed: int = 0,
    device: str = "cpu",
    dt: float | None = None,
    heterogeneity: str | Mapping[str, Any] = "default",
    cells_per_group: int | None = None,
    x0: np.ndarray | None = None,
    observables: Sequence[str] | None = None,
    solver_options: Mapping[str, Any] | None = None,
    retries: int = 2,
) -> Path:
    """Simulate a population in chunks and write each finished chunk into one zarr store.

    The store is laid out first (full shape, ``x`` NaN, ``theta``/coords/attrs complete);
    each chunk is written as a region along ``cell`` as soon as it finishes and then recorded
    in the store's manifest (:func:`read_manifest`). If the run dies, every recorded chunk is
    complete; ``resume=True`` with the same arguments computes only the missing chunks.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.zarr`` directory; replaced unless ``resume`` (then it must come from the same
        run: same model, options, seed and chunk size, else :class:`CellsdeError`).
    resume : bool
        Keep the finished chunks of an existing store; a missing store is created.
    model : str, ReactionNetwork, SDEModel, SDEProtocol or LatticeModel
        As in :func:`cellsde.simulate` (pickled to the workers; a registered name is cheapest).
    times, n_cells, theta, params, method, seed, device, dt, heterogeneity, cells_per_group,
    x0, observables, solver_options
        As in :func:`cellsde.simulate` (``x0`` of shape (cell, species) is split by chunk).
    chunk_cells : int
        Cells per chunk; the memory of one task is about that of a plain run of this many cells.
    client : distributed.Client, optional
        Run the chunks on this dask cluster; ``None`` runs them one after another here.
    retries : int
        Times dask re-runs a chunk that raised; a chunk whose worker died is rescheduled by
        the scheduler (``distributed.scheduler.allowed-failures``, default 3).

    Returns
    -------
    pathlib.Path
        ``path``; :func:`cellsde.datasets.open_dataset` reads it as a cellsde dataset with
        attrs ``seed``, ``chunk_cells``, ``n_chunks``.
    """
    path = Path(path)
    if path.suffix.lower() != ".zarr":
        raise ValueError(f"chunked runs write a zarr store; use a .zarr path, not {path.name!r}")
    run = _prepare(
        model, times=times, n_cells=n_cells, theta=theta, params=params, method=method,
        seed=seed, device=device, dt=dt, heterogeneity=heterogeneity,
        cells_per_group=cells_per_group, x0=x0, observables=observables,
        solver_options=solver_options, chunk_cells=chunk_cells,
    )  # fmt: skip
    manifest = {
        "fingerprint": fingerprint(run.attrs[S.ATTR_CONFIG], run.theta, run.group, run.x0),
        "n_cells": run.plan.n_cells,
        "chunk_cells": run.plan.chunk_cells, "n_chunks": run.plan.n_chunks,
        "seed": run.plan.seed,
    }  # fmt: skip
    done: set[int] = set()
    if resume and path.exists():
        done = done_chunks(path, manifest)
    else:
        create_store(path, run.template, manifest, run.plan.chunk_cells)
    todo = [t for t in run.tasks if t.index not in done]
    for i, xi in run_tasks(client, run_chunk, todo, retries=retries, label="chunk"):
        write_chunk(path, todo[i].start, xi, todo[i].index)
    return path
