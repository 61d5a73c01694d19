"""Per-cell extrinsic parameters ``theta`` (cell, param): drawn from the declared heterogeneity
(seeded), or given explicitly.

Rules of :func:`sample_theta`
-----------------------------
* Every parameter with a declared distribution (``model.heterogeneity``, or the mapping given
  as ``heterogeneity=``) becomes a column of ``theta``, in the model's parameter order.
* Non-grid distributions are drawn independently per parameter, in that order, from one
  ``numpy.random.default_rng(seed)``: the same seed gives the same table.
* :class:`~models_bio.heterogeneity.Grid` parameters are combined by Cartesian product (in
  parameter order, last parameter fastest) into groups; cells are split evenly, group ``g``
  holding cells ``g * cells_per_group ... (g + 1) * cells_per_group - 1``. Without grids every
  cell is in group 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.simulation.kinds import model_parameters
from models_bio.heterogeneity import Distribution, Grid


def _draw(dist: Any, rng: np.random.Generator, n: int, nominal: float, name: str) -> np.ndarray:
    if isinstance(dist, Distribution):
        return np.asarray(dist.sample(rng, n, nominal), dtype=float)
    raise TypeError(
        f"heterogeneity of {name!r} must be a models_bio Distribution, got {type(dist).__name__}"
    )


def sample_theta(
    model: Any,
    *,
    n_cells: int | None,
    seed: int,
    heterogeneity: str | Mapping[str, Any] = "default",
    cells_per_group: int | None = None,
) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """Draw per-cell parameters.

    Parameters
    ----------
    model : ReactionNetwork, SDEModel or LatticeModel
        Supplies parameter names, nominal values and the declared heterogeneity.
    n_cells : int or None
        Number of cells; a multiple of the number of grid points. May be None when
        ``cells_per_group`` is given.
    seed : int
        Seed of ``numpy.random.default_rng``.
    heterogeneity : "default", "none" or mapping of str to Distribution
        The model's declaration, no heterogeneity (``theta`` has 0 columns), or a mapping that
        replaces the declaration.
    cells_per_group : int, optional
        Cells per grid point (then ``n_cells``, if given, must equal groups x this).

    Returns
    -------
    theta : ndarray, shape (cell, param)
        Values in each parameter's units.
    param_names : tuple of str
        Column names, in model parameter order.
    group : ndarray of int, shape (cell,)
        Grid group of each cell (0 when there is no grid).
    """
    names, nominal, declared = model_parameters(model)
    if isinstance(heterogeneity, str):
        if heterogeneity not in ("default", "none"):
            raise ValueError(
                f"heterogeneity must be 'default', 'none' or a mapping, got {heterogeneity!r}"
            )
        spec = dict(declared) if heterogeneity == "default" else {}
    else:
        spec = dict(heterogeneity)
    unknown = sorted(set(spec) - set(names))
    if unknown:
        raise KeyError(
            f"heterogeneity names unknown parameter(s) {unknown}; the model's parameters are "
            + ", ".join(names)
        )
    cols = [q for q in names if q in spec]
    grids = [q for q in cols if isinstance(spec[q], Grid)]
    points = list(itertools.product(*(spec[q].values for q in grids)))  # [()] without grids
    n_groups = len(points)
    n_cells = _group_sizes(n_cells, cells_per_group, n_groups)
    per = n_cells // n_groups
    group = np.repeat(np.arange(n_groups), per)  # (cell,)
    rng = np.random.default_rng(seed)
    theta = np.empty((n_cells, len(cols)))  # (cell, param)
    for j, q in enumerate(cols):
        if q in grids:
            values = np.array([pt[grids.index(q)] for pt in points])  # (group,)
            theta[:, j] = values[group]
        else:
            theta[:, j] = _draw(spec[q], rng, n_cells, nominal.get(q, np.nan), q)
    return theta, tuple(cols), group


def _group_sizes(n_cells: int | None, cells_per_group: int | None, n_groups: int) -> int:
    for label, v in (("n_cells", n_cells), ("cells_per_group", cells_per_group)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1):
            raise ValueError(f"{label} must be a positive int, got {v!r}")
    if cells_per_group is not None:
        total = n_groups * int(cells_per_group)
        if n_cells is not None and n_cells != total:
            raise CellsdeError(
                f"n_cells={n_cells} but {n_groups} groups x cells_per_group={cells_per_group} "
                f"= {total}; give one of them"
            )
        return total
    if n_cells is None:
        raise ValueError("give n_cells or cells_per_group")
    if n_cells % n_groups:
        raise CellsdeError(
            f"n_cells={n_cells} is not a multiple of the {n_groups} grid points; use "
            f"n_cells={n_groups * max(1, round(n_cells / n_groups))} or cells_per_group="
        )
    return int(n_cells)


def explicit_theta(
    model: Any, theta: Any, n_cells: int | None, cells_per_group: int | None
) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """Per-cell parameters given by the user, in the form :func:`sample_theta` returns.

    Parameters
    ----------
    model : ReactionNetwork, SDEModel, SDEProtocol or LatticeModel
        Supplies the parameter names and the declared heterogeneity.
    theta : ndarray (cell, param) or mapping of str to values
        An array whose columns are the heterogeneous parameters (or all parameters); or a
        mapping name -> scalar or (cell,) values, or (group,) values with ``cells_per_group``.
    n_cells : int or None
        Number of cells (must agree with ``theta``; spreads scalar values).
    cells_per_group : int, optional
        Cells per group when the mapping gives one value per group.

    Returns
    -------
    theta : ndarray, shape (cell, param)
    param_names : tuple of str
    group : ndarray of int, shape (cell,)
    """
    names, _, declared = model_parameters(model)
    if isinstance(theta, Mapping):
        values, cols, group = _from_mapping(theta, names, n_cells, cells_per_group)
    else:
        values = np.asarray(theta, dtype=float)
        het = tuple(q for q in names if q in declared)
        if values.ndim != 2 or values.shape[1] not in (len(het), len(names)):
            raise ValueError(
                f"theta array has shape {values.shape}; expected (cell, {len(het)}) for the "
                f"heterogeneous parameters {het} or (cell, {len(names)}) for all parameters; or "
                "pass a mapping name -> values"
            )
        cols = het if values.shape[1] == len(het) else names
        group = np.zeros(values.shape[0], dtype=int)
    if n_cells is not None and values.shape[0] != n_cells:
        raise ValueError(f"theta describes {values.shape[0]} cells but n_cells={n_cells}")
    return values, tuple(cols), group


def _from_mapping(theta, names, n_cells, cells_per_group):
    unknown = sorted(set(theta) - set(names))
    if unknown:
        raise KeyError(f"theta names unknown parameter(s) {unknown}; known: " + ", ".join(names))
    cols = [q for q in names if q in theta]
    arrays = [np.atleast_1d(np.asarray(theta[q], dtype=float)) for q in cols]
    lengths = {a.size for a in arrays if a.size > 1}
    if len(lengths) > 1:
        raise ValueError(f"theta values have different lengths {sorted(lengths)}")
    m = lengths.pop() if lengths else 1
    group = np.zeros(m, dtype=int)
    if cells_per_group is not None:  # values per group
        group = np.repeat(np.arange(m), int(cells_per_group))
        arrays = [np.broadcast_to(a, (m,))[group] for a in arrays]
        m = group.size
    elif m == 1 and n_cells is not None:
        m, group = int(n_cells), np.zeros(int(n_cells), dtype=int)
    values = np.stack([np.broadcast_to(a, (m,)) for a in arrays], 1) if cols else np.empty((m, 0))
    return values.astype(float), cols, group
