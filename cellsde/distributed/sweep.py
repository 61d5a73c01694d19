"""Run a function over a parameter grid, locally or on dask, into one Dataset."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from cellsde.distributed.chunks import chunk_seeds
from cellsde.distributed.client import run_tasks

POINT = "point"  # dim of a grid given as a list of settings


def _points(grid) -> tuple[list[dict], list[str] | None, dict[str, list]]:
    """(settings per point, product dims or None, values per dim)."""
    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError("grid is empty; give a dict of name -> list of values")
        values = {}
        for k, v in grid.items():
            if isinstance(v, str) or not isinstance(v, Sequence | np.ndarray):
                raise TypeError(f"grid[{k!r}] must be a list of values, got {type(v).__name__}")
            if len(v) == 0:
                raise ValueError(f"grid[{k!r}] has no values")
            if len(set(map(repr, v))) != len(v):
                raise ValueError(f"grid[{k!r}] has duplicate values {list(v)}")
            values[str(k)] = list(v)
        keys = list(values)
        points = [dict(zip(keys, combo)) for combo in itertools.product(*values.values())]
        return points, keys, values
    points = [dict(p) for p in grid]
    if not points or not all(isinstance(p, Mapping) for p in grid):
        raise TypeError("grid must be a dict of lists or a non-empty list of dicts")
    return points, None, {}


def _as_dataset(result: Any, settings: dict) -> xr.Dataset:
    if isinstance(result, xr.Dataset):
        return result
    if isinstance(result, Mapping):
        return xr.Dataset({str(k): ((), np.asarray(v)) for k, v in result.items()})
    raise TypeError(
        f"the swept function returned {type(result).__name__} at {settings}; return a dict of "
        "scalars or an xarray.Dataset"
    )


def sweep(
    fn: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    *,
    client: Any = None,
    seed: int = 0,
    retries: int = 0,
) -> xr.Dataset:
    """Evaluate ``fn(**settings)`` at every point of a grid and gather the results.

    Parameters
    ----------
    fn : callable
        Takes the grid's names as keyword arguments (and ``seed`` if it has such a parameter
        and the grid does not set it) and returns a dict of scalars or an
        :class:`xarray.Dataset`; every point must return the same variables and dims. On dask
        it must be picklable (module-level function, or cloudpickle-able closure).
    grid : dict of str to list, or list of dict
        A dict is expanded to the Cartesian product of its lists (first key slowest); the
        result has one dim per key, with the listed values as coordinates, in the given order.
        A list of dicts gives one dim ``point`` with one coordinate per name.
    client : distributed.Client, optional
        Evaluate the points on this dask cluster (in any order); ``None`` runs them here, in
        order.
    seed : int
        When ``fn`` takes ``seed``, point ``i`` gets ``SeedSequence(seed).spawn(n_points)[i]``
        as an int (same seeds locally and on dask); recorded in ``attrs["seed"]``.
    retries : int
        Times dask re-runs a point that raised.

    Returns
    -------
    xarray.Dataset
        Each result variable with the grid dims in front of its own dims, e.g.
        ``w2 (omega1, omega2)``; attrs ``seed``.
    """
    points, keys, values = _points(grid)
    try:
        takes_seed = "seed" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        takes_seed = False
    injected = takes_seed and all("seed" not in p for p in points)
    if injected:
        for p, s in zip(points, chunk_seeds(seed, len(points))):
            p["seed"] = s
    results: list[xr.Dataset | None] = [None] * len(points)
    for i, result in run_tasks(
        client, fn, points, retries=retries, label="sweep point", unpack=True
    ):
        results[i] = _as_dataset(result, points[i])
    if keys is None:
        names = sorted({k for p in points for k in p if k != "seed" or not injected})
        out = xr.concat(results, dim=POINT, coords="minimal", compat="override")
        coords = {k: (POINT, [p.get(k) for p in points]) for k in names}
        out = out.assign_coords(coords)
    else:
        shape = [len(values[k]) for k in keys]
        expanded = [
            r.expand_dims({k: [p[k]] for k in keys})
            for r, p in zip(results, points)
        ]  # fmt: skip
        nested: list = expanded  # row-major over the product, last key fastest
        for size in reversed(shape[1:]):
            nested = [nested[i : i + size] for i in range(0, len(nested), size)]
        out = xr.combine_nested(nested, concat_dim=keys)
    out.attrs = {**out.attrs, "seed": int(seed)}
    return out
